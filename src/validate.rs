//! Validation run by the browser before sending and by the server before storing.

use crate::limits::*;

/// Which rule a value broke. It crosses the wire (a server function's refusal), so each
/// side can say it in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationError {
    #[error("Message is empty")]
    EmptyMessage,
    #[error("Message is too long ({chars} characters; the limit is {MAX_MESSAGE_CHARS})")]
    MessageTooLong { chars: usize },
    #[error("Channel name is empty")]
    EmptyChannelName,
    #[error("Channel name is too long (the limit is {MAX_CHANNEL_NAME_CHARS} characters)")]
    ChannelNameTooLong,
    #[error("Channel name may not contain control characters, '#' or '/'")]
    ChannelNameBadCharacter,
    #[error("Username must be {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters")]
    UsernameLength,
    #[error("Username may contain only letters, digits, '.', '-' and '_'")]
    UsernameBadCharacter,
    #[error("Password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    PasswordLength,
    #[error("A reaction is one emoji")]
    NotAnEmoji,
    #[error("Department name is empty")]
    EmptyDepartmentName,
    #[error("Department name is too long (the limit is {MAX_DEPARTMENT_NAME_CHARS} characters)")]
    DepartmentNameTooLong,
    #[error("Department name may not contain control characters or '/'")]
    DepartmentNameBadCharacter,
    #[error("Role name is empty")]
    EmptyRoleName,
    #[error("Role name is too long (the limit is {MAX_DEPARTMENT_NAME_CHARS} characters)")]
    RoleNameTooLong,
    #[error("Role name may not contain control characters")]
    RoleNameBadCharacter,
    #[error("Name and title are at most {MAX_PROFILE_FIELD_CHARS} characters, without control characters")]
    BadProfileField,
    #[error("A mobile number is 3 to 20 digits, with an optional leading '+'")]
    BadMobile,
    #[error("That is not an email address")]
    BadEmail,
    #[error("A file name is 1 to 255 bytes, without control characters or / \\ : * ? \" < > |")]
    FileName,
    #[error(
        "An audience is 1 to {MAX_AUDIENCE_MEMBERS} of: everyone, a person, a department or a role"
    )]
    Audience,
    #[error("A link password is 4 to {MAX_PASSWORD_CHARS} characters")]
    LinkPassword,
    #[error("A contact needs a name of at most {MAX_PROFILE_FIELD_CHARS} characters, and a note of at most {MAX_CONTACT_NOTE_CHARS}")]
    ContactFields,
    #[error("Notification settings list a module twice")]
    ModuleListedTwice,
    #[error("Quiet hours need a start and a different end within the day, and a time zone offset of at most 14 hours")]
    QuietHours,
    #[error("The webhook must be an http:// or https:// address of at most 2000 characters")]
    WebhookUrl,
    #[error("The webhook secret is at most 200 characters")]
    WebhookSecret,
    #[error("A short message is 1 to {MAX_SHORT_MESSAGE_CHARS} characters")]
    ShortMessageText,
    #[error("A notice needs a title of 1 to {MAX_NOTICE_TITLE_CHARS} characters and a body of at most {MAX_NOTICE_BODY_CHARS}")]
    NoticeText,
    #[error("A notice's dates are out of order (valid from, then until; pinned until within them)")]
    NoticeDates,
    #[error("A revision of a published notice says what changed (1 to 500 characters)")]
    RevisionNote,
    #[error("A story needs a title of 1 to {MAX_STORY_TITLE_CHARS} characters, a summary of at most {MAX_STORY_SUMMARY_CHARS} and a body of at most {MAX_STORY_BODY_CHARS}")]
    StoryText,
    #[error("A publishing time lies between the years 2000 and 2200")]
    PublishAt,
    #[error("A comment is 1 to {MAX_COMMENT_CHARS} characters")]
    CommentText,
    #[error("A topic needs a title of 1 to {MAX_STORY_TITLE_CHARS} characters and a body of at most {MAX_STORY_BODY_CHARS}")]
    TopicText,
    #[error("A vote has 2 to 20 different options of 1 to 100 characters, and lets one pick 1 to as many as there are")]
    VoteOptions,
    #[error("A reply is 1 to 10000 characters")]
    ReplyText,
    #[error("A mail has a subject of 1 to {MAX_STORY_TITLE_CHARS} characters, a body of at most {MAX_STORY_BODY_CHARS} and at most {MAX_ATTACHMENTS} files")]
    MailText,
    #[error("Outside addresses are plain email addresses (name@example.com), at most {} of them", crate::mail::MAX_OUTSIDE_ADDRESSES)]
    OutsideAddress,
}

