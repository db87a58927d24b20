//! Probes for operators and load balancers:
//! - `GET /healthz`: 200 once the database answers and issuer keys unseal and sign (`"signing":
//!   "ok"`, or `"no-keys"` before the first issuer); 503 otherwise.
//! - `GET /readyz`: 200 while this instance should get traffic (the database and the blob store
//!   answer, and it is not shutting down); 503 naming what is not ready. Cheap: it signs nothing.
//! - `GET /metrics`: the instance's metrics in the OpenMetrics text format
//!   ([`cairn_app::metrics`]), behind a bearer token when `CAIRN_METRICS_TOKEN` is set.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::{health, metrics};
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(read_metrics))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    health::ready(&state.app).await?;
    Ok(Json(json!({"status": "ready"})))
}

async fn read_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let presented = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !metrics::may_read(&state.app.config, presented) {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "the metrics need the bearer token set in CAIRN_METRICS_TOKEN").into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer realm=\"metrics\""));
        return response;
    }
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], metrics::scrape(&state.app).await).into_response()
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    let health = health::check(&state.app).await?;
    Ok(Json(json!({"status": "ok", "database": health.database, "signing": health.signing.as_str(), "version": health.version})))
}
