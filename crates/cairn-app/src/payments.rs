//! Assessment fees paid online through the issuer's own Stripe account (Stripe Checkout).
//!
//! - An owner **connects** the organisation ([`connect`]): a secret (or restricted) key, checked
//!   by reading the account from Stripe, and the signing secret of the webhook endpoint they
//!   register at Stripe for [`webhook_url`]; both sealed under the master key.
//! - A learner whose submission owes a fee **pays** ([`checkout`]): a Checkout Session for the
//!   fee (the submission's id as `client_reference_id` and in the metadata, an idempotency key),
//!   reused while it is open; the learner is sent to Stripe's page and back.
//! - Stripe's signed **webhook** ([`webhook`]) settles the payment: the signature is checked as
//!   Stripe documents it (`cairn_core::payments::verify_signature`), each event is taken once,
//!   and `checkout.session.completed` marks the fee paid in one transaction with the outbox's
//!   effects (the learner told; the submission sent, when they chose "Pay and send"). The
//!   learner's return ([`returned`]) asks Stripe for the session too, so a late webhook delays
//!   nothing; whichever comes first settles, the other finds it settled.
//! - **Withdrawing** before assessment refunds ([`refund_on_withdrawal`], written with the withdrawal;
//!   [`refund`], the job, asks Stripe with an idempotency key). A refund made in Stripe's
//!   dashboard is recorded from `charge.refunded`.

use std::time::Duration as StdDuration;

use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{AchievementId, OrganisationId, PaymentId, SubmissionId};
use cairn_core::notification::NotificationKind;
use cairn_core::payments::{CHECKOUT_MINUTES, MAX_WEBHOOK_BYTES, PaymentStatus, SignatureError, StripeKeys, verify_signature};
use cairn_core::submission::{FeeState, Status, Submission};
use cairn_store::{Effect, NewEffect, NewPayment, Payment, Settled, StripeAccount};
use serde_json::Value;
use url::Url;

use crate::fees::FeeContext;
use crate::fetch::{HostPolicy, checked_client};
use crate::notify::{notice, staff_notices};
use crate::{App, AppError};

/// The events an organisation's Stripe webhook endpoint is to send.
pub const WEBHOOK_EVENTS: [&str; 4] = ["checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.expired", "charge.refunded"];
/// The longest a request to Stripe may take.
const STRIPE_TIMEOUT_SECS: u64 = 20;
/// The largest answer read from Stripe.
const MAX_ANSWER_BYTES: usize = 512 * 1024;
/// Currencies Stripe counts in whole units (its "zero-decimal" currencies).
const ZERO_DECIMAL: [&str; 16] = ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"];

/// The origin of Stripe's payment pages, which the pages that lead there must allow forms to
/// reach: Stripe Checkout's, or a test server's own.
pub fn checkout_origin(app: &App) -> String {
    let base = &app.config.stripe_api_base;
    if base.host_str() == Some("api.stripe.com") {
        return "https://checkout.stripe.com".to_string();
    }
    base.origin().ascii_serialization()
}

/// Where the organisation's Stripe webhook endpoint must point.
pub fn webhook_url(app: &App, organisation: OrganisationId) -> String {
    app.config.url(&format!("/payments/stripe/{organisation}/webhook"))
}

// ---------------------------------------------------------------------------------------------
// Talking to Stripe

/// What went wrong asking Stripe.
#[derive(Debug)]
enum StripeError {
    /// Stripe answered with an error: the HTTP status and its `error` object.
    Api { status: u16, code: Option<String>, message: String },
    /// Stripe could not be reached, or answered what cannot be read.
    Unreachable(String),
}

impl StripeError {
    fn into_app(self, what: &str) -> AppError {
        match self {
            StripeError::Api { status: 401, .. } => {
                AppError::Unavailable(format!("Stripe refused the organisation's key while {what}: its owner should connect Stripe again"))
            }
            StripeError::Api { message, .. } => AppError::Unavailable(format!("Stripe refused {what}: {message}")),
            StripeError::Unreachable(why) => AppError::Unavailable(format!("Stripe could not be reached while {what} ({why}); please try again")),
        }
    }
}

