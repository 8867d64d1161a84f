//! The verdict badge and the verdict tabs with their counts.

use leptos::prelude::*;

use super::figures::count;
use crate::model::{feed_href, CallFilter, Verdict, VerdictCounts};

#[component]
pub fn VerdictBadge(verdict: Verdict) -> impl IntoView {
    view! {
        <span class=format!("badge badge-{}", verdict.as_str()) data-verdict=verdict.as_str()>
            {verdict.label()}
        </span>
    }
}

/// All / Unreviewed / Correct / Incorrect, each a link keeping the rest of the filter.
#[component]
pub fn VerdictTabs(filter: CallFilter, counts: VerdictCounts) -> impl IntoView {
    let plus = if counts.capped { "+" } else { "" };
    let tabs = std::iter::once((None, "All", counts.total()))
        .chain(Verdict::ALL.into_iter().map(|v| (Some(v), v.label(), counts.get(v))))
        .map(|(verdict, label, n)| {
            let active = filter.verdict == verdict;
            let key = verdict.map(Verdict::as_str).unwrap_or("all");
            view! {
                <a
                    class="tab"
                    class:active=active
                    aria-current=active.then_some("page")
                    data-testid=format!("tab-{key}")
                    href=feed_href(&filter.with_verdict(verdict), None)
                >
                    <span>{label}</span>
                    <span class="tab-count" data-testid=format!("count-{key}")>{format!("{}{plus}", count(n))}</span>
                </a>
            }
        })
        .collect_view();
    view! { <nav class="tabs" aria-label="Verdict">{tabs}</nav> }
}
