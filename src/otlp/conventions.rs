//! The three ways LLM instrumentations describe a call on a span, read into one shape:
//! the OpenTelemetry GenAI semantic conventions (latest, messages as JSON with `parts`),
//! OpenInference (Arize; flattened `llm.input_messages.{i}.message.*`) and OpenLLMetry
//! (Traceloop; flattened `gen_ai.prompt.{i}.*`). Messages come out as Redline's chat
//! messages, tool calls in the standard `{id, type: "function", function: {name, arguments}}`
//! shape with `arguments` a JSON string.

use serde_json::{json, Map, Value};

use super::attributes::Attributes;

/// Which convention a span follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    GenAi,
    OpenInference,
    OpenLlmetry,
}

impl Convention {
    pub fn name(self) -> &'static str {
        match self {
            Convention::GenAi => "OpenTelemetry GenAI",
            Convention::OpenInference => "OpenInference",
            Convention::OpenLlmetry => "OpenLLMetry",
        }
    }

    /// How to put message content on spans, for the rejection of a span without it.
    pub fn capture_hint(self) -> &'static str {
        match self {
            Convention::GenAi => {
                "set OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental and OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only (or true) in the instrumented application"
            }
            Convention::OpenInference => {
                "unset OPENINFERENCE_HIDE_INPUTS, OPENINFERENCE_HIDE_OUTPUTS and the OPENINFERENCE_HIDE_*_MESSAGES variables (or TraceConfig's hide_* options) in the instrumented application"
            }
            Convention::OpenLlmetry => {
                "set TRACELOOP_TRACE_CONTENT=true (its default) in the instrumented application"
            }
        }
    }
}

/// What a span says about an LLM call, before Redline's own rules are applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LlmCall {
    pub provider: Option<String>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    /// Redline chat messages: system instructions first, then the input messages.
    pub input: Vec<Value>,
    /// The first output message's text, or its tool calls as `{"tool_calls": [...]}`.
    pub output: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
}

/// Operation names of GenAI spans that are one model inference.
const INFERENCE_OPERATIONS: [&str; 4] =
    ["chat", "text_completion", "generate_content", "completion"];

/// The convention of an LLM inference span, or `None` for any other span (HTTP, database,
/// tool execution, agents, embeddings, retrieval…), which is ignored.
pub fn classify(attrs: &Attributes) -> Option<Convention> {
    if let Some(kind) = attrs.text("openinference.span.kind") {
        return kind
            .eq_ignore_ascii_case("llm")
            .then_some(Convention::OpenInference);
    }
    let flattened = attrs.has_prefix("gen_ai.prompt.") || attrs.has_prefix("gen_ai.completion.");
    let structured = attrs.contains("gen_ai.input.messages")
        || attrs.contains("gen_ai.output.messages")
        || attrs.contains("gen_ai.system_instructions");
    let pick = || {
        if flattened && !structured {
            Convention::OpenLlmetry
        } else {
            Convention::GenAi
        }
    };
    if let Some(operation) = attrs.text("gen_ai.operation.name") {
        return INFERENCE_OPERATIONS.contains(&operation).then(pick);
    }
    if let Some(kind) = attrs.text("llm.request.type") {
        return ["chat", "completion"].contains(&kind).then(pick);
    }
    (flattened || structured).then(pick)
}

/// Reads the call a span of `convention` describes. Missing content leaves `input` empty
/// or `output` unset; the caller decides what that means.
pub fn read(convention: Convention, attrs: &Attributes) -> LlmCall {
    match convention {
        Convention::GenAi => gen_ai(attrs),
        Convention::OpenInference => openinference(attrs),
        Convention::OpenLlmetry => openllmetry(attrs),
    }
}

/// The keys [`read`] consumed: they are not repeated in the call's metadata.
pub fn is_claimed(key: &str) -> bool {
    const EXACT: [&str; 18] = [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.cost",
        "llm.model_name",
        "input.value",
        "output.value",
        "input.mime_type",
        "output.mime_type",
        "redline.operation",
        "redline.cost_usd",
        "llm.invocation_parameters",
    ];
    const PREFIXES: [&str; 5] = [
        "gen_ai.prompt.",
        "gen_ai.completion.",
        "llm.input_messages.",
        "llm.output_messages.",
        "llm.token_count.",
    ];
    EXACT.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// A role as Redline knows it: Gemini's `model` is the assistant.
fn role(text: Option<&str>) -> String {
    match text.map(str::to_ascii_lowercase).as_deref() {
        Some("model") | Some("ai") => "assistant".into(),
        Some("human") => "user".into(),
        Some(other) if !other.is_empty() => other.to_string(),
        _ => "user".into(),
    }
}

/// Tool-call arguments as the JSON string the standard shape carries.
fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        Some(Value::String(text)) => text.clone(),
        None | Some(Value::Null) => "{}".into(),
        Some(other) => other.to_string(),
    }
}

