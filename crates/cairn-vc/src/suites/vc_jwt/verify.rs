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

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::keys::{self, Ed25519KeyPair, KeyError};

/// The largest token [`verify`] reads: 1 MiB. Anything longer is refused before it is decoded.
pub const MAX_TOKEN_BYTES: usize = 1024 * 1024;

/// The JWT registered claims (RFC 7519 §4.1). They are not credential properties: [`sign`] refuses a
/// credential that already has a member of one of these names, and [`verify`] takes them out of the
/// credential it returns.
const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// The JOSE header parameters OB 3.0 §8.2 allows ("Additional JOSE Headers are NOT allowed").
const ALLOWED_HEADER_PARAMETERS: [&str; 4] = ["alg", "kid", "jwk", "typ"];

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"; 4096 is the most the RSA
/// implementation underneath accepts.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

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
// Signing
// ---------------------------------------------------------------------------------------------

/// Signs `credential` as an OB 3.0 VC-JWT (compact JWS, `alg: EdDSA`) with `key`, naming the key
/// `kid` (a DID URL such as `did:key:z6Mk…#z6Mk…` or `did:web:…#key-1`).
///
/// The header is `{"alg":"EdDSA","typ":"JWT","kid":kid}`. It carries **no `jwk`**: OB 3.0 §8.2
/// needs `kid` or `jwk`, and a key in the token only means something once a verifier has checked it
/// against the issuer's own key (the `kid`'s DID document or JWKS), which it can fetch by `kid`
/// anyway. A careless verifier that trusts a header `jwk` outright accepts tokens anyone can make;
/// not sending one keeps Cairn's tokens out of that path, and about 100 bytes shorter.
///
/// The payload is the credential, unchanged, with the OB 3.0 §8.2 registered claims added:
/// `iss` = issuer id, `sub` = `credentialSubject.id` (when there is one), `jti` = `id`,
/// `nbf` = `validFrom`, `exp` = `validUntil` (when there is one) and `iat` = `nbf`. `iat` is the
/// credential's `validFrom` rather than the clock, so that this crate reads no clock and the same
/// credential and key always give the same token (Ed25519 is deterministic), which lets tests pin
/// tokens byte for byte.
///
/// # Errors
/// [`JwtError`] when the credential is not an object, lacks an issuer id, `id` or `validFrom`, has
/// a date that is not RFC 3339 with a time zone, or already has a member named like a registered
/// claim; or when `kid` is empty, is the `did:key` of another key, or is a DID URL of another DID
/// than a DID issuer.
pub fn sign(credential: &Value, key: &Ed25519KeyPair, kid: &str) -> Result<String, JwtError> {
    let Value::Object(members) = credential else {
        return Err(JwtError::CredentialNotAnObject);
    };
    if kid.is_empty() {
        return Err(JwtError::EmptyKeyId);
    }
    if let Some(claim) = REGISTERED_CLAIMS.into_iter().find(|claim| members.contains_key(*claim)) {
        return Err(JwtError::ClaimCollision { claim });
    }
    let issuer = issuer_id(members).ok_or(JwtError::MissingIssuer)?;
    check_key_id(kid, key, issuer)?;
    let id = members.get("id").and_then(Value::as_str).ok_or(JwtError::MissingCredentialId)?;
    let not_before = members.get("validFrom").ok_or(JwtError::MissingValidFrom).and_then(|value| signing_date("validFrom", value))?;
    let expires = members.get("validUntil").map(|value| signing_date("validUntil", value)).transpose()?;

    let header = SignedHeader { alg: "EdDSA", typ: "JWT", kid };
    let payload = SignedPayload { credential: members, iss: issuer, sub: subject_id(members), jti: id, nbf: not_before, iat: not_before, exp: expires };
    let header = serde_json::to_vec(&header).map_err(JwtError::Encode)?;
    let payload = {
        // Credentials are a few KB; starting there saves the small reallocations.
        let mut json = Vec::with_capacity(4096);
        serde_json::to_writer(&mut json, &payload).map_err(JwtError::Encode)?;
        json
    };

    let mut token = String::with_capacity((header.len() + payload.len() + 64) * 4 / 3 + 8);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The JOSE header [`sign`] writes.
#[derive(Serialize)]
struct SignedHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// The JWT payload [`sign`] writes: the credential's members, then the registered claims.
#[derive(Serialize)]
struct SignedPayload<'a> {
    #[serde(flatten)]
    credential: &'a Map<String, Value>,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    jti: &'a str,
    nbf: i64,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Catches the two `kid` mistakes a verifier would reject: a `did:key` of another key, and a DID URL
/// of another DID than a DID issuer.
fn check_key_id(kid: &str, key: &Ed25519KeyPair, issuer: &str) -> Result<(), JwtError> {
    let kid_did = did_of(kid);
    if let Some(multibase) = kid_did.strip_prefix("did:key:")
        && multibase != key.multibase()
    {
        return Err(JwtError::KeyIdDoesNotMatchKey { kid: shorten(kid), expected: key.public_key_multibase() });
    }
    if kid_did.starts_with("did:") && issuer.starts_with("did:") && kid_did != issuer {
        return Err(JwtError::KeyIdNotIssuer { kid: shorten(kid), issuer: shorten(issuer) });
    }
    Ok(())
}

/// A credential date for signing: RFC 3339 with a time zone, as epoch seconds.
fn signing_date(property: &'static str, value: &Value) -> Result<i64, JwtError> {
    value
        .as_str()
        .and_then(parse_date_time)
        .filter(|date| date.has_offset)
        .map(|date| date.seconds)
        .ok_or_else(|| JwtError::InvalidDateTime { property, value: shorten(&value.to_string()) })
}

// ---------------------------------------------------------------------------------------------
// Algorithms and keys
// ---------------------------------------------------------------------------------------------

/// The JWS algorithms [`verify`] accepts (RFC 7518 §3.1, RFC 8037). Everything else is refused:
/// `none`, the HMAC family and algorithms this module does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// `EdDSA` with Ed25519 (RFC 8037), what [`sign`] uses.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// `ES256`: ECDSA with P-256 and SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// `RS256`: RSASSA-PKCS1-v1_5 with SHA-256, the OB 3.0 §8.2 minimum.
    #[serde(rename = "RS256")]
    Rs256,
}

impl JwtAlgorithm {
    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm whose JOSE `alg` name is exactly `name` (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "EdDSA" => Some(Self::EdDsa),
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }

