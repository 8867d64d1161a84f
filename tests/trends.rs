//! Trends and routing through the real router on the backend `REDLINE_TEST_BACKEND` names:
//! the accuracy series for a fixed set of reviews (exact n, k and Wilson bounds), bad
//! parameters, and the routing advice as reviews arrive, on the API and in the overview.

mod common;

use axum::http::StatusCode;
use axum::Router;
use chrono::{Duration, Utc};
use common::{
    base_time, ingest_items as ingest, item, json_request, signed_in_router, with, TestDb,
};
use redline::model::Verdict;
use redline::store::{ReviewInput, SaveOutcome, Store};
use serde_json::{json, Value};

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    json_request(app, "GET", uri, None).await
}

/// Saves a review of `id` on top of revision `base` straight in the store: `sampled` as the
/// review queue would have recorded it.
async fn review(store: &Store, id: &str, base: i64, verdict: Verdict, sampled: bool) {
    let input = ReviewInput {
        call_id: uuid::Uuid::parse_str(id).unwrap(),
        base_revision: base,
        reviewer: "rita".into(),
        verdict,
        corrected_output: (verdict == Verdict::Incorrect).then(|| "fixed".to_string()),
        tags: if verdict == Verdict::Incorrect {
            vec!["wrong_amount".into()]
        } else {
            Vec::new()
        },
        note: String::new(),
        sampled,
    };
    let outcome = store.save_reviews(&[input], Utc::now()).await.unwrap();
    assert!(
        matches!(outcome[0], SaveOutcome::Saved { .. }),
        "{outcome:?}"
    );
}

fn version(value: Value, v: &str) -> Value {
    with(value, "model_version", json!(v))
}

fn close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!(
        (actual - expected).abs() < 1e-4,
        "{actual} is not {expected}"
    );
}

/// The points of a series answer for one version, by bucket.
fn points<'a>(body: &'a Value, model_version: &str) -> Vec<&'a Value> {
    body["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["model_version"] == model_version)
        .collect()
}

