//! The browser's code, served under a path named after its build: `/pkg/<build>/…`.
//!
//! The parts of the page that load on first use (`cargo leptos --split`) are fetched by names
//! relative to the module that asks for them (`chunk_27.wasm`), and those names are the same in
//! every build. Under a fixed `/pkg/`, a tab opened before a redeploy would fetch the new
//! build's part and run it against its old module. Under a build-named path it asks for
//! `/pkg/<old build>/…`, gets 404, and the page says so (`app::shell::show_fault`). The build
//! is a hash of every file of the bundle, so every node serving the same files names it alike;
//! since the files under one name never change, a release build lets browsers keep them for
//! good. Only the stylesheet keeps its plain path (`/pkg/<output>.css`): the page links it
//! there, and a stylesheet from another build does no harm.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::response::IntoResponse;
use leptos::WasmSplitManifest;
use sha2::{Digest, Sha256};

/// What cargo-leptos writes beside the main module when it splits it.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// The built bundle in `<site-root>/pkg`.
#[derive(Clone)]
pub struct Bundle {
    /// Hex digest of every file of the bundle, names and contents.
    pub build: String,
    dir: PathBuf,
    stylesheet: String,
    /// Which parts a lazily loaded function needs, for the page's preload links.
    split_manifest: Option<WasmSplitManifest>,
}

impl Bundle {
    /// Reads and hashes the bundle. A missing bundle (a server run without `cargo leptos
    /// build`, as in the Rust tests) still serves pages, whose scripts then fail to load.
    pub fn load(site_root: &str, output_name: &str) -> Bundle {
        let dir = Path::new(site_root).join("pkg");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut hash = Sha256::new();
        for path in &files {
            if let Ok(bytes) = std::fs::read(path) {
                hash.update(path.file_name().unwrap_or_default().as_encoded_bytes());
                hash.update((bytes.len() as u64).to_le_bytes());
                hash.update(&bytes);
            }
        }
        let build = if dir.join(format!("{output_name}.wasm")).is_file() {
            hash.finalize()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        } else {
            tracing::warn!(
                "no {output_name}.wasm in {}: pages will not hydrate (run `cargo leptos build`)",
                dir.display()
            );
            "unbuilt".to_owned()
        };
        let split_manifest = std::fs::read_to_string(dir.join(SPLIT_MANIFEST))
            .ok()
            .and_then(|json| serde_json::from_str::<HashMap<String, Vec<String>>>(&json).ok())
            .map(|preloads| {
                WasmSplitManifest(leptos::reactive::owner::ArcStoredValue::new((
                    format!("/pkg/{build}"),
                    preloads,
                    SPLIT_LOADER.to_owned(),
                )))
            });
        Bundle {
            build,
            dir,
            stylesheet: format!("{output_name}.css"),
            split_manifest,
        }
    }

    /// The pkg directory as the page names it (`LeptosOptions::site_pkg_dir`).
    pub fn pkg_dir(&self) -> String {
        format!("pkg/{}", self.build)
    }

    /// Provides the split manifest to a page being rendered. Leptos would read it from
    /// `<site-root>/<pkg-dir>`, which does not exist under a build-named path.
    pub fn provide_split_manifest(&self) {
        if let Some(manifest) = &self.split_manifest {
            leptos::prelude::provide_context(manifest.clone());
        }
    }

    /// Serves the bundle's files under `/pkg/<build>` and the stylesheet at its plain path;
    /// any other path under `/pkg/` (another build's, or the unversioned one older pages
    /// used) is 404.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        // A debug build (`cargo leptos watch`) or watch mode can rebuild the WASM under a
        // running server, so the browser must ask again there.
        let keep = !cfg!(debug_assertions) && std::env::var_os("LEPTOS_WATCH").is_none();
        let files = tower::ServiceBuilder::new()
            .map_response(move |mut response: http::Response<_>| {
                let ok = matches!(response.status().as_u16(), 200 | 206 | 304);
                let cache = if keep && ok {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                response.headers_mut().insert(
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static(cache),
                );
                response
            })
            .service(tower_http::services::ServeDir::new(&self.dir));
        axum::Router::new()
            .nest_service(&format!("/pkg/{}", self.build), files)
            .route_service(
                &format!("/pkg/{}", self.stylesheet),
                tower_http::services::ServeFile::new(self.dir.join(&self.stylesheet)),
            )
            .route("/pkg/{*other}", axum::routing::any(not_this_build))
    }
}

async fn not_this_build() -> axum::response::Response {
    (
        http::StatusCode::NOT_FOUND,
        [(http::header::CACHE_CONTROL, "no-cache")],
        "not a file of the build this server runs\n",
    )
        .into_response()
}
