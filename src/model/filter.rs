//! The feed's filter: parsed once from URL query pairs, then trusted by the store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Verdict;

/// Rows per feed page unless a caller asks otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most rows one API request may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Longest accepted full-text query.
pub const MAX_QUERY_CHARS: usize = 200;
/// Shortest word a search may ask for by its start (`ref*`): a shorter start matches most of
/// the index (`a* b* c*` read every word list at once).
pub const MIN_PREFIX_CHARS: usize = 3;
/// Longest query string a feed link may have, checked before it is decoded.
pub const MAX_SEARCH_BYTES: usize = 8 * 1024;

const DAY_MICROS: i64 = 86_400_000_000;

/// A time bound as the user wrote it (a date or an RFC 3339 instant) and the instant it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBound {
    pub text: String,
    /// Microseconds since the Unix epoch.
    pub micros: i64,
}

impl TimeBound {
    /// `from`: a date means the start of that day (UTC).
    fn parse_from(text: &str) -> Option<TimeBound> {
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let micros = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
            return Some(TimeBound {
                text: text.to_string(),
                micros,
            });
        }
        parse_instant(text)
    }

    /// `to`: a date includes the whole of that day, so the bound is the next midnight.
    fn parse_to(text: &str) -> Option<TimeBound> {
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let micros = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros() + DAY_MICROS;
            return Some(TimeBound {
                text: text.to_string(),
                micros,
            });
        }
        parse_instant(text)
    }

    /// The date part for a `<input type="date">`, when the bound was given as a date.
    pub fn date_text(&self) -> String {
        if self.text.len() == 10 {
            self.text.clone()
        } else {
            String::new()
        }
    }

    pub fn is_midnight(&self) -> bool {
        self.micros.rem_euclid(DAY_MICROS) == 0
    }
}

fn parse_instant(text: &str) -> Option<TimeBound> {
    let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    Some(TimeBound {
        text: text.to_string(),
        micros: at.timestamp_micros(),
    })
}

/// Which calls the feed shows. Every field narrows; `None` means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallFilter {
    pub operation: Option<String>,
    pub verdict: Option<Verdict>,
    pub model: Option<String>,
    pub model_version: Option<String>,
    pub from: Option<TimeBound>,
    pub to: Option<TimeBound>,
    pub q: Option<String>,
    pub tag: Option<String>,
    /// Who saved the current review.
    pub reviewer: Option<String>,
}

