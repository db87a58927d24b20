//! Achievements and their authoring: who may see one (published to everyone, drafts to the
//! issuer's members), creating micro-badges and micro-credentials with their levels, editing in
//! place or as a new version, images, publishing and retiring, and the achievement page's data.

use cairn_core::achievement::{Achievement, AchievementContent, AchievementFields, ImageRef, Kind, NewAchievement, NewAchievementFields, State};
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_core::image::{ImageError, ImageType, MAX_IMAGE_BYTES, accept_badge_image, default_badge_svg};
use cairn_core::organisation::Organisation;

use crate::catalog::{Listed, describe};
use crate::{App, AppError};

/// Whether the actor may see an achievement: published (or retired, whose awards still point to
/// it) to everyone; drafts to the organisation's members.
pub fn can_view(actor: &Actor, achievement: &Achievement) -> bool {
    achievement.state != State::Draft || actor.can(Action::Org(achievement.organisation, OrgAction::ViewDrafts))
}

/// One achievement, if the actor may see it.
///
/// # Errors
/// `NotFound` when it does not exist or is a draft of another organisation.
pub async fn view(app: &App, actor: &Actor, id: AchievementId) -> Result<Achievement, AppError> {
    let achievement = app.store.achievement(id).await?;
    if can_view(actor, &achievement) { Ok(achievement) } else { Err(AppError::NotFound(format!("achievement \"{id}\" not found"))) }
}

/// One achievement with its issuer's name and its levels, if the actor may see it.
///
/// # Errors
/// As [`view`].
pub async fn listed(app: &App, actor: &Actor, id: AchievementId) -> Result<Listed, AppError> {
    let achievement = view(app, actor, id).await?;
    describe_one(app, achievement).await
}

/// A version of an achievement, if the actor may see the achievement.
///
/// # Errors
/// `NotFound` for an unknown achievement or version.
pub async fn version(app: &App, actor: &Actor, id: AchievementId, version: u32) -> Result<Listed, AppError> {
    view(app, actor, id).await?;
    let achievement = app.store.achievement_version(id, version).await?;
    describe_one(app, achievement).await
}

/// An achievement with its issuer's name and levels, for API responses.
///
/// # Errors
/// Store failures.
pub async fn describe_one(app: &App, achievement: Achievement) -> Result<Listed, AppError> {
    let mut all = describe(app, vec![achievement]).await?;
    all.pop().ok_or_else(|| AppError::Internal("an achievement went missing while being described".into()))
}

/// A micro-credential's levels (written inline, or the micro-badges it is composed of) or a
/// certificate's components, in order (none for other kinds).
///
/// # Errors
/// Store failures.
pub async fn levels_of(app: &App, achievement: &Achievement) -> Result<Vec<Achievement>, AppError> {
    Ok(crate::stacks::requirements(app, achievement).await?.map(|r| r.components).unwrap_or_default())
}

/// What an achievement's page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub achievement: Achievement,
    pub organisation: Organisation,
    /// A micro-credential's levels, or a certificate's components.
    pub levels: Vec<Achievement>,
    /// The micro-credential a level belongs to.
    pub parent: Option<Achievement>,
}

/// An achievement with its issuer, levels and parent, if the actor may see it.
///
/// # Errors
/// `NotFound` as [`view`], also for a level whose micro-credential the actor may not see.
pub async fn overview(app: &App, actor: &Actor, id: AchievementId) -> Result<Overview, AppError> {
    let achievement = view(app, actor, id).await?;
    let organisation = app.store.organisation(achievement.organisation).await?;
    let levels = levels_of(app, &achievement).await?;
    let parent = match (achievement.kind, achievement.parent) {
        (Kind::Level(_), Some(parent)) => Some(view(app, actor, parent).await?),
        _ => None,
    };
    Ok(Overview { achievement, organisation, levels, parent })
}

/// The organisation the actor is about to author an achievement for.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `Author`, `NotFound`.
pub async fn authoring_for(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Organisation, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::Author))?;
    Ok(app.store.organisation(organisation).await?)
}

/// An achievement the actor may edit.
///
/// # Errors
/// `NotFound` as [`view`], `Unauthenticated`/`Forbidden` without `Author`.
pub async fn editable(app: &App, actor: &Actor, id: AchievementId) -> Result<Achievement, AppError> {
    let achievement = view(app, actor, id).await?;
    actor.authorise(Action::Org(achievement.organisation, OrgAction::Author))?;
    Ok(achievement)
}

/// Creates a draft micro-badge or micro-credential (with its three levels).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound` organisation, `Invalid`, `Conflict` for a taken name.
pub async fn create(app: &App, actor: &Actor, organisation: OrganisationId, fields: &NewAchievementFields) -> Result<Achievement, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::Author))?;
    let author = actor.user.ok_or(AppError::Unauthenticated)?;
    app.store.organisation(organisation).await?;
    let new = NewAchievement::parse(fields)?;
    crate::stacks::check_new(app, actor, organisation, &new).await?;
    Ok(app.store.create_achievement(organisation, &new, author, app.now()).await?)
}

