//! Store behaviour on a fresh database per test, on the backend `REDLINE_TEST_BACKEND` names
//! (see `common`).

mod common;

use chrono::Utc;
use common::{base_time, item, new_call, with, TestDb};
use redline::model::{CallFilter, FeedQuery, Verdict};
use redline::store::{InsertOutcome, ReviewInput, SaveOutcome, Store};
use serde_json::json;

fn query(pairs: &[(&str, &str)]) -> FeedQuery {
    FeedQuery::from_pairs(pairs.iter().copied()).expect("valid query")
}

async fn ids(store: &Store, pairs: &[(&str, &str)]) -> Vec<String> {
    store
        .list_calls(&query(pairs))
        .await
        .unwrap()
        .calls
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn created_id(outcome: &InsertOutcome) -> String {
    match outcome {
        InsertOutcome::Created { id } => id.clone(),
        other => panic!("expected created, got {other:?}"),
    }
}

async fn review(
    store: &Store,
    id: &str,
    base: i64,
    verdict: Verdict,
    tags: &[&str],
) -> SaveOutcome {
    let input = ReviewInput {
        call_id: uuid::Uuid::parse_str(id).unwrap(),
        base_revision: base,
        reviewer: "alice".into(),
        verdict,
        corrected_output: (verdict == Verdict::Incorrect).then(|| "fixed".to_string()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        note: String::new(),
        sampled: false,
    };
    store
        .save_reviews(&[input], Utc::now())
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test]
async fn feed_lists_newest_first() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let calls: Vec<_> = [5, 1, 9]
        .iter()
        .map(|m| new_call(&item("op_a", *m, &format!("out {m}"))))
        .collect();
    store.insert_calls(&calls, Utc::now()).await.unwrap();
    let page = store.list_calls(&query(&[])).await.unwrap();
    let previews: Vec<_> = page
        .calls
        .iter()
        .map(|c| c.output_preview.as_str())
        .collect();
    assert_eq!(previews, ["out 9", "out 5", "out 1"]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.calls[0].operation, "op_a");
    assert_eq!(page.calls[0].verdict, Verdict::Unreviewed);
}

#[tokio::test]
async fn a_call_sent_twice_is_stored_once() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let first = with(
        with(item("op_a", 1, "x"), "source", json!("svc")),
        "external_id",
        json!("req-1"),
    );
    let other_source = with(first.clone(), "source", json!("other"));
    let outcomes = store
        .insert_calls(
            &[new_call(&first), new_call(&first), new_call(&other_source)],
            Utc::now(),
        )
        .await
        .unwrap();
    let id = created_id(&outcomes[0]);
    assert_eq!(outcomes[1], InsertOutcome::Duplicate { id: id.clone() });
    created_id(&outcomes[2]);

    let again = store
        .insert_calls(&[new_call(&first)], Utc::now())
        .await
        .unwrap();
    assert_eq!(again, vec![InsertOutcome::Duplicate { id }]);
    assert_eq!(store.call_count().await.unwrap(), 2);
}

