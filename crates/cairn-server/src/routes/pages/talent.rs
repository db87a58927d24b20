//! Discovery in the browser. For an employer's members: talent search (`/talent`, a GET form
//! whose results can be compared and shortlisted), a learner's public achievements
//! (`/talent/learners/{handle}`, with the contact request form), two to four learners side by side
//! (`/talent/compare`), and the shortlist with the contact requests sent (`/talent/shortlist`).
//! For learners: their handle and consent, who looked at them, and their answers to contact
//! requests (`/account/visibility`). Everything goes through `cairn_app::talent` and
//! `cairn_app::discovery`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::discovery;
use cairn_app::talent::{self, TalentLearner};
use cairn_core::discovery::{DiscoveryFields, TalentFields};
use cairn_core::ids::ContactRequestId;
use cairn_store::ContactRequest;

use super::form::{Field, FieldErrors};
use super::portfolio::{AwardItem, award_item};
use super::{Layout, human_date, human_datetime, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/talent", get(search))
        .route("/talent/compare", get(compare))
        .route("/talent/learners/{handle}", get(learner))
        .route("/talent/shortlist", get(shortlist).post(change_shortlist))
        .route("/talent/contact-requests", post(request_contact))
        .route("/account/visibility", get(visibility).post(save_visibility))
        .route("/account/contact-requests/{id}", post(answer))
}

/// The query string's pairs, repeated names kept (the compare checkboxes).
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).take(64).collect()
}

fn first(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.trim().is_empty())
}

/// A learner as a result card or a column shows them.
struct LearnerView {
    handle: String,
    name: String,
    href: String,
    portfolio: String,
    shortlisted: bool,
    awards: Vec<AwardItem>,
}

fn learner_view(state: &AppState, learner: &TalentLearner) -> LearnerView {
    let handle = learner.talent.handle.to_string();
    LearnerView {
        href: format!("/talent/learners/{handle}"),
        portfolio: state.app.config.urls().portfolio(&handle),
        name: learner.talent.name.clone(),
        shortlisted: learner.shortlisted,
        awards: learner.awards.iter().map(award_item).collect(),
        handle,
    }
}

#[derive(Template)]
#[template(path = "talent.html")]
struct SearchPage {
    layout: Layout,
    organisation_name: String,
    searched: bool,
    errors: FieldErrors,
    q: Field,
    competency: Field,
    code: Field,
    framework: Field,
    achievement: Field,
    criterion: Field,
    min_level: Field,
    recent_days: Field,
    unexpired: bool,
    total: u64,
    /// More learners match than `total` (the count's cap).
    total_capped: bool,
    learners: Vec<LearnerView>,
    next_href: Option<String>,
}

fn talent_field(pointer: &str) -> Option<(String, String)> {
    let (id, label) = match pointer {
        "/q" => ("q", "Words"),
        "/competency" => ("competency", "Competency"),
        "/code" => ("code", "Competency code"),
        "/framework" => ("framework", "Framework"),
        "/achievement" => ("achievement", "Achievement id"),
        "/criterion" => ("criterion", "Rubric criterion"),
        "/min_level" => ("min_level", "Level reached at least"),
        "/recent_days" => ("recent_days", "Awarded within (days)"),
        "/issuer" | "/limit" | "/offset" | "/unexpired" => return Some(("q".into(), "Search".into())),
        _ => return None,
    };
    Some((id.into(), label.into()))
}

