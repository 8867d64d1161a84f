//! What trends and routing read: the rollups of `counts.rs` by operation, model version and
//! day, with names joined in. Never the calls table: a year of a busy operation is a few
//! thousand rows here.

use super::{Sql, Store, StoreError, StoreResult};
use crate::model::trends::{Bucket, Tally, Version};

/// The Monday starting the ISO week of a day number, in SQL (1970-01-01 was a Thursday);
/// the same as `Bucket::Week.start`, for negative days too.
fn week_of(day: &str) -> String {
    format!("({day} - (({day} + 3) % 7 + 7) % 7)")
}

/// The buckets of one operation and version (or tag) as the rollup reads pack them:
/// `string_agg(concat_ws(',', …), ';')`, `N` integers per bucket, the first its day; in day
/// order (PostgreSQL's `string_agg` keeps none). Packed in SQL because the drivers hand rows
/// over one at a time at a few microseconds each (sqlx-sqlite copies every value and sends
/// each row across a channel from its worker thread): a day-bucket page read over a
/// thousand rows where it now reads one per version.
fn unpack<const N: usize>(packed: &str) -> StoreResult<Vec<[i64; N]>> {
    let corrupt = || StoreError::Corrupt(format!("packed rollup row {packed:?}"));
    let mut buckets = packed
        .split(';')
        .filter(|bucket| !bucket.is_empty())
        .map(|bucket| {
            let mut out = [0i64; N];
            let mut fields = bucket.split(',');
            for slot in &mut out {
                *slot = fields
                    .next()
                    .and_then(|f| f.parse().ok())
                    .ok_or_else(corrupt)?;
            }
            match fields.next() {
                Some(_) => Err(corrupt()),
                None => Ok(out),
            }
        })
        .collect::<StoreResult<Vec<[i64; N]>>>()?;
    buckets.sort_unstable_by_key(|bucket| bucket[0]);
    Ok(buckets)
}

/// A packed row's version (empty when the read sums every version).
fn version_of(model: Option<String>, version: Option<String>) -> Version {
    Version {
        model: model.unwrap_or_default(),
        version: version.unwrap_or_default(),
    }
}

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

