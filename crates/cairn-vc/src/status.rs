//! Credential status: W3C Bitstring Status List v1.0 (create, allocate, revoke, suspend, check),
//! and reading `StatusList2021` and `1EdTechRevocationList` on input.
//!
//! A status list is only as good as the list document the caller fetched and verified: this
//! module decodes and checks; it never fetches. A list that could not be had is
//! [`StatusOutcome::Unknown`], never "not revoked".

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};

/// The smallest list the spec allows (16 KiB of bits), for herd privacy.
pub const MIN_LIST_ENTRIES: usize = 131_072;
/// The largest decoded list accepted on input, 4 MiB (33,554,432 entries, 256 times the minimum):
/// bounds the work and memory of a hostile, highly compressed list, which a verifier may hold
/// several of at once.
pub const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;
/// The largest encoded list accepted on input.
pub const MAX_ENCODED_BYTES: usize = 4 * 1024 * 1024;

/// Why a status list or entry is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// The index is outside the list.
    #[error("status index {index} is outside the list of {len} entries")]
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// The list's length in entries.
        len: usize,
    },
    /// `encodedList` is not multibase base64url GZIP data.
    #[error("the encoded status list is not valid: {0}")]
    Encoding(String),
    /// The decoded list is larger than [`MAX_LIST_BYTES`] or the encoded one than [`MAX_ENCODED_BYTES`].
    #[error("the status list is too large")]
    TooLarge,
    /// The list has fewer entries than the spec's minimum.
    #[error("the status list has {0} entries, fewer than the minimum 131072")]
    TooShort(usize),
    /// Every entry of the list is taken.
    #[error("the status list is full")]
    Full,
}

/// What a status bit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusPurpose {
    /// Set means revoked, for good.
    Revocation,
    /// Set means suspended; it may be cleared again.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }

    /// Parses a `statusPurpose` value.
    pub fn parse(raw: &str) -> Option<StatusPurpose> {
        match raw {
            "revocation" => Some(StatusPurpose::Revocation),
            "suspension" => Some(StatusPurpose::Suspension),
            _ => None,
        }
    }
}

/// A bitstring of status entries; entry 0 is the most significant bit of the first byte.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusList").field("entries", &self.len()).field("set", &self.count_set()).finish()
    }
}

impl StatusList {
    /// An all-clear list of at least `entries` entries (and at least [`MIN_LIST_ENTRIES`]).
    pub fn new(entries: usize) -> StatusList {
        let entries = entries.max(MIN_LIST_ENTRIES);
        StatusList { bits: vec![0; entries.div_ceil(8)] }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.bits.len() * 8
    }

    /// Whether the list has no entries (never true for a list made by [`StatusList::new`]).
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// How many entries are set.
    pub fn count_set(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Entry `index`.
    ///
    /// # Errors
    /// [`StatusError::OutOfRange`].
    pub fn get(&self, index: usize) -> Result<bool, StatusError> {
        let byte = self.bits.get(index / 8).ok_or(StatusError::OutOfRange { index, len: self.len() })?;
        Ok(byte & (0x80 >> (index % 8)) != 0)
    }

    /// Sets or clears entry `index`.
    ///
    /// # Errors
    /// [`StatusError::OutOfRange`].
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), StatusError> {
        let len = self.len();
        let byte = self.bits.get_mut(index / 8).ok_or(StatusError::OutOfRange { index, len })?;
        if value {
            *byte |= 0x80 >> (index % 8);
        } else {
            *byte &= !(0x80 >> (index % 8));
        }
        Ok(())
    }

