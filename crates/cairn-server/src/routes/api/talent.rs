//! Discovery over the API: an employer's talent search, compare, shortlist and contact requests
//! (`/talent…`, for members of employer organisations only), and the learner's side — who looked
//! at them and their answers to contact requests (`/me/…`). The handle and discoverability are
//! set with `PATCH /me` (`accounts.rs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use cairn_app::discovery::{self, ShownAward};
use cairn_app::talent::{self, TalentLearner};
use cairn_core::discovery::TalentFields;
use cairn_core::ids::{ContactRequestId, OrganisationId};
use cairn_core::organisation::Organisation;
use cairn_store::{ContactRequest, Talent};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/talent", get(search))
        .route("/talent/compare", get(compare))
        .route("/talent/learners/{handle}", get(profile))
        .route("/talent/shortlist", get(shortlist))
        .route("/talent/shortlist/{handle}", put(add_to_shortlist).delete(remove_from_shortlist))
        .route("/talent/contact-requests", get(sent_requests).post(request_contact))
        .route("/me/contact-requests", get(received_requests))
        .route("/me/contact-requests/{id}", post(answer))
        .route("/me/talent-activity", get(activity))
}

/// The employer to act for, when the caller belongs to more than one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForOrganisation {
    organisation: Option<String>,
}

fn organisation(raw: Option<&str>) -> Result<Option<OrganisationId>, Problem> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|raw| {
            raw.parse()
                .map_err(|_| Problem::invalid_field("/organisation", format!("\"{}\" is not an organisation id", raw.chars().take(60).collect::<String>())))
        })
        .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    organisation: Option<String>,
    q: Option<String>,
    competency: Option<String>,
    framework: Option<String>,
    code: Option<String>,
    achievement: Option<String>,
    issuer: Option<String>,
    criterion: Option<String>,
    min_level: Option<String>,
    unexpired: Option<String>,
    recent_days: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A yes/no query parameter: `true`/`1`/`on` or `false`/`0`/`off`.
pub(crate) fn flag(raw: Option<&str>, pointer: &str) -> Result<Option<bool>, Problem> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true" | "1" | "on" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "off" | "no") => Ok(Some(false)),
        Some(other) => Err(Problem::invalid_field(pointer, format!("\"{}\" is not true or false", other.chars().take(60).collect::<String>()))),
    }
}

fn organisation_ref(organisation: &Organisation) -> Value {
    json!({"id": organisation.id.to_string(), "name": organisation.profile.name})
}

fn learner_json(state: &AppState, talent: &Talent) -> Value {
    json!({"handle": talent.handle.as_str(), "name": talent.name, "portfolio": state.app.config.urls().portfolio(talent.handle.as_str())})
}

/// A public award as discovery shows it: what it is, who issued it, when, until when, the level
/// reached on each criterion, the competencies, and the evidence the learner made public.
pub(crate) fn shown_award_json(state: &AppState, shown: &ShownAward) -> Value {
    let award = &shown.award;
    json!({
        "id": award.id.to_string(),
        "page": state.app.config.urls().award_page(award.id),
        "achievement": {
            "id": award.achievement.to_string(),
            "name": shown.achievement.content.name,
            "kind": shown.achievement.kind.as_str(),
            "page": state.app.config.urls().achievement_page(award.achievement),
        },
        "issuer": {"id": award.organisation.to_string(), "name": shown.organisation_name},
        "issued_at": timestamp(award.issued_at),
        "valid_until": award.valid_until.map(timestamp),
        "expired": shown.expired,
        "results": shown.results.iter().map(|r| json!({
            "criterion": r.criterion,
            "criterion_name": r.criterion_name,
            "level": r.level,
            "level_name": r.level_name,
            "required_level_name": r.required_level_name,
        })).collect::<Vec<_>>(),
        "competencies": shown.achievement.content.alignments.iter().map(crate::dto::alignment_json).collect::<Vec<_>>(),
        "evidence": shown.evidence.iter().map(|(name, url)| json!({"name": name, "url": url})).collect::<Vec<_>>(),
    })
}

fn talent_json(state: &AppState, learner: &TalentLearner) -> Value {
    json!({
        "learner": learner_json(state, &learner.talent),
        "shortlisted": learner.shortlisted,
        "awards": learner.awards.iter().map(|a| shown_award_json(state, a)).collect::<Vec<_>>(),
    })
}

