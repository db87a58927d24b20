//! The page an invitation link opens: join the organisation signed in with the invited address,
//! sign in first when that address has an account, or create the account with a name and a
//! password. Never stored: its address holds the secret.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::invitations::{self, Opened, invitation_path, role_words};

use super::accounts::start_session;
use super::form::{Field, FieldErrors, new_account_fields};
use super::{Layout, next_query, no_store, render, render_status, see_other_with};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::FormFields;
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/invitations/{token}", get(invitation_page).post(accept))
}

/// What the visitor can do with a working invitation.
enum Step {
    /// Signed in with the invited address: one button.
    Join,
    /// Signed in with another address.
    WrongAccount { signed_in_as: String },
    /// The address has an account: sign in with it first.
    SignIn { href: String },
    /// No account uses the address: choose a name and a password.
    CreateAccount { name: Box<Field>, password: Box<Field> },
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    action: String,
    /// The organisation, the role in words and the invited address, while the link works.
    invitation: Option<(String, &'static str, String)>,
    step: Option<Step>,
    errors: FieldErrors,
    /// Why the link no longer works, instead of the form.
    gone: Option<String>,
}

fn create_fields(name: &str, errors: &FieldErrors) -> Step {
    let (name, password) = new_account_fields(name, "Shown to the organisation's members.", errors);
    Step::CreateAccount { name: Box::new(name), password: Box::new(password) }
}

fn page(viewer: &Viewer, csrf: &CsrfToken, token: &str, opened: &Opened, name: &str, errors: FieldErrors) -> InvitationPage {
    let invitation = &opened.invitation;
    let step = match &viewer.user {
        Some(user) if user.email == invitation.email => Step::Join,
        Some(user) => Step::WrongAccount { signed_in_as: user.email.to_string() },
        None if opened.account_exists => Step::SignIn { href: format!("/login{}", next_query(&invitation_path(token))) },
        None => create_fields(name, &errors),
    };
    InvitationPage {
        layout: Layout::new(viewer, csrf, None),
        action: invitation_path(token),
        invitation: Some((invitation.organisation_name.clone(), role_words(invitation.role), invitation.email.to_string())),
        step: Some(step),
        errors,
        gone: None,
    }
}

fn gone_page(viewer: &Viewer, csrf: &CsrfToken, token: &str, detail: String) -> Result<Response, Problem> {
    let page = InvitationPage {
        layout: Layout::new(viewer, csrf, None),
        action: invitation_path(token),
        invitation: None,
        step: None,
        errors: FieldErrors::default(),
        gone: Some(detail),
    };
    render_status(StatusCode::GONE, &page)
}

async fn invitation_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>) -> Result<Response, Problem> {
    let response = match invitations::open(&state.app, &token).await {
        Ok(opened) => render(&page(&viewer, &csrf, &token, &opened, "", FieldErrors::default()))?,
        Err(AppError::Gone(detail)) => gone_page(&viewer, &csrf, &token, detail)?,
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}

/// Joins: as the signed-in account, or by creating one (then signed in).
async fn accept(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let result = match &viewer.user {
        Some(_) => invitations::accept(&state.app, &viewer.actor, &token).await,
        None => invitations::accept_with_new_account(&state.app, &token, form.get("name"), form.get("password")).await,
    };
    let response = match result {
        Ok((invitation, user)) => {
            let next = format!("/issuers/{}/manage", invitation.organisation);
            return match &viewer.user {
                Some(_) => Ok(see_other_with(&next, "invitation-accepted")),
                None => {
                    let mut response = start_session(&state, &viewer, &user, Some(next), "invitation-accepted").await?;
                    response.extensions_mut().insert(crate::flash::SetNotice("invitation-accepted".to_string()));
                    Ok(response)
                }
            };
        }
        Err(AppError::Gone(detail)) => gone_page(&viewer, &csrf, &token, detail)?,
        Err(AppError::Invalid(invalid)) => {
            let opened = invitations::open(&state.app, &token).await?;
            let errors = FieldErrors::new_account(&invalid.errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&viewer, &csrf, &token, &opened, form.get("name"), errors))?
        }
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}
