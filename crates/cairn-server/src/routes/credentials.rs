//! Public, machine-readable award documents: the OB 3.0 credential (JSON and VC-JWT), the baked
//! PNG and SVG badges, the OB 2.0 hosted assertion, badge class and issuer, and the issuers'
//! Bitstring Status Lists.
//!
//! An award's downloads and its OB 2.0 assertion are shown to whoever may see the award
//! (`cairn_app::awards::visible`): a private award's answer 404 to anyone but its learner and
//! the issuer's staff, signed in with a session or a bearer token. The status lists are
//! verification endpoints, served to everyone. The paths are `cairn_app::urls::paths`, the same
//! the credentials name.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::awards::{self, Download, hosted};
use cairn_app::urls::paths;
use cairn_core::authz::Actor;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId};
use cairn_core::image::ImageType;
use serde::Deserialize;

use crate::auth::{ApiCaller, Viewer};
use crate::extract::{Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;

/// The media type of a JSON-LD verifiable credential (OB 3.0 §5.3, VC-JOSE-COSE).
const VC_JSON: &str = "application/vc+ld+json";
/// The media type of a VC-JWT.
const VC_JWT: &str = "application/vc+jwt";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::CREDENTIAL, get(credential))
        .route(paths::CREDENTIAL_JSON, get(credential))
        .route(paths::CREDENTIAL_JWT, get(credential_jwt))
        .route(paths::BADGE_PNG, get(badge_png))
        .route(paths::BADGE_SVG, get(badge_svg))
        .route(paths::OB2_ASSERTION, get(ob2_assertion))
        .route(paths::OB2_BADGE_CLASS, get(ob2_badge_class))
        .route(paths::OB2_ISSUER, get(ob2_issuer))
        .route(paths::STATUS_LIST, get(status_list))
}

#[derive(Debug, Default, Deserialize)]
struct DownloadQuery {
    download: Option<String>,
}

impl DownloadQuery {
    fn wanted(&self) -> bool {
        matches!(self.download.as_deref(), Some("1" | "true" | "yes"))
    }
}

/// Who fetches a download: the bearer token's user when the request carries a valid one (API
/// clients and wallets), else the browser session's (links on the award page), else nobody.
fn fetcher(viewer: Viewer, caller: Result<ApiCaller, Problem>) -> Actor {
    match caller {
        Ok(ApiCaller { user: Some(_), actor }) => actor,
        _ => viewer.actor,
    }
}

fn respond(body: Vec<u8>, media_type: &'static str, private: bool, attachment: Option<&str>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(if private { "private, no-store" } else { "public, max-age=300" }));
    if !private {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    if let Some(name) = attachment
        && let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn credential(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
    viewer: Viewer,
    caller: Result<ApiCaller, Problem>,
) -> Result<Response, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let file = awards::download(&state.app, &fetcher(viewer, caller), id, Download::Credential).await?;
    let name = query.wanted().then_some(file.file_name.as_str());
    Ok(respond(file.bytes, VC_JSON, file.private, name))
}

async fn credential_jwt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
    viewer: Viewer,
    caller: Result<ApiCaller, Problem>,
) -> Result<Response, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let file = awards::download(&state.app, &fetcher(viewer, caller), id, Download::Jwt).await?;
    let name = query.wanted().then_some(file.file_name.as_str());
    Ok(respond(file.bytes, VC_JWT, file.private, name))
}

async fn baked(state: &AppState, id: &str, actor: &Actor, image_type: ImageType) -> Result<Response, Problem> {
    let id: AwardId = path_id(id, "award")?;
    let file = awards::download(&state.app, actor, id, Download::Badge(image_type)).await?;
    let mut response = respond(file.bytes, image_type.media_type(), file.private, Some(&file.file_name));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
    Ok(response)
}

async fn badge_png(State(state): State<AppState>, Path(id): Path<String>, viewer: Viewer, caller: Result<ApiCaller, Problem>) -> Result<Response, Problem> {
    baked(&state, &id, &fetcher(viewer, caller), ImageType::Png).await
}

async fn badge_svg(State(state): State<AppState>, Path(id): Path<String>, viewer: Viewer, caller: Result<ApiCaller, Problem>) -> Result<Response, Problem> {
    baked(&state, &id, &fetcher(viewer, caller), ImageType::Svg).await
}

fn json_response(status: StatusCode, body: &serde_json::Value, cache: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    (status, headers, body.to_string()).into_response()
}

/// The hosted OB 2.0 assertion; 410 Gone with `"revoked": true` once revoked or suspended; 404
/// for a private award, except to its learner and the issuer's staff.
async fn ob2_assertion(State(state): State<AppState>, Path(id): Path<String>, viewer: Viewer, caller: Result<ApiCaller, Problem>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&id, "assertion")?;
    let hosted = hosted::assertion(&state.app, &fetcher(viewer, caller), id).await?;
    let mut response = json_response(if hosted.gone { StatusCode::GONE } else { StatusCode::OK }, &hosted.document, "no-cache");
    if hosted.private {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    }
    Ok(response)
}

async fn ob2_badge_class(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "badge class")?;
    Ok(json_response(StatusCode::OK, &hosted::badge_class(&state.app, &viewer.actor, id).await?, "public, max-age=300"))
}

async fn ob2_issuer(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "issuer")?;
    Ok(json_response(StatusCode::OK, &hosted::issuer(&state.app, id).await?, "public, max-age=300"))
}

/// A signed Bitstring Status List credential, rendered from the store on every request.
async fn status_list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let list = awards::status_list(&state.app, &id).await?;
    let mut response = respond(list.to_string().into_bytes(), VC_JSON, false, None);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
