//! One error type for every way out of the server: REST answers, server functions and the
//! middleware. Each variant carries its HTTP status, and each message is written here once.

use serde::{Deserialize, Serialize};

/// What a person reads when a search ran past its deadline.
pub const SEARCH_STOPPED: &str =
    "this search took too long and was stopped; narrow it with an operation, a date range or more words";

/// Why a request was not answered as asked, in words for the person or script that asked.
/// Crosses to the browser as a server function's error; a server fault keeps its detail in
/// the log and sends only that it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; `field` names the part at fault when there is one.
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    /// No usable credentials.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TimedOut(String),
    /// The change was made against an older state than the stored one (a stale page).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// Understood but refused by a rule (a review's field, a search stopped at its deadline).
    #[error("{message}")]
    Unprocessable {
        message: String,
        field: Option<String>,
        /// The JSON Schema rules a correction broke, each with its path.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        violations: Vec<crate::model::operation::Violation>,
    },
    #[error("{0}")]
    TooManyRequests(String),
    /// Every slot is taken; trying again shortly works.
    #[error("{0}")]
    Busy(String),
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// A fault of the server's own; the detail went to the log.
    #[error("internal error; see the server log")]
    Internal,
    /// The browser could not reach the server (never sent by the server).
    #[error("the server could not be reached ({0}); check the connection and try again")]
    Unreachable(String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            message: message.into(),
            field: None,
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Unprocessable {
            message: message.into(),
            field: Some(field.into()),
            violations: Vec::new(),
        }
    }

    /// The caller is signed in, but their role does not allow this.
    pub fn role_may_not(role: impl std::fmt::Display) -> AppError {
        AppError::Forbidden(format!("the {role} role may not do this"))
    }

    /// Nobody is signed in (or the session has ended).
    pub fn sign_in_first() -> AppError {
        AppError::Unauthorized(
            "sign in first: your session has ended or you are not signed in".into(),
        )
    }

    pub fn busy() -> AppError {
        AppError::Busy("the server is busy; try again shortly".into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::TimedOut(_) => 408,
            AppError::Conflict(_) => 409,
            AppError::TooLarge(_) => 413,
            AppError::Unprocessable { .. } => 422,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal => 500,
            AppError::Unreachable(_) => 502,
            AppError::Busy(_) | AppError::Unavailable => 503,
        }
    }

    /// The part of the request at fault, when one is named.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. } | AppError::Unprocessable { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }
}

impl From<crate::model::FilterError> for AppError {
    fn from(error: crate::model::FilterError) -> AppError {
        AppError::BadRequest {
            message: error.to_string(),
            field: Some(error.param),
        }
    }
}

impl From<crate::model::review::ReviewError> for AppError {
    fn from(error: crate::model::review::ReviewError) -> AppError {
        AppError::Unprocessable {
            message: error.reason,
            field: Some(error.field),
            violations: error.violations,
        }
    }
}

/// A server function's error as it travels: JSON, and on the server the response's status
/// set from the variant on the way out (the one place server functions' statuses are set).
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(error: leptos::server_fn::error::ServerFnErrorErr) -> AppError {
        use leptos::server_fn::error::ServerFnErrorErr;
        match error {
            ServerFnErrorErr::Request(detail) => AppError::Unreachable(detail),
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::bad_request(format!("the request's fields do not fit: {detail}"))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal
            }
        }
    }

    fn ser(&self) -> leptos::server_fn::Bytes {
        // A plain form post (no JavaScript) is sent back to its page with the error in the
        // URL: a status here would keep the browser from following that redirect.
        #[cfg(feature = "ssr")]
        if !server::is_plain_form_post() {
            server::set_page_status(self);
        }
        serde_json::to_vec(self)
            .map(Into::into)
            .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(b"\"Internal\""))
    }

    /// The error in the answer; a refusal written as `{"error": …}` (by the request limits or
    /// the middleware, before the server function ran) keeps its message too.
    fn de(data: leptos::server_fn::Bytes) -> AppError {
        if let Ok(error) = serde_json::from_slice::<AppError>(&data) {
            return error;
        }
        match serde_json::from_slice::<serde_json::Value>(&data) {
            Ok(serde_json::Value::Object(body)) => match body.get("error") {
                Some(serde_json::Value::String(message)) => AppError::bad_request(message.clone()),
                _ => AppError::Internal,
            },
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::set_page_status;

#[cfg(feature = "ssr")]
mod server {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::Json;

    use super::{AppError, SEARCH_STOPPED};
    use crate::auth::manage::ManageError;
    use crate::store::StoreError;

    /// Seconds a client is asked to wait before trying a busy server again.
    const RETRY_AFTER_SECONDS: &str = "2";

    impl From<StoreError> for AppError {
        fn from(error: StoreError) -> AppError {
            if error.is_stopped() {
                return AppError::unprocessable("q", SEARCH_STOPPED);
            }
            tracing::error!(%error, "the store failed");
            if error.is_unavailable() {
                AppError::Unavailable
            } else {
                AppError::Internal
            }
        }
    }

    impl From<ManageError> for AppError {
        fn from(error: ManageError) -> AppError {
            match error {
                ManageError::Invalid(message) => AppError::bad_request(message),
                ManageError::NotFound(message) => AppError::NotFound(message),
                ManageError::Internal(detail) => {
                    tracing::error!(%detail, "a user or key change failed");
                    AppError::Internal
                }
                ManageError::Store(error) => error.into(),
            }
        }
    }

    /// Whether the request being answered is a browser's plain form post (it accepts HTML).
    pub(super) fn is_plain_form_post() -> bool {
        leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        })
    }

    /// Sets the status of the page or server function being answered (a no-op outside one).
    pub fn set_page_status(error: &AppError) {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }

    /// A REST answer: `{"error": message, "field"?: name}` with the variant's status.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut body = serde_json::json!({ "error": self.to_string() });
            if let Some(field) = self.field() {
                body["field"] = field.into();
            }
            if let AppError::Unprocessable { violations, .. } = &self {
                if !violations.is_empty() {
                    body["violations"] = serde_json::json!(violations);
                }
            }
            let mut response = (status, Json(body)).into_response();
            let headers = response.headers_mut();
            match self {
                AppError::Unauthorized(_) => {
                    headers.insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"redline\""),
                    );
                }
                AppError::Busy(_) | AppError::Unavailable | AppError::TooManyRequests(_) => {
                    headers.insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_static(RETRY_AFTER_SECONDS),
                    );
                }
                _ => {}
            }
            response
        }
    }
}
