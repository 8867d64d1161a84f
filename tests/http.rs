//! The public API and the server-rendered feed, driven through the real router, on the
//! backend `REDLINE_TEST_BACKEND` names (see `common`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::{item, with, TestDb};
use redline::store::Store;
use serde_json::{json, Value};

/// The app as a signed-in admin with an all-scope key sees it (authorization itself is
/// tested in `auth.rs`).
async fn app(db: &TestDb) -> Router {
    app_on(db.store.clone()).await
}

async fn app_on(store: Store) -> Router {
    common::signed_in_router(&store).await
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: impl Into<Body>,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    let response = common::send(app, request).await;
    (response.status(), common::body_bytes(response).await)
}

async fn json_call(app: &Router, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let (status, bytes) = send(app, method, uri, body.to_string()).await;
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{method} {uri} answered non-JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, bytes) = send(app, "GET", uri, Body::empty()).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn stored(app: &Router) -> usize {
    get(app, "/api/v1/calls?limit=500").await.1["calls"]
        .as_array()
        .map_or(0, |c| c.len())
}

#[tokio::test]
async fn ingest_creates_calls_and_reports_each() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let (status, body) = json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!([item("op_a", 0, "a"), item("op_a", 1, "b")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["created"], 2);
    assert_eq!(body["results"][1]["index"], 1);
    assert_eq!(body["results"][1]["status"], "created");
    let id = body["results"][0]["id"].as_str().unwrap().to_string();

    let (status, call) = get(&app, &format!("/api/v1/calls/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call["output"], "a");
    assert_eq!(call["input"][0]["role"], "system");
    assert_eq!(call["verdict"], "unreviewed");
    assert_eq!(call["history"], json!([]));

    let (status, body) = json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!({"calls": [item("op_b", 2, "c")]}),
    )
    .await;
    assert_eq!(
        (status, body["created"].clone()),
        (StatusCode::OK, json!(1))
    );
    assert_eq!(stored(&app).await, 3);
}

#[tokio::test]
async fn resent_calls_are_duplicates_with_the_first_id() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let batch = json!([
        with(item("op_a", 0, "a"), "external_id", json!("r1")),
        with(item("op_a", 1, "b"), "external_id", json!("r2")),
    ]);
    let (_, first) = json_call(&app, "POST", "/api/v1/calls", batch.clone()).await;
    let (status, second) = json_call(&app, "POST", "/api/v1/calls", batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (second["created"].clone(), second["duplicate"].clone()),
        (json!(0), json!(2))
    );
    for i in 0..2 {
        assert_eq!(second["results"][i]["status"], "duplicate");
        assert_eq!(second["results"][i]["id"], first["results"][i]["id"]);
    }
    assert_eq!(stored(&app).await, 2);
}

#[tokio::test]
async fn invalid_items_are_reported_and_valid_ones_stored() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let good = item("op_a", 0, "fine");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("output");
    let cases = vec![
        (json!("not an object"), "expected a JSON object"),
        (missing, "output: required"),
        (
            with(good.clone(), "operation", json!("Has Spaces")),
            "not an operation name",
        ),
        (
            with(good.clone(), "latency_ms", json!("slow")),
            "latency_ms: expected a number",
        ),
        (with(good.clone(), "cost_usd", json!(-1)), "cost_usd"),
        (
            with(good.clone(), "created_at", json!("last tuesday")),
            "RFC 3339",
        ),
        (
            with(good.clone(), "created_at", json!("2999-01-01T00:00:00Z")),
            "future",
        ),
        (
            with(
                good.clone(),
                "input",
                json!([{"role": "wizard", "content": "hi"}]),
            ),
            "input[0].role",
        ),
        (
            with(good.clone(), "input", json!(42)),
            "input: expected a string or an array",
        ),
        (
            with(good.clone(), "metadata", json!("x")),
            "metadata: expected an object",
        ),
        (
            with(good.clone(), "model", json!("m".repeat(200))),
            "model: longer than 128",
        ),
        (with(good.clone(), "surprise", json!(1)), "unknown field"),
    ];
    let mut batch = vec![good.clone()];
    batch.extend(cases.iter().map(|(value, _)| value.clone()));
    batch.push(item("op_a", 5, "also fine"));
    let (status, body) = json_call(&app, "POST", "/api/v1/calls", Value::Array(batch)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["created"], 2);
    assert_eq!(body["invalid"], cases.len());
    for (offset, (_, reason)) in cases.iter().enumerate() {
        let result = &body["results"][offset + 1];
        assert_eq!(result["index"], offset + 1);
        assert_eq!(result["status"], "invalid");
        let error = result["error"].as_str().unwrap();
        assert!(
            error.contains(reason),
            "item {}: {error:?} should mention {reason:?}",
            offset + 1
        );
    }
    assert_eq!(stored(&app).await, 2);
}

