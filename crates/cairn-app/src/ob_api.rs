//! The 1EdTech Open Badges 3.0 API (`/ims/ob/v3p0`) for applications the learner allowed in
//! (see [`crate::oauth`]): the learner's credentials and profile.
//!
//! - **`getCredentials`** lists the learner's badges: every current award issued here (its
//!   credential with the Data Integrity proof) and the Open Badges 3.0 badges they imported as
//!   JSON or JWT (a JWT in `compactJwsString`, as the spec asks), newest first, paged with
//!   `limit` and `offset`; `since` keeps those issued (an import: imported) after a moment.
//! - **`upsertCredential`** verifies a credential and adds it to the backpack as an import,
//!   replacing the import of the same credential `id`; one of this site's awards to the learner
//!   is in the backpack already, and answered as it is.
//! - **`getProfile`** and **`putProfile`**: the learner's name and e-mail address; a put changes
//!   the name (an e-mail address changes only by the confirmed change on the account page).
//!
//! Each call checks its scope first ([`ObCaller::require`]).

use cairn_core::account::display_name;
use cairn_core::oauth::{ErrorCode, OAuthError, Scope};
use cairn_store::{ImportSource, ImportVerdict};
use cairn_vc::dates::parse_rfc3339;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::imports::{self, ImportInput, Upserted};
use crate::oauth::{Endpoints, ObCaller};
use crate::{App, AppError};

/// The API's version, as its service description gives it.
pub const API_VERSION: &str = "3.0";
/// The most credentials one page of `getCredentials` holds, and the page size when `limit` is
/// not given.
pub const MAX_PAGE: u64 = 100;
/// The JSON-LD contexts of a profile document.
const PROFILE_CONTEXT: [&str; 2] = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"];

/// `getCredentials`' query, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialQuery {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub since: Option<String>,
}

/// One page of the learner's credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialPage {
    /// Credentials with an embedded proof (JSON).
    pub credential: Vec<Value>,
    /// Credentials signed as VC-JWT, in compact form.
    pub compact_jws: Vec<String>,
    /// How many credentials match, on every page.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

fn query_error(description: String) -> AppError {
    AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, description))
}

fn number(name: &str, raw: Option<&str>, min: u64) -> Result<Option<u64>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<u64>() {
        Ok(value) if value >= min => Ok(Some(value)),
        _ => Err(query_error(format!("{name} must be a whole number of at least {min}"))),
    }
}

/// A credential of the learner's: its JSON (with an embedded proof) or its compact JWS.
enum Held {
    Json(String),
    Jwt(String),
}

/// The learner's credentials.
///
/// # Errors
/// `OAuth` `insufficient_scope` without `credential.readonly`; `invalid_request` for a bad
/// `limit`, `offset` or `since`; store failures.
pub async fn credentials(app: &App, caller: &ObCaller, query: &CredentialQuery) -> Result<CredentialPage, AppError> {
    caller.require(Scope::CredentialReadonly)?;
    let limit = number("limit", query.limit.as_deref(), 1)?.unwrap_or(MAX_PAGE).min(MAX_PAGE);
    let offset = number("offset", query.offset.as_deref(), 0)?.unwrap_or(0);
    let since = match query.since.as_deref() {
        None => None,
        Some(raw) => Some(parse_since(raw).ok_or_else(|| query_error("since must be a date and time, such as 2026-01-31T12:00:00Z".into()))?),
    };
    let user = caller.user.id;
    let mut held: Vec<(OffsetDateTime, Held)> = Vec::new();
    for award in app.store.awards_of(user).await? {
        held.push((award.issued_at, Held::Json(award.credential_json)));
    }
    for import in app.store.imports_of(user).await? {
        let ob3 = import.format.starts_with("ob3") && import.check.verdict != ImportVerdict::Invalid;
        match import.source {
            ImportSource::Json if ob3 => held.push((import.created_at, Held::Json(import.input))),
            ImportSource::Jwt if ob3 => held.push((import.created_at, Held::Jwt(import.input))),
            _ => {}
        }
    }
    if let Some(since) = since {
        held.retain(|(at, _)| *at > since);
    }
    held.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let total = held.len() as u64;
    let mut page = CredentialPage { credential: Vec::new(), compact_jws: Vec::new(), total, limit, offset };
    for (_, item) in held.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(usize::try_from(limit).unwrap_or(usize::MAX)) {
        match item {
            Held::Json(text) => match serde_json::from_str(&text) {
                Ok(value) => page.credential.push(value),
                Err(error) => tracing::warn!(%error, "an imported credential's JSON does not read"),
            },
            Held::Jwt(text) => page.compact_jws.push(text.trim().to_string()),
        }
    }
    Ok(page)
}

