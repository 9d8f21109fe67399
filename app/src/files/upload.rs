//! Files on their way up, for every place that takes them (the file cabinet's "Upload", a
//! composer's "Attach"): each goes in pieces with a progress bar and "Cancel"; a piece that
//! fails is retried from what the server has; the same file picked again after a reload
//! continues where it stopped (its upload id is remembered in the tab's storage).

use leptos::prelude::*;
use xietong::files::{human_size, StartUpload, Upload};

use crate::transfer::{describe, request, Body, PickedFile, Sending};
use crate::AppError;

/// Bytes per request: small enough to finish well inside the server's deadline on a slow
/// link, large enough that a 200 MB file takes few requests.
const PIECE_BYTES: u64 = 4 * 1024 * 1024;
/// Attempts at one piece before the upload is reported as failed.
const ATTEMPTS: u32 = 5;

/// One file on its way up (or up, waiting to be used).
#[derive(Clone)]
pub struct InFlight {
    key: u64,
    pub name: String,
    size: u64,
    sent: RwSignal<u64>,
    error: RwSignal<Option<String>>,
    /// The complete upload's id, once every byte is in.
    done: RwSignal<Option<String>>,
    sending: StoredValue<Sending>,
    upload_id: StoredValue<Option<String>>,
    cancelled: StoredValue<bool>,
}

/// A list of uploads under way.
#[derive(Clone, Copy)]
pub struct Uploads {
    items: RwSignal<Vec<InFlight>>,
    next_key: StoredValue<u64>,
}

impl Uploads {
    pub fn new() -> Self {
        Uploads {
            items: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
        }
    }

    /// Starts sending `files`; `on_done` gets each complete upload (it stays listed, as ready,
    /// until removed).
    pub fn add(
        &self,
        files: Vec<PickedFile>,
        on_done: impl Fn(&InFlight, Upload) + Clone + 'static,
    ) {
        let t = crate::i18n::t();
        for file in files {
            let (name, size, _) = describe(&file);
            let key = self.next_key.get_value();
            self.next_key.set_value(key + 1);
            let flight = InFlight {
                key,
                name,
                size,
                sent: RwSignal::new(0),
                error: RwSignal::new(None),
                done: RwSignal::new(None),
                sending: StoredValue::new(Sending::default()),
                upload_id: StoredValue::new(None),
                cancelled: StoredValue::new(false),
            };
            self.items.update(|u| u.push(flight.clone()));
            let on_done = on_done.clone();
            leptos::task::spawn_local(async move {
                match send_file(file.clone(), flight.clone()).await {
                    Ok(Some(upload)) => {
                        forget(&file);
                        flight.done.try_set(Some(upload.id.clone()));
                        on_done(&flight, upload);
                    }
                    // Cancelled: already gone from the list.
                    Ok(None) => {}
                    Err(e) => {
                        flight.error.try_set(Some(e.text(t)));
                    }
                }
            });
        }
    }

    /// Takes one off the list (a cancel while it is on its way stops it and deletes what the
    /// server has).
    pub fn remove(&self, flight: &InFlight) {
        self.items.update(|u| u.retain(|f| f.key != flight.key));
        if flight.done.get_untracked().is_some() {
            return;
        }
        flight.cancelled.set_value(true);
        flight.sending.with_value(|s| s.cancel());
        if let Some(id) = flight.upload_id.get_value() {
            leptos::task::spawn_local(async move {
                let url = format!("/files/uploads/{id}");
                let _ = request::<()>("DELETE", &url, Body::Empty, |_, _| {}, |_| {}).await;
            });
        }
    }

    /// Whether a file is still on its way.
    pub fn busy(&self) -> bool {
        self.items
            .with_untracked(|u| u.iter().any(|f| f.done.get_untracked().is_none()))
    }

    /// Whether a complete upload waits to be used.
    pub fn has_ready(&self) -> bool {
        self.items
            .with_untracked(|u| u.iter().any(|f| f.done.get_untracked().is_some()))
    }

    /// The complete uploads' ids, taken off the list.
    pub fn take_ready(&self) -> Vec<String> {
        let mut ready = Vec::new();
        self.items.update(|u| {
            u.retain(|f| match f.done.get_untracked() {
                Some(id) => {
                    ready.push(id);
                    false
                }
                None => true,
            })
        });
        ready
    }
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new()
    }
}

/// The uploads as a list: a progress bar and "Cancel" for each on its way, the name and size
/// with "Remove" once ready. Nothing (and none of its code) until the first file is picked.
#[component]
pub fn UploadList(uploads: Uploads) -> impl IntoView {
    let open = Signal::derive(move || uploads.items.with(|u| !u.is_empty()));
    view! { <crate::shell::OnDemand open load=move || upload_items(uploads) /> }
}

/// [`UploadItems`], loaded on demand: its code is not in the first screen's module.
#[lazy]
fn upload_items(uploads: Uploads) -> AnyView {
    view! { <UploadItems uploads /> }.into_any()
}

