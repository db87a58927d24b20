//! Fees and vouchers: how a submission's fee state is stored, staff decisions on it, and voucher
//! codes created and redeemed.

use super::transitions::insert_event;
use super::{Tx, get_status};
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_i64, get_opt_id, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{AchievementId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::FeeState;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

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

pub(super) fn fee_from(state: &str, code: Option<String>) -> Result<FeeState, StoreError> {
    match (state, code) {
        ("none", _) => Ok(FeeState::None),
        ("due", _) => Ok(FeeState::Due),
        ("paid", _) => Ok(FeeState::Paid),
        ("waived", _) => Ok(FeeState::Waived),
        ("voucher", Some(code)) => Ok(FeeState::Voucher(code)),
        (other, _) => Err(StoreError::corrupt(format!("fee state \"{other}\""))),
    }
}

pub(super) fn fee_code(fee: &FeeState) -> Option<String> {
    match fee {
        FeeState::Voucher(code) => Some(code.clone()),
        _ => None,
    }
}

pub(super) fn fee_note(fee: &FeeState) -> String {
    match fee {
        FeeState::None => "no fee".into(),
        FeeState::Due => "fee due".into(),
        FeeState::Paid => "fee paid".into(),
        FeeState::Waived => "fee waived".into(),
        FeeState::Voucher(code) => format!("voucher {code} redeemed"),
    }
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

impl Store {
    /// Records a fee decision by staff (paid, waived…), an audit entry saying so and `effects`
    /// (telling the learner), without changing the status, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn set_fee_state(
        &self,
        submission: SubmissionId,
        fee: &FeeState,
        actor: UserId,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.set_fee_state_covering(submission, fee, actor, &[], effects, now).await
    }

    /// [`Store::set_fee_state`], settling the fee the same way, in the same transaction, on the
    /// learner's submissions for the achievements `covers` whose fee is due (the other levels
    /// of a micro-credential whose fee is paid once; see `cairn_core::fees`), each with its own
    /// audit entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn set_fee_state_covering(
        &self,
        submission: SubmissionId,
        fee: &FeeState,
        actor: UserId,
        covers: &[AchievementId],
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
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
        cover_levels(&mut tx, submission, covers, fee, Some(actor), now).await?;
        insert_effects(&mut tx, effects, now).await?;
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
    pub async fn redeem_voucher(&self, submission: SubmissionId, code: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.redeem_voucher_covering(submission, code, &[], now).await
    }

    /// [`Store::redeem_voucher`], the voucher also settling, in the same transaction, the
    /// learner's submissions for the achievements `covers` whose fee is due (see
    /// [`Store::set_fee_state_covering`]).
    ///
    /// # Errors
    /// As [`Store::redeem_voucher`].
    #[tracing::instrument(skip_all, fields(submission_id = %submission))]
    pub async fn redeem_voucher_covering(&self, submission: SubmissionId, code: &str, covers: &[AchievementId], now: OffsetDateTime) -> Result<(), StoreError> {
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
        let learner = get_opt_id(&row, "learner_id")?;
        insert_event(&mut tx, submission, Some(status), status, learner, &fee_note(&fee), now).await?;
        cover_levels(&mut tx, submission, covers, &fee, learner, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Settles, as `fee`, the fee due on the same learner's submissions for the achievements
/// `covers`, each with an audit entry by `actor`.
pub(super) async fn cover_levels(
    tx: &mut Tx,
    paid_on: SubmissionId,
    covers: &[AchievementId],
    fee: &FeeState,
    actor: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if covers.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..covers.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT o.id, o.status FROM submissions o JOIN submissions p ON p.learner_id = o.learner_id \
         WHERE p.id = $1 AND o.id <> p.id AND o.fee_state = $2 AND o.achievement_id IN ({}) ORDER BY o.id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(paid_on.to_string()).bind(FeeState::Due.as_str());
    for achievement in covers {
        query = query.bind(achievement.to_string());
    }
    let note = format!("{} with the micro-credential's fee", fee_note(fee));
    for row in query.fetch_all(&mut **tx).await? {
        let id: SubmissionId = get_id(&row, "id")?;
        let updated = sqlx::query("UPDATE submissions SET fee_state = $1, voucher_code = $2, updated_at = $3 WHERE id = $4 AND fee_state = $5")
            .bind(fee.as_str())
            .bind(fee_code(fee))
            .bind(secs(now))
            .bind(id.to_string())
            .bind(FeeState::Due.as_str())
            .execute(&mut **tx)
            .await?;
        if updated.rows_affected() == 1 {
            let status = get_status(&row, "status")?;
            insert_event(tx, id, Some(status), status, actor, &note, now).await?;
        }
    }
    Ok(())
}
