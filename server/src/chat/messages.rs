//! Changes to posted messages: edits (the earlier body kept), deletes, reactions and pins. Each
//! is one event in the message's channel scope, applied by every browser with the same rules
//! the rows below follow, so a fresh read equals the events applied.

use xietong::chat::{DeleteMessage, EditMessage, PinMessage, React};
use xietong::limits::MAX_REACTIONS_PER_MESSAGE;
use xietong::{ChannelId, CommandOutput, MessageId, Scope};

use xietong::settings::WorkspaceSettings;

use crate::access::Need;
use crate::command::{CommandError, Ctx};

/// What a change needs to know about its message.
struct Target {
    channel: ChannelId,
    author: i64,
    deleted: bool,
    pinned: bool,
    created_at: i64,
}

impl Target {
    fn scope(&self) -> Scope {
        Scope::Channel(self.channel)
    }
}

/// The message, once the actor may `need` its channel. A message in a channel the actor cannot
/// read is "not found", as if it did not exist.
async fn target(ctx: &mut Ctx<'_>, id: MessageId, need: Need) -> Result<Target, CommandError> {
    let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT channel_id, author_id, deleted, pinned, created_at FROM messages WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(ctx.conn())
    .await?;
    let Some((channel, author, deleted, pinned, created_at)) = row else {
        return Err(CommandError::NotFound("no such message".into()));
    };
    let target = Target {
        channel: ChannelId(channel),
        author,
        deleted: deleted != 0,
        pinned: pinned != 0,
        created_at,
    };
    ctx.require(target.scope(), need)
        .await
        .map_err(|e| match e {
            CommandError::Forbidden(_) => CommandError::NotFound("no such message".into()),
            other => other,
        })?;
    Ok(target)
}

/// Takes a message's current text out of the search index; whether it was in it (a message
/// the background pass has not reached yet is indexed by it, with its text as it then is).
async fn drop_from_search(ctx: &mut Ctx<'_>, id: MessageId) -> Result<bool, CommandError> {
    let (body, indexed): (String, i64) =
        sqlx::query_as("SELECT body, indexed FROM messages WHERE id = $1")
            .bind(id.0)
            .fetch_one(ctx.conn())
            .await?;
    if indexed != 0 {
        let text = searchable_text(ctx.conn(), id, &body).await?;
        crate::search::unindex(ctx.conn(), id, &text).await?;
    }
    Ok(indexed != 0)
}

/// What search finds a message by: its text and the names of its files.
pub(super) fn searchable<'a>(body: &'a str, names: impl Iterator<Item = &'a str>) -> String {
    std::iter::once(body)
        .chain(names)
        .collect::<Vec<_>>()
        .join("\n")
}

async fn searchable_text(
    conn: &mut crate::store::Conn,
    id: MessageId,
    body: &str,
) -> Result<String, CommandError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM files WHERE message_id = $1 ORDER BY id")
            .bind(id.0)
            .fetch_all(&mut *conn)
            .await?;
    Ok(searchable(body, names.iter().map(String::as_str)))
}

/// Refuses a change to one's own message after the admin's time limit for it.
fn within_window(
    ctx: &Ctx<'_>,
    target: &Target,
    window: Option<u32>,
    what: &str,
) -> Result<(), CommandError> {
    if WorkspaceSettings::within(window, target.created_at, ctx.now()) {
        return Ok(());
    }
    Err(CommandError::Forbidden(match window {
        Some(0) => format!("messages cannot be {what} in this workspace"),
        Some(n) => format!("messages can be {what} for {n} minutes after posting"),
        None => String::new(),
    }))
}

fn changed(message: MessageId, scope: Scope, seq: Option<xietong::Seq>) -> CommandOutput {
    CommandOutput::MessageChanged {
        message,
        scope,
        seq,
    }
}

