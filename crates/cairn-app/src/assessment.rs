//! The assessor's side of the assessment journey: the double-blind queue and view of a
//! submission, evidence downloads under blind names, the judgement against the rubric (a pass
//! is awarded at once unless staff confirm passes: an `AwardPassed` effect written with the
//! judgement, so a pass is never stranded without its award), and conflicts of interest.
//!
//! **Double-blind.** Assessor-facing data is built only by [`blind_view`], [`blind_queue`],
//! [`assessor_queue`] and [`assessor_file`], which never load the learner's account: a
//! submission is shown by its opaque code, artefacts by number and title, files under the
//! code's name. [`BlindSubmission`] and [`QueueLine`] have no learner fields at all.

use cairn_core::account::Email;
use cairn_core::achievement::Achievement;
use cairn_core::assessment::{AttemptChanges, Judgement, ScoreFields};
use cairn_core::authz::{Action, Actor, Denied, OrgAction};
use cairn_core::calendar::DueState;
use cairn_core::evidence::EvidenceType;
use cairn_core::ids::{ArtifactId, OrganisationId, SubmissionId};
use cairn_core::notification::NotificationKind;
use cairn_core::rubric::Rubric;
use cairn_core::submission::{Outcome, Status, Submission, TransitionError, submission_code};
use cairn_store::{Artifact, ArtifactBody, Assessment, Award, Effect, NewEffect, SampleState, StoreError};
use time::OffsetDateTime;

use crate::awards::{self, AwardRequest};
use crate::crash::{self, CrashPoint};
use crate::effects;
use crate::notify::{notice, staff_notices};
use crate::submissions::EvidenceFile;
use crate::{App, AppError};

/// Feedback as the learner (and a later assessor) sees it: no assessor named.
#[derive(Debug, Clone)]
pub struct FeedbackView {
    pub attempt: u32,
    pub outcome: Outcome,
    pub feedback: String,
    pub scores: Vec<ScoreView>,
    pub at: OffsetDateTime,
}

/// One criterion's result.
#[derive(Debug, Clone)]
pub struct ScoreView {
    pub criterion_id: String,
    pub criterion: String,
    pub level: String,
    pub required: String,
    pub met: bool,
    pub comment: String,
}

/// An assessment in words, against `rubric`.
pub(crate) fn feedback_view(rubric: &Rubric, assessment: &Assessment) -> FeedbackView {
    let scores = assessment
        .scores
        .iter()
        .map(|score| {
            let criterion = rubric.criteria.iter().find(|c| c.id == score.criterion);
            ScoreView {
                criterion_id: score.criterion.clone(),
                criterion: criterion.map(|c| c.name.clone()).unwrap_or_else(|| score.criterion.clone()),
                level: rubric.levels.get(score.level).cloned().unwrap_or_default(),
                required: criterion.map(|c| rubric.required_level_name(c).to_string()).unwrap_or_default(),
                met: criterion.is_some_and(|c| score.level >= c.required_level),
                comment: score.comment.clone(),
            }
        })
        .collect();
    FeedbackView { attempt: assessment.attempt, outcome: assessment.outcome, feedback: assessment.feedback.clone(), scores, at: assessment.created_at }
}

/// One artefact as an assessor sees it: numbered, titled, typed, never with its original name.
#[derive(Debug, Clone)]
pub struct BlindArtifact {
    pub id: ArtifactId,
    pub label: String,
    pub title: String,
    pub kind: &'static str,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub text: Option<String>,
    /// Site-relative download path.
    pub download: Option<String>,
}

/// A duplicate flag, by the other submission's code.
#[derive(Debug, Clone)]
pub struct BlindDuplicate {
    pub kind: &'static str,
    pub description: &'static str,
    pub other_code: String,
    pub similarity: f64,
}

