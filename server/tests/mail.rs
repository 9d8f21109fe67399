//! 内部邮件 through the real server: To a department (its people), Cc and Bcc (seen by the
//! sender alone), an attachment readable by the holders only, read receipts live for the
//! sender, a recall that takes it back from those who have not read it (live and after a
//! reload), reply all, forward with the files, folders, Trash and drafts.

mod common;

use common::*;
use xietong::mail::*;
use xietong::org::{AudienceMember, CreateDepartment, UpdatePerson};
use xietong::{Command, CommandOutput, ErrorCode, EventBody, MailId, Scope};

async fn mailbox(server: &TestServer, cookie: &str) -> Mailbox {
    let response = server.server_fn(cookie, "mail", "").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn mail_of(out: CommandOutput) -> MailId {
    match out {
        CommandOutput::MailChanged { mail } => mail,
        other => panic!("{other:?}"),
    }
}

fn send(fields: MailFields, attachments: Vec<String>) -> Command {
    Command::SaveMail(SaveMail {
        mail: None,
        fields,
        attachments,
        forward_files: Vec::new(),
        in_reply_to: None,
        send: true,
    })
}

#[tokio::test]
async fn a_mail_goes_to_a_department_is_read_recalled_replied_to_and_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // an admin
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let dave = server.sign_up("dave").await;
    let erin = server.sign_up("erin").await;
    let frank = server.sign_up("frank").await;
    let [alice_id, bob_id, carol_id, dave_id, erin_id] = [
        server.whoami(&alice).await.id,
        server.whoami(&bob).await.id,
        server.whoami(&carol).await.id,
        server.whoami(&dave).await.id,
        server.whoami(&erin).await.id,
    ];
    let mut a = server.connect(&alice).await;
    let mut b = server.connect(&bob).await;
    let mut c = server.connect(&carol).await;
    let mut d = server.connect(&dave).await;
    let mut f = server.connect(&frank).await;
    // Bob and Carol are the sales department.
    let CommandOutput::DepartmentChanged {
        department: sales, ..
    } = run(
        &mut a,
        Command::CreateDepartment(CreateDepartment {
            name: "销售部".into(),
            parent: None,
        }),
    )
    .await
    else {
        panic!("no department")
    };
    for person in [bob_id, carol_id] {
        run(
            &mut a,
            Command::UpdatePerson(UpdatePerson {
                person,
                full_name: String::new(),
                title: String::new(),
                mobile: None,
                email: None,
                main_department: Some(sales),
                other_departments: Vec::new(),
                roles: Vec::new(),
            }),
        )
        .await;
    }
    let mut alice_watch = server.connect(&alice).await;
    alice_watch.subscribe(Scope::User(alice_id), None).await;
    let mut bob_watch = server.connect(&bob).await;
    bob_watch.subscribe(Scope::User(bob_id), None).await;
    let mut erin_watch = server.connect(&erin).await;
    erin_watch.subscribe(Scope::User(erin_id), None).await;

    // Nothing to send to, no subject, too many files: refused.
    assert_eq!(
        refused(
            &mut a,
            send(
                MailFields {
                    subject: "x".into(),
                    ..Default::default()
                },
                Vec::new()
            )
        )
        .await,
        ErrorCode::Invalid
    );
    assert_eq!(
        refused(
            &mut a,
            send(
                MailFields {
                    to: vec![AudienceMember::Person(bob_id)],
                    ..Default::default()
                },
                Vec::new()
            )
        )
        .await,
        ErrorCode::Invalid
    );

    let report = uploaded(&server, &alice, "季度报告.txt", "第三季度数字".as_bytes()).await;
    let fields = MailFields {
        to: vec![AudienceMember::Department(sales)],
        cc: vec![AudienceMember::Person(dave_id)],
        bcc: vec![AudienceMember::Person(erin_id)],
        subject: "季度会议".into(),
        body: "周五下午三点，**301** 会议室。<script>alert(1)</script>".into(),
        outside: Vec::new(),
    };
    let id = mail_of(run(&mut a, send(fields, vec![report])).await);

    // Bob has it in his Inbox at once; Bcc is nobody's business but the sender's.
    let bobs = wait_event(&mut bob_watch, Scope::User(bob_id), |e| match e {
        EventBody::Mail(xietong::mail::MailEvent::MailSaved { mail }) => Some(mail.clone()),
        _ => None,
    })
    .await;
    assert_eq!(bobs.folder, Folder::Inbox);
    assert_eq!(
        bobs.to.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![bob_id, carol_id]
    );
    assert_eq!(
        bobs.cc.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![dave_id]
    );
    assert!(bobs.bcc.is_empty() && bobs.receipts.is_empty());
    // Told without its text (a mail to 2,000 people is not 2,000 copies of it); opened, it is
    // whole for a holder, and nobody else's.
    assert!(
        bobs.abridged && bobs.body.is_empty() && bobs.html.is_empty(),
        "{bobs:?}"
    );
    let whole = server
        .server_fn(&bob, "mail_text", &format!("mail={}", id.0))
        .await;
    assert_eq!(whole.status(), 200);
    let whole: Mail = whole.json().await.unwrap();
    assert!(
        whole.html.contains("<strong>301</strong>") && !whole.html.contains("<script"),
        "{}",
        whole.html
    );
    assert_eq!(
        server
            .server_fn(&frank, "mail_text", &format!("mail={}", id.0))
            .await
            .status(),
        404
    );
    let erins = wait_event(&mut erin_watch, Scope::User(erin_id), |e| match e {
        EventBody::Mail(xietong::mail::MailEvent::MailSaved { mail }) => Some(mail.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        erins.bcc.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![erin_id]
    );
    let sent = mailbox(&server, &alice)
        .await
        .mail
        .into_iter()
        .find(|m| m.id == id)
        .unwrap();
    assert_eq!(sent.folder, Folder::Sent);
    assert_eq!(sent.bcc.len(), 1);
    assert_eq!(sent.receipts.len(), 4);
    // The file: its holders read it, nobody else.
    let file = bobs.attachments[0].id;
    assert_eq!(download_status(&server, &bob, file).await, 200);
    assert_eq!(download_status(&server, &frank, file).await, 404);
    assert_eq!(
        refused(&mut f, Command::ReadMail(ReadMail { mail: id })).await,
        ErrorCode::NotFound
    );
    assert!(mailbox(&server, &frank).await.mail.is_empty());

    // Bob reads it: Alice sees his receipt live.
    run(&mut b, Command::ReadMail(ReadMail { mail: id })).await;
    let receipt = wait_event(&mut alice_watch, Scope::User(alice_id), |e| match e {
        EventBody::Mail(xietong::mail::MailEvent::MailReceipt { mail, receipt }) if *mail == id => {
            Some(receipt.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(
        (receipt.user.id, receipt.role, receipt.read_at.is_some()),
        (bob_id, Role::To, true)
    );

    // Only its sender recalls it; it leaves every unread box live and for good; Bob keeps his.
    assert_eq!(
        refused(&mut b, Command::RecallMail(RecallMail { mail: id })).await,
        ErrorCode::Forbidden
    );
    let CommandOutput::MailRecalled { recalled, .. } =
        run(&mut a, Command::RecallMail(RecallMail { mail: id })).await
    else {
        panic!("not recalled")
    };
    assert_eq!(recalled, 3);
    wait_event(&mut erin_watch, Scope::User(erin_id), |e| match e {
        EventBody::Mail(xietong::mail::MailEvent::MailRemoved { mail }) if *mail == id => Some(()),
        _ => None,
    })
    .await;
    assert!(mailbox(&server, &carol).await.mail.is_empty());
    assert!(mailbox(&server, &erin).await.mail.is_empty());
    // Nothing of it is replayed to her, even from the start of her log: not the mail, not its
    // notification.
    let mut replay = server.connect(&erin).await;
    let (events, _) = replay
        .subscribe(Scope::User(erin_id), Some(xietong::Seq::ZERO))
        .await;
    assert!(events.iter().any(|e| matches!(e.body, EventBody::Mail(xietong::mail::MailEvent::MailRemoved { mail }) if mail == id)));
    assert!(
        !events.iter().any(|e| match &e.body {
            EventBody::Mail(xietong::mail::MailEvent::MailSaved { mail }) => mail.id == id,
            EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => note.item == id.0,
            _ => false,
        }),
        "{events:?}"
    );
    let notes: serde_json::Value = server
        .server_fn(&erin, "workspace", "")
        .await
        .json()
        .await
        .unwrap();
    assert!(!notes.to_string().contains("季度会议"), "{notes}");
    assert_eq!(download_status(&server, &carol, file).await, 404);
    assert_eq!(
        refused(&mut c, Command::ReadMail(ReadMail { mail: id })).await,
        ErrorCode::NotFound
    );
    assert_eq!(mailbox(&server, &bob).await.mail.len(), 1);
    let after = mailbox(&server, &alice)
        .await
        .mail
        .into_iter()
        .find(|m| m.id == id)
        .unwrap();
    assert_eq!(after.receipts.iter().filter(|r| r.recalled).count(), 3);
    assert_eq!(
        refused(&mut a, Command::RecallMail(RecallMail { mail: id })).await,
        ErrorCode::Conflict
    );

    // Bob replies to all (Alice, with Carol and Dave) and forwards the file to Frank.
    let reply = mail_of(
        run(
            &mut b,
            Command::SaveMail(SaveMail {
                mail: None,
                fields: MailFields {
                    to: vec![
                        AudienceMember::Person(alice_id),
                        AudienceMember::Person(carol_id),
                    ],
                    cc: vec![AudienceMember::Person(dave_id)],
                    subject: reply_subject("季度会议", "Re:"),
                    body: "收到".into(),
                    ..Default::default()
                },
                attachments: Vec::new(),
                forward_files: Vec::new(),
                in_reply_to: Some(id),
                send: true,
            }),
        )
        .await,
    );
    let answered = mailbox(&server, &alice)
        .await
        .mail
        .into_iter()
        .find(|m| m.id == reply)
        .unwrap();
    assert_eq!(
        (
            answered.subject.as_str(),
            answered.in_reply_to,
            answered.folder
        ),
        ("Re: 季度会议", Some(id), Folder::Inbox)
    );
    // Carol cannot forward what was recalled from her.
    assert_eq!(
        refused(
            &mut c,
            Command::SaveMail(SaveMail {
                mail: None,
                fields: MailFields {
                    to: vec![AudienceMember::Person(dave_id)],
                    subject: "Fwd".into(),
                    ..Default::default()
                },
                attachments: Vec::new(),
                forward_files: vec![file],
                in_reply_to: None,
                send: true,
            })
        )
        .await,
        ErrorCode::NotFound
    );
    let forwarded = mail_of(
        run(
            &mut b,
            Command::SaveMail(SaveMail {
                mail: None,
                fields: MailFields {
                    to: vec![AudienceMember::Person(server.whoami(&frank).await.id)],
                    subject: reply_subject("季度会议", "Fwd:"),
                    body: "给你看看".into(),
                    ..Default::default()
                },
                attachments: Vec::new(),
                forward_files: vec![file],
                in_reply_to: Some(id),
                send: true,
            }),
        )
        .await,
    );
    let franks = mailbox(&server, &frank)
        .await
        .mail
        .into_iter()
        .find(|m| m.id == forwarded)
        .unwrap();
    assert_eq!(franks.attachments.len(), 1);
    assert_eq!(
        download_status(&server, &frank, franks.attachments[0].id).await,
        200
    );

    // A draft stays the sender's until sent; folders; Trash; delete for good.
    let draft = mail_of(
        run(
            &mut d,
            Command::SaveMail(SaveMail {
                mail: None,
                fields: MailFields {
                    subject: "草稿".into(),
                    ..Default::default()
                },
                attachments: Vec::new(),
                forward_files: Vec::new(),
                in_reply_to: None,
                send: false,
            }),
        )
        .await,
    );
    let daves = mailbox(&server, &dave).await;
    assert_eq!(
        daves.mail.iter().find(|m| m.id == draft).unwrap().folder,
        Folder::Drafts
    );
    let CommandOutput::MailFolderChanged { folder } = run(
        &mut d,
        Command::SaveMailFolder(SaveMailFolder {
            folder: None,
            name: "项目".into(),
        }),
    )
    .await
    else {
        panic!("no folder")
    };
    assert_eq!(
        refused(
            &mut d,
            Command::SaveMailFolder(SaveMailFolder {
                folder: None,
                name: "项目".into()
            })
        )
        .await,
        ErrorCode::Conflict
    );
    run(
        &mut d,
        Command::MoveMail(MoveMail {
            mail: reply,
            folder: Folder::Own(folder),
        }),
    )
    .await;
    assert_eq!(
        refused(
            &mut d,
            Command::MoveMail(MoveMail {
                mail: reply,
                folder: Folder::Drafts
            })
        )
        .await,
        ErrorCode::Invalid
    );
    assert_eq!(
        refused(&mut d, Command::DeleteMail(DeleteMail { mail: reply })).await,
        ErrorCode::Conflict
    );
    run(
        &mut d,
        Command::MoveMail(MoveMail {
            mail: reply,
            folder: Folder::Trash,
        }),
    )
    .await;
    run(&mut d, Command::DeleteMail(DeleteMail { mail: reply })).await;
    run(&mut d, Command::DeleteMail(DeleteMail { mail: draft })).await;
    let daves = mailbox(&server, &dave).await;
    assert!(daves.mail.iter().all(|m| m.id != reply && m.id != draft));
    assert_eq!(daves.folders.len(), 1);
    // Alice still has her copy of the reply.
    assert!(mailbox(&server, &alice)
        .await
        .mail
        .iter()
        .any(|m| m.id == reply));
    server.stop().await;
}

async fn found(
    server: &TestServer,
    cookie: &str,
    query: &str,
) -> Vec<(xietong::notify::Module, String)> {
    let response = server
        .server_fn(cookie, "search_items", &format!("q={}", urlencode(query)))
        .await;
    assert_eq!(response.status(), 200);
    let hits: Vec<xietong::search::ItemHit> = response.json().await.unwrap();
    hits.into_iter().map(|h| (h.module, h.title)).collect()
}

/// The searchbox finds mail its holders hold (the sender's, the recipients', not a
/// stranger's; gone once recalled) and notices published to their readers (gone once withdrawn).
#[tokio::test]
async fn search_finds_mail_one_holds_and_notices_published_to_one() {
    use xietong::notices::{NoticeFields, PublishNotice, SaveNotice, WithdrawNotice};
    use xietong::notify::Module;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut a = server.connect(&alice).await;
    let fields = |subject: &str, body: &str| MailFields {
        to: vec![AudienceMember::Person(bob_id)],
        cc: Vec::new(),
        bcc: Vec::new(),
        subject: subject.into(),
        body: body.into(),
        outside: Vec::new(),
    };
    let budget = mail_of(
        run(
            &mut a,
            send(
                fields("季度预算", "请在周五前提交上海办公室的预算表。"),
                Vec::new(),
            ),
        )
        .await,
    );
    mail_of(
        run(
            &mut a,
            send(
                fields("Offsite agenda", "Meeting notes for the offsite"),
                Vec::new(),
            ),
        )
        .await,
    );
    // Words (by prefix), Chinese inside a sentence, the subject; `from:`.
    assert_eq!(
        found(&server, &bob, "上海办公室").await,
        [(Module::Mail, "季度预算".to_owned())]
    );
    assert_eq!(
        found(&server, &alice, "meet offsite").await,
        [(Module::Mail, "Offsite agenda".to_owned())]
    );
    assert_eq!(found(&server, &bob, "预算 from:alice").await.len(), 1);
    assert!(found(&server, &bob, "预算 from:carol").await.is_empty());
    // Carol holds neither.
    assert!(found(&server, &carol, "预算").await.is_empty());
    assert!(found(&server, &carol, "offsite").await.is_empty());
    // A draft is found by its sender alone, as it reads now.
    let draft = mail_of(
        run(
            &mut a,
            Command::SaveMail(SaveMail {
                mail: None,
                fields: fields("草稿 draft", "unsent words"),
                attachments: Vec::new(),
                forward_files: Vec::new(),
                in_reply_to: None,
                send: false,
            }),
        )
        .await,
    );
    assert_eq!(found(&server, &alice, "unsent").await.len(), 1);
    assert!(found(&server, &bob, "unsent").await.is_empty());
    run(
        &mut a,
        Command::SaveMail(SaveMail {
            mail: Some(draft),
            fields: fields("草稿 draft", "rewritten words"),
            attachments: Vec::new(),
            forward_files: Vec::new(),
            in_reply_to: None,
            send: false,
        }),
    )
    .await;
    assert!(found(&server, &alice, "unsent").await.is_empty());
    assert_eq!(found(&server, &alice, "rewritten").await.len(), 1);
    // Recalled before Bob read it: no longer his to find; Alice still holds it.
    run(&mut a, Command::RecallMail(RecallMail { mail: budget })).await;
    assert!(found(&server, &bob, "预算").await.is_empty());
    assert_eq!(found(&server, &alice, "预算").await.len(), 1);
    // Deleted forever: gone from the index.
    run(&mut a, Command::DeleteMail(DeleteMail { mail: draft })).await;
    assert!(found(&server, &alice, "rewritten").await.is_empty());

    // A notice: found by its readers once published, by nobody else, by none once withdrawn.
    let notice = NoticeFields {
        kind: xietong::NoticeTypeId(1),
        title: "消防演习通知".into(),
        body: "周三下午三点全体员工参加消防演习。".into(),
        audience: vec![AudienceMember::Person(carol_id)],
        valid_from: None,
        valid_until: None,
        pinned_until: None,
        requires_ack: false,
        urgent: false,
        escalate_after_minutes: None,
    };
    let CommandOutput::NoticeChanged { notice: id, .. } = run(
        &mut a,
        Command::SaveNotice(SaveNotice {
            notice: None,
            fields: notice,
            revision_note: String::new(),
            attachments: Vec::new(),
            remove_attachments: Vec::new(),
        }),
    )
    .await
    else {
        panic!("no notice")
    };
    assert!(
        found(&server, &carol, "消防演习").await.is_empty(),
        "a draft is its author's"
    );
    assert_eq!(
        found(&server, &alice, "消防演习").await,
        [(Module::Notices, "消防演习通知".to_owned())]
    );
    run(&mut a, Command::PublishNotice(PublishNotice { notice: id })).await;
    let hits: Vec<xietong::search::ItemHit> = server
        .server_fn(
            &carol,
            "search_items",
            &format!("q={}", urlencode("全体员工")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].href, format!("/notices?n={}", id.0));
    assert!(hits[0].snippet.contains("全体员工"), "{}", hits[0].snippet);
    assert!(found(&server, &bob, "消防").await.is_empty());
    run(
        &mut a,
        Command::WithdrawNotice(WithdrawNotice { notice: id }),
    )
    .await;
    assert!(found(&server, &carol, "消防").await.is_empty());
    // Signed out: refused.
    assert_ne!(
        server.server_fn("", "search_items", "q=x").await.status(),
        200
    );
    server.stop().await;
}
