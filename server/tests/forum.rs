//! 论坛 through the real server: a section with a moderator and an audience; a question with
//! replies that quote and mention, answered (solved); a vote whose counts show only to those
//! who voted and to everyone after its deadline; pinning, featuring, locking, moving; a mute;
//! and an audience narrowed while someone follows the section.

mod common;

use std::time::Duration;

use common::*;
use xietong::forum::*;
use xietong::notify::Module;
use xietong::org::AudienceMember;
use xietong::{
    ClientMsg, Command, CommandOutput, ErrorCode, EventBody, ForumSectionId, ForumTopicId, Scope,
    ServerMsg,
};

async fn page(server: &TestServer, cookie: &str, topic: ForumTopicId) -> reqwest::Response {
    server
        .server_fn(cookie, "forum_topic", &format!("topic={}", topic.0))
        .await
}

async fn topic_of(server: &TestServer, cookie: &str, topic: ForumTopicId) -> Topic {
    let response = page(server, cookie, topic).await;
    assert_eq!(response.status(), 200);
    response.json::<TopicPage>().await.unwrap().topic.unwrap()
}

fn topic_id(out: CommandOutput) -> ForumTopicId {
    match out {
        CommandOutput::TopicChanged { topic } => topic,
        other => panic!("{other:?}"),
    }
}

fn reply_id(out: CommandOutput) -> xietong::ForumReplyId {
    match out {
        CommandOutput::ReplyPosted { reply } => reply,
        other => panic!("{other:?}"),
    }
}

fn start(
    section: ForumSectionId,
    kind: TopicKind,
    title: &str,
    vote: Option<VoteSetup>,
) -> Command {
    Command::StartTopic(StartTopic {
        section,
        kind,
        title: title.into(),
        body: "**正文**<script>alert(1)</script>".into(),
        vote,
    })
}

fn reply(topic: ForumTopicId, text: &str, quote: Option<xietong::ForumReplyId>) -> Command {
    Command::ReplyToTopic(ReplyToTopic {
        topic,
        text: text.into(),
        quote,
    })
}

