//! The OTLP ingest workload: the JSON benchmark's calls as OpenTelemetry GenAI spans (latest
//! conventions, messages with parts), in protobuf export requests of 512 spans (the Python and
//! Java SDKs' default batch), so spans/s compares with `POST /api/v1/calls`' calls/s.

use chrono::DateTime;
use hyper::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};

use crate::jobs::demo::{generate, DemoOptions};

/// Spans per export request.
pub(super) const SPANS_PER_REQUEST: usize = 512;

fn attribute(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    attribute(key, Any::StringValue(value.into()))
}

/// A Redline chat message as a GenAI message with parts.
fn message_parts(message: &Value) -> Value {
    let mut parts = Vec::new();
    if let Some(content) = message.get("content").and_then(Value::as_str) {
        if message.get("role").and_then(Value::as_str) == Some("tool") {
            parts.push(json!({"type": "tool_call_response", "id": message.get("tool_call_id"), "response": content}));
        } else {
            parts.push(json!({"type": "text", "content": content}));
        }
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = &call["function"];
        let arguments = function["arguments"]
            .as_str()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .unwrap_or(Value::Null);
        parts.push(json!({"type": "tool_call", "id": call.get("id"), "name": function["name"], "arguments": arguments}));
    }
    json!({"role": message.get("role"), "parts": parts})
}

/// Call `index` of the JSON workload as a GenAI span.
fn span(options: &DemoOptions, index: usize) -> Span {
    let item = generate(options, index).item;
    let (system, messages): (Vec<Value>, Vec<Value>) = match &item["input"] {
        Value::Array(messages) => messages
            .iter()
            .cloned()
            .partition(|m| m.get("role").and_then(Value::as_str) == Some("system")),
        other => (vec![], vec![json!({"role": "user", "content": other})]),
    };
    let mut attributes = vec![
        text("gen_ai.operation.name", "chat"),
        text("gen_ai.provider.name", "bench"),
        text("gen_ai.request.model", item["model"].as_str().unwrap_or("m")),
        text("gen_ai.response.model", item["model_version"].as_str().unwrap_or("v")),
        text("redline.operation", item["operation"].as_str().unwrap_or("op")),
        text(
            "gen_ai.input.messages",
            &Value::Array(messages.iter().map(message_parts).collect()).to_string(),
        ),
        text(
            "gen_ai.output.messages",
            &json!([{"role": "assistant", "parts": [{"type": "text", "content": item["output"]}], "finish_reason": "stop"}]).to_string(),
        ),
    ];
    if !system.is_empty() {
        let parts: Vec<Value> = system
            .iter()
            .map(|m| json!({"type": "text", "content": m["content"]}))
            .collect();
        attributes.push(text(
            "gen_ai.system_instructions",
            &Value::Array(parts).to_string(),
        ));
    }
    for (key, field) in [
        ("gen_ai.usage.input_tokens", "input_tokens"),
        ("gen_ai.usage.output_tokens", "output_tokens"),
    ] {
        if let Some(n) = item[field].as_i64() {
            attributes.push(attribute(key, Any::IntValue(n)));
        }
    }
    if let Some(cost) = item["cost_usd"].as_f64() {
        attributes.push(attribute("redline.cost_usd", Any::DoubleValue(cost)));
    }
    let start = item["created_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or(0) as u64;
    let latency = item["latency_ms"].as_u64().unwrap_or(0) * 1_000_000;
    let id = index as u64 + 1;
    Span {
        trace_id: [id.to_be_bytes(), 0xbe_u64.to_be_bytes()].concat(),
        span_id: id.to_be_bytes().to_vec(),
        name: format!("chat {}", item["model"].as_str().unwrap_or("")),
        kind: 3,
        start_time_unix_nano: start,
        end_time_unix_nano: start + latency,
        attributes,
        ..Span::default()
    }
}

/// The workload's calls as protobuf export requests of [`SPANS_PER_REQUEST`] spans.
pub(super) fn generate_requests(options: &DemoOptions) -> Vec<Bytes> {
    let requests = options.calls.div_ceil(SPANS_PER_REQUEST);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let per = requests.div_ceil(workers).max(1);
    let mut out: Vec<Vec<Bytes>> = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (w * per..((w + 1) * per).min(requests))
                        .map(|r| {
                            let spans = (r * SPANS_PER_REQUEST
                                ..((r + 1) * SPANS_PER_REQUEST).min(options.calls))
                                .map(|i| span(options, i))
                                .collect();
                            let request = ExportTraceServiceRequest {
                                resource_spans: vec![ResourceSpans {
                                    resource: Some(Resource {
                                        attributes: vec![text("service.name", "bench")],
                                        ..Resource::default()
                                    }),
                                    scope_spans: vec![ScopeSpans {
                                        scope: Some(InstrumentationScope {
                                            name: "redline.bench".into(),
                                            ..InstrumentationScope::default()
                                        }),
                                        spans,
                                        ..ScopeSpans::default()
                                    }],
                                    ..ResourceSpans::default()
                                }],
                            };
                            Bytes::from(request.encode_to_vec())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            out.push(handle.join().unwrap_or_default());
        }
    });
    out.into_iter().flatten().collect()
}
