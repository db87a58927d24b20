//! The person's own account in the browser: forgotten passwords (ask for a link, the
//! confirmation that never says whether the address has an account, the form the e-mailed link
//! opens) and the account settings page (name, password).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::accounts::{profile, reset};
use cairn_core::account::MIN_PASSWORD_CHARS;

use super::form::{Field, FieldErrors};
use super::{Layout, human_date, no_store, render, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{ClientAddress, CsrfToken, Viewer};
use crate::extract::FormFields;
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/forgot-password", get(forgot_form).post(forgot))
        .route("/forgot-password/sent", get(forgot_sent))
        .route("/reset-password/{token}", get(reset_form).post(reset))
        .route("/account", get(account_page))
        .route("/account/name", get(back_to_account).post(rename))
        .route("/account/password", get(back_to_account).post(change_password))
}

fn new_password_field(errors: &FieldErrors) -> Field {
    Field::new("password", "New password", "")
        .kind("password")
        .required()
        .autocomplete("new-password")
        .hint(format!("At least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a strong one."))
        .error_from(errors)
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    email: Field,
    errors: FieldErrors,
    /// Why the request was not taken (too many of them), if so.
    failure: Option<String>,
}

fn forgot_page(layout: Layout, email: &str, errors: FieldErrors, failure: Option<String>) -> ForgotPage {
    let email = Field::new("email", "E-mail address", email)
        .kind("email")
        .required()
        .autocomplete("email")
        .maxlength(254)
        .hint("The address you sign in with.")
        .error_from(&errors);
    ForgotPage { layout, email, errors, failure }
}

async fn forgot_form(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    render(&forgot_page(Layout::new(&viewer, &csrf, None), "", FieldErrors::default(), None))
}

/// Asks for a reset link, then shows the same confirmation whether or not the address has an
/// account.
async fn forgot(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    ClientAddress(address): ClientAddress,
    form: FormFields,
) -> Result<Response, Problem> {
    let email = form.get("email").trim().to_string();
    let layout = || Layout::new(&viewer, &csrf, None);
    if email.is_empty() {
        let mut errors = FieldErrors::default();
        errors.add(Some(("email".into(), "E-mail address".into())), "enter your e-mail address");
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &forgot_page(layout(), &email, errors, None));
    }
    match reset::request_reset(&state.app, &email, address).await {
        Ok(()) => Ok(see_other("/forgot-password/sent")),
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, |pointer| (pointer == "/email").then(|| ("email".to_string(), "E-mail address".to_string())));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &forgot_page(layout(), &email, errors, None))
        }
        Err(AppError::Throttled { retry_after }) => {
            let failure =
                format!("There were too many requests for this address or from your network. Wait {} minutes, then try again.", retry_after.div_ceil(60));
            let mut response = render_status(StatusCode::TOO_MANY_REQUESTS, &forgot_page(layout(), &email, FieldErrors::default(), Some(failure)))?;
            response.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
            Ok(response)
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "forgot_password_sent.html")]
struct ForgotSentPage {
    layout: Layout,
    hours: i64,
}

async fn forgot_sent(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    render(&ForgotSentPage { layout: Layout::new(&viewer, &csrf, None), hours: reset::RESET_LINK_HOURS })
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    layout: Layout,
    action: String,
    password: Field,
    errors: FieldErrors,
    /// The link no longer works: why, instead of the form.
    gone: Option<String>,
}

fn reset_page(layout: Layout, token: &str, errors: FieldErrors, gone: Option<String>) -> ResetPage {
    ResetPage { layout, action: reset::reset_path(token), password: new_password_field(&errors), errors, gone }
}

