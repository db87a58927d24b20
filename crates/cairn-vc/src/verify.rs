//! The verification pipeline (OB 3.0 §9, in order): detect the format (JSON, VC-JWT, baked PNG or
//! SVG, URL), check the document's shape, its proof, the binding of the proof's key to the
//! issuer, its dates and its status, then its endorsements (and a CLR's credentials), each
//! through the pipeline itself; report every check.
//!
//! An invalid credential is a result, not an error: [`verify`] always returns a
//! [`VerificationReport`]. Whatever must come from elsewhere (DID documents, status lists, hosted
//! OB 2.0 documents, a credential named by URL) comes through the caller's [`DocumentLoader`];
//! when it cannot be had the verdict is [`Verdict::Indeterminate`], never "valid".
//!
//! # Bounded work
//!
//! A document is a stranger's, and what it names is fetched by the caller: every fan-out has a
//! cap, so that one input costs a bounded amount of work whatever it holds. Text inputs are at
//! most [`MAX_TEXT_BYTES`]; per credential at most [`MAX_STATUS_ENTRIES`] status entries,
//! [`MAX_ENDORSEMENTS`] endorsements and (for a CLR) [`MAX_NESTED_CREDENTIALS`] credentials are
//! verified, and per verification at most [`MAX_CREDENTIALS_PER_RUN`] credentials in all and
//! [`MAX_STATUS_LISTS_PER_RUN`] status lists, nested at most [`MAX_NESTING`] deep. What a cap
//! leaves unchecked makes its check "could not check", never "valid". A status list is loaded
//! and verified once per verification, and once per its lifetime across verifications with a
//! [`StatusListCache`]; no status list is loaded for a credential whose proof failed.
//!
//! # Warnings and `strict`
//!
//! A check may pass with warnings: the credential deviates from the standard in a way that does
//! not change what its proof, issuer, dates or status mean. With [`VerifyOptions::strict`] every
//! warning is a failure. Warnings come from the VC-JWT checks (`typ`, missing `sub`, the VC-JWT 1.1
//! `vc` claim, …) and from the JSON schema, where an error is a warning only when both:
//!
//! 1. its keyword says a value, present and of the right type, lies outside a closed list or form
//!    (`enum`, `const`, `pattern`, `format`, `contains` on a list of type names, or `anyOf`/`oneOf`
//!    whose alternatives all failed only so) — a term another issuer uses that OB 3.0 does not list,
//!    such as an alignment `targetType` of `ceterms:Skill`; and
//! 2. its place, read from the root of the credential it belongs to (an endorsement and a CLR's
//!    nested credential are credentials of their own), is none of what the verdict rests on: the
//!    document itself, `@context`, `id`, `type`, `issuer` (itself, its `id` and `type`),
//!    `credentialSubject` (itself, its `id` and `type`), `credentialSubject/achievement` (itself,
//!    its `id` and `type`), `validFrom`, `validUntil`, `issuanceDate`, `expirationDate`, `proof`,
//!    `credentialStatus` and `credentialSchema`, or anything under those but the first three
//!    objects ([`LOAD_BEARING`]).
//!
//! Every other schema error — a missing required member, a wrong JSON type, an unexpected member
//! where the schema forbids one, any deviation at a load-bearing place — fails the `shape` check.
//!
//! One spelling is read rather than judged: a `credentialStatus` that is a set of at most
//! [`MAX_STATUS_ENTRIES`] objects. VC 2.0 (§4.10) allows "a single object or a set of one or more
//! objects", the OB 3.0 and CLR 2.0 schemas describe one object (OB 3.0 `[0..1]`; 1EdTech's
//! openbadges-specification issue #623 proposes a set for 3.1). Each entry is checked against the
//! schema's `CredentialStatus` — an error in an entry fails as at any load-bearing place — and the
//! set itself is a warning: the `status` check reads every entry, so a revocation and a suspension
//! entry side by side mean what they say ([`schemas::validate_status_sets`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::bake;
use crate::loader::DocumentLoader;
use crate::schemas::{self, Schema, SchemaError};
use crate::suites::{eddsa_rdfc_2022, vc_jwt};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use self::status::{MAX_STATUS_ENTRIES, MAX_STATUS_LISTS_PER_RUN, StatusListCache, VerifiedStatusList};

