//! `GET /healthz`: 200 once the database answers.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    state.app.store.ping().await.map_err(|_| Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is not reachable"))?;
    Ok(Json(json!({"status": "ok", "database": state.app.store.backend().as_str(), "version": env!("CARGO_PKG_VERSION")})))
}
