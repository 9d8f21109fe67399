//! Talking to the server's file routes (imports, uploads) from the browser: a request whose
//! body is a file, a piece of one, or JSON; progress reported as the bytes leave; cancellable.
//! The answer is JSON: the route's result, or an `AppError` with its status.

use serde::de::DeserializeOwned;

use crate::AppError;

/// A file the user picked (an `<input type=file>` or a drop); nothing on the server.
#[cfg(feature = "hydrate")]
pub type PickedFile = web_sys::File;
#[cfg(not(feature = "hydrate"))]
pub type PickedFile = ();

/// The files picked in an `<input type=file>` change event.
pub fn picked(ev: &leptos::ev::Event) -> Vec<PickedFile> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return Vec::new();
        };
        let files = files_of(input.files());
        // Picking the same file again fires `change` again.
        input.set_value("");
        files
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = ev;
        Vec::new()
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn files_of(list: Option<web_sys::FileList>) -> Vec<PickedFile> {
    list.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
        .unwrap_or_default()
}

/// The files dropped in a drag-and-drop.
pub fn dropped(ev: &leptos::ev::DragEvent) -> Vec<PickedFile> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        files_of(ev.data_transfer().and_then(|d| d.files()))
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = ev;
        Vec::new()
    }
}

/// The files in a paste (a screenshot, files copied in a file manager); none for text.
pub fn pasted(ev: &leptos::ev::ClipboardEvent) -> Vec<PickedFile> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        files_of(ev.clipboard_data().and_then(|d| d.files()))
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = ev;
        Vec::new()
    }
}

/// A picked file's name, size and last change (what tells one file from another for resuming).
pub fn describe(file: &PickedFile) -> (String, u64, f64) {
    #[cfg(feature = "hydrate")]
    {
        (file.name(), file.size() as u64, file.last_modified())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = file;
        (String::new(), 0, 0.0)
    }
}

/// What a request carries.
pub enum Body<'a> {
    Empty,
    Json(String),
    /// A whole file.
    File(&'a PickedFile),
    /// Bytes `start..end` of a file.
    Piece(&'a PickedFile, u64, u64),
}

/// A request on its way; `cancel` stops it (the answer is then `AppError::Transport`).
#[derive(Clone, Default)]
pub struct Sending {
    #[cfg(feature = "hydrate")]
    xhr: Option<send_wrapper::SendWrapper<web_sys::XmlHttpRequest>>,
}

impl Sending {
    pub fn cancel(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(xhr) = &self.xhr {
            let _ = xhr.abort();
        }
    }
}

/// POSTs a whole file to `url` and decodes the answer.
pub async fn post_file<T: DeserializeOwned>(url: &str, file: &PickedFile) -> Result<T, AppError> {
    request("POST", url, Body::File(file), |_, _| {}, |_| {}).await
}

/// Sends `body` to `url` and decodes the answer (`null` for an empty one). `progress(sent,
/// total)` is called as the bytes leave; `started` gets the handle that cancels.
pub async fn request<T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Body<'_>,
    progress: impl Fn(f64, f64) + 'static,
    started: impl FnOnce(Sending),
) -> Result<T, AppError> {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let (status, text) = send(method, url, body, progress, started).await?;
        decode(status, &text)
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        let _ = (method, url, body, progress, started);
        Err(AppError::Transport(
            "files are sent from the browser".into(),
        ))
    }
}

/// The route's JSON answer: `T` on success, its `AppError` otherwise.
#[cfg_attr(not(all(feature = "hydrate", not(feature = "ssr"))), allow(dead_code))]
fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, AppError> {
    if (200..300).contains(&status) {
        let text = if text.is_empty() { "null" } else { text };
        serde_json::from_str(text).map_err(|e| AppError::Transport(e.to_string()))
    } else {
        Err(serde_json::from_str::<AppError>(text).unwrap_or_else(|_| {
            AppError::Transport(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ))
        }))
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
async fn send(
    method: &str,
    url: &str,
    body: Body<'_>,
    progress: impl Fn(f64, f64) + 'static,
    started: impl FnOnce(Sending),
) -> Result<(u16, String), AppError> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let failed = |e: wasm_bindgen::JsValue| AppError::Transport(format!("{e:?}"));
    let xhr = web_sys::XmlHttpRequest::new().map_err(failed)?;
    xhr.open(method, url).map_err(failed)?;
    let (done_tx, done_rx) = futures::channel::oneshot::channel::<bool>();
    let done_tx = std::rc::Rc::new(std::cell::RefCell::new(Some(done_tx)));
    let finish = move |ok: bool| {
        if let Some(tx) = done_tx.borrow_mut().take() {
            let _ = tx.send(ok);
        }
    };
    let on_load = Closure::<dyn FnMut()>::new({
        let finish = finish.clone();
        move || finish(true)
    });
    let on_fail = Closure::<dyn FnMut()>::new(move || finish(false));
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            progress(ev.loaded(), ev.total())
        });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_fail.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_fail.as_ref().unchecked_ref()));
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let sent = match body {
        Body::Empty => xhr.send(),
        Body::Json(json) => {
            xhr.set_request_header("content-type", "application/json")
                .map_err(failed)?;
            xhr.send_with_opt_str(Some(&json))
        }
        Body::File(file) => xhr.send_with_opt_blob(Some(file)),
        Body::Piece(file, start, end) => {
            let piece = file
                .slice_with_f64_and_f64(start as f64, end as f64)
                .map_err(failed)?;
            xhr.set_request_header("content-type", "application/octet-stream")
                .map_err(failed)?;
            xhr.send_with_opt_blob(Some(&piece))
        }
    };
    sent.map_err(failed)?;
    started(Sending {
        xhr: Some(send_wrapper::SendWrapper::new(xhr.clone())),
    });
    let loaded = done_rx.await.unwrap_or(false);
    // The closures live until the request ends.
    drop((on_load, on_fail, on_progress));
    if !loaded {
        return Err(AppError::Transport("the transfer was interrupted".into()));
    }
    let status = xhr.status().map_err(failed)?;
    let text = xhr.response_text().map_err(failed)?.unwrap_or_default();
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_come_back_as_the_servers_error() {
        let refused = serde_json::to_string(&AppError::Forbidden("no".into())).unwrap();
        assert_eq!(
            decode::<u32>(403, &refused),
            Err(AppError::Forbidden("no".into()))
        );
        assert_eq!(decode::<u32>(200, "7"), Ok(7));
        assert_eq!(decode::<()>(204, ""), Ok(()));
        assert!(matches!(
            decode::<u32>(502, "<html>bad gateway"),
            Err(AppError::Transport(_))
        ));
    }
}
