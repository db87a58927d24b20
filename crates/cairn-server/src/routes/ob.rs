//! The 1EdTech Open Badges 3.0 API at `/ims/ob/v3p0` (`cairn_app::ob_api`), for applications a
//! learner allowed in with OAuth 2.0. Its errors are the spec's `Imsx_StatusInfo` documents,
//! with the RFC 6750 `WWW-Authenticate` challenge on 401 and 403.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use cairn_app::AppError;
use cairn_app::oauth::{self, ObCaller};
use cairn_app::ob_api::{self, CredentialQuery, UpsertBody};
use cairn_core::oauth::{ErrorCode, OAuthError};
use serde_json::{Value, json};

use crate::extract::media_type;
use crate::state::AppState;

/// Largest `putProfile` body read.
const MAX_PROFILE_BYTES: usize = 64 * 1024;

pub(super) fn router() -> Router<AppState> {
    let only = |route: MethodRouter<AppState>| {
        route.fallback(|| async { ObError::status(StatusCode::METHOD_NOT_ALLOWED, "not_allowed", "this method is not allowed here") })
    };
    Router::new()
        .route("/discovery", only(get(discovery)))
        .route("/credentials", only(get(credentials).post(upsert)))
        .route("/profile", only(get(profile).put(put_profile)))
}

/// An error of the API, as an `Imsx_StatusInfo` document.
pub(crate) struct ObError {
    status: StatusCode,
    minor: &'static str,
    description: String,
    challenge: Option<String>,
}

impl ObError {
    fn status(status: StatusCode, minor: &'static str, description: impl Into<String>) -> ObError {
        ObError { status, minor, description: description.into(), challenge: None }
    }
}

/// A value for a quoted `WWW-Authenticate` parameter.
fn quoted(text: &str) -> String {
    text.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect()
}

impl From<AppError> for ObError {
    fn from(error: AppError) -> Self {
        let detail = error.detail();
        match error {
            AppError::OAuth(OAuthError { code: ErrorCode::InvalidToken, description }) => ObError {
                challenge: Some(format!("Bearer realm=\"cairn\", error=\"invalid_token\", error_description=\"{}\"", quoted(&description))),
                ..ObError::status(StatusCode::UNAUTHORIZED, "unauthorizedrequest", description)
            },
            AppError::OAuth(OAuthError { code: ErrorCode::InsufficientScope, description }) => ObError {
                challenge: Some(format!("Bearer realm=\"cairn\", error=\"insufficient_scope\", error_description=\"{}\"", quoted(&description))),
                ..ObError::status(StatusCode::FORBIDDEN, "forbidden", description)
            },
            AppError::OAuth(error) => ObError::status(StatusCode::BAD_REQUEST, "invalid_query_parameter", error.description),
            AppError::Invalid(invalid) => {
                let words: Vec<String> =
                    invalid.errors.iter().map(|e| if e.pointer.is_empty() { e.detail.clone() } else { format!("{}: {}", e.pointer, e.detail) }).collect();
                ObError::status(StatusCode::BAD_REQUEST, "invalid_data", words.join("; "))
            }
            AppError::Unauthenticated | AppError::WrongCredentials | AppError::UnknownToken => {
                ObError::status(StatusCode::UNAUTHORIZED, "unauthorizedrequest", detail)
            }
            AppError::Forbidden(_) => ObError::status(StatusCode::FORBIDDEN, "forbidden", detail),
            AppError::NotFound(_) | AppError::Gone(_) => ObError::status(StatusCode::NOT_FOUND, "not_found", detail),
            AppError::Conflict { .. } => ObError::status(StatusCode::CONFLICT, "invalid_data", detail),
            AppError::TooLarge(_) => ObError::status(StatusCode::PAYLOAD_TOO_LARGE, "invalid_data", detail),
            AppError::UnsupportedMediaType(_) => ObError::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_data", detail),
            AppError::Busy { .. } | AppError::Unavailable(_) => ObError::status(StatusCode::SERVICE_UNAVAILABLE, "server_busy", detail),
            AppError::Throttled { .. } => ObError::status(StatusCode::TOO_MANY_REQUESTS, "server_busy", detail),
            AppError::Internal(_) => ObError::status(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", detail),
        }
    }
}

impl IntoResponse for ObError {
    fn into_response(self) -> Response {
        let body = json!({
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": self.description,
            "imsx_codeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": self.minor}]},
        });
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// The caller behind `Authorization: Bearer <access token>`.
pub(crate) struct Bearer(ObCaller);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ObError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
            return Err(ObError {
                challenge: Some("Bearer realm=\"cairn\"".into()),
                ..ObError::status(StatusCode::UNAUTHORIZED, "unauthorizedrequest", "send an access token: Authorization: Bearer <token>")
            });
        };
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(|| ObError::from(AppError::OAuth(OAuthError::new(ErrorCode::InvalidToken, "the Authorization header must be \"Bearer <token>\""))))?;
        Ok(Bearer(oauth::access(&state.app, token).await?))
    }
}

