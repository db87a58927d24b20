//! The assessment journey up to the decision: issuer settings, assessor pools and conflicts of
//! interest, submissions with their collaborators and artefacts, the life cycle with its audit
//! trail and attempt snapshots, assessments, queues, the inputs of duplicate detection, fees and
//! vouchers.
//!
//! State changes are conditional `UPDATE`s (`… WHERE status = …`): of two concurrent requests
//! exactly one wins and the other gets [`StoreError::Conflict`]. Each multi-row write is one
//! transaction whose first statement is a write, so SQLite takes its write lock up front and
//! PostgreSQL locks the submission row before anything is read.

use crate::achievements::placeholders;
use crate::error::conflict_on_unique;
use crate::rows::{get_email, get_f64, get_i64, get_id, get_json, get_opt_i64, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::assessment::{DuplicateFlag, DuplicateKind, EvidenceDigest, Judgement, Score};
use cairn_core::ids::{AchievementId, ArtifactId, AssessmentId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{FeeState, IssuerSettings, MAX_ARTIFACTS, Outcome, Status, Submission, SubmissionContent};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;

pub(crate) type Tx = Transaction<'static, Any>;

/// Statuses in an assessor's queue (the service-window clock runs).
pub(crate) const QUEUED: &str = "('submitted', 'resubmitted', 'in_review')";
/// Statuses in which the learner may edit the evidence.
const EDITABLE: &str = "('draft', 'not_yet')";

/// The columns [`submission_from`] reads, from `submissions s`.
pub(crate) const SUBMISSION_COLUMNS: &str = "s.id, s.achievement_id, s.organisation_id, s.learner_id, s.status, s.attempt, s.overview, s.reflection, \
     s.links_json, s.fee_state, s.voucher_code, s.assessor_id, s.submitted_at, s.due_at, s.created_at, s.updated_at";

/// Joins `v`, the current version of the achievement of `s` (for its name).
pub(crate) const CURRENT_VERSION_JOIN: &str =
    "JOIN achievements a ON a.id = s.achievement_id JOIN achievement_versions v ON v.achievement_id = a.id AND v.version = a.current_version";

/// An assessor in an achievement's pool, with their current load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMember {
    pub user: UserId,
    pub name: String,
    pub email: Email,
    /// Open (queued: submitted, resubmitted or in review) submissions assigned to them, across
    /// all achievements.
    pub open: usize,
}

/// What starting a submission needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    pub id: SubmissionId,
    pub achievement: AchievementId,
    pub organisation: OrganisationId,
    pub learner: UserId,
    pub content: SubmissionContent,
    pub fee: FeeState,
}

/// A submission as its learner lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerSubmission {
    pub submission: Submission,
    /// The name of the achievement's current version.
    pub achievement_name: String,
    pub organisation_name: String,
    /// The award issued for it, once awarded.
    pub award: Option<cairn_core::ids::AwardId>,
}

/// A submission in which someone is named as a collaborator, with their own reflection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collaboration {
    pub submission: SubmissionId,
    pub achievement: AchievementId,
    pub achievement_name: String,
    pub email: Email,
    pub reflection: String,
    pub status: Status,
}

/// The content of an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactBody {
    /// An uploaded file in the blob store.
    File { blob_key: String, media_type: String, size: u64, sha256: String, original_name: String },
    /// A text written in the form.
    Text { body: String },
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub id: ArtifactId,
    pub submission: SubmissionId,
    pub title: String,
    pub body: ArtifactBody,
    /// The submission's attempt number when it was added.
    pub added_in_attempt: u32,
    pub created_at: OffsetDateTime,
}

impl Artifact {
    /// The label attempt snapshots record: `"<title> (<first 12 hex of the SHA-256>)"` for a
    /// file, `"<title> (text)"` for a text.
    pub fn label(&self) -> String {
        match &self.body {
            ArtifactBody::File { sha256, .. } => artifact_label(&self.title, Some(sha256)),
            ArtifactBody::Text { .. } => artifact_label(&self.title, None),
        }
    }
}

fn artifact_label(title: &str, sha256: Option<&str>) -> String {
    match sha256 {
        Some(hash) => format!("{title} ({})", hash.get(..12).unwrap_or(hash)),
        None => format!("{title} (text)"),
    }
}

/// What adding an artefact needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    pub id: ArtifactId,
    pub submission: SubmissionId,
    pub title: String,
    pub body: ArtifactBody,
}

/// A move of a submission's life cycle, decided by `cairn_core::submission::transition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub submission: SubmissionId,
    /// The status the caller saw: the move happens only if the submission is still in it
    /// (otherwise [`StoreError::Conflict`]).
    pub from: Status,
    pub to: Status,
    /// Who moved it; `None` for the system (a background job).
    pub actor: Option<UserId>,
    /// Words for the audit trail.
    pub note: String,
    /// `Some(x)` sets the assessor to `x`.
    pub assessor: Option<Option<UserId>>,
    /// `Some(x)` sets the due date to `x`.
    pub due_at: Option<Option<OffsetDateTime>>,
    /// Increments the attempt number (a resubmission); a snapshot is then of the new attempt.
    pub next_attempt: bool,
    /// Records the attempt as sent: overview, reflection, links, artefact labels, due date and
    /// assessor.
    pub snapshot: bool,
}

impl Transition {
    /// A plain move: no assessor or due date change, no new attempt, no snapshot.
    pub fn new(submission: SubmissionId, from: Status, to: Status, actor: Option<UserId>, note: impl Into<String>) -> Transition {
        Transition { submission, from, to, actor, note: note.into(), assessor: None, due_at: None, next_attempt: false, snapshot: false }
    }
}

/// One entry of a submission's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionEvent {
    /// `None` for the creation.
    pub from: Option<Status>,
    pub to: Status,
    pub actor: Option<UserId>,
    pub actor_name: Option<String>,
    pub note: String,
    pub at: OffsetDateTime,
}

/// An audit entry across an organisation (the audit export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgEvent {
    pub submission: SubmissionId,
    pub achievement_name: String,
    pub event: SubmissionEvent,
}

/// What one attempt contained when it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSnapshot {
    pub attempt: u32,
    pub overview: String,
    pub reflection: String,
    pub links: Vec<String>,
    /// Artefact labels (see [`Artifact::label`]).
    pub artifacts: Vec<String>,
    pub submitted_at: OffsetDateTime,
    /// The due date of the attempt (the sending time when none was set).
    pub due_at: OffsetDateTime,
    pub assessor: Option<UserId>,
}

/// One assessor's judgement of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub id: AssessmentId,
    pub submission: SubmissionId,
    pub attempt: u32,
    pub assessor: Option<UserId>,
    pub scores: Vec<Score>,
    pub feedback: String,
    pub outcome: Outcome,
    pub created_at: OffsetDateTime,
    /// The staff member who confirmed a pass (second stage).
    pub confirmed_by: Option<UserId>,
    pub confirmed_at: Option<OffsetDateTime>,
}

