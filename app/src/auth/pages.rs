use leptos::prelude::*;
use leptos_router::components::A;

use super::{LogIn, LogOut, SignUp};
use crate::error::failure_text as error_of;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let t = crate::i18n::t();
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>{t.log_in}</h2>
            <ActionForm action>
                <label>{t.username}" "<input type="text" name="username" autocomplete="username" required /></label>
                <label>{t.password}" "<input type="password" name="password" autocomplete="current-password" required /></label>
                <Show when=move || error_of(t, action.value().get()).is_some()>
                    <p role="alert" class="error">{move || error_of(t, action.value().get())}</p>
                </Show>
                <button type="submit" disabled=move || action.pending().get()>{t.log_in}</button>
            </ActionForm>
            <p>{t.new_here}<A href="/signup">{t.create_account}</A></p>
        </main>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let query = leptos_router::hooks::use_query_map();
    let invite = move || query.read().get("invite").unwrap_or_default();
    let t = crate::i18n::t();
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>{t.create_account}</h2>
            <ActionForm action>
                <input type="hidden" name="invite" prop:value=invite />
                <label>{t.username}" "<input type="text" name="username" autocomplete="username" required /></label>
                <label>{t.password}" "<input type="password" name="password" autocomplete="new-password" required /></label>
                <Show when=move || error_of(t, action.value().get()).is_some()>
                    <p role="alert" class="error">{move || error_of(t, action.value().get())}</p>
                </Show>
                <button type="submit" disabled=move || action.pending().get()>{t.sign_up}</button>
            </ActionForm>
            <p>{t.have_account}<A href="/login">{t.log_in}</A></p>
        </main>
    }
}

#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<LogOut>::new();
    let t = crate::i18n::t();
    view! {
        <ActionForm action attr:class="logout">
            <button type="submit">{t.log_out}</button>
        </ActionForm>
    }
}
