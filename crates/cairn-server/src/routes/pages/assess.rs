//! The assessor's pages: the double-blind queue, the scoring page (evidence, earlier feedback,
//! what changed since the last attempt, duplicate warnings and the rubric as a form), evidence
//! downloads under blind names, and declaring a conflict of interest.
//!
//! **Double-blind.** Everything shown here comes from `cairn_app::assessment::BlindSubmission`
//! and `cairn_app::assessment::QueueLine`, which have no learner fields: the learner's identity is absent, not
//! hidden. The layout shows the viewer's own name only.
//!
//! The scoring form names its fields by the criterion's position in the rubric:
//!
//! ```text
//! criterion_{i}   the criterion's id (hidden)     level_{i}   the chosen level, from 1
//! comment_{i}     feedback on the criterion       feedback    overall feedback
//! ```

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_core::assessment::{AttemptChanges, DiffLine, MAX_COMMENT_CHARS, ScoreFields};
use cairn_core::authz::{Action, OrgAction};
use cairn_core::calendar::DueState;
use cairn_core::ids::{ArtifactId, OrganisationId, SubmissionId};
use cairn_core::rubric::MAX_CRITERIA;
use cairn_core::submission::Outcome;

use super::form::{Field, FieldErrors, SelectOption};
use super::{Layout, human_date, no_store, render, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use cairn_app::assessment::{self, BlindSubmission, FeedbackView};
use cairn_app::submissions::EvidenceFile;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/assess", get(queue))
        .route("/assess/conflicts", get(conflicts_form).post(declare_conflict))
        .route("/assess/{id}", get(scoring_page).post(record))
        .route("/assess/{id}/artifacts/{artifact}", get(download))
        .route("/issuers/{id}/moderation", get(moderation_queue))
        .route("/moderate/{id}", get(moderation_page).post(moderate))
}

/// A service-window state as a labelled pill: the words carry the meaning, the colour repeats it.
#[derive(Debug, Clone)]
pub(super) struct DueBadge {
    pub label: &'static str,
    pub class: &'static str,
}

impl DueBadge {
    pub(super) fn new(state: DueState) -> DueBadge {
        match state {
            DueState::OnTrack => DueBadge { label: "On track", class: "pill-on-track" },
            DueState::NearlyDue => DueBadge { label: "Nearly due", class: "pill-nearly-due" },
            DueState::Overdue => DueBadge { label: "Overdue", class: "pill-overdue" },
        }
    }
}

// ---------------------------------------------------------------- the queue

#[derive(Debug, Clone)]
struct QueueRow {
    href: String,
    code: String,
    achievement: String,
    attempt: u32,
    status: &'static str,
    due: Option<String>,
    due_badge: Option<DueBadge>,
    flagged: bool,
    renewal: bool,
}

#[derive(Template)]
#[template(path = "assess_queue.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<QueueRow>,
    /// Whether the viewer may assess for any issuer (otherwise the page explains who can).
    may_assess: bool,
}

/// Whether the actor may assess for at least one issuer.
fn assessor_organisations(viewer: &Viewer) -> Vec<OrganisationId> {
    viewer.actor.memberships.iter().map(|(org, _)| *org).filter(|org| viewer.actor.can(Action::Org(*org, OrgAction::Assess))).collect()
}

async fn queue(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/assess"));
    }
    let rows = assessment::assessor_queue(&state.app, &viewer.actor)
        .await?
        .into_iter()
        .map(|line| QueueRow {
            href: format!("/assess/{}", line.submission_id),
            code: line.code,
            achievement: line.achievement.content.name,
            attempt: line.attempt,
            status: line.status.label(),
            due: line.due_at.map(human_date),
            due_badge: line.due_state.map(DueBadge::new),
            flagged: line.flagged,
            renewal: line.renewal,
        })
        .collect();
    render(&QueuePage { layout: Layout::new(&viewer, &csrf, None), rows, may_assess: !assessor_organisations(&viewer).is_empty() })
}