/// Keeps the body being replaced in `message_edits`.
async fn keep_old_body(ctx: &mut Ctx<'_>, id: MessageId) -> Result<(), CommandError> {
    let user = ctx.user()?.id;
    let at = ctx.now();
    sqlx::query(
        "INSERT INTO message_edits (message_id, body, replaced_at, replaced_by)
         SELECT id, body, $2, $3 FROM messages WHERE id = $1",
    )
    .bind(id.0)
    .bind(at)
    .bind(user.0)
    .execute(ctx.conn())
    .await?;
    Ok(())
}

pub async fn edit_message(
    ctx: &mut Ctx<'_>,
    command: &EditMessage,
) -> Result<CommandOutput, CommandError> {
    let body = xietong::validate::message_body(&command.body)?.to_owned();
    let user = ctx.user()?;
    let target = target(ctx, command.message, Need::Write).await?;
    if target.author != user.id.0 {
        return Err(CommandError::Forbidden(
            "only the author may edit a message".into(),
        ));
    }
    if target.deleted {
        return Err(CommandError::NotFound("the message was deleted".into()));
    }
    let window = crate::settings::workspace(ctx.conn())
        .await?
        .edit_window_minutes;
    within_window(ctx, &target, window, "edited")?;
    let (old_body, old_mentions, old_everyone): (String, String, i64) =
        sqlx::query_as("SELECT body, mentions, mentions_all FROM messages WHERE id = $1")
            .bind(command.message.0)
            .fetch_one(ctx.conn())
            .await?;
    let before = super::mentions::Mentions::from_columns(&old_mentions, old_everyone);
    keep_old_body(ctx, command.message).await?;
    if drop_from_search(ctx, command.message).await? {
        let text = searchable_text(ctx.conn(), command.message, &body).await?;
        crate::search::index(ctx.conn(), command.message, &text).await?;
    }
    let at = ctx.now();
    // The new text's mentions are marked; nobody is notified again for an edit.
    let mentions =
        super::mentions::Mentions::resolve_edit(ctx.conn(), &old_body, &before, &body).await?;
    sqlx::query(
        "UPDATE messages SET body = $2, edited_at = $3, mentions = $4, mentions_all = $5 WHERE id = $1",
    )
    .bind(command.message.0)
    .bind(&body)
    .bind(at)
    .bind(mentions.column())
    .bind(mentions.everyone_column())
    .execute(ctx.conn())
    .await?;
    if !mentions.all {
        super::unread::forget_mentions(ctx, target.channel, command.message, &mentions.ids())
            .await?;
    }
    let seq = ctx
        .append(
            target.scope(),
            xietong::chat::ChatEvent::MessageEdited {
                message: command.message,
                html: super::markdown::render(&body, &mentions.names()),
                body,
                edited_at: at,
                mentions: mentions.ids(),
                mentions_all: mentions.all,
            },
        )
        .await?;
    Ok(changed(command.message, target.scope(), Some(seq)))
}

/// The author deletes their own message; an admin any. The body is kept in the edit history.
pub async fn delete_message(
    ctx: &mut Ctx<'_>,
    command: &DeleteMessage,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?;
    let target = target(ctx, command.message, Need::Read).await?;
    if target.author != user.id.0 && !user.is_admin {
        return Err(CommandError::Forbidden(
            "only the author or an admin may delete a message".into(),
        ));
    }
    if target.deleted {
        return Ok(changed(command.message, target.scope(), None));
    }
    if !user.is_admin {
        let window = crate::settings::workspace(ctx.conn())
            .await?
            .delete_window_minutes;
        within_window(ctx, &target, window, "deleted")?;
    }
    keep_old_body(ctx, command.message).await?;
    drop_from_search(ctx, command.message).await?;
    sqlx::query("UPDATE messages SET body = '', deleted = 1, pinned = 0, mentions = '', mentions_all = 0, card = NULL WHERE id = $1")
        .bind(command.message.0)
        .execute(ctx.conn())
        .await?;
    sqlx::query("DELETE FROM message_reactions WHERE message_id = $1")
        .bind(command.message.0)
        .execute(ctx.conn())
        .await?;
    // Its files go with it: unreadable from now on, and no longer counted to anyone's quota.
    sqlx::query("DELETE FROM files WHERE message_id = $1")
        .bind(command.message.0)
        .execute(ctx.conn())
        .await?;
    super::unread::forget_deleted(ctx, target.channel, command.message).await?;
    let seq = ctx
        .append(
            target.scope(),
            xietong::chat::ChatEvent::MessageDeleted {
                message: command.message,
            },
        )
        .await?;
    Ok(changed(command.message, target.scope(), Some(seq)))
}

