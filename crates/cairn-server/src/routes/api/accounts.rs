//! Accounts over the API: sign-up, sessions (e-mail + password → bearer token), the caller, tokens.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use cairn_app::accounts;
use cairn_app::accounts::{data, email, profile, reset};
use cairn_app::discovery;
use cairn_core::account::{ApiTokenFields, SignUpFields};
use cairn_core::discovery::{Discovery, DiscoveryFields};
use cairn_core::ids::TokenId;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::auth::{ApiCaller, ClientAddress};
use crate::dto::timestamp;
use crate::extract::{ApiJson, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(sign_up))
        .route("/session", post(create_session))
        .route("/me", get(me).patch(update_me).delete(delete_me))
        .route("/me/password", post(change_password))
        .route("/me/email", post(change_email))
        .route("/me/export", get(export))
        .route("/email-changes/{token}", post(confirm_email_change))
        .route("/password-resets", post(request_reset))
        .route("/password-resets/{token}", post(reset_password))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignUpInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl From<SignUpInput> for SignUpFields {
    fn from(input: SignUpInput) -> Self {
        SignUpFields { name: input.name, email: input.email, password: input.password }
    }
}

/// Signs up. The answer is 202 Accepted whether the address was free (the account now exists)
/// or already had an account (left alone, its owner told by e-mail), so it reveals neither.
async fn sign_up(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(input): ApiJson<SignUpInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let receipt = accounts::sign_up(&state.app, input.into(), address).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "name": receipt.name,
            "email": receipt.email.to_string(),
            "detail": "if this e-mail address was new, its account is ready: exchange the password for a token at POST /api/v1/session; either way, a message was sent to the address",
        })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Exchanges an e-mail address and password for a bearer token (an API token named "API session").
async fn create_session(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(input): ApiJson<SessionInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let (user, token, secret) = accounts::open_api_session(&state.app, &input.email, &input.password, address).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": secret,
            "token_id": token.id.to_string(),
            "expires_at": token.expires_at.map(timestamp),
            "user": {"id": user.id.to_string(), "name": user.name, "email": user.email.to_string()},
        })),
    ))
}

async fn me(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let discovery = discovery::settings(&state.app, &caller.actor).await?;
    Ok(me_json(&state, caller.require_user()?, &caller, &discovery))
}