// ---------------------------------------------------------------- the scoring page

/// One level of a criterion as a radio button with its descriptor.
#[derive(Debug, Clone)]
struct LevelChoice {
    id: String,
    /// The level's number, from 1 (what the form sends).
    value: String,
    name: String,
    descriptor: String,
    required: bool,
    checked: bool,
}

/// One criterion of the rubric as a radio group and a comment box.
#[derive(Debug, Clone)]
struct CriterionForm {
    /// The fieldset's id (errors link to it).
    id: String,
    index: usize,
    criterion_id: String,
    name: String,
    description: String,
    required_level: String,
    levels: Vec<LevelChoice>,
    error: Option<String>,
    comment: Field,
}

#[derive(Debug, Clone)]
struct ArtifactView {
    label: String,
    title: String,
    kind: String,
    size: Option<String>,
    text: Option<String>,
    download: Option<String>,
}

/// One line of a diff: its marker and words say what happened to it, the colour repeats it.
#[derive(Debug, Clone)]
struct DiffView {
    class: &'static str,
    sign: &'static str,
    /// "Added" or "Removed" for screen readers (empty for unchanged lines).
    word: &'static str,
    text: String,
}

#[derive(Debug, Clone)]
struct ChangesView {
    overview: Vec<DiffView>,
    overview_changed: bool,
    reflection: Vec<DiffView>,
    reflection_changed: bool,
    added: Vec<String>,
    removed: Vec<String>,
    nothing: bool,
}

#[derive(Debug, Clone)]
struct ScoreLine {
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
    at: String,
    feedback: String,
    scores: Vec<ScoreLine>,
}

#[derive(Debug, Clone)]
struct DuplicateView {
    description: &'static str,
    other_code: String,
    similarity: String,
}

#[derive(Template)]
#[template(path = "assess_submission.html")]
struct SubmissionPage {
    layout: Layout,
    /// Set when the submission asks for prior learning to be recognised.
    prior_learning: Option<cairn_app::recognition::PriorLearningShown>,
    code: String,
    action: String,
    achievement_name: String,
    achievement_href: String,
    attempt: u32,
    status: &'static str,
    /// A renewal of an award, with the words on how it is judged.
    renewal: Option<&'static str>,
    due: Option<String>,
    due_badge: Option<DueBadge>,
    overview: String,
    reflection: String,
    links: Vec<String>,
    artifacts: Vec<ArtifactView>,
    collaborator_reflections: Vec<String>,
    duplicates: Vec<DuplicateView>,
    previous: Vec<FeedbackBlock>,
    changes: Option<ChangesView>,
    /// The scoring form, while the attempt waits for a judgement.
    open: bool,
    criteria: Vec<CriterionForm>,
    feedback: Field,
    errors: FieldErrors,
    csrf: String,
    /// Set on a moderator's page: the two blind scorings, first and second, unnamed.
    scorings: Vec<FeedbackBlock>,
    moderating: bool,
    queue_href: String,
}

fn diff_view(lines: &[DiffLine]) -> Vec<DiffView> {
    lines
        .iter()
        .map(|line| match line {
            DiffLine::Same(text) => DiffView { class: "diff-same", sign: " ", word: "", text: text.clone() },
            DiffLine::Added(text) => DiffView { class: "diff-added", sign: "+", word: "Added", text: text.clone() },
            DiffLine::Removed(text) => DiffView { class: "diff-removed", sign: "−", word: "Removed", text: text.clone() },
        })
        .collect()
}

fn changes_view(changes: &AttemptChanges) -> ChangesView {
    let changed = |lines: &[DiffLine]| lines.iter().any(|l| !matches!(l, DiffLine::Same(_)));
    ChangesView {
        overview: diff_view(&changes.overview),
        overview_changed: changed(&changes.overview),
        reflection: diff_view(&changes.reflection),
        reflection_changed: changed(&changes.reflection),
        added: changes.added.clone(),
        removed: changes.removed.clone(),
        nothing: changes.is_empty(),
    }
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "Pass",
        Outcome::NotYet => "Not yet",
    }
}

