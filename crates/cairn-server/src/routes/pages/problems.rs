//! `/problems/<slug>`: the page each RFC 9457 `type` URL points to, one per entry of
//! [`PROBLEM_TYPES`], and an index of them all.

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::{Layout, render};
use crate::auth::{CsrfToken, Viewer};
use crate::problem::{PROBLEM_TYPES, Problem, ProblemType, problem_type};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/problems", get(index)).route("/problems/{slug}", get(problem_page))
}

#[derive(Template)]
#[template(path = "problem_type.html")]
struct ProblemTypePage {
    layout: Layout,
    problem: &'static ProblemType,
    status_text: String,
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    layout: Layout,
    problems: &'static [ProblemType],
}

async fn index(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    render(&ProblemsPage { layout: Layout::new(&viewer, &csrf, None), problems: PROBLEM_TYPES })
}

async fn problem_page(viewer: Viewer, csrf: CsrfToken, Path(slug): Path<String>) -> Result<Response, Problem> {
    let problem = problem_type(&slug).ok_or_else(|| Problem::not_found(format!("no problem type \"{}\"", slug.chars().take(60).collect::<String>())))?;
    let reason = axum::http::StatusCode::from_u16(problem.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    render(&ProblemTypePage { layout: Layout::new(&viewer, &csrf, None), problem, status_text: format!("{} {reason}", problem.status) })
}
