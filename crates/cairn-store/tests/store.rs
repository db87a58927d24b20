//! The storage suite: every test runs on SQLite and on PostgreSQL (`backend_test!` emits both).
//! The PostgreSQL half creates a fresh database per test on `CAIRN_TEST_DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`, and fails when that server cannot be reached. The
//! harness is in `common/mod.rs`; the schema comparison of the migration parity test in
//! `schema/mod.rs`.

#[macro_use]
mod common;
mod schema;

use cairn_core::account::{ApiTokenFields, Email, NewApiToken, TokenScope};
use cairn_core::achievement::{AchievementContent, EditMode, Kind, NewAchievement, State};
use cairn_core::authz::Role;
use cairn_core::demo;
use cairn_core::ids::UserId;
use cairn_core::organisation::{OrganisationFields, OrganisationProfile};
use cairn_store::{Backend, CatalogQuery, FeeFilter, KindFilter, MasterKey, Store, StoreError, StoreOptions, TokenOwner};
use common::{AdminUrl, PASSWORD_HASH, TestDb, badge, micro_credential, now, options, organisation, user};
use time::Duration;

backend_test!(accounts_are_unique_by_email_and_keep_their_password_hash, |store| {
    let id = user(store, "ada@example.org").await;
    let duplicate = Email::parse("ADA@example.org").unwrap();
    assert!(matches!(store.create_user("Other", &duplicate, PASSWORD_HASH, now()).await, Err(StoreError::Conflict { constraint: "users.email", .. })));
    let email = Email::parse("ada@example.org").unwrap();
    let (found, hash) = store.password_hash(&email).await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (id, PASSWORD_HASH));
    assert_eq!(store.password_hash(&Email::parse("nobody@example.org").unwrap()).await.unwrap(), None);
    assert_eq!(store.user(id).await.unwrap().email, email);
    assert!(matches!(store.user(UserId::new()).await, Err(StoreError::NotFound { .. })));
});

backend_test!(sessions_expire_end_and_lapse_when_idle, |store| {
    let id = user(store, "s@example.org").await;
    let idle = Duration::minutes(10);
    let session = store.create_session(id, now(), Duration::hours(1)).await.unwrap();
    assert_eq!(store.session_user(&session.token, now(), idle).await.unwrap(), Some(id));
    // Each use starts the idle period again: 5, 14 and 23 minutes are each within ten of the last.
    for minutes in [5, 14, 23] {
        assert_eq!(store.session_user(&session.token, now() + Duration::minutes(minutes), idle).await.unwrap(), Some(id), "{minutes}");
    }
    assert_eq!(store.session_user(&session.token, now() + Duration::minutes(34), idle).await.unwrap(), None, "idle for 11 minutes");
    assert_eq!(store.session_user("forged", now(), idle).await.unwrap(), None);

    // A use within a minute of the last recorded one is not recorded again.
    let quiet = store.create_session(id, now(), Duration::hours(1)).await.unwrap();
    assert_eq!(store.session_user(&quiet.token, now() + Duration::seconds(30), idle).await.unwrap(), Some(id));
    assert_eq!(store.session_user(&quiet.token, now() + Duration::seconds(615), idle).await.unwrap(), None, "seen at 0 s, not at 30 s");

    // However busy, a session ends at its expiry.
    let busy = store.create_session(id, now(), Duration::minutes(15)).await.unwrap();
    for minutes in [5, 10, 14] {
        assert_eq!(store.session_user(&busy.token, now() + Duration::minutes(minutes), idle).await.unwrap(), Some(id));
    }
    assert_eq!(store.session_user(&busy.token, now() + Duration::minutes(15), idle).await.unwrap(), None);

    let ended = store.create_session(id, now(), Duration::hours(1)).await.unwrap();
    store.delete_session(&ended.token, now()).await.unwrap();
    assert_eq!(store.session_user(&ended.token, now(), idle).await.unwrap(), None);
});

fn token(name: &str, scope: TokenScope, days: &str) -> NewApiToken {
    NewApiToken::parse(&ApiTokenFields { name: name.into(), scope: scope.as_str().into(), expires_in_days: days.into() }).unwrap()
}

backend_test!(api_tokens_work_until_revoked_or_expired_and_keep_their_scope, |store| {
    let id = user(store, "t@example.org").await;
    let (created, secret) = store.create_api_token(id, &token("ci", TokenScope::Full, ""), now()).await.unwrap();
    assert!(secret.starts_with("cairn_") && secret.starts_with(&created.prefix));
    assert_eq!(created.expires_at, Some(now() + Duration::days(90)));
    assert_eq!(store.api_token_user(&secret, now()).await.unwrap(), Some(TokenOwner { user: id, scope: TokenScope::Full }));
    let listed = store.api_tokens(id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].last_used_at, listed[0].expires_at, listed[0].scope), (Some(now()), created.expires_at, TokenScope::Full));
    let other = user(store, "u@example.org").await;
    assert!(matches!(store.revoke_api_token(other, created.id, now()).await, Err(StoreError::NotFound { .. })));
    store.revoke_api_token(id, created.id, now()).await.unwrap();
    assert_eq!(store.api_token_user(&secret, now()).await.unwrap(), None);
    assert!(store.api_tokens(id).await.unwrap()[0].revoked_at.is_some());

    // Scope and expiry: a read-only token for 30 days stops on the 30th day; "never" does not.
    let (reader, reader_secret) = store.create_api_token(id, &token("reader", TokenScope::ReadOnly, "30"), now()).await.unwrap();
    assert_eq!(store.api_token_user(&reader_secret, now() + Duration::days(29)).await.unwrap(), Some(TokenOwner { user: id, scope: TokenScope::ReadOnly }));
    assert_eq!(store.api_token_user(&reader_secret, now() + Duration::days(30)).await.unwrap(), None);
    assert!(store.api_tokens(id).await.unwrap().iter().find(|t| t.id == reader.id).unwrap().expired(now() + Duration::days(30)));
    let (_, forever) = store.create_api_token(id, &token("forever", TokenScope::Full, "never"), now()).await.unwrap();
    assert!(store.api_token_user(&forever, now() + Duration::days(3650)).await.unwrap().is_some());
});

