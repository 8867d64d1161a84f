//! The benchmark harness (`redline bench`): ingest through the real HTTP endpoint against a
//! plain sqlx loop, feed query latency, `/calls` render time, server memory and bytes per call.
//! Prints a report and prepends it to `bench/RESULTS.md`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::demo::{generate, DemoOptions, Rng};
use super::store::{describe_server, raw_insert_calls, reset_schema, Store};
use crate::model::ingest::{validate_call, NewCall};
use crate::model::{FeedQuery, Verdict};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[derive(clap::Args, Clone)]
pub struct BenchArgs {
    /// Calls to ingest (in batches of 1,000).
    #[arg(long, default_value_t = 1_000_000)]
    pub calls: usize,
    /// Working folder for the benchmark databases (emptied first).
    #[arg(long, default_value = "bench/tmp")]
    pub dir: PathBuf,
    /// Samples per feed query.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Concurrent HTTP connections sending ingest batches.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Where the report is prepended.
    #[arg(long, default_value = "bench/RESULTS.md")]
    pub results: PathBuf,
    /// Measure queries, the page and memory on this existing database instead of ingesting.
    #[arg(long)]
    pub database: Option<String>,
    /// Port of the server the harness starts.
    #[arg(long, default_value_t = 3917)]
    pub port: u16,
    /// Run on PostgreSQL: the URL of a database in which the harness creates (dropping them
    /// first) the schemas bench_raw, bench_direct and bench_http. Default: SQLite files in --dir.
    #[arg(long)]
    pub postgres: Option<String>,
}

const BATCH: usize = 1_000;

struct Report {
    lines: Vec<String>,
}

impl Report {
    fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("{text}");
        self.lines.push(text);
    }
}

