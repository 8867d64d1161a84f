//! The benchmark harness (`redline bench`, built with the `bench` feature): ingest through the
//! real HTTP endpoint against the store and the plain INSERTs (`ingest`), feed queries and page
//! renders (`queries`), review saves and queue draws (`reviews`), the worst searches under load
//! (`load`), server memory and bytes per call. Prints a report and prepends it to
//! `bench/RESULTS.md`. `client` starts the server and talks HTTP to it.

mod client;
mod exports;
mod ingest;
mod load;
mod otlp;
mod queries;
mod reviews;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;

use crate::store::Store;

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
    /// Run only these parts after ingest (comma-separated: feed, reviews, pages, trends,
    /// exports, load); all of them by default. With --database, a quick re-run of one part
    /// on a filled database (trends at 1M take a minute; the whole harness half an hour).
    #[arg(long, value_delimiter = ',', value_parser = ["feed", "reviews", "pages", "trends", "exports", "load"])]
    pub only: Vec<String>,
}

impl BenchArgs {
    /// Whether the harness runs this part.
    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

pub(super) const BATCH: usize = 1_000;

pub(super) struct Report {
    lines: Vec<String>,
}

impl Report {
    pub(super) fn line(&mut self, text: impl Into<String>) {
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
        (Some(url), _) => client::postgres_version(url).await?,
        (None, Some(url)) if !url.starts_with("sqlite:") => client::postgres_version(url).await?,
        _ => "SQLite (embedded, WAL, synchronous=FULL)".to_string(),
    };
    report.line(format!("Backend: {backend}"));
    if !args.only.is_empty() {
        report.line(String::new());
        report.line(format!(
            "Parts run (`--only`): {}; the others were not measured in this run.",
            args.only.join(", ")
        ));
    }
    report.line(String::new());

    // 1-3. Ingest: the raw limit, the store, then the real endpoint (or an existing database).
    let (mut server, http_url, payload) = ingest::measure(&args, &mut report).await?;
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
    if args.runs("feed") {
        queries::feed(&store, args.samples, &mut report).await?;
    }

    // 5. Reviews: saves and the queue's draw, with one call in ten reviewed first.
    if args.runs("reviews") {
        reviews::measure(&store, calls, args.samples, &mut report).await?;
    }

    // 6. The page a reviewer opens, rendered by the server; then its memory.
    let page_creds = client::bench_credentials(&http_url).await?;
    if args.runs("pages") {
        queries::pages(&addr, &page_creds, args.samples, &mut report).await?;
    }
    if args.runs("trends") {
        queries::trends(&addr, &page_creds, args.samples, &mut report).await?;
    }

    // 7. Exports of the whole database through the job worker.
    if args.runs("exports") {
        exports::measure(&addr, &page_creds, server.id(), &mut report).await?;
    }

    // 8. The worst searches, several at once, while a health check and the plain feed are timed.
    if args.runs("load") {
        load::searches_under_load(&addr, &page_creds, args.samples.min(100), &mut report).await?;
    }

    report.line("### Server memory and disk".to_string());
    report.line(String::new());
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
    client::stop_server(&mut server).await;
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
        client::drop_db(&args, "http").await?;
    }
    let _ = std::fs::remove_dir_all(&args.dir);
    Ok(())
}

pub(super) fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
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
