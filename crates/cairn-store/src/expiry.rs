//! Expiry reminders: which active awards expire soon, and the record that a reminder went, kept
//! so that each of an award's reminders is sent once however many instances run the job.

use cairn_core::ids::AwardId;
use time::{Duration, OffsetDateTime};

use crate::awards::{LearnerAward, learner_award_from};
use crate::effects::{NewEffect, insert_effects};
use crate::rows::{get_opt_i64, secs};
use crate::{Store, StoreError};

/// An active award that expires soon, with the reminders its learner already had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringAward {
    pub award: LearnerAward,
    /// The latest reminder already sent (the fewest days before expiry), if any: reminders go
    /// out earliest first, so a due reminder at or after this one was sent or skipped.
    pub last_reminder: Option<u32>,
}

impl Store {
    /// The active awards of learners with an account that expire after `now` and at most
    /// `within` later, soonest first, at most `limit` of them; an award already renewed is
    /// not reminded.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn awards_expiring(&self, now: OffsetDateTime, within: Duration, limit: u32) -> Result<Vec<ExpiringAward>, StoreError> {
        let rows = sqlx::query(
            "SELECT aw.*, v.name AS achievement_name, o.name AS organisation_name, \
             (SELECT MIN(r.days) FROM expiry_reminders r WHERE r.award_id = aw.id) AS last_reminder FROM awards aw \
             JOIN achievement_versions v ON v.achievement_id = aw.achievement_id AND v.version = aw.achievement_version \
             JOIN organisations o ON o.id = aw.organisation_id \
             JOIN users u ON u.id = aw.learner_id \
             WHERE aw.status = 'active' AND aw.renewed_by IS NULL AND aw.valid_until IS NOT NULL AND aw.valid_until >= $1 AND aw.valid_until <= $2 \
             AND u.deleted_at IS NULL \
             ORDER BY aw.valid_until, aw.id LIMIT $3",
        )
        .bind(secs(now))
        .bind(secs(now + within))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let last_reminder = get_opt_i64(row, "last_reminder")?.map(|days| u32::try_from(days).unwrap_or(0));
                Ok(ExpiringAward { award: learner_award_from(row)?, last_reminder })
            })
            .collect()
    }

    /// Records the reminder `days` before the award expires, with `effects` (telling the
    /// learner), in one transaction: only the first time. Returns whether this call recorded it
    /// (`false`: it was already sent, and nothing is written).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_expiry_reminder(&self, award: AwardId, days: u32, effects: &[NewEffect], now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("INSERT INTO expiry_reminders (award_id, days, sent_at) VALUES ($1, $2, $3) ON CONFLICT (award_id, days) DO NOTHING")
            .bind(award.to_string())
            .bind(i64::from(days))
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
