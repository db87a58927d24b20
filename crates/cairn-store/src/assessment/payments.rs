//! Fees paid online (migration `0038_payments.sql`): an organisation's Stripe connection with its
//! secrets sealed under the master key, the payment each Checkout Session stands for, and the
//! webhook events taken. What must hold under concurrency is enforced here: a payment is settled
//! once (`UPDATE … WHERE status IN ('open', 'expired')`), and settling it settles the
//! submission's fee, writes the audit entry and the outbox's effects in the same transaction; an
//! event id is taken once (the key of the row recording it).

use super::fees::{cover_levels, fee_note};
use super::transitions::insert_event;
use super::{Tx, get_status};
use crate::effects::{NewEffect, insert_effects};
use crate::rows::{get_i64, get_id, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{AchievementId, OrganisationId, PaymentId, SubmissionId, UserId};
use cairn_core::payments::{PaymentStatus, StripeKeys};
use cairn_core::submission::FeeState;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// An organisation's Stripe connection, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeAccount {
    pub organisation: OrganisationId,
    /// Stripe's account id (`acct_…`).
    pub account_id: String,
    pub display_name: String,
    pub livemode: bool,
    pub connected_by: Option<UserId>,
    pub connected_at: OffsetDateTime,
}

/// A Checkout Session made for a submission's fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub submission: SubmissionId,
    pub organisation: OrganisationId,
    /// Stripe's Checkout Session id (`cs_…`).
    pub session_id: String,
    /// Where the learner pays, while the session is open.
    pub checkout_url: Option<String>,
    /// Stripe's PaymentIntent, once paid.
    pub payment_intent: Option<String>,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub status: PaymentStatus,
    /// Whether the submission is sent as soon as the fee is paid.
    pub send_when_paid: bool,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub refund_id: Option<String>,
    pub refunded_at: Option<OffsetDateTime>,
}

impl Payment {
    /// Its amount as fees read: `49.50 EUR`.
    pub fn amount(&self) -> String {
        cairn_core::payments::money(self.amount_minor, &self.currency)
    }
}

/// A Checkout Session Stripe made, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub id: PaymentId,
    pub submission: SubmissionId,
    pub organisation: OrganisationId,
    pub session_id: String,
    pub checkout_url: String,
    pub amount_minor: i64,
    pub currency: String,
    pub send_when_paid: bool,
    pub expires_at: OffsetDateTime,
}

/// What settling a paid session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Settled now: the payment, and whether the submission's fee was due and is now paid.
    Now { payment: Payment, fee_settled: bool },
    /// Settled before (the webhook and the learner's return race; Stripe sends events again).
    Before(Payment),
    /// No payment has this session id.
    Unknown,
}

const COLUMNS: &str = "id, submission_id, organisation_id, session_id, checkout_url, payment_intent, amount_minor, currency, status, send_when_paid, \
                       created_at, expires_at, paid_at, refund_id, refunded_at";

fn payment_from(row: &AnyRow) -> Result<Payment, StoreError> {
    let status = get_string(row, "status")?;
    Ok(Payment {
        id: get_id(row, "id")?,
        submission: get_id(row, "submission_id")?,
        organisation: get_id(row, "organisation_id")?,
        session_id: get_string(row, "session_id")?,
        checkout_url: get_opt_string(row, "checkout_url")?,
        payment_intent: get_opt_string(row, "payment_intent")?,
        amount_minor: get_i64(row, "amount_minor")?,
        currency: get_string(row, "currency")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("payment status \"{status}\"")))?,
        send_when_paid: get_i64(row, "send_when_paid")? != 0,
        created_at: get_time(row, "created_at")?,
        expires_at: get_time(row, "expires_at")?,
        paid_at: get_opt_time(row, "paid_at")?,
        refund_id: get_opt_string(row, "refund_id")?,
        refunded_at: get_opt_time(row, "refunded_at")?,
    })
}

/// What an organisation's sealed key is bound to.
fn key_context(organisation: OrganisationId, which: &str) -> String {
    format!("stripe {which} of {organisation}")
}

