//! OpenID for Verifiable Credential Issuance 1.0 (OID4VCI), as a wallet meets it: the credential
//! offer, the credential issuer's metadata, the credential request, and the key proof that binds
//! the credential to the wallet's key.
//!
//! * [`CredentialFormat`]: the two credential configurations offered, an Open Badge with a Data
//!   Integrity proof (`ldp_vc`) and the same as a VC-JWT (`jwt_vc_json`).
//! * [`offer`] and [`offer_link`]: the credential offer of the pre-authorized code flow (§4.1),
//!   and the `openid-credential-offer://` link to it, by reference.
//! * [`issuer_metadata`]: `/.well-known/openid-credential-issuer` (§12.2).
//! * [`CredentialRequest::parse`]: the credential request (§8.2), with the shapes of drafts 13
//!   to 15 (`format` and a single `proof`) read too, since wallets in use still send them.
//! * [`verify_key_proof`]: the `jwt` key proof (Appendix F.1): its type, audience, freshness and
//!   signature, and the holder's DID it proves (`did:key` or `did:jwk`).
//! * [`bind_to_holder`]: a credential made the holder's (`credentialSubject.id`), ready to sign.
//!
//! ```
//! use cairn_vc::oid4vci::{CredentialFormat, CredentialRequest};
//! use serde_json::json;
//!
//! let request = json!({"credential_configuration_id": "OpenBadgeCredential_ldp_vc", "proofs": {"jwt": ["a.b.c"]}});
//! let parsed = CredentialRequest::parse(&request).unwrap();
//! assert_eq!(parsed.format, CredentialFormat::LdpVc);
//! assert_eq!(parsed.proof_jwt, "a.b.c");
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::contexts::{OB_V3P0_303, VC_V2};
use crate::suites::vc_jwt::{JwtAlgorithm, VerificationKey};

/// The grant type of the pre-authorized code flow (§4.1.1).
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The `typ` of a key proof JWT (Appendix F.1).
pub const PROOF_JWT_TYPE: &str = "openid4vci-proof+jwt";
/// The scheme of a credential offer link a wallet opens (§4.1).
pub const OFFER_SCHEME: &str = "openid-credential-offer://";
/// Largest key proof read.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// How far in the future a proof's `iat` may be (clock skew).
pub const PROOF_FUTURE_SECS: i64 = 60;
/// How old a proof's `iat` may be: the nonce it carries lives no longer.
pub const PROOF_AGE_SECS: i64 = 300;

/// A credential configuration the issuer offers (§12.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialFormat {
    /// The Open Badge with its `eddsa-rdfc-2022` Data Integrity proof (`ldp_vc`).
    LdpVc,
    /// The same credential as a VC-JWT (`jwt_vc_json`).
    JwtVcJson,
}

impl CredentialFormat {
    /// Both, in the order the metadata and offers list them.
    pub const ALL: [CredentialFormat; 2] = [CredentialFormat::LdpVc, CredentialFormat::JwtVcJson];

    /// The credential configuration id.
    pub fn configuration_id(self) -> &'static str {
        match self {
            CredentialFormat::LdpVc => "OpenBadgeCredential_ldp_vc",
            CredentialFormat::JwtVcJson => "OpenBadgeCredential_jwt_vc_json",
        }
    }

    /// The format identifier (Appendix A).
    pub fn format(self) -> &'static str {
        match self {
            CredentialFormat::LdpVc => "ldp_vc",
            CredentialFormat::JwtVcJson => "jwt_vc_json",
        }
    }

    /// The format a configuration id names.
    pub fn from_configuration_id(id: &str) -> Option<CredentialFormat> {
        CredentialFormat::ALL.into_iter().find(|format| format.configuration_id() == id)
    }

    /// The format a format identifier names (the requests of drafts 13 to 15).
    pub fn from_format(format: &str) -> Option<CredentialFormat> {
        CredentialFormat::ALL.into_iter().find(|f| f.format() == format)
    }

    /// How the issuer signs this format, as the metadata says it.
    fn signing_algorithms(self) -> &'static str {
        match self {
            CredentialFormat::LdpVc => "eddsa-rdfc-2022",
            CredentialFormat::JwtVcJson => "EdDSA",
        }
    }

    /// The format's `credential_definition`.
    fn definition(self) -> Value {
        let types = json!(["VerifiableCredential", "OpenBadgeCredential"]);
        match self {
            CredentialFormat::LdpVc => json!({"@context": [VC_V2, OB_V3P0_303], "type": types}),
            CredentialFormat::JwtVcJson => json!({"type": types}),
        }
    }
}

