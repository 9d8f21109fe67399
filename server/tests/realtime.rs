//! The real-time path end to end: a real server on an ephemeral port, real WebSocket clients.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use xietong::wire::close;
use xietong::{ClientMsg, ErrorCode, EventBody, Scope, Seq, ServerMsg};

const GENERAL_SCOPE: Scope = Scope::Channel(GENERAL);

#[tokio::test]
async fn a_message_reaches_every_member_with_the_channel_open() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut clients = Vec::new();
    for name in ["alice", "bob", "李雷"] {
        let cookie = server.sign_up(name).await;
        let mut client = server.connect(&cookie).await;
        client.subscribe(GENERAL_SCOPE, None).await;
        clients.push(client);
    }
    let client_id = clients[0].post(GENERAL, "大家好 hello").await;
    for client in clients.iter_mut() {
        let event = client.next_event().await;
        assert_eq!(event.scope, GENERAL_SCOPE);
        assert_eq!(event.seq, Seq(1));
        let EventBody::Chat(xietong::chat::ChatEvent::MessagePosted { message }) = &event.body
        else {
            panic!("{event:?}")
        };
        assert_eq!(message.body, "大家好 hello");
        assert_eq!(message.author.username, "alice");
    }
    match clients[0].recv_skip_presence().await {
        ServerMsg::Ack {
            client_id: acked,
            output: xietong::CommandOutput::MessagePosted { seq, .. },
            duplicate,
        } => {
            assert_eq!(acked, client_id);
            assert_eq!(seq, Seq(1));
            assert!(!duplicate);
        }
        other => panic!("expected ack, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn the_upgrade_needs_a_session_and_an_allowed_origin() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.allowed_origins = vec!["https://chat.example.com".into()];
    })
    .await;
    let cookie = server.sign_up("alice").await;
    let url = server.ws_url();
    let own = server.origin();
    assert_eq!(handshake_status(&url, None, Some(&own)).await, 401);
    assert_eq!(
        handshake_status(&url, Some("xietong_session=forged"), Some(&own)).await,
        401
    );
    assert_eq!(
        handshake_status(&url, Some(&cookie), Some("https://evil.example")).await,
        403
    );
    assert_eq!(handshake_status(&url, Some(&cookie), None).await, 403);
    assert_eq!(
        handshake_status(&url, Some(&cookie), Some("https://chat.example.com")).await,
        101
    );
    assert_eq!(handshake_status(&url, Some(&cookie), Some(&own)).await, 101);
    server.stop().await;
}

#[tokio::test]
async fn bad_frames_get_an_error_and_the_connection_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    for bad in [
        "not json",
        r#"{"launch_rockets":{}}"#,
        r#"{"command":{"client_id":"abcdefgh","command":{"post_message":{"channel":1}}}}"#,
        r#"{"type":"subscribe","scope":"channel:1"}"#,
    ] {
        client.send_raw(bad).await;
        match client.recv_skip_presence().await {
            ServerMsg::Error {
                code: ErrorCode::BadFrame,
                ..
            } => {}
            other => panic!("expected bad_frame for {bad:?}, got {other:?}"),
        }
    }
    // Refused content: empty and too long, each answered for its client id.
    for body in [
        "   ".to_owned(),
        "长".repeat(xietong::limits::MAX_MESSAGE_CHARS + 1),
    ] {
        let id = client.post(GENERAL, &body).await;
        match client.recv_skip_presence().await {
            ServerMsg::Error {
                code: ErrorCode::Invalid,
                client_id: Some(refused),
                ..
            } => assert_eq!(refused, id),
            other => panic!("expected invalid, got {other:?}"),
        }
    }
    client.send(&ClientMsg::Ping).await;
    assert_eq!(client.recv_skip_presence().await, ServerMsg::Pong);
    // Nothing was stored by any of it.
    let (replayed, head) = client.subscribe(GENERAL_SCOPE, Some(Seq::ZERO)).await;
    assert!(replayed.is_empty());
    assert_eq!(head, Seq::ZERO);
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.max_frame_bytes = 4096).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client
        .send_raw(&format!(
            r#"{{"command":{{"client_id":"abcdefgh","command":{{"post_message":{{"channel":1,"body":"{}"}}}}}}}}"#,
            "x".repeat(5000)
        ))
        .await;
    assert_eq!(client.close_code().await, Some(close::TOO_BIG));
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    a.subscribe(GENERAL_SCOPE, None).await;
    b.subscribe(GENERAL_SCOPE, None).await;
    a.post(GENERAL, "before").await;
    let seen = b.next_event().await.seq;
    drop(b);
    for i in 0..5 {
        a.post(GENERAL, &format!("missed {i}")).await;
    }
    // Wait until all five are stored (A sees its own events).
    let mut last = Seq::ZERO;
    while last < Seq(6) {
        last = a.next_event().await.seq;
    }
    let mut b = server.connect(&bob).await;
    let (replayed, head) = b.subscribe(GENERAL_SCOPE, Some(seen)).await;
    assert_eq!(head, Seq(6));
    let bodies: Vec<&str> = replayed.iter().map(body_of).collect();
    assert_eq!(
        bodies,
        ["missed 0", "missed 1", "missed 2", "missed 3", "missed 4"]
    );
    assert_eq!(
        replayed.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6]
    );
    // And it is live again afterwards, with nothing repeated.
    a.post(GENERAL, "after").await;
    let next = b.next_event().await;
    assert_eq!((next.seq, body_of(&next)), (Seq(7), "after"));
    server.stop().await;
}

