//! Unit tests of the trends model: buckets, the query's bounds, standings and routing.

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

#[test]
fn points_travel_as_short_rows_and_come_back_whole() {
    let point = Point {
        start: 20_600,
        sampled: Tally {
            correct: 41,
            incorrect: 9,
        },
        all: Tally {
            correct: 120,
            incorrect: 31,
        },
    };
    let text = serde_json::to_string(&point).unwrap();
    assert_eq!(text, "[20600,41,9,120,31]");
    assert_eq!(serde_json::from_str::<Point>(&text).unwrap(), point);
}
