//! The frames on `/ws`: JSON text frames, each an object whose one key names its kind
//! (serde's external tagging: the browser decodes it in one pass, with no buffering).
//!
//! Every write a browser makes is a [`Command`] (over the socket, or through the `/api/command`
//! server function: the same path either way), answered by one [`ServerMsg::Ack`] shape carrying
//! the command's typed [`CommandOutput`]. Every change is an [`Event`] in one scope's log; its
//! envelope says who caused it, when, and with which client id.

use crate::chat::{
    AddMembers, Channel, CreateChannel, DeleteMessage, EditMessage, MarkRead, PinMessage,
    PostMessage, React, RemoveMember,
};
use crate::ids::{ChannelId, ClientMsgId, MessageId, Scope, Seq, UserId};
use crate::model::{CurrentUser, UserRef};
use serde::{Deserialize, Serialize};

/// Browser → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// Generic over the command only for the browser, which sends each feature's command as a
/// [`Tagged`] (same JSON).
pub enum ClientMsg<C = Command> {
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
    Command { client_id: ClientMsgId, command: C },
    /// "I am typing in this channel": ephemeral, never stored, relayed to the channel's other
    /// subscribers (on every node) as `typing`. Only for a scope this connection is subscribed
    /// to; a few per second at most (more are dropped).
    Typing { scope: Scope },
    /// Application-level keepalive (browsers cannot see WebSocket pings). Answered by `Pong`.
    Ping,
}

/// Every write, of every feature. A feature defines its command structs in its own module and
/// adds one line here: the variant, the struct, and its kind (the key of its JSON object).
macro_rules! commands {
    ($($variant:ident($command:ty) = $kind:literal,)*) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Command {
            $(#[serde(rename = $kind)] $variant($command),)*
        }

        $(
            impl CommandBody for $command {
                const KIND: &'static str = $kind;
            }

            impl From<$command> for Command {
                fn from(command: $command) -> Self {
                    Command::$variant(command)
                }
            }
        )*
    };
}

/// One feature's command: sent on its own as `{"<KIND>": {…}}` (see [`Tagged::command`]), so
/// the browser encodes only the commands of the screens it has loaded.
pub trait CommandBody: Serialize + Into<Command> {
    const KIND: &'static str;
}

