//! A [`VerificationReport`] in plain words, for people: the verdict, the format, each check's
//! name and what its outcome means, and the facts a reader looks for (name, issuer, recipient,
//! dates). A page or a terminal shows these; the report itself stays the wire format.

use serde_json::Value;

use super::{Check, CheckOutcome, Verdict, VerificationReport};

impl Verdict {
    /// "Valid", "Invalid" or "Could not check".
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Valid => "Valid",
            Verdict::Invalid => "Invalid",
            Verdict::Indeterminate => "Could not check",
        }
    }

    /// What the verdict means, in a sentence.
    pub fn summary(self) -> &'static str {
        match self {
            Verdict::Valid => {
                "This credential is genuine: its issuer signed it, nothing in it changed since, it is within its dates, and it has not been revoked or suspended."
            }
            Verdict::Invalid => "This credential failed at least one check: do not rely on it.",
            Verdict::Indeterminate => "Some checks could not be made, so there is no verdict either way.",
        }
    }
}

impl CheckOutcome {
    /// A stable lower-case name: `passed`, `warning`, `failed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Warning => "warning",
            CheckOutcome::Failed => "failed",
            CheckOutcome::Unknown => "unknown",
        }
    }

    /// "Passed", "Passed, with warnings", "Failed" or "Could not check".
    pub fn label(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "Passed",
            CheckOutcome::Warning => "Passed, with warnings",
            CheckOutcome::Failed => "Failed",
            CheckOutcome::Unknown => "Could not check",
        }
    }
}

