//! Direct award over the API: `POST /organisations/{id}/awards` offers an achievement to an
//! e-mail address, which is e-mailed a claim link (`cairn_app::offers`); an `Idempotency-Key`
//! header makes the request safe to send again. The direct awards are listed, read and withdrawn
//! under the same path.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::offers;
use cairn_core::assessment::ScoreFields;
use cairn_core::ids::{AwardOfferId, OrganisationId};
use cairn_core::offer::{EvidenceFields, OfferFields};
use cairn_store::AwardOffer;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/organisations/{id}/awards", get(list).post(create)).route("/organisations/{id}/awards/{offer}", get(show).delete(withdraw))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipientInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceInput {
    #[serde(default)]
    url: String,
    #[serde(default)]
    name: Option<String>,
}

/// A level by name (`"Proficient"`) or by its 1-based number (`3` or `"3"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum LevelInput {
    Number(u64),
    Name(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultInput {
    #[serde(default)]
    criterion: String,
    level: LevelInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferInput {
    #[serde(default)]
    achievement_id: String,
    recipient: RecipientInput,
    #[serde(default)]
    narrative: Option<String>,
    #[serde(default)]
    evidence: Vec<EvidenceInput>,
    #[serde(default)]
    results: Vec<ResultInput>,
}

/// A direct award as the API shows it.
pub(crate) fn offer_json(state: &AppState, offer: &AwardOffer) -> Value {
    let config = &state.app.config;
    json!({
        "id": offer.id.to_string(),
        "organisation_id": offer.organisation.to_string(),
        "achievement_id": offer.achievement.to_string(),
        "recipient": {"email": offer.email.to_string(), "name": offer.name},
        "narrative": offer.narrative,
        "evidence": offer.evidence.iter().map(|(url, name)| json!({"url": url, "name": name})).collect::<Vec<_>>(),
        "results": cairn_app::awards::parse_results(&offer.results_json)
            .iter()
            .map(|r| json!({"criterion": r.criterion, "criterion_name": r.criterion_name, "level": r.level, "level_name": r.level_name}))
            .collect::<Vec<_>>(),
        "status": offer.state().as_str(),
        "created_at": timestamp(offer.created_at),
        "claimed_at": offer.claimed_at.map(timestamp),
        "withdrawn_at": offer.withdrawn_at.map(timestamp),
        "award_id": offer.award.map(|a| a.to_string()),
        "links": {
            "self": config.url(&format!("/api/v1/organisations/{}/awards/{}", offer.organisation, offer.id)),
            "award": offer.award.map(|a| config.url(&format!("/awards/{a}"))),
        },
    })
}

/// Offers an achievement to an address: 201 with the direct award; the same request with the
/// same `Idempotency-Key` answers the same award again, with `Idempotent-Replayed: true`.
async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<OfferInput>,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| Problem::from(cairn_app::AppError::invalid_field("/Idempotency-Key", "must be visible ASCII")))?),
        None => None,
    };
    let fields = OfferFields {
        achievement_id: input.achievement_id,
        email: input.recipient.email,
        name: input.recipient.name,
        narrative: input.narrative,
        evidence: input.evidence.into_iter().map(|e| EvidenceFields { url: e.url, name: e.name }).collect(),
        results: input
            .results
            .into_iter()
            .map(|r| ScoreFields {
                criterion: r.criterion,
                level: match r.level {
                    LevelInput::Number(n) => n.to_string(),
                    LevelInput::Name(name) => name,
                },
                comment: String::new(),
            })
            .collect(),
    };
    let offered = offers::offer(&state.app, &caller.actor, id, &fields, key).await?;
    let mut response = (StatusCode::CREATED, Json(offer_json(&state, &offered.offer))).into_response();
    if offered.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

async fn list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let all = offers::list(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": all.iter().map(|o| offer_json(&state, o)).collect::<Vec<_>>()})))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path((id, offer)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let offer: AwardOfferId = path_id(&offer, "direct award")?;
    Ok(Json(offer_json(&state, &offers::get(&state.app, &caller.actor, id, offer).await?)))
}

async fn withdraw(State(state): State<AppState>, caller: ApiCaller, Path((id, offer)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let offer: AwardOfferId = path_id(&offer, "direct award")?;
    Ok(Json(offer_json(&state, &offers::withdraw(&state.app, &caller.actor, id, offer).await?)))
}