    /// The key type the algorithm needs, as people say it.
    fn key_type(self) -> &'static str {
        match self {
            Self::EdDsa => "an Ed25519 key",
            Self::Es256 => "a P-256 key",
            Self::Rs256 => "an RSA key",
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key that checks VC-JWT signatures: Ed25519, P-256 or RSA (2048–4096 bits).
///
/// Made from a JWK, a DID verification method, a `did:key` or raw Ed25519 bytes, and checked when
/// made: an Ed25519 or P-256 key is a curve point, an RSA key is large enough. Each key fits exactly
/// one algorithm ([`VerificationKey::algorithm`]), so a token cannot pick another one for it.
#[derive(Clone)]
pub struct VerificationKey {
    material: KeyMaterial,
}

#[derive(Clone)]
enum KeyMaterial {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256 { x: [u8; 32], y: [u8; 32], decoding: DecodingKey },
    Rsa { n: Vec<u8>, e: Vec<u8>, decoding: DecodingKey },
}

impl VerificationKey {
    /// The Ed25519 key with these 32 public key bytes.
    ///
    /// # Errors
    /// [`VerificationKeyError::Point`] when the bytes are not an Ed25519 point, or are one of the
    /// few small-order ("weak") points, for which signatures can be made without any private key.
    pub fn ed25519(public_key: &[u8; 32]) -> Result<Self, VerificationKeyError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(public_key).map_err(|_| VerificationKeyError::Point("Ed25519"))?;
        if key.is_weak() {
            return Err(VerificationKeyError::Point("Ed25519 (it has small order)"));
        }
        Ok(Self { material: KeyMaterial::Ed25519(key) })
    }

    /// The key of a public JWK (RFC 7517): `OKP`/`Ed25519` (`x`), `EC`/`P-256` (`x`, `y`) or `RSA`
    /// (`n`, `e`). `alg`, `use` and `key_ops`, when present, must allow verifying with the key's
    /// algorithm; other members (`kid`, …) are ignored.
    ///
    /// # Errors
    /// [`VerificationKeyError`] for a private key (`d`), another key type or curve, bad base64url,
    /// wrong lengths, a point off the curve, an RSA modulus outside 2048–4096 bits, or `alg`/`use`/
    /// `key_ops` that rule the key out.
    pub fn from_jwk(jwk: &Value) -> Result<Self, VerificationKeyError> {
        let Value::Object(jwk) = jwk else {
            return Err(VerificationKeyError::NotAnObject);
        };
        if jwk.contains_key("d") {
            return Err(VerificationKeyError::PrivateKey);
        }
        let (kty, key) = match member(jwk, "kty")? {
            "OKP" => match member(jwk, "crv")? {
                "Ed25519" => ("OKP", Self::ed25519(&fixed_bytes::<32>(jwk, "x")?)?),
                other => return Err(VerificationKeyError::UnsupportedCurve(shorten(other))),
            },
            "EC" => match member(jwk, "crv")? {
                "P-256" => ("EC", Self::p256(fixed_bytes::<32>(jwk, "x")?, fixed_bytes::<32>(jwk, "y")?)?),
                other => return Err(VerificationKeyError::UnsupportedCurve(shorten(other))),
            },
            "RSA" => ("RSA", Self::rsa(&base64_member(jwk, "n")?, &base64_member(jwk, "e")?)?),
            other => return Err(VerificationKeyError::UnsupportedKeyType(shorten(other))),
        };
        if let Some(alg) = jwk.get("alg")
            && alg.as_str().and_then(JwtAlgorithm::from_name) != Some(key.algorithm())
        {
            return Err(VerificationKeyError::AlgorithmMismatch { alg: shorten(&value_text(alg)), kty });
        }
        if let Some(usage) = jwk.get("use")
            && usage.as_str() != Some("sig")
        {
            return Err(VerificationKeyError::NotForVerification(format!("use {}", shorten(&usage.to_string()))));
        }
        if let Some(operations) = jwk.get("key_ops") {
            let verifies = operations.as_array().is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
            if !verifies {
                return Err(VerificationKeyError::NotForVerification(format!("key_ops {}", shorten(&operations.to_string()))));
            }
        }
        Ok(key)
    }

    /// The RSA key of a PEM public key: `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo, RFC
    /// 5280 §4.1, with the `rsaEncryption` algorithm) or `-----BEGIN RSA PUBLIC KEY-----`
    /// (PKCS #1 `RSAPublicKey`, RFC 8017 §A.1.1), as OB 2.0 `CryptographicKey.publicKeyPem` holds.
    ///
    /// # Errors
    /// [`VerificationKeyError::Pem`] when the text is not such a PEM, and the RSA errors of
    /// [`VerificationKey::from_jwk`] for a modulus outside 2048–4096 bits or a bad exponent.
    pub fn from_rsa_pem(pem: &str) -> Result<Self, VerificationKeyError> {
        let (label, der) = pem_block(pem)?;
        let public_key = match label {
            "PUBLIC KEY" => {
                // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
                let info = der_expect(&der, 0x30)?.0;
                let (algorithm, rest) = der_expect(info, 0x30)?;
                let (oid, _parameters) = der_expect(algorithm, 0x06)?;
                if oid != RSA_ENCRYPTION_OID {
                    return Err(VerificationKeyError::Pem("the key's algorithm is not rsaEncryption"));
                }
                match der_expect(rest, 0x03)?.0 {
                    [0, key @ ..] => key.to_vec(),
                    _ => return Err(VerificationKeyError::Pem("the key's bit string has unused bits")),
                }
            }
            "RSA PUBLIC KEY" => der,
            _ => return Err(VerificationKeyError::Pem("the PEM label is neither PUBLIC KEY nor RSA PUBLIC KEY")),
        };
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        let sequence = der_expect(&public_key, 0x30)?.0;
        let (modulus, rest) = der_expect(sequence, 0x02)?;
        let (exponent, rest) = der_expect(rest, 0x02)?;
        if !rest.is_empty() {
            return Err(VerificationKeyError::Pem("trailing data after the RSA key"));
        }
        Self::rsa(modulus, exponent)
    }

    /// The key of a `did:key` DID or DID URL (`did:key:z6Mk…` or `did:key:z6Mk…#z6Mk…`), read from
    /// the identifier itself: no resolution, no I/O. Only Ed25519 `did:key`s are supported.
    ///
    /// # Errors
    /// [`VerificationKeyError::NotDidKey`] for anything else, or a fragment that names another key.
    pub fn from_did_key(did_or_url: &str) -> Result<Self, VerificationKeyError> {
        let refuse = || VerificationKeyError::NotDidKey(shorten(did_or_url));
        let (did, fragment) = match did_or_url.split_once('#') {
            Some((did, fragment)) => (did, Some(fragment)),
            None => (did_or_url, None),
        };
        let multibase = did.strip_prefix("did:key:").ok_or_else(refuse)?;
        if fragment.is_some_and(|fragment| fragment != multibase) {
            return Err(refuse());
        }
        let public_key = keys::decode_public_key_multibase(multibase).map_err(|_| refuse())?;
        Self::ed25519(&public_key)
    }

    /// The key of a DID document verification method: `Multikey` or `Ed25519VerificationKey2020`
    /// (`publicKeyMultibase`, an Ed25519 `z6Mk…`), `Ed25519VerificationKey2018` (`publicKeyBase58`),
    /// or `JsonWebKey`/`JsonWebKey2020` (`publicKeyJwk`, see [`VerificationKey::from_jwk`]).
    ///
    /// Whether the method may be used for credentials (`assertionMethod`) is the DID document's
    /// business: [`TrustedKeys::with_did_document`] checks that.
    ///
    /// # Errors
    /// [`VerificationKeyError`] for another method type or a key it cannot read.
    pub fn from_verification_method(method: &Value) -> Result<Self, VerificationKeyError> {
        let Value::Object(method) = method else {
            return Err(VerificationKeyError::NotAnObject);
        };
        match member(method, "type")? {
            "Multikey" | "Ed25519VerificationKey2020" => Self::ed25519(&keys::decode_public_key_multibase(member(method, "publicKeyMultibase")?)?),
            "Ed25519VerificationKey2018" => {
                let encoded = member(method, "publicKeyBase58")?;
                let bytes = bs58::decode(encoded).into_vec().map_err(|_| VerificationKeyError::Base64("publicKeyBase58"))?;
                let public_key: [u8; 32] =
                    bytes.as_slice().try_into().map_err(|_| VerificationKeyError::Length { member: "publicKeyBase58", expected: 32, got: bytes.len() })?;
                Self::ed25519(&public_key)
            }
            "JsonWebKey" | "JsonWebKey2020" => Self::from_jwk(method.get("publicKeyJwk").ok_or(VerificationKeyError::MissingMember("publicKeyJwk"))?),
            other => Err(VerificationKeyError::UnsupportedMethodType(shorten(other))),
        }
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> JwtAlgorithm {
        match self.material {
            KeyMaterial::Ed25519(_) => JwtAlgorithm::EdDsa,
            KeyMaterial::P256 { .. } => JwtAlgorithm::Es256,
            KeyMaterial::Rsa { .. } => JwtAlgorithm::Rs256,
        }
    }

    /// The key as a public JWK (`kty`, `crv`, `x`, `y`, `n`, `e` only), for a JWKS or a DID
    /// document's `publicKeyJwk`.
    pub fn to_jwk(&self) -> Value {
        let encode = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
        match &self.material {
            KeyMaterial::Ed25519(key) => {
                serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": encode(key.as_bytes())})
            }
            KeyMaterial::P256 { x, y, .. } => serde_json::json!({"kty": "EC", "crv": "P-256", "x": encode(x), "y": encode(y)}),
            KeyMaterial::Rsa { n, e, .. } => serde_json::json!({"kty": "RSA", "n": encode(n), "e": encode(e)}),
        }
    }

    fn p256(x: [u8; 32], y: [u8; 32]) -> Result<Self, VerificationKeyError> {
        let mut point = [0_u8; 65];
        point[0] = 0x04; // SEC 1 uncompressed point: 0x04 || x || y.
        point[1..33].copy_from_slice(&x);
        point[33..].copy_from_slice(&y);
        // jsonwebtoken's "EC DER" key is the SEC 1 point. Building its ES256 verifier parses the
        // point, so this is where a point off the curve is caught, once, rather than at each token.
        let decoding = DecodingKey::from_ec_der(&point);
        (DEFAULT_PROVIDER.verifier_factory)(&Algorithm::ES256, &decoding).map_err(|_| VerificationKeyError::Point("P-256"))?;
        Ok(Self { material: KeyMaterial::P256 { x, y, decoding } })
    }

    fn rsa(modulus: &[u8], exponent: &[u8]) -> Result<Self, VerificationKeyError> {
        let n = strip_leading_zeros(modulus);
        let e = strip_leading_zeros(exponent);
        let bits = n.first().map_or(0, |top| (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize));
        if !RSA_MODULUS_BITS.contains(&bits) || n.last().is_some_and(|low| low % 2 == 0) {
            return Err(VerificationKeyError::RsaModulusSize(bits));
        }
        // The RSA implementation underneath takes exponents from 3 up to 2^33 - 1; an even one is
        // never a public exponent.
        let exponent_value = (e.len() <= 8).then(|| e.iter().fold(0_u64, |value, byte| value << 8 | u64::from(*byte)));
        if !exponent_value.is_some_and(|value| (3..1 << 33).contains(&value) && value % 2 == 1) {
            return Err(VerificationKeyError::RsaExponent);
        }
        let decoding = DecodingKey::from_rsa_raw_components(n, e);
        Ok(Self { material: KeyMaterial::Rsa { n: n.to_vec(), e: e.to_vec(), decoding } })
    }

    /// Checks a JWS signature made with this key's algorithm over `message`.
    pub(crate) fn check_signature(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        let expected_length = match &self.material {
            KeyMaterial::Ed25519(_) | KeyMaterial::P256 { .. } => 64,
            KeyMaterial::Rsa { n, .. } => n.len(),
        };
        if signature.len() != expected_length {
            return Err(format!("the signature is {} bytes; an {} signature with this key is {expected_length}", signature.len(), self.algorithm()));
        }
        let holds = match &self.material {
            // RFC 8032 §5.1.7 without the cofactor, as OpenSSL (behind PyJWT and jwcrypto) does: `S`
            // must be canonical, and small-order keys never get this far (see `ed25519`).
            // `verify_strict` would also refuse a small-order `R`, which costs a point
            // decompression (8 % of a verification) and protects nothing once the key is sound.
            KeyMaterial::Ed25519(key) => {
                ed25519_dalek::Signature::from_slice(signature).is_ok_and(|signature| ed25519_dalek::Verifier::verify(key, message, &signature).is_ok())
            }
            KeyMaterial::P256 { decoding, .. } => verify_with_jsonwebtoken(Algorithm::ES256, decoding, message, signature),
            KeyMaterial::Rsa { decoding, .. } => verify_with_jsonwebtoken(Algorithm::RS256, decoding, message, signature),
        };
        if holds { Ok(()) } else { Err(format!("the signature does not verify with the {}", self.describe())) }
    }

    /// The kind of key, for check details.
    fn kind(&self) -> &'static str {
        match self.material {
            KeyMaterial::Ed25519(_) => "Ed25519 key",
            KeyMaterial::P256 { .. } => "P-256 key",
            KeyMaterial::Rsa { .. } => "RSA key",
        }
    }

    /// A short description naming the key, for failure details.
    fn describe(&self) -> String {
        match &self.material {
            KeyMaterial::Ed25519(key) => format!("Ed25519 key {}", keys::public_key_multibase(key.as_bytes())),
            KeyMaterial::P256 { x, .. } => format!("P-256 key x={}", URL_SAFE_NO_PAD.encode(&x[..8])),
            KeyMaterial::Rsa { n, .. } => format!("RSA-{} key n={}…", n.len() * 8, URL_SAFE_NO_PAD.encode(&n[..8.min(n.len())])),
        }
    }
}

fn verify_with_jsonwebtoken(algorithm: Algorithm, key: &DecodingKey, message: &[u8], signature: &[u8]) -> bool {
    (DEFAULT_PROVIDER.verifier_factory)(&algorithm, key).is_ok_and(|verifier| verifier.verify(message, &signature.to_vec()).is_ok())
}

impl PartialEq for VerificationKey {
    fn eq(&self, other: &Self) -> bool {
        match (&self.material, &other.material) {
            (KeyMaterial::Ed25519(a), KeyMaterial::Ed25519(b)) => a == b,
            (KeyMaterial::P256 { x: ax, y: ay, .. }, KeyMaterial::P256 { x: bx, y: by, .. }) => ax == bx && ay == by,
            (KeyMaterial::Rsa { n: an, e: ae, .. }, KeyMaterial::Rsa { n: bn, e: be, .. }) => an == bn && ae == be,
            _ => false,
        }
    }
}

impl Eq for VerificationKey {}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerificationKey({})", self.describe())
    }
}