backend_test!(a_token_s_use_is_recorded_at_most_once_a_minute, |store| {
    let id = user(store, "m@example.org").await;
    let (created, secret) = store.create_api_token(id, &token("ci", TokenScope::Full, ""), now()).await.unwrap();
    let last_used = || async { store.api_tokens(id).await.unwrap().into_iter().find(|t| t.id == created.id).unwrap().last_used_at };
    assert_eq!(last_used().await, None);
    store.api_token_user(&secret, now()).await.unwrap();
    store.api_token_user(&secret, now() + Duration::seconds(59)).await.unwrap();
    assert_eq!(last_used().await, Some(now()), "not again within the minute");
    store.api_token_user(&secret, now() + Duration::seconds(60)).await.unwrap();
    assert_eq!(last_used().await, Some(now() + Duration::seconds(60)));
});

backend_test!(text_the_database_cannot_hold_is_refused_not_a_failure, |store| {
    // The domain's parsers refuse NUL first; this is the store's net for anything they miss.
    let result = store.create_user("Nul\u{0}Name", &Email::parse("nul@example.org").unwrap(), PASSWORD_HASH, now()).await;
    match store.backend() {
        Backend::Postgres => assert!(matches!(result, Err(StoreError::InvalidText)), "{result:?}"),
        Backend::Sqlite => assert!(result.is_ok(), "{result:?}"),
    }
});

backend_test!(organisations_keep_names_unique_and_keys_sealed, |store| {
    let owner = user(store, "o@example.org").await;
    let id = organisation(store, "Northbridge", owner).await;
    assert_eq!(store.memberships(owner).await.unwrap(), vec![(id, Role::Owner)]);
    let profile =
        OrganisationProfile::parse(&OrganisationFields { name: "NORTHBRIDGE".into(), url: "https://x.example".into(), email: None, description: None })
            .unwrap();
    assert!(matches!(
        store.create_organisation(&profile, cairn_core::organisation::OrganisationKind::Issuer, owner, now()).await,
        Err(StoreError::Conflict { constraint: "organisations.name", .. })
    ));
    assert_eq!(store.organisations().await.unwrap().len(), 1, "the refused organisation left nothing behind");
    let organisation = store.organisation(id).await.unwrap();
    let key = store.signing_key(id).await.unwrap();
    assert_eq!(key.public_key_multibase(), organisation.public_key_multibase);
    assert!(store.organisation_by_name("northbridge").await.unwrap().is_some());
});

