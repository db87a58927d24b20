//! Whether the installation is ready: the database answers.

use crate::{App, AppError};

/// What a health check reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub version: &'static str,
}

/// Asks the database whether it is there.
///
/// # Errors
/// `Unavailable` when it does not answer.
pub async fn check(app: &App) -> Result<Health, AppError> {
    app.store.ping().await.map_err(|_| AppError::Unavailable("the database is not reachable".into()))?;
    Ok(Health { database: app.store.backend().as_str(), version: env!("CARGO_PKG_VERSION") })
}
