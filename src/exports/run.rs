//! The export job: plan, write each chosen call as a line (redacted and checked as the spec
//! says), report progress and keep the job's lease, stop on a cancel request, check the rows
//! written against the plan, then rename the files complete and record the manifest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use super::check::Checker;
use super::files::{download_name, part_of, ExportFiles, PartWriter};
use super::lines::{csv_header, csv_line, data_line, redact};
use super::manifest::{self, Spool};
use super::prepare::{LineWorkers, Outcome, Pending, Prepared};
use super::redact::Redactor;
use super::source::{Opened, Source};
use crate::model::export::{
    ExportFormat, ExportInfo, ExportManifest, ExportPlanCounts, ExportSpec, ExportState,
    FailingLines, ManifestEntry, Split,
};
use crate::store::{ExportRow, Job, Store};

/// How often progress is recorded (and the lease renewed, and a cancel request seen): each
/// record is a committed write, too dear to make every few hundred rows.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Who runs the job: the store, the export directory and the worker's name (its claim).
#[derive(Clone)]
pub struct ExportContext {
    pub store: Store,
    pub files: ExportFiles,
    pub worker: String,
    /// At most this many rows a second (`--export-max-rows-per-second`): a big export on a
    /// small shared server then leaves the cores and the database to the reviewers. `None`:
    /// as fast as it goes.
    pub max_rows_per_second: Option<u32>,
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
    let Opened {
        mut source,
        planned,
        left_out,
    } = Source::open(store, spec).await?;
    if planned == 0 {
        return Err("the filter matched no examples: nothing to export".into());
    }
    store
        .start_export(id, planned, Utc::now())
        .await
        .map_err(|e| e.to_string())?;

    let mut writer = Writer::new(ctx, id, spec, left_out)?;
    // Training lines are prepared by threads of their own (see `prepare`).
    let workers = if spec.format.is_training() {
        Some(LineWorkers::start(spec)?)
    } else {
        None
    };
    let batch = |rows: Vec<(ExportRow, Split)>| -> Result<Batch, String> {
        match &workers {
            Some(workers) => Ok(Batch::Training(workers.submit(Arc::new(rows))?)),
            None => Ok(Batch::Data(rows)),
        }
    };
    let mut progress_at = Instant::now();
    let started = Instant::now();
    // Each page is written on a blocking thread while the next one is read and, for
    // training lines, already prepared: the database's work, the lines' (the tokenizer
    // above all) and the files' overlap.
    let mut next = source.next(store, spec).await?.map(batch).transpose()?;
    while let Some(page) = next {
        let task = tokio::task::spawn_blocking(move || {
            let written = writer.batch(page);
            (writer, written)
        });
        next = source.next(store, spec).await?.map(batch).transpose()?;
        let (back, written) = task
            .await
            .map_err(|e| format!("the export's writer stopped: {e}"))?;
        writer = back;
        written?;
        if let Some(wait) = pace_wait(
            ctx.max_rows_per_second,
            writer.counts.total,
            started.elapsed(),
        ) {
            tokio::time::sleep(wait).await;
        }
        if progress_at.elapsed() >= PROGRESS_EVERY {
            progress_at = Instant::now();
            if let Some(ended) = progress(ctx, job, id, writer.counts.total).await? {
                return Ok(ended);
            }
        }
    }
    if let Some(ended) = progress(ctx, job, id, writer.counts.total).await? {
        return Ok(ended);
    }

