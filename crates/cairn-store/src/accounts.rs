//! Accounts, browser sessions and API tokens. Passwords are argon2id hashes; session and token
//! secrets are stored only as SHA-256 digests.

use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_core::account::{Email, NewAccount};
use cairn_core::authz::Role;
use cairn_core::ids::{OrganisationId, TokenId, UserId};
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
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Prefix of every API token secret, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "cairn_";

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|e| StoreError::Config(format!("password hashing task failed: {e}")))?
    .map_err(|e| StoreError::Config(format!("password hashing failed: {e}")))
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A valid argon2 hash of a random password, checked against when the e-mail is unknown so that
/// a failed log-in takes as long whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Q8+hGdkYq/8gLbq1yC3K2ZtjQkZ1m7QYyqJ2dN3t0s8";

fn user_from(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let email = get_string(row, "email")?;
    Ok(User {
        id: get_id(row, "id")?,
        name: get_string(row, "name")?,
        email: Email::parse(&email).map_err(StoreError::corrupt)?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Creates an account with an argon2id password hash.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`users.email`) when the address is taken.
    #[tracing::instrument(skip_all)]
    pub async fn create_user(&self, account: &NewAccount, now: OffsetDateTime) -> Result<User, StoreError> {
        let hash = hash_password(account.password.clone()).await?;
        let id = UserId::new();
        sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(account.email.as_str())
            .bind(&account.name)
            .bind(hash)
            .bind(secs(now))
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("users.email", format!("an account with e-mail \"{}\" already exists", account.email)))?;
        Ok(User { id, name: account.name.clone(), email: account.email.clone(), created_at: now })
    }

    /// The account for `email` when `password` matches; `None` otherwise (same for unknown e-mail).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, email: &Email, password: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, email, name, password_hash, created_at FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => {
                let hash = get_string(&row, "password_hash")?;
                if verify_password(password.to_string(), hash).await { Ok(Some(user_from(&row)?)) } else { Ok(None) }
            }
            None => {
                verify_password(password.to_string(), DUMMY_HASH.to_string()).await;
                Ok(None)
            }
        }
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
        let rows = sqlx::query("SELECT organisation_id, role FROM memberships WHERE user_id = $1 ORDER BY created_at, organisation_id")
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let role = get_string(row, "role")?;
                Ok((get_id(row, "organisation_id")?, Role::parse(&role).map_err(StoreError::corrupt)?))
            })
            .collect()
    }

    /// Starts a browser session lasting `ttl`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_session(&self, user: UserId, now: OffsetDateTime, ttl: Duration) -> Result<NewSession, StoreError> {
        let token = random_secret();
        let expires_at = now + ttl;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest(&token))
            .bind(user.to_string())
            .bind(secs(now))
            .bind(secs(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(NewSession { token, expires_at })
    }

    /// The user a live session token belongs to.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn session_user(&self, token: &str, now: OffsetDateTime) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(digest(token))
            .bind(secs(now))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|row| get_id(row, "user_id")).transpose()
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
    pub async fn create_api_token(&self, user: UserId, name: &str, now: OffsetDateTime) -> Result<(ApiToken, String), StoreError> {
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let id = TokenId::new();
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(name)
            .bind(digest(&secret))
            .bind(&prefix)
            .bind(secs(now))
            .execute(&self.pool)
            .await?;
        Ok((ApiToken { id, name: name.to_string(), prefix, created_at: now, last_used_at: None, revoked_at: None }, secret))
    }

    /// The user's API tokens, newest first, revoked ones included.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id")
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: get_id(row, "id")?,
                    name: get_string(row, "name")?,
                    prefix: get_string(row, "prefix")?,
                    created_at: get_time(row, "created_at")?,
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

    /// The user a live (unrevoked) API token secret belongs to; records its use.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn api_token_user(&self, secret: &str, now: OffsetDateTime) -> Result<Option<UserId>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let hash = digest(secret);
        let row = sqlx::query("SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL").bind(&hash).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2").bind(secs(now)).bind(&hash).execute(&self.pool).await?;
        Ok(Some(get_id(&row, "user_id")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn secrets_are_stored_as_digests() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(random_secret(), random_secret());
    }
}
