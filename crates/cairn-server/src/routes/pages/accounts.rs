//! Accounts in the browser: sign-up, sign-in and sign-out (session cookies), the dashboard, and
//! the API tokens page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::{accounts, home};
use cairn_core::account::{ApiTokenFields, MIN_PASSWORD_CHARS, SignUpFields, TokenScope};
use cairn_core::authz::{Action, OrgAction};
use cairn_core::award::AwardStatus;
use cairn_core::ids::TokenId;
use cairn_core::progress::LevelProgress;
use cairn_store::User;
use serde::Deserialize;

use super::form::{Field, FieldErrors, SelectOption};
use super::learner::{due_words, status_pill};
use super::{Layout, human_date, human_datetime, next_query, no_store, render, render_status, safe_next, see_other, see_other_with, sign_in_redirect};
use crate::auth::{ClientAddress, CsrfToken, Viewer, session_cookie, set_cookie};
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

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// The address to sign up with, from an invitation's link (sign-up only; still editable).
    email: Option<String>,
}

/// Where to go after signing in: the safe `next`, or the dashboard.
fn destination(next: Option<&str>) -> Option<String> {
    next.and_then(safe_next)
}

/// Starts a session for `user` and sends the browser on, with the session cookie.
pub(super) async fn start_session(state: &AppState, viewer: &Viewer, user: &User, next: Option<String>, notice: &str) -> Result<Response, Problem> {
    let session = accounts::start_session(&state.app, user.id, viewer.session_token.as_deref()).await?;
    let hours = state.app.config.session_hours;
    let mut response = match next {
        Some(next) => see_other(&next),
        None => see_other_with("/dashboard", notice),
    };
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, session_cookie(state), &session.token, i64::from(hours) * 3600, "Lax"));
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
    let layout = Layout::new(&viewer, &csrf, None);
    let typed = FormFields(query.email.iter().map(|email| ("email".to_string(), email.trim().chars().take(254).collect())).collect());
    render(&sign_up_page(layout, &typed, FieldErrors::default(), next))
}

