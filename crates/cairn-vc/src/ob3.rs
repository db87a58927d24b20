//! Open Badges 3.0 documents: `OpenBadgeCredential` with an embedded issuer `Profile`, an
//! `Achievement` carrying its criteria, rubric (`resultDescription`) and alignments, and a subject
//! identified by DID or by a salted, hashed e-mail address (OB 3.0 §B.1).
//!
//! Only terms defined by the bundled contexts are emitted: an undefined term breaks Data
//! Integrity verification in peer verifiers.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The VC 2.0 base context.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The OB 3.0 context Cairn issues with.
pub const OB_V3P0_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The OB 3.0 extensions context (defines `1EdTechJsonSchemaValidator2019` and friends).
pub const OB_V3P0_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";
/// The official JSON schema of an `AchievementCredential` / `OpenBadgeCredential`.
pub const ACHIEVEMENT_CREDENTIAL_SCHEMA: &str = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";

/// An image with an optional caption (`Image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The image URL (or a `data:` URI).
    pub id: String,
    /// Alternative text.
    pub caption: Option<String>,
}

/// An issuer or creator (`Profile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The issuer's id: the DID whose key signs, or an HTTPS URL.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Home page.
    pub url: Option<String>,
    /// Contact address.
    pub email: Option<String>,
    /// What the issuer is.
    pub description: Option<String>,
    /// Logo.
    pub image: Option<Image>,
}

/// A competency, skill or standard an achievement aligns to (`Alignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// The target's name.
    pub target_name: String,
    /// Where the target is described.
    pub target_url: String,
    /// A short description.
    pub target_description: Option<String>,
    /// The framework the target belongs to.
    pub target_framework: Option<String>,
    /// The target's code in its framework.
    pub target_code: Option<String>,
    /// `ceasn:Competency`, `CFItem`, … or `ext:…`.
    pub target_type: Option<String>,
}

/// One level of one rubric criterion (`RubricCriterionLevel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubricLevel {
    /// A stable id, e.g. `urn:…` or an URL with a fragment.
    pub id: String,
    /// The level's name ("Proficient").
    pub name: String,
    /// What work at this level looks like.
    pub description: Option<String>,
}

/// One rubric criterion as a `ResultDescription` of type `RubricCriterionLevel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubricCriterion {
    /// A stable id, referenced by results.
    pub id: String,
    /// The criterion's name.
    pub name: String,
    /// Its levels, lowest first.
    pub levels: Vec<RubricLevel>,
    /// The id of the lowest level that passes.
    pub required_level: Option<String>,
}

/// Credit hours (OB 3.0 `creditsAvailable`, `creditsEarned`), kept exactly in hundredths and
/// written as a JSON number: whole hours as an integer (`3`), others as a decimal (`1.5`), so
/// that every JSON-LD processor reads the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditHours(pub u32);

impl CreditHours {
    /// The JSON number.
    pub fn to_json(self) -> Value {
        if self.0.is_multiple_of(100) { json!(self.0 / 100) } else { json!(f64::from(self.0) / 100.0) }
    }
}

/// What was achieved (`Achievement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Achievement {
    /// The achievement's stable URL (or URN).
    pub id: String,
    /// `Badge`, `MicroCredential`, … (OB 3.0 `AchievementType`).
    pub achievement_type: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The criteria narrative (Markdown), and optionally a page describing them.
    pub criteria_narrative: String,
    /// A page describing the criteria.
    pub criteria_id: Option<String>,
    /// The badge image.
    pub image: Option<Image>,
    /// Competencies and skills.
    pub alignments: Vec<Alignment>,
    /// The public rubric.
    pub rubric: Vec<RubricCriterion>,
    /// Keywords.
    pub tags: Vec<String>,
    /// BCP 47 language of the text.
    pub language: Option<String>,
    /// The version of the achievement the learner was assessed under.
    pub version: Option<String>,
    /// Who created the achievement (usually the issuer).
    pub creator: Option<Profile>,
    /// Credit hours the achievement carries.
    pub credits_available: Option<CreditHours>,
}

/// Who the credential is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A DID (or another IRI) the learner controls.
    Id(String),
    /// An e-mail address, hashed with a salt so that it is not disclosed.
    Email {
        /// The address (lower-cased before hashing).
        address: String,
        /// A random salt.
        salt: String,
    },
}