/// Edits an achievement: in place while a draft, as a new version once published. Unchanged
/// content changes nothing.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `Conflict` when retired or for a taken name,
/// `Invalid`.
pub async fn update(app: &App, actor: &Actor, id: AchievementId, fields: &AchievementFields) -> Result<Achievement, AppError> {
    let current = view(app, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Author))?;
    let author = actor.user.ok_or(AppError::Unauthenticated)?;
    let mode = current.edit_mode()?;
    let mut content = AchievementContent::parse(fields, current.kind)?;
    content.image = current.content.image.clone();
    if content == current.content {
        return Ok(current);
    }
    Ok(app.store.update_achievement(id, &content, mode, author, app.now()).await?)
}

/// Replaces an achievement's image (a new version once published).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `Conflict` when retired, `TooLarge`,
/// `UnsupportedMediaType` or `Invalid` for a bad image.
pub async fn set_image(app: &App, actor: &Actor, id: AchievementId, bytes: &[u8], declared: Option<&str>) -> Result<Achievement, AppError> {
    let current = view(app, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Author))?;
    let author = actor.user.ok_or(AppError::Unauthenticated)?;
    let mode = current.edit_mode()?;
    let image = store_image(app, bytes, declared).await?;
    let mut content = current.content.clone();
    content.image = Some(image);
    Ok(app.store.update_achievement(id, &content, mode, author, app.now()).await?)
}

/// Publishes (or re-publishes) an achievement; a micro-credential's levels go with it.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `Conflict` in the wrong state or for a level.
pub async fn publish(app: &App, actor: &Actor, id: AchievementId) -> Result<Achievement, AppError> {
    let current = view(app, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Publish))?;
    let next = current.publish()?;
    crate::stacks::check_publishable(app, &current).await?;
    Ok(app.store.set_achievement_state(id, next, app.now()).await?)
}

/// Retires a published achievement (awards stay valid); its levels go with it.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `Conflict` in the wrong state or for a level.
pub async fn retire(app: &App, actor: &Actor, id: AchievementId) -> Result<Achievement, AppError> {
    let next = retirable(app, actor, id).await?.retire()?;
    Ok(app.store.set_achievement_state(id, next, app.now()).await?)
}

/// The achievement, when the actor may retire it and it can be retired now (for the page that
/// asks for confirmation first).
///
/// # Errors
/// As [`retire`].
pub async fn retirable(app: &App, actor: &Actor, id: AchievementId) -> Result<Achievement, AppError> {
    let current = view(app, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Publish))?;
    current.retire()?;
    Ok(current)
}

/// An achievement's image bytes and media type: the upload, or the generated default.
///
/// # Errors
/// `NotFound` when the achievement is not visible or its blob is missing.
pub async fn image(app: &App, actor: &Actor, id: AchievementId) -> Result<(ImageType, Vec<u8>), AppError> {
    let achievement = view(app, actor, id).await?;
    match &achievement.content.image {
        Some(image) => Ok((image.image_type, app.store.blobs().get(&image.key).await?)),
        None => {
            let organisation = app.store.organisation(achievement.organisation).await?;
            Ok((ImageType::Svg, default_badge_svg(&achievement.content.name, achievement.kind.into(), &organisation.profile.name).into_bytes()))
        }
    }
}

/// Checks and stores an uploaded badge image. The check (a full PNG decode, or the SVG
/// sanitiser) runs on the blocking pool; the image it replaces is left for the sweep
/// (`crate::jobs::sweep_blobs`), since earlier versions or other rows may still show it.
pub(crate) async fn store_image(app: &App, bytes: &[u8], declared: Option<&str>) -> Result<ImageRef, AppError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(image_error(ImageError::TooLarge { size: bytes.len(), max: MAX_IMAGE_BYTES }));
    }
    let (bytes, declared) = (bytes.to_vec(), declared.map(str::to_string));
    let (image_type, clean) = match tokio::task::spawn_blocking(move || accept_badge_image(&bytes, declared.as_deref())).await {
        Ok(checked) => checked.map_err(image_error)?,
        Err(error) => return Err(AppError::internal(&error)),
    };
    let key = app.store.blobs().put("images", image_type.extension(), clean).await?;
    Ok(ImageRef { key, image_type })
}

fn image_error(error: ImageError) -> AppError {
    match error {
        ImageError::TooLarge { .. } => AppError::TooLarge(error.to_string()),
        ImageError::UnknownType | ImageError::TypeMismatch { .. } => AppError::UnsupportedMediaType(error.to_string()),
        other => AppError::invalid_field("/image", other.to_string()),
    }
}