#[tokio::test]
async fn a_retried_post_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client.subscribe(GENERAL_SCOPE, None).await;
    let post = post_command(client.next_client_id(), GENERAL, "once");
    client.send(&post).await;
    client.send(&post).await;
    let mut acks = Vec::new();
    let mut events = Vec::new();
    while acks.len() < 2 {
        match client.recv_skip_presence().await {
            ServerMsg::Event(e) => events.push(e),
            other => acks.push(acked_seq(&other).unwrap_or_else(|| panic!("unexpected {other:?}"))),
        }
    }
    assert_eq!(acks, [(Seq(1), false), (Seq(1), true)]);
    assert_eq!(events.len(), 1);
    // A retry on a new connection (the ack was lost with the old one) is recognised too.
    let mut again = server.connect(&cookie).await;
    again.send(&post).await;
    let answer = again.recv_skip_presence().await;
    assert_eq!(acked_seq(&answer), Some((Seq(1), true)), "{answer:?}");
    let (stored, head) = again.subscribe(GENERAL_SCOPE, Some(Seq::ZERO)).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(head, Seq(1));
    server.stop().await;
}

#[tokio::test]
async fn history_survives_a_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client.subscribe(GENERAL_SCOPE, None).await;
    for i in 0..3 {
        client.post(GENERAL, &format!("持久 {i}")).await;
    }
    let mut last = Seq::ZERO;
    while last < Seq(3) {
        last = client.next_event().await.seq;
    }
    drop(client);
    server.stop_keep_data().await;

    let server = TestServer::start(dir.path()).await;
    // The session is in the database too: the same cookie still works.
    let mut client = server.connect(&cookie).await;
    let (events, head) = client.subscribe(GENERAL_SCOPE, Some(Seq::ZERO)).await;
    assert_eq!(head, Seq(3));
    assert_eq!(
        events.iter().map(body_of).collect::<Vec<_>>(),
        ["持久 0", "持久 1", "持久 2"]
    );
    // The channel page is server-rendered with that history.
    let html = http()
        .get(format!("{}/c/1", server.base()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("持久 2"),
        "SSR page lacks the history: {html}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_slow_consumer_is_cut_off_without_slowing_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.outbound_queue = 64;
        // Long enough for carol's close frame to wait for her to read again.
        c.write_timeout_secs = 60;
    })
    .await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let mut publisher = server.connect(&alice).await;
    let mut fast = server.connect(&bob).await;
    let mut slow = server.connect(&carol).await;
    fast.subscribe(GENERAL_SCOPE, None).await;
    slow.subscribe(GENERAL_SCOPE, None).await;
    // Carol stops reading. ~12 KB per message, far more than the socket buffers hold.
    let body = "慢".repeat(4000);
    let total = 992u64; // a multiple of the window
    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while seqs.len() < total as usize {
            seqs.push(fast.next_event().await.seq.0);
        }
        seqs
    });
    // Publish in windows of 16 (waiting for their acks), a pace a reading client keeps up with.
    for _ in 0..total / 16 {
        for _ in 0..16 {
            publisher.post(GENERAL, &body).await;
        }
        let mut acked = 0;
        while acked < 16 {
            if let ServerMsg::Ack { .. } = publisher.recv_skip_presence().await {
                acked += 1;
            }
        }
    }
    let seqs = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("fast reader done")
        .unwrap();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "the fast client got every message, in order"
    );
    // Carol was cut off: her stream ends before all the messages.
    let mut received = 0u64;
    let mut code = None;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(10), slow.ws.next()).await
    {
        match frame {
            Ok(tokio_tungstenite::tungstenite::Message::Text(t))
                if t.as_str().starts_with("{\"event\":") =>
            {
                received += 1
            }
            Ok(tokio_tungstenite::tungstenite::Message::Close(f)) => {
                code = f.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(
        received < total,
        "slow client should have been cut off, got {received}"
    );
    assert_eq!(code, Some(close::TOO_SLOW));
    // And she recovers by resuming.
    let mut slow = server.connect(&carol).await;
    let mut resumed = Vec::new();
    let mut position = Seq(received);
    while position < Seq(total) {
        let (events, head) = slow.subscribe(GENERAL_SCOPE, Some(position)).await;
        resumed.extend(events.iter().map(|e| e.seq.0));
        position = head;
    }
    assert_eq!(resumed, (received + 1..=total).collect::<Vec<_>>());
    server.stop().await;
}

#[tokio::test]
async fn an_idle_connection_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.idle_timeout_secs = 1).await;
    let cookie = server.sign_up("alice").await;
    let url = server.ws_url();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            url.as_str(),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", server.origin().parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // Not reading means not answering pings: after the timeout the server closes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut code = None;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Close(f) = frame {
            code = f.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(code, Some(close::IDLE_TIMEOUT));
    server.stop().await;
}