/// The DID methods a holder's key may be named by.
pub const BINDING_METHODS: [&str; 2] = ["did:key", "did:jwk"];

/// How a wallet shows the issuer and its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display<'a> {
    /// The installation's name.
    pub name: &'a str,
    /// Its logo (an https or data URL), if any.
    pub logo: Option<&'a str>,
    /// BCP 47 language of the text.
    pub locale: &'a str,
}

/// The credential issuer's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerEndpoints<'a> {
    /// The credential issuer identifier: the installation's address.
    pub issuer: &'a str,
    /// The credential endpoint.
    pub credential: &'a str,
    /// The nonce endpoint.
    pub nonce: &'a str,
}

/// The credential issuer metadata (§12.2.4), served at `/.well-known/openid-credential-issuer`.
/// The issuer is its own authorization server (so `authorization_servers` is left out).
pub fn issuer_metadata(endpoints: &IssuerEndpoints<'_>, display: &Display<'_>) -> Value {
    let mut configurations = Map::new();
    for format in CredentialFormat::ALL {
        let mut card = json!({"name": "Open Badge", "locale": display.locale, "description": "An Open Badges 3.0 credential"});
        if let Some(logo) = display.logo {
            card["logo"] = json!({"uri": logo, "alt_text": format!("{} logo", display.name)});
        }
        configurations.insert(
            format.configuration_id().to_string(),
            json!({
                "format": format.format(),
                "credential_definition": format.definition(),
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": [format.signing_algorithms()],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}},
                "credential_metadata": {"display": [card]},
            }),
        );
    }
    let mut issuer = json!({"name": display.name, "locale": display.locale});
    if let Some(logo) = display.logo {
        issuer["logo"] = json!({"uri": logo, "alt_text": format!("{} logo", display.name)});
    }
    json!({
        "credential_issuer": endpoints.issuer,
        "credential_endpoint": endpoints.credential,
        "nonce_endpoint": endpoints.nonce,
        "display": [issuer],
        "credential_configurations_supported": configurations,
    })
}

/// The transaction code a wallet asks its user for (§4.1.1 `tx_code`): `length` digits, shown
/// beside the offer and never inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxCodeHint<'a> {
    /// How many digits.
    pub length: usize,
    /// What to tell the wallet's user about where to find it.
    pub description: &'a str,
}

/// A credential offer (§4.1.1) of every configuration, for the pre-authorized code flow.
pub fn offer(issuer: &str, pre_authorized_code: &str, tx_code: &TxCodeHint<'_>) -> Value {
    json!({
        "credential_issuer": issuer,
        "credential_configuration_ids": CredentialFormat::ALL.iter().map(|f| f.configuration_id()).collect::<Vec<_>>(),
        "grants": {
            PRE_AUTHORIZED_CODE_GRANT: {
                "pre-authorized_code": pre_authorized_code,
                "tx_code": {"input_mode": "numeric", "length": tx_code.length, "description": tx_code.description},
            },
        },
    })
}

/// The link a wallet opens (and a QR code holds) for the offer served at `offer_uri`, by
/// reference (§4.1.3): short enough for a QR code a phone reads at a glance.
pub fn offer_link(offer_uri: &str) -> String {
    // Form encoding writes a space as `+` (a literal `+` is `%2B`); `%20` reads the same to
    // wallets that decode the link as a URI component rather than a form.
    let encoded: String = url::form_urlencoded::byte_serialize(offer_uri.as_bytes()).collect::<String>().replace('+', "%20");
    format!("{OFFER_SCHEME}?credential_offer_uri={encoded}")
}

/// Why a credential request is refused, by its OID4VCI error code (§8.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `invalid_credential_request`: malformed, or missing what is required.
    #[error("{0}")]
    InvalidRequest(String),
    /// `unknown_credential_configuration`: a configuration (or format) the issuer does not offer.
    #[error("{0}")]
    UnknownConfiguration(String),
    /// `invalid_proof`: the key proof is missing, malformed, or does not verify.
    #[error("{0}")]
    InvalidProof(String),
}

/// A credential request: which format, and the key proof to bind it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// The format asked for.
    pub format: CredentialFormat,
    /// The `jwt` key proof, compact.
    pub proof_jwt: String,
    /// Whether the request was in the shape of drafts 13 to 15 (`format`, `proof`), whose
    /// response is `{"credential"}` rather than 1.0's `{"credentials": [{"credential"}]}`.
    pub legacy: bool,
}

