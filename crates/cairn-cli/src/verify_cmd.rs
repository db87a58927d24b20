//! `cairn verify`: any Open Badge (OB 3.0 JSON or JWT, CLR 2.0, OB 2.0 hosted, baked PNG/SVG, URL)
//! through `cairn_vc::verify`. Exit 0 valid, 1 invalid, 2 could not check.
//!
//! Offline by default: bundled contexts, `did:key`, and documents given on the command line. Over
//! the network it fetches only from loopback hosts, or from hosts named with `--allow-host`,
//! through the fetcher the verify page uses too (`cairn_app::fetch`: every redirect and every
//! resolved address checked, size, time and request limits), with
//! [`HostPolicy::loopback`](cairn_app::fetch::HostPolicy::loopback).

use anyhow::{Context as _, bail};
use cairn_app::fetch::{DEFAULT_FETCH_TIMEOUT_SECS, HostPolicy, HttpLoader};
use cairn_vc::loader::{DocumentLoader, StaticLoader};
use cairn_vc::suites::vc_jwt::TrustedKeys;
use cairn_vc::verify::{CheckOutcome, Verdict, VerificationReport, VerifyOptions, verify};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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
    let http =
        Arc::new(HttpLoader::new(HostPolicy::loopback(&args.allow_host), Duration::from_secs(args.fetch_timeout)).context("cannot start the HTTP client")?);
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

    #[test]
    fn key_file_pairs_split_at_the_last_equals_sign() {
        assert_eq!(pair("https://x/s?a=1=list.json", "--status-list").unwrap(), ("https://x/s?a=1".to_string(), "list.json".to_string()));
        assert!(pair("nofile", "--did-doc").is_err());
    }
}
