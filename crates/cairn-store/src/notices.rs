//! Telling people: in-app notifications, the mail outbox (sent by a background job, or kept for
//! the operator when no mail server is configured), delivering a [`Notice`] from the effects
//! outbox exactly once, and who to tell in an organisation.

use crate::effects::{Letter, Notice};
use crate::rows::{get_email, get_i64, get_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::{EffectId, NotificationId, OrganisationId, UserId};
use cairn_core::notification::NotificationKind;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// Mail is retried until this many attempts have failed.
pub const MAX_MAIL_ATTEMPTS: u32 = 5;
/// How long a runner holds the messages it claimed ([`Store::claim_mail`]) before another may
/// send them: longer than sending a batch takes.
pub const MAIL_LEASE: time::Duration = time::Duration::minutes(5);

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub user: UserId,
    pub kind: NotificationKind,
    pub subject: String,
    pub body: String,
    /// Where to go (a path within Cairn).
    pub link: String,
    pub created_at: OffsetDateTime,
    pub read_at: Option<OffsetDateTime>,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    /// Sending attempts so far (failed ones and the successful one).
    pub attempts: u32,
    pub last_error: Option<String>,
}

fn notification_from(row: &AnyRow) -> Result<Notification, StoreError> {
    let kind = get_string(row, "kind")?;
    Ok(Notification {
        id: get_id(row, "id")?,
        user: get_id(row, "user_id")?,
        kind: NotificationKind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("notification kind \"{kind}\"")))?,
        subject: get_string(row, "subject")?,
        body: get_string(row, "body")?,
        link: get_string(row, "link")?,
        created_at: get_time(row, "created_at")?,
        read_at: get_opt_time(row, "read_at")?,
    })
}

