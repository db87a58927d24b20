//! The learner's side of the assessment journey: applying for an achievement, the list of one's
//! submissions, the submission page (text parts with autosave, evidence files and texts, fee and
//! voucher, submit and withdraw, feedback, history) and the collaborations one is named on.
//!
//! Every write goes through `cairn_app::submissions`, which authorises and applies the rules. A
//! refused write re-renders the page it came from with the typed values and the errors at their
//! fields; the autosave script asks for JSON instead (`Accept: application/json`) and gets the
//! problem document.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_core::calendar::DueState;
use cairn_core::evidence::{EvidenceType, MAX_EVIDENCE_BYTES, size_text};
use cairn_core::ids::{AchievementId, ArtifactId, SubmissionId};
use cairn_core::submission::{Event, FeeState, MAX_COLLABORATORS, MAX_LINKS, MAX_TEXT_CHARS, Outcome, ReflectionRule, Status, SubmissionFields, transition};
use cairn_store::{Artifact, ArtifactBody};
use serde_json::json;

use super::form::{Field, FieldErrors};
use super::rubric::RubricView;
use super::{ConfirmPage, Layout, PaymentView, confirmed, human_date, human_datetime, render, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{self, UploadLimits};
use cairn_app::submissions::{self, Applied, EvidenceFile, LearnerView};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/achievements/{id}/apply", post(apply))
        .route("/submissions", get(submissions))
        .route("/submissions/{id}", get(submission_page).post(save))
        .route("/submissions/{id}/files", post(upload_file).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/submissions/{id}/texts", post(add_text))
        .route("/submissions/{id}/artifacts/{artifact}", get(download))
        .route("/submissions/{id}/artifacts/{artifact}/remove", post(remove_artifact))
        .route("/submissions/{id}/voucher", post(redeem_voucher))
        .route("/submissions/{id}/submit", post(submit))
        .route("/submissions/{id}/pay", post(pay))
        .route("/submissions/{id}/withdraw", post(withdraw))
        .route("/collaborations", get(collaborations))
        .route("/collaborations/{id}", post(write_reflection))
}

/// The largest evidence upload request: the largest file plus room for the other fields.
const UPLOAD_LIMIT: usize = MAX_EVIDENCE_BYTES + 64 * 1024;

/// Notices of the learner's, award and notification pages, besides the shared ones
/// (`super::notice_message`).
pub(super) const NOTICES: &[(&str, &str)] = &[
    ("applied", "Your draft is ready. Add your evidence here: the text parts are saved as you type, and you submit when you are done."),
    ("already-applied", "You already have a submission for this achievement: here it is."),
    ("draft-saved", "Your changes are saved."),
    ("file-added", "The file is added to your evidence."),
    ("text-added", "The text is added to your evidence."),
    ("artifact-removed", "That piece of evidence is removed."),
    ("voucher-redeemed", "The voucher is redeemed: the fee is settled and you can submit."),
    ("submitted", "Submitted. Your evidence is with the issuer; the decision is due by the date shown below."),
    ("resubmitted", "Resubmitted. Your revised evidence is with your assessor; the decision is due by the date shown below."),
    ("withdrawn", "Your submission is withdrawn."),
    ("reflection-saved", "Your reflection is saved."),
    ("privacy-saved", "Your badge's privacy settings are saved."),
    ("renewal-started", "Your renewal is started. Add your renewal evidence here, then submit it: once it passes, you are issued a new award."),
    ("notification-read", "The notification is marked as read."),
    ("notifications-read", "Every notification is marked as read."),
];

/// The layout of the pages in this part.
pub(super) fn layout(viewer: &Viewer, csrf: &CsrfToken) -> Layout {
    Layout::new(viewer, csrf, None)
}

/// Whether the client asked for JSON rather than a page (the autosave script, API-like clients).
pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

/// A submission status as a pill: its words and its CSS class.
pub(super) fn status_pill(status: Status) -> (&'static str, &'static str) {
    let class = match status {
        Status::Draft => "pill-draft",
        Status::Submitted | Status::Resubmitted | Status::InReview => "pill-waiting",
        Status::Passed | Status::Awarded => "pill-published",
        Status::NotYet => "pill-notyet",
        Status::Withdrawn => "pill-retired",
    };
    (status.label(), class)
}

pub(super) fn due_words(state: DueState) -> (&'static str, &'static str) {
    match state {
        DueState::OnTrack => ("On track", "pill-published"),
        DueState::NearlyDue => ("Due soon", "pill-draft"),
        DueState::Overdue => ("Overdue: the issuer has been alerted", "pill-notyet"),
    }
}

// ---------------------------------------------------------------------------------------------
// Apply and the list of submissions

async fn apply(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/achievements/{id}")));
    }
    match submissions::apply(&state.app, &viewer.actor, id).await? {
        Applied::Started(submission) => Ok(see_other_with(&format!("/submissions/{submission}"), "applied")),
        // The learner already has a submission for it: take them there.
        Applied::Existing(submission) => Ok(see_other_with(&format!("/submissions/{submission}"), "already-applied")),
    }
}

#[derive(Debug, Clone)]
struct SubmissionLine {
    href: String,
    achievement: String,
    issuer: String,
    status: (&'static str, &'static str),
    attempt: u32,
    started: String,
    due: Option<String>,
    award_href: Option<String>,
}

