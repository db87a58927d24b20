//! Cairn persistence: SQLite (the embedded default) and PostgreSQL behind one [`Store`], with
//! migrations for both, issuer keys sealed under the operator's master key, and a blob store for
//! images and evidence.
//!
//! The store records decisions made in `cairn-core`; it does not make them. Every multi-row write
//! is one transaction.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cairn_store::StoreError> {
//! use cairn_store::{MasterKey, Store, StoreOptions};
//! let store = Store::connect("sqlite://cairn.db", StoreOptions {
//!     master_key: MasterKey::from_bytes([7; 32]),
//!     blobs: cairn_store::BlobLocation::Dir("blobs".into()),
//! }).await?;
//! store.ping().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod account_data;
mod accounts;
mod achievements;
mod assessment;
mod award_batches;
mod awards;
mod blobs;
mod catalog;
mod discovery;
mod effects;
mod error;
mod expiry;
mod identities;
mod imports;
mod insight;
mod invitations;
mod notices;
mod oauth;
mod offers;
mod organisations;
mod outcomes;
mod recognition;
mod rows;
mod seal;
mod sweep;
mod synthetic;
mod wallet;
mod webhooks;

pub use account_data::{DELETED_NAME, EmailChanged, OutgoingMail, deleted_email};
pub use accounts::{ApiToken, NewSession, TOKEN_PREFIX, TokenOwner, USE_RECORDING_SECS, User};
pub use achievements::{ComponentLink, ComponentRequest};
pub use assessment::{
    Artifact, ArtifactBody, Assessment, AttemptSnapshot, Collaboration, EscalationCandidate, IssuerQueueItem, LearnerSubmission, ModerationItem, NewArtifact,
    NewPayment, NewSubmission, OrgEvent, Payment, PoolMember, QueueItem, SampleState, SampledJudgement, SecondScoring, Sending, Settled, StripeAccount,
    SubmissionEvent, Voucher,
};
pub use award_batches::{AwardBatch, BatchOffer, BatchRow, BatchRowState, ChunkSettled, NewAwardBatch, NewBatchRow};
pub use awards::{Award, LearnerAward, MIN_STATUS_LIST_LENGTH, NewAward, StatusListRow};
pub use blobs::{BlobInfo, BlobLocation, Blobs};
pub use catalog::{CatalogPage, CatalogQuery, FeeFilter, KindFilter};
pub use discovery::{ContactRequest, ShortlistEntry, Talent, TalentActivity, TalentHit, TalentPage, TalentTuning};
pub use effects::{
    ClaimedEffect, EFFECT_LEASE, Effect, EffectKind, EffectRecord, EffectState, Letter, MAX_EFFECT_ATTEMPTS, NewEffect, Notice, QueueDepths, Retry,
    WebhookEvent, WebhookSubject,
};
pub use error::StoreError;
pub use expiry::ExpiringAward;
pub use identities::{LinkedIdentity, NO_PASSWORD, OidcLogin};
pub use imports::{Import, ImportCheck, ImportSource, ImportVerdict};
pub use insight::{AwardUse, DecisionGroup, Decisions, InsightScope, LevelPairs, PassCounts, SampleCounts, SendsOnDay, UseCounts};
pub use invitations::{Invitation, Invitee, NewInvitation};
pub use notices::{MAIL_LEASE, MAX_MAIL_ATTEMPTS, Mail, Notification};
pub use oauth::{
    ACCESS_TOKEN_PREFIX, CLIENT_SECRET_PREFIX, ClaimedCode, IssuedTokens, NewGrant, OAuthClient, OAuthGrant, Presented, REFRESH_TOKEN_PREFIX, TokenGrant,
};
pub use offers::{AwardOffer, HeldCredential, NewAwardOffer, OfferMade, OfferState};
pub use organisations::Member;
pub use recognition::PriorLearning;
pub use seal::MasterKey;
pub use sweep::{BLOB_KEY_COLUMNS, SweepReport};
pub use synthetic::{SyntheticAttempt, SyntheticAward, SyntheticBatch, SyntheticLearner, SyntheticSample, SyntheticSubmission, SyntheticUse};
pub use wallet::{NonceUse, Redeemed, WALLET_TOKEN_PREFIX, WalletPickup};
pub use webhooks::{AttemptOutcome, ClaimedDelivery, DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Which database engine a [`Store`] talks to; dialect differences `match` on it in plain sight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine a database URL names.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the accepted forms.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!("database URL \"{}\" is neither sqlite://PATH nor postgres://USER@HOST/DB", redact_url(url))))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What a store needs besides its URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Seals issuer private keys at rest.
    pub master_key: MasterKey,
    /// Where blobs live: a local directory, or a bucket instances share.
    pub blobs: BlobLocation,
}

