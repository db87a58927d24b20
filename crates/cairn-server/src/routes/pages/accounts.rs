//! Accounts in the browser: sign-up, sign-in and sign-out (session cookies), the dashboard, and
//! the API tokens page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::accounts;
use cairn_core::account::{MIN_PASSWORD_CHARS, SignUpFields};
use cairn_core::authz::{Action, OrgAction};
use cairn_core::ids::TokenId;
use cairn_store::User;
use serde::Deserialize;

use super::form::{Field, FieldErrors};
use super::{
    Layout, NoticeQuery, human_date, human_datetime, next_query, no_store, render, render_status, safe_next, see_other, see_other_with, sign_in_redirect,
};
use crate::auth::{CsrfToken, SESSION_COOKIE, Viewer, set_cookie};
use crate::extract::{FormFields, Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(sign_up_form).post(sign_up))
        .route("/login", get(log_in_form).post(log_in))
        .route("/logout", post(log_out))
        .route("/dashboard", get(dashboard))
        .route("/account/tokens", get(tokens_page).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// Longest API token name.

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

/// Where to go after signing in: the safe `next`, or the dashboard.
fn destination(next: Option<&str>) -> Option<String> {
    next.and_then(safe_next)
}

/// Starts a session for `user` and sends the browser on, with the session cookie.
async fn start_session(state: &AppState, viewer: &Viewer, user: &User, next: Option<String>, notice: &str) -> Result<Response, Problem> {
    let session = accounts::start_session(&state.app, user.id, viewer.session_token.as_deref()).await?;
    let hours = state.app.config.session_hours;
    let mut response = match next {
        Some(next) => see_other(&next),
        None => see_other_with("/dashboard", notice),
    };
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &session.token, i64::from(hours) * 3600, "Lax"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    layout: Layout,
    fields: Vec<Field>,
    errors: FieldErrors,
    next: String,
    /// `?next=…` for the link to the other form, or "".
    next_query: String,
}

fn sign_up_page(layout: Layout, form: &FormFields, errors: FieldErrors, next: String) -> SignUpPage {
    let fields = vec![
        Field::new("name", "Your name", form.get("name"))
            .required()
            .autocomplete("name")
            .maxlength(100)
            .hint("Shown on your badges and to issuers you work with."),
        Field::new("email", "E-mail address", form.get("email")).kind("email").required().autocomplete("email").maxlength(254),
        Field::new("password", "Password", "")
            .kind("password")
            .required()
            .autocomplete("new-password")
            .hint(format!("At least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a strong one.")),
    ]
    .into_iter()
    .map(|f| f.error_from(&errors))
    .collect();
    SignUpPage { layout, fields, errors, next_query: next_query(&next), next }
}

fn account_field(pointer: &str) -> Option<(String, String)> {
    let (id, label) = match pointer {
        "/name" => ("name", "Your name"),
        "/email" => ("email", "E-mail address"),
        "/password" => ("password", "Password"),
        _ => return None,
    };
    Some((id.to_string(), label.to_string()))
}

async fn sign_up_form(viewer: Viewer, csrf: CsrfToken, Query(query): Query<NextQuery>) -> Result<Response, Problem> {
    let next = destination(query.next.as_deref()).unwrap_or_default();
    if viewer.user.is_some() {
        return Ok(see_other(if next.is_empty() { "/dashboard" } else { &next }));
    }
    let layout = Layout::new(&viewer, &csrf, query.notice.as_deref());
    render(&sign_up_page(layout, &FormFields::default(), FieldErrors::default(), next))
}

async fn sign_up(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let next = destination(Some(form.get("next")));
    let fields = SignUpFields { name: form.get("name").to_string(), email: form.get("email").to_string(), password: form.get("password").to_string() };
    match accounts::sign_up(&state.app, fields).await {
        Ok(user) => start_session(&state, &viewer, &user, next, "signed-up").await,
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, account_field);
            let page = sign_up_page(Layout::new(&viewer, &csrf, None), &form, errors, next.unwrap_or_default());
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LogInPage {
    layout: Layout,
    email: Field,
    password: Field,
    /// One message for a wrong e-mail or password (never which of the two).
    failure: Option<String>,
    errors: FieldErrors,
    next: String,
    next_query: String,
}

fn log_in_page(layout: Layout, email: &str, errors: FieldErrors, failure: Option<String>, next: String) -> LogInPage {
    LogInPage {
        layout,
        email: Field::new("email", "E-mail address", email).kind("email").required().autocomplete("username").error_from(&errors),
        password: Field::new("password", "Password", "").kind("password").required().autocomplete("current-password").error_from(&errors),
        failure,
        errors,
        next_query: next_query(&next),
        next,
    }
}

async fn log_in_form(viewer: Viewer, csrf: CsrfToken, Query(query): Query<NextQuery>) -> Result<Response, Problem> {
    let next = destination(query.next.as_deref()).unwrap_or_default();
    if viewer.user.is_some() {
        return Ok(see_other(if next.is_empty() { "/dashboard" } else { &next }));
    }
    let layout = Layout::new(&viewer, &csrf, query.notice.as_deref());
    render(&log_in_page(layout, "", FieldErrors::default(), None, next))
}

async fn log_in(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let next = destination(Some(form.get("next")));
    let email = form.get("email").trim().to_string();
    let password = form.get("password");
    let mut errors = FieldErrors::default();
    if email.is_empty() {
        errors.add(Some(("email".into(), "E-mail address".into())), "enter your e-mail address");
    }
    if password.is_empty() {
        errors.add(Some(("password".into(), "Password".into())), "enter your password");
    }
    if !errors.is_empty() {
        let page = log_in_page(Layout::new(&viewer, &csrf, None), &email, errors, None, next.unwrap_or_default());
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match accounts::log_in(&state.app, &email, password).await {
        Ok(user) => start_session(&state, &viewer, &user, next, "signed-in").await,
        Err(AppError::WrongCredentials) => {
            let failure = Some("That e-mail address and password do not match an account. Check both and try again.".to_string());
            let page = log_in_page(Layout::new(&viewer, &csrf, None), &email, FieldErrors::default(), failure, next.unwrap_or_default());
            render_status(StatusCode::UNAUTHORIZED, &page)
        }
        Err(error) => Err(error.into()),
    }
}

async fn log_out(State(state): State<AppState>, viewer: Viewer, _form: FormFields) -> Result<Response, Problem> {
    if let Some(token) = &viewer.session_token {
        accounts::end_session(&state.app, token).await?;
    }
    let mut response = see_other_with("/", "signed-out");
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0, "Lax"));
    Ok(response)
}

#[derive(Debug, Clone)]
struct MembershipView {
    name: String,
    profile_href: String,
    manage_href: String,
    role: &'static str,
    can_author: bool,
    new_badge_href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    name: String,
    email: String,
    member_since: String,
    organisations: Vec<MembershipView>,
}

pub(super) fn role_label(role: cairn_core::authz::Role) -> &'static str {
    match role {
        cairn_core::authz::Role::Owner => "Owner",
        cairn_core::authz::Role::Staff => "Staff",
        cairn_core::authz::Role::Assessor => "Assessor",
    }
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Query(query): Query<NoticeQuery>) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else {
        return Ok(sign_in_redirect("/dashboard"));
    };
    let mut organisations = Vec::new();
    for (organisation, role) in accounts::memberships(&state.app, &viewer.actor).await? {
        let id = &organisation.id;
        organisations.push(MembershipView {
            name: organisation.profile.name,
            profile_href: format!("/issuers/{id}"),
            manage_href: format!("/issuers/{id}/manage"),
            role: role_label(role),
            can_author: viewer.actor.can(Action::Org(*id, OrgAction::Author)),
            new_badge_href: format!("/issuers/{id}/achievements/new?kind=micro-badge"),
        });
    }
    organisations.sort_by_key(|a| a.name.to_lowercase());
    render(&DashboardPage {
        layout: Layout::new(&viewer, &csrf, query.notice.as_deref()),
        name: user.name.clone(),
        email: user.email.to_string(),
        member_since: human_date(user.created_at),
        organisations,
    })
}

