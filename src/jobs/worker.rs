//! The background worker each `redline serve` runs: it claims due jobs from the shared queue
//! (see `store/jobs.rs`) and runs them, so with several instances on one database every job
//! still runs once.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use tokio::sync::watch;

use crate::exports::run::ExportContext;
use crate::exports::{run_export, ExportFiles};
use crate::store::{Job, Store, EXPORT_JOB};

/// Job kinds the worker knows.
pub const KINDS: &[&str] = &["noop", "optimize"];

/// Claims and runs jobs until `stop` turns true; waits `poll` when the queue is empty or the
/// database does not answer. Exports are written under `files`, at most
/// `export_rows_per_second` rows a second when set.
pub async fn run(
    store: Store,
    worker: String,
    files: ExportFiles,
    export_rows_per_second: Option<u32>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(%worker, "job worker started");
    let context = ExportContext {
        store: store.clone(),
        files,
        worker: worker.clone(),
        max_rows_per_second: export_rows_per_second,
    };
    loop {
        if *stop.borrow() {
            break;
        }
        match store.claim_job(&worker, Utc::now()).await {
            Ok(Some(job)) => {
                let result = execute(&context, &job).await;
                match &result {
                    Ok(()) => tracing::info!(job = job.id, kind = %job.kind, "job done"),
                    Err(error) => {
                        tracing::warn!(job = job.id, kind = %job.kind, %error, "job failed")
                    }
                }
                if let Err(error) = store.finish_job(job.id, &worker, result, Utc::now()).await {
                    tracing::warn!(job = job.id, %error, "could not record the end of a job");
                }
                continue;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot claim jobs"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!(%worker, "job worker stopped");
}

/// Runs one claimed job (the worker loop, and tests that drive the queue by hand).
pub async fn execute(context: &ExportContext, job: &Job) -> Result<(), String> {
    let store = &context.store;
    if job.kind == EXPORT_JOB {
        return run_export(context, job).await;
    }
    let payload: Value =
        serde_json::from_str(&job.payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    match job.kind.as_str() {
        // Does nothing but wait `sleep_ms` (at most 60 s): checks that the queue runs.
        "noop" => {
            let ms = payload.get("sleep_ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
            Ok(())
        }
        // Refreshes the query planner's statistics.
        "optimize" => store.optimize().await.map_err(|e| e.to_string()),
        other => Err(format!(
            "unknown job kind \"{other}\" (known: {})",
            KINDS.join(", ")
        )),
    }
}
