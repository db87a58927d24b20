//! The outbox of side effects: what must happen after a state change — award a passed
//! submission, stack level badges into their micro-credential, tell someone — written as rows of
//! `effects` in the same transaction as the change that causes them, then run by the job runner.
//!
//! A runner claims a due effect with a conditional update (so of two runners racing for it, one
//! wins), runs it, and completes it, or reschedules it after a failure, giving up after
//! [`MAX_EFFECT_ATTEMPTS`] (the effect stays, with its last error and `failed_at`). A claim is a
//! lease of [`EFFECT_LEASE`]: an effect whose runner died is due again when the lease ends, or at
//! once after [`Store::release_claimed_effects`] (what a restart does). An effect may therefore
//! run more than once; running one twice must do what running it once does.

use crate::assessment::Tx;
use crate::rows::{get_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, get_u64, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::{AwardBatchId, AwardId, EffectId, PaymentId, SubmissionId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_core::webhook::EventKind;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

/// An effect is given up once this many attempts have failed (or died with their runner).
pub const MAX_EFFECT_ATTEMPTS: u32 = 8;

/// How long a claim holds an effect before another runner may take it.
pub const EFFECT_LEASE: Duration = Duration::minutes(5);

/// What must happen after a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A passed (or confirmed) submission gets its award; written with the judgement or the
    /// confirmation, so a pass is never left without its award.
    AwardPassed { submission: SubmissionId },
    /// After a level award: award the micro-credential when the learner now holds every level.
    Stack { award: AwardId },
    /// Tell someone: an in-app notification and an e-mail in the mail outbox.
    Notify(Notice),
    /// A sent attempt is compared with the other learners' evidence for the same achievement and
    /// the matches are flagged on both sides; written with the sending.
    FlagDuplicates { submission: SubmissionId },
    /// An e-mail to someone who may have no account (an invitation): queued in the mail outbox.
    Email(Letter),
    /// A bulk award's rows are awarded, chunk by chunk, until none waits; written when it starts.
    AwardBatch { batch: AwardBatchId },
    /// Tell the organisation's webhook endpoints: the event is fanned out into one delivery per
    /// subscribed endpoint (the message id is the effect's).
    Webhook(WebhookEvent),
    /// A submission whose fee was just paid online is sent, as its learner asked ("Pay and
    /// send"); written with the payment.
    SendPaid { submission: SubmissionId },
    /// A fee paid online is refunded at Stripe; written with the withdrawal.
    Refund { payment: PaymentId },
}

/// What happened, for the webhook endpoints of the organisation it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub kind: EventKind,
    pub subject: WebhookSubject,
    /// When it happened.
    pub at: OffsetDateTime,
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSubject {
    Award(AwardId),
    Submission(SubmissionId),
}

/// The kind of an [`Effect`], stored as text beside its JSON payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EffectKind {
    AwardPassed,
    Stack,
    Notify,
    FlagDuplicates,
    Email,
    AwardBatch,
    Webhook,
    SendPaid,
    Refund,
}

impl EffectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::AwardPassed => "award_passed",
            EffectKind::Stack => "stack",
            EffectKind::Notify => "notify",
            EffectKind::FlagDuplicates => "flag_duplicates",
            EffectKind::Email => "email",
            EffectKind::AwardBatch => "award_batch",
            EffectKind::Webhook => "webhook",
            EffectKind::SendPaid => "send_paid",
            EffectKind::Refund => "refund",
        }
    }

    pub fn parse(raw: &str) -> Option<EffectKind> {
        [
            EffectKind::AwardPassed,
            EffectKind::Stack,
            EffectKind::Notify,
            EffectKind::FlagDuplicates,
            EffectKind::Email,
            EffectKind::AwardBatch,
            EffectKind::Webhook,
            EffectKind::SendPaid,
            EffectKind::Refund,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }
}

impl Effect {
    pub fn kind(&self) -> EffectKind {
        match self {
            Effect::AwardPassed { .. } => EffectKind::AwardPassed,
            Effect::Stack { .. } => EffectKind::Stack,
            Effect::Notify(_) => EffectKind::Notify,
            Effect::FlagDuplicates { .. } => EffectKind::FlagDuplicates,
            Effect::Email(_) => EffectKind::Email,
            Effect::AwardBatch { .. } => EffectKind::AwardBatch,
            Effect::Webhook(_) => EffectKind::Webhook,
            Effect::SendPaid { .. } => EffectKind::SendPaid,
            Effect::Refund { .. } => EffectKind::Refund,
        }
    }
}

/// Something to tell one person, with a site-relative `link`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub user: UserId,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    pub link: String,
}

