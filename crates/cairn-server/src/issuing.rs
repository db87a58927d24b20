//! Issuing awards: signing the OB 3.0 credential (Data Integrity `eddsa-rdfc-2022` and VC-JWT),
//! writing the OB 2.0 hosted assertion, baking the PNG and SVG badges, reserving a status-list
//! entry, and recording it all with one store call; then stacking level badges into their
//! micro-credential and telling the learner. Also the issuer's revoke / suspend / reinstate.
//!
//! Everything that can fail (loading, signing, rendering, baking, storing blobs) happens before
//! [`cairn_store::Store::create_award`], which writes the award (and the submission's move to
//! `awarded`) in one transaction: a failed award leaves nothing in the database. Blobs written
//! before a failure stay, harmlessly: they are content-addressed.

mod documents;
mod images;

use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::Judgement;
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::award::{AwardStatus, Privacy, StatusAction};
use cairn_core::ids::{AchievementId, AwardId, SubmissionId, UserId};
use cairn_core::image::ImageType;
use cairn_core::organisation::Organisation;
use cairn_store::{Award, NewAward, StoreError};
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::loader::BundledLoader;
use cairn_vc::status::{StatusList, StatusPurpose};
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use cairn_vc::{ob2, ob3, suites::vc_jwt};
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;

use crate::problem::Problem;
use crate::state::AppState;
use cairn_app::Config;

pub use documents::{issuer_did, status_list_url, verification_method};
pub(crate) use documents::{ob2_badge_class, ob2_issuer, rfc3339};

/// Entries in each status list: the Bitstring Status List minimum (16 KiB of bits), for herd privacy.
pub const STATUS_LIST_LENGTH: u64 = cairn_vc::status::MIN_LIST_ENTRIES as u64;
/// How often a new status index is tried when another award took the chosen one meanwhile.
const MAX_INDEX_TRIES: usize = 5;
/// Longest reason for a status change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What to award, to whom, and on what grounds.
#[derive(Debug, Clone)]
pub struct AwardRequest {
    pub learner: UserId,
    pub achievement: AchievementId,
    /// The submission that earned it (none for a stacked micro-credential or a direct award).
    pub submission: Option<SubmissionId>,
    /// The assessment whose rubric levels become the credential's `result`s.
    pub judgement: Option<Judgement>,
    /// Evidence links as (URL, name); only http(s) URLs are accepted.
    pub evidence_urls: Vec<(String, String)>,
    /// The submission's move to `awarded`, applied in the same transaction as the award.
    pub transition: Option<cairn_store::Transition>,
}

/// One rubric criterion as assessed, kept beside the award (`results_json`) for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardResult {
    /// The criterion's slug.
    pub criterion: String,
    pub criterion_name: String,
    /// The level reached, from 1.
    pub level: usize,
    pub level_name: String,
    pub required_level_name: String,
    /// Whether the level reached meets the required one.
    pub met: bool,
}

/// The rubric results stored with an award.
pub fn award_results(award: &Award) -> Vec<AwardResult> {
    documents::parse_results(&award.results_json)
}

/// Absolute URLs of everything an award offers: its page and its downloads.
pub fn award_links(config: &Config, award: AwardId) -> Value {
    json!({
        "page": documents::award_page_url(config, award),
        "credential": documents::credential_url(config, award),
        "jwt": config.url(&format!("/awards/{award}/credential.jwt")),
        "png": config.url(&format!("/awards/{award}/badge.png")),
        "svg": config.url(&format!("/awards/{award}/badge.svg")),
        "ob2": documents::ob2_assertion_url(config, award),
    })
}

/// Awards an achievement, then the micro-credential it completes, if any; returns the award asked
/// for. See [`award_with_stack`].
///
/// # Errors
/// As [`award_with_stack`].
pub async fn award(state: &AppState, request: AwardRequest) -> Result<Award, Problem> {
    Ok(award_with_stack(state, request).await?.0)
}

