//! Exports through the running server's job worker, as a script would make them: a data file
//! of every call and a chat training set with the format check and token counts. Rows per
//! second, megabytes written per second, and how far the server's memory rose above where it
//! stood idle (sampled every 20 ms while the export ran).

use std::time::{Duration, Instant};

use hyper::body::Bytes;
use serde_json::{json, Value};

use super::client::{request, Creds};
use super::{AnyError, Report};

/// The server's resident memory now, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Measured {
    rows: u64,
    seconds: f64,
    bytes: u64,
    rss_growth_mb: f64,
}

async fn one(addr: &str, creds: &Creds, pid: u32, spec: Value) -> Result<Measured, AnyError> {
    let idle = rss_mb(pid);
    let started = Instant::now();
    let (status, body) = request(
        addr,
        "POST",
        "/api/v1/exports",
        Some(Bytes::from(spec.to_string())),
        creds,
    )
    .await?;
    if status != 202 {
        return Err(format!(
            "creating an export answered {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    let created: Value = serde_json::from_slice(&body)?;
    let id = created["id"].as_i64().ok_or("no export id")?;
    let mut peak = idle;
    let mut last_poll = Instant::now();
    let export = loop {
        peak = peak.max(rss_mb(pid));
        if last_poll.elapsed() >= Duration::from_millis(250) {
            last_poll = Instant::now();
            let (_, body) =
                request(addr, "GET", &format!("/api/v1/exports/{id}"), None, creds).await?;
            let export: Value = serde_json::from_slice(&body)?;
            match export["state"].as_str() {
                Some("done") => break export,
                Some("failed") | Some("cancelled") => {
                    return Err(format!(
                        "export {id} ended {}: {}",
                        export["state"], export["error"]
                    )
                    .into())
                }
                _ => {}
            }
            if started.elapsed() > Duration::from_secs(3_600) {
                return Err(format!("export {id} did not finish within an hour").into());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let bytes = export["files"]
        .as_array()
        .map(|files| files.iter().filter_map(|f| f["bytes"].as_u64()).sum())
        .unwrap_or(0);
    let rows = export["rows_done"].as_u64().unwrap_or(0);
    // The files are large; the figures are taken.
    let _ = request(
        addr,
        "DELETE",
        &format!("/api/v1/exports/{id}"),
        None,
        creds,
    )
    .await?;
    Ok(Measured {
        rows,
        seconds,
        bytes,
        rss_growth_mb: (peak - idle).max(0.0),
    })
}

pub(super) async fn measure(
    addr: &str,
    creds: &Creds,
    pid: Option<u32>,
    report: &mut Report,
) -> Result<(), AnyError> {
    let Some(pid) = pid else {
        return Ok(());
    };
    report.line("### Exports (a script's request, built by the server's job worker)".to_string());
    report.line(String::new());
    report.line(
        "| export | rows | seconds | rows/s | MB written | MB/s | RSS growth MB | target |"
            .to_string(),
    );
    report.line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |".to_string());
    let specs = [
        ("`jsonl`, every call", json!({"format": "jsonl"})),
        (
            "`chat_jsonl`, reviewed (with correct), 10% validation, format check and o200k tokens",
            json!({"format": "chat_jsonl", "include_correct": true, "validation_percent": 10}),
        ),
    ];
    for (label, spec) in specs {
        let m = one(addr, creds, pid, spec).await?;
        let mb = m.bytes as f64 / 1e6;
        report.line(format!(
            "| {label} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.0} | ≥ 100 MB/s, growth ≤ 100 MB |",
            m.rows,
            m.seconds,
            m.rows as f64 / m.seconds,
            mb,
            mb / m.seconds,
            m.rss_growth_mb
        ));
    }
    report.line(String::new());
    report.line("- seconds: from the request to the export found done (planning, writing, syncing, the manifest), polled every 250 ms".to_string());
    report.line(String::new());
    Ok(())
}
