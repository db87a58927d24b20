//! The assessment journey's operations, shared by pages and the API: apply, edit and submit
//! evidence, fees and vouchers, assignment, double-blind review, judgement, resubmission, the
//! issuer's settings, pools and dashboard, and notifications.
//!
//! Every function authorises through `cairn_core::authz`, applies the domain rules in
//! `cairn_core`, and records through `cairn_store`. Assessor-facing views are built only by
//! [`blind_view`] and [`assessor_queue`], which never read the learner's account.

use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::{AttemptChanges, Candidate, Judgement, ScoreFields, choose_assessor, find_duplicates};
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::calendar::DueState;
use cairn_core::evidence::{EvidenceType, accept_evidence};
use cairn_core::ids::{AchievementId, ArtifactId, AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::organisation::Organisation;
use cairn_core::rubric::{Criterion, Rubric};
use cairn_core::submission::{
    Event, FeeState, IssuerSettings, IssuerSettingsFields, Outcome, Status, Submission, SubmissionContent, SubmissionFields, clean_text, submission_code,
    transition, voucher_code,
};
use cairn_store::{Artifact, ArtifactBody, Assessment, Award, NewArtifact, NewSubmission, StoreError, Transition};
use time::OffsetDateTime;

use crate::problem::Problem;
use crate::state::AppState;

/// Longest artefact title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

fn submission_problem(error: cairn_core::submission::TransitionError) -> Problem {
    Problem::new(axum::http::StatusCode::CONFLICT, "submission-state", error.to_string())
}

/// The rubric an achievement is judged by: its own, or for an achievement without one a single
/// criterion "meets the criteria".
pub fn rubric_of(achievement: &Achievement) -> Rubric {
    achievement.content.rubric.clone().unwrap_or_else(|| Rubric {
        levels: vec!["Not yet".into(), "Met".into()],
        criteria: vec![Criterion {
            id: "criteria".into(),
            name: "Criteria".into(),
            description: "The evidence meets the achievement's criteria.".into(),
            required_level: 1,
            descriptors: vec!["The criteria are not yet met.".into(), "The criteria are met.".into()],
        }],
    })
}

/// Tells a person something: an in-app notification and an e-mail (sent, or kept in the outbox).
pub async fn tell(state: &AppState, user: UserId, kind: &str, subject: &str, body: &str, link: &str) -> Result<(), Problem> {
    let now = state.app.now();
    state.app.store.notify(user, kind, subject, body, link, now).await?;
    let person = state.app.store.user(user).await?;
    let mail_body = format!("{body}\n\n{}\n", state.app.config.url(link));
    state.app.store.queue_mail(&person.email, subject, &mail_body, now).await?;
    Ok(())
}

/// Tells every owner and staff member of an issuer.
async fn tell_staff(state: &AppState, organisation: OrganisationId, kind: &str, subject: &str, body: &str, link: &str) -> Result<(), Problem> {
    for (user, _, _) in state.app.store.org_staff(organisation).await? {
        tell(state, user, kind, subject, body, link).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- learner

/// Starts a draft submission for a published achievement.
///
/// # Errors
/// 401, 404 unknown or unpublished achievement, 409 a micro-credential (earned by its levels) or
/// an existing live submission, 422 broken field rules.
pub async fn start_submission(state: &AppState, actor: &Actor, achievement: AchievementId, fields: &SubmissionFields) -> Result<Submission, Problem> {
    actor.authorise(Action::Apply)?;
    let learner = actor.user.ok_or_else(Problem::unauthenticated)?;
    let achievement = match state.app.store.achievement(achievement).await {
        Ok(a) if a.state == State::Published => a,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Problem::not_found("no published achievement has this id")),
        Err(error) => return Err(error.into()),
    };
    if achievement.kind == Kind::MicroCredential {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            "submission-state",
            "a micro-credential is earned by its three level badges: apply for the levels instead",
        ));
    }
    let me = state.app.store.user(learner).await?;
    let content = SubmissionContent::parse(fields, &me.email)?;
    let fee = if achievement.content.fee.is_free() { FeeState::None } else { FeeState::Due };
    let new = NewSubmission { id: SubmissionId::new(), achievement: achievement.id, organisation: achievement.organisation, learner, content, fee };
    Ok(state.app.store.create_submission(&new, state.app.now()).await?)
}