/// The level achieved on one criterion (`Result`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionResult {
    /// The criterion's `ResultDescription` id.
    pub result_description: String,
    /// The achieved `RubricCriterionLevel` id.
    pub achieved_level: String,
}

/// Evidence of the achievement (`Evidence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Where the evidence can be seen.
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// A short description.
    pub description: Option<String>,
    /// A narrative (Markdown).
    pub narrative: Option<String>,
    /// Its genre ("Reflection", "Project").
    pub genre: Option<String>,
}

/// Everything an `OpenBadgeCredential` states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInput {
    /// The credential's id (an URL or `urn:uuid:…`).
    pub id: String,
    /// The credential's name (usually the achievement's).
    pub name: String,
    /// The issuer, embedded.
    pub issuer: Profile,
    /// RFC 3339 date-time from which the credential is valid.
    pub valid_from: String,
    /// RFC 3339 date-time after which it expires.
    pub valid_until: Option<String>,
    /// When it was awarded (RFC 3339).
    pub awarded_date: Option<String>,
    /// Who earned it.
    pub recipient: Recipient,
    /// What was achieved.
    pub achievement: Achievement,
    /// Rubric levels achieved.
    pub results: Vec<CriterionResult>,
    /// Credit hours earned (`creditsEarned` on the `AchievementSubject`).
    pub credits_earned: Option<CreditHours>,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// A `credentialStatus` entry (e.g. from [`crate::status::status_entry`]).
    pub status: Option<Value>,
    /// Whether to name the official JSON schema in `credentialSchema`.
    pub with_schema: bool,
}

/// Everything an `EndorsementCredential` states (OB 3.0 §B.1.6): who vouches for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementInput {
    /// The endorsement's id (an URL or `urn:uuid:…`).
    pub id: String,
    /// Its name, for display.
    pub name: String,
    /// The endorser, embedded.
    pub issuer: Profile,
    /// RFC 3339 date-time from which the endorsement is valid.
    pub valid_from: String,
    /// RFC 3339 date-time after which it expires.
    pub valid_until: Option<String>,
    /// The id of what is endorsed: a credential, an achievement or a profile.
    pub subject_id: String,
    /// What the endorser says about it (Markdown).
    pub comment: Option<String>,
}

/// `sha256$<hex>` of the lower-cased address followed by the salt (OB 3.0 `IdentityObject`).
pub fn identity_hash(address: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{}{salt}", address.trim().to_lowercase()).as_bytes());
    format!("sha256${}", hex::encode(digest))
}

pub(crate) fn put(map: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        map.insert(key.to_string(), json!(value));
    }
}

fn image_json(image: &Image) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), json!(image.id));
    map.insert("type".into(), json!("Image"));
    put(&mut map, "caption", image.caption.as_ref());
    Value::Object(map)
}

/// The `Profile` JSON.
pub fn profile_json(profile: &Profile) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), json!(profile.id));
    map.insert("type".into(), json!(["Profile"]));
    map.insert("name".into(), json!(profile.name));
    put(&mut map, "url", profile.url.as_ref());
    put(&mut map, "email", profile.email.as_ref());
    put(&mut map, "description", profile.description.as_ref());
    if let Some(image) = &profile.image {
        map.insert("image".into(), image_json(image));
    }
    Value::Object(map)
}

fn alignment_json(alignment: &Alignment) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), json!(["Alignment"]));
    map.insert("targetName".into(), json!(alignment.target_name));
    map.insert("targetUrl".into(), json!(alignment.target_url));
    put(&mut map, "targetDescription", alignment.target_description.as_ref());
    put(&mut map, "targetFramework", alignment.target_framework.as_ref());
    put(&mut map, "targetCode", alignment.target_code.as_ref());
    put(&mut map, "targetType", alignment.target_type.as_ref());
    Value::Object(map)
}

fn criterion_json(criterion: &RubricCriterion) -> Value {
    let levels: Vec<Value> = criterion
        .levels
        .iter()
        .map(|level| {
            let mut map = Map::new();
            map.insert("id".into(), json!(level.id));
            map.insert("type".into(), json!(["RubricCriterionLevel"]));
            map.insert("name".into(), json!(level.name));
            map.insert("level".into(), json!(level.name));
            put(&mut map, "description", level.description.as_ref());
            Value::Object(map)
        })
        .collect();
    let mut map = Map::new();
    map.insert("id".into(), json!(criterion.id));
    map.insert("type".into(), json!(["ResultDescription"]));
    map.insert("name".into(), json!(criterion.name));
    map.insert("resultType".into(), json!("RubricCriterionLevel"));
    map.insert("rubricCriterionLevel".into(), json!(levels));
    put(&mut map, "requiredLevel", criterion.required_level.as_ref());
    Value::Object(map)
}

