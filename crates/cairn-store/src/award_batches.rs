//! Bulk award (migration `0033_award_batches.sql`): a CSV file of direct awards, its rows kept
//! with what their check found. A started batch has an `award_batch` effect, which awards its
//! pending rows chunk by chunk: each chunk's direct awards, their claim mail and the rows' new
//! states are one transaction ([`Store::settle_batch_chunk`]), so a batch that stopped resumes
//! at the first pending row and never awards a row twice.

use std::collections::HashMap;

use crate::account_data::OutgoingMail;
use crate::accounts::{digest, random_secret};
use crate::effects::{NewEffect, insert_effects};
use crate::offers::{NewAwardOffer, insert_offer};
use crate::rows::{get_i64, get_id, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::award_batch::RowFields;
use cairn_core::ids::{AchievementId, AwardBatchId, AwardOfferId, OrganisationId, UserId};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// Rows inserted per statement when a batch is stored.
const ROWS_PER_INSERT: usize = 100;

/// Where one row of a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchRowState {
    /// To award.
    Pending,
    /// Its direct award was made.
    Awarded,
    /// Nothing to do (awarded already, or a repeat); `detail` says why.
    Skipped,
    /// It cannot be awarded; `detail` says why.
    Failed,
}

impl BatchRowState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchRowState::Pending => "pending",
            BatchRowState::Awarded => "awarded",
            BatchRowState::Skipped => "skipped",
            BatchRowState::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<BatchRowState> {
        [BatchRowState::Pending, BatchRowState::Awarded, BatchRowState::Skipped, BatchRowState::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

/// One row of a new batch, as checked on upload.
#[derive(Debug, Clone)]
pub struct NewBatchRow {
    pub line: u32,
    pub fields: RowFields,
    pub state: BatchRowState,
    pub detail: Option<String>,
}

/// A batch as uploaded: the first part of [`Store::create_award_batch`].
#[derive(Debug, Clone, Copy)]
pub struct NewAwardBatch<'a> {
    pub id: AwardBatchId,
    pub organisation: OrganisationId,
    pub created_by: UserId,
    pub file_name: &'a str,
    pub rows: &'a [NewBatchRow],
}

/// A stored batch, with how many of its rows are in each state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardBatch {
    pub id: AwardBatchId,
    pub organisation: OrganisationId,
    pub created_by: UserId,
    pub file_name: String,
    pub total: u64,
    pub created_at: OffsetDateTime,
    /// `None` while it waits for the issuer to confirm its preview.
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub pending: u64,
    pub awarded: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub line: u32,
    pub fields: RowFields,
    pub state: BatchRowState,
    pub detail: Option<String>,
    pub offer: Option<AwardOfferId>,
}

/// A direct award a chunk makes, from row `line`.
pub struct BatchOffer<'a> {
    pub line: u32,
    pub offer: NewAwardOffer<'a>,
}

/// What [`Store::settle_batch_chunk`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkSettled {
    /// Direct awards made.
    pub awarded: usize,
    /// Rows skipped or failed.
    pub decided: usize,
    /// Offers a unique rule refused meanwhile (one waits already, or its status index was
    /// taken): their rows stay pending for the next chunk to look at again.
    pub refused: usize,
}

const BATCH_COLUMNS: &str = "b.id, b.organisation_id, b.created_by, b.file_name, b.total, b.created_at, b.started_at, b.finished_at, \
     (SELECT COUNT(*) FROM award_batch_rows r WHERE r.batch_id = b.id AND r.state = 'pending') AS pending, \
     (SELECT COUNT(*) FROM award_batch_rows r WHERE r.batch_id = b.id AND r.state = 'awarded') AS awarded, \
     (SELECT COUNT(*) FROM award_batch_rows r WHERE r.batch_id = b.id AND r.state = 'skipped') AS skipped, \
     (SELECT COUNT(*) FROM award_batch_rows r WHERE r.batch_id = b.id AND r.state = 'failed') AS failed";

fn count(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    u64::try_from(get_i64(row, column)?).map_err(|e| StoreError::corrupt(e.to_string()))
}

fn batch_from(row: &AnyRow) -> Result<AwardBatch, StoreError> {
    Ok(AwardBatch {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        created_by: get_id(row, "created_by")?,
        file_name: get_string(row, "file_name")?,
        total: count(row, "total")?,
        created_at: get_time(row, "created_at")?,
        started_at: get_opt_time(row, "started_at")?,
        finished_at: get_opt_time(row, "finished_at")?,
        pending: count(row, "pending")?,
        awarded: count(row, "awarded")?,
        skipped: count(row, "skipped")?,
        failed: count(row, "failed")?,
    })
}

