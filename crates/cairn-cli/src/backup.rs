//! `cairn backup` and `cairn restore`: the database (an online SQLite copy, or `pg_dump`'s custom
//! format for PostgreSQL) and every blob, into a directory with a manifest; and back into an
//! empty database and blob store, after which every award is verified.
//!
//! The master key is never part of a backup: it is kept apart from the data it protects, and a
//! restore needs it (`CAIRN_MASTER_KEY`, or the data directory's `master.key`).
//!
//! ```text
//! BACKUP/manifest.json    what, when, from which version, digests
//! BACKUP/cairn.db         SQLite (VACUUM INTO), or
//! BACKUP/cairn.pgdump     PostgreSQL (pg_dump --format=custom)
//! BACKUP/blobs/<key>      every blob, named by its key
//! ```

use anyhow::{Context as _, bail, ensure};
use cairn_store::{Backend, BlobLocation, Blobs, Store, StoreOptions, redact_url};
use clap::Args;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::MasterKeySource;
use crate::config::FileConfig;

/// The manifest's format.
const FORMAT: u32 = 1;

/// Where the data is: as for `cairn serve` (flags, `CAIRN_*` variables, then `cairn.toml`).
#[derive(Debug, Args)]
pub struct Location {
    /// Data directory (SQLite database, blobs, master key file; default ./data).
    #[arg(long = "data", env = "CAIRN_DATA")]
    data: Option<PathBuf>,
    /// Database URL (default: the SQLite database in the data directory).
    #[arg(long, env = "CAIRN_DATABASE_URL")]
    database_url: Option<String>,
    /// Blob store: s3://BUCKET[/PREFIX] with the AWS_* variables, or a directory (default DATA/blobs).
    #[arg(long, env = "CAIRN_BLOB_STORE")]
    blob_store: Option<String>,
}

/// A [`Location`] with the file's settings filled in.
struct Resolved {
    data: PathBuf,
    database_url: String,
    blobs: BlobLocation,
}

