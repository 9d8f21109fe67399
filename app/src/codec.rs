//! How server functions answer: JSON, decoded in the browser from text.
//!
//! Leptos' own `Json` output decodes from bytes (`serde_json::from_slice`), while the socket's
//! frames and the page's serialised resources decode from text (`from_str`). serde generates
//! each type's decoder once per kind of reader, so a type that arrives both ways (a channel's
//! history page: as a resource on the first screen, from a server function later) was compiled
//! into the WASM twice. Answering through this encoding makes text the one reader.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;

pub struct TextJsonEncoding;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's output: `#[server(…, output = crate::codec::TextJson)]`.
pub type TextJson = Post<TextJsonEncoding>;
