//! Cairn's application layer: every use case — apply, submit, assign, assess, confirm, award,
//! stack, revoke, notify, escalate, settings, accounts, organisations, authoring, the catalog —
//! as one `async fn` over an [`App`], shared by the HTTP server, the background jobs and the CLI.
//!
//! A use case authorises through `cairn_core::authz`, applies the domain's rules from
//! `cairn_core`, and records through `cairn_store`; it knows nothing of HTTP. Every one returns
//! [`AppError`], whose variants say what went wrong (`NotFound`, `Conflict`, `Invalid`…); the
//! server maps them to problem types in one place.
//!
//! ```no_run
//! # async fn run(store: cairn_store::Store) -> Result<(), cairn_app::AppError> {
//! use cairn_app::{App, AppError, Config, organisations};
//! use cairn_core::authz::Actor;
//! use cairn_core::organisation::{OrganisationFields, OrganisationKind};
//!
//! let config = Config::for_addr("127.0.0.1:8080".parse().unwrap(), "data".into());
//! let app = App::new(store, config);
//! // Anyone may list the issuers; creating one needs someone signed in.
//! let issuers = organisations::list(&app).await?;
//! let refused = organisations::create(&app, &Actor::anonymous(), &OrganisationFields::default(), OrganisationKind::Issuer).await;
//! assert!(matches!(refused, Err(AppError::Unauthenticated)));
//! # let _ = issuers;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod accounts;
pub mod achievements;
pub mod assessment;
pub mod assignment;
pub mod award_batches;
pub mod awards;
pub mod caches;
pub mod catalog;
pub mod compare;
pub mod config;
pub mod crash;
pub mod demo;
pub mod discovery;
pub mod effects;
pub mod error;
pub mod fees;
pub mod fetch;
pub mod findable;
pub mod health;
pub mod home;
pub mod imports;
pub mod insight;
pub mod invitations;
pub mod issuer;
pub mod jobs;
pub mod metrics;
pub mod moderation;
pub mod notify;
pub mod oauth;
pub mod ob_api;
pub mod offers;
pub mod oidc;
pub mod organisations;
pub mod outcomes;
pub mod payments;
pub mod recognition;
pub mod renewals;
pub mod stacks;
pub mod submissions;
pub mod synthetic;
pub mod talent;
pub mod transcripts;
pub mod urls;
pub mod verification;
pub mod wallet;
pub mod webhooks;

use cairn_store::Store;
use std::sync::Arc;
use time::OffsetDateTime;

pub use config::Config;
pub use error::{AppError, ConflictKind, Throttle};

/// The time source; tests pass a fixed clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// What every use case works with: the store, the configuration and the clock, plus the
/// process's shared state: the public surface's caches (see [`caches`]) and the guards for
/// sign-ins (the password hashing queue, the failed sign-in counts). Cheap to clone; clones
/// share the caches and the guards.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub caches: Arc<caches::Caches>,
    pub passwords: Arc<accounts::PasswordHashing>,
    /// Failed sign-ins, per account and client address.
    pub login_throttle: Arc<accounts::LoginThrottle>,
    /// Sign-up attempts, per e-mail address and client address, with the same limits.
    pub signup_throttle: Arc<accounts::LoginThrottle>,
    /// Password reset requests, per e-mail address and client address, with the same limits.
    pub reset_throttle: Arc<accounts::LoginThrottle>,
    /// OAuth client registrations, per client address, with the sign-in limit per address.
    pub registration_throttle: Arc<accounts::LoginThrottle>,
    /// Where verification may fetch documents from other sites ([`fetch`]): public addresses,
    /// and the hosts `Config::verify_allow_hosts` names.
    pub fetcher: Arc<dyn fetch::Fetcher>,
    /// What this instance counts, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Whether the instance is stopping: `/readyz` says so and background work ends after its
    /// current run.
    pub lifecycle: Arc<health::Lifecycle>,
}

impl App {
    /// An application on `store` with the system clock.
    pub fn new(store: Store, config: Config) -> App {
        let passwords = Arc::new(accounts::PasswordHashing::new(config.hashing_concurrency));
        let limits = accounts::throttle::Limits {
            per_account: config.login_failures_per_account,
            per_address: config.login_failures_per_address,
            period: time::Duration::minutes(i64::from(config.login_throttle_minutes)),
        };
        let login_throttle = Arc::new(accounts::LoginThrottle::new(limits));
        let signup_throttle = Arc::new(accounts::LoginThrottle::new(limits));
        let reset_throttle = Arc::new(accounts::LoginThrottle::new(limits));
        let registration_throttle = Arc::new(accounts::LoginThrottle::new(limits));
        let policy = fetch::HostPolicy::public(&config.verify_allow_hosts);
        let fetcher = Arc::new(fetch::HttpFetcher::new(policy, std::time::Duration::from_secs(fetch::DEFAULT_FETCH_TIMEOUT_SECS)));
        App {
            store,
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            caches: Arc::default(),
            passwords,
            login_throttle,
            signup_throttle,
            reset_throttle,
            registration_throttle,
            fetcher,
            metrics: Arc::default(),
            lifecycle: Arc::default(),
        }
    }

    /// The current time, truncated to whole seconds (what the store keeps).
    pub fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// An RFC 3339 timestamp (`2026-11-22T10:00:00Z`), as the API and exports show times
/// (`cairn_vc::dates::rfc3339`).
pub use cairn_vc::dates::rfc3339 as timestamp;