commands! {
    PostMessage(PostMessage) = "post_message",
    CreateChannel(CreateChannel) = "create_channel",
    AddMembers(AddMembers) = "add_members",
    RemoveMember(RemoveMember) = "remove_member",
    EditMessage(EditMessage) = "edit_message",
    DeleteMessage(DeleteMessage) = "delete_message",
    React(React) = "react",
    PinMessage(PinMessage) = "pin_message",
    MarkRead(MarkRead) = "mark_read",
    UpdateSettings(crate::settings::UpdateSettings) = "update_settings",
    SeeNotifications(crate::chat::SeeNotifications) = "see_notifications",
    UpdateWorkspaceSettings(crate::settings::UpdateWorkspaceSettings) = "update_workspace_settings",
    CreateDepartment(crate::org::CreateDepartment) = "create_department",
    RenameDepartment(crate::org::RenameDepartment) = "rename_department",
    MoveDepartment(crate::org::MoveDepartment) = "move_department",
    RemoveDepartment(crate::org::RemoveDepartment) = "remove_department",
    CreateRole(crate::org::CreateRole) = "create_role",
    RemoveRole(crate::org::RemoveRole) = "remove_role",
    UpdatePerson(crate::org::UpdatePerson) = "update_person",
    SetPersonActive(crate::org::SetPersonActive) = "set_person_active",
    ImportPeople(crate::org::ImportPeople) = "import_people",
    CreateFolder(crate::files::CreateFolder) = "create_folder",
    SaveUpload(crate::files::SaveUpload) = "save_upload",
    RenameEntry(crate::files::RenameEntry) = "rename_entry",
    MoveEntry(crate::files::MoveEntry) = "move_entry",
    DeleteEntry(crate::files::DeleteEntry) = "delete_entry",
    RestoreEntry(crate::files::RestoreEntry) = "restore_entry",
    EmptyRecycleBin(crate::files::EmptyRecycleBin) = "empty_recycle_bin",
    ShareEntry(crate::files::ShareEntry) = "share_entry",
    Unshare(crate::files::Unshare) = "unshare",
    CreateShareLink(crate::files::CreateShareLink) = "create_share_link",
    DeleteShareLink(crate::files::DeleteShareLink) = "delete_share_link",
    SaveContact(crate::contacts::SaveContact) = "save_contact",
    RemoveContact(crate::contacts::RemoveContact) = "remove_contact",
    CreateContactGroup(crate::contacts::CreateContactGroup) = "create_contact_group",
    RemoveContactGroup(crate::contacts::RemoveContactGroup) = "remove_contact_group",
    ImportContacts(crate::contacts::ImportContacts) = "import_contacts",
    DefineField(crate::org::DefineField) = "define_field",
    RemoveField(crate::org::RemoveField) = "remove_field",
    SetMyFields(crate::org::SetMyFields) = "set_my_fields",
    SaveNotificationSettings(crate::notify::SaveNotificationSettings) = "save_notification_settings",
    SendShortMessage(crate::short_messages::SendShortMessage) = "send_short_message",
    ReadShortMessage(crate::short_messages::ReadShortMessage) = "read_short_message",
    DefineNoticeType(crate::notices::DefineNoticeType) = "define_notice_type",
    RemoveNoticeType(crate::notices::RemoveNoticeType) = "remove_notice_type",
    SaveNotice(crate::notices::SaveNotice) = "save_notice",
    PublishNotice(crate::notices::PublishNotice) = "publish_notice",
    ReviewNotice(crate::notices::ReviewNotice) = "review_notice",
    WithdrawNotice(crate::notices::WithdrawNotice) = "withdraw_notice",
    ReadNotice(crate::notices::ReadNotice) = "read_notice",
    AcknowledgeNotice(crate::notices::AcknowledgeNotice) = "acknowledge_notice",
    RemindNotice(crate::notices::RemindNotice) = "remind_notice",
    ReleaseNotice(crate::notices::ReleaseNotice) = "release_notice",
    SaveNewsColumn(crate::news::SaveNewsColumn) = "save_news_column",
    SaveStory(crate::news::SaveStory) = "save_story",
    PublishStory(crate::news::PublishStory) = "publish_story",
    WithdrawStory(crate::news::WithdrawStory) = "withdraw_story",
    ReleaseStory(crate::news::ReleaseStory) = "release_story",
    ViewStory(crate::news::ViewStory) = "view_story",
    LikeStory(crate::news::LikeStory) = "like_story",
    CommentOnStory(crate::news::CommentOnStory) = "comment_on_story",
    HideStoryComment(crate::news::HideStoryComment) = "hide_story_comment",
    ShareStory(crate::news::ShareStory) = "share_story",
    SaveForumSection(crate::forum::SaveForumSection) = "save_forum_section",
    StartTopic(crate::forum::StartTopic) = "start_topic",
    ReplyToTopic(crate::forum::ReplyToTopic) = "reply_to_topic",
    AcceptAnswer(crate::forum::AcceptAnswer) = "accept_answer",
    CastVote(crate::forum::CastVote) = "cast_vote",
    ModerateTopic(crate::forum::ModerateTopic) = "moderate_topic",
    MuteInSection(crate::forum::MuteInSection) = "mute_in_section",
    SaveMail(crate::mail::SaveMail) = "save_mail",
    ReadMail(crate::mail::ReadMail) = "read_mail",
    RecallMail(crate::mail::RecallMail) = "recall_mail",
    MoveMail(crate::mail::MoveMail) = "move_mail",
    DeleteMail(crate::mail::DeleteMail) = "delete_mail",
    SaveMailFolder(crate::mail::SaveMailFolder) = "save_mail_folder",
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
/// Generic over event bodies and command outputs only for the browser, which reads them as
/// [`Tagged`] and raw JSON and leaves the decoding to the feature they belong to.
pub enum ServerMsg<B = EventBody, O = CommandOutput> {
    /// First frame on every connection.
    Welcome {
        protocol: u32,
        user: CurrentUser,
        /// Largest frame the server accepts, in bytes.
        max_frame_bytes: usize,
    },
    /// A stored event of a subscribed scope. Sequence numbers per scope are gapless; a client
    /// drops any it has already applied.
    Event(Event<B>),
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
        output: O,
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
pub struct Event<B = EventBody> {
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
    pub body: B,
}

/// What happened: one feature's event. The JSON is the feature's own (an object with one key
/// naming the kind), so the browser decodes only the features on its screen; see
/// [`FeatureEvent`] and [`Tagged`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventBody {
    Chat(crate::chat::ChatEvent),
    Settings(crate::settings::SettingsEvent),
    Org(crate::org::OrgEvent),
    Files(crate::files::FilesEvent),
    Contacts(crate::contacts::ContactsEvent),
    Notify(crate::notify::NotifyEvent),
    ShortMessages(crate::short_messages::ShortMessageEvent),
    Notices(crate::notices::NoticeEvent),
    News(crate::news::NewsEvent),
    Forum(crate::forum::ForumEvent),
    Mail(crate::mail::MailEvent),
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

impl EventBody {
    /// A user whose every session this event ends (a deactivated account): each node closes
    /// their sockets and forgets their cached sessions.
    pub fn ends_sessions_of(&self) -> Option<UserId> {
        match self {
            EventBody::Org(crate::org::OrgEvent::PersonSaved { person }) if !person.active => {
                Some(person.id)
            }
            _ => None,
        }
    }

    /// Users who lose read access to the event's scope with this event: their live
    /// subscriptions to it end (on every node, since every node delivers what the database
    /// holds).
    pub fn revoked_readers(&self) -> Vec<UserId> {
        use crate::{chat::ChatEvent, files::FilesEvent, forum::ForumEvent, news::NewsEvent};
        match self {
            EventBody::Chat(ChatEvent::MembersChanged { removed, .. }) => {
                removed.iter().map(|u| u.id).collect()
            }
            EventBody::Files(FilesEvent::SharingChanged { revoked, .. })
            | EventBody::News(NewsEvent::NewsAccessChanged { revoked, .. })
            | EventBody::Forum(ForumEvent::ForumAccessChanged { revoked, .. }) => revoked.clone(),
            _ => Vec::new(),
        }
    }

    /// This body as the feature's own event, if it is one of `F`'s.
    pub fn feature<F: FeatureEvent>(&self) -> Option<&F> {
        F::of(self)
    }
}

/// One feature's events ([`crate::chat::ChatEvent`], [`crate::mail::MailEvent`], …): a part of
/// [`EventBody`] that decodes on its own. A screen decodes only its features' events (see
/// [`Tagged::event`]), so the browser's first screen does not carry every module's decoders.
/// Its kinds are the variant names serde's derive lists, so a feature enum uses neither
/// `#[serde(alias)]` nor `#[serde(other)]` (a kind the list lacks would not be routed to it).
pub trait FeatureEvent:
    Serialize + for<'de> Deserialize<'de> + Into<EventBody> + Sized + 'static
{
    /// The kinds it has: the keys its bodies' JSON objects may have.
    fn kinds() -> &'static [&'static str];
    /// The body, if it is this feature's.
    fn of(body: &EventBody) -> Option<&Self>;
}

/// One kind of a feature's events on its own: that variant's fields as a struct. A reader
/// that needs only this kind decodes it with [`Tagged::content`], without the decoders of the
/// feature's other kinds (which the browser's first screen then does not carry).
pub trait EventContent: for<'de> Deserialize<'de> {
    /// The kind: the variant's name as its feature's event enum writes it.
    const KIND: &'static str;
}

/// Implements [`FeatureEvent`] for each feature's event enum and lists them in [`EventBody`]'s
/// decoder (in this order: the busiest first).
macro_rules! feature_events {
    ($($variant:ident($feature:ty),)*) => {
        $(
            impl FeatureEvent for $feature {
                fn kinds() -> &'static [&'static str] {
                    static KINDS: std::sync::OnceLock<&'static [&'static str]> =
                        std::sync::OnceLock::new();
                    KINDS.get_or_init(variant_names::<$feature>)
                }

                fn of(body: &EventBody) -> Option<&Self> {
                    match body {
                        EventBody::$variant(event) => Some(event),
                        _ => None,
                    }
                }
            }

            impl From<$feature> for EventBody {
                fn from(event: $feature) -> Self {
                    EventBody::$variant(event)
                }
            }
        )*

        /// Reads the kind (the object's one key), then only the feature that has it.
        fn decode_body<'de, A: serde::de::MapAccess<'de>>(
            kind: &str,
            map: &mut A,
        ) -> Result<EventBody, A::Error> {
            $(
                if <$feature>::kinds().contains(&kind) {
                    return map.next_value_seed(OfKind::<$feature>::new(kind)).map(EventBody::$variant);
                }
            )*
            Err(serde::de::Error::unknown_variant(kind, &[]))
        }
    };
}

