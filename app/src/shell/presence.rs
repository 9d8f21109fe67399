//! Who is online, and the state of this tab's connection.

use leptos::prelude::*;

use crate::live::{ConnState, Live};

#[component]
pub fn OnlineList() -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <section class="online">
            <h2 id="online-heading">"Online"</h2>
            <ul aria-label="Online">
                <For each=move || live.online.get() key=|u| u.id let:user>
                    <li>{user.username}</li>
                </For>
            </ul>
        </section>
    }
}

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let live = expect_context::<Live>();
    let text = move || match live.status.get() {
        ConnState::Connecting => "Connecting…",
        ConnState::Connected => "Connected",
        ConnState::Reconnecting => "Reconnecting…",
        ConnState::Outdated => "Xietong was updated: please reload the page",
    };
    let class = move || match live.status.get() {
        ConnState::Connected => "status ok",
        _ => "status warn",
    };
    view! { <p role="status" class=class>{text}</p> }
}