pub async fn run(args: BenchArgs) -> Result<(), AnyError> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let mut report = Report { lines: vec![] };
    report.line(format!(
        "## Run of {}",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    report.line(String::new());
    report.line(format!("Machine: {}", machine()));
    report.line(String::new());
    let backend = match (&args.postgres, &args.database) {
        (Some(url), _) => postgres_version(url).await?,
        (None, Some(url)) if !url.starts_with("sqlite:") => postgres_version(url).await?,
        _ => "SQLite (embedded, WAL, synchronous=FULL)".to_string(),
    };
    report.line(format!("Backend: {backend}"));
    report.line(String::new());

    let (mut server, http_url, payload) = match &args.database {
        Some(url) => {
            report.line(format!(
                "Existing database {}: ingest not measured",
                super::store::redact(url)
            ));
            report.line(String::new());
            (start_server(&args, url).await?, url.clone(), None)
        }
        None => {
            report.line(format!(
                "Calls: {}, batches of {BATCH}, {} HTTP connections",
                args.calls, args.connections
            ));
            report.line(String::new());
            // 1. The workload, generated before any clock starts.
            let started = Instant::now();
            let options = DemoOptions::new(args.calls, 11);
            let bodies = generate_bodies(&options);
            let payload: usize = bodies.iter().map(|b| b.len()).sum();
            eprintln!(
                "generated {} batches ({:.0} MB of JSON) in {:.1} s",
                bodies.len(),
                payload as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );

            // 2. The raw limit: plain sqlx multi-row INSERTs, no HTTP, no validation (parsing untimed).
            let raw_url = db_url(&args, "raw").await?;
            let raw_store = Store::open(&raw_url).await?;
            let mut raw_time = Duration::ZERO;
            let now = Utc::now();
            for (i, body) in bodies.iter().enumerate() {
                let calls = parse_batch(body, now)?;
                let t = Instant::now();
                raw_insert_calls(&raw_store, &calls, now).await?;
                raw_time += t.elapsed();
                if i % 200 == 199 {
                    eprintln!("raw: {} calls", (i + 1) * BATCH);
                }
            }
            raw_store.close().await;
            drop_db(&args, "raw").await?;
            let raw_rate = args.calls as f64 / raw_time.as_secs_f64();

            // 2b. The store's own ingest (dedup, counters) without HTTP and JSON: where the time goes.
            let direct_store = Store::open(&db_url(&args, "direct").await?).await?;
            let mut direct_time = Duration::ZERO;
            for body in &bodies {
                let calls = parse_batch(body, now)?;
                let t = Instant::now();
                direct_store.insert_calls(&calls, now).await?;
                direct_time += t.elapsed();
            }
            direct_store.close().await;
            drop_db(&args, "direct").await?;
            let direct_rate = args.calls as f64 / direct_time.as_secs_f64();

            // 3. Through the real endpoint, on a server started as its own process.
            let http_url = db_url(&args, "http").await?;
            let mut server = start_server(&args, &http_url).await?;
            let addr = format!("127.0.0.1:{}", args.port);
            let t = Instant::now();
            let creds = bench_credentials(&http_url).await?;
            let sent = send_batches(&addr, bodies, args.connections, &creds).await;
            let http_time = t.elapsed();
            let created = match sent {
                Ok(created) => created,
                Err(error) => {
                    let _ = server.kill().await;
                    return Err(error);
                }
            };
            let http_rate = args.calls as f64 / http_time.as_secs_f64();
            report.line("### Ingest".to_string());
            report.line(String::new());
            report.line("| path | calls/s | target |".to_string());
            report.line("| --- | ---: | --- |".to_string());
            report.line(format!(
            "| `POST /api/v1/calls` (HTTP, validation, dedup, counters) | {http_rate:.0} | ≥ 50,000 |"
        ));
            report.line(format!(
            "| `Store::insert_calls` (no HTTP, no JSON; validation untimed; dedup, counters) | {direct_rate:.0} | — |"
        ));
            report.line(format!(
            "| raw limit: plain sqlx multi-row INSERTs (no HTTP, no validation, no dedup, no counters) | {raw_rate:.0} | — |"
        ));
            report.line(format!(
                "| HTTP / raw limit | {:.0}% | ≥ 50% |",
                100.0 * http_rate / raw_rate
            ));
            report.line(String::new());
            if created != args.calls {
                report.line(format!(
                    "WARNING: the server reported {created} created calls of {}",
                    args.calls
                ));
            }
            (server, http_url, Some(payload))
        }
    };
    let addr = format!("127.0.0.1:{}", args.port);
    let calls = {
        let store = Store::open(&http_url).await?;
        let n = store.call_count().await?.max(1) as usize;
        store.close().await;
        n
    };

    // 4. Feed queries, through the store the server uses, on the same file.
    let store = Store::open(&http_url).await?;
    // Statistics, as a database that has been in use has them: query plans must hold with them.
    store.checkpoint().await?;
    report.line("### Feed queries (store, one page of 50)".to_string());
    report.line(String::new());
    report.line("| query | p50 ms | p95 ms | p99 ms | target p95 |".to_string());
    report.line("| --- | ---: | ---: | ---: | --- |".to_string());
    for (name, target, make) in query_kinds() {
        let mut rng = Rng::new(5);
        let mut samples = Vec::with_capacity(args.samples);
        for _ in 0..args.samples {
            let query = make(&mut rng, &store).await?;
            let t = Instant::now();
            store.list_calls(&query).await?;
            samples.push(t.elapsed());
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        report.line(format!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | ≤ {target} ms |"
        ));
    }
    let mut samples = Vec::new();
    let mut rng = Rng::new(6);
    for _ in 0..args.samples {
        let query = one_operation(&mut rng);
        let t = Instant::now();
        store.count_verdicts(&query.filter).await?;
        samples.push(t.elapsed());
    }
    let (p50, p95, p99) = percentiles(&mut samples);
    report.line(format!(
        "| verdict counts, one operation | {p50:.2} | {p95:.2} | {p99:.2} | — |"
    ));
    report.line(String::new());

    // 5. Reviews: saves and the queue's draw, with one call in ten reviewed first.
    reviews(&store, calls, args.samples, &mut report).await?;

    // 6. The page a reviewer opens, rendered by the server; then its memory.
    report.line("### `/calls` page and server".to_string());
    report.line(String::new());
    let page_creds = bench_credentials(&http_url).await?;
    for path in [
        "/calls",
        "/calls?operation=billing_extract&verdict=incorrect",
        "/review",
        "/review?operation=billing_extract",
    ] {
        let mut samples = Vec::new();
        for _ in 0..args.samples.min(100) {
            let t = Instant::now();
            let (status, body) = request(&addr, "GET", path, None, &page_creds).await?;
            samples.push(t.elapsed());
            if status != 200 || body.len() < 1_000 {
                return Err(
                    format!("GET {path} answered {status} with {} bytes", body.len()).into(),
                );
            }
        }
        let (p50, p95, p99) = percentiles(&mut samples);
        report.line(format!(
            "- `GET {path}`: p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms (target ≤ 50 ms)"
        ));
    }
    // 7. The worst searches, several at once, while a health check and the plain feed are timed.
    searches_under_load(&addr, &page_creds, args.samples.min(100), &mut report).await?;
    if let Some(pid) = server.id() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .unwrap_or(0.0)
        };
        report.line(format!(
            "- server RSS with {} calls stored: {:.0} MB now, {:.0} MB peak (target ≤ 150 MB; the redline process only)",
            calls,
            field("VmRSS:"),
            field("VmHWM:")
        ));
    }
    stop_server(&mut server).await;
    store.checkpoint().await?;
    let bytes = store.size_on_disk().await?;
    store.close().await;
    let sent = payload
        .map(|p| {
            format!(
                " (the ingest JSON was {:.0} bytes per call)",
                p as f64 / calls as f64
            )
        })
        .unwrap_or_default();
    report.line(format!(
        "- on disk: {:.0} MB, {:.0} bytes per call{sent}",
        bytes as f64 / 1e6,
        bytes as f64 / calls as f64,
    ));
    report.line(String::new());

    write_results(&args.results, &report.lines)?;
    if args.database.is_none() {
        drop_db(&args, "http").await?;
    }
    let _ = std::fs::remove_dir_all(&args.dir);
    Ok(())
}

