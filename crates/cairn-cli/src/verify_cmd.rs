//! `cairn verify`: any Open Badge (OB 3.0 JSON or JWT, CLR 2.0, OB 2.0 hosted, baked PNG/SVG, URL)
//! through `cairn_vc::verify`. Exit 0 valid, 1 invalid, 2 could not check.
//!
//! Offline by default: bundled contexts, `did:key`, and documents given on the command line. Over
//! the network it fetches only from loopback hosts, or from hosts named with `--allow-host`, under
//! one [`HostPolicy`] applied at every step a request takes:
//!
//! - every redirect hop is followed by hand and checked like the first URL;
//! - every address a host name resolves to is checked before a connection is made
//!   ([`CheckedResolver`]): a loopback name must resolve to loopback addresses, and the unspecified
//!   address, IPv4-mapped IPv6, link-local, private and unique-local ranges ([`refusal`]) are never
//!   reached unless the host was named with `--allow-host`; no proxy is used, so nothing resolves
//!   elsewhere;
//! - each document must arrive within `--fetch-timeout` seconds (a body that trickles is cut
//!   off), all of them within [`RUN_BUDGET_FACTOR`] times that, at most [`MAX_FETCH_BYTES`] each
//!   and at most [`MAX_FETCHES_PER_RUN`] requests in all; a URL is fetched once per run.
//!
//! With these bounds and the verifier's own (`cairn_vc::verify`: input size, status entries,
//! endorsements and nested credentials per document, credentials per run), one input costs a
//! bounded amount of work, whatever it names.

use anyhow::{Context as _, bail};
use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument, StaticLoader};
use cairn_vc::suites::vc_jwt::TrustedKeys;
use cairn_vc::verify::{CheckOutcome, Verdict, VerificationReport, VerifyOptions, verify};
use std::collections::HashMap;
use std::io::Read as _;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use url::{Host, Url};

/// Largest document fetched over the network.
pub const MAX_FETCH_BYTES: usize = 1024 * 1024;
/// The most HTTP requests (redirect hops included) one run makes.
pub const MAX_FETCHES_PER_RUN: usize = 32;
/// The most redirects followed for one document.
pub const MAX_REDIRECTS: usize = 3;
/// Seconds one document may take (connection, headers and body) unless `--fetch-timeout` says.
pub const DEFAULT_FETCH_TIMEOUT_SECS: u64 = 5;
/// All of a run's fetches together may take this many times `--fetch-timeout`.
pub const RUN_BUDGET_FACTOR: u32 = 6;
/// Tolerance for clocks that disagree, in seconds.
const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// `cairn verify`'s settings.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The credential: a file (JSON, JWT, PNG, SVG), a URL, or - for standard input.
    pub input: String,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Turn warnings (deviations from the standard that do not change what the credential means)
    /// into failures.
    #[arg(long)]
    pub strict: bool,
    /// Use this DID document for DID (repeatable): --did-doc did:web:example.org=did.json
    #[arg(long, value_name = "DID=FILE")]
    pub did_doc: Vec<String>,
    /// Keys for VC-JWT verification: a JWKS file or URL.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// Use this file as the status list at URL (repeatable): --status-list https://x/status/1=list.json
    #[arg(long, value_name = "URL=FILE")]
    pub status_list: Vec<String>,
    /// Judge dates as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "ISO")]
    pub now: Option<String>,
    /// Also fetch from this host, whatever address it has (repeatable); loopback hosts are always
    /// allowed.
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Give up on a document that has not arrived after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_FETCH_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub fetch_timeout: u64,
    /// Accept a key carried in a VC-JWT's own header (not bound to the issuer; for test fixtures).
    #[arg(long)]
    pub trust_header_jwk: bool,
}

// ---------------------------------------------------------------------------------------------
// Host policy

/// Where documents may be fetched from.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Hosts named with `--allow-host`, lower-cased; IP addresses in their canonical form.
    allowed: Vec<String>,
}

