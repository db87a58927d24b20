//! The verification pipeline (OB 3.0 §9, in order): detect the format (JSON, VC-JWT, baked PNG or
//! SVG, URL), check the document's shape, its proof, the binding of the proof's key to the
//! issuer, its dates and its status; report every check.
//!
//! An invalid credential is a result, not an error: [`verify`] always returns a
//! [`VerificationReport`]. Whatever must come from elsewhere (DID documents, status lists, hosted
//! OB 2.0 documents, a credential named by URL) comes through the caller's [`DocumentLoader`];
//! when it cannot be had the verdict is [`Verdict::Indeterminate`], never "valid".

use crate::bake;
use crate::loader::DocumentLoader;
use crate::schemas::{self, Schema};
use crate::status::{self, StatusOutcome};
use crate::suites::{eddsa_rdfc_2022, vc_jwt};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// A check failed.
    Invalid,
    /// Something needed could not be had (a key, a status list): no judgement either way.
    Indeterminate,
}

/// One check: `ok` is `true` (passed), `false` (failed) or `null` (could not be checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id: `format`, `shape`, `proof`, `issuer`, `valid_from`, `valid_until`, `status`,
    /// `endorsements`, ….
    pub id: String,
    /// The outcome.
    pub ok: Option<bool>,
    /// What was found, in words.
    pub detail: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    /// The verdict.
    pub verdict: Verdict,
    /// What was verified: `ob3-json`, `ob3-jwt`, `clr-json`, `ob2-hosted`, `ob2-signed`, with a
    /// `png+`/`svg+` prefix when baked.
    pub format: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The credential as read (for display), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Value>,
}

/// What verification needs from the world.
pub struct VerifyOptions<'a> {
    /// Contexts, DID documents (by DID), status lists and hosted documents (by URL).
    pub loader: &'a dyn DocumentLoader,
    /// Extra keys for VC-JWT (e.g. a JWKS the caller loaded), tried before DID documents.
    pub jwt_keys: Option<&'a dyn vc_jwt::KeyResolver>,
    /// The time to judge dates against (Unix seconds).
    pub now: i64,
    /// Tolerance for clock differences, in seconds.
    pub max_clock_skew_secs: i64,
}

/// The largest input accepted.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// How deep URL indirection and nested credentials may go.
const MAX_NESTING: usize = 4;

struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn pass(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check { id: id.into(), ok: Some(true), detail: detail.into() });
    }
    fn fail(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check { id: id.into(), ok: Some(false), detail: detail.into() });
    }
    fn unknown(&mut self, id: &str, detail: impl Into<String>) {
        self.checks.push(Check { id: id.into(), ok: None, detail: detail.into() });
    }
    fn verdict(&self) -> Verdict {
        if self.checks.iter().any(|c| c.ok == Some(false)) {
            Verdict::Invalid
        } else if self.checks.iter().any(|c| c.ok.is_none()) || self.checks.is_empty() {
            Verdict::Indeterminate
        } else {
            Verdict::Valid
        }
    }
}

/// Verifies a credential in any supported form: OB 3.0 / CLR 2.0 JSON with a Data Integrity proof,
/// an OB 3.0 VC-JWT, an OB 2.0 hosted assertion, an OB 2.0 signed assertion (JWS), a baked PNG or SVG of any of these, or a URL
/// whose document is one of these (loaded through `options.loader`).
pub fn verify(input: &[u8], options: &VerifyOptions<'_>) -> VerificationReport {
    verify_at_depth(input, options, 0)
}

