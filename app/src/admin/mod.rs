//! Workspace administration. For now: invitations, when sign-up is by invitation.

use leptos::prelude::*;

use crate::AppError;

/// Makes an invitation link (admins only): one account, valid for 7 days. Returns the path to
/// hand out, e.g. `/signup?invite=…`.
#[server(prefix = "/api", endpoint = "create_invite")]
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
    let error = move || crate::error::failure_text(action.value().get());
    view! {
        <button type="button" class="invite" on:click=move |_| { open.set(true); action.dispatch(CreateInvite {}); }>
            "Invite people"
        </button>
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div role="dialog" aria-modal="true" aria-labelledby="invite-title" class="dialog">
                    <h2 id="invite-title">"Invite people"</h2>
                    <p>"Anyone with this link can create one account in the next 7 days."</p>
                    <label>
                        "Invitation link"
                        <input type="text" readonly prop:value=move || link().unwrap_or_default() />
                    </label>
                    <Show when=move || error().is_some()>
                        <p role="alert" class="error">{error}</p>
                    </Show>
                    <div class="actions">
                        <button type="button" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                </div>
            </div>
        </Show>
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