#[derive(Template)]
#[template(path = "learner_submissions.html")]
struct SubmissionsPage {
    layout: Layout,
    lines: Vec<SubmissionLine>,
}

async fn submissions(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/submissions"));
    }
    let lines = submissions::my_submissions(&state.app, &viewer.actor)
        .await?
        .into_iter()
        .map(|line| {
            let submission = &line.submission;
            SubmissionLine {
                href: format!("/submissions/{}", submission.id),
                achievement: line.achievement_name.clone(),
                issuer: line.organisation_name.clone(),
                status: status_pill(submission.status),
                attempt: submission.attempt,
                started: human_date(submission.created_at),
                due: submission.due_at.filter(|_| submission.status.clock_running()).map(human_date),
                award_href: line.award.map(|award| format!("/awards/{award}")),
            }
        })
        .collect();
    render_status(StatusCode::OK, &SubmissionsPage { layout: layout(&viewer, &csrf), lines })
}

// ---------------------------------------------------------------------------------------------
// The submission page

/// The line numbers (from 1) of the non-blank lines of a textarea, so that errors about the
/// `k`-th link or collaborator can name the line it was typed on.
#[derive(Debug, Clone, Default)]
struct Lines {
    links: Vec<usize>,
    collaborators: Vec<usize>,
}

fn non_blank_lines(raw: &str) -> (Vec<String>, Vec<usize>) {
    raw.lines().enumerate().map(|(i, line)| (line.trim(), i + 1)).filter(|(line, _)| !line.is_empty()).map(|(line, n)| (line.to_string(), n)).unzip()
}

/// The submission's text parts from the form: links and collaborators one per line.
fn submission_fields(form: &FormFields) -> (SubmissionFields, Lines) {
    let (links, link_lines) = non_blank_lines(form.get("links"));
    let (collaborators, collaborator_lines) = non_blank_lines(form.get("collaborators"));
    let fields = SubmissionFields { overview: form.get("overview").to_string(), reflection: form.get("reflection").to_string(), links, collaborators };
    (fields, Lines { links: link_lines, collaborators: collaborator_lines })
}

/// The stored text parts as form values.
fn stored_form(view: &LearnerView) -> FormFields {
    let content = &view.submission.content;
    FormFields(vec![
        ("overview".into(), content.overview.clone()),
        ("reflection".into(), content.reflection.clone()),
        ("links".into(), content.links.join("\n")),
        ("collaborators".into(), content.collaborators.iter().map(|e| e.as_str().to_string()).collect::<Vec<_>>().join("\n")),
    ])
}

/// The field id, summary label and message for one domain error about this page's forms.
fn locate(pointer: &str, detail: &str, lines: &Lines) -> (Option<(String, String)>, String) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let at = |id: &str, label: &str| Some((id.to_string(), label.to_string()));
    let line = |numbers: &[usize], raw: &str| raw.parse::<usize>().ok().and_then(|k| numbers.get(k).copied());
    match parts.as_slice() {
        ["overview"] => (at("overview", "Overview"), detail.to_string()),
        ["reflection"] => (at("reflection", "Reflection"), detail.to_string()),
        ["links"] => (at("links", "Links"), detail.to_string()),
        ["links", k] => match line(&lines.links, k) {
            Some(n) => (at("links", "Links"), format!("line {n}: {detail}")),
            None => (at("links", "Links"), detail.to_string()),
        },
        ["collaborators"] => (at("collaborators", "Collaborators"), detail.to_string()),
        ["collaborators", k] => match line(&lines.collaborators, k) {
            Some(n) => (at("collaborators", "Collaborators"), format!("line {n}: {detail}")),
            None => (at("collaborators", "Collaborators"), detail.to_string()),
        },
        ["artifacts"] => (at("evidence", "Evidence"), detail.to_string()),
        ["file"] => (at("file", "File"), detail.to_string()),
        ["title"] => (None, detail.to_string()),
        ["body"] => (at("text_body", "Text"), detail.to_string()),
        ["code"] => (at("voucher_code", "Voucher code"), detail.to_string()),
        _ => (None, detail.to_string()),
    }
}

/// The errors of a refused write, placed at this page's fields; `title_id` says which form's
/// title field a `/title` error belongs to. `None` for problems a page cannot help with (not
/// signed in, not found, server errors), which go to the error page.
fn place(problem: &Problem, lines: &Lines, title_id: &str, conflict_at: Option<(&str, &str)>) -> Option<FieldErrors> {
    let mut errors = FieldErrors::default();
    match problem.status {
        StatusCode::UNPROCESSABLE_ENTITY => {
            for error in &problem.errors {
                let (at, detail) = locate(&error.pointer, &error.detail, lines);
                let at = if error.pointer == "/title" { Some((title_id.to_string(), "Title".to_string())) } else { at };
                errors.add(at, &detail);
            }
        }
        StatusCode::CONFLICT | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            errors.add(conflict_at.map(|(id, label)| (id.to_string(), label.to_string())), &problem.detail);
        }
        _ => return None,
    }
    Some(errors)
}

