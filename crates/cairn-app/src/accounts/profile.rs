//! The signed-in person's own account: their name and their password. Changing the password
//! needs the current one and ends every other browser session.

use cairn_core::account::{MAX_PASSWORD_CHARS, display_name, password_problem};
use cairn_core::authz::{Action, Actor};
use cairn_core::discovery::{Discovery, DiscoveryFields};
use cairn_core::ids::UserId;
use cairn_core::invalid::Invalid;
use cairn_store::User;

use crate::{App, AppError};

pub(crate) fn own(actor: &Actor) -> Result<UserId, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    Ok(user)
}

/// Changes the actor's display name (shown on badges issued from now on and to issuers).
///
/// # Errors
/// `Unauthenticated` for visitors; `Invalid` (`/name`) for an empty or too long name.
pub async fn rename(app: &App, actor: &Actor, name: &str) -> Result<User, AppError> {
    let user = own(actor)?;
    let name = display_name(name)?;
    Ok(app.store.rename_user(user, &name).await?)
}

/// Changes, at once, the actor's name (when given) and their discovery choices (handle,
/// discoverability, imported badges on the portfolio): both are checked before either is kept.
///
/// # Errors
/// `Unauthenticated` for visitors; `Invalid` at `/name`, `/handle` or `/discoverable` (all
/// broken rules together); `Conflict` when the handle is taken.
pub async fn update(app: &App, actor: &Actor, name: Option<&str>, fields: &DiscoveryFields) -> Result<(User, Discovery), AppError> {
    let user = own(actor)?;
    let mut invalid = Invalid::new();
    let name = match name.map(display_name) {
        Some(Ok(name)) => Some(name),
        Some(Err(broken)) => {
            invalid.extend_under("", broken);
            None
        }
        None => None,
    };
    let current = app.store.discovery(user).await?;
    let next = match current.apply(fields) {
        Ok(next) => Some(next),
        Err(broken) => {
            invalid.extend_under("", broken);
            None
        }
    };
    let next = invalid.into_result(next)?.unwrap_or(current.clone());
    if next != current {
        app.store.set_discovery(user, &next).await?;
    }
    let stored = match name {
        Some(name) => app.store.rename_user(user, &name).await?,
        None => app.store.user(user).await?,
    };
    Ok((stored, next))
}

/// Changes the actor's password: `current` must be their password now, `new` obey the sign-up
/// rules. Every browser session but `keep_session` (the one the change was made in) ends.
///
/// # Errors
/// `Unauthenticated` for visitors; `Invalid` at `/current_password` for a wrong current password
/// and at `/password` for a new one that breaks the rules; `Throttled` after too many wrong
/// current passwords (counted like failed sign-ins); `Busy` when password hashing is saturated.
pub async fn change_password(app: &App, actor: &Actor, current: &str, new: &str, keep_session: Option<&str>) -> Result<(), AppError> {
    let id = own(actor)?;
    let user = app.store.user(id).await?;
    confirm_password(app, &user, current, "/current_password").await?;
    if let Some(problem) = password_problem(new, &user.name, user.email.as_str()) {
        return Err(AppError::invalid_field("/password", problem));
    }
    let hash = app.passwords.hash(new).await?;
    Ok(app.store.change_password(id, &hash, keep_session).await?)
}

/// Checks that `password` is `user`'s password, counted like a sign-in by the login throttle;
/// a wrong one is `Invalid` at `pointer`.
///
/// # Errors
/// `Invalid` at `pointer` for a wrong password; `Throttled` after too many; `Busy` when
/// password hashing is saturated.
pub(crate) async fn confirm_password(app: &App, user: &User, password: &str, pointer: &str) -> Result<(), AppError> {
    let now = app.now();
    let account = Some(user.email.as_str());
    app.login_throttle.check(account, None, now).map_err(|retry_after| AppError::Throttled { retry_after, what: crate::error::Throttle::SignIn })?;
    let stored = app.store.password_hash(&user.email).await?;
    let matches = password.len() <= MAX_PASSWORD_CHARS * 4 && app.passwords.verify(password, stored.as_ref().map(|(_, hash)| hash.as_str())).await?;
    if !matches {
        app.login_throttle.fail(account, None, now);
        let message = if pointer == "/current_password" { "is not your current password" } else { "is not your password" };
        return Err(AppError::invalid_field(pointer, message));
    }
    Ok(())
}
