//! Cairn's HTTP layer: server-rendered pages, the JSON API under `/api/v1` with its OpenAPI
//! document, issuer DID documents, badge images, and RFC 9457 problem details for every error.
//!
//! Handlers are thin: parse the request, call one use case of `cairn_app` (which authorises,
//! applies the domain's rules and reads or writes the store), render the answer. Every
//! `cairn_app::AppError` becomes a [`problem::Problem`] in one place. [`app`] builds the whole
//! application as a value, so tests drive it without a socket.
//!
//! ```no_run
//! # async fn run(store: cairn_store::Store) -> std::io::Result<()> {
//! use cairn_app::{App, Config};
//! use cairn_server::{AppState, app};
//! let config = Config::for_addr("127.0.0.1:8080".parse().unwrap(), "data".into());
//! let listener = tokio::net::TcpListener::bind(config.addr).await?;
//! let router = app(AppState::new(App::new(store, config)));
//! axum::serve(listener, router).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![recursion_limit = "512"]

pub mod auth;
mod dto;
pub mod extract;
pub mod flash;
mod openapi;
pub mod problem;
mod routes;
pub mod state;
pub mod upload;

pub use routes::app;

/// What the fuzz targets in `fuzz/` check, not an API: one function per target, also replayed
/// over the committed corpus by `tests/fuzz_corpus.rs`.
#[doc(hidden)]
pub mod fuzzing;
pub use state::AppState;

/// Serves `router` on `listener` until `shutdown` completes, then finishes in-flight requests.
/// Each request knows its peer's address ([`auth::ClientAddress`], for sign-in throttling).
///
/// # Errors
/// I/O errors from the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await
}