/// A reaction: one emoji, possibly a sequence (skin tone, ZWJ family, flag), nothing else —
/// no letters, digits, spaces or markup.
pub fn emoji(emoji: &str) -> Result<&str, ValidationError> {
    let chars = emoji.chars().count();
    let pictographic = |c: char| {
        let c = c as u32;
        // Symbols, dingbats, arrows, emoji blocks, regional indicators.
        (0x2190..=0x2BFF).contains(&c)
            || (0x1F000..=0x1FAFF).contains(&c)
            || c == 0x00A9
            || c == 0x00AE
            || c == 0x3030
            || c == 0x303D
    };
    let joiner = |c: char| {
        let c = c as u32;
        // ZWJ, variation selectors, skin tones, keycap, tags.
        c == 0x200D
            || (0xFE00..=0xFE0F).contains(&c)
            || c == 0x20E3
            || (0xE0020..=0xE007F).contains(&c)
    };
    let ok = (1..=MAX_EMOJI_CHARS).contains(&chars)
        && emoji.chars().next().is_some_and(pictographic)
        && emoji.chars().all(|c| pictographic(c) || joiner(c));
    if ok {
        Ok(emoji)
    } else {
        Err(ValidationError::NotAnEmoji)
    }
}

/// A message body: not blank, at most `MAX_MESSAGE_CHARS`. Returned unchanged (leading
/// indentation and inner newlines are the author's), only trailing whitespace dropped.
pub fn message_body(body: &str) -> Result<&str, ValidationError> {
    let body = body.trim_end();
    if body.trim_start().is_empty() {
        return Err(ValidationError::EmptyMessage);
    }
    let chars = body.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ValidationError::MessageTooLong { chars });
    }
    Ok(body)
}

/// A channel name: trimmed, 1..=`MAX_CHANNEL_NAME_CHARS`, any script (中文 welcome), no control
/// characters or the characters we use for links (`#`, `/`).
pub fn channel_name(name: &str) -> Result<&str, ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ValidationError::EmptyChannelName);
    }
    if name.chars().count() > MAX_CHANNEL_NAME_CHARS {
        return Err(ValidationError::ChannelNameTooLong);
    }
    if name.chars().any(|c| c.is_control() || c == '#' || c == '/') {
        return Err(ValidationError::ChannelNameBadCharacter);
    }
    Ok(name)
}

/// A department's name: NFKC-normalised (so `Ｓａｌｅｓ` is `Sales`) and trimmed, no control
/// or invisible characters, and no `/` (it separates the names of a path such as `总部/技术部`).
pub fn department_name(name: &str) -> Result<String, ValidationError> {
    let name = normalised(name);
    if name.is_empty() {
        return Err(ValidationError::EmptyDepartmentName);
    }
    if name.chars().count() > MAX_DEPARTMENT_NAME_CHARS {
        return Err(ValidationError::DepartmentNameTooLong);
    }
    if !is_plain_text(&name) || name.contains('/') {
        return Err(ValidationError::DepartmentNameBadCharacter);
    }
    Ok(name)
}

/// A role's name, normalised like a department's: no control or invisible characters.
pub fn role_name(name: &str) -> Result<String, ValidationError> {
    let name = normalised(name);
    if name.is_empty() {
        return Err(ValidationError::EmptyRoleName);
    }
    if name.chars().count() > MAX_DEPARTMENT_NAME_CHARS {
        return Err(ValidationError::RoleNameTooLong);
    }
    if !is_plain_text(&name) {
        return Err(ValidationError::RoleNameBadCharacter);
    }
    Ok(name)
}

/// A mobile or phone number: digits with an optional leading `+` and spaces, dashes or
/// brackets; may be empty.
pub fn mobile(value: &str) -> Result<String, ValidationError> {
    let value = normalised(value);
    let digits = value.chars().filter(|c| c.is_ascii_digit()).count();
    let allowed = value.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
    });
    if !value.is_empty() && (!allowed || !(3..=20).contains(&digits)) {
        return Err(ValidationError::BadMobile);
    }
    Ok(value)
}

/// An email address: one `@` with something on each side, no spaces; may be empty.
pub fn email(value: &str) -> Result<String, ValidationError> {
    let value = normalised(value);
    let ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && value.len() <= 254
                && is_plain_text(&value)
                && !value.contains(char::is_whitespace)
        }
        None => false,
    };
    if !value.is_empty() && !ok {
        return Err(ValidationError::BadEmail);
    }
    Ok(value)
}