#[tokio::test]
async fn the_accuracy_series_counts_current_reviews_by_the_day_of_the_call() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    // 2026-03-10 (a Tuesday): six calls of v1 and two of v2; 2026-03-11: three of v1.
    let mut items: Vec<Value> = (0..6).map(|m| item("op", m, "out")).collect();
    items.extend((6..8).map(|m| version(item("op", m, "out"), "v2")));
    items.extend((0..3).map(|m| item("op", 1440 + m, "out")));
    let ids = ingest(&app, items).await;

    review(store, &ids[0], 0, Verdict::Correct, true).await;
    review(store, &ids[1], 0, Verdict::Correct, true).await;
    review(store, &ids[2], 0, Verdict::Incorrect, true).await;
    // Drawn at random and judged correct, then judged again from the feed: it stays in the
    // sample with its new verdict, counted once.
    review(store, &ids[3], 0, Verdict::Correct, true).await;
    review(store, &ids[3], 1, Verdict::Incorrect, false).await;
    // Opened from the feed: only in "all reviews". ids[5] stays unreviewed: in no n.
    review(store, &ids[4], 0, Verdict::Correct, false).await;
    review(store, &ids[6], 0, Verdict::Correct, true).await;
    review(store, &ids[7], 0, Verdict::Incorrect, true).await;
    for id in &ids[8..] {
        review(store, id, 0, Verdict::Correct, true).await;
    }

    let range = "operation=op&from=2026-03-09&to=2026-03-15";
    let (status, body) = get(&app, &format!("/api/v1/accuracy?{range}&bucket=day")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reviews"], "sampled");
    assert_eq!(body["bucket"], "day");
    let v1 = points(&body, "2024-08-06");
    assert_eq!(v1.len(), 2, "{body}");
    assert_eq!(v1[0]["bucket"], "2026-03-10");
    assert_eq!(
        (v1[0]["n"].as_u64(), v1[0]["k"].as_u64()),
        (Some(4), Some(2))
    );
    close(&v1[0]["accuracy"], 0.5);
    close(&v1[0]["low"], 0.1500);
    close(&v1[0]["high"], 0.8500);
    assert_eq!(v1[0]["enough_reviews"], false, "the default minimum is 30");
    assert_eq!(v1[1]["bucket"], "2026-03-11");
    assert_eq!(
        (v1[1]["n"].as_u64(), v1[1]["k"].as_u64()),
        (Some(3), Some(3))
    );
    close(&v1[1]["low"], 0.4385);
    close(&v1[1]["high"], 1.0);
    let v2 = points(&body, "v2");
    assert_eq!(
        (v2[0]["n"].as_u64(), v2[0]["k"].as_u64()),
        (Some(2), Some(1))
    );
    close(&v2[0]["low"], 0.0945);
    close(&v2[0]["high"], 0.9055);

    // All reviews: the call opened from the feed counts too.
    let (_, all) = get(
        &app,
        &format!("/api/v1/accuracy?{range}&bucket=day&sampled=false"),
    )
    .await;
    assert_eq!(all["reviews"], "all");
    let v1 = points(&all, "2024-08-06");
    assert_eq!(
        (v1[0]["n"].as_u64(), v1[0]["k"].as_u64()),
        (Some(5), Some(3))
    );
    close(&v1[0]["low"], 0.2307);
    close(&v1[0]["high"], 0.8824);

    // Weeks (the default) start on Monday 2026-03-09; one version only.
    let (_, weeks) = get(
        &app,
        &format!("/api/v1/accuracy?{range}&model_version=gpt-4o@2024-08-06"),
    )
    .await;
    assert_eq!(weeks["bucket"], "week");
    let series = weeks["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{weeks}");
    assert_eq!(series[0]["bucket"], "2026-03-09");
    assert_eq!(
        (series[0]["n"].as_u64(), series[0]["k"].as_u64()),
        (Some(7), Some(5))
    );
    close(&series[0]["low"], 0.3589);
    close(&series[0]["high"], 0.9178);

    // Outside the range, or another operation: nothing.
    let (_, none) = get(
        &app,
        "/api/v1/accuracy?operation=other&from=2026-03-09&to=2026-03-15",
    )
    .await;
    assert_eq!(none["series"], json!([]));
    let (_, before) = get(
        &app,
        "/api/v1/accuracy?operation=op&from=2026-02-01&to=2026-03-09",
    )
    .await;
    assert_eq!(before["series"], json!([]));
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_the_parameter() {
    let db = TestDb::new().await;
    let app = signed_in_router(&db.store).await;
    for (query, param) in [
        ("bucket=month", "bucket"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("sampled=maybe", "sampled"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "from"),
        ("operation=Not%20A%20Name", "operation"),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/accuracy?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["field"], param, "{query}: {body}");
        assert!(body["error"].as_str().unwrap().contains(param), "{body}");
    }
    let (status, body) = get(&app, "/api/v1/routing?sampled=yes").await;
    assert_eq!(
        (status, &body["field"]),
        (StatusCode::BAD_REQUEST, &json!("sampled"))
    );
    let (status, _) = get(&app, "/api/v1/routing/no_such_operation").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn routing_recommends_the_cheapest_version_good_enough_and_follows_new_reviews() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let (status, body) = json_request(
        &app,
        "PUT",
        "/api/v1/operations/billing",
        Some(json!({"accuracy_target": 0.8, "min_reviews": 20})),
    )
    .await;
    assert!(status.is_success(), "{body}");

    // Forty recent calls of a dear version and fifty of a cheap one.
    let recent = (Utc::now() - Duration::days(2)).to_rfc3339();
    let call = |v: &str, cost: f64, i: usize| {
        let value = with(
            item("billing", i as i64, "out"),
            "created_at",
            json!(recent),
        );
        with(version(value, v), "cost_usd", json!(cost))
    };
    let mut items: Vec<Value> = (0..40).map(|i| call("dear", 0.01, i)).collect();
    items.extend((0..50).map(|i| call("cheap", 0.001, i)));
    let ids = ingest(&app, items).await;
    let (dear, cheap) = ids.split_at(40);
    for id in dear {
        review(store, id, 0, Verdict::Correct, true).await;
    }
    for (i, id) in cheap[..40].iter().enumerate() {
        let verdict = if i < 2 {
            Verdict::Incorrect
        } else {
            Verdict::Correct
        };
        review(store, id, 0, verdict, true).await;
    }

    // Both reach the target (lower bounds 91.2% and 83.5%): the cheaper one wins.
    let (status, advice) = get(&app, "/api/v1/routing/billing").await;
    assert_eq!(status, StatusCode::OK, "{advice}");
    let recommended = &advice["recommendation"];
    assert_eq!(
        recommended["version"]["version"]["version"], "cheap",
        "{advice}"
    );
    assert_eq!(recommended["meets_target"], true);
    assert_eq!(recommended["runner_up"]["version"]["version"], "dear");
    assert_eq!(advice["reviews"], "sampled");
    assert!(advice["rule"]
        .as_str()
        .unwrap()
        .contains("lowest mean cost"));
    assert!(advice["computed_at"].as_str().is_some());
    let reason = recommended["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("gpt-4o cheap: 95.0% (83.5–98.6, n=40), meets 80.0% target at $0.0010/call, 10× cheaper than gpt-4o dear"),
        "{reason}"
    );

    // Ten more sampled reviews of the cheap version, all incorrect: 38 of 50, lower bound
    // 62.6%, under the target. The dear version is now the one to use.
    for id in &cheap[40..] {
        review(store, id, 0, Verdict::Incorrect, true).await;
    }
    let (_, all) = get(&app, "/api/v1/routing").await;
    let billing = all["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "billing")
        .expect("billing is listed")
        .clone();
    assert_eq!(billing["accuracy_target"], 0.8);
    assert_eq!(billing["min_reviews"], 20);
    let recommended = &billing["recommendation"];
    assert_eq!(
        recommended["version"]["version"]["version"], "dear",
        "{billing}"
    );
    assert_eq!(recommended["meets_target"], true);
    assert_eq!(recommended["significantly_better"], true, "{billing}");

    // A call of long ago plays no part: the rule looks at the last 30 days only.
    let old = with(
        version(item("billing", 0, "out"), "ancient"),
        "created_at",
        json!((base_time() - Duration::days(400)).to_rfc3339()),
    );
    let old_ids = ingest(&app, vec![old]).await;
    review(store, &old_ids[0], 0, Verdict::Correct, true).await;
    let (_, again) = get(&app, "/api/v1/routing/billing?sampled=false").await;
    assert_eq!(again["reviews"], "all");
    assert_eq!(
        again["recommendation"]["version"]["version"]["version"],
        "dear"
    );

    // The /trends overview reads the same rollups summed per day and per version (a query
    // of its own on each backend): the last 7 days hold the 90 recent calls, 78 correct and
    // 12 incorrect, the sparkline's weeks add up to them, and its advice is the API's.
    let today = redline::trends::today(Utc::now());
    let overview = redline::trends::overview(store, today, false)
        .await
        .expect("the overview");
    let row = overview
        .rows
        .iter()
        .find(|r| r.operation == "billing")
        .expect("billing is in the overview");
    assert_eq!(row.last7.calls, 90);
    assert_eq!(
        (row.last7.tally.correct, row.last7.tally.incorrect),
        (78, 12)
    );
    let weekly: u64 = row
        .weekly
        .iter()
        .map(|(_, t)| t.correct + t.incorrect)
        .sum();
    assert_eq!(weekly, 90);
    let advice = serde_json::to_value(&row.recommendation).expect("JSON");
    assert_eq!(advice["version"]["version"]["version"], "dear", "{advice}");
}

/// The operation view's weekly figures are its daily ones summed by ISO week (the weeks are
/// summed in SQL, the days are not): lines, volume and failure tags, on either backend.
#[tokio::test]
async fn weekly_buckets_sum_the_days_of_each_iso_week() {
    use redline::model::trends::{Bucket, OperationTrends, Tally, TrendsQuery};
    use std::collections::BTreeMap;

    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    // Three calls a day from 2026-03-01 (a Sunday) to 2026-03-19, every other day a second
    // version; the base time is 2026-03-10 noon.
    let mut items = Vec::new();
    for day in -9..10 {
        for m in 0..3 {
            let mut call = with(item("op", day * 1440 + m, "out"), "latency_ms", json!(700));
            if day % 2 == 0 {
                call = version(call, "v2");
            }
            items.push(call);
        }
    }
    let ids = ingest(&app, items).await;
    for (i, id) in ids.iter().enumerate() {
        match i % 4 {
            0 => review(store, id, 0, Verdict::Correct, true).await,
            1 => review(store, id, 0, Verdict::Incorrect, true).await,
            2 => review(store, id, 0, Verdict::Incorrect, false).await,
            _ => {}
        }
    }

    let today =
        redline::model::trends::day_number(chrono::NaiveDate::from_ymd_opt(2026, 3, 25).unwrap());
    let trends = |search: &'static str| async move {
        let mut query = TrendsQuery::from_search(search).unwrap();
        query.operation = Some("op".into());
        redline::trends::operation_trends(store, "op", &query, today)
            .await
            .unwrap()
            .unwrap()
    };
    let daily: OperationTrends = trends("bucket=day&from=2026-02-25&to=2026-03-24").await;
    let weekly: OperationTrends = trends("bucket=week&from=2026-02-25&to=2026-03-24").await;
    let week = |day: i64| Bucket::Week.start(day);

    // Lines: per version and week, the days' tallies summed.
    let mut expected: BTreeMap<(String, i64), (Tally, Tally)> = BTreeMap::new();
    for line in &daily.lines {
        for p in &line.points {
            let e = expected
                .entry((line.version.version.clone(), week(p.start)))
                .or_default();
            e.0.add(p.sampled);
            e.1.add(p.all);
        }
    }
    let mut got: BTreeMap<(String, i64), (Tally, Tally)> = BTreeMap::new();
    for line in &weekly.lines {
        for p in &line.points {
            got.insert((line.version.version.clone(), p.start), (p.sampled, p.all));
        }
    }
    assert_eq!(got, expected);
    assert_eq!(
        got.keys()
            .map(|(_, w)| *w)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        4,
        "the Sunday 2026-03-01 closes the week of 02-23; then three more weeks: {got:?}"
    );

    // Volume and tags: the same sums, bucket by bucket.
    let mut calls: BTreeMap<i64, (u64, u64, u64)> = BTreeMap::new();
    for v in &daily.volume {
        let e = calls.entry(week(v.start)).or_default();
        e.0 += v.calls;
        e.1 += v.sampled_reviews;
        e.2 += v.reviews;
    }
    for v in &weekly.volume {
        assert_eq!(
            calls.get(&v.start).copied().unwrap_or_default(),
            (v.calls, v.sampled_reviews, v.reviews),
            "week starting day {}",
            v.start
        );
    }
    assert_eq!(weekly.volume.iter().map(|v| v.calls).sum::<u64>(), 57);
    let tag_sum = |t: &OperationTrends| -> Vec<(String, u64)> {
        t.tags.iter().map(|l| (l.tag.clone(), l.total)).collect()
    };
    assert_eq!(tag_sum(&weekly), tag_sum(&daily));
    let daily_tag = &daily.tags[0];
    let weekly_tag = &weekly.tags[0];
    for (i, start) in weekly.buckets.iter().enumerate() {
        let summed: u64 = daily
            .buckets
            .iter()
            .zip(&daily_tag.counts)
            .filter(|(day, _)| week(**day) == *start)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(weekly_tag.counts[i], summed, "week starting day {start}");
    }
    assert!(weekly_tag.total > 0);

    // Tags are read per version only when the URL picks versions: both picked count what
    // all count; one alone counts only its calls (v2 holds the even days, a part of them).
    let both = trends(
        "bucket=day&from=2026-02-25&to=2026-03-24&model_version=2024-08-06&model_version=v2",
    )
    .await;
    assert_eq!(tag_sum(&both), tag_sum(&daily));
    let v2 = trends("bucket=day&from=2026-02-25&to=2026-03-24&model_version=v2").await;
    let v2_total: u64 = v2.tags.iter().map(|l| l.total).sum();
    let all_total: u64 = daily.tags.iter().map(|l| l.total).sum();
    assert!(
        v2_total > 0 && v2_total < all_total,
        "{v2_total} of {all_total}"
    );

    // Day buckets over more than MAX_DAY_BUCKETS days are drawn by week, and say so; the same
    // figures as the weekly view of that range.
    let long = trends("bucket=day&from=2025-09-01&to=2026-03-24").await;
    assert!(long.widened_to_weeks);
    assert_eq!(long.query.bucket, Bucket::Week);
    assert!(long.buckets.windows(2).all(|w| w[1] - w[0] == 7));
    let long_weekly = trends("bucket=week&from=2025-09-01&to=2026-03-24").await;
    assert!(!long_weekly.widened_to_weeks);
    assert_eq!(long.lines, long_weekly.lines);
    assert!(!daily.widened_to_weeks, "28 days stay days");
}

/// The day-bucket page writes its points, data table and tag table as text, not through
/// the view tree: a model name, version and operation from ingest must stay text there.
#[tokio::test]
async fn the_operation_page_writes_names_from_calls_as_text_in_its_chart_and_tables() {
    let db = TestDb::new().await;
    let store = &db.store;
    let app = signed_in_router(store).await;
    let hostile = r#"v"><img src=x onerror=alert(1)>"#;
    let items: Vec<Value> = (0..3)
        .map(|m| version(item("op", m, "out"), hostile))
        .collect();
    let ids = ingest(&app, items).await;
    review(store, &ids[0], 0, Verdict::Correct, true).await;
    review(store, &ids[1], 0, Verdict::Incorrect, true).await;

    let request = axum::http::Request::get("/trends/op?bucket=day&from=2026-03-09&to=2026-03-15")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = common::send(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = common::body_text(response).await;
    assert!(
        !page.contains("<img"),
        "markup from a call reached the page"
    );
    // The point, its data-table row (n = 2 sampled reviews) and the tag table are there,
    // with the version escaped.
    let escaped = "v&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
    assert!(
        page.contains(&format!(
            r#"aria-label="gpt-4o {escaped} · Mar 10: 1 correct of n=2"#
        )),
        "the chart point's label"
    );
    assert!(
        page.contains(&format!(
            r#"<tr data-testid="data-row"><td>gpt-4o {escaped}</td><td>2026-03-10</td><td data-testid="data-n">2</td>"#
        )),
        "the data table's row"
    );
    assert!(
        page.contains(r#"<th scope="row">wrong_amount</th>"#),
        "the tag table's row"
    );
}
