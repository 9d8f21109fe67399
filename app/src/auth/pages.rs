use leptos::prelude::*;
use leptos_router::components::A;

use super::{LogIn, LogOut, SignUp};
use crate::error::failure_text as error_of;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>"Log in"</h2>
            <ActionForm action>
                <label>"Username" <input type="text" name="username" autocomplete="username" required /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <Show when=move || error_of(action.value().get()).is_some()>
                    <p role="alert" class="error">{move || error_of(action.value().get())}</p>
                </Show>
                <button type="submit" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p>"New here? " <A href="/signup">"Create account"</A></p>
        </main>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let query = leptos_router::hooks::use_query_map();
    let invite = move || query.read().get("invite").unwrap_or_default();
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>"Create account"</h2>
            <ActionForm action>
                <input type="hidden" name="invite" prop:value=invite />
                <label>"Username" <input type="text" name="username" autocomplete="username" required /></label>
                <label>"Password" <input type="password" name="password" autocomplete="new-password" required /></label>
                <Show when=move || error_of(action.value().get()).is_some()>
                    <p role="alert" class="error">{move || error_of(action.value().get())}</p>
                </Show>
                <button type="submit" disabled=move || action.pending().get()>"Sign up"</button>
            </ActionForm>
            <p>"Have an account? " <A href="/login">"Log in"</A></p>
        </main>
    }
}

#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<LogOut>::new();
    view! {
        <ActionForm action attr:class="logout">
            <button type="submit">"Log out"</button>
        </ActionForm>
    }
}
