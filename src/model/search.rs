//! How text becomes search words: one definition for the documents both backends index and
//! the queries they answer, so a word found in a call is always a word a search can name.
//!
//! - Spaced scripts (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Hangul, …): a word is
//!   a run of letters, digits and the combining marks that belong to them (vowel signs,
//!   viramas, harakat, niqqud), lowercased. Everything else separates words, `_` included.
//! - Scripts written without spaces (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar): a
//!   run is indexed as its single characters and its overlapping pairs, and searched by its
//!   pairs (one character alone: by itself), so any part of a sentence finds it.
//! - Emoji and other pictographs: each one is a word.
//!
//! Nothing else reaches a search engine: no query syntax, no punctuation. Accents are kept
//! (`café` and `cafe` are different words) on both backends.

/// Most terms one search asks for.
pub const MAX_TERMS: usize = 16;

/// One word of a search: `prefix` when the user ended it with `*` (`refun*` finds refund,
/// refunds, refunded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerm {
    pub word: String,
    pub prefix: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Separator,
    Word,
    Unspaced,
    Pictograph,
}

fn class(c: char) -> Class {
    let code = c as u32;
    if matches!(code, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0x200C | 0x200D) {
        // Variation selectors and joiners only shape the character before them.
        return Class::Separator;
    }
    if matches!(code, 0x2300..=0x23FF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x1F000..=0x1FAFF) {
        return Class::Pictograph;
    }
    let is_word = c.is_alphanumeric() || (unicode_ident::is_xid_continue(c) && !is_connector(c));
    if !is_word {
        return Class::Separator;
    }
    let unspaced = matches!(
        code,
        0x0E00..=0x0EFF       // Thai, Lao
            | 0x1000..=0x109F // Myanmar
            | 0x1780..=0x17FF // Khmer
            | 0x3040..=0x30FF // Hiragana, Katakana
            | 0x31F0..=0x31FF // Katakana phonetic extensions
            | 0x3400..=0x4DBF // CJK extension A
            | 0x4E00..=0x9FFF // CJK unified ideographs
            | 0xF900..=0xFAFF // CJK compatibility ideographs
            | 0xFF66..=0xFF9F // half-width Katakana
            | 0x20000..=0x3FFFF // CJK extensions B and later
    );
    if unspaced {
        Class::Unspaced
    } else {
        Class::Word
    }
}

/// Connector punctuation (`_` and its relatives) separates words, as it always has.
fn is_connector(c: char) -> bool {
    matches!(
        c,
        '_' | '\u{203F}' | '\u{2040}' | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'
            ..='\u{FE4F}' | '\u{FF3F}'
    )
}

/// A piece of text between separators.
enum Piece<'a> {
    Word(&'a str),
    Unspaced(&'a str),
    Pictograph(&'a str),
}

/// The pieces of `text`, each with the byte offset just after it.
fn pieces(text: &str) -> impl Iterator<Item = (Piece<'_>, usize)> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = chars.next()?;
        let kind = class(c);
        if kind == Class::Separator {
            continue;
        }
        let mut end = start + c.len_utf8();
        if kind != Class::Pictograph {
            while let Some(&(i, next)) = chars.peek() {
                if class(next) != kind {
                    break;
                }
                end = i + next.len_utf8();
                chars.next();
            }
        }
        let piece = &text[start..end];
        return Some((
            match kind {
                Class::Word => Piece::Word(piece),
                Class::Unspaced => Piece::Unspaced(piece),
                _ => Piece::Pictograph(piece),
            },
            end,
        ));
    })
}

/// Single characters and overlapping pairs of an unspaced run.
fn pairs(run: &str) -> impl Iterator<Item = &str> {
    let bounds: Vec<usize> = run
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(run.len()))
        .collect();
    (0..bounds.len().saturating_sub(2)).map(move |i| &run[bounds[i]..bounds[i + 2]])
}

fn singles(run: &str) -> impl Iterator<Item = &str> {
    run.char_indices()
        .map(move |(i, c)| &run[i..i + c.len_utf8()])
}

/// Calls `each` with every word a document of `text` holds (repeats included).
pub fn document_words(text: &str, mut each: impl FnMut(&str)) {
    for (piece, _) in pieces(text) {
        match piece {
            Piece::Word(word) => each(&word.to_lowercase()),
            Piece::Unspaced(run) => {
                let run = run.to_lowercase();
                singles(&run).for_each(&mut each);
                pairs(&run).for_each(&mut each);
            }
            Piece::Pictograph(symbol) => each(symbol),
        }
    }
}

