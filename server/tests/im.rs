//! Instant messaging through real sockets and server functions: who may edit, delete, react,
//! pin and reply, and that nothing about a conversation reaches someone outside it.

mod common;

use common::*;
use xietong::chat::{CreateChannel, DeleteMessage, EditMessage, PinMessage, PostMessage, React};
use xietong::{ChannelKind, Command, CommandOutput, ErrorCode, EventBody, MessageId, Scope};

async fn applied(client: &mut Client, command: Command) -> Result<CommandOutput, ErrorCode> {
    let id = client.command(command).await;
    client.answer(&id).await.map(|(output, _)| output)
}

async fn post(
    client: &mut Client,
    channel: xietong::ChannelId,
    body: &str,
    thread: Option<MessageId>,
) -> Result<MessageId, ErrorCode> {
    match applied(
        client,
        Command::PostMessage(PostMessage {
            channel,
            body: body.into(),
            thread,
            attachments: Vec::new(),
        }),
    )
    .await?
    {
        CommandOutput::MessagePosted { message, .. } => Ok(message),
        other => panic!("{other:?}"),
    }
}

/// Creates a channel (or starts a conversation) and returns it.
async fn create(
    client: &mut Client,
    name: impl Into<String>,
    kind: ChannelKind,
    members: Vec<xietong::UserId>,
) -> xietong::Channel {
    match applied(
        client,
        Command::CreateChannel(CreateChannel {
            name: name.into(),
            kind,
            members,
        }),
    )
    .await
    .unwrap()
    {
        CommandOutput::ChannelCreated { channel } => channel,
        other => panic!("{other:?}"),
    }
}

