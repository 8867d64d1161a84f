//! `redline job …`: queue a background job for any running instance, or list the newest.

use clap::Subcommand;

use super::{AnyError, TargetDatabase};
use crate::jobs::worker;

#[derive(Subcommand)]
pub enum JobCommand {
    /// Queue a job; a running `redline serve` (any instance) runs it once.
    Add {
        /// Kind of job: noop (waits payload.sleep_ms; checks the queue runs) or optimize
        /// (refreshes the planner's statistics).
        kind: String,
        /// JSON payload.
        #[arg(long, default_value = "{}")]
        payload: String,
        #[command(flatten)]
        target: TargetDatabase,
    },
    /// List the newest jobs.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[command(flatten)]
        target: TargetDatabase,
    },
}

pub async fn run(command: JobCommand) -> Result<(), AnyError> {
    match command {
        JobCommand::Add {
            kind,
            payload,
            target,
        } => {
            if !worker::KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "unknown job kind \"{kind}\" (known: {})",
                    worker::KINDS.join(", ")
                )
                .into());
            }
            serde_json::from_str::<serde_json::Value>(&payload)
                .map_err(|e| format!("--payload is not JSON: {e}"))?;
            let (kind, payload) = (&kind, &payload);
            let id = target
                .act(|store| async move {
                    Ok(store.enqueue_job(kind, payload, chrono::Utc::now()).await?)
                })
                .await?;
            println!("queued job {id} ({kind})");
        }
        JobCommand::List { limit, target } => {
            let jobs = target
                .act(|store| async move { Ok(store.list_jobs(limit).await?) })
                .await?;
            for job in jobs {
                println!(
                    "{:>6}  {:<10} {:<8?} attempts={} by={} {}",
                    job.id,
                    job.kind,
                    job.state,
                    job.attempts,
                    job.claimed_by.as_deref().unwrap_or("-"),
                    job.error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
