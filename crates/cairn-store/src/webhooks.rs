//! Webhooks (migration `0036_webhooks.sql`): an organisation's endpoints, each event's delivery
//! to each endpoint, and every attempt, for the delivery log. An endpoint's signing secret is
//! sealed under the master key (it must be read to sign). The store enforces what must hold
//! under concurrency: one delivery per message and endpoint (`UNIQUE`, so fanning an event out
//! twice delivers it once), and one runner per attempt (a due delivery is claimed by a
//! conditional update, a lease that a dead runner's claim outlives). The rules (events, the
//! retry schedule, signatures) are `cairn_core::webhook`'s.

use cairn_core::ids::{OrganisationId, WebhookDeliveryId, WebhookEndpointId};
use cairn_core::webhook::{EventKind, NewEndpoint};
use rand::RngCore;
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

use crate::rows::{get_i64, get_id, get_opt_i64, get_opt_string, get_opt_time, get_string, get_time, get_u32, secs};
use crate::{Store, StoreError};

/// An endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub organisation: OrganisationId,
    pub url: String,
    pub description: String,
    pub events: Vec<EventKind>,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed; it stays in the log and may be sent again by hand.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Result<DeliveryState, StoreError> {
        match raw {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            other => Err(StoreError::corrupt(format!("webhook delivery state \"{other}\""))),
        }
    }
}

/// One attempt of a delivery: the endpoint's HTTP status (or why there was none), the start of
/// its answer, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub number: u32,
    pub attempted_at: OffsetDateTime,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: u64,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    /// The `webhook-id` header: the same for every attempt, and for every endpoint told of the
    /// event.
    pub message_id: String,
    pub endpoint: WebhookEndpointId,
    pub event_type: String,
    /// The JSON body, as signed.
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub settled_at: Option<OffsetDateTime>,
}

/// A delivery a runner holds, with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: WebhookDelivery,
    pub url: String,
    pub secret: String,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Failed; due again at this time.
    RetryAt(OffsetDateTime),
    /// Failed for the last time.
    GaveUp,
}

fn events_text(events: &[EventKind]) -> String {
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ")
}