/// The one handle to Cairn's data; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    master_key: MasterKey,
    blobs: Blobs,
    /// This instance's name, kept with the claims it makes ([`Store::with_instance`]).
    instance: std::sync::Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// The instance name of a store nobody named.
const DEFAULT_INSTANCE: &str = "cairn";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects, applies pending migrations for the engine, and opens the blob store.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (the URL is shown without
    /// its password), [`StoreError::Migrate`] when a migration fails.
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        tracing::Span::current().record("backend", backend.as_str());
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let unavailable = |source: sqlx::Error| StoreError::Unavailable { url: redact_url(&url), source };
        let pool = match backend {
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // 32 MiB of page cache per connection, and reads through a 256 MiB map:
                        // searches over a large platform touch many pages.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
                             PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await
                .map_err(unavailable)?,
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // Compiling a plan costs more than Cairn's short queries ever save by it;
                        // insight and talent counts group tens of thousands of rows in memory.
                        conn.execute("SET jit = off").await?;
                        conn.execute("SET work_mem = '16MB'").await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await
                .map_err(unavailable)?,
        };
        match backend {
            Backend::Sqlite => {
                // Migrations run on a connection of their own that is then closed: a migration
                // that changes a CHECK constraint through the schema table (0011) leaves the
                // connection that ran it with the old schema parsed. Foreign keys are off on it,
                // as SQLite's procedure for rebuilding a table asks (0015 rebuilds `awards`:
                // dropping the old table with them on would cascade into every row that refers
                // to an award), and sqlx runs each migration in a transaction, inside which the
                // pragma cannot change; every reference is checked once they have run.
                let mut conn = pool.acquire().await.map_err(unavailable)?.detach();
                conn.execute("PRAGMA foreign_keys = OFF").await?;
                SQLITE_MIGRATIONS.run(&mut conn).await?;
                let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut conn).await?;
                if let Some(row) = dangling.first() {
                    use sqlx::Row;
                    let table: String = row.try_get(0)?;
                    return Err(StoreError::corrupt(format!(
                        "after the migrations, {} row(s) of \"{table}\" and others refer to rows that do not exist",
                        dangling.len()
                    )));
                }
                sqlx::Connection::close(conn).await.map_err(unavailable)?;
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let blobs = Blobs::open(&options.blobs)?;
        Ok(Store { pool, backend, master_key: options.master_key, blobs, instance: std::sync::Arc::from(DEFAULT_INSTANCE) })
    }

    /// Writes a consistent copy of the SQLite database to `path` while it is in use (`VACUUM
    /// INTO`: one read transaction, so writers go on and the copy is of one moment).
    ///
    /// # Errors
    /// [`StoreError::Config`] on PostgreSQL (back it up with `pg_dump`); [`StoreError::Backend`]
    /// when the copy fails (the file exists already, or the disk is full).
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config("a PostgreSQL database is backed up with pg_dump".into()));
        }
        let target = path.to_str().ok_or_else(|| StoreError::Config(format!("the backup path {} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// The store as used by the instance named `name`, which must be the same across restarts of
    /// one instance and differ between instances sharing the database (`cairn serve` uses the
    /// host name and port unless `CAIRN_INSTANCE` names it). Outbox claims record it, so that an
    /// instance restarting after a crash takes back only its own.
    pub fn with_instance(mut self, name: &str) -> Store {
        self.instance = std::sync::Arc::from(name);
        self
    }

    /// This instance's name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The engine in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (for `/healthz`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The blob store.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// Table and column names of the schema, for the migration parity test.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        use sqlx::Row;
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' AND m.name NOT LIKE 'achievement_search%' \
                 ORDER BY 1, 2"
            }
            Backend::Postgres => {
                "SELECT table_name::TEXT AS table_name, column_name::TEXT AS column_name FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY 1, 2"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get::<String, _>("table_name")?, row.try_get::<String, _>("column_name")?))).collect()
    }
}

/// Whether the database at `url` holds nothing of Cairn's yet (no migration has run), checked
/// without migrating it: a restore goes only into an empty database.
///
/// # Errors
/// [`StoreError::Unavailable`] when it cannot be reached.
pub async fn database_is_empty(url: &str) -> Result<bool, StoreError> {
    install_default_drivers();
    let backend = Backend::from_url(url)?;
    let unavailable = |source: sqlx::Error| StoreError::Unavailable { url: redact_url(url), source };
    let pool = AnyPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect(url).await.map_err(unavailable)?;
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    };
    let row = sqlx::query(sql).fetch_one(&pool).await?;
    pool.close().await;
    Ok(rows::get_u64(&row, "n")? == 0)
}

/// A database URL with any password replaced by `***`, safe to log or show.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend_or_say_what_is_accepted() {
        assert_eq!(Backend::from_url("sqlite://data/cairn.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db").unwrap(), Backend::Postgres);
        let error = Backend::from_url("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(error.contains("sqlite://PATH") && !error.contains("secret"), "{error}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:hunter2@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
