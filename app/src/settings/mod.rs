//! My settings: the "Settings" button in the sidebar and its dialog. Each change is a command;
//! every tab of mine follows through my user scope (`settings_changed`).

use leptos::prelude::*;
use xietong::settings::{UpdateSettings, UserSettings};
use xietong::Command;

use crate::chat::ChatState;
use crate::live::Live;
use crate::shell::Modal;

#[component]
pub fn SettingsButton() -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button type="button" class="settings" on:click=move |_| open.set(true)>"Settings"</button>
        <Suspense>
            <Show when=move || open.get()>
                {move || Suspend::new(settings_dialog(Callback::new(move |_| open.set(false))))}
            </Show>
        </Suspense>
    }
}

/// Loaded on demand: not in the first screen's module.
#[lazy]
fn settings_dialog(on_close: Callback<()>) -> AnyView {
    view! { <SettingsDialog on_close /> }.into_any()
}

#[component]
fn SettingsDialog(on_close: Callback<()>) -> impl IntoView {
    let live = expect_context::<Live>();
    let chat = expect_context::<ChatState>();
    let settings = Memo::new(move |_| {
        chat.workspace
            .get()
            .map(|w| w.with(|w| w.settings.clone()))
            .unwrap_or_default()
    });
    let save = move |change: &dyn Fn(&mut UserSettings)| {
        let mut next = settings.get_untracked();
        change(&mut next);
        live.send_command(Command::UpdateSettings(UpdateSettings { settings: next }));
    };
    view! {
        <Modal title="Settings".to_string() on_close>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || settings.get().read_receipts
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        save(&move |s: &mut UserSettings| s.read_receipts = on);
                    } />
                "Send read receipts"
            </label>
            <p class="hint">"When on, the people in a direct message see “Seen” once you have read it."</p>
            <div class="actions">
                <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </Modal>
    }
}