/// An e-mail to an address, with a whole body (links absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub to: Email,
    pub subject: String,
    pub body: String,
}

/// An effect to write with a state change. The caller picks the id, so that it can run the
/// effect at once after the commit (see `cairn_app::effects`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEffect {
    pub id: EffectId,
    pub effect: Effect,
}

impl From<Effect> for NewEffect {
    fn from(effect: Effect) -> NewEffect {
        NewEffect { id: EffectId::new(), effect }
    }
}

/// An effect a runner holds: run it, then complete or retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEffect {
    pub id: EffectId,
    pub effect: Effect,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    pub created_at: OffsetDateTime,
}

/// Where an effect stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectState {
    /// Waiting for its next attempt, or claimed by a runner.
    Pending,
    Done,
    /// Given up after [`MAX_EFFECT_ATTEMPTS`].
    Failed,
}

/// A stored effect, as the operators (and the tests) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectRecord {
    pub id: EffectId,
    pub effect: Effect,
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub claimed_at: Option<OffsetDateTime>,
    pub done_at: Option<OffsetDateTime>,
    pub failed_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

impl EffectRecord {
    pub fn state(&self) -> EffectState {
        match (self.done_at, self.failed_at) {
            (Some(_), _) => EffectState::Done,
            (None, Some(_)) => EffectState::Failed,
            (None, None) => EffectState::Pending,
        }
    }
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Due again at this time.
    Scheduled(OffsetDateTime),
    /// That was the last attempt: the effect is failed and stays for the operators.
    GaveUp,
}

#[derive(Serialize, Deserialize)]
struct SubmissionPayload {
    submission: String,
}

#[derive(Serialize, Deserialize)]
struct AwardPayload {
    award: String,
}

#[derive(Serialize, Deserialize)]
struct BatchPayload {
    batch: String,
}

#[derive(Serialize, Deserialize)]
struct WebhookPayload {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    award: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    submission: Option<String>,
    at: i64,
}

#[derive(Serialize, Deserialize)]
struct PaymentPayload {
    payment: String,
}

#[derive(Serialize, Deserialize)]
struct LetterPayload {
    to: String,
    subject: String,
    body: String,
}

#[derive(Serialize, Deserialize)]
struct NoticePayload {
    user: String,
    kind: String,
    subject: String,
    body: String,
    link: String,
}

fn payload_json(effect: &Effect) -> String {
    let json = match effect {
        Effect::AwardPassed { submission } | Effect::FlagDuplicates { submission } | Effect::SendPaid { submission } => {
            serde_json::to_string(&SubmissionPayload { submission: submission.to_string() })
        }
        Effect::Stack { award } => serde_json::to_string(&AwardPayload { award: award.to_string() }),
        Effect::Refund { payment } => serde_json::to_string(&PaymentPayload { payment: payment.to_string() }),
        Effect::AwardBatch { batch } => serde_json::to_string(&BatchPayload { batch: batch.to_string() }),
        Effect::Notify(notice) => serde_json::to_string(&NoticePayload {
            user: notice.user.to_string(),
            kind: notice.kind.as_str().to_string(),
            subject: notice.subject.clone(),
            body: notice.body.clone(),
            link: notice.link.clone(),
        }),
        Effect::Email(letter) => {
            serde_json::to_string(&LetterPayload { to: letter.to.as_str().to_string(), subject: letter.subject.clone(), body: letter.body.clone() })
        }
        Effect::Webhook(event) => {
            let (award, submission) = match event.subject {
                WebhookSubject::Award(award) => (Some(award.to_string()), None),
                WebhookSubject::Submission(submission) => (None, Some(submission.to_string())),
            };
            serde_json::to_string(&WebhookPayload { kind: event.kind.as_str().to_string(), award, submission, at: secs(event.at) })
        }
    };
    // Serialising a struct of strings cannot fail.
    json.unwrap_or_default()
}

fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| StoreError::corrupt(format!("effect {what} \"{raw}\"")))
}

