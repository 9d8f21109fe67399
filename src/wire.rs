//! The frames on `/ws`: JSON text frames, each an object whose one key names its kind
//! (serde's external tagging: the browser decodes it in one pass, with no buffering).
//!
//! Every write a browser makes is a [`Command`] (over the socket, or through the `/api/command`
//! server function: the same path either way), answered by one [`ServerMsg::Ack`] shape carrying
//! the command's typed [`CommandOutput`]. Every change is an [`Event`] in one scope's log; its
//! envelope says who caused it, when, and with which client id.

use crate::chat::{
    AddMembers, Channel, CreateChannel, DeleteMessage, EditMessage, MarkRead, Message, PinMessage,
    PostMessage, React, RemoveMember,
};
use crate::ids::{ChannelId, ClientMsgId, MessageId, Scope, Seq, UserId};
use crate::model::{CurrentUser, UserRef};
use serde::{Deserialize, Serialize};

/// Browser → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMsg {
    /// Start (or resume) receiving a scope's events. With `after`, the server first replays every
    /// stored event with a larger sequence number, then streams live ones; without it, only live
    /// events from now on. Answered by `Subscribed` (or `Resync` when too far behind).
    Subscribe {
        scope: Scope,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Seq>,
    },
    /// Stop receiving a scope's events.
    Unsubscribe { scope: Scope },
    /// Run a command. Answered by `Ack` (also when `client_id` was used before: the retry is
    /// recognised and answered with the original output) or `Error` with the `client_id`.
    Command {
        client_id: ClientMsgId,
        command: Command,
    },
    /// "I am typing in this channel": ephemeral, never stored, relayed to the channel's other
    /// subscribers (on every node) as `typing`. Only for a scope this connection is subscribed
    /// to; a few per second at most (more are dropped).
    Typing { scope: Scope },
    /// Application-level keepalive (browsers cannot see WebSocket pings). Answered by `Pong`.
    Ping,
}

/// Every write, of every feature. A feature defines its command structs in its own module and
/// adds one variant here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    PostMessage(PostMessage),
    CreateChannel(CreateChannel),
    AddMembers(AddMembers),
    RemoveMember(RemoveMember),
    EditMessage(EditMessage),
    DeleteMessage(DeleteMessage),
    React(React),
    PinMessage(PinMessage),
    MarkRead(MarkRead),
    UpdateSettings(crate::settings::UpdateSettings),
    SeeNotifications(crate::chat::SeeNotifications),
    UpdateWorkspaceSettings(crate::settings::UpdateWorkspaceSettings),
    CreateDepartment(crate::org::CreateDepartment),
    RenameDepartment(crate::org::RenameDepartment),
    MoveDepartment(crate::org::MoveDepartment),
    RemoveDepartment(crate::org::RemoveDepartment),
    CreateRole(crate::org::CreateRole),
    RemoveRole(crate::org::RemoveRole),
    UpdatePerson(crate::org::UpdatePerson),
    SetPersonActive(crate::org::SetPersonActive),
    ImportPeople(crate::org::ImportPeople),
    CreateFolder(crate::files::CreateFolder),
    SaveUpload(crate::files::SaveUpload),
    RenameEntry(crate::files::RenameEntry),
    MoveEntry(crate::files::MoveEntry),
    DeleteEntry(crate::files::DeleteEntry),
    RestoreEntry(crate::files::RestoreEntry),
    EmptyRecycleBin(crate::files::EmptyRecycleBin),
    ShareEntry(crate::files::ShareEntry),
    Unshare(crate::files::Unshare),
    CreateShareLink(crate::files::CreateShareLink),
    DeleteShareLink(crate::files::DeleteShareLink),
    SaveContact(crate::contacts::SaveContact),
    RemoveContact(crate::contacts::RemoveContact),
    CreateContactGroup(crate::contacts::CreateContactGroup),
    RemoveContactGroup(crate::contacts::RemoveContactGroup),
    ImportContacts(crate::contacts::ImportContacts),
    DefineField(crate::org::DefineField),
    RemoveField(crate::org::RemoveField),
    SetMyFields(crate::org::SetMyFields),
    SaveNotificationSettings(crate::notify::SaveNotificationSettings),
    SendShortMessage(crate::short_messages::SendShortMessage),
    ReadShortMessage(crate::short_messages::ReadShortMessage),
    DefineNoticeType(crate::notices::DefineNoticeType),
    RemoveNoticeType(crate::notices::RemoveNoticeType),
    SaveNotice(crate::notices::SaveNotice),
    PublishNotice(crate::notices::PublishNotice),
    ReviewNotice(crate::notices::ReviewNotice),
    WithdrawNotice(crate::notices::WithdrawNotice),
    ReadNotice(crate::notices::ReadNotice),
    AcknowledgeNotice(crate::notices::AcknowledgeNotice),
    RemindNotice(crate::notices::RemindNotice),
    ReleaseNotice(crate::notices::ReleaseNotice),
    SaveNewsColumn(crate::news::SaveNewsColumn),
    SaveStory(crate::news::SaveStory),
    PublishStory(crate::news::PublishStory),
    WithdrawStory(crate::news::WithdrawStory),
    ReleaseStory(crate::news::ReleaseStory),
    ViewStory(crate::news::ViewStory),
    LikeStory(crate::news::LikeStory),
    CommentOnStory(crate::news::CommentOnStory),
    HideStoryComment(crate::news::HideStoryComment),
    ShareStory(crate::news::ShareStory),
    SaveForumSection(crate::forum::SaveForumSection),
    StartTopic(crate::forum::StartTopic),
    ReplyToTopic(crate::forum::ReplyToTopic),
    AcceptAnswer(crate::forum::AcceptAnswer),
    CastVote(crate::forum::CastVote),
    ModerateTopic(crate::forum::ModerateTopic),
    MuteInSection(crate::forum::MuteInSection),
    SaveMail(crate::mail::SaveMail),
    ReadMail(crate::mail::ReadMail),
    RecallMail(crate::mail::RecallMail),
    MoveMail(crate::mail::MoveMail),
    DeleteMail(crate::mail::DeleteMail),
    SaveMailFolder(crate::mail::SaveMailFolder),
}

