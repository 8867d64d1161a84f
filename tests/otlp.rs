//! OpenTelemetry ingest (`POST /v1/traces`) through the real router: the three conventions
//! from payloads the real instrumentations sent (tests/fixtures/otlp/*.pb, made with
//! tests/otel/send_traces.py --save; the current OpenLLMetry writes the GenAI conventions, so
//! its flattened form comes from an older release), the JSON encoding, gzip, retries, bad
//! bodies, sizes and who may send.

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{body_bytes, json_request, send, TestDb};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::{json, Value};

const PROTOBUF: &str = "application/x-protobuf";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/otlp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Posts `body` to /v1/traces; the status, content type and body.
async fn post_traces(
    app: &axum::Router,
    content_type: &str,
    gzipped: bool,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut request = Request::post("/v1/traces").header(header::CONTENT_TYPE, content_type);
    if gzipped {
        request = request.header(header::CONTENT_ENCODING, "gzip");
    }
    let response = send(app, request.body(Body::from(body)).expect("a request")).await;
    let status = response.status();
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, kind, body_bytes(response).await)
}

/// The calls of `operation`, in full, oldest first.
async fn calls_of(app: &axum::Router, operation: &str) -> Vec<Value> {
    let (status, page) = json_request(
        app,
        "GET",
        &format!("/api/v1/calls?operation={operation}&limit=100"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut calls = Vec::new();
    for summary in page["calls"].as_array().expect("calls").iter().rev() {
        let id = summary["id"].as_str().expect("an id");
        let (status, call) = json_request(app, "GET", &format!("/api/v1/calls/{id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        calls.push(call);
    }
    calls
}

fn protobuf_answer(bytes: &[u8]) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse::decode(bytes).expect("an ExportTraceServiceResponse")
}

/// What every real instrumentation must deliver for the two calls send_traces.py makes.
fn assert_real_calls(calls: &[Value], service: &str) {
    assert_eq!(calls.len(), 2, "two LLM calls, once each: {calls:#?}");
    let (summary, weather) = (&calls[0], &calls[1]);
    for call in calls {
        assert_eq!(call["model"], "openai/gpt-4o-mini", "{call:#}");
        assert_eq!(call["model_version"], "gpt-4o-mini-2024-07-18");
        assert_eq!(call["input_tokens"], 42);
        assert_eq!(call["output_tokens"], 9);
        assert!(call["latency_ms"].as_i64().is_some(), "latency: {call:#}");
        assert_eq!(call["source"], format!("otlp:{service}"));
        let external = call["external_id"].as_str().expect("an external id");
        let meta = &call["metadata"];
        assert_eq!(
            external,
            format!(
                "{}:{}",
                meta["trace_id"].as_str().expect("trace id"),
                meta["span_id"].as_str().expect("span id")
            )
        );
        assert!(
            meta["parent_span_id"].is_string(),
            "the application's span is the parent"
        );
    }
    assert_eq!(
        summary["input"],
        json!([
            {"role": "system", "content": "Summarize the support ticket in one sentence."},
            {"role": "user", "content": "Since the update I cannot log in. Ticket 4711."}
        ]),
        "{summary:#}"
    );
    assert_eq!(
        summary["output"],
        "The customer cannot log in after the update."
    );
    assert_eq!(
        weather["input"],
        json!([{"role": "user", "content": "What is the weather in Oslo?"}])
    );
    let output: Value = serde_json::from_str(weather["output"].as_str().expect("output"))
        .expect("tool calls as JSON");
    let call = &output["tool_calls"][0];
    assert_eq!(call["id"], "call_weather_1", "{output}");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().expect("a string"))
            .expect("arguments are JSON");
    assert_eq!(arguments, json!({"city": "Oslo"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_of_each_real_instrumentation_become_calls_once() {
    let db = TestDb::new().await;
    let app = common::signed_in_router(&db.store).await;
    for (file, service) in [
        ("openai-v2.pb", "support-bot-openai-v2"),
        ("openinference.pb", "support-bot-openinference"),
        ("openllmetry.pb", "support-bot-openllmetry"),
        // An older OpenLLMetry release: flattened gen_ai.prompt.{i}.* attributes, `OpenAI`.
        ("openllmetry-legacy.pb", "support-bot-openllmetry-legacy"),
    ] {
        let body = fixture(file);
        let (status, kind, answer) = post_traces(&app, PROTOBUF, false, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{file}: {}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(kind, PROTOBUF);
        assert_eq!(
            protobuf_answer(&answer).partial_success,
            None,
            "{file}: every span is a call or ignored"
        );
        // The service name, normalized, is the operation when nothing else names one.
        assert_real_calls(&calls_of(&app, service).await, service);

        // An exporter's retry, here gzip-compressed: nothing is stored twice.
        let (status, _, answer) = post_traces(&app, PROTOBUF, true, gzip(&body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(protobuf_answer(&answer).partial_success, None);
        assert_eq!(calls_of(&app, service).await.len(), 2, "{file}: retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_batch_stores_its_good_spans_ignores_others_and_names_each_rejection() {
    let db = TestDb::new().await;
    let app = common::signed_in_router(&db.store).await;
    let (status, kind, answer) =
        post_traces(&app, "application/json", false, fixture("mixed.json")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(kind, "application/json");
    let answer: Value = serde_json::from_slice(&answer).expect("a JSON answer");
    let partial = &answer["partialSuccess"];
    // Two rejected (no content; an operation name that is not one); the HTTP and tool
    // execution spans are ignored, not rejected.
    // proto3 JSON writes 64-bit integers as strings; a number is read too.
    let rejected = partial["rejectedSpans"].as_i64().or_else(|| {
        partial["rejectedSpans"]
            .as_str()
            .and_then(|s| s.parse().ok())
    });
    assert_eq!(rejected, Some(2), "{answer}");
    let message = partial["errorMessage"].as_str().expect("a message");
    assert!(
        message.contains("0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331")
            && message.contains("content capture is off")
            && message.contains("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
        "{message}"
    );
    assert!(
        message.contains("0af7651916cd43dd8448eb211c80319c:b7ad6b7169203332")
            && message.contains("is not an operation name"),
        "{message}"
    );

    let calls = calls_of(&app, "billing_api").await;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call["model"], "openai/gpt-4o-mini");
    assert_eq!(call["model_version"], "gpt-4o-mini-2024-07-18");
    assert_eq!(
        call["input"],
        json!([
            {"role": "system", "content": "Extract the invoice total as JSON."},
            {"role": "user", "content": "فاتورة رقم 17: المجموع 250 دولار"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup_rate", "arguments": "{\"currency\":\"USD\"}"}}
            ]},
            {"role": "tool", "content": "{\"rate\":1}", "tool_call_id": "call_1"}
        ])
    );
    assert_eq!(call["output"], "{\"total\": 250, \"currency\": \"USD\"}");
    assert_eq!(call["latency_ms"], 1250);
    assert_eq!(call["input_tokens"], 120);
    assert_eq!(call["output_tokens"], 30);
    assert_eq!(call["cost_usd"], 0.00042);
    assert_eq!(call["created_at"], "2025-12-06T00:00:00Z");
    assert_eq!(call["source"], "otlp:Billing API");
    assert_eq!(
        call["external_id"],
        "5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    );
    let meta = &call["metadata"];
    assert_eq!(meta["parent_span_id"], "eee19b7ec3c1b173");
    assert_eq!(meta["attributes"]["gen_ai.request.temperature"], 0.2);
    assert_eq!(meta["resource"]["deployment.environment"], "production");
    assert!(
        meta["attributes"].get("gen_ai.input.messages").is_none(),
        "the messages are the call's input, not repeated in its metadata"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_with_a_status_in_the_request_encoding() {
    let db = TestDb::new().await;
    let app = common::signed_in_router(&db.store).await;

    let (status, kind, body) = post_traces(
        &app,
        PROTOBUF,
        false,
        b"\x0a\xff\xff\xff\xff\x0fnot protobuf".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(kind, PROTOBUF);
    let refusal = redline::otlp::wire::Status::decode(body.as_slice()).expect("a Status");
    assert_eq!(refusal.code, 3, "INVALID_ARGUMENT");
    assert!(
        refusal.message.contains("not an OTLP"),
        "{}",
        refusal.message
    );

    let (status, _, body) = post_traces(
        &app,
        "application/json",
        false,
        b"{\"resourceSpans\": 7}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let refusal: Value = serde_json::from_slice(&body).expect("a JSON Status");
    assert_eq!(refusal["code"], 3);

    let (status, _, _) = post_traces(&app, PROTOBUF, true, b"not gzip".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, _) = post_traces(&app, "text/plain", false, fixture("mixed.json")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Over the body limit as sent, and a small gzip body that inflates past the limit.
    let (status, _, _) = post_traces(&app, PROTOBUF, false, vec![0; 11 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let bomb = gzip(&vec![b' '; redline::otlp::MAX_DECODED_BYTES + 1]);
    assert!(bomb.len() < 100_000);
    let (status, _, body) = post_traces(&app, "application/json", true, bomb).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&body)
    );

    // None of it stored anything.
    let (_, page) = json_request(&app, "GET", "/api/v1/calls", None).await;
    assert_eq!(page["calls"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_key_with_the_ingest_scope_may_send_spans() {
    use redline::auth::manage::{self, Actor};
    use redline::model::auth::Scope;
    let db = TestDb::new().await;
    let store = &db.store;
    let _ = common::credentials(store, "owner").await;
    let app = common::router(store);
    let body = fixture("openai-v2.pb");
    let request = |key: Option<&str>| {
        let mut request = Request::post("/v1/traces").header(header::CONTENT_TYPE, PROTOBUF);
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        request.body(Body::from(body.clone())).expect("a request")
    };
    let (read, _) = manage::create_key(store, &Actor::cli(), "owner", "reader", &[Scope::Read])
        .await
        .expect("a key");
    let (ingest, _) =
        manage::create_key(store, &Actor::cli(), "owner", "service", &[Scope::Ingest])
            .await
            .expect("a key");
    assert_eq!(
        send(&app, request(None)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, request(Some("rl_not_a_key"))).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, request(Some(&read))).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, request(Some(&ingest))).await.status(),
        StatusCode::OK
    );
    assert_eq!(store.call_count().await.expect("count"), 2);
}