/// How [`Store::accuracy_rollup`] sums the rollup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// A row per operation, model version and day.
    VersionAndDay,
    /// A row per operation, model version and ISO week (Monday first), dated its Monday.
    VersionAndWeek,
    /// A row per operation and day, every version together (the row's version is empty).
    Day,
    /// A row per operation and model version over the whole period, dated its last day
    /// with calls.
    Version,
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
    /// one operation or all, oldest day first within each operation and version.
    pub async fn accuracy_days(
        &self,
        operation: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<DayRow>> {
        self.accuracy_rollup(operation, from_day, to_day, Grouping::VersionAndDay)
            .await
    }

    /// The rollup of calls and verdicts in `from_day..to_day`, for one operation or all,
    /// summed in SQL as `grouping` says (see [`Grouping`] for the rows' version and day).
    ///
    /// Grouped in the database because the driver hands rows over one at a time, at a few
    /// microseconds each: at a year of a busy deployment, rows per version, day, verdict and
    /// sampled flag were most of the trends overview's time.
    pub async fn accuracy_rollup(
        &self,
        operation: Option<&str>,
        from_day: i64,
        to_day: i64,
        grouping: Grouping,
    ) -> StoreResult<Vec<DayRow>> {
        let week = week_of("cc.day");
        // `None`: the table's own rows, whose key is already operation, version and day.
        let (keys, day) = match grouping {
            Grouping::VersionAndDay => (None, "cc.day".to_string()),
            Grouping::VersionAndWeek => {
                (Some(format!("cc.operation_id, cc.model_id, {week}")), week)
            }
            Grouping::Day => (
                Some("cc.operation_id, cc.day".to_string()),
                "cc.day".to_string(),
            ),
            Grouping::Version => (
                Some("cc.operation_id, cc.model_id".to_string()),
                "max(cc.day)".to_string(),
            ),
        };
        let model = match grouping {
            Grouping::Day => "CAST(NULL AS BIGINT)",
            _ => "cc.model_id",
        };
        let counts = [
            "calls",
            "sampled_correct",
            "sampled_incorrect",
            "all_correct",
            "all_incorrect",
        ]
        .map(|column| match keys {
            Some(_) => format!("CAST(sum(cc.{column}) AS BIGINT) AS {column}"),
            None => format!("cc.{column} AS {column}"),
        })
        .join(", ");
        // One row per operation and version, its buckets packed into one text (see `unpack`).
        // From `day_tallies`, the counts pivoted by a trigger (migrations 0014/0016): a
        // fifth of `call_counts`' rows, summed without a CASE each, and by day not summed at
        // all (PostgreSQL's hash aggregate of 1,200 rows was 2 of a 184-day read's 3.7 ms).
        let mut sql = Sql::new(format!(
            "SELECT o.name, m.name, m.version,
                    string_agg(concat_ws(',', g.day, g.calls, g.sampled_correct, g.sampled_incorrect,
                                         g.all_correct, g.all_incorrect), ';')
             FROM (SELECT cc.operation_id, {model} AS model_id, {day} AS day, {counts}
                   FROM day_tallies cc
                   WHERE cc.calls <> 0 AND cc.day >= $1 AND cc.day < $2"
        ))
        .arg(from_day)
        .arg(to_day);
        if let Some(name) = operation {
            sql.push(" AND cc.operation_id = (SELECT id FROM operations WHERE name = ")
                .bind(name)
                .push(")");
        }
        if let Some(keys) = &keys {
            sql.push(format!(" GROUP BY {keys}"));
        }
        sql.push(format!(
            ") g
             JOIN operations o ON o.id = g.operation_id
             LEFT JOIN models m ON m.id = g.model_id
             GROUP BY o.name, m.name, m.version"
        ));
        type Row = (String, Option<String>, Option<String>, String);
        let mut rows: Vec<Row> = self.db.all(&sql).await?;
        // Sorted in Rust, not SQL: names compare byte by byte here whatever the database's
        // collation. A version's rows first (a dozen); `unpack` puts its buckets in day order.
        rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut days = Vec::new();
        for (operation, model, version, packed) in rows {
            let version = version_of(model, version);
            for [day, calls, s_ok, s_bad, a_ok, a_bad] in unpack::<6>(&packed)? {
                days.push(DayRow {
                    operation: operation.clone(),
                    version: version.clone(),
                    day,
                    calls: count(calls),
                    sampled: Tally {
                        correct: count(s_ok),
                        incorrect: count(s_bad),
                    },
                    all: Tally {
                        correct: count(a_ok),
                        incorrect: count(a_bad),
                    },
                });
            }
        }
        Ok(days)
    }

    /// Calls, mean cost and mean latency per operation and model version in
    /// `from_day..to_day`, for one operation or all.
    pub async fn version_costs(
        &self,
        operation: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<CostRow>> {
        // Summed by the rollup's integer keys first and named after: grouping the joined
        // rows by the names' text was most of this read on PostgreSQL.
        let mut sql = Sql::new(
            "SELECT o.name, m.name, m.version, g.calls, g.cost_nanos, g.costed, g.latency_ms,
                    g.timed, g.first_day, g.last_day
             FROM (SELECT cc.operation_id, cc.model_id, CAST(sum(cc.calls) AS BIGINT) AS calls,
                          CAST(sum(cc.cost_nanos) AS BIGINT) AS cost_nanos,
                          CAST(sum(cc.costed) AS BIGINT) AS costed,
                          CAST(sum(cc.latency_ms) AS BIGINT) AS latency_ms,
                          CAST(sum(cc.timed) AS BIGINT) AS timed,
                          min(cc.day) AS first_day, max(cc.day) AS last_day
                   FROM call_costs cc
                   WHERE cc.calls <> 0 AND cc.day >= $1 AND cc.day < $2",
        )
        .arg(from_day)
        .arg(to_day);
        if let Some(name) = operation {
            sql.push(" AND cc.operation_id = (SELECT id FROM operations WHERE name = ")
                .bind(name)
                .push(")");
        }
        sql.push(
            " GROUP BY cc.operation_id, cc.model_id) g
             JOIN operations o ON o.id = g.operation_id
             JOIN models m ON m.id = g.model_id
             ORDER BY 1, 2, 3",
        );
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

    /// Incorrect calls per failure tag and bucket (its first day) of one operation, per model
    /// version when `per_version` (every version together otherwise: the row's version is
    /// empty, and a day bucket reads a third of the rows); by version and tag, oldest bucket
    /// first within each.
    pub async fn tag_days(
        &self,
        operation: &str,
        from_day: i64,
        to_day: i64,
        bucket: Bucket,
        per_version: bool,
    ) -> StoreResult<Vec<TagDayRow>> {
        // Grouped in SQL (sampled or not in one row, by bucket), for the reason
        // `accuracy_rollup` gives.
        let day = match bucket {
            Bucket::Day => "tc.day".to_string(),
            Bucket::Week => week_of("tc.day"),
        };
        let (model, keys) = if per_version {
            ("tc.model_id", format!("tc.model_id, {day}, tc.tag_id"))
        } else {
            ("CAST(NULL AS BIGINT)", format!("{day}, tc.tag_id"))
        };
        let sql = Sql::new(format!(
            "SELECT m.name, m.version, t.name,
                    string_agg(concat_ws(',', g.day, g.sampled, g.n), ';')
             FROM (SELECT {model} AS model_id, {day} AS day, tc.tag_id,
                          CAST(sum(CASE WHEN tc.sampled THEN tc.n ELSE 0 END) AS BIGINT) AS sampled,
                          CAST(sum(tc.n) AS BIGINT) AS n
                   FROM tag_counts tc
                   WHERE tc.n <> 0 AND tc.day >= $1 AND tc.day < $2
                     AND tc.operation_id = (SELECT id FROM operations WHERE name = $3)
                   GROUP BY {keys}) g
             LEFT JOIN models m ON m.id = g.model_id
             JOIN tags t ON t.id = g.tag_id
             GROUP BY m.name, m.version, t.name"
        ))
        .arg(from_day)
        .arg(to_day)
        .arg(operation);
        type Row = (Option<String>, Option<String>, String, String);
        let mut rows: Vec<Row> = self.db.all(&sql).await?;
        // As in `accuracy_rollup`: the few (version, tag) rows sorted by name, then each
        // one's buckets by day. Sorting the unpacked rows by name compared strings a few
        // dozen thousand times at day buckets (a sixth of the request on PostgreSQL, whose
        // `string_agg` keeps no order).
        rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut out = Vec::new();
        for (model, version, tag, packed) in rows {
            let version = version_of(model, version);
            for [day, sampled, n] in unpack::<3>(&packed)? {
                out.push(TagDayRow {
                    version: version.clone(),
                    day,
                    tag: tag.clone(),
                    sampled: count(sampled),
                    all: count(n),
                });
            }
        }
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn packed_buckets_read_back_and_a_malformed_one_is_an_error() {
        assert_eq!(
            unpack::<3>("20400,5,7;-3,0,1").ok(),
            Some(vec![[-3, 0, 1], [20400, 5, 7]]),
            "read back in day order"
        );
        assert_eq!(unpack::<2>("").ok(), Some(Vec::new()));
        assert!(unpack::<3>("1,2").is_err(), "too few fields");
        assert!(unpack::<3>("1,2,3,4").is_err(), "too many fields");
        assert!(unpack::<2>("1,x").is_err(), "not a number");
    }
}
