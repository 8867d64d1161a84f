//! `/api/v1/operations`: operation definitions as code. Reading needs the `read` scope;
//! `PUT` (create or change, idempotent, answered with what changed) needs `configure`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::key_with;
use crate::auth::manage::Actor;
use crate::auth::{Caller, ClientAddress};
use crate::error::AppError;
use crate::model::auth::Scope;
use crate::model::operation::{OperationDefinition, MAX_DEFINITION_BYTES};
use crate::store::Store;

/// `GET /api/v1/operations`: every operation with its figures.
pub async fn list(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
) -> Result<Response, AppError> {
    key_with(caller, Scope::Read)?;
    let operations = store.list_operations().await?;
    Ok(Json(json!({ "operations": operations })).into_response())
}

/// `GET /api/v1/operations/{name}`: the definition, as `PUT` takes it back.
pub async fn get_one(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    Path(name): Path<String>,
) -> Result<Json<OperationDefinition>, AppError> {
    key_with(caller, Scope::Read)?;
    match store.operation(&name).await? {
        Some(record) => Ok(Json(record.definition)),
        None => Err(no_such(&name)),
    }
}

/// `PUT /api/v1/operations/{name}`: makes the operation as the body defines it. `201` when it
/// was created, `200` otherwise; `changes` lists what changed (empty: nothing was written).
pub async fn put(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let caller = key_with(caller, Scope::Configure)?;
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "a definition is at most {} KB",
                MAX_DEFINITION_BYTES / 1024
            ))
        } else {
            AppError::bad_request(format!("could not read the body: {rejection}"))
        }
    })?;
    let mut definition: OperationDefinition = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(format!(
            "the body must be an operation definition (see GET /api/v1/operations/{{name}}): {e}"
        ))
    })?;
    if definition.name.is_empty() {
        definition.name = name.clone();
    } else if definition.name != name {
        return Err(AppError::unprocessable(
            "name",
            format!(
                "the body names \"{}\" but the path \"{name}\"; they must match",
                definition.name
            ),
        ));
    }
    let outcome =
        crate::operations::apply(&store, &Actor::of(&caller, &address), definition).await?;
    let definition = store
        .operation(&name)
        .await?
        .map(|record| record.definition)
        .ok_or_else(|| no_such(&name))?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = json!({
        "created": outcome.created,
        "changes": outcome.changes,
        "operation": definition,
    });
    Ok((status, Json(body)).into_response())
}

fn no_such(name: &str) -> AppError {
    AppError::NotFound(format!(
        "no operation named \"{name}\"; PUT its definition to create it"
    ))
}
