//! One call as one line of each export format. Lines are built in a fixed key order and
//! times are written with microseconds, so the same rows always give the same bytes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::redact::Redactor;
use crate::model::export::{PreferenceStyle, Split, SystemMessage};
use crate::model::Verdict;
use crate::store::ExportRow;

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A tool call in the standard shape: `arguments` is a JSON string even when the call
/// recorded an object.
fn tool_call(call: &Value) -> Value {
    let function = call.get("function").cloned().unwrap_or(Value::Null);
    let name = function.get("name").cloned().unwrap_or(Value::Null);
    let arguments = match function.get("arguments") {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(other) => Value::String(other.to_string()),
        None => Value::String("{}".into()),
    };
    json!({
        "id": call.get("id").cloned().unwrap_or(Value::Null),
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    })
}

/// A recorded message with the keys trainers read, in a fixed order. `developer` messages
/// become `system` ones (most trainers know only the four classic roles).
fn message(recorded: &Value) -> Value {
    let mut out = Map::new();
    let role = match recorded.get("role").and_then(Value::as_str) {
        Some("developer") => "system",
        Some(role) => role,
        None => "user",
    };
    out.insert("role".into(), Value::String(role.to_string()));
    let calls = recorded
        .get("tool_calls")
        .and_then(Value::as_array)
        .filter(|calls| !calls.is_empty());
    match recorded.get("content") {
        Some(Value::String(text)) => {
            out.insert("content".into(), Value::String(text.clone()));
        }
        _ if calls.is_some() => {
            out.insert("content".into(), Value::Null);
        }
        Some(other) => {
            out.insert("content".into(), other.clone());
        }
        None => {
            out.insert("content".into(), Value::Null);
        }
    }
    if let Some(calls) = calls {
        out.insert(
            "tool_calls".into(),
            Value::Array(calls.iter().map(tool_call).collect()),
        );
    }
    if let Some(id) = recorded.get("tool_call_id") {
        out.insert("tool_call_id".into(), id.clone());
    }
    if let Some(name) = recorded.get("name").filter(|n| n.is_string()) {
        out.insert("name".into(), name.clone());
    }
    Value::Object(out)
}

/// The call's input as chat messages: a plain string is one user message. The system
/// message is kept, dropped or replaced as the spec says.
pub fn input_messages(input: &Value, system: &SystemMessage) -> Vec<Value> {
    let mut messages: Vec<Value> = match input {
        Value::Array(items) => items.iter().map(message).collect(),
        Value::String(text) => vec![json!({"role": "user", "content": text})],
        other => vec![json!({"role": "user", "content": other.to_string()})],
    };
    match system {
        SystemMessage::Keep => {}
        SystemMessage::Drop => messages.retain(|m| m["role"] != "system"),
        SystemMessage::Replace(text) => {
            messages.retain(|m| m["role"] != "system");
            messages.insert(0, json!({"role": "system", "content": text}));
        }
    }
    messages
}

/// The assistant message a target text stands for: an output recorded as tool calls
/// (`{"tool_calls": [...]}`, optionally with `content`) becomes a tool-calling message.
pub fn assistant_message(text: &str) -> Value {
    if text.trim_start().starts_with('{') {
        if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
            if let Some(calls) = object.get("tool_calls").and_then(Value::as_array) {
                if !calls.is_empty() {
                    let content = object
                        .get("content")
                        .filter(|c| c.is_string())
                        .cloned()
                        .unwrap_or(Value::Null);
                    return json!({
                        "role": "assistant",
                        "content": content,
                        "tool_calls": calls.iter().map(tool_call).collect::<Vec<_>>(),
                    });
                }
            }
        }
    }
    json!({"role": "assistant", "content": text})
}

/// The text an example teaches: the correction of an incorrect call, the output of a
/// correct one. `None` when the call gives no example.
pub fn target(row: &ExportRow) -> Option<&str> {
    row.review.as_ref()?;
    match row.verdict {
        Verdict::Incorrect => row.correction(),
        Verdict::Correct => Some(row.output.as_str()),
        Verdict::Unreviewed => None,
    }
}

/// The row with personal data replaced in its input, output, correction and note.
pub fn redact(row: &ExportRow, redactor: &mut Redactor) -> Result<ExportRow, String> {
    let mut out = row.clone();
    out.input = redactor.value(&row.input_value()?).to_string();
    out.output = redactor.text(&row.output);
    if let Some(review) = out.review.as_mut() {
        review.corrected_output = review.corrected_output.as_deref().map(|t| redactor.text(t));
        review.note = redactor.text(&review.note);
    }
    Ok(out)
}

/// A `chat_jsonl` line: the input turns, then the target as the assistant's answer.
pub fn chat_line(row: &ExportRow, system: &SystemMessage, target: &str) -> Result<Value, String> {
    let mut messages = input_messages(&row.input_value()?, system);
    messages.push(assistant_message(target));
    Ok(json!({ "messages": messages }))
}