    let Writer {
        train,
        validation,
        checker,
        mut counts,
        redactions,
        examples,
        failed,
        ..
    } = writer;
    let written = train.lines + validation.as_ref().map_or(0, |v| v.lines);
    if written + failed != planned {
        return Err(format!(
            "wrote {written} rows and left out {failed} failing lines, but {planned} were planned \
             (were calls reviewed or deleted while the export ran?)"
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
    let examples = examples.finish().map_err(io)?;
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
        examples: Vec::new(),
    };
    let mut file = ctx.files.create(id, "manifest", spec.format).map_err(io)?;
    manifest::write(&mut file, &manifest, &examples)
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
    file.finish(download_name(id, "manifest", spec.format))
        .map_err(io)?;
    std::fs::remove_file(&examples).map_err(io)?;
    ctx.files
        .publish(id, spec.format)
        .await
        .map_err(|e| format!("cannot store the export's files: {e}"))?;
    Ok(Ended::Done(Box::new(manifest)))
}

/// A page of rows on its way to the files.
enum Batch {
    /// Training lines, being prepared by the line threads.
    Training(Pending),
    /// `jsonl` or `csv` rows, written by the writer itself.
    Data(Vec<(ExportRow, Split)>),
}

/// What writing an export keeps between pages: its files, the format check, the figures.
struct Writer {
    spec: ExportSpec,
    train: PartWriter,
    validation: Option<PartWriter>,
    checker: Option<Checker>,
    /// What was written, counted as it goes (the manifest's figures are those of the files).
    counts: ExportPlanCounts,
    redactions: BTreeMap<String, u64>,
    /// The manifest's list of examples goes to a scratch file as they are written, not to
    /// memory: a million entries are over a hundred megabytes as values.
    examples: Spool,
    line: Vec<u8>,
    /// Lines that failed the format check and were left out.
    failed: u64,
}

/// How long to wait so that `done` rows after `elapsed` keep to `max_rows_per_second`.
fn pace_wait(max_rows_per_second: Option<u32>, done: u64, elapsed: Duration) -> Option<Duration> {
    let rate = f64::from(max_rows_per_second.filter(|r| *r > 0)?);
    let due = Duration::from_secs_f64(done as f64 / rate);
    due.checked_sub(elapsed).filter(|w| !w.is_zero())
}

fn io(e: std::io::Error) -> String {
    format!("cannot write the export: {e}")
}

impl Writer {
    fn new(
        ctx: &ExportContext,
        id: i64,
        spec: &ExportSpec,
        left_out: BTreeMap<String, u64>,
    ) -> Result<Writer, String> {
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
        let checker = spec.format.is_training().then(Checker::default);
        Ok(Writer {
            spec: spec.clone(),
            train,
            validation,
            checker,
            counts: ExportPlanCounts {
                left_out,
                ..ExportPlanCounts::default()
            },
            redactions: BTreeMap::new(),
            examples: Spool::create(ctx.files.scratch(id, "examples").map_err(io)?).map_err(io)?,
            line: Vec::with_capacity(64 * 1024),
            failed: 0,
        })
    }

    /// Writes a page of rows, each to its side of the split.
    fn batch(&mut self, batch: Batch) -> Result<(), String> {
        match batch {
            Batch::Training(pending) => {
                let (page, prepared) = pending.wait()?;
                for ((row, split), prepared) in page.iter().zip(prepared) {
                    self.training_row(row, *split, prepared)?;
                }
            }
            Batch::Data(rows) => {
                for (row, split) in &rows {
                    self.data_row(row, *split)?;
                }
            }
        }
        Ok(())
    }

    /// A training line as a line thread prepared it: checked, then written or left out.
    fn training_row(
        &mut self,
        row: &ExportRow,
        split: Split,
        prepared: Prepared,
    ) -> Result<(), String> {
        count(&mut self.counts, row, split);
        for (kind, n) in prepared.redactions {
            *self.redactions.entry(kind).or_default() += n;
        }
        let checker = self
            .checker
            .as_mut()
            .ok_or("a training export without its format check")?;
        match prepared.outcome {
            Outcome::Failed(reason) => {
                // Listed in the report; the spec decides at the end whether that fails.
                let _ = checker.record(&row.id, Err(reason));
                self.failed += 1;
                Ok(())
            }
            Outcome::Line(line, tokens) => {
                checker.record(&row.id, Ok(tokens))?;
                self.write_line(row, split, &line)
            }
        }
    }

    /// A `jsonl` or `csv` line.
    fn data_row(&mut self, row: &ExportRow, split: Split) -> Result<(), String> {
        let spec = &self.spec;
        count(&mut self.counts, row, split);
        let redacted;
        let row = if spec.redact {
            let mut redactor = Redactor::default();
            redacted = redact(row, &mut redactor)?;
            for (kind, n) in redactor.counts {
                *self.redactions.entry(kind).or_default() += n;
            }
            &redacted
        } else {
            row
        };
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match spec.format {
            ExportFormat::Csv => line.extend_from_slice(csv_line(row, split).as_bytes()),
            ExportFormat::Jsonl => {
                data_line(&mut line, row, split);
                line.push(b'\n');
            }
            training => {
                return Err(format!(
                    "{} lines are prepared by the line threads",
                    training.as_str()
                ))
            }
        }
        let written = self.write_line(row, split, &line);
        self.line = line;
        written
    }

    /// Writes a line to its side of the split and lists its example in the manifest.
    fn write_line(&mut self, row: &ExportRow, split: Split, line: &[u8]) -> Result<(), String> {
        let out = match (split, self.validation.as_mut()) {
            (Split::Validation, Some(v)) => v,
            _ => &mut self.train,
        };
        out.record(line).map_err(io)?;
        self.examples
            .push(&ManifestEntry {
                call_id: row.id.clone(),
                split,
                revision: row.review.as_ref().map_or(0, |r| r.revision),
                reviewer: row.review.as_ref().map(|r| r.reviewer.clone()),
            })
            .map_err(io)
    }
}

/// Counts an example in the manifest's figures (names are keys already there after the
/// first few rows, so a million rows do not allocate a million keys).
fn count(counts: &mut ExportPlanCounts, row: &ExportRow, split: Split) {
    let side = counts.add_example(split);
    match counts.per_operation.get_mut(&row.operation) {
        Some(sides) => sides[side] += 1,
        None => {
            let mut sides = [0, 0];
            sides[side] = 1;
            counts.per_operation.insert(row.operation.clone(), sides);
        }
    }
    match counts.per_verdict.get_mut(row.verdict.as_str()) {
        Some(n) => *n += 1,
        None => {
            counts
                .per_verdict
                .insert(row.verdict.as_str().to_string(), 1);
        }
    }
}

/// Records progress and renews the job's lease; `Some` when the job must stop (cancelled),
/// `Err` when another worker took it over.
async fn progress(
    ctx: &ExportContext,
    job: &Job,
    id: i64,
    done: u64,
) -> Result<Option<Ended>, String> {
    let store = &ctx.store;
    let go_on = store
        .export_progress(id, job.id, &ctx.worker, done, Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    if go_on {
        return Ok(None);
    }
    if store
        .export_cancel_requested(id)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(Some(Ended::Cancelled));
    }
    Err("another worker took this export over (its lease ran out)".into())
}

#[cfg(test)]
mod tests {
    use super::pace_wait;
    use std::time::Duration;

    #[test]
    fn a_paced_export_waits_until_its_rows_are_due_and_an_unpaced_one_never_waits() {
        assert_eq!(pace_wait(None, 10_000, Duration::ZERO), None);
        assert_eq!(pace_wait(Some(0), 10_000, Duration::ZERO), None);
        // 1,000 rows at 500 a second are due after 2 s.
        assert_eq!(
            pace_wait(Some(500), 1_000, Duration::from_millis(500)),
            Some(Duration::from_millis(1_500))
        );
        // Behind the pace already: no wait.
        assert_eq!(pace_wait(Some(500), 1_000, Duration::from_secs(3)), None);
    }
}
