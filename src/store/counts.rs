//! The rollups trends, routing and the feed's counters read instead of the calls:
//! - `call_counts`: calls per operation, model version, UTC day of the call, current verdict
//!   and sampled flag;
//! - `tag_counts`: incorrect calls carrying each failure tag, with the same keys;
//! - `call_costs`: calls, summed cost and latency per operation, model version and day;
//! - `day_tallies`: `call_counts` pivoted to a row per operation, model version and day,
//!   kept by triggers on `call_counts` (what the trends pages sum).
//!
//! Ingest and review saves keep them in their own transactions; [`Store::rebuild_rollups`]
//! recomputes them from the calls and reviews (`redline rollups rebuild`).

use std::collections::BTreeMap;

use super::conditions::{push_in, Resolved};
use super::{Sql, Store, StoreResult, Tx, DAY_MICROS};
use crate::model::CallFilter;

/// The UTC day (days since the Unix epoch) of a call's `created_at`, in SQL. Calls are from
/// after 2000, so integer division is the floor.
const CALL_DAY: &str = "created_at / 86400000000";

/// Adds `n` calls to a per-day counter of one verdict and sampled flag (negative `n` removes).
pub(super) fn count_change(
    operation_id: i64,
    model_id: i64,
    day: i64,
    (verdict, sampled): (i64, bool),
    n: i64,
) -> Sql {
    Sql::new(
        "INSERT INTO call_counts (operation_id, model_id, day, verdict, sampled, n) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (operation_id, model_id, day, verdict, sampled) DO UPDATE SET n = call_counts.n + excluded.n",
    )
    .arg(operation_id)
    .arg(model_id)
    .arg(day)
    .arg(verdict)
    .arg(sampled)
    .arg(n)
}

/// Adds `n` incorrect calls carrying tag `tag_id` to a per-day counter (negative `n` removes).
pub(super) fn tag_change(
    operation_id: i64,
    model_id: i64,
    day: i64,
    (sampled, tag_id): (bool, i64),
    n: i64,
) -> Sql {
    Sql::new(
        "INSERT INTO tag_counts (operation_id, model_id, day, sampled, tag_id, n) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (operation_id, model_id, day, sampled, tag_id) DO UPDATE SET n = tag_counts.n + excluded.n",
    )
    .arg(operation_id)
    .arg(model_id)
    .arg(day)
    .arg(sampled)
    .arg(tag_id)
    .arg(n)
}

/// Adds the calls just inserted (`seqs`, with their operation, model and `created_at`) to
/// the counters as unreviewed, and their cost and latency to `call_costs`.
pub(super) async fn add_to_counts(
    tx: &mut Tx,
    calls: impl Iterator<Item = (i64, i64, i64, i64)>,
) -> StoreResult<()> {
    let mut per_day: BTreeMap<(i64, i64, i64), i64> = BTreeMap::new();
    let mut seqs = Vec::new();
    for (seq, operation_id, model_id, created_at) in calls {
        *per_day
            .entry((operation_id, model_id, created_at.div_euclid(DAY_MICROS)))
            .or_default() += 1;
        seqs.push(seq);
    }
    for ((operation_id, model_id, day), n) in per_day {
        tx.execute(&count_change(operation_id, model_id, day, (0, false), n))
            .await?;
    }
    seqs.sort_unstable();
    for chunk in seqs.chunks(500) {
        let mut sql = costs_of_calls();
        push_in(&mut sql, "seq", chunk);
        sql.push(COSTS_GROUPED);
        tx.execute(&sql).await?;
    }
    Ok(())
}

/// The start of the statement that adds calls' costs to `call_costs`; the caller adds its
/// conditions (`AND …`) and then [`COSTS_GROUPED`]. Computed by the database in both the
/// incremental and the rebuilt path, so both round costs alike.
fn costs_of_calls() -> Sql {
    Sql::new(format!(
        "INSERT INTO call_costs (operation_id, model_id, day, calls, cost_nanos, costed, latency_ms, timed)
         SELECT operation_id, model_id, {CALL_DAY}, count(*),
                coalesce(sum(CAST(round(cost_usd * 1000000000) AS BIGINT)), 0), count(cost_usd),
                coalesce(sum(latency_ms), 0), count(latency_ms)
         FROM calls WHERE 1 = 1"
    ))
}

