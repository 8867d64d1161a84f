//! Deterministic choices: which split an example falls in (by its normalized input, so
//! identical inputs always land on the same side) and which examples a per-operation cap keeps
//! (by its call id, so "at most N" is a fair sample, not the first N).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::export::Split;

/// The input in a form where spacing and key order do not matter: object keys sorted, every
/// string trimmed with its runs of whitespace made one space.
pub fn normalized_input(input: &Value) -> String {
    let mut out = String::new();
    write_normalized(input, &mut out);
    out
}

fn write_normalized(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => {
            let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&Value::String(squeezed).to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_normalized(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_normalized(&map[key], out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The first 8 bytes of SHA-256 of `text` with a purpose prefix, as a number.
fn hash64(purpose: &str, text: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The key identical inputs share (de-duplication and the split).
pub fn input_key(input: &Value) -> u64 {
    hash64("input", &normalized_input(input))
}

/// The side of the split an input falls on: the validation share is `percent` of the
/// 10,000 buckets the input key is spread over.
pub fn split_of(input_key: u64, percent: u32) -> Split {
    if input_key % 10_000 < u64::from(percent) * 100 {
        Split::Validation
    } else {
        Split::Train
    }
}

/// The order in which a per-operation cap keeps examples: smallest key first.
pub fn pick_key(call_id: &str) -> u64 {
    hash64("pick", call_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spacing_and_key_order_do_not_change_the_input_key() {
        let a = json!([{"role": "user", "content": "Where is  my\n order?"}]);
        let b = json!([{"content": " Where is my order? ", "role": "user"}]);
        assert_eq!(input_key(&a), input_key(&b));
        let c = json!([{"role": "user", "content": "Where is my parcel?"}]);
        assert_ne!(input_key(&a), input_key(&c));
    }

    #[test]
    fn the_split_follows_the_input_and_holds_its_proportion() {
        let mut validation = 0;
        for i in 0..10_000 {
            let input = json!(format!("ticket number {i}"));
            let side = split_of(input_key(&input), 10);
            // The same input always falls on the same side.
            assert_eq!(
                side,
                split_of(input_key(&json!(format!("ticket  number {i} "))), 10)
            );
            if side == Split::Validation {
                validation += 1;
            }
        }
        assert!(
            (850..=1150).contains(&validation),
            "{validation} of 10,000 in validation"
        );
        assert_eq!(split_of(input_key(&json!("x")), 0), Split::Train);
    }
}
