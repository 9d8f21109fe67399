//! Scopes as the unit of access, through real sockets and server functions.

mod common;

use common::*;
use xietong::chat::{CreateChannel, RemoveMember};
use xietong::{
    ChannelKind, ClientMsg, Command, CommandOutput, ErrorCode, EventBody, Scope, Seq, ServerMsg,
    UserId,
};

async fn join(server: &TestServer, name: &str) -> (String, Client, UserId) {
    let cookie = server.sign_up(name).await;
    let mut client = server.connect(&cookie).await;
    let me = server.whoami(&cookie).await.id;
    client.subscribe(Scope::User(me), None).await;
    (cookie, client, me)
}

async fn subscribe_error(client: &mut Client, scope: Scope) -> ErrorCode {
    client
        .send(&ClientMsg::Subscribe { scope, after: None })
        .await;
    loop {
        match client.recv_skip_presence().await {
            ServerMsg::Error { code, .. } => return code,
            ServerMsg::Subscribed { .. } => panic!("subscribed to {scope}"),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn a_private_channel_is_announced_to_and_readable_by_its_members_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (_, mut alice, _) = join(&server, "alice").await;
    let (_, mut bob, bob_id) = join(&server, "bob").await;
    let (carol_cookie, mut carol, carol_id) = join(&server, "carol").await;
    carol.subscribe(Scope::Workspace, None).await;

    let id = alice
        .command(Command::CreateChannel(CreateChannel {
            name: "secret".into(),
            kind: ChannelKind::Private,
            members: vec![bob_id],
        }))
        .await;
    let channel = match alice.answer(&id).await {
        Ok((CommandOutput::ChannelCreated { channel }, false)) => channel,
        other => panic!("{other:?}"),
    };
    // Bob hears of it in his own scope (the envelope names the actor and client id).
    let added = bob.next_event().await;
    assert_eq!(added.scope, Scope::User(bob_id));
    assert!(
        matches!(&added.body, EventBody::Chat(xietong::chat::ChatEvent::ChannelAdded { channel: c }) if c.id == channel.id)
    );
    assert_eq!(added.client_id, Some(id));
    let scope = Scope::Channel(channel.id);
    // Carol: not by socket, not by another user's scope, not by history, not by posting.
    assert_eq!(
        subscribe_error(&mut carol, scope).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        subscribe_error(&mut carol, Scope::User(bob_id)).await,
        ErrorCode::Forbidden
    );
    let history = server
        .server_fn(&carol_cookie, "history", &format!("channel={}", channel.id))
        .await;
    assert_eq!(history.status(), 403);
    let posted = carol.post(channel.id, "let me in").await;
    assert_eq!(carol.answer(&posted).await, Err(ErrorCode::Forbidden));
    // Nothing about it reached the workspace scope or carol's own.
    carol.send(&ClientMsg::Ping).await;
    loop {
        match carol.recv_skip_presence().await {
            ServerMsg::Pong => break,
            ServerMsg::Event(e) => panic!("carol saw {e:?}"),
            _ => continue,
        }
    }
    let (mine, _) = carol
        .subscribe(Scope::User(carol_id), Some(Seq::ZERO))
        .await;
    assert!(mine.is_empty(), "{mine:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (_, mut alice, _) = join(&server, "alice").await;
    let (_, mut bob, bob_id) = join(&server, "bob").await;
    let id = alice
        .command(Command::CreateChannel(CreateChannel {
            name: "team".into(),
            kind: ChannelKind::Private,
            members: vec![bob_id],
        }))
        .await;
    let Ok((CommandOutput::ChannelCreated { channel }, _)) = alice.answer(&id).await else {
        panic!()
    };
    let scope = Scope::Channel(channel.id);
    bob.next_event().await; // channel_added
    bob.subscribe(scope, None).await;
    alice.subscribe(scope, None).await;
    let first = alice.post(channel.id, "before").await;
    alice.answer(&first).await.unwrap();
    assert_eq!(body_of(&bob.next_event_in(scope).await), "before");

    let removal = alice
        .command(Command::RemoveMember(RemoveMember {
            channel: channel.id,
            user: bob_id,
        }))
        .await;
    alice.answer(&removal).await.unwrap();
    let after = alice.post(channel.id, "after").await;
    alice.answer(&after).await.unwrap();
    // Bob sees his removal (channel scope, then his own), then the end of the subscription,
    // and never "after".
    let mut saw_unsubscribed = false;
    bob.send(&ClientMsg::Ping).await;
    loop {
        match bob.recv_skip_presence().await {
            ServerMsg::Event(e) => {
                assert!(
                    !matches!(
                        &e.body,
                        EventBody::Chat(xietong::chat::ChatEvent::MessagePosted { .. })
                    ),
                    "bob got {e:?}"
                );
            }
            ServerMsg::Unsubscribed { scope: s, .. } => {
                assert_eq!(s, scope);
                saw_unsubscribed = true;
            }
            ServerMsg::Pong if saw_unsubscribed => break,
            ServerMsg::Pong => bob.send(&ClientMsg::Ping).await,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(subscribe_error(&mut bob, scope).await, ErrorCode::Forbidden);
    server.stop().await;
}

/// The server function and the socket are one command path: a retry through the other is
/// recognised as the same command.
#[tokio::test]
async fn a_command_over_http_and_its_retry_over_the_socket_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (cookie, mut alice, _) = join(&server, "alice").await;
    let client_id = xietong::ClientMsgId("http-retry-0001".into());
    let command = Command::PostMessage(xietong::chat::PostMessage {
        channel: GENERAL,
        body: "once".into(),
        thread: None,
        attachments: Vec::new(),
    });
    let body = serde_json::json!({ "client_id": client_id, "command": command });
    let response = http()
        .post(format!("{}/api/command", server.base()))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let output: CommandOutput = response.json().await.unwrap();
    assert!(matches!(
        output,
        CommandOutput::MessagePosted { seq: Seq(1), .. }
    ));
    alice
        .send(&ClientMsg::Command {
            client_id: client_id.clone(),
            command,
        })
        .await;
    assert_eq!(alice.answer(&client_id).await, Ok((output, true)));
    let (events, head) = alice
        .subscribe(Scope::Channel(GENERAL), Some(Seq::ZERO))
        .await;
    assert_eq!((events.len(), head), (1, Seq(1)));
    server.stop().await;
}

/// Someone who may not read a channel learns nothing from it, not even who is typing, however
/// often they try to subscribe.
#[tokio::test]
async fn non_members_do_not_see_typing_in_a_private_channel() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (_, mut alice, _) = join(&server, "alice").await;
    let (_, mut carol, _) = join(&server, "carol").await;
    let id = alice
        .command(Command::CreateChannel(CreateChannel {
            name: "hush".into(),
            kind: ChannelKind::Private,
            members: vec![],
        }))
        .await;
    let Ok((CommandOutput::ChannelCreated { channel }, _)) = alice.answer(&id).await else {
        panic!()
    };
    let scope = Scope::Channel(channel.id);
    alice.subscribe(scope, None).await;
    for _ in 0..5 {
        carol
            .send(&ClientMsg::Subscribe { scope, after: None })
            .await;
        alice.send(&ClientMsg::Typing { scope }).await;
    }
    carol.send(&ClientMsg::Ping).await;
    loop {
        match carol.recv_skip_presence().await {
            ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::Forbidden),
            ServerMsg::Pong => break,
            other => panic!("carol received {other:?}"),
        }
    }
    server.stop().await;
}

/// Creating a channel tells nobody about private channels they are not in: a private channel's
/// name is free for others (private or public); names they can see stay taken.
#[tokio::test]
async fn a_name_conflict_reveals_no_private_channel() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (_, mut alice, _) = join(&server, "alice").await;
    let (_, mut bob, _) = join(&server, "bob").await;
    let (_, mut carol, _) = join(&server, "carol").await;
    async fn create(client: &mut Client, name: &str, kind: ChannelKind) -> Result<(), ErrorCode> {
        let id = client
            .command(Command::CreateChannel(CreateChannel {
                name: name.into(),
                kind,
                members: vec![],
            }))
            .await;
        client.answer(&id).await.map(|_| ())
    }
    create(&mut alice, "薪酬", ChannelKind::Private)
        .await
        .unwrap();
    // Others cannot tell it exists: the same name is theirs to use, private or public.
    create(&mut bob, "薪酬", ChannelKind::Private)
        .await
        .unwrap();
    create(&mut carol, "薪酬", ChannelKind::Public)
        .await
        .unwrap();
    // What one can see is taken: the public channel for everyone, one's own private one.
    assert_eq!(
        create(&mut alice, "薪酬", ChannelKind::Public).await,
        Err(ErrorCode::Conflict)
    );
    assert_eq!(
        create(&mut bob, "薪酬", ChannelKind::Private).await,
        Err(ErrorCode::Conflict)
    );
    create(&mut alice, "Budget", ChannelKind::Public)
        .await
        .unwrap();
    assert_eq!(
        create(&mut bob, "budget", ChannelKind::Private).await,
        Err(ErrorCode::Conflict)
    );
}
