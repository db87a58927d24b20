//! Open Badges 2.0 hosted documents for older displayers: the assertion (or, once revoked or
//! suspended, the revocation document served as 410 Gone), the badge class and the issuer.

use cairn_core::authz::Actor;
use cairn_core::award::AwardStatus;
use cairn_core::ids::{AchievementId, AwardId, OrganisationId};
use cairn_store::Award;
use cairn_vc::ob2;
use serde_json::{Value, json};

use super::documents::{ob2_badge_class, ob2_issuer};
use crate::config::Config;
use crate::{App, AppError};

/// A hosted assertion: the document, and whether it is gone (revoked or suspended).
#[derive(Debug, Clone)]
pub struct Hosted {
    pub gone: bool,
    pub document: Value,
    /// A private award's: for its learner and the issuer's staff only, not to be cached or
    /// shared across origins.
    pub private: bool,
}

/// What a hosted OB 2.0 assertion URL answers for `award`.
pub(crate) fn hosted(config: &Config, award: &Award) -> Hosted {
    let id = config.urls().ob2_assertion(award.id);
    // Only a reason the issuer published: this document is public.
    let reason = |what: &str| match award.public_reason() {
        Some(reason) => format!("{what}: {reason}"),
        None => format!("{what} by the issuer"),
    };
    let private = !award.privacy.shows_to_others();
    match award.status {
        AwardStatus::Active => Hosted { gone: false, document: serde_json::from_str(&award.ob2_json).unwrap_or_else(|_| json!({"id": id})), private },
        AwardStatus::Revoked => Hosted { gone: true, document: ob2::revoked_assertion_json(&id, &reason("revoked")), private },
        AwardStatus::Suspended => Hosted { gone: true, document: ob2::revoked_assertion_json(&id, &reason("suspended")), private },
    }
}

/// The hosted OB 2.0 assertion of an award, for whoever may see the award (see
/// `awards::visible`): it carries the recipient's salt, so a private award's assertion is "not
/// found" for everyone but its learner and the issuer's staff. Copies of a private award already
/// handed out then fail OB 2.0 verification, never pass it; its OB 3.0 credential still verifies
/// through the status list.
///
/// # Errors
/// `NotFound`.
pub async fn assertion(app: &App, actor: &Actor, id: AwardId) -> Result<Hosted, AppError> {
    let award = super::visible(app, actor, id).await?.award;
    Ok(hosted(&app.config, &award))
}

/// The OB 2.0 badge class of an achievement the actor may see.
///
/// # Errors
/// `NotFound`, also for another organisation's draft.
pub async fn badge_class(app: &App, actor: &Actor, id: AchievementId) -> Result<Value, AppError> {
    let achievement = crate::achievements::view(app, actor, id).await?;
    Ok(ob2_badge_class(&app.config, &achievement))
}

/// The OB 2.0 issuer profile of an organisation.
///
/// # Errors
/// `NotFound`.
pub async fn issuer(app: &App, id: OrganisationId) -> Result<Value, AppError> {
    let organisation = app.store.organisation(id).await?;
    Ok(ob2_issuer(&app.config, &organisation))
}
