//! The session cookie: an opaque random token, HttpOnly, SameSite=Lax. Over HTTPS it is also
//! Secure and named with the `__Host-` prefix, so no subdomain can set or shadow it.

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use leptos::prelude::*;

pub const SESSION_COOKIE: &str = "xietong_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-xietong_session";
/// Sessions last 30 days.
pub const SESSION_MAX_AGE_SECS: i64 = 30 * 24 * 3600;

fn name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The session token in a request's `Cookie` headers (over HTTPS only the `__Host-` one).
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let wanted = name(secure);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

pub fn session_token_of_request(secure: bool) -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| session_token(&parts.headers, secure))
}

fn header(token: &str, max_age: i64, secure: bool) -> String {
    let name = name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

pub fn set_session(token: &str, secure: bool) {
    append(header(token, SESSION_MAX_AGE_SECS, secure));
}

pub fn clear_session(secure: bool) {
    append(header("", 0, secure));
}

fn append(value: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&value),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; xietong_session=tok-en_1; b=2"),
        );
        assert_eq!(session_token(&headers, false).as_deref(), Some("tok-en_1"));
        assert_eq!(session_token(&headers, true), None);
        headers.insert(COOKIE, HeaderValue::from_static("xietong_session="));
        assert_eq!(session_token(&headers, false), None);
        headers.insert(
            COOKIE,
            HeaderValue::from_static("__Host-xietong_session=abc"),
        );
        assert_eq!(session_token(&headers, true).as_deref(), Some("abc"));
    }

    #[test]
    fn cookie_is_http_only_and_same_site() {
        let h = header("abc", 60, false);
        assert!(h.contains("HttpOnly") && h.contains("SameSite=Lax") && !h.contains("Secure"));
        let secure = header("abc", 60, true);
        assert!(secure.starts_with("__Host-xietong_session=abc; Path=/;"));
        assert!(secure.ends_with("; Secure"));
    }
}
