//! The verify page: any Open Badge (a baked PNG or SVG, OB 3.0 or CLR 2.0 JSON, a VC-JWT, an
//! OB 2.0 assertion, or a URL) through `cairn_vc::verify::verify`, reported in plain words, or
//! as the JSON report for `Accept: application/json`.
//!
//! What the pipeline needs from elsewhere (DID documents, status lists, a credential named by
//! URL) is resolved in-process when this installation publishes it, and fetched from public
//! addresses otherwise, within size, time and redirect limits (`cairn_app::verification`,
//! `cairn_app::fetch`). A URL that cannot be fetched, or gives no credential, is an error at the
//! URL field saying why.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::verification;
use cairn_vc::verify::{Check, CheckOutcome, Verdict, VerificationReport};
use serde::Deserialize;

use super::form::{Field, FieldErrors};
use super::learner::{layout, wants_json};
use super::{Layout, render_status};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, Query};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/verify", get(verify_form).post(verify_submit).layer(DefaultBodyLimit::max(MAX_INPUT_BYTES + 64 * 1024)))
}

/// The largest credential accepted on the page: a baked image, JSON or a JWT.
pub(super) const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The report in plain words

#[derive(Debug, Clone)]
pub(super) struct CheckRow {
    pub label: String,
    pub result: &'static str,
    pub class: &'static str,
    pub detail: String,
}

/// A verification report as the page shows it: `cairn_vc`'s words for the one report type
/// (`cairn_vc::verify::words`), with the CSS classes the page styles them by.
#[derive(Debug, Clone)]
pub(super) struct ReportView {
    /// "Valid", "Invalid" or "Could not check".
    pub verdict: &'static str,
    /// `verdict-valid`, `verdict-invalid` or `verdict-unknown`.
    pub class: &'static str,
    pub summary: &'static str,
    pub format: String,
    pub checks: Vec<CheckRow>,
    /// Name, issuer, recipient and dates, as (label, value).
    pub facts: Vec<(String, String)>,
    /// The first check that failed, or else the first that could not be made, in words.
    pub first_problem: Option<String>,
    /// The verdict as a sentence naming the issuer (and, for this site's awards, the day a
    /// revocation or suspension was made).
    pub headline: String,
    /// This site's page for the award, when there is one the viewer may see.
    pub award_page: Option<String>,
    /// The recipient's name where the credential carries one.
    pub recipient_name: Option<String>,
    /// The e-mail check: the address given and whether the credential was issued to it.
    pub email_check: Option<(String, bool)>,
    /// An address was given but the credential names no e-mail recipient.
    pub email_uncheckable: bool,
}

impl ReportView {
    pub(super) fn new(report: &VerificationReport) -> ReportView {
        let class = match report.verdict {
            Verdict::Valid => "verdict-valid",
            Verdict::Invalid => "verdict-invalid",
            Verdict::Indeterminate => "verdict-unknown",
        };
        ReportView {
            verdict: report.verdict.label(),
            class,
            summary: report.verdict.summary(),
            format: report.format_label(),
            checks: report.checks.iter().map(check_row).collect(),
            facts: report.facts(),
            first_problem: report.first_problem(),
            headline: report.headline(),
            award_page: None,
            recipient_name: report.recipient_name(),
            email_check: None,
            email_uncheckable: false,
        }
    }

    /// With what the application layer adds for this viewer (`verification::explain`), and the
    /// e-mail address that was checked.
    pub(super) fn explained(mut self, explanation: verification::Explanation, email: &str) -> ReportView {
        self.headline = explanation.headline;
        self.award_page = explanation.award_page;
        self.recipient_name = explanation.recipient_name;
        let email = email.trim();
        match explanation.issued_to {
            Some(matches) => self.email_check = Some((email.chars().take(254).collect(), matches)),
            None => self.email_uncheckable = !email.is_empty(),
        }
        self
    }
}

fn check_row(check: &Check) -> CheckRow {
    let outcome = check.outcome();
    let class = match outcome {
        CheckOutcome::Passed => "check-passed",
        CheckOutcome::Warning => "check-warning",
        CheckOutcome::Failed => "check-failed",
        CheckOutcome::Unknown => "check-unknown",
    };
    let mut detail = check.detail.clone();
    for warning in &check.warnings {
        detail.push_str(if detail.is_empty() { "" } else { " " });
        detail.push_str("Warning: ");
        detail.push_str(warning);
    }
    CheckRow { label: check.label(), result: outcome.label(), class, detail }
}

// ---------------------------------------------------------------------------------------------
// The page

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    layout: Layout,
    errors: FieldErrors,
    text: Field,
    url: Field,
    email: Field,
    file_error: Option<String>,
    file_hint: String,
    report: Option<ReportView>,
}

