//! Review revisions: append-only, each naming the revision it was based on, with the call's
//! current verdict, tags and the daily counters updated in the same transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::accounts::audit_insert;
use super::counts::{count_change, tag_change};
use super::{Dialect, NewAudit, Sql, Store, StoreResult, Tx, DAY_MICROS};
pub use crate::model::review::SaveOutcome;
use crate::model::Verdict;

/// A review to append. `base_revision` is the revision the reviewer saw (0: none yet).
#[derive(Clone, Debug)]
pub struct ReviewInput {
    pub call_id: uuid::Uuid,
    pub base_revision: i64,
    pub reviewer: String,
    pub verdict: Verdict,
    pub corrected_output: Option<String>,
    pub tags: Vec<String>,
    pub note: String,
    pub sampled: bool,
}

impl Store {
    /// Appends one person's review and, when it is stored, the audit entry `audit` makes of
    /// its revision, in one transaction: a review is never stored without its entry. A
    /// conflict carries the review that was saved since.
    pub async fn save_review(
        &self,
        review: &ReviewInput,
        audit: impl FnOnce(i64) -> NewAudit,
        now: DateTime<Utc>,
    ) -> StoreResult<SaveOutcome> {
        let mut tx = self.db.begin().await?;
        let outcome = save_one(&mut tx, review, now.timestamp_micros()).await?;
        match outcome {
            SaveOutcome::Saved { revision } => {
                tx.execute(&audit_insert(&audit(revision), now)).await?;
                tx.commit().await?;
                Ok(outcome)
            }
            SaveOutcome::Conflict {
                base_revision,
                current_revision,
                ..
            } => {
                drop(tx);
                let current = self.get_call(&review.call_id).await?.and_then(|c| c.review);
                Ok(SaveOutcome::Conflict {
                    base_revision,
                    current_revision,
                    current,
                })
            }
            other => Ok(other),
        }
    }

    /// Appends reviews in one transaction, unaudited (the demo loader saves thousands at
    /// once); conflicts come without the current review.
    pub async fn save_reviews(
        &self,
        reviews: &[ReviewInput],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SaveOutcome>> {
        let mut tx = self.db.begin().await?;
        let mut outcomes = Vec::with_capacity(reviews.len());
        for review in reviews {
            outcomes.push(save_one(&mut tx, review, now.timestamp_micros()).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

async fn save_one(tx: &mut Tx, review: &ReviewInput, now: i64) -> StoreResult<SaveOutcome> {
    let mut read = Sql::new(
        "SELECT seq, operation_id, model_id, created_at, verdict, sampled, review_revision FROM calls WHERE id = $1",
    )
    .arg(review.call_id);
    if tx.dialect() == Dialect::Postgres {
        // Two saves on the same revision must not both pass the check below: the row lock
        // makes the second wait and then see the first's revision. (SQLite's single writer
        // already runs save transactions one at a time.)
        read.push(" FOR UPDATE");
    }
    let Some((seq, operation_id, model_id, created_at, old_verdict, old_sampled, current)) = tx
        .optional::<(i64, i64, i64, i64, i64, bool, i64)>(&read)
        .await?
    else {
        return Ok(SaveOutcome::NotFound);
    };
    if current != review.base_revision {
        return Ok(SaveOutcome::Conflict {
            base_revision: review.base_revision,
            current_revision: current,
            current: None,
        });
    }
    let revision = current + 1;
    // Once a random draw brought the call to a reviewer it stays in the sample, whoever
    // reviews it next: the draw, not the later label, decides membership.
    let sampled = old_sampled || review.sampled;
    let tags = serde_json::to_string(&review.tags).unwrap_or_else(|_| "[]".into());
    tx.execute(
        &Sql::new(
            "INSERT INTO reviews (call_seq, revision, reviewer, verdict, corrected_output, tags, note, sampled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .arg(seq)
        .arg(revision)
        .arg(&review.reviewer)
        .arg(review.verdict.code())
        .arg(review.corrected_output.as_deref())
        .arg(tags)
        .arg(&review.note)
        .arg(review.sampled)
        .arg(now),
    )
    .await?;
    tx.execute(
        &Sql::new(
            "UPDATE calls SET verdict = $2, review_revision = $3, reviewer = $4, sampled = $5 WHERE seq = $1",
        )
        .arg(seq)
        .arg(review.verdict.code())
        .arg(revision)
        .arg(&review.reviewer)
        .arg(sampled),
    )
    .await?;

    let day = created_at.div_euclid(DAY_MICROS);
    let old = (old_verdict, old_sampled);
    let new = (review.verdict.code(), sampled);
    if old != new {
        let mut changes = [(old, -1i64), (new, 1)];
        // Counter rows in a fixed order: concurrent saves lock them alike and cannot deadlock.
        changes.sort();
        for (key, delta) in changes {
            tx.execute(&count_change(operation_id, model_id, day, key, delta))
                .await?;
        }
    }

    tx.execute(
        &Sql::new("INSERT INTO reviewers (name) VALUES ($1) ON CONFLICT DO NOTHING")
            .arg(&review.reviewer),
    )
    .await?;
    let old_tags = current_tag_ids(tx, seq).await?;
    tx.execute(&Sql::new("DELETE FROM call_tags WHERE call_seq = $1").arg(seq))
        .await?;
    let mut tags: Vec<&String> = review.tags.iter().collect();
    tags.sort();
    tags.dedup();
    for tag in tags {
        tx.execute(
            &Sql::new(
                "INSERT INTO tags (operation_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .arg(operation_id)
            .arg(tag),
        )
        .await?;
        tx.execute(
            &Sql::new(
                "INSERT INTO call_tags (tag_id, call_seq)
                 SELECT coalesce(alias_of, id), $3 FROM tags WHERE operation_id = $1 AND name = $2
                 ON CONFLICT DO NOTHING",
            )
            .arg(operation_id)
            .arg(tag)
            .arg(seq),
        )
        .await?;
    }
    let new_tags = current_tag_ids(tx, seq).await?;

    // The failure-tag counters hold incorrect calls only.
    let mut tag_deltas: BTreeMap<(bool, i64), i64> = BTreeMap::new();
    if old_verdict == Verdict::Incorrect.code() {
        for tag in old_tags {
            *tag_deltas.entry((old_sampled, tag)).or_default() -= 1;
        }
    }
    if review.verdict == Verdict::Incorrect {
        for tag in new_tags {
            *tag_deltas.entry((sampled, tag)).or_default() += 1;
        }
    }
    for (key, delta) in tag_deltas {
        if delta != 0 {
            tx.execute(&tag_change(operation_id, model_id, day, key, delta))
                .await?;
        }
    }
    Ok(SaveOutcome::Saved { revision })
}

async fn current_tag_ids(tx: &mut Tx, seq: i64) -> StoreResult<Vec<i64>> {
    let ids: Vec<(i64,)> = tx
        .all(&Sql::new("SELECT tag_id FROM call_tags WHERE call_seq = $1").arg(seq))
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
