//! Chat's commands: the writes to channels, members and messages (and `unread::join`, a reader
//! joining a public channel by opening it).

use xietong::chat::{AddMembers, CreateChannel, PostMessage, RemoveMember};
use xietong::limits::MAX_MEMBERS_PER_COMMAND;
use xietong::{
    Channel, ChannelId, ChannelKind, CommandOutput, Message, MessageId, Scope, UserId, UserRef,
};

use super::queries;
use crate::access::Need;
use crate::auth::queries::user_refs;
use crate::command::{Actor, CommandError, Ctx};

/// A message's row. No post reads another's row, so a batch of posts writes theirs together
/// (`Ctx::add_row_with_id`), except where one must be read or referred to at once.
const MESSAGES: crate::store::RowsInto = crate::store::RowsInto {
    table: "messages",
    columns: "channel_id, seq, author_id, body, created_at, client_id, thread_id, mentions,
              mentions_all, indexed, card",
    count: 11,
    then: "",
};

pub async fn post_message(
    ctx: &mut Ctx<'_>,
    command: &PostMessage,
) -> Result<CommandOutput, CommandError> {
    post(ctx, command, None).await
}

/// Posts a message, with a card under its text (something shared into the channel: whoever
/// shares it has checked that the channel may see it).
pub async fn post(
    ctx: &mut Ctx<'_>,
    command: &PostMessage,
    card: Option<xietong::chat::Card>,
) -> Result<CommandOutput, CommandError> {
    if command.attachments.len() > xietong::limits::MAX_ATTACHMENTS {
        return Err(CommandError::Invalid(format!(
            "at most {} files per message",
            xietong::limits::MAX_ATTACHMENTS
        )));
    }
    // With files attached or a card, the text may be left empty.
    let body =
        if (!command.attachments.is_empty() || card.is_some()) && command.body.trim().is_empty() {
            ""
        } else {
            xietong::validate::message_body(&command.body)?
        };
    let author = ctx.user()?.user_ref();
    let scope = Scope::Channel(command.channel);
    ctx.require(scope, Need::Write).await?;
    if let Some(root) = command.thread {
        // The root may be a message of this batch's, still held.
        ctx.write_held_rows().await?;
        start_or_join_thread(ctx, command.channel, root).await?;
    }
    let mentions = super::mentions::Mentions::resolve_in(ctx, command.channel, body).await?;
    let seq = ctx.next_seq(scope).await?;
    let at = ctx.now();
    let client_id = ctx.client_id().cloned();
    let card_json = card
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(crate::store::StoreError::from)?;
    let id = ctx
        .add_row_with_id(
            &MESSAGES,
            vec![
                command.channel.0.into(),
                (seq.0 as i64).into(),
                author.id.0.into(),
                body.into(),
                at.into(),
                client_id.as_ref().map(|c| c.0.clone()).into(),
                command.thread.map(|t| t.0).into(),
                mentions.column().into(),
                mentions.everyone_column().into(),
                1i64.into(),
                card_json.into(),
            ],
        )
        .await?;
    if !command.attachments.is_empty() || card.is_some() {
        // Attached files, and whoever shared the card, refer to the message row at once.
        ctx.write_held_rows().await?;
    }
    let attachments =
        crate::files::attach_to_message(ctx, &command.attachments, command.channel, MessageId(id))
            .await?;
    let message = Message {
        attachments,
        id: MessageId(id),
        channel: command.channel,
        seq,
        author,
        body: body.to_owned(),
        html: super::markdown::render(body, &mentions.names()),
        created_at: at,
        client_id,
        thread: command.thread,
        reply_count: 0,
        edited_at: None,
        deleted: false,
        pinned: false,
        reactions: Vec::new(),
        mentions: mentions.ids(),
        mentions_all: mentions.all,
        card,
    };
    let text =
        super::messages::searchable(body, message.attachments.iter().map(|f| f.name.as_str()));
    crate::search::index_posted(ctx, message.id, &text).await?;
    super::unread::count_unread(ctx, &message).await?;
    ctx.append_at(
        scope,
        seq,
        xietong::chat::ChatEvent::MessagePosted { message },
    )
    .await?;
    Ok(CommandOutput::MessagePosted {
        message: MessageId(id),
        scope,
        seq,
    })
}

/// Checks that a reply's root is a live top-level message of the same channel, and counts the
/// reply on it.
async fn start_or_join_thread(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    root: MessageId,
) -> Result<(), CommandError> {
    let updated = sqlx::query(
        "UPDATE messages SET reply_count = reply_count + 1
         WHERE id = $1 AND channel_id = $2 AND thread_id IS NULL AND deleted = 0",
    )
    .bind(root.0)
    .bind(channel.0)
    .execute(ctx.conn())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(CommandError::NotFound(
            "no such message to reply to in this channel".into(),
        ));
    }
    Ok(())
}

