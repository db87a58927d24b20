//! Imported badges over the API: `POST /imports` takes the credential as JSON (or
//! `{"url": …}` for a hosted badge), as a JWT in `text/plain`, or as the multipart field `file`
//! (a baked PNG or SVG, a JSON or JWT file); `GET /imports` lists them with their verdicts.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::imports::{self, ImportInput, MAX_IMPORT_BYTES};
use cairn_app::recognition;
use cairn_core::ids::ImportId;
use cairn_store::Import;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{media_type, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{UploadLimits, read_upload};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(list).post(create).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)))
        .route("/imports/{id}", get(show).delete(remove))
}

/// A badge file sent to be imported.
const BADGE_FILE: UploadLimits = UploadLimits { file_fields: &["file"], max_file_bytes: MAX_IMPORT_BYTES, text_fields: &[] };

/// An import as the API shows it.
pub(crate) fn import_json(import: &Import) -> Value {
    json!({
        "id": import.id.to_string(),
        "verdict": import.check.verdict.as_str(),
        "verdict_text": imports::verdict_words(&import.check),
        "detail": import.check.detail,
        "verified_at": timestamp(import.check.verified_at),
        "name": import.name,
        "issuer": import.issuer_name,
        "issuer_id": import.issuer_id,
        "achievement_id": import.achievement_id,
        "format": import.format,
        "source": import.source.as_str(),
        "created_at": timestamp(import.created_at),
    })
}

async fn create(State(state): State<AppState>, caller: ApiCaller, headers: HeaderMap, request: Request) -> Result<(StatusCode, Json<Value>), Problem> {
    caller.require_user()?;
    let content_type = media_type(&headers);
    let input = if content_type == "multipart/form-data" {
        let form = read_upload(request, &BADGE_FILE).await?;
        let file = form.file.ok_or_else(|| Problem::invalid_field("/file", "send the badge as the multipart field \"file\""))?;
        ImportInput::File(file.bytes)
    } else {
        let body = axum::body::to_bytes(request.into_body(), MAX_IMPORT_BYTES + 1)
            .await
            .map_err(|_| Problem::too_large(format!("a badge to import may be at most {} MB", MAX_IMPORT_BYTES / (1024 * 1024))))?;
        let text = String::from_utf8(body.to_vec()).map_err(|_| Problem::malformed("the body is not UTF-8 text"))?;
        if content_type.starts_with("application/json") || content_type.starts_with("application/ld+json") {
            let value: Value = serde_json::from_str(&text).map_err(|error| Problem::malformed(format!("the body is not JSON: {error}")))?;
            match value.as_object() {
                // `{"url": …}` names a hosted badge; any other object is the credential itself.
                Some(object) if object.len() == 1 && object.contains_key("url") => {
                    ImportInput::Text(object["url"].as_str().ok_or_else(|| Problem::invalid_field("/url", "give the address as a string"))?.to_string())
                }
                Some(_) => ImportInput::Text(text),
                None => return Err(Problem::invalid_field("", "send the credential as a JSON object, or {\"url\": …}")),
            }
        } else if content_type.starts_with("text/plain") || content_type.starts_with("application/vc+jwt") || content_type.starts_with("application/jwt") {
            ImportInput::Text(text)
        } else {
            return Err(Problem::unsupported_media_type(
                "send the credential as application/json, a JWT as text/plain, or a file as multipart/form-data (field \"file\")",
            ));
        }
    };
    let import = imports::import(&state.app, &caller.actor, input).await?;
    Ok((StatusCode::CREATED, Json(import_json(&import))))
}

/// An import with the achievements here that it counts as, by issuers' equivalency rules.
async fn import_with_equivalents(state: &AppState, import: &Import) -> Result<Value, Problem> {
    let mut value = import_json(import);
    let counts = recognition::counts_as(&state.app, import).await?;
    value["counts_as"] = json!(
        counts
            .iter()
            .map(|c| json!({"achievement_id": c.achievement.id.to_string(), "name": c.achievement.content.name, "issuer": c.organisation_name}))
            .collect::<Vec<_>>()
    );
    Ok(value)
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    caller.require_user()?;
    let mut items = Vec::new();
    for import in imports::list(&state.app, &caller.actor).await? {
        items.push(import_with_equivalents(&state, &import).await?);
    }
    Ok(Json(json!({ "items": items })))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    caller.require_user()?;
    let id: ImportId = path_id(&id, "imported badge")?;
    let import = imports::show(&state.app, &caller.actor, id).await?;
    Ok(Json(import_with_equivalents(&state, &import).await?))
}

async fn remove(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    caller.require_user()?;
    let id: ImportId = path_id(&id, "imported badge")?;
    imports::remove(&state.app, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
