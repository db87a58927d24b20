//! An organisation's webhooks in the browser (`cairn_app::webhooks`), for its owners: the
//! endpoints with the form to add one (`/issuers/{id}/webhooks`), and each endpoint's page
//! (`/issuers/{id}/webhooks/{endpoint}`) with its settings, a test message, a new secret, its
//! deletion (confirmed first) and the delivery log, where a delivery is sent again. A new
//! secret is shown once, in the answer to the form that made it, never cached.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::webhooks::{self, LoggedDelivery};
use cairn_core::ids::{OrganisationId, WebhookDeliveryId, WebhookEndpointId};
use cairn_core::webhook::{EndpointFields, EventKind};
use cairn_store::{DeliveryState, WebhookEndpoint};

use super::form::{Field, FieldErrors};
use super::{ConfirmPage, Layout, confirmed, human_datetime, no_store, render, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/{id}/webhooks", get(list_page).post(create))
        .route("/issuers/{id}/webhooks/{endpoint}", get(endpoint_page).post(update))
        .route("/issuers/{id}/webhooks/{endpoint}/test", post(test))
        .route("/issuers/{id}/webhooks/{endpoint}/secret", post(rotate))
        .route("/issuers/{id}/webhooks/{endpoint}/delete", post(delete))
        .route("/issuers/{id}/webhooks/{endpoint}/deliveries/{delivery}/redeliver", post(redeliver))
}

/// An event's checkbox.
struct EventChoice {
    value: &'static str,
    words: &'static str,
    checked: bool,
}

fn event_choices(chosen: &[String]) -> Vec<EventChoice> {
    EventKind::SUBSCRIBABLE
        .iter()
        .map(|kind| EventChoice { value: kind.as_str(), words: kind.words(), checked: chosen.iter().any(|c| c == kind.as_str()) })
        .collect()
}

/// The endpoint form's fields and their errors.
struct EndpointForm {
    url: Field,
    description: Field,
    events: Vec<EventChoice>,
    events_error: Option<String>,
    enabled: bool,
}

fn locate(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/url" => Some(("url".into(), "Address".into())),
        "/description" => Some(("description".into(), "Description".into())),
        "/events" => Some(("events".into(), "Events".into())),
        _ => None,
    }
}

fn endpoint_form(url: &str, description: &str, events: &[String], enabled: bool, errors: &FieldErrors) -> EndpointForm {
    EndpointForm {
        url: Field::new("url", "Address", url)
            .kind("url")
            .required()
            .maxlength(2000)
            .hint("An https address of your system. Cairn POSTs each event there as JSON, signed as Standard Webhooks describes.")
            .error_from(errors),
        description: Field::new("description", "Description", description).maxlength(200).hint("What it is for, for your team (optional).").error_from(errors),
        events: event_choices(events),
        events_error: errors.at("events"),
        enabled,
    }
}

struct EndpointRow {
    href: String,
    url: String,
    description: String,
    events: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    organisation: String,
    manage_href: String,
    action: String,
    endpoints: Vec<EndpointRow>,
    form: EndpointForm,
    errors: FieldErrors,
}

struct AttemptRow {
    number: u32,
    when: String,
    result: String,
}

struct DeliveryRow {
    id: String,
    event: String,
    created: String,
    state: &'static str,
    state_class: &'static str,
    attempts: Vec<AttemptRow>,
    next: Option<String>,
    redeliver_action: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    organisation: String,
    list_href: String,
    url: String,
    action: String,
    test_action: String,
    secret_action: String,
    delete_action: String,
    /// A secret just made, shown once.
    secret: Option<String>,
    form: EndpointForm,
    errors: FieldErrors,
    deliveries: Vec<DeliveryRow>,
}

fn events_list(endpoint: &WebhookEndpoint) -> Vec<String> {
    endpoint.events.iter().map(|e| e.as_str().to_string()).collect()
}

async fn organisation_name(state: &AppState, id: OrganisationId) -> Result<String, Problem> {
    Ok(cairn_app::organisations::get(&state.app, id).await?.profile.name)
}