/// Signs up, then sends the browser to sign in: the same answer whether or not the address
/// already had an account (its owner is told by e-mail), so no session is started here.
async fn sign_up(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    ClientAddress(address): ClientAddress,
    form: FormFields,
) -> Result<Response, Problem> {
    let next = destination(Some(form.get("next")));
    let fields = SignUpFields { name: form.get("name").to_string(), email: form.get("email").to_string(), password: form.get("password").to_string() };
    match accounts::sign_up(&state.app, fields, address).await {
        Ok(_) => Ok(see_other_with(&format!("/login{}", next_query(next.as_deref().unwrap_or(""))), "signed-up")),
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
pub(super) struct LogInPage {
    layout: Layout,
    email: Field,
    password: Field,
    /// One message for a wrong e-mail or password (never which of the two).
    failure: Option<String>,
    errors: FieldErrors,
    next: String,
    next_query: String,
    /// The identity providers to sign in with: (id, name).
    providers: Vec<(String, String)>,
}

pub(super) fn log_in_page(app: &cairn_app::App, layout: Layout, email: &str, errors: FieldErrors, failure: Option<String>, next: String) -> LogInPage {
    let providers = cairn_app::oidc::providers(app).into_iter().map(|p| (p.id, p.name)).collect();
    LogInPage {
        providers,
        layout,
        email: Field::new("email", "E-mail address", email).kind("email").required().autocomplete("username").error_from(&errors),
        password: Field::new("password", "Password", "").kind("password").required().autocomplete("current-password").error_from(&errors),
        failure,
        errors,
        next_query: next_query(&next),
        next,
    }
}

async fn log_in_form(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Query(query): Query<NextQuery>) -> Result<Response, Problem> {
    let next = destination(query.next.as_deref()).unwrap_or_default();
    if viewer.user.is_some() {
        return Ok(see_other(if next.is_empty() { "/dashboard" } else { &next }));
    }
    let layout = Layout::new(&viewer, &csrf, None);
    render(&log_in_page(&state.app, layout, "", FieldErrors::default(), None, next))
}

async fn log_in(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    ClientAddress(address): ClientAddress,
    form: FormFields,
) -> Result<Response, Problem> {
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
        let page = log_in_page(&state.app, Layout::new(&viewer, &csrf, None), &email, errors, None, next.unwrap_or_default());
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let (status, failure, retry_after) = match accounts::log_in(&state.app, &email, password, address).await {
        Ok(user) => return start_session(&state, &viewer, &user, next, "signed-in").await,
        Err(AppError::WrongCredentials) => {
            (StatusCode::UNAUTHORIZED, "That e-mail address and password do not match an account. Check both and try again.".to_string(), None)
        }
        Err(AppError::Throttled { retry_after, .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("There were too many failed sign-ins for this account or from your network. Wait {} minutes, then try again.", retry_after.div_ceil(60)),
            Some(retry_after),
        ),
        Err(AppError::Busy { retry_after }) => {
            (StatusCode::SERVICE_UNAVAILABLE, "Cairn is busy signing other people in. Wait a moment, then try again.".to_string(), Some(retry_after))
        }
        Err(error) => return Err(error.into()),
    };
    let page = log_in_page(&state.app, Layout::new(&viewer, &csrf, None), &email, FieldErrors::default(), Some(failure), next.unwrap_or_default());
    let mut response = render_status(status, &page)?;
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    Ok(response)
}

async fn log_out(State(state): State<AppState>, viewer: Viewer, _form: FormFields) -> Result<Response, Problem> {
    if let Some(token) = &viewer.session_token {
        accounts::end_session(&state.app, token).await?;
    }
    let mut response = see_other_with("/", "signed-out");
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, session_cookie(&state), "", 0, "Lax"));
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
    /// An employer whose talent search the member may use.
    finds_talent: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    name: String,
    email: String,
    member_since: String,
    in_progress: Vec<HomeSubmissionView>,
    feedback_waiting: Vec<HomeSubmissionView>,
    awards: Vec<HomeAwardView>,
    expiring_soon: Vec<HomeAwardView>,
    micro_credentials: Vec<StackView>,
    /// Shown to organisation members only.
    organisations: Vec<MembershipView>,
    /// The API panel, for people who have created tokens; others get a "Developer settings" link.
    show_api: bool,
}

/// A submission on the learner's home.
#[derive(Debug, Clone)]
struct HomeSubmissionView {
    href: String,
    achievement: String,
    issuer: String,
    status: (&'static str, &'static str),
    attempt: u32,
    /// "12 March 2026" and how it stands ("On track").
    due: Option<(String, (&'static str, &'static str))>,
    attempts_left: String,
    /// The fee still owed, in words.
    fee_due: Option<String>,
    updated: String,
}

impl HomeSubmissionView {
    fn new(line: &home::HomeSubmission) -> HomeSubmissionView {
        HomeSubmissionView {
            href: format!("/submissions/{}", line.id),
            achievement: line.achievement_name.clone(),
            issuer: line.organisation_name.clone(),
            status: status_pill(line.status),
            attempt: line.attempt,
            due: line.due.map(|(at, state)| (human_date(at), due_words(state))),
            attempts_left: match line.attempts_left {
                None => "Unlimited attempts".to_string(),
                Some(0) => "No attempts left".to_string(),
                Some(1) => "1 more attempt".to_string(),
                Some(n) => format!("{n} more attempts"),
            },
            fee_due: line.fee_due.clone(),
            updated: human_date(line.updated_at),
        }
    }
}

/// An award on the learner's home.
#[derive(Debug, Clone)]
struct HomeAwardView {
    href: String,
    achievement: String,
    issuer: String,
    issued: String,
    /// "Valid until 3 May 2027", "Expired on …", or "Does not expire".
    validity: String,
    /// Revoked or suspended: its label.
    status: Option<&'static str>,
}

impl HomeAwardView {
    fn new(award: &home::HomeAward) -> HomeAwardView {
        HomeAwardView {
            href: format!("/awards/{}", award.id),
            achievement: award.achievement_name.clone(),
            issuer: award.organisation_name.clone(),
            issued: human_date(award.issued_at),
            validity: match (award.valid_until, award.expired) {
                (None, _) => "Does not expire".to_string(),
                (Some(until), true) => format!("Expired on {}", human_date(until)),
                (Some(until), false) => format!("Valid until {}", human_date(until)),
            },
            status: match award.status {
                AwardStatus::Active => None,
                AwardStatus::Revoked => Some("Revoked"),
                AwardStatus::Suspended => Some("Suspended"),
            },
        }
    }
}

/// A micro-credential or certificate with the viewer's progress on each level or component (also
/// used by the achievement page).
#[derive(Debug, Clone)]
pub(super) struct StackView {
    pub href: String,
    pub name: String,
    /// "Micro-credential" or "Certificate".
    pub kind_label: String,
    /// A certificate's rule in words, before its components.
    pub rule: Option<String>,
    pub summary: String,
    pub complete: bool,
    pub award_href: Option<String>,
    pub levels: Vec<LevelProgressView>,
}

#[derive(Debug, Clone)]
pub(super) struct LevelProgressView {
    pub heading: String,
    pub name: String,
    pub href: String,
    pub progress: &'static str,
    pub class: &'static str,
    /// "View badge" or "Continue your submission", with its link.
    pub action: Option<(&'static str, String)>,
}

impl StackView {
    pub(super) fn new(stack: &home::StackStanding) -> StackView {
        StackView {
            href: format!("/achievements/{}", stack.micro_credential.id),
            name: stack.micro_credential.content.name.clone(),
            kind_label: stack.micro_credential.kind.label(),
            rule: (stack.micro_credential.kind == cairn_core::achievement::Kind::Certificate).then(|| stack.rule.label()),
            summary: if stack.micro_credential.kind == cairn_core::achievement::Kind::MicroCredential {
                stack.progress.summary()
            } else {
                stack.summary.clone()
            },
            complete: stack.progress.complete(),
            award_href: stack.award.map(|id| format!("/awards/{id}")),
            levels: stack
                .levels
                .iter()
                .enumerate()
                .map(|(index, level)| {
                    let action = match (level.award, level.submission) {
                        (Some(award), _) => Some(("View badge", format!("/awards/{award}"))),
                        (None, Some((id, status))) if status.is_editable() => Some(("Continue your submission", format!("/submissions/{id}"))),
                        (None, Some((id, _))) => Some(("See your submission", format!("/submissions/{id}"))),
                        (None, None) => None,
                    };
                    LevelProgressView {
                        heading: super::view::component_heading(&level.level, index, stack.micro_credential.kind),
                        name: level.level.content.name.clone(),
                        href: format!("/achievements/{}", level.level.id),
                        progress: level.progress.label(),
                        class: match level.progress {
                            LevelProgress::Held => "progress-held",
                            LevelProgress::InProgress => "progress-started",
                            LevelProgress::NotStarted => "progress-none",
                        },
                        action,
                    }
                })
                .collect(),
        }
    }
}

pub(super) fn role_label(role: cairn_core::authz::Role) -> &'static str {
    match role {
        cairn_core::authz::Role::Owner => "Owner",
        cairn_core::authz::Role::Staff => "Staff",
        cairn_core::authz::Role::Assessor => "Assessor",
    }
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    let Some(user) = viewer.user.as_ref() else {
        return Ok(sign_in_redirect("/dashboard"));
    };
    let home = home::learner_home(&state.app, &viewer.actor).await?;
    let mut organisations: Vec<MembershipView> = home
        .memberships
        .iter()
        .map(|(organisation, role)| {
            let id = &organisation.id;
            MembershipView {
                name: organisation.profile.name.clone(),
                profile_href: format!("/issuers/{id}"),
                manage_href: format!("/issuers/{id}/manage"),
                role: role_label(*role),
                can_author: viewer.actor.can(Action::Org(*id, OrgAction::Author)) && organisation.kind == cairn_core::organisation::OrganisationKind::Issuer,
                finds_talent: viewer.actor.can(Action::FindTalent(*id, organisation.kind)),
                new_badge_href: format!("/issuers/{id}/achievements/new?kind=micro-badge"),
            }
        })
        .collect();
    organisations.sort_by_key(|a| a.name.to_lowercase());
    render(&DashboardPage {
        layout: Layout::new(&viewer, &csrf, None),
        name: user.name.clone(),
        email: user.email.to_string(),
        member_since: human_date(user.created_at),
        in_progress: home.in_progress.iter().map(HomeSubmissionView::new).collect(),
        feedback_waiting: home.feedback_waiting.iter().map(HomeSubmissionView::new).collect(),
        awards: home.awards.iter().map(HomeAwardView::new).collect(),
        expiring_soon: home.expiring_soon.iter().map(HomeAwardView::new).collect(),
        micro_credentials: home.micro_credentials.iter().map(StackView::new).collect(),
        organisations,
        show_api: home.has_api_tokens,
    })
}

#[derive(Debug, Clone)]
struct TokenView {
    name: String,
    prefix: String,
    scope: &'static str,
    created: String,
    expires: String,
    last_used: String,
    /// Revoked or expired: the label and when.
    ended: Option<(&'static str, String)>,
    revoke_action: String,
}

/// The lifetimes offered on the page (the API accepts any number of days).
const LIFETIMES: [(&str, &str); 4] = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("never", "Never (not recommended)")];
const SCOPES: [(&str, &str); 2] = [("full", "Full access: read and change"), ("read-only", "Read only: GET requests")];

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    name: Field,
    scope: Field,
    expires: Field,
    errors: FieldErrors,
    /// The new token's name and secret, shown once, right after creating it.
    created: Option<(String, String)>,
}

