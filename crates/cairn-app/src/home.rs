//! What Cairn knows about the viewer, gathered for the pages that greet them: the learner's home
//! (`learner_home`: submissions in progress, feedback waiting, badges, progress through
//! micro-credentials and certificates, badges expiring soon) and the achievement page (`achievement_page`: the
//! viewer's award, submission and progress, how the work is assessed before anyone applies, and
//! the issuer's outcome figures where it publishes them).
//! The rules (what is in progress, expiring soon, held) are `cairn_core::progress`'s.

use std::collections::HashMap;

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::authz::{Action, Actor, Role};
use cairn_core::award::{AwardStatus, expired};
use cairn_core::calendar::DueState;
use cairn_core::composition::Rule;
use cairn_core::evidence::{EvidenceType, MAX_EVIDENCE_BYTES};
use cairn_core::fees;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::organisation::Organisation;
use cairn_core::progress::{LevelProgress, StackProgress, Stage, expiring_soon};
use cairn_core::submission::{FeeState, IssuerSettings, Status};
use cairn_store::{Award, LearnerAward, LearnerSubmission};
use time::OffsetDateTime;

use crate::achievements::{self, Overview};
use crate::fees::FeeContext;
use crate::stacks::{self, Requirements};
use crate::{App, AppError, accounts};

/// A submission on the learner's home.
#[derive(Debug, Clone)]
pub struct HomeSubmission {
    pub id: SubmissionId,
    pub achievement: AchievementId,
    pub achievement_name: String,
    pub organisation_name: String,
    pub status: Status,
    pub attempt: u32,
    /// When the decision is due, while the submission is with the assessor.
    pub due: Option<(OffsetDateTime, DueState)>,
    /// Attempts left after this one (`None`: unlimited), for feedback waiting.
    pub attempts_left: Option<u32>,
    /// The fee still owed, in the words every page uses (`cairn_core::fees::fee_label`).
    pub fee_due: Option<String>,
    pub updated_at: OffsetDateTime,
}

/// An award on the learner's home.
#[derive(Debug, Clone)]
pub struct HomeAward {
    pub id: AwardId,
    pub achievement: AchievementId,
    pub achievement_name: String,
    pub organisation_name: String,
    pub status: AwardStatus,
    pub issued_at: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub expired: bool,
    pub expiring_soon: bool,
}

/// One level of a micro-credential with the viewer's progress on it.
#[derive(Debug, Clone)]
pub struct LevelStanding {
    pub level: Achievement,
    pub progress: LevelProgress,
    /// The viewer's award for it, when held.
    pub award: Option<AwardId>,
    /// The viewer's open submission for it, when in progress.
    pub submission: Option<(SubmissionId, Status)>,
}

/// A viewer's progress through one micro-credential's levels or one certificate's components.
#[derive(Debug, Clone)]
pub struct StackStanding {
    /// The micro-credential or certificate.
    pub micro_credential: Achievement,
    /// Its levels or components, each with the viewer's progress.
    pub levels: Vec<LevelStanding>,
    pub progress: StackProgress,
    /// The viewer's award for the micro-credential or certificate itself.
    pub award: Option<AwardId>,
    /// What earns it (a micro-credential: all of its levels).
    pub rule: Rule,
    /// How far the viewer is, in words ("1 of 3 held", "6 of 8 credit hours held").
    pub summary: String,
}

/// Everything the learner's home shows.
#[derive(Debug, Clone)]
pub struct LearnerHome {
    /// Drafts and submissions with the issuer, most recently changed first.
    pub in_progress: Vec<HomeSubmission>,
    /// "Not yet" decisions to act on.
    pub feedback_waiting: Vec<HomeSubmission>,
    /// Every award, newest first.
    pub awards: Vec<HomeAward>,
    /// Active awards that expire within `cairn_core::progress::EXPIRING_SOON_DAYS`, soonest first.
    pub expiring_soon: Vec<HomeAward>,
    /// Progress through each micro-credential and certificate started.
    pub micro_credentials: Vec<StackStanding>,
    /// The issuer organisations the learner belongs to, with their role.
    pub memberships: Vec<(Organisation, Role)>,
    /// Whether the learner has ever created an API token (revoked and expired ones count).
    pub has_api_tokens: bool,
}

/// The viewer's own awards and submissions, loaded once.
struct Mine {
    awards: Vec<Award>,
    held: Vec<AchievementId>,
    submissions: Vec<LearnerSubmission>,
}

impl Mine {
    async fn load(app: &App, user: UserId) -> Result<Mine, AppError> {
        Ok(Mine { awards: app.store.awards_of(user).await?, held: stacks::held(app, user).await?, submissions: app.store.submissions_of(user).await? })
    }

