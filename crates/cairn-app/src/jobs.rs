//! Background work: escalating submissions that are nearly due or overdue, running the effects
//! outbox (awards of passes, stacking, notifications: see `effects.rs`), sending the mail outbox
//! over SMTP when a server is configured (otherwise mail stays in the outbox for the operator),
//! once an hour, reminding learners of awards that expire soon (90, 30 and 7 days before, each
//! once), and, once an hour, sweeping the blob store of blobs nothing refers to. Runs every
//! `job_interval_secs` in one task started by `cairn serve`, which first recovers what a previous
//! run left (claimed effects are released and everything due runs); each run, and each duty, is
//! also callable directly.

use cairn_core::calendar::{Calendar, DueState};
use cairn_core::ids::OrganisationId;
use cairn_core::notification::NotificationKind;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::{HashMap, hash_map::Entry};
use std::time::Duration;

use crate::effects::{self, DrainReport};
use crate::notify::{format_day, notice, staff_notices};
use crate::{App, AppError};

/// Most messages sent per run.
const MAIL_BATCH: usize = 50;

/// How old a blob nothing refers to must be before the sweep deletes it. An upload writes its
/// blob before its row, so a younger one may be an upload still on its way.
pub const BLOB_GRACE: time::Duration = time::Duration::hours(1);

/// How often the blob store is swept, by one of the instances sharing the database.
pub const SWEEP_EVERY: time::Duration = time::Duration::hours(1);

/// How often learners are reminded of awards that expire soon, by one of the instances.
pub const REMIND_EVERY: time::Duration = time::Duration::hours(1);

/// Most reminders sent per run; the rest follow in the next runs.
const REMINDER_BATCH: u32 = 500;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub escalated: usize,
    /// The effects outbox.
    pub effects: DrainReport,
    pub sent: usize,
    pub failed: usize,
    /// Blobs deleted by the sweep.
    pub swept: usize,
    /// Learners reminded that an award expires soon.
    pub reminded: usize,
    /// Webhook deliveries attempted.
    pub webhooks: usize,
}

/// Whether `raw` is a sender address such as `Cairn <badges@example.org>`.
pub fn valid_mailbox(raw: &str) -> bool {
    raw.parse::<Mailbox>().is_ok()
}

/// Starts the background loop. It first recovers the effects a previous run left unfinished
/// ([`effects::recover`]), so a restart completes anything pending. Once the app's lifecycle
/// stops ([`crate::health::Lifecycle::stop`]) it ends after the run under way, which is never cut
/// short: await the handle to let it finish.
pub fn spawn(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let recovered = effects::recover(&app).await;
        if recovered != DrainReport::default() {
            tracing::info!(done = recovered.done, retried = recovered.retried, given_up = recovered.given_up, "pending effects recovered at start-up");
        }
        let mailer = std::sync::Arc::new(Mailer::from_config(&app));
        let mut interval = tokio::time::interval(Duration::from_secs(app.config.job_interval_secs.max(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = app.lifecycle.stopped() => break,
                _ = interval.tick() => {}
            }
            let started = std::time::Instant::now();
            // Each run is a task of its own, so that a bug that panics in one duty loses that run,
            // not the instance's background work.
            let run = tokio::spawn({
                let (app, mailer) = (app.clone(), std::sync::Arc::clone(&mailer));
                async move { run_once(&app, &mailer).await }
            });
            let report = match run.await {
                Ok(report) => report,
                Err(error) => {
                    tracing::error!(%error, "a background run failed; the next run goes on");
                    app.metrics.job_failed();
                    RunReport::default()
                }
            };
            app.metrics.job_run(&report, started.elapsed().as_secs_f64());
            if report != RunReport::default() {
                tracing::info!(
                    escalated = report.escalated,
                    effects_done = report.effects.done,
                    effects_retried = report.effects.retried,
                    effects_given_up = report.effects.given_up,
                    sent = report.sent,
                    failed = report.failed,
                    swept = report.swept,
                    reminded = report.reminded,
                    webhooks = report.webhooks,
                    "background run"
                );
            }
        }
        tracing::info!("background work stopped");
    })
}

