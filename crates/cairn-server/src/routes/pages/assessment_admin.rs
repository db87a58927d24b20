//! The issuer's assessment dashboard, for owners and staff (`ManageAssessment`): open submissions
//! with their service-window state, fees, second-stage confirmation, awards with revoke / suspend
//! / reinstate, the service-window settings, assessor pools per achievement, vouchers and the
//! audit-trail export.
//!
//! Submissions are shown by their code: staff run the process and may see who assesses, but the
//! learner's identity is not needed here. `/issuer/assessment` (the link in notifications) sends
//! the viewer to the first organisation they manage.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::awards::MAX_REASON_CHARS;
use cairn_app::issuer::{self, Overview};
use cairn_core::award::{AwardStatus, StatusAction, StatusReason};
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{
    DEFAULT_EVIDENCE_QUOTA_MB, FeeState, IssuerSettingsFields, MAX_EVIDENCE_QUOTA_MB, MAX_PAYMENT_INSTRUCTIONS_CHARS, Status, submission_code,
};

use super::assess::DueBadge;
use super::form::{Field, FieldErrors, SelectOption};
use super::{ConfirmPage, Layout, confirmed, human_date, render, render_status, see_other, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuer/assessment", get(first_organisation))
        .route("/issuers/{id}/assessment", get(dashboard))
        .route("/issuers/{id}/assessment/audit.csv", get(audit_csv))
        .route("/issuers/{id}/assessment/settings", post(save_settings))
        .route("/issuers/{id}/assessment/vouchers", post(create_vouchers))
        .route("/issuers/{id}/assessment/submissions/{submission}/fee", post(settle_fee))
        .route("/issuers/{id}/assessment/submissions/{submission}/confirm", post(confirm_pass))
        .route("/issuers/{id}/assessment/awards/{award}/status", post(set_award_status))
        .route("/issuers/{id}/assessment/pools/{achievement}", post(change_pool))
}

/// Voucher codes made at most at once (the domain's limit).
const MAX_VOUCHERS: u32 = 500;

#[derive(Debug, Clone)]
struct SubmissionRow {
    code: String,
    achievement: String,
    assessor: Option<String>,
    status: &'static str,
    fee: String,
    due: Option<String>,
    due_badge: Option<DueBadge>,
    /// Nearly due or overdue: the row is highlighted (and the badge says why).
    urgent: bool,
    flagged: bool,
    /// Form actions for "paid" / "waive" while a fee is due.
    fee_action: Option<String>,
    /// Form action for confirming a pass (the second stage, or retrying a failed award).
    confirm_action: Option<String>,
}

/// A draft waiting for its fee to be paid or waived before the learner can submit it.
#[derive(Debug, Clone)]
struct FeeRow {
    code: String,
    achievement: String,
    started: String,
    action: String,
}

#[derive(Debug, Clone)]
struct AwardRow {
    achievement: String,
    href: String,
    /// The submission code, or how it was earned without one.
    earned_by: String,
    /// The learner's name, for those who may see who earned it (never assessors).
    earner: Option<String>,
    /// The download of the learner's transcript with this issuer, beside the name.
    transcript_href: Option<String>,
    issued: String,
    status: &'static str,
    status_class: &'static str,
    reason: Option<String>,
    /// The status form: action select, reason input, form action (none once revoked).
    change: Option<(Field, Field, String)>,
}

#[derive(Debug, Clone)]
struct PoolMemberRow {
    name: String,
    open: usize,
    remove_value: String,
}

#[derive(Debug, Clone)]
struct PoolView {
    achievement: String,
    kind: String,
    action: String,
    members: Vec<PoolMemberRow>,
    /// Members who may assess and are not in the pool yet.
    add: Option<Field>,
}

