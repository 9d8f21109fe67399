//! Xietong's Leptos app. One folder per feature (`auth`, `admin`, `chat`), each with its
//! server functions next to the components that call them; `shell` is the frame around them
//! and `live` the one WebSocket every live screen shares.

pub mod admin;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod chat;
pub mod codec;
pub mod command;
pub mod contacts;
pub mod error;
pub mod files;
pub mod forum;
pub mod i18n;
pub mod live;
pub mod mail;
pub mod news;
pub mod notices;
pub mod notify;
pub mod org;
pub mod search;
pub mod settings;
pub mod shell;
pub mod short_messages;
pub mod transfer;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

pub use error::AppError;

/// The HTML document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy(&options);
    let language = i18n::provide_page_language();
    view! {
        <!DOCTYPE html>
        <html lang=language.tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                // Plain tags, not `leptos_meta`'s components: nothing changes them after the
                // first render, so the browser needs no code for them (16 KB of the first
                // screen). `cargo leptos watch` reloads the sheet it finds by this `href`.
                <link rel="stylesheet" href="/pkg/xietong.css" />
                <title>"协同"</title>
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A Content-Security-Policy for the page: scripts only from this site or with this response's
/// nonce (the hydration script), WebAssembly allowed, no plugins, no framing, forms and
/// connections to this site only. User content can never run as script, even if some
/// rendering bug let HTML through.
#[cfg(feature = "ssr")]
fn content_security_policy(options: &LeptosOptions) {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    // `cargo leptos watch` reloads the page through its own socket.
    let reload = if std::env::var("LEPTOS_WATCH").is_ok() {
        let host = options.site_addr.ip();
        format!(" ws://{host}:{}", options.reload_port)
    } else {
        String::new()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    i18n::provide_page_language();
    let t = i18n::t();
    view! {
        <Router>
            <Routes fallback=move || view! { <p class="not-found">{t.page_not_found}</p> }>
                <Route path=path!("/login") view={Lazy::<auth::LoginRoute>::new()} />
                <Route path=path!("/signup") view={Lazy::<auth::SignupRoute>::new()} />
                // Async SSR: the first response is the complete page with its 50 messages,
                // readable before (or without) the WASM.
                <ParentRoute path=path!("") view=shell::Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=chat::ChannelPage ssr=SsrMode::Async />
                    <Route path=path!("c/:id") view=chat::ChannelPage ssr=SsrMode::Async />
                    <Route path=path!("admin") view={Lazy::<admin::AdminRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("contacts") view={Lazy::<contacts::AddressBookRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("files") view={Lazy::<files::FilesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("messages") view={Lazy::<short_messages::ShortMessagesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("notices") view={Lazy::<notices::NoticesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("news") view={Lazy::<news::NewsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("forum") view={Lazy::<forum::ForumRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("mail") view={Lazy::<mail::MailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings/notifications") view={Lazy::<notify::NotificationSettingsRoute>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