fn verify_at_depth(input: &[u8], options: &VerifyOptions<'_>, depth: usize) -> VerificationReport {
    let mut report = Report { checks: Vec::new() };
    if input.len() > MAX_INPUT_BYTES {
        report.fail("format", format!("the input is {} bytes, over the limit of {MAX_INPUT_BYTES}", input.len()));
        return finish(report, "unknown", None);
    }
    if depth > MAX_NESTING {
        report.fail("format", "too many levels of indirection");
        return finish(report, "unknown", None);
    }
    if let Some(kind) = bake::sniff(input) {
        let prefix = match kind {
            bake::ImageKind::Png => "png",
            bake::ImageKind::Svg => "svg",
        };
        return match bake::unbake(input) {
            Ok(Some(payload)) => {
                let mut inner = verify_at_depth(payload.as_str().as_bytes(), options, depth + 1);
                inner.checks.insert(0, Check { id: "format".into(), ok: Some(true), detail: format!("a baked {} image", prefix.to_uppercase()) });
                inner.format = format!("{prefix}+{}", inner.format);
                inner
            }
            Ok(None) => {
                report.fail("format", format!("the {} image carries no badge", prefix.to_uppercase()));
                finish(report, prefix, None)
            }
            Err(error) => {
                report.fail("format", format!("the image cannot be read: {error}"));
                finish(report, prefix, None)
            }
        };
    }
    let Ok(text) = std::str::from_utf8(input) else {
        report.fail("format", "the input is neither an image nor UTF-8 text");
        return finish(report, "unknown", None);
    };
    let text = text.trim();
    if text.starts_with('{') {
        return verify_json(text, options, report, depth);
    }
    if text.starts_with("https://") || text.starts_with("http://") {
        return match options.loader.load(text) {
            Ok(document) => {
                let mut inner = verify_at_depth(document.json().as_bytes(), options, depth + 1);
                inner.checks.insert(0, Check { id: "format".into(), ok: Some(true), detail: format!("loaded from {text}") });
                inner
            }
            Err(crate::loader::LoadError::Gone { .. }) => {
                // A hosted credential answering 410 Gone has been withdrawn by its issuer (OB 2.0 §Revocation).
                report.pass("format", format!("{text} answered 410 Gone"));
                report.fail("status", format!("revoked: the issuer withdrew {text} (HTTP 410 Gone)"));
                finish(report, "url", None)
            }
            Err(error) => {
                report.unknown("format", format!("the credential at {text} could not be loaded: {error}"));
                finish(report, "url", None)
            }
        };
    }
    if looks_like_jwt(text) {
        return match ob2::signed_assertion(text) {
            Some(assertion) => ob2::verify_signed(text, assertion, options, report),
            None => verify_jwt(text, options, report, depth),
        };
    }
    report.fail("format", "the input is not a credential (JSON, JWT, PNG, SVG or URL)");
    finish(report, "unknown", None)
}

fn finish(report: Report, format: &str, credential: Option<Value>) -> VerificationReport {
    VerificationReport { verdict: report.verdict(), format: format.into(), checks: report.checks, credential }
}

fn looks_like_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3 && parts[..2].iter().all(|p| !p.is_empty()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn types(value: &Value) -> Vec<&str> {
    match value.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// One value or a list of them, as JSON-LD compaction leaves a one-element list.
fn one_or_many(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::Array(list)) => list,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    }
}

fn issuer_id(credential: &Value) -> Option<&str> {
    match credential.get("issuer") {
        Some(Value::String(id)) => Some(id),
        Some(Value::Object(profile)) => profile.get("id").and_then(Value::as_str),
        _ => None,
    }
}

fn verify_json(text: &str, options: &VerifyOptions<'_>, mut report: Report, depth: usize) -> VerificationReport {
    let document: Value = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(error) => {
            report.fail("format", format!("the JSON cannot be read: {error}"));
            return finish(report, "json", None);
        }
    };
    let kinds = types(&document);
    let context = document.get("@context").map(Value::to_string).unwrap_or_default();
    if kinds.contains(&"Assertion") || context.contains("w3id.org/openbadges/v2") {
        return ob2::verify_hosted(document, options, report);
    }
    let format = if kinds.contains(&"ClrCredential") { "clr-json" } else { "ob3-json" };
    report.pass("format", if format == "clr-json" { "a CLR 2.0 credential (JSON)" } else { "an Open Badges 3.0 credential (JSON)" });
    check_shape(&document, &mut report);
    match eddsa_rdfc_2022::verify(&document, options.loader) {
        Ok(verification) => {
            let issuer = issuer_id(&document).map(str::to_string);
            for proof in &verification.proofs {
                match &proof.failure {
                    None => report.pass("proof", format!("eddsa-rdfc-2022 proof by {}", proof.verification_method.as_deref().unwrap_or("?"))),
                    Some(failure) => report.fail("proof", failure.to_string()),
                }
                if proof.is_valid() {
                    match (&proof.controller, &issuer) {
                        (Some(controller), Some(issuer)) if controller == issuer => report.pass("issuer", format!("the key belongs to the issuer {issuer}")),
                        (Some(controller), Some(issuer)) => report.fail("issuer", format!("the key belongs to {controller}, not to the issuer {issuer}")),
                        _ => report.fail("issuer", "the proof's key could not be bound to an issuer id"),
                    }
                }
            }
        }
        Err(eddsa_rdfc_2022::DiError::KeyUnavailable { verification_method, reason }) => {
            report.unknown("proof", format!("the key {verification_method} could not be retrieved: {reason}"));
        }
        Err(error) => report.fail("proof", error.to_string()),
    }
    check_dates(&document, options, &mut report);
    check_status(&document, options, &mut report);
    check_endorsements(&document, options, &mut report, depth);
    if format == "clr-json" {
        check_nested(&document, options, &mut report, depth);
    }
    finish(report, format, Some(document))
}

