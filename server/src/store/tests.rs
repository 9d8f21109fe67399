//! Store tests, each run on both backends: a temporary SQLite file, and a fresh PostgreSQL
//! database (on `XIETONG_TEST_POSTGRES`, default the local server) dropped afterwards.

use super::*;
use crate::auth::queries::{self as accounts, AccountError};
use crate::command::{Actor, Applied, CommandError, NobodyOnline, Submission};
use crate::events::commit;
use xietong::chat::{AddMembers, CreateChannel, PostMessage, RemoveMember};
use xietong::{ChannelId, ChannelKind, Command, CommandOutput, CurrentUser};

/// What to clean up after a test's fresh database.
enum Fresh {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

fn postgres_admin_url() -> String {
    std::env::var("XIETONG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn fresh(postgres: bool) -> (Store, Fresh) {
    if postgres {
        use sqlx::Connection;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin_url = postgres_admin_url();
        let name = format!(
            "xietong_test_{}_{}_{}",
            std::process::id(),
            now_ms(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed for these tests ({admin_url}): {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("XIETONG_TEST_POSTGRES must end in /<database>"),
        };
        (
            Store::open(&url, None).await.unwrap(),
            Fresh::Postgres { admin_url, name },
        )
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("data/test.db").display());
        let store = Store::open(&url, Some(&dir.path().join("data")))
            .await
            .unwrap();
        (store, Fresh::Sqlite(dir))
    }
}

impl Fresh {
    async fn remove(self, store: Store) {
        store.close().await;
        if let Fresh::Postgres { admin_url, name } = self {
            use sqlx::Connection;
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }
}

/// Runs each named store test on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[tokio::test]
            async fn $name() {
                let (store, fresh) = super::fresh(false).await;
                super::$name(&store).await;
                fresh.remove(store).await;
            })*
        }
        mod postgres_backend {
            $(#[tokio::test]
            async fn $name() {
                let (store, fresh) = super::fresh(true).await;
                super::$name(&store).await;
                fresh.remove(store).await;
            })*
        }
    };
}

on_both_backends!(
    the_first_account_is_admin_and_usernames_are_unique,
    sessions_resolve_until_deleted_or_expired,
    sequence_numbers_are_gapless_per_scope_and_retries_are_applied_once,
    a_failing_command_rolls_back_alone,
    a_batch_writes_its_held_log_rows_before_it_commits,
    a_batch_rereads_members_after_a_command_that_changes_them,
    a_batch_writes_held_rows_before_a_command_that_reads_them,
    private_channels_are_announced_to_members_only,
    direct_messages_are_found_again,
    history_pages_walk_back_in_order,
    concurrent_batches_keep_sequence_numbers_gapless,
    every_way_of_searching_finds_the_same_messages,
    departments_form_a_tree_only_admins_change,
    admins_set_people_and_roles_and_deactivate_accounts,
    concurrent_moves_never_make_a_loop,
    a_hidden_mobile_number_never_leaves_the_database,
    a_name_taken_at_the_same_moment_is_a_conflict,
    a_command_that_deadlocks_is_run_again,
);

fn as_user(user: &CurrentUser, client_id: &str, command: Command) -> Submission {
    Submission {
        actor: Actor::User(user.clone()),
        client_id: Some(ClientMsgId(client_id.into())),
        command,
    }
}

fn post(channel: ChannelId, author: &CurrentUser, body: &str, client_id: &str) -> Submission {
    as_user(
        author,
        client_id,
        Command::PostMessage(PostMessage {
            channel,
            body: body.into(),
            thread: None,
            attachments: Vec::new(),
        }),
    )
}

fn create(name: &str, kind: ChannelKind, members: Vec<UserId>) -> Command {
    Command::CreateChannel(CreateChannel {
        name: name.into(),
        kind,
        members,
    })
}

async fn one(store: &Store, submission: Submission) -> Result<Applied, CommandError> {
    commit(store, &[submission], &NobodyOnline)
        .await
        .unwrap()
        .pop()
        .unwrap()
}

/// Creates a channel through the command path; its id.
async fn create_channel(store: &Store, name: &str, creator: Option<&CurrentUser>) -> ChannelId {
    let submission = Submission {
        actor: creator.map_or(Actor::System, |u| Actor::User(u.clone())),
        client_id: None,
        command: create(name, ChannelKind::Public, vec![]),
    };
    match one(store, submission).await.unwrap().output {
        CommandOutput::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    }
}

/// Creates a private channel of `creator`'s with `members`, through the command path; its id.
async fn create_private(
    store: &Store,
    creator: &CurrentUser,
    client_id: &str,
    name: &str,
    members: Vec<UserId>,
) -> ChannelId {
    let command = create(name, ChannelKind::Private, members);
    match one(store, as_user(creator, client_id, command))
        .await
        .unwrap()
        .output
    {
        CommandOutput::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    }
}

async fn user(store: &Store, name: &str) -> CurrentUser {
    accounts::create_user(store, name, "h", accounts::Admission::Open)
        .await
        .unwrap()
}

async fn the_first_account_is_admin_and_usernames_are_unique(store: &Store) {
    let admin = accounts::create_user(store, "Alice", "h1", accounts::Admission::Open)
        .await
        .unwrap();
    let member = accounts::create_user(store, "bob", "h2", accounts::Admission::Open)
        .await
        .unwrap();
    assert!(admin.is_admin && !member.is_admin);
    assert!(matches!(
        accounts::create_user(store, "alice", "h3", accounts::Admission::Open).await,
        Err(AccountError::UsernameTaken)
    ));
    let (found, hash) = accounts::user_by_name(store, "ALICE")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, hash.as_str()), (admin.id, "h1"));
}

async fn sessions_resolve_until_deleted_or_expired(store: &Store) {
    let user = user(store, "alice").await;
    accounts::create_session(store, "live", user.id, now_ms() + 60_000)
        .await
        .unwrap();
    accounts::create_session(store, "old", user.id, now_ms() - 1)
        .await
        .unwrap();
    let live = accounts::session(store, "live").await.unwrap().unwrap();
    assert_eq!(live.user, user);
    assert!(accounts::session(store, "old").await.unwrap().is_none());
    accounts::delete_session(store, "live").await.unwrap();
    assert!(accounts::session(store, "live").await.unwrap().is_none());
}

