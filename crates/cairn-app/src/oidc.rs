//! Sign-in with an OpenID Connect provider the operator configured (a university's, an
//! employer's): the authorization code flow with PKCE (S256), `state` and `nonce`.
//!
//! - [`begin`] reads the provider's discovery document (cached for [`METADATA_MAX_AGE_SECS`]),
//!   keeps the sign-in under way in the store (the state's digest, the nonce, the PKCE verifier,
//!   where to go next; ten minutes) and answers the provider's authorization URL and the state,
//!   which the browser also keeps in a cookie, so a callback is only taken in the browser that
//!   started it.
//! - [`finish`] takes the sign-in once, exchanges the code at the token endpoint (client secret
//!   by HTTP Basic, or in the form when the provider only supports that), verifies the ID token
//!   against the provider's JWKS (asymmetric algorithms only; the issuer, the audience, expiry
//!   and the nonce), reads the e-mail from the ID token or the userinfo endpoint and signs in:
//!   the account linked to the provider's subject; else the account with the address the
//!   provider **verified**, which is linked now (and told so by e-mail); else a new account,
//!   without a password, linked at once. An address the provider did not verify links nothing.
//!
//! Every document read from a provider is capped at [`MAX_DOCUMENT_BYTES`] and every request at
//! [`REQUEST_TIMEOUT_SECS`]; a provider's host is reached even when it is this machine or on a
//! private network, since the operator named it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration as StdDuration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_core::account::{Email, same_secret};
use cairn_core::authz::Actor;
use cairn_store::{LinkedIdentity, NO_PASSWORD, OidcLogin, StoreError, User};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::config::OidcProvider;
use crate::fetch::{HostPolicy, checked_client};
use crate::{App, AppError};

/// How long a sign-in may take at the provider, in minutes.
pub const LOGIN_MINUTES: i64 = 10;
/// How long a provider's discovery document and keys are used before they are read again.
pub const METADATA_MAX_AGE_SECS: i64 = 3600;
/// The largest document read from a provider.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The longest a request to a provider may take.
pub const REQUEST_TIMEOUT_SECS: u64 = 10;
/// Leeway on the ID token's times, for clocks apart.
const CLOCK_LEEWAY_SECS: u64 = 60;
/// The longest name taken from a provider.
const MAX_NAME_CHARS: usize = 100;
/// The signature algorithms an ID token may use: asymmetric ones only.
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The cookie that holds a sign-in's state in the browser that started it.
pub const STATE_COOKIE: &str = "cairn_oidc_state";

/// What a provider publishes at `/.well-known/openid-configuration`, as far as Cairn uses it.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// A provider's endpoints, checked: absolute, https (or http on this machine).
#[derive(Debug, Clone)]
struct Endpoints {
    authorization: Url,
    token: Url,
    userinfo: Option<Url>,
}

/// A provider's discovery document and keys, as read at `fetched`.
#[derive(Debug)]
struct Metadata {
    discovery: Discovery,
    endpoints: Endpoints,
    keys: JwkSet,
    fetched: OffsetDateTime,
}

/// The providers' metadata, per provider id (see [`crate::caches`]).
#[derive(Debug, Default)]
pub struct ProviderCache {
    entries: Mutex<HashMap<String, Arc<Metadata>>>,
}

impl ProviderCache {
    fn get(&self, id: &str, now: OffsetDateTime) -> Option<Arc<Metadata>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(id).filter(|m| (now - m.fetched).whole_seconds() < METADATA_MAX_AGE_SECS).cloned()
    }

    fn put(&self, id: &str, metadata: Arc<Metadata>) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_string(), metadata);
    }

    /// How many providers' metadata are held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A provider as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub id: String,
    pub name: String,
}

/// The providers people may sign in with, in the configured order.
pub fn providers(app: &App) -> Vec<ProviderChoice> {
    app.config.oidc_providers.iter().map(|p| ProviderChoice { id: p.id.clone(), name: p.name.clone() }).collect()
}

/// Where a provider sends the browser back to.
pub fn redirect_uri(app: &App, provider: &str) -> String {
    app.config.url(&format!("/auth/oidc/{provider}/callback"))
}

fn provider<'a>(app: &'a App, id: &str) -> Result<&'a OidcProvider, AppError> {
    app.config.oidc_providers.iter().find(|p| p.id == id).ok_or_else(|| AppError::NotFound(format!("no sign-in provider is called \"{}\"", clip(id, 40))))
}

