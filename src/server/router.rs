//! Builds the whole HTTP application: pages, server functions, the REST API, static files.

use std::time::Duration;

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::catch_panic::CatchPanicLayer;

use super::rest;
use super::state::AppState;
use crate::app::{shell, App};

pub fn build_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_store = state.store.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/calls") }))
        // Liveness: the process answers. Readiness: and so does its database.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(rest::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_store.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // A panic in a handler becomes a 500 for that request, not a dropped connection.
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, super::error::AppError> {
    state.store.ping().await?;
    Ok("ready")
}

/// One log line per request: method, path, status, latency.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1e5).round() / 100.0;
    let status = response.status().as_u16();
    if status >= 500 {
        tracing::warn!(target: "redline::http", %method, %path, status, latency_ms, "request");
    } else {
        tracing::info!(target: "redline::http", %method, %path, status, latency_ms, "request");
    }
    response
}

/// How long shutdown waits for in-flight requests before giving up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
