//! The Xietong wire protocol.
//!
//! Everything that crosses the WebSocket (and the JSON of the server functions) is defined here,
//! once, and compiled into both the browser (wasm32) and the server. See `PROTOCOL.md` at the
//! repository root for the prose description: message types, close codes, recovery and limits.

pub mod chat;
pub mod contacts;
pub mod files;
pub mod forum;
pub mod ids;
pub mod limits;
pub mod mail;
pub mod model;
pub mod news;
pub mod notices;
pub mod notify;
pub mod org;
pub mod search;
pub mod settings;
pub mod short_messages;
pub mod validate;
pub mod wire;

pub use chat::{Channel, ChannelKind, HistoryPage, Message};
pub use ids::{
    ChannelId, ClientMsgId, ContactGroupId, ContactId, DepartmentId, FieldId, MessageId, RoleId,
    ForumReplyId, ForumSectionId, ForumTopicId, MailFolderId, MailId, NewsColumnId, NoticeId, NoticeTypeId, ShortMessageId, StoryCommentId, StoryId,
    Scope, ScopeParseError, Seq, SeqOrder, UserId,
};
pub use model::{CurrentUser, UserRef, WorkspaceSnapshot};
pub use validate::ValidationError;
pub use wire::{ClientMsg, Command, CommandOutput, ErrorCode, Event, EventBody, ServerMsg};

/// Version of the WebSocket protocol. Bumped on any incompatible change; the server announces it
/// in `ServerMsg::Welcome` and a client built for another version asks the user to reload.
pub const PROTOCOL_VERSION: u32 = 3;