/// A sign-in sent to the provider.
#[derive(Debug, Clone)]
pub struct Begun {
    /// The provider's authorization URL to send the browser to.
    pub redirect: String,
    /// The sign-in's state, for the browser's cookie ([`STATE_COOKIE`]).
    pub state: String,
}

/// Starts signing in with `provider`; `next` is where to go afterwards (a local path the caller
/// checked).
///
/// # Errors
/// `NotFound` for an unknown provider; `Unavailable` when its discovery document cannot be read
/// or does not describe a provider Cairn can use.
pub async fn begin(app: &App, provider_id: &str, next: Option<&str>) -> Result<Begun, AppError> {
    let provider = provider(app, provider_id)?;
    let metadata = metadata(app, provider, false).await?;
    let state = random_text();
    let nonce = random_text();
    let verifier = random_text();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let login = OidcLogin { provider: provider.id.clone(), nonce: nonce.clone(), verifier, next: next.map(str::to_string) };
    app.store.start_oidc_login(&state, &login, time::Duration::minutes(LOGIN_MINUTES), app.now()).await?;
    let mut url = metadata.endpoints.authorization.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &redirect_uri(app, &provider.id))
        .append_pair("scope", &scopes(provider).join(" "))
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(Begun { redirect: url.to_string(), state })
}

/// The scopes asked for: the configured ones, with `openid` and `email` always among them.
fn scopes(provider: &OidcProvider) -> Vec<String> {
    let mut scopes = vec!["openid".to_string(), "email".to_string()];
    for scope in &provider.scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    scopes
}

/// What the provider sent the browser back with.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The issuer, which RFC 9207 has providers add; checked when present.
    pub iss: Option<String>,
}

/// How the account signed in was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// Linked to the provider's subject before.
    Known,
    /// The account with the address the provider verified, linked now.
    ByEmail,
    /// A new account, made now.
    Created,
}

/// A finished sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// Where to go now, as [`begin`] was told.
    pub next: Option<String>,
    pub linked: Linked,
    /// The provider's name.
    pub provider: String,
}

