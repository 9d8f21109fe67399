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
/// Longest emoji sequence a reaction may be, in characters (a ZWJ family is up to 11).
pub const MAX_EMOJI_CHARS: usize = 12;
/// Different emoji on one message.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 32;
