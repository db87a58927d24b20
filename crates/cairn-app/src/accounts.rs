//! Accounts: signing up and in, browser sessions and API tokens, and who is calling — the
//! [`Caller`] a session or a bearer token stands for, with the actor every permission check uses.
//!
//! Sessions and tokens are stored as digests (see `cairn_store`); the secrets leave only once, to
//! their owner. Passwords are hashed with argon2id behind a bounded queue ([`passwords`], where
//! the parameters are documented); failed sign-ins are throttled per account and per client
//! address ([`throttle`]). Signing up never tells whether an address already has an account: the
//! answer is the same, and the address gets an e-mail either way.
//!
//! A browser session ends `session_hours` after sign-in, or `session_idle_hours` after its last
//! use. An API token has a scope (read-only or full) and, unless its owner chose "never", an
//! expiry. A forgotten password is reset by an e-mailed link ([`reset`]); people change their own
//! name and password in [`profile`], their e-mail address by a link sent to the new one
//! ([`email`]), and export or delete their data in [`data`].

pub mod data;
pub mod email;
pub mod passwords;
pub mod profile;
pub mod reset;
pub mod throttle;

use std::net::IpAddr;

use cairn_core::account::{ApiTokenFields, Email, MAX_PASSWORD_CHARS, NewAccount, NewApiToken, SignUpFields, TokenScope};
use cairn_core::authz::{Action, Actor, Role};
use cairn_core::ids::{TokenId, UserId};
use cairn_core::organisation::Organisation;
use cairn_store::{ApiToken, NewSession, StoreError, TokenOwner, User};

pub use passwords::PasswordHashing;
pub use throttle::LoginThrottle;

use crate::error::Throttle;
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

/// What a sign-up answers, the same whether or not the address already had an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpReceipt {
    pub name: String,
    pub email: Email,
}

/// Creates an account, or, when the e-mail address already has one, leaves it alone; the answer
/// is the same either way, so sign-up cannot be used to learn who has an account. The address
/// gets an e-mail in both cases (through the outbox): a welcome, or a note that someone tried
/// to sign up with it. Every valid attempt counts against the address and the client (`address`)
/// in [`App::signup_throttle`], alike for new and taken addresses, so nobody can have Cairn mail
/// someone without end.
///
/// # Errors
/// `Invalid` for broken field rules; `Throttled` after too many attempts; `Busy` when password
/// hashing is saturated.
pub async fn sign_up(app: &App, fields: SignUpFields, address: Option<IpAddr>) -> Result<SignUpReceipt, AppError> {
    let account = NewAccount::parse(fields)?;
    app.signup_throttle
        .check(Some(account.email.as_str()), address, app.now())
        .map_err(|retry_after| AppError::Throttled { retry_after, what: Throttle::SignUp })?;
    // Hashed before knowing whether the address is taken, so both answers take as long.
    let hash = app.passwords.hash(&account.password).await?;
    let now = app.now();
    let sign_in = app.config.url("/login");
    let (subject, body) = match app.store.create_user(&account.name, &account.email, &hash, now).await {
        Ok(_) => ("Your Cairn account is ready".to_string(), format!("Your Cairn account for this e-mail address is ready. Sign in at {sign_in}\n")),
        Err(StoreError::Conflict { .. }) => (
            "Someone tried to sign up with your e-mail address".to_string(),
            format!(
                "Someone tried to create a Cairn account with this e-mail address, which already has one. Nothing has changed.\n\n\
                 If it was you, sign in at {sign_in}\nIf it was not, you can ignore this message.\n"
            ),
        ),
        Err(error) => return Err(error.into()),
    };
    app.store.queue_mail(&account.email, &subject, &body, now).await?;
    app.signup_throttle.fail(Some(account.email.as_str()), address, now);
    Ok(SignUpReceipt { name: account.name, email: account.email })
}

