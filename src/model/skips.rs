//! Queue skips: why a reviewer passed over a call the queue served them, the counts a call
//! page shows ("skipped 2×: …") and an operation's skip summary beside its sampled accuracy.

use serde::{Deserialize, Serialize};

/// Why a queue skip happened, as the reviewer chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    UnclearInput,
    NeedsDomainKnowledge,
    NotEnoughContext,
    Other,
}

impl SkipReason {
    pub const ALL: [SkipReason; 4] = [
        SkipReason::UnclearInput,
        SkipReason::NeedsDomainKnowledge,
        SkipReason::NotEnoughContext,
        SkipReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::UnclearInput => "unclear_input",
            SkipReason::NeedsDomainKnowledge => "needs_domain_knowledge",
            SkipReason::NotEnoughContext => "not_enough_context",
            SkipReason::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// In words, as pages show it.
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::UnclearInput => "unclear input",
            SkipReason::NeedsDomainKnowledge => "needs domain knowledge",
            SkipReason::NotEnoughContext => "not enough context",
            SkipReason::Other => "other",
        }
    }
}

/// How many times a call (or an operation's calls) was skipped for one reason (`None`: no
/// reason given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCount {
    pub reason: Option<SkipReason>,
    pub count: i64,
}

/// The call page's line about skips: "skipped 2×: needs domain knowledge, unclear input"
/// (reasons most given first), or `None` when nobody skipped the call.
pub fn skips_line(skips: &[SkipCount]) -> Option<String> {
    let total: i64 = skips.iter().map(|s| s.count).sum();
    if total == 0 {
        return None;
    }
    let mut counts: Vec<&SkipCount> = skips.iter().filter(|s| s.reason.is_some()).collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count));
    let reasons: Vec<&str> = counts
        .iter()
        .filter_map(|s| s.reason.map(SkipReason::label))
        .collect();
    Some(if reasons.is_empty() {
        format!("skipped {total}×")
    } else {
        format!("skipped {total}×: {}", reasons.join(", "))
    })
}

/// Skips of an operation's calls in the review queue, for leads: by reason, by reviewer, and
/// the skip rate beside the sampled accuracy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SkipSummary {
    /// Skips in all (a reviewer skipping a call counts once a day).
    pub skips: i64,
    /// Calls of the operation given a sampled review (a draw that was not skipped).
    pub sampled: i64,
    /// Of those, the ones whose verdict is correct now.
    pub sampled_correct: i64,
    pub by_reason: Vec<SkipCount>,
    /// Reviewer and skip count, most skips first.
    pub by_reviewer: Vec<(String, i64)>,
}

impl SkipSummary {
    /// Skips as a share of the queue's draws that ended in a skip or a sampled review;
    /// `None` before either happened.
    pub fn rate(&self) -> Option<f64> {
        let served = self.skips + self.sampled;
        (served > 0).then(|| self.skips as f64 / served as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons_round_trip() {
        for reason in SkipReason::ALL {
            assert_eq!(SkipReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(SkipReason::parse("bored"), None);
    }

    #[test]
    fn the_skips_line_names_the_reasons_most_given_first() {
        let count = |reason, count| SkipCount { reason, count };
        assert_eq!(skips_line(&[]), None);
        assert_eq!(skips_line(&[count(None, 1)]).as_deref(), Some("skipped 1×"));
        assert_eq!(
            skips_line(&[
                count(Some(SkipReason::UnclearInput), 1),
                count(None, 1),
                count(Some(SkipReason::NeedsDomainKnowledge), 2),
            ])
            .as_deref(),
            Some("skipped 4×: needs domain knowledge, unclear input")
        );
        let summary = SkipSummary {
            skips: 1,
            sampled: 3,
            ..Default::default()
        };
        assert_eq!(summary.rate(), Some(0.25));
        assert_eq!(SkipSummary::default().rate(), None);
    }
}
