//! `/trends`: every operation's accuracy over the last 7 and 30 days with n, interval and a
//! tested change, review coverage, a weekly sparkline and the recommended model version;
//! significant drops flagged first. `/trends/{operation}`: accuracy per model version over
//! time with interval bands, calls and sampled reviews, the version table, failure tags over
//! time and the routing advice. Everything is in the URL and renders without JavaScript.

use leptos::prelude::*;

use crate::components::figures;
use crate::model::trends::{describe, percent, Change, Period, Tally};
use crate::model::{encode_query, with_query};

mod operation;
mod overview;

pub use operation::OperationTrendsPage;
pub use overview::TrendsPage;

/// `a%–b%` or a dash.
fn interval_text(tally: &Tally) -> String {
    match tally.interval() {
        Some((low, high)) => format!("{:.1}–{:.1}%", low * 100.0, high * 100.0),
        None => "—".into(),
    }
}

/// The accuracy cell: the figure with its interval and n, or "too few reviews".
#[component]
fn Accuracy(tally: Tally, min_n: u64) -> impl IntoView {
    let n = tally.n();
    if n == 0 {
        return view! { <span class="subtle">"no reviews"</span> }.into_any();
    }
    let enough = n >= min_n.max(1);
    view! {
        <span class="accuracy" class:too-few=!enough title=describe(&tally)>
            {if enough {
                view! { <span class="figure">{tally.accuracy().map(percent).unwrap_or_default()}</span> }.into_any()
            } else {
                view! { <span class="figure too-few-label">"too few reviews"</span> }.into_any()
            }}
            <span class="subtle interval">{interval_text(&tally)}</span>
            <span class="subtle n">{format!("n={}", figures::count(n))}{(!enough).then(|| format!(" of {min_n}"))}</span>
        </span>
    }
    .into_any()
}

#[component]
fn ChangeMarker(period: Period) -> impl IntoView {
    if period.change == Change::TooFewReviews {
        // The accuracy above already says "too few reviews"; no claim about a change.
        return ().into_any();
    }
    let class = match period.change {
        Change::Up => "change up",
        Change::Down => "change down",
        _ => "change none",
    };
    let arrow = match period.change {
        Change::Up => "▲ ",
        Change::Down => "▼ ",
        _ => "",
    };
    let title = match period.comparison {
        Some(c) => format!(
            "against the {} days before: {} ({}, p = {:.3})",
            period.days,
            describe(&period.previous),
            c.test.label(),
            c.p
        ),
        None => format!(
            "against the {} days before: {}",
            period.days,
            describe(&period.previous)
        ),
    };
    view! { <span class=class title=title data-testid="change">{arrow}{period.change.label()}</span> }
        .into_any()
}

fn sampled_href(base: &str, pairs: &[(&str, String)], all_reviews: bool) -> String {
    let mut pairs: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| *k != "sampled")
        .cloned()
        .collect();
    if all_reviews {
        pairs.push(("sampled", "false".into()));
    }
    with_query(base, &encode_query(&pairs))
}

/// "Sampled reviews | All reviews", as links that keep the rest of the URL.
#[component]
fn ReviewsSwitch(
    base: String,
    pairs: Vec<(&'static str, String)>,
    all_reviews: bool,
) -> impl IntoView {
    view! {
        <div class="segmented" role="group" aria-label="Which reviews count" data-testid="reviews-switch">
            <a href=sampled_href(&base, &pairs, false) class:active=!all_reviews aria-current=(!all_reviews).then_some("true")>"Sampled reviews"</a>
            <a href=sampled_href(&base, &pairs, true) class:active=all_reviews aria-current=all_reviews.then_some("true")>"All reviews"</a>
        </div>
    }
}

/// The definitions behind every figure, shown on both pages.
#[component]
fn TrendsHelp() -> impl IntoView {
    view! {
        <details class="help card">
            <summary>"How these figures are computed"</summary>
            <ul>
                <li><strong>"Accuracy"</strong>" = correct / (correct + incorrect) over calls whose current review says so. A re-review moves a call between the counts; unreviewed calls are not in n. A call counts in the UTC day (or ISO week, Monday first) it was made, not the day it was reviewed."</li>
                <li><strong>"Sampled reviews"</strong>" (the default) are calls the review queue drew at random: calls people chose to open are a biased sample. “All reviews” counts every reviewed call; the switch says which one the figures use."</li>
                <li><strong>"Interval"</strong>": the 95% Wilson score interval. Two periods or versions are compared with Fisher's exact test (two-sided) when any cell is under 10, otherwise the two-proportion z-test; against the best of several versions, Holm's correction is applied. A change is marked only at p < 0.05."</li>
                <li><strong>"Too few reviews"</strong>": under the operation's minimum n (set on its settings page, 30 by default) a figure is drawn hollow and never recommended."</li>
                <li><strong>"Recommended version"</strong>": among versions with at least the minimum n in the last 30 days whose lower bound reaches the operation's target, the cheapest per call; with no target, or when none reaches it, the highest lower bound."</li>
            </ul>
        </details>
    }
}
