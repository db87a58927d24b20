//! Fetching documents from other hosts for verification (a credential given by URL, the DID
//! documents, status lists and OB 2.0 documents it names), shared by the verify page and
//! `cairn verify`, under one [`HostPolicy`] applied at every step a request takes:
//!
//! - every redirect hop is followed by hand and checked like the first URL;
//! - every address a host name resolves to is checked before a connection is made
//!   ([`CheckedResolver`]), so a name cannot lead a request where its URL could not go; no proxy
//!   is used, so nothing resolves elsewhere. The unspecified address, IPv4-mapped IPv6,
//!   link-local, private, shared, unique-local, multicast and reserved ranges ([`refusal`]) are
//!   never reached unless the host is named in the policy's allowed hosts;
//! - each document must arrive within the fetch timeout (a body that trickles is cut off), all of
//!   a run's within [`RUN_BUDGET_FACTOR`] times that, at most [`MAX_FETCH_BYTES`] each and at most
//!   [`MAX_FETCHES_PER_RUN`] requests in all; a URL is fetched once per run.
//!
//! The policy has two reaches: [`Reach::Public`] (the server: public addresses only, for a page
//! anyone may use) and [`Reach::Loopback`] (the CLI: this machine only unless hosts are named).
//! With these bounds and the verifier's own (`cairn_vc::verify`), one input costs a bounded
//! amount of work, whatever it names.
//!
//! The [`HttpLoader`] blocks (verification runs on blocking threads); [`Fetcher`] is what
//! [`crate::App`] holds, a loader per verification, so tests can put another in its place.

use std::collections::HashMap;
use std::fmt;
use std::io::Read as _;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument};
use url::{Host, Url};

/// Largest document fetched over the network.
pub const MAX_FETCH_BYTES: usize = 1024 * 1024;
/// The most HTTP requests (redirect hops included) one run makes.
pub const MAX_FETCHES_PER_RUN: usize = 32;
/// The most redirects followed for one document.
pub const MAX_REDIRECTS: usize = 3;
/// Seconds one document may take (connection, headers and body) unless configured otherwise.
pub const DEFAULT_FETCH_TIMEOUT_SECS: u64 = 5;
/// All of a run's fetches together may take this many times the fetch timeout.
pub const RUN_BUDGET_FACTOR: u32 = 6;

// ---------------------------------------------------------------------------------------------
// Host policy

/// Which hosts a policy reaches besides those named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Loopback hosts only (`cairn verify`: this machine, unless `--allow-host` names others).
    Loopback,
    /// Public addresses only, never loopback or private ones (the server, for anyone's URLs).
    Public,
}

/// Where documents may be fetched from.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    reach: Reach,
    /// Hosts named by the operator, lower-cased; IP addresses in their canonical form.
    allowed: Vec<String>,
    /// How a refusal tells the reader to allow a host: `--allow-host` or a setting's name.
    allow_with: &'static str,
}

/// Why a host may be fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// A loopback name or address ([`Reach::Loopback`]): its addresses must be loopback too.
    Loopback,
    /// A public name or address ([`Reach::Public`]): its addresses must be public too.
    Public,
    /// Named in the allowed hosts: any address but the unspecified one.
    Explicit,
}

/// Why an address is never fetched from unless its host is named; `None` for addresses that may
/// be reached (public and loopback ones: whether loopback may is the [`Reach`]'s business).
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
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
            } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (18..20).contains(&b)) || v4.is_documentation() {
                Some("a reserved address (protocol assignments, benchmarking or documentation)")
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
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("a documentation address")
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
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") || host.parse::<IpAddr>().is_ok_and(is_loopback_ip)
}

/// A host as allowed hosts are compared: lower case, addresses canonical, no brackets.
fn canonical_host(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => bare.trim_end_matches('.').to_ascii_lowercase(),
    }
}

impl HostPolicy {
    /// Loopback hosts, and `allowed` (`cairn verify --allow-host`).
    pub fn loopback(allowed: &[String]) -> Self {
        Self { reach: Reach::Loopback, allowed: allowed.iter().map(|host| canonical_host(host)).collect(), allow_with: "--allow-host" }
    }

    /// Public addresses, and `allowed` whatever their addresses (the server's
    /// `verify_allow_hosts`, for tests and intranets).
    pub fn public(allowed: &[String]) -> Self {
        Self::public_named(allowed, "verify_allow_hosts")
    }

