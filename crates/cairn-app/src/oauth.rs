//! OAuth 2.0 authorization for the Open Badges 3.0 API: another system (a learning platform, a
//! wallet, an employer's tool) registers itself, the learner allows it access on the consent
//! page, and it calls the API with the tokens it gets. The rules of each request are
//! `cairn_core::oauth`'s; the store keeps secrets as digests and makes codes and refresh tokens
//! single use. Endpoints, for the server's metadata (RFC 8414) and the service description:
//! [`Endpoints`].
//!
//! An access token stands for the learner alone, never for their roles in organisations: an
//! application allowed into a backpack cannot author, assess or award ([`access`]).

use cairn_core::authz::{Action, Actor};
use cairn_core::ids::OAuthGrantId;
use cairn_core::oauth::{
    ACCESS_TOKEN_LIFETIME, Access, AuthorizationFields, AuthorizationRefusal, AuthorizationRequest, CODE_LIFETIME, ClientFields, ClientRules, ErrorCode,
    NewClient, OAuthError, REFRESH_TOKEN_LIFETIME, Scope, Scopes, check_verifier,
};
use cairn_store::{IssuedTokens, NewGrant, OAuthClient, OAuthGrant, Presented, User};
use serde_json::{Value, json};

use crate::{App, AppError};

/// The authorization server's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The issuer identifier: the installation's public address, without a trailing slash.
    pub issuer: String,
    pub authorization: String,
    pub token: String,
    pub registration: String,
    pub revocation: String,
}

impl Endpoints {
    pub fn of(app: &App) -> Endpoints {
        Endpoints {
            issuer: app.config.url(""),
            authorization: app.config.url("/oauth/authorize"),
            token: app.config.url("/oauth/token"),
            registration: app.config.url("/oauth/register"),
            revocation: app.config.url("/oauth/revoke"),
        }
    }
}

/// The authorization server's metadata (RFC 8414), at `/.well-known/oauth-authorization-server`.
pub fn server_metadata(app: &App) -> Value {
    let endpoints = Endpoints::of(app);
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    json!({
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "registration_endpoint": endpoints.registration,
        "revocation_endpoint": endpoints.revocation,
        "scopes_supported": Scope::ALL.iter().map(|s| s.uri()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", cairn_vc::oid4vci::PRE_AUTHORIZED_CODE_GRANT],
        // Wallets redeem a learner's offer without registering (`crate::wallet`).
        "pre-authorized_grant_anonymous_access_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": app.config.url("/ims/ob/v3p0/discovery"),
    })
}

/// A registration's answer (RFC 7591 §3.2.1): the client's metadata, with its secret when it
/// has one (shown once).
#[derive(Debug, Clone)]
pub struct Registered {
    pub client: OAuthClient,
    pub response: Value,
}

/// Registers a client (RFC 7591). Anyone may: the learner decides on the consent page. Each
/// registration counts against the client's address (`address`) in
/// [`App::registration_throttle`], so nobody fills the store with clients.
///
/// # Errors
/// `OAuth` with `invalid_redirect_uri` or `invalid_client_metadata`; `Throttled` after too many
/// registrations from the address lately; store failures.
pub async fn register(app: &App, fields: ClientFields, address: Option<std::net::IpAddr>) -> Result<Registered, AppError> {
    let new = NewClient::parse(fields)?;
    let now = app.now();
    app.registration_throttle
        .check(None, address, now)
        .map_err(|retry_after| AppError::Throttled { retry_after, what: crate::error::Throttle::ClientRegistration })?;
    app.registration_throttle.fail(None, address, now);
    let mut grant_types = vec!["authorization_code"];
    if new.refresh {
        grant_types.push("refresh_token");
    }
    let described = |id: &str| {
        let mut metadata = json!({
            "client_id": id,
            "client_id_issued_at": now.unix_timestamp(),
            "client_name": new.name,
            "redirect_uris": new.redirect_uris,
            "scope": new.scopes.to_string(),
            "token_endpoint_auth_method": new.auth.as_str(),
            "grant_types": grant_types,
            "response_types": ["code"],
        });
        let optional = [
            ("client_uri", &new.client_uri),
            ("logo_uri", &new.logo_uri),
            ("tos_uri", &new.tos_uri),
            ("policy_uri", &new.policy_uri),
            ("software_id", &new.software_id),
            ("software_version", &new.software_version),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                metadata[name] = json!(value);
            }
        }
        if !new.contacts.is_empty() {
            metadata["contacts"] = json!(new.contacts);
        }
        metadata
    };
    let (client, secret) = app.store.create_oauth_client(&new, described, now).await?;
    let mut response: Value = serde_json::from_str(&client.metadata_json).map_err(|e| AppError::internal(&e))?;
    if let Some(secret) = secret {
        response["client_secret"] = json!(secret);
        response["client_secret_expires_at"] = json!(0);
    }
    tracing::info!(client = %client.id, name = %client.name, "OAuth client registered");
    Ok(Registered { client, response })
}

