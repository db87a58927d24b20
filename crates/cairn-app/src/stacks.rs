//! Achievements made of others: a micro-credential's levels (written inline, or existing
//! micro-badges) and a certificate's components, what a learner holds, the order in which levels
//! are taken, awarding what an award completes, and one organisation's agreement to be part of
//! another's certificate. The rules are `cairn_core::composition`'s.

use cairn_core::achievement::{Achievement, Kind, NewAchievement, State};
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::award::AwardStatus;
use cairn_core::composition::{self, Candidate, Component, Rule};
use cairn_core::ids::{AchievementId, OrganisationId, UserId};
use cairn_core::organisation::Organisation;
use cairn_store::{Award, CatalogQuery, ComponentRequest, KindFilter, NewEffect, StoreError};

use crate::catalog::Listed;

use crate::awards::{AwardRequest, issue};
use crate::error::ConflictKind;
use crate::{App, AppError};

/// What a learner holds: the achievements they have an active award for. Every rule that asks
/// whether something is held (level order, stacks, certificates, progress) asks this.
///
/// # Errors
/// Store failures.
pub async fn held(app: &App, learner: UserId) -> Result<Vec<AchievementId>, AppError> {
    Ok(app.store.held_achievements(learner).await?)
}

/// What earns an achievement made of others.
#[derive(Debug, Clone)]
pub struct Requirements {
    pub rule: Rule,
    /// Its levels or components, in order.
    pub components: Vec<Achievement>,
    /// Components whose organisation has not agreed yet (they count for nothing until then).
    pub pending: Vec<AchievementId>,
}

impl Requirements {
    /// The components as the rule sees them (agreed ones only).
    pub fn rule_components(&self) -> Vec<Component> {
        self.components.iter().filter(|c| !self.pending.contains(&c.id)).map(|c| Component { id: c.id, credits: c.content.credits }).collect()
    }

    /// Whether holding `held` earns the achievement.
    pub fn met(&self, held: &[AchievementId]) -> bool {
        self.rule.met(&self.rule_components(), held)
    }
}

/// The requirements of a micro-credential (all of its levels) or a certificate (its rule over its
/// components); `None` for micro-badges and levels.
///
/// # Errors
/// Store failures.
pub async fn requirements(app: &App, achievement: &Achievement) -> Result<Option<Requirements>, AppError> {
    let rule = match (achievement.kind, achievement.rule) {
        (Kind::MicroCredential, _) => Rule::All,
        (Kind::Certificate, Some(rule)) => rule,
        (Kind::Certificate, None) => return Err(AppError::Internal(format!("certificate {} has no rule", achievement.id))),
        _ => return Ok(None),
    };
    let inline = if achievement.kind == Kind::MicroCredential { app.store.levels(achievement.id).await? } else { Vec::new() };
    if !inline.is_empty() {
        return Ok(Some(Requirements { rule, components: inline, pending: Vec::new() }));
    }
    let links = app.store.components(achievement.id).await?;
    let pending = links.iter().filter(|l| !l.agreed).map(|l| l.achievement.id).collect();
    Ok(Some(Requirements { rule, components: links.into_iter().map(|l| l.achievement).collect(), pending }))
}

/// Refuses an application for a level while an earlier level of the same micro-credential is
/// not held, unless the micro-credential lets its levels be taken in any order. A micro-badge
/// used as a level of a micro-credential follows that micro-credential's order too.
///
/// # Errors
/// `Conflict` (`ConflictKind::LevelOrder`) naming the level to earn first; store failures.
pub async fn check_level_order(app: &App, learner: UserId, achievement: &Achievement) -> Result<(), AppError> {
    let containers = app.store.containers_of(achievement.id).await?;
    if containers.is_empty() {
        return Ok(());
    }
    let held = held(app, learner).await?;
    for container in containers {
        let container = app.store.achievement(container).await?;
        if container.kind != Kind::MicroCredential || container.levels_in_any_order || container.state != State::Published {
            continue;
        }
        let Some(requirements) = requirements(app, &container).await? else { continue };
        let levels: Vec<AchievementId> = requirements.components.iter().map(|l| l.id).collect();
        if let Some(first) = composition::level_to_do_first(&levels, achievement.id, &held) {
            let name = requirements.components.iter().find(|l| l.id == first).map(|l| l.content.name.clone()).unwrap_or_default();
            return Err(AppError::Conflict {
                kind: ConflictKind::LevelOrder,
                detail: format!("Earn \"{name}\" first: the levels of \"{}\" are taken in order", container.content.name),
            });
        }
    }
    Ok(())
}

