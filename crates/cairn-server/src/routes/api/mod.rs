//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.
//! It authenticates with bearer tokens only (see `crate::auth`).

use axum::Router;
use axum::extract::{Multipart, State};
use axum::routing::get;
use axum::{Json, response::IntoResponse};

use crate::problem::Problem;
use crate::state::AppState;

mod accounts;
mod achievements;
mod journey;
mod organisations;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(accounts::router())
        .merge(organisations::router())
        .merge(achievements::router())
        .merge(journey::router())
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    Json(crate::openapi::document(&state.app.config))
}

/// Reads the one file field `file` (or `image`) of a multipart upload, with its declared type.
pub(crate) async fn upload(mut multipart: Multipart) -> Result<(Vec<u8>, Option<String>), Problem> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { Problem::too_large("the upload is too large") } else { Problem::malformed(e.body_text()) }
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        if matches!(field.name(), Some("file" | "image")) {
            let declared = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map_err(malformed)?;
            return Ok((bytes.to_vec(), declared));
        }
    }
    Err(Problem::invalid_field("/file", "send the image as the multipart field \"file\""))
}
