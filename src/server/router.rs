//! Builds the whole HTTP application: pages, server functions, the REST API, static files.

use std::time::Duration;

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::rest;
use super::state::AppState;
use crate::app::{shell, App};

pub fn build_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_store = state.store.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/calls") }))
        .merge(rest::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_store.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .with_state(state)
}

/// How long shutdown waits for in-flight requests before giving up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