#[tokio::test]
async fn each_filter_narrows_the_feed() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let items = vec![
        item("billing_extract", 0, "{\"amount\": 12}"),
        with(
            item("billing_extract", 1, "refund of 40 EUR"),
            "model_version",
            json!("2024-11-20"),
        ),
        with(
            item("ticket_summarize", 2, "تمت معالجة استرداد أموالك"),
            "model",
            json!("claude-sonnet"),
        ),
        item("ticket_summarize", 60 * 24 * 3, "three days later"),
    ];
    let calls: Vec<_> = items.iter().map(new_call).collect();
    let outcomes = store.insert_calls(&calls, Utc::now()).await.unwrap();
    let id: Vec<String> = outcomes.iter().map(created_id).collect();

    assert_eq!(
        ids(&store, &[("operation", "billing_extract")]).await,
        [id[1].clone(), id[0].clone()]
    );
    assert_eq!(
        ids(&store, &[("operation", "nope")]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store, &[("model", "claude-sonnet")]).await,
        [id[2].clone()]
    );
    assert_eq!(
        ids(&store, &[("model_version", "2024-11-20")]).await,
        [id[1].clone()]
    );
    assert_eq!(ids(&store, &[("q", "refund")]).await, [id[1].clone()]);
    assert_eq!(ids(&store, &[("q", "استرداد")]).await, [id[2].clone()]);
    assert_eq!(
        ids(&store, &[("q", "ref")]).await,
        Vec::<String>::new(),
        "words match whole"
    );
    assert_eq!(
        ids(&store, &[("q", "ref*")]).await,
        [id[1].clone()],
        "a word typed with * is a prefix"
    );
    assert_eq!(
        ids(&store, &[("q", "\"")]).await,
        Vec::<String>::new(),
        "punctuation alone matches nothing"
    );
    // Search with operation and model filters (narrowed inside the search index).
    let none = Vec::<String>::new();
    assert_eq!(
        ids(&store, &[("q", "refund"), ("operation", "billing_extract")]).await,
        [id[1].clone()]
    );
    assert_eq!(
        ids(
            &store,
            &[("q", "refund"), ("operation", "ticket_summarize")]
        )
        .await,
        none
    );
    assert_eq!(
        ids(&store, &[("q", "REF*"), ("operation", "billing_extract")]).await,
        [id[1].clone()]
    );
    assert_eq!(
        ids(&store, &[("q", "ref*"), ("operation", "ticket_summarize")]).await,
        none
    );
    assert_eq!(
        ids(&store, &[("q", "refund"), ("model_version", "2024-11-20")]).await,
        [id[1].clone()]
    );
    assert_eq!(
        ids(&store, &[("q", "refund"), ("model", "claude-sonnet")]).await,
        none
    );
    assert_eq!(
        ids(&store, &[("q", "refund"), ("model", "gpt-4o")]).await,
        [id[1].clone()]
    );
    let day = base_time().format("%Y-%m-%d").to_string();
    assert_eq!(ids(&store, &[("from", &day), ("to", &day)]).await.len(), 3);
    assert_eq!(
        ids(&store, &[("from", "2026-03-12")]).await,
        [id[3].clone()]
    );

    assert_eq!(
        review(&store, &id[0], 0, Verdict::Incorrect, &["wrong_amount"]).await,
        SaveOutcome::Saved { revision: 1 }
    );
    assert_eq!(
        ids(&store, &[("verdict", "incorrect")]).await,
        [id[0].clone()]
    );
    assert_eq!(ids(&store, &[("verdict", "unreviewed")]).await.len(), 3);
    assert_eq!(
        ids(&store, &[("tag", "wrong_amount")]).await,
        [id[0].clone()]
    );
    assert_eq!(
        ids(
            &store,
            &[("operation", "billing_extract"), ("verdict", "unreviewed")]
        )
        .await,
        [id[1].clone()]
    );
}

#[tokio::test]
async fn keyset_pages_have_no_gaps_or_repeats_across_inserts() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let calls: Vec<_> = (0..120)
        .map(|m| new_call(&item("op_a", m, &format!("call {m}"))))
        .collect();
    store.insert_calls(&calls, Utc::now()).await.unwrap();

    let mut seen = Vec::new();
    let mut q = query(&[("limit", "50")]);
    let mut pages = 0;
    loop {
        let page = store.list_calls(&q).await.unwrap();
        seen.extend(page.calls.iter().map(|c| c.output_preview.clone()));
        pages += 1;
        if pages == 1 {
            // New calls arrive while the reviewer reads page one, some with the same timestamp.
            let late: Vec<_> = [200, 60, 60]
                .iter()
                .map(|m| new_call(&item("op_a", *m, "late")))
                .collect();
            store.insert_calls(&late, Utc::now()).await.unwrap();
        }
        match page.next_cursor {
            Some(cursor) => q = query(&[("limit", "50"), ("cursor", &cursor)]),
            None => break,
        }
    }
    let originals: Vec<_> = seen
        .iter()
        .filter(|s| s.as_str() != "late")
        .cloned()
        .collect();
    let expected: Vec<_> = (0..120).rev().map(|m| format!("call {m}")).collect();
    assert_eq!(
        originals, expected,
        "every original call exactly once, in order"
    );
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn verdict_counts_follow_reviews_and_agree_with_exact_counts() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let calls: Vec<_> = (0..30)
        .map(|m| {
            new_call(&item(
                if m % 3 == 0 { "op_a" } else { "op_b" },
                m * 90,
                "words here",
            ))
        })
        .collect();
    let outcomes = store.insert_calls(&calls, Utc::now()).await.unwrap();
    for (i, outcome) in outcomes.iter().enumerate().take(12) {
        let verdict = if i % 4 == 0 {
            Verdict::Incorrect
        } else {
            Verdict::Correct
        };
        review(&store, &created_id(outcome), 0, verdict, &[]).await;
    }
    // Re-review one call: it moves from correct to incorrect, the totals stay.
    review(
        &store,
        &created_id(&outcomes[1]),
        1,
        Verdict::Incorrect,
        &[],
    )
    .await;

    let all = store.count_verdicts(&CallFilter::default()).await.unwrap();
    assert_eq!((all.unreviewed, all.correct, all.incorrect), (18, 8, 4));
    // The search path counts rows; every call has "words", so it must agree with the rollup.
    let exact = store
        .count_verdicts(&query(&[("q", "words")]).filter)
        .await
        .unwrap();
    assert_eq!(
        (
            exact.unreviewed,
            exact.correct,
            exact.incorrect,
            exact.capped
        ),
        (18, 8, 4, false)
    );
    let op_a = store
        .count_verdicts(&query(&[("operation", "op_a"), ("verdict", "correct")]).filter)
        .await
        .unwrap();
    let manual = ids(&store, &[("operation", "op_a"), ("limit", "500")])
        .await
        .len() as u64;
    assert_eq!(
        op_a.total(),
        manual,
        "the verdict filter itself does not narrow the counts"
    );
}

