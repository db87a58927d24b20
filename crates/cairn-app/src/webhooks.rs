//! Webhooks (`cairn_core::webhook` has the rules, `cairn_store` the endpoints and the log):
//!
//! - **Endpoints.** An organisation's owners register addresses with the events each wants
//!   ([`create`], [`update`], [`delete`], [`rotate_secret`]). An address must be public unless
//!   the operator names its host in `webhook_allow_hosts`; the same [`HostPolicy`] is applied again
//!   to every address the host resolves to when a message is sent, so a name cannot lead a
//!   delivery into the installation's own network.
//! - **Events.** A use case writes [`event`] to the outbox with its change (an award issued,
//!   revoked, suspended or reinstated; a submission sent or decided). The runner fans it out
//!   ([`publish`]): one delivery per subscribed, enabled endpoint, under the effect's id as the
//!   message id, so running it twice delivers once.
//! - **Deliveries.** Each is POSTed with the Standard Webhooks headers, signed at each attempt
//!   ([`attempt`]); a 2xx answer delivers it, anything else is tried again on
//!   `cairn_core::webhook::RETRY_SCHEDULE` by the job runner ([`deliver_due`]), then given up.
//!   Every attempt is logged; owners send one again by hand ([`redeliver`]) or send a test
//!   message ([`send_test`]).

use std::time::Instant;

use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{EffectId, OrganisationId, WebhookDeliveryId, WebhookEndpointId};
use cairn_core::webhook::{self, DELIVERY_TIMEOUT_SECS, EndpointFields, EventKind, MAX_ENDPOINTS, MAX_RESPONSE_KEPT, NewEndpoint};
use cairn_store::{
    AttemptOutcome, ClaimedDelivery, Effect, NewEffect, StoreError, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSubject,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::fetch::HostPolicy;
use crate::{App, AppError, timestamp};

/// Most deliveries one tick of the job runner sends.
const DELIVERIES_PER_TICK: usize = 100;
/// How long a runner holds a delivery it is sending: well past the request's timeout.
const DELIVERY_LEASE: Duration = Duration::minutes(2);
/// How many deliveries of an endpoint its log shows.
pub const LOG_LENGTH: usize = 50;

/// A registered endpoint and its secret, shown once.
#[derive(Debug, Clone)]
pub struct Registered {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// A delivery with its attempts, for the log.
#[derive(Debug, Clone)]
pub struct LoggedDelivery {
    pub delivery: WebhookDelivery,
    pub attempts: Vec<WebhookAttempt>,
}

/// Where endpoints may be: public addresses, and the hosts the operator allows.
fn policy(app: &App) -> HostPolicy {
    HostPolicy::public_named(&app.config.webhook_allow_hosts, "webhook_allow_hosts")
}

/// An endpoint's fields, checked, with its address allowed by the policy; every problem is told
/// at once (a refused address beside a missing event).
fn checked(app: &App, fields: EndpointFields) -> Result<NewEndpoint, AppError> {
    let refused = |url: &url::Url| policy(app).permit(url).err().map(|why| format!("this address cannot receive webhooks: {why}"));
    let address = url::Url::parse(fields.url.trim()).ok();
    match NewEndpoint::parse(fields) {
        Ok(new) => match refused(&new.url) {
            Some(why) => Err(AppError::invalid_field("/url", why)),
            None => Ok(new),
        },
        Err(mut invalid) => {
            if invalid.at("/url").is_none()
                && let Some(why) = address.as_ref().and_then(refused)
            {
                invalid.push("/url", why);
            }
            Err(invalid.into())
        }
    }
}

/// An endpoint the actor may manage (an owner of its organisation); `NotFound` for anyone who
/// is not a member, so endpoints are not named to outsiders.
async fn managed(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<WebhookEndpoint, AppError> {
    let endpoint = match app.store.webhook_endpoint(id).await {
        Err(StoreError::NotFound { .. }) => return Err(AppError::NotFound(format!("webhook endpoint \"{id}\" not found"))),
        other => other?,
    };
    if actor.user.is_some() && !actor.memberships.iter().any(|(org, _)| *org == endpoint.organisation) {
        return Err(AppError::NotFound(format!("webhook endpoint \"{id}\" not found")));
    }
    actor.authorise(Action::Org(endpoint.organisation, OrgAction::ManageWebhooks))?;
    Ok(endpoint)
}

/// The organisation's endpoints.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` for anyone but its owners; store failures.
pub async fn endpoints(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<WebhookEndpoint>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageWebhooks))?;
    Ok(app.store.webhook_endpoints(organisation).await?)
}

/// Registers an endpoint; its secret is returned once.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`; `Invalid` for fields that are wrong or an address the policy
/// refuses; `Conflict` past [`MAX_ENDPOINTS`]; store failures.
pub async fn create(app: &App, actor: &Actor, organisation: OrganisationId, fields: EndpointFields) -> Result<Registered, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageWebhooks))?;
    let new = checked(app, fields)?;
    if app.store.webhook_endpoints(organisation).await?.len() >= MAX_ENDPOINTS {
        return Err(AppError::conflict(format!("an organisation has at most {MAX_ENDPOINTS} webhook endpoints; delete one first")));
    }
    let (endpoint, secret) = app.store.create_webhook_endpoint(organisation, &new, app.now()).await?;
    tracing::info!(endpoint = %endpoint.id, organisation = %organisation, "webhook endpoint registered");
    Ok(Registered { endpoint, secret })
}

