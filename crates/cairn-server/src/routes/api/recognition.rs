//! Recognition of prior learning over the API: a learner's request (`POST /recognitions`),
//! granted at once by an equivalency rule or queued as a submission, and an issuer's
//! equivalency rules (`/organisations/{id}/equivalencies`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cairn_app::awards;
use cairn_app::recognition::{self, EquivalencyView, Recognised, RecognitionFields};
use cairn_core::ids::{EquivalencyId, OrganisationId};
use cairn_core::recognition::EquivalencyFields;
use serde::Deserialize;
use serde_json::{Value, json};

use super::journey::{award_json, submission_json};
use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/recognitions", post(request))
        .route("/organisations/{id}/equivalencies", get(list).post(add))
        .route("/organisations/{id}/equivalencies/{rule}", delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecognitionInput {
    #[serde(default)]
    achievement_id: String,
    #[serde(default)]
    import_id: Option<String>,
    #[serde(default)]
    statement: Option<String>,
}

/// Asks for prior learning to be recognised: 201 with `"status": "awarded"` and the award when
/// an equivalency rule grants it at once, or `"status": "queued"` and the draft submission to
/// complete with evidence and send.
async fn request(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<RecognitionInput>) -> Result<(StatusCode, Json<Value>), Problem> {
    caller.require_user()?;
    let fields = RecognitionFields { achievement_id: input.achievement_id, import_id: input.import_id, statement: input.statement };
    let body = match recognition::request(&state.app, &caller.actor, &fields).await? {
        Recognised::Awarded(award) => {
            let visible = awards::seen_by(&caller.actor, award)?;
            json!({"status": "awarded", "award": award_json(&state, &caller, &visible).await?})
        }
        Recognised::Queued(submission) => {
            let mut value = submission_json(&submission);
            value["links"] = json!({
                "self": state.app.config.url(&format!("/api/v1/submissions/{}", submission.id)),
                "page": state.app.config.url(&format!("/submissions/{}", submission.id)),
            });
            json!({"status": "queued", "submission": value})
        }
    };
    Ok((StatusCode::CREATED, Json(body)))
}

fn rule_json(view: &EquivalencyView) -> Value {
    json!({
        "id": view.rule.id.to_string(),
        "achievement_id": view.rule.achievement.to_string(),
        "achievement_name": view.achievement_name,
        "external_issuer": view.rule.external_issuer,
        "external_achievement": view.rule.external_achievement,
        "note": view.rule.note,
        "created_at": timestamp(view.rule.created_at),
    })
}

async fn list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let rules = recognition::equivalencies(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": rules.iter().map(rule_json).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalencyInput {
    #[serde(default)]
    achievement_id: String,
    #[serde(default)]
    external_issuer: String,
    #[serde(default)]
    external_achievement: String,
    #[serde(default)]
    note: Option<String>,
}

async fn add(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EquivalencyInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let fields = EquivalencyFields {
        achievement_id: input.achievement_id,
        external_issuer: input.external_issuer,
        external_achievement: input.external_achievement,
        note: input.note,
    };
    let view = recognition::add_equivalency(&state.app, &caller.actor, id, &fields).await?;
    Ok((StatusCode::CREATED, Json(rule_json(&view))))
}

async fn remove(State(state): State<AppState>, caller: ApiCaller, Path((id, rule)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let rule: EquivalencyId = path_id(&rule, "equivalency rule")?;
    recognition::remove_equivalency(&state.app, &caller.actor, id, rule).await?;
    Ok(StatusCode::NO_CONTENT)
}