/// What the learner typed into the form that was refused, to show it again.
#[derive(Debug, Default)]
struct Typed {
    main: Option<FormFields>,
    text: Option<FormFields>,
    file_title: Option<String>,
    voucher: Option<String>,
}

#[derive(Debug, Clone)]
struct ArtifactView {
    title: String,
    /// "PDF · 120 KB · report.pdf" or "Text".
    facts: String,
    text: Option<String>,
    download: String,
    remove_action: String,
    /// "Added for attempt 2", from the second attempt on.
    added: Option<String>,
}

#[derive(Debug, Clone)]
struct ScoreRow {
    criterion: String,
    level: String,
    required: String,
    met: bool,
    comment: String,
}

#[derive(Debug, Clone)]
struct FeedbackBlock {
    attempt: u32,
    outcome: &'static str,
    passed: bool,
    date: String,
    feedback: String,
    scores: Vec<ScoreRow>,
}

#[derive(Debug, Clone)]
struct HistoryRow {
    date: String,
    who: String,
    what: String,
}

#[derive(Debug, Clone)]
struct CollaboratorRow {
    email: String,
    written: bool,
}

#[derive(Debug, Clone)]
struct DueView {
    date: String,
    state: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "learner_submission.html")]
struct SubmissionPage {
    layout: Layout,
    /// Set when the submission asks for prior learning to be recognised.
    prior_learning: Option<cairn_app::recognition::PriorLearningShown>,
    id: String,
    code: String,
    achievement_name: String,
    achievement_href: String,
    issuer_name: String,
    /// The rubric the work is judged by, shown beside the editor.
    rubric: RubricView,
    status: (&'static str, &'static str),
    status_message: String,
    attempt: u32,
    editable: bool,
    errors: FieldErrors,
    text_parts: Vec<Field>,
    evidence_error: Option<String>,
    overview: String,
    reflection: String,
    links: Vec<String>,
    collaborators: Vec<CollaboratorRow>,
    artifacts: Vec<ArtifactView>,
    file_title: Field,
    file_error: Option<String>,
    file_hint: String,
    text_title: Field,
    text_body: Field,
    fee_label: String,
    fee_amount: String,
    fee_terms: String,
    fee_for_level: bool,
    fee_due: bool,
    has_fee: bool,
    payment: PaymentView,
    /// Whether the fee can be paid online now ("Pay and send"), and how much.
    pay_online: bool,
    pay_amount: String,
    /// This submission's online payments: (status words, pill class, amount, when).
    payments: Vec<(&'static str, &'static str, String, String)>,
    /// Collaborators whose reflection is missing, and whether the issuer makes the submit wait.
    missing_reflections: Vec<String>,
    reflections_required: bool,
    voucher: Field,
    can_submit: bool,
    submit_label: &'static str,
    can_withdraw: bool,
    service_days: u32,
    calendar_note: String,
    due: Option<DueView>,
    feedback: Vec<FeedbackBlock>,
    attempts_note: Option<String>,
    history: Vec<HistoryRow>,
    award_href: Option<String>,
    /// A renewal: the award it renews, and a light renewal's instructions.
    renewal: Option<RenewalNote>,
}

/// What a renewal's page says about it.
#[derive(Debug, Clone)]
struct RenewalNote {
    award_href: String,
    path: &'static str,
    instructions_html: Option<String>,
}

fn renewal_note(view: &LearnerView) -> Option<RenewalNote> {
    let award = view.submission.renewal_of?;
    let renewal = &view.achievement.content.renewal;
    let instructions_html = match renewal {
        cairn_core::renewal::RenewalPath::Light { instructions, .. } if !instructions.trim().is_empty() => {
            Some(cairn_core::markdown::render_markdown(instructions))
        }
        _ => None,
    };
    Some(RenewalNote { award_href: format!("/awards/{award}"), path: renewal.label(), instructions_html })
}

fn artifact_view(submission: SubmissionId, artifact: &Artifact) -> ArtifactView {
    let (facts, text) = match &artifact.body {
        ArtifactBody::File { media_type, size, original_name, .. } => {
            let kind = EvidenceType::from_media_type(media_type).map(EvidenceType::label).unwrap_or("File");
            let mut facts = format!("{kind} · {}", size_text(*size));
            if !original_name.is_empty() {
                facts.push_str(&format!(" · {original_name}"));
            }
            (facts, None)
        }
        ArtifactBody::Text { body } => ("Text".to_string(), Some(super::excerpt(body, 400))),
    };
    ArtifactView {
        title: artifact.title.clone(),
        facts,
        text,
        download: format!("/submissions/{submission}/artifacts/{}", artifact.id),
        remove_action: format!("/submissions/{submission}/artifacts/{}/remove", artifact.id),
        added: (artifact.added_in_attempt > 1).then(|| format!("Added for attempt {}", artifact.added_in_attempt)),
    }
}

