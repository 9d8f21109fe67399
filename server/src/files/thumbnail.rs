//! Small versions of images, for chat and lists: at most 400 pixels on a side, PNG, made on
//! first request (off the async runtime, within memory limits, so a decompression bomb is
//! refused rather than obeyed) and kept beside the blobs, one per content.

use app::AppError;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tower::ServiceExt;
use xietong::files::FileId;
use xietong::CurrentUser;

use super::uploads::signed_in;
use super::FilesError;
use crate::backend::Refusal;
use crate::AppState;

/// Longest side of a thumbnail, in pixels.
const SIDE: u32 = 400;

/// `GET /files/{id}/thumbnail`: for an image the user may read; 404 for anything else.
pub async fn thumbnail(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, Refusal> {
    let user = signed_in(user)?;
    let mut conn = state.store.read().await?;
    let file = crate::access::file(&mut conn, &user, FileId(id)).await?;
    drop(conn);
    if !super::shows_inline(&file.mime) {
        return Err(AppError::NotFound("no thumbnail for this file".into()).into());
    }
    let path = state.files.thumbnail_path(&file.hash);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        let source = state.files.fetch(&file.hash).await?;
        let target = path.clone();
        let made = tokio::task::spawn_blocking(move || make(&source, &target))
            .await
            .map_err(|e| FilesError::Io(std::io::Error::other(e)))?;
        if let Err(e) = made {
            tracing::info!(file = id, error = %e, "no thumbnail");
            return Err(AppError::NotFound("no thumbnail for this file".into()).into());
        }
    }
    let served = match tower_http::services::ServeFile::new(&path)
        .oneshot(request)
        .await
    {
        Ok(served) => served,
        Err(never) => match never {},
    };
    let mut response = served.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    Ok(response)
}

/// Decodes the image (at most 40 megapixels, 256 MB of memory) and writes its thumbnail.
fn make(source: &std::path::Path, target: &std::path::Path) -> Result<(), FilesError> {
    let mut reader = image::ImageReader::open(source)
        .map_err(FilesError::io)?
        .with_guessed_format()
        .map_err(FilesError::io)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| FilesError::Io(std::io::Error::other(e)))?;
    if u64::from(decoded.width()) * u64::from(decoded.height()) > 40_000_000 {
        return Err(FilesError::Io(std::io::Error::other("image too large")));
    }
    let small = decoded.thumbnail(SIDE, SIDE);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(FilesError::io)?;
    }
    // Written aside and renamed, so a reader never sees half a thumbnail.
    // Named for this request: two first views of one image make it side by side.
    let partial = target.with_extension(format!("part-{}", crate::auth::new_token()));
    let saved = small
        .save_with_format(&partial, image::ImageFormat::Png)
        .map_err(|e| FilesError::Io(std::io::Error::other(e)))
        .and_then(|()| std::fs::rename(&partial, target).map_err(FilesError::io));
    if saved.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    saved
}
