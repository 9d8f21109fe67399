//! 论坛 "Forum" (`/forum`): the topics of the sections I read — pinned first, then by the newest
//! reply — as discussions, questions (solved once their author accepts an answer) and votes.
//! An open topic shows its replies; replies that arrive while I read wait under "N new
//! replies". I reply (quoting a reply, mentioning people with `@name`), vote, and accept an
//! answer to my question. Moderators pin, feature (精华), lock, move and mute; admins set up the
//! sections here ("Manage sections"). Live from the workspace scope and each section's scope.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};
use xietong::forum::*;
use xietong::org::OrgSnapshot;
use xietong::{Command, CommandOutput, ForumReplyId, ForumSectionId, ForumTopicId, Scope, Seq};

use crate::command::command_action;
use crate::live::{Applied, Live, ScopeView};
use crate::AppError;

#[server(prefix = "/api", endpoint = "forum", output = crate::codec::TextJson)]
pub async fn load_forum() -> Result<ForumBoard, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.forum(&user).await
}

#[server(prefix = "/api", endpoint = "forum_topic", output = crate::codec::TextJson)]
pub async fn load_topic(
    topic: ForumTopicId,
    before: Option<ForumReplyId>,
) -> Result<TopicPage, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .forum_topic(&user, topic, before)
        .await
}

/// The forum page as this tab knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForumView(pub ForumBoard);

impl ScopeView for ForumView {
    fn head(&self, scope: Scope) -> Seq {
        match scope {
            Scope::Forum(section) => self.0.section_head(section),
            _ => self.0.workspace_head,
        }
    }

    fn apply(&mut self, event: &crate::live::LiveEvent) -> Applied {
        let head = match event.scope {
            Scope::Forum(section) => self.0.section_head_mut(section),
            _ => &mut self.0.workspace_head,
        };
        if let Some(outcome) = crate::live::advance(head, event) {
            return outcome;
        }
        if let Some(event) = crate::live::decode::<xietong::forum::ForumEvent>(&event.body) {
            self.0.apply(&event);
        }
        Applied::Applied
    }
}

/// One open topic, live from its section's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicView(pub TopicPage);

impl ScopeView for TopicView {
    fn head(&self, _scope: Scope) -> Seq {
        self.0.head
    }

    fn apply(&mut self, event: &crate::live::LiveEvent) -> Applied {
        if let Some(outcome) = crate::live::advance(&mut self.0.head, event) {
            return outcome;
        }
        if let Some(event) = crate::live::decode::<xietong::forum::ForumEvent>(&event.body) {
            self.0.apply(&event);
        }
        Applied::Applied
    }
}

/// `/forum`, loaded on demand.
#[derive(Debug)]
pub struct ForumRoute;

#[lazy_route]
impl LazyRoute for ForumRoute {
    fn data() -> Self {
        ForumRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <ForumPage /> }.into_any()
    }
}

#[component]
fn ForumPage() -> impl IntoView {
    crate::org::office_page("forum", crate::i18n::office().forum, load_forum, |found, org| {
        let view = RwSignal::new(ForumView(found));
        let refetch = Live::refetch_into(view, load_forum, ForumView);
        expect_context::<Live>().watch(Scope::Workspace, view, refetch);
        Effect::new(move |_| {
            if view.with(|v| v.0.stale) {
                refetch();
            }
        });
        view! { <Board view org refetch=Callback::new(move |()| refetch()) /> }.into_any()
    })
}

/// Keeps one readable section's scope live for the page while it is listed.
#[component]
fn SectionWatch(
    section: ForumSectionId,
    view: RwSignal<ForumView>,
    refetch: Callback<()>,
) -> impl IntoView {
    expect_context::<Live>().watch(Scope::Forum(section), view, move || refetch.run(()));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    None,
    Open(ForumTopicId),
    New,
    Sections,
}