    /// The `encodedList` form: multibase base64url (`u…`, no padding) of the GZIP-compressed bits.
    pub fn encode(&self) -> String {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let compressed = encoder.write_all(&self.bits).and_then(|()| encoder.finish()).unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Decodes a Bitstring Status List `encodedList` (multibase `u` prefix; a bare base64url or
    /// base64 string is accepted too, as `StatusList2021` lists use it), with bounded work.
    ///
    /// # Errors
    /// [`StatusError::Encoding`], [`StatusError::TooLarge`], [`StatusError::TooShort`].
    pub fn decode(encoded: &str) -> Result<StatusList, StatusError> {
        if encoded.len() > MAX_ENCODED_BYTES {
            return Err(StatusError::TooLarge);
        }
        let body = encoded.strip_prefix('u').unwrap_or(encoded);
        let compressed = URL_SAFE_NO_PAD
            .decode(body)
            .or_else(|_| URL_SAFE.decode(body))
            .or_else(|_| STANDARD.decode(body))
            .map_err(|e| StatusError::Encoding(format!("not base64url: {e}")))?;
        let mut bits = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bits)
            .map_err(|e| StatusError::Encoding(format!("not GZIP data: {e}")))?;
        if bits.len() > MAX_LIST_BYTES {
            return Err(StatusError::TooLarge);
        }
        if bits.len() * 8 < MIN_LIST_ENTRIES {
            return Err(StatusError::TooShort(bits.len() * 8));
        }
        Ok(StatusList { bits })
    }
}

/// Picks a random entry for which `taken` is false: random probes first (so indexes do not
/// reveal issue order), then a scan from a random start.
///
/// # Errors
/// [`StatusError::Full`] when every entry is taken.
pub fn allocate_index(len: usize, taken: impl Fn(usize) -> bool, rng: &mut impl Rng) -> Result<usize, StatusError> {
    if len == 0 {
        return Err(StatusError::Full);
    }
    for _ in 0..64 {
        let candidate = rng.gen_range(0..len);
        if !taken(candidate) {
            return Ok(candidate);
        }
    }
    let start = rng.gen_range(0..len);
    (0..len).map(|offset| (start + offset) % len).find(|&i| !taken(i)).ok_or(StatusError::Full)
}

/// The `credentialStatus` entry pointing at entry `index` of the list at `list_url`.
pub fn status_entry(list_url: &str, index: usize, purpose: StatusPurpose) -> Value {
    json!({
        "id": format!("{list_url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose.as_str(),
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

/// An unsigned `BitstringStatusListCredential` (VC 2.0) for `list`, to be signed by the issuer.
pub fn list_credential(list_url: &str, issuer: &str, purpose: StatusPurpose, list: &StatusList, valid_from: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": list.encode(),
        },
    })
}

/// The result of checking one status entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The entry's bit is clear (or the credential is not on the revocation list).
    Clear,
    /// Revoked or suspended; `reason` when the list gives one.
    Set {
        /// What the set bit means.
        purpose: StatusPurpose,
        /// The issuer's stated reason, if any.
        reason: Option<String>,
    },
    /// The status could not be established; never read this as "not revoked".
    Unknown {
        /// Why not.
        reason: String,
    },
}

/// Where an entry's list lives, for the caller to fetch (and verify) before [`check_entry`].
pub fn list_url(entry: &Value) -> Option<&str> {
    match entry.get("type").and_then(Value::as_str) {
        Some("1EdTechRevocationList") => entry.get("id").and_then(Value::as_str),
        _ => entry.get("statusListCredential").and_then(Value::as_str),
    }
}

fn index_of(entry: &Value) -> Option<usize> {
    match entry.get("statusListIndex")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
}

/// Checks one `credentialStatus` entry of the credential `credential_id` against its list
/// document (already fetched and verified by the caller; `None` when it could not be had).
/// Understands `BitstringStatusListEntry`, `StatusList2021Entry` and `1EdTechRevocationList`.
/// To check several entries against one list, read it once with [`ListContents::read`].
pub fn check_entry(entry: &Value, credential_id: Option<&str>, list: Option<&Value>) -> StatusOutcome {
    match list {
        Some(list) => ListContents::read(list).check(entry, credential_id),
        None => StatusOutcome::Unknown { reason: format!("the status list {} could not be retrieved", list_url(entry).unwrap_or("(no URL)")) },
    }
}

/// A status list document read once: the purpose and decoded bits of a Bitstring Status List (or
/// `StatusList2021`), or the revoked ids of a `1EdTechRevocationList`, to check any number of entries
/// against without decoding the list again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListContents {
    purpose: Option<String>,
    bits: Option<Result<StatusList, StatusError>>,
    revoked: Option<HashMap<String, Option<String>>>,
}

