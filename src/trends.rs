//! Trends and routing advice (issue 13): the figures of `/trends`, `/trends/{operation}`,
//! `/api/v1/accuracy` and `/api/v1/routing`, computed from the store's rollups with the
//! rules of [`crate::model::trends`]. Definitions: docs/decisions.md, "Trends and routing".

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::trends::{
    day_date, recommend, standings, Bucket, Change, Line, OperationTrends, Overview, OverviewRow,
    Period, Point, Recommendation, TagLine, Tally, TrendsQuery, Version, VersionFigures,
    VersionRow, Volume, MAX_DAY_BUCKETS, ROUTING_DAYS, SPARKLINE_WEEKS,
};
use crate::store::{AccuracySettings, CostRow, DayRow, Grouping, Store, StoreResult, DAY_MICROS};

/// Today's UTC day number.
pub fn today(now: DateTime<Utc>) -> i64 {
    now.timestamp_micros().div_euclid(DAY_MICROS)
}

/// Per version: the tallies of `days` (one operation's rows) with the costs of `costs`.
fn version_figures(
    days: &[&DayRow],
    costs: &[&CostRow],
    all_reviews: bool,
) -> Vec<(VersionFigures, Tally)> {
    let mut by_version: BTreeMap<Version, (VersionFigures, Tally)> = BTreeMap::new();
    let blank = |version: &Version| {
        (
            VersionFigures {
                version: version.clone(),
                tally: Tally::default(),
                calls: 0,
                mean_cost_usd: None,
                mean_latency_ms: None,
                first_day: None,
                last_day: None,
            },
            Tally::default(),
        )
    };
    for row in days {
        let entry = by_version
            .entry(row.version.clone())
            .or_insert_with(|| blank(&row.version));
        let (chosen, other) = if all_reviews {
            (row.all, row.sampled)
        } else {
            (row.sampled, row.all)
        };
        entry.0.tally.add(chosen);
        entry.1.add(other);
    }
    for cost in costs {
        let entry = by_version
            .entry(cost.version.clone())
            .or_insert_with(|| blank(&cost.version));
        entry.0.calls = cost.calls;
        entry.0.mean_cost_usd = cost.mean_cost_usd;
        entry.0.mean_latency_ms = cost.mean_latency_ms;
        entry.0.first_day = Some(cost.first_day);
        entry.0.last_day = Some(cost.last_day);
    }
    by_version.into_values().collect()
}

/// Sums the tallies of `rows` whose day is in `from..to`.
fn period_sum(rows: &[&DayRow], from: i64, to: i64, all_reviews: bool) -> (Tally, u64, u64) {
    let mut tally = Tally::default();
    let (mut calls, mut sampled) = (0, 0);
    for row in rows.iter().filter(|r| r.day >= from && r.day < to) {
        tally.add(if all_reviews { row.all } else { row.sampled });
        calls += row.calls;
        sampled += row.sampled.n();
    }
    (tally, calls, sampled)
}

fn period(rows: &[&DayRow], today: i64, days: i64, min_n: u64, all_reviews: bool) -> Period {
    let end = today + 1;
    let (tally, calls, sampled_reviews) = period_sum(rows, end - days, end, all_reviews);
    let (previous, _, _) = period_sum(rows, end - 2 * days, end - days, all_reviews);
    let (change, comparison) = Change::of(&tally, &previous, min_n);
    Period {
        days,
        tally,
        previous,
        change,
        comparison,
        calls,
        sampled_reviews,
    }
}

