//! Charts as hand-written SVG, rendered on the server (visible without JavaScript and in the
//! first paint) and hydrated only for the hover readout. Each chart carries a `<title>` and
//! `<desc>`; the pages put a data table beside it. Colours come from CSS (`.series-N`), so
//! light and dark themes restyle them. Why not a chart crate: docs/decisions.md.

use leptos::prelude::*;

use super::markup;

/// The drawing area, in SVG units (the SVG scales to the width it is given).
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// Series colours defined in the stylesheet.
pub const PALETTE: usize = 8;

/// One point of a line: its bucket's index on the x axis, value and interval (shares in
/// 0..=1), whether it is drawn hollow (too few reviews), its readout and the feed link.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    pub x: usize,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub hollow: bool,
    pub caption: String,
    pub href: String,
}

/// One line: a label and its points in x order.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartLine {
    pub label: String,
    /// Index into the palette (stable per version across charts).
    pub colour: usize,
    pub points: Vec<ChartPoint>,
}

fn x_of(index: usize, count: usize) -> f64 {
    let plot = WIDTH - LEFT - RIGHT;
    if count <= 1 {
        LEFT + plot / 2.0
    } else {
        LEFT + plot * index as f64 / (count - 1) as f64
    }
}

fn y_of(value: f64, floor: f64) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    let span = (1.0 - floor).max(0.01);
    TOP + plot * (1.0 - ((value - floor) / span).clamp(0.0, 1.0))
}

/// Which x labels to print: about six, always the first and last.
fn label_steps(count: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let step = count.div_ceil(6).max(1);
    let mut steps: Vec<usize> = (0..count).step_by(step).collect();
    if let Some(&last) = steps.last() {
        if last != count - 1 {
            // A last label too close to the one before replaces it.
            if count - 1 - last < step / 2 + 1 && steps.len() > 1 {
                steps.pop();
            }
            steps.push(count - 1);
        }
    }
    steps
}

/// A coordinate with one decimal, by integer arithmetic: a day-bucket chart writes tens of
/// thousands of them, and `format!("{v:.1}")` (the float formatter's exact mode) was a tenth
/// of the page's time. Rounds half away from zero; coordinates need nothing finer.
fn fmt(v: f64) -> String {
    let mut out = String::with_capacity(8);
    fmt_into(&mut out, v);
    out
}

/// [`fmt`] appended to `out`, without a string of its own.
fn fmt_into(out: &mut String, v: f64) {
    let tenths = (v * 10.0).round();
    if !tenths.is_finite() {
        out.push('0');
        return;
    }
    // Saturating: coordinates are a few thousand at most.
    let tenths = tenths as i64;
    if tenths < 0 {
        out.push('-');
    }
    markup::number(out, tenths.unsigned_abs() / 10);
    out.push('.');
    out.push(char::from(b'0' + (tenths.unsigned_abs() % 10) as u8));
}

/// `x,y` of a point appended to `out`, for a polyline's or polygon's `points`.
fn pair_into(out: &mut String, x: f64, y: f64) {
    if !out.is_empty() {
        out.push(' ');
    }
    fmt_into(out, x);
    out.push(',');
    fmt_into(out, y);
}

/// The x-axis labels and vertical ticks shared by both charts.
fn x_axis(labels: &[String]) -> impl IntoView {
    let count = labels.len();
    label_steps(count)
        .into_iter()
        .map(|i| {
            let x = fmt(x_of(i, count));
            let anchor = if i == 0 && count > 1 {
                "start"
            } else if i + 1 == count && count > 1 {
                "end"
            } else {
                "middle"
            };
            view! {
                <text class="axis-label" x=x.clone() y=fmt(HEIGHT - 10.0) text-anchor=anchor>{labels[i].clone()}</text>
            }
        })
        .collect_view()
}

