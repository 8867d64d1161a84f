//! Saving a review, whoever asks (the API with a key, the call page with a session): the
//! rules (the review's own and its operation's), the append-only save with its stale-revision check, and the audit entry.

use chrono::Utc;

use crate::auth::{audit_entry, Caller, ClientAddress};
use crate::model::review::{check_sizes, refuse, validate_review, ReviewSubmission};
use crate::operations::check_review;
use crate::store::{ReviewInput, SaveOutcome, Store, StoreResult};

/// How long a queue draw makes the drawer's review of that call sampled.
pub const DRAW_VALID_HOURS: i64 = 24;

/// Checks a submission, decides whether it is sampled, and appends it with its audit entry
/// in one transaction.
pub async fn save_review(
    store: &Store,
    caller: &Caller,
    address: &ClientAddress,
    call_id: uuid::Uuid,
    submission: ReviewSubmission,
) -> StoreResult<SaveOutcome> {
    // Counts and sizes before anything else, even before the call is read.
    if let Err(error) = check_sizes(&submission) {
        return Ok(SaveOutcome::Invalid(error));
    }
    let Some(call) = store.get_call(&call_id).await? else {
        return Ok(SaveOutcome::NotFound);
    };
    let Some(rules) = store.review_rules(&call.operation).await? else {
        return Ok(SaveOutcome::NotFound);
    };
    // Comparing, parsing and checking a correction of megabytes against a schema is CPU
    // work: the blocking pool does it, so the runtime's threads keep answering requests.
    let (original, kind) = (call.output.clone(), call.output_kind);
    let checked = tokio::task::spawn_blocking(move || {
        let mut review = validate_review(submission, &original, kind)?;
        check_review(&mut review, &rules)?;
        Ok(review)
    })
    .await
    .unwrap_or_else(|_| {
        Err(refuse(
            "corrected_output",
            "the review could not be checked; see the server log",
        ))
    });
    let review = match checked {
        Ok(review) => review,
        Err(error) => return Ok(SaveOutcome::Invalid(error)),
    };
    let reviewer = match caller {
        Caller::Key(owner) => owner.user_name.clone(),
        Caller::Person(person) => person.name.clone(),
        Caller::Anonymous => {
            return Ok(SaveOutcome::Invalid(refuse(
                "reviewer",
                "sign in to review",
            )))
        }
    };
    let now = Utc::now();
    // Sampled: the review queue drew this call for this reviewer (recently). A person who
    // opened the call themselves, or a script, saves an unsampled review whatever it says.
    let sampled = store
        .was_drawn_for(
            call_id,
            &reviewer,
            now - chrono::Duration::hours(DRAW_VALID_HOURS),
        )
        .await?;
    let input = ReviewInput {
        call_id,
        base_revision: review.base_revision,
        reviewer,
        verdict: review.verdict,
        corrected_output: review.corrected_output,
        tags: review.tags,
        note: review.note,
        sampled,
    };
    let summary = format!(
        "{}{}",
        input.verdict.as_str(),
        if input.tags.is_empty() {
            String::new()
        } else {
            format!(", tags {}", input.tags.join(" "))
        }
    );
    let audit = |revision: i64| {
        let detail = format!("revision {revision}, {summary}");
        audit_entry(caller, address, "review.save", call.id.clone(), detail)
    };
    store.save_review(&input, audit, now).await
}
