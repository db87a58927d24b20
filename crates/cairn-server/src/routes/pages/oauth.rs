//! The learner's side of OAuth 2.0 (`cairn_app::oauth`): the consent page an application sends
//! them to (`/oauth/authorize`), and the connected applications they may disconnect
//! (`/account/apps`).
//!
//! The consent page's answer redirects the browser to the application, so its
//! `Content-Security-Policy` lets its form lead there (browsers apply `form-action` to the
//! redirect after a form, too).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::oauth::{self, ConsentRequest};
use cairn_core::ids::OAuthGrantId;
use cairn_core::oauth::{AuthorizationFields, AuthorizationRefusal, OAuthError};

use super::{Layout, human_date, human_datetime, no_store, render, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::FormFields;
use crate::problem::Problem;
use crate::routes::CONTENT_SECURITY_POLICY;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(consent_page).post(decide))
        .route("/account/apps", get(apps_page))
        .route("/account/apps/{id}/revoke", post(revoke))
}

/// The request's parameters, carried through the consent form unchanged.
const PARAMETERS: [&str; 7] = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"];

/// An authorization request's fields from name/value pairs; a parameter sent twice is refused
/// (RFC 6749 §3.1), as an unusable request.
fn fields(pairs: &[(String, String)]) -> Result<AuthorizationFields, OAuthError> {
    let one = |name: &str| -> Result<Option<String>, OAuthError> {
        let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::new(cairn_core::oauth::ErrorCode::InvalidRequest, format!("the parameter {name} is sent more than once")));
        }
        Ok(first)
    };
    Ok(AuthorizationFields {
        response_type: one("response_type")?,
        client_id: one("client_id")?,
        redirect_uri: one("redirect_uri")?,
        scope: one("scope")?,
        state: one("state")?,
        code_challenge: one("code_challenge")?,
        code_challenge_method: one("code_challenge_method")?,
    })
}

/// One permission as the page lists it.
struct Permission {
    words: &'static str,
}

#[derive(Template)]
#[template(path = "oauth_consent.html")]
struct ConsentPage {
    layout: Layout,
    client_name: String,
    /// The application's home page, when it gave one, and its host.
    client_site: Option<(String, String)>,
    /// Where the answer sends the browser (its host).
    redirect_host: String,
    permissions: Vec<Permission>,
    /// The request's parameters, as hidden fields.
    hidden: Vec<(&'static str, String)>,
    /// Why the request cannot be used, instead of the question.
    refused: Option<String>,
}

fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| url.to_string())
}

/// The origin a redirect address belongs to, for the page's `form-action`.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let origin = parsed.origin().ascii_serialization();
    (origin != "null").then_some(origin)
}

fn consent_view(viewer: &Viewer, csrf: &CsrfToken, consent: &ConsentRequest) -> ConsentPage {
    let request = &consent.request;
    let metadata: serde_json::Value = serde_json::from_str(&consent.client.metadata_json).unwrap_or_default();
    let client_site = metadata.get("client_uri").and_then(serde_json::Value::as_str).map(|uri| (uri.to_string(), host_of(uri)));
    let mut hidden = vec![
        ("response_type", "code".to_string()),
        ("client_id", request.client_id.clone()),
        ("redirect_uri", request.redirect_uri.clone()),
        ("scope", request.scopes.to_string()),
        ("code_challenge", request.code_challenge.clone()),
        ("code_challenge_method", "S256".to_string()),
    ];
    if let Some(state) = &request.state {
        hidden.push(("state", state.clone()));
    }
    debug_assert!(hidden.iter().all(|(name, _)| PARAMETERS.contains(name)));
    ConsentPage {
        layout: Layout::new(viewer, csrf, None),
        client_name: consent.client.name.clone(),
        client_site,
        redirect_host: host_of(&request.redirect_uri),
        permissions: request.scopes.iter().map(|scope| Permission { words: scope.words() }).collect(),
        hidden,
        refused: None,
    }
}

