//! Running the outbox: the side effects that use cases write in the same transaction as their
//! state change (`cairn_store::Effect`), handled here, after the commit.
//!
//! - `AwardPassed` — a passed (or confirmed) submission gets its award
//!   (`assessment::award_pass`); done once the submission is awarded.
//! - `Stack` — after any award, every micro-credential and certificate it completes is awarded
//!   (`stacks::complete`); done when they are held.
//! - `Notify` — a notification and its e-mail, delivered under the effect's id.
//! - `Email` — an e-mail to an address that may have no account (a collaborator's invitation),
//!   queued in the mail outbox under the effect's id.
//! - `AwardBatch` — a bulk award's pending rows are awarded (`award_batches::run`), chunk by
//!   chunk; done when none is pending.
//! - `FlagDuplicates` — a sent attempt's evidence is compared with other learners' for the same
//!   achievement (`submissions::flag_duplicates`); running it again sets the same flags.
//! - `Webhook` — an event for the organisation's webhook endpoints, fanned out into one delivery
//!   per endpoint under the effect's id (`webhooks::publish`); running it again adds none.
//!
//! - `SendPaid` — a submission whose fee was just paid online is sent, as its learner asked
//!   (`payments::send_paid`); one already sent is left alone.
//! - `Refund` — a fee paid online is refunded at Stripe under an idempotency key
//!   (`payments::refund`); a payment refunded already is left alone.
//!
//! Every handler may run twice (a runner can die between doing the work and recording it done,
//! and two runners may race once a lease ends): running one twice gives one award and one
//! notification. [`settle`] runs what a use case just wrote, and what that leads to, before the
//! use case returns, so a caller sees the award at once; correctness never depends on it: what it
//! does not finish, [`drain`] does, from the job runner (`jobs.rs`), at start-up ([`recover`])
//! and on every tick. Failures are retried with [`backoff`]; after
//! `cairn_store::MAX_EFFECT_ATTEMPTS` the effect is given up and kept with its last error.

use cairn_core::ids::EffectId;
use cairn_core::submission::Status;
use cairn_store::{ClaimedEffect, Effect, NewEffect, Notice, Retry};
use time::Duration;

use crate::crash::{self, CrashPoint};
use crate::{App, AppError};

/// Most effects one claim takes.
const BATCH: usize = 50;
/// Most effects one [`drain`] runs (the rest wait for the next tick).
const MAX_PER_DRAIN: usize = 1000;
/// Most effects one [`settle`] runs: what a use case wrote and what that led to.
const MAX_PER_SETTLE: usize = 64;

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub done: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    /// Failed for the last time.
    pub given_up: usize,
}

impl DrainReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => self.done += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::GivenUp => self.given_up += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Retried,
    GivenUp,
}

/// How long after failed attempt `attempt` (from 1) the effect is tried again: 30 seconds,
/// doubling, at most an hour.
pub fn backoff(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(7);
    Duration::seconds(30 * (1_i64 << doublings)).min(Duration::hours(1))
}

/// Runs every due effect, in batches, until none is due (or [`MAX_PER_DRAIN`] ran).
pub async fn drain(app: &App) -> DrainReport {
    let mut report = DrainReport::default();
    let mut ran = 0;
    while ran < MAX_PER_DRAIN {
        let claimed = match app.store.claim_due_effects(app.now(), BATCH).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "claiming due effects failed");
                break;
            }
        };
        if claimed.is_empty() {
            break;
        }
        ran += claimed.len();
        for effect in claimed {
            report.add(run(app, &effect).await.0);
        }
    }
    report
}

/// What a restart does first: effects and mail this instance had claimed when it died are due
/// again at once, then everything due runs.
pub async fn recover(app: &App) -> DrainReport {
    match app.store.release_claimed_effects(app.now()).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "effects left claimed by a stopped runner are due again"),
        Err(error) => tracing::warn!(%error, "releasing claimed effects failed"),
    }
    match app.store.release_claimed_mail().await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "mail left claimed by this instance before it stopped is due again"),
        Err(error) => tracing::warn!(%error, "releasing claimed mail failed"),
    }
    match app.store.repair_stranded_passes(app.now()).await {
        Ok(repaired) if repaired.is_empty() => {}
        Ok(repaired) => tracing::warn!(count = repaired.len(), "passes left without their award are awarded now"),
        Err(error) => tracing::warn!(%error, "looking for passes left without their award failed"),
    }
    drain(app).await
}