/// Search shapes that cost the most: many short prefixes (each expands to a long list of
/// words), common words that never meet in one call (the walk reads until its bound), a common
/// word with filters that match nothing, and a broad prefix with a large page.
const WORST_SEARCHES: [&str; 5] = [
    "/api/v1/calls?q=the*+cus*+acc*+rep*+inv*+err*+pro*+cal*+tim*+use*&limit=500",
    "/api/v1/calls?q=refund+firewall+screenshot+deadline+Hooli+Vandelay&limit=500",
    "/api/v1/calls?q=customer+invoice&operation=sql_generate&model_version=adapter-v2",
    "/api/v1/calls?q=cus*&limit=500",
    "/api/v1/calls?q=password+reset+Enterprise+competitor+workaround&limit=500",
];
/// Searches sent at once while the plain requests are timed.
const SEARCHERS: usize = 4;

/// Times `GET /healthz` and `GET /api/v1/calls?limit=50` (no search) one after another,
/// first on an idle server, then while `SEARCHERS` clients send `WORST_SEARCHES` without a
/// pause, and reports how the searches themselves ended.
async fn searches_under_load(
    addr: &str,
    creds: &Creds,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const PLAIN: [&str; 2] = ["/healthz", "/api/v1/calls?limit=50"];
    async fn time_plain(
        addr: &str,
        creds: &Creds,
        samples: usize,
    ) -> Result<Vec<(f64, f64, f64)>, AnyError> {
        let mut figures = Vec::new();
        for path in PLAIN {
            let mut taken = Vec::with_capacity(samples);
            for _ in 0..samples {
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

    let idle = time_plain(addr, creds, samples).await?;
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
    let loaded = time_plain(addr, creds, samples).await;
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
         prefix with pages of 500) while these requests are timed one after another, {samples} each:"
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

/// Reviews stored before saves and draws are timed.
const REVIEWS: usize = 100_000;

/// Stores `REVIEWS` reviews on calls drawn by the queue (untimed, 1,000 per transaction), then
/// times the save a reviewer makes (validation, the stale-revision check, the append, the
/// counters and tags, the audit entry: `reviewing::save_review` without HTTP) and the queue's
/// random draw of an unreviewed call.
async fn reviews(
    store: &Store,
    calls: usize,
    samples: usize,
    report: &mut Report,
) -> Result<(), AnyError> {
    use super::auth::{Caller, ClientAddress, Person};
    use super::reviewing::save_review;
    use super::store::ReviewInput;
    use crate::model::auth::Role;
    use crate::model::review::ReviewSubmission;
    use crate::model::CallFilter;

    let mut rng = Rng::new(11);
    let seeding = Instant::now();
    // One call in ten reviewed (100,000 at a million calls), leaving most for the draws.
    let wanted = REVIEWS.min(calls / 10);
    let mut seeded = 0;
    while seeded < wanted {
        let mut batch = Vec::with_capacity(1_000);
        let mut ids = std::collections::HashSet::new();
        for _ in 0..1_000.min(wanted - seeded) {
            let Some(id) = store
                .draw_unreviewed(&CallFilter::default(), rng.next_u64() as i64, None)
                .await?
            else {
                break;
            };
            if !ids.insert(id) {
                continue;
            }
            let incorrect = rng.below(4) == 0;
            batch.push(ReviewInput {
                call_id: id,
                base_revision: 0,
                reviewer: format!("bench-reviewer-{}", rng.below(8)),
                verdict: if incorrect {
                    Verdict::Incorrect
                } else {
                    Verdict::Correct
                },
                corrected_output: incorrect.then(|| "A corrected output.".to_string()),
                tags: if incorrect {
                    vec!["format".to_string()]
                } else {
                    Vec::new()
                },
                note: String::new(),
                sampled: true,
            });
        }
        if batch.is_empty() {
            break;
        }
        let outcomes = store.save_reviews(&batch, Utc::now()).await?;
        seeded += outcomes
            .iter()
            .filter(|o| matches!(o, super::store::SaveOutcome::Saved { .. }))
            .count();
    }
    report.line(format!(
        "### Reviews ({seeded} stored first, in {:.0} s)",
        seeding.elapsed().as_secs_f64()
    ));
    report.line(String::new());
    report.line("| operation | p50 ms | p95 ms | p99 ms | target p95 |".to_string());
    report.line("| --- | ---: | ---: | ---: | --- |".to_string());

    let caller = Caller::Person(Person {
        user_id: 0,
        name: "bench-reviewer".into(),
        role: Role::Reviewer,
        session: String::new(),
        must_change_password: false,
    });
    let address = ClientAddress(Some("127.0.0.1".into()));
    let mut samples_taken = Vec::with_capacity(samples);
    for i in 0..samples {
        let Some(id) = store
            .draw_unreviewed(&CallFilter::default(), rng.next_u64() as i64, None)
            .await?
        else {
            break;
        };
        let incorrect = i % 2 == 0;
        let submission = ReviewSubmission {
            verdict: if incorrect { "incorrect" } else { "correct" }.to_string(),
            corrected_output: incorrect.then(|| format!("A corrected output, sample {i}.")),
            tags: if incorrect {
                vec!["wrong_amount".to_string()]
            } else {
                Vec::new()
            },
            note: String::new(),
            base_revision: 0,
        };
        // As the queue does when it serves the call: the draw makes the save sampled.
        store
            .record_draw(&id, "bench-reviewer", chrono::Utc::now())
            .await?;
        let t = Instant::now();
        let saved = save_review(store, &caller, &address, id, submission).await?;
        samples_taken.push(t.elapsed());
        if !matches!(saved, super::store::SaveOutcome::Saved { .. }) {
            return Err(format!("a timed review save was not stored: {saved:?}").into());
        }
    }
    if samples_taken.is_empty() {
        return Err("no unreviewed call was left to time review saves on".into());
    }
    let (p50, p95, p99) = percentiles(&mut samples_taken);
    report.line(format!(
        "| review save (validation, stale check, append, counters, tags, audit) | {p50:.2} | {p95:.2} | {p99:.2} | ≤ 5 ms |"
    ));

    let filters: [(&str, Vec<(&str, String)>); 3] = [
        ("queue draw, no filter", Vec::new()),
        (
            "queue draw, one operation",
            vec![("operation", "billing_extract".to_string())],
        ),
        (
            "queue draw, operation + model version",
            vec![
                ("operation", "ticket_summarize".to_string()),
                ("model_version", VERSIONS[0].to_string()),
            ],
        ),
    ];
    for (name, pairs) in filters {
        let filter = parse(&pairs).filter;
        let mut taken = Vec::with_capacity(samples);
        for _ in 0..samples {
            let point = rng.next_u64() as i64;
            let t = Instant::now();
            store.draw_unreviewed(&filter, point, None).await?;
            taken.push(t.elapsed());
        }
        let (p50, p95, p99) = percentiles(&mut taken);
        report.line(format!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | ≤ 10 ms |"
        ));
    }
    report.line(String::new());
    Ok(())
}

/// A generated batch as validated calls (outside the timed part of the store measurements).
fn parse_batch(body: &[u8], now: chrono::DateTime<Utc>) -> Result<Vec<NewCall>, AnyError> {
    let items: Vec<Value> = serde_json::from_slice(body)?;
    Ok(items
        .iter()
        .filter_map(|item| validate_call(item, now).ok())
        .collect())
}

/// A fresh database for one measurement: a file in `--dir`, or with `--postgres` a schema
/// `bench_<name>` (dropped and created again).
async fn db_url(args: &BenchArgs, name: &str) -> Result<String, AnyError> {
    match &args.postgres {
        None => Ok(format!(
            "sqlite://{}",
            args.dir.join(format!("{name}.db")).display()
        )),
        Some(url) => {
            reset_schema(url, &format!("bench_{name}"), true).await?;
            let separator = if url.contains('?') { '&' } else { '?' };
            Ok(format!("{url}{separator}options[search_path]=bench_{name}"))
        }
    }
}

async fn drop_db(args: &BenchArgs, name: &str) -> Result<(), AnyError> {
    match &args.postgres {
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(args.dir.join(format!("{name}.db{suffix}")));
            }
        }
        Some(url) => reset_schema(url, &format!("bench_{name}"), false).await?,
    }
    Ok(())
}

