//! Sign-in with an identity provider in the browser (`cairn_app::oidc`): the link on the sign-in
//! page that sends the browser to the provider (with the sign-in's state in a short-lived
//! cookie), the callback the provider sends it back to, and the account page that lists and
//! unlinks the providers linked to the account.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::oidc::{self, Callback, Linked, STATE_COOKIE};

use super::accounts::{log_in_page, start_session};
use super::form::FieldErrors;
use super::{Layout, human_date, human_datetime, no_store, render, render_status, safe_next, see_other, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer, cookie, set_cookie};
use crate::extract::{FormFields, Query};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/{provider}", get(begin))
        .route("/auth/oidc/{provider}/callback", get(callback))
        .route("/account/providers", get(providers_page))
        .route("/account/providers/{provider}/unlink", get(back_to_providers).post(unlink))
}

#[derive(Debug, Default, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The state cookie: as long as a sign-in may take.
fn state_cookie(state: &AppState, value: &str, max_age: i64) -> axum::http::HeaderValue {
    set_cookie(state, STATE_COOKIE, value, max_age, "Lax")
}

/// The sign-in page again, saying why signing in with a provider failed.
fn failed(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, error: AppError, next: Option<String>) -> Result<Response, Problem> {
    let (status, message) = match error {
        AppError::Forbidden(message) => (StatusCode::FORBIDDEN, message),
        AppError::Unavailable(message) => (StatusCode::SERVICE_UNAVAILABLE, message),
        AppError::NotFound(message) => (StatusCode::NOT_FOUND, format!("There is no such sign-in provider: {message}.")),
        other => return Err(other.into()),
    };
    let page = log_in_page(&state.app, Layout::new(viewer, csrf, None), "", FieldErrors::default(), Some(message), next.unwrap_or_default());
    let mut response = render_status(status, &page)?;
    response.headers_mut().append(header::SET_COOKIE, state_cookie(state, "", 0));
    Ok(no_store(response))
}

async fn begin(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(provider): Path<String>,
    Query(query): Query<NextQuery>,
) -> Result<Response, Problem> {
    let next = query.next.as_deref().and_then(safe_next);
    match oidc::begin(&state.app, &provider, next.as_deref()).await {
        Ok(begun) => {
            let mut response = see_other(&begun.redirect);
            response.headers_mut().append(header::SET_COOKIE, state_cookie(&state, &begun.state, oidc::LOGIN_MINUTES * 60));
            Ok(no_store(response))
        }
        Err(error) => failed(&state, &viewer, &csrf, error, next),
    }
}

async fn callback(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(query): Query<Callback>,
) -> Result<Response, Problem> {
    let browser_state = cookie(&headers, STATE_COOKIE);
    match oidc::finish(&state.app, &provider, &query, browser_state).await {
        Ok(signed_in) => {
            let notice = match signed_in.linked {
                Linked::Known => "signed-in",
                Linked::ByEmail => "signed-in-linked",
                Linked::Created => "signed-in-new",
            };
            // The notice goes along to `next` too: being linked or given an account is news.
            let mut response = start_session(&state, &viewer, &signed_in.user, None, notice).await?;
            if let Some(next) = signed_in.next
                && let Ok(location) = axum::http::HeaderValue::from_str(&next)
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response.headers_mut().append(header::SET_COOKIE, state_cookie(&state, "", 0));
            Ok(no_store(response))
        }
        Err(error) => failed(&state, &viewer, &csrf, error, None),
    }
}

/// A linked provider as the account page lists it.
struct LinkRow {
    name: String,
    email: String,
    linked: String,
    last_used: String,
    unlink_action: String,
}

#[derive(Template)]
#[template(path = "account_providers.html")]
struct ProvidersPage {
    layout: Layout,
    linked: Vec<LinkRow>,
    /// Configured providers not linked, by name.
    others: Vec<String>,
    failure: Option<String>,
}

async fn providers_view(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, failure: Option<String>) -> Result<ProvidersPage, Problem> {
    let links = oidc::identities(&state.app, &viewer.actor).await?;
    let others = oidc::providers(&state.app).into_iter().filter(|p| !links.iter().any(|(_, l)| l.provider == p.id)).map(|p| p.name).collect();
    let linked = links
        .into_iter()
        .map(|(name, link)| LinkRow {
            name,
            email: link.email,
            linked: human_date(link.linked_at),
            last_used: human_datetime(link.last_used_at),
            unlink_action: format!("/account/providers/{}/unlink", link.provider),
        })
        .collect();
    Ok(ProvidersPage { layout: Layout::new(viewer, csrf, None), linked, others, failure })
}

async fn providers_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/providers"));
    }
    let page = providers_view(&state, &viewer, &csrf, None).await?;
    Ok(no_store(render(&page)?))
}

async fn back_to_providers() -> Response {
    see_other("/account/providers")
}

async fn unlink(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(provider): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/providers"));
    }
    match oidc::unlink(&state.app, &viewer.actor, &provider).await {
        Ok(()) => Ok(see_other_with("/account/providers", "provider-unlinked")),
        Err(AppError::Conflict { detail, .. }) => {
            let page = providers_view(&state, &viewer, &csrf, Some(format!("{}{}.", detail[..1].to_uppercase(), &detail[1..]))).await?;
            Ok(no_store(render_status(StatusCode::CONFLICT, &page)?))
        }
        Err(error) => Err(error.into()),
    }
}