#[derive(Debug, Clone)]
struct VoucherRow {
    code: String,
    achievement: String,
    created: String,
    redeemed: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_assessment.html")]
struct DashboardPage {
    layout: Layout,
    name: String,
    manage_href: String,
    base: String,
    csrf: String,
    submissions: Vec<SubmissionRow>,
    overdue: usize,
    nearly_due: usize,
    unassigned: usize,
    fees_due: Vec<FeeRow>,
    awards: Vec<AwardRow>,
    /// Whether the awards table shows who earned each award.
    shows_earners: bool,
    settings: Vec<Field>,
    confirm_passes: bool,
    /// Whether the issuer's outcome figures are published.
    publish_outcomes: bool,
    settings_errors: FieldErrors,
    pools: Vec<PoolView>,
    voucher_fields: (Field, Field),
    voucher_errors: FieldErrors,
    vouchers: Vec<VoucherRow>,
}

/// Forms on the dashboard as typed, with their errors (after a failed POST).
#[derive(Default)]
struct Forms {
    settings: Option<(FormFields, FieldErrors)>,
    vouchers: Option<(FormFields, FieldErrors)>,
}

fn settings_fields(form: &FormFields, errors: &FieldErrors) -> Vec<Field> {
    vec![
        Field::new("service_days", "Service window", form.get("service_days"))
            .inputmode("numeric")
            .required()
            .class("field-small")
            .hint("Business days from submission to decision, 1 to 60. Weekends and the holidays below are not counted."),
        Field::new("nearly_due_days", "Nearly due", form.get("nearly_due_days"))
            .inputmode("numeric")
            .required()
            .class("field-small")
            .hint("Flag a submission this many business days before it is due, 0 to 10."),
        Field::new("attempt_limit", "Attempts allowed", form.get("attempt_limit"))
            .inputmode("numeric")
            .class("field-small")
            .hint("1 to 20; leave empty for no limit."),
        Field::new("holidays", "Holidays", form.get("holidays")).textarea(5).class("field-wide").hint("One date per line, as YYYY-MM-DD, such as 2026-12-25."),
        Field::new("evidence_quota_mb", "Evidence storage per learner (MB)", form.get("evidence_quota_mb"))
            .inputmode("numeric")
            .class("field-small")
            .hint(format!(
                "The evidence files each learner may keep with you, over all their submissions, 1 to {MAX_EVIDENCE_QUOTA_MB}; leave empty for the default {DEFAULT_EVIDENCE_QUOTA_MB}."
            )),
        Field::new("payment_instructions", "Payment instructions", form.get("payment_instructions"))
            .textarea(4)
            .class("field-wide")
            .maxlength(MAX_PAYMENT_INSTRUCTIONS_CHARS as u32)
            .hint("Shown to every learner who owes you a fee: how to pay (bank details, what to quote), and how long recording a payment takes."),
        Field::new("payment_url", "Payment page", form.get("payment_url"))
            .kind("url")
            .class("field-wide")
            .hint("Optional: the address where learners pay you online, https://…"),
        Field::new("collaborator_reflections", "Collaborators' reflections", form.get("collaborator_reflections"))
            .select(SelectOption::list(
                &[("warn", "Warn the learner when one is missing"), ("require", "Require every one before the submit")],
                form.get("collaborator_reflections"),
            ))
            .hint("What happens when a learner submits while someone they named as a collaborator has not written their reflection yet."),
        Field::new("sampling_percent", "Second scoring (%)", form.get("sampling_percent"))
            .inputmode("numeric")
            .class("field-small")
            .hint("The share of judgements, 0 to 100, that a second assessor scores again, blind, before the learner hears; when the two disagree, an owner or staff member moderates. Leave empty for none."),
    ]
    .into_iter()
    .map(|f| f.error_from(errors))
    .collect()
}

fn settings_field(pointer: &str) -> Option<(String, String)> {
    let (id, label) = match pointer {
        "/service_days" => ("service_days", "Service window"),
        "/nearly_due_days" => ("nearly_due_days", "Nearly due"),
        "/attempt_limit" => ("attempt_limit", "Attempts allowed"),
        "/holidays" => ("holidays", "Holidays"),
        "/evidence_quota_mb" => ("evidence_quota_mb", "Evidence storage per learner (MB)"),
        "/payment_instructions" => ("payment_instructions", "Payment instructions"),
        "/payment_url" => ("payment_url", "Payment page"),
        "/collaborator_reflections" => ("collaborator_reflections", "Collaborators' reflections"),
        "/sampling_percent" => ("sampling_percent", "Second scoring (%)"),
        _ => return None,
    };
    Some((id.to_string(), label.to_string()))
}

fn settings_form(fields: &IssuerSettingsFields) -> FormFields {
    let mut form = vec![
        ("service_days".to_string(), fields.service_days.clone()),
        ("nearly_due_days".to_string(), fields.nearly_due_days.clone()),
        ("attempt_limit".to_string(), fields.attempt_limit.clone()),
        ("holidays".to_string(), fields.holidays.clone()),
        ("evidence_quota_mb".to_string(), fields.evidence_quota_mb.clone()),
        ("payment_instructions".to_string(), fields.payment_instructions.clone()),
        ("payment_url".to_string(), fields.payment_url.clone()),
        ("collaborator_reflections".to_string(), fields.collaborator_reflections.clone()),
        ("sampling_percent".to_string(), fields.sampling_percent.clone()),
    ];
    if fields.confirm_passes {
        form.push(("confirm_passes".into(), "on".into()));
    }
    if fields.publish_outcomes {
        form.push(("publish_outcomes".into(), "on".into()));
    }
    FormFields(form)
}

fn voucher_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/count" => Some(("voucher_count".into(), "How many codes".into())),
        "/achievement" => Some(("voucher_achievement".into(), "For".into())),
        _ => None,
    }
}

