//! Online fee payments in the browser (`cairn_app::payments`): the organisation's Stripe
//! connection for its owners (`/issuers/{id}/payments`: connect with a secret key and the
//! webhook's signing secret, the webhook address and events to register at Stripe, disconnect),
//! and the learner's way to Stripe's payment page and back (`/submissions/{id}/pay`,
//! `/submissions/{id}/paid`, `/submissions/{id}/payment-cancelled`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::payments::{self, Returned, WEBHOOK_EVENTS};
use cairn_core::ids::{OrganisationId, SubmissionId};

use super::form::{Field, FieldErrors};
use super::{ConfirmPage, Layout, confirmed, human_datetime, no_store, render, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/{id}/payments", get(settings_page).post(connect))
        .route("/issuers/{id}/payments/disconnect", post(disconnect))
        .route("/submissions/{id}/paid", get(paid))
        .route("/submissions/{id}/payment-cancelled", get(cancelled))
}

#[derive(Template)]
#[template(path = "payments.html")]
struct SettingsPage {
    layout: Layout,
    organisation: String,
    manage_href: String,
    action: String,
    disconnect_action: String,
    /// (account name, account id, live or test, connected when)
    account: Option<(String, String, bool, String)>,
    webhook_url: String,
    events: Vec<&'static str>,
    secret_key: Field,
    webhook_secret: Field,
    errors: FieldErrors,
}

fn locate(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/secret_key" => Some(("secret_key".into(), "Secret key".into())),
        "/webhook_secret" => Some(("webhook_secret".into(), "Webhook signing secret".into())),
        _ => None,
    }
}

async fn settings_view(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, id: OrganisationId, errors: FieldErrors) -> Result<SettingsPage, Problem> {
    let connection = payments::connection(&state.app, &viewer.actor, id).await?;
    let organisation = cairn_app::organisations::get(&state.app, id).await?.profile.name;
    Ok(SettingsPage {
        layout: Layout::new(viewer, csrf, None),
        organisation,
        manage_href: format!("/issuers/{id}/manage"),
        action: format!("/issuers/{id}/payments"),
        disconnect_action: format!("/issuers/{id}/payments/disconnect"),
        account: connection.account.map(|a| (a.display_name, a.account_id, a.livemode, human_datetime(a.connected_at))),
        webhook_url: connection.webhook_url,
        events: WEBHOOK_EVENTS.to_vec(),
        // Secrets are never shown again, not even after a failed form.
        secret_key: Field::new("secret_key", "Secret key", "")
            .kind("password")
            .required()
            .autocomplete("off")
            .maxlength(255)
            .hint("From Stripe's dashboard, Developers → API keys: the secret key (sk_live_… or sk_test_…), or a restricted key (rk_…) that may write Checkout Sessions and Refunds.")
            .error_from(&errors),
        webhook_secret: Field::new("webhook_secret", "Webhook signing secret", "")
            .kind("password")
            .required()
            .autocomplete("off")
            .maxlength(255)
            .hint("Add an endpoint at Stripe for the address and events below, then copy its signing secret (whsec_…).")
            .error_from(&errors),
        errors,
    })
}

async fn settings_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/payments")));
    }
    Ok(no_store(render(&settings_view(&state, &viewer, &csrf, id, FieldErrors::default()).await?)?))
}

async fn connect(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    match payments::connect(&state.app, &viewer.actor, id, form.get("secret_key"), form.get("webhook_secret")).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/payments"), "stripe-connected")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::SERVICE_UNAVAILABLE) => {
            let errors = FieldErrors::from_problem(&problem, locate, Some("/secret_key"));
            let page = settings_view(&state, &viewer, &csrf, id, errors).await?;
            Ok(no_store(render_status(problem.status, &page)?))
        }
        Err(problem) => Err(problem),
    }
}

async fn disconnect(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if !confirmed(&form) {
        let organisation = cairn_app::organisations::get(&state.app, id).await?.profile.name;
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: format!("Disconnect {organisation} from Stripe?"),
            lead: "Learners will no longer pay fees online; they see your payment instructions instead.".into(),
            consequences: vec![
                "Payments already made stay paid, and Stripe keeps its records of them.".into(),
                "A learner who withdraws after paying online is not refunded automatically while you are disconnected: refund them in Stripe's dashboard."
                    .into(),
                "Cairn forgets the keys. Delete the webhook endpoint at Stripe too.".into(),
            ],
            action: format!("/issuers/{id}/payments/disconnect"),
            hidden: Vec::new(),
            fields: Vec::new(),
            errors: FieldErrors::default(),
            publish_reason: None,
            button: "Disconnect Stripe".into(),
            cancel: format!("/issuers/{id}/payments"),
        });
    }
    payments::disconnect(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with(&format!("/issuers/{id}/payments"), "stripe-disconnected"))
}

#[derive(Debug, Default, serde::Deserialize)]
struct Return {
    session_id: Option<String>,
}

/// Back from Stripe's page: the payment is checked with Stripe at once.
async fn paid(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, Query(query): Query<Return>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/submissions/{id}")));
    }
    let Some(session) = query.session_id.filter(|s| !s.is_empty() && s.len() <= 255) else { return Ok(see_other(&format!("/submissions/{id}"))) };
    let notice = match payments::returned(&state.app, &viewer.actor, id, &session).await? {
        Returned::Paid => "payment-received",
        Returned::Pending => "payment-pending",
    };
    Ok(see_other_with(&format!("/submissions/{id}"), notice))
}

async fn cancelled(Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    Ok(see_other_with(&format!("/submissions/{id}"), "payment-cancelled"))
}
