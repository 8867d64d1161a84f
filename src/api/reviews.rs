//! The review save behind the call page's editor (a plain form post before hydration).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the editor shows after a save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveResult {
    Saved {
        revision: i64,
    },
    /// Someone saved since; the editor keeps the text and offers to save on top.
    Conflict {
        message: String,
        current_revision: i64,
    },
    Invalid {
        field: String,
        reason: String,
    },
}

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
) -> Result<SaveResult, ServerFnError> {
    use crate::model::auth::Capability;
    use crate::model::review::ReviewSubmission;
    use crate::server::reviewing::{self, Saved};
    let (caller, address) = crate::api::guard::require(Capability::Review)?;
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return Err(ServerFnError::new(format!("\"{id}\" is not a call id")));
    };
    let Some(verdict) = verdict.filter(|v| !v.is_empty()) else {
        return Ok(SaveResult::Invalid {
            field: "verdict".into(),
            reason: "choose correct or incorrect".into(),
        });
    };
    let tags = tags
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        // One more than allowed is enough to refuse: a huge list is never built.
        .take(crate::model::review::MAX_TAGS_SENT + 1)
        .map(str::to_string)
        .collect();
    let submission = ReviewSubmission {
        verdict,
        // A correct verdict keeps the original: the editor's text is only the correction.
        corrected_output: corrected_output.map(|t| t.replace("\r\n", "\n")),
        tags,
        note: note.unwrap_or_default(),
        base_revision,
    };
    let submission = if submission.verdict == "correct" {
        ReviewSubmission {
            corrected_output: None,
            ..submission
        }
    } else {
        submission
    };
    let store = crate::api::calls::store()?;
    let saved = reviewing::save_review(&store, &caller, &address, uuid, submission)
        .await
        .map_err(crate::api::calls::internal)?;
    Ok(match saved {
        Saved::Created { revision } => SaveResult::Saved { revision },
        Saved::Conflict {
            base_revision,
            current_revision,
            current,
        } => SaveResult::Conflict {
            message: Saved::conflict_message(base_revision, current_revision, current.as_ref()),
            current_revision,
        },
        Saved::Invalid(error) => SaveResult::Invalid {
            field: error.field,
            reason: error.reason,
        },
        Saved::NotFound => return Err(ServerFnError::new("no such call")),
    })
}
