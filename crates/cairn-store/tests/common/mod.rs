//! The test harness shared by the storage suites: a fresh SQLite or PostgreSQL store per test,
//! `backend_test!` (every test on both backends), and fixtures. The PostgreSQL half always runs:
//! it creates a fresh database per test on the server `CAIRN_TEST_DATABASE_URL` names, or on
//! [`DEFAULT_TEST_DATABASE_URL`] when the variable is unset, and fails, naming the variable and
//! the URL it tried, when that server cannot be reached.
#![allow(dead_code)]

use cairn_core::account::{NewAccount, SignUpFields};
use cairn_core::achievement::{NewAchievement, NewAchievementFields};
use cairn_core::demo;
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::organisation::{OrganisationFields, OrganisationProfile};
use cairn_store::{MasterKey, Store, StoreOptions, redact_url};
use sqlx::{AnyConnection, Connection};
use time::OffsetDateTime;

/// The variable naming the PostgreSQL server of the tests (a user who may `CREATE DATABASE`).
pub const DATABASE_URL_VARIABLE: &str = "CAIRN_TEST_DATABASE_URL";

/// The PostgreSQL server used when [`DATABASE_URL_VARIABLE`] is unset or empty.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL server of the tests, and where its URL came from.
#[derive(Debug, Clone)]
pub struct AdminUrl {
    pub url: String,
    /// Whether [`DATABASE_URL_VARIABLE`] named it (else it is the default).
    pub from_variable: bool,
}

impl AdminUrl {
    /// [`DATABASE_URL_VARIABLE`], else [`DEFAULT_TEST_DATABASE_URL`].
    pub fn from_env() -> AdminUrl {
        match std::env::var(DATABASE_URL_VARIABLE) {
            Ok(url) if !url.trim().is_empty() => AdminUrl { url, from_variable: true },
            _ => AdminUrl { url: DEFAULT_TEST_DATABASE_URL.to_string(), from_variable: false },
        }
    }

    /// Connects to the server.
    ///
    /// # Errors
    /// A message naming [`DATABASE_URL_VARIABLE`], the URL tried (password redacted) and the cause.
    pub async fn connect(&self) -> Result<AnyConnection, String> {
        sqlx::any::install_default_drivers();
        AnyConnection::connect(&self.url).await.map_err(|error| {
            let source = if self.from_variable {
                format!("the server {DATABASE_URL_VARIABLE} names")
            } else {
                format!("the default while {DATABASE_URL_VARIABLE} is unset")
            };
            format!(
                "the PostgreSQL half of the store tests could not connect to {} ({source}): {error}; \
                 start PostgreSQL there, or set {DATABASE_URL_VARIABLE} to a server where this user may CREATE DATABASE",
                redact_url(&self.url)
            )
        })
    }

    /// Runs one statement on the server.
    ///
    /// # Panics
    /// With the message of [`AdminUrl::connect`] when the server cannot be reached, or when the
    /// statement fails.
    async fn execute(&self, sql: &str) {
        let mut conn = self.connect().await.unwrap_or_else(|message| panic!("{message}"));
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|error| panic!("{sql} on {}: {error}", redact_url(&self.url)));
        conn.close().await.unwrap();
    }
}

/// A store on a fresh database, removed by [`TestDb::finish`].
pub struct TestDb {
    pub store: Store,
    /// The URL of its database, for tests that read the catalog directly.
    pub url: String,
    _dir: tempfile::TempDir,
    cleanup: Option<(AdminUrl, String)>,
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
        let store = Store::connect(&url, options(&dir)).await.unwrap();
        TestDb { store, url, _dir: dir, cleanup: None }
    }

    /// A fresh PostgreSQL database on the server of [`AdminUrl::from_env`].
    ///
    /// # Panics
    /// When that server cannot be reached, with the message of [`AdminUrl::connect`].
    pub async fn postgres() -> TestDb {
        let admin_url = AdminUrl::from_env();
        let name = format!("cairn_test_{}", uuid_simple());
        admin_url.execute(&format!("CREATE DATABASE {name}")).await;
        let mut url =
            url::Url::parse(&admin_url.url).unwrap_or_else(|error| panic!("{DATABASE_URL_VARIABLE} \"{}\" is not a URL: {error}", redact_url(&admin_url.url)));
        url.set_path(&format!("/{name}"));
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(url.as_str(), options(&dir)).await.unwrap();
        TestDb { store, url: url.to_string(), _dir: dir, cleanup: Some((admin_url, name)) }
    }

    /// Closes the store and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.cleanup {
            admin_url.execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

fn uuid_simple() -> String {
    OrganisationId::new().to_string().replace('-', "")
}

/// Store options with a fixed master key and a blob directory in `dir`.
pub fn options(dir: &tempfile::TempDir) -> StoreOptions {
    StoreOptions { master_key: MasterKey::from_bytes([7; 32]), blobs: cairn_store::BlobLocation::Dir(dir.path().join("blobs")) }
}

/// Emits `NAME_sqlite` and `NAME_postgres` running the same body against each backend.
macro_rules! backend_test {
    // With the database's URL, for a test that reads tables the store does not show.
    ($name:ident, |$store:ident, $url:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($store: &Store, $url: &str) $body

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                run(&db.store, &db.url).await;
                db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let db = $crate::common::TestDb::postgres().await;
                run(&db.store, &db.url).await;
                db.finish().await;
            }
        }
    };
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($store: &Store) $body

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                run(&db.store).await;
                db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let db = $crate::common::TestDb::postgres().await;
                run(&db.store).await;
                db.finish().await;
            }
        }
    };
}

/// The fixed time of the fixtures.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
}

/// An account named "Test Person".
pub async fn user(store: &Store, email: &str) -> UserId {
    named_user(store, "Test Person", email).await
}

/// A password hash for fixtures: the store keeps hashes, it does not make or check them.
pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Q8+hGdkYq/8gLbq1yC3K2ZtjQkZ1m7QYyqJ2dN3t0s8";

/// An account with a name.
pub async fn named_user(store: &Store, name: &str, email: &str) -> UserId {
    let account = NewAccount::parse(SignUpFields { name: name.into(), email: email.into(), password: "a long enough password".into() }).unwrap();
    store.create_user(&account.name, &account.email, PASSWORD_HASH, now()).await.unwrap().id
}

/// An organisation owned by `owner`.
pub async fn organisation(store: &Store, name: &str, owner: UserId) -> OrganisationId {
    let profile =
        OrganisationProfile::parse(&OrganisationFields { name: name.into(), url: "https://issuer.example".into(), email: None, description: None }).unwrap();
    store.create_organisation(&profile, cairn_core::organisation::OrganisationKind::Issuer, owner, now()).await.unwrap().id
}

/// The first demo micro-badge, renamed.
pub fn badge(name: &str) -> NewAchievement {
    let mut fields = demo::micro_badges().remove(0);
    fields.content.name = name.into();
    NewAchievement::parse(&fields).unwrap()
}

/// The demo micro-credential and its levels, renamed.
pub fn micro_credential(name: &str, level_names: [&str; 3]) -> NewAchievement {
    let mut fields: NewAchievementFields = demo::micro_credential();
    fields.content.name = name.into();
    for (level, level_name) in fields.levels.iter_mut().zip(level_names) {
        level.name = level_name.into();
    }
    NewAchievement::parse(&fields).unwrap()
}