fn status_label(status: AwardStatus) -> (&'static str, &'static str) {
    match status {
        AwardStatus::Active => ("Active", "pill-published"),
        AwardStatus::Suspended => ("Suspended", "pill-draft"),
        AwardStatus::Revoked => ("Revoked", "pill-retired"),
    }
}

async fn dashboard_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    notice: Option<&str>,
    forms: Forms,
) -> Result<DashboardPage, Problem> {
    let Overview { organisation, settings, lines, awards, pools: assessed, assessors, vouchers } = issuer::overview(&state.app, &viewer.actor, id).await?;
    // The dashboard's lines are the sent submissions plus drafts waiting for their fee.
    let (drafts, lines): (Vec<_>, Vec<_>) = lines.into_iter().partition(|line| line.submission.status == Status::Draft);
    let unassigned = lines.iter().filter(|l| l.submission.status.is_queued() && l.submission.assessor.is_none()).count();
    let base = format!("/issuers/{id}/assessment");
    let submissions: Vec<SubmissionRow> = lines
        .into_iter()
        .map(|line| {
            let submission = &line.submission;
            SubmissionRow {
                status: submission.status.label(),
                fee: submission.fee.label(),
                due: submission.due_at.map(human_date),
                due_badge: line.due_state.map(DueBadge::new),
                urgent: line.due_state.is_some_and(|s| s != cairn_core::calendar::DueState::OnTrack),
                flagged: line.flagged,
                fee_action: (submission.fee == FeeState::Due).then(|| format!("{base}/submissions/{}/fee", submission.id)),
                confirm_action: (submission.status == Status::Passed).then(|| format!("{base}/submissions/{}/confirm", submission.id)),
                code: line.code,
                achievement: line.achievement_name,
                assessor: line.assessor_name,
            }
        })
        .collect();
    let fees_due: Vec<FeeRow> = drafts
        .into_iter()
        .filter(|line| line.submission.fee == FeeState::Due)
        .map(|line| FeeRow {
            code: line.code,
            achievement: line.achievement_name,
            started: human_date(line.submission.created_at),
            action: format!("{base}/submissions/{}/fee", line.submission.id),
        })
        .collect();
    let count = |label: &str| submissions.iter().filter(|s| s.due_badge.as_ref().is_some_and(|b| b.label == label)).count();
    let (overdue, nearly_due) = (count("Overdue"), count("Nearly due"));

    let shows_earners = awards.iter().any(|(_, _, earner)| earner.is_some());
    let awards = awards
        .into_iter()
        .map(|(award, achievement, earner)| {
            let (status, status_class) = status_label(award.status);
            let actions: Vec<(&str, &str)> = [
                ("suspend", "Suspend", StatusAction::Suspend),
                ("reinstate", "Reinstate", StatusAction::Reinstate),
                ("revoke", "Revoke", StatusAction::Revoke),
            ]
            .into_iter()
            .filter(|(_, _, action)| award.status.apply(*action).is_ok())
            .map(|(value, label, _)| (value, label))
            .collect();
            let change = (!actions.is_empty()).then(|| {
                let first = actions[0].0;
                (
                    Field::new(format!("award-{}-action", award.id), format!("Change the status of {achievement}"), first)
                        .name("action")
                        .select(SelectOption::list(&actions, first))
                        .hidden_label(),
                    Field::new(format!("award-{}-reason", award.id), "Reason (optional)", "").name("reason").maxlength(MAX_REASON_CHARS as u32).hidden_label(),
                    format!("{base}/awards/{}/status", award.id),
                )
            });
            AwardRow {
                href: format!("/awards/{}", award.id),
                earned_by: match award.submission {
                    Some(submission) => submission_code(submission),
                    None => "Stacked from its levels".into(),
                },
                issued: human_date(award.issued_at),
                transcript_href: earner.as_ref().map(|_| format!("/issuers/{}/learners/{}/transcript.json", award.organisation, award.learner)),
                earner,
                status,
                status_class,
                reason: award.status_reason.clone(),
                change,
                achievement,
            }
        })
        .collect();

    let (settings_values, settings_errors) = forms.settings.unwrap_or_else(|| (settings_form(&settings.to_fields()), FieldErrors::default()));
    let confirm_passes = !settings_values.get("confirm_passes").is_empty();
    let publish_outcomes = !settings_values.get("publish_outcomes").is_empty();

    let mut pools = Vec::new();
    for (achievement, pool) in &assessed {
        let candidates: Vec<(String, String)> =
            assessors.iter().filter(|m| !pool.iter().any(|p| p.user == m.user)).map(|m| (m.user.to_string(), m.name.clone())).collect();
        let add = (!candidates.is_empty()).then(|| {
            // Nobody is chosen until the viewer chooses: adding the first member listed (often
            // the owner) by a stray click helped nobody.
            let mut options = vec![SelectOption { value: String::new(), label: "Choose an assessor…".into(), selected: true }];
            options.extend(candidates.iter().map(|(value, label)| SelectOption { value: value.clone(), label: label.clone(), selected: false }));
            Field::new(format!("pool-{}-user", achievement.id), format!("Assessor to add to the pool of {}", achievement.content.name), "")
                .name("user")
                .select(options)
                .hidden_label()
        });
        pools.push(PoolView {
            achievement: achievement.content.name.clone(),
            kind: achievement.kind.label(),
            action: format!("{base}/pools/{}", achievement.id),
            members: pool.iter().map(|m| PoolMemberRow { name: m.name.clone(), open: m.open, remove_value: m.user.to_string() }).collect(),
            add,
        });
    }

    let (voucher_values, voucher_errors) = forms.vouchers.unwrap_or_default();
    let chosen = voucher_values.get("achievement").to_string();
    let mut voucher_options = vec![SelectOption { value: String::new(), label: "Any achievement of this issuer".into(), selected: chosen.is_empty() }];
    let achievements: Vec<_> = assessed.iter().map(|(achievement, _)| achievement).collect();
    voucher_options.extend(achievements.iter().map(|a| SelectOption {
        value: a.id.to_string(),
        label: a.content.name.clone(),
        selected: chosen == a.id.to_string(),
    }));
    let voucher_fields = (
        Field::new("voucher_count", "How many codes", voucher_values.opt("count").unwrap_or_else(|| "10".into()))
            .name("count")
            .inputmode("numeric")
            .hint(format!("1 to {MAX_VOUCHERS}. Each code pays the fee of one submission."))
            .error_from(&voucher_errors),
        Field::new("voucher_achievement", "For", chosen).name("achievement").select(voucher_options).error_from(&voucher_errors),
    );
    let achievement_name = |achievement: Option<AchievementId>| match achievement {
        Some(a) => achievements.iter().find(|x| x.id == a).map(|x| x.content.name.clone()).unwrap_or_else(|| "Another achievement".into()),
        None => "Any achievement".into(),
    };
    let vouchers = vouchers
        .into_iter()
        .rev()
        .map(|v| VoucherRow {
            achievement: achievement_name(v.achievement),
            created: human_date(v.created_at),
            redeemed: v.redeemed_at.map(|at| match v.redeemed_by {
                Some(submission) => format!("{} by {}", human_date(at), submission_code(submission)),
                None => human_date(at),
            }),
            code: v.code,
        })
        .collect();

    Ok(DashboardPage {
        layout: Layout::new(viewer, csrf, notice),
        name: organisation.profile.name.clone(),
        manage_href: format!("/issuers/{id}/manage"),
        csrf: csrf.0.clone(),
        submissions,
        overdue,
        nearly_due,
        unassigned,
        fees_due,
        awards,
        shows_earners,
        settings: settings_fields(&settings_values, &settings_errors),
        confirm_passes,
        publish_outcomes,
        settings_errors,
        pools,
        voucher_fields,
        voucher_errors,
        vouchers,
        base,
    })
}