fn stripe_url(app: &App, path: &str) -> Result<Url, StripeError> {
    app.config.stripe_api_base.join(path.trim_start_matches('/')).map_err(|e| StripeError::Unreachable(e.to_string()))
}

async fn stripe(app: &App, key: &str, method: reqwest::Method, path: &str, form: &[(String, String)], idempotency: Option<&str>) -> Result<Value, StripeError> {
    let url = stripe_url(app, path)?;
    let host = url.host_str().unwrap_or_default().to_string();
    let client = checked_client(HostPolicy::public(&[host]), StdDuration::from_secs(STRIPE_TIMEOUT_SECS), concat!("Cairn/", env!("CARGO_PKG_VERSION")))
        .map_err(|e| StripeError::Unreachable(e.to_string()))?;
    let mut request = client.request(method, url).bearer_auth(key).header("accept", "application/json");
    if !form.is_empty() {
        request = request.form(form);
    }
    if let Some(key) = idempotency {
        request = request.header("idempotency-key", key);
    }
    let mut response = request.send().await.map_err(|e| StripeError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| StripeError::Unreachable(e.to_string()))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(StripeError::Unreachable("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let json: Value = serde_json::from_slice(&body).map_err(|_| StripeError::Unreachable(format!("HTTP {status} without JSON")))?;
    if (200..300).contains(&status) {
        return Ok(json);
    }
    let error = &json["error"];
    Err(StripeError::Api {
        status,
        code: error["code"].as_str().map(str::to_string),
        message: error["message"].as_str().unwrap_or("no message").chars().take(300).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Connecting

/// An organisation's Stripe connection as its owners see it.
#[derive(Debug, Clone)]
pub struct Connection {
    pub account: Option<StripeAccount>,
    /// Where its Stripe webhook endpoint must point.
    pub webhook_url: String,
}

/// The organisation's connection.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` for anyone but its owners.
pub async fn connection(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Connection, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManagePayments))?;
    Ok(Connection { account: app.store.stripe_account(organisation).await?, webhook_url: webhook_url(app, organisation) })
}

/// Connects the organisation to the Stripe account the key belongs to (read from Stripe, which
/// checks the key); a connection made before is replaced.
///
/// # Errors
/// `Invalid` for keys of the wrong form, or a key Stripe refuses (at `/secret_key`);
/// `Unavailable` when Stripe cannot be reached; `Unauthenticated`/`Forbidden`.
pub async fn connect(app: &App, actor: &Actor, organisation: OrganisationId, secret_key: &str, webhook_secret: &str) -> Result<Connection, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManagePayments))?;
    let by = actor.user.ok_or(AppError::Unauthenticated)?;
    let keys = StripeKeys::parse(secret_key, webhook_secret)?;
    let account = match stripe(app, &keys.secret_key, reqwest::Method::GET, "/v1/account", &[], None).await {
        Ok(account) => account,
        Err(StripeError::Api { status: 401 | 403, message, .. }) => {
            return Err(AppError::invalid_field("/secret_key", format!("Stripe refused this key: {message}")));
        }
        Err(error) => return Err(error.into_app("checking the key")),
    };
    let account_id =
        account["id"].as_str().filter(|id| id.starts_with("acct_")).ok_or_else(|| AppError::Unavailable("Stripe's answer names no account".into()))?;
    let name = [&account["settings"]["dashboard"]["display_name"], &account["business_profile"]["name"]]
        .into_iter()
        .find_map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
        .unwrap_or(account_id)
        .chars()
        .take(100)
        .collect::<String>();
    let account = app.store.connect_stripe(organisation, account_id, &name, &keys, by, app.now()).await?;
    tracing::info!(%organisation, account = %account.account_id, livemode = account.livemode, "organisation connected to Stripe");
    Ok(Connection { account: Some(account), webhook_url: webhook_url(app, organisation) })
}

