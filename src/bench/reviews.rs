//! Review saves (`reviewing::save_review` without HTTP: validation, the stale check, the
//! append, counters, tags and the audit entry) and the review queue's random draws.

use std::time::Instant;

use chrono::Utc;

use super::queries::{parse, VERSIONS};
use super::{percentiles, AnyError, Report};
use crate::jobs::demo::Rng;
use crate::model::Verdict;
use crate::store::Store;

/// Reviews stored before saves and draws are timed (and before trends are read).
pub(super) const REVIEWS: usize = 200_000;

/// Stores `REVIEWS` reviews on calls drawn by the queue (untimed, 1,000 per transaction), then
/// times the save a reviewer makes (validation, the stale-revision check, the append, the
/// counters and tags, the audit entry: `reviewing::save_review` without HTTP) and the queue's
/// random draw of an unreviewed call.
pub(super) async fn measure(
    store: &Store,
    calls: usize,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    use crate::auth::{Caller, ClientAddress, Person};
    use crate::model::auth::Role;
    use crate::model::review::ReviewSubmission;
    use crate::model::CallFilter;
    use crate::reviewing::save_review;
    use crate::store::ReviewInput;

    let mut rng = Rng::new(11);
    let seeding = Instant::now();
    // One call in five reviewed (200,000 at a million calls), leaving most for the draws.
    let wanted = REVIEWS.min(calls / 5);
    let mut seeded = 0;
    while seeded < wanted {
        let mut batch = Vec::with_capacity(1_000);
        let mut ids = std::collections::HashSet::new();
        for _ in 0..1_000.min(wanted - seeded) {
            let Some(id) = store
                .draw_unreviewed(&CallFilter::default(), rng.next_u64() as i64, None, None)
                .await?
            else {
                break;
            };
            if !ids.insert(id) {
                continue;
            }
            let incorrect = rng.below(4) == 0;
            batch.push(ReviewInput {
                call_id: id,
                base_revision: 0,
                reviewer: format!("bench-reviewer-{}", rng.below(8)),
                verdict: if incorrect {
                    Verdict::Incorrect
                } else {
                    Verdict::Correct
                },
                corrected_output: incorrect.then(|| "A corrected output.".to_string()),
                tags: if incorrect {
                    vec!["format".to_string()]
                } else {
                    Vec::new()
                },
                note: String::new(),
                sampled: true,
            });
        }
        if batch.is_empty() {
            break;
        }
        let outcomes = store.save_reviews(&batch, Utc::now()).await?;
        seeded += outcomes
            .iter()
            .filter(|o| matches!(o, crate::store::SaveOutcome::Saved { .. }))
            .count();
    }
    report.line(format!(
        "### Reviews ({seeded} stored first, in {:.0} s)",
        seeding.elapsed().as_secs_f64()
    ));
    report.line(String::new());
    report.line("| operation | p50 ms | p95 ms | p99 ms | target p95 |".to_string());
    report.line("| --- | ---: | ---: | ---: | --- |".to_string());

    let caller = Caller::Person(Person {
        user_id: 0,
        name: "bench-reviewer".into(),
        role: Role::Reviewer,
        session: String::new(),
        must_change_password: false,
    });
    let address = ClientAddress(Some("127.0.0.1".into()));
    let mut samples_taken = Vec::with_capacity(samples);
    // Timed on a text operation: on a demo database (`--database`), a JSON operation's
    // correction must also match its schema, which a made-up sentence does not.
    let text_operation = CallFilter {
        operation: Some("ticket_summarize".to_string()),
        ..CallFilter::default()
    };
    for i in 0..samples {
        let Some(id) = store
            .draw_unreviewed(&text_operation, rng.next_u64() as i64, None, None)
            .await?
        else {
            break;
        };
        let incorrect = i % 2 == 0;
        let submission = ReviewSubmission {
            verdict: if incorrect { "incorrect" } else { "correct" }.to_string(),
            corrected_output: incorrect.then(|| format!("A corrected output, sample {i}.")),
            tags: if incorrect {
                vec!["wrong_amount".to_string()]
            } else {
                Vec::new()
            },
            note: String::new(),
            base_revision: 0,
        };
        // As the queue does when it serves the call: the draw makes the save sampled.
        store
            .record_draw(&id, "bench-reviewer", chrono::Utc::now())
            .await?;
        let t = Instant::now();
        let saved = save_review(store, &caller, &address, id, submission).await?;
        samples_taken.push(t.elapsed());
        if !matches!(saved, crate::store::SaveOutcome::Saved { .. }) {
            return Err(format!("a timed review save was not stored: {saved:?}").into());
        }
    }
    if samples_taken.is_empty() {
        return Err("no unreviewed call was left to time review saves on".into());
    }
    let (p50, p95, p99) = percentiles(&mut samples_taken);
    report.line(format!(
        "| review save (validation, stale check, append, counters, tags, audit) | {p50:.2} | {p95:.2} | {p99:.2} | ≤ 5 ms |"
    ));

    let filters: [(&str, Vec<(&str, String)>); 3] = [
        ("queue draw, no filter", Vec::new()),
        (
            "queue draw, one operation",
            vec![("operation", "billing_extract".to_string())],
        ),
        (
            "queue draw, operation + model version",
            vec![
                ("operation", "ticket_summarize".to_string()),
                ("model_version", VERSIONS[0].to_string()),
            ],
        ),
    ];
    for (name, pairs) in filters {
        let filter = parse(&pairs).filter;
        let mut taken = Vec::with_capacity(samples);
        for _ in 0..samples {
            let point = rng.next_u64() as i64;
            let t = Instant::now();
            store.draw_unreviewed(&filter, point, None, None).await?;
            taken.push(t.elapsed());
        }
        let (p50, p95, p99) = percentiles(&mut taken);
        report.line(format!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | ≤ 10 ms |"
        ));
    }
    report.line(String::new());
    Ok(())
}