/// An endpoint.
///
/// # Errors
/// `NotFound` for outsiders; `Forbidden` for members who are not owners; store failures.
pub async fn endpoint(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<WebhookEndpoint, AppError> {
    managed(app, actor, id).await
}

/// Changes an endpoint: its address, description, events, and whether it is on (`enabled`).
///
/// # Errors
/// As [`create`], and `NotFound`.
pub async fn update(app: &App, actor: &Actor, id: WebhookEndpointId, fields: EndpointFields, enabled: bool) -> Result<WebhookEndpoint, AppError> {
    managed(app, actor, id).await?;
    let new = checked(app, fields)?;
    Ok(app.store.update_webhook_endpoint(id, &new, enabled, app.now()).await?)
}

/// Deletes an endpoint and its log.
///
/// # Errors
/// `NotFound`, `Forbidden`; store failures.
pub async fn delete(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<(), AppError> {
    managed(app, actor, id).await?;
    Ok(app.store.delete_webhook_endpoint(id).await?)
}

/// Gives an endpoint a new secret, returned once.
///
/// # Errors
/// `NotFound`, `Forbidden`; store failures.
pub async fn rotate_secret(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<String, AppError> {
    managed(app, actor, id).await?;
    Ok(app.store.rotate_webhook_secret(id, app.now()).await?)
}

/// An endpoint's latest deliveries with their attempts, newest first.
///
/// # Errors
/// `NotFound`, `Forbidden`; store failures.
pub async fn log(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<Vec<LoggedDelivery>, AppError> {
    managed(app, actor, id).await?;
    let mut logged = Vec::new();
    for delivery in app.store.webhook_deliveries(id, LOG_LENGTH).await? {
        let attempts = app.store.webhook_attempts(delivery.id).await?;
        logged.push(LoggedDelivery { delivery, attempts });
    }
    Ok(logged)
}

/// A delivery of the endpoint, with its attempts.
///
/// # Errors
/// `NotFound` (also for a delivery of another endpoint), `Forbidden`; store failures.
pub async fn delivery(app: &App, actor: &Actor, endpoint: WebhookEndpointId, id: WebhookDeliveryId) -> Result<LoggedDelivery, AppError> {
    managed(app, actor, endpoint).await?;
    logged(app, endpoint, id).await
}

/// A delivery of `endpoint` with its attempts, for a caller that checked who may see it.
async fn logged(app: &App, endpoint: WebhookEndpointId, id: WebhookDeliveryId) -> Result<LoggedDelivery, AppError> {
    let delivery = match app.store.webhook_delivery(id).await {
        Ok(delivery) if delivery.endpoint == endpoint => delivery,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(AppError::NotFound(format!("webhook delivery \"{id}\" not found"))),
        Err(error) => return Err(error.into()),
    };
    let attempts = app.store.webhook_attempts(id).await?;
    Ok(LoggedDelivery { delivery, attempts })
}

/// Sends a delivery again now (whatever became of it), and answers it after that attempt.
///
/// # Errors
/// `NotFound`, `Forbidden`; `Conflict` while the endpoint is disabled; store failures.
pub async fn redeliver(app: &App, actor: &Actor, endpoint: WebhookEndpointId, id: WebhookDeliveryId) -> Result<LoggedDelivery, AppError> {
    let found = managed(app, actor, endpoint).await?;
    if !found.enabled {
        return Err(AppError::conflict("the endpoint is disabled: enable it to send to it"));
    }
    logged(app, endpoint, id).await?;
    app.store.redeliver_webhook(id, app.now()).await?;
    send_now(app, &[id]).await?;
    logged(app, endpoint, id).await
}

/// Sends a `webhook.test` message to one endpoint now, and answers its delivery.
///
/// # Errors
/// `NotFound`, `Forbidden`; `Conflict` while the endpoint is disabled; store failures.
pub async fn send_test(app: &App, actor: &Actor, id: WebhookEndpointId) -> Result<LoggedDelivery, AppError> {
    let endpoint = managed(app, actor, id).await?;
    if !endpoint.enabled {
        return Err(AppError::conflict("the endpoint is disabled: enable it to send to it"));
    }
    let now = app.now();
    let message_id = format!("msg_{}", crate::transcripts::random_uuid().replace('-', ""));
    let body = envelope(EventKind::Test, now, json!({"organisation_id": endpoint.organisation.to_string(), "endpoint_id": id.to_string()}));
    let delivery = app
        .store
        .enqueue_webhook_to(id, &message_id, EventKind::Test, &body, now)
        .await?
        .ok_or_else(|| AppError::Internal("a fresh test message id was taken".into()))?;
    send_now(app, &[delivery]).await?;
    logged(app, id, delivery).await
}

/// The outbox effect of an event, to write with the change that causes it.
pub(crate) fn event(kind: EventKind, subject: WebhookSubject, at: OffsetDateTime) -> NewEffect {
    NewEffect::from(Effect::Webhook(WebhookEvent { kind, subject, at }))
}

/// The Standard Webhooks payload: `type`, `timestamp` and `data`.
fn envelope(kind: EventKind, at: OffsetDateTime, data: Value) -> String {
    json!({"type": kind.as_str(), "timestamp": timestamp(at), "data": data}).to_string()
}

/// The organisation an event belongs to and its payload, read when it is fanned out.
async fn payload(app: &App, event: &WebhookEvent) -> Result<(OrganisationId, String), AppError> {
    let urls = app.config.urls();
    match event.subject {
        WebhookSubject::Award(id) => {
            let award = app.store.award(id).await?;
            let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
            let learner = app.store.user(award.learner).await?;
            let status = match event.kind {
                EventKind::AwardRevoked => "revoked",
                EventKind::AwardSuspended => "suspended",
                _ => "active",
            };
            let mut data = json!({
                "award_id": award.id.to_string(),
                "organisation_id": award.organisation.to_string(),
                "achievement": {"id": award.achievement.to_string(), "name": achievement.content.name, "version": award.achievement_version},
                "recipient": {"name": learner.name, "email": learner.email.as_str()},
                "status": status,
                "issued_at": timestamp(award.issued_at),
                "valid_until": award.valid_until.map(timestamp),
                "award_url": urls.award_page(award.id),
                "credential_url": urls.credential(award.id),
            });
            if matches!(event.kind, EventKind::AwardRevoked | EventKind::AwardSuspended) {
                data["reason"] = json!(award.status_reason);
            }
            Ok((award.organisation, envelope(event.kind, event.at, data)))
        }
        WebhookSubject::Submission(id) => {
            let submission = app.store.submission(id).await?;
            let organisation = app.store.submission_organisation(id).await?;
            let achievement = app.store.achievement(submission.achievement).await?;
            // The learner is not named: assessment is blind, and the code is what staff and
            // assessors know a submission by.
            let mut data = json!({
                "submission_id": id.to_string(),
                "code": submission.code(),
                "organisation_id": organisation.to_string(),
                "achievement": {"id": submission.achievement.to_string(), "name": achievement.content.name},
                "attempt": submission.attempt,
                "due_at": submission.due_at.map(timestamp),
            });
            if event.kind == EventKind::SubmissionDecided {
                let outcome = app.store.assessments(id).await?.last().map(|a| a.outcome.as_str());
                data["outcome"] = json!(outcome);
            }
            Ok((organisation, envelope(event.kind, event.at, data)))
        }
    }
}

/// Fans an event out into one delivery per subscribed endpoint (the `Webhook` effect), and
/// starts sending the new ones at once, in the background. Running it again makes no delivery
/// twice.
///
/// # Errors
/// Store failures (the effect is retried).
pub(crate) async fn publish(app: &App, effect: EffectId, event: &WebhookEvent) -> Result<(), AppError> {
    let (organisation, body) = match payload(app, event).await {
        Ok(found) => found,
        // The award or submission is gone (an account deleted since): nothing to tell.
        Err(AppError::NotFound(_)) => return Ok(()),
        Err(error) => return Err(error),
    };
    let made = app.store.enqueue_webhook(organisation, &format!("msg_{effect}"), event.kind, &body, app.now()).await?;
    if !made.is_empty() {
        // Sent beside the use case, never in its way: a slow endpoint must not hold up an award
        // or a decision. The deliveries are stored, so what this does not do, the job runner does.
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(error) = send_now(&app, &made).await {
                tracing::warn!(%error, "sending webhooks at once failed; the job runner retries");
            }
        });
    }
    Ok(())
}

/// Sends the deliveries due now (the job runner's tick); returns how many were attempted.
///
/// # Errors
/// Store failures.
pub async fn deliver_due(app: &App) -> Result<usize, AppError> {
    let claimed = app.store.claim_webhook_deliveries(app.now(), DELIVERIES_PER_TICK, DELIVERY_LEASE, None).await?;
    let count = claimed.len();
    send_all(app, claimed).await?;
    Ok(count)
}

async fn send_now(app: &App, ids: &[WebhookDeliveryId]) -> Result<(), AppError> {
    let claimed = app.store.claim_webhook_deliveries(app.now(), ids.len(), DELIVERY_LEASE, Some(ids)).await?;
    send_all(app, claimed).await
}

async fn send_all(app: &App, claimed: Vec<ClaimedDelivery>) -> Result<(), AppError> {
    // Most ticks find nothing due: no client is built for them.
    if claimed.is_empty() {
        return Ok(());
    }
    let policy = policy(app);
    let client = crate::fetch::checked_client(
        policy.clone(),
        std::time::Duration::from_secs(DELIVERY_TIMEOUT_SECS),
        concat!("cairn-webhooks/", env!("CARGO_PKG_VERSION")),
    )
    .map_err(|e| AppError::internal(&e))?;
    let sends = claimed.into_iter().map(|claimed| {
        let (client, policy) = (&client, &policy);
        async move {
            let (record, outcome) = attempt(app, client, policy, &claimed).await;
            app.store.record_webhook_attempt(claimed.delivery.id, &record, outcome).await
        }
    });
    for result in futures_util::future::join_all(sends).await {
        result?;
    }
    Ok(())
}

/// One attempt: sign at the time of sending, POST, and judge the answer.
async fn attempt(app: &App, client: &reqwest::Client, policy: &HostPolicy, claimed: &ClaimedDelivery) -> (WebhookAttempt, AttemptOutcome) {
    let delivery = &claimed.delivery;
    let number = delivery.attempts + 1;
    let now = app.now();
    let started = Instant::now();
    let result = send(client, policy, claimed, now.unix_timestamp()).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status, error, response) = match result {
        Ok((status, body)) => {
            let error = (!(200..300).contains(&status)).then(|| format!("the endpoint answered HTTP {status}"));
            (Some(status), error, Some(body))
        }
        Err(why) => (None, Some(why), None),
    };
    let outcome = if error.is_none() {
        AttemptOutcome::Delivered
    } else {
        match webhook::next_attempt(number, now) {
            Some(at) => AttemptOutcome::RetryAt(at),
            None => AttemptOutcome::GaveUp,
        }
    };
    match (&error, outcome) {
        (None, _) => tracing::info!(delivery = %delivery.id, event = %delivery.event_type, attempt = number, "webhook delivered"),
        (Some(why), AttemptOutcome::GaveUp) => tracing::warn!(delivery = %delivery.id, attempt = number, %why, "webhook delivery given up"),
        (Some(why), _) => tracing::info!(delivery = %delivery.id, attempt = number, %why, "webhook delivery failed; will retry"),
    }
    (WebhookAttempt { number, attempted_at: now, status, error, response, duration_ms }, outcome)
}

/// POSTs a delivery with the Standard Webhooks headers; the status and the start of the answer,
/// or why there was none.
async fn send(client: &reqwest::Client, policy: &HostPolicy, claimed: &ClaimedDelivery, now: i64) -> Result<(u16, String), String> {
    let url = url::Url::parse(&claimed.url).map_err(|e| format!("the endpoint's address is not a URL: {e}"))?;
    // An address host is never resolved, so the resolver's check does not see it: check here.
    policy.permit(&url)?;
    let delivery = &claimed.delivery;
    let signature = webhook::signature(&claimed.secret, &delivery.message_id, now, &delivery.payload).map_err(str::to_string)?;
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.message_id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    // Only the start of the answer is kept; a body that never ends is cut off by the timeout.
    let mut kept = Vec::new();
    let mut response = response;
    while kept.len() < MAX_RESPONSE_KEPT {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    kept.truncate(MAX_RESPONSE_KEPT);
    Ok((status, String::from_utf8_lossy(&kept).into_owned()))
}

/// A transport failure in words, with the policy's refusal when that was the cause.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        format!("no answer within {DELIVERY_TIMEOUT_SECS} seconds")
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if cause_text.contains("webhook_allow_hosts") || cause_text.contains("resolves") {
            text = format!("{text}: {cause_text}");
            break;
        }
        source = cause.source();
    }
    text
}
