//! The inputs of duplicate detection (what each sent submission contains) and the flags it
//! raises.

use crate::rows::{get_f64, get_id, get_opt_string, get_string, secs};
use crate::{Store, StoreError};
use cairn_core::assessment::{DuplicateFlag, DuplicateKind, EvidenceDigest};
use cairn_core::ids::{AchievementId, SubmissionId};
use std::collections::HashMap;
use time::OffsetDateTime;

impl Store {
    /// What duplicate detection compares, for every sent submission of an achievement (not a
    /// draft or withdrawn): the overview and text artefacts, the reflection, the SHA-256 of live
    /// files, and the accounts whose e-mail the learner named as collaborators.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn evidence_digests(&self, achievement: AchievementId) -> Result<Vec<EvidenceDigest>, StoreError> {
        const SENT: &str = "s.achievement_id = $1 AND s.status NOT IN ('draft', 'withdrawn')";
        let id = achievement.to_string();
        let submissions =
            sqlx::query(&format!("SELECT s.id, s.learner_id, s.overview, s.reflection FROM submissions s WHERE {SENT} ORDER BY s.created_at, s.id"))
                .bind(&id)
                .fetch_all(&self.pool)
                .await?;
        let mut digests: Vec<EvidenceDigest> = Vec::with_capacity(submissions.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in &submissions {
            index.insert(get_string(row, "id")?, digests.len());
            digests.push(EvidenceDigest {
                submission: get_id(row, "id")?,
                learner: get_id(row, "learner_id")?,
                collaborators: Vec::new(),
                text: get_string(row, "overview")?,
                reflection: get_string(row, "reflection")?,
                file_hashes: Vec::new(),
            });
        }
        let artifacts = sqlx::query(&format!(
            "SELECT a.submission_id, a.kind, a.body, a.sha256 FROM artifacts a JOIN submissions s ON s.id = a.submission_id \
             WHERE {SENT} AND a.removed_in_attempt IS NULL ORDER BY a.submission_id, a.position"
        ))
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        for row in &artifacts {
            let Some(&i) = index.get(&get_string(row, "submission_id")?) else { continue };
            match get_string(row, "kind")?.as_str() {
                "text" => {
                    digests[i].text.push('\n');
                    digests[i].text.push_str(&get_opt_string(row, "body")?.unwrap_or_default());
                }
                _ => digests[i].file_hashes.extend(get_opt_string(row, "sha256")?),
            }
        }
        let collaborators = sqlx::query(&format!(
            "SELECT c.submission_id, u.id AS user_id FROM submission_collaborators c JOIN submissions s ON s.id = c.submission_id \
             JOIN users u ON u.email = c.email WHERE {SENT} ORDER BY c.submission_id, c.position"
        ))
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        for row in &collaborators {
            if let Some(&i) = index.get(&get_string(row, "submission_id")?) {
                digests[i].collaborators.push(get_id(row, "user_id")?);
            }
        }
        Ok(digests)
    }

    /// Replaces a submission's duplicate flags (one per other submission and kind; the highest
    /// similarity is kept), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown submission included).
    pub async fn set_duplicate_flags(&self, submission: SubmissionId, flags: &[DuplicateFlag], now: OffsetDateTime) -> Result<(), StoreError> {
        let mut unique: Vec<&DuplicateFlag> = Vec::new();
        for flag in flags {
            match unique.iter_mut().find(|f| f.other == flag.other && f.kind == flag.kind) {
                Some(existing) if existing.similarity < flag.similarity => *existing = flag,
                Some(_) => {}
                None => unique.push(flag),
            }
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM duplicate_flags WHERE submission_id = $1").bind(submission.to_string()).execute(&mut *tx).await?;
        for flag in unique {
            sqlx::query("INSERT INTO duplicate_flags (submission_id, other_submission_id, kind, similarity, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(submission.to_string())
                .bind(flag.other.to_string())
                .bind(flag.kind.as_str())
                .bind(flag.similarity)
                .bind(secs(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A submission's duplicate flags, the most similar first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn duplicate_flags(&self, submission: SubmissionId) -> Result<Vec<DuplicateFlag>, StoreError> {
        let rows = sqlx::query(
            "SELECT other_submission_id, kind, similarity FROM duplicate_flags WHERE submission_id = $1 ORDER BY similarity DESC, other_submission_id, kind",
        )
        .bind(submission.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind = get_string(row, "kind")?;
                Ok(DuplicateFlag {
                    other: get_id(row, "other_submission_id")?,
                    kind: DuplicateKind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("duplicate kind \"{kind}\"")))?,
                    similarity: get_f64(row, "similarity")?,
                })
            })
            .collect()
    }
}
