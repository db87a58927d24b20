//! Artefacts, the pieces of evidence of a submission: files in the blob store and texts, added
//! and removed while the submission is editable, kept for the history once sent.

use super::{EDITABLE, explain_miss, not_editable};
use crate::error::conflict_on_unique;
use crate::rows::{get_i64, get_id, get_opt_i64, get_opt_string, get_string, get_time, get_u32, secs};
use crate::{Backend, Store, StoreError};
use cairn_core::evidence::check_quota;
use cairn_core::ids::{ArtifactId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::MAX_ARTIFACTS;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// The content of an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactBody {
    /// An uploaded file in the blob store.
    File { blob_key: String, media_type: String, size: u64, sha256: String, original_name: String },
    /// A text written in the form.
    Text { body: String },
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub id: ArtifactId,
    pub submission: SubmissionId,
    pub title: String,
    pub body: ArtifactBody,
    /// The submission's attempt number when it was added.
    pub added_in_attempt: u32,
    pub created_at: OffsetDateTime,
}

impl Artifact {
    /// The label attempt snapshots record: `"<title> (<first 12 hex of the SHA-256>)"` for a
    /// file, `"<title> (text)"` for a text.
    pub fn label(&self) -> String {
        match &self.body {
            ArtifactBody::File { sha256, .. } => artifact_label(&self.title, Some(sha256)),
            ArtifactBody::Text { .. } => artifact_label(&self.title, None),
        }
    }
}

pub(super) fn artifact_label(title: &str, sha256: Option<&str>) -> String {
    match sha256 {
        Some(hash) => format!("{title} ({})", hash.get(..12).unwrap_or(hash)),
        None => format!("{title} (text)"),
    }
}

/// What adding an artefact needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    pub id: ArtifactId,
    pub submission: SubmissionId,
    pub title: String,
    pub body: ArtifactBody,
}