/// `/issuer/assessment`: the dashboard of the first organisation the viewer runs assessment for.
async fn first_organisation(viewer: Viewer) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/issuer/assessment"));
    }
    let org = issuer::first_managed(&viewer.actor)?;
    Ok(see_other(&format!("/issuers/{org}/assessment")))
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/assessment")));
    }
    render(&dashboard_page(&state, &viewer, &csrf, id, None, Forms::default()).await?)
}

async fn save_settings(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let fields = IssuerSettingsFields {
        service_days: form.get("service_days").to_string(),
        nearly_due_days: form.get("nearly_due_days").to_string(),
        attempt_limit: form.get("attempt_limit").to_string(),
        confirm_passes: !form.get("confirm_passes").is_empty(),
        publish_outcomes: !form.get("publish_outcomes").is_empty(),
        holidays: form.get("holidays").to_string(),
        evidence_quota_mb: form.get("evidence_quota_mb").to_string(),
        payment_instructions: form.get("payment_instructions").to_string(),
        payment_url: form.get("payment_url").to_string(),
        collaborator_reflections: form.get("collaborator_reflections").to_string(),
        sampling_percent: form.get("sampling_percent").to_string(),
    };
    match issuer::set_settings(&state.app, &viewer.actor, id, &fields).await {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/assessment"), "settings-saved")),
        Err(AppError::Invalid(invalid)) => {
            let errors = FieldErrors::place(&invalid.errors, settings_field);
            let forms = Forms { settings: Some((form, errors)), vouchers: None };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &dashboard_page(&state, &viewer, &csrf, id, None, forms).await?)
        }
        Err(error) => Err(error.into()),
    }
}

