//! Key resolution: what [`verify`](super::verify) asks for ([`KeyLookup`]), the trait a caller
//! implements over what it trusts ([`KeyResolver`]) and a ready one over JWKS, DID documents and
//! `did:key`s ([`TrustedKeys`]).

use serde_json::Value;

use super::keys::VerificationKey;
use super::{JwtAlgorithm, VerificationKeyError, did_of, shorten};

/// What [`verify`](super::verify()) asks a [`KeyResolver`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLookup<'a> {
    /// The token's `kid`, made absolute against a DID issuer when it is a bare fragment (`#key-1`).
    pub kid: Option<&'a str>,
    /// The credential's issuer id.
    pub issuer: Option<&'a str>,
    /// The token's algorithm.
    pub algorithm: JwtAlgorithm,
    /// The public key in the token's header (`jwk`), if any: not trusted by itself, but it names
    /// a key (by its RFC 7638 [thumbprint](VerificationKey::thumbprint)) when there is no `kid`.
    pub jwk: Option<&'a VerificationKey>,
}

/// The most keys [`KeyResolver::candidates`] offers, and so the most signatures tried for one
/// token.
pub const MAX_CANDIDATE_KEYS: usize = 16;

/// A key a [`KeyResolver`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    /// The key.
    pub key: VerificationKey,
    /// Whose key it is (the DID whose document lists it), when the resolver knows: [`verify`](super::verify()) then
    /// requires it to be the credential's issuer. `None` means the caller vouches for the key.
    pub controller: Option<String>,
}

/// Why a [`KeyResolver`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyResolutionError {
    /// The key source could not be consulted (a DID document or JWKS that did not load): the token
    /// cannot be judged, and the verdict is [`JwtVerdict::Indeterminate`](super::JwtVerdict::Indeterminate).
    #[error("the key source is unavailable: {0}")]
    Unavailable(String),
    /// The key source answered, and the answer rules the key out (not an `assertionMethod`,
    /// unreadable): the verdict is [`JwtVerdict::Invalid`](super::JwtVerdict::Invalid).
    #[error("{0}")]
    Refused(String),
}

/// Finds the key that should have signed a token. The caller implements it over what it trusts:
/// JWKS and DID documents it has loaded (see [`TrustedKeys`]), a key store, ….
///
/// Implementations do no verification themselves: [`verify`](super::verify()) checks that the key fits the
/// algorithm, belongs to the issuer (when [`ResolvedKey::controller`] is given, and always for a
/// DID `kid` and a DID issuer) and agrees with any `jwk` in the header.
pub trait KeyResolver {
    /// The key for `lookup`, or `Ok(None)` when none is known.
    ///
    /// # Errors
    /// [`KeyResolutionError`] when the key source is unavailable or rules the key out.
    fn resolve(&self, lookup: &KeyLookup<'_>) -> Result<Option<ResolvedKey>, KeyResolutionError>;

    /// Keys to try one after the other when [`resolve`](KeyResolver::resolve) found none for a
    /// token that names no key (no `kid`, no header `jwk`): the first whose signature verifies is
    /// the key. At most [`MAX_CANDIDATE_KEYS`] are tried. None by default.
    ///
    /// # Errors
    /// As [`resolve`](KeyResolver::resolve).
    fn candidates(&self, lookup: &KeyLookup<'_>) -> Result<Vec<ResolvedKey>, KeyResolutionError> {
        let _ = lookup;
        Ok(Vec::new())
    }

    /// Whether a public key carried in the token's own header (`jwk`) may be used when no key is
    /// resolved. Such a key is not bound to the issuer: anyone can make a token that verifies with
    /// the key it carries. `false` unless the caller knowingly opts in (for example to read 1EdTech
    /// test fixtures).
    fn accepts_header_jwk(&self) -> bool {
        false
    }
}

/// A [`KeyResolver`] over keys the caller has gathered: JWKS entries, DID documents, single keys.
/// It also resolves any `did:key` offline, since such a DID *is* its key.
///
/// A `kid` is looked up exactly. A token without one gets the key its header `jwk` names (a held key
/// with the same RFC 7638 thumbprint, or whose `kid` is that thumbprint), else the issuer's
/// `did:key`, else the one key whose controller is the issuer, else the only key held; failing all
/// that, its [candidates](KeyResolver::candidates) are the held keys of the token's algorithm that
/// the caller vouches for or that are the issuer's.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
    header_jwk: bool,
    pub(super) did_keys: DidKeyCache,
}