fn feedback_block(view: &FeedbackView) -> FeedbackBlock {
    FeedbackBlock {
        attempt: view.attempt,
        outcome: outcome_label(view.outcome),
        passed: view.outcome == Outcome::Pass,
        at: human_date(view.at),
        feedback: view.feedback.clone(),
        scores: view
            .scores
            .iter()
            .map(|s| ScoreLine { criterion: s.criterion.clone(), level: s.level.clone(), required: s.required.clone(), met: s.met, comment: s.comment.clone() })
            .collect(),
    }
}

/// A byte count as people read it.
pub(super) fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.0} kB", bytes as f64 / 1_000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// The scoring form as typed (empty on first view).
#[derive(Default)]
struct Typed {
    form: FormFields,
    errors: FieldErrors,
}

fn comment_id(index: usize) -> String {
    format!("comment-{index}")
}

fn criterion_id(index: usize) -> String {
    format!("criterion-{index}")
}

fn submission_page(layout: Layout, csrf: &CsrfToken, blind: BlindSubmission, typed: Typed) -> SubmissionPage {
    let Typed { form, errors } = typed;
    let rubric = &blind.rubric;
    let criteria = rubric
        .criteria
        .iter()
        .enumerate()
        .map(|(i, criterion)| {
            let chosen = form.get(&format!("level_{i}")).trim().to_string();
            CriterionForm {
                id: criterion_id(i),
                index: i,
                criterion_id: criterion.id.clone(),
                name: criterion.name.clone(),
                description: criterion.description.clone(),
                required_level: rubric.required_level_name(criterion).to_string(),
                levels: rubric
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(j, name)| LevelChoice {
                        id: format!("criterion-{i}-level-{}", j + 1),
                        value: (j + 1).to_string(),
                        name: name.clone(),
                        descriptor: criterion.descriptors.get(j).cloned().unwrap_or_default(),
                        required: j == criterion.required_level,
                        checked: chosen == (j + 1).to_string(),
                    })
                    .collect(),
                error: errors.at(&criterion_id(i)),
                comment: Field::new(comment_id(i), format!("Feedback on {}", criterion.name), form.get(&format!("comment_{i}")))
                    .name(format!("comment_{i}"))
                    .textarea(3)
                    .maxlength(MAX_COMMENT_CHARS as u32)
                    .hint("Optional. What the evidence shows, and what would reach the next level.")
                    .error_from(&errors),
            }
        })
        .collect();
    let feedback = Field::new("feedback", "Overall feedback", form.get("feedback"))
        .textarea(6)
        .maxlength(MAX_COMMENT_CHARS as u32)
        .hint("The learner reads this with the levels above. For \"not yet\", say what to revise.")
        .error_from(&errors);
    let artifacts = blind
        .artifacts
        .iter()
        .map(|a| ArtifactView {
            label: a.label.clone(),
            title: a.title.clone(),
            kind: match (a.kind, a.media_type.as_deref()) {
                ("text", _) => "Text".to_string(),
                (_, Some(media_type)) => {
                    cairn_core::evidence::EvidenceType::from_media_type(media_type).map(|t| t.label().to_string()).unwrap_or_else(|| "File".into())
                }
                _ => "File".to_string(),
            },
            size: a.size.map(human_size),
            text: a.text.clone(),
            download: a.download.clone(),
        })
        .collect();
    let duplicates = blind
        .duplicates
        .iter()
        .map(|d| DuplicateView { description: d.description, other_code: d.other_code.clone(), similarity: format!("{:.0}%", d.similarity * 100.0) })
        .collect();
    SubmissionPage {
        prior_learning: blind.prior_learning.clone(),
        layout,
        action: format!("/assess/{}", blind.submission_id),
        achievement_href: format!("/achievements/{}", blind.achievement.id),
        achievement_name: blind.achievement.content.name.clone(),
        attempt: blind.attempt,
        status: blind.status.label(),
        renewal: blind.renewal.then(|| blind.achievement.content.renewal.label()),
        due: blind.due_at.map(human_date),
        due_badge: blind.due_state.map(DueBadge::new),
        open: blind.status.is_queued(),
        previous: blind.previous.iter().map(feedback_block).collect(),
        changes: blind.changes.as_ref().map(changes_view),
        criteria,
        feedback,
        errors,
        csrf: csrf.0.clone(),
        code: blind.code,
        overview: blind.overview,
        reflection: blind.reflection,
        links: blind.links,
        artifacts,
        collaborator_reflections: blind.collaborator_reflections,
        duplicates,
        scorings: Vec::new(),
        moderating: false,
        queue_href: "/assess".into(),
    }
}