fn scope_label(scope: TokenScope) -> &'static str {
    match scope {
        TokenScope::ReadOnly => "Read only",
        TokenScope::Full => "Full access",
    }
}

/// What the form was filled in with (or the defaults).
struct TokenForm<'a> {
    name: &'a str,
    scope: &'a str,
    lifetime: &'a str,
}

async fn tokens_page_for(
    state: &AppState,
    viewer: &Viewer,
    layout: Layout,
    form: &TokenForm<'_>,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<TokensPage, Problem> {
    let now = state.app.now();
    let tokens = accounts::api_tokens(&state.app, &viewer.actor)
        .await?
        .into_iter()
        .map(|t| {
            let ended = match (t.revoked_at, t.expires_at) {
                (Some(revoked), _) => Some(("Revoked", human_datetime(revoked))),
                (None, Some(expires)) if t.expired(now) => Some(("Expired", human_datetime(expires))),
                _ => None,
            };
            TokenView {
                name: t.name,
                prefix: t.prefix,
                scope: scope_label(t.scope),
                created: human_datetime(t.created_at),
                expires: t.expires_at.map(human_date).unwrap_or_else(|| "Never".to_string()),
                last_used: t.last_used_at.map(human_datetime).unwrap_or_else(|| "Never".to_string()),
                ended,
                revoke_action: format!("/account/tokens/{}/revoke", t.id),
            }
        })
        .collect();
    let name = token_name_field(form.name).error_from(&errors);
    let scope = Field::new("scope", "Access", form.scope).select(SelectOption::list(&SCOPES, form.scope)).error_from(&errors);
    let expires = Field::new("expires", "Expires after", form.lifetime)
        .select(SelectOption::list(&LIFETIMES, form.lifetime))
        .hint("When the token stops working; make a new one then.")
        .error_from(&errors);
    Ok(TokensPage { layout, tokens, name, scope, expires, errors, created })
}

