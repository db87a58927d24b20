//! Issuer organisations: creating one, its profile and image, its members and their roles, the
//! public profile with its DIDs, the management view, and the DID document that names its key.

use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, ImageRef};
use cairn_core::authz::{Action, Actor, OrgAction, Role};
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::image::{BadgeArt, ImageType, default_badge_svg};
use cairn_core::organisation::{Organisation, OrganisationFields, OrganisationKind, OrganisationProfile};
use cairn_store::{CatalogPage, CatalogQuery, Member, StoreError};
use serde_json::Value;

use crate::achievements::store_image;
use crate::config::Config;
use crate::{App, AppError};

/// Every issuer, for the catalog's filters and the API.
///
/// # Errors
/// Store failures.
pub async fn list(app: &App) -> Result<Vec<Organisation>, AppError> {
    Ok(app.store.organisations().await?)
}

/// One issuer's public profile.
///
/// # Errors
/// `NotFound`.
pub async fn get(app: &App, id: OrganisationId) -> Result<Organisation, AppError> {
    Ok(app.store.organisation(id).await?)
}

/// Creates an organisation of `kind` (an issuer, or an employer) owned by the actor.
///
/// # Errors
/// `Unauthenticated` for visitors, `Invalid` for broken rules, `Conflict` for a taken name.
pub async fn create(app: &App, actor: &Actor, fields: &OrganisationFields, kind: OrganisationKind) -> Result<Organisation, AppError> {
    actor.authorise(Action::CreateOrganisation)?;
    let owner = actor.user.ok_or(AppError::Unauthenticated)?;
    let profile = OrganisationProfile::parse(fields)?;
    Ok(app.store.create_organisation(&profile, kind, owner, app.now()).await?)
}

/// Whether the actor may create an organisation (the form is shown only to them).
///
/// # Errors
/// `Unauthenticated` for visitors.
pub fn may_create(actor: &Actor) -> Result<(), AppError> {
    Ok(actor.authorise(Action::CreateOrganisation)?)
}

/// Replaces an organisation's profile, keeping its image and its kind (`kind`, when given, must
/// be the one it has).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `Invalid` (`/kind` for another kind), `Conflict`
/// for a taken name.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: OrganisationId,
    fields: &OrganisationFields,
    kind: Option<OrganisationKind>,
) -> Result<Organisation, AppError> {
    actor.authorise(Action::Org(id, OrgAction::EditProfile))?;
    let current = app.store.organisation(id).await?;
    if kind.is_some_and(|kind| kind != current.kind) {
        return Err(AppError::invalid_field("/kind", format!("an organisation stays the kind it was created as ({})", current.kind.as_str())));
    }
    let mut profile = OrganisationProfile::parse(fields)?;
    profile.image = current.profile.image;
    Ok(app.store.update_organisation(id, &profile, app.now()).await?)
}

/// Whether the actor may edit the organisation's profile: checked before an upload is read.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub fn may_edit_profile(actor: &Actor, id: OrganisationId) -> Result<(), AppError> {
    Ok(actor.authorise(Action::Org(id, OrgAction::EditProfile))?)
}

/// Sets an organisation's image (PNG or SVG, checked and cleaned).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`, `TooLarge`/`UnsupportedMediaType`/`Invalid` for a
/// bad image.
pub async fn set_image(app: &App, actor: &Actor, id: OrganisationId, bytes: &[u8], declared: Option<&str>) -> Result<Organisation, AppError> {
    actor.authorise(Action::Org(id, OrgAction::EditProfile))?;
    let mut profile = app.store.organisation(id).await?.profile;
    profile.image = Some(store_image(app, bytes, declared).await?);
    Ok(app.store.update_organisation(id, &profile, app.now()).await?)
}

/// An organisation's image: the upload, or a badge generated from its name.
///
/// # Errors
/// `NotFound`.
pub async fn image(app: &App, id: OrganisationId) -> Result<(ImageType, Vec<u8>), AppError> {
    let organisation = app.store.organisation(id).await?;
    match organisation.profile.image {
        Some(ImageRef { key, image_type }) => Ok((image_type, app.store.blobs().get(&key).await?)),
        None => Ok((ImageType::Svg, default_badge_svg(&organisation.profile.name, BadgeArt::Issuer, &organisation.profile.name).into_bytes())),
    }
}

/// The organisation's members (members only).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`.
pub async fn members(app: &App, actor: &Actor, id: OrganisationId) -> Result<Vec<Member>, AppError> {
    actor.authorise(Action::Org(id, OrgAction::ViewDrafts))?;
    Ok(app.store.members(id).await?)
}