/// Awards every published micro-credential and certificate that `award` completes for its
/// learner and that they do not hold yet, each credential naming the awards that earned it as
/// its evidence; returns them with their effects (which check, in turn, what they complete).
/// Running it again awards nothing twice.
///
/// # Errors
/// Store and signing failures (the outbox retries).
pub(crate) async fn complete(app: &App, award: &Award) -> Result<Vec<(Award, Vec<NewEffect>)>, AppError> {
    let store = &app.store;
    let mut issued = Vec::new();
    for container in store.containers_of(award.achievement).await? {
        let container = store.achievement(container).await?;
        if container.state != State::Published {
            continue;
        }
        let held = held(app, award.learner).await?;
        if held.contains(&container.id) {
            continue;
        }
        let Some(requirements) = requirements(app, &container).await? else { continue };
        if !requirements.met(&held) {
            continue;
        }
        let components: Vec<AchievementId> = requirements.rule_components().iter().map(|c| c.id).collect();
        let mut evidence = Vec::new();
        for earned in store.awards_of(award.learner).await?.iter().filter(|a| components.contains(&a.achievement) && a.status == AwardStatus::Active) {
            let name = match store.achievement_version(earned.achievement, earned.achievement_version).await {
                Ok(achievement) => achievement.content.name,
                Err(_) => "Component award".to_string(),
            };
            evidence.push((app.config.urls().award_page(earned.id), name));
        }
        let request = AwardRequest { evidence_urls: evidence, ..AwardRequest::new(award.learner, container.id) };
        match issue(app, &request).await {
            Ok(done) => issued.push(done),
            // Another runner completed it first.
            Err(AppError::Conflict { kind: ConflictKind::AlreadyAwarded, .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(issued)
}

/// Checks a new composed micro-credential's or certificate's components against what exists:
/// published achievements, or drafts of the author's own organisation.
///
/// # Errors
/// `Invalid` for each component refused (see `cairn_core::composition::check_components`).
pub(crate) async fn check_new(app: &App, actor: &Actor, organisation: OrganisationId, new: &NewAchievement) -> Result<(), AppError> {
    let (kind, rule, asked) = match new {
        NewAchievement::Composed { badges, .. } => (Kind::MicroCredential, Rule::All, badges),
        NewAchievement::Certificate { rule, components, .. } => (Kind::Certificate, *rule, components),
        NewAchievement::MicroBadge(_) | NewAchievement::MicroCredential { .. } => return Ok(()),
    };
    let mut found = Vec::new();
    for id in asked.iter().take(composition::MAX_COMPONENTS) {
        let achievement = match app.store.achievement(*id).await {
            Ok(achievement) => achievement,
            Err(StoreError::NotFound { .. }) => continue,
            Err(error) => return Err(error.into()),
        };
        let usable = match achievement.state {
            State::Published => true,
            State::Draft => achievement.organisation == organisation && actor.can(Action::Org(organisation, OrgAction::ViewDrafts)),
            State::Retired => false,
        };
        if usable {
            found.push(Candidate { id: achievement.id, organisation: achievement.organisation, kind: achievement.kind, credits: achievement.content.credits });
        }
    }
    Ok(composition::check_components(kind, organisation, rule, asked, &found)?)
}

/// Refuses to publish a composed micro-credential or certificate while a component is not
/// published or its organisation has not agreed.
///
/// # Errors
/// `Conflict` (`ConflictKind::AchievementState`) naming the component.
pub(crate) async fn check_publishable(app: &App, achievement: &Achievement) -> Result<(), AppError> {
    let Some(requirements) = requirements(app, achievement).await? else { return Ok(()) };
    for component in &requirements.components {
        if component.parent == Some(achievement.id) {
            continue; // an inline level is published with its micro-credential
        }
        if requirements.pending.contains(&component.id) {
            let organisation = app.store.organisation(component.organisation).await?;
            return Err(AppError::Conflict {
                kind: ConflictKind::AchievementState,
                detail: format!("\"{}\" waits for {} to agree to be part of it", component.content.name, organisation.profile.name),
            });
        }
        if component.state != State::Published {
            return Err(AppError::Conflict { kind: ConflictKind::AchievementState, detail: format!("publish \"{}\" first", component.content.name) });
        }
    }
    Ok(())
}

/// Most achievements offered as components on the authoring form, of each kind.
pub const MAX_CHOICES: u32 = 100;

/// The organisation an author is about to create an achievement for and, when `with_choices`,
/// the published micro-badges and micro-credentials that could be its components (every
/// issuer's, newest first, up to [`MAX_CHOICES`] of each kind), with their issuers' names.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `Author`, `NotFound`.
pub async fn authoring_with_choices(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    with_choices: bool,
) -> Result<(Organisation, Vec<Listed>), AppError> {
    let organisation = crate::achievements::authoring_for(app, actor, organisation).await?;
    if !with_choices {
        return Ok((organisation, Vec::new()));
    }
    let mut found = Vec::new();
    for kind in [KindFilter::MicroCredential, KindFilter::MicroBadge] {
        let query = CatalogQuery { kind: Some(kind), limit: MAX_CHOICES, ..Default::default() };
        found.extend(app.store.search_catalog(&query).await?.items);
    }
    Ok((organisation, crate::catalog::describe(app, found).await?))
}

/// Requests from other organisations to count `organisation`'s achievements as components,
/// waiting for an owner's agreement.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` unless an owner of `organisation`.
pub async fn component_requests(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<ComponentRequest>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::AgreeToComponents))?;
    Ok(app.store.component_requests(organisation).await?)
}

/// An owner of `child`'s organisation agrees that `parent` counts `child` as a component.
/// Returns the child's organisation.
///
/// # Errors
/// `NotFound` for an unknown achievement or no such request waiting; `Unauthenticated`/
/// `Forbidden` unless an owner of the child's organisation.
pub async fn agree(app: &App, actor: &Actor, parent: AchievementId, child: AchievementId) -> Result<OrganisationId, AppError> {
    let component = app.store.achievement(child).await?;
    actor.authorise(Action::Org(component.organisation, OrgAction::AgreeToComponents))?;
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    app.store.agree_to_component(parent, child, user, app.now()).await?;
    Ok(component.organisation)
}
