//! Signing: an OB 3.0 VC-JWT with an Ed25519 key, the JWS built by hand from the expanded key (the
//! JWS is two base64url parts and a signature; no JOSE library is needed to write one).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use super::dates::parse_date_time;
use super::{JwtError, REGISTERED_CLAIMS, did_of, issuer_id, shorten, subject_id};
use crate::keys::Ed25519KeyPair;

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
