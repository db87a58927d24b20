//! Sign-in with an OpenID Connect provider (migration `0037_identities.sql`): the sign-ins under
//! way and the links between accounts and providers' subjects. A sign-in's state is kept as a
//! digest and taken once (`DELETE … ` in the transaction that reads it), so a callback replayed
//! finds nothing. A link is made once per provider and subject (the primary key), so two
//! callbacks racing for the same new person link one account.

use cairn_core::account::Email;
use cairn_core::ids::UserId;
use time::{Duration, OffsetDateTime};

use crate::accounts::{User, digest};
use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_string, get_string, get_time, secs};
use crate::{Store, StoreError};

/// The password hash of an account made by signing in with a provider: it parses as no hash, so
/// no password matches it until the learner sets one (with a reset link).
pub const NO_PASSWORD: &str = "!";

/// A sign-in with a provider, between sending the browser there and its return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcLogin {
    /// The provider's configured id.
    pub provider: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to go once signed in (already checked to be a local path).
    pub next: Option<String>,
}

/// An account's link to a provider's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub provider: String,
    pub subject: String,
    pub user: UserId,
    /// The address the provider verified when the link was made or last used.
    pub email: String,
    pub linked_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
}

fn identity_from(row: &sqlx::any::AnyRow) -> Result<LinkedIdentity, StoreError> {
    Ok(LinkedIdentity {
        provider: get_string(row, "provider")?,
        subject: get_string(row, "subject")?,
        user: get_id(row, "user_id")?,
        email: get_string(row, "email")?,
        linked_at: get_time(row, "linked_at")?,
        last_used_at: get_time(row, "last_used_at")?,
    })
}

impl Store {
    /// Keeps a sign-in under way, keyed by its `state`, for `lifetime`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn start_oidc_login(&self, state: &str, login: &OidcLogin, lifetime: Duration, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO oidc_logins (state_hash, provider, nonce, verifier, next, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(digest(state))
            .bind(&login.provider)
            .bind(&login.nonce)
            .bind(&login.verifier)
            .bind(login.next.as_deref())
            .bind(secs(now))
            .bind(secs(now + lifetime))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the sign-in under way for `state`: once, and only before it expires.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn take_oidc_login(&self, state: &str, now: OffsetDateTime) -> Result<Option<OidcLogin>, StoreError> {
        if state.is_empty() || state.len() > 256 {
            return Ok(None);
        }
        let hash = digest(state);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT provider, nonce, verifier, next, expires_at FROM oidc_logins WHERE state_hash = $1")
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let taken = sqlx::query("DELETE FROM oidc_logins WHERE state_hash = $1").bind(&hash).execute(&mut *tx).await?;
        tx.commit().await?;
        if taken.rows_affected() == 0 || get_time(&row, "expires_at")? <= now {
            return Ok(None);
        }
        Ok(Some(OidcLogin {
            provider: get_string(&row, "provider")?,
            nonce: get_string(&row, "nonce")?,
            verifier: get_string(&row, "verifier")?,
            next: get_opt_string(&row, "next")?,
        }))
    }

    /// The account linked to `subject` at `provider`, recording the sign-in (when and with which
    /// verified address); `None` when no live account is linked.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn use_oidc_identity(&self, provider: &str, subject: &str, email: &str, now: OffsetDateTime) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query(
            "SELECT i.user_id FROM oidc_identities i JOIN users u ON u.id = i.user_id \
             WHERE i.provider = $1 AND i.subject = $2 AND u.deleted_at IS NULL",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE oidc_identities SET last_used_at = $1, email = $2 WHERE provider = $3 AND subject = $4")
            .bind(secs(now))
            .bind(email)
            .bind(provider)
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(Some(get_id(&row, "user_id")?))
    }

    /// Links `user` to `subject` at `provider`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`oidc_identities.subject`) when the subject is linked already;
    /// [`StoreError::Backend`] on a database failure.
    pub async fn link_oidc_identity(&self, provider: &str, subject: &str, user: UserId, email: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO oidc_identities (provider, subject, user_id, email, linked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(provider)
            .bind(subject)
            .bind(user.to_string())
            .bind(email)
            .bind(secs(now))
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("oidc_identities.subject", "this identity is linked to an account already"))?;
        Ok(())
    }

    /// Creates an account without a password ([`NO_PASSWORD`]) linked to `subject` at
    /// `provider`, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`users.email`) when the address has an account,
    /// (`oidc_identities.subject`) when the subject is linked already.
    pub async fn create_user_with_identity(&self, name: &str, email: &Email, provider: &str, subject: &str, now: OffsetDateTime) -> Result<User, StoreError> {
        let id = UserId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(email.as_str())
            .bind(name)
            .bind(NO_PASSWORD)
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("users.email", format!("an account with e-mail \"{email}\" already exists")))?;
        sqlx::query("INSERT INTO oidc_identities (provider, subject, user_id, email, linked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(provider)
            .bind(subject)
            .bind(id.to_string())
            .bind(email.as_str())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("oidc_identities.subject", "this identity is linked to an account already"))?;
        tx.commit().await?;
        Ok(User { id, name: name.to_string(), email: email.clone(), created_at: now })
    }

    /// The providers `user` can sign in with, oldest link first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn oidc_identities_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let rows = sqlx::query(
            "SELECT provider, subject, user_id, email, linked_at, last_used_at FROM oidc_identities WHERE user_id = $1 ORDER BY linked_at, provider",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(identity_from).collect()
    }

    /// Ends `user`'s link to `provider`; whether there was one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn unlink_oidc_identity(&self, user: UserId, provider: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM oidc_identities WHERE user_id = $1 AND provider = $2").bind(user.to_string()).bind(provider).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes sign-ins that expired more than `grace` before `now`; how many went.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn sweep_oidc_logins(&self, now: OffsetDateTime, grace: Duration) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1").bind(secs(now - grace)).execute(&self.pool).await?.rows_affected())
    }
}