impl CredentialRequest {
    /// Reads a credential request body.
    ///
    /// # Errors
    /// [`RequestError`] for what is not a request this issuer answers: not an object; neither
    /// `credential_configuration_id` nor `format`, or an unknown one; `credential_identifier`
    /// (this issuer answers no authorization details); no `jwt` proof, or more than one (one
    /// credential is issued per request).
    pub fn parse(body: &Value) -> Result<CredentialRequest, RequestError> {
        let invalid = |text: &str| RequestError::InvalidRequest(text.to_string());
        let request = body.as_object().ok_or_else(|| invalid("send the credential request as a JSON object"))?;
        if request.contains_key("credential_identifier") {
            return Err(invalid("this issuer names credentials by credential_configuration_id; it gives no credential_identifier"));
        }
        let (format, legacy) = match (request.get("credential_configuration_id"), request.get("format")) {
            (Some(Value::String(id)), _) => (
                CredentialFormat::from_configuration_id(id)
                    .ok_or_else(|| RequestError::UnknownConfiguration(format!("no credential configuration {}", shown(id))))?,
                false,
            ),
            (Some(_), _) => return Err(invalid("credential_configuration_id must be a string")),
            (None, Some(Value::String(format))) => (
                CredentialFormat::from_format(format)
                    .ok_or_else(|| RequestError::UnknownConfiguration(format!("no credential of format {}", shown(format))))?,
                true,
            ),
            (None, Some(_)) => return Err(invalid("format must be a string")),
            (None, None) => return Err(invalid("name the credential: credential_configuration_id")),
        };
        let proof_jwt = match (request.get("proofs"), request.get("proof")) {
            (Some(_), Some(_)) => return Err(invalid("send proofs or proof, not both")),
            (Some(proofs), None) => {
                let proofs = proofs.as_object().ok_or_else(|| invalid("proofs must be an object"))?;
                if let Some(other) = proofs.keys().find(|k| *k != "jwt") {
                    return Err(RequestError::InvalidProof(format!("proof type {} is not supported; send a jwt proof", shown(other))));
                }
                match proofs.get("jwt").and_then(Value::as_array).map(Vec::as_slice) {
                    Some([Value::String(jwt)]) => jwt.clone(),
                    Some([_, _, ..]) => return Err(invalid("send one jwt proof: one credential is issued per request")),
                    _ => return Err(RequestError::InvalidProof("proofs.jwt must be a list of one JWT".into())),
                }
            }
            (None, Some(proof)) => {
                let proof = proof.as_object().ok_or_else(|| invalid("proof must be an object"))?;
                match (proof.get("proof_type").and_then(Value::as_str), proof.get("jwt")) {
                    (Some("jwt"), Some(Value::String(jwt))) => jwt.clone(),
                    (Some("jwt"), _) => return Err(RequestError::InvalidProof("proof.jwt must be a JWT".into())),
                    _ => return Err(RequestError::InvalidProof("proof.proof_type must be jwt".into())),
                }
            }
            (None, None) => return Err(RequestError::InvalidProof("send a key proof (proofs.jwt) to bind the credential to your key".into())),
        };
        Ok(CredentialRequest { format, proof_jwt, legacy })
    }
}

/// What a verified key proof proves: the holder's DID, and the nonce it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProof {
    /// `did:key:…` (from a `kid`) or `did:jwk:…` (from a `kid` or a `jwk` header).
    pub holder: String,
    /// The `nonce` claim, when there is one.
    pub nonce: Option<String>,
}

