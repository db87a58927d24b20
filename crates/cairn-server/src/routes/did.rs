//! Issuer DID documents: `did:web:<host>:issuers:<id>` resolves to `/issuers/<id>/did.json`,
//! naming the organisation's Ed25519 Multikey (also known as its `did:key`); the installation's
//! own `did:web:<host>:platform`, which signs learners' transcripts, resolves to
//! `/platform/did.json`. Public keys only.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::organisations;
use cairn_app::urls::paths;
use cairn_core::ids::OrganisationId;

use crate::extract::path_id;
use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::DID_DOCUMENT, get(did_document)).route(paths::PLATFORM_DID_DOCUMENT, get(platform_did_document))
}

async fn platform_did_document(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(public(Json(cairn_app::transcripts::platform_did_document(&state.app)?).into_response()))
}

fn public(mut response: Response) -> Response {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

async fn did_document(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let document = organisations::did_document(&state.app, id).await?;
    Ok(public(Json(document).into_response()))
}
