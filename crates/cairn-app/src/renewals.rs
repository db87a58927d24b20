//! Renewing an award that expires: the learner starts a renewal — an ordinary submission that
//! names the award it renews — and takes it through the usual journey (evidence, submit, the
//! blind queue, the assessor). The assessor judges it against the achievement's rubric on a full
//! renewal path, or against the renewal rubric on a light one (`Achievement::assessment_rubric`).
//! Its pass issues a new award, valid from its own issue date, whose credential names the
//! previous award as evidence; the previous award is marked renewed in the same transaction
//! (`cairn_store::Store::create_award`) and stays verifiable, with its page.
//!
//! When an award may be renewed is `cairn_core::renewal::renewable`'s to say. Renewals are free:
//! the issuer's fee pays for earning the achievement, not for keeping it current.

use cairn_core::achievement::Achievement;
use cairn_core::authz::{Action, Actor, Denied};
use cairn_core::ids::{AwardId, SubmissionId};
use cairn_core::renewal::{NotRenewable, RenewalState, renewable};
use cairn_core::submission::{FeeState, Submission, SubmissionContent, SubmissionFields};
use cairn_store::{Award, NewSubmission, StoreError};
use time::OffsetDateTime;

use crate::error::ConflictKind;
use crate::{App, AppError};

/// The refusal of a renewal, in the words [`NotRenewable`] gives.
fn not_renewable(why: NotRenewable) -> AppError {
    AppError::Conflict { kind: ConflictKind::NotRenewable, detail: why.to_string() }
}

/// What the renewal rule needs to know about `award`, whose achievement (as it is now) is
/// `achievement`.
async fn renewal_state(app: &App, award: &Award, achievement: &Achievement) -> Result<RenewalState, AppError> {
    Ok(RenewalState {
        status: award.status,
        valid_until: award.valid_until,
        kind: achievement.kind,
        achievement_state: achievement.state,
        validity_months: achievement.content.validity_months,
        renewed: award.renewed_by.is_some(),
        renewal_open: app.store.open_renewal(award.id).await?.is_some(),
    })
}

/// Where an award stands on renewal, for its learner's page.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// Whether it may be renewed now, or why not.
    pub renewable: Result<(), NotRenewable>,
    /// The renewal in progress, if any.
    pub open: Option<SubmissionId>,
}

/// Where `award` stands on renewal.
///
/// # Errors
/// Store failures.
pub(crate) async fn standing(app: &App, award: &Award) -> Result<Renewal, AppError> {
    let achievement = app.store.achievement(award.achievement).await?;
    let state = renewal_state(app, award, &achievement).await?;
    Ok(Renewal { renewable: renewable(&state, app.now()), open: app.store.open_renewal(award.id).await? })
}

/// Starts the renewal of the actor's own award: a draft submission for its achievement that
/// names the award, free of any fee. It then goes the way of every submission.
///
/// # Errors
/// `Unauthenticated`; `NotFound` for an unknown award or someone else's (it is not theirs to
/// renew, nor to know of); `Conflict` (`ConflictKind::NotRenewable`) saying why the award cannot
/// be renewed now — too early, revoked, suspended, renewed already, a renewal in progress, an
/// achievement that does not expire or is retired.
pub async fn start(app: &App, actor: &Actor, award: AwardId) -> Result<Submission, AppError> {
    actor.authorise(Action::Apply)?;
    let award = app.store.award(award).await?;
    match actor.authorise(Action::Own(award.learner)) {
        Ok(()) => {}
        Err(Denied::Unauthenticated) => return Err(AppError::Unauthenticated),
        Err(Denied::Forbidden | Denied::ReadOnly) => return Err(AppError::NotFound(format!("award \"{}\" not found", award.id))),
    }
    let achievement = app.store.achievement(award.achievement).await?;
    let now: OffsetDateTime = app.now();
    renewable(&renewal_state(app, &award, &achievement).await?, now).map_err(not_renewable)?;
    let learner = app.store.user(award.learner).await?;
    let content = SubmissionContent::parse(&SubmissionFields::default(), &learner.email)?;
    let new = NewSubmission {
        id: SubmissionId::new(),
        achievement: achievement.id,
        organisation: achievement.organisation,
        learner: learner.id,
        content,
        fee: FeeState::None,
        prior_learning: None,
        renewal_of: Some(award.id),
    };
    match app.store.create_submission(&new, now).await {
        Ok(submission) => Ok(submission),
        // Two starts at once: the other one won.
        Err(StoreError::Conflict { constraint: "submissions.renewal", .. }) => Err(not_renewable(NotRenewable::InProgress)),
        Err(error) => Err(error.into()),
    }
}
