//! 通知公告 "Notices" (`/notices`): the notices published to me (pinned first), mine in every
//! state, and those waiting for my review. Opening one marks it read; one that asks for it has
//! "Acknowledge" (我已阅知). Its author edits (a published one only as a revision that says what
//! changed), publishes, withdraws and reminds, and sees live who has read it ("Read", "Not
//! read", "Acknowledged"). Live from my user scope and the workspace's (notice types).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};
use xietong::notices::*;
use xietong::org::{AudienceMember, OrgSnapshot};
use xietong::{Command, CommandOutput, NoticeId, NoticeTypeId, Scope, Seq};

use crate::command::command_action;
use crate::live::{Applied, Live, ScopeView};
use crate::AppError;

#[server(prefix = "/api", endpoint = "notices", output = crate::codec::TextJson)]
pub async fn load_notices() -> Result<NoticeBoard, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.notices(&user).await
}

#[server(prefix = "/api", endpoint = "notice_text", output = crate::codec::TextJson)]
pub async fn load_notice_text(notice: NoticeId) -> Result<Notice, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.notice_text(&user, notice).await
}

#[server(prefix = "/api", endpoint = "notice_readers", output = crate::codec::TextJson)]
pub async fn load_notice_readers(notice: NoticeId) -> Result<NoticeReaders, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .notice_readers(&user, notice)
        .await
}

/// My board as this tab knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardView(pub NoticeBoard);

impl ScopeView for BoardView {
    fn head(&self, scope: Scope) -> Seq {
        match scope {
            Scope::Workspace => self.0.workspace_head,
            _ => self.0.head,
        }
    }

    fn apply(&mut self, event: &crate::live::LiveEvent) -> Applied {
        let head = match event.scope {
            Scope::Workspace => &mut self.0.workspace_head,
            _ => &mut self.0.head,
        };
        if let Some(outcome) = crate::live::advance(head, event) {
            return outcome;
        }
        if let Some(event) = crate::live::decode::<xietong::notices::NoticeEvent>(&event.body) {
            self.0.apply(&event);
        }
        Applied::Applied
    }
}

/// Who has read one notice, as its author's tab knows it.
pub type ReadersView = crate::live::Mine<NoticeReaders>;

impl crate::live::MyState for NoticeReaders {
    type Event = xietong::notices::NoticeEvent;

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

/// `/notices`, loaded on demand.
#[derive(Debug)]
pub struct NoticesRoute;

#[lazy_route]
impl LazyRoute for NoticesRoute {
    fn data() -> Self {
        NoticesRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <NoticesPage /> }.into_any()
    }
}

#[component]
fn NoticesPage() -> impl IntoView {
    crate::org::office_page(
        "notices",
        crate::i18n::office().notices,
        load_notices,
        |found, org| {
            let view = RwSignal::new(BoardView(found));
            let live = expect_context::<Live>();
            let refetch = Live::refetch_into(view, load_notices, BoardView);
            live.watch(Scope::Workspace, view, refetch);
            live.watch_mine(view, refetch);
            view! { <Board view org /> }.into_any()
        },
    )
}

/// What the page shows beside the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    None,
    Open(NoticeId),
    /// The form, for a new notice (`None`) or an existing one.
    Edit(Option<NoticeId>),
}

#[component]
fn Board(view: RwSignal<BoardView>, org: StoredValue<OrgSnapshot>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let query = use_query_map();
    let wanted = move || {
        query
            .with(|q| q.get("n").and_then(|n| n.parse::<i64>().ok()))
            .map(|n| Pane::Open(NoticeId(n)))
    };
    let pane = RwSignal::new(wanted().unwrap_or(Pane::None));
    // Following a notification to another notice opens it.
    Effect::new(move |_| {
        if let Some(open) = wanted() {
            pane.set(open);
        }
    });
    let me = move || live.me.get().map(|m| m.id);
    let list = move || {
        let now = crate::live::now_ms() as i64;
        let mut notices = view.with(|v| v.0.notices.clone());
        // Pinned first, keeping the board's order otherwise.
        notices.sort_by_key(|n| !n.pinned(now));
        notices
    };
    view! {
        <div class="toolbar">
            <button type="button" on:click=move |_| pane.set(Pane::Edit(None))>{t.new_notice}</button>
        </div>
        <div class="notice-board">
            <Show when=move || !list().is_empty() fallback=move || view! { <p class="empty">{t.no_notices}</p> }>
                <ul class="notice-list" aria-label=t.notices>
                    <For each=list key=|n| (n.id, n.updated_at, n.read_at.is_some(), n.acknowledged_at.is_some()) let(n)>
                        <NoticeEntry notice=n view pane me=Signal::derive(me) />
                    </For>
                </ul>
            </Show>
            {move || match pane.get() {
                Pane::None => ().into_any(),
                Pane::Open(id) => view! { <NoticeDetail id view pane /> }.into_any(),
                Pane::Edit(id) => view! { <NoticeForm id view org pane /> }.into_any(),
            }}
        </div>
    }
    .into_any()
}

