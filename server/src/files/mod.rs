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
use std::sync::Arc;

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
    #[error("the S3 store failed: {0}")]
    Remote(String),
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
/// copied. With an S3-compatible store, a complete file's bytes go there too (`blobs/<sha-256>`
/// under its prefix) before anyone is told the upload is complete, and that copy is the one
/// that counts: the local directory stages uploads and caches what this node has read.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
    remote: Option<Remote>,
}

#[derive(Debug)]
struct Remote {
    store: Arc<dyn object_store::ObjectStore>,
    prefix: String,
    url: String,
}

/// Parts of a file moved to or from the S3 store at a time.
const REMOTE_PART_BYTES: usize = 8 * 1024 * 1024;

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
            remote: None,
        })
    }

    /// Keeps contents in the S3-compatible store at `url` (`s3://bucket[/prefix]`), reached at
    /// `endpoint` when it is not AWS. Nothing is asked of it yet (`check_remote` does).
    pub fn with_s3(
        mut self,
        url: &str,
        endpoint: Option<&str>,
        region: &str,
        credentials: Option<(&str, &str)>,
    ) -> Result<FileStore, FilesError> {
        let bad = |why: String| FilesError::Remote(format!("{url}: {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("expected s3://bucket or s3://bucket/prefix".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket".into()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(region)
            // A store that does not answer is an error within seconds, not minutes.
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(30),
                ..Default::default()
            })
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(std::time::Duration::from_secs(5))
                    .with_timeout(std::time::Duration::from_secs(600)),
            );
        if let Some((key, secret)) = credentials {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
        }
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                // MinIO and most self-hosted stores address buckets by path.
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        self.remote = Some(Remote {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
            url: url.to_owned(),
        });
        Ok(self)
    }

    /// Fails clearly at start-up when the S3 store cannot be reached or read.
    pub async fn check_remote(&self) -> Result<(), FilesError> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let probe = remote.key("startup-probe");
        match remote.store.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(FilesError::Remote(format!(
                "cannot use the S3 store {}: {e}",
                remote.url
            ))),
        }
    }

    /// Whether contents live in an S3-compatible store.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Makes sure the bytes with this hash (in the local blob directory) are in the S3 store.
    pub async fn publish(&self, hash: &str) -> Result<(), FilesError> {
        use tokio::io::AsyncReadExt;
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let key = remote.key(&format!("blobs/{hash}"));
        match remote.store.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(FilesError::Remote(e.to_string())),
        }
        let mut file = tokio::fs::File::open(self.blob_path(hash))
            .await
            .map_err(FilesError::io)?;
        let upload = remote
            .store
            .put_multipart(&key)
            .await
            .map_err(|e| FilesError::Remote(e.to_string()))?;
        let mut writer =
            object_store::WriteMultipart::new_with_chunk_size(upload, REMOTE_PART_BYTES);
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buffer).await.map_err(FilesError::io)?;
            if n == 0 {
                break;
            }
            // At most a few parts in flight: memory stays flat whatever the file's size.
            writer
                .wait_for_capacity(2)
                .await
                .map_err(|e| FilesError::Remote(e.to_string()))?;
            writer.write(&buffer[..n]);
        }
        writer
            .finish()
            .await
            .map_err(|e| FilesError::Remote(e.to_string()))?;
        Ok(())
    }

    /// The local path of the bytes with this hash, fetched from the S3 store first when this
    /// node does not have them yet.
    pub async fn fetch(&self, hash: &str) -> Result<PathBuf, FilesError> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let path = self.blob_path(hash);
        let Some(remote) = &self.remote else {
            return Ok(path);
        };
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        let key = remote.key(&format!("blobs/{hash}"));
        let found = match remote.store.get(&key).await {
            Ok(found) => found,
            // Missing everywhere: the caller says so, as for a missing local file.
            Err(object_store::Error::NotFound { .. }) => return Ok(path),
            Err(e) => return Err(FilesError::Remote(e.to_string())),
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(FilesError::io)?;
        }
        // Into a name of its own, then into place: a reader never sees half a file.
        let part = path.with_extension(format!("part-{}", crate::auth::new_token()));
        let mut file = tokio::fs::File::create(&part)
            .await
            .map_err(FilesError::io)?;
        let mut stream = found.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FilesError::Remote(e.to_string()))?;
            if let Err(e) = file.write_all(&chunk).await {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(FilesError::io(e));
            }
        }
        file.sync_all().await.map_err(FilesError::io)?;
        drop(file);
        tokio::fs::rename(&part, &path)
            .await
            .map_err(FilesError::io)?;
        Ok(path)
    }

    /// Deletes the S3 copy of bytes no file uses any more.
    pub async fn forget(&self, hash: &str) -> Result<(), FilesError> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        match remote
            .store
            .delete(&remote.key(&format!("blobs/{hash}")))
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(FilesError::Remote(e.to_string())),
        }
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

