//! The browser's code is served under a path named after its build, so that a page from before
//! a redeploy can never load a part of the new build (see `server/src/assets.rs`).

mod common;

use common::*;

/// Writes a stand-in bundle: what cargo-leptos puts into `<site-root>/pkg`.
fn write_bundle(dir: &std::path::Path, main_module: &[u8], part: &[u8]) {
    let pkg = dir.join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("xietong.wasm"), main_module).unwrap();
    std::fs::write(pkg.join("xietong.js"), "export default function init() {}").unwrap();
    std::fs::write(
        pkg.join("__wasm_split_manifest.json"),
        r#"{"a_part":["chunk_1"]}"#,
    )
    .unwrap();
    std::fs::write(pkg.join("chunk_1.wasm"), part).unwrap();
    std::fs::write(pkg.join("xietong.css"), "body { margin: 0 }").unwrap();
}

/// Stops the server, puts new files in place and starts it again on the same data.
async fn redeploy(
    server: TestServer,
    dir: &std::path::Path,
    main_module: &[u8],
    part: &[u8],
) -> TestServer {
    server.stop_keep_data().await;
    write_bundle(dir, main_module, part);
    TestServer::start(dir).await
}

/// The build the page names in its script URL (`/pkg/<build>/xietong.js`).
async fn build_named_by_page(server: &TestServer) -> String {
    let page = http()
        .get(format!("{}/login", server.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page
        .find("/pkg/")
        .expect("the page loads its script from /pkg/")
        + "/pkg/".len();
    let (build, rest) = page[at..].split_once('/').expect("a build directory");
    assert!(
        rest.starts_with("xietong.js"),
        "the script sits in the build's directory: {}",
        page[at..].chars().take(60).collect::<String>()
    );
    assert!(
        build.len() == 16 && build.chars().all(|c| c.is_ascii_hexdigit()),
        "{build}"
    );
    build.to_owned()
}

async fn status_and_body(server: &TestServer, path: &str) -> (u16, Vec<u8>, Option<String>) {
    let response = http()
        .get(format!("{}{path}", server.base()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.bytes().await.unwrap().to_vec(), cache)
}

#[tokio::test]
async fn the_page_loads_its_code_under_its_build_and_a_redeploy_retires_the_old_path() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path(), b"\0asm first build", b"part of the first build");
    let server = TestServer::start(dir.path()).await;
    let first = build_named_by_page(&server).await;
    let (status, body, cache) =
        status_and_body(&server, &format!("/pkg/{first}/chunk_1.wasm")).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"part of the first build");
    let expected_cache = if cfg!(debug_assertions) {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    assert_eq!(cache.as_deref(), Some(expected_cache));
    let (status, _, _) = status_and_body(&server, &format!("/pkg/{first}/xietong.wasm")).await;
    assert_eq!(status, 200);
    // The unversioned path older pages used is no longer served, except the stylesheet,
    // which the page links there.
    let (status, _, _) = status_and_body(&server, "/pkg/chunk_1.wasm").await;
    assert_eq!(status, 404);
    let (status, _, _) = status_and_body(&server, "/pkg/xietong.wasm").await;
    assert_eq!(status, 404);
    let (status, body, _) = status_and_body(&server, "/pkg/xietong.css").await;
    assert_eq!((status, body.as_slice()), (200, &b"body { margin: 0 }"[..]));
    // The same files name the same build (every node of a cluster agrees).
    server.stop_keep_data().await;
    let server = TestServer::start(dir.path()).await;
    assert_eq!(build_named_by_page(&server).await, first);
    // A change inside one part alone (the main module unchanged) is another build too.
    let server = redeploy(
        server,
        dir.path(),
        b"\0asm first build",
        b"part of the first build, changed",
    )
    .await;
    let changed_part = build_named_by_page(&server).await;
    assert_ne!(changed_part, first);
    let (status, _, _) = status_and_body(&server, &format!("/pkg/{first}/chunk_1.wasm")).await;
    assert_eq!(status, 404);

    // A redeploy: a tab still open on the first build asks for its part and gets 404, not the
    // new build's part under the same name.
    let server = redeploy(
        server,
        dir.path(),
        b"\0asm second build",
        b"part of the second build",
    )
    .await;
    let second = build_named_by_page(&server).await;
    assert_ne!(second, first);
    let (status, body, _) = status_and_body(&server, &format!("/pkg/{first}/chunk_1.wasm")).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, body, _) = status_and_body(&server, &format!("/pkg/{second}/chunk_1.wasm")).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"part of the second build");
    server.stop().await;
}