/// Why a host may be fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Permit {
    /// A loopback name or address: its addresses must be loopback too.
    Loopback,
    /// Named with `--allow-host`: any address but the unspecified one.
    Explicit,
}

/// Why an address is never fetched from unless its host was named with `--allow-host`; `None`
/// for addresses that may be reached (public and loopback ones).
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() {
                Some("the unspecified address (\"this host\")")
            } else if a == 0 {
                Some("an address of \"this network\" (0.0.0.0/8)")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (carrier-grade NAT) address")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("a multicast, broadcast or reserved address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                Some("the unspecified address (\"this host\")")
            } else if v6.is_loopback() {
                None
            } else if v6.to_ipv4_mapped().is_some() {
                Some("an IPv4-mapped IPv6 address")
            } else if v6.segments()[..6].iter().all(|s| *s == 0) {
                Some("an IPv4-compatible IPv6 address")
            } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
                Some("a link-local address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique-local address")
            } else if first & 0xff00 == 0xff00 {
                Some("a multicast address")
            } else if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                Some("a NAT64 address (an IPv4 address in disguise)")
            } else {
                None
            }
        }
    }
}

fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// Whether a URL host (a name or an address, possibly in brackets) is a loopback host.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(is_loopback_ip)
}

/// A host as `--allow-host` entries are compared: lower case, addresses canonical, no brackets.
fn canonical_host(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => bare.trim_end_matches('.').to_ascii_lowercase(),
    }
}

impl HostPolicy {
    /// Loopback hosts, and `allowed`.
    pub fn new(allowed: &[String]) -> Self {
        Self { allowed: allowed.iter().map(|host| canonical_host(host)).collect() }
    }

    fn is_explicit(&self, host: &str) -> bool {
        let host = canonical_host(host);
        self.allowed.contains(&host)
    }

    /// Whether `url` may be requested, judged on its scheme and host (an address host on the
    /// address itself).
    fn permit(&self, url: &Url) -> Result<Permit, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("only http and https URLs are fetched, not {}:", url.scheme()));
        }
        let ip = match url.host() {
            None => return Err("the URL has no host".into()),
            Some(Host::Domain(name)) => {
                return if self.is_explicit(name) {
                    Ok(Permit::Explicit)
                } else if is_loopback(name) {
                    Ok(Permit::Loopback)
                } else {
                    Err(format!("{name} is not loopback and not allowed (use --allow-host {name})"))
                };
            }
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        if ip.is_unspecified() {
            return Err(format!("{ip} is the unspecified address; it is never fetched from"));
        }
        if self.is_explicit(&ip.to_string()) {
            return Ok(Permit::Explicit);
        }
        if is_loopback_ip(ip) {
            return Ok(Permit::Loopback);
        }
        Err(match refusal(ip) {
            Some(why) => format!("{ip} is {why} (use --allow-host {ip} to fetch from it)"),
            None => format!("{ip} is not loopback and not allowed (use --allow-host {ip})"),
        })
    }

    /// The addresses of `host` that may be connected to, or why none may.
    fn check_addresses(&self, host: &str, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        let explicit = self.is_explicit(host);
        if !explicit && !is_loopback(host) {
            return Err(format!("{host} is not loopback and not allowed (use --allow-host {host})"));
        }
        let mut refused = None;
        let allowed: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|address| {
                let ip = address.ip();
                let why = if ip.is_unspecified() {
                    Some("the unspecified address")
                } else if explicit || is_loopback_ip(ip) {
                    None
                } else {
                    Some(refusal(ip).unwrap_or("not a loopback address"))
                };
                if let Some(why) = why {
                    refused.get_or_insert_with(|| format!("{host} resolves to {ip}, {why}"));
                }
                why.is_none()
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(why)) => Err(why),
            (true, None) => Err(format!("{host} resolves to no address")),
        }
    }
}

