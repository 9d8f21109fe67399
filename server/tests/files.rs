//! The files store and the personal file cabinet against a real server: uploads in pieces
//! (resumed after a cut), limits and quota, downloads (UTF-8 names, ranges, never inline HTML),
//! versions, the recycle bin, and every way into a file refusing whoever may not read it.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::AsyncWriteExt;
use xietong::files::{
    CreateFolder, DeleteEntry, EmptyRecycleBin, Entry, EntryId, FileId, RestoreEntry, SaveUpload,
    StartUpload, Upload,
};
use xietong::{Command, CommandOutput, EventBody, Scope};

struct Uploader<'a> {
    server: &'a TestServer,
    cookie: String,
}

impl Uploader<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base())
    }

    async fn start(&self, name: &str, size: u64) -> reqwest::Response {
        http()
            .post(self.url("/files/uploads"))
            .header("cookie", &self.cookie)
            .json(&StartUpload {
                name: name.into(),
                size,
            })
            .send()
            .await
            .unwrap()
    }

    async fn piece(&self, id: &str, offset: u64, bytes: &[u8]) -> reqwest::Response {
        http()
            .put(self.url(&format!("/files/uploads/{id}?offset={offset}")))
            .header("cookie", &self.cookie)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
    }

    async fn status(&self, id: &str) -> reqwest::Response {
        http()
            .get(self.url(&format!("/files/uploads/{id}")))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// Uploads `bytes` in pieces of at most 1 MB; the complete upload.
    async fn upload(&self, name: &str, bytes: &[u8]) -> Upload {
        let started = self.start(name, bytes.len() as u64).await;
        assert_eq!(started.status(), 201, "{:?}", started.text().await);
        let mut upload: Upload = started.json().await.unwrap();
        while !upload.complete {
            let from = upload.received as usize;
            let to = (from + 1024 * 1024).min(bytes.len());
            let answer = self.piece(&upload.id, from as u64, &bytes[from..to]).await;
            assert_eq!(answer.status(), 200);
            upload = answer.json().await.unwrap();
        }
        upload
    }

    async fn download(&self, file: FileId, range: Option<&str>) -> reqwest::Response {
        let mut request = http()
            .get(self.url(&format!("/files/{file}/download")))
            .header("cookie", &self.cookie);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send().await.unwrap()
    }
}

/// Runs a command over the socket; the cabinet entry it saved, from the event.
async fn saved_entry(tab: &mut Client, command: Command) -> Entry {
    let id = tab.command(command).await;
    // The event and the acknowledgement, in whichever order they come.
    let (mut acked, mut saved) = (false, None);
    while !acked || saved.is_none() {
        match tab.recv().await {
            xietong::ServerMsg::Ack {
                client_id, output, ..
            } if client_id == id => {
                assert!(
                    matches!(output, CommandOutput::EntryChanged { .. }),
                    "{output:?}"
                );
                acked = true;
            }
            xietong::ServerMsg::Error {
                client_id: Some(client_id),
                message,
                ..
            } if client_id == id => {
                panic!("refused: {message}")
            }
            xietong::ServerMsg::Event(event) if event.client_id.as_ref() == Some(&id) => {
                if let EventBody::Files(xietong::files::FilesEvent::EntrySaved { entry, .. }) =
                    event.body
                {
                    saved = Some(entry);
                }
            }
            _ => {}
        }
    }
    saved.expect("saved")
}

/// Uploads `bytes` and saves them into the cabinet (in `parent`); the entry, from the event.
async fn stored(
    tab: &mut Client,
    up: &Uploader<'_>,
    name: &str,
    bytes: &[u8],
    parent: Option<EntryId>,
) -> Entry {
    let upload = up.upload(name, bytes).await;
    saved_entry(
        tab,
        Command::SaveUpload(SaveUpload {
            upload: upload.id,
            parent,
        }),
    )
    .await
}

fn sample(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn a_file_goes_up_in_pieces_and_comes_down_with_its_name_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    // A docx is a zip: its type comes from the bytes.
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend(sample(2_500_000, 7));
    let upload = up.upload("中文文件名.docx", &bytes).await;
    assert!(upload.complete);
    assert_eq!(upload.received, bytes.len() as u64);

    let folder = saved_entry(
        &mut tab,
        Command::CreateFolder(CreateFolder {
            parent: None,
            name: "报告".into(),
        }),
    )
    .await;
    let entry = saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: upload.id.clone(),
            parent: Some(folder.id),
        }),
    )
    .await;
    assert_eq!(entry.name, "中文文件名.docx");
    assert_eq!(entry.parent, Some(folder.id));
    let file = entry.file.clone().expect("a file");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(file.mime, "application/zip");

    let whole = up.download(file.id, None).await;
    assert_eq!(whole.status(), 200);
    let disposition = whole.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E4%B8%AD%E6%96%87%E6%96%87%E4%BB%B6%E5%90%8D.docx"),
        "{disposition}"
    );
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let part = up.download(file.id, Some("bytes=1000-1999")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    // The upload was used up by the command: it cannot be saved twice.
    let id = tab
        .command(Command::SaveUpload(SaveUpload {
            upload: upload.id,
            parent: None,
        }))
        .await;
    assert_eq!(
        tab.answer(&id).await.unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    server.stop().await;
}

/// A piece cut off midway keeps what arrived; the upload resumes from the server's count, and
/// a piece at the wrong offset is refused with where to continue.
#[tokio::test]
async fn an_interrupted_upload_resumes_where_the_server_copy_ends() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let bytes = sample(3_000_000, 3);
    let started: Upload = up
        .start("big.bin", bytes.len() as u64)
        .await
        .json()
        .await
        .unwrap();

    // A client that announces 2 MB, sends 1.2 MB and disconnects.
    let mut socket = tokio::net::TcpStream::connect(server.running.addr)
        .await
        .unwrap();
    let head = format!(
        "PUT /files/uploads/{}?offset=0 HTTP/1.1\r\nHost: {}\r\nCookie: {alice}\r\nContent-Length: 2000000\r\n\r\n",
        started.id, server.running.addr
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes[..1_200_000]).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(socket);

    // The server records what arrived (it notices the cut a moment later).
    let mut status = Upload {
        received: 0,
        ..started.clone()
    };
    for _ in 0..50 {
        status = up.status(&started.id).await.json().await.unwrap();
        if status.received > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        status.received > 0 && status.received <= 1_200_000,
        "kept {} bytes",
        status.received
    );
    assert!(!status.complete);

    // A piece at the wrong place is refused, saying where to continue. The cut-off piece
    // records its count a moment before it gives back its writing lease: until then the
    // answer is "on its way already", which a client retries.
    let mut said = None;
    for _ in 0..50 {
        let wrong = up.piece(&started.id, 0, &bytes[..10]).await;
        assert_eq!(wrong.status(), 409);
        let answer: app::AppError = wrong.json().await.unwrap();
        if !answer.to_string().contains("on its way") {
            said = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let said = said.expect("the cut-off piece gives back its lease");
    assert!(
        said.to_string().contains(&status.received.to_string()),
        "{said}"
    );

    let mut upload = status;
    while !upload.complete {
        let from = upload.received as usize;
        let to = (from + 1_000_000).min(bytes.len());
        upload = up
            .piece(&upload.id, from as u64, &bytes[from..to])
            .await
            .json()
            .await
            .unwrap();
    }
    // The stored bytes are exactly the file: save it and read it back.
    let mut tab = server.connect(&alice).await;
    let me = server.whoami(&alice).await.id;
    tab.subscribe(Scope::User(me), None).await;
    let entry = saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: upload.id,
            parent: None,
        }),
    )
    .await;
    let file = entry.file.unwrap();
    assert_eq!(
        up.download(file.id, None)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        bytes.as_slice()
    );
    server.stop().await;
}