fn status_label(t: &crate::i18n::OfficeTexts, notice: &Notice, now: i64) -> Option<&'static str> {
    match notice.status {
        NoticeStatus::Draft => Some(t.notice_draft),
        NoticeStatus::PendingReview => Some(t.notice_pending_review),
        NoticeStatus::Scheduled => Some(t.notice_scheduled),
        NoticeStatus::Withdrawn => Some(t.notice_withdrawn),
        NoticeStatus::Published if notice.expired(now) => Some(t.notice_expired),
        NoticeStatus::Published if notice.pinned(now) => Some(t.notice_pinned),
        NoticeStatus::Published => None,
    }
}

#[component]
fn NoticeEntry(
    notice: Notice,
    view: RwSignal<BoardView>,
    pane: RwSignal<Pane>,
    me: Signal<Option<xietong::UserId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let now = crate::live::now_ms() as i64;
    let id = notice.id;
    let kind = view.with_untracked(|v| {
        v.0.types
            .iter()
            .find(|k| k.id == notice.fields.kind)
            .map(|k| k.name.clone())
            .unwrap_or_default()
    });
    let author = notice.author.id;
    let published = notice.status == NoticeStatus::Published;
    let (read, asks, acked) = (
        notice.read_at.is_some(),
        notice.fields.requires_ack,
        notice.acknowledged_at.is_some(),
    );
    // Mine or not is known once the socket says who I am.
    let mine = move || me.get() == Some(author);
    let unread = move || !mine() && published && !read;
    let to_ack = move || !mine() && published && asks && !acked;
    let when = notice.published_at.unwrap_or(notice.updated_at);
    let date = crate::chat::format_time(when, live.utc_offset_minutes.get_untracked()).1;
    view! {
        <li class="notice-entry" class:unread=unread class:urgent=notice.fields.urgent>
            <button type="button" class="notice-title" aria-pressed=move || (pane.get() == Pane::Open(id)).to_string()
                on:click=move |_| pane.set(Pane::Open(id))>{notice.fields.title.clone()}</button>
            <span class="kind">{kind}</span>
            <span class="author">{notice.author.username.clone()}</span>
            <span class="time">{date}</span>
            {status_label(t, &notice, now).map(|s| view! { <span class="badge">{s}</span> })}
            <Show when=unread><span class="badge">{t.unread_mark}</span></Show>
            <Show when=to_ack><span class="badge">{t.please_acknowledge}</span></Show>
        </li>
    }
    .into_any()
}

