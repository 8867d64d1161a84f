//! OpenTelemetry ingest (issue 15): applications already traced with an LLM instrumentation
//! send their spans to `POST /v1/traces` (OTLP over HTTP), and each LLM inference span becomes
//! a call. Decoding and answering are in [`wire`]; reading the three conventions in
//! [`conventions`]; here, a span becomes the JSON item `POST /api/v1/calls` takes and goes
//! through the same validation. The mapping table is in the README.

pub mod attributes;
pub mod conventions;
pub mod wire;

use chrono::{DateTime, SecondsFormat, Utc};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Map, Value};

use crate::model::ingest::{validate_call, NewCall, MAX_METADATA_BYTES};
use attributes::{hex, Attributes};
use conventions::{classify, is_claimed, read, Convention};

/// Where OTLP/HTTP exporters send traces (`OTEL_EXPORTER_OTLP_ENDPOINT` + this path).
pub const TRACES_PATH: &str = "/v1/traces";
/// Most spans one request may carry (the SDK sends 512 at most by default; a Collector's batch
/// processor should keep `send_batch_max_size` at or under this).
pub const MAX_SPANS: usize = 10_000;
/// Largest request body once decompressed.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;
/// Largest single attribute value kept in a call's metadata; longer ones are left out.
const MAX_METADATA_VALUE_BYTES: usize = 2 * 1024;
/// Reasons quoted in `partial_success.error_message`; the count covers the rest.
const REASONS_QUOTED: usize = 5;

/// What the spans of one request became.
#[derive(Debug, Default)]
pub struct Mapped {
    /// Valid calls, in the request's order.
    pub calls: Vec<NewCall>,
    /// Spans that are LLM calls but could not become one: `trace:span` and why.
    pub rejected: Vec<(String, String)>,
    /// Spans that are not LLM inference (HTTP, database, tools, agents…).
    pub ignored: usize,
}

impl Mapped {
    /// The `partial_success.error_message` of the answer, empty when nothing was rejected.
    pub fn error_message(&self) -> String {
        if self.rejected.is_empty() {
            return String::new();
        }
        let mut quoted: Vec<String> = self
            .rejected
            .iter()
            .take(REASONS_QUOTED)
            .map(|(span, reason)| format!("span {span}: {reason}"))
            .collect();
        if self.rejected.len() > REASONS_QUOTED {
            quoted.push(format!("and {} more", self.rejected.len() - REASONS_QUOTED));
        }
        format!(
            "{} LLM span(s) could not become calls: {}",
            self.rejected.len(),
            quoted.join("; ")
        )
    }
}

/// Spans in a request, counted without reading them.
pub fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter())
        .map(|s| s.spans.len())
        .sum()
}

/// Reads every span of `request`: LLM spans become calls or rejections, others are counted.
pub fn map_request(request: &ExportTraceServiceRequest, now: DateTime<Utc>) -> Mapped {
    let mut mapped = Mapped::default();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| Attributes::of(&r.attributes))
            .unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans
                .scope
                .as_ref()
                .map(|s| s.name.as_str())
                .unwrap_or("");
            for span in &scope_spans.spans {
                match call_of(&resource, scope, span, now) {
                    Ok(None) => mapped.ignored += 1,
                    Ok(Some(call)) => mapped.calls.push(call),
                    Err(reason) => mapped.rejected.push((span_ref(span), reason)),
                }
            }
        }
    }
    mapped
}

fn span_ref(span: &Span) -> String {
    format!("{}:{}", hex(&span.trace_id), hex(&span.span_id))
}

/// An operation name from a service name: lowercase, other characters as `_`, starting with
/// a letter, at most 64 characters (`Billing API` → `billing_api`).
pub fn operation_from_service(service: &str) -> Option<String> {
    let mut name = String::new();
    for c in service.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.') {
            c
        } else {
            '_'
        };
        if name.is_empty() && !c.is_ascii_lowercase() {
            continue;
        }
        if c == '_' && name.ends_with('_') {
            continue;
        }
        name.push(c);
    }
    let name: String = name.trim_end_matches('_').chars().take(64).collect();
    (!name.is_empty()).then_some(name)
}