/// The file size limit and the quota (both set by the admin), names that try to climb out of
/// their folder, and a piece larger than the upload.
#[tokio::test]
async fn limits_quota_and_bad_names_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let mut admin_tab = server.connect(&admin).await;
    let id = admin_tab
        .command(Command::UpdateWorkspaceSettings(
            xietong::settings::UpdateWorkspaceSettings {
                settings: xietong::settings::WorkspaceSettings {
                    max_file_mb: Some(2),
                    quota_mb: Some(3),
                    ..Default::default()
                },
            },
        ))
        .await;
    admin_tab.answer(&id).await.expect("saved");
    let up = Uploader {
        server: &server,
        cookie: bob.clone(),
    };
    let too_big = up.start("big.bin", 2 * 1024 * 1024 + 1).await;
    assert_eq!(too_big.status(), 400);
    let said: app::AppError = too_big.json().await.unwrap();
    assert!(
        said.to_string().contains("largest file allowed is 2.0 MB"),
        "{said}"
    );

    for name in [
        "../../etc/passwd",
        "a/b.txt",
        "bad\u{7}bell.txt",
        "..",
        "evil\u{202E}fdp.exe",
    ] {
        let refused = up.start(name, 10).await;
        assert_eq!(refused.status(), 400, "{name:?}");
    }

    // Two files of 1.5 MB fit a 3 MB quota; a third does not, not even started.
    let first = up.upload("one.bin", &sample(1_572_864, 1)).await;
    let second = up.upload("two.bin", &sample(1_572_864, 2)).await;
    let third = up.start("three.bin", 10).await;
    assert_eq!(third.status(), 409);
    let said: app::AppError = third.json().await.unwrap();
    assert!(said.to_string().contains("Not enough room"), "{said}");
    assert!(first.complete && second.complete);

    // More bytes than announced.
    let small: Upload = http()
        .post(format!("{}/files/uploads", server.base()))
        .header("cookie", &admin)
        .json(&StartUpload {
            name: "small.txt".into(),
            size: 5,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin_up = Uploader {
        server: &server,
        cookie: admin.clone(),
    };
    let over = admin_up.piece(&small.id, 0, b"0123456789").await;
    assert_eq!(over.status(), 400);
    server.stop().await;
}

/// Uploaded HTML and SVG never run in the site's origin: they download, sandboxed.
#[tokio::test]
async fn html_and_svg_download_and_never_render_inline() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    for (name, body) in [
        (
            "page.html",
            &b"<html><script>alert(document.cookie)</script></html>"[..],
        ),
        (
            "logo.svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
        ),
    ] {
        let upload = up.upload(name, body).await;
        let entry = saved_entry(
            &mut tab,
            Command::SaveUpload(SaveUpload {
                upload: upload.id,
                parent: None,
            }),
        )
        .await;
        let file = entry.file.unwrap();
        for inline in [false, true] {
            let url = format!(
                "{}/files/{}/download{}",
                server.base(),
                file.id,
                if inline { "?inline=true" } else { "" }
            );
            let got = http()
                .get(url)
                .header("cookie", &alice)
                .send()
                .await
                .unwrap();
            assert_eq!(got.status(), 200);
            let headers = got.headers();
            assert!(
                headers["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment;"),
                "{name}"
            );
            let content_type = headers["content-type"].to_str().unwrap();
            assert!(
                !content_type.contains("html") && !content_type.contains("svg"),
                "{name}: {content_type}"
            );
            assert!(
                headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .starts_with("sandbox"),
                "{name}"
            );
        }
    }
    server.stop().await;
}

