//! `POST /api/v1/calls/{id}/reviews`: a review saved by a service or script holding a key
//! with the `review` scope. The reviewer is the key's owner; every save is audited.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use crate::auth::{Caller, ClientAddress};
use crate::error::AppError;
use crate::http::state::AppState;
use crate::model::auth::Scope;
use crate::model::review::{ReviewSubmission, SaveOutcome};
use crate::reviewing::save_review;

pub async fn save(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let caller = super::key_with(caller, Scope::Review)?;
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::bad_request(format!("\"{id}\" is not a call id (a UUID)")))?;
    let body = body.map_err(|e| AppError::bad_request(format!("could not read the body: {e}")))?;
    let submission: ReviewSubmission = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(format!(
            "the body must be {{verdict, corrected_output?, tags?, note?, base_revision}}: {e}"
        ))
    })?;
    let saved = save_review(&state.store, &caller, &address, uuid, submission).await?;
    Ok(match saved {
        SaveOutcome::Saved { revision } => {
            let review = state.store.get_call(&uuid).await?.and_then(|c| c.review);
            (
                StatusCode::CREATED,
                Json(json!({ "revision": revision, "review": review })),
            )
                .into_response()
        }
        SaveOutcome::Conflict {
            current_revision,
            ref current,
            ..
        } => {
            let body = json!({
                "error": saved.conflict_message(),
                "current_revision": current_revision,
                "current": current,
            });
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
        SaveOutcome::Invalid(error) => AppError::from(error).into_response(),
        SaveOutcome::NotFound => return Err(AppError::NotFound(format!("no call with id {id}"))),
    })
}
