//! Verifying any Open Badge through `cairn_vc::verify::verify`, with the documents this
//! installation publishes (issuer DID documents, status lists, award credentials, OB 2.0
//! documents) read in-process from the store instead of over HTTP ([`OwnDocuments`]).
//!
//! Nothing is fetched from other hosts: a credential from elsewhere that needs such documents is
//! reported as "could not check", never as valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_core::authz::Actor;
use cairn_core::award::AwardStatus;
use cairn_core::ids::AwardId;
use cairn_store::Award;
use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument, StaticLoader};
use cairn_vc::verify::{VerificationReport, VerifyOptions, verify as run_pipeline};
use serde_json::Value;

use crate::awards::{self, hosted};
use crate::urls::PublicDocument;
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

/// The document at `url` if this installation publishes it, as an anonymous visitor would get it
/// (awards through `awards::visible`, so a private one is not found). Which document a URL
/// names is `PublicUrls::parse`'s business alone.
async fn own_document(app: &App, url: &str) -> Result<LoadedDocument, LoadError> {
    let missing = |error: AppError| LoadError::Unavailable { url: url.to_string(), reason: error.detail() };
    let absent = |what: &str| missing(AppError::NotFound(what.to_string()));
    let Some(document) = app.config.urls().parse(url) else {
        return Err(LoadError::Unavailable {
            url: url.to_string(),
            reason: "Cairn looks up documents only for credentials issued on this site; it does not fetch from other sites".into(),
        });
    };
    let visitor = Actor::anonymous();
    let text = match document {
        PublicDocument::DidDocument(id) => match app.caches.did_document(id) {
            Some(text) => text.to_string(),
            None => {
                let text: Arc<str> = crate::organisations::did_document(app, id).await.map_err(missing)?.to_string().into();
                app.caches.keep_did_document(id, Arc::clone(&text));
                text.to_string()
            }
        },
        PublicDocument::StatusList(id) => awards::status_list(app, &id).await.map_err(missing)?.to_string(),
        // The award page stands for its credential, so that a shared page can be verified by its address.
        PublicDocument::AwardPage(id) | PublicDocument::Credential(id) => shown(app, &visitor, id).await.map_err(missing)?.credential_json,
        PublicDocument::CredentialJwt(id) => shown(app, &visitor, id).await.map_err(missing)?.jwt,
        PublicDocument::Ob2Assertion(id) => match hosted::hosted(&app.config, &shown(app, &visitor, id).await.map_err(missing)?) {
            hosted::Hosted { gone: true, .. } => return Err(LoadError::Gone { url: url.to_string() }),
            hosted::Hosted { document, .. } => document.to_string(),
        },
        PublicDocument::Ob2BadgeClass(id) => hosted::badge_class(app, &visitor, id).await.map_err(missing)?.to_string(),
        PublicDocument::Ob2Issuer(id) => hosted::issuer(app, id).await.map_err(missing)?.to_string(),
        PublicDocument::Badge(..) | PublicDocument::AchievementPage(_) | PublicDocument::AchievementImage(_) | PublicDocument::IssuerImage(_) => {
            return Err(absent("this site publishes no credential document at this address"));
        }
    };
    Ok(LoadedDocument::new(url, text))
}

/// An award as `actor` may see it.
async fn shown(app: &App, actor: &Actor, id: AwardId) -> Result<Award, AppError> {
    Ok(awards::visible(app, actor, id).await?.award)
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

/// What the verify page says about a report beyond its checks: the verdict in words, where this
/// site shows the award, whose it is and whether it was issued to an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The verdict as a sentence naming the issuer ("Revoked by Northbridge on 5 December 2026");
    /// the day is known for this site's own awards.
    pub headline: String,
    /// The award's page on this site (a path), when the credential is one of this site's awards
    /// and the viewer may see it.
    pub award_page: Option<String>,
    /// The recipient's name, where the credential carries one.
    pub recipient_name: Option<String>,
    /// Whether the credential was issued to the e-mail address given: `None` when none was given
    /// or the credential names no e-mail recipient.
    pub issued_to: Option<bool>,
}

/// Explains `report` to `actor`, checking `email` against its recipient when given. An award of
/// this site that cannot be read, or that the actor may not see, is simply not linked.
pub async fn explain(app: &App, actor: &Actor, report: &VerificationReport, email: Option<&str>) -> Explanation {
    let mut headline = report.headline();
    let own = report.credential.as_ref().and_then(|c| c.get("id")).and_then(Value::as_str).and_then(|id| app.config.urls().parse(id));
    let award_id = match own {
        Some(PublicDocument::AwardPage(id) | PublicDocument::Credential(id) | PublicDocument::CredentialJwt(id) | PublicDocument::Ob2Assertion(id)) => Some(id),
        _ => None,
    };
    let award = match award_id {
        Some(id) => awards::visible(app, actor, id).await.ok().map(|visible| visible.award),
        None => None,
    };
    if let Some(award) = &award {
        let changed = matches!(award.status, AwardStatus::Revoked | AwardStatus::Suspended);
        if let (true, Some(at)) = (changed && (headline.starts_with("Revoked by ") || headline.starts_with("Suspended by ")), award.status_changed_at) {
            headline = format!("{headline} on {}", cairn_vc::dates::day(at));
        }
    }
    let issued_to = email.map(str::trim).filter(|email| !email.is_empty()).and_then(|email| report.issued_to_email(email));
    Explanation { headline, award_page: award.map(|award| PublicDocument::AwardPage(award.id).path()), recipient_name: report.recipient_name(), issued_to }
}
