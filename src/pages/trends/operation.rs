//! `/trends/{operation}`: one operation's accuracy per model version over time, volume,
//! failure tags, the version table and the routing advice.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use super::{interval_text, Accuracy, ReviewsSwitch, TrendsHelp};
use crate::api::trends::load_operation_trends;
use crate::components::alerts::AlertHistory;
use crate::components::chart::{AccuracyChart, ChartLine, ChartPoint, ShareBars, VolumeChart};
use crate::components::failure::Failure;
use crate::components::figures;
use crate::components::markup;
use crate::model::trends::{
    day_date, describe, percent, Bucket, OperationTrends, Standing, Version, ALPHA,
    MAX_DAY_BUCKETS, ROUTING_DAYS,
};
use crate::model::{encode_query, with_query};

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

/// The feed of an operation's calls (of one version, or all), to which each bucket's link
/// adds its dates. Built once per line: a day-bucket chart has a link on every point.
fn feed_base(operation: &str, version: Option<&Version>) -> String {
    let mut pairs = vec![("operation", operation.to_string())];
    if let Some(v) = version {
        pairs.push(("model", v.model.clone()));
        pairs.push(("model_version", v.version.clone()));
    }
    with_query("/calls", &encode_query(&pairs))
}

/// The query pairs that narrow a feed link to one bucket's dates (the last bucket ends with
/// the range), appended to a line's [`feed_base`]. One per bucket: the lines share them.
fn bucket_range(bucket: Bucket, start: i64, to_day: i64) -> String {
    let last = (start + bucket.days() - 1).min(to_day - 1);
    format!("&from={}&to={}", day_date(start), day_date(last))
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
        alert,
        widened_to_weeks,
    } = trends;
    let all = query.all_reviews;
    let base = format!("/trends/{operation}");
    let labels: Vec<String> = buckets
        .iter()
        .map(|b| bucket_label(query.bucket, *b))
        .collect();
    let colour_of = |v: &Version| all_versions.iter().position(|a| a == v).unwrap_or(0);
    let index_of = |start: i64| buckets.binary_search(&start).unwrap_or(0);
    let dates: Vec<String> = buckets.iter().map(|b| day_date(*b).to_string()).collect();
    let ranges: Vec<String> = buckets
        .iter()
        .map(|b| bucket_range(query.bucket, *b, to_day))
        .collect();
    // A feed link narrowed to the bucket at `x`.
    let bucket_link = |feed: &str, x: usize| {
        let mut href = String::with_capacity(feed.len() + ranges[x].len());
        href.push_str(feed);
        href.push_str(&ranges[x]);
        href
    };

    // Each point's figures as text, formatted once for the chart's readout and the table.
    let texts: Vec<Vec<(String, String)>> = lines
        .iter()
        .map(|line| {
            line.points
                .iter()
                .map(|p| {
                    let tally = p.tally(all);
                    (
                        tally.accuracy().map(percent).unwrap_or_default(),
                        interval_text(&tally),
                    )
                })
                .collect()
        })
        .collect();
    let chart_lines: Vec<ChartLine> = lines
        .iter()
        .zip(&texts)
        .map(|(line, texts)| {
            let label = line.version.label();
            let feed = feed_base(&operation, Some(&line.version));
            ChartLine {
                colour: colour_of(&line.version),
                points: line
                    .points
                    .iter()
                    .zip(texts)
                    .filter_map(|(p, (accuracy, interval))| {
                        let tally = p.tally(all);
                        let (low, high) = tally.interval()?;
                        let hollow = tally.n() < min_reviews.max(1);
                        let x = index_of(p.start);
                        let mut caption = String::with_capacity(96);
                        caption.push_str(&label);
                        caption.push_str(" · ");
                        caption.push_str(&labels[x]);
                        caption.push_str(": ");
                        markup::number(&mut caption, tally.correct);
                        caption.push_str(" correct of n=");
                        markup::number(&mut caption, tally.n());
                        caption.push_str(" = ");
                        caption.push_str(accuracy);
                        caption.push_str(" (95% ");
                        caption.push_str(interval);
                        caption.push(')');
                        if hollow {
                            caption.push_str(" · too few reviews");
                        }
                        Some(ChartPoint {
                            x,
                            value: tally.accuracy()?,
                            low,
                            high,
                            hollow,
                            caption,
                            href: bucket_link(&feed, x),
                        })
                    })
                    .collect(),
                label,
            }
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

    // The data table's rows as text (see `markup`): a row per point, over a thousand at
    // day buckets.
    let mut data_rows = String::new();
    for (line, texts) in lines.iter().zip(texts) {
        let label = line.version.label();
        for (p, (accuracy, interval)) in line.points.iter().zip(texts) {
            let tally = p.tally(all);
            data_rows.push_str(r#"<tr data-testid="data-row"><td>"#);
            markup::text(&mut data_rows, &label);
            data_rows.push_str("</td><td>");
            markup::text(&mut data_rows, &dates[index_of(p.start)]);
            data_rows.push_str(r#"</td><td data-testid="data-n">"#);
            markup::number(&mut data_rows, tally.n());
            data_rows.push_str("</td><td>");
            markup::number(&mut data_rows, tally.correct);
            data_rows.push_str("</td><td>");
            if tally.n() < min_reviews.max(1) {
                data_rows.push_str("too few reviews (");
                markup::text(&mut data_rows, &accuracy);
                data_rows.push(')');
            } else {
                markup::text(&mut data_rows, &accuracy);
            }
            data_rows.push_str("</td><td>");
            markup::text(&mut data_rows, &interval);
            data_rows.push_str("</td></tr>");
        }
    }

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
    // The tag table's rows as text (see `markup`): a cell per tag and bucket.
    let mut tag_rows = String::new();
    let mut tag_row = |name: &str, counts: &[u64], class: &str| {
        tag_rows.push_str("<tr");
        tag_rows.push_str(class);
        tag_rows.push_str(r#"><th scope="row">"#);
        markup::text(&mut tag_rows, name);
        tag_rows.push_str("</th>");
        for n in counts {
            tag_rows.push_str(r#"<td class="num">"#);
            markup::number(&mut tag_rows, n);
            tag_rows.push_str("</td>");
        }
        tag_rows.push_str("</tr>");
    };
    for tag in &tags {
        tag_row(&tag.tag, &tag.counts, "");
    }
    tag_row("incorrect calls", &incorrect, r#" class="total-row""#);

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
    let all_feed = feed_base(&operation, None);
    let volume_hrefs: Vec<String> = volume
        .iter()
        .map(|v| bucket_link(&all_feed, index_of(v.start)))
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
            // The bucket asked for: a range narrowed after a widening gets its days back.
            <input type="hidden" name="bucket" value=if widened_to_weeks { Bucket::Day.as_str() } else { query.bucket.as_str() }/>
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
            {widened_to_weeks.then(|| view! {
                <p class="hint widened" role="status" data-testid="bucket-widened">
                    {format!("Day buckets cover at most {MAX_DAY_BUCKETS} days; this {}-day range is drawn by week. Narrow From and To to see days.", to_day - from_day)}
                </p>
            })}
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
                    // Figures from the third column on, aligned by the table's class rather
                    // than a class on each of over a thousand cells.
                    <table class="grid figures-from-3">
                        <caption class="subtle">{format!("Accuracy per model version and {}, {}", query.bucket.as_str(), query.reviews_label())}</caption>
                        <thead><tr>
                            <th scope="col">"Version"</th><th scope="col">{if query.bucket == Bucket::Week { "Week of" } else { "Day" }}</th>
                            <th scope="col" class="num">"n"</th><th scope="col" class="num">"k (correct)"</th>
                            <th scope="col" class="num">"Accuracy"</th><th scope="col" class="num">"95% interval"</th>
                        </tr></thead>
                        <tbody inner_html=data_rows></tbody>
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
                                <tbody inner_html=tag_rows></tbody>
                            </table>
                        </div>
                    </details>
                }.into_any()
            }}
        </section>
        <AlertHistory status=alert target min_reviews/>
        <TrendsHelp/>
    }
}