/// The `did:key`s this resolver has read, with their keys: reading one decodes base58 and
/// decompresses a curve point, about a twentieth of a VC-JWT verification, and a verifier sees the
/// same few issuers again and again. Bounded; the oldest entry goes first.
#[derive(Debug, Default)]
pub(super) struct DidKeyCache(pub(super) std::sync::RwLock<std::collections::VecDeque<(String, VerificationKey)>>);

/// How many `did:key`s a [`TrustedKeys`] remembers.
pub(super) const DID_KEY_CACHE_SIZE: usize = 16;

impl DidKeyCache {
    pub(super) fn get_or_read(&self, did_or_url: &str) -> Result<VerificationKey, VerificationKeyError> {
        let read = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, key)) = read.iter().find(|(known, _)| known == did_or_url) {
            return Ok(key.clone());
        }
        drop(read);
        let key = VerificationKey::from_did_key(did_or_url)?;
        let mut write = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if write.len() == DID_KEY_CACHE_SIZE {
            write.pop_front();
        }
        write.push_back((did_or_url.to_owned(), key.clone()));
        Ok(key)
    }
}

impl Clone for DidKeyCache {
    fn clone(&self) -> Self {
        Self(std::sync::RwLock::new(self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()))
    }
}

#[derive(Debug, Clone)]
struct TrustedKey {
    kid: Option<String>,
    /// The key's RFC 7638 thumbprint, for tokens that name their key by a header `jwk`.
    thumbprint: String,
    key: VerificationKey,
    controller: Option<String>,
}

impl TrustedKey {
    fn new(kid: Option<String>, key: VerificationKey, controller: Option<String>) -> Self {
        Self { kid, thumbprint: key.thumbprint(), key, controller }
    }
}

impl TrustedKeys {
    /// No keys yet: resolves `did:key` only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` under `kid`, vouched for by the caller for any issuer.
    pub fn with_key(mut self, kid: impl Into<String>, key: VerificationKey) -> Self {
        self.keys.push(TrustedKey::new(Some(kid.into()), key, None));
        self
    }

    /// Adds `key` under `kid` as a key of `issuer` only: tokens of other issuers are refused.
    pub fn with_issuer_key(mut self, issuer: impl Into<String>, kid: impl Into<String>, key: VerificationKey) -> Self {
        self.keys.push(TrustedKey::new(Some(kid.into()), key, Some(issuer.into())));
        self
    }

    /// Adds every key of a JWKS (`{"keys": [...]}`, RFC 7517 §5) under its `kid`, vouched for by the
    /// caller.
    ///
    /// # Errors
    /// [`VerificationKeyError`] when the set is not an object with a `keys` array or a key is unusable.
    pub fn with_jwks(mut self, jwks: &Value) -> Result<Self, VerificationKeyError> {
        let entries = jwks.get("keys").and_then(Value::as_array).ok_or(VerificationKeyError::MissingMember("keys"))?;
        for jwk in entries {
            let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
            self.keys.push(TrustedKey::new(kid, VerificationKey::from_jwk(jwk)?, None));
        }
        Ok(self)
    }