async fn create_vouchers(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let count =
        form.get("count").trim().parse::<u32>().map_err(|_| Problem::invalid_field("/count", format!("must be a whole number from 1 to {MAX_VOUCHERS}")));
    let achievement = match form.opt("achievement") {
        None => Ok(None),
        Some(raw) => raw.parse::<AchievementId>().map(Some).map_err(|_| Problem::invalid_field("/achievement", "choose an achievement of this issuer")),
    };
    let result = match (count, achievement) {
        (Ok(count), Ok(achievement)) => issuer::create_vouchers(&state.app, &viewer.actor, id, achievement, count).await.map(|_| ()).map_err(Problem::from),
        (Err(problem), _) | (_, Err(problem)) => {
            // Bad input still needs permission before anything is said about it.
            issuer::may_run_assessment(&viewer.actor, id)?;
            Err(problem)
        }
    };
    match result {
        Ok(()) => Ok(see_other_with(&format!("/issuers/{id}/assessment"), "vouchers-created")),
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::place(&problem.errors, voucher_field);
            let forms = Forms { settings: None, vouchers: Some((form, errors)) };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &dashboard_page(&state, &viewer, &csrf, id, None, forms).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn settle_fee(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_submission)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    // Permission first, so that nothing is said about someone else's ids or input.
    issuer::may_run_assessment(&viewer.actor, id)?;
    let submission: SubmissionId = path_id(&raw_submission, "submission")?;
    let waive = match form.get("action") {
        "paid" => false,
        "waive" => true,
        _ => return Err(Problem::invalid_field("/action", "choose \"paid\" or \"waive\"")),
    };
    issuer::settle_fee_of(&state.app, &viewer.actor, id, submission, waive).await?;
    Ok(see_other_with(&format!("/issuers/{id}/assessment"), if waive { "fee-waived" } else { "fee-paid" }))
}

async fn confirm_pass(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_submission)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    issuer::may_run_assessment(&viewer.actor, id)?;
    let submission: SubmissionId = path_id(&raw_submission, "submission")?;
    issuer::confirm_pass_of(&state.app, &viewer.actor, id, submission).await?;
    Ok(see_other_with(&format!("/issuers/{id}/assessment"), "pass-confirmed"))
}