/// A submission as an assessor sees it: an opaque code and the evidence, nothing about who.
#[derive(Debug, Clone)]
pub struct BlindSubmission {
    pub submission_id: SubmissionId,
    pub code: String,
    pub achievement: Achievement,
    /// The rubric it is judged by (`Achievement::assessment_rubric`).
    pub rubric: Rubric,
    /// Whether it is a renewal of an award (judged by the renewal rubric on a light path).
    pub renewal: bool,
    pub status: Status,
    pub attempt: u32,
    pub due_at: Option<OffsetDateTime>,
    pub due_state: Option<DueState>,
    pub overview: String,
    pub reflection: String,
    pub links: Vec<String>,
    pub artifacts: Vec<BlindArtifact>,
    /// Collaborators' own reflections, unnamed.
    pub collaborator_reflections: Vec<String>,
    /// Earlier judgements of this submission.
    pub previous: Vec<FeedbackView>,
    /// What changed since the previous attempt.
    pub changes: Option<AttemptChanges>,
    pub duplicates: Vec<BlindDuplicate>,
    /// Set when the submission asks for prior learning to be recognised.
    pub prior_learning: Option<crate::recognition::PriorLearningShown>,
}

fn blind_artifacts(code: &str, submission: SubmissionId, artifacts: &[Artifact]) -> Vec<BlindArtifact> {
    artifacts
        .iter()
        .enumerate()
        .map(|(i, a)| match &a.body {
            ArtifactBody::File { media_type, size, .. } => BlindArtifact {
                id: a.id,
                label: format!("{code} evidence {}", i + 1),
                title: a.title.clone(),
                kind: "file",
                media_type: Some(media_type.clone()),
                size: Some(*size),
                text: None,
                download: Some(format!("/assess/{submission}/artifacts/{}", a.id)),
            },
            ArtifactBody::Text { body } => BlindArtifact {
                id: a.id,
                label: format!("{code} evidence {}", i + 1),
                title: a.title.clone(),
                kind: "text",
                media_type: None,
                size: None,
                text: Some(body.clone()),
                download: None,
            },
        })
        .collect()
}

/// Loads a submission assigned to the actor, with its organisation.
async fn assigned_submission(app: &App, actor: &Actor, id: SubmissionId) -> Result<(Submission, OrganisationId), AppError> {
    let submission = app.store.submission(id).await?;
    let organisation = app.store.submission_organisation(id).await?;
    match actor.authorise(Action::AssessAssigned(organisation, submission.assessor)) {
        Ok(()) => Ok((submission, organisation)),
        Err(Denied::Unauthenticated) => Err(AppError::Unauthenticated),
        Err(_) => Err(AppError::NotFound("no submission with this id is assigned to you".into())),
    }
}

/// The double-blind view of a submission for its assessor; opening a queued submission starts
/// the review.
///
/// # Errors
/// `Unauthenticated`, `NotFound` when not assigned to the actor.
pub async fn blind_view(app: &App, actor: &Actor, id: SubmissionId) -> Result<BlindSubmission, AppError> {
    let (submission, organisation) = assigned_submission(app, actor, id).await?;
    blind(app, actor, submission, organisation, true).await
}

/// The actor's queue with each submission's full blind view (the API's queue), without
/// starting any review.
///
/// # Errors
/// `Unauthenticated`.
pub async fn blind_queue(app: &App, actor: &Actor) -> Result<Vec<BlindSubmission>, AppError> {
    let me = actor.user.ok_or(AppError::Unauthenticated)?;
    let mut items = Vec::new();
    for item in app.store.assessor_queue(me).await? {
        if actor.authorise(Action::AssessAssigned(item.organisation, item.submission.assessor)).is_ok() {
            items.push(blind(app, actor, item.submission, item.organisation, false).await?);
        }
    }
    Ok(items)
}