/// How many schema errors a `shape` check names.
const SHOWN_SCHEMA_ERRORS: usize = 3;

/// The shape every VC-based credential must have before anything else is judged: a VC 2.0
/// credential is checked against the official JSON schema of its kind (bundled, see
/// [`crate::schemas`]); a VC 1.1 one, which those schemas do not describe, against the rules
/// below only.
fn check_shape(document: &Value, report: &mut Report) {
    let kinds = types(document);
    let schema = if kinds.contains(&"ClrCredential") {
        Some(Schema::ClrCredential)
    } else if kinds.contains(&"EndorsementCredential") {
        Some(Schema::EndorsementCredential)
    } else if kinds.iter().any(|k| matches!(*k, "OpenBadgeCredential" | "AchievementCredential")) {
        Some(Schema::AchievementCredential)
    } else {
        None
    };
    let first_context = document.get("@context").and_then(|c| c.as_array()).and_then(|c| c.first()).and_then(Value::as_str);
    if let (Some(schema), Some("https://www.w3.org/ns/credentials/v2")) = (schema, first_context) {
        return match schemas::validate(schema, document) {
            Ok(()) => report.pass("shape", format!("valid against the official {} JSON schema", schema.name())),
            Err(errors) => {
                let shown: Vec<String> = errors
                    .iter()
                    .take(SHOWN_SCHEMA_ERRORS)
                    .map(|e| format!("{}: {}", if e.pointer.is_empty() { "/" } else { &e.pointer }, e.message))
                    .collect();
                let more = errors.len().saturating_sub(SHOWN_SCHEMA_ERRORS);
                let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
                report.fail("shape", format!("not valid against the official {} JSON schema: {}{more}", schema.name(), shown.join("; ")))
            }
        };
    }
    let mut problems = Vec::new();
    if !matches!(first_context, Some("https://www.w3.org/ns/credentials/v2" | "https://www.w3.org/2018/credentials/v1")) {
        problems.push("the first @context must be the VC v2 (or v1.1) context".to_string());
    }
    if !kinds.contains(&"VerifiableCredential") {
        problems.push("type must include VerifiableCredential".into());
    }
    if !kinds.iter().any(|k| matches!(*k, "OpenBadgeCredential" | "AchievementCredential" | "ClrCredential" | "EndorsementCredential")) {
        problems.push("type must include OpenBadgeCredential, AchievementCredential, EndorsementCredential or ClrCredential".into());
    }
    if issuer_id(document).is_none() {
        problems.push("the issuer has no id".into());
    }
    if document.get("validFrom").is_none() && document.get("issuanceDate").is_none() {
        problems.push("validFrom is missing".into());
    }
    match document.get("credentialSubject") {
        Some(Value::Object(subject)) => {
            if kinds.iter().any(|k| matches!(*k, "OpenBadgeCredential" | "AchievementCredential")) && !subject.contains_key("achievement") {
                problems.push("credentialSubject has no achievement".into());
            }
        }
        _ => problems.push("credentialSubject is missing".into()),
    }
    if problems.is_empty() {
        report.pass("shape", "the credential has every required part (VC 1.1: no official schema applies)");
    } else {
        report.fail("shape", problems.join("; "));
    }
}

fn parse_time(value: &Value) -> Option<i64> {
    value.as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()).map(OffsetDateTime::unix_timestamp)
}

fn check_dates(document: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    let skew = options.max_clock_skew_secs;
    if let Some(from) = document.get("validFrom").or_else(|| document.get("issuanceDate")) {
        match parse_time(from) {
            Some(t) if t <= options.now + skew => report.pass("valid_from", format!("valid from {}", from.as_str().unwrap_or(""))),
            Some(_) => report.fail("valid_from", format!("not valid until {}", from.as_str().unwrap_or(""))),
            None => report.fail("valid_from", "validFrom is not an RFC 3339 date-time"),
        }
    }
    for property in ["validUntil", "expirationDate"] {
        if let Some(until) = document.get(property) {
            return check_valid_until(until, property, options, report);
        }
    }
}

