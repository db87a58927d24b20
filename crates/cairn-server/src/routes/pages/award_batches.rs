//! Bulk award in the browser, through `cairn_app::award_batches`: the issuer's page
//! (`/issuers/{id}/award-batches`) takes a CSV file, checks it and shows a preview of what each
//! row will do; confirmed, the batch is awarded in the background while its page shows the
//! progress (it reloads itself until done), then every row that was skipped or failed, and why.
//! A batch stopped by a restart resumes by itself.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::award_batches::{self, BatchStatus};
use cairn_app::offers;
use cairn_core::award_batch::{MAX_BYTES, MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
use cairn_core::ids::{AwardBatchId, OrganisationId};
use cairn_store::{AwardBatch, BatchRow, BatchRowState};

use super::form::FieldErrors;
use super::{Layout, human_datetime, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{UploadLimits, read_upload};

/// Rows a preview shows at most.
const PREVIEW_ROWS: u32 = 500;

const CSV_UPLOAD: UploadLimits = UploadLimits { file_fields: &["file"], max_file_bytes: MAX_BYTES, text_fields: &["csrf"] };

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/{id}/award-batches", get(batches_page).post(upload).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)))
        .route("/issuers/{id}/award-batches/{batch}", get(batch_page))
        .route("/issuers/{id}/award-batches/{batch}/start", post(start))
        .route("/issuers/{id}/award-batches/{batch}/discard", post(discard))
}

/// One batch as listed.
struct BatchLine {
    href: String,
    file_name: String,
    uploaded: String,
    status: String,
    awarded: u64,
    skipped: u64,
    failed: u64,
}

/// One achievement the file may name, with its id.
struct AchievementId {
    name: String,
    id: String,
}

#[derive(Template)]
#[template(path = "award_batches.html")]
struct BatchesPage {
    layout: Layout,
    organisation_name: String,
    direct_awards_href: String,
    action: String,
    errors: FieldErrors,
    file_error: Option<String>,
    batches: Vec<BatchLine>,
    achievements: Vec<AchievementId>,
    required: String,
    optional: String,
    max_rows: usize,
}

/// One row as the batch page shows it.
struct RowLine {
    row: u32,
    email: String,
    name: String,
    achievement: String,
    /// What happens to it, in words.
    outcome: String,
    class: &'static str,
}

#[derive(Template)]
#[template(path = "award_batch.html")]
struct BatchPage {
    layout: Layout,
    organisation_name: String,
    batches_href: String,
    direct_awards_href: String,
    file_name: String,
    uploaded: String,
    /// "preview", "running" or "done".
    status: &'static str,
    total: u64,
    done: u64,
    percent: u64,
    pending: u64,
    awarded: u64,
    skipped: u64,
    failed: u64,
    start_action: String,
    discard_action: String,
    rows: Vec<RowLine>,
    /// Rows left out of the table.
    more_rows: u64,
}

fn status_words(batch: &AwardBatch) -> String {
    match BatchStatus::of(batch) {
        BatchStatus::Preview => "Not started: preview".into(),
        BatchStatus::Running => format!("Awarding: {} of {}", batch.total - batch.pending, batch.total),
        BatchStatus::Done => "Done".into(),
    }
}

async fn list_page(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, id: OrganisationId, errors: FieldErrors) -> Result<BatchesPage, Problem> {
    let overview = offers::overview(&state.app, &viewer.actor, id).await?;
    let batches = award_batches::list(&state.app, &viewer.actor, id).await?;
    Ok(BatchesPage {
        layout: Layout::new(viewer, csrf, None),
        organisation_name: overview.organisation_name,
        direct_awards_href: format!("/issuers/{id}/direct-awards"),
        action: format!("/issuers/{id}/award-batches"),
        file_error: errors.at("batch_file"),
        errors,
        batches: batches
            .iter()
            .map(|b| BatchLine {
                href: format!("/issuers/{id}/award-batches/{}", b.id),
                file_name: b.file_name.clone(),
                uploaded: human_datetime(b.created_at),
                status: status_words(b),
                awarded: b.awarded,
                skipped: b.skipped,
                failed: b.failed,
            })
            .collect(),
        achievements: overview.achievements.iter().map(|a| AchievementId { name: a.content.name.clone(), id: a.id.to_string() }).collect(),
        required: REQUIRED_COLUMNS.join(", "),
        optional: OPTIONAL_COLUMNS.join(", "),
        max_rows: MAX_ROWS,
    })
}

async fn batches_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/award-batches")));
    }
    render_status(StatusCode::OK, &list_page(&state, &viewer, &csrf, id, FieldErrors::default()).await?)
}

fn file_field(_: &str) -> Option<(String, String)> {
    Some(("batch_file".into(), "CSV file".into()))
}

