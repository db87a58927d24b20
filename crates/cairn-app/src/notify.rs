//! Telling people: the notices use cases write to the outbox with the state change they tell
//! of ([`notice`], [`staff_notices`]; each becomes an in-app notification and an e-mail when the
//! outbox runs, see `effects.rs`); people's notifications and "mark as read"; the mail outbox,
//! which the installation's operators may read. Mail is sent by `jobs.rs` when SMTP is set up.

use cairn_core::authz::{Action, Actor};
use cairn_core::ids::{NotificationId, OrganisationId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_store::{Effect, Mail, NewEffect, Notice, Notification};

use crate::{App, AppError};

/// Tells a person something: a `Notify` effect to write with the state change it tells of.
/// `link` is a site-relative path; the e-mail carries it as an absolute URL.
pub(crate) fn notice(user: UserId, kind: NotificationKind, subject: impl Into<String>, body: impl Into<String>, link: impl Into<String>) -> NewEffect {
    NewEffect::from(Effect::Notify(Notice { user, kind, subject: subject.into(), body: body.into(), link: link.into() }))
}

/// Tells every owner and staff member of an issuer (see [`notice`]).
///
/// # Errors
/// Store failures.
pub(crate) async fn staff_notices(
    app: &App,
    organisation: OrganisationId,
    kind: NotificationKind,
    subject: &str,
    body: &str,
    link: &str,
) -> Result<Vec<NewEffect>, AppError> {
    Ok(app.store.org_staff(organisation).await?.into_iter().map(|(user, _, _)| notice(user, kind, subject, body, link)).collect())
}

/// A day for people: `22 November 2026` (`cairn_vc::dates::day`).
pub use cairn_vc::dates::day as format_day;

/// The actor's notifications, newest first, and how many are unread.
#[derive(Debug, Clone)]
pub struct Inbox {
    pub items: Vec<Notification>,
    pub unread: usize,
}

/// The actor's newest `limit` notifications.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn inbox(app: &App, actor: &Actor, limit: usize) -> Result<Inbox, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let items = app.store.notifications(user, limit).await?;
    let unread = app.store.unread_count(user).await?;
    Ok(Inbox { items, unread })
}

/// How many of the actor's notifications are unread: the count every signed-in page shows beside
/// "Notifications".
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn unread_count(app: &App, actor: &Actor) -> Result<usize, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    Ok(app.store.unread_count(user).await?)
}

/// Marks one of the actor's notifications read, or all of them (`id` `None`).
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn mark_read(app: &App, actor: &Actor, id: Option<NotificationId>) -> Result<(), AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    Ok(app.store.mark_read(user, id, app.now()).await?)
}

/// The newest `limit` e-mails Cairn queued, for the installation's operators. Bodies are shown:
/// Cairn's mails hold a sentence and a link, never a password or evidence; a password reset link
/// is a secret, but works once and for an hour only (`accounts::reset`), and operators could read
/// it on the mail server anyway.
///
/// # Errors
/// `Unauthenticated` for visitors, `Forbidden` for anyone but an operator.
pub async fn outbox(app: &App, actor: &Actor, limit: usize) -> Result<Vec<Mail>, AppError> {
    if actor.user.is_none() {
        return Err(AppError::Unauthenticated);
    }
    actor.authorise(Action::Operate).map_err(|_| AppError::Forbidden("the outbox is for the operators of this installation".into()))?;
    Ok(app.store.outbox(limit).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_naturally() {
        assert_eq!(format_day(time::macros::datetime!(2026-11-22 10:00 UTC)), "22 November 2026");
    }
}
