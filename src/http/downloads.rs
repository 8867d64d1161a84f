//! `GET /exports/{id}/download?part=…`: an export's file for a signed-in engineer or admin
//! (the page's links; scripts use `/api/v1/exports/{id}/download` with a key).

use axum::extract::{Path, Query, Request, State};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::rest::exports::serve_part;
use crate::auth::Caller;
use crate::error::AppError;
use crate::exports::ExportFiles;
use crate::model::auth::Capability;
use crate::store::Store;

#[derive(Deserialize)]
pub struct Part {
    part: Option<String>,
}

pub async fn export_part(
    State(store): State<Store>,
    State(files): State<ExportFiles>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
    Query(part): Query<Part>,
    request: Request,
) -> Result<Response, AppError> {
    caller
        .map(|Extension(c)| c)
        .unwrap_or(Caller::Anonymous)
        .person_with(Capability::Export)?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::NotFound(format!("no export {id}")))?;
    let export = store
        .export(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no export {id}")))?;
    serve_part(
        &files,
        &export,
        part.part.as_deref().unwrap_or("train"),
        request,
    )
    .await
}
