//! The notification centre: the one place every module raises notifications through. A
//! notification is an entry in the person's "Notifications" list (a `notified` event in their
//! user scope) and, as their settings say, rows in the outbox for email, SMS and webhook,
//! written in the same transaction. The delivery worker (`outbox`) hands those over.

pub mod centre;
pub mod outbox;
pub mod send;
pub mod settings;

use std::collections::BTreeMap;

use xietong::notify::{Module, Note, NotificationSettings, Via, NOTE_TEXT_CHARS};
use xietong::{EventBody, Scope, UserId};

use crate::command::{CommandError, Ctx};

/// Which ways out a deployment has configured (an SMTP server, an SMS gateway; webhooks
/// always, once a person sets one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outlets {
    pub email: bool,
    pub sms: bool,
    pub webhook: bool,
    /// Internal mail may go to outside addresses too (over SMTP).
    pub outside_mail: bool,
}

impl Outlets {
    pub fn has(&self, via: Via) -> bool {
        match via {
            Via::App => true,
            Via::Email => self.email,
            Via::Sms => self.sms,
            Via::Webhook => self.webhook,
        }
    }

    pub fn of(config: &crate::config::Config) -> Outlets {
        Outlets {
            email: config.smtp_url.is_some(),
            sms: config.sms_url.is_some(),
            webhook: true,
            outside_mail: config.mail_outside && config.smtp_url.is_some(),
        }
    }
}

/// A notification to raise.
pub struct Raise<'a> {
    pub note: Note,
    pub to: &'a [UserId],
    /// Email, SMS and webhook wait this long (milliseconds) and go only to those who have not
    /// read `item` by then (`"notice:5"`): an escalation. `None`: they go now.
    pub escalate: Option<(i64, String)>,
    /// Only the ways out, not the in-app list (the list already has it: a chat message).
    pub outside_only: bool,
}

/// Outbox rows are inserted this many per statement.
const OUTBOX_CHUNK: usize = 100;

/// Raises a notification for each person in `raise.to`: in the app, and out by the ways each
/// one allows (SMS only when urgent; quiet hours hold back all but urgent word).
pub async fn raise(ctx: &mut Ctx<'_>, raise: Raise<'_>) -> Result<(), CommandError> {
    let mut note = raise.note;
    note.text = note.text.chars().take(NOTE_TEXT_CHARS).collect();
    let settings = settings::of_many(ctx.conn(), raise.to).await?;
    let outlets = ctx.outlets();
    let now = ctx.now();
    let mut outbox: Vec<(UserId, Via, i64)> = Vec::new();
    for &user in raise.to {
        let mine = settings.get(&user).cloned().unwrap_or_default();
        let delivery = mine.for_module(note.module);
        if delivery.app && !raise.outside_only {
            let seq = ctx
                .append(
                    Scope::User(user),
                    xietong::notify::NotifyEvent::Notified { note: note.clone() },
                )
                .await?;
            centre::keep(ctx, user, seq, &note).await?;
        }
        for via in Via::OUTSIDE {
            if !delivery.allows(via)
                || !outlets.has(via)
                || (via == Via::Sms && !note.urgent)
                || (via == Via::Webhook && mine.webhook.is_none())
            {
                continue;
            }
            outbox.push((
                user,
                via,
                due_at(&mine, &note, now, raise.escalate.as_ref()),
            ));
        }
    }
    let sender = note
        .from
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let unless_read = raise.escalate.as_ref().map(|(_, item)| item.clone());
    for chunk in outbox.chunks(OUTBOX_CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = 12 + 3 * i;
                format!(
                    "(${}, ${}, $1, $2, $3, $4, $5, $6, $7, ${}, $8, $9, $10, $11)",
                    b,
                    b + 1,
                    b + 2
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO outbox (user_id, via, module, title, body, href, sender, urgent,
                                 unless_read, due_at, state, error, created_at, item)
             VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(note.module.as_str())
            .bind(&note.title)
            .bind(&note.text)
            .bind(&note.href)
            .bind(&sender)
            .bind(i64::from(note.urgent))
            .bind(unless_read.clone())
            .bind("pending")
            .bind("")
            .bind(now)
            .bind(item_key(note.module, note.item));
        for (user, via, due) in chunk {
            query = query.bind(user.0).bind(via.as_str()).bind(*due);
        }
        query.execute(ctx.conn()).await?;
    }
    Ok(())
}

/// Something going by email to an address that is no user's (mail to an outside address).
pub struct Outside<'a> {
    pub address: &'a str,
    pub module: Module,
    pub item: i64,
    pub title: &'a str,
    /// The whole text: it goes as written (Markdown as plain text), not as a notification.
    pub text: &'a str,
}

