//! Issuer organisations in the browser: creating one, its public profile (with its DIDs), and
//! the management page (achievements, profile, image, members).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_app::invitations::{self, INVITATION_DAYS};
use cairn_app::organisations::{self, Management, Profile};
use cairn_app::stacks;
use cairn_app::urls::paths;
use cairn_core::achievement::Kind;
use cairn_core::authz::{Action, OrgAction, Role};
use cairn_core::ids::{InvitationId, OrganisationId, UserId};
use cairn_core::organisation::{Organisation, OrganisationFields, OrganisationKind};

use super::accounts::role_label;
use super::catalog::{Card, cards};
use super::form::{Field, FieldErrors, SelectOption};
use super::view::StateBadge;
use super::{ConfirmPage, Layout, confirmed, excerpt, human_date, image_upload, render, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/new", get(new_issuer_form).post(create_issuer))
        .route("/issuers/{id}", get(issuer_profile))
        .route("/issuers/{id}/manage", get(manage))
        .route("/issuers/{id}/profile", post(update_profile))
        .route(paths::ISSUER_IMAGE, post(upload_image))
        .route("/issuers/{id}/members", post(add_member))
        .route("/issuers/{id}/members/{user_id}", post(change_member))
        .route("/issuers/{id}/invitations", post(invite))
        .route("/issuers/{id}/invitations/{invitation}/revoke", post(revoke_invitation))
}

/// Published achievements listed on an issuer's profile (the catalog pages through the rest).
const PROFILE_ACHIEVEMENTS: u32 = 60;

/// The profile fields, filled from `form` (field names match `OrganisationFields`).
fn profile_fields(form: &FormFields, errors: &FieldErrors) -> Vec<Field> {
    vec![
        Field::new("name", "Organisation name", form.get("name"))
            .required()
            .maxlength(120)
            .autocomplete("organization")
            .hint("As it should appear on every badge you issue: 2 to 120 characters."),
        Field::new("url", "Home page", form.get("url")).kind("url").required().autocomplete("url").hint("An http(s) address, such as https://example.edu."),
        Field::new("email", "Contact e-mail address", form.get("email")).kind("email").autocomplete("email").hint("Optional; shown on your public profile."),
        Field::new("description", "Description", form.get("description"))
            .textarea(5)
            .maxlength(2000)
            .hint("Optional; who you are and what your credentials mean, up to 2,000 characters."),
    ]
    .into_iter()
    .map(|f| f.error_from(errors))
    .collect()
}

fn profile_field(pointer: &str) -> Option<(String, String)> {
    let (id, label) = match pointer {
        "/name" => ("name", "Organisation name"),
        "/url" => ("url", "Home page"),
        "/email" => ("email", "Contact e-mail address"),
        "/description" => ("description", "Description"),
        _ => return None,
    };
    Some((id.to_string(), label.to_string()))
}

fn organisation_fields(form: &FormFields) -> OrganisationFields {
    OrganisationFields {
        name: form.get("name").to_string(),
        url: form.get("url").to_string(),
        email: form.opt("email"),
        description: Some(form.get("description").to_string()),
    }
}

/// A stored profile as form values.
fn profile_form(organisation: &Organisation) -> FormFields {
    let fields = organisation.profile.to_fields();
    FormFields(vec![
        ("name".into(), fields.name),
        ("url".into(), fields.url),
        ("email".into(), fields.email.unwrap_or_default()),
        ("description".into(), fields.description.unwrap_or_default()),
    ])
}

/// Errors from a profile write: field rules, and a taken name (a conflict) shown at the name.
fn profile_errors(problem: &Problem) -> Option<FieldErrors> {
    match problem.status {
        StatusCode::UNPROCESSABLE_ENTITY => Some(FieldErrors::place(&problem.errors, profile_field)),
        StatusCode::CONFLICT => {
            let mut errors = FieldErrors::default();
            errors.add(profile_field("/name"), &problem.detail);
            Some(errors)
        }
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "issuer_new.html")]
struct NewIssuerPage {
    layout: Layout,
    fields: Vec<Field>,
    errors: FieldErrors,
}

