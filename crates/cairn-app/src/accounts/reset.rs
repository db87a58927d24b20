//! Forgotten passwords. Asking for a reset answers the same whether or not the address has an
//! account, and is throttled per address and per client like sign-in ([`App::reset_throttle`]);
//! for a known address it keeps the digest of a new secret, valid for [`RESET_LINK_HOURS`] and
//! usable once, and queues the e-mail carrying the link, in one transaction. Using the link sets
//! a new password (by the sign-up rules), ends every session, revokes every API token and uses up
//! the account's other reset links.

use std::net::IpAddr;

use cairn_core::account::{Email, password_problem};
use cairn_store::User;

use crate::{App, AppError};

/// How long a reset link works.
pub const RESET_LINK_HOURS: i64 = 1;

/// The path of the page a reset link opens (`/reset-password/{secret}`).
pub fn reset_path(secret: &str) -> String {
    format!("/reset-password/{secret}")
}

/// What an unknown, used or expired link answers.
fn gone() -> AppError {
    AppError::Gone(format!("this password reset link is unknown, used or more than {RESET_LINK_HOURS} hour old: ask for a new one"))
}

/// Asks for a password reset for `email`, from a client at `address`. The answer is the same
/// whether or not an account uses the address; when one does, the address is e-mailed a link.
///
/// # Errors
/// `Invalid` (`/email`) for something that is not an e-mail address; `Throttled` after too many
/// requests for the address or from the client.
pub async fn request_reset(app: &App, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(|message| AppError::invalid_field("/email", message))?;
    let now = app.now();
    app.reset_throttle
        .check(Some(email.as_str()), address, now)
        .map_err(|retry_after| AppError::Throttled { retry_after, what: crate::error::Throttle::PasswordReset })?;
    // Counted before anything is looked up, alike for known and unknown addresses.
    app.reset_throttle.fail(Some(email.as_str()), address, now);
    let Some(user) = app.store.user_by_email(&email).await? else { return Ok(()) };
    let config = &app.config;
    app.store
        .create_password_reset(user.id, &user.email, now, time::Duration::hours(RESET_LINK_HOURS), |secret| {
            (
                "Reset your Cairn password".to_string(),
                format!(
                    "Someone asked to reset the password of the Cairn account for this e-mail address. \
                     To choose a new password, open this link within {RESET_LINK_HOURS} hour; it works once:\n\n{}\n\n\
                     Choosing a new password signs you out everywhere and revokes your API tokens.\n\
                     If you did not ask for this, ignore this message: your password has not changed.\n",
                    config.url(&reset_path(secret))
                ),
            )
        })
        .await?;
    Ok(())
}

/// Whether a reset link still works, for the page it opens.
///
/// # Errors
/// `Gone` for an unknown, used or expired link.
pub async fn check_reset_link(app: &App, secret: &str) -> Result<(), AppError> {
    match app.store.password_reset_user(secret, app.now()).await? {
        Some(_) => Ok(()),
        None => Err(gone()),
    }
}

/// Uses a reset link: sets `password` as the account's password, ends its sessions and revokes
/// its API tokens. The link then no longer works.
///
/// # Errors
/// `Gone` for an unknown, used or expired link; `Invalid` (`/password`) for a password that
/// breaks the rules; `Busy` when password hashing is saturated.
pub async fn reset_password(app: &App, secret: &str, password: &str) -> Result<User, AppError> {
    let user = app.store.password_reset_user(secret, app.now()).await?.ok_or_else(gone)?;
    if let Some(problem) = password_problem(password, &user.name, user.email.as_str()) {
        return Err(AppError::invalid_field("/password", problem));
    }
    let hash = app.passwords.hash(password).await?;
    match app.store.reset_password(secret, &hash, app.now()).await? {
        Some(_) => {
            app.login_throttle.succeed(user.email.as_str());
            Ok(user)
        }
        None => Err(gone()),
    }
}