async fn postgres_version(url: &str) -> Result<String, AnyError> {
    let (version, shared_buffers) = describe_server(url).await?;
    Ok(format!(
        "PostgreSQL {version} on the same machine (shared_buffers {shared_buffers}, default settings otherwise)"
    ))
}

fn generate_bodies(options: &DemoOptions) -> Vec<Bytes> {
    let batches = options.calls.div_ceil(BATCH);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut bodies: Vec<Option<Bytes>> = vec![None; batches];
    std::thread::scope(|scope| {
        let chunks: Vec<_> = bodies
            .chunks_mut(batches.div_ceil(workers).max(1))
            .enumerate()
            .collect();
        let per = batches.div_ceil(workers).max(1);
        for (w, chunk) in chunks {
            scope.spawn(move || {
                for (j, slot) in chunk.iter_mut().enumerate() {
                    let b = w * per + j;
                    let items: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(options.calls))
                        .map(|i| generate(options, i).item)
                        .collect();
                    *slot = serde_json::to_vec(&items).ok().map(Bytes::from);
                }
            });
        }
    });
    bodies.into_iter().flatten().collect()
}

async fn start_server(args: &BenchArgs, url: &str) -> Result<tokio::process::Child, AnyError> {
    let exe = std::env::current_exe()?;
    let child = tokio::process::Command::new(exe)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{}", args.port),
            "--database",
            url,
        ])
        .env("REDLINE_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let addr = format!("127.0.0.1:{}", args.port);
    for _ in 0..100 {
        if let Ok((200, _)) = request(&addr, "GET", "/readyz", None, &Creds::default()).await {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not start within 10 s".into())
}

async fn stop_server(server: &mut tokio::process::Child) {
    if let Some(pid) = server.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), server.wait()).await;
}

