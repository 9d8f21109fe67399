//! The browser's code, served under a path named after its build: `/pkg/<build>/…`.
//!
//! The parts of the page that load on first use (`cargo leptos --split`) are fetched by names
//! relative to the module that asks for them (`chunk_27.wasm`), and those names are the same in
//! every build. Under a fixed `/pkg/`, a tab opened before a redeploy would fetch the new
//! build's part and run it against its old module. Under a build-named path it asks for
//! `/pkg/<old build>/…`, gets 404, and the page says Xietong was updated
//! (`app::shell::show_fault`). The build is a hash of the files, so every node serving the same
//! files names it alike; since the files under one name never change, a release build lets
//! browsers keep them for good.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leptos::WasmSplitManifest;
use sha2::{Digest, Sha256};

/// What cargo-leptos writes beside the main module when it splits it.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// The built bundle in `<site-root>/pkg`.
#[derive(Clone)]
pub struct Bundle {
    /// Hex digest of the main module, its JS and the split loader and manifest.
    pub build: String,
    dir: PathBuf,
    /// Which parts a lazily loaded function needs, for the page's preload links.
    split_manifest: Option<WasmSplitManifest>,
}

impl Bundle {
    /// Reads and hashes the bundle. A missing bundle (a server run without `cargo leptos
    /// build`, as in the Rust tests) still serves pages, whose scripts then fail to load.
    pub fn load(site_root: &str, output_name: &str) -> Bundle {
        let dir = Path::new(site_root).join("pkg");
        let mut hash = Sha256::new();
        let mut found = false;
        for name in [
            format!("{output_name}.wasm"),
            format!("{output_name}.js"),
            SPLIT_LOADER.to_owned(),
            SPLIT_MANIFEST.to_owned(),
        ] {
            if let Ok(bytes) = std::fs::read(dir.join(&name)) {
                found |= name.ends_with(".wasm");
                hash.update(name.as_bytes());
                hash.update((bytes.len() as u64).to_le_bytes());
                hash.update(&bytes);
            }
        }
        let digest = hash.finalize();
        let build = if found {
            digest[..8].iter().map(|b| format!("{b:02x}")).collect()
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

    /// Serves the bundle's files under `/pkg/<build>`. Any other build's path falls through to
    /// the 404 page.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let files = tower_http::services::ServeDir::new(&self.dir);
        // In a debug build (`cargo leptos watch`) the WASM can be rebuilt under a running
        // server, so the browser must ask again.
        let cache = if cfg!(debug_assertions) {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        let files = tower::ServiceBuilder::new()
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static(cache),
            ))
            .service(files);
        axum::Router::new().nest_service(&format!("/pkg/{}", self.build), files)
    }
}
