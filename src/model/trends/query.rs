//! The query behind a chart or a series: operation, bucket, date range, versions and which
//! reviews count, parsed and bounded from the URL like the feed's filter.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{day_number, Bucket, Version};
use crate::model::filter::{decode_query, is_valid_operation_name, FilterError, MAX_SEARCH_BYTES};

/// Longest date range a chart or series covers.
pub const MAX_RANGE_DAYS: i64 = 731;

/// The longest range the operation page draws by day (about six months): past it a line has
/// more points than the chart has room for, and the page draws weeks instead and says so.
pub const MAX_DAY_BUCKETS: i64 = 184;

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