fn verify_page(layout: Layout, given: (&str, &str, &str), errors: FieldErrors, report: Option<ReportView>) -> VerifyPage {
    let (text, url, email) = given;
    VerifyPage {
        layout,
        text: Field::new("verify_text", "Paste a credential", text)
            .name("text")
            .textarea(6)
            .hint("The JSON of an Open Badge, or a JWT (three parts separated by dots).")
            .class("field-wide")
            .error_from(&errors),
        url: Field::new("verify_url", "Or give its web address", url)
            .name("url")
            .kind("url")
            .hint("The web address of a badge: its page here, or an Open Badges 2.0 assertion or 3.0 credential hosted elsewhere (Credly, Badgr and others).")
            .error_from(&errors),
        email: Field::new("verify_email", "Check the recipient's e-mail address (optional)", email)
            .name("email")
            .kind("email")
            .hint("Badges name their recipient by a hashed e-mail address: give the address you were told, and the page says whether the badge was issued to it. It is not stored.")
            .error_from(&errors),
        file_error: errors.at("verify_file"),
        file_hint: format!("A baked badge (PNG or SVG), a JSON file or a JWT file, up to {} MB.", MAX_INPUT_BYTES / (1024 * 1024)),
        errors,
        report,
    }
}

#[derive(Debug, Default, Deserialize)]
struct VerifyQuery {
    url: Option<String>,
}

async fn verify_form(viewer: Viewer, csrf: CsrfToken, Query(query): Query<VerifyQuery>) -> Result<Response, Problem> {
    let url: String = query.url.unwrap_or_default().chars().take(2000).collect();
    render_status(StatusCode::OK, &verify_page(layout(&viewer, &csrf), ("", &url, ""), FieldErrors::default(), None))
}

/// What was given on a badge form (this page's, or the import page's).
#[derive(Debug, Default)]
pub(super) struct Given {
    pub file: Vec<u8>,
    pub file_chosen: bool,
    pub text: String,
    pub url: String,
    pub email: String,
}

/// Reads the multipart form. `Err(Ok(given))` when the body is too large: showing the form again
/// with the error at the file field changes nothing, so it needs no token.
pub(super) async fn read_multipart(csrf: &CsrfToken, request: Request, state: &AppState) -> Result<Given, Result<Given, Problem>> {
    let mut multipart = Multipart::from_request(request, state).await.map_err(|r| Err(Problem::malformed(r.body_text())))?;
    let mut token = String::new();
    let mut given = Given::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Ok(given)),
            Err(error) => return Err(Err(Problem::malformed(error.body_text()))),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_chosen = field.file_name().is_some_and(|n| !n.is_empty());
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Ok(given)),
            Err(error) => return Err(Err(Problem::malformed(error.body_text()))),
        };
        match name.as_str() {
            "csrf" => token = String::from_utf8_lossy(&bytes).into_owned(),
            "text" => given.text = String::from_utf8_lossy(&bytes).into_owned(),
            "url" => given.url = String::from_utf8_lossy(&bytes).into_owned(),
            "email" => given.email = String::from_utf8_lossy(&bytes).chars().take(320).collect(),
            "file" => {
                given.file_chosen = file_chosen || !bytes.is_empty();
                given.file = bytes.to_vec();
            }
            _ => {}
        }
    }
    csrf.verify(&token).map_err(Err)?;
    Ok(given)
}

/// The one credential given, as bytes for the pipeline, or the errors to show at the fields
/// `{prefix}_file`, `{prefix}_text` and `{prefix}_url`.
pub(super) fn chosen_input(given: &Given, prefix: &str) -> Result<Vec<u8>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let text = given.text.trim();
    let url = given.url.trim();
    let filled = usize::from(given.file_chosen) + usize::from(!text.is_empty()) + usize::from(!url.is_empty());
    if filled == 0 {
        errors.add(Some((format!("{prefix}_file"), "Credential".into())), "choose a file, paste a credential or give its web address");
        return Err(errors);
    }
    if filled > 1 {
        errors.add(None, "give one credential at a time: clear the other fields, then verify again");
        return Err(errors);
    }
    if given.file_chosen {
        if given.file.is_empty() {
            errors.add(Some((format!("{prefix}_file"), "File".into())), "the file is empty");
        } else if given.file.len() > MAX_INPUT_BYTES {
            errors.add(Some((format!("{prefix}_file"), "File".into())), &format!("the file is larger than {} MB", MAX_INPUT_BYTES / (1024 * 1024)));
        }
        return if errors.is_empty() { Ok(given.file.clone()) } else { Err(errors) };
    }
    if !text.is_empty() {
        if text.len() > MAX_INPUT_BYTES {
            errors
                .add(Some((format!("{prefix}_text"), "Pasted credential".into())), &format!("the text is longer than {} MB", MAX_INPUT_BYTES / (1024 * 1024)));
            return Err(errors);
        }
        return Ok(text.as_bytes().to_vec());
    }
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed.to_string().into_bytes()),
        _ => {
            errors.add(
                Some((format!("{prefix}_url"), "Web address".into())),
                &format!("\"{}\" is not an http(s) address", url.chars().take(80).collect::<String>()),
            );
            Err(errors)
        }
    }
}

fn field_pointer(id: &str) -> &'static str {
    match id {
        "verify_text" => "/text",
        "verify_url" => "/url",
        _ => "/file",
    }
}

