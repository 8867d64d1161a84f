//! Ingest, three ways on the same generated batches: the plain INSERTs (the raw limit), the
//! store's `insert_calls` (deduplication and counters), and `POST /api/v1/calls` on a server
//! of its own. Leaves that server running on the HTTP run's database for what follows.

use std::time::{Duration, Instant};

use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::Value;

use super::client::{bench_credentials, connect, db_url, drop_db, start_server, Creds};
use super::{AnyError, BenchArgs, Report, BATCH};
use crate::jobs::demo::{generate, DemoOptions};
use crate::model::ingest::{validate_call, NewCall};
use crate::store::{raw_insert_calls, Store};

/// Measures ingest (or, with `--database`, starts the server on that database); returns the
/// server, its database URL and the bytes of JSON sent.
pub(super) async fn measure(
    args: &BenchArgs,
    report: &mut Report,
) -> Result<(tokio::process::Child, String, Option<usize>), AnyError> {
    Ok(match &args.database {
        Some(url) => {
            report.line(format!(
                "Existing database {}: ingest not measured",
                crate::store::redact(url)
            ));
            report.line(String::new());
            (start_server(args, url).await?, url.clone(), None)
        }
        None => {
            report.line(format!(
                "Calls: {}, batches of {BATCH}, {} HTTP connections",
                args.calls, args.connections
            ));
            report.line(String::new());
            // 1. The workload, generated before any clock starts.
            let started = Instant::now();
            // A year of traffic over all twelve model versions (the trends need the spread).
            let mut options = DemoOptions::new(args.calls, 11);
            options.days = 365;
            options.versions = crate::jobs::demo::VERSION_COUNT;
            let bodies = generate_bodies(&options);
            let payload: usize = bodies.iter().map(|b| b.len()).sum();
            eprintln!(
                "generated {} batches ({:.0} MB of JSON) in {:.1} s",
                bodies.len(),
                payload as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );

            // 2. The raw limit: plain sqlx multi-row INSERTs, no HTTP, no validation (parsing untimed).
            let raw_url = db_url(args, "raw").await?;
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
            drop_db(args, "raw").await?;
            let raw_rate = args.calls as f64 / raw_time.as_secs_f64();

            // 2b. The store's own ingest (dedup, counters) without HTTP and JSON: where the time goes.
            let direct_store = Store::open(&db_url(args, "direct").await?).await?;
            let mut direct_time = Duration::ZERO;
            for body in &bodies {
                let calls = parse_batch(body, now)?;
                let t = Instant::now();
                direct_store.insert_calls(&calls, now).await?;
                direct_time += t.elapsed();
            }
            direct_store.close().await;
            drop_db(args, "direct").await?;
            let direct_rate = args.calls as f64 / direct_time.as_secs_f64();

            // 3. Through the real endpoint, on a server started as its own process.
            let http_url = db_url(args, "http").await?;
            let mut server = start_server(args, &http_url).await?;
            let addr = format!("127.0.0.1:{}", args.port);
            let t = Instant::now();
            let creds = bench_credentials(&http_url).await?;
            let sent = send_batches(&addr, bodies, args.connections, &creds, Wire::Calls).await;
            let http_time = t.elapsed();
            let created = match sent {
                Ok(created) => created,
                Err(error) => {
                    let _ = server.kill().await;
                    return Err(error);
                }
            };
            let http_rate = args.calls as f64 / http_time.as_secs_f64();

            // 4. The same calls as OpenTelemetry GenAI spans through `POST /v1/traces`, on a
            // server and database of their own.
            let otlp_rate = match otlp_rate(args, &options).await {
                Ok(rate) => rate,
                Err(error) => {
                    let _ = server.kill().await;
                    return Err(error);
                }
            };
            report.line("### Ingest".to_string());
            report.line(String::new());
            report.line("| path | calls/s | target |".to_string());
            report.line("| --- | ---: | --- |".to_string());
            report.line(format!(
            "| `POST /api/v1/calls` (HTTP, validation, dedup, counters) | {http_rate:.0} | ≥ 50,000 |"
        ));
            report.line(format!(
            "| `POST /v1/traces` (OTLP protobuf, {} GenAI spans a request; same calls) | {otlp_rate:.0} | ≥ 80% of the line above ({:.0}% here) |",
            super::otlp::SPANS_PER_REQUEST,
            100.0 * otlp_rate / http_rate
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
    })
}

/// A generated batch as validated calls (outside the timed part of the store measurements).
pub(super) fn parse_batch(
    body: &[u8],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<NewCall>, AnyError> {
    let items: Vec<Value> = serde_json::from_slice(body)?;
    Ok(items
        .iter()
        .filter_map(|item| validate_call(item, now).ok())
        .collect())
}

pub(super) fn generate_bodies(options: &DemoOptions) -> Vec<Bytes> {
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

/// Calls per second through `POST /v1/traces`: the workload as GenAI spans, generated before
/// the clock starts, sent to a server of its own on a fresh database (dropped after).
async fn otlp_rate(args: &BenchArgs, options: &DemoOptions) -> Result<f64, AnyError> {
    let requests = super::otlp::generate_requests(options);
    let bytes: usize = requests.iter().map(|r| r.len()).sum();
    eprintln!(
        "generated {} OTLP requests ({:.0} MB of protobuf)",
        requests.len(),
        bytes as f64 / 1e6
    );
    let mut own = args.clone();
    own.port = args.port + 1;
    let url = db_url(&own, "otlp").await?;
    let mut server = start_server(&own, &url).await?;
    let creds = bench_credentials(&url).await?;
    let t = Instant::now();
    let sent = send_batches(
        &format!("127.0.0.1:{}", own.port),
        requests,
        args.connections,
        &creds,
        Wire::Traces,
    )
    .await;
    let elapsed = t.elapsed();
    let _ = server.kill().await;
    sent?;
    let store = Store::open(&url).await?;
    let stored = store.call_count().await? as usize;
    store.close().await;
    drop_db(&own, "otlp").await?;
    if stored != options.calls {
        return Err(format!("OTLP ingest stored {stored} calls of {}", options.calls).into());
    }
    Ok(stored as f64 / elapsed.as_secs_f64())
}

/// Which ingest endpoint a body goes to.
#[derive(Clone, Copy)]
pub(super) enum Wire {
    /// `POST /api/v1/calls`, JSON.
    Calls,
    /// `POST /v1/traces`, OTLP protobuf.
    Traces,
}

/// Sends every body over `connections` keep-alive connections; returns the created count
/// (of JSON batches; OTLP answers do not count what they stored).
pub(super) async fn send_batches(
    addr: &str,
    bodies: Vec<Bytes>,
    connections: usize,
    creds: &Creds,
    wire: Wire,
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
                let (path, content_type) = match wire {
                    Wire::Calls => ("/api/v1/calls", "application/json"),
                    Wire::Traces => ("/v1/traces", "application/x-protobuf"),
                };
                let req = hyper::Request::post(path)
                    .header("host", &addr)
                    .header("content-type", content_type)
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
                if let Wire::Calls = wire {
                    let answer: Value = serde_json::from_slice(&bytes)?;
                    created += answer["created"].as_u64().unwrap_or(0) as usize;
                }
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