/// The `Achievement` JSON.
pub fn achievement_json(achievement: &Achievement) -> Value {
    let mut criteria = Map::new();
    put(&mut criteria, "id", achievement.criteria_id.as_ref());
    criteria.insert("narrative".into(), json!(achievement.criteria_narrative));
    let mut map = Map::new();
    map.insert("id".into(), json!(achievement.id));
    map.insert("type".into(), json!(["Achievement"]));
    map.insert("achievementType".into(), json!(achievement.achievement_type));
    map.insert("name".into(), json!(achievement.name));
    map.insert("description".into(), json!(achievement.description));
    map.insert("criteria".into(), Value::Object(criteria));
    if let Some(image) = &achievement.image {
        map.insert("image".into(), image_json(image));
    }
    if !achievement.alignments.is_empty() {
        map.insert("alignment".into(), achievement.alignments.iter().map(alignment_json).collect());
    }
    if !achievement.rubric.is_empty() {
        map.insert("resultDescription".into(), achievement.rubric.iter().map(criterion_json).collect());
    }
    if !achievement.tags.is_empty() {
        map.insert("tag".into(), json!(achievement.tags));
    }
    put(&mut map, "inLanguage", achievement.language.as_ref());
    put(&mut map, "version", achievement.version.as_ref());
    if let Some(creator) = &achievement.creator {
        map.insert("creator".into(), profile_json(creator));
    }
    if let Some(credits) = achievement.credits_available {
        map.insert("creditsAvailable".into(), credits.to_json());
    }
    Value::Object(map)
}

/// Builds the unsigned `OpenBadgeCredential` (VC 2.0), ready for a proof.
pub fn open_badge_credential(input: &CredentialInput) -> Value {
    let mut subject = Map::new();
    match &input.recipient {
        Recipient::Id(id) => {
            subject.insert("id".into(), json!(id));
        }
        Recipient::Email { address, salt } => {
            subject.insert(
                "identifier".into(),
                json!([{
                    "type": "IdentityObject",
                    "identityHash": identity_hash(address, salt),
                    "identityType": "emailAddress",
                    "hashed": true,
                    "salt": salt,
                }]),
            );
        }
    }
    subject.insert("type".into(), json!(["AchievementSubject"]));
    subject.insert("achievement".into(), achievement_json(&input.achievement));
    if !input.results.is_empty() {
        let results: Vec<Value> =
            input.results.iter().map(|r| json!({"type": ["Result"], "resultDescription": r.result_description, "achievedLevel": r.achieved_level})).collect();
        subject.insert("result".into(), json!(results));
    }
    if let Some(credits) = input.credits_earned {
        subject.insert("creditsEarned".into(), credits.to_json());
    }
    let mut contexts = vec![json!(VC_V2_CONTEXT), json!(OB_V3P0_CONTEXT)];
    if input.with_schema {
        contexts.push(json!(OB_V3P0_EXTENSIONS_CONTEXT));
    }
    let mut credential = Map::new();
    credential.insert("@context".into(), json!(contexts));
    credential.insert("id".into(), json!(input.id));
    credential.insert("type".into(), json!(["VerifiableCredential", "OpenBadgeCredential"]));
    credential.insert("name".into(), json!(input.name));
    if let Some(image) = &input.achievement.image {
        credential.insert("image".into(), image_json(image));
    }
    credential.insert("issuer".into(), profile_json(&input.issuer));
    credential.insert("validFrom".into(), json!(input.valid_from));
    put(&mut credential, "validUntil", input.valid_until.as_ref());
    put(&mut credential, "awardedDate", input.awarded_date.as_ref());
    credential.insert("credentialSubject".into(), Value::Object(subject));
    if !input.evidence.is_empty() {
        let evidence: Vec<Value> = input
            .evidence
            .iter()
            .map(|e| {
                let mut map = Map::new();
                put(&mut map, "id", e.id.as_ref());
                map.insert("type".into(), json!(["Evidence"]));
                map.insert("name".into(), json!(e.name));
                put(&mut map, "description", e.description.as_ref());
                put(&mut map, "narrative", e.narrative.as_ref());
                put(&mut map, "genre", e.genre.as_ref());
                Value::Object(map)
            })
            .collect();
        credential.insert("evidence".into(), json!(evidence));
    }
    if input.with_schema {
        credential.insert("credentialSchema".into(), json!([{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]));
    }
    if let Some(status) = &input.status {
        credential.insert("credentialStatus".into(), status.clone());
    }
    Value::Object(credential)
}

/// Builds the unsigned `EndorsementCredential`, ready for a proof by the endorser's key.
pub fn endorsement_credential(input: &EndorsementInput) -> Value {
    let mut subject = Map::new();
    subject.insert("id".into(), json!(input.subject_id));
    subject.insert("type".into(), json!(["EndorsementSubject"]));
    put(&mut subject, "endorsementComment", input.comment.as_ref());
    let mut credential = Map::new();
    credential.insert("@context".into(), json!([VC_V2_CONTEXT, OB_V3P0_CONTEXT]));
    credential.insert("id".into(), json!(input.id));
    credential.insert("type".into(), json!(["VerifiableCredential", "EndorsementCredential"]));
    credential.insert("name".into(), json!(input.name));
    credential.insert("issuer".into(), profile_json(&input.issuer));
    credential.insert("validFrom".into(), json!(input.valid_from));
    put(&mut credential, "validUntil", input.valid_until.as_ref());
    credential.insert("credentialSubject".into(), Value::Object(subject));
    Value::Object(credential)
}

/// Attaches a signed `endorsement` to `node`: a credential, its issuer `Profile` or its
/// `Achievement` (`credential["credentialSubject"]["achievement"]`), before the credential is
/// signed. Each endorsement keeps its own proof; `endorsement` is always a list.
pub fn add_endorsement(node: &mut Value, endorsement: Value) {
    let Value::Object(members) = node else {
        return;
    };
    match members.entry("endorsement").or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(list) => list.push(endorsement),
        single => *single = Value::Array(vec![single.take(), endorsement]),
    }
}

