//! Transcripts: CLR 2.0 `ClrCredential`s of a learner's awards, signed with a Data Integrity proof
//! (`eddsa-rdfc-2022`) and as a VC-JWT.
//!
//! - [`learner_transcript`]: a learner's own transcript, of every active award they hold or of the
//!   ones they choose, from any issuers. The platform signs it: the installation's own `did:web`
//!   (`PublicUrls::platform_did`, whose DID document is [`platform_did_document`]), with a key
//!   derived from the master key (`Store::platform_signing_key`). No issuer may speak for another's
//!   awards, and each award inside keeps its own issuer's proof.
//! - [`issuer_transcript`]: an organisation's transcript of one learner's active awards with it,
//!   signed with the organisation's own key, like its awards.
//!
//! Each award's OB 3.0 credential goes in as issued (its own proof and status entries), so a
//! verifier checks each one as well as the transcript. Between a micro-credential and its levels,
//! both held, the transcript states the associations `isParentOf` (micro-credential → level) and
//! `isChildOf` (level → micro-credential). A transcript is a snapshot: it names no status list
//! of its own; a revoked or suspended award inside fails through its own status entries.

use std::collections::HashMap;

use cairn_core::achievement::Achievement;
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::award::AwardStatus;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, UserId};
use cairn_store::{Award, User};
use cairn_vc::clr::{Association, ClrInput, clr_credential};
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::loader::BundledLoader;
use cairn_vc::ob3::{self, Profile, Recipient};
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use cairn_vc::suites::vc_jwt;
use serde_json::Value;

use crate::awards::documents::{clean, issuer_profile, rfc3339};
use crate::{App, AppError};

/// The most awards one transcript holds: as many nested credentials as a verifier checks
/// (`cairn_vc::verify::MAX_NESTED_CREDENTIALS`), so that every one is verified.
pub const MAX_TRANSCRIPT_AWARDS: usize = cairn_vc::verify::MAX_NESTED_CREDENTIALS;

/// The form a transcript is wanted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    /// JSON with a Data Integrity proof (`application/vc+ld+json`).
    DataIntegrity,
    /// A VC-JWT (`application/vc+jwt`).
    Jwt,
}

impl TranscriptFormat {
    /// Reads the `format` parameter: `json` (or none) or `jwt`.
    ///
    /// # Errors
    /// `Invalid` at `/format` for anything else.
    pub fn parse(raw: Option<&str>) -> Result<TranscriptFormat, AppError> {
        match raw.map(str::trim) {
            None | Some("" | "json") => Ok(TranscriptFormat::DataIntegrity),
            Some("jwt") => Ok(TranscriptFormat::Jwt),
            Some(_) => Err(AppError::invalid_field("/format", "must be \"json\" or \"jwt\"")),
        }
    }
}

/// A signed transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Transcript {
    /// The `ClrCredential` with its Data Integrity proof.
    DataIntegrity(Value),
    /// The `ClrCredential` as a VC-JWT.
    Jwt(String),
}

impl Transcript {
    /// A file name for a download (`transcript-2026-12-06.json` or `.jwt`).
    pub fn file_name(&self, day: &str) -> String {
        match self {
            Transcript::DataIntegrity(_) => format!("transcript-{day}.json"),
            Transcript::Jwt(_) => format!("transcript-{day}.jwt"),
        }
    }
}

/// The awards a learner may put in a transcript, with their achievements' names, newest first:
/// what the transcript page lists to choose from.
#[derive(Debug, Clone)]
pub struct Choice {
    pub award: Award,
    pub achievement_name: String,
    pub issuer_name: String,
}

/// The learner's active, unexpired awards, to choose from.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn choices(app: &App, actor: &Actor) -> Result<Vec<Choice>, AppError> {
    let learner = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(learner))?;
    let now = app.now();
    let mut out = Vec::new();
    for listed in app.store.learner_awards(learner).await? {
        if includable(&listed.award, now) {
            out.push(Choice { award: listed.award, achievement_name: listed.achievement_name, issuer_name: listed.organisation_name });
        }
    }
    Ok(out)
}