#[tokio::test]
async fn presence_counts_a_user_once_across_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut watcher = server.connect(&alice).await;
    let mut online = std::collections::BTreeMap::new();
    async fn until(
        client: &mut Client,
        online: &mut std::collections::BTreeMap<xietong::UserId, String>,
        want: &[&str],
    ) {
        while names(online) != want {
            let msg = client.recv().await;
            apply_presence(online, &msg);
        }
    }
    until(&mut watcher, &mut online, &["alice"]).await;
    let tab1 = server.connect(&bob).await;
    until(&mut watcher, &mut online, &["alice", "bob"]).await;
    let tab2 = server.connect(&bob).await;
    drop(tab1);
    // Still bob, once, while a tab is open: no presence frame in the next second may say
    // otherwise (presence changes are sent at most every 250 ms).
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(1);
    while let Ok(msg) = tokio::time::timeout_at(quiet_until, watcher.recv()).await {
        if apply_presence(&mut online, &msg) {
            assert_eq!(
                names(&online),
                ["alice", "bob"],
                "bob left while a tab was open: {msg:?}"
            );
        }
    }
    drop(tab2);
    // The change comes as a diff, not the whole list again.
    let change = loop {
        let msg = watcher.recv().await;
        if matches!(
            msg,
            ServerMsg::PresenceChanged { .. } | ServerMsg::Presence { .. }
        ) {
            break msg;
        }
    };
    assert!(
        matches!(&change, ServerMsg::PresenceChanged { joined, left } if joined.is_empty() && left.len() == 1),
        "{change:?}"
    );
    apply_presence(&mut online, &change);
    assert_eq!(names(&online), ["alice"]);
    server.stop().await;
}

