//! What the public surface keeps between requests so that a page view or a verification does not
//! redo signing and verification work whose inputs have not changed. Each cache is bounded in
//! entries and each entry in age; each says below what it is keyed by and what invalidates it.
//!
//! - **Signed status lists** ([`Caches::signed_list`]): the `BitstringStatusListCredential` served
//!   at `/status/{id}`, keyed by the list id *and the digest of the bits it was signed over*. The
//!   bits are read from the store on every request (so every instance serves what the database
//!   says), but a list is signed again only when its bits changed: never to verify it, never per
//!   view.
//! - **Verified status lists** ([`Caches::status_lists`]): `cairn_vc`'s [`StatusListCache`], used by
//!   every in-process verification (award pages, `/verify`), so a list's proof is checked once per
//!   [`STATUS_LIST_MAX_AGE_SECS`] rather than once per credential. A status change made through
//!   this process forgets the lists the award's credential points at ([`Caches::status_changed`]),
//!   and only those; a change made by another instance on the same database shows within the
//!   maximum age.
//! - **Award page verifications** ([`Caches::award_report`]): the verification report of an
//!   award's stored credential, keyed by the award *and its current status* (the one bit of the
//!   status lists its credential points at), read from the store with the award on each view. A
//!   revocation, suspension or reinstatement therefore changes the key and the next view verifies
//!   afresh, on every instance. An entry is used for at most [`REPORT_MAX_AGE_SECS`] and never
//!   past the credential's `validUntil`, so date checks stay true.
//! - **Issuer DID documents** ([`Caches::did_document`]): the text of an issuer's `did:web`
//!   document as in-process verification loads it, keyed by the organisation. It holds only the
//!   issuer's public key, which never changes, and the public URL, fixed for the process's life.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use cairn_core::award::AwardStatus;
use cairn_core::ids::{AwardId, OrganisationId};
use cairn_vc::verify::{StatusListCache, VerificationReport};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// How long a verified status list is trusted without checking its proof again, in seconds.
pub const STATUS_LIST_MAX_AGE_SECS: i64 = 60;
/// How long an award page's verification is reused, in seconds.
pub const REPORT_MAX_AGE_SECS: i64 = 600;
/// How many award pages' reports are kept.
pub const MAX_REPORTS: usize = 20_000;
/// How many signed status lists are kept (two per issuer).
pub const MAX_SIGNED_LISTS: usize = 2_000;
/// How many issuers' DID documents are kept.
pub const MAX_DID_DOCUMENTS: usize = 2_000;

/// The caches of one running application (shared by its clones).
pub struct Caches {
    pub status_lists: StatusListCache,
    signed_lists: Bounded<String, SignedList>,
    reports: Bounded<(AwardId, AwardStatus), CachedReport>,
    did_documents: Bounded<OrganisationId, Arc<str>>,
    /// Sign-in providers' discovery documents and keys ([`crate::oidc`]), per provider, for
    /// [`crate::oidc::METADATA_MAX_AGE_SECS`]; an ID token signed with a key not among them
    /// reads them again.
    pub oidc: crate::oidc::ProviderCache,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("status_lists", &self.status_lists)
            .field("signed_lists", &self.signed_lists.len())
            .field("reports", &self.reports.len())
            .field("did_documents", &self.did_documents.len())
            .field("oidc", &self.oidc.len())
            .finish()
    }
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            status_lists: StatusListCache::new(STATUS_LIST_MAX_AGE_SECS),
            signed_lists: Bounded::new(MAX_SIGNED_LISTS),
            reports: Bounded::new(MAX_REPORTS),
            did_documents: Bounded::new(MAX_DID_DOCUMENTS),
            oidc: crate::oidc::ProviderCache::default(),
        }
    }
}

#[derive(Clone)]
struct SignedList {
    digest: [u8; 32],
    document: Arc<Value>,
}

#[derive(Clone)]
struct CachedReport {
    fresh_until: i64,
    report: Arc<VerificationReport>,
}

/// The digest a signed list is keyed by: its length and the indexes of its set bits, sorted.
pub fn list_digest(length: usize, set: &mut [u64]) -> [u8; 32] {
    set.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update((length as u64).to_be_bytes());
    for index in set.iter() {
        hasher.update(index.to_be_bytes());
    }
    hasher.finalize().into()
}

impl Caches {
    /// The list `id` signed over bits with `digest`, if it was signed before.
    pub fn signed_list(&self, id: &str, digest: &[u8; 32]) -> Option<Arc<Value>> {
        self.signed_lists.get(&id.to_string()).filter(|list| list.digest == *digest).map(|list| list.document)
    }

    /// Keeps the list `id` as signed over bits with `digest`.
    pub fn keep_signed_list(&self, id: &str, digest: [u8; 32], document: Arc<Value>) {
        self.signed_lists.insert(id.to_string(), SignedList { digest, document });
    }

    /// The DID document of `organisation` as text, if kept.
    pub fn did_document(&self, organisation: OrganisationId) -> Option<Arc<str>> {
        self.did_documents.get(&organisation)
    }

    /// Keeps the DID document of `organisation`.
    pub fn keep_did_document(&self, organisation: OrganisationId, text: Arc<str>) {
        self.did_documents.insert(organisation, text);
    }

