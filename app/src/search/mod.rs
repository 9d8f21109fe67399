//! The "Search" box above every page and its results: words (Chinese inside sentences too),
//! `from:NAME`, `in:CHANNEL`. Each result links to its message in its channel, which opens
//! scrolled to it and highlighted.

use leptos::prelude::*;
use leptos_router::components::A;
use xietong::search::SearchHit;

use crate::AppError;

#[server(prefix = "/api", endpoint = "search")]
pub async fn search(q: String) -> Result<Vec<SearchHit>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.search(&user, &q).await
}

#[component]
pub fn SearchBox() -> impl IntoView {
    let action = ServerAction::<Search>::new();
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        if action.version().get() > 0 {
            open.set(true);
        }
    });
    let close = move || open.set(false);
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };
    view! {
        <div class="searchbar" on:keydown=on_keydown>
            <ActionForm action attr:role="search">
                <input type="search" name="q" aria-label="Search" required
                    maxlength=xietong::search::MAX_QUERY_CHARS.to_string()
                    placeholder="Search  (from:name  in:channel)" />
            </ActionForm>
            <Show when=move || open.get()>
                <div class="search-results">
                    {move || match action.value().get() {
                        None => view! { <p class="loading">"Searching…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
                        Some(Ok(hits)) if hits.is_empty() => {
                            view! { <p class="empty" role="status">"No messages found"</p> }.into_any()
                        }
                        Some(Ok(hits)) => view! {
                            <ul aria-label="Search results">
                                {hits.into_iter().map(|hit| view! { <Hit hit close=Callback::new(move |_| close()) /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }}
                    <button type="button" class="close" on:click=move |_| close()>"Close"</button>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn Hit(hit: SearchHit, close: Callback<()>) -> impl IntoView {
    let SearchHit { channel, message } = hit;
    // A reply opens at its thread's first message.
    let target = message.thread.unwrap_or(message.id);
    let me = expect_context::<crate::live::Live>()
        .me
        .get_untracked()
        .map(|u| u.username)
        .unwrap_or_default();
    let place = if channel.kind.is_direct() {
        channel.display_name(&me)
    } else {
        format!("#{}", channel.name)
    };
    let excerpt: String = message.body.chars().take(160).collect();
    view! {
        <li on:click=move |_| close.run(())>
            <A href=format!("/c/{}?m={}", channel.id, target)>
                <span class="where">{place}</span>
                " · "
                <span class="author">{message.author.username}</span>
                <span class="excerpt">{excerpt}</span>
            </A>
        </li>
    }
}