/// A realistic ~4 KB `OpenBadgeCredential` (rubric, alignment, evidence) from `issuer`, numbered
/// so that every one is distinct. `cairn bench` and the criterion benches both measure it, so their
/// figures describe the same work.
pub fn reference_credential(issuer: &str, n: usize) -> Value {
    let base = "https://badges.example.edu/achievements/secure-coding";
    let levels = ["Beginning", "Developing", "Proficient", "Exemplary"];
    let rubric: Vec<RubricCriterion> = ["Finding", "Fixing"]
        .iter()
        .map(|criterion| RubricCriterion {
            id: format!("{base}#{}", criterion.to_lowercase()),
            name: criterion.to_string(),
            levels: levels
                .iter()
                .map(|level| RubricLevel {
                    id: format!("{base}#{}-{}", criterion.to_lowercase(), level.to_lowercase()),
                    name: level.to_string(),
                    description: None,
                })
                .collect(),
            required_level: Some(format!("{base}#{}-proficient", criterion.to_lowercase())),
        })
        .collect();
    let results =
        rubric.iter().map(|c| CriterionResult { result_description: c.id.clone(), achieved_level: c.required_level.clone().unwrap_or_default() }).collect();
    let profile = Profile {
        id: issuer.to_string(),
        name: "Northbridge Institute of Technology".into(),
        url: Some("https://northbridge.example.edu/".into()),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some("Extension school issuing rubric-assessed micro-credentials.".into()),
        image: Some(Image { id: "https://northbridge.example.edu/logo.png".into(), caption: Some("Northbridge logo".into()) }),
    };
    open_badge_credential(&CredentialInput {
        id: format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
        name: "Secure Coding Essentials: OWASP Top 10".into(),
        issuer: profile,
        valid_from: "2026-01-01T00:00:00Z".into(),
        valid_until: Some("2028-01-01T00:00:00Z".into()),
        awarded_date: Some("2026-01-01T00:00:00Z".into()),
        recipient: Recipient::Id(format!("did:example:learner-{n}")),
        achievement: Achievement {
            id: base.into(),
            achievement_type: "Badge".into(),
            name: "Secure Coding Essentials: OWASP Top 10".into(),
            description: "Find and fix the most common web application vulnerabilities in real code.".into(),
            criteria_narrative: "In the provided vulnerable application, find, exploit in a test environment and fix four issues from \
                                 different OWASP Top 10 categories. Submit a patch with tests that fail before the fix."
                .into(),
            criteria_id: Some(base.into()),
            image: Some(Image { id: format!("{base}/image"), caption: Some("Secure Coding badge".into()) }),
            alignments: vec![Alignment {
                target_name: "OWASP Top 10 web application security risks".into(),
                target_url: "https://owasp.org/www-project-top-ten/".into(),
                target_description: None,
                target_framework: Some("OWASP".into()),
                target_code: Some("A01-A10".into()),
                target_type: Some("ceasn:Competency".into()),
            }],
            rubric,
            tags: vec!["security".into(), "web".into()],
            language: Some("en".into()),
            version: Some("1".into()),
            creator: None,
            credits_available: None,
        },
        results,
        credits_earned: None,
        evidence: vec![Evidence {
            id: Some(format!("https://badges.example.edu/evidence/{n}")),
            name: "Pull request".into(),
            description: None,
            narrative: Some("Fixed an injection flaw in the search form, with regression tests.".into()),
            genre: Some("Project".into()),
        }],
        status: None,
        with_schema: false,
    })
}