async fn upload(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, request: Request) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let refused = |detail: &str| {
        let mut errors = FieldErrors::default();
        errors.add(file_field(""), detail);
        errors
    };
    let form = match read_upload(request, &CSV_UPLOAD).await {
        Ok(form) => form,
        Err(error) if error.is_too_large() => {
            csrf.verify(error.read.text("csrf"))?;
            let errors = refused(&format!("the file is larger than {} MB", MAX_BYTES / (1024 * 1024)));
            return render_status(StatusCode::PAYLOAD_TOO_LARGE, &list_page(&state, &viewer, &csrf, id, errors).await?);
        }
        Err(error) => return Err(error.into()),
    };
    csrf.verify(form.text("csrf"))?;
    let Some(file) = form.file.filter(|f| !f.bytes.is_empty()) else {
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &list_page(&state, &viewer, &csrf, id, refused("choose a CSV file")).await?);
    };
    let name = file.file_name.clone().unwrap_or_default();
    match award_batches::upload(&state.app, &viewer.actor, id, &name, &file.bytes, false).await.map_err(Problem::from) {
        Ok(batch) => Ok(see_other(&format!("/issuers/{id}/award-batches/{}", batch.id))),
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::from_problem(&problem, file_field, Some("/file"));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &list_page(&state, &viewer, &csrf, id, errors).await?)
        }
        Err(problem) => Err(problem),
    }
}

fn outcome(row: &BatchRow, status: BatchStatus) -> (String, &'static str) {
    let detail = row.detail.clone().unwrap_or_default();
    match row.state {
        BatchRowState::Pending if status == BatchStatus::Preview => ("To award".into(), "outcome-ok"),
        BatchRowState::Pending => ("Waiting".into(), "outcome-wait"),
        BatchRowState::Awarded => ("Awarded: claim link sent".into(), "outcome-ok"),
        BatchRowState::Skipped => (format!("Skipped: {detail}"), "outcome-skip"),
        BatchRowState::Failed => (format!("Cannot be awarded: {detail}"), "outcome-fail"),
    }
}

async fn batch_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, raw_batch)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let batch_id: AwardBatchId = path_id(&raw_batch, "award batch")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/award-batches/{batch_id}")));
    }
    let batch = award_batches::get(&state.app, &viewer.actor, id, batch_id).await?;
    let status = BatchStatus::of(&batch);
    let overview = offers::overview(&state.app, &viewer.actor, id).await?;
    let name_of =
        |raw: &str| overview.achievements.iter().find(|a| a.id.to_string() == raw.trim()).map(|a| a.content.name.clone()).unwrap_or_else(|| raw.to_string());
    // A preview shows every row; afterwards, the rows that were not awarded.
    let states: &[BatchRowState] = if status == BatchStatus::Preview { &[] } else { &[BatchRowState::Skipped, BatchRowState::Failed] };
    let rows = award_batches::rows(&state.app, &viewer.actor, id, batch_id, states, 0, PREVIEW_ROWS).await?;
    let listed = if status == BatchStatus::Preview { batch.total } else { batch.skipped + batch.failed };
    let done = batch.total - batch.pending;
    let page = BatchPage {
        layout: Layout::new(&viewer, &csrf, None),
        organisation_name: overview.organisation_name.clone(),
        batches_href: format!("/issuers/{id}/award-batches"),
        direct_awards_href: format!("/issuers/{id}/direct-awards"),
        file_name: batch.file_name.clone(),
        uploaded: human_datetime(batch.created_at),
        status: status.as_str(),
        total: batch.total,
        done,
        percent: (done * 100).checked_div(batch.total).unwrap_or(100),
        pending: batch.pending,
        awarded: batch.awarded,
        skipped: batch.skipped,
        failed: batch.failed,
        start_action: format!("/issuers/{id}/award-batches/{batch_id}/start"),
        discard_action: format!("/issuers/{id}/award-batches/{batch_id}/discard"),
        more_rows: listed.saturating_sub(rows.len() as u64),
        rows: rows
            .iter()
            .map(|row| {
                let (outcome, class) = outcome(row, status);
                RowLine {
                    row: row.line,
                    email: row.fields.email.clone(),
                    name: row.fields.name.clone(),
                    achievement: name_of(&row.fields.achievement_id),
                    outcome,
                    class,
                }
            })
            .collect(),
    };
    let mut response = render_status(StatusCode::OK, &page)?;
    if status == BatchStatus::Running {
        // The page follows the batch: it reloads itself every two seconds until it is done.
        response.headers_mut().insert("refresh", axum::http::HeaderValue::from_static("2"));
    }
    Ok(response)
}

async fn start(State(state): State<AppState>, viewer: Viewer, Path((raw, raw_batch)): Path<(String, String)>, _form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let batch: AwardBatchId = path_id(&raw_batch, "award batch")?;
    award_batches::start(&state.app, &viewer.actor, id, batch).await?;
    Ok(see_other_with(&format!("/issuers/{id}/award-batches/{batch}"), "award-batch-started"))
}

async fn discard(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_batch)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let batch: AwardBatchId = path_id(&raw_batch, "award batch")?;
    award_batches::discard(&state.app, &viewer.actor, id, batch).await?;
    Ok(see_other_with(&format!("/issuers/{id}/award-batches"), "award-batch-discarded"))
}
