//! 新闻 through the real server: a column an admin sets up with editors and an audience; a
//! story with a cover and an attachment published to it, read, viewed, liked and commented
//! on live; moderation by the column's editor; sharing into a channel as a card (only where
//! everyone may read it); scheduled publishing; withdrawal; and an audience narrowed while
//! someone follows the column.

mod common;

use std::time::{Duration, Instant};

use common::*;
use xietong::chat::Card;
use xietong::news::*;
use xietong::notify::Module;
use xietong::org::AudienceMember;
use xietong::{
    ClientMsg, Command, CommandOutput, ErrorCode, EventBody, NewsColumnId, Scope, ServerMsg,
    StoryId,
};

async fn board(server: &TestServer, cookie: &str) -> NewsBoard {
    let response = server.server_fn(cookie, "news", "").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn comments(server: &TestServer, cookie: &str, story: StoryId) -> reqwest::Response {
    server
        .server_fn(cookie, "story_comments", &format!("story={}", story.0))
        .await
}

fn story_of(out: CommandOutput) -> (StoryId, StoryStatus) {
    match out {
        CommandOutput::StoryChanged { story, status } => (story, status),
        other => panic!("{other:?}"),
    }
}

fn fields(column: NewsColumnId, title: &str) -> StoryFields {
    StoryFields {
        column,
        title: title.into(),
        summary: "一句话摘要".into(),
        body: "**正文**第一段。\n\n<script>alert(1)</script>".into(),
        publish_at: None,
        pinned: false,
    }
}

#[tokio::test]
async fn a_story_is_published_read_liked_commented_moderated_shared_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // the first person: an admin
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let dave = server.sign_up("dave").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    let mut d = server.connect(&dave).await;

    // Only an admin sets up columns.
    let column = SaveNewsColumn {
        column: None,
        name: "行业动态 Industry".into(),
        editors: vec![bob_id],
        audience: vec![AudienceMember::Person(carol_id)],
    };
    assert_eq!(
        refused(&mut b, Command::SaveNewsColumn(column.clone())).await,
        ErrorCode::Forbidden
    );
    let CommandOutput::NewsColumnSaved { column: industry } =
        run(&mut a, Command::SaveNewsColumn(column.clone())).await
    else {
        panic!("no column")
    };
    let rights = |board: &NewsBoard| board.rights(industry);
    assert_eq!(
        rights(&board(&server, &bob).await),
        ColumnRights {
            read: true,
            edit: true
        }
    );
    assert_eq!(
        rights(&board(&server, &carol).await),
        ColumnRights {
            read: true,
            edit: false
        }
    );
    assert_eq!(
        rights(&board(&server, &dave).await),
        ColumnRights {
            read: false,
            edit: false
        }
    );

    // Carol follows the column (on a second tab, which only watches); Dave may not.
    let mut watch = server.connect(&carol).await;
    watch.subscribe(Scope::News(industry), None).await;
    d.send(&ClientMsg::Subscribe {
        scope: Scope::News(industry),
        after: None,
    })
    .await;
    match d.recv_skip_presence().await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("dave subscribed: {other:?}"),
    }

    // Carol may not write; Bob writes a draft with a cover and an attachment.
    assert_eq!(
        refused(
            &mut c,
            Command::SaveStory(SaveStory {
                story: None,
                fields: fields(industry, "x"),
                cover: None,
                remove_cover: false,
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    let not_an_image = uploaded(&server, &bob, "notes.txt", b"plain words").await;
    assert_eq!(
        refused(
            &mut b,
            Command::SaveStory(SaveStory {
                story: None,
                fields: fields(industry, "x"),
                cover: Some(not_an_image),
                remove_cover: false,
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            })
        )
        .await,
        ErrorCode::Invalid
    );
    let cover = uploaded(&server, &bob, "cover.png", &png(64, 40)).await;
    let report = uploaded(&server, &bob, "report.txt", b"quarterly figures").await;
    let (story, status) = story_of(
        run(
            &mut b,
            Command::SaveStory(SaveStory {
                story: None,
                fields: fields(industry, "新能源汽车销量创新高"),
                cover: Some(cover),
                remove_cover: false,
                attachments: vec![report],
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    assert_eq!(status, StoryStatus::Draft);
    // A draft is its editors' alone.
    assert!(board(&server, &carol).await.stories.is_empty());
    assert_eq!(
        refused(&mut c, Command::ViewStory(ViewStory { story })).await,
        ErrorCode::NotFound
    );
    let draft = board(&server, &bob)
        .await
        .stories
        .into_iter()
        .find(|s| s.id == story)
        .unwrap();
    let cover_file = draft.cover.clone().expect("a cover").id;
    assert_eq!(draft.attachments.len(), 1);
    assert_eq!(download_status(&server, &carol, cover_file).await, 404);

    // Published: Carol has it live, sanitised; the files open for her and not for Dave.
    let (_, status) = story_of(run(&mut b, Command::PublishStory(PublishStory { story })).await);
    assert_eq!(status, StoryStatus::Published);
    let seen = wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StorySaved { story }) => Some(story.clone()),
        _ => None,
    })
    .await;
    assert_eq!(seen.fields.title, "新能源汽车销量创新高");
    assert!(seen.html.contains("<strong>正文</strong>"), "{}", seen.html);
    assert!(!seen.html.contains("<script"), "{}", seen.html);
    assert_eq!(download_status(&server, &carol, cover_file).await, 200);
    assert_eq!(
        download_status(&server, &carol, draft.attachments[0].id).await,
        200
    );
    assert_eq!(download_status(&server, &dave, cover_file).await, 404);
    assert!(board(&server, &dave).await.stories.is_empty());
    assert_eq!(
        refused(&mut d, Command::LikeStory(LikeStory { story, like: true })).await,
        ErrorCode::NotFound
    );

    // Views count each person once; likes are live.
    run(&mut c, Command::ViewStory(ViewStory { story })).await;
    run(&mut c, Command::ViewStory(ViewStory { story })).await;
    run(&mut b, Command::ViewStory(ViewStory { story })).await;
    run(&mut c, Command::LikeStory(LikeStory { story, like: true })).await;
    let likes = wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StoryLiked {
            likes,
            by,
            liked: true,
            ..
        }) if *by == carol_id => Some(*likes),
        _ => None,
    })
    .await;
    assert_eq!(likes, 1);
    let mine = board(&server, &carol)
        .await
        .stories
        .into_iter()
        .find(|s| s.id == story)
        .unwrap();
    assert_eq!((mine.views, mine.likes, mine.liked), (2, 1, true));

    // A comment reaches the column live and notifies the author.
    b.subscribe(Scope::User(bob_id), None).await;
    let CommandOutput::StoryCommentChanged { comment } = run(
        &mut c,
        Command::CommentOnStory(CommentOnStory {
            story,
            text: "恭喜！<img src=x onerror=alert(1)>".into(),
        }),
    )
    .await
    else {
        panic!("no comment")
    };
    let (said, count) = wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StoryCommented { comment, comments }) => {
            Some((comment.clone(), *comments))
        }
        _ => None,
    })
    .await;
    assert_eq!((said.id, count), (comment, 1));
    assert!(!said.html.contains("<img"), "{}", said.html);
    let note = wait_event(&mut b, Scope::User(bob_id), |e| match e {
        EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => Some(note.clone()),
        _ => None,
    })
    .await;
    assert_eq!((note.module, note.item), (Module::News, story.0));
    assert_eq!(
        refused(
            &mut c,
            Command::CommentOnStory(CommentOnStory {
                story,
                text: "  ".into()
            })
        )
        .await,
        ErrorCode::Invalid
    );

    // Only the column's editor (or an admin) hides it; Carol sees it go, live and after.
    assert_eq!(
        refused(
            &mut c,
            Command::HideStoryComment(HideStoryComment {
                comment,
                hidden: true
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    run(
        &mut b,
        Command::HideStoryComment(HideStoryComment {
            comment,
            hidden: true,
        }),
    )
    .await;
    let count = wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StoryCommentHidden {
            comment: hidden,
            comments,
            ..
        }) if *hidden == comment => Some(*comments),
        _ => None,
    })
    .await;
    assert_eq!(count, 0);
    let readers: StoryComments = comments(&server, &carol, story).await.json().await.unwrap();
    assert!(readers.comments.is_empty() && !readers.moderator);
    let moderators: StoryComments = comments(&server, &bob, story).await.json().await.unwrap();
    assert!(
        moderators.moderator && moderators.comments.len() == 1 && moderators.comments[0].hidden
    );
    assert_eq!(comments(&server, &dave, story).await.status(), 404);

    // A card never shows a story to people who may not read it: not in the public channel
    // while the column is Carol's alone; once it is everyone's, it is.
    let share = ShareStory {
        story,
        channel: GENERAL,
        text: "看看这个".into(),
    };
    assert_eq!(
        refused(&mut c, Command::ShareStory(share.clone())).await,
        ErrorCode::Forbidden
    );
    run(
        &mut a,
        Command::SaveNewsColumn(SaveNewsColumn {
            column: Some(industry),
            audience: vec![AudienceMember::Everyone],
            ..column.clone()
        }),
    )
    .await;
    watch.subscribe(Scope::Channel(GENERAL), None).await;
    run(&mut c, Command::ShareStory(share)).await;
    let posted = wait_event(&mut watch, Scope::Channel(GENERAL), |e| match e {
        EventBody::Chat(xietong::chat::ChatEvent::MessagePosted { message }) => {
            Some(message.clone())
        }
        _ => None,
    })
    .await;
    let Some(Card::Story(card)) = posted.card.clone() else {
        panic!("no card: {posted:?}")
    };
    assert_eq!(
        (card.story, card.title.as_str()),
        (story, "新能源汽车销量创新高")
    );
    assert_eq!(card.cover.map(|c| c.id), Some(cover_file));
    let history: xietong::HistoryPage = server
        .server_fn(&dave, "history", &format!("channel={}", GENERAL.0))
        .await
        .json()
        .await
        .unwrap();
    assert!(history.messages.iter().any(|m| m.card == posted.card));
    assert_eq!(download_status(&server, &dave, cover_file).await, 200);

    // Scheduled: published by the server when its time comes, not before.
    let at = xietong_server::store::now_ms() + 3_000;
    let (later, _) = story_of(
        run(
            &mut b,
            Command::SaveStory(SaveStory {
                story: None,
                fields: StoryFields {
                    publish_at: Some(at),
                    ..fields(industry, "明日预告")
                },
                cover: None,
                remove_cover: false,
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    let (_, status) =
        story_of(run(&mut b, Command::PublishStory(PublishStory { story: later })).await);
    assert_eq!(status, StoryStatus::Scheduled);
    assert!(!board(&server, &carol)
        .await
        .stories
        .iter()
        .any(|s| s.id == later));
    let started = Instant::now();
    let released = wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StorySaved { story }) if story.id == later => {
            Some(story.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(released.status, StoryStatus::Published);
    assert!(
        released.published_at.is_some_and(|p| p >= at),
        "published before its time"
    );
    assert!(started.elapsed() < Duration::from_secs(15));

    // Withdrawn: it leaves Carol's page live and after a reload; its editor keeps it.
    run(&mut b, Command::WithdrawStory(WithdrawStory { story })).await;
    // Its card in the conversation says so, live and in the history fetched after: no title,
    // summary or cover left.
    let gone = wait_event(&mut watch, Scope::Channel(GENERAL), |e| match e {
        EventBody::Chat(xietong::chat::ChatEvent::MessageCardChanged { message, card })
            if *message == posted.id =>
        {
            Some(card.clone())
        }
        _ => None,
    })
    .await;
    let Some(Card::Story(gone)) = gone else {
        panic!("no card")
    };
    assert!(
        gone.withdrawn && gone.title.is_empty() && gone.summary.is_empty() && gone.cover.is_none()
    );
    let history: xietong::HistoryPage = server
        .server_fn(&dave, "history", &format!("channel={}", GENERAL.0))
        .await
        .json()
        .await
        .unwrap();
    let shown = history.messages.iter().find(|m| m.id == posted.id).unwrap();
    assert_eq!(shown.card, Some(Card::Story(gone)));
    wait_event(&mut watch, Scope::News(industry), |e| match e {
        EventBody::News(xietong::news::NewsEvent::StoryRemoved { story: gone })
            if *gone == story =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    assert!(!board(&server, &carol)
        .await
        .stories
        .iter()
        .any(|s| s.id == story));
    let kept = board(&server, &bob)
        .await
        .stories
        .into_iter()
        .find(|s| s.id == story)
        .unwrap();
    assert_eq!(kept.status, StoryStatus::Withdrawn);
    assert_eq!(download_status(&server, &carol, cover_file).await, 404);

    // The column narrowed to Dave: Carol's live following ends.
    run(
        &mut a,
        Command::SaveNewsColumn(SaveNewsColumn {
            column: Some(industry),
            audience: vec![AudienceMember::Person(server.whoami(&dave).await.id)],
            ..column
        }),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let ServerMsg::Unsubscribed { scope, .. } = watch.recv().await {
                assert_eq!(scope, Scope::News(industry));
                break;
            }
        }
    })
    .await
    .expect("carol's subscription ended");
    assert!(!board(&server, &carol)
        .await
        .stories
        .iter()
        .any(|s| s.id == later));
    assert!(board(&server, &dave)
        .await
        .stories
        .iter()
        .any(|s| s.id == later));
    server.stop().await;
}
