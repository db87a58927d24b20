//! The operations pages and the JSON API share: authorise through `cairn_core::authz`, apply the
//! domain rules, store. Handlers parse their own input shape, call one of these, and render.

use cairn_core::account::{Email, NewAccount, SignUpFields};
use cairn_core::achievement::{Achievement, AchievementContent, AchievementFields, ImageRef, Kind, NewAchievement, NewAchievementFields, State};
use cairn_core::authz::{Action, Actor, OrgAction, Role};
use cairn_core::ids::{AchievementId, OrganisationId, UserId};
use cairn_core::image::{ImageType, accept_badge_image, default_badge_svg};
use cairn_core::organisation::{Organisation, OrganisationFields, OrganisationProfile};
use cairn_store::{Member, StoreError, User};

use crate::problem::Problem;
use crate::state::AppState;

/// Creates an account.
///
/// # Errors
/// 422 for broken field rules, 409 when the e-mail is taken.
pub async fn sign_up(state: &AppState, fields: SignUpFields) -> Result<User, Problem> {
    let account = NewAccount::parse(fields)?;
    match state.app.store.create_user(&account, state.app.now()).await {
        Err(StoreError::Conflict { detail, .. }) => Err(Problem::invalid_field("/email", detail)),
        other => Ok(other?),
    }
}

/// The account for an e-mail and password.
///
/// # Errors
/// 401 with one message whether the e-mail is unknown or the password wrong.
pub async fn log_in(state: &AppState, email: &str, password: &str) -> Result<User, Problem> {
    let wrong = || Problem::new(axum::http::StatusCode::UNAUTHORIZED, "unauthenticated", "the e-mail address or password is wrong");
    let email = Email::parse(email).map_err(|_| wrong())?;
    if password.len() > cairn_core::account::MAX_PASSWORD_CHARS * 4 {
        return Err(wrong());
    }
    state.app.store.authenticate(&email, password).await?.ok_or_else(wrong)
}

/// Creates an issuer organisation owned by the actor.
///
/// # Errors
/// 401 anonymous, 422 broken rules, 409 duplicate name.
pub async fn create_organisation(state: &AppState, actor: &Actor, fields: &OrganisationFields) -> Result<Organisation, Problem> {
    actor.authorise(Action::CreateOrganisation)?;
    let owner = actor.user.ok_or_else(Problem::unauthenticated)?;
    let profile = OrganisationProfile::parse(fields)?;
    Ok(state.app.store.create_organisation(&profile, owner, state.app.now()).await?)
}

/// Replaces an organisation's profile, keeping its image.
///
/// # Errors
/// 401/403, 404, 422, 409 duplicate name.
pub async fn update_organisation(state: &AppState, actor: &Actor, id: OrganisationId, fields: &OrganisationFields) -> Result<Organisation, Problem> {
    actor.authorise(Action::Org(id, OrgAction::EditProfile))?;
    let current = state.app.store.organisation(id).await?;
    let mut profile = OrganisationProfile::parse(fields)?;
    profile.image = current.profile.image;
    Ok(state.app.store.update_organisation(id, &profile, state.app.now()).await?)
}

/// Checks and stores an uploaded badge image.
async fn store_image(state: &AppState, bytes: &[u8], declared: Option<&str>) -> Result<ImageRef, Problem> {
    let (image_type, clean) = accept_badge_image(bytes, declared).map_err(image_problem)?;
    let key = state.app.store.blobs().put("images", image_type.extension(), clean).await?;
    Ok(ImageRef { key, image_type })
}

fn image_problem(error: cairn_core::image::ImageError) -> Problem {
    use cairn_core::image::ImageError;
    match error {
        ImageError::TooLarge { .. } => Problem::too_large(error.to_string()),
        ImageError::UnknownType | ImageError::TypeMismatch { .. } => Problem::unsupported_media_type(error.to_string()),
        other => Problem::invalid_field("/image", other.to_string()),
    }
}