async fn scoring_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/assess/{id}")));
    }
    let blind = assessment::blind_view(&state.app, &viewer.actor, id).await?;
    // Evidence stays out of shared caches and the browser's back-forward history on shared computers.
    Ok(no_store(render(&submission_page(Layout::new(&viewer, &csrf, None), &csrf, blind, Typed::default()))?))
}

/// The scores as sent: one per criterion row of the form, in order, an unchosen level left empty
/// (the domain says which criteria still need one).
fn score_fields(form: &FormFields) -> Vec<ScoreFields> {
    (0..MAX_CRITERIA)
        .map_while(|i| {
            let criterion = form.opt(&format!("criterion_{i}"))?;
            Some(ScoreFields { criterion, level: form.get(&format!("level_{i}")).to_string(), comment: form.get(&format!("comment_{i}")).to_string() })
        })
        .collect()
}

/// Places the domain's errors on the form: `/scores/{i}/…` at criterion `i`, `/feedback` at the
/// overall feedback; an unchosen level reads "choose a level".
fn scoring_errors(problem: &Problem, blind: &BlindSubmission, form: &FormFields) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for error in &problem.errors {
        let parts: Vec<&str> = error.pointer.trim_start_matches('/').split('/').collect();
        let criterion = |raw: &str| raw.parse::<usize>().ok().and_then(|i| blind.rubric.criteria.get(i).map(|c| (i, c.name.clone())));
        match parts.as_slice() {
            ["scores", raw, field] => match criterion(raw) {
                Some((i, name)) if *field == "comment" => errors.add(Some((comment_id(i), format!("Feedback on {name}"))), &error.detail),
                Some((i, name)) => {
                    let unchosen = *field == "level" && form.get(&format!("level_{i}")).trim().is_empty();
                    errors.add(Some((criterion_id(i), name)), if unchosen { "choose a level" } else { &error.detail });
                }
                None => errors.add(None, &error.detail),
            },
            ["feedback"] => errors.add(Some(("feedback".into(), "Overall feedback".into())), &error.detail),
            _ => errors.add(None, &error.detail),
        }
    }
    if errors.is_empty() {
        errors.add(None, &problem.detail);
    }
    errors
}

async fn record(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    match assessment::assess(&state.app, &viewer.actor, id, &score_fields(&form), form.get("feedback")).await.map_err(Problem::from) {
        Ok(result) => {
            let notice = match (result.outcome, result.awarded) {
                _ if result.to_moderation => "assessed-moderation",
                _ if result.held => "assessed-held",
                (Outcome::Pass, true) => "assessed-pass",
                (Outcome::Pass, false) => "assessed-pass-confirm",
                (Outcome::NotYet, _) => "assessed-not-yet",
            };
            Ok(see_other_with("/assess", notice))
        }
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let blind = assessment::blind_view(&state.app, &viewer.actor, id).await?;
            let errors = scoring_errors(&problem, &blind, &form);
            let page = submission_page(Layout::new(&viewer, &csrf, None), &csrf, blind, Typed { form, errors });
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(problem) => Err(problem),
    }
}

