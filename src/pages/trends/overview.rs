//! `/trends`: the overview of every operation, sortable, with the recommended version.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use super::{Accuracy, ChangeMarker, ReviewsSwitch, TrendsHelp};
use crate::api::trends::load_trends;
use crate::components::chart::Sparkline;
use crate::components::failure::Failure;
use crate::components::figures;
use crate::model::filter::decode_query;
use crate::model::trends::{
    day_date, describe, percent, Overview, OverviewRow, Period, Recommendation,
};
use crate::model::{encode_query, with_query};

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Operation,
    Week,
    Month,
    Calls,
    Coverage,
}

impl SortKey {
    fn parse(text: &str) -> SortKey {
        match text {
            "7d" => SortKey::Week,
            "30d" => SortKey::Month,
            "calls" => SortKey::Calls,
            "coverage" => SortKey::Coverage,
            _ => SortKey::Operation,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SortKey::Operation => "operation",
            SortKey::Week => "7d",
            SortKey::Month => "30d",
            SortKey::Calls => "calls",
            SortKey::Coverage => "coverage",
        }
    }
}

fn sort_rows(rows: &mut [OverviewRow], key: SortKey, descending: bool) {
    let value = |row: &OverviewRow| -> f64 {
        let shown = |p: &Period| {
            if p.tally.n() >= row.min_reviews.max(1) {
                p.tally.accuracy().unwrap_or(-1.0)
            } else {
                -1.0
            }
        };
        match key {
            SortKey::Operation => 0.0,
            SortKey::Week => shown(&row.last7),
            SortKey::Month => shown(&row.last30),
            SortKey::Calls => row.last30.calls as f64,
            SortKey::Coverage => row.last30.coverage().unwrap_or(-1.0),
        }
    };
    rows.sort_by(|a, b| {
        let order = if key == SortKey::Operation {
            a.operation.cmp(&b.operation)
        } else {
            value(a)
                .total_cmp(&value(b))
                .then(a.operation.cmp(&b.operation))
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
}

#[component]
pub fn TrendsPage() -> impl IntoView {
    let location = use_location();
    let all_reviews = Memo::new(move |_| {
        decode_query(&location.search.get())
            .iter()
            .any(|(k, v)| k == "sampled" && v == "false")
    });
    let overview = Resource::new(move || all_reviews.get(), load_trends);
    view! {
        <Title text="Trends"/>
        <div class="page trends-page">
            <Transition fallback=|| view! { <p class="subtle">"Loading trends…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => {
                            let pairs = decode_query(&location.search.get_untracked());
                            view! { <OverviewBody overview pairs/> }.into_any()
                        }
                        Err(error) => view! { <Failure title="The trends could not be loaded" error/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn OverviewBody(overview: Overview, pairs: Vec<(String, String)>) -> impl IntoView {
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let key = SortKey::parse(&param("sort"));
    let descending = param("dir") == "desc";
    let all_reviews = overview.all_reviews;
    let mut rows = overview.rows;
    sort_rows(&mut rows, key, descending);
    let base_pairs: Vec<(&'static str, String)> = if all_reviews {
        vec![("sampled", "false".to_string())]
    } else {
        Vec::new()
    };
    let header = move |label: &'static str, column: SortKey, numeric: bool| {
        let active = key == column;
        let next_desc = if active { !descending } else { numeric };
        let mut link = base_pairs.clone();
        link.push(("sort", column.as_str().to_string()));
        if next_desc {
            link.push(("dir", "desc".to_string()));
        }
        let sort = match (active, descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        view! {
            <th scope="col" aria-sort=sort class:num=numeric>
                <a href=with_query("/trends", &encode_query(&link)) class="sort-link" class:active=active>
                    {label}{active.then(|| if descending { " ↓" } else { " ↑" })}
                </a>
            </th>
        }
    };
    let flagged: Vec<OverviewRow> = rows
        .iter()
        .filter(|r| r.dropped.is_some())
        .cloned()
        .collect();
    let switch_pairs: Vec<(&'static str, String)> = pairs
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "sort" => Some(("sort", v.clone())),
            "dir" => Some(("dir", v.clone())),
            _ => None,
        })
        .collect();
    let empty = rows.is_empty();
    let body = rows
        .into_iter()
        .map(|row| view! { <OverviewLine row all_reviews/> })
        .collect_view();
    view! {
        <div class="page-head split">
            <div>
                <h1>"Trends"</h1>
                <p class="subtle">{format!("Accuracy per operation from {} · periods end today ({}, UTC)", if all_reviews { "all reviews" } else { "sampled reviews" }, day_date(overview.today))}</p>
            </div>
            <ReviewsSwitch base="/trends".into() pairs=switch_pairs all_reviews/>
        </div>
        {(!flagged.is_empty()).then(|| view! {
            <section class="panel alert-panel" role="alert" data-testid="drops">
                <h2>"Significant drops in the last 7 days"</h2>
                <ul>
                    {flagged.into_iter().map(|row| {
                        let comparison = row.dropped;
                        view! {
                            <li>
                                <a class="strong" href=format!("/trends/{}", row.operation)>{row.operation.clone()}</a>
                                {format!(": {} in the last 7 days against {} in the 30 days before", describe(&row.last7.tally), describe(&row.baseline))}
                                {comparison.map(|c| format!(" ({}, p = {:.3})", c.test.label(), c.p))}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {if empty {
            view! {
                <section class="panel empty" data-testid="trends-empty">
                    <h2>"No operations yet"</h2>
                    <p>"Trends appear once calls are ingested and reviewed. Sampled reviews come from the review queue."</p>
                    <a class="button" href="/review">"Open the review queue"</a>
                </section>
            }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="grid trends-table" data-testid="trends-table">
                        <thead><tr>
                            {header("Operation", SortKey::Operation, false)}
                            {header("Last 7 days", SortKey::Week, true)}
                            {header("Last 30 days", SortKey::Month, true)}
                            {header("Calls (30 d)", SortKey::Calls, true)}
                            {header("Coverage", SortKey::Coverage, true)}
                            <th scope="col">"Weekly"</th>
                            <th scope="col">"Recommended version"</th>
                        </tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <TrendsHelp/>
    }
}

#[component]
fn OverviewLine(row: OverviewRow, all_reviews: bool) -> impl IntoView {
    let href = if all_reviews {
        format!("/trends/{}?sampled=false", row.operation)
    } else {
        format!("/trends/{}", row.operation)
    };
    let min_n = row.min_reviews;
    let spark: Vec<Option<(f64, bool)>> = row
        .weekly
        .iter()
        .map(|(_, t)| t.accuracy().map(|a| (a, t.n() < min_n.max(1))))
        .collect();
    let spark_label = format!(
        "weekly accuracy, last {} weeks: {}",
        row.weekly.len(),
        row.weekly
            .iter()
            .map(|(start, t)| format!("{}: {}", day_date(*start), describe(t)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let coverage = row.last30.coverage();
    view! {
        <tr data-testid="trends-row" class:flagged=row.dropped.is_some()>
            <td>
                <a class="strong row-link" href=href data-testid="trends-link">{row.operation.clone()}</a>
                {row.target.map(|t| view! { <div class="subtle row-note">{format!("target {}", percent(t))}</div> })}
            </td>
            <td class="num"><Accuracy tally=row.last7.tally min_n/><ChangeMarker period=row.last7.clone()/></td>
            <td class="num"><Accuracy tally=row.last30.tally min_n/><ChangeMarker period=row.last30.clone()/></td>
            <td class="num">{figures::count(row.last30.calls)}</td>
            <td class="num" title=format!("{} sampled reviews of {} calls in the last 30 days", row.last30.sampled_reviews, row.last30.calls)>
                {coverage.map(|c| if c > 0.0 && c < 0.001 { "<0.1%".to_string() } else { percent(c) }).unwrap_or_else(|| "—".into())}
            </td>
            <td><Sparkline label=spark_label points=spark/></td>
            <td><RecommendationCell advice=row.recommendation/></td>
        </tr>
    }
}

#[component]
fn RecommendationCell(advice: Recommendation) -> impl IntoView {
    match &advice.version {
        Some(v) => view! {
            <span class="rec-cell" title=advice.reason.clone() data-testid="recommended">
                <span class="strong">{v.version.label()}</span>
                {(!advice.meets_target).then(|| view! { <span class="badge badge-unreviewed">"no version meets the target"</span> })}
            </span>
        }
        .into_any(),
        None => view! { <span class="subtle" title=advice.reason.clone() data-testid="recommended">"too few reviews"</span> }.into_any(),
    }
}
