//! My settings: the "Settings" button in the sidebar and its dialog. Each change is a command;
//! every tab of mine follows through my user scope (`settings_changed`).

use leptos::prelude::*;
use xietong::settings::{Language, UpdateSettings, UserSettings};

use crate::chat::ChatState;
use crate::live::Live;
use crate::shell::Modal;

#[component]
pub fn SettingsButton() -> impl IntoView {
    let open = RwSignal::new(false);
    let t = crate::i18n::t();
    follow_language_setting();
    view! {
        <button type="button" class="settings" on:click=move |_| open.set(true)>{t.settings}</button>
        <crate::shell::OnDemand open
            load=move || settings_dialog(Callback::new(move |_| open.set(false))) />
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
    let settings = Memo::new(move |_| chat.read(|w| w.settings.clone()).unwrap_or_default());
    let save = move |change: &dyn Fn(&mut UserSettings)| {
        let mut next = settings.get_untracked();
        change(&mut next);
        live.send_command(UpdateSettings { settings: next });
    };
    let t = crate::i18n::t();
    let language = move || settings.get().language.map_or("", Language::tag);
    view! {
        <Modal title=t.settings.to_string() on_close>
            <label>
                {t.interface_language}
                <select prop:value=language on:change=move |ev| {
                    let chosen = Language::from_tag(&event_target_value(&ev));
                    save(&move |s: &mut UserSettings| s.language = chosen);
                }>
                    <option value="" selected=move || language().is_empty()>{t.follow_browser}</option>
                    <option value="en" selected=move || language() == "en">"English"</option>
                    <option value="zh-CN" selected=move || language() == "zh-CN">"简体中文"</option>
                </select>
            </label>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || settings.get().read_receipts
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        save(&move |s: &mut UserSettings| s.read_receipts = on);
                    } />
                {t.send_read_receipts}
            </label>
            <p class="hint">{t.read_receipts_hint}</p>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || settings.get().hide_mobile
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        save(&move |s: &mut UserSettings| s.hide_mobile = on);
                    } />
                {t.hide_mobile}
            </label>
            <p>
                <leptos_router::components::A href="/settings/notifications" on:click=move |_| on_close.run(())>
                    {t.notification_settings}
                </leptos_router::components::A>
            </p>
            <crate::org::fields::MyFieldsForm />
            <div class="actions">
                <button type="button" on:click=move |_| on_close.run(())>{t.close}</button>
            </div>
        </Modal>
    }
}

/// When my language setting changes (in this tab or another of mine), the page reloads in the
/// language it now names: a page renders in one language from start to end.
fn follow_language_setting() {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let chat = expect_context::<ChatState>();
        let page = crate::i18n::t().language;
        let chosen = Memo::new(move |_| chat.read(|w| w.settings.language));
        Effect::new(move |before: Option<Option<Option<Language>>>| {
            let now = chosen.get();
            // Only a change: the first settings a tab learns are the ones its page was made with.
            if let (Some(Some(before)), Some(now)) = (before, now) {
                let wanted = now.unwrap_or_else(crate::i18n::browser_language);
                if before != now && wanted != page {
                    let _ = window().location().reload();
                }
            }
            now
        });
    }
}
