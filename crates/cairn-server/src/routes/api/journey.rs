//! The assessment journey over the API: submissions and evidence, the assessor's blind queue and
//! judgements, awards, issuer settings, pools, fees and vouchers, and notifications.

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use cairn_app::awards::Visible;
use cairn_core::account::Email;
use cairn_core::assessment::{DiffLine, ScoreFields};
use cairn_core::award::{Privacy, StatusAction, StatusReason};
use cairn_core::ids::{AchievementId, ArtifactId, AwardId, NotificationId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{IssuerSettings, IssuerSettingsFields, ReflectionRule, Submission, SubmissionFields};
use cairn_store::{Artifact, ArtifactBody};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::{fee_json, renewal_json, rubric_json, timestamp};
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{UploadLimits, read_upload};
use cairn_app::assessment::{self, BlindSubmission, FeedbackView};
use cairn_app::recognition::PriorLearningShown;
use cairn_app::submissions::{self, EvidenceFile, LearnerView};
use cairn_app::{awards, issuer, notify, renewals, wallet};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/achievements/{id}/submissions", post(start))
        .route("/submissions", get(mine))
        .route("/submissions/{id}", get(show).put(update))
        .route(
            "/submissions/{id}/artifacts",
            post(upload_file).layer(axum::extract::DefaultBodyLimit::max(cairn_core::evidence::MAX_EVIDENCE_BYTES + 64 * 1024)),
        )
        .route("/submissions/{id}/texts", post(add_text))
        .route("/submissions/{id}/artifacts/{artifact_id}", delete(remove_artifact))
        .route("/submissions/{id}/submit", post(submit))
        .route("/submissions/{id}/withdraw", post(withdraw))
        .route("/submissions/{id}/voucher", post(redeem))
        .route("/submissions/{id}/fee", post(settle_fee))
        .route("/submissions/{id}/confirm", post(confirm))
        .route("/assessments", get(queue))
        .route("/assessments/{id}", get(blind_one).post(assess))
        .route("/assessments/{id}/artifacts/{artifact_id}", get(assessor_file))
        .route("/awards", get(my_awards))
        .route("/awards/{id}", get(award))
        .route("/awards/{id}/privacy", put(set_privacy))
        .route("/awards/{id}/status", post(set_status))
        .route("/awards/{id}/renewal", post(renew))
        .route("/awards/{id}/wallet-offers", post(wallet_offer))
        .route("/awards/{id}/wallet-pickups", get(wallet_pickups))
        .route("/organisations/{id}/assessment-settings", get(settings).put(set_settings))
        .route("/organisations/{id}/submissions", get(dashboard))
        .route("/organisations/{id}/vouchers", get(vouchers).post(create_vouchers))
        .route("/achievements/{id}/assessors", get(pool).post(add_assessor))
        .route("/achievements/{id}/assessors/{user_id}", delete(remove_assessor))
        .route("/collaborations", get(collaborations))
        .route("/collaborations/{id}", put(write_reflection))
        .route("/notifications", get(notifications))
        .route("/notifications/read", post(mark_read))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmissionInput {
    #[serde(default)]
    overview: String,
    #[serde(default)]
    reflection: String,
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    collaborators: Vec<String>,
}

impl From<SubmissionInput> for SubmissionFields {
    fn from(input: SubmissionInput) -> Self {
        SubmissionFields { overview: input.overview, reflection: input.reflection, links: input.links, collaborators: input.collaborators }
    }
}

pub(crate) fn submission_json(submission: &Submission) -> Value {
    json!({
        "id": submission.id.to_string(),
        "achievement_id": submission.achievement.to_string(),
        "status": submission.status.as_str(),
        "attempt": submission.attempt,
        "overview": submission.content.overview,
        "reflection": submission.content.reflection,
        "links": submission.content.links,
        "collaborators": submission.content.collaborators.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "fee": submission.fee.as_str(),
        "submitted_at": submission.submitted_at.map(timestamp),
        "due_at": submission.due_at.map(timestamp),
        "created_at": timestamp(submission.created_at),
        "updated_at": timestamp(submission.updated_at),
        "renewal_of": submission.renewal_of.map(|award| award.to_string()),
    })
}

fn artifact_json(artifact: &Artifact) -> Value {
    match &artifact.body {
        ArtifactBody::File { media_type, size, original_name, .. } => json!({
            "id": artifact.id.to_string(), "kind": "file", "title": artifact.title, "media_type": media_type, "size": size,
            "file_name": original_name, "attempt": artifact.added_in_attempt,
        }),
        ArtifactBody::Text { body } => {
            json!({"id": artifact.id.to_string(), "kind": "text", "title": artifact.title, "body": body, "attempt": artifact.added_in_attempt})
        }
    }
}

pub(crate) fn feedback_json(feedback: &FeedbackView) -> Value {
    json!({
        "attempt": feedback.attempt,
        "outcome": feedback.outcome.as_str(),
        "feedback": feedback.feedback,
        "scores": feedback.scores.iter().map(|s| json!({
            "criterion": s.criterion_id, "criterion_name": s.criterion, "level": s.level, "required_level": s.required, "met": s.met, "comment": s.comment,
        })).collect::<Vec<_>>(),
        "at": timestamp(feedback.at),
    })
}

fn learner_json(view: &LearnerView) -> Value {
    let mut value = submission_json(&view.submission);
    value["achievement_name"] = json!(view.achievement.content.name);
    value["issuer"] = json!({"id": view.organisation.id.to_string(), "name": view.organisation.profile.name});
    value["artifacts"] = json!(view.artifacts.iter().map(artifact_json).collect::<Vec<_>>());
    value["feedback"] = json!(view.feedback.iter().map(feedback_json).collect::<Vec<_>>());
    value["attempts"] = json!(view.submission.attempt);
    value["attempts_left"] = json!(view.attempts_left);
    value["due_state"] = json!(view.due_state.map(|d| d.as_str()));
    value["evidence_storage"] = json!({"used_bytes": view.evidence_used, "allowed_bytes": view.settings.evidence_quota_bytes()});
    value["award_id"] = json!(view.award.as_ref().map(|a| a.id.to_string()));
    value["renewal"] = json!(view.submission.renewal_of.map(|_| renewal_json(&view.achievement.content.renewal)));
    value["collaborator_reflections"] =
        json!(view.collaborator_reflections.iter().map(|(email, text)| json!({"email": email.as_str(), "written": !text.is_empty()})).collect::<Vec<_>>());
    value["missing_reflections"] = json!(view.missing_reflections.iter().map(Email::as_str).collect::<Vec<_>>());
    value["reflections_required"] = json!(view.settings.collaborator_reflections == ReflectionRule::Require);
    let has_fee = view.fee.charge.amount().is_some();
    value["fee_charge"] = json!({
        "amount": view.fee.charge.amount().map(fee_json),
        "label": view.fee.label,
        "terms": view.fee.terms,
        "covers_every_level": view.fee.charge.covers_every_level(),
        "payment": has_fee.then(|| json!({
            "instructions": view.settings.payment_instructions,
            "url": view.settings.payment_url,
        })),
    });
    value["history"] =
        json!(view.history.iter().map(|h| json!({"status": h.to.as_str(), "by": h.who, "note": h.note, "at": timestamp(h.at)})).collect::<Vec<_>>());
    value["prior_learning"] = prior_learning_json(view.prior_learning.as_ref());
    value
}

/// What a submission asking for recognition of prior learning shows; `null` for the others.
fn prior_learning_json(shown: Option<&PriorLearningShown>) -> Value {
    match shown {
        None => Value::Null,
        Some(shown) => json!({
            "import": shown.import.as_ref().map(|i| json!({
                "name": i.name, "issuer": i.issuer_name, "issuer_id": i.issuer_id, "achievement_id": i.achievement_id,
                "verdict_text": i.verdict, "valid": i.valid,
            })),
        }),
    }
}

fn diff_json(lines: &[DiffLine]) -> Value {
    json!(
        lines
            .iter()
            .map(|line| match line {
                DiffLine::Same(text) => json!({"op": "same", "text": text}),
                DiffLine::Added(text) => json!({"op": "added", "text": text}),
                DiffLine::Removed(text) => json!({"op": "removed", "text": text}),
            })
            .collect::<Vec<_>>()
    )
}

/// The blind form: a code and the evidence; nothing about the learner.
pub(crate) fn blind_json(state: &AppState, item: &BlindSubmission) -> Value {
    json!({
        "submission_id": item.submission_id.to_string(),
        "code": item.code,
        "achievement_id": item.achievement.id.to_string(),
        "achievement_name": item.achievement.content.name,
        "status": item.status.as_str(),
        "attempt": item.attempt,
        "due_at": item.due_at.map(timestamp),
        "due_state": item.due_state.map(|d| d.as_str()),
        "renewal": item.renewal,
        "rubric": rubric_json(&item.rubric),
        "overview": item.overview,
        "reflection": item.reflection,
        "links": item.links,
        "artifacts": item.artifacts.iter().map(|a| json!({
            "id": a.id.to_string(), "label": a.label, "title": a.title, "kind": a.kind, "media_type": a.media_type, "size": a.size, "text": a.text,
            "download": a.download.as_ref().map(|_| state.app.config.url(&format!("/api/v1/assessments/{}/artifacts/{}", item.submission_id, a.id))),
        })).collect::<Vec<_>>(),
        "collaborator_reflections": item.collaborator_reflections,
        "previous_feedback": item.previous.iter().map(feedback_json).collect::<Vec<_>>(),
        "changes": item.changes.as_ref().map(|c| json!({
            "overview": diff_json(&c.overview), "reflection": diff_json(&c.reflection), "added_artifacts": c.added, "removed_artifacts": c.removed,
        })),
        "duplicates": item.duplicates.iter().map(|d| json!({
            "kind": d.kind, "description": d.description, "other_code": d.other_code, "similarity": d.similarity,
        })).collect::<Vec<_>>(),
        "prior_learning": prior_learning_json(item.prior_learning.as_ref()),
    })
}

/// An award as its caller may see it: the submission behind it only for those the visibility
/// rule shows its provenance to (the learner and the issuer's staff); the awards it renews and
/// is renewed by only when the caller may see them (their ids open their downloads).
pub(crate) async fn award_json(state: &AppState, caller: &ApiCaller, visible: &Visible) -> Result<Value, Problem> {
    let award = &visible.award;
    let (renews, renewed_by) = awards::renewal_links(&state.app, &caller.actor, award).await?;
    let link = |linked: Option<awards::Linked>| {
        linked
            .filter(|l| l.shown)
            .map(|l| json!({"id": l.award.to_string(), "page": state.app.config.urls().award_page(l.award), "issued_at": timestamp(l.issued)}))
    };
    Ok(json!({
        "id": award.id.to_string(),
        "achievement_id": award.achievement.to_string(),
        "achievement_version": award.achievement_version,
        "organisation_id": award.organisation.to_string(),
        "submission_id": award.submission.filter(|_| visible.provenance).map(|s| s.to_string()),
        "status": award.status.as_str(),
        "status_reason": awards::shown_reason(visible),
        "privacy": award.privacy.as_str(),
        "evidence_public": award.evidence_public,
        "issued_at": timestamp(award.issued_at),
        "valid_until": award.valid_until.map(timestamp),
        "recognition": award.recognition.map(|r| r.as_str()),
        "renews": link(renews),
        "renewed_by": link(renewed_by),
        "links": awards::award_links(&state.app.config, award.id),
    }))
}

async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubmissionInput>,
) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let submission = submissions::start_submission(&state.app, &caller.actor, id, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(submission_json(&submission))).into_response())
}