/// An authorization request ready for the learner's consent, with the application asking.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    pub request: AuthorizationRequest,
    pub client: OAuthClient,
}

/// Reads an authorization request (the consent page's query, or its form sent back).
///
/// # Errors
/// The inner `Err` is the refusal to show or to send back (see [`AuthorizationRefusal`]); the
/// outer one, store failures.
pub async fn authorization_request(app: &App, fields: AuthorizationFields) -> Result<Result<ConsentRequest, AuthorizationRefusal>, AppError> {
    let client = match fields.client_id.as_deref() {
        Some(id) if !id.is_empty() => app.store.oauth_client(id).await?,
        _ => None,
    };
    let rules = client.as_ref().map(|c| ClientRules { redirect_uris: c.redirect_uris.clone(), scopes: c.scopes.clone() });
    Ok(AuthorizationRequest::parse(fields, rules.as_ref())
        .map(|request| ConsentRequest { request, client: client.expect("a request is parsed only with its client") }))
}

/// Where the browser goes back to the client: the redirect address with the answer's
/// parameters, the request's `state` and the issuer (`iss`, RFC 9207).
pub fn redirect_back(app: &App, redirect_uri: &str, state: Option<&str>, answer: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(redirect_uri).expect("registered redirect addresses are absolute");
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in answer {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &Endpoints::of(app).issuer);
    }
    url.to_string()
}

/// The refusal sent back to the client, as its redirect address.
pub fn refusal_redirect(app: &App, redirect_uri: &str, state: Option<&str>, error: &OAuthError) -> String {
    redirect_back(app, redirect_uri, state, &[("error", error.code.as_str()), ("error_description", &error.description)])
}

/// The learner's answer on the consent page: allowing makes a grant and an authorization code;
/// either way the answer is the address to send the browser back to.
///
/// # Errors
/// `Unauthenticated` without a signed-in learner; store failures.
pub async fn decide(app: &App, actor: &Actor, consent: &ConsentRequest, allow: bool) -> Result<String, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let request = &consent.request;
    if !allow {
        let denied = OAuthError::new(ErrorCode::AccessDenied, "the learner did not allow access");
        return Ok(refusal_redirect(app, &request.redirect_uri, request.state.as_deref(), &denied));
    }
    let grant = NewGrant {
        client_id: &request.client_id,
        user,
        scopes: &request.scopes,
        redirect_uri: &request.redirect_uri,
        code_challenge: &request.code_challenge,
        lifetime: CODE_LIFETIME,
    };
    let code = app.store.create_oauth_grant(&grant, app.now()).await?;
    tracing::info!(client = %request.client_id, "OAuth access allowed");
    Ok(redirect_back(app, &request.redirect_uri, request.state.as_deref(), &[("code", &code)]))
}

/// A client's credentials at the token and revocation endpoints: its id, and its secret for a
/// confidential client (by HTTP Basic or in the form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: Option<String>,
}

/// A token request's form (RFC 6749 §4.1.3 and §6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFields {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

async fn authenticate(app: &App, credentials: &ClientCredentials) -> Result<OAuthClient, AppError> {
    let unknown = || AppError::OAuth(OAuthError::new(ErrorCode::InvalidClient, "the client is unknown or its secret is wrong"));
    if credentials.id.is_empty() {
        return Err(unknown());
    }
    app.store.authenticate_oauth_client(&credentials.id, credentials.secret.as_deref()).await?.ok_or_else(unknown)
}

fn grant_error(description: &str) -> AppError {
    AppError::OAuth(OAuthError::new(ErrorCode::InvalidGrant, description))
}

