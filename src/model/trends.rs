//! Accuracy over time and routing advice (issue 13), as plain data: counts per bucket and
//! model version, the query that selects them, and the rule that recommends a version.
//! Definitions are in docs/decisions.md ("Trends and routing"); the statistics in
//! [`crate::stats`].

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::filter::{decode_query, is_valid_operation_name, FilterError, MAX_SEARCH_BYTES};
use crate::stats::{self, Comparison};

/// Two-sided significance level of every comparison shown.
pub const ALPHA: f64 = 0.05;

/// Days the routing rule and the version table look back.
pub const ROUTING_DAYS: i64 = 30;

/// Correct and incorrect calls (by their current review) in some set of calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub correct: u64,
    pub incorrect: u64,
}

impl Tally {
    /// Reviewed calls: the n of the accuracy.
    pub fn n(&self) -> u64 {
        self.correct + self.incorrect
    }

    pub fn accuracy(&self) -> Option<f64> {
        (self.n() > 0).then(|| self.correct as f64 / self.n() as f64)
    }

    /// The 95% Wilson interval, or `None` without reviews.
    pub fn interval(&self) -> Option<(f64, f64)> {
        stats::wilson(self.correct, self.n())
    }

    pub fn add(&mut self, other: Tally) {
        self.correct += other.correct;
        self.incorrect += other.incorrect;
    }

    /// Compares this share with `other`'s (`None` when either has no reviews).
    pub fn compare(&self, other: &Tally) -> Option<Comparison> {
        stats::compare(self.correct, self.n(), other.correct, other.n())
    }
}

/// The width of a point on the time axis: a UTC day or an ISO week (Monday to Sunday).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    /// The default: a day of a modest operation holds a handful of sampled reviews, a week
    /// enough to say something.
    #[default]
    Week,
}

impl Bucket {
    pub fn parse(text: &str) -> Option<Bucket> {
        match text {
            "day" => Some(Bucket::Day),
            "week" => Some(Bucket::Week),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }

    /// The first day of the bucket holding `day` (days since the Unix epoch).
    pub fn start(self, day: i64) -> i64 {
        match self {
            Bucket::Day => day,
            // 1970-01-01 was a Thursday: Monday is three days before it.
            Bucket::Week => day - (day + 3).rem_euclid(7),
        }
    }

    /// Days in one bucket.
    pub fn days(self) -> i64 {
        match self {
            Bucket::Day => 1,
            Bucket::Week => 7,
        }
    }
}

/// Days since the Unix epoch of a calendar date.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

/// The calendar date of a day number (saturating at chrono's range).
pub fn day_date(day: i64) -> NaiveDate {
    i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default()
}

/// A model version as calls name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub model: String,
    pub version: String,
}

impl Version {
    pub fn label(&self) -> String {
        format!("{} {}", self.model, self.version)
    }

    /// Parses `model@version` or a bare version (any model).
    pub fn parse_selector(text: &str) -> (Option<&str>, &str) {
        match text.rsplit_once('@') {
            Some((model, version)) if !model.is_empty() => (Some(model), version),
            _ => (None, text),
        }
    }
}

/// One model version's figures over a period (the version table, routing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionFigures {
    pub version: Version,
    pub tally: Tally,
    pub calls: u64,
    /// Mean cost per call in USD over the calls that reported one.
    pub mean_cost_usd: Option<f64>,
    pub mean_latency_ms: Option<f64>,
    /// First and last day a call of this version was made in the period.
    pub first_day: Option<i64>,
    pub last_day: Option<i64>,
}

/// How a version compares with the best one (the highest accuracy with enough reviews).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Standing {
    /// Fewer sampled reviews than the operation's minimum: no claim is made.
    TooFewReviews,
    Best,
    /// Compared with the best: `p` is Holm-adjusted over all comparisons with the best.
    Compared {
        comparison: Comparison,
        adjusted_p: f64,
        significantly_worse: bool,
    },
}