/// Input errors as a problem document, for JSON clients.
fn input_problem(errors: &FieldErrors) -> Problem {
    let mut invalid = cairn_core::Invalid::new();
    for (id, detail) in &errors.by_field {
        invalid.push(field_pointer(id), detail.clone());
    }
    if invalid.is_empty() {
        for item in &errors.summary {
            invalid.push("", item.message.clone());
        }
    }
    Problem::invalid(invalid)
}

async fn verify_submit(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, headers: HeaderMap, request: Request) -> Result<Response, Problem> {
    let json = wants_json(&headers);
    let is_multipart = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("multipart/form-data"));
    let given = if is_multipart {
        match read_multipart(&csrf, request, &state).await {
            Ok(given) => Ok(given),
            Err(Ok(given)) => Err(given),
            Err(Err(problem)) => return Err(problem),
        }
    } else {
        let form = FormFields::from_request(request, &state).await?;
        Ok(Given {
            text: form.get("text").to_string(),
            url: form.get("url").to_string(),
            email: form.get("email").chars().take(320).collect(),
            ..Given::default()
        })
    };
    let email = match &given {
        Ok(given) | Err(given) => given.email.clone(),
    };
    let by_url = matches!(&given, Ok(given) if !given.url.trim().is_empty() && given.text.trim().is_empty() && !given.file_chosen);
    let typed_url = match &given {
        Ok(given) | Err(given) => given.url.clone(),
    };
    let input = match given {
        Ok(given) => chosen_input(&given, "verify").map_err(|errors| (given, errors)),
        Err(given) => {
            let mut errors = FieldErrors::default();
            errors.add(Some(("verify_file".into(), "File".into())), &format!("the file is larger than {} MB", MAX_INPUT_BYTES / (1024 * 1024)));
            Err((given, errors))
        }
    };
    let (given_text, given_url, input) = match input {
        Ok(bytes) => (String::new(), String::new(), bytes),
        Err((_, errors)) if json => return Err(input_problem(&errors)),
        Err((given, errors)) => {
            let text: String = given.text.chars().take(MAX_INPUT_BYTES).collect();
            let page = verify_page(layout(&viewer, &csrf), (&text, &given.url, &given.email), errors, None);
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let report = if by_url {
        let url = String::from_utf8_lossy(&input).into_owned();
        match verification::verify_url(&state.app, &url).await.map_err(Problem::from) {
            Ok(report) => report,
            Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY && !json => {
                let errors = FieldErrors::place(&problem.errors, |pointer| (pointer == "/url").then(|| ("verify_url".to_string(), "Web address".to_string())));
                let page = verify_page(layout(&viewer, &csrf), ("", &typed_url, &email), errors, None);
                return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
            }
            Err(problem) => return Err(problem),
        }
    } else {
        verification::verify(&state.app, input).await?
    };
    if json {
        let body = serde_json::to_string(&report).map_err(|e| Problem::internal(&e))?;
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let explanation = verification::explain(&state.app, &viewer.actor, &report, Some(&email)).await;
    let view = ReportView::new(&report).explained(explanation, &email);
    let page = verify_page(layout(&viewer, &csrf), (&given_text, &given_url, &email), FieldErrors::default(), Some(view));
    render_status(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_page_shows_the_reports_own_words() {
        let report = VerificationReport {
            verdict: Verdict::Valid,
            format: "png+ob3-json".into(),
            checks: vec![
                Check { id: "proof".into(), ok: Some(true), detail: "signed".into(), warnings: Vec::new() },
                Check { id: "shape".into(), ok: Some(true), detail: String::new(), warnings: vec!["targetType \"Skill\" is not in the OB 3.0 list".into()] },
            ],
            credential: Some(json!({"name": "Robust Bash", "validFrom": "2026-11-22T10:00:00Z"})),
        };
        let view = ReportView::new(&report);
        assert_eq!(view.verdict, "Valid");
        assert_eq!(view.format, "Open Badges 3.0 credential (JSON with a Data Integrity proof), baked into a PNG image");
        assert_eq!((view.checks[0].label.as_str(), view.checks[0].class), ("Signature", "check-passed"));
        assert_eq!(view.checks[1].class, "check-warning");
        assert!(view.checks[1].detail.starts_with("Warning: targetType"), "{}", view.checks[1].detail);
        assert_eq!(view.facts[0], ("Name".into(), "Robust Bash".into()));
        assert_eq!(view.first_problem, None);
    }

    #[test]
    fn exactly_one_credential_is_taken() {
        assert!(chosen_input(&Given::default(), "verify").is_err());
        let two = Given { text: "{}".into(), url: "https://x.example".into(), ..Given::default() };
        assert!(chosen_input(&two, "verify").is_err());
        let url = Given { url: "javascript:alert(1)".into(), ..Given::default() };
        assert!(chosen_input(&url, "verify").unwrap_err().at("verify_url").is_some());
        let text = Given { text: " {\"a\":1} ".into(), ..Given::default() };
        assert_eq!(chosen_input(&text, "verify").unwrap(), b"{\"a\":1}");
    }
}
