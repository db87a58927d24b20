//! Issuer insight: submissions over time, pass rates at the first attempt and overall, time to
//! decision against the service window, assessor load and turnaround, award use (viewed, shared,
//! verified), and inter-rater agreement per criterion on the sampled judgements — for an issuer,
//! optionally one achievement, over a period ([`InsightFilter`]), as figures ([`insight`]) or CSV
//! ([`insight_csv`]); and the counting of award use ([`count_use`]).
//!
//! Who sees it: owners and staff (`OrgAction::ViewInsights`). Assessors do not: the figures
//! name every assessor's load and turnaround, which is for those who run assessment.
//!
//! The store answers with aggregates (counts per day, per assessor, per pair of levels); the
//! figures are made from those here, so the work is bounded by the period and the rubric, not by
//! the number of submissions or awards.

use std::collections::{BTreeMap, HashMap};

use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, UserId};
use cairn_core::insight::{Agreement, Grain, Period, agreement, percentile};
use cairn_store::{AwardUse, InsightScope, SampleCounts, UseCounts};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::issuer::csv_field;
use crate::{App, AppError};

/// What an insight covers, as asked: one achievement or all, and the days from and to
/// (`YYYY-MM-DD`, both included; empty for the last 90 days).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsightFilter {
    pub achievement: Option<AchievementId>,
    pub from: String,
    pub to: String,
}

/// Attempts sent in one week or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionBucket {
    /// Its first day.
    pub start: Date,
    pub first_attempts: u64,
    pub revisions: u64,
}

/// A share of decisions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u64,
    pub of: u64,
}

impl Rate {
    /// The share in per cent, `None` of nothing.
    pub fn percent(&self) -> Option<f64> {
        (self.of > 0).then(|| 100.0 * self.count as f64 / self.of as f64)
    }
}

/// Time from sending an attempt to its decision, in the issuer's business days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeToDecision {
    pub decisions: u64,
    pub p50_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// The service window, in business days.
    pub service_days: u32,
    /// Decisions made after their due date.
    pub breaches: u64,
}

/// One assessor's load and turnaround.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessorLoad {
    pub assessor: UserId,
    pub name: String,
    /// Submissions waiting for them now.
    pub open: u64,
    /// Decisions recorded under their name in the period (a moderator's included).
    pub decided: u64,
    /// Median business days from sending to their decision.
    pub median_days: Option<i64>,
}

/// Agreement of the two blind scorings on one criterion of one achievement.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionAgreement {
    pub achievement: AchievementId,
    pub achievement_name: String,
    pub criterion: String,
    pub criterion_name: String,
    pub agreement: Agreement,
}

/// The sampling rate and where the sampled judgements stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    pub percent: u32,
    pub counts: SampleCounts,
}

/// Every figure of an issuer's insight.
#[derive(Debug, Clone, PartialEq)]
pub struct Insight {
    pub organisation: OrganisationId,
    pub organisation_name: String,
    pub period: Period,
    pub grain: Grain,
    /// The achievement it is limited to, with its name.
    pub achievement: Option<(AchievementId, String)>,
    /// The issuer's achievements, to choose from.
    pub achievements: Vec<(AchievementId, String)>,
    pub submissions: Vec<SubmissionBucket>,
    pub first_attempt_pass: Rate,
    pub overall_pass: Rate,
    pub time_to_decision: TimeToDecision,
    pub assessors: Vec<AssessorLoad>,
    pub awards: UseCounts,
    pub sampling: Sampling,
    pub agreement: Vec<CriterionAgreement>,
}

/// How often each (first, second) pair of levels was given.
type LevelCounts = Vec<(usize, usize, u64)>;

fn day_of(day: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(day)
}

fn start_of(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT).assume_utc()
}

