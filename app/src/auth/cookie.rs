//! The session cookie: an opaque random token, HttpOnly, SameSite=Lax.

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use leptos::prelude::*;

pub const SESSION_COOKIE: &str = "xietong_session";
/// Sessions last 30 days.
pub const SESSION_MAX_AGE_SECS: i64 = 30 * 24 * 3600;

/// The session token in a request's `Cookie` headers.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

pub fn session_token_of_request() -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| session_token(&parts.headers))
}

fn header(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
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
        assert_eq!(session_token(&headers).as_deref(), Some("tok-en_1"));
        headers.insert(COOKIE, HeaderValue::from_static("xietong_session="));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn cookie_is_http_only_and_same_site() {
        let h = header("abc", 60, false);
        assert!(h.contains("HttpOnly") && h.contains("SameSite=Lax") && !h.contains("Secure"));
        assert!(header("abc", 60, true).ends_with("; Secure"));
    }
}