/// Verifies a `jwt` key proof (Appendix F.1) for `audience` (the credential issuer) at `now`
/// (Unix seconds): `typ`, an `EdDSA` or `ES256` signature by the key its header names (a
/// `did:key` or `did:jwk` `kid`, or a `jwk`), `aud`, and an `iat` no older than
/// [`PROOF_AGE_SECS`] and no more than [`PROOF_FUTURE_SECS`] ahead. Whether the nonce is one the
/// issuer gave, and unused, is the caller's check.
///
/// # Errors
/// [`RequestError::InvalidProof`] saying what is wrong.
pub fn verify_key_proof(jwt: &str, audience: &str, now: i64) -> Result<KeyProof, RequestError> {
    let refuse = |text: String| RequestError::InvalidProof(text);
    if jwt.len() > MAX_PROOF_BYTES {
        return Err(refuse(format!("the proof is longer than {} KB", MAX_PROOF_BYTES / 1024)));
    }
    let mut parts = jwt.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refuse("the proof is not a compact JWS (three parts)".into()));
    };
    let decode = |part: &str, what: &str| -> Result<Map<String, Value>, RequestError> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| refuse(format!("the proof's {what} is not base64url")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(refuse(format!("the proof's {what} is not a JSON object"))),
        }
    };
    let header = decode(header_b64, "header")?;
    let payload = decode(payload_b64, "payload")?;
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| refuse("the proof's signature is not base64url".into()))?;

    if header.get("typ").and_then(Value::as_str) != Some(PROOF_JWT_TYPE) {
        return Err(refuse(format!("the proof's typ must be {PROOF_JWT_TYPE}")));
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    let algorithm = JwtAlgorithm::from_name(alg)
        .filter(|a| matches!(a, JwtAlgorithm::EdDsa | JwtAlgorithm::Es256))
        .ok_or_else(|| refuse(format!("the proof's alg {} is not EdDSA or ES256", shown(alg))))?;
    let (key, holder) = match (header.get("kid"), header.get("jwk"), header.get("x5c")) {
        (_, _, Some(_)) => return Err(refuse("x5c proofs are not supported; name the key by a did:key or did:jwk kid, or a jwk".into())),
        (Some(_), Some(_), _) => return Err(refuse("name the proof's key once: kid or jwk".into())),
        (Some(Value::String(kid)), None, _) => holder_key(kid).map_err(refuse)?,
        (None, Some(jwk), _) => {
            let key = VerificationKey::from_jwk(jwk).map_err(|e| refuse(format!("the proof's jwk is not a usable public key: {e}")))?;
            let did = did_jwk(&key);
            (key, did)
        }
        _ => return Err(refuse("the proof names no key: send a did:key or did:jwk kid, or a jwk".into())),
    };
    if key.algorithm() != algorithm {
        return Err(refuse(format!("the proof's alg {alg} does not fit its key, which verifies {}", key.algorithm())));
    }
    let signing_input = &jwt[..header_b64.len() + 1 + payload_b64.len()];
    key.check_signature(signing_input.as_bytes(), &signature).map_err(|e| refuse(format!("the proof's signature does not verify: {e}")))?;

    let audience_matches = match payload.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !audience_matches {
        return Err(refuse(format!("the proof's aud must be the credential issuer, {audience}")));
    }
    let iat = payload.get("iat").and_then(Value::as_i64).ok_or_else(|| refuse("the proof has no iat (a number of seconds)".into()))?;
    if iat > now + PROOF_FUTURE_SECS {
        return Err(refuse("the proof's iat is in the future".into()));
    }
    if iat < now - PROOF_AGE_SECS {
        return Err(refuse(format!("the proof is older than {} minutes: make a new one", PROOF_AGE_SECS / 60)));
    }
    let nonce = match payload.get("nonce") {
        None | Some(Value::Null) => None,
        Some(Value::String(nonce)) => Some(nonce.clone()),
        Some(_) => return Err(refuse("the proof's nonce must be a string".into())),
    };
    Ok(KeyProof { holder, nonce })
}

/// The key a proof's `kid` names, and the holder's DID: a `did:key` (Ed25519) or a `did:jwk`
/// URL.
fn holder_key(kid: &str) -> Result<(VerificationKey, String), String> {
    let did = kid.split_once('#').map_or(kid, |(did, _)| did);
    if did.starts_with("did:key:") {
        let key = VerificationKey::from_did_key(kid).map_err(|e| format!("the proof's kid is not a usable did:key: {e}"))?;
        return Ok((key, did.to_string()));
    }
    if let Some(encoded) = did.strip_prefix("did:jwk:") {
        if kid.split_once('#').is_some_and(|(_, fragment)| fragment != "0") {
            return Err("a did:jwk kid's fragment is #0".into());
        }
        let jwk: Value = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| "the proof's did:jwk does not hold a base64url JWK".to_string())?;
        let key = VerificationKey::from_jwk(&jwk).map_err(|e| format!("the proof's did:jwk is not a usable public key: {e}"))?;
        return Ok((key, did.to_string()));
    }
    Err(format!("the proof's kid {} is not a did:key or did:jwk URL", shown(kid)))
}

/// The `did:jwk` of a key: its public JWK (only `kty`, `crv`, `x`, `y`), base64url.
pub fn did_jwk(key: &VerificationKey) -> String {
    format!("did:jwk:{}", URL_SAFE_NO_PAD.encode(key.to_jwk().to_string()))
}