async fn search(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/talent"));
    }
    let pairs = query_pairs(raw.as_deref());
    let get = |name: &str| first(&pairs, name);
    let offset = get("offset").and_then(|o| o.parse::<u32>().ok()).unwrap_or(0);
    let fields = TalentFields {
        q: get("q"),
        competency: get("competency"),
        framework: get("framework"),
        code: get("code"),
        achievement: get("achievement"),
        issuer: get("issuer"),
        criterion: get("criterion"),
        min_level: get("min_level"),
        unexpired: get("unexpired").map(|v| v == "1" || v == "on" || v == "true"),
        recent_days: get("recent_days"),
        limit: Some(20),
        offset: Some(offset),
    };
    let organisation = talent::employer(&state.app, &viewer.actor, None).await?;
    let typed = |id: &str, label: &str| Field::new(id, label, get(id).unwrap_or_default());
    let mut page = SearchPage {
        layout: Layout::new(&viewer, &csrf, None),
        organisation_name: organisation.profile.name.clone(),
        searched: true,
        errors: FieldErrors::default(),
        q: typed("q", "Words").hint("In achievement names, descriptions, competencies and issuers."),
        competency: typed("competency", "Competency").hint("Words of a competency's name."),
        code: typed("code", "Competency code"),
        framework: typed("framework", "Framework"),
        achievement: typed("achievement", "Achievement id").hint("From the achievement's page address."),
        criterion: typed("criterion", "Rubric criterion").hint("The criterion's id in that achievement's rubric."),
        min_level: typed("min_level", "Level reached at least").inputmode("numeric"),
        recent_days: typed("recent_days", "Awarded within (days)").inputmode("numeric"),
        unexpired: fields.unexpired.unwrap_or(false),
        total: 0,
        total_capped: false,
        learners: Vec::new(),
        next_href: None,
    };
    match talent::search(&state.app, &viewer.actor, Some(organisation.id), &fields).await {
        Ok(results) => {
            page.total = results.total;
            page.total_capped = results.total_capped;
            page.learners = results.learners.iter().map(|l| learner_view(&state, l)).collect();
            let shown = u64::from(offset) + page.learners.len() as u64;
            // Beyond the counted learners, pages go on while they come full.
            let more = results.total_capped && page.learners.len() == 20 && offset.saturating_add(20) <= 10_000;
            if shown < results.total || more {
                let mut next: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "offset").cloned().collect();
                next.push(("offset".into(), (offset + 20).to_string()));
                page.next_href = Some(format!("/talent?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(next).finish()));
            }
            render_status(StatusCode::OK, &page)
        }
        Err(cairn_app::AppError::Invalid(invalid)) => {
            page.errors = FieldErrors::place(&invalid.errors, talent_field);
            for field in [
                &mut page.q,
                &mut page.competency,
                &mut page.code,
                &mut page.framework,
                &mut page.achievement,
                &mut page.criterion,
                &mut page.min_level,
                &mut page.recent_days,
            ] {
                let id = field.id.clone();
                field.error = page.errors.at(&id);
            }
            page.searched = false;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "talent_compare.html")]
struct ComparePage {
    layout: Layout,
    learners: Vec<LearnerView>,
    /// Each competency named by anyone's awards, with what each learner shows for it.
    competencies: Vec<(String, Vec<String>)>,
}

async fn compare(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/talent"));
    }
    let handles = super::compare::chosen_values(raw.as_deref(), "learners");
    let learners = talent::compare(&state.app, &viewer.actor, None, &handles).await?;
    let learners: Vec<LearnerView> = learners.iter().map(|l| learner_view(&state, l)).collect();
    let mut names: Vec<String> = learners.iter().flat_map(|l| l.awards.iter().flat_map(|a| a.competencies.clone())).collect();
    names.sort();
    names.dedup();
    let competencies = names
        .into_iter()
        .take(40)
        .map(|name| {
            let cells = learners
                .iter()
                .map(|l| {
                    let holding: Vec<String> = l.awards.iter().filter(|a| a.competencies.contains(&name)).map(|a| a.name.clone()).collect();
                    if holding.is_empty() { "—".to_string() } else { holding.join("; ") }
                })
                .collect();
            (name, cells)
        })
        .collect();
    render_status(StatusCode::OK, &ComparePage { layout: Layout::new(&viewer, &csrf, None), learners, competencies })
}

