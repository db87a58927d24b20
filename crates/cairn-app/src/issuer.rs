//! Running assessment as an issuer: the settings (service days, attempts, confirming passes,
//! holidays), assessor pools, fees and vouchers, confirming passes, revoking and suspending
//! awards, the dashboard of open submissions with their service-window state, and the audit
//! trail as CSV. Everything here needs `ManageAssessment` in the organisation.

use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::authz::{Action, Actor, OrgAction, role_permits};
use cairn_core::award::{StatusAction, StatusReason};
use cairn_core::calendar::DueState;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_core::organisation::Organisation;
use cairn_core::submission::{FeeState, IssuerSettings, IssuerSettingsFields, Status, Submission, TransitionError, submission_code};
use cairn_store::{Award, Effect, Member, NewEffect, PoolMember, Voucher};

use crate::assignment::assign_waiting;
use crate::crash::{self, CrashPoint};
use crate::effects;
use crate::fees::FeeContext;
use crate::notify::notice;
use crate::{App, AppError, timestamp};

/// Whether the actor runs assessment for the organisation.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub fn may_run_assessment(actor: &Actor, organisation: OrganisationId) -> Result<(), AppError> {
    Ok(actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?)
}

/// The first organisation the actor runs assessment for.
///
/// # Errors
/// `Forbidden` when there is none.
pub fn first_managed(actor: &Actor) -> Result<OrganisationId, AppError> {
    actor
        .memberships
        .iter()
        .map(|(org, _)| *org)
        .find(|org| actor.can(Action::Org(*org, OrgAction::ManageAssessment)))
        .ok_or_else(|| AppError::Forbidden("only owners and staff of an issuer run its assessment".into()))
}

/// An issuer's assessment settings.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub async fn settings(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<IssuerSettings, AppError> {
    may_run_assessment(actor, organisation)?;
    Ok(app.store.issuer_settings(organisation).await?)
}

/// Replaces an issuer's assessment settings.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `Invalid`.
pub async fn set_settings(app: &App, actor: &Actor, organisation: OrganisationId, fields: &IssuerSettingsFields) -> Result<IssuerSettings, AppError> {
    may_run_assessment(actor, organisation)?;
    let settings = IssuerSettings::parse(fields)?;
    app.store.set_issuer_settings(organisation, &settings, app.now()).await?;
    Ok(settings)
}

/// An achievement's assessor pool.
///
/// # Errors
/// `NotFound`, `Unauthenticated`/`Forbidden`.
pub async fn pool(app: &App, actor: &Actor, achievement: AchievementId) -> Result<Vec<PoolMember>, AppError> {
    let achievement = app.store.achievement(achievement).await?;
    may_run_assessment(actor, achievement.organisation)?;
    Ok(app.store.pool(achievement.id).await?)
}

/// Adds a member who may assess to an achievement's pool, then assigns any waiting submissions.
///
/// # Errors
/// `NotFound`, `Unauthenticated`/`Forbidden`, `Invalid` when not a member who may assess.
pub async fn add_to_pool(app: &App, actor: &Actor, achievement: AchievementId, user: UserId) -> Result<(), AppError> {
    let achievement = app.store.achievement(achievement).await?;
    may_run_assessment(actor, achievement.organisation)?;
    let members = app.store.members(achievement.organisation).await?;
    if !members.iter().any(|m| m.user == user && role_permits(m.role, OrgAction::Assess)) {
        return Err(AppError::invalid_field("/user", "only members of this issuer who may assess can join a pool"));
    }
    app.store.add_to_pool(achievement.id, user, app.now()).await?;
    assign_waiting(app, achievement.organisation).await
}

/// Removes someone from an achievement's pool (their open assignments stay with them).
///
/// # Errors
/// `NotFound`, `Unauthenticated`/`Forbidden`.
pub async fn remove_from_pool(app: &App, actor: &Actor, achievement: AchievementId, user: UserId) -> Result<(), AppError> {
    let achievement = app.store.achievement(achievement).await?;
    may_run_assessment(actor, achievement.organisation)?;
    Ok(app.store.remove_from_pool(achievement.id, user).await?)
}