/// `credential` (a signed or unsigned credential) made the holder's, ready to sign again: its
/// proof taken off, `credentialSubject.id` set to `holder`, and `id` set to `id`. Everything
/// else, its status entries included, stays as it was.
pub fn bind_to_holder(credential: &Value, holder: &str, id: &str) -> Value {
    let mut bound = credential.clone();
    if let Value::Object(members) = &mut bound {
        members.remove("proof");
        members.insert("id".into(), json!(id));
        if let Some(Value::Object(subject)) = members.get_mut("credentialSubject") {
            // `id` first, as credentials are usually written.
            let mut ordered = Map::new();
            ordered.insert("id".into(), json!(holder));
            ordered.extend(std::mem::take(subject).into_iter().filter(|(k, _)| k != "id"));
            *subject = ordered;
        }
    }
    bound
}

/// At most 60 characters of untrusted text, quoted.
fn shown(text: &str) -> String {
    format!("{:?}", text.chars().take(60).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did;
    use crate::keys::Ed25519KeyPair;

    const ISSUER: &str = "https://cairn.example";
    const NOW: i64 = 1_800_000_000;

    fn proof_with(key: &Ed25519KeyPair, header: Value, payload: Value) -> String {
        let mut token = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let signature = key.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }

    fn did_key_proof(key: &Ed25519KeyPair, payload: Value) -> String {
        let kid = did::did_key_method(&key.public_key_multibase());
        proof_with(key, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA", "kid": kid}), payload)
    }

    fn payload() -> Value {
        json!({"aud": ISSUER, "iat": NOW - 5, "nonce": "n-1"})
    }

    #[test]
    fn a_did_key_proof_names_its_holder_and_nonce() {
        let key = Ed25519KeyPair::from_seed([3; 32]);
        let proof = verify_key_proof(&did_key_proof(&key, payload()), ISSUER, NOW).unwrap();
        assert_eq!(proof.holder, did::did_key(&key.public_key_multibase()));
        assert_eq!(proof.nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn a_jwk_proof_binds_to_its_did_jwk() {
        let key = Ed25519KeyPair::from_seed([4; 32]);
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.public_key())});
        let token = proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA", "jwk": jwk}), payload());
        let proof = verify_key_proof(&token, ISSUER, NOW).unwrap();
        assert!(proof.holder.starts_with("did:jwk:"));
        // The did:jwk names the same key, so a kid of it verifies the same proof.
        let by_kid = proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA", "kid": format!("{}#0", proof.holder)}), payload());
        assert_eq!(verify_key_proof(&by_kid, ISSUER, NOW).unwrap().holder, proof.holder);
    }

    #[test]
    fn proofs_are_refused_for_each_fault() {
        let key = Ed25519KeyPair::from_seed([5; 32]);
        let other = Ed25519KeyPair::from_seed([6; 32]);
        let kid = did::did_key_method(&key.public_key_multibase());
        let refused = |token: &str, needle: &str| match verify_key_proof(token, ISSUER, NOW) {
            Err(RequestError::InvalidProof(text)) => assert!(text.contains(needle), "{text:?} should mention {needle:?}"),
            other => panic!("expected invalid_proof mentioning {needle:?}, got {other:?}"),
        };
        refused("not-a-jwt", "three parts");
        refused(&proof_with(&key, json!({"typ": "JWT", "alg": "EdDSA", "kid": kid}), payload()), "typ");
        refused(&proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "HS256", "kid": kid}), payload()), "alg");
        refused(&proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "ES256", "kid": kid}), payload()), "does not fit");
        refused(&proof_with(&other, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA", "kid": kid}), payload()), "does not verify");
        refused(&proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA"}), payload()), "names no key");
        refused(&proof_with(&key, json!({"typ": PROOF_JWT_TYPE, "alg": "EdDSA", "kid": "did:web:example.org#k"}), payload()), "not a did:key");
        refused(&did_key_proof(&key, json!({"aud": "https://elsewhere.example", "iat": NOW, "nonce": "n"})), "aud");
        refused(&did_key_proof(&key, json!({"aud": ISSUER, "nonce": "n"})), "iat");
        refused(&did_key_proof(&key, json!({"aud": ISSUER, "iat": NOW + 600})), "future");
        refused(&did_key_proof(&key, json!({"aud": ISSUER, "iat": NOW - 3600})), "older");
        refused(&"a".repeat(MAX_PROOF_BYTES + 1), "longer");
        // A tampered payload: the signature no longer holds.
        let token = did_key_proof(&key, payload());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"aud": ISSUER, "iat": NOW, "nonce": "n-2"}).to_string());
        parts[1] = &forged;
        refused(&parts.join("."), "does not verify");
    }

    #[test]
    fn requests_of_1_0_and_of_the_drafts_are_read() {
        let request =
            CredentialRequest::parse(&json!({"credential_configuration_id": "OpenBadgeCredential_jwt_vc_json", "proofs": {"jwt": ["x.y.z"]}})).unwrap();
        assert_eq!((request.format, request.legacy), (CredentialFormat::JwtVcJson, false));
        let draft =
            CredentialRequest::parse(&json!({"format": "ldp_vc", "credential_definition": {}, "proof": {"proof_type": "jwt", "jwt": "x.y.z"}})).unwrap();
        assert_eq!((draft.format, draft.legacy, draft.proof_jwt.as_str()), (CredentialFormat::LdpVc, true, "x.y.z"));
    }

    #[test]
    fn bad_requests_get_their_codes() {
        let code = |body: Value| match CredentialRequest::parse(&body) {
            Err(RequestError::InvalidRequest(_)) => "invalid_credential_request",
            Err(RequestError::UnknownConfiguration(_)) => "unknown_credential_configuration",
            Err(RequestError::InvalidProof(_)) => "invalid_proof",
            Ok(_) => "ok",
        };
        assert_eq!(code(json!([])), "invalid_credential_request");
        assert_eq!(code(json!({"proofs": {"jwt": ["a"]}})), "invalid_credential_request");
        assert_eq!(code(json!({"credential_configuration_id": "Diploma", "proofs": {"jwt": ["a"]}})), "unknown_credential_configuration");
        assert_eq!(code(json!({"format": "mso_mdoc", "proof": {"proof_type": "jwt", "jwt": "a"}})), "unknown_credential_configuration");
        assert_eq!(code(json!({"credential_configuration_id": "OpenBadgeCredential_ldp_vc"})), "invalid_proof");
        assert_eq!(code(json!({"credential_configuration_id": "OpenBadgeCredential_ldp_vc", "proofs": {"attestation": ["a"]}})), "invalid_proof");
        assert_eq!(code(json!({"credential_configuration_id": "OpenBadgeCredential_ldp_vc", "proofs": {"jwt": ["a", "b"]}})), "invalid_credential_request");
        assert_eq!(code(json!({"credential_identifier": "x", "proofs": {"jwt": ["a"]}})), "invalid_credential_request");
    }

    #[test]
    fn offers_and_metadata_name_both_configurations() {
        let offer = offer(ISSUER, "code-1", &TxCodeHint { length: 6, description: "The code on the badge page" });
        assert_eq!(offer["grants"][PRE_AUTHORIZED_CODE_GRANT]["pre-authorized_code"], "code-1");
        assert_eq!(offer["credential_configuration_ids"], json!(["OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"]));
        let link = offer_link("https://cairn.example/oid4vci/offers/a b+c");
        assert_eq!(link, "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fcairn.example%2Foid4vci%2Foffers%2Fa%20b%2Bc");
        let (_, query) = link.split_once('?').unwrap();
        let (name, value) = url::form_urlencoded::parse(query.as_bytes()).next().unwrap();
        assert_eq!((name.as_ref(), value.as_ref()), ("credential_offer_uri", "https://cairn.example/oid4vci/offers/a b+c"));
        let endpoints =
            IssuerEndpoints { issuer: ISSUER, credential: "https://cairn.example/oid4vci/credential", nonce: "https://cairn.example/oid4vci/nonce" };
        let metadata = issuer_metadata(&endpoints, &Display { name: "Cairn", logo: None, locale: "en" });
        for format in CredentialFormat::ALL {
            assert_eq!(metadata["credential_configurations_supported"][format.configuration_id()]["format"], format.format());
        }
    }

    #[test]
    fn binding_sets_the_subject_and_id_and_drops_the_proof() {
        let credential =
            json!({"id": "https://x/c/1", "credentialSubject": {"type": ["AchievementSubject"]}, "credentialStatus": [{"id": "s"}], "proof": [{}]});
        let bound = bind_to_holder(&credential, "did:key:z6Mk1", "urn:uuid:1");
        assert_eq!(bound["credentialSubject"]["id"], "did:key:z6Mk1");
        assert_eq!(bound["id"], "urn:uuid:1");
        assert!(bound.get("proof").is_none());
        assert_eq!(bound["credentialStatus"], credential["credentialStatus"]);
    }
}
