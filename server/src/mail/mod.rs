//! 内部邮件 (internal mail). One `mails` row per mail and one `mail_boxes` row per holder's copy
//! (the sender's and each recipient's), which says where it sits (its folder), when the holder
//! read it, and whether it was recalled from them. Everything a holder sees of a mail is told
//! to them alone, in their user scope: the mail as they may see it (`mail_saved`), their own
//! reads and moves, and — for the sender — each recipient's receipt (`mail_receipt`).

use std::collections::BTreeSet;

use xietong::files::FileInfo;
use xietong::mail::*;
use xietong::notify::{Module, Note};
use xietong::{CommandOutput, CurrentUser, MailFolderId, MailId, Scope, UserId, UserRef};

use crate::access::Denied;
use crate::command::{CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

/// The searchbox finds mail one holds and has not had recalled (any folder, drafts too).
pub const SEARCHABLE: crate::search::items::Searchable = crate::search::items::Searchable {
    module: Module::Mail,
    items: "SELECT x.id, x.subject AS title, x.body, u.username AS author,
                   COALESCE(x.sent_at, x.created_at) AS at
            FROM mails x JOIN users u ON u.id = x.sender_id",
    readable: "SELECT mail_id AS id FROM mail_boxes WHERE user_id = $1 AND recalled = 0",
    href: |id| format!("/mail?m={id}"),
};

type MailRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
);

const MAIL_COLUMNS: &str = "m.id, m.sender_id, u.username, m.subject, m.body, m.html, m.chosen,
     m.in_reply_to, m.sent_at";

/// Each holder's copy of `mail`: user, username, role, folder, read_at, recalled.
type BoxRow = (i64, String, String, String, Option<i64>, i64);

async fn boxes(conn: &mut Conn, mail: MailId) -> Result<Vec<BoxRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT b.user_id, u.username, b.role, b.folder, b.read_at, b.recalled
         FROM mail_boxes b JOIN users u ON u.id = b.user_id
         WHERE b.mail_id = $1 ORDER BY u.username",
    )
    .bind(mail.0)
    .fetch_all(&mut *conn)
    .await?)
}

fn role_of(role: &str) -> Option<Role> {
    match role {
        "to" => Some(Role::To),
        "cc" => Some(Role::Cc),
        "bcc" => Some(Role::Bcc),
        _ => None,
    }
}

fn role_key(role: Role) -> &'static str {
    match role {
        Role::To => "to",
        Role::Cc => "cc",
        Role::Bcc => "bcc",
    }
}

async fn attachments(conn: &mut Conn, mail: MailId) -> Result<Vec<FileInfo>, StoreError> {
    let mut found = crate::files::attached(conn, crate::files::Holder::Mail, &[mail.0]).await?;
    Ok(found.remove(&mail.0).unwrap_or_default())
}

