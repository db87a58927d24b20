//! VC-JWT (VC-JOSE-COSE and the OB 3.0 JWT rules): EdDSA signing; EdDSA, ES256 and RS256 verification.
//!
//! Open Badges 3.0 §8.2 "JSON Web Token Proof Format" secures a credential as a compact JWS whose
//! payload *is* the credential (VC 2.0 form), with the registered claims beside its members:
//! `iss` = `issuer.id`, `sub` = `credentialSubject.id`, `jti` = `id`, `nbf` = `validFrom` and
//! `exp` = `validUntil`. Credentials made after VC-JWT 1.1 sit under a `vc` claim instead; they are
//! still read, with a warning.
//!
//! * [`sign`] makes such a token with an Ed25519 key (`alg: EdDSA`).
//! * [`verify`] checks one, signed with EdDSA, ES256 or RS256, and answers with a
//!   [`JwtVerification`]: a verdict, the checks made and, once the signature holds, the credential.
//!   A bad token is a verdict, not an `Err`.
//! * Keys come through a [`KeyResolver`] the caller supplies; [`TrustedKeys`] is a ready one that
//!   holds keys from JWKS and DID documents the caller has loaded, and resolves `did:key` offline.
//!   [`VerificationKey`] reads JWKs, DID verification methods and `did:key`s.
//!
//! ```
//! use cairn_vc::keys::Ed25519KeyPair;
//! use cairn_vc::did;
//! use cairn_vc::suites::vc_jwt::{self, JwtVerdict, TrustedKeys};
//! use serde_json::json;
//!
//! let key = Ed25519KeyPair::from_seed([7; 32]);
//! let issuer = did::did_key(&key.public_key_multibase());
//! let credential = json!({
//!     "@context": ["https://www.w3.org/ns/credentials/v2",
//!                  "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
//!     "id": "urn:uuid:3f1b9f8e-0c0e-4a53-9b8e-1c2d3e4f5a6b",
//!     "type": ["VerifiableCredential", "OpenBadgeCredential"],
//!     "issuer": {"id": issuer, "type": ["Profile"], "name": "Cairn Academy"},
//!     "validFrom": "2025-01-01T00:00:00Z",
//!     "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
//! });
//! let token = vc_jwt::sign(&credential, &key, &did::did_key_method(&key.public_key_multibase()))?;
//!
//! let now = 1_767_225_600; // 2026-01-01T00:00:00Z
//! let verification = vc_jwt::verify(&token, &TrustedKeys::new(), now, 60)?;
//! assert_eq!(verification.verdict, JwtVerdict::Valid);
//! assert_eq!(verification.credential.as_ref(), Some(&credential));
//! # Ok::<(), vc_jwt::JwtError>(())
//! ```
//!
//! The module is split along its stages: `sign`, `keys` ([`JwtAlgorithm`], [`VerificationKey`]),
//! `resolve` ([`KeyResolver`], [`TrustedKeys`]), `verify` and `dates`; this file holds the limits,
//! the errors and the helpers they share.

use serde_json::{Map, Value};

use crate::keys::KeyError;

mod dates;
mod keys;
mod resolve;
mod sign;
#[cfg(test)]
mod tests;
mod verify;

pub use keys::{JwtAlgorithm, VerificationKey};
pub use resolve::{KeyLookup, KeyResolutionError, KeyResolver, MAX_CANDIDATE_KEYS, ResolvedKey, TrustedKeys};
pub use sign::sign;
pub use verify::{CredentialForm, JwtCheck, JwtCheckId, JwtVerdict, JwtVerification, JwtWarning, verify};

/// The largest token [`verify`] reads: 1 MiB. Anything longer is refused before it is decoded.
pub const MAX_TOKEN_BYTES: usize = 1024 * 1024;

/// The JWT registered claims (RFC 7519 §4.1). They are not credential properties: [`sign`] refuses a
/// credential that already has a member of one of these names, and [`verify`] takes them out of the
/// credential it returns.
const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// The JOSE header parameters OB 3.0 §8.2 allows ("Additional JOSE Headers are NOT allowed").
const ALLOWED_HEADER_PARAMETERS: [&str; 4] = ["alg", "kid", "jwk", "typ"];

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a credential could not be signed, or [`verify`] was called wrongly.
///
/// A token that fails verification is not an error: it is a [`JwtVerification`] whose verdict says
/// so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The credential is not a JSON object.
    #[error("the credential is not a JSON object")]
    CredentialNotAnObject,
    /// The credential has no issuer id (`issuer` as a string, or `issuer.id`), needed for `iss`.
    #[error("the credential has no issuer id (\"issuer\" or \"issuer.id\"), which VC-JWT needs for \"iss\"")]
    MissingIssuer,
    /// The credential has no `id`, needed for `jti` (OB 3.0 §8.2 requires both).
    #[error("the credential has no \"id\", which OB 3.0 VC-JWT needs for \"jti\"")]
    MissingCredentialId,
    /// The credential has no `validFrom`, needed for `nbf` (OB 3.0 §8.2 requires both).
    #[error("the credential has no \"validFrom\", which OB 3.0 VC-JWT needs for \"nbf\"")]
    MissingValidFrom,
    /// A date is not an RFC 3339 date-time with a time zone (VC 2.0 `xsd:dateTimeStamp`).
    #[error("{property} {value} is not an RFC 3339 date-time with a time zone")]
    InvalidDateTime {
        /// The credential property.
        property: &'static str,
        /// Its value as JSON, shortened.
        value: String,
    },
    /// The credential already has a member named like a JWT registered claim.
    #[error("the credential already has a top-level {claim:?} member, which the JWT claim would replace")]
    ClaimCollision {
        /// The claim name.
        claim: &'static str,
    },
    /// The key id is empty.
    #[error("the key id is empty")]
    EmptyKeyId,
    /// The key id is a `did:key` URL for a different key than the one signing.
    #[error("key id {kid:?} is not the signing key's did:key ({expected:?})")]
    KeyIdDoesNotMatchKey {
        /// The key id given.
        kid: String,
        /// The signing key's Multikey.
        expected: String,
    },
    /// The key id is a DID URL of a different DID than the (DID) issuer; verifiers refuse that.
    #[error("key id {kid:?} belongs to another DID than the issuer {issuer:?}")]
    KeyIdNotIssuer {
        /// The key id given.
        kid: String,
        /// The credential's issuer id.
        issuer: String,
    },
    /// [`verify`] was given a negative clock skew.
    #[error("the maximum clock skew must not be negative (got {0} s)")]
    NegativeClockSkew(i64),
    /// The header or payload could not be encoded as JSON.
    #[error("cannot encode the token as JSON")]
    Encode(#[source] serde_json::Error),
}