/// Creates a channel. Public ones are announced to everyone (the workspace scope); the others
/// only to their members, each in their own user scope. Starting a direct conversation that
/// exists returns it instead.
pub async fn create_channel(
    ctx: &mut Ctx<'_>,
    command: &CreateChannel,
) -> Result<CommandOutput, CommandError> {
    let creator = match ctx.actor() {
        Actor::User(user) => Some(user.user_ref()),
        Actor::System => None,
    };
    if command.members.len() > MAX_MEMBERS_PER_COMMAND {
        return Err(CommandError::Invalid(format!(
            "at most {MAX_MEMBERS_PER_COMMAND} members at once"
        )));
    }
    let mut member_ids: Vec<UserId> = command.members.clone();
    if let Some(creator) = &creator {
        member_ids.push(creator.id);
    }
    member_ids.sort();
    member_ids.dedup();
    let members = user_refs(ctx.conn(), &member_ids).await?;
    if members.len() != member_ids.len() {
        return Err(CommandError::Invalid("no such user".into()));
    }
    let (name, dm_key) = match command.kind {
        ChannelKind::Public | ChannelKind::Private => {
            let name = xietong::validate::channel_name(&command.name)?.to_owned();
            // Only names the creator can see are taken: every public channel's, and the
            // private channels they are in. Another private channel of the same name stays
            // unknown to them (refusing the name would tell them it exists).
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM channels c WHERE lower(c.name) = lower($1)
                   AND (c.kind = 'public'
                        OR (c.kind = 'private' AND EXISTS (
                              SELECT 1 FROM channel_members m
                               WHERE m.channel_id = c.id AND m.user_id = $2)))",
            )
            .bind(&name)
            .bind(creator.as_ref().map_or(0, |c| c.id.0))
            .fetch_optional(ctx.conn())
            .await?;
            if taken.is_some() {
                return Err(CommandError::Conflict(
                    "a channel with that name exists".into(),
                ));
            }
            (name, None)
        }
        ChannelKind::Direct | ChannelKind::GroupDirect => {
            if creator.is_none() {
                return Err(CommandError::Invalid("a conversation needs people".into()));
            }
            let expected = if command.kind == ChannelKind::Direct {
                (1..=2).contains(&members.len())
            } else {
                members.len() >= 3
            };
            if !expected {
                return Err(CommandError::Invalid(
                    "a direct message is between two people; a group between three or more".into(),
                ));
            }
            let key = member_ids
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM channels WHERE dm_key = $1")
                    .bind(&key)
                    .fetch_optional(ctx.conn())
                    .await?;
            if let Some(id) = existing {
                let channel = queries::channel(ctx.conn(), ChannelId(id))
                    .await?
                    .ok_or_else(|| CommandError::NotFound("no such channel".into()))?;
                return Ok(CommandOutput::ChannelCreated { channel });
            }
            let mut names: Vec<&str> = members.iter().map(|m| m.username.as_str()).collect();
            names.sort_unstable();
            (names.join(", "), Some(key))
        }
    };
    let at = ctx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO channels (name, kind, dm_key, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&name)
    .bind(command.kind.as_str())
    .bind(dm_key)
    .bind(creator.as_ref().map(|c| c.id.0))
    .bind(at)
    .fetch_one(ctx.conn())
    .await?;
    let channel = Channel {
        id: ChannelId(id),
        name,
        kind: command.kind,
        created_at: at,
    };
    let joining: &[UserRef] = if command.kind.members_only() {
        &members
    } else {
        // Anyone may read a public channel; its creator is its first member.
        match &creator {
            Some(c) => std::slice::from_ref(c),
            None => &[],
        }
    };
    for member in joining {
        insert_member(ctx, channel.id, member.id).await?;
    }
    if command.kind.members_only() {
        for member in &members {
            ctx.append(
                Scope::User(member.id),
                xietong::chat::ChatEvent::ChannelAdded {
                    channel: channel.clone(),
                },
            )
            .await?;
        }
    } else {
        ctx.append(
            Scope::Workspace,
            xietong::chat::ChatEvent::ChannelCreated {
                channel: channel.clone(),
            },
        )
        .await?;
    }
    Ok(CommandOutput::ChannelCreated { channel })
}

