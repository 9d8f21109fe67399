//! 新闻 "News" (`/news`): stories of the columns I read, newest first with pinned ones on top,
//! each with its cover, summary, views, likes and comments; the columns I edit add their
//! drafts and scheduled stories, and "New story". Opening a story counts my view; I like it,
//! comment, and share it into a chat channel (a card there). Editors and admins hide comments.
//! Admins set up the columns here too ("Manage columns"). Live from the workspace scope
//! (columns), my user scope (unpublished stories) and each readable column's scope.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};
use xietong::news::*;
use xietong::org::OrgSnapshot;
use xietong::{ChannelId, Command, CommandOutput, NewsColumnId, Scope, Seq, StoryId};

use crate::command::command_action;
use crate::live::{Applied, Live, ScopeView};
use crate::notices::{from_local, to_local};
use crate::AppError;

#[server(prefix = "/api", endpoint = "news", output = crate::codec::TextJson)]
pub async fn load_news() -> Result<NewsBoard, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.news(&user).await
}

#[server(prefix = "/api", endpoint = "story_comments", output = crate::codec::TextJson)]
pub async fn load_story_comments(story: StoryId) -> Result<StoryComments, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .story_comments(&user, story)
        .await
}

/// The news page as this tab knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewsView(pub NewsBoard);

impl ScopeView for NewsView {
    fn head(&self, scope: Scope) -> Seq {
        match scope {
            Scope::Workspace => self.0.workspace_head,
            Scope::News(column) => self.0.column_head(column),
            _ => self.0.head,
        }
    }

    fn apply(&mut self, event: &crate::live::LiveEvent) -> Applied {
        let head = match event.scope {
            Scope::Workspace => &mut self.0.workspace_head,
            Scope::News(column) => self.0.column_head_mut(column),
            _ => &mut self.0.head,
        };
        if let Some(outcome) = crate::live::advance(head, event) {
            return outcome;
        }
        if let Some(event) = crate::live::decode::<xietong::news::NewsEvent>(&event.body) {
            self.0.apply(&event);
        }
        Applied::Applied
    }
}

/// One story's comments, live from its column's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentsView(pub StoryComments);

impl ScopeView for CommentsView {
    fn head(&self, _scope: Scope) -> Seq {
        self.0.head
    }

    fn apply(&mut self, event: &crate::live::LiveEvent) -> Applied {
        if let Some(outcome) = crate::live::advance(&mut self.0.head, event) {
            return outcome;
        }
        if let Some(event) = crate::live::decode::<xietong::news::NewsEvent>(&event.body) {
            self.0.apply(&event);
        }
        Applied::Applied
    }
}

/// `/news`, loaded on demand.
#[derive(Debug)]
pub struct NewsRoute;

#[lazy_route]
impl LazyRoute for NewsRoute {
    fn data() -> Self {
        NewsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <NewsPage /> }.into_any()
    }
}

#[component]
fn NewsPage() -> impl IntoView {
    crate::org::office_page("news", crate::i18n::office().news, load_news, |found, org| {
        let view = RwSignal::new(NewsView(found));
        let live = expect_context::<Live>();
        let refetch = Live::refetch_into(view, load_news, NewsView);
        live.watch(Scope::Workspace, view, refetch);
        live.watch_mine(view, refetch);
        // A column changed: what I may read and edit may have too.
        Effect::new(move |_| {
            if view.with(|v| v.0.stale) {
                refetch();
            }
        });
        view! { <Board view org refetch=Callback::new(move |()| refetch()) /> }.into_any()
    })
}

/// Keeps one readable column's scope live for the page while it is listed.
#[component]
fn ColumnWatch(
    column: NewsColumnId,
    view: RwSignal<NewsView>,
    refetch: Callback<()>,
) -> impl IntoView {
    expect_context::<Live>().watch(Scope::News(column), view, move || refetch.run(()));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    None,
    Open(StoryId),
    Edit(Option<StoryId>),
    Columns,
}