impl ListContents {
    /// Reads a list document (decoding its `encodedList`, with bounded work, when it has one).
    pub fn read(list: &Value) -> ListContents {
        let subject = list.get("credentialSubject");
        let purpose = subject.and_then(|s| s.get("statusPurpose")).and_then(Value::as_str).map(str::to_owned);
        let bits = subject.and_then(|s| s.get("encodedList")).and_then(Value::as_str).map(StatusList::decode);
        let revoked = list.get("revokedCredentials").and_then(Value::as_array).map(|revoked| {
            let mut ids = HashMap::new();
            for entry in revoked {
                if let Some(id) = entry.get("id").and_then(Value::as_str) {
                    ids.entry(id.to_owned()).or_insert_with(|| entry.get("revocationReason").and_then(Value::as_str).map(str::to_owned));
                }
            }
            ids
        });
        ListContents { purpose, bits, revoked }
    }

    /// Roughly how many bytes of memory it holds.
    pub fn bytes(&self) -> usize {
        let bits = match &self.bits {
            Some(Ok(list)) => list.bits.len(),
            _ => 0,
        };
        let revoked = self.revoked.iter().flatten().map(|(id, reason)| id.len() + reason.as_ref().map_or(0, String::len) + 48).sum::<usize>();
        bits + revoked + self.purpose.as_ref().map_or(0, String::len)
    }