/// The call an LLM span describes (`None` for other spans), validated as `POST /api/v1/calls`
/// validates an item; the reason when it cannot become one.
pub fn call_of(
    resource: &Attributes,
    scope: &str,
    span: &Span,
    now: DateTime<Utc>,
) -> Result<Option<NewCall>, String> {
    let attrs = Attributes::of(&span.attributes);
    let Some(convention) = classify(&attrs) else {
        return Ok(None);
    };
    let call = read(convention, &attrs);
    let missing = match (call.input.is_empty(), call.output.is_none()) {
        (true, true) => Some("input and output messages"),
        (true, false) => Some("input messages"),
        (false, true) => Some("output messages"),
        (false, false) => None,
    };
    if let Some(missing) = missing {
        return Err(no_content(convention, missing));
    }
    // The ids make the call's external id: without them a retry could not be recognized.
    if span.trace_id.len() != 16 || span.span_id.len() != 8 {
        return Err("the span has no valid trace id (16 bytes) and span id (8 bytes)".into());
    }
    let service = resource.text("service.name");
    let operation = attrs
        .text("redline.operation")
        .or(resource.text("redline.operation"))
        .map(str::to_string)
        .or_else(|| service.and_then(operation_from_service))
        .ok_or("no operation: set redline.operation on the span or the resource (OTEL_RESOURCE_ATTRIBUTES=redline.operation=…), or service.name")?;
    let requested = call.request_model.clone().or(call.response_model.clone());
    let Some(requested) = requested else {
        return Err(format!(
            "this {} span names no model (request or response)",
            convention.name()
        ));
    };
    // Providers are named in lowercase by the conventions, but older OpenLLMetry releases
    // wrote `OpenAI`: one provider, one model name.
    let model = match &call.provider {
        Some(provider) if !requested.contains('/') => {
            format!("{}/{requested}", provider.to_lowercase())
        }
        _ => requested.clone(),
    };
    let version = call.response_model.clone().unwrap_or(requested);
    let latency_ms = (span.end_time_unix_nano >= span.start_time_unix_nano
        && span.start_time_unix_nano > 0)
        .then(|| (span.end_time_unix_nano - span.start_time_unix_nano) / 1_000_000);
    let created_at = i64::try_from(span.start_time_unix_nano)
        .ok()
        .filter(|n| *n > 0)
        .map(|n| {
            DateTime::<Utc>::from_timestamp_nanos(n).to_rfc3339_opts(SecondsFormat::Micros, true)
        });
    let cost = attrs
        .number("redline.cost_usd")
        .or(attrs.number("gen_ai.usage.cost"));
    let item = json!({
        "operation": operation,
        "model": model,
        "model_version": version,
        "input": call.input,
        "output": call.output,
        "latency_ms": latency_ms,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "cost_usd": cost,
        "created_at": created_at,
        "metadata": metadata(resource, scope, span, &attrs, convention),
        "source": source(service),
        "external_id": span_ref(span),
    });
    validate_call(&item, now).map(Some)
}

fn no_content(convention: Convention, missing: &str) -> String {
    format!(
        "this {} LLM span carries no {missing} (content capture is off in the instrumentation), and a call without them cannot be reviewed: {}",
        convention.name(),
        convention.capture_hint()
    )
}

/// `otlp:<service.name>`, at most 128 characters.
fn source(service: Option<&str>) -> String {
    format!("otlp:{}", service.unwrap_or("unknown_service"))
        .chars()
        .take(128)
        .collect()
}

/// The span's ids and names, with the attributes the call's fields did not take: values
/// over 2 KB are left out (named in `left_out`), and the whole stays under the metadata limit.
fn metadata(
    resource: &Attributes,
    scope: &str,
    span: &Span,
    attrs: &Attributes,
    convention: Convention,
) -> Value {
    let mut left_out: Vec<String> = Vec::new();
    let mut small = |map: Map<String, Value>, prefix: &str| -> Map<String, Value> {
        map.into_iter()
            .filter(|(key, value)| {
                let fits = value.to_string().len() <= MAX_METADATA_VALUE_BYTES;
                if !fits {
                    left_out.push(format!("{prefix}{key}"));
                }
                fits
            })
            .collect()
    };
    let span_attributes = small(attrs.unclaimed(is_claimed), "");
    let resource_attributes = small(
        resource.unclaimed(|k| k == "redline.operation"),
        "resource.",
    );
    let mut out = Map::new();
    out.insert("trace_id".into(), Value::String(hex(&span.trace_id)));
    out.insert("span_id".into(), Value::String(hex(&span.span_id)));
    if !span.parent_span_id.is_empty() {
        out.insert(
            "parent_span_id".into(),
            Value::String(hex(&span.parent_span_id)),
        );
    }
    out.insert(
        "span_name".into(),
        Value::String(span.name.chars().take(256).collect()),
    );
    out.insert("convention".into(), Value::String(convention.name().into()));
    if !scope.is_empty() {
        out.insert(
            "scope".into(),
            Value::String(scope.chars().take(256).collect()),
        );
    }
    let ids_only = out.clone();
    out.insert("attributes".into(), Value::Object(span_attributes));
    out.insert("resource".into(), Value::Object(resource_attributes));
    if !left_out.is_empty() {
        out.insert("left_out".into(), json!(left_out));
    }
    // Many small attributes can still add up: the ids are what matter most.
    if Value::Object(out.clone()).to_string().len() > MAX_METADATA_BYTES {
        let mut out = ids_only;
        out.insert(
            "left_out".into(),
            json!(["attributes", "resource (over the metadata limit together)"]),
        );
        return Value::Object(out);
    }
    Value::Object(out)
}
