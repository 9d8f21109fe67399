//! Chat: channels (public, private, direct, group direct), members and messages. Commands in
//! `commands.rs`, `messages.rs` and `unread.rs` (the only code that writes these tables),
//! reads in `queries.rs`.

pub mod commands;
pub mod markdown;
pub mod mentions;
pub mod messages;
pub mod notifications;
pub mod queries;
pub mod unread;