// ---------------------------------------------------------------------------------------------
// Key resolution
// ---------------------------------------------------------------------------------------------

/// What [`verify`] asks a [`KeyResolver`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLookup<'a> {
    /// The token's `kid`, made absolute against a DID issuer when it is a bare fragment (`#key-1`).
    pub kid: Option<&'a str>,
    /// The credential's issuer id.
    pub issuer: Option<&'a str>,
    /// The token's algorithm.
    pub algorithm: JwtAlgorithm,
}

/// A key a [`KeyResolver`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    /// The key.
    pub key: VerificationKey,
    /// Whose key it is (the DID whose document lists it), when the resolver knows: [`verify`] then
    /// requires it to be the credential's issuer. `None` means the caller vouches for the key.
    pub controller: Option<String>,
}

/// Why a [`KeyResolver`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyResolutionError {
    /// The key source could not be consulted (a DID document or JWKS that did not load): the token
    /// cannot be judged, and the verdict is [`JwtVerdict::Indeterminate`].
    #[error("the key source is unavailable: {0}")]
    Unavailable(String),
    /// The key source answered, and the answer rules the key out (not an `assertionMethod`,
    /// unreadable): the verdict is [`JwtVerdict::Invalid`].
    #[error("{0}")]
    Refused(String),
}

/// Finds the key that should have signed a token. The caller implements it over what it trusts:
/// JWKS and DID documents it has loaded (see [`TrustedKeys`]), a key store, ….
///
/// Implementations do no verification themselves: [`verify`] checks that the key fits the
/// algorithm, belongs to the issuer (when [`ResolvedKey::controller`] is given, and always for a
/// DID `kid` and a DID issuer) and agrees with any `jwk` in the header.
pub trait KeyResolver {
    /// The key for `lookup`, or `Ok(None)` when none is known.
    ///
    /// # Errors
    /// [`KeyResolutionError`] when the key source is unavailable or rules the key out.
    fn resolve(&self, lookup: &KeyLookup<'_>) -> Result<Option<ResolvedKey>, KeyResolutionError>;

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
/// A `kid` is looked up exactly. A token without one gets the issuer's `did:key`, else the one key
/// whose controller is the issuer, else the only key held.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
    header_jwk: bool,
    did_keys: DidKeyCache,
}

/// The `did:key`s this resolver has read, with their keys: reading one decodes base58 and
/// decompresses a curve point, about a twentieth of a VC-JWT verification, and a verifier sees the
/// same few issuers again and again. Bounded; the oldest entry goes first.
#[derive(Debug, Default)]
struct DidKeyCache(std::sync::RwLock<std::collections::VecDeque<(String, VerificationKey)>>);

/// How many `did:key`s a [`TrustedKeys`] remembers.
const DID_KEY_CACHE_SIZE: usize = 16;

impl DidKeyCache {
    fn get_or_read(&self, did_or_url: &str) -> Result<VerificationKey, VerificationKeyError> {
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
    key: VerificationKey,
    controller: Option<String>,
}

impl TrustedKeys {
    /// No keys yet: resolves `did:key` only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` under `kid`, vouched for by the caller for any issuer.
    pub fn with_key(mut self, kid: impl Into<String>, key: VerificationKey) -> Self {
        self.keys.push(TrustedKey { kid: Some(kid.into()), key, controller: None });
        self
    }

