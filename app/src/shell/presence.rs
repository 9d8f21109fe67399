//! Who is online, and the state of this tab's connection.

use leptos::prelude::*;

use crate::live::{ConnState, Live};

#[component]
pub fn OnlineList() -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    view! {
        <section class="online">
            <h2 id="online-heading">{t.online}</h2>
            <ul aria-label=t.online>
                // Names only: rebuilt in place on a change, without `For`'s keyed diffing.
                {move || live.online.get().into_iter().map(|user| view! { <li>{user.username}</li> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    let text = move || match live.status.get() {
        ConnState::Connecting => t.connecting,
        ConnState::Connected => t.connected,
        ConnState::Reconnecting => t.reconnecting,
        ConnState::Outdated => t.outdated,
    };
    let class = move || match live.status.get() {
        ConnState::Connected => "status ok",
        _ => "status warn",
    };
    view! { <p role="status" class=class>{text}</p> }
}