/// A `since` value: RFC 3339, or the spec's `YYYY-MM-DDThh:mm:ss` without an offset (read as UTC).
fn parse_since(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    parse_rfc3339(raw).or_else(|| parse_rfc3339(&format!("{raw}Z")))
}

/// What `upsertCredential` was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertBody {
    /// `application/json`: a credential with an embedded proof.
    Json(String),
    /// `text/plain`: a compact JWS (VC-JWT).
    CompactJws(String),
}

/// What `upsertCredential` answers: the credential as kept, and whether it is new.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertAnswer {
    pub created: bool,
    pub body: UpsertBody,
}

/// Verifies a credential and keeps it in the learner's backpack, replacing the one with the same
/// `id`.
///
/// # Errors
/// `OAuth` `insufficient_scope` without `credential.upsert`; `Invalid` (at `/credential`) for
/// what cannot be read, does not verify or names another recipient; `TooLarge`; `Conflict` when
/// the backpack is full; store failures.
pub async fn upsert_credential(app: &App, caller: &ObCaller, body: UpsertBody) -> Result<UpsertAnswer, AppError> {
    caller.require(Scope::CredentialUpsert)?;
    let text = match &body {
        UpsertBody::Json(text) => {
            let trimmed = text.trim_start();
            if !trimmed.starts_with('{') {
                return Err(AppError::invalid_field("/credential", "send one credential as a JSON object"));
            }
            text.clone()
        }
        UpsertBody::CompactJws(text) => {
            let jws = text.trim();
            let parts: Vec<&str> = jws.split('.').collect();
            let base64url = |part: &str| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if parts.len() != 3 || parts[0].is_empty() || parts[2].is_empty() || !parts.iter().all(|p| base64url(p)) {
                return Err(AppError::invalid_field("/credential", "send one credential as a compact JWS: three base64url parts joined by dots"));
            }
            jws.to_string()
        }
    };
    match imports::upsert(app, &caller.actor, ImportInput::Text(text)).await? {
        Upserted::Created(import) => Ok(UpsertAnswer { created: true, body: kept_body(&body, import.input) }),
        Upserted::Replaced(import) => Ok(UpsertAnswer { created: false, body: kept_body(&body, import.input) }),
        Upserted::OwnAward(_) => Ok(UpsertAnswer { created: false, body }),
    }
}

fn kept_body(sent: &UpsertBody, kept: String) -> UpsertBody {
    match sent {
        UpsertBody::Json(_) => UpsertBody::Json(kept),
        UpsertBody::CompactJws(_) => UpsertBody::CompactJws(kept.trim().to_string()),
    }
}

/// A learner's profile `id`: their account's URN, which no change of name or handle alters.
fn profile_id(user: cairn_core::ids::UserId) -> String {
    format!("urn:uuid:{user}")
}

/// The learner's profile: an OB 3.0 `Profile`, its `id` the account's URN.
async fn profile_of(app: &App, user: &cairn_store::User) -> Result<Value, AppError> {
    let mut profile = json!({
        "@context": PROFILE_CONTEXT,
        "id": profile_id(user.id),
        "type": ["Profile"],
        "name": user.name,
        "email": user.email.as_str(),
    });
    if let Some(handle) = app.store.discovery(user.id).await?.handle {
        profile["url"] = json!(app.config.urls().portfolio(handle.as_str()));
    }
    Ok(profile)
}

