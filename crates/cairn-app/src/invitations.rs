//! Inviting people to an organisation by e-mail. Whoever may manage members invites an address
//! in a role; the invitation goes out through the mail outbox with a link valid for
//! [`INVITATION_DAYS`] days, usable once and revocable until used. The link opens a page where the
//! invitee joins: signed in with the invited address, or, when no account uses it, by choosing a
//! name and password — the account is created with the membership, in one transaction.

use cairn_core::account::{Email, NewAccount, SignUpFields};
use cairn_core::authz::{Action, Actor, OrgAction, Role};
use cairn_core::ids::{InvitationId, OrganisationId};
use cairn_store::{Invitation, Invitee, NewInvitation, User};

use crate::{App, AppError};

/// How long an invitation works.
pub const INVITATION_DAYS: i64 = 14;

/// The path of the page an invitation link opens (`/invitations/{secret}`).
pub fn invitation_path(secret: &str) -> String {
    format!("/invitations/{secret}")
}

fn gone() -> AppError {
    AppError::Gone(format!("this invitation is unknown, used, revoked or more than {INVITATION_DAYS} days old: ask the organisation for a new one"))
}

/// Invites `email` to join the organisation as `role`; the address is e-mailed a link. An
/// earlier pending invitation of the same address is revoked.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageMembers`; `Invalid` at `/email` or `/role`;
/// `Conflict` when the address's account is a member already.
pub async fn invite(app: &App, actor: &Actor, organisation: OrganisationId, email: &str, role: &str) -> Result<Invitation, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageMembers))?;
    let inviter = actor.user.ok_or(AppError::Unauthenticated)?;
    let email = Email::parse(email).map_err(|message| AppError::invalid_field("/email", message));
    let role = Role::parse(role).map_err(|message| AppError::invalid_field("/role", message));
    let (email, role) = match (email, role) {
        (Ok(email), Ok(role)) => (email, role),
        (Err(AppError::Invalid(mut first)), Err(AppError::Invalid(second))) => {
            first.errors.extend(second.errors);
            return Err(AppError::Invalid(first));
        }
        (Err(error), _) | (_, Err(error)) => return Err(error),
    };
    let organisation_row = app.store.organisation(organisation).await?;
    if app.store.members(organisation).await?.iter().any(|member| member.email == email) {
        return Err(AppError::conflict(format!("{email} is a member of \"{}\" already", organisation_row.profile.name)));
    }
    let inviter_name = app.store.user(inviter).await?.name;
    let config = &app.config;
    let to = email.clone();
    let name = organisation_row.profile.name.clone();
    Ok(app
        .store
        .create_invitation(
            NewInvitation { organisation, email: &email, role, invited_by: inviter },
            app.now(),
            time::Duration::days(INVITATION_DAYS),
            |secret| {
                (
                    to,
                    format!("You are invited to join {name} on Cairn"),
                    format!(
                        "{inviter_name} invites you to join {name} on Cairn as {role}.\n\n\
                     To accept, open this link within {INVITATION_DAYS} days; it works once:\n\n{link}\n\n\
                     If you have no Cairn account yet, the page lets you create one for this address.\n\
                     If you do not want to join, ignore this message.\n",
                        role = role_words(role),
                        link = config.url(&invitation_path(secret)),
                    ),
                )
            },
        )
        .await?)
}

/// A role in words, with its article.
pub fn role_words(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Staff => "a staff member",
        Role::Assessor => "an assessor",
    }
}

/// The organisation's invitations, newest first, whatever became of them.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageMembers`.
pub async fn list(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<Invitation>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageMembers))?;
    Ok(app.store.invitations(organisation).await?)
}

/// Revokes a pending invitation: its link stops working.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageMembers`; `NotFound`; `Conflict` once accepted.
pub async fn revoke(app: &App, actor: &Actor, organisation: OrganisationId, id: InvitationId) -> Result<Invitation, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageMembers))?;
    Ok(app.store.revoke_invitation(organisation, id, app.now()).await?)
}

/// What an invitation link shows: the invitation, and whether an account uses its address
/// (then the invitee signs in to accept; otherwise they create one).
#[derive(Debug, Clone)]
pub struct Opened {
    pub invitation: Invitation,
    pub account_exists: bool,
}

/// The invitation a link opens, while it works.
///
/// # Errors
/// `Gone` for an unknown, used, revoked or expired invitation.
pub async fn open(app: &App, secret: &str) -> Result<Opened, AppError> {
    let invitation = app.store.invitation_by_secret(secret, app.now()).await?.ok_or_else(gone)?;
    let account_exists = app.store.user_by_email(&invitation.email).await?.is_some();
    Ok(Opened { invitation, account_exists })
}

/// Accepts an invitation as the signed-in actor, whose address must be the invited one.
///
/// # Errors
/// `Unauthenticated` for visitors; `Gone` for a link that no longer works; `Forbidden` when
/// the actor's address is not the invited one; `Conflict` when they are a member already.
pub async fn accept(app: &App, actor: &Actor, secret: &str) -> Result<(Invitation, User), AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let invitation = app.store.invitation_by_secret(secret, app.now()).await?.ok_or_else(gone)?;
    let account = app.store.user(user).await?;
    if account.email != invitation.email {
        return Err(AppError::Forbidden(format!(
            "this invitation is for {}, and you are signed in as {}: sign in with the invited address to accept it",
            invitation.email, account.email
        )));
    }
    app.store.accept_invitation(secret, Invitee::Existing(user), app.now()).await?.ok_or_else(gone)
}

/// Accepts an invitation by creating an account for the invited address with `name` and
/// `password` (by the sign-up rules).
///
/// # Errors
/// `Gone` for a link that no longer works; `Invalid` at `/name` or `/password`; `Conflict` when
/// an account uses the address (then sign in to accept); `Busy` when password hashing is
/// saturated.
pub async fn accept_with_new_account(app: &App, secret: &str, name: &str, password: &str) -> Result<(Invitation, User), AppError> {
    let invitation = app.store.invitation_by_secret(secret, app.now()).await?.ok_or_else(gone)?;
    let account = NewAccount::parse(SignUpFields { name: name.to_string(), email: invitation.email.to_string(), password: password.to_string() })?;
    let hash = app.passwords.hash(&account.password).await?;
    app.store.accept_invitation(secret, Invitee::New { name: &account.name, password_hash: &hash }, app.now()).await?.ok_or_else(gone)
}
