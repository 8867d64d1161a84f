//! `POST /v1/traces`: OTLP over HTTP (see `crate::otlp`). Spans that are LLM calls are stored
//! in one transaction and the answer is sent after the commit; the others are ignored.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::Utc;

use super::key_with;
use crate::auth::Caller;
use crate::error::AppError;
use crate::model::auth::Scope;
use crate::model::ingest::MAX_BATCH_BYTES;
use crate::otlp::wire::{self, Encoding, Refusal};
use crate::otlp::{map_request, span_count, MAX_SPANS};
use crate::store::Store;

fn header_text<'a>(headers: &'a HeaderMap, name: header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn answer(status: u16, body: Vec<u8>, encoding: Encoding) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

fn refuse(refusal: Refusal, encoding: Encoding) -> Response {
    let body = wire::encode_status(&refusal, encoding);
    answer(refusal.status, body, encoding)
}

pub async fn traces(
    State(store): State<Store>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(error) = key_with(caller, Scope::Ingest) {
        return error.into_response();
    }
    let Some(encoding) = Encoding::of(header_text(&headers, header::CONTENT_TYPE)) else {
        return refuse(
            Refusal {
                status: 415,
                message: "send OTLP as application/x-protobuf or application/json".into(),
            },
            Encoding::Json,
        );
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                Refusal {
                    status: 413,
                    message: format!(
                    "the body is over the limit of {MAX_BATCH_BYTES} bytes; send smaller batches"
                ),
                },
                encoding,
            )
        }
        Err(rejection) => {
            return refuse(
                Refusal {
                    status: 400,
                    message: format!("could not read the body: {rejection}"),
                },
                encoding,
            )
        }
    };
    let content_encoding = header_text(&headers, header::CONTENT_ENCODING).map(str::to_string);
    let now = Utc::now();
    // Inflating, decoding and reading up to 16 MB is CPU work: the blocking pool does it.
    let checked = tokio::task::spawn_blocking(move || {
        let bytes = wire::inflate(&body, content_encoding.as_deref())?;
        let request = wire::decode(&bytes, encoding)?;
        let spans = span_count(&request);
        if spans > MAX_SPANS {
            return Err(Refusal {
                status: 413,
                message: format!("{spans} spans in one request; the limit is {MAX_SPANS}"),
            });
        }
        Ok(map_request(&request, now))
    })
    .await;
    let mapped = match checked {
        Ok(Ok(mapped)) => mapped,
        Ok(Err(refusal)) => return refuse(refusal, encoding),
        Err(error) => {
            tracing::error!(%error, "reading an OTLP request failed");
            return AppError::Internal.into_response();
        }
    };
    if !mapped.calls.is_empty() {
        if let Err(error) = store.insert_calls(&mapped.calls, now).await {
            // 503 with Retry-After when the database is unreachable: exporters retry it.
            return AppError::from(error).into_response();
        }
    }
    tracing::debug!(
        calls = mapped.calls.len(),
        rejected = mapped.rejected.len(),
        ignored = mapped.ignored,
        "OTLP spans read"
    );
    let body = wire::encode_response(mapped.rejected.len(), mapped.error_message(), encoding);
    answer(200, body, encoding)
}