#[component]
fn Board(
    view: RwSignal<ForumView>,
    org: StoredValue<OrgSnapshot>,
    refetch: Callback<()>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let query = use_query_map();
    let wanted = move || {
        query
            .with(|q| q.get("topic").and_then(|n| n.parse::<i64>().ok()))
            .map(|n| Pane::Open(ForumTopicId(n)))
    };
    let pane = RwSignal::new(wanted().unwrap_or(Pane::None));
    Effect::new(move |_| {
        if let Some(open) = wanted() {
            pane.set(open);
        }
    });
    let open_section = Memo::new(move |_| match pane.get() {
        Pane::Open(id) => view.with(|v| v.0.topics.iter().find(|t| t.id == id).map(|t| t.section)),
        _ => None,
    });
    let filter = RwSignal::new(None::<ForumSectionId>);
    let readable = move || {
        view.with(|v| {
            v.0.sections
                .iter()
                .filter(|(_, r)| r.read)
                .map(|(s, _)| (s.id, s.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let admin = move || live.me.get().is_some_and(|m| m.is_admin);
    let list = move || {
        let only = filter.get();
        view.with(|v| {
            v.0.topics
                .iter()
                .filter(|topic| only.is_none_or(|s| topic.section == s))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <For each=readable key=|(id, _)| *id let((id, _name))>
            <SectionWatch section=id view refetch />
        </For>
        <div class="toolbar">
            <div role="group" aria-label=t.forum_sections class="column-tabs">
                <button type="button" aria-pressed=move || filter.get().is_none().to_string()
                    on:click=move |_| filter.set(None)>{t.all_columns}</button>
                <For each=readable key=|s| s.clone() let((id, name))>
                    <button type="button" aria-pressed=move || (filter.get() == Some(id)).to_string()
                        on:click=move |_| filter.set(Some(id))>{name}</button>
                </For>
            </div>
            <Show when=move || !readable().is_empty()>
                <button type="button" on:click=move |_| pane.set(Pane::New)>{t.new_topic}</button>
            </Show>
            <Show when=admin>
                <button type="button" on:click=move |_| pane.set(Pane::Sections)>{t.manage_sections}</button>
            </Show>
        </div>
        <div class="news-board">
            <Show when=move || !list().is_empty() fallback=move || view! { <p class="empty">{t.no_topics}</p> }>
                <ul class="story-list" aria-label=t.topics>
                    <For each=list key=|topic| topic.clone() let(topic)>
                        <TopicEntry topic view pane />
                    </For>
                </ul>
            </Show>
            {move || match (pane.get(), open_section.get()) {
                (Pane::None, _) => ().into_any(),
                // A topic moved to another section is loaded (and followed) afresh.
                (Pane::Open(id), _) => view! { <TopicPane id board=view pane /> }.into_any(),
                (Pane::New, _) => view! { <TopicForm board=view pane /> }.into_any(),
                (Pane::Sections, _) => view! { <SectionsForm view org pane /> }.into_any(),
            }}
        </div>
    }
    .into_any()
}

fn badges(t: &crate::i18n::OfficeTexts, topic: &Topic) -> Vec<&'static str> {
    let mut out = Vec::new();
    match topic.kind {
        TopicKind::Discussion => {}
        TopicKind::Question => out.push(t.question),
        TopicKind::Vote => out.push(t.vote),
    }
    if topic.accepted.is_some() {
        out.push(t.solved);
    }
    if topic.pinned {
        out.push(t.notice_pinned);
    }
    if topic.featured {
        out.push(t.featured);
    }
    if topic.locked {
        out.push(t.locked);
    }
    out
}

#[component]
fn TopicEntry(topic: Topic, view: RwSignal<ForumView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let id = topic.id;
    let section = view.with_untracked(|v| {
        v.0.sections
            .iter()
            .find(|(s, _)| s.id == topic.section)
            .map(|(s, _)| s.name.clone())
            .unwrap_or_default()
    });
    view! {
        <li class="story-entry" class:pinned=topic.pinned>
            <div class="story-text">
                <button type="button" class="story-title" aria-pressed=move || (pane.get() == Pane::Open(id)).to_string()
                    on:click=move |_| pane.set(Pane::Open(id))>{topic.title.clone()}</button>
                {badges(t, &topic).into_iter().map(|b| view! { <span class="badge">{b}</span> }).collect_view()}
                <p class="meta">
                    <span class="column">{section}</span> " · " {topic.author.username.clone()} " · "
                    <span class="counts">{(t.reply_count)(topic.replies)}</span>
                </p>
            </div>
        </li>
    }
    .into_any()
}

/// One topic: loaded in the browser when opened, live from its section's scope.
#[component]
fn TopicPane(id: ForumTopicId, board: RwSignal<ForumView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let page = RwSignal::new(None::<RwSignal<TopicView>>);
    let failed = RwSignal::new(None::<String>);
    let owner = Owner::current();
    let load = move || {
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            match load_topic(id, None).await {
                Ok(found) => match page.try_get_untracked().flatten() {
                    // Loaded again (the results of a vote, a resync): same view, fresh state.
                    Some(existing) => {
                        existing.try_update(|p| p.0.reloaded(found));
                    }
                    None => {
                        let section = found.topic.as_ref().map(|t| t.section).unwrap_or_default();
                        let fresh = RwSignal::new(TopicView(found));
                        if let Some(owner) = owner {
                            owner.with(|| {
                                live.watch(Scope::Forum(section), fresh, move || {
                                    leptos::task::spawn_local(async move {
                                        if let Ok(again) = load_topic(id, None).await {
                                            fresh.try_update(|p| p.0.reloaded(again));
                                        }
                                    });
                                })
                            });
                        }
                        page.try_set(Some(fresh));
                    }
                },
                Err(e) => {
                    failed.try_set(Some(e.text(t)));
                }
            }
        });
    };
    let first = load.clone();
    Effect::new(move |_| first());
    // Someone voted while I see the results: load them again.
    let again = load.clone();
    Effect::new(move |_| {
        if page.get().is_some_and(|p| p.with(|p| p.0.results_stale)) {
            again();
        }
    });
    view! {
        <article class="topic" aria-label=move || page.get().and_then(|p| p.with(|p| p.0.topic.as_ref().map(|t| t.title.clone()))).unwrap_or_default()>
            <Show when=move || failed.get().is_some()>
                <p role="alert" class="error">{move || failed.get()}</p>
            </Show>
            {move || page.get().map(|p| view! { <TopicBody page=p board pane /> })}
        </article>
    }
    .into_any()
}

#[component]
fn TopicBody(
    page: RwSignal<TopicView>,
    board: RwSignal<ForumView>,
    pane: RwSignal<Pane>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let action = command_action();
    let topic = Memo::new(move |_| page.with(|p| p.0.topic.clone()));
    let me = move || live.me.get().map(|m| m.id);
    let rights = Memo::new(move |_| {
        topic
            .with(|t| t.as_ref().map(|t| t.section))
            .map(|s| board.with(|b| b.0.rights(s)))
            .unwrap_or_default()
    });
    let quote = RwSignal::new(None::<(ForumReplyId, String)>);
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let failure = move || {
        error
            .get()
            .or_else(|| crate::error::failure_text(t, action.value().get()))
    };
    let run = move |command: Command| {
        action.dispatch(command);
    };
    let post = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(topic) = topic.get_untracked().map(|t| t.id) else {
            return;
        };
        match validate_reply(&text.get_untracked()) {
            Ok(checked) => {
                live.send_command(ReplyToTopic {
                    topic,
                    text: checked.to_owned(),
                    quote: quote.get_untracked().map(|(q, _)| q),
                });
                text.set(String::new());
                quote.set(None);
                error.set(None);
            }
            Err(e) => error.set(Some((t.invalid)(&e))),
        }
    };
    // After my own vote (votes are unsigned: nothing in the event says it was mine), the
    // results are mine to see: load them.
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::TopicChanged { .. })) = action.value().get() {
            page.update(|p| p.0.results_stale = true);
        }
    });
    let arrived = move || page.with(|p| p.0.arrived.len());
    let replies = move || page.with(|p| p.0.replies.clone());
    view! {
        {move || topic.get().map(|topic| {
            let id = topic.id;
            let mine = me() == Some(topic.author.id);
            let question = topic.kind == TopicKind::Question && mine;
            let moderate = rights.get().moderate;
            let (pinned, featured, locked) = (topic.pinned, topic.featured, topic.locked);
            let sections = board.with(|b| b.0.sections.iter().filter(|(s, r)| r.moderate && s.id != topic.section).map(|(s, _)| (s.id, s.name.clone())).collect::<Vec<_>>());
            let move_to = RwSignal::new(sections.first().map(|(s, _)| *s));
            view! {
                <h2>{topic.title.clone()}</h2>
                <p class="meta">
                    {topic.author.username.clone()}
                    {badges(t, &topic).into_iter().map(|b| view! { " " <span class="badge">{b}</span> }).collect_view()}
                </p>
                // Rendered from Markdown and sanitised by the server.
                <div class="markdown" inner_html=topic.html.clone()></div>
                {topic.vote.clone().map(|vote| view! { <VoteBox id vote locked action /> })}
                {moderate.then(|| view! {
                    <div class="actions" role="group" aria-label=t.moderation>
                        <button type="button" on:click=move |_| run(Command::ModerateTopic(ModerateTopic { topic: id, action: Moderation::Pin(!pinned) }))>
                            {if pinned { t.unpin } else { t.pin }}
                        </button>
                        <button type="button" on:click=move |_| run(Command::ModerateTopic(ModerateTopic { topic: id, action: Moderation::Feature(!featured) }))>
                            {if featured { t.unfeature } else { t.feature }}
                        </button>
                        <button type="button" on:click=move |_| run(Command::ModerateTopic(ModerateTopic { topic: id, action: Moderation::Lock(!locked) }))>
                            {if locked { t.unlock } else { t.lock }}
                        </button>
                        {(!sections.is_empty()).then(|| view! {
                            <label>{t.move_to}
                                <select on:change=move |ev| move_to.set(event_target_value(&ev).parse().ok().map(ForumSectionId))>
                                    {sections.iter().map(|(s, name)| view! { <option value=s.0.to_string()>{name.clone()}</option> }).collect_view()}
                                </select>
                            </label>
                            <button type="button" on:click=move |_| {
                                if let Some(to) = move_to.get_untracked() {
                                    run(Command::ModerateTopic(ModerateTopic { topic: id, action: Moderation::Move(to) }));
                                }
                            }>{t.move_topic}</button>
                        })}
                    </div>
                })}
                <Show when=move || page.with(|p| p.0.earlier)>
                    <button type="button" class="earlier" on:click=move |_| {
                        let Some(first) = page.with_untracked(|p| p.0.replies.first().map(|r| r.id)) else { return };
                        leptos::task::spawn_local(async move {
                            if let Ok(older) = load_topic(id, Some(first)).await {
                                page.try_update(|p| p.0.prepend(first, older));
                            }
                        });
                    }>{t.earlier_replies}</button>
                </Show>
                <ol class="replies" aria-label=t.replies_list>
                    {move || replies().into_iter().map(|r| {
                        let accepted = page.with(|p| p.0.topic.as_ref().and_then(|t| t.accepted)) == Some(r.id);
                        let rid = r.id;
                        let author = r.author.clone();
                        let quoted_name = author.username.clone();
                        let mute_label = (t.mute_for_a_day)(&author.username);
                        let section = topic.section;
                        view! {
                            <li class="reply" class:accepted=accepted>
                                <span class="author">{r.author.username.clone()}</span>
                                {accepted.then(|| view! { " " <span class="badge">{t.accepted_answer}</span> })}
                                {r.quote.clone().map(|q| view! {
                                    <blockquote><span class="author">{q.author.username.clone()}</span> ": " {q.text.clone()}</blockquote>
                                })}
                                <div class="markdown" inner_html=r.html.clone()></div>
                                <div class="actions">
                                    {(!locked).then(|| view! {
                                        <button type="button" aria-label=(t.quote_named)(&quoted_name)
                                            on:click={
                                                let name = quoted_name.clone();
                                                move |_| quote.set(Some((rid, name.clone())))
                                            }>{t.quote}</button>
                                    })}
                                    {(question && !accepted).then(|| view! {
                                        <button type="button" on:click=move |_| run(Command::AcceptAnswer(AcceptAnswer { topic: id, reply: Some(rid) }))>
                                            {t.accept_answer}
                                        </button>
                                    })}
                                    {(moderate && Some(author.id) != me()).then(|| view! {
                                        <button type="button" aria-label=mute_label.clone() on:click=move |_| {
                                            let until = crate::live::now_ms() as i64 + 24 * 3_600_000;
                                            run(Command::MuteInSection(MuteInSection { section, user: author.id, until: Some(until) }));
                                        }>{t.mute}</button>
                                    })}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <Show when=move || { arrived() > 0 }>
                    <button type="button" class="new-replies" aria-live="polite"
                        on:click=move |_| page.update(|p| p.0.show_arrived())>{move || (t.new_replies)(arrived() as u32)}</button>
                </Show>
                {(!locked).then(|| view! {
                    <form class="comment-form reply-form" on:submit=post>
                        <Show when=move || quote.get().is_some()>
                            <p class="quoting">{move || quote.get().map(|(_, name)| (t.quoting)(&name))}
                                <button type="button" on:click=move |_| quote.set(None)>{t.cancel}</button>
                            </p>
                        </Show>
                        <textarea aria-label=t.reply_text rows="3" maxlength="10000" prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        <button type="submit">{t.post_reply}</button>
                    </form>
                })}
                {locked.then(|| view! { <p class="note">{t.topic_locked}</p> })}
                <div class="actions">
                    <button type="button" on:click=move |_| pane.set(Pane::None)>{t.close}</button>
                </div>
            }
        })}
        <Show when=move || failure().is_some()>
            <p role="alert" class="error">{failure}</p>
        </Show>
    }
    .into_any()
}

/// A vote: the options to pick and "Vote"; once I have voted (or it has closed), the results.
#[component]
fn VoteBox(
    id: ForumTopicId,
    vote: Vote,
    locked: bool,
    action: Action<Command, Result<CommandOutput, AppError>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let now = crate::live::now_ms() as i64;
    let picked = RwSignal::new(Vec::<u32>::new());
    let single = vote.max_choices == 1;
    let open = vote.mine.is_empty() && !vote.closed(now) && !locked;
    let voters = (t.voted_count)(vote.voters);
    let results = vote.options.iter().any(|o| o.votes.is_some());
    view! {
        <section class="vote" aria-label=t.vote>
            {open.then(|| view! {
                <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    action.dispatch(Command::CastVote(CastVote { topic: id, choices: picked.get_untracked() }));
                }>
                    {vote.options.iter().enumerate().map(|(i, o)| {
                        let i = i as u32;
                        view! {
                            <label class="checkbox">
                                <input type=if single { "radio" } else { "checkbox" } name="vote-option"
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        picked.update(|p| {
                                            if single { p.clear(); }
                                            p.retain(|x| *x != i);
                                            if on { p.push(i); }
                                        });
                                    } />
                                {o.text.clone()}
                            </label>
                        }
                    }).collect_view()}
                    <button type="submit">{t.cast_vote}</button>
                </form>
            })}
            {results.then(|| view! {
                <ul aria-label=t.results>
                    {vote.options.iter().map(|o| view! {
                        <li>{format!("{} — {}", o.text, (t.votes_count)(o.votes.unwrap_or(0)))}</li>
                    }).collect_view()}
                </ul>
            })}
            <p class="note">{voters}</p>
        </section>
    }
    .into_any()
}

#[component]
fn TopicForm(board: RwSignal<ForumView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let offset = live.utc_offset_minutes.get_untracked();
    let action = command_action();
    let sections: Vec<(ForumSectionId, String)> = board.with_untracked(|b| {
        b.0.sections
            .iter()
            .filter(|(_, r)| r.read)
            .map(|(s, _)| (s.id, s.name.clone()))
            .collect()
    });
    let section = RwSignal::new(sections.first().map(|(s, _)| *s).unwrap_or_default());
    let kind = RwSignal::new(TopicKind::Discussion);
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let options = RwSignal::new(String::new());
    let max_choices = RwSignal::new("1".to_owned());
    let deadline = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let vote = (kind.get_untracked() == TopicKind::Vote).then(|| VoteSetup {
            options: options
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            max_choices: max_choices.get_untracked().trim().parse().unwrap_or(1),
            deadline: crate::notices::from_local(&deadline.get_untracked(), offset),
        });
        let command = StartTopic {
            section: section.get_untracked(),
            kind: kind.get_untracked(),
            title: title.get_untracked(),
            body: body.get_untracked(),
            vote,
        };
        if let Err(e) = command.validate() {
            local_error.set(Some((t.invalid)(&e)));
            return;
        }
        local_error.set(None);
        action.dispatch(Command::StartTopic(command));
    };
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::TopicChanged { topic })) = action.value().get() {
            pane.set(Pane::Open(topic));
        }
    });
    let error = move || {
        local_error
            .get()
            .or_else(|| crate::error::failure_text(t, action.value().get()))
    };
    let kinds = [
        (TopicKind::Discussion, t.discussion),
        (TopicKind::Question, t.question),
        (TopicKind::Vote, t.vote),
    ];
    view! {
        <form class="story-form" aria-label=t.new_topic on:submit=save>
            <label>{t.forum_section}
                <select on:change=move |ev| { if let Ok(s) = event_target_value(&ev).parse() { section.set(ForumSectionId(s)) } }>
                    {sections.into_iter().map(|(s, name)| view! { <option value=s.0.to_string()>{name}</option> }).collect_view()}
                </select>
            </label>
            <label>{t.topic_kind}
                <select on:change=move |ev| {
                    if let Some(k) = TopicKind::parse(&event_target_value(&ev)) { kind.set(k) }
                }>
                    {kinds.into_iter().map(|(k, name)| view! { <option value=k.as_str()>{name}</option> }).collect_view()}
                </select>
            </label>
            <label>{t.title_column}
                <input type="text" required maxlength="200" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            </label>
            <label>{t.story_body}
                <textarea rows="6" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </label>
            <Show when=move || kind.get() == TopicKind::Vote>
                <label>{t.vote_options}
                    <textarea rows="4" prop:value=move || options.get() on:input=move |ev| options.set(event_target_value(&ev))></textarea>
                </label>
                <label>{t.max_choices}
                    <input type="number" min="1" max="20" prop:value=move || max_choices.get() on:input=move |ev| max_choices.set(event_target_value(&ev)) />
                </label>
                <label>{t.deadline}
                    <input type="datetime-local" prop:value=move || deadline.get() on:input=move |ev| deadline.set(event_target_value(&ev)) />
                </label>
            </Show>
            <div class="actions">
                <button type="submit">{t.post_topic}</button>
                <button type="button" on:click=move |_| pane.set(Pane::None)>{t.cancel}</button>
            </div>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}