/// A submission in an assessor's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    pub submission: Submission,
    pub achievement_name: String,
    pub organisation: OrganisationId,
}

/// A submission in an issuer's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerQueueItem {
    pub submission: Submission,
    pub achievement_name: String,
    pub assessor_name: Option<String>,
}

/// A voucher code an issuer handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    pub code: String,
    /// The achievement it is valid for; `None` for any of the organisation's.
    pub achievement: Option<AchievementId>,
    pub created_at: OffsetDateTime,
    pub redeemed_by: Option<SubmissionId>,
    pub redeemed_at: Option<OffsetDateTime>,
}

/// The stored JSON form of a score.
#[derive(Serialize, Deserialize)]
struct ScoreRow {
    criterion: String,
    level: usize,
    comment: String,
}

fn status_from(raw: &str) -> Result<Status, StoreError> {
    Status::parse(raw).ok_or_else(|| StoreError::corrupt(format!("submission status \"{raw}\"")))
}

pub(crate) fn get_status(row: &AnyRow, column: &str) -> Result<Status, StoreError> {
    status_from(&get_string(row, column)?)
}

fn fee_from(state: &str, code: Option<String>) -> Result<FeeState, StoreError> {
    match (state, code) {
        ("none", _) => Ok(FeeState::None),
        ("due", _) => Ok(FeeState::Due),
        ("paid", _) => Ok(FeeState::Paid),
        ("waived", _) => Ok(FeeState::Waived),
        ("voucher", Some(code)) => Ok(FeeState::Voucher(code)),
        (other, _) => Err(StoreError::corrupt(format!("fee state \"{other}\""))),
    }
}

fn fee_code(fee: &FeeState) -> Option<String> {
    match fee {
        FeeState::Voucher(code) => Some(code.clone()),
        _ => None,
    }
}

fn fee_note(fee: &FeeState) -> String {
    match fee {
        FeeState::None => "no fee".into(),
        FeeState::Due => "fee due".into(),
        FeeState::Paid => "fee paid".into(),
        FeeState::Waived => "fee waived".into(),
        FeeState::Voucher(code) => format!("voucher {code} redeemed"),
    }
}

fn links_json(links: &[String]) -> String {
    serde_json::to_string(links).unwrap_or_else(|_| "[]".into())
}

/// Builds a submission from a row of [`SUBMISSION_COLUMNS`] and its collaborators.
pub(crate) fn submission_from(row: &AnyRow, collaborators: Vec<Email>) -> Result<Submission, StoreError> {
    Ok(Submission {
        id: get_id(row, "id")?,
        achievement: get_id(row, "achievement_id")?,
        learner: get_id(row, "learner_id")?,
        status: get_status(row, "status")?,
        attempt: get_u32(row, "attempt")?,
        content: SubmissionContent {
            overview: get_string(row, "overview")?,
            reflection: get_string(row, "reflection")?,
            links: get_json(row, "links_json")?,
            collaborators,
        },
        fee: fee_from(&get_string(row, "fee_state")?, get_opt_string(row, "voucher_code")?)?,
        assessor: get_opt_id(row, "assessor_id")?,
        submitted_at: get_opt_time(row, "submitted_at")?,
        due_at: get_opt_time(row, "due_at")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn artifact_from(row: &AnyRow) -> Result<Artifact, StoreError> {
    let kind = get_string(row, "kind")?;
    let body = match kind.as_str() {
        "file" => {
            let required = |column: &str| get_opt_string(row, column)?.ok_or_else(|| StoreError::corrupt(format!("file artefact without {column}")));
            ArtifactBody::File {
                blob_key: required("blob_key")?,
                media_type: required("media_type")?,
                size: get_opt_i64(row, "size_bytes")?.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                sha256: required("sha256")?,
                original_name: required("original_name")?,
            }
        }
        "text" => ArtifactBody::Text { body: get_opt_string(row, "body")?.unwrap_or_default() },
        other => return Err(StoreError::corrupt(format!("artefact kind \"{other}\""))),
    };
    Ok(Artifact {
        id: get_id(row, "id")?,
        submission: get_id(row, "submission_id")?,
        title: get_string(row, "title")?,
        body,
        added_in_attempt: get_u32(row, "added_in_attempt")?,
        created_at: get_time(row, "created_at")?,
    })
}

fn assessment_from(row: &AnyRow) -> Result<Assessment, StoreError> {
    let scores: Vec<ScoreRow> = get_json(row, "scores_json")?;
    let outcome = get_string(row, "outcome")?;
    Ok(Assessment {
        id: get_id(row, "id")?,
        submission: get_id(row, "submission_id")?,
        attempt: get_u32(row, "attempt")?,
        assessor: get_opt_id(row, "assessor_id")?,
        scores: scores.into_iter().map(|s| Score { criterion: s.criterion, level: s.level, comment: s.comment }).collect(),
        feedback: get_string(row, "feedback")?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| StoreError::corrupt(format!("outcome \"{outcome}\"")))?,
        created_at: get_time(row, "created_at")?,
        confirmed_by: get_opt_id(row, "confirmed_by")?,
        confirmed_at: get_opt_time(row, "confirmed_at")?,
    })
}

fn event_from(row: &AnyRow) -> Result<SubmissionEvent, StoreError> {
    Ok(SubmissionEvent {
        from: get_opt_string(row, "from_status")?.as_deref().map(status_from).transpose()?,
        to: get_status(row, "to_status")?,
        actor: get_opt_id(row, "actor_id")?,
        actor_name: get_opt_string(row, "actor_name")?,
        note: get_string(row, "note")?,
        at: get_time(row, "at")?,
    })
}

fn voucher_from(row: &AnyRow) -> Result<Voucher, StoreError> {
    Ok(Voucher {
        code: get_string(row, "code")?,
        achievement: get_opt_id(row, "achievement_id")?,
        created_at: get_time(row, "created_at")?,
        redeemed_by: get_opt_id(row, "redeemed_by_submission")?,
        redeemed_at: get_opt_time(row, "redeemed_at")?,
    })
}

fn not_editable() -> StoreError {
    StoreError::Conflict { constraint: "submissions.editable", detail: "this submission can no longer be edited".into() }
}

/// Why a conditional update of submission `id` matched nothing: it does not exist
/// ([`StoreError::NotFound`]) or it is in another state (`conflict`, given its status).
async fn explain_miss(tx: &mut Tx, id: SubmissionId, conflict: impl FnOnce(Status) -> StoreError) -> StoreError {
    let row = sqlx::query("SELECT status FROM submissions WHERE id = $1").bind(id.to_string()).fetch_optional(&mut **tx).await;
    match row {
        Ok(None) => StoreError::not_found("submission", id),
        Ok(Some(row)) => match get_status(&row, "status") {
            Ok(status) => conflict(status),
            Err(error) => error,
        },
        Err(error) => StoreError::Backend(error),
    }
}

/// Appends an audit entry (the next `seq` of the submission).
pub(crate) async fn insert_event(
    tx: &mut Tx,
    submission: SubmissionId,
    from: Option<Status>,
    to: Status,
    actor: Option<UserId>,
    note: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "INSERT INTO submission_events (id, submission_id, organisation_id, from_status, to_status, actor_id, note, at, seq) \
         SELECT $1, s.id, s.organisation_id, $2, $3, $4, $5, $6, COALESCE((SELECT MAX(e.seq) FROM submission_events e WHERE e.submission_id = s.id), 0) + 1 \
         FROM submissions s WHERE s.id = $7",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(from.map(|s| s.as_str().to_string()))
    .bind(to.as_str())
    .bind(actor.map(|a| a.to_string()))
    .bind(note)
    .bind(secs(now))
    .bind(submission.to_string())
    .execute(&mut **tx)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("submission", submission));
    }
    Ok(())
}