/// Typing notices reach the scope's other subscribers, are never stored, and only flow in
/// scopes the sender reads.
#[tokio::test]
async fn typing_is_relayed_to_subscribers_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut typist = server.connect(&alice).await;
    let mut reader = server.connect(&bob).await;
    let mut bystander = server.connect(&bob).await;
    typist.subscribe(GENERAL_SCOPE, None).await;
    reader.subscribe(GENERAL_SCOPE, None).await;
    // Not subscribed: refused silently, nothing relayed.
    typist
        .send(&ClientMsg::Typing {
            scope: Scope::Workspace,
        })
        .await;
    typist
        .send(&ClientMsg::Typing {
            scope: GENERAL_SCOPE,
        })
        .await;
    match reader.recv_skip_presence().await {
        ServerMsg::Typing { scope, user } => {
            assert_eq!((scope, user.username.as_str()), (GENERAL_SCOPE, "alice"));
        }
        other => panic!("expected typing, got {other:?}"),
    }
    // A burst is cut to a few per second.
    for _ in 0..20 {
        typist
            .send(&ClientMsg::Typing {
                scope: GENERAL_SCOPE,
            })
            .await;
    }
    typist.send(&ClientMsg::Ping).await;
    assert_eq!(
        typist.recv_skip_presence().await,
        ServerMsg::Pong,
        "not echoed to the typist"
    );
    reader.send(&ClientMsg::Ping).await;
    let mut relayed = 0;
    loop {
        match reader.recv_skip_presence().await {
            ServerMsg::Typing { .. } => relayed += 1,
            ServerMsg::Pong => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(
        relayed <= 3,
        "{relayed} typing notices relayed from a burst of 20"
    );
    bystander.send(&ClientMsg::Ping).await;
    assert_eq!(bystander.recv_skip_presence().await, ServerMsg::Pong);
    let (stored, head) = reader.subscribe(GENERAL_SCOPE, Some(Seq::ZERO)).await;
    assert_eq!((stored.len(), head), (0, Seq::ZERO));
    server.stop().await;
}

#[tokio::test]
async fn login_checks_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.sign_up("alice").await;
    assert!(server.log_in("alice", PASSWORD).await.is_some());
    assert!(
        server.log_in("ALICE", PASSWORD).await.is_some(),
        "usernames are case-insensitive"
    );
    assert!(server.log_in("alice", "wrong password").await.is_none());
    assert!(server.log_in("nobody", PASSWORD).await.is_none());
    // Guessing is throttled per account and address: after ten failures from here even the
    // right password waits...
    for _ in 0..9 {
        assert!(server.log_in("alice", "guess").await.is_none());
    }
    assert!(
        server.log_in("alice", PASSWORD).await.is_none(),
        "throttled"
    );
    // ...but the guesser has not locked alice out: from her own address she logs in.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = elsewhere
        .post(format!("{}/api/login", server.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().get("set-cookie").is_some(),
        "alice from 127.0.0.2: {}",
        response.status()
    );
    // Signed-out visitors of a page land on the login page.
    let response = http()
        .get(format!("{}/c/1", server.base()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/login");
    server.stop().await;
}

#[tokio::test]
async fn one_clients_pipelined_posts_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client.subscribe(GENERAL_SCOPE, None).await;
    for i in 0..60 {
        client.post(GENERAL, &format!("m{i}")).await;
    }
    let mut bodies = Vec::new();
    while bodies.len() < 60 {
        bodies.push(body_of(&client.next_event().await).to_owned());
    }
    assert_eq!(bodies, (0..60).map(|i| format!("m{i}")).collect::<Vec<_>>());
    server.stop().await;
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_with_4001() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let other_session = server.log_in("alice", PASSWORD).await.unwrap();
    let mut tab = server.connect(&cookie).await;
    let mut other = server.connect(&other_session).await;
    let response = http()
        .post(format!("{}/api/logout", server.base()))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection() || response.status().is_success(),
        "{}",
        response.status()
    );
    assert_eq!(tab.close_code().await, Some(close::SESSION_ENDED));
    // The session is gone for good; the other session is untouched.
    assert_eq!(
        handshake_status(&server.ws_url(), Some(&cookie), Some(&server.origin())).await,
        401
    );
    other.send(&ClientMsg::Ping).await;
    assert_eq!(other.recv_skip_presence().await, ServerMsg::Pong);
    server.stop().await;
}

/// Deactivating a person closes every socket of theirs (4001) and refuses their session and
/// their password from then on; reactivated, they log in again.
#[tokio::test]
async fn deactivating_a_person_closes_their_sockets_and_refuses_their_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await; // the first account: admin
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut admin_tab = server.connect(&admin).await;
    let mut bob_tab = server.connect(&bob).await;
    let mut bob_other_tab = server.connect(&bob).await;
    let deactivate = |active| {
        xietong::Command::SetPersonActive(xietong::org::SetPersonActive {
            person: bob_id,
            active,
        })
    };
    // Not by bob himself, nor by anyone who is not an admin.
    let id = bob_tab.command(deactivate(false)).await;
    assert!(bob_tab.answer(&id).await.is_err());
    let id = admin_tab.command(deactivate(false)).await;
    admin_tab.answer(&id).await.expect("deactivated");
    assert_eq!(bob_tab.close_code().await, Some(close::SESSION_ENDED));
    assert_eq!(bob_other_tab.close_code().await, Some(close::SESSION_ENDED));
    assert_eq!(
        server.server_fn(&bob, "whoami", "").await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        handshake_status(&server.ws_url(), Some(&bob), Some(&server.origin())).await,
        401
    );
    assert!(server.log_in("bob", PASSWORD).await.is_none());
    let id = admin_tab.command(deactivate(true)).await;
    admin_tab.answer(&id).await.expect("reactivated");
    assert!(server.log_in("bob", PASSWORD).await.is_some());
    server.stop().await;
}

