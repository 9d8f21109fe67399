//! The frame around every screen: brand, who I am, log-out, the navigation each feature
//! contributes, who is online, and the connection state. It knows features only as the nav
//! sections it places; the live service is provided here, once per tab.

mod dialog;
mod presence;

pub use dialog::Modal;
pub use presence::{ConnectionStatus, OnlineList};

use leptos::prelude::*;
use leptos_router::components::Outlet;

use crate::admin::InvitePeople;
use crate::auth::{who_am_i, LogoutButton};
use crate::live::Live;

#[component]
pub fn Shell() -> impl IntoView {
    Live::provide();
    let me = Resource::new(|| (), |_| who_am_i());
    view! {
        <div class="workspace">
            <aside class="sidebar">
                <header class="brand">
                    <span class="logo">"协同"</span>
                    <Suspense>
                        {move || Suspend::new(async move {
                            me.await.ok().map(|me| view! { <span class="me">{me.username}</span> })
                        })}
                    </Suspense>
                    <LogoutButton />
                </header>
                {view! { <crate::chat::ChannelSidebar /> }.into_any()}
                <Suspense>
                    {move || Suspend::new(async move {
                        me.await.ok().filter(|me| me.is_admin).map(|_| view! { <InvitePeople /> })
                    })}
                </Suspense>
                {view! { <OnlineList /> <ConnectionStatus /> }.into_any()}
            </aside>
            <main class="channel">
                <Outlet />
            </main>
        </div>
    }
}
