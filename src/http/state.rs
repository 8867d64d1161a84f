//! The state every route and server function receives.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::Auth;
use crate::exports::ExportFiles;
use crate::store::Store;

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub auth: Auth,
    /// Where dataset exports are written and downloaded from.
    pub exports: ExportFiles,
}

impl AppState {
    /// State with the default sign-in settings.
    pub fn new(leptos_options: LeptosOptions, store: Store) -> AppState {
        AppState {
            leptos_options,
            store,
            auth: Auth::default(),
            exports: ExportFiles::new(std::env::temp_dir().join("redline-exports")),
        }
    }
}
