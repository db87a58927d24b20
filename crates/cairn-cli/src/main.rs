//! The `cairn` command: `cairn serve` runs the platform; later verbs add the credential toolkit.

use anyhow::Context as _;
use cairn_app::{App, Config};
use cairn_server::AppState;
use cairn_store::{MasterKey, Store, StoreOptions, redact_url};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

mod award_cmd;
mod backup;
mod bench;
mod config;
mod toolkit;
mod verify_cmd;

use config::FileConfig;

/// Cairn: micro-credentials assessed against public rubrics, issued as Open Badges.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
struct Cli {
    /// Configuration file (default: ./cairn.toml when present).
    #[arg(long, global = true, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "CAIRN_LOG_FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web platform (pages, JSON API, DID documents).
    Serve(ServeArgs),
    /// Manage issuer keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign a credential with a key file: a Data Integrity proof (eddsa-rdfc-2022) or a VC-JWT.
    Sign {
        /// Key file from `cairn keys new`.
        #[arg(long)]
        key: PathBuf,
        /// di (Data Integrity proof) or jwt (VC-JWT).
        #[arg(long, value_enum)]
        format: toolkit::SignFormat,
        /// Where to write the result (default: standard output).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The proof's created time (default: now), e.g. 2026-01-01T00:00:00Z.
        #[arg(long)]
        created: Option<String>,
        /// The unsigned credential (JSON), or - for standard input.
        input: PathBuf,
    },
    /// Embed a credential (JSON, JWT, or an OB 2.0 assertion URL) into a PNG or SVG badge image.
    Bake {
        /// The PNG or SVG image.
        image: PathBuf,
        /// The credential file.
        credential: PathBuf,
        /// Where to write the baked image.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Verify any Open Badge: OB 3.0 (JSON or JWT), CLR 2.0, OB 2.0, baked PNG/SVG, or a URL.
    /// Exit status: 0 valid, 1 invalid, 2 could not check.
    Verify(verify_cmd::VerifyArgs),
    /// Send a CSV file of direct awards (columns email, name, achievement_id, and optionally
    /// narrative, evidence_url) to a Cairn server and follow it to the end with a progress bar.
    /// Exit status: 0 every row awarded or skipped, 1 an error, 2 some rows failed.
    Award(award_cmd::AwardArgs),
    /// Measure signing and verification throughput (per second, one core and all cores).
    Bench {
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
        /// Seconds to measure each figure.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// Seed an empty database with a large synthetic platform for benchmarks: issuers,
    /// catalogs, assessors, employers, learners, submissions and signed awards.
    Synthetic(SyntheticArgs),
    /// Copy the database and every blob into a directory: SQLite online, PostgreSQL with pg_dump.
    /// The master key is not copied: keep it apart.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database and blob store, then verify every award.
    /// Exit status: 0 restored and every award verifies, 1 otherwise.
    Restore(backup::RestoreArgs),
    /// Print the credential baked into a PNG or SVG image.
    Unbake {
        /// The baked image, or - for standard input.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create an Ed25519 key file; print its DID document.
    New {
        /// Control the key by did:web:HOST instead of did:key.
        #[arg(long)]
        did_web: Option<String>,
        /// Where to write the key file (created with mode 0600; never overwritten).
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Seed the demo issuer, catalog and accounts (idempotent).
    #[arg(long, env = "CAIRN_DEMO")]
    demo: bool,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "CAIRN_ADDR")]
    addr: Option<String>,
    /// Data directory (SQLite database, blobs, master key file).
    #[arg(long = "data", env = "CAIRN_DATA")]
    data: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, env = "CAIRN_DATABASE_URL")]
    database_url: Option<String>,
    /// Public base URL of this server (default http://ADDR).
    #[arg(long, env = "CAIRN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Where blobs (images, evidence, baked badges) live: s3://BUCKET[/PREFIX], with the AWS_*
    /// variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ALLOW_HTTP), or a directory (default DATA/blobs).
    #[arg(long, env = "CAIRN_BLOB_STORE")]
    blob_store: Option<String>,
}