#[derive(Template)]
#[template(path = "talent_learner.html")]
struct LearnerPage {
    layout: Layout,
    organisation_name: String,
    learner: LearnerView,
    message: Field,
    errors: FieldErrors,
}

async fn learner_page(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, handle: &str, message: Field, errors: FieldErrors) -> Result<LearnerPage, Problem> {
    let organisation = talent::employer(&state.app, &viewer.actor, None).await?;
    let learner = talent::profile(&state.app, &viewer.actor, Some(organisation.id), handle).await?;
    Ok(LearnerPage {
        layout: Layout::new(viewer, csrf, None),
        organisation_name: organisation.profile.name,
        learner: learner_view(state, &learner),
        message,
        errors,
    })
}

fn message_field(value: &str) -> Field {
    Field::new("message", "Your message", value)
        .textarea(5)
        .maxlength(2_000)
        .required()
        .hint("Say who you are and why you would like to be in touch. The learner sees it with your organisation's name; they see nothing else of yours, and you see their e-mail address only if they accept.")
}

async fn learner(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(handle): Path<String>) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/talent/learners/{handle}")));
    }
    let page = learner_page(&state, &viewer, &csrf, &handle, message_field(""), FieldErrors::default()).await?;
    render_status(StatusCode::OK, &page)
}

async fn request_contact(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let handle = form.get("handle").to_string();
    match talent::request_contact(&state.app, &viewer.actor, None, &handle, form.get("message")).await {
        Ok(_) => Ok(see_other_with("/talent/shortlist", "contact-requested")),
        Err(cairn_app::AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, |pointer| (pointer == "/message").then(|| ("message".into(), "Your message".into())));
            let message = message_field(form.get("message")).error_from(&errors);
            let page = learner_page(&state, &viewer, &csrf, &handle, message, errors).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

struct ContactRow {
    name: String,
    href: Option<String>,
    message: String,
    status: &'static str,
    email: Option<String>,
    sent: String,
}

fn contact_row(request: &ContactRequest) -> ContactRow {
    ContactRow {
        name: request.learner_name.clone(),
        href: request.learner_handle.as_ref().map(|h| format!("/talent/learners/{h}")),
        message: request.message.clone(),
        status: request.status.label(),
        email: request.learner_email.as_ref().map(ToString::to_string),
        sent: human_date(request.created_at),
    }
}

#[derive(Template)]
#[template(path = "talent_shortlist.html")]
struct ShortlistPage {
    layout: Layout,
    organisation_name: String,
    /// (handle, name, added).
    entries: Vec<(String, String, String)>,
    contacts: Vec<ContactRow>,
}

async fn shortlist(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/talent/shortlist"));
    }
    let (organisation, entries) = talent::shortlist(&state.app, &viewer.actor, None).await?;
    let (_, sent) = talent::sent_requests(&state.app, &viewer.actor, Some(organisation.id)).await?;
    let page = ShortlistPage {
        layout: Layout::new(&viewer, &csrf, None),
        organisation_name: organisation.profile.name,
        entries: entries.iter().map(|e| (e.talent.handle.to_string(), e.talent.name.clone(), human_date(e.added_at))).collect(),
        contacts: sent.iter().map(contact_row).collect(),
    };
    render_status(StatusCode::OK, &page)
}

/// Adds to or removes from the shortlist, then goes back where the button was (a page of this
/// site only).
async fn change_shortlist(State(state): State<AppState>, viewer: Viewer, form: FormFields) -> Result<Response, Problem> {
    let handle = form.get("handle");
    let (notice, back) = if form.get("action") == "remove" {
        talent::remove_from_shortlist(&state.app, &viewer.actor, None, handle).await?;
        ("unshortlisted", "/talent/shortlist".to_string())
    } else {
        let talent = talent::add_to_shortlist(&state.app, &viewer.actor, None, handle).await?;
        ("shortlisted", format!("/talent/learners/{}", talent.handle))
    };
    let back = super::safe_next(form.get("next")).filter(|next| next.starts_with("/talent")).unwrap_or(back);
    Ok(see_other_with(&back, notice))
}

#[derive(Template)]
#[template(path = "visibility.html")]
struct VisibilityPage {
    layout: Layout,
    errors: FieldErrors,
    handle: Field,
    discoverable: bool,
    show_imports: bool,
    portfolio: Option<String>,
    /// (id, organisation, message, status, sent, pending).
    requests: Vec<(String, String, String, &'static str, String, bool)>,
    /// (when, organisation, member, what).
    activity: Vec<(String, String, Option<String>, &'static str)>,
}

async fn visibility_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    form: Option<&FormFields>,
    errors: FieldErrors,
) -> Result<VisibilityPage, Problem> {
    let settings = discovery::settings(&state.app, &viewer.actor).await?;
    let requests = discovery::contact_requests(&state.app, &viewer.actor).await?;
    let activity = discovery::activity(&state.app, &viewer.actor).await?;
    let handle_value = match form {
        Some(form) => form.get("handle").to_string(),
        None => settings.handle.as_ref().map(ToString::to_string).unwrap_or_default(),
    };
    Ok(VisibilityPage {
        layout: Layout::new(viewer, csrf, None),
        handle: Field::new("handle", "Your handle", handle_value)
            .maxlength(30)
            .autocomplete("username")
            .hint("3 to 30 lower-case letters, digits and hyphens. Your public page is at /u/ followed by it. Leave it empty to take the page down.")
            .error_from(&errors),
        discoverable: form.map_or(settings.discoverable, |f| f.get("discoverable") == "1"),
        show_imports: form.map_or(settings.show_imports, |f| f.get("show_imports") == "1"),
        portfolio: settings.handle.as_ref().map(|h| format!("/u/{h}")),
        requests: requests
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    r.organisation_name.clone(),
                    r.message.clone(),
                    r.status.label(),
                    human_date(r.created_at),
                    r.status == cairn_core::discovery::ContactStatus::Pending,
                )
            })
            .collect(),
        activity: activity.iter().map(|a| (human_datetime(a.at), a.organisation_name.clone(), a.viewer_name.clone(), a.event.label())).collect(),
        errors,
    })
}