fn includable(award: &Award, now: time::OffsetDateTime) -> bool {
    award.status == AwardStatus::Active && !cairn_core::award::expired(award.valid_until, now)
}

/// The learner's own transcript, signed by the platform: every active award they hold, or the
/// ones in `chosen` (in that order, each once).
///
/// # Errors
/// `Unauthenticated` for visitors; `NotFound` for a chosen award that does not exist or is not
/// the learner's; `Invalid` at `/award` for a chosen award that is revoked, suspended or
/// expired, or for more than [`MAX_TRANSCRIPT_AWARDS`]; `Conflict` when there is no active award to
/// put in; `Internal` when signing fails.
pub async fn learner_transcript(app: &App, actor: &Actor, chosen: &[AwardId], format: TranscriptFormat) -> Result<Transcript, AppError> {
    let learner = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(learner))?;
    let held = app.store.awards_of(learner).await?;
    let now = app.now();
    let awards: Vec<Award> = if chosen.is_empty() {
        held.into_iter().filter(|award| includable(award, now)).collect()
    } else {
        let mut picked: Vec<Award> = Vec::with_capacity(chosen.len());
        for id in chosen {
            if picked.iter().any(|award| award.id == *id) {
                continue;
            }
            let award = held.iter().find(|award| award.id == *id).ok_or_else(|| AppError::NotFound(format!("award \"{id}\" not found")))?;
            if !includable(award, now) {
                let why = match award.status {
                    AwardStatus::Revoked => "revoked",
                    AwardStatus::Suspended => "suspended",
                    AwardStatus::Active => "expired",
                };
                return Err(AppError::invalid_field("/award", format!("award \"{id}\" is {why}: a transcript holds active awards only")));
            }
            picked.push(award.clone());
        }
        picked
    };
    let partial = !chosen.is_empty();
    let user = app.store.user(learner).await?;
    let key = app.store.platform_signing_key()?;
    let signer = TranscriptSigner { profile: platform_profile(app), key, method: app.config.urls().platform_verification_method() };
    build(app, &user, awards, partial, signer, format).await
}

/// An organisation's transcript of one learner: the learner's active awards with it, signed with
/// the organisation's key.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ViewEarners` in the organisation; `NotFound` for an
/// unknown organisation or learner, or a learner with no award from it; `Conflict` when none of
/// those awards is active; `Invalid` for more than [`MAX_TRANSCRIPT_AWARDS`]; `Internal` when
/// signing fails.
pub async fn issuer_transcript(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    learner: UserId,
    format: TranscriptFormat,
) -> Result<Transcript, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ViewEarners))?;
    let organisation = app.store.organisation(organisation).await?;
    let held: Vec<Award> = app.store.awards_of(learner).await?.into_iter().filter(|award| award.organisation == organisation.id).collect();
    if held.is_empty() {
        return Err(AppError::NotFound(format!("no award of {} to learner \"{learner}\"", organisation.profile.name)));
    }
    let now = app.now();
    let awards: Vec<Award> = held.into_iter().filter(|award| includable(award, now)).collect();
    let user = app.store.user(learner).await?;
    let key = app.store.signing_key(organisation.id).await?;
    let signer =
        TranscriptSigner { profile: issuer_profile(&app.config, &organisation), key, method: crate::awards::verification_method(&app.config, organisation.id) };
    build(app, &user, awards, true, signer, format).await
}

/// The installation's own DID document: its `did:web` with the platform key.
///
/// # Errors
/// `Internal` if the platform key cannot be had.
pub fn platform_did_document(app: &App) -> Result<Value, AppError> {
    let key = app.store.platform_signing_key()?;
    let multibase = key.public_key_multibase();
    Ok(cairn_vc::did::did_document(&app.config.urls().platform_did(), &multibase, &[cairn_vc::did::did_key(&multibase)]))
}