#[tokio::test]
async fn malformed_or_oversized_bodies_are_refused_whole() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    for body in ["{not json", "42", "{\"items\": []}", "{\"calls\": 3}"] {
        let (status, bytes) = send(&app, "POST", "/api/v1/calls", body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "body {body}");
        let error: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(error["error"].as_str().unwrap().len() > 10);
    }
    let too_many = Value::Array((0..1_001).map(|m| item("op_a", m, "x")).collect());
    let (status, body) = json_call(&app, "POST", "/api/v1/calls", too_many).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("1000"));

    let huge = json!([item("op_a", 0, &"x".repeat(11 * 1024 * 1024))]);
    let (status, body) = json_call(&app, "POST", "/api/v1/calls", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("limit"));
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn list_filters_and_rejects_bad_parameters() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let batch = json!([
        item("op_a", 0, "alpha output"),
        with(
            item("op_b", 1, "beta output"),
            "model_version",
            json!("2024-11-20")
        ),
    ]);
    json_call(&app, "POST", "/api/v1/calls", batch).await;
    let only = |body: &Value| -> Vec<String> {
        body["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["output_preview"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        only(&get(&app, "/api/v1/calls?operation=op_b").await.1),
        ["beta output"]
    );
    assert_eq!(
        only(&get(&app, "/api/v1/calls?model_version=2024-08-06").await.1),
        ["alpha output"]
    );
    assert_eq!(
        only(&get(&app, "/api/v1/calls?q=alpha").await.1),
        ["alpha output"]
    );
    assert_eq!(
        only(
            &get(&app, "/api/v1/calls?verdict=unreviewed&limit=1")
                .await
                .1
        ),
        ["beta output"]
    );
    assert_eq!(
        only(&get(&app, "/api/v1/calls?from=2026-03-11").await.1),
        Vec::<String>::new()
    );

    for (query, param) in [
        ("verdict=maybe", "verdict"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
        ("from=soon", "from"),
        ("operation=BAD", "operation"),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/calls?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            body["error"].as_str().unwrap().starts_with(param),
            "{query}: {body}"
        );
    }
    let (status, _) = get(&app, "/api/v1/calls/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, &format!("/api/v1/calls/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_cursor_pages_without_gaps_or_repeats() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    json_call(
        &app,
        "POST",
        "/api/v1/calls",
        Value::Array((0..25).map(|m| item("op_a", m, &format!("n{m}"))).collect()),
    )
    .await;
    let mut seen = Vec::new();
    let mut uri = "/api/v1/calls?limit=10".to_string();
    loop {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK);
        for call in body["calls"].as_array().unwrap() {
            seen.push(call["output_preview"].as_str().unwrap().to_string());
        }
        // Calls keep arriving between pages.
        json_call(
            &app,
            "POST",
            "/api/v1/calls",
            json!([item("op_a", 1_000, "new")]),
        )
        .await;
        match body["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/calls?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<_> = (0..25).rev().map(|m| format!("n{m}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_feed_page_renders_on_the_server_with_text_escaped() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!([item("op_a", 0, hostile)]),
    )
    .await;
    let (status, bytes) = send(&app, "GET", "/calls?operation=op_a", Body::empty()).await;
    let html = String::from_utf8(bytes).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"call-row\""),
        "the row is in the server HTML"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<img src=x"));

    let (status, bytes) = send(&app, "GET", "/calls?verdict=maybe", Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(bytes)
        .unwrap()
        .contains("data-testid=\"bad-filter\""));

    let (status, _) = send(&app, "GET", "/", Body::empty()).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    let (status, _) = send(&app, "GET", "/no/such/page", Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_page_renders_whole_on_the_server_every_time() {
    // Without JavaScript the server's HTML is the page: it must never stop at the
    // "Loading call…" placeholder (a resource that only resolves in the browser did, once).
    let db = TestDb::new().await;
    let app = app(&db).await;
    let (_, body) = json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!([
            item("op_page", 0, "an answer"),
            item("op_page", 1, "another")
        ]),
    )
    .await;
    let id = body["results"][0]["id"].as_str().unwrap().to_string();
    for attempt in 0..20 {
        let (status, bytes) = send(
            &app,
            "GET",
            &format!("/calls/{id}?operation=op_page"),
            Body::empty(),
        )
        .await;
        let html = String::from_utf8(bytes).unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("data-testid=\"editor-pane\"") && !html.contains("Loading call…"),
            "attempt {attempt}: the call page stopped at its placeholder"
        );
    }
}

