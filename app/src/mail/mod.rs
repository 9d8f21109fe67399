//! 内部邮件 "Mail" (`/mail`): my folders — Inbox, Sent, Drafts, Trash and my own — and the mail
//! in each; "Compose" with To, Cc and Bcc through the audience picker (a department is its
//! people), attachments, "Send" or "Save draft"; an open mail with Reply, Reply all, Forward,
//! Move and Delete; for mail I sent, each recipient's receipt live and "Recall" while some have
//! not read it. Live from my user scope.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};
use xietong::mail::*;
use xietong::org::{AudienceMember, OrgSnapshot};
use xietong::{Command, CommandOutput, MailId, Seq};

use crate::command::command_action;
use crate::live::Live;
use crate::AppError;

#[server(prefix = "/api", endpoint = "mail", output = crate::codec::TextJson)]
pub async fn load_mail() -> Result<Mailbox, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.mail(&user).await
}

#[server(prefix = "/api", endpoint = "mail_text", output = crate::codec::TextJson)]
pub async fn load_mail_text(mail: MailId) -> Result<Mail, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.mail_text(&user, mail).await
}

impl crate::live::MyState for Mailbox {
    type Event = xietong::mail::MailEvent;

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

/// My mailbox as this tab knows it.
pub type MailboxView = crate::live::Mine<Mailbox>;

/// `/mail`, loaded on demand.
#[derive(Debug)]
pub struct MailRoute;

#[lazy_route]
impl LazyRoute for MailRoute {
    fn data() -> Self {
        MailRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <MailPage /> }.into_any()
    }
}

#[component]
fn MailPage() -> impl IntoView {
    crate::org::office_page("mail", crate::i18n::office().mail, load_mail, |found, org| {
        let view = expect_context::<Live>().keep_mine(found, load_mail);
        view! { <MailboxPane view org /> }.into_any()
    })
}

/// What the page shows beside the list.
#[derive(Debug, Clone, PartialEq)]
enum Pane {
    None,
    Open(MailId),
    /// The compose form, prefilled (a draft, a reply, a forward).
    Compose(Box<Draft>),
}

/// What the compose form starts from.
#[derive(Debug, Clone, Default, PartialEq)]
struct Draft {
    mail: Option<MailId>,
    fields: MailFields,
    in_reply_to: Option<MailId>,
    forward: Vec<xietong::files::FileInfo>,
}

fn folder_name(t: &crate::i18n::OfficeTexts, folders: &[MailFolder], folder: Folder) -> String {
    match folder {
        Folder::Inbox => t.inbox.to_owned(),
        Folder::Sent => t.sent_folder.to_owned(),
        Folder::Drafts => t.drafts.to_owned(),
        Folder::Trash => t.trash.to_owned(),
        Folder::Own(id) => folders
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.name.clone())
            .unwrap_or_default(),
    }
}

