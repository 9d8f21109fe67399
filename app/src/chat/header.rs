//! A channel's header: its name, the pinned messages, and (for members-only channels) who is
//! in it.

use leptos::prelude::*;
use xietong::chat::{AddMembers, RemoveMember};
use xietong::{Channel, ChannelKind, Command, CommandOutput, UserId};

use super::people::PeoplePicker;
use super::state::ChannelView;
use super::{members, pinned};
use crate::command::RunCommand;
use crate::live::Live;
use crate::shell::Modal;

#[component]
pub fn ChannelHeader(channel: Channel, view: RwSignal<ChannelView>) -> impl IntoView {
    let live = expect_context::<Live>();
    let show_pinned = RwSignal::new(false);
    let show_members = RwSignal::new(false);
    let mark = match channel.kind {
        ChannelKind::Public => "# ",
        ChannelKind::Private => "🔒 ",
        ChannelKind::Direct | ChannelKind::GroupDirect => "@ ",
    };
    let with_members = matches!(
        channel.kind,
        ChannelKind::Private | ChannelKind::GroupDirect
    );
    let id = channel.id;
    let title = {
        let channel = channel.clone();
        move || {
            live.me.with(|me| {
                channel.display_name(me.as_ref().map(|u| u.username.as_str()).unwrap_or(""))
            })
        }
    };
    let t = crate::i18n::t();
    // Leaving takes one out of the members (the server tells every tab of mine, which drop the
    // channel from the navigation); this tab goes back to the first page.
    let navigate = leptos_router::hooks::use_navigate();
    let leave = move || {
        if let Some(me) = live.me.get_untracked() {
            live.send_command(RemoveMember {
                channel: id,
                user: me.id,
            });
            navigate("/", Default::default());
        }
    };
    view! {
        <header class="channel-header">
            <h1><span aria-hidden="true" class="hash">{mark}</span>{title}</h1>
            <div class="header-actions">
                <button type="button" on:click=move |_| show_pinned.set(true)>{t.pinned}</button>
                {with_members.then(|| view! {
                    <button type="button" on:click=move |_| show_members.set(true)>{t.members}</button>
                    <button type="button" on:click=move |_| leave()>{t.leave}</button>
                })}
            </div>
        </header>
        <crate::shell::OnDemand open=show_pinned
            load=move || pinned_dialog(id, view, Callback::new(move |_| show_pinned.set(false))) />
        <crate::shell::OnDemand open=show_members
            load=move || members_dialog(id, view, Callback::new(move |_| show_members.set(false))) />
    }
}

/// The dialogs, loaded on demand: their code is not in the first screen's module.
#[lazy]
fn pinned_dialog(
    channel: xietong::ChannelId,
    view: RwSignal<ChannelView>,
    on_close: Callback<()>,
) -> AnyView {
    view! { <PinnedDialog channel view on_close /> }.into_any()
}

#[lazy]
fn members_dialog(
    channel: xietong::ChannelId,
    view: RwSignal<ChannelView>,
    on_close: Callback<()>,
) -> AnyView {
    view! { <MembersDialog channel view on_close /> }.into_any()
}

/// The channel's pinned messages, read again whenever the channel's log moves.
#[component]
fn PinnedDialog(
    channel: xietong::ChannelId,
    view: RwSignal<ChannelView>,
    on_close: Callback<()>,
) -> impl IntoView {
    let list = Resource::new(move || view.with(|v| v.head), move |_| pinned(channel));
    let t = crate::i18n::t();
    view! {
        <Modal title=t.pinned_messages.to_string() on_close>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(messages) if messages.is_empty() => view! { <p>{t.nothing_pinned}</p> }.into_any(),
                        Ok(messages) => view! {
                            <ul class="pinned" aria-label=t.pinned_messages>
                                {messages.into_iter().map(|m| view! {
                                    <li>
                                        <span class="author">{m.author.username}</span>
                                        ": "
                                        <span class="body">{m.body}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <div class="actions">
                <button type="button" on:click=move |_| on_close.run(())>{t.close}</button>
            </div>
        </Modal>
    }
}

/// Who is in the channel; "Add member" picks people, "Remove" takes one out. Read again
/// whenever the channel's log moves (a `members_changed` event).
#[component]
fn MembersDialog(
    channel: xietong::ChannelId,
    view: RwSignal<ChannelView>,
    on_close: Callback<()>,
) -> impl IntoView {
    let list = Resource::new(move || view.with(|v| v.head), move |_| members(channel));
    let adding = RwSignal::new(false);
    let action = ServerAction::<RunCommand>::new();
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::MembersChanged { .. })) = action.value().get() {
            adding.set(false);
        }
    });
    let t = crate::i18n::t();
    let error = Signal::derive(move || crate::error::failure_text(t, action.value().get()));
    let run = move |command: Command| {
        action.dispatch(RunCommand {
            client_id: crate::live::new_client_id(),
            command,
        });
    };
    view! {
        <Modal title=t.members.to_string() on_close>
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(people) => {
                            let ids: Vec<UserId> = people.iter().map(|p| p.id).collect();
                            view! {
                                <ul class="members" aria-label=t.members>
                                    {people.into_iter().map(|person| {
                                        let user = person.id;
                                        view! {
                                            <li>
                                                <span>{person.username.clone()}</span>
                                                <button type="button" aria-label=(t.remove_person)(&person.username)
                                                    on:click=move |_| run(Command::RemoveMember(RemoveMember { channel, user }))>
                                                    {t.remove}
                                                </button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                <Show when=move || adding.get()>
                                    <PeoplePicker title=t.add_member.to_string() confirm=t.add exclude=ids.clone()
                                        on_pick=Callback::new(move |users| run(Command::AddMembers(AddMembers { channel, users })))
                                        on_close=Callback::new(move |_| adding.set(false))
                                        busy=action.pending() error />
                                </Show>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || error.get().is_some() && !adding.get()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
            <div class="actions">
                <button type="button" on:click=move |_| adding.set(true)>{t.add_member}</button>
                <button type="button" on:click=move |_| on_close.run(())>{t.close}</button>
            </div>
        </Modal>
    }
}
