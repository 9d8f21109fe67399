//! The "Search" box above every page and its results: words (Chinese inside sentences too),
//! `from:NAME`, `in:CHANNEL`. Each result links to its message in its channel, which opens
//! scrolled to it and highlighted; files found by name or by the text inside them (PDF, docx,
//! xlsx) are listed below, each a download, and then mail one holds and notices published to
//! one, each opening in its module. The results' code loads on demand, with the first search.

use leptos::prelude::*;
use leptos_router::components::A;
use xietong::search::{FileHit, ItemHit, SearchHit};

use crate::AppError;

#[server(prefix = "/api", endpoint = "search", output = crate::codec::TextJson)]
pub async fn search(q: String) -> Result<Vec<SearchHit>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.search(&user, &q).await
}

#[server(prefix = "/api", endpoint = "search_files", output = crate::codec::TextJson)]
pub async fn search_files(q: String) -> Result<Vec<FileHit>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.search_files(&user, &q).await
}

#[server(prefix = "/api", endpoint = "search_items", output = crate::codec::TextJson)]
pub async fn search_items(q: String) -> Result<Vec<ItemHit>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.search_items(&user, &q).await
}

#[component]
pub fn SearchBox() -> impl IntoView {
    // The query whose results show (each submit asks again, even for the same words).
    let query = RwSignal::new(None::<(String, u32)>);
    let close = Callback::new(move |_| query.set(None));
    let t = crate::i18n::t();
    let input = NodeRef::<leptos::html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = input
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_default();
        if !text.trim().is_empty() {
            let asked = query.get_untracked().map_or(0, |(_, n)| n + 1);
            query.set(Some((text, asked)));
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close.run(());
        }
    };
    view! {
        <div class="searchbar" on:keydown=on_keydown>
            <form role="search" on:submit=on_submit>
                <input type="search" name="q" aria-label=t.search required node_ref=input
                    maxlength=xietong::search::MAX_QUERY_CHARS.to_string()
                    placeholder=t.search_placeholder />
            </form>
            // Read inside `load`, the query makes every submit load the results again.
            <crate::shell::OnDemand open=Signal::derive(move || query.with(Option::is_some))
                load=move || {
                    let query = query.get();
                    async move {
                        match query {
                            Some((query, _)) => search_results(query, close).await,
                            // Closing, before the panel goes.
                            None => ().into_any(),
                        }
                    }
                } />
        </div>
    }
}

/// The results panel, loaded on demand.
#[lazy]
fn search_results(query: String, close: Callback<()>) -> AnyView {
    view! { <SearchResults query close /> }.into_any()
}

#[component]
fn SearchResults(query: String, close: Callback<()>) -> impl IntoView {
    let files = Resource::new(
        {
            let query = query.clone();
            move || query.clone()
        },
        search_files,
    );
    let items = Resource::new(
        {
            let query = query.clone();
            move || query.clone()
        },
        search_items,
    );
    let results = Resource::new(move || query.clone(), search);
    let t = crate::i18n::t();
    view! {
        <div class="search-results">
            <Suspense fallback=move || view! { <p class="loading">{t.searching}</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                        Ok(hits) if hits.is_empty() => {
                            view! { <p class="empty" role="status">{t.no_messages_found}</p> }.into_any()
                        }
                        Ok(hits) => view! {
                            <ul aria-label=t.search_results>
                                {hits.into_iter().map(|hit| view! { <Hit hit close /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    match files.await {
                        Ok(hits) if !hits.is_empty() => view! {
                            <h3>{t.files_found}</h3>
                            <ul aria-label=t.files_found class="file-hits">
                                {hits.into_iter().map(|hit| view! {
                                    <li>
                                        <a href=hit.file.url() download=hit.file.name.clone() rel="external">{hit.file.name.clone()}</a>
                                        <span class="size">{format!(" · {}", xietong::files::human_size(hit.file.size))}</span>
                                        <span class="excerpt">{hit.snippet}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        // Files are an extra; a refusal shows with the messages' answer.
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(hits) if !hits.is_empty() => view! {
                            <h3>{t.items_found}</h3>
                            <ul aria-label=t.items_found class="item-hits">
                                {hits.into_iter().map(|hit| view! { <ItemFound hit close /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        // Like files, an extra: a refusal shows with the messages' answer.
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
            <button type="button" class="close" on:click=move |_| close.run(())>{t.close}</button>
        </div>
    }
}

/// A mail or a notice found: its module, title and author, the words in their place.
#[component]
fn ItemFound(hit: ItemHit, close: Callback<()>) -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <li on:click=move |_| close.run(())>
            <A href=hit.href>
                <span class="where">{crate::notify::module_name(t, hit.module)}</span>
                " · "
                <span class="title">{hit.title}</span>
                " · "
                <span class="author">{hit.by}</span>
                <span class="excerpt">{hit.snippet}</span>
            </A>
        </li>
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
