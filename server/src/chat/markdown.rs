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
    let mut place = TextPlace::default();
    let events = parse(body).flat_map(|event| {
        let mentionable = place.follow(&event);
        let out: Vec<Event> = match event {
            Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
            Event::SoftBreak => vec![Event::HardBreak],
            Event::Text(text) if mentionable && !mentioned.is_empty() => {
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

fn parse(body: &str) -> Parser<'_> {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    Parser::new_ext(body, options)
}

/// Where the parser is: inside a code block or an image's alt text, an `@` is no mention.
#[derive(Default)]
struct TextPlace {
    in_code: bool,
    in_image: bool,
}

impl TextPlace {
    /// Follows one event; true when it is text a mention may be in.
    fn follow(&mut self, event: &Event) -> bool {
        match event {
            Event::Start(Tag::CodeBlock(_)) => self.in_code = true,
            Event::End(TagEnd::CodeBlock) => self.in_code = false,
            Event::Start(Tag::Image { .. }) => self.in_image = true,
            Event::End(TagEnd::Image) => self.in_image = false,
            Event::Text(_) => return !self.in_code && !self.in_image,
            _ => {}
        }
        false
    }
}

/// The pieces of a body's text where mentions count (not code, not raw HTML, not alt text),
/// the same pieces `render` marks them in.
pub fn mentionable_text(body: &str) -> Vec<String> {
    let mut place = TextPlace::default();
    parse(body)
        .filter_map(|event| {
            let mentionable = place.follow(&event);
            match event {
                Event::Text(text) if mentionable => Some(text.into_string()),
                _ => None,
            }
        })
        .collect()
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
        let html = super::render("![@bob](https://example.com/a.png)", &names);
        assert!(!html.contains("span"), "{html}");
        assert_eq!(
            super::mentionable_text("hi @bob `@carol`\n```\n@dave\n```\n<b>@erin</b>"),
            // Raw HTML shows as text, so a mention in it is a mention.
            vec!["hi @bob ".to_owned(), "@erin".to_owned()]
        );
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
