//! Store tests on a temporary SQLite file.

use super::*;

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/test.db").display());
    let store = Store::open(&url, Some(&dir.path().join("data")))
        .await
        .unwrap();
    (store, dir)
}

fn post(channel: ChannelId, author: &CurrentUser, body: &str, client_id: &str) -> Append {
    Append::PostMessage {
        channel,
        author: author.user_ref(),
        body: body.into(),
        client_id: ClientMsgId(client_id.into()),
    }
}

async fn one(store: &Store, append: Append) -> Result<Committed, StoreError> {
    store.commit(&[append]).await.unwrap().pop().unwrap()
}

#[tokio::test]
async fn the_first_account_is_admin_and_usernames_are_unique() {
    let (store, _dir) = store().await;
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

#[tokio::test]
async fn sessions_resolve_until_deleted_or_expired() {
    let (store, _dir) = store().await;
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

#[tokio::test]
async fn sequence_numbers_are_gapless_per_scope_and_retries_are_stored_once() {
    let (store, _dir) = store().await;
    let user = store.create_user("alice", "h").await.unwrap();
    let general = match one(
        &store,
        Append::CreateChannel {
            name: "general".into(),
            creator: None,
        },
    )
    .await
    .unwrap()
    .event
    .body
    {
        EventBody::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    };
    let other = match one(
        &store,
        Append::CreateChannel {
            name: "产品".into(),
            creator: Some(user.id),
        },
    )
    .await
    .unwrap()
    .event
    .body
    {
        EventBody::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        one(
            &store,
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

#[tokio::test]
async fn history_pages_walk_back_in_order() {
    let (store, _dir) = store().await;
    let user = store.create_user("alice", "h").await.unwrap();
    one(
        &store,
        Append::CreateChannel {
            name: "general".into(),
            creator: None,
        },
    )
    .await
    .unwrap();
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