fn artifact_from(row: &AnyRow) -> Result<Artifact, StoreError> {
    let kind = get_string(row, "kind")?;
    let body = match kind.as_str() {
        "file" => {
            let required = |column: &str| get_opt_string(row, column)?.ok_or_else(|| StoreError::corrupt(format!("file artefact without {column}")));
            ArtifactBody::File {
                blob_key: required("blob_key")?,
                media_type: required("media_type")?,
                size: get_opt_i64(row, "size_bytes")?.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                sha256: required("sha256")?,
                original_name: required("original_name")?,
            }
        }
        "text" => ArtifactBody::Text { body: get_opt_string(row, "body")?.unwrap_or_default() },
        other => return Err(StoreError::corrupt(format!("artefact kind \"{other}\""))),
    };
    Ok(Artifact {
        id: get_id(row, "id")?,
        submission: get_id(row, "submission_id")?,
        title: get_string(row, "title")?,
        body,
        added_in_attempt: get_u32(row, "added_in_attempt")?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Adds an artefact to an editable submission, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission; [`StoreError::Conflict`]
    /// (`submissions.editable`) when it can no longer be edited, (`artifacts.limit`) when it
    /// already has [`MAX_ARTIFACTS`] live artefacts, (`artifacts.id`) for a reused id.
    pub async fn add_artifact(&self, new: &NewArtifact, now: OffsetDateTime) -> Result<Artifact, StoreError> {
        self.add_artifact_within(new, None, now).await
    }

    /// Adds an artefact as [`Store::add_artifact`] does; a file must also fit in `quota_bytes`
    /// beside the learner's other files with the submission's issuer
    /// ([`Store::evidence_bytes`]). The check is made in the same transaction, with the
    /// learner's row locked on PostgreSQL (SQLite has one writer), so two uploads at once cannot
    /// both slip under the quota.
    ///
    /// # Errors
    /// As [`Store::add_artifact`], and [`StoreError::Conflict`] (`artifacts.quota`) saying how
    /// much is used and allowed when the file does not fit.
    #[tracing::instrument(skip_all, fields(submission_id = %new.submission))]
    pub async fn add_artifact_within(&self, new: &NewArtifact, quota_bytes: Option<u64>, now: OffsetDateTime) -> Result<Artifact, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND status IN {EDITABLE}"))
            .bind(secs(now))
            .bind(new.submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, new.submission, |_| not_editable()).await);
        }
        let row = sqlx::query(
            "SELECT s.attempt, s.learner_id, s.organisation_id, \
             (SELECT COUNT(*) FROM artifacts a WHERE a.submission_id = s.id AND a.removed_in_attempt IS NULL) AS live, \
             (SELECT COALESCE(MAX(a.position), 0) FROM artifacts a WHERE a.submission_id = s.id) AS last_position FROM submissions s WHERE s.id = $1",
        )
        .bind(new.submission.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let attempt = get_u32(&row, "attempt")?;
        if get_i64(&row, "live")? >= MAX_ARTIFACTS as i64 {
            return Err(StoreError::Conflict { constraint: "artifacts.limit", detail: format!("at most {MAX_ARTIFACTS} artefacts") });
        }
        if let (ArtifactBody::File { size, .. }, Some(quota)) = (&new.body, quota_bytes) {
            let learner: UserId = get_id(&row, "learner_id")?;
            if self.backend == Backend::Postgres {
                sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(learner.to_string()).execute(&mut *tx).await?;
            }
            let used = evidence_bytes(&mut tx, learner, get_id(&row, "organisation_id")?).await?;
            if let Err(over) = check_quota(used, *size, quota) {
                return Err(StoreError::Conflict { constraint: "artifacts.quota", detail: over.to_string() });
            }
        }
        let (kind, body, blob_key, media_type, size, sha256, original_name) = match &new.body {
            ArtifactBody::File { blob_key, media_type, size, sha256, original_name } => (
                "file",
                None,
                Some(blob_key.clone()),
                Some(media_type.clone()),
                Some(i64::try_from(*size).unwrap_or(i64::MAX)),
                Some(sha256.clone()),
                Some(original_name.clone()),
            ),
            ArtifactBody::Text { body } => ("text", Some(body.clone()), None, None, None, None, None),
        };
        sqlx::query(
            "INSERT INTO artifacts (id, submission_id, kind, title, body, blob_key, media_type, size_bytes, sha256, original_name, position, \
             added_in_attempt, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new.id.to_string())
        .bind(new.submission.to_string())
        .bind(kind)
        .bind(&new.title)
        .bind(body)
        .bind(blob_key)
        .bind(media_type)
        .bind(size)
        .bind(sha256)
        .bind(original_name)
        .bind(get_i64(&row, "last_position")? + 1)
        .bind(i64::from(attempt))
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("artifacts.id", format!("artefact {} already exists", new.id)))?;
        tx.commit().await?;
        Ok(Artifact { id: new.id, submission: new.submission, title: new.title.clone(), body: new.body.clone(), added_in_attempt: attempt, created_at: now })
    }

    /// Removes a live artefact from an editable submission. One that was never sent (added after
    /// the last time the submission was sent) is deleted; one that was sent is kept for the
    /// history, marked removed in the current attempt.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission or an artefact that is not a live one
    /// of it, [`StoreError::Conflict`] (`submissions.editable`) when it can no longer be edited.
    #[tracing::instrument(skip_all, fields(submission_id = %submission, artifact_id = %artifact))]
    pub async fn remove_artifact(&self, submission: SubmissionId, artifact: ArtifactId, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(&format!("UPDATE submissions SET updated_at = $1 WHERE id = $2 AND status IN {EDITABLE}"))
            .bind(secs(now))
            .bind(submission.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(explain_miss(&mut tx, submission, |_| not_editable()).await);
        }
        let row = sqlx::query(
            "SELECT a.created_at, s.submitted_at, s.attempt FROM artifacts a JOIN submissions s ON s.id = a.submission_id \
             WHERE a.id = $1 AND a.submission_id = $2 AND a.removed_in_attempt IS NULL",
        )
        .bind(artifact.to_string())
        .bind(submission.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("artefact", artifact))?;
        let never_sent = match get_opt_i64(&row, "submitted_at")? {
            None => true,
            Some(sent) => get_i64(&row, "created_at")? > sent,
        };
        if never_sent {
            sqlx::query("DELETE FROM artifacts WHERE id = $1").bind(artifact.to_string()).execute(&mut *tx).await?;
        } else {
            sqlx::query("UPDATE artifacts SET removed_in_attempt = $1 WHERE id = $2")
                .bind(get_i64(&row, "attempt")?)
                .bind(artifact.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Bytes of the evidence files on `learner`'s submissions with `organisation`: every file
    /// still kept, those of earlier attempts and withdrawn submissions included. This is what an
    /// issuer's evidence quota counts.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn evidence_bytes(&self, learner: UserId, organisation: OrganisationId) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        evidence_bytes(&mut conn, learner, organisation).await
    }

    /// A submission's live artefacts, in the order added.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn artifacts(&self, submission: SubmissionId) -> Result<Vec<Artifact>, StoreError> {
        let rows = sqlx::query("SELECT * FROM artifacts WHERE submission_id = $1 AND removed_in_attempt IS NULL ORDER BY position")
            .bind(submission.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(artifact_from).collect()
    }

    /// One artefact, removed ones included (for the history).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn artifact(&self, id: ArtifactId) -> Result<Artifact, StoreError> {
        let row = sqlx::query("SELECT * FROM artifacts WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("artefact", id))?;
        artifact_from(&row)
    }
}

async fn evidence_bytes(conn: &mut sqlx::AnyConnection, learner: UserId, organisation: OrganisationId) -> Result<u64, StoreError> {
    // PostgreSQL's SUM of a BIGINT is a NUMERIC: cast back for both engines.
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(a.size_bytes), 0) AS BIGINT) AS used FROM artifacts a JOIN submissions s ON s.id = a.submission_id \
         WHERE s.learner_id = $1 AND s.organisation_id = $2 AND a.kind = 'file'",
    )
    .bind(learner.to_string())
    .bind(organisation.to_string())
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(get_i64(&row, "used")?).unwrap_or(0))
}