/// Sends every body over `connections` keep-alive connections; returns the created count.
async fn send_batches(
    addr: &str,
    bodies: Vec<Bytes>,
    connections: usize,
    creds: &Creds,
) -> Result<usize, AnyError> {
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(bodies.into_iter().enumerate()));
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let queue = queue.clone();
        let addr = addr.to_string();
        let authorization = creds.authorization.clone();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            let mut created = 0usize;
            loop {
                let next = queue.lock().await.next();
                let Some((i, body)) = next else { break };
                let req = hyper::Request::post("/api/v1/calls")
                    .header("host", &addr)
                    .header("content-type", "application/json")
                    .header("authorization", &authorization)
                    .body(Full::new(body))?;
                let res = sender.send_request(req).await?;
                let status = res.status();
                let bytes = res.into_body().collect().await?.to_bytes();
                if status != 200 {
                    return Err(format!(
                        "batch {i}: HTTP {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    )
                    .into());
                }
                let answer: Value = serde_json::from_slice(&bytes)?;
                created += answer["created"].as_u64().unwrap_or(0) as usize;
                if i % 100 == 99 {
                    eprintln!("http: batch {}", i + 1);
                }
            }
            Ok::<usize, AnyError>(created)
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await??;
    }
    Ok(created)
}

async fn connect(
    addr: &str,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, AnyError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// A bench user's API key (every scope) and signed-in session, made in the database the
/// server uses, as a service and a reviewer would hold them.
#[derive(Clone, Debug, Default)]
struct Creds {
    authorization: String,
    cookie: String,
}

async fn bench_credentials(url: &str) -> Result<Creds, AnyError> {
    use crate::model::auth::{Role, Scope};
    use crate::server::auth::manage::{self, Actor};
    use crate::server::auth::secrets;
    let store = Store::open(url).await?;
    let name = "bench";
    if store.find_user(name).await?.is_none() {
        manage::add_user(&store, &Actor::cli(), name, Role::Engineer, None).await?;
    }
    let (key, _) = manage::create_key(&store, &Actor::cli(), name, "bench", &Scope::ALL).await?;
    let user = store
        .find_user(name)
        .await?
        .ok_or("the bench user vanished")?;
    let token = secrets::random_hex(32)?;
    store
        .create_session(&secrets::token_hash(&token), user.id, None, Utc::now())
        .await?;
    store.close().await;
    Ok(Creds {
        authorization: format!("Bearer {key}"),
        cookie: format!("redline_session={token}"),
    })
}

async fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<Bytes>,
    creds: &Creds,
) -> Result<(u16, Bytes), AnyError> {
    let mut sender = connect(addr).await?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if !creds.authorization.is_empty() {
        req = req
            .header("authorization", &creds.authorization)
            .header("cookie", &creds.cookie);
    }
    let req = req.body(Full::new(body.unwrap_or_default()))?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    Ok((status, res.into_body().collect().await?.to_bytes()))
}