fn status_message(view: &LearnerView, can_resubmit: bool) -> String {
    let submission = &view.submission;
    let due = submission.due_at.map(human_date).unwrap_or_default();
    match submission.status {
        Status::Draft => "A draft: only you can see it. Write the text parts, add your evidence, then submit it for assessment.".into(),
        Status::Submitted | Status::Resubmitted if submission.assessor.is_none() => {
            format!("Submitted and waiting for an assessor to be assigned. A decision is due by {due}.")
        }
        Status::Submitted | Status::Resubmitted => format!("Waiting for your assessor. A decision is due by {due}."),
        Status::InReview => format!("Your assessor is reviewing your evidence. A decision is due by {due}."),
        Status::Passed => "Passed. The issuer confirms each pass before the badge is issued; you will be told when it is.".into(),
        Status::NotYet if can_resubmit => "Not yet. Read the feedback below, revise your evidence and resubmit it.".into(),
        Status::NotYet => "Not yet, and every attempt allowed has been used. Contact the issuer about what to do next.".into(),
        Status::Withdrawn => "Withdrawn. Nothing more will happen with this submission; you can apply again from the achievement's page.".into(),
        Status::Awarded => "Awarded. Your badge is ready to view, share and download.".into(),
    }
}

/// Builds the submission page from the learner's view, the values typed into a refused form,
/// and the errors to show.
fn submission_page_view(layout: Layout, view: &LearnerView, typed: Typed, errors: FieldErrors) -> SubmissionPage {
    let submission = &view.submission;
    let id = submission.id;
    let status = submission.status;
    let editable = status.is_editable();
    let can_resubmit = view.attempts_allowed;
    let main = typed.main.unwrap_or_else(|| stored_form(view));
    let text = typed.text.unwrap_or_default();
    let text_parts = vec![
        Field::new("overview", "Overview", main.get("overview"))
            .textarea(8)
            .maxlength(MAX_TEXT_CHARS as u32)
            .hint("What you did, for whom, and how it meets the criteria.")
            .error_from(&errors),
        Field::new("reflection", "Your individual reflection", main.get("reflection"))
            .textarea(8)
            .maxlength(MAX_TEXT_CHARS as u32)
            .hint("What you learnt, what you would do differently, and (after feedback) what you changed.")
            .error_from(&errors),
        Field::new("links", "Links to your work", main.get("links"))
            .textarea(4)
            .hint(format!("One web address (https://…) per line, up to {MAX_LINKS}: a repository, a published document, a video."))
            .error_from(&errors),
        Field::new("collaborators", "Collaborators", main.get("collaborators"))
            .textarea(3)
            .hint(format!(
                "If you worked with others, their e-mail addresses, one per line (up to {MAX_COLLABORATORS}). Each writes their own reflection; they cannot assess your work."
            ))
            .error_from(&errors),
    ];
    let content = &submission.content;
    let written = |email: &cairn_core::account::Email| view.collaborator_reflections.iter().any(|(e, text)| e == email && !text.trim().is_empty());
    let feedback = view
        .feedback
        .iter()
        .rev()
        .map(|f| FeedbackBlock {
            attempt: f.attempt,
            outcome: if f.outcome == Outcome::Pass { "Passed" } else { "Not yet" },
            passed: f.outcome == Outcome::Pass,
            date: human_date(f.at),
            feedback: f.feedback.clone(),
            scores: f
                .scores
                .iter()
                .map(|s| ScoreRow {
                    criterion: s.criterion.clone(),
                    level: s.level.clone(),
                    required: s.required.clone(),
                    met: s.met,
                    comment: s.comment.clone(),
                })
                .collect(),
        })
        .collect();
    let attempts_note = match (status, view.attempts_left) {
        (Status::NotYet, Some(0)) => Some("You have used every attempt the issuer allows.".to_string()),
        (Status::NotYet, Some(left)) => Some(format!("You may resubmit {left} more time{}.", if left == 1 { "" } else { "s" })),
        (Status::NotYet, None) => Some("You may resubmit as often as you need.".to_string()),
        (Status::Draft, _) => view.settings.attempt_limit.map(|limit| format!("The issuer allows up to {limit} attempts, feedback after each.")),
        _ => None,
    };
    let holidays = view.settings.holidays.len();
    let calendar_note = if holidays == 0 {
        "Business days are Monday to Friday.".to_string()
    } else {
        format!("Business days are Monday to Friday, except the issuer's {holidays} listed holiday{}.", if holidays == 1 { "" } else { "s" })
    };
    SubmissionPage {
        prior_learning: view.prior_learning.clone(),
        layout,
        id: id.to_string(),
        code: submission.code(),
        achievement_name: view.achievement.content.name.clone(),
        achievement_href: format!("/achievements/{}", view.achievement.id),
        issuer_name: view.organisation.profile.name.clone(),
        rubric: RubricView::new(&view.achievement.assessment_rubric(submission.renewal_of.is_some())),
        renewal: renewal_note(view),
        status: status_pill(status),
        status_message: status_message(view, can_resubmit),
        attempt: submission.attempt,
        editable,
        evidence_error: errors.at("evidence"),
        text_parts,
        overview: content.overview.clone(),
        reflection: content.reflection.clone(),
        links: content.links.clone(),
        collaborators: content.collaborators.iter().map(|email| CollaboratorRow { email: email.as_str().to_string(), written: written(email) }).collect(),
        artifacts: view.artifacts.iter().map(|a| artifact_view(id, a)).collect(),
        file_title: Field::new("file_title", "Title", typed.file_title.unwrap_or_default())
            .name("title")
            .maxlength(submissions::MAX_TITLE_CHARS as u32)
            .hint("Optional; what the file is, such as \"Test report\".")
            .error_from(&errors),
        file_error: errors.at("file"),
        file_hint: format!(
            "PDF, PNG, JPEG or plain text (including Markdown), up to {} MB. Your files with this issuer take {} of the {} allowed.",
            MAX_EVIDENCE_BYTES / (1024 * 1024),
            size_text(view.evidence_used),
            size_text(view.settings.evidence_quota_bytes())
        ),
        text_title: Field::new("text_title", "Title", text.get("title"))
            .name("title")
            .maxlength(submissions::MAX_TITLE_CHARS as u32)
            .hint("Optional.")
            .error_from(&errors),
        text_body: Field::new("text_body", "Text", text.get("body")).name("body").textarea(6).maxlength(MAX_TEXT_CHARS as u32).error_from(&errors),
        fee_label: submission.fee.label(),
        fee_amount: view.fee.label.clone(),
        fee_terms: view.fee.terms.clone(),
        fee_for_level: view.fee.parent.is_some(),
        payment: PaymentView::new(&view.settings.payment_instructions, view.settings.payment_url.as_deref()),
        pay_online: view.pays_online && submission.fee == FeeState::Due,
        pay_amount: view.fee.charge.due_amount().map(|(minor, currency)| cairn_core::payments::money(minor, &currency)).unwrap_or_default(),
        payments: view
            .payments
            .iter()
            .map(|p| {
                let class = match p.status {
                    cairn_core::payments::PaymentStatus::Paid => "pill-published",
                    cairn_core::payments::PaymentStatus::Open => "pill-draft",
                    _ => "pill-retired",
                };
                let when = p.refunded_at.or(p.paid_at).unwrap_or(p.created_at);
                (p.status.label(), class, p.amount(), human_datetime(when))
            })
            .collect(),
        missing_reflections: view.missing_reflections.iter().map(|e| e.as_str().to_string()).collect(),
        reflections_required: view.settings.collaborator_reflections == ReflectionRule::Require,
        fee_due: submission.fee == FeeState::Due,
        has_fee: submission.fee != FeeState::None,
        voucher: Field::new("voucher_code", "Voucher code", typed.voucher.unwrap_or_default())
            .name("code")
            .maxlength(40)
            .autocomplete("off")
            .hint("Letters, digits and dashes, such as ABCD-EFGH-JKMN.")
            .error_from(&errors),
        can_submit: editable && can_resubmit,
        submit_label: if status == Status::NotYet { "Save and resubmit" } else { "Save and submit for assessment" },
        can_withdraw: transition(status, Event::Withdraw).is_ok(),
        service_days: view.settings.service_days,
        calendar_note,
        due: submission.due_at.filter(|_| status.clock_running()).map(|due| DueView { date: human_date(due), state: view.due_state.map(due_words) }),
        feedback,
        attempts_note,
        history: view
            .history
            .iter()
            .rev()
            .map(|line| HistoryRow {
                date: human_datetime(line.at),
                who: line.who.clone(),
                what: if line.note.is_empty() { line.to.label().to_string() } else { format!("{}: {}", line.to.label(), line.note) },
            })
            .collect(),
        award_href: view.award.as_ref().map(|award| format!("/awards/{}", award.id)),
        errors,
    }
}

