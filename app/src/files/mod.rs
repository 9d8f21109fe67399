//! The personal file cabinet (个人文件柜), under the navigation link "Files": folders, uploads
//! with a progress bar (cancellable, resumed after an interruption), downloads, rename, delete
//! to a recycle bin (restore, empty), versions, sharing with an audience (view or edit) and
//! share links, and "Shared with me". Live from the owner's user scope, and a shared folder
//! from its own scope.

mod share;
pub(crate) mod upload;

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};
use xietong::files::{
    human_size, Cabinet, CabinetSnapshot, CreateFolder, DeleteEntry, EmptyRecycleBin, Entry,
    EntryId, Permission, RenameEntry, RestoreEntry, SharedSnapshot,
};
use xietong::{Command, Scope, Seq, UserId};

use crate::command::command_action;
use crate::live::{Applied, Live, LiveEvent, ScopeView};
use crate::AppError;

#[server(prefix = "/api", endpoint = "cabinet", output = crate::codec::TextJson)]
pub async fn load_cabinet() -> Result<CabinetSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.cabinet(&user).await
}

#[server(prefix = "/api", endpoint = "shared_entry", output = crate::codec::TextJson)]
pub async fn load_shared(root: EntryId) -> Result<SharedSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.shared(&user, root).await
}

/// The cabinet as this tab knows it: a snapshot plus the events of its scope since (the
/// owner's user scope, or a shared entry's).
#[derive(Debug, Clone, PartialEq)]
pub struct CabinetView {
    pub owner: UserId,
    pub cabinet: Cabinet,
    pub head: Seq,
}

impl CabinetView {
    pub fn from_snapshot(snapshot: CabinetSnapshot) -> Self {
        CabinetView {
            owner: snapshot.owner,
            cabinet: Cabinet {
                entries: snapshot.entries,
                usage: snapshot.usage,
                shared: snapshot.shared,
            },
            head: snapshot.head,
        }
    }
}

impl ScopeView for CabinetView {
    fn head(&self, _scope: Scope) -> Seq {
        self.head
    }

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        if let Some(outcome) = crate::live::advance(&mut self.head, event) {
            return outcome;
        }
        // The user scope carries other features' events too: only the head moves for them.
        if let Some(files) = crate::live::decode::<xietong::files::FilesEvent>(&event.body) {
            self.cabinet.apply(&files);
        }
        Applied::Applied
    }
}

/// The file cabinet page (`/files`), loaded on demand.
#[derive(Debug)]
pub struct FilesRoute;

#[lazy_route]
impl LazyRoute for FilesRoute {
    fn data() -> Self {
        FilesRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <FilesPage /> }.into_any()
    }
}

