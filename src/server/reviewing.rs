//! Saving a review, whoever asks (the API with a key, the call page with a session): the
//! rules, the append-only save with its stale-revision check, and the audit entry.

use chrono::Utc;

use super::auth::{audit_entry, Caller, ClientAddress};
use super::store::{ReviewInput, SaveOutcome, Store, StoreResult};
use crate::model::review::{check_sizes, validate_review, ReviewError, ReviewSubmission};
use crate::model::Review;

/// How long a queue draw makes the drawer's review of that call sampled.
pub const DRAW_VALID_HOURS: i64 = 24;

/// What became of a review save.
#[derive(Debug)]
pub enum Saved {
    Created {
        revision: i64,
    },
    /// Someone saved since the submission's base revision; nothing was written.
    Conflict {
        base_revision: i64,
        current_revision: i64,
        current: Option<Review>,
    },
    Invalid(ReviewError),
    NotFound,
}

impl Saved {
    /// The conflict in words: who saved which revision when.
    pub fn conflict_message(base: i64, current_revision: i64, current: Option<&Review>) -> String {
        let who = current
            .map(|r| {
                format!(
                    " by {} at {}",
                    r.reviewer,
                    r.created_at.format("%Y-%m-%d %H:%M:%S UTC")
                )
            })
            .unwrap_or_default();
        format!(
            "this review is based on revision {base}, but revision {current_revision} was saved{who}; nothing was written"
        )
    }
}

pub async fn save_review(
    store: &Store,
    caller: &Caller,
    address: &ClientAddress,
    call_id: uuid::Uuid,
    submission: ReviewSubmission,
) -> StoreResult<Saved> {
    // Counts and sizes before anything else, even before the call is read.
    if let Err(error) = check_sizes(&submission) {
        return Ok(Saved::Invalid(error));
    }
    let Some(call) = store.get_call(&call_id).await? else {
        return Ok(Saved::NotFound);
    };
    // Comparing and parsing a correction of megabytes is CPU work: the blocking pool does it,
    // so the runtime's threads keep answering other requests.
    let (original, kind) = (call.output.clone(), call.output_kind);
    let checked = tokio::task::spawn_blocking(move || validate_review(submission, &original, kind))
        .await
        .unwrap_or_else(|_| {
            Err(ReviewError {
                field: "corrected_output".into(),
                reason: "the review could not be checked; see the server log".into(),
            })
        });
    let review = match checked {
        Ok(review) => review,
        Err(error) => return Ok(Saved::Invalid(error)),
    };
    let reviewer = match caller {
        Caller::Key(owner) => owner.user_name.clone(),
        Caller::Person(person) => person.name.clone(),
        Caller::Anonymous => {
            return Ok(Saved::Invalid(ReviewError {
                field: "reviewer".into(),
                reason: "sign in to review".into(),
            }))
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
    let outcome = store
        .save_reviews(std::slice::from_ref(&input), now)
        .await?;
    Ok(match outcome.into_iter().next() {
        Some(SaveOutcome::Saved { revision }) => {
            let tags = if input.tags.is_empty() {
                String::new()
            } else {
                format!(", tags {}", input.tags.join(" "))
            };
            let detail = format!("revision {revision}, {}{tags}", input.verdict.as_str());
            let target = call.id.clone();
            store
                .audit(
                    &audit_entry(caller, address, "review.save", target, detail),
                    now,
                )
                .await?;
            Saved::Created { revision }
        }
        Some(SaveOutcome::Conflict { current_revision }) => Saved::Conflict {
            base_revision: input.base_revision,
            current_revision,
            current: store.get_call(&call_id).await?.and_then(|c| c.review),
        },
        Some(SaveOutcome::NotFound) | None => Saved::NotFound,
    })
}