    /// Checks one `credentialStatus` entry of the credential `credential_id` (see [`check_entry`]).
    pub fn check(&self, entry: &Value, credential_id: Option<&str>) -> StatusOutcome {
        let unknown = |reason: String| StatusOutcome::Unknown { reason };
        let kind = entry.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "BitstringStatusListEntry" | "StatusList2021Entry" => {
                let Some(purpose_text) = entry.get("statusPurpose").and_then(Value::as_str) else {
                    return unknown("the status entry has no statusPurpose".into());
                };
                let Some(purpose) = StatusPurpose::parse(purpose_text) else {
                    return unknown(format!("status purpose \"{purpose_text}\" is not revocation or suspension"));
                };
                let Some(index) = index_of(entry) else {
                    return unknown("the status entry has no valid statusListIndex".into());
                };
                let list_purpose = self.purpose.as_deref();
                if list_purpose != Some(purpose_text) {
                    return unknown(format!("the list's statusPurpose {list_purpose:?} does not match the entry's \"{purpose_text}\""));
                }
                match &self.bits {
                    None => unknown("the status list has no encodedList".into()),
                    Some(Err(error)) => unknown(error.to_string()),
                    Some(Ok(bits)) => match bits.get(index) {
                        Ok(true) => StatusOutcome::Set { purpose, reason: None },
                        Ok(false) => StatusOutcome::Clear,
                        Err(error) => unknown(error.to_string()),
                    },
                }
            }
            "1EdTechRevocationList" => {
                let Some(id) = credential_id else { return unknown("the credential has no id to look up".into()) };
                let Some(revoked) = &self.revoked else {
                    return unknown("the revocation list has no revokedCredentials".into());
                };
                match revoked.get(id) {
                    Some(reason) => StatusOutcome::Set { purpose: StatusPurpose::Revocation, reason: reason.clone() },
                    None => StatusOutcome::Clear,
                }
            }
            other => unknown(format!("status type \"{other}\" is not supported")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bits_are_addressed_from_the_left() {
        let mut list = StatusList::new(10);
        assert_eq!(list.len(), MIN_LIST_ENTRIES);
        list.set(0, true).unwrap();
        list.set(9, true).unwrap();
        assert_eq!(&list.bits[..2], &[0x80, 0x40]);
        assert_eq!(list.get(9), Ok(true));
        list.set(9, false).unwrap();
        assert_eq!(list.get(9), Ok(false));
        assert_eq!(list.get(MIN_LIST_ENTRIES), Err(StatusError::OutOfRange { index: MIN_LIST_ENTRIES, len: MIN_LIST_ENTRIES }));
    }

    #[test]
    fn lists_round_trip_through_their_encoding() {
        let mut list = StatusList::new(200_000);
        for i in [0, 7, 8, 131_071, 199_999] {
            list.set(i, true).unwrap();
        }
        let encoded = list.encode();
        assert!(encoded.starts_with('u'));
        let decoded = StatusList::decode(&encoded).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(decoded.count_set(), 5);
    }

    #[test]
    fn the_1edtech_fixture_list_decodes() {
        // From the 1EdTech validator's test list (bit-string-list/testlist).
        let list = StatusList::decode("uH4sIAAAAAAAA_-3BMQEAAAzDoMy_6cnoA9QFAAAAAAAAAAAAAAAAAAAAbD3uPa2cAEAAAA").unwrap();
        assert_eq!(list.len(), MIN_LIST_ENTRIES);
    }

    #[test]
    fn hostile_encodings_are_refused_with_bounded_work() {
        assert!(matches!(StatusList::decode("u!!!"), Err(StatusError::Encoding(_))));
        assert!(matches!(StatusList::decode("uAAAA"), Err(StatusError::Encoding(_))));
        let small = StatusList { bits: vec![0; 16] };
        assert_eq!(StatusList::decode(&small.encode()), Err(StatusError::TooShort(128)));
        // A GZIP bomb: 64 MiB of zeros compresses to ~64 KiB; decoding stops at the cap.
        let bomb = StatusList { bits: vec![0; 64 * 1024 * 1024] };
        assert_eq!(StatusList::decode(&bomb.encode()), Err(StatusError::TooLarge));
        assert_eq!(StatusList::decode(&"A".repeat(MAX_ENCODED_BYTES + 1)), Err(StatusError::TooLarge));
    }

    #[test]
    fn allocation_is_random_and_avoids_taken_entries() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = allocate_index(MIN_LIST_ENTRIES, |_| false, &mut rng).unwrap();
        let b = allocate_index(MIN_LIST_ENTRIES, |_| false, &mut rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(allocate_index(100, |i| i != 42, &mut rng), Ok(42));
        assert_eq!(allocate_index(100, |_| true, &mut rng), Err(StatusError::Full));
    }

    fn list_document(purpose: &str, set: &[usize]) -> Value {
        let mut list = StatusList::new(0);
        for &i in set {
            list.set(i, true).unwrap();
        }
        let mut document = list_credential("https://x.example/status/1", "did:key:z6Mk", StatusPurpose::Revocation, &list, "2026-01-01T00:00:00Z");
        document["credentialSubject"]["statusPurpose"] = json!(purpose);
        document
    }

    #[track_caller]
    fn check(entry: Value, list: Option<Value>, expected: &str) {
        let outcome = check_entry(&entry, Some("urn:uuid:1"), list.as_ref());
        let got = match outcome {
            StatusOutcome::Clear => "clear".to_string(),
            StatusOutcome::Set { purpose, reason } => format!("set {} {}", purpose.as_str(), reason.unwrap_or_default()).trim().to_string(),
            StatusOutcome::Unknown { reason } => format!("unknown: {reason}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn entries_are_checked_against_their_lists() {
        let url = "https://x.example/status/1";
        check(status_entry(url, 5, StatusPurpose::Revocation), Some(list_document("revocation", &[5])), "set revocation");
        check(status_entry(url, 6, StatusPurpose::Revocation), Some(list_document("revocation", &[5])), "clear");
        check(
            status_entry(url, 5, StatusPurpose::Suspension),
            Some(list_document("revocation", &[5])),
            "unknown: the list's statusPurpose Some(\"revocation\") does not match the entry's \"suspension\"",
        );
        check(status_entry(url, 5, StatusPurpose::Revocation), None, "unknown: the status list https://x.example/status/1 could not be retrieved");
        check(
            status_entry(url, 999_999, StatusPurpose::Revocation),
            Some(list_document("revocation", &[])),
            "unknown: status index 999999 is outside the list of 131072 entries",
        );
        let mut numeric = status_entry(url, 5, StatusPurpose::Revocation);
        numeric["statusListIndex"] = json!(5);
        check(numeric, Some(list_document("revocation", &[5])), "set revocation");
        let mut legacy = status_entry(url, 5, StatusPurpose::Revocation);
        legacy["type"] = json!("StatusList2021Entry");
        check(legacy, Some(list_document("revocation", &[5])), "set revocation");
        let revocation_list = json!({"id": url, "revokedCredentials": [{"id": "urn:uuid:1", "revocationReason": "issued in error"}]});
        check(json!({"id": url, "type": "1EdTechRevocationList"}), Some(revocation_list), "set revocation issued in error");
        check(json!({"id": url, "type": "1EdTechRevocationList"}), Some(json!({"revokedCredentials": []})), "clear");
        check(json!({"id": url, "type": "CustomStatus"}), Some(json!({})), "unknown: status type \"CustomStatus\" is not supported");
    }
}
