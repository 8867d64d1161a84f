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
            exports: ExportFiles::new(scratch_export_dir()),
        }
    }
}

/// A folder of its own for each state made by `AppState::new` (tests, the benchmark), so two
/// servers in one process never share export files.
fn scratch_export_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("redline-exports-{}-{n}", std::process::id()))
}