/// Keeps a download name to letters, digits, dots and dashes (it is built from the code anyway).
fn safe_filename(name: &str) -> String {
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    if clean.is_empty() { "evidence".into() } else { clean }
}

async fn download(State(state): State<AppState>, viewer: Viewer, Path((raw, raw_artifact)): Path<(String, String)>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let artifact: ArtifactId = path_id(&raw_artifact, "artefact")?;
    let EvidenceFile { media_type, name, bytes } = assessment::assessor_file(&state.app, &viewer.actor, id, artifact).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    let disposition = format!("attachment; filename=\"{}\"", safe_filename(&name));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}

// ---------------------------------------------------------------- conflicts of interest

#[derive(Template)]
#[template(path = "assess_conflicts.html")]
struct ConflictsPage {
    layout: Layout,
    /// The organisation choice and the e-mail field (none for people who assess for nobody).
    fields: Option<(Field, Field)>,
    errors: FieldErrors,
    csrf: String,
}

async fn conflicts_page(state: &AppState, viewer: &Viewer, csrf: &CsrfToken, notice: Option<&str>, typed: Typed) -> Result<ConflictsPage, Problem> {
    let Typed { form, errors } = typed;
    let organisations: Vec<(String, String)> =
        assessment::assessor_organisations(&state.app, &viewer.actor).await?.into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    let fields = (!organisations.is_empty()).then(|| {
        let current = form.opt("organisation").unwrap_or_else(|| organisations[0].0.clone());
        let pairs: Vec<(&str, &str)> = organisations.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
        (
            Field::new("organisation", "Issuer", current.clone()).select(SelectOption::list(&pairs, &current)).error_from(&errors),
            Field::new("email", "The learner's e-mail address", form.get("email"))
                .kind("email")
                .required()
                .autocomplete("off")
                .hint("The address they use, or would use, on Cairn. They are not told, and you are not told whether they have an account.")
                .error_from(&errors),
        )
    });
    Ok(ConflictsPage { layout: Layout::new(viewer, csrf, notice), fields, errors, csrf: csrf.0.clone() })
}

async fn conflicts_form(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/assess/conflicts"));
    }
    render(&conflicts_page(&state, &viewer, &csrf, None, Typed::default()).await?)
}

async fn declare_conflict(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let organisation = form.get("organisation").trim().parse::<OrganisationId>().map_err(|_| Problem::invalid_field("/organisation", "choose an issuer"));
    let result = match organisation {
        Ok(organisation) => assessment::declare_conflict(&state.app, &viewer.actor, organisation, form.get("email")).await.map_err(Problem::from),
        Err(problem) => Err(problem),
    };
    match result {
        Ok(()) => Ok(see_other_with("/assess/conflicts", "conflict-declared")),
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::place(&problem.errors, |pointer| match pointer {
                "/email" => Some(("email".into(), "The learner's e-mail address".into())),
                "/organisation" => Some(("organisation".into(), "Issuer".into())),
                _ => None,
            });
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &conflicts_page(&state, &viewer, &csrf, None, Typed { form, errors }).await?)
        }
        Err(problem) => Err(problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_form_rows_and_keep_unchosen_levels_empty() {
        let form = FormFields(vec![
            ("criterion_0".into(), "design".into()),
            ("level_0".into(), "3".into()),
            ("comment_0".into(), "Clear".into()),
            ("criterion_1".into(), "testing".into()),
            ("criterion_3".into(), "ignored: rows stop at the first gap".into()),
        ]);
        let scores = score_fields(&form);
        assert_eq!(scores.len(), 2);
        assert_eq!(scores[0], ScoreFields { criterion: "design".into(), level: "3".into(), comment: "Clear".into() });
        assert_eq!(scores[1].level, "");
    }

    #[test]
    fn sizes_and_names_read_well() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(2_400), "2 kB");
        assert_eq!(human_size(3_260_000), "3.3 MB");
        assert_eq!(safe_filename("S-7KQ2-M9XD-evidence-1.pdf"), "S-7KQ2-M9XD-evidence-1.pdf");
        assert_eq!(safe_filename("a\"; b.txt"), "ab.txt");
        assert_eq!(safe_filename("\""), "evidence");
    }

    #[test]
    fn diff_lines_are_marked_in_words_and_signs() {
        let lines = diff_view(&[DiffLine::Same("a".into()), DiffLine::Added("b".into()), DiffLine::Removed("c".into())]);
        assert_eq!(lines.iter().map(|l| (l.sign, l.word)).collect::<Vec<_>>(), [(" ", ""), ("+", "Added"), ("−", "Removed")]);
    }
}

