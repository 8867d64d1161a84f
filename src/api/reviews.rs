//! The review save behind the call page's editor (a plain form post before hydration).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::review::SaveOutcome;

/// Saves a review of call `id` as the signed-in person. `tags` is a comma-separated list.
/// Whether the review is sampled is the server's to say (the queue drew the call for this
/// reviewer), never the form's.
#[server(endpoint = "save_review")]
pub async fn save_review(
    id: String,
    verdict: Option<String>,
    corrected_output: Option<String>,
    tags: Option<String>,
    note: Option<String>,
    base_revision: i64,
) -> Result<SaveOutcome, AppError> {
    use crate::model::auth::Capability;
    use crate::model::review::ReviewForm;
    let (caller, address) = crate::api::guard::require(Capability::Review)?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Err(AppError::bad_request(format!("\"{id}\" is not a call id")));
    };
    let form = ReviewForm {
        verdict,
        corrected_output,
        tags,
        note,
        base_revision,
    };
    let submission = match form.into_submission() {
        Ok(submission) => submission,
        Err(error) => return Ok(SaveOutcome::Invalid(error)),
    };
    let store = crate::api::guard::store()?;
    Ok(crate::reviewing::save_review(&store, &caller, &address, uuid, submission).await?)
}

/// The editor's live check of a correction to a call of `operation` (a `json` operation):
/// whether it parses and which schema rules it breaks, before the reviewer saves.
#[server(endpoint = "check_correction")]
pub async fn check_correction(
    operation: String,
    text: String,
) -> Result<crate::model::operation::CorrectionCheck, AppError> {
    use crate::model::auth::Capability;
    use crate::model::review::MAX_CORRECTION_BYTES;
    crate::api::guard::require(Capability::Review)?;
    if operation.len() > 64 {
        return Err(AppError::bad_request("not an operation name"));
    }
    if text.len() > MAX_CORRECTION_BYTES {
        return Err(AppError::TooLarge(format!(
            "a correction is at most {} MB",
            MAX_CORRECTION_BYTES / (1024 * 1024)
        )));
    }
    let store = crate::api::guard::store()?;
    crate::operations::check_correction(&store, &operation, text).await
}