async fn discovery(State(state): State<AppState>) -> Response {
    let mut response = axum::Json(ob_api::service_description(&state.app)).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `getCredentials`, with `X-Total-Count` and a `Link` header to the other pages.
async fn credentials(State(state): State<AppState>, Bearer(caller): Bearer, Query(pairs): Query<Vec<(String, String)>>) -> Result<Response, ObError> {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let query = CredentialQuery { limit: value("limit"), offset: value("offset"), since: value("since") };
    let page = ob_api::credentials(&state.app, &caller, &query).await?;
    let base = state.app.config.url("/ims/ob/v3p0/credentials");
    let since =
        query.since.as_deref().map(|s| format!("&since={}", url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>())).unwrap_or_default();
    let link = |offset: u64, rel: &str| format!("<{base}?limit={}&offset={offset}{since}>; rel=\"{rel}\"", page.limit);
    let last = if page.total == 0 { 0 } else { (page.total - 1) / page.limit * page.limit };
    let mut links = vec![link(0, "first"), link(last, "last")];
    if page.offset + page.limit < page.total {
        links.push(link(page.offset + page.limit, "next"));
    }
    if page.offset > 0 {
        links.push(link(page.offset.saturating_sub(page.limit), "prev"));
    }
    let body = json!({"credential": page.credential, "compactJwsString": page.compact_jws});
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert(header::LINK, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `upsertCredential`: a credential as `application/json`, or a VC-JWT as `text/plain`; 201 when
/// added, 200 when it replaced one (or was held already), with the credential as kept.
async fn upsert(State(state): State<AppState>, Bearer(caller): Bearer, headers: HeaderMap, body: Bytes) -> Result<Response, ObError> {
    let text = || String::from_utf8(body.to_vec()).map_err(|_| ObError::status(StatusCode::BAD_REQUEST, "invalid_data", "the body is not UTF-8 text"));
    let sent = match media_type(&headers).as_str() {
        "application/json" | "application/ld+json" | "application/vc+ld+json" => UpsertBody::Json(text()?),
        "text/plain" | "application/jwt" | "application/vc+jwt" => UpsertBody::CompactJws(text()?),
        _ => {
            return Err(ObError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_data",
                "send the credential as application/json, or a VC-JWT as text/plain",
            ));
        }
    };
    let answer = ob_api::upsert_credential(&state.app, &caller, sent).await?;
    let status = if answer.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(match answer.body {
        UpsertBody::Json(json) => (status, [(header::CONTENT_TYPE, "application/json")], json).into_response(),
        UpsertBody::CompactJws(jws) => (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], jws).into_response(),
    })
}

async fn profile(State(state): State<AppState>, Bearer(caller): Bearer) -> Result<Response, ObError> {
    Ok(axum::Json(ob_api::profile(&state.app, &caller).await?).into_response())
}

async fn put_profile(State(state): State<AppState>, Bearer(caller): Bearer, headers: HeaderMap, body: Bytes) -> Result<Response, ObError> {
    if !matches!(media_type(&headers).as_str(), "application/json" | "application/ld+json") {
        return Err(ObError::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_data", "send the profile as application/json"));
    }
    if body.len() > MAX_PROFILE_BYTES {
        return Err(ObError::status(StatusCode::PAYLOAD_TOO_LARGE, "invalid_data", "the profile is larger than 64 KB"));
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| ObError::status(StatusCode::BAD_REQUEST, "invalid_data", format!("the body is not JSON: {e}")))?;
    Ok(axum::Json(ob_api::update_profile(&state.app, &caller, &value).await?).into_response())
}
