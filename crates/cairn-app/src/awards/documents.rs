//! The documents an award is made of, built from stored domain values: the OB 3.0 credential's
//! parts, the OB 2.0 hosted documents and the rubric results Cairn keeps beside them. Pure
//! functions of their arguments; every text an issuer or learner wrote is cleaned here, once;
//! every URL they name comes from `crate::urls::PublicUrls`.

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::assessment::Judgement;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId};
use cairn_core::image::ImageType;
use cairn_core::organisation::Organisation;
use cairn_core::rubric::Rubric;
use cairn_core::submission::strip_control_chars;
use cairn_vc::{ob2, ob3};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::AwardResult;
use crate::config::Config;

/// Text as it may be signed: control characters other than tab and line feed removed (some
/// verifiers refuse them), surrounding white space trimmed.
pub(crate) fn clean(text: &str) -> String {
    strip_control_chars(text).trim().to_string()
}

/// [`clean`], or `None` when nothing is left.
fn optional(text: &str) -> Option<String> {
    Some(clean(text)).filter(|t| !t.is_empty())
}

/// An RFC 3339 UTC date-time (`2026-11-22T10:00:00Z`), the form every credential date takes.
pub(crate) use cairn_vc::dates::rfc3339;

/// The issuer's `did:web` (see `PublicUrls::issuer_did`).
pub fn issuer_did(config: &Config, organisation: OrganisationId) -> String {
    config.urls().issuer_did(organisation)
}

/// The verification method every proof of the issuer names: the one key of its DID document.
pub fn verification_method(config: &Config, organisation: OrganisationId) -> String {
    config.urls().verification_method(organisation)
}

/// Where a status list is served.
pub fn status_list_url(config: &Config, list_id: &str) -> String {
    config.urls().status_list(list_id)
}

/// The OB 3.0 `achievementType`: a micro-credential is a `MicroCredential`, a certificate a
/// `Certificate`; micro-badges and the level badges of a stack are each a `Badge`.
pub(crate) fn achievement_type(kind: Kind) -> &'static str {
    match kind {
        Kind::MicroCredential => "MicroCredential",
        Kind::Certificate => "Certificate",
        Kind::MicroBadge | Kind::Level(_) => "Badge",
    }
}

/// The embedded issuer `Profile`, identified by its `did:web` so that the proof's key binds to it.
pub(crate) fn issuer_profile(config: &Config, organisation: &Organisation) -> ob3::Profile {
    let name = clean(&organisation.profile.name);
    ob3::Profile {
        id: issuer_did(config, organisation.id),
        url: Some(organisation.profile.url.clone()),
        email: organisation.profile.email.as_ref().map(|e| e.as_str().to_string()),
        description: optional(&organisation.profile.description),
        image: Some(ob3::Image { id: config.urls().issuer_image(organisation.id), caption: Some(format!("{name} logo")) }),
        name,
    }
}

fn criterion_url(achievement: &str, criterion: &str) -> String {
    format!("{achievement}#criterion-{criterion}")
}

fn level_url(achievement: &str, criterion: &str, level: usize) -> String {
    format!("{achievement}#criterion-{criterion}-level-{}", level + 1)
}

/// The public rubric as `resultDescription` entries of type `RubricCriterionLevel`.
fn rubric_json(achievement: &str, rubric: &Rubric) -> Vec<ob3::RubricCriterion> {
    rubric
        .criteria
        .iter()
        .map(|criterion| ob3::RubricCriterion {
            id: criterion_url(achievement, &criterion.id),
            name: clean(&criterion.name),
            levels: rubric
                .levels
                .iter()
                .enumerate()
                .map(|(index, level)| ob3::RubricLevel {
                    id: level_url(achievement, &criterion.id, index),
                    name: clean(level),
                    description: criterion.descriptors.get(index).and_then(|d| optional(d)),
                })
                .collect(),
            required_level: Some(level_url(achievement, &criterion.id, criterion.required_level)),
        })
        .collect()
}