fn refused_page(viewer: &Viewer, csrf: &CsrfToken, error: &OAuthError) -> Result<Response, Problem> {
    let page = ConsentPage {
        layout: Layout::new(viewer, csrf, None),
        client_name: String::new(),
        client_site: None,
        redirect_host: String::new(),
        permissions: Vec::new(),
        hidden: Vec::new(),
        refused: Some(error.description.clone()),
    };
    Ok(no_store(render_status(StatusCode::BAD_REQUEST, &page)?))
}

/// Reads the request, or answers for it: the refusal page, or the browser sent back to the
/// application with an error.
async fn request_of(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, pairs: &[(String, String)]) -> Result<Result<ConsentRequest, Response>, Problem> {
    let fields = match fields(pairs) {
        Ok(fields) => fields,
        Err(error) => return Ok(Err(refused_page(viewer, csrf, &error)?)),
    };
    Ok(match oauth::authorization_request(&state.app, fields).await? {
        Ok(consent) => Ok(consent),
        Err(AuthorizationRefusal::Shown(error)) => Err(refused_page(viewer, csrf, &error)?),
        Err(AuthorizationRefusal::Redirected { redirect_uri, state: request_state, error }) => {
            Err(see_other(&oauth::refusal_redirect(&state.app, &redirect_uri, request_state.as_deref(), &error)))
        }
    })
}

/// `GET /oauth/authorize`: the question, to a signed-in learner (others sign in first and come
/// back).
async fn consent_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    uri: axum::http::Uri,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let consent = match request_of(&state, &viewer, &csrf, &pairs).await? {
        Ok(consent) => consent,
        Err(response) => return Ok(response),
    };
    if viewer.user.is_none() {
        let path = uri.path_and_query().map_or("/oauth/authorize", |p| p.as_str());
        return Ok(sign_in_redirect(path));
    }
    let mut response = no_store(render(&consent_view(&viewer, &csrf, &consent))?);
    if let Some(origin) = origin_of(&consent.request.redirect_uri) {
        let policy = CONTENT_SECURITY_POLICY.replace("form-action 'self'", &format!("form-action 'self' {origin}"));
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

/// `POST /oauth/authorize`: the learner's answer; the browser goes back to the application.
async fn decide(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let pairs: Vec<(String, String)> = form.0.iter().filter(|(name, _)| PARAMETERS.contains(&name.as_str())).cloned().collect();
    let consent = match request_of(&state, &viewer, &csrf, &pairs).await? {
        Ok(consent) => consent,
        Err(response) => return Ok(response),
    };
    let allow = match form.get("decision") {
        "allow" => true,
        "deny" => false,
        _ => return Err(Problem::invalid_field("/decision", "choose Allow or Don't allow")),
    };
    if viewer.user.is_none() {
        // Signed out meanwhile (the session ended): sign in, then the question again.
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        return Ok(sign_in_redirect(&format!("/oauth/authorize?{query}")));
    }
    let target = oauth::decide(&state.app, &viewer.actor, &consent, allow).await?;
    Ok(no_store(see_other(&target)))
}

/// An application as the connected applications page lists it.
struct AppView {
    name: String,
    site: Option<(String, String)>,
    permissions: Vec<&'static str>,
    allowed: String,
    last_used: String,
    revoke_action: String,
}

#[derive(Template)]
#[template(path = "oauth_apps.html")]
struct AppsPage {
    layout: Layout,
    apps: Vec<AppView>,
}

async fn apps_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/apps"));
    }
    let grants = oauth::grants(&state.app, &viewer.actor).await?;
    let apps = grants
        .into_iter()
        .map(|grant| AppView {
            site: grant.client_uri.as_deref().map(|uri| (uri.to_string(), host_of(uri))),
            name: grant.client_name,
            permissions: grant.scopes.iter().map(|scope| scope.words()).collect(),
            allowed: human_date(grant.created_at),
            last_used: grant.last_used_at.map_or_else(|| "Not yet".to_string(), human_datetime),
            revoke_action: format!("/account/apps/{}/revoke", grant.id),
        })
        .collect();
    Ok(no_store(render(&AppsPage { layout: Layout::new(&viewer, &csrf, None), apps })?))
}

async fn revoke(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    viewer.require_user()?;
    let id: OAuthGrantId = id.parse().map_err(|_| Problem::not_found("no such connected application"))?;
    oauth::revoke_grant(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with("/account/apps", "app-disconnected"))
}