/// Awards an achievement and notifies the learner. When it is a level of a micro-credential and
/// the learner now holds every level (and not yet the micro-credential), the micro-credential is
/// awarded too, with the level awards as its evidence; it is returned second.
///
/// Stacking and notifications happen after the award is stored: their failures are logged, never
/// reported as a failed award.
///
/// # Errors
/// 404 unknown learner or achievement; 409 a draft achievement, already awarded, or the
/// submission changed meanwhile; 422 a bad evidence URL; 503 when no status entry could be
/// reserved; 500 when signing or baking fails. Nothing is stored on any of them.
pub async fn award_with_stack(state: &AppState, request: AwardRequest) -> Result<(Award, Option<Award>), Problem> {
    let award = issue(state, &request).await?;
    notify_awarded(state, &award).await;
    let stacked = match stack(state, &award).await {
        Ok(Some(parent)) => {
            notify_awarded(state, &parent).await;
            Some(parent)
        }
        Ok(None) => None,
        Err(problem) => {
            tracing::error!(award = %award.id, detail = %problem.detail, "the completed micro-credential could not be awarded");
            None
        }
    };
    Ok((award, stacked))
}

/// Revokes, suspends or reinstates an award. The issuer's status lists change at once: they are
/// rendered from the store on every request.
///
/// # Errors
/// 401/403 without `ManageAssessment` in the issuing organisation; 404 unknown award; 409 when
/// the change is not possible (a revoked award stays revoked); 422 an overlong reason.
pub async fn set_status(state: &AppState, actor: &Actor, award: AwardId, action: StatusAction, reason: Option<String>) -> Result<Award, Problem> {
    let current = state.app.store.award(award).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::ManageAssessment))?;
    let next = current.status.apply(action).map_err(Problem::conflict)?;
    let reason = reason.as_deref().map(documents::clean).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(Problem::invalid_field("/reason", format!("at most {MAX_REASON_CHARS} characters")));
    }
    let changed = state.app.store.set_award_status(award, next, reason, state.app.now()).await?;
    notify_status(state, &changed).await;
    Ok(changed)
}

fn already_awarded() -> Problem {
    Problem::conflict("already awarded")
}