type QueryMaker = for<'a> fn(
    &'a mut Rng,
    &'a Store,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<FeedQuery, AnyError>> + Send + 'a>,
>;

const OPERATIONS: [&str; 7] = [
    "ticket_summarize",
    "billing_extract",
    "intent_classify",
    "reply_draft",
    "doc_translate",
    "sql_generate",
    "lead_qualify",
];
const VERSIONS: [&str; 7] = [
    "2024-08-06",
    "2024-11-20",
    "3.5-20241022",
    "4-20250514",
    "base",
    "adapter-v1",
    "adapter-v2",
];
/// Words found in many calls (a page is found after a few hundred rows).
const COMMON_WORDS: [&str; 5] = ["refund", "invoice", "timeout", "password reset", "customer"];
/// Word combinations found in few calls (the matches are read first).
const NARROW_WORDS: [&str; 5] = [
    "Hooli firewall",
    "Acme deadline screenshot",
    "Umbrella E-4012",
    "Tyrell SSO",
    "Globex admin role",
];

fn parse(pairs: &[(&str, String)]) -> FeedQuery {
    FeedQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap_or_default()
}

fn one_operation(rng: &mut Rng) -> FeedQuery {
    parse(&[("operation", rng.pick(&OPERATIONS).to_string())])
}

fn query_kinds() -> Vec<(&'static str, u32, QueryMaker)> {
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

fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
    };
    (at(0.5), at(0.95), at(0.99))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cores} cores ({cpu}), {memory_gib:.0} GiB memory, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )
}

fn write_results(path: &Path, lines: &[String]) -> Result<(), AnyError> {
    let title = "# Benchmark results\n\nWritten by `redline bench` (see the README); the newest run first.\n\n";
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let older_runs = old.find("## Run of").map(|i| &old[i..]).unwrap_or("");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, format!("{title}{}\n{older_runs}", lines.join("\n")))?;
    Ok(())
}
