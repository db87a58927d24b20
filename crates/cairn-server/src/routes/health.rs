//! `GET /healthz`: 200 once the database answers and issuer keys unseal and sign (`"signing":
//! "ok"`, or `"no-keys"` before the first issuer); 503 otherwise.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::health;
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    let health = health::check(&state.app).await?;
    Ok(Json(json!({"status": "ok", "database": health.database, "signing": health.signing.as_str(), "version": health.version})))
}