impl Store {
    /// Connects (or reconnects) `organisation` to the Stripe account `account_id` with `keys`,
    /// sealed under the master key.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn connect_stripe(
        &self,
        organisation: OrganisationId,
        account_id: &str,
        display_name: &str,
        keys: &StripeKeys,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<StripeAccount, StoreError> {
        sqlx::query(
            "INSERT INTO stripe_accounts (organisation_id, account_id, display_name, livemode, secret_key_sealed, webhook_secret_sealed, connected_by, connected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (organisation_id) DO UPDATE SET account_id = excluded.account_id, \
             display_name = excluded.display_name, livemode = excluded.livemode, secret_key_sealed = excluded.secret_key_sealed, \
             webhook_secret_sealed = excluded.webhook_secret_sealed, connected_by = excluded.connected_by, connected_at = excluded.connected_at",
        )
        .bind(organisation.to_string())
        .bind(account_id)
        .bind(display_name)
        .bind(i64::from(keys.livemode))
        .bind(self.master_key.seal(keys.secret_key.as_bytes(), &key_context(organisation, "secret key")))
        .bind(self.master_key.seal(keys.webhook_secret.as_bytes(), &key_context(organisation, "webhook secret")))
        .bind(by.to_string())
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        Ok(StripeAccount {
            organisation,
            account_id: account_id.to_string(),
            display_name: display_name.to_string(),
            livemode: keys.livemode,
            connected_by: Some(by),
            connected_at: now,
        })
    }