pub(crate) async fn blind(
    app: &App,
    actor: &Actor,
    mut submission: Submission,
    organisation: OrganisationId,
    start_review: bool,
) -> Result<BlindSubmission, AppError> {
    let id = submission.id;
    if start_review && matches!(submission.status, Status::Submitted | Status::Resubmitted) {
        match app.store.start_review(id, submission.status, actor.user, app.now()).await {
            Ok(updated) => submission = updated,
            Err(StoreError::Conflict { .. }) => submission = app.store.submission(id).await?,
            Err(error) => return Err(error.into()),
        }
    }
    let achievement = app.store.achievement(submission.achievement).await?;
    let renewal = submission.renewal_of.is_some();
    let rubric = achievement.assessment_rubric(renewal);
    let settings = app.store.issuer_settings(organisation).await?;
    let code = submission_code(id);
    let artifacts = blind_artifacts(&code, id, &app.store.artifacts(id).await?);
    let previous: Vec<FeedbackView> = app.store.assessments(id).await?.iter().map(|a| feedback_view(&rubric, a)).collect();
    let attempts = app.store.attempts(id).await?;
    let changes = match attempts.as_slice() {
        [.., before, after] => {
            Some(AttemptChanges::between((&before.overview, &before.reflection, &before.artifacts), (&after.overview, &after.reflection, &after.artifacts)))
        }
        _ => None,
    };
    let duplicates = app
        .store
        .duplicate_flags(id)
        .await?
        .into_iter()
        .map(|f| BlindDuplicate { kind: f.kind.as_str(), description: f.kind.describe(), other_code: submission_code(f.other), similarity: f.similarity })
        .collect();
    let collaborator_reflections = app.store.collaborator_reflections(id).await?.into_iter().map(|(_, text)| text).filter(|t| !t.is_empty()).collect();
    let due_state = match (submission.status.clock_running(), submission.due_at) {
        (true, Some(due)) => Some(settings.calendar().due_state(app.now(), due, settings.nearly_due_days)),
        _ => None,
    };
    Ok(BlindSubmission {
        submission_id: id,
        code,
        achievement,
        rubric,
        renewal,
        status: submission.status,
        attempt: submission.attempt,
        due_at: submission.due_at,
        due_state,
        overview: submission.content.overview,
        reflection: submission.content.reflection,
        links: submission.content.links,
        artifacts,
        collaborator_reflections,
        previous,
        changes,
        duplicates,
        prior_learning: crate::recognition::shown(app, id).await?,
    })
}

/// One line of an assessor's queue.
#[derive(Debug, Clone)]
pub struct QueueLine {
    pub submission_id: SubmissionId,
    pub code: String,
    pub achievement: Achievement,
    pub status: Status,
    pub attempt: u32,
    pub due_at: Option<OffsetDateTime>,
    pub due_state: Option<DueState>,
    pub flagged: bool,
    /// Whether it is a renewal of an award.
    pub renewal: bool,
}

/// The actor's queue: submissions assigned to them and waiting for judgement, soonest due first.
///
/// # Errors
/// `Unauthenticated`.
pub async fn assessor_queue(app: &App, actor: &Actor) -> Result<Vec<QueueLine>, AppError> {
    let me = actor.user.ok_or(AppError::Unauthenticated)?;
    let mut lines = Vec::new();
    for item in app.store.assessor_queue(me).await? {
        if actor.authorise(Action::AssessAssigned(item.organisation, item.submission.assessor)).is_err() {
            continue;
        }
        let settings = app.store.issuer_settings(item.organisation).await?;
        let achievement = app.store.achievement(item.submission.achievement).await?;
        let flagged = !app.store.duplicate_flags(item.submission.id).await?.is_empty();
        lines.push(QueueLine {
            submission_id: item.submission.id,
            code: item.submission.code(),
            achievement,
            status: item.submission.status,
            attempt: item.submission.attempt,
            due_at: item.submission.due_at,
            due_state: item.submission.due_at.map(|due| settings.calendar().due_state(app.now(), due, settings.nearly_due_days)),
            flagged,
            renewal: item.submission.renewal_of.is_some(),
        });
    }
    Ok(lines)
}

