//! What a submission's fee is, read for the rule in `cairn_core::fees`: the micro-credential a
//! level belongs to, the charge, the other levels a fee paid once covers, and how the issuer
//! asks to be paid. Starting a submission, settling its fee (staff) and redeeming a voucher
//! (learner) all go through [`FeeContext`].

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::fees::{Charge, charge, fee_label, fee_terms};
use cairn_core::ids::{AchievementId, UserId};
use cairn_core::submission::FeeState;

use crate::{App, AppError};

/// An achievement's fee as it applies to its submissions.
#[derive(Debug, Clone)]
pub struct FeeContext {
    /// The micro-credential, for a level.
    pub parent: Option<Achievement>,
    pub charge: Charge,
    /// The fee in a few words ([`fee_label`]).
    pub label: String,
    /// The fee rule as a sentence ([`fee_terms`]).
    pub terms: String,
    /// The micro-credential's other levels, whose submissions a fee settled once also settles
    /// (empty unless the charge covers every level).
    pub covers: Vec<AchievementId>,
}

impl FeeContext {
    /// The fee context of `achievement`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn load(app: &App, achievement: &Achievement) -> Result<FeeContext, AppError> {
        let parent = match (achievement.kind, achievement.parent) {
            (Kind::Level(_), Some(parent)) => Some(app.store.achievement(parent).await?),
            _ => None,
        };
        let charge = charge(achievement, parent.as_ref());
        let covers = match &parent {
            Some(parent) if charge.covers_every_level() => {
                app.store.levels(parent.id).await?.into_iter().map(|level| level.id).filter(|id| *id != achievement.id).collect()
            }
            _ => Vec::new(),
        };
        let label = fee_label(achievement, parent.as_ref());
        let terms = fee_terms(achievement, parent.as_ref());
        Ok(FeeContext { parent, charge, label, terms, covers })
    }

    /// The fee state a new submission by `learner` starts in: a micro-credential's fee the
    /// learner already settled on another level's submission (withdrawn ones included) covers
    /// this one.
    ///
    /// # Errors
    /// Store failures.
    pub async fn opening_state(&self, app: &App, learner: UserId) -> Result<FeeState, AppError> {
        if self.covers.is_empty() {
            return Ok(self.charge.opening_state(None));
        }
        let mine = app.store.submissions_of(learner).await?;
        let settled = mine
            .iter()
            .map(|line| &line.submission)
            .filter(|s| self.covers.contains(&s.achievement))
            .map(|s| &s.fee)
            .find(|fee| fee.is_settled() && **fee != FeeState::None);
        Ok(self.charge.opening_state(settled))
    }
}
