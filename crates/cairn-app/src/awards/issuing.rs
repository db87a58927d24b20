//! The award transaction: signing the OB 3.0 credential (Data Integrity `eddsa-rdfc-2022` and
//! VC-JWT), writing the OB 2.0 hosted assertion, baking the PNG and SVG badges, reserving a
//! status-list entry, and recording it all with one store call, together with its effects:
//! telling the learner and checking what it completes (`crate::stacks::complete`). Also the
//! issuer's revoke / suspend / reinstate, which tell the learner the same way.
//!
//! Everything that can fail (loading, signing, rendering, baking, storing blobs) happens before
//! [`cairn_store::Store::create_award`], which writes the award (and the submission's move to
//! `awarded`, and the effects) in one transaction: a failed award leaves nothing in the database.
//! Blobs written before a failure stay, harmlessly: they are content-addressed. What follows an
//! award runs from the outbox (`effects.rs`), so a crash after the commit loses nothing.

use cairn_core::achievement::{Achievement, State};
use cairn_core::assessment::Judgement;
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::award::{AwardStatus, StatusAction, StatusReason};
use cairn_core::ids::{AchievementId, AwardId, AwardOfferId, OrganisationId, SubmissionId, UserId};
use cairn_core::image::ImageType;
use cairn_core::notification::NotificationKind;
use cairn_core::organisation::Organisation;
use cairn_core::renewal::NotRenewable;
use cairn_core::webhook::EventKind;
use cairn_store::{Award, AwardOffer, Effect, HeldCredential, NewAward, NewEffect, StoreError, WebhookSubject};
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::loader::BundledLoader;
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use cairn_vc::{ob3, suites::vc_jwt};
use futures_util::{StreamExt as _, TryStreamExt as _};
use rand::Rng;
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;

use super::documents::{self, PriorLearningBasis, rfc3339, status_list_url, verification_method};
use super::images;
use crate::config::Config;
use crate::effects;
use crate::error::ConflictKind;
use crate::notify::notice;
use crate::{App, AppError};

/// Entries in each status list: the Bitstring Status List minimum (16 KiB of bits), for herd privacy.
pub const STATUS_LIST_LENGTH: u64 = cairn_vc::status::MIN_LIST_ENTRIES as u64;
/// Credentials whose images are written at once by [`hold_credentials`].
const BLOB_WRITES_AT_ONCE: usize = 16;
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
    /// Set when the award recognises prior learning.
    pub prior_learning: Option<PriorLearningBasis>,
    /// How it was earned, in the issuer's words (a direct award's narrative).
    pub narrative: Option<String>,
    /// The direct award offer this award claims.
    pub offer: Option<AwardOfferId>,
}

impl AwardRequest {
    /// An award of `achievement` to `learner` on no other grounds: no submission, judgement,
    /// evidence, prior learning, narrative or offer. Set those that apply with `..`.
    pub fn new(learner: UserId, achievement: AchievementId) -> AwardRequest {
        AwardRequest { learner, achievement, submission: None, judgement: None, evidence_urls: Vec::new(), prior_learning: None, narrative: None, offer: None }
    }
}

/// Awards an achievement; the learner is told, and a micro-credential that the award completes
/// is awarded too (both through the outbox, run before this returns). Returns the award asked
/// for. For a submission, it must be passed: it moves to `awarded` with the award. A renewal's
/// submission (`crate::renewals`) renews the award it names: the new credential lists it as
/// evidence, and it is marked renewed in the same transaction.
///
/// # Errors
/// `NotFound` for an unknown learner or achievement; `Conflict` for a draft achievement, one
/// already awarded, or a submission that is not passed (any more); `Invalid` for a bad evidence
/// URL; `Unavailable` when no status entry could be reserved; `Internal` when signing or baking
/// fails. Nothing is stored on any of them.
pub async fn award(app: &App, request: AwardRequest) -> Result<Award, AppError> {
    let (award, effects) = issue(app, &request).await?;
    effects::settle(app, &effects).await;
    Ok(award)
}

