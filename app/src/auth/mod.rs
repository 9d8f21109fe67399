//! Accounts: sign-up, log-in, log-out, and the session cookie.

#[cfg(feature = "ssr")]
pub mod cookie;
mod pages;

pub use pages::{LoginPage, LogoutButton, SignupPage};

use leptos_router::{lazy_route, LazyRoute};

/// The log-in page, loaded on demand (its own WASM chunk with `cargo leptos --split`).
#[derive(Debug)]
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        LoginRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage /> }.into_any()
    }
}

/// The sign-up page, loaded on demand.
#[derive(Debug)]
pub struct SignupRoute;

#[lazy_route]
impl LazyRoute for SignupRoute {
    fn data() -> Self {
        SignupRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <SignupPage /> }.into_any()
    }
}

use leptos::prelude::*;

use crate::AppError;

/// Creates an account (the first one becomes the workspace admin), signs it in and goes to the
/// workspace.
#[server(prefix = "/api", endpoint = "signup", output = crate::codec::TextJson)]
pub async fn sign_up(
    username: String,
    password: String,
    invite: Option<String>,
) -> Result<(), AppError> {
    let username = xietong::validate::username(&username)?;
    let password = xietong::validate::password(&password)?;
    let backend = crate::backend::backend()?;
    let ip = crate::backend::client_ip();
    let invite = invite.filter(|i| !i.is_empty());
    let session = backend
        .sign_up(ip, &username, password, invite.as_deref())
        .await?;
    cookie::set_session(&session.token, backend.https());
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api", endpoint = "login", output = crate::codec::TextJson)]
pub async fn log_in(username: String, password: String) -> Result<(), AppError> {
    let backend = crate::backend::backend()?;
    let ip = crate::backend::client_ip();
    let username = xietong::validate::username_key(&username);
    let session = backend.log_in(ip, &username, &password).await?;
    cookie::set_session(&session.token, backend.https());
    leptos_axum::redirect("/");
    Ok(())
}

/// Whether the request's session is still valid (the socket asks after failed reconnects).
#[server(prefix = "/api", endpoint = "whoami", output = crate::codec::TextJson)]
pub async fn who_am_i() -> Result<xietong::CurrentUser, AppError> {
    crate::backend::require_user()
}

#[server(prefix = "/api", endpoint = "logout", output = crate::codec::TextJson)]
pub async fn log_out() -> Result<(), AppError> {
    let backend = crate::backend::backend()?;
    if let Some(token) = cookie::session_token_of_request(backend.https()) {
        backend.log_out(&token).await?;
    }
    cookie::clear_session(backend.https());
    leptos_axum::redirect("/login");
    Ok(())
}