    /// Adds the keys a DID document authorises for credentials (its `assertionMethod` entries,
    /// referenced or embedded) under their absolute method ids, as keys of the document's DID.
    /// Entries of types this module does not read are skipped.
    ///
    /// # Errors
    /// [`VerificationKeyError::NoAssertionKey`] when the document has no `id` or no usable
    /// assertion key.
    pub fn with_did_document(mut self, document: &Value) -> Result<Self, VerificationKeyError> {
        let did = document.get("id").and_then(Value::as_str).ok_or_else(|| VerificationKeyError::NoAssertionKey(String::new()))?;
        let absolute = |id: &str| if id.starts_with('#') { format!("{did}{id}") } else { id.to_owned() };
        let methods = document.get("verificationMethod").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let before = self.keys.len();
        for entry in document.get("assertionMethod").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
            let method = match entry {
                Value::String(reference) => {
                    let reference = absolute(reference);
                    methods.iter().find(|method| method.get("id").and_then(Value::as_str).map(absolute).as_deref() == Some(reference.as_str()))
                }
                Value::Object(_) => Some(entry),
                _ => None,
            };
            let Some(method) = method else { continue };
            let (Some(id), Ok(key)) = (method.get("id").and_then(Value::as_str), VerificationKey::from_verification_method(method)) else {
                continue;
            };
            self.keys.push(TrustedKey::new(Some(absolute(id)), key, Some(did.to_owned())));
        }
        if self.keys.len() == before {
            return Err(VerificationKeyError::NoAssertionKey(shorten(did)));
        }
        Ok(self)
    }

    /// Also accepts a key carried in the token's header when nothing else resolves (see
    /// [`KeyResolver::accepts_header_jwk`]: that key is not bound to the issuer).
    pub fn allowing_header_jwk(mut self) -> Self {
        self.header_jwk = true;
        self
    }
}

impl KeyResolver for TrustedKeys {
    fn resolve(&self, lookup: &KeyLookup<'_>) -> Result<Option<ResolvedKey>, KeyResolutionError> {
        let found = |entry: &TrustedKey| Some(ResolvedKey { key: entry.key.clone(), controller: entry.controller.clone() });
        let did_key = |did_or_url: &str| {
            self.did_keys
                .get_or_read(did_or_url)
                .map(|key| Some(ResolvedKey { key, controller: Some(did_of(did_or_url).to_owned()) }))
                .map_err(|error| KeyResolutionError::Refused(error.to_string()))
        };
        if let Some(kid) = lookup.kid {
            if let Some(entry) = self.keys.iter().find(|entry| entry.kid.as_deref() == Some(kid)) {
                return Ok(found(entry));
            }
            return if kid.starts_with("did:key:") { did_key(kid) } else { Ok(None) };
        }
        if let Some(jwk) = lookup.jwk {
            let thumbprint = jwk.thumbprint();
            if let Some(entry) = self.keys.iter().find(|entry| entry.thumbprint == thumbprint || entry.kid.as_deref() == Some(thumbprint.as_str())) {
                return Ok(found(entry));
            }
        }
        if let Some(issuer) = lookup.issuer.filter(|issuer| issuer.starts_with("did:key:")) {
            return did_key(issuer);
        }
        let mut of_issuer = self.keys.iter().filter(|entry| entry.controller.is_some() && entry.controller.as_deref() == lookup.issuer);
        if let (Some(entry), None) = (of_issuer.next(), of_issuer.next()) {
            return Ok(found(entry));
        }
        Ok(match self.keys.as_slice() {
            [only] if only.controller.is_none() => found(only),
            _ => None,
        })
    }

    fn candidates(&self, lookup: &KeyLookup<'_>) -> Result<Vec<ResolvedKey>, KeyResolutionError> {
        if lookup.kid.is_some() || lookup.jwk.is_some() {
            return Ok(Vec::new());
        }
        Ok(self
            .keys
            .iter()
            .filter(|entry| entry.key.algorithm() == lookup.algorithm)
            .filter(|entry| entry.controller.is_none() || entry.controller.as_deref() == lookup.issuer)
            .take(MAX_CANDIDATE_KEYS)
            .map(|entry| ResolvedKey { key: entry.key.clone(), controller: entry.controller.clone() })
            .collect())
    }

    fn accepts_header_jwk(&self) -> bool {
        self.header_jwk
    }
}