/// Disconnects the organisation from Stripe: learners no longer pay online (payments made stay,
/// and are still refunded on withdrawal while it is connected again).
///
/// # Errors
/// `NotFound` when it is not connected; `Unauthenticated`/`Forbidden`.
pub async fn disconnect(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<(), AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManagePayments))?;
    if !app.store.disconnect_stripe(organisation).await? {
        return Err(AppError::NotFound("the organisation is not connected to Stripe".into()));
    }
    Ok(())
}

/// Whether the organisation takes fees online.
///
/// # Errors
/// Store failures.
pub async fn online(app: &App, organisation: OrganisationId) -> Result<bool, AppError> {
    Ok(app.store.stripe_account(organisation).await?.is_some())
}

// ---------------------------------------------------------------------------------------------
// Paying

/// The amount Stripe is asked for: minor units, or whole units for zero-decimal currencies
/// (Cairn keeps every fee in hundredths).
fn stripe_amount(amount_minor: i64, currency: &str) -> i64 {
    if ZERO_DECIMAL.contains(&currency) { amount_minor / 100 } else { amount_minor }
}

/// A Checkout Session for the fee due on the learner's submission, or the one still open;
/// `send_when_paid` sends the submission as soon as the fee is paid.
///
/// # Errors
/// `NotFound` for someone else's submission; `Conflict` when no fee is due, the issuer takes no
/// payments online, or the submission could not be sent once paid (what is missing said);
/// `Unavailable` when Stripe cannot be reached or refuses.
pub async fn checkout(app: &App, actor: &Actor, id: SubmissionId, send_when_paid: bool) -> Result<Payment, AppError> {
    let submission = crate::submissions::own_submission(app, actor, id).await?;
    if !matches!(submission.status, Status::Draft | Status::NotYet) {
        return Err(AppError::conflict(format!("this submission is {}: there is nothing to pay for", submission.status.label().to_lowercase())));
    }
    if submission.fee != FeeState::Due {
        return Err(AppError::conflict("no fee is due on this submission"));
    }
    if send_when_paid {
        crate::submissions::sendable_once_paid(app, &submission).await?;
    }
    let organisation = app.store.submission_organisation(id).await?;
    let keys = app
        .store
        .stripe_keys(organisation)
        .await?
        .ok_or_else(|| AppError::conflict("this issuer does not take payments online: pay as its instructions say"))?;
    let now = app.now();
    if let Some(open) =
        app.store.payments_of(id).await?.into_iter().find(|p| p.status == PaymentStatus::Open && p.expires_at > now + time::Duration::minutes(5))
    {
        return Ok(open);
    }
    let achievement = app.store.achievement(submission.achievement).await?;
    let fee = FeeContext::load(app, &achievement).await?;
    let (amount_minor, currency) = fee.charge.due_amount().ok_or_else(|| AppError::conflict("this achievement has no fee"))?;
    let learner = app.store.user(submission.learner).await?;
    let payment = PaymentId::new();
    let expires_at = now + time::Duration::minutes(CHECKOUT_MINUTES);
    let back = |path: &str| app.config.url(&format!("/submissions/{id}{path}"));
    let pairs = [
        ("mode", "payment".to_string()),
        ("line_items[0][quantity]", "1".into()),
        ("line_items[0][price_data][currency]", currency.to_ascii_lowercase()),
        ("line_items[0][price_data][unit_amount]", stripe_amount(amount_minor, &currency).to_string()),
        ("line_items[0][price_data][product_data][name]", format!("Assessment fee: {}", achievement.content.name).chars().take(250).collect()),
        ("success_url", format!("{}?session_id={{CHECKOUT_SESSION_ID}}", back("/paid"))),
        ("cancel_url", back("/payment-cancelled")),
        ("client_reference_id", id.to_string()),
        ("customer_email", learner.email.as_str().to_string()),
        ("expires_at", expires_at.unix_timestamp().to_string()),
        ("metadata[cairn_submission]", id.to_string()),
        ("metadata[cairn_payment]", payment.to_string()),
        ("metadata[cairn_organisation]", organisation.to_string()),
        ("payment_intent_data[metadata][cairn_submission]", id.to_string()),
        ("payment_intent_data[metadata][cairn_payment]", payment.to_string()),
    ];
    let form: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let session = stripe(app, &keys.secret_key, reqwest::Method::POST, "/v1/checkout/sessions", &form, Some(&format!("cairn-checkout-{payment}")))
        .await
        .map_err(|e| e.into_app("making the payment page"))?;
    let (Some(session_id), Some(url)) = (session["id"].as_str(), session["url"].as_str()) else {
        return Err(AppError::Unavailable("Stripe's answer has no session id or page".into()));
    };
    let new = NewPayment {
        id: payment,
        submission: id,
        organisation,
        session_id: session_id.to_string(),
        checkout_url: url.to_string(),
        amount_minor,
        currency,
        send_when_paid,
        expires_at,
    };
    Ok(app.store.create_payment(&new, now).await?)
}

