//! Dataset exports through the real router and the job queue, on the backend
//! `REDLINE_TEST_BACKEND` names: each format against its golden file, the job's life (queued,
//! done, downloaded, rebuilt byte for byte, deleted), split, de-duplication, the cap and
//! redaction, a killed job redone cleanly, cancelling, bad specs refused, the command line,
//! exports kept in an S3-compatible bucket (a local moto server) served by any instance, and
//! the training files read by Hugging Face's own loaders (tools/trainers-venv).

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use common::{base_time, export_files, new_call, router_with_exports, run_jobs, TestDb};
use redline::exports::ExportFiles;
use redline::model::Verdict;
use redline::store::{AuditQuery, InsertOutcome, ReviewInput, SaveOutcome, Store};
use serde_json::{json, Value};
use sha2::Digest;

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    common::json_request(app, method, uri, body).await
}

/// The router as an admin with an all-scope key, writing exports to a folder of its own.
async fn setup(name: &str) -> (TestDb, Router, ExportFiles) {
    let db = TestDb::new().await;
    let files = export_files(name);
    let credentials = common::credentials(&db.store, "tester").await;
    let app = common::with_credentials(router_with_exports(&db.store, files.clone()), credentials);
    (db, app, files)
}

fn at(minutes: i64) -> DateTime<Utc> {
    base_time() + Duration::minutes(minutes)
}

/// Stores one call of `operation` with `input` and `output`, received at a fixed time.
async fn store_call(
    store: &Store,
    operation: &str,
    minutes: i64,
    input: Value,
    output: &str,
) -> String {
    let item = json!({
        "operation": operation,
        "model": "gpt-4o",
        "model_version": "2024-08-06",
        "input": input,
        "output": output,
        "latency_ms": 640,
        "input_tokens": 31,
        "output_tokens": 9,
        "cost_usd": 0.00042,
        "created_at": at(minutes).to_rfc3339(),
        "metadata": {"ticket": minutes},
    });
    let outcome = store
        .insert_calls(&[new_call(&item)], at(10_000))
        .await
        .expect("stored");
    match &outcome[0] {
        InsertOutcome::Created { id } => id.clone(),
        other => panic!("{other:?}"),
    }
}

