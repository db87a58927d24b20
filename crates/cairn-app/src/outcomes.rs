//! An achievement's outcome figures as pages and the API show them: counted by the store
//! (`Store::outcome_counts`) only when its issuer publishes them, over the achievement itself or,
//! for a micro-credential, over its levels together; a certificate is never assessed itself. What
//! may be shown is `cairn_core::outcomes::outcomes`' decision.

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::ids::AchievementId;
use cairn_core::outcomes::{Outcomes, outcomes};

use crate::{App, AppError};

/// What may be shown of `achievement`'s outcomes; `levels` are a micro-credential's levels
/// (ignored for other kinds).
///
/// # Errors
/// Store failures.
pub async fn of(app: &App, achievement: &Achievement, levels: &[Achievement]) -> Result<Outcomes, AppError> {
    let settings = app.store.issuer_settings(achievement.organisation).await?;
    if !settings.publish_outcomes {
        return Ok(Outcomes::NotPublished);
    }
    let counted: Vec<AchievementId> = match achievement.kind {
        Kind::Certificate => return Ok(Outcomes::NotAssessed),
        Kind::MicroCredential => levels.iter().map(|level| level.id).collect(),
        Kind::MicroBadge | Kind::Level(_) => vec![achievement.id],
    };
    let counts = app.store.outcome_counts(&counted).await?;
    Ok(outcomes(true, &counts))
}
