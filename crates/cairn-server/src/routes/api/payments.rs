//! Online fee payments over the API (`cairn_app::payments`): an organisation's Stripe connection
//! (`/organisations/{id}/payments/stripe`: read, connect, disconnect), a learner's Checkout
//! Session for a submission's fee (`/submissions/{id}/checkout`) and a submission's payments.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cairn_app::payments::{self, Connection, WEBHOOK_EVENTS};
use cairn_core::ids::{OrganisationId, SubmissionId};
use cairn_store::Payment;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{id}/payments/stripe", get(read).put(connect).delete(disconnect))
        .route("/submissions/{id}/checkout", post(checkout))
        .route("/submissions/{id}/payments", get(list))
}

fn connection_json(connection: &Connection) -> Value {
    let account = connection.account.as_ref().map(|a| {
        json!({
            "id": a.account_id,
            "name": a.display_name,
            "livemode": a.livemode,
            "connected_at": timestamp(a.connected_at),
        })
    });
    json!({
        "connected": account.is_some(),
        "account": account,
        "webhook_url": connection.webhook_url,
        "webhook_events": WEBHOOK_EVENTS,
    })
}

pub(crate) fn payment_json(payment: &Payment) -> Value {
    json!({
        "id": payment.id.to_string(),
        "submission_id": payment.submission.to_string(),
        "status": payment.status.as_str(),
        "amount": {"minor": payment.amount_minor, "currency": payment.currency},
        "checkout_session_id": payment.session_id,
        "url": payment.checkout_url,
        "payment_intent": payment.payment_intent,
        "send_when_paid": payment.send_when_paid,
        "created_at": timestamp(payment.created_at),
        "expires_at": timestamp(payment.expires_at),
        "paid_at": payment.paid_at.map(timestamp),
        "refunded_at": payment.refunded_at.map(timestamp),
    })
}

async fn read(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    Ok(Json(connection_json(&payments::connection(&state.app, &caller.actor, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    secret_key: String,
    webhook_secret: String,
}

async fn connect(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, ApiJson(keys): ApiJson<Keys>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let connection = payments::connect(&state.app, &caller.actor, id, &keys.secret_key, &keys.webhook_secret).await?;
    Ok(Json(connection_json(&connection)))
}

async fn disconnect(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    payments::disconnect(&state.app, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckoutInput {
    #[serde(default)]
    send_when_paid: bool,
}

/// The body is optional: `{"send_when_paid": true}` sends the submission once the fee is paid.
async fn checkout(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let input: CheckoutInput = if body.iter().all(u8::is_ascii_whitespace) {
        CheckoutInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(format!("the body is not a checkout request: {e}")))?
    };
    let send = input.send_when_paid;
    let payment = payments::checkout(&state.app, &caller.actor, id, send).await?;
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(payment_json(&payment))).into_response())
}

async fn list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let items = payments::payments(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": items.iter().map(payment_json).collect::<Vec<_>>()})))
}
