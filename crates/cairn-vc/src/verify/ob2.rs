//! Open Badges 2.0 verification (OB 2.0 §Verification): hosted assertions, fetched from their own
//! id, and signed assertions, a JWS (RS256) whose key is a `CryptographicKey` document owned by the
//! issuer. Both load the badge class and the issuer profile through the caller's loader.

use super::{Report, VerificationReport, VerifyOptions, check_valid_until, finish, one_or_many, parse_time, types};
use crate::loader::LoadError;
use crate::suites::vc_jwt::VerificationKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The OB 2.0 context, as a fragment of `@context` (it may be a string or a list).
const OB2_CONTEXT: &str = "w3id.org/openbadges/v2";

/// Whether `document` is an OB 2.0 assertion: it names a recipient or a badge and says so by its
/// context or its type (an OB 3.0 credential has neither member at the top).
pub(super) fn is_assertion(document: &Map<String, Value>) -> bool {
    let context = document.get("@context").map(Value::to_string).unwrap_or_default();
    let typed = match document.get("type") {
        Some(Value::String(kind)) => kind == "Assertion",
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "Assertion"),
        _ => false,
    };
    (document.contains_key("recipient") || document.contains_key("badge")) && (context.contains(OB2_CONTEXT) || typed)
}

/// The payload of a compact JWS when it is an OB 2.0 assertion (a signed badge), else `None`.
pub(super) fn signed_assertion(token: &str) -> Option<Value> {
    let encoded = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(payload) if is_assertion(&payload) => Some(Value::Object(payload)),
        _ => None,
    }
}

fn load(options: &VerifyOptions<'_>, url: &str) -> Result<Value, LoadError> {
    options.loader.load(url).and_then(|document| document.parse())
}

/// Why the badge class or the issuer could not be had: unknown (not loadable) or wrong.
enum Missing {
    Unknown(String),
    Wrong(String),
}

/// The assertion's badge class and its issuer profile, each embedded or loaded by URL.
fn badge_issuer(assertion: &Value, options: &VerifyOptions<'_>) -> Result<Value, Missing> {
    let badge = match assertion.get("badge") {
        Some(Value::String(url)) => load(options, url).map_err(|e| Missing::Unknown(format!("the badge class could not be loaded: {e}")))?,
        Some(badge @ Value::Object(_)) => badge.clone(),
        _ => return Err(Missing::Wrong("the assertion names no badge".into())),
    };
    if !types(&badge).contains(&"BadgeClass") {
        return Err(Missing::Wrong("the badge is not a BadgeClass".into()));
    }
    match badge.get("issuer") {
        Some(Value::String(url)) => load(options, url).map_err(|e| Missing::Unknown(format!("the issuer could not be loaded: {e}"))),
        Some(issuer @ Value::Object(_)) => Ok(issuer.clone()),
        _ => Err(Missing::Wrong("the badge class names no issuer".into())),
    }
}

fn report_missing(report: &mut Report, missing: Missing) {
    match missing {
        Missing::Unknown(reason) => report.unknown("issuer", reason),
        Missing::Wrong(reason) => report.fail("issuer", reason),
    }
}

/// `expires`, judged against `options.now`.
fn check_expiry(assertion: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    if let Some(expires) = assertion.get("expires") {
        check_valid_until(expires, "expires", options, report);
    }
}

