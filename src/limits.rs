//! Limits both sides enforce. The server is the authority; the browser checks first so the user
//! gets an immediate, visible error instead of a round trip.

/// Longest message body, in characters (Unicode scalar values, so a Chinese character counts 1).
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Longest channel name, in characters.
pub const MAX_CHANNEL_NAME_CHARS: usize = 64;
/// Longest department or role name, in characters.
pub const MAX_DEPARTMENT_NAME_CHARS: usize = 64;
/// Longest full name or title, in characters.
pub const MAX_PROFILE_FIELD_CHARS: usize = 64;
/// Username length bounds, in characters.
pub const MIN_USERNAME_CHARS: usize = 2;
pub const MAX_USERNAME_CHARS: usize = 32;
/// Password length bounds, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Default largest WebSocket frame the server accepts (configurable on the server). A frame
/// above it closes the connection with 1009.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024;
/// Messages in one history page (the first screen renders one page).
pub const HISTORY_PAGE: u32 = 50;
/// Most events the server replays for one scope on resume; further behind, the client is told
/// to refetch (`ServerMsg::Resync`).
pub const MAX_REPLAY_EVENTS: u64 = 1000;
/// Scopes one connection may subscribe to at once.
pub const MAX_SUBSCRIPTIONS: usize = 256;
/// Most people one command may add to a channel (or start a conversation with).
pub const MAX_MEMBERS_PER_COMMAND: usize = 256;
/// Most people one import adds (rows of an import file).
pub const MAX_IMPORT_ROWS: usize = 2000;
/// Most files attached to one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Entries one audience (a share, a notice's readers …) may list.
pub const MAX_AUDIENCE_MEMBERS: usize = 200;
/// A notice's title, at most this many characters.
pub const MAX_NOTICE_TITLE_CHARS: usize = 200;
/// A notice's body (Markdown), at most this many characters.
pub const MAX_NOTICE_BODY_CHARS: usize = 50_000;
/// A news story's title, summary and body (Markdown), at most this many characters.
pub const MAX_STORY_TITLE_CHARS: usize = 200;
pub const MAX_STORY_SUMMARY_CHARS: usize = 500;
pub const MAX_STORY_BODY_CHARS: usize = 100_000;
/// A comment (on a story, …), at most this many characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// A short message (短信) holds at most this many characters.
pub const MAX_SHORT_MESSAGE_CHARS: usize = 500;
/// A short message reaches at most this many people (an audience is resolved to its people).
pub const MAX_SHORT_MESSAGE_RECIPIENTS: usize = 2_000;
/// Share links one cabinet entry may have.
pub const MAX_SHARE_LINKS: usize = 20;
/// Personal contacts one import may add, and one person may keep.
pub const MAX_CONTACTS: usize = 5_000;
/// A contact's note.
pub const MAX_CONTACT_NOTE_CHARS: usize = 1_000;
/// Longest file or folder name, in bytes (what file systems allow).
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Largest piece of an upload sent in one request; a browser sends a large file in pieces.
pub const MAX_UPLOAD_PIECE_BYTES: usize = 8 * 1024 * 1024;
/// Largest file by default (an admin changes it in the workspace settings).
pub const DEFAULT_MAX_FILE_MB: u32 = 1024;
/// Each person's file quota by default (an admin changes it).
pub const DEFAULT_QUOTA_MB: u32 = 10 * 1024;
/// Largest import file (CSV or xlsx), in bytes.
pub const MAX_IMPORT_FILE_BYTES: usize = 2 * 1024 * 1024;
/// Longest emoji sequence a reaction may be, in characters (a ZWJ family is up to 11).
pub const MAX_EMOJI_CHARS: usize = 12;
/// Different emoji on one message.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 32;
