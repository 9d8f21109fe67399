//! Mentions: whom a message names with `@`, resolved against the users table once, when the
//! message is posted or edited, and kept on the message (`messages.mentions` as `id:name` pairs,
//! `messages.mentions_all`) so a later read marks exactly the same names.

use std::collections::BTreeSet;

use sqlx::Row;
use xietong::chat::{mention_prefixes, mention_runs, MENTION_EVERYONE};
use xietong::UserId;

use crate::store::{Conn, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// The people named, by id and username, in id order.
    pub users: Vec<(UserId, String)>,
    /// `@channel`, `@all` or `@here`.
    pub all: bool,
}

impl Mentions {
    /// Finds the mentions in `body`: for each `@run`, the longest prefix that is a username.
    pub async fn resolve(conn: &mut Conn, body: &str) -> Result<Mentions, StoreError> {
        let texts = super::markdown::mentionable_text(body);
        let runs: Vec<(usize, &str)> = texts.iter().flat_map(|t| mention_runs(t)).collect();
        let all = runs
            .iter()
            .any(|(_, run)| MENTION_EVERYONE.contains(&run.to_lowercase().as_str()));
        // As typed and lowercased: SQLite's lower() folds ASCII letters only.
        let wanted: BTreeSet<String> = runs
            .iter()
            .flat_map(|(_, run)| mention_prefixes(run))
            .flat_map(|name| [name.to_owned(), name.to_lowercase()])
            .filter(|name| !MENTION_EVERYONE.contains(&name.to_lowercase().as_str()))
            .collect();
        if wanted.is_empty() {
            return Ok(Mentions {
                users: Vec::new(),
                all,
            });
        }
        let placeholders: Vec<String> = (1..=wanted.len()).map(|i| format!("${i}")).collect();
        let list = placeholders.join(", ");
        let sql = format!(
            "SELECT id, username FROM users WHERE username IN ({list}) OR lower(username) IN ({list})"
        );
        let mut query = sqlx::query(&sql);
        for name in &wanted {
            query = query.bind(name);
        }
        let found: Vec<(i64, String)> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("username")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let mut users: Vec<(UserId, String)> = Vec::new();
        for (_, run) in &runs {
            let hit = mention_prefixes(run).find_map(|prefix| {
                let prefix = prefix.to_lowercase();
                found.iter().find(|(_, name)| name.to_lowercase() == prefix)
            });
            if let Some((id, name)) = hit {
                if !users.iter().any(|(u, _)| u.0 == *id) {
                    users.push((UserId(*id), name.clone()));
                }
            }
        }
        users.sort_by_key(|(id, _)| *id);
        Ok(Mentions { users, all })
    }

    /// The lowercase names the rendered HTML marks.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.users.iter().map(|(_, n)| n.to_lowercase()).collect();
        if self.all {
            names.extend(MENTION_EVERYONE.iter().map(|s| (*s).to_owned()));
        }
        names
    }

    pub fn ids(&self) -> Vec<UserId> {
        self.users.iter().map(|(id, _)| *id).collect()
    }

    /// The `messages.mentions` column: `3:bob,17:张伟` (usernames hold neither `:` nor `,`).
    pub fn column(&self) -> String {
        self.users
            .iter()
            .map(|(id, name)| format!("{id}:{name}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_columns(column: &str, all: bool) -> Mentions {
        let users = column
            .split(',')
            .filter_map(|pair| {
                let (id, name) = pair.split_once(':')?;
                Some((UserId(id.parse().ok()?), name.to_owned()))
            })
            .collect();
        Mentions { users, all }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_round_trips() {
        let m = Mentions {
            users: vec![(UserId(3), "bob".into()), (UserId(17), "张伟".into())],
            all: true,
        };
        assert_eq!(m.column(), "3:bob,17:张伟");
        assert_eq!(Mentions::from_columns(&m.column(), true), m);
        assert_eq!(Mentions::from_columns("", false), Mentions::default());
        assert!(m.names().contains(&"here".to_owned()));
    }
}