feature_events! {
    Chat(crate::chat::ChatEvent),
    Notify(crate::notify::NotifyEvent),
    Settings(crate::settings::SettingsEvent),
    Org(crate::org::OrgEvent),
    Files(crate::files::FilesEvent),
    Contacts(crate::contacts::ContactsEvent),
    ShortMessages(crate::short_messages::ShortMessageEvent),
    Notices(crate::notices::NoticeEvent),
    News(crate::news::NewsEvent),
    Forum(crate::forum::ForumEvent),
    Mail(crate::mail::MailEvent),
}

impl<'de> Deserialize<'de> for EventBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OneKindVisitor::<EventBody>(std::marker::PhantomData))
    }
}

/// A value written as an object whose one key is its kind ([`EventBody`], [`Tagged`]): how
/// to read the rest once the kind is known.
trait OfOneKind<'de>: Sized {
    const EXPECTING: &'static str;
    fn read<A: serde::de::MapAccess<'de>>(kind: String, map: &mut A) -> Result<Self, A::Error>;
}

impl<'de> OfOneKind<'de> for EventBody {
    const EXPECTING: &'static str = "an event body: an object whose one key is its kind";

    fn read<A: serde::de::MapAccess<'de>>(kind: String, map: &mut A) -> Result<Self, A::Error> {
        decode_body(&kind, map)
    }
}