/// The learner's payments for their submission (or the issuer staff's view of them), newest
/// first.
///
/// # Errors
/// `NotFound` for a submission the actor may not see.
pub async fn payments(app: &App, actor: &Actor, id: SubmissionId) -> Result<Vec<Payment>, AppError> {
    let submission = app.store.submission(id).await?;
    let organisation = app.store.submission_organisation(id).await?;
    let mine = actor.user == Some(submission.learner);
    if !mine && !actor.can(Action::Org(organisation, OrgAction::ManageAssessment)) {
        return Err(AppError::NotFound("submission not found".into()));
    }
    Ok(app.store.payments_of(id).await?)
}

/// What the learner's return from Stripe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Paid (now or before).
    Paid,
    /// Stripe does not say it is paid yet (a bank transfer, a webhook on its way).
    Pending,
}

/// The learner came back from Stripe's page with `session_id`: Stripe is asked for the
/// session, and a paid one settles the fee at once (the webhook then finds it settled).
///
/// # Errors
/// `NotFound` for another learner's submission or another submission's session; `Unavailable`
/// when Stripe cannot be reached.
pub async fn returned(app: &App, actor: &Actor, id: SubmissionId, session_id: &str) -> Result<Returned, AppError> {
    crate::submissions::own_submission(app, actor, id).await?;
    let payment =
        app.store.payment_by_session(session_id).await?.filter(|p| p.submission == id).ok_or_else(|| AppError::NotFound("payment not found".into()))?;
    if payment.status != PaymentStatus::Open && payment.status != PaymentStatus::Expired {
        return Ok(if payment.paid_at.is_some() { Returned::Paid } else { Returned::Pending });
    }
    let keys = app.store.stripe_keys(payment.organisation).await?.ok_or_else(|| AppError::conflict("this issuer no longer takes payments online"))?;
    let session = stripe(app, &keys.secret_key, reqwest::Method::GET, &format!("/v1/checkout/sessions/{}", payment.session_id), &[], None)
        .await
        .map_err(|e| e.into_app("reading the payment"))?;
    if session["payment_status"].as_str() == Some("paid") {
        settle(app, &payment.session_id, session["payment_intent"].as_str()).await?;
        return Ok(Returned::Paid);
    }
    Ok(Returned::Pending)
}

