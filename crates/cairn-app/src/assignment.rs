//! Assigning assessors: the previous assessor while still eligible, else the least-loaded member
//! of the achievement's pool who may assess and is not the learner, a collaborator or
//! conflicted (a conflict declared for the learner's or a collaborator's e-mail, matched here) (the choice itself is `cairn_core::assessment::choose_assessor`); the
//! second assessor of a sampled judgement, never its first; and giving waiting submissions an
//! assessor once there is one.

use cairn_core::assessment::{Candidate, choose_assessor};
use cairn_core::authz::{OrgAction, role_permits};
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_core::submission::Submission;
use cairn_store::{SampleState, StoreError};

use crate::effects;
use crate::notify::notice;
use crate::{App, AppError};

/// The assessor for the next attempt of `submission`, if anyone is eligible.
///
/// # Errors
/// Store failures.
pub(crate) async fn pick_assessor(app: &App, organisation: OrganisationId, submission: &Submission) -> Result<Option<UserId>, AppError> {
    // A judgement held for its second scoring goes to anyone but its first assessor.
    match app.store.current_sample(submission.id).await? {
        Some(sample) if sample.state == SampleState::Second => {
            let first: Vec<UserId> = sample.first_assessor.into_iter().collect();
            pick(app, organisation, submission, &first, None).await
        }
        _ => pick(app, organisation, submission, &[], submission.assessor).await,
    }
}

/// The second assessor of a sampled judgement: as [`pick_assessor`], never `first`, and without
/// preferring anyone.
///
/// # Errors
/// Store failures.
pub(crate) async fn pick_second_assessor(app: &App, organisation: OrganisationId, submission: &Submission, first: UserId) -> Result<Option<UserId>, AppError> {
    pick(app, organisation, submission, &[first], None).await
}

async fn pick(
    app: &App,
    organisation: OrganisationId,
    submission: &Submission,
    also_excluded: &[UserId],
    previous: Option<UserId>,
) -> Result<Option<UserId>, AppError> {
    let members = app.store.members(organisation).await?;
    let may_assess = |user: UserId| members.iter().any(|m| m.user == user && role_permits(m.role, OrgAction::Assess));
    let pool: Vec<Candidate> = app
        .store
        .pool(submission.achievement)
        .await?
        .into_iter()
        .filter(|m| may_assess(m.user))
        .map(|m| Candidate { assessor: m.user, open: m.open })
        .collect();
    // Conflicts are declared by e-mail and matched now: the learner's address and those of the
    // collaborators the submission names.
    let mut emails = vec![app.store.user(submission.learner).await?.email];
    emails.extend(submission.content.collaborators.iter().cloned());
    let mut excluded = app.store.conflicted_assessors(organisation, submission.learner, &emails).await?;
    for email in &submission.content.collaborators {
        if let Some(user) = app.store.user_by_email(email).await? {
            excluded.push(user.id);
        }
    }
    excluded.extend_from_slice(also_excluded);
    Ok(choose_assessor(&pool, submission.learner, &excluded, previous))
}

/// Gives queued submissions without an assessor to an eligible one, when there is one now, and
/// tells them. A submission assigned meanwhile by another request is left alone.
///
/// # Errors
/// Store failures.
pub async fn assign_waiting(app: &App, organisation: OrganisationId) -> Result<(), AppError> {
    for submission in app.store.unassigned(organisation).await? {
        let Some(assessor) = pick_assessor(app, organisation, &submission).await? else { continue };
        let code = submission.code();
        let body = format!("Submission {code} is in your queue.");
        let effects = [notice(assessor, NotificationKind::Assignment, format!("New submission to assess: {code}"), body, format!("/assess/{}", submission.id))];
        match app.store.assign_assessor(submission.id, submission.status, assessor, &effects, app.now()).await {
            Ok(_) => effects::settle(app, &effects).await,
            Err(StoreError::Conflict { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
