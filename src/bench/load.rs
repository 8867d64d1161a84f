//! The worst search shapes sent without a pause while a health check and the plain feed API
//! are timed: what everyone else sees while someone searches badly.

use std::time::{Duration, Instant};

use super::client::{request, Creds};
use super::{percentiles, AnyError, Report};

/// Search shapes that cost the most: many short prefixes (each expands to a long list of
/// words), common words that never meet in one call (the walk reads until its bound), a common
/// word with filters that match nothing, and a broad prefix with a large page.
pub(super) const WORST_SEARCHES: [&str; 5] = [
    "/api/v1/calls?q=the*+cus*+acc*+rep*+inv*+err*+pro*+cal*+tim*+use*&limit=500",
    "/api/v1/calls?q=refund+firewall+screenshot+deadline+Hooli+Vandelay&limit=500",
    "/api/v1/calls?q=customer+invoice&operation=sql_generate&model_version=adapter-v2",
    "/api/v1/calls?q=cus*&limit=500",
    "/api/v1/calls?q=password+reset+Enterprise+competitor+workaround&limit=500",
];
/// Searches sent at once while the plain requests are timed.
pub(super) const SEARCHERS: usize = 4;

/// Times `GET /healthz` and `GET /api/v1/calls?limit=50` (no search) one after another,
/// first on an idle server, then while `SEARCHERS` clients send `WORST_SEARCHES` without a
/// pause, and reports how the searches themselves ended.
pub(super) async fn searches_under_load(
    addr: &str,
    creds: &Creds,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const PLAIN: [&str; 2] = ["/healthz", "/api/v1/calls?limit=50"];
    /// Each request `samples` times, `pause` apart (so the load runs through the whole window).
    async fn time_plain(
        addr: &str,
        creds: &Creds,
        samples: usize,
        pause: Duration,
    ) -> Result<Vec<(f64, f64, f64)>, AnyError> {
        let mut figures = Vec::new();
        for path in PLAIN {
            let mut taken = Vec::with_capacity(samples);
            for _ in 0..samples {
                tokio::time::sleep(pause).await;
                let t = Instant::now();
                let (status, body) = request(addr, "GET", path, None, creds).await?;
                taken.push(t.elapsed());
                if status != 200 {
                    return Err(format!("GET {path} answered {status}: {body:?}").into());
                }
            }
            figures.push(percentiles(&mut taken));
        }
        Ok(figures)
    }

    let idle = time_plain(addr, creds, samples, Duration::ZERO).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let searchers: Vec<_> = (0..SEARCHERS)
        .map(|i| {
            let (addr, creds, stop) = (addr.to_string(), creds.clone(), stop.clone());
            tokio::spawn(async move {
                let mut ended: Vec<(u16, Duration)> = Vec::new();
                let mut next = i;
                while !stop.load(Ordering::Relaxed) {
                    let path = WORST_SEARCHES[next % WORST_SEARCHES.len()];
                    next += 1;
                    let t = Instant::now();
                    let (status, _) = request(&addr, "GET", path, None, &creds).await?;
                    ended.push((status, t.elapsed()));
                }
                Ok::<_, AnyError>(ended)
            })
        })
        .collect();
    // Let every searcher have a search in flight before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let loaded = time_plain(addr, creds, samples, Duration::from_millis(50)).await;
    let window = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut ended = Vec::new();
    for searcher in searchers {
        ended.extend(searcher.await??);
    }
    let loaded = loaded?;

    report.line("### Worst searches in parallel".to_string());
    report.line(String::new());
    report.line(format!(
        "{SEARCHERS} clients send the worst search shapes without a pause (many 3-letter \
         prefixes, common words that never meet, a search whose filters match nothing, a broad \
         prefix with pages of 500) for {:.0} s, while these requests are timed one after another, {samples} each, 50 ms apart:",
        window.as_secs_f64()
    ));
    report.line(String::new());
    report.line(
        "| request | idle p50 ms | idle p95 ms | under load p50 ms | under load p95 ms | under load p99 ms | target |"
            .to_string(),
    );
    report.line("| --- | ---: | ---: | ---: | ---: | ---: | --- |".to_string());
    for ((path, (i50, i95, _)), (l50, l95, l99)) in PLAIN.iter().zip(&idle).zip(&loaded) {
        report.line(format!(
            "| `GET {path}` | {i50:.1} | {i95:.1} | {l50:.1} | {l95:.1} | {l99:.1} | ≤ 100 ms |"
        ));
    }
    report.line(String::new());
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for (status, _) in &ended {
        *by_status.entry(*status).or_default() += 1;
    }
    let statuses = by_status
        .iter()
        .map(|(status, n)| format!("{n} × {status}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut durations: Vec<Duration> = ended.iter().map(|(_, d)| *d).collect();
    let longest = durations.iter().max().copied().unwrap_or_default();
    let (s50, s95, _) = percentiles(&mut durations);
    report.line(format!(
        "- the searches: {statuses}; p50 {s50:.0} ms, p95 {s95:.0} ms, longest {:.0} ms \
         (422 = stopped at the search deadline, 503 = no search turn free)",
        longest.as_secs_f64() * 1e3
    ));
    report.line(String::new());
    Ok(())
}
