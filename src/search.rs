//! Search: the query language of the "Search" box and what a search returns.
//!
//! A query is words and filters: `from:NAME` (messages by that user) and `in:CHANNEL` (in the
//! channel of that name). Words match case-insensitively — an English word as a prefix of a
//! word (`meet` finds "meeting"), Chinese anywhere inside a sentence (`上海` finds
//! 我家在上海东边) — and every word must match.

use serde::{Deserialize, Serialize};

use crate::chat::{Channel, Message};

/// At most this many results come back.
pub const MAX_RESULTS: usize = 30;
/// A longer query is refused.
pub const MAX_QUERY_CHARS: usize = 200;

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lowercased words and Chinese runs to find.
    pub words: Vec<String>,
    pub from: Option<String>,
    pub in_channel: Option<String>,
}

impl SearchQuery {
    pub fn parse(query: &str) -> SearchQuery {
        let mut parsed = SearchQuery::default();
        for part in query.split_whitespace() {
            let lower = part.to_lowercase();
            if let Some(name) = strip_filter(part, "from:") {
                parsed.from = Some(name.trim_start_matches('@').to_owned());
            } else if let Some(name) = strip_filter(part, "in:") {
                parsed.in_channel = Some(name.trim_start_matches('#').to_owned());
            } else {
                parsed
                    .words
                    .extend(words_of(&lower).into_iter().map(str::to_owned));
            }
        }
        parsed
    }

    /// Nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.from.is_none() && self.in_channel.is_none()
    }
}

fn strip_filter<'a>(part: &'a str, filter: &str) -> Option<&'a str> {
    let head = part.get(..filter.len())?;
    let rest = &part[filter.len()..];
    (head.eq_ignore_ascii_case(filter) && !rest.is_empty()).then_some(rest)
}

/// Characters of scripts written without spaces between words (Chinese, Japanese kana,
/// Korean): searched as substrings rather than as words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B and later
}

/// The searchable pieces of (lowercased) text: runs of CJK characters, and words of other
/// letters and digits. Punctuation and spaces separate them.
pub fn words_of(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let kind = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (start, kind) {
            (Some((s, cjk)), Some(k)) if cjk == k => {
                let _ = s;
            }
            (Some((s, _)), k) => {
                words.push(&text[s..i]);
                start = k.map(|k| (i, k));
            }
            (None, k) => start = k.map(|k| (i, k)),
        }
    }
    if let Some((s, _)) = start {
        words.push(&text[s..]);
    }
    words
}

/// One message found, with the channel it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub channel: Channel,
    pub message: Message,
}

/// One stored file found by its name or by the text inside it (PDF, docx, xlsx, plain text),
/// with where it is: a file cabinet entry (the owner's, or one shared with the reader) or a
/// message's attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHit {
    pub file: crate::files::FileInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<crate::files::EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<crate::ChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<crate::MessageId>,
    /// The words in their place: the line of text (or the name) where the first one is.
    pub snippet: String,
}

/// One item of an office module found by its words — a mail the reader holds, a notice
/// published to them (or theirs) — with where it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemHit {
    pub module: crate::notify::Module,
    pub id: i64,
    pub title: String,
    /// Who wrote it.
    pub by: String,
    /// When it was sent or published (milliseconds since the epoch).
    pub at: i64,
    /// The words in their place.
    pub snippet: String,
    /// The page that opens it.
    pub href: String,
}

/// Around `at` (a byte offset in `text`): about `width` characters, on character boundaries,
/// on one line.
pub fn snippet(text: &str, at: usize, width: usize) -> String {
    let at = at.min(text.len());
    let before: Vec<(usize, char)> = text[..at].char_indices().rev().take(width / 3).collect();
    let start = before.last().map_or(at, |(i, _)| *i);
    let piece: String = text[start..].chars().take(width).collect();
    let line = piece.split_whitespace().collect::<Vec<_>>().join(" ");
    if start > 0 {
        format!("…{line}")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_stay_on_character_boundaries() {
        let text = "第一章 总则\n本制度适用于全体员工的季度预算编制工作。";
        let at = text.find("季度").unwrap();
        let s = snippet(text, at, 12);
        assert!(s.starts_with('…'), "{s}");
        assert!(s.contains("季度"), "{s}");
        assert_eq!(snippet("abc", 0, 10), "abc");
    }

    #[test]
    fn queries_parse_into_words_and_filters() {
        let q = SearchQuery::parse("会议 Meeting from:@Alice in:#产品 上海,东边");
        assert_eq!(q.words, ["会议", "meeting", "上海", "东边"]);
        assert_eq!(q.from.as_deref(), Some("Alice"));
        assert_eq!(q.in_channel.as_deref(), Some("产品"));
        assert!(SearchQuery::parse("  ").is_empty());
        assert_eq!(SearchQuery::parse("from:").words, ["from"]);
    }

    #[test]
    fn text_splits_into_cjk_runs_and_words() {
        assert_eq!(
            words_of("明天下午开会议, meet at 3pm于上海"),
            ["明天下午开会议", "meet", "at", "3pm", "于上海"]
        );
    }
}