/// The page an e-mailed link opens: the new-password form, or why the link no longer works.
/// Never stored: its address holds the secret.
async fn reset_form(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>) -> Result<Response, Problem> {
    let layout = Layout::new(&viewer, &csrf, None);
    let response = match reset::check_reset_link(&state.app, &token).await {
        Ok(()) => render(&reset_page(layout, &token, FieldErrors::default(), None))?,
        Err(AppError::Gone(detail)) => render_status(StatusCode::GONE, &reset_page(layout, &token, FieldErrors::default(), Some(detail)))?,
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}

async fn reset(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let layout = Layout::new(&viewer, &csrf, None);
    let response = match reset::reset_password(&state.app, &token, form.get("password")).await {
        Ok(_) => return Ok(see_other_with("/login", "password-reset")),
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, |pointer| (pointer == "/password").then(|| ("password".to_string(), "New password".to_string())));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &reset_page(layout, &token, errors, None))?
        }
        Err(AppError::Gone(detail)) => render_status(StatusCode::GONE, &reset_page(layout, &token, FieldErrors::default(), Some(detail)))?,
        Err(error) => return Err(error.into()),
    };
    Ok(no_store(response))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    member_since: String,
    name: Field,
    name_errors: FieldErrors,
    current_password: Field,
    password: Field,
    password_errors: FieldErrors,
}

fn account_view(layout: Layout, user: &cairn_store::User, name: &str, name_errors: FieldErrors, password_errors: FieldErrors) -> AccountPage {
    AccountPage {
        layout,
        email: user.email.to_string(),
        member_since: human_date(user.created_at),
        name: Field::new("name", "Your name", name)
            .required()
            .autocomplete("name")
            .maxlength(100)
            .hint("Shown to issuers you work with and on badges issued to you from now on.")
            .error_from(&name_errors),
        name_errors,
        current_password: Field::new("current_password", "Current password", "")
            .kind("password")
            .required()
            .autocomplete("current-password")
            .error_from(&password_errors),
        password: new_password_field(&password_errors),
        password_errors,
    }
}

async fn account_page(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else { return Ok(sign_in_redirect("/account")) };
    let layout = Layout::new(&viewer, &csrf, None);
    render(&account_view(layout, user, &user.name, FieldErrors::default(), FieldErrors::default()))
}

/// A reload of a form's address after a failed POST: back to the page.
async fn back_to_account() -> Response {
    see_other("/account")
}

async fn rename(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else { return Ok(sign_in_redirect("/account")) };
    match profile::rename(&state.app, &viewer.actor, form.get("name")).await {
        Ok(_) => Ok(see_other_with("/account", "name-saved")),
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, |pointer| (pointer == "/name").then(|| ("name".to_string(), "Your name".to_string())));
            let page = account_view(Layout::new(&viewer, &csrf, None), user, form.get("name"), errors, FieldErrors::default());
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

async fn change_password(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else { return Ok(sign_in_redirect("/account")) };
    let (status, errors) =
        match profile::change_password(&state.app, &viewer.actor, form.get("current_password"), form.get("password"), viewer.session_token.as_deref()).await {
            Ok(()) => return Ok(see_other_with("/account", "password-changed")),
            Err(AppError::Invalid(invalid)) => {
                let errors = FieldErrors::place(&invalid.errors, |pointer| match pointer {
                    "/current_password" => Some(("current_password".to_string(), "Current password".to_string())),
                    "/password" => Some(("password".to_string(), "New password".to_string())),
                    _ => None,
                });
                (StatusCode::UNPROCESSABLE_ENTITY, errors)
            }
            Err(AppError::Throttled { retry_after }) => {
                let mut errors = FieldErrors::default();
                let message = format!("too many wrong passwords lately: wait {} minutes, then try again", retry_after.div_ceil(60));
                errors.add(Some(("current_password".into(), "Current password".into())), &message);
                (StatusCode::TOO_MANY_REQUESTS, errors)
            }
            Err(error) => return Err(error.into()),
        };
    let page = account_view(Layout::new(&viewer, &csrf, None), user, &user.name, FieldErrors::default(), errors);
    render_status(status, &page)
}
