//! The test harness shared by the storage suites: a fresh SQLite or PostgreSQL store per test,
//! `backend_test!` (every test on both backends), and fixtures. The PostgreSQL half uses
//! `CAIRN_TEST_DATABASE_URL` (a fresh database per test); without it, it is skipped locally and
//! fails in CI.
#![allow(dead_code)]

use cairn_core::account::{NewAccount, SignUpFields};
use cairn_core::achievement::{NewAchievement, NewAchievementFields};
use cairn_core::demo;
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::organisation::{OrganisationFields, OrganisationProfile};
use cairn_store::{MasterKey, Store, StoreOptions};
use time::OffsetDateTime;

/// A store on a fresh database, removed by [`TestDb::finish`].
pub struct TestDb {
    pub store: Store,
    _dir: tempfile::TempDir,
    cleanup: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
        let store = Store::connect(&url, options(&dir)).await.unwrap();
        TestDb { store, _dir: dir, cleanup: None }
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured (outside CI).
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var("CAIRN_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").map(|v| v.is_empty()).unwrap_or(true),
                    "CAIRN_TEST_DATABASE_URL must be set in CI: the PostgreSQL run is mandatory"
                );
                eprintln!("skipping the PostgreSQL half: CAIRN_TEST_DATABASE_URL is not set");
                return None;
            }
        };
        let name = format!("cairn_test_{}", uuid_simple());
        admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(url.as_str(), options(&dir)).await.unwrap();
        Some(TestDb { store, _dir: dir, cleanup: Some((admin_url, name)) })
    }

    /// Closes the store and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.cleanup {
            admin_execute(&admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

fn uuid_simple() -> String {
    OrganisationId::new().to_string().replace('-', "")
}

async fn admin_execute(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to CAIRN_TEST_DATABASE_URL");
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Store options with a fixed master key and a blob directory in `dir`.
pub fn options(dir: &tempfile::TempDir) -> StoreOptions {
    StoreOptions { master_key: MasterKey::from_bytes([7; 32]), blob_dir: dir.path().join("blobs") }
}

/// Emits `NAME_sqlite` and `NAME_postgres` running the same body against each backend.
macro_rules! backend_test {
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
                if let Some(db) = $crate::common::TestDb::postgres().await {
                    run(&db.store).await;
                    db.finish().await;
                }
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

/// An account with a name.
pub async fn named_user(store: &Store, name: &str, email: &str) -> UserId {
    let account = NewAccount::parse(SignUpFields { name: name.into(), email: email.into(), password: "a long enough password".into() }).unwrap();
    store.create_user(&account, now()).await.unwrap().id
}

/// An organisation owned by `owner`.
pub async fn organisation(store: &Store, name: &str, owner: UserId) -> OrganisationId {
    let profile =
        OrganisationProfile::parse(&OrganisationFields { name: name.into(), url: "https://issuer.example".into(), email: None, description: None }).unwrap();
    store.create_organisation(&profile, owner, now()).await.unwrap().id
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
