//! Unread counts and mentions. A message counts as unread for the people it concerns — the
//! channel's members, a thread's followers, whoever it mentions — each in their own user scope
//! (`message_unread`), so every tab of theirs shows the count without watching the channel.
//! Reading a channel (`mark_read`) writes `channel_read` with what is still unread after it.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use xietong::chat::{ChannelUnread, MarkRead};
use xietong::{
    Channel, ChannelId, ChannelKind, CommandOutput, CurrentUser, Message, Scope, Seq, UserId,
};

use super::queries;
use crate::access::Need;
use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// Counts a new message as unread for everyone it concerns (never its author), and makes the
/// author of a reply, the thread's first author and anyone mentioned in it follow the thread.
pub async fn count_unread(ctx: &mut Ctx<'_>, message: &Message) -> Result<(), CommandError> {
    let known = ctx
        .batch_facts::<ChannelsRead>()
        .0
        .get(&message.channel)
        .cloned();
    let read = match known {
        Some(read) => read,
        None => {
            let read = std::sync::Arc::new(read_channel(ctx, message.channel).await?);
            ctx.batch_facts::<ChannelsRead>()
                .0
                .insert(message.channel, read.clone());
            read
        }
    };
    let (channel, members) = (&read.0, &read.1);
    let may_read = |user: &UserId| !channel.kind.members_only() || members.contains(user);
    // Reader → whether the message mentions them.
    let mut readers: BTreeMap<UserId, bool> = BTreeMap::new();
    match message.thread {
        None => readers.extend(members.iter().map(|m| (*m, false))),
        Some(root) => {
            sqlx::query(
                "INSERT INTO thread_followers (root_id, user_id)
                 SELECT id, author_id FROM messages WHERE id = $1
                 ON CONFLICT DO NOTHING",
            )
            .bind(root.0)
            .execute(ctx.conn())
            .await?;
            let followers: Vec<i64> =
                sqlx::query_scalar("SELECT user_id FROM thread_followers WHERE root_id = $1")
                    .bind(root.0)
                    .fetch_all(ctx.conn())
                    .await?;
            readers.extend(
                followers
                    .into_iter()
                    .map(UserId)
                    .filter(may_read)
                    .map(|f| (f, false)),
            );
        }
    }
    let mut mentioned = message.mentions.clone();
    if message.mentions_all {
        mentioned.extend(members.iter().copied());
    }
    for user in mentioned.into_iter().filter(may_read) {
        readers.insert(user, true);
    }
    if let Some(root) = message.thread {
        let followers = readers
            .iter()
            .filter(|(_, mention)| **mention)
            .map(|(u, _)| *u)
            .chain([message.author.id]);
        for user in followers.collect::<Vec<_>>() {
            sqlx::query(
                "INSERT INTO thread_followers (root_id, user_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(root.0)
            .bind(user.0)
            .execute(ctx.conn())
            .await?;
        }
    }
    readers.remove(&message.author.id);
    mark_unread(ctx, channel.id, message.seq, &readers).await?;
    let user_scopes: BTreeSet<Scope> = readers.keys().map(|u| Scope::User(*u)).collect();
    let seqs = ctx.next_seqs(&user_scopes).await?;
    // Those told about it who have the app open nowhere: word goes out to them too.
    let mut away = Vec::new();
    for (user, mention) in readers {
        let notice = super::notifications::notice_for(&channel, message, mention);
        let at = seqs.get(&Scope::User(user)).copied().ok_or_else(|| {
            StoreError::Db(sqlx::Error::Protocol(
                "a reader's scope took no number".into(),
            ))
        })?;
        if let Some(notice) = &notice {
            super::notifications::keep(ctx, user, at, message, notice).await?;
            if !ctx.is_online(user) {
                away.push(user);
            }
        }
        ctx.append_at(
            Scope::User(user),
            at,
            xietong::chat::ChatEvent::MessageUnread {
                channel: channel.id,
                message: message.id,
                seq: message.seq,
                mention,
                notice,
            },
        )
        .await?;
    }
    if !away.is_empty() && ctx.outlets() != crate::notify::Outlets::default() {
        let note = xietong::notify::Note {
            module: xietong::notify::Module::Chat,
            item: message.id.0,
            title: message.body.chars().take(80).collect(),
            text: message.body.clone(),
            from: Some(message.author.clone()),
            urgent: false,
            href: format!(
                "/c/{}?m={}",
                channel.id,
                message.thread.unwrap_or(message.id)
            ),
        };
        let raise = crate::notify::Raise {
            note,
            to: &away,
            escalate: None,
            outside_only: true,
        };
        crate::notify::raise(ctx, raise).await?;
    }
    Ok(())
}

/// A channel and its members, as read by the first message of a batch posted to it. Posting
/// changes neither, so the batch's later messages there reuse them (`Ctx::batch_facts`, which
/// keeps one value per type: hence a type of its own).
#[derive(Default)]
struct ChannelsRead(std::collections::HashMap<ChannelId, std::sync::Arc<(Channel, Vec<UserId>)>>);

async fn read_channel(
    ctx: &mut Ctx<'_>,
    id: ChannelId,
) -> Result<(Channel, Vec<UserId>), CommandError> {
    let channel = queries::channel(ctx.conn(), id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such channel".into()))?;
    let members: Vec<UserId> =
        sqlx::query_scalar("SELECT user_id FROM channel_members WHERE channel_id = $1")
            .bind(channel.id.0)
            .fetch_all(ctx.conn())
            .await?
            .into_iter()
            .map(UserId)
            .collect();
    Ok((channel, members))
}

const UNREAD_MESSAGES: crate::store::RowsInto = crate::store::RowsInto {
    table: "unread_messages",
    columns: "user_id, channel_id, seq, mention",
    count: 4,
    then: "",
};

/// Records `message_seq` of `channel` as unread for each reader (with whether it mentions
/// them). No post reads these rows, so a batch of posts writes them together
/// (`Ctx::add_rows`).
async fn mark_unread(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    message_seq: Seq,
    readers: &BTreeMap<UserId, bool>,
) -> Result<(), CommandError> {
    let rows = readers
        .iter()
        .map(|(user, mention)| {
            vec![
                user.0.into(),
                channel.0.into(),
                (message_seq.0 as i64).into(),
                i64::from(*mention).into(),
            ]
        })
        .collect();
    ctx.add_rows(&UNREAD_MESSAGES, rows).await
}

/// Marks a channel read up to `seq` (at most its head). Opening a public channel makes the
/// reader a member: its messages count as unread for them from then on.
pub async fn mark_read(
    ctx: &mut Ctx<'_>,
    command: &MarkRead,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?;
    let scope = Scope::Channel(command.channel);
    ctx.require(scope, Need::Read).await?;
    let channel = queries::channel(ctx.conn(), command.channel)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such channel".into()))?;
    let mut seq = command.seq.min(ctx.head(scope).await?);
    if channel.kind == ChannelKind::Public && join(ctx, channel.id, user.id).await? {
        // Joining is part of what the reader has now seen.
        seq = ctx
            .append(
                scope,
                xietong::chat::ChatEvent::MembersChanged {
                    channel: channel.id,
                    added: vec![user.user_ref()],
                    removed: Vec::new(),
                },
            )
            .await?;
    }
    let last_read: Option<i64> = sqlx::query_scalar(
        "SELECT last_read FROM channel_reads WHERE user_id = $1 AND channel_id = $2",
    )
    .bind(user.id.0)
    .bind(channel.id.0)
    .fetch_optional(ctx.conn())
    .await?;
    if last_read.is_some_and(|last| last >= seq.0 as i64) {
        return Ok(CommandOutput::MarkedRead {
            channel: channel.id,
            seq: None,
        });
    }
    if channel.kind.is_direct()
        && crate::settings::of(ctx.conn(), user.id)
            .await?
            .read_receipts
    {
        // "Seen" for the others: the receipt is itself part of what I have read.
        seq = ctx.next_seq(scope).await?;
        sqlx::query(
            "INSERT INTO read_receipts (channel_id, user_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT (channel_id, user_id) DO UPDATE SET seq = excluded.seq",
        )
        .bind(channel.id.0)
        .bind(user.id.0)
        .bind(seq.0 as i64)
        .execute(ctx.conn())
        .await?;
        ctx.append_at(
            scope,
            seq,
            xietong::chat::ChatEvent::MessagesSeen { user: user.id, seq },
        )
        .await?;
    }
    // Take my scope's next number first: it orders this read after every `message_unread` of
    // mine already committed and before any still to come, so the counts below are exact.
    let mine = Scope::User(user.id);
    let at = ctx.next_seq(mine).await?;
    // Never backwards, even when two tabs' reads race: the stored position is the one used.
    let stored: i64 = sqlx::query_scalar(
        "INSERT INTO channel_reads (user_id, channel_id, last_read) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, channel_id) DO UPDATE SET last_read = CASE
             WHEN excluded.last_read > channel_reads.last_read THEN excluded.last_read
             ELSE channel_reads.last_read END
         RETURNING last_read",
    )
    .bind(user.id.0)
    .bind(channel.id.0)
    .bind(seq.0 as i64)
    .fetch_one(ctx.conn())
    .await?;
    let seq = Seq(stored.max(0) as u64);
    sqlx::query("DELETE FROM unread_messages WHERE user_id = $1 AND channel_id = $2 AND seq <= $3")
        .bind(user.id.0)
        .bind(channel.id.0)
        .bind(seq.0 as i64)
        .execute(ctx.conn())
        .await?;
    let (unread, mentions) = counts_after(ctx.conn(), user.id, channel.id, seq).await?;
    ctx.append_at(
        mine,
        at,
        xietong::chat::ChatEvent::ChannelRead {
            channel: channel.id,
            seq,
            unread,
            mentions,
        },
    )
    .await?;
    Ok(CommandOutput::MarkedRead {
        channel: channel.id,
        seq: Some(seq),
    })
}

/// A deleted message no longer counts as unread: everyone it was unread for gets their
/// channel's counts again (`channel_read` at their unchanged read position).
pub async fn forget_deleted(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    message: xietong::MessageId,
) -> Result<(), CommandError> {
    let Some(posted) = seq_of(ctx, message).await? else {
        return Ok(());
    };
    let readers: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM unread_messages WHERE channel_id = $1 AND seq = $2 RETURNING user_id",
    )
    .bind(channel.0)
    .bind(posted)
    .fetch_all(ctx.conn())
    .await?;
    report_counts(ctx, channel, readers).await
}

/// An edit took mentions out of a message: those it no longer names (everyone but `still`)
/// have it counted as unread, no longer as a mention, in their scopes at once.
pub async fn forget_mentions(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    message: xietong::MessageId,
    still: &[UserId],
) -> Result<(), CommandError> {
    let Some(posted) = seq_of(ctx, message).await? else {
        return Ok(());
    };
    let mentioned: Vec<i64> = sqlx::query_scalar(
        "SELECT user_id FROM unread_messages WHERE channel_id = $1 AND seq = $2 AND mention = 1",
    )
    .bind(channel.0)
    .bind(posted)
    .fetch_all(ctx.conn())
    .await?;
    let mut readers = Vec::new();
    for user in mentioned
        .into_iter()
        .filter(|u| !still.contains(&UserId(*u)))
    {
        sqlx::query(
            "UPDATE unread_messages SET mention = 0 WHERE channel_id = $1 AND seq = $2 AND user_id = $3",
        )
        .bind(channel.0)
        .bind(posted)
        .bind(user)
        .execute(ctx.conn())
        .await?;
        readers.push(user);
    }
    report_counts(ctx, channel, readers).await
}

/// Where a message stands in its channel's log (`None`: no such message).
async fn seq_of(
    ctx: &mut Ctx<'_>,
    message: xietong::MessageId,
) -> Result<Option<i64>, CommandError> {
    Ok(sqlx::query_scalar("SELECT seq FROM messages WHERE id = $1")
        .bind(message.0)
        .fetch_optional(ctx.conn())
        .await?)
}

/// Tells each reader, in their own scope, their counts in `channel` after a change.
async fn report_counts(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    readers: Vec<i64>,
) -> Result<(), CommandError> {
    for reader in readers.into_iter().map(UserId) {
        // As in `mark_read`: my scope's number first, then the counts it reports.
        let mine = Scope::User(reader);
        let at = ctx.next_seq(mine).await?;
        let last_read: Option<i64> = sqlx::query_scalar(
            "SELECT last_read FROM channel_reads WHERE user_id = $1 AND channel_id = $2",
        )
        .bind(reader.0)
        .bind(channel.0)
        .fetch_optional(ctx.conn())
        .await?;
        let seq = Seq(last_read.unwrap_or(0).max(0) as u64);
        let (unread, mentions) = counts_after(ctx.conn(), reader, channel, seq).await?;
        ctx.append_at(
            mine,
            at,
            xietong::chat::ChatEvent::ChannelRead {
                channel,
                seq,
                unread,
                mentions,
            },
        )
        .await?;
    }
    Ok(())
}

async fn counts_after(
    conn: &mut Conn,
    user: UserId,
    channel: ChannelId,
    seq: Seq,
) -> Result<(u32, u32), StoreError> {
    let row = sqlx::query(
        "SELECT count(*) AS unread, CAST(coalesce(sum(mention), 0) AS BIGINT) AS mentions FROM unread_messages
         WHERE user_id = $1 AND channel_id = $2 AND seq > $3",
    )
    .bind(user.0)
    .bind(channel.0)
    .bind(seq.0 as i64)
    .fetch_one(&mut *conn)
    .await?;
    let unread: i64 = row.try_get("unread")?;
    let mentions: i64 = row.try_get("mentions")?;
    Ok((
        u32::try_from(unread).unwrap_or(u32::MAX),
        u32::try_from(mentions).unwrap_or(u32::MAX),
    ))
}

/// Makes `user` a member of a public channel; false when they already were (also when another
/// node's command just made them one).
async fn join(ctx: &mut Ctx<'_>, channel: ChannelId, user: UserId) -> Result<bool, CommandError> {
    let at = ctx.now();
    let added = sqlx::query(
        "INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(channel.0)
    .bind(user.0)
    .bind(at)
    .execute(ctx.conn())
    .await?;
    Ok(added.rows_affected() > 0)
}

/// Drops what a user who lost access to a channel had unread or followed in it.
pub async fn forget(
    ctx: &mut Ctx<'_>,
    user: UserId,
    channel: ChannelId,
) -> Result<(), CommandError> {
    for sql in [
        "DELETE FROM unread_messages WHERE user_id = $1 AND channel_id = $2",
        "DELETE FROM channel_reads WHERE user_id = $1 AND channel_id = $2",
        "DELETE FROM read_receipts WHERE user_id = $1 AND channel_id = $2",
        "DELETE FROM thread_followers WHERE user_id = $1
           AND root_id IN (SELECT id FROM messages WHERE channel_id = $2)",
    ] {
        sqlx::query(sql)
            .bind(user.0)
            .bind(channel.0)
            .execute(ctx.conn())
            .await?;
    }
    Ok(())
}

/// Where `user` stands in each of `channels` they have read or have unread messages in (the
/// workspace snapshot's part; read in the snapshot's transaction).
pub async fn snapshot(
    conn: &mut Conn,
    user: &CurrentUser,
    channels: &[ChannelId],
) -> Result<Vec<ChannelUnread>, StoreError> {
    let mut by_channel: BTreeMap<ChannelId, ChannelUnread> = BTreeMap::new();
    let reads: Vec<(i64, i64)> =
        sqlx::query_as("SELECT channel_id, last_read FROM channel_reads WHERE user_id = $1")
            .bind(user.id.0)
            .fetch_all(&mut *conn)
            .await?;
    for (channel, last_read) in reads {
        by_channel.insert(
            ChannelId(channel),
            ChannelUnread {
                channel: ChannelId(channel),
                last_read: Seq(last_read.max(0) as u64),
                ..Default::default()
            },
        );
    }
    let counts = sqlx::query(
        "SELECT u.channel_id, count(*) AS unread, CAST(coalesce(sum(u.mention), 0) AS BIGINT) AS mentions
         FROM unread_messages u
         LEFT JOIN channel_reads r ON r.user_id = u.user_id AND r.channel_id = u.channel_id
         WHERE u.user_id = $1 AND u.seq > coalesce(r.last_read, 0)
         GROUP BY u.channel_id",
    )
    .bind(user.id.0)
    .fetch_all(&mut *conn)
    .await?;
    for row in counts {
        let channel = ChannelId(row.try_get("channel_id")?);
        let entry = by_channel.entry(channel).or_insert_with(|| ChannelUnread {
            channel,
            ..Default::default()
        });
        entry.unread = u32::try_from(row.try_get::<i64, _>("unread")?).unwrap_or(u32::MAX);
        entry.mentions = u32::try_from(row.try_get::<i64, _>("mentions")?).unwrap_or(u32::MAX);
    }
    Ok(by_channel
        .into_values()
        .filter(|u| channels.contains(&u.channel))
        .collect())
}

/// The read receipts of a direct conversation (the history page's `seen`).
pub async fn receipts(
    conn: &mut Conn,
    channel: ChannelId,
) -> Result<Vec<xietong::chat::SeenBy>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT user_id, seq FROM read_receipts WHERE channel_id = $1 ORDER BY user_id",
    )
    .bind(channel.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, seq)| xietong::chat::SeenBy {
            user: UserId(user),
            seq: Seq(seq.max(0) as u64),
        })
        .collect())
}
