//! Mentions: whom a message names with `@`, resolved against the users table once, when the
//! message is posted or edited, and kept on the message (`messages.mentions` as `id:name` pairs,
//! `messages.mentions_all`) so a later read marks exactly the same names.
//!
//! `@channel` and `@all` mention every member; `@here` (as in Mattermost and Slack) only the
//! members online at that moment, so it is resolved to those people when the message is written.

use std::collections::BTreeSet;

use sqlx::Row;
use xietong::chat::{mention_prefixes, mention_runs, MENTION_EVERYONE};
use xietong::{ChannelId, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// `messages.mentions_all`: 0 none, 1 `@channel`/`@all`, 2 `@here` only.
const EVERYONE: i64 = 1;
const HERE: i64 = 2;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// The people named, by id and username, in id order (with `@here`, also the members who
    /// were online).
    pub users: Vec<(UserId, String)>,
    /// `@channel` or `@all`.
    pub all: bool,
    /// `@here`.
    pub here: bool,
}

impl Mentions {
    /// The mentions of a new message in `channel`: the names in `body`, and with `@here`
    /// (unless `@channel` says more) the channel's members who are online now, but not its
    /// author.
    pub async fn resolve_in(
        ctx: &mut Ctx<'_>,
        channel: ChannelId,
        body: &str,
    ) -> Result<Mentions, CommandError> {
        let mut mentions = Mentions::resolve(ctx.conn(), body).await?;
        if mentions.here && !mentions.all {
            let members: Vec<(i64, String)> = sqlx::query_as(
                "SELECT u.id, u.username FROM channel_members m JOIN users u ON u.id = m.user_id
                 WHERE m.channel_id = $1",
            )
            .bind(channel.0)
            .fetch_all(ctx.conn())
            .await?;
            let author = ctx.user()?.id;
            for (id, name) in members {
                let id = UserId(id);
                let named = mentions.users.iter().any(|(u, _)| *u == id);
                if id != author && !named && ctx.is_online(id) {
                    mentions.users.push((id, name));
                }
            }
            mentions.users.sort_by_key(|(id, _)| *id);
        }
        Ok(mentions)
    }

    /// The mentions of an edited message: the names in the new text and, while `@here` is
    /// still in it, the people the posted `@here` reached (who was online then, not now: an
    /// edit notifies nobody, so it must not mark anyone new either).
    pub async fn resolve_edit(
        conn: &mut Conn,
        old_body: &str,
        old: &Mentions,
        new_body: &str,
    ) -> Result<Mentions, StoreError> {
        let mut mentions = Mentions::resolve(conn, new_body).await?;
        if mentions.here && !mentions.all && old.here {
            let named_before = Mentions::resolve(conn, old_body).await?.ids();
            for (id, name) in &old.users {
                let kept = mentions.users.iter().any(|(u, _)| u == id);
                if !named_before.contains(id) && !kept {
                    mentions.users.push((*id, name.clone()));
                }
            }
            mentions.users.sort_by_key(|(id, _)| *id);
        }
        Ok(mentions)
    }

    /// Finds the mentions in `body`: for each `@run`, the longest prefix that is a username.
    pub async fn resolve(conn: &mut Conn, body: &str) -> Result<Mentions, StoreError> {
        let texts = super::markdown::mentionable_text(body);
        let runs: Vec<(usize, &str)> = texts.iter().flat_map(|t| mention_runs(t)).collect();
        let said = |word: &str| runs.iter().any(|(_, run)| run.eq_ignore_ascii_case(word));
        let all = said("channel") || said("all");
        let here = said("here");
        let wanted: BTreeSet<String> = runs
            .iter()
            .flat_map(|(_, run)| mention_prefixes(run))
            .map(xietong::validate::username_fold)
            .filter(|name| !MENTION_EVERYONE.contains(&name.as_str()))
            .collect();
        if wanted.is_empty() {
            return Ok(Mentions {
                users: Vec::new(),
                all,
                here,
            });
        }
        let placeholders: Vec<String> = (1..=wanted.len()).map(|i| format!("${i}")).collect();
        let list = placeholders.join(", ");
        let sql = format!("SELECT id, username FROM users WHERE username_key IN ({list})");
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
                let prefix = xietong::validate::username_fold(prefix);
                found
                    .iter()
                    .find(|(_, name)| xietong::validate::username_fold(name) == prefix)
            });
            if let Some((id, name)) = hit {
                if !users.iter().any(|(u, _)| u.0 == *id) {
                    users.push((UserId(*id), name.clone()));
                }
            }
        }
        users.sort_by_key(|(id, _)| *id);
        Ok(Mentions { users, all, here })
    }

    /// The lowercase names the rendered HTML marks.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.users.iter().map(|(_, n)| n.to_lowercase()).collect();
        // Rows written before `@here` was told apart say `all` for any of the three words.
        if self.all {
            names.extend(MENTION_EVERYONE.iter().map(|s| (*s).to_owned()));
        } else if self.here {
            names.push("here".to_owned());
        }
        names
    }

    /// The `messages.mentions_all` column.
    pub fn everyone_column(&self) -> i64 {
        if self.all {
            EVERYONE
        } else if self.here {
            HERE
        } else {
            0
        }
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

    pub fn from_columns(column: &str, everyone: i64) -> Mentions {
        let users = column
            .split(',')
            .filter_map(|pair| {
                let (id, name) = pair.split_once(':')?;
                Some((UserId(id.parse().ok()?), name.to_owned()))
            })
            .collect();
        Mentions {
            users,
            all: everyone == EVERYONE,
            here: everyone == HERE,
        }
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
            here: false,
        };
        assert_eq!(m.column(), "3:bob,17:张伟");
        assert_eq!(Mentions::from_columns(&m.column(), m.everyone_column()), m);
        assert_eq!(Mentions::from_columns("", 0), Mentions::default());
        assert!(m.names().contains(&"here".to_owned()));
        let here = Mentions {
            users: Vec::new(),
            all: false,
            here: true,
        };
        assert_eq!(Mentions::from_columns("", here.everyone_column()), here);
        assert_eq!(here.names(), ["here"]);
    }
}
