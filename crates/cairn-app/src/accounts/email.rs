//! Changing one's e-mail address. Asking needs the password; the new address gets a link, valid
//! for [`EMAIL_CHANGE_HOURS`] and usable once, and the account keeps its old address until the
//! link is opened. Then the address changes and the old address is told, in one transaction.

use cairn_core::account::Email;
use cairn_core::authz::Actor;
use cairn_store::EmailChanged;

use super::profile::{confirm_password, own};
use crate::{App, AppError};

/// How long a confirmation link works.
pub const EMAIL_CHANGE_HOURS: i64 = 24;

/// The path of the page a confirmation link opens (`/email-changes/{secret}`).
pub fn confirm_path(secret: &str) -> String {
    format!("/email-changes/{secret}")
}

fn gone() -> AppError {
    AppError::Gone(format!(
        "this confirmation link is unknown, used or more than {EMAIL_CHANGE_HOURS} hours old: ask for the change again from your account page"
    ))
}

/// Asks to change the actor's e-mail address to `new`, confirming with their `password`: a link
/// to confirm goes to the new address (through the mail outbox). Returns the new address.
///
/// # Errors
/// `Unauthenticated` for visitors; `Invalid` at `/email` for something that is not an address,
/// the current address or one another account uses, at `/password` for a wrong password;
/// `Throttled` after too many wrong passwords; `Busy` when password hashing is saturated.
pub async fn request_email_change(app: &App, actor: &Actor, new: &str, password: &str) -> Result<Email, AppError> {
    let id = own(actor)?;
    let user = app.store.user(id).await?;
    let new = Email::parse(new).map_err(|message| AppError::invalid_field("/email", message))?;
    confirm_password(app, &user, password, "/password").await?;
    if new == user.email {
        return Err(AppError::invalid_field("/email", "is your address already"));
    }
    if app.store.user_by_email(&new).await?.is_some() {
        return Err(AppError::invalid_field("/email", "another account uses this address"));
    }
    let config = &app.config;
    let to = new.clone();
    app.store
        .create_email_change(id, &new, app.now(), time::Duration::hours(EMAIL_CHANGE_HOURS), |secret| {
            (
                to.clone(),
                "Confirm your new e-mail address for Cairn".to_string(),
                format!(
                    "{name} asked to use this address for their Cairn account instead of {old}.\n\n\
                     To confirm, open this link within {EMAIL_CHANGE_HOURS} hours; it works once:\n\n{link}\n\n\
                     If you did not ask for this, ignore this message: nothing changes.\n",
                    name = user.name,
                    old = user.email,
                    link = config.url(&confirm_path(secret)),
                ),
            )
        })
        .await?;
    Ok(new)
}

/// Confirms a change of address with the link's secret; the old address is told.
///
/// # Errors
/// `Gone` for an unknown, used or expired link; `Conflict` when another account took the
/// address meanwhile.
pub async fn confirm_email_change(app: &App, secret: &str) -> Result<EmailChanged, AppError> {
    let sign_in = app.config.url("/login");
    let changed = app
        .store
        .confirm_email_change(secret, app.now(), |changed| {
            (
                changed.old.clone(),
                "Your Cairn e-mail address was changed".to_string(),
                format!(
                    "The Cairn account that used this address now uses {new}; this address no longer signs in.\n\n\
                     If you did not make this change, reset your password at {sign_in} with the new address, or contact the site's operators.\n",
                    new = changed.new,
                ),
            )
        })
        .await;
    changed?.ok_or_else(gone)
}