/// Admins: the sections, each with its moderators and audience; "New section".
#[component]
fn SectionsForm(
    view: RwSignal<ForumView>,
    org: StoredValue<OrgSnapshot>,
    pane: RwSignal<Pane>,
) -> impl IntoView {
    use crate::org::groups::{GroupDraft, GroupRow, GroupWords, GroupsAdmin};
    let t = crate::i18n::office();
    let action = command_action();
    let rows = Signal::derive(move || {
        view.with(|v| {
            v.0.sections
                .iter()
                .map(|(s, _)| GroupRow {
                    id: s.id.0,
                    name: s.name.clone(),
                    description: Some(s.description.clone()),
                    in_charge: s.moderators.clone(),
                    audience: s.audience.clone(),
                })
                .collect()
        })
    });
    let save = Callback::new(move |d: GroupDraft| {
        action.dispatch(Command::SaveForumSection(SaveForumSection {
            section: d.id.map(ForumSectionId),
            name: d.name,
            description: d.description,
            moderators: d.in_charge,
            audience: d.audience,
        }));
    });
    let saved = Signal::derive(move || match action.value().get() {
        Some(Ok(CommandOutput::ForumSectionSaved { section })) => Some(section.0),
        _ => None,
    });
    let error = Signal::derive(move || crate::error::failure_text(t, action.value().get()));
    let words = GroupWords {
        id: "forum-sections-title",
        heading: t.manage_sections,
        list: t.forum_sections,
        add: t.new_section,
        name: t.section_name,
        in_charge: t.moderators,
        save: t.save_section,
        with_description: true,
    };
    view! { <GroupsAdmin rows org words save saved error close=Callback::new(move |()| pane.set(Pane::None)) /> }
}