fn effect_from_parts(kind: &str, payload: &str) -> Result<Effect, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::corrupt(format!("{kind} effect payload: {e}"));
    match EffectKind::parse(kind) {
        Some(EffectKind::AwardPassed) => {
            let p: SubmissionPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::AwardPassed { submission: parse_id(&p.submission, "submission")? })
        }
        Some(EffectKind::FlagDuplicates) => {
            let p: SubmissionPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::FlagDuplicates { submission: parse_id(&p.submission, "submission")? })
        }
        Some(EffectKind::SendPaid) => {
            let p: SubmissionPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::SendPaid { submission: parse_id(&p.submission, "submission")? })
        }
        Some(EffectKind::Refund) => {
            let p: PaymentPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::Refund { payment: parse_id(&p.payment, "payment")? })
        }
        Some(EffectKind::Stack) => {
            let p: AwardPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::Stack { award: parse_id(&p.award, "award")? })
        }
        Some(EffectKind::Notify) => {
            let p: NoticePayload = serde_json::from_str(payload).map_err(corrupt)?;
            let notification = NotificationKind::parse(&p.kind).ok_or_else(|| StoreError::corrupt(format!("notification kind \"{}\"", p.kind)))?;
            Ok(Effect::Notify(Notice { user: parse_id(&p.user, "user")?, kind: notification, subject: p.subject, body: p.body, link: p.link }))
        }
        Some(EffectKind::Email) => {
            let p: LetterPayload = serde_json::from_str(payload).map_err(corrupt)?;
            let to = Email::parse(&p.to).map_err(|_| StoreError::corrupt(format!("effect e-mail address \"{}\"", p.to)))?;
            Ok(Effect::Email(Letter { to, subject: p.subject, body: p.body }))
        }
        Some(EffectKind::AwardBatch) => {
            let p: BatchPayload = serde_json::from_str(payload).map_err(corrupt)?;
            Ok(Effect::AwardBatch { batch: parse_id(&p.batch, "batch")? })
        }
        Some(EffectKind::Webhook) => {
            let p: WebhookPayload = serde_json::from_str(payload).map_err(corrupt)?;
            let kind = EventKind::parse(&p.kind).ok_or_else(|| StoreError::corrupt(format!("webhook event \"{}\"", p.kind)))?;
            let subject = match (p.award, p.submission) {
                (Some(award), None) => WebhookSubject::Award(parse_id(&award, "award")?),
                (None, Some(submission)) => WebhookSubject::Submission(parse_id(&submission, "submission")?),
                _ => return Err(StoreError::corrupt("a webhook effect names neither an award nor a submission")),
            };
            let at = OffsetDateTime::from_unix_timestamp(p.at).map_err(|_| StoreError::corrupt("a webhook effect's time"))?;
            Ok(Effect::Webhook(WebhookEvent { kind, subject, at }))
        }
        None => Err(StoreError::corrupt(format!("effect kind \"{kind}\""))),
    }
}

fn effect_from(row: &AnyRow) -> Result<Effect, StoreError> {
    effect_from_parts(&get_string(row, "kind")?, &get_string(row, "payload")?)
}

fn record_from(row: &AnyRow) -> Result<EffectRecord, StoreError> {
    Ok(EffectRecord {
        id: get_id(row, "id")?,
        effect: effect_from(row)?,
        created_at: get_time(row, "created_at")?,
        attempts: get_u32(row, "attempts")?,
        next_attempt_at: get_time(row, "next_attempt_at")?,
        claimed_at: get_opt_time(row, "claimed_at")?,
        done_at: get_opt_time(row, "done_at")?,
        failed_at: get_opt_time(row, "failed_at")?,
        last_error: get_opt_string(row, "last_error")?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes `effects` inside `tx`, due at once: the state change that causes them commits them.
pub(crate) async fn insert_effects(tx: &mut Tx, effects: &[NewEffect], now: OffsetDateTime) -> Result<(), StoreError> {
    for new in effects {
        sqlx::query("INSERT INTO effects (id, kind, payload, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $4)")
            .bind(new.id.to_string())
            .bind(new.effect.kind().as_str())
            .bind(payload_json(&new.effect))
            .bind(secs(now))
            .execute(&mut **tx)
            .await
            .map_err(crate::error::conflict_on_unique("effects.id", format!("effect {} exists", new.id)))?;
    }
    Ok(())
}

/// The condition of an effect a runner may claim at `$1`.
const CLAIMABLE: &str = "done_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1";

/// How much work waits in the outboxes (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Effects neither done nor given up.
    pub effects: u64,
    /// Effects given up after their last attempt (kept for the operators).
    pub effects_failed: u64,
    /// Mail not sent and not given up.
    pub mail: u64,
    /// Webhook deliveries still to be made.
    pub webhooks: u64,
}

impl Store {
    /// How much work waits in the effects, mail and webhook outboxes.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM effects WHERE done_at IS NULL AND failed_at IS NULL) AS effects, \
                    (SELECT COUNT(*) FROM effects WHERE failed_at IS NOT NULL) AS effects_failed, \
                    (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND attempts < $1) AS mail, \
                    (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending') AS webhooks",
        )
        .bind(i64::from(crate::MAX_MAIL_ATTEMPTS))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueDepths {
            effects: get_u64(&row, "effects")?,
            effects_failed: get_u64(&row, "effects_failed")?,
            mail: get_u64(&row, "mail")?,
            webhooks: get_u64(&row, "webhooks")?,
        })
    }
}

