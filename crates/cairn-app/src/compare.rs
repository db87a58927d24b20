//! Comparing two to four published achievements side by side, from any issuers: each with its
//! issuer's name, levels or components, the micro-credential a level belongs to (for its fee) and
//! its outcome figures where the issuer publishes them. Anyone may compare, signed in or not;
//! drafts and retired achievements are refused exactly like unknown ids, so a comparison reveals
//! nothing the catalog does not.

use cairn_core::Invalid;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::compare::Selection;
use cairn_core::outcomes::Outcomes;
use cairn_store::StoreError;

use crate::catalog::{Listed, describe};
use crate::{App, AppError, outcomes};

/// One achievement in a comparison.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The achievement with its issuer's name and its levels or components.
    pub listed: Listed,
    /// The micro-credential a level belongs to, whose fee it is charged.
    pub parent: Option<Achievement>,
    pub outcomes: Outcomes,
}

/// The chosen achievements, in the order chosen.
///
/// # Errors
/// `Invalid` at `/achievements/{index}` for each one that is unknown or not published; store
/// failures.
pub async fn compare(app: &App, selection: &Selection) -> Result<Vec<Compared>, AppError> {
    let mut invalid = Invalid::new();
    let mut found = Vec::with_capacity(selection.ids().len());
    for (index, id) in selection.ids().iter().enumerate() {
        match app.store.achievement(*id).await {
            Ok(achievement) if achievement.state == State::Published => found.push(achievement),
            Ok(_) | Err(StoreError::NotFound { .. }) => invalid.push(format!("/achievements/{index}"), format!("\"{id}\" is not a published achievement")),
            Err(error) => return Err(error.into()),
        }
    }
    if !invalid.is_empty() {
        return Err(AppError::Invalid(invalid));
    }
    let mut compared = Vec::with_capacity(found.len());
    for listed in describe(app, found).await? {
        let parent = match (listed.achievement.kind, listed.achievement.parent) {
            (Kind::Level(_), Some(parent)) => Some(app.store.achievement(parent).await?),
            _ => None,
        };
        let outcomes = outcomes::of(app, &listed.achievement, &listed.levels).await?;
        compared.push(Compared { listed, parent, outcomes });
    }
    Ok(compared)
}