/// Reads the kind, the value after it, and refuses a second key.
struct OneKindVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: OfOneKind<'de>> serde::de::Visitor<'de> for OneKindVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(serde::de::Error::invalid_length(0, &self));
        };
        let value = T::read(kind, &mut map)?;
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(serde::de::Error::invalid_length(2, &self));
        }
        Ok(value)
    }
}

/// The names of an externally tagged enum's variants, as serde's derive lists them (it hands
/// them to `deserialize_enum`; this deserializer keeps them and stops there).
fn variant_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::value::Error;
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Names<'_> {
        type Error = Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(serde::de::Error::custom("not an enum"))
        }

        fn deserialize_enum<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = variants;
            Err(serde::de::Error::custom("names read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map struct
            identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// Decodes one variant of an externally tagged enum whose kind was already read: the value
/// deserializer given is the variant's content.
struct OfKind<'k, T> {
    kind: &'k str,
    of: std::marker::PhantomData<T>,
}

impl<'k, T> OfKind<'k, T> {
    fn new(kind: &'k str) -> Self {
        OfKind {
            kind,
            of: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for OfKind<'_, T> {
    type Value = T;

    fn deserialize<D: serde::Deserializer<'de>>(self, content: D) -> Result<T, D::Error> {
        T::deserialize(Variant {
            kind: self.kind,
            content,
        })
    }
}

/// An enum's variant: its kind, and a deserializer of its content.
struct Variant<'k, D> {
    kind: &'k str,
    content: D,
}

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for Variant<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, D: serde::Deserializer<'de>> serde::de::EnumAccess<'de> for Variant<'_, D> {
    type Error = D::Error;
    type Variant = Content<D>;

    fn variant_seed<S: serde::de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Content<D>), D::Error> {
        use serde::de::IntoDeserializer;
        let kind = seed.deserialize(self.kind.into_deserializer())?;
        Ok((kind, Content(self.content)))
    }
}

struct Content<D>(D);

impl<'de, D: serde::Deserializer<'de>> serde::de::VariantAccess<'de> for Content<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        <()>::deserialize(self.0)
    }

    fn newtype_variant_seed<S: serde::de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, D::Error> {
        seed.deserialize(self.0)
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct("", fields, visitor)
    }
}

/// A command or an event body kept as its kind and its JSON, decoded later by the feature it
/// belongs to. The browser's socket reads frames into these (`ServerMsg<Tagged, …>`), so the
/// code that decodes a module's events is compiled into that module's lazily loaded chunk.
/// Same JSON as the typed value: an object with one key, the kind.
#[derive(Debug, Clone)]
pub struct Tagged {
    kind: String,
    json: Box<serde_json::value::RawValue>,
}

impl PartialEq for Tagged {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.json.get() == other.json.get()
    }
}

impl Tagged {
    /// A feature's command, ready to send (see [`ClientMsg::Command`]).
    pub fn command<C: CommandBody>(command: &C) -> Result<Tagged, serde_json::Error> {
        Ok(Tagged {
            kind: C::KIND.to_owned(),
            json: serde_json::value::to_raw_value(command)?,
        })
    }

