//! `cairn backup` and `cairn restore` with the real binary: a platform seeded by `cairn synthetic`
//! (issuers, learners, awards of every status with their baked images) is backed up, restored
//! into a new database and blob store, and every award verifies afterwards; damaged backups,
//! occupied targets and a missing master key are refused by name. On SQLite (an online copy) and
//! on PostgreSQL (through pg_dump and pg_restore).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PUBLIC_URL: &str = "http://badges.restore.test";
const AWARDS: u32 = 90;

fn cairn(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command.env("CAIRN_LOG", "warn").env_remove("CAIRN_DATABASE_URL").env_remove("CAIRN_MASTER_KEY").env_remove("CAIRN_BLOB_STORE").env_remove("CAIRN_CONFIG");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("status {}\nstdout: {}\nstderr: {}", output.status, String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Seeds `data` (and `database_url`, when given) with a small synthetic platform.
fn seed(data: &Path, database_url: Option<&str>) {
    let data_text = data.to_str().unwrap();
    let awards = AWARDS.to_string();
    let mut args =
        vec!["synthetic", "--data", data_text, "--public-url", PUBLIC_URL, "--learners", "40", "--awards", &awards, "--issuers", "2", "--employers", "1"];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let seeded = cairn(&args, &[]);
    assert!(seeded.status.success(), "{}", text(&seeded));
}

fn master_key(data: &Path) -> String {
    std::fs::read_to_string(data.join("master.key")).unwrap().trim().to_string()
}

fn blob_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    files
}

/// Restores `backup` into the data directory `data` (and `database_url`) with `key`, returning
/// the command's output.
fn restore(backup: &Path, data: &Path, database_url: Option<&str>, key: &str) -> Output {
    let mut args = vec!["restore", "--data", data.to_str().unwrap(), "--public-url", PUBLIC_URL];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    args.push(backup.to_str().unwrap());
    cairn(&args, &[("CAIRN_MASTER_KEY", key)])
}

fn verified_line() -> String {
    format!("all {AWARDS} awards verify as recorded")
}

#[test]
fn an_sqlite_backup_restores_and_every_award_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (data, backup) = (dir.path().join("data"), dir.path().join("backup"));
    seed(&data, None);
    let key = master_key(&data);

    let made = cairn(&["backup", "--data", data.to_str().unwrap(), backup.to_str().unwrap()], &[]);
    assert!(made.status.success(), "{}", text(&made));
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["database"].as_str(), manifest["database_file"].as_str()), (Some("sqlite"), Some("cairn.db")));
    let blobs = blob_files(&backup.join("blobs"));
    assert!(!blobs.is_empty() && manifest["blobs"] == blobs.len(), "{manifest}");
    assert!(!backup.join("master.key").exists() && !blob_files(&backup).iter().any(|f| f.ends_with("master.key")), "the master key stays out");
    let again = cairn(&["backup", "--data", data.to_str().unwrap(), backup.to_str().unwrap()], &[]);
    assert!(!again.status.success() && text(&again).contains("is not an empty directory"), "{}", text(&again));

    // Restored into a new data directory: every award verifies, images included.
    let restored = dir.path().join("restored");
    let output = restore(&backup, &restored, None, &key);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(&verified_line()), "{}", text(&output));
    assert_eq!(blob_files(&restored.join("blobs")).len(), blobs.len());

    // A restore never overwrites a database.
    let twice = restore(&backup, &restored, None, &key);
    assert!(!twice.status.success() && text(&twice).contains("a restore goes only into a new database"), "{}", text(&twice));

    // Without the master key the sealed issuer keys cannot be opened, and the restore says so.
    let keyless = dir.path().join("keyless");
    let output = cairn(&["restore", "--data", keyless.to_str().unwrap(), "--public-url", PUBLIC_URL, backup.to_str().unwrap()], &[]);
    assert!(!output.status.success() && text(&output).contains("master key"), "{}", text(&output));

    // A database file that does not match the manifest's digest is refused before anything is written.
    let damaged = dir.path().join("damaged");
    copy_dir(&backup, &damaged);
    let mut db = std::fs::read(damaged.join("cairn.db")).unwrap();
    let last = db.len() - 1;
    db[last] ^= 0xff;
    std::fs::write(damaged.join("cairn.db"), db).unwrap();
    let output = restore(&damaged, &dir.path().join("from-damaged"), None, &key);
    assert!(!output.status.success() && text(&output).contains("does not match its digest"), "{}", text(&output));
    assert!(!dir.path().join("from-damaged/cairn.db").exists());

    // A missing blob, and a blob whose content is not what its name says, are refused.
    let missing = dir.path().join("missing");
    copy_dir(&backup, &missing);
    let first = blob_files(&missing.join("blobs")).remove(0);
    std::fs::remove_file(&first).unwrap();
    let output = restore(&missing, &dir.path().join("from-missing"), None, &key);
    assert!(!output.status.success() && text(&output).contains("it is incomplete"), "{}", text(&output));
    let swapped = dir.path().join("swapped");
    copy_dir(&backup, &swapped);
    let first = blob_files(&swapped.join("blobs")).remove(0);
    std::fs::write(&first, b"not the original content").unwrap();
    let output = restore(&swapped, &dir.path().join("from-swapped"), None, &key);
    assert!(!output.status.success() && text(&output).contains("does not hold the content its name's digest says"), "{}", text(&output));
}

fn copy_dir(from: &Path, to: &Path) {
    for file in blob_files(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// A fresh PostgreSQL database on `CAIRN_TEST_DATABASE_URL` (default the local `test`), dropped
/// when the guard goes.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(tag: &str) -> Database {
        let admin = std::env::var("CAIRN_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("cairn_backup_{tag}_{}_{nanos}", std::process::id());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Database { admin, name, url: url.to_string() }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn psql(url: &str, sql: &str) {
    let output = Command::new("psql").args([url, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql]).output().expect("psql (PostgreSQL's client) is installed");
    assert!(output.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_postgres_backup_goes_through_pg_dump_and_restores_into_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (Database::create("from"), Database::create("to"));
    let (data, backup) = (dir.path().join("data"), dir.path().join("backup"));
    seed(&data, Some(&source.url));
    let key = master_key(&data);

    let made = cairn(&["backup", "--data", data.to_str().unwrap(), "--database-url", &source.url, backup.to_str().unwrap()], &[]);
    assert!(made.status.success(), "{}", text(&made));
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["database"].as_str(), manifest["database_file"].as_str()), (Some("postgres"), Some("cairn.pgdump")));
    assert!(std::fs::read(backup.join("cairn.pgdump")).unwrap().starts_with(b"PGDMP"), "pg_dump's custom format");

    let restored = dir.path().join("restored");
    let output = restore(&backup, &restored, Some(&target.url), &key);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(&verified_line()), "{}", text(&output));

    // The target now holds data: a second restore is refused, and an SQLite backup cannot go
    // into PostgreSQL.
    let twice = restore(&backup, &dir.path().join("twice"), Some(&target.url), &key);
    assert!(!twice.status.success() && text(&twice).contains("is not empty"), "{}", text(&twice));
    let sqlite_url = format!("sqlite://{}", dir.path().join("other.db").display());
    let crossed = restore(&backup, &dir.path().join("crossed"), Some(&sqlite_url), &key);
    assert!(!crossed.status.success() && text(&crossed).contains("a database of the same kind"), "{}", text(&crossed));
}