/// A server function's status and body.
async fn call(server: &TestServer, cookie: &str, endpoint: &str, form: &str) -> (u16, String) {
    let response = server.server_fn(cookie, endpoint, form).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn only_the_author_edits_and_the_author_or_an_admin_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin_cookie = server.sign_up("admin").await; // the first account is the admin
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let mut admin = server.connect(&admin_cookie).await;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    let mine = post(&mut alice, GENERAL, "alice's", None).await.unwrap();
    let edit = |body: &str| {
        Command::EditMessage(EditMessage {
            message: mine,
            body: body.into(),
        })
    };
    let delete = Command::DeleteMessage(DeleteMessage { message: mine });
    assert_eq!(
        applied(&mut bob, edit("bob was here")).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        applied(&mut admin, edit("admin was here")).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        applied(&mut bob, delete.clone()).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        applied(&mut alice, edit("   ")).await,
        Err(ErrorCode::Invalid)
    );
    assert!(applied(&mut alice, edit("alice's, edited")).await.is_ok());

    // Bob watches the channel: the edit history is kept, the delete arrives as an event.
    bob.subscribe(Scope::Channel(GENERAL), None).await;
    assert!(applied(&mut admin, delete.clone()).await.is_ok());
    let event = bob.next_event().await;
    assert_eq!(
        event.body,
        EventBody::Chat(xietong::chat::ChatEvent::MessageDeleted { message: mine })
    );
    // Deleting again changes nothing and says so (no second event); editing a deleted one fails.
    match applied(&mut alice, delete).await {
        Ok(CommandOutput::MessageChanged { seq: None, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        applied(&mut alice, edit("back")).await,
        Err(ErrorCode::NotFound)
    );
    // The earlier bodies are kept, for the author and admins only.
    let form = format!("message={mine}");
    let (status, body) = call(&server, &alice_cookie, "edit_history", &form).await;
    assert_eq!(status, 200, "{body}");
    let kept: Vec<String> = serde_json::from_str(&body).unwrap();
    assert_eq!(
        kept,
        vec!["alice's".to_string(), "alice's, edited".to_string()]
    );
    let (status, _) = call(&server, &admin_cookie, "edit_history", &form).await;
    assert_eq!(status, 200);
    let (status, body) = call(&server, &bob_cookie, "edit_history", &form).await;
    assert_eq!(status, 403, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn reactions_are_idempotent_and_only_emoji() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let mut alice = server.connect(&alice).await;
    let message = post(&mut alice, GENERAL, "react to me", None)
        .await
        .unwrap();
    let react = |emoji: &str, on| {
        Command::React(React {
            message,
            emoji: emoji.into(),
            on,
        })
    };
    match applied(&mut alice, react("👍", true)).await {
        Ok(CommandOutput::MessageChanged { seq: Some(_), .. }) => {}
        other => panic!("{other:?}"),
    }
    // The same reaction again, or taking back one never given: no event.
    for command in [react("👍", true), react("🎉", false)] {
        match applied(&mut alice, command).await {
            Ok(CommandOutput::MessageChanged { seq: None, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    for not_emoji in ["", "a", "👍x", "<b>", "👍 ", "1"] {
        assert_eq!(
            applied(&mut alice, react(not_emoji, true)).await,
            Err(ErrorCode::Invalid),
            "{not_emoji:?}"
        );
    }
    assert!(applied(&mut alice, react("👩‍👩‍👧", true)).await.is_ok());
    assert!(applied(&mut alice, react("❤️", true)).await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn replies_need_a_top_level_message_of_the_same_channel() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let mut alice = server.connect(&alice).await;
    let root = post(&mut alice, GENERAL, "root", None).await.unwrap();
    let reply = post(&mut alice, GENERAL, "reply", Some(root))
        .await
        .unwrap();
    assert_eq!(
        post(&mut alice, GENERAL, "reply to a reply", Some(reply)).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        post(&mut alice, GENERAL, "no such root", Some(MessageId(9999))).await,
        Err(ErrorCode::NotFound)
    );
    let other = create(&mut alice, "other", ChannelKind::Public, vec![]).await;
    assert_eq!(
        post(&mut alice, other.id, "wrong channel", Some(root)).await,
        Err(ErrorCode::NotFound)
    );
    server.stop().await;
}

/// Carol is in neither conversation: no thread, pin list, member list, reaction, pin, edit or
/// reply reaches her or is taken from her, and the messages are "not found" rather than
/// "forbidden" (which would confirm they exist).
#[tokio::test]
async fn a_private_conversation_s_messages_do_not_exist_for_outsiders() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let carol_cookie = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut carol = server.connect(&carol_cookie).await;
    let dm = create(&mut alice, String::new(), ChannelKind::Direct, vec![bob_id]).await;
    let secret = post(&mut alice, dm.id, "just between us", None)
        .await
        .unwrap();
    for (endpoint, form) in [
        ("thread", format!("root={secret}")),
        ("pinned", format!("channel={}", dm.id)),
        ("members", format!("channel={}", dm.id)),
        ("history", format!("channel={}", dm.id)),
    ] {
        let (status, body) = call(&server, &carol_cookie, endpoint, &form).await;
        assert!(
            status == 403 || status == 404,
            "{endpoint}: {status} {body}"
        );
        assert!(!body.contains("just between us"), "{endpoint}: {body}");
        // Bob, a member, may.
        let (status, body) = call(&server, &bob_cookie, endpoint, &form).await;
        assert_eq!(status, 200, "{endpoint}: {body}");
    }
    for command in [
        Command::React(React {
            message: secret,
            emoji: "👍".into(),
            on: true,
        }),
        Command::PinMessage(PinMessage {
            message: secret,
            pinned: true,
        }),
        Command::EditMessage(EditMessage {
            message: secret,
            body: "mine now".into(),
        }),
        Command::DeleteMessage(DeleteMessage { message: secret }),
    ] {
        assert_eq!(applied(&mut carol, command).await, Err(ErrorCode::NotFound));
    }
    assert_eq!(
        post(&mut carol, dm.id, "butting in", Some(secret)).await,
        Err(ErrorCode::Forbidden)
    );
    let (status, body) = call(
        &server,
        &alice_cookie,
        "history",
        &format!("channel={}", dm.id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("just between us") && !body.contains("mine now"));
    server.stop().await;
}

/// The unread part of a user's workspace snapshot: (unread, mentions, last read) in `channel`.
async fn unread_in(
    server: &TestServer,
    cookie: &str,
    channel: xietong::ChannelId,
) -> Option<(u32, u32, u64)> {
    let (status, body) = call(server, cookie, "workspace", "").await;
    assert_eq!(status, 200, "{body}");
    let snapshot: xietong::WorkspaceSnapshot = serde_json::from_str(&body).unwrap();
    snapshot
        .unread
        .iter()
        .find(|u| u.channel == channel)
        .map(|u| (u.unread, u.mentions, u.last_read.0))
}

async fn mark_read(client: &mut Client, channel: xietong::ChannelId) -> Option<xietong::Seq> {
    match applied(
        client,
        Command::MarkRead(xietong::chat::MarkRead {
            channel,
            seq: xietong::Seq(u64::MAX),
        }),
    )
    .await
    .unwrap()
    {
        CommandOutput::MarkedRead { seq, .. } => seq,
        other => panic!("{other:?}"),
    }
}

/// The next event of the user scope a client watches: (channel, seq, mention) of a
/// `message_unread`, or panics on anything else.
async fn next_unread(client: &mut Client) -> (xietong::ChannelId, xietong::MessageId, bool) {
    let event = client.next_event().await;
    match event.body {
        EventBody::Chat(xietong::chat::ChatEvent::MessageUnread {
            channel,
            message,
            mention,
            ..
        }) => (channel, message, mention),
        other => panic!("expected message_unread, got {other:?}"),
    }
}

/// Editing a mention out of a message takes it out of the reader's mention count at once (it
/// stays unread).
#[tokio::test]
async fn an_edit_that_drops_a_mention_lowers_the_mention_count() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    bob.subscribe(Scope::User(bob_id), None).await;
    mark_read(&mut bob, GENERAL).await.unwrap();
    let ping = post(&mut alice, GENERAL, "@bob look", None).await.unwrap();
    assert_eq!(
        unread_in(&server, &bob_cookie, GENERAL)
            .await
            .map(|u| (u.0, u.1)),
        Some((1, 1))
    );
    let edit = Command::EditMessage(EditMessage {
        message: ping,
        body: "look".into(),
    });
    applied(&mut alice, edit).await.unwrap();
    assert_eq!(
        unread_in(&server, &bob_cookie, GENERAL)
            .await
            .map(|u| (u.0, u.1)),
        Some((1, 0))
    );
    // Bob's open tabs hear it in his own scope.
    loop {
        match bob.next_event().await.body {
            EventBody::Chat(xietong::chat::ChatEvent::ChannelRead {
                channel: GENERAL,
                unread: 1,
                mentions: 0,
                ..
            }) => break,
            _ => continue,
        }
    }
    server.stop().await;
}

/// A long thread comes a page at a time, newest replies first; older pages on request.
#[tokio::test]
async fn a_long_thread_is_read_a_page_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut alice = server.connect(&cookie).await;
    let root = post(&mut alice, GENERAL, "root", None).await.unwrap();
    let page_size = xietong::limits::HISTORY_PAGE as usize;
    let total = page_size + 5;
    for i in 0..total {
        post(&mut alice, GENERAL, &format!("reply {i}"), Some(root))
            .await
            .unwrap();
    }
    let fetch = |form: String| {
        let server = &server;
        let cookie = &cookie;
        async move {
            let (status, body) = call(server, cookie, "thread", &form).await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<xietong::chat::ThreadPage>(&body).unwrap()
        }
    };
    let bodies = |page: &xietong::chat::ThreadPage| {
        page.replies
            .iter()
            .map(|m| m.body.clone())
            .collect::<Vec<_>>()
    };
    let newest = fetch(format!("root={root}")).await;
    assert!(newest.has_more);
    assert_eq!(newest.root.reply_count as usize, total);
    let expected: Vec<String> = (5..total).map(|i| format!("reply {i}")).collect();
    assert_eq!(bodies(&newest), expected);
    let before = newest.replies[0].seq;
    let older = fetch(format!("root={root}&before={before}")).await;
    assert!(!older.has_more);
    let expected: Vec<String> = (0..5).map(|i| format!("reply {i}")).collect();
    assert_eq!(bodies(&older), expected);
    server.stop().await;
}

/// `@here` mentions the members online when it is posted (Mattermost's and Slack's meaning);
/// `@channel` every member.
#[tokio::test]
async fn here_mentions_the_members_online_and_channel_mentions_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let carol_cookie = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let carol_id = server.whoami(&carol_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    // Bob has the app open; carol has not.
    let mut bob = server.connect(&bob_cookie).await;
    bob.subscribe(Scope::User(bob_id), None).await;
    let team = create(
        &mut alice,
        "team",
        ChannelKind::Private,
        vec![bob_id, carol_id],
    )
    .await;

    let here = post(&mut alice, team.id, "@here standup", None)
        .await
        .unwrap();
    let unread_for_bob = loop {
        match bob.next_event().await.body {
            EventBody::Chat(xietong::chat::ChatEvent::MessageUnread {
                message, mention, ..
            }) if message == here => break mention,
            _ => continue,
        }
    };
    assert!(unread_for_bob, "bob was online: @here mentions him");
    assert_eq!(
        unread_in(&server, &carol_cookie, team.id)
            .await
            .map(|u| (u.0, u.1)),
        Some((1, 0)),
        "carol was away: unread, not mentioned"
    );
    // The message names the people it reached, and marks the word.
    let (_, history) = call(
        &server,
        &carol_cookie,
        "history",
        &format!("channel={}", team.id),
    )
    .await;
    let page: xietong::chat::HistoryPage = serde_json::from_str(&history).unwrap();
    let posted = page.messages.iter().find(|m| m.id == here).unwrap();
    assert_eq!(posted.mentions, [bob_id]);
    assert!(!posted.mentions_all);
    assert!(posted.mentions_user(bob_id) && !posted.mentions_user(carol_id));
    assert!(
        posted
            .html
            .contains(r#"<span class="mention">@here</span>"#),
        "{}",
        posted.html
    );

    // Carol comes online; an edit keeps the people the posted @here reached (an edit
    // notifies nobody, so it marks nobody new), and dropping @here drops them.
    let _carol = server.connect(&carol_cookie).await;
    for (body, mentioned) in [
        ("@here standup at 10", vec![bob_id]),
        ("standup at 10", vec![]),
    ] {
        let edit = Command::EditMessage(EditMessage {
            message: here,
            body: body.into(),
        });
        applied(&mut alice, edit).await.unwrap();
        let form = format!("channel={}", team.id);
        let (_, history) = call(&server, &carol_cookie, "history", &form).await;
        let page: xietong::chat::HistoryPage = serde_json::from_str(&history).unwrap();
        let edited = page.messages.iter().find(|m| m.id == here).unwrap();
        assert_eq!(edited.mentions, mentioned, "after the edit to {body:?}");
    }

    post(&mut alice, team.id, "@channel release", None)
        .await
        .unwrap();
    assert_eq!(
        unread_in(&server, &carol_cookie, team.id)
            .await
            .map(|u| (u.0, u.1)),
        Some((2, 1))
    );
}

#[tokio::test]
async fn unread_counts_and_mentions_live_in_each_readers_own_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let carol_cookie = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let carol_id = server.whoami(&carol_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    // Bob's second tab watches only his own scope: it never sees `general` itself.
    let mut bob_tab = server.connect(&bob_cookie).await;
    bob_tab.subscribe(Scope::User(bob_id), None).await;
    let mut carol = server.connect(&carol_cookie).await;
    carol.subscribe(Scope::User(carol_id), None).await;

    // Opening general makes bob a member: alice's messages count for him from now on.
    assert!(mark_read(&mut bob, GENERAL).await.is_some());
    assert!(matches!(
        bob_tab.next_event().await.body,
        EventBody::Chat(xietong::chat::ChatEvent::ChannelRead { unread: 0, .. })
    ));
    let hi = post(&mut alice, GENERAL, "hi all", None).await.unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, hi, false));
    let ping = post(&mut alice, GENERAL, "@Bob, 看一下", None)
        .await
        .unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, ping, true));
    let (_, last_read) = unread_in(&server, &bob_cookie, GENERAL)
        .await
        .map(|u| (u.0, u.2))
        .unwrap();
    assert_eq!(
        unread_in(&server, &bob_cookie, GENERAL).await,
        Some((2, 1, last_read))
    );
    // Carol never opened general: not counted for her, but a mention reaches her.
    let to_carol = post(&mut alice, GENERAL, "你好@carol", None).await.unwrap();
    assert_eq!(next_unread(&mut carol).await, (GENERAL, to_carol, true));
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, to_carol, false));

    // A mention in a channel bob cannot read reaches him not at all; the DM that follows is
    // the next thing in his scope.
    let secret = create(&mut alice, "secret", ChannelKind::Private, vec![]).await;
    post(&mut alice, secret.id, "@bob @channel", None)
        .await
        .unwrap();
    let dm = create(&mut alice, String::new(), ChannelKind::Direct, vec![bob_id]).await;
    assert!(matches!(
        bob_tab.next_event().await.body,
        EventBody::Chat(xietong::chat::ChatEvent::ChannelAdded { .. })
    ));
    let dm_message = post(&mut alice, dm.id, "在吗", None).await.unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (dm.id, dm_message, false));
    assert_eq!(unread_in(&server, &bob_cookie, secret.id).await, None);

    // Reading general in one tab clears it in the other, with what is left after it.
    mark_read(&mut bob, GENERAL).await.unwrap();
    match bob_tab.next_event().await.body {
        EventBody::Chat(xietong::chat::ChatEvent::ChannelRead {
            channel,
            unread,
            mentions,
            ..
        }) => assert_eq!((channel, unread, mentions), (GENERAL, 0, 0)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        unread_in(&server, &bob_cookie, GENERAL).await,
        Some((0, 0, _))
    ));
    assert_eq!(
        unread_in(&server, &bob_cookie, dm.id)
            .await
            .map(|u| (u.0, u.1)),
        Some((1, 0))
    );
    // Reading again changes nothing and writes nothing.
    assert_eq!(mark_read(&mut bob, GENERAL).await, None);

    // Threads: replies count for the thread's followers only (its first author, whoever
    // replied or was mentioned in it), not for every member.
    // Carol joins general (the `channel_read` comes before the answer, which skips it).
    mark_read(&mut carol, GENERAL).await.unwrap();
    let root = post(&mut bob, GENERAL, "thread start", None).await.unwrap();
    assert_eq!(next_unread(&mut carol).await.1, root);
    let reply = post(&mut alice, GENERAL, "a reply", Some(root))
        .await
        .unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, reply, false));
    let with_carol = post(&mut alice, GENERAL, "@carol see", Some(root))
        .await
        .unwrap();
    // Carol's next event is the mention: the first reply did not count for her.
    assert_eq!(next_unread(&mut carol).await, (GENERAL, with_carol, true));
    assert_eq!(
        next_unread(&mut bob_tab).await,
        (GENERAL, with_carol, false)
    );
    // Now she follows the thread.
    let third = post(&mut bob, GENERAL, "third", Some(root)).await.unwrap();
    assert_eq!(next_unread(&mut carol).await, (GENERAL, third, false));

    // The history shows the mention, marked, with whom it names.
    let (_, body) = call(&server, &bob_cookie, "history", "channel=1").await;
    let page: xietong::HistoryPage = serde_json::from_str(&body).unwrap();
    let pinged = page.messages.iter().find(|m| m.id == ping).unwrap();
    assert_eq!(pinged.mentions, vec![bob_id]);
    assert!(
        pinged.html.contains(r#"<span class="mention">@Bob</span>"#),
        "{}",
        pinged.html
    );
    assert!(pinged.mentions_user(bob_id));
    server.stop().await;
}