async fn submission_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/submissions/{}", raw.chars().take(40).collect::<String>())));
    }
    let id: SubmissionId = path_id(&raw, "submission")?;
    let view = submissions::learner_view(&state.app, &viewer.actor, id).await?;
    let page = submission_page_view(layout(&viewer, &csrf), &view, Typed::default(), FieldErrors::default());
    Ok(checkout_policy(&state, page.pay_online, render_status(StatusCode::OK, &page)?))
}

/// A page whose form may go on to Stripe's payment page ("Pay and send") lets forms lead there:
/// its policy's `form-action` names Stripe Checkout's origin beside this one.
fn checkout_policy(state: &AppState, pay_online: bool, mut response: Response) -> Response {
    if pay_online {
        let origin = cairn_app::payments::checkout_origin(&state.app);
        let policy = crate::routes::CONTENT_SECURITY_POLICY.replace("form-action 'self'", &format!("form-action 'self' {origin}"));
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// Shows the submission page again after a refused write, keeping what was typed.
async fn rerender(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: SubmissionId,
    status: StatusCode,
    typed: Typed,
    errors: FieldErrors,
) -> Result<Response, Problem> {
    let view = submissions::learner_view(&state.app, &viewer.actor, id).await?;
    let status = if status.is_client_error() { status } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = submission_page_view(layout(viewer, csrf), &view, typed, errors);
    Ok(checkout_policy(state, page.pay_online, render_status(status, &page)?))
}

/// Saves the text parts: the form's Save button, and the autosave script (JSON).
async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(raw): Path<String>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let (fields, lines) = submission_fields(&form);
    // The autosave saves as the learner types: collaborators are told on a real save or the submit.
    let saved = if wants_json(&headers) {
        submissions::autosave_submission(&state.app, &viewer.actor, id, &fields).await
    } else {
        submissions::update_submission(&state.app, &viewer.actor, id, &fields).await
    };
    match saved.map_err(Problem::from) {
        Ok(submission) if wants_json(&headers) => {
            let saved_at = human_datetime(submission.updated_at);
            let body = json!({"saved": true, "saved_at": crate::dto::timestamp(submission.updated_at), "message": format!("Saved {saved_at}")});
            let mut response = (StatusCode::OK, body.to_string()).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Ok(_) => Ok(see_other_with(&format!("/submissions/{id}"), "draft-saved")),
        Err(problem) if wants_json(&headers) => Err(problem),
        Err(problem) => match place(&problem, &lines, "file_title", None) {
            Some(errors) => rerender(&state, &viewer, &csrf, id, problem.status, Typed { main: Some(form), ..Typed::default() }, errors).await,
            None => Err(problem),
        },
    }
}

/// Sends the attempt; from the main form's button, the text parts are saved first.
/// Saves what the submission form typed (when the request comes from it) before sending or
/// paying; `Err` carries the page shown again with the problems, keeping what was typed.
async fn save_first(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, id: SubmissionId, form: &FormFields) -> Result<Result<Lines, Response>, Problem> {
    let mut lines = Lines::default();
    if from_form(form) {
        let (fields, typed_lines) = submission_fields(form);
        lines = typed_lines;
        if let Err(problem) = submissions::update_submission(&state.app, &viewer.actor, id, &fields).await.map_err(Problem::from) {
            return Ok(Err(shown_again(state, viewer, csrf, id, problem, &lines, form).await?));
        }
    }
    Ok(Ok(lines))
}

fn from_form(form: &FormFields) -> bool {
    form.0.iter().any(|(name, _)| name == "overview")
}

/// The submission page again for a refused send or payment, with the problem placed at its
/// fields and what was typed kept; a problem no field explains is answered as it is.
async fn shown_again(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: SubmissionId,
    problem: Problem,
    lines: &Lines,
    form: &FormFields,
) -> Result<Response, Problem> {
    match place(&problem, lines, "file_title", None) {
        Some(errors) => {
            let typed = Typed { main: from_form(form).then(|| form.clone()), ..Typed::default() };
            rerender(state, viewer, csrf, id, problem.status, typed, errors).await
        }
        None => Err(problem),
    }
}

async fn submit(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let lines = match save_first(&state, &viewer, &csrf, id, &form).await? {
        Ok(lines) => lines,
        Err(page) => return Ok(page),
    };
    match submissions::submit(&state.app, &viewer.actor, id).await.map_err(Problem::from) {
        Ok(submission) => {
            let notice = if submission.status == Status::Resubmitted { "resubmitted" } else { "submitted" };
            Ok(see_other_with(&format!("/submissions/{id}"), notice))
        }
        Err(problem) => shown_again(&state, &viewer, &csrf, id, problem, &lines, &form).await,
    }
}

/// Saves what was typed (as [`submit`] does), then sends the learner to Stripe's page to pay the
/// fee; the submission is sent once the fee is paid.
async fn pay(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let lines = match save_first(&state, &viewer, &csrf, id, &form).await? {
        Ok(lines) => lines,
        Err(page) => return Ok(page),
    };
    match cairn_app::payments::checkout(&state.app, &viewer.actor, id, true).await.map_err(Problem::from) {
        Ok(payment) => match payment.checkout_url {
            Some(url) => Ok(super::see_other(&url)),
            None => Ok(see_other_with(&format!("/submissions/{id}"), "payment-pending")),
        },
        Err(problem) => shown_again(&state, &viewer, &csrf, id, problem, &lines, &form).await,
    }
}

/// Withdraws a submission, once confirmed on a page that says what follows.
async fn withdraw(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    if !confirmed(&form) {
        let view = submissions::learner_view(&state.app, &viewer.actor, id).await?;
        let name = &view.achievement.content.name;
        let refund = cairn_app::payments::refund_on_withdrawal(&state.app, &view.submission).await?.map(|r| {
            let paid: i64 = r.payments.iter().map(|p| p.amount_minor).sum();
            let currency = r.payments.first().map(|p| p.currency.clone()).unwrap_or_default();
            format!("The fee you paid online ({}) is refunded to your card; banks take 5 to 10 days to show it.", cairn_core::payments::money(paid, &currency))
        });
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: format!("Withdraw your submission for {name}?"),
            lead: "Withdrawing ends this submission: it will not be assessed.".into(),
            consequences: vec![
                "Your assessor and the issuer's staff see it as withdrawn, and it leaves their queues.".into(),
                "You cannot send it again; you may start a new submission for this achievement later.".into(),
                "Its evidence stays with the issuer and still counts towards your evidence storage.".into(),
            ]
            .into_iter()
            .chain(refund)
            .collect(),
            action: format!("/submissions/{id}/withdraw"),
            hidden: Vec::new(),
            fields: Vec::new(),
            errors: FieldErrors::default(),
            publish_reason: None,
            button: "Withdraw the submission".into(),
            cancel: format!("/submissions/{id}"),
        });
    }
    submissions::withdraw(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with(&format!("/submissions/{id}"), "withdrawn"))
}