/// The rows of `/trends`: every operation, whether it has calls lately or not.
pub async fn overview(store: &Store, today: i64, all_reviews: bool) -> StoreResult<Overview> {
    let end = today + 1;
    let first_week = Bucket::Week.start(today) - 7 * (SPARKLINE_WEEKS - 1);
    let from = first_week.min(end - 60).min(end - 37);
    // Every version together per day for the periods and the sparkline; per version over
    // the routing window for the advice: a few rows per operation and day in all.
    let days = store
        .accuracy_rollup(None, from, end, Grouping::Day)
        .await?;
    let versions = store
        .accuracy_rollup(None, end - ROUTING_DAYS, end, Grouping::Version)
        .await?;
    let costs = store.version_costs(None, end - ROUTING_DAYS, end).await?;
    let settings = store.accuracy_settings().await?;
    let rows = settings
        .into_iter()
        .map(|s| {
            let mine: Vec<&DayRow> = days.iter().filter(|d| d.operation == s.operation).collect();
            let my_versions: Vec<&DayRow> = versions
                .iter()
                .filter(|d| d.operation == s.operation)
                .collect();
            let my_costs: Vec<&CostRow> = costs
                .iter()
                .filter(|c| c.operation == s.operation)
                .collect();
            let last7 = period(&mine, today, 7, s.min_reviews, all_reviews);
            let (baseline, _, _) = period_sum(&mine, end - 37, end - 7, all_reviews);
            let dropped = match Change::of(&last7.tally, &baseline, s.min_reviews) {
                (Change::Down, comparison) => comparison,
                _ => None,
            };
            let weekly = (0..SPARKLINE_WEEKS)
                .map(|w| {
                    let start = first_week + 7 * w;
                    (start, period_sum(&mine, start, start + 7, all_reviews).0)
                })
                .collect();
            OverviewRow {
                last7,
                last30: period(&mine, today, 30, s.min_reviews, all_reviews),
                weekly,
                recommendation: routing_of(&s, &my_versions, &my_costs, all_reviews),
                dropped,
                baseline,
                operation: s.operation,
                target: s.target,
                min_reviews: s.min_reviews,
            }
        })
        .collect();
    Ok(Overview {
        rows,
        all_reviews,
        today,
    })
}

/// The routing rule over one operation's rows of the routing window, one per version
/// ([`Grouping::Version`] over the last [`ROUTING_DAYS`] days).
fn routing_of(
    settings: &AccuracySettings,
    versions: &[&DayRow],
    costs: &[&CostRow],
    all_reviews: bool,
) -> Recommendation {
    let figures: Vec<VersionFigures> = version_figures(versions, costs, all_reviews)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    recommend(&figures, settings.target, settings.min_reviews)
}

/// One operation's routing advice as `/api/v1/routing` gives it.
#[derive(Clone, Debug, Serialize)]
pub struct Routing {
    pub operation: String,
    pub accuracy_target: Option<f64>,
    pub min_reviews: u64,
    pub recommendation: Recommendation,
}

/// Routing advice for every operation, or the one named (`None` when it does not exist).
pub async fn routing(
    store: &Store,
    operation: Option<&str>,
    today: i64,
    all_reviews: bool,
) -> StoreResult<Option<Vec<Routing>>> {
    let end = today + 1;
    let mut settings = store.accuracy_settings().await?;
    if let Some(name) = operation {
        settings.retain(|s| s.operation == name);
        if settings.is_empty() {
            return Ok(None);
        }
    }
    let days = store
        .accuracy_rollup(operation, end - ROUTING_DAYS, end, Grouping::Version)
        .await?;
    let costs = store
        .version_costs(operation, end - ROUTING_DAYS, end)
        .await?;
    Ok(Some(
        settings
            .into_iter()
            .map(|s| {
                let mine: Vec<&DayRow> =
                    days.iter().filter(|d| d.operation == s.operation).collect();
                let my_costs: Vec<&CostRow> = costs
                    .iter()
                    .filter(|c| c.operation == s.operation)
                    .collect();
                Routing {
                    recommendation: routing_of(&s, &mine, &my_costs, all_reviews),
                    operation: s.operation,
                    accuracy_target: s.target,
                    min_reviews: s.min_reviews,
                }
            })
            .collect(),
    ))
}

