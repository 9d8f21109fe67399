//! Serving stored files: checked by the access module, with the type detected at upload, the
//! UTF-8 file name (`中文文件名.docx` arrives as itself), range requests (resumed and seeking
//! downloads), and never shown inline unless it is a raster image — an uploaded HTML or SVG
//! page downloads, and even opened it runs sandboxed, without the site's origin.

use app::AppError;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tower::ServiceExt;
use xietong::files::FileId;
use xietong::CurrentUser;

use super::shows_inline;
use super::uploads::signed_in;
use crate::access::ReadableFile;
use crate::backend::Refusal;
use crate::AppState;

#[derive(serde::Deserialize, Default)]
pub struct DownloadOptions {
    /// Show in the page (an image in a message) rather than save; honoured for images only.
    #[serde(default)]
    inline: bool,
}

/// `GET /files/{id}/download`.
pub async fn download(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<i64>,
    Query(options): Query<DownloadOptions>,
    request: Request,
) -> Result<Response, Refusal> {
    let user = signed_in(user)?;
    let mut conn = state.store.read().await?;
    let file = crate::access::file(&mut conn, &user, FileId(id)).await?;
    drop(conn);
    serve(&state, &file, options.inline, request).await
}

/// A file the caller has been allowed to read, as a download (or, for an image asked for
/// `inline`, shown in the page). `request` carries the ranges and conditions.
pub async fn serve(
    state: &AppState,
    file: &ReadableFile,
    inline: bool,
    request: Request,
) -> Result<Response, Refusal> {
    let path = state.files.fetch(&file.hash).await?;
    // Ranges, conditional requests and HEAD, by a well-worn implementation.
    let served = match tower_http::services::ServeFile::new(&path)
        .oneshot(request)
        .await
    {
        Ok(served) => served,
        Err(never) => match never {},
    };
    if served.status() == http::StatusCode::NOT_FOUND {
        tracing::error!(hash = %file.hash, "a stored file's bytes are missing");
        return Err(AppError::NotFound("the file's contents are missing".into()).into());
    }
    let mut response = served.into_response();
    let headers = response.headers_mut();
    let inline = inline && shows_inline(&file.mime);
    let content_type = served_type(&file.mime);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&disposition(inline, &file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Opened anyway (a direct link): no script, no plugins, no same-origin access.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    // Already as compact as it gets, and byte ranges must stay byte ranges.
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    Ok(response)
}

/// The `Content-Type` a stored file is served with: markup that a browser would run (HTML,
/// XHTML, SVG, XML, script) goes as opaque bytes, whatever was detected.
pub fn served_type(mime: &str) -> &str {
    let runnable = ["html", "xml", "svg", "javascript", "ecmascript"]
        .iter()
        .any(|kind| mime.contains(kind));
    match mime {
        _ if runnable => "application/octet-stream",
        "text/plain" => "text/plain; charset=utf-8",
        other => other,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): every browser gets the UTF-8
/// name; the plain one is an ASCII stand-in for very old clients.
pub fn disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = xietong::files::percent_encode(name);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_name_survives_in_utf8() {
        assert_eq!(
            super::disposition(false, "中文文件名.docx"),
            "attachment; filename=\"_____.docx\"; filename*=UTF-8''%E4%B8%AD%E6%96%87%E6%96%87%E4%BB%B6%E5%90%8D.docx"
        );
        assert_eq!(
            super::disposition(true, "a \"b\".png"),
            "inline; filename=\"a _b_.png\"; filename*=UTF-8''a%20%22b%22.png"
        );
    }
}
