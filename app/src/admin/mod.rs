//! Workspace administration: invitations (when sign-up is by invitation) and the workspace
//! settings (time limits for editing and deleting one's own messages).

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::AppError;

/// The admin page (`/admin`), loaded on demand: the organisation's departments (people and
/// roles come next). Only admins get the link; the server refuses everyone else's changes.
#[derive(Debug)]
pub struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        AdminRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AdminPage /> }.into_any()
    }
}

#[component]
fn AdminPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::auth::who_am_i());
    let t = crate::i18n::office();
    view! {
        <div class="admin-page">
            <h1>{t.admin}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(me) if me.is_admin => view! {
                            <crate::org::WithOrganisation content=move |view| view! {
                                <crate::org::DepartmentsAdmin view />
                                <crate::org::RolesAdmin view />
                                <crate::org::FieldsAdmin view />
                                <crate::org::PeopleAdmin view />
                                <crate::org::ImportPeople />
                                <crate::notices::NoticeTypesAdmin view />
                            } />
                            <crate::notify::DeliveryLog />
                        }.into_any(),
                        Ok(_) => view! { <p role="alert" class="error">{t.admins_only}</p> }.into_any(),
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// The navigation link to the admin page (shown to admins).
#[component]
pub fn AdminLink() -> impl IntoView {
    let t = crate::i18n::t();
    view! { <leptos_router::components::A href="/admin">{t.admin}</leptos_router::components::A> }
}

/// Makes an invitation link (admins only): one account, valid for 7 days. Returns the path to
/// hand out, e.g. `/signup?invite=…`.
#[server(prefix = "/api", endpoint = "create_invite", output = crate::codec::TextJson)]
pub async fn create_invite() -> Result<String, AppError> {
    let user = crate::backend::require_user()?;
    let token = crate::backend::backend()?.create_invite(&user).await?;
    Ok(format!("/signup?invite={token}"))
}

/// The "Invite people" button and the dialog that shows a fresh link.
#[component]
pub fn InvitePeople() -> impl IntoView {
    let action = ServerAction::<CreateInvite>::new();
    let open = RwSignal::new(false);
    let link = move || {
        action.value().get().and_then(|r| r.ok()).map(|path| {
            let origin = web_origin();
            format!("{origin}{path}")
        })
    };
    let t = crate::i18n::office();
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <button type="button" class="invite" on:click=move |_| { open.set(true); action.dispatch(CreateInvite {}); }>
            {t.invite_people}
        </button>
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div role="dialog" aria-modal="true" aria-labelledby="invite-title" class="dialog">
                    <h2 id="invite-title">{t.invite_people}</h2>
                    <p>{t.invite_hint}</p>
                    <label>
                        {t.invitation_link}
                        <input type="text" readonly prop:value=move || link().unwrap_or_default() />
                    </label>
                    <Show when=move || error().is_some()>
                        <p role="alert" class="error">{error}</p>
                    </Show>
                    <div class="actions">
                        <button type="button" on:click=move |_| open.set(false)>{t.close}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// The "Workspace settings" button and dialog (admins; the server refuses everyone else).
#[component]
pub fn WorkspaceSettingsButton() -> impl IntoView {
    let open = RwSignal::new(false);
    let t = crate::i18n::t();
    view! {
        <button type="button" class="workspace-settings" on:click=move |_| open.set(true)>
            {t.workspace_settings}
        </button>
        <crate::shell::OnDemand open
            load=move || workspace_settings_dialog(Callback::new(move |_| open.set(false))) />
    }
}

/// Loaded on demand: not in the first screen's module.
#[lazy]
fn workspace_settings_dialog(on_close: Callback<()>) -> AnyView {
    view! { <WorkspaceSettingsDialog on_close /> }.into_any()
}

#[component]
fn WorkspaceSettingsDialog(on_close: Callback<()>) -> impl IntoView {
    use xietong::settings::{UpdateWorkspaceSettings, WorkspaceSettings, MAX_WINDOW_MINUTES};
    let live = expect_context::<crate::live::Live>();
    let chat = expect_context::<crate::chat::ChatState>();
    let t = crate::i18n::office();
    let current = chat
        .workspace
        .get_untracked()
        .map(|w| w.with_untracked(|w| w.workspace_settings.clone()))
        .unwrap_or_default();
    let shown = |m: Option<u32>| m.map(|m| m.to_string()).unwrap_or_default();
    let edit = RwSignal::new(shown(current.edit_window_minutes));
    let delete = RwSignal::new(shown(current.delete_window_minutes));
    let max_file = RwSignal::new(shown(current.max_file_mb));
    let quota = RwSignal::new(shown(current.quota_mb));
    // Empty: the default.
    let megabytes = move |text: &str| -> Result<Option<u32>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<u32>() {
            Ok(m) if m > 0 => Ok(Some(m)),
            _ => Err(t.whole_megabytes.to_owned()),
        }
    };
    let error = RwSignal::new(None::<String>);
    // Empty: no limit.
    let minutes = move |text: &str| -> Result<Option<u32>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<u32>() {
            Ok(m) if m <= MAX_WINDOW_MINUTES => Ok(Some(m)),
            _ => Err((t.whole_minutes)(MAX_WINDOW_MINUTES)),
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checked = (|| {
            Ok::<_, String>(WorkspaceSettings {
                edit_window_minutes: minutes(&edit.get_untracked())?,
                delete_window_minutes: minutes(&delete.get_untracked())?,
                max_file_mb: megabytes(&max_file.get_untracked())?,
                quota_mb: megabytes(&quota.get_untracked())?,
            })
        })();
        match checked {
            Ok(settings) => {
                live.send_command(UpdateWorkspaceSettings { settings });
                on_close.run(());
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <crate::shell::Modal title=t.workspace_settings.to_string() on_close>
            <form on:submit=save>
                <label>
                    {t.edit_limit}
                    <input type="number" min="0" inputmode="numeric" placeholder=t.no_limit
                        prop:value=move || edit.get()
                        on:input=move |ev| edit.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t.delete_limit}
                    <input type="number" min="0" inputmode="numeric" placeholder=t.no_limit
                        prop:value=move || delete.get()
                        on:input=move |ev| delete.set(event_target_value(&ev)) />
                </label>
                <p class="hint">{t.limits_hint}</p>
                <label>
                    {t.max_file_mb}
                    <input type="number" min="1" inputmode="numeric"
                        placeholder=xietong::limits::DEFAULT_MAX_FILE_MB.to_string()
                        prop:value=move || max_file.get()
                        on:input=move |ev| max_file.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t.quota_mb}
                    <input type="number" min="1" inputmode="numeric"
                        placeholder=xietong::limits::DEFAULT_QUOTA_MB.to_string()
                        prop:value=move || quota.get()
                        on:input=move |ev| quota.set(event_target_value(&ev)) />
                </label>
                <Show when=move || error.get().is_some()>
                    <p role="alert" class="error">{move || error.get()}</p>
                </Show>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close.run(())>{t.cancel}</button>
                    <button type="submit">{t.save}</button>
                </div>
            </form>
        </crate::shell::Modal>
    }
}

fn web_origin() -> String {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        String::new()
    }
}