#[component]
fn NoticeDetail(id: NoticeId, view: RwSignal<BoardView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let action = command_action();
    let notice =
        Memo::new(move |_| view.with(|v| v.0.notices.iter().find(|n| n.id == id).cloned()));
    let me = move || live.me.get().map(|m| m.id);
    // Boards and events carry others' notices without their text: fetched on opening one
    // (again after a revision, which comes abridged too).
    let wanted = Memo::new(move |_| {
        notice.with(|n| {
            n.as_ref()
                .filter(|n| n.abridged)
                .map(|n| (n.id, n.revision, n.updated_at))
        })
    });
    Effect::new(move |_| {
        let Some((id, _, _)) = wanted.get() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(whole) = load_notice_text(id).await {
                view.update(|v| {
                    if let Some(mine) = v.0.notices.iter_mut().find(|m| m.id == whole.id) {
                        mine.fill_text(&whole);
                    }
                });
            }
        });
    });
    let mine = move || notice.with(|n| n.as_ref().map(|n| n.author.id)) == me() && me().is_some();
    // Opening a notice published to me reads it.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(n) = notice.get() else { return false };
        let Some(me) = me() else { return false };
        if n.author.id != me && n.status == NoticeStatus::Published && n.read_at.is_none() {
            live.send_command(ReadNotice { notice: id });
        }
        true
    });
    let error = move || crate::error::failure_text(t, action.value().get());
    let reminded = move || match action.value().get() {
        Some(Ok(CommandOutput::NoticeReminded { reminded, .. })) => Some((t.reminded)(reminded)),
        _ => None,
    };
    let run = move |command: Command| {
        action.dispatch(command);
    };
    let title = move || {
        notice.with(|n| {
            n.as_ref()
                .map(|n| n.fields.title.clone())
                .unwrap_or_default()
        })
    };
    // The author's lists stay mounted while the notice changes around them.
    let show_readers = move || {
        mine() && notice.with(|n| n.as_ref().map(|n| n.status)) == Some(NoticeStatus::Published)
    };
    view! {
        <article class="notice" aria-label=title>
        {move || match notice.get() {
            None => view! { <p class="empty">{t.notice_gone}</p> }.into_any(),
            Some(n) => {
                let status = n.status;
                // Nobody acknowledges or approves text they have not seen yet.
                let reviewer = !mine() && status == NoticeStatus::PendingReview && !n.abridged;
                let seen_at = n.updated_at;
                let reader = !mine() && status == NoticeStatus::Published && !n.abridged;
                let acknowledge = reader && n.fields.requires_ack && n.acknowledged_at.is_none();
                let acknowledged = reader && n.acknowledged_at.is_some();
                let changes = n.changes.iter().map(|c| {
                    let class = match c.op { '+' => "added", '-' => "removed", _ => "kept" };
                    view! { <li class=class>{format!("{} {}", c.op, c.text)}</li> }
                }).collect_view();
                view! {
                        <h2>{n.fields.title.clone()}</h2>
                        <p class="meta">{n.author.username.clone()}</p>
                        {(n.revision > 1).then(|| view! {
                            <section class="revision" aria-label=t.what_changed>
                                <p>{(t.revised)(n.revision, &n.revision_note)}</p>
                                <ul class="changes">{changes}</ul>
                            </section>
                        })}
                        {(!n.review_note.is_empty()).then(|| view! { <p class="review-note">{n.review_note.clone()}</p> })}
                        {if n.abridged {
                            view! { <p class="loading">{t.loading}</p> }.into_any()
                        } else {
                            view! { <div class="notice-body" inner_html=n.html.clone()></div> }.into_any()
                        }}
                        {(!n.attachments.is_empty()).then(|| view! { <crate::files::FileCards files=n.attachments.clone() /> })}
                        <div class="actions">
                            {acknowledge.then(|| view! {
                                <button type="button" on:click=move |_| run(Command::AcknowledgeNotice(AcknowledgeNotice { notice: id }))>
                                    {t.acknowledge}
                                </button>
                            })}
                            {acknowledged.then(|| view! { <span class="badge">{t.acknowledged}</span> })}
                            {reviewer.then(|| view! {
                                <button type="button" on:click=move |_| run(Command::ReviewNotice(ReviewNotice { notice: id, seen_at, approve: true, note: String::new() }))>{t.approve}</button>
                                <button type="button" on:click=move |_| run(Command::ReviewNotice(ReviewNotice { notice: id, seen_at, approve: false, note: String::new() }))>{t.send_back}</button>
                            })}
                            <Show when=mine>
                                {(status != NoticeStatus::Withdrawn).then(|| view! {
                                    <button type="button" on:click=move |_| pane.set(Pane::Edit(Some(id)))>{t.edit}</button>
                                })}
                                {(status == NoticeStatus::Draft).then(|| view! {
                                    <button type="button" on:click=move |_| run(Command::PublishNotice(PublishNotice { notice: id }))>{t.publish}</button>
                                })}
                                {(status == NoticeStatus::Published).then(|| view! {
                                    <button type="button" on:click=move |_| run(Command::RemindNotice(RemindNotice { notice: id }))>{t.remind}</button>
                                })}
                                {matches!(status, NoticeStatus::Published | NoticeStatus::Scheduled | NoticeStatus::PendingReview).then(|| view! {
                                    <button type="button" on:click=move |_| run(Command::WithdrawNotice(WithdrawNotice { notice: id }))>{t.withdraw}</button>
                                })}
                            </Show>
                            <button type="button" on:click=move |_| pane.set(Pane::None)>{t.close}</button>
                        </div>
                        <Show when=move || reminded().is_some()>
                            <p role="status">{reminded}</p>
                        </Show>
                        <Show when=move || error().is_some()>
                            <p role="alert" class="error">{error}</p>
                        </Show>
                }.into_any()
            }
        }}
        <Show when=show_readers>
            <Readers id />
        </Show>
        </article>
    }
    .into_any()
}

