//! What trends and routing read: the rollups of `counts.rs` by operation, model version and
//! day, with names joined in. Never the calls table: a year of a busy operation is a few
//! thousand rows here.

use std::collections::BTreeMap;

use super::{Sql, Store, StoreResult};
use crate::model::trends::{Tally, Version};

/// One operation's calls of one model version on one UTC day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRow {
    pub operation: String,
    pub version: Version,
    pub day: i64,
    /// Every call, reviewed or not.
    pub calls: u64,
    /// Current verdicts of the sampled calls only.
    pub sampled: Tally,
    /// Current verdicts of every reviewed call.
    pub all: Tally,
}

/// One operation's calls of one model version over a period: cost and latency.
#[derive(Clone, Debug, PartialEq)]
pub struct CostRow {
    pub operation: String,
    pub version: Version,
    pub calls: u64,
    pub mean_cost_usd: Option<f64>,
    pub mean_latency_ms: Option<f64>,
    pub first_day: i64,
    pub last_day: i64,
}

/// Incorrect calls carrying one failure tag, per model version and day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagDayRow {
    pub version: Version,
    pub day: i64,
    pub tag: String,
    pub sampled: u64,
    pub all: u64,
}

/// What an operation's settings say about accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct AccuracySettings {
    pub operation: String,
    pub target: Option<f64>,
    pub min_reviews: u64,
}

impl Store {
    /// Calls and verdicts per operation, model version and day in `from_day..to_day`, for
    /// one operation or all.
    pub async fn accuracy_days(
        &self,
        operation: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<DayRow>> {
        let mut sql = Sql::new(
            "SELECT o.name, m.name, m.version, cc.day, cc.verdict, cc.sampled, cc.n
             FROM call_counts cc
             JOIN operations o ON o.id = cc.operation_id
             JOIN models m ON m.id = cc.model_id
             WHERE cc.n <> 0 AND cc.day >= $1 AND cc.day < $2",
        )
        .arg(from_day)
        .arg(to_day);
        if let Some(name) = operation {
            sql.push(" AND o.name = ").bind(name);
        }
        let rows: Vec<(String, String, String, i64, i64, bool, i64)> = self.db.all(&sql).await?;
        let mut days: BTreeMap<(String, Version, i64), DayRow> = BTreeMap::new();
        for (operation, model, version, day, verdict, sampled, n) in rows {
            let version = Version { model, version };
            let row = days
                .entry((operation.clone(), version.clone(), day))
                .or_insert_with(|| DayRow {
                    operation,
                    version,
                    day,
                    calls: 0,
                    sampled: Tally::default(),
                    all: Tally::default(),
                });
            let n = u64::try_from(n).unwrap_or(0);
            row.calls += n;
            let add = |tally: &mut Tally| match verdict {
                1 => tally.correct += n,
                2 => tally.incorrect += n,
                _ => {}
            };
            add(&mut row.all);
            if sampled {
                add(&mut row.sampled);
            }
        }
        Ok(days.into_values().collect())
    }

    /// Calls, mean cost and mean latency per operation and model version in
    /// `from_day..to_day`, for one operation or all.
    pub async fn version_costs(
        &self,
        operation: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<CostRow>> {
        let mut sql = Sql::new(
            "SELECT o.name, m.name, m.version, CAST(sum(cc.calls) AS BIGINT),
                    CAST(sum(cc.cost_nanos) AS BIGINT), CAST(sum(cc.costed) AS BIGINT),
                    CAST(sum(cc.latency_ms) AS BIGINT), CAST(sum(cc.timed) AS BIGINT),
                    min(cc.day), max(cc.day)
             FROM call_costs cc
             JOIN operations o ON o.id = cc.operation_id
             JOIN models m ON m.id = cc.model_id
             WHERE cc.calls <> 0 AND cc.day >= $1 AND cc.day < $2",
        )
        .arg(from_day)
        .arg(to_day);
        if let Some(name) = operation {
            sql.push(" AND o.name = ").bind(name);
        }
        sql.push(" GROUP BY o.name, m.name, m.version ORDER BY 1, 2, 3");
        type Row = (String, String, String, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = self.db.all(&sql).await?;
        Ok(rows
            .into_iter()
            .map(
                |(operation, model, version, calls, nanos, costed, latency, timed, first, last)| {
                    CostRow {
                        operation,
                        version: Version { model, version },
                        calls: u64::try_from(calls).unwrap_or(0),
                        mean_cost_usd: (costed > 0).then(|| nanos as f64 / 1e9 / costed as f64),
                        mean_latency_ms: (timed > 0).then(|| latency as f64 / timed as f64),
                        first_day: first,
                        last_day: last,
                    }
                },
            )
            .collect())
    }

    /// Incorrect calls per failure tag, model version and day of one operation.
    pub async fn tag_days(
        &self,
        operation: &str,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<TagDayRow>> {
        let sql = Sql::new(
            "SELECT m.name, m.version, tc.day, t.name, tc.sampled, tc.n
             FROM tag_counts tc
             JOIN operations o ON o.id = tc.operation_id
             JOIN models m ON m.id = tc.model_id
             JOIN tags t ON t.id = tc.tag_id
             WHERE tc.n <> 0 AND tc.day >= $1 AND tc.day < $2 AND o.name = $3",
        )
        .arg(from_day)
        .arg(to_day)
        .arg(operation);
        let rows: Vec<(String, String, i64, String, bool, i64)> = self.db.all(&sql).await?;
        let mut out: BTreeMap<(Version, i64, String), TagDayRow> = BTreeMap::new();
        for (model, version, day, tag, sampled, n) in rows {
            let version = Version { model, version };
            let row = out
                .entry((version.clone(), day, tag.clone()))
                .or_insert_with(|| TagDayRow {
                    version,
                    day,
                    tag,
                    sampled: 0,
                    all: 0,
                });
            let n = u64::try_from(n).unwrap_or(0);
            row.all += n;
            if sampled {
                row.sampled += n;
            }
        }
        Ok(out.into_values().collect())
    }

    /// Each operation's accuracy target and minimum reviews, by name.
    pub async fn accuracy_settings(&self) -> StoreResult<Vec<AccuracySettings>> {
        let rows: Vec<(String, Option<f64>, i64)> = self
            .db
            .all(&Sql::new(
                "SELECT name, accuracy_target, min_reviews FROM operations ORDER BY name",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(operation, target, min_reviews)| AccuracySettings {
                operation,
                target,
                min_reviews: u64::try_from(min_reviews).unwrap_or(0),
            })
            .collect())
    }
}
