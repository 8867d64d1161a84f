//! Model versions compared within an operation: each version's standing against the best
//! (Fisher or z, Holm-corrected) and the routing rule that recommends the cheapest version
//! good enough, with the sentences the pages and the API show.

use serde::{Deserialize, Serialize};

use super::{Tally, ALPHA, ROUTING_DAYS};
use crate::stats::{self, Comparison};

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