#[tokio::test]
async fn reviews_append_revisions_and_refuse_stale_saves() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let outcomes = store
        .insert_calls(&[new_call(&item("op_a", 0, "orig"))], Utc::now())
        .await
        .unwrap();
    let id = created_id(&outcomes[0]);
    assert_eq!(
        review(&store, &id, 0, Verdict::Correct, &[]).await,
        SaveOutcome::Saved { revision: 1 }
    );
    assert_eq!(
        review(&store, &id, 1, Verdict::Incorrect, &["format"]).await,
        SaveOutcome::Saved { revision: 2 }
    );
    assert_eq!(
        review(&store, &id, 1, Verdict::Correct, &[]).await,
        SaveOutcome::Conflict {
            base_revision: 1,
            current_revision: 2,
            current: None
        }
    );
    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        review(&store, &missing, 0, Verdict::Correct, &[]).await,
        SaveOutcome::NotFound
    );

    let call = store
        .get_call(&uuid::Uuid::parse_str(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.verdict, Verdict::Incorrect);
    let revisions: Vec<_> = call
        .history
        .iter()
        .map(|r| (r.revision, r.verdict))
        .collect();
    assert_eq!(revisions, [(2, Verdict::Incorrect), (1, Verdict::Correct)]);
    assert_eq!(
        call.review.unwrap().corrected_output.as_deref(),
        Some("fixed")
    );
    assert_eq!(call.input[1]["content"], "question 0");
}