/// Adds someone to (or, with `remove`, takes them out of) the pool of one of the
/// organisation's achievements.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound` for another issuer's achievement, then as
/// [`add_to_pool`] and [`remove_from_pool`].
pub async fn change_pool(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    achievement: AchievementId,
    user: UserId,
    remove: bool,
) -> Result<(), AppError> {
    may_run_assessment(actor, organisation)?;
    if app.store.achievement(achievement).await?.organisation != organisation {
        return Err(AppError::NotFound("no achievement of this issuer has this id".into()));
    }
    if remove { remove_from_pool(app, actor, achievement, user).await } else { add_to_pool(app, actor, achievement, user).await }
}

/// Checks that a submission is the organisation's (another one's is not found here).
async fn of_organisation(app: &App, actor: &Actor, organisation: OrganisationId, submission: SubmissionId) -> Result<(), AppError> {
    may_run_assessment(actor, organisation)?;
    if app.store.submission_organisation(submission).await? != organisation {
        return Err(AppError::NotFound("no submission of this issuer has this id".into()));
    }
    Ok(())
}

/// Records a fee as paid or waived, and tells the learner. A micro-credential's fee paid once
/// (`cairn_core::fees`) is settled with it on the learner's submissions for its other levels.
///
/// # Errors
/// `NotFound`, `Unauthenticated`/`Forbidden`, `Conflict` when no fee is due.
pub async fn settle_fee(app: &App, actor: &Actor, id: SubmissionId, waive: bool) -> Result<Submission, AppError> {
    let submission = app.store.submission(id).await?;
    let organisation = app.store.submission_organisation(id).await?;
    may_run_assessment(actor, organisation)?;
    if submission.fee != FeeState::Due {
        return Err(AppError::conflict(format!("no fee is due on this submission ({})", submission.fee.label().to_lowercase())));
    }
    let fee = if waive { FeeState::Waived } else { FeeState::Paid };
    let staff = actor.user.ok_or(AppError::Unauthenticated)?;
    let achievement = app.store.achievement(submission.achievement).await?;
    let word = if waive { "waived" } else { "recorded as paid" };
    let context = FeeContext::load(app, &achievement).await?;
    let name = match &context.parent {
        Some(parent) if !context.covers.is_empty() => format!("\"{}\" (all three levels)", parent.content.name),
        _ => format!("\"{}\"", achievement.content.name),
    };
    let body = format!("The fee for {name} was {word}. You can submit your evidence now.");
    let effects = [notice(submission.learner, NotificationKind::Fee, format!("Fee {word}"), body, format!("/submissions/{id}"))];
    app.store.set_fee_state_covering(id, &fee, staff, &context.covers, &effects, app.now()).await?;
    effects::settle(app, &effects).await;
    Ok(app.store.submission(id).await?)
}

/// [`settle_fee`] for a submission of `organisation`.
///
/// # Errors
/// `NotFound` also for another issuer's submission.
pub async fn settle_fee_of(app: &App, actor: &Actor, organisation: OrganisationId, id: SubmissionId, waive: bool) -> Result<Submission, AppError> {
    of_organisation(app, actor, organisation, id).await?;
    settle_fee(app, actor, id, waive).await
}

/// Staff confirm a pass (the second stage) and the award is issued: an `AwardPassed` effect
/// written with the confirmation, run before this returns.
///
/// # Errors
/// `NotFound`, `Unauthenticated`/`Forbidden`, `Conflict` when not passed or already confirmed;
/// `Unavailable` when the pass is confirmed but its award could not be issued yet (the job
/// runner retries it).
pub async fn confirm_pass(app: &App, actor: &Actor, id: SubmissionId) -> Result<Award, AppError> {
    let submission = app.store.submission(id).await?;
    let organisation = app.store.submission_organisation(id).await?;
    may_run_assessment(actor, organisation)?;
    if submission.status != Status::Passed {
        return Err(TransitionError { from: submission.status, action: "confirmed" }.into());
    }
    let staff = actor.user.ok_or(AppError::Unauthenticated)?;
    let effects = [NewEffect::from(Effect::AwardPassed { submission: id })];
    app.store.confirm_pass(id, staff, &effects, app.now()).await?;
    crash::point(CrashPoint::ConfirmationCommitted);
    effects::settle(app, &effects).await;
    app.store
        .award_for_submission(id)
        .await?
        .ok_or_else(|| AppError::Unavailable("the pass is confirmed; its award could not be issued yet and will be retried".into()))
}