#[tokio::test]
async fn a_question_is_answered_a_vote_counted_and_a_section_moderated() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // the first person: an admin
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let dave = server.sign_up("dave").await;
    let erin = server.sign_up("erin").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let dave_id = server.whoami(&dave).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    let mut d = server.connect(&dave).await;
    let mut e = server.connect(&erin).await;

    let tech = SaveForumSection {
        section: None,
        name: "技术 Tech".into(),
        description: "写代码的事".into(),
        moderators: vec![bob_id],
        audience: vec![
            AudienceMember::Person(carol_id),
            AudienceMember::Person(dave_id),
        ],
    };
    assert_eq!(
        refused(&mut b, Command::SaveForumSection(tech.clone())).await,
        ErrorCode::Forbidden
    );
    let CommandOutput::ForumSectionSaved { section } =
        run(&mut a, Command::SaveForumSection(tech.clone())).await
    else {
        panic!("no section")
    };
    let scope = Scope::Forum(section);
    // Dave follows the section on a tab that only watches; Erin may not follow it.
    let mut watch = server.connect(&dave).await;
    watch.subscribe(scope, None).await;
    let mut carol_watch = server.connect(&carol).await;
    carol_watch.subscribe(Scope::User(carol_id), None).await;
    e.send(&ClientMsg::Subscribe { scope, after: None }).await;
    match e.recv_skip_presence().await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("erin subscribed: {other:?}"),
    }
    assert_eq!(
        refused(&mut e, start(section, TopicKind::Discussion, "x", None)).await,
        ErrorCode::NotFound
    );

    // Carol asks; Dave sees it at once, sanitised.
    let question = topic_id(
        run(
            &mut c,
            start(section, TopicKind::Question, "怎么部署？", None),
        )
        .await,
    );
    let seen = wait_event(&mut watch, scope, |e| match e {
        EventBody::Forum(xietong::forum::ForumEvent::TopicSaved { topic }) => Some(topic.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (seen.id, seen.kind, seen.title.as_str()),
        (question, TopicKind::Question, "怎么部署？")
    );
    assert!(
        seen.html.contains("<strong>正文</strong>") && !seen.html.contains("<script"),
        "{}",
        seen.html
    );
    assert_eq!(page(&server, &erin, question).await.status(), 404);
    assert_eq!(
        refused(&mut e, reply(question, "我来", None)).await,
        ErrorCode::NotFound
    );

    // Dave answers; Bob replies quoting him and mentioning him and Erin (who cannot read it).
    let answer = reply_id(run(&mut d, reply(question, "用 `make run`。", None)).await);
    let note = wait_event(&mut carol_watch, Scope::User(carol_id), |e| match e {
        EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => Some(note.clone()),
        _ => None,
    })
    .await;
    assert_eq!((note.module, note.item), (Module::Forum, question.0));
    let mut dave_note = server.connect(&dave).await;
    dave_note.subscribe(Scope::User(dave_id), None).await;
    let quoted = reply_id(
        run(
            &mut b,
            reply(question, "同意 @dave 的做法 @erin", Some(answer)),
        )
        .await,
    );
    let posted = wait_event(&mut watch, scope, |e| match e {
        EventBody::Forum(xietong::forum::ForumEvent::ReplyPosted { reply, replies })
            if reply.id == quoted =>
        {
            Some((reply.clone(), *replies))
        }
        _ => None,
    })
    .await;
    assert_eq!(posted.1, 2);
    let quote = posted.0.quote.clone().expect("a quote");
    assert_eq!(
        (quote.reply, quote.author.id, quote.text.as_str()),
        (answer, dave_id, "用 `make run`。")
    );
    assert_eq!(posted.0.mentions, vec![dave_id]);
    let mention = wait_event(&mut dave_note, Scope::User(dave_id), |e| match e {
        EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => Some(note.clone()),
        _ => None,
    })
    .await;
    assert_eq!(mention.module, Module::Forum);
    assert_eq!(
        refused(&mut b, reply(question, "  ", None)).await,
        ErrorCode::Invalid
    );

    // Only the question's author accepts an answer: the topic is solved.
    assert_eq!(
        refused(
            &mut d,
            Command::AcceptAnswer(AcceptAnswer {
                topic: question,
                reply: Some(answer)
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    run(
        &mut c,
        Command::AcceptAnswer(AcceptAnswer {
            topic: question,
            reply: Some(answer),
        }),
    )
    .await;
    let solved = wait_event(&mut watch, scope, |e| match e {
        EventBody::Forum(xietong::forum::ForumEvent::TopicSaved { topic })
            if topic.id == question =>
        {
            Some(topic.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(solved.accepted, Some(answer));
    assert_eq!(
        topic_of(&server, &dave, question).await.accepted,
        Some(answer)
    );

    // A vote: counts only for those who voted, and for everyone after the deadline.
    let deadline = xietong_server::store::now_ms() + 4_000;
    let vote = topic_id(
        run(
            &mut b,
            start(
                section,
                TopicKind::Vote,
                "团建去哪？",
                Some(VoteSetup {
                    options: vec!["爬山".into(), "看电影".into(), "聚餐".into()],
                    max_choices: 2,
                    deadline: Some(deadline),
                }),
            ),
        )
        .await,
    );
    assert_eq!(
        refused(
            &mut b,
            start(
                section,
                TopicKind::Vote,
                "坏投票",
                Some(VoteSetup {
                    options: vec!["一".into(), "一".into()],
                    max_choices: 1,
                    deadline: None,
                })
            )
        )
        .await,
        ErrorCode::Invalid
    );
    let before = topic_of(&server, &carol, vote).await.vote.unwrap();
    assert!(before.options.iter().all(|o| o.votes.is_none()));
    assert_eq!(
        refused(
            &mut c,
            Command::CastVote(CastVote {
                topic: vote,
                choices: vec![0, 1, 2]
            })
        )
        .await,
        ErrorCode::Invalid
    );
    assert_eq!(
        refused(
            &mut c,
            Command::CastVote(CastVote {
                topic: vote,
                choices: vec![7]
            })
        )
        .await,
        ErrorCode::Invalid
    );
    run(
        &mut c,
        Command::CastVote(CastVote {
            topic: vote,
            choices: vec![0, 2],
        }),
    )
    .await;
    let voters = wait_event(&mut watch, scope, |e| match e {
        EventBody::Forum(xietong::forum::ForumEvent::VoteCast { topic, voters })
            if *topic == vote =>
        {
            Some(*voters)
        }
        _ => None,
    })
    .await;
    assert_eq!(voters, 1);
    assert_eq!(
        refused(
            &mut c,
            Command::CastVote(CastVote {
                topic: vote,
                choices: vec![1]
            })
        )
        .await,
        ErrorCode::Conflict
    );
    let carols = topic_of(&server, &carol, vote).await.vote.unwrap();
    assert_eq!(carols.mine, vec![0, 2]);
    assert_eq!(
        carols.options.iter().map(|o| o.votes).collect::<Vec<_>>(),
        vec![Some(1), Some(0), Some(1)]
    );
    let daves = topic_of(&server, &dave, vote).await.vote.unwrap();
    assert!(daves.options.iter().all(|o| o.votes.is_none()) && daves.mine.is_empty());
    tokio::time::sleep(Duration::from_millis(
        (deadline - xietong_server::store::now_ms()).max(0) as u64 + 200,
    ))
    .await;
    let closed = topic_of(&server, &dave, vote).await.vote.unwrap();
    assert_eq!(
        closed.options.iter().map(|o| o.votes).collect::<Vec<_>>(),
        vec![Some(1), Some(0), Some(1)]
    );
    assert_eq!(
        refused(
            &mut d,
            Command::CastVote(CastVote {
                topic: vote,
                choices: vec![1]
            })
        )
        .await,
        ErrorCode::Conflict
    );

    // Moderation: the section's moderator pins, features and locks; nobody else may.
    let moderate = |action| {
        Command::ModerateTopic(ModerateTopic {
            topic: question,
            action,
        })
    };
    assert_eq!(
        refused(&mut c, moderate(Moderation::Pin(true))).await,
        ErrorCode::Forbidden
    );
    run(&mut b, moderate(Moderation::Pin(true))).await;
    run(&mut b, moderate(Moderation::Feature(true))).await;
    run(&mut b, moderate(Moderation::Lock(true))).await;
    let locked = topic_of(&server, &carol, question).await;
    assert!(locked.pinned && locked.featured && locked.locked);
    assert_eq!(
        refused(&mut d, reply(question, "还能回吗", None)).await,
        ErrorCode::Conflict
    );

    // A mute: Dave reads but may not post in the section until it ends (or is lifted).
    let until = xietong_server::store::now_ms() + 3_600_000;
    assert_eq!(
        refused(
            &mut c,
            Command::MuteInSection(MuteInSection {
                section,
                user: dave_id,
                until: Some(until)
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    run(
        &mut b,
        Command::MuteInSection(MuteInSection {
            section,
            user: dave_id,
            until: Some(until),
        }),
    )
    .await;
    assert_eq!(
        refused(&mut d, reply(vote, "我也说两句", None)).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused(&mut d, start(section, TopicKind::Discussion, "新帖", None)).await,
        ErrorCode::Forbidden
    );
    assert_eq!(topic_of(&server, &dave, vote).await.id, vote);
    run(
        &mut b,
        Command::MuteInSection(MuteInSection {
            section,
            user: dave_id,
            until: None,
        }),
    )
    .await;
    run(&mut d, reply(vote, "我也说两句", None)).await;

    // Moving: only into a section the moderator moderates too (an admin moderates every one).
    let general = ForumSectionId(1);
    assert_eq!(
        refused(&mut b, moderate(Moderation::Move(general))).await,
        ErrorCode::Forbidden
    );
    run(&mut a, moderate(Moderation::Move(general))).await;
    let to = wait_event(&mut watch, scope, |e| match e {
        EventBody::Forum(xietong::forum::ForumEvent::TopicMoved { topic, to })
            if *topic == question =>
        {
            Some(*to)
        }
        _ => None,
    })
    .await;
    assert_eq!(to, general);
    let board: ForumBoard = server
        .server_fn(&erin, "forum", "")
        .await
        .json()
        .await
        .unwrap();
    assert!(board
        .topics
        .iter()
        .any(|t| t.id == question && t.section == general));
    assert!(!board.topics.iter().any(|t| t.id == vote));

    // The section narrowed to Carol: Dave's live following ends.
    run(
        &mut a,
        Command::SaveForumSection(SaveForumSection {
            section: Some(section),
            audience: vec![AudienceMember::Person(carol_id)],
            ..tech
        }),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let ServerMsg::Unsubscribed { scope: ended, .. } = watch.recv().await {
                assert_eq!(ended, scope);
                break;
            }
        }
    })
    .await
    .expect("dave's subscription ended");
    assert_eq!(page(&server, &dave, vote).await.status(), 404);
    server.stop().await;
}

/// A long topic opens at its newest replies; "Earlier replies" pages back to the first.
#[tokio::test]
async fn a_long_topic_opens_at_its_newest_replies_and_pages_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.post_rate = 10_000).await;
    let alice = server.sign_up("alice").await;
    let mut a = server.connect(&alice).await;
    let topic = topic_id(
        run(
            &mut a,
            start(ForumSectionId(1), TopicKind::Discussion, "长帖", None),
        )
        .await,
    );
    let total = REPLIES_PAGE + 5;
    let mut ids = Vec::with_capacity(total);
    for i in 0..total {
        ids.push(reply_id(
            run(&mut a, reply(topic, &format!("第 {i} 楼"), None)).await,
        ));
    }
    let newest: TopicPage = page(&server, &alice, topic).await.json().await.unwrap();
    assert!(newest.earlier);
    assert_eq!(
        newest.replies.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids[5..]
    );
    let older: TopicPage = server
        .server_fn(
            &alice,
            "forum_topic",
            &format!("topic={}&before={}", topic.0, ids[5].0),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(!older.earlier);
    assert_eq!(
        older.replies.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids[..5]
    );
    let mut whole = newest;
    whole.prepend(ids[5], older);
    assert_eq!(whole.replies.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert!(!whole.earlier);
    server.stop().await;
}