async fn mine(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let items = submissions::my_submissions(&state.app, &caller.actor).await?;
    Ok(Json(json!({"items": items.iter().map(|item| {
        let mut value = submission_json(&item.submission);
        value["achievement_name"] = json!(item.achievement_name);
        value["issuer_name"] = json!(item.organisation_name);
        value["award_id"] = json!(item.award.map(|a| a.to_string()));
        value
    }).collect::<Vec<_>>()})))
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    Ok(Json(learner_json(&submissions::learner_view(&state.app, &caller.actor, id).await?)))
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubmissionInput>,
) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let submission = submissions::update_submission(&state.app, &caller.actor, id, &input.into()).await?;
    Ok(Json(submission_json(&submission)))
}

/// Uploads an evidence file: the multipart field `file`, with an optional `title`, read with a
/// byte cap ([`crate::upload`]).
async fn upload_file(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, request: Request) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    caller.require_user()?;
    let form = read_upload(request, &UploadLimits::EVIDENCE).await?;
    let file = form.file.as_ref().ok_or_else(|| Problem::invalid_field("/file", "send the evidence file as the multipart field \"file\""))?;
    let artifact =
        submissions::add_file(&state.app, &caller.actor, id, Some(form.text("title")), file.file_name.as_deref(), file.declared_type.as_deref(), &file.bytes)
            .await?;
    Ok((StatusCode::CREATED, Json(artifact_json(&artifact))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextInput {
    #[serde(default)]
    title: Option<String>,
    body: String,
}

async fn add_text(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, ApiJson(input): ApiJson<TextInput>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let artifact = submissions::add_text(&state.app, &caller.actor, id, input.title.as_deref(), &input.body).await?;
    Ok((StatusCode::CREATED, Json(artifact_json(&artifact))).into_response())
}

async fn remove_artifact(State(state): State<AppState>, caller: ApiCaller, Path((id, artifact)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let artifact: ArtifactId = path_id(&artifact, "artefact")?;
    submissions::remove_artifact(&state.app, &caller.actor, id, artifact).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn submit(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    Ok(Json(submission_json(&submissions::submit(&state.app, &caller.actor, id).await?)))
}

async fn withdraw(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    Ok(Json(submission_json(&submissions::withdraw(&state.app, &caller.actor, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoucherInput {
    pub(crate) code: String,
}

async fn redeem(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VoucherInput>,
) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    Ok(Json(submission_json(&submissions::redeem_voucher(&state.app, &caller.actor, id, &input.code).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeInput {
    action: String,
}

async fn settle_fee(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FeeInput>,
) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let waive = match input.action.as_str() {
        "paid" => false,
        "waived" => true,
        other => {
            return Err(Problem::invalid_field("/action", format!("\"{}\" is neither \"paid\" nor \"waived\"", other.chars().take(40).collect::<String>())));
        }
    };
    Ok(Json(submission_json(&issuer::settle_fee(&state.app, &caller.actor, id, waive).await?)))
}

async fn confirm(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let award = issuer::confirm_pass(&state.app, &caller.actor, id).await?;
    Ok(Json(award_json(&state, &caller, &awards::seen_by(&caller.actor, award)?).await?))
}

async fn queue(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    caller.require_user()?;
    let items = assessment::blind_queue(&state.app, &caller.actor).await?;
    Ok(Json(json!({"items": items.iter().map(|item| blind_json(&state, item)).collect::<Vec<_>>()})))
}

async fn blind_one(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    Ok(Json(blind_json(&state, &assessment::blind_view(&state.app, &caller.actor, id).await?)))
}

async fn assessor_file(State(state): State<AppState>, caller: ApiCaller, Path((id, artifact)): Path<(String, String)>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let artifact: ArtifactId = path_id(&artifact, "artefact")?;
    let EvidenceFile { media_type, name, bytes } = assessment::assessor_file(&state.app, &caller.actor, id, artifact).await?;
    Ok(file_response(&media_type, &name, bytes))
}

/// A download: the stored type, an attachment name, no sniffing.
pub(crate) fn file_response(media_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(100).collect();
    (
        [
            (header::CONTENT_TYPE, media_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreInput {
    criterion: String,
    level: Value,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssessInput {
    pub(crate) scores: Vec<ScoreInput>,
    #[serde(default)]
    pub(crate) feedback: String,
}

/// The scores of an assessment as the core reads them (levels by name or number).
///
/// # Errors
/// 422 for more than 100 scores.
pub(crate) fn score_fields(scores: Vec<ScoreInput>) -> Result<Vec<ScoreFields>, Problem> {
    if scores.len() > 100 {
        return Err(Problem::invalid_field("/scores", "too many scores"));
    }
    Ok(scores
        .into_iter()
        .map(|s| ScoreFields {
            criterion: s.criterion,
            level: match s.level {
                Value::String(text) => text,
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            },
            comment: s.comment,
        })
        .collect())
}

async fn assess(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssessInput>,
) -> Result<Json<Value>, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    let scores = score_fields(input.scores)?;
    let result = assessment::assess(&state.app, &caller.actor, id, &scores, &input.feedback).await?;
    // Never the award: its id would lead the assessor to the learner's name.
    Ok(Json(json!({"outcome": result.outcome.as_str(), "awarded": result.awarded, "held": result.held})))
}

async fn my_awards(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let mut items = Vec::new();
    for award in awards::mine(&state.app, &caller.actor).await? {
        items.push(award_json(&state, &caller, &award).await?);
    }
    Ok(Json(json!({"items": items})))
}

async fn award(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    Ok(Json(award_json(&state, &caller, &awards::visible(&state.app, &caller.actor, id).await?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrivacyInput {
    pub(crate) privacy: String,
    #[serde(default)]
    pub(crate) evidence_public: bool,
}

async fn set_privacy(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PrivacyInput>,
) -> Result<Json<Value>, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let privacy = Privacy::parse(&input.privacy).ok_or_else(|| Problem::invalid_field("/privacy", "must be \"public\", \"unlisted\" or \"private\""))?;
    let award = awards::set_privacy(&state.app, &caller.actor, id, privacy, input.evidence_public).await?;
    Ok(Json(award_json(&state, &caller, &award).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusInput {
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// Whether the reason is shown to everyone (the award page, the hosted OB 2.0 assertion);
    /// otherwise only the learner and the issuer's staff read it.
    #[serde(default)]
    pub(crate) publish_reason: bool,
}

async fn set_status(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<Json<Value>, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let action = StatusAction::parse(&input.action).ok_or_else(|| Problem::invalid_field("/action", "must be \"revoke\", \"suspend\" or \"reinstate\""))?;
    let reason = input.reason.map(|text| StatusReason { text, public: input.publish_reason });
    let award = awards::set_status(&state.app, &caller.actor, id, action, reason).await?;
    Ok(Json(award_json(&state, &caller, &awards::seen_by(&caller.actor, award)?).await?))
}

/// Starts the renewal of the caller's award: 201 with the renewal's draft submission, or a 409
/// `not-renewable` problem saying why not (or from when).
async fn renew(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let submission = renewals::start(&state.app, &caller.actor, id).await?;
    Ok((StatusCode::CREATED, Json(submission_json(&submission))).into_response())
}

/// `POST /awards/{id}/wallet-offers`: an OID4VCI credential offer of the caller's award for a
/// wallet (`cairn_app::wallet`), with the transaction code to type in; shown once.
async fn wallet_offer(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let offer = wallet::make_offer(&state.app, &caller.actor, id).await?;
    let body = json!({
        "award_id": offer.award.to_string(),
        "credential_offer": offer.offer,
        "credential_offer_uri": offer.uri,
        "credential_offer_url": offer.url,
        "tx_code": offer.tx_code,
        "expires_at": timestamp(offer.expires_at),
    });
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// `GET /awards/{id}/wallet-pickups`: the credentials wallets collected of the caller's award.
async fn wallet_pickups(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AwardId = path_id(&id, "award")?;
    let pickups = wallet::pickups(&state.app, &caller.actor, id).await?;
    let items: Vec<Value> = pickups
        .iter()
        .map(|p| json!({"credential_id": p.credential_id, "holder": p.holder, "format": p.format, "picked_up_at": timestamp(p.picked_up_at)}))
        .collect();
    Ok(Json(json!({"items": items})))
}

fn settings_json(settings: &IssuerSettings) -> Value {
    json!({
        "service_days": settings.service_days,
        "nearly_due_days": settings.nearly_due_days,
        "attempt_limit": settings.attempt_limit,
        "confirm_passes": settings.confirm_passes,
        "holidays": settings.holidays.iter().map(|d| cairn_core::calendar::format_date(*d)).collect::<Vec<_>>(),
        "evidence_quota_mb": settings.evidence_quota_mb,
        "payment_instructions": settings.payment_instructions,
        "payment_url": settings.payment_url,
        "collaborator_reflections": settings.collaborator_reflections.as_str(),
        "publish_outcomes": settings.publish_outcomes,
        "sampling_percent": settings.sampling_percent,
    })
}

async fn settings(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    Ok(Json(settings_json(&issuer::settings(&state.app, &caller.actor, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsInput {
    service_days: u32,
    nearly_due_days: u32,
    attempt_limit: Option<u32>,
    #[serde(default)]
    confirm_passes: bool,
    #[serde(default)]
    holidays: Vec<String>,
    /// Absent for the default.
    #[serde(default)]
    evidence_quota_mb: Option<u32>,
    /// How learners pay a fee; absent for none.
    #[serde(default)]
    payment_instructions: Option<String>,
    /// Where learners pay online; absent or null for none.
    #[serde(default)]
    payment_url: Option<String>,
    /// `warn` (the default) or `require`.
    #[serde(default)]
    collaborator_reflections: Option<String>,
    /// Whether achievement pages and comparisons show the outcome figures; absent for no.
    #[serde(default)]
    publish_outcomes: bool,
    /// The share of judgements scored a second time, blind, 0–100; absent for 0.
    #[serde(default)]
    sampling_percent: Option<u32>,
}

impl From<SettingsInput> for IssuerSettingsFields {
    fn from(input: SettingsInput) -> Self {
        IssuerSettingsFields {
            service_days: input.service_days.to_string(),
            nearly_due_days: input.nearly_due_days.to_string(),
            attempt_limit: input.attempt_limit.map(|n| n.to_string()).unwrap_or_default(),
            confirm_passes: input.confirm_passes,
            holidays: input.holidays.join("\n"),
            evidence_quota_mb: input.evidence_quota_mb.map(|n| n.to_string()).unwrap_or_default(),
            payment_instructions: input.payment_instructions.unwrap_or_default(),
            payment_url: input.payment_url.unwrap_or_default(),
            collaborator_reflections: input.collaborator_reflections.unwrap_or_default(),
            publish_outcomes: input.publish_outcomes,
            sampling_percent: input.sampling_percent.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

async fn set_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    Ok(Json(settings_json(&issuer::set_settings(&state.app, &caller.actor, id, &input.into()).await?)))
}

async fn dashboard(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let lines = issuer::issuer_dashboard(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": lines.iter().map(|line| json!({
        "submission_id": line.submission.id.to_string(),
        "code": line.code,
        "achievement_id": line.submission.achievement.to_string(),
        "achievement_name": line.achievement_name,
        "status": line.submission.status.as_str(),
        "fee": line.submission.fee.as_str(),
        "attempt": line.submission.attempt,
        "assessor_name": line.assessor_name,
        "due_at": line.submission.due_at.map(timestamp),
        "due_state": line.due_state.map(|d| d.as_str()),
        "duplicate_flagged": line.flagged,
    })).collect::<Vec<_>>()})))
}

async fn vouchers(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let vouchers = issuer::vouchers(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": vouchers.iter().map(|v| json!({
        "code": v.code, "achievement_id": v.achievement.map(|a| a.to_string()), "created_at": timestamp(v.created_at),
        "redeemed": v.redeemed_by.is_some(), "redeemed_at": v.redeemed_at.map(timestamp),
    })).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VouchersInput {
    count: u32,
    #[serde(default)]
    achievement_id: Option<String>,
}

async fn create_vouchers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VouchersInput>,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let achievement = input
        .achievement_id
        .as_deref()
        .map(|raw| raw.parse::<AchievementId>().map_err(|_| Problem::invalid_field("/achievement_id", "not an achievement id")))
        .transpose()?;
    let codes = issuer::create_vouchers(&state.app, &caller.actor, id, achievement, input.count).await?;
    Ok((StatusCode::CREATED, Json(json!({"codes": codes}))).into_response())
}

async fn pool(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let members = issuer::pool(&state.app, &caller.actor, id).await?;
    Ok(Json(
        json!({"items": members.iter().map(|m| json!({"user_id": m.user.to_string(), "name": m.name, "email": m.email.as_str(), "open": m.open})).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessorInput {
    user_id: String,
}

async fn add_assessor(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssessorInput>,
) -> Result<StatusCode, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let user: UserId = input.user_id.parse().map_err(|_| Problem::invalid_field("/user_id", "not a user id"))?;
    issuer::add_to_pool(&state.app, &caller.actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_assessor(State(state): State<AppState>, caller: ApiCaller, Path((id, user)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let user: UserId = path_id(&user, "user")?;
    issuer::remove_from_pool(&state.app, &caller.actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn collaborations(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let (_, items) = submissions::collaborations(&state.app, &caller.actor).await?;
    Ok(Json(json!({"items": items.iter().map(|c| json!({
        "submission_id": c.submission.to_string(), "achievement_id": c.achievement.to_string(), "achievement_name": c.achievement_name,
        "named_by": c.learner_name, "status": c.status.as_str(), "reflection": c.reflection, "open": !c.status.is_decided(),
    })).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReflectionInput {
    reflection: String,
}

async fn write_reflection(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReflectionInput>,
) -> Result<StatusCode, Problem> {
    let id: SubmissionId = path_id(&id, "submission")?;
    submissions::write_collaborator_reflection(&state.app, &caller.actor, id, &input.reflection).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn notifications(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let inbox = notify::inbox(&state.app, &caller.actor, 100).await?;
    Ok(Json(json!({"unread": inbox.unread, "items": inbox.items.iter().map(|n| json!({
        "id": n.id.to_string(), "kind": n.kind.as_str(), "subject": n.subject, "body": n.body, "link": state.app.config.url(&n.link),
        "created_at": timestamp(n.created_at), "read_at": n.read_at.map(timestamp),
    })).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadInput {
    #[serde(default)]
    id: Option<String>,
}

async fn mark_read(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<ReadInput>) -> Result<StatusCode, Problem> {
    caller.require_user()?;
    let id = input.id.as_deref().map(|raw| raw.parse::<NotificationId>().map_err(|_| Problem::invalid_field("/id", "not a notification id"))).transpose()?;
    notify::mark_read(&state.app, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