/// Finishes signing in with `provider_id` from the provider's `callback`, in the browser whose
/// cookie holds `browser_state`.
///
/// # Errors
/// `Forbidden` with what went wrong, in words for the person signing in: not started in this
/// browser or too long ago, refused or cancelled at the provider, an ID token that does not
/// verify, no verified e-mail address; `NotFound` for an unknown provider; `Unavailable` when
/// the provider cannot be reached or answers what Cairn cannot read.
pub async fn finish(app: &App, provider_id: &str, callback: &Callback, browser_state: Option<&str>) -> Result<SignedIn, AppError> {
    let provider = provider(app, provider_id)?;
    let name = &provider.name;
    let restart =
        || AppError::Forbidden(format!("This sign-in with {name} did not start in this browser, was used already or took too long. Please start again."));
    let state = callback.state.as_deref().ok_or_else(restart)?;
    if !browser_state.is_some_and(|b| same_secret(b, state)) {
        return Err(restart());
    }
    let login = app.store.take_oidc_login(state, app.now()).await?.ok_or_else(restart)?;
    if login.provider != provider.id {
        return Err(restart());
    }
    if let Some(error) = &callback.error {
        let why = match error.as_str() {
            "access_denied" => "you cancelled, or the provider refused access".to_string(),
            other => {
                let description = callback.error_description.as_deref().map(|d| format!(" ({})", clip(d, 200))).unwrap_or_default();
                format!("it answered \"{}\"{description}", clip(other, 60))
            }
        };
        return Err(AppError::Forbidden(format!("{name} did not sign you in: {why}.")));
    }
    let metadata = metadata(app, provider, false).await?;
    if let Some(iss) = &callback.iss
        && iss.trim_end_matches('/') != metadata.discovery.issuer.trim_end_matches('/')
    {
        return Err(AppError::Forbidden(format!("The answer did not come from {name} (its issuer is \"{}\"), so you are not signed in.", clip(iss, 100))));
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| AppError::Forbidden(format!("{name} sent no authorization code back.")))?;
    let tokens = exchange(app, provider, &metadata, code, &login.verifier).await?;
    let userinfo_endpoint = metadata.endpoints.userinfo.clone();
    let mut claims = verify_id_token(app, provider, metadata, &tokens.id_token, &login.nonce).await?;
    if claims.person.email.is_none()
        && let (Some(endpoint), Some(access)) = (userinfo_endpoint, tokens.access_token.as_deref())
    {
        let info = userinfo(provider, &endpoint, access).await?;
        if info.sub != claims.sub {
            return Err(AppError::Forbidden(format!("{name}'s user information is about someone else than its ID token.")));
        }
        let named = claims.person.display_name().is_some();
        let mut person = info.person;
        if named {
            (person.name, person.given_name, person.family_name) =
                (claims.person.name.take(), claims.person.given_name.take(), claims.person.family_name.take());
        }
        claims.person = person;
    }
    let verified_email = match (&claims.person.email, claims.person.email_verified.as_ref().is_some_and(Verified::yes)) {
        (Some(email), true) => Some(
            Email::parse(email)
                .map_err(|_| AppError::Forbidden(format!("{name} gave \"{}\" as your e-mail address, which is not one Cairn can use.", clip(email, 80))))?,
        ),
        _ => None,
    };
    let now = app.now();
    let used_address = verified_email.as_ref().map(Email::as_str).or(claims.person.email.as_deref()).unwrap_or("");
    if let Some(user) = app.store.use_oidc_identity(&provider.id, &claims.sub, used_address, now).await? {
        return Ok(SignedIn { user: app.store.user(user).await?, next: login.next, linked: Linked::Known, provider: name.clone() });
    }
    let Some(email) = verified_email else {
        return Err(AppError::Forbidden(format!(
            "{name} did not confirm an e-mail address for you, so Cairn cannot tell which account is yours. Sign in with your e-mail address and password, or ask {name} to confirm your address."
        )));
    };
    let (user, linked) = match app.store.user_by_email(&email).await? {
        Some(user) => {
            link(app, provider, &claims.sub, &user, &email).await?;
            (user, Linked::ByEmail)
        }
        None => {
            let display = claims.person.display_name().unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("Learner").to_string());
            match app.store.create_user_with_identity(&display, &email, &provider.id, &claims.sub, now).await {
                Ok(user) => (user, Linked::Created),
                // Another sign-in made the account or the link a moment ago.
                Err(StoreError::Conflict { .. }) => match app.store.use_oidc_identity(&provider.id, &claims.sub, email.as_str(), now).await? {
                    Some(user) => (app.store.user(user).await?, Linked::Known),
                    None => {
                        let user = app.store.user_by_email(&email).await?.ok_or_else(restart)?;
                        link(app, provider, &claims.sub, &user, &email).await?;
                        (user, Linked::ByEmail)
                    }
                },
                Err(error) => return Err(error.into()),
            }
        }
    };
    Ok(SignedIn { user, next: login.next, linked, provider: name.clone() })
}

/// Links `user` to `subject` and tells them by e-mail (a link they did not expect is worth
/// knowing about).
async fn link(app: &App, provider: &OidcProvider, subject: &str, user: &User, email: &Email) -> Result<(), AppError> {
    let now = app.now();
    match app.store.link_oidc_identity(&provider.id, subject, user.id, email.as_str(), now).await {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let body = format!(
        "You signed in to Cairn with {name} for the first time, so your Cairn account is now linked to it: you can sign in with {name} from now on.\n\n\
         If it was not you, change your password at {account} and unlink {name} there.\n",
        name = provider.name,
        account = app.config.url("/account"),
    );
    app.store.queue_mail(&user.email, &format!("{} is linked to your Cairn account", provider.name), &body, now).await?;
    Ok(())
}

/// The providers `actor` can sign in with: (provider name, link); links to providers the
/// operator removed since are listed under their id.
///
/// # Errors
/// Store failures.
pub async fn identities(app: &App, actor: &Actor) -> Result<Vec<(String, LinkedIdentity)>, AppError> {
    let links = app.store.oidc_identities_of(actor.user.ok_or(AppError::Unauthenticated)?).await?;
    Ok(links
        .into_iter()
        .map(|link| {
            let name = app.config.oidc_providers.iter().find(|p| p.id == link.provider).map_or_else(|| link.provider.clone(), |p| p.name.clone());
            (name, link)
        })
        .collect())
}

/// Ends `actor`'s link to `provider`.
///
/// # Errors
/// `NotFound` when there is none; `Conflict` when it is the account's only way in (no password
/// and no other link): set a password first.
pub async fn unlink(app: &App, actor: &Actor, provider: &str) -> Result<(), AppError> {
    let me = actor.user.ok_or(AppError::Unauthenticated)?;
    let links = app.store.oidc_identities_of(me).await?;
    if !links.iter().any(|l| l.provider == provider) {
        return Err(AppError::NotFound(format!("your account is not linked to \"{}\"", clip(provider, 40))));
    }
    let user = app.store.user(me).await?;
    let has_password = app.store.password_hash(&user.email).await?.is_some_and(|(_, hash)| hash != NO_PASSWORD);
    if !has_password && links.len() == 1 {
        return Err(AppError::conflict(
            "this is the only way into your account: set a password first (with \"Forgot your password?\" on the sign-in page), then unlink",
        ));
    }
    app.store.unlink_oidc_identity(me, provider).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Talking to the provider

fn client(provider: &OidcProvider) -> Result<reqwest::Client, AppError> {
    let host = Url::parse(&provider.issuer).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    checked_client(HostPolicy::public(&[host]), StdDuration::from_secs(REQUEST_TIMEOUT_SECS), concat!("Cairn/", env!("CARGO_PKG_VERSION")))
        .map_err(|e| AppError::internal(&e))
}

fn unreachable(provider: &OidcProvider, what: &str, why: impl std::fmt::Display) -> AppError {
    tracing::warn!(provider = %provider.id, %why, "{what}");
    AppError::Unavailable(format!("{} could not be reached to sign you in ({what}: {why}). Please try again later.", provider.name))
}

/// Reads a response's body, at most [`MAX_DOCUMENT_BYTES`].
async fn body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut kept = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if kept.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("the answer is larger than {} KB", MAX_DOCUMENT_BYTES / 1024));
        }
        kept.extend_from_slice(&chunk);
    }
    Ok(kept)
}

