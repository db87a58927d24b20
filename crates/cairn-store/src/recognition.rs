//! Recognition of prior learning: issuers' equivalency rules, and what a submission asking for
//! recognition points at. Which rule applies, and whether a badge is good enough, the
//! application decides; the store keeps what it decided.

use cairn_core::ids::{EquivalencyId, ImportId, OrganisationId, SubmissionId, UserId};
use cairn_core::recognition::{Equivalency, NewEquivalency};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::conflict_on_unique;
use crate::rows::{get_i64, get_id, get_opt_id, get_string, get_time, get_u64, secs};
use crate::{Store, StoreError};

/// What a submission asking for prior learning to be recognised points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriorLearning {
    /// The imported badge shown as evidence, if one was (it may have been removed since).
    pub import: Option<ImportId>,
}

fn equivalency_from(row: &AnyRow) -> Result<Equivalency, StoreError> {
    Ok(Equivalency {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        achievement: get_id(row, "achievement_id")?,
        external_issuer: get_string(row, "external_issuer")?,
        external_achievement: get_string(row, "external_achievement")?,
        note: get_string(row, "note")?,
        created_at: get_time(row, "created_at")?,
    })
}

impl Store {
    /// Keeps an equivalency rule of `organisation` (whose achievement `new.achievement` is).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`equivalencies.rule`) when the achievement has this rule already.
    pub async fn create_equivalency(
        &self,
        organisation: OrganisationId,
        new: &NewEquivalency,
        by: UserId,
        now: OffsetDateTime,
    ) -> Result<Equivalency, StoreError> {
        let id = EquivalencyId::new();
        sqlx::query(
            "INSERT INTO equivalencies (id, organisation_id, achievement_id, external_issuer, external_achievement, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(organisation.to_string())
        .bind(new.achievement.to_string())
        .bind(&new.external_issuer)
        .bind(&new.external_achievement)
        .bind(&new.note)
        .bind(by.to_string())
        .bind(secs(now))
        .execute(&self.pool)
        .await
        .map_err(conflict_on_unique("equivalencies.rule", "this achievement has this equivalency rule already"))?;
        self.equivalency(id).await
    }

    /// One equivalency rule.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn equivalency(&self, id: EquivalencyId) -> Result<Equivalency, StoreError> {
        let row = sqlx::query("SELECT * FROM equivalencies WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("equivalency", id))?;
        equivalency_from(&row)
    }

    /// An organisation's equivalency rules, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn equivalencies_of(&self, organisation: OrganisationId) -> Result<Vec<Equivalency>, StoreError> {
        let rows = sqlx::query("SELECT * FROM equivalencies WHERE organisation_id = $1 ORDER BY created_at, id")
            .bind(organisation.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(equivalency_from).collect()
    }

    /// How many equivalency rules an organisation keeps.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn count_equivalencies(&self, organisation: OrganisationId) -> Result<u64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM equivalencies WHERE organisation_id = $1").bind(organisation.to_string()).fetch_one(&self.pool).await?;
        get_u64(&row, "n")
    }

    /// Every organisation's rules naming this achievement from elsewhere.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn equivalencies_matching(&self, external_issuer: &str, external_achievement: &str) -> Result<Vec<Equivalency>, StoreError> {
        let rows = sqlx::query("SELECT * FROM equivalencies WHERE external_issuer = $1 AND external_achievement = $2 ORDER BY created_at, id")
            .bind(external_issuer.trim())
            .bind(external_achievement.trim())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(equivalency_from).collect()
    }

    /// Removes an equivalency rule; awards it made stay.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn delete_equivalency(&self, id: EquivalencyId) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM equivalencies WHERE id = $1").bind(id.to_string()).execute(&self.pool).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("equivalency", id));
        }
        Ok(())
    }

    /// What a submission asks to be recognised, when it asks for recognition of prior learning.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown submission.
    pub async fn prior_learning_of(&self, submission: SubmissionId) -> Result<Option<PriorLearning>, StoreError> {
        let row = sqlx::query("SELECT prior_learning, import_id FROM submissions WHERE id = $1")
            .bind(submission.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("submission", submission))?;
        if get_i64(&row, "prior_learning")? == 0 {
            return Ok(None);
        }
        Ok(Some(PriorLearning { import: get_opt_id(&row, "import_id")? }))
    }
}
