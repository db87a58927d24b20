//! Transcripts in the browser: `/transcript`, where learners choose the awards of their CLR 2.0
//! transcript and its form, and download it (`/transcript/download`); and an issuer's download of
//! one learner's transcript with it, linked from the awards table of its assessment page. The use
//! cases are `cairn_app::transcripts`; the downloads are GET requests that change nothing.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use cairn_app::transcripts::{self, TranscriptFormat};
use cairn_core::ids::{OrganisationId, UserId};

use super::learner::layout;
use super::{Layout, human_date, render, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::path_id;
use crate::problem::Problem;
use crate::routes::api::transcripts::{transcript_query, transcript_response};
use crate::state::AppState;

/// The media type of a JSON-LD verifiable credential, for the downloaded file.
const VC_JSON: &str = "application/vc+ld+json";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/transcript", get(choose))
        .route("/transcript/download", get(download))
        .route("/issuers/{id}/learners/{learner}/transcript.json", get(issuer_json))
        .route("/issuers/{id}/learners/{learner}/transcript.jwt", get(issuer_jwt))
}

/// One award to tick.
#[derive(Debug, Clone)]
struct ChoiceView {
    id: String,
    name: String,
    issuer: String,
    issued: String,
}

#[derive(Template)]
#[template(path = "transcript.html")]
struct TranscriptPage {
    layout: Layout,
    choices: Vec<ChoiceView>,
}

async fn choose(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/transcript"));
    }
    let choices = transcripts::choices(&state.app, &viewer.actor)
        .await?
        .into_iter()
        .map(|choice| ChoiceView {
            id: choice.award.id.to_string(),
            name: choice.achievement_name,
            issuer: choice.issuer_name,
            issued: human_date(choice.award.issued_at),
        })
        .collect();
    render(&TranscriptPage { layout: layout(&viewer, &csrf), choices })
}

fn today(state: &AppState) -> String {
    cairn_vc::dates::rfc3339(state.app.now()).chars().take(10).collect()
}

async fn download(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/transcript"));
    }
    let query = transcript_query(raw.as_deref())?;
    let format = TranscriptFormat::parse(query.format.as_deref())?;
    let transcript = transcripts::learner_transcript(&state.app, &viewer.actor, &query.awards, format).await?;
    let name = transcript.file_name(&today(&state));
    Ok(transcript_response(transcript, VC_JSON, Some(&name)))
}

async fn issuer_download(state: &AppState, viewer: &Viewer, id: &str, learner: &str, format: TranscriptFormat) -> Result<Response, Problem> {
    let organisation: OrganisationId = path_id(id, "organisation")?;
    let learner: UserId = path_id(learner, "learner")?;
    let transcript = transcripts::issuer_transcript(&state.app, &viewer.actor, organisation, learner, format).await?;
    let name = transcript.file_name(&today(state));
    Ok(transcript_response(transcript, VC_JSON, Some(&name)))
}

async fn issuer_json(State(state): State<AppState>, viewer: Viewer, Path((id, learner)): Path<(String, String)>) -> Result<Response, Problem> {
    issuer_download(&state, &viewer, &id, &learner, TranscriptFormat::DataIntegrity).await
}

async fn issuer_jwt(State(state): State<AppState>, viewer: Viewer, Path((id, learner)): Path<(String, String)>) -> Result<Response, Problem> {
    issuer_download(&state, &viewer, &id, &learner, TranscriptFormat::Jwt).await
}
