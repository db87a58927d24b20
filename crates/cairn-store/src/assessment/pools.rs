//! Assessor pools per achievement (with each assessor's open load) and declared conflicts of
//! interest between assessors and learners, kept by a keyed fingerprint of the learner's e-mail.

use super::QUEUED;
use crate::rows::{get_email, get_i64, get_id, get_string, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::{AchievementId, OrganisationId, UserId};
use time::OffsetDateTime;

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

impl Store {
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

    /// Records an assessor's declared conflict of interest with whoever uses `email`
    /// (idempotent). Only a keyed fingerprint of the address is stored (`conflict_fingerprint`
    /// is the one way to make it), and nothing is looked up: the result is the same whether or
    /// not an account uses the address.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn declare_conflict(&self, organisation: OrganisationId, assessor: UserId, email: &Email, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conflict_declarations (organisation_id, assessor_id, email_fingerprint, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organisation_id, assessor_id, email_fingerprint) DO NOTHING",
        )
        .bind(organisation.to_string())
        .bind(assessor.to_string())
        .bind(self.conflict_fingerprint(email))
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The assessors of `organisation` who declared a conflict with `learner`: by one of
    /// `emails` (the learner's address and any others the submission names), or by account
    /// before declarations were kept by address.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn conflicted_assessors(&self, organisation: OrganisationId, learner: UserId, emails: &[Email]) -> Result<Vec<UserId>, StoreError> {
        let mut found: Vec<UserId> = Vec::new();
        let legacy = sqlx::query("SELECT assessor_id FROM assessor_conflicts WHERE organisation_id = $1 AND learner_id = $2")
            .bind(organisation.to_string())
            .bind(learner.to_string())
            .fetch_all(&self.pool)
            .await?;
        for row in &legacy {
            found.push(get_id(row, "assessor_id")?);
        }
        for email in emails {
            let rows = sqlx::query("SELECT assessor_id FROM conflict_declarations WHERE organisation_id = $1 AND email_fingerprint = $2")
                .bind(organisation.to_string())
                .bind(self.conflict_fingerprint(email))
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                found.push(get_id(row, "assessor_id")?);
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    /// The stored form of a conflict-of-interest e-mail: its keyed fingerprint under the master
    /// key (`seal.rs`), computed from the normalised (trimmed, lower-cased) address.
    fn conflict_fingerprint(&self, email: &Email) -> String {
        self.master_key.fingerprint("cairn conflict-of-interest e-mail v1", email.as_str().as_bytes())
    }
}
