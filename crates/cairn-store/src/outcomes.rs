//! Outcome figures, counted by the database: how many submissions for some achievements were
//! decided and awarded, how many decisions were made, and the median time from an attempt being
//! sent to its decision. Counts are SQL aggregates and the median reads at most the two middle
//! rows, so the cost does not grow with what is loaded; the same SQL runs on both backends.
//! What the figures mean, and when they may be shown, is `cairn_core::outcomes`'.

use crate::achievements::placeholders;
use crate::rows::get_i64;
use crate::{Store, StoreError};
use cairn_core::ids::AchievementId;
use cairn_core::outcomes::OutcomeCounts;

/// Most achievements counted together (a micro-credential's levels, or one achievement).
const MAX_COUNTED: usize = 50;

impl Store {
    /// The outcome counts of the submissions for `achievements` taken together (none for an
    /// empty list).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all, fields(achievements = achievements.len()))]
    pub async fn outcome_counts(&self, achievements: &[AchievementId]) -> Result<OutcomeCounts, StoreError> {
        let ids: Vec<String> = achievements.iter().take(MAX_COUNTED).map(ToString::to_string).collect();
        if ids.is_empty() {
            return Ok(OutcomeCounts::default());
        }
        let within = placeholders(1, ids.len());

        // A submission is decided once it has a decision and waits for no other: awarded, "not
        // yet" (final or not resubmitted), or withdrawn after a decision.
        let decided_sql = format!(
            "SELECT COUNT(*) AS decided, COALESCE(SUM(CASE WHEN s.status = 'awarded' THEN 1 ELSE 0 END), 0) AS awarded FROM submissions s \
             WHERE s.achievement_id IN ({within}) AND s.status IN ('awarded', 'not_yet', 'withdrawn') \
             AND EXISTS (SELECT 1 FROM assessments x WHERE x.submission_id = s.id)"
        );
        let mut query = sqlx::query(&decided_sql);
        for id in &ids {
            query = query.bind(id.clone());
        }
        let row = query.fetch_one(&self.pool).await?;
        let decided = count(get_i64(&row, "decided")?)?;
        let awarded = count(get_i64(&row, "awarded")?)?;

        // Each decision with the attempt it judged.
        let from = format!(
            "FROM assessments x JOIN submissions s ON s.id = x.submission_id \
             JOIN submission_attempts t ON t.submission_id = x.submission_id AND t.attempt = x.attempt \
             WHERE s.achievement_id IN ({within})"
        );
        let decisions_sql = format!("SELECT COUNT(*) AS n {from}");
        let mut query = sqlx::query(&decisions_sql);
        for id in &ids {
            query = query.bind(id.clone());
        }
        let decisions = count(get_i64(&query.fetch_one(&self.pool).await?, "n")?)?;
        if decisions == 0 {
            return Ok(OutcomeCounts { decided_submissions: decided, awarded, decisions, median_decision_secs: None });
        }

        // The middle one of an odd count, the middle two of an even one.
        let (take, skip) = (2 - decisions % 2, (decisions - 1) / 2);
        let middle_sql = format!("SELECT x.created_at - t.submitted_at AS taken {from} ORDER BY taken LIMIT {take} OFFSET {skip}");
        let mut query = sqlx::query(&middle_sql);
        for id in &ids {
            query = query.bind(id.clone());
        }
        let middle: Vec<i64> = query.fetch_all(&self.pool).await?.iter().map(|row| get_i64(row, "taken")).collect::<Result<_, _>>()?;
        let median = match middle.as_slice() {
            [one] => Some(*one),
            [low, high] => Some(low + (high - low) / 2),
            _ => None,
        };
        Ok(OutcomeCounts { decided_submissions: decided, awarded, decisions, median_decision_secs: median })
    }
}

fn count(raw: i64) -> Result<u64, StoreError> {
    u64::try_from(raw).map_err(|_| StoreError::corrupt(format!("count {raw}")))
}
