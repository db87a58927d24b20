//! Webhooks: an issuer's endpoints are told when its awards are issued, revoked, suspended or
//! reinstated and when submissions are sent or decided. Deliveries follow the Standard Webhooks
//! scheme (<https://www.standardwebhooks.com/>): each message has an id (`webhook-id`), the time
//! of the attempt (`webhook-timestamp`) and an HMAC-SHA256 signature of
//! `{id}.{timestamp}.{body}` under the endpoint's secret (`webhook-signature: v1,<base64>`); the
//! secret is `whsec_` and base64 of random bytes. A failed delivery is tried again on
//! [`RETRY_SCHEDULE`], then given up and kept in the delivery log, from where it can be sent
//! again by hand.
//!
//! Here: the events, an endpoint's fields and their rules, the retry schedule and the
//! signature. Where an endpoint may be (public addresses unless the operator allows a host) is
//! the application's `HostPolicy`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::invalid::{Invalid, forbidden_char};

/// Most endpoints one organisation may register.
pub const MAX_ENDPOINTS: usize = 20;
/// Longest endpoint address.
pub const MAX_URL_CHARS: usize = 2000;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// How long one delivery attempt may take.
pub const DELIVERY_TIMEOUT_SECS: u64 = 10;
/// How much of an endpoint's answer the delivery log keeps.
pub const MAX_RESPONSE_KEPT: usize = 1024;
/// How long deliveries stay in the log once settled.
pub const LOG_RETENTION: Duration = Duration::days(30);
/// The prefix of an endpoint's secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The waits before each retry of a failed delivery (Standard Webhooks' schedule): the first
/// attempt goes at once, the last about a day and a half later.
pub const RETRY_SCHEDULE: [Duration; 7] =
    [Duration::seconds(5), Duration::minutes(5), Duration::minutes(30), Duration::hours(2), Duration::hours(5), Duration::hours(10), Duration::hours(10)];

/// Most attempts a delivery gets before it is given up (the first and every retry).
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

/// When to try again after attempt `attempt` (from 1) failed at `now`; `None` once the
/// schedule is spent.
pub fn next_attempt(attempt: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let index = usize::try_from(attempt).ok()?.checked_sub(1)?;
    RETRY_SCHEDULE.get(index).map(|wait| now + *wait)
}

/// What an endpoint may be told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    AwardIssued,
    AwardRevoked,
    AwardSuspended,
    AwardReinstated,
    SubmissionSubmitted,
    SubmissionDecided,
    /// A test message an issuer sends to one endpoint by hand.
    Test,
}

impl EventKind {
    /// The events an endpoint subscribes to, in the order forms list them.
    pub const SUBSCRIBABLE: [EventKind; 6] = [
        EventKind::AwardIssued,
        EventKind::AwardRevoked,
        EventKind::AwardSuspended,
        EventKind::AwardReinstated,
        EventKind::SubmissionSubmitted,
        EventKind::SubmissionDecided,
    ];

    /// The event type, as the payload's `type` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AwardIssued => "award.issued",
            EventKind::AwardRevoked => "award.revoked",
            EventKind::AwardSuspended => "award.suspended",
            EventKind::AwardReinstated => "award.reinstated",
            EventKind::SubmissionSubmitted => "submission.submitted",
            EventKind::SubmissionDecided => "submission.decided",
            EventKind::Test => "webhook.test",
        }
    }

    /// What it means, for the issuer's form.
    pub fn words(self) -> &'static str {
        match self {
            EventKind::AwardIssued => "A badge is awarded (after a pass, a claim, a recognition or a stack)",
            EventKind::AwardRevoked => "An award is revoked",
            EventKind::AwardSuspended => "An award is suspended",
            EventKind::AwardReinstated => "A suspended award is reinstated",
            EventKind::SubmissionSubmitted => "A learner sends a submission (first attempt or a revision)",
            EventKind::SubmissionDecided => "An assessor's decision reaches the learner",
            EventKind::Test => "A test message sent by hand",
        }
    }

    pub fn parse(raw: &str) -> Option<EventKind> {
        [EventKind::Test].into_iter().chain(EventKind::SUBSCRIBABLE).find(|kind| kind.as_str() == raw)
    }
}

/// An endpoint's fields as a form or the API gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointFields {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

/// A checked endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: Url,
    pub description: String,
    /// At least one, each once, in [`EventKind::SUBSCRIBABLE`] order.
    pub events: Vec<EventKind>,
}

