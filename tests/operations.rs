//! Operation settings through the real router on the backend `REDLINE_TEST_BACKEND` names:
//! definitions as code (idempotent `PUT`, audited), JSON Schema checks of corrections, the
//! tag taxonomy (rename, merge, listed tags only) and who may change what.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::{answer, item, signed_in_router, TestDb};
use redline::auth::manage::{self, Actor};
use redline::model::auth::{Role, Scope};
use redline::store::{AuditQuery, Store};
use serde_json::{json, Value};

/// Sends a JSON request; the status and the parsed answer (`Null` when empty).
async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    common::json_request(app, method, uri, body).await
}

/// Ingests one call per output of `operation`; their ids.
async fn ingest(app: &Router, operation: &str, outputs: &[&str]) -> Vec<String> {
    let items: Vec<Value> = outputs
        .iter()
        .enumerate()
        .map(|(i, output)| item(operation, i as i64, output))
        .collect();
    common::ingest_items(app, items).await
}

async fn review(app: &Router, id: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        "POST",
        &format!("/api/v1/calls/{id}/reviews"),
        Some(body),
    )
    .await
}

async fn feed_ids(app: &Router, query: &str) -> Vec<String> {
    let (status, body) = call(app, "GET", &format!("/api/v1/calls?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ids: Vec<String> = body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn audit_actions(store: &Store, action: &str) -> Vec<(String, String)> {
    let query = AuditQuery {
        action: Some(action.into()),
        limit: 100,
        ..AuditQuery::default()
    };
    store
        .list_audit(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.target, e.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_put_twice_changes_nothing_the_second_time_and_is_audited_once() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    let definition = json!({
        "description": "Pulls the amounts out of an invoice",
        "output_kind": "json",
        "json_schema": {"type": "object", "required": ["total"]},
        "guidelines": "# Check\n\n- the total matches the invoice",
        "tags": [{"name": "wrong_amount", "description": "A figure differs from the invoice"}],
        "listed_tags_only": true,
        "accuracy_target": 0.95,
        "min_reviews": 40
    });
    // Defined before any call arrives.
    let (status, first) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(definition.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["created"], true);
    assert!(first["changes"].as_array().unwrap().len() >= 5, "{first}");
    let (status, second) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(definition.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["created"], false);
    assert_eq!(second["changes"], json!([]), "{second}");
    assert_eq!(audit_actions(&db.store, "operation").await.len(), 1);

    // What GET answers can be put back as is, and changes nothing.
    let (status, got) = call(&app, "GET", "/api/v1/operations/billing_extract", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["name"], "billing_extract");
    assert_eq!(got["json_schema"], definition["json_schema"]);
    assert_eq!(got["min_reviews"], 40);
    let (_, again) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(got.clone()),
    )
    .await;
    assert_eq!(again["changes"], json!([]));

    // A change says what changed, and only that.
    let mut changed = got.clone();
    changed["min_reviews"] = json!(50);
    let (status, answer) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(changed),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["changes"], json!(["minimum reviews 40 → 50"]));
    let entries = audit_actions(&db.store, "operation").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0],
        ("billing_extract".into(), "minimum reviews 40 → 50".into())
    );

    // Calls ingested later keep the definition; the list shows the operation configured.
    ingest(&app, "billing_extract", &[r#"{"total": 1}"#]).await;
    let (_, listed) = call(&app, "GET", "/api/v1/operations", None).await;
    let ops = listed["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["configured"], true);
    assert_eq!(ops[0]["calls"], 1);
    assert_eq!(ops[0]["output_kind"], "json");

    // Refusals change nothing.
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(json!({"name": "other"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(json!({"min_reviews": 0})),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("min_reviews"))
    );
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&app, "GET", "/api/v1/operations/nothing_here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(audit_actions(&db.store, "operation").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_that_are_not_json_schema_or_point_elsewhere_are_refused_with_the_reason() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    let cases = [
        (
            json!({"type": "invoice"}),
            "not a valid draft 2020-12 JSON Schema",
        ),
        (
            json!({"minimum": "five"}),
            "not a valid draft 2020-12 JSON Schema",
        ),
        (
            json!({"properties": {"a": {"$ref": "https://schemas.example.com/a.json"}}}),
            "does not fetch",
        ),
        (json!("a string"), "a JSON Schema is an object"),
    ];
    for (schema, reason) in cases {
        let body = json!({"output_kind": "json", "json_schema": schema});
        let (status, answer) = call(&app, "PUT", "/api/v1/operations/extract", Some(body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{schema}: {answer}"
        );
        assert_eq!(answer["field"], "json_schema");
        assert!(
            answer["error"].as_str().unwrap().contains(reason),
            "{schema}: {answer}"
        );
    }
    // Nothing was created by the refusals.
    let (status, _) = call(&app, "GET", "/api/v1/operations/extract", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_of_a_json_operation_must_meet_its_schema_and_each_violation_has_its_path() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    let schema = json!({
        "type": "object",
        "required": ["total", "currency"],
        "properties": {
            "total": {"type": "number", "minimum": 0},
            "currency": {"enum": ["EUR", "USD"]}
        }
    });
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/operations/billing_extract",
        Some(json!({"output_kind": "json", "json_schema": schema})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let ids = ingest(
        &app,
        "billing_extract",
        &[r#"{"total": 12, "currency": "EUR"}"#],
    )
    .await;

    let (status, refused) = review(
        &app,
        &ids[0],
        json!({
            "verdict": "incorrect",
            "corrected_output": r#"{"total": -3, "currency": "GBP"}"#,
            "base_revision": 0
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "corrected_output");
    let mut found: Vec<(String, String)> = refused["violations"]
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| {
            (
                v["path"].as_str().unwrap().into(),
                v["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "/currency".to_string(),
                "/properties/currency/enum".to_string()
            ),
            (
                "/total".to_string(),
                "/properties/total/minimum".to_string()
            ),
        ]
    );
    // Not JSON at all: refused as before, with where it stops parsing.
    let (status, refused) = review(
        &app,
        &ids[0],
        json!({
            "verdict": "incorrect", "corrected_output": "{\"total\": 3,", "base_revision": 0
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("does not parse"),
        "{refused}"
    );
    // Fixed, it is saved.
    let (status, saved) = review(&app, &ids[0], json!({
        "verdict": "incorrect", "corrected_output": r#"{"total": 3, "currency": "USD"}"#, "base_revision": 0
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_and_merged_tags_keep_filters_and_counts_for_reviews_saved_before_and_after() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    let ids = ingest(&app, "ticket_summarize", &["a", "b", "c", "d"]).await;
    let wrong = |tags: Value| json!({"verdict": "incorrect", "corrected_output": "fixed", "tags": tags, "base_revision": 0});
    // Three reviewers, three names for one failure.
    assert_eq!(
        review(&app, &ids[0], wrong(json!(["amt"]))).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        review(&app, &ids[1], wrong(json!(["amount_wrong", "tone"])))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        review(&app, &ids[2], wrong(json!(["tone"]))).await.0,
        StatusCode::CREATED
    );

    // The lead settles on one name: `amt` renamed, `amount_wrong` merged into it.
    let (status, applied) = call(&app, "PUT", "/api/v1/operations/ticket_summarize", Some(json!({
        "tags": [
            {"name": "wrong_amount", "description": "A figure differs", "aliases": ["amt", "amount_wrong"]},
            {"name": "tone"}
        ]
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    let changes: Vec<&str> = applied["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"amt renamed to wrong_amount (1 current review moved)"),
        "{changes:?}"
    );
    assert!(
        changes.contains(&"amount_wrong merged into wrong_amount (1 current review)"),
        "{changes:?}"
    );
    assert!(changes.contains(&"tag tone listed"), "{changes:?}");

    // A review saved after, with an old name, counts as the new one.
    assert_eq!(
        review(&app, &ids[3], wrong(json!(["amt"]))).await.0,
        StatusCode::CREATED
    );

    let mut expected = vec![ids[0].clone(), ids[1].clone(), ids[3].clone()];
    expected.sort();
    assert_eq!(feed_ids(&app, "tag=wrong_amount").await, expected);
    // An old name in a saved link still finds them.
    assert_eq!(feed_ids(&app, "tag=amt").await, expected);
    assert_eq!(feed_ids(&app, "tag=amount_wrong").await, expected);
    assert_eq!(feed_ids(&app, "tag=tone").await.len(), 2);

    // Old reviews show the new name; the counts on the operations list follow.
    let (_, old) = call(&app, "GET", &format!("/api/v1/calls/{}", ids[1]), None).await;
    assert_eq!(old["review"]["tags"], json!(["wrong_amount", "tone"]));
    let (_, new) = call(&app, "GET", &format!("/api/v1/calls/{}", ids[3]), None).await;
    assert_eq!(new["review"]["tags"], json!(["wrong_amount"]));
    let (_, listed) = call(&app, "GET", "/api/v1/operations", None).await;
    assert_eq!(
        listed["operations"][0]["top_tags"],
        json!([["wrong_amount", 3], ["tone", 2]])
    );
    let (_, got) = call(&app, "GET", "/api/v1/operations/ticket_summarize", None).await;
    assert_eq!(got["tags"][1]["name"], "wrong_amount");
    assert_eq!(got["tags"][1]["aliases"], json!(["amount_wrong", "amt"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_listed_tags_only_a_tag_off_the_list_or_retired_is_refused() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    let ids = ingest(&app, "support_reply", &["a"]).await;
    let (status, _) = call(
        &app,
        "PUT",
        "/api/v1/operations/support_reply",
        Some(json!({
            "listed_tags_only": true,
            "tags": [{"name": "rude"}, {"name": "too_long", "retired": true}]
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let wrong = |tag: &str| json!({"verdict": "incorrect", "corrected_output": "fixed", "tags": [tag], "base_revision": 0});
    for tag in ["invented", "too_long"] {
        let (status, refused) = review(&app, &ids[0], wrong(tag)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{tag}: {refused}");
        assert_eq!(refused["field"], "tags");
        assert!(
            refused["error"].as_str().unwrap().contains(tag),
            "{refused}"
        );
    }
    let (status, _) = review(&app, &ids[0], wrong("rude")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_keys_may_define_operations() {
    let db = TestDb::new().await;
    let store = &db.store;
    for (name, role) in [
        ("eng", Role::Engineer),
        ("boss", Role::Admin),
        ("root", Role::Admin),
    ] {
        manage::add_user(
            store,
            &Actor::cli(),
            name,
            role,
            Some("a-long-enough-password".into()),
        )
        .await
        .unwrap();
    }
    let refused = manage::create_key(store, &Actor::cli(), "eng", "ci", &[Scope::Configure]).await;
    assert!(
        refused.is_err(),
        "an engineer's key got the configure scope"
    );
    let (key, _) = manage::create_key(store, &Actor::cli(), "boss", "ci", &[Scope::Configure])
        .await
        .unwrap();
    let app = common::router(store);
    let put = |key: &str| {
        Request::put("/api/v1/operations/x")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    assert_eq!(answer(&app, put(&key)).await.0, StatusCode::CREATED);
    // Once its owner is no longer an admin, the key no longer configures anything.
    manage::set_role(store, &Actor::cli(), "boss", Role::Engineer)
        .await
        .unwrap();
    let (status, body) = answer(&app, put(&key)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// Posts the operation page's form to server function `path` as the browser's script does.
async fn page_post(app: &Router, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    common::form_post(app, path, fields).await
}

#[tokio::test]
async fn the_operation_page_saves_settings_and_tag_changes_and_refuses_a_stale_page() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let long = format!("{{\"amount\": \"{}\"}}", "x".repeat(70_000));
    let ids = ingest(
        &app,
        "billing",
        &[&long, r#"{"amount": "ten"}"#, r#"{"amount": 10}"#],
    )
    .await;
    let loaded = |app: Router| async move {
        let (status, view) = page_post(&app, "/api/load_operation", &[("name", "billing")]).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        view
    };
    let view = loaded(app.clone()).await;
    assert_eq!(view["version"], 0, "never configured: {view}");
    assert!(view["schema_report"].is_null());

    let schema = r#"{"type": "object", "properties": {"amount": {"type": "number"}}}"#;
    let settings = |version: String| {
        vec![
            ("name", "billing".to_string()),
            ("version", version),
            ("description", "Invoice fields".to_string()),
            ("output_kind", "json".to_string()),
            ("json_schema", schema.to_string()),
            ("guidelines", "Check the **total**.".to_string()),
            ("accuracy_target", "95".to_string()),
            ("min_reviews", "40".to_string()),
            ("listed_tags_only", "on".to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            page_post(&app, "/api/save_operation", &fields).await
        }
    };
    let (status, outcome) = post(settings("0".into())).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let changes = outcome["changes"].to_string();
    for change in [
        "JSON Schema set",
        "output kind text → json",
        "accuracy target none → 95%",
        "minimum reviews 30 → 40",
        "reviewers may only pick listed tags",
    ] {
        assert!(changes.contains(change), "{change} in {changes}");
    }

    // The same form sent again from the page as it was (version 0) is stale: refused, and
    // the settings stay as the first save left them.
    let mut stale = settings("0".into());
    stale[2].1 = "Overwritten".into();
    let (status, refusal) = post(stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refusal}");
    let view = loaded(app.clone()).await;
    assert_eq!(view["definition"]["description"], "Invoice fields");
    assert_eq!(view["definition"]["accuracy_target"], 0.95);
    // The schema report counts the stored output that fails the new schema and links it.
    assert_eq!(view["schema_report"]["checked"], 3);
    assert_eq!(view["schema_report"]["failing_outputs"], 1);
    assert_eq!(
        view["schema_report"]["examples"][0]["call_id"],
        ids[1].as_str()
    );
    // A text too long to check is counted as such, not read.
    assert_eq!(view["schema_report"]["too_long"], 1);

    // Bad values name their field and change nothing.
    let version = view["version"].to_string();
    for (at, value, field) in [
        (3, "xml", "output_kind"),
        (4, "{not json", "json_schema"),
        (6, "150", "accuracy_target"),
        (7, "many", "min_reviews"),
    ] {
        let mut fields = settings(version.clone());
        fields[at].1 = value.into();
        let (status, refusal) = post(fields).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {refusal}"
        );
        assert!(refusal.to_string().contains(field), "{field}: {refusal}");
    }
    assert_eq!(loaded(app.clone()).await["version"].to_string(), version);

    // Tag changes from the page: add, then rename (the old name stays as an alias).
    let tag = |version: String, action: &'static str, tag: &'static str, value: &'static str| {
        let app = app.clone();
        async move {
            page_post(
                &app,
                "/api/change_tag",
                &[
                    ("name", "billing"),
                    ("version", &version),
                    ("action", action),
                    ("tag", tag),
                    ("value", value),
                ],
            )
            .await
        }
    };
    let (status, outcome) = tag(version.clone(), "add", "amt", "Amount wrong").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let version = loaded(app.clone()).await["version"].to_string();
    let (status, outcome) = tag(version.clone(), "rename", "amt", "wrong_amount").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(
        outcome["changes"],
        json!(["amt renamed to wrong_amount (0 current reviews moved)"])
    );
    let (status, refusal) = tag(version, "retire", "wrong_amount", "").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the rename made this page stale: {refusal}"
    );
    let view = loaded(app.clone()).await;
    assert_eq!(view["definition"]["tags"][0]["name"], "wrong_amount");
    assert_eq!(view["definition"]["tags"][0]["aliases"], json!(["amt"]));

    // Each change is audited with who made it.
    let applied = audit_actions(store, "operation.apply").await;
    assert_eq!(applied.len(), 3, "{applied:?}");
    assert!(
        applied.iter().all(|(target, _)| target == "billing"),
        "{applied:?}"
    );
}

#[tokio::test]
async fn a_reviewer_may_not_change_operation_settings_from_the_page() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    ingest(&app, "billing", &["ten"]).await;
    let reviewer = common::user_session(store, "rita", Role::Reviewer).await;
    let request = Request::post("/api/save_operation")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, reviewer)
        .body(Body::from("name=billing&version=0&description=x&output_kind=text&json_schema=&guidelines=&accuracy_target=&min_reviews=30"))
        .unwrap();
    let (status, text) = answer(&common::router(store), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let view = store.operation("billing").await.unwrap().unwrap();
    assert_eq!(view.definition.description, "");
    assert!(view.configured_at.is_none());
}

/// The review queue's server function as the page calls it; the drawn call's id, if any.
async fn draw(app: &Router, search: &str) -> (Value, Option<String>) {
    let (status, outcome) = page_post(app, "/api/draw_call", &[("search", search)]).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let id = outcome["Ready"]["call"]["id"].as_str().map(str::to_string);
    (outcome, id)
}

#[tokio::test]
async fn only_a_served_call_passed_over_with_skip_counts_as_skipped_not_one_saved_and_left() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let ids = ingest(&app, "queue_op", &["one", "two", "three"]).await;

    // "Save and next" passes the saved call over with `after`: no skip.
    let (_, first) = draw(&app, "operation=queue_op").await;
    let first = first.expect("a call is drawn");
    let saved = review(
        &app,
        &first,
        json!({"verdict": "correct", "base_revision": 0}),
    )
    .await;
    assert_eq!(saved.0, StatusCode::CREATED, "{}", saved.1);
    let (_, second) = draw(&app, &format!("operation=queue_op&after={first}")).await;
    let second = second.expect("two calls are left");
    assert_ne!(second, first);
    assert_eq!(store.skip_summary("queue_op").await.unwrap().skips, 0);

    // A skip of the call served, with a reason, is counted once.
    let (_, third) = draw(
        &app,
        &format!("operation=queue_op&skip={second}&reason=unclear_input"),
    )
    .await;
    let third = third.expect("one call is left besides the skipped one");
    assert_ne!(third, second);
    let summary = store.skip_summary("queue_op").await.unwrap();
    assert_eq!(summary.skips, 1);
    assert_eq!(summary.by_reviewer, vec![("tester".to_string(), 1)]);

    // A hand-made link naming a call the queue never served this reviewer counts nothing,
    // and an unknown reason is explained, not recorded.
    let drawn_ids = [first.clone(), second.clone(), third.clone()];
    assert!(ids.iter().all(|id| drawn_ids.contains(id)));
    let unseen = ingest(&app, "other_op", &["never served"]).await;
    draw(&app, &format!("operation=other_op&skip={}", unseen[0])).await;
    assert_eq!(store.skip_summary("other_op").await.unwrap().skips, 0);
    let (outcome, _) = draw(
        &app,
        &format!("operation=queue_op&skip={third}&reason=bored"),
    )
    .await;
    assert_eq!(outcome["BadFilter"]["param"], "reason", "{outcome}");
    assert_eq!(store.skip_summary("queue_op").await.unwrap().skips, 1);
}