    /// Public addresses, and `allowed`, which the operator names in the setting `setting`
    /// (`webhook_allow_hosts` for webhook endpoints).
    pub fn public_named(allowed: &[String], setting: &'static str) -> Self {
        Self { reach: Reach::Public, allowed: allowed.iter().map(|host| canonical_host(host)).collect(), allow_with: setting }
    }

    fn is_explicit(&self, host: &str) -> bool {
        self.allowed.contains(&canonical_host(host))
    }

    /// The end of a refusal: how `host` could be allowed.
    fn remedy(&self, host: &str) -> String {
        match self.reach {
            Reach::Loopback => format!(" (use {} {host} to fetch from it)", self.allow_with),
            Reach::Public => format!("; this site fetches from public addresses only (its operator may allow the host with {})", self.allow_with),
        }
    }

    /// Whether `url` may be requested, judged on its scheme and host (an address host on the
    /// address itself; a name's addresses are checked when it is resolved).
    ///
    /// # Errors
    /// Why not, in words.
    pub fn permit(&self, url: &Url) -> Result<Permit, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("only http and https URLs are fetched, not {}:", url.scheme()));
        }
        let ip = match url.host() {
            None => return Err("the URL has no host".into()),
            Some(Host::Domain(name)) => {
                return if self.is_explicit(name) {
                    Ok(Permit::Explicit)
                } else {
                    match (self.reach, is_loopback(name)) {
                        (Reach::Loopback, true) => Ok(Permit::Loopback),
                        (Reach::Loopback, false) => Err(format!("{name} is not loopback and not allowed{}", self.remedy(name))),
                        (Reach::Public, true) => Err(format!("{name} is this machine (loopback){}", self.remedy(name))),
                        (Reach::Public, false) => Ok(Permit::Public),
                    }
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
        match (self.reach, is_loopback_ip(ip), refusal(ip)) {
            (Reach::Loopback, true, _) => Ok(Permit::Loopback),
            (Reach::Public, true, _) => Err(format!("{ip} is a loopback address{}", self.remedy(&ip.to_string()))),
            (_, false, Some(why)) => Err(format!("{ip} is {why}{}", self.remedy(&ip.to_string()))),
            (Reach::Loopback, false, None) => Err(format!("{ip} is not loopback and not allowed{}", self.remedy(&ip.to_string()))),
            (Reach::Public, false, None) => Ok(Permit::Public),
        }
    }

    /// The addresses of `host` that may be connected to, or why none may.
    ///
    /// # Errors
    /// Why none may, in words.
    pub fn check_addresses(&self, host: &str, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        let explicit = self.is_explicit(host);
        if !explicit && self.reach == Reach::Loopback && !is_loopback(host) {
            return Err(format!("{host} is not loopback and not allowed{}", self.remedy(host)));
        }
        let mut refused = None;
        let allowed: Vec<SocketAddr> = addresses
            .into_iter()
            .filter(|address| {
                let ip = address.ip();
                let why = if ip.is_unspecified() {
                    Some("the unspecified address")
                } else if explicit {
                    None
                } else {
                    match (self.reach, is_loopback_ip(ip)) {
                        (Reach::Loopback, true) => None,
                        (Reach::Loopback, false) => Some(refusal(ip).unwrap_or("not a loopback address")),
                        (Reach::Public, true) => Some("a loopback address"),
                        (Reach::Public, false) => refusal(ip),
                    }
                };
                if let Some(why) = why {
                    refused.get_or_insert_with(|| format!("{host} resolves to {ip}, {why}{}", self.remedy(host)));
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

/// An async HTTP client that reaches only where `policy` allows, at every address a name
/// resolves to: no redirects followed, no proxy, `timeout` for the whole request.
///
/// # Errors
/// When the client cannot be built.
pub fn checked_client(policy: HostPolicy, timeout: Duration, user_agent: &str) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver { policy: Arc::new(policy) }))
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(user_agent)
        .build()
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

/// Why a fetch gave no document, each in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FetchError {
    /// The policy refused the address (or a redirect's).
    Refused(String),
    /// Over [`MAX_FETCH_BYTES`].
    TooLarge,
    /// Not there within the timeout.
    TooSlow(Duration),
    /// HTTP 404.
    NotFound,
    /// HTTP 410 Gone.
    Gone,
    /// Anything else.
    Failed(String),
}

impl FetchError {
    fn reason(&self) -> String {
        match self {
            FetchError::Refused(why) => format!("refused: {why}"),
            FetchError::TooLarge => format!("the document is larger than {} KB, the most fetched", MAX_FETCH_BYTES / 1024),
            FetchError::TooSlow(limit) => format!("too slow: the document did not arrive within {} s", limit.as_secs()),
            FetchError::NotFound => "nothing was found at this address (HTTP 404)".to_string(),
            FetchError::Gone => "gone (HTTP 410)".to_string(),
            FetchError::Failed(why) => why.clone(),
        }
    }
}

/// What one run has fetched so far.
struct FetchState {
    requests: usize,
    started: Instant,
    done: HashMap<String, Result<Arc<str>, FetchError>>,
}

/// Fetches documents over HTTP(S) under a [`HostPolicy`], within the per-run bounds; maps
/// `did:web` DIDs to URLs. Each URL is fetched at most once per run. It blocks: use it from a
/// blocking thread, never from async code.
pub struct HttpLoader {
    client: reqwest::blocking::Client,
    policy: Arc<HostPolicy>,
    fetch_timeout: Duration,
    state: Mutex<FetchState>,
}

impl fmt::Debug for HttpLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpLoader").field("policy", &self.policy).field("fetch_timeout", &self.fetch_timeout).finish_non_exhaustive()
    }
}

impl HttpLoader {
    /// A loader for one run.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(policy: HostPolicy, fetch_timeout: Duration) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy: Arc::clone(&policy) }))
            .connect_timeout(fetch_timeout)
            .user_agent(concat!("cairn-verify/", env!("CARGO_PKG_VERSION")))
            .build()?;
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
        self.policy.permit(&current).map_err(FetchError::Refused)?;
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
                    return Err(FetchError::Refused(format!("the redirect from {current} to {next} was refused: {why}")));
                }
                current = next;
                continue;
            }
            return match status.as_u16() {
                410 => Err(FetchError::Gone),
                404 => Err(FetchError::NotFound),
                _ if !status.is_success() => Err(failed(format!("the server answered HTTP {status}"))),
                _ => read_body(response, deadline, self.fetch_timeout).map(Arc::from),
            };
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
            .map_err(|error| if is_timeout(&error) { FetchError::TooSlow(self.fetch_timeout) } else { FetchError::Failed(error_chain(&error)) })
    }
}

