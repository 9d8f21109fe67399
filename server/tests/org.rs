//! The organisation's file routes against a real server: importing people from CSV and xlsx,
//! and personal contacts from vCard.

mod common;

use common::*;
use xietong::org::{ImportPreview, ImportedPerson};
use xietong::{EventBody, Scope};

async fn post_file(
    server: &TestServer,
    path: &str,
    cookie: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    http()
        .post(format!("{}{path}", server.base()))
        .header("cookie", cookie)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("request sent")
}

async fn address_book_csv(server: &TestServer, cookie: &str) -> String {
    http()
        .get(format!("{}/contacts/export/csv", server.base()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

const GOOD_ROW: &str = "张伟,zhangwei,总部/技术部/前端组,工程师,13800138000,zw@example.com";

/// A preview lists each bad row's problems and writes nothing; a file with a bad row is not
/// imported at all; a good one is, whole: departments made along the paths, people announced
/// live, an initial password that logs in; a retry with the same client id adds nobody twice.
#[tokio::test]
async fn an_import_is_previewed_then_applied_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await; // the first account: admin
    let bob = server.sign_up("bob").await;
    let bad_file = format!(
        "姓名,账号,部门,职务,手机,邮箱\n{GOOD_ROW}\n李娜,BOB,总部/财务部,,,\n王芳,wangfang,总部,经理,not a phone,\n,nameless,,,,\n"
    );

    // Only admins.
    let refused = post_file(
        &server,
        "/admin/import/preview",
        &bob,
        bad_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let refused = post_file(
        &server,
        "/admin/import/apply?client_id=import-by-bob-1",
        &bob,
        bad_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), 403);

    let preview = post_file(
        &server,
        "/admin/import/preview",
        &admin,
        bad_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(preview.status(), 200);
    let preview: ImportPreview = preview.json().await.unwrap();
    let lines: Vec<u32> = preview.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4, 5]);
    assert!(preview.rows[0].errors.is_empty(), "{:?}", preview.rows[0]);
    assert!(
        preview.rows[1].errors.iter().any(|e| e.contains("taken")),
        "{:?}",
        preview.rows[1]
    );
    assert!(
        preview.rows[2]
            .errors
            .iter()
            .any(|e| e.starts_with("mobile")),
        "{:?}",
        preview.rows[2]
    );
    assert!(
        preview.rows[3]
            .errors
            .iter()
            .any(|e| e.contains("name is missing")),
        "{:?}",
        preview.rows[3]
    );
    assert_eq!(preview.bad_rows(), 3);
    assert_eq!(
        preview.new_departments,
        ["总部", "总部/技术部", "总部/技术部/前端组"]
    );

    // With bad rows: refused, and nothing of the good row is there either.
    let refused = post_file(
        &server,
        "/admin/import/apply?client_id=import-bad-file-1",
        &admin,
        bad_file.into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let error: app::AppError = refused.json().await.unwrap();
    assert!(
        error.to_string().contains("nothing was imported"),
        "{error}"
    );
    assert!(!address_book_csv(&server, &bob).await.contains("zhangwei"));
    assert!(server
        .log_in("zhangwei", "whatever-password")
        .await
        .is_none());

    // A good file: applied, and every open address book hears of it.
    let mut watcher = server.connect(&bob).await;
    watcher.subscribe(Scope::Workspace, None).await;
    let good_file = format!(
        "Name,Username,Department,Title,Mobile,Email\n{GOOD_ROW}\n李娜,lina,总部/财务部,会计,,\n"
    );
    let applied = post_file(
        &server,
        "/admin/import/apply?client_id=import-good-file-1",
        &admin,
        good_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(applied.status(), 200);
    let imported: Vec<ImportedPerson> = applied.json().await.unwrap();
    let names: Vec<&str> = imported.iter().map(|p| p.username.as_str()).collect();
    assert_eq!(names, ["zhangwei", "lina"]);
    let mut announced = Vec::new();
    while announced.len() < 6 {
        let event = watcher.next_event_in(Scope::Workspace).await;
        announced.push(match event.body {
            EventBody::Org(xietong::org::OrgEvent::DepartmentSaved { department }) => {
                department.name
            }
            EventBody::Org(xietong::org::OrgEvent::PersonSaved { person }) => person.username,
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        announced,
        ["总部", "技术部", "前端组", "zhangwei", "财务部", "lina"]
    );
    let book = address_book_csv(&server, &bob).await;
    assert!(
        book.contains("张伟,zhangwei,总部/技术部/前端组,工程师,13800138000,zw@example.com"),
        "{book}"
    );
    assert!(book.contains("李娜,lina,总部/财务部,会计,,"), "{book}");
    assert!(server
        .log_in("zhangwei", &imported[0].password)
        .await
        .is_some());

    // The answer was lost and the browser retries: nobody is added or given a new password.
    let again = post_file(
        &server,
        "/admin/import/apply?client_id=import-good-file-1",
        &admin,
        good_file.clone().into_bytes(),
    )
    .await;
    assert_eq!(again.status(), 200);
    let again: Vec<ImportedPerson> = again.json().await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert!(server
        .log_in("zhangwei", &imported[0].password)
        .await
        .is_some());
    // A new import of the same file is refused: the usernames are taken now.
    let twice = post_file(
        &server,
        "/admin/import/apply?client_id=import-good-file-2",
        &admin,
        good_file.into_bytes(),
    )
    .await;
    assert_eq!(twice.status(), 400);
    let book = address_book_csv(&server, &bob).await;
    assert_eq!(book.matches("zhangwei").count(), 1, "{book}");
    server.stop().await;
}

/// An Excel workbook: its first sheet, a mobile number typed into a number cell kept whole.
#[tokio::test]
async fn an_xlsx_file_imports_like_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, heading) in ["姓名", "用户名", "部门", "职位", "手机号", "电子邮件"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *heading).unwrap();
    }
    sheet.write_string(1, 0, "赵敏").unwrap();
    sheet.write_string(1, 1, "zhaomin").unwrap();
    sheet.write_string(1, 2, "总部/人事部").unwrap();
    sheet.write_number(1, 4, 13900001111.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();

    let preview = post_file(&server, "/admin/import/preview", &admin, bytes.clone()).await;
    assert_eq!(preview.status(), 200);
    let preview: ImportPreview = preview.json().await.unwrap();
    assert_eq!(preview.rows.len(), 1);
    assert_eq!(preview.rows[0].row.mobile, "13900001111");
    assert!(preview.rows[0].errors.is_empty(), "{:?}", preview.rows[0]);
    let applied = post_file(
        &server,
        "/admin/import/apply?client_id=xlsx-import-1",
        &admin,
        bytes,
    )
    .await;
    assert_eq!(applied.status(), 200);
    let book = address_book_csv(&server, &admin).await;
    assert!(
        book.contains("赵敏,zhaomin,总部/人事部,,13900001111,"),
        "{book}"
    );

    // Not a spreadsheet at all, and too large: clear refusals.
    let junk = post_file(
        &server,
        "/admin/import/preview",
        &admin,
        b"PK\x03\x04garbage".to_vec(),
    )
    .await;
    assert_eq!(junk.status(), 400);
    let huge = post_file(
        &server,
        "/admin/import/preview",
        &admin,
        vec![b'a'; xietong::limits::MAX_IMPORT_FILE_BYTES + 1],
    )
    .await;
    assert_eq!(huge.status(), 413);
    server.stop().await;
}

/// Personal contacts: a vCard file imports whole or not at all, each contact and group is its
/// owner's alone (their tabs follow live; nobody else reads, changes or exports them), and
/// they export back as vCard and CSV.
#[tokio::test]
async fn personal_contacts_are_their_owners_alone() {
    use xietong::contacts::{
        ContactFields, CreateContactGroup, MyContacts, RemoveContact, SaveContact,
    };
    use xietong::{Command, CommandOutput};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;

    let file = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:王;经理;;;\r\nORG:华东贸易\\, 有限公司\r\nTEL;TYPE=CELL:+86 139 0000 1111\r\nEMAIL:wang@example.com\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN:Li Lei\r\nTEL;CELL:13800000000\r\nEND:VCARD\r\n";
    let url = |client: &str| format!("/contacts/mine/import?client_id={client}");
    let imported = post_file(&server, &url("import-0001"), &alice, file.into()).await;
    assert_eq!(imported.status(), 200);
    let output: CommandOutput = imported.json().await.unwrap();
    let CommandOutput::ContactsImported { contacts } = output else {
        panic!("{output:?}")
    };
    assert_eq!(contacts.len(), 2);
    // Live in Alice's own scope.
    let event = tab.next_event_in(Scope::User(me)).await;
    let EventBody::Contacts(xietong::contacts::ContactsEvent::ContactSaved { contact }) =
        event.body
    else {
        panic!("{event:?}")
    };
    assert_eq!(contact.fields.name, "王经理");
    assert_eq!(contact.fields.company, "华东贸易, 有限公司");

    // A bad card (an email that is not one) refuses the whole file, naming it.
    let bad = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:好人\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:坏人\r\nEMAIL:not-an-email\r\nEND:VCARD\r\n";
    let refused = post_file(&server, &url("import-0002"), &alice, bad.into()).await;
    assert_eq!(refused.status(), 400);
    let why = refused.text().await.unwrap();
    assert!(why.contains("contact 2") && why.contains("坏人"), "{why}");
    let not_vcard = post_file(&server, &url("import-0003"), &alice, b"hello".to_vec()).await;
    assert_eq!(not_vcard.status(), 400);
    let mine: MyContacts = server
        .server_fn(&alice, "my_contacts", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.contacts.len(), 2, "nothing of the refused files");

    // A group, and a contact in it.
    let id = tab
        .command(Command::CreateContactGroup(CreateContactGroup {
            name: "供应商".into(),
        }))
        .await;
    let (CommandOutput::ContactGroupChanged { group }, _) = tab.answer(&id).await.unwrap() else {
        panic!()
    };
    let id = tab
        .command(Command::SaveContact(SaveContact {
            contact: Some(contacts[1]),
            fields: ContactFields {
                name: "李雷".into(),
                group: Some(group),
                ..Default::default()
            },
        }))
        .await;
    tab.answer(&id).await.unwrap();

    // Bob: his own list is empty; he cannot change, delete or group into Alice's.
    let theirs: MyContacts = server
        .server_fn(&bob, "my_contacts", "")
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.contacts.is_empty() && theirs.groups.is_empty());
    let mut bob_tab = server.connect(&bob).await;
    for command in [
        Command::RemoveContact(RemoveContact {
            contact: contacts[0],
        }),
        Command::SaveContact(SaveContact {
            contact: Some(contacts[0]),
            fields: ContactFields {
                name: "x".into(),
                ..Default::default()
            },
        }),
        Command::SaveContact(SaveContact {
            contact: None,
            fields: ContactFields {
                name: "x".into(),
                group: Some(group),
                ..Default::default()
            },
        }),
    ] {
        let id = bob_tab.command(command).await;
        assert_eq!(
            bob_tab.answer(&id).await.unwrap_err(),
            xietong::ErrorCode::NotFound
        );
    }
    let exported = |cookie: String, kind: &'static str| {
        let url = format!("{}/contacts/mine/{kind}", server.base());
        async move {
            http()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(!exported(bob.clone(), "vcard").await.contains("王经理"));

    // Alice's exports hold both, and read back.
    let vcard = exported(alice.clone(), "vcard").await;
    assert!(
        vcard.contains("FN:王经理") && vcard.contains("FN:李雷"),
        "{vcard}"
    );
    assert!(vcard.contains("ORG:华东贸易\\, 有限公司"), "{vcard}");
    let csv = exported(alice.clone(), "csv").await;
    assert!(
        csv.contains("李雷") && csv.contains("+86 139 0000 1111"),
        "{csv}"
    );
    server.stop().await;
}

/// Address book fields: only an admin defines them; each person fills in their own; a hidden
/// value of a hideable field reaches nobody else — not the snapshot, not the live event.
#[tokio::test]
async fn address_book_fields_are_the_admins_and_hidden_values_stay_home() {
    use xietong::org::{DefineField, FieldValue, MyFields, OrgSnapshot, RemoveField, SetMyFields};
    use xietong::{Command, CommandOutput};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("admin").await;
    let bob = server.sign_up("bob").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut admin_tab = server.connect(&admin).await;
    admin_tab.subscribe(Scope::Workspace, None).await;
    let mut bob_tab = server.connect(&bob).await;

    let define = |name: &str, hideable| {
        Command::DefineField(DefineField {
            name: name.into(),
            hideable,
        })
    };
    let id = bob_tab.command(define("工号", false)).await;
    assert_eq!(
        bob_tab.answer(&id).await.unwrap_err(),
        xietong::ErrorCode::Forbidden
    );
    let mut fields = Vec::new();
    for (name, hideable) in [("办公电话", false), ("家庭电话", true)] {
        let id = admin_tab.command(define(name, hideable)).await;
        let (CommandOutput::FieldChanged { field }, _) = admin_tab.answer(&id).await.unwrap()
        else {
            panic!()
        };
        fields.push(field);
    }
    let (office, home) = (fields[0], fields[1]);
    let id = bob_tab
        .command(Command::SetMyFields(SetMyFields {
            values: vec![
                FieldValue {
                    field: office,
                    value: "021-6000 1234".into(),
                },
                FieldValue {
                    field: home,
                    value: "139 1111 2222".into(),
                },
            ],
            // Hiding the office number is not Bob's to decide: it stays visible.
            hidden: vec![home, office],
        }))
        .await;
    bob_tab.answer(&id).await.unwrap();
    let event = loop {
        let event = admin_tab.next_event_in(Scope::Workspace).await;
        if let EventBody::Org(xietong::org::OrgEvent::PersonSaved { person }) = &event.body {
            if person.id == bob_id {
                break person.clone();
            }
        }
    };
    let values: Vec<(xietong::FieldId, String)> = event
        .fields
        .iter()
        .map(|v| (v.field, v.value.clone()))
        .collect();
    assert_eq!(values, vec![(office, "021-6000 1234".to_owned())]);
    let org: OrgSnapshot = server
        .server_fn(&admin, "organisation", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org.fields.len(), 2);
    let seen = org.people.iter().find(|p| p.id == bob_id).unwrap();
    assert_eq!(
        seen.fields, event.fields,
        "the snapshot says what the event said"
    );
    assert!(!serde_json::to_string(&org)
        .unwrap()
        .contains("139 1111 2222"));
    // Bob himself gets every value back, with what he hides.
    let mine: MyFields = server
        .server_fn(&bob, "my_fields", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.values.len(), 2);
    assert_eq!(mine.hidden, vec![home]);
    // An unknown field is refused; a removed field takes everyone's values with it.
    let id = bob_tab
        .command(Command::SetMyFields(SetMyFields {
            values: vec![FieldValue {
                field: xietong::FieldId(999),
                value: "x".into(),
            }],
            hidden: Vec::new(),
        }))
        .await;
    assert_eq!(
        bob_tab.answer(&id).await.unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    let id = admin_tab
        .command(Command::RemoveField(RemoveField { field: office }))
        .await;
    admin_tab.answer(&id).await.unwrap();
    let mine: MyFields = server
        .server_fn(&bob, "my_fields", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.fields.len(), 1);
    assert!(mine.values.iter().all(|v| v.field == home));
    server.stop().await;
}

/// The admin page renders on the server every time, on a runtime with several worker
/// threads (as in production): a browser-only value kept in thread-local storage during
/// rendering once panicked when the page was dropped on another thread, cutting the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_renders_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("boss").await;
    for i in 0..40 {
        let response = http()
            .get(format!("{}/admin", server.base()))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(response.status(), 200, "request {i}");
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert!(body.contains("</html>"), "request {i} was cut short");
    }
    server.stop().await;
}
