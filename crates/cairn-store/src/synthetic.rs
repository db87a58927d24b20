//! Bulk writing of a synthetic platform for benchmarks (`cairn synthetic`,
//! `cairn_app::synthetic`): learners, submissions with their attempts and assessments, awards
//! with their rubric levels, award use and second scorings, written as multi-row `INSERT`s, one
//! transaction per batch. Only an empty database is seeded ([`Store::holds_accounts`]), and the
//! planner's statistics are refreshed at the end ([`Store::refresh_statistics`]).

use crate::assessment::{Tx, scores_json};
use crate::awards::result_levels;
use crate::rows::secs;
use crate::{Backend, NewAward, Store, StoreError};
use cairn_core::assessment::Score;
use cairn_core::award::AwardStatus;
use cairn_core::ids::{AchievementId, OrganisationId, SubmissionId, UserId};
use cairn_core::submission::{Outcome, Status};
use time::OffsetDateTime;

/// Most bind parameters in one PostgreSQL statement (it allows 65,535).
const MAX_BINDS: usize = 30_000;
/// Most bind parameters in one SQLite statement: sqlx finds each `$N` by name among all of the
/// statement's parameters, so the cost of binding grows with the square of their number.
const MAX_SQLITE_BINDS: usize = 200;
/// Most rows in one statement: an award's row carries its credential in three forms (~12 KB).
const MAX_ROWS: usize = 250;

/// A learner account of a synthetic platform; every one has the same password hash.
#[derive(Debug, Clone)]
pub struct SyntheticLearner {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub handle: Option<String>,
    pub discoverable: bool,
    pub created_at: OffsetDateTime,
}

/// One attempt of a synthetic submission, decided or waiting.
#[derive(Debug, Clone)]
pub struct SyntheticAttempt {
    pub submitted_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub assessor: UserId,
    /// When, how and with what scores it was judged; `None` while it waits.
    pub decision: Option<(OffsetDateTime, Outcome, Vec<Score>)>,
}

/// A synthetic submission: its last attempt gives its status, assessor and dates.
#[derive(Debug, Clone)]
pub struct SyntheticSubmission {
    pub id: SubmissionId,
    pub achievement: AchievementId,
    pub organisation: OrganisationId,
    pub learner: UserId,
    pub status: Status,
    pub overview: String,
    pub reflection: String,
    pub attempts: Vec<SyntheticAttempt>,
}

/// How often an award was viewed, shared and verified on one day.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticUse {
    pub day: OffsetDateTime,
    pub views: u32,
    pub shares: u32,
    pub verifications: u32,
}

/// A synthetic award: the award as issuing writes it, its status, and its use.
#[derive(Debug, Clone)]
pub struct SyntheticAward {
    pub award: NewAward,
    pub status: AwardStatus,
    /// Whether the learner shows the evidence with the award.
    pub evidence_public: bool,
    pub uses: Vec<SyntheticUse>,
}

/// A judgement that was scored a second time, blind: the scorings agreed, or a moderator decided.
#[derive(Debug, Clone)]
pub struct SyntheticSample {
    pub submission: SubmissionId,
    pub attempt: u32,
    pub organisation: OrganisationId,
    pub achievement: AchievementId,
    pub first: (UserId, Vec<Score>, Outcome),
    pub second: (UserId, Vec<Score>, Outcome),
    pub first_at: OffsetDateTime,
    pub second_at: OffsetDateTime,
    /// The moderator and their decision, when the scorings disagreed.
    pub moderation: Option<(UserId, Outcome)>,
}

/// One batch of a synthetic platform, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct SyntheticBatch {
    pub learners: Vec<SyntheticLearner>,
    pub submissions: Vec<SyntheticSubmission>,
    pub awards: Vec<SyntheticAward>,
    pub samples: Vec<SyntheticSample>,
}

/// A value to bind, typed so that PostgreSQL accepts its NULLs.
enum Cell {
    Text(String),
    Int(i64),
    NullText,
    NullInt,
}

fn text(value: impl Into<String>) -> Cell {
    Cell::Text(value.into())
}

fn opt_text(value: Option<String>) -> Cell {
    value.map_or(Cell::NullText, Cell::Text)
}

fn int(value: impl Into<i64>) -> Cell {
    Cell::Int(value.into())
}

fn time(value: OffsetDateTime) -> Cell {
    Cell::Int(secs(value))
}