/// Versions, the recycle bin, and every way into a file refusing someone else.
#[tokio::test]
async fn versions_recycle_bin_and_no_way_in_for_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let bob_up = Uploader {
        server: &server,
        cookie: bob.clone(),
    };

    let first = stored(&mut tab, &up, "plan.txt", "第一版".as_bytes(), None).await;
    let second = stored(
        &mut tab,
        &up,
        "plan.txt",
        "第二版，更长一些".as_bytes(),
        None,
    )
    .await;
    assert_eq!(second.id, first.id, "same name, same folder: a new version");
    assert_eq!(second.older_versions.len(), 1);
    let old = second.older_versions[0].clone();
    let current = second.file.clone().unwrap();
    assert_eq!(
        up.download(old.id, None).await.text().await.unwrap(),
        "第一版"
    );
    assert_eq!(
        up.download(current.id, None).await.text().await.unwrap(),
        "第二版，更长一些"
    );

    // Bob: not the download, not a range, not the upload's status, not saving it.
    for file in [old.id, current.id] {
        assert_eq!(bob_up.download(file, None).await.status(), 404);
        assert_eq!(bob_up.download(file, Some("bytes=0-1")).await.status(), 404);
    }
    let pending = up
        .start("secret.txt", 3)
        .await
        .json::<Upload>()
        .await
        .unwrap();
    assert_eq!(bob_up.status(&pending.id).await.status(), 404);
    assert_eq!(bob_up.piece(&pending.id, 0, b"abc").await.status(), 404);
    let mut bob_tab = server.connect(&bob).await;
    let id = bob_tab
        .command(Command::SaveUpload(SaveUpload {
            upload: pending.id.clone(),
            parent: None,
        }))
        .await;
    assert_eq!(
        bob_tab.answer(&id).await.unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    let id = bob_tab
        .command(Command::DeleteEntry(DeleteEntry { entry: first.id }))
        .await;
    assert_eq!(
        bob_tab.answer(&id).await.unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    // Bob cannot watch Alice's stream, where her cabinet's events go.
    bob_tab
        .send(&xietong::ClientMsg::Subscribe {
            scope: Scope::User(me),
            after: None,
        })
        .await;
    loop {
        match bob_tab.recv_skip_presence().await {
            xietong::ServerMsg::Error { code, .. } => {
                assert_eq!(code, xietong::ErrorCode::Forbidden);
                break;
            }
            xietong::ServerMsg::Event(e) => panic!("bob saw {e:?}"),
            _ => continue,
        }
    }
    // Without a session at all.
    let anonymous = http()
        .get(format!("{}/files/{}/download", server.base(), current.id))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(anonymous.status().as_u16(), 303 | 401),
        "{}",
        anonymous.status()
    );

    // Recycle bin: deleted, restored, deleted, emptied — then gone for good.
    let deleted = saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry { entry: first.id }),
    )
    .await;
    assert!(deleted.deleted_at.is_some());
    let restored = saved_entry(
        &mut tab,
        Command::RestoreEntry(RestoreEntry { entry: first.id }),
    )
    .await;
    assert!(restored.deleted_at.is_none());
    saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry { entry: first.id }),
    )
    .await;
    let id = tab
        .command(Command::EmptyRecycleBin(EmptyRecycleBin {}))
        .await;
    let (mut acked, mut purged) = (false, false);
    while !acked || !purged {
        match tab.recv().await {
            xietong::ServerMsg::Ack {
                client_id, output, ..
            } if client_id == id => {
                assert_eq!(output, CommandOutput::RecycleBinEmptied { purged: 1 });
                acked = true;
            }
            xietong::ServerMsg::Event(event) => {
                if let EventBody::Files(xietong::files::FilesEvent::EntriesPurged {
                    entries,
                    usage,
                }) = event.body
                {
                    assert_eq!(entries, vec![EntryId(first.id.0)]);
                    assert_eq!(usage.used, 0);
                    purged = true;
                }
            }
            _ => {}
        }
    }
    assert_eq!(up.download(current.id, None).await.status(), 404);
    server.stop().await;
}

