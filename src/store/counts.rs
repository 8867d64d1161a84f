//! The per-day counters (`call_counts`): calls per operation, model version, UTC day of the
//! call and verdict, kept in step by ingest and review saves in their own transactions, so
//! verdict counts (and trends) never scan the calls.

use std::collections::BTreeMap;

use super::conditions::{push_in, Resolved};
use super::{Sql, StoreResult, Tx, DAY_MICROS};
use crate::model::CallFilter;

/// Adds `n` calls to a per-day counter of one verdict (negative `n` removes).
pub(super) fn count_change(
    operation_id: i64,
    model_id: i64,
    day: i64,
    verdict: i64,
    n: i64,
) -> Sql {
    Sql::new(
        "INSERT INTO call_counts (operation_id, model_id, day, verdict, n) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (operation_id, model_id, day, verdict) DO UPDATE SET n = call_counts.n + excluded.n",
    )
    .arg(operation_id)
    .arg(model_id)
    .arg(day)
    .arg(verdict)
    .arg(n)
}

/// Adds new (unreviewed) calls to the per-day counters.
pub(super) async fn add_to_counts(
    tx: &mut Tx,
    calls: impl Iterator<Item = (i64, i64, i64)>,
) -> StoreResult<()> {
    let mut per_day: BTreeMap<(i64, i64, i64), i64> = BTreeMap::new();
    for (operation_id, model_id, created_at) in calls {
        *per_day
            .entry((operation_id, model_id, created_at.div_euclid(DAY_MICROS)))
            .or_default() += 1;
    }
    for ((operation_id, model_id, day), n) in per_day {
        tx.execute(&count_change(operation_id, model_id, day, 0, n))
            .await?;
    }
    Ok(())
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
