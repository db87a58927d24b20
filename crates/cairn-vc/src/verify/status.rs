//! The `status` check: each `credentialStatus` entry's list is loaded through the caller's loader,
//! verified (a Data Integrity proof or a VC-JWT, by the credential's issuer), read once
//! ([`ListContents`]) and then consulted for every entry that names it.
//!
//! Work is bounded and shared: at most [`MAX_STATUS_ENTRIES`] entries per credential and
//! [`MAX_STATUS_LISTS_PER_RUN`] distinct lists per verification are looked at; a list is loaded
//! and verified at most once per verification (its outcome, good or bad, is remembered by URL),
//! and at most once per its lifetime across verifications when the caller hands in a
//! [`StatusListCache`]. Only lists that verified are kept across verifications.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::{LoaderKeys, Report, Run, issuer_id, looks_like_jwt, one_or_many, parse_time, types};
use crate::status::{self, ListContents, StatusOutcome, StatusPurpose};
use crate::suites::{eddsa_rdfc_2022, vc_jwt};

/// The most `credentialStatus` entries checked per credential; a credential with more gets a
/// `status` check that could not be made for the rest.
pub const MAX_STATUS_ENTRIES: usize = 8;

/// The most distinct status lists one verification loads (the credential, its endorsements and
/// nested credentials together).
pub const MAX_STATUS_LISTS_PER_RUN: usize = 16;

/// How a status list was secured.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Securing {
    /// A Data Integrity proof by the key of `controller`.
    DataIntegrity { controller: Option<String> },
    /// A VC-JWT, whose key the JWT checks bound to the list's issuer.
    Jwt,
    /// Not secured: a legacy `1EdTechRevocationList` or `StatusList2021` document without a proof.
    Unsigned,
}

/// A status list that was loaded and verified, read into [`ListContents`]: what
/// [`StatusListCache`] holds. Only the verification pipeline makes one.
#[derive(Debug)]
pub struct VerifiedStatusList {
    url: String,
    issuer: Option<String>,
    securing: Securing,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    verified_at: i64,
    /// The list's own `ttl` (Bitstring Status List §2.1), in seconds.
    ttl_secs: Option<i64>,
    contents: ListContents,
}

impl VerifiedStatusList {
    /// The URL the list was loaded from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The list's issuer id.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// When it was verified (the `now` of that verification, Unix seconds).
    pub fn verified_at(&self) -> i64 {
        self.verified_at
    }

    /// Roughly how many bytes of memory it holds.
    pub fn bytes(&self) -> usize {
        self.contents.bytes() + self.url.len() + self.issuer.as_ref().map_or(0, String::len) + 128
    }

    /// Whether the list speaks for a credential of `issuer`: it is that issuer's, and so is the
    /// key that secured it. Unsigned legacy lists are read as they are.
    fn speaks_for(&self, issuer: Option<&str>) -> bool {
        match &self.securing {
            Securing::Unsigned => true,
            Securing::Jwt => issuer.is_some() && self.issuer.as_deref() == issuer,
            Securing::DataIntegrity { controller } => issuer.is_some() && self.issuer.as_deref() == issuer && controller.as_deref() == issuer,
        }
    }
}

