//! The frame around every screen: brand, who I am, log-out, the navigation each feature
//! contributes, who is online, and the connection state. It knows features only as the nav
//! sections it places; the live service is provided here, once per tab.

mod dialog;
mod fault;
mod presence;

pub use dialog::{Modal, OnDemand};
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub use fault::show_fault;
pub use presence::{ConnectionStatus, OnlineList};

use leptos::prelude::*;
use leptos_router::components::Outlet;

use crate::auth::{who_am_i, LogoutButton};
use crate::live::Live;

#[component]
pub fn Shell() -> impl IntoView {
    Live::provide();
    crate::chat::ChatState::provide();
    let me = Resource::new(|| (), |_| who_am_i());
    // On a narrow screen the navigation is a panel opened by "Menu"; following a link closes it.
    let menu_open = RwSignal::new(false);
    let t = crate::i18n::t();
    let close_on_link = move |ev: leptos::ev::MouseEvent| {
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            use wasm_bindgen::JsCast;
            let on_link = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a").ok().flatten())
                .is_some();
            if on_link {
                menu_open.set(false);
            }
        }
        #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
        let _ = ev;
    };
    view! {
        <div class="workspace">
            <header class="topbar">
                <button type="button" class="menu" aria-expanded=move || menu_open.get().to_string()
                    aria-controls="sidebar" on:click=move |_| menu_open.update(|o| *o = !*o)>
                    {t.menu}
                </button>
                <span class="logo">"协同"</span>
            </header>
            <aside class="sidebar" id="sidebar" class:open=move || menu_open.get() on:click=close_on_link>
                <header class="brand">
                    <span class="logo">"协同"</span>
                    <ForMe me part=my_name />
                    {view! {
                        <crate::chat::NotificationsButton />
                        <crate::settings::SettingsButton />
                        <LogoutButton />
                    }.into_any()}
                </header>
                {view! {
                    <nav aria-label=t.office class="office-nav">
                        {[
                            ("/contacts", t.address_book),
                            ("/files", t.files),
                            ("/notices", t.notices),
                            ("/news", t.news),
                            ("/forum", t.forum),
                            ("/mail", t.mail),
                            ("/messages", t.short_messages),
                        ]
                        .into_iter()
                        .map(|(href, label)| view! { <leptos_router::components::A href>{label}</leptos_router::components::A> })
                        .collect_view()}
                    </nav>
                }.into_any()}
                {view! { <crate::chat::ChannelSidebar /> }.into_any()}
                <ForMe me part=admin_links />
                {view! { <OnlineList /> <ConnectionStatus /> }.into_any()}
            </aside>
            <main class="channel">
                {view! { <crate::search::SearchBox /> }.into_any()}
                <Outlet />
            </main>
        </div>
    }
}

/// Who I am, once known.
type Me = Option<xietong::CurrentUser>;

/// A part of the frame that waits for who I am. Every such part goes through this one
/// component, so the first screen carries the code of one `Suspense`, not one per part.
#[component]
fn ForMe(
    me: Resource<Result<xietong::CurrentUser, crate::AppError>>,
    part: fn(Me) -> AnyView,
) -> impl IntoView {
    view! { <Suspense>{move || Suspend::new(async move { part(me.await.ok()) })}</Suspense> }
}

/// My name in the brand.
fn my_name(me: Me) -> AnyView {
    me.map(|me| view! { <span class="me">{me.username}</span> })
        .into_any()
}

/// The admin's links (nothing for everyone else).
fn admin_links(me: Me) -> AnyView {
    let t = crate::i18n::t();
    me.filter(|me| me.is_admin)
        .map(|_| {
            view! {
                <nav aria-label=t.admin class="admin-nav"><crate::admin::AdminLink /></nav>
                <crate::admin::WorkspaceSettingsButton />
            }
        })
        .into_any()
}