/// A person's full name or title, normalised; may be empty.
pub fn profile_field(value: &str) -> Result<String, ValidationError> {
    let value = normalised(value);
    if value.chars().count() > MAX_PROFILE_FIELD_CHARS || !is_plain_text(&value) {
        return Err(ValidationError::BadProfileField);
    }
    Ok(value)
}

fn normalised(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkc().collect::<String>().trim().to_owned()
}

/// No control characters, and none of the invisible ones that make a text look like another.
fn is_plain_text(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || is_invisible_format(c))
}

/// Bidi overrides and zero-width characters: they make one name look like another.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// A username: NFKC-normalised (so `ａｌｉｃｅ` is `alice`), trimmed, letters (any script) and
/// digits plus `.`, `-`, `_`. Format characters (bidi overrides, zero-width joiners) are not
/// letters and are refused, so no name can look like another or reorder its neighbours.
pub fn username(name: &str) -> Result<String, ValidationError> {
    use unicode_normalization::UnicodeNormalization;
    let normalised: String = name.nfkc().collect();
    let name = normalised.trim();
    let chars = name.chars().count();
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&chars) {
        return Err(ValidationError::UsernameLength);
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(ValidationError::UsernameBadCharacter);
    }
    Ok(name.to_owned())
}

/// The form a username is looked up by at log-in: NFKC and trimmed, like `username`.
pub fn username_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkc().collect::<String>().trim().to_owned()
}

/// What makes two usernames the same account: `username_key`, lowercased in every script
/// (`Ärger` and `ärger`, `Иван` and `иван` are one name).
pub fn username_fold(name: &str) -> String {
    username_key(name).to_lowercase()
}

pub fn password(password: &str) -> Result<&str, ValidationError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ValidationError::PasswordLength);
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_bodies() {
        assert_eq!(message_body("  hi \n"), Ok("  hi"));
        assert_eq!(message_body("第一行\n第二行"), Ok("第一行\n第二行"));
        assert_eq!(message_body(""), Err(ValidationError::EmptyMessage));
        assert_eq!(message_body(" \n\t "), Err(ValidationError::EmptyMessage));
        let longest = "字".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(message_body(&longest), Ok(longest.as_str()));
        let too_long = "字".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            message_body(&too_long),
            Err(ValidationError::MessageTooLong {
                chars: MAX_MESSAGE_CHARS + 1
            })
        );
    }

    #[test]
    fn channel_names() {
        assert_eq!(channel_name(" 产品讨论 "), Ok("产品讨论"));
        assert_eq!(channel_name("random"), Ok("random"));
        assert_eq!(channel_name("   "), Err(ValidationError::EmptyChannelName));
        assert_eq!(
            channel_name("a/b"),
            Err(ValidationError::ChannelNameBadCharacter)
        );
        assert_eq!(
            channel_name("a\u{0}b"),
            Err(ValidationError::ChannelNameBadCharacter)
        );
        assert_eq!(
            channel_name(&"频".repeat(MAX_CHANNEL_NAME_CHARS + 1)),
            Err(ValidationError::ChannelNameTooLong)
        );
    }

    #[test]
    fn usernames_fold_case_in_every_script() {
        assert_eq!(username_fold(" Ärger "), "ärger");
        assert_eq!(username_fold("ИВАН"), username_fold("иван"));
        assert_eq!(username_fold("ＡＬＩＣＥ"), "alice");
        assert_eq!(username_fold("张伟"), "张伟");
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(username("alice").as_deref(), Ok("alice"));
        assert_eq!(username("张伟").as_deref(), Ok("张伟"));
        assert_eq!(username("ａｌｉｃｅ").as_deref(), Ok("alice"));
        for sneaky in [
            "ali\u{200B}ce",
            "ali\u{202E}ec",
            "al\u{2066}ice",
            "\u{FEFF}alice",
        ] {
            assert_eq!(
                username(sneaky),
                Err(ValidationError::UsernameBadCharacter),
                "{sneaky:?}"
            );
        }
        assert_eq!(username("a"), Err(ValidationError::UsernameLength));
        assert_eq!(
            username("bob smith"),
            Err(ValidationError::UsernameBadCharacter)
        );
        assert_eq!(
            username("<script>"),
            Err(ValidationError::UsernameBadCharacter)
        );
        assert!(password("correct horse").is_ok());
        assert_eq!(password("short"), Err(ValidationError::PasswordLength));
    }
}