/// Adds a member by e-mail.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `Invalid` for an unknown e-mail or role, `Conflict` when they
/// are a member already.
pub async fn add_member(app: &App, actor: &Actor, id: OrganisationId, email: &str, role: &str) -> Result<Member, AppError> {
    actor.authorise(Action::Org(id, OrgAction::ManageMembers))?;
    let email = Email::parse(email).map_err(|m| AppError::invalid_field("/email", m))?;
    let role = Role::parse(role).map_err(|m| AppError::invalid_field("/role", m))?;
    match app.store.add_member(id, &email, role, app.now()).await {
        Err(StoreError::NotFound { .. }) => Err(AppError::invalid_field("/email", format!("no account uses \"{email}\"; ask them to sign up first"))),
        other => Ok(other?),
    }
}

/// Changes a member's role, or removes them (`role` `None`).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `Invalid` role, `NotFound` not a member, `Conflict` for the
/// last owner.
pub async fn set_member_role(app: &App, actor: &Actor, id: OrganisationId, user: UserId, role: Option<&str>) -> Result<(), AppError> {
    actor.authorise(Action::Org(id, OrgAction::ManageMembers))?;
    let role = role.map(|r| Role::parse(r).map_err(|m| AppError::invalid_field("/role", m))).transpose()?;
    Ok(app.store.set_member_role(id, user, role).await?)
}

/// A member the actor may remove (for the page that asks for confirmation first).
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageMembers`; `NotFound` for someone who is not a
/// member.
pub async fn removable_member(app: &App, actor: &Actor, id: OrganisationId, user: UserId) -> Result<Member, AppError> {
    actor.authorise(Action::Org(id, OrgAction::ManageMembers))?;
    app.store.members(id).await?.into_iter().find(|m| m.user == user).ok_or_else(|| AppError::NotFound("this person is not a member".into()))
}

/// Every achievement of the organisation, drafts and retired ones included (members only).
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`.
pub async fn achievements(app: &App, actor: &Actor, id: OrganisationId) -> Result<(Organisation, Vec<crate::catalog::Listed>), AppError> {
    actor.authorise(Action::Org(id, OrgAction::ViewDrafts))?;
    let organisation = app.store.organisation(id).await?;
    let all = app.store.organisation_achievements(id).await?;
    Ok((organisation, crate::catalog::describe(app, all).await?))
}

/// What an issuer's public profile shows.
#[derive(Debug, Clone)]
pub struct Profile {
    pub organisation: Organisation,
    /// Its published achievements, newest first, up to the limit asked for.
    pub published: CatalogPage,
    /// The `did:web` its credentials are signed as.
    pub did_web: String,
    /// The same key as a `did:key`.
    pub did_key: String,
}

/// An issuer's public profile with up to `limit` of its published achievements.
///
/// # Errors
/// `NotFound`.
pub async fn profile(app: &App, id: OrganisationId, limit: u32) -> Result<Profile, AppError> {
    let organisation = app.store.organisation(id).await?;
    let published = app.store.search_catalog(&CatalogQuery { issuer: Some(id), limit, ..Default::default() }).await?;
    Ok(Profile {
        did_web: crate::awards::issuer_did(&app.config, id),
        did_key: cairn_vc::did::did_key(&organisation.public_key_multibase),
        organisation,
        published,
    })
}

/// What the organisation's management page shows (members only).
#[derive(Debug, Clone)]
pub struct Management {
    pub organisation: Organisation,
    pub achievements: Vec<Achievement>,
    pub members: Vec<Member>,
}

/// The management view: every achievement and every member.
///
/// # Errors
/// `Unauthenticated`/`Forbidden`, `NotFound`.
pub async fn management(app: &App, actor: &Actor, id: OrganisationId) -> Result<Management, AppError> {
    actor.authorise(Action::Org(id, OrgAction::ViewDrafts))?;
    let organisation = app.store.organisation(id).await?;
    let achievements = app.store.organisation_achievements(id).await?;
    let members = app.store.members(id).await?;
    Ok(Management { organisation, achievements, members })
}

/// The issuer's DID document (`did:web:<host>:issuers:<id>`): its one Ed25519 key, also known as
/// its `did:key`. Public keys only.
///
/// # Errors
/// `NotFound`.
pub async fn did_document(app: &App, id: OrganisationId) -> Result<Value, AppError> {
    let organisation = app.store.organisation(id).await?;
    Ok(did_document_of(&app.config, &organisation))
}

/// The DID document of a loaded organisation.
pub(crate) fn did_document_of(config: &Config, organisation: &Organisation) -> Value {
    let did = crate::awards::issuer_did(config, organisation.id);
    let also = [cairn_vc::did::did_key(&organisation.public_key_multibase)];
    cairn_vc::did::did_document(&did, &organisation.public_key_multibase, &also)
}