impl Location {
    fn resolve(&self, file: &FileConfig) -> anyhow::Result<Resolved> {
        let data = self.data.clone().or(file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = self.database_url.clone().or(file.database_url.clone()).unwrap_or_else(|| format!("sqlite://{}", data.join("cairn.db").display()));
        let blobs = match self.blob_store.clone().or(file.blob_store.clone()) {
            Some(spec) => BlobLocation::parse(&spec)?,
            None => BlobLocation::Dir(data.join("blobs")),
        };
        Ok(Resolved { data, database_url, blobs })
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    from: Location,
    /// The directory to write (created; it must not exist or be empty).
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    to: Location,
    /// The public URL the installation is served at, which its credentials name (as for
    /// `cairn serve`; default http://127.0.0.1:8080).
    #[arg(long, env = "CAIRN_PUBLIC_URL")]
    public_url: Option<String>,
    /// The directory `cairn backup` wrote.
    from: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    cairn_version: String,
    created_at: String,
    /// `sqlite` or `postgres`.
    database: String,
    /// The database file in the backup, and its SHA-256.
    database_file: String,
    database_sha256: String,
    blobs: u64,
    blob_bytes: u64,
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Runs `program` with `args`, failing with its error output.
fn run_tool(program: &str, args: &[&str], what: &str) -> anyhow::Result<()> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|e| anyhow::anyhow!("{what} needs {program} (PostgreSQL's client tools, the same major version as the server or newer): {e}"))?;
    if !output.status.success() {
        bail!("{what}: {program} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

pub async fn backup(args: BackupArgs, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let from = args.from.resolve(file)?;
    let out = &args.out;
    if out.exists() {
        ensure!(out.is_dir() && std::fs::read_dir(out)?.next().is_none(), "{} exists and is not an empty directory", out.display());
    }
    std::fs::create_dir_all(out.join("blobs")).with_context(|| format!("cannot create {}", out.display()))?;
    let url = from.database_url.clone();
    let backend = Backend::from_url(&url)?;
    let blobs = Blobs::open(&from.blobs)?;
    blobs.check().await.context("the blob store cannot be read")?;
    // The database first: every blob a row of the copy refers to was written before the row, so
    // it is in the store when the blobs are copied next.
    let database_file = match backend {
        Backend::Sqlite => {
            // Only reads: the store is opened for its connection, with the data's own master key
            // source, though nothing sealed is opened.
            let master = MasterKeySource::resolve(&from.data)?;
            let store = Store::connect(&url, StoreOptions { master_key: master.key.clone(), blobs: from.blobs.clone() }).await?;
            store.backup_sqlite(&out.join("cairn.db")).await.context("copying the SQLite database")?;
            store.close().await;
            "cairn.db"
        }
        Backend::Postgres => {
            let file = out.join("cairn.pgdump");
            let file_text = file.to_str().context("the backup path is not UTF-8")?;
            run_tool("pg_dump", &["--format=custom", "--no-owner", "--no-privileges", "--file", file_text, "--dbname", &url], "backing up PostgreSQL")?;
            "cairn.pgdump"
        }
    };
    eprintln!("database ({}) copied to {}", redact_url(&url), out.join(database_file).display());
    let mut count = 0u64;
    let mut bytes = 0u64;
    for info in blobs.list().await? {
        let content = match blobs.get(&info.key).await {
            Ok(content) => content,
            // Swept since it was listed: nothing the copied database refers to.
            Err(cairn_store::StoreError::NotFound { .. }) => continue,
            Err(error) => return Err(error).context(format!("reading blob {}", info.key)),
        };
        let target = safe_join(&out.join("blobs"), &info.key)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &content).with_context(|| format!("cannot write {}", target.display()))?;
        count += 1;
        bytes += content.len() as u64;
    }
    let manifest = Manifest {
        format: FORMAT,
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: cairn_app::timestamp(time::OffsetDateTime::now_utc()),
        database: backend.as_str().to_string(),
        database_file: database_file.to_string(),
        database_sha256: sha256_file(&out.join(database_file))?,
        blobs: count,
        blob_bytes: bytes,
    };
    std::fs::write(out.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    println!(
        "Backed up the {} database and {count} blobs ({bytes} bytes) to {}. The master key is not part of it: keep it apart.",
        manifest.database,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `dir/key`, refusing keys that would leave `dir`.
fn safe_join(dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    ensure!(!key.is_empty() && key.split('/').all(|part| !part.is_empty() && part != "." && part != ".."), "blob key \"{key}\" is not a plain path");
    Ok(dir.join(key))
}

/// Every file under `dir`, as keys relative to it.
fn blob_files(dir: &Path, prefix: &str, into: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().into_string().map_err(|name| anyhow::anyhow!("{name:?} is not a blob name"))?;
        let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if entry.file_type()?.is_dir() {
            blob_files(&entry.path(), &key, into)?;
        } else {
            into.push((key, entry.path()));
        }
    }
    Ok(())
}

pub async fn restore(args: RestoreArgs, file_config: &FileConfig) -> anyhow::Result<ExitCode> {
    let to = args.to.resolve(file_config)?;
    let public_url = match args.public_url.clone().or(file_config.public_url.clone()) {
        Some(text) => url::Url::parse(&text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("public URL \"{text}\" is not an http(s) URL"))?,
        None => url::Url::parse("http://127.0.0.1:8080/")?,
    };
    let from = &args.from;
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join("manifest.json")).with_context(|| format!("{} is not a backup: it has no manifest.json", from.display()))?,
    )
    .context("manifest.json does not parse")?;
    ensure!(manifest.format == FORMAT, "the backup's format {} is not {FORMAT}, which this version reads", manifest.format);
    let file = from.join(&manifest.database_file);
    ensure!(sha256_file(&file)? == manifest.database_sha256, "{} does not match its digest in the manifest: the backup is damaged", file.display());
    let url = to.database_url.clone();
    let backend = Backend::from_url(&url)?;
    ensure!(
        backend.as_str() == manifest.database,
        "the backup holds a {} database; restore it into {} (a database of the same kind)",
        manifest.database,
        manifest.database
    );
    std::fs::create_dir_all(&to.data).with_context(|| format!("cannot create {}", to.data.display()))?;
    match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = Path::new(path.split('?').next().unwrap_or(path));
            ensure!(
                !path.exists() || std::fs::metadata(path)?.len() == 0,
                "{} exists: a restore goes only into a new database (move it away first)",
                path.display()
            );
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&file, path).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Backend::Postgres => {
            ensure!(
                cairn_store::database_is_empty(&url).await?,
                "the database {} is not empty: a restore goes only into a new database (createdb a new one)",
                redact_url(&url)
            );
            let file_text = file.to_str().context("the backup path is not UTF-8")?;
            run_tool(
                "pg_restore",
                &["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", &url, file_text],
                "restoring PostgreSQL",
            )?;
        }
    }
    eprintln!("database restored into {}", redact_url(&url));
    let location = to.blobs.clone();
    let blobs = Blobs::open(&location)?;
    blobs.check().await.with_context(|| format!("the blob store {} cannot be used", location.describe()))?;
    let mut files = Vec::new();
    let blob_dir = from.join("blobs");
    if blob_dir.exists() {
        blob_files(&blob_dir, "", &mut files)?;
    }
    ensure!(files.len() as u64 == manifest.blobs, "the backup lists {} blobs but holds {}: it is incomplete", manifest.blobs, files.len());
    for (key, path) in &files {
        blobs.put_key(key, std::fs::read(path)?).await.with_context(|| format!("restoring blob {key}"))?;
    }
    eprintln!("{} blobs restored into {}", files.len(), location.describe());
    let master = MasterKeySource::resolve(&to.data)?;
    let store = Store::connect(&url, StoreOptions { master_key: master.key.clone(), blobs: location }).await?;
    master.check(&store).await?;
    let mut config = cairn_app::Config::for_addr("127.0.0.1:8080".parse()?, to.data.clone());
    config.public_url = public_url;
    let app = cairn_app::App::new(store.clone(), config);
    let audit = cairn_app::verification::audit_awards(&app, |n| {
        if n > 0 {
            eprintln!("{n} awards verified");
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.close().await;
    if audit.problems.is_empty() {
        println!("Restored the {} database and {} blobs; all {} awards verify as recorded.", manifest.database, files.len(), audit.checked);
        Ok(ExitCode::SUCCESS)
    } else {
        for (award, problem) in &audit.problems {
            eprintln!("award {award}: {problem}");
        }
        println!("Restored, but {} of {} awards do not verify as recorded (listed above).", audit.problems.len(), audit.checked);
        Ok(ExitCode::from(1))
    }
}