/// Position after the last row of a page: newest first means (created_at, seq) descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub created_at_micros: i64,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_micros, self.seq)
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, seq) = text.split_once('.')?;
        Some(Cursor {
            created_at_micros: at.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// A whole feed request: filter, position and page size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedQuery {
    pub filter: CallFilter,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

/// A query parameter that could not be understood, with the reason in plain words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{param}: {reason}")]
pub struct FilterError {
    pub param: String,
    pub reason: String,
}

fn bad(param: &str, reason: impl Into<String>) -> FilterError {
    FilterError {
        param: param.to_string(),
        reason: reason.into(),
    }
}

/// Operation names: a lowercase letter, then up to 63 of `a-z 0-9 _ - .`.
pub fn is_valid_operation_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-' | '.'))
}

impl FeedQuery {
    /// Parses a URL query string (`operation=…&verdict=…`, with or without the `?`).
    pub fn from_search(search: &str) -> Result<FeedQuery, FilterError> {
        if search.len() > MAX_SEARCH_BYTES {
            return Err(bad(
                "query",
                format!("the link's query is longer than {MAX_SEARCH_BYTES} bytes"),
            ));
        }
        let pairs = decode_query(search);
        FeedQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Parses URL query pairs. Empty values mean "not set" (an empty form field);
    /// unknown parameters are ignored so links with tracking parameters still work.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<FeedQuery, FilterError> {
        let mut query = FeedQuery {
            limit: DEFAULT_PAGE_SIZE,
            ..FeedQuery::default()
        };
        let filter = &mut query.filter;
        for (key, raw) in pairs {
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "operation" => {
                    if !is_valid_operation_name(value) {
                        return Err(bad(
                            "operation",
                            format!("\"{value}\" is not an operation name (lowercase letters, digits, _ - .)"),
                        ));
                    }
                    filter.operation = Some(value.to_string());
                }
                "verdict" => {
                    filter.verdict = Some(Verdict::parse(value).ok_or_else(|| {
                        bad(
                            "verdict",
                            format!("\"{value}\" is not one of unreviewed, correct, incorrect"),
                        )
                    })?);
                }
                "model" => filter.model = Some(short_text("model", value, 128)?),
                "model_version" => {
                    filter.model_version = Some(short_text("model_version", value, 128)?)
                }
                "tag" => filter.tag = Some(short_text("tag", value, 64)?),
                "reviewer" => filter.reviewer = Some(short_text("reviewer", value, 64)?),
                "q" => {
                    if value.chars().count() > MAX_QUERY_CHARS {
                        return Err(bad(
                            "q",
                            format!("search text is longer than {MAX_QUERY_CHARS} characters"),
                        ));
                    }
                    if let Some(short) = crate::model::search::search_terms(value)
                        .into_iter()
                        .find(|t| t.prefix && t.word.chars().count() < MIN_PREFIX_CHARS)
                    {
                        return Err(bad(
                            "q",
                            format!(
                                "\"{}*\" is too short to search by its start: type at least {MIN_PREFIX_CHARS} letters before the *",
                                short.word
                            ),
                        ));
                    }
                    filter.q = Some(value.to_string());
                }
                "from" => {
                    filter.from = Some(TimeBound::parse_from(value).ok_or_else(|| {
                        bad(
                            "from",
                            format!("\"{value}\" is not a date (YYYY-MM-DD) or an RFC 3339 time"),
                        )
                    })?)
                }
                "to" => {
                    filter.to = Some(TimeBound::parse_to(value).ok_or_else(|| {
                        bad(
                            "to",
                            format!("\"{value}\" is not a date (YYYY-MM-DD) or an RFC 3339 time"),
                        )
                    })?)
                }
                "cursor" => {
                    query.cursor = Some(
                        Cursor::decode(value)
                            .ok_or_else(|| bad("cursor", "not a cursor this server issued"))?,
                    )
                }
                "limit" => {
                    query.limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                        .ok_or_else(|| {
                            bad(
                                "limit",
                                format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                            )
                        })?
                }
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (&query.filter.from, &query.filter.to) {
            if from.micros >= to.micros {
                return Err(bad("to", "the end of the date range is before its start"));
            }
        }
        Ok(query)
    }
}

fn short_text(param: &str, value: &str, max: usize) -> Result<String, FilterError> {
    if value.chars().count() > max {
        return Err(bad(param, format!("longer than {max} characters")));
    }
    Ok(value.to_string())
}

impl CallFilter {
    /// The filter as URL query pairs, in a stable order (links are reproducible).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |key: &'static str, value: Option<&str>| {
            if let Some(value) = value {
                pairs.push((key, value.to_string()));
            }
        };
        push("operation", self.operation.as_deref());
        push("verdict", self.verdict.map(Verdict::as_str));
        push("model", self.model.as_deref());
        push("model_version", self.model_version.as_deref());
        push("from", self.from.as_ref().map(|b| b.text.as_str()));
        push("to", self.to.as_ref().map(|b| b.text.as_str()));
        push("tag", self.tag.as_deref());
        push("reviewer", self.reviewer.as_deref());
        push("q", self.q.as_deref());
        pairs
    }

    pub fn is_empty(&self) -> bool {
        self == &CallFilter::default()
    }

    /// The same filter with another verdict (for the verdict tabs).
    pub fn with_verdict(&self, verdict: Option<Verdict>) -> CallFilter {
        CallFilter {
            verdict,
            ..self.clone()
        }
    }
}

/// Encodes query pairs into `a=b&c=d` with percent-escaping.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", k, percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `/calls?…` for a filter and an optional cursor.
pub fn feed_href(filter: &CallFilter, cursor: Option<&str>) -> String {
    let mut pairs = filter.to_pairs();
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_string()));
    }
    if pairs.is_empty() {
        "/calls".to_string()
    } else {
        format!("/calls?{}", encode_query(&pairs))
    }
}

/// The filter part of a URL query string, normalised (`operation=…&verdict=…`, no cursor or
/// other parameters), for links that carry the feed's filter along; empty when the string
/// holds no valid filter.
pub fn filter_query(search: &str) -> String {
    FeedQuery::from_search(search)
        .map(|query| encode_query(&query.filter.to_pairs()))
        .unwrap_or_default()
}