fn mail_from(row: &AnyRow) -> Result<Mail, StoreError> {
    Ok(Mail {
        id: get_string(row, "id")?,
        to: get_string(row, "to_email")?,
        subject: get_string(row, "subject")?,
        body: get_string(row, "body")?,
        created_at: get_time(row, "created_at")?,
        sent_at: get_opt_time(row, "sent_at")?,
        attempts: get_u32(row, "attempts")?,
        last_error: get_opt_string(row, "last_error")?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Leaves a notification for `user`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown user included).
    pub async fn notify(
        &self,
        user: UserId,
        kind: NotificationKind,
        subject: &str,
        body: &str,
        link: &str,
        now: OffsetDateTime,
    ) -> Result<Notification, StoreError> {
        let id = NotificationId::new();
        sqlx::query("INSERT INTO notifications (id, user_id, kind, subject, body, link, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(kind.as_str())
            .bind(subject)
            .bind(body)
            .bind(link)
            .bind(secs(now))
            .execute(&self.pool)
            .await?;
        Ok(Notification { id, user, kind, subject: subject.to_string(), body: body.to_string(), link: link.to_string(), created_at: now, read_at: None })
    }

    /// Delivers a notice from the effects outbox: its notification and its e-mail (to `mail_to`,
    /// with `mail_body`), in one transaction, both under the effect's id. Delivering the same
    /// effect again writes nothing; returns whether this call delivered it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown user included).
    pub async fn deliver_notice(&self, effect: EffectId, notice: &Notice, mail_to: &Email, mail_body: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO notifications (id, user_id, kind, subject, body, link, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(effect.to_string())
        .bind(notice.user.to_string())
        .bind(notice.kind.as_str())
        .bind(&notice.subject)
        .bind(&notice.body)
        .bind(&notice.link)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO outbox (id, to_email, subject, body, created_at, attempts) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (id) DO NOTHING")
            .bind(effect.to_string())
            .bind(mail_to.as_str())
            .bind(&notice.subject)
            .bind(mail_body)
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Queues an e-mail from the effects outbox under the effect's id: queuing the same effect
    /// again writes nothing. Returns whether this call queued it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn deliver_letter(&self, effect: EffectId, letter: &Letter, now: OffsetDateTime) -> Result<bool, StoreError> {
        let inserted =
            sqlx::query("INSERT INTO outbox (id, to_email, subject, body, created_at, attempts) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (id) DO NOTHING")
                .bind(effect.to_string())
                .bind(letter.to.as_str())
                .bind(&letter.subject)
                .bind(&letter.body)
                .bind(secs(now))
                .execute(&self.pool)
                .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// A user's latest `limit` notifications, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn notifications(&self, user: UserId, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query("SELECT * FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(user.to_string())
            .bind(self::limit(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(notification_from).collect()
    }

    /// How many of a user's notifications are unread.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn unread_count(&self, user: UserId) -> Result<usize, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL").bind(user.to_string()).fetch_one(&self.pool).await?;
        Ok(usize::try_from(get_i64(&row, "n")?).unwrap_or(0))
    }

    /// Marks one of a user's notifications read, or all of them (`None`); keeps the first reading
    /// time.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when `id` is not one of the user's notifications.
    pub async fn mark_read(&self, user: UserId, id: Option<NotificationId>, now: OffsetDateTime) -> Result<(), StoreError> {
        match id {
            Some(id) => {
                let result = sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3")
                    .bind(secs(now))
                    .bind(id.to_string())
                    .bind(user.to_string())
                    .execute(&self.pool)
                    .await?;
                if result.rows_affected() == 0 {
                    return Err(StoreError::not_found("notification", id));
                }
            }
            None => {
                sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
                    .bind(secs(now))
                    .bind(user.to_string())
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Puts a message in the outbox.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn queue_mail(&self, to: &Email, subject: &str, body: &str, now: OffsetDateTime) -> Result<Mail, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO outbox (id, to_email, subject, body, created_at, attempts) VALUES ($1, $2, $3, $4, $5, 0)")
            .bind(&id)
            .bind(to.as_str())
            .bind(subject)
            .bind(body)
            .bind(secs(now))
            .execute(&self.pool)
            .await?;
        Ok(Mail {
            id,
            to: to.as_str().to_string(),
            subject: subject.to_string(),
            body: body.to_string(),
            created_at: now,
            sent_at: None,
            attempts: 0,
            last_error: None,
        })
    }

    /// The latest `limit` messages, sent or not, newest first (the operator's view).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn outbox(&self, limit: usize) -> Result<Vec<Mail>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1").bind(self::limit(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(mail_from).collect()
    }

    /// Up to `limit` unsent messages that have not failed [`MAX_MAIL_ATTEMPTS`] times, oldest
    /// first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn pending_mail(&self, limit: usize) -> Result<Vec<Mail>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbox WHERE sent_at IS NULL AND attempts < $1 ORDER BY created_at, id LIMIT $2")
            .bind(i64::from(MAX_MAIL_ATTEMPTS))
            .bind(self::limit(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mail_from).collect()
    }

    /// Claims up to `limit` unsent messages that have not failed [`MAX_MAIL_ATTEMPTS`] times and
    /// that no runner holds, oldest first, for [`MAIL_LEASE`]: another instance's runner skips
    /// them until they are marked sent or failed or the lease runs out (its runner died).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn claim_mail(&self, limit: usize, now: OffsetDateTime) -> Result<Vec<Mail>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND attempts < $1 AND (claimed_until IS NULL OR claimed_until <= $2) \
             ORDER BY created_at, id LIMIT $3",
        )
        .bind(i64::from(MAX_MAIL_ATTEMPTS))
        .bind(secs(now))
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let mail = mail_from(row)?;
            let taken = sqlx::query(
                "UPDATE outbox SET claimed_until = $1, claimed_by = $4 WHERE id = $2 AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)",
            )
            .bind(secs(now + MAIL_LEASE))
            .bind(&mail.id)
            .bind(secs(now))
            .bind(self.instance())
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(mail);
            }
        }
        Ok(claimed)
    }

    /// Frees the messages this instance ([`Store::with_instance`]) had claimed: what it does when
    /// it starts, since it died holding them. Another instance's claims run out by themselves.
    /// Returns how many were freed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn release_claimed_mail(&self) -> Result<u64, StoreError> {
        let result =
            sqlx::query("UPDATE outbox SET claimed_until = NULL, claimed_by = NULL WHERE sent_at IS NULL AND claimed_until IS NOT NULL AND claimed_by = $1")
                .bind(self.instance())
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected())
    }

    /// Records a message as sent (counting the attempt).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn mark_mail_sent(&self, id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1, claimed_until = NULL WHERE id = $2")
            .bind(secs(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("mail", id));
        }
        Ok(())
    }

    /// Records a failed sending attempt and its error (the time is not kept).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn mark_mail_failed(&self, id: &str, error: &str, _now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_until = NULL WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("mail", id));
        }
        Ok(())
    }

    /// An organisation's owners and staff (who hear about escalations), owners first, by name.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn org_staff(&self, organisation: OrganisationId) -> Result<Vec<(UserId, Email, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = $1 AND m.role IN ('owner', 'staff') \
             ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, u.name, u.email",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "id")?, get_email(row, "email")?, get_string(row, "name")?))).collect()
    }
}