    /// Adds `key` under `kid` as a key of `issuer` only: tokens of other issuers are refused.
    pub fn with_issuer_key(mut self, issuer: impl Into<String>, kid: impl Into<String>, key: VerificationKey) -> Self {
        self.keys.push(TrustedKey { kid: Some(kid.into()), key, controller: Some(issuer.into()) });
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
            self.keys.push(TrustedKey { kid, key: VerificationKey::from_jwk(jwk)?, controller: None });
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
            self.keys.push(TrustedKey { kid: Some(absolute(id)), key, controller: Some(did.to_owned()) });
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

    fn accepts_header_jwk(&self) -> bool {
        self.header_jwk
    }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// The outcome of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JwtVerdict {
    /// Every check passed.
    Valid,
    /// A check failed: the token must not be trusted.
    Invalid,
    /// The key source was unavailable, so the token could not be judged.
    Indeterminate,
}

/// What a [`JwtCheck`] or [`JwtWarning`] is about. The snake_case names ([`JwtCheckId::name`]) are
/// stable: reports and API responses carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JwtCheckId {
    /// A compact JWS of at most [`MAX_TOKEN_BYTES`]: three base64url parts, JSON object header and
    /// payload.
    Format,
    /// `alg` is EdDSA, ES256 or RS256 (never `none` or HMAC).
    Algorithm,
    /// The other header parameters: no `crit`, `typ` is `JWT`, `kid` a string, `jwk` a public key.
    Header,
    /// A key was found, is the issuer's, fits `alg` and agrees with any header `jwk`.
    Key,
    /// The signature verifies.
    Signature,
    /// The payload holds a credential (native OB 3.0 form, or the VC 1.1 `vc` claim).
    Credential,
    /// `iss` equals the issuer id.
    IssClaim,
    /// `jti` equals the credential id.
    JtiClaim,
    /// `sub` equals `credentialSubject.id`.
    SubClaim,
    /// `nbf` is present and equals `validFrom` (VC 1.1: `issuanceDate`).
    NbfClaim,
    /// `exp` equals `validUntil` (VC 1.1: `expirationDate`).
    ExpClaim,
    /// `now` is not before `nbf` / `validFrom`, give or take the clock skew.
    ValidityStart,
    /// `now` is before `exp` / `validUntil`, give or take the clock skew.
    ValidityEnd,
}

impl JwtCheckId {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Format => "format",
            Self::Algorithm => "algorithm",
            Self::Header => "header",
            Self::Key => "key",
            Self::Signature => "signature",
            Self::Credential => "credential",
            Self::IssClaim => "iss_claim",
            Self::JtiClaim => "jti_claim",
            Self::SubClaim => "sub_claim",
            Self::NbfClaim => "nbf_claim",
            Self::ExpClaim => "exp_claim",
            Self::ValidityStart => "validity_start",
            Self::ValidityEnd => "validity_end",
        }
    }
}

impl fmt::Display for JwtCheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One check [`verify`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtCheck {
    /// What was checked.
    pub id: JwtCheckId,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in words.
    pub detail: String,
}

/// Something that does not fail the token but a reader should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtWarning {
    /// The check it belongs to.
    pub id: JwtCheckId,
    /// What, in words.
    pub detail: String,
}

/// Where the credential sits in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialForm {
    /// OB 3.0 §8.2 / VC-JOSE-COSE: the payload is the credential.
    Native,
    /// VC-JWT 1.1: the credential is the `vc` claim.
    VcClaim,
}

/// The answer of [`verify`]: the verdict, the checks in the order made, warnings, and the
/// credential once its signature holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwtVerification {
    /// Valid, invalid or indeterminate.
    pub verdict: JwtVerdict,
    /// The checks made; verification stops at the first failure that leaves nothing to check
    /// (format, algorithm, header, key, signature) and runs every claim check otherwise.
    pub checks: Vec<JwtCheck>,
    /// Things worth knowing that do not fail the token.
    pub warnings: Vec<JwtWarning>,
    /// The token's algorithm, once read.
    pub algorithm: Option<JwtAlgorithm>,
    /// The token's `kid` (absolute), if it has one.
    pub key_id: Option<String>,
    /// Where the credential sat, once read.
    pub form: Option<CredentialForm>,
    /// The credential, without the JWT registered claims, once the signature has verified (also
    /// when a claim check then fails, so that a report can show what expired). For the VC 1.1 form,
    /// properties the `vc` claim leaves out are filled from the claims (`id` from `jti`, `issuer`
    /// from `iss`, `issuanceDate` from `nbf`, `expirationDate` from `exp`, `credentialSubject.id`
    /// from `sub`), as VC-JWT 1.1 decoding says; each fill is a warning.
    pub credential: Option<Value>,
}

impl JwtVerification {
    /// Whether the verdict is [`JwtVerdict::Valid`].
    pub fn is_valid(&self) -> bool {
        self.verdict == JwtVerdict::Valid
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&JwtCheck> {
        self.checks.iter().find(|check| !check.ok)
    }
}

/// Verifies a VC-JWT as OB 3.0 §8.2.6 says, at time `now` (Unix seconds), allowing clocks to differ
/// by `max_clock_skew_secs`.
///
/// In order: the token is a compact JWS of at most [`MAX_TOKEN_BYTES`]; `alg` is EdDSA, ES256 or
/// RS256; the header has no `crit` (no extension is understood), `typ` is absent or `JWT`, and any
/// `jwk` is a public key; `keys` gives the key for the `kid` (a DID `kid` must name the issuer DID,
/// a resolved key's controller must be the issuer, and a header `jwk` must be that same key; the
/// header key alone is used only when `keys` accepts it); the key fits `alg`; the signature
/// verifies. Then the claims: `iss` is present and equals the issuer id; `jti` equals the credential
/// id (required when there is an id); `sub` equals `credentialSubject.id` (its absence is only a
/// warning, since 1EdTech's own fixtures omit it); `nbf` is present and equals `validFrom`; `exp`
/// equals `validUntil`; and `now` lies within `nbf`/`validFrom` and `exp`/`validUntil`, widened by
/// the skew (a token is expired from `exp` on, RFC 7519 §4.1.4).
///
/// A token that fails any of this is answered with [`JwtVerdict::Invalid`] (or
/// [`JwtVerdict::Indeterminate`] when the key source was unavailable) and the failed check's
/// reason. Malformed and oversized tokens are refused before any signature or large parse work.
///
/// # Errors
/// [`JwtError::NegativeClockSkew`] when `max_clock_skew_secs` is negative.
pub fn verify(jwt: &str, keys: &dyn KeyResolver, now: i64, max_clock_skew_secs: i64) -> Result<JwtVerification, JwtError> {
    if max_clock_skew_secs < 0 {
        return Err(JwtError::NegativeClockSkew(max_clock_skew_secs));
    }
    let mut run = Run::default();
    // `None` only means verification stopped early; the reason is already in `run.checks`.
    let _stopped_early = run.verify_token(jwt, keys, now, max_clock_skew_secs);
    Ok(run.finish())
}

/// The state of one [`verify`] call.
#[derive(Default)]
struct Run {
    checks: Vec<JwtCheck>,
    warnings: Vec<JwtWarning>,
    key_source_unavailable: bool,
    algorithm: Option<JwtAlgorithm>,
    key_id: Option<String>,
    form: Option<CredentialForm>,
    credential: Option<Value>,
}

/// The registered claims of a verified token.
struct Claims {
    iss: Option<Value>,
    sub: Option<Value>,
    jti: Option<Value>,
    nbf: Option<Value>,
    exp: Option<Value>,
}

impl Claims {
    /// Takes every registered claim out of `payload`, keeping those the checks use.
    fn take_from(payload: &mut Map<String, Value>) -> Self {
        let claims =
            Self { iss: payload.remove("iss"), sub: payload.remove("sub"), jti: payload.remove("jti"), nbf: payload.remove("nbf"), exp: payload.remove("exp") };
        for name in REGISTERED_CLAIMS {
            payload.remove(name);
        }
        claims
    }
}

/// The header parameters verification uses.
struct Header {
    kid: Option<String>,
    jwk: Option<VerificationKey>,
}

impl Run {
    fn pass(&mut self, id: JwtCheckId, detail: impl Into<String>) {
        self.checks.push(JwtCheck { id, ok: true, detail: detail.into() });
    }

    /// Records a failed check. Returns `None`, so that `run.fail(…)?` also stops verification.
    fn fail<T>(&mut self, id: JwtCheckId, detail: impl Into<String>) -> Option<T> {
        self.checks.push(JwtCheck { id, ok: false, detail: detail.into() });
        None
    }

    fn check(&mut self, id: JwtCheckId, outcome: Result<String, String>) {
        match outcome {
            Ok(detail) => self.pass(id, detail),
            Err(detail) => {
                let _continue = self.fail::<()>(id, detail);
            }
        }
    }

    fn warn(&mut self, id: JwtCheckId, detail: impl Into<String>) {
        self.warnings.push(JwtWarning { id, detail: detail.into() });
    }

    fn finish(self) -> JwtVerification {
        let verdict = if self.checks.iter().all(|check| check.ok) && !self.checks.is_empty() {
            JwtVerdict::Valid
        } else if self.key_source_unavailable {
            JwtVerdict::Indeterminate
        } else {
            JwtVerdict::Invalid
        };
        JwtVerification {
            verdict,
            checks: self.checks,
            warnings: self.warnings,
            algorithm: self.algorithm,
            key_id: self.key_id,
            form: self.form,
            credential: self.credential,
        }
    }

