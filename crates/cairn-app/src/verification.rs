//! Verifying any Open Badge through `cairn_vc::verify::verify`, with the documents this
//! installation publishes (issuer DID documents, status lists, award credentials, OB 2.0
//! documents) read in-process from the store instead of over HTTP ([`OwnDocuments`]).
//!
//! Nothing is fetched from other hosts: a credential from elsewhere that needs such documents is
//! reported as "could not check", never as valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_core::achievement::State;
use cairn_core::award::Privacy;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId};
use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument, StaticLoader};
use cairn_vc::verify::{VerificationReport, VerifyOptions, verify as run_pipeline};

use crate::awards::{self, documents, hosted, plausible_list_id};
use crate::{App, AppError};

/// Tolerance for clocks that disagree, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// A [`DocumentLoader`] for the documents this installation publishes, as an anonymous visitor
/// would get them; every other URL is refused. Answers are kept for the duration of one
/// verification, as the loader contract asks.
struct OwnDocuments {
    app: App,
    runtime: tokio::runtime::Handle,
    seen: Mutex<HashMap<String, Result<LoadedDocument, LoadError>>>,
}

impl DocumentLoader for OwnDocuments {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        if let Some(found) = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(url) {
            return found.clone();
        }
        // Verification runs on a blocking thread (see `verify`), where waiting for the store is
        // allowed.
        let found = self.runtime.block_on(own_document(&self.app, url));
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(url.to_string(), found.clone());
        found
    }
}

/// The document at `url` if this installation publishes it, as an anonymous visitor would get it.
async fn own_document(app: &App, url: &str) -> Result<LoadedDocument, LoadError> {
    let elsewhere = || LoadError::Unavailable {
        url: url.to_string(),
        reason: "Cairn looks up documents only for credentials issued on this site; it does not fetch from other sites".into(),
    };
    let missing = |error: AppError| LoadError::Unavailable { url: url.to_string(), reason: error.detail() };
    let absent = |what: &str| missing(AppError::NotFound(what.to_string()));
    let config = &app.config;
    if url.starts_with("did:web:") {
        let did = url.split('#').next().unwrap_or(url);
        let organisation = did.rsplit(':').next().and_then(|raw| raw.parse::<OrganisationId>().ok()).ok_or_else(elsewhere)?;
        if did != awards::issuer_did(config, organisation) {
            return Err(elsewhere());
        }
        let document = crate::organisations::did_document(app, organisation).await.map_err(missing)?;
        return Ok(LoadedDocument::new(url, document.to_string()));
    }
    let base = config.url("");
    let Some(path) = url.strip_prefix(&base).filter(|path| path.starts_with('/')) else { return Err(elsewhere()) };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let text = match segments.as_slice() {
        ["issuers", id, "did.json"] => {
            let id: OrganisationId = id.parse().map_err(|_| absent("no such issuer"))?;
            crate::organisations::did_document(app, id).await.map_err(missing)?.to_string()
        }
        ["status", id] if plausible_list_id(id) => awards::status_list(app, id).await.map_err(missing)?.to_string(),
        ["awards", id] | ["awards", id, "credential" | "credential.json" | "credential.jwt"] => {
            let id: AwardId = id.parse().map_err(|_| absent("no such award"))?;
            let award = app.store.award(id).await.map_err(|e| missing(e.into()))?;
            if award.privacy == Privacy::Private {
                return Err(absent("this award is private"));
            }
            if segments.last() == Some(&"credential.jwt") { award.jwt } else { award.credential_json }
        }
        ["ob2", "assertions", id] => {
            let id: AwardId = id.parse().map_err(|_| absent("no such assertion"))?;
            let award = app.store.award(id).await.map_err(|e| missing(e.into()))?;
            match hosted::hosted(config, &award) {
                hosted::Hosted { gone: true, .. } => return Err(LoadError::Gone { url: url.to_string() }),
                hosted::Hosted { document, .. } => document.to_string(),
            }
        }
        ["ob2", "badges", id] => {
            let id: AchievementId = id.parse().map_err(|_| absent("no such badge class"))?;
            let achievement = app.store.achievement(id).await.map_err(|e| missing(e.into()))?;
            if achievement.state == State::Draft {
                return Err(absent("no such badge class"));
            }
            documents::ob2_badge_class(config, &achievement).to_string()
        }
        ["ob2", "issuers", id] => {
            let id: OrganisationId = id.parse().map_err(|_| absent("no such issuer"))?;
            awards::hosted::issuer(app, id).await.map_err(missing)?.to_string()
        }
        _ => return Err(absent("this site publishes no credential document at this address")),
    };
    Ok(LoadedDocument::new(url, text))
}

/// Runs the verification pipeline on `input` (a baked image, JSON or a JWT) with this
/// installation's own documents, off the async threads (canonicalisation and signature checks
/// are CPU work). An invalid credential is a report, not an error.
///
/// # Errors
/// `Internal` only when the blocking task fails.
pub async fn verify(app: &App, input: Vec<u8>) -> Result<VerificationReport, AppError> {
    let app = app.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let now = app.now().unix_timestamp();
        let caches = Arc::clone(&app.caches);
        let own = Arc::new(OwnDocuments { app, runtime, seen: Mutex::default() });
        let loader = StaticLoader::new().with_fallback(own);
        run_pipeline(&input, &VerifyOptions::new(&loader, now).with_clock_skew(MAX_CLOCK_SKEW_SECS).with_status_lists(&caches.status_lists))
    })
    .await
    .map_err(|error| AppError::internal(&error))
}

/// The verification of an award's stored credential, as its page shows it: verified on the first
/// view and reused while the award keeps its status (see `crate::caches`), so a page view costs
/// no signature check.
///
/// # Errors
/// As [`verify`].
pub async fn verify_award(app: &App, award: &cairn_store::Award) -> Result<Arc<VerificationReport>, AppError> {
    let now = app.now();
    if let Some(report) = app.caches.award_report(award.id, award.status, now) {
        return Ok(report);
    }
    let report = Arc::new(verify(app, award.credential_json.clone().into_bytes()).await?);
    app.caches.keep_award_report(award.id, award.status, now, award.valid_until, Arc::clone(&report));
    Ok(report)
}
