//! Verifying any Open Badge through `cairn_vc::verify::verify`, with the documents this
//! installation publishes (issuer DID documents, status lists, award credentials, OB 2.0
//! documents) read in-process from the store instead of over HTTP ([`Documents`]), and every
//! other document fetched through the [`App`]'s [`crate::fetch::Fetcher`]: public addresses only
//! (unless the operator allows hosts), within size, time and redirect limits.
//!
//! A credential named by URL is loaded first ([`verify_url`]), so that an address that cannot be
//! fetched, or that gives something other than a credential, gets a plain answer ("refused",
//! "too large", "too slow", "not found", "not an Open Badge") rather than a report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cairn_core::authz::Actor;
use cairn_core::award::AwardStatus;
use cairn_core::ids::AwardId;
use cairn_store::Award;
use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument, StaticLoader};
use cairn_vc::verify::{Check, Verdict, VerificationReport, VerifyOptions, verify as run_pipeline};
use serde_json::Value;

use crate::awards::{self, hosted};
use crate::urls::PublicDocument;
use crate::{App, AppError};

/// Tolerance for clocks that disagree, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The [`DocumentLoader`] of one verification: the documents this installation publishes, as an
/// anonymous visitor would get them, read from the store; everything else through the
/// application's fetcher, made on first need. Answers are kept for the duration of one
/// verification, as the loader contract asks.
struct Documents {
    app: App,
    runtime: tokio::runtime::Handle,
    seen: Mutex<HashMap<String, Result<LoadedDocument, LoadError>>>,
    remote: OnceLock<Result<Arc<dyn DocumentLoader + Send + Sync>, String>>,
}

impl Documents {
    fn new(app: App, runtime: tokio::runtime::Handle) -> Self {
        Self { app, runtime, seen: Mutex::default(), remote: OnceLock::new() }
    }

    fn fetch(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        match self.remote.get_or_init(|| self.app.fetcher.loader()) {
            Ok(remote) => remote.load(url),
            Err(reason) => Err(LoadError::Unavailable { url: url.to_string(), reason: reason.clone() }),
        }
    }
}

impl DocumentLoader for Documents {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        if let Some(found) = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(url) {
            return found.clone();
        }
        let found = match self.app.config.urls().parse(url) {
            // Verification runs on a blocking thread (see `verify`), where waiting for the store
            // is allowed.
            Some(document) => self.runtime.block_on(own_document(&self.app, url, document)),
            None => self.fetch(url),
        };
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(url.to_string(), found.clone());
        found
    }
}

/// The document this installation publishes at `url`, as an anonymous visitor would get it
/// (awards through `awards::visible`, so a private one is not found). Which document a URL
/// names is `PublicUrls::parse`'s business alone.
async fn own_document(app: &App, url: &str, document: PublicDocument) -> Result<LoadedDocument, LoadError> {
    let missing = |error: AppError| LoadError::Unavailable { url: url.to_string(), reason: error.detail() };
    let absent = |what: &str| missing(AppError::NotFound(what.to_string()));
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
        PublicDocument::PlatformDidDocument => crate::transcripts::platform_did_document(app).map_err(missing)?.to_string(),
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

/// Runs the verification pipeline on `input` (a baked image, JSON, a JWT or a URL) with this
/// installation's own documents and the fetcher's, off the async threads (fetching blocks, and
/// canonicalisation and signature checks are CPU work). An invalid credential is a report, not
/// an error.
///
/// # Errors
/// `Internal` only when the blocking task fails.
pub async fn verify(app: &App, input: Vec<u8>) -> Result<VerificationReport, AppError> {
    let app = app.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || run(&Arc::new(Documents::new(app, runtime)), &input)).await.map_err(|error| AppError::internal(&error))
}

fn run(documents: &Arc<Documents>, input: &[u8]) -> VerificationReport {
    let now = documents.app.now().unix_timestamp();
    let caches = Arc::clone(&documents.app.caches);
    let loader = StaticLoader::new().with_fallback(documents.clone());
    run_pipeline(input, &VerifyOptions::new(&loader, now).with_clock_skew(MAX_CLOCK_SKEW_SECS).with_status_lists(&caches.status_lists))
}

