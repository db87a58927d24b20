//! Invitations to join an organisation, sent by e-mail. The secret travels only in the mail and
//! is kept as its digest; an invitation works once, until it expires, unless revoked. Accepting
//! one makes a membership in the invited role — for an account that exists, or for one created
//! in the same transaction.

use crate::account_data::OutgoingMail;
use crate::accounts::{digest, random_secret};
use crate::error::conflict_on_unique;
use crate::rows::{get_email, get_id, get_opt_id, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError, User};
use cairn_core::account::Email;
use cairn_core::authz::Role;
use cairn_core::ids::{InvitationId, OrganisationId, UserId};
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

/// A stored invitation (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub organisation: OrganisationId,
    pub organisation_name: String,
    pub email: Email,
    pub role: Role,
    pub invited_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Invitation {
    /// Whether it can still be accepted at `now`.
    pub fn live(&self, now: OffsetDateTime) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Who accepts an invitation: an account that exists, or a new one to create.
#[derive(Debug, Clone)]
pub enum Invitee<'a> {
    Existing(UserId),
    /// A new account at the invited address, with its name and password hash.
    New {
        name: &'a str,
        password_hash: &'a str,
    },
}

const COLUMNS: &str =
    "i.id, i.organisation_id, o.name AS organisation_name, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

fn invitation_from(row: &AnyRow) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        organisation_name: get_string(row, "organisation_name")?,
        email: get_email(row, "email")?,
        role: Role::parse(&get_string(row, "role")?).map_err(StoreError::corrupt)?,
        invited_by: get_opt_id(row, "invited_by")?,
        created_at: get_time(row, "created_at")?,
        expires_at: get_time(row, "expires_at")?,
        accepted_at: get_opt_time(row, "accepted_at")?,
        revoked_at: get_opt_time(row, "revoked_at")?,
    })
}

/// Who is invited where, as what, by whom: the first part of [`Store::create_invitation`].
#[derive(Debug, Clone, Copy)]
pub struct NewInvitation<'a> {
    pub organisation: OrganisationId,
    pub email: &'a Email,
    pub role: Role,
    pub invited_by: UserId,
}

impl Store {
    /// Invites `email` to join `organisation` as `role`, valid for `ttl`: keeps the digest of a
    /// new secret and queues the mail `compose` makes from it, in one transaction. The address's
    /// earlier pending invitations to the organisation are revoked.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all, fields(organisation_id = %invitation.organisation))]
    pub async fn create_invitation(
        &self,
        invitation: NewInvitation<'_>,
        now: OffsetDateTime,
        ttl: Duration,
        compose: impl FnOnce(&str) -> OutgoingMail,
    ) -> Result<Invitation, StoreError> {
        let NewInvitation { organisation, email, role, invited_by } = invitation;
        let secret = random_secret();
        let mail = compose(&secret);
        let id = InvitationId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE invitations SET revoked_at = $1 WHERE organisation_id = $2 AND email = $3 AND accepted_at IS NULL AND revoked_at IS NULL")
            .bind(secs(now))
            .bind(organisation.to_string())
            .bind(email.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO invitations (id, organisation_id, email, role, token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(organisation.to_string())
        .bind(email.as_str())
        .bind(role.as_str())
        .bind(digest(&secret))
        .bind(invited_by.to_string())
        .bind(secs(now))
        .bind(secs(now + ttl))
        .execute(&mut *tx)
        .await?;
        crate::account_data::queue(&mut tx, &mail, now).await?;
        tx.commit().await?;
        self.invitation(organisation, id).await
    }

    /// One of the organisation's invitations.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such invitation.
    pub async fn invitation(&self, organisation: OrganisationId, id: InvitationId) -> Result<Invitation, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM invitations i JOIN organisations o ON o.id = i.organisation_id WHERE i.id = $1 AND i.organisation_id = $2"
        ))
        .bind(id.to_string())
        .bind(organisation.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("invitation", id))?;
        invitation_from(&row)
    }

    /// The organisation's invitations, newest first, used, revoked and expired ones included.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn invitations(&self, organisation: OrganisationId) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM invitations i JOIN organisations o ON o.id = i.organisation_id WHERE i.organisation_id = $1 ORDER BY i.created_at DESC, i.id"
        ))
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(invitation_from).collect()
    }

    /// Revokes a pending invitation (idempotent for a revoked one).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such invitation,
    /// [`StoreError::Conflict`] (`invitations.accepted`) once it was accepted.
    pub async fn revoke_invitation(&self, organisation: OrganisationId, id: InvitationId, now: OffsetDateTime) -> Result<Invitation, StoreError> {
        let current = self.invitation(organisation, id).await?;
        if current.accepted_at.is_some() {
            return Err(StoreError::Conflict {
                constraint: "invitations.accepted",
                detail: "this invitation was accepted already; remove the member instead".into(),
            });
        }
        sqlx::query("UPDATE invitations SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND organisation_id = $3 AND accepted_at IS NULL")
            .bind(secs(now))
            .bind(id.to_string())
            .bind(organisation.to_string())
            .execute(&self.pool)
            .await?;
        self.invitation(organisation, id).await
    }

    /// The invitation a secret opens while it works (not used, revoked or expired at `now`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn invitation_by_secret(&self, secret: &str, now: OffsetDateTime) -> Result<Option<Invitation>, StoreError> {
        if secret.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM invitations i JOIN organisations o ON o.id = i.organisation_id \
             WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2"
        ))
        .bind(digest(secret))
        .bind(secs(now))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(invitation_from).transpose()
    }

    /// Accepts an invitation: uses it up, creates the invitee's account when it is new, and
    /// makes them a member in the invited role, in one transaction. `None` when the secret does
    /// not work (unknown, used, revoked or expired at `now`); of two uses at once, one wins.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`memberships.user`) when the invitee is a member already,
    /// (`users.email`) when a new account's address was taken meanwhile.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(&self, secret: &str, invitee: Invitee<'_>, now: OffsetDateTime) -> Result<Option<(Invitation, User)>, StoreError> {
        let Some(invitation) = self.invitation_by_secret(secret, now).await? else { return Ok(None) };
        let mut tx = self.pool.begin().await?;
        let user = match invitee {
            Invitee::Existing(user) => {
                let row = sqlx::query("SELECT id, email, name, created_at FROM users WHERE id = $1 AND deleted_at IS NULL")
                    .bind(user.to_string())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found("user", user))?;
                crate::accounts::user_from(&row)?
            }
            Invitee::New { name, password_hash } => {
                let id = UserId::new();
                sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id.to_string())
                    .bind(invitation.email.as_str())
                    .bind(name)
                    .bind(password_hash)
                    .bind(secs(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_on_unique("users.email", format!("an account with e-mail \"{}\" already exists: sign in to accept", invitation.email)))?;
                User { id, name: name.to_string(), email: invitation.email.clone(), created_at: now }
            }
        };
        let used = sqlx::query(
            "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(secs(now))
        .bind(user.id.to_string())
        .bind(invitation.id.to_string())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("INSERT INTO memberships (organisation_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(invitation.organisation.to_string())
            .bind(user.id.to_string())
            .bind(invitation.role.as_str())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("memberships.user", format!("you are a member of \"{}\" already", invitation.organisation_name)))?;
        tx.commit().await?;
        let accepted = Invitation { accepted_at: Some(now), ..invitation };
        Ok(Some((accepted, user)))
    }
}
