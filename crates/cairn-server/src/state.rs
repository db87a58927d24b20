//! What every handler shares: the application ([`cairn_app::App`]), whose use cases it calls.

use std::sync::Arc;

use cairn_app::App;

use crate::flash::KeptForms;

/// Shared handler state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Failed page forms kept for reloads (`crate::flash`).
    pub forms: Arc<KeptForms>,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self { app, forms: Arc::default() }
    }
}
