//! The state every route and server function receives.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::store::Store;

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
}
