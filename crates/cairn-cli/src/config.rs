//! `cairn.toml`: the file layer of the configuration. Precedence, lowest first: built-in
//! defaults, this file, `CAIRN_*` environment variables, command-line flags.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Settings a `cairn.toml` may hold. Every field is optional; see `docs/cairn.example.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on, e.g. "127.0.0.1:8080" (default) or "0.0.0.0:8080".
    pub addr: Option<String>,
    /// Data directory for the SQLite database, blobs and the master key file (default "./data").
    pub data_dir: Option<PathBuf>,
    /// Database URL: "sqlite://PATH" (default: sqlite://<data_dir>/cairn.db) or "postgres://USER@HOST/DB".
    pub database_url: Option<String>,
    /// Public base URL of this server, used in links, DIDs and problem types (default: http://<addr>).
    pub public_url: Option<String>,
    /// Seed the demo issuer, catalog and accounts at start (default false).
    pub demo: Option<bool>,
    /// Largest accepted upload in bytes (default 2097152).
    pub max_upload_bytes: Option<usize>,
    /// Browser session lifetime in hours (default 336).
    pub session_hours: Option<u32>,
    /// Hours a browser session may go unused before it ends (default 12).
    pub session_idle_hours: Option<u32>,
    /// Password hashes computed at once (default: the number of CPUs).
    pub hashing_concurrency: Option<usize>,
    /// Failed sign-ins per account before it is throttled (default 5).
    pub login_failures_per_account: Option<u32>,
    /// Failed sign-ins per client address before it is throttled (default 50).
    pub login_failures_per_address: Option<u32>,
    /// Minutes over which failed sign-ins are counted (default 15).
    pub login_throttle_minutes: Option<u32>,
    /// The header a reverse proxy puts the client's address in (default none: the peer address).
    pub client_address_header: Option<String>,
    /// Log format: "text" (default) or "json".
    pub log_format: Option<String>,
    /// SMTP server URL for e-mail (default none: mail stays in the outbox).
    pub smtp_url: Option<String>,
    /// Sender address of Cairn's e-mail (default "Cairn <cairn@localhost>").
    pub mail_from: Option<String>,
    /// Seconds between background runs: escalations and mail (default 60).
    pub job_interval_secs: Option<u64>,
    /// E-mail addresses of the installation's operators, who may read the mail outbox.
    pub operators: Option<Vec<String>>,
    /// Hosts the verify page may fetch from although they are loopback or private (default none:
    /// public addresses only).
    pub verify_allow_hosts: Option<Vec<String>>,
    /// Hosts webhook endpoints may be on although they are loopback or private (default none:
    /// public addresses only).
    pub webhook_allow_hosts: Option<Vec<String>>,
    /// The installation's terms of service, for the Open Badges API's service description
    /// (default: the home page).
    pub terms_url: Option<String>,
    /// The installation's privacy policy, likewise.
    pub privacy_url: Option<String>,
    /// Stripe's API (default https://api.stripe.com/; another address only for a test server).
    pub stripe_api_base: Option<String>,
    /// Where blobs live: "s3://BUCKET[/PREFIX]" (with the AWS_* variables) or a directory
    /// (default: <data_dir>/blobs).
    pub blob_store: Option<String>,
    /// This instance's name among those sharing a database (default: host name and port).
    pub instance: Option<String>,
    /// Bearer token /metrics asks for (default none: open; better given as CAIRN_METRICS_TOKEN).
    pub metrics_token: Option<String>,
    /// OpenID Connect providers people may sign in with (`[[oidc_providers]]` tables).
    pub oidc_providers: Option<Vec<FileOidcProvider>>,
}

/// One `[[oidc_providers]]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileOidcProvider {
    /// Short name for URLs: lower-case letters, digits and '-'.
    pub id: String,
    /// Name on the sign-in button.
    pub name: String,
    /// Issuer identifier (https, or http on this machine).
    pub issuer: String,
    pub client_id: String,
    /// The client secret; better given as CAIRN_OIDC_<ID>_CLIENT_SECRET.
    pub client_secret: Option<String>,
    /// Scopes besides openid and email (default ["profile"]).
    pub scopes: Option<Vec<String>>,
}

/// The field names, for the test that keeps the example file complete.
#[cfg(test)]
pub const FIELDS: [&str; 27] = [
    "addr",
    "data_dir",
    "database_url",
    "public_url",
    "demo",
    "max_upload_bytes",
    "session_hours",
    "session_idle_hours",
    "hashing_concurrency",
    "login_failures_per_account",
    "login_failures_per_address",
    "login_throttle_minutes",
    "client_address_header",
    "log_format",
    "smtp_url",
    "mail_from",
    "job_interval_secs",
    "operators",
    "verify_allow_hosts",
    "webhook_allow_hosts",
    "terms_url",
    "privacy_url",
    "stripe_api_base",
    "blob_store",
    "instance",
    "metrics_token",
    "oidc_providers",
];

impl FileConfig {
    /// Reads `path`; a missing default file is an empty configuration, a missing named file is an error.
    ///
    /// # Errors
    /// Unreadable or invalid TOML, or an unknown key (named in the message).
    pub fn load(path: &Path, required: bool) -> anyhow::Result<FileConfig> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(FileConfig::default()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_names_every_setting() {
        let text = include_str!("../../../docs/cairn.example.toml");
        let parsed: FileConfig = toml::from_str(text).expect("docs/cairn.example.toml parses");
        assert_eq!(parsed.addr.as_deref(), Some("127.0.0.1:8080"));
        for field in FIELDS {
            assert!(text.contains(&format!("\n{field} =")) || text.contains(&format!("\n# {field} =")), "docs/cairn.example.toml lacks {field}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let error = toml::from_str::<FileConfig>("adr = \"x\"").unwrap_err().to_string();
        assert!(error.contains("adr"), "{error}");
    }
}
