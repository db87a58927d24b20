//! The algorithms VC-JWT verification accepts and the public keys that check them, read from JWKs,
//! DID verification methods, `did:key`s and (for OB 2.0 signed badges) RSA PEM.
//!
//! Signatures are checked by `ed25519-dalek` and by `jsonwebtoken`'s RustCrypto provider; PEM and DER
//! are read by the `rsa` crate. A key is checked once, when it is made (a curve point, an RSA modulus
//! of 2048 to 4096 bits), so that a token can never pick another algorithm for it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{VerificationKeyError, shorten, value_text};
use crate::keys;

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"; 4096 is the most the RSA
/// implementation underneath accepts.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// PEM lines are 64 characters (RFC 7468 §2); the `rsa` crate reads nothing else.
const PEM_LINE: usize = 64;

/// The JWS algorithms [`verify`](super::verify()) accepts (RFC 7518 §3.1, RFC 8037). Everything else is refused:
/// `none`, the HMAC family and algorithms this module does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// `EdDSA` with Ed25519 (RFC 8037), what [`sign`](super::sign()) uses.
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
    pub(super) fn key_type(self) -> &'static str {
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
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::pkcs8::DecodePublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let read = |pem: &str| match pem_label(pem) {
            Some("PUBLIC KEY") => rsa::RsaPublicKey::from_public_key_pem(pem).map_err(|_| "the key is not an rsaEncryption SubjectPublicKeyInfo"),
            Some("RSA PUBLIC KEY") => rsa::RsaPublicKey::from_pkcs1_pem(pem).map_err(|_| "the key is not a PKCS #1 RSAPublicKey"),
            Some(_) => Err("the PEM label is neither PUBLIC KEY nor RSA PUBLIC KEY"),
            None => Err("no -----BEGIN line"),
        };
        // Publishers paste keys with other line lengths, or on one line: read those as the
        // standard layout of the same base64.
        let key = read(pem.trim()).or_else(|error| rewrapped(pem).map_or(Err(error), |standard| read(&standard))).map_err(VerificationKeyError::Pem)?;
        Self::rsa(&key.n().to_bytes_be(), &key.e().to_bytes_be())
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
    /// business: [`TrustedKeys::with_did_document`](super::TrustedKeys::with_did_document) checks that.
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

    /// The key's RFC 7638 JWK thumbprint: the unpadded base64url SHA-256 of its required JWK
    /// members in lexicographic order, without whitespace. Two JWKs of the same key have the same
    /// thumbprint; JWKS publishers often use it as the `kid`.
    pub fn thumbprint(&self) -> String {
        let encode = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        // Every member is base64url or a fixed name, so nothing needs JSON escaping.
        let canonical = match &self.material {
            KeyMaterial::Ed25519(key) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, encode(key.as_bytes())),
            KeyMaterial::P256 { x, y, .. } => format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, encode(x), encode(y)),
            KeyMaterial::Rsa { n, e, .. } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, encode(e), encode(n)),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
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
    pub(super) fn kind(&self) -> &'static str {
        match self.material {
            KeyMaterial::Ed25519(_) => "Ed25519 key",
            KeyMaterial::P256 { .. } => "P-256 key",
            KeyMaterial::Rsa { .. } => "RSA key",
        }
    }

    /// A short description naming the key, for failure details.
    pub(super) fn describe(&self) -> String {
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

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The label of the first PEM block of `text`.
fn pem_label(text: &str) -> Option<&str> {
    let rest = &text[text.find("-----BEGIN ")? + "-----BEGIN ".len()..];
    rest.split_once("-----").map(|(label, _)| label)
}

/// The first PEM block of `text` in the standard layout (RFC 7468 §2: the BEGIN line, the base64
/// in lines of 64 characters, the END line), whatever its line breaks were; `None` when there is
/// no complete block.
fn rewrapped(text: &str) -> Option<String> {
    let label = pem_label(text)?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = &text[text.find(&begin)? + begin.len()..];
    let body: String = body[..body.find(&end)?].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut standard = begin;
    for line in body.as_bytes().chunks(PEM_LINE) {
        standard.push('\n');
        standard.push_str(std::str::from_utf8(line).ok()?);
    }
    standard.push('\n');
    standard.push_str(&end);
    standard.push('\n');
    Some(standard)
}