/// `getProfile`.
///
/// # Errors
/// `OAuth` `insufficient_scope` without `profile.readonly`; store failures.
pub async fn profile(app: &App, caller: &ObCaller) -> Result<Value, AppError> {
    caller.require(Scope::ProfileReadonly)?;
    profile_of(app, &caller.user).await
}

/// `putProfile`: the learner's name changes to the profile's `name`. The `id` and the e-mail
/// address cannot change here; the other properties of a profile are not kept, and the answer
/// shows the profile as it now is.
///
/// # Errors
/// `OAuth` `insufficient_scope` without `profile.update`; `Invalid` for a body that is not a
/// `Profile`, a bad name, another `id` or another e-mail address; store failures.
pub async fn update_profile(app: &App, caller: &ObCaller, body: &Value) -> Result<Value, AppError> {
    caller.require(Scope::ProfileUpdate)?;
    let Some(object) = body.as_object() else { return Err(AppError::invalid_field("", "send a Profile as a JSON object")) };
    let is_profile = match object.get("type") {
        Some(Value::String(kind)) => kind == "Profile",
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "Profile"),
        _ => false,
    };
    if !is_profile {
        return Err(AppError::invalid_field("/type", "the body must be a Profile (type \"Profile\")"));
    }
    let own_id = profile_id(caller.user.id);
    if let Some(id) = object.get("id")
        && id.as_str() != Some(own_id.as_str())
    {
        return Err(AppError::invalid_field("/id", format!("the profile's id is {own_id} and cannot change")));
    }
    if let Some(email) = object.get("email")
        && !email.as_str().is_some_and(|e| e.trim().eq_ignore_ascii_case(caller.user.email.as_str()))
    {
        return Err(AppError::invalid_field("/email", "the e-mail address changes only on the account page, where the new address is confirmed"));
    }
    let user = match object.get("name") {
        None => caller.user.clone(),
        Some(Value::String(name)) => {
            let name = display_name(name)?;
            if name == caller.user.name { caller.user.clone() } else { app.store.rename_user(caller.user.id, &name).await? }
        }
        Some(_) => return Err(AppError::invalid_field("/name", "the name must be text")),
    };
    profile_of(app, &user).await
}

