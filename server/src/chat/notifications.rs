//! Chat's part of the "Notifications" list: a message that mentions someone, reaches them in a
//! direct conversation, or replies in a thread they follow carries a notice in its
//! `message_unread` event; the notice is kept here under that event's number in the user's
//! scope (the list itself is the notification centre's, `crate::notify::centre`).

use xietong::chat::{Notice, NoticeKind, NOTICE_EXCERPT_CHARS};
use xietong::{Channel, Message, Seq, UserId};

use crate::command::{CommandError, Ctx};

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

const NOTIFICATIONS: crate::store::RowsInto = crate::store::RowsInto {
    table: "notifications",
    columns:
        "user_id, seq, channel_id, message_id, kind, author_id, excerpt, thread_id, created_at",
    count: 9,
    then: "",
};

/// Keeps a notice for `user` under `seq`, the number of its `message_unread` event. Only
/// seeing one's notifications reads them, never a post, so a batch of posts writes them
/// together (`Ctx::add_rows`).
pub async fn keep(
    ctx: &mut Ctx<'_>,
    user: UserId,
    seq: Seq,
    message: &Message,
    notice: &Notice,
) -> Result<(), CommandError> {
    let row = vec![
        user.0.into(),
        (seq.0 as i64).into(),
        message.channel.0.into(),
        message.id.0.into(),
        kind_str(notice.kind).into(),
        notice.author.id.0.into(),
        notice.excerpt.as_str().into(),
        notice.thread.map(|t| t.0).into(),
        ctx.now().into(),
    ];
    ctx.add_rows(&NOTIFICATIONS, vec![row]).await
}
