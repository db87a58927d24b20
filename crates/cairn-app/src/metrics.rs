//! What one instance counts, for `GET /metrics` in the OpenMetrics text format that Prometheus
//! scrapes: requests by route and status with latency histograms, the background runs and what
//! they did, credentials signed by kind, and, read from the database at each scrape, the depth of
//! the effects, mail and webhook outboxes (shared by every instance, so any instance reports
//! them). Counters are per instance; Prometheus sums them over instances.
//!
//! Routes are the router's templates (`/awards/{id}`), never the raw path, so the number of series
//! stays bounded whatever clients ask for.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::jobs::RunReport;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets, in seconds: 1 ms to about 16 s.
const LATENCY_BUCKETS: [f64; 15] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// What a credential was signed for ([`Metrics::signed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// An award's OB 3.0 credential with a Data Integrity proof.
    AwardDataIntegrity,
    /// An award's VC-JWT.
    AwardJwt,
    /// A Bitstring status list credential.
    StatusList,
    /// A CLR transcript.
    Transcript,
    /// A credential bound to a wallet's key.
    Wallet,
}

impl Signed {
    fn as_str(self) -> &'static str {
        match self {
            Signed::AwardDataIntegrity => "award-data-integrity",
            Signed::AwardJwt => "award-jwt",
            Signed::StatusList => "status-list",
            Signed::Transcript => "transcript",
            Signed::Wallet => "wallet",
        }
    }
}

/// Signatures made by this process: counted where signing happens, which is pure code with no
/// application at hand, so the counter is the process's own, shared by every registry.
static SIGNED: std::sync::LazyLock<Family<KindLabels, Counter>> = std::sync::LazyLock::new(Family::default);

