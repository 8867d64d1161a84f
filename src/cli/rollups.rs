//! `redline rollups rebuild`: recompute the counters trends, routing and the feed read.

use clap::Subcommand;

use super::{AnyError, TargetDatabase};

#[derive(Subcommand)]
pub enum RollupCommand {
    /// Recompute every call's sampled flag and the per-day rollups (verdicts, failure tags,
    /// cost and latency) from the calls and reviews, in one transaction, and say how many
    /// rows were wrong. Safe while instances serve: they see the old rollups until it ends.
    Rebuild {
        #[command(flatten)]
        target: TargetDatabase,
    },
}

pub async fn run(command: RollupCommand) -> Result<(), AnyError> {
    match command {
        RollupCommand::Rebuild { target } => {
            let report = target
                .act(|store| async move { Ok(store.rebuild_rollups().await?) })
                .await?;
            if report.corrected == 0 {
                println!("rebuilt {} rollup rows; all were right", report.rows);
            } else {
                println!(
                    "rebuilt {} rollup rows; {} were missing, extra or wrong before",
                    report.rows, report.corrected
                );
            }
        }
    }
    Ok(())
}