/// Sets an organisation's image.
///
/// # Errors
/// 401/403, 404, 413/415/422 for a bad image.
pub async fn set_organisation_image(
    state: &AppState,
    actor: &Actor,
    id: OrganisationId,
    bytes: &[u8],
    declared: Option<&str>,
) -> Result<Organisation, Problem> {
    actor.authorise(Action::Org(id, OrgAction::EditProfile))?;
    let mut profile = state.app.store.organisation(id).await?.profile;
    profile.image = Some(store_image(state, bytes, declared).await?);
    Ok(state.app.store.update_organisation(id, &profile, state.app.now()).await?)
}

/// Adds a member by e-mail.
///
/// # Errors
/// 401/403, 422 unknown e-mail or role, 409 already a member.
pub async fn add_member(state: &AppState, actor: &Actor, id: OrganisationId, email: &str, role: &str) -> Result<Member, Problem> {
    actor.authorise(Action::Org(id, OrgAction::ManageMembers))?;
    let email = Email::parse(email).map_err(|m| Problem::invalid_field("/email", m))?;
    let role = Role::parse(role).map_err(|m| Problem::invalid_field("/role", m))?;
    match state.app.store.add_member(id, &email, role, state.app.now()).await {
        Err(StoreError::NotFound { .. }) => Err(Problem::invalid_field("/email", format!("no account uses \"{email}\"; ask them to sign up first"))),
        other => Ok(other?),
    }
}

/// Changes a member's role or removes them (`role` empty or `remove`).
///
/// # Errors
/// 401/403, 404 not a member, 409 last owner.
pub async fn set_member_role(state: &AppState, actor: &Actor, id: OrganisationId, user: UserId, role: Option<&str>) -> Result<(), Problem> {
    actor.authorise(Action::Org(id, OrgAction::ManageMembers))?;
    let role = role.map(|r| Role::parse(r).map_err(|m| Problem::invalid_field("/role", m))).transpose()?;
    Ok(state.app.store.set_member_role(id, user, role).await?)
}

/// Whether the actor may see an achievement: published (or retired, whose awards still point to
/// it) to everyone; drafts to the organisation's members.
pub fn can_view(actor: &Actor, achievement: &Achievement) -> bool {
    achievement.state != State::Draft || actor.can(Action::Org(achievement.organisation, OrgAction::ViewDrafts))
}

/// One achievement, if the actor may see it.
///
/// # Errors
/// 404 when it does not exist or is a draft of another organisation.
pub async fn view_achievement(state: &AppState, actor: &Actor, id: AchievementId) -> Result<Achievement, Problem> {
    let achievement = state.app.store.achievement(id).await?;
    if can_view(actor, &achievement) { Ok(achievement) } else { Err(Problem::not_found(format!("achievement \"{id}\" not found"))) }
}

/// Creates a draft micro-badge or micro-credential (with its three levels).
///
/// # Errors
/// 401/403, 404 organisation, 422 broken rules, 409 duplicate name.
pub async fn create_achievement(state: &AppState, actor: &Actor, organisation: OrganisationId, fields: &NewAchievementFields) -> Result<Achievement, Problem> {
    actor.authorise(Action::Org(organisation, OrgAction::Author))?;
    let author = actor.user.ok_or_else(Problem::unauthenticated)?;
    state.app.store.organisation(organisation).await?;
    let new = NewAchievement::parse(fields)?;
    Ok(state.app.store.create_achievement(organisation, &new, author, state.app.now()).await?)
}

/// Edits an achievement: in place while a draft, as a new version once published.
///
/// # Errors
/// 401/403, 404, 409 retired or duplicate name, 422 broken rules.
pub async fn update_achievement(state: &AppState, actor: &Actor, id: AchievementId, fields: &AchievementFields) -> Result<Achievement, Problem> {
    let current = view_achievement(state, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Author))?;
    let author = actor.user.ok_or_else(Problem::unauthenticated)?;
    let mode = current.edit_mode()?;
    let mut content = AchievementContent::parse(fields, current.kind)?;
    content.image = current.content.image.clone();
    if content == current.content {
        return Ok(current);
    }
    Ok(state.app.store.update_achievement(id, &content, mode, author, state.app.now()).await?)
}

