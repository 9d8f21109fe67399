//! The app layer's one error type: what a server function can answer, shown to the user as is.
//! Each kind has its HTTP status: expected refusals are 4xx, only real faults 500.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::Texts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    /// A value broke one of the protocol's rules (said in the reader's language).
    #[error("{0}")]
    Rule(xietong::ValidationError),
    #[error("Wrong username or password")]
    BadCredentials,
    #[error("That username is taken")]
    UsernameTaken,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Please log in")]
    Unauthorized,
    #[error("Too many attempts; try again in a few minutes")]
    RateLimited,
    #[error("Something went wrong on the server; please try again")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status a server function answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) | AppError::Rule(_) => 400,
            AppError::BadCredentials | AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::UsernameTaken | AppError::Conflict(_) => 409,
            AppError::RateLimited => 429,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl AppError {
    /// The message in the page's language. Refusals that carry the server's own words
    /// (a validation rule, a conflict) keep them.
    pub fn text(&self, t: &Texts) -> String {
        match self {
            AppError::Invalid(m)
            | AppError::Conflict(m)
            | AppError::NotFound(m)
            | AppError::Forbidden(m) => m.clone(),
            AppError::Rule(rule) => (t.invalid)(rule),
            AppError::BadCredentials => t.bad_credentials.to_owned(),
            AppError::UsernameTaken => t.username_taken.to_owned(),
            AppError::Unauthorized => t.please_log_in.to_owned(),
            AppError::RateLimited => t.rate_limited.to_owned(),
            AppError::Internal => t.server_fault.to_owned(),
            AppError::Transport(why) => (t.unreachable)(why),
        }
    }
}

/// The message of a failed server action, for its form's alert (`None` while pending or fine).
pub fn failure_text<T>(t: &Texts, result: Option<Result<T, AppError>>) -> Option<String> {
    result.and_then(|r| r.err()).map(|e| e.text(t))
}

impl From<xietong::ValidationError> for AppError {
    fn from(e: xietong::ValidationError) -> Self {
        AppError::Rule(e)
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::TextJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request never reached a handler that could judge it (bad form fields …).
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => AppError::Invalid(e),
            // On the server, a request body that does not decode (a JSON server function's)
            // is the caller's fault too; in the browser it is an answer that does not decode.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(e) => AppError::Invalid(e),
            other => AppError::Transport(other.to_string()),
        }
    }
}
