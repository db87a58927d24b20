//! Storage errors, named by meaning: not found, conflict, unavailable, backend failure.

/// What went wrong in the store. A database failure never turns into "not found".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("{entity} \"{id}\" not found")]
    NotFound { entity: &'static str, id: String },
    /// A uniqueness or state rule of the data would break (e.g. a duplicate name).
    #[error("{detail}")]
    Conflict { constraint: &'static str, detail: String },
    /// A setting is unusable.
    #[error("{0}")]
    Config(String),
    /// The database could not be reached at start.
    #[error("cannot reach the database at {url}")]
    Unavailable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed a query.
    #[error("database error")]
    Backend(#[source] sqlx::Error),
    /// The blob store failed.
    #[error("blob store error")]
    Blob(#[source] object_store::Error),
    /// Sealed data could not be opened (wrong master key or corrupted row).
    #[error("{0}")]
    Sealed(String),
    /// A stored value does not parse (a corrupted row or a hand edit).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound { entity: "row", id: String::new() },
            other => StoreError::Backend(other),
        }
    }
}

impl StoreError {
    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound { entity, id: id.to_string() }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::Corrupt(what.into())
    }

    /// Whether this is a database unique-constraint violation.
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        match error {
            sqlx::Error::Database(db) => db.is_unique_violation() || db.message().contains("UNIQUE constraint failed") || db.code().as_deref() == Some("23505"),
            _ => false,
        }
    }
}

/// Maps a unique violation to [`StoreError::Conflict`], anything else to a backend error.
pub(crate) fn conflict_on_unique(constraint: &'static str, detail: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let detail = detail.into();
    move |error| {
        if StoreError::is_unique_violation(&error) { StoreError::Conflict { constraint, detail } } else { StoreError::Backend(error) }
    }
}
