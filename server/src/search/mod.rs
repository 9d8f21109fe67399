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

use crate::command::{CommandError, Ctx};
use crate::store::{insert_rows, Cell, Conn, RowsInto, Store, StoreError};

pub mod items;

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

const SEARCH_TERMS: RowsInto = RowsInto {
    table: "search_terms",
    columns: "term, message_id",
    count: 2,
    then: "ON CONFLICT DO NOTHING",
};

/// A message's index rows: each of its terms, once.
fn term_rows(message: MessageId, body: &str) -> Vec<Vec<Cell>> {
    terms_of(body)
        .into_iter()
        .map(|term| vec![term.into(), message.0.into()])
        .collect()
}

/// Adds a message's terms to the index (in the caller's transaction).
pub async fn index(conn: &mut Conn, message: MessageId, body: &str) -> Result<(), StoreError> {
    insert_rows(conn, &SEARCH_TERMS, &term_rows(message, body)).await
}

/// Adds a new message's terms to the index with the command that posts it: no post reads the
/// index, so a batch of posts writes all their terms together (`Ctx::add_rows`).
pub async fn index_posted(
    ctx: &mut Ctx<'_>,
    message: MessageId,
    body: &str,
) -> Result<(), CommandError> {
    ctx.add_rows(&SEARCH_TERMS, term_rows(message, body)).await
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
                if store.engine() == crate::store::Engine::Postgres {
                    // Marks the new entries' pages all-visible, so index-only scans (the term
                    // counts that choose how a search runs) skip the table: counting 20,000
                    // entries of a word took 75-125 ms before, 3-4 ms after, on 1M messages.
                    sqlx::query("VACUUM ANALYZE search_terms")
                        .execute(store.pool())
                        .await?;
                }
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
pub(crate) enum Term {
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
    pub(crate) fn condition(&self, alias: &str, n: usize) -> (String, Vec<String>) {
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
        self.expand_in(conn, "search_terms").await
    }

    /// `expand`, over the terms of another index with the same shape (`term` column).
    pub(crate) async fn expand_in(self, conn: &mut Conn, table: &str) -> Result<Term, StoreError> {
        let Term::Prefix(prefix) = self else {
            return Ok(self);
        };
        let upper = format!("{prefix}\u{10FFFF}");
        let mut words: Vec<String> = Vec::new();
        let mut after = prefix.clone();
        let mut first = true;
        while words.len() < MAX_PREFIX_WORDS {
            let sql = if first {
                format!("SELECT min(term) FROM {table} WHERE term >= $1 AND term < $2")
            } else {
                format!("SELECT min(term) FROM {table} WHERE term > $1 AND term < $2")
            };
            let next: Option<String> = sqlx::query_scalar(&sql)
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
pub(crate) fn plan(words: &[String]) -> (Vec<Term>, Vec<String>) {
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
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
                    .bind(xietong::validate::username_fold(name))
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
    // Without a phrase to check in the text every candidate is a result: twice the results
    // leaves room for a message that comes once per word of a prefix.
    let limit = if runs.is_empty() {
        2 * MAX_RESULTS
    } else {
        CANDIDATES
    };
    let walks = store.engine() == crate::store::Engine::Postgres;
    let candidates = candidates(
        &mut tx,
        &terms,
        &channels,
        author,
        drive_limit,
        walks,
        limit,
    )
    .await?;
    // A message is found by its text and by the names of its files (both were indexed).
    let file_names = attachment_names(&mut tx, &candidates).await?;
    let mut found: Vec<MessageId> = Vec::new();
    for (id, body) in candidates {
        // A message holding two words of one prefix comes once per word when lists are joined.
        if found.last() == Some(&MessageId(id)) {
            continue;
        }
        let mut lower = body.to_lowercase();
        if let Some(names) = file_names.get(&id) {
            lower.push('\n');
            lower.push_str(&names.to_lowercase());
        }
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

/// The names of the files attached to `candidates`, by message.
async fn attachment_names(
    conn: &mut Conn,
    candidates: &[(i64, String)],
) -> Result<BTreeMap<i64, String>, StoreError> {
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    for chunk in candidates.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT message_id, name FROM files WHERE message_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for (id, _) in chunk {
            query = query.bind(*id);
        }
        for (message, name) in query.fetch_all(&mut *conn).await? {
            let entry = names.entry(message).or_default();
            entry.push('\n');
            entry.push_str(&name);
        }
    }
    Ok(names)
}

/// Candidate messages (id, body), newest first, at most `limit`: driven by the term with the
/// fewest entries, every other term checked by index lookups, limited to the user's channels.
async fn candidates(
    conn: &mut Conn,
    terms: &[Term],
    channels: &[xietong::Channel],
    author: Option<i64>,
    drive_limit: i64,
    // PostgreSQL walks (see `walk`); SQLite's planner does well with the plain query below.
    walks: bool,
    limit: usize,
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
    if walks {
        return walk(conn, terms, channels, author, limit).await;
    }
    let mut binds: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    // A rare term drives: its entries, newest first. When every term is common, one term is
    // walked newest first with the others checked by index lookups; several common terms are
    // intersected as sets (each entry list read once, in index order).
    let mut driver: Option<usize> = None;
    let mut fewest = i64::MAX;
    for (i, term) in terms.iter().enumerate() {
        let n = entries(conn, term, drive_limit).await?;
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
        from = format!(
            "({}) d JOIN messages m ON m.id = d.message_id",
            sets.join(" INTERSECT ")
        );
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
        "SELECT m.id, m.body FROM {from} WHERE {} ORDER BY m.id DESC LIMIT {limit}",
        conditions.join(" AND ")
    );
    read_candidates(conn, &sql, binds, ints).await
}

/// PostgreSQL's candidates: walks the rarest term's entries newest first (one backward range
/// of the `(term, message_id)` index per word, merged), checks every other term, and the
/// message's channel, author and deletion, by one index lookup each, and stops at `limit`.
/// Each lookup is fenced (`OFFSET 0`) so the planner cannot turn it into a join that reads
/// whole entry lists and the messages table, as it did when several common words were asked
/// for at once (0.5 to 0.7 s on a million messages).
async fn walk(
    conn: &mut Conn,
    terms: &[Term],
    channels: &[xietong::Channel],
    author: Option<i64>,
    limit: usize,
) -> Result<Vec<(i64, String)>, SearchError> {
    // Counted up to DRIVE_LIMIT only: right after a bulk load (before VACUUM) an index-only
    // scan still visits the table, and counting a common word in full cost more than the walk.
    let mut counts = Vec::with_capacity(terms.len());
    for term in terms.iter().filter(|_| terms.len() > 1) {
        counts.push(entries(conn, term, DRIVE_LIMIT).await?);
    }
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let driver = (0..counts.len()).min_by_key(|&i| counts[i]).unwrap_or(0);
    let mut binds: Vec<String> = Vec::new();
    let words = match &terms[driver] {
        Term::Exact(word) | Term::Prefix(word) => vec![word.clone()],
        Term::AnyOf(words) => words.clone(),
    };
    let mut driving: Vec<String> = Vec::with_capacity(words.len());
    for word in words {
        binds.push(word);
        driving.push(format!(
            "SELECT message_id FROM search_terms WHERE term = ${}",
            binds.len()
        ));
    }
    let mut checks: Vec<String> = Vec::new();
    for (i, term) in terms.iter().enumerate().filter(|(i, _)| *i != driver) {
        let alias = format!("t{i}");
        let (cond, values) = term.condition(&alias, binds.len() + 1);
        binds.extend(values);
        checks.push(format!(
            "EXISTS (SELECT 1 FROM search_terms {alias} WHERE {cond} AND {alias}.message_id = d.message_id OFFSET 0)"
        ));
    }
    let mut ints: Vec<i64> = Vec::new();
    let mut placeholders: Vec<String> = Vec::with_capacity(channels.len());
    for channel in channels {
        ints.push(channel.id.0);
        placeholders.push(format!("${}", binds.len() + ints.len()));
    }
    let mut on_message = vec![
        "m.id = d.message_id".to_owned(),
        "m.deleted = 0".to_owned(),
        format!("m.channel_id IN ({})", placeholders.join(", ")),
    ];
    if let Some(author) = author {
        ints.push(author);
        on_message.push(format!("m.author_id = ${}", binds.len() + ints.len()));
    }
    let filter = if checks.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", checks.join(" AND "))
    };
    let sql = format!(
        "SELECT m.id, m.body FROM ({}) d
         CROSS JOIN LATERAL (SELECT m.id, m.body FROM messages m WHERE {} OFFSET 0) m
         {filter}
         ORDER BY d.message_id DESC LIMIT {limit}",
        driving.join(" UNION ALL "),
        on_message.join(" AND "),
    );
    read_candidates(conn, &sql, binds, ints).await
}

/// How many index entries a term has, counted up to `cap`.
async fn entries(conn: &mut Conn, term: &Term, cap: i64) -> Result<i64, StoreError> {
    let (cond, values) = term.condition("t", 1);
    let sql =
        format!("SELECT count(*) FROM (SELECT 1 FROM search_terms t WHERE {cond} LIMIT {cap}) x");
    let mut q = sqlx::query_scalar::<_, i64>(&sql);
    for v in values {
        q = q.bind(v);
    }
    Ok(q.fetch_one(&mut *conn).await?)
}

/// Runs a candidates query (`id`, `body` columns) with its text binds first, then its numbers.
async fn read_candidates(
    conn: &mut Conn,
    sql: &str,
    binds: Vec<String>,
    ints: Vec<i64>,
) -> Result<Vec<(i64, String)>, SearchError> {
    let mut query = sqlx::query(sql);
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