    /// Any typed value with this JSON shape (an event body, say), kept as text.
    pub fn encode<T: Serialize>(value: &T) -> Result<Tagged, serde_json::Error> {
        serde_json::from_str(&serde_json::to_string(value)?)
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The command, if it is a `C`.
    pub fn command_as<C: CommandBody + for<'de> Deserialize<'de>>(&self) -> Option<C> {
        if self.kind != C::KIND {
            return None;
        }
        serde_json::from_str(self.json.get()).ok()
    }

    /// The event body's content, if it is of kind `T::KIND` (`Err`: it is, but does not
    /// decode).
    pub fn content<T: EventContent>(&self) -> Result<Option<T>, serde_json::Error> {
        if self.kind != T::KIND {
            return Ok(None);
        }
        serde_json::from_str(self.json.get()).map(Some)
    }

    /// The event body, if it is one of feature `F`'s (`Err`: it is, but does not decode).
    pub fn event<F: FeatureEvent>(&self) -> Result<Option<F>, serde_json::Error> {
        if !F::kinds().contains(&self.kind.as_str()) {
            return Ok(None);
        }
        let mut content = serde_json::Deserializer::from_str(self.json.get());
        F::deserialize(Variant {
            kind: &self.kind,
            content: &mut content,
        })
        .map(Some)
    }
}

impl Serialize for Tagged {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.kind, &self.json)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Tagged {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OneKindVisitor::<Tagged>(std::marker::PhantomData))
    }
}

impl<'de> OfOneKind<'de> for Tagged {
    const EXPECTING: &'static str = "an object whose one key is its kind";

