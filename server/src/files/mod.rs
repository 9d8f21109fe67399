//! Files: one store for every module. Bytes live on disk under the files directory, once per
//! content (named by their SHA-256); the database says which stored file (a version, with its
//! name) uses which bytes and what it is attached to, which decides who may read it.
//!
//! - `uploads`: the HTTP routes that bring bytes in, in resumable pieces;
//! - `download`: the route that serves them, checked by the access module;
//! - `cabinet`: the personal file cabinet's commands and snapshot.

pub mod cabinet;
pub mod download;
pub mod links;
pub mod search;
pub mod sharing;
pub mod text;
pub mod thumbnail;
pub mod uploads;

use std::path::{Path, PathBuf};

use crate::store::StoreError;

/// What can go wrong moving bytes.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("the files directory {path} cannot be used: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the disk is full")]
    DiskFull,
    #[error("file storage failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FilesError {
    /// An I/O error, with "no space left" told apart (the uploader is told so, not "retry").
    pub fn io(e: std::io::Error) -> FilesError {
        if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
            FilesError::DiskFull
        } else {
            FilesError::Io(e)
        }
    }
}

impl From<sqlx::Error> for FilesError {
    fn from(e: sqlx::Error) -> Self {
        FilesError::Store(StoreError::Db(e))
    }
}

impl From<FilesError> for app::AppError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::DiskFull => app::AppError::Conflict(
                "The server's disk is full: nothing was stored. Tell your administrator.".into(),
            ),
            other => {
                tracing::error!(error = %other, "file storage failed");
                app::AppError::Internal
            }
        }
    }
}

/// Where bytes are kept: `uploads/<id>` while they arrive, `blobs/<2 hex>/<sha-256>` once
/// complete. Both under one directory, so a finished upload is renamed into place, never
/// copied.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// Opens (creating) the files directory; fails clearly when it cannot be written.
    pub fn open(root: &Path) -> Result<FileStore, FilesError> {
        for dir in [root.join("uploads"), root.join("blobs")] {
            std::fs::create_dir_all(&dir).map_err(|source| FilesError::Directory {
                path: dir.clone(),
                source,
            })?;
        }
        // Named for this process: nodes sharing the directory start side by side.
        let probe = root.join("uploads").join(format!(
            ".write-test-{}-{}",
            std::process::id(),
            crate::auth::new_token()
        ));
        std::fs::write(&probe, b"ok")
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|source| FilesError::Directory {
                path: root.to_owned(),
                source,
            })?;
        Ok(FileStore {
            root: root.to_owned(),
        })
    }

    /// Where an upload's bytes gather. The id is a random token of safe characters.
    pub fn upload_path(&self, id: &str) -> PathBuf {
        self.root.join("uploads").join(id)
    }

    /// Where the thumbnail of an image with this SHA-256 is kept.
    pub fn thumbnail_path(&self, hash: &str) -> PathBuf {
        let shard = hash.get(..2).unwrap_or("00");
        self.root
            .join("thumbnails")
            .join(shard)
            .join(format!("{hash}.png"))
    }

    /// Where the bytes with this SHA-256 (lowercase hex) are kept.
    pub fn blob_path(&self, hash: &str) -> PathBuf {
        let shard = hash.get(..2).unwrap_or("00");
        self.root.join("blobs").join(shard).join(hash)
    }
}

/// Sweeps unused uploads and bytes every ten minutes (bytes unused for an hour go), until
/// `stop`.
pub async fn sweep_now_and_then(
    store: crate::store::Store,
    files: std::sync::Arc<FileStore>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        match uploads::sweep(&store, &files, 3600 * 1000).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(blobs = n, "unused file contents deleted"),
            Err(e) => tracing::warn!(error = %e, "sweeping unused files failed; retrying later"),
        }
        if let Err(e) = text::forget_removed(&store).await {
            tracing::warn!(error = %e, "forgetting the search terms of removed files failed");
        }
    }
}

/// Stores complete uploads of the actor's as files of a new chat message, readable by whoever
/// reads its channel. Each upload is used up; their bytes count against the poster's quota.
pub async fn attach_to_message(
    ctx: &mut crate::command::Ctx<'_>,
    uploads: &[String],
    channel: xietong::ChannelId,
    message: xietong::MessageId,
) -> Result<Vec<xietong::files::FileInfo>, crate::command::CommandError> {
    use crate::command::CommandError;
    if uploads.is_empty() {
        return Ok(Vec::new());
    }
    let owner = ctx.user()?.id;
    // One quota check at a time per person, on every node.
    crate::store::lock_scope(ctx.conn(), xietong::Scope::User(owner)).await?;
    let limits = crate::settings::workspace(ctx.conn()).await?;
    let mut used = uploads::used_bytes(ctx.conn(), owner).await?;
    let at = ctx.now();
    let mut files = Vec::with_capacity(uploads.len());
    for id in uploads {
        let upload = uploads::take_completed(ctx.conn(), id, owner).await?;
        used += upload.size;
        if used > limits.quota_bytes() {
            return Err(CommandError::Conflict(format!(
                "not enough room for \"{}\": your quota is {}",
                upload.name,
                xietong::files::human_size(limits.quota_bytes())
            )));
        }
        let file: i64 = sqlx::query_scalar(
            "INSERT INTO files (hash, name, size, mime, owner_id, channel_id, message_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&upload.hash)
        .bind(&upload.name)
        .bind(upload.size as i64)
        .bind(&upload.mime)
        .bind(owner.0)
        .bind(channel.0)
        .bind(message.0)
        .bind(at)
        .fetch_one(ctx.conn())
        .await?;
        files.push(xietong::files::FileInfo {
            id: xietong::files::FileId(file),
            name: upload.name,
            size: upload.size,
            mime: upload.mime,
            by: owner,
            at,
        });
    }
    Ok(files)
}

/// The type of a file, from its first bytes (not its name): what `infer` recognises, else
/// UTF-8 text, else opaque bytes.
pub fn detect_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    // A cut in the middle of a character at the end of the sample is still text.
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if text && !head.contains(&0) {
        "text/plain".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

/// Types shown in the page (`inline`): raster images only. Everything else downloads, so no
/// uploaded HTML, SVG or script ever runs in the site's origin.
pub fn shows_inline(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp" | "image/avif"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(detect_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(detect_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(detect_type("纯文本，UTF-8".as_bytes()), "text/plain");
        assert_eq!(detect_type(b"\0\x01\x02binary"), "application/octet-stream");
        // HTML and SVG are text to us: served as downloads, never inline.
        assert!(!shows_inline(&detect_type(
            b"<html><script>alert(1)</script>"
        )));
        assert!(!shows_inline(&detect_type(b"<svg onload=alert(1)>")));
        assert!(shows_inline("image/png"));
    }
}