async fn redeem_voucher(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let code = form.get("code").to_string();
    match submissions::redeem_voucher(&state.app, &viewer.actor, id, &code).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/submissions/{id}"), "voucher-redeemed")),
        Err(problem) => {
            // An unknown voucher is "not found", but the submission itself was found: say so at the field.
            let unknown_voucher = problem.status == StatusCode::NOT_FOUND && problem.detail.contains("voucher");
            let errors = if unknown_voucher {
                let mut errors = FieldErrors::default();
                errors.add(Some(("voucher_code".into(), "Voucher code".into())), &format!("\"{}\" is not a voucher of this issuer", code.trim()));
                Some(errors)
            } else {
                place(&problem, &Lines::default(), "file_title", Some(("voucher_code", "Voucher code")))
            };
            match errors {
                Some(errors) => {
                    let status = if unknown_voucher { StatusCode::UNPROCESSABLE_ENTITY } else { problem.status };
                    rerender(&state, &viewer, &csrf, id, status, Typed { voucher: Some(code), ..Typed::default() }, errors).await
                }
                None => Err(problem),
            }
        }
    }
}

async fn add_text(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    match submissions::add_text(&state.app, &viewer.actor, id, form.opt("title").as_deref(), form.get("body")).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/submissions/{id}"), "text-added")),
        Err(problem) => match place(&problem, &Lines::default(), "text_title", Some(("text_body", "Text"))) {
            Some(errors) => rerender(&state, &viewer, &csrf, id, problem.status, Typed { text: Some(form), ..Typed::default() }, errors).await,
            None => Err(problem),
        },
    }
}

