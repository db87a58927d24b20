//! The signed-in user's notifications: what happened to their submissions, awards and queues,
//! newest first, with "mark as read" for one or all.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::notify;
use cairn_core::ids::NotificationId;

use super::learner::layout;
use super::{Layout, human_datetime, render_status, safe_next, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(notifications))
        .route("/notifications/read-all", post(mark_all_read))
        .route("/notifications/{id}/read", post(mark_read))
}

/// The most notifications listed.
const LIMIT: usize = 200;

#[derive(Debug, Clone)]
struct NotificationView {
    subject: String,
    body: String,
    /// A local path to follow, when the notification has a safe one.
    link: Option<String>,
    at: String,
    unread: bool,
    read_action: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    unread: usize,
    items: Vec<NotificationView>,
}

async fn notifications(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/notifications"));
    }
    let inbox = notify::inbox(&state.app, &viewer.actor, LIMIT).await?;
    let items: Vec<NotificationView> = inbox
        .items
        .into_iter()
        .map(|n| NotificationView {
            subject: n.subject,
            body: n.body,
            link: safe_next(&n.link),
            at: human_datetime(n.created_at),
            unread: n.read_at.is_none(),
            read_action: format!("/notifications/{}/read", n.id),
        })
        .collect();
    render_status(StatusCode::OK, &NotificationsPage { layout: layout(&viewer, &csrf), unread: inbox.unread, items })
}

async fn mark_read(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: NotificationId = path_id(&raw, "notification")?;
    notify::mark_read(&state.app, &viewer.actor, Some(id)).await?;
    // "Open" marks the notification read and follows its link.
    match form.opt("follow").and_then(|link| safe_next(&link)) {
        Some(link) => Ok(super::see_other(&link)),
        None => Ok(see_other_with("/notifications", "notification-read")),
    }
}

async fn mark_all_read(State(state): State<AppState>, viewer: Viewer, _form: FormFields) -> Result<Response, Problem> {
    notify::mark_read(&state.app, &viewer.actor, None).await?;
    Ok(see_other_with("/notifications", "notifications-read"))
}
