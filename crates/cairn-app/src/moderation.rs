//! Inter-rater checks on the assessment journey: a judgement the issuer's sampling rate picks is
//! held, unseen by the learner, for a second assessor who scores the same blind view without
//! seeing the first score ([`hold`], [`second_scoring`]). When both agree on the outcome the first
//! judgement stands and the journey goes on as usual; when they disagree a moderator — an owner
//! or staff member (`OrgAction::Moderate`) who scored neither — sees both scorings, still blind
//! to the learner, and decides ([`queue`], [`view`], [`moderate`]); that decision stands.

use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::authz::{Action, Actor, OrgAction, role_permits};
use cairn_core::calendar::DueState;
use cairn_core::ids::{AssessmentId, OrganisationId, SubmissionId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_core::rubric::Rubric;
use cairn_core::submission::{Outcome, Status, Submission, TransitionError};
use cairn_store::{Assessment, NewEffect, SampleState, SampledJudgement, SecondScoring, StoreError};
use time::OffsetDateTime;

use crate::assessment::{AssessResult, BlindSubmission, FeedbackView, blind, decision_effects, feedback_view};
use crate::assignment::pick_second_assessor;
use crate::effects;
use crate::notify::notice;
use crate::{App, AppError};

/// Holds `first`'s judgement of a sampled attempt for a second, blind scoring and gives the
/// submission to a second assessor (or, when none is eligible yet, tells the staff; it is
/// assigned once someone is, see `assignment::assign_waiting`).
///
/// # Errors
/// As `assessment::assess`.
pub(crate) async fn hold(
    app: &App,
    submission: &Submission,
    organisation: OrganisationId,
    first: UserId,
    judgement: &Judgement,
) -> Result<AssessResult, AppError> {
    let id = submission.id;
    let code = submission.code();
    let second = pick_second_assessor(app, organisation, submission, first).await?;
    let effects: Vec<NewEffect> = match second {
        Some(second) => vec![notice(
            second,
            NotificationKind::Assignment,
            format!("New submission to assess: {code}"),
            format!("Submission {code} is in your queue."),
            format!("/assess/{id}"),
        )],
        None => {
            let body = format!("Submission {code} was sampled for a second scoring, and no other assessor in its pool may score it. Add one to the pool.");
            crate::notify::staff_notices(
                app,
                organisation,
                NotificationKind::Unassigned,
                &format!("No second assessor for {code}"),
                &body,
                "/issuer/assessment",
            )
            .await?
        }
    };
    app.store.hold_for_second_scoring(id, first, judgement, second, &effects, app.now()).await?;
    effects::settle(app, &effects).await;
    Ok(AssessResult { outcome: judgement.outcome, awarded: false, held: true, to_moderation: false })
}

/// Records the second, blind scoring of a sampled judgement by `second`: the same outcome lets
/// the first judgement stand (and sets off what a decision does); another sends it to the
/// issuer's moderators.
///
/// # Errors
/// As `assessment::assess`; `Conflict` when `second` gave the first scoring.
pub(crate) async fn second_scoring(
    app: &App,
    submission: &Submission,
    organisation: OrganisationId,
    name: &str,
    sample: SampledJudgement,
    second: UserId,
    judgement: &Judgement,
) -> Result<AssessResult, AppError> {
    let id = submission.id;
    if sample.first.outcome == judgement.outcome {
        let to = match judgement.outcome {
            Outcome::Pass => Status::Passed,
            Outcome::NotYet => Status::NotYet,
        };
        let (effects, awarded_at_once) = decision_effects(app, submission, organisation, name, judgement.outcome).await?;
        app.store.record_second_scoring(id, second, judgement, SecondScoring::Agreed { to }, &effects, app.now()).await?;
        effects::settle(app, &effects).await;
        let awarded = awarded_at_once && app.store.award_for_submission(id).await?.is_some();
        return Ok(AssessResult { outcome: judgement.outcome, awarded, held: false, to_moderation: false });
    }
    let code = submission.code();
    let scorers = [sample.first_assessor, Some(second)];
    let body = format!("The two blind scorings of submission {code} for \"{name}\" disagree on the outcome. As a moderator, read both and decide.");
    let effects: Vec<NewEffect> = app
        .store
        .members(organisation)
        .await?
        .into_iter()
        .filter(|m| role_permits(m.role, OrgAction::Moderate) && !scorers.contains(&Some(m.user)) && m.user != submission.learner)
        .map(|m| notice(m.user, NotificationKind::Moderation, format!("To moderate: {code}"), body.clone(), format!("/moderate/{id}")))
        .collect();
    app.store.record_second_scoring(id, second, judgement, SecondScoring::Disagreed, &effects, app.now()).await?;
    effects::settle(app, &effects).await;
    Ok(AssessResult { outcome: judgement.outcome, awarded: false, held: true, to_moderation: true })
}

/// A judgement waiting for a moderator, as the queue lists it: by code, never by learner.
#[derive(Debug, Clone)]
pub struct ModerationLine {
    pub submission_id: SubmissionId,
    pub code: String,
    pub achievement_name: String,
    pub attempt: u32,
    pub due_at: Option<OffsetDateTime>,
    pub due_state: Option<DueState>,
    pub first_outcome: Outcome,
    pub second_outcome: Option<Outcome>,
}

fn scored_it(actor: &Actor, sample: &SampledJudgement) -> bool {
    actor.user.is_some() && (sample.first_assessor == actor.user || sample.second_assessor == actor.user)
}

/// The organisation's judgements waiting for the actor to moderate: those whose scorings
/// disagree, but none the actor scored or submitted.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` for anyone who may not moderate.
pub async fn queue(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<ModerationLine>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::Moderate))?;
    let settings = app.store.issuer_settings(organisation).await?;
    let calendar = settings.calendar();
    Ok(app
        .store
        .moderation_queue(organisation)
        .await?
        .into_iter()
        .filter(|item| !scored_it(actor, &item.sample) && actor.user != Some(item.submission.learner))
        .map(|item| ModerationLine {
            submission_id: item.submission.id,
            code: item.submission.code(),
            achievement_name: item.achievement_name,
            attempt: item.submission.attempt,
            due_at: item.submission.due_at,
            due_state: item.submission.due_at.map(|due| calendar.due_state(app.now(), due, settings.nearly_due_days)),
            first_outcome: item.sample.first.outcome,
            second_outcome: item.sample.second.as_ref().map(|j| j.outcome),
        })
        .collect())
}