#[derive(Debug, Args)]
struct SyntheticArgs {
    /// Data directory (SQLite database, blobs, master key file), as for `serve`.
    #[arg(long = "data", env = "CAIRN_DATA")]
    data: PathBuf,
    /// Database URL (default: the SQLite database in the data directory).
    #[arg(long, env = "CAIRN_DATABASE_URL")]
    database_url: Option<String>,
    /// The public base URL the platform will be served at: credentials name it.
    #[arg(long, env = "CAIRN_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    public_url: String,
    /// Learner accounts.
    #[arg(long, default_value_t = 100_000)]
    learners: u32,
    /// Awards, in all.
    #[arg(long, default_value_t = 1_000_000)]
    awards: u64,
    /// Issuing organisations (default: one per 5,000 awards, at least 5).
    #[arg(long)]
    issuers: Option<u32>,
    /// Employer organisations.
    #[arg(long, default_value_t = 20)]
    employers: u32,
    /// Seed of the random generator: the same seed gives the same platform.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Verification runs without the async runtime: its HTTP fetches are blocking calls made from
    // inside the synchronous pipeline.
    if let Command::Verify(args) = &cli.command {
        return match verify_cmd::run(args) {
            Ok(code) => ExitCode::from(code),
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        };
    }
    // So does sending awards: a few blocking HTTP calls.
    if let Command::Award(args) = &cli.command {
        return match award_cmd::run(args) {
            Ok(code) => ExitCode::from(code),
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(1)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = match &cli.config {
        Some(path) => FileConfig::load(path, true)?,
        None => FileConfig::load(std::path::Path::new("cairn.toml"), false)?,
    };
    let log_format = cli.log_format.clone().or(file.log_format.clone()).unwrap_or_else(|| "text".into());
    // Bulk loading runs statements that sqlx would log as slow, with all their text.
    init_logging(&log_format, matches!(cli.command, Command::Synthetic(_)))?;
    match cli.command {
        Command::Serve(args) => serve(args, file).await,
        Command::Keys(KeysCommand::New { did_web, out }) => {
            toolkit::keys_new(did_web.as_deref(), &out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign { key, format, out, created, input } => {
            toolkit::sign(&key, format, &input, out.as_deref(), created.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bake { image, credential, out } => {
            toolkit::bake_command(&image, &credential, &out)?;
            Ok(ExitCode::SUCCESS)
        }
        // Both run before the runtime starts (see `main`).
        Command::Verify(_) | Command::Award(_) => Ok(ExitCode::from(2)),
        Command::Bench { json, seconds } => {
            bench::run(seconds, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Synthetic(args) => synthetic(args).await,
        Command::Backup(args) => backup::backup(args, &file).await,
        Command::Restore(args) => backup::restore(args, &file).await,
        Command::Unbake { file } => {
            if toolkit::unbake_command(&file)? {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{}: the image carries no badge", file.display());
                Ok(ExitCode::from(1))
            }
        }
    }
}

fn init_logging(format: &str, bulk: bool) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let default = if bulk { "info,sqlx=error" } else { "info,sqlx=warn,tower_http=info" };
    let filter = EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        "text" => builder.init(),
        "json" => builder.json().init(),
        other => anyhow::bail!("log format \"{other}\" is not text or json"),
    }
    Ok(())
}

/// Where a setting's effective value came from, for the start-up log.
fn source<T>(flag_or_env: &Option<T>, file: &Option<T>) -> &'static str {
    if flag_or_env.is_some() {
        "flag/env"
    } else if file.is_some() {
        "cairn.toml"
    } else {
        "default"
    }
}

async fn synthetic(args: SyntheticArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data).with_context(|| format!("cannot create the data directory {}", args.data.display()))?;
    let database_url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", args.data.join("cairn.db").display()));
    let public_url = url::Url::parse(&args.public_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .with_context(|| format!("public URL \"{}\" is not an http(s) URL", args.public_url))?;
    anyhow::ensure!(args.learners >= 1 && args.awards >= 1, "there must be at least one learner and one award");
    anyhow::ensure!(args.employers <= 1_000, "at most 1000 employers");
    let mut config = Config::for_addr("127.0.0.1:8080".parse()?, args.data.clone());
    config.public_url = public_url;
    let master_key = MasterKeySource::resolve(&args.data)?;
    let blobs = cairn_store::BlobLocation::Dir(args.data.join("blobs"));
    let store = Store::connect(&database_url, StoreOptions { master_key: master_key.key.clone(), blobs }).await?;
    master_key.check(&store).await?;
    let app = App::new(store.clone(), config);
    let options = cairn_app::synthetic::SyntheticOptions {
        learners: args.learners,
        awards: args.awards,
        issuers: args.issuers,
        employers: args.employers,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    eprintln!("seeding {} learners and {} awards into {} ({})", args.learners, args.awards, redact_url(&database_url), store.backend().as_str());
    let shown = std::sync::atomic::AtomicU64::new(0);
    let report = cairn_app::synthetic::seed(&app, &options, |p| {
        let percent = p.learners * 100 / p.learners_total.max(1);
        if percent >= shown.load(std::sync::atomic::Ordering::Relaxed) + 5 || p.learners == p.learners_total {
            shown.store(percent, std::sync::atomic::Ordering::Relaxed);
            eprintln!("{percent:>3} %  {} learners, {} awards, {:.0} s", p.learners, p.awards, started.elapsed().as_secs_f64());
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.close().await;
    println!(
        "Seeded {} issuers ({} achievements), {} employers, {} learners ({} discoverable), {} submissions and {} awards in {:.0} s.",
        report.issuers,
        report.achievements,
        report.employers,
        report.learners,
        report.discoverable,
        report.submissions,
        report.awards,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Largest issuer {} (owner {}), employer owner {}; every account's password is \"{}\".",
        report.issuer, report.issuer_owner, report.employer_owner, report.password
    );
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs, file: FileConfig) -> anyhow::Result<ExitCode> {
    let addr_text = args.addr.clone().or(file.addr.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let addr: SocketAddr = addr_text.parse().with_context(|| format!("address \"{addr_text}\" is not HOST:PORT, e.g. 127.0.0.1:8080"))?;
    let data_dir = args.data.clone().or(file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("data"));
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let database_url = args.database_url.clone().or(file.database_url.clone()).unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cairn.db").display()));
    let mut config = Config::for_addr(addr, data_dir.clone());
    if let Some(url) = args.public_url.clone().or(file.public_url.clone()) {
        config.public_url = url::Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("public URL \"{url}\" is not an http(s) URL"))?;
    }
    if let Some(bytes) = file.max_upload_bytes {
        anyhow::ensure!((1024..=64 * 1024 * 1024).contains(&bytes), "max_upload_bytes {bytes} is not between 1024 and 67108864");
        config.max_upload_bytes = bytes;
    }
    if let Some(hours) = file.session_hours {
        anyhow::ensure!((1..=24 * 365).contains(&hours), "session_hours {hours} is not between 1 and 8760");
        config.session_hours = hours;
    }
    if let Some(hours) = file.session_idle_hours {
        anyhow::ensure!((1..=24 * 365).contains(&hours), "session_idle_hours {hours} is not between 1 and 8760");
        config.session_idle_hours = hours;
    }
    if let Some(count) = file.hashing_concurrency {
        anyhow::ensure!((1..=1024).contains(&count), "hashing_concurrency {count} is not between 1 and 1024");
        config.hashing_concurrency = count;
    }
    if let Some(count) = file.login_failures_per_account {
        anyhow::ensure!((1..=1000).contains(&count), "login_failures_per_account {count} is not between 1 and 1000");
        config.login_failures_per_account = count;
    }
    if let Some(count) = file.login_failures_per_address {
        anyhow::ensure!((1..=100_000).contains(&count), "login_failures_per_address {count} is not between 1 and 100000");
        config.login_failures_per_address = count;
    }
    if let Some(minutes) = file.login_throttle_minutes {
        anyhow::ensure!((1..=24 * 60).contains(&minutes), "login_throttle_minutes {minutes} is not between 1 and 1440");
        config.login_throttle_minutes = minutes;
    }
    if let Some(name) = file.client_address_header.clone() {
        let name = name.trim().to_ascii_lowercase();
        anyhow::ensure!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "client_address_header \"{name}\" is not a header name such as x-forwarded-for"
        );
        config.client_address_header = Some(name);
    }
    if let Some(url) = std::env::var("CAIRN_SMTP_URL").ok().filter(|u| !u.trim().is_empty()).or(file.smtp_url.clone()) {
        anyhow::ensure!(
            url.starts_with("smtp://") || url.starts_with("smtps://"),
            "smtp_url \"{}\" is neither smtp://HOST:PORT nor smtps://HOST:PORT",
            redact_url(&url)
        );
        config.smtp_url = Some(url);
    }
    if let Some(from) = file.mail_from.clone() {
        anyhow::ensure!(cairn_app::jobs::valid_mailbox(&from), "mail_from \"{from}\" is not an address like \"Cairn <badges@example.org>\"");
        config.mail_from = from;
    }
    if let Some(seconds) = file.job_interval_secs {
        anyhow::ensure!((1..=86_400).contains(&seconds), "job_interval_secs {seconds} is not between 1 and 86400");
        config.job_interval_secs = seconds;
    }
    let demo = args.demo || file.demo.unwrap_or(false);
    let operators: Vec<String> = match std::env::var("CAIRN_OPERATORS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect(),
        _ => file.operators.clone().unwrap_or_default().iter().map(|s| s.trim().to_lowercase()).collect(),
    };
    for operator in &operators {
        anyhow::ensure!(cairn_core::account::Email::parse(operator).is_ok(), "operator \"{operator}\" is not an e-mail address");
    }
    config.operators = operators;
    config.verify_allow_hosts = allow_hosts("verify_allow_hosts", "CAIRN_VERIFY_ALLOW_HOSTS", file.verify_allow_hosts.as_deref())?;
    config.webhook_allow_hosts = allow_hosts("webhook_allow_hosts", "CAIRN_WEBHOOK_ALLOW_HOSTS", file.webhook_allow_hosts.as_deref())?;
    for (name, value, slot) in [("terms_url", &file.terms_url, &mut config.terms_url), ("privacy_url", &file.privacy_url, &mut config.privacy_url)] {
        if let Some(raw) = value {
            let url = url::Url::parse(raw.trim()).map_err(|e| anyhow::anyhow!("{name} \"{raw}\" is not an absolute URL: {e}"))?;
            anyhow::ensure!(matches!(url.scheme(), "https" | "http"), "{name} \"{raw}\" is not an http or https address");
            *slot = Some(url);
        }
    }
    if let Some(raw) = std::env::var("CAIRN_STRIPE_API_BASE").ok().filter(|u| !u.trim().is_empty()).or(file.stripe_api_base.clone()) {
        let url = url::Url::parse(raw.trim()).map_err(|e| anyhow::anyhow!("stripe_api_base \"{raw}\" is not an absolute URL: {e}"))?;
        anyhow::ensure!(
            url.scheme() == "https" || (url.scheme() == "http" && url.host_str().is_some_and(cairn_app::fetch::is_loopback)),
            "stripe_api_base \"{raw}\" is neither an https address nor an http one on this machine"
        );
        config.stripe_api_base = url;
    }
    config.oidc_providers = oidc_providers(file.oidc_providers.as_deref().unwrap_or_default())?;
    if let Some(token) = std::env::var("CAIRN_METRICS_TOKEN").ok().filter(|t| !t.is_empty()).or(file.metrics_token.clone()) {
        anyhow::ensure!(token.len() >= 16, "the metrics token must be at least 16 characters");
        config.metrics_token_digest = Some(cairn_app::metrics::token_digest(&token));
    }
    let blobs = match args.blob_store.clone().or(file.blob_store.clone()) {
        Some(spec) => cairn_store::BlobLocation::parse(&spec)?,
        None => cairn_store::BlobLocation::Dir(data_dir.join("blobs")),
    };
    if demo {
        // The demo issuer runs the demo installation.
        config.operators.push(cairn_core::demo::ACCOUNTS[0].email.to_string());
    }
    let master_key = MasterKeySource::resolve(&data_dir)?;
    let key_source = master_key.describe();
    tracing::info!(
        addr = %addr, addr_source = source(&args.addr, &file.addr),
        data_dir = %data_dir.display(), data_source = source(&args.data, &file.data_dir),
        database = %redact_url(&database_url), database_source = source(&args.database_url, &file.database_url),
        public_url = %config.public_url, master_key = "***", master_key_source = %key_source, demo,
        "starting cairn"
    );
    tracing::info!(
        hashing_concurrency = config.hashing_concurrency,
        session_hours = config.session_hours,
        session_idle_hours = config.session_idle_hours,
        login_failures_per_account = config.login_failures_per_account,
        login_failures_per_address = config.login_failures_per_address,
        login_throttle_minutes = config.login_throttle_minutes,
        client_address_header = config.client_address_header.as_deref().unwrap_or("(none: the peer address)"),
        "sign-in settings"
    );
    tracing::info!(verify_allow_hosts = ?config.verify_allow_hosts, "verify by URL fetches from public addresses and these hosts");
    tracing::info!(webhook_allow_hosts = ?config.webhook_allow_hosts, "webhooks are sent to public addresses and these hosts");
    for provider in &config.oidc_providers {
        tracing::info!(id = %provider.id, issuer = %provider.issuer, client_id = %provider.client_id, "sign-in provider");
    }
    let instance = std::env::var("CAIRN_INSTANCE")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or(file.instance.clone())
        .unwrap_or_else(|| format!("{}:{}", host_name(), addr.port()));
    anyhow::ensure!(
        instance.len() <= 100 && instance.chars().all(|c| c.is_ascii_graphic()),
        "instance name \"{instance}\" must be at most 100 visible ASCII characters"
    );
    tracing::info!(
        blob_store = %blobs.describe(), blob_store_source = source(&args.blob_store, &file.blob_store), instance = %instance,
        metrics_token = config.metrics_token_digest.is_some(), "storage and instance"
    );
    let store = Store::connect(&database_url, StoreOptions { master_key: master_key.key.clone(), blobs: blobs.clone() }).await?.with_instance(&instance);
    store.blobs().check().await.map_err(|error| {
        let cause = std::error::Error::source(&error).map(|c| format!(": {c}")).unwrap_or_default();
        anyhow::anyhow!("the blob store {} cannot be used{cause}", blobs.describe())
    })?;
    if store.backend() == cairn_store::Backend::Postgres && !blobs.is_shared() {
        tracing::warn!(
            blob_store = %blobs.describe(),
            "blobs are kept on this machine's disk: other instances on this database will not find them; use --blob-store s3://BUCKET to run several"
        );
    }
    master_key.check(&store).await?;
    let app = App::new(store.clone(), config.clone());
    if demo {
        let report = cairn_app::demo::seed(&app).await.context("seeding the demo data")?;
        tracing::info!(?report, "demo data ready");
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let signal = shutdown_signal();
    let lifecycle = app.lifecycle.clone();
    let shutdown = async move {
        signal.await;
        // /readyz answers 503 from now on, and background work ends after its current run.
        lifecycle.stop();
    };
    println!("Cairn is running at {} (listening on {local}, database: {})", config.public_url, store.backend().as_str());
    if demo {
        println!("Demo accounts (e-mail / password):");
        for account in cairn_core::demo::ACCOUNTS {
            let role = account.role.map(|r| r.as_str()).unwrap_or("learner");
            println!("  {:<9} {} / {}", role, account.email, account.password);
        }
    }
    let background = cairn_app::jobs::spawn(app.clone());
    let served = cairn_server::serve(listener, cairn_server::app(AppState::new(app.clone())), shutdown).await;
    // Requests in flight have finished; let the background run under way finish too.
    app.lifecycle.stop();
    match tokio::time::timeout(std::time::Duration::from_secs(JOB_DRAIN_SECS), background).await {
        Ok(_) => {}
        Err(_) => tracing::warn!(seconds = JOB_DRAIN_SECS, "the background run did not finish in time; what it left is taken up at the next start"),
    }
    served?;
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// How long a shutdown waits for the background run under way.
const JOB_DRAIN_SECS: u64 = 30;

/// This machine's name, for the default instance name (`HOSTNAME`, else /etc/hostname, else
/// "cairn").
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "cairn".to_string())
}

/// The master key and where it came from: `CAIRN_MASTER_KEY`, the key file, or a fresh key for a
/// key file that does not exist yet (written only once the database is known to hold no keys
/// sealed with another).
struct MasterKeySource {
    key: MasterKey,
    origin: KeyOrigin,
}

enum KeyOrigin {
    Variable,
    File(PathBuf),
    NewFile(PathBuf),
}

impl MasterKeySource {
    fn resolve(data_dir: &std::path::Path) -> anyhow::Result<MasterKeySource> {
        if let Ok(text) = std::env::var("CAIRN_MASTER_KEY")
            && !text.trim().is_empty()
        {
            return Ok(MasterKeySource { key: MasterKey::parse(&text).context("CAIRN_MASTER_KEY")?, origin: KeyOrigin::Variable });
        }
        let path = data_dir.join("master.key");
        Ok(match MasterKey::load(&path)? {
            Some(key) => MasterKeySource { key, origin: KeyOrigin::File(path) },
            None => MasterKeySource { key: MasterKey::generate(), origin: KeyOrigin::NewFile(path) },
        })
    }

    /// For the start-up log.
    fn describe(&self) -> String {
        match &self.origin {
            KeyOrigin::Variable => "CAIRN_MASTER_KEY".to_string(),
            KeyOrigin::File(path) => path.display().to_string(),
            KeyOrigin::NewFile(path) => format!("{} (new)", path.display()),
        }
    }

    /// Refuses a key that does not open the sealed issuer keys in `store`, naming the file or the
    /// variable it came from; writes a new key file once the database is known to need no other.
    async fn check(&self, store: &Store) -> anyhow::Result<()> {
        match (store.check_master_key().await, &self.origin) {
            (Ok(_), KeyOrigin::NewFile(path)) => {
                MasterKey::save_new(path, &self.key)?;
                Ok(())
            }
            (Ok(_), _) => Ok(()),
            (Err(cairn_store::StoreError::Sealed(cause)), KeyOrigin::NewFile(path)) => anyhow::bail!(
                "the master key file {} does not exist, but the database holds issuer keys sealed with a master key ({cause}); \
                 restore that file or set CAIRN_MASTER_KEY to the key",
                path.display()
            ),
            (Err(cairn_store::StoreError::Sealed(cause)), KeyOrigin::File(path)) => {
                anyhow::bail!("the master key in {} does not open the issuer keys sealed in the database ({cause}); restore the right key file", path.display())
            }
            (Err(cairn_store::StoreError::Sealed(cause)), KeyOrigin::Variable) => {
                anyhow::bail!("the master key in CAIRN_MASTER_KEY does not open the issuer keys sealed in the database ({cause}); set it to the right key")
            }
            (Err(error), _) => Err(error).context("checking the master key against the sealed issuer keys"),
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The SIGTERM handler is installed when this is
/// called, not when first polled, so a signal that comes as soon as the start-up line is printed
/// still shuts down gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match term {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = interrupt => {},
            () = terminate => {},
        }
        tracing::info!("shutting down");
    }
}

/// A list of hosts allowed although loopback or private: the environment variable `env` (comma
/// separated) or the file's `name`; each must be a host name or an IP address.
/// The `[[oidc_providers]]`, checked, with each secret from `CAIRN_OIDC_<ID>_CLIENT_SECRET` when
/// set (the id upper-cased, `-` as `_`) or else from the file.
fn oidc_providers(from_file: &[config::FileOidcProvider]) -> anyhow::Result<Vec<cairn_app::config::OidcProvider>> {
    let mut providers: Vec<cairn_app::config::OidcProvider> = Vec::new();
    for entry in from_file {
        let id = entry.id.trim().to_string();
        anyhow::ensure!(
            !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "oidc_providers id \"{id}\" is not a short name of lower-case letters, digits and '-' such as \"university\""
        );
        anyhow::ensure!(!providers.iter().any(|p| p.id == id), "oidc_providers id \"{id}\" is used twice");
        let name = entry.name.trim().to_string();
        anyhow::ensure!(!name.is_empty() && name.chars().count() <= 60, "oidc_providers \"{id}\": name must be 1 to 60 characters");
        let issuer = entry.issuer.trim().to_string();
        let url = url::Url::parse(&issuer).map_err(|e| anyhow::anyhow!("oidc_providers \"{id}\": issuer \"{issuer}\" is not an absolute URL: {e}"))?;
        anyhow::ensure!(
            (url.scheme() == "https" || (url.scheme() == "http" && url.host_str().is_some_and(cairn_app::fetch::is_loopback)))
                && url.query().is_none()
                && url.fragment().is_none(),
            "oidc_providers \"{id}\": issuer \"{issuer}\" must be an https URL (http only on this machine) without query or fragment"
        );
        let client_id = entry.client_id.trim().to_string();
        anyhow::ensure!(!client_id.is_empty(), "oidc_providers \"{id}\": client_id is empty");
        let variable = format!("CAIRN_OIDC_{}_CLIENT_SECRET", id.to_ascii_uppercase().replace('-', "_"));
        let client_secret = std::env::var(&variable).ok().filter(|s| !s.is_empty()).or_else(|| entry.client_secret.clone()).unwrap_or_default();
        anyhow::ensure!(!client_secret.is_empty(), "oidc_providers \"{id}\": no client secret: set {variable} (or client_secret in the file)");
        let scopes = entry.scopes.clone().unwrap_or_else(|| vec!["profile".to_string()]);
        for scope in &scopes {
            anyhow::ensure!(
                !scope.is_empty() && scope.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
                "oidc_providers \"{id}\": scope \"{scope}\" is not a scope token"
            );
        }
        providers.push(cairn_app::config::OidcProvider { id, name, issuer, client_id, client_secret, scopes });
    }
    Ok(providers)
}

fn allow_hosts(name: &str, env: &str, from_file: Option<&[String]>) -> anyhow::Result<Vec<String>> {
    let hosts: Vec<String> = match std::env::var(env) {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        _ => from_file.unwrap_or_default().iter().map(|s| s.trim().to_string()).collect(),
    };
    for host in &hosts {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        anyhow::ensure!(
            url::Host::parse(bare).is_ok() || bare.parse::<std::net::IpAddr>().is_ok(),
            "{name} entry \"{host}\" is not a host name or IP address such as badges.intranet.example or 10.0.0.5"
        );
    }
    Ok(hosts)
}
