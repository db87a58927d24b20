//! One error type for every route: RFC 9457 problem details, rendered once, in
//! [`render_problems`], as `application/problem+json` for the API or as an HTML page for people.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use cairn_app::{AppError, ConflictKind};
use cairn_core::oauth::ErrorCode;
use cairn_core::{FieldError, Invalid};
use serde_json::json;

use crate::state::AppState;

/// A problem type: its slug (part of the API), title and explanation page text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub explanation: &'static str,
}

/// Every problem type Cairn answers with; each has a page at `/problems/<slug>`.
pub const PROBLEM_TYPES: &[ProblemType] = &[
    ProblemType {
        slug: "malformed-request",
        title: "Malformed request",
        status: 400,
        explanation: "The request body or query could not be read: it is not well-formed JSON or form data, or a field has the wrong type. Fix the syntax and send it again.",
    },
    ProblemType {
        slug: "invalid-input",
        title: "Invalid input",
        status: 422,
        explanation: "The request was readable but broke one or more field rules. The errors member lists each one with a JSON Pointer to the field. Nothing was changed.",
    },
    ProblemType {
        slug: "unauthenticated",
        title: "Sign-in required",
        status: 401,
        explanation: "This needs a signed-in user. Pages need a session (sign in); the JSON API needs an Authorization: Bearer token from POST /api/v1/session or your account's API tokens.",
    },
    ProblemType {
        slug: "forbidden",
        title: "Not allowed",
        status: 403,
        explanation: "You are signed in, but your role does not allow this. Organisation owners manage members; owners and staff author and publish; assessors assess.",
    },
    ProblemType { slug: "not-found", title: "Not found", status: 404, explanation: "Nothing exists at this address, or it is not visible to you." },
    ProblemType {
        slug: "method-not-allowed",
        title: "Method not allowed",
        status: 405,
        explanation: "The resource exists but does not accept this HTTP method.",
    },
    ProblemType {
        slug: "gone",
        title: "Gone",
        status: 410,
        explanation: "This existed once and no longer works, such as a password reset link that was already used or is more than an hour old. Ask for a new one.",
    },
    ProblemType {
        slug: "conflict",
        title: "Conflict",
        status: 409,
        explanation: "The request conflicts with what is stored, for example a name that is already taken. Nothing was changed.",
    },
    ProblemType {
        slug: "achievement-state",
        title: "Not possible in this state",
        status: 409,
        explanation: "The achievement's life-cycle state does not allow this: a retired achievement cannot be edited, a published one cannot be published again, and level badges follow their micro-credential.",
    },
    ProblemType {
        slug: "submission-state",
        title: "Not possible for this submission now",
        status: 409,
        explanation: "A submission moves draft → submitted → in review → passed or not yet → resubmitted …, or is withdrawn. Evidence can be edited only in a draft or after \"not yet\" feedback; each attempt is sent once and assessed once.",
    },
    ProblemType {
        slug: "fee-due",
        title: "Fee due",
        status: 409,
        explanation: "This achievement has a fee. Submit once the issuer has recorded your payment or waived the fee, or redeem a voucher code from the issuer.",
    },
    ProblemType {
        slug: "reflections-missing",
        title: "Collaborator reflections missing",
        status: 409,
        explanation: "The issuer requires a reflection from every collaborator you named before you submit. Each writes theirs from their Collaborations page; you can also remove someone you named by mistake.",
    },
    ProblemType {
        slug: "level-order",
        title: "Earn the earlier level first",
        status: 409,
        explanation: "This micro-credential's levels are taken in order: apply for a level once you hold the ones before it. The detail names the level to earn first. Some issuers let their levels be taken in any order.",
    },
    ProblemType {
        slug: "not-renewable",
        title: "Not renewable now",
        status: 409,
        explanation: "This badge cannot be renewed now. A badge that expires can be renewed from 90 days before it expires, and after it has expired, while it is active (not revoked or suspended), once: the detail says why not, or from which day it can be.",
    },
    ProblemType {
        slug: "csrf",
        title: "Form expired",
        status: 403,
        explanation: "The form's security token did not match. Reload the page and submit the form again.",
    },
    ProblemType {
        slug: "unsupported-media-type",
        title: "Unsupported media type",
        status: 415,
        explanation: "The upload is not of an accepted type. Badge images must be PNG or SVG; evidence files PDF, PNG, JPEG or plain text (office documents: export them to PDF first). The declared type must match the content.",
    },
    ProblemType {
        slug: "too-large",
        title: "Too large",
        status: 413,
        explanation: "The request body or upload is larger than this server accepts, or an evidence file does not fit in the storage the issuer allows each learner (the detail says how much is used and allowed).",
    },
    ProblemType {
        slug: "too-many-requests",
        title: "Too many attempts",
        status: 429,
        explanation: "There were too many attempts of one kind (the detail says which: failed sign-ins, sign-ups or password reset requests) for this account or from your network lately. Wait for the time given in the Retry-After header (in seconds) before trying again; if you forgot your password, use \"Forgot your password?\" on the sign-in page.",
    },
    ProblemType {
        slug: "unavailable",
        title: "Temporarily unavailable",
        status: 503,
        explanation: "The server is overloaded, a request took too long, the database is not reachable, or signing does not work. Try again shortly; when a Retry-After header is present, wait that many seconds.",
    },
    ProblemType {
        slug: "internal",
        title: "Something went wrong",
        status: 500,
        explanation: "An unexpected error occurred. It has been logged with the request id shown; nothing you sent was lost or half-applied.",
    },
];