/// One point of `/api/v1/accuracy`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub operation: String,
    pub model: String,
    pub model_version: String,
    /// First day of the bucket (`YYYY-MM-DD`).
    pub bucket: String,
    pub n: u64,
    pub k: u64,
    pub accuracy: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Whether n reaches the operation's minimum (below it the figure is not to be trusted).
    pub enough_reviews: bool,
}

/// The series `query` selects, per operation, version and bucket, oldest first.
pub async fn series(
    store: &Store,
    query: &TrendsQuery,
    today: i64,
) -> StoreResult<Vec<SeriesPoint>> {
    let (from, to) = query.days(today);
    let days = store
        .accuracy_days(query.operation.as_deref(), from, to)
        .await?;
    let minimums: BTreeMap<String, u64> = store
        .accuracy_settings()
        .await?
        .into_iter()
        .map(|s| (s.operation, s.min_reviews))
        .collect();
    let mut buckets: BTreeMap<(String, Version, i64), Tally> = BTreeMap::new();
    for row in days.iter().filter(|d| query.wants(&d.version)) {
        let tally = if query.all_reviews {
            row.all
        } else {
            row.sampled
        };
        if tally.n() == 0 {
            continue;
        }
        buckets
            .entry((
                row.operation.clone(),
                row.version.clone(),
                query.bucket.start(row.day),
            ))
            .or_default()
            .add(tally);
    }
    let mut points: Vec<SeriesPoint> = buckets
        .into_iter()
        .map(|((operation, version, start), tally)| {
            let interval = tally.interval();
            SeriesPoint {
                enough_reviews: tally.n() >= minimums.get(&operation).copied().unwrap_or(30),
                operation,
                model: version.model,
                model_version: version.version,
                bucket: day_date(start).to_string(),
                n: tally.n(),
                k: tally.correct,
                accuracy: tally.accuracy(),
                low: interval.map(|i| i.0),
                high: interval.map(|i| i.1),
            }
        })
        .collect();
    points.sort_by(|a, b| {
        (&a.operation, &a.bucket, &a.model, &a.model_version).cmp(&(
            &b.operation,
            &b.bucket,
            &b.model,
            &b.model_version,
        ))
    });
    Ok(points)
}

