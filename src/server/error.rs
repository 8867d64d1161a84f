//! One error type for HTTP handlers: each variant is a status code and a JSON message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::store::StoreError;

/// What a person reads when a search ran past its deadline.
pub const SEARCH_STOPPED: &str =
    "this search took too long and was stopped; narrow it with an operation, a date range or more words";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    NotFound(String),
    /// No usable credentials: answered with `WWW-Authenticate`.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the server is busy; try again shortly")]
    Busy,
    /// A fault of the server's own (the detail is logged, never sent).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Store(e) if e.is_stopped() => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // The detail goes to the log; the client gets no internals.
            tracing::error!(error = %self, "request failed");
            if matches!(self, AppError::Busy) {
                self.to_string()
            } else if status == StatusCode::SERVICE_UNAVAILABLE {
                "the database is unavailable; try again shortly".to_string()
            } else {
                "internal error; see the server log".to_string()
            }
        } else if matches!(&self, AppError::Store(e) if e.is_stopped()) {
            SEARCH_STOPPED.to_string()
        } else {
            self.to_string()
        };
        let unauthorized = matches!(self, AppError::Unauthorized(_));
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if unauthorized {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"redline\""),
            );
        }
        response
    }
}
