//! The "Notifications" list: chat's entries (a `message_unread` event that carried a notice,
//! kept in `notifications`) and the office modules' (a `notified` event, kept in `notes`),
//! both numbered by their event in the user's scope. Looking at the list
//! (`see_notifications`) clears its count in every tab.

use sqlx::Row;
use xietong::chat::{Notice, NoticeKind, SeeNotifications, RECENT_NOTIFICATIONS};
use xietong::notify::{About, Module, Note, Notification};
use xietong::{ChannelId, CommandOutput, MessageId, Scope, Seq, UserId, UserRef};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// Keeps an office module's notification for `user` under `seq`, its `notified` event's
/// number.
pub async fn keep(
    ctx: &mut Ctx<'_>,
    user: UserId,
    seq: Seq,
    note: &Note,
) -> Result<(), CommandError> {
    let at = ctx.now();
    sqlx::query(
        "INSERT INTO notes (user_id, seq, module, item_id, title, body, author_id, urgent, href,
                            created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(user.0)
    .bind(seq.0 as i64)
    .bind(note.module.as_str())
    .bind(note.item)
    .bind(&note.title)
    .bind(&note.text)
    .bind(note.from.as_ref().map(|u| u.id.0))
    .bind(i64::from(note.urgent))
    .bind(&note.href)
    .bind(at)
    .execute(ctx.conn())
    .await?;
    Ok(())
}

/// Marks my notifications seen up to `up_to` (at most my newest one).
pub async fn see(
    ctx: &mut Ctx<'_>,
    command: &SeeNotifications,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?.id;
    let seen = seen_up_to(ctx.conn(), user).await?;
    let newest: Option<i64> = sqlx::query_scalar(
        "SELECT max(seq) FROM (SELECT seq FROM notifications WHERE user_id = $1
                              UNION ALL SELECT seq FROM notes WHERE user_id = $1) n",
    )
    .bind(user.0)
    .fetch_one(ctx.conn())
    .await?;
    let up_to = command.up_to.min(Seq(newest.unwrap_or(0).max(0) as u64));
    if up_to <= seen {
        return Ok(CommandOutput::NotificationsSeen { up_to: None });
    }
    // My scope's next number first: notices committed before it are counted, later ones
    // come after it in every tab.
    let at = ctx.next_seq(Scope::User(user)).await?;
    sqlx::query(
        "INSERT INTO notifications_seen (user_id, seq) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq",
    )
    .bind(user.0)
    .bind(up_to.0 as i64)
    .execute(ctx.conn())
    .await?;
    let unseen = unseen_after(ctx.conn(), user, up_to).await?;
    ctx.append_at(
        Scope::User(user),
        at,
        xietong::chat::ChatEvent::NotificationsSeen { up_to, unseen },
    )
    .await?;
    Ok(CommandOutput::NotificationsSeen { up_to: Some(up_to) })
}

async fn seen_up_to(conn: &mut Conn, user: UserId) -> Result<Seq, StoreError> {
    let seen: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM notifications_seen WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(Seq(seen.unwrap_or(0).max(0) as u64))
}

async fn unseen_after(conn: &mut Conn, user: UserId, seen: Seq) -> Result<u32, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND seq > $2)
              + (SELECT count(*) FROM notes WHERE user_id = $1 AND seq > $2)",
    )
    .bind(user.0)
    .bind(seen.0 as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn parse_kind(s: &str) -> NoticeKind {
    match s {
        "mention" => NoticeKind::Mention,
        "direct" => NoticeKind::Direct,
        _ => NoticeKind::Reply,
    }
}

/// My newest notifications of every module, how far I have seen them, and how many are
/// unseen (the workspace snapshot's part).
pub async fn snapshot(
    conn: &mut Conn,
    user: UserId,
) -> Result<(Vec<Notification>, Seq, u32), StoreError> {
    let rows = sqlx::query(
        "SELECT n.seq, n.channel_id, n.message_id, n.kind, n.author_id, u.username, n.excerpt,
                n.thread_id, n.created_at
         FROM notifications n JOIN users u ON u.id = n.author_id
         WHERE n.user_id = $1 ORDER BY n.seq DESC LIMIT $2",
    )
    .bind(user.0)
    .bind(RECENT_NOTIFICATIONS as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = rows
        .iter()
        .map(|r| {
            Ok(Notification {
                id: Seq(r.try_get::<i64, _>("seq")?.max(0) as u64),
                at: r.try_get("created_at")?,
                about: About::Message {
                    channel: ChannelId(r.try_get("channel_id")?),
                    message: MessageId(r.try_get("message_id")?),
                    notice: Notice {
                        kind: parse_kind(&r.try_get::<String, _>("kind")?),
                        author: UserRef {
                            id: UserId(r.try_get("author_id")?),
                            username: r.try_get("username")?,
                        },
                        excerpt: r.try_get("excerpt")?,
                        thread: r.try_get::<Option<i64>, _>("thread_id")?.map(MessageId),
                    },
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let rows = sqlx::query(
        "SELECT n.seq, n.module, n.item_id, n.title, n.body, n.author_id, u.username, n.urgent,
                n.href, n.created_at
         FROM notes n LEFT JOIN users u ON u.id = n.author_id
         WHERE n.user_id = $1 ORDER BY n.seq DESC LIMIT $2",
    )
    .bind(user.0)
    .bind(RECENT_NOTIFICATIONS as i64)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let Some(module) = Module::parse(&r.try_get::<String, _>("module")?) else {
            continue;
        };
        let from = match (
            r.try_get::<Option<i64>, _>("author_id")?,
            r.try_get::<Option<String>, _>("username")?,
        ) {
            (Some(id), Some(username)) => Some(UserRef {
                id: UserId(id),
                username,
            }),
            _ => None,
        };
        list.push(Notification {
            id: Seq(r.try_get::<i64, _>("seq")?.max(0) as u64),
            at: r.try_get("created_at")?,
            about: About::Note(Note {
                module,
                item: r.try_get("item_id")?,
                title: r.try_get("title")?,
                text: r.try_get("body")?,
                from,
                urgent: crate::store::flag(r, "urgent")?,
                href: r.try_get("href")?,
            }),
        });
    }
    list.sort_by(|a, b| b.id.cmp(&a.id));
    list.truncate(RECENT_NOTIFICATIONS);
    let seen = seen_up_to(conn, user).await?;
    let unseen = unseen_after(conn, user, seen).await?;
    Ok((list, seen, unseen))
}
