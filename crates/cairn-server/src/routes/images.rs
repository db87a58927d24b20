//! Badge and issuer images: uploads from the blob store, or a generated default badge.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::urls::paths;
use cairn_app::{achievements, organisations};
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_core::image::ImageType;

use crate::auth::Viewer;
use crate::extract::path_id;
use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::ACHIEVEMENT_IMAGE, get(achievement_image)).route(paths::ISSUER_IMAGE, get(issuer_image))
}

/// An image response: SVGs get a CSP that forbids scripts even if opened directly.
pub(crate) fn image_response(image_type: ImageType, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(image_type.media_type()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
    response
}

async fn achievement_image(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let (image_type, bytes) = achievements::image(&state.app, &viewer.actor, id).await?;
    Ok(image_response(image_type, bytes))
}

async fn issuer_image(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let (image_type, bytes) = organisations::image(&state.app, id).await?;
    Ok(image_response(image_type, bytes))
}