/// `base` with a query string appended when there is one.
pub fn with_query(base: &str, query: &str) -> String {
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{query}")
    }
}

/// Splits a URL query string (`a=1&b=x%20y`, with or without the leading `?`) into decoded pairs.
pub fn decode_query(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    fn hex(byte: u8) -> Option<u8> {
        (byte as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::search::search_terms;

    fn parse(pairs: &[(&str, &str)]) -> Result<FeedQuery, FilterError> {
        FeedQuery::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn empty_values_are_unset() {
        let query = parse(&[("operation", ""), ("verdict", " ")]).unwrap();
        assert!(query.filter.is_empty());
        assert_eq!(query.limit, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn prefixes_need_three_letters() {
        assert!(parse(&[("q", "ref*")]).is_ok());
        let err = parse(&[("q", "refund a* b*")]).unwrap_err();
        assert_eq!(err.param, "q");
        assert!(err.reason.contains("\"a*\" is too short"), "{}", err.reason);
    }

    #[test]
    fn wrong_verdict_is_named_in_the_error() {
        let err = parse(&[("verdict", "maybe")]).unwrap_err();
        assert_eq!(err.param, "verdict");
        assert!(err.reason.contains("maybe"));
    }

    #[test]
    fn dates_cover_whole_days() {
        let query = parse(&[("from", "2026-01-01"), ("to", "2026-01-01")]).unwrap();
        let from = query.filter.from.unwrap();
        let to = query.filter.to.unwrap();
        assert_eq!(to.micros - from.micros, DAY_MICROS);
        assert!(from.is_midnight() && to.is_midnight());
    }

    #[test]
    fn reversed_range_is_refused() {
        assert!(parse(&[("from", "2026-02-01"), ("to", "2026-01-01")]).is_err());
        assert!(parse(&[("from", "yesterday")]).is_err());
    }

    #[test]
    fn filter_round_trips_through_the_url() {
        let query = parse(&[
            ("operation", "billing_extract"),
            ("verdict", "incorrect"),
            ("q", "refund & co"),
            ("from", "2026-03-01"),
        ])
        .unwrap();
        let href = feed_href(&query.filter, None);
        assert_eq!(
            href,
            "/calls?operation=billing_extract&verdict=incorrect&from=2026-03-01&q=refund%20%26%20co"
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor {
            created_at_micros: 1_700_000_000_000_000,
            seq: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert!(parse(&[("cursor", "abc")]).is_err());
        assert!(parse(&[("limit", "0")]).is_err());
        assert!(parse(&[("limit", "9999")]).is_err());
    }

    #[test]
    fn operation_names() {
        assert!(is_valid_operation_name("ticket_summarize"));
        assert!(is_valid_operation_name("v2.extract-json"));
        assert!(!is_valid_operation_name("Ticket"));
        assert!(!is_valid_operation_name("_x"));
        assert!(!is_valid_operation_name(""));
    }

    #[test]
    fn query_strings_decode() {
        let pairs = decode_query("?q=r%C3%A9sum%C3%A9+x&bad=%zz&flag");
        assert_eq!(pairs[0], ("q".to_string(), "résumé x".to_string()));
        assert_eq!(pairs[1], ("bad".to_string(), "%zz".to_string()));
        assert_eq!(pairs[2], ("flag".to_string(), String::new()));
    }

    #[test]
    fn search_terms_drop_syntax() {
        let words = |text: &str| -> Vec<String> {
            search_terms(text).into_iter().map(|t| t.word).collect()
        };
        assert_eq!(
            words("\"refund\" OR (amount)"),
            vec!["refund", "or", "amount"]
        );
        assert_eq!(words("استرداد المبلغ"), vec!["استرداد", "المبلغ"]);
        assert!(words(" \"*:& ").is_empty());
    }

    #[test]
    fn a_star_after_a_word_makes_it_a_prefix() {
        let terms = search_terms("Refun* E-4012 inv *x");
        let got: Vec<(&str, bool)> = terms.iter().map(|t| (t.word.as_str(), t.prefix)).collect();
        assert_eq!(
            got,
            vec![
                ("refun", true),
                ("e", false),
                ("4012", false),
                ("inv", false),
                ("x", false)
            ]
        );
    }
}