/// The issuer `Profile` of the platform's transcripts.
fn platform_profile(app: &App) -> Profile {
    let url = app.config.public_url.to_string();
    let host = app.config.public_url.host_str().unwrap_or("localhost").to_string();
    Profile {
        id: app.config.urls().platform_did(),
        name: format!("Cairn at {host}"),
        url: Some(url),
        email: None,
        description: Some(
            "The Cairn installation that holds these awards: it vouches that the learner holds each one; each award carries its own issuer's proof.".into(),
        ),
        image: None,
    }
}

/// Who signs a transcript, and as whom.
struct TranscriptSigner {
    profile: Profile,
    key: Ed25519KeyPair,
    method: String,
}

/// The credit hours an achievement carries, if it carries any: the one place the transcript reads
/// them; [`credit_total`] sums them.
pub fn achievement_credits(achievement: &Achievement) -> Option<f64> {
    achievement.content.credits.map(cairn_core::composition::Credits::as_f64)
}

/// The total of the credits of a transcript's achievements: the sum of those that carry credits,
/// `None` when none does (the transcript then states no total).
pub fn credit_total(credits: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    credits.into_iter().flatten().fold(None, |total, credits| Some(total.unwrap_or(0.0) + credits))
}

/// The associations between the achievements of a transcript: for each held level whose
/// micro-credential is held too, `isParentOf` from the micro-credential to the level and
/// `isChildOf` from the level to the micro-credential. `ids` maps each achievement to the id its
/// credential gives it.
pub fn stack_associations(achievements: &[(AchievementId, Option<AchievementId>)], ids: &HashMap<AchievementId, String>) -> Vec<Association> {
    let mut out = Vec::new();
    for (child, parent) in achievements {
        let (Some(parent), Some(child_id)) = (parent, ids.get(child)) else { continue };
        let Some(parent_id) = ids.get(parent) else { continue };
        out.push(Association { association_type: "isParentOf".into(), source_id: parent_id.clone(), target_id: child_id.clone() });
        out.push(Association { association_type: "isChildOf".into(), source_id: child_id.clone(), target_id: parent_id.clone() });
    }
    out
}

/// Builds and signs the transcript of `awards` for `user`.
async fn build(app: &App, user: &User, awards: Vec<Award>, partial: bool, signer: TranscriptSigner, format: TranscriptFormat) -> Result<Transcript, AppError> {
    if awards.is_empty() {
        return Err(AppError::conflict("there is no active award to put in a transcript"));
    }
    if awards.len() > MAX_TRANSCRIPT_AWARDS {
        return Err(AppError::invalid_field(
            "/award",
            format!("a transcript holds at most {MAX_TRANSCRIPT_AWARDS} awards; choose at most {MAX_TRANSCRIPT_AWARDS} of the {}", awards.len()),
        ));
    }
    let mut credentials = Vec::with_capacity(awards.len());
    let mut achievements = Vec::with_capacity(awards.len());
    let mut ids = HashMap::new();
    let mut credits = Vec::with_capacity(awards.len());
    for award in &awards {
        let credential: Value = serde_json::from_str(&award.credential_json)
            .map_err(|e| AppError::internal(&cairn_store::StoreError::Corrupt(format!("the credential of award {}: {e}", award.id))))?;
        if let Some(id) = credential.pointer("/credentialSubject/achievement/id").and_then(Value::as_str) {
            ids.insert(award.achievement, id.to_string());
        }
        let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
        credits.push(achievement_credits(&achievement));
        // Every micro-credential or certificate the achievement is part of: its own micro-credential
        // for a level, and those composed of it.
        let containers = app.store.containers_of(award.achievement).await?;
        if containers.is_empty() {
            achievements.push((award.achievement, None));
        }
        achievements.extend(containers.into_iter().map(|container| (award.achievement, Some(container))));
        credentials.push(credential);
    }
    let name = clean(&user.name);
    let total = credit_total(credits);
    let mut unsigned = clr_credential(&ClrInput {
        id: format!("urn:uuid:{}", random_uuid()),
        name: if name.is_empty() { "Transcript".into() } else { format!("Transcript of {name}") },
        issuer: signer.profile.clone(),
        valid_from: rfc3339(app.now()),
        subject: Recipient::Email { address: user.email.as_str().to_string(), salt: random_salt() },
        credentials,
        associations: stack_associations(&achievements, &ids),
        partial,
    });
    if let Some(total) = total {
        // CLR 2.0 has no member for a total; the transcript's description states it.
        unsigned["description"] = Value::String(format!("{} awards, {} credits in all.", awards.len(), format_credits(total)));
    }
    let now = rfc3339(app.now());
    crate::metrics::signed(crate::metrics::Signed::Transcript);
    tokio::task::spawn_blocking(move || match format {
        TranscriptFormat::DataIntegrity => {
            let proof_signer = Ed25519Signer::new(signer.key.clone(), signer.method.clone());
            eddsa::sign(&unsigned, &proof_signer, &ProofOptions::assertion(now), &BundledLoader)
                .map(|signed| Transcript::DataIntegrity(ob3::proof_as_array(signed)))
                .map_err(|e| crate::awards::signing_failed("transcript proof", &e))
        }
        TranscriptFormat::Jwt => {
            vc_jwt::sign(&unsigned, &signer.key, &signer.method).map(Transcript::Jwt).map_err(|e| crate::awards::signing_failed("transcript VC-JWT", &e))
        }
    })
    .await
    .map_err(|e| AppError::internal(&e))?
}