/// Rows for one table, inserted with as few statements as the bind limit allows.
struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows { table, columns, rows: Vec::new() }
    }

    fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.rows.push(row);
    }

    async fn insert(self, tx: &mut Tx, backend: Backend) -> Result<(), StoreError> {
        let width = self.columns.len();
        let binds = match backend {
            Backend::Sqlite => MAX_SQLITE_BINDS,
            Backend::Postgres => MAX_BINDS,
        };
        let per_statement = (binds / width).clamp(1, MAX_ROWS);
        let mut rows = self.rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_statement).collect();
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.table, self.columns.join(", "));
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..width {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${n}"));
                }
                sql.push(')');
            }
            let mut query = sqlx::query(&sql);
            for cell in chunk.into_iter().flatten() {
                query = match cell {
                    Cell::Text(value) => query.bind(value),
                    Cell::Int(value) => query.bind(value),
                    Cell::NullText => query.bind(None::<String>),
                    Cell::NullInt => query.bind(None::<i64>),
                };
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Whether the database holds any account: a synthetic platform is seeded only into an
    /// empty one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn holds_accounts(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT id FROM users LIMIT 1").fetch_optional(&self.pool).await?.is_some())
    }

    /// Writes one batch of a synthetic platform in one transaction: the learners (all with
    /// `password_hash`), the submissions with their attempts, assessments and events, the awards
    /// with their rubric levels and use, and the second scorings.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure, [`StoreError::Conflict`] on a duplicate;
    /// nothing of the batch is written then.
    pub async fn write_synthetic(&self, batch: &SyntheticBatch, password_hash: &str) -> Result<(), StoreError> {
        let mut users = Rows::new("users", &["id", "email", "name", "password_hash", "created_at", "handle", "discoverable"]);
        for learner in &batch.learners {
            users.push(vec![
                text(learner.id.to_string()),
                text(learner.email.clone()),
                text(learner.name.clone()),
                text(password_hash),
                time(learner.created_at),
                opt_text(learner.handle.clone()),
                int(i64::from(learner.discoverable)),
            ]);
        }
        let mut submissions = Rows::new(
            "submissions",
            &[
                "id",
                "achievement_id",
                "organisation_id",
                "learner_id",
                "status",
                "attempt",
                "overview",
                "reflection",
                "links_json",
                "fee_state",
                "assessor_id",
                "submitted_at",
                "due_at",
                "created_at",
                "updated_at",
            ],
        );
        let mut attempts = Rows::new(
            "submission_attempts",
            &["submission_id", "attempt", "overview", "reflection", "links_json", "artifacts_json", "submitted_at", "due_at", "assessor_id"],
        );
        let mut assessments = Rows::new("assessments", &["id", "submission_id", "attempt", "assessor_id", "scores_json", "feedback", "outcome", "created_at"]);
        let mut events =
            Rows::new("submission_events", &["id", "submission_id", "organisation_id", "from_status", "to_status", "actor_id", "note", "at", "seq"]);
        for s in &batch.submissions {
            let (Some(first), Some(last)) = (s.attempts.first(), s.attempts.last()) else { continue };
            let updated = last.decision.as_ref().map_or(last.submitted_at, |(at, _, _)| *at);
            submissions.push(vec![
                text(s.id.to_string()),
                text(s.achievement.to_string()),
                text(s.organisation.to_string()),
                text(s.learner.to_string()),
                text(s.status.as_str()),
                int(i64::from(u32::try_from(s.attempts.len()).unwrap_or(u32::MAX))),
                text(s.overview.clone()),
                text(s.reflection.clone()),
                text("[]"),
                text("none"),
                text(last.assessor.to_string()),
                time(last.submitted_at),
                time(last.due_at),
                time(first.submitted_at),
                time(updated),
            ]);
            let mut seq = 0_i64;
            let mut event = |from: Option<&str>, to: &str, actor: Option<UserId>, note: &str, at: OffsetDateTime| {
                seq += 1;
                events.push(vec![
                    text(uuid::Uuid::new_v4().to_string()),
                    text(s.id.to_string()),
                    text(s.organisation.to_string()),
                    opt_text(from.map(str::to_string)),
                    text(to),
                    opt_text(actor.map(|a| a.to_string())),
                    text(note),
                    time(at),
                    int(seq),
                ]);
            };
            let mut from = Some(Status::Draft);
            for (i, attempt) in s.attempts.iter().enumerate() {
                let number = i64::try_from(i + 1).unwrap_or(i64::MAX);
                attempts.push(vec![
                    text(s.id.to_string()),
                    int(number),
                    text(s.overview.clone()),
                    text(s.reflection.clone()),
                    text("[]"),
                    text("[]"),
                    time(attempt.submitted_at),
                    time(attempt.due_at),
                    text(attempt.assessor.to_string()),
                ]);
                let sent = if i == 0 { Status::Submitted } else { Status::Resubmitted };
                event(from.map(Status::as_str), sent.as_str(), Some(s.learner), "", attempt.submitted_at);
                from = Some(sent);
                if let Some((at, outcome, scores)) = &attempt.decision {
                    assessments.push(vec![
                        text(uuid::Uuid::new_v4().to_string()),
                        text(s.id.to_string()),
                        int(number),
                        text(attempt.assessor.to_string()),
                        text(scores_json(scores)),
                        text("Scored against the rubric."),
                        text(outcome.as_str()),
                        time(*at),
                    ]);
                    let judged = match outcome {
                        Outcome::Pass => Status::Passed,
                        Outcome::NotYet => Status::NotYet,
                    };
                    event(from.map(Status::as_str), judged.as_str(), Some(attempt.assessor), "", *at);
                    from = Some(judged);
                }
            }
            if s.status == Status::Awarded
                && let Some((at, _, _)) = &last.decision
            {
                event(from.map(Status::as_str), Status::Awarded.as_str(), None, "credential issued", *at);
            }
        }
        let mut awards = Rows::new(
            "awards",
            &[
                "id",
                "achievement_id",
                "achievement_version",
                "organisation_id",
                "learner_id",
                "submission_id",
                "issued_at",
                "valid_until",
                "status",
                "status_changed_at",
                "privacy",
                "evidence_public",
                "status_index",
                "recipient_salt",
                "results_json",
                "credential_json",
                "jwt",
                "ob2_json",
                "png_key",
                "svg_key",
                "created_at",
            ],
        );
        let mut results = Rows::new("award_results", &["award_id", "achievement_id", "criterion", "level"]);
        let mut uses = Rows::new("award_use", &["award_id", "day", "organisation_id", "achievement_id", "views", "shares", "verifications"]);
        for a in &batch.awards {
            let new = &a.award;
            awards.push(vec![
                text(new.id.to_string()),
                text(new.achievement.to_string()),
                int(new.achievement_version),
                text(new.organisation.to_string()),
                text(new.learner.to_string()),
                opt_text(new.submission.map(|s| s.to_string())),
                time(new.issued_at),
                new.valid_until.map_or(Cell::NullInt, time),
                text(a.status.as_str()),
                if a.status == AwardStatus::Active { Cell::NullInt } else { time(new.issued_at) },
                text(new.privacy.as_str()),
                int(i64::from(a.evidence_public)),
                int(i64::try_from(new.status_index).map_err(|_| StoreError::corrupt("status index"))?),
                text(new.recipient_salt.clone()),
                text(new.results_json.clone()),
                text(new.credential_json.clone()),
                text(new.jwt.clone()),
                text(new.ob2_json.clone()),
                text(new.png_key.clone()),
                text(new.svg_key.clone()),
                time(new.issued_at),
            ]);
            for (criterion, level) in result_levels(&new.results_json) {
                results.push(vec![text(new.id.to_string()), text(new.achievement.to_string()), text(criterion), int(level)]);
            }
            for u in &a.uses {
                uses.push(vec![
                    text(new.id.to_string()),
                    int(secs(u.day).div_euclid(86_400)),
                    text(new.organisation.to_string()),
                    text(new.achievement.to_string()),
                    int(u.views),
                    int(u.shares),
                    int(u.verifications),
                ]);
            }
        }
        let mut judgements = Rows::new(
            "sampled_judgements",
            &[
                "submission_id",
                "attempt",
                "organisation_id",
                "achievement_id",
                "state",
                "first_assessor_id",
                "first_scores_json",
                "first_feedback",
                "first_outcome",
                "first_at",
                "second_assessor_id",
                "second_scores_json",
                "second_feedback",
                "second_outcome",
                "second_at",
                "moderator_id",
                "moderated_outcome",
                "moderated_at",
            ],
        );
        let mut levels = Rows::new(
            "sampled_scores",
            &["submission_id", "attempt", "criterion", "organisation_id", "achievement_id", "first_level", "second_level", "scored_at"],
        );
        for s in &batch.samples {
            let (state, moderator, moderated, moderated_at) = match s.moderation {
                Some((moderator, outcome)) => ("moderated", text(moderator.to_string()), text(outcome.as_str()), time(s.second_at)),
                None => ("agreed", Cell::NullText, Cell::NullText, Cell::NullInt),
            };
            judgements.push(vec![
                text(s.submission.to_string()),
                int(s.attempt),
                text(s.organisation.to_string()),
                text(s.achievement.to_string()),
                text(state),
                text(s.first.0.to_string()),
                text(scores_json(&s.first.1)),
                text("Scored against the rubric."),
                text(s.first.2.as_str()),
                time(s.first_at),
                text(s.second.0.to_string()),
                text(scores_json(&s.second.1)),
                text("Scored blind against the rubric."),
                text(s.second.2.as_str()),
                time(s.second_at),
                moderator,
                moderated,
                moderated_at,
            ]);
            for (first, second) in s.first.1.iter().zip(&s.second.1) {
                levels.push(vec![
                    text(s.submission.to_string()),
                    int(s.attempt),
                    text(first.criterion.clone()),
                    text(s.organisation.to_string()),
                    text(s.achievement.to_string()),
                    int(i64::try_from(first.level).unwrap_or(i64::MAX)),
                    int(i64::try_from(second.level).unwrap_or(i64::MAX)),
                    time(s.second_at),
                ]);
            }
        }
        let mut tx = self.pool.begin().await?;
        for rows in [users, submissions, attempts, assessments, events, awards, results, uses, judgements, levels] {
            rows.insert(&mut tx, self.backend).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner's statistics during a bulk load.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "ANALYZE",
            // Vacuuming also marks the pages all-visible, as a settled database's would be.
            Backend::Postgres => "VACUUM ANALYZE",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }
}