#[tokio::test]
async fn reviews_through_the_api_append_revisions_and_refuse_stale_or_invalid_saves() {
    let db = TestDb::new().await;
    db.store
        .define_operation(
            "billing_extract",
            "",
            redline::model::OutputKind::Json,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let app = app(&db).await;
    let (_, body) = json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!([
            item("ticket_summarize", 1, "The customer wants a refund."),
            item("billing_extract", 2, "{\"amount\": 12}"),
        ]),
    )
    .await;
    let text_id = body["results"][0]["id"].as_str().unwrap().to_string();
    let json_id = body["results"][1]["id"].as_str().unwrap().to_string();
    let reviews = |id: &str| format!("/api/v1/calls/{id}/reviews");

    // The first save is revision 1; the call then carries it.
    let (status, saved) = json_call(
        &app,
        "POST",
        &reviews(&text_id),
        json!({"verdict": "incorrect", "corrected_output": "The customer wants a refund of $40.",
               "tags": ["missed_amount"], "note": "amount is in the ticket", "base_revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["revision"], 1);
    assert_eq!(saved["review"]["reviewer"], "tester");
    assert_eq!(saved["review"]["tags"], json!(["missed_amount"]));

    // A second save on revision 0 is stale: refused with who saved, nothing written.
    let (status, conflict) = json_call(
        &app,
        "POST",
        &reviews(&text_id),
        json!({"verdict": "correct", "base_revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["current_revision"], 1);
    assert_eq!(conflict["current"]["verdict"], "incorrect");
    assert!(
        conflict["error"].as_str().unwrap().contains("by tester"),
        "{conflict}"
    );
    // Based on the current revision it goes through, as revision 2; history keeps both.
    let (status, saved) = json_call(
        &app,
        "POST",
        &reviews(&text_id),
        json!({"verdict": "correct", "base_revision": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["revision"], 2);
    let (_, call) = get(&app, &format!("/api/v1/calls/{text_id}")).await;
    assert_eq!(call["review"]["revision"], 2);
    assert_eq!(call["history"].as_array().map(|h| h.len()), Some(2));
    assert_eq!(call["verdict"], "correct");

    // Invalid reviews: 422 naming the field and the reason; nothing written.
    for (id, body, field, reason) in [
        (
            &text_id,
            json!({"verdict": "incorrect", "base_revision": 2}),
            "corrected_output",
            "needs the output",
        ),
        (
            &text_id,
            json!({"verdict": "incorrect", "corrected_output": "The customer wants a refund.", "base_revision": 2}),
            "corrected_output",
            "same as the original",
        ),
        (
            &text_id,
            json!({"verdict": "maybe", "base_revision": 2}),
            "verdict",
            "maybe",
        ),
        (
            &text_id,
            json!({"verdict": "correct", "tags": ["Not A Tag"], "base_revision": 2}),
            "tags",
            "not a tag",
        ),
        (
            &json_id,
            json!({"verdict": "incorrect", "corrected_output": "{\"amount\": 12,\n \"currency\": EUR}", "base_revision": 0}),
            "corrected_output",
            "line 2, column",
        ),
    ] {
        let (status, answer) = json_call(&app, "POST", &reviews(id), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(reason),
            "{answer}"
        );
    }
    let (status, saved) = json_call(
        &app,
        "POST",
        &reviews(&json_id),
        json!({"verdict": "incorrect", "corrected_output": "{\"amount\": 12, \"currency\": \"EUR\"}", "base_revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let (_, call) = get(&app, &format!("/api/v1/calls/{text_id}")).await;
    assert_eq!(
        call["history"].as_array().map(|h| h.len()),
        Some(2),
        "refusals wrote nothing"
    );

    // Malformed bodies and unknown calls.
    let (status, _) = send(&app, "POST", &reviews(&text_id), "not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_call(
        &app,
        "POST",
        &reviews("0190f1f2-0000-7000-8000-000000000000"),
        json!({"verdict": "correct", "base_revision": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every save is in the audit log, by the key.
    let entries = db
        .store
        .list_audit(&redline::store::AuditQuery {
            action: Some("review.save".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.actor.starts_with("key:rl_")));
    assert_eq!(entries[2].target, text_id);
    assert!(
        entries[2].detail.contains("revision 1, incorrect"),
        "{}",
        entries[2].detail
    );
}

#[tokio::test]
async fn the_review_queue_serves_an_unreviewed_call_and_its_form_saves_sampled_reviews() {
    let db = TestDb::new().await;
    let app = app(&db).await;
    let (_, body) = json_call(
        &app,
        "POST",
        "/api/v1/calls",
        json!([
            item("op_q", 0, "<b>drawn</b> output"),
            item("op_other", 1, "elsewhere")
        ]),
    )
    .await;
    let id = body["results"][0]["id"].as_str().unwrap().to_string();

    // The queue page is rendered on the server with the drawn call, escaped, in an editor
    // whose saves are marked sampled.
    let (status, bytes) = send(&app, "GET", "/review?operation=op_q", Body::empty()).await;
    let html = String::from_utf8(bytes).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&id),
        "the only unreviewed call of op_q is drawn"
    );
    assert!(html.contains("&lt;b&gt;drawn&lt;/b&gt; output"));
    assert!(
        !html.contains(r#"name="sampled""#),
        "the form does not say whether it is sampled"
    );

    // Saving through the page's form (a plain form post, as before hydration): sampled,
    // because the queue drew this call for this reviewer.
    let form = format!("id={id}&verdict=correct&corrected_output=&tags=&note=&base_revision=0");
    let request = Request::post("/api/save_review")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .header("referer", "http://redline.test/review?operation=op_q")
        .body(Body::from(form))
        .unwrap();
    let response = common::send(&app, request).await;
    assert!(
        response.status().is_redirection(),
        "a form post goes back to the page: {}",
        response.status()
    );
    let (_, call) = get(&app, &format!("/api/v1/calls/{id}")).await;
    assert_eq!(call["review"]["verdict"], "correct");
    assert_eq!(call["review"]["sampled"], true);

    // A call opened from the feed is not sampled, whatever the form claims.
    let other = body["results"][1]["id"].as_str().unwrap().to_string();
    let form = format!(
        "id={other}&verdict=correct&corrected_output=&tags=&note=&base_revision=0&sampled=true"
    );
    let request = Request::post("/api/save_review")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .header("referer", format!("http://redline.test/calls/{other}"))
        .body(Body::from(form))
        .unwrap();
    common::send(&app, request).await;
    let (_, call) = get(&app, &format!("/api/v1/calls/{other}")).await;
    assert_eq!(call["review"]["verdict"], "correct", "{call}");
    assert_eq!(call["review"]["sampled"], false);

    // Nothing unreviewed is left in op_q: the queue says so; a bad filter is explained.
    let (_, bytes) = send(&app, "GET", "/review?operation=op_q", Body::empty()).await;
    assert!(String::from_utf8(bytes)
        .unwrap()
        .contains("data-testid=\"queue-empty\""));
    for bad in [
        "/review?verdict=maybe",
        "/review?call=not-an-id",
        "/review?call=01a233e3-4766-72c2-a20c-c5f66328ea3e",
    ] {
        let (status, bytes) = send(&app, "GET", bad, Body::empty()).await;
        assert_eq!(status, StatusCode::OK, "{bad}");
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains("data-testid=\"bad-filter\""),
            "{bad} explains itself"
        );
    }
}