/// OB 2.0 hosted verification: the assertion is fetched from its own id, must not be revoked or
/// expired, and its badge class and issuer must load and be on the same host as the issuer's id.
pub(super) fn verify_hosted(document: Value, options: &VerifyOptions<'_>, mut report: Report) -> VerificationReport {
    const FORMAT: &str = "ob2-hosted";
    report.pass("format", "an Open Badges 2.0 assertion");
    let verification_type = document.get("verification").and_then(|v| v.get("type")).and_then(Value::as_str).unwrap_or("hosted");
    if matches!(verification_type, "SignedBadge" | "signed") {
        report.unknown("proof", "this is a signed assertion without its signature: verify the JWS it was signed as");
        return finish(report, "ob2", Some(document));
    }
    if !matches!(verification_type, "hosted" | "HostedBadge") {
        report.unknown("proof", format!("OB 2.0 \"{verification_type}\" verification is not supported; only hosted and signed assertions are"));
        return finish(report, "ob2", Some(document));
    }
    let Some(id) = document.get("id").and_then(Value::as_str).filter(|id| id.starts_with("http")) else {
        report.fail("proof", "a hosted assertion needs an http(s) id");
        return finish(report, FORMAT, Some(document));
    };
    let hosted = match load(options, id) {
        Ok(hosted) => hosted,
        Err(LoadError::Gone { .. }) => {
            report.fail("status", format!("revoked: the issuer withdrew {id} (HTTP 410 Gone)"));
            return finish(report, FORMAT, Some(document));
        }
        Err(error) => {
            report.unknown("proof", format!("the hosted assertion {id} could not be loaded: {error}"));
            return finish(report, FORMAT, Some(document));
        }
    };
    if hosted.get("revoked").and_then(Value::as_bool) == Some(true) {
        let reason = hosted.get("revocationReason").and_then(Value::as_str).unwrap_or("no reason given");
        report.fail("status", format!("revoked: {reason}"));
        return finish(report, FORMAT, Some(hosted));
    }
    if hosted.get("id").and_then(Value::as_str) != Some(id) {
        report.fail("proof", format!("the document at {id} has another id"));
        return finish(report, FORMAT, Some(hosted));
    }
    report.pass("proof", format!("hosted at {id}"));
    let host = |url: &str| url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string));
    match badge_issuer(&hosted, options) {
        Ok(issuer) => {
            let issuer_id = issuer.get("id").and_then(Value::as_str).unwrap_or("");
            if host(issuer_id).is_some() && host(issuer_id) == host(id) {
                report.pass("issuer", format!("issued by {}", issuer.get("name").and_then(Value::as_str).unwrap_or(issuer_id)));
            } else {
                report.fail("issuer", format!("the assertion {id} is not hosted on the issuer's host ({issuer_id})"));
            }
        }
        Err(missing) => report_missing(&mut report, missing),
    }
    check_expiry(&hosted, options, &mut report);
    finish(report, FORMAT, Some(hosted))
}