const COSTS_GROUPED: &str = " GROUP BY 1, 2, 3
    ON CONFLICT (operation_id, model_id, day) DO UPDATE SET
        calls = call_costs.calls + excluded.calls,
        cost_nanos = call_costs.cost_nanos + excluded.cost_nanos,
        costed = call_costs.costed + excluded.costed,
        latency_ms = call_costs.latency_ms + excluded.latency_ms,
        timed = call_costs.timed + excluded.timed";

/// The start of the statement that counts incorrect calls per tag into `tag_counts`; the
/// caller adds its conditions (`AND …`) and the grouping.
fn tags_of_calls() -> Sql {
    Sql::new(
        "INSERT INTO tag_counts (operation_id, model_id, day, sampled, tag_id, n)
         SELECT c.operation_id, c.model_id, c.created_at / 86400000000, c.sampled, ct.tag_id, count(*)
         FROM call_tags ct JOIN calls c ON c.seq = ct.call_seq
         WHERE c.verdict = 2",
    )
}

/// Counts the tags `tag_ids` again from the calls carrying them (after a merge moved calls
/// from one tag to another: a call that carried both now counts once).
pub(super) async fn recount_tags(tx: &mut Tx, tag_ids: &[i64]) -> StoreResult<()> {
    let mut clear = Sql::new("DELETE FROM tag_counts WHERE 1 = 1");
    push_in(&mut clear, "tag_id", tag_ids);
    tx.execute(&clear).await?;
    let mut count = tags_of_calls();
    push_in(&mut count, "ct.tag_id", tag_ids);
    count.push(" GROUP BY 1, 2, 3, 4, 5");
    tx.execute(&count).await?;
    Ok(())
}

/// Every non-empty row of the three rollups, in key order, as text: what a rebuild is
/// compared with.
pub type RollupRows = Vec<String>;

/// What [`Store::rebuild_rollups`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    /// Non-empty rollup rows after the rebuild.
    pub rows: usize,
    /// Rows that were missing, extra or different before it (0: the rollups were right).
    pub corrected: usize,
}

impl Store {
    /// Every non-empty rollup row, in key order (for comparing with a rebuild).
    pub async fn rollup_rows(&self) -> StoreResult<RollupRows> {
        let mut tx = self.db.begin().await?;
        let rows = read_rollups(&mut tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Recomputes the calls' sampled flags and the three rollups from the calls and their
    /// reviews, in one transaction (readers see the old rollups until it commits).
    pub async fn rebuild_rollups(&self) -> StoreResult<RebuildReport> {
        let mut tx = self.db.begin().await?;
        let before = read_rollups(&mut tx).await?;
        tx.execute(&Sql::new(
            "UPDATE calls SET sampled = NOT sampled
             WHERE sampled <> EXISTS (SELECT 1 FROM reviews r WHERE r.call_seq = calls.seq AND r.sampled)",
        ))
        .await?;
        for table in ["call_counts", "tag_counts", "call_costs"] {
            tx.execute(&Sql::new(format!("DELETE FROM {table}")))
                .await?;
        }
        tx.execute(&Sql::new(format!(
            "INSERT INTO call_counts (operation_id, model_id, day, verdict, sampled, n)
             SELECT operation_id, model_id, {CALL_DAY}, verdict, sampled, count(*)
             FROM calls GROUP BY 1, 2, 3, 4, 5"
        )))
        .await?;
        let mut tags = tags_of_calls();
        tags.push(" GROUP BY 1, 2, 3, 4, 5");
        tx.execute(&tags).await?;
        let mut costs = costs_of_calls();
        costs.push(COSTS_GROUPED);
        tx.execute(&costs).await?;
        let after = read_rollups(&mut tx).await?;
        tx.commit().await?;
        Ok(RebuildReport {
            rows: after.len(),
            corrected: differing_rows(&before, &after),
        })
    }
}

/// Rows in one sorted list and not the other.
fn differing_rows(a: &[String], b: &[String]) -> usize {
    let (mut i, mut j, mut differ) = (0, 0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                differ += 1;
                i += 1;
            }
            (Some(_), Some(_)) | (None, Some(_)) => {
                differ += 1;
                j += 1;
            }
            (Some(_), None) => {
                differ += 1;
                i += 1;
            }
            (None, None) => break,
        }
    }
    differ
}