async fn new_issuer_form(viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/issuers/new"));
    }
    organisations::may_create(&viewer.actor)?;
    let errors = FieldErrors::default();
    render(&NewIssuerPage { layout: Layout::new(&viewer, &csrf, None), fields: profile_fields(&FormFields::default(), &errors), errors })
}

async fn create_issuer(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, form: FormFields) -> Result<Response, Problem> {
    let kind = OrganisationKind::parse(form.get("kind")).map_err(|detail| Problem::invalid_field("/kind", detail))?;
    match organisations::create(&state.app, &viewer.actor, &organisation_fields(&form), kind).await.map_err(Problem::from) {
        Ok(organisation) if organisation.kind == OrganisationKind::Employer => Ok(see_other_with("/talent", "organisation-created")),
        Ok(organisation) => Ok(see_other_with(&format!("/issuers/{}/manage", organisation.id), "organisation-created")),
        Err(problem) => match profile_errors(&problem) {
            Some(errors) => {
                let page = NewIssuerPage { layout: Layout::new(&viewer, &csrf, None), fields: profile_fields(&form, &errors), errors };
                render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            None => Err(problem),
        },
    }
}

#[derive(Template)]
#[template(path = "issuer.html")]
struct IssuerPage {
    layout: Layout,
    name: String,
    description: String,
    meta_description: String,
    url: String,
    email: Option<String>,
    image_url: String,
    og_image: String,
    og_url: String,
    cards: Vec<Card>,
    total: u64,
    catalog_href: String,
    did_web: String,
    did_web_document: String,
    did_key: String,
    manage_href: Option<String>,
    since: String,
}

async fn issuer_profile(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let Profile { organisation, published, did_web, did_key } = organisations::profile(&state.app, id, PROFILE_ACHIEVEMENTS).await?;
    let profile = &organisation.profile;
    let description = if profile.description.is_empty() {
        format!("{} issues verifiable micro-credentials on Cairn.", profile.name)
    } else {
        excerpt(&profile.description, 200)
    };
    render(&IssuerPage {
        layout: Layout::new(&viewer, &csrf, None),
        name: profile.name.clone(),
        description: profile.description.clone(),
        meta_description: description,
        url: profile.url.clone(),
        email: profile.email.as_ref().map(|e| e.to_string()),
        image_url: format!("/issuers/{id}/image"),
        og_image: state.app.config.url(&format!("/issuers/{id}/image")),
        og_url: state.app.config.url(&format!("/issuers/{id}")),
        cards: cards(&published.items, std::slice::from_ref(&organisation)),
        total: published.total,
        catalog_href: format!("/catalog?issuer={id}"),
        did_web,
        did_web_document: format!("/issuers/{id}/did.json"),
        did_key,
        manage_href: viewer.actor.can(Action::Org(id, OrgAction::ViewDrafts)).then(|| format!("/issuers/{id}/manage")),
        since: human_date(organisation.created_at),
    })
}

#[derive(Debug, Clone)]
struct ManagedAchievement {
    name: String,
    href: String,
    edit_href: Option<String>,
    kind_label: String,
    is_level: bool,
    state: StateBadge,
    version: u32,
    updated: String,
    publish_action: Option<String>,
    retire_action: Option<String>,
}

#[derive(Debug, Clone)]
struct MemberRow {
    name: String,
    email: Option<String>,
    role: &'static str,
    is_you: bool,
    /// The role select and its form action, for those who manage members.
    change: Option<(Field, String)>,
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    layout: Layout,
    name: String,
    profile_href: String,
    manage_path: String,
    achievements: Vec<ManagedAchievement>,
    new_badge_href: Option<String>,
    new_credential_href: Option<String>,
    new_composed_href: Option<String>,
    new_certificate_href: Option<String>,
    /// Other organisations' requests to count this one's achievements (owners only).
    component_requests: Option<Vec<ComponentRequestRow>>,
    /// The profile form (owners only).
    profile: Option<Vec<Field>>,
    profile_errors: FieldErrors,
    profile_action: String,
    image_action: String,
    image_url: String,
    members: Vec<MemberRow>,
    /// The add-member form (owners only).
    add_member: Option<(Field, Field)>,
    member_errors: FieldErrors,
    members_action: String,
    /// The invitation form (owners only), its errors, and the invitations sent.
    invite: Option<(Field, Field)>,
    invite_errors: FieldErrors,
    invite_action: String,
    invitations: Vec<InvitationRow>,
    csrf: String,
}

/// Another organisation's certificate asking to count one of this organisation's achievements.
#[derive(Debug, Clone)]
struct ComponentRequestRow {
    certificate: String,
    certificate_href: String,
    asking: String,
    component: String,
    component_href: String,
    requested: String,
    agree_action: String,
}

#[derive(Debug, Clone)]
struct InvitationRow {
    email: String,
    role: &'static str,
    state: &'static str,
    expires: String,
    /// The revoke form's action, while the invitation is pending.
    revoke_action: Option<String>,
}

/// Forms on the management page, as typed, with their errors (after a failed POST).
#[derive(Default)]
struct ManageForms {
    profile: Option<(FormFields, FieldErrors)>,
    member: Option<(FormFields, FieldErrors)>,
    invite: Option<(FormFields, FieldErrors)>,
}

fn role_options(current: &str, with_remove: bool) -> Vec<SelectOption> {
    let mut pairs = vec![("owner", "Owner"), ("staff", "Staff"), ("assessor", "Assessor")];
    if with_remove {
        pairs.push(("remove", "Remove from organisation"));
    }
    SelectOption::list(&pairs, current)
}

async fn manage_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    id: OrganisationId,
    notice: Option<&str>,
    forms: ManageForms,
) -> Result<ManagePage, Problem> {
    let Management { organisation, achievements, members } = organisations::management(&state.app, &viewer.actor, id).await?;
    let actor = &viewer.actor;
    let can = |action| actor.can(Action::Org(id, action));
    let (can_author, can_publish, can_edit_profile, can_manage_members) =
        (can(OrgAction::Author), can(OrgAction::Publish), can(OrgAction::EditProfile), can(OrgAction::ManageMembers));
    let manage_path = format!("/issuers/{id}/manage");
    let achievements = achievements
        .iter()
        .map(|a| {
            let is_level = matches!(a.kind, Kind::Level(_));
            ManagedAchievement {
                name: a.content.name.clone(),
                href: format!("/achievements/{}", a.id),
                edit_href: (can_author && a.edit_mode().is_ok()).then(|| format!("/achievements/{}/edit", a.id)),
                kind_label: a.kind.label(),
                is_level,
                state: StateBadge::new(a.state),
                version: a.version,
                updated: human_date(a.updated_at),
                publish_action: (can_publish && a.publish().is_ok()).then(|| format!("/achievements/{}/publish", a.id)),
                retire_action: (can_publish && a.retire().is_ok()).then(|| format!("/achievements/{}/retire", a.id)),
            }
        })
        .collect();
    let you = viewer.user.as_ref().map(|u| u.id);
    let members = members
        .into_iter()
        .map(|m| {
            let user: UserId = m.user;
            MemberRow {
                name: m.name.clone(),
                email: can_manage_members.then(|| m.email.to_string()),
                role: role_label(m.role),
                is_you: you == Some(user),
                change: can_manage_members.then(|| {
                    let field = Field::new(format!("role-{user}"), format!("Role of {}", m.name), m.role.as_str())
                        .name("role")
                        .select(role_options(m.role.as_str(), true))
                        .hidden_label();
                    (field, format!("/issuers/{id}/members/{user}"))
                }),
            }
        })
        .collect();
    let (profile_values, profile_errors) = match forms.profile {
        Some(typed) => typed,
        None => (profile_form(&organisation), FieldErrors::default()),
    };
    let (member_values, member_errors) = forms.member.unwrap_or_default();
    let add_member = can_manage_members.then(|| {
        let role = member_values.opt("role").unwrap_or_else(|| Role::Staff.as_str().to_string());
        (
            Field::new("member_email", "E-mail address", member_values.get("email"))
                .name("email")
                .kind("email")
                .required()
                .hint("Someone with a Cairn account; invite anyone else by e-mail below.")
                .error_from(&member_errors),
            Field::new("member_role", "Role", role.clone()).name("role").select(role_options(&role, false)).error_from(&member_errors),
        )
    });
    let (invite_values, invite_errors) = forms.invite.unwrap_or_default();
    let invite = can_manage_members.then(|| {
        let role = invite_values.opt("role").unwrap_or_else(|| Role::Assessor.as_str().to_string());
        (
            Field::new("invite_email", "E-mail address", invite_values.get("email"))
                .name("email")
                .kind("email")
                .required()
                .hint(format!("We e-mail them a link that works once, for {INVITATION_DAYS} days. Without an account, they create one when they accept."))
                .error_from(&invite_errors),
            Field::new("invite_role", "Role", role.clone()).name("role").select(role_options(&role, false)).error_from(&invite_errors),
        )
    });
    let component_requests = if can(OrgAction::AgreeToComponents) {
        let requests = stacks::component_requests(&state.app, &viewer.actor, id).await?;
        Some(
            requests
                .into_iter()
                .map(|r| ComponentRequestRow {
                    certificate: r.parent.content.name.clone(),
                    certificate_href: format!("/achievements/{}", r.parent.id),
                    asking: r.parent_organisation.clone(),
                    component: r.child.content.name.clone(),
                    component_href: format!("/achievements/{}", r.child.id),
                    requested: human_date(r.requested_at),
                    agree_action: format!("/achievements/{}/components/{}/agreement", r.parent.id, r.child.id),
                })
                .collect(),
        )
    } else {
        None
    };
    let now = state.app.now();
    let invitations = if can_manage_members {
        invitations::list(&state.app, &viewer.actor, id)
            .await?
            .into_iter()
            .filter(|i| i.accepted_at.is_none())
            .map(|i| InvitationRow {
                email: i.email.to_string(),
                role: role_label(i.role),
                state: if i.revoked_at.is_some() {
                    "Revoked"
                } else if i.live(now) {
                    "Waiting"
                } else {
                    "Expired"
                },
                expires: human_date(i.expires_at),
                revoke_action: i.live(now).then(|| format!("/issuers/{id}/invitations/{}/revoke", i.id)),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ManagePage {
        invite,
        invite_errors,
        invite_action: format!("/issuers/{id}/invitations"),
        invitations,
        layout: Layout::new(viewer, csrf, notice),
        name: organisation.profile.name.clone(),
        profile_href: format!("/issuers/{id}"),
        manage_path,
        achievements,
        new_badge_href: can_author.then(|| format!("/issuers/{id}/achievements/new?kind=micro-badge")),
        new_credential_href: can_author.then(|| format!("/issuers/{id}/achievements/new?kind=micro-credential")),
        new_composed_href: can_author.then(|| format!("/issuers/{id}/achievements/new?kind=composed")),
        new_certificate_href: can_author.then(|| format!("/issuers/{id}/achievements/new?kind=certificate")),
        component_requests,
        profile: can_edit_profile.then(|| profile_fields(&profile_values, &profile_errors)),
        profile_errors,
        profile_action: format!("/issuers/{id}/profile"),
        image_action: format!("/issuers/{id}/image"),
        image_url: format!("/issuers/{id}/image"),
        members,
        add_member,
        member_errors,
        members_action: format!("/issuers/{id}/members"),
        csrf: csrf.0.clone(),
    })
}

async fn manage(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/manage")));
    }
    render(&manage_page(&state, &viewer, &csrf, id, None, ManageForms::default()).await?)
}

async fn update_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    match organisations::update(&state.app, &viewer.actor, id, &organisation_fields(&form), None).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/manage"), "profile-saved")),
        Err(problem) => match profile_errors(&problem) {
            Some(errors) => {
                let forms = ManageForms { profile: Some((form, errors)), ..ManageForms::default() };
                render_status(StatusCode::UNPROCESSABLE_ENTITY, &manage_page(&state, &viewer, &csrf, id, None, forms).await?)
            }
            None => Err(problem),
        },
    }
}