async fn remove_artifact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, artifact)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let artifact: ArtifactId = path_id(&artifact, "artefact")?;
    submissions::remove_artifact(&state.app, &viewer.actor, id, artifact).await?;
    Ok(see_other_with(&format!("/submissions/{id}#evidence"), "artifact-removed"))
}

/// An evidence file from the multipart form (`csrf`, `title`, `file`).
struct Upload {
    title: String,
    name: Option<String>,
    declared: Option<String>,
    bytes: Vec<u8>,
}

/// Reads the upload form with a byte cap ([`crate::upload`]). A file over the size limit, or a
/// body that breaks off after the CSRF token was accepted, is an error at the file field
/// (`Err(Ok(..))`) with the title read so far; anything else is a plain problem (`Err(Err(..))`).
async fn read_upload(csrf: &CsrfToken, request: Request) -> Result<Upload, Result<(String, Problem), Problem>> {
    let form = match upload::read_upload(request, &UploadLimits::EVIDENCE).await {
        Ok(form) => form,
        Err(error) => {
            let title: String = error.read.text("title").chars().take(500).collect();
            // Showing the page again changes nothing, so a file that is too large is reported at
            // its field even when the body broke off before the token was read.
            if error.is_too_large() {
                return Err(Ok((title, Problem::too_large(error.detail().to_string()))));
            }
            if csrf.verify(error.read.text("csrf")).is_err() {
                return Err(Err(error.into()));
            }
            return Err(Ok((title, Problem::invalid_field("/file", format!("the upload could not be read: {}", error.detail())))));
        }
    };
    csrf.verify(form.text("csrf")).map_err(Err)?;
    let title = form.text("title").chars().take(500).collect();
    Ok(match form.file {
        Some(file) => Upload { title, name: file.file_name, declared: file.declared_type, bytes: file.bytes },
        None => Upload { title, name: None, declared: None, bytes: Vec::new() },
    })
}

/// The declared type to check a file against: browsers label text files by their extension
/// (`text/x-python`), which says nothing the content does not, so those are left to sniffing.
fn declared_type(declared: Option<&str>) -> Option<&str> {
    declared.filter(|d| !d.trim().to_ascii_lowercase().starts_with("text/") || EvidenceType::from_media_type(d).is_some())
}

async fn upload_file(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, request: Request) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let file_error = |problem: &Problem| place(problem, &Lines::default(), "file_title", Some(("file", "File")));
    let upload = match read_upload(&csrf, request).await {
        Ok(upload) => upload,
        Err(Ok((title, problem))) => {
            let errors = file_error(&problem).unwrap_or_default();
            return rerender(&state, &viewer, &csrf, id, problem.status, Typed { file_title: Some(title), ..Typed::default() }, errors).await;
        }
        Err(Err(problem)) => return Err(problem),
    };
    if upload.bytes.is_empty() && upload.name.as_deref().unwrap_or("").is_empty() {
        let mut errors = FieldErrors::default();
        errors.add(Some(("file".into(), "File".into())), "choose a file to upload");
        return rerender(&state, &viewer, &csrf, id, StatusCode::UNPROCESSABLE_ENTITY, Typed { file_title: Some(upload.title), ..Typed::default() }, errors)
            .await;
    }
    let title = Some(upload.title.trim()).filter(|t| !t.is_empty());
    match submissions::add_file(&state.app, &viewer.actor, id, title, upload.name.as_deref(), declared_type(upload.declared.as_deref()), &upload.bytes)
        .await
        .map_err(Problem::from)
    {
        Ok(_) => Ok(see_other_with(&format!("/submissions/{id}#evidence"), "file-added")),
        Err(problem) => match file_error(&problem) {
            Some(errors) => rerender(&state, &viewer, &csrf, id, problem.status, Typed { file_title: Some(upload.title), ..Typed::default() }, errors).await,
            None => Err(problem),
        },
    }
}