/// Settles a paid session: the fee paid, the learner told, the submission sent when asked.
async fn settle(app: &App, session_id: &str, payment_intent: Option<&str>) -> Result<(), AppError> {
    let Some(payment) = app.store.payment_by_session(session_id).await? else { return Ok(()) };
    let submission = app.store.submission(payment.submission).await?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let fee = FeeContext::load(app, &achievement).await?;
    let name = &achievement.content.name;
    if submission.status == Status::Withdrawn {
        // Paid on a page opened before withdrawing: the money goes back at once.
        let effects = vec![
            notice(
                submission.learner,
                NotificationKind::Fee,
                format!("Payment received after withdrawing: {name}"),
                format!("Your payment of {} for \"{name}\" arrived after you withdrew the submission, so it is refunded.", payment.amount()),
                format!("/submissions/{}", submission.id),
            ),
            NewEffect::from(Effect::Refund { payment: payment.id }),
        ];
        if let Settled::Now { .. } = app.store.settle_payment(session_id, payment_intent, &[], &effects, app.now()).await? {
            Box::pin(crate::effects::settle(app, &effects)).await;
        }
        return Ok(());
    }
    let mut effects = vec![notice(
        submission.learner,
        NotificationKind::Fee,
        format!("Payment received: {name}"),
        format!("Your payment of {} for \"{name}\" was received; the fee is paid.", payment.amount()),
        format!("/submissions/{}", submission.id),
    )];
    if payment.send_when_paid {
        effects.push(NewEffect::from(Effect::SendPaid { submission: submission.id }));
    }
    match app.store.settle_payment(session_id, payment_intent, &fee.covers, &effects, app.now()).await? {
        Settled::Now { .. } => crate::effects::settle(app, &effects).await,
        Settled::Before(_) | Settled::Unknown => {}
    }
    Ok(())
}

