//! The catalog and achievement authoring over the API.

use axum::extract::{Multipart, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cairn_core::achievement::{Achievement, AchievementFields};
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_store::{CatalogQuery, FeeFilter, KindFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::auth::ApiCaller;
use crate::dto::{ContentInput, achievement_json, page_bounds};
use crate::extract::{ApiJson, Query, path_id};
use crate::ops;
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
        Some(other) => {
            return Err(Problem::invalid_field(
                "/kind",
                format!("\"{}\" is not a kind (micro-badge or micro-credential)", other.chars().take(60).collect::<String>()),
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

/// Renders achievements with their issuers' names and their levels, querying each issuer once.
async fn render_all(state: &AppState, achievements: &[Achievement]) -> Result<Vec<Value>, Problem> {
    let mut issuers: HashMap<OrganisationId, String> = HashMap::new();
    let mut items = Vec::with_capacity(achievements.len());
    for achievement in achievements {
        if let std::collections::hash_map::Entry::Vacant(entry) = issuers.entry(achievement.organisation) {
            entry.insert(state.app.store.organisation(achievement.organisation).await?.profile.name);
        }
        let levels = ops::levels_of(state, achievement).await?;
        items.push(achievement_json(&state.app.config, achievement, &issuers[&achievement.organisation], &levels));
    }
    Ok(items)
}

async fn search(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Result<Json<Value>, Problem> {
    let (limit, offset) = page_bounds(params.limit, params.offset)?;
    let query = catalog_query(params.q, params.issuer.as_deref(), params.kind.as_deref(), params.competency, params.fee.as_deref(), limit, offset)?;
    let page = state.app.store.search_catalog(&query).await?;
    let items = render_all(&state, &page.items).await?;
    Ok(Json(json!({"items": items, "total": page.total, "limit": limit, "offset": offset})))
}

async fn one(state: &AppState, achievement: &Achievement) -> Result<Json<Value>, Problem> {
    Ok(Json(render_all(state, std::slice::from_ref(achievement)).await?.pop().unwrap_or(Value::Null)))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = ops::view_achievement(&state, &caller.actor, id).await?;
    one(&state, &achievement).await
}

async fn show_version(State(state): State<AppState>, caller: ApiCaller, Path((id, version)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let version: u32 = path_id(&version, "version")?;
    ops::view_achievement(&state, &caller.actor, id).await?;
    let achievement = state.app.store.achievement_version(id, version).await?;
    one(&state, &achievement).await
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ContentInput>,
) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = ops::update_achievement(&state, &caller.actor, id, &AchievementFields::from(input)).await?;
    one(&state, &achievement).await
}

async fn publish(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = ops::publish(&state, &caller.actor, id).await?;
    one(&state, &achievement).await
}

async fn retire(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let achievement = ops::retire(&state, &caller.actor, id).await?;
    one(&state, &achievement).await
}

async fn set_image(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, multipart: Multipart) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let (bytes, declared) = super::upload(multipart).await?;
    let achievement = ops::set_achievement_image(&state, &caller.actor, id, &bytes, declared.as_deref()).await?;
    one(&state, &achievement).await
}