/// Everything `/trends/{operation}` shows, or `None` when there is no such operation.
pub async fn operation_trends(
    store: &Store,
    name: &str,
    query: &TrendsQuery,
    today: i64,
) -> StoreResult<Option<OperationTrends>> {
    let Some(record) = store.operation(name).await? else {
        return Ok(None);
    };
    let definition = &record.definition;
    let settings = AccuracySettings {
        operation: name.to_string(),
        target: definition.accuracy_target,
        min_reviews: u64::try_from(definition.min_reviews).unwrap_or(0),
    };
    let (from, to) = query.days(today);
    // Day buckets over a long range would draw more points than the chart has room for.
    let widened_to_weeks = query.bucket == Bucket::Day && to - from > MAX_DAY_BUCKETS;
    let query = &TrendsQuery {
        bucket: if widened_to_weeks {
            Bucket::Week
        } else {
            query.bucket
        },
        ..query.clone()
    };
    // Summed per bucket in SQL: at day buckets that is the days, at weeks a seventh of them.
    let grouping = match query.bucket {
        Bucket::Day => Grouping::VersionAndDay,
        Bucket::Week => Grouping::VersionAndWeek,
    };
    // The page's five reads are independent: issued together, the request waits for the
    // slowest instead of their sum (the pool has connections to spare; SQLite reads in
    // parallel under WAL).
    let per_version = !query.versions.is_empty();
    let recent = today + 1 - ROUTING_DAYS;
    let (days, tag_rows, range_costs, recent_costs, routing_versions) = tokio::try_join!(
        store.accuracy_rollup(Some(name), from, to, grouping),
        // Per version only when the URL picks versions: the chart shows every picked one
        // together.
        store.tag_days(name, from, to, query.bucket, per_version),
        store.version_costs(Some(name), from, to),
        store.version_costs(Some(name), recent, today + 1),
        store.accuracy_rollup(Some(name), recent, today + 1, Grouping::Version),
    )?;
    let in_range: Vec<&DayRow> = days.iter().collect();
    let all_versions: Vec<Version> = in_range
        .iter()
        .map(|d| d.version.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let shown: Vec<&DayRow> = in_range
        .iter()
        .copied()
        .filter(|d| query.wants(&d.version))
        .collect();

    let buckets: Vec<i64> = {
        let mut start = query.bucket.start(from);
        let mut all = Vec::new();
        while start < to {
            all.push(start);
            start += query.bucket.days();
        }
        all
    };
    let index = |day: i64| {
        let start = query.bucket.start(day);
        buckets.binary_search(&start).ok()
    };

    let mut lines: BTreeMap<Version, BTreeMap<i64, Point>> = BTreeMap::new();
    let mut volume: Vec<Volume> = buckets
        .iter()
        .map(|&start| Volume {
            start,
            ..Volume::default()
        })
        .collect();
    let mut incorrect = vec![0u64; buckets.len()];
    for row in &shown {
        let Some(at) = index(row.day) else { continue };
        let start = buckets[at];
        let point = lines
            .entry(row.version.clone())
            .or_default()
            .entry(start)
            .or_insert(Point {
                start,
                sampled: Tally::default(),
                all: Tally::default(),
            });
        point.sampled.add(row.sampled);
        point.all.add(row.all);
        let v = &mut volume[at];
        v.calls += row.calls;
        v.sampled_reviews += row.sampled.n();
        v.reviews += row.all.n();
        incorrect[at] += if query.all_reviews {
            row.all.incorrect
        } else {
            row.sampled.incorrect
        };
    }
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|(version, points)| Line {
            version,
            points: points
                .into_values()
                .filter(|p| p.tally(query.all_reviews).n() > 0)
                .collect(),
        })
        .collect();

    let mut tags: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in tag_rows {
        if !query.wants(&row.version) {
            continue;
        }
        let Some(at) = index(row.day) else { continue };
        let n = if query.all_reviews {
            row.all
        } else {
            row.sampled
        };
        if n > 0 {
            tags.entry(row.tag)
                .or_insert_with(|| vec![0; buckets.len()])[at] += n;
        }
    }
    let mut tags: Vec<TagLine> = tags
        .into_iter()
        .map(|(tag, counts)| TagLine {
            total: counts.iter().sum(),
            tag,
            counts,
        })
        .collect();
    tags.sort_by(|a, b| b.total.cmp(&a.total).then(a.tag.cmp(&b.tag)));

    let cost_refs: Vec<&CostRow> = range_costs
        .iter()
        .filter(|c| query.wants(&c.version))
        .collect();
    let figures = version_figures(&shown, &cost_refs, query.all_reviews);
    let standing = standings(
        &figures.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
        settings.min_reviews,
    );
    let versions = figures
        .into_iter()
        .zip(standing)
        .map(|((figures, other), standing)| VersionRow {
            figures,
            other,
            standing,
        })
        .collect();

    let recommendation = routing_of(
        &settings,
        &routing_versions.iter().collect::<Vec<_>>(),
        &recent_costs.iter().collect::<Vec<_>>(),
        query.all_reviews,
    );

    Ok(Some(OperationTrends {
        operation: name.to_string(),
        description: definition.description.clone(),
        target: settings.target,
        min_reviews: settings.min_reviews,
        query: query.clone(),
        from_day: from,
        to_day: to,
        buckets,
        lines,
        volume,
        tags,
        incorrect,
        versions,
        all_versions,
        recommendation,
        alert: Default::default(),
        widened_to_weeks,
    }))
}
