//! Accuracy over time and routing advice (issue 13), as plain data: counts per bucket and
//! model version, the query that selects them, and the rule that recommends a version.
//! Definitions are in docs/decisions.md ("Trends and routing"); the statistics in
//! [`crate::stats`].

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::stats::{self, Comparison};

mod query;
mod routing;
#[cfg(test)]
mod tests;

pub use query::*;
pub use routing::*;

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

/// One bucket of one version's line: both estimates, so the page can show either.
/// Serialized as `[start, sampled correct, sampled incorrect, all correct, all incorrect]`:
/// a day-bucket page carries over a thousand in its hydration data, which named fields
/// made three times as long.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "PointRow", into = "PointRow")]
pub struct Point {
    /// First day of the bucket.
    pub start: i64,
    pub sampled: Tally,
    pub all: Tally,
}

/// [`Point`] as it is serialized.
type PointRow = (i64, u64, u64, u64, u64);

impl From<PointRow> for Point {
    fn from((start, sc, si, ac, ai): PointRow) -> Point {
        Point {
            start,
            sampled: Tally {
                correct: sc,
                incorrect: si,
            },
            all: Tally {
                correct: ac,
                incorrect: ai,
            },
        }
    }
}

impl From<Point> for PointRow {
    fn from(p: Point) -> PointRow {
        (
            p.start,
            p.sampled.correct,
            p.sampled.incorrect,
            p.all.correct,
            p.all.incorrect,
        )
    }
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
    /// The operation's accuracy alert and its history (no webhook URL).
    #[serde(default)]
    pub alert: crate::model::alerts::AlertStatus,
    /// Day buckets were asked for over more than [`MAX_DAY_BUCKETS`] days: `query` says week,
    /// and the page says why.
    #[serde(default)]
    pub widened_to_weeks: bool,
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
