//! Issuer insight as SQL aggregates: every query groups in the database and returns counts per
//! day, per assessor or per pair of levels — rows bounded by the calendar, the members and the
//! rubric, never one per submission or award. Each reads one issuer's rows of the period by
//! index: attempts and assessments carry their organisation (migration `0021_insight_index.sql`).
//! Over all of an issuer's achievements, the attempts sent, awards issued and award use come from
//! its daily totals (`insight_days`, migration `0028_insight_days.sql`). Award use (page views,
//! shares, verifications) is counted here too, one row per award and day, migration
//! `0018_insight.sql`.

use crate::assessment::QUEUED;
use crate::rows::{get_i64, get_id, get_opt_id, get_string, secs};
use crate::{Store, StoreError};
use cairn_core::ids::{AchievementId, AwardId, OrganisationId, UserId};
use time::OffsetDateTime;

/// Seconds in a day: days are UTC days since 1970-01-01.
const DAY: i64 = 86_400;

/// What one insight covers: an issuer, optionally one achievement, and the times from (included)
/// and to (excluded). Over all achievements, figures come from daily totals: the scope is taken
/// as the whole UTC days it touches (insight's periods start and end at midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightScope {
    pub organisation: OrganisationId,
    pub achievement: Option<AchievementId>,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

impl InsightScope {
    /// The binds every query starts with: organisation, achievement (empty for all), from, to.
    fn binds(&self) -> (String, String, i64, i64) {
        (self.organisation.to_string(), self.achievement.map(|a| a.to_string()).unwrap_or_default(), secs(self.from), secs(self.to))
    }

    /// The UTC days the scope covers, from (included) to (excluded): scopes start and end at
    /// midnight, so a day's totals are wholly in or out.
    fn days(&self) -> (i64, i64) {
        (secs(self.from).div_euclid(DAY), (secs(self.to) + DAY - 1).div_euclid(DAY))
    }
}

/// One use of an award, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardUse {
    /// Its page was shown to someone other than its learner.
    View,
    /// Its learner took a share link (LinkedIn, a copied link, a download to post).
    Share,
    /// It was verified on this installation.
    Verification,
}

/// Attempts sent on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendsOnDay {
    /// UTC days since 1970-01-01.
    pub day: i64,
    pub first_attempts: u64,
    pub revisions: u64,
}

/// Pass rates' counts over the decisions made in a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PassCounts {
    /// First attempts decided, and how many of them passed.
    pub first_decided: u64,
    pub first_passed: u64,
    /// Submissions with a decision, and how many of them with a pass.
    pub decided: u64,
    pub passed: u64,
}

/// The decisions made in a scope: grouped for the times to decision, and counted for the pass
/// rates, from one reading of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decisions {
    pub groups: Vec<DecisionGroup>,
    pub passes: PassCounts,
}

/// Decisions grouped by who decided, the day the attempt was sent and the day it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionGroup {
    pub assessor: Option<UserId>,
    pub sent_day: i64,
    pub decided_day: i64,
    pub decisions: u64,
    /// Decided after the attempt's due date (the service window when it was sent).
    pub late: u64,
}

/// How many pieces of work one criterion's two scorings put at one pair of levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPairs {
    pub achievement: AchievementId,
    pub criterion: String,
    pub first_level: usize,
    pub second_level: usize,
    pub count: u64,
}

/// Where the scope's sampled judgements stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleCounts {
    pub sampled: u64,
    pub waiting_second: u64,
    pub waiting_moderation: u64,
    pub agreed: u64,
    pub moderated: u64,
}

/// Award use over a scope, and the awards issued in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UseCounts {
    pub issued: u64,
    pub views: u64,
    pub shares: u64,
    pub verifications: u64,
}

/// A query over a scope, with its four binds: `$1` the organisation, `$2` the achievement (empty
/// for all), `$3` and `$4` the times from and to.
fn scoped<'q>(sql: &'q str, scope: &InsightScope) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let (organisation, achievement, from, to) = scope.binds();
    sqlx::query(sql).bind(organisation).bind(achievement).bind(from).bind(to)
}

/// Decision groups as both readings return them: `assessor_id` (empty for none), `sent_day`,
/// `decided_day`, `decisions`, `late`, and the pass counts `first_decided`, `first_passed`,
/// `decided`, `passed`.
fn decisions_from(rows: &[sqlx::any::AnyRow]) -> Result<Decisions, StoreError> {
    let mut decisions = Decisions { groups: Vec::with_capacity(rows.len()), passes: PassCounts::default() };
    for row in rows {
        let assessor = get_string(row, "assessor_id")?;
        decisions.groups.push(DecisionGroup {
            assessor: if assessor.is_empty() { None } else { get_opt_id(row, "assessor_id")? },
            sent_day: get_i64(row, "sent_day")?,
            decided_day: get_i64(row, "decided_day")?,
            decisions: count(row, "decisions")?,
            late: count(row, "late")?,
        });
        let passes = &mut decisions.passes;
        passes.first_decided += count(row, "first_decided")?;
        passes.first_passed += count(row, "first_passed")?;
        passes.decided += count(row, "decided")?;
        passes.passed += count(row, "passed")?;
    }
    Ok(decisions)
}