async fn visibility(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/account/visibility"));
    }
    let page = visibility_page(&state, &viewer, &csrf, None, FieldErrors::default()).await?;
    render_status(StatusCode::OK, &page)
}

async fn save_visibility(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let fields = DiscoveryFields {
        handle: Some(Some(form.get("handle").to_string())),
        discoverable: Some(form.get("discoverable") == "1"),
        show_imports: Some(form.get("show_imports") == "1"),
    };
    match cairn_app::accounts::profile::update(&state.app, &viewer.actor, None, &fields).await {
        Ok(_) => Ok(see_other_with("/account/visibility", "visibility-saved")),
        Err(error @ (cairn_app::AppError::Invalid(_) | cairn_app::AppError::Conflict { .. })) => {
            let broken = match error {
                cairn_app::AppError::Invalid(invalid) => invalid.errors,
                other => vec![cairn_core::FieldError { pointer: "/handle".into(), detail: other.to_string() }],
            };
            let errors = FieldErrors::place(&broken, |pointer| match pointer {
                "/handle" => Some(("handle".into(), "Your handle".into())),
                "/discoverable" => Some(("discoverable".into(), "Let employers find me".into())),
                _ => None,
            });
            let page = visibility_page(&state, &viewer, &csrf, Some(&form), errors).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(error.into()),
    }
}

async fn answer(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: ContactRequestId = path_id(&id, "contact request")?;
    let request = discovery::answer(&state.app, &viewer.actor, id, form.get("decision")).await?;
    let notice = if request.status == cairn_core::discovery::ContactStatus::Accepted { "contact-accepted" } else { "contact-declined" };
    Ok(see_other_with("/account/visibility", notice))
}
