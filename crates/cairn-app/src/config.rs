//! The installation's settings, resolved from defaults, `cairn.toml`, `CAIRN_*` variables and
//! flags (in that order) by `cairn-cli`, and passed in explicitly: there is no global
//! configuration, so one process can run two differently configured applications.

use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// Everything Cairn needs to run, already validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Base URL people and other systems reach this server at (links, did:web, problem types).
    pub public_url: Url,
    /// Data directory (SQLite database, blobs, master key file).
    pub data_dir: PathBuf,
    /// Largest upload accepted, in bytes (badge images).
    pub max_upload_bytes: usize,
    /// How long a browser session lasts at most.
    pub session_hours: u32,
    /// How long a browser session lasts unused: each request made with it starts the period
    /// again (recorded at most once a minute).
    pub session_idle_hours: u32,
    /// How many password hashes (argon2id, 19 MiB each) may be computed at once; sign-ins and
    /// sign-ups beyond it wait briefly in a queue, then get "busy" (see `accounts`).
    pub hashing_concurrency: usize,
    /// Failed sign-ins to one account within `login_throttle_minutes` after which its sign-ins
    /// are refused until the period ends.
    pub login_failures_per_account: u32,
    /// Failed sign-ins from one client address (an IPv6 /64) within `login_throttle_minutes`
    /// after which its sign-ins are refused until the period ends.
    pub login_failures_per_address: u32,
    /// The period over which failed sign-ins are counted, in minutes.
    pub login_throttle_minutes: u32,
    /// The request header a reverse proxy in front of Cairn puts the client's address in
    /// (`x-forwarded-for`: its last entry is used; `x-real-ip`); `None` to use the connection's
    /// address. Set it only behind a proxy that sets the header, or clients choose their address.
    pub client_address_header: Option<String>,
    /// SMTP server for e-mail (`smtp://user:pass@host:587?tls=required` with STARTTLS, `smtps://…`
    /// for TLS, plain `smtp://host:25` for a local relay);
    /// without one, mail stays in the outbox for the operator to read.
    pub smtp_url: Option<String>,
    /// The sender of Cairn's e-mail.
    pub mail_from: String,
    /// Seconds between runs of the background work (escalations, mail).
    pub job_interval_secs: u64,
    /// E-mail addresses (lower case) of the installation's operators, who may read the outbox.
    pub operators: Vec<String>,
    /// Hosts the verify page may fetch credentials from even when they are this machine or on a
    /// private network (verifying by URL otherwise reaches public addresses only).
    pub verify_allow_hosts: Vec<String>,
    /// Hosts webhook endpoints may be on although loopback or private (tests, intranets).
    pub webhook_allow_hosts: Vec<String>,
    /// The installation's terms of service and privacy policy, which the Open Badges API's
    /// service description names for applications and learners; `None` names the home page.
    pub terms_url: Option<Url>,
    pub privacy_url: Option<Url>,
    /// OpenID Connect providers people may sign in with (a university's, an employer's), in the
    /// order the sign-in page shows them.
    pub oidc_providers: Vec<OidcProvider>,
    /// Where Stripe's API is (`https://api.stripe.com/`; another address only for a test server).
    pub stripe_api_base: Url,
    /// The SHA-256 digest of the bearer token `/metrics` asks for (`CAIRN_METRICS_TOKEN`); `None`
    /// serves it to anyone who can reach it (keep it off the public network then).
    pub metrics_token_digest: Option<[u8; 32]>,
}

/// An OpenID Connect provider the operator configured (`[[oidc_providers]]`).
#[derive(Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// A short name for URLs and links (`/auth/oidc/{id}`): lower-case letters, digits and `-`.
    pub id: String,
    /// The name on the sign-in button ("Sign in with {name}").
    pub name: String,
    /// The issuer identifier (an https URL, or http on this machine); its
    /// `/.well-known/openid-configuration` is read on first use.
    pub issuer: String,
    pub client_id: String,
    /// Never logged or shown.
    pub client_secret: String,
    /// Scopes asked for; `openid` and `email` are always among them.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Stripe's API.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com/";

impl Config {
    /// A configuration for tests and embedding: everything under `data_dir`, URL from `addr`.
    pub fn for_addr(addr: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            addr,
            public_url: default_public_url(addr),
            data_dir,
            max_upload_bytes: 2 * 1024 * 1024,
            session_hours: 24 * 14,
            session_idle_hours: 12,
            hashing_concurrency: default_hashing_concurrency(),
            login_failures_per_account: 5,
            login_failures_per_address: 50,
            login_throttle_minutes: 15,
            client_address_header: None,
            smtp_url: None,
            mail_from: "Cairn <cairn@localhost>".into(),
            job_interval_secs: 60,
            operators: Vec::new(),
            verify_allow_hosts: Vec::new(),
            webhook_allow_hosts: Vec::new(),
            terms_url: None,
            privacy_url: None,
            oidc_providers: Vec::new(),
            stripe_api_base: Url::parse(STRIPE_API_BASE).expect("a constant URL parses"),
            metrics_token_digest: None,
        }
    }

    /// Whether cookies get the `Secure` attribute (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public URLs signed into credentials, built from [`Config::public_url`].
    pub fn urls(&self) -> crate::urls::PublicUrls<'_> {
        crate::urls::PublicUrls::new(&self.public_url)
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// One password hash at a time per CPU: hashing is CPU-bound, so more at once only adds memory.
pub fn default_hashing_concurrency() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// `http://ADDR`, with `localhost` when listening on every interface.
pub fn default_public_url(addr: SocketAddr) -> Url {
    let host = if addr.ip().is_unspecified() { "localhost".to_string() } else { addr.ip().to_string() };
    let text =
        if addr.is_ipv6() && !addr.ip().is_unspecified() { format!("http://[{host}]:{}/", addr.port()) } else { format!("http://{host}:{}/", addr.port()) };
    Url::parse(&text).unwrap_or_else(|_| Url::parse("http://localhost/").expect("a constant URL parses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_default_from_the_listen_address() {
        assert_eq!(default_public_url("0.0.0.0:8080".parse().unwrap()).as_str(), "http://localhost:8080/");
        assert_eq!(default_public_url("127.0.0.1:3000".parse().unwrap()).as_str(), "http://127.0.0.1:3000/");
        let config = Config::for_addr("127.0.0.1:3000".parse().unwrap(), "d".into());
        assert_eq!(config.url("/x"), "http://127.0.0.1:3000/x");
        assert!(!config.secure_cookies());
    }
}