// The shape check reads a status set entry by entry exactly as far as the status check reads it.
const _: () = assert!(schemas::MAX_STATUS_SET == MAX_STATUS_ENTRIES);

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

/// One check: `ok` is `true` (passed), `false` (failed) or `null` (could not be checked). A check
/// that passed may carry `warnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id: `format`, `shape`, `proof`, `issuer`, `valid_from`, `valid_until`, `status`,
    /// `endorsements`, `jwt.*`, `credential[N].*`, ….
    pub id: String,
    /// The outcome.
    pub ok: Option<bool>,
    /// What was found, in words.
    pub detail: String,
    /// Deviations from the standard that do not change the outcome (see the module
    /// documentation); failures under [`VerifyOptions::strict`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A check's outcome as people read it ([`Check::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOutcome {
    /// Passed.
    Passed,
    /// Passed, with warnings.
    Warning,
    /// Failed.
    Failed,
    /// Could not be checked.
    Unknown,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    /// The verdict.
    pub verdict: Verdict,
    /// What was verified: `ob3-json`, `ob3-jwt`, `clr-json`, `clr-jwt`, `ob2-hosted`, `ob2-signed`, with a
    /// `png+`/`svg+` prefix when baked.
    pub format: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The credential as read (for display), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Value>,
}

/// What verification needs from the world, and how strict it is. [`VerifyOptions::new`] gives
/// the defaults.
#[derive(Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Contexts, DID documents (by DID), status lists and hosted documents (by URL).
    pub loader: &'a dyn DocumentLoader,
    /// Extra keys for VC-JWT (e.g. a JWKS the caller loaded), tried before DID documents.
    pub jwt_keys: Option<&'a dyn vc_jwt::KeyResolver>,
    /// The time to judge dates against (Unix seconds).
    pub now: i64,
    /// Tolerance for clock differences, in seconds.
    pub max_clock_skew_secs: i64,
    /// Whether warnings are failures.
    pub strict: bool,
    /// Status lists verified earlier, to use (and add to) instead of loading and verifying them
    /// again.
    pub status_lists: Option<&'a StatusListCache>,
}

/// The default tolerance for clocks that disagree: five minutes.
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 300;

impl<'a> VerifyOptions<'a> {
    /// Documents from `loader`, dates judged at `now`, [`DEFAULT_CLOCK_SKEW_SECS`], no extra keys,
    /// not strict, no status list cache.
    pub fn new(loader: &'a dyn DocumentLoader, now: i64) -> Self {
        Self { loader, jwt_keys: None, now, max_clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS, strict: false, status_lists: None }
    }

    /// Also tries `keys` for VC-JWTs.
    pub fn with_jwt_keys(mut self, keys: &'a dyn vc_jwt::KeyResolver) -> Self {
        self.jwt_keys = Some(keys);
        self
    }

    /// Tolerates clocks that differ by `seconds`.
    pub fn with_clock_skew(mut self, seconds: i64) -> Self {
        self.max_clock_skew_secs = seconds;
        self
    }

    /// Fails warnings when `strict`.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Uses and fills `cache` for status lists.
    pub fn with_status_lists(mut self, cache: &'a StatusListCache) -> Self {
        self.status_lists = Some(cache);
        self
    }
}

impl std::fmt::Debug for VerifyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("jwt_keys", &self.jwt_keys.is_some())
            .field("now", &self.now)
            .field("max_clock_skew_secs", &self.max_clock_skew_secs)
            .field("strict", &self.strict)
            .field("status_lists", &self.status_lists)
            .finish_non_exhaustive()
    }
}

/// The largest input accepted: a baked image (see [`bake::MAX_IMAGE_BYTES`]).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// The largest text input (JSON, JWT, URL): twice the most a proof covers
/// ([`crate::canon::CanonLimits`], [`vc_jwt::MAX_TOKEN_BYTES`]), which leaves room for whitespace.
pub const MAX_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// The most endorsements verified per credential (on the credential, its issuer, its achievement
/// and that achievement's creator together).
pub const MAX_ENDORSEMENTS: usize = 16;
/// The most nested credentials verified in a CLR.
pub const MAX_NESTED_CREDENTIALS: usize = 100;
/// The most credentials one verification verifies: the input, its endorsements, a CLR's
/// credentials, their endorsements, ….
pub const MAX_CREDENTIALS_PER_RUN: usize = 256;
/// How deep URL indirection, baking and nested credentials may go.
pub const MAX_NESTING: usize = 4;

