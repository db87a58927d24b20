//! Badges earned elsewhere that a learner imported, with the verdict of their last verification.
//! The store keeps what the application read and decided; it verifies nothing.

use cairn_core::ids::{ImportId, UserId};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_string, get_string, get_time, secs};
use crate::{Store, StoreError};

/// How an imported credential was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    Json,
    Jwt,
    /// A web address (an OB 2.0 hosted assertion or an OB 3.0 credential).
    Url,
    /// A baked image, kept in the blob store.
    Png,
    Svg,
}

impl ImportSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportSource::Json => "json",
            ImportSource::Jwt => "jwt",
            ImportSource::Url => "url",
            ImportSource::Png => "png",
            ImportSource::Svg => "svg",
        }
    }

    pub fn parse(raw: &str) -> Option<ImportSource> {
        [ImportSource::Json, ImportSource::Jwt, ImportSource::Url, ImportSource::Png, ImportSource::Svg].into_iter().find(|s| s.as_str() == raw)
    }
}

/// A verification's verdict, as kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportVerdict {
    Valid,
    Invalid,
    Indeterminate,
}

impl ImportVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportVerdict::Valid => "valid",
            ImportVerdict::Invalid => "invalid",
            ImportVerdict::Indeterminate => "indeterminate",
        }
    }

    pub fn parse(raw: &str) -> Option<ImportVerdict> {
        [ImportVerdict::Valid, ImportVerdict::Invalid, ImportVerdict::Indeterminate].into_iter().find(|v| v.as_str() == raw)
    }
}

/// The last verification of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCheck {
    pub verdict: ImportVerdict,
    /// Why it is not valid, in words.
    pub detail: Option<String>,
    pub verified_at: OffsetDateTime,
}

/// An imported badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: ImportId,
    pub user: UserId,
    pub source: ImportSource,
    /// The credential's JSON or JWT, or its web address; for a baked image, empty (the image is
    /// at `blob_key`).
    pub input: String,
    pub blob_key: Option<String>,
    /// SHA-256 of the input, hex: the same badge is imported once.
    pub input_digest: String,
    /// What was verified (`ob3-json`, `png+ob2-signed`, …).
    pub format: String,
    pub name: String,
    pub issuer_name: String,
    /// The issuer's id (a DID or URL) and the achievement's, as the credential gives them.
    pub issuer_id: Option<String>,
    pub achievement_id: Option<String>,
    /// The credential's own `id`, when it has one: the Open Badges API's upsert replaces the
    /// import of the same credential.
    pub credential_id: Option<String>,
    pub check: ImportCheck,
    pub created_at: OffsetDateTime,
}

fn import_from(row: &AnyRow) -> Result<Import, StoreError> {
    let source = get_string(row, "source")?;
    let verdict = get_string(row, "verdict")?;
    Ok(Import {
        id: get_id(row, "id")?,
        user: get_id(row, "user_id")?,
        source: ImportSource::parse(&source).ok_or_else(|| StoreError::corrupt(format!("unknown import source {source:?}")))?,
        input: get_string(row, "input")?,
        blob_key: get_opt_string(row, "blob_key")?,
        input_digest: get_string(row, "input_digest")?,
        format: get_string(row, "format")?,
        name: get_string(row, "name")?,
        issuer_name: get_string(row, "issuer_name")?,
        issuer_id: get_opt_string(row, "issuer_id")?,
        achievement_id: get_opt_string(row, "achievement_id")?,
        credential_id: get_opt_string(row, "credential_id")?,
        check: ImportCheck {
            verdict: ImportVerdict::parse(&verdict).ok_or_else(|| StoreError::corrupt(format!("unknown verdict {verdict:?}")))?,
            detail: get_opt_string(row, "verdict_detail")?,
            verified_at: get_time(row, "verified_at")?,
        },
        created_at: get_time(row, "created_at")?,
    })
}

