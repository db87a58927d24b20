//! Sampled judgements: a first judgement held for a second, blind scoring; the second scoring,
//! which settles the decision when both agree on the outcome or sends it to moderation when they
//! do not; the moderator's decision. Each criterion's pair of levels is kept in `sampled_scores`
//! for the agreement report. Every move is one transaction, conditional on the state it leaves.

use super::assessments::{insert_assessment, scores_from_json, scores_json};
use super::transitions::insert_event;
use super::{CURRENT_VERSION_JOIN, QUEUED, SUBMISSION_COLUMNS, Tx, explain_miss, get_status};
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::assessment::Judgement;
use cairn_core::ids::{AchievementId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{Outcome, Status, Submission};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// Where a sampled judgement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleState {
    /// Waiting for the second, blind scoring.
    Second,
    /// The two scorings disagree on the outcome: waiting for a moderator.
    Moderation,
    /// Both agreed; the first judgement became the decision.
    Agreed,
    /// A moderator decided.
    Moderated,
}

impl SampleState {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleState::Second => "second",
            SampleState::Moderation => "moderation",
            SampleState::Agreed => "agreed",
            SampleState::Moderated => "moderated",
        }
    }

    fn parse(raw: &str) -> Result<SampleState, StoreError> {
        match raw {
            "second" => Ok(SampleState::Second),
            "moderation" => Ok(SampleState::Moderation),
            "agreed" => Ok(SampleState::Agreed),
            "moderated" => Ok(SampleState::Moderated),
            other => Err(StoreError::corrupt(format!("sample state \"{other}\""))),
        }
    }
}

/// One sampled judgement of one attempt, with every scoring it has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledJudgement {
    pub submission: SubmissionId,
    pub attempt: u32,
    pub organisation: OrganisationId,
    pub achievement: AchievementId,
    pub state: SampleState,
    pub first_assessor: Option<UserId>,
    pub first: Judgement,
    pub first_at: OffsetDateTime,
    pub second_assessor: Option<UserId>,
    pub second: Option<Judgement>,
    pub second_at: Option<OffsetDateTime>,
    pub moderator: Option<UserId>,
    pub moderated_outcome: Option<Outcome>,
    pub moderated_at: Option<OffsetDateTime>,
}

/// What the second scoring showed, as the application decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondScoring {
    /// Same outcome: the first judgement is the decision, the submission moves to `to`.
    Agreed { to: Status },
    /// Different outcomes: a moderator decides; the submission waits, unassigned.
    Disagreed,
}

/// A judgement waiting for a moderator, with the submission it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationItem {
    pub sample: SampledJudgement,
    pub submission: Submission,
    pub achievement_name: String,
}

fn outcome_from(raw: &str) -> Result<Outcome, StoreError> {
    Outcome::parse(raw).ok_or_else(|| StoreError::corrupt(format!("outcome \"{raw}\"")))
}

fn sample_from(row: &AnyRow) -> Result<SampledJudgement, StoreError> {
    let second = match get_opt_string(row, "second_scores_json")? {
        Some(raw) => Some(Judgement {
            scores: scores_from_json(&raw)?,
            feedback: get_opt_string(row, "second_feedback")?.unwrap_or_default(),
            outcome: outcome_from(&get_opt_string(row, "second_outcome")?.unwrap_or_default())?,
        }),
        None => None,
    };
    Ok(SampledJudgement {
        submission: get_id(row, "sample_submission_id")?,
        attempt: get_u32(row, "sample_attempt")?,
        organisation: get_id(row, "sample_organisation_id")?,
        achievement: get_id(row, "sample_achievement_id")?,
        state: SampleState::parse(&get_string(row, "state")?)?,
        first_assessor: get_opt_id(row, "first_assessor_id")?,
        first: Judgement {
            scores: scores_from_json(&get_string(row, "first_scores_json")?)?,
            feedback: get_string(row, "first_feedback")?,
            outcome: outcome_from(&get_string(row, "first_outcome")?)?,
        },
        first_at: get_time(row, "first_at")?,
        second_assessor: get_opt_id(row, "second_assessor_id")?,
        second,
        second_at: get_opt_time(row, "second_at")?,
        moderator: get_opt_id(row, "moderator_id")?,
        moderated_outcome: get_opt_string(row, "moderated_outcome")?.as_deref().map(outcome_from).transpose()?,
        moderated_at: get_opt_time(row, "moderated_at")?,
    })
}

/// The columns [`sample_from`] reads, from `sampled_judgements j`.
const SAMPLE_COLUMNS: &str = "j.submission_id AS sample_submission_id, j.attempt AS sample_attempt, j.organisation_id AS sample_organisation_id, \
     j.achievement_id AS sample_achievement_id, j.state, j.first_assessor_id, j.first_scores_json, j.first_feedback, j.first_outcome, j.first_at, \
     j.second_assessor_id, j.second_scores_json, j.second_feedback, j.second_outcome, j.second_at, j.moderator_id, j.moderated_outcome, j.moderated_at";