fn token_name_field(value: &str) -> Field {
    Field::new("name", "Token name", value)
        .required()
        .maxlength(cairn_core::account::MAX_TOKEN_NAME_CHARS as u32)
        .hint("What the token is for, such as “CI publishing” or “LMS sync”: 1 to 80 characters.")
}

/// The form as first shown: full access for the default lifetime.
const DEFAULT_TOKEN_FORM: TokenForm<'static> = TokenForm { name: "", scope: "full", lifetime: DEFAULT_LIFETIME };

/// The lifetime chosen unless the person picks another: `cairn_core::account::DEFAULT_TOKEN_DAYS`.
const DEFAULT_LIFETIME: &str = "90";

async fn tokens_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/tokens"));
    }
    let layout = Layout::new(&viewer, &csrf, None);
    let page = tokens_page_for(&state, &viewer, layout, &DEFAULT_TOKEN_FORM, FieldErrors::default(), None).await?;
    render(&page)
}

fn token_field(pointer: &str) -> Option<(String, String)> {
    let (id, label) = match pointer {
        "/name" => ("name", "Token name"),
        "/scope" => ("scope", "Access"),
        "/expires_in_days" => ("expires", "Expires after"),
        _ => return None,
    };
    Some((id.to_string(), label.to_string()))
}

async fn create_token(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let layout = Layout::new(&viewer, &csrf, None);
    let fields = ApiTokenFields { name: form.get("name").to_string(), scope: form.get("scope").to_string(), expires_in_days: form.get("expires").to_string() };
    match accounts::create_api_token(&state.app, &viewer.actor, &fields).await {
        Ok((token, secret)) => {
            let page = tokens_page_for(&state, &viewer, layout, &DEFAULT_TOKEN_FORM, FieldErrors::default(), Some((token.name, secret))).await?;
            Ok(no_store(render(&page)?))
        }
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, token_field);
            let filled = TokenForm { name: form.get("name"), scope: form.get("scope"), lifetime: form.get("expires") };
            let page = tokens_page_for(&state, &viewer, layout, &filled, errors, None).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::account::DEFAULT_TOKEN_DAYS;

    #[test]
    fn the_form_offers_the_default_lifetime_first_chosen() {
        assert_eq!(DEFAULT_LIFETIME, DEFAULT_TOKEN_DAYS.to_string());
        assert!(LIFETIMES.iter().any(|(value, _)| *value == DEFAULT_LIFETIME));
    }
}
