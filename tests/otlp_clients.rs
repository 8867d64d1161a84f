//! OpenTelemetry ingest with real clients nobody here wrote: the `openai` Python client,
//! instrumented in turn by the official OpenTelemetry instrumentation (GenAI conventions),
//! OpenInference's and OpenLLMetry's, exporting with the OpenTelemetry SDK's OTLP/HTTP
//! exporter (protobuf) to a Redline listening on a real port, configured only through the
//! standard environment variables. The clients live in tools/otel-venv (installed by
//! scripts/bootstrap.sh); without them this test fails, naming how to install them.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use common::{json_request, TestDb};
use serde_json::Value;

fn python() -> PathBuf {
    common::tool_python(
        "REDLINE_TEST_OTEL_PYTHON",
        "otel-venv",
        "the OpenTelemetry Python clients",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_instrumentations_deliver_each_call_once_through_the_standard_exporter() {
    let python = python();
    let db = TestDb::new().await;
    let store = &db.store;
    let credentials = common::credentials(store, "owner").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("the port");
    let app = common::router(store);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let reader = common::with_credentials(common::router(store), credentials.clone());
    let key = credentials
        .authorization
        .strip_prefix("Bearer ")
        .expect("a bearer key")
        .to_string();

    for instrumentation in ["openai-v2", "openinference", "openllmetry"] {
        let operation = format!("otel_{}", instrumentation.replace('-', "_"));
        let script = format!("{}/tests/otel/send_traces.py", env!("CARGO_MANIFEST_DIR"));
        let output = tokio::process::Command::new(&python)
            .arg(&script)
            .arg(instrumentation)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{address}"))
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("Authorization=Bearer%20{key}"),
            )
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                format!("redline.operation={operation}"),
            )
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", "20")
            .output()
            .await
            .expect("run the Python client");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{instrumentation}: {stderr}");
        // The exporter logs a failed export and carries on: its log must be clean.
        assert!(
            !stderr.contains("Failed to export"),
            "{instrumentation}: {stderr}"
        );

        let (status, page) = json_request(
            &reader,
            "GET",
            &format!("/api/v1/calls?operation={operation}&limit=10"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let summaries = page["calls"].as_array().expect("calls");
        assert_eq!(summaries.len(), 2, "{instrumentation}: {page:#}");
        let mut calls: Vec<Value> = Vec::new();
        for summary in summaries.iter().rev() {
            let id = summary["id"].as_str().expect("an id");
            let (_, call) =
                json_request(&reader, "GET", &format!("/api/v1/calls/{id}"), None).await;
            calls.push(call);
        }
        let (summary, weather) = (&calls[0], &calls[1]);
        for call in &calls {
            assert_eq!(
                call["model"], "openai/gpt-4o-mini",
                "{instrumentation}: {call:#}"
            );
            assert_eq!(
                call["model_version"], "gpt-4o-mini-2024-07-18",
                "{instrumentation}"
            );
            assert_eq!(call["input_tokens"], 42, "{instrumentation}");
            assert_eq!(call["output_tokens"], 9, "{instrumentation}");
            assert!(call["latency_ms"].is_i64(), "{instrumentation}: {call:#}");
            assert_eq!(
                call["source"],
                format!("otlp:support-bot-{instrumentation}"),
                "{instrumentation}"
            );
        }
        assert_eq!(
            summary["input"][0]["role"], "system",
            "{instrumentation}: {summary:#}"
        );
        assert_eq!(
            summary["input"][1]["content"],
            "Since the update I cannot log in. Ticket 4711."
        );
        assert_eq!(
            summary["output"],
            "The customer cannot log in after the update."
        );
        let output: Value = serde_json::from_str(weather["output"].as_str().expect("output"))
            .unwrap_or_else(|_| panic!("{instrumentation}: tool calls as JSON: {weather:#}"));
        assert_eq!(
            output["tool_calls"][0]["function"]["name"], "get_weather",
            "{instrumentation}"
        );
    }
}
