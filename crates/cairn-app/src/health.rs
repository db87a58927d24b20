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
