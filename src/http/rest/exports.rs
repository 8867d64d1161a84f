//! `/api/v1/exports`: dataset exports for scripts, with a key holding the `export` scope.
//! Create (`202` with the id; `422` naming the field for a bad or empty spec), list, one
//! export's status and manifest, cancel, delete, and the download of each part (`409` until
//! it is done), streamed and gzip-compressed when the client accepts it.

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::key_with;
use crate::auth::manage::Actor;
use crate::auth::{Caller, ClientAddress};
use crate::error::AppError;
use crate::exports::files::{download_name, StoredPart};
use crate::exports::manage;
use crate::exports::ExportFiles;
use crate::model::auth::Scope;
use crate::model::export::{ExportInfo, ExportRequest, ExportSpec, ExportState};
use crate::store::Store;

/// Largest spec body.
pub const MAX_SPEC_BYTES: usize = 64 * 1024;
/// Most exports one list answers.
const MAX_LIST: i64 = 200;

fn spec_from(body: Result<Bytes, BytesRejection>) -> Result<ExportSpec, AppError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "an export spec is at most {} KB",
                MAX_SPEC_BYTES / 1024
            ))
        } else {
            AppError::bad_request(format!("could not read the body: {rejection}"))
        }
    })?;
    let request: ExportRequest = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request(format!("the body must be an export spec: {e}")))?;
    request
        .into_spec()
        .map_err(|e| AppError::unprocessable(e.field, e.reason))
}

/// Who made an export: the person, or the key's owner and the key.
pub fn made_by(caller: &Caller) -> String {
    match caller {
        Caller::Key(key) => format!("{} (key {})", key.user_name, key.prefix),
        other => other.actor(),
    }
}

fn parse_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::NotFound(format!("no export {text}")))
}

async fn found(store: &Store, id: i64) -> Result<ExportInfo, AppError> {
    store
        .export(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no export {id}")))
}

/// `POST /api/v1/exports`: queues an export of the spec; `202` with its id and counts.
pub async fn create(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let caller = key_with(caller, Scope::Export)?;
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    let spec = spec_from(body)?;
    let id = manage::create(
        &store,
        &spec,
        &made_by(&caller),
        &Actor::of(&caller, &address),
    )
    .await?;
    let export = found(&store, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/exports/{id}"))],
        Json(export),
    )
        .into_response())
}

/// `POST /api/v1/exports/preview`: what an export of the spec would hold now.
pub async fn preview(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<manage::ExportPreview>, AppError> {
    key_with(caller, Scope::Export)?;
    let spec = spec_from(body)?;
    Ok(Json(manage::preview(&store, &spec).await?))
}

#[derive(Deserialize)]
pub struct ListParams {
    limit: Option<i64>,
}

/// `GET /api/v1/exports[?limit=]`: the newest exports first.
pub async fn list(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    Query(params): Query<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    key_with(caller, Scope::Export)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(AppError::unprocessable(
            "limit",
            format!("must be a whole number from 1 to {MAX_LIST}"),
        ));
    }
    Ok(Json(json!({ "exports": store.list_exports(limit).await? })))
}

/// `GET /api/v1/exports/{id}`: status, progress and, once done, the manifest summary.
pub async fn get_one(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<ExportInfo>, AppError> {
    key_with(caller, Scope::Export)?;
    Ok(Json(found(&store, parse_id(&id)?).await?))
}

/// `POST /api/v1/exports/{id}/cancel`.
pub async fn cancel(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    Path(id): Path<String>,
) -> Result<Json<ExportInfo>, AppError> {
    let caller = key_with(caller, Scope::Export)?;
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    let id = parse_id(&id)?;
    manage::cancel(&store, id, &Actor::of(&caller, &address)).await?;
    Ok(Json(found(&store, id).await?))
}

/// `DELETE /api/v1/exports/{id}`: removes the files; the manifest stays in the audit log.
pub async fn delete(
    State(store): State<Store>,
    State(files): State<ExportFiles>,
    caller: Option<Extension<Caller>>,
    address: Option<Extension<ClientAddress>>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let caller = key_with(caller, Scope::Export)?;
    let address = address.map(|Extension(a)| a).unwrap_or_default();
    manage::delete(
        &store,
        &files,
        parse_id(&id)?,
        &Actor::of(&caller, &address),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct DownloadParams {
    part: Option<String>,
}

/// `GET /api/v1/exports/{id}/download?part=train|validation|manifest`.
pub async fn download(
    State(store): State<Store>,
    State(files): State<ExportFiles>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
    Query(params): Query<DownloadParams>,
    request: Request,
) -> Result<Response, AppError> {
    key_with(caller, Scope::Export)?;
    let export = found(&store, parse_id(&id)?).await?;
    serve_part(
        &files,
        &export,
        params.part.as_deref().unwrap_or("train"),
        request,
    )
    .await
}

/// Streams a finished part as an attachment (shared with the page's download link).
pub async fn serve_part(
    files: &ExportFiles,
    export: &ExportInfo,
    part: &str,
    request: Request,
) -> Result<Response, AppError> {
    if !matches!(part, "train" | "validation" | "manifest") {
        return Err(AppError::unprocessable(
            "part",
            format!("\"{part}\" is not one of train, validation, manifest"),
        ));
    }
    if export.deleted {
        return Err(AppError::NotFound(format!(
            "export {} was deleted",
            export.id
        )));
    }
    if export.state != ExportState::Done {
        return Err(AppError::Conflict(format!(
            "export {} is {}: its files can be downloaded once it is done",
            export.id,
            export.state.as_str()
        )));
    }
    let stored = files
        .open(export.id, part, export.spec.format)
        .await
        .map_err(|error| {
            tracing::error!(export = export.id, %error, "cannot open an export's file");
            AppError::Internal
        })?;
    let Some(stored) = stored else {
        return Err(AppError::NotFound(format!(
            "export {} has no {part} file{}",
            export.id,
            if part == "validation" {
                " (its spec has no validation split)"
            } else {
                ""
            }
        )));
    };
    let name = download_name(export.id, part, export.spec.format);
    let content_type = if part == "manifest" {
        "application/json"
    } else {
        export.spec.format.content_type()
    };
    let mut response = match stored {
        StoredPart::File(path) => ServeFile::new(&path)
            .oneshot(request)
            .await
            .map_err(|_| AppError::Internal)?
            .map(Body::new),
        StoredPart::Object { size, body } => {
            let mut response = Response::new(Body::from_stream(body));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