/// [`confirm_pass`] for a submission of `organisation`.
///
/// # Errors
/// `NotFound` also for another issuer's submission.
pub async fn confirm_pass_of(app: &App, actor: &Actor, organisation: OrganisationId, id: SubmissionId) -> Result<Award, AppError> {
    of_organisation(app, actor, organisation, id).await?;
    confirm_pass(app, actor, id).await
}

/// One award of `organisation` as its staff name it: the achievement's name and, for those who
/// may see who earned it, the learner's name (for the page that asks before a revocation).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound` also for another issuer's award.
pub async fn award_of(app: &App, actor: &Actor, organisation: OrganisationId, award: AwardId) -> Result<(String, Option<String>), AppError> {
    may_run_assessment(actor, organisation)?;
    let award = app.store.award(award).await?;
    if award.organisation != organisation {
        return Err(AppError::NotFound("no award of this issuer has this id".into()));
    }
    let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?.content.name;
    let earner = if actor.can(Action::Org(organisation, OrgAction::ViewEarners)) { Some(app.store.user(award.learner).await?.name) } else { None };
    Ok((achievement, earner))
}

/// Revokes, suspends or reinstates an award of `organisation` (see `awards::set_status`).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound` also for another issuer's award, `Conflict`,
/// `Invalid`.
pub async fn set_award_status_of(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    award: AwardId,
    action: StatusAction,
    reason: Option<StatusReason>,
) -> Result<Award, AppError> {
    may_run_assessment(actor, organisation)?;
    if app.store.award(award).await?.organisation != organisation {
        return Err(AppError::NotFound("no award of this issuer has this id".into()));
    }
    crate::awards::set_status(app, actor, award, action, reason).await
}

/// Creates `count` random voucher codes for an issuer (optionally for one achievement).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `Invalid` for a count out of range or another issuer's
/// achievement.
pub async fn create_vouchers(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    achievement: Option<AchievementId>,
    count: u32,
) -> Result<Vec<String>, AppError> {
    may_run_assessment(actor, organisation)?;
    if !(1..=500).contains(&count) {
        return Err(AppError::invalid_field("/count", "must be from 1 to 500"));
    }
    if let Some(achievement) = achievement
        && app.store.achievement(achievement).await.ok().map(|a| a.organisation) != Some(organisation)
    {
        return Err(AppError::invalid_field("/achievement", "not an achievement of this issuer"));
    }
    let codes: Vec<String> = (0..count).map(|_| random_code()).collect();
    let staff = actor.user.ok_or(AppError::Unauthenticated)?;
    app.store.create_vouchers(organisation, achievement, &codes, staff, app.now()).await?;
    Ok(codes)
}

/// An issuer's voucher codes, oldest first.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub async fn vouchers(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<Voucher>, AppError> {
    may_run_assessment(actor, organisation)?;
    Ok(app.store.vouchers(organisation).await?)
}

fn random_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let mut code = String::with_capacity(14);
    for group in 0..3 {
        if group > 0 {
            code.push('-');
        }
        for _ in 0..4 {
            code.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
        }
    }
    code
}

/// One line of the issuer's assessment dashboard.
#[derive(Debug, Clone)]
pub struct DashboardLine {
    pub submission: Submission,
    pub code: String,
    pub achievement_name: String,
    pub assessor_name: Option<String>,
    pub due_state: Option<DueState>,
    pub flagged: bool,
}

