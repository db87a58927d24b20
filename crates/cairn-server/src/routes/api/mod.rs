//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.
//! It authenticates with bearer tokens only (see `crate::auth`).

use axum::Router;
use axum::extract::{Request, State};
use axum::routing::get;
use axum::{Json, response::IntoResponse};

use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{UploadLimits, read_upload};

mod accounts;
mod achievements;
mod award_batches;
mod compare;
pub(crate) mod fuzzing;
mod imports;
pub(crate) mod insight;
mod journey;
mod offers;
mod organisations;
mod payments;
mod recognition;
mod talent;
pub(crate) mod transcripts;
pub(crate) mod webhooks;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(accounts::router())
        .merge(organisations::router())
        .merge(offers::router())
        .merge(award_batches::router())
        .merge(achievements::router())
        .merge(compare::router())
        .merge(journey::router())
        .merge(imports::router())
        .merge(insight::router())
        .merge(recognition::router())
        .merge(talent::router())
        .merge(transcripts::router())
        .merge(webhooks::router())
        .merge(payments::router())
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    Json(crate::openapi::document(&state.app.config))
}

/// Reads the image of an image upload (multipart field `file`, or `image`) with a byte cap
/// ([`crate::upload`]), with its declared type.
pub(crate) async fn upload(request: Request) -> Result<(Vec<u8>, Option<String>), Problem> {
    let form = read_upload(request, &UploadLimits::IMAGE).await?;
    let file = form.file.ok_or_else(|| Problem::invalid_field("/file", "send the image as the multipart field \"file\""))?;
    Ok((file.bytes, file.declared_type))
}
