use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::prelude::*;

/// A modal dialog: labelled by its title, closed by Escape or a click on the backdrop. Every
/// feature's dialogs use it, so they look and behave alike.
#[component]
pub fn Modal(
    /// The dialog's heading and accessible name.
    title: String,
    /// Called when the user dismisses the dialog.
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let id = format!(
        "dialog-{}",
        title
            .to_lowercase()
            .replace(|c: char| !c.is_alphanumeric(), "-")
    );
    let label_id = id.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.stop_propagation();
            on_close.run(());
        }
    };
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())>
            <div role="dialog" aria-modal="true" aria-labelledby=label_id class="dialog"
                on:click=|ev| ev.stop_propagation() on:keydown=on_keydown>
                <h2 id=id>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// A part whose code loads on demand (a `#[lazy]` dialog), rendered while `open` holds.
///
/// Its `<Suspense>` exists only while it is open, never in the server's page. Each
/// `<Suspense>`, like each resource, takes the next hydration id when it is created. A closed
/// one in content that appears when data arrives (the admin's "Workspace settings" appears
/// once `who_am_i` answers) took its id on the server only if that answer came before the
/// channel page created its history resource; the browser, with every answer at hand, always
/// took it first. The history then sat under another id, the browser fetched it again, showed
/// the fallback, and the page failed to hydrate ("expected a marker node" at the channel page).
/// So: nothing that takes an id inside content that waits for data.
#[component]
pub fn OnDemand<Load, Loading>(#[prop(into)] open: Signal<bool>, load: Load) -> impl IntoView
where
    Load: Fn() -> Loading + Clone + Send + Sync + 'static,
    Loading: std::future::Future<Output = AnyView> + Send + 'static,
{
    on_demand(open, Arc::new(move || Box::pin(load()) as LoadingPart))
}

/// What an [`OnDemand`] part loads, boxed: its view code then exists once in the bundle
/// rather than once per dialog (a dozen of them on the first screen).
type LoadingPart = Pin<Box<dyn Future<Output = AnyView> + Send>>;

fn on_demand(open: Signal<bool>, load: Arc<dyn Fn() -> LoadingPart + Send + Sync>) -> AnyView {
    view! {
        <Show when=move || open.get()>
            {
                let load = load.clone();
                view! { <Suspense>{move || Suspend::new(load())}</Suspense> }
            }
        </Show>
    }
    .into_any()
}
