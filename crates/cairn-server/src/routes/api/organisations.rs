//! Issuer organisations over the API: profile, image, members, and their achievements.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use cairn_app::{achievements, invitations, organisations};
use cairn_core::ids::{InvitationId, OrganisationId, UserId};
use cairn_core::organisation::OrganisationFields;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiCaller;
use crate::dto::{NewAchievementInput, OrganisationInput, achievement_json, organisation_json, timestamp};
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations", get(list).post(create))
        .route("/organisations/{id}", get(show).put(update))
        .route("/organisations/{id}/image", post(set_image))
        .route("/organisations/{id}/members", get(members).post(add_member))
        .route("/organisations/{id}/members/{user_id}", put(set_role).delete(remove_member))
        .route("/organisations/{id}/achievements", get(achievements).post(create_achievement))
        .route("/organisations/{id}/component-requests", get(component_requests))
        .route("/organisations/{id}/invitations", get(list_invitations).post(invite))
        .route("/organisations/{id}/invitations/{invitation}", delete(revoke_invitation))
        .route("/invitations/{token}", post(accept_invitation))
}

fn invitation_json(invitation: &cairn_store::Invitation, now: time::OffsetDateTime) -> Value {
    let state = if invitation.accepted_at.is_some() {
        "accepted"
    } else if invitation.revoked_at.is_some() {
        "revoked"
    } else if invitation.live(now) {
        "pending"
    } else {
        "expired"
    };
    json!({
        "id": invitation.id.to_string(),
        "organisation_id": invitation.organisation.to_string(),
        "email": invitation.email.to_string(),
        "role": invitation.role.as_str(),
        "state": state,
        "created_at": timestamp(invitation.created_at),
        "expires_at": timestamp(invitation.expires_at),
        "accepted_at": invitation.accepted_at.map(timestamp),
        "revoked_at": invitation.revoked_at.map(timestamp),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvitationInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Invites an e-mail address to join in a role; the address is e-mailed a link.
async fn invite(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InvitationInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let invitation = invitations::invite(&state.app, &caller.actor, id, &input.email, &input.role).await?;
    Ok((StatusCode::CREATED, Json(invitation_json(&invitation, state.app.now()))))
}

async fn list_invitations(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let all = invitations::list(&state.app, &caller.actor, id).await?;
    let now = state.app.now();
    Ok(Json(json!({"items": all.iter().map(|i| invitation_json(i, now)).collect::<Vec<_>>()})))
}

async fn revoke_invitation(State(state): State<AppState>, caller: ApiCaller, Path((id, invitation)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let invitation: InvitationId = path_id(&invitation, "invitation")?;
    invitations::revoke(&state.app, &caller.actor, id, invitation).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptInput {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Accepts an invitation: as the caller (a bearer token for the invited address), or, without
/// one, by creating an account for the invited address with `name` and `password`.
async fn accept_invitation(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Problem> {
    // A signed-in caller may send no body at all.
    let input: AcceptInput = if body.iter().all(u8::is_ascii_whitespace) {
        AcceptInput { name: None, password: None }
    } else {
        serde_json::from_slice(&body).map_err(|error| Problem::malformed(format!("the body is not the JSON expected: {error}")))?
    };
    let (invitation, user) = if caller.user.is_some() {
        invitations::accept(&state.app, &caller.actor, &token).await?
    } else {
        invitations::accept_with_new_account(&state.app, &token, input.name.as_deref().unwrap_or(""), input.password.as_deref().unwrap_or("")).await?
    };
    Ok(Json(json!({
        "organisation_id": invitation.organisation.to_string(),
        "organisation_name": invitation.organisation_name,
        "role": invitation.role.as_str(),
        "user_id": user.id.to_string(),
        "email": user.email.to_string(),
    })))
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    let organisations = organisations::list(&state.app).await?;
    Ok(Json(json!({"items": organisations.iter().map(|o| organisation_json(&state.app.config, o)).collect::<Vec<_>>()})))
}

async fn create(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<OrganisationInput>) -> Result<(StatusCode, Json<Value>), Problem> {
    let kind = input.kind()?;
    let organisation = organisations::create(&state.app, &caller.actor, &OrganisationFields::from(input), kind).await?;
    Ok((StatusCode::CREATED, Json(organisation_json(&state.app.config, &organisation))))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    Ok(Json(organisation_json(&state.app.config, &organisations::get(&state.app, id).await?)))
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let kind = input.kind.is_some().then(|| input.kind()).transpose()?;
    let organisation = organisations::update(&state.app, &caller.actor, id, &OrganisationFields::from(input), kind).await?;
    Ok(Json(organisation_json(&state.app.config, &organisation)))
}

async fn set_image(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, request: Request) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    // Permission first: an upload is read only for someone who may make it.
    organisations::may_edit_profile(&caller.actor, id)?;
    let (bytes, declared) = super::upload(request).await?;
    let organisation = organisations::set_image(&state.app, &caller.actor, id, &bytes, declared.as_deref()).await?;
    Ok(Json(organisation_json(&state.app.config, &organisation)))
}

fn member_json(member: &cairn_store::Member) -> Value {
    json!({"user_id": member.user.to_string(), "name": member.name, "email": member.email.to_string(), "role": member.role.as_str()})
}

async fn members(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let members = organisations::members(&state.app, &caller.actor, id).await?;
    Ok(Json(json!({"items": members.iter().map(member_json).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn add_member(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MemberInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let member = organisations::add_member(&state.app, &caller.actor, id, &input.email, &input.role).await?;
    Ok((StatusCode::CREATED, Json(member_json(&member))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleInput {
    #[serde(default)]
    role: String,
}

async fn set_role(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, user)): Path<(String, String)>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<StatusCode, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let user: UserId = path_id(&user, "member")?;
    organisations::set_member_role(&state.app, &caller.actor, id, user, Some(&input.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(State(state): State<AppState>, caller: ApiCaller, Path((id, user)): Path<(String, String)>) -> Result<StatusCode, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let user: UserId = path_id(&user, "member")?;
    organisations::set_member_role(&state.app, &caller.actor, id, user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every achievement of the organisation, drafts and retired ones included (members only).
async fn achievements(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let (organisation, all) = organisations::achievements(&state.app, &caller.actor, id).await?;
    let _ = organisation;
    let items: Vec<Value> = all.iter().map(|listed| achievement_json(&state.app.config, listed)).collect();
    Ok(Json(json!({"items": items})))
}

/// Other organisations' certificates waiting for this organisation's agreement to count one of
/// its achievements (owners only).
async fn component_requests(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let requests = cairn_app::stacks::component_requests(&state.app, &caller.actor, id).await?;
    let items: Vec<Value> = requests
        .iter()
        .map(|r| {
            json!({
                "certificate": {"id": r.parent.id.to_string(), "name": r.parent.content.name, "kind": r.parent.kind.as_str(),
                                "issuer": {"id": r.parent.organisation.to_string(), "name": r.parent_organisation}},
                "component": {"id": r.child.id.to_string(), "name": r.child.content.name, "kind": r.child.kind.as_str()},
                "requested_at": timestamp(r.requested_at),
                "agree": format!("/api/v1/achievements/{}/components/{}/agreement", r.parent.id, r.child.id),
            })
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn create_achievement(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewAchievementInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id: OrganisationId = path_id(&id, "organisation")?;
    let achievement = achievements::create(&state.app, &caller.actor, id, &input.into()).await?;
    let listed = achievements::describe_one(&state.app, achievement).await?;
    Ok((StatusCode::CREATED, Json(achievement_json(&state.app.config, &listed))))
}
