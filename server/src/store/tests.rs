//! Store tests, each run on both backends: a temporary SQLite file, and a fresh PostgreSQL
//! database (on `XIETONG_TEST_POSTGRES`, default the local server) dropped afterwards.

use super::*;
use xietong::EventBody;

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
    sequence_numbers_are_gapless_per_scope_and_retries_are_stored_once,
    history_pages_walk_back_in_order,
    concurrent_batches_keep_sequence_numbers_gapless,
);

fn post(channel: ChannelId, author: &CurrentUser, body: &str, client_id: &str) -> Append {
    Append::PostMessage {
        channel,
        author: author.user_ref(),
        body: body.into(),
        client_id: ClientMsgId(client_id.into()),
    }
}

/// Creates a channel the way the event log does; its id.
async fn create_channel(store: &Store, name: &str, creator: Option<UserId>) -> ChannelId {
    let append = Append::CreateChannel {
        name: name.into(),
        creator,
    };
    match one(store, append).await.unwrap().event.body {
        EventBody::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    }
}

async fn one(store: &Store, append: Append) -> Result<Committed, StoreError> {
    store.commit(&[append]).await.unwrap().pop().unwrap()
}

async fn the_first_account_is_admin_and_usernames_are_unique(store: &Store) {
    let admin = store.create_user("Alice", "h1").await.unwrap();
    let member = store.create_user("bob", "h2").await.unwrap();
    assert!(admin.is_admin && !member.is_admin);
    assert!(matches!(
        store.create_user("alice", "h3").await,
        Err(StoreError::UsernameTaken)
    ));
    let (found, hash) = store.user_by_name("ALICE").await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (admin.id, "h1"));
}

async fn sessions_resolve_until_deleted_or_expired(store: &Store) {
    let user = store.create_user("alice", "h").await.unwrap();
    store
        .create_session("live", user.id, now_ms() + 60_000)
        .await
        .unwrap();
    store
        .create_session("old", user.id, now_ms() - 1)
        .await
        .unwrap();
    assert_eq!(store.session_user("live").await.unwrap(), Some(user));
    assert_eq!(store.session_user("old").await.unwrap(), None);
    store.delete_session("live").await.unwrap();
    assert_eq!(store.session_user("live").await.unwrap(), None);
}

async fn sequence_numbers_are_gapless_per_scope_and_retries_are_stored_once(store: &Store) {
    let user = store.create_user("alice", "h").await.unwrap();
    let general = create_channel(store, "general", None).await;
    let other = create_channel(store, "产品", Some(user.id)).await;
    assert!(matches!(
        one(
            store,
            Append::CreateChannel {
                name: "GENERAL".into(),
                creator: None
            }
        )
        .await,
        Err(StoreError::ChannelNameTaken)
    ));
    assert_eq!(store.head(Scope::Workspace).await.unwrap(), Seq(2));

    let batch = vec![
        post(general, &user, "a", "client-0001"),
        post(other, &user, "b", "client-0002"),
        post(general, &user, "c", "client-0003"),
        post(general, &user, "a again", "client-0001"),
        post(ChannelId(999), &user, "nowhere", "client-0004"),
    ];
    let outcomes = store.commit(&batch).await.unwrap();
    let seqs: Vec<Option<(Scope, u64, bool)>> = outcomes
        .iter()
        .map(|o| {
            o.as_ref()
                .ok()
                .map(|c| (c.event.scope, c.event.seq.0, c.duplicate))
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
    assert!(matches!(outcomes[4], Err(StoreError::NoSuchChannel)));
    let events = store
        .events_after(Scope::Channel(general), Seq::ZERO, 100)
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(store.head(Scope::Channel(general)).await.unwrap(), Seq(2));
}

async fn history_pages_walk_back_in_order(store: &Store) {
    let user = store.create_user("alice", "h").await.unwrap();
    create_channel(store, "general", None).await;
    let batch: Vec<Append> = (0..120)
        .map(|i| {
            post(
                ChannelId(1),
                &user,
                &format!("m{i}"),
                &format!("client-{i:04}"),
            )
        })
        .collect();
    store.commit(&batch).await.unwrap();
    let first = store.history(None, None, 50).await.unwrap().unwrap();
    assert_eq!(first.channel.name, "general");
    assert_eq!(first.head, Seq(120));
    assert!(first.has_more);
    assert_eq!(first.messages.len(), 50);
    assert_eq!(first.messages.first().unwrap().seq, Seq(71));
    assert_eq!(first.messages.last().unwrap().body, "m119");
    let second = store
        .history(Some(ChannelId(1)), Some(Seq(71)), 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            second.messages.first().unwrap().seq,
            second.messages.last().unwrap().seq
        ),
        (Seq(21), Seq(70))
    );
    let third = store
        .history(Some(ChannelId(1)), Some(Seq(21)), 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.messages.len(), 20);
    assert!(!third.has_more);
    assert!(store
        .history(Some(ChannelId(42)), None, 50)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_unreachable_postgres_is_a_clear_error() {
    let err = Store::open("postgres://postgres@127.0.0.1:1/nope", None)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("cannot open the database postgres://postgres@127.0.0.1:1/nope"),
        "{err}"
    );
    let err = Store::open("mysql://localhost/x", None)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
}

/// Two writers committing to one scope at once (two nodes, in production) still produce
/// 1, 2, 3, … with no gap and no repeat.
async fn concurrent_batches_keep_sequence_numbers_gapless(store: &Store) {
    let user = store.create_user("alice", "h").await.unwrap();
    create_channel(store, "general", None).await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let user = user.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for b in 0..10 {
                    let batch: Vec<Append> = (0..5)
                        .map(|i| post(ChannelId(1), &user, "x", &format!("client-{w}-{b}-{i}")))
                        .collect();
                    for outcome in store.commit(&batch).await.unwrap() {
                        seqs.push(outcome.unwrap().event.seq.0);
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