impl Remote {
    fn key(&self, name: &str) -> object_store::path::Path {
        if self.prefix.is_empty() {
            object_store::path::Path::from(name)
        } else {
            object_store::path::Path::from(format!("{}/{name}", self.prefix))
        }
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

/// What stored files belong to: they are readable where it is.
#[derive(Debug, Clone, Copy)]
pub enum AttachTo {
    Message(xietong::ChannelId, xietong::MessageId),
    Story {
        story: xietong::StoryId,
        cover: bool,
    },
    Mail(xietong::MailId),
    Notice(xietong::NoticeId),
}

/// The column of `files` that ties a file to an item of a module (see `attached`).
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    Mail,
    Notice,
}

impl Holder {
    fn column(self) -> &'static str {
        match self {
            Holder::Mail => "mail_id",
            Holder::Notice => "notice_id",
        }
    }
}

/// The files attached to each of `items`, in the order they were attached.
pub async fn attached(
    conn: &mut crate::store::Conn,
    holder: Holder,
    items: &[i64],
) -> Result<std::collections::BTreeMap<i64, Vec<xietong::files::FileInfo>>, StoreError> {
    let mut found: std::collections::BTreeMap<i64, Vec<xietong::files::FileInfo>> =
        std::collections::BTreeMap::new();
    let column = holder.column();
    for chunk in items.chunks(500) {
        let sql = format!(
            "SELECT {column}, id, name, size, mime, owner_id, created_at FROM files
             WHERE {column} IN ({}) ORDER BY id",
            crate::org::audience::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64, String, i64, String, i64, i64)>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for (item, id, name, size, mime, by, at) in query.fetch_all(&mut *conn).await? {
            found.entry(item).or_default().push(xietong::files::FileInfo {
                id: xietong::files::FileId(id),
                name,
                size: size.max(0) as u64,
                mime,
                by: xietong::UserId(by),
                at,
            });
        }
    }
    Ok(found)
}

/// Stores complete uploads of the actor's as files of a new chat message, readable by whoever
/// reads its channel. Each upload is used up; their bytes count against the poster's quota.
pub async fn attach_to_message(
    ctx: &mut crate::command::Ctx<'_>,
    uploads: &[String],
    channel: xietong::ChannelId,
    message: xietong::MessageId,
) -> Result<Vec<xietong::files::FileInfo>, crate::command::CommandError> {
    attach(ctx, uploads, AttachTo::Message(channel, message)).await
}

/// Stores complete uploads of the actor's as files of `to`. Each upload is used up; their
/// bytes count against the actor's quota.
pub async fn attach(
    ctx: &mut crate::command::Ctx<'_>,
    uploads: &[String],
    to: AttachTo,
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
        let (channel, message, story, cover, mail, notice) = match to {
            AttachTo::Message(channel, message) => {
                (Some(channel.0), Some(message.0), None, false, None, None)
            }
            AttachTo::Mail(mail) => (None, None, None, false, Some(mail.0), None),
            AttachTo::Notice(notice) => (None, None, None, false, None, Some(notice.0)),
            AttachTo::Story { story, cover } => {
                if cover && !shows_inline(&upload.mime) {
                    return Err(CommandError::Invalid(format!(
                        "\"{}\" is not an image (PNG, JPEG, GIF, WebP, BMP or AVIF)",
                        upload.name
                    )));
                }
                (None, None, Some(story.0), cover, None, None)
            }
        };
        let file: i64 = sqlx::query_scalar(
            "INSERT INTO files (hash, name, size, mime, owner_id, channel_id, message_id,
                                story_id, is_cover, mail_id, notice_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&upload.hash)
        .bind(&upload.name)
        .bind(upload.size as i64)
        .bind(&upload.mime)
        .bind(owner.0)
        .bind(channel)
        .bind(message)
        .bind(story)
        .bind(i64::from(cover))
        .bind(mail)
        .bind(notice)
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