/// What a command produced, returned in its `Ack` (and by `/api/command`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandOutput {
    MessagePosted {
        message: MessageId,
        scope: Scope,
        seq: Seq,
    },
    ChannelCreated {
        channel: Channel,
    },
    MembersChanged {
        channel: ChannelId,
    },
    /// An edit, delete, reaction or pin was applied (or changed nothing: the same state
    /// already held).
    MessageChanged {
        message: MessageId,
        scope: Scope,
        seq: Option<Seq>,
    },
    /// The channel is read up to `seq` (`None`: it already was; nothing changed).
    MarkedRead {
        channel: ChannelId,
        seq: Option<Seq>,
    },
    SettingsSaved,
    /// Notifications are seen up to `up_to` (`None`: they already were).
    NotificationsSeen {
        up_to: Option<Seq>,
    },
    /// A department was created, renamed, moved or removed (`seq: None`: nothing changed).
    DepartmentChanged {
        department: crate::ids::DepartmentId,
        seq: Option<Seq>,
    },
    /// A role was created or removed.
    RoleChanged {
        role: crate::ids::RoleId,
    },
    /// A person was updated, deactivated or reactivated (`seq: None`: nothing changed).
    PersonChanged {
        person: UserId,
        seq: Option<Seq>,
    },
    /// People were imported, in the order of the rows.
    PeopleImported {
        people: Vec<UserId>,
    },
    /// A cabinet entry was made or changed.
    EntryChanged {
        entry: crate::files::EntryId,
    },
    /// The recycle bin was emptied of this many entries.
    RecycleBinEmptied {
        purged: u32,
    },
    /// A share link was made; it opens at `/share/<token>`.
    ShareLinkCreated {
        entry: crate::files::EntryId,
        token: String,
    },
    /// A personal contact was made, changed or removed.
    ContactChanged {
        contact: crate::ids::ContactId,
    },
    /// A contact group was made or removed.
    ContactGroupChanged {
        group: crate::ids::ContactGroupId,
    },
    /// Contacts were imported, in the order given.
    ContactsImported {
        contacts: Vec<crate::ids::ContactId>,
    },
    /// An address book field was defined or removed.
    FieldChanged {
        field: crate::ids::FieldId,
    },
    NotificationSettingsSaved,
    /// A short message went to `recipients` people.
    ShortMessageSent {
        id: crate::ids::ShortMessageId,
        recipients: u32,
    },
    /// A short message is marked read (`seq: None`: it already was).
    ShortMessageRead {
        id: crate::ids::ShortMessageId,
        seq: Option<Seq>,
    },
    /// A notice type was defined or removed.
    NoticeTypeChanged {
        kind: crate::ids::NoticeTypeId,
    },
    /// A notice was saved, published, reviewed, released or withdrawn; `status` is where it
    /// now stands.
    NoticeChanged {
        notice: crate::ids::NoticeId,
        status: crate::notices::NoticeStatus,
    },
    /// A notice is marked read or acknowledged (`seq: None`: it already was).
    NoticeMarked {
        notice: crate::ids::NoticeId,
        seq: Option<Seq>,
    },
    /// `reminded` people were reminded of a notice.
    NoticeReminded {
        notice: crate::ids::NoticeId,
        reminded: u32,
    },
    NewsColumnSaved {
        column: crate::ids::NewsColumnId,
    },
    /// A story was saved, published, released or withdrawn; `status` is where it now stands.
    StoryChanged {
        story: crate::ids::StoryId,
        status: crate::news::StoryStatus,
    },
    /// A view, like or comment was recorded (`seq: None`: nothing changed, e.g. a second view).
    StoryCounted {
        story: crate::ids::StoryId,
        seq: Option<Seq>,
    },
    StoryCommentChanged {
        comment: crate::ids::StoryCommentId,
    },
    ForumSectionSaved {
        section: crate::ids::ForumSectionId,
    },
    /// A topic was started, moderated, answered or voted in.
    TopicChanged {
        topic: crate::ids::ForumTopicId,
    },
    ReplyPosted {
        reply: crate::ids::ForumReplyId,
    },
    /// Someone was muted in a section (or no longer).
    Muted {
        section: crate::ids::ForumSectionId,
        user: UserId,
    },
    /// A mail was saved, sent, read, moved or deleted.
    MailChanged {
        mail: crate::ids::MailId,
    },
    /// A mail was taken back from `recalled` people (those who had not read it).
    MailRecalled {
        mail: crate::ids::MailId,
        recalled: u32,
    },
    MailFolderChanged {
        folder: crate::ids::MailFolderId,
    },
}