/// Anyone who may write the channel reacts; adding a reaction one has (or taking back one
/// one has not) changes nothing and appends nothing.
pub async fn react(ctx: &mut Ctx<'_>, command: &React) -> Result<CommandOutput, CommandError> {
    let emoji = xietong::validate::emoji(&command.emoji)?.to_owned();
    let user = ctx.user()?.id;
    let target = target(ctx, command.message, Need::Write).await?;
    if target.deleted {
        return Err(CommandError::NotFound("the message was deleted".into()));
    }
    let mine: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM message_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
    )
    .bind(command.message.0)
    .bind(&emoji)
    .bind(user.0)
    .fetch_optional(ctx.conn())
    .await?;
    if mine.is_some() == command.on {
        return Ok(changed(command.message, target.scope(), None));
    }
    let seq = ctx.next_seq(target.scope()).await?;
    if command.on {
        let since: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(emoji_since) FROM message_reactions WHERE message_id = $1 AND emoji = $2",
        )
        .bind(command.message.0)
        .bind(&emoji)
        .fetch_one(ctx.conn())
        .await?;
        if since.is_none() {
            let kinds: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT emoji) FROM message_reactions WHERE message_id = $1",
            )
            .bind(command.message.0)
            .fetch_one(ctx.conn())
            .await?;
            if kinds as usize >= MAX_REACTIONS_PER_MESSAGE {
                return Err(CommandError::Invalid(format!(
                    "at most {MAX_REACTIONS_PER_MESSAGE} different reactions on a message"
                )));
            }
        }
        sqlx::query(
            "INSERT INTO message_reactions (message_id, emoji, user_id, seq, emoji_since)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(command.message.0)
        .bind(&emoji)
        .bind(user.0)
        .bind(seq.0 as i64)
        .bind(since.unwrap_or(seq.0 as i64))
        .execute(ctx.conn())
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM message_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
        )
        .bind(command.message.0)
        .bind(&emoji)
        .bind(user.0)
        .execute(ctx.conn())
        .await?;
    }
    ctx.append_at(
        target.scope(),
        seq,
        xietong::chat::ChatEvent::ReactionChanged {
            message: command.message,
            emoji,
            user,
            on: command.on,
        },
    )
    .await?;
    Ok(changed(command.message, target.scope(), Some(seq)))
}

/// Anyone who may write the channel pins and unpins (as in Mattermost and Slack).
pub async fn pin_message(
    ctx: &mut Ctx<'_>,
    command: &PinMessage,
) -> Result<CommandOutput, CommandError> {
    let target = target(ctx, command.message, Need::Write).await?;
    if target.deleted {
        return Err(CommandError::NotFound("the message was deleted".into()));
    }
    if target.pinned == command.pinned {
        return Ok(changed(command.message, target.scope(), None));
    }
    sqlx::query("UPDATE messages SET pinned = $2 WHERE id = $1")
        .bind(command.message.0)
        .bind(i64::from(command.pinned))
        .execute(ctx.conn())
        .await?;
    let seq = ctx
        .append(
            target.scope(),
            xietong::chat::ChatEvent::MessagePinned {
                message: command.message,
                pinned: command.pinned,
            },
        )
        .await?;
    Ok(changed(command.message, target.scope(), Some(seq)))
}
