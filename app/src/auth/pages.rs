use leptos::prelude::*;
use leptos_router::components::A;

use super::{LogIn, LogOut, SignUp};
use crate::error::failure_text;
use crate::i18n::Texts;

/// The form's error: from its action, or (when the form was posted before the page's code
/// loaded) from the `error` the server sent the browser back with.
fn form_error(
    t: &'static Texts,
    value: impl Fn() -> Option<Result<(), crate::AppError>> + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || {
        let value = value();
        let answered = value.is_some();
        failure_text(t, value).or_else(|| {
            (!answered).then(|| {
                query.with(|q| {
                    q.get("error")
                        .and_then(|e| serde_json::from_str::<crate::AppError>(&e).ok())
                        .map(|e| e.text(t))
                })
            })?
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let t = crate::i18n::t();
    let error = form_error(t, move || action.value().get());
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>{t.log_in}</h2>
            <ActionForm action>
                <label>{t.username}" "<input type="text" name="username" autocomplete="username" required /></label>
                <label>{t.password}" "<input type="password" name="password" autocomplete="current-password" required /></label>
                <Show when=move || error().is_some()>
                    <p role="alert" class="error">{error}</p>
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
    let error = form_error(t, move || action.value().get());
    view! {
        <main class="auth">
            <h1>"协同 Xietong"</h1>
            <h2>{t.create_account}</h2>
            <ActionForm action>
                <input type="hidden" name="invite" prop:value=invite />
                <label>{t.username}" "<input type="text" name="username" autocomplete="username" required /></label>
                <label>{t.password}" "<input type="password" name="password" autocomplete="new-password" required /></label>
                <Show when=move || error().is_some()>
                    <p role="alert" class="error">{error}</p>
                </Show>
                <button type="submit" disabled=move || action.pending().get()>{t.sign_up}</button>
            </ActionForm>
            <p>{t.have_account}<A href="/login">{t.log_in}</A></p>
        </main>
    }
}

#[component]
pub fn LogoutButton() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let t = crate::i18n::t();
    // A plain form: the server answers 302 to /login and the page reloads, which also ends
    // the socket and every state of the tab. (An `ActionForm` would parse the form into the
    // server function's arguments in the browser: about 4 % of the first screen's code.)
    view! {
        <form method="post" action=LogOut::url() class="logout">
            <button type="submit">{t.log_out}</button>
        </form>
    }
}