fn endpoint_from(row: &AnyRow) -> Result<WebhookEndpoint, StoreError> {
    Ok(WebhookEndpoint {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        url: get_string(row, "url")?,
        description: get_string(row, "description")?,
        events: get_string(row, "events")?.split(' ').filter_map(EventKind::parse).collect(),
        enabled: get_i64(row, "enabled")? != 0,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn status_from(raw: Option<i64>) -> Option<u16> {
    raw.and_then(|s| u16::try_from(s).ok())
}

fn delivery_from(row: &AnyRow) -> Result<WebhookDelivery, StoreError> {
    Ok(WebhookDelivery {
        id: get_id(row, "id")?,
        message_id: get_string(row, "message_id")?,
        endpoint: get_id(row, "endpoint_id")?,
        event_type: get_string(row, "event_type")?,
        payload: get_string(row, "payload")?,
        state: DeliveryState::parse(&get_string(row, "state")?)?,
        attempts: get_u32(row, "attempts")?,
        next_attempt_at: get_opt_time(row, "next_attempt_at")?,
        last_status: status_from(get_opt_i64(row, "last_status")?),
        last_error: get_opt_string(row, "last_error")?,
        created_at: get_time(row, "created_at")?,
        settled_at: get_opt_time(row, "settled_at")?,
    })
}

fn secret_context(id: WebhookEndpointId) -> String {
    format!("webhook endpoint {id}")
}

fn new_secret() -> String {
    let mut random = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut random);
    cairn_core::webhook::secret_from(random)
}

const DELIVERY_COLUMNS: &str =
    "id, message_id, endpoint_id, event_type, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, settled_at";

impl Store {
    /// Registers an endpoint for `organisation`; returns it with its secret (which the caller
    /// shows once).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_webhook_endpoint(
        &self,
        organisation: OrganisationId,
        new: &NewEndpoint,
        now: OffsetDateTime,
    ) -> Result<(WebhookEndpoint, String), StoreError> {
        let id = WebhookEndpointId::new();
        let secret = new_secret();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, organisation_id, url, description, events, secret_sealed, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(id.to_string())
        .bind(organisation.to_string())
        .bind(new.url.as_str())
        .bind(&new.description)
        .bind(events_text(&new.events))
        .bind(self.master_key.seal(secret.as_bytes(), &secret_context(id)))
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        Ok((self.webhook_endpoint(id).await?, secret))
    }

    /// An endpoint.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn webhook_endpoint(&self, id: WebhookEndpointId) -> Result<WebhookEndpoint, StoreError> {
        let row = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = $1").bind(id.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(endpoint_from).transpose()?.ok_or_else(|| StoreError::not_found("webhook endpoint", id))
    }

    /// An organisation's endpoints, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn webhook_endpoints(&self, organisation: OrganisationId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query("SELECT * FROM webhook_endpoints WHERE organisation_id = $1 ORDER BY created_at, id")
            .bind(organisation.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(endpoint_from).collect()
    }

    /// Changes an endpoint's address, description, events and whether it is on.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn update_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        new: &NewEndpoint,
        enabled: bool,
        now: OffsetDateTime,
    ) -> Result<WebhookEndpoint, StoreError> {
        let changed = sqlx::query("UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, enabled = $4, updated_at = $5 WHERE id = $6")
            .bind(new.url.as_str())
            .bind(&new.description)
            .bind(events_text(&new.events))
            .bind(i64::from(enabled))
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::not_found("webhook endpoint", id));
        }
        self.webhook_endpoint(id).await
    }

    /// Deletes an endpoint with its deliveries.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn delete_webhook_endpoint(&self, id: WebhookEndpointId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Attempts and deliveries go first, so no backend needs cascades enabled.
        sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::not_found("webhook endpoint", id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives an endpoint a new secret; returns it (shown once). Deliveries signed from now on
    /// use it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn rotate_webhook_secret(&self, id: WebhookEndpointId, now: OffsetDateTime) -> Result<String, StoreError> {
        let secret = new_secret();
        let changed = sqlx::query("UPDATE webhook_endpoints SET secret_sealed = $1, updated_at = $2 WHERE id = $3")
            .bind(self.master_key.seal(secret.as_bytes(), &secret_context(id)))
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::not_found("webhook endpoint", id));
        }
        Ok(secret)
    }

    /// Queues message `message_id` (an event of `kind` with body `payload`) for every enabled
    /// endpoint of `organisation` subscribed to `kind`, once per endpoint however often it is
    /// called; returns the deliveries made now.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn enqueue_webhook(
        &self,
        organisation: OrganisationId,
        message_id: &str,
        kind: EventKind,
        payload: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<WebhookDeliveryId>, StoreError> {
        let endpoints = self.webhook_endpoints(organisation).await?;
        let mut made = Vec::new();
        for endpoint in endpoints.iter().filter(|e| e.enabled && e.events.contains(&kind)) {
            if let Some(id) = self.enqueue_webhook_to(endpoint.id, message_id, kind, payload, now).await? {
                made.push(id);
            }
        }
        Ok(made)
    }

    /// Queues message `message_id` for one endpoint, unless it was queued there before.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn enqueue_webhook_to(
        &self,
        endpoint: WebhookEndpointId,
        message_id: &str,
        kind: EventKind,
        payload: &str,
        now: OffsetDateTime,
    ) -> Result<Option<WebhookDeliveryId>, StoreError> {
        let id = WebhookDeliveryId::new();
        let inserted = sqlx::query(
            "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, event_type, payload, state, attempts, next_attempt_at, created_at, created_micros) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $7) ON CONFLICT (message_id, endpoint_id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(message_id)
        .bind(endpoint.to_string())
        .bind(kind.as_str())
        .bind(payload)
        .bind(secs(now))
        // The application's clock counts whole seconds; the log's order needs finer.
        .bind(i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok((inserted.rows_affected() == 1).then_some(id))
    }

    /// Claims deliveries due at `now` (at most `limit`; `only` narrows to these), each for
    /// `lease`: pending, due, and not claimed by a runner whose lease still holds. Each comes
    /// with its endpoint's address and secret.
    ///
    /// # Errors
    /// [`StoreError::Backend`]; [`StoreError::Sealed`] when a secret cannot be opened.
    pub async fn claim_webhook_deliveries(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        only: Option<&[WebhookDeliveryId]>,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let stale = secs(now - lease);
        let candidates: Vec<WebhookDeliveryId> = match only {
            Some(ids) => ids.iter().copied().take(limit).collect(),
            None => {
                let rows = sqlx::query(&format!(
                    "SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_at IS NULL OR claimed_at < $2) \
                     ORDER BY next_attempt_at, id LIMIT {}",
                    limit.min(1000)
                ))
                .bind(secs(now))
                .bind(stale)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|row| get_id(row, "id")).collect::<Result<_, _>>()?
            }
        };
        let mut claimed = Vec::new();
        for id in candidates {
            // A disabled endpoint's deliveries wait until it is enabled again.
            let won = sqlx::query(
                "UPDATE webhook_deliveries SET claimed_at = $1 WHERE id = $2 AND state = 'pending' AND next_attempt_at <= $1 \
                 AND (claimed_at IS NULL OR claimed_at < $3) AND endpoint_id IN (SELECT e.id FROM webhook_endpoints e WHERE e.enabled = 1)",
            )
            .bind(secs(now))
            .bind(id.to_string())
            .bind(stale)
            .execute(&self.pool)
            .await?;
            if won.rows_affected() == 0 {
                continue;
            }
            let delivery = self.webhook_delivery(id).await?;
            let row =
                sqlx::query("SELECT url, secret_sealed FROM webhook_endpoints WHERE id = $1").bind(delivery.endpoint.to_string()).fetch_one(&self.pool).await?;
            let secret = self.master_key.open(&get_string(&row, "secret_sealed")?, &secret_context(delivery.endpoint))?;
            let secret = String::from_utf8(secret).map_err(|_| StoreError::corrupt("a webhook secret is not text"))?;
            claimed.push(ClaimedDelivery { url: get_string(&row, "url")?, secret, delivery });
        }
        Ok(claimed)
    }

    /// A delivery.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn webhook_delivery(&self, id: WebhookDeliveryId) -> Result<WebhookDelivery, StoreError> {
        let row =
            sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1")).bind(id.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(delivery_from).transpose()?.ok_or_else(|| StoreError::not_found("webhook delivery", id))
    }

    /// Records an attempt of a claimed delivery and its outcome, and releases the claim.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_webhook_attempt(&self, id: WebhookDeliveryId, attempt: &WebhookAttempt, outcome: AttemptOutcome) -> Result<(), StoreError> {
        let (state, next, settled) = match outcome {
            AttemptOutcome::Delivered => (DeliveryState::Delivered, None, Some(secs(attempt.attempted_at))),
            AttemptOutcome::RetryAt(at) => (DeliveryState::Pending, Some(secs(at)), None),
            AttemptOutcome::GaveUp => (DeliveryState::Failed, None, Some(secs(attempt.attempted_at))),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, number, attempted_at, status, error, response, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (delivery_id, number) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(i64::from(attempt.number))
        .bind(secs(attempt.attempted_at))
        .bind(attempt.status.map(i64::from))
        .bind(attempt.error.as_deref())
        .bind(attempt.response.as_deref())
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, claimed_at = NULL, last_status = $4, last_error = $5, settled_at = $6 \
             WHERE id = $7",
        )
        .bind(state.as_str())
        .bind(i64::from(attempt.number))
        .bind(next)
        .bind(attempt.status.map(i64::from))
        .bind(attempt.error.as_deref())
        .bind(settled)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first (to the microsecond), at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn webhook_deliveries(&self, endpoint: WebhookEndpointId, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_micros DESC, id DESC LIMIT {}",
            limit.min(1000)
        ))
        .bind(endpoint.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from).collect()
    }

    /// A delivery's attempts, in order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn webhook_attempts(&self, delivery: WebhookDeliveryId) -> Result<Vec<WebhookAttempt>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number").bind(delivery.to_string()).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookAttempt {
                    number: get_u32(row, "number")?,
                    attempted_at: get_time(row, "attempted_at")?,
                    status: status_from(get_opt_i64(row, "status")?),
                    error: get_opt_string(row, "error")?,
                    response: get_opt_string(row, "response")?,
                    duration_ms: u64::try_from(get_i64(row, "duration_ms")?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Sends a delivery again by hand: pending and due `now`, whatever it was; its attempts so
    /// far stay in the log and the next one counts on from them.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Backend`].
    pub async fn redeliver_webhook(&self, id: WebhookDeliveryId, now: OffsetDateTime) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, claimed_at = NULL, settled_at = NULL WHERE id = $2")
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::not_found("webhook delivery", id));
        }
        Ok(())
    }

    /// Deletes settled deliveries (and their attempts) settled before `cutoff`; returns how
    /// many went.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn sweep_webhook_log(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND settled_at < $1)")
            .bind(secs(cutoff))
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM webhook_deliveries WHERE state <> 'pending' AND settled_at < $1")
            .bind(secs(cutoff))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}