// ---------------------------------------------------------------- moderation

#[derive(Template)]
#[template(path = "moderation.html")]
struct ModerationQueuePage {
    layout: Layout,
    organisation_name: String,
    assessment_href: String,
    insights_href: String,
    rows: Vec<ModerationRow>,
}

struct ModerationRow {
    href: String,
    code: String,
    achievement: String,
    attempt: u32,
    first: &'static str,
    second: &'static str,
    due: Option<String>,
    due_badge: Option<DueBadge>,
}

async fn moderation_queue(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/moderation")));
    }
    let rows = cairn_app::moderation::queue(&state.app, &viewer.actor, id)
        .await?
        .into_iter()
        .map(|line| ModerationRow {
            href: format!("/moderate/{}", line.submission_id),
            code: line.code,
            achievement: line.achievement_name,
            attempt: line.attempt,
            first: outcome_label(line.first_outcome),
            second: line.second_outcome.map(outcome_label).unwrap_or("—"),
            due: line.due_at.map(human_date),
            due_badge: line.due_state.map(DueBadge::new),
        })
        .collect();
    let organisation_name = cairn_app::organisations::get(&state.app, id).await?.profile.name;
    render(&ModerationQueuePage {
        layout: Layout::new(&viewer, &csrf, None),
        organisation_name,
        assessment_href: format!("/issuers/{id}/assessment"),
        insights_href: format!("/issuers/{id}/insights"),
        rows,
    })
}

fn moderation_view_page(layout: Layout, csrf: &CsrfToken, view: cairn_app::moderation::ModerationView, typed: Typed) -> SubmissionPage {
    let id = view.submission.submission_id;
    let mut page = submission_page(layout, csrf, view.submission, typed);
    page.action = format!("/moderate/{id}");
    page.moderating = true;
    page.queue_href = format!("/issuers/{}/moderation", view.organisation);
    page.scorings = vec![feedback_block(&view.first), feedback_block(&view.second)];
    page
}

async fn moderation_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/moderate/{id}")));
    }
    let view = cairn_app::moderation::view(&state.app, &viewer.actor, id).await?;
    Ok(no_store(render(&moderation_view_page(Layout::new(&viewer, &csrf, None), &csrf, view, Typed::default()))?))
}

async fn moderate(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: SubmissionId = path_id(&raw, "submission")?;
    let organisation = match cairn_app::moderation::view(&state.app, &viewer.actor, id).await {
        Ok(view) => view.organisation,
        Err(error) => return Err(error.into()),
    };
    match cairn_app::moderation::moderate(&state.app, &viewer.actor, id, &score_fields(&form), form.get("feedback")).await.map_err(Problem::from) {
        Ok(result) => {
            let notice = if result.outcome == Outcome::Pass { "moderated-pass" } else { "moderated-not-yet" };
            Ok(see_other_with(&format!("/issuers/{organisation}/moderation"), notice))
        }
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let view = cairn_app::moderation::view(&state.app, &viewer.actor, id).await?;
            let errors = scoring_errors(&problem, &view.submission, &form);
            let page = moderation_view_page(Layout::new(&viewer, &csrf, None), &csrf, view, Typed { form, errors });
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(problem) => Err(problem),
    }
}