/// The issuer's open submissions with their service-window state, soonest due first.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub async fn issuer_dashboard(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<DashboardLine>, AppError> {
    may_run_assessment(actor, organisation)?;
    let settings = app.store.issuer_settings(organisation).await?;
    let calendar = settings.calendar();
    let now = app.now();
    let mut lines = Vec::new();
    for item in app.store.issuer_queue(organisation).await? {
        let due_state = match (item.submission.status.clock_running(), item.submission.due_at) {
            (true, Some(due)) => Some(calendar.due_state(now, due, settings.nearly_due_days)),
            _ => None,
        };
        let flagged = !app.store.duplicate_flags(item.submission.id).await?.is_empty();
        lines.push(DashboardLine {
            code: item.submission.code(),
            submission: item.submission,
            achievement_name: item.achievement_name,
            assessor_name: item.assessor_name,
            due_state,
            flagged,
        });
    }
    Ok(lines)
}

/// Everything the issuer's assessment page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub organisation: Organisation,
    pub settings: IssuerSettings,
    /// Sent submissions and drafts waiting for their fee (see [`issuer_dashboard`]).
    pub lines: Vec<DashboardLine>,
    /// Awards made, with the achievement's name and, for those who may see who earned them
    /// (`OrgAction::ViewEarners`: owners and staff, never assessors), the learner's name.
    pub awards: Vec<(Award, String, Option<String>)>,
    /// The achievements that are assessed (not micro-credentials, not retired), each with its
    /// assessor pool.
    pub pools: Vec<(Achievement, Vec<PoolMember>)>,
    /// Members who may assess.
    pub assessors: Vec<Member>,
    pub vouchers: Vec<Voucher>,
}

/// The issuer's assessment overview.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`.
pub async fn overview(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Overview, AppError> {
    let lines = issuer_dashboard(app, actor, organisation).await?;
    let settings = app.store.issuer_settings(organisation).await?;
    let organisation_row = app.store.organisation(organisation).await?;
    let earners = actor.can(Action::Org(organisation, OrgAction::ViewEarners));
    let awards = app
        .store
        .awards_of_organisation(organisation)
        .await?
        .into_iter()
        .map(|(award, learner, achievement)| (award, achievement, earners.then_some(learner)))
        .collect();
    let assessed: Vec<Achievement> = app
        .store
        .organisation_achievements(organisation)
        .await?
        .into_iter()
        .filter(|a| !matches!(a.kind, Kind::MicroCredential | Kind::Certificate) && a.state != State::Retired)
        .collect();
    let assessors = app.store.members(organisation).await?.into_iter().filter(|m| role_permits(m.role, OrgAction::Assess)).collect();
    let mut pools = Vec::with_capacity(assessed.len());
    for achievement in assessed {
        let pool = app.store.pool(achievement.id).await?;
        pools.push((achievement, pool));
    }
    let vouchers = app.store.vouchers(organisation).await?;
    Ok(Overview { organisation: organisation_row, settings, lines, awards, pools, assessors, vouchers })
}

/// The issuer's audit trail as CSV: submission code, achievement, from, to, actor, note, time.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub async fn audit_csv(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<String, AppError> {
    may_run_assessment(actor, organisation)?;
    let mut out = String::from("submission,achievement,from,to,actor,note,at\n");
    for line in app.store.organisation_events(organisation).await? {
        let event = &line.event;
        let fields = [
            submission_code(line.submission),
            line.achievement_name.clone(),
            event.from.map(|s| s.as_str().to_string()).unwrap_or_default(),
            event.to.as_str().to_string(),
            event.actor_name.clone().unwrap_or_else(|| "system".into()),
            event.note.clone(),
            timestamp(event.at),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}

pub(crate) fn csv_field(value: &str) -> String {
    // A leading formula character is neutralised so spreadsheets do not run it.
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn voucher_codes_are_three_groups_of_unambiguous_characters() {
        let code = random_code();
        assert_eq!(code.len(), 14);
        assert!(code.split('-').all(|group| group.len() == 4 && group.bytes().all(|b| b"ABCDEFGHJKMNPQRSTVWXYZ23456789".contains(&b))), "{code}");
    }
}