async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    form: EndpointForm,
    errors: FieldErrors,
) -> Result<ListPage, Problem> {
    let endpoints = webhooks::endpoints(&state.app, &viewer.actor, id).await?;
    Ok(ListPage {
        layout: Layout::new(viewer, csrf, None),
        organisation: organisation_name(state, id).await?,
        manage_href: format!("/issuers/{id}/manage"),
        action: format!("/issuers/{id}/webhooks"),
        endpoints: endpoints
            .iter()
            .map(|e| EndpointRow {
                href: format!("/issuers/{id}/webhooks/{}", e.id),
                url: e.url.clone(),
                description: e.description.clone(),
                events: e.events.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                enabled: e.enabled,
            })
            .collect(),
        form,
        errors,
    })
}

async fn list_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/webhooks")));
    }
    let form = endpoint_form("", "", &[], true, &FieldErrors::default());
    Ok(no_store(render(&list_view(&state, &viewer, &csrf, id, form, FieldErrors::default()).await?)?))
}

fn fields_of(form: &FormFields) -> EndpointFields {
    EndpointFields { url: form.get("url").to_string(), description: form.get("description").to_string(), events: form.all("events") }
}

/// Adds an endpoint; the answer is its page with the secret, shown once.
async fn create(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    match webhooks::create(&state.app, &viewer.actor, id, fields_of(&form)).await.map_err(Problem::from) {
        Ok(registered) => {
            let page = endpoint_view(&state, &viewer, &csrf, id, &registered.endpoint, Some(registered.secret), None).await?;
            Ok(no_store(render_status(StatusCode::CREATED, &page)?))
        }
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let errors = FieldErrors::from_problem(&problem, locate, Some("/url"));
            let filled = endpoint_form(form.get("url"), form.get("description"), &form.all("events"), true, &errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &list_view(&state, &viewer, &csrf, id, filled, errors).await?)
        }
        Err(problem) => Err(problem),
    }
}

fn delivery_row(id: OrganisationId, logged: &LoggedDelivery) -> DeliveryRow {
    let delivery = &logged.delivery;
    let (state, state_class) = match delivery.state {
        DeliveryState::Delivered => ("Delivered", "pill-published"),
        DeliveryState::Pending if delivery.attempts == 0 => ("Waiting", "pill-draft"),
        DeliveryState::Pending => ("Retrying", "pill-draft"),
        DeliveryState::Failed => ("Failed", "pill-retired"),
    };
    DeliveryRow {
        id: delivery.id.to_string(),
        event: delivery.event_type.clone(),
        created: human_datetime(delivery.created_at),
        state,
        state_class,
        attempts: logged
            .attempts
            .iter()
            .map(|a| AttemptRow {
                number: a.number,
                when: human_datetime(a.attempted_at),
                result: match (a.status, &a.error) {
                    (Some(status), None) => format!("HTTP {status} in {} ms", a.duration_ms),
                    (Some(status), Some(_)) => format!("HTTP {status} in {} ms (not 2xx)", a.duration_ms),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "no answer".to_string(),
                },
            })
            .collect(),
        next: delivery.next_attempt_at.filter(|_| delivery.state == DeliveryState::Pending).map(human_datetime),
        redeliver_action: format!("/issuers/{id}/webhooks/{}/deliveries/{}/redeliver", delivery.endpoint, delivery.id),
    }
}

async fn endpoint_view(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    endpoint: &WebhookEndpoint,
    secret: Option<String>,
    refused: Option<(EndpointForm, FieldErrors)>,
) -> Result<EndpointPage, Problem> {
    let log = webhooks::log(&state.app, &viewer.actor, endpoint.id).await?;
    let base = format!("/issuers/{id}/webhooks/{}", endpoint.id);
    let (form, errors) = refused.unwrap_or_else(|| {
        (endpoint_form(&endpoint.url, &endpoint.description, &events_list(endpoint), endpoint.enabled, &FieldErrors::default()), FieldErrors::default())
    });
    Ok(EndpointPage {
        layout: Layout::new(viewer, csrf, None),
        organisation: organisation_name(state, id).await?,
        list_href: format!("/issuers/{id}/webhooks"),
        url: endpoint.url.clone(),
        action: base.clone(),
        test_action: format!("{base}/test"),
        secret_action: format!("{base}/secret"),
        delete_action: format!("{base}/delete"),
        secret,
        form,
        errors,
        deliveries: log.iter().map(|logged| delivery_row(id, logged)).collect(),
    })
}