#[derive(Debug, Clone)]
struct TokenView {
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
    revoke_action: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    name: Field,
    errors: FieldErrors,
    /// The new token's name and secret, shown once, right after creating it.
    created: Option<(String, String)>,
}

async fn tokens_page_for(
    state: &AppState,
    viewer: &Viewer,
    layout: Layout,
    name: Field,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<TokensPage, Problem> {
    let tokens = accounts::api_tokens(&state.app, &viewer.actor)
        .await?
        .into_iter()
        .map(|t| TokenView {
            name: t.name,
            prefix: t.prefix,
            created: human_datetime(t.created_at),
            last_used: t.last_used_at.map(human_datetime).unwrap_or_else(|| "Never".to_string()),
            revoked: t.revoked_at.map(human_datetime),
            revoke_action: format!("/account/tokens/{}/revoke", t.id),
        })
        .collect();
    Ok(TokensPage { layout, tokens, name, errors, created })
}

fn token_name_field(value: &str) -> Field {
    Field::new("name", "Token name", value)
        .required()
        .maxlength(cairn_core::account::MAX_TOKEN_NAME_CHARS as u32)
        .hint("What the token is for, such as “CI publishing” or “LMS sync”: 1 to 80 characters.")
}

async fn tokens_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Query(query): Query<NoticeQuery>) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/tokens"));
    }
    let layout = Layout::new(&viewer, &csrf, query.notice.as_deref());
    let page = tokens_page_for(&state, &viewer, layout, token_name_field(""), FieldErrors::default(), None).await?;
    render(&page)
}

async fn create_token(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let layout = Layout::new(&viewer, &csrf, None);
    match accounts::create_api_token(&state.app, &viewer.actor, form.get("name")).await {
        Ok((token, secret)) => {
            let page = tokens_page_for(&state, &viewer, layout, token_name_field(""), FieldErrors::default(), Some((token.name, secret))).await?;
            Ok(no_store(render(&page)?))
        }
        Err(AppError::Invalid(invalid)) => {
            let mut errors = FieldErrors::default();
            for error in &invalid.errors {
                errors.add(Some(("name".into(), "Token name".into())), &error.detail);
            }
            let field = token_name_field(form.get("name")).error_from(&errors);
            let page = tokens_page_for(&state, &viewer, layout, field, errors, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

async fn revoke_token(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    let id: TokenId = path_id(&id, "token")?;
    accounts::revoke_api_token(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with("/account/tokens", "token-revoked"))
}