/// What a moderator sees: the blind view of the work and both scorings, unnamed.
#[derive(Debug, Clone)]
pub struct ModerationView {
    pub organisation: OrganisationId,
    pub submission: BlindSubmission,
    pub first: FeedbackView,
    pub second: FeedbackView,
}

fn scoring_view(rubric: &Rubric, sample: &SampledJudgement, judgement: &Judgement, at: OffsetDateTime) -> FeedbackView {
    let assessment = Assessment {
        id: AssessmentId::new(),
        submission: sample.submission,
        attempt: sample.attempt,
        assessor: None,
        scores: judgement.scores.clone(),
        feedback: judgement.feedback.clone(),
        outcome: judgement.outcome,
        created_at: at,
        confirmed_by: None,
        confirmed_at: None,
    };
    feedback_view(rubric, &assessment)
}

/// Loads a submission waiting for the actor's moderation, with its sample.
pub(crate) async fn moderated_submission(app: &App, actor: &Actor, id: SubmissionId) -> Result<(Submission, OrganisationId, SampledJudgement), AppError> {
    let organisation = app.store.submission_organisation(id).await?;
    actor.authorise(Action::Org(organisation, OrgAction::Moderate))?;
    let submission = app.store.submission(id).await?;
    let sample = app
        .store
        .current_sample(id)
        .await?
        .filter(|s| s.state == SampleState::Moderation)
        .ok_or_else(|| AppError::NotFound("no submission with this id waits for moderation".into()))?;
    if scored_it(actor, &sample) || actor.user == Some(submission.learner) {
        return Err(AppError::Forbidden("you scored or submitted this work: another moderator decides".into()));
    }
    Ok((submission, organisation, sample))
}

/// The moderator's view of a submission whose scorings disagree.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` (also for either assessor), `NotFound` when it does not wait
/// for moderation.
pub async fn view(app: &App, actor: &Actor, id: SubmissionId) -> Result<ModerationView, AppError> {
    let (submission, organisation, sample) = moderated_submission(app, actor, id).await?;
    let blind_view = blind(app, actor, submission, organisation, false).await?;
    let second = sample.second.as_ref().ok_or_else(|| AppError::from(StoreError::Corrupt("a sample in moderation without its second scoring".into())))?;
    let first = scoring_view(&blind_view.rubric, &sample, &sample.first, sample.first_at);
    let second = scoring_view(&blind_view.rubric, &sample, second, sample.second_at.unwrap_or(sample.first_at));
    Ok(ModerationView { organisation, submission: blind_view, first, second })
}

/// The moderator's decision, which stands: recorded as the assessment the learner reads, with
/// what a decision sets off.
///
/// # Errors
/// As [`view`]; `Invalid` scores; `Conflict` when another moderator decided first.
pub async fn moderate(app: &App, actor: &Actor, id: SubmissionId, scores: &[ScoreFields], feedback: &str) -> Result<AssessResult, AppError> {
    let (submission, organisation, _) = moderated_submission(app, actor, id).await?;
    if !submission.status.is_queued() {
        return Err(TransitionError { from: submission.status, action: "moderated" }.into());
    }
    let moderator = actor.user.ok_or(AppError::Unauthenticated)?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let judgement = Judgement::parse(&achievement.assessment_rubric(submission.renewal_of.is_some()), scores, feedback)?;
    let (effects, awarded_at_once) = decision_effects(app, &submission, organisation, &achievement.content.name, judgement.outcome).await?;
    app.store.record_moderation(id, moderator, &judgement, &effects, app.now()).await?;
    effects::settle(app, &effects).await;
    let awarded = awarded_at_once && app.store.award_for_submission(id).await?.is_some();
    Ok(AssessResult { outcome: judgement.outcome, awarded, held: false, to_moderation: false })
}