/// Puts a single `proof` object into a one-element array, the form the official OB 3.0 JSON
/// schema requires (`proof` is `"type": "array"` there). The RDF, and so the signature, is the same.
pub fn proof_as_array(mut credential: Value) -> Value {
    if let Some(proof) = credential.get_mut("proof")
        && proof.is_object()
    {
        *proof = Value::Array(vec![proof.take()]);
    }
    credential
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A realistic input: rubric, alignments, evidence, status, hashed e-mail.
    pub(crate) fn sample() -> CredentialInput {
        let issuer = Profile {
            id: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into(),
            name: "Northbridge Institute of Technology".into(),
            url: Some("https://northbridge.example.edu/".into()),
            email: Some("badges@northbridge.example.edu".into()),
            description: Some("Extension school".into()),
            image: None,
        };
        let level = |c: &str, n: &str| RubricLevel {
            id: format!("https://cairn.example/achievements/1#{c}-{n}"),
            name: n.into(),
            description: Some(format!("{n} work")),
        };
        CredentialInput {
            id: "urn:uuid:7b8d1e62-5a7d-4a43-9a0e-2f4c1c3a9b10".into(),
            name: "Secure Coding Essentials".into(),
            issuer: issuer.clone(),
            valid_from: "2026-11-22T10:00:00Z".into(),
            valid_until: Some("2028-11-22T10:00:00Z".into()),
            awarded_date: Some("2026-11-22T10:00:00Z".into()),
            recipient: Recipient::Email { address: "Learner@Example.org".into(), salt: "s4lt".into() },
            achievement: Achievement {
                id: "https://cairn.example/achievements/1".into(),
                achievement_type: "Badge".into(),
                name: "Secure Coding Essentials".into(),
                description: "Find and fix common vulnerabilities.".into(),
                criteria_narrative: "Fix **four** issues.\n\tWith tests.".into(),
                criteria_id: Some("https://cairn.example/achievements/1".into()),
                image: Some(Image { id: "https://cairn.example/achievements/1/image".into(), caption: Some("badge".into()) }),
                alignments: vec![Alignment {
                    target_name: "OWASP Top 10".into(),
                    target_url: "https://owasp.org/www-project-top-ten/".into(),
                    target_description: None,
                    target_framework: Some("OWASP".into()),
                    target_code: Some("A01-A10".into()),
                    target_type: Some("ceasn:Competency".into()),
                }],
                rubric: vec![RubricCriterion {
                    id: "https://cairn.example/achievements/1#fixing".into(),
                    name: "Fixing".into(),
                    levels: vec![level("fixing", "Developing"), level("fixing", "Proficient")],
                    required_level: Some("https://cairn.example/achievements/1#fixing-Proficient".into()),
                }],
                tags: vec!["security".into()],
                language: Some("en".into()),
                version: Some("2".into()),
                creator: Some(issuer),
                credits_available: Some(CreditHours(150)),
            },
            results: vec![CriterionResult {
                result_description: "https://cairn.example/achievements/1#fixing".into(),
                achieved_level: "https://cairn.example/achievements/1#fixing-Proficient".into(),
            }],
            credits_earned: Some(CreditHours(150)),
            evidence: vec![Evidence {
                id: Some("https://cairn.example/evidence/1".into()),
                name: "Pull request".into(),
                description: None,
                narrative: Some("Fixed SQL injection in the search form.".into()),
                genre: Some("Project".into()),
            }],
            status: Some(crate::status::status_entry("https://cairn.example/status/1", 42, crate::status::StatusPurpose::Revocation)),
            with_schema: true,
        }
    }

    #[test]
    fn credit_hours_are_json_numbers_on_the_achievement_and_the_subject() {
        assert_eq!(CreditHours(300).to_json(), json!(3));
        assert_eq!(CreditHours(150).to_json(), json!(1.5));
        let credential = open_badge_credential(&sample());
        assert_eq!(credential["credentialSubject"]["achievement"]["creditsAvailable"], json!(1.5));
        assert_eq!(credential["credentialSubject"]["creditsEarned"], json!(1.5));
    }

    #[test]
    fn email_recipients_are_hashed_with_their_salt() {
        assert_eq!(identity_hash("A@B.org", "x"), format!("sha256${}", hex::encode(Sha256::digest(b"a@b.orgx"))));
        let credential = open_badge_credential(&sample());
        let identifier = &credential["credentialSubject"]["identifier"][0];
        assert_eq!(identifier["hashed"], true);
        assert!(identifier["identityHash"].as_str().unwrap().starts_with("sha256$"));
        assert!(!credential.to_string().to_lowercase().contains("learner@example.org"));
    }

    #[test]
    fn the_credential_has_the_ob3_shape() {
        let credential = open_badge_credential(&sample());
        assert_eq!(credential["@context"], json!([VC_V2_CONTEXT, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS_CONTEXT]));
        assert_eq!(credential["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
        let achievement = &credential["credentialSubject"]["achievement"];
        assert_eq!(achievement["resultDescription"][0]["resultType"], "RubricCriterionLevel");
        assert_eq!(achievement["resultDescription"][0]["rubricCriterionLevel"].as_array().unwrap().len(), 2);
        assert_eq!(credential["credentialSubject"]["result"][0]["achievedLevel"], achievement["resultDescription"][0]["requiredLevel"]);
        assert_eq!(credential["credentialStatus"]["type"], "BitstringStatusListEntry");
        assert_eq!(credential["issuer"]["type"], json!(["Profile"]));
    }

    #[test]
    fn endorsements_are_endorsement_credentials_attached_as_lists() {
        let endorsement = endorsement_credential(&EndorsementInput {
            id: "urn:uuid:e1".into(),
            name: "Endorsed by the guild".into(),
            issuer: sample().issuer,
            valid_from: "2026-11-22T10:00:00Z".into(),
            valid_until: None,
            subject_id: "https://cairn.example/achievements/1".into(),
            comment: Some("Rigorous".into()),
        });
        assert_eq!(endorsement["type"], json!(["VerifiableCredential", "EndorsementCredential"]));
        assert_eq!(
            endorsement["credentialSubject"],
            json!({"id": "https://cairn.example/achievements/1", "type": ["EndorsementSubject"], "endorsementComment": "Rigorous"})
        );
        assert!(endorsement.get("validUntil").is_none());
        let mut credential = open_badge_credential(&sample());
        add_endorsement(&mut credential["credentialSubject"]["achievement"], endorsement.clone());
        add_endorsement(&mut credential["credentialSubject"]["achievement"], endorsement.clone());
        assert_eq!(credential["credentialSubject"]["achievement"]["endorsement"], json!([endorsement, endorsement]));
        let mut single = json!({"endorsement": {"id": "x"}});
        add_endorsement(&mut single, json!({"id": "y"}));
        assert_eq!(single["endorsement"], json!([{"id": "x"}, {"id": "y"}]));
    }

    #[test]
    fn a_did_recipient_is_the_subject_id_and_optional_parts_are_left_out() {
        let mut input = sample();
        input.recipient = Recipient::Id("did:example:learner".into());
        input.with_schema = false;
        input.status = None;
        input.evidence.clear();
        input.valid_until = None;
        let credential = open_badge_credential(&input);
        assert_eq!(credential["credentialSubject"]["id"], "did:example:learner");
        assert_eq!(credential["@context"].as_array().unwrap().len(), 2);
        for absent in ["credentialSchema", "credentialStatus", "evidence", "validUntil"] {
            assert!(credential.get(absent).is_none(), "{absent}");
        }
    }
}
