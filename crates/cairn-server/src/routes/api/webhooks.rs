//! Webhooks over the API (`cairn_app::webhooks`): an organisation's endpoints
//! (`/organisations/{id}/webhooks`), each endpoint (`/webhooks/{id}`: read, change, delete), its
//! secret rotation, a test message, and its delivery log with manual redelivery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cairn_app::webhooks::{self, LoggedDelivery};
use cairn_core::ids::{OrganisationId, WebhookDeliveryId, WebhookEndpointId};
use cairn_core::webhook::EndpointFields;
use cairn_store::{WebhookAttempt, WebhookEndpoint};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{id}/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(read).patch(change).delete(remove))
        .route("/webhooks/{id}/secret", post(rotate))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/deliveries", get(deliveries))
        .route("/webhooks/{id}/deliveries/{delivery}", get(delivery))
        .route("/webhooks/{id}/deliveries/{delivery}/redeliver", post(redeliver))
}

pub(crate) fn endpoint_json(endpoint: &WebhookEndpoint) -> Value {
    json!({
        "id": endpoint.id.to_string(),
        "organisation_id": endpoint.organisation.to_string(),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "enabled": endpoint.enabled,
        "created_at": timestamp(endpoint.created_at),
        "updated_at": timestamp(endpoint.updated_at),
    })
}

fn attempt_json(attempt: &WebhookAttempt) -> Value {
    json!({
        "number": attempt.number,
        "attempted_at": timestamp(attempt.attempted_at),
        "status": attempt.status,
        "error": attempt.error,
        "response": attempt.response,
        "duration_ms": attempt.duration_ms,
    })
}

pub(crate) fn delivery_json(logged: &LoggedDelivery) -> Value {
    let delivery = &logged.delivery;
    json!({
        "id": delivery.id.to_string(),
        "message_id": delivery.message_id,
        "endpoint_id": delivery.endpoint.to_string(),
        "event_type": delivery.event_type,
        "payload": serde_json::from_str::<Value>(&delivery.payload).unwrap_or(Value::Null),
        "state": delivery.state.as_str(),
        "attempts": logged.attempts.iter().map(attempt_json).collect::<Vec<_>>(),
        "next_attempt_at": delivery.next_attempt_at.map(timestamp),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": timestamp(delivery.created_at),
        "settled_at": delivery.settled_at.map(timestamp),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointInput {
    url: String,
    #[serde(default)]
    description: String,
    events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointChange {
    url: Option<String>,
    description: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

async fn list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let endpoints = webhooks::endpoints(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": endpoints.iter().map(endpoint_json).collect::<Vec<_>>()})))
}

async fn create(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, ApiJson(input): ApiJson<EndpointInput>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let fields = EndpointFields { url: input.url, description: input.description, events: input.events };
    let registered = webhooks::create(&state.app, &caller.actor, id, fields).await?;
    let mut body = endpoint_json(&registered.endpoint);
    body["secret"] = json!(registered.secret);
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

async fn read(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    Ok(Json(endpoint_json(&webhooks::endpoint(&state.app, &caller.actor, id).await?)))
}

async fn change(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EndpointChange>,
) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    let current = webhooks::endpoint(&state.app, &caller.actor, id).await?;
    let fields = EndpointFields {
        url: input.url.unwrap_or(current.url),
        description: input.description.unwrap_or(current.description),
        events: input.events.unwrap_or_else(|| current.events.iter().map(|e| e.as_str().to_string()).collect()),
    };
    let updated = webhooks::update(&state.app, &caller.actor, id, fields, input.enabled.unwrap_or(current.enabled)).await?;
    Ok(Json(endpoint_json(&updated)))
}

async fn remove(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    webhooks::delete(&state.app, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    let secret = webhooks::rotate_secret(&state.app, &caller.actor, id).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], Json(json!({"secret": secret}))).into_response())
}

async fn test(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    Ok(Json(delivery_json(&webhooks::send_test(&state.app, &caller.actor, id).await?)))
}

async fn deliveries(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    let log = webhooks::log(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": log.iter().map(delivery_json).collect::<Vec<_>>()})))
}

async fn delivery(State(state): State<AppState>, caller: ApiCaller, Path((id, delivery)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    let delivery: WebhookDeliveryId = path_id(&delivery, "webhook delivery")?;
    Ok(Json(delivery_json(&webhooks::delivery(&state.app, &caller.actor, id, delivery).await?)))
}

async fn redeliver(State(state): State<AppState>, caller: ApiCaller, Path((id, delivery)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: WebhookEndpointId = path_id(&id, "webhook endpoint")?;
    let delivery: WebhookDeliveryId = path_id(&delivery, "webhook delivery")?;
    Ok(Json(delivery_json(&webhooks::redeliver(&state.app, &caller.actor, id, delivery).await?)))
}
