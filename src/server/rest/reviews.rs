//! `POST /api/v1/calls/{id}/reviews`: a review saved by a service or script holding a key
//! with the `review` scope. The reviewer is the key's owner; every save is audited.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde_json::json;

use crate::model::review::{validate_review, ReviewSubmission};
use crate::server::auth::{audit_entry, Caller, ClientAddress};
use crate::server::error::AppError;
use crate::server::state::AppState;
use crate::server::store::{ReviewInput, SaveOutcome};

pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::BadRequest(format!("\"{id}\" is not a call id (a UUID)")))?;
    let body = body.map_err(|e| AppError::BadRequest(format!("could not read the body: {e}")))?;
    let submission: ReviewSubmission = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!(
            "the body must be {{verdict, corrected_output?, tags?, note?, base_revision}}: {e}"
        ))
    })?;
    let store = &state.store;
    let Some(call) = store.get_call(&uuid).await? else {
        return Err(AppError::NotFound(format!("no call with id {id}")));
    };
    let review = match validate_review(submission, &call.output, call.output_kind) {
        Ok(review) => review,
        Err(error) => {
            let body = json!({ "error": error.reason, "field": error.field });
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
    };
    let reviewer = match &caller {
        Caller::Key(owner) => owner.user_name.clone(),
        Caller::Person(person) => person.name.clone(),
        Caller::Anonymous => return Err(AppError::BadRequest("no reviewer".into())),
    };
    let now = Utc::now();
    let input = ReviewInput {
        call_id: uuid,
        base_revision: review.base_revision,
        reviewer,
        verdict: review.verdict,
        corrected_output: review.corrected_output,
        tags: review.tags.clone(),
        note: review.note,
        sampled: false,
    };
    let outcome = store
        .save_reviews(std::slice::from_ref(&input), now)
        .await?;
    match outcome.into_iter().next() {
        Some(SaveOutcome::Saved { revision }) => {
            let detail = format!(
                "revision {revision}, {}{}",
                input.verdict.as_str(),
                if input.tags.is_empty() {
                    String::new()
                } else {
                    format!(", tags {}", input.tags.join(" "))
                }
            );
            let entry = audit_entry(&caller, &address, "review.save", &id, detail);
            store.audit(&entry, now).await?;
            let saved = store.get_call(&uuid).await?.and_then(|call| call.review);
            Ok((
                StatusCode::CREATED,
                Json(json!({ "revision": revision, "review": saved })),
            )
                .into_response())
        }
        Some(SaveOutcome::Conflict { current_revision }) => {
            let current = store.get_call(&uuid).await?.and_then(|call| call.review);
            let who = current
                .as_ref()
                .map(|r| format!(" by {} at {}", r.reviewer, r.created_at.to_rfc3339()))
                .unwrap_or_default();
            let body = json!({
                "error": format!(
                    "this review is based on revision {}, but revision {current_revision} was saved{who}; nothing was written",
                    input.base_revision
                ),
                "current_revision": current_revision,
                "current": current,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Some(SaveOutcome::NotFound) | None => {
            Err(AppError::NotFound(format!("no call with id {id}")))
        }
    }
}