#[component]
fn Board(
    view: RwSignal<NewsView>,
    org: StoredValue<OrgSnapshot>,
    refetch: Callback<()>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let query = use_query_map();
    let wanted = move || {
        query
            .with(|q| q.get("story").and_then(|n| n.parse::<i64>().ok()))
            .map(|n| Pane::Open(StoryId(n)))
    };
    let pane = RwSignal::new(wanted().unwrap_or(Pane::None));
    Effect::new(move |_| {
        if let Some(open) = wanted() {
            pane.set(open);
        }
    });
    let filter = RwSignal::new(None::<NewsColumnId>);
    let readable = move || {
        view.with(|v| {
            v.0.columns
                .iter()
                .filter(|(_, r)| r.read)
                .map(|(c, _)| (c.id, c.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let edits_any = move || view.with(|v| v.0.columns.iter().any(|(_, r)| r.edit));
    let admin = move || live.me.get().is_some_and(|m| m.is_admin);
    let list = move || {
        let only = filter.get();
        let mut stories: Vec<Story> = view.with(|v| {
            v.0.stories
                .iter()
                .filter(|s| only.is_none_or(|c| s.fields.column == c))
                .cloned()
                .collect()
        });
        // Pinned published stories first, the board's order otherwise.
        stories.sort_by_key(|s| !(s.fields.pinned && s.status == StoryStatus::Published));
        stories
    };
    view! {
        <For each=readable key=|(id, _)| *id let((id, _name))>
            <ColumnWatch column=id view refetch />
        </For>
        <div class="toolbar">
            <div role="group" aria-label=t.news_columns class="column-tabs">
                <button type="button" aria-pressed=move || filter.get().is_none().to_string()
                    on:click=move |_| filter.set(None)>{t.all_columns}</button>
                <For each=readable key=|c| c.clone() let((id, name))>
                    <button type="button" aria-pressed=move || (filter.get() == Some(id)).to_string()
                        on:click=move |_| filter.set(Some(id))>{name}</button>
                </For>
            </div>
            <Show when=edits_any>
                <button type="button" on:click=move |_| pane.set(Pane::Edit(None))>{t.new_story}</button>
            </Show>
            <Show when=admin>
                <button type="button" on:click=move |_| pane.set(Pane::Columns)>{t.manage_columns}</button>
            </Show>
        </div>
        <div class="news-board">
            <Show when=move || !list().is_empty() fallback=move || view! { <p class="empty">{t.no_stories}</p> }>
                <ul class="story-list" aria-label=t.stories>
                    <For each=list key=|s| (s.id, s.updated_at, s.status, s.views, s.likes, s.comments, s.liked) let(s)>
                        <StoryEntry story=s view pane />
                    </For>
                </ul>
            </Show>
            {move || match pane.get() {
                Pane::None => ().into_any(),
                Pane::Open(id) => view! { <StoryDetail id view pane /> }.into_any(),
                Pane::Edit(id) => view! { <StoryForm id view pane /> }.into_any(),
                Pane::Columns => view! { <ColumnsForm view org pane /> }.into_any(),
            }}
        </div>
    }
    .into_any()
}

fn column_name(view: &NewsView, column: NewsColumnId) -> String {
    view.0
        .columns
        .iter()
        .find(|(c, _)| c.id == column)
        .map(|(c, _)| c.name.clone())
        .unwrap_or_default()
}

fn status_label(t: &crate::i18n::OfficeTexts, story: &Story) -> Option<&'static str> {
    match story.status {
        StoryStatus::Draft => Some(t.notice_draft),
        StoryStatus::Scheduled => Some(t.notice_scheduled),
        StoryStatus::Withdrawn => Some(t.notice_withdrawn),
        StoryStatus::Published if story.fields.pinned => Some(t.notice_pinned),
        StoryStatus::Published => None,
    }
}

#[component]
fn StoryEntry(story: Story, view: RwSignal<NewsView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let id = story.id;
    let column = view.with_untracked(|v| column_name(v, story.fields.column));
    let when = story
        .published_at
        .or(story.fields.publish_at)
        .unwrap_or(story.updated_at);
    let date = crate::chat::format_time(when, live.utc_offset_minutes.get_untracked()).1;
    let counts = format!(
        "{} · {} · {}",
        (t.views)(story.views),
        (t.likes)(story.likes),
        (t.comment_count)(story.comments)
    );
    view! {
        <li class="story-entry" class:pinned=story.fields.pinned>
            {story.cover.clone().map(|c| view! { <img class="cover" src=c.thumbnail_url() alt="" loading="lazy" /> })}
            <div class="story-text">
                <button type="button" class="story-title" aria-pressed=move || (pane.get() == Pane::Open(id)).to_string()
                    on:click=move |_| pane.set(Pane::Open(id))>{story.fields.title.clone()}</button>
                {status_label(t, &story).map(|s| view! { <span class="badge">{s}</span> })}
                <p class="summary">{story.fields.summary.clone()}</p>
                <p class="meta">
                    <span class="column">{column}</span> " · "
                    <span class="time">{date}</span> " · "
                    <span class="counts">{counts}</span>
                </p>
            </div>
        </li>
    }
    .into_any()
}

#[component]
fn StoryDetail(id: StoryId, view: RwSignal<NewsView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let action = command_action();
    let story = Memo::new(move |_| view.with(|v| v.0.stories.iter().find(|s| s.id == id).cloned()));
    let rights = Memo::new(move |_| {
        let column = story.with(|s| s.as_ref().map(|s| s.fields.column));
        column
            .map(|c| view.with(|v| v.0.rights(c)))
            .unwrap_or_default()
    });
    // Opening a published story counts my view (once per opening; the server counts a
    // person once).
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        if live.me.get().is_none() {
            return false;
        }
        match story.get() {
            Some(s) if s.status == StoryStatus::Published => {
                live.send_command(ViewStory { story: id });
                true
            }
            _ => false,
        }
    });
    let error = move || crate::error::failure_text(t, action.value().get());
    let shared = move || {
        matches!(
            action.value().get(),
            Some(Ok(CommandOutput::MessagePosted { .. }))
        )
    };
    let run = move |command: Command| {
        action.dispatch(command);
    };
    let title = move || {
        story.with(|s| {
            s.as_ref()
                .map(|s| s.fields.title.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <article class="story" aria-label=title>
        {move || match story.get() {
            None => view! { <p class="empty">{t.story_gone}</p> }.into_any(),
            Some(s) => {
                let status = s.status;
                let published = status == StoryStatus::Published;
                let editor = rights.get().edit;
                let liked = s.liked;
                let column = view.with_untracked(|v| column_name(v, s.fields.column));
                let when = s.published_at.or(s.fields.publish_at).unwrap_or(s.updated_at);
                let date = crate::chat::format_time(when, live.utc_offset_minutes.get_untracked()).1;
                view! {
                    <h2>{s.fields.title.clone()}</h2>
                    <p class="meta">
                        <span class="column">{column}</span> " · " {s.author.username.clone()} " · " {date}
                        " · " <span class="views">{(t.views)(s.views)}</span>
                    </p>
                    {s.cover.clone().map(|c| view! { <img class="cover" src=c.inline_url() alt=t.cover_image /> })}
                    {(!s.fields.summary.is_empty()).then(|| view! { <p class="summary">{s.fields.summary.clone()}</p> })}
                    // Rendered from Markdown and sanitised by the server.
                    <div class="story-body markdown" inner_html=s.html.clone()></div>
                    {(!s.attachments.is_empty()).then(|| view! { <crate::files::FileCards files=s.attachments.clone() /> })}
                    <div class="actions">
                        {published.then(|| view! {
                            <button type="button" aria-label=t.like aria-pressed=liked.to_string()
                                on:click=move |_| run(Command::LikeStory(LikeStory { story: id, like: !liked }))>
                                {if liked { "♥" } else { "♡" }} " " {t.like}
                            </button>
                            <span class="likes">{(t.likes)(s.likes)}</span>
                        })}
                        {editor.then(|| view! {
                            {(status != StoryStatus::Withdrawn).then(|| view! {
                                <button type="button" on:click=move |_| pane.set(Pane::Edit(Some(id)))>{t.edit}</button>
                            })}
                            {(status == StoryStatus::Draft).then(|| view! {
                                <button type="button" on:click=move |_| run(Command::PublishStory(PublishStory { story: id }))>{t.publish}</button>
                            })}
                            {matches!(status, StoryStatus::Published | StoryStatus::Scheduled).then(|| view! {
                                <button type="button" on:click=move |_| run(Command::WithdrawStory(WithdrawStory { story: id }))>{t.withdraw}</button>
                            })}
                        })}
                        <button type="button" on:click=move |_| pane.set(Pane::None)>{t.close}</button>
                    </div>
                    {published.then(|| view! { <ShareStoryForm id action /> })}
                }.into_any()
            }
        }}
        <Show when=move || shared()>
            <p role="status">{t.shared_story}</p>
        </Show>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
        <Show when=move || story.with(|s| s.as_ref().is_some_and(|s| s.status == StoryStatus::Published))>
            <Comments id />
        </Show>
        </article>
    }
    .into_any()
}

/// "Share to channel": the channels I am in, and "Share".
#[component]
fn ShareStoryForm(
    id: StoryId,
    action: Action<Command, Result<CommandOutput, AppError>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let chat = use_context::<crate::chat::ChatState>();
    let channels = move || {
        chat.and_then(|c| {
            c.read(|w| {
                w.channels
                    .iter()
                    .map(|c| (c.id, c.name.clone()))
                    .collect::<Vec<_>>()
            })
        })
        .unwrap_or_default()
    };
    let chosen = RwSignal::new(None::<ChannelId>);
    let share = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let channel = chosen
            .get_untracked()
            .or_else(|| channels().first().map(|(id, _)| *id));
        if let Some(channel) = channel {
            action.dispatch(Command::ShareStory(ShareStory {
                story: id,
                channel,
                text: String::new(),
            }));
        }
    };
    view! {
        <form class="inline-form share-story" on:submit=share>
            <label>{t.share_to}
                <select on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok().map(ChannelId))>
                    <For each=channels key=|c| c.clone() let((cid, name))>
                        <option value=cid.0.to_string()>{name}</option>
                    </For>
                </select>
            </label>
            <button type="submit">{t.share_story}</button>
        </form>
    }
}

/// A story's comments, live; the form to add one; "Hide" / "Show" for moderators.
#[component]
fn Comments(id: StoryId) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    // Loaded in the browser: the story pane may open inside the page's own suspense.
    let view = RwSignal::new(None::<RwSignal<CommentsView>>);
    let failed = RwSignal::new(None::<String>);
    let owner = Owner::current();
    Effect::new(move |_| {
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            match load_story_comments(id).await {
                Ok(found) => {
                    let column = found.column;
                    let comments = RwSignal::new(CommentsView(found));
                    if let Some(owner) = owner {
                        owner.with(|| {
                            live.watch(Scope::News(column), comments, move || {
                                leptos::task::spawn_local(async move {
                                    if let Ok(fresh) = load_story_comments(id).await {
                                        comments.set(CommentsView(fresh));
                                    }
                                });
                            })
                        });
                    }
                    view.try_set(Some(comments));
                }
                Err(e) => {
                    failed.try_set(Some(e.text(t)));
                }
            }
        });
    });
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let post = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match validate_comment(&text.get_untracked()) {
            Ok(checked) => {
                live.send_command(CommentOnStory {
                    story: id,
                    text: checked.to_owned(),
                });
                text.set(String::new());
                error.set(None);
            }
            Err(e) => error.set(Some((t.invalid)(&e))),
        }
    };
    let list = move || {
        view.get()
            .map(|v| v.with(|v| v.0.comments.clone()))
            .unwrap_or_default()
    };
    let moderator = move || view.get().is_some_and(|v| v.with(|v| v.0.moderator));
    view! {
        <section class="comments" aria-labelledby="comments-title">
            <h3 id="comments-title">{t.comments}</h3>
            <Show when=move || failed.get().is_some()>
                <p role="alert" class="error">{move || failed.get()}</p>
            </Show>
            <ul aria-label=t.comments>
                <For each=list key=|c| (c.id, c.hidden) let(c)>
                    <li class="comment" class:hidden=c.hidden>
                        <span class="author">{c.author.username.clone()}</span>
                        {c.hidden.then(|| view! { <span class="badge">{t.hidden_mark}</span> })}
                        <div class="markdown" inner_html=c.html.clone()></div>
                        <Show when=moderator>
                            <button type="button" on:click=move |_| {
                                live.send_command(HideStoryComment { comment: c.id, hidden: !c.hidden });
                            }>{if c.hidden { t.show } else { t.hide }}</button>
                        </Show>
                    </li>
                </For>
            </ul>
            <form class="comment-form" on:submit=post>
                <textarea aria-label=t.comment rows="2" maxlength="2000" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <button type="submit">{t.post_comment}</button>
            </form>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn StoryForm(id: Option<StoryId>, view: RwSignal<NewsView>, pane: RwSignal<Pane>) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let offset = live.utc_offset_minutes.get_untracked();
    let action = command_action();
    let before =
        view.with_untracked(|v| id.and_then(|id| v.0.stories.iter().find(|s| s.id == id).cloned()));
    let editable: Vec<(NewsColumnId, String)> = view.with_untracked(|v| {
        v.0.columns
            .iter()
            .filter(|(_, r)| r.edit)
            .map(|(c, _)| (c.id, c.name.clone()))
            .collect()
    });
    let fields = before.as_ref().map(|s| s.fields.clone());
    let column = RwSignal::new(
        fields
            .as_ref()
            .map(|f| f.column)
            .or(editable.first().map(|(c, _)| *c))
            .unwrap_or_default(),
    );
    let title = RwSignal::new(fields.as_ref().map(|f| f.title.clone()).unwrap_or_default());
    let summary = RwSignal::new(
        fields
            .as_ref()
            .map(|f| f.summary.clone())
            .unwrap_or_default(),
    );
    let body = RwSignal::new(fields.as_ref().map(|f| f.body.clone()).unwrap_or_default());
    let publish_at = RwSignal::new(to_local(fields.as_ref().and_then(|f| f.publish_at), offset));
    let pinned = RwSignal::new(fields.as_ref().is_some_and(|f| f.pinned));
    let remove_cover = RwSignal::new(false);
    let had_cover = before.as_ref().is_some_and(|s| s.cover.is_some());
    let cover = crate::files::upload::Uploads::new();
    let files = crate::files::upload::Uploads::new();
    let local_error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if cover.busy() || files.busy() {
            local_error.set(Some(t.wait_for_uploads.to_owned()));
            return;
        }
        local_error.set(None);
        let fields = StoryFields {
            column: column.get_untracked(),
            title: title.get_untracked(),
            summary: summary.get_untracked(),
            body: body.get_untracked(),
            publish_at: from_local(&publish_at.get_untracked(), offset),
            pinned: pinned.get_untracked(),
        };
        if let Err(e) = fields.validate() {
            local_error.set(Some((t.invalid)(&e)));
            return;
        }
        action.dispatch(Command::SaveStory(SaveStory {
            story: id,
            fields,
            cover: cover.take_ready().into_iter().next(),
            remove_cover: remove_cover.get_untracked(),
            attachments: files.take_ready(),
            remove_attachments: Vec::new(),
        }));
    };
    Effect::new(move |_| {
        if let Some(Ok(CommandOutput::StoryChanged { story, .. })) = action.value().get() {
            pane.set(Pane::Open(story));
        }
    });
    let error = move || {
        local_error
            .get()
            .or_else(|| crate::error::failure_text(t, action.value().get()))
    };
    let options = editable
        .into_iter()
        .map(|(c, name)| view! { <option value=c.0.to_string() selected=move || column.get() == c>{name}</option> })
        .collect_view();
    view! {
        <form class="story-form" aria-label=t.story_form on:submit=save>
            <label>{t.news_column}
                <select on:change=move |ev| { if let Ok(c) = event_target_value(&ev).parse() { column.set(NewsColumnId(c)) } }>
                    {options}
                </select>
            </label>
            <label>{t.title_column}
                <input type="text" required maxlength="200" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) />
            </label>
            <label>{t.summary}
                <textarea rows="2" maxlength="500" prop:value=move || summary.get() on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t.story_body}
                <textarea rows="10" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </label>
            <label>{t.publish_at}
                <input type="datetime-local" prop:value=move || publish_at.get() on:input=move |ev| publish_at.set(event_target_value(&ev)) />
            </label>
            <label class="checkbox">
                <input type="checkbox" prop:checked=move || pinned.get() on:change=move |ev| pinned.set(event_target_checked(&ev)) />
                {t.notice_pinned}
            </label>
            <crate::files::upload::UploadList uploads=cover />
            <label>{t.cover_image}
                <input type="file" accept="image/png,image/jpeg,image/gif,image/webp"
                    on:change=move |ev| cover.add(crate::transfer::picked(&ev), |_, _| {}) />
            </label>
            {had_cover.then(|| view! {
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || remove_cover.get() on:change=move |ev| remove_cover.set(event_target_checked(&ev)) />
                    {t.remove_cover}
                </label>
            })}
            <crate::files::upload::UploadList uploads=files />
            <label>{t.attach}
                <input type="file" multiple on:change=move |ev| files.add(crate::transfer::picked(&ev), |_, _| {}) />
            </label>
            <div class="actions">
                <button type="submit">{if id.is_some() { t.save } else { t.save_draft }}</button>
                <button type="button" on:click=move |_| pane.set(id.map_or(Pane::None, Pane::Open))>{t.cancel}</button>
            </div>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}