#[component]
fn FilesPage() -> impl IntoView {
    let t = crate::i18n::office();
    let snapshot = Resource::new(|| (), |_| load_cabinet());
    view! {
        <div class="files-page">
            <h1>{t.files}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match snapshot.await {
                        Ok(found) => {
                            let owner = found.owner;
                            let view = RwSignal::new(CabinetView::from_snapshot(found));
                            expect_context::<Live>().watch(Scope::User(owner), view, move || snapshot.refetch());
                            view! { <CabinetScreen view /> }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

/// Where the cabinet page is: the owner's folders, their recycle bin, what others shared with
/// them, or inside one of those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Mine,
    RecycleBin,
    SharedWithMe,
    Shared(EntryId),
}

#[component]
fn CabinetScreen(view: RwSignal<CabinetView>) -> impl IntoView {
    let t = crate::i18n::office();
    let folder = RwSignal::new(None::<EntryId>);
    let place = RwSignal::new(Place::Mine);
    let sharing = RwSignal::new(None::<EntryId>);
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    // A folder that went away (deleted in another tab) leaves the view at the top.
    Effect::new(move |_| {
        if let Some(id) = folder.get() {
            let gone = view.with(|v| {
                !v.cabinet
                    .entries
                    .iter()
                    .any(|e| e.id == id && e.deleted_at.is_none())
            });
            if gone {
                folder.set(None);
            }
        }
    });
    let usage = move || {
        view.with(|v| {
            let usage = v.cabinet.usage;
            (t.used_of)(
                &human_size(usage.used),
                &usage.quota.map(human_size).unwrap_or_else(|| "∞".into()),
            )
        })
    };
    let toggle =
        move |to: Place| move |_| place.update(|p| *p = if *p == to { Place::Mine } else { to });
    let pressed = move |at: Place| move || (place.get() == at).to_string();
    let shown = move || match place.get() {
        Place::Mine => view! {
            <div class="toolbar">
                <UploadButton folder action />
                <NewFolder folder action />
            </div>
            <Trail view folder top=t.my_files.to_owned() />
            <EntryList view folder action permission=Permission::Edit owner=true sharing />
        }
        .into_any(),
        Place::RecycleBin => view! { <RecycleBin view action /> }.into_any(),
        Place::SharedWithMe => view! { <SharedWithMe view place /> }.into_any(),
        Place::Shared(root) => view! { <SharedFolder root place /> }.into_any(),
    };
    view! {
        <p class="usage" role="status">{usage}</p>
        <div class="toolbar">
            <button type="button" aria-pressed=pressed(Place::RecycleBin)
                on:click=toggle(Place::RecycleBin)>
                {t.recycle_bin}
            </button>
            <button type="button" aria-pressed=move || matches!(place.get(), Place::SharedWithMe | Place::Shared(_)).to_string()
                on:click=toggle(Place::SharedWithMe)>
                {t.shared_with_me}
            </button>
        </div>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
        {shown}
        <Show when=move || sharing.get().is_some()>
            <share::ShareDialog view sharing action />
        </Show>
    }
    .into_any()
}

/// "Shared with me": what others shared with the reader; a folder opens in place.
#[component]
fn SharedWithMe(view: RwSignal<CabinetView>, place: RwSignal<Place>) -> impl IntoView {
    let t = crate::i18n::office();
    let items = move || view.with(|v| v.cabinet.shared.clone());
    view! {
        <section aria-label=t.shared_with_me>
            <h2>{t.shared_with_me}</h2>
            <Show when=move || !items().is_empty() fallback=move || view! { <p class="empty">{t.nothing_shared}</p> }>
                <table class="file-list" aria-label=t.shared_with_me>
                    <thead>
                        <tr>
                            <th scope="col">{t.name}</th>
                            <th scope="col">{t.owner}</th>
                            <th scope="col">{t.permission}</th>
                            <th scope="col">{t.size}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=items key=|i| i.clone() let(item)>
                            <tr>
                                <td>{
                                    let id = item.entry.id;
                                    let name = item.entry.name.clone();
                                    match item.entry.file.clone() {
                                        None => view! {
                                            <button type="button" class="folder-link" on:click=move |_| place.set(Place::Shared(id))>
                                                <span aria-hidden="true">"📁 "</span>{name}
                                            </button>
                                        }.into_any(),
                                        Some(file) => view! {
                                            <a href=file.url() download=name.clone() rel="external">{name.clone()}</a>
                                        }.into_any(),
                                    }
                                }</td>
                                <td>{item.owner_name.clone()}</td>
                                <td>{match item.permission { Permission::View => t.can_view, Permission::Edit => t.can_edit }}</td>
                                <td>{item.entry.file.as_ref().map(|f| human_size(f.size)).unwrap_or_default()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
    .into_any()
}

/// A folder someone shared, live from its own scope: viewed, or (shared to edit) worked in.
#[component]
fn SharedFolder(root: EntryId, place: RwSignal<Place>) -> impl IntoView {
    let t = crate::i18n::office();
    let snapshot = Resource::new(move || root, load_shared);
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(found) => {
                        let SharedSnapshot { owner_name, permission, cabinet, .. } = found;
                        let view = RwSignal::new(CabinetView::from_snapshot(cabinet));
                        expect_context::<Live>().watch(Scope::Shared(root), view, move || snapshot.refetch());
                        let folder = RwSignal::new(Some(root));
                        let action = command_action();
                        let error = move || crate::error::failure_text(t, action.value().get());
                        let note = match permission {
                            Permission::View => t.view_only,
                            Permission::Edit => t.can_change,
                        };
                        let sharing = RwSignal::new(None::<EntryId>);
                        view! {
                            <p class="shared-by">{format!("{} · {}", owner_name, note)}</p>
                            <Show when=move || permission == Permission::Edit>
                                <div class="toolbar">
                                    <UploadButton folder action />
                                    <NewFolder folder action />
                                </div>
                            </Show>
                            <Show when=move || error().is_some()>
                                <p role="alert" class="error">{error}</p>
                            </Show>
                            <nav class="trail-back">
                                <button type="button" on:click=move |_| place.set(Place::SharedWithMe)>{t.shared_with_me}</button>
                            </nav>
                            <Trail view folder top=String::new() />
                            <EntryList view folder action permission owner=false sharing />
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// "Upload": each picked file goes up and is saved into the open folder.
#[component]
fn UploadButton(
    folder: RwSignal<Option<EntryId>>,
    action: Action<Command, Result<xietong::CommandOutput, AppError>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let uploads = upload::Uploads::new();
    let on_pick = move |ev: leptos::ev::Event| {
        let parent = folder.get_untracked();
        uploads.add(crate::transfer::picked(&ev), move |flight, done| {
            action.dispatch(Command::SaveUpload(xietong::files::SaveUpload {
                upload: done.id,
                parent,
            }));
            uploads.remove(flight);
        });
    };
    view! {
        <label class="upload-button">
            {t.upload}
            <input type="file" multiple on:change=on_pick />
        </label>
        <upload::UploadList uploads />
    }
    .into_any()
}

/// The files of a message: images as thumbnails (click for the whole image), other files as a
/// card with name, size and "Download".
#[component]
pub fn FileCards(files: Vec<xietong::files::FileInfo>) -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <div class="attachments">
            {files.into_iter().map(|f| if f.is_image() {
                view! {
                    <a class="attachment-image" href=f.inline_url() target="_blank" rel="external noopener">
                        <img src=f.thumbnail_url() alt=f.name.clone() loading="lazy" />
                    </a>
                }.into_any()
            } else {
                view! {
                    <div class="attachment-card" role="group" aria-label=f.name.clone()>
                        <span class="name">{f.name.clone()}</span>
                        <span class="size">{human_size(f.size)}</span>
                        <a href=f.url() download=f.name.clone() rel="external">{t.download}</a>
                    </div>
                }.into_any()
            }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn Trail(
    view: RwSignal<CabinetView>,
    folder: RwSignal<Option<EntryId>>,
    /// The name of the top (empty: the trail starts at its first folder, a shared one).
    top: String,
) -> impl IntoView {
    let t = crate::i18n::office();
    let trail = move || {
        view.with(|v| {
            v.cabinet
                .trail(folder.get())
                .into_iter()
                .map(|e| (e.id, e.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <nav aria-label=t.folder_path class="trail">
            {(!top.is_empty()).then(|| view! {
                <button type="button" on:click=move |_| folder.set(None)>{top.clone()}</button>
                <span aria-hidden="true">" / "</span>
            })}
            <For each=trail key=|(id, name)| (*id, name.clone()) let((id, name))>
                <button type="button" on:click=move |_| folder.set(Some(id))>{name}</button>
                <span aria-hidden="true">" / "</span>
            </For>
        </nav>
    }
    .into_any()
}

#[component]
fn NewFolder(
    folder: RwSignal<Option<EntryId>>,
    action: Action<Command, Result<xietong::CommandOutput, AppError>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::CreateFolder(CreateFolder {
            parent: folder.get_untracked(),
            name: name.get_untracked(),
        }));
        name.set(String::new());
        open.set(false);
    };
    view! {
        <button type="button" on:click=move |_| open.update(|o| *o = !*o)>{t.new_folder}</button>
        <Show when=move || open.get()>
            <form class="inline-form" on:submit=create>
                <label>
                    {t.folder_name}
                    <input type="text" required maxlength="255" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <button type="submit">{t.create}</button>
            </form>
        </Show>
    }
    .into_any()
}

#[component]
fn EntryList(
    view: RwSignal<CabinetView>,
    folder: RwSignal<Option<EntryId>>,
    action: Action<Command, Result<xietong::CommandOutput, AppError>>,
    /// What the reader may do here.
    permission: Permission,
    /// The reader owns these (and may share them).
    owner: bool,
    /// The entry whose "Share" dialog is open.
    sharing: RwSignal<Option<EntryId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let entries = move || {
        view.with(|v| {
            v.cabinet
                .children(folder.get())
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <table class="file-list" aria-label=t.files>
            <thead>
                <tr>
                    <th scope="col">{t.name}</th>
                    <th scope="col">{t.size}</th>
                    <th scope="col">{t.modified}</th>
                    <th scope="col"></th>
                </tr>
            </thead>
            <tbody>
                <For each=entries key=|e| e.clone() let(entry)>
                    <EntryRow entry view folder action permission owner sharing />
                </For>
            </tbody>
        </table>
        <Show when=move || entries().is_empty()>
            <p class="empty">{t.folder_empty}</p>
        </Show>
    }
    .into_any()
}

#[component]
fn EntryRow(
    entry: Entry,
    view: RwSignal<CabinetView>,
    folder: RwSignal<Option<EntryId>>,
    action: Action<Command, Result<xietong::CommandOutput, AppError>>,
    permission: Permission,
    owner: bool,
    sharing: RwSignal<Option<EntryId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let id = entry.id;
    let renaming = RwSignal::new(false);
    let new_name = RwSignal::new(entry.name.clone());
    let showing_versions = RwSignal::new(false);
    let at = entry.updated_at;
    let when = move || {
        let (_, long) = crate::chat::format_time(at, live.utc_offset_minutes.get());
        long.chars().take(16).collect::<String>()
    };
    let file_url = entry.file.as_ref().map(|f| f.url());
    let shown_name = entry.name.clone();
    let name_cell = move || match file_url.clone() {
        None => view! {
            <button type="button" class="folder-link" on:click=move |_| folder.set(Some(id))>
                <span aria-hidden="true">"📁 "</span>{shown_name.clone()}
            </button>
        }
        .into_any(),
        Some(url) => view! {
            <a href=url download=shown_name.clone() rel="external">{shown_name.clone()}</a>
        }
        .into_any(),
    };
    let size = entry
        .file
        .as_ref()
        .map(|f| human_size(f.size))
        .unwrap_or_default();
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::RenameEntry(RenameEntry {
            entry: id,
            name: new_name.get_untracked(),
        }));
        renaming.set(false);
    };
    let name = entry.name.clone();
    let versions = entry.older_versions.clone();
    let version_count = versions.len();
    let is_shared = !entry.shares.is_empty() || !entry.links.is_empty();
    let can_edit = permission == Permission::Edit;
    let moving = RwSignal::new(false);
    // Where it may go: every folder of the view but itself and what is inside it (and, for
    // its owner, the top).
    let destinations = move || {
        view.with(|v| {
            let mut out: Vec<(String, String)> = Vec::new();
            if owner {
                out.push((String::new(), t.my_files.to_owned()));
            }
            for f in v.cabinet.entries.iter().filter(|e| e.is_folder()) {
                let trail = v.cabinet.trail(Some(f.id));
                let inside_itself = trail.iter().any(|e| e.id == id);
                let in_bin = trail.iter().any(|e| e.deleted_at.is_some());
                if !inside_itself && !in_bin {
                    let path: Vec<&str> = trail.iter().map(|e| e.name.as_str()).collect();
                    out.push((f.id.to_string(), path.join(" / ")));
                }
            }
            out.sort_by(|a, b| a.1.cmp(&b.1));
            out
        })
    };
    let destination = RwSignal::new(String::new());
    let move_it = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parent = destination.get_untracked().parse::<i64>().ok().map(EntryId);
        action.dispatch(Command::MoveEntry(xietong::files::MoveEntry {
            entry: id,
            parent,
        }));
        moving.set(false);
    };
    view! {
        <tr>
            <td>
                {view! {
                <Show when=move || renaming.get() fallback=name_cell>
                    <form class="inline-form" on:submit=rename>
                        <label>
                            {t.new_name}
                            <input type="text" required maxlength="255" prop:value=move || new_name.get()
                                on:input=move |ev| new_name.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit">{t.save}</button>
                    </form>
                </Show>
                {is_shared.then(|| view! { " " <span class="badge">{t.shared_badge}</span> })}
                <Show when=move || moving.get()>
                    <form class="inline-form" on:submit=move_it>
                        <label>
                            {t.move_to}
                            <select on:change=move |ev| destination.set(event_target_value(&ev))>
                                <option value="-" selected=true disabled=true>"—"</option>
                                {destinations().into_iter().map(|(value, label)| view! {
                                    <option value=value>{label}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit">{t.move_here}</button>
                    </form>
                </Show>
                <Show when=move || showing_versions.get()>
                    <ul class="versions" aria-label=(t.versions_of)(&name)>
                        {versions.iter().enumerate().map(|(i, v)| {
                            let label = (t.version_n)(version_count - i, &human_size(v.size));
                            view! { <li><a href=v.url() download=v.name.clone() rel="external">{label}</a></li> }
                        }).collect_view()}
                    </ul>
                </Show>
                }.into_any()}
            </td>
            <td>{size}</td>
            <td>{when}</td>
            <td class="actions">
                {(version_count > 0).then(|| view! {
                    <button type="button" aria-label=(t.versions_of)(&entry.name)
                        on:click=move |_| showing_versions.update(|s| *s = !*s)>
                        {(t.n_versions)(version_count + 1)}
                    </button>
                })}
                {owner.then(|| view! {
                    <button type="button" aria-label=(t.share_named)(&entry.name)
                        on:click=move |_| sharing.set(Some(id))>{t.share}</button>
                })}
                {can_edit.then(|| view! {
                    <button type="button" aria-label=(t.rename_named)(&entry.name)
                        on:click=move |_| renaming.update(|r| *r = !*r)>{t.rename}</button>
                    <button type="button" aria-label=(t.move_named)(&entry.name)
                        on:click=move |_| moving.update(|m| *m = !*m)>{t.move_entry}</button>
                    <button type="button" aria-label=(t.delete_named)(&entry.name) on:click=move |_| {
                        action.dispatch(Command::DeleteEntry(DeleteEntry { entry: id }));
                    }>{t.delete}</button>
                })}
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn RecycleBin(
    view: RwSignal<CabinetView>,
    action: Action<Command, Result<xietong::CommandOutput, AppError>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let entries = move || {
        view.with(|v| {
            v.cabinet
                .recycle_bin()
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section aria-label=t.recycle_bin class="recycle-bin">
            <h2>{t.recycle_bin}</h2>
            <Show when=move || !entries().is_empty() fallback=move || view! { <p class="empty">{t.recycle_bin_empty}</p> }>
                <button type="button" on:click=move |_| {
                    action.dispatch(Command::EmptyRecycleBin(EmptyRecycleBin {}));
                }>{t.empty_recycle_bin}</button>
            </Show>
            <ul>
                <For each=entries key=|e| e.clone() let(entry)>
                    <li>
                        <span>{entry.name.clone()}</span>
                        " "
                        <button type="button" aria-label=(t.restore_named)(&entry.name) on:click=move |_| {
                            action.dispatch(Command::RestoreEntry(RestoreEntry { entry: entry.id }));
                        }>{t.restore}</button>
                    </li>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong::files::{FileId, FileInfo, Usage};

    fn entry(id: i64, parent: Option<i64>, name: &str, file: bool) -> Entry {
        Entry {
            id: EntryId(id),
            owner: UserId(1),
            parent: parent.map(EntryId),
            name: name.into(),
            file: file.then(|| FileInfo {
                id: FileId(id * 10),
                name: name.into(),
                size: 5,
                mime: "text/plain".into(),
                by: UserId(1),
                at: 0,
            }),
            older_versions: Vec::new(),
            updated_at: 0,
            deleted_at: None,
            shares: Vec::new(),
            links: Vec::new(),
        }
    }

    fn event(seq: u64, body: impl Into<xietong::EventBody>) -> LiveEvent {
        crate::live::test_event(Scope::User(UserId(1)), seq, None, body)
    }

    /// Snapshot + events == the later snapshot; other features' events only move the head.
    #[test]
    fn the_cabinet_follows_its_events() {
        let usage = |used| Usage {
            used,
            quota: Some(100),
        };
        let mut view = CabinetView::from_snapshot(CabinetSnapshot {
            owner: UserId(1),
            entries: vec![entry(1, None, "文档", false)],
            usage: usage(0),
            shared: Vec::new(),
            head: Seq(3),
        });
        let saved = |e, used| xietong::files::FilesEvent::EntrySaved {
            entry: e,
            usage: usage(used),
        };
        assert_eq!(
            view.apply(&event(4, saved(entry(2, Some(1), "a.txt", true), 5))),
            Applied::Applied
        );
        assert_eq!(
            view.apply(&event(
                5,
                xietong::chat::ChatEvent::NotificationsSeen {
                    up_to: Seq(1),
                    unseen: 0
                }
            )),
            Applied::Applied
        );
        let mut deleted = entry(1, None, "文档", false);
        deleted.deleted_at = Some(9);
        assert_eq!(
            view.apply(&event(6, saved(deleted.clone(), 5))),
            Applied::Applied
        );
        assert_eq!(
            view.apply(&event(6, saved(deleted.clone(), 5))),
            Applied::Duplicate
        );
        assert!(view.cabinet.children(None).is_empty());
        assert_eq!(view.cabinet.recycle_bin().len(), 1);
        let purged = xietong::files::FilesEvent::EntriesPurged {
            entries: vec![EntryId(1), EntryId(2)],
            usage: usage(0),
        };
        assert_eq!(view.apply(&event(7, purged)), Applied::Applied);
        assert_eq!(
            view,
            CabinetView::from_snapshot(CabinetSnapshot {
                owner: UserId(1),
                entries: Vec::new(),
                usage: usage(0),
                shared: Vec::new(),
                head: Seq(7),
            })
        );
    }
}
