//! Text inside stored files, for search: PDF (pdf-extract), docx (its `word/document.xml`,
//! read with zip and quick-xml) and xlsx (calamine). Read off the request path by a worker on
//! every node: a file is searchable by name and text a moment after it is stored. The bytes of
//! one content are read once (`blob_texts`, claimed by one node at a time); each file gets its
//! own terms (`file_terms`), so search finds it by the access rules of what it is attached to.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use crate::store::{now_ms, Store, StoreError};

use super::{FileStore, FilesError};

/// Files larger than this are found by name only.
const MAX_READ_BYTES: u64 = 100 * 1024 * 1024;
/// Text kept per content (the start of a very long document).
const MAX_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// One extraction may take this long before the file is found by name only.
const EXTRACT_DEADLINE: Duration = Duration::from_secs(120);
/// A claim on a content outlives a node that died reading it by this much.
const CLAIM_MS: i64 = 10 * 60 * 1000;
/// Files indexed per pass.
const BATCH: i64 = 20;

pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Whether text is read out of files of this type.
pub fn readable(mime: &str) -> bool {
    matches!(mime, PDF | DOCX | XLSX | ZIP) || mime.starts_with("text/plain")
}

/// What type detection calls an Office file it could not tell apart from any zip (the order of
/// its parts varies by the program that wrote it): looked inside.
const ZIP: &str = "application/zip";

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("not readable: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The text of a file's bytes, by its detected type (`None`: a type without text to read).
pub fn extract(bytes: &[u8], mime: &str) -> Result<Option<String>, TextError> {
    let bad = |e: &dyn std::fmt::Display| TextError::Unreadable(e.to_string());
    let text = match mime {
        PDF => pdf_extract::extract_text_from_mem(bytes).map_err(|e| bad(&e))?,
        DOCX => docx_text(bytes)?,
        XLSX => xlsx_text(bytes)?,
        ZIP => {
            let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
            let has = |name: &str| zip.file_names().any(|n| n == name);
            if has("word/document.xml") {
                docx_text(bytes)?
            } else if has("xl/workbook.xml") {
                xlsx_text(bytes)?
            } else {
                return Ok(None);
            }
        }
        m if m.starts_with("text/plain") => String::from_utf8_lossy(bytes).into_owned(),
        _ => return Ok(None),
    };
    Ok(Some(cut(text)))
}

fn cut(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The paragraphs of a Word document: every `w:t` run, a line per `w:p`.
fn docx_text(bytes: &[u8]) -> Result<String, TextError> {
    use quick_xml::events::Event;
    let bad = |e: &dyn std::fmt::Display| TextError::Unreadable(e.to_string());
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|e| bad(&e))?
        // A zip bomb stops at the text cap's worth of XML, times a margin for markup.
        .take(8 * MAX_TEXT_BYTES as u64)
        .read_to_string(&mut xml)?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) if e.name().as_ref() == b"w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == b"w:t" => in_text = false,
            Event::End(e) if e.name().as_ref() == b"w:p" => out.push('\n'),
            Event::Text(t) if in_text => {
                out.push_str(&t.decode().map_err(|e| bad(&e))?);
            }
            Event::GeneralRef(r) if in_text => {
                // &amp; and friends inside a run.
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else {
                    let name: &[u8] = &r;
                    match name {
                        b"amp" => out.push('&'),
                        b"lt" => out.push('<'),
                        b"gt" => out.push('>'),
                        b"quot" => out.push('"'),
                        b"apos" => out.push('\''),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > MAX_TEXT_BYTES {
            break;
        }
    }
    Ok(out)
}

/// Every non-empty cell of every sheet, a line per row.
fn xlsx_text(bytes: &[u8]) -> Result<String, TextError> {
    use calamine::Reader;
    let bad = |e: &dyn std::fmt::Display| TextError::Unreadable(e.to_string());
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let mut out = String::new();
    for name in book.sheet_names() {
        let Ok(range) = book.worksheet_range(&name) else {
            continue;
        };
        out.push_str(&name);
        out.push('\n');
        for row in range.rows() {
            let cells: Vec<String> = row
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !c.is_empty())
                .collect();
            if !cells.is_empty() {
                out.push_str(&cells.join(" "));
                out.push('\n');
            }
            if out.len() > MAX_TEXT_BYTES {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// The text of a content: read before, read now (claimed so no other node reads it too), or
/// `Err(())` while another node is reading it (try again later).
async fn text_of(
    store: &Store,
    files: &FileStore,
    hash: &str,
    mime: &str,
    size: u64,
) -> Result<Result<String, ()>, FilesError> {
    if !readable(mime) || size > MAX_READ_BYTES {
        return Ok(Ok(String::new()));
    }
    let now = now_ms();
    let mut tx = store.write().await?;
    let known: Option<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT state, claimed_until, body FROM blob_texts WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await?;
    match known {
        Some((state, _, body)) if state != "working" => return Ok(Ok(body)),
        Some((_, until, _)) if until.unwrap_or(0) > now => return Ok(Err(())),
        Some(_) => {
            sqlx::query("UPDATE blob_texts SET claimed_until = $1 WHERE hash = $2")
                .bind(now + CLAIM_MS)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO blob_texts (hash, state, claimed_until) VALUES ($1, 'working', $2)
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(now + CLAIM_MS)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    let path = files.fetch(hash).await?;
    let mime_owned = mime.to_owned();
    let read = tokio::time::timeout(
        EXTRACT_DEADLINE,
        tokio::task::spawn_blocking(move || -> Result<Option<String>, TextError> {
            let bytes = std::fs::read(&path)?;
            extract(&bytes, &mime_owned)
        }),
    )
    .await;
    let (state, body) = match read {
        Ok(Ok(Ok(Some(text)))) => ("done", text),
        Ok(Ok(Ok(None))) => ("none", String::new()),
        Ok(Ok(Err(e))) => {
            tracing::info!(hash, mime, error = %e, "no text read from a file; found by name only");
            ("none", String::new())
        }
        Ok(Err(e)) => {
            // A panic inside a parser (a malformed file) is that file's problem only.
            tracing::warn!(hash, mime, error = %e, "reading a file's text failed");
            ("none", String::new())
        }
        Err(_) => {
            tracing::warn!(
                hash,
                mime,
                "reading a file's text took too long; found by name only"
            );
            ("none", String::new())
        }
    };
    let mut tx = store.write().await?;
    sqlx::query(
        "UPDATE blob_texts SET state = $1, body = $2, claimed_until = NULL WHERE hash = $3",
    )
    .bind(state)
    .bind(&body)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(body))
}

/// Indexes the files not indexed yet, a batch at a time; how many were indexed.
pub async fn index_pending(store: &Store, files: &FileStore) -> Result<usize, FilesError> {
    let mut conn = store.read().await?;
    let pending: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, name, hash, mime, size FROM files WHERE indexed_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let mut done = 0;
    for (id, name, hash, mime, size) in pending {
        let Ok(text) = text_of(store, files, &hash, &mime, size.max(0) as u64).await? else {
            continue;
        };
        let mut terms = crate::search::terms_of(&name);
        terms.extend(crate::search::terms_of(&text));
        let terms: Vec<String> = terms.into_iter().collect();
        let mut tx = store.write().await?;
        for chunk in terms.chunks(200) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, $1)", i + 2))
                .collect();
            let sql = format!(
                "INSERT INTO file_terms (term, file_id) VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(id);
            for term in chunk {
                query = query.bind(term);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE files SET indexed_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Terms of files that are gone, and texts of contents that are gone (after a sweep).
pub async fn forget_removed(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    sqlx::query("DELETE FROM file_terms WHERE file_id NOT IN (SELECT id FROM files)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM blob_texts WHERE hash NOT IN (SELECT hash FROM blobs)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs until `stop`: indexes new files every couple of seconds (at once while there are
/// more).
pub async fn index_now_and_then(
    store: Store,
    files: Arc<FileStore>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut pause = Duration::from_secs(2);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = match index_pending(&store, &files).await {
            Ok(n) if n as i64 == BATCH => Duration::ZERO,
            Ok(_) => Duration::from_secs(2),
            Err(e) => {
                tracing::warn!(error = %e, "indexing files for search failed; retrying later");
                Duration::from_secs(30)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A minimal .docx: a zip with `word/document.xml`.
    fn docx(paragraphs: &[&str]) -> Vec<u8> {
        let mut body = String::new();
        for p in paragraphs {
            body.push_str(&format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"));
        }
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
        );
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", options).unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn word_documents_give_their_paragraphs() {
        let text = extract(&docx(&["季度预算报告", "Tom &amp; Jerry"]), DOCX)
            .unwrap()
            .unwrap();
        assert_eq!(text, "季度预算报告\nTom & Jerry\n");
        assert!(extract(b"not a zip", DOCX).is_err());
        assert_eq!(extract(b"\x89PNG", "image/png").unwrap(), None);
    }
}