#[tokio::test]
async fn read_receipts_in_direct_messages_follow_the_readers_setting() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    let dm = create(&mut alice, String::new(), ChannelKind::Direct, vec![bob_id]).await;
    let scope = Scope::Channel(dm.id);
    // Alice's other tab watches the conversation (a tab that sends commands skips events
    // while it waits for their answers).
    let mut alice_tab = server.connect(&alice_cookie).await;
    alice_tab.subscribe(scope, None).await;
    post(&mut alice, dm.id, "one", None).await.unwrap();
    assert_eq!(body_of(&alice_tab.next_event_in(scope).await), "one");
    mark_read(&mut bob, dm.id).await.unwrap();
    let seen = alice_tab.next_event_in(scope).await;
    match seen.body {
        EventBody::Chat(xietong::chat::ChatEvent::MessagesSeen { user, seq }) => {
            assert_eq!((user, seq), (bob_id, seen.seq));
        }
        other => panic!("{other:?}"),
    }
    let history = |cookie: String| {
        let server = &server;
        async move {
            let (_, body) = call(server, &cookie, "history", &format!("channel={}", dm.id)).await;
            serde_json::from_str::<xietong::HistoryPage>(&body).unwrap()
        }
    };
    assert_eq!(
        history(alice_cookie.clone()).await.seen,
        vec![xietong::chat::SeenBy {
            user: bob_id,
            seq: seen.seq
        }]
    );

    // Bob stops sending receipts: his reading is no longer announced.
    let off = xietong::settings::UserSettings {
        read_receipts: false,
        ..Default::default()
    };
    applied(
        &mut bob,
        Command::UpdateSettings(xietong::settings::UpdateSettings {
            settings: off.clone(),
        }),
    )
    .await
    .unwrap();
    let (_, body) = call(&server, &bob_cookie, "workspace", "").await;
    let snapshot: xietong::WorkspaceSnapshot = serde_json::from_str(&body).unwrap();
    assert_eq!(snapshot.settings, off);
    post(&mut alice, dm.id, "two", None).await.unwrap();
    assert!(mark_read(&mut bob, dm.id).await.is_some());
    post(&mut alice, dm.id, "three", None).await.unwrap();
    // Alice's next events in the conversation are her own two messages: no receipt between.
    for expected in ["two", "three"] {
        assert_eq!(body_of(&alice_tab.next_event_in(scope).await), expected);
    }
    assert_eq!(history(alice_cookie.clone()).await.seen.len(), 1);
    // Receipts exist in direct conversations only.
    mark_read(&mut bob, GENERAL).await.unwrap();
    assert!(history(bob_cookie.clone()).await.seen.len() <= 1);
    let (_, body) = call(&server, &bob_cookie, "history", "channel=1").await;
    let general: xietong::HistoryPage = serde_json::from_str(&body).unwrap();
    assert!(general.seen.is_empty());
    server.stop().await;
}