/// The service description document (`GET /ims/ob/v3p0/discovery`): the spec's OpenAPI 3.0
/// document, profiled to what this installation serves, with its OAuth 2.0 security scheme.
pub fn service_description(app: &App) -> Value {
    let endpoints = Endpoints::of(app);
    let scopes: serde_json::Map<String, Value> = Scope::ALL.iter().map(|s| (s.uri().to_string(), json!(s.spec_description()))).collect();
    let status = json!({"$ref": "#/components/schemas/Imsx_StatusInfo"});
    let error = |text: &str| json!({"description": text, "content": {"application/json": {"schema": status}}});
    let secured = |scope: Scope| json!([{"OAuth2ACG": [scope.uri()]}]);
    let errors = json!({
        "400": error("The request is malformed or its content is not valid."),
        "401": error("The access token is missing, unknown, expired or revoked."),
        "403": error("The access token does not carry the scope this needs."),
        "405": error("The method is not allowed here."),
        "500": error("An unexpected error occurred."),
    });
    let with_errors = |mut responses: Value| {
        if let (Some(map), Some(extra)) = (responses.as_object_mut(), errors.as_object()) {
            for (code, response) in extra {
                map.insert(code.clone(), response.clone());
            }
        }
        responses
    };
    json!({
        "openapi": "3.0.1",
        "info": {
            "title": "Cairn",
            "description": "The Open Badges 3.0 API of this Cairn installation: a learner's badges and profile, for applications they allow.",
            "version": API_VERSION,
            "termsOfService": app.config.terms_url.as_ref().map_or_else(|| app.config.url("/"), |u| u.to_string()),
            "x-imssf-privacyPolicyUrl": app.config.privacy_url.as_ref().map_or_else(|| app.config.url("/"), |u| u.to_string()),
            "x-imssf-image": app.config.url("/static/cairn-logo.svg"),
        },
        "servers": [{"url": app.config.url("/ims/ob/v3p0"), "description": "This installation"}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Profile"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {
                "get": {
                    "tags": ["OpenBadgeCredentials"],
                    "operationId": "getCredentials",
                    "summary": "The learner's credentials, newest first.",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                    ],
                    "security": secured(Scope::CredentialReadonly),
                    "responses": with_errors(json!({"200": {
                        "description": "A page of the learner's credentials; X-Total-Count gives how many there are, Link the other pages.",
                        "headers": {"X-Total-Count": {"schema": {"type": "integer"}}, "Link": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GetOpenBadgeCredentialsResponse"}}}
                    }})),
                },
                "post": {
                    "tags": ["OpenBadgeCredentials"],
                    "operationId": "upsertCredential",
                    "summary": "Verifies a credential and adds it to the learner's backpack, replacing the one with the same id.",
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/AchievementCredential"}},
                        "text/plain": {"schema": {"type": "string", "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$"}}
                    }},
                    "security": secured(Scope::CredentialUpsert),
                    "responses": with_errors(json!({
                        "200": {"description": "The credential replaced one the learner held, or was held already."},
                        "201": {"description": "The credential was added."}
                    })),
                }
            },
            "/profile": {
                "get": {
                    "tags": ["Profile"],
                    "operationId": "getProfile",
                    "security": secured(Scope::ProfileReadonly),
                    "responses": with_errors(json!({"200": {"description": "The learner's profile.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}}}})),
                },
                "put": {
                    "tags": ["Profile"],
                    "operationId": "putProfile",
                    "summary": "Changes the learner's name; the id and e-mail address cannot change here.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}}},
                    "security": secured(Scope::ProfileUpdate),
                    "responses": with_errors(json!({"200": {"description": "The profile as it now is.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}}}})),
                }
            },
            "/discovery": {
                "get": {
                    "tags": ["Discovery"],
                    "operationId": "getServiceDescription",
                    "responses": {"200": {"description": "This document.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceDescriptionDocument"}}}}},
                }
            }
        },
        "components": {
            "securitySchemes": {
                "OAuth2ACG": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 authorization code grant with PKCE (S256); clients register dynamically (RFC 7591).",
                    "x-imssf-registrationUrl": endpoints.registration,
                    "flows": {"authorizationCode": {
                        "authorizationUrl": endpoints.authorization,
                        "tokenUrl": endpoints.token,
                        "refreshUrl": endpoints.token,
                        "x-cairn-revocationUrl": endpoints.revocation,
                        "scopes": scopes,
                    }}
                }
            },
            "schemas": {
                "Imsx_StatusInfo": {"type": "object", "required": ["imsx_codeMajor", "imsx_severity"], "properties": {
                    "imsx_codeMajor": {"type": "string", "enum": ["failure", "processing", "success", "unsupported"]},
                    "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
                    "imsx_description": {"type": "string"},
                    "imsx_codeMinor": {"type": "object"}
                }},
                "GetOpenBadgeCredentialsResponse": {"type": "object", "properties": {
                    "credential": {"type": "array", "items": {"$ref": "#/components/schemas/AchievementCredential"}},
                    "compactJwsString": {"type": "array", "items": {"type": "string"}}
                }},
                "AchievementCredential": {"type": "object", "description": "An Open Badges 3.0 OpenBadgeCredential (see the spec's JSON schema)."},
                "Profile": {"type": "object", "required": ["id", "type"], "description": "An Open Badges 3.0 Profile."},
                "ServiceDescriptionDocument": {"type": "object", "required": ["openapi", "info", "components"]}
            }
        }
    })
}