/// Applies a [`Transition`] inside `tx`: the conditional update, its audit entry and, when asked,
/// the attempt snapshot.
pub(crate) async fn apply_transition(tx: &mut Tx, t: &Transition, now: OffsetDateTime) -> Result<(), StoreError> {
    let sent = t.from != t.to && matches!(t.to, Status::Submitted | Status::Resubmitted);
    let flag = |b: bool| i64::from(b);
    let result = sqlx::query(
        "UPDATE submissions SET status = $1, updated_at = $2, attempt = attempt + $3, \
         assessor_id = CASE WHEN $4 = 1 THEN $5 ELSE assessor_id END, \
         due_at = CASE WHEN $6 = 1 THEN $7 ELSE due_at END, \
         submitted_at = CASE WHEN $8 = 1 THEN $2 ELSE submitted_at END, \
         escalated_at = CASE WHEN $8 = 1 THEN NULL ELSE escalated_at END \
         WHERE id = $9 AND status = $10",
    )
    .bind(t.to.as_str())
    .bind(secs(now))
    .bind(flag(t.next_attempt))
    .bind(flag(t.assessor.is_some()))
    .bind(t.assessor.flatten().map(|a| a.to_string()))
    .bind(flag(t.due_at.is_some()))
    .bind(t.due_at.flatten().map(secs))
    .bind(flag(sent))
    .bind(t.submission.to_string())
    .bind(t.from.as_str())
    .execute(&mut **tx)
    .await?;
    if result.rows_affected() == 0 {
        return Err(explain_miss(tx, t.submission, |status| StoreError::Conflict {
            constraint: "submissions.status",
            detail: format!("this submission was changed meanwhile: it is now {}", status.label().to_lowercase()),
        })
        .await);
    }
    insert_event(tx, t.submission, Some(t.from), t.to, t.actor, &t.note, now).await?;
    if t.snapshot {
        insert_snapshot(tx, t.submission, now).await?;
    }
    Ok(())
}

/// Records the current attempt as sent.
async fn insert_snapshot(tx: &mut Tx, submission: SubmissionId, now: OffsetDateTime) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT attempt, overview, reflection, links_json, due_at, assessor_id FROM submissions WHERE id = $1")
        .bind(submission.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("submission", submission))?;
    let attempt = get_i64(&row, "attempt")?;
    let labels = sqlx::query("SELECT title, kind, sha256 FROM artifacts WHERE submission_id = $1 AND removed_in_attempt IS NULL ORDER BY position")
        .bind(submission.to_string())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|a| {
            let sha = if get_string(a, "kind")? == "file" { get_opt_string(a, "sha256")? } else { None };
            Ok(artifact_label(&get_string(a, "title")?, sha.as_deref()))
        })
        .collect::<Result<Vec<String>, StoreError>>()?;
    sqlx::query(
        "INSERT INTO submission_attempts (submission_id, attempt, overview, reflection, links_json, artifacts_json, submitted_at, due_at, assessor_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(submission.to_string())
    .bind(attempt)
    .bind(get_string(&row, "overview")?)
    .bind(get_string(&row, "reflection")?)
    .bind(get_string(&row, "links_json")?)
    .bind(serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into()))
    .bind(secs(now))
    .bind(get_opt_i64(&row, "due_at")?.unwrap_or(secs(now)))
    .bind(get_opt_string(&row, "assessor_id")?)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("submission_attempts.attempt", format!("attempt {attempt} of this submission was already recorded")))?;
    Ok(())
}

impl Store {
    // ---------- settings, pools, conflicts ----------