#[component]
fn MailboxPane(view: RwSignal<MailboxView>, org: StoredValue<OrgSnapshot>) -> impl IntoView {
    let t = crate::i18n::office();
    let query = use_query_map();
    let wanted = move || {
        query
            .with(|q| q.get("m").and_then(|n| n.parse::<i64>().ok()))
            .map(MailId)
    };
    let pane = RwSignal::new(wanted().map_or(Pane::None, Pane::Open));
    let folder = RwSignal::new(Folder::Inbox);
    Effect::new(move |_| {
        if let Some(id) = wanted() {
            if let Some(f) =
                view.with_untracked(|v| v.0.mail.iter().find(|m| m.id == id).map(|m| m.folder))
            {
                folder.set(f);
            }
            pane.set(Pane::Open(id));
        }
    });
    let folders = move || view.with(|v| v.0.folders.clone());
    let all_folders = move || {
        let mut out = vec![Folder::Inbox, Folder::Sent, Folder::Drafts, Folder::Trash];
        out.extend(folders().into_iter().map(|f| Folder::Own(f.id)));
        out
    };
    let unread = move |f: Folder| {
        view.with(|v| {
            v.0.mail
                .iter()
                .filter(|m| {
                    m.folder == f
                        && m.sent_at.is_some()
                        && m.read_at.is_none()
                        && m.receipts.is_empty()
                        && f != Folder::Sent
                })
                .count()
        })
    };
    let list = move || {
        let f = folder.get();
        view.with(|v| {
            v.0.mail
                .iter()
                .filter(|m| m.folder == f)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let new_folder = RwSignal::new(String::new());
    let action = command_action();
    let add_folder = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::SaveMailFolder(SaveMailFolder {
            folder: None,
            name: new_folder.get_untracked(),
        }));
        new_folder.set(String::new());
    };
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <div class="toolbar">
            <button type="button" on:click=move |_| pane.set(Pane::Compose(Box::default()))>{t.compose}</button>
        </div>
        <div class="mail-board">
            <nav class="mail-folders" aria-label=t.folders>
                <ul>
                    {move || all_folders().into_iter().map(|f| {
                        let name = folder_name(t, &folders(), f);
                        let n = unread(f);
                        view! {
                            <li>
                                <button type="button" aria-pressed=move || (folder.get() == f).to_string()
                                    on:click=move |_| { folder.set(f); pane.set(Pane::None); }>
                                    {name}{(n > 0).then(|| format!(" ({n})"))}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <form class="inline-form" on:submit=add_folder>
                    <label>{t.folder_name}
                        <input type="text" maxlength="64" required prop:value=move || new_folder.get() on:input=move |ev| new_folder.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">{t.add_folder}</button>
                </form>
                <Show when=move || error().is_some()>
                    <p role="alert" class="error">{error}</p>
                </Show>
            </nav>
            <Show when=move || !list().is_empty() fallback=move || view! { <p class="empty">{t.no_mail}</p> }>
                <ul class="story-list mail-list" aria-label=t.mail>
                    <For each=list key=|m| m.clone() let(m)>
                        <MailEntry mail=m pane />
                    </For>
                </ul>
            </Show>
            {move || match pane.get() {
                Pane::None => ().into_any(),
                Pane::Open(id) => view! { <MailDetail id view pane /> }.into_any(),
                Pane::Compose(draft) => {
                    let outside_mail = view.with_untracked(|v| v.0.outside_mail);
                    view! { <Compose draft=*draft org pane outside_mail /> }.into_any()
                }
            }}
        </div>
    }
    .into_any()
}

fn names(people: &[xietong::UserRef]) -> String {
    people
        .iter()
        .map(|u| u.username.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn MailEntry(mail: Mail, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let id = mail.id;
    let unread = mail.sent_at.is_some()
        && mail.read_at.is_none()
        && mail.receipts.is_empty()
        && mail.folder != Folder::Sent;
    let who = if mail.folder == Folder::Sent || mail.sent_at.is_none() {
        (t.sent_to)(&names(&mail.to))
    } else {
        mail.from.username.clone()
    };
    let date = mail
        .sent_at
        .map(|at| crate::chat::format_time(at, live.utc_offset_minutes.get_untracked()).1)
        .unwrap_or_default();
    let subject = if mail.subject.is_empty() {
        t.no_subject.to_owned()
    } else {
        mail.subject.clone()
    };
    let draft = mail.sent_at.is_none().then(|| Draft {
        mail: Some(mail.id),
        fields: mail.draft.clone().unwrap_or_default(),
        in_reply_to: mail.in_reply_to,
        forward: Vec::new(),
    });
    view! {
        <li class="story-entry mail-entry" class:unread=unread>
            <button type="button" class="story-title" on:click=move |_| match draft.clone() {
                Some(d) => pane.set(Pane::Compose(Box::new(d))),
                None => pane.set(Pane::Open(id)),
            }>{subject}</button>
            {unread.then(|| view! { <span class="badge">{t.unread_mark}</span> })}
            <p class="meta"><span>{who}</span> " · " <span class="time">{date}</span></p>
        </li>
    }
    .into_any()
}

#[component]
fn MailDetail(id: MailId, view: RwSignal<MailboxView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let action = command_action();
    let mail = Memo::new(move |_| view.with(|v| v.0.mail.iter().find(|m| m.id == id).cloned()));
    let me = move || live.me.get().map(|m| m.id);
    // A received mail comes without its text: fetched on opening it.
    let wanted = Memo::new(move |_| mail.with(|m| m.as_ref().is_some_and(|m| m.abridged)));
    Effect::new(move |_| {
        if !wanted.get() {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(whole) = load_mail_text(id).await {
                view.update(|v| {
                    if let Some(mine) = v.0.mail.iter_mut().find(|x| x.id == whole.id) {
                        mine.fill_text(&whole);
                    }
                });
            }
        });
    });
    // Opening a mail I received reads it.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let (Some(m), Some(me)) = (mail.get(), me()) else {
            return false;
        };
        if m.from.id != me && m.read_at.is_none() {
            live.send_command(ReadMail { mail: id });
        }
        true
    });
    let error = move || crate::error::failure_text(t, action.value().get());
    let recalled = move || match action.value().get() {
        Some(Ok(CommandOutput::MailRecalled { recalled, .. })) => Some((t.recalled_from)(recalled)),
        _ => None,
    };
    let run = move |command: Command| {
        action.dispatch(command);
    };
    let subject = move || mail.with(|m| m.as_ref().map(|m| m.subject.clone()).unwrap_or_default());
    let folders = move || view.with(|v| v.0.folders.clone());
    let move_to = RwSignal::new(None::<Folder>);
    view! {
        <article class="mail-open" aria-label=subject>
        {move || match mail.get() {
            None => view! { <p class="empty">{t.mail_gone}</p> }.into_any(),
            Some(m) => {
                let mine = Some(m.from.id) == me();
                let date = m.sent_at.map(|at| crate::chat::format_time(at, live.utc_offset_minutes.get_untracked()).1).unwrap_or_default();
                let unread_left = m.receipts.iter().any(|r| r.read_at.is_none() && !r.recalled);
                let in_trash = m.folder == Folder::Trash;
                let reply_to = |all: bool, m: &Mail| {
                    let me = me();
                    let mut to = vec![AudienceMember::Person(m.from.id)];
                    let mut cc = Vec::new();
                    if all {
                        to.extend(m.to.iter().filter(|u| Some(u.id) != me && u.id != m.from.id).map(|u| AudienceMember::Person(u.id)));
                        cc.extend(m.cc.iter().filter(|u| Some(u.id) != me).map(|u| AudienceMember::Person(u.id)));
                    }
                    Draft {
                        mail: None,
                        fields: MailFields { to, cc, subject: reply_subject(&m.subject, "Re:"), body: quoted(&m.body), ..Default::default() },
                        in_reply_to: Some(m.id),
                        forward: Vec::new(),
                    }
                };
                let (r1, r2, fwd) = (reply_to(false, &m), reply_to(true, &m), Draft {
                    mail: None,
                    fields: MailFields { subject: reply_subject(&m.subject, "Fwd:"), body: quoted(&m.body), ..Default::default() },
                    in_reply_to: Some(m.id),
                    forward: m.attachments.clone(),
                });
                let folder_choices: Vec<(Folder, String)> = {
                    let fs = folders();
                    let mut out = Vec::new();
                    if mine { out.push(Folder::Sent) } else { out.push(Folder::Inbox) }
                    out.extend(fs.iter().map(|f| Folder::Own(f.id)));
                    out.into_iter().filter(|f| *f != m.folder).map(|f| (f, folder_name(t, &fs, f))).collect()
                };
                let first_choice = folder_choices.first().map(|(f, _)| *f);
                view! {
                    <h2>{if m.subject.is_empty() { t.no_subject.to_owned() } else { m.subject.clone() }}</h2>
                    <dl class="mail-head">
                        <dt>{t.mail_from}</dt><dd>{m.from.username.clone()}</dd>
                        <dt>{t.mail_to}</dt><dd>{names(&m.to)}</dd>
                        {(!m.cc.is_empty()).then(|| view! { <dt>{t.mail_cc}</dt><dd>{names(&m.cc)}</dd> })}
                        {(!m.bcc.is_empty()).then(|| view! { <dt>{t.mail_bcc}</dt><dd>{names(&m.bcc)}</dd> })}
                        {(!m.outside.is_empty()).then(|| view! { <dt>{t.mail_outside}</dt><dd>{m.outside.join(", ")}</dd> })}
                        <dt>{t.mail_date}</dt><dd>{date}</dd>
                    </dl>
                    // Rendered from Markdown and sanitised by the server.
                    {if m.abridged {
                        view! { <p class="loading">{t.loading}</p> }.into_any()
                    } else {
                        view! { <div class="markdown mail-body" inner_html=m.html.clone()></div> }.into_any()
                    }}
                    {(!m.attachments.is_empty()).then(|| view! { <crate::files::FileCards files=m.attachments.clone() /> })}
                    <div class="actions">
                        // Until its text is here, a reply or forward would quote nothing.
                        <button type="button" disabled=m.abridged on:click=move |_| pane.set(Pane::Compose(Box::new(r1.clone())))>{t.reply}</button>
                        <button type="button" disabled=m.abridged on:click=move |_| pane.set(Pane::Compose(Box::new(r2.clone())))>{t.reply_all}</button>
                        <button type="button" disabled=m.abridged on:click=move |_| pane.set(Pane::Compose(Box::new(fwd.clone())))>{t.forward}</button>
                        {(mine && unread_left).then(|| view! {
                            <button type="button" on:click=move |_| run(Command::RecallMail(RecallMail { mail: id }))>{t.recall}</button>
                        })}
                        {(!folder_choices.is_empty()).then(|| view! {
                            <label>{t.move_to}
                                <select on:change=move |ev| move_to.set(Folder::parse(&event_target_value(&ev)))>
                                    {folder_choices.iter().map(|(f, name)| view! { <option value=f.key()>{name.clone()}</option> }).collect_view()}
                                </select>
                            </label>
                            <button type="button" on:click=move |_| {
                                if let Some(folder) = move_to.get_untracked().or(first_choice) {
                                    run(Command::MoveMail(MoveMail { mail: id, folder }));
                                }
                            }>{t.move_topic}</button>
                        })}
                        {if in_trash {
                            view! { <button type="button" on:click=move |_| run(Command::DeleteMail(DeleteMail { mail: id }))>{t.delete_forever}</button> }.into_any()
                        } else {
                            view! { <button type="button" on:click=move |_| run(Command::MoveMail(MoveMail { mail: id, folder: Folder::Trash }))>{t.delete}</button> }.into_any()
                        }}
                        <button type="button" on:click=move |_| pane.set(Pane::None)>{t.close}</button>
                    </div>
                    {mine.then(|| view! {
                        <section class="receipts" aria-label=t.receipts>
                            <h3>{t.receipts}</h3>
                            <ul aria-label=t.receipts>
                                {m.receipts.iter().map(|r| {
                                    let state = if r.recalled {
                                        t.recalled.to_owned()
                                    } else {
                                        match r.read_at {
                                            Some(at) => (t.read_at)(&crate::chat::format_time(at, live.utc_offset_minutes.get_untracked()).1),
                                            None => t.not_read_yet.to_owned(),
                                        }
                                    };
                                    view! { <li>{format!("{} — {}", r.user.username, state)}</li> }
                                }).collect_view()}
                            </ul>
                        </section>
                    })}
                }.into_any()
            }
        }}
        <Show when=move || recalled().is_some()>
            <p role="status">{recalled}</p>
        </Show>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
        </article>
    }
    .into_any()
}

/// The original under a reply or forward, each line quoted.
fn quoted(body: &str) -> String {
    let lines: Vec<String> = body.lines().map(|l| format!("> {l}")).collect();
    format!("\n\n{}", lines.join("\n"))
}

#[component]
fn Compose(
    draft: Draft,
    org: StoredValue<OrgSnapshot>,
    pane: RwSignal<Pane>,
    /// This deployment sends mail to outside addresses.
    outside_mail: bool,
) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let to = RwSignal::new(draft.fields.to.clone());
    let cc = RwSignal::new(draft.fields.cc.clone());
    let bcc = RwSignal::new(draft.fields.bcc.clone());
    let subject = RwSignal::new(draft.fields.subject.clone());
    let body = RwSignal::new(draft.fields.body.clone());
    let outside = RwSignal::new(draft.fields.outside.join(", "));
    let files = crate::files::upload::Uploads::new();
    let forward = draft.forward.clone();
    let local_error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let (mail_id, in_reply_to) = (draft.mail, draft.in_reply_to);
    let forward_ids = StoredValue::new(draft.forward.iter().map(|f| f.id).collect::<Vec<_>>());
    let submit = move |send: bool| {
        if files.busy() {
            local_error.set(Some(t.wait_for_uploads.to_owned()));
            return;
        }
        let command = SaveMail {
            mail: mail_id,
            fields: MailFields {
                to: to.get_untracked(),
                cc: cc.get_untracked(),
                bcc: bcc.get_untracked(),
                subject: subject.get_untracked(),
                body: body.get_untracked(),
                outside: outside
                    .get_untracked()
                    .split(|c: char| c == ',' || c == ';' || c == '，' || c.is_whitespace())
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            attachments: files.take_ready(),
            forward_files: forward_ids.get_value(),
            in_reply_to,
            send,
        };
        if let Err(e) = command.validate() {
            local_error.set(Some((t.invalid)(&e)));
            return;
        }
        local_error.set(None);
        sending.set(send);
        action.dispatch(Command::SaveMail(command));
    };
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::MailChanged { mail })) = action.value().get() {
            pane.set(if sending.get_untracked() {
                Pane::Open(mail)
            } else {
                Pane::None
            });
        }
    });
    let error = move || {
        local_error
            .get()
            .or_else(|| crate::error::failure_text(t, action.value().get()))
    };
    let picker = move |chosen: RwSignal<Vec<AudienceMember>>, name: &'static str| {
        org.with_value(
            |org| view! { <crate::org::AudiencePicker org=org.clone() chosen field_name=name /> },
        )
    };
    view! {
        <form class="story-form mail-compose" aria-label=t.compose on:submit=move |ev| { ev.prevent_default(); submit(true); }>
            {picker(to, t.mail_to)}
            {picker(cc, t.mail_cc)}
            {picker(bcc, t.mail_bcc)}
            {(outside_mail || !outside.get_untracked().is_empty()).then(|| view! {
                <label>{t.mail_outside}
                    <input type="text" inputmode="email" placeholder="name@example.com, …"
                        prop:value=move || outside.get() on:input=move |ev| outside.set(event_target_value(&ev)) />
                </label>
            })}
            <label>{t.subject}
                <input type="text" maxlength="200" prop:value=move || subject.get() on:input=move |ev| subject.set(event_target_value(&ev)) />
            </label>
            <label>{t.story_body}
                <textarea rows="10" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </label>
            {(!forward.is_empty()).then(|| view! { <crate::files::FileCards files=forward.clone() /> })}
            <crate::files::upload::UploadList uploads=files />
            <label>{t.attach}
                <input type="file" multiple on:change=move |ev| files.add(crate::transfer::picked(&ev), |_, _| {}) />
            </label>
            <div class="actions">
                <button type="submit">{t.send}</button>
                <button type="button" on:click=move |_| submit(false)>{t.save_draft}</button>
                <button type="button" on:click=move |_| pane.set(Pane::None)>{t.cancel}</button>
            </div>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}