    fn held(&self) -> Vec<AchievementId> {
        self.held.clone()
    }

    /// Achievements with an open submission (being prepared, with the issuer or feedback waiting).
    fn open(&self) -> Vec<AchievementId> {
        self.submissions.iter().filter(|s| Stage::of(s.submission.status).open()).map(|s| s.submission.achievement).collect()
    }

    fn award_for(&self, achievement: AchievementId) -> Option<&Award> {
        self.awards.iter().find(|a| a.achievement == achievement)
    }

    /// The newest open submission for `achievement` (submissions are listed newest first).
    fn open_submission_for(&self, achievement: AchievementId) -> Option<&LearnerSubmission> {
        self.submissions.iter().find(|s| s.submission.achievement == achievement && Stage::of(s.submission.status).open())
    }

    fn stack(&self, micro_credential: Achievement, requirements: Requirements) -> StackStanding {
        let rule = requirements.rule;
        let summary = rule.progress(&requirements.rule_components(), &self.held());
        let levels = requirements.components;
        let ids: Vec<AchievementId> = levels.iter().map(|l| l.id).collect();
        let progress = StackProgress::new(&ids, &self.held(), &self.open());
        let levels = levels
            .into_iter()
            .zip(&progress.levels)
            .map(|(level, (_, p))| LevelStanding {
                award: self.award_for(level.id).filter(|_| *p == LevelProgress::Held).map(|a| a.id),
                submission: self.open_submission_for(level.id).map(|s| (s.submission.id, s.submission.status)),
                progress: *p,
                level,
            })
            .collect();
        let award = self.award_for(micro_credential.id).map(|a| a.id);
        StackStanding { micro_credential, levels, progress, award, rule, summary }
    }
}

/// Issuer settings, each organisation's read once.
struct SettingsCache(HashMap<OrganisationId, IssuerSettings>);

impl SettingsCache {
    async fn get(&mut self, app: &App, organisation: OrganisationId) -> Result<&IssuerSettings, AppError> {
        if let std::collections::hash_map::Entry::Vacant(entry) = self.0.entry(organisation) {
            entry.insert(app.store.issuer_settings(organisation).await?);
        }
        Ok(&self.0[&organisation])
    }
}

fn home_award(line: LearnerAward, now: OffsetDateTime) -> HomeAward {
    let award = line.award;
    HomeAward {
        id: award.id,
        achievement: award.achievement,
        achievement_name: line.achievement_name,
        organisation_name: line.organisation_name,
        status: award.status,
        issued_at: award.issued_at,
        valid_until: award.valid_until,
        expired: expired(award.valid_until, now),
        expiring_soon: expiring_soon(award.status, award.valid_until, now),
    }
}

/// The signed-in learner's home.
///
/// # Errors
/// `Unauthenticated` for visitors; store failures.
pub async fn learner_home(app: &App, actor: &Actor) -> Result<LearnerHome, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let now = app.now();
    let mine = Mine::load(app, user).await?;

    let mut settings = SettingsCache(HashMap::new());
    let (mut in_progress, mut feedback_waiting) = (Vec::new(), Vec::new());
    for line in &mine.submissions {
        let submission = &line.submission;
        let stage = Stage::of(submission.status);
        if !stage.open() {
            continue;
        }
        let settings = settings.get(app, line.organisation).await?;
        let due = match (submission.status.clock_running(), submission.due_at) {
            (true, Some(due)) => Some((due, settings.calendar().due_state(now, due, settings.nearly_due_days))),
            _ => None,
        };
        let fee_due = match submission.fee {
            FeeState::Due => {
                let achievement = app.store.achievement(submission.achievement).await?;
                Some(FeeContext::load(app, &achievement).await?.label)
            }
            _ => None,
        };
        let home = HomeSubmission {
            id: submission.id,
            achievement: submission.achievement,
            achievement_name: line.achievement_name.clone(),
            organisation_name: line.organisation_name.clone(),
            status: submission.status,
            attempt: submission.attempt,
            due,
            attempts_left: settings.attempts_left(submission.attempt),
            fee_due,
            updated_at: submission.updated_at,
        };
        if stage.in_progress() { in_progress.push(home) } else { feedback_waiting.push(home) }
    }
    in_progress.sort_by_key(|b| std::cmp::Reverse(b.updated_at));
    feedback_waiting.sort_by_key(|b| std::cmp::Reverse(b.updated_at));

    let awards: Vec<HomeAward> = app.store.learner_awards(user).await?.into_iter().map(|line| home_award(line, now)).collect();
    let mut expiring: Vec<HomeAward> = awards.iter().filter(|a| a.expiring_soon).cloned().collect();
    expiring.sort_by_key(|a| a.valid_until);

    let mut micro_credentials = Vec::new();
    for id in app.store.micro_credentials_started(user).await? {
        let micro_credential = app.store.achievement(id).await?;
        if let Some(requirements) = stacks::requirements(app, &micro_credential).await? {
            micro_credentials.push(mine.stack(micro_credential, requirements));
        }
    }

    let memberships = accounts::memberships(app, actor).await?;
    let has_api_tokens = !app.store.api_tokens(user).await?.is_empty();
    Ok(LearnerHome { in_progress, feedback_waiting, awards, expiring_soon: expiring, micro_credentials, memberships, has_api_tokens })
}