/// A mail as `holder` has it (`None`: they do not hold it, or it was recalled from them).
async fn as_held(conn: &mut Conn, id: MailId, holder: UserId) -> Result<Option<Mail>, StoreError> {
    let row: Option<MailRow> = sqlx::query_as(&format!(
        "SELECT {MAIL_COLUMNS} FROM mails m JOIN users u ON u.id = m.sender_id WHERE m.id = $1"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((_, sender, sender_name, subject, body, html, chosen, in_reply_to, sent_at)) = row
    else {
        return Ok(None);
    };
    let all = boxes(conn, id).await?;
    let Some(mine) = all.iter().find(|b| b.0 == holder.0).cloned() else {
        return Ok(None);
    };
    if mine.5 != 0 {
        return Ok(None);
    }
    let is_sender = sender == holder.0;
    let who = |b: &BoxRow| UserRef {
        id: UserId(b.0),
        username: b.1.clone(),
    };
    let listed = |role: Role| -> Vec<UserRef> {
        all.iter()
            .filter(|b| role_of(&b.2) == Some(role))
            // Bcc: the sender sees every one, a Bcc recipient only themselves.
            .filter(|b| role != Role::Bcc || is_sender || b.0 == holder.0)
            .map(who)
            .collect()
    };
    let receipts = if is_sender && sent_at.is_some() {
        all.iter()
            .filter_map(|b| {
                role_of(&b.2).map(|role| Receipt {
                    user: who(b),
                    role,
                    read_at: b.4,
                    recalled: b.5 != 0,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let chosen = serde_json::from_str::<MailFields>(&chosen)?;
    let outside = chosen.outside.clone();
    let draft = sent_at.is_none().then_some(chosen);
    Ok(Some(Mail {
        id,
        from: UserRef {
            id: UserId(sender),
            username: sender_name,
        },
        to: listed(Role::To),
        cc: listed(Role::Cc),
        bcc: listed(Role::Bcc),
        outside,
        subject,
        body,
        html,
        attachments: attachments(conn, id).await?,
        sent_at,
        in_reply_to: in_reply_to.map(MailId),
        folder: Folder::parse(&mine.3).unwrap_or(Folder::Inbox),
        read_at: if is_sender { None } else { mine.4 },
        draft,
        receipts,
        abridged: false,
    }))
}

/// A mail as told to `holder` in their scope and listed in their mailbox: a received one
/// without its text (fetched on opening it), the sender's own whole.
fn as_told(mail: Mail, holder: UserId) -> Mail {
    if mail.from.id == holder {
        mail
    } else {
        mail.abridged()
    }
}

/// A mail whole (its text too), for one who holds it. Anyone else: not found.
pub async fn text(store: &Store, user: &CurrentUser, id: MailId) -> Result<Mail, Denied> {
    let mut tx = store.read().await?;
    let mail = as_held(&mut tx, id, user.id)
        .await?
        .ok_or(Denied::NotFound("mail"))?;
    tx.commit().await?;
    Ok(mail)
}

async fn held(ctx: &mut Ctx<'_>, id: MailId) -> Result<Mail, CommandError> {
    let me = ctx.user()?.id;
    Ok(as_held(ctx.conn(), id, me)
        .await?
        .ok_or_else(|| Denied::NotFound("mail"))?)
}

/// Tells `holder` the mail as they now have it.
async fn tell(ctx: &mut Ctx<'_>, id: MailId, holder: UserId) -> Result<(), CommandError> {
    if let Some(mail) = as_held(ctx.conn(), id, holder).await? {
        let mail = as_told(mail, holder);
        ctx.append(
            Scope::User(holder),
            xietong::mail::MailEvent::MailSaved { mail },
        )
        .await?;
    }
    Ok(())
}

pub async fn save(ctx: &mut Ctx<'_>, command: &SaveMail) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    command.validate()?;
    let mut fields = command.fields.clone();
    fields.subject = fields.subject.trim().to_owned();
    let mut outside: Vec<String> = Vec::with_capacity(fields.outside.len());
    for address in &fields.outside {
        let address = address.trim().to_owned();
        if !outside.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            outside.push(address);
        }
    }
    fields.outside = outside;
    for list in [&mut fields.to, &mut fields.cc, &mut fields.bcc] {
        if !list.is_empty() {
            *list = crate::org::audience::checked(ctx.conn(), list).await?;
        }
    }
    let html = crate::chat::markdown::render(&fields.body, &[]);
    let chosen = serde_json::to_string(&fields).map_err(StoreError::from)?;
    if let Some(reply) = command.in_reply_to {
        // Only a mail one holds is answered or forwarded.
        held(ctx, reply).await?;
    }
    let now = ctx.now();
    let id = match command.mail {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO mails (sender_id, subject, body, html, chosen, in_reply_to, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(me.id.0)
            .bind(&fields.subject)
            .bind(&fields.body)
            .bind(&html)
            .bind(&chosen)
            .bind(command.in_reply_to.map(|m| m.0))
            .bind(now)
            .fetch_one(ctx.conn())
            .await?;
            sqlx::query(
                "INSERT INTO mail_boxes (mail_id, user_id, role, folder) VALUES ($1, $2, 'from', 'drafts')",
            )
            .bind(id)
            .bind(me.id.0)
            .execute(ctx.conn())
            .await?;
            MailId(id)
        }
        Some(id) => {
            let mail = held(ctx, id).await?;
            if mail.from.id != me.id || mail.sent_at.is_some() {
                return Err(CommandError::Conflict(
                    "only a draft of one's own is changed".into(),
                ));
            }
            // Only while still a draft: a send that committed meanwhile wins.
            let changed = sqlx::query(
                "UPDATE mails SET subject = $1, body = $2, html = $3, chosen = $4,
                                  in_reply_to = COALESCE($5, in_reply_to)
                 WHERE id = $6 AND sender_id = $7 AND sent_at IS NULL",
            )
            .bind(&fields.subject)
            .bind(&fields.body)
            .bind(&html)
            .bind(&chosen)
            .bind(command.in_reply_to.map(|m| m.0))
            .bind(id.0)
            .bind(me.id.0)
            .execute(ctx.conn())
            .await?
            .rows_affected();
            if changed != 1 {
                return Err(CommandError::Conflict(
                    "only a draft of one's own is changed".into(),
                ));
            }
            id
        }
    };
    crate::search::items::index(
        ctx.conn(),
        Module::Mail,
        id.0,
        &fields.subject,
        &fields.body,
    )
    .await?;
    crate::files::attach(ctx, &command.attachments, crate::files::AttachTo::Mail(id)).await?;
    let had: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE mail_id = $1")
        .bind(id.0)
        .fetch_one(ctx.conn())
        .await?;
    if had as usize + command.forward_files.len() > xietong::limits::MAX_ATTACHMENTS {
        return Err(xietong::ValidationError::MailText.into());
    }
    for file in &command.forward_files {
        // Only a file of a mail one holds (a forward).
        let of_mail: Option<Option<i64>> =
            sqlx::query_scalar("SELECT mail_id FROM files WHERE id = $1")
                .bind(file.0)
                .fetch_optional(ctx.conn())
                .await?;
        match of_mail.flatten() {
            Some(m) if crate::access::mail(ctx.conn(), me.id, MailId(m)).await? => {}
            _ => return Err(Denied::NotFound("file").into()),
        }
        sqlx::query(
            "INSERT INTO files (hash, name, size, mime, owner_id, mail_id, created_at)
             SELECT hash, name, size, mime, $1, $2, $3 FROM files WHERE id = $4",
        )
        .bind(me.id.0)
        .bind(id.0)
        .bind(now)
        .bind(file.0)
        .execute(ctx.conn())
        .await?;
    }
    if !command.send {
        tell(ctx, id, me.id).await?;
        return Ok(CommandOutput::MailChanged { mail: id });
    }
    send(ctx, id, &fields).await
}

/// Sends a draft: its To, Cc and Bcc resolved to people (each once, in the first list that
/// names them; the sender not among them), a copy in each one's Inbox, the sender's in Sent.
async fn send(
    ctx: &mut Ctx<'_>,
    id: MailId,
    fields: &MailFields,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let mut seen: BTreeSet<UserId> = BTreeSet::from([me.id]);
    let mut recipients: Vec<(UserId, Role)> = Vec::new();
    for (list, role) in [
        (&fields.to, Role::To),
        (&fields.cc, Role::Cc),
        (&fields.bcc, Role::Bcc),
    ] {
        for user in crate::org::audience::resolve(ctx.conn(), list).await? {
            if seen.insert(user) {
                recipients.push((user, role));
            }
        }
    }
    if recipients.is_empty() && fields.outside.is_empty() {
        return Err(CommandError::Invalid("nobody to send it to".into()));
    }
    if !fields.outside.is_empty() {
        if !ctx.outlets().outside_mail {
            return Err(CommandError::Forbidden(
                "this server does not send mail to outside addresses".into(),
            ));
        }
        let today: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND address IS NOT NULL AND created_at > $2",
        )
        .bind(me.id.0)
        .bind(ctx.now() - 24 * 60 * 60 * 1000)
        .fetch_one(ctx.conn())
        .await?;
        if today + fields.outside.len() as i64 > MAX_OUTSIDE_PER_DAY {
            return Err(CommandError::Forbidden(format!(
                "at most {MAX_OUTSIDE_PER_DAY} emails to outside addresses a day ({today} sent)"
            )));
        }
    }
    if recipients.len() > xietong::limits::MAX_SHORT_MESSAGE_RECIPIENTS {
        return Err(CommandError::Invalid(format!(
            "a mail goes to at most {} people",
            xietong::limits::MAX_SHORT_MESSAGE_RECIPIENTS
        )));
    }
    let now = ctx.now();
    // Sent once: of two sends at the same moment, the second finds it sent.
    let first = sqlx::query("UPDATE mails SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL")
        .bind(now)
        .bind(id.0)
        .execute(ctx.conn())
        .await?
        .rows_affected();
    if first != 1 {
        return Err(CommandError::Conflict(
            "this mail has been sent already".into(),
        ));
    }
    for (user, role) in &recipients {
        sqlx::query(
            "INSERT INTO mail_boxes (mail_id, user_id, role, folder) VALUES ($1, $2, $3, 'inbox')",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(role_key(*role))
        .execute(ctx.conn())
        .await?;
    }
    sqlx::query("UPDATE mail_boxes SET folder = 'sent' WHERE mail_id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(me.id.0)
        .execute(ctx.conn())
        .await?;
    let mut to: Vec<UserId> = Vec::with_capacity(recipients.len());
    for (user, _) in &recipients {
        tell(ctx, id, *user).await?;
        to.push(*user);
    }
    tell(ctx, id, me.id).await?;
    crate::notify::raise(
        ctx,
        crate::notify::Raise {
            note: Note {
                module: Module::Mail,
                item: id.0,
                title: fields.subject.clone(),
                text: fields.body.split_whitespace().collect::<Vec<_>>().join(" "),
                from: Some(me.user_ref()),
                urgent: false,
                href: format!("/mail?m={id}"),
            },
            to: &to,
            // Checked when it goes out: a mail recalled (or read) meanwhile is not emailed.
            escalate: Some((0, crate::notify::item_key(Module::Mail, id.0))),
            outside_only: false,
        },
    )
    .await?;
    for address in &fields.outside {
        crate::notify::email_outside(
            ctx,
            crate::notify::Outside {
                address,
                module: Module::Mail,
                item: id.0,
                title: &fields.subject,
                text: &fields.body,
            },
        )
        .await?;
    }
    Ok(CommandOutput::MailChanged { mail: id })
}

pub async fn read(ctx: &mut Ctx<'_>, command: &ReadMail) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let mail = held(ctx, command.mail).await?;
    if mail.from.id == me.id {
        return Ok(CommandOutput::MailChanged { mail: mail.id });
    }
    let at = ctx.now();
    let changed = sqlx::query(
        "UPDATE mail_boxes SET read_at = $1
         WHERE mail_id = $2 AND user_id = $3 AND read_at IS NULL AND recalled = 0",
    )
    .bind(at)
    .bind(mail.id.0)
    .bind(me.id.0)
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if changed == 1 {
        ctx.append(
            Scope::User(me.id),
            xietong::mail::MailEvent::MailRead { mail: mail.id, at },
        )
        .await?;
        let role: String =
            sqlx::query_scalar("SELECT role FROM mail_boxes WHERE mail_id = $1 AND user_id = $2")
                .bind(mail.id.0)
                .bind(me.id.0)
                .fetch_one(ctx.conn())
                .await?;
        let receipt = Receipt {
            user: me.user_ref(),
            role: role_of(&role).unwrap_or(Role::To),
            read_at: Some(at),
            recalled: false,
        };
        ctx.append(
            Scope::User(mail.from.id),
            xietong::mail::MailEvent::MailReceipt {
                mail: mail.id,
                receipt,
            },
        )
        .await?;
    }
    Ok(CommandOutput::MailChanged { mail: mail.id })
}

pub async fn recall(
    ctx: &mut Ctx<'_>,
    command: &RecallMail,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let mail = held(ctx, command.mail).await?;
    if mail.from.id != me || mail.sent_at.is_none() {
        return Err(CommandError::Forbidden(
            "only its sender recalls a mail they sent".into(),
        ));
    }
    // The unread copies, taken in this transaction: a read that commits first keeps its copy.
    let unread: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT b.user_id, u.username, b.role FROM mail_boxes b JOIN users u ON u.id = b.user_id
         WHERE b.mail_id = $1 AND b.role <> 'from' AND b.read_at IS NULL AND b.recalled = 0",
    )
    .bind(mail.id.0)
    .fetch_all(ctx.conn())
    .await?;
    // Its emails to outside addresses still waiting are not sent (those sent are gone).
    let outside = sqlx::query(
        "UPDATE outbox SET state = 'cancelled', error = 'recalled'
         WHERE item = $1 AND address IS NOT NULL AND state = 'pending'",
    )
    .bind(crate::notify::item_key(Module::Mail, mail.id.0))
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if unread.is_empty() && outside == 0 {
        return Err(CommandError::Conflict(
            "everyone has read it already".into(),
        ));
    }
    let mut recalled = 0u32;
    for (user, username, role) in unread {
        let done = sqlx::query(
            "UPDATE mail_boxes SET recalled = 1
             WHERE mail_id = $1 AND user_id = $2 AND read_at IS NULL AND recalled = 0",
        )
        .bind(mail.id.0)
        .bind(user)
        .execute(ctx.conn())
        .await?
        .rows_affected();
        if done == 0 {
            continue;
        }
        recalled += 1;
        // Nothing of it stays with them: its copy and its notification leave their log and
        // their notification list (a client replaying from the start finds it removed).
        crate::notify::take_back(
            ctx,
            UserId(user),
            Module::Mail,
            mail.id.0,
            format!("{{\"mail_saved\":{{\"mail\":{{\"id\":{},", mail.id),
            xietong::mail::MailEvent::MailRemoved { mail: mail.id },
        )
        .await?;
        let receipt = Receipt {
            user: UserRef {
                id: UserId(user),
                username,
            },
            role: role_of(&role).unwrap_or(Role::To),
            read_at: None,
            recalled: true,
        };
        ctx.append(
            Scope::User(me),
            xietong::mail::MailEvent::MailReceipt {
                mail: mail.id,
                receipt,
            },
        )
        .await?;
        // Its notification's email or webhook, if still waiting, need not go either.
        sqlx::query(
            "UPDATE outbox SET state = 'cancelled', error = 'recalled'
             WHERE item = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(crate::notify::item_key(Module::Mail, mail.id.0))
        .bind(user)
        .execute(ctx.conn())
        .await?;
    }
    Ok(CommandOutput::MailRecalled {
        mail: mail.id,
        recalled,
    })
}

async fn own_folder(ctx: &mut Ctx<'_>, folder: MailFolderId) -> Result<MailFolder, CommandError> {
    let me = ctx.user()?.id;
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM mail_folders WHERE id = $1 AND owner_id = $2")
            .bind(folder.0)
            .bind(me.0)
            .fetch_optional(ctx.conn())
            .await?;
    row.map(|(id, name)| MailFolder {
        id: MailFolderId(id),
        name,
    })
    .ok_or_else(|| CommandError::NotFound("no such folder".into()))
}

pub async fn move_to(ctx: &mut Ctx<'_>, command: &MoveMail) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let mail = held(ctx, command.mail).await?;
    let sender = mail.from.id == me;
    let allowed = match command.folder {
        Folder::Drafts => false,
        Folder::Sent => sender && mail.sent_at.is_some(),
        Folder::Inbox => !sender,
        Folder::Trash => true,
        Folder::Own(id) => {
            own_folder(ctx, id).await?;
            mail.sent_at.is_some()
        }
    };
    if !allowed || (mail.sent_at.is_none() && command.folder != Folder::Trash) {
        return Err(CommandError::Invalid(
            "a mail cannot go to that folder".into(),
        ));
    }
    sqlx::query("UPDATE mail_boxes SET folder = $1 WHERE mail_id = $2 AND user_id = $3")
        .bind(command.folder.key())
        .bind(mail.id.0)
        .bind(me.0)
        .execute(ctx.conn())
        .await?;
    ctx.append(
        Scope::User(me),
        xietong::mail::MailEvent::MailMoved {
            mail: mail.id,
            folder: command.folder,
        },
    )
    .await?;
    Ok(CommandOutput::MailChanged { mail: mail.id })
}

pub async fn delete(
    ctx: &mut Ctx<'_>,
    command: &DeleteMail,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let mail = held(ctx, command.mail).await?;
    let draft = mail.sent_at.is_none();
    if !draft && mail.folder != Folder::Trash {
        return Err(CommandError::Conflict("move it to the Trash first".into()));
    }
    sqlx::query("DELETE FROM mail_boxes WHERE mail_id = $1 AND user_id = $2")
        .bind(mail.id.0)
        .bind(me.0)
        .execute(ctx.conn())
        .await?;
    if draft {
        // Nobody else ever had it.
        sqlx::query("DELETE FROM files WHERE mail_id = $1")
            .bind(mail.id.0)
            .execute(ctx.conn())
            .await?;
        sqlx::query("UPDATE mails SET in_reply_to = NULL WHERE in_reply_to = $1")
            .bind(mail.id.0)
            .execute(ctx.conn())
            .await?;
        sqlx::query("DELETE FROM mails WHERE id = $1")
            .bind(mail.id.0)
            .execute(ctx.conn())
            .await?;
        crate::search::items::unindex(ctx.conn(), Module::Mail, mail.id.0).await?;
    }
    ctx.append(
        Scope::User(me),
        xietong::mail::MailEvent::MailRemoved { mail: mail.id },
    )
    .await?;
    Ok(CommandOutput::MailChanged { mail: mail.id })
}

pub async fn save_folder(
    ctx: &mut Ctx<'_>,
    command: &SaveMailFolder,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let name = command.name.trim();
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CommandError::Invalid(
            "a folder is named in 1 to 64 characters".into(),
        ));
    }
    let id = match (command.folder, name.is_empty()) {
        (None, true) => {
            return Err(CommandError::Invalid(
                "a folder is named in 1 to 64 characters".into(),
            ))
        }
        (Some(id), true) => {
            own_folder(ctx, id).await?;
            sqlx::query(
                "UPDATE mail_boxes SET folder = CASE WHEN role = 'from' THEN 'sent' ELSE 'inbox' END
                 WHERE user_id = $1 AND folder = $2",
            )
                .bind(me.0)
                .bind(Folder::Own(id).key())
                .execute(ctx.conn())
                .await?;
            sqlx::query("DELETE FROM mail_folders WHERE id = $1")
                .bind(id.0)
                .execute(ctx.conn())
                .await?;
            ctx.append(
                Scope::User(me),
                xietong::mail::MailEvent::MailFolderRemoved { folder: id },
            )
            .await?;
            return Ok(CommandOutput::MailFolderChanged { folder: id });
        }
        (folder, false) => {
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM mail_folders WHERE owner_id = $1 AND lower(name) = lower($2) AND id <> $3",
            )
            .bind(me.0)
            .bind(name)
            .bind(folder.map_or(0, |f| f.0))
            .fetch_optional(ctx.conn())
            .await?;
            if taken.is_some() {
                return Err(CommandError::Conflict(format!(
                    "you have a folder {name} already"
                )));
            }
            match folder {
                Some(id) => {
                    own_folder(ctx, id).await?;
                    sqlx::query("UPDATE mail_folders SET name = $1 WHERE id = $2")
                        .bind(name)
                        .bind(id.0)
                        .execute(ctx.conn())
                        .await?;
                    id
                }
                None => MailFolderId(
                    sqlx::query_scalar(
                        "INSERT INTO mail_folders (owner_id, name) VALUES ($1, $2) RETURNING id",
                    )
                    .bind(me.0)
                    .bind(name)
                    .fetch_one(ctx.conn())
                    .await?,
                ),
            }
        }
    };
    let folder = MailFolder {
        id,
        name: name.to_owned(),
    };
    ctx.append(
        Scope::User(me),
        xietong::mail::MailEvent::MailFolderSaved { folder },
    )
    .await?;
    Ok(CommandOutput::MailFolderChanged { folder: id })
}

/// My mailbox.
/// `outside_mail`: this deployment sends mail to outside addresses.
pub async fn mailbox(
    store: &Store,
    user: &CurrentUser,
    outside_mail: bool,
) -> Result<Mailbox, Denied> {
    let mut tx = store.read().await?;
    let head = store::head(&mut tx, Scope::User(user.id)).await?;
    let folders: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM mail_folders WHERE owner_id = $1 ORDER BY id")
            .bind(user.id.0)
            .fetch_all(&mut *tx)
            .await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT b.mail_id FROM mail_boxes b JOIN mails m ON m.id = b.mail_id
         WHERE b.user_id = $1 AND b.recalled = 0
         ORDER BY COALESCE(m.sent_at, m.created_at) DESC, m.id DESC LIMIT $2",
    )
    .bind(user.id.0)
    .bind(MAILBOX_LIMIT as i64)
    .fetch_all(&mut *tx)
    .await?;
    let mut mail = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = as_held(&mut tx, MailId(id), user.id).await? {
            mail.push(as_told(m, user.id));
        }
    }
    tx.commit().await?;
    let mut mailbox = Mailbox {
        head,
        folders: folders
            .into_iter()
            .map(|(id, name)| MailFolder {
                id: MailFolderId(id),
                name,
            })
            .collect(),
        mail,
        outside_mail,
    };
    mailbox.sort();
    Ok(mailbox)
}

/// Whether `user` has read mail `id` (for an escalation; someone it was recalled from needs
/// nothing either).
pub async fn read_by(conn: &mut Conn, id: i64, user: UserId) -> Result<bool, StoreError> {
    let row: Option<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT read_at, recalled FROM mail_boxes WHERE mail_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(!matches!(row, Some((None, 0))))
}