/// Verifies the credential at `url` (an OB 2.0 hosted assertion, an OB 3.0 credential, one of
/// this site's award pages): loads it first, with the loader the pipeline then uses (so it is
/// fetched once), and says plainly why when it cannot be had or is not a credential.
///
/// # Errors
/// `Invalid` at `/url` when the address is refused, the document is too large, too slow, not
/// found or not an Open Badge; `Internal` when the blocking task fails.
pub async fn verify_url(app: &App, url: &str) -> Result<VerificationReport, AppError> {
    let report = verify_url_off_thread(app.clone(), url.to_string()).await?;
    // One of this installation's awards, verified by its address: counted for the issuer's insight.
    let award = match app.config.urls().parse(url) {
        Some(
            PublicDocument::AwardPage(id)
            | PublicDocument::Credential(id)
            | PublicDocument::CredentialJwt(id)
            | PublicDocument::Badge(id, _)
            | PublicDocument::Ob2Assertion(id),
        ) => Some(id),
        _ => None,
    };
    if let Some(award) = award {
        crate::insight::count_use(app, award, cairn_store::AwardUse::Verification).await;
    }
    Ok(report)
}

async fn verify_url_off_thread(app: App, url: String) -> Result<VerificationReport, AppError> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let documents = Arc::new(Documents::new(app, runtime));
        match documents.load(&url) {
            // A hosted assertion that is gone was revoked: the report says so.
            Ok(_) | Err(LoadError::Gone { .. }) => {}
            Err(LoadError::Unavailable { reason, .. }) => return Err(url_error(&format!("could not be fetched: {reason}"))),
            Err(error) => return Err(url_error(&format!("could not be fetched: {error}"))),
        }
        if let Ok(document) = documents.load(&url) {
            let credential = document.parse().ok().filter(|value| value.get("@context").is_some() || value.get("type").is_some());
            if credential.is_none() {
                return Err(url_error("answered with something that is not an Open Badge (no Open Badges JSON there): give the address of the badge's assertion or credential, or upload the badge instead"));
            }
        }
        Ok(run(&documents, url.as_bytes()))
    })
    .await
    .map_err(|error| AppError::internal(&error))?
}

/// The JSON document at `url`, read as verification reads it (this site's own documents from the
/// store, others through the fetcher within its limits); `None` when it cannot be had or is not
/// JSON. For naming what a credential only links to, such as an OB 2.0 assertion's BadgeClass.
///
/// # Errors
/// `Internal` when the blocking task fails.
pub async fn load_json(app: &App, url: &str) -> Result<Option<Value>, AppError> {
    let app = app.clone();
    let url = url.to_string();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || Documents::new(app, runtime).load(&url).ok().and_then(|document| document.parse().ok()))
        .await
        .map_err(|error| AppError::internal(&error))
}

fn url_error(detail: &str) -> AppError {
    AppError::invalid_field("/url", format!("the address {detail}"))
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
    let report = Arc::new(with_recorded_status(verify(app, award.credential_json.clone().into_bytes()).await?, award.status));
    app.caches.keep_award_report(award.id, award.status, now, award.valid_until, Arc::clone(&report));
    Ok(report)
}

