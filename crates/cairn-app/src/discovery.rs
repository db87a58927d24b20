//! The learner's side of discovery: their handle and whether employers may find them, their
//! public portfolio at `/u/{handle}`, who among employers looked at them, and their answers to
//! contact requests. The consent rules are `cairn_core::discovery`'s; the employer's side is
//! [`crate::talent`].

use cairn_core::achievement::Achievement;
use cairn_core::authz::Actor;
use cairn_core::award::expired;
use cairn_core::discovery::{ContactStatus, Discovery, Handle};
use cairn_core::ids::ContactRequestId;
use cairn_core::notification::NotificationKind;
use cairn_store::{Award, ContactRequest, Import, ImportVerdict, StoreError, TalentActivity};

use crate::accounts::profile::own;
use crate::awards::{AwardResult, award_results};
use crate::notify::notice;
use crate::{App, AppError};

/// Most of a learner's talent activity shown at once.
pub const ACTIVITY_SHOWN: u32 = 200;

/// An award as a portfolio or an employer shows it.
#[derive(Debug, Clone)]
pub struct ShownAward {
    pub award: Award,
    /// The achievement as awarded (its version).
    pub achievement: Achievement,
    pub organisation_name: String,
    pub expired: bool,
    /// The level reached on each criterion.
    pub results: Vec<AwardResult>,
    /// (name, URL) of the evidence, only when the learner made it public.
    pub evidence: Vec<(String, String)>,
}

/// A learner's public portfolio.
#[derive(Debug, Clone)]
pub struct Portfolio {
    pub handle: Handle,
    pub name: String,
    /// Public, active, current awards, newest first.
    pub awards: Vec<ShownAward>,
    /// Badges from elsewhere whose last verification passed, when the learner shows them.
    pub imports: Vec<Import>,
}

/// The actor's choices about being seen.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn settings(app: &App, actor: &Actor) -> Result<Discovery, AppError> {
    let user = own(actor)?;
    Ok(app.store.discovery(user).await?)
}

/// The awards of `awards` as shown publicly: each with its achievement version, results and
/// public evidence, loaded for all of them at once.
pub(crate) async fn shown(app: &App, awards: Vec<cairn_store::LearnerAward>) -> Result<Vec<ShownAward>, AppError> {
    let now = app.now();
    let wanted: Vec<_> = awards.iter().map(|listed| (listed.award.achievement, listed.award.achievement_version)).collect();
    let versions = app.store.achievement_versions(&wanted).await?;
    let with_links: Vec<_> = awards.iter().filter(|listed| listed.award.evidence_public).filter_map(|listed| listed.award.submission).collect();
    let mut links = if with_links.is_empty() { Default::default() } else { app.store.submission_links(&with_links).await? };
    let mut out = Vec::with_capacity(awards.len());
    for listed in awards {
        let award = listed.award;
        let key = (award.achievement, award.achievement_version);
        let achievement = match versions.get(&key) {
            Some(found) => found.clone(),
            None => app.store.achievement_version(key.0, key.1).await?,
        };
        let evidence = if award.evidence_public {
            let submitted = award.submission.and_then(|id| links.remove(&id)).unwrap_or_default();
            crate::awards::evidence_with_links(&award, submitted)
        } else {
            Vec::new()
        };
        out.push(ShownAward {
            expired: expired(award.valid_until, now),
            results: award_results(&award),
            evidence,
            achievement,
            organisation_name: listed.organisation_name,
            award,
        });
    }
    Ok(out)
}

/// The portfolio at `/u/{handle}`: anyone may see it. Only listed awards (public, active,
/// current) appear, and imported badges only when the learner shows them and they verified.
///
/// # Errors
/// `NotFound` for a handle nobody holds (or a malformed one).
pub async fn portfolio(app: &App, handle: &str) -> Result<Portfolio, AppError> {
    let not_found = || AppError::NotFound(format!("nobody has the handle \"{}\"", cairn_core::invalid::clip(handle)));
    let handle = Handle::parse(handle).map_err(|_| not_found())?;
    let (user, discovery) = app.store.user_by_handle(&handle).await?.ok_or_else(not_found)?;
    let awards = shown(app, app.store.listed_awards(user.id).await?).await?;
    let imports = if discovery.show_imports {
        app.store.imports_of(user.id).await?.into_iter().filter(|import| import.check.verdict == ImportVerdict::Valid).collect()
    } else {
        Vec::new()
    };
    Ok(Portfolio { handle, name: user.name, awards, imports })
}

/// What employers did concerning the actor, newest first.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn activity(app: &App, actor: &Actor) -> Result<Vec<TalentActivity>, AppError> {
    let user = own(actor)?;
    Ok(app.store.talent_activity(user, ACTIVITY_SHOWN).await?)
}

/// The contact requests the actor received, newest first.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn contact_requests(app: &App, actor: &Actor) -> Result<Vec<ContactRequest>, AppError> {
    let user = own(actor)?;
    Ok(app.store.contact_requests_to(user).await?)
}

/// The actor's answer to a contact request: accepting shows the employer their e-mail address;
/// the member who asked is told either way.
///
/// # Errors
/// `Unauthenticated`; `NotFound` for an unknown request or another learner's; `Invalid` at
/// `/decision`; `Conflict` when it was answered already.
pub async fn answer(app: &App, actor: &Actor, id: ContactRequestId, decision: &str) -> Result<ContactRequest, AppError> {
    let user = own(actor)?;
    let request = match app.store.contact_request(id).await {
        Ok(request) if request.learner == user => request,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(AppError::NotFound("no such contact request".into())),
        Err(error) => return Err(error.into()),
    };
    let decision = ContactStatus::decision(decision)?;
    let learner = app.store.user(user).await?;
    let effects: Vec<_> = request
        .requested_by
        .map(|member| {
            let (subject, body) = match decision {
                ContactStatus::Accepted => (
                    format!("{} accepted your contact request", learner.name),
                    format!("{} agreed to be contacted by {}. Their e-mail address is {}.", learner.name, request.organisation_name, learner.email),
                ),
                _ => (format!("{} declined your contact request", learner.name), format!("{} would rather not be contacted now.", learner.name)),
            };
            notice(member, NotificationKind::ContactAnswer, subject, body, "/talent/shortlist")
        })
        .into_iter()
        .collect();
    Ok(app.store.decide_contact_request(id, decision, &effects, app.now()).await?)
}
