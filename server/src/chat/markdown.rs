//! Message text as Markdown: rendered on the server when a message is posted, edited or read,
//! so every browser shows the same HTML and the WASM bundle carries no Markdown code.
//!
//! Raw HTML in a message is never HTML: pulldown-cmark's HTML events are turned back into text,
//! and ammonia cleans the result anyway (allowed tags only, links `rel="noopener noreferrer"`,
//! only http, https and mailto URLs).
//!
//! Mentions the server resolved (`@name` of a real user, `@channel` …) are wrapped in
//! `<span class="mention">`, outside code only.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use xietong::chat::{mention_prefixes, mention_runs};

/// The sanitised HTML of a message body, with `mentioned` names (lowercase, without `@`)
/// marked. Line breaks are kept as typed (chat, not prose).
pub fn render(body: &str, mentioned: &[String]) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let mut in_code = false;
    let events = Parser::new_ext(body, options).flat_map(|event| {
        let out: Vec<Event> = match event {
            Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
            Event::SoftBreak => vec![Event::HardBreak],
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code = true;
                vec![Event::Start(Tag::CodeBlock(kind))]
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                vec![Event::End(TagEnd::CodeBlock)]
            }
            Event::Text(text) if !in_code && !mentioned.is_empty() => {
                mark_mentions(text, mentioned)
            }
            other => vec![other],
        };
        out
    });
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    let clean = ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .add_allowed_classes("span", &["mention"])
        .clean(&html)
        .to_string();
    // No whitespace around the blocks: a one-line message's text is exactly what was typed.
    clean.trim().to_owned()
}

/// Splits a text run so each resolved mention becomes its own marked piece (the longest
/// resolved name wins: `@张伟你好` marks `@张伟`).
fn mark_mentions<'a>(text: CowStr<'a>, mentioned: &[String]) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    let mut done = 0;
    for (at, run) in mention_runs(&text) {
        let Some(name) = mention_prefixes(run).find(|p| mentioned.contains(&p.to_lowercase()))
        else {
            continue;
        };
        if at > done {
            out.push(Event::Text(CowStr::from(text[done..at].to_owned())));
        }
        let end = at + 1 + name.len();
        out.push(Event::InlineHtml(CowStr::Borrowed(
            r#"<span class="mention">"#,
        )));
        out.push(Event::Text(CowStr::from(text[at..end].to_owned())));
        out.push(Event::InlineHtml(CowStr::Borrowed("</span>")));
        done = end;
    }
    if done == 0 {
        return vec![Event::Text(text)];
    }
    if done < text.len() {
        out.push(Event::Text(CowStr::from(text[done..].to_owned())));
    }
    out
}

#[cfg(test)]
mod tests {
    fn render(body: &str) -> String {
        super::render(body, &[])
    }

    #[test]
    fn mentions_are_marked_outside_code() {
        let names = vec!["bob".to_owned(), "张伟".to_owned(), "here".to_owned()];
        let html = super::render(
            "hi @Bob and @张伟你好, @here `@bob` a@bob.com @nobody",
            &names,
        );
        assert_eq!(
            html,
            r#"<p>hi <span class="mention">@Bob</span> and <span class="mention">@张伟</span>你好, <span class="mention">@here</span> <code>@bob</code> a@bob.com @nobody</p>"#
        );
        let html = super::render("```\n@bob\n```", &names);
        assert!(!html.contains("mention"), "{html}");
        // A user's own span is text, never markup.
        let html = super::render(r#"<span class="mention">@x</span>"#, &names);
        assert!(!html.contains("<span"), "{html}");
    }

    #[test]
    fn markdown_renders() {
        assert_eq!(
            render("**粗体** and _it_"),
            "<p><strong>粗体</strong> and <em>it</em></p>"
        );
        assert_eq!(render("one\ntwo"), "<p>one<br>\ntwo</p>");
        assert!(render("```\nlet x = 1;\n```").contains("<pre><code>let x = 1;\n</code></pre>"));
        assert!(render("`a<b`").contains("<code>a&lt;b</code>"));
    }

    #[test]
    fn links_open_safely_and_only_web_schemes_link() {
        let html = render("[site](https://example.com) <https://a.example>");
        assert!(
            html.contains(r#"<a href="https://example.com" rel="noopener noreferrer">site</a>"#),
            "{html}"
        );
        let html = render("[x](javascript:alert(1))");
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn raw_html_is_text() {
        for evil in [
            r#"<img src=x onerror="alert(1)">"#,
            "<script>alert(1)</script>",
            "<b>bold</b>",
            r#"<a href="javascript:alert(1)">x</a>"#,
            "<div>\n<iframe src=//evil></iframe>\n</div>",
        ] {
            let html = render(evil);
            assert!(
                !html.contains('<')
                    || !html.to_lowercase().contains("<img")
                        && !html.contains("<script")
                        && !html.contains("<b>")
                        && !html.contains("<iframe")
                        && !html.contains("<a "),
                "{evil} -> {html}"
            );
            assert!(html.contains("&lt;"), "{evil} -> {html}");
        }
    }
}