/// The standing of each version (same order as `versions`) against the best one with at
/// least `min_n` reviews, Holm-corrected when more than one comparison is made.
pub fn standings(versions: &[VersionFigures], min_n: u64) -> Vec<Standing> {
    let enough = |v: &VersionFigures| v.tally.n() >= min_n.max(1);
    let best = versions
        .iter()
        .enumerate()
        .filter(|(_, v)| enough(v))
        .max_by(|(_, a), (_, b)| {
            a.tally
                .accuracy()
                .partial_cmp(&b.tally.accuracy())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.tally.n().cmp(&a.tally.n()).reverse())
        })
        .map(|(i, _)| i);
    let Some(best) = best else {
        return vec![Standing::TooFewReviews; versions.len()];
    };
    let compared: Vec<(usize, Comparison)> = versions
        .iter()
        .enumerate()
        .filter(|(i, v)| *i != best && enough(v))
        .filter_map(|(i, v)| versions[best].tally.compare(&v.tally).map(|c| (i, c)))
        .collect();
    let adjusted = stats::holm(&compared.iter().map(|(_, c)| c.p).collect::<Vec<_>>());
    versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i == best {
                return Standing::Best;
            }
            match compared.iter().position(|(j, _)| *j == i) {
                Some(at) if enough(v) => Standing::Compared {
                    comparison: compared[at].1,
                    adjusted_p: adjusted[at],
                    significantly_worse: adjusted[at] < ALPHA,
                },
                _ => Standing::TooFewReviews,
            }
        })
        .collect()
}

/// The routing rule's answer for one operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The recommended version, `None` when no version has enough reviews.
    pub version: Option<VersionFigures>,
    /// Whether the recommended version's lower bound reaches the target (false without one).
    pub meets_target: bool,
    /// The next version the rule would pick.
    pub runner_up: Option<VersionFigures>,
    /// The recommended version against the runner-up.
    pub versus_runner_up: Option<Comparison>,
    /// Whether the recommended version is significantly more accurate than the runner-up.
    pub significantly_better: bool,
    /// The reason in words.
    pub reason: String,
}

/// The routing rule: among versions with at least `min_n` reviews whose interval's lower
/// bound reaches `target`, the one with the lowest mean cost per call (a version without
/// costs counts as the dearest; ties go to the higher lower bound); with no target, or when
/// none reaches it, the version with the highest lower bound.
pub fn recommend(versions: &[VersionFigures], target: Option<f64>, min_n: u64) -> Recommendation {
    let lower = |v: &VersionFigures| v.tally.interval().map_or(0.0, |(low, _)| low);
    let meets = |v: &VersionFigures| target.is_some_and(|t| lower(v) >= t);
    let mut candidates: Vec<&VersionFigures> = versions
        .iter()
        .filter(|v| v.tally.n() >= min_n.max(1))
        .collect();
    candidates.sort_by(|a, b| {
        let by_lower = lower(b).total_cmp(&lower(a));
        match (meets(a), meets(b)) {
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (true, true) => a
                .mean_cost_usd
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.mean_cost_usd.unwrap_or(f64::INFINITY))
                .then(by_lower),
            (false, false) => by_lower,
        }
        .then_with(|| a.version.cmp(&b.version))
    });
    let Some(pick) = candidates.first().copied() else {
        let most = versions.iter().max_by_key(|v| v.tally.n());
        return Recommendation {
            version: None,
            meets_target: false,
            runner_up: None,
            versus_runner_up: None,
            significantly_better: false,
            reason: match most {
                Some(v) if v.tally.n() > 0 => format!(
                    "no version has {min_n} reviews in the last {ROUTING_DAYS} days yet (most: {} with {})",
                    v.version.label(),
                    v.tally.n()
                ),
                _ => format!("no reviews in the last {ROUTING_DAYS} days"),
            },
        };
    };
    let runner_up = candidates.get(1).copied();
    let versus = runner_up.and_then(|r| pick.tally.compare(&r.tally));
    let better = match (versus, runner_up) {
        (Some(c), Some(r)) => c.p < ALPHA && pick.tally.accuracy() > r.tally.accuracy(),
        _ => false,
    };
    let meets_target = meets(pick);
    let mut reason = format!("{}: {}", pick.version.label(), describe(&pick.tally));
    match target {
        Some(t) if meets_target => {
            reason.push_str(&format!(", meets {} target", percent(t)));
            if let Some(cost) = pick.mean_cost_usd {
                reason.push_str(&format!(" at {}/call", usd(cost)));
            }
            let dearer = candidates
                .iter()
                .filter_map(|v| v.mean_cost_usd.map(|c| (c, *v)))
                .filter(|(c, _)| pick.mean_cost_usd.is_some_and(|p| p > 0.0 && *c > p))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let (Some((cost, v)), Some(p)) = (dearer, pick.mean_cost_usd) {
                reason.push_str(&format!(
                    ", {} cheaper than {}",
                    times(cost / p),
                    v.version.label()
                ));
            }
        }
        Some(t) => reason.push_str(&format!(
            "; no version meets the {} target, this one has the highest lower bound",
            percent(t)
        )),
        None => reason.push_str("; no target set, this one has the highest lower bound"),
    }
    if let Some(r) = runner_up {
        reason.push_str(&format!(
            ". Runner-up {}: {} ({})",
            r.version.label(),
            describe(&r.tally),
            if better {
                "significantly less accurate"
            } else {
                "no significant difference in accuracy"
            }
        ));
    }
    Recommendation {
        version: Some(pick.clone()),
        meets_target,
        runner_up: runner_up.cloned(),
        versus_runner_up: versus,
        significantly_better: better,
        reason,
    }
}