/// An admin's password reset: a new random password, every session of the person ended (their
/// sockets close with 4001), the old password refused; refused to anyone but an admin.
#[tokio::test]
async fn an_admin_resets_a_password_and_every_session_of_the_person_ends() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await; // the first account: admin
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut bob_tab = server.connect(&bob).await;
    let reset = |cookie: String| {
        let url = format!("{}/api/reset_password", server.base());
        let origin = server.origin();
        async move {
            http()
                .post(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .json(&serde_json::json!({ "user": bob_id }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        reset(bob.clone()).await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    let response = reset(admin.clone()).await;
    assert!(response.status().is_success(), "{}", response.status());
    let password: String = response.json().await.unwrap();
    assert_eq!(password.chars().count(), 12);
    assert_eq!(bob_tab.close_code().await, Some(close::SESSION_ENDED));
    assert_eq!(
        server.server_fn(&bob, "whoami", "").await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert!(server.log_in("bob", PASSWORD).await.is_none());
    assert!(server.log_in("bob", &password).await.is_some());
    server.stop().await;
}

/// The address book as CSV and vCard: for a signed-in user only, everyone active, a hidden
/// mobile number left out.
#[tokio::test]
async fn the_address_book_exports_as_csv_and_vcard() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await; // the first account: admin
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut admin_tab = server.connect(&admin).await;
    for (person, name, mobile) in [
        (bob_id, "鲍勃, Jr.", "138 0013 8000"),
        (carol_id, "卡罗尔", "139 0000 1111"),
    ] {
        let id = admin_tab
            .command(xietong::Command::UpdatePerson(xietong::org::UpdatePerson {
                person,
                full_name: name.into(),
                title: "工程师".into(),
                mobile: Some(mobile.into()),
                email: Some(format!("{person}@example.com")),
                main_department: None,
                other_departments: vec![],
                roles: vec![],
            }))
            .await;
        admin_tab.answer(&id).await.expect("updated");
    }
    // Carol hides her number.
    let mut carol_tab = server.connect(&carol).await;
    let id = carol_tab
        .command(xietong::Command::UpdateSettings(
            xietong::settings::UpdateSettings {
                settings: xietong::settings::UserSettings {
                    hide_mobile: true,
                    ..Default::default()
                },
            },
        ))
        .await;
    carol_tab.answer(&id).await.expect("saved");
    let get = |path: &'static str, cookie: Option<String>| {
        let url = format!("{}{path}", server.base());
        async move {
            let mut request = http().get(url);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            request.send().await.unwrap()
        }
    };
    // Without a session: sent to the log-in page, like every page (the client follows no
    // redirects here).
    let anonymous = get("/contacts/export/csv", None).await;
    assert_eq!(anonymous.status(), 303);
    assert!(anonymous.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let csv = get("/contacts/export/csv", Some(bob.clone())).await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("\u{FEFF}name,username,department,title,mobile,email"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\"鲍勃, Jr.\",bob,,工程师,138 0013 8000,{bob_id}@example.com"
        )),
        "{text}"
    );
    assert!(text.contains("卡罗尔,carol,,工程师,,"), "{text}");
    assert!(!text.contains("139 0000 1111"), "{text}");
    let vcf = get("/contacts/export/vcard", Some(bob.clone()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        vcf.contains("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:鲍勃\\, Jr.\r\n"),
        "{vcf}"
    );
    assert!(vcf.contains("TEL;TYPE=CELL:138 0013 8000\r\n"), "{vcf}");
    assert!(!vcf.contains("139 0000 1111"), "{vcf}");
    assert_eq!(get("/contacts/export/pdf", Some(bob)).await.status(), 404);
    server.stop().await;
}

/// What PROTOCOL.md promises about subscriptions, each tried.
#[tokio::test]
async fn subscriptions_keep_the_documented_promises() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    // not_found: a channel that does not exist.
    client
        .send(&ClientMsg::Subscribe {
            scope: Scope::Channel(xietong::ChannelId(999)),
            after: None,
        })
        .await;
    match client.recv_skip_presence().await {
        ServerMsg::Error {
            code: ErrorCode::NotFound,
            ..
        } => {}
        other => panic!("expected not_found, got {other:?}"),
    }
    // unsubscribe: nothing more arrives for the scope.
    client.subscribe(GENERAL_SCOPE, None).await;
    client
        .send(&ClientMsg::Unsubscribe {
            scope: GENERAL_SCOPE,
        })
        .await;
    let mut other = server.connect(&cookie).await;
    let id = other.post(GENERAL, "after unsubscribe").await;
    other.answer(&id).await.unwrap();
    client.send(&ClientMsg::Ping).await;
    assert_eq!(client.recv_skip_presence().await, ServerMsg::Pong);
    // resync: more than 1000 events behind.
    let mut last = None;
    for i in 0..1001 {
        last = Some(other.post(GENERAL, &format!("m{i}")).await);
    }
    other.answer(&last.unwrap()).await.unwrap();
    client
        .send(&ClientMsg::Subscribe {
            scope: GENERAL_SCOPE,
            after: Some(Seq::ZERO),
        })
        .await;
    match client.recv_skip_presence().await {
        ServerMsg::Resync { scope, head } => {
            assert_eq!((scope, head), (GENERAL_SCOPE, Seq(1002)));
        }
        other => panic!("expected resync, got {other:?}"),
    }
    // 1001 behind is too far; 1000 is replayed.
    let (replayed, head) = client.subscribe(GENERAL_SCOPE, Some(Seq(2))).await;
    assert_eq!((replayed.len(), head), (1000, Seq(1002)));
    server.stop().await;
}

#[tokio::test]
async fn a_connection_holds_at_most_256_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    let mut last = None;
    for i in 0..xietong::limits::MAX_SUBSCRIPTIONS {
        last = Some(
            client
                .command(xietong::Command::CreateChannel(
                    xietong::chat::CreateChannel {
                        name: format!("c{i}"),
                        kind: xietong::ChannelKind::Public,
                        members: vec![],
                    },
                ))
                .await,
        );
    }
    client.answer(&last.unwrap()).await.unwrap();
    // general plus 256 new channels: 257 scopes; the last one is refused.
    for id in 1..=xietong::limits::MAX_SUBSCRIPTIONS as i64 {
        client
            .subscribe(Scope::Channel(xietong::ChannelId(id)), None)
            .await;
    }
    client
        .send(&ClientMsg::Subscribe {
            scope: Scope::Channel(xietong::ChannelId(257)),
            after: None,
        })
        .await;
    match client.recv_skip_presence().await {
        ServerMsg::Error {
            code: ErrorCode::RateLimited,
            message,
            ..
        } => assert!(message.contains("256"), "{message}"),
        other => panic!("expected the cap, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn shutting_down_closes_sockets_with_1001() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(client.close_code().await, Some(close::GOING_AWAY));
    stopping.await.unwrap();
}

/// The channel page renders on the server every time while several loads run at once on a
/// runtime with several worker threads (as in production). Each `Suspense` body renders as a
/// task of its own there: the sidebar's wrote the workspace view while the messages' read it
/// on another thread, and that read panicked (1 of 200 first-screen loads in the benchmark).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_page_renders_every_time_under_concurrent_loads() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client.subscribe(GENERAL_SCOPE, None).await;
    for i in 0..20 {
        client.post(GENERAL, &format!("并发 {i}")).await;
    }
    // Committed once each has come back as an event.
    for _ in 0..20 {
        client.next_event().await;
    }
    let url = format!("{}/c/1", server.base());
    let loads = (0..4).map(|worker| {
        let (url, cookie) = (url.clone(), cookie.clone());
        tokio::spawn(async move {
            for i in 0..50 {
                let request = format!("load {i} of worker {worker}");
                let response = http()
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{request}: {e}"));
                assert_eq!(response.status(), 200, "{request}");
                let body = response
                    .text()
                    .await
                    .unwrap_or_else(|e| panic!("{request}: {e}"));
                assert!(body.contains("</html>"), "{request} was cut short");
                assert!(body.contains("并发 19"), "{request} lacks the history");
            }
        })
    });
    for load in loads.collect::<Vec<_>>() {
        load.await.unwrap();
    }
    server.stop().await;
}

/// Leptos's route-list generation sets a process-wide flag that parks every resource first
/// polled while it runs, for good. A server starting beside a running one (tests do this; so
/// would anything embedding two) must not strand the other's page renders: once, in CI, a render
/// of /c/1 waited out the 30 s response deadline this way.
#[tokio::test]
async fn a_page_renders_while_another_server_starts_in_the_same_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let cookie = server.sign_up("alice").await;
    let mut client = server.connect(&cookie).await;
    client.subscribe(GENERAL_SCOPE, None).await;
    client.post(GENERAL, "still here").await;
    client.next_event().await;

    // Other servers start and stop, one after another, on a runtime of their own.
    let starting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let starter = std::thread::spawn({
        let starting = starting.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for _ in 0..12 {
                    let dir = tempfile::tempdir().unwrap();
                    TestServer::start(dir.path()).await.stop().await;
                }
            });
            starting.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    });
    // Loads on four connections at once, for as long as servers are starting.
    let url = format!("{}/c/1", server.base());
    let loaders = (0..4).map(|worker| {
        let (url, cookie, starting) = (url.clone(), cookie.clone(), starting.clone());
        tokio::spawn(async move {
            let mut loads = 0;
            while starting.load(std::sync::atomic::Ordering::SeqCst) || loads < 5 {
                loads += 1;
                let request = format!("load {loads} of worker {worker}");
                let response = tokio::time::timeout(
                    Duration::from_secs(10),
                    http().get(&url).header("cookie", &cookie).send(),
                )
                .await
                .unwrap_or_else(|_| panic!("{request} stalled while another server started"))
                .unwrap();
                assert_eq!(response.status(), 200, "{request}");
                let body = response.text().await.unwrap();
                assert!(body.contains("still here"), "{request} lacks the history");
            }
        })
    });
    for loader in loaders.collect::<Vec<_>>() {
        loader.await.unwrap();
    }
    starter.join().unwrap();
    server.stop().await;
}
