//! Submissions: how a row becomes a [`Submission`], starting a draft, editing its text, listing
//! a learner's, and the collaborators named on it with their own reflections.

use super::fees::{fee_code, fee_from};
use super::transitions::insert_event;
use super::{CURRENT_VERSION_JOIN, EDITABLE, SUBMISSION_COLUMNS, Tx, explain_miss, get_status, not_editable};
use crate::achievements::placeholders;
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_email, get_i64, get_id, get_json, get_opt_i64, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{FeeState, Status, Submission, SubmissionContent};
use sqlx::any::AnyRow;
use std::collections::HashMap;
use time::OffsetDateTime;

/// What starting a submission needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    pub id: SubmissionId,
    pub achievement: AchievementId,
    pub organisation: OrganisationId,
    pub learner: UserId,
    pub content: SubmissionContent,
    pub fee: FeeState,
    /// Set when the submission asks for prior learning to be recognised.
    pub prior_learning: Option<crate::PriorLearning>,
    /// The award it renews, for a renewal.
    pub renewal_of: Option<AwardId>,
}

/// A submission as its learner lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerSubmission {
    pub submission: Submission,
    /// The name of the achievement's current version.
    pub achievement_name: String,
    /// The issuer it was sent to.
    pub organisation: OrganisationId,
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
    /// Who named them.
    pub learner_name: String,
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
        renewal_of: get_opt_id(row, "renewal_of")?,
    })
}

impl Store {
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
    /// for this achievement that is not withdrawn, or for a renewal (`submissions.renewal`) a
    /// renewal of the same award that is not withdrawn; nothing is written then.
    #[tracing::instrument(skip_all, fields(submission_id = %new.id))]
    pub async fn create_submission(&self, new: &NewSubmission, now: OffsetDateTime) -> Result<Submission, StoreError> {
        let conflict = match new.renewal_of {
            None => conflict_on_unique("submissions.live", "you already have a submission for this achievement"),
            Some(_) => conflict_on_unique("submissions.renewal", "a renewal of this badge is in progress already"),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO submissions (id, achievement_id, organisation_id, learner_id, status, attempt, overview, reflection, links_json, fee_state, \
             voucher_code, created_at, updated_at, prior_learning, import_id, renewal_of) VALUES ($1, $2, $3, $4, 'draft', 1, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13)",
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
        .bind(i64::from(new.prior_learning.is_some()))
        .bind(new.prior_learning.and_then(|p| p.import).map(|i| i.to_string()))
        .bind(new.renewal_of.map(|award| award.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
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

    /// The links of these submissions (the unknown ones are left out), by id: what public
    /// evidence shows of each, in a statement per 200.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn submission_links(&self, ids: &[SubmissionId]) -> Result<HashMap<SubmissionId, Vec<String>>, StoreError> {
        let mut links = HashMap::new();
        for chunk in ids.chunks(200) {
            let sql = format!("SELECT id, links_json FROM submissions WHERE id IN ({})", placeholders(1, chunk.len()));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                links.insert(get_id(&row, "id")?, get_json(&row, "links_json")?);
            }
        }
        Ok(links)
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
                    organisation: get_id(&row, "organisation_id")?,
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
            "SELECT c.submission_id, s.achievement_id, v.name AS achievement_name, c.email, c.reflection, s.status, u.name AS learner_name \
             FROM submission_collaborators c JOIN submissions s ON s.id = c.submission_id JOIN users u ON u.id = s.learner_id {CURRENT_VERSION_JOIN} \
             WHERE c.email = $1 ORDER BY s.created_at DESC, s.id"
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
                    learner_name: get_string(row, "learner_name")?,
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

    /// The collaborators named on a submission who have not been told yet, in the order named.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn untold_collaborators(&self, submission: SubmissionId) -> Result<Vec<Email>, StoreError> {
        let rows = sqlx::query("SELECT email FROM submission_collaborators WHERE submission_id = $1 AND notified_at IS NULL ORDER BY position")
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| get_email(row, "email")).collect()
    }

    /// Records that collaborators were told, with the effects telling each, in one transaction:
    /// a collaborator already told (by a save at the same moment), or no longer named, gets
    /// nothing. Returns the effects written.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn tell_collaborators(
        &self,
        submission: SubmissionId,
        told: &[(Email, Vec<NewEffect>)],
        now: OffsetDateTime,
    ) -> Result<Vec<NewEffect>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut written = Vec::new();
        for (email, effects) in told {
            let marked = sqlx::query("UPDATE submission_collaborators SET notified_at = $1 WHERE submission_id = $2 AND email = $3 AND notified_at IS NULL")
                .bind(secs(now))
                .bind(submission.to_string())
                .bind(email.as_str())
                .execute(&mut *tx)
                .await?;
            if marked.rows_affected() == 1 {
                insert_effects(&mut tx, effects, now).await?;
                written.extend(effects.iter().cloned());
            }
        }
        tx.commit().await?;
        Ok(written)
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
}

/// Replaces a submission's collaborators, keeping the reflection of each one still named and
/// when they were told.
async fn replace_collaborators(tx: &mut Tx, submission: SubmissionId, emails: &[Email], now: OffsetDateTime) -> Result<(), StoreError> {
    let mut kept: HashMap<String, (String, i64, Option<i64>)> = HashMap::new();
    for row in sqlx::query("SELECT email, reflection, updated_at, notified_at FROM submission_collaborators WHERE submission_id = $1")
        .bind(submission.to_string())
        .fetch_all(&mut **tx)
        .await?
    {
        kept.insert(get_string(&row, "email")?, (get_string(&row, "reflection")?, get_i64(&row, "updated_at")?, get_opt_i64(&row, "notified_at")?));
    }
    sqlx::query("DELETE FROM submission_collaborators WHERE submission_id = $1").bind(submission.to_string()).execute(&mut **tx).await?;
    let mut seen: Vec<&str> = Vec::new();
    for email in emails {
        if seen.contains(&email.as_str()) {
            continue;
        }
        seen.push(email.as_str());
        let (reflection, updated_at, notified_at) = kept.remove(email.as_str()).unwrap_or_else(|| (String::new(), secs(now), None));
        sqlx::query(
            "INSERT INTO submission_collaborators (submission_id, email, position, reflection, updated_at, notified_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(submission.to_string())
        .bind(email.as_str())
        .bind(seen.len() as i64 - 1)
        .bind(reflection)
        .bind(updated_at)
        .bind(notified_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