async fn review(store: &Store, id: &str, verdict: Verdict, correction: Option<&str>, minutes: i64) {
    let detail = store
        .get_call(&uuid::Uuid::parse_str(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let input = ReviewInput {
        call_id: uuid::Uuid::parse_str(id).unwrap(),
        base_revision: detail.review.map_or(0, |r| r.revision),
        reviewer: "rita".into(),
        verdict,
        corrected_output: correction.map(str::to_string),
        tags: vec!["tone".into()],
        note: "checked, with a \"quote\"".into(),
        sampled: false,
    };
    let outcome = store
        .save_reviews(&[input], at(20_000 + minutes))
        .await
        .unwrap();
    assert!(
        matches!(outcome[0], SaveOutcome::Saved { .. }),
        "{outcome:?}"
    );
}

/// The fixed dataset of the golden files: a tool-call conversation, a plain string input,
/// Arabic and emoji, quotes, commas and new lines, a JSON tool-call answer, a call marked
/// correct, one incorrect without a correction and one not reviewed. Ids in order.
async fn golden_dataset(store: &Store) -> Vec<String> {
    let op = "support_reply";
    let mut ids = Vec::new();
    let a = store_call(
        store,
        op,
        1,
        json!([
            {"role": "system", "content": "Answer in the customer's language."},
            {"role": "user", "content": "أين طلبي؟ 📦"}
        ]),
        "Your order shipped.",
    )
    .await;
    review(
        store,
        &a,
        Verdict::Incorrect,
        Some("طلبك في الطريق 📦، \"يصل\" غداً,\nشكراً"),
        1,
    )
    .await;
    ids.push(a);
    let b = store_call(store, op, 2, json!([
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "4 °C"}
    ]), "It is 40 °C.").await;
    review(
        store,
        &b,
        Verdict::Incorrect,
        Some("It is 4 °C in Oslo."),
        2,
    )
    .await;
    ids.push(b);
    let c = store_call(
        store,
        op,
        3,
        json!("Summarize: the parcel arrived\nlate, but intact."),
        "Late, intact parcel.",
    )
    .await;
    review(store, &c, Verdict::Correct, None, 3).await;
    ids.push(c);
    let d = store_call(
        store,
        op,
        4,
        json!([{"role": "user", "content": "Reset my password"}]),
        "No.",
    )
    .await;
    review(store, &d, Verdict::Incorrect, None, 4).await;
    ids.push(d);
    let e = store_call(
        store,
        op,
        5,
        json!([{"role": "user", "content": "Not reviewed yet"}]),
        "Pending",
    )
    .await;
    ids.push(e);
    let f = store_call(
        store,
        op,
        6,
        json!([{"role": "user", "content": "Where is order A-1?"}]),
        "I don't know.",
    )
    .await;
    review(store, &f, Verdict::Incorrect, Some(r#"{"tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "lookup_order", "arguments": {"order": "A-1"}}}]}"#), 6).await;
    ids.push(f);
    ids
}

/// Creates an export through the API; its id.
async fn create(app: &Router, spec: Value) -> i64 {
    let (status, body) = call(app, "POST", "/api/v1/exports", Some(spec)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["state"], "queued");
    body["id"].as_i64().expect("an id")
}

async fn get(app: &Router, id: i64) -> Value {
    let (status, body) = call(app, "GET", &format!("/api/v1/exports/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn download(
    app: &Router,
    id: i64,
    part: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = common::send(
        app,
        Request::get(format!("/api/v1/exports/{id}/download?part={part}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, common::body_bytes(response).await)
}

async fn text_of(app: &Router, id: i64, part: &str) -> String {
    let (status, _, bytes) = download(app, id, part).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    String::from_utf8(bytes).expect("UTF-8")
}

/// Builds an export of `spec` and waits for it: created, run by the queue, done.
async fn build(app: &Router, store: &Store, files: &ExportFiles, spec: Value) -> (i64, Value) {
    let id = create(app, spec).await;
    assert!(run_jobs(store, files, "worker-1").await >= 1);
    let export = get(app, id).await;
    assert_eq!(export["state"], "done", "{export}");
    (id, export)
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/exports")
        .join(name)
}

/// Compares with the golden file (ids replaced by CALL_1, CALL_2, … in dataset order).
/// `REDLINE_UPDATE_GOLDEN=1` rewrites the files instead (then read the diff before committing).
fn assert_golden(name: &str, text: &str, ids: &[String]) {
    let mut masked = text.to_string();
    for (i, id) in ids.iter().enumerate() {
        masked = masked.replace(id, &format!("CALL_{}", i + 1));
    }
    let path = golden_path(name);
    if std::env::var("REDLINE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &masked).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("golden file {}: {e}", path.display()));
    assert_eq!(masked, expected, "{name} differs from its golden file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_format_writes_exactly_its_golden_file() {
    let (db, app, files) = setup("golden").await;
    let ids = golden_dataset(&db.store).await;
    let cases = [
        (
            json!({"format": "chat_jsonl", "include_correct": true}),
            "chat.jsonl",
        ),
        (
            json!({"format": "chat_jsonl", "system": {"mode": "replace", "text": "Be kind."}}),
            "chat_system_replaced.jsonl",
        ),
        (
            json!({"format": "preference_jsonl"}),
            "preference_openai.jsonl",
        ),
        (
            json!({"format": "preference_jsonl", "preference_style": "trl", "system": {"mode": "drop"}}),
            "preference_trl.jsonl",
        ),
        (json!({"format": "jsonl"}), "calls.jsonl"),
        (json!({"format": "csv"}), "calls.csv"),
    ];
    for (spec, golden) in cases {
        let (id, export) = build(&app, &db.store, &files, spec.clone()).await;
        let text = text_of(&app, id, "train").await;
        assert_golden(golden, &text, &ids);
        let lines = if golden.ends_with(".csv") {
            // Records, not lines: a field may hold a line break.
            export["counts"]["train"].as_u64().unwrap()
        } else {
            text.lines().count() as u64
        };
        assert_eq!(
            lines,
            export["counts"]["train"].as_u64().unwrap(),
            "{golden}"
        );
        if spec["format"].as_str().unwrap().ends_with("_jsonl") && spec["format"] != "jsonl" {
            let report = &export["validation"];
            assert_eq!(report["lines_failed"], 0, "{golden}: {report}");
            assert!(report["tokens"]["total"].as_u64().unwrap() > 0);
            // Six calls make fewer than ten examples: said, not hidden.
            assert_eq!(report["warnings"].as_array().unwrap().len(), 1, "{report}");
        }
    }
    // What the chat export left out, and why.
    let (_, export) = build(&app, &db.store, &files, json!({"format": "chat_jsonl"})).await;
    assert_eq!(export["counts"]["total"], 3, "{export}");
    assert_eq!(
        export["counts"]["left_out"]["incorrect without a correction"],
        1
    );
    assert_eq!(
        export["counts"]["left_out"]["marked correct (not included)"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_files_load_in_hugging_face_datasets_and_render_through_a_chat_template() {
    let python = common::tool_python(
        "REDLINE_TEST_TRAINERS_PYTHON",
        "trainers-venv",
        "Hugging Face's datasets and transformers",
    );
    let (db, app, files) = setup("trainers").await;
    golden_dataset(&db.store).await;
    let scratch = std::env::temp_dir().join(format!("redline-trainers-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let cases = [
        (
            json!({"format": "chat_jsonl", "include_correct": true}),
            "chat",
        ),
        (
            json!({"format": "preference_jsonl", "preference_style": "openai"}),
            "preference_openai",
        ),
        (
            json!({"format": "preference_jsonl", "preference_style": "trl"}),
            "preference_trl",
        ),
    ];
    for (spec, kind) in cases {
        let (id, export) = build(&app, &db.store, &files, spec).await;
        let path = scratch.join(format!("{kind}.jsonl"));
        std::fs::write(&path, text_of(&app, id, "train").await).unwrap();
        let rows = export["counts"]["train"].as_u64().unwrap();
        assert!(rows >= 3, "{kind}: {export}");
        let output = std::process::Command::new(&python)
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/trainers/load_export.py"))
            .arg(kind)
            .arg(&path)
            .arg(rows.to_string())
            .env("HF_HOME", scratch.join("hf"))
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_DATASETS_OFFLINE", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{kind}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
        assert_eq!(summary["ok"], true, "{kind}: {summary}");
        assert_eq!(summary["rows"], rows, "{kind}: {summary}");
        // Preference rows render twice (chosen and rejected), chat rows once.
        let per_row = if kind == "chat" { 1 } else { 2 };
        assert_eq!(summary["rendered"], rows * per_row, "{kind}: {summary}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_queued_run_downloaded_rebuilt_byte_identical_and_deleted() {
    let (db, app, files) = setup("life").await;
    let store = &db.store;
    for i in 0..30 {
        let id = store_call(
            store,
            "billing_extract",
            i,
            json!([{"role": "user", "content": format!("invoice {i}")}]),
            "{}",
        )
        .await;
        review(
            store,
            &id,
            Verdict::Incorrect,
            Some(&format!("{{\"total\": {i}}}")),
            i,
        )
        .await;
    }
    let spec = json!({"format": "chat_jsonl", "validation_percent": 20});
    let id = create(&app, spec.clone()).await;
    let (status, _, _) = download(&app, id, "train").await;
    assert_eq!(status, StatusCode::CONFLICT, "not done yet");
    assert_eq!(
        call(&app, "GET", "/api/v1/exports/999999", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "GET", "/api/v1/exports/nope", None).await.0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(run_jobs(store, &files, "worker-1").await, 1);
    let export = get(&app, id).await;
    assert_eq!(export["state"], "done", "{export}");
    assert_eq!(export["rows_done"], 30);
    assert_eq!(export["rows_total"], 30);
    let train_n = export["counts"]["train"].as_u64().unwrap();
    let validation_n = export["counts"]["validation"].as_u64().unwrap();
    assert_eq!(train_n + validation_n, 30);
    assert!(validation_n > 0 && train_n > validation_n, "{export}");

    let (status, headers, bytes) = download(&app, id, "train").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/jsonl; charset=utf-8"
    );
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"redline-export-{id}-chat_jsonl-train.jsonl\"")
    );
    let train = String::from_utf8(bytes).unwrap();
    assert_eq!(train.lines().count() as u64, train_n);
    for line in train.lines() {
        let value: Value = serde_json::from_str(line).expect("each line is JSON");
        let messages = value["messages"].as_array().unwrap();
        assert_eq!(messages.last().unwrap()["role"], "assistant");
        assert!(messages.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .starts_with("{\"total\""));
    }
    let validation = text_of(&app, id, "validation").await;
    assert_eq!(validation.lines().count() as u64, validation_n);

    // Compressed for a client that asks.
    let response = common::send(
        &app,
        Request::get(format!("/api/v1/exports/{id}/download?part=train"))
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");

    // The manifest: every example with its call and review revision, and each file's hash.
    let manifest: Value = serde_json::from_str(&text_of(&app, id, "manifest").await).unwrap();
    assert_eq!(manifest["examples"].as_array().unwrap().len(), 30);
    assert_eq!(manifest["examples"][0]["revision"], 1);
    assert_eq!(manifest["examples"][0]["reviewer"], "rita");
    assert!(
        manifest["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tester (key "),
        "{manifest}"
    );
    let files_listed = manifest["files"].as_array().unwrap();
    assert_eq!(files_listed.len(), 2);
    assert_eq!(
        files_listed[0]["bytes"].as_u64().unwrap() as usize,
        train.len()
    );

    // The same spec over the same data: the same bytes.
    let again = create(&app, spec).await;
    run_jobs(store, &files, "worker-2").await;
    let second = get(&app, again).await;
    for part in 0..2 {
        assert_eq!(
            second["files"][part]["sha256"],
            export["files"][part]["sha256"]
        );
    }
    assert_eq!(text_of(&app, again, "train").await, train);

    // Deleted: the files go, the row and the audit entries stay.
    let (status, _) = call(&app, "DELETE", &format!("/api/v1/exports/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = get(&app, id).await;
    assert_eq!(gone["deleted"], true);
    assert_eq!(download(&app, id, "train").await.0, StatusCode::NOT_FOUND);
    assert!(files
        .complete(id, "train", redline::model::export::ExportFormat::ChatJsonl)
        .is_none());
    let entries = store
        .list_audit(&AuditQuery {
            action: Some("export".into()),
            limit: 20,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "export.create").count(),
        2,
        "{actions:?}"
    );
    let deletion = entries
        .iter()
        .find(|e| e.action == "export.delete")
        .expect("audited");
    assert!(deletion.detail.contains("sha256"), "{}", deletion.detail);
    let (_, list) = call(&app, "GET", "/api/v1/exports", None).await;
    assert_eq!(list["exports"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_cap_split_and_redaction_hold() {
    let (db, app, files) = setup("choices").await;
    let store = &db.store;
    for i in 0..40 {
        let id = store_call(
            store,
            "triage",
            i,
            json!([{"role": "user", "content": format!("case {i}")}]),
            "wrong",
        )
        .await;
        review(
            store,
            &id,
            Verdict::Incorrect,
            Some(&format!("right {i}")),
            i,
        )
        .await;
    }
    // The same question twice, spaced differently; the newer review wins.
    let old = store_call(
        store,
        "faq",
        100,
        json!([{"role": "user", "content": "Where  is my order?"}]),
        "?",
    )
    .await;
    let new = store_call(
        store,
        "faq",
        50,
        json!([{"role": "user", "content": " Where is my order? "}]),
        "?",
    )
    .await;
    review(store, &new, Verdict::Incorrect, Some("older answer"), 1).await;
    review(store, &old, Verdict::Incorrect, Some("newest answer"), 2).await;
    // Personal data, in the input and the correction alike.
    let pii = store_call(
        store,
        "faq",
        200,
        json!([{"role": "user", "content": "I am jane.doe@example.com, card 4111 1111 1111 1111"}]),
        "?",
    )
    .await;
    review(
        store,
        &pii,
        Verdict::Incorrect,
        Some("Refund sent to jane.doe@example.com."),
        3,
    )
    .await;

    let (id, export) = build(&app, store, &files, json!({"format": "chat_jsonl", "filter": {"operation": "faq"}, "dedupe": true, "redact": true})).await;
    assert_eq!(export["counts"]["total"], 2, "{export}");
    assert_eq!(
        export["counts"]["left_out"]["duplicate input (an older review)"],
        1
    );
    let text = text_of(&app, id, "train").await;
    assert!(
        text.contains("newest answer") && !text.contains("older answer"),
        "{text}"
    );
    assert!(
        !text.contains("jane.doe@example.com") && !text.contains("4111"),
        "{text}"
    );
    assert!(
        text.contains("I am [EMAIL_1], card [CARD_1]")
            && text.contains("Refund sent to [EMAIL_1]."),
        "{text}"
    );
    assert_eq!(export["redactions"]["email"], 2);
    assert_eq!(export["redactions"]["card"], 1);

    // The preview shows the redaction before anything is built.
    let (status, preview) = call(
        &app,
        "POST",
        "/api/v1/exports/preview",
        Some(json!({"format": "chat_jsonl", "filter": {"operation": "faq"}, "redact": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["counts"]["total"], 3);
    assert_eq!(preview["samples"][0]["call_id"], pii.as_str());
    assert!(preview["samples"][0]["redacted"]
        .as_str()
        .unwrap()
        .contains("[EMAIL_1]"));

    // At most 10 per operation, the same 10 every time; a 50% split sends each input to one side.
    let spec = json!({"format": "jsonl", "filter": {"operation": "triage"}, "max_per_operation": 10, "validation_percent": 50});
    let (first, export) = build(&app, store, &files, spec.clone()).await;
    assert_eq!(export["counts"]["total"], 10);
    assert_eq!(
        export["counts"]["left_out"]["over the per-operation cap"],
        30
    );
    let (second, _) = build(&app, store, &files, spec).await;
    for part in ["train", "validation"] {
        assert_eq!(
            text_of(&app, first, part).await,
            text_of(&app, second, part).await
        );
    }
    let train = text_of(&app, first, "train").await;
    let validation = text_of(&app, first, "validation").await;
    assert_eq!(train.lines().count() + validation.lines().count(), 10);
    for line in train.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["split"], "train");
        assert!(!validation.contains(value["id"].as_str().unwrap()));
    }
    // Not "the first ten": the cap samples across the whole range.
    let kept: Vec<i64> = train
        .lines()
        .chain(validation.lines())
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["metadata"]["ticket"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(kept.iter().any(|&t| t >= 20), "{kept:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_export_is_redone_cleanly_and_a_cancelled_one_leaves_nothing() {
    let (db, app, files) = setup("restart").await;
    let store = &db.store;
    for i in 0..12 {
        let id = store_call(store, "triage", i, json!(format!("case {i}")), "wrong").await;
        review(store, &id, Verdict::Incorrect, Some("right"), i).await;
    }
    // A worker claims the job and dies mid-way, leaving a partial file.
    let id = create(&app, json!({"format": "chat_jsonl"})).await;
    let job = store
        .claim_job("dead-worker", Utc::now())
        .await
        .unwrap()
        .expect("the job");
    let folder = files.root().join(format!("export-{id}"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("train.jsonl.partial"), "{\"messages\": [").unwrap();
    // Its lease has not run out: nobody else takes it.
    assert_eq!(run_jobs(store, &files, "worker-2").await, 0);
    common::raw_statement(
        &db,
        &format!("UPDATE jobs SET claimed_at = 0 WHERE id = {}", job.id),
    )
    .await
    .unwrap();
    assert_eq!(run_jobs(store, &files, "worker-2").await, 1);
    let export = get(&app, id).await;
    assert_eq!(export["state"], "done", "{export}");
    assert!(!folder.join("train.jsonl.partial").exists());
    assert_eq!(text_of(&app, id, "train").await.lines().count(), 12);

    // Cancelled while queued: the job never runs.
    let queued = create(&app, json!({"format": "jsonl"})).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/exports/{queued}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(run_jobs(store, &files, "worker-2").await, 0);
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/exports/{queued}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Cancelled while running: stopped at its next round, no file left.
    let running = create(&app, json!({"format": "csv"})).await;
    let job = store
        .claim_job("worker-3", Utc::now())
        .await
        .unwrap()
        .expect("the job");
    store.start_export(running, 12, Utc::now()).await.unwrap();
    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/exports/{running}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cancel_requested"], true);
    let context = redline::exports::run::ExportContext {
        store: store.clone(),
        files: files.clone(),
        worker: "worker-3".into(),
        max_rows_per_second: None,
    };
    redline::jobs::worker::execute(&context, &job)
        .await
        .unwrap();
    let export = get(&app, running).await;
    assert_eq!(export["state"], "cancelled", "{export}");
    assert!(!files.root().join(format!("export-{running}")).exists());
    assert_eq!(
        download(&app, running, "train").await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_specs_are_refused_with_the_reason_and_change_nothing() {
    let (db, app, _files) = setup("refusals").await;
    let id = store_call(&db.store, "triage", 1, json!("case"), "wrong").await;
    review(&db.store, &id, Verdict::Incorrect, None, 1).await;
    let cases = [
        (json!({"format": "parquet"}), "format"),
        (
            json!({"format": "chat_jsonl", "validation_percent": 60}),
            "validation_percent",
        ),
        (
            json!({"format": "jsonl", "filter": {"verdict": "great"}}),
            "filter.verdict",
        ),
        (
            json!({"format": "jsonl", "filter": {"operation": "nothing_here"}}),
            "filter",
        ),
        (
            json!({"format": "jsonl", "filter": {"q": "refund"}}),
            "filter.q",
        ),
        // The only reviewed call has no correction: no example.
        (json!({"format": "chat_jsonl"}), "filter"),
    ];
    for (spec, field) in cases {
        let (status, body) = call(&app, "POST", "/api/v1/exports", Some(spec.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{spec}: {body}");
        assert_eq!(body["field"], field, "{spec}: {body}");
    }
    let (status, _) = common::answer(
        &app,
        Request::post("/api/v1/exports")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = call(&app, "GET", "/api/v1/exports", None).await;
    assert_eq!(list["exports"].as_array().unwrap().len(), 0);
    assert_eq!(db.store.claim_job("w", Utc::now()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_builds_the_same_export_into_a_folder() {
    let (db, app, files) = setup("cli").await;
    let store = &db.store;
    for i in 0..12 {
        let id = store_call(store, "triage", i, json!(format!("case {i}")), "wrong").await;
        review(
            store,
            &id,
            Verdict::Incorrect,
            Some(&format!("right {i}")),
            i,
        )
        .await;
    }
    // The same spec through the API, for comparison.
    let (api_id, _) = build(&app, store, &files, json!({"format": "chat_jsonl", "filter": {"operation": "triage"}, "validation_percent": 25})).await;
    let output = files.root().join("from-cli");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_redline"))
        .args([
            "export",
            "--format",
            "chat_jsonl",
            "--filter",
            "operation=triage",
            "--validation-percent",
            "25",
            "--output",
        ])
        .arg(&output)
        .args(["--database", &db.url])
        .output()
        .expect("run redline export");
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("12 / 12 rows"), "{said}");
    let listed = String::from_utf8_lossy(&run.stdout);
    let train_path = listed
        .lines()
        .find(|l| l.contains("train.jsonl"))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no train file in {listed}"));
    let from_cli = std::fs::read_to_string(train_path).unwrap();
    assert_eq!(
        from_cli,
        text_of(&app, api_id, "train").await,
        "the same bytes as the API's"
    );
    let exports = store.list_exports(10).await.unwrap();
    let cli = exports
        .iter()
        .find(|e| e.created_by == "cli")
        .expect("recorded");
    assert_eq!(cli.state, redline::model::export::ExportState::Done);
    // Its job is finished, not left for a server to run again.
    assert_eq!(
        store
            .claim_job("w", Utc::now() + Duration::days(2))
            .await
            .unwrap(),
        None
    );
}

/// The bucket the S3 test writes to, in a local moto server.
const BUCKET: &str = "redline-test";

/// A local S3-compatible server: moto's server mode, which scripts/bootstrap.sh installs from
/// PyPI into tools/venv (or `REDLINE_TEST_MOTO`). Missing, it fails the test with the way to
/// install it; it never skips.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start() -> Moto {
        let program = std::env::var("REDLINE_TEST_MOTO")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/venv/bin/moto_server")
            });
        assert!(
            program.is_file(),
            "no moto_server at {}: run `source scripts/bootstrap.sh browser` (it installs moto \
             from PyPI into tools/venv) or set REDLINE_TEST_MOTO",
            program.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, port };
        // moto does not check signatures: a plain PUT makes the bucket once it listens.
        for _ in 0..300 {
            if let Some(answer) = moto.plain_put(&format!("/{BUCKET}")).await {
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                return moto;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on port {port} within 30 s");
    }

    async fn plain_put(&self, path: &str) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        let request = format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.ok()?;
        Some(answer)
    }

    /// One instance's view of the bucket: its own staging folder, the shared prefix.
    fn files(&self, prefix: &str, instance: &str) -> ExportFiles {
        let endpoint = format!("http://127.0.0.1:{}", self.port);
        let staging = export_files(instance).root().to_path_buf();
        ExportFiles::in_bucket(
            &format!("s3://{BUCKET}/{prefix}"),
            staging,
            &[
                ("aws_endpoint", endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("aws_region", "us-east-1"),
                ("aws_access_key_id", "testing"),
                ("aws_secret_access_key", "testing"),
            ],
        )
        .expect("an S3 export store")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_in_a_bucket_are_served_by_any_instance_and_deleted_there() {
    let moto = Moto::start().await;
    let db = TestDb::new().await;
    let store = &db.store;
    for i in 0..12 {
        let id = store_call(
            store,
            "ticket_summarize",
            i,
            json!(format!("ticket {i}: the printer is on fire")),
            "It is fine.",
        )
        .await;
        review(
            store,
            &id,
            Verdict::Incorrect,
            Some(&format!("Printer {i} burns.")),
            i,
        )
        .await;
    }
    let prefix = format!(
        "run-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    let one = moto.files(&prefix, "bucket-one");
    let two = moto.files(&prefix, "bucket-two");
    let credentials = common::credentials(store, "tester").await;
    let app_one =
        common::with_credentials(router_with_exports(store, one.clone()), credentials.clone());
    let app_two = common::with_credentials(router_with_exports(store, two.clone()), credentials);

    let spec = json!({"format": "chat_jsonl", "validation_percent": 25});
    let (id, export) = build(&app_one, store, &one, spec).await;
    assert!(
        !one.root().join(format!("export-{id}")).exists(),
        "the staged files are cleared once uploaded"
    );

    // The other instance, which wrote nothing, serves the same bytes.
    let train = text_of(&app_two, id, "train").await;
    let validation = text_of(&app_two, id, "validation").await;
    assert_eq!(train.lines().count() + validation.lines().count(), 12);
    for (part, text) in [(0, &train), (1, &validation)] {
        assert_eq!(
            export["files"][part]["sha256"].as_str().unwrap(),
            sha2::Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }
    let (status, headers, _) = download(&app_two, id, "train").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains(&format!("redline-export-{id}-chat_jsonl-train.jsonl")));
    let manifest: Value = serde_json::from_str(&text_of(&app_two, id, "manifest").await).unwrap();
    assert_eq!(manifest["export_id"], id);

    // Built again, byte for byte; then deleted through the other instance: gone from the bucket.
    let (again, second) = build(
        &app_two,
        store,
        &two,
        json!({"format": "chat_jsonl", "validation_percent": 25}),
    )
    .await;
    assert_eq!(second["files"][0]["sha256"], export["files"][0]["sha256"]);
    let (status, _) = call(&app_two, "DELETE", &format!("/api/v1/exports/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let format = redline::model::export::ExportFormat::ChatJsonl;
    for part in ["train", "validation", "manifest"] {
        assert!(
            one.open(id, part, format).await.unwrap().is_none(),
            "{part} is gone"
        );
    }
    assert_eq!(
        download(&app_one, id, "train").await.0,
        StatusCode::NOT_FOUND
    );
    assert!(one.open(again, "train", format).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_stopped_at_its_deadline_counts_what_it_read_and_says_how_far() {
    let (db, _app, _files) = setup("deadline").await;
    let store = &db.store;
    // One more call than a page of candidates, in batches as a service sends them.
    let calls = 2_001;
    for start in (0..calls).step_by(1_000) {
        let batch: Vec<_> = (start..(start + 1_000).min(calls))
            .map(|i| {
                new_call(&json!({
                    "operation": "ticket_summarize",
                    "model": "gpt-4o",
                    "model_version": "2024-08-06",
                    "input": format!("ticket {i}"),
                    "output": "a summary",
                    "created_at": at(i as i64).to_rfc3339(),
                }))
            })
            .collect();
        store
            .insert_calls(&batch, at(10_000))
            .await
            .expect("stored");
    }
    let spec: redline::model::export::ExportRequest =
        serde_json::from_value(json!({"format": "jsonl"})).expect("a request");
    let spec = spec.into_spec().expect("a spec");

    let whole = redline::exports::plan::plan(store, &spec)
        .await
        .expect("a plan");
    assert_eq!(whole.counts.total, calls as u64);
    assert_eq!(whole.counted_through, None);

    // A deadline already past: one page is read, then the plan stops and says where.
    let cut = redline::exports::plan::plan_until(store, &spec, Some(std::time::Instant::now()))
        .await
        .expect("a plan");
    assert_eq!(cut.counts.total, 2_000);
    assert_eq!(cut.counted_through, Some(at(1_999).timestamp_micros()));
}