async fn read_rollups(tx: &mut Tx) -> StoreResult<RollupRows> {
    let mut rows = Vec::new();
    let counts: Vec<(i64, i64, i64, i64, bool, i64)> = tx
        .all(&Sql::new(
            "SELECT operation_id, model_id, day, verdict, sampled, n FROM call_counts WHERE n <> 0
             ORDER BY 1, 2, 3, 4, 5",
        ))
        .await?;
    rows.extend(counts.into_iter().map(|r| format!("calls {r:?}")));
    let tags: Vec<(i64, i64, i64, bool, i64, i64)> = tx
        .all(&Sql::new(
            "SELECT operation_id, model_id, day, sampled, tag_id, n FROM tag_counts WHERE n <> 0
             ORDER BY 1, 2, 3, 4, 5",
        ))
        .await?;
    rows.extend(tags.into_iter().map(|r| format!("tags {r:?}")));
    let costs: Vec<(i64, i64, i64, i64, i64, i64, i64, i64)> = tx
        .all(&Sql::new(
            "SELECT operation_id, model_id, day, calls, cost_nanos, costed, latency_ms, timed
             FROM call_costs WHERE calls <> 0 ORDER BY 1, 2, 3",
        ))
        .await?;
    rows.extend(costs.into_iter().map(|r| format!("costs {r:?}")));
    // Kept by triggers on `call_counts` (migrations 0014/0016), so a rebuild rewrites it too.
    let tallies: Vec<(i64, i64, i64, i64, i64, i64, i64, i64)> = tx
        .all(&Sql::new(
            "SELECT operation_id, model_id, day, calls, sampled_correct, sampled_incorrect,
                    all_correct, all_incorrect
             FROM day_tallies WHERE calls <> 0 ORDER BY 1, 2, 3",
        ))
        .await?;
    rows.extend(tallies.into_iter().map(|r| format!("tallies {r:?}")));
    rows.sort();
    Ok(rows)
}

/// Whether the counters can answer for `filter`: no search, tag or reviewer, and a date range
/// (if any) on whole days.
pub(super) fn counts_answer(filter: &CallFilter) -> bool {
    filter.q.is_none()
        && filter.tag.is_none()
        && filter.reviewer.is_none()
        && filter.from.as_ref().is_none_or(|b| b.is_midnight())
        && filter.to.as_ref().is_none_or(|b| b.is_midnight())
}

/// Calls per verdict under `filter` from the counters (see `counts_answer`).
pub(super) fn verdict_totals(filter: &CallFilter, resolved: &Resolved) -> Sql {
    let mut sql = Sql::new("SELECT verdict, CAST(sum(n) AS BIGINT) FROM call_counts WHERE 1 = 1");
    if let Some(id) = resolved.operation_id() {
        sql.push(" AND operation_id = ").bind(id);
    }
    if let Some(ids) = &resolved.model_ids {
        push_in(&mut sql, "model_id", ids);
    }
    if let Some(from) = &filter.from {
        sql.push(" AND day >= ")
            .bind(from.micros.div_euclid(DAY_MICROS));
    }
    if let Some(to) = &filter.to {
        sql.push(" AND day < ")
            .bind(to.micros.div_euclid(DAY_MICROS));
    }
    sql.push(" GROUP BY verdict");
    sql
}
