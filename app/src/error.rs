//! The app layer's one error type: what a server function can answer, shown to the user as is.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("Wrong username or password")]
    BadCredentials,
    #[error("That username is taken")]
    UsernameTaken,
    #[error("A channel with that name already exists")]
    ChannelNameTaken,
    #[error("No such channel")]
    NotFound,
    #[error("Please log in")]
    Unauthorized,
    #[error("Too many attempts; try again in a few minutes")]
    RateLimited,
    #[error("Something went wrong on the server; please try again")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl From<xietong::ValidationError> for AppError {
    fn from(e: xietong::ValidationError) -> Self {
        AppError::Invalid(e.to_string())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