/// The actor's view of the organisation's insight under `filter`.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` (assessors and non-members included), `Invalid` for a period or
/// achievement that is not one (`/from`, `/to`, `/achievement`).
pub async fn insight(app: &App, actor: &Actor, organisation: OrganisationId, filter: &InsightFilter) -> Result<Insight, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ViewInsights))?;
    let period = Period::parse(&filter.from, &filter.to, app.now().date())?;
    let scope = InsightScope { organisation, achievement: filter.achievement, from: start_of(period.from), to: start_of(period.to) + Duration::days(1) };
    // Every figure is its own aggregate over the scope: they run at once, each on a connection
    // of its own.
    let store = &app.store;
    let (organisation_row, all, settings, members, sends, decisions, open, level_pairs, awards, samples) = tokio::try_join!(
        store.organisation(organisation),
        store.organisation_achievements(organisation),
        store.issuer_settings(organisation),
        store.members(organisation),
        store.insight_sends(&scope),
        store.insight_decisions(&scope),
        store.insight_open_load(&scope),
        store.insight_level_pairs(&scope),
        store.insight_use(&scope),
        store.insight_samples(&scope),
    )?;
    let achievement = match filter.achievement {
        None => None,
        Some(id) => match all.iter().find(|a| a.id == id) {
            Some(found) => Some((found.id, found.content.name.clone())),
            None => return Err(AppError::invalid_field("/achievement", "is not one of this issuer's achievements")),
        },
    };
    let calendar = settings.calendar();

    let mut buckets: BTreeMap<Date, SubmissionBucket> =
        period.buckets().into_iter().map(|start| (start, SubmissionBucket { start, first_attempts: 0, revisions: 0 })).collect();
    for sends in sends {
        let start = period.bucket_of(day_of(sends.day).date());
        if let Some(bucket) = buckets.get_mut(&start) {
            bucket.first_attempts += sends.first_attempts;
            bucket.revisions += sends.revisions;
        }
    }

    // Business days per (sent, decided) day pair: the calendar is the issuer's, so it is applied
    // here, once per pair of days.
    let mut all_days: Vec<(i64, u64)> = Vec::new();
    let mut by_assessor: BTreeMap<UserId, (u64, Vec<(i64, u64)>)> = BTreeMap::new();
    let mut breaches = 0u64;
    let mut business_days: HashMap<(i64, i64), i64> = HashMap::new();
    let passes = decisions.passes;
    for group in decisions.groups {
        let days = *business_days
            .entry((group.sent_day, group.decided_day))
            .or_insert_with(|| calendar.business_days_between(day_of(group.sent_day), day_of(group.decided_day)).max(0));
        all_days.push((days, group.decisions));
        breaches += group.late;
        if let Some(assessor) = group.assessor {
            let entry = by_assessor.entry(assessor).or_default();
            entry.0 += group.decisions;
            entry.1.push((days, group.decisions));
        }
    }
    let decisions: u64 = all_days.iter().map(|(_, n)| n).sum();
    let time_to_decision =
        TimeToDecision { decisions, p50_days: percentile(&all_days, 50), p90_days: percentile(&all_days, 90), service_days: settings.service_days, breaches };

    let open: BTreeMap<UserId, u64> = open.into_iter().collect();
    let mut people: Vec<UserId> = open.keys().chain(by_assessor.keys()).copied().collect();
    people.sort();
    people.dedup();
    let mut assessors: Vec<AssessorLoad> = people
        .into_iter()
        .map(|user| {
            let (decided, days) = by_assessor.get(&user).cloned().unwrap_or_default();
            AssessorLoad {
                assessor: user,
                name: members.iter().find(|m| m.user == user).map(|m| m.name.clone()).unwrap_or_else(|| "Former member".into()),
                open: open.get(&user).copied().unwrap_or(0),
                decided,
                median_days: percentile(&days, 50),
            }
        })
        .collect();
    assessors.sort_by(|a, b| a.name.cmp(&b.name).then(a.assessor.cmp(&b.assessor)));

    let mut pairs: BTreeMap<(AchievementId, String), LevelCounts> = BTreeMap::new();
    for pair in level_pairs {
        pairs.entry((pair.achievement, pair.criterion)).or_default().push((pair.first_level, pair.second_level, pair.count));
    }
    let mut agreements = Vec::new();
    for ((achievement_id, criterion), counts) in pairs {
        let found = all.iter().find(|a| a.id == achievement_id);
        let rubric = found.map(|a| a.assessment_rubric(false));
        let criterion_row = rubric.as_ref().and_then(|r| r.criteria.iter().find(|c| c.id == criterion));
        agreements.push(CriterionAgreement {
            achievement: achievement_id,
            achievement_name: found.map(|a| a.content.name.clone()).unwrap_or_default(),
            criterion_name: criterion_row.map(|c| c.name.clone()).unwrap_or_else(|| criterion.clone()),
            agreement: agreement(rubric.as_ref().map(|r| r.levels.len()).unwrap_or(2), &counts),
            criterion,
        });
    }
    agreements.sort_by(|a, b| a.achievement_name.cmp(&b.achievement_name).then(a.criterion_name.cmp(&b.criterion_name)));

    Ok(Insight {
        organisation,
        organisation_name: organisation_row.profile.name,
        grain: period.grain(),
        period,
        achievement,
        achievements: all.iter().map(|a| (a.id, a.content.name.clone())).collect(),
        submissions: buckets.into_values().collect(),
        first_attempt_pass: Rate { count: passes.first_passed, of: passes.first_decided },
        overall_pass: Rate { count: passes.passed, of: passes.decided },
        time_to_decision,
        assessors,
        awards,
        sampling: Sampling { percent: settings.sampling_percent, counts: samples },
        agreement: agreements,
    })
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// The insight as CSV, one figure a line: `section,item,measure,value`. Empty values are figures
/// that do not exist (a rate of nothing, kappa with no pairs or one category).
pub fn insight_csv(insight: &Insight) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row = |section: &str, item: &str, measure: &str, value: String| rows.push([section.into(), item.into(), measure.into(), value]);
    row("period", "from", "date", cairn_core::calendar::format_date(insight.period.from));
    row("period", "to", "date", cairn_core::calendar::format_date(insight.period.to));
    row("period", "achievement", "name", insight.achievement.as_ref().map(|(_, name)| name.clone()).unwrap_or_else(|| "all".into()));
    for bucket in &insight.submissions {
        let start = cairn_core::calendar::format_date(bucket.start);
        row("submissions", &start, "first_attempts", bucket.first_attempts.to_string());
        row("submissions", &start, "revisions", bucket.revisions.to_string());
    }
    for (item, rate) in [("first_attempt", insight.first_attempt_pass), ("overall", insight.overall_pass)] {
        row("pass_rate", item, "passed", rate.count.to_string());
        row("pass_rate", item, "decided", rate.of.to_string());
        row("pass_rate", item, "percent", number(rate.percent()));
    }
    let time = &insight.time_to_decision;
    row("time_to_decision", "all", "decisions", time.decisions.to_string());
    row("time_to_decision", "all", "p50_business_days", time.p50_days.map(|d| d.to_string()).unwrap_or_default());
    row("time_to_decision", "all", "p90_business_days", time.p90_days.map(|d| d.to_string()).unwrap_or_default());
    row("time_to_decision", "all", "service_days", time.service_days.to_string());
    row("time_to_decision", "all", "breaches", time.breaches.to_string());
    for assessor in &insight.assessors {
        row("assessor", &assessor.name, "open", assessor.open.to_string());
        row("assessor", &assessor.name, "decided", assessor.decided.to_string());
        row("assessor", &assessor.name, "median_business_days", assessor.median_days.map(|d| d.to_string()).unwrap_or_default());
    }
    for (measure, value) in
        [("issued", insight.awards.issued), ("views", insight.awards.views), ("shares", insight.awards.shares), ("verifications", insight.awards.verifications)]
    {
        row("awards", "all", measure, value.to_string());
    }
    let counts = insight.sampling.counts;
    row("sampling", "all", "rate_percent", insight.sampling.percent.to_string());
    for (measure, value) in [
        ("sampled", counts.sampled),
        ("waiting_second", counts.waiting_second),
        ("waiting_moderation", counts.waiting_moderation),
        ("agreed", counts.agreed),
        ("moderated", counts.moderated),
    ] {
        row("sampling", "all", measure, value.to_string());
    }
    for criterion in &insight.agreement {
        let item = format!("{} / {}", criterion.achievement_name, criterion.criterion_name);
        row("agreement", &item, "pairs", criterion.agreement.pairs.to_string());
        row("agreement", &item, "exact_percent", number(criterion.agreement.exact_percent));
        row("agreement", &item, "weighted_kappa", number(criterion.agreement.kappa.value()));
    }
    let mut out = String::from("section,item,measure,value\n");
    for fields in rows {
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Counts one use of an award (its page seen by someone else than its learner, a share link
/// taken, a verification on this installation). Counting never fails the request it is part of:
/// a failure is logged and forgotten.
pub async fn count_use(app: &App, award: AwardId, kind: AwardUse) {
    if let Err(error) = app.store.record_award_use(award, kind, app.now()).await {
        tracing::warn!(award_id = %award, error = %error, "award use not counted");
    }
}
