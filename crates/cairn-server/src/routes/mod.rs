//! The URL map: every area's router merged in one place, with the cross-cutting layers.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::ensure_csrf_cookie;
use crate::flash::flash;
use crate::problem::{Problem, render_problems};
use crate::state::AppState;

pub(crate) mod api;
mod credentials;
mod did;
mod findable;
mod health;
mod images;
mod oauth;
mod ob;
pub(crate) mod pages;
mod payments;
mod wallet;

/// The whole application.
///
/// Layers, outermost first: request metrics → request id → trace span → security headers → problem rendering →
/// CSRF cookie → flash (notices and failed forms across redirects) → timeout → body limit. The
/// security headers sit outside problem rendering, so error pages and problem documents get them
/// too.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.app.config.max_upload_bytes + 256 * 1024;
    Router::new()
        .merge(health::router())
        .merge(findable::router())
        .merge(pages::router(&state))
        .merge(did::router())
        .merge(images::router())
        .merge(credentials::router())
        .merge(oauth::router())
        .merge(wallet::router())
        .merge(payments::router())
        .nest("/api/v1", api::router())
        .nest("/ims/ob/v3p0", ob::router())
        .fallback(|| async { Problem::not_found("nothing here") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(state.clone(), count_requests))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http_request", request_id, method = %request.method(), path = %request.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(state.clone(), security_headers))
                .layer(middleware::from_fn_with_state(state.clone(), render_problems))
                .layer(middleware::from_fn_with_state(state.clone(), ensure_csrf_cookie))
                .layer(middleware::from_fn_with_state(state.clone(), flash))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30))),
        )
        .with_state(state)
}

/// Counts each request for `/metrics`: in flight while it runs, then by method, route template
/// (`unmatched` for paths no route has) and status, with its latency.
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let metrics = state.app.metrics.clone();
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = request.method().clone();
    let _in_flight = metrics.request_started();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics.request_done(method.as_str(), &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// Marks a response other sites may put in a frame: the embeddable award card, and nothing else.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embeddable;

/// The policy of every page: resources from this origin only (images also as `data:` URLs), no
/// inline script or style, no plugins, forms post here, and no framing.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/// The policy of an [`Embeddable`] response: as strict, except that any site may frame it and it
/// has no forms.
pub(crate) const EMBED_CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *";
/// HSTS for https installations: a year, this host only (an operator adds subdomains at their proxy).
pub(crate) const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The security headers, on every response: `Content-Security-Policy` (a handler may set a
/// stricter one, as SVG documents do), `X-Content-Type-Options: nosniff`, `Referrer-Policy`,
/// `X-Frame-Options: DENY` (not on [`Embeddable`] responses), and `Strict-Transport-Security`
/// when the public URL is https.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let embeddable = response.extensions().get::<Embeddable>().is_some();
    let headers = response.headers_mut();
    let policy = if embeddable { EMBED_CONTENT_SECURITY_POLICY } else { CONTENT_SECURITY_POLICY };
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(policy));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if embeddable {
        headers.remove(header::X_FRAME_OPTIONS);
    } else {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if state.app.config.public_url.scheme() == "https" {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    }
    response
}
