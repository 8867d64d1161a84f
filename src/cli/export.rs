//! `redline export`: builds an export on the command line against the database, with a
//! progress bar, into a folder of your choosing (for people working on the server itself).
//! It is recorded like any other export (the list, the audit log as `cli`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use super::{AnyError, TargetDatabase};
use crate::auth::manage::Actor;
use crate::exports::run::ExportContext;
use crate::exports::{manage, run_export, ExportFiles};
use crate::model::export::{
    ExportRequest, ExportState, FailingLines, PreferenceStyle, SystemMessage,
};

#[derive(clap::Args)]
pub struct ExportArgs {
    /// chat_jsonl, preference_jsonl, jsonl or csv.
    #[arg(long)]
    format: String,
    /// A feed filter, as KEY=VALUE (operation, verdict, model, model_version, from, to, tag,
    /// reviewer); repeat for several.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    filters: Vec<String>,
    /// Share of examples in the validation file (0 to 50).
    #[arg(long, default_value_t = 0)]
    validation_percent: u32,
    /// One example per identical input (the newest review).
    #[arg(long)]
    dedupe: bool,
    /// At most this many examples per operation.
    #[arg(long)]
    max_per_operation: Option<u32>,
    /// chat_jsonl: calls marked correct become examples of their output.
    #[arg(long)]
    include_correct: bool,
    /// preference_jsonl: openai or trl.
    #[arg(long, default_value = "openai")]
    preference_style: String,
    /// Drop the calls' system messages.
    #[arg(long, conflicts_with = "system")]
    drop_system: bool,
    /// Replace the calls' system messages with this text.
    #[arg(long)]
    system: Option<String>,
    /// Replace e-mail addresses, phone numbers, card numbers and IBANs with placeholders.
    #[arg(long)]
    redact: bool,
    /// Tokens one training example may hold.
    #[arg(long)]
    context_limit: Option<u32>,
    /// Fail the export when a training line fails the format check (default: leave it out).
    #[arg(long)]
    fail_on_bad_lines: bool,
    /// Folder the export is written to (as `export-<id>/`).
    #[arg(long)]
    output: PathBuf,
    #[command(flatten)]
    target: TargetDatabase,
}

fn request(args: &ExportArgs) -> Result<ExportRequest, AnyError> {
    let mut filter = std::collections::BTreeMap::new();
    for pair in &args.filters {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--filter {pair}: expected KEY=VALUE"))?;
        filter.insert(key.trim().to_string(), value.trim().to_string());
    }
    let style = match args.preference_style.as_str() {
        "openai" => PreferenceStyle::Openai,
        "trl" => PreferenceStyle::Trl,
        other => return Err(format!("--preference-style {other}: expected openai or trl").into()),
    };
    let system = match (&args.system, args.drop_system) {
        (Some(text), _) => SystemMessage::Replace(text.clone()),
        (None, true) => SystemMessage::Drop,
        (None, false) => SystemMessage::Keep,
    };
    Ok(ExportRequest {
        format: Some(args.format.clone()),
        filter,
        preference_style: Some(style),
        system: Some(system),
        validation_percent: Some(args.validation_percent),
        dedupe: Some(args.dedupe),
        max_per_operation: args.max_per_operation,
        include_correct: Some(args.include_correct),
        redact: Some(args.redact),
        context_limit: args.context_limit,
        failing_lines: Some(if args.fail_on_bad_lines {
            FailingLines::Fail
        } else {
            FailingLines::Skip
        }),
    })
}

fn bar(done: u64, total: u64) -> String {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0).min(WIDTH);
    format!(
        "[{}{}] {done} / {total} rows",
        "#".repeat(filled as usize),
        " ".repeat((WIDTH - filled) as usize)
    )
}

pub async fn run(args: ExportArgs) -> Result<(), AnyError> {
    let spec = request(&args)?
        .into_spec()
        .map_err(|e| format!("{}: {}", e.field, e.reason))?;
    let files = ExportFiles::new(args.output.clone());
    args.target
        .act(|store| async move {
            // The queue's copy of the job falls due only in a day: this process runs it now,
            // and a server takes it over only if this process dies (its lease runs out).
            let due = Utc::now() + chrono::Duration::days(1);
            let id = manage::create_due(&store, &spec, "cli", &Actor::cli(), due)
                .await
                .map_err(|e| e.to_string())?;
            let worker = format!("cli:{}", std::process::id());
            let job = store
                .claim_export_job(id, &worker, Utc::now())
                .await?
                .ok_or("another worker took the export's job")?;
            let job_id = job.id;
            let context = ExportContext {
                store: store.clone(),
                files: files.clone(),
                worker: worker.clone(),
                max_rows_per_second: None,
            };
            eprintln!(
                "export {id}: {} into {}",
                spec.format.as_str(),
                files.root().display()
            );
            let running = tokio::spawn(async move { run_export(&context, &job).await });
            let mut stderr = std::io::stderr();
            while !running.is_finished() {
                if let Some(export) = store.export(id).await? {
                    let _ = write!(stderr, "\r{}", bar(export.rows_done, export.rows_total));
                    let _ = stderr.flush();
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let outcome = running.await.map_err(|e| e.to_string())?;
            store
                .finish_job(job_id, &worker, outcome.clone(), Utc::now())
                .await?;
            let export = store.export(id).await?.ok_or("the export vanished")?;
            let _ = writeln!(stderr, "\r{}", bar(export.rows_done, export.rows_total));
            outcome?;
            if export.state != ExportState::Done {
                return Err(format!("export {id} ended {}", export.state.as_str()).into());
            }
            for file in &export.files {
                println!(
                    "{}\t{} bytes\tsha256 {}",
                    files
                        .complete(id, &file.part, spec.format)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    file.bytes,
                    file.sha256
                );
            }
            if let Some(path) = files.complete(id, "manifest", spec.format) {
                println!("{}", path.display());
            }
            Ok(())
        })
        .await
}
