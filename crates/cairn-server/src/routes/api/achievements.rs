//! The catalog and achievement authoring over the API.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use cairn_app::catalog::{self, Listed};
use cairn_app::{achievements, stacks};
use cairn_core::achievement::{Achievement, AchievementFields};
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_store::{CatalogQuery, FeeFilter, KindFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::{ContentInput, achievement_json, page_bounds};
use crate::extract::{ApiJson, Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/achievements", get(search))
        .route("/achievements/{id}", get(show).put(update))
        .route("/achievements/{id}/versions/{version}", get(show_version))
        .route("/achievements/{id}/publish", post(publish))
        .route("/achievements/{id}/retire", post(retire))
        .route("/achievements/{id}/image", post(set_image))
        .route("/achievements/{id}/components/{component}/agreement", post(agree))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: Option<String>,
    issuer: Option<String>,
    kind: Option<String>,
    competency: Option<String>,
    fee: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// Parses catalog filters (shared with the catalog page).
pub(crate) fn catalog_query(
    q: Option<String>,
    issuer: Option<&str>,
    kind: Option<&str>,
    competency: Option<String>,
    fee: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<CatalogQuery, Problem> {
    let issuer = match issuer.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<OrganisationId>()
                .map_err(|_| Problem::invalid_field("/issuer", format!("\"{}\" is not an organisation id", raw.chars().take(60).collect::<String>())))?,
        ),
    };
    let kind = match kind.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("micro-badge") => Some(KindFilter::MicroBadge),
        Some("micro-credential") => Some(KindFilter::MicroCredential),
        Some("certificate") => Some(KindFilter::Certificate),
        Some(other) => {
            return Err(Problem::invalid_field(
                "/kind",
                format!("\"{}\" is not a kind (micro-badge, micro-credential or certificate)", other.chars().take(60).collect::<String>()),
            ));
        }
    };
    let fee = match fee.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("free") => Some(FeeFilter::Free),
        Some("paid") => Some(FeeFilter::Paid),
        Some(other) => {
            return Err(Problem::invalid_field("/fee", format!("\"{}\" is not a fee filter (free or paid)", other.chars().take(60).collect::<String>())));
        }
    };
    Ok(CatalogQuery { text: q.filter(|q| !q.trim().is_empty()), issuer, kind, competency: competency.filter(|c| !c.trim().is_empty()), fee, limit, offset })
}

fn listed_json(state: &AppState, listed: &Listed) -> Value {
    achievement_json(&state.app.config, listed)
}

async fn search(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Result<Json<Value>, Problem> {
    let (limit, offset) = page_bounds(params.limit, params.offset)?;
    let query = catalog_query(params.q, params.issuer.as_deref(), params.kind.as_deref(), params.competency, params.fee.as_deref(), limit, offset)?;
    let (items, total) = catalog::search(&state.app, &query).await?;
    let items: Vec<Value> = items.iter().map(|listed| listed_json(&state, listed)).collect();
    Ok(Json(json!({"items": items, "total": total, "limit": limit, "offset": offset})))
}

/// An achievement as the API shows it, with its issuer's name and levels.
async fn one(state: &AppState, achievement: Achievement) -> Result<Json<Value>, Problem> {
    Ok(Json(listed_json(state, &achievements::describe_one(&state.app, achievement).await?)))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    Ok(Json(listed_json(&state, &achievements::listed(&state.app, &caller.actor, id).await?)))
}

async fn show_version(State(state): State<AppState>, caller: ApiCaller, Path((id, version)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let version: u32 = path_id(&version, "version")?;
    Ok(Json(listed_json(&state, &achievements::version(&state.app, &caller.actor, id, version).await?)))
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ContentInput>,
) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = achievements::update(&state.app, &caller.actor, id, &AchievementFields::from(input)).await?;
    one(&state, achievement).await
}

async fn publish(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = achievements::publish(&state.app, &caller.actor, id).await?;
    one(&state, achievement).await
}

async fn retire(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = achievements::retire(&state.app, &caller.actor, id).await?;
    one(&state, achievement).await
}

/// An owner of the component's organisation agrees that the certificate counts it.
async fn agree(State(state): State<AppState>, caller: ApiCaller, Path((id, component)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let component: AchievementId = path_id(&component, "component")?;
    stacks::agree(&state.app, &caller.actor, id, component).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_image(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, request: Request) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let (bytes, declared) = super::upload(request).await?;
    let achievement = achievements::set_image(&state.app, &caller.actor, id, &bytes, declared.as_deref()).await?;
    one(&state, achievement).await
}
