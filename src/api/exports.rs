//! Server functions behind `/exports` (engineers and admins): the list with progress, the
//! live preview of a spec, create, cancel and delete. A spec travels as JSON text, bounded
//! before it is parsed.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::export::ExportInfo;

/// Longest spec text a page may send.
pub const MAX_SPEC_TEXT: usize = 64 * 1024;

use crate::model::export::ExportPlanCounts;

/// What the page shows before an export starts (see `exports::manage::ExportPreview`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PreviewAnswer {
    pub counts: ExportPlanCounts,
    pub redactions: std::collections::BTreeMap<String, u64>,
    /// (call id, original input, redacted input)
    pub samples: Vec<(String, String, String)>,
    pub previewed: u64,
    /// When counting stopped at the time limit: the last call counted (`YYYY-MM-DD HH:MM UTC`).
    pub counted_through: Option<String>,
}

#[cfg(feature = "ssr")]
fn parse_spec(spec: &str) -> Result<crate::model::export::ExportSpec, AppError> {
    if spec.len() > MAX_SPEC_TEXT {
        return Err(AppError::TooLarge(format!(
            "an export spec is at most {} KB",
            MAX_SPEC_TEXT / 1024
        )));
    }
    let request: crate::model::export::ExportRequest = serde_json::from_str(spec)
        .map_err(|e| AppError::bad_request(format!("not an export spec: {e}")))?;
    request
        .into_spec()
        .map_err(|e| AppError::unprocessable(e.field, e.reason))
}

/// The newest exports, with their progress.
#[server(endpoint = "load_exports")]
pub async fn load_exports() -> Result<Vec<ExportInfo>, AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    guard::require(Capability::Export)?;
    Ok(guard::store()?.list_exports(50).await?)
}

/// What an export of `spec` (JSON) would hold now.
#[server(endpoint = "preview_export")]
pub async fn preview_export(spec: String) -> Result<PreviewAnswer, AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    guard::require(Capability::Export)?;
    let spec = parse_spec(&spec)?;
    let preview = crate::exports::manage::preview(&guard::store()?, &spec).await?;
    Ok(PreviewAnswer {
        counts: preview.counts,
        redactions: preview.redactions,
        samples: preview
            .samples
            .into_iter()
            .map(|s| (s.call_id, s.original, s.redacted))
            .collect(),
        previewed: preview.previewed,
        counted_through: preview
            .counted_through
            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
    })
}

/// Creates an export of `spec` (JSON); its id.
#[server(endpoint = "create_export")]
pub async fn create_export(spec: String) -> Result<i64, AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    let (caller, address) = guard::require(Capability::Export)?;
    let spec = parse_spec(&spec)?;
    let made_by = crate::http::rest::exports::made_by(&caller);
    crate::exports::manage::create(
        &guard::store()?,
        &spec,
        &made_by,
        &guard::actor(&caller, &address),
    )
    .await
}

/// Asks a queued or running export to stop.
#[server(endpoint = "cancel_export")]
pub async fn cancel_export(id: i64) -> Result<(), AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    let (caller, address) = guard::require(Capability::Export)?;
    crate::exports::manage::cancel(&guard::store()?, id, &guard::actor(&caller, &address)).await
}

/// Deletes a finished export's files.
#[server(endpoint = "delete_export")]
pub async fn delete_export(id: i64) -> Result<(), AppError> {
    use crate::api::guard;
    use crate::model::auth::Capability;
    let (caller, address) = guard::require(Capability::Export)?;
    let files = use_context::<crate::exports::ExportFiles>().ok_or_else(|| {
        tracing::error!("a server function ran without the export folder in its context");
        AppError::Internal
    })?;
    crate::exports::manage::delete(
        &guard::store()?,
        &files,
        id,
        &guard::actor(&caller, &address),
    )
    .await
}