/// The author's live lists: read, not read, acknowledged.
#[component]
fn Readers(id: NoticeId) -> impl IntoView {
    let t = crate::i18n::office();
    let found = Resource::new(move || id, load_notice_readers);
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(found) => {
                        let view = expect_context::<Live>().keep_mine(found, move || load_notice_readers(id));
                        view! { <ReaderLists view /> }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn ReaderLists(view: RwSignal<ReadersView>) -> impl IntoView {
    let t = crate::i18n::office();
    let read = move || {
        view.try_with(|v| {
            v.0.read
                .iter()
                .map(|(u, _)| u.username.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    let not_read = move || {
        view.try_with(|v| {
            v.0.not_read
                .iter()
                .map(|u| u.username.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    let acked = move || {
        view.try_with(|v| {
            v.0.acknowledged
                .iter()
                .map(|(u, _)| u.username.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    let requires_ack = move || view.try_with(|v| v.0.requires_ack).unwrap_or(false);
    let list = move |name: &'static str, names: Box<dyn Fn() -> Vec<String> + Send + Sync>| {
        let names = std::sync::Arc::new(names);
        let count = {
            let names = names.clone();
            move || names().len()
        };
        view! {
            <section class="reader-list">
                <h3>{name} " (" {count} ")"</h3>
                <ul aria-label=name>
                    <For each=move || names() key=|n| n.clone() let(n)>
                        <li>{n}</li>
                    </For>
                </ul>
            </section>
        }
    };
    view! {
        <div class="readers">
            {list(t.read_list, Box::new(read))}
            {list(t.not_read_list, Box::new(not_read))}
            <Show when=requires_ack>
                {list(t.acknowledged, Box::new(acked))}
            </Show>
        </div>
    }
    .into_any()
}

/// `datetime-local` value ("2026-11-27T14:05", the reader's time) ⇄ Unix ms.
pub fn to_local(ms: Option<i64>, offset_minutes: i32) -> String {
    match ms {
        None => String::new(),
        Some(ms) => crate::chat::format_time(ms, offset_minutes)
            .1
            .replacen(' ', "T", 1)
            .get(..16)
            .unwrap_or_default()
            .to_owned(),
    }
}

pub fn from_local(value: &str, offset_minutes: i32) -> Option<i64> {
    // By hand, not chrono's format parser (sizeable in the WASM bundle).
    let (date, time) = value.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let (hour, minute) = time.split_once(':')?;
    let at = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?.and_hms_opt(
        hour.parse().ok()?,
        minute.get(..2)?.parse().ok()?,
        0,
    )?;
    Some(at.and_utc().timestamp_millis() - i64::from(offset_minutes) * 60_000)
}

#[component]
fn NoticeForm(
    id: Option<NoticeId>,
    view: RwSignal<BoardView>,
    org: StoredValue<OrgSnapshot>,
    pane: RwSignal<Pane>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let offset = live.utc_offset_minutes.get_untracked();
    let action = command_action();
    let before =
        view.with_untracked(|v| id.and_then(|id| v.0.notices.iter().find(|n| n.id == id).cloned()));
    let published = before
        .as_ref()
        .is_some_and(|n| n.status == NoticeStatus::Published);
    let types = view.with_untracked(|v| v.0.types.clone());
    let fields = before.as_ref().map(|n| n.fields.clone());
    let kind = RwSignal::new(
        fields
            .as_ref()
            .map(|f| f.kind)
            .or(types.first().map(|k| k.id))
            .unwrap_or(NoticeTypeId(0)),
    );
    let title = RwSignal::new(fields.as_ref().map(|f| f.title.clone()).unwrap_or_default());
    let body = RwSignal::new(fields.as_ref().map(|f| f.body.clone()).unwrap_or_default());
    let audience = RwSignal::new(
        fields
            .as_ref()
            .map(|f| f.audience.clone())
            .unwrap_or_else(|| vec![AudienceMember::Everyone]),
    );
    let valid_from = RwSignal::new(to_local(fields.as_ref().and_then(|f| f.valid_from), offset));
    let valid_until = RwSignal::new(to_local(
        fields.as_ref().and_then(|f| f.valid_until),
        offset,
    ));
    let pinned_until = RwSignal::new(to_local(
        fields.as_ref().and_then(|f| f.pinned_until),
        offset,
    ));
    let requires_ack = RwSignal::new(fields.as_ref().is_some_and(|f| f.requires_ack));
    let urgent = RwSignal::new(fields.as_ref().is_some_and(|f| f.urgent));
    let escalate = RwSignal::new(
        fields
            .as_ref()
            .and_then(|f| f.escalate_after_minutes)
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let note = RwSignal::new(String::new());
    let had_files = before
        .as_ref()
        .map(|n| n.attachments.clone())
        .unwrap_or_default();
    let remove_files = RwSignal::new(Vec::<xietong::files::FileId>::new());
    let files = crate::files::upload::Uploads::new();
    let local_error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if files.busy() {
            local_error.set(Some(t.wait_for_uploads.to_owned()));
            return;
        }
        local_error.set(None);
        let fields = NoticeFields {
            kind: kind.get_untracked(),
            title: title.get_untracked(),
            body: body.get_untracked(),
            audience: audience.get_untracked(),
            valid_from: from_local(&valid_from.get_untracked(), offset),
            valid_until: from_local(&valid_until.get_untracked(), offset),
            pinned_until: from_local(&pinned_until.get_untracked(), offset),
            requires_ack: requires_ack.get_untracked(),
            urgent: urgent.get_untracked(),
            escalate_after_minutes: escalate.get_untracked().trim().parse().ok(),
        };
        action.dispatch(Command::SaveNotice(SaveNotice {
            notice: id,
            fields,
            revision_note: note.get_untracked(),
            attachments: files.take_ready(),
            remove_attachments: remove_files.get_untracked(),
        }));
    };
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::NoticeChanged { notice, .. })) = action.value().get() {
            pane.set(Pane::Open(notice));
        }
    });
    let error = move || {
        local_error
            .get()
            .or_else(|| crate::error::failure_text(t, action.value().get()))
    };
    let options = types
        .into_iter()
        .map(|k| {
            let value = k.id.0.to_string();
            view! { <option value=value selected=move || kind.get() == k.id>{k.name.clone()}</option> }
        })
        .collect_view();
    let date = move |label: &'static str, value: RwSignal<String>| {
        view! {
            <label>{label}
                <input type="datetime-local" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <form class="notice-form" aria-label=t.notice_form on:submit=save>
            <label>{t.notice_type}
                <select on:change=move |ev| { if let Ok(k) = event_target_value(&ev).parse() { kind.set(NoticeTypeId(k)) } }>
                    {options}
                </select>
            </label>
            <label>{t.title_column}
                <input type="text" required maxlength="200" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            </label>
            <label>{t.notice_body}
                <textarea rows="8" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </label>
            {org.with_value(|org| view! { <crate::org::AudiencePicker org=org.clone() chosen=audience /> })}
            {date(t.valid_from, valid_from)}
            {date(t.valid_until, valid_until)}
            {date(t.pinned_until, pinned_until)}
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || requires_ack.get() on:change=move |ev| requires_ack.set(event_target_checked(&ev)) />
                {t.requires_ack}
            </label>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || urgent.get() on:change=move |ev| urgent.set(event_target_checked(&ev)) />
                {t.urgent}
            </label>
            <label>{t.escalate_after}
                <input type="number" min="1" max="10080" prop:value=move || escalate.get() on:input=move |ev| escalate.set(event_target_value(&ev)) />
            </label>
            {had_files.into_iter().map(|f| {
                let file = f.id;
                view! {
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=move || remove_files.with(|r| r.contains(&file))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                remove_files.update(|r| { r.retain(|x| *x != file); if on { r.push(file) } });
                            } />
                        {(t.remove_named)(&f.name)}
                    </label>
                }
            }).collect_view()}
            <crate::files::upload::UploadList uploads=files />
            <label>{t.attach}
                <input type="file" multiple on:change=move |ev| files.add(crate::transfer::picked(&ev), |_, _| {}) />
            </label>
            {published.then(|| view! {
                <label>{t.what_changed}
                    <textarea rows="2" maxlength="500" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
            })}
            <div class="actions">
                <button type="submit">{if published { t.save_revision } else { t.save_draft }}</button>
                <button type="button" on:click=move |_| pane.set(id.map_or(Pane::None, Pane::Open))>{t.cancel}</button>
            </div>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}

/// Admin → "Notice types": the types of notice people choose from, each optionally reviewed
/// by a role before it is published.
#[component]
pub fn NoticeTypesAdmin(view: RwSignal<crate::org::OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    // Loaded in the browser once the page is live: this sits inside the organisation's own
    // suspense, where a second server-rendered resource would not hydrate.
    let board = RwSignal::new(BoardView(NoticeBoard::default()));
    let loaded = RwSignal::new(false);
    let owner = Owner::current();
    Effect::new(move |_| {
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            if let Ok(found) = load_notices().await {
                board.set(BoardView(found));
                loaded.set(true);
                if let Some(owner) = owner {
                    owner.with(|| {
                        expect_context::<Live>().watch(Scope::Workspace, board, move || {
                            leptos::task::spawn_local(async move {
                                if let Ok(fresh) = load_notices().await {
                                    board.set(BoardView(fresh));
                                }
                            });
                        })
                    });
                }
            }
        });
    });
    view! {
        <section class="notice-types" aria-labelledby="notice-types-title">
            <h2 id="notice-types-title">{t.notice_types}</h2>
            <Show when=move || loaded.get() fallback=move || view! { <p class="loading">{t.loading}</p> }>
                <TypesEditor board org=view />
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn TypesEditor(board: RwSignal<BoardView>, org: RwSignal<crate::org::OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(None::<xietong::RoleId>);
    let types = move || board.with(|b| b.0.types.clone());
    let role_name = move |id: Option<xietong::RoleId>| match id {
        None => t.no_review.to_owned(),
        Some(id) => org.with(|o| {
            o.roles
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.name.clone())
                .unwrap_or_default()
        }),
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::DefineNoticeType(DefineNoticeType {
            name: name.get_untracked(),
            review_role: role.get_untracked(),
        }));
        name.set(String::new());
    };
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <ul aria-label=t.notice_types>
            <For each=types key=|k| (k.id, k.name.clone(), k.review_role) let(k)>
                <li>
                    <span>{k.name.clone()}</span>
                    <span class="note">{format!(" · {}", role_name(k.review_role))}</span>
                    <button type="button" aria-label=(t.remove_type)(&k.name)
                        on:click=move |_| { action.dispatch(Command::RemoveNoticeType(RemoveNoticeType { kind: k.id })); }>"×"</button>
                </li>
            </For>
        </ul>
        <form class="inline-form" on:submit=add>
            <label>{t.notice_type_name}
                <input type="text" required maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>{t.review_by}
                <select on:change=move |ev| role.set(event_target_value(&ev).parse().ok().map(xietong::RoleId))>
                    <option value="">{t.no_review}</option>
                    <For each=move || org.with(|o| o.roles.clone()) key=|r| r.id let(r)>
                        <option value=r.id.0.to_string()>{r.name.clone()}</option>
                    </For>
                </select>
            </label>
            <button type="submit">{t.add_notice_type}</button>
        </form>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
    }
    .into_any()
}