    fn verify_token(&mut self, jwt: &str, keys: &dyn KeyResolver, now: i64, skew: i64) -> Option<()> {
        use JwtCheckId as Id;

        // Format. The length comes first, so that an oversized token costs nothing.
        if jwt.len() > MAX_TOKEN_BYTES {
            return self.fail(Id::Format, format!("the token is {} bytes, over the {MAX_TOKEN_BYTES}-byte limit", jwt.len()));
        }
        let token = jwt.trim_ascii();
        let mut parts = token.split('.');
        let (Some(encoded_header), Some(encoded_payload), Some(encoded_signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            let count = token.split('.').count();
            return self.fail(Id::Format, format!("not a compact JWS: expected 3 dot-separated parts, got {count}"));
        };
        let header = match decode_json_object(encoded_header) {
            Ok(header) => header,
            Err(why) => return self.fail(Id::Format, format!("the header {why}")),
        };
        let mut payload = match decode_json_object(encoded_payload) {
            Ok(payload) => payload,
            Err(why) => return self.fail(Id::Format, format!("the payload {why}")),
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(encoded_signature) else {
            return self.fail(Id::Format, "the signature is not unpadded base64url");
        };
        self.pass(Id::Format, format!("a compact JWS of {} bytes", token.len()));

        let algorithm = self.check_algorithm(&header)?;
        let header = self.check_header(&header)?;

        // The credential, for its issuer: the key must be the issuer's.
        let form = match payload.get("vc") {
            Some(Value::Object(_)) => CredentialForm::VcClaim,
            Some(_) => return self.fail(Id::Credential, "the \"vc\" claim is not a JSON object"),
            None => CredentialForm::Native,
        };
        self.form = Some(form);
        let credential_members = match form {
            CredentialForm::VcClaim => payload.get("vc").and_then(Value::as_object).unwrap_or(&payload),
            CredentialForm::Native => &payload,
        };
        let issuer = issuer_id(credential_members).or_else(|| payload.get("iss").and_then(Value::as_str)).map(str::to_owned);

        let key = self.resolve_key(keys, algorithm, &header, issuer.as_deref())?;

        // Signature, over the first two parts exactly as received.
        let signing_input = &token.as_bytes()[..encoded_header.len() + 1 + encoded_payload.len()];
        if let Err(why) = key.check_signature(signing_input, &signature) {
            return self.fail(Id::Signature, why);
        }
        self.pass(Id::Signature, format!("{algorithm} signature verifies"));

        // The credential, without the registered claims.
        let claims = Claims::take_from(&mut payload);
        let mut credential = match payload.remove("vc") {
            Some(Value::Object(vc)) => {
                self.warn(Id::Credential, "the credential is under a \"vc\" claim (VC-JWT 1.1); OB 3.0 VC-JWT uses the credential itself as the payload");
                vc
            }
            _ => payload,
        };
        if form == CredentialForm::VcClaim {
            self.fill_from_claims(&mut credential, &claims);
        }
        self.pass(
            Id::Credential,
            match form {
                CredentialForm::Native => "the payload is the credential (OB 3.0 form)",
                CredentialForm::VcClaim => "the credential is the \"vc\" claim (VC-JWT 1.1 form)",
            },
        );

        self.check_claims(&credential, &claims, now, skew);
        self.credential = Some(Value::Object(credential));
        Some(())
    }

    fn check_algorithm(&mut self, header: &Map<String, Value>) -> Option<JwtAlgorithm> {
        let id = JwtCheckId::Algorithm;
        let name = match header.get("alg") {
            None => return self.fail(id, "the header has no \"alg\""),
            Some(Value::String(name)) => name,
            Some(_) => return self.fail(id, "\"alg\" is not a string"),
        };
        let Some(algorithm) = JwtAlgorithm::from_name(name) else {
            let shown = shorten(name);
            return self.fail(
                id,
                if name.eq_ignore_ascii_case("none") {
                    format!("alg {shown:?}: the token is unsigned")
                } else if name.get(..2).is_some_and(|family| family.eq_ignore_ascii_case("HS")) {
                    format!("alg {shown:?} is an HMAC with a shared secret, not a signature by the issuer's private key; it is never accepted for a credential")
                } else {
                    format!("alg {shown:?} is not supported (EdDSA, ES256 and RS256 are)")
                },
            );
        };
        self.algorithm = Some(algorithm);
        self.pass(id, algorithm.name());
        Some(algorithm)
    }

    fn check_header(&mut self, header: &Map<String, Value>) -> Option<Header> {
        let id = JwtCheckId::Header;
        if let Some(critical) = header.get("crit") {
            return self.fail(
                id,
                format!(
                    "the header marks extensions as critical (\"crit\": {}), and none is understood here (RFC 7515 §4.1.11)",
                    shorten(&critical.to_string())
                ),
            );
        }
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("vc+jwt") || typ.eq_ignore_ascii_case("vc+ld+jwt") => {
                self.warn(id, format!("typ {typ:?} is the VC-JOSE-COSE media type; OB 3.0 §8.2 says \"JWT\""));
            }
            Some(typ) => return self.fail(id, format!("typ {} is not \"JWT\"", shorten(&value_text(typ)))),
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if !kid.is_empty() => Some(kid.clone()),
            Some(_) => return self.fail(id, "\"kid\" is not a non-empty string"),
        };
        let jwk = match header.get("jwk") {
            None => None,
            Some(jwk) => match VerificationKey::from_jwk(jwk) {
                Ok(key) => Some(key),
                Err(why) => return self.fail(id, format!("the header jwk is not a usable public key: {why}")),
            },
        };
        let others: Vec<&str> = header.keys().map(String::as_str).filter(|name| !ALLOWED_HEADER_PARAMETERS.contains(name)).collect();
        if !others.is_empty() {
            self.warn(id, format!("OB 3.0 §8.2 allows only alg, kid, jwk and typ in the header; also found: {}", shorten(&others.join(", "))));
        }
        if kid.is_none() && jwk.is_none() {
            self.warn(id, "the header has neither kid nor jwk (OB 3.0 §8.2 asks for one); the key was looked up by issuer");
        }
        self.pass(
            id,
            match (&kid, &jwk) {
                (Some(kid), _) => format!("kid {:?}", shorten(kid)),
                (None, Some(_)) => "no kid; a header jwk".to_owned(),
                (None, None) => "no kid".to_owned(),
            },
        );
        Some(Header { kid, jwk })
    }

    fn resolve_key(&mut self, keys: &dyn KeyResolver, algorithm: JwtAlgorithm, header: &Header, issuer: Option<&str>) -> Option<VerificationKey> {
        let id = JwtCheckId::Key;
        let issuer_did = issuer.filter(|issuer| issuer.starts_with("did:"));
        let kid = header.kid.as_deref().map(|kid| match issuer_did {
            Some(did) if kid.starts_with('#') => format!("{did}{kid}"),
            _ => kid.to_owned(),
        });
        self.key_id.clone_from(&kid);
        if let (Some(kid), Some(issuer)) = (kid.as_deref(), issuer_did)
            && kid.starts_with("did:")
            && did_of(kid) != issuer
        {
            return self.fail(id, format!("kid {:?} is a key of another DID than the issuer {:?}", shorten(kid), shorten(issuer)));
        }
        let wanted = match (kid.as_deref(), issuer) {
            (Some(kid), _) => format!("kid {:?}", shorten(kid)),
            (None, Some(issuer)) => format!("issuer {:?}", shorten(issuer)),
            (None, None) => "the token (no kid, no issuer)".to_owned(),
        };
        let lookup = KeyLookup { kid: kid.as_deref(), issuer, algorithm };
        let (key, source) = match keys.resolve(&lookup) {
            Err(KeyResolutionError::Unavailable(why)) => {
                self.key_source_unavailable = true;
                return self.fail(id, format!("cannot look up the key for {wanted}: {why}"));
            }
            Err(KeyResolutionError::Refused(why)) => return self.fail(id, format!("no usable key for {wanted}: {why}")),
            Ok(Some(resolved)) => {
                if let Some(controller) = resolved.controller.as_deref()
                    && issuer != Some(controller)
                {
                    return self.fail(
                        id,
                        format!("the key for {wanted} belongs to {:?}, not the issuer {:?}", shorten(controller), issuer.map(shorten).unwrap_or_default()),
                    );
                }
                if header.jwk.as_ref().is_some_and(|header_key| *header_key != resolved.key) {
                    return self.fail(id, format!("the header jwk is not the key resolved for {wanted}"));
                }
                let source = format!("{} resolved for {wanted}", resolved.key.kind());
                (resolved.key, source)
            }
            Ok(None) => match &header.jwk {
                Some(header_key) if keys.accepts_header_jwk() => {
                    self.warn(id, "the key was taken from the token's own header jwk, which is not bound to the issuer");
                    (header_key.clone(), format!("{} from the header jwk", header_key.describe()))
                }
                Some(_) => {
                    return self.fail(id, format!("no trusted key for {wanted}; the token carries its own jwk, which is not accepted as a key source"));
                }
                None => return self.fail(id, format!("no key found for {wanted}")),
            },
        };
        if key.algorithm() != algorithm {
            return self.fail(id, format!("alg {algorithm} needs {}, but the key is {}", algorithm.key_type(), key.algorithm().key_type()));
        }
        self.pass(id, source);
        Some(key)
    }

    /// VC-JWT 1.1 §6.3.1 decoding: a `vc` claim may leave out what the registered claims say.
    fn fill_from_claims(&mut self, credential: &mut Map<String, Value>, claims: &Claims) {
        let fill = |run: &mut Self, credential: &mut Map<String, Value>, property: &str, claim: &str, value: Option<Value>| {
            if let Some(value) = value.filter(|_| !credential.contains_key(property)) {
                run.warn(JwtCheckId::Credential, format!("the vc claim has no {property:?}; taken from {claim:?}"));
                credential.insert(property.to_owned(), value);
            }
        };
        let as_date = |claim: &Option<Value>| numeric_date(claim.as_ref()).and_then(Result::ok).map(|seconds| Value::String(format_date_time(seconds)));
        fill(self, credential, "id", "jti", claims.jti.clone().filter(Value::is_string));
        fill(self, credential, "issuer", "iss", claims.iss.clone().filter(Value::is_string));
        if !credential.contains_key("validFrom") {
            fill(self, credential, "issuanceDate", "nbf", as_date(&claims.nbf));
        }
        if !credential.contains_key("validUntil") {
            fill(self, credential, "expirationDate", "exp", as_date(&claims.exp));
        }
        if let (Some(Value::String(sub)), Some(Value::Object(subject))) = (&claims.sub, credential.get_mut("credentialSubject"))
            && !subject.contains_key("id")
        {
            subject.insert("id".to_owned(), Value::String(sub.clone()));
            self.warn(JwtCheckId::Credential, "the vc claim's credentialSubject has no \"id\"; taken from \"sub\"");
        }
    }

    fn check_claims(&mut self, credential: &Map<String, Value>, claims: &Claims, now: i64, skew: i64) {
        use JwtCheckId as Id;

        // iss: required, equal to the issuer id.
        let issuer = issuer_id(credential);
        let outcome = match (&claims.iss, issuer) {
            (None, _) => Err("the token has no \"iss\" claim".to_owned()),
            (Some(Value::String(iss)), Some(issuer)) if iss == issuer => Ok(format!("iss equals the issuer id {:?}", shorten(issuer))),
            (Some(Value::String(iss)), Some(issuer)) => Err(format!("iss {:?} is not the issuer id {:?}", shorten(iss), shorten(issuer))),
            (Some(Value::String(iss)), None) => Err(format!("iss {:?}, but the credential has no issuer id", shorten(iss))),
            (Some(_), _) => Err("\"iss\" is not a string".to_owned()),
        };
        self.check(Id::IssClaim, outcome);

        // jti: equal to the credential id; required when there is one.
        let outcome = match (&claims.jti, credential.get("id")) {
            (_, Some(id)) if !id.is_string() => Err("the credential id is not a string".to_owned()),
            (None, None) => Ok("neither jti nor a credential id".to_owned()),
            (None, Some(id)) => Err(format!("the token has no \"jti\" claim; the credential id is {}", shorten(&value_text(id)))),
            (Some(Value::String(jti)), Some(id)) if Some(jti.as_str()) == id.as_str() => Ok(format!("jti equals the credential id {:?}", shorten(jti))),
            (Some(Value::String(jti)), Some(id)) => Err(format!("jti {:?} is not the credential id {}", shorten(jti), shorten(&value_text(id)))),
            (Some(Value::String(jti)), None) => Err(format!("jti {:?}, but the credential has no id", shorten(jti))),
            (Some(_), _) => Err("\"jti\" is not a string".to_owned()),
        };
        self.check(Id::JtiClaim, outcome);

        // sub: equal to credentialSubject.id; its absence is a warning.
        let outcome = match (&claims.sub, subject_id(credential)) {
            (None, None) => Ok("neither sub nor a credentialSubject.id".to_owned()),
            (None, Some(subject)) => {
                self.warn(Id::SubClaim, format!("no \"sub\" claim; OB 3.0 §8.2 asks for one equal to credentialSubject.id {:?}", shorten(subject)));
                Ok("no sub claim (see warnings)".to_owned())
            }
            (Some(Value::String(sub)), Some(subject)) if sub == subject => Ok(format!("sub equals credentialSubject.id {:?}", shorten(sub))),
            (Some(Value::String(sub)), Some(subject)) => Err(format!("sub {:?} is not credentialSubject.id {:?}", shorten(sub), shorten(subject))),
            (Some(Value::String(sub)), None) => Err(format!("sub {:?}, but the credentialSubject has no id", shorten(sub))),
            (Some(_), _) => Err("\"sub\" is not a string".to_owned()),
        };
        self.check(Id::SubClaim, outcome);

        // nbf: required, equal to validFrom; exp: equal to validUntil.
        let valid_from = self.credential_date(credential, "validFrom", "issuanceDate");
        let valid_until = self.credential_date(credential, "validUntil", "expirationDate");
        let not_before = numeric_date(claims.nbf.as_ref());
        let expires = numeric_date(claims.exp.as_ref());
        let seconds = |date: &Option<Result<i64, String>>| date.as_ref().and_then(|date| date.as_ref().ok().copied());
        let dated = |date: &Option<Result<(&str, i64), String>>| date.as_ref().and_then(|date| date.as_ref().ok().map(|(_, seconds)| *seconds));
        let outcome = match (&not_before, &valid_from) {
            (None, _) => Err("the token has no \"nbf\" claim".to_owned()),
            (Some(Err(why)), _) => Err(format!("nbf {why}")),
            (Some(Ok(nbf)), Some(Ok((property, from)))) if nbf == from => Ok(format!("nbf {nbf} equals {property} {}", format_date_time(*from))),
            (Some(Ok(nbf)), Some(Ok((property, from)))) => Err(format!("nbf {nbf} ({}) is not {property} {}", format_date_time(*nbf), format_date_time(*from))),
            (Some(Ok(nbf)), Some(Err(_)) | None) => Ok(format!("nbf {nbf}")),
        };
        self.check(Id::NbfClaim, outcome);
        let outcome = match (&expires, &valid_until) {
            (Some(Err(why)), _) => Err(format!("exp {why}")),
            (Some(Ok(exp)), Some(Ok((property, until)))) if exp == until => Ok(format!("exp {exp} equals {property} {}", format_date_time(*until))),
            (Some(Ok(exp)), Some(Ok((property, until)))) => {
                Err(format!("exp {exp} ({}) is not {property} {}", format_date_time(*exp), format_date_time(*until)))
            }
            (Some(Ok(exp)), Some(Err(_)) | None) => Ok(format!("exp {exp}")),
            (None, Some(Ok((property, _)))) => {
                self.warn(Id::ExpClaim, format!("the credential has {property} but the token has no \"exp\" claim (OB 3.0 §8.2 asks for one)"));
                Ok("no exp claim (see warnings)".to_owned())
            }
            (None, Some(Err(_)) | None) => Ok("no exp claim and no validUntil".to_owned()),
        };
        self.check(Id::ExpClaim, outcome);

        // The validity window, widened by the skew.
        let outcome = match (&valid_from, &not_before) {
            (Some(Err(why)), _) => Err(why.clone()),
            _ => {
                let starts = [seconds(&not_before), dated(&valid_from)].into_iter().flatten().max();
                match starts {
                    Some(starts) if now.saturating_add(skew) < starts => {
                        Err(format!("not valid before {}; now is {} (clock skew {skew} s)", format_date_time(starts), format_date_time(now)))
                    }
                    Some(starts) => Ok(format!("valid from {}", format_date_time(starts))),
                    None => Ok("no start of validity".to_owned()),
                }
            }
        };
        self.check(Id::ValidityStart, outcome);
        let outcome = match (&valid_until, &expires) {
            (Some(Err(why)), _) => Err(why.clone()),
            _ => {
                let ends = [seconds(&expires), dated(&valid_until)].into_iter().flatten().min();
                match ends {
                    Some(ends) if now.saturating_sub(skew) >= ends => {
                        Err(format!("expired at {}; now is {} (clock skew {skew} s)", format_date_time(ends), format_date_time(now)))
                    }
                    Some(ends) => Ok(format!("valid until {}", format_date_time(ends))),
                    None => Ok("does not expire".to_owned()),
                }
            }
        };
        self.check(Id::ValidityEnd, outcome);
    }

    /// A credential date as `(property, epoch seconds)`: the VC 2.0 property, else the VC 1.1 one.
    /// A date without a time zone is read as UTC, with a warning.
    fn credential_date(
        &mut self,
        credential: &Map<String, Value>,
        property: &'static str,
        legacy_property: &'static str,
    ) -> Option<Result<(&'static str, i64), String>> {
        let (property, value) = [property, legacy_property].into_iter().find_map(|property| credential.get(property).map(|value| (property, value)))?;
        let Some(date) = value.as_str().and_then(parse_date_time) else {
            return Some(Err(format!("{property} {} is not an RFC 3339 date-time", shorten(&value_text(value)))));
        };
        if !date.has_offset {
            let id = if property == "validFrom" || property == "issuanceDate" { JwtCheckId::ValidityStart } else { JwtCheckId::ValidityEnd };
            self.warn(id, format!("{property} {} has no time zone; read as UTC", shorten(&value_text(value))));
        }
        Some(Ok((property, date.seconds)))
    }
}

/// Decodes one base64url part into a JSON object.
fn decode_json_object(encoded: &str) -> Result<Map<String, Value>, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| "is not unpadded base64url")?;
    // One UTF-8 check of the whole text is cheaper than serde_json's check of each string.
    let text = std::str::from_utf8(&bytes).map_err(|_| "is not JSON")?;
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("is not a JSON object"),
        Err(_) => Err("is not JSON"),
    }
}