fn humanise(id: &str) -> String {
    let words = id.replace(['_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The check a nested (`credential[N].…`) or JWT (`jwt.…`) check id stands for, for its words.
enum Subject<'a> {
    Nested(String, &'a str),
    Plain(&'a str),
}

fn subject(id: &str) -> Subject<'_> {
    match id.strip_prefix("credential[").and_then(|rest| rest.split_once("].")) {
        Some((n, inner)) => Subject::Nested(n.parse::<usize>().map(|n| (n + 1).to_string()).unwrap_or_else(|_| n.to_string()), inner),
        None => Subject::Plain(id),
    }
}

/// The pipeline check a VC-JWT check plays the part of, for its summary.
fn jwt_role(inner: &str) -> Option<&'static str> {
    match inner {
        "signature" => Some("proof"),
        "key" => Some("issuer"),
        "validity_start" => Some("valid_from"),
        "validity_end" => Some("valid_until"),
        "format" => Some("format"),
        _ => None,
    }
}

impl Check {
    /// What passed, failed or could not be checked, for people: `passed`, `warning` (passed, with
    /// deviations from the standard that do not change the meaning), `failed` or `unknown`.
    pub fn outcome(&self) -> CheckOutcome {
        match self.ok {
            Some(true) if self.warnings.is_empty() => CheckOutcome::Passed,
            Some(true) => CheckOutcome::Warning,
            Some(false) => CheckOutcome::Failed,
            None => CheckOutcome::Unknown,
        }
    }

    /// The check's name for people: "Signature", "Expiry date", "Credential 2: Signature", ….
    pub fn label(&self) -> String {
        match subject(&self.id) {
            Subject::Nested(n, inner) => format!("Credential {n}: {}", Check::label_of(inner)),
            Subject::Plain(id) => Check::label_of(id),
        }
    }

    fn label_of(id: &str) -> String {
        if let Some(inner) = id.strip_prefix("jwt.") {
            let label = match inner {
                "signature" => "signature".to_string(),
                "key" => "signing key".to_string(),
                "iss_claim" => "issuer claim".to_string(),
                "exp_claim" | "validity_end" => "expiry".to_string(),
                "nbf_claim" | "validity_start" => "start date".to_string(),
                other => humanise(other).to_lowercase(),
            };
            return format!("JWT {label}");
        }
        match id {
            "format" => "Format".into(),
            "shape" => "Structure".into(),
            "proof" => "Signature".into(),
            "issuer" => "Issuer's key".into(),
            "valid_from" => "Start date".into(),
            "valid_until" => "Expiry date".into(),
            "status" => "Revocation and suspension".into(),
            "endorsements" => "Endorsements".into(),
            other => humanise(other),
        }
    }

    /// What the outcome means, in one plain sentence; the [`detail`](Check::detail) says what
    /// was found.
    pub fn summary(&self) -> String {
        let outcome = self.outcome();
        match subject(&self.id) {
            Subject::Nested(n, inner) => format!("Credential {n}: {}", Check::summary_of(inner, outcome)),
            Subject::Plain(id) => Check::summary_of(id, outcome),
        }
    }

    fn summary_of(id: &str, outcome: CheckOutcome) -> String {
        use CheckOutcome::{Failed, Passed, Unknown, Warning};
        let role: Option<&str> = match id.strip_prefix("jwt.") {
            Some(inner) => jwt_role(inner),
            None => Some(id),
        };
        let sentence = match (role, outcome) {
            (Some("format"), Passed | Warning) => "The credential's format was recognised.",
            (Some("format"), Failed) => "This is not a credential in a form that can be verified.",
            (Some("format"), Unknown) => "The credential could not be loaded.",
            (Some("shape"), Passed) => "It has every part the standard requires, in the right form.",
            (Some("shape"), Warning) => {
                "It has every part the standard requires; some values are outside the standard's lists or forms, which does not change what the credential means."
            }
            (Some("shape"), Failed) => "It lacks parts the standard requires, or has them in the wrong form.",
            (Some("proof"), Passed | Warning) => "The issuer's signature holds: nothing in the credential changed since it was signed.",
            (Some("proof"), Failed) => "The signature does not hold: the credential was changed, or was not signed by the key it names.",
            (Some("proof"), Unknown) => "The signing key could not be retrieved, so the signature was not checked.",
            (Some("issuer"), Passed | Warning) => "The signing key belongs to the issuer.",
            (Some("issuer"), Failed) => "The signing key does not belong to the issuer the credential names.",
            (Some("issuer"), Unknown) => "The issuer or its key could not be looked up.",
            (Some("valid_from"), Passed | Warning) => "It is in effect.",
            (Some("valid_from"), Failed) => "It is not in effect yet, or its start date cannot be read.",
            (Some("valid_until"), Passed | Warning) => "It has not expired.",
            (Some("valid_until"), Failed) => "It has expired, or its expiry date cannot be read.",
            (Some("status"), Passed | Warning) => "The issuer has not revoked or suspended it.",
            (Some("status"), Failed) => "The issuer revoked or suspended it, or its status list cannot be trusted.",
            (Some("status"), Unknown) => "Whether the issuer revoked or suspended it could not be checked.",
            (Some("endorsements"), Passed | Warning) => "Its endorsements are genuine and endorse what they sit on.",
            (Some("endorsements"), Failed) => "At least one endorsement is not genuine, or endorses something else.",
            (Some("endorsements"), Unknown) => "Some endorsements could not be checked.",
            (_, Passed) => "This check passed.",
            (_, Warning) => "This check passed, with warnings.",
            (_, Failed) => "This check failed.",
            (_, Unknown) => "This check could not be made.",
        };
        sentence.to_owned()
    }
}

impl VerificationReport {
    /// What was verified, in words: "Open Badges 3.0 credential (VC-JWT), baked into a PNG image".
    pub fn format_label(&self) -> String {
        let (baked, inner) = match self.format.split_once('+') {
            Some(("png", inner)) => (Some("PNG"), inner),
            Some(("svg", inner)) => (Some("SVG"), inner),
            _ => (None, self.format.as_str()),
        };
        let label = match inner {
            "ob3-json" => "Open Badges 3.0 credential (JSON with a Data Integrity proof)",
            "ob3-jwt" => "Open Badges 3.0 credential (VC-JWT)",
            "clr-json" => "CLR 2.0 transcript (JSON)",
            "clr-jwt" => "CLR 2.0 transcript (VC-JWT)",
            "ob2-hosted" | "ob2" => "Open Badges 2.0 hosted assertion",
            "ob2-signed" => "Open Badges 2.0 signed assertion",
            "url" => "a web address",
            "json" => "JSON",
            "png" => "a PNG image",
            "svg" => "an SVG image",
            _ => "not recognised",
        };
        match baked {
            Some(image) => format!("{label}, baked into a {image} image"),
            None => label.to_string(),
        }
    }

    /// The first check that failed, or else the first that could not be made, as
    /// "label: detail".
    pub fn first_problem(&self) -> Option<String> {
        let find = |outcome: CheckOutcome| self.checks.iter().find(|c| c.outcome() == outcome).map(|c| format!("{}: {}", c.label(), c.detail));
        find(CheckOutcome::Failed).or_else(|| find(CheckOutcome::Unknown))
    }

    /// Every warning, as "label: warning".
    pub fn warnings(&self) -> Vec<String> {
        self.checks.iter().flat_map(|c| c.warnings.iter().map(move |w| format!("{}: {w}", c.label()))).collect()
    }

    /// Name, issuer, recipient and dates of the credential as read (OB 3.0, CLR 2.0 or OB 2.0),
    /// as (label, value) pairs; none when it could not be read.
    pub fn facts(&self) -> Vec<(String, String)> {
        self.credential.as_ref().map(credential_facts).unwrap_or_default()
    }

    /// The issuer's name as the credential gives it (else its id).
    pub fn issuer_name(&self) -> Option<String> {
        let credential = self.credential.as_ref()?;
        let badge = credential.get("badge").filter(|b| b.is_object());
        match credential.get("issuer").or_else(|| badge.and_then(|b| b.get("issuer"))) {
            Some(Value::Object(profile)) => text_of(profile.get("name")).or_else(|| text_of(profile.get("id"))),
            other => text_of(other),
        }
    }

    /// The credential's (or its achievement's, or badge's) name.
    pub fn credential_name(&self) -> Option<String> {
        let credential = self.credential.as_ref()?;
        let subject = first(credential.get("credentialSubject"));
        let achievement = subject.and_then(|s| s.get("achievement"));
        let badge = credential.get("badge").filter(|b| b.is_object());
        text_of(credential.get("name")).or_else(|| text_of(achievement.and_then(|a| a.get("name")))).or_else(|| text_of(badge.and_then(|b| b.get("name"))))
    }

    /// The recipient's name where the credential carries one (`credentialSubject.name`).
    pub fn recipient_name(&self) -> Option<String> {
        let credential = self.credential.as_ref()?;
        text_of(first(credential.get("credentialSubject")).and_then(|s| s.get("name")))
    }

    /// Whether the credential was issued to the e-mail address `email`: its recipient identity
    /// (OB 3.0 `identifier`, OB 2.0 `recipient`) hashed with its salt, or plain, compared with
    /// the address. `None` when the credential names no e-mail recipient to compare with.
    pub fn issued_to_email(&self, email: &str) -> Option<bool> {
        let credential = self.credential.as_ref()?;
        let subject = first(credential.get("credentialSubject"));
        let identities: Vec<&Value> = match subject.and_then(|s| s.get("identifier")) {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let emails: Vec<&Value> = identities.into_iter().filter(|i| i.get("identityType").and_then(Value::as_str) == Some("emailAddress")).collect();
        if !emails.is_empty() {
            return Some(emails.iter().any(|identity| {
                let recipient = serde_json::json!({
                    "identity": identity.get("identityHash").cloned().unwrap_or(Value::Null),
                    "hashed": identity.get("hashed").cloned().unwrap_or(Value::Bool(false)),
                    "salt": identity.get("salt").cloned().unwrap_or(Value::Null),
                });
                crate::ob2::recipient_matches(&recipient, email)
            }));
        }
        let recipient = credential.get("recipient").filter(|r| r.is_object())?;
        if recipient.get("type").and_then(Value::as_str).is_some_and(|kind| kind != "email") {
            return None;
        }
        Some(crate::ob2::recipient_matches(recipient, email))
    }

    /// The verdict as one sentence that names who and what: "Valid: Secure Coding, issued by
    /// Northbridge", "Revoked by Northbridge", "Suspended by Northbridge", "Expired on 3 May
    /// 2026", "Not genuine: …", "Invalid: …" or "Could not check: …".
    pub fn headline(&self) -> String {
        let issuer = self.issuer_name().unwrap_or_else(|| "the issuer".into());
        match self.verdict {
            Verdict::Valid => match self.credential_name() {
                Some(name) => format!("Valid: {name}, issued by {issuer}"),
                None => format!("Valid, issued by {issuer}"),
            },
            Verdict::Invalid => {
                let Some(failed) = self.checks.iter().find(|c| c.outcome() == CheckOutcome::Failed) else {
                    return "Invalid".into();
                };
                let role = match subject(&failed.id) {
                    Subject::Plain(id) => id.strip_prefix("jwt.").and_then(jwt_role).unwrap_or(id),
                    Subject::Nested(..) => "",
                };
                match role {
                    "status" if failed.detail.starts_with("revoked") => format!("Revoked by {issuer}"),
                    "status" if failed.detail.starts_with("suspended") => format!("Suspended by {issuer}"),
                    "valid_until" if failed.detail.starts_with("expired on ") => format!("Expired on {}", &failed.detail["expired on ".len()..]),
                    "proof" | "issuer" => format!("Not genuine: {}", failed.summary()),
                    _ => format!("Invalid: {}", failed.summary()),
                }
            }
            Verdict::Indeterminate => match self.checks.iter().find(|c| c.outcome() == CheckOutcome::Unknown) {
                Some(unknown) => format!("Could not check: {}", unknown.summary()),
                None => "Could not check".into(),
            },
        }
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(300).collect())
}

fn first(value: Option<&Value>) -> Option<&Value> {
    match value {
        Some(Value::Array(list)) => list.first(),
        other => other,
    }
}

/// A date-time from a credential, as people read it (the raw text when it is not RFC 3339).
fn date_of(value: Option<&Value>) -> Option<String> {
    let raw = text_of(value)?;
    match super::parse_time(&Value::String(raw.clone())) {
        Some(seconds) => Some(crate::dates::unix_day(seconds)),
        None => Some(raw),
    }
}

fn hashed(hash: &str) -> String {
    let short: String = hash.chars().take(24).collect();
    if short.len() < hash.len() { format!("{short}…") } else { short }
}

fn credential_facts(credential: &Value) -> Vec<(String, String)> {
    let mut facts = Vec::new();
    let mut put = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            facts.push((label.to_string(), value));
        }
    };
    let subject = first(credential.get("credentialSubject"));
    let achievement = subject.and_then(|s| s.get("achievement"));
    let badge = credential.get("badge").filter(|b| b.is_object());
    put(
        "Name",
        text_of(credential.get("name")).or_else(|| text_of(achievement.and_then(|a| a.get("name")))).or_else(|| text_of(badge.and_then(|b| b.get("name")))),
    );
    let issuer = credential.get("issuer").or_else(|| badge.and_then(|b| b.get("issuer")));
    let issuer_text = match issuer {
        Some(Value::Object(profile)) => match (text_of(profile.get("name")), text_of(profile.get("id"))) {
            (Some(name), Some(id)) => Some(format!("{name} ({id})")),
            (name, id) => name.or(id),
        },
        other => text_of(other),
    };
    put("Issuer", issuer_text);
    let identifier = first(subject.and_then(|s| s.get("identifier")));
    let recipient = match (identifier, subject.and_then(|s| text_of(s.get("id"))), credential.get("recipient")) {
        (Some(identity), _, _) => {
            let kind = text_of(identity.get("identityType")).unwrap_or_else(|| "identity".into());
            let kind = if kind == "emailAddress" { "e-mail address".to_string() } else { kind };
            match (identity.get("hashed").and_then(Value::as_bool), text_of(identity.get("identityHash"))) {
                (Some(true), Some(hash)) => Some(format!("an {kind}, hashed ({})", hashed(&hash))),
                (_, Some(value)) => Some(format!("{kind} {value}")),
                _ => None,
            }
        }
        (None, Some(id), _) => Some(id),
        (None, None, Some(recipient)) => match (recipient.get("hashed").and_then(Value::as_bool), text_of(recipient.get("identity"))) {
            (Some(true), Some(hash)) => Some(format!("an {}, hashed ({})", text_of(recipient.get("type")).unwrap_or_else(|| "identity".into()), hashed(&hash))),
            (_, Some(identity)) => Some(identity),
            _ => None,
        },
        _ => None,
    };
    put("Recipient", recipient);
    put("Awarded", date_of(credential.get("awardedDate")).or_else(|| date_of(credential.get("issuedOn"))));
    put("Valid from", date_of(credential.get("validFrom")).or_else(|| date_of(credential.get("issuanceDate"))));
    put("Expires", date_of(credential.get("validUntil")).or_else(|| date_of(credential.get("expirationDate"))).or_else(|| date_of(credential.get("expires"))));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(id: &str, ok: Option<bool>, warnings: &[&str]) -> Check {
        Check { id: id.into(), ok, detail: "d".into(), warnings: warnings.iter().map(|w| w.to_string()).collect() }
    }

    fn report(verdict: Verdict, checks: Vec<Check>, credential: Value) -> VerificationReport {
        VerificationReport { verdict, format: "ob3-json".into(), checks, credential: Some(credential) }
    }

    #[test]
    fn the_headline_names_the_verdict_the_issuer_and_the_reason() {
        let credential = json!({"name": "Secure Coding", "issuer": {"id": "did:web:x", "name": "Northbridge"}, "credentialSubject": {"name": "Lena Fischer"}});
        let pass = |id: &str| Check { id: id.into(), ok: Some(true), detail: "ok".into(), warnings: Vec::new() };
        let fail = |id: &str, detail: &str| Check { id: id.into(), ok: Some(false), detail: detail.into(), warnings: Vec::new() };
        let valid = report(Verdict::Valid, vec![pass("proof")], credential.clone());
        assert_eq!(valid.headline(), "Valid: Secure Coding, issued by Northbridge");
        assert_eq!(valid.recipient_name().as_deref(), Some("Lena Fischer"));
        let revoked = report(Verdict::Invalid, vec![pass("proof"), fail("status", "revoked: issued in error")], credential.clone());
        assert_eq!(revoked.headline(), "Revoked by Northbridge");
        let suspended = report(Verdict::Invalid, vec![fail("status", "suspended by the issuer")], credential.clone());
        assert_eq!(suspended.headline(), "Suspended by Northbridge");
        let expired = report(Verdict::Invalid, vec![fail("valid_until", "expired on 3 May 2026")], credential.clone());
        assert_eq!(expired.headline(), "Expired on 3 May 2026");
        let forged = report(Verdict::Invalid, vec![fail("jwt.signature", "bad")], credential.clone());
        assert!(forged.headline().starts_with("Not genuine: The signature does not hold"), "{}", forged.headline());
        let unknown = report(Verdict::Indeterminate, vec![Check { id: "status".into(), ok: None, detail: "x".into(), warnings: Vec::new() }], json!({}));
        assert_eq!(unknown.headline(), "Could not check: Whether the issuer revoked or suspended it could not be checked.");
    }

    #[test]
    fn an_email_address_is_checked_against_the_hashed_recipient() {
        let hashed = crate::ob3::identity_hash("Learner@Example.org", "pepper");
        let ob3 = report(
            Verdict::Valid,
            Vec::new(),
            json!({"credentialSubject": {"identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": true, "identityHash": hashed, "salt": "pepper"}]}}),
        );
        assert_eq!(ob3.issued_to_email(" learner@example.org "), Some(true));
        assert_eq!(ob3.issued_to_email("someone@example.org"), Some(false));
        let ob2 = report(Verdict::Valid, Vec::new(), json!({"recipient": {"type": "email", "hashed": false, "identity": "a@example.org"}}));
        assert_eq!(ob2.issued_to_email("A@example.org"), Some(true));
        let did = report(Verdict::Valid, Vec::new(), json!({"credentialSubject": {"id": "did:key:z6Mk"}}));
        assert_eq!(did.issued_to_email("a@example.org"), None, "nothing to compare with");
    }

    #[test]
    fn checks_have_names_outcomes_and_sentences() {
        let shape = check("shape", Some(true), &["/x: y"]);
        assert_eq!((shape.label(), shape.outcome(), shape.outcome().label()), ("Structure".into(), CheckOutcome::Warning, "Passed, with warnings"));
        assert!(shape.summary().contains("does not change what the credential means"), "{}", shape.summary());
        let nested = check("credential[1].jwt.signature", Some(false), &[]);
        assert_eq!(nested.label(), "Credential 2: JWT signature");
        assert!(nested.summary().starts_with("Credential 2: The signature does not hold"), "{}", nested.summary());
        assert_eq!(check("status", None, &[]).summary(), "Whether the issuer revoked or suspended it could not be checked.");
        assert_eq!(check("jwt.sub_claim", Some(true), &[]).label(), "JWT sub claim");
    }

    #[test]
    fn reports_read_as_facts_and_problems() {
        let report = VerificationReport {
            verdict: Verdict::Invalid,
            format: "png+ob3-jwt".into(),
            checks: vec![check("format", Some(true), &[]), check("status", None, &[]), check("valid_until", Some(false), &[])],
            credential: Some(json!({
                "name": "Rust", "issuer": {"id": "did:web:x", "name": "X Academy"}, "validFrom": "2025-03-03T10:00:00Z",
                "credentialSubject": {"identifier": [{"identityType": "emailAddress", "hashed": true, "identityHash": "sha256$0123456789abcdef0123456789abcdef"}]},
            })),
        };
        assert_eq!(report.format_label(), "Open Badges 3.0 credential (VC-JWT), baked into a PNG image");
        assert_eq!(report.first_problem().as_deref(), Some("Expiry date: d"));
        assert_eq!(
            report.facts(),
            [
                ("Name".to_string(), "Rust".to_string()),
                ("Issuer".into(), "X Academy (did:web:x)".into()),
                ("Recipient".into(), "an e-mail address, hashed (sha256$0123456789abcdef0…)".into()),
                ("Valid from".into(), "3 March 2025".into()),
            ]
        );
    }
}
