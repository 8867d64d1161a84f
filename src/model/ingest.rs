//! Validation of one ingested call: raw JSON in, a `NewCall` or a plain-words reason out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::filter::is_valid_operation_name;

/// Most calls one ingest request may carry.
pub const MAX_BATCH_ITEMS: usize = 1_000;
/// Largest ingest request body.
pub const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;
/// Largest input or output text of one call.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// Largest metadata object of one call (serialized).
pub const MAX_METADATA_BYTES: usize = 64 * 1024;
/// How far ahead of the server clock a call's `created_at` may be.
pub const MAX_CLOCK_SKEW_SECS: i64 = 24 * 3600;

const ROLES: [&str; 5] = ["system", "user", "assistant", "tool", "developer"];
const KNOWN_FIELDS: [&str; 14] = [
    "operation",
    "model",
    "model_version",
    "input",
    "output",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "created_at",
    "metadata",
    "source",
    "external_id",
    "id",
];

/// A validated call, ready for the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCall {
    pub operation: String,
    pub model: String,
    pub model_version: String,
    /// Chat messages (an array) or a plain string, as sent.
    pub input: Value,
    pub output: String,
    pub latency_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// Microseconds since the Unix epoch; `None` means "when received".
    pub created_at_micros: Option<i64>,
    pub metadata: Map<String, Value>,
    pub source: String,
    pub external_id: Option<String>,
}

impl NewCall {
    /// The words of the input that full-text search should find: message contents and
    /// tool-call arguments, without the JSON keys around them. System messages are left out:
    /// an operation sends the same system prompt with every call, so its words would match
    /// every call of the operation and only make the index bigger and ingest slower.
    pub fn input_search_text(&self) -> String {
        input_search_text(&self.input)
    }
}

/// The searchable text of a call's input (see `NewCall::input_search_text`).
pub fn input_search_text(input: &Value) -> String {
    let mut text = String::new();
    match input {
        Value::Array(messages) => messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) != Some("system"))
            .for_each(|m| collect_text(m, &mut text)),
        other => collect_text(other, &mut text),
    }
    text
}

fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|item| collect_text(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                if key != "role" && key != "type" && key != "id" && key != "tool_call_id" {
                    collect_text(item, out);
                }
            }
        }
        _ => {}
    }
}

/// Validates one item of an ingest batch. `now` bounds `created_at` from above.
pub fn validate_call(item: &Value, now: DateTime<Utc>) -> Result<NewCall, String> {
    let Value::Object(fields) = item else {
        return Err(format!("expected a JSON object, got {}", kind_of(item)));
    };
    if let Some(unknown) = fields.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field \"{unknown}\""));
    }
    if fields.contains_key("id") {
        return Err("\"id\" is assigned by Redline; send \"external_id\" instead".into());
    }

    let operation = required_string(fields, "operation")?;
    if !is_valid_operation_name(&operation) {
        return Err(format!(
            "operation: \"{}\" is not an operation name (a lowercase letter, then up to 63 of a-z 0-9 _ - .)",
            truncate_for_message(&operation)
        ));
    }
    let model = bounded_string(fields, "model", 128)?;
    let model_version = bounded_string(fields, "model_version", 128)?;
    let input = validate_input(fields.get("input"))?;
    let output = match fields.get("output") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("output: expected a string, got {}", kind_of(other))),
        None => return Err("output: required".into()),
    };
    if output.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "output: {} bytes is over the limit of {MAX_TEXT_BYTES}",
            output.len()
        ));
    }

    let created_at_micros = match fields.get("created_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
                format!(
                    "created_at: \"{}\" is not an RFC 3339 time such as 2026-01-31T12:00:00Z",
                    truncate_for_message(text)
                )
            })?;
            let at = at.with_timezone(&Utc);
            if at.timestamp() > now.timestamp() + MAX_CLOCK_SKEW_SECS {
                return Err(format!(
                    "created_at: {text} is more than a day in the future"
                ));
            }
            if at.timestamp() < 946_684_800 {
                return Err(format!("created_at: {text} is before the year 2000"));
            }
            Some(at.timestamp_micros())
        }
        Some(other) => {
            return Err(format!(
                "created_at: expected an RFC 3339 string, got {}",
                kind_of(other)
            ))
        }
    };

    let metadata = match fields.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => {
            let size = serde_json::to_string(map).map(|s| s.len()).unwrap_or(0);
            if size > MAX_METADATA_BYTES {
                return Err(format!(
                    "metadata: {size} bytes is over the limit of {MAX_METADATA_BYTES}"
                ));
            }
            map.clone()
        }
        Some(other) => {
            return Err(format!(
                "metadata: expected an object, got {}",
                kind_of(other)
            ))
        }
    };

    let source = optional_string(fields, "source", 128)?.unwrap_or_default();
    let external_id = optional_string(fields, "external_id", 256)?;
    if external_id.as_deref() == Some("") {
        return Err("external_id: must not be empty (leave it out instead)".into());
    }

    Ok(NewCall {
        operation,
        model,
        model_version,
        input,
        output,
        latency_ms: count(fields, "latency_ms")?,
        input_tokens: count(fields, "input_tokens")?,
        output_tokens: count(fields, "output_tokens")?,
        cost_usd: cost(fields)?,
        created_at_micros,
        metadata,
        source,
        external_id,
    })
}

