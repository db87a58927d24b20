//! The mail outbox for operators: the newest e-mails Cairn queued, whether each was sent, and the
//! last error.
//!
//! Only the installation's operators (the `operators` setting; the demo makes its issuer one) may
//! read it, checked by `cairn_app::notify::outbox` through `Action::Operate`. Bodies are shown:
//! Cairn's mails hold a sentence and a link, never a password, token or evidence.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use cairn_app::notify;

use super::{Layout, human_datetime, no_store, render, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/outbox", get(outbox))
}

/// Mails listed, newest first.
const OUTBOX_LIMIT: usize = 200;

#[derive(Debug, Clone)]
struct MailRow {
    to: String,
    subject: String,
    body: String,
    queued: String,
    sent: Option<String>,
    attempts: u32,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    layout: Layout,
    mails: Vec<MailRow>,
    limit: usize,
}

async fn outbox(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/admin/outbox"));
    }
    let mails = notify::outbox(&state.app, &viewer.actor, OUTBOX_LIMIT)
        .await?
        .into_iter()
        .map(|mail| MailRow {
            to: mail.to,
            subject: mail.subject,
            body: mail.body,
            queued: human_datetime(mail.created_at),
            sent: mail.sent_at.map(human_datetime),
            attempts: mail.attempts,
            error: mail.last_error,
        })
        .collect();
    Ok(no_store(render(&OutboxPage { layout: Layout::new(&viewer, &csrf, None), mails, limit: OUTBOX_LIMIT })?))
}
