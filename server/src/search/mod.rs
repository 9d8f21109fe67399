//! Search over messages: an inverted index kept with each message (written in the command's
//! transaction), and queries that read only what the user may read.
//!
//! Chinese has no spaces between words, so text in such scripts is indexed by every single
//! character and every pair of neighbouring characters (the CJK bigram scheme of Lucene's
//! CJKAnalyzer): a query like 上海 looks up one pair, 上海东边 three pairs, and the candidates
//! are checked against the text. Other text is indexed by lowercased words and found by
//! prefix. The same SQL runs on SQLite and PostgreSQL, with no extension.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use xietong::search::{is_cjk, words_of, SearchHit, SearchQuery, MAX_QUERY_CHARS, MAX_RESULTS};
use xietong::{ChannelId, CurrentUser, MessageId};

use crate::store::{Conn, Store, StoreError};

/// Index terms longer than this many bytes are cut (at a character boundary).
const MAX_TERM_BYTES: usize = 64;
/// Words shorter than this match exactly; longer ones also as prefixes of longer words.
const MIN_PREFIX_CHARS: usize = 3;
/// Candidates read before checking them against the text.
const CANDIDATES: usize = 300;
/// A term with fewer index entries than this drives a search from its entries.
const DRIVE_LIMIT: i64 = 20_000;
/// Messages indexed per transaction by the background pass.
const BACKFILL_BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("a search is at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SearchError {
    fn from(e: sqlx::Error) -> Self {
        SearchError::Store(StoreError::Db(e))
    }
}

/// The index terms of a message body.
pub fn terms_of(body: &str) -> BTreeSet<String> {
    let lower = body.to_lowercase();
    let mut terms = BTreeSet::new();
    for word in words_of(&lower) {
        if word.chars().next().is_some_and(is_cjk) {
            let chars: Vec<char> = word.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                terms.insert(c.to_string());
                if let Some(next) = chars.get(i + 1) {
                    terms.insert(format!("{c}{next}"));
                }
            }
        } else {
            terms.insert(cut(word).to_owned());
        }
    }
    terms
}