fn row_from(row: &AnyRow) -> Result<BatchRow, StoreError> {
    let state = get_string(row, "state")?;
    Ok(BatchRow {
        line: u32::try_from(get_i64(row, "line")?).map_err(|e| StoreError::corrupt(e.to_string()))?,
        fields: RowFields {
            email: get_string(row, "email")?,
            name: get_string(row, "name")?,
            achievement_id: get_string(row, "achievement_id")?,
            narrative: get_string(row, "narrative")?,
            evidence_url: get_string(row, "evidence_url")?,
        },
        state: BatchRowState::parse(&state).ok_or_else(|| StoreError::corrupt(format!("batch row state \"{state}\"")))?,
        detail: get_opt_string(row, "detail")?,
        offer: get_opt_id(row, "offer_id")?,
    })
}

impl Store {
    /// Stores a checked batch and its rows; with `start` (its `AwardBatch` effect, for the new
    /// batch's id), it starts at once, the effect written in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all, fields(organisation_id = %new.organisation, rows = new.rows.len()))]
    pub async fn create_award_batch(&self, new: NewAwardBatch<'_>, start: Option<&NewEffect>, now: OffsetDateTime) -> Result<AwardBatch, StoreError> {
        let NewAwardBatch { id, organisation, created_by, file_name, rows } = new;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO award_batches (id, organisation_id, created_by, file_name, total, created_at, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(organisation.to_string())
        .bind(created_by.to_string())
        .bind(file_name)
        .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
        .bind(secs(now))
        .bind(start.map(|_| secs(now)))
        .execute(&mut *tx)
        .await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let n = i * 9;
                    format!("(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8, n + 9)
                })
                .collect();
            let sql = format!(
                "INSERT INTO award_batch_rows (batch_id, line, email, name, achievement_id, narrative, evidence_url, state, detail) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(id.to_string())
                    .bind(i64::from(row.line))
                    .bind(row.fields.email.clone())
                    .bind(row.fields.name.clone())
                    .bind(row.fields.achievement_id.clone())
                    .bind(row.fields.narrative.clone())
                    .bind(row.fields.evidence_url.clone())
                    .bind(row.state.as_str())
                    .bind(row.detail.clone());
            }
            query.execute(&mut *tx).await?;
        }
        if let Some(effect) = start {
            insert_effects(&mut tx, std::slice::from_ref(effect), now).await?;
        }
        tx.commit().await?;
        self.award_batch(organisation, id).await
    }

    /// Starts a batch that waits for its preview to be confirmed: its `AwardBatch` effect is
    /// written in the same transaction. Starting one that started already changes nothing;
    /// whether this call started it is returned beside it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such batch.
    pub async fn start_award_batch(
        &self,
        organisation: OrganisationId,
        batch: AwardBatchId,
        effect: &NewEffect,
        now: OffsetDateTime,
    ) -> Result<(AwardBatch, bool), StoreError> {
        let mut tx = self.pool.begin().await?;
        let started = sqlx::query("UPDATE award_batches SET started_at = $1 WHERE id = $2 AND organisation_id = $3 AND started_at IS NULL")
            .bind(secs(now))
            .bind(batch.to_string())
            .bind(organisation.to_string())
            .execute(&mut *tx)
            .await?;
        let now_started = started.rows_affected() == 1;
        if now_started {
            insert_effects(&mut tx, std::slice::from_ref(effect), now).await?;
        }
        tx.commit().await?;
        Ok((self.award_batch(organisation, batch).await?, now_started))
    }

    /// Deletes a batch that was never started (a preview the issuer discarded).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such batch;
    /// [`StoreError::Conflict`] (`award_batches.started`) once it started.
    pub async fn discard_award_batch(&self, organisation: OrganisationId, batch: AwardBatchId) -> Result<(), StoreError> {
        let deleted = sqlx::query("DELETE FROM award_batches WHERE id = $1 AND organisation_id = $2 AND started_at IS NULL")
            .bind(batch.to_string())
            .bind(organisation.to_string())
            .execute(&self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            self.award_batch(organisation, batch).await?;
            return Err(StoreError::Conflict { constraint: "award_batches.started", detail: "this batch started: what it awarded stays".into() });
        }
        Ok(())
    }

    /// One of the organisation's batches.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such batch.
    pub async fn award_batch(&self, organisation: OrganisationId, batch: AwardBatchId) -> Result<AwardBatch, StoreError> {
        let row = sqlx::query(&format!("SELECT {BATCH_COLUMNS} FROM award_batches b WHERE b.id = $1 AND b.organisation_id = $2"))
            .bind(batch.to_string())
            .bind(organisation.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("award batch", batch))?;
        batch_from(&row)
    }

    /// A batch, whichever organisation's (for the runner that awards it).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown batch.
    pub async fn award_batch_by_id(&self, batch: AwardBatchId) -> Result<AwardBatch, StoreError> {
        let row = sqlx::query(&format!("SELECT {BATCH_COLUMNS} FROM award_batches b WHERE b.id = $1"))
            .bind(batch.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("award batch", batch))?;
        batch_from(&row)
    }

    /// The organisation's batches, newest first (at most `limit`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn award_batches(&self, organisation: OrganisationId, limit: u32) -> Result<Vec<AwardBatch>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM award_batches b WHERE b.organisation_id = $1 ORDER BY b.created_at DESC, b.id LIMIT {}",
            limit.min(1_000)
        ))
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_from).collect()
    }

    /// A batch's rows in `states` (all when empty), in file order, from row `after` on (at most
    /// `limit`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn award_batch_rows(&self, batch: AwardBatchId, states: &[BatchRowState], after: u32, limit: u32) -> Result<Vec<BatchRow>, StoreError> {
        let filter = if states.is_empty() {
            String::new()
        } else {
            format!(" AND state IN ({})", states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", "))
        };
        let rows = sqlx::query(&format!(
            "SELECT line, email, name, achievement_id, narrative, evidence_url, state, detail, offer_id FROM award_batch_rows \
             WHERE batch_id = $1 AND line > $2{filter} ORDER BY line LIMIT {}",
            limit.min(10_000)
        ))
        .bind(batch.to_string())
        .bind(i64::from(after))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_from).collect()
    }

    /// Which of `emails` hold `achievement` already: an account with the address holds a current
    /// award of it, or a direct award of it to the address waits or was claimed. Each is named
    /// with why.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn awarded_already(&self, achievement: AchievementId, emails: &[Email]) -> Result<HashMap<Email, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in emails.chunks(500) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let placeholders = placeholders.join(", ");
            let sql = format!(
                "SELECT u.email AS email, 'holds it already' AS why FROM awards a JOIN users u ON u.id = a.learner_id \
                 WHERE a.achievement_id = $1 AND a.renewed_by IS NULL AND u.email IN ({placeholders}) \
                 UNION ALL SELECT f.email AS email, CASE WHEN f.claimed_at IS NULL THEN 'an award of it to this address waits to be claimed' \
                 ELSE 'an award of it to this address was claimed' END AS why FROM award_offers f \
                 WHERE f.achievement_id = $1 AND f.withdrawn_at IS NULL AND f.email IN ({placeholders})"
            );
            let mut query = sqlx::query(&sql).bind(achievement.to_string());
            for email in chunk {
                query = query.bind(email.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let email = Email::parse(&get_string(&row, "email")?).map_err(|e| StoreError::corrupt(e.to_string()))?;
                found.entry(email).or_insert(get_string(&row, "why")?);
            }
        }
        Ok(found)
    }

    /// Records one chunk of a batch in one transaction: makes `offers` (each with a new claim
    /// link and the mail `compose` writes for it), and marks their rows awarded and the rows of
    /// `decided` skipped or failed with their reasons. An offer a unique rule refuses meanwhile
    /// leaves its row pending.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (then nothing of the chunk is kept).
    #[tracing::instrument(skip_all, fields(batch_id = %batch, offers = offers.len()))]
    pub async fn settle_batch_chunk(
        &self,
        batch: AwardBatchId,
        offers: &[BatchOffer<'_>],
        decided: &[(u32, BatchRowState, String)],
        now: OffsetDateTime,
        compose: impl Fn(&NewAwardOffer<'_>, &str) -> OutgoingMail,
    ) -> Result<ChunkSettled, StoreError> {
        let mut settled = ChunkSettled::default();
        let mut tx = self.pool.begin().await?;
        for made in offers {
            let secret = random_secret();
            let id = AwardOfferId::new();
            if !insert_offer(&mut tx, id, &made.offer, &digest(&secret), now, true).await? {
                settled.refused += 1;
                continue;
            }
            crate::account_data::queue(&mut tx, &compose(&made.offer, &secret), now).await?;
            sqlx::query("UPDATE award_batch_rows SET state = 'awarded', offer_id = $1 WHERE batch_id = $2 AND line = $3 AND state = 'pending'")
                .bind(id.to_string())
                .bind(batch.to_string())
                .bind(i64::from(made.line))
                .execute(&mut *tx)
                .await?;
            settled.awarded += 1;
        }
        for (line, state, detail) in decided {
            sqlx::query("UPDATE award_batch_rows SET state = $1, detail = $2 WHERE batch_id = $3 AND line = $4 AND state = 'pending'")
                .bind(state.as_str())
                .bind(detail.as_str())
                .bind(batch.to_string())
                .bind(i64::from(*line))
                .execute(&mut *tx)
                .await?;
            settled.decided += 1;
        }
        tx.commit().await?;
        Ok(settled)
    }

    /// Marks a batch finished (when no row is pending any more).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn finish_award_batch(&self, batch: AwardBatchId, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE award_batches SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM award_batch_rows r WHERE r.batch_id = $2 AND r.state = 'pending')",
        )
        .bind(secs(now))
        .bind(batch.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