/// The body of `response`, cut off at `deadline` or past [`MAX_FETCH_BYTES`].
fn read_body(mut response: reqwest::blocking::Response, deadline: Instant, fetch_timeout: Duration) -> Result<String, FetchError> {
    if response.content_length().is_some_and(|length| length > MAX_FETCH_BYTES as u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(FetchError::TooSlow(fetch_timeout));
        }
        let read = match response.read(&mut buffer) {
            Ok(read) => read,
            Err(error) if is_timeout(&error) || Instant::now() >= deadline => return Err(FetchError::TooSlow(fetch_timeout)),
            Err(error) => return Err(FetchError::Failed(error_chain(&error))),
        };
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
        if body.len() > MAX_FETCH_BYTES {
            return Err(FetchError::TooLarge);
        }
    }
    String::from_utf8(body).map_err(|_| FetchError::Failed("the document is not UTF-8 text, so not an Open Badge".to_owned()))
}

/// Whether an error, or one of its causes, is a timeout.
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
            Err(error) => Err(LoadError::Unavailable { url: target, reason: error.reason() }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the application holds

/// Documents from other hosts, a loader per verification: what [`crate::App`] holds, so the
/// server, the CLI and tests decide where verification may reach.
pub trait Fetcher: Send + Sync + fmt::Debug {
    /// A loader for one verification run, used from a blocking thread.
    ///
    /// # Errors
    /// Why no loader could be made (the HTTP client could not start), in words.
    fn loader(&self) -> Result<Arc<dyn DocumentLoader + Send + Sync>, String>;
}

/// The [`Fetcher`] over HTTP: an [`HttpLoader`] per run under one policy.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    policy: HostPolicy,
    fetch_timeout: Duration,
}

impl HttpFetcher {
    pub fn new(policy: HostPolicy, fetch_timeout: Duration) -> Self {
        Self { policy, fetch_timeout }
    }
}

impl Fetcher for HttpFetcher {
    fn loader(&self) -> Result<Arc<dyn DocumentLoader + Send + Sync>, String> {
        let loader =
            HttpLoader::new(self.policy.clone(), self.fetch_timeout).map_err(|error| format!("cannot start the HTTP client: {}", error_chain(&error)))?;
        Ok(Arc::new(loader))
    }
}

#[cfg(test)]
mod tests;