fn me_json(state: &AppState, user: &cairn_store::User, caller: &ApiCaller, discovery: &Discovery) -> Json<Value> {
    let handle = discovery.handle.as_ref().map(|h| h.as_str());
    Json(json!({
        "id": user.id.to_string(),
        "name": user.name,
        "email": user.email.to_string(),
        "handle": handle,
        "portfolio": handle.map(|h| state.app.config.urls().portfolio(h)),
        "discoverable": discovery.discoverable,
        "show_imports": discovery.show_imports,
        "memberships": caller.actor.memberships.iter().map(|(org, role)| json!({"organisation_id": org.to_string(), "role": role.as_str()})).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeInput {
    name: Option<String>,
    /// A string sets the handle (the portfolio at `/u/{handle}`); `null` removes it.
    #[serde(default, deserialize_with = "present")]
    handle: Option<Value>,
    /// Whether employers may find the caller (needs a handle).
    discoverable: Option<bool>,
    /// Whether the portfolio lists the caller's verified imported badges.
    show_imports: Option<bool>,
}

/// Changes the caller's name, handle, discoverability or whether imported badges show.
async fn update_me(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<MeInput>) -> Result<Json<Value>, Problem> {
    let handle = match input.handle {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(handle)) => Some(Some(handle)),
        Some(_) => return Err(Problem::invalid_field("/handle", "must be a string, or null to remove it")),
    };
    let fields = DiscoveryFields { handle, discoverable: input.discoverable, show_imports: input.show_imports };
    let (user, discovery) = profile::update(&state.app, &caller.actor, input.name.as_deref(), &fields).await?;
    Ok(me_json(&state, &user, &caller, &discovery))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChangeInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

/// Changes the caller's password (the current one is needed); every browser session ends.
async fn change_password(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<PasswordChangeInput>) -> Result<StatusCode, Problem> {
    profile::change_password(&state.app, &caller.actor, &input.current_password, &input.password, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailChangeInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Asks to change the caller's e-mail address (the password is needed): 202, and a link to
/// confirm goes to the new address; the account keeps its address until the link is opened.
async fn change_email(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<EmailChangeInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let new = email::request_email_change(&state.app, &caller.actor, &input.email, &input.password).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "detail": format!("a link to confirm the change was sent to {new}; it works once, for {} hours, and your address changes when it is opened", email::EMAIL_CHANGE_HOURS),
        })),
    ))
}

/// Confirms a change of e-mail address with the link's secret; the old address is told.
async fn confirm_email_change(State(state): State<AppState>, Path(token): Path<String>) -> Result<Json<Value>, Problem> {
    let changed = email::confirm_email_change(&state.app, &token).await?;
    Ok(Json(json!({"id": changed.user.to_string(), "email": changed.new.to_string()})))
}

/// Everything Cairn keeps about the caller, as a JSON attachment.
async fn export(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, Problem> {
    let document = data::export(&state.app, &caller.actor).await?;
    let mut response = Json(document).into_response();
    response.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"cairn-data.json\""));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteMeInput {
    #[serde(default)]
    password: String,
}

/// Deletes the caller's account (the password is needed): awards already issued stay
/// verifiable, their pages are gone, sessions and tokens end.
async fn delete_me(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<DeleteMeInput>) -> Result<StatusCode, Problem> {
    data::delete_account(&state.app, &caller.actor, &input.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequestInput {
    #[serde(default)]
    email: String,
}

/// Asks for a password reset link by e-mail: 202 whether or not the address has an account.
async fn request_reset(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(input): ApiJson<ResetRequestInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    reset::request_reset(&state.app, &input.email, address).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "detail": format!("if an account uses this e-mail address, a link to choose a new password was sent to it; the link works once, for {} hour", reset::RESET_LINK_HOURS),
        })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetInput {
    #[serde(default)]
    password: String,
}

/// Uses a reset link's secret to set a new password; the account's sessions end and its API
/// tokens are revoked.
async fn reset_password(State(state): State<AppState>, Path(token): Path<String>, ApiJson(input): ApiJson<ResetInput>) -> Result<StatusCode, Problem> {
    reset::reset_password(&state.app, &token, &input.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn token_json(token: &cairn_store::ApiToken) -> Value {
    json!({
        "id": token.id.to_string(),
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope.as_str(),
        "created_at": timestamp(token.created_at),
        "expires_at": token.expires_at.map(timestamp),
        "last_used_at": token.last_used_at.map(timestamp),
        "revoked_at": token.revoked_at.map(timestamp),
    })
}

async fn list_tokens(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, Problem> {
    let tokens = accounts::api_tokens(&state.app, &caller.actor).await?;
    Ok(Json(json!({"items": tokens.iter().map(token_json).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    #[serde(default)]
    name: String,
    /// `read-only` or `full` (the default).
    #[serde(default)]
    scope: String,
    /// Days until it expires (default 90); `null` for never. Absent and `null` differ, so the
    /// value is kept as it came.
    #[serde(default, deserialize_with = "present")]
    expires_in_days: Option<Value>,
}

/// A field that is present, even as `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl TokenInput {
    fn into_fields(self) -> ApiTokenFields {
        let expires_in_days = match self.expires_in_days {
            None => String::new(),
            Some(Value::Null) => "never".to_string(),
            Some(Value::String(text)) => text,
            Some(other) => other.to_string(),
        };
        ApiTokenFields { name: self.name, scope: self.scope, expires_in_days }
    }
}

async fn create_token(State(state): State<AppState>, caller: ApiCaller, ApiJson(input): ApiJson<TokenInput>) -> Result<(StatusCode, Json<Value>), Problem> {
    let (token, secret) = accounts::create_api_token(&state.app, &caller.actor, &input.into_fields()).await?;
    let mut body = token_json(&token);
    body["token"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke_token(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    let id: TokenId = path_id(&id, "token")?;
    accounts::revoke_api_token(&state.app, &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