/// Resolves host names with the system resolver, then keeps only the addresses the
/// [`HostPolicy`] allows, so that a name cannot lead a request somewhere its URL could not.
struct CheckedResolver {
    policy: Arc<HostPolicy>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = host.clone();
            let found = tokio::task::spawn_blocking(move || (lookup.as_str(), 0).to_socket_addrs().map(Iterator::collect::<Vec<SocketAddr>>))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            let allowed = policy.check_addresses(&host, found).map_err(std::io::Error::other)?;
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The HTTP loader

/// The URL of a `did:web` DID document (DID Web method §3.2): `did:web:host%3Aport:a:b` →
/// `https://host:port/a/b/did.json`; loopback hosts use http.
pub fn did_web_url(did: &str) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = parts.next()?.replace("%3A", ":").replace("%3a", ":");
    if host.is_empty() || host.contains('/') {
        return None;
    }
    let path: Vec<&str> = parts.collect();
    let scheme = if is_loopback(host.split(':').next().unwrap_or(&host)) { "http" } else { "https" };
    Some(if path.is_empty() { format!("{scheme}://{host}/.well-known/did.json") } else { format!("{scheme}://{host}/{}/did.json", path.join("/")) })
}

/// Why a fetch gave no document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FetchError {
    /// HTTP 410 Gone.
    Gone,
    /// Anything else, in words.
    Failed(String),
}

/// What one run has fetched so far.
struct FetchState {
    requests: usize,
    started: Instant,
    done: HashMap<String, Result<Arc<str>, FetchError>>,
}

/// Fetches documents over HTTP(S) under a [`HostPolicy`], within the per-run bounds; maps
/// `did:web` DIDs to URLs. Each URL is fetched at most once per run.
pub struct HttpLoader {
    client: reqwest::blocking::Client,
    policy: Arc<HostPolicy>,
    fetch_timeout: Duration,
    state: Mutex<FetchState>,
}

impl HttpLoader {
    /// A loader for one run.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(policy: HostPolicy, fetch_timeout: Duration) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy: Arc::clone(&policy) }))
            .connect_timeout(fetch_timeout)
            .user_agent(concat!("cairn-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot start the HTTP client")?;
        Ok(Self { client, policy, fetch_timeout, state: Mutex::new(FetchState { requests: 0, started: Instant::now(), done: HashMap::new() }) })
    }

    fn run_budget(&self) -> Duration {
        self.fetch_timeout * RUN_BUDGET_FACTOR
    }

    /// The document at `url`, following redirects under the policy; remembered for the run.
    fn fetch(&self, url: &str) -> Result<Arc<str>, FetchError> {
        if let Some(done) = self.state.lock().unwrap_or_else(PoisonError::into_inner).done.get(url) {
            return done.clone();
        }
        let outcome = self.fetch_following(url);
        self.state.lock().unwrap_or_else(PoisonError::into_inner).done.insert(url.to_owned(), outcome.clone());
        outcome
    }

    fn fetch_following(&self, url: &str) -> Result<Arc<str>, FetchError> {
        let failed = |why: String| FetchError::Failed(why);
        let mut current = Url::parse(url).map_err(|e| failed(format!("not a URL: {e}")))?;
        self.policy.permit(&current).map_err(failed)?;
        let deadline = Instant::now() + self.fetch_timeout;
        for hop in 0..=MAX_REDIRECTS {
            let response = self.request(&current, deadline)?;
            let status = response.status();
            if status.is_redirection() {
                if hop == MAX_REDIRECTS {
                    return Err(failed(format!("more than {MAX_REDIRECTS} redirects")));
                }
                let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
                let Some(next) = location.and_then(|l| current.join(l).ok()) else {
                    return Err(failed(format!("HTTP {status} without a usable Location")));
                };
                if let Err(why) = self.policy.permit(&next) {
                    return Err(failed(format!("the redirect from {current} to {next} was refused: {why}")));
                }
                current = next;
                continue;
            }
            if status == reqwest::StatusCode::GONE {
                return Err(FetchError::Gone);
            }
            if !status.is_success() {
                return Err(failed(format!("HTTP {status}")));
            }
            return read_body(response, deadline, self.fetch_timeout).map(Arc::from).map_err(failed);
        }
        Err(failed(format!("more than {MAX_REDIRECTS} redirects")))
    }

