//! The organisation's file routes against a real server: importing people from CSV and xlsx.

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
            EventBody::DepartmentSaved { department } => department.name,
            EventBody::PersonSaved { person } => person.username,
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
