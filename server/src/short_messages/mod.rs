//! 短信: short messages from one person to people, departments or roles. Sending resolves the
//! audience to its people, records each as a recipient, tells each in their user scope (the
//! message, and a notification through the notification centre: urgent ones go out by SMS to
//! those who allow it), and tells the sender's tabs. Reading one tells the reader's tabs and
//! the sender's ("read by").

use sqlx::Row;
use xietong::limits::{MAX_SHORT_MESSAGE_CHARS, MAX_SHORT_MESSAGE_RECIPIENTS};
use xietong::notify::{Module, Note};
use xietong::org::AudienceMember;
use xietong::short_messages::{
    ReadShortMessage, SendShortMessage, SentShortMessage, ShortMessage, ShortMessages,
    SHORT_MESSAGES_LISTED,
};
use xietong::{
    CommandOutput, CurrentUser, Scope, ShortMessageId, UserId, UserRef, ValidationError,
};

use crate::access::{self, Denied, ShortMessageRole};
use crate::command::{CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

/// Recipients written per statement.
const CHUNK: usize = 200;

pub async fn send(
    ctx: &mut Ctx<'_>,
    command: &SendShortMessage,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?;
    let text = command.text.trim();
    let chars = text.chars().count();
    if chars == 0
        || chars > MAX_SHORT_MESSAGE_CHARS
        || text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ValidationError::ShortMessageText.into());
    }
    let audience = crate::org::audience::checked(ctx.conn(), &command.to).await?;
    let mut recipients = crate::org::audience::resolve(ctx.conn(), &audience).await?;
    recipients.remove(&me.id);
    if recipients.is_empty() {
        return Err(CommandError::Invalid(
            "nobody to send it to but yourself".into(),
        ));
    }
    if recipients.len() > MAX_SHORT_MESSAGE_RECIPIENTS {
        return Err(CommandError::Invalid(format!(
            "a short message reaches at most {MAX_SHORT_MESSAGE_RECIPIENTS} people"
        )));
    }
    let recipients: Vec<UserId> = recipients.into_iter().collect();
    let at = ctx.now();
    let audience_json = serde_json::to_string(&audience).map_err(StoreError::CorruptEvent)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO short_messages (sender_id, audience, body, urgent, recipients, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(me.id.0)
    .bind(&audience_json)
    .bind(text)
    .bind(i64::from(command.urgent))
    .bind(recipients.len() as i64)
    .bind(at)
    .fetch_one(ctx.conn())
    .await?;
    let id = ShortMessageId(id);
    for chunk in recipients.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO short_message_recipients (message_id, user_id) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(id.0);
        for user in chunk {
            query = query.bind(user.0);
        }
        query.execute(ctx.conn()).await?;
    }
    let from = UserRef {
        id: me.id,
        username: me.username.clone(),
    };
    ctx.append(
        Scope::User(me.id),
        xietong::short_messages::ShortMessageEvent::ShortMessageSent {
            message: SentShortMessage {
                id,
                to: audience,
                text: text.to_owned(),
                urgent: command.urgent,
                at,
                recipients: recipients.len() as u32,
                read_by: Vec::new(),
            },
        },
    )
    .await?;
    let received = ShortMessage {
        id,
        from: from.clone(),
        text: text.to_owned(),
        urgent: command.urgent,
        at,
        read_at: None,
    };
    for &user in &recipients {
        ctx.append(
            Scope::User(user),
            xietong::short_messages::ShortMessageEvent::ShortMessageReceived {
                message: received.clone(),
            },
        )
        .await?;
    }
    let note = Note {
        module: Module::ShortMessages,
        item: id.0,
        title: text.chars().take(60).collect(),
        text: text.to_owned(),
        from: Some(from),
        urgent: command.urgent,
        href: format!("/messages?m={id}"),
    };
    crate::notify::raise(
        ctx,
        crate::notify::Raise {
            note,
            to: &recipients,
            escalate: None,
            outside_only: false,
        },
    )
    .await?;
    Ok(CommandOutput::ShortMessageSent {
        id,
        recipients: recipients.len() as u32,
    })
}