/// Credits as people write them: `12`, `7.5`.
fn format_credits(credits: f64) -> String {
    let text = format!("{credits:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A random (version 4) UUID, for the transcript's id.
pub(crate) fn random_uuid() -> String {
    use rand::Rng;
    let mut bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A salt for the learner's hashed e-mail: 128 random bits in hex.
fn random_salt() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_the_credits_there_are() {
        assert_eq!(credit_total([None, None]), None);
        assert_eq!(credit_total([Some(2.5), None, Some(5.0)]), Some(7.5));
        assert_eq!(format_credits(7.5), "7.5");
        assert_eq!(format_credits(12.0), "12");
    }

    #[test]
    fn transcript_ids_are_version_4_uuids() {
        let id = random_uuid();
        assert_eq!((id.len(), &id[14..15]), (36, "4"));
        assert_ne!(id, random_uuid());
    }

    #[test]
    fn a_held_stack_is_associated_both_ways() {
        let (micro, level, other) = (AchievementId::new(), AchievementId::new(), AchievementId::new());
        let ids: HashMap<AchievementId, String> =
            [(micro, "https://x/achievements/m".to_string()), (level, "https://x/achievements/l".to_string()), (other, "https://x/achievements/o".to_string())]
                .into_iter()
                .collect();
        let unheld_parent = AchievementId::new();
        let associations = stack_associations(&[(micro, None), (level, Some(micro)), (other, Some(unheld_parent))], &ids);
        let got: Vec<(&str, &str, &str)> = associations.iter().map(|a| (a.association_type.as_str(), a.source_id.as_str(), a.target_id.as_str())).collect();
        assert_eq!(
            got,
            [("isParentOf", "https://x/achievements/m", "https://x/achievements/l"), ("isChildOf", "https://x/achievements/l", "https://x/achievements/m")]
        );
    }

    #[test]
    fn formats_are_json_or_jwt() {
        assert_eq!(TranscriptFormat::parse(None).unwrap(), TranscriptFormat::DataIntegrity);
        assert_eq!(TranscriptFormat::parse(Some("jwt")).unwrap(), TranscriptFormat::Jwt);
        assert!(matches!(TranscriptFormat::parse(Some("xml")), Err(AppError::Invalid(_))));
    }
}