/// "94.1% (91.0–96.2, n=412)", or "no reviews".
pub fn describe(tally: &Tally) -> String {
    match (tally.accuracy(), tally.interval()) {
        (Some(a), Some((low, high))) => format!(
            "{} ({:.1}–{:.1}, n={})",
            percent(a),
            low * 100.0,
            high * 100.0,
            tally.n()
        ),
        _ => "no reviews".into(),
    }
}

/// A share as a percentage with one decimal ("94.1%").
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn usd(value: f64) -> String {
    if value >= 0.01 {
        format!("${value:.2}")
    } else if value >= 0.0001 {
        format!("${value:.4}")
    } else {
        format!("${value:.6}")
    }
}

fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.1}×")
    }
}

/// Longest date range a chart or series covers.
pub const MAX_RANGE_DAYS: i64 = 731;

/// Days a chart covers when the URL names no range.
pub const DEFAULT_RANGE_DAYS: i64 = 90;

/// Most model versions one query may name.
pub const MAX_VERSIONS: usize = 20;

/// What a series or chart shows: an operation (or all), bucket, inclusive date range,
/// versions (empty: all) and which reviews count. Parsed from the URL like the feed's filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendsQuery {
    pub operation: Option<String>,
    pub bucket: Bucket,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `model@version` or a bare version.
    pub versions: Vec<String>,
    /// Sampled reviews only (the default) or all reviews.
    pub all_reviews: bool,
}

impl TrendsQuery {
    /// Parses a URL's query string (bounded like the feed's).
    pub fn from_search(search: &str) -> Result<TrendsQuery, FilterError> {
        if search.len() > MAX_SEARCH_BYTES {
            return Err(FilterError {
                param: "query".into(),
                reason: format!("the link's query is longer than {MAX_SEARCH_BYTES} bytes"),
            });
        }
        let pairs = decode_query(search);
        TrendsQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Parses URL pairs; empty values are unset, unknown names ignored. Errors name the
    /// parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TrendsQuery, FilterError> {
        let bad = |param: &str, reason: String| FilterError {
            param: param.to_string(),
            reason,
        };
        let date = |param: &str, value: &str| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                bad(
                    param,
                    format!("\"{value}\" is not a date such as 2026-01-31"),
                )
            })
        };
        let mut query = TrendsQuery::default();
        for (key, raw) in pairs {
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "operation" => {
                    if !is_valid_operation_name(value) {
                        return Err(bad(
                            "operation",
                            format!("\"{value}\" is not an operation name"),
                        ));
                    }
                    query.operation = Some(value.to_string());
                }
                "bucket" => {
                    query.bucket = Bucket::parse(value).ok_or_else(|| {
                        bad("bucket", format!("\"{value}\" is not one of day, week"))
                    })?;
                }
                "from" => query.from = Some(date("from", value)?),
                "to" => query.to = Some(date("to", value)?),
                "model_version" | "version" => {
                    if value.chars().count() > 200 {
                        return Err(bad(key, "is longer than 200 characters".into()));
                    }
                    if query.versions.len() == MAX_VERSIONS {
                        return Err(bad(key, format!("at most {MAX_VERSIONS} versions")));
                    }
                    if !query.versions.iter().any(|v| v == value) {
                        query.versions.push(value.to_string());
                    }
                }
                "sampled" => {
                    query.all_reviews = match value {
                        "true" => false,
                        "false" => true,
                        _ => {
                            return Err(bad(
                                "sampled",
                                format!("\"{value}\" is not one of true, false"),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from > to {
                return Err(bad("from", format!("{from} is after to ({to})")));
            }
            if (to - from).num_days() >= MAX_RANGE_DAYS {
                return Err(bad(
                    "from",
                    format!("the range is longer than {MAX_RANGE_DAYS} days"),
                ));
            }
        }
        Ok(query)
    }

    /// The days covered, `from..to` exclusive, given today (UTC day number): the URL's range,
    /// or the last [`DEFAULT_RANGE_DAYS`] days to today.
    pub fn days(&self, today: i64) -> (i64, i64) {
        let to = self.to.map_or(today, day_number) + 1;
        let from = match self.from {
            Some(from) => day_number(from),
            None => (to - DEFAULT_RANGE_DAYS).min(to - 1),
        };
        (from.max(to - MAX_RANGE_DAYS), to)
    }

    /// Whether `version` is among the versions asked for (all when none are named).
    pub fn wants(&self, version: &Version) -> bool {
        self.versions.is_empty()
            || self.versions.iter().any(|selector| {
                let (model, v) = Version::parse_selector(selector);
                v == version.version && model.is_none_or(|m| m == version.model)
            })
    }

    /// The query as URL pairs, defaults left out (the page's links).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(operation) = &self.operation {
            pairs.push(("operation", operation.clone()));
        }
        if self.bucket != Bucket::default() {
            pairs.push(("bucket", self.bucket.as_str().to_string()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            pairs.push(("to", to.to_string()));
        }
        for version in &self.versions {
            pairs.push(("model_version", version.clone()));
        }
        if self.all_reviews {
            pairs.push(("sampled", "false".to_string()));
        }
        pairs
    }

    /// Which reviews the figures use, in words.
    pub fn reviews_label(&self) -> &'static str {
        if self.all_reviews {
            "all reviews"
        } else {
            "sampled reviews"
        }
    }
}

/// One bucket of one version's line: both estimates, so the page can show either.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// First day of the bucket.
    pub start: i64,
    pub sampled: Tally,
    pub all: Tally,
}

impl Point {
    pub fn tally(&self, all_reviews: bool) -> Tally {
        if all_reviews {
            self.all
        } else {
            self.sampled
        }
    }
}

/// One model version's accuracy over the buckets where it has reviews.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub version: Version,
    pub points: Vec<Point>,
}

