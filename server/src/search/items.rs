//! The searchbox over the office modules' items: a mail one holds, a notice published to one.
//! Each module says, in its own folder, which of its items a user may read and how an item
//! reads (`Searchable`); this file keeps their terms (`item_terms`, written in the command's
//! transaction) and runs a query over every module at once. A search walks only the items the
//! user may read, so a term common in everyone's mail costs nothing for someone who holds
//! little of it.

use sqlx::Row;
use xietong::notify::Module;
use xietong::search::{snippet, ItemHit, SearchQuery, MAX_QUERY_CHARS, MAX_RESULTS};
use xietong::CurrentUser;

use crate::org::audience::placeholders;
use crate::search::{plan, terms_of, SearchError, Term};
use crate::store::{Conn, Store, StoreError};

/// How a module's items are searched. Both queries are plain SQL on either engine.
pub struct Searchable {
    pub module: Module,
    /// Columns `id`, `title`, `body`, `author` (a username), `at` of the module's items, the
    /// item table aliased `x`; a `WHERE` clause is added after it.
    pub items: &'static str,
    /// The ids (column `id`) of the items the user `$1` may read now.
    pub readable: &'static str,
    /// The page that opens item `id`.
    pub href: fn(i64) -> String,
}

/// Every module the searchbox looks in.
fn modules() -> [&'static Searchable; 2] {
    [&crate::mail::SEARCHABLE, &crate::notices::SEARCHABLE]
}

/// Candidates read per module before checking them against the text.
const CANDIDATES: usize = 200;
/// Items indexed per transaction by the start-up pass.
const BACKFILL_BATCH: i64 = 200;

/// Puts an item's title and text in the index, in place of what it said before (in the
/// caller's transaction).
pub async fn index(
    conn: &mut Conn,
    module: Module,
    id: i64,
    title: &str,
    body: &str,
) -> Result<(), StoreError> {
    unindex(conn, module, id).await?;
    let mut terms: Vec<String> = terms_of(&format!("{title}\n{body}")).into_iter().collect();
    // The empty term says the item is indexed (the start-up pass skips it).
    terms.push(String::new());
    for chunk in terms.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1, $2)", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO item_terms (term, module, item_id) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(module.as_str()).bind(id);
        for term in chunk {
            query = query.bind(term.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Takes an item out of the index (it is gone).
pub async fn unindex(conn: &mut Conn, module: Module, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM item_terms WHERE module = $1 AND item_id = $2")
        .bind(module.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Indexes items stored before the index existed, a batch per transaction. Runs in the
/// background at start-up.
pub async fn backfill(store: &Store) -> Result<u64, StoreError> {
    let mut done = 0;
    for searchable in modules() {
        let module = searchable.module.as_str();
        loop {
            let mut tx = store.pool().begin().await?;
            let sql = format!(
                "{} WHERE NOT EXISTS (SELECT 1 FROM item_terms t
                     WHERE t.term = '' AND t.module = $1 AND t.item_id = x.id)
                 ORDER BY x.id LIMIT $2",
                searchable.items
            );
            let rows = sqlx::query(&sql)
                .bind(module)
                .bind(BACKFILL_BATCH)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let title: String = row.try_get("title")?;
                let body: String = row.try_get("body")?;
                index(&mut tx, searchable.module, id, &title, &body).await?;
            }
            tx.commit().await?;
            done += rows.len() as u64;
        }
    }
    Ok(done)
}

/// The items matching `query` that `user` may read, newest first, from every module.
pub async fn search_items(
    store: &Store,
    user: &CurrentUser,
    query: &str,
) -> Result<Vec<ItemHit>, SearchError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::TooLong);
    }
    let parsed = SearchQuery::parse(query);
    // `in:` names a channel: items are in none.
    if parsed.words.is_empty() || parsed.in_channel.is_some() {
        return Ok(Vec::new());
    }
    let mut tx = store.read().await?;
    let (terms, runs) = plan(&parsed.words);
    let mut expanded = Vec::with_capacity(terms.len());
    for term in terms {
        let term = term.expand_in(&mut tx, "item_terms").await?;
        if matches!(&term, Term::AnyOf(words) if words.is_empty()) {
            return Ok(Vec::new());
        }
        expanded.push(term);
    }
    let from = parsed.from.as_ref().map(|name| name.to_lowercase());
    let first = &parsed.words[0];
    let mut hits: Vec<ItemHit> = Vec::new();
    for searchable in modules() {
        let ids = readable_matching(&mut tx, searchable, user, &expanded).await?;
        for chunk in ids.chunks(100) {
            let sql = format!(
                "{} WHERE x.id IN ({})",
                searchable.items,
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                let title: String = row.try_get("title")?;
                let body: String = row.try_get("body")?;
                let author: String = row.try_get("author")?;
                if from.as_ref().is_some_and(|f| *f != author.to_lowercase()) {
                    continue;
                }
                let text = format!("{title}\n{body}");
                let lower = text.to_lowercase();
                if !runs.iter().all(|run| lower.contains(run.as_str())) {
                    continue;
                }
                let snippet = match body.to_lowercase().find(first.as_str()) {
                    Some(at) if body.is_char_boundary(at) => snippet(&body, at, 90),
                    _ => body.chars().take(90).collect(),
                };
                let id: i64 = row.try_get("id")?;
                hits.push(ItemHit {
                    module: searchable.module,
                    id,
                    title,
                    by: author,
                    at: row.try_get("at")?,
                    snippet,
                    href: (searchable.href)(id),
                });
            }
        }
    }
    tx.commit().await?;
    hits.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    hits.truncate(MAX_RESULTS);
    Ok(hits)
}

/// Ids of the items of one module that `user` may read and that have every term, newest first.
async fn readable_matching(
    conn: &mut Conn,
    searchable: &Searchable,
    user: &CurrentUser,
    terms: &[Term],
) -> Result<Vec<i64>, SearchError> {
    let mut binds: Vec<String> = vec![searchable.module.as_str().to_owned()];
    let mut checks = Vec::with_capacity(terms.len());
    for (i, term) in terms.iter().enumerate() {
        let alias = format!("t{i}");
        let (condition, values) = term.condition(&alias, binds.len() + 2);
        binds.extend(values);
        checks.push(format!(
            "EXISTS (SELECT 1 FROM item_terms {alias}
                     WHERE {condition} AND {alias}.module = $2 AND {alias}.item_id = h.id)"
        ));
    }
    let sql = format!(
        "SELECT DISTINCT h.id FROM ({}) h WHERE {} ORDER BY h.id DESC LIMIT {CANDIDATES}",
        searchable.readable,
        checks.join(" AND ")
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(user.id.0);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    Ok(q.fetch_all(&mut *conn).await?)
}
