//! What every handler shares: the application ([`cairn_app::App`]), whose use cases it calls.

use cairn_app::App;

/// Shared handler state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}