impl NewEndpoint {
    /// Checks an endpoint's fields.
    ///
    /// # Errors
    /// [`Invalid`] naming each field that is wrong: `/url` (not an absolute http or https
    /// address, with credentials or a fragment, too long), `/description` (too long, or with a
    /// control character), `/events` (none, or one that does not exist).
    pub fn parse(fields: EndpointFields) -> Result<NewEndpoint, Invalid> {
        let mut invalid = Invalid::new();
        let raw = fields.url.trim();
        let url = match Url::parse(raw) {
            _ if raw.is_empty() => {
                invalid.push("/url", "give the address to send events to");
                None
            }
            _ if raw.chars().count() > MAX_URL_CHARS => {
                invalid.push("/url", format!("at most {MAX_URL_CHARS} characters"));
                None
            }
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                invalid.push("/url", "use an https:// address");
                None
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                invalid.push("/url", "leave credentials out of the address: the signature proves the sender");
                None
            }
            Ok(url) if url.fragment().is_some() => {
                invalid.push("/url", "an address with a #fragment cannot be sent to");
                None
            }
            Ok(url) if url.host_str().is_none_or(str::is_empty) => {
                invalid.push("/url", "the address has no host");
                None
            }
            Ok(url) => Some(url),
            Err(_) => {
                invalid.push("/url", "not a web address (https://…)");
                None
            }
        };
        let description = fields.description.trim().to_string();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            invalid.push("/description", format!("at most {MAX_DESCRIPTION_CHARS} characters"));
        } else if let Some(c) = forbidden_char(&description) {
            invalid.push("/description", format!("remove the control character U+{:04X}", u32::from(c)));
        }
        let mut events = Vec::new();
        for raw in &fields.events {
            match EventKind::parse(raw.trim()).filter(|kind| *kind != EventKind::Test) {
                Some(kind) if !events.contains(&kind) => events.push(kind),
                Some(_) => {}
                None => {
                    let shown: String = raw.chars().take(60).collect();
                    invalid.push("/events", format!("no event {shown:?}; events are {}", subscribable_list()));
                }
            }
        }
        if fields.events.is_empty() {
            invalid.push("/events", "choose at least one event");
        }
        events.sort();
        match url {
            Some(url) if invalid.is_empty() => Ok(NewEndpoint { url, description, events }),
            _ => Err(invalid),
        }
    }
}

fn subscribable_list() -> String {
    EventKind::SUBSCRIBABLE.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ")
}

/// A new secret from random bytes: `whsec_` and their base64.
pub fn secret_from(random: [u8; 24]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

/// The `webhook-signature` of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's bytes (the base64 after `whsec_`).
///
/// # Errors
/// When the secret is not `whsec_` and base64.
pub fn signature(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Result<String, &'static str> {
    let key = secret.strip_prefix(SECRET_PREFIX).and_then(|b64| STANDARD.decode(b64).ok()).ok_or("the secret is not whsec_ and base64")?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).map_err(|_| "the secret cannot key HMAC")?;
    mac.update(format!("{message_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(signature("not a secret", "m", 1, "{}").is_err());
        assert!(secret_from([1; 24]).starts_with("whsec_"));
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let now = datetime!(2026-12-07 12:00 UTC);
        assert_eq!(next_attempt(1, now), Some(now + Duration::seconds(5)));
        assert_eq!(next_attempt(2, now), Some(now + Duration::minutes(5)));
        assert_eq!(next_attempt(7, now), Some(now + Duration::hours(10)));
        assert_eq!(next_attempt(8, now), None);
        assert_eq!(next_attempt(0, now), None);
        assert_eq!(MAX_ATTEMPTS, 8);
    }

    #[test]
    fn endpoints_are_checked() {
        let ok = NewEndpoint::parse(EndpointFields {
            url: " https://lms.example/hooks ".into(),
            description: "LMS".into(),
            events: vec!["submission.decided".into(), "award.issued".into(), "award.issued".into()],
        })
        .unwrap();
        assert_eq!(ok.url.as_str(), "https://lms.example/hooks");
        assert_eq!(ok.events, vec![EventKind::AwardIssued, EventKind::SubmissionDecided]);
        let fields =
            |url: &str, events: &[&str]| EndpointFields { url: url.into(), description: String::new(), events: events.iter().map(|e| e.to_string()).collect() };
        let refused = |f: EndpointFields, pointer: &str| {
            let invalid = NewEndpoint::parse(f).unwrap_err();
            assert!(invalid.errors.iter().any(|e| e.pointer == pointer), "{invalid:?} should name {pointer}");
        };
        refused(fields("", &["award.issued"]), "/url");
        refused(fields("ftp://x.example/", &["award.issued"]), "/url");
        refused(fields("https://user:pw@x.example/", &["award.issued"]), "/url");
        refused(fields("https://x.example/#frag", &["award.issued"]), "/url");
        refused(fields("not a url", &["award.issued"]), "/url");
        refused(fields("https://x.example/", &[]), "/events");
        refused(fields("https://x.example/", &["award.exploded"]), "/events");
        refused(fields("https://x.example/", &["webhook.test"]), "/events");
        assert_eq!(EventKind::parse("award.revoked"), Some(EventKind::AwardRevoked));
    }
}
