//! One's own account data: changing the e-mail address by a link sent to the new one, and
//! deleting the account. A deleted account keeps its row, anonymised, because the awards already
//! issued point at it and stay verifiable; everything else personal goes in one transaction.

use crate::accounts::{digest, random_secret, user_from};
use crate::error::conflict_on_unique;
use crate::rows::{get_string, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::UserId;
use time::{Duration, OffsetDateTime};

/// A mail to queue: recipient, subject, body.
pub type OutgoingMail = (Email, String, String);

/// A confirmed change of e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChanged {
    pub user: UserId,
    pub old: Email,
    pub new: Email,
}

/// The name a deleted account keeps.
pub const DELETED_NAME: &str = "Deleted account";

/// The placeholder address a deleted account keeps, unique per account and never deliverable
/// (`.invalid` is reserved), so the real address is free for a new sign-up.
pub fn deleted_email(user: UserId) -> Email {
    Email::parse(&format!("deleted-{user}@deleted.invalid")).unwrap_or_else(|_| unreachable!("a UUID makes a valid local part"))
}

/// Queues `mail` in the outbox, in `tx`.
pub(crate) async fn queue(tx: &mut sqlx::Transaction<'_, sqlx::Any>, mail: &OutgoingMail, now: OffsetDateTime) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO outbox (id, to_email, subject, body, created_at, attempts) VALUES ($1, $2, $3, $4, $5, 0)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(mail.0.as_str())
        .bind(&mail.1)
        .bind(&mail.2)
        .bind(secs(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Starts a change of `user`'s e-mail address to `new`: keeps the digest of a new secret,
    /// valid for `ttl`, and queues the mail `compose` makes from the secret (to the new address),
    /// in one transaction. Earlier pending changes stop working.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn create_email_change(
        &self,
        user: UserId,
        new: &Email,
        now: OffsetDateTime,
        ttl: Duration,
        compose: impl FnOnce(&str) -> OutgoingMail,
    ) -> Result<(), StoreError> {
        let secret = random_secret();
        let mail = compose(&secret);
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE email_changes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(secs(now))
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO email_changes (token_hash, user_id, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(digest(&secret))
            .bind(user.to_string())
            .bind(new.as_str())
            .bind(secs(now))
            .bind(secs(now + ttl))
            .execute(&mut *tx)
            .await?;
        queue(&mut tx, &mail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms a change of address with its secret: the account takes the new address, the
    /// secret and the account's other pending changes are used up, and the mail `tell_old`
    /// makes (to the old address) is queued, in one transaction. `None` when the secret does not
    /// work (unknown, used or expired at `now`); of two uses at once, one wins.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`users.email`) when another account took the address meanwhile.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_email_change(
        &self,
        secret: &str,
        now: OffsetDateTime,
        tell_old: impl FnOnce(&EmailChanged) -> OutgoingMail,
    ) -> Result<Option<EmailChanged>, StoreError> {
        if secret.len() > 128 {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT c.new_email, u.id, u.email, u.name, u.created_at FROM email_changes c JOIN users u ON u.id = c.user_id \
             WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 AND u.deleted_at IS NULL",
        )
        .bind(digest(secret))
        .bind(secs(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from(&row)?;
        let new = Email::parse(&get_string(&row, "new_email")?).map_err(StoreError::corrupt)?;
        let used = sqlx::query("UPDATE email_changes SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(secs(now))
            .bind(digest(secret))
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() == 0 {
            return Ok(None);
        }
        let id = user.id.to_string();
        sqlx::query("UPDATE email_changes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL").bind(secs(now)).bind(&id).execute(&mut *tx).await?;
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(new.as_str())
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("users.email", format!("another account now uses \"{new}\"")))?;
        let changed = EmailChanged { user: user.id, old: user.email, new };
        queue(&mut tx, &tell_old(&changed), now).await?;
        tx.commit().await?;
        Ok(Some(changed))
    }

    /// The organisations `user` is the only owner of, by name: they must be handed over or
    /// deleted before the account can go.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn solely_owned(&self, user: UserId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.name FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
             WHERE m.user_id = $1 AND m.role = 'owner' \
             AND (SELECT COUNT(*) FROM memberships other WHERE other.organisation_id = m.organisation_id AND other.role = 'owner') = 1 \
             ORDER BY o.name",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get_string(row, "name")).collect()
    }

    /// Whether the account was deleted.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn account_deleted(&self, user: UserId) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT deleted_at FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user))?;
        Ok(crate::rows::get_opt_i64(&row, "deleted_at")?.is_some())
    }

    /// Deletes an account, in one transaction: its sessions, API tokens, reset and e-mail change
    /// links, memberships, assessor pools and conflicts, notifications, submissions (with their
    /// evidence, whose files the sweep then removes) and reflections on others' submissions go;
    /// its row stays for the awards issued to it, with a placeholder name and address, no
    /// usable password and `deleted_at` set. The awards themselves, their credentials and the
    /// issuers' status lists are kept.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`memberships.sole_owner`) naming an organisation the account
    /// is the only owner of; [`StoreError::NotFound`] for an unknown or already deleted account.
    #[tracing::instrument(skip_all, fields(user_id = %user))]
    pub async fn delete_account(&self, user: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        let owned = self.solely_owned(user).await?;
        if let Some(name) = owned.first() {
            return Err(sole_owner(name));
        }
        let id = user.to_string();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT email FROM users WHERE id = $1 AND deleted_at IS NULL")
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user))?;
        let email = get_string(&row, "email")?;
        // Re-checked inside the transaction: an owner who left meanwhile must not strand an organisation.
        let still_sole: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM memberships m WHERE m.user_id = $1 AND m.role = 'owner' \
             AND (SELECT COUNT(*) FROM memberships other WHERE other.organisation_id = m.organisation_id AND other.role = 'owner') = 1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| sqlx::Row::try_get(&row, "n"))?;
        if still_sole > 0 {
            return Err(sole_owner("an organisation"));
        }
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM api_tokens WHERE user_id = $1",
            "DELETE FROM oauth_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE user_id = $1)",
            "DELETE FROM oauth_codes WHERE grant_id IN (SELECT id FROM oauth_grants WHERE user_id = $1)",
            "DELETE FROM oauth_grants WHERE user_id = $1",
            "DELETE FROM password_resets WHERE user_id = $1",
            "DELETE FROM email_changes WHERE user_id = $1",
            "DELETE FROM memberships WHERE user_id = $1",
            "DELETE FROM assessor_pools WHERE user_id = $1",
            "DELETE FROM assessor_conflicts WHERE assessor_id = $1 OR learner_id = $1",
            "DELETE FROM conflict_declarations WHERE assessor_id = $1",
            "DELETE FROM notifications WHERE user_id = $1",
            "DELETE FROM imports WHERE user_id = $1",
            "DELETE FROM oidc_identities WHERE user_id = $1",
            // Wallet offers and the record of wallet copies (holder DIDs) go; the copies keep
            // verifying, as the awards do.
            "DELETE FROM wallet_tokens WHERE award_id IN (SELECT id FROM awards WHERE learner_id = $1)",
            "DELETE FROM wallet_offers WHERE award_id IN (SELECT id FROM awards WHERE learner_id = $1)",
            "DELETE FROM wallet_pickups WHERE award_id IN (SELECT id FROM awards WHERE learner_id = $1)",
            "DELETE FROM submissions WHERE learner_id = $1",
            "DELETE FROM shortlist_entries WHERE learner_id = $1",
            "DELETE FROM contact_requests WHERE learner_id = $1",
            "DELETE FROM talent_events WHERE learner_id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM submission_collaborators WHERE email = $1").bind(&email).execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE users SET name = $1, email = $2, password_hash = '!', deleted_at = $3, handle = NULL, discoverable = 0, show_imports = 0 WHERE id = $4",
        )
        .bind(DELETED_NAME)
        .bind(deleted_email(user).as_str())
        .bind(secs(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn sole_owner(name: &str) -> StoreError {
    StoreError::Conflict {
        constraint: "memberships.sole_owner",
        detail: format!("you are the only owner of \"{name}\": make another member an owner, or delete the organisation, before deleting your account"),
    }
}