fn tool_call(id: Option<&str>, name: Option<&str>, arguments: Option<&Value>) -> Value {
    json!({
        "id": id,
        "type": "function",
        "function": {"name": name.unwrap_or(""), "arguments": arguments_text(arguments)},
    })
}

/// A chat message from its parts; `content` is `null` when it only calls tools.
fn message(
    role: String,
    text: Option<String>,
    calls: Vec<Value>,
    extra: Map<String, Value>,
) -> Value {
    let mut out = Map::new();
    out.insert("role".into(), Value::String(role));
    let content = match text {
        Some(text) => Value::String(text),
        None if !calls.is_empty() => Value::Null,
        None => Value::String(String::new()),
    };
    out.insert("content".into(), content);
    if !calls.is_empty() {
        out.insert("tool_calls".into(), Value::Array(calls));
    }
    out.extend(extra);
    Value::Object(out)
}

/// The output text of a message: its text, else its tool calls as JSON.
fn output_of(text: Option<String>, calls: Vec<Value>) -> Option<String> {
    match text.filter(|t| !t.is_empty()) {
        Some(text) => Some(text),
        None if !calls.is_empty() => Some(json!({ "tool_calls": calls }).to_string()),
        None => None,
    }
}

// --- OpenTelemetry GenAI (latest): messages with parts ---

fn gen_ai(attrs: &Attributes) -> LlmCall {
    let mut input = Vec::new();
    if let Some(system) = attrs.structured("gen_ai.system_instructions") {
        let parts = match system {
            Value::Array(parts) => parts,
            Value::String(text) => vec![json!({"type": "text", "content": text})],
            other => vec![other],
        };
        let text = parts_text(&parts);
        if let Some(text) = text {
            input.push(message("system".into(), Some(text), vec![], Map::new()));
        }
    }
    if let Some(Value::Array(messages)) = attrs.structured("gen_ai.input.messages") {
        for recorded in &messages {
            input.extend(gen_ai_messages(recorded));
        }
    }
    let output = match attrs.structured("gen_ai.output.messages") {
        Some(Value::Array(messages)) => messages.first().and_then(|first| {
            let parts = first
                .get("parts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            output_of(parts_text(&parts), parts_tool_calls(&parts))
        }),
        _ => None,
    };
    LlmCall {
        provider: owned(
            attrs
                .text("gen_ai.provider.name")
                .or(attrs.text("gen_ai.system")),
        ),
        request_model: owned(attrs.text("gen_ai.request.model")),
        response_model: owned(attrs.text("gen_ai.response.model")),
        input,
        output,
        input_tokens: attrs.count("gen_ai.usage.input_tokens"),
        output_tokens: attrs.count("gen_ai.usage.output_tokens"),
    }
}

/// The text parts of a GenAI message, joined by blank lines; `None` without any.
fn parts_text(parts: &[Value]) -> Option<String> {
    let texts: Vec<&str> = parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|p| p.get("content").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}

fn parts_tool_calls(parts: &[Value]) -> Vec<Value> {
    parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("tool_call"))
        .map(|p| {
            tool_call(
                p.get("id").and_then(Value::as_str),
                p.get("name").and_then(Value::as_str),
                p.get("arguments"),
            )
        })
        .collect()
}