    /// The report of an earlier verification of award `id` while it had `status`, if still fresh
    /// at `now`.
    pub fn award_report(&self, id: AwardId, status: AwardStatus, now: OffsetDateTime) -> Option<Arc<VerificationReport>> {
        let key = (id, status);
        let cached = self.reports.get(&key)?;
        if now.unix_timestamp() < cached.fresh_until {
            return Some(cached.report);
        }
        self.reports.remove(&key);
        None
    }

    /// Keeps the report of verifying award `id` with `status` at `now`, for at most
    /// [`REPORT_MAX_AGE_SECS`] and not past `valid_until`.
    pub fn keep_award_report(
        &self,
        id: AwardId,
        status: AwardStatus,
        now: OffsetDateTime,
        valid_until: Option<OffsetDateTime>,
        report: Arc<VerificationReport>,
    ) {
        let mut fresh_until = now.unix_timestamp().saturating_add(REPORT_MAX_AGE_SECS);
        if let Some(until) = valid_until {
            fresh_until = fresh_until.min(until.unix_timestamp());
        }
        self.reports.insert((id, status), CachedReport { fresh_until, report });
    }

    /// The status of the award whose credential is `credential` changed through this process:
    /// forget the verified lists its `credentialStatus` entries point at (only those), so the next
    /// verification reads them as they are now. A credential that cannot be read forgets them all.
    pub fn status_changed(&self, credential: &str) {
        let Ok(document) = serde_json::from_str::<Value>(credential) else {
            self.status_lists.clear();
            return;
        };
        let entries = match document.get("credentialStatus") {
            Some(Value::Array(entries)) => entries.iter().collect(),
            Some(entry) => vec![entry],
            None => Vec::new(),
        };
        for url in entries.into_iter().filter_map(cairn_vc::status::list_url) {
            self.status_lists.remove(url);
        }
    }

    /// How many award reports are kept (for tests and diagnostics).
    pub fn award_reports(&self) -> usize {
        self.reports.len()
    }
}

/// A map holding at most `max` entries, forgetting the oldest insertion first.
struct Bounded<K, V> {
    max: usize,
    inner: Mutex<(HashMap<K, V>, VecDeque<K>)>,
}

impl<K: Eq + Hash + Clone, V: Clone> Bounded<K, V> {
    fn new(max: usize) -> Self {
        Bounded { max: max.max(1), inner: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<K, V>, VecDeque<K>)> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &K) -> Option<V> {
        self.lock().0.get(key).cloned()
    }

    fn insert(&self, key: K, value: V) {
        let mut inner = self.lock();
        let (map, order) = &mut *inner;
        if map.insert(key.clone(), value).is_none() {
            order.push_back(key);
        }
        while map.len() > self.max {
            let Some(oldest) = order.pop_front() else { break };
            map.remove(&oldest);
        }
    }

    fn remove(&self, key: &K) {
        let mut inner = self.lock();
        let (map, order) = &mut *inner;
        if map.remove(key).is_some() {
            order.retain(|known| known != key);
        }
    }

    fn len(&self) -> usize {
        self.lock().0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_vc::verify::Verdict;

    fn report() -> Arc<VerificationReport> {
        Arc::new(VerificationReport { verdict: Verdict::Valid, format: "ob3-json".into(), checks: Vec::new(), credential: None })
    }

    #[test]
    fn a_report_is_kept_per_status_and_ages_out() {
        let caches = Caches::default();
        let id = AwardId::new();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        caches.keep_award_report(id, AwardStatus::Active, now, None, report());
        assert!(caches.award_report(id, AwardStatus::Active, now).is_some());
        assert!(caches.award_report(id, AwardStatus::Revoked, now).is_none(), "a status change is a new key");
        let later = now + time::Duration::seconds(REPORT_MAX_AGE_SECS);
        assert!(caches.award_report(id, AwardStatus::Active, later).is_none());
        assert_eq!(caches.award_reports(), 0, "a stale report is dropped when seen");
    }

    #[test]
    fn a_report_is_never_used_past_the_credentials_expiry() {
        let caches = Caches::default();
        let id = AwardId::new();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let expiry = now + time::Duration::seconds(5);
        caches.keep_award_report(id, AwardStatus::Active, now, Some(expiry), report());
        assert!(caches.award_report(id, AwardStatus::Active, now + time::Duration::seconds(4)).is_some());
        assert!(caches.award_report(id, AwardStatus::Active, expiry).is_none());
    }

    #[test]
    fn a_signed_list_is_reused_only_for_the_same_bits() {
        let caches = Caches::default();
        let one = list_digest(8, &mut [3, 1]);
        assert_eq!(one, list_digest(8, &mut [1, 3]), "order does not matter");
        let other = list_digest(8, &mut [1]);
        caches.keep_signed_list("r-1", one, Arc::new(serde_json::json!({"n": 1})));
        assert!(caches.signed_list("r-1", &one).is_some());
        assert!(caches.signed_list("r-1", &other).is_none());
        assert!(caches.signed_list("r-2", &one).is_none());
    }

    #[test]
    fn the_maps_are_bounded() {
        let map = Bounded::new(3);
        for i in 0..10 {
            map.insert(i, i);
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&9), Some(9));
        assert_eq!(map.get(&0), None);
    }
}