/// One pass of every background duty; failures are logged, never fatal.
pub async fn run_once(app: &App, mailer: &Mailer) -> RunReport {
    let mut report = RunReport::default();
    match escalate_due(app).await {
        Ok(n) => report.escalated = n,
        Err(error) => tracing::warn!(%error, "escalation run failed"),
    }
    match remind_when_due(app).await {
        Ok(n) => report.reminded = n,
        Err(error) => tracing::warn!(%error, "expiry reminder run failed"),
    }
    report.effects = effects::drain(app).await;
    match crate::webhooks::deliver_due(app).await {
        Ok(n) => report.webhooks = n,
        Err(error) => tracing::warn!(%error, "sending webhooks failed"),
    }
    if let Some(transport) = &mailer.transport {
        match app.store.claim_mail(MAIL_BATCH, app.now()).await {
            Ok(mails) => {
                for mail in mails {
                    let result = match build(&mailer.from, &mail.to, &mail.subject, &mail.body) {
                        Ok(message) => transport.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(error) => Err(error),
                    };
                    let now = app.now();
                    let stored = match result {
                        Ok(()) => {
                            report.sent += 1;
                            app.store.mark_mail_sent(&mail.id, now).await
                        }
                        Err(error) => {
                            report.failed += 1;
                            tracing::warn!(mail = %mail.id, %error, "sending mail failed");
                            app.store.mark_mail_failed(&mail.id, &error, now).await
                        }
                    };
                    if let Err(error) = stored {
                        tracing::warn!(%error, "recording a mail result failed");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "reading the outbox failed"),
        }
    }
    match sweep_when_due(app).await {
        Ok(n) => report.swept = n,
        Err(error) => tracing::warn!(%error, "sweeping the blob store failed"),
    }
    if let Err(error) = sweep_oauth_when_due(app).await {
        tracing::warn!(%error, "sweeping expired OAuth codes and tokens failed");
    }
    report
}

/// How long an expired or revoked OAuth code, token or grant is kept before the sweep deletes it.
pub const OAUTH_GRACE: time::Duration = time::Duration::days(1);

/// Deletes expired OAuth codes and tokens, the grants they left empty, expired wallet offers,
/// tokens and spent nonces, sign-ins with identity providers never finished, and webhook deliveries settled more than 30 days ago, when no
/// instance has for [`SWEEP_EVERY`]; returns how many rows went.
async fn sweep_oauth_when_due(app: &App) -> Result<u64, AppError> {
    if !app.store.claim_job_run("oauth_sweep", app.now(), SWEEP_EVERY).await? {
        return Ok(0);
    }
    let deleted = app.store.sweep_oauth(app.now(), OAUTH_GRACE).await?
        + app.store.sweep_wallet(app.now(), OAUTH_GRACE).await?
        + app.store.sweep_oidc_logins(app.now(), OAUTH_GRACE).await?
        + app.store.sweep_webhook_log(app.now() - cairn_core::webhook::LOG_RETENTION).await?;
    if deleted > 0 {
        tracing::info!(deleted, "expired OAuth codes, tokens and grants, and wallet offers, deleted");
    }
    Ok(deleted)
}

/// Sends the expiry reminders when no instance has for [`REMIND_EVERY`]; returns how many went.
async fn remind_when_due(app: &App) -> Result<usize, AppError> {
    if !app.store.claim_job_run("expiry_reminders", app.now(), REMIND_EVERY).await? {
        return Ok(0);
    }
    remind_expiring(app).await
}

/// Tells each learner whose active award expires within 90 days, in the app and by e-mail, once
/// per reminder (`cairn_core::award::expiry_reminder_due`): 90, 30 and 7 days before. A reminder
/// that was skipped (an award issued with 20 days left gets no 90-day reminder) is not sent late.
/// Returns how many reminders went.
///
/// # Errors
/// Store failures.
pub async fn remind_expiring(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let earliest = cairn_core::award::EXPIRY_REMINDER_DAYS[0];
    let mut reminded = 0;
    for expiring in app.store.awards_expiring(now, time::Duration::days(i64::from(earliest)), REMINDER_BATCH).await? {
        let award = &expiring.award.award;
        let Some(days) = cairn_core::award::expiry_reminder_due(award.status, award.valid_until, now) else { continue };
        if expiring.last_reminder.is_some_and(|last| last <= days) {
            continue;
        }
        let Some(until) = award.valid_until else { continue };
        let name = &expiring.award.achievement_name;
        let issuer = &expiring.award.organisation_name;
        let left = (until - now).whole_days();
        let when = match left {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            n => format!("in {n} days"),
        };
        let subject = format!("\"{name}\" expires {when}");
        let body = format!(
            "Your badge \"{name}\" from {issuer} expires on {}. After that it still shows who awarded it and when, but verifiers \
             report it as expired. See it and how to renew it on its page.",
            format_day(until)
        );
        let notices = [notice(award.learner, NotificationKind::AwardExpiring, subject, body, format!("/awards/{}", award.id))];
        if app.store.record_expiry_reminder(award.id, days, &notices, now).await? {
            effects::settle(app, &notices).await;
            reminded += 1;
        }
    }
    Ok(reminded)
}

/// Sweeps the blob store when no instance has for [`SWEEP_EVERY`]; returns how many blobs went.
async fn sweep_when_due(app: &App) -> Result<usize, AppError> {
    if !app.store.claim_job_run("blob_sweep", app.now(), SWEEP_EVERY).await? {
        return Ok(0);
    }
    Ok(sweep_blobs(app).await?.deleted)
}

/// Deletes every blob no row refers to that was last written more than [`BLOB_GRACE`] ago:
/// evidence of uploads refused after the write, artefacts removed before they were sent, the
/// files of deleted rows, replaced images. Blobs rows refer to (earlier attempts and withdrawn
/// submissions included) stay.
///
/// # Errors
/// Store failures (listing the blobs, or asking which are referenced).
pub async fn sweep_blobs(app: &App) -> Result<cairn_store::SweepReport, AppError> {
    Ok(app.store.sweep_blobs(app.now() - BLOB_GRACE).await?)
}

/// Escalates submissions that are nearly due or overdue (once each), telling the issuer's staff
/// and the assessor. Returns how many were escalated.
///
/// # Errors
/// Store failures.
pub async fn escalate_due(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let mut escalated = 0;
    let mut calendars: HashMap<OrganisationId, (Calendar, u32)> = HashMap::new();
    for candidate in app.store.escalation_candidates(now).await? {
        let (calendar, nearly_due_days) = match calendars.entry(candidate.organisation) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let settings = app.store.issuer_settings(candidate.organisation).await?;
                new.insert((settings.calendar(), settings.nearly_due_days))
            }
        };
        let due = candidate.due;
        let due_state = calendar.due_state(now, due, *nearly_due_days);
        if due_state == DueState::OnTrack {
            continue;
        }
        let organisation = candidate.organisation;
        let submission = match app.store.submission(candidate.submission).await {
            Ok(submission) => submission,
            // Deleted since it was listed.
            Err(cairn_store::StoreError::NotFound { .. }) => continue,
            Err(other) => return Err(other.into()),
        };
        let code = submission.code();
        let (subject, body) = match due_state {
            DueState::Overdue => (format!("Overdue: {code}"), format!("Submission {code} was due on {} and has no decision yet.", format_day(due))),
            _ => (format!("Nearly due: {code}"), format!("Submission {code} is due on {} and has no decision yet.", format_day(due))),
        };
        let mut notices = staff_notices(app, organisation, NotificationKind::Escalation, &subject, &body, "/issuer/assessment").await?;
        if let Some(assessor) = submission.assessor {
            notices.push(notice(assessor, NotificationKind::Escalation, &subject, &body, format!("/assess/{}", submission.id)));
        }
        if app.store.mark_escalated(submission.id, &notices, now).await? {
            effects::settle(app, &notices).await;
            escalated += 1;
        }
    }
    Ok(escalated)
}

