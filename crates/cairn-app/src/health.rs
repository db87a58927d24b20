//! Whether the installation is ready: the database answers, and issuer keys can be unsealed with
//! the master key and sign.

use crate::{App, AppError};

/// Whether this installation can sign credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// An issuer's key was unsealed and signed a probe that verified.
    Works,
    /// No issuer has a key yet, so there is nothing to try.
    NoKeys,
}

impl Signing {
    pub fn as_str(self) -> &'static str {
        match self {
            Signing::Works => "ok",
            Signing::NoKeys => "no-keys",
        }
    }
}

/// What a health check reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub version: &'static str,
    pub signing: Signing,
}

/// The message a health probe signs.
const PROBE: &[u8] = b"cairn health probe";

/// Asks the database whether it is there, then unseals the oldest issuer's key and signs a probe.
///
/// # Errors
/// `Unavailable` when the database does not answer, or when the key cannot be unsealed (a wrong
/// master key) or its signature does not verify.
pub async fn check(app: &App) -> Result<Health, AppError> {
    app.store.ping().await.map_err(|_| AppError::Unavailable("the database is not reachable".into()))?;
    let signing = match app.store.any_signing_organisation().await? {
        None => Signing::NoKeys,
        Some(organisation) => {
            let key = app.store.signing_key(organisation).await.map_err(|error| {
                tracing::error!(error = %error, "health: an issuer key cannot be unsealed");
                AppError::Unavailable("signing does not work: issuer keys cannot be unsealed with this master key".into())
            })?;
            let signature = key.sign(PROBE);
            if !cairn_vc::keys::verify_ed25519(&key.public_key(), PROBE, &signature).unwrap_or(false) {
                return Err(AppError::Unavailable("signing does not work: a probe signature did not verify".into()));
            }
            Signing::Works
        }
    };
    Ok(Health { database: app.store.backend().as_str(), version: env!("CARGO_PKG_VERSION"), signing })
}

/// Whether this instance is stopping: set once a shutdown begins, so `/readyz` sends traffic
/// elsewhere while requests in flight finish, and background work ends after its current run.
#[derive(Debug)]
pub struct Lifecycle {
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle { stopping: tokio::sync::watch::channel(false).0 }
    }
}

impl Lifecycle {
    /// Begins stopping (idempotent).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Completes once stopping has begun.
    pub async fn stopped(&self) {
        let mut receiver = self.stopping.subscribe();
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

/// How long readiness waits for the database or the blob store.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether this instance should be sent traffic: it is not stopping, the database answers and the
/// blob store lists, each within [`READY_TIMEOUT`]. Unlike [`check`] it signs nothing, so a load
/// balancer may ask often.
///
/// # Errors
/// `Unavailable` naming what is not ready.
pub async fn ready(app: &App) -> Result<(), AppError> {
    if app.lifecycle.is_stopping() {
        return Err(AppError::Unavailable("not ready: this instance is shutting down".into()));
    }
    let (database, blobs) = tokio::join!(tokio::time::timeout(READY_TIMEOUT, app.store.ping()), tokio::time::timeout(READY_TIMEOUT, app.store.blobs().check()));
    let mut problems = Vec::new();
    match database {
        Ok(Ok(())) => {}
        Ok(Err(error)) => problems.push(format!("the database is not reachable ({error})")),
        Err(_) => problems.push("the database did not answer in time".to_string()),
    }
    match blobs {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            let cause = std::error::Error::source(&error).map(|c| c.to_string()).unwrap_or_default();
            tracing::warn!(%error, cause, "readiness: the blob store failed");
            problems.push(format!("the blob store is not reachable ({error})"));
        }
        Err(_) => problems.push("the blob store did not answer in time".to_string()),
    }
    if problems.is_empty() { Ok(()) } else { Err(AppError::Unavailable(format!("not ready: {}", problems.join("; ")))) }
}