/// A salt for the recipient's hashed e-mail: 128 random bits in hex.
fn random_salt() -> String {
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything signing and baking need, owned, so that the work runs off the async threads.
struct Draft {
    config: Arc<Config>,
    award: AwardId,
    achievement: Achievement,
    organisation: Organisation,
    email: String,
    salt: String,
    judgement: Option<Judgement>,
    evidence: Vec<(String, String)>,
    issued: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
    revocation_list_url: String,
    key: Ed25519KeyPair,
    image: images::BadgeImage,
    fallback_svg: String,
}

/// The signed and baked forms of one award, ready to store.
struct Issued {
    credential_json: String,
    jwt: String,
    ob2_json: String,
    results_json: String,
    png: Vec<u8>,
    svg: Vec<u8>,
}

fn signing_failed(what: &str, error: &(dyn std::error::Error + 'static)) -> Problem {
    tracing::error!(%what, "issuing failed");
    Problem::internal(error)
}

impl Draft {
    /// Builds, signs (Data Integrity and VC-JWT) and bakes the credential with status entry `index`.
    fn issue(&self, index: u64) -> Result<Issued, Problem> {
        let (results, kept) = documents::results(&self.config, &self.achievement, self.judgement.as_ref());
        let unsigned = documents::credential(documents::CredentialParts {
            config: &self.config,
            award: self.award,
            achievement: &self.achievement,
            organisation: &self.organisation,
            email: &self.email,
            salt: &self.salt,
            results,
            evidence: &self.evidence,
            issued: self.issued,
            valid_until: self.valid_until,
            status: documents::credential_status(&self.revocation_list_url, index),
        });
        let method = verification_method(&self.config, self.organisation.id);
        let signer = Ed25519Signer::new(self.key.clone(), method.clone());
        let signed = eddsa::sign(&unsigned, &signer, &ProofOptions::assertion(rfc3339(self.issued)), &BundledLoader)
            .map_err(|e| signing_failed("data integrity proof", &e))?;
        let credential_json = ob3::proof_as_array(signed).to_string();
        let jwt = vc_jwt::sign(&unsigned, &self.key, &method).map_err(|e| signing_failed("VC-JWT", &e))?;
        let ob2_json =
            documents::ob2_assertion(&self.config, self.award, self.achievement.id, &self.email, &self.salt, self.issued, self.valid_until).to_string();
        let baked = images::bake_badges(&self.image, &self.fallback_svg, &credential_json).map_err(|e| signing_failed("baking", &e))?;
        Ok(Issued { credential_json, jwt, ob2_json, results_json: documents::results_json(&kept), png: baked.png, svg: baked.svg })
    }
}

/// The achievement's badge image (the upload, or the generated default) and the default itself.
async fn badge_image(state: &AppState, achievement: &Achievement, organisation: &Organisation) -> Result<(images::BadgeImage, String), Problem> {
    let level = match achievement.kind {
        Kind::Level(n) => Some(n),
        _ => None,
    };
    let fallback = cairn_core::image::default_badge_svg(&achievement.content.name, level, &organisation.profile.name);
    let image = match &achievement.content.image {
        Some(image) => images::BadgeImage { image_type: image.image_type, bytes: state.app.store.blobs().get(&image.key).await? },
        None => images::BadgeImage { image_type: ImageType::Svg, bytes: fallback.clone().into_bytes() },
    };
    Ok((image, fallback))
}

/// One award, without stacking or notification.
async fn issue(state: &AppState, request: &AwardRequest) -> Result<Award, Problem> {
    let store = &state.app.store;
    let now = state.app.now();
    let evidence = documents::evidence_links(&request.evidence_urls).map_err(|(pointer, detail)| Problem::invalid_field(&pointer, detail))?;
    let achievement = store.achievement(request.achievement).await?;
    if achievement.state == State::Draft {
        return Err(Problem::conflict(format!("\"{}\" is a draft; publish it before awarding it", achievement.content.name)));
    }
    let learner = store.user(request.learner).await?;
    if store.awards_of(learner.id).await?.iter().any(|a| a.achievement == achievement.id) {
        return Err(already_awarded());
    }
    let organisation = store.organisation(achievement.organisation).await?;
    let key = store.signing_key(organisation.id).await?;
    let (revocation_list, _suspension_list) = store.ensure_status_lists(organisation.id, STATUS_LIST_LENGTH, now).await?;
    let mut taken: HashSet<u64> = store.used_status_indexes(organisation.id).await?.into_iter().collect();
    let (image, fallback_svg) = badge_image(state, &achievement, &organisation).await?;
    let draft = Arc::new(Draft {
        config: state.app.config.clone(),
        award: AwardId::new(),
        valid_until: cairn_core::award::valid_until(now, achievement.content.validity_months),
        achievement,
        organisation,
        email: learner.email.as_str().to_string(),
        salt: random_salt(),
        judgement: request.judgement.clone(),
        evidence,
        issued: now,
        revocation_list_url: status_list_url(&state.app.config, &revocation_list),
        key,
        image,
        fallback_svg,
    });
    for _ in 0..MAX_INDEX_TRIES {
        let index = {
            let taken = &taken;
            cairn_vc::status::allocate_index(STATUS_LIST_LENGTH as usize, |i| taken.contains(&(i as u64)), &mut rand::thread_rng())
        };
        let index = index.map_err(|_| Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the issuer's status list is full"))? as u64;
        let work = draft.clone();
        let issued = tokio::task::spawn_blocking(move || work.issue(index)).await.map_err(|e| Problem::internal(&e))??;
        let png_key = store.blobs().put("awards", "png", issued.png).await?;
        let svg_key = store.blobs().put("awards", "svg", issued.svg).await?;
        let new = NewAward {
            id: draft.award,
            achievement: draft.achievement.id,
            achievement_version: draft.achievement.version,
            organisation: draft.organisation.id,
            learner: learner.id,
            submission: request.submission,
            issued_at: now,
            valid_until: draft.valid_until,
            status_index: index,
            recipient_salt: draft.salt.clone(),
            results_json: issued.results_json,
            credential_json: issued.credential_json,
            jwt: issued.jwt,
            ob2_json: issued.ob2_json,
            png_key,
            svg_key,
            privacy: Privacy::Unlisted,
        };
        match store.create_award(&new, request.transition.as_ref(), now).await {
            Ok(award) => return Ok(award),
            Err(StoreError::Conflict { constraint: "awards.status_index", .. }) => {
                taken.insert(index);
            }
            Err(StoreError::Conflict { constraint: "awards.learner", .. }) => return Err(already_awarded()),
            Err(error) => return Err(error.into()),
        }
    }
    Err(Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "no status list entry could be reserved; try again"))
}

/// Awards the micro-credential that `award` completes, if it completes one the learner lacks.
async fn stack(state: &AppState, award: &Award) -> Result<Option<Award>, Problem> {
    let store = &state.app.store;
    let level = store.achievement(award.achievement).await?;
    let (Kind::Level(_), Some(parent)) = (level.kind, level.parent) else { return Ok(None) };
    let levels: Vec<AchievementId> = store.levels(parent).await?.iter().map(|l| l.id).collect();
    let held = store.held_achievements(award.learner).await?;
    if held.contains(&parent) || !cairn_core::award::completes_stack(&levels, &held) {
        return Ok(None);
    }
    let mut evidence = Vec::new();
    for level_award in store.awards_of(award.learner).await?.iter().filter(|a| levels.contains(&a.achievement) && a.status == AwardStatus::Active) {
        let name = match store.achievement_version(level_award.achievement, level_award.achievement_version).await {
            Ok(achievement) => achievement.content.name,
            Err(_) => "Level badge".to_string(),
        };
        evidence.push((documents::award_page_url(&state.app.config, level_award.id), name));
    }
    let request = AwardRequest { learner: award.learner, achievement: parent, submission: None, judgement: None, evidence_urls: evidence, transition: None };
    match issue(state, &request).await {
        Ok(parent) => Ok(Some(parent)),
        // Another request completed the stack first.
        Err(problem) if problem.status == axum::http::StatusCode::CONFLICT => Ok(None),
        Err(problem) => Err(problem),
    }
}

/// The learner's notification and e-mail for a new award; failures are logged.
async fn notify_awarded(state: &AppState, award: &Award) {
    let result = async {
        let achievement = state.app.store.achievement_version(award.achievement, award.achievement_version).await?;
        let organisation = state.app.store.organisation(award.organisation).await?;
        let learner = state.app.store.user(award.learner).await?;
        let page = documents::award_page_url(&state.app.config, award.id);
        let subject = format!("You earned \"{}\"", achievement.content.name);
        let body = format!(
            "{} has awarded you \"{}\". Your badge is a verifiable Open Badges 3.0 credential: see it, download it and share it at {page}",
            organisation.profile.name, achievement.content.name
        );
        let now = state.app.now();
        state.app.store.notify(learner.id, "award", &subject, &body, &format!("/awards/{}", award.id), now).await?;
        state.app.store.queue_mail(&learner.email, &subject, &format!("Hello {},\n\n{body}\n", learner.name), now).await?;
        Ok::<(), StoreError>(())
    };
    if let Err(error) = result.await {
        tracing::error!(award = %award.id, %error, "the learner could not be notified of an award");
    }
}

/// The learner's notification of a status change; failures are logged.
async fn notify_status(state: &AppState, award: &Award) {
    let result = async {
        let achievement = state.app.store.achievement_version(award.achievement, award.achievement_version).await?;
        let name = &achievement.content.name;
        let (kind, subject) = match award.status {
            AwardStatus::Revoked => ("award-revoked", format!("\"{name}\" was revoked")),
            AwardStatus::Suspended => ("award-suspended", format!("\"{name}\" was suspended")),
            AwardStatus::Active => ("award-reinstated", format!("\"{name}\" was reinstated")),
        };
        let body = match &award.status_reason {
            Some(reason) if award.status != AwardStatus::Active => format!("{subject} by its issuer: {reason}"),
            _ => format!("{subject} by its issuer."),
        };
        state.app.store.notify(award.learner, kind, &subject, &body, &format!("/awards/{}", award.id), state.app.now()).await?;
        Ok::<(), StoreError>(())
    };
    if let Err(error) = result.await {
        tracing::error!(award = %award.id, %error, "the learner could not be notified of a status change");
    }
}

/// The signed `BitstringStatusListCredential` for list `list_id`: bits set for the issuer's
/// revoked awards (revocation list) or suspended ones (suspension list), as stored now.
///
/// # Errors
/// 404 unknown list; 500 when signing fails.
pub(crate) async fn status_list_credential(state: &AppState, list_id: &str) -> Result<Value, Problem> {
    let row = state.app.store.status_list(list_id).await?;
    let purpose =
        StatusPurpose::parse(&row.purpose).ok_or_else(|| Problem::internal(&StoreError::Corrupt(format!("status list purpose \"{}\"", row.purpose))))?;
    let flagged = match purpose {
        StatusPurpose::Revocation => AwardStatus::Revoked,
        StatusPurpose::Suspension => AwardStatus::Suspended,
    };
    let mut list = StatusList::new(usize::try_from(row.length).unwrap_or(cairn_vc::status::MIN_LIST_ENTRIES));
    for (index, status) in state.app.store.status_entries(row.organisation).await? {
        if status == flagged {
            list.set(usize::try_from(index).unwrap_or(usize::MAX), true).map_err(|e| Problem::internal(&e))?;
        }
    }
    let key = state.app.store.signing_key(row.organisation).await?;
    let issuer = issuer_did(&state.app.config, row.organisation);
    let now = rfc3339(state.app.now());
    let unsigned = cairn_vc::status::list_credential(&status_list_url(&state.app.config, list_id), &issuer, purpose, &list, &now);
    let signer = Ed25519Signer::new(key, verification_method(&state.app.config, row.organisation));
    let signed = tokio::task::spawn_blocking(move || eddsa::sign(&unsigned, &signer, &ProofOptions::assertion(now), &BundledLoader))
        .await
        .map_err(|e| Problem::internal(&e))?
        .map_err(|e| signing_failed("status list proof", &e))?;
    Ok(signed)
}

/// What a hosted OB 2.0 assertion URL answers: the assertion, or — revoked or suspended — the
/// OB 2.0 revocation document with the issuer's reason (served as 410 Gone).
pub(crate) fn ob2_hosted(config: &Config, award: &Award) -> (bool, Value) {
    let id = documents::ob2_assertion_url(config, award.id);
    let reason = |what: &str| match &award.status_reason {
        Some(reason) => format!("{what}: {reason}"),
        None => format!("{what} by the issuer"),
    };
    match award.status {
        AwardStatus::Active => (false, serde_json::from_str(&award.ob2_json).unwrap_or_else(|_| json!({"id": id}))),
        AwardStatus::Revoked => (true, ob2::revoked_assertion_json(&id, &reason("revoked"))),
        AwardStatus::Suspended => (true, ob2::revoked_assertion_json(&id, &reason("suspended"))),
    }
}