/// The problem type for `slug`.
pub fn problem_type(slug: &str) -> Option<&'static ProblemType> {
    PROBLEM_TYPES.iter().find(|t| t.slug == slug)
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (the `Retry-After` header), for 429 and 503.
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        let title = problem_type(slug).map(|t| t.title).unwrap_or("Error").to_string();
        Self { status, slug, title, detail: detail.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }

    pub fn invalid(invalid: Invalid) -> Self {
        let detail = match invalid.errors.len() {
            1 => format!("{} {}", invalid.errors[0].pointer.trim_start_matches('/'), invalid.errors[0].detail),
            n => format!("{n} fields need attention"),
        };
        Self { errors: invalid.errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", detail) }
    }

    pub fn invalid_field(pointer: &str, detail: impl Into<String>) -> Self {
        Self::invalid(Invalid::one(pointer, detail))
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in to do this")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail)
    }

    pub fn csrf() -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf", "the form's security token did not match; reload the page and try again")
    }

    /// An unexpected failure in the HTTP layer itself (a template that does not render, a task
    /// that panicked): logged here with its cause chain, shown as "something went wrong".
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next.source();
        }
        tracing::error!(error = %chain, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong")
    }

    /// A problem made from a bare error status (router 404/405, tower limits).
    fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found("nothing here"),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(status, "method-not-allowed", "this method is not allowed here"),
            StatusCode::PAYLOAD_TOO_LARGE => Self::too_large("the request body is too large"),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                Self { retry_after: Some(5), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is busy or the request took too long") }
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type("unsupported content type"),
            StatusCode::TOO_MANY_REQUESTS => Self::new(status, "too-many-requests", "too many requests; try again later"),
            s if s.is_client_error() => Self::new(s, "malformed-request", s.canonical_reason().unwrap_or("bad request").to_lowercase()),
            s => Self::new(s, "internal", "something went wrong"),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        // The body is rendered by `render_problems`, which knows the request and the public URL.
        let status = self.status;
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The one mapping from the application's errors to problem types: a status and a slug per
/// meaning, the application's sentence as the detail (internal causes were logged where they
/// were made and are not shown).
impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthenticated | AppError::WrongCredentials | AppError::UnknownToken => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", error.detail())
            }
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            AppError::NotFound(detail) => Problem::not_found(detail),
            AppError::Gone(detail) => Problem::new(StatusCode::GONE, "gone", detail),
            AppError::Invalid(invalid) => Problem::invalid(invalid),
            AppError::Conflict { kind, detail } => {
                let slug = match kind {
                    ConflictKind::Generic | ConflictKind::AlreadyAwarded => "conflict",
                    ConflictKind::AchievementState => "achievement-state",
                    ConflictKind::SubmissionState => "submission-state",
                    ConflictKind::FeeDue => "fee-due",
                    ConflictKind::ReflectionsMissing => "reflections-missing",
                    ConflictKind::LevelOrder => "level-order",
                    ConflictKind::NotRenewable => "not-renewable",
                };
                Problem::new(StatusCode::CONFLICT, slug, detail)
            }
            AppError::TooLarge(detail) => Problem::too_large(detail),
            AppError::UnsupportedMediaType(detail) => Problem::unsupported_media_type(detail),
            // The database or the file store is away, or a provider did not answer: worth another
            // try in a few seconds.
            AppError::Unavailable(detail) => Problem { retry_after: Some(5), ..Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail) },
            AppError::Busy { retry_after } => {
                Problem { retry_after: Some(retry_after), ..Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", error.detail()) }
            }
            AppError::Throttled { retry_after, .. } => {
                Problem { retry_after: Some(retry_after), ..Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", error.detail()) }
            }
            AppError::Internal(_) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", error.detail()),
            AppError::OAuth(oauth) => match oauth.code {
                ErrorCode::InvalidToken | ErrorCode::InvalidClient => Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", oauth.description),
                ErrorCode::InsufficientScope | ErrorCode::AccessDenied => Problem::forbidden(oauth.description),
                _ => Problem::malformed(oauth.description),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    problem: &'a Problem,
    type_url: String,
    request_id: String,
}

/// Whether the client should get JSON: the API, machine-readable paths, or no HTML in `Accept`.
fn wants_json(path: &str, accept: Option<&HeaderValue>) -> bool {
    if path.starts_with("/api/") || path.starts_with("/ims/") || path.starts_with("/.well-known/") || path.ends_with(".json") {
        return true;
    }
    !accept.and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Renders every error response: a [`Problem`] left by a handler, or a bare error status from the
/// router or a tower layer, becomes problem+json or an HTML page with the request id.
pub async fn render_problems(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let json = wants_json(&path, request.headers().get(header::ACCEPT));
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut response = next.run(request).await;
    let problem = match response.extensions_mut().remove::<Problem>() {
        Some(problem) => problem,
        None if response.status().is_client_error() || response.status().is_server_error() => {
            let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let mut problem = Problem::from_status(response.status());
            if content_type.starts_with("text/plain") {
                // A rejection from one of axum's own extractors: keep its message as the detail.
                let body = std::mem::take(response.body_mut());
                if let Ok(bytes) = axum::body::to_bytes(body, 4096).await {
                    let text = String::from_utf8_lossy(&bytes).trim().to_string();
                    if !text.is_empty() && problem.slug != "too-large" {
                        problem.detail = text;
                    }
                }
            } else if !content_type.is_empty() {
                return response;
            }
            problem
        }
        None => return response,
    };
    let type_url = state.app.config.url(&format!("/problems/{}", problem.slug));
    let mut rendered = if json {
        let mut body = json!({
            "type": type_url,
            "title": problem.title,
            "status": problem.status.as_u16(),
            "detail": problem.detail,
            "instance": path,
            "request_id": request_id,
        });
        if !problem.errors.is_empty() {
            body["errors"] = problem.errors.iter().map(|e| json!({"pointer": e.pointer, "detail": e.detail})).collect();
        }
        let mut r = (problem.status, body.to_string()).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    } else {
        let page = ErrorPage { problem: &problem, type_url, request_id };
        match page.render() {
            Ok(html) => (problem.status, Html(html)).into_response(),
            Err(_) => (problem.status, problem.detail.clone()).into_response(),
        }
    };
    for name in [header::WWW_AUTHENTICATE, header::ALLOW, header::SET_COOKIE] {
        for value in response.headers().get_all(&name) {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    if let Some(seconds) = problem.retry_after {
        rendered.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if problem.status == StatusCode::UNAUTHORIZED && json && !rendered.headers().contains_key(header::WWW_AUTHENTICATE) {
        rendered.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cairn\""));
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_has_a_unique_slug() {
        for (i, a) in PROBLEM_TYPES.iter().enumerate() {
            assert!(PROBLEM_TYPES[i + 1..].iter().all(|b| b.slug != a.slug), "{}", a.slug);
        }
    }

    #[test]
    fn every_application_error_keeps_its_problem_type() {
        let conflict = |kind, detail: &str| AppError::Conflict { kind, detail: detail.into() };
        let cases = [
            (AppError::Unauthenticated, 401, "unauthenticated", "sign in to do this"),
            (AppError::WrongCredentials, 401, "unauthenticated", "the e-mail address or password is wrong"),
            (AppError::UnknownToken, 401, "unauthenticated", "the bearer token is unknown or revoked"),
            (AppError::Forbidden("no".into()), 403, "forbidden", "no"),
            (AppError::NotFound("award not found".into()), 404, "not-found", "award not found"),
            (AppError::Gone("this link was used".into()), 410, "gone", "this link was used"),
            (AppError::invalid_field("/email", "is required"), 422, "invalid-input", "email is required"),
            (conflict(ConflictKind::Generic, "the name is taken"), 409, "conflict", "the name is taken"),
            (conflict(ConflictKind::AlreadyAwarded, "already awarded"), 409, "conflict", "already awarded"),
            (conflict(ConflictKind::AchievementState, "retired"), 409, "achievement-state", "retired"),
            (conflict(ConflictKind::SubmissionState, "sent"), 409, "submission-state", "sent"),
            (conflict(ConflictKind::FeeDue, "pay"), 409, "fee-due", "pay"),
            (conflict(ConflictKind::ReflectionsMissing, "wait"), 409, "reflections-missing", "wait"),
            (conflict(ConflictKind::LevelOrder, "earn level 1 first"), 409, "level-order", "earn level 1 first"),
            (conflict(ConflictKind::NotRenewable, "renewed already"), 409, "not-renewable", "renewed already"),
            (AppError::TooLarge("big".into()), 413, "too-large", "big"),
            (AppError::UnsupportedMediaType("gif".into()), 415, "unsupported-media-type", "gif"),
            (AppError::Unavailable("the database is not reachable".into()), 503, "unavailable", "the database is not reachable"),
            (AppError::Internal("disk full: no space".into()), 500, "internal", "something went wrong"),
            (AppError::Busy { retry_after: 2 }, 503, "unavailable", "the server is busy; try again in 2 seconds"),
            (
                AppError::Throttled { retry_after: 600, what: cairn_app::Throttle::PasswordReset },
                429,
                "too-many-requests",
                "too many password reset requests for this account or from this network lately; try again in 10 minutes",
            ),
        ];
        for (error, status, slug, detail) in cases {
            let waits = matches!(error, AppError::Busy { .. } | AppError::Throttled { .. } | AppError::Unavailable(_));
            let problem = Problem::from(error);
            assert_eq!((problem.status.as_u16(), problem.slug, problem.detail.as_str()), (status, slug, detail));
            assert_eq!(problem_type(slug).map(|t| t.status), Some(status), "{slug} has its page");
            assert_eq!(problem.retry_after.is_some(), waits, "{slug}: Retry-After");
        }
    }

    #[test]
    fn json_is_chosen_for_the_api_and_html_for_browsers() {
        let html = HeaderValue::from_static("text/html,application/xhtml+xml");
        assert!(wants_json("/api/v1/achievements", Some(&html)));
        assert!(!wants_json("/catalog", Some(&html)));
        assert!(wants_json("/catalog", None));
        assert!(wants_json("/issuers/x/did.json", Some(&html)));
    }
}
