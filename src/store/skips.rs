//! Calls a reviewer passed over in the review queue: recorded once per call, reviewer and
//! UTC day with the reason chosen, counted on the call page and for the operation's leads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Sql, Store, StoreResult};
use crate::model::skips::{SkipCount, SkipReason, SkipSummary};

/// The start of the UTC day of `now`, in microseconds: a skip keeps a call from its reviewer
/// until then plus a day.
pub fn day_start(now: DateTime<Utc>) -> i64 {
    const DAY: i64 = 86_400_000_000;
    now.timestamp_micros().div_euclid(DAY) * DAY
}

impl Store {
    /// Records that `reviewer` skipped call `id` at `now` for `reason`. A second skip of the
    /// same call by the same reviewer on the same UTC day is not counted again. An unknown
    /// id, or a call reviewed meanwhile, records nothing.
    pub async fn record_skip(
        &self,
        id: &Uuid,
        reviewer: &str,
        reason: Option<SkipReason>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.db
            .execute(
                &Sql::new(
                    "INSERT INTO skips (call_seq, reviewer, reason, skipped_at) \
                     SELECT c.seq, $1, $2, $3 FROM calls c WHERE c.id = $4 AND c.verdict = 0 AND NOT EXISTS \
                     (SELECT 1 FROM skips s WHERE s.call_seq = c.seq AND s.reviewer = $5 \
                      AND s.skipped_at >= $6)",
                )
                .arg(reviewer)
                .arg(reason.map(SkipReason::as_str))
                .arg(now.timestamp_micros())
                .arg(*id)
                .arg(reviewer)
                .arg(day_start(now)),
            )
            .await?;
        Ok(())
    }

    /// How often call `seq` was skipped, by reason.
    pub(super) async fn call_skips(&self, seq: i64) -> StoreResult<Vec<SkipCount>> {
        let rows: Vec<(Option<String>, i64)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT reason, count(*) FROM skips WHERE call_seq = $1 GROUP BY reason \
                     ORDER BY count(*) DESC, reason",
                )
                .arg(seq),
            )
            .await?;
        Ok(counts(rows))
    }

    /// Skips of the calls of operation `operation`, by reason and by reviewer, and how
    /// many of its calls have a sampled review.
    pub async fn skip_summary(&self, operation: &str) -> StoreResult<SkipSummary> {
        let by_reason: Vec<(Option<String>, i64)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT s.reason, count(*) FROM skips s JOIN calls c ON c.seq = s.call_seq \
                     WHERE c.operation_id = (SELECT id FROM operations WHERE name = $1) GROUP BY s.reason ORDER BY count(*) DESC, s.reason",
                )
                .arg(operation),
            )
            .await?;
        let by_reviewer: Vec<(String, i64)> = self
            .db
            .all(
                &Sql::new(
                    "SELECT s.reviewer, count(*) FROM skips s JOIN calls c ON c.seq = s.call_seq \
                     WHERE c.operation_id = (SELECT id FROM operations WHERE name = $1) GROUP BY s.reviewer \
                     ORDER BY count(*) DESC, s.reviewer LIMIT 50",
                )
                .arg(operation),
            )
            .await?;
        let (sampled, sampled_correct): (i64, i64) = self
            .db
            .optional(
                &Sql::new(
                    "SELECT count(*), CAST(coalesce(sum(CASE WHEN c.verdict = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
                     FROM calls c WHERE c.operation_id = (SELECT id FROM operations WHERE name = $1) \
                     AND EXISTS (SELECT 1 FROM reviews r WHERE r.call_seq = c.seq AND r.sampled)",
                )
                .arg(operation),
            )
            .await?
            .unwrap_or_default();
        let by_reason = counts(by_reason);
        Ok(SkipSummary {
            skips: by_reason.iter().map(|c| c.count).sum(),
            sampled,
            sampled_correct,
            by_reason,
            by_reviewer,
        })
    }
}

/// Reason counts as read; a reason this version does not know counts as none given.
fn counts(rows: Vec<(Option<String>, i64)>) -> Vec<SkipCount> {
    rows.into_iter()
        .map(|(reason, count)| SkipCount {
            reason: reason.as_deref().and_then(SkipReason::parse),
            count,
        })
        .collect()
}