/// The OB 3.0 `Achievement`: criteria, rubric, alignments, type and image of this version.
pub(crate) fn ob3_achievement(config: &Config, achievement: &Achievement) -> ob3::Achievement {
    let url = config.urls().achievement_page(achievement.id);
    let content = &achievement.content;
    let name = clean(&content.name);
    ob3::Achievement {
        achievement_type: achievement_type(achievement.kind).to_string(),
        description: clean(&content.description),
        criteria_narrative: clean(&content.criteria),
        criteria_id: Some(url.clone()),
        image: Some(ob3::Image { id: config.urls().achievement_image(achievement.id), caption: Some(name.clone()) }),
        alignments: content
            .alignments
            .iter()
            .map(|a| ob3::Alignment {
                target_name: clean(&a.target_name),
                target_url: a.target_url.clone(),
                target_description: a.target_description.as_deref().and_then(optional),
                target_framework: a.target_framework.as_deref().and_then(optional),
                target_code: a.target_code.as_deref().and_then(optional),
                target_type: a.target_type.clone(),
            })
            .collect(),
        rubric: content.rubric.as_ref().map(|rubric| rubric_json(&url, rubric)).unwrap_or_default(),
        tags: content.tags.iter().filter_map(|t| optional(t)).collect(),
        language: Some(content.language.clone()),
        version: Some(achievement.version.to_string()),
        creator: None,
        credits_available: content.credits.map(|c| ob3::CreditHours(c.0)),
        name,
        id: url,
    }
}

/// The levels achieved, as the credential states them and as Cairn keeps them for display.
/// Scores for criteria the rubric no longer has are left out. A renewal (`renewal`) on a light
/// renewal path was judged against the renewal rubric: its levels are kept for display, but the
/// credential states none, since its `result`s name the achievement's own rubric.
pub(crate) fn results(
    config: &Config,
    achievement: &Achievement,
    judgement: Option<&Judgement>,
    renewal: bool,
) -> (Vec<ob3::CriterionResult>, Vec<AwardResult>) {
    let light = achievement.renewal_rubric(renewal);
    let (Some(rubric), Some(judgement)) = (light.or(achievement.content.rubric.as_ref()), judgement) else {
        return (Vec::new(), Vec::new());
    };
    let url = config.urls().achievement_page(achievement.id);
    let mut signed = Vec::new();
    let mut kept = Vec::new();
    for score in &judgement.scores {
        let Some(criterion) = rubric.criteria.iter().find(|c| c.id == score.criterion) else { continue };
        let Some(level_name) = rubric.levels.get(score.level) else { continue };
        if light.is_none() {
            signed.push(ob3::CriterionResult {
                result_description: criterion_url(&url, &criterion.id),
                achieved_level: level_url(&url, &criterion.id, score.level),
            });
        }
        kept.push(AwardResult {
            criterion: criterion.id.clone(),
            criterion_name: clean(&criterion.name),
            level: score.level + 1,
            level_name: clean(level_name),
            required_level_name: clean(rubric.required_level_name(criterion)),
            met: score.level >= criterion.required_level,
        });
    }
    (signed, kept)
}

/// The award a renewal renews, as the new credential names it.
#[derive(Debug, Clone)]
pub(crate) struct Renewed {
    pub award: AwardId,
    pub issued: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
}

/// The previous award as an `evidence` item of the credential that renews it: its page, with a
/// narrative saying what the renewal was.
pub(crate) fn renewal_evidence(config: &Config, achievement: &Achievement, previous: &Renewed) -> ob3::Evidence {
    let how = match achievement.renewal_rubric(true) {
        Some(_) => "renewal evidence judged against the issuer's renewal rubric",
        None => "a full reassessment against the achievement's rubric",
    };
    let until = previous.valid_until.map(|until| format!(", valid until {}", cairn_vc::dates::day(until))).unwrap_or_default();
    ob3::Evidence {
        id: Some(config.urls().award_page(previous.award)),
        name: "Previous award, renewed".to_string(),
        description: None,
        narrative: Some(format!(
            "This credential renews the award of \"{}\" issued to the same holder on {}{until}, after {how}.",
            clean(&achievement.content.name),
            cairn_vc::dates::day(previous.issued),
        )),
        genre: Some("Renewal".to_string()),
    }
}

/// Everything one OB 3.0 credential states.
pub(crate) struct CredentialParts<'a> {
    pub config: &'a Config,
    pub award: AwardId,
    pub achievement: &'a Achievement,
    pub organisation: &'a Organisation,
    pub email: &'a str,
    pub salt: &'a str,
    pub results: Vec<ob3::CriterionResult>,
    pub evidence: &'a [(String, String)],
    /// What prior learning the award recognises, and how.
    pub prior_learning: Option<&'a PriorLearningBasis>,
    /// How it was earned, in the issuer's words (a direct award).
    pub narrative: Option<&'a str>,
    /// The award this one renews.
    pub renews: Option<&'a Renewed>,
    pub issued: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub status: Value,
}

