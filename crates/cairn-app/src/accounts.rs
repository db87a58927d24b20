//! Accounts: signing up and in, browser sessions and API tokens, and who is calling — the
//! [`Caller`] a session or a bearer token stands for, with the actor every permission check uses.
//!
//! Sessions and tokens are stored as digests (see `cairn_store`); the secrets leave only once, to
//! their owner.

use cairn_core::account::{Email, MAX_PASSWORD_CHARS, NewAccount, SignUpFields, token_name};
use cairn_core::authz::{Action, Actor, Role};
use cairn_core::ids::{TokenId, UserId};
use cairn_core::organisation::Organisation;
use cairn_store::{ApiToken, NewSession, StoreError, User};

use crate::{App, AppError};

/// Who is asking: the signed-in user (none for visitors) and the actor their permissions make.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub actor: Actor,
}

impl Caller {
    /// Nobody signed in.
    pub fn anonymous() -> Caller {
        Caller { user: None, actor: Actor::anonymous() }
    }
}

/// Creates an account.
///
/// # Errors
/// `Invalid` for broken field rules, also when the e-mail address is taken.
pub async fn sign_up(app: &App, fields: SignUpFields) -> Result<User, AppError> {
    let account = NewAccount::parse(fields)?;
    match app.store.create_user(&account, app.now()).await {
        Err(StoreError::Conflict { detail, .. }) => Err(AppError::invalid_field("/email", detail)),
        other => Ok(other?),
    }
}

/// The account for an e-mail address and password.
///
/// # Errors
/// `WrongCredentials`, the same whether the address is unknown or the password wrong.
pub async fn log_in(app: &App, email: &str, password: &str) -> Result<User, AppError> {
    let email = Email::parse(email).map_err(|_| AppError::WrongCredentials)?;
    if password.len() > MAX_PASSWORD_CHARS * 4 {
        return Err(AppError::WrongCredentials);
    }
    app.store.authenticate(&email, password).await?.ok_or(AppError::WrongCredentials)
}

/// Signs in with an e-mail address and password and returns a new API token (named "API
/// session") with its secret, shown once.
///
/// # Errors
/// As [`log_in`].
pub async fn open_api_session(app: &App, email: &str, password: &str) -> Result<(User, ApiToken, String), AppError> {
    let user = log_in(app, email, password).await?;
    let (token, secret) = app.store.create_api_token(user.id, "API session", app.now()).await?;
    Ok((user, token, secret))
}

/// Starts a browser session for `user`, ending `previous` first (a fresh session on every
/// sign-in, so a token planted before it is worthless). It lasts the configured hours.
///
/// # Errors
/// Store failures.
pub async fn start_session(app: &App, user: UserId, previous: Option<&str>) -> Result<NewSession, AppError> {
    if let Some(old) = previous {
        app.store.delete_session(old, app.now()).await?;
    }
    let hours = time::Duration::hours(i64::from(app.config.session_hours));
    Ok(app.store.create_session(user, app.now(), hours).await?)
}

/// Ends a browser session.
///
/// # Errors
/// Store failures.
pub async fn end_session(app: &App, token: &str) -> Result<(), AppError> {
    Ok(app.store.delete_session(token, app.now()).await?)
}

/// The caller behind a browser session token; visitors (no token, or an expired or unknown one)
/// are anonymous.
///
/// # Errors
/// Store failures.
pub async fn session_caller(app: &App, token: Option<&str>) -> Result<Caller, AppError> {
    let user = match token {
        Some(token) => app.store.session_user(token, app.now()).await?,
        None => None,
    };
    caller_for(app, user).await
}

/// The caller behind an API bearer token.
///
/// # Errors
/// `UnknownToken` for an unknown or revoked token; store failures.
pub async fn token_caller(app: &App, token: &str) -> Result<Caller, AppError> {
    match app.store.api_token_user(token, app.now()).await? {
        Some(user) => caller_for(app, Some(user)).await,
        None => Err(AppError::UnknownToken),
    }
}

/// The user's memberships as an actor; an operator (the `operators` setting) may also operate
/// the installation. A user deleted meanwhile is nobody.
async fn caller_for(app: &App, user: Option<UserId>) -> Result<Caller, AppError> {
    let Some(id) = user else { return Ok(Caller::anonymous()) };
    let user = match app.store.user(id).await {
        Ok(user) => user,
        Err(StoreError::NotFound { .. }) => return Ok(Caller::anonymous()),
        Err(error) => return Err(error.into()),
    };
    let memberships = app.store.memberships(id).await?;
    let mut actor = Actor::member(id, memberships);
    if app.config.operators.iter().any(|operator| operator.eq_ignore_ascii_case(user.email.as_str())) {
        actor = actor.as_operator();
    }
    Ok(Caller { user: Some(user), actor })
}

/// The organisations the actor belongs to, with their role in each.
///
/// # Errors
/// Store failures.
pub async fn memberships(app: &App, actor: &Actor) -> Result<Vec<(Organisation, Role)>, AppError> {
    let mut organisations = Vec::with_capacity(actor.memberships.len());
    for (id, role) in &actor.memberships {
        organisations.push((app.store.organisation(*id).await?, *role));
    }
    Ok(organisations)
}

/// The actor's API tokens, revoked ones included.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn api_tokens(app: &App, actor: &Actor) -> Result<Vec<ApiToken>, AppError> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    Ok(app.store.api_tokens(user).await?)
}

/// Creates an API token for the actor; returns it with its secret (shown once).
///
/// # Errors
/// `Unauthenticated` for visitors, `Invalid` for a bad name.
pub async fn create_api_token(app: &App, actor: &Actor, name: &str) -> Result<(ApiToken, String), AppError> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    let name = token_name(name).map_err(|m| AppError::invalid_field("/name", m))?;
    Ok(app.store.create_api_token(user, &name, app.now()).await?)
}

/// Revokes one of the actor's API tokens.
///
/// # Errors
/// `Unauthenticated` for visitors, `NotFound` when the token is not theirs.
pub async fn revoke_api_token(app: &App, actor: &Actor, id: TokenId) -> Result<(), AppError> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    Ok(app.store.revoke_api_token(user, id, app.now()).await?)
}
