//! `cairn award`: sends a CSV file of direct awards to a Cairn server
//! (`POST /api/v1/organisations/{id}/award-batches`) and follows the batch to the end with a
//! progress bar, then lists every row that failed. The server checks and awards the file; this
//! command only sends it and reads how far it is, so it may be stopped and run again: the same
//! file awards nobody twice.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

#[derive(Debug, Args)]
pub struct AwardArgs {
    /// The server's address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// An API token of the issuer's owner or staff (default: $CAIRN_TOKEN).
    #[arg(long, env = "CAIRN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The issuer's organisation id.
    #[arg(long)]
    pub organisation: String,
    /// Print the finished batch as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// The CSV file.
    pub file: PathBuf,
}

/// Sends the file and follows the batch: 0 when every row was awarded or skipped, 2 when some
/// failed.
///
/// # Errors
/// The file cannot be read, the server cannot be reached, or it refuses the file.
pub fn run(args: &AwardArgs) -> anyhow::Result<u8> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().replace('"', "")).unwrap_or_else(|| "awards.csv".into());
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let base = args.server.trim_end_matches('/');
    let started = Instant::now();
    let response = http
        .post(format!("{base}/api/v1/organisations/{}/award-batches", args.organisation))
        .bearer_auth(&args.token)
        .header("content-type", "text/csv")
        .header("accept", "application/json")
        .header("content-disposition", format!("attachment; filename=\"{name}\""))
        .body(bytes)
        .send()
        .with_context(|| format!("sending to {base}"))?;
    let status = response.status();
    let body: Value = serde_json::from_str(&response.text().unwrap_or_default()).unwrap_or(Value::Null);
    if status.as_u16() != 202 {
        bail!("{status}: {}", problem_words(&body));
    }
    let link = body["links"]["self"].as_str().context("the answer names no batch")?.to_string();
    let total = body["total"].as_u64().unwrap_or(0);
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let batch = loop {
        let text = http.get(&link).bearer_auth(&args.token).header("accept", "application/json").send()?.error_for_status()?.text()?;
        let batch: Value = serde_json::from_str(&text).context("the server's answer is not JSON")?;
        let done = ["awarded", "skipped", "failed"].iter().filter_map(|k| batch[*k].as_u64()).sum();
        bar.set_position(done);
        if batch["status"] == "done" {
            break batch;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&batch)?);
    } else {
        let count = |key: &str| batch[key].as_u64().unwrap_or(0);
        println!(
            "{}: {} rows, {} awarded, {} skipped, {} failed, in {seconds:.1} s ({:.0} rows/s)",
            args.file.display(),
            count("total"),
            count("awarded"),
            count("skipped"),
            count("failed"),
            count("total") as f64 / seconds.max(0.001)
        );
        for (key, what) in [("skipped_rows", "skipped"), ("errors", "failed")] {
            for row in batch[key].as_array().into_iter().flatten() {
                println!("row {} {what}: {}", row["row"], row["detail"].as_str().unwrap_or(""));
            }
        }
    }
    Ok(if batch["failed"].as_u64().unwrap_or(0) > 0 { 2 } else { 0 })
}

/// An RFC 9457 problem in words: its detail and each field error.
fn problem_words(body: &Value) -> String {
    let mut words = body["detail"].as_str().or(body["title"].as_str()).unwrap_or("the server refused the file").to_string();
    for error in body["errors"].as_array().into_iter().flatten() {
        words.push_str(&format!("\n  {}: {}", error["pointer"].as_str().unwrap_or(""), error["detail"].as_str().unwrap_or("")));
    }
    words
}