    /// One request, counted against the run's bounds.
    fn request(&self, url: &Url, deadline: Instant) -> Result<reqwest::blocking::Response, FetchError> {
        let run_deadline = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.requests >= MAX_FETCHES_PER_RUN {
                return Err(FetchError::Failed(format!("not fetched: this run already made {MAX_FETCHES_PER_RUN} requests, the most it makes")));
            }
            state.requests += 1;
            state.started + self.run_budget()
        };
        let now = Instant::now();
        if now >= run_deadline {
            return Err(FetchError::Failed(format!("not fetched: this run's fetches already took {} s, the most they may", self.run_budget().as_secs())));
        }
        let remaining = deadline.min(run_deadline).saturating_duration_since(now).max(Duration::from_millis(1));
        self.client
            .get(url.as_str())
            .header("accept", "application/ld+json, application/json, */*")
            .timeout(remaining)
            .send()
            .map_err(|error| FetchError::Failed(error_chain(&error)))
    }
}

/// The body of `response`, cut off at `deadline` or past [`MAX_FETCH_BYTES`].
fn read_body(mut response: reqwest::blocking::Response, deadline: Instant, fetch_timeout: Duration) -> Result<String, String> {
    if response.content_length().is_some_and(|length| length > MAX_FETCH_BYTES as u64) {
        return Err(format!("larger than {MAX_FETCH_BYTES} bytes"));
    }
    let too_slow = || format!("cut off: the document did not arrive within {} s", fetch_timeout.as_secs());
    let mut body = Vec::new();
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(too_slow());
        }
        let read = match response.read(&mut buffer) {
            Ok(read) => read,
            Err(error) if is_timeout(&error) || Instant::now() >= deadline => return Err(too_slow()),
            Err(error) => return Err(error_chain(&error)),
        };
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
        if body.len() > MAX_FETCH_BYTES {
            return Err(format!("larger than {MAX_FETCH_BYTES} bytes"));
        }
    }
    String::from_utf8(body).map_err(|_| "the document is not UTF-8 text".to_owned())
}

/// Whether an error, or one of its causes, is a timeout (the request's deadline passing while the
/// body is read).
fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(cause) = current {
        let timed_out = cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || cause.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_timeout);
        if timed_out {
            return true;
        }
        current = cause.source();
    }
    false
}