/// The id of a node given either as its id or as an object with an `id`.
fn node_id(value: &Value) -> Option<&str> {
    match value {
        Value::String(id) => Some(id),
        Value::Object(node) => node.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// OB 2.0 signed verification: the JWS must be RS256, signed by the key named in
/// `verification.creator` (or, without one, listed in the issuer's `publicKey`); that key's
/// `CryptographicKey` document must be owned by the issuer, and the issuer must list it; the
/// assertion must be issued and not expired; and, when the issuer publishes a `revocationList`,
/// the assertion must not be on it.
pub(super) fn verify_signed(token: &str, assertion: Value, options: &VerifyOptions<'_>, mut report: Report) -> VerificationReport {
    const FORMAT: &str = "ob2-signed";
    report.pass("format", "an Open Badges 2.0 signed assertion (JWS)");
    let header = token.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok()).and_then(|h| serde_json::from_slice::<Value>(&h).ok());
    match header.as_ref().and_then(|h| h.get("alg")).and_then(Value::as_str) {
        Some("RS256") => {}
        Some(alg) => {
            report.fail("proof", format!("the JWS algorithm is \"{alg}\"; OB 2.0 signed badges use RS256"));
            return finish(report, FORMAT, Some(assertion));
        }
        None => {
            report.fail("proof", "the JWS header has no \"alg\"");
            return finish(report, FORMAT, Some(assertion));
        }
    }
    let verification = assertion.get("verification");
    let verification_type = verification.and_then(|v| v.get("type")).and_then(Value::as_str).unwrap_or("");
    if !matches!(verification_type, "SignedBadge" | "signed") {
        report.fail("proof", format!("the assertion's verification type is \"{verification_type}\", not SignedBadge"));
        return finish(report, FORMAT, Some(assertion));
    }
    let issuer = match badge_issuer(&assertion, options) {
        Ok(issuer) => issuer,
        Err(missing) => {
            report_missing(&mut report, missing);
            return finish(report, FORMAT, Some(assertion));
        }
    };
    let Some(issuer_id) = issuer.get("id").and_then(Value::as_str) else {
        report.fail("issuer", "the issuer profile has no id");
        return finish(report, FORMAT, Some(assertion));
    };
    let listed: Vec<&str> = one_or_many(issuer.get("publicKey")).iter().filter_map(node_id).collect();
    let Some(creator) = verification.and_then(|v| v.get("creator")).and_then(node_id).or_else(|| listed.first().copied()) else {
        report.fail("proof", format!("neither verification.creator nor the issuer {issuer_id}'s publicKey names a key"));
        return finish(report, FORMAT, Some(assertion));
    };
    let key_document = match load(options, creator) {
        Ok(key) => key,
        Err(error) => {
            report.unknown("proof", format!("the key {creator} could not be loaded: {error}"));
            return finish(report, FORMAT, Some(assertion));
        }
    };
    if key_document.get("id").and_then(Value::as_str).is_some_and(|id| id != creator) {
        report.fail("proof", format!("the key document at {creator} has another id"));
        return finish(report, FORMAT, Some(assertion));
    }
    let key = match key_document.get("publicKeyPem").and_then(Value::as_str).map(VerificationKey::from_rsa_pem) {
        Some(Ok(key)) => key,
        Some(Err(error)) => {
            report.fail("proof", format!("the key {creator} is not usable: {error}"));
            return finish(report, FORMAT, Some(assertion));
        }
        None => {
            report.fail("proof", format!("the key document {creator} has no publicKeyPem"));
            return finish(report, FORMAT, Some(assertion));
        }
    };
    let signing_input_length = token.rfind('.').unwrap_or(token.len());
    let signature = token.get(signing_input_length + 1..).and_then(|s| URL_SAFE_NO_PAD.decode(s).ok()).unwrap_or_default();
    match key.check_signature(&token.as_bytes()[..signing_input_length], &signature) {
        Ok(()) => report.pass("proof", format!("RS256 signature by {creator}")),
        Err(why) => {
            report.fail("proof", why);
            return finish(report, FORMAT, Some(assertion));
        }
    }
    let owner = key_document.get("owner").and_then(node_id);
    if owner != Some(issuer_id) {
        report.fail("issuer", format!("the key {creator} belongs to {}, not to the issuer {issuer_id}", owner.unwrap_or("nobody")));
    } else if !listed.contains(&creator) {
        report.fail("issuer", format!("the issuer {issuer_id} does not list the key {creator} in its publicKey"));
    } else {
        report.pass("issuer", format!("the key belongs to the issuer {}", issuer.get("name").and_then(Value::as_str).unwrap_or(issuer_id)));
    }
    if let Some(issued_on) = assertion.get("issuedOn") {
        match parse_time(issued_on) {
            Some(t) if t <= options.now + options.max_clock_skew_secs => report.pass("valid_from", format!("issued on {}", issued_on.as_str().unwrap_or(""))),
            Some(_) => report.fail("valid_from", format!("not issued until {}", issued_on.as_str().unwrap_or(""))),
            None => report.fail("valid_from", "issuedOn is not a date-time"),
        }
    }
    check_expiry(&assertion, options, &mut report);
    if let Some(url) = issuer.get("revocationList").and_then(node_id) {
        check_revocation_list(&assertion, url, options, &mut report);
    }
    finish(report, FORMAT, Some(assertion))
}

/// OB 2.0 `RevocationList`: `revokedAssertions` holds assertion ids, or `{id, revocationReason}`.
fn check_revocation_list(assertion: &Value, url: &str, options: &VerifyOptions<'_>, report: &mut Report) {
    let list = match load(options, url) {
        Ok(list) => list,
        Err(error) => return report.unknown("status", format!("status unknown: the revocation list could not be loaded: {error}")),
    };
    if !types(&list).contains(&"RevocationList") {
        return report.unknown("status", format!("status unknown: {url} is not a RevocationList"));
    }
    let Some(id) = assertion.get("id").and_then(Value::as_str) else {
        return report.unknown("status", "status unknown: the assertion has no id to look up");
    };
    let entry = one_or_many(list.get("revokedAssertions")).iter().find(|entry| node_id(entry) == Some(id));
    match entry.map(|entry| entry.get("revocationReason").and_then(Value::as_str)) {
        None => report.pass("status", format!("not on the issuer's revocation list ({url})")),
        Some(Some(reason)) => report.fail("status", format!("revoked: {reason}")),
        Some(None) => report.fail("status", "revoked by the issuer"),
    }
}
