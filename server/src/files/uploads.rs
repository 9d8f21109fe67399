//! Bringing bytes in: an upload is started with its name and size (refused at once when it is
//! over the limit or the quota), filled in pieces, each appended where the server's copy ends,
//! and stored by content hash once complete. A piece cut off midway keeps what arrived, so the
//! browser resumes from the server's count instead of starting over. Only the uploader knows
//! an upload's id; nothing of it is visible to anyone until a command puts it somewhere.

use std::io::SeekFrom;

use app::AppError;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use xietong::files::{StartUpload, Upload};
use xietong::limits::MAX_UPLOAD_PIECE_BYTES;
use xietong::CurrentUser;

use super::{detect_type, FilesError};
use crate::backend::Refusal;
use crate::store::{now_ms, Conn, StoreError};
use crate::AppState;

/// Uploads one person may have under way at once.
const MAX_OPEN_UPLOADS: i64 = 32;
/// An upload left unfinished (or finished but never used) this long is forgotten.
const ABANDONED_AFTER_MS: i64 = 24 * 3600 * 1000;

/// How long a node may hold an upload while writing one piece: longer than any piece takes
/// (the route's own deadline is shorter), so a lease outlives only a crashed writer.
const LEASE_MS: i64 = 16 * 60 * 1000;

type UploadRow = (String, i64, String, i64, i64, Option<String>);

fn upload((id, _user, name, size, received, hash): UploadRow) -> Upload {
    Upload {
        id,
        name,
        size: size as u64,
        received: received as u64,
        complete: hash.is_some(),
    }
}

async fn row(conn: &mut Conn, id: &str, user: &CurrentUser) -> Result<UploadRow, AppError> {
    let row: Option<UploadRow> =
        sqlx::query_as("SELECT id, user_id, name, size, received, hash FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::Db)?;
    match row {
        Some(row) if row.1 == user.id.0 => Ok(row),
        // Someone else's upload is as unknown as a made-up id.
        _ => Err(AppError::NotFound("no such upload".into())),
    }
}

/// Bytes `user`'s files take: every version they own (the recycle bin's too).
pub async fn used_bytes(conn: &mut Conn, user: xietong::UserId) -> Result<u64, StoreError> {
    let used: Option<i64> =
        sqlx::query_scalar("SELECT CAST(SUM(size) AS BIGINT) FROM files WHERE owner_id = $1")
            .bind(user.0)
            .fetch_one(&mut *conn)
            .await?;
    Ok(used.unwrap_or(0).max(0) as u64)
}

pub fn signed_in(user: Option<Extension<CurrentUser>>) -> Result<CurrentUser, AppError> {
    user.map(|Extension(u)| u).ok_or(AppError::Unauthorized)
}

/// `POST /files/uploads`: starts an upload.
pub async fn start(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Json(request): Json<StartUpload>,
) -> Result<(StatusCode, Json<Upload>), Refusal> {
    let user = signed_in(user)?;
    let name = xietong::files::file_name(&request.name).map_err(AppError::Rule)?;
    let mut tx = state.store.write().await?;
    let limits = crate::settings::workspace(&mut tx).await?;
    if request.size > limits.max_file_bytes() {
        return Err(AppError::Invalid(format!(
            "\"{name}\" is {}; the largest file allowed is {}",
            xietong::files::human_size(request.size),
            xietong::files::human_size(limits.max_file_bytes())
        ))
        .into());
    }
    // Abandoned uploads of this person go first: their room is free again.
    if state.store.engine() == crate::store::Engine::Postgres {
        // Two uploads started side by side must not both fit the same room.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user.id.0)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Db)?;
    }
    let stale: Vec<String> = sqlx::query_scalar(
        "DELETE FROM uploads WHERE user_id = $1 AND updated_at < $2 RETURNING id",
    )
    .bind(user.id.0)
    .bind(now_ms() - ABANDONED_AFTER_MS)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::Db)?;
    let (open, pending): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(size) AS BIGINT) FROM uploads WHERE user_id = $1",
    )
    .bind(user.id.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::Db)?;
    if open >= MAX_OPEN_UPLOADS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_OPEN_UPLOADS} uploads at once; wait for some to finish"
        ))
        .into());
    }
    let used = used_bytes(&mut tx, user.id).await?;
    let reserved = used + pending.unwrap_or(0).max(0) as u64;
    if reserved + request.size > limits.quota_bytes() {
        return Err(AppError::Conflict(format!(
            "Not enough room: \"{name}\" needs {}, and {} of your {} quota is left",
            xietong::files::human_size(request.size),
            xietong::files::human_size(limits.quota_bytes().saturating_sub(reserved)),
            xietong::files::human_size(limits.quota_bytes())
        ))
        .into());
    }
    let id = crate::auth::new_token();
    // The file first: a full disk refuses the upload before anything is recorded.
    tokio::fs::File::create(state.files.upload_path(&id))
        .await
        .map_err(FilesError::io)?;
    let now = now_ms();
    let recorded = sqlx::query(
        "INSERT INTO uploads (id, user_id, name, size, received, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5)",
    )
    .bind(&id)
    .bind(user.id.0)
    .bind(&name)
    .bind(request.size as i64)
    .bind(now)
    .execute(&mut *tx)
    .await;
    let committed = match recorded {
        Ok(_) => tx.commit().await,
        Err(e) => Err(e),
    };
    if let Err(e) = committed {
        let _ = tokio::fs::remove_file(state.files.upload_path(&id)).await;
        return Err(StoreError::Db(e).into());
    }
    for old in stale {
        let _ = tokio::fs::remove_file(state.files.upload_path(&old)).await;
    }
    let mut started = Upload {
        id,
        name,
        size: request.size,
        received: 0,
        complete: false,
    };
    if request.size == 0 {
        // Nobody else knows the id yet: no lease needed.
        started = finish(&state, started).await?;
    }
    Ok((StatusCode::CREATED, Json(started)))
}

