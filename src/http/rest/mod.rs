//! The public JSON API under `/api/v1`.

pub mod calls;
pub mod exports;
pub mod operations;
pub mod otlp;
pub mod reviews;
pub mod trends;

use axum::routing::{any, get, post};
use axum::{Extension, Router};
use tower_http::compression::CompressionLayer;

use super::state::AppState;
use crate::auth::Caller;
use crate::error::AppError;
use crate::model::auth::Scope;
use crate::model::ingest::MAX_BATCH_BYTES;
use crate::model::operation::MAX_DEFINITION_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calls", get(calls::list).post(calls::ingest))
        .route("/api/v1/calls/{id}", get(calls::get_one))
        .route("/api/v1/calls/{id}/reviews", post(reviews::save))
        .route("/api/v1/operations", get(operations::list))
        .route(
            "/api/v1/operations/{name}",
            get(operations::get_one)
                .put(operations::put)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_DEFINITION_BYTES)),
        )
        .route("/api/v1/accuracy", get(trends::accuracy))
        .route("/api/v1/routing", get(trends::all))
        .route("/api/v1/routing/{operation}", get(trends::one))
        .merge(export_routes())
        .route("/api/v1/{*rest}", any(not_found))
        // OpenTelemetry exporters post here (OTLP/HTTP's fixed path beside the endpoint).
        .route(crate::otlp::TRACES_PATH, post(otlp::traces))
        // The ingest handler turns the limit's rejection into a JSON 413 itself.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES))
}

/// Export routes: small bodies, and downloads gzip-compressed for clients that accept it.
fn export_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports", get(exports::list).post(exports::create))
        .route("/api/v1/exports/preview", post(exports::preview))
        .route(
            "/api/v1/exports/{id}",
            get(exports::get_one).delete(exports::delete),
        )
        .route("/api/v1/exports/{id}/cancel", post(exports::cancel))
        .route(
            "/api/v1/exports/{id}/download",
            get(exports::download).layer(CompressionLayer::new()),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            exports::MAX_SPEC_BYTES,
        ))
}

async fn not_found() -> AppError {
    AppError::NotFound("no such API route; see /api/v1/calls".into())
}

/// The caller the middleware found (anonymous without one), if it is a key with `scope`:
/// every handler checks its caller itself, not only through the middleware.
fn key_with(caller: Option<Extension<Caller>>, scope: Scope) -> Result<Caller, AppError> {
    caller
        .map(|Extension(caller)| caller)
        .unwrap_or(Caller::Anonymous)
        .key_with(scope)
}