/// Takes the submission's write lock: the update matches only while it is queued and, when
/// `assessor` is given, assigned to them. Returns its status and attempt.
async fn lock_queued(tx: &mut Tx, submission: SubmissionId, assessor: Option<UserId>, now: OffsetDateTime) -> Result<(Status, u32), StoreError> {
    let locked = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND ($3 = 0 OR assessor_id = $4) AND status IN {QUEUED}"))
        .bind(secs(now))
        .bind(submission.to_string())
        .bind(i64::from(assessor.is_some()))
        .bind(assessor.map(|a| a.to_string()).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(explain_miss(tx, submission, |_| StoreError::Conflict {
            constraint: "submissions.assessment",
            detail: "this submission has already been assessed or is not assigned to you".into(),
        })
        .await);
    }
    let row = sqlx::query("SELECT status, attempt FROM submissions WHERE id = $1").bind(submission.to_string()).fetch_one(&mut **tx).await?;
    Ok((get_status(&row, "status")?, get_u32(&row, "attempt")?))
}

/// The decision's move: the submission leaves the queue for `to`, back with `assessor` (the
/// first assessor keeps a resubmission), and the decision is recorded as `decider`'s.
#[allow(clippy::too_many_arguments)]
async fn decide(
    tx: &mut Tx,
    submission: SubmissionId,
    from: Status,
    attempt: u32,
    decider: UserId,
    assessor: Option<UserId>,
    judgement: &Judgement,
    note: &str,
    actor: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let to = match judgement.outcome {
        Outcome::Pass => Status::Passed,
        Outcome::NotYet => Status::NotYet,
    };
    sqlx::query("UPDATE submissions SET status = $1, assessor_id = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(assessor.map(|a| a.to_string()))
        .bind(submission.to_string())
        .execute(&mut **tx)
        .await?;
    insert_assessment(tx, submission, attempt, decider, judgement, now).await?;
    insert_event(tx, submission, Some(from), to, Some(actor), note, now).await
}

impl Store {
    /// Holds the assigned assessor's judgement of a sampled attempt for a second, blind scoring,
    /// in one transaction: the submission stays queued and goes to `second` (or to no one until
    /// an assessor is eligible), the judgement is kept out of the learner's sight, the audit
    /// entry and `effects` (telling the second assessor) are written.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.assessment`) when it is no longer queued or assigned to `first`,
    /// (`sampled_judgements.attempt`) when this attempt was sampled already.
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn hold_for_second_scoring(
        &self,
        submission: SubmissionId,
        first: UserId,
        judgement: &Judgement,
        second: Option<UserId>,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let (status, attempt) = lock_queued(&mut tx, submission, Some(first), now).await?;
        sqlx::query(
            "INSERT INTO sampled_judgements (submission_id, attempt, organisation_id, achievement_id, state, first_assessor_id, first_scores_json, \
             first_feedback, first_outcome, first_at) \
             SELECT s.id, s.attempt, s.organisation_id, s.achievement_id, 'second', $1, $2, $3, $4, $5 FROM submissions s WHERE s.id = $6",
        )
        .bind(first.to_string())
        .bind(scores_json(&judgement.scores))
        .bind(&judgement.feedback)
        .bind(judgement.outcome.as_str())
        .bind(secs(now))
        .bind(submission.to_string())
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("sampled_judgements.attempt", format!("attempt {attempt} was already sampled")))?;
        sqlx::query("UPDATE submissions SET assessor_id = $1 WHERE id = $2")
            .bind(second.map(|a| a.to_string()))
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        insert_event(&mut tx, submission, Some(status), status, Some(first), "scored; held for a second, blind scoring", now).await?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the second, blind scoring of a sampled attempt by `second`, the assessor it is
    /// assigned to, with each criterion's pair of levels, in one transaction. When both agree
    /// ([`SecondScoring::Agreed`]) the first judgement becomes the decision, under the first
    /// assessor's name, who keeps the submission for a resubmission; otherwise it waits for a
    /// moderator, assigned to no one. `effects` go with it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.assessment`) when it is not queued and assigned to `second`,
    /// (`sampled_judgements.second`) when it is not waiting for a second scoring, or `second`
    /// gave the first.
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn record_second_scoring(
        &self,
        submission: SubmissionId,
        second: UserId,
        judgement: &Judgement,
        result: SecondScoring,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let (status, attempt) = lock_queued(&mut tx, submission, Some(second), now).await?;
        let state = match result {
            SecondScoring::Agreed { .. } => SampleState::Agreed,
            SecondScoring::Disagreed => SampleState::Moderation,
        };
        let updated = sqlx::query(
            "UPDATE sampled_judgements SET state = $1, second_assessor_id = $2, second_scores_json = $3, second_feedback = $4, second_outcome = $5, \
             second_at = $6 WHERE submission_id = $7 AND attempt = $8 AND state = 'second' AND (first_assessor_id IS NULL OR first_assessor_id <> $2)",
        )
        .bind(state.as_str())
        .bind(second.to_string())
        .bind(scores_json(&judgement.scores))
        .bind(&judgement.feedback)
        .bind(judgement.outcome.as_str())
        .bind(secs(now))
        .bind(submission.to_string())
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict { constraint: "sampled_judgements.second", detail: "this submission is not waiting for a second scoring".into() });
        }
        let sample = sample_in(&mut tx, submission, attempt).await?;
        for score in &judgement.scores {
            let Some(first) = sample.first.scores.iter().find(|s| s.criterion == score.criterion) else { continue };
            sqlx::query(
                "INSERT INTO sampled_scores (submission_id, attempt, criterion, organisation_id, achievement_id, first_level, second_level, scored_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(submission.to_string())
            .bind(i64::from(attempt))
            .bind(&score.criterion)
            .bind(sample.organisation.to_string())
            .bind(sample.achievement.to_string())
            .bind(i64::try_from(first.level).unwrap_or(i64::MAX))
            .bind(i64::try_from(score.level).unwrap_or(i64::MAX))
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        }
        match result {
            SecondScoring::Agreed { .. } => {
                let first = sample.first_assessor.unwrap_or(second);
                let note = format!("assessed: {}, agreed by a second assessor", words(sample.first.outcome));
                decide(&mut tx, submission, status, attempt, first, sample.first_assessor, &sample.first, &note, second, now).await?;
            }
            SecondScoring::Disagreed => {
                sqlx::query("UPDATE submissions SET assessor_id = NULL WHERE id = $1").bind(submission.to_string()).execute(&mut *tx).await?;
                insert_event(&mut tx, submission, Some(status), status, Some(second), "second scoring disagrees; sent to a moderator", now).await?;
            }
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a moderator's decision on a sampled attempt whose scorings disagree, in one
    /// transaction: the decision is the moderator's judgement, the first assessor keeps the
    /// submission for a resubmission, `effects` go with it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.assessment`) when it is no longer queued, (`sampled_judgements.moderation`)
    /// when it is not waiting for a moderator (decided meanwhile) or `moderator` scored it.
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn record_moderation(
        &self,
        submission: SubmissionId,
        moderator: UserId,
        judgement: &Judgement,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let (status, attempt) = lock_queued(&mut tx, submission, None, now).await?;
        let updated = sqlx::query(
            "UPDATE sampled_judgements SET state = 'moderated', moderator_id = $1, moderated_outcome = $2, moderated_at = $3 \
             WHERE submission_id = $4 AND attempt = $5 AND state = 'moderation' \
             AND (first_assessor_id IS NULL OR first_assessor_id <> $1) AND (second_assessor_id IS NULL OR second_assessor_id <> $1)",
        )
        .bind(moderator.to_string())
        .bind(judgement.outcome.as_str())
        .bind(secs(now))
        .bind(submission.to_string())
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: "sampled_judgements.moderation",
                detail: "this submission is not waiting for you to moderate it".into(),
            });
        }
        let sample = sample_in(&mut tx, submission, attempt).await?;
        let note = format!("assessed: {}, decided by a moderator", words(judgement.outcome));
        decide(&mut tx, submission, status, attempt, moderator, sample.first_assessor, judgement, &note, moderator, now).await?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sampled judgement of the submission's current attempt, if it was sampled.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn current_sample(&self, submission: SubmissionId) -> Result<Option<SampledJudgement>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SAMPLE_COLUMNS} FROM sampled_judgements j JOIN submissions s ON s.id = j.submission_id AND s.attempt = j.attempt WHERE j.submission_id = $1"
        ))
        .bind(submission.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sample_from).transpose()
    }

    /// An organisation's judgements waiting for a moderator, the soonest due first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn moderation_queue(&self, organisation: OrganisationId) -> Result<Vec<ModerationItem>, StoreError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS}, v.name AS achievement_name, {SAMPLE_COLUMNS} FROM sampled_judgements j \
             JOIN submissions s ON s.id = j.submission_id AND s.attempt = j.attempt {CURRENT_VERSION_JOIN} \
             WHERE j.organisation_id = $1 AND j.state = 'moderation' ORDER BY CASE WHEN s.due_at IS NULL THEN 1 ELSE 0 END, s.due_at, s.id"
        );
        self.load_submissions(&sql, &[organisation.to_string()])
            .await?
            .into_iter()
            .map(|(row, submission)| Ok(ModerationItem { sample: sample_from(&row)?, submission, achievement_name: get_string(&row, "achievement_name")? }))
            .collect()
    }
}

async fn sample_in(tx: &mut Tx, submission: SubmissionId, attempt: u32) -> Result<SampledJudgement, StoreError> {
    let row = sqlx::query(&format!("SELECT {SAMPLE_COLUMNS} FROM sampled_judgements j WHERE j.submission_id = $1 AND j.attempt = $2"))
        .bind(submission.to_string())
        .bind(i64::from(attempt))
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("sampled judgement", submission))?;
    sample_from(&row)
}

fn words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::NotYet => "not yet",
    }
}
