//! Builds the whole HTTP application: pages, server functions, the REST API, static files.

use std::time::Duration;

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::OnceLock;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};

use super::limits::Guard;
pub use super::limits::Limits;
use super::state::AppState;
use super::{forms, rest, sign_in};
use crate::app::{shell, App};

pub fn build_router(state: AppState) -> Router {
    build_router_with(state, &Limits::default())
}

/// The app's page routes, listed once per process. Listing runs the app with resource loading
/// suppressed by a process-wide flag, and a page rendered at that moment (another router
/// built while one serves, as in the parallel tests) would wait forever for its data
/// (leptos#4773); listing once, before any router exists, leaves no such moment.
pub fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn build_router_with(state: AppState, limits: &Limits) -> Router {
    let routes = page_routes();
    let context_store = state.store.clone();
    let context_files = state.exports.clone();
    let shell_options = state.leptos_options.clone();
    let fallback_options = state.leptos_options.clone();
    let site_root = state.leptos_options.site_root.to_string();
    let guard = Guard::new(limits, &state.auth.config().trusted_proxies);
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/calls") }))
        .route("/auth/login", post(sign_in::login))
        .route("/auth/logout", post(sign_in::logout))
        .route("/auth/password", post(sign_in::change_password))
        .route("/keys/create", post(forms::create_key))
        .route("/keys/revoke", post(forms::revoke_key))
        .route("/admin/users/add", post(forms::add_user))
        .route("/admin/users/change", post(forms::change_user))
        .route(
            "/exports/{id}/download",
            get(super::downloads::export_part)
                .layer(tower_http::compression::CompressionLayer::new()),
        )
        .merge(rest::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let store = context_store.clone();
                let files = context_files.clone();
                move || page_context(store.clone(), files.clone())
            },
            move || shell(shell_options.clone()),
        )
        // Static files have routes of their own that answer only files (a path they do not
        // hold is a plain 404, never the app); the fallback renders the app's "not found"
        // page for other paths, which the middleware has checked like any page.
        .nest_service("/pkg", ServeDir::new(format!("{site_root}/pkg")))
        .route_service(
            "/favicon.svg",
            ServeFile::new(format!("{site_root}/favicon.svg")),
        )
        .fallback(leptos_axum::render_app_to_stream_with_context(
            move || page_context(context_store.clone(), context_files.clone()),
            move || shell(fallback_options.clone()),
        ))
        // A panic in a handler becomes a 500 for that request, not a dropped connection.
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::middleware::authorize,
        ))
        // A streamed body is cut off at the limit here; a declared length over it is refused
        // at once by the guard.
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            guard.clone().run(request, next)
        }))
        // Liveness: the process answers. Readiness: and so does its database. Outside the
        // limits above: a server full of slow requests still says how it is.
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get({
                // Outside the request limits, so bounded here: a flood of readiness checks
                // takes at most two database connections.
                let checks = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
                move |state: axum::extract::State<AppState>| {
                    let checks = checks.clone();
                    async move {
                        let Ok(_check) = checks.try_acquire() else {
                            return Err(crate::error::AppError::busy());
                        };
                        ready(state).await
                    }
                }
            }),
        )
        .layer(middleware::from_fn(super::middleware::secure))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// What pages and server functions find in their context: the store, the export folder, and
/// this response's CSP nonce for the scripts the page carries.
fn page_context(store: crate::store::Store, files: crate::exports::ExportFiles) {
    provide_context(store);
    provide_context(files);
    let parts = use_context::<axum::http::request::Parts>();
    if let Some(nonce) = parts
        .as_ref()
        .and_then(|p| p.extensions.get::<super::middleware::CspNonce>())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0.clone()));
    }
}

async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, crate::error::AppError> {
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