/// `report` of an award's credential, failed when the award is revoked or suspended and the
/// credential cannot say so: one issued before credentials named the suspension list beside the
/// revocation list (`awards::documents::credential_status`) verifies elsewhere while suspended,
/// but its page's verdict agrees with its status.
pub(crate) fn with_recorded_status(mut report: VerificationReport, status: AwardStatus) -> VerificationReport {
    let (what, list) = match status {
        AwardStatus::Active => return report,
        AwardStatus::Suspended => ("suspended", "suspension"),
        AwardStatus::Revoked => ("revoked", "revocation"),
    };
    if report.checks.iter().any(|check| check.id == "status" && check.ok == Some(false)) {
        return report;
    }
    report.checks.push(Check {
        id: "status".into(),
        ok: Some(false),
        detail: format!(
            "{what} by the issuer, as this site records it; the credential was issued before it named the issuer's {list} list, so verifiers elsewhere cannot see it"
        ),
        warnings: Vec::new(),
    });
    report.verdict = Verdict::Invalid;
    report
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status_ok: Option<bool>) -> VerificationReport {
        let check = |id: &str, ok| Check { id: id.into(), ok, detail: "d".into(), warnings: Vec::new() };
        let verdict = if status_ok == Some(false) { Verdict::Invalid } else { Verdict::Valid };
        VerificationReport { verdict, format: "ob3-json".into(), checks: vec![check("proof", Some(true)), check("status", status_ok)], credential: None }
    }

    #[test]
    fn a_recorded_status_fails_a_credential_that_cannot_show_it() {
        assert_eq!(with_recorded_status(report(Some(true)), AwardStatus::Active), report(Some(true)));
        let suspended = with_recorded_status(report(Some(true)), AwardStatus::Suspended);
        assert_eq!(suspended.verdict, Verdict::Invalid);
        let failed: Vec<&Check> = suspended.checks.iter().filter(|c| c.ok == Some(false)).collect();
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].id == "status" && failed[0].detail.starts_with("suspended by the issuer") && failed[0].detail.contains("suspension list"),
            "{failed:?}"
        );
        // A credential whose own status check failed already says it.
        assert_eq!(with_recorded_status(report(Some(false)), AwardStatus::Suspended), report(Some(false)));
    }
}

/// What [`audit_awards`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwardAudit {
    /// Awards checked.
    pub checked: u64,
    /// Awards whose credentials or images did not come out as their record says, with why.
    pub problems: Vec<(AwardId, String)>,
}

/// Checks every award as a restore must leave it: its Data Integrity credential and its VC-JWT
/// verify here (the issuer's key, its DID document and status lists all read from this
/// database), with no failed check but those its record explains (the status of a revoked or
/// suspended award, the end of an expired one), and its baked PNG and SVG are in the blob store.
/// `progress` is called with the count checked so far, every 100 awards.
///
/// # Errors
/// Store failures while reading the awards.
pub async fn audit_awards(app: &App, mut progress: impl FnMut(u64)) -> Result<AwardAudit, AppError> {
    let mut audit = AwardAudit::default();
    let mut after = None;
    let now = app.now();
    loop {
        let page = app.store.awards_after(after, 200).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for award in &page {
            let expired = award.valid_until.is_some_and(|until| until <= now);
            // Failed checks the record explains: the status of a revoked or suspended award, the
            // end of an expired one (a VC-JWT past its `exp` is not read further, so its status
            // goes unchecked too).
            let explained = |check: &Check| match check.id.as_str() {
                "status" => award.status != AwardStatus::Active || (expired && check.ok.is_none()),
                "valid_until" | "jwt.validity_end" | "jwt.exp_claim" => expired,
                _ => false,
            };
            for (form, document) in [("credential", award.credential_json.as_bytes()), ("VC-JWT", award.jwt.as_bytes())] {
                match verify(app, document.to_vec()).await {
                    Ok(report) => {
                        let unexplained: Vec<String> = report
                            .checks
                            .iter()
                            .filter(|check| check.ok != Some(true) && !explained(check))
                            .map(|check| format!("{}: {}", check.id, check.detail))
                            .collect();
                        let active_but_not_valid = award.status == AwardStatus::Active && !expired && report.verdict != Verdict::Valid;
                        if !unexplained.is_empty() || active_but_not_valid {
                            audit.problems.push((award.id, format!("its {form} does not verify as recorded: {}", unexplained.join("; "))));
                        }
                    }
                    Err(error) => audit.problems.push((award.id, format!("its {form} could not be checked: {error}"))),
                }
            }
            for key in [&award.png_key, &award.svg_key] {
                if !key.is_empty()
                    && let Err(error) = app.store.blobs().get(key).await
                {
                    audit.problems.push((award.id, format!("its image {key} is missing: {error}")));
                }
            }
            audit.checked += 1;
            if audit.checked % 100 == 0 {
                progress(audit.checked);
            }
        }
    }
    progress(audit.checked);
    Ok(audit)
}