/// The `valid_until` check of `value`, the date-time in `property` after which a document expires
/// (`validUntil`, VC 1.1 `expirationDate`, OB 2.0 `expires`).
fn check_valid_until(value: &Value, property: &str, options: &VerifyOptions<'_>, report: &mut Report) {
    let text = value.as_str().unwrap_or("");
    match parse_time(value) {
        Some(t) if t + options.max_clock_skew_secs >= options.now => report.pass("valid_until", format!("valid until {text}")),
        Some(_) => report.fail("valid_until", format!("expired on {text}")),
        None => report.fail("valid_until", format!("{property} is not an RFC 3339 date-time")),
    }
}

fn check_status(document: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    let entries: Vec<&Value> = match document.get("credentialStatus") {
        None => return,
        Some(Value::Array(list)) => list.iter().collect(),
        Some(entry) => vec![entry],
    };
    let credential_id = document.get("id").and_then(Value::as_str);
    for entry in entries {
        let Some(url) = status::list_url(entry) else {
            report.fail("status", "a credentialStatus entry names no list");
            continue;
        };
        let list = match options.loader.load(url).and_then(|d| d.parse()) {
            Ok(list) => list,
            Err(error) => {
                report.unknown("status", format!("status unknown: {error}"));
                continue;
            }
        };
        // A status list credential must itself verify and come from the same issuer.
        if list.get("proof").is_some() {
            match eddsa_rdfc_2022::verify(&list, options.loader) {
                Ok(verification) if verification.is_valid() => {
                    let controller = verification.proofs.first().and_then(|p| p.controller.clone());
                    if controller.as_deref() != issuer_id(document) || issuer_id(&list) != issuer_id(document) {
                        report.fail("status", format!("the status list {url} is not signed by the credential's issuer"));
                        continue;
                    }
                }
                Ok(verification) => {
                    report.fail(
                        "status",
                        format!("the status list's proof is not valid: {}", verification.failure().map(ToString::to_string).unwrap_or_default()),
                    );
                    continue;
                }
                Err(error) => {
                    report.unknown("status", format!("status unknown: the status list's proof could not be checked: {error}"));
                    continue;
                }
            }
        } else if types(&list).contains(&"BitstringStatusListCredential") {
            report.fail("status", format!("the status list {url} is not signed"));
            continue;
        }
        match status::check_entry(entry, credential_id, Some(&list)) {
            StatusOutcome::Clear => report.pass("status", format!("not revoked or suspended ({url})")),
            StatusOutcome::Set { purpose, reason } => {
                let what = match purpose {
                    status::StatusPurpose::Revocation => "revoked",
                    status::StatusPurpose::Suspension => "suspended",
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
}

/// Where OB 3.0 lets endorsements sit: on the credential, its issuer profile, its achievement and
/// that achievement's creator, each named for the report.
fn endorsement_sites(document: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    let achievement = document.get("credentialSubject").and_then(|subject| subject.get("achievement"));
    [
        ("the credential", Some(document)),
        ("the issuer", document.get("issuer")),
        ("the achievement", achievement),
        ("the achievement's creator", achievement.and_then(|a| a.get("creator"))),
    ]
    .into_iter()
    .filter_map(|(site, node)| node.filter(|node| node.is_object()).map(|node| (site, node)))
}

/// Every `endorsement` (an EndorsementCredential with its own proof) and `endorsementJwt` on the
/// credential, its issuer and its achievement goes through the whole pipeline on its own, and must
/// endorse the node it sits on. One `endorsements` check sums them up: it fails with the first
/// problem of each bad endorsement; without endorsements there is no check.
fn check_endorsements(document: &Value, options: &VerifyOptions<'_>, report: &mut Report, depth: usize) {
    let (mut endorsers, mut problems, mut unknowns) = (Vec::new(), Vec::new(), Vec::new());
    for (site, node) in endorsement_sites(document) {
        let endorsed = node.get("id").and_then(Value::as_str);
        let signed = one_or_many(node.get("endorsement")).iter().map(Value::to_string);
        let tokens = one_or_many(node.get("endorsementJwt")).iter().map(|token| token.as_str().map_or_else(|| token.to_string(), str::to_string));
        for input in signed.chain(tokens) {
            let inner = verify_at_depth(input.as_bytes(), options, depth + 1);
            let credential = inner.credential.as_ref();
            let by = credential.and_then(issuer_id).unwrap_or("an unknown endorser");
            let label = format!("an endorsement of {site} by {by}");
            let subject = credential.and_then(|c| c.get("credentialSubject")).and_then(|s| s.get("id")).and_then(Value::as_str);
            if let Some(failed) = inner.checks.iter().find(|check| check.ok == Some(false)) {
                problems.push(format!("{label}: {}: {}", failed.id, failed.detail));
            } else if subject.is_none() || subject != endorsed {
                problems.push(format!("{label} endorses {}, not {}", subject.unwrap_or("nothing"), endorsed.unwrap_or("this unidentified node")));
            } else if let Some(open) = inner.checks.iter().find(|check| check.ok.is_none()) {
                unknowns.push(format!("{label}: {}: {}", open.id, open.detail));
            } else {
                endorsers.push(by.to_string());
            }
        }
    }
    if !problems.is_empty() {
        report.fail("endorsements", problems.join("; "));
    } else if !unknowns.is_empty() {
        report.unknown("endorsements", unknowns.join("; "));
    } else if !endorsers.is_empty() {
        let count = endorsers.len();
        report.pass("endorsements", format!("{count} endorsement{} verified, by {}", if count == 1 { "" } else { "s" }, endorsers.join(", ")));
    }
}

/// A CLR's nested credentials are verified one by one; their checks are prefixed `credential[N].`.
fn check_nested(document: &Value, options: &VerifyOptions<'_>, report: &mut Report, depth: usize) {
    let nested = document.get("credentialSubject").and_then(|s| s.get("verifiableCredential")).and_then(Value::as_array);
    for (i, credential) in nested.into_iter().flatten().enumerate() {
        let bytes = match credential {
            Value::String(jwt) => jwt.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        let inner = verify_at_depth(&bytes, options, depth + 1);
        for check in inner.checks {
            report.checks.push(Check { id: format!("credential[{i}].{}", check.id), ok: check.ok, detail: check.detail });
        }
    }
}

/// Resolves VC-JWT keys from the caller's keys, then from DID documents through the loader.
struct LoaderKeys<'a> {
    options: &'a VerifyOptions<'a>,
}

impl vc_jwt::KeyResolver for LoaderKeys<'_> {
    fn resolve(&self, lookup: &vc_jwt::KeyLookup<'_>) -> Result<Option<vc_jwt::ResolvedKey>, vc_jwt::KeyResolutionError> {
        if let Some(extra) = self.options.jwt_keys
            && let Some(found) = extra.resolve(lookup)?
        {
            return Ok(Some(found));
        }
        let did = lookup.kid.or(lookup.issuer).map(|id| id.split('#').next().unwrap_or(id)).filter(|d| d.starts_with("did:"));
        let mut keys = vc_jwt::TrustedKeys::new();
        if let Some(did) = did.filter(|d| !d.starts_with("did:key:")) {
            let document = self
                .options
                .loader
                .load(did)
                .and_then(|d| d.parse())
                .map_err(|e| vc_jwt::KeyResolutionError::Unavailable(format!("the DID document of {did}: {e}")))?;
            keys = keys.with_did_document(&document).map_err(|e| vc_jwt::KeyResolutionError::Refused(e.to_string()))?;
        }
        keys.resolve(lookup)
    }

    fn accepts_header_jwk(&self) -> bool {
        self.options.jwt_keys.is_some_and(|k| k.accepts_header_jwk())
    }
}

fn verify_jwt(token: &str, options: &VerifyOptions<'_>, mut report: Report, depth: usize) -> VerificationReport {
    report.pass("format", "an Open Badges 3.0 VC-JWT");
    let keys = LoaderKeys { options };
    let verification = match vc_jwt::verify(token, &keys, options.now, options.max_clock_skew_secs) {
        Ok(verification) => verification,
        Err(error) => {
            report.fail("proof", error.to_string());
            return finish(report, "ob3-jwt", None);
        }
    };
    for check in &verification.checks {
        let ok = if check.ok {
            Some(true)
        } else if verification.verdict == vc_jwt::JwtVerdict::Indeterminate {
            None
        } else {
            Some(false)
        };
        report.checks.push(Check { id: format!("jwt.{}", check.id.name()), ok, detail: check.detail.clone() });
    }
    if let Some(credential) = &verification.credential
        && verification.verdict == vc_jwt::JwtVerdict::Valid
    {
        check_shape(credential, &mut report);
        check_status(credential, options, &mut report);
        check_endorsements(credential, options, &mut report, depth);
    }
    finish(report, "ob3-jwt", verification.credential)
}

mod ob2;

#[cfg(test)]
mod tests;