    /// An issuer's assessment settings ([`IssuerSettings::default`] until they are saved).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn issuer_settings(&self, organisation: OrganisationId) -> Result<IssuerSettings, StoreError> {
        let row =
            sqlx::query("SELECT service_days, nearly_due_days, attempt_limit, confirm_passes, holidays_json FROM issuer_settings WHERE organisation_id = $1")
                .bind(organisation.to_string())
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(IssuerSettings::default()) };
        let holidays: Vec<String> = get_json(&row, "holidays_json")?;
        Ok(IssuerSettings {
            service_days: get_u32(&row, "service_days")?,
            nearly_due_days: get_u32(&row, "nearly_due_days")?,
            attempt_limit: get_opt_i64(&row, "attempt_limit")?
                .map(|n| u32::try_from(n).map_err(|_| StoreError::corrupt(format!("attempt limit {n}"))))
                .transpose()?,
            confirm_passes: get_i64(&row, "confirm_passes")? != 0,
            holidays: cairn_core::calendar::parse_holidays(&holidays.join(",")).map_err(StoreError::corrupt)?,
        })
    }

    /// Saves an issuer's assessment settings.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown organisation included).
    pub async fn set_issuer_settings(&self, organisation: OrganisationId, settings: &IssuerSettings, now: OffsetDateTime) -> Result<(), StoreError> {
        let holidays: Vec<String> = settings.holidays.iter().map(|d| cairn_core::calendar::format_date(*d)).collect();
        sqlx::query(
            "INSERT INTO issuer_settings (organisation_id, service_days, nearly_due_days, attempt_limit, confirm_passes, holidays_json, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (organisation_id) DO UPDATE SET service_days = excluded.service_days, \
             nearly_due_days = excluded.nearly_due_days, attempt_limit = excluded.attempt_limit, confirm_passes = excluded.confirm_passes, \
             holidays_json = excluded.holidays_json, updated_at = excluded.updated_at",
        )
        .bind(organisation.to_string())
        .bind(i64::from(settings.service_days))
        .bind(i64::from(settings.nearly_due_days))
        .bind(settings.attempt_limit.map(i64::from))
        .bind(i64::from(settings.confirm_passes))
        .bind(serde_json::to_string(&holidays).unwrap_or_else(|_| "[]".into()))
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The assessors of an achievement, by name, with their open load.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn pool(&self, achievement: AchievementId) -> Result<Vec<PoolMember>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT p.user_id, u.name, u.email, (SELECT COUNT(*) FROM submissions s WHERE s.assessor_id = p.user_id AND s.status IN {QUEUED}) AS open_count \
             FROM assessor_pools p JOIN users u ON u.id = p.user_id WHERE p.achievement_id = $1 ORDER BY u.name, u.email"
        ))
        .bind(achievement.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PoolMember {
                    user: get_id(row, "user_id")?,
                    name: get_string(row, "name")?,
                    email: get_email(row, "email")?,
                    open: usize::try_from(get_i64(row, "open_count")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Adds an assessor to an achievement's pool (idempotent).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown achievement or user included).
    pub async fn add_to_pool(&self, achievement: AchievementId, user: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO assessor_pools (achievement_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (achievement_id, user_id) DO NOTHING")
            .bind(achievement.to_string())
            .bind(user.to_string())
            .bind(secs(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes an assessor from an achievement's pool (idempotent). Submissions already assigned
    /// to them stay assigned.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn remove_from_pool(&self, achievement: AchievementId, user: UserId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM assessor_pools WHERE achievement_id = $1 AND user_id = $2")
            .bind(achievement.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The achievements whose pools include `assessor`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn pools_of(&self, assessor: UserId) -> Result<Vec<AchievementId>, StoreError> {
        let rows = sqlx::query("SELECT achievement_id FROM assessor_pools WHERE user_id = $1 ORDER BY created_at, achievement_id")
            .bind(assessor.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| get_id(row, "achievement_id")).collect()
    }

    /// Records an assessor's declared conflict of interest with a learner (idempotent).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn declare_conflict(&self, organisation: OrganisationId, assessor: UserId, learner: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO assessor_conflicts (organisation_id, assessor_id, learner_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organisation_id, assessor_id, learner_id) DO NOTHING",
        )
        .bind(organisation.to_string())
        .bind(assessor.to_string())
        .bind(learner.to_string())
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The assessors of `organisation` who declared a conflict with `learner`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn conflicted_assessors(&self, organisation: OrganisationId, learner: UserId) -> Result<Vec<UserId>, StoreError> {
        let rows = sqlx::query("SELECT assessor_id FROM assessor_conflicts WHERE organisation_id = $1 AND learner_id = $2 ORDER BY assessor_id")
            .bind(organisation.to_string())
            .bind(learner.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| get_id(row, "assessor_id")).collect()
    }

    // ---------- submissions ----------

    /// Runs `sql` (selecting [`SUBMISSION_COLUMNS`] plus any extras) and builds the submissions
    /// with their collaborators; the rows are returned for the extras.
    pub(crate) async fn load_submissions(&self, sql: &str, binds: &[String]) -> Result<Vec<(AnyRow, Submission)>, StoreError> {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(bind.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let ids: Vec<String> = rows.iter().map(|row| get_string(row, "id")).collect::<Result<_, _>>()?;
        let collaborators = self.collaborator_emails(&ids).await?;
        rows.into_iter()
            .map(|row| {
                let id = get_string(&row, "id")?;
                let submission = submission_from(&row, collaborators.get(&id).cloned().unwrap_or_default())?;
                Ok((row, submission))
            })
            .collect()
    }

    /// Collaborators' e-mails of `ids`, by submission id, in position order.
    async fn collaborator_emails(&self, ids: &[String]) -> Result<HashMap<String, Vec<Email>>, StoreError> {
        let mut by_id: HashMap<String, Vec<Email>> = HashMap::new();
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(200) {
            let sql = format!(
                "SELECT submission_id, email FROM submission_collaborators WHERE submission_id IN ({}) ORDER BY submission_id, position",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                by_id.entry(get_string(&row, "submission_id")?).or_default().push(get_email(&row, "email")?);
            }
        }
        Ok(by_id)
    }

    /// Starts a draft (attempt 1) with its collaborators and the first audit entry, in one
    /// transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`submissions.live`) when the learner already has a submission
    /// for this achievement that is not withdrawn; nothing is written then.
    #[tracing::instrument(skip_all, fields(submission_id = %new.id))]
    pub async fn create_submission(&self, new: &NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO submissions (id, achievement_id, organisation_id, learner_id, status, attempt, overview, reflection, links_json, fee_state, \
             voucher_code, created_at, updated_at) VALUES ($1, $2, $3, $4, 'draft', 1, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(new.id.to_string())
        .bind(new.achievement.to_string())
        .bind(new.organisation.to_string())
        .bind(new.learner.to_string())
        .bind(&new.content.overview)
        .bind(&new.content.reflection)
        .bind(links_json(&new.content.links))
        .bind(new.fee.as_str())
        .bind(fee_code(&new.fee))
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("submissions.live", "you already have a submission for this achievement"))?;
        replace_collaborators(&mut tx, new.id, &new.content.collaborators, now).await?;
        insert_event(&mut tx, new.id, None, Status::Draft, Some(new.learner), "started", now).await?;
        tx.commit().await?;
        self.submission(new.id).await
    }

    /// One submission, with its collaborators in the order named.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn submission(&self, id: SubmissionId) -> Result<Submission, StoreError> {
        self.load_submissions(&format!("SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.id = $1"), &[id.to_string()])
            .await?
            .pop()
            .map(|(_, s)| s)
            .ok_or_else(|| StoreError::not_found("submission", id))
    }

    /// The organisation a submission belongs to.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn submission_organisation(&self, id: SubmissionId) -> Result<OrganisationId, StoreError> {
        let row = sqlx::query("SELECT organisation_id FROM submissions WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("submission", id))?;
        get_id(&row, "organisation_id")
    }

    /// A learner's submissions, newest first, withdrawn ones included.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn submissions_of(&self, learner: UserId) -> Result<Vec<LearnerSubmission>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS}, v.name AS achievement_name, o.name AS organisation_name, aw.id AS award_id FROM submissions s {CURRENT_VERSION_JOIN} \
             JOIN organisations o ON o.id = s.organisation_id LEFT JOIN awards aw ON aw.submission_id = s.id \
             WHERE s.learner_id = $1 ORDER BY s.created_at DESC, s.updated_at DESC, s.id"
        );
        self.load_submissions(&sql, &[learner.to_string()])
            .await?
            .into_iter()
            .map(|(row, submission)| {
                Ok(LearnerSubmission {
                    submission,
                    achievement_name: get_string(&row, "achievement_name")?,
                    organisation_name: get_string(&row, "organisation_name")?,
                    award: get_opt_id(&row, "award_id")?,
                })
            })
            .collect()
    }

    /// Replaces the text parts and collaborators of a draft or a "not yet" being revised. A
    /// collaborator still named keeps their reflection.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Conflict`]
    /// (`submissions.editable`) once the submission is in any other status.
    #[tracing::instrument(skip_all, fields(submission_id = %id))]
    pub async fn update_content(&self, id: SubmissionId, content: &SubmissionContent, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(&format!(
            "UPDATE submissions SET overview = $1, reflection = $2, links_json = $3, updated_at = $4 WHERE id = $5 AND status IN {EDITABLE}"
        ))
        .bind(&content.overview)
        .bind(&content.reflection)
        .bind(links_json(&content.links))
        .bind(secs(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, id, |_| not_editable()).await);
        }
        replace_collaborators(&mut tx, id, &content.collaborators, now).await?;
        tx.commit().await?;
        self.submission(id).await
    }

    /// The submissions naming `email` as a collaborator, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn collaborations_of(&self, email: &Email) -> Result<Vec<Collaboration>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT c.submission_id, s.achievement_id, v.name AS achievement_name, c.email, c.reflection, s.status FROM submission_collaborators c \
             JOIN submissions s ON s.id = c.submission_id {CURRENT_VERSION_JOIN} WHERE c.email = $1 ORDER BY s.created_at DESC, s.id"
        ))
        .bind(email.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Collaboration {
                    submission: get_id(row, "submission_id")?,
                    achievement: get_id(row, "achievement_id")?,
                    achievement_name: get_string(row, "achievement_name")?,
                    email: get_email(row, "email")?,
                    reflection: get_string(row, "reflection")?,
                    status: get_status(row, "status")?,
                })
            })
            .collect()
    }

    /// Saves a collaborator's own reflection.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when `email` is not named on the submission.
    pub async fn set_collaborator_reflection(&self, submission: SubmissionId, email: &Email, text: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE submission_collaborators SET reflection = $1, updated_at = $2 WHERE submission_id = $3 AND email = $4")
            .bind(text)
            .bind(secs(now))
            .bind(submission.to_string())
            .bind(email.as_str())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("collaborator", format!("{email} on {submission}")));
        }
        Ok(())
    }

    /// Every collaborator's reflection (empty until written), in the order named.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn collaborator_reflections(&self, submission: SubmissionId) -> Result<Vec<(Email, String)>, StoreError> {
        let rows = sqlx::query("SELECT email, reflection FROM submission_collaborators WHERE submission_id = $1 ORDER BY position")
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((get_email(row, "email")?, get_string(row, "reflection")?))).collect()
    }

    // ---------- artefacts ----------

    /// Adds an artefact to an editable submission, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.editable`) when it can no longer be edited, (`artifacts.limit`) when it
    /// already has [`MAX_ARTIFACTS`] live artefacts, (`artifacts.id`) for a reused id.
    #[tracing::instrument(skip_all, fields(submission_id = %new.submission))]
    pub async fn add_artifact(&self, new: &NewArtifact, now: OffsetDateTime) -> Result<Artifact, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND status IN {EDITABLE}"))
            .bind(secs(now))
            .bind(new.submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, new.submission, |_| not_editable()).await);
        }
        let row = sqlx::query(
            "SELECT s.attempt, (SELECT COUNT(*) FROM artifacts a WHERE a.submission_id = s.id AND a.removed_in_attempt IS NULL) AS live, \
             (SELECT COALESCE(MAX(a.position), 0) FROM artifacts a WHERE a.submission_id = s.id) AS last_position FROM submissions s WHERE s.id = $1",
        )
        .bind(new.submission.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let attempt = get_u32(&row, "attempt")?;
        if get_i64(&row, "live")? >= MAX_ARTIFACTS as i64 {
            return Err(StoreError::Conflict { constraint: "artifacts.limit", detail: format!("at most {MAX_ARTIFACTS} artefacts") });
        }
        let (kind, body, blob_key, media_type, size, sha256, original_name) = match &new.body {
            ArtifactBody::File { blob_key, media_type, size, sha256, original_name } => (
                "file",
                None,
                Some(blob_key.clone()),
                Some(media_type.clone()),
                Some(i64::try_from(*size).unwrap_or(i64::MAX)),
                Some(sha256.clone()),
                Some(original_name.clone()),
            ),
            ArtifactBody::Text { body } => ("text", Some(body.clone()), None, None, None, None, None),
        };
        sqlx::query(
            "INSERT INTO artifacts (id, submission_id, kind, title, body, blob_key, media_type, size_bytes, sha256, original_name, position, \
             added_in_attempt, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new.id.to_string())
        .bind(new.submission.to_string())
        .bind(kind)
        .bind(&new.title)
        .bind(body)
        .bind(blob_key)
        .bind(media_type)
        .bind(size)
        .bind(sha256)
        .bind(original_name)
        .bind(get_i64(&row, "last_position")? + 1)
        .bind(i64::from(attempt))
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("artifacts.id", format!("artefact {} already exists", new.id)))?;
        tx.commit().await?;
        Ok(Artifact { id: new.id, submission: new.submission, title: new.title.clone(), body: new.body.clone(), added_in_attempt: attempt, created_at: now })
    }

    /// Removes a live artefact from an editable submission. One that was never sent (added after
    /// the last time the submission was sent) is deleted; one that was sent is kept for the
    /// history, marked removed in the current attempt.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission or an artefact that is not a live one
    /// of it, [`StoreError::Conflict`] (`submissions.editable`) when it can no longer be edited.
    #[tracing::instrument(skip_all, fields(submission_id = %submission, artifact_id = %artifact))]
    pub async fn remove_artifact(&self, submission: SubmissionId, artifact: ArtifactId, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND status IN {EDITABLE}"))
            .bind(secs(now))
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, submission, |_| not_editable()).await);
        }
        let row = sqlx::query(
            "SELECT a.created_at, s.submitted_at, s.attempt FROM artifacts a JOIN submissions s ON s.id = a.submission_id \
             WHERE a.id = $1 AND a.submission_id = $2 AND a.removed_in_attempt IS NULL",
        )
        .bind(artifact.to_string())
        .bind(submission.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("artefact", artifact))?;
        let never_sent = match get_opt_i64(&row, "submitted_at")? {
            None => true,
            Some(sent) => get_i64(&row, "created_at")? > sent,
        };
        if never_sent {
            sqlx::query("DELETE FROM artifacts WHERE id = $1").bind(artifact.to_string()).execute(&mut *tx).await?;
        } else {
            sqlx::query("UPDATE artifacts SET removed_in_attempt = $1 WHERE id = $2")
                .bind(get_i64(&row, "attempt")?)
                .bind(artifact.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A submission's live artefacts, in the order added.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn artifacts(&self, submission: SubmissionId) -> Result<Vec<Artifact>, StoreError> {
        let rows = sqlx::query("SELECT * FROM artifacts WHERE submission_id = $1 AND removed_in_attempt IS NULL ORDER BY position")
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(artifact_from).collect()
    }

    /// One artefact, removed ones included (for the history).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn artifact(&self, id: ArtifactId) -> Result<Artifact, StoreError> {
        let row = sqlx::query("SELECT * FROM artifacts WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("artefact", id))?;
        artifact_from(&row)
    }

    // ---------- life cycle ----------

    /// Moves a submission, in one transaction: the conditional update (only if it is still in
    /// `from`), its audit entry and, when asked, the attempt snapshot. Sending (to submitted or
    /// resubmitted from another status) sets `submitted_at` and clears any escalation; a move
    /// to the same status (e.g. a reassignment) only applies its assessor and due date.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission, [`StoreError::Conflict`]
    /// (`submissions.status`) when it is no longer in `from`; nothing changes then.
    #[tracing::instrument(skip_all, fields(submission_id = %t.submission, from = t.from.as_str(), to = t.to.as_str()))]
    pub async fn transition(&self, t: &Transition, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let mut tx = self.pool.begin().await?;
        apply_transition(&mut tx, t, now).await?;
        tx.commit().await?;
        self.submission(t.submission).await
    }

    /// A submission's audit trail, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn events(&self, submission: SubmissionId) -> Result<Vec<SubmissionEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.from_status, e.to_status, e.actor_id, u.name AS actor_name, e.note, e.at FROM submission_events e \
             LEFT JOIN users u ON u.id = e.actor_id WHERE e.submission_id = $1 ORDER BY e.seq",
        )
        .bind(submission.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from).collect()
    }

    /// Every audit entry of an organisation's submissions, oldest first (the audit export).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn organisation_events(&self, organisation: OrganisationId) -> Result<Vec<OrgEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.submission_id, v.name AS achievement_name, e.from_status, e.to_status, e.actor_id, u.name AS actor_name, e.note, e.at \
             FROM submission_events e JOIN submissions s ON s.id = e.submission_id {CURRENT_VERSION_JOIN} LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.organisation_id = $1 ORDER BY e.at, e.submission_id, e.seq"
        ))
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OrgEvent { submission: get_id(row, "submission_id")?, achievement_name: get_string(row, "achievement_name")?, event: event_from(row)? })
            })
            .collect()
    }

    /// What each attempt contained when sent, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn attempts(&self, submission: SubmissionId) -> Result<Vec<AttemptSnapshot>, StoreError> {
        let rows = sqlx::query("SELECT * FROM submission_attempts WHERE submission_id = $1 ORDER BY attempt")
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AttemptSnapshot {
                    attempt: get_u32(row, "attempt")?,
                    overview: get_string(row, "overview")?,
                    reflection: get_string(row, "reflection")?,
                    links: get_json(row, "links_json")?,
                    artifacts: get_json(row, "artifacts_json")?,
                    submitted_at: get_time(row, "submitted_at")?,
                    due_at: get_time(row, "due_at")?,
                    assessor: get_opt_id(row, "assessor_id")?,
                })
            })
            .collect()
    }

    // ---------- assessment ----------

    /// Records the assigned assessor's judgement of the current attempt, in one transaction: the
    /// submission moves to passed or not yet (only if it is still queued and assigned to
    /// `assessor`), the assessment and the audit entry are written.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.assessment`) when it was already assessed or is not assigned to `assessor`,
    /// (`assessments.attempt`) when the attempt already has an assessment. Nothing is written
    /// then.
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn record_assessment(
        &self,
        submission: SubmissionId,
        assessor: UserId,
        judgement: &Judgement,
        now: OffsetDateTime,
    ) -> Result<Assessment, StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND assessor_id = $3 AND status IN {QUEUED}"))
            .bind(secs(now))
            .bind(submission.to_string())
            .bind(assessor.to_string())
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, submission, |_| StoreError::Conflict {
                constraint: "submissions.assessment",
                detail: "this submission has already been assessed or is not assigned to you".into(),
            })
            .await);
        }
        let row = sqlx::query("SELECT status, attempt FROM submissions WHERE id = $1").bind(submission.to_string()).fetch_one(&mut *tx).await?;
        let from = get_status(&row, "status")?;
        let attempt = get_u32(&row, "attempt")?;
        let to = match judgement.outcome {
            Outcome::Pass => Status::Passed,
            Outcome::NotYet => Status::NotYet,
        };
        sqlx::query("UPDATE submissions SET status = $1 WHERE id = $2").bind(to.as_str()).bind(submission.to_string()).execute(&mut *tx).await?;
        let id = AssessmentId::new();
        let scores: Vec<ScoreRow> =
            judgement.scores.iter().map(|s| ScoreRow { criterion: s.criterion.clone(), level: s.level, comment: s.comment.clone() }).collect();
        sqlx::query(
            "INSERT INTO assessments (id, submission_id, attempt, assessor_id, scores_json, feedback, outcome, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(submission.to_string())
        .bind(i64::from(attempt))
        .bind(assessor.to_string())
        .bind(serde_json::to_string(&scores).unwrap_or_else(|_| "[]".into()))
        .bind(&judgement.feedback)
        .bind(judgement.outcome.as_str())
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("assessments.attempt", "this attempt has already been assessed"))?;
        let note = match judgement.outcome {
            Outcome::Pass => "assessed: pass",
            Outcome::NotYet => "assessed: not yet",
        };
        insert_event(&mut tx, submission, Some(from), to, Some(assessor), note, now).await?;
        tx.commit().await?;
        Ok(Assessment {
            id,
            submission,
            attempt,
            assessor: Some(assessor),
            scores: judgement.scores.clone(),
            feedback: judgement.feedback.clone(),
            outcome: judgement.outcome,
            created_at: now,
            confirmed_by: None,
            confirmed_at: None,
        })
    }

    /// A submission's assessments, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn assessments(&self, submission: SubmissionId) -> Result<Vec<Assessment>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM assessments WHERE submission_id = $1 ORDER BY attempt").bind(submission.to_string()).fetch_all(&self.pool).await?;
        rows.iter().map(assessment_from).collect()
    }

    /// Records a staff member's confirmation of the latest assessment, a pass (second stage).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the submission has no assessment; [`StoreError::Conflict`]
    /// (`assessments.confirmed`) when the latest is not a pass or was already confirmed.
    pub async fn confirm_pass(&self, submission: SubmissionId, staff: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(
            "UPDATE assessments SET confirmed_by = $1, confirmed_at = $2 WHERE submission_id = $3 AND outcome = 'pass' AND confirmed_at IS NULL \
             AND attempt = (SELECT MAX(l.attempt) FROM assessments l WHERE l.submission_id = $3)",
        )
        .bind(staff.to_string())
        .bind(secs(now))
        .bind(submission.to_string())
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            let latest = sqlx::query("SELECT outcome, confirmed_at FROM assessments WHERE submission_id = $1 ORDER BY attempt DESC")
                .bind(submission.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("assessment", submission))?;
            let detail = if get_string(&latest, "outcome")? != Outcome::Pass.as_str() {
                "the latest assessment is not a pass"
            } else {
                "this pass was already confirmed"
            };
            return Err(StoreError::Conflict { constraint: "assessments.confirmed", detail: detail.into() });
        }
        tx.commit().await?;
        Ok(())
    }

    /// The queued submissions (submitted, resubmitted, in review) assigned to `assessor`, the
    /// soonest due first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn assessor_queue(&self, assessor: UserId) -> Result<Vec<QueueItem>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS}, v.name AS achievement_name FROM submissions s {CURRENT_VERSION_JOIN} \
             WHERE s.assessor_id = $1 AND s.status IN {QUEUED} ORDER BY CASE WHEN s.due_at IS NULL THEN 1 ELSE 0 END, s.due_at, s.submitted_at, s.id"
        );
        self.load_submissions(&sql, &[assessor.to_string()])
            .await?
            .into_iter()
            .map(|(row, submission)| {
                Ok(QueueItem { submission, achievement_name: get_string(&row, "achievement_name")?, organisation: get_id(&row, "organisation_id")? })
            })
            .collect()
    }

    /// Every submission of an organisation that is sent and not yet finished (not withdrawn or
    /// awarded), plus drafts whose fee is due (staff settle those), the soonest due first and
    /// undated ones last.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn issuer_queue(&self, organisation: OrganisationId) -> Result<Vec<IssuerQueueItem>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS}, v.name AS achievement_name, u.name AS assessor_name FROM submissions s {CURRENT_VERSION_JOIN} \
             LEFT JOIN users u ON u.id = s.assessor_id WHERE s.organisation_id = $1 \
             AND (s.status NOT IN ('draft', 'withdrawn', 'awarded') OR (s.status = 'draft' AND s.fee_state = 'due')) \
             ORDER BY CASE WHEN s.due_at IS NULL THEN 1 ELSE 0 END, s.due_at, s.submitted_at, s.id"
        );
        self.load_submissions(&sql, &[organisation.to_string()])
            .await?
            .into_iter()
            .map(|(row, submission)| {
                Ok(IssuerQueueItem {
                    submission,
                    achievement_name: get_string(&row, "achievement_name")?,
                    assessor_name: get_opt_string(&row, "assessor_name")?,
                })
            })
            .collect()
    }

    /// An organisation's queued submissions without an assessor (to retry assignment when a
    /// pool grows), oldest sent first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn unassigned(&self, organisation: OrganisationId) -> Result<Vec<Submission>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.organisation_id = $1 AND s.status IN {QUEUED} AND s.assessor_id IS NULL \
             ORDER BY s.submitted_at, s.id"
        );
        Ok(self.load_submissions(&sql, &[organisation.to_string()]).await?.into_iter().map(|(_, s)| s).collect())
    }

    /// Queued submissions with a due date that were not escalated yet, with their organisation,
    /// the soonest due first. The caller decides with the issuer's calendar which are late or
    /// nearly due (`now` is not used to filter).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn escalation_candidates(&self, _now: OffsetDateTime) -> Result<Vec<(Submission, OrganisationId)>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.status IN {QUEUED} AND s.due_at IS NOT NULL AND s.escalated_at IS NULL \
             ORDER BY s.due_at, s.id"
        );
        self.load_submissions(&sql, &[]).await?.into_iter().map(|(row, s)| Ok((s, get_id(&row, "organisation_id")?))).collect()
    }

    /// Records that a submission was escalated (keeps the first time).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn mark_escalated(&self, submission: SubmissionId, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE submissions SET escalated_at = COALESCE(escalated_at, $1) WHERE id = $2")
            .bind(secs(now))
            .bind(submission.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("submission", submission));
        }
        Ok(())
    }

    // ---------- duplicates ----------

    /// What duplicate detection compares, for every sent submission of an achievement (not a
    /// draft or withdrawn): the overview and text artefacts, the reflection, the SHA-256 of live
    /// files, and the accounts whose e-mail the learner named as collaborators.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn evidence_digests(&self, achievement: AchievementId) -> Result<Vec<EvidenceDigest>, StoreError> {
        const SENT: &str = "s.achievement_id = $1 AND s.status NOT IN ('draft', 'withdrawn')";
        let id = achievement.to_string();
        let submissions =
            sqlx::query(&format!("SELECT s.id, s.learner_id, s.overview, s.reflection FROM submissions s WHERE {SENT} ORDER BY s.created_at, s.id"))
                .bind(&id)
                .fetch_all(&self.pool)
                .await?;
        let mut digests: Vec<EvidenceDigest> = Vec::with_capacity(submissions.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &submissions {
            index.insert(get_string(row, "id")?, digests.len());
            digests.push(EvidenceDigest {
                submission: get_id(row, "id")?,
                learner: get_id(row, "learner_id")?,
                collaborators: Vec::new(),
                text: get_string(row, "overview")?,
                reflection: get_string(row, "reflection")?,
                file_hashes: Vec::new(),
            });
        }
        let artifacts = sqlx::query(&format!(
            "SELECT a.submission_id, a.kind, a.body, a.sha256 FROM artifacts a JOIN submissions s ON s.id = a.submission_id \
             WHERE {SENT} AND a.removed_in_attempt IS NULL ORDER BY a.submission_id, a.position"
        ))
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        for row in &artifacts {
            let Some(&i) = index.get(&get_string(row, "submission_id")?) else { continue };
            match get_string(row, "kind")?.as_str() {
                "text" => {
                    digests[i].text.push('\n');
                    digests[i].text.push_str(&get_opt_string(row, "body")?.unwrap_or_default());
                }
                _ => digests[i].file_hashes.extend(get_opt_string(row, "sha256")?),
            }
        }
        let collaborators = sqlx::query(&format!(
            "SELECT c.submission_id, u.id AS user_id FROM submission_collaborators c JOIN submissions s ON s.id = c.submission_id \
             JOIN users u ON u.email = c.email WHERE {SENT} ORDER BY c.submission_id, c.position"
        ))
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        for row in &collaborators {
            if let Some(&i) = index.get(&get_string(row, "submission_id")?) {
                digests[i].collaborators.push(get_id(row, "user_id")?);
            }
        }
        Ok(digests)
    }

    /// Replaces a submission's duplicate flags (one per other submission and kind; the highest
    /// similarity is kept), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown submission included).
    pub async fn set_duplicate_flags(&self, submission: SubmissionId, flags: &[DuplicateFlag], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut unique: Vec<&DuplicateFlag> = Vec::new();
        for flag in flags {
            match unique.iter_mut().find(|f| f.other == flag.other && f.kind == flag.kind) {
                Some(existing) if existing.similarity < flag.similarity => *existing = flag,
                Some(_) => {}
                None => unique.push(flag),
            }
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM duplicate_flags WHERE submission_id = $1").bind(submission.to_string()).execute(&mut *tx).await?;
        for flag in unique {
            sqlx::query("INSERT INTO duplicate_flags (submission_id, other_submission_id, kind, similarity, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(submission.to_string())
                .bind(flag.other.to_string())
                .bind(flag.kind.as_str())
                .bind(flag.similarity)
                .bind(secs(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A submission's duplicate flags, the most similar first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn duplicate_flags(&self, submission: SubmissionId) -> Result<Vec<DuplicateFlag>, StoreError> {
        let rows = sqlx::query(
            "SELECT other_submission_id, kind, similarity FROM duplicate_flags WHERE submission_id = $1 ORDER BY similarity DESC, other_submission_id, kind",
        )
        .bind(submission.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind = get_string(row, "kind")?;
                Ok(DuplicateFlag {
                    other: get_id(row, "other_submission_id")?,
                    kind: DuplicateKind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("duplicate kind \"{kind}\"")))?,
                    similarity: get_f64(row, "similarity")?,
                })
            })
            .collect()
    }

    // ---------- fees and vouchers ----------

    /// Records a fee decision by staff (paid, waived…) and an audit entry saying so, without
    /// changing the status, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn set_fee_state(&self, submission: SubmissionId, fee: &FeeState, actor: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE submissions SET fee_state = $1, voucher_code = $2, updated_at = $3 WHERE id = $4")
            .bind(fee.as_str())
            .bind(fee_code(fee))
            .bind(secs(now))
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("submission", submission));
        }
        let status =
            get_status(&sqlx::query("SELECT status FROM submissions WHERE id = $1").bind(submission.to_string()).fetch_one(&mut *tx).await?, "status")?;
        insert_event(&mut tx, submission, Some(status), status, Some(actor), &fee_note(fee), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates voucher codes (already normalised with `cairn_core::submission::voucher_code`),
    /// all or none.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`vouchers.code`) when a code exists already (or is repeated).
    pub async fn create_vouchers(
        &self,
        organisation: OrganisationId,
        achievement: Option<AchievementId>,
        codes: &[String],
        actor: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for code in codes {
            sqlx::query("INSERT INTO vouchers (code, organisation_id, achievement_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(code)
                .bind(organisation.to_string())
                .bind(achievement.map(|a| a.to_string()))
                .bind(actor.to_string())
                .bind(secs(now))
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique("vouchers.code", format!("the voucher code \"{code}\" exists already")))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An organisation's vouchers, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn vouchers(&self, organisation: OrganisationId) -> Result<Vec<Voucher>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, achievement_id, created_at, redeemed_by_submission, redeemed_at FROM vouchers WHERE organisation_id = $1 ORDER BY created_at, code",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(voucher_from).collect()
    }

    /// Pays a submission's fee with a voucher, in one transaction: the voucher is marked used,
    /// the submission's fee becomes `voucher` and an audit entry (by the learner) is written.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission or when the organisation has no such
    /// voucher (or it is for another achievement); [`StoreError::Conflict`] (`vouchers.redeemed`)
    /// when the voucher was already used, (`submissions.fee`) when no fee is due.
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn redeem_voucher(&self, submission: SubmissionId, code: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE submissions SET updated_at = $1 WHERE id = $2").bind(secs(now)).bind(submission.to_string()).execute(&mut *tx).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("submission", submission));
        }
        let row = sqlx::query("SELECT organisation_id, achievement_id, learner_id, status, fee_state FROM submissions WHERE id = $1")
            .bind(submission.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let voucher =
            sqlx::query("SELECT redeemed_at FROM vouchers WHERE code = $1 AND organisation_id = $2 AND (achievement_id IS NULL OR achievement_id = $3)")
                .bind(code)
                .bind(get_string(&row, "organisation_id")?)
                .bind(get_string(&row, "achievement_id")?)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("voucher", code))?;
        let already_used = || StoreError::Conflict { constraint: "vouchers.redeemed", detail: "this voucher was already used".into() };
        if get_opt_i64(&voucher, "redeemed_at")?.is_some() {
            return Err(already_used());
        }
        if get_string(&row, "fee_state")? != FeeState::Due.as_str() {
            return Err(StoreError::Conflict { constraint: "submissions.fee", detail: "no fee is due on this submission".into() });
        }
        let redeemed = sqlx::query("UPDATE vouchers SET redeemed_by_submission = $1, redeemed_at = $2 WHERE code = $3 AND redeemed_at IS NULL")
            .bind(submission.to_string())
            .bind(secs(now))
            .bind(code)
            .execute(&mut *tx)
            .await?;
        if redeemed.rows_affected() == 0 {
            return Err(already_used());
        }
        let fee = FeeState::Voucher(code.to_string());
        sqlx::query("UPDATE submissions SET fee_state = $1, voucher_code = $2 WHERE id = $3")
            .bind(fee.as_str())
            .bind(code)
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        let status = get_status(&row, "status")?;
        insert_event(&mut tx, submission, Some(status), status, get_opt_id(&row, "learner_id")?, &fee_note(&fee), now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Replaces a submission's collaborators, keeping the reflection of each one still named.
async fn replace_collaborators(tx: &mut Tx, submission: SubmissionId, emails: &[Email], now: OffsetDateTime) -> Result<(), StoreError> {
    let mut kept: HashMap<String, (String, i64)> = HashMap::new();
    for row in sqlx::query("SELECT email, reflection, updated_at FROM submission_collaborators WHERE submission_id = $1")
        .bind(submission.to_string())
        .fetch_all(&mut **tx)
        .await?
    {
        kept.insert(get_string(&row, "email")?, (get_string(&row, "reflection")?, get_i64(&row, "updated_at")?));
    }
    sqlx::query("DELETE FROM submission_collaborators WHERE submission_id = $1").bind(submission.to_string()).execute(&mut **tx).await?;
    let mut seen: Vec<&str> = Vec::new();
    for email in emails {
        if seen.contains(&email.as_str()) {
            continue;
        }
        seen.push(email.as_str());
        let (reflection, updated_at) = kept.remove(email.as_str()).unwrap_or_else(|| (String::new(), secs(now)));
        sqlx::query("INSERT INTO submission_collaborators (submission_id, email, position, reflection, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(submission.to_string())
            .bind(email.as_str())
            .bind(seen.len() as i64 - 1)
            .bind(reflection)
            .bind(updated_at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