backend_test!(members_are_managed_and_the_last_owner_stays, |store| {
    let owner = user(store, "owner@example.org").await;
    let assessor = user(store, "assessor@example.org").await;
    let id = organisation(store, "Members Org", owner).await;
    let member = store.add_member(id, &Email::parse("assessor@example.org").unwrap(), Role::Assessor, now()).await.unwrap();
    assert_eq!(member.user, assessor);
    assert!(matches!(store.add_member(id, &Email::parse("assessor@example.org").unwrap(), Role::Staff, now()).await, Err(StoreError::Conflict { .. })));
    assert!(matches!(store.add_member(id, &Email::parse("ghost@example.org").unwrap(), Role::Staff, now()).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.set_member_role(id, owner, Some(Role::Staff)).await, Err(StoreError::Conflict { constraint: "memberships.last_owner", .. })));
    assert!(matches!(store.set_member_role(id, owner, None).await, Err(StoreError::Conflict { .. })));
    store.set_member_role(id, assessor, Some(Role::Owner)).await.unwrap();
    store.set_member_role(id, owner, None).await.unwrap();
    let members = store.members(id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!((members[0].user, members[0].role), (assessor, Role::Owner));
});

backend_test!(a_micro_credential_is_stored_with_three_ordered_levels, |store| {
    let owner = user(store, "a@example.org").await;
    let org = organisation(store, "Stack Org", owner).await;
    let created = store.create_achievement(org, &micro_credential("Data", ["L one", "L two", "L three"]), owner, now()).await.unwrap();
    assert_eq!((created.kind, created.state, created.version), (Kind::MicroCredential, State::Draft, 1));
    let levels = store.levels(created.id).await.unwrap();
    assert_eq!(levels.iter().map(|l| l.kind).collect::<Vec<_>>(), [Kind::Level(1), Kind::Level(2), Kind::Level(3)]);
    assert_eq!(levels.iter().map(|l| l.content.name.as_str()).collect::<Vec<_>>(), ["L one", "L two", "L three"]);
    assert!(levels.iter().all(|l| l.parent == Some(created.id) && l.content.rubric.is_some()));
    assert_eq!(levels[0].content.alignments.len(), 2);
    assert_eq!(store.organisation_achievements(org).await.unwrap().len(), 4);
});

backend_test!(a_duplicate_name_refuses_the_whole_micro_credential, |store| {
    let owner = user(store, "d@example.org").await;
    let org = organisation(store, "Dup Org", owner).await;
    store.create_achievement(org, &badge("Taken"), owner, now()).await.unwrap();
    let result = store.create_achievement(org, &micro_credential("Fresh", ["One", "Two", "taken"]), owner, now()).await;
    assert!(matches!(result, Err(StoreError::Conflict { constraint: "achievements.name", .. })), "{result:?}");
    assert_eq!(store.organisation_achievements(org).await.unwrap().len(), 1, "no half-created micro-credential");
    let other = organisation(store, "Other Org", owner).await;
    store.create_achievement(other, &badge("Taken"), owner, now()).await.expect("names are unique per organisation only");
});

backend_test!(editing_a_published_achievement_creates_a_new_version, |store| {
    let owner = user(store, "v@example.org").await;
    let org = organisation(store, "Version Org", owner).await;
    let created = store.create_achievement(org, &badge("Versioned"), owner, now()).await.unwrap();
    let mut content: AchievementContent = created.content.clone();
    content.description = "Edited while a draft".into();
    let edited = store.update_achievement(created.id, &content, EditMode::InPlace, owner, now()).await.unwrap();
    assert_eq!((edited.version, edited.content.description.as_str()), (1, "Edited while a draft"));
    let published = store.set_achievement_state(created.id, State::Published, now()).await.unwrap();
    assert_eq!(published.published_at, Some(now()));
    content.description = "Second version".into();
    content.alignments.truncate(0);
    let v2 = store.update_achievement(created.id, &content, EditMode::NewVersion, owner, now() + Duration::days(1)).await.unwrap();
    assert_eq!((v2.version, v2.state), (2, State::Published));
    assert!(v2.content.alignments.is_empty());
    let v1 = store.achievement_version(created.id, 1).await.unwrap();
    assert_eq!(v1.content.description, "Edited while a draft");
    assert_eq!(v1.content.alignments.len(), 1, "the old version keeps its alignments");
    assert!(matches!(store.achievement_version(created.id, 3).await, Err(StoreError::NotFound { .. })));
});

backend_test!(the_catalog_searches_and_filters_published_entries, |store| {
    let owner = user(store, "c@example.org").await;
    let org = organisation(store, "Catalog Org", owner).await;
    let other_org = organisation(store, "Second Issuer", owner).await;
    let mut ids = Vec::new();
    for fields in demo::micro_badges().into_iter().chain([demo::micro_credential()]) {
        let created = store.create_achievement(org, &NewAchievement::parse(&fields).unwrap(), owner, now()).await.unwrap();
        store.set_achievement_state(created.id, State::Published, now()).await.unwrap();
        ids.push(created);
    }
    store.create_achievement(org, &badge("Draft only OWASP"), owner, now()).await.unwrap();
    let retired = store.create_achievement(other_org, &badge("Retired OWASP badge"), owner, now()).await.unwrap();
    store.set_achievement_state(retired.id, State::Published, now()).await.unwrap();
    store.set_achievement_state(retired.id, State::Retired, now()).await.unwrap();

    let search = |text: &str| CatalogQuery { text: Some(text.into()), limit: 20, ..Default::default() };
    let names = |page: cairn_store::CatalogPage| page.items.into_iter().map(|a| a.content.name).collect::<Vec<_>>();

    let all = store.search_catalog(&CatalogQuery { limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(all.total, 4, "published micro-badges and the micro-credential; no drafts, levels or retired entries");
    assert_eq!(names(store.search_catalog(&search("OWASP")).await.unwrap()), ["Secure Coding Essentials: OWASP Top 10"]);
    assert_eq!(names(store.search_catalog(&search("owa")).await.unwrap()), ["Secure Coding Essentials: OWASP Top 10"], "prefix search");
    assert_eq!(names(store.search_catalog(&search("window function")).await.unwrap()), ["Data Analysis with SQL"], "found through a level's criteria");
    assert_eq!(store.search_catalog(&search("\"unbalanced * NEAR( OR")).await.unwrap().total, 0, "syntax is inert");
    assert_eq!(store.search_catalog(&search("zzzznothing")).await.unwrap().total, 0);
    let kind = store.search_catalog(&CatalogQuery { kind: Some(KindFilter::MicroCredential), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(names(kind), ["Data Analysis with SQL"]);
    let free = store.search_catalog(&CatalogQuery { fee: Some(FeeFilter::Free), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(free.total, 2);
    let paid = store.search_catalog(&CatalogQuery { fee: Some(FeeFilter::Paid), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(paid.total, 2);
    let competency = store.search_catalog(&CatalogQuery { competency: Some("15-2051.00".into()), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(names(competency), ["Data Analysis with SQL"]);
    let partial = store.search_catalog(&CatalogQuery { competency: Some("owasp top".into()), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(partial.total, 1);
    let issuer = store.search_catalog(&CatalogQuery { issuer: Some(other_org), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(issuer.total, 0);
    let paged = store.search_catalog(&CatalogQuery { limit: 3, offset: 3, ..Default::default() }).await.unwrap();
    assert_eq!((paged.items.len(), paged.total), (1, 4));
    let mut content = ids[1].content.clone();
    content.name = "Secure Coding: Renamed".into();
    content.description = "Now about quokkas".into();
    store.update_achievement(ids[1].id, &content, EditMode::NewVersion, owner, now()).await.unwrap();
    assert_eq!(names(store.search_catalog(&search("quokkas")).await.unwrap()), ["Secure Coding: Renamed"], "edits are reindexed");
});

#[tokio::test]
async fn migrations_give_both_backends_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let postgres = TestDb::postgres().await;
    let mut sqlite_columns = sqlite.store.schema_columns().await.unwrap();
    let mut postgres_columns = postgres.store.schema_columns().await.unwrap();
    // PostgreSQL keeps the search vector in a column; SQLite keeps it in an FTS5 table.
    postgres_columns.retain(|(table, column)| !(table == "achievements" && column == "search"));
    sqlite_columns.sort();
    postgres_columns.sort();
    assert_eq!(sqlite_columns, postgres_columns);
    sqlite.finish().await;
    postgres.finish().await;
}

/// Differences between the migrated schemas that come from the engines rather than from the
/// migrations, each with its reason. Anything else the comparison finds fails the test, and so
/// does an entry here that no longer occurs.
const DIALECT_DIFFERENCES: &[(&str, &str)] = &[
    ("achievement_search: virtual table only in sqlite", FULL_TEXT),
    ("achievements.search: column only in postgres", FULL_TEXT),
    ("achievements: index achievements_search (search) using gin only in postgres", FULL_TEXT),
];

const FULL_TEXT: &str = "full-text search is an FTS5 virtual table in SQLite (its shadow tables are not compared) and a \
     tsvector column with a GIN index in PostgreSQL; achievements.rs (indexing) and catalog.rs (search) match on the backend";

#[tokio::test]
async fn migrations_give_both_backends_the_same_schema() {
    let sqlite = TestDb::sqlite().await;
    let postgres = TestDb::postgres().await;
    let sqlite_schema = schema::sqlite(&sqlite.url).await;
    let postgres_schema = schema::postgres(&postgres.url).await;
    for (backend, read) in [("sqlite", &sqlite_schema), ("postgres", &postgres_schema)] {
        // The readers see what the comparison relies on, so that agreement is not two empty reads.
        let submissions = &read["submissions"];
        assert_eq!(submissions.primary_key, ["id"], "{backend}");
        assert_eq!(submissions.columns["attempt"].class, schema::Class::Integer, "{backend}");
        assert!(!submissions.columns["status"].nullable && submissions.columns["assessor_id"].nullable, "{backend}");
        let live = schema::Index {
            columns: vec!["learner_id".into(), "achievement_id".into()],
            unique: true,
            name: Some("submissions_live".into()),
            predicate: Some("status<>'withdrawn'andrenewal_ofisnull".into()),
            method: None,
        };
        assert!(submissions.indexes.contains(&live), "{backend}: {:?}", submissions.indexes);
        let alignment_key = schema::ForeignKey {
            columns: vec!["achievement_id".into(), "version".into()],
            table: "achievement_versions".into(),
            references: vec!["achievement_id".into(), "version".into()],
            on_delete: "cascade".into(),
            on_update: "no action".into(),
        };
        assert_eq!(read["achievement_alignments"].foreign_keys, [alignment_key], "{backend}");
        let current = schema::Index {
            columns: vec!["learner_id".into(), "achievement_id".into()],
            unique: true,
            name: Some("awards_current".into()),
            predicate: Some("renewed_byisnull".into()),
            method: None,
        };
        assert!(read["awards"].indexes.contains(&current), "{backend}: {:?}", read["awards"].indexes);
        assert_eq!(read["duplicate_flags"].columns["similarity"].class, schema::Class::Real, "{backend}");
    }
    let found = schema::differences(&sqlite_schema, &postgres_schema);
    let unexpected: Vec<&str> = found.iter().map(String::as_str).filter(|line| !DIALECT_DIFFERENCES.iter().any(|(known, _)| known == line)).collect();
    let stale: Vec<String> = DIALECT_DIFFERENCES
        .iter()
        .filter(|(known, _)| !found.iter().any(|line| line == known))
        .map(|(known, reason)| format!("{known} (listed because {reason})"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "migrations/sqlite and migrations/postgres disagree (add a corrective migration pair; a merged migration is never edited):\n  {}",
        unexpected.join("\n  ")
    );
    assert!(stale.is_empty(), "DIALECT_DIFFERENCES lists differences that no longer occur:\n  {}", stale.join("\n  "));
    sqlite.finish().await;
    postgres.finish().await;
}

/// Columns named `…_key` that hold something other than a blob key.
const NOT_BLOB_KEYS: &[&str] = &["name_key", "idempotency_key"];

backend_test!(every_blob_key_column_is_known_to_the_sweep, |store| {
    // A blob key column the sweep does not know would have its blobs deleted as unreferenced.
    let columns = store.schema_columns().await.unwrap();
    let key_like: Vec<(&str, &str)> = columns
        .iter()
        .filter(|(_, column)| column.ends_with("_key") && !NOT_BLOB_KEYS.contains(&column.as_str()))
        .map(|(t, c)| (t.as_str(), c.as_str()))
        .collect();
    let mut known = cairn_store::BLOB_KEY_COLUMNS.to_vec();
    known.sort();
    let mut key_like = key_like;
    key_like.sort();
    assert_eq!(key_like, known, "add new blob key columns to cairn_store::BLOB_KEY_COLUMNS (or to NOT_BLOB_KEYS)");
});

#[test]
fn schema_differences_are_reported_one_per_line() {
    use schema::{Class, Column, ForeignKey, Index, Schema, Table};
    let column = |class, nullable| Column { class, declared: format!("{class:?}"), nullable };
    let index = |columns: &[&str], unique, name: Option<&str>| Index {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        unique,
        name: name.map(str::to_string),
        predicate: None,
        method: None,
    };
    let key = |on_delete: &str| ForeignKey {
        columns: vec!["user_id".into()],
        table: "users".into(),
        references: vec!["id".into()],
        on_delete: on_delete.into(),
        on_update: "no action".into(),
    };
    let table = |columns: Vec<(&str, Column)>, primary_key: &[&str], indexes: Vec<Index>, foreign_keys: Vec<ForeignKey>| Table {
        virtual_table: false,
        columns: columns.into_iter().map(|(name, column)| (name.to_string(), column)).collect(),
        primary_key: primary_key.iter().map(|c| c.to_string()).collect(),
        indexes,
        foreign_keys,
    };
    let sqlite: Schema = [
        (
            "t".to_string(),
            table(
                vec![("id", column(Class::Text, false)), ("n", column(Class::Integer, true)), ("user_id", column(Class::Text, false))],
                &["id"],
                vec![index(&["n"], false, Some("t_n")), index(&["user_id"], true, None)],
                vec![key("cascade")],
            ),
        ),
        ("only_here".to_string(), Table::default()),
    ]
    .into();
    let postgres: Schema = [(
        "t".to_string(),
        table(
            vec![("id", column(Class::Text, false)), ("n", column(Class::Text, false)), ("extra", column(Class::Blob, true))],
            &["id", "n"],
            vec![index(&["n"], false, Some("t_n")), index(&["n"], false, Some("t_n")), index(&["user_id"], true, Some("t_user"))],
            vec![key("set null")],
        ),
    )]
    .into();
    assert_eq!(
        schema::differences(&sqlite, &postgres),
        [
            "only_here: table only in sqlite",
            "t.extra: column only in postgres",
            "t.n: type sqlite Integer (Integer), postgres Text (Text)",
            "t.n: sqlite nullable, postgres not null",
            "t.user_id: column only in sqlite",
            "t: primary key sqlite (id), postgres (id, n)",
            "t: index t_n (n) only in postgres",
            "t: unique index of a UNIQUE constraint (user_id) only in sqlite",
            "t: unique index t_user (user_id) only in postgres",
            "t: foreign key (user_id) references users (id) on delete cascade on update no action only in sqlite",
            "t: foreign key (user_id) references users (id) on delete set null on update no action only in postgres",
        ]
    );
    assert_eq!(schema::differences(&sqlite, &sqlite), Vec::<String>::new());
}

#[test]
fn index_predicates_compare_without_casts_or_layout() {
    assert_eq!(schema::normalise_predicate("(status <> 'withdrawn'::text)"), "status<>'withdrawn'");
    assert_eq!(schema::normalise_predicate("status <> 'withdrawn'"), "status<>'withdrawn'");
    assert_eq!(schema::normalise_predicate("\"Status\" <> 'withdrawn'::character varying"), "status<>'withdrawn'");
}

#[tokio::test]
async fn an_unreachable_test_server_is_named_with_its_variable() {
    let admin = AdminUrl { url: "postgres://postgres:s3cret@127.0.0.1:1/test?connect_timeout=2".into(), from_variable: false };
    let Err(message) = admin.connect().await else { panic!("connected to port 1") };
    assert!(message.contains("CAIRN_TEST_DATABASE_URL is unset") && message.contains("@127.0.0.1:1/test"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn a_wrong_master_key_cannot_open_signing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
    let store = Store::connect(&url, options(&dir)).await.unwrap();
    let owner = user(&store, "k@example.org").await;
    let id = organisation(&store, "Key Org", owner).await;
    store.close().await;
    let other =
        Store::connect(&url, StoreOptions { master_key: MasterKey::from_bytes([8; 32]), blobs: cairn_store::BlobLocation::Dir(dir.path().join("blobs")) })
            .await
            .unwrap();
    assert!(matches!(other.signing_key(id).await, Err(StoreError::Sealed(_))));
}

backend_test!(the_master_key_is_checked_against_every_sealed_key, |store| {
    assert_eq!(store.check_master_key().await.unwrap(), 0, "nothing sealed yet: any key will do");
    assert_eq!(store.any_signing_organisation().await.unwrap(), None);
    let owner = user(store, "k@example.org").await;
    let first = organisation(store, "First Org", owner).await;
    let second = organisation(store, "Second Org", owner).await;
    assert_eq!(store.check_master_key().await.unwrap(), 2);
    let probe = store.any_signing_organisation().await.unwrap().unwrap();
    assert!([first, second].contains(&probe));
});

#[tokio::test]
async fn a_wrong_master_key_is_refused_by_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
    let store = Store::connect(&url, options(&dir)).await.unwrap();
    let owner = user(&store, "k@example.org").await;
    let id = organisation(&store, "Key Org", owner).await;
    store.close().await;
    let other =
        Store::connect(&url, StoreOptions { master_key: MasterKey::from_bytes([8; 32]), blobs: cairn_store::BlobLocation::Dir(dir.path().join("blobs")) })
            .await
            .unwrap();
    let error = other.check_master_key().await.unwrap_err();
    assert!(matches!(&error, StoreError::Sealed(detail) if detail.contains(&id.to_string())), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_database_is_reported_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let error = Store::connect("postgres://cairn:s3cret@127.0.0.1:1/none?connect_timeout=2", options(&dir)).await.unwrap_err();
    let text = format!("{error}");
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(text.contains("127.0.0.1:1") && !text.contains("s3cret"), "{text}");
}

backend_test!(a_password_reset_works_once_until_it_expires_and_ends_sessions_and_tokens, |store| {
    let id = user(store, "reset@example.org").await;
    let email = Email::parse("reset@example.org").unwrap();
    let mut secret = String::new();
    store
        .create_password_reset(id, &email, now(), Duration::hours(1), |s| {
            secret = s.to_string();
            ("Reset".to_string(), format!("link /reset-password/{s}"))
        })
        .await
        .unwrap();
    let mail = store.outbox(10).await.unwrap().into_iter().find(|m| m.to == "reset@example.org").expect("the mail is queued with the reset");
    assert_eq!(mail.body, format!("link /reset-password/{secret}"));
    assert_eq!(store.password_reset_user(&secret, now()).await.unwrap().map(|u| u.id), Some(id));
    assert_eq!(store.password_reset_user(&secret, now() + Duration::hours(1)).await.unwrap(), None, "expired");
    assert_eq!(store.reset_password(&secret, "new-hash", now() + Duration::hours(1)).await.unwrap(), None, "expired");
    assert_eq!(store.password_reset_user("forged", now()).await.unwrap(), None);

    let session = store.create_session(id, now(), Duration::hours(8)).await.unwrap();
    let (_, token) = store.create_api_token(id, &token("ci", TokenScope::Full, ""), now()).await.unwrap();
    assert_eq!(store.reset_password(&secret, "new-hash", now() + Duration::minutes(5)).await.unwrap(), Some(id));
    assert_eq!(store.password_hash(&email).await.unwrap().unwrap().1, "new-hash");
    assert_eq!(store.session_user(&session.token, now() + Duration::minutes(6), Duration::hours(1)).await.unwrap(), None);
    assert_eq!(store.api_token_user(&token, now() + Duration::minutes(6)).await.unwrap(), None);
    assert_eq!(store.reset_password(&secret, "other-hash", now() + Duration::minutes(6)).await.unwrap(), None, "used");
    assert_eq!(store.password_hash(&email).await.unwrap().unwrap().1, "new-hash");
});

backend_test!(a_password_change_keeps_only_the_session_it_was_made_in, |store| {
    let id = user(store, "change@example.org").await;
    let kept = store.create_session(id, now(), Duration::hours(8)).await.unwrap();
    let other = store.create_session(id, now(), Duration::hours(8)).await.unwrap();
    store.change_password(id, "changed-hash", Some(&kept.token)).await.unwrap();
    assert_eq!(store.session_user(&kept.token, now(), Duration::hours(1)).await.unwrap(), Some(id));
    assert_eq!(store.session_user(&other.token, now(), Duration::hours(1)).await.unwrap(), None);
    assert_eq!(store.password_hash(&Email::parse("change@example.org").unwrap()).await.unwrap().unwrap().1, "changed-hash");
    assert_eq!(store.rename_user(id, "Changed Name").await.unwrap().name, "Changed Name");
    assert!(matches!(store.rename_user(UserId::new(), "X").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.change_password(UserId::new(), "x", None).await, Err(StoreError::NotFound { .. })));
});

backend_test!(certificates_keep_their_rule_components_and_the_agreement_of_other_organisations, |store| {
    use cairn_core::composition::{Credits, Rule};
    let owner = user(store, "owner@example.org").await;
    let partner_owner = user(store, "partner@example.org").await;
    let org = organisation(store, "Home Institute", owner).await;
    let partner = organisation(store, "Partner College", partner_owner).await;
    let own = store.create_achievement(org, &badge("Home Badge"), owner, now()).await.unwrap();
    let foreign = store.create_achievement(partner, &badge("Partner Badge"), partner_owner, now()).await.unwrap();
    let stack = store.create_achievement(org, &micro_credential("Home Stack", ["H1", "H2", "H3"]), owner, now()).await.unwrap();
    assert!(!stack.levels_in_any_order, "levels are taken in order unless the issuer says otherwise");

    let mut fields = demo::certificate(vec![own.id.to_string(), foreign.id.to_string(), stack.id.to_string()]);
    fields.requirements.as_mut().unwrap().rule = Some("min_credits".into());
    fields.requirements.as_mut().unwrap().min_credits = Some(2.5);
    fields.content.credits_available = Some(7.25);
    let certificate = store.create_achievement(org, &NewAchievement::parse(&fields).unwrap(), owner, now()).await.unwrap();
    assert_eq!(certificate.kind, Kind::Certificate);
    assert_eq!(certificate.rule, Some(Rule::MinCredits(Credits(250))));
    assert_eq!(certificate.content.credits, Some(Credits(725)));
    assert_eq!(store.achievement(certificate.id).await.unwrap(), certificate, "read back the same");

    let links = store.components(certificate.id).await.unwrap();
    assert_eq!(links.iter().map(|l| (l.achievement.id, l.agreed)).collect::<Vec<_>>(), [(own.id, true), (foreign.id, false), (stack.id, true)]);
    // A component still waiting for its organisation completes nothing.
    assert_eq!(store.containers_of(own.id).await.unwrap(), [certificate.id]);
    assert!(store.containers_of(foreign.id).await.unwrap().is_empty());
    let level = store.levels(stack.id).await.unwrap().remove(0);
    assert_eq!(store.containers_of(level.id).await.unwrap(), [stack.id], "a level is part of its micro-credential");

    let requests = store.component_requests(partner).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].parent.id, requests[0].child.id, requests[0].parent_organisation.as_str()), (certificate.id, foreign.id, "Home Institute"));
    assert!(store.component_requests(org).await.unwrap().is_empty());
    store.agree_to_component(certificate.id, foreign.id, partner_owner, now()).await.unwrap();
    assert!(matches!(store.agree_to_component(certificate.id, foreign.id, partner_owner, now()).await, Err(StoreError::NotFound { .. })), "once");
    assert!(store.component_requests(partner).await.unwrap().is_empty());
    assert_eq!(store.containers_of(foreign.id).await.unwrap(), [certificate.id]);
    assert!(store.components(certificate.id).await.unwrap().iter().all(|l| l.agreed));

    // The certificate is listed by its kind; an unknown component is refused whole.
    let page = store.search_catalog(&CatalogQuery { kind: Some(KindFilter::Certificate), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 0, "drafts are not in the catalog");
    store.set_achievement_state(certificate.id, State::Published, now()).await.unwrap();
    let page = store.search_catalog(&CatalogQuery { kind: Some(KindFilter::Certificate), limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.iter().map(|a| a.id).collect::<Vec<_>>(), [certificate.id]);
    let mut missing = demo::certificate(vec![own.id.to_string(), cairn_core::ids::AchievementId::new().to_string()]);
    missing.content.name = "Missing Parts".into();
    assert!(matches!(store.create_achievement(org, &NewAchievement::parse(&missing).unwrap(), owner, now()).await, Err(StoreError::NotFound { .. })));
    assert!(store.organisation_achievements(org).await.unwrap().iter().all(|a| a.content.name != "Missing Parts"), "nothing was written");
});

/// Migrates a fresh database at `url` up to `0014` (the files of `migrations/<dialect>` before
/// `0015_renewals.sql`), writes an award with rows that refer to it, then lets `Store::connect`
/// apply the rest: on SQLite, 0015 rebuilds `awards`, and dropping a table with foreign keys
/// enforced deletes what refers to it by cascade. Every row must stay.
async fn renewals_migration_keeps_what_refers_to_awards(url: &str, dialect: &str) {
    use sqlx::{AnyConnection, Connection, Row};
    sqlx::any::install_default_drivers();
    let earlier = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0015" {
            std::fs::copy(&path, earlier.path().join(&name)).unwrap();
        }
    }
    let mut conn = AnyConnection::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(earlier.path()).await.unwrap().run(&mut conn).await.unwrap();
    let (learner, org, badge, award) = (
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
        "00000000-0000-4000-8000-000000000004",
    );
    for sql in [
        format!("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ('{learner}', 'l@example.org', 'Learner', 'x', 1)"),
        format!(
            "INSERT INTO organisations (id, name, name_key, url, description, public_key_multibase, private_key_sealed, created_at, updated_at) \
             VALUES ('{org}', 'Issuer', 'issuer', 'https://issuer.example', '', 'z6Mk', 'sealed', 1, 1)"
        ),
        format!(
            "INSERT INTO achievements (id, organisation_id, kind, state, current_version, name_key, created_at, updated_at) \
             VALUES ('{badge}', '{org}', 'micro-badge', 'published', 1, 'badge', 1, 1)"
        ),
        format!(
            "INSERT INTO achievement_versions (achievement_id, version, name, description, criteria, tags_json, language, validity_months, created_at) \
             VALUES ('{badge}', 1, 'Badge', 'd', 'c', '[]', 'en', 12, 1)"
        ),
        format!(
            "INSERT INTO awards (id, achievement_id, achievement_version, organisation_id, learner_id, issued_at, valid_until, status, status_reason, \
             privacy, evidence_public, status_index, recipient_salt, results_json, credential_json, jwt, ob2_json, png_key, svg_key, created_at, \
             status_reason_public) VALUES ('{award}', '{badge}', 1, '{org}', '{learner}', 10, 20, 'suspended', 'kept', 'public', 1, 7, 'salt', '[]', '{{}}', \
             'j.w.t', '{{}}', 'awards/a.png', 'awards/a.svg', 10, 1)"
        ),
        format!("INSERT INTO expiry_reminders (award_id, days, sent_at) VALUES ('{award}', 90, 11)"),
    ] {
        sqlx::query(&sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn.close().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(url, options(&dir)).await.unwrap();
    let kept = store.award(award.parse().unwrap()).await.unwrap();
    assert_eq!((kept.status_index, kept.status_reason.as_deref(), kept.status_reason_public, kept.evidence_public), (7, Some("kept"), true, true));
    assert_eq!((kept.renews, kept.renewed_by), (None, None));
    assert_eq!(store.awards_of(learner.parse().unwrap()).await.unwrap().len(), 1, "the award is current");
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let reminders: i64 = sqlx::query("SELECT COUNT(*) AS n FROM expiry_reminders").fetch_one(&mut conn).await.unwrap().try_get("n").unwrap();
    assert_eq!(reminders, 1, "the reminder sent for the award is kept");
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn the_renewals_migration_keeps_what_refers_to_awards_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cairn.db").display());
    renewals_migration_keeps_what_refers_to_awards(&url, "sqlite").await;
}

#[tokio::test]
async fn the_renewals_migration_keeps_what_refers_to_awards_postgres() {
    use sqlx::Connection;
    let admin = AdminUrl::from_env();
    let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin.connect().await.unwrap_or_else(|message| panic!("{message}"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let mut url = url::Url::parse(&admin.url).unwrap();
    url.set_path(&format!("/{name}"));
    renewals_migration_keeps_what_refers_to_awards(url.as_str(), "postgres").await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

backend_test!(sign_ins_with_a_provider_are_taken_once_and_link_a_subject_to_one_account, |store| {
    use cairn_store::{NO_PASSWORD, OidcLogin};
    let login = OidcLogin { provider: "uni".into(), nonce: "n-1".into(), verifier: "v-1".into(), next: Some("/account".into()) };
    store.start_oidc_login("state-1", &login, Duration::minutes(10), now()).await.unwrap();
    assert_eq!(store.take_oidc_login("state-2", now()).await.unwrap(), None, "another state");
    assert_eq!(store.take_oidc_login("state-1", now()).await.unwrap(), Some(login.clone()));
    assert_eq!(store.take_oidc_login("state-1", now()).await.unwrap(), None, "taken once");
    store.start_oidc_login("late", &login, Duration::minutes(10), now()).await.unwrap();
    assert_eq!(store.take_oidc_login("late", now() + Duration::minutes(10)).await.unwrap(), None, "expired");
    store.start_oidc_login("abandoned", &login, Duration::minutes(10), now()).await.unwrap();
    assert_eq!(store.sweep_oidc_logins(now() + Duration::minutes(5), Duration::ZERO).await.unwrap(), 0, "not expired yet");
    assert_eq!(store.sweep_oidc_logins(now() + Duration::minutes(11), Duration::ZERO).await.unwrap(), 1);

    // An existing account is linked; the subject then finds it, whatever address comes later.
    let ada = user(store, "ada@example.org").await;
    assert_eq!(store.use_oidc_identity("uni", "sub-ada", "ada@example.org", now()).await.unwrap(), None);
    store.link_oidc_identity("uni", "sub-ada", ada, "ada@example.org", now()).await.unwrap();
    assert!(matches!(
        store.link_oidc_identity("uni", "sub-ada", ada, "ada@example.org", now()).await,
        Err(StoreError::Conflict { constraint: "oidc_identities.subject", .. })
    ));
    let later = now() + Duration::days(3);
    assert_eq!(store.use_oidc_identity("uni", "sub-ada", "ada@new.example.org", later).await.unwrap(), Some(ada));
    assert_eq!(store.use_oidc_identity("work", "sub-ada", "ada@example.org", later).await.unwrap(), None, "another provider's subject");
    let links = store.oidc_identities_of(ada).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!((links[0].email.as_str(), links[0].linked_at, links[0].last_used_at), ("ada@new.example.org", now(), later));

    // A new account without a password, linked in the same transaction.
    let email = Email::parse("grace@example.org").unwrap();
    let grace = store.create_user_with_identity("Grace Hopper", &email, "uni", "sub-grace", now()).await.unwrap();
    assert_eq!(store.password_hash(&email).await.unwrap().unwrap().1, NO_PASSWORD);
    assert_eq!(store.use_oidc_identity("uni", "sub-grace", "grace@example.org", now()).await.unwrap(), Some(grace.id));
    let taken = Email::parse("ada@example.org").unwrap();
    assert!(matches!(
        store.create_user_with_identity("Someone", &taken, "uni", "sub-other", now()).await,
        Err(StoreError::Conflict { constraint: "users.email", .. })
    ));
    assert_eq!(store.use_oidc_identity("uni", "sub-other", "ada@example.org", now()).await.unwrap(), None, "nothing of the failed account stays");

    assert!(store.unlink_oidc_identity(ada, "uni").await.unwrap());
    assert!(!store.unlink_oidc_identity(ada, "uni").await.unwrap());
    assert_eq!(store.use_oidc_identity("uni", "sub-ada", "ada@example.org", now()).await.unwrap(), None);
});