/// Searches the learners who chose to be found (employers' members only).
async fn search(State(state): State<AppState>, caller: ApiCaller, Query(params): Query<SearchParams>) -> Result<Json<Value>, Problem> {
    let organisation = organisation(params.organisation.as_deref())?;
    let fields = TalentFields {
        unexpired: flag(params.unexpired.as_deref(), "/unexpired")?,
        q: params.q,
        competency: params.competency,
        framework: params.framework,
        code: params.code,
        achievement: params.achievement,
        issuer: params.issuer,
        criterion: params.criterion,
        min_level: params.min_level,
        recent_days: params.recent_days,
        limit: params.limit,
        offset: params.offset,
    };
    let results = talent::search(&state.app, &caller.actor, organisation, &fields).await?;
    Ok(Json(json!({
        "organisation": organisation_ref(&results.organisation),
        "total": results.total,
        "total_capped": results.total_capped,
        "limit": results.query.limit,
        "offset": results.query.offset,
        "items": results.learners.iter().map(|l| talent_json(&state, l)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareParams {
    organisation: Option<String>,
    #[serde(default)]
    learners: String,
}

/// Two to four learners side by side.
async fn compare(State(state): State<AppState>, caller: ApiCaller, Query(params): Query<CompareParams>) -> Result<Json<Value>, Problem> {
    let organisation = organisation(params.organisation.as_deref())?;
    let learners = talent::compare(&state.app, &caller.actor, organisation, &[params.learners]).await?;
    Ok(Json(json!({"items": learners.iter().map(|l| talent_json(&state, l)).collect::<Vec<_>>()})))
}

async fn profile(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(handle): Path<String>,
    Query(params): Query<ForOrganisation>,
) -> Result<Json<Value>, Problem> {
    let learner = talent::profile(&state.app, &caller.actor, organisation(params.organisation.as_deref())?, &handle).await?;
    Ok(Json(talent_json(&state, &learner)))
}

async fn shortlist(State(state): State<AppState>, caller: ApiCaller, Query(params): Query<ForOrganisation>) -> Result<Json<Value>, Problem> {
    let (org, entries) = talent::shortlist(&state.app, &caller.actor, organisation(params.organisation.as_deref())?).await?;
    Ok(Json(json!({
        "organisation": organisation_ref(&org),
        "items": entries.iter().map(|e| json!({"learner": learner_json(&state, &e.talent), "added_at": timestamp(e.added_at)})).collect::<Vec<_>>(),
    })))
}

async fn add_to_shortlist(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(handle): Path<String>,
    Query(params): Query<ForOrganisation>,
) -> Result<Json<Value>, Problem> {
    let talent = talent::add_to_shortlist(&state.app, &caller.actor, organisation(params.organisation.as_deref())?, &handle).await?;
    Ok(Json(json!({"learner": learner_json(&state, &talent), "shortlisted": true})))
}

async fn remove_from_shortlist(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(handle): Path<String>,
    Query(params): Query<ForOrganisation>,
) -> Result<StatusCode, Problem> {
    talent::remove_from_shortlist(&state.app, &caller.actor, organisation(params.organisation.as_deref())?, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A contact request as the employer or the learner sees it: the e-mail address only once the
/// learner accepted.
fn contact_json(state: &AppState, request: &ContactRequest) -> Value {
    json!({
        "id": request.id.to_string(),
        "organisation": {"id": request.organisation.to_string(), "name": request.organisation_name},
        "learner": {
            "handle": request.learner_handle.as_ref().map(|h| h.as_str()),
            "name": request.learner_name,
            "portfolio": request.learner_handle.as_ref().map(|h| state.app.config.urls().portfolio(h.as_str())),
            "email": request.learner_email.as_ref().map(ToString::to_string),
        },
        "message": request.message,
        "status": request.status.as_str(),
        "created_at": timestamp(request.created_at),
        "decided_at": request.decided_at.map(timestamp),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactInput {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    message: String,
    organisation: Option<String>,
}

async fn request_contact(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let organisation = organisation(input.organisation.as_deref())?;
    let request = talent::request_contact(&state.app, &caller.actor, organisation, &input.handle, &input.message).await?;
    Ok((StatusCode::CREATED, Json(contact_json(&state, &request))))
}

async fn sent_requests(State(state): State<AppState>, caller: ApiCaller, Query(params): Query<ForOrganisation>) -> Result<Json<Value>, Problem> {
    let (org, requests) = talent::sent_requests(&state.app, &caller.actor, organisation(params.organisation.as_deref())?).await?;
    Ok(Json(json!({"organisation": organisation_ref(&org), "items": requests.iter().map(|r| contact_json(&state, r)).collect::<Vec<_>>()})))
}

async fn received_requests(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let requests = discovery::contact_requests(&state.app, &caller.actor).await?;
    Ok(Json(json!({"items": requests.iter().map(|r| contact_json(&state, r)).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerInput {
    #[serde(default)]
    decision: String,
}

async fn answer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> Result<Json<Value>, Problem> {
    let id: ContactRequestId = path_id(&id, "contact request")?;
    let request = discovery::answer(&state.app, &caller.actor, id, &input.decision).await?;
    Ok(Json(contact_json(&state, &request)))
}

async fn activity(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let events = discovery::activity(&state.app, &caller.actor).await?;
    Ok(Json(json!({
        "items": events.iter().map(|e| json!({
            "organisation": {"id": e.organisation.to_string(), "name": e.organisation_name},
            "member": e.viewer_name,
            "event": e.event.as_str(),
            "description": e.event.label(),
            "at": timestamp(e.at),
        })).collect::<Vec<_>>(),
    })))
}