/// The token endpoint: an authorization code (with its PKCE verifier) or a refresh token for new
/// tokens. A refresh token is used once; the answer carries its successor.
///
/// # Errors
/// `OAuth` with `invalid_client`, `invalid_grant`, `invalid_request`, `invalid_scope`,
/// `unauthorized_client` or `unsupported_grant_type`; store failures.
pub async fn token(app: &App, credentials: &ClientCredentials, fields: TokenFields) -> Result<IssuedTokens, AppError> {
    let client = authenticate(app, credentials).await?;
    let now = app.now();
    let grant = match fields.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = fields.code.as_deref().ok_or_else(|| AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "send the code")))?;
            let claimed = match app.store.claim_oauth_code(code, now).await? {
                Presented::First(claimed) => claimed,
                Presented::Again => {
                    tracing::warn!(client = %client.id, "an authorization code was presented again: its grant is revoked");
                    return Err(grant_error("the code was used before; access given with it is revoked"));
                }
                Presented::Unknown => return Err(grant_error("the code is unknown, or its access was revoked")),
            };
            if claimed.client_id != client.id {
                return Err(grant_error("the code was issued to another client"));
            }
            if claimed.expires_at <= now {
                return Err(grant_error("the code has expired: ask the learner again"));
            }
            if fields.redirect_uri.as_deref().is_some_and(|uri| uri != claimed.redirect_uri) {
                return Err(grant_error("the redirect_uri differs from the authorization request's"));
            }
            check_verifier(fields.code_verifier.as_deref(), &claimed.code_challenge)?;
            claimed.grant
        }
        Some("refresh_token") => {
            if !client.refresh {
                return Err(AppError::OAuth(OAuthError::new(ErrorCode::UnauthorizedClient, "the client did not register the refresh_token grant type")));
            }
            let token = fields.refresh_token.as_deref().ok_or_else(|| AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "send the refresh_token")))?;
            let grant = match app.store.claim_refresh_token(&client.id, token, now).await? {
                Presented::First(grant) => grant,
                Presented::Again => {
                    tracing::warn!(client = %client.id, "a refresh token was presented again: its grant is revoked");
                    return Err(grant_error("the refresh token was used before; access given with it is revoked"));
                }
                Presented::Unknown => return Err(grant_error("the refresh token is unknown, expired or revoked")),
            };
            if let Some(raw) = fields.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let asked = Scopes::parse(raw)?;
                let grants = app.store.oauth_grant_scopes(grant).await?;
                if asked != grants {
                    return Err(AppError::OAuth(OAuthError::new(ErrorCode::InvalidScope, "a refresh keeps the scope the learner allowed; leave scope out")));
                }
            }
            grant
        }
        Some(other) => {
            let shown: String = other.chars().take(60).collect();
            return Err(AppError::OAuth(OAuthError::new(ErrorCode::UnsupportedGrantType, format!("grant_type {shown:?} is not supported"))));
        }
        None => return Err(AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "send the grant_type"))),
    };
    match app.store.issue_oauth_tokens(grant, client.refresh, ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, now).await {
        Ok(tokens) => Ok(tokens),
        Err(cairn_store::StoreError::NotFound { .. }) => Err(grant_error("the learner has revoked this access")),
        Err(error) => Err(error.into()),
    }
}

/// Revokes a token (RFC 7009): an access token alone, a refresh token with every token of its
/// grant. Unknown tokens are accepted silently, as the RFC asks.
///
/// # Errors
/// `OAuth` `invalid_client`; store failures.
pub async fn revoke(app: &App, credentials: &ClientCredentials, token: Option<&str>) -> Result<(), AppError> {
    let client = authenticate(app, credentials).await?;
    let token = token.ok_or_else(|| AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "send the token to revoke")))?;
    Ok(app.store.revoke_oauth_token(&client.id, token, app.now()).await?)
}

/// The caller behind an access token: the learner (as a person, without their roles in
/// organisations) and what the token allows.
#[derive(Debug, Clone)]
pub struct ObCaller {
    pub user: User,
    pub actor: Actor,
    pub access: Access,
    pub client_id: String,
}

impl ObCaller {
    /// Checks that the token carries `scope`.
    ///
    /// # Errors
    /// `OAuth` `insufficient_scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        Ok(self.access.require(scope)?)
    }
}

/// Who a bearer access token stands for.
///
/// # Errors
/// `OAuth` `invalid_token` for an unknown, expired or revoked token (or a deleted account);
/// store failures.
pub async fn access(app: &App, token: &str) -> Result<ObCaller, AppError> {
    let invalid = || AppError::OAuth(OAuthError::new(ErrorCode::InvalidToken, "the access token is unknown, expired or revoked"));
    let grant = app.store.oauth_token_grant(token, app.now()).await?.ok_or_else(invalid)?;
    let user = match app.store.user(grant.user).await {
        Ok(user) => user,
        Err(cairn_store::StoreError::NotFound { .. }) => return Err(invalid()),
        Err(error) => return Err(error.into()),
    };
    let actor = Actor::member(user.id, Vec::new());
    Ok(ObCaller { user, actor, access: Access { scopes: grant.scopes }, client_id: grant.client_id })
}

/// The applications the actor allowed into their account (grants still working).
///
/// # Errors
/// `Unauthenticated` for visitors; store failures.
pub async fn grants(app: &App, actor: &Actor) -> Result<Vec<OAuthGrant>, AppError> {
    let user = crate::accounts::profile::own(actor)?;
    Ok(app.store.oauth_grants_of(user, app.now()).await?)
}

/// Ends one application's access to the actor's account: its tokens stop working at once.
///
/// # Errors
/// `Unauthenticated` for visitors; `NotFound` for a grant that is not theirs or has ended.
pub async fn revoke_grant(app: &App, actor: &Actor, grant: OAuthGrantId) -> Result<(), AppError> {
    let user = crate::accounts::profile::own(actor)?;
    actor.authorise(Action::Change)?;
    match app.store.revoke_oauth_grant(user, grant, app.now()).await {
        Err(cairn_store::StoreError::NotFound { .. }) => Err(AppError::NotFound("no such connected application".into())),
        other => Ok(other?),
    }
}