/// An evidence file for its assessor, or for a moderator while the submission waits for them,
/// named by the submission code only.
///
/// # Errors
/// `Unauthenticated`, `NotFound` (for anyone else, whether the submission exists or not).
pub async fn assessor_file(app: &App, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<EvidenceFile, AppError> {
    match assigned_submission(app, actor, id).await {
        Ok(_) => {}
        Err(AppError::NotFound(_)) => match crate::moderation::moderated_submission(app, actor, id).await {
            Ok(_) => {}
            Err(AppError::NotFound(_) | AppError::Forbidden(_)) => {
                return Err(AppError::NotFound("no submission with this id is assigned to you or waits for your moderation".into()));
            }
            Err(error) => return Err(error),
        },
        Err(error) => return Err(error),
    }
    let live = app.store.artifacts(id).await?;
    let Some(position) = live.iter().position(|a| a.id == artifact) else { return Err(AppError::NotFound("artefact not found".into())) };
    let code = submission_code(id);
    match &live[position].body {
        ArtifactBody::File { blob_key, media_type, .. } => {
            let bytes = app.store.blobs().get(blob_key).await?;
            let extension = EvidenceType::from_media_type(media_type).map(|t| t.extension()).unwrap_or("bin");
            Ok(EvidenceFile { media_type: media_type.clone(), name: format!("{code}-evidence-{}.{extension}", position + 1), bytes })
        }
        ArtifactBody::Text { body } => Ok(EvidenceFile {
            media_type: "text/plain; charset=utf-8".into(),
            name: format!("{code}-evidence-{}.txt", position + 1),
            bytes: body.clone().into_bytes(),
        }),
    }
}

/// The issuers the actor may assess for, with their names (for declaring conflicts).
///
/// # Errors
/// Store failures.
pub async fn assessor_organisations(app: &App, actor: &Actor) -> Result<Vec<(OrganisationId, String)>, AppError> {
    let mut organisations = Vec::new();
    for (id, _) in &actor.memberships {
        if actor.can(Action::Org(*id, OrgAction::Assess)) {
            organisations.push((*id, app.store.organisation(*id).await?.profile.name));
        }
    }
    Ok(organisations)
}

/// What an assessment led to, as its assessor may know it: never which award (and so which
/// learner) came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssessResult {
    pub outcome: Outcome,
    /// Whether the pass was awarded at once (false when staff confirm passes first).
    pub awarded: bool,
    /// Whether the decision waits for another scoring: the judgement was sampled for a second,
    /// blind scoring, or the two scorings disagree and a moderator decides.
    pub held: bool,
    /// Whether it is held because the two scorings disagree: a moderator decides.
    pub to_moderation: bool,
}

/// Records the assigned assessor's judgement; a pass is awarded at once unless the issuer asks
/// staff to confirm passes first. A judgement the issuer's sampling rate picks
/// (`cairn_core::insight::sampled`) is held for a second, blind scoring instead, and the
/// second scoring of such a judgement is recorded by `crate::moderation::second_scoring`. The award and the notices are effects written with the
/// judgement; they run before this returns, and if the award fails here, the job runner retries
/// it (`awarded` is then false).
///
/// # Errors
/// `Unauthenticated`, `NotFound` when not assigned, `Conflict` when already assessed (also when
/// two assessors race), `Invalid` scores.
pub async fn assess(app: &App, actor: &Actor, id: SubmissionId, scores: &[ScoreFields], feedback: &str) -> Result<AssessResult, AppError> {
    let (submission, organisation) = assigned_submission(app, actor, id).await?;
    if !submission.status.is_queued() {
        return Err(TransitionError { from: submission.status, action: "assessed" }.into());
    }
    let achievement = app.store.achievement(submission.achievement).await?;
    let judgement = Judgement::parse(&achievement.assessment_rubric(submission.renewal_of.is_some()), scores, feedback)?;
    let assessor = actor.user.ok_or(AppError::Unauthenticated)?;
    // A sampled judgement waiting for its second scoring: this is that scoring.
    if let Some(sample) = app.store.current_sample(id).await?
        && sample.state == SampleState::Second
    {
        return crate::moderation::second_scoring(app, &submission, organisation, &achievement.content.name, sample, assessor, &judgement).await;
    }
    let settings = app.store.issuer_settings(organisation).await?;
    if cairn_core::insight::sampled(id, submission.attempt, settings.sampling_percent) {
        return crate::moderation::hold(app, &submission, organisation, assessor, &judgement).await;
    }
    let outcome = judgement.outcome;
    let (effects, awarded_at_once) = decision_effects(app, &submission, organisation, &achievement.content.name, outcome).await?;
    app.store.record_assessment(id, assessor, &judgement, &effects, app.now()).await?;
    crash::point(CrashPoint::JudgementCommitted);
    effects::settle(app, &effects).await;
    let awarded = awarded_at_once && app.store.award_for_submission(id).await?.is_some();
    Ok(AssessResult { outcome, awarded, held: false, to_moderation: false })
}

