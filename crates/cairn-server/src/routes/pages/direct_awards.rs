//! Direct award in the browser, through `cairn_app::offers`: the issuer's page
//! (`/issuers/{id}/direct-awards`) awards a published achievement to an e-mail address, and lists
//! the direct awards with their state; one that waits may be withdrawn.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::offers;
use cairn_core::assessment::ScoreFields;
use cairn_core::ids::{AwardOfferId, OrganisationId};
use cairn_core::offer::{EvidenceFields, MAX_NARRATIVE_CHARS, OfferFields};
use cairn_store::OfferState;

use super::form::{Field, FieldErrors, achievement_options};
use super::{Layout, human_date, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/issuers/{id}/direct-awards", get(awards_page).post(award)).route("/issuers/{id}/direct-awards/{offer}/withdraw", post(withdraw))
}

/// One direct award as listed.
struct OfferRow {
    achievement_name: String,
    recipient: String,
    email: String,
    /// "Waiting", "Claimed" or "Withdrawn", with its date.
    state: String,
    /// The award's page, once claimed.
    award_href: Option<String>,
    /// The withdraw form's action, while it waits.
    withdraw: Option<String>,
}

#[derive(Template)]
#[template(path = "direct_awards.html")]
struct AwardsPage {
    layout: Layout,
    organisation_name: String,
    assessment_href: String,
    action: String,
    rows: Vec<OfferRow>,
    errors: FieldErrors,
    achievement: Field,
    email: Field,
    name: Field,
    narrative: Field,
    evidence: Field,
    results: Field,
    /// Whether any achievement is published.
    has_achievements: bool,
}

fn award_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/achievement_id" => Some(("award_achievement".into(), "Achievement".into())),
        "/recipient/email" => Some(("award_email".into(), "Recipient's e-mail address".into())),
        "/recipient/name" => Some(("award_name".into(), "Recipient's name".into())),
        "/narrative" => Some(("award_narrative".into(), "How it was earned".into())),
        p if p.starts_with("/evidence") => Some(("award_evidence".into(), "Evidence links".into())),
        p if p.starts_with("/results") => Some(("award_results".into(), "Rubric results".into())),
        _ => None,
    }
}

/// The evidence box, one link per line: the address, then optionally its name after a space.
fn evidence_lines(raw: &str) -> Vec<EvidenceFields> {
    raw.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(char::is_whitespace) {
            Some((url, name)) => EvidenceFields { url: url.to_string(), name: Some(name.trim().to_string()) },
            None => EvidenceFields { url: line.to_string(), name: None },
        })
        .collect()
}