/// `GET /files/uploads/{id}`: how much the server has (where to resume).
pub async fn status(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<String>,
) -> Result<Json<Upload>, Refusal> {
    let user = signed_in(user)?;
    let mut conn = state.store.read().await?;
    let row = row(&mut conn, &id, &user).await?;
    Ok(Json(upload(row)))
}

/// `DELETE /files/uploads/{id}`: cancels an upload and deletes its bytes.
pub async fn cancel(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Refusal> {
    let user = signed_in(user)?;
    let mut tx = state.store.write().await?;
    let (id, ..) = row(&mut tx, &id, &user).await?;
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Db)?;
    tx.commit().await.map_err(StoreError::Db)?;
    let _ = tokio::fs::remove_file(state.files.upload_path(&id)).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
pub struct PieceAt {
    offset: u64,
}

/// `PUT /files/uploads/{id}?offset=N`: the next piece (at most `MAX_UPLOAD_PIECE_BYTES`),
/// starting where the server's copy ends. The answer says how much the server has now; once
/// that is everything, the file is stored.
pub async fn put_piece(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<String>,
    Query(at): Query<PieceAt>,
    body: Body,
) -> Result<Json<Upload>, Refusal> {
    let user = signed_in(user)?;
    let mut conn = state.store.read().await?;
    let row = row(&mut conn, &id, &user).await?;
    drop(conn);
    let mut current = upload(row);
    if current.complete {
        return Ok(Json(current));
    }
    if !lease(&state, &id, true).await? {
        return Err(
            AppError::Conflict("a piece of this upload is on its way already".into()).into(),
        );
    }
    let mut result = write_piece(&state, &mut current, at.offset, body).await;
    if result.is_ok() && current.received == current.size {
        // Still holding the lease: nothing writes the bytes while they are hashed and stored.
        result = match finish(&state, current.clone()).await {
            Ok(done) => {
                current = done;
                Ok(())
            }
            Err(e) => Err(e.into()),
        };
    }
    lease(&state, &id, false).await?;
    result?;
    Ok(Json(current))
}

/// Takes (`true`) or gives back the upload's writing lease; false when another writer has it.
async fn lease(state: &AppState, id: &str, take: bool) -> Result<bool, StoreError> {
    let mut tx = state.store.write().await?;
    let now = now_ms();
    let done = if take {
        sqlx::query(
            "UPDATE uploads SET writing_until = $1
             WHERE id = $2 AND (writing_until IS NULL OR writing_until < $3)",
        )
        .bind(now + LEASE_MS)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
    } else {
        sqlx::query("UPDATE uploads SET writing_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
    };
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Appends one piece at the server's count, keeping what arrives of a piece cut off.
async fn write_piece(
    state: &AppState,
    current: &mut Upload,
    offset: u64,
    body: Body,
) -> Result<(), Refusal> {
    let id = current.id.clone();
    let path = state.files.upload_path(&id);
    let mut file = match tokio::fs::OpenOptions::new().write(true).open(&path).await {
        Ok(file) => file,
        // Staged on another node's disk (several nodes, each with its own files directory).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::Conflict(
                "this upload's first pieces are on another server; start it again".into(),
            )
            .into())
        }
        Err(e) => return Err(FilesError::io(e).into()),
    };
    // After a crash the file may hold less than was counted: resume from what is there.
    let on_disk = file.metadata().await.map_err(FilesError::io)?.len();
    if on_disk < current.received {
        record(state, &id, current.received, on_disk).await?;
        current.received = on_disk;
    }
    if offset != current.received {
        return Err(AppError::Conflict(format!(
            "the upload continues at byte {}",
            current.received
        ))
        .into());
    }
    // Bytes past the count are from a piece that failed: they go.
    file.set_len(current.received)
        .await
        .map_err(FilesError::io)?;
    file.seek(SeekFrom::Start(current.received))
        .await
        .map_err(FilesError::io)?;
    let room = current.size - current.received;
    let mut written: u64 = 0;
    let mut stream = body.into_data_stream();
    let mut failure: Option<Refusal> = None;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                // The client went away midway: keep what arrived, for the resume.
                tracing::debug!(error = %e, upload = %id, "upload piece cut off");
                failure = Some(AppError::Transport("the piece was cut off".into()).into());
                break;
            }
        };
        let len = chunk.len() as u64;
        if written + len > room {
            failure = Some(AppError::Invalid("more bytes than the upload's size".into()).into());
            break;
        }
        if written + len > MAX_UPLOAD_PIECE_BYTES as u64 {
            failure = Some(Refusal(AppError::Invalid(format!(
                "a piece is at most {} bytes",
                MAX_UPLOAD_PIECE_BYTES
            ))));
            break;
        }
        if let Err(e) = file.write_all(&chunk).await {
            // What was written of this piece is in doubt: none of it counts.
            let _ = file.set_len(current.received).await;
            return Err(FilesError::io(e).into());
        }
        written += len;
    }
    // What is counted is on the disk first.
    let synced = match file.flush().await {
        Ok(()) => file.sync_data().await,
        Err(e) => Err(e),
    };
    if let Err(e) = synced {
        let _ = file.set_len(current.received).await;
        return Err(FilesError::io(e).into());
    }
    drop(file);
    if written > 0 {
        record(state, &id, current.received, current.received + written).await?;
        current.received += written;
    }
    match failure {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Moves the count from `from` to `to` (only from `from`: a count changed meanwhile wins).
async fn record(state: &AppState, id: &str, from: u64, to: u64) -> Result<(), StoreError> {
    let mut tx = state.store.write().await?;
    sqlx::query(
        "UPDATE uploads SET received = $1, updated_at = $2 WHERE id = $3 AND received = $4",
    )
    .bind(to as i64)
    .bind(now_ms())
    .bind(id)
    .bind(from as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Hashes the complete upload, moves its bytes into the blob store (or drops them when the
/// same bytes are there already) and marks it complete.
async fn finish(state: &AppState, mut current: Upload) -> Result<Upload, FilesError> {
    let path = state.files.upload_path(&current.id);
    let (hash, head) = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .map_err(|e| FilesError::Io(std::io::Error::other(e)))??
    };
    let mime = detect_type(&head);
    let blob = state.files.blob_path(&hash);
    // Touched first (and committed), so the sweep of unused blobs leaves these bytes alone
    // from now on; then the bytes are linked into place; then the upload is marked complete;
    // only then does its own name go. Each step can be repeated after a crash.
    let mut tx = state.store.write().await?;
    sqlx::query(
        "INSERT INTO blobs (hash, size, mime, touched_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (hash) DO UPDATE SET touched_at = excluded.touched_at",
    )
    .bind(&hash)
    .bind(current.size as i64)
    .bind(&mime)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if !tokio::fs::try_exists(&blob).await.unwrap_or(false) {
        if let Some(dir) = blob.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(FilesError::io)?;
        }
        match tokio::fs::hard_link(&path, &blob).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(FilesError::io(e)),
        }
    }
    // With an S3 store, the bytes are there before anyone is told they are stored.
    state.files.publish(&hash).await?;
    let mut tx = state.store.write().await?;
    sqlx::query(
        "UPDATE uploads SET hash = $1, mime = $2, received = size, updated_at = $3 WHERE id = $4",
    )
    .bind(&hash)
    .bind(&mime)
    .bind(now_ms())
    .bind(&current.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let _ = tokio::fs::remove_file(&path).await;
    current.complete = true;
    current.received = current.size;
    Ok(current)
}

/// The SHA-256 (hex) of a file and its first bytes (for the type).
fn hash_file(path: &std::path::Path) -> Result<(String, Vec<u8>), FilesError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(FilesError::io)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(FilesError::io)?;
        if n == 0 {
            break;
        }
        if head.len() < 8192 {
            let take = (8192 - head.len()).min(n);
            head.extend_from_slice(&buffer[..take]);
        }
        hasher.update(&buffer[..n]);
    }
    Ok((hex(&hasher.finalize()), head))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A complete upload of `user`'s, consumed by a command that stores it somewhere: its name,
/// size, type and bytes' hash. The upload row goes in the command's transaction.
pub struct Completed {
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub hash: String,
}

pub async fn take_completed(
    conn: &mut Conn,
    id: &str,
    user: xietong::UserId,
) -> Result<Completed, crate::command::CommandError> {
    use crate::command::CommandError;
    type Row = (i64, String, i64, Option<String>, Option<String>);
    let row: Option<Row> =
        sqlx::query_as("SELECT user_id, name, size, hash, mime FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((owner, name, size, Some(hash), Some(mime))) = row.filter(|r| r.0 == user.0) else {
        return Err(CommandError::NotFound(
            "no such upload, or it is not complete".into(),
        ));
    };
    debug_assert_eq!(owner, user.0);
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(Completed {
        name,
        size: size as u64,
        mime,
        hash,
    })
}

/// Deletes what nobody uses: uploads idle for a day (with their bytes), and stored bytes no
/// file or upload refers to, untouched for `grace_ms`. A blob is set aside before its row is
/// deleted, and put back when an upload touched it meanwhile, so bytes an upload relies on
/// are never lost. Returns how many blobs went.
pub async fn sweep(
    store: &crate::store::Store,
    files: &super::FileStore,
    grace_ms: i64,
) -> Result<usize, FilesError> {
    let now = now_ms();
    let mut tx = store.write().await?;
    let idle: Vec<String> =
        sqlx::query_scalar("DELETE FROM uploads WHERE updated_at < $1 RETURNING id")
            .bind(now - ABANDONED_AFTER_MS)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    for id in idle {
        let _ = tokio::fs::remove_file(files.upload_path(&id)).await;
    }
    const UNUSED: &str = "touched_at < $1
        AND NOT EXISTS (SELECT 1 FROM files f WHERE f.hash = blobs.hash)
        AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.hash = blobs.hash)";
    let mut conn = store.read().await?;
    let candidates: Vec<String> =
        sqlx::query_scalar(&format!("SELECT hash FROM blobs WHERE {UNUSED} LIMIT 1000"))
            .bind(now - grace_ms)
            .fetch_all(&mut *conn)
            .await?;
    drop(conn);
    let mut swept = 0;
    for hash in candidates {
        let blob = files.blob_path(&hash);
        let aside = blob.with_extension(format!("sweep-{}", std::process::id()));
        let moved = tokio::fs::rename(&blob, &aside).await.is_ok();
        let mut tx = store.write().await?;
        let deleted = sqlx::query(&format!("DELETE FROM blobs WHERE hash = $2 AND {UNUSED}"))
            .bind(now - grace_ms)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if deleted.rows_affected() == 1 {
            swept += 1;
            files.forget(&hash).await?;
            let _ = tokio::fs::remove_file(&aside).await;
            let _ = tokio::fs::remove_file(files.thumbnail_path(&hash)).await;
        } else if moved {
            // Touched meanwhile: back it goes (unless the toucher brought its own copy).
            if tokio::fs::try_exists(&blob).await.unwrap_or(false) {
                let _ = tokio::fs::remove_file(&aside).await;
            } else {
                tokio::fs::rename(&aside, &blob)
                    .await
                    .map_err(FilesError::io)?;
            }
        }
    }
    Ok(swept)
}