/// A file name safe inside a quoted `Content-Disposition` parameter.
fn ascii_file_name(name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' }).take(120).collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() { "evidence".to_string() } else { clean }
}

/// Downloads one of the learner's own evidence files, never shown inline.
async fn download(State(state): State<AppState>, viewer: Viewer, Path((raw, artifact)): Path<(String, String)>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let artifact: ArtifactId = path_id(&artifact, "artefact")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/submissions/{id}")));
    }
    let EvidenceFile { media_type, name, bytes } = submissions::learner_file(&state.app, &viewer.actor, id, artifact).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let media_type = HeaderValue::from_str(&media_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, media_type);
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    let disposition = format!("attachment; filename=\"{}\"; filename*=UTF-8''{encoded}", ascii_file_name(&name));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Collaborations

#[derive(Debug, Clone)]
struct CollaborationRow {
    /// The anchor the notification and the invitation link to.
    anchor: String,
    learner_name: String,
    achievement: String,
    achievement_href: String,
    status: (&'static str, &'static str),
    action: String,
    reflection: Field,
    open: bool,
}

#[derive(Template)]
#[template(path = "learner_collaborations.html")]
struct CollaborationsPage {
    layout: Layout,
    email: String,
    errors: FieldErrors,
    rows: Vec<CollaborationRow>,
}

/// The collaborations page; `typed` is a refused reflection (submission, text) to show again.
async fn collaborations_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    notice: Option<&str>,
    typed: Option<(SubmissionId, String)>,
    errors: FieldErrors,
) -> Result<CollaborationsPage, Problem> {
    let (email, collaborations) = submissions::collaborations(&state.app, &viewer.actor).await?;
    let rows = collaborations
        .into_iter()
        .map(|c| {
            let id = format!("reflection-{}", c.submission);
            let text = match &typed {
                Some((submission, text)) if *submission == c.submission => text.clone(),
                _ => c.reflection.clone(),
            };
            CollaborationRow {
                anchor: format!("collaboration-{}", c.submission),
                learner_name: c.learner_name.clone(),
                achievement: c.achievement_name.clone(),
                achievement_href: format!("/achievements/{}", c.achievement),
                status: status_pill(c.status),
                action: format!("/collaborations/{}", c.submission),
                reflection: Field::new(id, format!("Your reflection on \"{}\"", c.achievement_name), text)
                    .name("reflection")
                    .textarea(6)
                    .maxlength(MAX_TEXT_CHARS as u32)
                    .error_from(&errors),
                open: !c.status.is_decided(),
            }
        })
        .collect();
    Ok(CollaborationsPage { layout: Layout::new(viewer, csrf, notice), email: email.as_str().to_string(), errors, rows })
}

async fn collaborations(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/collaborations"));
    }
    let page = collaborations_page(&state, &viewer, &csrf, None, None, FieldErrors::default()).await?;
    render_status(StatusCode::OK, &page)
}

async fn write_reflection(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let text = form.get("reflection").to_string();
    match submissions::write_collaborator_reflection(&state.app, &viewer.actor, id, &text).await.map_err(Problem::from) {
        Ok(()) => Ok(see_other_with("/collaborations", "reflection-saved")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let mut errors = FieldErrors::default();
            let detail = problem.errors.first().map(|e| e.detail.clone()).unwrap_or_else(|| problem.detail.clone());
            errors.add(Some((format!("reflection-{id}"), "Your reflection".into())), &detail);
            let page = collaborations_page(&state, &viewer, &csrf, None, Some((id, text)), errors).await?;
            render_status(problem.status, &page)
        }
        Err(problem) => Err(problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_about_lines_name_the_line_they_were_typed_on() {
        let form = FormFields(vec![("links".into(), "https://a.example\n\n  \nnot a link\n".into()), ("collaborators".into(), "\nme@example.org".into())]);
        let (fields, lines) = submission_fields(&form);
        assert_eq!(fields.links, ["https://a.example", "not a link"]);
        assert_eq!(fields.collaborators, ["me@example.org"]);
        let (at, detail) = locate("/links/1", "is not a URL", &lines);
        assert_eq!(at, Some(("links".to_string(), "Links".to_string())));
        assert_eq!(detail, "line 4: is not a URL");
        assert_eq!(locate("/collaborators/0", "x", &lines).1, "line 2: x");
        assert_eq!(locate("/artifacts", "add evidence", &lines).0.map(|(id, _)| id).as_deref(), Some("evidence"));
    }

    #[test]
    fn download_names_stay_inside_their_quotes() {
        assert_eq!(ascii_file_name("report \"final\".pdf"), "report _final_.pdf");
        assert_eq!(ascii_file_name("..\\..\\x"), "_.._x");
        assert_eq!(ascii_file_name("¿"), "_");
        assert_eq!(ascii_file_name(""), "evidence");
    }

    #[test]
    fn text_types_from_extensions_are_left_to_sniffing() {
        assert_eq!(declared_type(Some("text/x-python")), None);
        assert_eq!(declared_type(Some("text/markdown")), Some("text/markdown"));
        assert_eq!(declared_type(Some("application/pdf")), Some("application/pdf"));
        assert_eq!(declared_type(None), None);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(2048), "2 KB");
        assert_eq!(size_text(3 * 1_048_576), "3 MB");
    }
}
