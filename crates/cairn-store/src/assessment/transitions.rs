//! The submission life cycle in the database: conditional moves between statuses, the audit
//! trail they write, and the snapshot of each attempt as it was sent.

use super::artifacts::artifact_label;
use super::{CURRENT_VERSION_JOIN, Tx, explain_miss, get_status, status_from};
use crate::error::conflict_on_unique;
use crate::rows::{get_i64, get_id, get_json, get_opt_i64, get_opt_id, get_opt_string, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{Status, Submission};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

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
}
