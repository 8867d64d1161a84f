//! Review guidelines: Markdown a lead writes, rendered to HTML that is safe to put in a page.
//! Raw HTML in the Markdown is shown as text, never passed through, and the rendered HTML is
//! sanitized as well (no scripts, event handlers, styles or `javascript:` links).

use pulldown_cmark::{Event, Options, Parser};

/// The guidelines as sanitized HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html = render("# Check\n\n- the **total**\n- the [currency](https://iso.org/4217)");
        assert!(html.contains("<h1>Check</h1>"), "{html}");
        assert!(html.contains("<strong>total</strong>"), "{html}");
        assert!(html.contains("href=\"https://iso.org/4217\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn hostile_guidelines_render_inert() {
        let corpus = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div onclick=\"alert(1)\">x</div>",
            "![x](javascript:alert(1))",
            "<svg><script>alert(1)</script></svg>",
            "<style>body{display:none}</style>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        ];
        for input in corpus {
            let html = render(input);
            // Text is escaped, so every `<` left opens a tag the sanitizer let through.
            for tag in html
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(""))
            {
                let tag = tag.to_lowercase();
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                assert!(
                    ["p", "a", "img", "em", "strong", "code", "pre"].contains(&name.as_str()),
                    "{input:?} let <{tag}> through: {html}"
                );
                assert!(
                    !tag.contains("javascript:") && !tag.contains("data:") && !tag.contains(" on"),
                    "{input:?} let <{tag}> through: {html}"
                );
            }
        }
    }
}