#[tokio::test]
async fn rare_and_common_searches_give_the_same_pages() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let calls: Vec<_> = (0..90)
        .map(|m| {
            let output = if m % 3 == 0 {
                format!("refund {m}")
            } else {
                format!("other {m}")
            };
            new_call(&item(
                if m % 2 == 0 { "op_a" } else { "op_b" },
                (m * 37) % 90,
                &output,
            ))
        })
        .collect();
    store.insert_calls(&calls, Utc::now()).await.unwrap();
    // Every search as "common", read in chunks of 7, 14, 28… calls: many chunks per page.
    let common = store.clone().with_rare_search_limit(0).with_search_chunk(7);
    for pairs in [
        vec![("q", "refund"), ("limit", "7")],
        vec![("q", "refund"), ("operation", "op_b"), ("limit", "4")],
        // More than the first chunk holds: PostgreSQL counts the operation's matches and
        // reads them from the index.
        vec![("q", "refund"), ("operation", "op_a"), ("limit", "40")],
        vec![("q", "nowhere"), ("operation", "op_a"), ("limit", "10")],
        vec![("q", "refund"), ("model", "gpt-4o"), ("limit", "4")],
        vec![("q", "question"), ("limit", "25")],
    ] {
        let mut cursor: Option<String> = None;
        loop {
            let mut q = pairs.clone();
            if let Some(c) = &cursor {
                q.push(("cursor", c.as_str()));
            }
            let rare = store.list_calls(&query(&q)).await.unwrap();
            let common_page = common.list_calls(&query(&q)).await.unwrap();
            assert_eq!(rare, common_page, "{q:?}");
            match rare.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    assert_eq!(
        ids(&store, &[("q", "refund"), ("limit", "500")])
            .await
            .len(),
        30
    );
}

#[tokio::test]
async fn a_two_megabyte_output_is_stored_whole_and_found_by_its_words() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    // 2.6 MB of distinct words and one 5,000-letter "word" (an encoded blob).
    let mut output: String = (0..250_000).map(|i| format!("tok{i} ")).collect();
    output.push_str(&"z".repeat(5_000));
    output.push_str(" needle");
    assert!(output.len() > 2_000_000);
    let outcomes = store
        .insert_calls(&[new_call(&item("op_a", 0, &output))], Utc::now())
        .await
        .unwrap();
    let id = created_id(&outcomes[0]);
    let call = store
        .get_call(&uuid::Uuid::parse_str(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.output.len(), output.len(), "stored whole");
    assert_eq!(ids(&store, &[("q", "tok17")]).await, [id.clone()]);
    assert_eq!(ids(&store, &[("q", "question 0")]).await, [id]);
}

async fn insert(store: &Store, items: &[serde_json::Value]) -> Vec<String> {
    let calls: Vec<_> = items.iter().map(new_call).collect();
    store
        .insert_calls(&calls, Utc::now())
        .await
        .unwrap()
        .iter()
        .map(created_id)
        .collect()
}

fn filter(pairs: &[(&str, &str)]) -> CallFilter {
    query(pairs).filter
}

#[tokio::test]
async fn the_queue_draws_each_unreviewed_call_in_the_filter_once_as_they_are_reviewed() {
    let db = TestDb::new().await;
    let store = &db.store;
    let mut items = Vec::new();
    for m in 0..8 {
        let word = if m % 2 == 0 { "refund" } else { "invoice" };
        items.push(item("op_a", m, &format!("{word} answer {m}")));
    }
    for m in 8..12 {
        items.push(item("op_b", m, "refund elsewhere"));
    }
    let ids = insert(store, &items).await;
    // Three of op_a are reviewed already: the queue must never serve them.
    for id in &ids[0..3] {
        review(store, id, 0, Verdict::Correct, &[]).await;
    }

    // Reviewing whatever is drawn, as a reviewer does, empties the queue: every unreviewed
    // call of the filter comes up exactly once, whatever the random points.
    let mut drawn = Vec::new();
    let mut point = 7_919_i64;
    while let Some(id) = store
        .draw_unreviewed(&filter(&[("operation", "op_a")]), point, None, None)
        .await
        .unwrap()
    {
        let id = id.hyphenated().to_string();
        assert!(!drawn.contains(&id), "{id} drawn twice");
        review(store, &id, 0, Verdict::Incorrect, &[]).await;
        drawn.push(id);
        point = point
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
    }
    drawn.sort();
    let mut expected = ids[3..8].to_vec();
    expected.sort();
    assert_eq!(drawn, expected);

    // The verdict in the filter is ignored (the queue is for unreviewed calls); the other
    // filters, search included, narrow the draw.
    for point in [0, 1 << 30, i64::MAX, -5] {
        let id = store
            .draw_unreviewed(
                &filter(&[("q", "refund"), ("verdict", "correct")]),
                point,
                None,
                None,
            )
            .await
            .unwrap()
            .expect("op_b still has unreviewed refund calls")
            .hyphenated()
            .to_string();
        assert!(
            ids[8..].contains(&id),
            "{id} is not an unreviewed refund call"
        );
    }
    assert_eq!(
        store
            .draw_unreviewed(&filter(&[("operation", "op_a")]), 0, None, None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .draw_unreviewed(&filter(&[("operation", "no_such_op")]), 0, None, None)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_skipped_call_comes_back_only_when_nothing_else_is_left() {
    let db = TestDb::new().await;
    let store = &db.store;
    let ids = insert(store, &[item("op", 1, "one"), item("op", 2, "two")]).await;
    let first = uuid::Uuid::parse_str(&ids[0]).unwrap();
    let second = uuid::Uuid::parse_str(&ids[1]).unwrap();
    for point in [0, 1 << 20, 1 << 30, (1 << 31) - 1] {
        let drawn = store
            .draw_unreviewed(&CallFilter::default(), point, Some(first), None)
            .await
            .unwrap();
        assert_eq!(drawn, Some(second));
    }
    review(store, &ids[1], 0, Verdict::Correct, &[]).await;
    let drawn = store
        .draw_unreviewed(&CallFilter::default(), 99, Some(first), None)
        .await
        .unwrap();
    assert_eq!(drawn, Some(first));
}

#[tokio::test]
async fn a_reviewer_is_not_served_a_call_again_the_day_they_skipped_it_others_are() {
    use redline::model::skips::{skips_line, SkipReason};
    let db = TestDb::new().await;
    let store = &db.store;
    let ids = insert(store, &[item("op", 1, "one"), item("op", 2, "two")]).await;
    let first = uuid::Uuid::parse_str(&ids[0]).unwrap();
    let second = uuid::Uuid::parse_str(&ids[1]).unwrap();
    let morning = chrono::DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let noon = morning + chrono::Duration::hours(4);
    let tomorrow = morning + chrono::Duration::days(1);
    store
        .record_skip(
            &first,
            "ana",
            Some(SkipReason::NeedsDomainKnowledge),
            morning,
        )
        .await
        .unwrap();
    // Skipped again the same day (a double click, a reload): counted once.
    store
        .record_skip(&first, "ana", Some(SkipReason::Other), noon)
        .await
        .unwrap();
    store
        .record_skip(&first, "ben", Some(SkipReason::UnclearInput), noon)
        .await
        .unwrap();
    for point in [0, 1 << 20, 1 << 30, (1 << 31) - 1] {
        let for_ana = store
            .draw_unreviewed(&CallFilter::default(), point, None, Some(("ana", noon)))
            .await
            .unwrap();
        assert_eq!(for_ana, Some(second), "ana skipped the first call today");
    }
    // Once the rest is reviewed, ana's queue is empty, not her skipped call again ...
    review(store, &ids[1], 0, Verdict::Correct, &[]).await;
    let all = CallFilter::default();
    let drawn = |who: &'static str, at| store.draw_unreviewed(&all, 5, None, Some((who, at)));
    assert_eq!(drawn("ana", noon).await.unwrap(), None);
    // ... while a colleague who did not skip it is served it, and so is ana the next day.
    assert_eq!(drawn("cleo", noon).await.unwrap(), Some(first));
    assert_eq!(drawn("ana", tomorrow).await.unwrap(), Some(first));

    let call = store.get_call(&first).await.unwrap().unwrap();
    assert_eq!(
        skips_line(&call.skips).as_deref(),
        Some("skipped 2×: needs domain knowledge, unclear input")
    );
    let summary = store.skip_summary("op").await.unwrap();
    assert_eq!(summary.skips, 2);
    assert_eq!(
        summary.by_reviewer,
        vec![("ana".to_string(), 1), ("ben".to_string(), 1)]
    );
    assert_eq!(summary.sampled, 0);
}

#[tokio::test]
async fn next_in_feed_walks_the_filtered_feed_newest_first() {
    let db = TestDb::new().await;
    let store = &db.store;
    let ids = insert(
        store,
        &[
            item("op", 1, "oldest"),
            item("op", 2, "middle"),
            item("other", 3, "elsewhere"),
            item("op", 4, "newest"),
        ],
    )
    .await;
    let id = |i: usize| uuid::Uuid::parse_str(&ids[i]).unwrap();
    let op = filter(&[("operation", "op")]);
    assert_eq!(store.next_in_feed(&op, &id(3)).await.unwrap(), Some(id(1)));
    assert_eq!(store.next_in_feed(&op, &id(1)).await.unwrap(), Some(id(0)));
    assert_eq!(store.next_in_feed(&op, &id(0)).await.unwrap(), None);
    // Without a filter the other operation's call is in between.
    assert_eq!(
        store
            .next_in_feed(&CallFilter::default(), &id(3))
            .await
            .unwrap(),
        Some(id(2))
    );
    // Reviewed calls drop out of the unreviewed feed: its next skips them.
    review(store, &ids[1], 0, Verdict::Correct, &[]).await;
    let unreviewed = filter(&[("operation", "op"), ("verdict", "unreviewed")]);
    assert_eq!(
        store.next_in_feed(&unreviewed, &id(3)).await.unwrap(),
        Some(id(0))
    );
    assert_eq!(
        store
            .next_in_feed(&op, &uuid::Uuid::now_v7())
            .await
            .unwrap(),
        None
    );
    // `k` on a call page walks the same feed back up, to the newer call.
    assert_eq!(store.newer_in_feed(&op, &id(0)).await.unwrap(), Some(id(1)));
    assert_eq!(store.newer_in_feed(&op, &id(1)).await.unwrap(), Some(id(3)));
    assert_eq!(store.newer_in_feed(&op, &id(3)).await.unwrap(), None);
    assert_eq!(
        store
            .newer_in_feed(&CallFilter::default(), &id(1))
            .await
            .unwrap(),
        Some(id(2))
    );
    assert_eq!(
        store.newer_in_feed(&unreviewed, &id(0)).await.unwrap(),
        Some(id(3))
    );
    let searched = filter(&[("q", "newest")]);
    assert_eq!(
        store.newer_in_feed(&searched, &id(0)).await.unwrap(),
        Some(id(3))
    );
}

#[tokio::test]
async fn the_feed_filters_by_reviewer_and_lists_everyone_who_reviewed() {
    let db = TestDb::new().await;
    let store = &db.store;
    let calls = insert(
        store,
        &[item("op", 1, "a"), item("op", 2, "b"), item("op", 3, "c")],
    )
    .await;
    review(store, &calls[0], 0, Verdict::Correct, &[]).await;
    let by_bob = ReviewInput {
        call_id: uuid::Uuid::parse_str(&calls[1]).unwrap(),
        base_revision: 0,
        reviewer: "bob".into(),
        verdict: Verdict::Incorrect,
        corrected_output: Some("better".into()),
        tags: vec!["format".into()],
        note: String::new(),
        sampled: true,
    };
    store.save_reviews(&[by_bob], Utc::now()).await.unwrap();
    assert_eq!(
        ids(store, &[("reviewer", "bob")]).await,
        vec![calls[1].clone()]
    );
    assert_eq!(
        ids(store, &[("reviewer", "alice")]).await,
        vec![calls[0].clone()]
    );
    assert!(ids(store, &[("reviewer", "carol")]).await.is_empty());
    let counts = store
        .count_verdicts(&filter(&[("reviewer", "bob")]))
        .await
        .unwrap();
    assert_eq!(
        (counts.incorrect, counts.correct, counts.unreviewed),
        (1, 0, 0)
    );
    let choices = store.filter_choices().await.unwrap();
    assert_eq!(choices.reviewers, vec!["alice", "bob"]);
    // Without a list, the call page offers the tags reviewers used, as unlisted.
    let call = store
        .get_call(&uuid::Uuid::parse_str(&calls[2]).unwrap())
        .await
        .unwrap()
        .unwrap();
    let offered: Vec<(&str, bool)> = call
        .operation_tags
        .iter()
        .map(|t| (t.name.as_str(), t.listed))
        .collect();
    assert_eq!(offered, vec![("format", false)]);
    let sampled = store
        .get_call(&uuid::Uuid::parse_str(&calls[1]).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(sampled.review.expect("reviewed").sampled);
}

/// Calls in many scripts, each findable by its own words on both backends, and searches
/// in every script never fail.
#[tokio::test]
async fn search_finds_words_in_every_script() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let texts = [
        ("hindi", "ग्राहक को किताब चाहिए, हिन्दी में"),
        ("thai", "ลูกค้าขอคืนเงินค่าสินค้า"),
        ("arabic", "أُرِيدُ اِسْتِرْدَادَ المَبْلَغِ"),
        ("hebrew", "שָׁלוֹם, אֲנִי רוֹצֶה הֶחְזֵר"),
        ("korean", "환불을 요청합니다"),
        ("japanese", "東京の天気は晴れです"),
        ("emoji", "great job 🎉 thanks 👍🏽"),
    ];
    let calls: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, (_, text))| new_call(&item("op_script", i as i64, text)))
        .collect();
    let outcomes = store.insert_calls(&calls, Utc::now()).await.unwrap();
    let id_of = |name: &str| {
        let i = texts.iter().position(|(n, _)| *n == name).unwrap();
        created_id(&outcomes[i])
    };
    for (name, text) in [
        ("hindi", "किताब"),
        ("hindi", "हिन्दी"),
        ("thai", "คืนเงิน"),
        ("thai", "สินค้า"),
        ("arabic", "اِسْتِرْدَادَ"),
        ("hebrew", "שָׁלוֹם"),
        ("korean", "환불을"),
        ("japanese", "天気"),
        ("japanese", "東京 晴れ"),
        ("emoji", "🎉"),
        ("emoji", "👍"),
    ] {
        for scope in [None, Some("op_script")] {
            let mut pairs = vec![("q", text)];
            if let Some(op) = scope {
                pairs.push(("operation", op));
            }
            let found = store
                .list_calls(&query(&pairs))
                .await
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            let found: Vec<String> = found.calls.into_iter().map(|c| c.id).collect();
            assert_eq!(found, [id_of(name)], "{text} (operation {scope:?})");
        }
    }
    // Words that occur nowhere find nothing, and never fail.
    for text in ["पुस्तक", "大阪", "ร้านอาหาร", "🍕", "पुस्त*", "大*"]
    {
        let found = store.list_calls(&query(&[("q", text)])).await;
        assert!(
            matches!(&found, Ok(page) if page.calls.is_empty()),
            "{text}: {found:?}"
        );
    }
}

/// A migration that changes the word rules leaves a mark; the next start writes every
/// search document again, and searches find what they found before.
#[tokio::test]
async fn search_documents_are_rewritten_after_the_word_rules_change() {
    let db = TestDb::new().await;
    let calls: Vec<_> = (0..5)
        .map(|i| new_call(&item("op_re", i, &format!("refund किताब number{i}"))))
        .collect();
    db.store.insert_calls(&calls, Utc::now()).await.unwrap();
    assert_eq!(ids(&db.store, &[("q", "किताब")]).await.len(), 5);
    let emptied = match common::backend() {
        common::Backend::Sqlite => "DELETE FROM calls_fts",
        common::Backend::Postgres => "UPDATE calls SET search = CAST('' AS tsvector)",
    };
    common::raw_statement(&db, emptied).await.unwrap();
    common::raw_statement(&db, "INSERT INTO search_rebuild (after_seq) VALUES (0)")
        .await
        .unwrap();
    assert!(
        ids(&db.store, &[("q", "refund")]).await.is_empty(),
        "the index was emptied"
    );
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(ids(&reopened, &[("q", "किताब")]).await.len(), 5);
    assert_eq!(
        ids(&reopened, &[("q", "number3"), ("operation", "op_re")])
            .await
            .len(),
        1
    );
    assert_eq!(
        reopened.rebuild_search_documents().await.unwrap(),
        0,
        "done once"
    );
}

/// A common-word search under a filter that leaves few matches stops after its walk budget:
/// the page says how far back it looked, and its cursor goes on from there until the match
/// is found, without gaps or repeats.
#[tokio::test]
async fn a_search_walk_stops_at_its_budget_and_the_next_page_goes_on() {
    let db = TestDb::new().await;
    let mut calls: Vec<_> = (0..40)
        .map(|i| new_call(&item("op_walk", i + 10, &format!("common filler {i}"))))
        .collect();
    calls.push(new_call(&item("op_walk", 0, "common needle")));
    db.store.insert_calls(&calls, Utc::now()).await.unwrap();
    let store = db
        .store
        .clone()
        .with_rare_search_limit(0)
        .with_search_chunk(4)
        .with_search_walk_max(12);
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut stops = 0;
    loop {
        let mut pairs = vec![("q", "common"), ("limit", "50")];
        if let Some(c) = &cursor {
            pairs.push(("cursor", c.as_str()));
        }
        let page = store.list_calls(&query(&pairs)).await.unwrap();
        if page.searched_back_to.is_some() {
            stops += 1;
        }
        seen.extend(page.calls.into_iter().map(|c| c.output_preview));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // PostgreSQL bounds its walk and reads the rest from its index (pg_search_keys): it
    // never stops early.
    let expected_stops = match common::backend() {
        common::Backend::Sqlite => 3,
        common::Backend::Postgres => 0,
    };
    assert_eq!(stops, expected_stops, "41 calls in walks of 12");
    assert_eq!(seen.len(), 41, "every match once: {seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("common needle"));
}

/// A search past its deadline is stopped and says so; the same search with time to spare
/// answers, and the reader it used serves other reads afterwards.
#[tokio::test]
async fn a_search_past_its_deadline_is_stopped_and_its_reader_serves_on() {
    let db = TestDb::new().await;
    let calls: Vec<_> = (0..3_000)
        .map(|i| new_call(&item("op_slow", i, &format!("common words here {i}"))))
        .collect();
    for chunk in calls.chunks(500) {
        db.store.insert_calls(chunk, Utc::now()).await.unwrap();
    }
    let search = query(&[("q", "common wor*"), ("limit", "500")]);
    let stopped = db
        .store
        .clone()
        .with_search_deadline(std::time::Duration::ZERO)
        .with_rare_search_limit(100_000);
    let error = stopped.list_calls(&search).await.expect_err("stopped");
    assert!(error.is_stopped(), "{error}");
    let error = stopped
        .count_verdicts(&search.filter)
        .await
        .expect_err("stopped");
    assert!(error.is_stopped(), "{error}");
    // Every reader still works, without a deadline left behind on it.
    for _ in 0..8 {
        let page = db.store.list_calls(&search).await.unwrap();
        assert_eq!(page.calls.len(), 500);
    }
}

/// A small deterministic generator, so a failing mix can be replayed.
struct Mix(u64);

impl Mix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn rollups_kept_by_saves_equal_rollups_rebuilt_from_the_calls() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let mut mix = Mix(7);
    let calls: Vec<_> = (0..80)
        .map(|i| {
            let mut value = item(["op_a", "op_b"][i % 2], (i as i64) * 700, "an answer");
            value = with(value, "model_version", json!(["v1", "v2", "v3"][i % 3]));
            value = with(value, "cost_usd", json!(0.000_123_4 * (1 + i % 5) as f64));
            if i % 7 == 0 {
                value = with(value, "cost_usd", json!(null));
                value = with(value, "latency_ms", json!(null));
            }
            new_call(&value)
        })
        .collect();
    let ids: Vec<String> = store
        .insert_calls(&calls, Utc::now())
        .await
        .unwrap()
        .iter()
        .map(created_id)
        .collect();

    // Reviews, re-reviews, restores of an earlier revision, sampled and not, with tags.
    let mut revisions: Vec<Vec<(Verdict, Vec<&str>)>> = vec![Vec::new(); ids.len()];
    let tags = ["wrong_amount", "missing_field", "tone"];
    for _ in 0..400 {
        let call = mix.below(40) as usize * 2 + mix.below(2) as usize;
        let history = &revisions[call];
        let (verdict, chosen) = if !history.is_empty() && mix.below(5) == 0 {
            history[mix.below(history.len() as u64) as usize].clone()
        } else if mix.below(2) == 0 {
            (Verdict::Correct, Vec::new())
        } else {
            let chosen = tags.iter().filter(|_| mix.below(2) == 0).copied().collect();
            (Verdict::Incorrect, chosen)
        };
        let input = ReviewInput {
            call_id: uuid::Uuid::parse_str(&ids[call]).unwrap(),
            base_revision: history.len() as i64,
            reviewer: ["alice", "bob"][mix.below(2) as usize].into(),
            verdict,
            corrected_output: (verdict == Verdict::Incorrect).then(|| "fixed".to_string()),
            tags: chosen.iter().map(|t| t.to_string()).collect(),
            note: String::new(),
            sampled: mix.below(3) == 0,
        };
        let outcome = store.save_reviews(&[input], Utc::now()).await.unwrap();
        assert!(matches!(outcome[0], SaveOutcome::Saved { .. }));
        revisions[call].push((verdict, chosen));
    }

    let kept = store.rollup_rows().await.unwrap();
    for kind in ["calls", "tags", "costs", "tallies"] {
        assert!(
            kept.iter().any(|row| row.starts_with(kind)),
            "no {kind} rows"
        );
    }
    // The pivoted tallies the trends pages read say what the counts say, cell by cell.
    let numbers = |row: &str| -> Vec<i64> {
        row.split(['(', ')', ','])
            .filter_map(|f| match f.trim() {
                "true" => Some(1),
                "false" => Some(0),
                other => other.parse().ok(),
            })
            .collect()
    };
    let mut pivoted = std::collections::BTreeMap::<(i64, i64, i64), [i64; 5]>::new();
    for row in kept.iter().filter(|r| r.starts_with("calls ")) {
        let [op, model, day, verdict, sampled, n] = numbers(row)[..] else {
            panic!("{row}")
        };
        let cell = pivoted.entry((op, model, day)).or_default();
        cell[0] += n;
        cell[1] += if sampled == 1 && verdict == 1 { n } else { 0 };
        cell[2] += if sampled == 1 && verdict == 2 { n } else { 0 };
        cell[3] += if verdict == 1 { n } else { 0 };
        cell[4] += if verdict == 2 { n } else { 0 };
    }
    let tallies: std::collections::BTreeMap<(i64, i64, i64), [i64; 5]> = kept
        .iter()
        .filter(|r| r.starts_with("tallies "))
        .map(|row| match numbers(row)[..] {
            [op, model, day, a, b, c, d, e] => ((op, model, day), [a, b, c, d, e]),
            _ => panic!("{row}"),
        })
        .collect();
    assert_eq!(tallies, pivoted);
    let report = store.rebuild_rollups().await.unwrap();
    assert_eq!(report.corrected, 0, "the saves kept the rollups exactly");
    assert_eq!(store.rollup_rows().await.unwrap(), kept);
    assert_eq!(report.rows, kept.len());

    // A rollup that drifted is found and put right.
    common::raw_statement(&db, "UPDATE call_counts SET n = n + 1 WHERE verdict = 1")
        .await
        .unwrap();
    let report = store.rebuild_rollups().await.unwrap();
    assert!(report.corrected > 0);
    assert_eq!(store.rollup_rows().await.unwrap(), kept);
}