    /// The organisation's Stripe connection, if any (without secrets).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn stripe_account(&self, organisation: OrganisationId) -> Result<Option<StripeAccount>, StoreError> {
        let row = sqlx::query("SELECT account_id, display_name, livemode, connected_by, connected_at FROM stripe_accounts WHERE organisation_id = $1")
            .bind(organisation.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StripeAccount {
                organisation,
                account_id: get_string(&row, "account_id")?,
                display_name: get_string(&row, "display_name")?,
                livemode: get_i64(&row, "livemode")? != 0,
                connected_by: get_opt_id(&row, "connected_by")?,
                connected_at: get_time(&row, "connected_at")?,
            })
        })
        .transpose()
    }

    /// The organisation's Stripe keys, opened, if it is connected.
    ///
    /// # Errors
    /// [`StoreError::Sealed`] when they cannot be opened (another master key); database failures.
    pub async fn stripe_keys(&self, organisation: OrganisationId) -> Result<Option<StripeKeys>, StoreError> {
        let row = sqlx::query("SELECT livemode, secret_key_sealed, webhook_secret_sealed FROM stripe_accounts WHERE organisation_id = $1")
            .bind(organisation.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let open = |column: &str, which: &str| -> Result<String, StoreError> {
            let bytes = self.master_key.open(&get_string(&row, column)?, &key_context(organisation, which))?;
            String::from_utf8(bytes).map_err(|_| StoreError::corrupt("a sealed Stripe key is not text"))
        };
        Ok(Some(StripeKeys {
            secret_key: open("secret_key_sealed", "secret key")?,
            webhook_secret: open("webhook_secret_sealed", "webhook secret")?,
            livemode: get_i64(&row, "livemode")? != 0,
        }))
    }

    /// Disconnects the organisation from Stripe; whether it was connected. Payments made stay.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn disconnect_stripe(&self, organisation: OrganisationId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM stripe_accounts WHERE organisation_id = $1").bind(organisation.to_string()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a Checkout Session made for a submission.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_payment(&self, new: &NewPayment, now: OffsetDateTime) -> Result<Payment, StoreError> {
        sqlx::query(
            "INSERT INTO payments (id, submission_id, organisation_id, session_id, checkout_url, amount_minor, currency, status, send_when_paid, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new.id.to_string())
        .bind(new.submission.to_string())
        .bind(new.organisation.to_string())
        .bind(&new.session_id)
        .bind(&new.checkout_url)
        .bind(new.amount_minor)
        .bind(&new.currency)
        .bind(PaymentStatus::Open.as_str())
        .bind(i64::from(new.send_when_paid))
        .bind(secs(now))
        .bind(secs(new.expires_at))
        .execute(&self.pool)
        .await?;
        self.payment(new.id).await
    }

    /// One payment.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn payment(&self, id: PaymentId) -> Result<Payment, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("payment", id))?;
        payment_from(&row)
    }

    /// The payment for a Checkout Session, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn payment_by_session(&self, session_id: &str) -> Result<Option<Payment>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE session_id = $1")).bind(session_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(payment_from).transpose()
    }

    /// A submission's payments, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn payments_of(&self, submission: SubmissionId) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE submission_id = $1 ORDER BY created_at DESC, id DESC"))
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(payment_from).collect()
    }

    /// Settles a paid Checkout Session, once: the payment becomes paid with its PaymentIntent;
    /// the submission's fee, if due, becomes paid (and, for a micro-credential's fee paid once,
    /// the learner's other levels' `covers`), with audit entries; `effects` are written only when
    /// the payment is settled now. One transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn settle_payment(
        &self,
        session_id: &str,
        payment_intent: Option<&str>,
        covers: &[AchievementId],
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<Settled, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE payments SET status = $1, payment_intent = COALESCE($2, payment_intent), paid_at = $3, checkout_url = NULL \
             WHERE session_id = $4 AND status IN ($5, $6)",
        )
        .bind(PaymentStatus::Paid.as_str())
        .bind(payment_intent)
        .bind(secs(now))
        .bind(session_id)
        .bind(PaymentStatus::Open.as_str())
        .bind(PaymentStatus::Expired.as_str())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE session_id = $1")).bind(session_id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(Settled::Unknown);
        };
        let payment = payment_from(&row)?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Settled::Before(payment));
        }
        let submission =
            sqlx::query("SELECT status, fee_state FROM submissions WHERE id = $1").bind(payment.submission.to_string()).fetch_one(&mut *tx).await?;
        let status = get_status(&submission, "status")?;
        let fee_settled = get_string(&submission, "fee_state")? == FeeState::Due.as_str();
        if fee_settled {
            let fee = FeeState::Paid;
            sqlx::query("UPDATE submissions SET fee_state = $1, voucher_code = NULL, updated_at = $2 WHERE id = $3")
                .bind(fee.as_str())
                .bind(secs(now))
                .bind(payment.submission.to_string())
                .execute(&mut *tx)
                .await?;
            let note = format!("{} online ({})", fee_note(&fee), payment.amount());
            insert_event(&mut tx, payment.submission, Some(status), status, None, &note, now).await?;
            cover_levels(&mut tx, payment.submission, covers, &fee, None, now).await?;
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(Settled::Now { payment, fee_settled })
    }

    /// An open session that expired unpaid; whether it was open.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn expire_payment(&self, session_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE payments SET status = $1, checkout_url = NULL WHERE session_id = $2 AND status = $3")
            .bind(PaymentStatus::Expired.as_str())
            .bind(session_id)
            .bind(PaymentStatus::Open.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a paid payment's refund (by Cairn or from Stripe's dashboard), once; whether it
    /// was paid until now.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_refund(&self, payment: PaymentId, refund_id: Option<&str>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE payments SET status = $1, refund_id = COALESCE($2, refund_id), refunded_at = $3 WHERE id = $4 AND status IN ($5, $6)")
            .bind(PaymentStatus::Refunded.as_str())
            .bind(refund_id)
            .bind(secs(now))
            .bind(payment.to_string())
            .bind(PaymentStatus::Paid.as_str())
            .bind(PaymentStatus::RefundFailed.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A refund Stripe refused: staff settle it by hand.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_refund_failure(&self, payment: PaymentId) -> Result<(), StoreError> {
        sqlx::query("UPDATE payments SET status = $1 WHERE id = $2 AND status = $3")
            .bind(PaymentStatus::RefundFailed.as_str())
            .bind(payment.to_string())
            .bind(PaymentStatus::Paid.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The payment with this PaymentIntent, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn payment_by_intent(&self, payment_intent: &str) -> Result<Option<Payment>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE payment_intent = $1")).bind(payment_intent).fetch_optional(&self.pool).await?;
        row.as_ref().map(payment_from).transpose()
    }

    /// Takes a webhook event once: `false` when it was taken before.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn take_stripe_event(&self, event_id: &str, organisation: OrganisationId, kind: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let inserted =
            sqlx::query("INSERT INTO stripe_events (event_id, organisation_id, kind, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING")
                .bind(event_id)
                .bind(organisation.to_string())
                .bind(kind)
                .bind(secs(now))
                .execute(&self.pool)
                .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Forgets a webhook event taken but not acted on (acting failed), so Stripe's next
    /// delivery of it is taken.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn forget_stripe_event(&self, event_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM stripe_events WHERE event_id = $1").bind(event_id).execute(&self.pool).await?;
        Ok(())
    }
}

/// The learner's drafts for the levels `covers` whose fee the refunded payment on `paid_on`
/// settled owe it again, each with an audit entry by the learner.
pub(super) async fn owe_again(tx: &mut Tx, paid_on: SubmissionId, covers: &[AchievementId], learner: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
    if covers.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..covers.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT o.id, o.status FROM submissions o JOIN submissions p ON p.learner_id = o.learner_id \
         WHERE p.id = $1 AND o.id <> p.id AND o.fee_state = $2 AND o.status = $3 AND o.achievement_id IN ({}) ORDER BY o.id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(paid_on.to_string()).bind(FeeState::Paid.as_str()).bind(cairn_core::submission::Status::Draft.as_str());
    for achievement in covers {
        query = query.bind(achievement.to_string());
    }
    for row in query.fetch_all(&mut **tx).await? {
        let id: SubmissionId = get_id(&row, "id")?;
        sqlx::query("UPDATE submissions SET fee_state = $1, updated_at = $2 WHERE id = $3")
            .bind(FeeState::Due.as_str())
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
        let status = get_status(&row, "status")?;
        insert_event(tx, id, Some(status), status, Some(learner), "fee due again: the micro-credential's fee paid online was refunded", now).await?;
    }
    Ok(())
}
