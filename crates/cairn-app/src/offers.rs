//! Direct award. Whoever runs an issuer's assessment awards an achievement to an e-mail address,
//! for work assessed elsewhere: with the recipient's name, a narrative of how it was earned,
//! evidence links and the rubric levels reached, which the credential states as its `result`s. The address is e-mailed a claim link (through the mail outbox, in the offer's
//! transaction). The link opens a page where the recipient claims the award: signed in with that
//! address, or, when no account uses it, by choosing a name and a password. The credential is
//! issued then, to that account, by the award transaction every award goes through
//! (`crate::awards`), which marks the offer claimed; a link works until it is claimed or the
//! issuer withdraws it. Claiming needs the link, which only the address's owner receives: signing
//! up with the address alone claims nothing.
//!
//! An `Idempotency-Key` names one offer per issuer: the same request sent again answers the same
//! offer and mails nobody twice; another request with the key is refused. One offer of an
//! achievement to an address waits at a time.

use cairn_core::account::Email;
use cairn_core::account::{NewAccount, SignUpFields};
use cairn_core::achievement::{Achievement, State};
use cairn_core::assessment::{Judgement, Score};
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{AwardOfferId, OrganisationId};
use cairn_core::offer::{NewOffer, NotAwardable, OfferFields, awardable, idempotency_key, judged};
use cairn_core::submission::Outcome;
use cairn_store::{Award, AwardOffer, NewAwardOffer, OfferMade, OutgoingMail, StoreError, User};
use std::sync::Arc;

use crate::awards::{AwardRequest, HoldTimes, Signing, StatusSlots, Subject, award, claim_held, hold_credentials, parse_results};
use crate::config::Config;
use crate::{App, AppError};

/// How often a new status index is tried when another offer took the chosen one meanwhile.
const MAX_INDEX_TRIES: usize = 5;

/// Direct awards listed at most.
pub const OFFERS_LISTED: u32 = 200;

/// The path of the page a claim link opens (`/claim/{secret}`).
pub fn claim_path(secret: &str) -> String {
    format!("/claim/{secret}")
}

fn gone() -> AppError {
    AppError::Gone("this claim link is unknown, was used already, or the issuer withdrew the award: ask the issuer".into())
}

/// A direct award as made: new, or the one the same request with the same key made before.
#[derive(Debug, Clone)]
pub struct Offered {
    pub offer: AwardOffer,
    /// The same request came before with the same `Idempotency-Key`: nothing new was done.
    pub replayed: bool,
}