/// A credential was signed.
pub fn signed(what: Signed) {
    SIGNED.get_or_create(&KindLabels { kind: what.as_str().to_string() }).inc();
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The instance's metrics (shared by the clones of an [`crate::App`]).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    job_runs: Counter,
    job_failures: Counter,
    job_seconds: Histogram,
    job_work: Family<KindLabels, Counter>,
    queues: Family<QueueLabels, Gauge>,
    scrape_failures: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("cairn");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route template and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to answer HTTP requests, by method and route template", latency.clone());
        let in_flight = Gauge::default();
        registry.register("http_requests_in_flight", "HTTP requests being answered now", in_flight.clone());
        let job_runs = Counter::default();
        registry.register("job_runs", "Background runs (escalations, effects, mail, webhooks, reminders, sweeps) made by this instance", job_runs.clone());
        let job_failures = Counter::default();
        registry.register("job_run_failures", "Background runs that failed with a bug (logged); the next run goes on", job_failures.clone());
        let job_seconds = Histogram::new(LATENCY_BUCKETS);
        registry.register("job_run_duration_seconds", "Time a background run took", job_seconds.clone());
        let job_work = Family::<KindLabels, Counter>::default();
        registry.register(
            "job_work",
            "What background runs did: escalated, effects_done, effects_retried, effects_given_up, mail_sent, mail_failed, webhook_attempts, reminded, blobs_swept",
            job_work.clone(),
        );
        registry.register("credentials_signed", "Credentials signed by this process, by kind", SIGNED.clone());
        let queues = Family::<QueueLabels, Gauge>::default();
        registry.register("outbox_depth", "Work waiting in the shared outboxes: effects, effects_failed (given up), mail, webhooks", queues.clone());
        let scrape_failures = Counter::default();
        registry.register("outbox_depth_read_failures", "Scrapes at which the outbox depth could not be read from the database", scrape_failures.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_string() }).set(1);
        registry.register("build_info", "The running version (always 1)", build);
        Metrics { registry, requests, latency, in_flight, job_runs, job_failures, job_seconds, job_work, queues, scrape_failures }
    }

    /// A request started; the guard counts it as in flight until dropped.
    pub fn request_started(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// A request to `route` (the router's template, or `unmatched`) was answered with `status`
    /// after `seconds`.
    pub fn request_done(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { method: method.to_string(), route: route.to_string(), status }).inc();
        self.latency.get_or_create(&RouteLabels { method: method.to_string(), route: route.to_string() }).observe(seconds);
    }

    /// A background run failed with a bug (a panic), counted apart.
    pub fn job_failed(&self) {
        self.job_failures.inc();
    }

    /// A background run ended after `seconds` having done `report`.
    pub fn job_run(&self, report: &RunReport, seconds: f64) {
        self.job_runs.inc();
        self.job_seconds.observe(seconds);
        let work = [
            ("escalated", report.escalated),
            ("effects_done", report.effects.done),
            ("effects_retried", report.effects.retried),
            ("effects_given_up", report.effects.given_up),
            ("mail_sent", report.sent),
            ("mail_failed", report.failed),
            ("webhook_attempts", report.webhooks),
            ("reminded", report.reminded),
            ("blobs_swept", report.swept),
        ];
        for (kind, count) in work {
            self.job_work.get_or_create(&KindLabels { kind: kind.to_string() }).inc_by(count as u64);
        }
    }

    /// The metrics as OpenMetrics text, with the outbox depths read now (`None` when the database
    /// could not be asked: the gauges keep their last values and a failure is counted).
    pub fn render(&self, depths: Option<cairn_store::QueueDepths>) -> String {
        match depths {
            Some(depths) => {
                for (queue, depth) in
                    [("effects", depths.effects), ("effects_failed", depths.effects_failed), ("mail", depths.mail), ("webhooks", depths.webhooks)]
                {
                    self.queues.get_or_create(&QueueLabels { queue: queue.to_string() }).set(i64::try_from(depth).unwrap_or(i64::MAX));
                }
            }
            None => {
                self.scrape_failures.inc();
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The app's metrics as OpenMetrics text, with the outbox depths read from the database now (at
/// most two seconds; a failure is logged and counted, and the last depths are shown).
pub async fn scrape(app: &crate::App) -> String {
    let depths = match tokio::time::timeout(std::time::Duration::from_secs(2), app.store.queue_depths()).await {
        Ok(Ok(depths)) => Some(depths),
        Ok(Err(error)) => {
            tracing::warn!(%error, "metrics: the outbox depth could not be read");
            None
        }
        Err(_) => {
            tracing::warn!("metrics: the outbox depth took too long to read");
            None
        }
    };
    app.metrics.render(depths)
}

/// The digest `Config::metrics_token_digest` keeps of a metrics token.
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}

/// Whether a scrape presenting the bearer token `presented` may read the metrics: always when no
/// token is configured, else when its digest matches.
pub fn may_read(config: &crate::Config, presented: Option<&str>) -> bool {
    match (&config.metrics_token_digest, presented) {
        (None, _) => true,
        (Some(digest), Some(token)) => token_digest(token) == *digest,
        (Some(_), None) => false,
    }
}

/// Counts a request as in flight while alive.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_token_is_asked_for() {
        let mut config = crate::Config::for_addr("127.0.0.1:8080".parse().unwrap(), "data".into());
        assert!(may_read(&config, None));
        config.metrics_token_digest = Some(token_digest("s3cret"));
        assert!(may_read(&config, Some("s3cret")));
        assert!(!may_read(&config, Some("s3cre")));
        assert!(!may_read(&config, None));
    }

    #[test]
    fn requests_jobs_signatures_and_queues_are_rendered() {
        let metrics = Metrics::new();
        {
            let _guard = metrics.request_started();
            assert!(metrics.render(Some(cairn_store::QueueDepths::default())).contains("cairn_http_requests_in_flight 1"));
        }
        metrics.request_done("GET", "/awards/{id}", 200, 0.003);
        metrics.request_done("GET", "/awards/{id}", 200, 0.2);
        metrics.request_done("POST", "/login", 303, 0.05);
        signed(Signed::AwardJwt);
        let report = RunReport { sent: 2, escalated: 1, ..RunReport::default() };
        metrics.job_run(&report, 0.01);
        let text = metrics.render(Some(cairn_store::QueueDepths { effects: 3, effects_failed: 0, mail: 7, webhooks: 1 }));
        for line in [
            "cairn_http_requests_in_flight 0",
            "cairn_http_requests_total{method=\"GET\",route=\"/awards/{id}\",status=\"200\"} 2",
            "cairn_http_requests_total{method=\"POST\",route=\"/login\",status=\"303\"} 1",
            "cairn_http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/awards/{id}\"} 1",
            "cairn_http_request_duration_seconds_count{method=\"GET\",route=\"/awards/{id}\"} 2",
            "cairn_credentials_signed_total{kind=\"award-jwt\"} ",
            "cairn_job_runs_total 1",
            "cairn_job_work_total{kind=\"mail_sent\"} 2",
            "cairn_outbox_depth{queue=\"mail\"} 7",
            "cairn_outbox_depth{queue=\"effects\"} 3",
            "cairn_build_info{version=\"",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let failed = metrics.render(None);
        assert!(failed.contains("cairn_outbox_depth{queue=\"mail\"} 7"), "the last depth stays");
        assert!(failed.contains("cairn_outbox_depth_read_failures_total 1"));
    }
}