fn build(from: &Mailbox, to: &str, subject: &str, body: &str) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("recipient: {e}"))?;
    Message::builder().from(from.clone()).to(to).subject(subject).body(body.to_string()).map_err(|e| e.to_string())
}

/// The SMTP side: a transport when configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for the configured SMTP URL; without one (or with a broken one, logged) mail
    /// stays in the outbox.
    pub fn from_config(app: &App) -> Mailer {
        let from = app.config.mail_from.parse().unwrap_or_else(|_| "Cairn <cairn@localhost>".parse().expect("a fixed mailbox parses"));
        let transport = app.config.smtp_url.as_deref().and_then(|url| match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
            Ok(builder) => Some(builder.timeout(Some(Duration::from_secs(20))).build()),
            Err(error) => {
                tracing::warn!(%error, "the SMTP URL is unusable; mail stays in the outbox");
                None
            }
        });
        Mailer { transport, from }
    }

    /// Whether mail is sent (rather than kept).
    pub fn sends(&self) -> bool {
        self.transport.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_and_messages_are_checked() {
        assert!(valid_mailbox("Cairn <badges@example.org>"));
        assert!(!valid_mailbox("not an address"));
        let from: Mailbox = "Cairn <badges@example.org>".parse().unwrap();
        assert!(build(&from, "learner@example.org", "Hello", "Body").is_ok());
        assert!(build(&from, "nobody", "Hello", "Body").unwrap_err().starts_with("recipient"));
    }
}