/// The endpoint, checked to belong to the organisation in the address.
async fn endpoint_of(state: &AppState, viewer: &Viewer, id: OrganisationId, raw: &str) -> Result<WebhookEndpoint, Problem> {
    let endpoint_id: WebhookEndpointId = path_id(raw, "webhook endpoint")?;
    let endpoint = webhooks::endpoint(&state.app, &viewer.actor, endpoint_id).await?;
    if endpoint.organisation != id {
        return Err(Problem::from(AppError::NotFound(format!("webhook endpoint \"{endpoint_id}\" not found"))));
    }
    Ok(endpoint)
}

async fn endpoint_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, endpoint)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/webhooks/{endpoint}")));
    }
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    Ok(no_store(render(&endpoint_view(&state, &viewer, &csrf, id, &endpoint, None, None).await?)?))
}

async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, endpoint)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    let enabled = form.get("enabled") == "1";
    match webhooks::update(&state.app, &viewer.actor, endpoint.id, fields_of(&form), enabled).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/webhooks/{}", endpoint.id), "saved")),
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::from_problem(&problem, locate, Some("/url"));
            let filled = endpoint_form(form.get("url"), form.get("description"), &form.all("events"), enabled, &errors);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &endpoint_view(&state, &viewer, &csrf, id, &endpoint, None, Some((filled, errors.clone()))).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn test(State(state): State<AppState>, viewer: Viewer, Path((raw, endpoint)): Path<(String, String)>, _form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    let sent = webhooks::send_test(&state.app, &viewer.actor, endpoint.id).await?;
    let notice = if sent.delivery.state == DeliveryState::Delivered { "webhook-test-delivered" } else { "webhook-test-failed" };
    Ok(see_other_with(&format!("/issuers/{id}/webhooks/{}", endpoint.id), notice))
}

async fn rotate(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, endpoint)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    let secret = webhooks::rotate_secret(&state.app, &viewer.actor, endpoint.id).await?;
    Ok(no_store(render(&endpoint_view(&state, &viewer, &csrf, id, &endpoint, Some(secret), None).await?)?))
}

async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, endpoint)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    if !confirmed(&form) {
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: "Delete this webhook endpoint?".into(),
            lead: format!("{} receives {} kinds of event.", endpoint.url, endpoint.events.len()),
            consequences: vec![
                "No more events are sent to it, and deliveries waiting for a retry are dropped.".into(),
                "Its delivery log is deleted.".into(),
                "Your system keeps what it already received; to receive events again, add the endpoint anew (it gets a new secret).".into(),
            ],
            action: format!("/issuers/{id}/webhooks/{}/delete", endpoint.id),
            hidden: Vec::new(),
            fields: Vec::new(),
            errors: FieldErrors::default(),
            publish_reason: None,
            button: "Delete the endpoint".into(),
            cancel: format!("/issuers/{id}/webhooks/{}", endpoint.id),
        });
    }
    webhooks::delete(&state.app, &viewer.actor, endpoint.id).await?;
    Ok(see_other_with(&format!("/issuers/{id}/webhooks"), "webhook-deleted"))
}

async fn redeliver(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, endpoint, delivery)): Path<(String, String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let endpoint = endpoint_of(&state, &viewer, id, &endpoint).await?;
    let delivery: WebhookDeliveryId = path_id(&delivery, "webhook delivery")?;
    let sent = webhooks::redeliver(&state.app, &viewer.actor, endpoint.id, delivery).await?;
    let notice = if sent.delivery.state == DeliveryState::Delivered { "webhook-redelivered" } else { "webhook-redelivery-failed" };
    Ok(see_other_with(&format!("/issuers/{id}/webhooks/{}", endpoint.id), notice))
}