/// The bodies a search finds for `cookie`, newest first.
async fn search(server: &TestServer, cookie: &str, query: &str) -> Vec<String> {
    let (status, body) = call(server, cookie, "search", &format!("q={}", urlencode(query))).await;
    assert_eq!(status, 200, "{query}: {body}");
    let hits: Vec<xietong::search::SearchHit> = serde_json::from_str(&body).unwrap();
    hits.into_iter().map(|h| h.message.body).collect()
}

#[tokio::test]
async fn search_finds_chinese_inside_sentences_and_words_by_prefix_only_where_readable() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let carol_cookie = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    for body in [
        "我家在上海东边",
        "明天下午开会议",
        "The Meeting is at 3pm",
        "上海和海东是两个地方",
    ] {
        post(&mut alice, GENERAL, body, None).await.unwrap();
    }
    post(&mut bob, GENERAL, "bob says 上海", None)
        .await
        .unwrap();
    let dm = create(&mut alice, String::new(), ChannelKind::Direct, vec![bob_id]).await;
    post(&mut alice, dm.id, "私下说上海的事", None)
        .await
        .unwrap();

    assert_eq!(
        search(&server, &bob_cookie, "上海").await,
        [
            "私下说上海的事",
            "bob says 上海",
            "上海和海东是两个地方",
            "我家在上海东边"
        ]
    );
    assert_eq!(
        search(&server, &bob_cookie, "会议").await,
        ["明天下午开会议"]
    );
    // Three characters: every pair must be there, and the run itself.
    assert_eq!(
        search(&server, &bob_cookie, "上海东").await,
        ["我家在上海东边"]
    );
    assert_eq!(
        search(&server, &bob_cookie, "meet").await,
        ["The Meeting is at 3pm"]
    );
    assert_eq!(
        search(&server, &bob_cookie, "MEETING 3PM").await,
        ["The Meeting is at 3pm"]
    );
    assert!(search(&server, &bob_cookie, "meetings").await.is_empty());
    assert_eq!(
        search(&server, &bob_cookie, "上海 from:bob").await,
        ["bob says 上海"]
    );
    assert_eq!(
        search(&server, &bob_cookie, "上海 in:general").await.len(),
        3,
        "in: leaves the DM out"
    );
    // Carol is not in the DM: it does not exist for her.
    assert_eq!(
        search(&server, &carol_cookie, "上海").await,
        ["bob says 上海", "上海和海东是两个地方", "我家在上海东边"]
    );
    assert!(search(&server, &carol_cookie, "私下").await.is_empty());

    // Edits and deletes keep the index true.
    let edited = post(&mut alice, GENERAL, "旧的文字", None).await.unwrap();
    applied(
        &mut alice,
        Command::EditMessage(EditMessage {
            message: edited,
            body: "新的内容".into(),
        }),
    )
    .await
    .unwrap();
    assert!(search(&server, &bob_cookie, "旧的").await.is_empty());
    assert_eq!(search(&server, &bob_cookie, "新的").await, ["新的内容"]);
    applied(
        &mut alice,
        Command::DeleteMessage(DeleteMessage { message: edited }),
    )
    .await
    .unwrap();
    assert!(search(&server, &bob_cookie, "新的").await.is_empty());

    // A query too long is refused with a clear error; an empty one finds nothing.
    let (status, _) = call(
        &server,
        &bob_cookie,
        "search",
        &format!("q={}", "字".repeat(201)),
    )
    .await;
    assert_eq!(status, 400);
    assert!(search(&server, &bob_cookie, "   ").await.is_empty());
    let (status, _) = call(&server, "", "search", "q=上海").await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn notifications_list_mentions_direct_messages_and_replies_and_clear_when_seen() {
    use xietong::chat::NoticeKind;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    let mut bob_tab = server.connect(&bob_cookie).await;
    bob_tab.subscribe(Scope::User(bob_id), None).await;
    mark_read(&mut bob, GENERAL).await.unwrap();
    let root = post(&mut bob, GENERAL, "my question", None).await.unwrap();
    post(&mut alice, GENERAL, "no notice for this one", None)
        .await
        .unwrap();
    post(&mut alice, GENERAL, "an answer", Some(root))
        .await
        .unwrap();
    post(&mut alice, GENERAL, "hey @bob", None).await.unwrap();
    let dm = create(&mut alice, String::new(), ChannelKind::Direct, vec![bob_id]).await;
    post(&mut alice, dm.id, "私信内容", None).await.unwrap();

    let snapshot = || async {
        let (_, body) = call(&server, &bob_cookie, "workspace", "").await;
        serde_json::from_str::<xietong::WorkspaceSnapshot>(&body).unwrap()
    };
    let before = snapshot().await;
    let kinds: Vec<(NoticeKind, String)> = before
        .notifications
        .iter()
        .map(|n| match &n.about {
            xietong::notify::About::Message { notice, .. } => (notice.kind, notice.excerpt.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (NoticeKind::Direct, "私信内容".to_owned()),
            (NoticeKind::Mention, "hey @bob".to_owned()),
            (NoticeKind::Reply, "an answer".to_owned()),
        ]
    );
    assert_eq!(before.notifications[2].href(), format!("/c/1?m={}", root));
    assert_eq!(before.notifications_unseen, 3);
    // Alice has none: her own messages never notify her.
    let (_, body) = call(&server, &alice_cookie, "workspace", "").await;
    let alice_view: xietong::WorkspaceSnapshot = serde_json::from_str(&body).unwrap();
    assert!(alice_view.notifications.is_empty());

    // Seen in one tab: the other tab is told, with nothing left unseen.
    let seen = applied(
        &mut bob,
        Command::SeeNotifications(xietong::chat::SeeNotifications {
            up_to: before.notifications[0].id,
        }),
    )
    .await
    .unwrap();
    assert!(matches!(
        seen,
        CommandOutput::NotificationsSeen { up_to: Some(_) }
    ));
    loop {
        match bob_tab.next_event().await.body {
            EventBody::Chat(xietong::chat::ChatEvent::NotificationsSeen { unseen, .. }) => {
                assert_eq!(unseen, 0);
                break;
            }
            EventBody::Chat(xietong::chat::ChatEvent::MessageUnread { .. })
            | EventBody::Chat(xietong::chat::ChatEvent::ChannelAdded { .. })
            | EventBody::Chat(xietong::chat::ChatEvent::ChannelRead { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(snapshot().await.notifications_unseen, 0);
    server.stop().await;
}

#[tokio::test]
async fn admins_set_time_limits_for_editing_and_deleting_own_messages() {
    use xietong::settings::{UpdateWorkspaceSettings, WorkspaceSettings};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin_cookie = server.sign_up("admin").await; // the first account is the admin
    let alice_cookie = server.sign_up("alice").await;
    let mut admin = server.connect(&admin_cookie).await;
    let mut alice = server.connect(&alice_cookie).await;
    let set = |edit, delete| {
        Command::UpdateWorkspaceSettings(UpdateWorkspaceSettings {
            settings: WorkspaceSettings {
                edit_window_minutes: edit,
                delete_window_minutes: delete,
                ..Default::default()
            },
        })
    };
    assert_eq!(
        applied(&mut alice, set(Some(0), None)).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        applied(&mut admin, set(Some(600_000), None)).await,
        Err(ErrorCode::Invalid)
    );
    let mine = post(&mut alice, GENERAL, "typo", None).await.unwrap();
    applied(&mut admin, set(Some(0), Some(0))).await.unwrap();
    let (_, body) = call(&server, &alice_cookie, "workspace", "").await;
    let snapshot: xietong::WorkspaceSnapshot = serde_json::from_str(&body).unwrap();
    assert_eq!(snapshot.workspace_settings.edit_window_minutes, Some(0));
    let edit = Command::EditMessage(EditMessage {
        message: mine,
        body: "fixed".into(),
    });
    assert_eq!(
        applied(&mut alice, edit.clone()).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        applied(
            &mut alice,
            Command::DeleteMessage(DeleteMessage { message: mine })
        )
        .await,
        Err(ErrorCode::Forbidden)
    );
    // No limit again: the edit goes through; an admin deletes any message at any time.
    applied(&mut admin, set(None, Some(0))).await.unwrap();
    applied(&mut alice, edit).await.unwrap();
    applied(
        &mut admin,
        Command::DeleteMessage(DeleteMessage { message: mine }),
    )
    .await
    .unwrap();
    server.stop().await;
}

/// Deleting a message that was unread for someone takes it out of their counts, in every tab
/// of theirs (their own scope) and in a fresh snapshot.
#[tokio::test]
async fn a_deleted_message_no_longer_counts_as_unread() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice_cookie = server.sign_up("alice").await;
    let bob_cookie = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob_cookie).await.id;
    let mut alice = server.connect(&alice_cookie).await;
    let mut bob = server.connect(&bob_cookie).await;
    let mut bob_tab = server.connect(&bob_cookie).await;
    bob_tab.subscribe(Scope::User(bob_id), None).await;
    assert!(mark_read(&mut bob, GENERAL).await.is_some());
    bob_tab.next_event().await;
    let hi = post(&mut alice, GENERAL, "hi", None).await.unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, hi, false));
    let ping = post(&mut alice, GENERAL, "@bob 看一下", None)
        .await
        .unwrap();
    assert_eq!(next_unread(&mut bob_tab).await, (GENERAL, ping, true));
    let last_read = unread_in(&server, &bob_cookie, GENERAL).await.unwrap().2;

    applied(
        &mut alice,
        Command::DeleteMessage(DeleteMessage { message: ping }),
    )
    .await
    .unwrap();
    match bob_tab.next_event().await.body {
        EventBody::Chat(xietong::chat::ChatEvent::ChannelRead {
            channel,
            seq,
            unread,
            mentions,
        }) => assert_eq!(
            (channel, seq.0, unread, mentions),
            (GENERAL, last_read, 1, 0)
        ),
        other => panic!("expected channel_read, got {other:?}"),
    }
    assert_eq!(
        unread_in(&server, &bob_cookie, GENERAL).await,
        Some((1, 0, last_read))
    );
    // Deleting a message bob has read changes nothing of his.
    mark_read(&mut bob, GENERAL).await.unwrap();
    bob_tab.next_event().await;
    applied(
        &mut alice,
        Command::DeleteMessage(DeleteMessage { message: hi }),
    )
    .await
    .unwrap();
    bob_tab.send(&xietong::ClientMsg::Ping).await;
    assert_eq!(bob_tab.recv_skip_presence().await, xietong::ServerMsg::Pong);
    server.stop().await;
}