pub(super) async fn insert_member(
    ctx: &mut Ctx<'_>,
    channel: ChannelId,
    user: UserId,
) -> Result<(), CommandError> {
    let at = ctx.now();
    sqlx::query("INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3)")
        .bind(channel.0)
        .bind(user.0)
        .bind(at)
        .execute(ctx.conn())
        .await?;
    Ok(())
}

/// A group conversation whose members changed is no longer "the conversation between these
/// people": starting one with the original set makes a new one.
async fn forget_dm_key(ctx: &mut Ctx<'_>, channel: ChannelId) -> Result<(), CommandError> {
    sqlx::query("UPDATE channels SET dm_key = NULL WHERE id = $1")
        .bind(channel.0)
        .execute(ctx.conn())
        .await?;
    Ok(())
}

/// The channel, which must be one whose membership can change (private or group direct).
async fn membership_channel(ctx: &mut Ctx<'_>, id: ChannelId) -> Result<Channel, CommandError> {
    ctx.require(Scope::Channel(id), Need::Write).await?;
    let channel = queries::channel(ctx.conn(), id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such channel".into()))?;
    match channel.kind {
        ChannelKind::Private | ChannelKind::GroupDirect => Ok(channel),
        ChannelKind::Public => Err(CommandError::Invalid(
            "a public channel is open to everyone".into(),
        )),
        ChannelKind::Direct => Err(CommandError::Invalid(
            "start a group conversation to add people".into(),
        )),
    }
}

pub async fn add_members(
    ctx: &mut Ctx<'_>,
    command: &AddMembers,
) -> Result<CommandOutput, CommandError> {
    if command.users.is_empty() || command.users.len() > MAX_MEMBERS_PER_COMMAND {
        return Err(CommandError::Invalid(format!(
            "add 1 to {MAX_MEMBERS_PER_COMMAND} people at once"
        )));
    }
    let channel = membership_channel(ctx, command.channel).await?;
    let mut ids = command.users.clone();
    ids.sort();
    ids.dedup();
    let users = user_refs(ctx.conn(), &ids).await?;
    if users.len() != ids.len() {
        return Err(CommandError::Invalid("no such user".into()));
    }
    let current = queries::members(ctx.conn(), channel.id).await?;
    let added: Vec<UserRef> = users
        .into_iter()
        .filter(|u| !current.iter().any(|m| m.id == u.id))
        .collect();
    if !added.is_empty() {
        forget_dm_key(ctx, channel.id).await?;
    }
    for user in &added {
        insert_member(ctx, channel.id, user.id).await?;
        ctx.append(
            Scope::User(user.id),
            xietong::chat::ChatEvent::ChannelAdded {
                channel: channel.clone(),
            },
        )
        .await?;
    }
    if !added.is_empty() {
        ctx.append(
            Scope::Channel(channel.id),
            xietong::chat::ChatEvent::MembersChanged {
                channel: channel.id,
                added,
                removed: Vec::new(),
            },
        )
        .await?;
    }
    Ok(CommandOutput::MembersChanged {
        channel: channel.id,
    })
}

/// Removes a member: the member themself, the channel's creator or an admin may.
pub async fn remove_member(
    ctx: &mut Ctx<'_>,
    command: &RemoveMember,
) -> Result<CommandOutput, CommandError> {
    let channel = membership_channel(ctx, command.channel).await?;
    let actor = ctx.user()?;
    let creator: Option<i64> = sqlx::query_scalar("SELECT created_by FROM channels WHERE id = $1")
        .bind(channel.id.0)
        .fetch_optional(ctx.conn())
        .await?
        .flatten();
    let may = actor.is_admin || actor.id == command.user || creator == Some(actor.id.0);
    if !may {
        return Err(CommandError::Forbidden(
            "only the channel's creator or an admin may remove others".into(),
        ));
    }
    let removed = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
        .bind(channel.id.0)
        .bind(command.user.0)
        .execute(ctx.conn())
        .await?;
    if removed.rows_affected() == 0 {
        return Err(CommandError::NotFound("not a member".into()));
    }
    forget_dm_key(ctx, channel.id).await?;
    let user = user_refs(ctx.conn(), &[command.user])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| CommandError::NotFound("no such user".into()))?;
    ctx.append(
        Scope::Channel(channel.id),
        xietong::chat::ChatEvent::MembersChanged {
            channel: channel.id,
            added: Vec::new(),
            removed: vec![user],
        },
    )
    .await?;
    super::unread::forget(ctx, command.user, channel.id).await?;
    ctx.append(
        Scope::User(command.user),
        xietong::chat::ChatEvent::ChannelRemoved {
            channel: channel.id,
        },
    )
    .await?;
    Ok(CommandOutput::MembersChanged {
        channel: channel.id,
    })
}