/// Why a JWK, DID verification method or DID is not a usable verification key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationKeyError {
    /// The JWK or verification method is not a JSON object.
    #[error("the key is not a JSON object")]
    NotAnObject,
    /// A PEM public key is not an RSA `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS #1).
    #[error("the PEM is not an RSA public key: {0}")]
    Pem(&'static str),
    /// A required member is missing or not a string.
    #[error("the key has no string {0:?} member")]
    MissingMember(&'static str),
    /// The JWK `kty` is not OKP, EC or RSA.
    #[error("unsupported key type {0:?} (OKP, EC and RSA are supported)")]
    UnsupportedKeyType(String),
    /// The curve is not Ed25519 (OKP) or P-256 (EC).
    #[error("unsupported curve {0:?} (Ed25519 and P-256 are supported)")]
    UnsupportedCurve(String),
    /// A member is not unpadded base64url.
    #[error("{0:?} is not base64url")]
    Base64(&'static str),
    /// A member decodes to the wrong number of bytes.
    #[error("{member:?} is {got} bytes; expected {expected}")]
    Length {
        /// The member.
        member: &'static str,
        /// The expected length.
        expected: usize,
        /// The decoded length.
        got: usize,
    },
    /// The bytes are not a point of the curve.
    #[error("the public key is not a valid {0} point")]
    Point(&'static str),
    /// The RSA modulus is too small (or too large) for RS256.
    #[error("the RSA modulus is {0} bits; RS256 needs 2048 to 4096")]
    RsaModulusSize(usize),
    /// The RSA public exponent is even, below 3 or too large.
    #[error("the RSA public exponent is not usable")]
    RsaExponent,
    /// The JWK holds private key material (`d`); OB 3.0 §8.2: "The JWK MUST never contain d".
    #[error("the JWK holds a private key (\"d\"); only public keys are accepted")]
    PrivateKey,
    /// The JWK's `use` or `key_ops` rule out signature verification.
    #[error("the JWK is not for verifying signatures ({0})")]
    NotForVerification(String),
    /// The JWK's `alg` does not fit its key type, or is not supported.
    #[error("the JWK's \"alg\" is {alg:?}, which a {kty} key cannot be verified with here")]
    AlgorithmMismatch {
        /// The JWK `alg`.
        alg: String,
        /// The JWK `kty`.
        kty: &'static str,
    },
    /// The verification method type is not one this module reads.
    #[error("unsupported verification method type {0:?} (Multikey, Ed25519VerificationKey2020/2018, JsonWebKey, JsonWebKey2020)")]
    UnsupportedMethodType(String),
    /// Not a `did:key` DID or DID URL, or its fragment names another key.
    #[error("{0:?} is not an Ed25519 did:key")]
    NotDidKey(String),
    /// The DID document has no `id`, or none of its assertion methods is usable.
    #[error("DID document {0:?} has no usable assertionMethod key")]
    NoAssertionKey(String),
    /// A Multikey value is not an Ed25519 Multikey.
    #[error(transparent)]
    Multikey(#[from] KeyError),
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the stages
// ---------------------------------------------------------------------------------------------

/// The issuer id: `issuer` as a string, or `issuer.id`.
fn issuer_id(credential: &Map<String, Value>) -> Option<&str> {
    match credential.get("issuer")? {
        Value::String(id) => Some(id),
        Value::Object(issuer) => issuer.get("id")?.as_str(),
        _ => None,
    }
}

/// `credentialSubject.id`, of the first subject when there are several (as the peer verifiers do).
fn subject_id(credential: &Map<String, Value>) -> Option<&str> {
    let subject = match credential.get("credentialSubject")? {
        Value::Array(subjects) => subjects.first()?,
        subject => subject,
    };
    subject.get("id")?.as_str()
}

/// The DID part of a DID URL (before any `#`).
fn did_of(did_url: &str) -> &str {
    did_url.split_once('#').map_or(did_url, |(did, _)| did)
}

/// A JSON value for a message: strings without their quotes, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// At most 100 characters of `text`, for messages about untrusted input.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 100;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