/// Queues an email to an outside address in the outbox, in the command's transaction; the
/// actor is its sender (and its row is theirs). Delivered, retried and logged like every row.
pub async fn email_outside(ctx: &mut Ctx<'_>, outside: Outside<'_>) -> Result<(), CommandError> {
    let me = ctx.user()?.clone();
    let now = ctx.now();
    sqlx::query(
        "INSERT INTO outbox (user_id, via, module, title, body, href, sender, urgent, due_at,
                             state, error, created_at, item, address)
         VALUES ($1, 'email', $2, $3, $4, '', $5, 0, $6, 'pending', '', $6, $7, $8)",
    )
    .bind(me.id.0)
    .bind(outside.module.as_str())
    .bind(outside.title)
    .bind(outside.text)
    .bind(&me.username)
    .bind(now)
    .bind(item_key(outside.module, outside.item))
    .bind(outside.address)
    .execute(ctx.conn())
    .await?;
    Ok(())
}

/// When a row for this person is due: now, after an escalation's wait, and not in their quiet
/// hours unless it is urgent.
fn due_at(
    settings: &NotificationSettings,
    note: &Note,
    now: i64,
    escalate: Option<&(i64, String)>,
) -> i64 {
    let due = now + escalate.map_or(0, |(wait, _)| *wait);
    match (&settings.quiet_hours, note.urgent) {
        (Some(quiet), false) => quiet.end_after(due).unwrap_or(due),
        _ => due,
    }
}

/// Takes an item back from `user` (a recalled mail, a withdrawn notice): the stored events
/// that told them of it — those whose JSON starts with `told` — and its notification are
/// rewritten in their log to `removed` (a client replaying from the start finds nothing), the
/// notification leaves their list, and `removed` is appended for their open tabs.
pub async fn take_back(
    ctx: &mut Ctx<'_>,
    user: UserId,
    module: Module,
    item: i64,
    told: String,
    removed: impl Into<EventBody>,
) -> Result<(), CommandError> {
    let removed = removed.into();
    let scope = Scope::User(user);
    let notified = format!(
        "{{\"notified\":{{\"note\":{{\"module\":\"{}\",\"item\":{item},",
        module.as_str()
    );
    ctx.redact(scope, &[told, notified], &removed).await?;
    sqlx::query("DELETE FROM notes WHERE user_id = $1 AND module = $2 AND item_id = $3")
        .bind(user.0)
        .bind(module.as_str())
        .bind(item)
        .execute(ctx.conn())
        .await?;
    ctx.append(scope, removed).await?;
    Ok(())
}

/// Settings by person (the defaults for those without a row).
pub type SettingsByUser = BTreeMap<UserId, NotificationSettings>;

/// The module a notification key belongs to, for the outbox's `unless_read`.
pub fn item_key(module: Module, item: i64) -> String {
    format!("{}:{item}", module.as_str())
}

/// Whether `user` has read the thing an escalation is about (`"notices:5"`), so it need not
/// go out.
pub async fn read_already(
    conn: &mut crate::store::Conn,
    user: UserId,
    item: &str,
) -> Result<bool, crate::store::StoreError> {
    let Some((module, id)) = item.split_once(':') else {
        return Ok(false);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(false);
    };
    match Module::parse(module) {
        Some(Module::ShortMessages) => crate::short_messages::read_by(conn, id, user).await,
        Some(Module::Notices) => crate::notices::read_by(conn, id, user).await,
        Some(Module::Mail) => crate::mail::read_by(conn, id, user).await,
        _ => Ok(false),
    }
}
