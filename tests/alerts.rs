//! Accuracy alerts through the real store on the backend `REDLINE_TEST_BACKEND` names, with
//! a real HTTP receiver on this machine: a lead sets the alert on the operation page; a drop
//! beyond noise fires once and is posted; the fleet's schedule lets one instance check at a
//! time; a recovery clears it; a failing or forbidden webhook is retried with backoff and
//! shown as failing, never dropped.

mod common;

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{form_post, ingest_items, item, json_request, signed_in_router, TestDb};
use redline::alerts::{check_if_due, webhook::AllowHosts, AlertSettings};
use redline::model::alerts::{AlertKind, Delivery};
use redline::model::Verdict;
use redline::store::{AuditQuery, ReviewInput, SaveOutcome, Store};
use serde_json::{json, Value};

/// A webhook receiver on 127.0.0.1: records each body, answers with the status set.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
}

async fn receiver() -> Receiver {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(AtomicU16::new(200));
    let (b, s) = (bodies.clone(), status.clone());
    let app = axum::Router::new().route(
        "/hook/{secret}",
        axum::routing::post(move |body: String| {
            let (b, s) = (b.clone(), s.clone());
            async move {
                let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                b.lock().unwrap().push(value);
                StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook/T0-secret"),
        bodies,
        status,
    }
}

async fn review_all(store: &Store, ids: &[String], verdict: Verdict) {
    let inputs: Vec<ReviewInput> = ids
        .iter()
        .map(|id| ReviewInput {
            call_id: uuid::Uuid::parse_str(id).unwrap(),
            base_revision: 0,
            reviewer: "rita".into(),
            verdict,
            corrected_output: (verdict == Verdict::Incorrect).then(|| "fixed".to_string()),
            tags: Vec::new(),
            note: String::new(),
            sampled: true,
        })
        .collect();
    for outcome in store.save_reviews(&inputs, Utc::now()).await.unwrap() {
        assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
    }
}

/// `n` calls of `billing` made in the last minutes (inside any alert window); their ids.
async fn calls(app: &axum::Router, n: usize, tag: &str) -> Vec<String> {
    let items = (0..n)
        .map(|i| {
            let mut value = item("billing", i as i64, &format!("{tag} {i}"));
            value["created_at"] =
                json!((Utc::now() - Duration::seconds(1 + i as i64)).to_rfc3339());
            value
        })
        .collect();
    ingest_items(app, items).await
}

/// Turns the alert of `billing` on from the operation page's form.
async fn save_alert(app: &axum::Router, days: i64, url: &str, format: &str) -> (StatusCode, Value) {
    let days = days.to_string();
    let fields = [
        ("name", "billing"),
        ("enabled", "on"),
        ("window_days", days.as_str()),
        ("webhook_url", url),
        ("format", format),
    ];
    form_post(app, "/api/save_alert", &fields).await
}

fn allowing_loopback() -> AlertSettings {
    AlertSettings {
        allow_hosts: AllowHosts::new(["127.0.0.1".to_string()]),
    }
}

#[tokio::test]
async fn an_alert_fires_once_beyond_noise_is_posted_retried_and_clears() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let hook = receiver().await;
    let (status, body) = json_request(
        &app,
        "PUT",
        "/api/v1/operations/billing",
        Some(json!({"accuracy_target": 0.9, "min_reviews": 20})),
    )
    .await;
    assert!(status.is_success(), "{body}");

    // A bad URL is refused, naming the field, and nothing is stored.
    for (url, why) in [
        ("ftp://example.com/x", "http"),
        ("https://", "host"),
        ("", "needs a webhook"),
    ] {
        let (status, body) = save_alert(&app, 7, url, "json").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert!(body.to_string().contains(why), "{url}: {body}");
    }
    assert!(!store.alert_rule("billing").await.unwrap().unwrap().enabled);
    let (status, body) = save_alert(&app, 7, &hook.url, "json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The audit entry names the host, never the URL's secret path.
    let audit = store
        .list_audit(&AuditQuery {
            action: Some("operation.alert".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].detail.contains("127.0.0.1"), "{:?}", audit[0]);
    assert!(!audit[0].detail.contains("secret"), "{:?}", audit[0]);

    // 19 sampled reviews, all incorrect: below the minimum of 20, so nothing fires.
    let bad = calls(&app, 19, "bad").await;
    review_all(store, &bad, Verdict::Incorrect).await;
    let now = Utc::now();
    let report = check_if_due(store, &allowing_loopback(), "one", now)
        .await
        .unwrap()
        .unwrap();
    assert!(report.changes.is_empty(), "{report:?}");

    // 20 of 40 correct (50%, interval 35–65%): clearly below 90%. Fires, posted once.
    let good = calls(&app, 20, "good").await;
    review_all(store, &good, Verdict::Correct).await;
    let bad_one = calls(&app, 1, "one more bad").await;
    review_all(store, &bad_one, Verdict::Incorrect).await;
    // The other instance asking at the same moment finds the check taken.
    let at = now + Duration::seconds(31);
    let report = check_if_due(store, &allowing_loopback(), "one", at)
        .await
        .unwrap()
        .unwrap();
    assert!(check_if_due(store, &allowing_loopback(), "two", at)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        report.changes,
        vec![("billing".to_string(), AlertKind::Fired)]
    );
    assert_eq!((report.delivered, report.failed), (1, 0));
    {
        let bodies = hook.bodies.lock().unwrap();
        assert_eq!(bodies.len(), 1);
        let posted = &bodies[0];
        assert_eq!(posted["event"], "alert.fired");
        assert_eq!(posted["operation"], "billing");
        assert_eq!(posted["n"], 40);
        assert_eq!(posted["correct"], 20);
        assert_eq!(posted["target"], 0.9);
        assert!(
            posted["interval"]["high"].as_f64().unwrap() < 0.9,
            "{posted}"
        );
        assert!(
            posted["text"].as_str().unwrap().contains("fell below"),
            "{posted}"
        );
    }
    // Still bad a check later: no second firing.
    let at = at + Duration::seconds(31);
    let report = check_if_due(store, &allowing_loopback(), "two", at)
        .await
        .unwrap()
        .unwrap();
    assert!(report.changes.is_empty());
    assert_eq!(hook.bodies.lock().unwrap().len(), 1);

    // Slack's shape from now on; 300 correct reviews more: 320/340 (94.1%, 91.1–96.0%) clears.
    let (status, body) = save_alert(&app, 7, &hook.url, "slack").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let better = calls(&app, 300, "better").await;
    review_all(store, &better, Verdict::Correct).await;
    // Without the allowance the loopback receiver may not be called: refused, kept, retried.
    let at = at + Duration::seconds(31);
    let report = check_if_due(store, &AlertSettings::default(), "one", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        report.changes,
        vec![("billing".to_string(), AlertKind::Cleared)]
    );
    assert_eq!((report.delivered, report.failed), (0, 1));
    let status_now = store.alert_status("billing").await.unwrap().unwrap();
    assert!(!status_now.firing);
    assert!(status_now.webhook_failing);
    let cleared = &status_now.events[0];
    assert_eq!(
        (cleared.kind, cleared.delivery, cleared.attempts),
        (AlertKind::Cleared, Delivery::Pending, 1)
    );
    assert!(
        cleared.last_error.as_deref().unwrap().contains("loopback"),
        "{cleared:?}"
    );
    assert_eq!(
        hook.bodies.lock().unwrap().len(),
        1,
        "nothing reached the receiver"
    );

    // Allowed now, but the receiver fails: the next try waits its backoff (30 s), then 60 s.
    hook.status.store(500, Ordering::SeqCst);
    let at = at + Duration::seconds(31);
    let report = check_if_due(store, &allowing_loopback(), "one", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1));
    let event = &store.alert_status("billing").await.unwrap().unwrap().events[0];
    assert_eq!(event.attempts, 2);
    assert!(
        event.last_error.as_deref().unwrap().contains("500"),
        "{event:?}"
    );
    let at = at + Duration::seconds(31);
    let report = check_if_due(store, &allowing_loopback(), "one", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (report.delivered, report.failed),
        (0, 0),
        "the 60 s backoff has not passed"
    );

    // The receiver is back: delivered, in Slack's shape.
    hook.status.store(200, Ordering::SeqCst);
    let at = at + Duration::seconds(31);
    let report = check_if_due(store, &allowing_loopback(), "one", at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.delivered, report.failed), (1, 0));
    let status_now = store.alert_status("billing").await.unwrap().unwrap();
    assert!(!status_now.webhook_failing);
    assert_eq!(status_now.events[0].delivery, Delivery::Delivered);
    assert_eq!(status_now.events.len(), 2);
    let bodies = hook.bodies.lock().unwrap();
    let last = bodies.last().unwrap();
    assert!(
        last["text"].as_str().unwrap().contains("back above"),
        "{last}"
    );
    assert!(last.get("event").is_none(), "Slack's shape only: {last}");
    // Three posts reached it: the firing, the refused 500, the clearing.
    assert_eq!(bodies.len(), 3);
}

#[tokio::test]
async fn an_alert_that_keeps_failing_is_shown_as_failed_and_the_trends_page_never_shows_its_url() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let (status, _) = json_request(
        &app,
        "PUT",
        "/api/v1/operations/billing",
        Some(json!({"accuracy_target": 0.9, "min_reviews": 10})),
    )
    .await;
    assert!(status.is_success());
    // A port nothing listens on.
    let url = "http://127.0.0.1:9/hook/T0-secret";
    let (status, body) = save_alert(&app, 3, url, "json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bad = calls(&app, 30, "bad").await;
    review_all(store, &bad, Verdict::Incorrect).await;
    let mut at = Utc::now();
    for _ in 0..12 {
        check_if_due(store, &allowing_loopback(), "one", at)
            .await
            .unwrap();
        at += Duration::minutes(10);
    }
    let status_now = store.alert_status("billing").await.unwrap().unwrap();
    assert!(status_now.firing);
    assert!(status_now.webhook_failing);
    let event = &status_now.events[0];
    assert_eq!(event.delivery, Delivery::Failed);
    assert_eq!(event.attempts, redline::model::alerts::MAX_ATTEMPTS);

    // The trends view carries the alert's state and history, without the webhook.
    let (status, trends) = form_post(
        &app,
        "/api/load_operation_trends",
        &[("operation", "billing"), ("search", "")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{trends}");
    assert_eq!(trends["alert"]["firing"], true);
    assert_eq!(trends["alert"]["events"][0]["delivery"], "failed");
    assert!(!trends.to_string().contains("T0-secret"), "{trends}");
    // The operation page (leads and admins) does show it.
    let (_, view) = form_post(&app, "/api/load_operation", &[("name", "billing")]).await;
    assert_eq!(view["alert"]["webhook_url"], url);
}
