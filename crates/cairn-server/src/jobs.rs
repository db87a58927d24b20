//! Background work: escalating submissions that are nearly due or overdue, and sending the
//! mail outbox over SMTP when a server is configured (otherwise mail stays in the outbox for the
//! operator). Runs every `job_interval_secs` in one task; each run is also callable directly.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::state::AppState;

/// Most messages sent per run.
const MAIL_BATCH: usize = 50;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub escalated: usize,
    pub sent: usize,
    pub failed: usize,
}

/// Whether `raw` is a sender address such as `Cairn <badges@example.org>`.
pub fn valid_mailbox(raw: &str) -> bool {
    raw.parse::<Mailbox>().is_ok()
}

/// Starts the background loop; abort the handle to stop it.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mailer = Mailer::from_config(&state);
        let mut interval = tokio::time::interval(Duration::from_secs(state.app.config.job_interval_secs.max(1)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let report = run_once(&state, &mailer).await;
            if report != RunReport::default() {
                tracing::info!(escalated = report.escalated, sent = report.sent, failed = report.failed, "background run");
            }
        }
    })
}

/// One pass of every background duty; failures are logged, never fatal.
pub async fn run_once(state: &AppState, mailer: &Mailer) -> RunReport {
    let mut report = RunReport::default();
    match crate::journey::escalate_due(state).await {
        Ok(n) => report.escalated = n,
        Err(problem) => tracing::warn!(detail = %problem.detail, "escalation run failed"),
    }
    if let Some(transport) = &mailer.transport {
        match state.app.store.pending_mail(MAIL_BATCH).await {
            Ok(mails) => {
                for mail in mails {
                    let result = match build(&mailer.from, &mail.to, &mail.subject, &mail.body) {
                        Ok(message) => transport.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(error) => Err(error),
                    };
                    let now = state.app.now();
                    let stored = match result {
                        Ok(()) => {
                            report.sent += 1;
                            state.app.store.mark_mail_sent(&mail.id, now).await
                        }
                        Err(error) => {
                            report.failed += 1;
                            tracing::warn!(mail = %mail.id, %error, "sending mail failed");
                            state.app.store.mark_mail_failed(&mail.id, &error, now).await
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
    report
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
    pub fn from_config(state: &AppState) -> Mailer {
        let from = state.app.config.mail_from.parse().unwrap_or_else(|_| "Cairn <cairn@localhost>".parse().expect("a fixed mailbox parses"));
        let transport = state.app.config.smtp_url.as_deref().and_then(|url| match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
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