/// Loads a submission the actor owns.
async fn own_submission(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<Submission, Problem> {
    let submission = state.app.store.submission(id).await?;
    if actor.user.is_none() {
        return Err(Problem::unauthenticated());
    }
    if actor.authorise(Action::Own(submission.learner)).is_err() {
        // Someone else's submission is as good as absent.
        return Err(Problem::not_found("submission not found"));
    }
    Ok(submission)
}

/// Replaces a draft's (or a "not yet" attempt's) text parts; used by autosave too.
///
/// # Errors
/// 401, 404, 409 once submitted, 422 broken field rules.
pub async fn update_submission(state: &AppState, actor: &Actor, id: SubmissionId, fields: &SubmissionFields) -> Result<Submission, Problem> {
    let submission = own_submission(state, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    let me = state.app.store.user(submission.learner).await?;
    let content = SubmissionContent::parse(fields, &me.email)?;
    Ok(state.app.store.update_content(id, &content, state.app.now()).await?)
}

fn not_editable(status: Status) -> Problem {
    Problem::new(
        axum::http::StatusCode::CONFLICT,
        "submission-state",
        format!("a {} submission cannot be edited; it can be revised after feedback", status.label().to_lowercase()),
    )
}

/// Adds an uploaded evidence file (checked, size-limited, stripped of metadata).
///
/// # Errors
/// 401, 404, 409 not editable or too many artefacts, 413 too large, 415 unknown or mislabelled
/// type, 422 empty or damaged file.
pub async fn add_file(
    state: &AppState,
    actor: &Actor,
    id: SubmissionId,
    title: Option<&str>,
    original_name: Option<&str>,
    declared: Option<&str>,
    bytes: &[u8],
) -> Result<Artifact, Problem> {
    let submission = own_submission(state, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    let (kind, clean) = accept_evidence(bytes, declared).map_err(evidence_problem)?;
    let count = state.app.store.artifacts(id).await?.len();
    let title = artifact_title(title, count + 1)?;
    let sha256 = sha256_hex(&clean);
    let size = clean.len() as u64;
    let blob_key = state.app.store.blobs().put("evidence", kind.extension(), clean).await?;
    let original_name: String = clean_text(original_name.unwrap_or("")).chars().take(255).collect();
    let new = NewArtifact {
        id: ArtifactId::new(),
        submission: id,
        title,
        body: ArtifactBody::File { blob_key, media_type: kind.media_type().to_string(), size, sha256, original_name },
    };
    Ok(state.app.store.add_artifact(&new, state.app.now()).await?)
}

/// Adds a text artefact.
///
/// # Errors
/// 401, 404, 409, 422 empty or overlong text.
pub async fn add_text(state: &AppState, actor: &Actor, id: SubmissionId, title: Option<&str>, body: &str) -> Result<Artifact, Problem> {
    let submission = own_submission(state, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    let body = clean_text(body).trim().to_string();
    if body.is_empty() {
        return Err(Problem::invalid_field("/body", "is required"));
    }
    if body.chars().count() > cairn_core::submission::MAX_TEXT_CHARS {
        return Err(Problem::invalid_field("/body", format!("must be at most {} characters", cairn_core::submission::MAX_TEXT_CHARS)));
    }
    let count = state.app.store.artifacts(id).await?.len();
    let title = artifact_title(title, count + 1)?;
    let new = NewArtifact { id: ArtifactId::new(), submission: id, title, body: ArtifactBody::Text { body } };
    Ok(state.app.store.add_artifact(&new, state.app.now()).await?)
}

fn artifact_title(title: Option<&str>, n: usize) -> Result<String, Problem> {
    let title = clean_text(title.unwrap_or("")).trim().to_string();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Problem::invalid_field("/title", format!("must be at most {MAX_TITLE_CHARS} characters")));
    }
    Ok(if title.is_empty() { format!("Evidence {n}") } else { title })
}

fn evidence_problem(error: cairn_core::evidence::EvidenceError) -> Problem {
    use cairn_core::evidence::EvidenceError;
    match error {
        EvidenceError::TooLarge { .. } => Problem::too_large(error.to_string()),
        EvidenceError::UnknownType | EvidenceError::TypeMismatch { .. } => Problem::unsupported_media_type(error.to_string()),
        other => Problem::invalid_field("/file", other.to_string()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes an artefact from a draft or a revision.
///
/// # Errors
/// 401, 404, 409 not editable.
pub async fn remove_artifact(state: &AppState, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<(), Problem> {
    let submission = own_submission(state, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    Ok(state.app.store.remove_artifact(id, artifact, state.app.now()).await?)
}

/// Sends the first attempt (from a draft) or a revised one (after "not yet"): checks the fee and
/// the required parts, counts the attempt against the issuer's limit, picks the assessor, sets
/// the due date, flags duplicates and tells the people concerned.
///
/// # Errors
/// 401, 404, 409 wrong state, double submit, fee due or no attempts left, 422 missing parts.
pub async fn submit(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<Submission, Problem> {
    let submission = own_submission(state, actor, id).await?;
    let event = if submission.status == Status::NotYet { Event::Resubmit } else { Event::Submit };
    let to = transition(submission.status, event).map_err(submission_problem)?;
    if !submission.fee.is_settled() {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            "fee-due",
            "the fee for this achievement is due: redeem a voucher or wait for the issuer to record your payment",
        ));
    }
    let artifacts = state.app.store.artifacts(id).await?;
    submission.content.check_complete(artifacts.len())?;
    let organisation = state.app.store.submission_organisation(id).await?;
    let settings = state.app.store.issuer_settings(organisation).await?;
    if event == Event::Resubmit && !settings.allows_attempt(submission.attempt) {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            "submission-state",
            format!("this achievement allows {} attempts and you have used them all", settings.attempt_limit.unwrap_or(0)),
        ));
    }
    let now = state.app.now();
    let assessor = pick_assessor(state, organisation, &submission).await?;
    let due_at = settings.due_at(now);
    let note = if event == Event::Resubmit { format!("attempt {} sent", submission.attempt + 1) } else { "attempt 1 sent".to_string() };
    let updated = state
        .app
        .store
        .transition(
            &Transition {
                submission: id,
                from: submission.status,
                to,
                actor: actor.user,
                note,
                assessor: Some(assessor),
                due_at: Some(Some(due_at)),
                next_attempt: event == Event::Resubmit,
                snapshot: true,
            },
            now,
        )
        .await?;
    flag_duplicates(state, &updated).await?;
    let achievement = state.app.store.achievement(updated.achievement).await?;
    let due = format_day(due_at);
    tell(
        state,
        updated.learner,
        "submitted",
        &format!("Submitted: {}", achievement.content.name),
        &format!("Your evidence for \"{}\" was received. A decision is due by {due}.", achievement.content.name),
        &format!("/submissions/{id}"),
    )
    .await?;
    match assessor {
        Some(assessor) => {
            tell(
                state,
                assessor,
                "assignment",
                &format!("New submission to assess: {}", updated.code()),
                &format!("Submission {} for \"{}\" is in your queue, due {due}.", updated.code(), achievement.content.name),
                &format!("/assess/{id}"),
            )
            .await?
        }
        None => {
            tell_staff(
                state,
                organisation,
                "unassigned",
                &format!("No assessor for {}", updated.code()),
                &format!(
                    "Submission {} for \"{}\" has no eligible assessor: add assessors to the achievement's pool.",
                    updated.code(),
                    achievement.content.name
                ),
                "/issuer/assessment",
            )
            .await?
        }
    }
    Ok(updated)
}

/// The assessor for the next attempt: the previous assessor while still eligible, else the
/// least-loaded pool member who is not the learner, a collaborator or conflicted.
async fn pick_assessor(state: &AppState, organisation: OrganisationId, submission: &Submission) -> Result<Option<UserId>, Problem> {
    let members = state.app.store.members(organisation).await?;
    let may_assess = |user: UserId| members.iter().any(|m| m.user == user && cairn_core::authz::role_permits(m.role, OrgAction::Assess));
    let pool: Vec<Candidate> = state
        .app
        .store
        .pool(submission.achievement)
        .await?
        .into_iter()
        .filter(|m| may_assess(m.user))
        .map(|m| Candidate { assessor: m.user, open: m.open })
        .collect();
    let mut excluded = state.app.store.conflicted_assessors(organisation, submission.learner).await?;
    for email in &submission.content.collaborators {
        if let Some(user) = state.app.store.user_by_email(email).await? {
            excluded.push(user.id);
        }
    }
    Ok(choose_assessor(&pool, submission.learner, &excluded, submission.assessor))
}

/// Compares a sent attempt with the other learners' submissions for the same achievement and
/// records the matches on both sides.
async fn flag_duplicates(state: &AppState, submission: &Submission) -> Result<(), Problem> {
    let digests = state.app.store.evidence_digests(submission.achievement).await?;
    let Some(this) = digests.iter().find(|d| d.submission == submission.id) else { return Ok(()) };
    let flags = find_duplicates(this, &digests);
    let now = state.app.now();
    let others: Vec<SubmissionId> = flags.iter().map(|f| f.other).collect();
    state.app.store.set_duplicate_flags(submission.id, &flags, now).await?;
    for other in others {
        if let Some(digest) = digests.iter().find(|d| d.submission == other) {
            state.app.store.set_duplicate_flags(other, &find_duplicates(digest, &digests), now).await?;
        }
    }
    Ok(())
}

/// Withdraws a submission that is not being reviewed.
///
/// # Errors
/// 401, 404, 409 wrong state.
pub async fn withdraw(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<Submission, Problem> {
    let submission = own_submission(state, actor, id).await?;
    let to = transition(submission.status, Event::Withdraw).map_err(submission_problem)?;
    let transition = Transition {
        submission: id,
        from: submission.status,
        to,
        actor: actor.user,
        note: "withdrawn by the learner".into(),
        assessor: None,
        due_at: Some(None),
        next_attempt: false,
        snapshot: false,
    };
    Ok(state.app.store.transition(&transition, state.app.now()).await?)
}

/// Redeems a voucher for a submission whose fee is due.
///
/// # Errors
/// 401, 404 unknown submission or voucher, 409 used voucher or no fee due, 422 malformed code.
pub async fn redeem_voucher(state: &AppState, actor: &Actor, id: SubmissionId, code: &str) -> Result<Submission, Problem> {
    let submission = own_submission(state, actor, id).await?;
    let code = voucher_code(code).map_err(|m| Problem::invalid_field("/code", m))?;
    state.app.store.redeem_voucher(submission.id, &code, state.app.now()).await?;
    Ok(state.app.store.submission(id).await?)
}

/// Feedback as the learner sees it: no assessor named.
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

fn feedback_view(rubric: &Rubric, assessment: &Assessment) -> FeedbackView {
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

/// One line of a submission's history as the learner sees it.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub to: Status,
    /// "You", "Your assessor", "Issuer staff" or "Cairn": never the assessor's name.
    pub who: String,
    pub note: String,
    pub at: OffsetDateTime,
}

/// Everything the learner's submission page shows.
#[derive(Debug, Clone)]
pub struct LearnerView {
    pub submission: Submission,
    pub achievement: Achievement,
    pub organisation: Organisation,
    pub settings: IssuerSettings,
    pub artifacts: Vec<Artifact>,
    pub feedback: Vec<FeedbackView>,
    pub history: Vec<HistoryLine>,
    pub award: Option<Award>,
    /// Attempts still allowed after the current one (`None` when unlimited).
    pub attempts_left: Option<u32>,
    pub collaborator_reflections: Vec<(Email, String)>,
    pub due_state: Option<DueState>,
}

/// The learner's view of their submission.
///
/// # Errors
/// 401, 404 (also for someone else's submission).
pub async fn learner_view(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<LearnerView, Problem> {
    let submission = own_submission(state, actor, id).await?;
    let achievement = state.app.store.achievement(submission.achievement).await?;
    let organisation = state.app.store.organisation(achievement.organisation).await?;
    let settings = state.app.store.issuer_settings(organisation.id).await?;
    let rubric = rubric_of(&achievement);
    let artifacts = state.app.store.artifacts(id).await?;
    let feedback = state.app.store.assessments(id).await?.iter().map(|a| feedback_view(&rubric, a)).collect();
    let history = state
        .app
        .store
        .events(id)
        .await?
        .into_iter()
        .map(|e| {
            let who = match e.actor {
                None => "Cairn".to_string(),
                Some(user) if user == submission.learner => "You".to_string(),
                Some(_) if matches!(e.to, Status::Passed | Status::NotYet) => "Your assessor".to_string(),
                Some(_) => "Issuer staff".to_string(),
            };
            HistoryLine { to: e.to, who, note: e.note, at: e.at }
        })
        .collect();
    let award = state.app.store.award_for_submission(id).await?;
    let attempts_left = settings.attempt_limit.map(|limit| limit.saturating_sub(submission.attempt));
    let collaborator_reflections = state.app.store.collaborator_reflections(id).await?;
    let due_state = match (submission.status.clock_running(), submission.due_at) {
        (true, Some(due)) => Some(settings.calendar().due_state(state.app.now(), due, settings.nearly_due_days)),
        _ => None,
    };
    Ok(LearnerView { submission, achievement, organisation, settings, artifacts, feedback, history, award, attempts_left, collaborator_reflections, due_state })
}

/// A learner's submissions, newest first.
///
/// # Errors
/// 401.
pub async fn my_submissions(state: &AppState, actor: &Actor) -> Result<Vec<cairn_store::LearnerSubmission>, Problem> {
    let me = actor.user.ok_or_else(Problem::unauthenticated)?;
    Ok(state.app.store.submissions_of(me).await?)
}

/// Downloads one of the learner's own evidence files (with its original name).
///
/// # Errors
/// 401, 404.
pub async fn learner_file(state: &AppState, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<(String, String, Vec<u8>), Problem> {
    own_submission(state, actor, id).await?;
    let artifact = state.app.store.artifact(artifact).await?;
    if artifact.submission != id {
        return Err(Problem::not_found("artefact not found"));
    }
    match artifact.body {
        ArtifactBody::File { blob_key, media_type, original_name, .. } => {
            let bytes = state.app.store.blobs().get(&blob_key).await?;
            let name = if original_name.is_empty() { artifact.title.clone() } else { original_name };
            Ok((media_type, name, bytes))
        }
        ArtifactBody::Text { body } => Ok(("text/plain; charset=utf-8".into(), format!("{}.txt", artifact.title), body.into_bytes())),
    }
}

/// Writes a named collaborator's own reflection on a submission.
///
/// # Errors
/// 401, 404 when the actor is not named on it, 409 once the work is decided, 422 too long.
pub async fn write_collaborator_reflection(state: &AppState, actor: &Actor, id: SubmissionId, text: &str) -> Result<(), Problem> {
    let me = state.app.store.user(actor.user.ok_or_else(Problem::unauthenticated)?).await?;
    let submission = state.app.store.submission(id).await?;
    if !submission.content.collaborators.contains(&me.email) {
        return Err(Problem::not_found("you are not named as a collaborator on this submission"));
    }
    if matches!(submission.status, Status::Passed | Status::Awarded | Status::Withdrawn) {
        return Err(Problem::new(axum::http::StatusCode::CONFLICT, "submission-state", "this submission is already decided"));
    }
    let text = clean_text(text).trim().to_string();
    if text.chars().count() > cairn_core::submission::MAX_TEXT_CHARS {
        return Err(Problem::invalid_field("/reflection", format!("must be at most {} characters", cairn_core::submission::MAX_TEXT_CHARS)));
    }
    Ok(state.app.store.set_collaborator_reflection(id, &me.email, &text, state.app.now()).await?)
}

// ---------------------------------------------------------------- assessor

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
#[derive(Debug, Clone, serde::Serialize)]
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
    pub rubric: Rubric,
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
async fn assigned_submission(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<(Submission, OrganisationId), Problem> {
    let submission = state.app.store.submission(id).await?;
    let organisation = state.app.store.submission_organisation(id).await?;
    match actor.authorise(Action::AssessAssigned(organisation, submission.assessor)) {
        Ok(()) => Ok((submission, organisation)),
        Err(cairn_core::authz::Denied::Unauthenticated) => Err(Problem::unauthenticated()),
        Err(_) => Err(Problem::not_found("no submission with this id is assigned to you")),
    }
}

/// The double-blind view of a submission for its assessor; opening a queued submission starts
/// the review.
///
/// # Errors
/// 401, 404 when not assigned to the actor.
pub async fn blind_view(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<BlindSubmission, Problem> {
    let (submission, organisation) = assigned_submission(state, actor, id).await?;
    blind(state, actor, submission, organisation, true).await
}

/// The actor's queue with each submission's full blind view (the API's queue), without
/// starting any review.
///
/// # Errors
/// 401.
pub async fn blind_queue(state: &AppState, actor: &Actor) -> Result<Vec<BlindSubmission>, Problem> {
    let me = actor.user.ok_or_else(Problem::unauthenticated)?;
    let mut items = Vec::new();
    for item in state.app.store.assessor_queue(me).await? {
        if actor.authorise(Action::AssessAssigned(item.organisation, item.submission.assessor)).is_ok() {
            items.push(blind(state, actor, item.submission, item.organisation, false).await?);
        }
    }
    Ok(items)
}

async fn blind(
    state: &AppState,
    actor: &Actor,
    mut submission: Submission,
    organisation: OrganisationId,
    start_review: bool,
) -> Result<BlindSubmission, Problem> {
    let id = submission.id;
    if start_review && matches!(submission.status, Status::Submitted | Status::Resubmitted) {
        let opened = Transition {
            submission: id,
            from: submission.status,
            to: Status::InReview,
            actor: actor.user,
            note: "review started".into(),
            assessor: None,
            due_at: None,
            next_attempt: false,
            snapshot: false,
        };
        match state.app.store.transition(&opened, state.app.now()).await {
            Ok(updated) => submission = updated,
            Err(StoreError::Conflict { .. }) => submission = state.app.store.submission(id).await?,
            Err(error) => return Err(error.into()),
        }
    }
    let achievement = state.app.store.achievement(submission.achievement).await?;
    let rubric = rubric_of(&achievement);
    let settings = state.app.store.issuer_settings(organisation).await?;
    let code = submission_code(id);
    let artifacts = blind_artifacts(&code, id, &state.app.store.artifacts(id).await?);
    let previous: Vec<FeedbackView> = state.app.store.assessments(id).await?.iter().map(|a| feedback_view(&rubric, a)).collect();
    let attempts = state.app.store.attempts(id).await?;
    let changes = match attempts.as_slice() {
        [.., before, after] => {
            Some(AttemptChanges::between((&before.overview, &before.reflection, &before.artifacts), (&after.overview, &after.reflection, &after.artifacts)))
        }
        _ => None,
    };
    let duplicates = state
        .app
        .store
        .duplicate_flags(id)
        .await?
        .into_iter()
        .map(|f| BlindDuplicate { kind: f.kind.as_str(), description: f.kind.describe(), other_code: submission_code(f.other), similarity: f.similarity })
        .collect();
    let collaborator_reflections = state.app.store.collaborator_reflections(id).await?.into_iter().map(|(_, text)| text).filter(|t| !t.is_empty()).collect();
    let due_state = match (submission.status.clock_running(), submission.due_at) {
        (true, Some(due)) => Some(settings.calendar().due_state(state.app.now(), due, settings.nearly_due_days)),
        _ => None,
    };
    Ok(BlindSubmission {
        submission_id: id,
        code,
        achievement,
        rubric,
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
}

/// The actor's queue: submissions assigned to them and waiting for judgement, soonest due first.
///
/// # Errors
/// 401.
pub async fn assessor_queue(state: &AppState, actor: &Actor) -> Result<Vec<QueueLine>, Problem> {
    let me = actor.user.ok_or_else(Problem::unauthenticated)?;
    let mut lines = Vec::new();
    for item in state.app.store.assessor_queue(me).await? {
        if actor.authorise(Action::AssessAssigned(item.organisation, item.submission.assessor)).is_err() {
            continue;
        }
        let settings = state.app.store.issuer_settings(item.organisation).await?;
        let achievement = state.app.store.achievement(item.submission.achievement).await?;
        let flagged = !state.app.store.duplicate_flags(item.submission.id).await?.is_empty();
        lines.push(QueueLine {
            submission_id: item.submission.id,
            code: item.submission.code(),
            achievement,
            status: item.submission.status,
            attempt: item.submission.attempt,
            due_at: item.submission.due_at,
            due_state: item.submission.due_at.map(|due| settings.calendar().due_state(state.app.now(), due, settings.nearly_due_days)),
            flagged,
        });
    }
    Ok(lines)
}

/// Downloads an evidence file for its assessor, named by the submission code only.
///
/// # Errors
/// 401, 404.
pub async fn assessor_file(state: &AppState, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<(String, String, Vec<u8>), Problem> {
    assigned_submission(state, actor, id).await?;
    let live = state.app.store.artifacts(id).await?;
    let Some(position) = live.iter().position(|a| a.id == artifact) else { return Err(Problem::not_found("artefact not found")) };
    let code = submission_code(id);
    match &live[position].body {
        ArtifactBody::File { blob_key, media_type, .. } => {
            let bytes = state.app.store.blobs().get(blob_key).await?;
            let extension = EvidenceType::from_media_type(media_type).map(|t| t.extension()).unwrap_or("bin");
            Ok((media_type.clone(), format!("{code}-evidence-{}.{extension}", position + 1), bytes))
        }
        ArtifactBody::Text { body } => Ok(("text/plain; charset=utf-8".into(), format!("{code}-evidence-{}.txt", position + 1), body.clone().into_bytes())),
    }
}

/// What an assessment led to.
#[derive(Debug, Clone)]
pub struct AssessResult {
    pub outcome: Outcome,
    /// The award, when the pass was awarded at once.
    pub award: Option<AwardId>,
}

/// Records the assigned assessor's judgement; a pass is awarded at once unless the issuer asks
/// staff to confirm passes first.
///
/// # Errors
/// 401, 404 not assigned, 409 already assessed (also when two assessors race), 422 bad scores.
pub async fn assess(state: &AppState, actor: &Actor, id: SubmissionId, scores: &[ScoreFields], feedback: &str) -> Result<AssessResult, Problem> {
    let (submission, organisation) = assigned_submission(state, actor, id).await?;
    if !submission.status.is_queued() {
        return Err(submission_problem(cairn_core::submission::TransitionError { from: submission.status, action: "assessed" }));
    }
    let achievement = state.app.store.achievement(submission.achievement).await?;
    let judgement = Judgement::parse(&rubric_of(&achievement), scores, feedback)?;
    let outcome = judgement.outcome;
    let assessor = actor.user.ok_or_else(Problem::unauthenticated)?;
    state.app.store.record_assessment(id, assessor, &judgement, state.app.now()).await?;
    let name = &achievement.content.name;
    let link = format!("/submissions/{id}");
    let mut award = None;
    match outcome {
        Outcome::NotYet => {
            let body = format!("Your assessor has given feedback on \"{name}\": not yet. Read it, revise your evidence and resubmit.");
            tell(state, submission.learner, "not_yet", &format!("Feedback on {name}"), &body, &link).await?;
        }
        Outcome::Pass => {
            let settings = state.app.store.issuer_settings(organisation).await?;
            if settings.confirm_passes {
                let body = format!("Your evidence for \"{name}\" passed. The issuer confirms passes before the badge is issued.");
                tell(state, submission.learner, "passed", &format!("Passed: {name}"), &body, &link).await?;
                let code = submission.code();
                let body = format!("Submission {code} for \"{name}\" passed and waits for confirmation.");
                tell_staff(state, organisation, "confirm", &format!("Pass to confirm: {code}"), &body, "/issuer/assessment").await?;
            } else {
                award = Some(issue_award(state, actor.user, id, Some(judgement)).await?.id);
            }
        }
    }
    Ok(AssessResult { outcome, award })
}

/// Issues the award for a passed submission, moving it to `awarded` in the same transaction.
async fn issue_award(state: &AppState, actor: Option<UserId>, id: SubmissionId, judgement: Option<Judgement>) -> Result<Award, Problem> {
    let submission = state.app.store.submission(id).await?;
    let judgement = match judgement {
        Some(judgement) => Some(judgement),
        None => {
            let achievement = state.app.store.achievement(submission.achievement).await?;
            let rubric = rubric_of(&achievement);
            state
                .app
                .store
                .assessments(id)
                .await?
                .last()
                .map(|a| Judgement { scores: a.scores.clone(), feedback: a.feedback.clone(), outcome: a.outcome })
                .filter(|j| j.outcome == Outcome::Pass && j.scores.len() == rubric.criteria.len())
        }
    };
    // The evidence stays with the learner; the award page shows it only where they allow.
    let evidence_urls = Vec::new();
    let request = crate::issuing::AwardRequest {
        learner: submission.learner,
        achievement: submission.achievement,
        submission: Some(id),
        judgement,
        evidence_urls,
        transition: Some(Transition {
            submission: id,
            from: Status::Passed,
            to: Status::Awarded,
            actor,
            note: "credential issued".into(),
            assessor: None,
            due_at: None,
            next_attempt: false,
            snapshot: false,
        }),
    };
    crate::issuing::award(state, request).await
}

/// Staff confirm a pass (the second stage) and the award is issued; also retries an award that
/// failed after a pass.
///
/// # Errors
/// 401/403, 404, 409 not passed.
pub async fn confirm_pass(state: &AppState, actor: &Actor, id: SubmissionId) -> Result<Award, Problem> {
    let submission = state.app.store.submission(id).await?;
    let organisation = state.app.store.submission_organisation(id).await?;
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    if submission.status != Status::Passed {
        return Err(submission_problem(cairn_core::submission::TransitionError { from: submission.status, action: "confirmed" }));
    }
    let staff = actor.user.ok_or_else(Problem::unauthenticated)?;
    state.app.store.confirm_pass(id, staff, state.app.now()).await?;
    issue_award(state, actor.user, id, None).await
}

/// An assessor declares a conflict of interest with a learner (by e-mail), for one issuer.
///
/// # Errors
/// 401/403, 422 unknown e-mail.
pub async fn declare_conflict(state: &AppState, actor: &Actor, organisation: OrganisationId, email: &str) -> Result<(), Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::Assess))?;
    let assessor = actor.user.ok_or_else(Problem::unauthenticated)?;
    let email = Email::parse(email).map_err(|m| Problem::invalid_field("/email", m))?;
    let Some(learner) = state.app.store.user_by_email(&email).await? else {
        return Err(Problem::invalid_field("/email", format!("no account uses \"{email}\"")));
    };
    Ok(state.app.store.declare_conflict(organisation, assessor, learner.id, state.app.now()).await?)
}

// ---------------------------------------------------------------- issuer

/// An issuer's assessment settings.
///
/// # Errors
/// 401/403.
pub async fn settings(state: &AppState, actor: &Actor, organisation: OrganisationId) -> Result<IssuerSettings, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    Ok(state.app.store.issuer_settings(organisation).await?)
}

/// Replaces an issuer's assessment settings.
///
/// # Errors
/// 401/403, 422.
pub async fn set_settings(state: &AppState, actor: &Actor, organisation: OrganisationId, fields: &IssuerSettingsFields) -> Result<IssuerSettings, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let settings = IssuerSettings::parse(fields)?;
    state.app.store.set_issuer_settings(organisation, &settings, state.app.now()).await?;
    Ok(settings)
}

/// Adds a member who may assess to an achievement's pool, then assigns any waiting submissions.
///
/// # Errors
/// 401/403, 404, 422 not a member who may assess.
pub async fn add_to_pool(state: &AppState, actor: &Actor, achievement: AchievementId, user: UserId) -> Result<(), Problem> {
    let achievement = state.app.store.achievement(achievement).await?;
    actor.authorise(Action::Org(achievement.organisation, OrgAction::ManageAssessment))?;
    let members = state.app.store.members(achievement.organisation).await?;
    if !members.iter().any(|m| m.user == user && cairn_core::authz::role_permits(m.role, OrgAction::Assess)) {
        return Err(Problem::invalid_field("/user", "only members of this issuer who may assess can join a pool"));
    }
    state.app.store.add_to_pool(achievement.id, user, state.app.now()).await?;
    assign_waiting(state, achievement.organisation).await
}

/// Removes someone from an achievement's pool (their open assignments stay with them).
///
/// # Errors
/// 401/403, 404.
pub async fn remove_from_pool(state: &AppState, actor: &Actor, achievement: AchievementId, user: UserId) -> Result<(), Problem> {
    let achievement = state.app.store.achievement(achievement).await?;
    actor.authorise(Action::Org(achievement.organisation, OrgAction::ManageAssessment))?;
    Ok(state.app.store.remove_from_pool(achievement.id, user).await?)
}

/// Gives queued submissions without an assessor to an eligible one, when there is one now.
pub async fn assign_waiting(state: &AppState, organisation: OrganisationId) -> Result<(), Problem> {
    for submission in state.app.store.unassigned(organisation).await? {
        if let Some(assessor) = pick_assessor(state, organisation, &submission).await? {
            let assign = Transition {
                submission: submission.id,
                from: submission.status,
                to: submission.status,
                actor: None,
                note: "assessor assigned".into(),
                assessor: Some(Some(assessor)),
                due_at: None,
                next_attempt: false,
                snapshot: false,
            };
            match state.app.store.transition(&assign, state.app.now()).await {
                Ok(_) => {
                    let code = submission.code();
                    tell(
                        state,
                        assessor,
                        "assignment",
                        &format!("New submission to assess: {code}"),
                        &format!("Submission {code} is in your queue."),
                        &format!("/assess/{}", submission.id),
                    )
                    .await?;
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}

/// Records a fee as paid or waived.
///
/// # Errors
/// 401/403, 404, 409 when no fee is due.
pub async fn settle_fee(state: &AppState, actor: &Actor, id: SubmissionId, waive: bool) -> Result<Submission, Problem> {
    let submission = state.app.store.submission(id).await?;
    let organisation = state.app.store.submission_organisation(id).await?;
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    if submission.fee != FeeState::Due {
        return Err(Problem::conflict(format!("no fee is due on this submission ({})", submission.fee.label().to_lowercase())));
    }
    let fee = if waive { FeeState::Waived } else { FeeState::Paid };
    let staff = actor.user.ok_or_else(Problem::unauthenticated)?;
    state.app.store.set_fee_state(id, &fee, staff, state.app.now()).await?;
    let achievement = state.app.store.achievement(submission.achievement).await?;
    let word = if waive { "waived" } else { "recorded as paid" };
    let body = format!("The fee for \"{}\" was {word}. You can submit your evidence now.", achievement.content.name);
    tell(state, submission.learner, "fee", &format!("Fee {word}"), &body, &format!("/submissions/{id}")).await?;
    Ok(state.app.store.submission(id).await?)
}

/// Creates `count` random voucher codes for an issuer (optionally for one achievement).
///
/// # Errors
/// 401/403, 422 count out of range or achievement of another issuer.
pub async fn create_vouchers(
    state: &AppState,
    actor: &Actor,
    organisation: OrganisationId,
    achievement: Option<AchievementId>,
    count: u32,
) -> Result<Vec<String>, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    if !(1..=500).contains(&count) {
        return Err(Problem::invalid_field("/count", "must be from 1 to 500"));
    }
    if let Some(achievement) = achievement
        && state.app.store.achievement(achievement).await.ok().map(|a| a.organisation) != Some(organisation)
    {
        return Err(Problem::invalid_field("/achievement", "not an achievement of this issuer"));
    }
    let codes: Vec<String> = (0..count).map(|_| random_code()).collect();
    let staff = actor.user.ok_or_else(Problem::unauthenticated)?;
    state.app.store.create_vouchers(organisation, achievement, &codes, staff, state.app.now()).await?;
    Ok(codes)
}

fn random_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(14);
    for group in 0..3 {
        if group > 0 {
            code.push('-');
        }
        for _ in 0..4 {
            code.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
        }
    }
    code
}

/// One line of the issuer's assessment dashboard.
#[derive(Debug, Clone)]
pub struct DashboardLine {
    pub submission: Submission,
    pub code: String,
    pub achievement_name: String,
    pub assessor_name: Option<String>,
    pub due_state: Option<DueState>,
    pub flagged: bool,
}

/// The issuer's open submissions with their service-window state, soonest due first.
///
/// # Errors
/// 401/403.
pub async fn issuer_dashboard(state: &AppState, actor: &Actor, organisation: OrganisationId) -> Result<Vec<DashboardLine>, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let settings = state.app.store.issuer_settings(organisation).await?;
    let calendar = settings.calendar();
    let now = state.app.now();
    let mut lines = Vec::new();
    for item in state.app.store.issuer_queue(organisation).await? {
        let due_state = match (item.submission.status.clock_running(), item.submission.due_at) {
            (true, Some(due)) => Some(calendar.due_state(now, due, settings.nearly_due_days)),
            _ => None,
        };
        let flagged = !state.app.store.duplicate_flags(item.submission.id).await?.is_empty();
        lines.push(DashboardLine {
            code: item.submission.code(),
            submission: item.submission,
            achievement_name: item.achievement_name,
            assessor_name: item.assessor_name,
            due_state,
            flagged,
        });
    }
    Ok(lines)
}

/// The issuer's audit trail as CSV: submission code, achievement, from, to, actor, note, time.
///
/// # Errors
/// 401/403.
pub async fn audit_csv(state: &AppState, actor: &Actor, organisation: OrganisationId) -> Result<String, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let mut out = String::from("submission,achievement,from,to,actor,note,at\n");
    for line in state.app.store.organisation_events(organisation).await? {
        let event = &line.event;
        let fields = [
            submission_code(line.submission),
            line.achievement_name.clone(),
            event.from.map(|s| s.as_str().to_string()).unwrap_or_default(),
            event.to.as_str().to_string(),
            event.actor_name.clone().unwrap_or_else(|| "system".into()),
            event.note.clone(),
            crate::dto::timestamp(event.at),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}

fn csv_field(value: &str) -> String {
    // A leading formula character is neutralised so spreadsheets do not run it.
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// A day for people: `22 November 2026`.
pub fn format_day(time: OffsetDateTime) -> String {
    format!("{} {} {}", time.day(), time.month(), time.year())
}

// ---------------------------------------------------------------- background work

/// Escalates submissions that are nearly due or overdue (once each), telling the issuer's staff.
/// Returns how many were escalated.
///
/// # Errors
/// Store failures.
pub async fn escalate_due(state: &AppState) -> Result<usize, Problem> {
    let now = state.app.now();
    let mut escalated = 0;
    for (submission, organisation) in state.app.store.escalation_candidates(now).await? {
        let Some(due) = submission.due_at else { continue };
        let settings = state.app.store.issuer_settings(organisation).await?;
        let due_state = settings.calendar().due_state(now, due, settings.nearly_due_days);
        if due_state == DueState::OnTrack {
            continue;
        }
        let code = submission.code();
        let (subject, body) = match due_state {
            DueState::Overdue => (format!("Overdue: {code}"), format!("Submission {code} was due on {} and has no decision yet.", format_day(due))),
            _ => (format!("Nearly due: {code}"), format!("Submission {code} is due on {} and has no decision yet.", format_day(due))),
        };
        tell_staff(state, organisation, "escalation", &subject, &body, "/issuer/assessment").await?;
        if let Some(assessor) = submission.assessor {
            tell(state, assessor, "escalation", &subject, &body, &format!("/assess/{}", submission.id)).await?;
        }
        state.app.store.mark_escalated(submission.id, now).await?;
        escalated += 1;
    }
    Ok(escalated)
}
