//! What every handler shares: the store, the configuration and the clock.

use crate::config::ServerConfig;
use cairn_store::Store;
use std::sync::Arc;
use time::OffsetDateTime;

/// The time source; tests pass a fixed clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        Self { store, config: Arc::new(config), clock: Arc::new(SystemClock) }
    }

    /// The current time, truncated to whole seconds (what the store keeps).
    pub fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}