/// The results box, one criterion per line: the criterion, a colon, then the level reached
/// (its name or number). A line without a colon is sent whole as the criterion, to be reported.
fn result_lines(raw: &str) -> Vec<ScoreFields> {
    raw.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (criterion, level) = line.rsplit_once(':').unwrap_or((line, ""));
            ScoreFields { criterion: criterion.trim().to_string(), level: level.trim().to_string(), comment: String::new() }
        })
        .collect()
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    form: Option<&FormFields>,
    errors: FieldErrors,
) -> Result<AwardsPage, Problem> {
    let offers::Overview { organisation_name, offers, achievements } = offers::overview(&state.app, &viewer.actor, id).await?;
    let typed = |name: &str| form.map(|f| f.get(name).to_string()).unwrap_or_default();
    let options = achievement_options(&achievements, &typed("achievement_id"));
    let rows = offers
        .into_iter()
        .map(|(offer, achievement_name)| {
            let state = match offer.state() {
                OfferState::Claimed(at) => format!("Claimed {}", human_date(at)),
                OfferState::Withdrawn(at) => format!("Withdrawn {}", human_date(at)),
                OfferState::Waiting => format!("Waiting since {}", human_date(offer.created_at)),
            };
            OfferRow {
                withdraw: offer.waiting().then(|| format!("/issuers/{id}/direct-awards/{}/withdraw", offer.id)),
                award_href: offer.award.map(|award| format!("/awards/{award}")),
                achievement_name,
                recipient: offer.name,
                email: offer.email.to_string(),
                state,
            }
        })
        .collect();
    Ok(AwardsPage {
        layout: Layout::new(viewer, csrf, None),
        organisation_name,
        assessment_href: format!("/issuers/{id}/assessment"),
        action: format!("/issuers/{id}/direct-awards"),
        rows,
        has_achievements: !achievements.is_empty(),
        achievement: Field::new("award_achievement", "Achievement", "").name("achievement_id").select(options).required().error_from(&errors),
        email: Field::new("award_email", "Recipient's e-mail address", typed("email"))
            .name("email")
            .kind("email")
            .autocomplete("off")
            .hint("The claim link goes there; whoever claims it signs in with this address or creates an account for it.")
            .required()
            .error_from(&errors),
        name: Field::new("award_name", "Recipient's name", typed("name")).name("name").autocomplete("off").maxlength(200).required().error_from(&errors),
        narrative: Field::new("award_narrative", "How it was earned", typed("narrative"))
            .name("narrative")
            .textarea(5)
            .maxlength(MAX_NARRATIVE_CHARS as u32)
            .hint("Optional. Stated in the credential as its evidence: where and how the work was assessed.")
            .class("field-wide")
            .error_from(&errors),
        evidence: Field::new("award_evidence", "Evidence links", typed("evidence"))
            .name("evidence")
            .textarea(3)
            .hint("Optional. One link per line: the address, then its name after a space.")
            .class("field-wide")
            .error_from(&errors),
        results: Field::new("award_results", "Rubric results", typed("results"))
            .name("results")
            .textarea(3)
            .hint("Optional, for an achievement with a rubric: one criterion per line, a colon, then the level reached (for example \"Design: Proficient\"). Give every criterion, each at or above its required level; the credential states them.")
            .class("field-wide")
            .error_from(&errors),
        errors,
    })
}

async fn awards_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/direct-awards")));
    }
    render_status(StatusCode::OK, &page(&state, &viewer, &csrf, id, None, FieldErrors::default()).await?)
}

async fn award(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let fields = OfferFields {
        achievement_id: form.get("achievement_id").to_string(),
        email: form.get("email").to_string(),
        name: form.get("name").to_string(),
        narrative: Some(form.get("narrative").to_string()),
        evidence: evidence_lines(form.get("evidence")),
        results: result_lines(form.get("results")),
    };
    match offers::offer(&state.app, &viewer.actor, id, &fields, None).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/direct-awards"), "direct-award-sent")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let errors = FieldErrors::from_problem(&problem, award_field, None);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&state, &viewer, &csrf, id, Some(&form), errors).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_offer)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let offer: AwardOfferId = path_id(&raw_offer, "direct award")?;
    offers::withdraw(&state.app, &viewer.actor, id, offer).await?;
    Ok(see_other_with(&format!("/issuers/{id}/direct-awards"), "direct-award-withdrawn"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_give_a_criterion_and_a_level() {
        let lines = result_lines("Design: Proficient\n\n  Safety at work : 3 \nno colon\n");
        let pairs: Vec<(&str, &str)> = lines.iter().map(|r| (r.criterion.as_str(), r.level.as_str())).collect();
        assert_eq!(pairs, [("Design", "Proficient"), ("Safety at work", "3"), ("no colon", "")]);
    }

    #[test]
    fn evidence_lines_give_an_address_and_an_optional_name() {
        let lines = evidence_lines("https://example.org/a  The project\n\n  https://example.org/b  \n");
        assert_eq!(
            lines,
            [
                EvidenceFields { url: "https://example.org/a".into(), name: Some("The project".into()) },
                EvidenceFields { url: "https://example.org/b".into(), name: None },
            ]
        );
    }
}