/// Admins: the columns, each with its editors and audience; "New column".
#[component]
fn ColumnsForm(
    view: RwSignal<NewsView>,
    org: StoredValue<OrgSnapshot>,
    pane: RwSignal<Pane>,
) -> impl IntoView {
    use crate::org::groups::{GroupDraft, GroupRow, GroupWords, GroupsAdmin};
    let t = crate::i18n::office();
    let action = command_action();
    let rows = Signal::derive(move || {
        view.with(|v| {
            v.0.columns
                .iter()
                .map(|(c, _)| GroupRow {
                    id: c.id.0,
                    name: c.name.clone(),
                    description: None,
                    in_charge: c.editors.clone(),
                    audience: c.audience.clone(),
                })
                .collect()
        })
    });
    let save = Callback::new(move |d: GroupDraft| {
        action.dispatch(Command::SaveNewsColumn(SaveNewsColumn {
            column: d.id.map(NewsColumnId),
            name: d.name,
            editors: d.in_charge,
            audience: d.audience,
        }));
    });
    let saved = Signal::derive(move || match action.value().get() {
        Some(Ok(CommandOutput::NewsColumnSaved { column })) => Some(column.0),
        _ => None,
    });
    let error = Signal::derive(move || crate::error::failure_text(t, action.value().get()));
    let words = GroupWords {
        id: "news-columns-title",
        heading: t.manage_columns,
        list: t.news_columns,
        add: t.new_column,
        name: t.column_name,
        in_charge: t.editors,
        save: t.save_column,
        with_description: false,
    };
    view! { <GroupsAdmin rows org words save saved error close=Callback::new(move |()| pane.set(Pane::None)) /> }
}

/// A story shared into a chat message: its cover, column, title and summary, opening the
/// story.
#[component]
pub fn StoryCardView(card: StoryCard) -> impl IntoView {
    let t = crate::i18n::t();
    if card.withdrawn {
        return view! { <p class="story-card withdrawn">{t.story_withdrawn}</p> }.into_any();
    }
    view! {
        <a class="story-card" href=card.href() aria-label=format!("{}: {}", t.news_story, card.title)>
            {card.cover.clone().map(|c| view! { <img class="cover" src=c.thumbnail_url() alt="" loading="lazy" /> })}
            <span class="column">{card.column.clone()}</span>
            <strong class="title">{card.title.clone()}</strong>
            <span class="summary">{card.summary.clone()}</span>
        </a>
    }
    .into_any()
}
