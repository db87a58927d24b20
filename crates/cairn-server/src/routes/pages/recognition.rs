//! Recognition of prior learning in the browser, through `cairn_app::recognition`: an issuer's
//! equivalency rules (`/issuers/{id}/equivalencies`), and a learner's request for recognition,
//! sent from an achievement's page or from an imported badge (`POST /recognitions`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::recognition::{self, Recognised, RecognitionFields};
use cairn_core::ids::{EquivalencyId, OrganisationId};
use cairn_core::recognition::EquivalencyFields;

use super::form::{Field, FieldErrors, achievement_options};
use super::{Layout, human_date, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/{id}/equivalencies", get(rules_page).post(add_rule))
        .route("/issuers/{id}/equivalencies/{rule}/remove", post(remove_rule))
        .route("/recognitions", post(request))
}

/// One rule as listed.
struct RuleRow {
    achievement_name: String,
    external_issuer: String,
    external_achievement: String,
    note: String,
    added: String,
    remove: String,
}

#[derive(Template)]
#[template(path = "equivalencies.html")]
struct RulesPage {
    layout: Layout,
    organisation_name: String,
    manage_href: String,
    assessment_href: String,
    action: String,
    rows: Vec<RuleRow>,
    errors: FieldErrors,
    achievement: Field,
    external_issuer: Field,
    external_achievement: Field,
    note: Field,
    /// Whether there is any achievement a rule may name.
    has_targets: bool,
}

fn rule_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/achievement_id" => Some(("rule_achievement".into(), "Counts as".into())),
        "/external_issuer" => Some(("rule_issuer".into(), "Issuer id".into())),
        "/external_achievement" => Some(("rule_external".into(), "Achievement id".into())),
        "/note" => Some(("rule_note".into(), "Note".into())),
        _ => None,
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    form: Option<&FormFields>,
    errors: FieldErrors,
) -> Result<RulesPage, Problem> {
    let recognition::RulesOverview { organisation_name, rules, targets } = recognition::rules_overview(&state.app, &viewer.actor, id).await?;
    let typed = |name: &str| form.map(|f| f.get(name).to_string()).unwrap_or_default();
    let options = achievement_options(&targets, &typed("achievement_id"));
    Ok(RulesPage {
        layout: Layout::new(viewer, csrf, None),
        organisation_name,
        manage_href: format!("/issuers/{id}/manage"),
        assessment_href: format!("/issuers/{id}/assessment"),
        action: format!("/issuers/{id}/equivalencies"),
        rows: rules
            .into_iter()
            .map(|view| RuleRow {
                remove: format!("/issuers/{id}/equivalencies/{}/remove", view.rule.id),
                achievement_name: view.achievement_name,
                external_issuer: view.rule.external_issuer,
                external_achievement: view.rule.external_achievement,
                note: view.rule.note,
                added: human_date(view.rule.created_at),
            })
            .collect(),
        has_targets: !targets.is_empty(),
        achievement: Field::new("rule_achievement", "Counts as", "").name("achievement_id").select(options).required().error_from(&errors),
        external_issuer: Field::new("rule_issuer", "Issuer id", typed("external_issuer"))
            .name("external_issuer")
            .kind("url")
            .hint("The other issuer's id as its badges give it: a DID (did:web:…, did:key:…) or a web address.")
            .required()
            .class("field-wide")
            .error_from(&errors),
        external_achievement: Field::new("rule_external", "Achievement id", typed("external_achievement"))
            .name("external_achievement")
            .kind("url")
            .hint("The id of the other issuer's achievement (Open Badges 3.0) or BadgeClass (2.0), as its badges give it.")
            .required()
            .class("field-wide")
            .error_from(&errors),
        note: Field::new("rule_note", "Note", typed("note"))
            .name("note")
            .hint("For your staff: the agreement or review behind the rule (optional).")
            .maxlength(500)
            .class("field-wide")
            .error_from(&errors),
        errors,
    })
}

async fn rules_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/equivalencies")));
    }
    render_status(StatusCode::OK, &page(&state, &viewer, &csrf, id, None, FieldErrors::default()).await?)
}

async fn add_rule(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let fields = EquivalencyFields {
        achievement_id: form.get("achievement_id").to_string(),
        external_issuer: form.get("external_issuer").to_string(),
        external_achievement: form.get("external_achievement").to_string(),
        note: Some(form.get("note").to_string()),
    };
    match recognition::add_equivalency(&state.app, &viewer.actor, id, &fields).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/equivalencies"), "equivalency-added")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let errors = FieldErrors::from_problem(&problem, rule_field, Some("/external_achievement"));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &viewer, &csrf, id, Some(&form), errors).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn remove_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_rule)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let rule: EquivalencyId = path_id(&raw_rule, "equivalency rule")?;
    recognition::remove_equivalency(&state.app, &viewer.actor, id, rule).await?;
    Ok(see_other_with(&format!("/issuers/{id}/equivalencies"), "equivalency-removed"))
}

/// A learner's request: to the award when an equivalency rule grants it at once, otherwise to the
/// new submission, to add evidence and send it. A refusal is an error page saying why.
async fn request(State(state): State<AppState>, viewer: Viewer, form: FormFields) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/imports"));
    }
    let import = form.get("import_id").trim();
    let fields = RecognitionFields {
        achievement_id: form.get("achievement_id").to_string(),
        import_id: (!import.is_empty()).then(|| import.to_string()),
        statement: Some(form.get("statement").to_string()),
    };
    match recognition::request(&state.app, &viewer.actor, &fields).await? {
        Recognised::Awarded(award) => Ok(see_other_with(&format!("/awards/{}", award.id), "recognised")),
        Recognised::Queued(submission) => Ok(see_other_with(&format!("/submissions/{}", submission.id), "recognition-started")),
    }
}
