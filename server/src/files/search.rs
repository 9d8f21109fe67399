//! Finding stored files by name and by the text inside them (indexed by `text`), only where
//! the reader may read them: every candidate passes the access module's file check, as a
//! download would. Files in a recycle bin are not found; of a cabinet entry's versions the
//! newest that matches is.

use std::collections::BTreeSet;

use xietong::files::{EntryId, FileId, FileInfo};
use xietong::search::{snippet, FileHit, SearchQuery, MAX_QUERY_CHARS, MAX_RESULTS};
use xietong::{ChannelId, CurrentUser, MessageId, UserId};

use crate::access::{self, Denied};
use crate::org::audience::placeholders;
use crate::search::{plan, SearchError, Term};
use crate::store::{Conn, Store};

/// Files the rarest term finds, at most (newest first).
const DRIVING: i64 = 2_000;
/// Candidates checked against the text and the access rules, at most.
const CHECKED: usize = 300;

type FileRow = (
    i64,
    String,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
);

/// The newest files matching `query` that `user` may read.
pub async fn search_files(
    store: &Store,
    user: &CurrentUser,
    query: &str,
) -> Result<Vec<FileHit>, SearchError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::TooLong);
    }
    let parsed = SearchQuery::parse(query);
    if parsed.words.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store.read().await?;
    let (terms, runs) = plan(&parsed.words);
    let mut expanded = Vec::with_capacity(terms.len());
    for term in terms {
        let term = term.expand_in(&mut tx, "file_terms").await?;
        if matches!(&term, Term::AnyOf(words) if words.is_empty()) {
            return Ok(Vec::new());
        }
        expanded.push(term);
    }
    let ids = matching(&mut tx, &expanded).await?;
    let mut hits: Vec<FileHit> = Vec::new();
    let mut entries_seen: BTreeSet<i64> = BTreeSet::new();
    for chunk in ids.chunks(100).take(CHECKED / 100) {
        let sql = format!(
            "SELECT f.id, f.name, f.size, f.mime, f.owner_id, f.created_at, f.entry_id,
                    f.channel_id, f.message_id, COALESCE(t.body, '')
             FROM files f LEFT JOIN blob_texts t ON t.hash = f.hash
             WHERE f.id IN ({}) ORDER BY f.id DESC",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, FileRow>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (id, name, size, mime, by, at, entry, channel, message, body) in
            q.fetch_all(&mut *tx).await?
        {
            let shown_name = match entry {
                Some(entry) => entry_name(&mut tx, entry).await?.unwrap_or(name.clone()),
                None => name.clone(),
            };
            let haystack = format!("{shown_name}\n{name}\n{body}").to_lowercase();
            if !runs.iter().all(|run| haystack.contains(run.as_str())) {
                continue;
            }
            if let Some(entry) = entry {
                if !entries_seen.insert(entry) {
                    continue; // an older version of an entry already found
                }
                let chain = access::entry_chain(&mut tx, EntryId(entry)).await?;
                if chain.is_none_or(|c| c.in_recycle_bin) {
                    continue;
                }
            }
            match access::file(&mut tx, user, FileId(id)).await {
                Ok(_) => {}
                Err(Denied::Store(e)) => return Err(e.into()),
                Err(_) => continue,
            }
            let first = &parsed.words[0];
            let snippet = match body.to_lowercase().find(first.as_str()) {
                // Lowercasing keeps byte offsets for the scripts that matter here; a miss at
                // a boundary falls back to the start.
                Some(at) if body.is_char_boundary(at) => snippet(&body, at, 90),
                _ => shown_name.clone(),
            };
            hits.push(FileHit {
                file: FileInfo {
                    id: FileId(id),
                    name: shown_name,
                    size: size.max(0) as u64,
                    mime,
                    by: UserId(by),
                    at,
                },
                entry: entry.map(EntryId),
                channel: channel.map(ChannelId),
                message: message.map(MessageId),
                snippet,
            });
            if hits.len() == MAX_RESULTS {
                tx.commit().await?;
                return Ok(hits);
            }
        }
    }
    tx.commit().await?;
    Ok(hits)
}

/// A cabinet entry's name now (it may have been renamed since the file was stored).
async fn entry_name(conn: &mut Conn, entry: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM cabinet_entries WHERE id = $1")
        .bind(entry)
        .fetch_optional(&mut *conn)
        .await
}

/// Ids of the files that have every term, newest first: the rarest term's files, narrowed by
/// each other term.
async fn matching(conn: &mut Conn, terms: &[Term]) -> Result<Vec<i64>, SearchError> {
    let mut counted = Vec::with_capacity(terms.len());
    for term in terms {
        let (condition, values) = term.condition("t", 1);
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM file_terms t WHERE {condition}");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for v in &values {
            q = q.bind(v.as_str());
        }
        counted.push((q.fetch_one(&mut *conn).await?, term));
    }
    counted.sort_by_key(|(n, _)| *n);
    let Some(((_, driver), others)) = counted.split_first() else {
        return Ok(Vec::new());
    };
    let (condition, values) = driver.condition("t", 1);
    let sql = format!(
        "SELECT DISTINCT t.file_id FROM file_terms t WHERE {condition}
         ORDER BY t.file_id DESC LIMIT {DRIVING}"
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql);
    for v in &values {
        q = q.bind(v.as_str());
    }
    let mut ids: Vec<i64> = q.fetch_all(&mut *conn).await?;
    for (_, term) in others {
        let mut kept = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let (condition, values) = term.condition("t", 1);
            let sql = format!(
                "SELECT DISTINCT t.file_id FROM file_terms t WHERE {condition} AND t.file_id IN ({})",
                placeholders(1 + values.len(), chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for v in &values {
                q = q.bind(v.as_str());
            }
            for id in chunk {
                q = q.bind(*id);
            }
            kept.extend(q.fetch_all(&mut *conn).await?);
        }
        kept.sort_unstable_by(|a, b| b.cmp(a));
        ids = kept;
    }
    Ok(ids)
}