/// The prior learning an award recognises: how, and what was shown, in words for the
/// credential's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorLearningBasis {
    pub recognition: cairn_core::recognition::Recognition,
    pub narrative: String,
}

/// The unsigned `OpenBadgeCredential`.
pub(crate) fn credential(parts: CredentialParts<'_>) -> Value {
    let achievement = ob3_achievement(parts.config, parts.achievement);
    let issued = rfc3339(parts.issued);
    ob3::open_badge_credential(&ob3::CredentialInput {
        id: parts.config.urls().credential(parts.award),
        name: achievement.name.clone(),
        issuer: issuer_profile(parts.config, parts.organisation),
        valid_from: issued.clone(),
        valid_until: parts.valid_until.map(rfc3339),
        awarded_date: Some(issued),
        recipient: ob3::Recipient::Email { address: parts.email.to_string(), salt: parts.salt.to_string() },
        achievement,
        results: parts.results,
        // Earning the achievement earns all of its credit hours.
        credits_earned: parts.achievement.content.credits.map(|c| ob3::CreditHours(c.0)),
        evidence: parts
            .renews
            .map(|previous| renewal_evidence(parts.config, parts.achievement, previous))
            .into_iter()
            .chain(parts.evidence.iter().map(|(url, name)| ob3::Evidence {
                id: Some(url.clone()),
                name: clean(name),
                description: None,
                narrative: None,
                genre: None,
            }))
            .chain(parts.narrative.map(|narrative| ob3::Evidence {
                id: None,
                name: "How it was earned".into(),
                description: None,
                narrative: Some(clean(narrative)),
                genre: Some("Narrative".into()),
            }))
            .chain(parts.prior_learning.map(|basis| ob3::Evidence {
                id: None,
                name: "Recognised prior learning".into(),
                description: Some(basis.recognition.label().into()),
                narrative: Some(clean(&basis.narrative)),
                genre: Some("Recognition of prior learning".into()),
            }))
            .collect(),
        status: Some(parts.status),
        with_schema: true,
    })
}

/// The hosted OB 2.0 `Assertion` of an award, with the same salted recipient hash.
pub(crate) fn ob2_assertion(
    config: &Config,
    award: AwardId,
    achievement: AchievementId,
    email: &str,
    salt: &str,
    issued: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
) -> Value {
    ob2::assertion_json(&ob2::Assertion {
        id: config.urls().ob2_assertion(award),
        recipient_email: email.to_string(),
        salt: salt.to_string(),
        badge: config.urls().ob2_badge_class(achievement),
        issued_on: rfc3339(issued),
        expires: valid_until.map(rfc3339),
        image: Some(config.urls().badge(award, ImageType::Png)),
        evidence: Some(config.urls().award_page(award)),
    })
}

/// The hosted OB 2.0 `BadgeClass` of an achievement (its current version).
pub(crate) fn ob2_badge_class(config: &Config, achievement: &Achievement) -> Value {
    let content = &achievement.content;
    ob2::badge_class_json(&ob2::BadgeClass {
        id: config.urls().ob2_badge_class(achievement.id),
        name: clean(&content.name),
        description: clean(&content.description),
        image: config.urls().achievement_image(achievement.id),
        criteria_url: Some(config.urls().achievement_page(achievement.id)),
        criteria_narrative: clean(&content.criteria),
        issuer: config.urls().ob2_issuer(achievement.organisation),
        alignments: ob3_achievement(config, achievement).alignments,
        tags: content.tags.iter().filter_map(|t| optional(t)).collect(),
    })
}

/// The hosted OB 2.0 `Issuer` of an organisation.
pub(crate) fn ob2_issuer(config: &Config, organisation: &Organisation) -> Value {
    let profile = issuer_profile(config, organisation);
    ob2::issuer_json(&ob2::Issuer {
        id: config.urls().ob2_issuer(organisation.id),
        name: profile.name,
        url: organisation.profile.url.clone(),
        email: profile.email,
        description: profile.description,
        image: Some(config.urls().issuer_image(organisation.id)),
    })
}