/// A JWT NumericDate (RFC 7519 §2) as whole seconds, rounded down; `None` when absent.
fn numeric_date(value: Option<&Value>) -> Option<Result<i64, String>> {
    let value = value?;
    Some(match value.as_i64() {
        Some(seconds) => Ok(seconds),
        None => match value.as_f64() {
            // `as` saturates, and serde_json numbers are finite.
            Some(seconds) => Ok(seconds.floor() as i64),
            None => Err(format!("{} is not a NumericDate", shorten(&value_text(value)))),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Credential helpers
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

fn member<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, VerificationKeyError> {
    object.get(name).and_then(Value::as_str).ok_or(VerificationKeyError::MissingMember(name))
}

fn base64_member(object: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, VerificationKeyError> {
    URL_SAFE_NO_PAD.decode(member(object, name)?).map_err(|_| VerificationKeyError::Base64(name))
}

fn fixed_bytes<const N: usize>(object: &Map<String, Value>, name: &'static str) -> Result<[u8; N], VerificationKeyError> {
    let bytes = base64_member(object, name)?;
    bytes.as_slice().try_into().map_err(|_| VerificationKeyError::Length { member: name, expected: N, got: bytes.len() })
}

/// `1.2.840.113549.1.1.1`, DER-encoded (RFC 8017 §A.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The label and the base64-decoded contents of the first PEM block of `text` (RFC 7468).
fn pem_block(text: &str) -> Result<(&str, Vec<u8>), VerificationKeyError> {
    let refuse = VerificationKeyError::Pem;
    let start = text.find("-----BEGIN ").ok_or(refuse("no -----BEGIN line"))?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (label, rest) = rest.split_once("-----").ok_or(refuse("the BEGIN line is not closed"))?;
    let end = rest.find(&format!("-----END {label}-----")).ok_or(refuse("no matching -----END line"))?;
    let body: String = rest[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| refuse("the body is not base64"))?;
    Ok((label, der))
}

/// One DER element of type `tag` at the start of `input`: its contents and what follows it.
fn der_expect(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), VerificationKeyError> {
    let refuse = || VerificationKeyError::Pem("malformed DER");
    let (&found, rest) = input.split_first().ok_or_else(refuse)?;
    if found != tag {
        return Err(refuse());
    }
    let (&first, rest) = rest.split_first().ok_or_else(refuse)?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(refuse());
        }
        let length = rest[..count].iter().fold(0_usize, |length, byte| length << 8 | usize::from(*byte));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err(refuse());
    }
    Ok(rest.split_at(length))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len());
    &bytes[start..]
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

// ---------------------------------------------------------------------------------------------
// Dates (RFC 3339; no calendar crate in cairn-vc)
// ---------------------------------------------------------------------------------------------

/// An RFC 3339 date-time as Unix seconds (fractions dropped, i.e. rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateTime {
    seconds: i64,
    /// Whether the text had `Z` or an offset (VC 2.0 wants one; `xsd:dateTime` allows none).
    has_offset: bool,
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (RFC 3339 §5.6; `T` and `Z` in either case).
fn parse_date_time(text: &str) -> Option<DateTime> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let field = bytes.get(range)?;
        field.iter().all(u8::is_ascii_digit).then(|| field.iter().fold(0, |value, digit| value * 10 + i64::from(digit - b'0')))
    };
    let at = |index: usize, expected: &[u8]| bytes.get(index).is_some_and(|byte| expected.contains(byte));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &bytes[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let length = fraction.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if length == 0 {
            return None;
        }
        rest = &fraction[length..];
    }
    let (offset, has_offset) = match rest {
        [] => (0, false),
        [b'Z' | b'z'] => (0, true),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let field = |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'));
            let (hours, minutes) = (field(*h1, *h2)?, field(*m1, *m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            (if *sign == b'-' { -offset } else { offset }, true)
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(DateTime { seconds, has_offset })
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn format_date_time(seconds: i64) -> String {
    let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time / 3600, time % 3600 / 60, time % 60)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
/// Date Algorithms", `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`] (same source, `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn did_keys_are_remembered_a_few_at_a_time_and_still_resolve_after() {
        let keys = TrustedKeys::new();
        let dids: Vec<(String, VerificationKey)> = (0..=DID_KEY_CACHE_SIZE as u8)
            .map(|seed| {
                let key = Ed25519KeyPair::from_seed([seed; 32]);
                (crate::did::did_key(&key.public_key_multibase()), VerificationKey::ed25519(&key.public_key()).unwrap())
            })
            .collect();
        let resolve =
            |keys: &TrustedKeys, did: &str| keys.resolve(&KeyLookup { kid: None, issuer: Some(did), algorithm: JwtAlgorithm::EdDsa }).unwrap().unwrap();
        for (did, key) in dids.iter().chain(dids.iter().take(2)) {
            let resolved = resolve(&keys, did);
            assert_eq!((&resolved.key, resolved.controller.as_deref()), (key, Some(did.as_str())));
        }
        assert_eq!(keys.did_keys.0.read().unwrap().len(), DID_KEY_CACHE_SIZE);
        let copy = keys.clone();
        assert_eq!(resolve(&copy, &dids[5].0).key, dids[5].1);
        assert!(keys.resolve(&KeyLookup { kid: Some("did:key:zNotAKey"), issuer: None, algorithm: JwtAlgorithm::EdDsa }).is_err());
        assert_eq!(keys.did_keys.0.read().unwrap().len(), DID_KEY_CACHE_SIZE, "a bad did:key is not remembered");
    }

    #[track_caller]
    fn check_date(text: &str, expect: Option<(i64, bool)>) {
        assert_eq!(parse_date_time(text).map(|date| (date.seconds, date.has_offset)), expect, "{text}");
    }

    #[test]
    fn dates_parse_as_rfc_3339() {
        check_date("1970-01-01T00:00:00Z", Some((0, true)));
        check_date("2024-01-01T00:00:00Z", Some((1_704_067_200, true)));
        check_date("2024-01-01t00:00:00z", Some((1_704_067_200, true)));
        check_date("2024-01-01T00:00:00.999Z", Some((1_704_067_200, true)));
        check_date("2024-01-01T01:30:00+01:30", Some((1_704_067_200, true)));
        check_date("2023-12-31T20:00:00-04:00", Some((1_704_067_200, true)));
        check_date("2024-01-01T00:00:00", Some((1_704_067_200, false)));
        check_date("2024-02-29T12:00:00Z", Some((1_709_208_000, true)));
        check_date("2000-02-29T00:00:00Z", Some((951_782_400, true)));
        check_date("1969-12-31T23:59:59.5Z", Some((-1, true)));
        check_date("9999-12-31T23:59:59Z", Some((253_402_300_799, true)));
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "2024-01-01",
            "2024-01-01 00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+25:00",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00ZZ",
            "+2024-01-01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
        ] {
            check_date(text, None);
        }
    }

    #[test]
    fn dates_format_back_to_what_they_parse_from() {
        for seconds in [0, 951_782_400, 1_704_067_200, 1_709_208_000, 253_402_300_799, -1, -86_400 * 365] {
            let text = format_date_time(seconds);
            assert_eq!(parse_date_time(&text).map(|date| date.seconds), Some(seconds), "{text}");
        }
        assert_eq!(format_date_time(1_704_067_200), "2024-01-01T00:00:00Z");
    }

    const ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    #[track_caller]
    fn check_jwk(jwk: Value, expect: Result<JwtAlgorithm, &str>) {
        let got = VerificationKey::from_jwk(&jwk).map(|key| key.algorithm()).map_err(|error| error.to_string());
        match (got, expect) {
            (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{jwk}"),
            (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{jwk}: {got:?} lacks {fragment:?}"),
            (got, expected) => panic!("{jwk}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn jwks_become_keys_for_exactly_one_algorithm() {
        let rsa_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 254], &[0x01]].concat());
        let small_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 126], &[0x01]].concat());
        let padded_n = URL_SAFE_NO_PAD.encode([[0_u8, 0xc1].as_slice(), &[0x5a; 254], &[0x01]].concat());
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}), Ok(JwtAlgorithm::EdDsa));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "alg": "EdDSA", "use": "sig", "kid": "k"}), Ok(JwtAlgorithm::EdDsa));
        check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}), Ok(JwtAlgorithm::Es256));
        check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "key_ops": ["verify"]}), Ok(JwtAlgorithm::Es256));
        check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAB"}), Ok(JwtAlgorithm::Rs256));
        check_jwk(json!({"kty": "RSA", "n": padded_n, "e": "AAEAAQ"}), Ok(JwtAlgorithm::Rs256));

        check_jwk(json!("not a key"), Err("not a JSON object"));
        check_jwk(json!({"crv": "Ed25519", "x": ED25519_X}), Err("\"kty\""));
        check_jwk(json!({"kty": "oct", "k": "c2VjcmV0"}), Err("unsupported key type \"oct\""));
        check_jwk(json!({"kty": "OKP", "crv": "Ed448", "x": ED25519_X}), Err("unsupported curve \"Ed448\""));
        check_jwk(json!({"kty": "OKP", "crv": "X25519", "x": ED25519_X}), Err("unsupported curve"));
        check_jwk(json!({"kty": "EC", "crv": "P-384", "x": P256_X, "y": P256_Y}), Err("unsupported curve \"P-384\""));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "d": ED25519_X}), Err("private key"));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": &ED25519_X[..40]}), Err("\"x\" is 30 bytes; expected 32"));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{ED25519_X}=")}), Err("not base64url"));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X.replace('_', "/")}), Err("not base64url"));
        check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_X}), Err("not a valid P-256 point"));
        let identity = URL_SAFE_NO_PAD.encode([[1_u8].as_slice(), &[0; 31]].concat());
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": identity}), Err("small order"));
        check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X}), Err("\"y\""));
        check_jwk(json!({"kty": "RSA", "n": small_n, "e": "AQAB"}), Err("1024 bits"));
        check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQ"}), Err("exponent"));
        check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAA"}), Err("exponent"));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "alg": "RS256"}), Err("\"alg\" is \"RS256\""));
        check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAB", "alg": "RS512"}), Err("\"alg\" is \"RS512\""));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "use": "enc"}), Err("not for verifying"));
        check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "key_ops": ["sign"]}), Err("not for verifying"));
    }

    #[test]
    fn keys_round_trip_through_their_jwk() {
        let rsa_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 254], &[0x01]].concat());
        for jwk in [
            json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}),
            json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}),
            json!({"kty": "RSA", "n": rsa_n, "e": "AQAB"}),
        ] {
            let key = VerificationKey::from_jwk(&jwk).unwrap();
            assert_eq!(key.to_jwk(), jwk);
            assert_eq!(VerificationKey::from_jwk(&key.to_jwk()).unwrap(), key);
        }
    }

    #[track_caller]
    fn check_method(method: Value, expect: Result<JwtAlgorithm, &str>) {
        let got = VerificationKey::from_verification_method(&method).map(|key| key.algorithm()).map_err(|error| error.to_string());
        match (got, expect) {
            (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{method}"),
            (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{method}: {got:?} lacks {fragment:?}"),
            (got, expected) => panic!("{method}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn verification_methods_become_keys() {
        let key = Ed25519KeyPair::from_seed([3; 32]);
        let multibase = key.public_key_multibase();
        let base58 = bs58::encode(key.public_key()).into_string();
        check_method(json!({"type": "Multikey", "publicKeyMultibase": multibase}), Ok(JwtAlgorithm::EdDsa));
        check_method(json!({"type": "Ed25519VerificationKey2020", "publicKeyMultibase": multibase}), Ok(JwtAlgorithm::EdDsa));
        check_method(json!({"type": "Ed25519VerificationKey2018", "publicKeyBase58": base58}), Ok(JwtAlgorithm::EdDsa));
        check_method(json!({"type": "JsonWebKey2020", "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}}), Ok(JwtAlgorithm::Es256));
        check_method(json!({"type": "JsonWebKey", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}}), Ok(JwtAlgorithm::EdDsa));

        check_method(json!({"type": "Multikey", "publicKeyMultibase": "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"}), Err("Multikey"));
        check_method(json!({"type": "Multikey"}), Err("\"publicKeyMultibase\""));
        check_method(json!({"type": "Ed25519VerificationKey2018", "publicKeyBase58": "3yZe7d"}), Err("expected 32"));
        check_method(json!({"type": "JsonWebKey2020"}), Err("\"publicKeyJwk\""));
        check_method(json!({"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyJwk": {}}), Err("unsupported verification method type"));
        check_method(json!({"publicKeyMultibase": multibase}), Err("\"type\""));
    }

    #[test]
    fn did_keys_resolve_from_the_identifier() {
        let key = Ed25519KeyPair::from_seed([5; 32]);
        let multibase = key.public_key_multibase();
        let expected = VerificationKey::ed25519(&key.public_key()).unwrap();
        for did in [format!("did:key:{multibase}"), format!("did:key:{multibase}#{multibase}")] {
            assert_eq!(VerificationKey::from_did_key(&did), Ok(expected.clone()), "{did}");
        }
        let other = Ed25519KeyPair::from_seed([6; 32]).public_key_multibase();
        for did in [
            format!("did:key:{multibase}#{other}"),
            format!("did:web:example.org#{multibase}"),
            "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169".to_owned(),
            "did:key:".to_owned(),
        ] {
            assert!(VerificationKey::from_did_key(&did).is_err(), "{did}");
        }
    }

    #[test]
    fn trusted_keys_pick_by_kid_then_by_issuer() {
        let first = VerificationKey::ed25519(&Ed25519KeyPair::from_seed([1; 32]).public_key()).unwrap();
        let second = VerificationKey::ed25519(&Ed25519KeyPair::from_seed([2; 32]).public_key()).unwrap();
        let document = json!({
            "id": "did:web:example.org",
            "verificationMethod": [
                {"id": "#key-1", "type": "JsonWebKey2020", "controller": "did:web:example.org", "publicKeyJwk": first.to_jwk()},
                {"id": "did:web:example.org#key-2", "type": "JsonWebKey2020", "controller": "did:web:example.org", "publicKeyJwk": second.to_jwk()},
            ],
            "assertionMethod": ["did:web:example.org#key-1"],
            "authentication": ["#key-2"],
        });
        let keys = TrustedKeys::new().with_did_document(&document).unwrap();
        let lookup = |kid, issuer| KeyLookup { kid, issuer, algorithm: JwtAlgorithm::EdDsa };
        let resolved = |kid, issuer| keys.resolve(&lookup(kid, issuer)).unwrap().map(|found| (found.key, found.controller));
        let web = Some("did:web:example.org".to_owned());

        assert_eq!(resolved(Some("did:web:example.org#key-1"), None), Some((first.clone(), web.clone())));
        assert_eq!(resolved(None, Some("did:web:example.org")), Some((first.clone(), web.clone())));
        // Only assertionMethod keys are trusted for credentials.
        assert_eq!(resolved(Some("did:web:example.org#key-2"), None), None);
        assert_eq!(resolved(None, Some("https://example.org")), None);

        let did_key = Ed25519KeyPair::from_seed([9; 32]).public_key_multibase();
        let did_key_url = format!("did:key:{did_key}#{did_key}");
        assert_eq!(resolved(Some(&did_key_url), None).map(|(_, controller)| controller), Some(Some(format!("did:key:{did_key}"))));
        assert!(keys.resolve(&lookup(Some("did:key:z6Mkbad"), None)).is_err());
        assert!(!keys.accepts_header_jwk());
        assert!(keys.clone().allowing_header_jwk().accepts_header_jwk());

        let single = TrustedKeys::new().with_key("https://example.org/keys#1", second.clone());
        assert_eq!(single.resolve(&lookup(None, Some("https://example.org"))).unwrap().map(|found| found.key), Some(second));
        assert!(TrustedKeys::new().with_did_document(&json!({"id": "did:web:x", "assertionMethod": ["#nope"]})).is_err());
    }
}
