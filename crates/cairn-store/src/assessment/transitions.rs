//! The submission life cycle in the database: conditional moves between statuses, the audit
//! trail they write, and the snapshot of each attempt as it was sent.

use super::artifacts::artifact_label;
use super::{CURRENT_VERSION_JOIN, Tx, explain_miss, get_status, status_from};
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_i64, get_id, get_json, get_opt_i64, get_opt_id, get_opt_string, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{Status, Submission};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// An attempt sent to assessment: who sends it, who assesses it (`None` when no one is
/// eligible yet) and when the decision is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sending {
    pub submission: SubmissionId,
    pub learner: UserId,
    pub assessor: Option<UserId>,
    pub due_at: OffsetDateTime,
    /// Words for the audit trail.
    pub note: String,
}

/// What a move does to the assessor besides changing the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AssessorChange {
    Keep,
    Set(Option<UserId>),
}

/// What a move does to the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DueChange {
    Keep,
    Set(OffsetDateTime),
    Clear,
}

/// Whether a move sends an attempt (which records its snapshot, sets `submitted_at` and clears
/// any escalation), and which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    FirstAttempt,
    /// A revision: the attempt number goes up first.
    NextAttempt,
}

/// One move of a submission's life cycle, as decided by `cairn_core::submission::transition`;
/// built only by the intent-named [`Store`] methods below and by the award transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Move<'a> {
    pub(crate) submission: SubmissionId,
    /// The status the caller saw: the move happens only if the submission is still in it
    /// (otherwise [`StoreError::Conflict`]).
    pub(crate) from: Status,
    pub(crate) to: Status,
    /// Who moved it; `None` for the system (a background job, the effects runner).
    pub(crate) actor: Option<UserId>,
    pub(crate) note: &'a str,
    assessor: AssessorChange,
    due: DueChange,
    sent: Sent,
}

