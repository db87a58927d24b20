//! Issuer insight and moderation over the API: `GET /organisations/{id}/insights` (JSON, or CSV
//! with `format=csv`, and `…/insights.csv`), filtered by `achievement`, `from` and `to`; the
//! moderation queue (`GET /organisations/{id}/moderation`) and a moderator's view and decision
//! (`GET`/`POST /moderation/{id}`), through `cairn_app::insight` and `cairn_app::moderation`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cairn_app::insight::{self, Insight, InsightFilter};
use cairn_app::moderation;
use cairn_core::ids::{OrganisationId, SubmissionId};
use serde_json::{Value, json};

use super::journey::{AssessInput, blind_json, feedback_json, score_fields};
use crate::auth::ApiCaller;
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{id}/insights", get(insights))
        .route("/organisations/{id}/insights.csv", get(insights_csv))
        .route("/organisations/{id}/moderation", get(moderation_queue))
        .route("/moderation/{id}", get(moderation_view).post(moderate))
}

/// Longest `from` or `to` read from a query (a date is 10 characters).
const MAX_DATE_CHARS: usize = 40;

/// Reads `achievement`, `from`, `to` and `format` from a query string; other parameters are
/// ignored, an empty `achievement` means all.
///
/// # Errors
/// 422 at `/achievement` for an id that does not parse.
pub(crate) fn insight_query(raw: Option<&str>) -> Result<(InsightFilter, Option<String>), Problem> {
    let mut filter = InsightFilter::default();
    let mut format = None;
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let clipped = || value.chars().take(MAX_DATE_CHARS).collect::<String>();
        match name.as_ref() {
            "achievement" if value.trim().is_empty() => filter.achievement = None,
            "achievement" => {
                filter.achievement = Some(value.trim().parse().map_err(|_| {
                    Problem::invalid_field("/achievement", format!("\"{}\" is not an achievement id", value.chars().take(60).collect::<String>()))
                })?)
            }
            "from" => filter.from = clipped(),
            "to" => filter.to = clipped(),
            "format" => format = Some(value.chars().take(10).collect()),
            _ => {}
        }
    }
    Ok((filter, format))
}

fn rounded(value: Option<f64>) -> Value {
    value.map(|v| json!((v * 1000.0).round() / 1000.0)).unwrap_or(Value::Null)
}

/// The insight as the API gives it.
pub(crate) fn insight_json(insight: &Insight) -> Value {
    let rate = |rate: insight::Rate| json!({"passed": rate.count, "decided": rate.of, "percent": rounded(rate.percent())});
    let time = &insight.time_to_decision;
    let counts = insight.sampling.counts;
    json!({
        "organisation_id": insight.organisation.to_string(),
        "period": {
            "from": cairn_core::calendar::format_date(insight.period.from),
            "to": cairn_core::calendar::format_date(insight.period.to),
            "grain": insight.grain.as_str(),
        },
        "achievement_id": insight.achievement.as_ref().map(|(id, _)| id.to_string()),
        "submissions": insight.submissions.iter().map(|b| json!({
            "start": cairn_core::calendar::format_date(b.start), "first_attempts": b.first_attempts, "revisions": b.revisions,
        })).collect::<Vec<_>>(),
        "pass_rate": {"first_attempt": rate(insight.first_attempt_pass), "overall": rate(insight.overall_pass)},
        "time_to_decision": {
            "decisions": time.decisions,
            "p50_business_days": time.p50_days,
            "p90_business_days": time.p90_days,
            "service_days": time.service_days,
            "breaches": time.breaches,
        },
        "assessors": insight.assessors.iter().map(|a| json!({
            "user_id": a.assessor.to_string(), "name": a.name, "open": a.open, "decided": a.decided, "median_business_days": a.median_days,
        })).collect::<Vec<_>>(),
        "awards": {
            "issued": insight.awards.issued, "viewed": insight.awards.views, "shared": insight.awards.shares, "verified": insight.awards.verifications,
        },
        "sampling": {
            "rate_percent": insight.sampling.percent,
            "sampled": counts.sampled,
            "waiting_second": counts.waiting_second,
            "waiting_moderation": counts.waiting_moderation,
            "agreed": counts.agreed,
            "moderated": counts.moderated,
        },
        "agreement": insight.agreement.iter().map(|c| json!({
            "achievement_id": c.achievement.to_string(),
            "achievement_name": c.achievement_name,
            "criterion": c.criterion,
            "criterion_name": c.criterion_name,
            "pairs": c.agreement.pairs,
            "exact_percent": rounded(c.agreement.exact_percent),
            "weighted_kappa": rounded(c.agreement.kappa.value()),
            "kappa_note": c.agreement.kappa.reason(),
        })).collect::<Vec<_>>(),
    })
}

/// CSV as a download, never cached.
pub(crate) fn csv_response(csv: String, filename: &str) -> Response {
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"{filename}\"");
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// The download's name: the period it covers.
pub(crate) fn csv_name(insight: &Insight) -> String {
    format!("cairn-insight-{}-{}.csv", cairn_core::calendar::format_date(insight.period.from), cairn_core::calendar::format_date(insight.period.to))
}

async fn insights(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let (filter, format) = insight_query(raw.as_deref())?;
    let insight = insight::insight(&state.app, &caller.actor, id, &filter).await?;
    match format.as_deref() {
        None | Some("" | "json") => Ok(Json(insight_json(&insight)).into_response()),
        Some("csv") => Ok(csv_response(insight::insight_csv(&insight), &csv_name(&insight))),
        Some(other) => Err(Problem::invalid_field("/format", format!("\"{other}\" is not json or csv"))),
    }
}

async fn insights_csv(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let (filter, _) = insight_query(raw.as_deref())?;
    let insight = insight::insight(&state.app, &caller.actor, id, &filter).await?;
    Ok(csv_response(insight::insight_csv(&insight), &csv_name(&insight)))
}

async fn moderation_queue(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let lines = moderation::queue(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": lines.iter().map(|line| json!({
        "submission_id": line.submission_id.to_string(),
        "code": line.code,
        "achievement_name": line.achievement_name,
        "attempt": line.attempt,
        "due_at": line.due_at.map(timestamp),
        "due_state": line.due_state.map(|s| s.as_str()),
        "first_outcome": line.first_outcome.as_str(),
        "second_outcome": line.second_outcome.map(|o| o.as_str()),
    })).collect::<Vec<_>>()})))
}

async fn moderation_view(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let view = moderation::view(&state.app, &caller.actor, id).await?;
    let mut body = blind_json(&state, &view.submission);
    body["scorings"] = json!([feedback_json(&view.first), feedback_json(&view.second)]);
    Ok(Json(body))
}

async fn moderate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssessInput>,
) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let scores = score_fields(input.scores)?;
    let result = moderation::moderate(&state.app, &caller.actor, id, &scores, &input.feedback).await?;
    Ok(Json(json!({"outcome": result.outcome.as_str(), "awarded": result.awarded})))
}