/// Calls and reviews in one bucket (all versions shown).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub start: i64,
    pub calls: u64,
    pub sampled_reviews: u64,
    pub reviews: u64,
}

/// Incorrect calls carrying one failure tag, per bucket (same order as the page's buckets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagLine {
    pub tag: String,
    pub counts: Vec<u64>,
    pub total: u64,
}

/// A row of the model-version table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    /// Figures with the page's estimate.
    pub figures: VersionFigures,
    /// The other estimate's counts, shown beside.
    pub other: Tally,
    pub standing: Standing,
}

/// Everything `/trends/{operation}` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationTrends {
    pub operation: String,
    pub description: String,
    pub target: Option<f64>,
    pub min_reviews: u64,
    pub query: TrendsQuery,
    /// Days covered, `from_day..to_day`.
    pub from_day: i64,
    pub to_day: i64,
    /// Bucket starts, oldest first.
    pub buckets: Vec<i64>,
    pub lines: Vec<Line>,
    /// Per bucket, same order as `buckets`.
    pub volume: Vec<Volume>,
    pub tags: Vec<TagLine>,
    /// Incorrect calls per bucket (with the page's estimate), the tags' denominator.
    pub incorrect: Vec<u64>,
    pub versions: Vec<VersionRow>,
    /// Every version with calls in the range (for the version picker).
    pub all_versions: Vec<Version>,
    pub recommendation: Recommendation,
}

/// How a period compares with the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Up,
    Down,
    NoSignificantChange,
    /// One of the two periods has fewer reviews than the minimum.
    TooFewReviews,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Up => "up",
            Change::Down => "down",
            Change::NoSignificantChange => "no significant change",
            Change::TooFewReviews => "too few reviews to compare",
        }
    }

    /// `now` against `before`: a change only when the test says so at [`ALPHA`], and only
    /// when both have at least `min_n` reviews.
    pub fn of(now: &Tally, before: &Tally, min_n: u64) -> (Change, Option<Comparison>) {
        if now.n() < min_n.max(1) || before.n() < min_n.max(1) {
            return (Change::TooFewReviews, None);
        }
        let Some(comparison) = now.compare(before) else {
            return (Change::TooFewReviews, None);
        };
        let change = if comparison.p >= ALPHA {
            Change::NoSignificantChange
        } else if now.accuracy() > before.accuracy() {
            Change::Up
        } else {
            Change::Down
        };
        (change, Some(comparison))
    }
}