/// The document text of `text` for a search index that splits only at spaces and ASCII
/// punctuation: its words, space-separated.
pub fn document_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    document_words(text, |word| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    });
    out
}

/// Turns what a user typed into search terms: every term must appear, whole, unless the word
/// was typed with a trailing `*`. At most `MAX_TERMS`.
pub fn search_terms(text: &str) -> Vec<SearchTerm> {
    let mut terms: Vec<SearchTerm> = Vec::new();
    for (piece, end) in pieces(text) {
        let starred = text[end..].starts_with('*');
        match piece {
            Piece::Word(word) => terms.push(SearchTerm {
                word: word.to_lowercase(),
                prefix: starred,
            }),
            Piece::Unspaced(run) => {
                let run = run.to_lowercase();
                let mut found: Vec<&str> = pairs(&run).collect();
                if found.is_empty() {
                    found.push(&run);
                }
                terms.extend(found.into_iter().map(|word| SearchTerm {
                    word: word.to_string(),
                    prefix: false,
                }));
            }
            Piece::Pictograph(symbol) => terms.push(SearchTerm {
                word: symbol.to_string(),
                prefix: false,
            }),
        }
        if terms.len() >= MAX_TERMS {
            terms.truncate(MAX_TERMS);
            break;
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        document_words(text, |w| out.push(w.to_string()));
        out
    }

    fn terms(text: &str) -> Vec<String> {
        search_terms(text).into_iter().map(|t| t.word).collect()
    }

    /// Every term of a search for a piece of `text` is among the document's words.
    fn findable(text: &str, query: &str) -> bool {
        let doc = words(text);
        let found = terms(query);
        !found.is_empty() && found.iter().all(|t| doc.contains(t))
    }

    #[test]
    fn spaced_scripts_keep_their_marks_inside_words() {
        assert_eq!(
            words("Refund E-4012, wrong_amount"),
            ["refund", "e", "4012", "wrong", "amount"]
        );
        assert_eq!(words("मुझे किताब चाहिए"), ["मुझे", "किताब", "चाहिए"]);
        assert_eq!(words("हिन्दी"), ["हिन्दी"], "a virama stays inside its word");
        assert_eq!(words("أُرِيدُ اِسْتِرْدَادَ"), ["أُرِيدُ", "اِسْتِرْدَادَ"]);
        assert_eq!(words("שָׁלוֹם עוֹלָם"), ["שָׁלוֹם", "עוֹלָם"]);
        assert_eq!(words("환불을 요청합니다"), ["환불을", "요청합니다"]);
        assert_eq!(words("Café ÉTÉ"), ["café", "été"]);
    }

    #[test]
    fn unspaced_scripts_are_found_by_any_part() {
        assert!(findable("東京の天気は晴れです", "天気"));
        assert!(findable("東京の天気は晴れです", "晴"));
        assert!(!findable("東京の天気は晴れです", "大阪"));
        assert!(findable("ขอคืนเงินค่าสินค้า", "คืนเงิน"));
        assert!(findable("ขอคืนเงินค่าสินค้า", "สินค้า"));
        assert!(!findable("ขอคืนเงินค่าสินค้า", "ร้านอาหาร"));
    }

    #[test]
    fn every_script_a_document_holds_is_found_by_its_own_words() {
        let text = "Customer wrote: मुझे किताब चाहिए · أُرِيدُ اِسْتِرْدَادَ · שָׁלוֹם · 환불을 요청합니다 · 東京の天気 · ขอคืนเงิน 🎉👍🏽❤️";
        for query in [
            "किताब",
            "اِسْتِرْدَادَ",
            "שָׁלוֹם",
            "환불을",
            "天気",
            "คืนเงิน",
            "🎉",
            "❤️",
            "👍",
            "CUSTOMER",
        ] {
            assert!(findable(text, query), "{query}");
        }
    }

    #[test]
    fn queries_carry_no_syntax_and_stars_mark_prefixes() {
        assert_eq!(
            terms("\" OR 1=1 -- NEAR(a b)"),
            ["or", "1", "1", "near", "a", "b"]
        );
        let parsed = search_terms("Refun* E-4012 inv *x");
        assert_eq!(
            parsed
                .iter()
                .map(|t| (t.word.as_str(), t.prefix))
                .collect::<Vec<_>>(),
            [
                ("refun", true),
                ("e", false),
                ("4012", false),
                ("inv", false),
                ("x", false)
            ]
        );
        assert_eq!(search_terms(&"a ".repeat(100)).len(), MAX_TERMS);
        assert!(search_terms("\u{FE0F}\u{200D} ,.;").is_empty());
    }
}
