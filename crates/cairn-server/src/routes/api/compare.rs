//! Comparing achievements over the API: `GET /compare?achievements=ID,ID` (or the parameter
//! repeated), two to four published achievements, each as `GET /achievements/{id}` shows it with
//! its fee in words, effort and validity in words, and the issuer's outcome figures where it
//! publishes them. Anyone may call it. The use case is `cairn_app::compare`.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::AppError;
use cairn_app::compare::{self, Compared};
use cairn_core::compare::Selection;
use serde_json::{Value, json};

use crate::dto::{achievement_json, outcomes_json};
use crate::problem::Problem;
use crate::routes::pages::chosen_values;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/compare", get(compare))
}

fn compared_json(state: &AppState, compared: &Compared) -> Value {
    let achievement = &compared.listed.achievement;
    let content = &achievement.content;
    json!({
        "achievement": achievement_json(&state.app.config, &compared.listed),
        "fee_label": cairn_core::fees::fee_label(achievement, compared.parent.as_ref()),
        "effort": content.effort_text(),
        "validity": content.validity_text(),
        "outcomes": outcomes_json(&compared.outcomes),
    })
}

/// 422 `invalid-input` for fewer than two or more than four, an id that does not parse, or one
/// that is unknown or not published (pointer `/achievements/{index}`).
async fn compare(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let selection = Selection::parse(&chosen_values(raw.as_deref(), "achievements")).map_err(AppError::from)?;
    let compared = compare::compare(&state.app, &selection).await?;
    Ok(Json(json!({"items": compared.iter().map(|c| compared_json(&state, c)).collect::<Vec<_>>()})))
}
