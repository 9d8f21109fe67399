//! 短信 "Short messages" (`/messages`): write a short note to people, departments or roles
//! ("To", "Message", "Urgent", "Send"); what I received, with "Mark read"; what I sent, with
//! who has read it. Live from my user scope.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};
use xietong::org::{AudienceMember, OrgSnapshot};
use xietong::short_messages::{ReadShortMessage, SendShortMessage, ShortMessages};
use xietong::{Command, CommandOutput, Seq};

use crate::command::{command_action, SentText};
use crate::live::Live;
use crate::AppError;

#[server(prefix = "/api", endpoint = "short_messages", output = crate::codec::TextJson)]
pub async fn load_short_messages() -> Result<ShortMessages, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.short_messages(&user).await
}

/// My short messages as this tab knows them.
pub type MessagesView = crate::live::Mine<ShortMessages>;

impl crate::live::MyState for ShortMessages {
    type Event = xietong::short_messages::ShortMessageEvent;

    fn head(&self) -> Seq {
        self.head
    }

    fn head_mut(&mut self) -> &mut Seq {
        &mut self.head
    }

    fn apply_event(&mut self, body: &Self::Event) {
        self.apply(body)
    }
}

/// `/messages`, loaded on demand.
#[derive(Debug)]
pub struct ShortMessagesRoute;

#[lazy_route]
impl LazyRoute for ShortMessagesRoute {
    fn data() -> Self {
        ShortMessagesRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <ShortMessagesPage /> }.into_any()
    }
}

#[component]
fn ShortMessagesPage() -> impl IntoView {
    let t = crate::i18n::office();
    let found = Resource::new(|| (), |_| load_short_messages());
    let org = Resource::new(|| (), |_| crate::org::organisation());
    view! {
        <div class="short-messages page">
            <h1>{t.short_messages}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match (found.await, org.await) {
                        (Ok(found), Ok(org)) => {
                            let view = expect_context::<Live>().keep_mine(found, load_short_messages);
                            let org = StoredValue::new(org);
                            view! { <Compose org /> <Lists view org /> }.into_any()
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

#[component]
fn Compose(org: StoredValue<OrgSnapshot>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let to = RwSignal::new(Vec::<AudienceMember>::new());
    let text = SentText::new();
    let urgent = RwSignal::new(false);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::SendShortMessage(SendShortMessage {
            to: to.get_untracked(),
            text: text.send(),
            urgent: urgent.get_untracked(),
        }));
    };
    // A sent message clears the form, unless the next one is already being written.
    text.clear_on_success(
        action,
        |output| matches!(output, CommandOutput::ShortMessageSent { .. }),
        move || {
            to.set(Vec::new());
            urgent.set(false);
        },
    );
    let sent = move || match action.value().get() {
        Some(Ok(CommandOutput::ShortMessageSent { recipients, .. })) => {
            Some((t.short_message_sent)(recipients))
        }
        _ => None,
    };
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <form class="compose" on:submit=send>
            {org.with_value(|org| view! { <crate::org::AudiencePicker org=org.clone() chosen=to field_name=t.send_to /> })}
            <label>
                {t.message_text}
                <textarea required maxlength="500" rows="3" prop:value=move || text.value.get()
                    on:input=move |ev| text.value.set(event_target_value(&ev))></textarea>
            </label>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || urgent.get()
                    on:change=move |ev| urgent.set(event_target_checked(&ev)) />
                {t.urgent}
            </label>
            <button type="submit" disabled=move || action.pending().get()>{t.send}</button>
            <Show when=move || sent().is_some()>
                <p role="status">{sent}</p>
            </Show>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}

#[component]
fn Lists(view: RwSignal<MessagesView>, org: StoredValue<OrgSnapshot>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let received = move || view.with(|v| v.0.received.clone());
    let sent = move || view.with(|v| v.0.sent.clone());
    let when =
        move |at: i64| crate::chat::format_time(at, live.utc_offset_minutes.get_untracked()).1;
    view! {
        <section aria-labelledby="received-title" class="received">
            <h2 id="received-title">{t.received}</h2>
            <Show when=move || !received().is_empty() fallback=move || view! { <p class="empty">{t.no_short_messages}</p> }>
                <ul aria-label=t.received>
                    <For each=received key=|m| (m.id, m.read_at.is_some()) let(m)>
                        {
                            let id = m.id;
                            let unread = m.read_at.is_none();
                            view! {
                                <li class="short-message" class:unread=unread class:urgent=m.urgent>
                                    <span class="from">{m.from.username.clone()}</span>
                                    {m.urgent.then(|| view! { <span class="badge urgent">{t.urgent}</span> })}
                                    {unread.then(|| view! { <span class="badge">{t.unread_mark}</span> })}
                                    <span class="time">{when(m.at)}</span>
                                    <p class="text">{m.text.clone()}</p>
                                    {unread.then(|| view! {
                                        <button type="button" on:click=move |_| {
                                            live.send_command(ReadShortMessage { id });
                                        }>{t.mark_read}</button>
                                    })}
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        </section>
        <section aria-labelledby="sent-title" class="sent">
            <h2 id="sent-title">{t.sent_messages}</h2>
            <ul aria-label=t.sent_messages>
                <For each=sent key=|m| (m.id, m.read_by.len()) let(m)>
                    {
                        let to = org.with_value(|org| {
                            m.to.iter().map(|member| crate::org::audience::label(t, org, *member)).collect::<Vec<_>>().join(", ")
                        });
                        let readers = m.read_by.iter().map(|u| u.username.clone()).collect::<Vec<_>>().join(", ");
                        view! {
                            <li class="short-message" class:urgent=m.urgent>
                                <span class="to">{(t.sent_to)(&to)}</span>
                                <span class="time">{when(m.at)}</span>
                                <p class="text">{m.text.clone()}</p>
                                <p class="read-count">{(t.read_by_count)(m.read_by.len(), m.recipients)}</p>
                                <p class="readers">{readers}</p>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
    .into_any()
}