/// What a revocation or suspension sets off, for the page that asks for confirmation.
fn status_consequences(action: StatusAction, learner: &str) -> (String, Vec<String>) {
    match action {
        StatusAction::Revoke => (
            "Revoking is permanent: the award can never be reinstated.".into(),
            vec![
                "Revoking tells every verifier at once: the issuer's revocation list changes, so the credential fails verification wherever it is checked, copies already shared included.".into(),
                "The award page and the Open Badges 2.0 assertion say the award is revoked.".into(),
                format!("{learner} is notified, in the app and by e-mail, with the reason."),
                "The reason stays between your staff and the learner unless you publish it below.".into(),
            ],
        ),
        _ => (
            "Suspending is temporary: you can reinstate the award later.".into(),
            vec![
                "Suspending tells every verifier at once: the issuer's suspension list changes, so the credential does not verify until it is reinstated.".into(),
                "The award page and the Open Badges 2.0 assertion say the award is suspended.".into(),
                format!("{learner} is notified, in the app and by e-mail, with the reason."),
                "The reason stays between your staff and the learner unless you publish it below.".into(),
            ],
        ),
    }
}

async fn set_award_status(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, raw_award)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    issuer::may_run_assessment(&viewer.actor, id)?;
    let award: AwardId = path_id(&raw_award, "award")?;
    let Some(action) = StatusAction::parse(form.get("action")) else {
        return Err(Problem::invalid_field("/action", "choose suspend, reinstate or revoke"));
    };
    if action != StatusAction::Reinstate && !confirmed(&form) {
        let (achievement, earner) = issuer::award_of(&state.app, &viewer.actor, id, award).await?;
        let learner = earner.unwrap_or_else(|| "The learner".into());
        let (lead, consequences) = status_consequences(action, &learner);
        let verb = if action == StatusAction::Revoke { "Revoke" } else { "Suspend" };
        let reason = Field::new("reason", "Reason", form.get("reason"))
            .textarea(3)
            .maxlength(MAX_REASON_CHARS as u32)
            .hint("Told to the learner and shown to your staff; optional.");
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: format!("{verb} {achievement}?"),
            lead,
            consequences,
            action: format!("/issuers/{id}/assessment/awards/{award}/status"),
            hidden: vec![("action".into(), form.get("action").to_string())],
            fields: vec![reason],
            errors: FieldErrors::default(),
            publish_reason: Some((
                "Publish the reason".into(),
                "Shown to anyone who opens the award page or its Open Badges 2.0 assertion. Leave it unticked to keep the reason private.".into(),
            )),
            button: format!("{verb} the award"),
            cancel: format!("/issuers/{id}/assessment#awards"),
        });
    }
    let reason = form.opt("reason").map(|text| StatusReason { text, public: !form.get("publish_reason").is_empty() });
    issuer::set_award_status_of(&state.app, &viewer.actor, id, award, action, reason).await?;
    let notice = match action {
        StatusAction::Revoke => "award-revoked",
        StatusAction::Suspend => "award-suspended",
        StatusAction::Reinstate => "award-reinstated",
    };
    Ok(see_other_with(&format!("/issuers/{id}/assessment"), notice))
}

async fn change_pool(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_achievement)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    issuer::may_run_assessment(&viewer.actor, id)?;
    let achievement: AchievementId = path_id(&raw_achievement, "achievement")?;
    let user: UserId = form.get("user").trim().parse().map_err(|_| Problem::invalid_field("/user", "choose the member to add to the pool"))?;
    let remove = form.get("action") == "remove";
    issuer::change_pool(&state.app, &viewer.actor, id, achievement, user, remove).await?;
    let notice = if remove { "pool-removed" } else { "pool-added" };
    Ok(see_other_with(&format!("/issuers/{id}/assessment"), notice))
}

async fn audit_csv(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let csv = issuer::audit_csv(&state.app, &viewer.actor, id).await?;
    let date = cairn_core::calendar::format_date(state.app.now().date());
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"cairn-audit-{date}.csv\"");
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
