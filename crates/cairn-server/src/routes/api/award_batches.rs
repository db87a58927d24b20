//! Bulk award over the API: `POST /organisations/{id}/award-batches` takes a CSV file as the
//! `text/csv` body (columns `email`, `name`, `achievement_id`, optional `narrative`,
//! `evidence_url`), checks it and starts awarding it in the background: `202` with the batch.
//! `GET …/award-batches/{batch}` says how far it is, with every row that failed and why.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::award_batches::{self, BatchStatus};
use cairn_core::award_batch::MAX_BYTES;
use cairn_core::ids::{AwardBatchId, OrganisationId};
use cairn_store::{AwardBatch, BatchRow, BatchRowState};
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{media_type, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{id}/award-batches", get(list).post(create).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)))
        .route("/organisations/{id}/award-batches/{batch}", get(show))
}

fn rows_json(rows: &[BatchRow]) -> Vec<Value> {
    rows.iter().map(|row| json!({"row": row.line, "email": row.fields.email, "detail": row.detail})).collect()
}

/// A batch as the API shows it; with its failed and skipped rows when they are given.
pub(crate) fn batch_json(state: &AppState, batch: &AwardBatch, failed: Option<&[BatchRow]>, skipped: Option<&[BatchRow]>) -> Value {
    let mut json = json!({
        "id": batch.id.to_string(),
        "organisation_id": batch.organisation.to_string(),
        "file_name": batch.file_name,
        "status": BatchStatus::of(batch).as_str(),
        "total": batch.total,
        "pending": batch.pending,
        "awarded": batch.awarded,
        "skipped": batch.skipped,
        "failed": batch.failed,
        "created_at": timestamp(batch.created_at),
        "started_at": batch.started_at.map(timestamp),
        "finished_at": batch.finished_at.map(timestamp),
        "links": {"self": state.app.config.url(&format!("/api/v1/organisations/{}/award-batches/{}", batch.organisation, batch.id))},
    });
    if let Some(failed) = failed {
        json["errors"] = Value::Array(rows_json(failed));
    }
    if let Some(skipped) = skipped {
        json["skipped_rows"] = Value::Array(rows_json(skipped));
    }
    json
}

/// The file name from `Content-Disposition: attachment; filename="…"`, if any.
fn file_name(headers: &HeaderMap) -> String {
    let disposition = headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("");
    disposition
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("filename="))
        .map(|name| name.trim_matches('"').to_string())
        .next()
        .unwrap_or_else(|| "awards.csv".into())
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    if media_type(&headers) != "text/csv" {
        return Err(Problem::unsupported_media_type("send the file as the text/csv body"));
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BYTES + 1)
        .await
        .map_err(|_| Problem::too_large(format!("a file of awards may be at most {} MB", MAX_BYTES / (1024 * 1024))))?;
    let batch = award_batches::upload(&state.app, &caller.actor, id, &file_name(&headers), &body, true).await?;
    Ok((StatusCode::ACCEPTED, Json(batch_json(&state, &batch, None, None))))
}

async fn list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let all = award_batches::list(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": all.iter().map(|b| batch_json(&state, b, None, None)).collect::<Vec<_>>()})))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path((id, batch)): Path<(String, String)>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let batch: AwardBatchId = path_id(&batch, "award batch")?;
    let found = award_batches::get(&state.app, &caller.actor, id, batch).await?;
    let limit = u32::try_from(cairn_core::award_batch::MAX_ROWS).unwrap_or(u32::MAX);
    let failed = award_batches::rows(&state.app, &caller.actor, id, batch, &[BatchRowState::Failed], 0, limit).await?;
    let skipped = award_batches::rows(&state.app, &caller.actor, id, batch, &[BatchRowState::Skipped], 0, limit).await?;
    Ok(Json(batch_json(&state, &found, Some(&failed), Some(&skipped))))
}
