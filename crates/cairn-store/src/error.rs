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
    /// The database went away while running (its server stopped, the connection broke, or no
    /// connection could be had in time): try again once it is back.
    #[error("the database is not reachable")]
    DatabaseDown(#[source] sqlx::Error),
    /// The disk under the database or the blob store is full: nothing was written.
    #[error("{0}")]
    Full(String),
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
    /// Text the database cannot hold (PostgreSQL refuses NUL). The domain's parsers refuse such
    /// text first; this keeps any input they missed a refusal rather than a failure.
    #[error("text must not contain NUL or other control characters")]
    InvalidText,
}

/// PostgreSQL's SQLSTATE for a character the encoding cannot hold (`\0` in text).
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
/// PostgreSQL's SQLSTATE for a NUL in a string it cannot convert.
const UNTRANSLATABLE_CHARACTER: &str = "22P05";
/// PostgreSQL's SQLSTATE for a full disk.
const DISK_FULL: &str = "53100";
/// SQLite's result code for a full disk (`SQLITE_FULL`).
const SQLITE_FULL: &str = "13";
/// What a full disk is reported as.
pub(crate) const FULL_DATABASE: &str = "the database's disk is full, so nothing was saved; the operator must free space";
pub(crate) const FULL_BLOBS: &str = "the file store's disk is full, so nothing was saved; the operator must free space";

/// Whether a database error says the server is going away or cannot take connections:
/// SQLSTATE class 08 (connection exception) and 57P (operator intervention: shutdown, crash,
/// cannot connect now).
fn connection_lost(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P")
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound { entity: "row", id: String::new() },
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some(CHARACTER_NOT_IN_REPERTOIRE | UNTRANSLATABLE_CHARACTER)) => {
                StoreError::InvalidText
            }
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some(DISK_FULL | SQLITE_FULL)) => StoreError::Full(FULL_DATABASE.into()),
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(connection_lost) => StoreError::DatabaseDown(sqlx::Error::Database(db)),
            error @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed | sqlx::Error::Tls(_)) => {
                StoreError::DatabaseDown(error)
            }
            other => StoreError::Backend(other),
        }
    }
}

impl StoreError {
    /// A blob store failure: a full disk (an `ENOSPC` anywhere in its causes) is
    /// [`StoreError::Full`], anything else [`StoreError::Blob`].
    pub(crate) fn blob(error: object_store::Error) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = cause {
            if let Some(io) = current.downcast_ref::<std::io::Error>()
                && (io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28))
            {
                return StoreError::Full(FULL_BLOBS.into());
            }
            cause = current.source();
        }
        StoreError::Blob(error)
    }

    /// Whether the failure is the database or the blob store being out of reach (or full): the
    /// request may succeed later, unchanged.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. } | StoreError::DatabaseDown(_) | StoreError::Blob(_) | StoreError::Full(_))
    }

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
        if StoreError::is_unique_violation(&error) { StoreError::Conflict { constraint, detail } } else { StoreError::from(error) }
    }
}