/// One verification: its options and the work shared by everything it verifies.
struct Run<'r> {
    options: &'r VerifyOptions<'r>,
    /// The status lists it has looked up, by URL, good or bad.
    lists: RefCell<HashMap<String, status::Lookup>>,
    /// How many documents it has started to verify.
    credentials: Cell<usize>,
}

struct Report {
    checks: Vec<Check>,
    strict: bool,
}

impl Report {
    fn new(strict: bool) -> Self {
        Self { checks: Vec::new(), strict }
    }
    fn push(&mut self, id: &str, ok: Option<bool>, detail: impl Into<String>, warnings: Vec<String>) {
        self.checks.push(Check { id: id.into(), ok, detail: detail.into(), warnings });
    }
    fn pass(&mut self, id: &str, detail: impl Into<String>) {
        self.push(id, Some(true), detail, Vec::new());
    }
    fn fail(&mut self, id: &str, detail: impl Into<String>) {
        self.push(id, Some(false), detail, Vec::new());
    }
    fn unknown(&mut self, id: &str, detail: impl Into<String>) {
        self.push(id, None, detail, Vec::new());
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
    fn failed(&self, id: &str) -> bool {
        self.checks.iter().any(|c| c.id == id && c.ok == Some(false))
    }
}

/// Verifies a credential in any supported form: OB 3.0 / CLR 2.0 JSON with a Data Integrity proof,
/// an OB 3.0 VC-JWT, an OB 2.0 hosted assertion, an OB 2.0 signed assertion (JWS), a baked PNG or
/// SVG of any of these, or a URL whose document is one of these (loaded through `options.loader`).
pub fn verify(input: &[u8], options: &VerifyOptions<'_>) -> VerificationReport {
    let run = Run { options, lists: RefCell::default(), credentials: Cell::new(0) };
    verify_at_depth(input, &run, 0)
}

fn verify_at_depth(input: &[u8], run: &Run<'_>, depth: usize) -> VerificationReport {
    let mut report = Report::new(run.options.strict);
    if input.len() > MAX_INPUT_BYTES {
        report.fail("format", format!("the input is {} bytes, over the limit of {MAX_INPUT_BYTES}", input.len()));
        return finish(report, "unknown", None);
    }
    if depth > MAX_NESTING {
        report.fail("format", "too many levels of indirection");
        return finish(report, "unknown", None);
    }
    run.credentials.set(run.credentials.get() + 1);
    if run.credentials.get() > MAX_CREDENTIALS_PER_RUN {
        report.unknown(
            "format",
            format!("not checked: this verification already checked {MAX_CREDENTIALS_PER_RUN} credentials, the most one verification checks"),
        );
        return finish(report, "unknown", None);
    }
    if let Some(kind) = bake::sniff(input) {
        let prefix = match kind {
            bake::ImageKind::Png => "png",
            bake::ImageKind::Svg => "svg",
        };
        return match bake::unbake(input) {
            Ok(Some(payload)) => {
                let mut inner = verify_at_depth(payload.as_str().as_bytes(), run, depth + 1);
                inner
                    .checks
                    .insert(0, Check { id: "format".into(), ok: Some(true), detail: format!("a baked {} image", prefix.to_uppercase()), warnings: Vec::new() });
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
    if input.len() > MAX_TEXT_BYTES {
        report.fail("format", format!("the input is {} bytes, over the limit of {MAX_TEXT_BYTES} for a credential that is not an image", input.len()));
        return finish(report, "unknown", None);
    }
    let Ok(text) = std::str::from_utf8(input) else {
        report.fail("format", "the input is neither an image nor UTF-8 text");
        return finish(report, "unknown", None);
    };
    let text = text.trim();
    if text.starts_with('{') {
        return verify_json(text, run, report, depth);
    }
    if text.starts_with("https://") || text.starts_with("http://") {
        return match run.options.loader.load(text) {
            Ok(document) => {
                let mut inner = verify_at_depth(document.json().as_bytes(), run, depth + 1);
                inner.checks.insert(0, Check { id: "format".into(), ok: Some(true), detail: format!("loaded from {text}"), warnings: Vec::new() });
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
            Some(assertion) => ob2::verify_signed(text, assertion, run.options, report),
            None => verify_jwt(text, run, report, depth),
        };
    }
    report.fail("format", "the input is not a credential (JSON, JWT, PNG, SVG or URL)");
    finish(report, "unknown", None)
}

/// The report, with warnings turned into failures when strict.
fn finish(mut report: Report, format: &str, credential: Option<Value>) -> VerificationReport {
    if report.strict {
        for check in report.checks.iter_mut().filter(|check| check.ok == Some(true) && !check.warnings.is_empty()) {
            check.ok = Some(false);
            check.detail.push_str(" (strict: its warnings are failures)");
        }
    }
    VerificationReport { verdict: report.verdict(), format: format.into(), checks: report.checks, credential }
}

fn looks_like_jwt(text: &str) -> bool {
    let mut parts = text.split('.');
    let (Some(header), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !header.is_empty() && !payload.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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

fn verify_json(text: &str, run: &Run<'_>, mut report: Report, depth: usize) -> VerificationReport {
    let options = run.options;
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
    let skip = report.failed("proof").then_some("the proof failed, so no status list can speak for this credential");
    status::check_status(&document, run, &mut report, skip);
    check_endorsements(&document, run, &mut report, depth);
    if format == "clr-json" {
        check_nested(&document, run, &mut report, depth);
    }
    finish(report, format, Some(document))
}

/// How many schema errors a failed `shape` check names.
const SHOWN_SCHEMA_ERRORS: usize = 3;
/// How many warnings a `shape` check lists.
const SHOWN_SCHEMA_WARNINGS: usize = 10;

/// Where a schema error always fails the `shape` check, as JSON pointers from a credential's root:
/// the place itself and everything under it, except for the first three, where only the node
/// itself is load-bearing (their other members are descriptive).
pub const LOAD_BEARING: [&str; 19] = [
    "/issuer",
    "/credentialSubject",
    "/credentialSubject/achievement",
    "/@context",
    "/id",
    "/type",
    "/issuer/id",
    "/issuer/type",
    "/credentialSubject/id",
    "/credentialSubject/type",
    "/credentialSubject/achievement/id",
    "/credentialSubject/achievement/type",
    "/validFrom",
    "/validUntil",
    "/issuanceDate",
    "/expirationDate",
    "/proof",
    "/credentialStatus",
    "/credentialSchema",
];

/// The part of `pointer` from the root of the credential it belongs to: after the last
/// `endorsement/N` or `verifiableCredential/N`, since an endorsement and a CLR's nested credential
/// are credentials of their own.
fn own_pointer(pointer: &str) -> &str {
    let mut own = pointer;
    let mut offset = 0;
    let segments: Vec<&str> = pointer.split('/').collect();
    for window in segments.windows(2) {
        offset += window[0].len() + 1;
        if matches!(window[0], "endorsement" | "verifiableCredential") && !window[1].is_empty() && window[1].bytes().all(|b| b.is_ascii_digit()) {
            own = pointer.get(offset + window[1].len()..).unwrap_or("");
        }
    }
    own
}

/// Whether a schema error leaves what the credential means as it is (see the module
/// documentation).
fn meaning_preserving(error: &SchemaError) -> bool {
    if !error.vocabulary {
        return false;
    }
    let own = own_pointer(&error.pointer);
    if own.is_empty() {
        return false;
    }
    let (nodes, subtrees) = LOAD_BEARING.split_at(3);
    !nodes.contains(&own) && !subtrees.iter().any(|place| own == *place || own.strip_prefix(place).is_some_and(|rest| rest.starts_with('/')))
}

/// The warning for a `credentialStatus` set: VC 2.0 allows it, the OB 3.0 schema describes one
/// entry; each entry was checked against the schema's `CredentialStatus`, and the `status` check
/// reads every one, so the set keeps its meaning (see the module documentation).
fn status_set_warning(set: &schemas::StatusSet) -> String {
    format!(
        "{}/credentialStatus: {} status entries; VC 2.0 allows a set, the official schema describes one entry, so each was checked against its CredentialStatus",
        set.pointer, set.entries
    )
}

fn describe(error: &SchemaError) -> String {
    format!("{}: {}", if error.pointer.is_empty() { "/" } else { &error.pointer }, error.message)
}

/// The shape every VC-based credential must have before anything else is judged: a VC 2.0
/// credential is checked against the official JSON schema of its kind (bundled, see
/// [`crate::schemas`]), its errors split into failures and warnings as the module documentation
/// says; a VC 1.1 one, which those schemas do not describe, against the rules below only.
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
        let (errors, sets) = schemas::validate_status_sets(schema, document);
        let (soft, hard): (Vec<&SchemaError>, Vec<&SchemaError>) = errors.iter().partition(|error| meaning_preserving(error));
        let mut warnings: Vec<String> = sets.iter().map(status_set_warning).collect();
        warnings.extend(soft.iter().take(SHOWN_SCHEMA_WARNINGS).map(|error| describe(error)));
        if soft.len() > SHOWN_SCHEMA_WARNINGS {
            warnings.push(format!("and {} more", soft.len() - SHOWN_SCHEMA_WARNINGS));
        }
        let soft_count = soft.len() + sets.len();
        let name = schema.name();
        if hard.is_empty() && soft_count == 0 {
            report.pass("shape", format!("valid against the official {name} JSON schema"));
        } else if hard.is_empty() {
            let count = soft_count;
            let detail = format!(
                "valid against the official {name} JSON schema but for {count} deviation{} that do{} not change what it means",
                if count == 1 { "" } else { "s" },
                if count == 1 { "es" } else { "" },
            );
            report.push("shape", Some(true), detail, warnings);
        } else {
            let shown: Vec<String> = hard.iter().take(SHOWN_SCHEMA_ERRORS).map(|error| describe(error)).collect();
            let more = hard.len().saturating_sub(SHOWN_SCHEMA_ERRORS);
            let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            report.push("shape", Some(false), format!("not valid against the official {name} JSON schema: {}{more}", shown.join("; ")), warnings);
        }
        return;
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
/// credential, its issuer and its achievement — the first [`MAX_ENDORSEMENTS`] of them — goes
/// through the whole pipeline on its own, and must endorse the node it sits on. One
/// `endorsements` check sums them up: it fails with the first problem of each bad endorsement,
/// carries their warnings, and could not be made when some were not checked; without
/// endorsements there is no check.
fn check_endorsements(document: &Value, run: &Run<'_>, report: &mut Report, depth: usize) {
    let (mut endorsers, mut problems, mut unknowns, mut warnings) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut found = 0_usize;
    for (site, node) in endorsement_sites(document) {
        let endorsed = node.get("id").and_then(Value::as_str);
        let signed = one_or_many(node.get("endorsement")).iter();
        let tokens = one_or_many(node.get("endorsementJwt")).iter();
        for value in signed.chain(tokens) {
            found += 1;
            if found > MAX_ENDORSEMENTS {
                continue;
            }
            let input = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            let inner = verify_at_depth(input.as_bytes(), run, depth + 1);
            let credential = inner.credential.as_ref();
            let by = credential.and_then(issuer_id).unwrap_or("an unknown endorser");
            let label = format!("an endorsement of {site} by {by}");
            let subject = credential.and_then(|c| c.get("credentialSubject")).and_then(|s| s.get("id")).and_then(Value::as_str);
            for check in &inner.checks {
                warnings.extend(check.warnings.iter().map(|warning| format!("{label}: {}: {warning}", check.id)));
            }
            if let Some(failed) = inner.checks.iter().find(|check| check.ok == Some(false)) {
                problems.push(format!("{label}: {}: {}", failed.id, failed.detail));
            } else if credential.is_some() && (subject.is_none() || subject != endorsed) {
                problems.push(format!("{label} endorses {}, not {}", subject.unwrap_or("nothing"), endorsed.unwrap_or("this unidentified node")));
            } else if let Some(open) = inner.checks.iter().find(|check| check.ok.is_none()) {
                unknowns.push(format!("{label}: {}: {}", open.id, open.detail));
            } else if credential.is_none() {
                unknowns.push(format!("{label}: it could not be read"));
            } else {
                endorsers.push(by.to_string());
            }
        }
    }
    if found > MAX_ENDORSEMENTS {
        let capped = format!("{found} endorsements; only the first {MAX_ENDORSEMENTS} were checked");
        if problems.is_empty() {
            unknowns.push(capped);
        } else {
            problems.push(capped);
        }
    }
    if !problems.is_empty() {
        report.push("endorsements", Some(false), problems.join("; "), warnings);
    } else if !unknowns.is_empty() {
        report.push("endorsements", None, unknowns.join("; "), warnings);
    } else if !endorsers.is_empty() {
        let count = endorsers.len();
        report.push(
            "endorsements",
            Some(true),
            format!("{count} endorsement{} verified, by {}", if count == 1 { "" } else { "s" }, endorsers.join(", ")),
            warnings,
        );
    }
}

/// A CLR's nested credentials — the first [`MAX_NESTED_CREDENTIALS`] of them — are verified one by
/// one; their checks are prefixed `credential[N].`.
fn check_nested(document: &Value, run: &Run<'_>, report: &mut Report, depth: usize) {
    let nested = one_or_many(document.get("credentialSubject").and_then(|s| s.get("verifiableCredential")));
    for (i, credential) in nested.iter().take(MAX_NESTED_CREDENTIALS).enumerate() {
        let bytes = match credential {
            Value::String(jwt) => jwt.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        let inner = verify_at_depth(&bytes, run, depth + 1);
        for check in inner.checks {
            report.checks.push(Check { id: format!("credential[{i}].{}", check.id), ..check });
        }
    }
    if nested.len() > MAX_NESTED_CREDENTIALS {
        report.unknown("credentials", format!("the CLR holds {} credentials; only the first {MAX_NESTED_CREDENTIALS} were checked", nested.len()));
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

    fn candidates(&self, lookup: &vc_jwt::KeyLookup<'_>) -> Result<Vec<vc_jwt::ResolvedKey>, vc_jwt::KeyResolutionError> {
        self.options.jwt_keys.map_or(Ok(Vec::new()), |extra| extra.candidates(lookup))
    }

    fn accepts_header_jwk(&self) -> bool {
        self.options.jwt_keys.is_some_and(|k| k.accepts_header_jwk())
    }
}

fn verify_jwt(token: &str, run: &Run<'_>, mut report: Report, depth: usize) -> VerificationReport {
    let options = run.options;
    report.pass("format", "an Open Badges 3.0 VC-JWT");
    let keys = LoaderKeys { options };
    let verification = match vc_jwt::verify(token, &keys, options.now, options.max_clock_skew_secs) {
        Ok(verification) => verification,
        Err(error) => {
            report.fail("proof", error.to_string());
            return finish(report, "ob3-jwt", None);
        }
    };
    let first = report.checks.len();
    for check in &verification.checks {
        let ok = if check.ok {
            Some(true)
        } else if verification.verdict == vc_jwt::JwtVerdict::Indeterminate {
            None
        } else {
            Some(false)
        };
        report.push(&format!("jwt.{}", check.id.name()), ok, check.detail.clone(), Vec::new());
    }
    for warning in &verification.warnings {
        let id = format!("jwt.{}", warning.id.name());
        let index = report.checks[first..].iter().position(|check| check.id == id).map_or(first.saturating_sub(1), |found| first + found);
        if let Some(check) = report.checks.get_mut(index) {
            check.warnings.push(warning.detail.clone());
        }
    }
    // A CLR as a VC-JWT: its nested credentials are verified as in the JSON form.
    let clr = verification.credential.as_ref().is_some_and(|credential| types(credential).contains(&"ClrCredential"));
    if clr && let Some(check) = report.checks.iter_mut().find(|check| check.id == "format") {
        check.detail = "a CLR 2.0 VC-JWT".into();
    }
    if let Some(credential) = &verification.credential {
        if verification.verdict == vc_jwt::JwtVerdict::Valid {
            check_shape(credential, &mut report);
            status::check_status(credential, run, &mut report, None);
            check_endorsements(credential, run, &mut report, depth);
            if clr {
                check_nested(credential, run, &mut report, depth);
            }
        } else {
            status::check_status(credential, run, &mut report, Some("the token failed its checks (see the jwt checks)"));
        }
    }
    finish(report, if clr { "clr-jwt" } else { "ob3-jwt" }, verification.credential)
}

mod ob2;
mod status;
mod words;

#[cfg(test)]
mod tests;