/// The `SendPaid` effect: the submission whose fee was just paid is sent, as its learner asked;
/// when it cannot go (evidence removed meanwhile, sent already), the learner is told why.
pub(crate) async fn send_paid(app: &App, id: SubmissionId) -> Result<(), AppError> {
    let submission = app.store.submission(id).await?;
    if !matches!(submission.status, Status::Draft | Status::NotYet) {
        return Ok(());
    }
    let actor = Actor::member(submission.learner, Vec::new());
    match crate::submissions::submit(app, &actor, id).await {
        Ok(_) => Ok(()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let achievement = app.store.achievement(submission.achievement).await?;
            let body = format!(
                "Your fee for \"{}\" is paid, but the submission could not be sent: {}. Open it, fix this and send it.",
                achievement.content.name,
                error.detail()
            );
            let told = [notice(submission.learner, NotificationKind::Fee, "Your submission is not sent yet", body, format!("/submissions/{id}"))];
            app.store.enqueue_effects(&told, app.now()).await?;
            crate::effects::settle(app, &told).await;
            Ok(())
        }
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------------------
// Refunds

/// What withdrawing a submission refunds.
#[derive(Debug, Clone)]
pub struct Refunding {
    /// The payments refunded (paid online for this submission's fee).
    pub payments: Vec<Payment>,
    /// The micro-credential's other levels whose fee the payment settled: the learner's drafts
    /// for them owe it again.
    pub covers: Vec<AchievementId>,
    /// The outbox's refunds, written with the withdrawal.
    pub effects: Vec<NewEffect>,
}

/// Whether withdrawing `submission` now refunds its fee, and what: only before anyone assessed
/// it (a first attempt, still a draft or waiting in the queue), only what was paid online for
/// it, and not when that fee also covers another level the learner has sent since.
///
/// # Errors
/// Store failures.
pub async fn refund_on_withdrawal(app: &App, submission: &Submission) -> Result<Option<Refunding>, AppError> {
    if submission.attempt != 1 || !matches!(submission.status, Status::Draft | Status::Submitted) {
        return Ok(None);
    }
    let payments: Vec<Payment> = app.store.payments_of(submission.id).await?.into_iter().filter(|p| p.status == PaymentStatus::Paid).collect();
    if payments.is_empty() {
        return Ok(None);
    }
    let achievement = app.store.achievement(submission.achievement).await?;
    let fee = FeeContext::load(app, &achievement).await?;
    if !fee.covers.is_empty() {
        let used =
            app.store.submissions_of(submission.learner).await?.iter().map(|line| &line.submission).any(|other| {
                fee.covers.contains(&other.achievement) && other.fee == FeeState::Paid && !matches!(other.status, Status::Draft | Status::Withdrawn)
            });
        if used {
            return Ok(None);
        }
    }
    let effects = payments.iter().map(|p| NewEffect::from(Effect::Refund { payment: p.id })).collect();
    Ok(Some(Refunding { payments, covers: fee.covers, effects }))
}

/// Closes the submission's open Checkout Sessions at Stripe after it was withdrawn, so nobody pays
/// for it; best effort (a payment that still arrives is refunded when it settles).
pub(crate) async fn close_open(app: &App, id: SubmissionId) {
    let Ok(payments) = app.store.payments_of(id).await else { return };
    for payment in payments.into_iter().filter(|p| p.status == PaymentStatus::Open) {
        let Ok(Some(keys)) = app.store.stripe_keys(payment.organisation).await else { return };
        let path = format!("/v1/checkout/sessions/{}/expire", payment.session_id);
        match stripe(app, &keys.secret_key, reqwest::Method::POST, &path, &[], None).await {
            Ok(_) | Err(StripeError::Api { status: 400, .. }) => {
                if let Err(error) = app.store.expire_payment(&payment.session_id).await {
                    tracing::warn!(payment = %payment.id, %error, "recording a closed session failed");
                }
            }
            Err(error) => tracing::warn!(payment = %payment.id, ?error, "closing an open Checkout Session failed"),
        }
    }
}

/// The `Refund` effect: asks Stripe to refund the payment (under an idempotency key, so a second
/// run refunds nothing more) and records it; a refusal is recorded and told to the issuer's
/// staff, who settle it by hand.
pub(crate) async fn refund(app: &App, id: PaymentId) -> Result<(), AppError> {
    let payment = app.store.payment(id).await?;
    if payment.status != PaymentStatus::Paid {
        return Ok(());
    }
    let Some(intent) = payment.payment_intent.clone() else {
        app.store.record_refund_failure(id).await?;
        return refusal(app, &payment, "Stripe gave no payment to refund").await;
    };
    let Some(keys) = app.store.stripe_keys(payment.organisation).await? else {
        app.store.record_refund_failure(id).await?;
        return refusal(app, &payment, "the organisation is no longer connected to Stripe").await;
    };
    let form = vec![
        ("payment_intent".to_string(), intent),
        ("metadata[cairn_payment]".to_string(), id.to_string()),
        ("reason".to_string(), "requested_by_customer".to_string()),
    ];
    match stripe(app, &keys.secret_key, reqwest::Method::POST, "/v1/refunds", &form, Some(&format!("cairn-refund-{id}"))).await {
        Ok(refund) => {
            if app.store.record_refund(id, refund["id"].as_str(), app.now()).await? {
                tell_refunded(app, &payment).await?;
            }
            Ok(())
        }
        Err(StripeError::Api { code: Some(code), .. }) if code == "charge_already_refunded" => {
            if app.store.record_refund(id, None, app.now()).await? {
                tell_refunded(app, &payment).await?;
            }
            Ok(())
        }
        Err(StripeError::Api { status, message, .. }) if (400..500).contains(&status) && status != 429 => {
            app.store.record_refund_failure(id).await?;
            refusal(app, &payment, &message).await
        }
        // Unreachable, rate-limited or failing: the outbox tries again.
        Err(error) => Err(error.into_app("refunding a fee")),
    }
}

async fn tell_refunded(app: &App, payment: &Payment) -> Result<(), AppError> {
    let submission = app.store.submission(payment.submission).await?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let body = format!(
        "Your payment of {} for \"{}\" is refunded; depending on your bank, it shows on your statement within 5 to 10 days.",
        payment.amount(),
        achievement.content.name
    );
    let told = [notice(submission.learner, NotificationKind::Fee, "Your fee is refunded", body, format!("/submissions/{}", submission.id))];
    app.store.enqueue_effects(&told, app.now()).await?;
    crate::effects::settle(app, &told).await;
    Ok(())
}

async fn refusal(app: &App, payment: &Payment, why: &str) -> Result<(), AppError> {
    tracing::warn!(payment = %payment.id, %why, "a refund failed");
    let body =
        format!("The online payment {} for submission {} could not be refunded: {why}. Refund it in Stripe's dashboard.", payment.amount(), payment.submission);
    let told = staff_notices(app, payment.organisation, NotificationKind::Fee, "A refund failed", &body, "/issuer/assessment").await?;
    app.store.enqueue_effects(&told, app.now()).await?;
    crate::effects::settle(app, &told).await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The webhook

/// What a webhook delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hooked {
    /// The event was taken.
    Taken,
    /// The event was taken before (Stripe sends again until answered 2xx).
    Again,
    /// An event Cairn does not act on.
    Ignored,
}

/// Why a webhook delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The organisation is not connected (or does not exist).
    NotConnected,
    Signature(SignatureError),
    /// The body is not a Stripe event.
    Malformed(String),
    TooLarge,
}

/// Takes a webhook delivery for `organisation`: `signature` is its `Stripe-Signature` header and
/// `body` its raw bytes.
///
/// # Errors
/// `Ok(Err(Refused))` for a delivery to refuse (HTTP 400 or 404); `Err` for failures, which
/// Stripe retries.
pub async fn webhook(app: &App, organisation: OrganisationId, signature: Option<&str>, body: &[u8]) -> Result<Result<Hooked, Refused>, AppError> {
    if body.len() > MAX_WEBHOOK_BYTES {
        return Ok(Err(Refused::TooLarge));
    }
    let Some(keys) = app.store.stripe_keys(organisation).await? else { return Ok(Err(Refused::NotConnected)) };
    if let Err(error) = verify_signature(signature, body, &keys.webhook_secret, app.now().unix_timestamp()) {
        tracing::warn!(%organisation, %error, "a Stripe webhook was refused");
        return Ok(Err(Refused::Signature(error)));
    }
    let event: Value = match serde_json::from_slice(body) {
        Ok(event) => event,
        Err(error) => return Ok(Err(Refused::Malformed(format!("the body is not JSON: {error}")))),
    };
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Ok(Err(Refused::Malformed("the event has no id or type".into())));
    };
    let object = &event["data"]["object"];
    if !WEBHOOK_EVENTS.contains(&kind) {
        return Ok(Ok(Hooked::Ignored));
    }
    if !app.store.take_stripe_event(id, organisation, kind, app.now()).await? {
        return Ok(Ok(Hooked::Again));
    }
    let outcome = act(app, organisation, kind, object).await;
    if outcome.is_err() {
        // Not taken after all: Stripe sends it again.
        app.store.forget_stripe_event(id).await?;
    }
    outcome.map(Ok)
}