/// An error with its causes, the way a person needs it ("error sending request: …: dns error:
/// 10.0.0.1 is a private address").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl DocumentLoader for HttpLoader {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        let target = if url.starts_with("did:web:") {
            did_web_url(url.split('#').next().unwrap_or(url))
        } else if url.starts_with("http://") || url.starts_with("https://") {
            Some(url.to_string())
        } else {
            None
        };
        let Some(target) = target else { return Err(LoadError::Refused { url: url.to_string() }) };
        match self.fetch(&target) {
            Ok(body) => Ok(LoadedDocument::new(url, body)),
            Err(FetchError::Gone) => Err(LoadError::Gone { url: target }),
            Err(FetchError::Failed(reason)) => Err(LoadError::Unavailable { url: target, reason }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command

fn pair(raw: &str, flag: &str) -> anyhow::Result<(String, String)> {
    // Split at the last '=' so that URLs with query strings keep theirs.
    match raw.rsplit_once('=') {
        Some((key, file)) if !key.is_empty() && !file.is_empty() => Ok((key.to_string(), file.to_string())),
        _ => bail!("{flag} takes KEY=FILE, got \"{raw}\""),
    }
}

fn read_json(path: &str) -> anyhow::Result<serde_json::Value> {
    let bytes = crate::toolkit::read_input(Path::new(path))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{path} is not JSON"))
}

/// Runs `cairn verify`; returns the exit code (0 valid, 1 invalid, 2 could not check).
pub fn run(args: &VerifyArgs) -> anyhow::Result<u8> {
    let now = match &args.now {
        Some(text) => cairn_vc::dates::parse_rfc3339(text)
            .with_context(|| format!("--now \"{text}\" is not an RFC 3339 date-time such as 2026-01-01T00:00:00Z"))?
            .unix_timestamp(),
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let http = Arc::new(HttpLoader::new(HostPolicy::new(&args.allow_host), Duration::from_secs(args.fetch_timeout))?);
    let mut loader = StaticLoader::new().with_fallback(http.clone());
    for raw in &args.did_doc {
        let (did, file) = pair(raw, "--did-doc")?;
        loader.insert(did, &read_json(&file)?);
    }
    for raw in &args.status_list {
        let (url, file) = pair(raw, "--status-list")?;
        loader.insert(url, &read_json(&file)?);
    }
    let mut keys = TrustedKeys::new();
    if let Some(jwks) = &args.jwks {
        let document = if jwks.starts_with("http://") || jwks.starts_with("https://") {
            http.load(jwks).map_err(|e| anyhow::anyhow!("--jwks: {e}"))?.parse().map_err(|e| anyhow::anyhow!("--jwks: {e}"))?
        } else {
            read_json(jwks)?
        };
        keys = keys.with_jwks(&document).with_context(|| format!("--jwks {jwks}"))?;
    }
    if args.trust_header_jwk {
        keys = keys.allowing_header_jwk();
    }
    let input = if args.input.starts_with("http://") || args.input.starts_with("https://") {
        args.input.clone().into_bytes()
    } else {
        crate::toolkit::read_input(Path::new(&args.input))?
    };
    let options = VerifyOptions::new(&loader, now).with_jwt_keys(&keys).with_clock_skew(MAX_CLOCK_SKEW_SECS).strict(args.strict);
    let report = verify(&input, &options);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", human(&report));
    }
    Ok(match report.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Indeterminate => 2,
    })
}

/// The report as text for a terminal: the verdict, then one line per check and one per warning.
fn human(report: &VerificationReport) -> String {
    let mut text = format!("{} ({})\n", report.verdict.label().to_uppercase(), report.format);
    for check in &report.checks {
        let mark = match check.outcome() {
            CheckOutcome::Passed => "ok  ",
            CheckOutcome::Warning => "warn",
            CheckOutcome::Failed => "FAIL",
            CheckOutcome::Unknown => "??  ",
        };
        text.push_str(&format!("  {mark} {:<14} {}\n", check.id, check.detail));
        for warning in &check.warnings {
            text.push_str(&format!("  {:<4} {:<14}   warning: {warning}\n", "", ""));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn did_web_maps_to_https_or_loopback_http() {
        assert_eq!(did_web_url("did:web:example.org").as_deref(), Some("https://example.org/.well-known/did.json"));
        assert_eq!(did_web_url("did:web:example.org%3A8443:issuers:1").as_deref(), Some("https://example.org:8443/issuers/1/did.json"));
        assert_eq!(did_web_url("did:web:127.0.0.1%3A8080:issuers:1").as_deref(), Some("http://127.0.0.1:8080/issuers/1/did.json"));
        assert_eq!(did_web_url("did:web:localhost%3A3000").as_deref(), Some("http://localhost:3000/.well-known/did.json"));
        assert_eq!(did_web_url("did:key:z6Mk"), None);
        assert_eq!(did_web_url("did:web:"), None);
    }

    #[track_caller]
    fn permit(policy: &HostPolicy, url: &str) -> Result<Permit, String> {
        policy.permit(&Url::parse(url).unwrap())
    }

    #[test]
    fn only_loopback_is_fetched_unless_allowed() {
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("[::1]") && is_loopback("127.8.9.10"));
        assert!(!is_loopback("10.0.0.1") && !is_loopback("example.org"));
        let policy = HostPolicy::new(&[]);
        assert_eq!(permit(&policy, "http://127.0.0.1:8080/x"), Ok(Permit::Loopback));
        assert_eq!(permit(&policy, "http://localhost/x"), Ok(Permit::Loopback));
        assert_eq!(permit(&policy, "http://[::1]/x"), Ok(Permit::Loopback));
        let error = permit(&policy, "https://example.org/x").unwrap_err();
        assert!(error.contains("--allow-host example.org"), "{error}");
        assert!(permit(&policy, "file:///etc/passwd").unwrap_err().contains("only http and https"));
        let allowed = HostPolicy::new(&["Example.ORG".into(), "[::ffff:10.0.0.1]".into(), "10.1.2.3".into()]);
        assert_eq!(permit(&allowed, "https://example.org./x"), Ok(Permit::Explicit));
        assert_eq!(permit(&allowed, "http://10.1.2.3/x"), Ok(Permit::Explicit));
        assert_eq!(permit(&allowed, "http://[::ffff:a00:1]/x"), Ok(Permit::Explicit));
    }

    #[test]
    fn special_addresses_are_refused_by_name() {
        let policy = HostPolicy::new(&[]);
        for (url, why) in [
            ("http://0.0.0.0:8080/", "unspecified"),
            ("http://0.1.2.3/", "0.0.0.0/8"),
            ("http://[::]/", "unspecified"),
            ("http://10.0.0.1/", "a private address"),
            ("http://172.16.5.4/", "a private address"),
            ("http://192.168.1.1/", "a private address"),
            ("http://169.254.169.254/latest/meta-data", "a link-local address"),
            ("http://100.64.0.1/", "carrier-grade NAT"),
            ("http://[::ffff:10.0.0.1]/", "an IPv4-mapped IPv6 address"),
            ("http://[::ffff:127.0.0.1]/", "an IPv4-mapped IPv6 address"),
            ("http://[fe80::1]/", "a link-local address"),
            ("http://[fd00::1]/", "a unique-local address"),
            ("http://[64:ff9b::a00:1]/", "NAT64"),
            ("http://8.8.8.8/", "not loopback and not allowed"),
        ] {
            let error = permit(&policy, url).unwrap_err();
            assert!(error.contains(why), "{url}: {error}");
        }
        // The unspecified address is refused even when named.
        assert!(permit(&HostPolicy::new(&["0.0.0.0".into()]), "http://0.0.0.0/").is_err());
    }

    #[test]
    fn resolved_addresses_are_checked_against_how_the_host_was_allowed() {
        let at = |ip: IpAddr| SocketAddr::new(ip, 0);
        let loopback = at(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let private = at(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let public = at(IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14)));
        let mapped = at(IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped()));
        let unspecified = at(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        let policy = HostPolicy::new(&["intranet.example".into()]);
        // A loopback name must stay on loopback addresses.
        assert_eq!(policy.check_addresses("localhost", vec![loopback, private]), Ok(vec![loopback]));
        assert!(policy.check_addresses("localhost", vec![private]).unwrap_err().contains("10.0.0.1, a private address"));
        assert!(policy.check_addresses("localhost", vec![mapped]).unwrap_err().contains("IPv4-mapped"));
        assert!(policy.check_addresses("localhost", vec![public]).unwrap_err().contains("not a loopback address"));
        // A named host may have any address but the unspecified one.
        assert_eq!(policy.check_addresses("intranet.example", vec![private, public]), Ok(vec![private, public]));
        assert!(policy.check_addresses("intranet.example", vec![unspecified]).unwrap_err().contains("unspecified"));
        // Any other name is not resolved for a request at all.
        assert!(policy.check_addresses("elsewhere.example", vec![public]).is_err());
    }

    #[test]
    fn key_file_pairs_split_at_the_last_equals_sign() {
        assert_eq!(pair("https://x/s?a=1=list.json", "--status-list").unwrap(), ("https://x/s?a=1".to_string(), "list.json".to_string()));
        assert!(pair("nofile", "--did-doc").is_err());
    }
}
