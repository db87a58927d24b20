//! Blobs nothing refers to, and the sweep that deletes them: evidence of uploads that were
//! refused after the write or lost a race, artefacts removed before they were ever sent, rows
//! deleted with an account or organisation, badge images replaced in place, and award images
//! whose transaction failed. A blob goes only when no row refers to it and it was last written
//! before a cutoff the caller chooses (now minus a grace period), so an upload whose row is not
//! written yet is never swept. Also the last run of each periodic job, so instances sharing one
//! database take turns.

use std::collections::HashSet;

use crate::rows::{get_string, secs};
use crate::{Store, StoreError};
use time::{Duration, OffsetDateTime};

/// Every column that holds a blob key. A new one must be added here, or the sweep deletes its
/// blobs (`tests/store.rs` checks the schema's key-like columns against this list).
pub const BLOB_KEY_COLUMNS: &[(&str, &str)] = &[
    ("artifacts", "blob_key"),
    ("organisations", "image_key"),
    ("achievement_versions", "image_key"),
    ("awards", "png_key"),
    ("awards", "svg_key"),
    ("award_offers", "png_key"),
    ("award_offers", "svg_key"),
    ("imports", "blob_key"),
];

/// Keys looked up per query.
const BATCH: usize = 200;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Blobs listed.
    pub examined: usize,
    /// Blobs deleted: no row referred to them and they were older than the cutoff.
    pub deleted: usize,
}

impl Store {
    /// Which of `keys` some row refers to.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn referenced_blob_keys(&self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut referenced = HashSet::new();
        for chunk in keys.chunks(BATCH) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let placeholders = placeholders.join(", ");
            let sql = BLOB_KEY_COLUMNS
                .iter()
                .map(|(table, column)| format!("SELECT {column} AS blob_key FROM {table} WHERE {column} IN ({placeholders})"))
                .collect::<Vec<_>>()
                .join(" UNION ");
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                referenced.insert(get_string(&row, "blob_key")?);
            }
        }
        Ok(referenced)
    }

    /// Deletes every blob that no row refers to and that was last written before `cutoff`.
    /// A blob that cannot be deleted is logged and left for the next sweep.
    ///
    /// # Errors
    /// [`StoreError::Blob`] when the blobs cannot be listed, [`StoreError::Backend`] when the
    /// database cannot say which are referenced (then nothing more is deleted).
    #[tracing::instrument(skip_all)]
    pub async fn sweep_blobs(&self, cutoff: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let mut listing = self.blobs.listing(BATCH);
        while let Some(batch) = listing.next_batch().await? {
            report.examined += batch.len();
            let old: Vec<String> = batch.into_iter().filter(|blob| blob.last_modified < cutoff).map(|blob| blob.key).collect();
            let referenced = self.referenced_blob_keys(&old).await?;
            for key in old.iter().filter(|key| !referenced.contains(*key)) {
                match self.blobs.delete_if_older(key, cutoff).await {
                    Ok(true) => report.deleted += 1,
                    Ok(false) => {}
                    Err(error) => tracing::warn!(blob = %key, %error, "deleting an unreferenced blob failed"),
                }
            }
        }
        if report.deleted > 0 {
            tracing::info!(examined = report.examined, deleted = report.deleted, "swept unreferenced blobs");
        }
        Ok(report)
    }

    /// Claims the run of periodic job `name` at `now` when its last run (by any instance on
    /// this database) was at least `every` ago, or it never ran. Returns whether this caller
    /// should run it; of two instances asking at once, one gets `true`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn claim_job_run(&self, name: &str, now: OffsetDateTime, every: Duration) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO job_runs (name, last_run_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at WHERE job_runs.last_run_at <= $3",
        )
        .bind(name)
        .bind(secs(now))
        .bind(secs(now - every))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
