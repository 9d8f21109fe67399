//! Xietong's Leptos app. One folder per feature (`auth`, `chat`, `live`), each with its server
//! functions next to the components that call them.

pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod chat;
pub mod command;
pub mod error;
pub mod live;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use error::AppError;

/// The HTML document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/xietong.css" />
        <Title text="协同 Xietong" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/login") view=auth::LoginPage />
                <Route path=path!("/signup") view=auth::SignupPage />
                // Async SSR: the first response is the complete page with its 50 messages,
                // readable before (or without) the WASM.
                <ParentRoute path=path!("") view=chat::Workspace ssr=SsrMode::Async>
                    <Route path=path!("") view=chat::ChannelPage ssr=SsrMode::Async />
                    <Route path=path!("c/:id") view=chat::ChannelPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