/// Awards an achievement of `organisation` to an address, which is e-mailed a claim link. The
/// credential is signed now, for the address, and held until it is claimed.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `Invalid` for a bad field or key,
/// an achievement of another issuer, or results that do not fit its rubric or fall below it;
/// `Conflict` for an achievement that is not published, an offer of it to the address that waits
/// already, or a key used for another request; `Unavailable` when the status list is full.
pub async fn offer(app: &App, actor: &Actor, organisation: OrganisationId, fields: &OfferFields, key: Option<&str>) -> Result<Offered, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let offered_by = actor.user.ok_or(AppError::Unauthenticated)?;
    let key = key.map(idempotency_key).transpose()?;
    let offer = NewOffer::parse(fields)?;
    let achievement = match app.store.achievement(offer.achievement).await {
        Ok(achievement) => Some(achievement),
        Err(StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let achievement = match (awardable(achievement.as_ref(), organisation), achievement) {
        (Ok(()), Some(achievement)) => achievement,
        (Err(NotAwardable::NotPublished(name)), _) => return Err(AppError::conflict(NotAwardable::NotPublished(name).words())),
        _ => return Err(AppError::invalid_field("/achievement_id", NotAwardable::NotOurs.words())),
    };
    let scores = judged(achievement.content.rubric.as_ref(), &offer.results)?;
    let fingerprint = fingerprint(&offer);
    if let Some(earlier) = app.store.replayed_offer(organisation, key.as_deref(), &fingerprint).await? {
        return Ok(Offered { offer: made(earlier?).0, replayed: true });
    }
    let now = app.now();
    let judgement = (!scores.is_empty()).then(|| Judgement { scores, feedback: String::new(), outcome: Outcome::Pass });
    let name = achievement.content.name.clone();
    let signing = Arc::new(Signing::load(app, achievement, now).await?);
    let issuer = signing.organisation.profile.name.clone();
    let mut slots = StatusSlots::load(app, organisation).await?;
    let compose = |secret: &str| claim_mail(&app.config, &issuer, &name, &offer.name, &offer.email, secret);
    for _ in 0..MAX_INDEX_TRIES {
        let subject = Subject {
            judgement: judgement.clone(),
            evidence: offer.evidence.clone(),
            narrative: Some(offer.narrative.clone()).filter(|n| !n.is_empty()),
            ..Subject::new(&signing.achievement, offer.email.as_str(), now)
        };
        let held = hold_credentials(app, &signing, vec![subject], &mut slots, &mut HoldTimes::default()).await?.remove(0);
        let new = NewAwardOffer {
            organisation,
            achievement: signing.achievement.id,
            email: &offer.email,
            name: &offer.name,
            narrative: &offer.narrative,
            evidence: &offer.evidence,
            credential: &held,
            offered_by,
            idempotency_key: key.as_deref(),
            fingerprint: &fingerprint,
        };
        match app.store.create_award_offer(new, now, compose).await {
            Ok(result) => {
                let (offer, replayed) = made(result);
                return Ok(Offered { offer, replayed });
            }
            // Another waiting offer took the index meanwhile: the credential, which names its
            // index, is signed again with another.
            Err(StoreError::Conflict { constraint: "award_offers.status_index", .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Unavailable("no status list entry could be reserved; try again".into()))
}

/// The digest of everything a direct award states, kept to tell the same request from another
/// sent with the same `Idempotency-Key`.
pub(crate) fn fingerprint(offer: &NewOffer) -> String {
    crate::submissions::sha256_hex(offer.statement().as_bytes())
}

/// The mail that tells `email` of a direct award, with its claim link.
pub(crate) fn claim_mail(config: &Config, issuer: &str, achievement: &str, recipient: &str, email: &Email, secret: &str) -> OutgoingMail {
    (
        email.clone(),
        format!("{issuer} awarded you \"{achievement}\""),
        format!(
            "Hello {recipient},\n\n{issuer} awarded you \"{achievement}\" on Cairn.\n\nClaim your badge here:\n\n{link}\n\n\
             The page lets you sign in with this address, or create a Cairn account for it. Your badge is a verifiable \
             Open Badges 3.0 credential: once claimed, you can download it, share it and put it in a wallet.\n\n\
             If you did not expect it, you can ignore this message.\n",
            link = config.url(&claim_path(secret)),
        ),
    )
}

/// The offer a store call made or found, and whether it was found (a replay).
fn made(result: OfferMade) -> (AwardOffer, bool) {
    match result {
        OfferMade::New(offer) => (offer, false),
        OfferMade::Replayed(offer) => (offer, true),
    }
}

/// The judgement whose results a direct award's credential states, from its kept results.
fn judgement_of(results_json: &str) -> Option<Judgement> {
    let scores: Vec<Score> =
        parse_results(results_json).into_iter().map(|r| Score { criterion: r.criterion, level: r.level.saturating_sub(1), comment: String::new() }).collect();
    (!scores.is_empty()).then(|| Judgement { scores, feedback: String::new(), outcome: Outcome::Pass })
}
/// One of the organisation's direct awards.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`.
pub async fn get(app: &App, actor: &Actor, organisation: OrganisationId, id: AwardOfferId) -> Result<AwardOffer, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    Ok(app.store.award_offer(organisation, id).await?)
}

/// The organisation's direct awards, newest first (at most [`OFFERS_LISTED`]).
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`.
pub async fn list(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<AwardOffer>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    Ok(app.store.award_offers(organisation, OFFERS_LISTED).await?)
}

/// What the issuer's direct-award page shows: the direct awards with their achievements' names,
/// and the published achievements that may be awarded.
#[derive(Debug, Clone)]
pub struct Overview {
    pub organisation_name: String,
    pub offers: Vec<(AwardOffer, String)>,
    pub achievements: Vec<Achievement>,
}

/// The issuer's direct awards, newest first (at most [`OFFERS_LISTED`]), and what may be awarded.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`.
pub async fn overview(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Overview, AppError> {
    let offers = list(app, actor, organisation).await?;
    let all = app.store.organisation_achievements(organisation).await?;
    let name_of = |id| all.iter().find(|a| a.id == id).map(|a| a.content.name.clone()).unwrap_or_default();
    let offers = offers
        .into_iter()
        .map(|offer| {
            let name = name_of(offer.achievement);
            (offer, name)
        })
        .collect();
    let achievements = all.into_iter().filter(|a| a.state == State::Published).collect();
    Ok(Overview { organisation_name: app.store.organisation(organisation).await?.profile.name, offers, achievements })
}

/// Withdraws a direct award that waits to be claimed: its link stops working.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`; `Conflict` once
/// claimed (revoke the award instead).
pub async fn withdraw(app: &App, actor: &Actor, organisation: OrganisationId, id: AwardOfferId) -> Result<AwardOffer, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    Ok(app.store.withdraw_award_offer(organisation, id, app.now()).await?)
}

/// What a claim link shows: the offer, the achievement's name, and whether an account uses the
/// address (then the recipient signs in to claim; otherwise they create one).
#[derive(Debug, Clone)]
pub struct Opened {
    pub offer: AwardOffer,
    pub achievement_name: String,
    pub account_exists: bool,
}

/// The offer a claim link opens, while it waits.
///
/// # Errors
/// `Gone` for a link that is unknown, claimed or withdrawn.
pub async fn open(app: &App, secret: &str) -> Result<Opened, AppError> {
    let offer = app.store.award_offer_by_secret(secret).await?.ok_or_else(gone)?;
    let achievement_name = app.store.achievement(offer.achievement).await?.content.name;
    let account_exists = app.store.user_by_email(&offer.email).await?.is_some();
    Ok(Opened { offer, achievement_name, account_exists })
}

/// Claims the award as the signed-in actor, whose address must be the one it was sent to: the
/// credential is issued to them now.
///
/// # Errors
/// `Unauthenticated` for visitors; `Gone` for a link that no longer works; `Forbidden` when the
/// actor's address is another; `Conflict` when they hold the achievement already; as
/// [`crate::awards::award`].
pub async fn claim(app: &App, actor: &Actor, secret: &str) -> Result<Award, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let offer = app.store.award_offer_by_secret(secret).await?.ok_or_else(gone)?;
    let account = app.store.user(user).await?;
    if account.email != offer.email {
        return Err(AppError::Forbidden(format!(
            "this award is for {}, and you are signed in as {}: sign in with that address to claim it",
            offer.email, account.email
        )));
    }
    issue(app, &offer, &account).await
}

/// Claims the award by creating an account for its address with `name` and `password` (by the
/// sign-up rules), then issuing the credential to it.
///
/// # Errors
/// `Gone` for a link that no longer works; `Invalid` at `/name` or `/password`; `Conflict` when
/// an account uses the address (then sign in to claim); `Busy` when password hashing is
/// saturated; as [`crate::awards::award`].
pub async fn claim_with_new_account(app: &App, secret: &str, name: &str, password: &str) -> Result<(User, Award), AppError> {
    let offer = app.store.award_offer_by_secret(secret).await?.ok_or_else(gone)?;
    let account = NewAccount::parse(SignUpFields { name: name.to_string(), email: offer.email.to_string(), password: password.to_string() })?;
    let hash = app.passwords.hash(&account.password).await?;
    let user = match app.store.create_user(&account.name, &account.email, &hash, app.now()).await {
        Ok(user) => user,
        Err(StoreError::Conflict { .. }) => {
            return Err(AppError::conflict(format!("an account uses {} already: sign in with it to claim the award", offer.email)));
        }
        Err(error) => return Err(error.into()),
    };
    let award = issue(app, &offer, &user).await?;
    Ok((user, award))
}

/// Issues the offer to `learner`: its held credential becomes their award; an offer made
/// without one (or whose status index another award took meanwhile) is issued afresh.
async fn issue(app: &App, offer: &AwardOffer, learner: &User) -> Result<Award, AppError> {
    if let Some(held) = app.store.held_credential(offer.id).await? {
        let results = held.results_json.clone();
        if let Some(award) = claim_held(app, offer, held, learner.id).await? {
            return Ok(award);
        }
        return award(app, request(offer, learner, judgement_of(&results))).await;
    }
    award(app, request(offer, learner, judgement_of(&offer.results_json))).await
}

fn request(offer: &AwardOffer, learner: &User, judgement: Option<Judgement>) -> AwardRequest {
    AwardRequest {
        judgement,
        evidence_urls: offer.evidence.clone(),
        narrative: Some(offer.narrative.clone()),
        offer: Some(offer.id),
        ..AwardRequest::new(learner.id, offer.achievement)
    }
}