/// The same bytes are stored once, however many times and by whomever they are uploaded.
#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bytes = sample(100_000, 9);
    for (cookie, name) in [(&alice, "a.bin"), (&alice, "b.bin"), (&bob, "c.bin")] {
        Uploader {
            server: &server,
            cookie: cookie.clone(),
        }
        .upload(name, &bytes)
        .await;
    }
    let blobs = walk(&dir.path().join("data/files/blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert_eq!(std::fs::read(&blobs[0]).unwrap(), bytes);
    let leftovers = walk(&dir.path().join("data/files/uploads"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Runs a command over the socket and returns its output (events may come first).
async fn run(tab: &mut Client, command: Command) -> Result<CommandOutput, xietong::ErrorCode> {
    let id = tab.command(command).await;
    tab.answer(&id).await.map(|(output, _)| output)
}

/// A message's files are read where its channel is: by members of a private channel (the
/// download, the thumbnail, a search hit), by nobody else, and by nobody once it is deleted.
#[tokio::test]
async fn chat_attachments_are_readable_where_the_channel_is_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = server.whoami(&bob).await.id;
    let mut alice_tab = server.connect(&alice).await;
    let channel = match run(
        &mut alice_tab,
        Command::CreateChannel(xietong::chat::CreateChannel {
            name: "项目组".into(),
            kind: xietong::ChannelKind::Private,
            members: vec![bob_id],
        }),
    )
    .await
    .unwrap()
    {
        CommandOutput::ChannelCreated { channel } => channel.id,
        other => panic!("{other:?}"),
    };
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let picture = up.upload("截图.png", &png(1200, 900)).await;
    let report = up.upload("季度报告.txt", "第三季度".as_bytes()).await;
    let mut bob_tab = server.connect(&bob).await;
    bob_tab.subscribe(Scope::Channel(channel), None).await;

    // Someone else's upload cannot be attached; nor more than ten.
    let carol_up = Uploader {
        server: &server,
        cookie: carol.clone(),
    };
    let carols = carol_up.upload("x.txt", b"x").await;
    let post = |attachments: Vec<String>| {
        Command::PostMessage(xietong::chat::PostMessage {
            channel,
            body: String::new(),
            thread: None,
            attachments,
        })
    };
    assert_eq!(
        run(&mut alice_tab, post(vec![carols.id.clone()]))
            .await
            .unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    assert_eq!(
        run(&mut alice_tab, post(vec![report.id.clone(); 11]))
            .await
            .unwrap_err(),
        xietong::ErrorCode::Invalid
    );
    // An empty message with nothing attached is still refused.
    assert_eq!(
        run(&mut alice_tab, post(vec![])).await.unwrap_err(),
        xietong::ErrorCode::Invalid
    );

    run(
        &mut alice_tab,
        post(vec![picture.id.clone(), report.id.clone()]),
    )
    .await
    .unwrap();
    let message = loop {
        if let EventBody::Chat(xietong::chat::ChatEvent::MessagePosted { message }) =
            bob_tab.next_event().await.body
        {
            break message;
        }
    };
    let names: Vec<&str> = message
        .attachments
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["截图.png", "季度报告.txt"]);
    let (image, text) = (
        message.attachments[0].clone(),
        message.attachments[1].clone(),
    );
    assert_eq!(image.mime, "image/png");

    let bob_up = Uploader {
        server: &server,
        cookie: bob.clone(),
    };
    assert_eq!(
        bob_up.download(text.id, None).await.text().await.unwrap(),
        "第三季度"
    );
    let thumb = http()
        .get(format!("{}/files/{}/thumbnail", server.base(), image.id))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/png");
    let small = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (400, 300));
    // The whole image shows in the page; a text file never does.
    let inline = http()
        .get(format!(
            "{}/files/{}/download?inline=true",
            server.base(),
            image.id
        ))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert!(inline.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline;"));

    // Search finds the message by a file's name, for members only.
    let hits = |cookie: String| {
        let server = &server;
        async move {
            let response = server
                .server_fn(&cookie, "search", &format!("q={}", urlencode("季度报告")))
                .await;
            assert_eq!(response.status(), 200);
            let hits: Vec<xietong::search::SearchHit> = response.json().await.unwrap();
            hits
        }
    };
    assert_eq!(hits(bob.clone()).await.len(), 1);
    assert!(hits(carol.clone()).await.is_empty());

    // Carol is not in the channel: no download, no range, no thumbnail.
    for file in [image.id, text.id] {
        assert_eq!(carol_up.download(file, None).await.status(), 404);
        assert_eq!(
            carol_up.download(file, Some("bytes=0-3")).await.status(),
            404
        );
        let thumb = http()
            .get(format!("{}/files/{}/thumbnail", server.base(), file))
            .header("cookie", &carol)
            .send()
            .await
            .unwrap();
        assert_eq!(thumb.status(), 404);
    }

    // Deleted with its message: gone for everyone.
    run(
        &mut alice_tab,
        Command::DeleteMessage(xietong::chat::DeleteMessage {
            message: message.id,
        }),
    )
    .await
    .unwrap();
    assert_eq!(bob_up.download(text.id, None).await.status(), 404);
    assert_eq!(up.download(image.id, None).await.status(), 404);
    server.stop().await;
}

/// Bytes nobody uses any more (a cancelled upload's, a purged file's) are swept away; bytes a
/// file still uses stay.
#[tokio::test]
async fn the_sweep_deletes_unused_bytes_and_keeps_used_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let kept = up.upload("kept.bin", &sample(50_000, 1)).await;
    saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: kept.id,
            parent: None,
        }),
    )
    .await;
    let dropped = up.upload("dropped.bin", &sample(50_000, 2)).await;
    let cancelled = http()
        .delete(format!("{}/files/uploads/{}", server.base(), dropped.id))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 204);
    assert_eq!(walk(&dir.path().join("data/files/blobs")).len(), 2);
    let database = server.running_database_url();
    server.stop_keep_data().await;

    let store = xietong_server::store::Store::open(&database, Some(&dir.path().join("data")))
        .await
        .unwrap();
    let files = xietong_server::files::FileStore::open(&dir.path().join("data/files")).unwrap();
    let swept = xietong_server::files::uploads::sweep(&store, &files, 0)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let left = walk(&dir.path().join("data/files/blobs"));
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(std::fs::read(&left[0]).unwrap(), sample(50_000, 1));
    store.close().await;
    common::drop_postgres_database_for(dir.path()).await;
}

/// Waits for an event of `scope` that `pick` recognises, skipping everything else.
async fn event_where<T>(
    tab: &mut Client,
    scope: Scope,
    mut pick: impl FnMut(&EventBody) -> Option<T>,
) -> T {
    loop {
        let event = tab.next_event_in(scope).await;
        if let Some(found) = pick(&event.body) {
            return found;
        }
    }
}

