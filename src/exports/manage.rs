//! What the API, the pages and the command line do with exports: preview a spec (the counts
//! and a few redacted examples), create one (refused with the reason when it would be empty
//! or asks for what is not built), cancel it, delete it. Each change is audited.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::lines::redact;
use super::plan::{has_example, plan_until};
use super::redact::Redactor;
use super::ExportFiles;
use crate::auth::manage::Actor;
use crate::error::AppError;
use crate::model::export::{ExportPlanCounts, ExportSpec};
use crate::store::Store;

/// Examples shown redacted beside their original before an export starts.
const PREVIEW_EXAMPLES: usize = 3;

/// A redaction shown before the export starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedactionSample {
    pub call_id: String,
    pub original: String,
    pub redacted: String,
}

/// What an export of a spec would hold now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportPreview {
    pub counts: ExportPlanCounts,
    /// Redactions in the previewed calls, per kind.
    pub redactions: BTreeMap<String, u64>,
    pub samples: Vec<RedactionSample>,
    /// Calls looked at for the redaction preview.
    pub previewed: u64,
    /// Set when counting stopped at the preview's time limit: the time of the last call
    /// counted (oldest first); the counts are then "at least". Absent: complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_through: Option<chrono::DateTime<chrono::Utc>>,
}

/// How long a preview counts before it answers with what it has.
const PREVIEW_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// Refuses what this build does not export yet.
fn supported(spec: &ExportSpec) -> Result<(), AppError> {
    if spec.filter.q.is_some() {
        return Err(AppError::unprocessable(
            "filter.q",
            "exports cannot narrow by full-text search yet: remove the search words (the other filters work)",
        ));
    }
    Ok(())
}

/// Counts what an export of `spec` would hold now and, when it redacts, shows a few examples.
pub async fn preview(store: &Store, spec: &ExportSpec) -> Result<ExportPreview, AppError> {
    supported(spec)?;
    let deadline = std::time::Instant::now() + PREVIEW_BUDGET;
    let plan = plan_until(store, spec, Some(deadline)).await?;
    let mut preview = ExportPreview {
        counted_through: plan.counted_through.map(crate::store::micros_to_time),
        counts: plan.counts,
        ..ExportPreview::default()
    };
    if spec.redact {
        // The first examples with something to redact, among the first few hundred.
        let seqs: Vec<i64> = plan.chosen.iter().take(200).map(|c| c.seq).collect();
        for row in store.export_rows(&seqs).await? {
            preview.previewed += 1;
            let mut redactor = Redactor::default();
            let redacted = redact(&row, &mut redactor).map_err(|error| {
                tracing::error!(%error, "export preview: a stored input is not JSON");
                AppError::Internal
            })?;
            if redactor.counts.is_empty() {
                continue;
            }
            for (kind, n) in &redactor.counts {
                *preview.redactions.entry(kind.clone()).or_default() += n;
            }
            if preview.samples.len() < PREVIEW_EXAMPLES {
                preview.samples.push(RedactionSample {
                    call_id: row.id.clone(),
                    original: row.input.clone(),
                    redacted: redacted.input.clone(),
                });
            }
        }
    }
    Ok(preview)
}

/// Creates an export and queues its job; refused (422) when nothing would be exported.
pub async fn create(
    store: &Store,
    spec: &ExportSpec,
    created_by: &str,
    actor: &Actor,
) -> Result<i64, AppError> {
    create_due(store, spec, created_by, actor, Utc::now()).await
}

/// `create`, with the job due at `run_after` (the command line runs its own at once and
/// leaves the queue a late date, in case it dies).
pub async fn create_due(
    store: &Store,
    spec: &ExportSpec,
    created_by: &str,
    actor: &Actor,
    run_after: chrono::DateTime<Utc>,
) -> Result<i64, AppError> {
    supported(spec)?;
    if let Err(left_out) = has_example(store, spec).await? {
        let why = if left_out.is_empty() {
            "the filter matched no calls".to_string()
        } else {
            let reasons: Vec<String> = left_out
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            format!("no call gives an example ({})", reasons.join(", "))
        };
        return Err(AppError::unprocessable(
            "filter",
            format!("nothing to export: {why}"),
        ));
    }
    // The counts are the job's to find (a full plan of a million calls takes longer than a
    // request may); the list and the manifest show them once it has started.
    let detail = format!("{} export", spec.format.as_str());
    let audit = actor.entry("export.create", "", detail);
    Ok(store
        .create_export(spec, created_by, &audit, Utc::now(), run_after)
        .await?)
}

/// Asks an export to stop; `NotFound` or `Conflict` when there is nothing to stop.
pub async fn cancel(store: &Store, id: i64, actor: &Actor) -> Result<(), AppError> {
    let export = store
        .export(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no export {id}")))?;
    let audit = actor.entry("export.cancel", &format!("export {id}"), String::new());
    if !store.cancel_export(id, &audit, Utc::now()).await? {
        return Err(AppError::Conflict(format!(
            "export {id} is {}: only a queued or running export can be cancelled",
            export.state.as_str()
        )));
    }
    Ok(())
}

/// Deletes a finished export's files; its row and manifest summary stay (and the audit
/// entry carries the summary).
pub async fn delete(
    store: &Store,
    files: &ExportFiles,
    id: i64,
    actor: &Actor,
) -> Result<(), AppError> {
    let export = store
        .export(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no export {id}")))?;
    if export.deleted {
        return Err(AppError::NotFound(format!("export {id} was deleted")));
    }
    if !export.state.is_finished() {
        return Err(AppError::Conflict(format!(
            "export {id} is {}: cancel it first",
            export.state.as_str()
        )));
    }
    let summary = serde_json::json!({
        "spec": export.spec,
        "counts": export.counts,
        "files": export.files,
        "created_by": export.created_by,
    });
    let audit = actor.entry(
        "export.delete",
        &format!("export {id}"),
        summary.to_string(),
    );
    if store.delete_export(id, &audit, Utc::now()).await? {
        files.remove(id).await.map_err(|error| {
            tracing::error!(export = id, %error, "cannot remove an export's files");
            AppError::Internal
        })?;
    }
    Ok(())
}