/// A query over the whole days of a scope, all its achievements (the daily tables): `$1` the
/// organisation, `$2` and `$3` the days from and to ([`InsightScope::days`]).
fn by_days<'q>(sql: &'q str, scope: &InsightScope) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let (from, to) = scope.days();
    sqlx::query(sql).bind(scope.organisation.to_string()).bind(from).bind(to)
}

fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<u64, StoreError> {
    let n = get_i64(row, column)?;
    u64::try_from(n).map_err(|_| StoreError::corrupt(format!("count {n} in \"{column}\"")))
}

impl Store {
    /// Counts one use of an award today: one row per award and day, added to, and the issuer's
    /// total of the day (`insight_days`), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure (an unknown award counts nothing).
    pub async fn record_award_use(&self, award: AwardId, kind: AwardUse, now: OffsetDateTime) -> Result<(), StoreError> {
        let flag = |k: AwardUse| i64::from(kind == k);
        let day = secs(now).div_euclid(DAY);
        let mut tx = self.pool.begin().await?;
        for sql in [
            "INSERT INTO award_use (award_id, day, organisation_id, achievement_id, views, shares, verifications) \
             SELECT a.id, $1, a.organisation_id, a.achievement_id, $2, $3, $4 FROM awards a WHERE a.id = $5 \
             ON CONFLICT (award_id, day) DO UPDATE SET views = award_use.views + excluded.views, shares = award_use.shares + excluded.shares, \
             verifications = award_use.verifications + excluded.verifications",
            "INSERT INTO insight_days (organisation_id, day, first_attempts, revisions, issued, views, shares, verifications) \
             SELECT a.organisation_id, $1, 0, 0, 0, $2, $3, $4 FROM awards a WHERE a.id = $5 \
             ON CONFLICT (organisation_id, day) DO UPDATE SET views = insight_days.views + excluded.views, \
             shares = insight_days.shares + excluded.shares, verifications = insight_days.verifications + excluded.verifications",
        ] {
            sqlx::query(sql)
                .bind(day)
                .bind(flag(AwardUse::View))
                .bind(flag(AwardUse::Share))
                .bind(flag(AwardUse::Verification))
                .bind(award.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds every issuer's daily totals (`insight_days`, `decision_days`, `revision_days`)
    /// from the attempts, awards, award use and assessments themselves, after a bulk load wrote
    /// `award_use` alone.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn rebuild_insight_days(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["insight_days", "decision_days", "revision_days"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO insight_days (organisation_id, day, first_attempts, revisions, issued, views, shares, verifications) \
             SELECT organisation_id, day, SUM(first_attempts), SUM(revisions), SUM(issued), SUM(views), SUM(shares), SUM(verifications) FROM ( \
             SELECT organisation_id, submitted_at / 86400 AS day, CASE WHEN attempt = 1 THEN 1 ELSE 0 END AS first_attempts, \
             CASE WHEN attempt > 1 THEN 1 ELSE 0 END AS revisions, 0 AS issued, 0 AS views, 0 AS shares, 0 AS verifications \
             FROM submission_attempts WHERE organisation_id IS NOT NULL \
             UNION ALL SELECT organisation_id, issued_at / 86400, 0, 0, 1, 0, 0, 0 FROM awards \
             UNION ALL SELECT organisation_id, day, 0, 0, 0, views, shares, verifications FROM award_use) d GROUP BY organisation_id, day",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO decision_days (organisation_id, decided_day, assessor_id, sent_day, decisions, late, first_decided, first_passed, passed) \
             SELECT organisation_id, created_at / 86400, COALESCE(assessor_id, ''), submitted_at / 86400, COUNT(*), \
             SUM(CASE WHEN created_at > due_at THEN 1 ELSE 0 END), SUM(CASE WHEN attempt = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN attempt = 1 AND outcome = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) \
             FROM assessments WHERE organisation_id IS NOT NULL AND submitted_at IS NOT NULL \
             GROUP BY organisation_id, created_at / 86400, COALESCE(assessor_id, ''), submitted_at / 86400",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO revision_days (organisation_id, prev_day, decided_day, decisions) \
             SELECT organisation_id, prev_at / 86400, created_at / 86400, COUNT(*) FROM assessments \
             WHERE organisation_id IS NOT NULL AND prev_at IS NOT NULL GROUP BY organisation_id, prev_at / 86400, created_at / 86400",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attempts sent per day in the scope, first attempts and revisions apart.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_sends(&self, scope: &InsightScope) -> Result<Vec<SendsOnDay>, StoreError> {
        let rows = if scope.achievement.is_none() {
            by_days(
                "SELECT day, first_attempts, revisions FROM insight_days WHERE organisation_id = $1 AND day >= $2 AND day < $3 \
                 AND (first_attempts > 0 OR revisions > 0) ORDER BY day",
                scope,
            )
            .fetch_all(&self.pool)
            .await?
        } else {
            scoped(
                "SELECT t.submitted_at / 86400 AS day, COALESCE(SUM(CASE WHEN t.attempt = 1 THEN 1 ELSE 0 END), 0) AS first_attempts, \
             COALESCE(SUM(CASE WHEN t.attempt > 1 THEN 1 ELSE 0 END), 0) AS revisions \
             FROM submission_attempts t \
             WHERE t.organisation_id = $1 AND ($2 = '' OR t.achievement_id = $2) AND t.submitted_at >= $3 AND t.submitted_at < $4 \
             GROUP BY t.submitted_at / 86400 ORDER BY 1",
                scope,
            )
            .fetch_all(&self.pool)
            .await?
        };
        rows.iter()
            .map(|row| Ok(SendsOnDay { day: get_i64(row, "day")?, first_attempts: count(row, "first_attempts")?, revisions: count(row, "revisions")? }))
            .collect()
    }

    /// The decisions made in the scope, read once: grouped by who decided, the day the attempt
    /// was sent and the day it was decided, with how many came after the attempt's due date; and
    /// summed into the counts behind the pass rates.
    ///
    /// A submission is decided in the scope at its first decision there: the one whose previous
    /// attempt was decided before the scope, or never (`prev_at`, migration
    /// `0025_insight_previous.sql`). A pass ends a submission: it has one at most.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_decisions(&self, scope: &InsightScope) -> Result<Decisions, StoreError> {
        if scope.achievement.is_none() {
            return self.insight_decision_days(scope).await;
        }
        let rows = scoped(
            "SELECT COALESCE(a.assessor_id, '') AS assessor_id, a.submitted_at / 86400 AS sent_day, a.created_at / 86400 AS decided_day, COUNT(*) AS decisions, \
             COALESCE(SUM(CASE WHEN a.created_at > a.due_at THEN 1 ELSE 0 END), 0) AS late, \
             CAST(COALESCE(SUM(CASE WHEN a.attempt = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS first_decided, \
             CAST(COALESCE(SUM(CASE WHEN a.attempt = 1 AND a.outcome = 'pass' THEN 1 ELSE 0 END), 0) AS BIGINT) AS first_passed, \
             CAST(COALESCE(SUM(CASE WHEN a.prev_at IS NULL OR a.prev_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS decided, \
             CAST(COALESCE(SUM(CASE WHEN a.outcome = 'pass' THEN 1 ELSE 0 END), 0) AS BIGINT) AS passed \
             FROM assessments a \
             WHERE a.organisation_id = $1 AND ($2 = '' OR a.achievement_id = $2) AND a.created_at >= $3 AND a.created_at < $4 \
             GROUP BY COALESCE(a.assessor_id, ''), a.submitted_at / 86400, a.created_at / 86400",
            scope,
        )
        .fetch_all(&self.pool)
        .await?;
        decisions_from(&rows)
    }

    /// [`Store::insight_decisions`] over all of an issuer's achievements, from its daily groups
    /// (`decision_days`, migration `0029_insight_decision_days.sql`): the decisions less those
    /// whose previous decision is in the scope too make the submissions decided.
    async fn insight_decision_days(&self, scope: &InsightScope) -> Result<Decisions, StoreError> {
        let (rows, again) = tokio::try_join!(
            by_days(
                "SELECT assessor_id, sent_day, decided_day, decisions, late, first_decided, first_passed, decisions AS decided, passed FROM decision_days \
                 WHERE organisation_id = $1 AND decided_day >= $2 AND decided_day < $3 AND decisions > 0",
                scope,
            )
            .fetch_all(&self.pool),
            by_days(
                "SELECT CAST(COALESCE(SUM(decisions), 0) AS BIGINT) AS n FROM revision_days \
                 WHERE organisation_id = $1 AND prev_day >= $2 AND decided_day < $3",
                scope,
            )
            .fetch_one(&self.pool),
        )?;
        let mut decisions = decisions_from(&rows)?;
        let again = count(&again, "n")?;
        decisions.passes.decided = decisions.passes.decided.checked_sub(again).ok_or_else(|| StoreError::corrupt("more decisions again than decisions"))?;
        Ok(decisions)
    }

    /// Each assessor's open submissions now (queued and assigned to them), in the scope's
    /// organisation and achievement.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_open_load(&self, scope: &InsightScope) -> Result<Vec<(UserId, u64)>, StoreError> {
        let (organisation, achievement, _, _) = scope.binds();
        let rows = sqlx::query(&format!(
            "SELECT s.assessor_id, COUNT(*) AS open FROM submissions s WHERE s.organisation_id = $1 AND ($2 = '' OR s.achievement_id = $2) \
             AND s.status IN {QUEUED} AND s.assessor_id IS NOT NULL GROUP BY s.assessor_id"
        ))
        .bind(organisation)
        .bind(achievement)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "assessor_id")?, count(row, "open")?))).collect()
    }

    /// How often each pair of levels was given by the two blind scorings, per achievement and
    /// criterion, over the second scorings made in the scope.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_level_pairs(&self, scope: &InsightScope) -> Result<Vec<LevelPairs>, StoreError> {
        let rows = scoped(
            "SELECT achievement_id, criterion, first_level, second_level, COUNT(*) AS n FROM sampled_scores \
             WHERE organisation_id = $1 AND ($2 = '' OR achievement_id = $2) AND scored_at >= $3 AND scored_at < $4 \
             GROUP BY achievement_id, criterion, first_level, second_level",
            scope,
        )
        .fetch_all(&self.pool)
        .await?;
        let level = |row: &sqlx::any::AnyRow, column: &str| -> Result<usize, StoreError> {
            let n = get_i64(row, column)?;
            usize::try_from(n).map_err(|_| StoreError::corrupt(format!("level {n}")))
        };
        rows.iter()
            .map(|row| {
                Ok(LevelPairs {
                    achievement: get_id(row, "achievement_id")?,
                    criterion: get_string(row, "criterion")?,
                    first_level: level(row, "first_level")?,
                    second_level: level(row, "second_level")?,
                    count: count(row, "n")?,
                })
            })
            .collect()
    }

    /// Where the judgements first scored in the scope and sampled stand.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_samples(&self, scope: &InsightScope) -> Result<SampleCounts, StoreError> {
        let row = scoped(
            "SELECT COUNT(*) AS sampled, COALESCE(SUM(CASE WHEN state = 'second' THEN 1 ELSE 0 END), 0) AS waiting_second, \
             COALESCE(SUM(CASE WHEN state = 'moderation' THEN 1 ELSE 0 END), 0) AS waiting_moderation, \
             COALESCE(SUM(CASE WHEN state = 'agreed' THEN 1 ELSE 0 END), 0) AS agreed, \
             COALESCE(SUM(CASE WHEN state = 'moderated' THEN 1 ELSE 0 END), 0) AS moderated \
             FROM sampled_judgements WHERE organisation_id = $1 AND ($2 = '' OR achievement_id = $2) AND first_at >= $3 AND first_at < $4",
            scope,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(SampleCounts {
            sampled: count(&row, "sampled")?,
            waiting_second: count(&row, "waiting_second")?,
            waiting_moderation: count(&row, "waiting_moderation")?,
            agreed: count(&row, "agreed")?,
            moderated: count(&row, "moderated")?,
        })
    }

    /// Awards issued in the scope, and how often the issuer's awards were viewed, shared and
    /// verified in it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn insight_use(&self, scope: &InsightScope) -> Result<UseCounts, StoreError> {
        let sums = "CAST(COALESCE(SUM(views), 0) AS BIGINT) AS views, CAST(COALESCE(SUM(shares), 0) AS BIGINT) AS shares, \
                    CAST(COALESCE(SUM(verifications), 0) AS BIGINT) AS verifications";
        // All the issuer's achievements: its daily totals; one: that achievement's awards and
        // their days of use.
        let row = match scope.achievement {
            None => {
                by_days(
                    &format!(
                        "SELECT CAST(COALESCE(SUM(issued), 0) AS BIGINT) AS issued, {sums} FROM insight_days \
                         WHERE organisation_id = $1 AND day >= $2 AND day < $3"
                    ),
                    scope,
                )
                .fetch_one(&self.pool)
                .await?
            }
            Some(_) => {
                let (from, to) = scope.days();
                scoped(
                    &format!(
                        "SELECT (SELECT COUNT(*) FROM awards WHERE organisation_id = $1 AND achievement_id = $2 AND issued_at >= $3 AND issued_at < $4) \
                         AS issued, {sums} FROM award_use WHERE organisation_id = $1 AND achievement_id = $2 AND day >= $5 AND day < $6"
                    ),
                    scope,
                )
                .bind(from)
                .bind(to)
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(UseCounts {
            issued: count(&row, "issued")?,
            views: count(&row, "views")?,
            shares: count(&row, "shares")?,
            verifications: count(&row, "verifications")?,
        })
    }
}