impl<'a> Move<'a> {
    /// A move that changes the status only.
    pub(crate) fn status(submission: SubmissionId, from: Status, to: Status, actor: Option<UserId>, note: &'a str) -> Move<'a> {
        Move { submission, from, to, actor, note, assessor: AssessorChange::Keep, due: DueChange::Keep, sent: Sent::Nothing }
    }

    fn sending(sending: &'a Sending, from: Status, to: Status, sent: Sent) -> Move<'a> {
        Move {
            submission: sending.submission,
            from,
            to,
            actor: Some(sending.learner),
            note: &sending.note,
            assessor: AssessorChange::Set(sending.assessor),
            due: DueChange::Set(sending.due_at),
            sent,
        }
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
    /// Artefact labels (see [`Artifact::label`](super::Artifact::label)).
    pub artifacts: Vec<String>,
    pub submitted_at: OffsetDateTime,
    /// The due date of the attempt (the sending time when none was set).
    pub due_at: OffsetDateTime,
    pub assessor: Option<UserId>,
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

/// Applies a [`Move`] inside `tx`: the conditional update, its audit entry and, for a sent
/// attempt, its snapshot.
pub(crate) async fn apply_move(tx: &mut Tx, m: &Move<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
    let flag = |b: bool| i64::from(b);
    let (set_assessor, assessor) = match m.assessor {
        AssessorChange::Keep => (false, None),
        AssessorChange::Set(assessor) => (true, assessor),
    };
    let (set_due, due_at) = match m.due {
        DueChange::Keep => (false, None),
        DueChange::Set(due_at) => (true, Some(due_at)),
        DueChange::Clear => (true, None),
    };
    let result = sqlx::query(
        "UPDATE submissions SET status = $1, updated_at = $2, attempt = attempt + $3, \
         assessor_id = CASE WHEN $4 = 1 THEN $5 ELSE assessor_id END, \
         due_at = CASE WHEN $6 = 1 THEN $7 ELSE due_at END, \
         submitted_at = CASE WHEN $8 = 1 THEN $2 ELSE submitted_at END, \
         escalated_at = CASE WHEN $8 = 1 THEN NULL ELSE escalated_at END \
         WHERE id = $9 AND status = $10",
    )
    .bind(m.to.as_str())
    .bind(secs(now))
    .bind(flag(m.sent == Sent::NextAttempt))
    .bind(flag(set_assessor))
    .bind(assessor.map(|a| a.to_string()))
    .bind(flag(set_due))
    .bind(due_at.map(secs))
    .bind(flag(m.sent != Sent::Nothing))
    .bind(m.submission.to_string())
    .bind(m.from.as_str())
    .execute(&mut **tx)
    .await?;
    if result.rows_affected() == 0 {
        return Err(explain_miss(tx, m.submission, |status| StoreError::Conflict {
            constraint: "submissions.status",
            detail: format!("this submission was changed meanwhile: it is now {}", status.label().to_lowercase()),
        })
        .await);
    }
    insert_event(tx, m.submission, Some(m.from), m.to, m.actor, m.note, now).await?;
    if m.sent != Sent::Nothing {
        insert_snapshot(tx, m.submission, now).await?;
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
    /// Applies a move and writes its effects, in one transaction, and reads the submission back.
    async fn commit_move(&self, m: &Move<'_>, effects: &[NewEffect], now: OffsetDateTime) -> Result<Submission, StoreError> {
        let mut tx = self.pool.begin().await?;
        apply_move(&mut tx, m, now).await?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.submission(m.submission).await
    }

    /// Sends a draft's first attempt (draft → submitted): assessor and due date set, the attempt
    /// recorded as sent, `effects` written, all in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission, [`StoreError::Conflict`]
    /// (`submissions.status`) when it is no longer a draft; nothing changes then.
    #[tracing::instrument(skip_all, fields(submission_id = %sending.submission))]
    pub async fn send_first_attempt(&self, sending: &Sending, effects: &[NewEffect], now: OffsetDateTime) -> Result<Submission, StoreError> {
        self.commit_move(&Move::sending(sending, Status::Draft, Status::Submitted, Sent::FirstAttempt), effects, now).await
    }

    /// Sends a revision after "not yet" (not yet → resubmitted): the attempt number goes up, then
    /// as [`Store::send_first_attempt`].
    ///
    /// # Errors
    /// As [`Store::send_first_attempt`], when it is no longer "not yet".
    #[tracing::instrument(skip_all, fields(submission_id = %sending.submission))]
    pub async fn send_revision(&self, sending: &Sending, effects: &[NewEffect], now: OffsetDateTime) -> Result<Submission, StoreError> {
        self.commit_move(&Move::sending(sending, Status::NotYet, Status::Resubmitted, Sent::NextAttempt), effects, now).await
    }

    /// The assessor opens a sent submission (`from`, submitted or resubmitted → in review).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission, [`StoreError::Conflict`]
    /// (`submissions.status`) when it is no longer in `from`.
    pub async fn start_review(&self, submission: SubmissionId, from: Status, assessor: Option<UserId>, now: OffsetDateTime) -> Result<Submission, StoreError> {
        self.commit_move(&Move::status(submission, from, Status::InReview, assessor, "review started"), &[], now).await
    }

    /// Gives a queued submission (in `status`, which stays) to an assessor, by the system, with
    /// `effects` (telling them).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission, [`StoreError::Conflict`]
    /// (`submissions.status`) when it is no longer in `status`.
    pub async fn assign_assessor(
        &self,
        submission: SubmissionId,
        status: Status,
        assessor: UserId,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<Submission, StoreError> {
        let m = Move { assessor: AssessorChange::Set(Some(assessor)), ..Move::status(submission, status, status, None, "assessor assigned") };
        self.commit_move(&m, effects, now).await
    }

    /// The learner withdraws a submission (`from` → withdrawn); its due date is cleared.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission, [`StoreError::Conflict`]
    /// (`submissions.status`) when it is no longer in `from`.
    pub async fn withdraw_submission(&self, submission: SubmissionId, from: Status, learner: UserId, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let m = Move { due: DueChange::Clear, ..Move::status(submission, from, Status::Withdrawn, Some(learner), "withdrawn by the learner") };
        self.commit_move(&m, &[], now).await
    }

    /// [`Store::withdraw_submission`] with a refund: `effects` (the outbox's refunds) are
    /// written, and the learner's drafts for the levels `covers` whose fee the refunded payment
    /// settled owe it again, all in one transaction.
    ///
    /// # Errors
    /// As [`Store::withdraw_submission`].
    pub async fn withdraw_submission_refunding(
        &self,
        submission: SubmissionId,
        from: Status,
        learner: UserId,
        covers: &[cairn_core::ids::AchievementId],
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<Submission, StoreError> {
        let m = Move {
            due: DueChange::Clear,
            ..Move::status(submission, from, Status::Withdrawn, Some(learner), "withdrawn by the learner; the fee paid online is refunded")
        };
        let mut tx = self.pool.begin().await?;
        apply_move(&mut tx, &m, now).await?;
        super::payments::owe_again(&mut tx, submission, covers, learner, now).await?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.submission(submission).await
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
}