/// Sharing with an audience: a whole department tree reads a shared folder (download,
/// thumbnail, its snapshot, its live scope) and sees it in "Shared with me"; someone outside
/// the audience gets nothing by any way in; "view" cannot change it, "edit" can; unsharing
/// ends the live subscription and every way in at once.
#[tokio::test]
async fn a_shared_folder_is_readable_by_its_audience_only() {
    use xietong::files::{Permission, ShareEntry, Unshare};
    use xietong::org::{AudienceMember, CreateDepartment, UpdatePerson};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await; // the first account: an admin
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let me = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let carol_id = server.whoami(&carol).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;

    // 总部 / 财务部, with Carol in 财务部: "总部 with sub-departments" includes her.
    let department = |output| match output {
        CommandOutput::DepartmentChanged { department, .. } => department,
        other => panic!("{other:?}"),
    };
    let head_office = department(
        run(
            &mut tab,
            Command::CreateDepartment(CreateDepartment {
                name: "总部".into(),
                parent: None,
            }),
        )
        .await
        .unwrap(),
    );
    let finance = department(
        run(
            &mut tab,
            Command::CreateDepartment(CreateDepartment {
                name: "财务部".into(),
                parent: Some(head_office),
            }),
        )
        .await
        .unwrap(),
    );
    run(
        &mut tab,
        Command::UpdatePerson(UpdatePerson {
            person: carol_id,
            full_name: "王芳".into(),
            title: String::new(),
            mobile: None,
            email: None,
            main_department: Some(finance),
            other_departments: Vec::new(),
            roles: Vec::new(),
        }),
    )
    .await
    .unwrap();

    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let folder = saved_entry(
        &mut tab,
        Command::CreateFolder(CreateFolder {
            parent: None,
            name: "季度报告".into(),
        }),
    )
    .await;
    let upload = up.upload("图.png", &png(64, 48)).await;
    let picture = saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: upload.id,
            parent: Some(folder.id),
        }),
    )
    .await;
    let picture_file = picture.file.clone().unwrap();

    let mut carol_tab = server.connect(&carol).await;
    carol_tab.subscribe(Scope::User(carol_id), None).await;
    let mut bob_tab = server.connect(&bob).await;
    let carol_up = Uploader {
        server: &server,
        cookie: carol.clone(),
    };
    let bob_up = Uploader {
        server: &server,
        cookie: bob.clone(),
    };
    // Before it is shared, Carol gets nothing either.
    assert_eq!(carol_up.download(picture_file.id, None).await.status(), 404);

    let shared = saved_entry(
        &mut tab,
        Command::ShareEntry(ShareEntry {
            entry: folder.id,
            audience: vec![AudienceMember::DepartmentTree(head_office)],
            permission: Permission::View,
        }),
    )
    .await;
    assert_eq!(
        shared.shares.len(),
        1,
        "the owner sees who it is shared with"
    );
    // Carol's "Shared with me" gets it, live, without the owner's share list.
    let item = event_where(&mut carol_tab, Scope::User(carol_id), |body| match body {
        EventBody::Files(xietong::files::FilesEvent::SharedWithYou { item }) => Some(item.clone()),
        _ => None,
    })
    .await;
    assert_eq!(item.entry.id, folder.id);
    assert_eq!(item.permission, Permission::View);
    assert!(item.entry.shares.is_empty());

    // Every way in for Carol: download, thumbnail, the snapshot, the live scope.
    let got = carol_up.download(picture_file.id, None).await;
    assert_eq!(got.status(), 200);
    let thumbnail = |cookie: String| {
        let url = format!("{}/files/{}/thumbnail", server.base(), picture_file.id);
        async move {
            http()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(thumbnail(carol.clone()).await, 200);
    let snapshot = server
        .server_fn(&carol, "shared_entry", &format!("root={}", folder.id))
        .await;
    assert_eq!(snapshot.status(), 200);
    let snapshot: xietong::files::SharedSnapshot = snapshot.json().await.unwrap();
    assert_eq!(snapshot.permission, Permission::View);
    assert_eq!(snapshot.owner_name, "alice");
    let names: Vec<&str> = snapshot
        .cabinet
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, vec!["季度报告", "图.png"]);
    carol_tab.subscribe(Scope::Shared(folder.id), None).await;
    // …and "Shared with me" in her cabinet's snapshot.
    let cabinet = server.server_fn(&carol, "cabinet", "").await;
    let cabinet: xietong::files::CabinetSnapshot = cabinet.json().await.unwrap();
    assert_eq!(cabinet.shared.len(), 1);

    // Bob, outside the audience: none of those.
    assert_eq!(bob_up.download(picture_file.id, None).await.status(), 404);
    assert_eq!(thumbnail(bob.clone()).await, 404);
    let refused = server
        .server_fn(&bob, "shared_entry", &format!("root={}", folder.id))
        .await;
    assert_eq!(refused.status(), 404);
    bob_tab
        .send(&xietong::ClientMsg::Subscribe {
            scope: Scope::Shared(folder.id),
            after: None,
        })
        .await;
    loop {
        match bob_tab.recv_skip_presence().await {
            xietong::ServerMsg::Error { code, .. } => {
                assert_eq!(code, xietong::ErrorCode::NotFound);
                break;
            }
            xietong::ServerMsg::Event(e) => panic!("bob saw {e:?}"),
            _ => continue,
        }
    }

    // "View" cannot change it.
    let carol_upload = carol_up.upload("mine.txt", b"carol").await;
    assert_eq!(
        run(
            &mut carol_tab,
            Command::SaveUpload(SaveUpload {
                upload: carol_upload.id.clone(),
                parent: Some(folder.id),
            }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::Forbidden
    );
    assert_eq!(
        run(
            &mut carol_tab,
            Command::DeleteEntry(DeleteEntry { entry: picture.id }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::Forbidden
    );
    // Nor share it on.
    assert_eq!(
        run(
            &mut carol_tab,
            Command::ShareEntry(ShareEntry {
                entry: folder.id,
                audience: vec![AudienceMember::Everyone],
                permission: Permission::Edit,
            }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::NotFound
    );

    // "Edit" for Bob: his upload lands in Alice's folder, and Carol sees it arrive live.
    saved_entry(
        &mut tab,
        Command::ShareEntry(ShareEntry {
            entry: folder.id,
            audience: vec![AudienceMember::Person(bob_id)],
            permission: Permission::Edit,
        }),
    )
    .await;
    let bob_upload = bob_up.upload("预算.txt", "一百万".as_bytes()).await;
    run(
        &mut bob_tab,
        Command::SaveUpload(SaveUpload {
            upload: bob_upload.id,
            parent: Some(folder.id),
        }),
    )
    .await
    .unwrap();
    let arrived = event_where(
        &mut carol_tab,
        Scope::Shared(folder.id),
        |body| match body {
            EventBody::Files(xietong::files::FilesEvent::EntrySaved { entry, .. })
                if entry.name == "预算.txt" =>
            {
                Some(entry.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(arrived.owner, me, "it is Alice's folder, so Alice's file");
    assert_eq!(arrived.file.as_ref().unwrap().by, bob_id);
    assert_eq!(
        carol_up
            .download(arrived.file.unwrap().id, None)
            .await
            .text()
            .await
            .unwrap(),
        "一百万"
    );

    // Unsharing the department: Carol's live subscription ends, her list drops it, and every
    // way in closes.
    let id = tab
        .command(Command::Unshare(Unshare {
            entry: folder.id,
            member: AudienceMember::DepartmentTree(head_office),
        }))
        .await;
    tab.answer(&id).await.unwrap();
    let (mut ended, mut withdrawn) = (false, false);
    while !ended || !withdrawn {
        match carol_tab.recv().await {
            xietong::ServerMsg::Unsubscribed { scope, .. } => {
                assert_eq!(scope, Scope::Shared(folder.id));
                ended = true;
            }
            xietong::ServerMsg::Event(event) => match event.body {
                EventBody::Files(xietong::files::FilesEvent::ShareWithdrawn { entry }) => {
                    assert_eq!(entry, folder.id);
                    withdrawn = true;
                }
                EventBody::Files(xietong::files::FilesEvent::EntrySaved { .. })
                    if event.scope == Scope::Shared(folder.id) =>
                {
                    assert!(!ended, "an event after the subscription ended");
                }
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!(carol_up.download(picture_file.id, None).await.status(), 404);
    assert_eq!(thumbnail(carol.clone()).await, 404);
    let refused = server
        .server_fn(&carol, "shared_entry", &format!("root={}", folder.id))
        .await;
    assert_eq!(refused.status(), 404);
    // Bob still may — inside it: the shared folder itself stays as its owner put it.
    assert_eq!(bob_up.download(picture_file.id, None).await.status(), 200);
    assert_eq!(
        run(
            &mut bob_tab,
            Command::DeleteEntry(DeleteEntry { entry: folder.id }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::Forbidden
    );
    // Alice puts it in the recycle bin: Bob's live following ends at once, and his way in.
    bob_tab.subscribe(Scope::Shared(folder.id), None).await;
    saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry { entry: folder.id }),
    )
    .await;
    loop {
        if let xietong::ServerMsg::Unsubscribed { scope, .. } = bob_tab.recv().await {
            assert_eq!(scope, Scope::Shared(folder.id));
            break;
        }
    }
    assert_eq!(bob_up.download(picture_file.id, None).await.status(), 404);
    server.stop().await;
}

/// A share link opens a file for anyone who has it — with its password when it has one, until
/// it expires, is deleted or the file goes to the recycle bin — and guessing is throttled.
#[tokio::test]
async fn share_links_need_their_password_and_end() {
    use xietong::files::{CreateShareLink, DeleteShareLink};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let file = stored(&mut tab, &up, "合同&'x'.txt", "机密内容".as_bytes(), None).await;
    let link = |output| match output {
        CommandOutput::ShareLinkCreated { token, .. } => token,
        other => panic!("{other:?}"),
    };
    let locked = link(
        run(
            &mut tab,
            Command::CreateShareLink(CreateShareLink {
                entry: file.id,
                password: "芝麻开门".into(),
                expires_at: None,
                password_hash: None,
            }),
        )
        .await
        .unwrap(),
    );
    let get = |path: String| {
        let url = format!("{}{path}", server.base());
        async move { http().get(url).send().await.unwrap() }
    };
    let unlock = |token: String, password: &'static str| {
        let url = format!("{}/share/{token}/download", server.base());
        async move {
            http()
                .post(url)
                .form(&[("password", password)])
                .send()
                .await
                .unwrap()
        }
    };
    // The page, with no session: the name (escaped) and a password form; no file yet.
    let page = get(format!("/share/{locked}")).await;
    assert_eq!(page.status(), 200);
    // The token leaves for no other site; "no-referrer" would make browsers post the password
    // form with `Origin: null`, which the cross-site guard refuses.
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    // The name is text, never markup.
    assert!(html.contains("合同&amp;"), "{html}");
    assert!(!html.contains("合同&'"), "{html}");
    assert!(html.contains("type=\"password\""));
    assert_eq!(get(format!("/share/{locked}/download")).await.status(), 403);
    let wrong = unlock(locked.clone(), "open sesame").await;
    assert_eq!(wrong.status(), 403);
    assert!(!wrong.text().await.unwrap().contains("机密内容"));
    let right = unlock(locked.clone(), "芝麻开门").await;
    assert_eq!(right.status(), 200);
    let disposition = right.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(right.text().await.unwrap(), "机密内容");
    // The password is not stored as given, nor shown to the owner.
    let cabinet: xietong::files::CabinetSnapshot = server
        .server_fn(&alice, "cabinet", "")
        .await
        .json()
        .await
        .unwrap();
    let links = &cabinet
        .entries
        .iter()
        .find(|e| e.id == file.id)
        .unwrap()
        .links;
    assert_eq!(links.len(), 1);
    assert!(links[0].has_password);
    let stored: String = {
        let store = xietong_server::store::Store::open(
            &server.running_database_url(),
            Some(&dir.path().join("data")),
        )
        .await
        .unwrap();
        let mut tx = store.read().await.unwrap();
        let hash = sqlx::query_scalar("SELECT password_hash FROM share_links WHERE token = $1")
            .bind(&locked)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        store.close().await;
        hash
    };
    assert!(stored.starts_with("$argon2"), "{stored}");

    // A password of a few characters is refused.
    assert_eq!(
        run(
            &mut tab,
            Command::CreateShareLink(CreateShareLink {
                entry: file.id,
                password: "123".into(),
                expires_at: None,
                password_hash: None,
            }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::Invalid
    );
    // Guessing is throttled: after ten wrong passwords even the right one waits.
    for _ in 0..10 {
        assert_eq!(unlock(locked.clone(), "guess").await.status(), 403);
    }
    assert_eq!(unlock(locked.clone(), "芝麻开门").await.status(), 429);

    // Without a password: a plain download. Bob cannot make links to Alice's file.
    let open = link(
        run(
            &mut tab,
            Command::CreateShareLink(CreateShareLink {
                entry: file.id,
                password: String::new(),
                expires_at: None,
                password_hash: None,
            }),
        )
        .await
        .unwrap(),
    );
    let got = get(format!("/share/{open}/download")).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "机密内容");
    let mut bob_tab = server.connect(&bob).await;
    assert_eq!(
        run(
            &mut bob_tab,
            Command::CreateShareLink(CreateShareLink {
                entry: file.id,
                password: String::new(),
                expires_at: None,
                password_hash: None,
            }),
        )
        .await
        .unwrap_err(),
        xietong::ErrorCode::NotFound
    );
    // A client cannot smuggle in a hash of its own: the field never crosses the wire.
    let json = serde_json::to_value(CreateShareLink {
        entry: file.id,
        password: String::new(),
        expires_at: None,
        password_hash: Some("x".into()),
    })
    .unwrap();
    assert!(json.get("password_hash").is_none());

    // Expired.
    let soon = link(
        run(
            &mut tab,
            Command::CreateShareLink(CreateShareLink {
                entry: file.id,
                password: String::new(),
                expires_at: Some(now_ms() + 1_500),
                password_hash: None,
            }),
        )
        .await
        .unwrap(),
    );
    assert_eq!(get(format!("/share/{soon}/download")).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(get(format!("/share/{soon}")).await.status(), 404);
    assert_eq!(get(format!("/share/{soon}/download")).await.status(), 404);
    // Deleted.
    run(
        &mut tab,
        Command::DeleteShareLink(DeleteShareLink {
            entry: file.id,
            token: open.clone(),
        }),
    )
    .await
    .unwrap();
    assert_eq!(get(format!("/share/{open}/download")).await.status(), 404);
    // The file in the recycle bin: the remaining link opens nothing; restored, it works again.
    saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry { entry: file.id }),
    )
    .await;
    assert_eq!(get(format!("/share/{locked}")).await.status(), 404);
    saved_entry(
        &mut tab,
        Command::RestoreEntry(RestoreEntry { entry: file.id }),
    )
    .await;
    assert_eq!(get(format!("/share/{locked}")).await.status(), 200);
    // Not a token at all.
    assert_eq!(get("/share/..%2F..%2Fetc".into()).await.status(), 404);
    server.stop().await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A zip of `(path, text)` parts: the shape of docx and xlsx files.
fn zipped(parts: &[(&str, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (path, text) in parts {
        zip.start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn docx(text: &str) -> Vec<u8> {
    zipped(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.into(),
        ),
        (
            "word/document.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#),
        ),
    ])
}

fn xlsx(cell: &str) -> Vec<u8> {
    zipped(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{cell}</t></is></c></row></sheetData></worksheet>"#),
        ),
    ])
}

/// A one-page PDF showing `text` (ASCII) in Helvetica, with a correct cross-reference table.
fn pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Searches files as `cookie` until `expect` holds of the names found (indexing runs a moment
/// after a file is stored), or fails after 20 s.
async fn found_files(
    server: &TestServer,
    cookie: &str,
    query: &str,
    expect: impl Fn(&[String]) -> bool,
) -> Vec<xietong::search::FileHit> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = server
            .server_fn(cookie, "search_files", &format!("q={}", urlencode(query)))
            .await;
        assert_eq!(answer.status(), 200);
        let hits: Vec<xietong::search::FileHit> = answer.json().await.unwrap();
        let names: Vec<String> = hits.iter().map(|h| h.file.name.clone()).collect();
        if expect(&names) {
            return hits;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query:?} found {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Search finds files by name and by the text inside PDF, docx and xlsx files (Chinese too),
/// only where the searcher may read them: not someone else's, until it is shared with them,
/// and not once it is in the recycle bin.
#[tokio::test]
async fn files_are_found_by_name_and_text_only_where_readable() {
    use xietong::files::{Permission, ShareEntry};
    use xietong::org::AudienceMember;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let me = server.whoami(&alice).await.id;
    let bob_id = server.whoami(&bob).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let mut stored = Vec::new();
    for (name, bytes) in [
        ("说明.docx", docx("2027年度预算编制说明，请各部门参照执行")),
        ("forecast.pdf", pdf("Quarterly revenue forecast")),
        ("名单.xlsx", xlsx("张伟 销售部")),
        ("notes.txt", "nothing to see".as_bytes().to_vec()),
    ] {
        let upload = up.upload(name, &bytes).await;
        stored.push(
            saved_entry(
                &mut tab,
                Command::SaveUpload(SaveUpload {
                    upload: upload.id,
                    parent: None,
                }),
            )
            .await,
        );
    }
    let only = |name: &'static str| move |names: &[String]| names == [name.to_owned()];
    let hits = found_files(&server, &alice, "预算编制", only("说明.docx")).await;
    assert!(
        hits[0].snippet.contains("预算编制"),
        "{:?}",
        hits[0].snippet
    );
    assert_eq!(hits[0].entry, Some(stored[0].id));
    found_files(&server, &alice, "revenue forecast", only("forecast.pdf")).await;
    found_files(&server, &alice, "销售部", only("名单.xlsx")).await;
    found_files(&server, &alice, "forec", only("forecast.pdf")).await;
    found_files(&server, &alice, "名单", only("名单.xlsx")).await;
    found_files(&server, &alice, "预算 notes", |n| n.is_empty()).await;

    // Bob: nothing of Alice's, until one file is shared with him.
    found_files(&server, &bob, "预算编制", |n| n.is_empty()).await;
    found_files(&server, &bob, "revenue", |n| n.is_empty()).await;
    saved_entry(
        &mut tab,
        Command::ShareEntry(ShareEntry {
            entry: stored[0].id,
            audience: vec![AudienceMember::Person(bob_id)],
            permission: Permission::View,
        }),
    )
    .await;
    found_files(&server, &bob, "预算编制", only("说明.docx")).await;
    found_files(&server, &bob, "revenue", |n| n.is_empty()).await;

    // In the recycle bin: found by nobody.
    saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry {
            entry: stored[0].id,
        }),
    )
    .await;
    found_files(&server, &alice, "预算编制", |n| n.is_empty()).await;
    found_files(&server, &bob, "预算编制", |n| n.is_empty()).await;
    server.stop().await;
}

/// A real S3-compatible server for the test: moto's (`pip install moto[server]`, installed by
/// `.ci/setup.sh --test`), on a free port, with one bucket. Stopped when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn s3_server(bucket: &str) -> S3Server {
    let cache = std::env::var("XIETONG_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/xietong",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let binary = std::env::var("XIETONG_TEST_MOTO")
        .unwrap_or_else(|_| format!("{cache}/tools/moto/bin/moto_server"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(&binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} (run .ci/setup.sh --test to install it): {e}"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(made) = http().put(format!("{endpoint}/{bucket}")).send().await {
            assert!(made.status().is_success(), "{:?}", made.text().await);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    S3Server { child, endpoint }
}

/// With `--s3-url`, a stored file's bytes are in the S3 store before the upload is complete;
/// a node with an empty files directory serves it (download, range, thumbnail) from there;
/// once nothing uses the bytes the sweep deletes them from the store too. A store that cannot
/// be reached stops the start with a clear error.
#[tokio::test]
async fn file_contents_live_in_an_s3_store() {
    let s3 = s3_server("xietong-files").await;
    let endpoint = s3.endpoint.clone();
    let with_s3 = |files: &'static str| {
        let endpoint = endpoint.clone();
        move |c: &mut xietong_server::config::Config| {
            c.s3_url = Some("s3://xietong-files/office".into());
            c.s3_endpoint = Some(endpoint);
            c.s3_access_key = Some("test".into());
            c.s3_secret_key = Some("test".into());
            c.files_dir = Some(c.data_dir.join(files));
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), with_s3("node-a")).await;
    let alice = server.sign_up("alice").await;
    let me = server.whoami(&alice).await.id;
    let mut tab = server.connect(&alice).await;
    tab.subscribe(Scope::User(me), None).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    let bytes = sample(3_000_000, 9);
    let upload = up.upload("大文件.bin", &bytes).await;
    let picture = up.upload("图.png", &png(320, 200)).await;
    let entry = saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: upload.id,
            parent: None,
        }),
    )
    .await;
    let image = saved_entry(
        &mut tab,
        Command::SaveUpload(SaveUpload {
            upload: picture.id,
            parent: None,
        }),
    )
    .await;
    let file = entry.file.clone().unwrap();
    // In the store under the prefix, by hash.
    let hash = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(&bytes))
    };
    let stored = http()
        .get(format!("{}/xietong-files/office/blobs/{hash}", s3.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    assert_eq!(stored.bytes().await.unwrap().as_ref(), bytes.as_slice());
    drop(tab);
    server.stop_keep_data().await;

    // Another node, same database, an empty files directory: everything comes from S3.
    let server = TestServer::start_with(dir.path(), with_s3("node-b")).await;
    let up = Uploader {
        server: &server,
        cookie: alice.clone(),
    };
    assert!(!dir
        .path()
        .join("data/node-b/blobs")
        .join(&hash[..2])
        .join(&hash)
        .exists());
    let whole = up.download(file.id, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let part = up.download(file.id, Some("bytes=1000-1999")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);
    let thumbnail = http()
        .get(format!(
            "{}/files/{}/thumbnail",
            server.base(),
            image.file.as_ref().unwrap().id
        ))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(thumbnail.status(), 200);

    // Deleted for good and swept: gone from the store as well.
    let mut tab = server.connect(&alice).await;
    // A new client counts its ids from 1 again: past the first node's, or the commands
    // would be answered as the retries of those (commands are idempotent by client id).
    for _ in 0..10 {
        tab.next_client_id();
    }
    tab.subscribe(Scope::User(me), None).await;
    saved_entry(
        &mut tab,
        Command::DeleteEntry(DeleteEntry { entry: entry.id }),
    )
    .await;
    run(&mut tab, Command::EmptyRecycleBin(EmptyRecycleBin {}))
        .await
        .unwrap();
    let database = server.running_database_url();
    drop(tab);
    server.stop_keep_data().await;
    let store = xietong_server::store::Store::open(&database, Some(&dir.path().join("data")))
        .await
        .unwrap();
    let files = xietong_server::files::FileStore::open(&dir.path().join("data/node-b"))
        .unwrap()
        .with_s3(
            "s3://xietong-files/office",
            Some(&s3.endpoint),
            "us-east-1",
            Some(("test", "test")),
        )
        .unwrap();
    assert_eq!(
        xietong_server::files::uploads::sweep(&store, &files, 0)
            .await
            .unwrap(),
        1
    );
    store.close().await;
    let gone = http()
        .get(format!("{}/xietong-files/office/blobs/{hash}", s3.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // A store nobody answers at: a clear error, not a server that fails later.
    let mut config = xietong_server::config::Config::defaults();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.path().join("dead-s3");
    config.s3_url = Some("s3://nowhere".into());
    config.s3_endpoint = Some("http://127.0.0.1:9".into());
    config.s3_access_key = Some("test".into());
    config.s3_secret_key = Some("test".into());
    let refused = match xietong_server::start(config).await {
        Ok(_) => panic!("started without its S3 store"),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("S3"), "{refused}");
    common::drop_postgres_database_for(dir.path()).await;
}