fn validate_input(value: Option<&Value>) -> Result<Value, String> {
    let input = match value {
        None | Some(Value::Null) => return Err("input: required".into()),
        Some(Value::String(text)) => {
            if text.len() > MAX_TEXT_BYTES {
                return Err(format!(
                    "input: {} bytes is over the limit of {MAX_TEXT_BYTES}",
                    text.len()
                ));
            }
            return Ok(Value::String(text.clone()));
        }
        Some(Value::Array(messages)) => messages,
        Some(other) => {
            return Err(format!(
                "input: expected a string or an array of chat messages, got {}",
                kind_of(other)
            ))
        }
    };
    if input.is_empty() {
        return Err("input: the message list is empty".into());
    }
    let mut size = 0;
    for (i, message) in input.iter().enumerate() {
        let Value::Object(message) = message else {
            return Err(format!(
                "input[{i}]: expected a message object, got {}",
                kind_of(message)
            ));
        };
        match message.get("role") {
            Some(Value::String(role)) if ROLES.contains(&role.as_str()) => {}
            Some(Value::String(role)) => {
                return Err(format!(
                "input[{i}].role: \"{}\" is not one of system, user, assistant, tool, developer",
                truncate_for_message(role)
            ))
            }
            _ => return Err(format!("input[{i}].role: required string")),
        }
        match message.get("content") {
            Some(Value::String(text)) => size += text.len(),
            Some(Value::Null) | None if message.contains_key("tool_calls") => {}
            // Multi-part content (text and image parts) is kept as sent.
            Some(Value::Array(_)) => {}
            None | Some(Value::Null) => {
                return Err(format!(
                    "input[{i}].content: required unless the message has tool_calls"
                ))
            }
            Some(other) => {
                return Err(format!(
                    "input[{i}].content: expected a string, got {}",
                    kind_of(other)
                ))
            }
        }
        if let Some(calls) = message.get("tool_calls") {
            if !calls.is_array() {
                return Err(format!("input[{i}].tool_calls: expected an array"));
            }
        }
    }
    if size > MAX_TEXT_BYTES {
        return Err(format!(
            "input: {size} bytes is over the limit of {MAX_TEXT_BYTES}"
        ));
    }
    Ok(Value::Array(input.clone()))
}

fn required_string(fields: &Map<String, Value>, name: &str) -> Result<String, String> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{name}: must not be empty")),
        Some(other) => Err(format!("{name}: expected a string, got {}", kind_of(other))),
        None => Err(format!("{name}: required")),
    }
}

fn bounded_string(fields: &Map<String, Value>, name: &str, max: usize) -> Result<String, String> {
    let value = required_string(fields, name)?;
    if value.chars().count() > max {
        return Err(format!("{name}: longer than {max} characters"));
    }
    Ok(value)
}