/// Binds what an import states, as `$1` to `$13`: the columns an import is written with and a
/// replacement changes.
fn bind_import<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    import: &'q Import,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(import.source.as_str())
        .bind(&import.input)
        .bind(import.blob_key.clone())
        .bind(&import.input_digest)
        .bind(&import.format)
        .bind(&import.name)
        .bind(&import.issuer_name)
        .bind(import.issuer_id.clone())
        .bind(import.achievement_id.clone())
        .bind(import.check.verdict.as_str())
        .bind(import.check.detail.clone())
        .bind(secs(import.check.verified_at))
        .bind(import.credential_id.clone())
}

impl Store {
    /// Keeps an import.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`imports.input_digest`) when the learner imported the same
    /// credential before.
    pub async fn create_import(&self, import: &Import) -> Result<Import, StoreError> {
        let query = sqlx::query(
            "INSERT INTO imports (source, input, blob_key, input_digest, format, name, issuer_name, issuer_id, achievement_id, verdict, \
             verdict_detail, verified_at, credential_id, id, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        );
        bind_import(query, import)
            .bind(import.id.to_string())
            .bind(import.user.to_string())
            .bind(secs(import.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("imports.input_digest", "you have imported this badge already"))?;
        self.import(import.id).await
    }

    /// Replaces import `id` with `import` (a newer form of the same credential), keeping its id
    /// and its date of import.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id; [`StoreError::Conflict`] when the learner holds
    /// the new input as another import.
    pub async fn replace_import(&self, id: ImportId, import: &Import) -> Result<Import, StoreError> {
        let query = sqlx::query(
            "UPDATE imports SET source = $1, input = $2, blob_key = $3, input_digest = $4, format = $5, name = $6, issuer_name = $7, issuer_id = $8, \
             achievement_id = $9, verdict = $10, verdict_detail = $11, verified_at = $12, credential_id = $13 WHERE id = $14",
        );
        let result = bind_import(query, import)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("imports.input_digest", "you have imported this badge already"))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("import", id));
        }
        self.import(id).await
    }

    /// A learner's import of the credential with this `id`, if they hold one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn import_of_credential(&self, user: UserId, credential_id: &str) -> Result<Option<Import>, StoreError> {
        let row = sqlx::query("SELECT * FROM imports WHERE user_id = $1 AND credential_id = $2 ORDER BY created_at, id")
            .bind(user.to_string())
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(import_from).transpose()
    }

    /// A learner's import whose input has this digest, if they hold one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn import_of_digest(&self, user: UserId, digest: &str) -> Result<Option<Import>, StoreError> {
        let row = sqlx::query("SELECT * FROM imports WHERE user_id = $1 AND input_digest = $2")
            .bind(user.to_string())
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(import_from).transpose()
    }

    /// One import.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn import(&self, id: ImportId) -> Result<Import, StoreError> {
        let row = sqlx::query("SELECT * FROM imports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("import", id))?;
        import_from(&row)
    }

    /// A learner's imports, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn imports_of(&self, user: UserId) -> Result<Vec<Import>, StoreError> {
        let rows = sqlx::query("SELECT * FROM imports WHERE user_id = $1 ORDER BY created_at DESC, id").bind(user.to_string()).fetch_all(&self.pool).await?;
        rows.iter().map(import_from).collect()
    }

    /// How many imports a learner has.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn count_imports(&self, user: UserId) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM imports WHERE user_id = $1").bind(user.to_string()).fetch_one(&self.pool).await?;
        crate::rows::get_u64(&row, "n")
    }

    /// Records a new verification of an import.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn record_import_check(&self, id: ImportId, check: &ImportCheck) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE imports SET verdict = $1, verdict_detail = $2, verified_at = $3 WHERE id = $4")
            .bind(check.verdict.as_str())
            .bind(check.detail.clone())
            .bind(secs(check.verified_at))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("import", id));
        }
        Ok(())
    }

    /// Removes an import.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn delete_import(&self, id: ImportId) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM imports WHERE id = $1").bind(id.to_string()).execute(&self.pool).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("import", id));
        }
        Ok(())
    }
}
