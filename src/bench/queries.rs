//! Feed queries through the store (one page of 50, per filter shape) and the pages a
//! reviewer opens, rendered by the running server.

use std::time::Instant;

use chrono::Utc;

use super::client::{request, Creds};
use super::{percentiles, AnyError, Report};
use crate::jobs::demo::Rng;
use crate::model::{FeedQuery, Verdict};
use crate::store::Store;

/// Each query shape `samples` times, then the verdict counts of one operation.
pub(super) async fn feed(
    store: &Store,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    report.line("### Feed queries (store, one page of 50)".to_string());
    report.line(String::new());
    report.line("| query | p50 ms | p95 ms | p99 ms | target p95 |".to_string());
    report.line("| --- | ---: | ---: | ---: | --- |".to_string());
    for (name, target, make) in query_kinds() {
        let mut rng = Rng::new(5);
        let mut taken = Vec::with_capacity(samples);
        for _ in 0..samples {
            let query = make(&mut rng, &store).await?;
            let t = Instant::now();
            store.list_calls(&query).await?;
            taken.push(t.elapsed());
        }
        let (p50, p95, p99) = percentiles(&mut taken);
        report.line(format!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | ≤ {target} ms |"
        ));
    }
    let mut taken = Vec::new();
    let mut rng = Rng::new(6);
    for _ in 0..samples {
        let query = one_operation(&mut rng);
        let t = Instant::now();
        store.count_verdicts(&query.filter).await?;
        taken.push(t.elapsed());
    }
    let (p50, p95, p99) = percentiles(&mut taken);
    report.line(format!(
        "| verdict counts, one operation | {p50:.2} | {p95:.2} | {p99:.2} | — |"
    ));
    report.line(String::new());
    Ok(())
}

/// The review pages as the running server renders them for a signed-in reviewer.
pub(super) async fn pages(
    addr: &str,
    creds: &Creds,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    report.line("### `/calls` page and server".to_string());
    report.line(String::new());
    let paths = [
        "/calls",
        "/calls?operation=billing_extract&verdict=incorrect",
        "/review",
        "/review?operation=billing_extract",
    ];
    let timed: Vec<(&str, u32)> = paths.iter().map(|path| (*path, 50)).collect();
    timed_gets(addr, creds, samples, &timed, 1_000, report).await
}

/// The trends pages (whole server render) and the routing API, with the reviews seeded
/// before: the targets are p95 ≤ 20 ms for the pages and ≤ 10 ms for routing.
pub(super) async fn trends(
    addr: &str,
    creds: &Creds,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    report.line("### Trends and routing".to_string());
    report.line(String::new());
    // The longest range the page draws by day, and the longest it allows (drawn by week),
    // ending today: the most points drawn.
    let to = Utc::now().date_naive();
    let days = |n: i64| to - chrono::Duration::days(n - 1);
    let longest_days = format!(
        "/trends/ticket_summarize?bucket=day&from={}&to={to}",
        days(crate::model::trends::MAX_DAY_BUCKETS)
    );
    let longest = format!(
        "/trends/ticket_summarize?bucket=week&from={}&to={to}",
        days(crate::model::trends::MAX_RANGE_DAYS)
    );
    let timed = [
        ("/trends", 20),
        ("/trends?sampled=false", 20),
        ("/trends/ticket_summarize", 20),
        ("/trends/ticket_summarize?bucket=day", 20),
        (longest_days.as_str(), 20),
        (longest.as_str(), 20),
        ("/api/v1/routing", 10),
        ("/api/v1/routing/billing_extract", 10),
        ("/api/v1/accuracy?operation=ticket_summarize&bucket=day", 20),
    ];
    timed_gets(addr, creds, samples, &timed, 200, report).await
}

/// Each `(path, target ms)` requested up to 100 times one after another; a line per path
/// with its percentiles. An answer that is not `200` with at least `min_bytes` stops the run.
async fn timed_gets(
    addr: &str,
    creds: &Creds,
    samples: usize,
    paths: &[(&str, u32)],
    min_bytes: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    for (path, target) in paths {
        let mut taken = Vec::new();
        for _ in 0..samples.min(100) {
            let t = Instant::now();
            let (status, body) = request(addr, "GET", path, None, creds).await?;
            taken.push(t.elapsed());
            if status != 200 || body.len() < min_bytes {
                return Err(
                    format!("GET {path} answered {status} with {} bytes", body.len()).into(),
                );
            }
        }
        let (p50, p95, p99) = percentiles(&mut taken);
        report.line(format!(
            "- `GET {path}`: p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms (target ≤ {target} ms)"
        ));
    }
    report.line(String::new());
    Ok(())
}