async fn upload_image(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, request: Request) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let (bytes, declared) = image_upload(&csrf, request).await?;
    organisations::set_image(&state.app, &viewer.actor, id, &bytes, declared.as_deref()).await?;
    Ok(see_other_with(&format!("/issuers/{id}/manage"), "image-saved"))
}

fn member_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/email" => Some(("member_email".into(), "E-mail address".into())),
        "/role" => Some(("member_role".into(), "Role".into())),
        _ => None,
    }
}

async fn add_member(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    match organisations::add_member(&state.app, &viewer.actor, id, form.get("email"), form.get("role")).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/manage"), "member-added")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let errors = FieldErrors::from_problem(&problem, member_field, Some("/email"));
            let forms = ManageForms { member: Some((form, errors)), ..ManageForms::default() };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &manage_page(&state, &viewer, &csrf, id, None, forms).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn change_member(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path((raw, raw_user)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let user: UserId = path_id(&raw_user, "member")?;
    let role = form.get("role").trim();
    let (role, notice) = match role {
        "" | "remove" => (None, "member-removed"),
        other => (Some(other), "member-updated"),
    };
    if role.is_none() && !confirmed(&form) {
        let member = organisations::removable_member(&state.app, &viewer.actor, id, user).await?;
        let organisation = organisations::get(&state.app, id).await?.profile.name;
        let yourself = viewer.user.as_ref().map(|u| u.id) == Some(user);
        let who = if yourself { "You".to_string() } else { member.name.clone() };
        let mut consequences = vec![
            format!("{who} can no longer see {organisation}'s drafts, dashboard or assessment queue."),
            "Awards and assessments already made stay as they are.".to_string(),
            "They can be added or invited again later.".to_string(),
        ];
        if yourself {
            consequences.push("You leave this page: only another owner can add you back.".to_string());
        }
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: if yourself { format!("Leave {organisation}?") } else { format!("Remove {} from {organisation}?", member.name) },
            lead: format!("{} is {} of {organisation}.", who, cairn_app::invitations::role_words(member.role)),
            consequences,
            action: format!("/issuers/{id}/members/{user}"),
            hidden: vec![("role".into(), "remove".into())],
            fields: Vec::new(),
            errors: FieldErrors::default(),
            publish_reason: None,
            button: if yourself { "Leave the organisation".into() } else { "Remove the member".into() },
            cancel: format!("/issuers/{id}/manage"),
        });
    }
    organisations::set_member_role(&state.app, &viewer.actor, id, user, role).await?;
    // Someone who removed themselves can no longer see the management page.
    let still_member = role.is_some() || viewer.user.as_ref().map(|u| u.id) != Some(user);
    if still_member { Ok(see_other_with(&format!("/issuers/{id}/manage"), notice)) } else { Ok(see_other_with("/dashboard", notice)) }
}

fn invite_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/email" => Some(("invite_email".into(), "E-mail address".into())),
        "/role" => Some(("invite_role".into(), "Role".into())),
        _ => None,
    }
}

/// Invites an e-mail address to join; the form comes back with its errors.
async fn invite(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    match invitations::invite(&state.app, &viewer.actor, id, form.get("email"), form.get("role")).await.map_err(Problem::from) {
        Ok(_) => Ok(see_other_with(&format!("/issuers/{id}/manage"), "invitation-sent")),
        Err(problem) if matches!(problem.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let errors = FieldErrors::from_problem(&problem, invite_field, Some("/email"));
            let forms = ManageForms { invite: Some((form, errors)), ..ManageForms::default() };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &manage_page(&state, &viewer, &csrf, id, None, forms).await?)
        }
        Err(problem) => Err(problem),
    }
}

async fn revoke_invitation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((raw, raw_invitation)): Path<(String, String)>,
    _form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let invitation: InvitationId = path_id(&raw_invitation, "invitation")?;
    invitations::revoke(&state.app, &viewer.actor, id, invitation).await?;
    Ok(see_other_with(&format!("/issuers/{id}/manage"), "invitation-revoked"))
}
