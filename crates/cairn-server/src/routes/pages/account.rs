//! The person's own account in the browser: forgotten passwords (ask for a link, the
//! confirmation that never says whether the address has an account, the form the e-mailed link
//! opens) and the account settings page (name, password, e-mail address with the page its
//! confirmation link opens, the export of one's data, and deleting the account after a page that
//! says what follows).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::accounts::{data, email, profile, reset};
use cairn_core::account::MIN_PASSWORD_CHARS;

use super::form::{Field, FieldErrors};
use super::{ConfirmPage, Layout, human_date, no_store, render, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{ClientAddress, CsrfToken, Viewer, session_cookie, set_cookie};
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
        .route("/account/email", get(back_to_account).post(change_email))
        .route("/account/export", get(export))
        .route("/account/delete", get(delete_form).post(delete_account))
        .route("/email-changes/{token}", get(email_change_form).post(confirm_email_change))
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
        Err(AppError::Throttled { retry_after, .. }) => {
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
    new_email: Field,
    email_password: Field,
    email_errors: FieldErrors,
}

/// The e-mail change form, as typed, with its errors.
fn email_fields(new_email: &str, errors: &FieldErrors) -> (Field, Field) {
    (
        Field::new("new_email", "New e-mail address", new_email)
            .name("email")
            .kind("email")
            .required()
            .autocomplete("email")
            .maxlength(254)
            .hint(format!("We send a link to it; your address changes when you open the link, within {} hours.", email::EMAIL_CHANGE_HOURS))
            .error_from(errors),
        Field::new("email_password", "Your password", "").name("password").kind("password").required().autocomplete("current-password").error_from(errors),
    )
}

fn account_view(layout: Layout, user: &cairn_store::User, name: &str, name_errors: FieldErrors, password_errors: FieldErrors) -> AccountPage {
    let (new_email, email_password) = email_fields("", &FieldErrors::default());
    AccountPage {
        new_email,
        email_password,
        email_errors: FieldErrors::default(),
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
            Err(AppError::Throttled { retry_after, .. }) => {
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

fn email_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/email" => Some(("new_email".to_string(), "New e-mail address".to_string())),
        "/password" => Some(("email_password".to_string(), "Your password".to_string())),
        _ => None,
    }
}

/// Asks for a change of address: a link goes to the new one.
async fn change_email(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else { return Ok(sign_in_redirect("/account")) };
    let (status, errors) = match email::request_email_change(&state.app, &viewer.actor, form.get("email"), form.get("password")).await {
        Ok(_) => return Ok(see_other_with("/account", "email-change-sent")),
        Err(AppError::Invalid(invalid)) => (StatusCode::UNPROCESSABLE_ENTITY, FieldErrors::place(&invalid.errors, email_field)),
        Err(AppError::Throttled { retry_after, .. }) => {
            let mut errors = FieldErrors::default();
            errors.add(email_field("/password"), &format!("too many wrong passwords lately: wait {} minutes, then try again", retry_after.div_ceil(60)));
            (StatusCode::TOO_MANY_REQUESTS, errors)
        }
        Err(error) => return Err(error.into()),
    };
    let mut page = account_view(Layout::new(&viewer, &csrf, None), user, &user.name, FieldErrors::default(), FieldErrors::default());
    (page.new_email, page.email_password) = email_fields(form.get("email"), &errors);
    page.email_errors = errors;
    render_status(status, &page)
}

#[derive(Template)]
#[template(path = "email_change.html")]
struct EmailChangePage {
    layout: Layout,
    action: String,
    /// Why the link no longer works, instead of the button.
    gone: Option<String>,
}

/// The page a confirmation link opens: a button, so that mail scanners opening links change
/// nothing. Never stored: its address holds the secret.
async fn email_change_form(viewer: Viewer, csrf: CsrfToken, Path(token): Path<String>) -> Result<Response, Problem> {
    let page = EmailChangePage { layout: Layout::new(&viewer, &csrf, None), action: email::confirm_path(&token), gone: None };
    Ok(no_store(render(&page)?))
}

async fn confirm_email_change(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(token): Path<String>,
    _form: FormFields,
) -> Result<Response, Problem> {
    match email::confirm_email_change(&state.app, &token).await {
        Ok(_) if viewer.user.is_some() => Ok(see_other_with("/account", "email-changed")),
        Ok(_) => Ok(see_other_with("/login", "email-changed")),
        Err(AppError::Gone(detail)) => {
            let page = EmailChangePage { layout: Layout::new(&viewer, &csrf, None), action: email::confirm_path(&token), gone: Some(detail) };
            Ok(no_store(render_status(StatusCode::GONE, &page)?))
        }
        Err(error) => Err(error.into()),
    }
}

/// Everything Cairn keeps about the viewer, as a JSON file.
async fn export(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account"));
    }
    let document = data::export(&state.app, &viewer.actor).await?;
    let body = serde_json::to_vec_pretty(&document).map_err(|error| Problem::internal(&error))?;
    let mut response = Response::new(axum::body::Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"cairn-data.json\""));
    Ok(no_store(response))
}

fn delete_page(layout: Layout, errors: FieldErrors) -> ConfirmPage {
    let password =
        Field::new("delete_password", "Your password", "").name("password").kind("password").required().autocomplete("current-password").error_from(&errors);
    ConfirmPage {
        layout,
        title: "Delete your account?".into(),
        lead: "Deleting your account cannot be undone. Download your data first if you want to keep it.".into(),
        consequences: vec![
            "Badges already issued to you stay verifiable: copies you shared, downloaded or put in a wallet still check as valid.".into(),
            "Their pages on this site go: their links answer that the page is gone.".into(),
            "Your submissions, evidence, reflections, notifications and memberships are deleted; your name and e-mail address are removed.".into(),
            "You are signed out everywhere, and your API tokens stop working.".into(),
            "Your e-mail address is free to sign up again, as a new account without these badges.".into(),
        ],
        action: "/account/delete".into(),
        hidden: Vec::new(),
        fields: vec![password],
        errors,
        publish_reason: None,
        button: "Delete my account".into(),
        cancel: "/account".into(),
    }
}

async fn delete_form(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/delete"));
    }
    render(&delete_page(Layout::new(&viewer, &csrf, None), FieldErrors::default()))
}

async fn delete_account(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/delete"));
    }
    let field = || Some(("delete_password".to_string(), "Your password".to_string()));
    let (status, errors) = match data::delete_account(&state.app, &viewer.actor, form.get("password")).await {
        Ok(()) => {
            let mut response = see_other_with("/", "account-deleted");
            response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, session_cookie(&state), "", 0, "Lax"));
            return Ok(response);
        }
        Err(AppError::Invalid(invalid)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, FieldErrors::place(&invalid.errors, |p| (p == "/password").then(field).flatten()))
        }
        Err(AppError::Throttled { retry_after, .. }) => {
            let mut errors = FieldErrors::default();
            errors.add(field(), &format!("too many wrong passwords lately: wait {} minutes, then try again", retry_after.div_ceil(60)));
            (StatusCode::TOO_MANY_REQUESTS, errors)
        }
        Err(AppError::Conflict { detail, .. }) => {
            let mut errors = FieldErrors::default();
            errors.add(None, &detail);
            (StatusCode::CONFLICT, errors)
        }
        Err(error) => return Err(error.into()),
    };
    render_status(status, &delete_page(Layout::new(&viewer, &csrf, None), errors))
}