async fn sequence_numbers_are_gapless_per_scope_and_retries_are_applied_once(store: &Store) {
    let user = user(store, "alice").await;
    let general = create_channel(store, "general", None).await;
    let other = create_channel(store, "产品", Some(&user)).await;
    let again = Submission {
        actor: Actor::System,
        client_id: None,
        command: create("GENERAL", ChannelKind::Public, vec![]),
    };
    assert!(matches!(
        one(store, again).await,
        Err(CommandError::Conflict(_))
    ));
    assert_eq!(store.head(Scope::Workspace).await.unwrap(), Seq(2));

    let batch = vec![
        post(general, &user, "a", "client-0001"),
        post(other, &user, "b", "client-0002"),
        post(general, &user, "c", "client-0003"),
        post(general, &user, "a again", "client-0001"),
        post(ChannelId(999), &user, "nowhere", "client-0004"),
    ];
    let outcomes = commit(store, &batch, &NobodyOnline).await.unwrap();
    let seqs: Vec<Option<(Scope, u64, bool)>> = outcomes
        .iter()
        .map(|o| {
            o.as_ref().ok().map(|a| match &a.output {
                CommandOutput::MessagePosted { scope, seq, .. } => (*scope, seq.0, a.duplicate),
                other => panic!("{other:?}"),
            })
        })
        .collect();
    assert_eq!(
        seqs,
        vec![
            Some((Scope::Channel(general), 1, false)),
            Some((Scope::Channel(other), 1, false)),
            Some((Scope::Channel(general), 2, false)),
            Some((Scope::Channel(general), 1, true)),
            None,
        ]
    );
    assert!(matches!(outcomes[4], Err(CommandError::NotFound(_))));
    // The duplicate appended nothing; the envelope names the actor and the client id.
    assert!(outcomes[3].as_ref().unwrap().events.is_empty());
    let events = store
        .events_after(Scope::Channel(general), Seq::ZERO, 100)
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(events[0].actor, Some(user.id));
    assert_eq!(events[0].client_id, Some(ClientMsgId("client-0001".into())));
    assert!(events[0].at > 0);
    assert_eq!(store.head(Scope::Channel(general)).await.unwrap(), Seq(2));
}

/// A command that fails after writing rows (here: its event collides with one planted in the
/// log, which the batch's held write meets; the batch is redone fenced, where the command
/// itself meets it) leaves nothing behind, and its neighbours in the batch commit.
async fn a_failing_command_rolls_back_alone(store: &Store) {
    let user = user(store, "alice").await;
    let general = create_channel(store, "general", None).await;
    one(store, post(general, &user, "first", "client-0001"))
        .await
        .unwrap();
    // Plant event 2 without moving the head: the next post takes seq 2, writes its message row,
    // then fails on the event.
    sqlx::query("INSERT INTO events (scope, seq, body, created_at) VALUES ($1, 2, '{}', 0)")
        .bind(Scope::Channel(general).to_string())
        .execute(store.pool())
        .await
        .unwrap();
    let other = create_channel(store, "other", None).await;
    let outcomes = commit(
        store,
        &[
            post(other, &user, "before", "client-0002"),
            post(general, &user, "doomed", "client-0003"),
            post(other, &user, "after", "client-0004"),
        ],
        &NobodyOnline,
    )
    .await
    .unwrap();
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Err(CommandError::Store(_))),
        "{outcomes:?}"
    );
    let doomed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE body = 'doomed'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        doomed, 0,
        "the failed command's message row was rolled back"
    );
    assert_eq!(store.head(Scope::Channel(general)).await.unwrap(), Seq(1));
    let recorded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM commands WHERE client_id = 'client-0003'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        recorded, 0,
        "a failed command is not remembered: a retry runs again"
    );
    assert_eq!(store.head(Scope::Channel(other)).await.unwrap(), Seq(2));
}

/// A batch applied without fences holds its event log rows and writes them at its end: what
/// its commands read back meanwhile (a scope's head) counts them, and the log then holds
/// exactly the events the commands returned, under heads that match.
async fn a_batch_writes_its_held_log_rows_before_it_commits(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let team = create_private(store, &alice, "c-0", "team", vec![bob.id, carol.id]).await;
    let scopes = [
        Scope::Channel(team),
        Scope::User(alice.id),
        Scope::User(bob.id),
        Scope::User(carol.id),
    ];
    let mut before = std::collections::HashMap::new();
    for scope in scopes {
        before.insert(scope, store.head(scope).await.unwrap());
    }
    let read = Command::MarkRead(xietong::chat::MarkRead {
        channel: team,
        seq: Seq(u64::MAX),
    });
    let batch = vec![
        post(team, &alice, "one", "c-1"),
        post(team, &alice, "two", "c-2"),
        as_user(&bob, "c-3", read),
        post(team, &carol, "three", "c-4"),
    ];
    let (outcomes, phases) = crate::events::commit_reporting(store, &batch, &NobodyOnline).await;
    let outcomes = outcomes.unwrap();
    assert!(
        !phases.redone(),
        "the held writes committed on the first attempt, not through the fenced redo"
    );
    let mut returned: std::collections::HashMap<Scope, Vec<String>> = Default::default();
    for outcome in &outcomes {
        for event in &outcome.as_ref().expect("every command applies").events {
            returned.entry(event.scope).or_default().push(format!(
                "{} {}",
                event.seq.0,
                serde_json::to_string(&event.body).unwrap()
            ));
        }
    }
    for scope in scopes {
        let stored: Vec<String> = store
            .events_after(scope, before[&scope], 1000)
            .await
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e.seq.0, serde_json::to_string(&e.body).unwrap()))
            .collect();
        let expected = returned.remove(&scope).unwrap_or_default();
        assert_eq!(
            stored, expected,
            "the log of {scope} holds what the batch returned"
        );
        assert_eq!(
            store.head(scope).await.unwrap(),
            Seq(before[&scope].0 + expected.len() as u64),
            "the head of {scope} counts every event of the batch"
        );
    }
    assert!(
        returned.is_empty(),
        "events in unexpected scopes: {returned:?}"
    );
    // Bob's read, between the posts, saw both earlier ones (held, not yet written): only
    // carol's, after it, is unread for him.
    let unread: Vec<i64> = sqlx::query_scalar(
        "SELECT seq FROM unread_messages WHERE user_id = $1 AND channel_id = $2 ORDER BY seq",
    )
    .bind(bob.id.0)
    .bind(team.0)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let three = match &outcomes[3].as_ref().unwrap().output {
        CommandOutput::MessagePosted { seq, .. } => seq.0 as i64,
        other => panic!("{other:?}"),
    };
    assert_eq!(unread, vec![three]);
    // The held command records were written: a retry in a later batch is answered from them.
    let retry = vec![
        post(team, &alice, "one", "c-1"),
        post(team, &carol, "four", "c-5"),
    ];
    let again = commit(store, &retry, &NobodyOnline).await.unwrap();
    assert!(again[0].as_ref().unwrap().duplicate, "{again:?}");
    assert!(!again[1].as_ref().unwrap().duplicate, "{again:?}");
}