#[component]
fn UploadItems(uploads: Uploads) -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <ul class="uploads" aria-label=t.uploads>
            <For each=move || uploads.items.get() key=|f| f.key let(flight)>
                {
                let (sent, size, done, error) = (flight.sent, flight.size, flight.done, flight.error);
                let uploading = (t.uploading_named)(&flight.name);
                let remove_label = (t.remove_named)(&flight.name);
                let cancel_label = (t.cancel_upload_named)(&flight.name);
                view! {
                <li>
                    <span class="name">{flight.name.clone()}</span>
                    <Show when=move || done.get().is_none()
                        fallback=move || view! { <span class="size">{human_size(size)}</span> }>
                        <div role="progressbar" class="progress"
                            aria-label=uploading.clone()
                            aria-valuemin="0" aria-valuemax="100"
                            aria-valuenow=move || percent(sent.get(), size).to_string()>
                            <div class="bar" style:width=move || format!("{}%", percent(sent.get(), size))></div>
                        </div>
                    </Show>
                    <Show when=move || error.get().is_some()>
                        <span role="alert" class="error">{move || error.get()}</span>
                    </Show>
                    <button type="button"
                        aria-label=move || if done.get().is_some() { remove_label.clone() } else { cancel_label.clone() }
                        on:click={
                            let flight = flight.clone();
                            move |_| uploads.remove(&flight)
                        }>
                        {move || if done.get().is_some() { t.remove } else { t.cancel }}
                    </button>
                </li>
                }
                }
            </For>
        </ul>
    }
    .into_any()
}

fn percent(sent: u64, size: u64) -> u64 {
    (sent.min(size) * 100).checked_div(size).unwrap_or(100)
}

/// Where this tab remembers a file's upload, to resume it.
fn resume_key(file: &PickedFile) -> String {
    let (name, size, modified) = describe(file);
    format!("xietong-upload:{name}:{size}:{modified}")
}

fn remembered(file: &PickedFile) -> Option<String> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let storage = web_sys::window()?.local_storage().ok()??;
        storage.get_item(&resume_key(file)).ok()?
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = resume_key(file);
        None
    }
}

fn remember(file: &PickedFile, id: &str) {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(&resume_key(file), id);
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let _ = (file, id);
}

fn forget(file: &PickedFile) {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.remove_item(&resume_key(file));
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let _ = file;
}

/// Sends every byte of `file` (resuming an earlier upload of it when the server still has
/// one). `None`: cancelled. Loaded on demand, with the first file picked: its code is not in
/// the first screen's module.
#[lazy]
async fn send_file(file: PickedFile, flight: InFlight) -> Result<Option<Upload>, AppError> {
    let (file, flight) = (&file, &flight);
    let mut upload = match resumable(file).await {
        Some(upload) => upload,
        None => {
            let start = StartUpload {
                name: flight.name.clone(),
                size: flight.size,
            };
            let json =
                serde_json::to_string(&start).map_err(|e| AppError::Transport(e.to_string()))?;
            let upload: Upload = request(
                "POST",
                "/files/uploads",
                Body::Json(json),
                |_, _| {},
                |_| {},
            )
            .await?;
            remember(file, &upload.id);
            upload
        }
    };
    flight.upload_id.set_value(Some(upload.id.clone()));
    // Cancelled before the server had given it an id (this code may still have been loading):
    // `remove` had nothing to delete, so the server's copy goes here.
    if flight.cancelled.get_value() {
        forget(file);
        let url = format!("/files/uploads/{}", upload.id);
        let _ = request::<()>("DELETE", &url, Body::Empty, |_, _| {}, |_| {}).await;
        return Ok(None);
    }
    let mut failures = 0;
    while !upload.complete {
        if flight.cancelled.get_value() {
            return Ok(None);
        }
        let start = upload.received;
        flight.sent.try_set(start);
        let end = (start + PIECE_BYTES).min(upload.size);
        let url = format!("/files/uploads/{}?offset={start}", upload.id);
        let sent = flight.sent;
        let sending = flight.sending;
        let answer = request::<Upload>(
            "PUT",
            &url,
            Body::Piece(file, start, end),
            move |loaded, _| {
                sent.try_set(start + loaded as u64);
            },
            move |s| {
                sending.try_set_value(s);
            },
        )
        .await;
        match answer {
            Ok(next) => {
                failures = 0;
                upload = next;
            }
            Err(_) if flight.cancelled.get_value() => return Ok(None),
            Err(e @ (AppError::Transport(_) | AppError::Internal | AppError::Conflict(_))) => {
                failures += 1;
                if failures >= ATTEMPTS {
                    return Err(e);
                }
                pause_ms(500 * failures).await;
                // Continue from what the server has.
                let url = format!("/files/uploads/{}", upload.id);
                if let Ok(status) =
                    request::<Upload>("GET", &url, Body::Empty, |_, _| {}, |_| {}).await
                {
                    upload = status;
                }
            }
            Err(e) => return Err(e),
        }
    }
    flight.sent.try_set(upload.size);
    Ok(Some(upload))
}

async fn pause_ms(ms: u32) {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let _ = ms;
}

/// The server's copy of an earlier, unfinished upload of this same file, if it has one.
async fn resumable(file: &PickedFile) -> Option<Upload> {
    let id = remembered(file)?;
    let url = format!("/files/uploads/{id}");
    match request::<Upload>("GET", &url, Body::Empty, |_, _| {}, |_| {}).await {
        Ok(upload) => Some(upload),
        Err(_) => {
            forget(file);
            None
        }
    }
}
