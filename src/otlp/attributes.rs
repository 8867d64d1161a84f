//! Span and resource attributes as JSON values, looked up by key: what the conventions read.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and key-value lists kept; deeper values become `null`.
const MAX_DEPTH: usize = 16;

/// One attribute value as JSON: strings, booleans, numbers, arrays and objects as they are;
/// bytes as lowercase hex (there is no JSON bytes type).
pub fn json_of(value: &AnyValue) -> Value {
    json_at(value, 0)
}

fn json_at(value: &AnyValue, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match &value.value {
        None | Some(Any::StringValueStrindex(_)) => Value::Null,
        Some(Any::StringValue(text)) => Value::String(text.clone()),
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(n)) => Value::Number((*n).into()),
        Some(Any::DoubleValue(x)) => Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Some(Any::BytesValue(bytes)) => Value::String(hex(bytes)),
        Some(Any::ArrayValue(array)) => Value::Array(
            array
                .values
                .iter()
                .map(|item| json_at(item, depth + 1))
                .collect(),
        ),
        Some(Any::KvlistValue(list)) => Value::Object(
            list.values
                .iter()
                .map(|kv| {
                    let value = kv
                        .value
                        .as_ref()
                        .map_or(Value::Null, |v| json_at(v, depth + 1));
                    (kv.key.clone(), value)
                })
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// Lowercase hex of `bytes` (trace and span ids are shown this way everywhere).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// A span's (or resource's) attributes by key. A key sent twice keeps its last value.
#[derive(Clone, Debug, Default)]
pub struct Attributes(BTreeMap<String, Value>);

impl Attributes {
    pub fn of(list: &[KeyValue]) -> Attributes {
        Attributes(
            list.iter()
                .map(|kv| {
                    let value = kv.value.as_ref().map_or(Value::Null, json_of);
                    (kv.key.clone(), value)
                })
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A string attribute, trimmed; `None` when absent, empty or not a string.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A whole-number attribute; a string of digits is read too (some SDKs send counts so).
    pub fn count(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15)
                    .map(|x| x as i64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A number attribute (integers too); a numeric string is read too.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// An attribute holding JSON: a structured value as it is, or a string parsed as JSON.
    /// `None` when absent or when the string is not JSON.
    pub fn structured(&self, key: &str) -> Option<Value> {
        match self.get(key)? {
            Value::String(text) => serde_json::from_str(text).ok(),
            other => Some(other.clone()),
        }
    }

    /// Whether any key starts with `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0
            .range(prefix.to_string()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(prefix))
    }

    /// The flattened list `prefix.{i}.…`, as one map per index in index order, each holding
    /// the rest of the key (`role`, `tool_calls.0.name`, …). Gaps in the numbering are closed.
    pub fn indexed(&self, prefix: &str) -> Vec<Attributes> {
        let start = format!("{prefix}.");
        let mut items: BTreeMap<u32, BTreeMap<String, Value>> = BTreeMap::new();
        for (key, value) in self.0.range(start.clone()..) {
            let Some(rest) = key.strip_prefix(&start) else {
                break;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            items
                .entry(index)
                .or_default()
                .insert(field.to_string(), value.clone());
        }
        items.into_values().map(Attributes).collect()
    }

    /// The attributes whose key is not claimed by `claimed`, for a call's metadata.
    pub fn unclaimed(&self, claimed: impl Fn(&str) -> bool) -> Map<String, Value> {
        self.0
            .iter()
            .filter(|(k, _)| !claimed(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn kv(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn values_become_json_and_lists_are_read_by_index() {
        let attrs = Attributes::of(&[
            kv("a.1.role", Any::StringValue("assistant".into())),
            kv("a.0.role", Any::StringValue("user".into())),
            kv("a.0.content", Any::StringValue("hi".into())),
            kv("a.10.role", Any::StringValue("tool".into())),
            kv("n", Any::StringValue(" 42 ".into())),
            kv("bytes", Any::BytesValue(vec![0xab, 0x01])),
            kv(
                "list",
                Any::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(Any::KvlistValue(KeyValueList {
                            values: vec![kv("x", Any::IntValue(1))],
                        })),
                    }],
                }),
            ),
        ]);
        let items = attrs.indexed("a");
        let roles: Vec<_> = items.iter().map(|i| i.text("role")).collect();
        assert_eq!(roles, [Some("user"), Some("assistant"), Some("tool")]);
        assert_eq!(items[0].text("content"), Some("hi"));
        assert_eq!(attrs.count("n"), Some(42));
        assert_eq!(attrs.text("bytes"), Some("ab01"));
        assert_eq!(attrs.get("list"), Some(&serde_json::json!([{"x": 1}])));
        assert!(attrs.has_prefix("a."));
        assert!(!attrs.has_prefix("b."));
    }
}