/// The figures of the chart point an event came from (its link's label), if it came from one.
fn point_caption(ev: &leptos::web_sys::Event) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        ev.target()
            .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|element| element.closest("a.chart-point-link").ok().flatten())
            .and_then(|link| link.get_attribute("aria-label"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// Accuracy over time, one line per series with its 95% interval as a band, hollow points
/// under the minimum n, an optional target line. The y axis starts at the nearest 10% under
/// the lowest bound drawn.
#[component]
pub fn AccuracyChart(
    title: String,
    description: String,
    x_labels: Vec<String>,
    lines: Vec<ChartLine>,
    #[prop(default = None)] target: Option<f64>,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    let readout = RwSignal::new(None::<String>);
    let lowest = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.low))
        .chain(target)
        .fold(1.0f64, f64::min);
    let floor = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let count = x_labels.len();
    let radius = if count <= 40 {
        "4"
    } else if count <= 100 {
        "3"
    } else {
        "2.2"
    };
    let grid = {
        let mut ticks = Vec::new();
        let mut tick = 1.0f64;
        while tick >= floor - 1e-9 {
            ticks.push(tick);
            tick -= if 1.0 - floor <= 0.3 { 0.05 } else { 0.1 };
        }
        ticks
            .into_iter()
            .map(|t| {
                let y = fmt(y_of(t, floor));
                view! {
                    <line class="grid-line" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=y.clone() y2=y.clone()/>
                    <text class="axis-label" x=fmt(LEFT - 6.0) y=fmt(y_of(t, floor) + 4.0) text-anchor="end">{format!("{:.0}%", t * 100.0)}</text>
                }
            })
            .collect_view()
    };
    let target_line = target.map(|t| {
        let y = fmt(y_of(t, floor));
        view! {
            <line class="target-line" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=y.clone() y2=y.clone()/>
            <text class="axis-label target-label" x=fmt(WIDTH - RIGHT + 4.0) y=fmt(y_of(t, floor) + 4.0)>{format!("target {:.0}%", t * 100.0)}</text>
        }
    });
    let drawn = lines
        .iter()
        .map(|line| {
            let x = |p: &ChartPoint| x_of(p.x, count);
            let mut band = String::with_capacity(line.points.len() * 24);
            for p in &line.points {
                pair_into(&mut band, x(p), y_of(p.high, floor));
            }
            for p in line.points.iter().rev() {
                pair_into(&mut band, x(p), y_of(p.low, floor));
            }
            let mut path = String::with_capacity(line.points.len() * 12);
            for p in &line.points {
                pair_into(&mut path, x(p), y_of(p.value, floor));
            }
            // The link's label is the point's figures for screen readers; pointing at or
            // focusing a point shows them in the readout, through one listener on the chart
            // (`point_caption`) rather than two per point. No `<title>` per point: the same
            // text a third time made day-bucket pages a third larger. Written as text: a
            // day-bucket chart has over a thousand points (see `markup`).
            let mut dots = String::with_capacity(line.points.len() * 320);
            for p in &line.points {
                dots.push_str(r#"<a class="chart-point-link" href=""#);
                markup::text(&mut dots, &p.href);
                dots.push_str(r#"" aria-label=""#);
                markup::text(&mut dots, &p.caption);
                // Styled by its link (`.chart-point-link circle`): a class on each of a
                // thousand circles was 5% of a day-bucket page.
                dots.push_str(if p.hollow {
                    r#""><circle class="hollow" cx=""#
                } else {
                    r#""><circle cx=""#
                });
                fmt_into(&mut dots, x(p));
                dots.push_str(r#"" cy=""#);
                fmt_into(&mut dots, y_of(p.value, floor));
                dots.push_str(r#"" r=""#);
                dots.push_str(radius);
                dots.push_str(r#""></circle></a>"#);
            }
            view! {
                <g class=format!("series series-{}", line.colour % PALETTE)>
                    {(line.points.len() > 1).then(|| view! { <polygon class="band" points=band/> })}
                    {(line.points.len() == 1).then(|| {
                        let p = &line.points[0];
                        view! { <line class="band-whisker" x1=fmt(x_of(p.x, count)) x2=fmt(x_of(p.x, count)) y1=fmt(y_of(p.high, floor)) y2=fmt(y_of(p.low, floor))/> }
                    })}
                    <polyline class="line" points=path/>
                    <g class="points" inner_html=dots></g>
                </g>
            }
        })
        .collect_view();
    let legend = lines
        .iter()
        .map(|l| {
            view! {
                <li class=format!("series-{}", l.colour % PALETTE)><span class="swatch"></span>{l.label.clone()}</li>
            }
        })
        .collect_view();
    let empty = lines.iter().all(|l| l.points.is_empty());
    view! {
        <figure class="chart" data-testid=test_id>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=format!("{test_id}-title {test_id}-desc") preserveAspectRatio="xMidYMid meet"
                on:mouseover=move |ev| if let Some(caption) = point_caption(&ev) { readout.set(Some(caption)) }
                on:focusin=move |ev| if let Some(caption) = point_caption(&ev) { readout.set(Some(caption)) }>
                <title id=format!("{test_id}-title")>{title.clone()}</title>
                <desc id=format!("{test_id}-desc")>{description.clone()}</desc>
                {grid}
                {target_line}
                {x_axis(&x_labels)}
                {drawn}
                {empty.then(|| view! { <text class="chart-empty" x=fmt(WIDTH / 2.0) y=fmt(HEIGHT / 2.0) text-anchor="middle">"No reviews in this range"</text> })}
            </svg>
            <figcaption>
                <ul class="legend">{legend}</ul>
                <p class="chart-readout" aria-live="polite" data-testid="chart-readout">
                    {move || readout.get().unwrap_or_else(|| "Point at a dot for its figures; a hollow dot has too few reviews; a dot opens its calls.".into())}
                </p>
            </figcaption>
        </figure>
    }
}

/// Calls per bucket as bars (left scale) and sampled reviews as a line (right scale).
#[component]
pub fn VolumeChart(
    title: String,
    description: String,
    x_labels: Vec<String>,
    calls: Vec<u64>,
    reviews: Vec<u64>,
    hrefs: Vec<String>,
) -> impl IntoView {
    let count = x_labels.len();
    let max_calls = calls.iter().copied().max().unwrap_or(0).max(1) as f64;
    let max_reviews = reviews.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / count.max(1) as f64;
    let bar_width = (slot * 0.7).clamp(1.0, 24.0);
    let x_centre = |i: usize| {
        if count <= 1 {
            x_of(0, 1)
        } else {
            // Bars sit on the same x as the accuracy chart's points.
            x_of(i, count)
        }
    };
    let bars = calls
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let h = plot * n as f64 / max_calls;
            let label = format!(
                "{}: {} calls, {} sampled reviews",
                x_labels[i],
                n,
                reviews.get(i).copied().unwrap_or(0)
            );
            let aria = label.clone();
            view! {
                <a href=hrefs.get(i).cloned().unwrap_or_default() aria-label=aria>
                    <rect class="bar" x=fmt(x_centre(i) - bar_width / 2.0) y=fmt(TOP + plot - h) width=fmt(bar_width) height=fmt(h.max(0.0))>
                        <title>{label}</title>
                    </rect>
                </a>
            }
        })
        .collect_view();
    let review_points: Vec<String> = reviews
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            format!(
                "{},{}",
                fmt(x_centre(i)),
                fmt(TOP + plot - plot * n as f64 / max_reviews)
            )
        })
        .collect();
    view! {
        <figure class="chart" data-testid="volume-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="volume-title volume-desc" preserveAspectRatio="xMidYMid meet">
                <title id="volume-title">{title}</title>
                <desc id="volume-desc">{description}</desc>
                <line class="grid-line" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=fmt(TOP) y2=fmt(TOP)/>
                <line class="grid-line" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=fmt(TOP + plot) y2=fmt(TOP + plot)/>
                <text class="axis-label" x=fmt(LEFT - 6.0) y=fmt(TOP + 4.0) text-anchor="end">{crate::components::figures::count(max_calls as u64)}</text>
                <text class="axis-label" x=fmt(LEFT - 6.0) y=fmt(TOP + plot + 4.0) text-anchor="end">"0"</text>
                <text class="axis-label reviews-label" x=fmt(WIDTH - RIGHT + 6.0) y=fmt(TOP + 4.0)>{crate::components::figures::count(max_reviews as u64)}</text>
                {x_axis(&x_labels)}
                {bars}
                <polyline class="reviews-line" points=review_points.join(" ")/>
            </svg>
            <figcaption>
                <ul class="legend">
                    <li class="legend-calls"><span class="swatch"></span>"calls (left scale)"</li>
                    <li class="legend-reviews"><span class="swatch"></span>"sampled reviews (right scale)"</li>
                </ul>
            </figcaption>
        </figure>
    }
}

/// A small bar chart of shares (0..=1) per bucket, for the failure tags' small multiples.
#[component]
pub fn ShareBars(label: String, shares: Vec<Option<f64>>, captions: Vec<String>) -> impl IntoView {
    let (w, h) = (240.0, 48.0);
    let count = shares.len().max(1);
    let slot = w / count as f64;
    // Written as text: eight tags of a day-bucket page are over a thousand bars.
    let mut bars = String::with_capacity(shares.len() * 120);
    bars.push_str(r#"<line class="grid-line" x1="0" x2=""#);
    bars.push_str(&fmt(w));
    bars.push_str(r#"" y1=""#);
    bars.push_str(&fmt(h));
    bars.push_str(r#"" y2=""#);
    bars.push_str(&fmt(h));
    bars.push_str(r#""></line>"#);
    for (i, share) in shares.iter().enumerate() {
        let Some(s) = share else { continue };
        let bh = (h * s).max(if *s > 0.0 { 1.0 } else { 0.0 });
        bars.push_str(r#"<rect class="bar" x=""#);
        fmt_into(&mut bars, i as f64 * slot + slot * 0.1);
        bars.push_str(r#"" y=""#);
        fmt_into(&mut bars, h - bh);
        bars.push_str(r#"" width=""#);
        fmt_into(&mut bars, (slot * 0.8).max(0.5));
        bars.push_str(r#"" height=""#);
        fmt_into(&mut bars, bh);
        bars.push_str(r#""><title>"#);
        markup::text(&mut bars, captions.get(i).map_or("", String::as_str));
        bars.push_str("</title></rect>");
    }
    view! {
        <svg class="share-bars" viewBox=format!("0 0 {w} {h}") role="img" aria-label=label preserveAspectRatio="none"
            inner_html=bars>
        </svg>
    }
}

/// A tiny line of weekly shares: `None` is a week without reviews (a gap), a hollow dot a
/// week under the minimum n.
#[component]
pub fn Sparkline(label: String, points: Vec<Option<(f64, bool)>>) -> impl IntoView {
    let (w, h) = (96.0, 24.0);
    let count = points.len().max(2);
    // From the nearest 10% under the lowest week to 100%: flat lines at 90% stay readable.
    let lowest = points
        .iter()
        .flatten()
        .map(|(v, _)| *v)
        .fold(1.0f64, f64::min);
    let floor = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let x = |i: usize| 3.0 + (w - 6.0) * i as f64 / (count - 1) as f64;
    let y = |v: f64| 3.0 + (h - 6.0) * (1.0 - ((v - floor) / (1.0 - floor)).clamp(0.0, 1.0));
    let mut segments: Vec<Vec<String>> = vec![Vec::new()];
    for (i, point) in points.iter().enumerate() {
        match point {
            Some((v, _)) => {
                if let Some(last) = segments.last_mut() {
                    last.push(format!("{},{}", fmt(x(i)), fmt(y(*v))));
                }
            }
            None => segments.push(Vec::new()),
        }
    }
    let lines = segments
        .into_iter()
        .filter(|s| s.len() > 1)
        .map(|s| view! { <polyline class="line" points=s.join(" ")/> })
        .collect_view();
    let dots = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.map(|(v, hollow)| {
                view! { <circle class=if hollow { "dot hollow" } else { "dot" } cx=fmt(x(i)) cy=fmt(y(v)) r="1.8"/> }
            })
        })
        .collect_view();
    view! {
        <svg class="sparkline series-0" viewBox=format!("0 0 {w} {h}") role="img" aria-label=label>
            {lines}
            {dots}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::{fmt, label_steps};

    #[test]
    fn coordinates_keep_one_decimal_like_the_float_formatter() {
        for v in [0.0, 48.0, 51.64, 712.0, 239.96, 3.05, -4.26, 1e-9] {
            assert_eq!(
                fmt(v),
                format!("{:.1}", (v * 10.0f64).round() / 10.0),
                "{v}"
            );
        }
        assert_eq!(fmt(-0.01), "0.0");
        assert_eq!(fmt(f64::NAN), "0");
    }

    #[test]
    fn axis_labels_include_both_ends_and_stay_few() {
        for count in 1..200 {
            let steps = label_steps(count);
            assert_eq!(steps.first(), Some(&0));
            assert_eq!(steps.last(), Some(&(count - 1)));
            assert!(steps.len() <= 8, "{count}: {steps:?}");
            assert!(steps.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
