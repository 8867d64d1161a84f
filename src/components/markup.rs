//! Markup written as text, for the few parts of a page with thousands of identical small
//! elements: the points of a day-bucket chart and the cells of its data tables. Each
//! element built through the view tree costs allocations and a render pass of its own; at
//! 184 days these parts were over half of the trends page's render time. A view takes the
//! text through `inner_html`, so hydration leaves it as the server sent it.
//!
//! Everything that is not a literal of this crate goes through [`text`], which escapes it
//! for element content and for double- or single-quoted attribute values alike.

/// Appends `value` escaped: `&`, `<`, `>`, `"` and `'` become character references.
pub fn text(out: &mut String, value: &str) {
    // Byte by byte: the five are ASCII, so each is a character boundary of `value`.
    let mut start = 0;
    for (at, byte) in value.bytes().enumerate() {
        let reference = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&value[start..at]);
        out.push_str(reference);
        start = at + 1;
    }
    out.push_str(&value[start..]);
}

/// Appends a number (never needs escaping).
pub fn number(out: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use super::text;

    fn escaped(value: &str) -> String {
        let mut out = String::new();
        text(&mut out, value);
        out
    }

    #[test]
    fn markup_in_a_value_stays_text() {
        assert_eq!(
            escaped(r#""><script>alert('x')</script>&"#),
            "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(escaped("gpt-4o 2024-08-06"), "gpt-4o 2024-08-06");
        assert_eq!(escaped("مرحبا <b> 🙂"), "مرحبا &lt;b&gt; 🙂");
        assert_eq!(escaped(""), "");
    }
}
