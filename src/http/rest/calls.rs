//! `/api/v1/calls`: batch ingest, the feed as JSON, and one call.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::key_with;
use crate::auth::Caller;
use crate::error::AppError;
use crate::model::auth::Scope;
use crate::model::ingest::{validate_call, NewCall, MAX_BATCH_BYTES, MAX_BATCH_ITEMS};
use crate::model::{CallDetail, FeedPage, FeedQuery};
use crate::store::{InsertOutcome, Store};

#[derive(Debug, Serialize)]
pub struct ItemResult {
    pub index: usize,
    pub id: Option<String>,
    pub status: &'static str,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct IngestResponse {
    pub created: usize,
    pub duplicate: usize,
    pub invalid: usize,
    pub results: Vec<ItemResult>,
}

/// `POST /api/v1/calls`: validates every item, stores the valid ones in one transaction and
/// answers one result per item. The answer is sent only after the commit.
pub async fn ingest(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResponse>, AppError> {
    key_with(caller, Scope::Ingest)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "the body is over the limit of {MAX_BATCH_BYTES} bytes"
            ))
        } else {
            AppError::bad_request(format!("could not read the body: {rejection}"))
        }
    })?;
    let now = Utc::now();
    // Parsing and checking up to 10 MB of JSON is CPU work: the blocking pool does it, so the
    // runtime's threads keep answering other requests meanwhile.
    let (mut results, valid, valid_index) =
        tokio::task::spawn_blocking(move || check_batch(&body, now))
            .await
            .map_err(|error| {
                tracing::error!(%error, "checking a batch failed");
                AppError::Internal
            })??;

    let outcomes = if valid.is_empty() {
        vec![]
    } else {
        store.insert_calls(&valid, now).await?
    };
    for (index, outcome) in valid_index.into_iter().zip(outcomes) {
        let result = &mut results[index];
        match outcome {
            InsertOutcome::Created { id } => result.id = Some(id),
            InsertOutcome::Duplicate { id } => {
                result.id = Some(id);
                result.status = "duplicate";
            }
        }
    }
    let tally = |status: &str| results.iter().filter(|r| r.status == status).count();
    Ok(Json(IngestResponse {
        created: tally("created"),
        duplicate: tally("duplicate"),
        invalid: tally("invalid"),
        results,
    }))
}

/// One result per item (valid ones marked created until the insert says otherwise), the valid
/// calls, and the index of each valid call in the batch.
type Checked = (Vec<ItemResult>, Vec<NewCall>, Vec<usize>);

fn check_batch(body: &[u8], now: chrono::DateTime<Utc>) -> Result<Checked, AppError> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let items = match parsed {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("calls") {
            Some(Value::Array(items)) if object.is_empty() => items,
            _ => return Err(shape_error()),
        },
        _ => return Err(shape_error()),
    };
    if items.len() > MAX_BATCH_ITEMS {
        return Err(AppError::TooLarge(format!(
            "{} calls in one batch; the limit is {MAX_BATCH_ITEMS}",
            items.len()
        )));
    }
    let mut results: Vec<ItemResult> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    let mut valid_index = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match validate_call(item, now) {
            Ok(call) => {
                valid.push(call);
                valid_index.push(index);
                results.push(ItemResult {
                    index,
                    id: None,
                    status: "created",
                    error: None,
                });
            }
            Err(reason) => results.push(ItemResult {
                index,
                id: None,
                status: "invalid",
                error: Some(reason),
            }),
        }
    }
    Ok((results, valid, valid_index))
}

fn shape_error() -> AppError {
    AppError::bad_request("expected a JSON array of calls, or an object {\"calls\": [...]}")
}

/// `GET /api/v1/calls`: the feed's filters as query parameters, `limit` and `cursor`.
pub async fn list(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    RawQuery(query): RawQuery,
) -> Result<Json<FeedPage>, AppError> {
    key_with(caller, Scope::Read)?;
    let query = FeedQuery::from_search(query.as_deref().unwrap_or(""))?;
    Ok(Json(store.list_calls(&query).await?))
}

/// `GET /api/v1/calls/{id}`: one call with its current review and revision history.
pub async fn get_one(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, AppError> {
    key_with(caller, Scope::Read)?;
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::bad_request(format!("\"{id}\" is not a call id (a UUID)")))?;
    store
        .get_call(&uuid)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no call with id {id}")))
}
