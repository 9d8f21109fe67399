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