fn optional_string(
    fields: &Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(format!("{name}: longer than {max} characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{name}: expected a string, got {}", kind_of(other))),
    }
}

fn count(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=i64::from(u32::MAX)).contains(&v) => Ok(Some(v)),
            _ => Err(format!(
                "{name}: expected a whole number from 0 to {}, got {n}",
                u32::MAX
            )),
        },
        Some(other) => Err(format!("{name}: expected a number, got {}", kind_of(other))),
    }
}

fn cost(fields: &Map<String, Value>) -> Result<Option<f64>, String> {
    match fields.get("cost_usd") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(format!("cost_usd: expected a non-negative number, got {n}")),
        },
        Some(other) => Err(format!(
            "cost_usd: expected a number, got {}",
            kind_of(other)
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate_for_message(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn valid() -> Value {
        json!({
            "operation": "ticket_summarize",
            "model": "gpt-4o",
            "model_version": "2024-08-06",
            "input": [{"role": "system", "content": "Summarize."}, {"role": "user", "content": "My order never came"}],
            "output": "Customer reports a missing order.",
            "latency_ms": 812,
            "input_tokens": 31,
            "output_tokens": 9,
            "cost_usd": 0.00021,
            "created_at": "2026-05-31T10:00:00Z",
            "metadata": {"customer": "acme"},
            "source": "support-bot",
            "external_id": "req-1"
        })
    }

    fn reason(change: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut item = valid();
        change(item.as_object_mut().unwrap());
        validate_call(&item, now()).unwrap_err()
    }

    #[test]
    fn a_complete_call_is_accepted() {
        let call = validate_call(&valid(), now()).unwrap();
        assert_eq!(call.operation, "ticket_summarize");
        assert_eq!(call.external_id.as_deref(), Some("req-1"));
        assert_eq!(
            call.input_search_text(),
            "My order never came",
            "system prompts are not indexed"
        );
    }

    #[test]
    fn each_class_of_mistake_has_its_reason() {
        assert_eq!(
            reason(|m| {
                m.remove("operation");
            }),
            "operation: required"
        );
        assert!(reason(|m| {
            m.insert("operation".into(), json!("Bad Name"));
        })
        .contains("not an operation name"));
        assert!(reason(|m| {
            m.insert("latency_ms".into(), json!("fast"));
        })
        .starts_with("latency_ms: expected a number"));
        assert!(reason(|m| {
            m.insert("input_tokens".into(), json!(-1));
        })
        .starts_with("input_tokens"));
        assert!(reason(|m| {
            m.insert("created_at".into(), json!("yesterday"));
        })
        .contains("RFC 3339"));
        assert!(reason(|m| {
            m.insert("created_at".into(), json!("2027-01-01T00:00:00Z"));
        })
        .contains("future"));
        assert!(reason(|m| {
            m.insert("input".into(), json!([{"role": "robot", "content": "x"}]));
        })
        .starts_with("input[0].role"));
        assert!(reason(|m| {
            m.insert("output".into(), json!({"a": 1}));
        })
        .starts_with("output: expected a string"));
        assert!(reason(|m| {
            m.insert("output".into(), json!("x".repeat(MAX_TEXT_BYTES + 1)));
        })
        .contains("over the limit"));
        assert!(reason(|m| {
            m.insert("colour".into(), json!("red"));
        })
        .contains("unknown field"));
        assert!(reason(|m| {
            m.insert("metadata".into(), json!([1]));
        })
        .starts_with("metadata"));
        assert!(validate_call(&json!([1, 2]), now())
            .unwrap_err()
            .contains("expected a JSON object"));
    }

    #[test]
    fn plain_text_input_and_missing_optionals_are_fine() {
        let item = json!({"operation": "t", "model": "m", "model_version": "1", "input": "hi", "output": "yo"});
        let call = validate_call(&item, now()).unwrap();
        assert_eq!(call.created_at_micros, None);
        assert_eq!(call.source, "");
        assert_eq!(call.input_search_text(), "hi");
    }
}