/// The account for an e-mail address and password, from a client at `address` (when known).
/// Sign-ins for an account or from an address that failed too often lately are refused before
/// any password is checked.
///
/// # Errors
/// `Throttled` after too many failures; `WrongCredentials`, the same whether the address is
/// unknown or the password wrong; `Busy` when password hashing is saturated.
pub async fn log_in(app: &App, email: &str, password: &str, address: Option<IpAddr>) -> Result<User, AppError> {
    let now = app.now();
    let parsed = Email::parse(email).ok();
    let account = parsed.as_ref().map(Email::as_str);
    app.login_throttle.check(account, address, now).map_err(|retry_after| AppError::Throttled { retry_after, what: Throttle::SignIn })?;
    let user = match &parsed {
        Some(email) if password.len() <= MAX_PASSWORD_CHARS * 4 => {
            let stored = app.store.password_hash(email).await?;
            // An account without a password (made by an identity provider) is checked like an
            // unknown address, so how long the answer takes tells nothing.
            let hash = stored.as_ref().map(|(_, hash)| hash.as_str()).filter(|hash| *hash != cairn_store::NO_PASSWORD);
            let matches = app.passwords.verify(password, hash).await?;
            stored.filter(|_| matches).map(|(user, _)| user)
        }
        _ => None,
    };
    match user {
        Some(user) => {
            app.login_throttle.succeed(user.email.as_str());
            Ok(user)
        }
        None => {
            app.login_throttle.fail(account, address, now);
            Err(AppError::WrongCredentials)
        }
    }
}

/// Signs in with an e-mail address and password and returns a new API token (named "API
/// session", full scope, the default lifetime) with its secret, shown once.
///
/// # Errors
/// As [`log_in`].
pub async fn open_api_session(app: &App, email: &str, password: &str, address: Option<IpAddr>) -> Result<(User, ApiToken, String), AppError> {
    let user = log_in(app, email, password, address).await?;
    let (token, secret) = app.store.create_api_token(user.id, &NewApiToken::api_session(), app.now()).await?;
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

/// How long a session lasts unused.
fn session_idle(app: &App) -> time::Duration {
    time::Duration::hours(i64::from(app.config.session_idle_hours))
}

/// Ends a browser session.
///
/// # Errors
/// Store failures.
pub async fn end_session(app: &App, token: &str) -> Result<(), AppError> {
    Ok(app.store.delete_session(token, app.now()).await?)
}

/// The caller behind a browser session token; visitors (no token, or an expired, idle or
/// unknown one) are anonymous. Using a session keeps it alive.
///
/// # Errors
/// Store failures.
pub async fn session_caller(app: &App, token: Option<&str>) -> Result<Caller, AppError> {
    let user = match token {
        Some(token) => app.store.session_user(token, app.now(), session_idle(app)).await?,
        None => None,
    };
    caller_for(app, user).await
}

/// The caller behind an API bearer token; a read-only token makes a read-only actor.
///
/// # Errors
/// `UnknownToken` for an unknown, revoked or expired token; store failures.
pub async fn token_caller(app: &App, token: &str) -> Result<Caller, AppError> {
    match app.store.api_token_user(token, app.now()).await? {
        Some(TokenOwner { user, scope }) => {
            let mut caller = caller_for(app, Some(user)).await?;
            if scope == TokenScope::ReadOnly {
                caller.actor = caller.actor.as_read_only();
            }
            Ok(caller)
        }
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
    let memberships = app.store.memberships_with_kinds(id).await?;
    let mut actor = Actor::member_of(id, memberships);
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

/// Creates an API token for the actor with the chosen name, scope and lifetime; returns it with
/// its secret (shown once).
///
/// # Errors
/// `Unauthenticated` for visitors, `Invalid` for a bad name, scope or lifetime.
pub async fn create_api_token(app: &App, actor: &Actor, fields: &ApiTokenFields) -> Result<(ApiToken, String), AppError> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    let new = NewApiToken::parse(fields)?;
    Ok(app.store.create_api_token(user, &new, app.now()).await?)
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