/// The `credentialStatus` of a new credential: its entry in the issuer's revocation list and its
/// entry, at the same index, in the issuer's suspension list.
///
/// Two `BitstringStatusListEntry` objects, as VC 2.0 (§4.10, "a single object or a set of one or
/// more objects") and the Bitstring Status List spec allow, so that every verifier that checks
/// status sees a suspension as well as a revocation (the DCC verifier and openbadgeslib check each
/// entry). The OB 3.0 JSON schema describes one object; `cairn_vc::verify` reads each entry of the
/// set against the schema's `CredentialStatus` and reports the set as a warning that keeps the
/// meaning. `docs/credentials.md` has the whole choice. Credentials issued before this name only
/// the revocation list and keep verifying as they are.
pub(crate) fn credential_status(revocation_list_url: &str, suspension_list_url: &str, index: u64) -> Value {
    use cairn_vc::status::{StatusPurpose, status_entry};
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    Value::Array(vec![status_entry(revocation_list_url, index, StatusPurpose::Revocation), status_entry(suspension_list_url, index, StatusPurpose::Suspension)])
}

/// Evidence links, normalised; only http(s) URLs are accepted.
///
/// # Errors
/// The pointer and message for the first URL that is not one.
pub(crate) fn evidence_links(raw: &[(String, String)]) -> Result<Vec<(String, String)>, (String, String)> {
    raw.iter()
        .enumerate()
        .map(|(i, (url, name))| {
            let parsed = url::Url::parse(url.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
            match parsed {
                Some(parsed) => {
                    let name = clean(name);
                    Ok((parsed.to_string(), if name.is_empty() { parsed.to_string() } else { name }))
                }
                None => Err((format!("/evidence_urls/{i}"), format!("\"{}\" is not an http(s) URL", url.chars().take(100).collect::<String>()))),
            }
        })
        .collect()
}

/// The results kept beside an award, as JSON (`awards.results_json`).
pub(crate) fn results_json(results: &[AwardResult]) -> String {
    Value::Array(
        results
            .iter()
            .map(|r| {
                json!({
                    "criterion": r.criterion,
                    "criterion_name": r.criterion_name,
                    "level": r.level,
                    "level_name": r.level_name,
                    "required_level_name": r.required_level_name,
                    "met": r.met,
                })
            })
            .collect(),
    )
    .to_string()
}

/// Reads `awards.results_json` back; anything unreadable is left out.
pub(crate) fn parse_results(json: &str) -> Vec<AwardResult> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(json) else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
            Some(AwardResult {
                criterion: text("criterion")?,
                criterion_name: text("criterion_name")?,
                level: usize::try_from(item.get("level")?.as_u64()?).ok()?,
                level_name: text("level_name")?,
                required_level_name: text("required_level_name").unwrap_or_default(),
                met: item.get("met").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_text_loses_control_characters_but_keeps_lines() {
        assert_eq!(clean(" a\u{0}b\u{7}\tc\r\nd \u{1b}"), "ab\tc\nd");
        assert_eq!(optional(" \u{0} "), None);
    }

    #[test]
    fn dates_are_rfc3339_in_utc() {
        let at = time::macros::datetime!(2026-11-22 11:00:00.5 +01:00);
        assert_eq!(rfc3339(at), "2026-11-22T10:00:00Z");
    }

    #[test]
    fn evidence_must_be_web_links() {
        let good = evidence_links(&[("https://example.org/x y".into(), " Repo\u{0} ".into()), ("http://example.org".into(), "".into())]).unwrap();
        assert_eq!(good, vec![("https://example.org/x%20y".into(), "Repo".into()), ("http://example.org/".into(), "http://example.org/".into())]);
        let bad = evidence_links(&[("https://ok.example".into(), "ok".into()), ("javascript:alert(1)".into(), "x".into())]).unwrap_err();
        assert_eq!(bad.0, "/evidence_urls/1");
    }

    #[test]
    fn results_round_trip_through_their_json() {
        let results = vec![AwardResult {
            criterion: "design".into(),
            criterion_name: "Design".into(),
            level: 2,
            level_name: "Proficient".into(),
            required_level_name: "Proficient".into(),
            met: true,
        }];
        assert_eq!(parse_results(&results_json(&results)), results);
        assert!(parse_results("not json").is_empty());
    }

    #[test]
    fn the_status_entries_name_the_revocation_and_suspension_lists() {
        let entries = credential_status("https://cairn.example/status/r", "https://cairn.example/status/s", 7);
        let entries = entries.as_array().expect("a set of entries");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["statusPurpose"], "revocation");
        assert_eq!(entries[0]["statusListCredential"], "https://cairn.example/status/r");
        assert_eq!(entries[1]["statusPurpose"], "suspension");
        assert_eq!(entries[1]["statusListCredential"], "https://cairn.example/status/s");
        assert!(entries.iter().all(|entry| entry["statusListIndex"] == "7" && entry["type"] == "BitstringStatusListEntry"));
        assert_ne!(entries[0]["id"], entries[1]["id"]);
    }
}
