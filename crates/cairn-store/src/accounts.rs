//! Accounts, browser sessions and API tokens. Passwords arrive already hashed (argon2id, by
//! `cairn_app::accounts`, which also checks them); session and token secrets are stored only as
//! SHA-256 digests. A session ends at its expiry or after an idle period; a token at its
//! revocation or expiry. Uses are recorded at most once a minute, so reading does not turn every
//! request into a write.

use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_i64, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_core::account::{Email, NewApiToken, TokenScope};
use cairn_core::authz::Role;
use cairn_core::ids::{OrganisationId, TokenId, UserId};
use cairn_core::organisation::OrganisationKind;
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// A stored account (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: Email,
    pub created_at: OffsetDateTime,
}

/// A new browser session: give `token` to the browser in a cookie; only its digest is kept.
pub struct NewSession {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("token", &"***").field("expires_at", &self.expires_at).finish()
    }
}

/// An API token's public facts (its secret is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub scope: TokenScope,
    pub created_at: OffsetDateTime,
    /// When it stops working; `None` for never.
    pub expires_at: Option<OffsetDateTime>,
    /// Its last use, to the minute ([`USE_RECORDING_SECS`]).
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// Whether it has expired by `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// Who a live API token stands for, and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenOwner {
    pub user: UserId,
    pub scope: TokenScope,
}

/// Seconds between two recordings of a token's or session's use: a use within a minute of the
/// last recorded one is not written again.
pub const USE_RECORDING_SECS: i64 = 60;

/// Prefix of every API token secret, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "cairn_";

pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn user_from(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let email = get_string(row, "email")?;
    Ok(User {
        id: get_id(row, "id")?,
        name: get_string(row, "name")?,
        email: Email::parse(&email).map_err(StoreError::corrupt)?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Creates an account with its password's argon2id hash (PHC string form).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`users.email`) when the address is taken.
    #[tracing::instrument(skip_all)]
    pub async fn create_user(&self, name: &str, email: &Email, password_hash: &str, now: OffsetDateTime) -> Result<User, StoreError> {
        let id = UserId::new();
        sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(email.as_str())
            .bind(name)
            .bind(password_hash)
            .bind(secs(now))
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("users.email", format!("an account with e-mail \"{email}\" already exists")))?;
        Ok(User { id, name: name.to_string(), email: email.clone(), created_at: now })
    }

    /// The account for `email` with its stored password hash, for checking a password; `None`
    /// for an unknown address.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn password_hash(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query("SELECT id, email, name, password_hash, created_at FROM users WHERE email = $1 AND deleted_at IS NULL")
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((user_from(&row)?, get_string(&row, "password_hash")?))).transpose()
    }

    /// One account.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT id, email, name, created_at FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("user", id))?;
        user_from(&row)
    }

    /// The account with this e-mail address, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, email, name, created_at FROM users WHERE email = $1").bind(email.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The user's organisation roles.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn memberships(&self, user: UserId) -> Result<Vec<(OrganisationId, Role)>, StoreError> {
        Ok(self.memberships_with_kinds(user).await?.into_iter().map(|(org, role, _)| (org, role)).collect())
    }

    /// The user's organisation roles, each organisation with its kind.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn memberships_with_kinds(&self, user: UserId) -> Result<Vec<(OrganisationId, Role, OrganisationKind)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.organisation_id, m.role, o.kind FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
             WHERE m.user_id = $1 ORDER BY m.created_at, m.organisation_id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let role = get_string(row, "role")?;
                let kind = get_string(row, "kind")?;
                Ok((
                    get_id(row, "organisation_id")?,
                    Role::parse(&role).map_err(StoreError::corrupt)?,
                    OrganisationKind::parse(&kind).map_err(StoreError::corrupt)?,
                ))
            })
            .collect()
    }

    /// Starts a browser session lasting at most `ttl`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_session(&self, user: UserId, now: OffsetDateTime, ttl: Duration) -> Result<NewSession, StoreError> {
        let token = random_secret();
        let expires_at = now + ttl;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)")
            .bind(digest(&token))
            .bind(user.to_string())
            .bind(secs(now))
            .bind(secs(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(NewSession { token, expires_at })
    }

    /// The user a live session token belongs to: not expired, and used within `idle` of `now`.
    /// Records the use (at most once a minute), which keeps the session alive.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn session_user(&self, token: &str, now: OffsetDateTime, idle: Duration) -> Result<Option<UserId>, StoreError> {
        let hash = digest(token);
        let row = sqlx::query("SELECT user_id, last_seen_at FROM sessions WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3")
            .bind(&hash)
            .bind(secs(now))
            .bind(secs(now - idle))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let last_seen = get_opt_i64(&row, "last_seen_at")?.unwrap_or(0);
        if secs(now) - last_seen >= USE_RECORDING_SECS {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2").bind(secs(now)).bind(&hash).execute(&self.pool).await?;
        }
        Ok(Some(get_id(&row, "user_id")?))
    }

    /// Ends a session (log-out); also sweeps expired sessions.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn delete_session(&self, token: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2").bind(digest(token)).bind(secs(now)).execute(&self.pool).await?;
        Ok(())
    }

    /// Creates an API token and returns it with its secret, which is not stored and cannot be shown again.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_api_token(&self, user: UserId, new: &NewApiToken, now: OffsetDateTime) -> Result<(ApiToken, String), StoreError> {
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let id = TokenId::new();
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let expires_at = new.expires_at(now);
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scope, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(&new.name)
            .bind(digest(&secret))
            .bind(&prefix)
            .bind(new.scope.as_str())
            .bind(secs(now))
            .bind(expires_at.map(secs))
            .execute(&self.pool)
            .await?;
        let token = ApiToken { id, name: new.name.clone(), prefix, scope: new.scope, created_at: now, expires_at, last_used_at: None, revoked_at: None };
        Ok((token, secret))
    }

    /// The user's API tokens, newest first, revoked and expired ones included.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, scope, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: get_id(row, "id")?,
                    name: get_string(row, "name")?,
                    prefix: get_string(row, "prefix")?,
                    scope: TokenScope::parse(&get_string(row, "scope")?).map_err(StoreError::corrupt)?,
                    created_at: get_time(row, "created_at")?,
                    expires_at: get_opt_time(row, "expires_at")?,
                    last_used_at: get_opt_time(row, "last_used_at")?,
                    revoked_at: get_opt_time(row, "revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's tokens (idempotent).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user has no such token.
    pub async fn revoke_api_token(&self, user: UserId, id: TokenId, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3")
            .bind(secs(now))
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 { Err(StoreError::not_found("token", id)) } else { Ok(()) }
    }

    /// Who a live API token secret stands for (not revoked, not expired at `now`), with its
    /// scope; records its use (at most once a minute).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn api_token_user(&self, secret: &str, now: OffsetDateTime) -> Result<Option<TokenOwner>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let hash = digest(secret);
        let row = sqlx::query(
            "SELECT user_id, scope, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&hash)
        .bind(secs(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let recorded = get_opt_i64(&row, "last_used_at")?;
        if recorded.is_none_or(|last| secs(now) - last >= USE_RECORDING_SECS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2").bind(secs(now)).bind(&hash).execute(&self.pool).await?;
        }
        let scope = TokenScope::parse(&get_string(&row, "scope")?).map_err(StoreError::corrupt)?;
        Ok(Some(TokenOwner { user: get_id(&row, "user_id")?, scope }))
    }
}

/// Password resets: a reset link's secret is random, given once to its owner by e-mail, and
/// kept only as its digest; it works once, until it expires.
impl Store {
    /// Starts a password reset for `user`: keeps the digest of a new secret, valid for `ttl`, and
    /// queues the e-mail that carries it to `to`, in one transaction. `compose` makes the mail's
    /// subject and body from the secret.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn create_password_reset(
        &self,
        user: UserId,
        to: &Email,
        now: OffsetDateTime,
        ttl: Duration,
        compose: impl FnOnce(&str) -> (String, String),
    ) -> Result<(), StoreError> {
        let secret = random_secret();
        let (subject, body) = compose(&secret);
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest(&secret))
            .bind(user.to_string())
            .bind(secs(now))
            .bind(secs(now + ttl))
            .execute(&mut *tx)
            .await?;
        crate::account_data::queue(&mut tx, &(to.clone(), subject, body), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a reset secret belongs to while it works (not used, not expired at `now`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn password_reset_user(&self, secret: &str, now: OffsetDateTime) -> Result<Option<User>, StoreError> {
        if secret.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.created_at FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2",
        )
        .bind(digest(secret))
        .bind(secs(now))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Uses a reset secret: sets the account's new password hash, ends all its browser sessions,
    /// revokes its API tokens and uses up every reset secret it has, in one transaction. Returns
    /// the account, or `None` when the secret does not work (unknown, used or expired at `now`):
    /// of two uses at once, one wins.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, secret: &str, password_hash: &str, now: OffsetDateTime) -> Result<Option<UserId>, StoreError> {
        let Some(user) = self.password_reset_user(secret, now).await? else { return Ok(None) };
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1")
            .bind(secs(now))
            .bind(digest(secret))
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = user.id.to_string();
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(&id).execute(&mut *tx).await?;
        sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL").bind(secs(now)).bind(&id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&id).execute(&mut *tx).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL").bind(secs(now)).bind(&id).execute(&mut *tx).await?;
        sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL").bind(secs(now)).bind(&id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(user.id))
    }

    /// Changes an account's display name.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown account.
    pub async fn rename_user(&self, user: UserId, name: &str) -> Result<User, StoreError> {
        let result = sqlx::query("UPDATE users SET name = $1 WHERE id = $2").bind(name).bind(user.to_string()).execute(&self.pool).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("user", user));
        }
        self.user(user).await
    }

    /// Sets an account's new password hash and ends its browser sessions but `keep` (the
    /// session the change was made in, if any), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown account.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(&self, user: UserId, password_hash: &str, keep: Option<&str>) -> Result<(), StoreError> {
        let id = user.to_string();
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(&id).execute(&mut *tx).await?;
        if result.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::not_found("user", user));
        }
        let kept = keep.map(digest).unwrap_or_default();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2").bind(&id).bind(kept).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stored_as_digests() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(random_secret(), random_secret());
    }
}