/// One recorded GenAI message as Redline messages: tool responses become `tool` messages of
/// their own (one per response), the rest one message with its text and tool calls.
fn gen_ai_messages(recorded: &Value) -> Vec<Value> {
    let role = role(recorded.get("role").and_then(Value::as_str));
    let parts = recorded
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for part in &parts {
        if part.get("type").and_then(Value::as_str) == Some("tool_call_response") {
            let content = match part.get("response") {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let mut extra = Map::new();
            if let Some(id) = part.get("id").filter(|id| id.is_string()) {
                extra.insert("tool_call_id".into(), id.clone());
            }
            out.push(message("tool".into(), Some(content), vec![], extra));
        }
    }
    let text = parts_text(&parts);
    let calls = parts_tool_calls(&parts);
    if text.is_some() || !calls.is_empty() || out.is_empty() {
        let mut extra = Map::new();
        if let Some(name) = recorded.get("name").filter(|n| n.is_string()) {
            extra.insert("name".into(), name.clone());
        }
        out.insert(0, message(role, text, calls, extra));
    }
    out
}

/// The input messages of a flattened convention, at `list.{i}.{fields}role` and so on: the
/// role, the text and tool calls `read` finds, and the tool call id and name when present.
fn flattened_input(
    attrs: &Attributes,
    list: &str,
    fields: &str,
    read: fn(&Attributes) -> (Option<String>, Vec<Value>),
) -> Vec<Value> {
    attrs
        .indexed(list)
        .iter()
        .map(|m| {
            let (text, calls) = read(m);
            let mut extra = Map::new();
            for key in ["tool_call_id", "name"] {
                if let Some(value) = m.text(&format!("{fields}{key}")) {
                    extra.insert(key.into(), Value::String(value.into()));
                }
            }
            message(role(m.text(&format!("{fields}role"))), text, calls, extra)
        })
        .collect()
}

// --- OpenInference: llm.input_messages.{i}.message.* ---

fn openinference(attrs: &Attributes) -> LlmCall {
    let input = flattened_input(
        attrs,
        "llm.input_messages",
        "message.",
        openinference_message,
    );
    let output = attrs.indexed("llm.output_messages").first().and_then(|m| {
        let (text, calls) = openinference_message(m);
        output_of(text, calls)
    });
    let parameters = attrs.structured("llm.invocation_parameters");
    let requested = parameters
        .as_ref()
        .and_then(|p| p.get("model"))
        .and_then(Value::as_str)
        .map(str::to_string);
    LlmCall {
        provider: owned(attrs.text("llm.provider").or(attrs.text("llm.system"))),
        request_model: requested,
        response_model: owned(attrs.text("llm.model_name")),
        input,
        output,
        input_tokens: attrs.count("llm.token_count.prompt"),
        output_tokens: attrs.count("llm.token_count.completion"),
    }
}

/// A message's text (its `content`, else its text `contents` parts) and tool calls.
fn openinference_message(m: &Attributes) -> (Option<String>, Vec<Value>) {
    let text = m
        .get("message.content")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            let parts: Vec<String> = m
                .indexed("message.contents")
                .iter()
                .filter(|p| p.text("message_content.type").is_none_or(|t| t == "text"))
                .filter_map(|p| {
                    p.get("message_content.text")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n\n"))
        });
    let calls = m
        .indexed("message.tool_calls")
        .iter()
        .map(|c| {
            tool_call(
                c.text("tool_call.id"),
                c.text("tool_call.function.name"),
                c.get("tool_call.function.arguments"),
            )
        })
        .collect();
    (text, calls)
}

// --- OpenLLMetry: gen_ai.prompt.{i}.* and gen_ai.completion.{i}.* ---

fn openllmetry(attrs: &Attributes) -> LlmCall {
    let input = flattened_input(attrs, "gen_ai.prompt", "", openllmetry_message);
    let output = attrs.indexed("gen_ai.completion").first().and_then(|m| {
        let (text, calls) = openllmetry_message(m);
        output_of(text, calls)
    });
    LlmCall {
        provider: owned(
            attrs
                .text("gen_ai.system")
                .or(attrs.text("gen_ai.provider.name")),
        ),
        request_model: owned(attrs.text("gen_ai.request.model")),
        response_model: owned(attrs.text("gen_ai.response.model")),
        input,
        output,
        input_tokens: attrs
            .count("gen_ai.usage.prompt_tokens")
            .or(attrs.count("gen_ai.usage.input_tokens")),
        output_tokens: attrs
            .count("gen_ai.usage.completion_tokens")
            .or(attrs.count("gen_ai.usage.output_tokens")),
    }
}

fn openllmetry_message(m: &Attributes) -> (Option<String>, Vec<Value>) {
    let text = m.get("content").and_then(Value::as_str).map(str::to_string);
    let mut calls: Vec<Value> = m
        .indexed("tool_calls")
        .iter()
        .map(|c| tool_call(c.text("id"), c.text("name"), c.get("arguments")))
        .collect();
    // Older releases recorded the legacy single function call.
    if calls.is_empty() {
        if let Some(name) = m.text("function_call.name") {
            calls.push(tool_call(
                None,
                Some(name),
                m.get("function_call.arguments"),
            ));
        }
    }
    (text, calls)
}