pub async fn read(
    ctx: &mut Ctx<'_>,
    command: &ReadShortMessage,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?;
    match access::short_message(ctx.conn(), me, command.id).await? {
        Some(ShortMessageRole::Recipient) => {}
        // The sender has nothing to read; anyone else may not know it exists.
        _ => return Err(Denied::NotFound("short message").into()),
    }
    let at = ctx.now();
    let changed = sqlx::query(
        "UPDATE short_message_recipients SET read_at = $1
         WHERE message_id = $2 AND user_id = $3 AND read_at IS NULL",
    )
    .bind(at)
    .bind(command.id.0)
    .bind(me.id.0)
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(CommandOutput::ShortMessageRead {
            id: command.id,
            seq: None,
        });
    }
    let sender: i64 = sqlx::query_scalar("SELECT sender_id FROM short_messages WHERE id = $1")
        .bind(command.id.0)
        .fetch_one(ctx.conn())
        .await?;
    let seq = ctx
        .append(
            Scope::User(me.id),
            xietong::short_messages::ShortMessageEvent::ShortMessageRead { id: command.id, at },
        )
        .await?;
    ctx.append(
        Scope::User(UserId(sender)),
        xietong::short_messages::ShortMessageEvent::ShortMessageReadBy {
            id: command.id,
            reader: UserRef {
                id: me.id,
                username: me.username.clone(),
            },
        },
    )
    .await?;
    Ok(CommandOutput::ShortMessageRead {
        id: command.id,
        seq: Some(seq),
    })
}

/// Whether `user` has read short message `id` (for an escalation).
pub async fn read_by(conn: &mut Conn, id: i64, user: UserId) -> Result<bool, StoreError> {
    let read: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT read_at FROM short_message_recipients WHERE message_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(matches!(read, Some(Some(_))))
}

/// My short messages, received and sent, with my user scope's head.
pub async fn snapshot(store: &Store, user: &CurrentUser) -> Result<ShortMessages, Denied> {
    let mut tx = store.read().await?;
    let scope = Scope::User(user.id);
    access::check(&mut tx, user, scope, access::Need::Read).await?;
    let head = store::head(&mut tx, scope).await?;
    let rows = sqlx::query(
        "SELECT m.id, m.sender_id, u.username, m.body, m.urgent, m.created_at, r.read_at
         FROM short_message_recipients r
         JOIN short_messages m ON m.id = r.message_id
         JOIN users u ON u.id = m.sender_id
         WHERE r.user_id = $1 ORDER BY m.id DESC LIMIT $2",
    )
    .bind(user.id.0)
    .bind(SHORT_MESSAGES_LISTED as i64)
    .fetch_all(&mut *tx)
    .await?;
    let received = rows
        .iter()
        .map(|r| {
            Ok(ShortMessage {
                id: ShortMessageId(r.try_get("id")?),
                from: UserRef {
                    id: UserId(r.try_get("sender_id")?),
                    username: r.try_get("username")?,
                },
                text: r.try_get("body")?,
                urgent: store::flag(r, "urgent")?,
                at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let rows = sqlx::query(
        "SELECT id, audience, body, urgent, recipients, created_at FROM short_messages
         WHERE sender_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user.id.0)
    .bind(SHORT_MESSAGES_LISTED as i64)
    .fetch_all(&mut *tx)
    .await?;
    let mut sent = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let to: Vec<AudienceMember> =
            serde_json::from_str(&r.try_get::<String, _>("audience")?).map_err(StoreError::from)?;
        let read_by: Vec<(i64, String)> = sqlx::query_as(
            "SELECT u.id, u.username FROM short_message_recipients r JOIN users u ON u.id = r.user_id
             WHERE r.message_id = $1 AND r.read_at IS NOT NULL ORDER BY r.read_at, u.id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        sent.push(SentShortMessage {
            id: ShortMessageId(id),
            to,
            text: r.try_get("body")?,
            urgent: store::flag(r, "urgent")?,
            at: r.try_get("created_at")?,
            recipients: u32::try_from(r.try_get::<i64, _>("recipients")?).unwrap_or(0),
            read_by: read_by
                .into_iter()
                .map(|(id, username)| UserRef {
                    id: UserId(id),
                    username,
                })
                .collect(),
        });
    }
    tx.commit().await?;
    Ok(ShortMessages {
        head,
        received,
        sent,
    })
}
