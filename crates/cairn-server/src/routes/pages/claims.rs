//! The page a direct award's claim link opens (`cairn_app::offers`): claim it signed in with the
//! address it was sent to, sign in first when that address has an account, or create the account
//! with a name and a password. Never stored: its address holds the secret.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::offers::{self, Opened, claim_path};

use super::accounts::start_session;
use super::form::{Field, FieldErrors, new_account_fields};
use super::{Layout, next_query, no_store, render, render_status, see_other_with};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::FormFields;
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/claim/{token}", get(claim_page).post(claim))
}

/// What the visitor can do with a working claim link.
enum Step {
    /// Signed in with the address the award was sent to: one button.
    Claim,
    /// Signed in with another address.
    WrongAccount { signed_in_as: String },
    /// The address has an account: sign in with it first.
    SignIn { href: String },
    /// No account uses the address: choose a name and a password.
    CreateAccount { name: Box<Field>, password: Box<Field> },
}

/// The award on offer, as the page states it.
struct Offer {
    issuer: String,
    achievement: String,
    email: String,
    recipient: String,
    narrative: String,
    evidence: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    layout: Layout,
    action: String,
    offer: Option<Offer>,
    step: Option<Step>,
    errors: FieldErrors,
    /// Why the link no longer works, instead of the form.
    gone: Option<String>,
}

fn create_fields(name: &str, errors: &FieldErrors) -> Step {
    let (name, password) = new_account_fields(name, "Shown on your badges' pages.", errors);
    Step::CreateAccount { name: Box::new(name), password: Box::new(password) }
}

fn page(viewer: &Viewer, csrf: &CsrfToken, token: &str, opened: &Opened, name: &str, errors: FieldErrors) -> ClaimPage {
    let offer = &opened.offer;
    let step = match &viewer.user {
        Some(user) if user.email == offer.email => Step::Claim,
        Some(user) => Step::WrongAccount { signed_in_as: user.email.to_string() },
        None if opened.account_exists => Step::SignIn { href: format!("/login{}", next_query(&claim_path(token))) },
        None => create_fields(if name.is_empty() { &offer.name } else { name }, &errors),
    };
    ClaimPage {
        layout: Layout::new(viewer, csrf, None),
        action: claim_path(token),
        offer: Some(Offer {
            issuer: offer.organisation_name.clone(),
            achievement: opened.achievement_name.clone(),
            email: offer.email.to_string(),
            recipient: offer.name.clone(),
            narrative: offer.narrative.clone(),
            evidence: offer.evidence.clone(),
        }),
        step: Some(step),
        errors,
        gone: None,
    }
}

fn gone_page(viewer: &Viewer, csrf: &CsrfToken, token: &str, detail: String) -> Result<Response, Problem> {
    let page = ClaimPage {
        layout: Layout::new(viewer, csrf, None),
        action: claim_path(token),
        offer: None,
        step: None,
        errors: FieldErrors::default(),
        gone: Some(detail),
    };
    render_status(StatusCode::GONE, &page)
}

async fn claim_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>) -> Result<Response, Problem> {
    let response = match offers::open(&state.app, &token).await {
        Ok(opened) => render(&page(&viewer, &csrf, &token, &opened, "", FieldErrors::default()))?,
        Err(AppError::Gone(detail)) => gone_page(&viewer, &csrf, &token, detail)?,
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}

/// Claims: as the signed-in account, or by creating one (then signed in); then the award's page.
async fn claim(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let result = match &viewer.user {
        Some(_) => offers::claim(&state.app, &viewer.actor, &token).await.map(|award| (None, award)),
        None => offers::claim_with_new_account(&state.app, &token, form.get("name"), form.get("password")).await.map(|(user, award)| (Some(user), award)),
    };
    let response = match result {
        Ok((new_account, award)) => {
            let next = format!("/awards/{}", award.id);
            return match new_account {
                None => Ok(see_other_with(&next, "award-claimed")),
                Some(user) => {
                    let mut response = start_session(&state, &viewer, &user, Some(next), "award-claimed").await?;
                    response.extensions_mut().insert(crate::flash::SetNotice("award-claimed".to_string()));
                    Ok(response)
                }
            };
        }
        Err(AppError::Gone(detail)) => gone_page(&viewer, &csrf, &token, detail)?,
        Err(AppError::Invalid(invalid)) => {
            let opened = offers::open(&state.app, &token).await?;
            let errors = FieldErrors::new_account(&invalid.errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&viewer, &csrf, &token, &opened, form.get("name"), errors))?
        }
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}