/// Runs `effects`, just written by a use case, and the effects they write in turn, now. An
/// effect another runner holds, or one that fails, is left to the job runner.
pub(crate) async fn settle(app: &App, effects: &[NewEffect]) {
    let mut queue: std::collections::VecDeque<EffectId> = effects.iter().map(|e| e.id).collect();
    let mut ran = 0;
    while let Some(id) = queue.pop_front() {
        if ran == MAX_PER_SETTLE {
            break;
        }
        let claimed = match app.store.claim_effect(id, app.now()).await {
            Ok(Some(claimed)) => claimed,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(effect = %id, %error, "claiming an effect failed; the job runner will run it");
                continue;
            }
        };
        ran += 1;
        let (_, follow_ups) = run(app, &claimed).await;
        queue.extend(follow_ups);
    }
}

/// Runs one claimed effect and records the outcome; returns it with the ids of the effects it
/// wrote.
async fn run(app: &App, effect: &ClaimedEffect) -> (Outcome, Vec<EffectId>) {
    match handle(app, effect).await {
        Ok(follow_ups) => {
            if let Err(error) = app.store.complete_effect(effect.id, app.now()).await {
                // It ran; it will run again and find its work done.
                tracing::warn!(effect = %effect.id, %error, "recording an effect as done failed");
            }
            (Outcome::Done, follow_ups)
        }
        Err(error) => {
            let now = app.now();
            let message = error.to_string();
            match app.store.retry_effect(effect.id, &message, now + backoff(effect.attempt), now).await {
                Ok(Retry::Scheduled(at)) => {
                    tracing::warn!(effect = %effect.id, kind = effect.effect.kind().as_str(), attempt = effect.attempt, %message, retry_at = %crate::timestamp(at), "effect failed; will retry");
                    (Outcome::Retried, Vec::new())
                }
                Ok(Retry::GaveUp) => {
                    tracing::error!(effect = %effect.id, kind = effect.effect.kind().as_str(), attempt = effect.attempt, %message, "effect failed for the last time; given up");
                    (Outcome::GivenUp, Vec::new())
                }
                Err(store_error) => {
                    tracing::warn!(effect = %effect.id, %message, %store_error, "recording an effect's failure failed");
                    (Outcome::Retried, Vec::new())
                }
            }
        }
    }
}

/// Does what an effect asks, idempotently; returns the ids of the effects it wrote.
async fn handle(app: &App, effect: &ClaimedEffect) -> Result<Vec<EffectId>, AppError> {
    match &effect.effect {
        Effect::AwardPassed { submission } => {
            let written = match crate::assessment::award_pass(app, *submission).await {
                Ok(Some((_, written))) => written,
                Ok(None) => return Ok(Vec::new()),
                // Awarded meanwhile by another runner: done.
                Err(error @ AppError::Conflict { .. }) => {
                    if app.store.submission(*submission).await?.status == Status::Awarded {
                        return Ok(Vec::new());
                    }
                    return Err(error);
                }
                Err(error) => return Err(error),
            };
            crash::point(CrashPoint::AwardCommitted);
            Ok(written.iter().map(|e| e.id).collect())
        }
        Effect::Stack { award } => {
            let award = app.store.award(*award).await?;
            let completed = crate::stacks::complete(app, &award).await?;
            if completed.is_empty() {
                return Ok(Vec::new());
            }
            crash::point(CrashPoint::StackCommitted);
            Ok(completed.iter().flat_map(|(_, written)| written.iter().map(|e| e.id)).collect())
        }
        Effect::FlagDuplicates { submission } => {
            crate::submissions::flag_duplicates(app, *submission).await?;
            Ok(Vec::new())
        }
        Effect::Email(letter) => {
            app.store.deliver_letter(effect.id, letter, app.now()).await?;
            Ok(Vec::new())
        }
        Effect::AwardBatch { batch } => {
            crate::award_batches::run(app, *batch).await?;
            Ok(Vec::new())
        }
        Effect::Notify(notice) => {
            deliver(app, effect.id, notice).await?;
            crash::point(CrashPoint::NoticeDelivered);
            Ok(Vec::new())
        }
        Effect::Webhook(event) => {
            crate::webhooks::publish(app, effect.id, event).await?;
            Ok(Vec::new())
        }
        Effect::SendPaid { submission } => {
            // Boxed: sending settles the effects it writes, which may lead back here.
            Box::pin(crate::payments::send_paid(app, *submission)).await?;
            Ok(Vec::new())
        }
        Effect::Refund { payment } => {
            Box::pin(crate::payments::refund(app, *payment)).await?;
            Ok(Vec::new())
        }
    }
}

/// The notification and its e-mail, once per effect.
async fn deliver(app: &App, id: EffectId, notice: &Notice) -> Result<(), AppError> {
    let person = app.store.user(notice.user).await?;
    let mail_body = format!("Hello {},\n\n{}\n\n{}\n", person.name, notice.body, app.config.url(&notice.link));
    app.store.deliver_notice(id, notice, &person.email, &mail_body, app.now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|attempt| backoff(attempt).whole_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(u32::MAX), Duration::hours(1));
    }
}
