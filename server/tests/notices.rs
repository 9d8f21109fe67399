//! 通知公告 through the real server: publishing to an audience, read and not-read lists for
//! the author, acknowledgement asked again after a revision that says what changed, reminders,
//! review by a role, release at `valid_from`, withdrawal, and access for everyone else.

mod common;

use std::time::{Duration, Instant};

use common::*;
use xietong::notices::*;
use xietong::notify::Module;
use xietong::org::{AudienceMember, CreateRole, UpdatePerson};
use xietong::{Command, CommandOutput, ErrorCode, EventBody, NoticeId, NoticeTypeId, Scope};

fn fields(title: &str, body: &str, audience: Vec<AudienceMember>) -> NoticeFields {
    NoticeFields {
        kind: NoticeTypeId(1),
        title: title.into(),
        body: body.into(),
        audience,
        valid_from: None,
        valid_until: None,
        pinned_until: None,
        requires_ack: true,
        urgent: false,
        escalate_after_minutes: None,
    }
}

fn notice_of(out: CommandOutput) -> (NoticeId, NoticeStatus) {
    match out {
        CommandOutput::NoticeChanged { notice, status } => (notice, status),
        other => panic!("{other:?}"),
    }
}

async fn board(server: &TestServer, cookie: &str) -> NoticeBoard {
    let response = server.server_fn(cookie, "notices", "").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn text(server: &TestServer, cookie: &str, notice: NoticeId) -> reqwest::Response {
    server
        .server_fn(cookie, "notice_text", &format!("notice={}", notice.0))
        .await
}

async fn readers(server: &TestServer, cookie: &str, notice: NoticeId) -> reqwest::Response {
    server
        .server_fn(cookie, "notice_readers", &format!("notice={}", notice.0))
        .await
}

#[tokio::test]
async fn a_notice_is_read_acknowledged_revised_reminded_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let dave = server.sign_up("dave").await;
    let alice_id = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    let mut d = server.connect(&dave).await;
    a.subscribe(Scope::User(alice_id), None).await;
    b.subscribe(Scope::User(bob_id), None).await;
    c.subscribe(Scope::User(carol_id), None).await;

    let audience = vec![
        AudienceMember::Person(bob_id),
        AudienceMember::Person(carol_id),
    ];
    let (id, status) = notice_of(
        run(
            &mut a,
            Command::SaveNotice(SaveNotice {
                notice: None,
                fields: fields(
                    "五一放假通知",
                    "5月1日至5日放假。\n\n请安排好工作。",
                    audience.clone(),
                ),
                revision_note: String::new(),
                attachments: vec![
                    uploaded(&server, &alice, "值班表.txt", "5月1日 张三".as_bytes()).await,
                ],
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    assert_eq!(status, NoticeStatus::Draft);
    // A draft is its author's alone.
    assert!(board(&server, &bob).await.notices.is_empty());
    assert_eq!(
        refused(&mut b, Command::ReadNotice(ReadNotice { notice: id })).await,
        ErrorCode::NotFound
    );
    let (_, status) =
        notice_of(run(&mut a, Command::PublishNotice(PublishNotice { notice: id })).await);
    assert_eq!(status, NoticeStatus::Published);
    // Bob has it at once, and a notification that names it.
    let published = wait_event(&mut b, Scope::User(bob_id), |e| match e {
        EventBody::Notices(xietong::notices::NoticeEvent::NoticeSaved { notice }) => {
            Some(notice.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(published.fields.title, "五一放假通知");
    // Its file, readable by its readers only.
    assert_eq!(published.attachments.len(), 1);
    let file = published.attachments[0].id;
    assert_eq!(download_status(&server, &bob, file).await, 200);
    // Told without its text; whole when opened, for a reader only.
    assert!(published.abridged && published.html.is_empty());
    let whole: Notice = text(&server, &bob, id).await.json().await.unwrap();
    assert!(
        whole.html.contains("<p>5月1日至5日放假。</p>"),
        "{}",
        whole.html
    );
    let note = wait_event(&mut b, Scope::User(bob_id), |e| match e {
        EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => Some(note.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (note.module, note.item, note.title.as_str()),
        (Module::Notices, id.0, "五一放假通知")
    );
    // Dave is not in the audience: nothing, and no way in.
    assert!(board(&server, &dave).await.notices.is_empty());
    assert_eq!(
        refused(&mut d, Command::ReadNotice(ReadNotice { notice: id })).await,
        ErrorCode::NotFound
    );
    assert_eq!(readers(&server, &dave, id).await.status(), 404);
    assert_eq!(readers(&server, &bob, id).await.status(), 404);
    assert_eq!(download_status(&server, &dave, file).await, 404);
    assert_eq!(text(&server, &dave, id).await.status(), 404);

    // Nobody has read it yet.
    let before: NoticeReaders = readers(&server, &alice, id).await.json().await.unwrap();
    assert!(before.read.is_empty());
    let names =
        |list: &[xietong::UserRef]| list.iter().map(|u| u.username.clone()).collect::<Vec<_>>();
    assert_eq!(names(&before.not_read), ["bob", "carol"]);
    // Bob opens it: the author's scope says so.
    run(&mut b, Command::ReadNotice(ReadNotice { notice: id })).await;
    let (reader, acked) = wait_event(&mut a, Scope::User(alice_id), |e| match e {
        EventBody::Notices(xietong::notices::NoticeEvent::NoticeReadBy {
            reader,
            acknowledged,
            ..
        }) => Some((reader.username.clone(), *acknowledged)),
        _ => None,
    })
    .await;
    assert_eq!((reader.as_str(), acked), ("bob", false));
    // Reading twice changes nothing.
    assert!(matches!(
        run(&mut b, Command::ReadNotice(ReadNotice { notice: id })).await,
        CommandOutput::NoticeMarked { seq: None, .. }
    ));
    run(
        &mut b,
        Command::AcknowledgeNotice(AcknowledgeNotice { notice: id }),
    )
    .await;
    let after: NoticeReaders = readers(&server, &alice, id).await.json().await.unwrap();
    assert_eq!(
        after
            .read
            .iter()
            .map(|(u, _)| u.username.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    assert_eq!(names(&after.not_read), ["carol"]);
    assert_eq!(after.acknowledged.len(), 1);

    // A published notice is not edited silently: a revision must say what changed.
    let mut changed = fields(
        "五一放假通知",
        "5月1日至4日放假。\n\n请安排好工作。",
        audience.clone(),
    );
    changed.requires_ack = true;
    let code = refused(
        &mut a,
        Command::SaveNotice(SaveNotice {
            notice: Some(id),
            fields: changed.clone(),
            revision_note: String::new(),
            attachments: Vec::new(),
            remove_attachments: Vec::new(),
        }),
    )
    .await;
    assert_eq!(code, ErrorCode::Invalid);
    run(
        &mut a,
        Command::SaveNotice(SaveNotice {
            notice: Some(id),
            fields: changed,
            revision_note: "假期改为4天".into(),
            attachments: vec![uploaded(&server, &alice, "补充说明.txt", b"more").await],
            remove_attachments: Vec::new(),
        }),
    )
    .await;
    let revised = wait_event(&mut b, Scope::User(bob_id), |e| match e {
        EventBody::Notices(xietong::notices::NoticeEvent::NoticeSaved { notice })
            if notice.revision == 2 =>
        {
            Some(notice.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(revised.revision_note, "假期改为4天");
    assert_eq!(revised.attachments.len(), 2);
    let revised: Notice = text(&server, &bob, id).await.json().await.unwrap();
    assert_eq!(revised.revision, 2);
    let ops: Vec<(char, &str)> = revised
        .changes
        .iter()
        .map(|c| (c.op, c.text.as_str()))
        .collect();
    assert!(
        ops.contains(&('-', "5月1日至5日放假。")) && ops.contains(&('+', "5月1日至4日放假。")),
        "{ops:?}"
    );
    // A file added by the revision is among what changed.
    assert!(ops.contains(&('+', "📎 补充说明.txt")), "{ops:?}");
    // Bob is asked again: his acknowledgement was for revision 1.
    let board_b = board(&server, &bob).await;
    let mine = board_b.notices.iter().find(|n| n.id == id).unwrap();
    assert!(
        mine.read_at.is_some() && mine.acknowledged_at.is_none(),
        "{mine:?}"
    );
    let again: NoticeReaders = readers(&server, &alice, id).await.json().await.unwrap();
    assert!(again.acknowledged.is_empty());

    // "Remind" tells everyone who has not acknowledged this revision (bob and carol).
    assert!(matches!(
        run(&mut a, Command::RemindNotice(RemindNotice { notice: id })).await,
        CommandOutput::NoticeReminded { reminded: 2, .. }
    ));
    // Only the author reminds.
    assert_eq!(
        refused(&mut b, Command::RemindNotice(RemindNotice { notice: id })).await,
        ErrorCode::NotFound
    );
    // Reminders are spaced out: not again at once.
    assert_eq!(
        refused(&mut a, Command::RemindNotice(RemindNotice { notice: id })).await,
        ErrorCode::Conflict
    );

    // Withdrawn: gone from every reader's board, live and after.
    run(
        &mut a,
        Command::WithdrawNotice(WithdrawNotice { notice: id }),
    )
    .await;
    let gone = wait_event(&mut c, Scope::User(carol_id), |e| match e {
        EventBody::Notices(xietong::notices::NoticeEvent::NoticeRemoved { notice }) => {
            Some(*notice)
        }
        _ => None,
    })
    .await;
    assert_eq!(gone, id);
    assert!(board(&server, &carol).await.notices.is_empty());
    assert_eq!(
        refused(&mut c, Command::ReadNotice(ReadNotice { notice: id })).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        board(&server, &alice).await.notices[0].status,
        NoticeStatus::Withdrawn
    );
    // Nothing of it is replayed to a reader, even from the start of her log: not the notice,
    // not its revisions, not its notification; her notification list has it no more.
    let mut replay = server.connect(&carol).await;
    let (events, _) = replay
        .subscribe(Scope::User(carol_id), Some(xietong::Seq::ZERO))
        .await;
    assert!(events.iter().any(|e| matches!(e.body, EventBody::Notices(xietong::notices::NoticeEvent::NoticeRemoved { notice }) if notice == id)));
    assert!(
        !events.iter().any(|e| match &e.body {
            EventBody::Notices(xietong::notices::NoticeEvent::NoticeSaved { notice }) =>
                notice.id == id,
            EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => note.item == id.0,
            _ => false,
        }),
        "{events:?}"
    );
    let notes: serde_json::Value = server
        .server_fn(&carol, "workspace", "")
        .await
        .json()
        .await
        .unwrap();
    assert!(!notes.to_string().contains("五一放假"), "{notes}");
    assert_eq!(download_status(&server, &carol, file).await, 404);
    assert_eq!(download_status(&server, &alice, file).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_type_reviewed_by_a_role_waits_for_its_reviewer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("admin").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&admin).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    let role = match run(
        &mut a,
        Command::CreateRole(CreateRole {
            name: "办公室".into(),
        }),
    )
    .await
    {
        CommandOutput::RoleChanged { role } => role,
        other => panic!("{other:?}"),
    };
    run(
        &mut a,
        Command::UpdatePerson(UpdatePerson {
            person: carol_id,
            full_name: String::new(),
            title: String::new(),
            mobile: None,
            email: None,
            main_department: None,
            other_departments: Vec::new(),
            roles: vec![role],
        }),
    )
    .await;
    // Only admins define types.
    assert_eq!(
        refused(
            &mut b,
            Command::DefineNoticeType(DefineNoticeType {
                name: "x".into(),
                review_role: None
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    let kind = match run(
        &mut a,
        Command::DefineNoticeType(DefineNoticeType {
            name: "红头文件".into(),
            review_role: Some(role),
        }),
    )
    .await
    {
        CommandOutput::NoticeTypeChanged { kind } => kind,
        other => panic!("{other:?}"),
    };
    let mut f = fields(
        "关于调整作息时间的决定",
        "自下周起…",
        vec![AudienceMember::Everyone],
    );
    f.kind = kind;
    let (id, _) = notice_of(
        run(
            &mut b,
            Command::SaveNotice(SaveNotice {
                notice: None,
                fields: f,
                revision_note: String::new(),
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    let (_, status) =
        notice_of(run(&mut b, Command::PublishNotice(PublishNotice { notice: id })).await);
    assert_eq!(status, NoticeStatus::PendingReview);
    // The reviewer sees it waiting; others do not, and only a reviewer decides.
    let waiting = board(&server, &carol).await;
    assert_eq!(
        waiting
            .notices
            .iter()
            .map(|n| (n.id, n.status))
            .collect::<Vec<_>>(),
        [(id, NoticeStatus::PendingReview)]
    );
    assert!(board(&server, &admin).await.notices.is_empty());
    let seen_at = waiting.notices[0].updated_at;
    assert_eq!(
        refused(
            &mut a,
            Command::ReviewNotice(ReviewNotice {
                notice: id,
                seen_at,
                approve: true,
                note: String::new()
            })
        )
        .await,
        ErrorCode::NotFound
    );
    // An approval of another version than the one now waiting is refused.
    assert_eq!(
        refused(
            &mut c,
            Command::ReviewNotice(ReviewNotice {
                notice: id,
                seen_at: seen_at - 1,
                approve: true,
                note: String::new()
            })
        )
        .await,
        ErrorCode::Conflict
    );
    // Sent back with a note, edited, published again, approved: released to everyone.
    run(
        &mut c,
        Command::ReviewNotice(ReviewNotice {
            notice: id,
            seen_at,
            approve: false,
            note: "请补充生效日期".into(),
        }),
    )
    .await;
    let back = board(&server, &bob).await;
    assert_eq!(
        (back.notices[0].status, back.notices[0].review_note.as_str()),
        (NoticeStatus::Draft, "请补充生效日期")
    );
    run(&mut b, Command::PublishNotice(PublishNotice { notice: id })).await;
    let seen_at = board(&server, &carol).await.notices[0].updated_at;
    let (_, status) = notice_of(
        run(
            &mut c,
            Command::ReviewNotice(ReviewNotice {
                notice: id,
                seen_at,
                approve: true,
                note: String::new(),
            }),
        )
        .await,
    );
    assert_eq!(status, NoticeStatus::Published);
    // What the reviewer approved is what stays out: its author cannot revise it alone.
    let mut changed = fields(
        "关于调整作息时间的决定",
        "改了",
        vec![AudienceMember::Everyone],
    );
    changed.kind = kind;
    assert_eq!(
        refused(
            &mut b,
            Command::SaveNotice(SaveNotice {
                notice: Some(id),
                fields: changed,
                revision_note: "改".into(),
                attachments: Vec::new(),
                remove_attachments: Vec::new()
            })
        )
        .await,
        ErrorCode::Forbidden
    );
    let everyone = board(&server, &admin).await;
    assert_eq!(
        everyone.notices.iter().map(|n| n.id).collect::<Vec<_>>(),
        [id]
    );
    assert_eq!(bob_id, board(&server, &carol).await.notices[0].author.id);
    // A type in use is not removed.
    assert_eq!(
        refused(&mut a, Command::RemoveNoticeType(RemoveNoticeType { kind })).await,
        ErrorCode::Conflict
    );
    server.stop().await;
}

#[tokio::test]
async fn a_notice_valid_from_later_is_released_then() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    b.subscribe(Scope::User(bob_id), None).await;
    let mut f = fields(
        "明早 8 点停电",
        "请提前保存工作。",
        vec![AudienceMember::Person(bob_id)],
    );
    f.valid_from = Some(xietong_server::store::now_ms() + 3_000);
    let (id, _) = notice_of(
        run(
            &mut a,
            Command::SaveNotice(SaveNotice {
                notice: None,
                fields: f,
                revision_note: String::new(),
                attachments: Vec::new(),
                remove_attachments: Vec::new(),
            }),
        )
        .await,
    );
    let started = Instant::now();
    let (_, status) =
        notice_of(run(&mut a, Command::PublishNotice(PublishNotice { notice: id })).await);
    assert_eq!(status, NoticeStatus::Scheduled);
    assert!(board(&server, &bob).await.notices.is_empty());
    let released = wait_event(&mut b, Scope::User(bob_id), |e| match e {
        EventBody::Notices(xietong::notices::NoticeEvent::NoticeSaved { notice }) => {
            Some(notice.clone())
        }
        _ => None,
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "released early"
    );
    assert_eq!(
        (released.id, released.status),
        (id, NoticeStatus::Published)
    );
    server.stop().await;
}
