//! The URL map: every area's router merged in one place, with the cross-cutting layers.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::ensure_csrf_cookie;
use crate::problem::{Problem, render_problems};
use crate::state::AppState;

pub(crate) mod api;
mod credentials;
mod did;
mod health;
mod images;
mod pages;

/// The whole application.
///
/// Layers, outermost first: request id → trace span → problem rendering → CSRF cookie →
/// security headers → timeout → body limit.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.app.config.max_upload_bytes + 256 * 1024;
    Router::new()
        .merge(health::router())
        .merge(pages::router())
        .merge(did::router())
        .merge(images::router())
        .merge(credentials::router())
        .nest("/api/v1", api::router())
        .fallback(|| async { Problem::not_found("nothing here") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http_request", request_id, method = %request.method(), path = %request.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(state.clone(), render_problems))
                .layer(middleware::from_fn_with_state(state.clone(), ensure_csrf_cookie))
                .layer(SetResponseHeaderLayer::if_not_present(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("referrer-policy"),
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY")))
                .layer(SetResponseHeaderLayer::if_not_present(
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
                    ),
                ))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30))),
        )
        .with_state(state)
}