async fn act(app: &App, organisation: OrganisationId, kind: &str, object: &Value) -> Result<Hooked, AppError> {
    match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let Some(session_id) = object["id"].as_str() else { return Ok(Hooked::Ignored) };
            let ours = app.store.payment_by_session(session_id).await?.is_some_and(|p| p.organisation == organisation);
            if ours && object["payment_status"].as_str() == Some("paid") {
                settle(app, session_id, object["payment_intent"].as_str()).await?;
            }
            Ok(Hooked::Taken)
        }
        "checkout.session.expired" => {
            if let Some(session_id) = object["id"].as_str()
                && app.store.payment_by_session(session_id).await?.is_some_and(|p| p.organisation == organisation)
            {
                app.store.expire_payment(session_id).await?;
            }
            Ok(Hooked::Taken)
        }
        "charge.refunded" => {
            let intent = object["payment_intent"].as_str().unwrap_or_default();
            let fully = object["refunded"].as_bool() == Some(true);
            if let Some(payment) = app.store.payment_by_intent(intent).await?.filter(|p| p.organisation == organisation && fully)
                && app.store.record_refund(payment.id, None, app.now()).await?
            {
                tell_refunded(app, &payment).await?;
            }
            Ok(Hooked::Taken)
        }
        _ => Ok(Hooked::Ignored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_decimal_currencies_are_asked_for_in_whole_units() {
        assert_eq!(stripe_amount(4950, "EUR"), 4950);
        assert_eq!(stripe_amount(50_000, "JPY"), 500);
    }
}
