//! Review revisions: append-only, each naming the revision it was based on, with the call's
//! current verdict, tags and the daily counters updated in the same transaction.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Store, StoreResult, DAY_MICROS};
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

/// What became of one review save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved {
        revision: i64,
    },
    /// Someone saved since `base_revision`; nothing was written.
    Conflict {
        current_revision: i64,
    },
    NotFound,
}

impl Store {
    /// Appends reviews in one transaction (the demo loader saves thousands at once).
    pub async fn save_reviews(
        &self,
        reviews: &[ReviewInput],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SaveOutcome>> {
        let mut tx = self.write.begin().await?;
        let mut outcomes = Vec::with_capacity(reviews.len());
        for review in reviews {
            outcomes.push(save_one(&mut tx, review, now.timestamp_micros()).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

async fn save_one(
    conn: &mut SqliteConnection,
    review: &ReviewInput,
    now: i64,
) -> StoreResult<SaveOutcome> {
    let call: Option<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT seq, operation_id, model_id, created_at, verdict, review_revision FROM calls WHERE id = ?1",
    )
    .bind(review.call_id.as_bytes().to_vec())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((seq, operation_id, model_id, created_at, old_verdict, current)) = call else {
        return Ok(SaveOutcome::NotFound);
    };
    if current != review.base_revision {
        return Ok(SaveOutcome::Conflict {
            current_revision: current,
        });
    }
    let revision = current + 1;
    let tags = serde_json::to_string(&review.tags).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO reviews (call_seq, revision, reviewer, verdict, corrected_output, tags, note, sampled, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(seq)
    .bind(revision)
    .bind(&review.reviewer)
    .bind(review.verdict.code())
    .bind(review.corrected_output.as_deref())
    .bind(tags)
    .bind(&review.note)
    .bind(review.sampled)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE calls SET verdict = ?2, review_revision = ?3, reviewer = ?4 WHERE seq = ?1",
    )
    .bind(seq)
    .bind(review.verdict.code())
    .bind(revision)
    .bind(&review.reviewer)
    .execute(&mut *conn)
    .await?;

    let day = created_at.div_euclid(DAY_MICROS);
    for (verdict, delta) in [(old_verdict, -1i64), (review.verdict.code(), 1)] {
        sqlx::query(
            "INSERT INTO call_counts (operation_id, model_id, day, verdict, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )
        .bind(operation_id)
        .bind(model_id)
        .bind(day)
        .bind(verdict)
        .bind(delta)
        .execute(&mut *conn)
        .await?;
    }

    sqlx::query("DELETE FROM call_tags WHERE call_seq = ?1")
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    for tag in &review.tags {
        sqlx::query("INSERT INTO tags (operation_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            .bind(operation_id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT OR IGNORE INTO call_tags (tag_id, call_seq)
             SELECT id, ?3 FROM tags WHERE operation_id = ?1 AND name = ?2",
        )
        .bind(operation_id)
        .bind(tag)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(SaveOutcome::Saved { revision })
}