/// One operation's figures over the last `days` days and the same length before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub days: i64,
    pub tally: Tally,
    pub previous: Tally,
    pub change: Change,
    pub comparison: Option<Comparison>,
    pub calls: u64,
    pub sampled_reviews: u64,
}

impl Period {
    /// Sampled reviews per call (the share of calls reviewed at random).
    pub fn coverage(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.sampled_reviews as f64 / self.calls as f64)
    }
}

/// One row of `/trends`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub operation: String,
    pub target: Option<f64>,
    pub min_reviews: u64,
    pub last7: Period,
    pub last30: Period,
    /// Accuracy per ISO week, oldest first (the sparkline), with the week's first day.
    pub weekly: Vec<(i64, Tally)>,
    pub recommendation: Recommendation,
    /// Set when the last 7 days are significantly below the 30 days before them.
    pub dropped: Option<Comparison>,
    /// The 30 days before the last 7 (the drop's baseline).
    pub baseline: Tally,
}

/// Everything `/trends` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub rows: Vec<OverviewRow>,
    pub all_reviews: bool,
    /// Today's UTC day number: the periods end with it.
    pub today: i64,
}

/// Weeks in the overview's sparkline.
pub const SPARKLINE_WEEKS: i64 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(version: &str, correct: u64, incorrect: u64, cost: Option<f64>) -> VersionFigures {
        VersionFigures {
            version: Version {
                model: "m".into(),
                version: version.into(),
            },
            tally: Tally { correct, incorrect },
            calls: (correct + incorrect) * 10,
            mean_cost_usd: cost,
            mean_latency_ms: None,
            first_day: None,
            last_day: None,
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        let monday = day_number(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        for offset in 0..7 {
            assert_eq!(Bucket::Week.start(monday + offset), monday);
        }
        assert_eq!(Bucket::Week.start(monday - 1), monday - 7);
        assert_eq!(
            day_date(monday),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
    }

    #[test]
    fn the_cheapest_version_that_meets_the_target_is_recommended() {
        let versions = [
            figures("v1", 480, 20, Some(0.0024)),
            figures("v3", 388, 24, Some(0.0004)),
            figures("v2", 300, 100, Some(0.0001)),
        ];
        let advice = recommend(&versions, Some(0.9), 30);
        assert_eq!(advice.version.as_ref().unwrap().version.version, "v3");
        assert!(advice.meets_target);
        assert_eq!(advice.runner_up.as_ref().unwrap().version.version, "v1");
        assert!(
            advice.reason.starts_with("m v3: 94.2% (91.5–96.1, n=412), meets 90.0% target at $0.0004/call, 6.0× cheaper than m v1"),
            "{}",
            advice.reason
        );
    }

    #[test]
    fn without_a_version_meeting_the_target_the_highest_lower_bound_wins() {
        let versions = [
            figures("v1", 80, 20, Some(0.001)),
            figures("v2", 850, 150, Some(0.01)),
        ];
        let advice = recommend(&versions, Some(0.95), 30);
        assert_eq!(advice.version.as_ref().unwrap().version.version, "v2");
        assert!(!advice.meets_target);
        assert!(advice.reason.contains("no version meets the 95.0% target"));
        let none = recommend(&versions, None, 30);
        assert_eq!(none.version.unwrap().version.version, "v2");
    }

    #[test]
    fn a_version_under_the_minimum_is_never_recommended() {
        let versions = [figures("v1", 29, 0, Some(0.0)), figures("v2", 20, 20, None)];
        let advice = recommend(&versions, Some(0.5), 30);
        assert_eq!(advice.version.unwrap().version.version, "v2");
        let nothing = recommend(&versions[..1], Some(0.5), 30);
        assert!(nothing.version.is_none());
        assert!(nothing.reason.contains("(most: m v1 with 29)"));
    }

    #[test]
    fn standings_name_the_best_and_adjust_for_several_comparisons() {
        let versions = [
            figures("v1", 90, 10, None),
            figures("v2", 60, 40, None),
            figures("v3", 88, 12, None),
            figures("v4", 5, 5, None),
        ];
        let standing = standings(&versions, 30);
        assert_eq!(standing[0], Standing::Best);
        match &standing[1] {
            Standing::Compared {
                significantly_worse,
                adjusted_p,
                comparison,
            } => {
                assert!(*significantly_worse);
                assert!(*adjusted_p >= comparison.p);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            standing[2],
            Standing::Compared {
                significantly_worse: false,
                ..
            }
        ));
        assert_eq!(standing[3], Standing::TooFewReviews);
    }
}
