//! `cairn verify`: any Open Badge (OB 3.0 JSON or JWT, CLR 2.0, OB 2.0 hosted, baked PNG/SVG, URL)
//! through `cairn_vc::verify`. Exit 0 valid, 1 invalid, 2 could not check.
//!
//! Offline by default: bundled contexts, `did:key`, and documents given on the command line. Over
//! the network it fetches only from loopback addresses, or from hosts named with `--allow-host`.

use anyhow::{Context as _, bail};
use cairn_vc::loader::{DocumentLoader, LoadError, LoadedDocument, StaticLoader};
use cairn_vc::suites::vc_jwt::TrustedKeys;
use cairn_vc::verify::{Verdict, VerificationReport, VerifyOptions, verify};
use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What `fetch` says for HTTP 410 Gone.
const GONE: &str = "HTTP 410 Gone";

/// Largest document fetched over the network.
const MAX_FETCH_BYTES: u64 = 1024 * 1024;

/// `cairn verify`'s settings.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The credential: a file (JSON, JWT, PNG, SVG), a URL, or - for standard input.
    pub input: String,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
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
    /// Also fetch from this host (repeatable); loopback addresses are always allowed.
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Accept a key carried in a VC-JWT's own header (not bound to the issuer; for test fixtures).
    #[arg(long)]
    pub trust_header_jwk: bool,
}

/// Fetches documents over HTTP(S) from loopback or allowed hosts; maps `did:web` DIDs to URLs.
struct HttpLoader {
    client: reqwest::blocking::Client,
    allowed_hosts: Vec<String>,
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

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

impl HttpLoader {
    fn fetch(&self, url: &str) -> Result<String, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs are fetched".into());
        }
        let host = parsed.host_str().unwrap_or("");
        if !is_loopback(host) && !self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(format!("{host} is not loopback and not allowed (use --allow-host {host})"));
        }
        let response = self.client.get(url).header("accept", "application/ld+json, application/json, */*").send().map_err(|e| e.to_string())?;
        let status = response.status();
        if status == reqwest::StatusCode::GONE {
            return Err(GONE.into());
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let mut body = String::new();
        response.take(MAX_FETCH_BYTES + 1).read_to_string(&mut body).map_err(|e| e.to_string())?;
        if body.len() as u64 > MAX_FETCH_BYTES {
            return Err(format!("larger than {MAX_FETCH_BYTES} bytes"));
        }
        Ok(body)
    }
}

impl DocumentLoader for HttpLoader {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        let target = if url.starts_with("did:web:") {
            did_web_url(url)
        } else if url.starts_with("http") {
            Some(url.to_string())
        } else {
            None
        };
        let Some(target) = target else { return Err(LoadError::Refused { url: url.to_string() }) };
        match self.fetch(&target) {
            Ok(body) => Ok(LoadedDocument::new(url, body)),
            Err(reason) if reason == GONE => Err(LoadError::Gone { url: target }),
            Err(reason) => Err(LoadError::Unavailable { url: target, reason }),
        }
    }
}

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
        Some(text) => time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("--now \"{text}\" is not an RFC 3339 date-time such as 2026-01-01T00:00:00Z"))?
            .unix_timestamp(),
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("cairn-verify/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot start the HTTP client")?;
    let http = Arc::new(HttpLoader { client, allowed_hosts: args.allow_host.clone() });
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
    let report = verify(&input, &VerifyOptions { loader: &loader, jwt_keys: Some(&keys), now, max_clock_skew_secs: 300 });
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_human(&report);
    }
    Ok(match report.verdict {
        Verdict::Valid => 0,
        Verdict::Invalid => 1,
        Verdict::Indeterminate => 2,
    })
}

fn print_human(report: &VerificationReport) {
    let verdict = match report.verdict {
        Verdict::Valid => "VALID",
        Verdict::Invalid => "INVALID",
        Verdict::Indeterminate => "COULD NOT CHECK",
    };
    println!("{verdict} ({})", report.format);
    for check in &report.checks {
        let mark = match check.ok {
            Some(true) => "ok  ",
            Some(false) => "FAIL",
            None => "??  ",
        };
        println!("  {mark} {:<14} {}", check.id, check.detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_maps_to_https_or_loopback_http() {
        assert_eq!(did_web_url("did:web:example.org").as_deref(), Some("https://example.org/.well-known/did.json"));
        assert_eq!(did_web_url("did:web:example.org%3A8443:issuers:1").as_deref(), Some("https://example.org:8443/issuers/1/did.json"));
        assert_eq!(did_web_url("did:web:127.0.0.1%3A8080:issuers:1").as_deref(), Some("http://127.0.0.1:8080/issuers/1/did.json"));
        assert_eq!(did_web_url("did:web:localhost%3A3000").as_deref(), Some("http://localhost:3000/.well-known/did.json"));
        assert_eq!(did_web_url("did:key:z6Mk"), None);
        assert_eq!(did_web_url("did:web:"), None);
    }

    #[test]
    fn only_loopback_is_fetched_unless_allowed() {
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("[::1]") && is_loopback("127.8.9.10"));
        assert!(!is_loopback("10.0.0.1") && !is_loopback("example.org"));
        let loader = HttpLoader { client: reqwest::blocking::Client::new(), allowed_hosts: vec![] };
        let error = loader.fetch("https://example.org/x").unwrap_err();
        assert!(error.contains("--allow-host example.org"), "{error}");
        assert!(loader.fetch("file:///etc/passwd").is_err());
    }

    #[test]
    fn key_file_pairs_split_at_the_last_equals_sign() {
        assert_eq!(pair("https://x/s?a=1=list.json", "--status-list").unwrap(), ("https://x/s?a=1".to_string(), "list.json".to_string()));
        assert!(pair("nofile", "--did-doc").is_err());
    }
}