/// Status lists verified by earlier verifications, shared by the caller between them (a server
/// keeps one for its lifetime), so that a list is fetched and verified once per its lifetime rather
/// than once per credential.
///
/// An entry is used while it is younger than the cache's maximum age and the list's own `ttl`, and
/// the list's `validFrom`/`validUntil` are judged again at each use. The cache holds at most
/// [`StatusListCache::max_bytes`] of lists, dropping the oldest first. A publisher that changes a
/// list it also verifies should [`remove`](StatusListCache::remove) it.
pub struct StatusListCache {
    max_age_secs: i64,
    max_bytes: usize,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_url: HashMap<String, Arc<VerifiedStatusList>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, url: &str) -> bool {
        match self.by_url.remove(url) {
            Some(list) => {
                self.bytes -= list.bytes();
                self.order.retain(|known| known != url);
                true
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for StatusListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries();
        f.debug_struct("StatusListCache")
            .field("max_age_secs", &self.max_age_secs)
            .field("max_bytes", &self.max_bytes)
            .field("lists", &entries.by_url.len())
            .field("bytes", &entries.bytes)
            .finish()
    }
}

impl StatusListCache {
    /// The default memory bound: 64 MiB of decoded lists.
    pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

    /// An empty cache whose lists are used for at most `max_age_secs` after they were verified.
    pub fn new(max_age_secs: i64) -> Self {
        Self { max_age_secs: max_age_secs.max(0), max_bytes: Self::DEFAULT_MAX_BYTES, entries: Mutex::default() }
    }

    /// Holds at most `max_bytes` of lists (default [`Self::DEFAULT_MAX_BYTES`]).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The memory bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The list verified for `url`, if it is still fresh at `now`.
    pub fn get(&self, url: &str, now: i64) -> Option<Arc<VerifiedStatusList>> {
        let mut entries = self.entries();
        let list = entries.by_url.get(url)?;
        let lifetime = list.ttl_secs.map_or(self.max_age_secs, |ttl| ttl.min(self.max_age_secs));
        let age = now.saturating_sub(list.verified_at);
        if (0..lifetime).contains(&age) {
            return Some(Arc::clone(list));
        }
        entries.remove(url);
        None
    }

    /// Keeps `list` (replacing any list for the same URL), dropping the oldest lists over the
    /// memory bound.
    pub fn insert(&self, list: Arc<VerifiedStatusList>) {
        if list.bytes() > self.max_bytes {
            return;
        }
        let mut entries = self.entries();
        entries.remove(&list.url);
        entries.bytes += list.bytes();
        entries.order.push_back(list.url.clone());
        entries.by_url.insert(list.url.clone(), list);
        while entries.bytes > self.max_bytes {
            let Some(oldest) = entries.order.front().cloned() else { break };
            entries.remove(&oldest);
        }
    }

    /// Forgets the list at `url`; whether there was one.
    pub fn remove(&self, url: &str) -> bool {
        self.entries().remove(url)
    }

    /// Forgets every list.
    pub fn clear(&self) {
        *self.entries() = Entries::default();
    }

    /// How many lists it holds.
    pub fn len(&self) -> usize {
        self.entries().by_url.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A list as one verification found it: ready, or the check to report for every entry naming it.
#[derive(Debug, Clone)]
pub(super) enum Lookup {
    Ready(Arc<VerifiedStatusList>),
    Failed { ok: Option<bool>, detail: String },
}

impl Lookup {
    fn unknown(detail: impl Into<String>) -> Self {
        Lookup::Failed { ok: None, detail: detail.into() }
    }

    fn fail(detail: impl Into<String>) -> Self {
        Lookup::Failed { ok: Some(false), detail: detail.into() }
    }
}

/// The `status` checks of `document`. When its proof failed there is nothing for a list to speak
/// for: no list is loaded, and one check says why (`skip`).
pub(super) fn check_status(document: &Value, run: &Run<'_>, report: &mut Report, skip: Option<&str>) {
    let entries = one_or_many(document.get("credentialStatus"));
    if entries.is_empty() {
        return;
    }
    if let Some(why) = skip {
        report.unknown("status", format!("not checked: {why}"));
        return;
    }
    let credential_id = document.get("id").and_then(Value::as_str);
    let issuer = issuer_id(document);
    let (now, skew) = (run.options.now, run.options.max_clock_skew_secs);
    for entry in entries.iter().take(MAX_STATUS_ENTRIES) {
        let Some(url) = status::list_url(entry) else {
            report.fail("status", "a credentialStatus entry names no list");
            continue;
        };
        let list = match lookup(run, url) {
            Lookup::Ready(list) => list,
            Lookup::Failed { ok: Some(false), detail } => {
                report.fail("status", detail);
                continue;
            }
            Lookup::Failed { detail, .. } => {
                report.unknown("status", detail);
                continue;
            }
        };
        if !list.speaks_for(issuer) {
            report.fail("status", format!("the status list {url} is not signed by the credential's issuer"));
            continue;
        }
        if let Some(until) = list.valid_until.filter(|until| until.saturating_add(skew) < now) {
            report.unknown("status", format!("status unknown: the status list {url} expired on {}", crate::dates::unix_day(until)));
            continue;
        }
        if let Some(from) = list.valid_from.filter(|from| *from > now.saturating_add(skew)) {
            report.unknown("status", format!("status unknown: the status list {url} is not valid until {}", crate::dates::unix_day(from)));
            continue;
        }
        match list.contents.check(entry, credential_id) {
            StatusOutcome::Clear => report.pass("status", format!("not revoked or suspended ({url})")),
            StatusOutcome::Set { purpose, reason } => {
                let what = match purpose {
                    StatusPurpose::Revocation => "revoked",
                    StatusPurpose::Suspension => "suspended",
                };
                report.fail(
                    "status",
                    match reason {
                        Some(reason) => format!("{what}: {reason}"),
                        None => format!("{what} by the issuer"),
                    },
                );
            }
            StatusOutcome::Unknown { reason } => report.unknown("status", format!("status unknown: {reason}")),
        }
    }
    if entries.len() > MAX_STATUS_ENTRIES {
        report.unknown(
            "status",
            format!("status unknown: the credential has {} status entries; only the first {MAX_STATUS_ENTRIES} were checked", entries.len()),
        );
    }
}

/// The list at `url`: from this verification's lists, then the caller's cache, then loaded and
/// verified.
fn lookup(run: &Run<'_>, url: &str) -> Lookup {
    if let Some(found) = run.lists.borrow().get(url) {
        return found.clone();
    }
    if run.lists.borrow().len() >= MAX_STATUS_LISTS_PER_RUN {
        return Lookup::unknown(format!(
            "status unknown: {url} was not loaded: this verification already loaded {MAX_STATUS_LISTS_PER_RUN} status lists, the most it loads"
        ));
    }
    let cache = run.options.status_lists;
    let found = match cache.and_then(|cache| cache.get(url, run.options.now)) {
        Some(list) => Lookup::Ready(list),
        None => {
            let found = load_and_verify(run, url);
            if let (Lookup::Ready(list), Some(cache)) = (&found, cache) {
                cache.insert(Arc::clone(list));
            }
            found
        }
    };
    run.lists.borrow_mut().insert(url.to_owned(), found.clone());
    found
}

/// Loads the list at `url` and verifies it: a JSON credential with a Data Integrity proof, a
/// VC-JWT, or a legacy unsigned list.
fn load_and_verify(run: &Run<'_>, url: &str) -> Lookup {
    let options = run.options;
    let document = match options.loader.load(url) {
        Ok(document) => document,
        Err(error) => return Lookup::unknown(format!("status unknown: {error}")),
    };
    let text = document.json().trim();
    let (list, securing) = if text.starts_with('{') {
        let list = match document.parse() {
            Ok(list) => list,
            Err(error) => return Lookup::unknown(format!("status unknown: {error}")),
        };
        if list.get("proof").is_some() {
            match eddsa_rdfc_2022::verify(&list, options.loader) {
                Ok(verification) if verification.is_valid() => {
                    let controller = verification.proofs.first().and_then(|proof| proof.controller.clone());
                    (list, Securing::DataIntegrity { controller })
                }
                Ok(verification) => {
                    return Lookup::fail(format!(
                        "the status list's proof is not valid: {}",
                        verification.failure().map(ToString::to_string).unwrap_or_default()
                    ));
                }
                Err(error) => return Lookup::unknown(format!("status unknown: the status list's proof could not be checked: {error}")),
            }
        } else if types(&list).contains(&"BitstringStatusListCredential") {
            return Lookup::fail(format!("the status list {url} is not signed"));
        } else {
            (list, Securing::Unsigned)
        }
    } else if looks_like_jwt(text) {
        let keys = LoaderKeys { options };
        let verification = match vc_jwt::verify(text, &keys, options.now, options.max_clock_skew_secs) {
            Ok(verification) => verification,
            Err(error) => return Lookup::unknown(format!("status unknown: the status list {url} could not be checked: {error}")),
        };
        match (verification.verdict, verification.credential) {
            (vc_jwt::JwtVerdict::Valid, Some(list)) => (list, Securing::Jwt),
            (vc_jwt::JwtVerdict::Indeterminate, _) | (vc_jwt::JwtVerdict::Valid, None) => {
                let why = verification.checks.iter().find(|check| !check.ok).map_or("", |check| check.detail.as_str());
                return Lookup::unknown(format!("status unknown: the status list's signature could not be checked: {why}"));
            }
            (_, _) => {
                let failed: Vec<&vc_jwt::JwtCheck> = verification.checks.iter().filter(|check| !check.ok).collect();
                let dates_only = failed.iter().all(|check| matches!(check.id, vc_jwt::JwtCheckId::ValidityStart | vc_jwt::JwtCheckId::ValidityEnd));
                let why = failed.first().map_or("", |check| check.detail.as_str());
                return if dates_only && !failed.is_empty() {
                    Lookup::unknown(format!("status unknown: the status list {url} is outside its validity period: {why}"))
                } else {
                    Lookup::fail(format!("the status list's signature is not valid: {why}"))
                };
            }
        }
    } else {
        return Lookup::unknown(format!("status unknown: the status list {url} is neither JSON nor a VC-JWT"));
    };
    let date = |property: &str, legacy: &str| list.get(property).or_else(|| list.get(legacy)).and_then(parse_time);
    let ttl_secs = list
        .get("credentialSubject")
        .and_then(|subject| subject.get("ttl"))
        .and_then(Value::as_u64)
        .map(|millis| i64::try_from(millis / 1000).unwrap_or(i64::MAX));
    Lookup::Ready(Arc::new(VerifiedStatusList {
        url: url.to_owned(),
        issuer: issuer_id(&list).map(str::to_owned),
        securing,
        valid_from: date("validFrom", "issuanceDate"),
        valid_until: date("validUntil", "expirationDate"),
        verified_at: options.now,
        ttl_secs,
        contents: ListContents::read(&list),
    }))
}
