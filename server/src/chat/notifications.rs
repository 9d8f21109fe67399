//! The "Notifications" list: a message that mentions someone, reaches them in a direct
//! conversation, or replies in a thread they follow carries a notice in its `message_unread`
//! event; the notice is kept here under that event's number in the user's scope. Looking at the
//! list (`see_notifications`) clears its count in every tab.

use sqlx::Row;
use xietong::chat::{
    Notice, NoticeKind, Notification, SeeNotifications, NOTICE_EXCERPT_CHARS, RECENT_NOTIFICATIONS,
};
use xietong::{
    Channel, ChannelId, CommandOutput, EventBody, Message, MessageId, Scope, Seq, UserId, UserRef,
};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// The notice a reader gets for a message, if any.
pub fn notice_for(channel: &Channel, message: &Message, mention: bool) -> Option<Notice> {
    let kind = if mention {
        NoticeKind::Mention
    } else if channel.kind.is_direct() {
        NoticeKind::Direct
    } else if message.thread.is_some() {
        NoticeKind::Reply
    } else {
        return None;
    };
    Some(Notice {
        kind,
        author: message.author.clone(),
        excerpt: message.body.chars().take(NOTICE_EXCERPT_CHARS).collect(),
        thread: message.thread,
    })
}

fn kind_str(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Mention => "mention",
        NoticeKind::Direct => "direct",
        NoticeKind::Reply => "reply",
    }
}

fn parse_kind(s: &str) -> NoticeKind {
    match s {
        "mention" => NoticeKind::Mention,
        "direct" => NoticeKind::Direct,
        _ => NoticeKind::Reply,
    }
}

/// Keeps a notice for `user` under `seq`, the number of its `message_unread` event.
pub async fn keep(
    ctx: &mut Ctx<'_>,
    user: UserId,
    seq: Seq,
    message: &Message,
    notice: &Notice,
) -> Result<(), CommandError> {
    let at = ctx.now();
    sqlx::query(
        "INSERT INTO notifications (user_id, seq, channel_id, message_id, kind, author_id, excerpt,
                                    thread_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.0)
    .bind(seq.0 as i64)
    .bind(message.channel.0)
    .bind(message.id.0)
    .bind(kind_str(notice.kind))
    .bind(notice.author.id.0)
    .bind(&notice.excerpt)
    .bind(notice.thread.map(|t| t.0))
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
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT max(seq) FROM notifications WHERE user_id = $1")
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
        EventBody::NotificationsSeen { up_to, unseen },
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
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND seq > $2")
            .bind(user.0)
            .bind(seen.0 as i64)
            .fetch_one(&mut *conn)
            .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// My newest notifications, how far I have seen them, and how many are unseen (the
/// workspace snapshot's part).
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
    let list = rows
        .iter()
        .map(|r| {
            Ok(Notification {
                id: Seq(r.try_get::<i64, _>("seq")?.max(0) as u64),
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
                at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let seen = seen_up_to(conn, user).await?;
    let unseen = unseen_after(conn, user, seen).await?;
    Ok((list, seen, unseen))
}