/// Server → browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMsg {
    /// First frame on every connection.
    Welcome {
        protocol: u32,
        user: CurrentUser,
        /// Largest frame the server accepts, in bytes.
        max_frame_bytes: usize,
    },
    /// A stored event of a subscribed scope. Sequence numbers per scope are gapless; a client
    /// drops any it has already applied.
    Event(Event),
    /// The subscription is live; the replay (if any) is complete up to `head`.
    Subscribed { scope: Scope, head: Seq },
    /// The client is too far behind (or its position is unknown) for a replay: refetch the
    /// scope's snapshot, then subscribe again with its head.
    Resync { scope: Scope, head: Seq },
    /// The server ended a subscription: the user may no longer read the scope (removed from a
    /// private channel, say).
    Unsubscribed { scope: Scope, reason: String },
    /// A command is applied (its events are committed). `duplicate` is true when this client id
    /// had been applied before; `output` is then the original one.
    Ack {
        client_id: ClientMsgId,
        duplicate: bool,
        output: CommandOutput,
    },
    /// Who is online now, workspace-wide: the snapshot, sent on connect.
    Presence { online: Vec<UserRef> },
    /// Who came online and who went offline since the last presence frame (at most 4×/s).
    PresenceChanged {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joined: Vec<UserRef>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<UserId>,
    },
    /// Someone is typing in a subscribed scope. Ephemeral: not stored, not replayed, and the
    /// first thing dropped when a connection falls behind.
    Typing { scope: Scope, user: UserRef },
    /// Answer to `Ping`.
    Pong,
    /// A request could not be served. The connection stays open.
    Error {
        code: ErrorCode,
        message: String,
        /// The command this answers, if it answers one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientMsgId>,
    },
}

/// A committed event of some scope, in its envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub scope: Scope,
    pub seq: Seq,
    /// Who caused it (`None`: the server itself, e.g. the default channel at first start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<UserId>,
    /// When it was committed, Unix milliseconds (server clock).
    #[serde(default)]
    pub at: i64,
    /// The client id of the command that caused it, so the sending tab clears its pending copy
    /// without looking inside the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientMsgId>,
    pub body: EventBody,
}