/// [`award`], also returning a micro-credential or certificate the award completed, if one was
/// awarded with it.
///
/// # Errors
/// As [`award`].
pub async fn award_with_stack(app: &App, request: AwardRequest) -> Result<(Award, Option<Award>), AppError> {
    let containers = app.store.containers_of(request.achievement).await?;
    let held_before: Vec<AchievementId> = app.store.awards_of(request.learner).await?.iter().map(|a| a.achievement).collect();
    let award = award(app, request).await?;
    let stacked = if containers.iter().all(|c| held_before.contains(c)) {
        None
    } else {
        app.store.awards_of(award.learner).await?.into_iter().find(|a| containers.contains(&a.achievement) && !held_before.contains(&a.achievement))
    };
    Ok((award, stacked))
}

/// Revokes, suspends or reinstates an award. The issuer's status lists change at once: they are
/// rendered from the store on every request. The reason is told to the learner and shown to the
/// issuer's staff; the public (award page, hosted OB 2.0 assertion, API) reads it only when the
/// issuer publishes it (`StatusReason::public`).
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment` in the issuing organisation;
/// `NotFound`; `Conflict` when the change is not possible (a revoked award stays revoked);
/// `Invalid` for an overlong reason.
pub async fn set_status(app: &App, actor: &Actor, award: AwardId, action: StatusAction, reason: Option<StatusReason>) -> Result<Award, AppError> {
    let current = app.store.award(award).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::ManageAssessment))?;
    let next = current.status.apply(action).map_err(AppError::conflict)?;
    let reason = reason.map(|reason| StatusReason { text: documents::clean(&reason.text), public: reason.public }).filter(|reason| !reason.text.is_empty());
    if reason.as_ref().is_some_and(|r| r.text.chars().count() > MAX_REASON_CHARS) {
        return Err(AppError::invalid_field("/reason", format!("at most {MAX_REASON_CHARS} characters")));
    }
    let achievement = app.store.achievement_version(current.achievement, current.achievement_version).await?;
    let kind = match next {
        AwardStatus::Revoked => EventKind::AwardRevoked,
        AwardStatus::Suspended => EventKind::AwardSuspended,
        AwardStatus::Active => EventKind::AwardReinstated,
    };
    let effects = [
        status_notice(&current, next, reason.as_ref().map(|r| r.text.as_str()), &achievement.content.name),
        crate::webhooks::event(kind, WebhookSubject::Award(award), app.now()),
    ];
    let changed = app.store.set_award_status(award, next, reason, &effects, app.now()).await?;
    app.caches.status_changed(&current.credential_json);
    effects::settle(app, &effects).await;
    Ok(changed)
}

fn already_awarded() -> AppError {
    AppError::Conflict { kind: ConflictKind::AlreadyAwarded, detail: "already awarded".into() }
}

/// The award a renewal names was renewed meanwhile (by another runner of the same pass).
fn renewed_already() -> AppError {
    AppError::Conflict { kind: ConflictKind::NotRenewable, detail: NotRenewable::AlreadyRenewed.to_string() }
}

/// A salt for the recipient's hashed e-mail: 128 random bits in hex.
pub(crate) fn random_salt() -> String {
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What every credential of one achievement shares, owned so that signing runs off the async
/// threads: loaded once for an award, or once for a batch of direct awards.
pub(crate) struct Signing {
    pub config: Arc<Config>,
    pub achievement: Achievement,
    pub organisation: Organisation,
    key: Ed25519KeyPair,
    revocation_list_url: String,
    suspension_list_url: String,
    /// The badge's images, rendered once, each credential baked into a copy.
    badges: images::PlainBadges,
}

/// What one credential states of its recipient and of how it was earned.
#[derive(Clone)]
pub(crate) struct Subject {
    pub award: AwardId,
    pub email: String,
    pub salt: String,
    pub judgement: Option<Judgement>,
    pub evidence: Vec<(String, String)>,
    pub prior_learning: Option<PriorLearningBasis>,
    pub narrative: Option<String>,
    /// The award this one renews, for a renewal.
    pub renews: Option<documents::Renewed>,
    pub issued: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
}

impl Subject {
    /// A new credential of `achievement` for `email`, issued `now`, on no other grounds.
    pub(crate) fn new(achievement: &Achievement, email: &str, now: OffsetDateTime) -> Subject {
        Subject {
            award: AwardId::new(),
            email: email.to_string(),
            salt: random_salt(),
            judgement: None,
            evidence: Vec::new(),
            prior_learning: None,
            narrative: None,
            renews: None,
            issued: now,
            valid_until: cairn_core::award::valid_until(now, achievement.content.validity_months),
        }
    }
}

/// The status-list indexes an issuer's credentials use, to choose free ones from.
pub(crate) struct StatusSlots {
    taken: HashSet<u64>,
}

impl StatusSlots {
    /// The indexes the organisation's awards and waiting direct awards hold.
    pub(crate) async fn load(app: &App, organisation: OrganisationId) -> Result<StatusSlots, AppError> {
        Ok(StatusSlots { taken: app.store.used_status_indexes(organisation).await?.into_iter().collect() })
    }

    /// A free index, chosen at random (herd privacy), and from now on taken.
    pub(crate) fn take(&mut self) -> Result<u64, AppError> {
        let index = {
            let taken = &self.taken;
            cairn_vc::status::allocate_index(STATUS_LIST_LENGTH as usize, |i| taken.contains(&(i as u64)), &mut rand::thread_rng())
        };
        let index = index.map_err(|_| AppError::Unavailable("the issuer's status list is full".into()))? as u64;
        self.taken.insert(index);
        Ok(index)
    }
}

/// The signed and baked forms of one award, ready to store.
pub(crate) struct Issued {
    credential_json: String,
    jwt: String,
    ob2_json: String,
    results_json: String,
    png: Vec<u8>,
    svg: Vec<u8>,
}

pub(crate) fn signing_failed(what: &str, error: &(dyn std::error::Error + 'static)) -> AppError {
    tracing::error!(%what, "issuing failed");
    AppError::internal(error)
}

/// The signed forms of one credential, without its baked images.
pub(crate) struct SignedForms {
    pub credential_json: String,
    pub jwt: String,
    pub ob2_json: String,
    pub results_json: String,
}

/// What a credential is built from when it is signed without the award transaction (a synthetic
/// platform's awards, `crate::synthetic`): no evidence, no prior learning, no renewal.
pub(crate) struct CredentialInput<'a> {
    pub config: &'a Config,
    pub award: AwardId,
    pub achievement: &'a Achievement,
    pub organisation: &'a Organisation,
    pub email: &'a str,
    pub salt: &'a str,
    pub judgement: Option<&'a Judgement>,
    pub issued: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub revocation_list_url: &'a str,
    pub suspension_list_url: &'a str,
    pub key: &'a Ed25519KeyPair,
    pub index: u64,
}

/// Builds and signs a credential (Data Integrity and VC-JWT) and its hosted OB 2.0 assertion.
pub(crate) fn sign_forms(input: &CredentialInput<'_>) -> Result<SignedForms, AppError> {
    sign_parts(input, &[], None, None, None)
}

fn sign_parts(
    input: &CredentialInput<'_>,
    evidence: &[(String, String)],
    prior_learning: Option<&PriorLearningBasis>,
    narrative: Option<&str>,
    renews: Option<&documents::Renewed>,
) -> Result<SignedForms, AppError> {
    let (results, kept) = documents::results(input.config, input.achievement, input.judgement, renews.is_some());
    let unsigned = documents::credential(documents::CredentialParts {
        config: input.config,
        award: input.award,
        achievement: input.achievement,
        organisation: input.organisation,
        email: input.email,
        salt: input.salt,
        results,
        evidence,
        prior_learning,
        narrative,
        renews,
        issued: input.issued,
        valid_until: input.valid_until,
        status: documents::credential_status(input.revocation_list_url, input.suspension_list_url, input.index),
    });
    let method = verification_method(input.config, input.organisation.id);
    let signer = Ed25519Signer::new(input.key.clone(), method.clone());
    let signed = eddsa::sign(&unsigned, &signer, &ProofOptions::assertion(rfc3339(input.issued)), &BundledLoader)
        .map_err(|e| signing_failed("data integrity proof", &e))?;
    crate::metrics::signed(crate::metrics::Signed::AwardDataIntegrity);
    let credential_json = ob3::proof_as_array(signed).to_string();
    let jwt = vc_jwt::sign(&unsigned, input.key, &method).map_err(|e| signing_failed("VC-JWT", &e))?;
    crate::metrics::signed(crate::metrics::Signed::AwardJwt);
    let ob2_json =
        documents::ob2_assertion(input.config, input.award, input.achievement.id, input.email, input.salt, input.issued, input.valid_until).to_string();
    Ok(SignedForms { credential_json, jwt, ob2_json, results_json: documents::results_json(&kept) })
}

impl Signing {
    /// What signing `achievement`'s credentials needs: its issuer, key, status lists and image.
    pub(crate) async fn load(app: &App, achievement: Achievement, now: OffsetDateTime) -> Result<Signing, AppError> {
        let store = &app.store;
        let organisation = store.organisation(achievement.organisation).await?;
        let key = store.signing_key(organisation.id).await?;
        let (revocation_list, suspension_list) = store.ensure_status_lists(organisation.id, STATUS_LIST_LENGTH, now).await?;
        let (image, fallback_svg) = badge_image(app, &achievement, &organisation).await?;
        let badges = tokio::task::spawn_blocking(move || images::plain_badges(&image, &fallback_svg))
            .await
            .map_err(|e| AppError::internal(&e))?
            .map_err(|e| signing_failed("rendering the badge", &e))?;
        Ok(Signing {
            config: app.config.clone(),
            revocation_list_url: status_list_url(&app.config, &revocation_list),
            suspension_list_url: status_list_url(&app.config, &suspension_list),
            achievement,
            organisation,
            key,
            badges,
        })
    }

    /// Builds, signs (Data Integrity and VC-JWT) and bakes `subject`'s credential with status
    /// entry `index`.
    pub(crate) fn issue(&self, subject: &Subject, index: u64) -> Result<Issued, AppError> {
        let input = CredentialInput {
            config: &self.config,
            award: subject.award,
            achievement: &self.achievement,
            organisation: &self.organisation,
            email: &subject.email,
            salt: &subject.salt,
            judgement: subject.judgement.as_ref(),
            issued: subject.issued,
            valid_until: subject.valid_until,
            revocation_list_url: &self.revocation_list_url,
            suspension_list_url: &self.suspension_list_url,
            key: &self.key,
            index,
        };
        let signed = sign_parts(&input, &subject.evidence, subject.prior_learning.as_ref(), subject.narrative.as_deref(), subject.renews.as_ref())?;
        let baked = self.badges.bake(&signed.credential_json).map_err(|e| signing_failed("baking", &e))?;
        Ok(Issued {
            credential_json: signed.credential_json,
            jwt: signed.jwt,
            ob2_json: signed.ob2_json,
            results_json: signed.results_json,
            png: baked.png,
            svg: baked.svg,
        })
    }
}

/// The achievement's badge image (the upload, or the generated default) and the default itself.
async fn badge_image(app: &App, achievement: &Achievement, organisation: &Organisation) -> Result<(images::BadgeImage, String), AppError> {
    let fallback = cairn_core::image::default_badge_svg(&achievement.content.name, achievement.kind.into(), &organisation.profile.name);
    let image = match &achievement.content.image {
        Some(image) => images::BadgeImage { image_type: image.image_type, bytes: app.store.blobs().get(&image.key).await? },
        None => images::BadgeImage { image_type: ImageType::Svg, bytes: fallback.clone().into_bytes() },
    };
    Ok((image, fallback))
}

/// One award, recorded with its effects (telling the learner; stacking, for a level badge),
/// which are returned for the caller to settle.
pub(crate) async fn issue(app: &App, request: &AwardRequest) -> Result<(Award, Vec<NewEffect>), AppError> {
    let store = &app.store;
    let now = app.now();
    let evidence = documents::evidence_links(&request.evidence_urls).map_err(|(pointer, detail)| AppError::invalid_field(&pointer, detail))?;
    let achievement = store.achievement(request.achievement).await?;
    if achievement.state == State::Draft {
        return Err(AppError::conflict(format!("\"{}\" is a draft; publish it before awarding it", achievement.content.name)));
    }
    let learner = store.user(request.learner).await?;
    // A renewal's submission names the award it renews: the one current award the learner may
    // already hold of this achievement.
    let renews = match request.submission {
        Some(submission) => store.submission(submission).await?.renewal_of,
        None => None,
    };
    if store.awards_of(learner.id).await?.iter().any(|a| a.achievement == achievement.id && Some(a.id) != renews) {
        return Err(already_awarded());
    }
    let renews = match renews {
        Some(previous) => {
            let previous = store.award(previous).await?;
            if previous.renewed_by.is_some() {
                return Err(renewed_already());
            }
            Some(documents::Renewed { award: previous.id, issued: previous.issued_at, valid_until: previous.valid_until })
        }
        None => None,
    };
    let mut slots = StatusSlots::load(app, achievement.organisation).await?;
    let subject = Subject {
        judgement: request.judgement.clone(),
        evidence,
        prior_learning: request.prior_learning.clone(),
        narrative: request.narrative.clone().filter(|n| !n.trim().is_empty()),
        renews,
        ..Subject::new(&achievement, learner.email.as_str(), now)
    };
    let signing = Arc::new(Signing::load(app, achievement, now).await?);
    let effects =
        award_effects(&signing.achievement.content.name, &signing.organisation.profile.name, subject.award, subject.renews.is_some(), learner.id, now);
    for _ in 0..MAX_INDEX_TRIES {
        let held = hold_credentials(app, &signing, vec![subject.clone()], &mut slots, &mut HoldTimes::default()).await?.remove(0);
        let new = NewAward {
            submission: request.submission,
            recognition: subject.prior_learning.as_ref().map(|p| p.recognition),
            renews: subject.renews.as_ref().map(|previous| previous.award),
            offer: request.offer,
            ..NewAward::from_held(held, signing.achievement.id, signing.organisation.id, learner.id)
        };
        match store.create_award(&new, &effects, now).await {
            Ok(award) => return Ok((award, effects)),
            // Another award took the index meanwhile: it stays taken, another is tried.
            Err(StoreError::Conflict { constraint: "awards.status_index", .. }) => {}
            Err(StoreError::Conflict { constraint: "awards.learner", .. }) => return Err(already_awarded()),
            Err(StoreError::Conflict { constraint: "awards.renewed", .. }) => return Err(renewed_already()),
            // Another claim of the same direct award came first, or the issuer withdrew it.
            Err(StoreError::Conflict { constraint: "award_offers.claimed", .. }) => return Err(claimed_or_withdrawn()),
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Unavailable("no status list entry could be reserved; try again".into()))
}

/// Signs, bakes and stores the credentials of `subjects` (all of `signing`'s achievement), each
/// with a status index taken from `slots`, on every core: the forms an award is made of, or a
/// direct award holds until it is claimed. The images are stored as blobs; nothing else is.
///
/// # Errors
/// `Unavailable` when the status list is full; `Internal` when signing or baking fails; a blob
/// store failure.
pub(crate) async fn hold_credentials(
    app: &App,
    signing: &Arc<Signing>,
    subjects: Vec<Subject>,
    slots: &mut StatusSlots,
    times: &mut HoldTimes,
) -> Result<Vec<HeldCredential>, AppError> {
    let signing_started = std::time::Instant::now();
    let indexed: Vec<(Subject, u64)> = subjects.into_iter().map(|subject| Ok((subject, slots.take()?))).collect::<Result<_, AppError>>()?;
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8);
    let per_worker = indexed.len().div_ceil(workers).max(1);
    let mut chunks: Vec<Vec<(Subject, u64)>> = Vec::new();
    let mut rest = indexed.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(per_worker).collect());
    }
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let signing = signing.clone();
            tokio::task::spawn_blocking(move || {
                chunk.into_iter().map(|(subject, index)| signing.issue(&subject, index).map(|issued| (subject, index, issued))).collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    let mut signed = Vec::new();
    for task in tasks {
        signed.extend(task.await.map_err(|e| AppError::internal(&e))??);
    }
    times.signing += signing_started.elapsed();
    let blobs_started = std::time::Instant::now();
    // The images are written a few at a time: each write waits on the file system or the
    // object store, not on a core.
    let blobs = app.store.blobs();
    let held = futures_util::stream::iter(signed.into_iter().map(|(subject, index, issued)| async move {
        let (png_key, svg_key) = futures_util::try_join!(blobs.put("awards", "png", issued.png), blobs.put("awards", "svg", issued.svg))?;
        Ok::<_, StoreError>(HeldCredential {
            award: subject.award,
            achievement_version: signing.achievement.version,
            issued_at: subject.issued,
            valid_until: subject.valid_until,
            status_index: index,
            recipient_salt: subject.salt,
            results_json: issued.results_json,
            credential_json: issued.credential_json,
            jwt: issued.jwt,
            ob2_json: issued.ob2_json,
            png_key,
            svg_key,
        })
    }))
    .buffered(BLOB_WRITES_AT_ONCE)
    .try_collect::<Vec<_>>()
    .await?;
    times.blobs += blobs_started.elapsed();
    Ok(held)
}

/// Where [`hold_credentials`] spent its time: signing and baking (on every core), then storing
/// the images.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HoldTimes {
    pub signing: std::time::Duration,
    pub blobs: std::time::Duration,
}

/// Claims a direct award's held credential for `learner`: it becomes their award as it was
/// signed, and the offer is claimed, in one transaction; the learner is told and stacking runs,
/// as for any award. `Ok(None)` when its status index turned out to be another award's (two
/// issuings chose it at once): the caller issues the award afresh.
///
/// # Errors
/// `Conflict` when the learner holds the achievement already; `Gone` when the offer was claimed
/// or withdrawn meanwhile.
pub(crate) async fn claim_held(app: &App, offer: &AwardOffer, held: HeldCredential, learner: UserId) -> Result<Option<Award>, AppError> {
    let achievement = app.store.achievement_version(offer.achievement, held.achievement_version).await?;
    let effects = award_effects(&achievement.content.name, &offer.organisation_name, held.award, false, learner, app.now());
    let new = NewAward { offer: Some(offer.id), ..NewAward::from_held(held, offer.achievement, offer.organisation, learner) };
    match app.store.create_award(&new, &effects, app.now()).await {
        Ok(award) => {
            effects::settle(app, &effects).await;
            Ok(Some(award))
        }
        Err(StoreError::Conflict { constraint: "awards.status_index", .. }) => Ok(None),
        Err(StoreError::Conflict { constraint: "awards.learner", .. }) => Err(already_awarded()),
        Err(StoreError::Conflict { constraint: "award_offers.claimed", .. }) => Err(claimed_or_withdrawn()),
        Err(error) => Err(error.into()),
    }
}

fn claimed_or_withdrawn() -> AppError {
    AppError::Gone("this award was claimed already, or the issuer withdrew it".into())
}

/// What follows an award: the learner's notice and the check whether it completes a
/// micro-credential or a certificate.
fn award_effects(name: &str, issuer: &str, award: AwardId, renewal: bool, learner: UserId, now: OffsetDateTime) -> Vec<NewEffect> {
    let (subject, what) = if renewal { (format!("You renewed \"{name}\""), "renewed your badge") } else { (format!("You earned \"{name}\""), "awarded you") };
    let body = format!(
        "{} has {what} \"{name}\". Your badge is a verifiable Open Badges 3.0 credential: see it, download it and share it from its page \
         (only you can see it until you choose who may).",
        issuer
    );
    // Any award may complete a micro-credential or a certificate: the `Stack` effect checks.
    vec![
        notice(learner, NotificationKind::Award, subject, body, format!("/awards/{award}")),
        NewEffect::from(Effect::Stack { award }),
        crate::webhooks::event(EventKind::AwardIssued, WebhookSubject::Award(award), now),
    ]
}

/// The learner's notice of a status change.
fn status_notice(award: &Award, next: AwardStatus, reason: Option<&str>, name: &str) -> NewEffect {
    let (kind, subject) = match next {
        AwardStatus::Revoked => (NotificationKind::AwardRevoked, format!("\"{name}\" was revoked")),
        AwardStatus::Suspended => (NotificationKind::AwardSuspended, format!("\"{name}\" was suspended")),
        AwardStatus::Active => (NotificationKind::AwardReinstated, format!("\"{name}\" was reinstated")),
    };
    let body = match reason {
        Some(reason) if next != AwardStatus::Active => format!("{subject} by its issuer: {reason}"),
        _ => format!("{subject} by its issuer."),
    };
    notice(award.learner, kind, subject, body, format!("/awards/{}", award.id))
}