impl Store {
    /// Writes effects on their own, due at once (for a cause that is not a stored state change,
    /// and for tests); a use case writes them with its state change instead.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`effects.id`) for an id already used; nothing is written then.
    pub async fn enqueue_effects(&self, effects: &[NewEffect], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due effects, oldest due first, for [`EFFECT_LEASE`]. Each claim is a
    /// conditional update, so an effect another runner claimed meanwhile is skipped. Effects
    /// already attempted [`MAX_EFFECT_ATTEMPTS`] times (their runners died) are given up first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure; [`StoreError::Corrupt`] for an effect that
    /// does not parse.
    pub async fn claim_due_effects(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<ClaimedEffect>, StoreError> {
        sqlx::query(&format!(
            "UPDATE effects SET failed_at = $1, claimed_at = NULL, last_error = COALESCE(last_error, 'the runner stopped during every attempt') \
             WHERE {CLAIMABLE} AND attempts >= $2"
        ))
        .bind(secs(now))
        .bind(i64::from(MAX_EFFECT_ATTEMPTS))
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(&format!("SELECT id FROM effects WHERE {CLAIMABLE} ORDER BY next_attempt_at, created_at, id LIMIT $2"))
            .bind(secs(now))
            .bind(self::limit(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(effect) = self.claim_effect(get_id(row, "id")?, now).await? {
                claimed.push(effect);
            }
        }
        Ok(claimed)
    }

    /// Claims one effect if it is due and nobody holds it (`None` otherwise: done, failed,
    /// claimed by another runner, or unknown).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure; [`StoreError::Corrupt`] for an effect that
    /// does not parse.
    pub async fn claim_effect(&self, id: EffectId, now: OffsetDateTime) -> Result<Option<ClaimedEffect>, StoreError> {
        let result = sqlx::query(&format!(
            "UPDATE effects SET attempts = attempts + 1, claimed_at = $1, next_attempt_at = $2, claimed_by = $5 WHERE id = $3 AND {CLAIMABLE} AND attempts < $4"
        ))
        .bind(secs(now))
        .bind(secs(now + EFFECT_LEASE))
        .bind(id.to_string())
        .bind(i64::from(MAX_EFFECT_ATTEMPTS))
        .bind(self.instance.as_ref())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        let record = self.effect(id).await?;
        Ok(Some(ClaimedEffect { id, effect: record.effect, attempt: record.attempts, created_at: record.created_at }))
    }

    /// Records an effect as done. Completing it again (another runner finished it too) is
    /// harmless.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn complete_effect(&self, id: EffectId, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE effects SET done_at = $1, claimed_at = NULL WHERE id = $2 AND done_at IS NULL")
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            self.effect(id).await?;
        }
        Ok(())
    }

    /// Records a failed attempt with its error: the effect is due again at `next_at`, or, when
    /// that was attempt [`MAX_EFFECT_ATTEMPTS`], given up (`failed_at`), kept for the operators.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Conflict`] (`effects.state`)
    /// when it is already done or given up.
    pub async fn retry_effect(&self, id: EffectId, error: &str, next_at: OffsetDateTime, now: OffsetDateTime) -> Result<Retry, StoreError> {
        let mut tx = self.pool.begin().await?;
        let scheduled = sqlx::query(
            "UPDATE effects SET last_error = $1, claimed_at = NULL, next_attempt_at = $2 \
             WHERE id = $3 AND done_at IS NULL AND failed_at IS NULL AND attempts < $4",
        )
        .bind(error)
        .bind(secs(next_at))
        .bind(id.to_string())
        .bind(i64::from(MAX_EFFECT_ATTEMPTS))
        .execute(&mut *tx)
        .await?;
        if scheduled.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(Retry::Scheduled(next_at));
        }
        let given_up =
            sqlx::query("UPDATE effects SET last_error = $1, claimed_at = NULL, failed_at = $2 WHERE id = $3 AND done_at IS NULL AND failed_at IS NULL")
                .bind(error)
                .bind(secs(now))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        if given_up.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(Retry::GaveUp);
        }
        drop(tx);
        self.effect(id).await?;
        Err(StoreError::Conflict { constraint: "effects.state", detail: format!("effect {id} is no longer pending") })
    }

    /// Makes the effects this instance ([`Store::with_instance`]) had claimed due at once: what a
    /// runner does when it starts, since the claims it held when it died would otherwise wait
    /// for their lease to end. Claims of other instances, which may be running, wait for their
    /// lease; claims from before instances were named are released. Returns how many were
    /// released.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn release_claimed_effects(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE effects SET claimed_at = NULL, next_attempt_at = $1 WHERE claimed_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL \
                 AND (claimed_by = $2 OR claimed_by IS NULL)",
        )
        .bind(secs(now))
        .bind(self.instance.as_ref())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// Passes left without their award by a crash before the outbox existed: submissions at
    /// `passed` whose latest pass is confirmed, or needs no confirmation (the issuer does not
    /// confirm passes), with no award and no `AwardPassed` effect still to run. Each gets an
    /// `AwardPassed` effect, due at once; returns their ids. A pass that waits for staff to
    /// confirm it is left alone.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn repair_stranded_passes(&self, now: OffsetDateTime) -> Result<Vec<SubmissionId>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT s.id FROM submissions s \
             JOIN assessments a ON a.submission_id = s.id \
               AND a.attempt = (SELECT MAX(l.attempt) FROM assessments l WHERE l.submission_id = s.id) \
             LEFT JOIN issuer_settings st ON st.organisation_id = s.organisation_id \
             WHERE s.status = 'passed' AND a.outcome = 'pass' \
               AND (a.confirmed_at IS NOT NULL OR COALESCE(st.confirm_passes, 0) = 0) \
               AND NOT EXISTS (SELECT 1 FROM awards w WHERE w.submission_id = s.id) \
             ORDER BY s.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut repaired = Vec::new();
        for row in rows {
            let submission: SubmissionId = parse_id(&get_string(&row, "id")?, "submission")?;
            let payload = payload_json(&Effect::AwardPassed { submission });
            let pending = sqlx::query("SELECT 1 FROM effects WHERE kind = $1 AND payload = $2 AND done_at IS NULL AND failed_at IS NULL")
                .bind(EffectKind::AwardPassed.as_str())
                .bind(&payload)
                .fetch_optional(&mut *tx)
                .await?;
            if pending.is_none() {
                insert_effects(&mut tx, &[NewEffect::from(Effect::AwardPassed { submission })], now).await?;
                repaired.push(submission);
            }
        }
        tx.commit().await?;
        Ok(repaired)
    }

    /// One effect.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn effect(&self, id: EffectId) -> Result<EffectRecord, StoreError> {
        let row = sqlx::query("SELECT * FROM effects WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("effect", id))?;
        record_from(&row)
    }

    /// The newest `limit` effects, whatever their state, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn effects(&self, limit: usize) -> Result<Vec<EffectRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM effects ORDER BY created_at DESC, id DESC LIMIT $1").bind(self::limit(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(record_from).collect()
    }

    /// How many effects wait for a runner (due or not, claimed or not).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn pending_effect_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM effects WHERE done_at IS NULL AND failed_at IS NULL").fetch_one(&self.pool).await?;
        Ok(u64::try_from(crate::rows::get_i64(&row, "n")?).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_round_trip_through_kind_and_payload() {
        let effects = [
            Effect::AwardPassed { submission: SubmissionId::new() },
            Effect::Stack { award: AwardId::new() },
            Effect::Notify(Notice {
                user: UserId::new(),
                kind: NotificationKind::AwardRevoked,
                subject: "\"Intro\" was revoked".into(),
                body: "Line one\nLine \u{e9}".into(),
                link: "/awards/x".into(),
            }),
            Effect::Email(Letter {
                to: Email::parse("sam@example.org").unwrap(),
                subject: "Lena named you as a collaborator".into(),
                body: "Hello,\n\nhttps://cairn.example/signup".into(),
            }),
        ];
        for effect in effects {
            let back = effect_from_parts(effect.kind().as_str(), &payload_json(&effect)).unwrap();
            assert_eq!(back, effect);
        }
    }

    #[test]
    fn unknown_kinds_and_bad_payloads_are_corrupt() {
        assert!(matches!(effect_from_parts("launch", "{}"), Err(StoreError::Corrupt(_))));
        assert!(matches!(effect_from_parts("stack", "{\"award\":\"nope\"}"), Err(StoreError::Corrupt(_))));
        assert!(matches!(effect_from_parts("award_passed", "[]"), Err(StoreError::Corrupt(_))));
        let notice = "{\"user\":\"00000000-0000-0000-0000-000000000000\",\"kind\":\"party\",\"subject\":\"\",\"body\":\"\",\"link\":\"\"}";
        assert!(matches!(effect_from_parts("notify", notice), Err(StoreError::Corrupt(_))));
    }
}