/// What happened. Every live feature adds its variants here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventBody {
    /// In a channel scope.
    MessagePosted {
        message: Message,
    },
    /// In the workspace scope: a public channel was created.
    ChannelCreated {
        channel: Channel,
    },
    /// In a user scope: the user can now see this members-only channel (created with them in
    /// it, or they were added).
    ChannelAdded {
        channel: Channel,
    },
    /// In a user scope: the user was removed from this channel.
    ChannelRemoved {
        channel: ChannelId,
    },
    /// In a channel scope: what a message's card shows now (the story it shares was withdrawn).
    MessageCardChanged {
        message: MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card: Option<crate::chat::Card>,
    },
    /// In a channel scope: a message's new body.
    MessageEdited {
        message: MessageId,
        body: String,
        /// `body` rendered and sanitised, as in [`Message::html`].
        #[serde(default, skip_serializing_if = "String::is_empty")]
        html: String,
        edited_at: i64,
        /// The new body's mentions (see [`Message::mentions`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<UserId>,
        #[serde(default, skip_serializing_if = "is_false")]
        mentions_all: bool,
    },
    /// In a channel scope: a message was deleted.
    MessageDeleted {
        message: MessageId,
    },
    /// In a channel scope: `user` added (`on`) or took back a reaction.
    ReactionChanged {
        message: MessageId,
        emoji: String,
        user: UserId,
        on: bool,
    },
    /// In a channel scope: pinned or unpinned.
    MessagePinned {
        message: MessageId,
        pinned: bool,
    },
    /// In a user scope: a message the user has not read yet (in a channel they are a member
    /// of, a thread they follow, or one that mentions them). `seq` is the message's place in
    /// its channel's log.
    MessageUnread {
        channel: ChannelId,
        message: MessageId,
        seq: Seq,
        #[serde(default, skip_serializing_if = "is_false")]
        mention: bool,
        /// Set when it goes in the user's "Notifications" list (a mention, a direct message,
        /// a reply in a followed thread).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<crate::chat::Notice>,
    },
    /// In the workspace scope: an admin changed the workspace settings.
    WorkspaceSettingsChanged {
        settings: crate::settings::WorkspaceSettings,
    },
    /// In a user scope: notifications are seen up to `up_to`; `unseen` are left after it.
    NotificationsSeen {
        up_to: Seq,
        unseen: u32,
    },
    /// In a user scope: the user read the channel up to `seq`; what is still unread after it
    /// (absolute counts, so every tab shows the same).
    ChannelRead {
        channel: ChannelId,
        seq: Seq,
        unread: u32,
        mentions: u32,
    },
    /// In a direct conversation's scope: `user` has read it up to `seq` (this event's own
    /// number). Only from members who send read receipts.
    MessagesSeen {
        user: UserId,
        seq: Seq,
    },
    /// In a user scope: the user's settings changed (in another tab, say).
    SettingsChanged {
        settings: crate::settings::UserSettings,
    },
    /// In a channel scope: who joined and who left.
    MembersChanged {
        channel: ChannelId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        added: Vec<UserRef>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<UserRef>,
    },
    /// In the workspace scope: a department as it now is (created, renamed or moved).
    DepartmentSaved {
        department: crate::org::Department,
    },
    /// In the workspace scope: an empty department was removed.
    DepartmentRemoved {
        department: crate::ids::DepartmentId,
    },
    /// In the workspace scope: a role was created.
    RoleSaved {
        role: crate::org::Role,
    },
    /// In the workspace scope: a role was removed (from everyone who had it).
    RoleRemoved {
        role: crate::ids::RoleId,
    },
    /// In the workspace scope: an address book field was defined.
    FieldDefined {
        field: crate::org::ProfileField,
    },
    /// In the workspace scope: a field was removed, with everyone's values of it.
    FieldRemoved {
        field: crate::ids::FieldId,
    },
    /// In the workspace scope: a person as they now are (updated, deactivated, reactivated).
    PersonSaved {
        person: crate::org::Person,
    },
    /// In the owner's user scope: a cabinet entry as it now is (made, renamed, moved, a new
    /// version, deleted to or restored from the recycle bin), and the owner's usage after.
    EntrySaved {
        entry: crate::files::Entry,
        usage: crate::files::Usage,
    },
    /// In the owner's user scope: entries deleted for good (the recycle bin emptied).
    EntriesPurged {
        entries: Vec<crate::files::EntryId>,
        usage: crate::files::Usage,
    },
    /// In a user scope: something is shared with the user (or its name or their permission
    /// changed): their "Shared with me" list shows it.
    SharedWithYou {
        item: crate::files::SharedItem,
    },
    /// In a user scope: it is no longer shared with the user (unshared, deleted, purged).
    ShareWithdrawn {
        entry: crate::files::EntryId,
    },
    /// In a user scope: one of the user's own contacts as it now is.
    ContactSaved {
        contact: crate::contacts::Contact,
    },
    /// In a user scope: a contact was deleted.
    ContactRemoved {
        contact: crate::ids::ContactId,
    },
    /// In a user scope: a contact group as it now is.
    ContactGroupSaved {
        group: crate::contacts::ContactGroup,
    },
    /// In a user scope: a contact group was deleted (its contacts are in no group now).
    ContactGroupRemoved {
        group: crate::ids::ContactGroupId,
    },
    /// In a shared entry's scope: who it is shared with changed; `revoked` lost access with it.
    SharingChanged {
        entry: crate::files::EntryId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        revoked: Vec<UserId>,
    },
    /// In a user scope: a notification from an office module (its "Notifications" list
    /// entry is this event's number).
    Notified {
        note: crate::notify::Note,
    },
    /// In a user scope: the user's notification settings changed.
    NotificationSettingsChanged {
        settings: crate::notify::NotificationSettings,
    },
    /// In a recipient's user scope: a short message for them.
    ShortMessageReceived {
        message: crate::short_messages::ShortMessage,
    },
    /// In the sender's user scope: a short message they sent.
    ShortMessageSent {
        message: crate::short_messages::SentShortMessage,
    },
    /// In a recipient's user scope: they read it (first time, `at`).
    ShortMessageRead {
        id: crate::ids::ShortMessageId,
        at: i64,
    },
    /// In the sender's user scope: `reader` read their short message.
    ShortMessageReadBy {
        id: crate::ids::ShortMessageId,
        reader: UserRef,
    },
    /// In a user scope: a notice as it now is, for its author, its reviewers while it waits,
    /// and its recipients once released (their own read marks are not in it).
    NoticeSaved {
        notice: crate::notices::Notice,
    },
    /// In a user scope: a notice is no longer for the user (withdrawn, or they left its
    /// audience in a revision, or it left review).
    NoticeRemoved {
        notice: crate::ids::NoticeId,
    },
    /// In a reader's user scope: they opened it (first time, `at`).
    NoticeRead {
        notice: crate::ids::NoticeId,
        at: i64,
    },
    /// In a reader's user scope: they acknowledged its current revision.
    NoticeAcknowledged {
        notice: crate::ids::NoticeId,
        at: i64,
    },
    /// In the author's user scope: `reader` read (or acknowledged) their notice.
    NoticeReadBy {
        notice: crate::ids::NoticeId,
        reader: UserRef,
        at: i64,
        #[serde(default, skip_serializing_if = "is_false")]
        acknowledged: bool,
    },
    /// In the workspace scope: a notice type as it now is.
    NoticeTypeSaved {
        kind: crate::notices::NoticeType,
    },
    /// In the workspace scope: a notice type was removed.
    NoticeTypeRemoved {
        kind: crate::ids::NoticeTypeId,
    },
    /// In the workspace scope: a news column as it now is.
    NewsColumnSaved {
        column: crate::news::NewsColumn,
    },
    /// In a column's scope: `revoked` may read it no longer (the column's audience changed).
    NewsAccessChanged {
        column: crate::ids::NewsColumnId,
        revoked: Vec<UserId>,
    },
    /// A story as it now is: in its column's scope once published; in its editors' user
    /// scopes in every state.
    StorySaved {
        story: crate::news::Story,
    },
    /// In a column's scope: a story left it (withdrawn, or moved to another column).
    StoryRemoved {
        story: crate::ids::StoryId,
    },
    /// In a column's scope: `by` liked a story (or took the like back); `likes` in all.
    StoryLiked {
        story: crate::ids::StoryId,
        by: UserId,
        liked: bool,
        likes: u32,
    },
    /// In a column's scope: a comment, new or shown again; `comments` visible in all.
    StoryCommented {
        comment: crate::news::StoryComment,
        comments: u32,
    },
    /// In a column's scope: a moderator hid a comment (or showed it again).
    StoryCommentHidden {
        story: crate::ids::StoryId,
        comment: crate::ids::StoryCommentId,
        hidden: bool,
        comments: u32,
    },
    /// In the workspace scope: a forum section as it now is.
    ForumSectionSaved {
        section: crate::forum::ForumSection,
    },
    /// In a section's scope: `revoked` may read it no longer.
    ForumAccessChanged {
        section: crate::ids::ForumSectionId,
        revoked: Vec<UserId>,
    },
    /// In a section's scope: a topic as it now is (vote counts and one's own choices left
    /// out).
    TopicSaved {
        topic: crate::forum::Topic,
    },
    /// In the section a topic left: it moved to `to`.
    TopicMoved {
        topic: crate::ids::ForumTopicId,
        to: crate::ids::ForumSectionId,
    },
    /// In a section's scope: a reply; `replies` on its topic in all.
    ReplyPosted {
        reply: crate::forum::Reply,
        replies: u32,
    },
    /// In a section's scope: someone voted; `voters` in all (no counts, no choices).
    VoteCast {
        topic: crate::ids::ForumTopicId,
        voters: u32,
    },
    /// In a holder's user scope: a mail as they have it (new, sent, or a draft saved).
    MailSaved {
        mail: crate::mail::Mail,
    },
    /// In a holder's user scope: the mail is no longer theirs (recalled, or deleted for good).
    MailRemoved {
        mail: crate::ids::MailId,
    },
    /// In a holder's user scope: their copy moved to another folder.
    MailMoved {
        mail: crate::ids::MailId,
        folder: crate::mail::Folder,
    },
    /// In a recipient's user scope: they opened it (first time, `at`).
    MailRead {
        mail: crate::ids::MailId,
        at: i64,
    },
    /// In the sender's user scope: a recipient read it, or it was recalled from them.
    MailReceipt {
        mail: crate::ids::MailId,
        receipt: crate::mail::Receipt,
    },
    /// In the owner's user scope: one of their mail folders as it now is.
    MailFolderSaved {
        folder: crate::mail::MailFolder,
    },
    MailFolderRemoved {
        folder: crate::ids::MailFolderId,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl EventBody {
    /// Users who lose read access to the event's scope with this event: their live
    /// subscriptions to it end (on every node, since every node delivers what the database
    /// holds).
    /// A user whose every session this event ends (a deactivated account): each node closes
    /// their sockets and forgets their cached sessions.
    pub fn ends_sessions_of(&self) -> Option<UserId> {
        match self {
            EventBody::PersonSaved { person } if !person.active => Some(person.id),
            _ => None,
        }
    }

    pub fn revoked_readers(&self) -> Vec<UserId> {
        match self {
            EventBody::MembersChanged { removed, .. } => removed.iter().map(|u| u.id).collect(),
            EventBody::SharingChanged { revoked, .. } => revoked.clone(),
            EventBody::NewsAccessChanged { revoked, .. } => revoked.clone(),
            EventBody::ForumAccessChanged { revoked, .. } => revoked.clone(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a known message type.
    BadFrame,
    /// The content fails validation (empty or too long message, …).
    Invalid,
    NotFound,
    Forbidden,
    /// The command conflicts with what exists (a channel name that is taken, …).
    Conflict,
    /// Too many requests; slow down.
    RateLimited,
    /// The server failed; the request may be retried.
    Internal,
}

/// WebSocket close codes the server uses (see PROTOCOL.md).
pub mod close {
    /// Normal closure (logout, shutdown).
    pub const NORMAL: u16 = 1000;
    /// Server is shutting down; reconnect.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame larger than the configured limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server hit an unexpected error.
    pub const INTERNAL: u16 = 1011;
    /// The session ended (logged out or expired): sign in again, do not retry.
    pub const SESSION_ENDED: u16 = 4001;
    /// No frame from the client within the idle timeout.
    pub const IDLE_TIMEOUT: u16 = 4002;
    /// The user has too many sockets open at once.
    pub const TOO_MANY_CONNECTIONS: u16 = 4003;
    /// The connection could not keep up with its outbound queue: reconnect and resume.
    pub const TOO_SLOW: u16 = 4008;
}

/// Reads an event body or a command output from the database. Protocol 2 and earlier stored
/// them with the kind in a `"type"` field (`{"type":"message_posted","message":…}`); those rows
/// are read as `{"message_posted":{"message":…}}` (a kind without fields as `"settings_saved"`).
pub fn decode_stored<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, serde_json::Error> {
    use serde_json::Value;
    let current = serde_json::from_str(json);
    let Err(error) = current else {
        return current;
    };
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(json) else {
        return Err(error);
    };
    let Some(Value::String(kind)) = fields.remove("type") else {
        return Err(error);
    };
    let without_fields = fields.is_empty();
    let tagged = Value::Object(serde_json::Map::from_iter([(
        kind.clone(),
        Value::Object(fields),
    )]));
    serde_json::from_value(tagged).or_else(|e| {
        if without_fields {
            serde_json::from_value(Value::String(kind))
        } else {
            Err(e)
        }
    })
}

impl ServerMsg {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            code,
            message: message.into(),
            client_id: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising these plain data types cannot fail (no maps with non-string keys).
        serde_json::to_string(self).unwrap_or_else(|_| String::from("\"pong\""))
    }
}

impl ClientMsg {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ChannelKind;

    fn message() -> Message {
        Message {
            id: MessageId(9),
            channel: ChannelId(1),
            seq: Seq(3),
            author: UserRef {
                id: UserId(2),
                username: "李雷".into(),
            },
            body: "你好 <b>world</b>\n第二行".into(),
            created_at: 1_764_000_000_000,
            client_id: Some(ClientMsgId("abcdefgh-1".into())),
            reactions: vec![crate::chat::Reaction {
                emoji: "👍".into(),
                users: vec![UserId(2)],
            }],
            edited_at: Some(1_764_000_000_001),
            ..Default::default()
        }
    }

    fn event(scope: Scope, body: EventBody) -> Event {
        Event {
            scope,
            seq: Seq(3),
            actor: Some(UserId(2)),
            at: 1_764_000_000_000,
            client_id: Some(ClientMsgId("abcdefgh-1".into())),
            body,
        }
    }

    /// Events stored by protocol 1 (no envelope fields, channels without a kind) still read.
    #[test]
    fn events_stored_before_the_envelope_still_decode() {
        let old = r#"{"type":"channel_created","channel":{"id":2,"name":"random","created_at":5}}"#;
        let body: EventBody = decode_stored(old).unwrap();
        assert_eq!(
            body,
            EventBody::ChannelCreated {
                channel: Channel {
                    id: ChannelId(2),
                    name: "random".into(),
                    kind: ChannelKind::Public,
                    created_at: 5
                }
            }
        );
    }

    fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(v: T) {
        let json = serde_json::to_string(&v).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v, "{json}");
    }

    #[test]
    fn every_client_message_round_trips() {
        round_trip(ClientMsg::Subscribe {
            scope: Scope::Channel(ChannelId(1)),
            after: Some(Seq(4)),
        });
        round_trip(ClientMsg::Subscribe {
            scope: Scope::Workspace,
            after: None,
        });
        round_trip(ClientMsg::Unsubscribe {
            scope: Scope::Workspace,
        });
        round_trip(ClientMsg::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::PostMessage(PostMessage {
                channel: ChannelId(2),
                body: "中文".into(),
                thread: Some(MessageId(7)),
                attachments: Vec::new(),
            }),
        });
        round_trip(ClientMsg::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::CreateChannel(CreateChannel {
                name: "产品".into(),
                kind: ChannelKind::Private,
                members: vec![UserId(3)],
            }),
        });
        round_trip(ClientMsg::Typing {
            scope: Scope::Channel(ChannelId(1)),
        });
        round_trip(ClientMsg::Ping);
    }

    #[test]
    fn every_server_message_round_trips() {
        let user = CurrentUser {
            id: UserId(1),
            username: "admin".into(),
            is_admin: true,
        };
        round_trip(ServerMsg::Welcome {
            protocol: 1,
            user,
            max_frame_bytes: 16384,
        });
        round_trip(ServerMsg::Event(event(
            Scope::Channel(ChannelId(1)),
            EventBody::MessagePosted { message: message() },
        )));
        round_trip(ServerMsg::Event(event(
            Scope::Workspace,
            EventBody::ChannelCreated {
                channel: Channel {
                    id: ChannelId(5),
                    name: "产品".into(),
                    kind: ChannelKind::Public,
                    created_at: 1,
                },
            },
        )));
        round_trip(ServerMsg::Event(event(
            Scope::Channel(ChannelId(5)),
            EventBody::MembersChanged {
                channel: ChannelId(5),
                added: vec![],
                removed: vec![UserRef {
                    id: UserId(2),
                    username: "李雷".into(),
                }],
            },
        )));
        round_trip(ServerMsg::Unsubscribed {
            scope: Scope::Channel(ChannelId(5)),
            reason: "removed".into(),
        });
        round_trip(ServerMsg::Subscribed {
            scope: Scope::Workspace,
            head: Seq(7),
        });
        round_trip(ServerMsg::Resync {
            scope: Scope::Workspace,
            head: Seq(7),
        });
        round_trip(ServerMsg::Ack {
            client_id: ClientMsgId("abcdefgh".into()),
            duplicate: false,
            output: CommandOutput::MessagePosted {
                message: MessageId(1),
                scope: Scope::Channel(ChannelId(1)),
                seq: Seq(1),
            },
        });
        round_trip(ServerMsg::Presence {
            online: vec![UserRef {
                id: UserId(1),
                username: "a".into(),
            }],
        });
        round_trip(ServerMsg::PresenceChanged {
            joined: vec![UserRef {
                id: UserId(3),
                username: "韩梅梅".into(),
            }],
            left: vec![UserId(4)],
        });
        round_trip(ServerMsg::Typing {
            scope: Scope::Channel(ChannelId(1)),
            user: UserRef {
                id: UserId(3),
                username: "韩梅梅".into(),
            },
        });
        round_trip(ServerMsg::Pong);
        round_trip(ServerMsg::error(ErrorCode::BadFrame, "nope"));
    }

    #[test]
    fn the_json_shape_is_the_documented_one() {
        let json = ClientMsg::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::PostMessage(PostMessage {
                channel: ChannelId(2),
                body: "hi".into(),
                thread: None,
                attachments: Vec::new(),
            }),
        }
        .to_json();
        assert_eq!(
            json,
            r#"{"command":{"client_id":"abcdefgh","command":{"post_message":{"channel":2,"body":"hi"}}}}"#
        );
        assert_eq!(ClientMsg::Ping.to_json(), r#""ping""#);
        let event = ServerMsg::Event(event(
            Scope::Channel(ChannelId(1)),
            EventBody::MessagePosted { message: message() },
        ));
        let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        let event = &value["event"];
        assert_eq!(event["scope"], "channel:1");
        assert_eq!(event["seq"], 3);
        assert_eq!(event["actor"], 2);
        assert_eq!(event["client_id"], "abcdefgh-1");
        assert_eq!(
            event["body"]["message_posted"]["message"]["body"],
            "你好 <b>world</b>\n第二行"
        );
    }

    /// Rows written by protocol 2 (kind in a `"type"` field) read as what they were; rows
    /// written now read too; anything else is still an error.
    #[test]
    fn event_bodies_and_outputs_stored_by_protocol_2_still_decode() {
        let body = EventBody::MessageDeleted {
            message: MessageId(7),
        };
        let stored_v2 = r#"{"type":"message_deleted","message":7}"#;
        assert_eq!(decode_stored::<EventBody>(stored_v2).unwrap(), body);
        let stored_now = serde_json::to_string(&body).unwrap();
        assert_eq!(decode_stored::<EventBody>(&stored_now).unwrap(), body);
        assert_eq!(
            decode_stored::<CommandOutput>(r#"{"type":"settings_saved"}"#).unwrap(),
            CommandOutput::SettingsSaved
        );
        assert_eq!(
            decode_stored::<CommandOutput>(r#"{"type":"marked_read","channel":3,"seq":9}"#)
                .unwrap(),
            CommandOutput::MarkedRead {
                channel: ChannelId(3),
                seq: Some(Seq(9))
            }
        );
        assert!(decode_stored::<EventBody>(r#"{"type":"message_deleted"}"#).is_err());
        assert!(decode_stored::<EventBody>(r#"{"type":"launch_rockets","message":7}"#).is_err());
        assert!(decode_stored::<EventBody>("[]").is_err());
    }

    #[test]
    fn unknown_types_and_missing_fields_are_errors() {
        assert!(serde_json::from_str::<ClientMsg>(r#"{"launch_rockets":{}}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(r#"{"subscribe":{}}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(
            r#"{"command":{"client_id":"abcdefgh","command":{"post_message":{}}}}"#
        )
        .is_err());
        // Protocol 2's framing is refused on the socket (an old tab reloads on `welcome`).
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"ping"}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>("not json").is_err());
    }
}