/// A `preference_jsonl` line: the correction preferred, the original output rejected.
pub fn preference_line(
    row: &ExportRow,
    system: &SystemMessage,
    style: PreferenceStyle,
    correction: &str,
) -> Result<Value, String> {
    let prompt = input_messages(&row.input_value()?, system);
    let chosen = vec![assistant_message(correction)];
    let rejected = vec![assistant_message(&row.output)];
    Ok(match style {
        PreferenceStyle::Openai => json!({
            "input": {"messages": prompt},
            "preferred_output": chosen,
            "non_preferred_output": rejected,
        }),
        PreferenceStyle::Trl => json!({
            "prompt": prompt,
            "chosen": chosen,
            "rejected": rejected,
        }),
    })
}

/// A JSON object written straight into a line's bytes, keys in the order they are added:
/// a data export writes a million of them, and building a `Value` for each (parsing the
/// stored input only to write it again) was most of its time. Strings are escaped by
/// serde_json, so the bytes are those `Value` would give.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.value(key);
        self.out.push(b':');
    }

    fn value(&mut self, value: &(impl serde::Serialize + ?Sized)) {
        // Writing to a Vec fails only if serializing fails, which plain values do not.
        if serde_json::to_writer(&mut *self.out, value).is_err() {
            self.out.extend_from_slice(b"null");
        }
    }

    fn field(&mut self, key: &str, value: &(impl serde::Serialize + ?Sized)) -> &mut Self {
        self.key(key);
        self.value(value);
        self
    }

    /// A field whose value is JSON text already (one line, checked when it was read).
    fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
        self
    }

    fn close(&mut self) {
        self.out.push(b'}');
    }
}

/// A `jsonl` line (without its line end), appended to `out`: every field of the call and
/// its current review.
pub fn data_line(out: &mut Vec<u8>, row: &ExportRow, split: Split) {
    let mut line = Object::open(out);
    line.field("id", &row.id)
        .field("split", split.as_str())
        .field("operation", &row.operation)
        .field("model", &row.model)
        .field("model_version", &row.model_version)
        .field("created_at", &time(row.created_at))
        .field("received_at", &time(row.received_at))
        .raw("input", &row.input)
        .field("output", &row.output)
        .field("latency_ms", &row.latency_ms)
        .field("input_tokens", &row.input_tokens)
        .field("output_tokens", &row.output_tokens)
        .field("cost_usd", &row.cost_usd)
        .field("source", &row.source)
        .field("external_id", &row.external_id)
        .raw("metadata", &row.metadata)
        .field("verdict", row.verdict.as_str());
    line.key("review");
    match &row.review {
        Some(r) => {
            let mut review = Object::open(line.out);
            review
                .field("revision", &r.revision)
                .field("reviewer", &r.reviewer)
                .field("verdict", r.verdict.as_str())
                .field("corrected_output", &r.corrected_output)
                .field("tags", &r.tags)
                .field("note", &r.note)
                .field("sampled", &r.sampled)
                .field("reviewed_at", &time(r.created_at));
            review.close();
        }
        None => line.out.extend_from_slice(b"null"),
    }
    line.close();
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 24] = [
    "id",
    "split",
    "operation",
    "model",
    "model_version",
    "created_at",
    "received_at",
    "input",
    "output",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "source",
    "external_id",
    "metadata",
    "verdict",
    "review_revision",
    "reviewer",
    "corrected_output",
    "tags",
    "note",
    "sampled",
    "reviewed_at",
];

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// The header line, CRLF-terminated as RFC 4180 writes it.
pub fn csv_header() -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    out
}

/// A CSV record: the `jsonl` fields flattened; the input and metadata as JSON text, tags
/// joined with `;`.
pub fn csv_line(row: &ExportRow, split: Split) -> String {
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let review = row.review.as_ref();
    let fields: [String; 24] = [
        row.id.clone(),
        split.as_str().to_string(),
        row.operation.clone(),
        row.model.clone(),
        row.model_version.clone(),
        time(row.created_at),
        time(row.received_at),
        row.input.clone(),
        row.output.clone(),
        opt(row.latency_ms),
        opt(row.input_tokens),
        opt(row.output_tokens),
        row.cost_usd
            .map(|c| Value::from(c).to_string())
            .unwrap_or_default(),
        row.source.clone(),
        row.external_id.clone().unwrap_or_default(),
        row.metadata.clone(),
        row.verdict.as_str().to_string(),
        opt(review.map(|r| r.revision)),
        review.map(|r| r.reviewer.clone()).unwrap_or_default(),
        review
            .and_then(|r| r.corrected_output.clone())
            .unwrap_or_default(),
        review.map(|r| r.tags.join(";")).unwrap_or_default(),
        review.map(|r| r.note.clone()).unwrap_or_default(),
        review.map(|r| r.sampled.to_string()).unwrap_or_default(),
        review.map(|r| time(r.created_at)).unwrap_or_default(),
    ];
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, field);
    }
    out.push_str("\r\n");
    out
}
