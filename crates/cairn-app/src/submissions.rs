//! The learner's side of the assessment journey: applying, editing the text parts, evidence files
//! and texts, fees and vouchers, sending an attempt (assignment, due date, duplicate flags,
//! notifications), withdrawing, the learner's view of a submission and its feedback, and
//! collaborators' own reflections.
//!
//! A submission that is not the actor's is as good as absent: it is "not found", never
//! "forbidden". The learner sees "Your assessor", never a name.

use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::find_duplicates;
use cairn_core::authz::{Action, Actor};
use cairn_core::calendar::DueState;
use cairn_core::evidence::{EvidenceError, EvidenceType, MAX_EVIDENCE_BYTES, OverQuota, accept_evidence, check_quota};
use cairn_core::ids::{AchievementId, ArtifactId, SubmissionId};
use cairn_core::notification::NotificationKind;
use cairn_core::organisation::Organisation;
use cairn_core::submission::{
    Event, IssuerSettings, MAX_ARTIFACTS, MAX_TEXT_CHARS, Status, Submission, SubmissionContent, SubmissionFields, clean_text, may_send, strip_control_chars,
    transition, voucher_code,
};
use cairn_store::{
    Artifact, ArtifactBody, Award, Collaboration, Effect, LearnerSubmission, Letter, NewArtifact, NewEffect, NewSubmission, Sending, StoreError, User,
};
use time::OffsetDateTime;

use crate::assessment::{FeedbackView, feedback_view};
use crate::assignment::pick_assessor;
use crate::effects;
use crate::error::ConflictKind;
use crate::fees::FeeContext;
use crate::notify::{format_day, notice, staff_notices};
use crate::{App, AppError};

/// Longest artefact title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

fn submission_state(detail: impl Into<String>) -> AppError {
    AppError::Conflict { kind: ConflictKind::SubmissionState, detail: detail.into() }
}

/// Starts a draft submission for a published achievement.
///
/// # Errors
/// `Unauthenticated`; `NotFound` for an unknown or unpublished achievement; `Conflict` for a
/// micro-credential (earned by its levels) or an existing live submission; `Invalid`.
pub async fn start_submission(app: &App, actor: &Actor, achievement: AchievementId, fields: &SubmissionFields) -> Result<Submission, AppError> {
    start(app, actor, achievement, fields, None).await
}

/// Starts a draft submission; with `prior_learning`, one asking for prior learning to be
/// recognised, which may be for a certificate and takes no notice of level order (learning done
/// elsewhere came in its own order).
///
/// # Errors
/// As [`start_submission`].
pub(crate) async fn start(
    app: &App,
    actor: &Actor,
    achievement: AchievementId,
    fields: &SubmissionFields,
    prior_learning: Option<cairn_store::PriorLearning>,
) -> Result<Submission, AppError> {
    actor.authorise(Action::Apply)?;
    let learner = actor.user.ok_or(AppError::Unauthenticated)?;
    let achievement = match app.store.achievement(achievement).await {
        Ok(a) if a.state == State::Published => a,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(AppError::NotFound("no published achievement has this id".into())),
        Err(error) => return Err(error.into()),
    };
    match (achievement.kind, prior_learning) {
        (Kind::MicroCredential, _) => return Err(submission_state("a micro-credential is earned by its level badges: apply for the levels instead")),
        (Kind::Certificate, None) => return Err(submission_state("a certificate is earned by its components: apply for them instead")),
        (Kind::MicroBadge | Kind::Level(_), None) => crate::stacks::check_level_order(app, learner, &achievement).await?,
        (_, Some(_)) => {}
    }
    let me = app.store.user(learner).await?;
    let content = SubmissionContent::parse(fields, &me.email)?;
    let fee = FeeContext::load(app, &achievement).await?.opening_state(app, learner).await?;
    let new = NewSubmission {
        id: SubmissionId::new(),
        achievement: achievement.id,
        organisation: achievement.organisation,
        learner,
        content,
        fee,
        prior_learning,
        renewal_of: None,
    };
    let submission = app.store.create_submission(&new, app.now()).await?;
    tell_collaborators(app, &submission, &me, &achievement).await?;
    Ok(submission)
}

