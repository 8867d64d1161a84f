//! The export job: plan, write each chosen call as a line (redacted and checked as the spec
//! says), report progress and keep the job's lease, stop on a cancel request, check the rows
//! written against the plan, then rename the files complete and record the manifest.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::Value;

use super::check::Checker;
use super::files::{download_name, part_of, ExportFiles};
use super::lines::{chat_line, csv_header, csv_line, data_line, preference_line, redact, target};
use super::plan::plan;
use super::redact::Redactor;
use crate::model::export::{
    ExportFormat, ExportInfo, ExportManifest, ExportState, FailingLines, ManifestEntry, Split,
};
use crate::store::{Job, Store};

/// Calls read and written per round; progress is recorded after each.
const CHUNK: usize = 500;

/// Who runs the job: the store, the export directory and the worker's name (its claim).
#[derive(Clone)]
pub struct ExportContext {
    pub store: Store,
    pub files: ExportFiles,
    pub worker: String,
}

/// How a run ended, when it did not fail.
enum Ended {
    Done(Box<ExportManifest>),
    Cancelled,
}

/// Runs the `export` job: builds the export its payload names. A job whose lease ran out
/// (a killed server) is claimed again and starts over from nothing.
pub async fn run_export(ctx: &ExportContext, job: &Job) -> Result<(), String> {
    let payload: Value =
        serde_json::from_str(&job.payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    let id = payload
        .get("export_id")
        .and_then(Value::as_i64)
        .ok_or("payload has no export_id")?;
    let export = ctx
        .store
        .export(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("export {id} does not exist"))?;
    if export.deleted || matches!(export.state, ExportState::Done | ExportState::Cancelled) {
        return Ok(());
    }
    // Whatever an earlier attempt left (a killed job) goes first.
    ctx.files
        .remove(id)
        .await
        .map_err(|e| format!("cannot clear the export's earlier files: {e}"))?;
    let outcome = if export.cancel_requested {
        Ok(Ended::Cancelled)
    } else {
        write(ctx, job, &export).await
    };
    let store = &ctx.store;
    let now = Utc::now();
    match outcome {
        Ok(Ended::Done(manifest)) => store
            .finish_export(id, ExportState::Done, None, Some(&manifest), now)
            .await
            .map_err(|e| e.to_string()),
        Ok(Ended::Cancelled) => {
            let _ = ctx.files.remove(id).await;
            store
                .finish_export(id, ExportState::Cancelled, None, None, now)
                .await
                .map_err(|e| e.to_string())
        }
        Err(reason) => {
            let _ = ctx.files.remove(id).await;
            if let Err(error) = store
                .finish_export(id, ExportState::Failed, Some(&reason), None, now)
                .await
            {
                tracing::warn!(export = id, %error, "could not record a failed export");
            }
            Err(reason)
        }
    }
}

async fn write(ctx: &ExportContext, job: &Job, export: &ExportInfo) -> Result<Ended, String> {
    let id = export.id;
    let spec = &export.spec;
    let store = &ctx.store;
    let plan = plan(store, spec).await.map_err(|e| e.to_string())?;
    let planned = plan.counts.total;
    if planned == 0 {
        return Err("the filter matched no examples: nothing to export".into());
    }
    store
        .start_export(id, planned, Utc::now())
        .await
        .map_err(|e| e.to_string())?;

    let io = |e: std::io::Error| format!("cannot write the export: {e}");
    let mut train = ctx.files.create(id, "train", spec.format).map_err(io)?;
    let mut validation = if spec.validation_percent > 0 {
        Some(
            ctx.files
                .create(id, "validation", spec.format)
                .map_err(io)?,
        )
    } else {
        None
    };
    if spec.format == ExportFormat::Csv {
        train.write(csv_header().as_bytes()).map_err(io)?;
        if let Some(v) = validation.as_mut() {
            v.write(csv_header().as_bytes()).map_err(io)?;
        }
    }
    let mut checker = if spec.format.is_training() {
        Some(Checker::new(spec.context_limit)?)
    } else {
        None
    };
    let mut redactions: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: Vec<ManifestEntry> = Vec::with_capacity(plan.chosen.len());
    let mut done: u64 = 0;
    let mut failed: u64 = 0;

    for chunk in plan.chosen.chunks(CHUNK) {
        let seqs: Vec<i64> = chunk.iter().map(|c| c.seq).collect();
        let rows = store.export_rows(&seqs).await.map_err(|e| e.to_string())?;
        if rows.len() != chunk.len() {
            return Err(format!(
                "{} of {} planned calls could not be read back",
                chunk.len() - rows.len(),
                chunk.len()
            ));
        }
        for (row, chosen) in rows.iter().zip(chunk) {
            if row.seq != chosen.seq {
                return Err("the calls read back are not the ones planned".into());
            }
            let redacted;
            let row = if spec.redact {
                let mut redactor = Redactor::default();
                redacted = redact(row, &mut redactor);
                for (kind, n) in redactor.counts {
                    *redactions.entry(kind).or_default() += n;
                }
                &redacted
            } else {
                row
            };
            let line: Vec<u8> = match spec.format {
                ExportFormat::Csv => csv_line(row, chosen.split).into_bytes(),
                ExportFormat::Jsonl => line_bytes(&data_line(row, chosen.split)),
                ExportFormat::ChatJsonl | ExportFormat::PreferenceJsonl => {
                    let answer = target(row)
                        .ok_or_else(|| format!("call {} has no answer to teach", row.id))?;
                    let value = if spec.format == ExportFormat::ChatJsonl {
                        chat_line(row, &spec.system, answer)
                    } else {
                        preference_line(row, &spec.system, spec.preference_style, answer)
                    };
                    if let Some(checker) = checker.as_mut() {
                        if checker.check(&row.id, &value).is_err() {
                            failed += 1;
                            done += 1;
                            continue;
                        }
                    }
                    line_bytes(&value)
                }
            };
            let out = match (chosen.split, validation.as_mut()) {
                (Split::Validation, Some(v)) => v,
                _ => &mut train,
            };
            out.record(&line).map_err(io)?;
            examples.push(ManifestEntry {
                call_id: row.id.clone(),
                split: chosen.split,
                revision: row.review.as_ref().map_or(0, |r| r.revision),
                reviewer: row.review.as_ref().map(|r| r.reviewer.clone()),
            });
            done += 1;
        }
        let go_on = store
            .export_progress(id, job.id, &ctx.worker, done, Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        if !go_on {
            if store
                .export_cancel_requested(id)
                .await
                .map_err(|e| e.to_string())?
            {
                return Ok(Ended::Cancelled);
            }
            return Err("another worker took this export over (its lease ran out)".into());
        }
    }

    let written = train.lines + validation.as_ref().map_or(0, |v| v.lines);
    if written + failed != planned {
        return Err(format!(
            "wrote {written} rows and left out {failed} failing lines, but {planned} were planned"
        ));
    }
    let report = checker.map(|c| c.finish(written));
    if let Some(report) = &report {
        if report.lines_failed > 0 && spec.failing_lines == FailingLines::Fail {
            let first: Vec<String> = report
                .failures
                .iter()
                .take(5)
                .map(|f| format!("{}: {}", f.call_id, f.reason))
                .collect();
            return Err(format!(
                "{} lines failed the format check ({}); the spec says to fail",
                report.lines_failed,
                first.join("; ")
            ));
        }
    }
    if written == 0 {
        return Err(format!(
            "every one of the {planned} planned lines failed the format check"
        ));
    }
    let mut counts = plan.counts;
    if failed > 0 {
        counts
            .left_out
            .insert("failed the format check".into(), failed);
    }
    let mut files = vec![train
        .finish(download_name(id, part_of(Split::Train), spec.format))
        .map_err(io)?];
    if let Some(v) = validation {
        files.push(
            v.finish(download_name(id, part_of(Split::Validation), spec.format))
                .map_err(io)?,
        );
    }
    let manifest = ExportManifest {
        export_id: id,
        spec: spec.clone(),
        created_by: export.created_by.clone(),
        created_at: export.created_at,
        finished_at: Utc::now(),
        redline_version: env!("CARGO_PKG_VERSION").to_string(),
        counts,
        redactions,
        validation: report,
        files,
        examples,
    };
    let mut file = ctx.files.create(id, "manifest", spec.format).map_err(io)?;
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    file.write(&text).map_err(io)?;
    file.finish(download_name(id, "manifest", spec.format))
        .map_err(io)?;
    ctx.files
        .publish(id, spec.format)
        .await
        .map_err(|e| format!("cannot store the export's files: {e}"))?;
    Ok(Ended::Done(Box::new(manifest)))
}

fn line_bytes(value: &Value) -> Vec<u8> {
    let mut bytes = value.to_string().into_bytes();
    bytes.push(b'\n');
    bytes
}