/// A batch reads a channel and its members once for a run of messages posted to it
/// (`command::BatchFacts`), and reads them again after any other kind of command: a member
/// added or removed between two messages of one batch is told of the next ones or not.
async fn a_batch_rereads_members_after_a_command_that_changes_them(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let team = create_private(store, &alice, "m-0", "team", vec![bob.id]).await;
    let mut before = std::collections::HashMap::new();
    for who in [&alice, &bob, &carol] {
        before.insert(who.id, store.head(Scope::User(who.id)).await.unwrap());
    }
    let add_carol = Command::AddMembers(AddMembers {
        channel: team,
        users: vec![carol.id],
    });
    let remove_bob = Command::RemoveMember(RemoveMember {
        channel: team,
        user: bob.id,
    });
    let batch = vec![
        post(team, &alice, "one", "m-1"),
        post(team, &alice, "two", "m-2"),
        as_user(&alice, "m-3", add_carol),
        post(team, &alice, "three", "m-4"),
        post(team, &alice, "four", "m-5"),
        as_user(&alice, "m-6", remove_bob),
        post(team, &alice, "five", "m-7"),
        post(team, &alice, "six", "m-8"),
    ];
    let outcomes = commit(store, &batch, &NobodyOnline).await.unwrap();
    let mut body_of = std::collections::HashMap::new();
    for (submission, outcome) in batch.iter().zip(&outcomes) {
        let output = &outcome.as_ref().expect("every command applies").output;
        if let (Command::PostMessage(p), CommandOutput::MessagePosted { message, .. }) =
            (&submission.command, output)
        {
            body_of.insert(*message, p.body.clone());
        }
    }
    // The messages each one was told are unread for them, in their own scope.
    let told = |who: UserId| {
        let (body_of, from) = (&body_of, before[&who]);
        async move {
            let events = store
                .events_after(Scope::User(who), from, 100)
                .await
                .unwrap();
            events
                .into_iter()
                .filter_map(|e| match e.body {
                    EventBody::Chat(xietong::chat::ChatEvent::MessageUnread {
                        message, ..
                    }) => Some(body_of[&message].clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(told(bob.id).await, ["one", "two", "three", "four"]);
    assert_eq!(told(carol.id).await, ["three", "four", "five", "six"]);
    assert!(told(alice.id).await.is_empty(), "never one's own");
}

/// A batch of posts holds their rows — the messages, their unread marks, search terms and
/// notifications — for a few multi-row writes (`Ctx::add_rows`, `Ctx::add_row_with_id`), and
/// writes them before anything reads them: a reply to a message of the same batch finds it
/// without the batch being redone, and a read marked between two posts counts what is still
/// unread from the rows.
async fn a_batch_writes_held_rows_before_a_command_that_reads_them(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let team = create_private(store, &alice, "m-0", "team", vec![bob.id]).await;
    let first = Seq(store.head(Scope::Channel(team)).await.unwrap().0 + 1);
    let last_id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM messages")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // The ids this batch's first messages get: the next ones, on a database nobody else uses.
    let beta = xietong::MessageId(last_id.unwrap_or(0) + 2);
    let reply_to_beta = as_user(
        &bob,
        "b-1",
        Command::PostMessage(PostMessage {
            channel: team,
            body: "delta".into(),
            thread: Some(beta),
            attachments: Vec::new(),
        }),
    );
    let alice_reads_alpha = Command::MarkRead(xietong::chat::MarkRead {
        channel: team,
        seq: first,
    });
    let batch = vec![
        post(team, &alice, "alpha @bob", "m-1"),
        post(team, &alice, "beta", "m-2"),
        reply_to_beta,
        as_user(&alice, "r-1", alice_reads_alpha),
        post(team, &alice, "gamma", "m-3"),
    ];
    let (outcomes, phases) = crate::events::commit_reporting(store, &batch, &NobodyOnline).await;
    let outcomes = outcomes.unwrap();
    for outcome in &outcomes {
        outcome.as_ref().expect("every command applies");
    }
    assert!(!phases.redone(), "applied at the first try, rows held");
    let posted: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o.as_ref().unwrap().output {
            CommandOutput::MessagePosted { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(posted[1], beta, "{posted:?}");
    let counted: Vec<(u32, u32)> = outcomes[3]
        .as_ref()
        .unwrap()
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Chat(xietong::chat::ChatEvent::ChannelRead {
                unread, mentions, ..
            }) => Some((*unread, *mentions)),
            _ => None,
        })
        .collect();
    assert_eq!(counted, [(1, 0)], "bob's reply is still unread for alice");
    // What was held after the read is written too.
    let mut conn = store.connection().await.unwrap();
    async fn unread_in(conn: &mut Conn, who: &CurrentUser, channel: ChannelId) -> (u32, u32) {
        let counts = crate::chat::unread::snapshot(conn, who, &[channel])
            .await
            .unwrap();
        assert_eq!(counts.len(), 1, "{counts:?}");
        (counts[0].unread, counts[0].mentions)
    }
    assert_eq!(
        unread_in(&mut conn, &bob, team).await,
        (3, 1),
        "alpha, beta, gamma"
    );
    assert_eq!(
        unread_in(&mut conn, &alice, team).await,
        (1, 0),
        "bob's reply"
    );
    let replies: i64 = sqlx::query_scalar("SELECT reply_count FROM messages WHERE id = $1")
        .bind(beta.0)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(replies, 1);
    let notified: Vec<(i64, String)> =
        sqlx::query_as("SELECT user_id, kind FROM notifications ORDER BY user_id")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        notified,
        [
            (alice.id.0, "reply".to_owned()),
            (bob.id.0, "mention".to_owned())
        ]
    );
    drop(conn);
    for word in ["alpha", "beta", "gamma", "delta"] {
        let hits = crate::search::search_with(store, &bob, word, 1_000)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{word}: {hits:?}");
    }
    // A message with a file writes what is held at once (the file's row refers to it); the
    // next message's row, held after that, is still written before its notification.
    let at = now_ms();
    sqlx::query(
        "INSERT INTO blobs (hash, size, mime, touched_at) VALUES ('h1', 3, 'text/plain', $1)",
    )
    .bind(at)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO uploads (id, user_id, name, size, received, hash, mime, created_at, updated_at)
         VALUES ('up-1', $1, 'notes.txt', 3, 3, 'h1', 'text/plain', $2, $2)",
    )
    .bind(alice.id.0)
    .bind(at)
    .execute(store.pool())
    .await
    .unwrap();
    let with_file = as_user(
        &alice,
        "m-4",
        Command::PostMessage(PostMessage {
            channel: team,
            body: "@bob the notes".into(),
            thread: None,
            attachments: vec!["up-1".into()],
        }),
    );
    let batch = vec![with_file, post(team, &alice, "@bob and epsilon", "m-5")];
    let (outcomes, phases) = crate::events::commit_reporting(store, &batch, &NobodyOnline).await;
    for outcome in outcomes.unwrap() {
        outcome.expect("every command applies");
    }
    assert!(!phases.redone(), "applied at the first try, rows held");
    let files: i64 = sqlx::query_scalar("SELECT count(*) FROM files WHERE message_id IS NOT NULL")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(files, 1);
}

async fn private_channels_are_announced_to_members_only(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    create_channel(store, "general", None).await;
    let workspace_before = store.head(Scope::Workspace).await.unwrap();
    let created = one(
        store,
        as_user(
            &alice,
            "client-0001",
            create("secret", ChannelKind::Private, vec![bob.id]),
        ),
    )
    .await
    .unwrap();
    let CommandOutput::ChannelCreated { channel } = created.output else {
        panic!()
    };
    assert_eq!(
        store.head(Scope::Workspace).await.unwrap(),
        workspace_before
    );
    for member in [&alice, &bob] {
        let events = store
            .events_after(Scope::User(member.id), Seq::ZERO, 10)
            .await
            .unwrap();
        assert!(
            matches!(
                &events[..],
                [e] if matches!(&e.body, EventBody::Chat(xietong::chat::ChatEvent::ChannelAdded { channel: c }) if c.id == channel.id)
            ),
            "{events:?}"
        );
    }
    assert_eq!(store.head(Scope::User(carol.id)).await.unwrap(), Seq::ZERO);
    let scope = Scope::Channel(channel.id);
    let mut conn = store.pool().acquire().await.unwrap();
    for (who, may) in [(&alice, true), (&bob, true), (&carol, false)] {
        let read = crate::access::check(&mut conn, who, scope, crate::access::Need::Read).await;
        assert_eq!(read.is_ok(), may, "{} reading", who.username);
    }
    let visible = crate::chat::queries::visible_channels(&mut conn, &carol)
        .await
        .unwrap();
    assert!(visible.iter().all(|c| c.id != channel.id));
    drop(conn);
    // Carol cannot post there, nor add herself.
    assert!(matches!(
        one(store, post(channel.id, &carol, "hi", "client-0002")).await,
        Err(CommandError::Forbidden(_))
    ));
    let add_self = Command::AddMembers(AddMembers {
        channel: channel.id,
        users: vec![carol.id],
    });
    assert!(matches!(
        one(store, as_user(&carol, "client-0003", add_self.clone())).await,
        Err(CommandError::Forbidden(_))
    ));
    // Bob adds her; Alice (the creator) removes Bob; Bob may no longer read.
    one(store, as_user(&bob, "client-0004", add_self))
        .await
        .unwrap();
    let remove = Command::RemoveMember(RemoveMember {
        channel: channel.id,
        user: bob.id,
    });
    one(store, as_user(&alice, "client-0005", remove))
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    assert!(
        crate::access::check(&mut conn, &bob, scope, crate::access::Need::Read)
            .await
            .is_err()
    );
    assert!(
        crate::access::check(&mut conn, &carol, scope, crate::access::Need::Read)
            .await
            .is_ok()
    );
    let log = store.events_after(scope, Seq::ZERO, 10).await.unwrap();
    assert_eq!(log.last().unwrap().body.revoked_readers(), vec![bob.id]);
}

async fn direct_messages_are_found_again(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let start = |client: &str, who: &CurrentUser, with: UserId| {
        as_user(who, client, create("", ChannelKind::Direct, vec![with]))
    };
    let first = one(store, start("client-0001", &alice, bob.id))
        .await
        .unwrap();
    let again = one(store, start("client-0002", &bob, alice.id))
        .await
        .unwrap();
    let (
        CommandOutput::ChannelCreated { channel: a },
        CommandOutput::ChannelCreated { channel: b },
    ) = (first.output, again.output)
    else {
        panic!()
    };
    assert_eq!(a.id, b.id);
    assert_eq!(a.name, "alice, bob");
    assert!(again.events.is_empty());
}

async fn history_pages_walk_back_in_order(store: &Store) {
    let user = user(store, "alice").await;
    let outsider = CurrentUser {
        id: UserId(999),
        username: "ghost".into(),
        is_admin: false,
    };
    create_channel(store, "general", None).await;
    let batch: Vec<Submission> = (0..120)
        .map(|i| {
            post(
                ChannelId(1),
                &user,
                &format!("m{i}"),
                &format!("client-{i:04}"),
            )
        })
        .collect();
    commit(store, &batch, &NobodyOnline).await.unwrap();
    let history =
        |channel, before| crate::chat::queries::history(store, &user, channel, before, 50);
    let first = history(None, None).await.unwrap();
    assert_eq!(first.channel.name, "general");
    assert_eq!(first.head, Seq(120));
    assert!(first.has_more);
    assert_eq!(first.messages.len(), 50);
    assert_eq!(first.messages.first().unwrap().seq, Seq(71));
    assert_eq!(first.messages.last().unwrap().body, "m119");
    let second = history(Some(ChannelId(1)), Some(Seq(71))).await.unwrap();
    assert_eq!(
        (
            second.messages.first().unwrap().seq,
            second.messages.last().unwrap().seq
        ),
        (Seq(21), Seq(70))
    );
    let third = history(Some(ChannelId(1)), Some(Seq(21))).await.unwrap();
    assert_eq!(third.messages.len(), 20);
    assert!(!third.has_more);
    assert!(matches!(
        history(Some(ChannelId(42)), None).await,
        Err(crate::access::Denied::NotFound(_))
    ));
    // A public channel is readable by any account.
    assert!(
        crate::chat::queries::history(store, &outsider, None, None, 50)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_unreachable_postgres_is_a_clear_error() {
    let err = Store::open("postgres://postgres:hunter2@127.0.0.1:1/nope", None)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("cannot open the database postgres://postgres:***@127.0.0.1:1/nope"),
        "{err}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = Store::open("mysql://localhost/x", None)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
}

/// Two writers committing to one scope at once (two nodes, in production) still produce
/// 1, 2, 3, … with no gap and no repeat.
async fn concurrent_batches_keep_sequence_numbers_gapless(store: &Store) {
    let user = user(store, "alice").await;
    create_channel(store, "general", None).await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let user = user.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for b in 0..10 {
                    let batch: Vec<Submission> = (0..5)
                        .map(|i| post(ChannelId(1), &user, "x", &format!("client-{w}-{b}-{i}")))
                        .collect();
                    for outcome in commit(&store, &batch, &NobodyOnline).await.unwrap() {
                        match outcome.unwrap().output {
                            CommandOutput::MessagePosted { seq, .. } => seqs.push(seq.0),
                            other => panic!("{other:?}"),
                        }
                    }
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
}

#[tokio::test]
async fn opening_a_bad_path_is_a_clear_error() {
    let err = Store::open(
        "sqlite:///proc/nope/x.db",
        Some(std::path::Path::new("/proc/nope")),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("/proc/nope"), "{err}");
}

/// Search drives from a rare term, walks the newest messages, or intersects entry lists,
/// depending on how common its terms are; each way, and the index the background pass builds
/// for older messages, finds the same messages.
async fn every_way_of_searching_finds_the_same_messages(store: &Store) {
    let alice = user(store, "alice").await;
    let channel = create_channel(store, "general", None).await;
    let bodies = [
        "我家在上海东边 meeting",
        "明天下午开会议",
        "project 上海 team update",
        "the team meets in 上海",
        "budget review for the project team",
        "上海和海东 budget",
        "会议 release notes",
        "Meeting moved, team",
    ];
    let posts: Vec<Submission> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| post(channel, &alice, body, &format!("search-{i:04}")))
        .collect();
    for applied in commit(store, &posts, &NobodyOnline).await.unwrap() {
        applied.unwrap();
    }
    let queries = [
        "上海",
        "上海东",
        "team",
        "meet",
        "project team",
        "上海 team",
        "budget project team",
        "会议",
        "meet 上海",
        "nothing here",
    ];
    let found = |limit: i64| {
        let alice = alice.clone();
        async move {
            let mut all = Vec::new();
            for q in queries {
                let hits = crate::search::search_with(store, &alice, q, limit)
                    .await
                    .unwrap();
                all.push((
                    q,
                    hits.into_iter().map(|h| h.message.body).collect::<Vec<_>>(),
                ));
            }
            all
        }
    };
    let driven = found(1_000).await;
    assert_eq!(driven[0].1.len(), 4, "{driven:?}");
    assert_eq!(driven[6].1, ["budget review for the project team"]);
    assert_eq!(
        driven[8].1,
        ["the team meets in 上海", "我家在上海东边 meeting"]
    );
    assert!(driven[9].1.is_empty());
    // No term counts as rare: one term walks the messages, several intersect.
    assert_eq!(found(0).await, driven);
    // Indexed again by the background pass, as after an upgrade.
    sqlx::query("DELETE FROM search_terms")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET indexed = 0")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        crate::search::backfill(store).await.unwrap(),
        bodies.len() as u64
    );
    assert_eq!(found(1_000).await, driven);
}

/// Runs an organisation command as `user`; its output or refusal.
async fn org(
    store: &Store,
    user: &CurrentUser,
    client_id: &str,
    command: Command,
) -> Result<CommandOutput, CommandError> {
    one(store, as_user(user, client_id, command))
        .await
        .map(|applied| applied.output)
}

fn department_of(output: Result<CommandOutput, CommandError>) -> xietong::DepartmentId {
    match output {
        Ok(CommandOutput::DepartmentChanged { department, .. }) => department,
        other => panic!("{other:?}"),
    }
}

async fn departments_form_a_tree_only_admins_change(store: &Store) {
    use xietong::org::*;
    let admin = user(store, "alice").await;
    let member = user(store, "bob").await;
    let new = |name: &str, parent| {
        Command::CreateDepartment(CreateDepartment {
            name: name.into(),
            parent,
        })
    };
    let head_before = store.head(Scope::Workspace).await.unwrap();
    let hq = department_of(org(store, &admin, "org-0001", new("总部", None)).await);
    let tech = department_of(org(store, &admin, "org-0002", new(" 技术部 ", Some(hq))).await);
    let web = department_of(org(store, &admin, "org-0003", new("前端组", Some(tech))).await);
    let finance = department_of(org(store, &admin, "org-0004", new("财务部", Some(hq))).await);

    // Everyone else is refused, and nothing is written.
    let refused = org(store, &member, "org-0005", new("影子部门", None)).await;
    assert!(
        matches!(refused, Err(CommandError::Forbidden(_))),
        "{refused:?}"
    );
    // Sibling names are unique (without case); the same name elsewhere is fine.
    let taken = org(store, &admin, "org-0006", new("技术部", Some(hq))).await;
    assert!(matches!(taken, Err(CommandError::Conflict(_))), "{taken:?}");
    department_of(org(store, &admin, "org-0007", new("Tech", Some(finance))).await);
    let taken = org(store, &admin, "org-0008", new("TECH", Some(finance))).await;
    assert!(matches!(taken, Err(CommandError::Conflict(_))), "{taken:?}");
    // Bad names are refused with the rule broken.
    for bad in ["", "   ", "总部/技术部", "a\u{202E}b"] {
        let refused = org(
            store,
            &admin,
            &format!("org-bad-{}", bad.len()),
            new(bad, None),
        )
        .await;
        assert!(
            matches!(refused, Err(CommandError::Invalid(_))),
            "{bad:?}: {refused:?}"
        );
    }
    // A parent that does not exist.
    let missing = org(
        store,
        &admin,
        "org-0009",
        new("x", Some(xietong::DepartmentId(9999))),
    )
    .await;
    assert!(
        matches!(missing, Err(CommandError::NotFound(_))),
        "{missing:?}"
    );

    // Moving into itself or below itself is refused; elsewhere it goes last.
    for parent in [tech, web] {
        let cycle = org(
            store,
            &admin,
            &format!("org-cycle-{}", parent.0),
            Command::MoveDepartment(MoveDepartment {
                department: tech,
                parent: Some(parent),
            }),
        )
        .await;
        assert!(matches!(cycle, Err(CommandError::Invalid(_))), "{cycle:?}");
    }
    department_of(
        org(
            store,
            &admin,
            "org-0010",
            Command::MoveDepartment(MoveDepartment {
                department: web,
                parent: Some(finance),
            }),
        )
        .await,
    );
    department_of(
        org(
            store,
            &admin,
            "org-0011",
            Command::RenameDepartment(RenameDepartment {
                department: tech,
                name: "研发部".into(),
            }),
        )
        .await,
    );
    let renamed_as_member = org(
        store,
        &member,
        "org-0012",
        Command::RenameDepartment(RenameDepartment {
            department: tech,
            name: "x".into(),
        }),
    )
    .await;
    assert!(matches!(renamed_as_member, Err(CommandError::Forbidden(_))));

    // Only an empty department goes: not one with sub-departments, not one with people.
    let not_empty = org(
        store,
        &admin,
        "org-0013",
        Command::RemoveDepartment(RemoveDepartment {
            department: finance,
        }),
    )
    .await;
    assert!(
        matches!(not_empty, Err(CommandError::Conflict(_))),
        "{not_empty:?}"
    );
    {
        let mut tx = store.write().await.unwrap();
        sqlx::query(
            "INSERT INTO user_departments (user_id, department_id, main) VALUES ($1, $2, 1)",
        )
        .bind(member.id.0)
        .bind(tech.0)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let has_people = org(
        store,
        &admin,
        "org-0014",
        Command::RemoveDepartment(RemoveDepartment { department: tech }),
    )
    .await;
    assert!(
        matches!(has_people, Err(CommandError::Conflict(_))),
        "{has_people:?}"
    );
    let removed = org(
        store,
        &admin,
        "org-0015",
        Command::RemoveDepartment(RemoveDepartment { department: web }),
    )
    .await;
    assert_eq!(department_of(removed), web);

    // The snapshot is the tree as the events left it, at the workspace head they reach.
    let snapshot = crate::org::snapshot(store, &member).await.unwrap();
    let events = store
        .events_after(Scope::Workspace, head_before, 1000)
        .await
        .unwrap();
    assert_eq!(snapshot.head, events.last().unwrap().seq);
    let mut replayed: Vec<Department> = Vec::new();
    for event in &events {
        match &event.body {
            EventBody::Org(xietong::org::OrgEvent::DepartmentSaved { department }) => {
                replayed.retain(|d| d.id != department.id);
                replayed.push(department.clone());
            }
            EventBody::Org(xietong::org::OrgEvent::DepartmentRemoved { department }) => {
                replayed.retain(|d| d.id != *department)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    replayed.sort_by_key(|d| d.id);
    assert_eq!(snapshot.departments, replayed);
    let paths: Vec<String> = tree_order(&snapshot.departments)
        .into_iter()
        .map(|(d, _)| path(&snapshot.departments, d.id))
        .collect();
    assert_eq!(
        paths,
        vec!["总部", "总部/研发部", "总部/财务部", "总部/财务部/Tech"]
    );
}

async fn admins_set_people_and_roles_and_deactivate_accounts(store: &Store) {
    use xietong::org::*;
    let admin = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let hq = department_of(
        org(
            store,
            &admin,
            "p-0001",
            Command::CreateDepartment(CreateDepartment {
                name: "总部".into(),
                parent: None,
            }),
        )
        .await,
    );
    let tech = department_of(
        org(
            store,
            &admin,
            "p-0002",
            Command::CreateDepartment(CreateDepartment {
                name: "技术部".into(),
                parent: Some(hq),
            }),
        )
        .await,
    );
    let role = |output| match output {
        Ok(CommandOutput::RoleChanged { role }) => role,
        other => panic!("{other:?}"),
    };
    let hr = role(
        org(
            store,
            &admin,
            "p-0003",
            Command::CreateRole(CreateRole { name: "HR".into() }),
        )
        .await,
    );
    let finance = role(
        org(
            store,
            &admin,
            "p-0004",
            Command::CreateRole(CreateRole {
                name: "Finance".into(),
            }),
        )
        .await,
    );
    let taken = org(
        store,
        &admin,
        "p-0005",
        Command::CreateRole(CreateRole { name: "hr".into() }),
    )
    .await;
    assert!(matches!(taken, Err(CommandError::Conflict(_))), "{taken:?}");
    let refused = org(
        store,
        &bob,
        "p-0006",
        Command::CreateRole(CreateRole {
            name: "Boss".into(),
        }),
    )
    .await;
    assert!(
        matches!(refused, Err(CommandError::Forbidden(_))),
        "{refused:?}"
    );

    let update = |full_name: &str, main, roles: Vec<xietong::RoleId>| {
        Command::UpdatePerson(UpdatePerson {
            person: bob.id,
            full_name: full_name.into(),
            title: "工程师".into(),
            main_department: main,
            other_departments: vec![hq, tech], // the main one among them is dropped
            roles,
            mobile: None,
            email: None,
        })
    };
    let refused = org(store, &bob, "p-0007", update("鲍勃", Some(tech), vec![])).await;
    assert!(
        matches!(refused, Err(CommandError::Forbidden(_))),
        "{refused:?}"
    );
    let changed = org(
        store,
        &admin,
        "p-0008",
        update(" 鲍勃 ", Some(tech), vec![hr, finance]),
    )
    .await;
    assert!(
        matches!(
            changed,
            Ok(CommandOutput::PersonChanged { seq: Some(_), .. })
        ),
        "{changed:?}"
    );
    let same = org(
        store,
        &admin,
        "p-0009",
        update("鲍勃", Some(tech), vec![finance, hr]),
    )
    .await;
    assert!(
        matches!(same, Ok(CommandOutput::PersonChanged { seq: None, .. })),
        "{same:?}"
    );
    let missing = org(
        store,
        &admin,
        "p-0010",
        update("x", Some(xietong::DepartmentId(999)), vec![]),
    )
    .await;
    assert!(
        matches!(missing, Err(CommandError::NotFound(_))),
        "{missing:?}"
    );
    let bad = org(store, &admin, "p-0011", update("a\u{7}b", None, vec![])).await;
    assert!(matches!(bad, Err(CommandError::Invalid(_))), "{bad:?}");

    let snapshot = crate::org::snapshot(store, &bob).await.unwrap();
    let person = snapshot.people.iter().find(|p| p.id == bob.id).unwrap();
    assert_eq!(
        (
            person.full_name.as_str(),
            person.title.as_str(),
            person.main_department,
            person.other_departments.clone()
        ),
        ("鲍勃", "工程师", Some(tech), vec![hq])
    );
    assert_eq!(person.roles, vec![hr, finance]);
    assert_eq!(
        (person.pinyin.as_str(), person.initials.as_str()),
        ("baobo", "bb")
    );
    assert!(person.matches("bb") && person.matches("baobo") && person.matches("鲍"));
    // A department with people in it stays.
    let not_empty = org(
        store,
        &admin,
        "p-0012",
        Command::RemoveDepartment(RemoveDepartment { department: tech }),
    )
    .await;
    assert!(
        matches!(not_empty, Err(CommandError::Conflict(_))),
        "{not_empty:?}"
    );
    // A removed role leaves everyone who had it.
    org(
        store,
        &admin,
        "p-0013",
        Command::RemoveRole(RemoveRole { role: hr }),
    )
    .await
    .unwrap();
    let snapshot = crate::org::snapshot(store, &bob).await.unwrap();
    assert_eq!(
        snapshot.roles.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![finance]
    );
    assert_eq!(
        snapshot
            .people
            .iter()
            .find(|p| p.id == bob.id)
            .unwrap()
            .roles,
        vec![finance]
    );

    // Deactivation: the sessions go in the same transaction, and the account cannot log in.
    accounts::create_session(store, "bob-session", bob.id, now_ms() + 60_000)
        .await
        .unwrap();
    assert!(accounts::session(store, "bob-session")
        .await
        .unwrap()
        .is_some());
    let own = org(
        store,
        &admin,
        "p-0014",
        Command::SetPersonActive(SetPersonActive {
            person: admin.id,
            active: false,
        }),
    )
    .await;
    assert!(matches!(own, Err(CommandError::Invalid(_))), "{own:?}");
    let off = one(
        store,
        as_user(
            &admin,
            "p-0015",
            Command::SetPersonActive(SetPersonActive {
                person: bob.id,
                active: false,
            }),
        ),
    )
    .await
    .unwrap();
    assert_eq!(off.events.len(), 1);
    assert_eq!(off.events[0].body.ends_sessions_of(), Some(bob.id));
    assert!(accounts::session(store, "bob-session")
        .await
        .unwrap()
        .is_none());
    assert!(accounts::user_by_name(store, "bob")
        .await
        .unwrap()
        .is_none());
    assert!(accounts::is_deactivated(store, bob.id).await.unwrap());
    assert!(!accounts::people(store)
        .await
        .unwrap()
        .iter()
        .any(|p| p.id == bob.id));
    org(
        store,
        &admin,
        "p-0016",
        Command::SetPersonActive(SetPersonActive {
            person: bob.id,
            active: true,
        }),
    )
    .await
    .unwrap();
    assert!(accounts::user_by_name(store, "bob")
        .await
        .unwrap()
        .is_some());
    let snapshot = crate::org::snapshot(store, &admin).await.unwrap();
    assert!(
        snapshot
            .people
            .iter()
            .find(|p| p.id == bob.id)
            .unwrap()
            .active
    );

    // An admin deactivated while their command waited is refused: the command path checks the
    // actor as the database holds them, not as their session said. Their unused invitations go.
    let carol = accounts::create_user(store, "carol", "h", accounts::Admission::Admin)
        .await
        .unwrap();
    assert!(carol.is_admin);
    accounts::create_invite(store, "carol-invite", carol.id, now_ms() + 60_000)
        .await
        .unwrap();
    org(
        store,
        &admin,
        "p-0017",
        Command::SetPersonActive(SetPersonActive {
            person: carol.id,
            active: false,
        }),
    )
    .await
    .unwrap();
    let stale = org(
        store,
        &carol,
        "p-0018",
        Command::SetPersonActive(SetPersonActive {
            person: carol.id,
            active: true,
        }),
    )
    .await;
    assert!(
        matches!(stale, Err(CommandError::Forbidden(_))),
        "{stale:?}"
    );
    let stale = org(
        store,
        &carol,
        "p-0019",
        Command::SetPersonActive(SetPersonActive {
            person: admin.id,
            active: false,
        }),
    )
    .await;
    assert!(
        matches!(stale, Err(CommandError::Forbidden(_))),
        "{stale:?}"
    );
    let invites: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM invites WHERE created_by = $1")
            .bind(carol.id.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(invites, 0);

    // Names are NFKC-normalised (full-width letters are the same name) and invisible
    // characters are refused.
    org(
        store,
        &admin,
        "p-0020",
        Command::CreateRole(CreateRole {
            name: "Sales".into(),
        }),
    )
    .await
    .unwrap();
    let same = org(
        store,
        &admin,
        "p-0021",
        Command::CreateRole(CreateRole {
            name: "Ｓａｌｅｓ".into(),
        }),
    )
    .await;
    assert!(matches!(same, Err(CommandError::Conflict(_))), "{same:?}");
    let hidden = org(
        store,
        &admin,
        "p-0022",
        Command::CreateRole(CreateRole {
            name: "Sa\u{061C}les".into(),
        }),
    )
    .await;
    assert!(
        matches!(hidden, Err(CommandError::Invalid(_))),
        "{hidden:?}"
    );
}

/// Two people (here: two tabs) naming a folder alike at once: the second is told the name is
/// taken, not that the server failed — also on PostgreSQL, where its own check cannot see the
/// first one's row before that commits and the unique index refuses it instead.
async fn a_name_taken_at_the_same_moment_is_a_conflict(store: &Store) {
    use xietong::mail::SaveMailFolder;
    let alice = user(store, "alice").await;
    let folder = |client_id: &str| {
        as_user(
            &alice,
            client_id,
            Command::SaveMailFolder(SaveMailFolder {
                folder: None,
                name: "项目 Projects".into(),
            }),
        )
    };
    let mut tx = store.write().await.unwrap();
    let mut memo = crate::command::BatchMemo::default();
    let first = crate::command::apply(
        &mut tx,
        &folder("first"),
        crate::command::Fence::Savepoint,
        &mut memo,
        &NobodyOnline,
    )
    .await
    .unwrap();
    assert!(first.is_ok());
    let second = tokio::spawn({
        let store = store.clone();
        let submission = folder("second");
        async move { one(&store, submission).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();
    let refused = second.await.unwrap().err().expect("the second is refused");
    assert_eq!(refused.code(), xietong::ErrorCode::Conflict, "{refused}");
}

/// A read receipt locks the reader's scope and then the sender's; something holding the
/// sender's and waiting for the reader's makes a deadlock, which PostgreSQL breaks by failing
/// one side. The receipt is run again and goes through: the reader is never told it failed.
async fn a_command_that_deadlocks_is_run_again(store: &Store) {
    use xietong::mail::{MailFields, ReadMail, SaveMail};
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let sent = one(
        store,
        as_user(
            &alice,
            "send",
            Command::SaveMail(SaveMail {
                mail: None,
                fields: MailFields {
                    to: vec![xietong::org::AudienceMember::Person(bob.id)],
                    subject: "hello".into(),
                    ..Default::default()
                },
                attachments: Vec::new(),
                forward_files: Vec::new(),
                in_reply_to: None,
                send: true,
            }),
        ),
    )
    .await
    .unwrap();
    let CommandOutput::MailChanged { mail } = sent.output else {
        panic!("{:?}", sent.output)
    };
    let mut tx = store.write().await.unwrap();
    lock_scope(&mut tx, Scope::User(alice.id)).await.unwrap();
    let read = tokio::spawn({
        let store = store.clone();
        let submission = as_user(&bob, "read", Command::ReadMail(ReadMail { mail }));
        async move { one(&store, submission).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The other side of the cycle (on SQLite the reader waits for this transaction instead).
    match lock_scope(&mut tx, Scope::User(bob.id)).await {
        Ok(()) => tx.commit().await.unwrap(),
        Err(_) => tx.rollback().await.unwrap(),
    }
    let read = read.await.unwrap();
    assert!(read.is_ok(), "{:?}", read.err());
}

/// Contact details: set by an admin, found by the address book's search; a number its owner
/// hides is in no snapshot and no event, and an admin's edit that leaves it alone keeps it.
async fn a_hidden_mobile_number_never_leaves_the_database(store: &Store) {
    use xietong::org::*;
    use xietong::settings::{UpdateSettings, UserSettings};
    let admin = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let update = |mobile: Option<&str>, email: &str| {
        Command::UpdatePerson(UpdatePerson {
            person: bob.id,
            full_name: "鲍勃".into(),
            title: String::new(),
            mobile: mobile.map(Into::into),
            email: Some(email.into()),
            main_department: None,
            other_departments: vec![],
            roles: vec![],
        })
    };
    for (n, bad) in [
        (1, update(Some("call me"), "")),
        (2, update(None, "not-an-address")),
    ] {
        let refused = org(store, &admin, &format!("c-bad-{n}"), bad).await;
        assert!(
            matches!(refused, Err(CommandError::Invalid(_))),
            "{refused:?}"
        );
    }
    org(
        store,
        &admin,
        "c-0001",
        update(Some("+86 138-0013-8000"), "Bob@Example.com"),
    )
    .await
    .unwrap();
    let bob_in = |snapshot: &OrgSnapshot| {
        snapshot
            .people
            .iter()
            .find(|p| p.id == bob.id)
            .unwrap()
            .clone()
    };
    let seen = bob_in(&crate::org::snapshot(store, &admin).await.unwrap());
    assert_eq!(
        (seen.mobile.as_str(), seen.email.as_str()),
        ("+86 138-0013-8000", "Bob@Example.com")
    );
    assert!(seen.matches("13800138000") && seen.matches("bob@example"));

    let hide = |on: bool| {
        Command::UpdateSettings(UpdateSettings {
            settings: UserSettings {
                hide_mobile: on,
                ..UserSettings::default()
            },
        })
    };
    let hidden = one(store, as_user(&bob, "c-0002", hide(true)))
        .await
        .unwrap();
    let announced = hidden.events.iter().find_map(|e| match &e.body {
        EventBody::Org(xietong::org::OrgEvent::PersonSaved { person }) => Some(person.clone()),
        _ => None,
    });
    assert_eq!(announced.map(|p| p.mobile), Some(String::new()));
    let seen = bob_in(&crate::org::snapshot(store, &admin).await.unwrap());
    assert_eq!(seen.mobile, "");
    assert!(!seen.matches("13800138000"));
    // The admin edits the title; the number (hidden, so not in the form) stays.
    org(store, &admin, "c-0003", update(None, "bob@example.com"))
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar("SELECT mobile FROM users WHERE id = $1")
        .bind(bob.id.0)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, "+86 138-0013-8000");
    one(store, as_user(&bob, "c-0004", hide(false)))
        .await
        .unwrap();
    assert_eq!(
        bob_in(&crate::org::snapshot(store, &admin).await.unwrap()).mobile,
        "+86 138-0013-8000"
    );
}

/// Two admins (two nodes on PostgreSQL) move two departments under each other at the same
/// moment: administrative commands run one at a time, so at most one move succeeds and the
/// tree never gets a loop.
async fn concurrent_moves_never_make_a_loop(store: &Store) {
    use xietong::org::*;
    let admin = user(store, "alice").await;
    for round in 0..10 {
        let mut ids = Vec::new();
        for name in ["A", "B"] {
            let command = Command::CreateDepartment(CreateDepartment {
                name: format!("{name}{round}"),
                parent: None,
            });
            ids.push(department_of(
                org(store, &admin, &format!("loop-{name}-{round}"), command).await,
            ));
        }
        let under = |department, parent, client: String| {
            let submission = as_user(
                &admin,
                &client,
                Command::MoveDepartment(MoveDepartment {
                    department,
                    parent: Some(parent),
                }),
            );
            async move { commit(store, &[submission], &NobodyOnline).await }
        };
        let (first, second) = tokio::join!(
            under(ids[0], ids[1], format!("loop-ab-{round}")),
            under(ids[1], ids[0], format!("loop-ba-{round}")),
        );
        let succeeded = [first, second]
            .into_iter()
            .filter(|r| matches!(r.as_ref().map(|v| v[0].is_ok()), Ok(true)))
            .count();
        assert_eq!(succeeded, 1, "round {round}");
        let all = crate::org::departments::all(&mut store.pool().acquire().await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            tree_order(&all).len(),
            all.len(),
            "a loop leaves departments out of the tree"
        );
    }
}