pub(super) type QueryMaker = for<'a> fn(
    &'a mut Rng,
    &'a Store,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<FeedQuery, AnyError>> + Send + 'a>,
>;

pub(super) const OPERATIONS: [&str; 7] = [
    "ticket_summarize",
    "billing_extract",
    "intent_classify",
    "reply_draft",
    "doc_translate",
    "sql_generate",
    "lead_qualify",
];
pub(super) const VERSIONS: [&str; 7] = [
    "2024-08-06",
    "2024-11-20",
    "3.5-20241022",
    "4-20250514",
    "base",
    "adapter-v1",
    "adapter-v2",
];
/// Words found in many calls (a page is found after a few hundred rows).
pub(super) const COMMON_WORDS: [&str; 5] =
    ["refund", "invoice", "timeout", "password reset", "customer"];
/// Word combinations found in few calls (the matches are read first).
pub(super) const NARROW_WORDS: [&str; 5] = [
    "Hooli firewall",
    "Acme deadline screenshot",
    "Umbrella E-4012",
    "Tyrell SSO",
    "Globex admin role",
];

pub(super) fn parse(pairs: &[(&str, String)]) -> FeedQuery {
    FeedQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap_or_default()
}

pub(super) fn one_operation(rng: &mut Rng) -> FeedQuery {
    parse(&[("operation", rng.pick(&OPERATIONS).to_string())])
}

pub(super) fn query_kinds() -> Vec<(&'static str, u32, QueryMaker)> {
    vec![
        ("no filter", 20, |_, _| Box::pin(async { Ok(parse(&[])) })),
        ("one operation", 20, |rng, _| {
            let q = one_operation(rng);
            Box::pin(async move { Ok(q) })
        }),
        ("operation + verdict", 20, |rng, _| {
            let q = parse(&[
                ("operation", rng.pick(&OPERATIONS).to_string()),
                ("verdict", rng.pick(&Verdict::ALL).as_str().to_string()),
            ]);
            Box::pin(async move { Ok(q) })
        }),
        ("operation + model version + date range", 20, |rng, _| {
            let end = Utc::now() - chrono::Duration::days(rng.below(60) as i64);
            let start = end - chrono::Duration::days(14);
            let q = parse(&[
                ("operation", rng.pick(&OPERATIONS).to_string()),
                ("model_version", rng.pick(&VERSIONS).to_string()),
                ("from", start.format("%Y-%m-%d").to_string()),
                ("to", end.format("%Y-%m-%d").to_string()),
            ]);
            Box::pin(async move { Ok(q) })
        }),
        ("full-text search, common words", 100, |rng, _| {
            let q = parse(&[("q", rng.pick(&COMMON_WORDS).to_string())]);
            Box::pin(async move { Ok(q) })
        }),
        ("full-text search, narrow words", 100, |rng, _| {
            let q = parse(&[("q", rng.pick(&NARROW_WORDS).to_string())]);
            Box::pin(async move { Ok(q) })
        }),
        ("full-text search + operation", 100, |rng, _| {
            let q = parse(&[
                ("q", rng.pick(&COMMON_WORDS).to_string()),
                ("operation", rng.pick(&OPERATIONS).to_string()),
            ]);
            Box::pin(async move { Ok(q) })
        }),
        ("deep page (cursor 10,000 rows in)", 20, |rng, store| {
            let op = rng.pick(&OPERATIONS).to_string();
            Box::pin(async move {
                // Walks to the cursor once (not timed); the timed query starts there.
                let mut query = parse(&[("operation", op)]);
                query.limit = 500;
                for _ in 0..20 {
                    let page = store.list_calls(&query).await?;
                    query.cursor = page
                        .next_cursor
                        .as_deref()
                        .and_then(crate::model::Cursor::decode);
                }
                query.limit = 50;
                Ok(query)
            })
        }),
    ]
}