/// What applying led to.
#[derive(Debug, Clone)]
pub enum Applied {
    /// A new, empty draft.
    Started(SubmissionId),
    /// The learner already has a live submission for the achievement.
    Existing(SubmissionId),
}

/// Applies for an achievement from its page: starts an empty draft, or finds the learner's live
/// submission for it.
///
/// # Errors
/// As [`start_submission`], except an existing live submission.
pub async fn apply(app: &App, actor: &Actor, achievement: AchievementId) -> Result<Applied, AppError> {
    match start_submission(app, actor, achievement, &SubmissionFields::default()).await {
        Ok(submission) => Ok(Applied::Started(submission.id)),
        Err(error @ AppError::Conflict { .. }) => {
            // Most often the learner already has a submission for it.
            let mine = my_submissions(app, actor).await?;
            match mine.iter().find(|line| line.submission.achievement == achievement && line.submission.status != Status::Withdrawn) {
                Some(line) => Ok(Applied::Existing(line.submission.id)),
                None => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

/// Loads a submission the actor owns.
pub(crate) async fn own_submission(app: &App, actor: &Actor, id: SubmissionId) -> Result<Submission, AppError> {
    let submission = app.store.submission(id).await?;
    if actor.user.is_none() {
        return Err(AppError::Unauthenticated);
    }
    if actor.authorise(Action::Own(submission.learner)).is_err() {
        // Someone else's submission is as good as absent.
        return Err(AppError::NotFound("submission not found".into()));
    }
    Ok(submission)
}

fn not_editable(status: Status) -> AppError {
    submission_state(format!("a {} submission cannot be edited; it can be revised after feedback", status.label().to_lowercase()))
}

/// Replaces a draft's (or a "not yet" attempt's) text parts, and tells the collaborators named
/// for the first time (see [`tell_collaborators`]).
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict` once sent, `Invalid`.
pub async fn update_submission(app: &App, actor: &Actor, id: SubmissionId, fields: &SubmissionFields) -> Result<Submission, AppError> {
    let (submission, me) = save_content(app, actor, id, fields).await?;
    let achievement = app.store.achievement(submission.achievement).await?;
    tell_collaborators(app, &submission, &me, &achievement).await?;
    Ok(submission)
}

/// Saves the text parts as they are being typed (the page's autosave): as
/// [`update_submission`], but nobody is told yet, since an address may be half typed. The next
/// save from the Save button or the API, or the submit, tells them.
///
/// # Errors
/// As [`update_submission`].
pub async fn autosave_submission(app: &App, actor: &Actor, id: SubmissionId, fields: &SubmissionFields) -> Result<Submission, AppError> {
    Ok(save_content(app, actor, id, fields).await?.0)
}

async fn save_content(app: &App, actor: &Actor, id: SubmissionId, fields: &SubmissionFields) -> Result<(Submission, User), AppError> {
    let submission = own_submission(app, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    let me = app.store.user(submission.learner).await?;
    let content = SubmissionContent::parse(fields, &me.email)?;
    Ok((app.store.update_content(id, &content, app.now()).await?, me))
}

/// Tells each collaborator named on `submission` who was not told yet, once: a notification
/// and an e-mail for someone with an account, an invitation e-mail for anyone else, whose link
/// leads through sign-up (with that address) to their collaborations. Each is marked told with
/// its effects in one transaction (`Store::tell_collaborators`), so two saves at once tell
/// nobody twice.
///
/// # Errors
/// Store failures.
pub(crate) async fn tell_collaborators(app: &App, submission: &Submission, learner: &User, achievement: &Achievement) -> Result<(), AppError> {
    let untold = app.store.untold_collaborators(submission.id).await?;
    if untold.is_empty() {
        return Ok(());
    }
    let name = &achievement.content.name;
    let who = &learner.name;
    let subject = format!("{who} named you as a collaborator on \"{name}\"");
    let body = format!("{who} named you as a collaborator on their submission for \"{name}\". Write your own reflection on the work you did together.");
    let mut told = Vec::with_capacity(untold.len());
    for email in untold {
        let effect = match app.store.user_by_email(&email).await? {
            Some(user) => notice(user.id, NotificationKind::Collaboration, subject.clone(), body.clone(), collaboration_link(submission.id)),
            None => {
                let signup = app.config.url(&format!("/signup?email={}&next={}", query_value(email.as_str()), query_value(&collaboration_link(submission.id))));
                let letter = format!(
                    "Hello,\n\n{body}\n\nTo write it, create a Cairn account with this e-mail address ({email}); you then go straight to the collaboration:\n\n{signup}\n\n\
                     Nothing is created unless you sign up. If you did not work with {who}, you can ignore this message.\n"
                );
                NewEffect::from(Effect::Email(Letter { to: email.clone(), subject: subject.clone(), body: letter }))
            }
        };
        told.push((email, vec![effect]));
    }
    let written = app.store.tell_collaborators(submission.id, &told, app.now()).await?;
    effects::settle(app, &written).await;
    Ok(())
}

/// Where a collaborator writes their reflection on a submission.
fn collaboration_link(id: SubmissionId) -> String {
    format!("/collaborations#collaboration-{id}")
}

/// A value for a URL's query string: everything but unreserved characters percent-encoded.
fn query_value(raw: &str) -> String {
    raw.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Adds an uploaded evidence file (checked, size-limited, stripped of metadata).
///
/// Every limit is checked before anything is written to the blob store: the file's size, the
/// number of artefacts, the title, the type and content, and the evidence storage the issuer
/// allows the learner (`IssuerSettings::evidence_quota_mb`). The cleaning, which parses the
/// whole file, runs on the blocking pool. Should the row still be refused after the write (the
/// submission was sent meanwhile, or a concurrent upload took the last room), the blob is left
/// for the sweep (`crate::jobs::sweep_blobs`): its content may be another row's too.
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict` when not editable or full, `TooLarge` for a file or
/// quota overrun, `UnsupportedMediaType` for an unknown, mislabelled or uncleanable type (office
/// documents included), `Invalid` for an empty or damaged file or a bad title.
pub async fn add_file(
    app: &App,
    actor: &Actor,
    id: SubmissionId,
    title: Option<&str>,
    original_name: Option<&str>,
    declared: Option<&str>,
    bytes: &[u8],
) -> Result<Artifact, AppError> {
    let submission = own_submission(app, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(evidence_error(EvidenceError::TooLarge { size: bytes.len(), max: MAX_EVIDENCE_BYTES }));
    }
    let count = app.store.artifacts(id).await?.len();
    if count >= MAX_ARTIFACTS {
        return Err(full());
    }
    let title = artifact_title(title, count + 1)?;
    let organisation = app.store.submission_organisation(id).await?;
    let quota = app.store.issuer_settings(organisation).await?.evidence_quota_bytes();
    let used = app.store.evidence_bytes(submission.learner, organisation).await?;
    // With no room at all, say so before the file is cleaned.
    check_quota(used, 1, quota).map_err(|over| AppError::TooLarge(OverQuota { adding: bytes.len() as u64, ..over }.to_string()))?;
    let (kind, clean) = clean_evidence(bytes.to_vec(), declared.map(str::to_string)).await?;
    let size = clean.len() as u64;
    check_quota(used, size, quota).map_err(|over| AppError::TooLarge(over.to_string()))?;
    let sha256 = sha256_hex(&clean);
    let blob_key = app.store.blobs().put("evidence", kind.extension(), clean).await?;
    // A file name comes from the browser, not typed: control characters are dropped, not refused.
    let original_name: String = strip_control_chars(original_name.unwrap_or("")).chars().take(255).collect();
    let new = NewArtifact {
        id: ArtifactId::new(),
        submission: id,
        title,
        body: ArtifactBody::File { blob_key, media_type: kind.media_type().to_string(), size, sha256, original_name },
    };
    match app.store.add_artifact_within(&new, Some(quota), app.now()).await {
        Ok(artifact) => Ok(artifact),
        Err(StoreError::Conflict { constraint: "artifacts.quota", detail }) => Err(AppError::TooLarge(detail)),
        Err(StoreError::Conflict { constraint: "artifacts.limit", .. }) => Err(full()),
        Err(error) => Err(error.into()),
    }
}

/// Checks and cleans an evidence file on the blocking pool: parsing a PDF or decoding an image
/// is CPU work that would otherwise hold up every request on the same runtime thread.
async fn clean_evidence(bytes: Vec<u8>, declared: Option<String>) -> Result<(EvidenceType, Vec<u8>), AppError> {
    let cleaned = tokio::task::spawn_blocking(move || accept_evidence(&bytes, declared.as_deref())).await;
    match cleaned {
        Ok(result) => result.map_err(evidence_error),
        Err(error) => Err(AppError::internal(&error)),
    }
}

fn full() -> AppError {
    AppError::conflict(format!("a submission holds at most {MAX_ARTIFACTS} pieces of evidence: remove one to add another"))
}

/// Adds a text artefact.
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict`, `Invalid` for empty or overlong text.
pub async fn add_text(app: &App, actor: &Actor, id: SubmissionId, title: Option<&str>, body: &str) -> Result<Artifact, AppError> {
    let submission = own_submission(app, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    let body = clean_text(body).map_err(|message| AppError::invalid_field("/body", message))?.trim().to_string();
    if body.is_empty() {
        return Err(AppError::invalid_field("/body", "is required"));
    }
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid_field("/body", format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    let count = app.store.artifacts(id).await?.len();
    let title = artifact_title(title, count + 1)?;
    let new = NewArtifact { id: ArtifactId::new(), submission: id, title, body: ArtifactBody::Text { body } };
    Ok(app.store.add_artifact(&new, app.now()).await?)
}

fn artifact_title(title: Option<&str>, n: usize) -> Result<String, AppError> {
    let title = clean_text(title.unwrap_or("")).map_err(|message| AppError::invalid_field("/title", message))?.trim().to_string();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::invalid_field("/title", format!("must be at most {MAX_TITLE_CHARS} characters")));
    }
    Ok(if title.is_empty() { format!("Evidence {n}") } else { title })
}

fn evidence_error(error: EvidenceError) -> AppError {
    match error {
        EvidenceError::TooLarge { .. } => AppError::TooLarge(error.to_string()),
        EvidenceError::UnknownType | EvidenceError::TypeMismatch { .. } | EvidenceError::ExportToPdf { .. } | EvidenceError::Unsupported(_) => {
            AppError::UnsupportedMediaType(error.to_string())
        }
        EvidenceError::Empty | EvidenceError::Corrupt(_) | EvidenceError::Encrypted => AppError::invalid_field("/file", error.to_string()),
    }
}

/// SHA-256 of `bytes`, as lowercase hex (evidence files, imported badges).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes an artefact from a draft or a revision.
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict` when not editable.
pub async fn remove_artifact(app: &App, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<(), AppError> {
    let submission = own_submission(app, actor, id).await?;
    if !submission.status.is_editable() {
        return Err(not_editable(submission.status));
    }
    Ok(app.store.remove_artifact(id, artifact, app.now()).await?)
}

/// Sends the first attempt (from a draft) or a revised one (after "not yet"): whether it may go
/// is `cairn_core::submission::may_send` (state, fee, required parts, attempt limit); then the
/// assessor is picked, the due date set, duplicates flagged and the people concerned told.
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict` for the wrong state, a double submit, a fee due or
/// no attempts left, `Invalid` for missing parts.
pub async fn submit(app: &App, actor: &Actor, id: SubmissionId) -> Result<Submission, AppError> {
    let submission = own_submission(app, actor, id).await?;
    let organisation = app.store.submission_organisation(id).await?;
    let settings = app.store.issuer_settings(organisation).await?;
    let artifacts = app.store.artifacts(id).await?;
    let me = app.store.user(submission.learner).await?;
    let achievement = app.store.achievement(submission.achievement).await?;
    // Anyone named only by the autosave hears of it now, before the reflections are counted.
    tell_collaborators(app, &submission, &me, &achievement).await?;
    let missing = missing_reflections(&app.store.collaborator_reflections(id).await?);
    let (event, _) = may_send(&submission, artifacts.len(), &missing, &settings)?;
    let now = app.now();
    let assessor = pick_assessor(app, organisation, &submission).await?;
    let due_at = settings.due_at(now);
    let note = if event == Event::Resubmit { format!("attempt {} sent", submission.attempt + 1) } else { "attempt 1 sent".to_string() };
    let name = &achievement.content.name;
    let due = format_day(due_at);
    let code = submission.code();
    let body = format!("Your evidence for \"{name}\" was received. A decision is due by {due}.");
    let mut effects = vec![notice(submission.learner, NotificationKind::Submitted, format!("Submitted: {name}"), body, format!("/submissions/{id}"))];
    match assessor {
        Some(assessor) => {
            let body = format!("Submission {code} for \"{name}\" is in your queue, due {due}.");
            effects.push(notice(assessor, NotificationKind::Assignment, format!("New submission to assess: {code}"), body, format!("/assess/{id}")));
        }
        None => {
            let body = format!("Submission {code} for \"{name}\" has no eligible assessor: add assessors to the achievement's pool.");
            effects
                .extend(staff_notices(app, organisation, NotificationKind::Unassigned, &format!("No assessor for {code}"), &body, "/issuer/assessment").await?);
        }
    }
    effects.push(NewEffect::from(Effect::FlagDuplicates { submission: id }));
    effects.push(crate::webhooks::event(cairn_core::webhook::EventKind::SubmissionSubmitted, cairn_store::WebhookSubject::Submission(id), now));
    let sending = Sending { submission: id, learner: submission.learner, assessor, due_at, note };
    let updated = if event == Event::Resubmit {
        app.store.send_revision(&sending, &effects, now).await?
    } else {
        app.store.send_first_attempt(&sending, &effects, now).await?
    };
    effects::settle(app, &effects).await;
    Ok(updated)
}

/// Compares a sent attempt with the other learners' submissions for the same achievement and
/// records the matches on both sides (the `FlagDuplicates` effect; running it again finds the
/// same flags).
pub(crate) async fn flag_duplicates(app: &App, id: SubmissionId) -> Result<(), AppError> {
    let submission = app.store.submission(id).await?;
    let digests = app.store.evidence_digests(submission.achievement).await?;
    let Some(this) = digests.iter().find(|d| d.submission == submission.id) else { return Ok(()) };
    let flags = find_duplicates(this, &digests);
    let now = app.now();
    let others: Vec<SubmissionId> = flags.iter().map(|f| f.other).collect();
    app.store.set_duplicate_flags(submission.id, &flags, now).await?;
    for other in others {
        if let Some(digest) = digests.iter().find(|d| d.submission == other) {
            app.store.set_duplicate_flags(other, &find_duplicates(digest, &digests), now).await?;
        }
    }
    Ok(())
}

/// Withdraws a submission that is not being reviewed.
///
/// # Errors
/// `Unauthenticated`, `NotFound`, `Conflict` for the wrong state.
pub async fn withdraw(app: &App, actor: &Actor, id: SubmissionId) -> Result<Submission, AppError> {
    let submission = own_submission(app, actor, id).await?;
    transition(submission.status, Event::Withdraw)?;
    let learner = actor.user.ok_or(AppError::Unauthenticated)?;
    match crate::payments::refund_on_withdrawal(app, &submission).await? {
        Some(refunding) => {
            let withdrawn = app.store.withdraw_submission_refunding(id, submission.status, learner, &refunding.covers, &refunding.effects, app.now()).await?;
            effects::settle(app, &refunding.effects).await;
            Ok(withdrawn)
        }
        None => {
            let withdrawn = app.store.withdraw_submission(id, submission.status, learner, app.now()).await?;
            crate::payments::close_open(app, id).await;
            Ok(withdrawn)
        }
    }
}

/// Whether `submission` could be sent once its fee is paid: everything [`submit`] checks but the
/// fee (so nobody pays to find their work cannot go).
///
/// # Errors
/// As [`submit`], but never for the fee.
pub(crate) async fn sendable_once_paid(app: &App, submission: &Submission) -> Result<(), AppError> {
    let organisation = app.store.submission_organisation(submission.id).await?;
    let settings = app.store.issuer_settings(organisation).await?;
    let artifacts = app.store.artifacts(submission.id).await?;
    let missing = missing_reflections(&app.store.collaborator_reflections(submission.id).await?);
    let settled = Submission { fee: cairn_core::submission::FeeState::Paid, ..submission.clone() };
    may_send(&settled, artifacts.len(), &missing, &settings)?;
    Ok(())
}

/// Redeems a voucher for a submission whose fee is due.
///
/// # Errors
/// `Unauthenticated`, `NotFound` for an unknown submission or voucher, `Conflict` for a used
/// voucher or no fee due, `Invalid` for a malformed code.
pub async fn redeem_voucher(app: &App, actor: &Actor, id: SubmissionId, code: &str) -> Result<Submission, AppError> {
    let submission = own_submission(app, actor, id).await?;
    let code = voucher_code(code).map_err(|m| AppError::invalid_field("/code", m))?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let fee = FeeContext::load(app, &achievement).await?;
    app.store.redeem_voucher_covering(submission.id, &code, &fee.covers, app.now()).await?;
    Ok(app.store.submission(id).await?)
}

/// The collaborators who have not written their reflection yet, in the order named.
pub fn missing_reflections(reflections: &[(Email, String)]) -> Vec<Email> {
    reflections.iter().filter(|(_, text)| text.trim().is_empty()).map(|(email, _)| email.clone()).collect()
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
    /// Whether the learner may send (or, after "not yet", resend) this attempt as far as the
    /// attempt limit goes.
    pub attempts_allowed: bool,
    pub collaborator_reflections: Vec<(Email, String)>,
    /// The named collaborators whose reflection is missing: a warning, or what a submit waits
    /// for when the issuer requires them (`settings.collaborator_reflections`).
    pub missing_reflections: Vec<Email>,
    /// The fee: what this submission is charged, in words, and the rule.
    pub fee: FeeContext,
    pub due_state: Option<DueState>,
    /// Bytes the learner's evidence files with this issuer take (out of
    /// `settings.evidence_quota_bytes()`).
    pub evidence_used: u64,
    /// Set when the submission asks for prior learning to be recognised.
    pub prior_learning: Option<crate::recognition::PriorLearningShown>,
    /// Whether the issuer takes fees online (Stripe), and this submission's payments.
    pub pays_online: bool,
    pub payments: Vec<cairn_store::Payment>,
}

/// The learner's view of their submission.
///
/// # Errors
/// `Unauthenticated`, `NotFound` (also for someone else's submission).
pub async fn learner_view(app: &App, actor: &Actor, id: SubmissionId) -> Result<LearnerView, AppError> {
    let submission = own_submission(app, actor, id).await?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let organisation = app.store.organisation(achievement.organisation).await?;
    let settings = app.store.issuer_settings(organisation.id).await?;
    let rubric = achievement.assessment_rubric(submission.renewal_of.is_some());
    let artifacts = app.store.artifacts(id).await?;
    let feedback = app.store.assessments(id).await?.iter().map(|a| feedback_view(&rubric, a)).collect();
    let history = app
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
    let award = app.store.award_for_submission(id).await?;
    let attempts_left = settings.attempts_left(submission.attempt);
    let attempts_allowed = submission.status != Status::NotYet || settings.allows_attempt(submission.attempt);
    let collaborator_reflections = app.store.collaborator_reflections(id).await?;
    let missing_reflections = missing_reflections(&collaborator_reflections);
    let fee = FeeContext::load(app, &achievement).await?;
    let evidence_used = app.store.evidence_bytes(submission.learner, organisation.id).await?;
    let due_state = match (submission.status.clock_running(), submission.due_at) {
        (true, Some(due)) => Some(settings.calendar().due_state(app.now(), due, settings.nearly_due_days)),
        _ => None,
    };
    let pays_online = crate::payments::online(app, organisation.id).await?;
    Ok(LearnerView {
        submission,
        achievement,
        organisation,
        settings,
        artifacts,
        feedback,
        history,
        award,
        attempts_left,
        attempts_allowed,
        collaborator_reflections,
        missing_reflections,
        fee,
        due_state,
        evidence_used,
        prior_learning: crate::recognition::shown(app, id).await?,
        pays_online,
        payments: app.store.payments_of(id).await?,
    })
}

/// The actor's submissions, newest first.
///
/// # Errors
/// `Unauthenticated`.
pub async fn my_submissions(app: &App, actor: &Actor) -> Result<Vec<LearnerSubmission>, AppError> {
    let me = actor.user.ok_or(AppError::Unauthenticated)?;
    Ok(app.store.submissions_of(me).await?)
}

/// A file to hand out: its media type, a name and its bytes.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub media_type: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One of the learner's own evidence files (with its original name), or a text as a file.
///
/// # Errors
/// `Unauthenticated`, `NotFound`.
pub async fn learner_file(app: &App, actor: &Actor, id: SubmissionId, artifact: ArtifactId) -> Result<EvidenceFile, AppError> {
    own_submission(app, actor, id).await?;
    let artifact = app.store.artifact(artifact).await?;
    if artifact.submission != id {
        return Err(AppError::NotFound("artefact not found".into()));
    }
    match artifact.body {
        ArtifactBody::File { blob_key, media_type, original_name, .. } => {
            let bytes = app.store.blobs().get(&blob_key).await?;
            let name = if original_name.is_empty() { artifact.title.clone() } else { original_name };
            Ok(EvidenceFile { media_type, name, bytes })
        }
        ArtifactBody::Text { body } => {
            Ok(EvidenceFile { media_type: "text/plain; charset=utf-8".into(), name: format!("{}.txt", artifact.title), bytes: body.into_bytes() })
        }
    }
}

/// The submissions the actor is named on as a collaborator, with their own reflection on each.
///
/// # Errors
/// `Unauthenticated`.
pub async fn collaborations(app: &App, actor: &Actor) -> Result<(Email, Vec<Collaboration>), AppError> {
    let me = app.store.user(actor.user.ok_or(AppError::Unauthenticated)?).await?;
    let collaborations = app.store.collaborations_of(&me.email).await?;
    Ok((me.email, collaborations))
}

/// Writes a named collaborator's own reflection on a submission.
///
/// # Errors
/// `Unauthenticated`, `NotFound` when the actor is not named on it, `Conflict` once the work is
/// decided, `Invalid` when too long.
pub async fn write_collaborator_reflection(app: &App, actor: &Actor, id: SubmissionId, text: &str) -> Result<(), AppError> {
    let me = app.store.user(actor.user.ok_or(AppError::Unauthenticated)?).await?;
    let submission = app.store.submission(id).await?;
    if !submission.content.collaborators.contains(&me.email) {
        return Err(AppError::NotFound("you are not named as a collaborator on this submission".into()));
    }
    if submission.status.is_decided() {
        return Err(submission_state("this submission is already decided"));
    }
    let text = clean_text(text).map_err(|message| AppError::invalid_field("/reflection", message))?.trim().to_string();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid_field("/reflection", format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(app.store.set_collaborator_reflection(id, &me.email, &text, app.now()).await?)
}
