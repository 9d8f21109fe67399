//! Message text as Markdown: rendered on the server when a message is posted, edited or read,
//! so every browser shows the same HTML and the WASM bundle carries no Markdown code.
//!
//! Raw HTML in a message is never HTML: pulldown-cmark's HTML events are turned back into text,
//! and ammonia cleans the result anyway (allowed tags only, links `rel="noopener noreferrer"`,
//! only http, https and mailto URLs).

use pulldown_cmark::{Event, Options, Parser};

/// The sanitised HTML of a message body. Line breaks are kept as typed (chat, not prose).
pub fn render(body: &str) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(body, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    let clean = ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(&html)
        .to_string();
    // No whitespace around the blocks: a one-line message's text is exactly what was typed.
    clean.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::render;

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