/// How an achievement's work is assessed, said before anyone applies.
#[derive(Debug, Clone)]
pub struct AssessmentTerms {
    /// Business days from submission to decision.
    pub service_days: u32,
    /// Attempts allowed; `None` for unlimited.
    pub attempt_limit: Option<u32>,
    /// Whether staff confirm each pass before the award.
    pub confirm_passes: bool,
    pub evidence_types: Vec<EvidenceType>,
    /// The largest evidence file, in bytes.
    pub max_file_bytes: u64,
    /// The evidence storage each learner has with the issuer, in bytes.
    pub evidence_quota_bytes: u64,
    /// The fee in a few words and the rule as a sentence, as every page says them
    /// (`cairn_core::fees`).
    pub fee_label: String,
    pub fee_terms: String,
    /// Whether applying costs anything (the achievement's fee, or its micro-credential's).
    pub has_fee: bool,
    /// How the issuer asks to be paid, shown with a fee.
    pub payment_instructions: String,
    pub payment_url: Option<String>,
}

/// Where the viewer stands with one achievement.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// The viewer's award for it, with its status.
    pub award: Option<(AwardId, AwardStatus)>,
    /// The viewer's open submission for it.
    pub submission: Option<(SubmissionId, Status)>,
    /// Progress through the micro-credential or certificate (the achievement itself, or the
    /// micro-credential it is a level of).
    pub stack: Option<StackStanding>,
}

/// The achievement page: the achievement, how it is assessed, and where the viewer stands.
#[derive(Debug, Clone)]
pub struct AchievementPage {
    pub overview: Overview,
    pub terms: AssessmentTerms,
    /// `None` for visitors who are not signed in.
    pub standing: Option<Standing>,
    /// The issuer's outcome figures for it, where it publishes them.
    pub outcomes: cairn_core::outcomes::Outcomes,
}

/// An achievement as its page shows it to this viewer.
///
/// # Errors
/// `NotFound` as [`achievements::overview`]; store failures.
pub async fn achievement_page(app: &App, actor: &Actor, id: AchievementId) -> Result<AchievementPage, AppError> {
    let overview = achievements::overview(app, actor, id).await?;
    let settings = app.store.issuer_settings(overview.organisation.id).await?;
    let parent = overview.parent.as_ref();
    let terms = AssessmentTerms {
        service_days: settings.service_days,
        attempt_limit: settings.attempt_limit,
        confirm_passes: settings.confirm_passes,
        evidence_types: EvidenceType::ALL.to_vec(),
        max_file_bytes: MAX_EVIDENCE_BYTES as u64,
        evidence_quota_bytes: settings.evidence_quota_bytes(),
        has_fee: !overview.achievement.content.fee.is_free() || parent.is_some_and(|p| !p.content.fee.is_free()),
        fee_label: fees::fee_label(&overview.achievement, parent),
        fee_terms: fees::fee_terms(&overview.achievement, parent),
        payment_instructions: settings.payment_instructions.clone(),
        payment_url: settings.payment_url.clone(),
    };
    let standing = match actor.user {
        None => None,
        Some(user) => {
            actor.authorise(Action::Own(user))?;
            let mine = Mine::load(app, user).await?;
            let achievement = &overview.achievement;
            let container = match (achievement.kind, &overview.parent) {
                (Kind::MicroCredential | Kind::Certificate, _) => Some(achievement.clone()),
                (Kind::Level(_), Some(parent)) => Some(parent.clone()),
                _ => None,
            };
            let stack = match container {
                Some(container) => stacks::requirements(app, &container).await?.map(|requirements| mine.stack(container, requirements)),
                None => None,
            };
            Some(Standing {
                award: mine.award_for(achievement.id).map(|a| (a.id, a.status)),
                submission: mine.open_submission_for(achievement.id).map(|s| (s.submission.id, s.submission.status)),
                stack,
            })
        }
    };
    let outcomes = crate::outcomes::of(app, &overview.achievement, &overview.levels).await?;
    Ok(AchievementPage { overview, terms, standing, outcomes })
}