async fn get_json<T: serde::de::DeserializeOwned>(provider: &OidcProvider, url: &Url, what: &str) -> Result<T, AppError> {
    let response = client(provider)?.get(url.clone()).header("accept", "application/json").send().await.map_err(|e| unreachable(provider, what, e))?;
    let status = response.status();
    let bytes = body(response).await.map_err(|e| unreachable(provider, what, e))?;
    if !status.is_success() {
        return Err(unreachable(provider, what, format!("HTTP {status}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| unreachable(provider, what, e))
}

/// The provider's metadata, from the cache unless `refresh` or too old.
async fn metadata(app: &App, provider: &OidcProvider, refresh: bool) -> Result<Arc<Metadata>, AppError> {
    let now = app.now();
    if !refresh && let Some(cached) = app.caches.oidc.get(&provider.id, now) {
        return Ok(cached);
    }
    let base = provider.issuer.trim_end_matches('/');
    let url = Url::parse(&format!("{base}/.well-known/openid-configuration")).map_err(|e| unreachable(provider, "discovery", e))?;
    let discovery: Discovery = get_json(provider, &url, "discovery").await?;
    if discovery.issuer.trim_end_matches('/') != base {
        return Err(unreachable(
            provider,
            "discovery",
            format!("the document is for the issuer \"{}\", not \"{}\"", clip(&discovery.issuer, 100), provider.issuer),
        ));
    }
    if let Some(methods) = &discovery.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(unreachable(provider, "discovery", "the provider does not support PKCE with S256"));
    }
    let endpoint = |name: &str, raw: &str| {
        Url::parse(raw)
            .ok()
            .filter(|url| url.scheme() == "https" || (url.scheme() == "http" && url.host_str().is_some_and(crate::fetch::is_loopback)))
            .ok_or_else(|| unreachable(provider, "discovery", format!("its {name} \"{}\" is not an https address", clip(raw, 100))))
    };
    let endpoints = Endpoints {
        authorization: endpoint("authorization_endpoint", &discovery.authorization_endpoint)?,
        token: endpoint("token_endpoint", &discovery.token_endpoint)?,
        userinfo: discovery.userinfo_endpoint.as_deref().map(|raw| endpoint("userinfo_endpoint", raw)).transpose()?,
    };
    let keys: JwkSet = get_json(provider, &endpoint("jwks_uri", &discovery.jwks_uri)?, "keys").await?;
    let metadata = Arc::new(Metadata { discovery, endpoints, keys, fetched: now });
    app.caches.oidc.put(&provider.id, Arc::clone(&metadata));
    Ok(metadata)
}

#[derive(Debug, Deserialize)]
struct Tokens {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Exchanges the authorization code for tokens.
async fn exchange(app: &App, provider: &OidcProvider, metadata: &Metadata, code: &str, verifier: &str) -> Result<Tokens, AppError> {
    let redirect = redirect_uri(app, &provider.id);
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect.as_str()), ("code_verifier", verifier)];
    let methods = metadata.discovery.token_endpoint_auth_methods_supported.as_deref().unwrap_or_default();
    // client_secret_basic is the default when the provider lists nothing.
    let basic = methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") || !methods.iter().any(|m| m == "client_secret_post");
    let mut request = client(provider)?.post(metadata.endpoints.token.clone()).header("accept", "application/json");
    if basic {
        // RFC 6749 §2.3.1: the id and secret are form-encoded before they are put in the header.
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        request = request.basic_auth(encode(&provider.client_id), Some(encode(&provider.client_secret)));
    } else {
        form.push(("client_id", provider.client_id.as_str()));
        form.push(("client_secret", provider.client_secret.as_str()));
    }
    let response = request.form(&form).send().await.map_err(|e| unreachable(provider, "token", e))?;
    let status = response.status();
    let bytes = body(response).await.map_err(|e| unreachable(provider, "token", e))?;
    if !status.is_success() {
        if let Ok(error) = serde_json::from_slice::<TokenError>(&bytes) {
            let description = error.error_description.as_deref().map(|d| format!(" ({})", clip(d, 200))).unwrap_or_default();
            tracing::warn!(provider = %provider.id, error = %error.error, "the provider refused the authorization code");
            return Err(AppError::Forbidden(format!(
                "{} refused to complete the sign-in: \"{}\"{description}. Please start again.",
                provider.name,
                clip(&error.error, 60)
            )));
        }
        return Err(unreachable(provider, "token", format!("HTTP {status}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| unreachable(provider, "token", e))
}

/// `email_verified`, which some providers send as a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Verified {
    Flag(bool),
    Text(String),
}

impl Verified {
    fn yes(&self) -> bool {
        match self {
            Verified::Flag(flag) => *flag,
            Verified::Text(text) => text == "true",
        }
    }
}

/// Who the person is, as an ID token or the userinfo endpoint says.
#[derive(Debug, Clone, Default, Deserialize)]
struct Person {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<Verified>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
}

impl Person {
    /// A display name: `name`, or the given and family names.
    fn display_name(&self) -> Option<String> {
        let full =
            self.name.clone().unwrap_or_else(|| [self.given_name.as_deref(), self.family_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "));
        let clean: String = full.chars().filter(|c| !c.is_control()).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
        (!clean.is_empty()).then(|| clean.chars().take(MAX_NAME_CHARS).collect())
    }
}

/// The ID token's claims Cairn reads (`iss`, `aud` and times are checked by the decoder).
#[derive(Debug, Clone, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(flatten)]
    person: Person,
}

/// Verifies the ID token with the provider's keys (read again once when its key is not among
/// them: the provider may have rotated) and answers its claims.
async fn verify_id_token(app: &App, provider: &OidcProvider, metadata: Arc<Metadata>, token: &str, nonce: &str) -> Result<Claims, AppError> {
    let name = &provider.name;
    let invalid = |why: String| {
        tracing::warn!(provider = %provider.id, %why, "an ID token did not verify");
        AppError::Forbidden(format!("{name}'s answer did not verify ({why}), so you are not signed in. Please start again."))
    };
    if token.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid("the ID token is too large".into()));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("the ID token cannot be read: {e}")))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid(format!("the ID token is signed with {:?}, which Cairn does not accept", header.alg)));
    }
    let mut metadata = metadata;
    let mut key = find_key(&metadata.keys, header.kid.as_deref(), header.alg);
    if key.is_none() {
        metadata = self::metadata(app, provider, true).await?;
        key = find_key(&metadata.keys, header.kid.as_deref(), header.alg);
    }
    let jwk = key.ok_or_else(|| invalid("the key it is signed with is not among the provider's keys".into()))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(format!("the provider's key cannot be used: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[metadata.discovery.issuer.as_str()]);
    validation.set_audience(&[provider.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = CLOCK_LEEWAY_SECS;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| invalid(format!("{e}")))?.claims;
    if !claims.nonce.as_deref().is_some_and(|n| same_secret(n, nonce)) {
        return Err(invalid("the nonce is not the one this sign-in sent".into()));
    }
    let audiences = match &claims.aud {
        Some(Value::Array(list)) => list.len(),
        _ => 1,
    };
    if (audiences > 1 || claims.azp.is_some()) && claims.azp.as_deref() != Some(provider.client_id.as_str()) {
        return Err(invalid("it was issued to another party (azp)".into()));
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(invalid("its subject is empty or too long".into()));
    }
    Ok(claims)
}

/// The key an ID token names (`kid`), or, without one, the only key for its algorithm's type.
fn find_key(keys: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<jsonwebtoken::jwk::Jwk> {
    if let Some(kid) = kid {
        return keys.find(kid).cloned();
    }
    let family = alg.family();
    let mut fitting = keys.keys.iter().filter(|k| DecodingKey::from_jwk(k).is_ok_and(|d| d.family() == family));
    let first = fitting.next()?;
    fitting.next().is_none().then(|| first.clone())
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    person: Person,
}

async fn userinfo(provider: &OidcProvider, endpoint: &Url, access_token: &str) -> Result<UserInfo, AppError> {
    let response = client(provider)?
        .get(endpoint.clone())
        .bearer_auth(access_token)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| unreachable(provider, "userinfo", e))?;
    let status = response.status();
    let bytes = body(response).await.map_err(|e| unreachable(provider, "userinfo", e))?;
    if !status.is_success() {
        return Err(unreachable(provider, "userinfo", format!("HTTP {status}")));
    }
    serde_json::from_slice(&bytes).map_err(|e| unreachable(provider, "userinfo", e))
}

// ---------------------------------------------------------------------------------------------

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier (43 characters).
fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn clip(text: &str, chars: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= chars { clean } else { format!("{}…", clean.chars().take(chars).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(scopes: &[&str]) -> OidcProvider {
        OidcProvider {
            id: "uni".into(),
            name: "University".into(),
            issuer: "https://login.example.edu".into(),
            client_id: "cairn".into(),
            client_secret: "s3cret".into(),
            scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn openid_and_email_are_always_asked_for_once() {
        assert_eq!(scopes(&provider(&[])), ["openid", "email"]);
        assert_eq!(scopes(&provider(&["openid", "profile", "email"])), ["openid", "email", "profile"]);
    }

    #[test]
    fn the_secret_is_never_in_debug_output() {
        let text = format!("{:?}", provider(&[]));
        assert!(!text.contains("s3cret") && text.contains("***"), "{text}");
    }

    #[test]
    fn names_come_from_name_or_given_and_family_names_without_control_characters() {
        let claims = |json: Value| serde_json::from_value::<Claims>(json).unwrap().person;
        assert_eq!(claims(serde_json::json!({"sub": "1", "name": " Ada \n Lovelace "})).display_name().as_deref(), Some("Ada Lovelace"));
        assert_eq!(claims(serde_json::json!({"sub": "1", "given_name": "Ada", "family_name": "Lovelace"})).display_name().as_deref(), Some("Ada Lovelace"));
        assert_eq!(claims(serde_json::json!({"sub": "1"})).display_name(), None);
        let long = "x".repeat(500);
        assert_eq!(claims(serde_json::json!({"sub": "1", "name": long})).display_name().unwrap().chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn email_verified_may_be_a_flag_or_text() {
        let verified = |json: Value| serde_json::from_value::<Claims>(json).unwrap().person.email_verified.is_some_and(|v| v.yes());
        assert!(verified(serde_json::json!({"sub": "1", "email_verified": true})));
        assert!(verified(serde_json::json!({"sub": "1", "email_verified": "true"})));
        assert!(!verified(serde_json::json!({"sub": "1", "email_verified": false})));
        assert!(!verified(serde_json::json!({"sub": "1", "email_verified": "false"})));
        assert!(!verified(serde_json::json!({"sub": "1"})));
    }

    #[test]
    fn a_key_is_found_by_kid_or_as_the_only_one_of_its_kind() {
        let keys: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "a", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "b", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}))
        .unwrap();
        assert_eq!(find_key(&keys, Some("b"), Algorithm::EdDSA).unwrap().common.key_id.as_deref(), Some("b"));
        assert!(find_key(&keys, Some("c"), Algorithm::EdDSA).is_none());
        assert!(find_key(&keys, None, Algorithm::EdDSA).is_none(), "two keys fit: none is chosen");
        let one = JwkSet { keys: keys.keys[..1].to_vec() };
        assert!(find_key(&one, None, Algorithm::EdDSA).is_some());
        assert!(find_key(&one, None, Algorithm::RS256).is_none());
    }

    #[test]
    fn random_texts_are_pkce_sized_and_differ() {
        let (a, b) = (random_text(), random_text());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
