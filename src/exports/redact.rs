//! Personal data out of training sets: e-mail addresses, phone numbers, payment card numbers
//! (only those that pass the Luhn check) and IBANs (only those whose check digits hold) become
//! placeholders such as `[EMAIL_1]`. Within one example the same value always becomes the same
//! placeholder, in the input and the target alike, so a model still learns to carry a value
//! from the question to the answer.
//!
//! Not caught (the README says so too): names, postal addresses, account or order numbers,
//! national identity numbers, phone numbers written without separators or with fewer than 9
//! digits, card numbers that fail Luhn, and anything inside images or encoded text.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

/// The kinds, in the order they are looked for (validated numbers before the looser phone).
pub const KINDS: [&str; 4] = ["card", "iban", "email", "phone"];

static CARD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b[0-9](?:[ -]?[0-9]){12,18}\b").ok());
static IBAN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b").ok());
static EMAIL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").ok()
});
static PHONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    // International (+44 20 7946 0958), North American ((555) 123-4567, 555-123-4567) and
    // national with a trunk zero (020 7946 0958, 07700 900123).
    Regex::new(concat!(
        r"\+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,5}(?:[ .-]?[0-9]{2,5}){1,4}\b",
        r"|(?:\([0-9]{3}\) ?|\b[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}\b",
        r"|\b0[0-9]{2,4}[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}\b",
    ))
    .ok()
});

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

fn iban_valid(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

fn digits(text: &str) -> Vec<u8> {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Whether a match of a kind's pattern really is one.
fn accept(kind: &str, text: &str) -> bool {
    match kind {
        "card" => {
            let d = digits(text);
            (13..=19).contains(&d.len()) && luhn(&d)
        }
        "iban" => iban_valid(text),
        "phone" => {
            let n = digits(text).len();
            // A date (2026-11-05) or a time is not a phone number: require enough digits and
            // a leading + or a separator pattern that dates do not have.
            (9..=15).contains(&n) && !looks_like_date(text)
        }
        _ => true,
    }
}

fn looks_like_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split(['-', '.', ' ', '/']).collect();
    parts.len() == 3 && parts[0].len() == 4 && parts[1].len() <= 2 && parts[2].len() <= 2
}

fn pattern(kind: &str) -> Option<&'static Regex> {
    match kind {
        "card" => CARD.as_ref(),
        "iban" => IBAN.as_ref(),
        "email" => EMAIL.as_ref(),
        _ => PHONE.as_ref(),
    }
}

/// Redacts one example: its placeholders are numbered per kind in order of first sight.
#[derive(Default)]
pub struct Redactor {
    seen: BTreeMap<(&'static str, String), String>,
    next: BTreeMap<&'static str, u32>,
    /// Values replaced, per kind (every occurrence counts).
    pub counts: BTreeMap<String, u64>,
}

impl Redactor {
    pub fn text(&mut self, text: &str) -> String {
        let mut current = text.to_string();
        for kind in KINDS {
            let Some(regex) = pattern(kind) else { continue };
            if !regex.is_match(&current) {
                continue;
            }
            current = regex
                .replace_all(&current, |caps: &Captures| {
                    let found = &caps[0];
                    if !accept(kind, found) {
                        return found.to_string();
                    }
                    *self.counts.entry(kind.to_string()).or_default() += 1;
                    let key = (kind, found.to_string());
                    if let Some(placeholder) = self.seen.get(&key) {
                        return placeholder.clone();
                    }
                    let n = self.next.entry(kind).or_insert(0);
                    *n += 1;
                    let placeholder = format!("[{}_{}]", kind.to_uppercase(), n);
                    self.seen.insert(key, placeholder.clone());
                    placeholder
                })
                .into_owned();
        }
        current
    }

    /// Every string in a JSON value (keys are left alone).
    pub fn value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_becomes_a_stable_placeholder() {
        let mut r = Redactor::default();
        let input = r.text("Mail jane.doe@example.co.uk or call +44 20 7946 0958; card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32.");
        assert_eq!(
            input,
            "Mail [EMAIL_1] or call [PHONE_1]; card [CARD_1], IBAN [IBAN_1]."
        );
        // The target reuses the input's placeholders for the same values.
        assert_eq!(
            r.text("Sent to jane.doe@example.co.uk."),
            "Sent to [EMAIL_1]."
        );
        assert_eq!(r.text("other: bob@example.com"), "other: [EMAIL_2]");
        assert_eq!(r.counts.get("email"), Some(&3));
        assert_eq!(r.counts.get("card"), Some(&1));
    }

    #[test]
    fn numbers_that_fail_their_checks_and_dates_stay() {
        let mut r = Redactor::default();
        let text = "Order 4111 1111 1111 1112 placed 2026-11-05, invoice GB00 WEST 1234 5698 7654 32, qty 12.";
        assert_eq!(r.text(text), text);
        assert!(r.counts.is_empty());
    }

    #[test]
    fn strings_inside_json_are_redacted_and_keys_kept() {
        let mut r = Redactor::default();
        let value = serde_json::json!({"email": "a.b@example.org", "n": 3});
        assert_eq!(
            r.value(&value),
            serde_json::json!({"email": "[EMAIL_1]", "n": 3})
        );
    }
}
