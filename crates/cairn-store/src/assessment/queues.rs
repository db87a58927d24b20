//! Work queues: an assessor's, an issuer's, the unassigned submissions, and the candidates for
//! escalation when a due date nears or passes.

use super::{CURRENT_VERSION_JOIN, QUEUED, SUBMISSION_COLUMNS};
use crate::effects::{NewEffect, insert_effects};
use crate::rows::{get_id, get_opt_string, get_string, get_time, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{OrganisationId, SubmissionId, UserId};
use cairn_core::submission::Submission;
use time::OffsetDateTime;

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

/// A waiting submission the escalation job looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationCandidate {
    pub submission: SubmissionId,
    pub organisation: OrganisationId,
    pub due: OffsetDateTime,
}

impl Store {
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
    /// pool grows), oldest sent first; not those waiting for a moderator, whom no assessor takes.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn unassigned(&self, organisation: OrganisationId) -> Result<Vec<Submission>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.organisation_id = $1 AND s.status IN {QUEUED} AND s.assessor_id IS NULL \
             AND NOT EXISTS (SELECT 1 FROM sampled_judgements j WHERE j.submission_id = s.id AND j.attempt = s.attempt AND j.state = 'moderation') \
             ORDER BY s.submitted_at, s.id"
        );
        Ok(self.load_submissions(&sql, &[organisation.to_string()]).await?.into_iter().map(|(_, s)| s).collect())
    }

    /// Queued submissions with a due date that were not escalated yet, with their organisation
    /// and due date, the soonest due first: ids only, as most are on track and a large platform
    /// has tens of thousands waiting. The caller decides with the issuer's calendar which are
    /// late or nearly due (`now` is not used to filter).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn escalation_candidates(&self, _now: OffsetDateTime) -> Result<Vec<EscalationCandidate>, StoreError> {
        let sql = format!(
            "SELECT s.id, s.organisation_id, s.due_at FROM submissions s WHERE s.status IN {QUEUED} AND s.due_at IS NOT NULL AND s.escalated_at IS NULL \
             ORDER BY s.due_at, s.id"
        );
        sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok(EscalationCandidate { submission: get_id(row, "id")?, organisation: get_id(row, "organisation_id")?, due: get_time(row, "due_at")? }))
            .collect()
    }

    /// Records that a submission was escalated, with `effects` (telling the staff and the
    /// assessor), in one transaction: only the first time, so a submission is escalated once.
    /// Returns whether this call escalated it (`false`: it already was, nothing is written).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn mark_escalated(&self, submission: SubmissionId, effects: &[NewEffect], now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE submissions SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL")
            .bind(secs(now))
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            drop(tx);
            self.submission(submission).await?;
            return Ok(false);
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
