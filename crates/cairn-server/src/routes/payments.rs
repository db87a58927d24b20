//! Stripe's webhook for an organisation (`POST /payments/stripe/{id}/webhook`): the raw body and
//! its `Stripe-Signature` header go to `cairn_app::payments::webhook`, which checks the signature
//! and takes each event once. Answers 200 for events taken (again) or ignored, 400 for a bad
//! signature or body, 404 for an organisation not connected; a failure answers 500, and Stripe
//! sends the event again.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cairn_app::payments::{self, Hooked, Refused};
use cairn_core::ids::OrganisationId;
use cairn_core::payments::MAX_WEBHOOK_BYTES;
use serde_json::json;

use crate::extract::path_id;
use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/payments/stripe/{id}/webhook", post(webhook).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)))
}

async fn webhook(State(state): State<AppState>, Path(raw): Path<String>, headers: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    match payments::webhook(&state.app, id, signature, &body).await? {
        Ok(hooked) => {
            let what = match hooked {
                Hooked::Taken => "taken",
                Hooked::Again => "taken before",
                Hooked::Ignored => "ignored",
            };
            Ok((StatusCode::OK, Json(json!({"received": true, "event": what}))).into_response())
        }
        Err(Refused::NotConnected) => Err(Problem::not_found("this organisation does not take payments through Stripe")),
        Err(Refused::Signature(error)) => Err(Problem::new(StatusCode::BAD_REQUEST, "malformed-request", format!("the Stripe signature was refused: {error}"))),
        Err(Refused::Malformed(why)) => Err(Problem::malformed(why)),
        Err(Refused::TooLarge) => Err(Problem::too_large(format!("a webhook body is at most {} KB", MAX_WEBHOOK_BYTES / 1024))),
    }
}
