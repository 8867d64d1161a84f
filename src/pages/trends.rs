//! `/trends`: every operation's accuracy over the last 7 and 30 days with n, interval and a
//! tested change, review coverage, a weekly sparkline and the recommended model version;
//! significant drops flagged first. `/trends/{operation}`: accuracy per model version over
//! time with interval bands, calls and sampled reviews, the version table, failure tags over
//! time and the routing advice. Everything is in the URL and renders without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use crate::api::trends::{load_operation_trends, load_trends};
use crate::components::chart::{
    AccuracyChart, ChartLine, ChartPoint, ShareBars, Sparkline, VolumeChart,
};
use crate::components::failure::Failure;
use crate::components::figures;
use crate::model::filter::decode_query;
use crate::model::trends::{
    day_date, describe, percent, Bucket, Change, OperationTrends, Overview, OverviewRow, Period,
    Recommendation, Standing, Tally, Version, ALPHA, ROUTING_DAYS,
};
use crate::model::{encode_query, with_query};

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

// ---------------------------------------------------------------- overview

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

// ---------------------------------------------------------------- one operation

#[component]
pub fn OperationTrendsPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let name = Memo::new(move |_| params.read().get("operation").unwrap_or_default());
    let data = Resource::new(
        move || (name.get(), location.search.get()),
        |(name, search)| load_operation_trends(name, search),
    );
    view! {
        <div class="page trends-page">
            <nav class="crumbs"><a href="/trends">"Trends"</a>" / "{move || name.get()}</nav>
            <Transition fallback=|| view! { <p class="subtle">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(trends) => view! { <OperationTrendsBody trends/> }.into_any(),
                        Err(error) => view! {
                            <Title text="Trends"/>
                            <Failure title="The trends could not be loaded" error>
                                <a class="button" href="/trends">"All operations"</a>
                            </Failure>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// The label of a bucket: its first day, or its days for a week.
fn bucket_label(bucket: Bucket, start: i64) -> String {
    let first = day_date(start);
    match bucket {
        Bucket::Day => first.format("%b %-d").to_string(),
        Bucket::Week => format!("wk {}", first.format("%b %-d")),
    }
}

/// The feed of an operation's calls in one bucket (one version, or all).
fn feed_link(
    operation: &str,
    version: Option<&Version>,
    bucket: Bucket,
    start: i64,
    to_day: i64,
) -> String {
    let last = (start + bucket.days() - 1).min(to_day - 1);
    let mut pairs = vec![("operation", operation.to_string())];
    if let Some(v) = version {
        pairs.push(("model", v.model.clone()));
        pairs.push(("model_version", v.version.clone()));
    }
    pairs.push(("from", day_date(start).to_string()));
    pairs.push(("to", day_date(last).to_string()));
    with_query("/calls", &encode_query(&pairs))
}

#[component]
fn OperationTrendsBody(trends: OperationTrends) -> impl IntoView {
    let OperationTrends {
        operation,
        description,
        target,
        min_reviews,
        query,
        from_day,
        to_day,
        buckets,
        lines,
        volume,
        tags,
        incorrect,
        versions,
        all_versions,
        recommendation,
    } = trends;
    let all = query.all_reviews;
    let base = format!("/trends/{operation}");
    let labels: Vec<String> = buckets
        .iter()
        .map(|b| bucket_label(query.bucket, *b))
        .collect();
    let colour_of = |v: &Version| all_versions.iter().position(|a| a == v).unwrap_or(0);
    let index_of = |start: i64| buckets.iter().position(|b| *b == start).unwrap_or(0);

    let chart_lines: Vec<ChartLine> = lines
        .iter()
        .map(|line| ChartLine {
            label: line.version.label(),
            colour: colour_of(&line.version),
            points: line
                .points
                .iter()
                .filter_map(|p| {
                    let tally = p.tally(all);
                    let (low, high) = tally.interval()?;
                    Some(ChartPoint {
                        x: index_of(p.start),
                        value: tally.accuracy()?,
                        low,
                        high,
                        hollow: tally.n() < min_reviews.max(1),
                        caption: format!(
                            "{} · {}: {} correct of n={} = {} (95% {}){}",
                            line.version.label(),
                            bucket_label(query.bucket, p.start),
                            tally.correct,
                            tally.n(),
                            percent(tally.accuracy().unwrap_or(0.0)),
                            interval_text(&tally),
                            if tally.n() < min_reviews.max(1) {
                                " · too few reviews"
                            } else {
                                ""
                            }
                        ),
                        href: feed_link(
                            &operation,
                            Some(&line.version),
                            query.bucket,
                            p.start,
                            to_day,
                        ),
                    })
                })
                .collect(),
        })
        .collect();

    // The URL's pairs without one parameter, for links that change only it.
    let pairs = query.to_pairs();
    let pairs_without = |name: &str| -> Vec<(&'static str, String)> {
        pairs
            .iter()
            .filter(|(k, _)| *k != name && *k != "operation")
            .cloned()
            .collect()
    };
    let bucket_href = |bucket: Bucket| {
        let mut p = pairs_without("bucket");
        if bucket != Bucket::default() {
            p.push(("bucket", bucket.as_str().into()));
        }
        with_query(&base, &encode_query(&p))
    };
    let switch_pairs = pairs_without("sampled");
    let range_text = format!("{} to {}", day_date(from_day), day_date(to_day - 1));

    let data_rows = lines
        .iter()
        .flat_map(|line| {
            line.points.iter().map(|p| {
                let tally = p.tally(all);
                let enough = tally.n() >= min_reviews.max(1);
                view! {
                    <tr data-testid="data-row">
                        <td>{line.version.label()}</td>
                        <td>{day_date(p.start).to_string()}</td>
                        <td class="num" data-testid="data-n">{tally.n()}</td>
                        <td class="num">{tally.correct}</td>
                        <td class="num">{if enough { tally.accuracy().map(percent).unwrap_or_default() } else { format!("too few reviews ({})", tally.accuracy().map(percent).unwrap_or_default()) }}</td>
                        <td class="num">{interval_text(&tally)}</td>
                    </tr>
                }
            }).collect::<Vec<_>>()
        })
        .collect_view();

    let volume_labels = labels.clone();
    let volume_rows = volume
        .iter()
        .map(|v| {
            view! {
                <tr>
                    <td>{day_date(v.start).to_string()}</td>
                    <td class="num">{figures::count(v.calls)}</td>
                    <td class="num">{figures::count(v.sampled_reviews)}</td>
                    <td class="num">{figures::count(v.reviews)}</td>
                </tr>
            }
        })
        .collect_view();

    let version_rows = versions
        .iter()
        .map(|row| {
            let f = &row.figures;
            let href = with_query(&base, &encode_query(&{
                let mut p = pairs_without("model_version");
                p.push(("model_version", format!("{}@{}", f.version.model, f.version.version)));
                p
            }));
            let standing = match &row.standing {
                Standing::Best => view! { <span class="badge badge-correct">"best"</span> }.into_any(),
                Standing::TooFewReviews => view! { <span class="subtle">"too few reviews"</span> }.into_any(),
                Standing::Compared { comparison, adjusted_p, significantly_worse } => {
                    let text = if *significantly_worse { "significantly worse" } else { "no significant difference" };
                    view! {
                        <span class=if *significantly_worse { "badge badge-incorrect" } else { "subtle" }
                            title=format!("{}, p = {:.3}, Holm-adjusted {:.3}", comparison.test.label(), comparison.p, adjusted_p)>
                            {text}
                        </span>
                    }.into_any()
                }
            };
            view! {
                <tr data-testid="version-row">
                    <td><span class=format!("swatch-inline series-{}", colour_of(&f.version) % crate::components::chart::PALETTE)></span><a href=href>{f.version.label()}</a></td>
                    <td class="num"><Accuracy tally=f.tally min_n=min_reviews/></td>
                    <td class="num subtle" title=if all { "sampled reviews only" } else { "all reviews" }>{describe(&row.other)}</td>
                    <td class="num">{figures::cost(f.mean_cost_usd)}</td>
                    <td class="num">{f.mean_latency_ms.map(|ms| format!("{:.0} ms", ms)).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{figures::count(f.calls)}</td>
                    <td>{f.first_day.map(|d| day_date(d).to_string()).unwrap_or_default()}" – "{f.last_day.map(|d| day_date(d).to_string()).unwrap_or_default()}</td>
                    <td>{standing}</td>
                </tr>
            }
        })
        .collect_view();

    let top_tags: Vec<_> = tags.iter().take(8).cloned().collect();
    let tag_multiples = top_tags
        .iter()
        .map(|tag| {
            let shares: Vec<Option<f64>> = tag
                .counts
                .iter()
                .zip(&incorrect)
                .map(|(n, total)| (*total > 0).then(|| *n as f64 / *total as f64))
                .collect();
            let captions: Vec<String> = tag
                .counts
                .iter()
                .zip(&incorrect)
                .zip(&labels)
                .map(|((n, total), label)| format!("{label}: {n} of {total} incorrect calls"))
                .collect();
            let share_total: u64 = incorrect.iter().sum();
            view! {
                <div class="multiple">
                    <div class="multiple-head"><span class="chip">{tag.tag.clone()}</span>
                        <span class="subtle">{format!("{} of {} incorrect", tag.total, share_total)}</span></div>
                    <ShareBars label=format!("share of incorrect calls tagged {} per bucket", tag.tag) shares captions/>
                </div>
            }
        })
        .collect_view();
    let tag_header = labels
        .iter()
        .map(|l| view! { <th scope="col" class="num">{l.clone()}</th> })
        .collect_view();
    let tag_rows = tags
        .iter()
        .map(|tag| {
            view! {
                <tr>
                    <th scope="row">{tag.tag.clone()}</th>
                    {tag.counts.iter().map(|n| view! { <td class="num">{*n}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view();
    let incorrect_row = incorrect
        .iter()
        .map(|n| view! { <td class="num">{*n}</td> })
        .collect_view();

    let version_picker = all_versions
        .iter()
        .map(|v| {
            let selector = format!("{}@{}", v.model, v.version);
            let checked = query.versions.iter().any(|s| *s == selector || *s == v.version);
            view! {
                <label class="check">
                    <input type="checkbox" name="model_version" value=selector checked=checked/>
                    <span class=format!("swatch-inline series-{}", colour_of(v) % crate::components::chart::PALETTE)></span>
                    {v.label()}
                </label>
            }
        })
        .collect_view();

    let accuracy_description = format!(
        "Accuracy of {operation} per {} from {range_text}, one line per model version, from {}; the band is the 95% Wilson interval; hollow points have fewer than {min_reviews} reviews.",
        query.bucket.as_str(),
        query.reviews_label()
    );
    let volume_calls: Vec<u64> = volume.iter().map(|v| v.calls).collect();
    let volume_reviews: Vec<u64> = volume.iter().map(|v| v.sampled_reviews).collect();
    let volume_hrefs: Vec<String> = volume
        .iter()
        .map(|v| feed_link(&operation, None, query.bucket, v.start, to_day))
        .collect();

    view! {
        <Title text=format!("Trends · {operation}")/>
        <div class="page-head split">
            <div>
                <h1>{operation.clone()}</h1>
                <p class="subtle">
                    {(!description.is_empty()).then(|| view! { <span dir="auto">{description.clone()}</span>" · " })}
                    {format!("{range_text} · {} · ", query.reviews_label())}
                    {match target { Some(t) => format!("target {}", percent(t)), None => "no target set".into() }}
                    {format!(" · minimum n {min_reviews} · ")}
                    <a href=format!("/calls?operation={operation}")>"Calls"</a>" · "
                    <a href=format!("/operations/{operation}")>"Settings"</a>
                </p>
            </div>
            <ReviewsSwitch base=base.clone() pairs=switch_pairs all_reviews=all/>
        </div>

        <section class="card recommendation" data-testid="recommendation">
            <h2>{format!("Recommended model version (last {ROUTING_DAYS} days)")}</h2>
            {match &recommendation.version {
                Some(v) => view! {
                    <p class="recommended-version">
                        <span class="strong" data-testid="recommended-version">{v.version.label()}</span>
                        {if recommendation.meets_target {
                            view! { <span class="badge badge-correct">"meets the target"</span> }.into_any()
                        } else if target.is_some() {
                            view! { <span class="badge badge-unreviewed">"no version meets the target"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-unreviewed">"no target set"</span> }.into_any()
                        }}
                    </p>
                }.into_any(),
                None => view! { <p class="recommended-version subtle" data-testid="recommended-version">"None yet: too few reviews"</p> }.into_any(),
            }}
            <p data-testid="recommendation-reason">{recommendation.reason.clone()}</p>
            {recommendation.versus_runner_up.map(|c| view! {
                <p class="subtle">{format!("Against the runner-up: {}, p = {:.3}{}", c.test.label(), c.p, if recommendation.significantly_better { format!(" (significant at {ALPHA})") } else { String::new() })}</p>
            })}
        </section>

        <form class="card trends-controls" method="get" action=base.clone() data-testid="trends-controls">
            <div class="segmented" role="group" aria-label="Bucket">
                <a href=bucket_href(Bucket::Day) class:active=query.bucket == Bucket::Day data-testid="bucket-day">"Day"</a>
                <a href=bucket_href(Bucket::Week) class:active=query.bucket == Bucket::Week data-testid="bucket-week">"Week"</a>
            </div>
            <input type="hidden" name="bucket" value=query.bucket.as_str()/>
            {all.then(|| view! { <input type="hidden" name="sampled" value="false"/> })}
            <label class="field">
                <span class="field-label">"From"</span>
                <input type="date" name="from" value=day_date(from_day).to_string()/>
            </label>
            <label class="field">
                <span class="field-label">"To"</span>
                <input type="date" name="to" value=day_date(to_day - 1).to_string()/>
            </label>
            <fieldset class="versions">
                <legend class="field-label">"Versions (none ticked: all)"</legend>
                {version_picker}
            </fieldset>
            <button class="button" type="submit" data-testid="trends-apply">"Apply"</button>
        </form>

        <section class="card">
            <h2>"Accuracy per model version"</h2>
            <AccuracyChart
                title=format!("Accuracy of {operation} per {}", query.bucket.as_str())
                description=accuracy_description
                x_labels=labels.clone()
                lines=chart_lines
                target=target
                test_id="accuracy-chart"
            />
            <details class="data-table" data-testid="accuracy-data">
                <summary>"Data table"</summary>
                <div class="table-wrap">
                    <table class="grid">
                        <caption class="subtle">{format!("Accuracy per model version and {}, {}", query.bucket.as_str(), query.reviews_label())}</caption>
                        <thead><tr>
                            <th scope="col">"Version"</th><th scope="col">{if query.bucket == Bucket::Week { "Week of" } else { "Day" }}</th>
                            <th scope="col" class="num">"n"</th><th scope="col" class="num">"k (correct)"</th>
                            <th scope="col" class="num">"Accuracy"</th><th scope="col" class="num">"95% interval"</th>
                        </tr></thead>
                        <tbody>{data_rows}</tbody>
                    </table>
                </div>
            </details>
        </section>

        <section class="card">
            <h2>"Calls and sampled reviews"</h2>
            <VolumeChart
                title=format!("Calls and sampled reviews of {operation} per {}", query.bucket.as_str())
                description=format!("Bars: calls per {}; line: sampled reviews, on its own scale, {range_text}.", query.bucket.as_str())
                x_labels=volume_labels
                calls=volume_calls
                reviews=volume_reviews
                hrefs=volume_hrefs
            />
            <details class="data-table">
                <summary>"Data table"</summary>
                <div class="table-wrap">
                    <table class="grid">
                        <thead><tr><th scope="col">"From"</th><th scope="col" class="num">"Calls"</th><th scope="col" class="num">"Sampled reviews"</th><th scope="col" class="num">"All reviews"</th></tr></thead>
                        <tbody>{volume_rows}</tbody>
                    </table>
                </div>
            </details>
        </section>

        <section class="card">
            <h2>"Model versions"</h2>
            <p class="subtle">{format!("{range_text}, {}. Each version is compared with the best one (highest accuracy with at least {min_reviews} reviews), Holm-corrected.", query.reviews_label())}</p>
            <div class="table-wrap">
                <table class="grid" data-testid="version-table">
                    <thead><tr>
                        <th scope="col">"Version"</th>
                        <th scope="col" class="num">"Accuracy"</th>
                        <th scope="col" class="num">{if all { "Sampled only" } else { "All reviews" }}</th>
                        <th scope="col" class="num">"Mean cost"</th>
                        <th scope="col" class="num">"Mean latency"</th>
                        <th scope="col" class="num">"Calls"</th>
                        <th scope="col">"First – last call"</th>
                        <th scope="col">"Against the best"</th>
                    </tr></thead>
                    <tbody>{version_rows}</tbody>
                </table>
            </div>
        </section>

        <section class="card">
            <h2>"Failure tags over time"</h2>
            {if tags.is_empty() {
                view! { <p class="subtle">"No incorrect call in this range carries a failure tag."</p> }.into_any()
            } else {
                view! {
                    <p class="subtle">{format!("Share of incorrect calls ({}) carrying each tag, per {}; a call may carry several tags.", query.reviews_label(), query.bucket.as_str())}</p>
                    <div class="multiples">{tag_multiples}</div>
                    <details class="data-table">
                        <summary>"Data table"</summary>
                        <div class="table-wrap">
                            <table class="grid">
                                <thead><tr><th scope="col">"Tag"</th>{tag_header}</tr></thead>
                                <tbody>
                                    {tag_rows}
                                    <tr class="total-row"><th scope="row">"incorrect calls"</th>{incorrect_row}</tr>
                                </tbody>
                            </table>
                        </div>
                    </details>
                }.into_any()
            }}
        </section>
        <TrendsHelp/>
    }
}