fn cut(word: &str) -> &str {
    if word.len() <= MAX_TERM_BYTES {
        return word;
    }
    let mut end = MAX_TERM_BYTES;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// Adds a message's terms to the index (in the caller's transaction).
pub async fn index(conn: &mut Conn, message: MessageId, body: &str) -> Result<(), StoreError> {
    let terms = terms_of(body);
    for chunk in terms.iter().collect::<Vec<_>>().chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1)", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO search_terms (term, message_id) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(message.0);
        for term in chunk {
            query = query.bind(term.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Takes a message's old text out of the index (before an edit or a delete).
pub async fn unindex(
    conn: &mut Conn,
    message: MessageId,
    old_body: &str,
) -> Result<(), StoreError> {
    for term in terms_of(old_body) {
        sqlx::query("DELETE FROM search_terms WHERE term = $1 AND message_id = $2")
            .bind(term)
            .bind(message.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Indexes messages stored before the index existed, a batch per transaction, until none is
/// left. Runs in the background at start-up; search finds them as they are done.
pub async fn backfill(store: &Store) -> Result<u64, StoreError> {
    let mut done = 0;
    loop {
        let mut tx = store.pool().begin().await?;
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, body FROM messages WHERE indexed = 0 ORDER BY id LIMIT $1")
                .bind(BACKFILL_BATCH)
                .fetch_all(&mut *tx)
                .await?;
        if rows.is_empty() {
            if done > 0 {
                // Fresh statistics, so the planner knows the index is there and how big.
                sqlx::query("ANALYZE").execute(store.pool()).await?;
            }
            return Ok(done);
        }
        for (id, body) in &rows {
            index(&mut tx, MessageId(*id), body).await?;
            sqlx::query("UPDATE messages SET indexed = 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

/// One thing a query must find.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Exact(String),
    /// Any word starting with this; turned into `AnyOf` the words in the index (`expand`).
    Prefix(String),
    AnyOf(Vec<String>),
}

/// A prefix matches at most this many different words (the first ones, in byte order).
const MAX_PREFIX_WORDS: usize = 64;

impl Term {
    /// The SQL condition on `alias.term`, binding from `$n`; the values to bind. Every form is
    /// index lookups of whole terms, so a database can check it per message cheaply.
    fn condition(&self, alias: &str, n: usize) -> (String, Vec<String>) {
        match self {
            Term::Exact(t) => (format!("{alias}.term = ${n}"), vec![t.clone()]),
            Term::Prefix(p) => (format!("{alias}.term = ${n}"), vec![p.clone()]),
            Term::AnyOf(words) => {
                let list: Vec<String> = (0..words.len()).map(|i| format!("${}", n + i)).collect();
                (
                    format!("{alias}.term IN ({})", list.join(", ")),
                    words.clone(),
                )
            }
        }
    }

    /// Replaces a prefix by the words of the index that start with it, one index seek each.
    async fn expand(self, conn: &mut Conn) -> Result<Term, StoreError> {
        let Term::Prefix(prefix) = self else {
            return Ok(self);
        };
        let upper = format!("{prefix}\u{10FFFF}");
        let mut words: Vec<String> = Vec::new();
        let mut after = prefix.clone();
        let mut first = true;
        while words.len() < MAX_PREFIX_WORDS {
            let sql = if first {
                "SELECT min(term) FROM search_terms WHERE term >= $1 AND term < $2"
            } else {
                "SELECT min(term) FROM search_terms WHERE term > $1 AND term < $2"
            };
            let next: Option<String> = sqlx::query_scalar(sql)
                .bind(&after)
                .bind(&upper)
                .fetch_one(&mut *conn)
                .await?;
            let Some(word) = next else { break };
            first = false;
            after = word.clone();
            words.push(word);
        }
        Ok(Term::AnyOf(words))
    }
}

/// What the words of a query look up, and the CJK runs a candidate's text must contain.
fn plan(words: &[String]) -> (Vec<Term>, Vec<String>) {
    let mut terms = Vec::new();
    let mut runs = Vec::new();
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        if chars.first().is_some_and(|c| is_cjk(*c)) {
            if chars.len() == 1 {
                terms.push(Term::Exact(word.clone()));
            } else {
                for pair in chars.windows(2) {
                    terms.push(Term::Exact(pair.iter().collect()));
                }
                if chars.len() > 2 {
                    runs.push(word.clone());
                }
            }
        } else if chars.len() >= MIN_PREFIX_CHARS {
            terms.push(Term::Prefix(cut(word).to_owned()));
        } else {
            terms.push(Term::Exact(word.clone()));
        }
    }
    terms.dedup();
    (terms, runs)
}

/// The newest messages matching `query` among those `user` may read, newest first.
pub async fn search(
    store: &Store,
    user: &CurrentUser,
    query: &str,
) -> Result<Vec<SearchHit>, SearchError> {
    search_with(store, user, query, DRIVE_LIMIT).await
}

/// `search`, with the count under which a term drives (tests force each way of searching).
pub async fn search_with(
    store: &Store,
    user: &CurrentUser,
    query: &str,
    drive_limit: i64,
) -> Result<Vec<SearchHit>, SearchError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::TooLong);
    }
    let parsed = SearchQuery::parse(query);
    if parsed.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store.read().await?;
    // Only what the user may read: the access module's rule, as a list of channels.
    let mut channels = crate::chat::queries::visible_channels(&mut tx, user).await?;
    if let Some(name) = &parsed.in_channel {
        let name = name.to_lowercase();
        channels.retain(|c| !c.kind.is_direct() && c.name.to_lowercase() == name);
    }
    let author = match &parsed.from {
        Some(name) => {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE username = $1 OR lower(username) = lower($1)",
            )
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
            match found {
                Some(id) => Some(id),
                None => return Ok(Vec::new()),
            }
        }
        None => None,
    };
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let (terms, runs) = plan(&parsed.words);
    let merge = store.engine() == crate::store::Engine::Postgres;
    let candidates = candidates(&mut tx, &terms, &channels, author, drive_limit, merge).await?;
    let mut found: Vec<MessageId> = Vec::new();
    for (id, body) in candidates {
        // A message holding two words of one prefix comes once per word when lists are joined.
        if found.last() == Some(&MessageId(id)) {
            continue;
        }
        let lower = body.to_lowercase();
        if runs.iter().all(|run| lower.contains(run.as_str())) {
            found.push(MessageId(id));
            if found.len() == MAX_RESULTS {
                break;
            }
        }
    }
    let messages = crate::chat::queries::messages_by_id(&mut tx, &found).await?;
    tx.commit().await?;
    let by_id: BTreeMap<ChannelId, xietong::Channel> =
        channels.into_iter().map(|c| (c.id, c)).collect();
    let mut hits: Vec<SearchHit> = messages
        .into_iter()
        .filter_map(|message| {
            Some(SearchHit {
                channel: by_id.get(&message.channel)?.clone(),
                message,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.message.id.cmp(&a.message.id));
    Ok(hits)
}

/// Candidate messages (id, body), newest first: driven by the term with the fewest entries,
/// every other term checked by index lookups, limited to the user's channels.
async fn candidates(
    conn: &mut Conn,
    terms: &[Term],
    channels: &[xietong::Channel],
    author: Option<i64>,
    drive_limit: i64,
    // Intersect by joining the entry lists on message id (PostgreSQL merges them in index
    // order, newest first, and stops at the limit) rather than with INTERSECT (which SQLite
    // does well and PostgreSQL sorts).
    merge: bool,
) -> Result<Vec<(i64, String)>, SearchError> {
    let mut expanded = Vec::with_capacity(terms.len());
    for term in terms {
        match term.clone().expand(conn).await? {
            // A word nothing starts with: nothing matches.
            Term::AnyOf(words) if words.is_empty() => return Ok(Vec::new()),
            term => expanded.push(term),
        }
    }
    let terms = &expanded;
    let mut binds: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    // A rare term drives: its entries, newest first. When every term is common, one term is
    // walked newest first with the others checked by index lookups; several common terms are
    // intersected as sets (each entry list read once, in index order).
    let mut driver: Option<usize> = None;
    let mut fewest = i64::MAX;
    for (i, term) in terms.iter().enumerate() {
        let (cond, values) = term.condition("t", 1);
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM search_terms t WHERE {cond} LIMIT {drive_limit}) x"
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for v in values {
            q = q.bind(v);
        }
        let n = q.fetch_one(&mut *conn).await?;
        if n < fewest && n < drive_limit {
            fewest = n;
            driver = Some(i);
        }
    }
    let mut conditions: Vec<String> = vec!["m.deleted = 0".into()];
    let mut from = "messages m".to_owned();
    if driver.is_none() && terms.len() > 1 {
        let sets: Vec<String> = terms
            .iter()
            .enumerate()
            .map(|(i, term)| {
                let alias = format!("t{i}");
                let (cond, values) = term.condition(&alias, binds.len() + 1);
                binds.extend(values);
                format!("SELECT {alias}.message_id FROM search_terms {alias} WHERE {cond}")
            })
            .collect();
        from = if merge {
            let mut joined = "search_terms t0".to_owned();
            let mut conds: Vec<String> = Vec::new();
            for (i, set) in sets.iter().enumerate() {
                let cond = set
                    .split_once(" WHERE ")
                    .map(|(_, c)| c.to_owned())
                    .unwrap_or_default();
                if i > 0 {
                    joined.push_str(&format!(
                        " JOIN search_terms t{i} ON t{i}.message_id = t0.message_id"
                    ));
                }
                conds.push(cond);
            }
            conditions.extend(conds);
            format!("{joined} JOIN messages m ON m.id = t0.message_id")
        } else {
            format!(
                "({}) d JOIN messages m ON m.id = d.message_id",
                sets.join(" INTERSECT ")
            )
        };
    }
    let intersected = driver.is_none() && terms.len() > 1;
    for (i, term) in terms.iter().enumerate().filter(|_| !intersected) {
        let alias = format!("t{i}");
        let (cond, values) = term.condition(&alias, binds.len() + 1);
        binds.extend(values);
        if Some(i) == driver {
            from = format!(
                "(SELECT DISTINCT {alias}.message_id FROM search_terms {alias} WHERE {cond}) d
                 JOIN messages m ON m.id = d.message_id"
            );
        } else {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM search_terms {alias} WHERE {cond} AND {alias}.message_id = m.id)"
            ));
        }
    }
    let order = if intersected && merge {
        "t0.message_id DESC"
    } else {
        "m.id DESC"
    };
    let first_int = binds.len() + 1;
    let channel_list: Vec<String> = channels
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ints.push(c.id.0);
            format!("${}", first_int + i)
        })
        .collect();
    conditions.push(format!("m.channel_id IN ({})", channel_list.join(", ")));
    if let Some(author) = author {
        ints.push(author);
        conditions.push(format!("m.author_id = ${}", binds.len() + ints.len()));
    }
    let sql = format!(
        "SELECT m.id, m.body FROM {from} WHERE {} ORDER BY {order} LIMIT {CANDIDATES}",
        conditions.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(b);
    }
    for i in ints {
        query = query.bind(i);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("body")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_indexed_by_characters_and_pairs_other_text_by_words() {
        let terms = terms_of("我家在上海 Meeting!");
        for t in ["我", "上", "海", "上海", "在上", "meeting"] {
            assert!(terms.contains(t), "{t}: {terms:?}");
        }
        assert!(!terms.contains("Meeting"));
    }

    #[test]
    fn queries_look_up_pairs_and_prefixes() {
        let (terms, runs) = plan(&["上海东".into(), "会".into(), "meet".into(), "at".into()]);
        assert_eq!(
            terms,
            [
                Term::Exact("上海".into()),
                Term::Exact("海东".into()),
                Term::Exact("会".into()),
                Term::Prefix("meet".into()),
                Term::Exact("at".into()),
            ]
        );
        assert_eq!(runs, ["上海东"]);
    }
}