    fn read<A: serde::de::MapAccess<'de>>(kind: String, map: &mut A) -> Result<Self, A::Error> {
        Ok(Tagged {
            kind,
            json: map.next_value()?,
        })
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

impl<C: Serialize> ClientMsg<C> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ChannelKind, Message};

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

    fn event(scope: Scope, body: impl Into<EventBody>) -> Event {
        Event {
            scope,
            seq: Seq(3),
            actor: Some(UserId(2)),
            at: 1_764_000_000_000,
            client_id: Some(ClientMsgId("abcdefgh-1".into())),
            body: body.into(),
        }
    }

    /// Events stored by protocol 1 (no envelope fields, channels without a kind) still read.
    #[test]
    fn events_stored_before_the_envelope_still_decode() {
        let old = r#"{"type":"channel_created","channel":{"id":2,"name":"random","created_at":5}}"#;
        let body: EventBody = decode_stored(old).unwrap();
        assert_eq!(
            body,
            EventBody::from(crate::chat::ChatEvent::ChannelCreated {
                channel: Channel {
                    id: ChannelId(2),
                    name: "random".into(),
                    kind: ChannelKind::Public,
                    created_at: 5
                }
            })
        );
    }

    fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(v: T) {
        let json = serde_json::to_string(&v).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v, "{json}");
    }

    #[test]
    fn every_client_message_round_trips() {
        round_trip(ClientMsg::<Command>::Subscribe {
            scope: Scope::Channel(ChannelId(1)),
            after: Some(Seq(4)),
        });
        round_trip(ClientMsg::<Command>::Subscribe {
            scope: Scope::Workspace,
            after: None,
        });
        round_trip(ClientMsg::<Command>::Unsubscribe {
            scope: Scope::Workspace,
        });
        round_trip(ClientMsg::<Command>::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::PostMessage(PostMessage {
                channel: ChannelId(2),
                body: "中文".into(),
                thread: Some(MessageId(7)),
                attachments: Vec::new(),
            }),
        });
        round_trip(ClientMsg::<Command>::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::CreateChannel(CreateChannel {
                name: "产品".into(),
                kind: ChannelKind::Private,
                members: vec![UserId(3)],
            }),
        });
        round_trip(ClientMsg::<Command>::Typing {
            scope: Scope::Channel(ChannelId(1)),
        });
        round_trip(ClientMsg::<Command>::Ping);
    }

    #[test]
    fn every_server_message_round_trips() {
        let user = CurrentUser {
            id: UserId(1),
            username: "admin".into(),
            is_admin: true,
        };
        round_trip(ServerMsg::<EventBody, CommandOutput>::Welcome {
            protocol: 1,
            user,
            max_frame_bytes: 16384,
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Event(event(
            Scope::Channel(ChannelId(1)),
            crate::chat::ChatEvent::MessagePosted { message: message() },
        )));
        round_trip(ServerMsg::<EventBody, CommandOutput>::Event(event(
            Scope::Workspace,
            crate::chat::ChatEvent::ChannelCreated {
                channel: Channel {
                    id: ChannelId(5),
                    name: "产品".into(),
                    kind: ChannelKind::Public,
                    created_at: 1,
                },
            },
        )));
        round_trip(ServerMsg::<EventBody, CommandOutput>::Event(event(
            Scope::Channel(ChannelId(5)),
            crate::chat::ChatEvent::MembersChanged {
                channel: ChannelId(5),
                added: vec![],
                removed: vec![UserRef {
                    id: UserId(2),
                    username: "李雷".into(),
                }],
            },
        )));
        round_trip(ServerMsg::<EventBody, CommandOutput>::Unsubscribed {
            scope: Scope::Channel(ChannelId(5)),
            reason: "removed".into(),
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Subscribed {
            scope: Scope::Workspace,
            head: Seq(7),
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Resync {
            scope: Scope::Workspace,
            head: Seq(7),
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Ack {
            client_id: ClientMsgId("abcdefgh".into()),
            duplicate: false,
            output: CommandOutput::MessagePosted {
                message: MessageId(1),
                scope: Scope::Channel(ChannelId(1)),
                seq: Seq(1),
            },
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Presence {
            online: vec![UserRef {
                id: UserId(1),
                username: "a".into(),
            }],
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::PresenceChanged {
            joined: vec![UserRef {
                id: UserId(3),
                username: "韩梅梅".into(),
            }],
            left: vec![UserId(4)],
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Typing {
            scope: Scope::Channel(ChannelId(1)),
            user: UserRef {
                id: UserId(3),
                username: "韩梅梅".into(),
            },
        });
        round_trip(ServerMsg::<EventBody, CommandOutput>::Pong);
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
        assert_eq!(ClientMsg::<Command>::Ping.to_json(), r#""ping""#);
        let event = ServerMsg::<EventBody, CommandOutput>::Event(event(
            Scope::Channel(ChannelId(1)),
            crate::chat::ChatEvent::MessagePosted { message: message() },
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
        let body = EventBody::from(crate::chat::ChatEvent::MessageDeleted {
            message: MessageId(7),
        });
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

    /// One body of every feature, for the tests below.
    fn one_of_each_feature() -> Vec<EventBody> {
        use crate::ids::*;
        vec![
            crate::chat::ChatEvent::MessagePosted { message: message() }.into(),
            crate::notify::NotifyEvent::NotificationSettingsChanged {
                settings: Default::default(),
            }
            .into(),
            crate::settings::SettingsEvent::SettingsChanged {
                settings: Default::default(),
            }
            .into(),
            crate::org::OrgEvent::RoleRemoved { role: RoleId(4) }.into(),
            crate::files::FilesEvent::ShareWithdrawn {
                entry: crate::files::EntryId(5),
            }
            .into(),
            crate::contacts::ContactsEvent::ContactRemoved {
                contact: ContactId(6),
            }
            .into(),
            crate::short_messages::ShortMessageEvent::ShortMessageRead {
                id: ShortMessageId(7),
                at: 8,
            }
            .into(),
            crate::notices::NoticeEvent::NoticeRemoved {
                notice: NoticeId(9),
            }
            .into(),
            crate::news::NewsEvent::StoryRemoved { story: StoryId(10) }.into(),
            crate::forum::ForumEvent::VoteCast {
                topic: ForumTopicId(11),
                voters: 12,
            }
            .into(),
            crate::mail::MailEvent::MailRead {
                mail: MailId(13),
                at: 14,
            }
            .into(),
        ]
    }

    /// Every kind belongs to exactly one feature: the decoder routes by kind alone.
    #[test]
    fn every_kind_names_one_feature() {
        let kinds = [
            crate::chat::ChatEvent::kinds(),
            crate::notify::NotifyEvent::kinds(),
            crate::settings::SettingsEvent::kinds(),
            crate::org::OrgEvent::kinds(),
            crate::files::FilesEvent::kinds(),
            crate::contacts::ContactsEvent::kinds(),
            crate::short_messages::ShortMessageEvent::kinds(),
            crate::notices::NoticeEvent::kinds(),
            crate::news::NewsEvent::kinds(),
            crate::forum::ForumEvent::kinds(),
            crate::mail::MailEvent::kinds(),
        ];
        let all: Vec<&str> = kinds.iter().flat_map(|k| k.iter().copied()).collect();
        let distinct: std::collections::HashSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len(), "a kind in two features: {all:?}");
        assert!(crate::chat::ChatEvent::kinds().contains(&"message_posted"));
        assert!(crate::mail::MailEvent::kinds().contains(&"mail_folder_removed"));
        assert_eq!(all.len(), 65);
    }

    /// The whole body decodes to the feature it came from; kept as [`Tagged`], it decodes as
    /// that feature's event and as no other's.
    #[test]
    fn a_body_decodes_whole_or_by_its_feature_alone() {
        for body in one_of_each_feature() {
            let json = serde_json::to_string(&body).unwrap();
            assert_eq!(
                serde_json::from_str::<EventBody>(&json).unwrap(),
                body,
                "{json}"
            );
            assert_eq!(decode_stored::<EventBody>(&json).unwrap(), body, "{json}");
            let tagged: Tagged = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&tagged).unwrap(), json);
            assert_eq!(tagged, Tagged::encode(&body).unwrap());
            let chat = tagged.event::<crate::chat::ChatEvent>().unwrap();
            let mail = tagged.event::<crate::mail::MailEvent>().unwrap();
            match &body {
                EventBody::Chat(event) => {
                    assert_eq!(chat.as_ref(), Some(event));
                    assert_eq!(mail, None);
                }
                EventBody::Mail(event) => {
                    assert_eq!(mail.as_ref(), Some(event));
                    assert_eq!(chat, None);
                }
                _ => assert_eq!((chat, mail), (None, None), "{json}"),
            }
        }
        let posted = Tagged::encode(&one_of_each_feature()[0]).unwrap();
        assert_eq!(posted.kind(), "message_posted");
        // A frame read through the browser's types keeps the body for later.
        let frame = ServerMsg::<EventBody, CommandOutput>::Event(event(
            Scope::Channel(ChannelId(1)),
            one_of_each_feature().remove(0),
        ))
        .to_json();
        let ServerMsg::<Tagged, Box<serde_json::value::RawValue>>::Event(read) =
            serde_json::from_str(&frame).unwrap()
        else {
            panic!("not an event: {frame}");
        };
        assert_eq!(read.seq, Seq(3));
        assert_eq!(read.body, posted);
    }

    #[test]
    fn bodies_that_are_not_one_known_kind_are_errors() {
        for bad in [
            r#"{"launch_rockets":{"message":7}}"#,
            r#"{}"#,
            r#"{"message_deleted":{"message":7},"message_pinned":{"message":7,"pinned":true}}"#,
            r#"{"message_deleted":{}}"#,
            r#""message_deleted""#,
        ] {
            assert!(serde_json::from_str::<EventBody>(bad).is_err(), "{bad}");
        }
        let tagged: Tagged = serde_json::from_str(r#"{"message_deleted":{"id":7}}"#).unwrap();
        assert!(tagged.event::<crate::chat::ChatEvent>().is_err());
    }

    /// A command sent on its own ([`Tagged::command`]) is the same frame as the whole
    /// [`Command`], and reads back as what was sent.
    #[test]
    fn a_command_on_its_own_is_the_same_frame() {
        let post = PostMessage {
            channel: ChannelId(2),
            body: "hi".into(),
            thread: None,
            attachments: Vec::new(),
        };
        let whole = ClientMsg::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: Command::from(post.clone()),
        };
        let tagged = Tagged::command(&post).unwrap();
        assert_eq!(tagged.command_as::<PostMessage>(), Some(post.clone()));
        assert_eq!(tagged.command_as::<MarkRead>(), None);
        let alone = ClientMsg::Command {
            client_id: ClientMsgId("abcdefgh".into()),
            command: tagged,
        };
        assert_eq!(alone.to_json(), whole.to_json());
        assert_eq!(
            serde_json::from_str::<ClientMsg>(&alone.to_json()).unwrap(),
            whole
        );
        let mark = MarkRead {
            channel: ChannelId(2),
            seq: Seq(4),
        };
        assert_eq!(
            serde_json::to_value(Tagged::command(&mark).unwrap()).unwrap(),
            serde_json::to_value(Command::from(mark)).unwrap()
        );
    }
}