/// Replaces an achievement's image (a new version once published).
///
/// # Errors
/// 401/403, 404, 409 retired, 413/415/422 bad image.
pub async fn set_achievement_image(state: &AppState, actor: &Actor, id: AchievementId, bytes: &[u8], declared: Option<&str>) -> Result<Achievement, Problem> {
    let current = view_achievement(state, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Author))?;
    let author = actor.user.ok_or_else(Problem::unauthenticated)?;
    let mode = current.edit_mode()?;
    let image = store_image(state, bytes, declared).await?;
    let mut content = current.content.clone();
    content.image = Some(image);
    Ok(state.app.store.update_achievement(id, &content, mode, author, state.app.now()).await?)
}

/// Publishes (or re-publishes) an achievement; a micro-credential's levels go with it.
///
/// # Errors
/// 401/403, 404, 409 wrong state or a level.
pub async fn publish(state: &AppState, actor: &Actor, id: AchievementId) -> Result<Achievement, Problem> {
    let current = view_achievement(state, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Publish))?;
    let next = current.publish()?;
    Ok(state.app.store.set_achievement_state(id, next, state.app.now()).await?)
}

/// Retires a published achievement (awards stay valid); its levels go with it.
///
/// # Errors
/// 401/403, 404, 409 wrong state or a level.
pub async fn retire(state: &AppState, actor: &Actor, id: AchievementId) -> Result<Achievement, Problem> {
    let current = view_achievement(state, actor, id).await?;
    actor.authorise(Action::Org(current.organisation, OrgAction::Publish))?;
    let next = current.retire()?;
    Ok(state.app.store.set_achievement_state(id, next, state.app.now()).await?)
}

/// An achievement's image bytes and media type: the upload, or the generated default.
///
/// # Errors
/// 404 when the achievement is not visible or its blob is missing.
pub async fn achievement_image(state: &AppState, actor: &Actor, id: AchievementId) -> Result<(ImageType, Vec<u8>), Problem> {
    let achievement = view_achievement(state, actor, id).await?;
    match &achievement.content.image {
        Some(image) => Ok((image.image_type, state.app.store.blobs().get(&image.key).await?)),
        None => {
            let organisation = state.app.store.organisation(achievement.organisation).await?;
            let level = match achievement.kind {
                Kind::Level(n) => Some(n),
                _ => None,
            };
            Ok((ImageType::Svg, default_badge_svg(&achievement.content.name, level, &organisation.profile.name).into_bytes()))
        }
    }
}

/// The micro-credential a level belongs to, and its levels (for pages and API responses).
///
/// # Errors
/// Store failures.
pub async fn levels_of(state: &AppState, achievement: &Achievement) -> Result<Vec<Achievement>, Problem> {
    if achievement.kind == Kind::MicroCredential { Ok(state.app.store.levels(achievement.id).await?) } else { Ok(Vec::new()) }
}

/// Creates an API token for the actor; returns it with its secret (shown once).
///
/// # Errors
/// 401 anonymous, 422 for a bad name.
pub async fn create_api_token(state: &AppState, actor: &Actor, name: &str) -> Result<(cairn_store::ApiToken, String), Problem> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or_else(Problem::unauthenticated)?;
    let name = cairn_core::account::token_name(name).map_err(|m| Problem::invalid_field("/name", m))?;
    Ok(state.app.store.create_api_token(user, &name, state.app.now()).await?)
}

/// Revokes one of the actor's API tokens.
///
/// # Errors
/// 401 anonymous, 404 when the token is not theirs.
pub async fn revoke_api_token(state: &AppState, actor: &Actor, id: cairn_core::ids::TokenId) -> Result<(), Problem> {
    actor.authorise(Action::ManageOwnTokens)?;
    let user = actor.user.ok_or_else(Problem::unauthenticated)?;
    Ok(state.app.store.revoke_api_token(user, id, state.app.now()).await?)
}