/// What a decision on `submission` sets off, written with it: telling the learner, and for a
/// pass the award (returned `true`) or, when staff confirm passes, telling them.
///
/// # Errors
/// Store failures.
pub(crate) async fn decision_effects(
    app: &App,
    submission: &Submission,
    organisation: OrganisationId,
    name: &str,
    outcome: Outcome,
) -> Result<(Vec<NewEffect>, bool), AppError> {
    let id = submission.id;
    let link = format!("/submissions/{id}");
    let decided = crate::webhooks::event(cairn_core::webhook::EventKind::SubmissionDecided, cairn_store::WebhookSubject::Submission(id), app.now());
    let (mut effects, awarded_at_once) = match outcome {
        Outcome::NotYet => {
            let body = format!("Your assessor has given feedback on \"{name}\": not yet. Read it, revise your evidence and resubmit.");
            (vec![notice(submission.learner, NotificationKind::NotYet, format!("Feedback on {name}"), body, &link)], false)
        }
        Outcome::Pass if app.store.issuer_settings(organisation).await?.confirm_passes => {
            let body = format!("Your evidence for \"{name}\" passed. The issuer confirms passes before the badge is issued.");
            let mut effects = vec![notice(submission.learner, NotificationKind::Passed, format!("Passed: {name}"), body, &link)];
            let code = submission.code();
            let body = format!("Submission {code} for \"{name}\" passed and waits for confirmation.");
            effects
                .extend(staff_notices(app, organisation, NotificationKind::Confirm, &format!("Pass to confirm: {code}"), &body, "/issuer/assessment").await?);
            (effects, false)
        }
        Outcome::Pass => (vec![NewEffect::from(Effect::AwardPassed { submission: id })], true),
    };
    // First, so that the decision is told before the award it leads to.
    effects.insert(0, decided);
    Ok((effects, awarded_at_once))
}

/// Issues the award for a passed submission (the `AwardPassed` effect), moving it to `awarded`
/// in the same transaction, with the levels of its last passing assessment. Returns the award and
/// the effects written with it; `None` when the submission is not passed (any more): awarded
/// already, or never passed.
///
/// # Errors
/// As `awards::award`.
pub(crate) async fn award_pass(app: &App, id: SubmissionId) -> Result<Option<(Award, Vec<NewEffect>)>, AppError> {
    let submission = app.store.submission(id).await?;
    if submission.status != Status::Passed {
        return Ok(None);
    }
    let rubric = app.store.achievement(submission.achievement).await?.assessment_rubric(submission.renewal_of.is_some());
    let judgement = app
        .store
        .assessments(id)
        .await?
        .last()
        .map(|a| Judgement { scores: a.scores.clone(), feedback: a.feedback.clone(), outcome: a.outcome })
        .filter(|j| j.outcome == Outcome::Pass && j.scores.len() == rubric.criteria.len());
    let request = AwardRequest {
        submission: Some(id),
        judgement,
        prior_learning: crate::recognition::assessed_basis(app, id).await?,
        // No evidence links: the evidence stays with the learner; the award page shows it only
        // where they allow.
        ..AwardRequest::new(submission.learner, submission.achievement)
    };
    Ok(Some(awards::issue(app, &request).await?))
}

/// An assessor declares a conflict of interest with a learner, by e-mail, for one issuer.
///
/// The declaration is kept as a keyed fingerprint of the e-mail address (see
/// `cairn_store::Store::declare_conflict`) and matched when submissions are assigned, so the
/// answer is the same whether or not anyone uses the address, and nothing already in the
/// assessor's queue changes: the declaration tells them neither whether the person has an
/// account nor which submission is theirs.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `Invalid` for something that is not an e-mail address.
pub async fn declare_conflict(app: &App, actor: &Actor, organisation: OrganisationId, email: &str) -> Result<(), AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::Assess))?;
    let assessor = actor.user.ok_or(AppError::Unauthenticated)?;
    let email = Email::parse(email).map_err(|m| AppError::invalid_field("/email", m))?;
    Ok(app.store.declare_conflict(organisation, assessor, &email, app.now()).await?)
}
