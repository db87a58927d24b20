//! The imported-badges page: the learner's badges from elsewhere with the verdict of their last
//! verification, and the form that imports one more (a file, pasted JSON or JWT, or a web
//! address), through `cairn_app::imports`.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::imports::{self, ImportInput, MAX_IMPORT_BYTES};
use cairn_app::recognition;
use cairn_core::ids::ImportId;
use cairn_store::{Import, ImportVerdict};

use super::form::{Field, FieldErrors};
use super::learner::layout;
use super::verify::{Given, chosen_input, read_multipart};
use super::{Layout, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(imports_page).post(import_badge).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)))
        .route("/imports/{id}/remove", post(remove_import))
}

/// One imported badge as listed.
struct ImportRow {
    name: String,
    issuer: String,
    verdict: String,
    /// `verdict-valid`, `verdict-invalid` or `verdict-unknown`.
    class: &'static str,
    format: String,
    imported: String,
    remove: String,
    id: String,
    /// The achievements here it counts as, by their issuers' equivalency rules: (id, name, issuer,
    /// whether the learner holds it already).
    counts_as: Vec<(String, String, String, bool)>,
}

impl ImportRow {
    fn of(import: &Import) -> Self {
        ImportRow {
            name: import.name.clone(),
            issuer: import.issuer_name.clone(),
            verdict: imports::verdict_words(&import.check),
            class: match import.check.verdict {
                ImportVerdict::Valid => "verdict-valid",
                ImportVerdict::Invalid => "verdict-invalid",
                ImportVerdict::Indeterminate => "verdict-unknown",
            },
            format: import.format.clone(),
            imported: cairn_vc::dates::day(import.created_at),
            remove: format!("/imports/{}/remove", import.id),
            id: import.id.to_string(),
            counts_as: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    layout: Layout,
    rows: Vec<ImportRow>,
    errors: FieldErrors,
    text: Field,
    url: Field,
    file_error: Option<String>,
    file_hint: String,
}

async fn page(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, given: (&str, &str), errors: FieldErrors) -> Result<ImportsPage, Problem> {
    let mut rows = Vec::new();
    let held = match viewer.actor.user {
        Some(user) => cairn_app::stacks::held(&state.app, user).await?,
        None => Vec::new(),
    };
    for import in imports::list(&state.app, &viewer.actor).await? {
        let mut row = ImportRow::of(&import);
        if import.check.verdict == ImportVerdict::Valid {
            row.counts_as = recognition::counts_as(&state.app, &import)
                .await?
                .into_iter()
                .map(|c| (c.achievement.id.to_string(), c.achievement.content.name, c.organisation_name, held.contains(&c.achievement.id)))
                .collect();
        }
        rows.push(row);
    }
    let (text, url) = given;
    Ok(ImportsPage {
        layout: layout(viewer, csrf),
        rows,
        text: Field::new("import_text", "Paste the badge", text)
            .name("text")
            .textarea(5)
            .hint("Its JSON (Open Badges 2.0 or 3.0, or a CLR transcript), or its JWT.")
            .class("field-wide")
            .error_from(&errors),
        url: Field::new("import_url", "Or give its web address", url)
            .name("url")
            .kind("url")
            .hint("The address of an Open Badges 2.0 assertion or 3.0 credential hosted by its issuer (Credly, Badgr and others).")
            .error_from(&errors),
        file_error: errors.at("import_file"),
        file_hint: format!("A baked badge image (PNG or SVG), or a JSON or JWT file, up to {} MB.", MAX_IMPORT_BYTES / (1024 * 1024)),
        errors,
    })
}

async fn imports_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/imports"));
    }
    render_status(StatusCode::OK, &page(&state, &viewer, &csrf, ("", ""), FieldErrors::default()).await?)
}

async fn import_badge(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, request: Request) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/imports"));
    }
    let given = match read_multipart(&csrf, request, &state).await {
        Ok(given) => given,
        Err(Ok(given)) => {
            let mut errors = FieldErrors::default();
            errors.add(Some(("import_file".into(), "File".into())), &format!("the file is larger than {} MB", MAX_IMPORT_BYTES / (1024 * 1024)));
            return refused(&state, &viewer, &csrf, &given, errors).await;
        }
        Err(Err(problem)) => return Err(problem),
    };
    let input = match chosen_input(&given, "import") {
        Ok(bytes) if given.file_chosen => ImportInput::File(bytes),
        Ok(bytes) => ImportInput::Text(String::from_utf8_lossy(&bytes).into_owned()),
        Err(errors) => return refused(&state, &viewer, &csrf, &given, errors).await,
    };
    match imports::import(&state.app, &viewer.actor, input).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with("/imports", "badge-imported")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::PAYLOAD_TOO_LARGE) => {
            let field = if given.file_chosen {
                ("import_file", "File")
            } else if given.url.trim().is_empty() {
                ("import_text", "Pasted badge")
            } else {
                ("import_url", "Web address")
            };
            let detail = problem.errors.first().map(|e| e.detail.clone()).unwrap_or_else(|| problem.detail.clone());
            let mut errors = FieldErrors::default();
            errors.add(Some((field.0.to_string(), field.1.to_string())), &detail);
            refused(&state, &viewer, &csrf, &given, errors).await
        }
        Err(problem) => Err(problem),
    }
}

/// The page again with what was typed and why it was refused.
async fn refused(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, given: &Given, errors: FieldErrors) -> Result<Response, Problem> {
    let text: String = given.text.chars().take(MAX_IMPORT_BYTES).collect();
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(state, viewer, csrf, (&text, &given.url), errors).await?)
}

/// Removes an imported badge (the form's token is checked by [`FormFields`]).
async fn remove_import(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    let id: ImportId = path_id(&raw, "imported badge")?;
    imports::remove(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with("/imports", "import-removed"))
}
