//! Assessments: an assessor's judgement of an attempt (scores, feedback, outcome) and a staff
//! member's confirmation of a pass.

use super::transitions::insert_event;
use super::{QUEUED, Tx, explain_miss, get_status};
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_json, get_opt_id, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::assessment::{Judgement, Score};
use cairn_core::ids::{AssessmentId, SubmissionId, UserId};
use cairn_core::submission::{Outcome, Status};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

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

/// The stored JSON form of a score.
#[derive(Serialize, Deserialize)]
struct ScoreRow {
    criterion: String,
    level: usize,
    comment: String,
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

/// A judgement's scores as stored (`scores_json`).
pub(crate) fn scores_json(scores: &[Score]) -> String {
    let rows: Vec<ScoreRow> = scores.iter().map(|s| ScoreRow { criterion: s.criterion.clone(), level: s.level, comment: s.comment.clone() }).collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

/// Scores read back from `scores_json`.
pub(crate) fn scores_from_json(raw: &str) -> Result<Vec<Score>, StoreError> {
    let rows: Vec<ScoreRow> = serde_json::from_str(raw).map_err(|e| StoreError::corrupt(format!("scores: {e}")))?;
    Ok(rows.into_iter().map(|s| Score { criterion: s.criterion, level: s.level, comment: s.comment }).collect())
}

/// Writes the decision on `attempt`: the assessment the learner reads.
pub(crate) async fn insert_assessment(
    tx: &mut Tx,
    submission: SubmissionId,
    attempt: u32,
    assessor: UserId,
    judgement: &Judgement,
    now: OffsetDateTime,
) -> Result<AssessmentId, StoreError> {
    let id = AssessmentId::new();
    sqlx::query(
        "INSERT INTO assessments (id, submission_id, attempt, assessor_id, scores_json, feedback, outcome, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.to_string())
    .bind(submission.to_string())
    .bind(i64::from(attempt))
    .bind(assessor.to_string())
    .bind(scores_json(&judgement.scores))
    .bind(&judgement.feedback)
    .bind(judgement.outcome.as_str())
    .bind(secs(now))
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("assessments.attempt", "this attempt has already been assessed"))?;
    Ok(id)
}

impl Store {
    /// Records the assigned assessor's judgement of the current attempt, in one transaction: the
    /// submission moves to passed or not yet (only if it is still queued and assigned to
    /// `assessor`), the assessment, the audit entry and `effects` (the pass's award, telling
    /// people) are written.
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
        effects: &[NewEffect],
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
        let id = insert_assessment(&mut tx, submission, attempt, assessor, judgement, now).await?;
        let note = match judgement.outcome {
            Outcome::Pass => "assessed: pass",
            Outcome::NotYet => "assessed: not yet",
        };
        insert_event(&mut tx, submission, Some(from), to, Some(assessor), note, now).await?;
        insert_effects(&mut tx, effects, now).await?;
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

    /// Records a staff member's confirmation of the latest assessment, a pass (second stage),
    /// with `effects` (the award), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the submission has no assessment; [`StoreError::Conflict`]
    /// (`assessments.confirmed`) when the latest is not a pass or was already confirmed.
    pub async fn confirm_pass(&self, submission: SubmissionId, staff: UserId, effects: &[NewEffect], now: OffsetDateTime) -> Result<(), StoreError> {
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
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
