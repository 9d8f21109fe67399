//! Share links: `/share/<token>` opens a small page with the file's name and size and a
//! "Download" button (a password field first, when the link has one); the download itself is
//! `/share/<token>/download` (a form post when there is a password). No session is needed:
//! the link is the permission, checked by the access module each time (deleted, expired or
//! recycled links open nothing). Password guesses are throttled per address and link.

use app::AppError;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};

use crate::access::{self, Denied, ReadableFile};
use crate::backend::Refusal;
use crate::AppState;

struct Texts {
    lang: &'static str,
    download: &'static str,
    password: &'static str,
    wrong_password: &'static str,
    gone: &'static str,
    too_many: &'static str,
}

const ENGLISH: Texts = Texts {
    lang: "en",
    download: "Download",
    password: "Password",
    wrong_password: "That password is not right.",
    gone: "This link does not exist or has expired.",
    too_many: "Too many wrong passwords; try again in a few minutes.",
};

const CHINESE: Texts = Texts {
    lang: "zh-CN",
    download: "下载",
    password: "密码",
    wrong_password: "密码不正确。",
    gone: "此链接不存在或已过期。",
    too_many: "密码错误次数过多，请几分钟后再试。",
};

/// The page's language: Chinese when the browser prefers it.
fn texts(headers: &HeaderMap) -> &'static Texts {
    let chinese = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("zh"));
    if chinese {
        &CHINESE
    } else {
        &ENGLISH
    }
}

fn page(status: StatusCode, t: &Texts, title: &str, body: &str) -> Response {
    let title = ammonia::clean_text(title);
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/xietong.css\"></head>\
         <body><main class=\"share-page\">{body}</main></body></html>",
        lang = t.lang
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    // The token is in the address: it goes to no other site (same-origin, not no-referrer:
    // with that a browser posts the password form with `Origin: null`), and the page is in no
    // frame.
    headers.insert(
        header::REFERRER_POLICY,
        http::HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        http::HeaderValue::from_static("DENY"),
    );
    response
}

fn gone(t: &Texts) -> Response {
    let body = format!("<p role=\"alert\">{}</p>", t.gone);
    page(StatusCode::NOT_FOUND, t, t.gone, &body)
}

/// The file's page: its name and size and a way to download it.
fn file_page(
    status: StatusCode,
    t: &Texts,
    token: &str,
    file: &ReadableFile,
    needs_password: bool,
    alert: Option<&str>,
) -> Response {
    let name = ammonia::clean_text(&file.name);
    let size = xietong::files::human_size(file.size);
    let token = ammonia::clean_text(token);
    let alert = alert
        .map(|a| format!("<p role=\"alert\" class=\"error\">{a}</p>"))
        .unwrap_or_default();
    let action = if needs_password {
        format!(
            "<form method=\"post\" action=\"/share/{token}/download\">\
             <label>{password} <input type=\"password\" name=\"password\" required \
             autocomplete=\"off\"></label> <button type=\"submit\">{download}</button></form>",
            password = t.password,
            download = t.download
        )
    } else {
        format!(
            "<p><a class=\"button\" href=\"/share/{token}/download\" download>{}</a></p>",
            t.download
        )
    };
    let body = format!("<h1>{name}</h1><p class=\"size\">{size}</p>{alert}{action}");
    page(status, t, &file.name, &body)
}

async fn find(state: &AppState, token: &str) -> Result<Option<(ReadableFile, String)>, Refusal> {
    // Tokens are 43 URL-safe characters; anything else is not one (and not worth a query).
    if token.len() > 100
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    let mut conn = state.store.read().await?;
    match access::file_by_link(&mut conn, token, crate::store::now_ms()).await {
        Ok(found) => Ok(Some(found)),
        Err(Denied::Store(e)) => Err(AppError::from(e).into()),
        Err(_) => Ok(None),
    }
}

/// `GET /share/{token}`.
pub async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let t = texts(&headers);
    Ok(match find(&state, &token).await? {
        None => gone(t),
        Some((file, hash)) => file_page(StatusCode::OK, t, &token, &file, !hash.is_empty(), None),
    })
}

/// `GET /share/{token}/download`: the file, for a link without a password.
pub async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, Refusal> {
    let t = texts(request.headers());
    match find(&state, &token).await? {
        None => Ok(gone(t)),
        Some((file, hash)) if !hash.is_empty() => Ok(file_page(
            StatusCode::FORBIDDEN,
            t,
            &token,
            &file,
            true,
            None,
        )),
        Some((file, _)) => link_download(&state, &file, request).await,
    }
}

/// The file, not kept by the browser: once the link is deleted or expired, it is gone.
async fn link_download(
    state: &AppState,
    file: &ReadableFile,
    request: Request,
) -> Result<Response, Refusal> {
    let mut response = super::download::serve(state, file, false, request).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        http::HeaderValue::from_static("same-origin"),
    );
    Ok(response)
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /share/{token}/download` with the link's password: the file, or the page again.
pub async fn unlock(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: Option<Extension<app::backend::ClientIp>>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, Refusal> {
    let t = texts(&headers);
    let Some((file, hash)) = find(&state, &token).await? else {
        return Ok(gone(t));
    };
    let ip = ip.map(|Extension(app::backend::ClientIp(ip))| ip);
    let key = format!("share-link:{token}");
    let throttle = &state.login_failures;
    if throttle.blocked(ip, &key) {
        return Ok(file_page(
            StatusCode::TOO_MANY_REQUESTS,
            t,
            &token,
            &file,
            !hash.is_empty(),
            Some(t.too_many),
        ));
    }
    if !hash.is_empty() {
        // Counted before the check, so guesses sent side by side are counted too.
        throttle.failed(ip, &key);
        let password: String = form
            .password
            .chars()
            .take(xietong::limits::MAX_PASSWORD_CHARS + 1)
            .collect();
        let right = crate::auth::verify_password(&state.passwords, password, hash)
            .await
            .map_err(AppError::from)?;
        if !right {
            return Ok(file_page(
                StatusCode::FORBIDDEN,
                t,
                &token,
                &file,
                true,
                Some(t.wrong_password),
            ));
        }
        throttle.succeeded(ip, &key);
    }
    // Served as the download it asked for (a GET without a body: ranges do not apply).
    let mut get = Request::new(axum::body::Body::empty());
    *get.method_mut() = http::Method::GET;
    link_download(&state, &file, get).await
}
