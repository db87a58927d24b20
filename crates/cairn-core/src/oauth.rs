//! OAuth 2.0 for the Open Badges 3.0 API: the spec's scopes, client registration (RFC 7591),
//! the authorization request with PKCE (RFC 7636, `S256` only), and the errors of RFC 6749.
//!
//! A host system (a learning platform, a wallet, an employer's tool) registers itself, sends the
//! learner to the consent page with an authorization request, and exchanges the code it gets back
//! for an access token and a refresh token. Everything a client sends is read here once into
//! checked types; the rules:
//!
//! - **Redirect addresses** are absolute, without a fragment, `https`, or `http` only on a
//!   loopback host (RFC 8252 §7.3); at most [`MAX_REDIRECT_URIS`]. An authorization request's
//!   `redirect_uri` must equal a registered one exactly; it may be left out only when the client
//!   registered one.
//! - **PKCE** is required, with `S256` only: a request without a challenge, or with `plain`, is
//!   refused. The verifier is 43 to 128 unreserved characters (RFC 7636 §4.1).
//! - **Scopes** are the four of the OB 3.0 API; a request asks for a subset of what its client
//!   registered, and for all of those when it names none.
//! - **Clients** are confidential (a secret, sent by HTTP Basic or in the form) or public (`none`,
//!   PKCE alone).

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::Duration;
use url::Url;

use crate::invalid::forbidden_char;

/// How long an authorization code works: RFC 6749 §4.1.2 recommends at most ten minutes.
pub const CODE_LIFETIME: Duration = Duration::minutes(5);
/// How long an access token works.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// How long a refresh token works unused; each refresh gives a new one.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(90);
/// Most redirect addresses one client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// Longest address (redirect, logo, home page, terms, policy) a client may register.
pub const MAX_URL_CHARS: usize = 2000;
/// Longest client name, software id or version.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest `state` a client may send; it comes back unchanged.
pub const MAX_STATE_CHARS: usize = 1000;
/// Most contact addresses a registration may give.
pub const MAX_CONTACTS: usize = 10;

/// A permission of the OB 3.0 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    CredentialReadonly,
    CredentialUpsert,
    ProfileReadonly,
    ProfileUpdate,
}

impl Scope {
    /// Every scope, in the order the consent page lists them.
    pub const ALL: [Scope; 4] = [Scope::CredentialReadonly, Scope::CredentialUpsert, Scope::ProfileReadonly, Scope::ProfileUpdate];

    /// The scope's URI, as the spec names it.
    pub fn uri(self) -> &'static str {
        match self {
            Scope::CredentialReadonly => "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly",
            Scope::CredentialUpsert => "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert",
            Scope::ProfileReadonly => "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly",
            Scope::ProfileUpdate => "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update",
        }
    }

    /// The spec's description, for the service description document.
    pub fn spec_description(self) -> &'static str {
        match self {
            Scope::CredentialReadonly => "Permission to read AchievementCredentials for the authenticated entity.",
            Scope::CredentialUpsert => "Permission to create or update AchievementCredentials for the authenticated entity.",
            Scope::ProfileReadonly => "Permission to read the profile for the authenticated entity.",
            Scope::ProfileUpdate => "Permission to update the profile for the authenticated entity.",
        }
    }

    /// What the learner allows, in words, for the consent page.
    pub fn words(self) -> &'static str {
        match self {
            Scope::CredentialReadonly => "See the badges you hold: those issued to you here and those you imported, with their signed credentials",
            Scope::CredentialUpsert => "Add badges to your backpack (each is verified first, and must be issued to your e-mail address)",
            Scope::ProfileReadonly => "See your name and e-mail address",
            Scope::ProfileUpdate => "Change your name",
        }
    }

    /// The scope a URI names.
    pub fn parse(uri: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.uri() == uri)
    }
}

/// A set of scopes, written as OAuth writes them: URIs separated by spaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// All four.
    pub fn all() -> Scopes {
        Scopes(Scope::ALL.into_iter().collect())
    }

    /// Reads a space-separated list; `None` names a scope this API does not have.
    pub fn parse(raw: &str) -> Result<Scopes, OAuthError> {
        let mut scopes = BTreeSet::new();
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            let scope = Scope::parse(word).ok_or_else(|| OAuthError::new(ErrorCode::InvalidScope, format!("unknown scope {}", shown(word))))?;
            scopes.insert(scope);
        }
        Ok(Scopes(scopes))
    }

    /// Reads a list kept by the store, which wrote it with [`Scopes::to_string`].
    pub fn from_stored(raw: &str) -> Scopes {
        Scopes(raw.split(' ').filter_map(Scope::parse).collect())
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.0.iter().map(|s| s.uri()).collect();
        f.write_str(&words.join(" "))
    }
}

/// An error code of RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1 and the
/// credential endpoint of OpenID for Verifiable Credential Issuance 1.0 (§8.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    InvalidRedirectUri,
    InvalidClientMetadata,
    InvalidToken,
    InsufficientScope,
    UnsupportedTokenType,
    InvalidCredentialRequest,
    UnknownCredentialConfiguration,
    InvalidProof,
    InvalidNonce,
    CredentialRequestDenied,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidCredentialRequest => "invalid_credential_request",
            ErrorCode::UnknownCredentialConfiguration => "unknown_credential_configuration",
            ErrorCode::InvalidProof => "invalid_proof",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::CredentialRequestDenied => "credential_request_denied",
        }
    }
}

/// An OAuth error: its code and a sentence for the client's developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError { code, description: description.into() }
    }

    fn metadata(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidClientMetadata, description)
    }

    fn request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidRequest, description)
    }
}

/// A value quoted in an error, shortened.
fn shown(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    format!("{short:?}")
}

/// How a client proves itself at the token and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// A secret, by HTTP Basic (`client_secret_basic`, RFC 7591's default) or in the form.
    SecretBasic,
    SecretPost,
    /// A public client: no secret, PKCE alone.
    None,
}

impl ClientAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::SecretBasic => "client_secret_basic",
            ClientAuth::SecretPost => "client_secret_post",
            ClientAuth::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<ClientAuth> {
        [ClientAuth::SecretBasic, ClientAuth::SecretPost, ClientAuth::None].into_iter().find(|a| a.as_str() == raw)
    }

    /// Whether the client has a secret.
    pub fn confidential(self) -> bool {
        self != ClientAuth::None
    }
}

/// A client's registration, as RFC 7591 §2 sends it (every field as JSON gives it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFields {
    pub redirect_uris: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub scope: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
}

/// A registration that obeys the rules: what is kept and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    pub contacts: Vec<String>,
    pub scopes: Scopes,
    pub auth: ClientAuth,
    /// Whether the client may use refresh tokens (`refresh_token` among its grant types).
    pub refresh: bool,
}

/// Whether `host` is a loopback host, where a native app's redirect may use plain http.
fn loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A web address a client may give: absolute, at most [`MAX_URL_CHARS`], `https`, or plain
/// `http` on a loopback host (RFC 8252 §7.3); otherwise why not, in words.
fn web_url(raw: &str) -> Result<Url, String> {
    if raw.len() > MAX_URL_CHARS {
        return Err(format!("longer than {MAX_URL_CHARS} characters"));
    }
    let url = Url::parse(raw).map_err(|_| "not an absolute address".to_string())?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback(&url) => Ok(url),
        "http" => Err("plain http is allowed only on a loopback host (localhost, 127.0.0.1, [::1])".into()),
        _ => Err("must be an https address".into()),
    }
}

/// A redirect address a client may register: a [`web_url`] with a host, no user and no fragment.
fn redirect_uri(raw: &str) -> Result<String, OAuthError> {
    let bad = |why: &str| OAuthError::new(ErrorCode::InvalidRedirectUri, format!("redirect_uri {}: {why}", shown(raw)));
    let url = web_url(raw).map_err(|why| bad(&why))?;
    if url.fragment().is_some() {
        return Err(bad("an address with a fragment (#…) cannot be a redirect"));
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must name a host and no user"));
    }
    Ok(raw.to_string())
}

/// An informational web address (home page, logo, terms, policy): a [`web_url`].
fn web_address(field: &str, raw: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else { return Ok(None) };
    match web_url(&raw) {
        Ok(_) => Ok(Some(raw)),
        Err(why) => Err(OAuthError::metadata(format!("{field} {}: {why}", shown(&raw)))),
    }
}

/// A short text field: no control characters, at most [`MAX_NAME_CHARS`].
fn short_text(field: &str, raw: Option<String>) -> Result<Option<String>, OAuthError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.trim().to_string();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(OAuthError::metadata(format!("{field} is longer than {MAX_NAME_CHARS} characters")));
    }
    if forbidden_char(&text).is_some() {
        return Err(OAuthError::metadata(format!("{field} holds control characters")));
    }
    Ok(Some(text))
}

impl NewClient {
    /// Checks a registration.
    ///
    /// # Errors
    /// `invalid_redirect_uri` for a missing or unusable redirect address; `invalid_client_metadata`
    /// for anything else that breaks the rules in the module documentation.
    pub fn parse(fields: ClientFields) -> Result<NewClient, OAuthError> {
        let uris = fields.redirect_uris.unwrap_or_default();
        if uris.is_empty() {
            return Err(OAuthError::new(ErrorCode::InvalidRedirectUri, "give at least one redirect_uri"));
        }
        if uris.len() > MAX_REDIRECT_URIS {
            return Err(OAuthError::new(ErrorCode::InvalidRedirectUri, format!("give at most {MAX_REDIRECT_URIS} redirect_uris")));
        }
        let mut redirect_uris: Vec<String> = Vec::with_capacity(uris.len());
        for uri in &uris {
            let uri = redirect_uri(uri)?;
            if !redirect_uris.contains(&uri) {
                redirect_uris.push(uri);
            }
        }
        let name = short_text("client_name", fields.client_name)?
            .ok_or_else(|| OAuthError::metadata("give a client_name: the learner sees it when asked to allow access"))?;
        let auth = match fields.token_endpoint_auth_method.as_deref() {
            None => ClientAuth::SecretBasic,
            Some(raw) => ClientAuth::parse(raw).ok_or_else(|| {
                OAuthError::metadata(format!("token_endpoint_auth_method {} is not supported: use client_secret_basic, client_secret_post or none", shown(raw)))
            })?,
        };
        let grant_types = fields.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
        for grant in &grant_types {
            if grant != "authorization_code" && grant != "refresh_token" {
                return Err(OAuthError::metadata(format!("grant type {} is not supported: use authorization_code and refresh_token", shown(grant))));
            }
        }
        if !grant_types.iter().any(|g| g == "authorization_code") {
            return Err(OAuthError::metadata("grant_types must include authorization_code"));
        }
        let response_types = fields.response_types.unwrap_or_else(|| vec!["code".into()]);
        if response_types.iter().any(|r| r != "code") || response_types.is_empty() {
            return Err(OAuthError::metadata("response_types may only be [\"code\"]"));
        }
        let scopes = match fields.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Scopes::all(),
            Some(raw) => Scopes::parse(raw).map_err(|error| OAuthError::metadata(error.description))?,
        };
        let contacts = fields.contacts.unwrap_or_default();
        if contacts.len() > MAX_CONTACTS {
            return Err(OAuthError::metadata(format!("give at most {MAX_CONTACTS} contacts")));
        }
        let mut kept = Vec::with_capacity(contacts.len());
        for contact in contacts {
            if let Some(contact) = short_text("contacts", Some(contact))? {
                kept.push(contact);
            }
        }
        Ok(NewClient {
            name,
            redirect_uris,
            client_uri: web_address("client_uri", fields.client_uri)?,
            logo_uri: web_address("logo_uri", fields.logo_uri)?,
            tos_uri: web_address("tos_uri", fields.tos_uri)?,
            policy_uri: web_address("policy_uri", fields.policy_uri)?,
            software_id: short_text("software_id", fields.software_id)?,
            software_version: short_text("software_version", fields.software_version)?,
            contacts: kept,
            scopes,
            auth,
            refresh: grant_types.iter().any(|g| g == "refresh_token"),
        })
    }
}

/// An authorization request's parameters (RFC 6749 §4.1.1, RFC 7636 §4.3), as the query gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationFields {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// What a registered client is allowed, for checking its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRules {
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
}

/// Where an authorization request's errors go: nowhere (an unknown client or a redirect that
/// is not registered: the learner is told, and not sent on), or back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRefusal {
    /// Shown to the learner; the client is not told.
    Shown(OAuthError),
    /// Sent back to the client's redirect address, with the request's `state`.
    Redirected { redirect_uri: String, state: Option<String>, error: OAuthError },
}

/// An authorization request that may be shown to the learner for consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
}

/// Whether a PKCE value (verifier or S256 challenge) has the form RFC 7636 §4.1 gives it.
fn pkce_form(value: &str) -> bool {
    (43..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl AuthorizationRequest {
    /// Checks an authorization request against its client's registration (`client` is `None`
    /// when `client_id` names no client).
    ///
    /// # Errors
    /// [`AuthorizationRefusal::Shown`] when the client or the redirect address cannot be trusted;
    /// otherwise [`AuthorizationRefusal::Redirected`] with the RFC 6749 code.
    pub fn parse(fields: AuthorizationFields, client: Option<&ClientRules>) -> Result<AuthorizationRequest, AuthorizationRefusal> {
        let shown_error = |code, text: &str| AuthorizationRefusal::Shown(OAuthError::new(code, text));
        let client_id =
            fields.client_id.clone().filter(|c| !c.is_empty()).ok_or_else(|| shown_error(ErrorCode::InvalidRequest, "the request names no client_id"))?;
        let client = client.ok_or_else(|| shown_error(ErrorCode::InvalidClient, "no application is registered under this client_id"))?;
        let redirect_uri = match fields.redirect_uri.as_deref() {
            Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_string(),
            Some(_) => return Err(shown_error(ErrorCode::InvalidRequest, "the redirect_uri is not one the application registered")),
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(shown_error(ErrorCode::InvalidRequest, "the application registered several redirect addresses, and the request names none")),
        };
        let state = fields.state.filter(|s| !s.is_empty());
        if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_CHARS) {
            return Err(shown_error(ErrorCode::InvalidRequest, "the state is too long"));
        }
        let back = |error: OAuthError| AuthorizationRefusal::Redirected { redirect_uri: redirect_uri.clone(), state: state.clone(), error };
        match fields.response_type.as_deref() {
            Some("code") => {}
            Some(other) => {
                return Err(back(OAuthError::new(ErrorCode::UnsupportedResponseType, format!("response_type {} is not supported: use code", shown(other)))));
            }
            None => return Err(back(OAuthError::request("the request names no response_type (use code)"))),
        }
        let code_challenge = match fields.code_challenge.as_deref() {
            Some(challenge) if challenge.len() == 43 && pkce_form(challenge) => challenge.to_string(),
            Some(_) => return Err(back(OAuthError::request("code_challenge must be the 43-character base64url SHA-256 of the code verifier"))),
            None => return Err(back(OAuthError::request("PKCE is required: send code_challenge and code_challenge_method=S256"))),
        };
        if fields.code_challenge_method.as_deref() != Some("S256") {
            return Err(back(OAuthError::request("code_challenge_method must be S256 (plain is not accepted)")));
        }
        let scopes = match fields.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => client.scopes.clone(),
            Some(raw) => Scopes::parse(raw).map_err(back)?,
        };
        if !scopes.is_subset(&client.scopes) {
            return Err(back(OAuthError::new(ErrorCode::InvalidScope, "the request asks for a scope the application did not register")));
        }
        if scopes.is_empty() {
            return Err(back(OAuthError::new(ErrorCode::InvalidScope, "the request asks for no scope")));
        }
        Ok(AuthorizationRequest { client_id, redirect_uri, scopes, state, code_challenge })
    }
}

/// The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Checks a token request's `code_verifier` against the challenge its code was issued for.
///
/// # Errors
/// `invalid_request` for a missing or malformed verifier, `invalid_grant` for one that does not match.
pub fn check_verifier(verifier: Option<&str>, challenge: &str) -> Result<(), OAuthError> {
    let verifier = verifier.ok_or_else(|| OAuthError::request("send the code_verifier (PKCE)"))?;
    if !pkce_form(verifier) {
        return Err(OAuthError::request("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~"));
    }
    if crate::account::same_secret(&s256_challenge(verifier), challenge) {
        Ok(())
    } else {
        Err(OAuthError::new(ErrorCode::InvalidGrant, "the code_verifier does not match the code_challenge"))
    }
}

/// What an access token allows; every call of the OB 3.0 API names the scope it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub scopes: Scopes,
}

impl Access {
    /// Checks that the token carries `scope`.
    ///
    /// # Errors
    /// `insufficient_scope` naming the scope.
    pub fn require(&self, scope: Scope) -> Result<(), OAuthError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(OAuthError::new(ErrorCode::InsufficientScope, format!("this needs the scope {}, which the access token does not carry", scope.uri())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(uris: &[&str]) -> ClientFields {
        ClientFields { redirect_uris: Some(uris.iter().map(|u| u.to_string()).collect()), client_name: Some("Example LMS".into()), ..ClientFields::default() }
    }

    #[test]
    fn scopes_round_trip_and_refuse_unknown_ones() {
        let all = Scopes::all();
        assert_eq!(Scopes::parse(&all.to_string()).unwrap(), all);
        assert_eq!(Scopes::from_stored(&all.to_string()), all);
        let error = Scopes::parse("https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly openid").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidScope);
        assert!(error.description.contains("openid"));
    }

    #[test]
    fn registrations_take_safe_redirects_and_default_to_every_scope() {
        let client = NewClient::parse(fields(&["https://lms.example/callback", "http://127.0.0.1:8080/cb", "http://localhost/cb"])).unwrap();
        assert_eq!(client.redirect_uris.len(), 3);
        assert_eq!(client.scopes, Scopes::all());
        assert_eq!(client.auth, ClientAuth::SecretBasic);
        assert!(!client.refresh);
        for bad in ["http://lms.example/cb", "https://lms.example/cb#x", "javascript:alert(1)", "/relative", "https://user:pw@lms.example/"] {
            let error = NewClient::parse(fields(&[bad])).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRedirectUri, "{bad}");
        }
        assert_eq!(NewClient::parse(fields(&[])).unwrap_err().code, ErrorCode::InvalidRedirectUri);
        let many: Vec<String> = (0..11).map(|i| format!("https://lms.example/{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(NewClient::parse(fields(&refs)).unwrap_err().code, ErrorCode::InvalidRedirectUri);
    }

    #[test]
    fn registrations_refuse_what_is_not_supported() {
        let mut no_name = fields(&["https://lms.example/cb"]);
        no_name.client_name = None;
        assert_eq!(NewClient::parse(no_name).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut implicit = fields(&["https://lms.example/cb"]);
        implicit.grant_types = Some(vec!["implicit".into()]);
        assert_eq!(NewClient::parse(implicit).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut token = fields(&["https://lms.example/cb"]);
        token.response_types = Some(vec!["token".into()]);
        assert_eq!(NewClient::parse(token).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut jwt = fields(&["https://lms.example/cb"]);
        jwt.token_endpoint_auth_method = Some("private_key_jwt".into());
        assert_eq!(NewClient::parse(jwt).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut logo = fields(&["https://lms.example/cb"]);
        logo.logo_uri = Some("http://cdn.example/logo.png".into());
        assert_eq!(NewClient::parse(logo).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut control = fields(&["https://lms.example/cb"]);
        control.client_name = Some("Evil\u{7}LMS".into());
        assert_eq!(NewClient::parse(control).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        let mut public = fields(&["https://lms.example/cb"]);
        public.token_endpoint_auth_method = Some("none".into());
        public.grant_types = Some(vec!["authorization_code".into(), "refresh_token".into()]);
        public.scope = Some(Scope::CredentialReadonly.uri().into());
        let public = NewClient::parse(public).unwrap();
        assert!(!public.auth.confidential());
        assert!(public.refresh);
        assert_eq!(public.scopes.iter().collect::<Vec<_>>(), vec![Scope::CredentialReadonly]);
    }

    fn rules() -> ClientRules {
        ClientRules { redirect_uris: vec!["https://lms.example/cb".into()], scopes: Scopes::all() }
    }

    fn request() -> AuthorizationFields {
        AuthorizationFields {
            response_type: Some("code".into()),
            client_id: Some("c1".into()),
            redirect_uri: Some("https://lms.example/cb".into()),
            scope: Some(Scope::ProfileReadonly.uri().into()),
            state: Some("xyz".into()),
            code_challenge: Some(s256_challenge("a-verifier-of-at-least-forty-three-characters-long")),
            code_challenge_method: Some("S256".into()),
        }
    }

    #[test]
    fn authorization_requests_need_pkce_s256_and_a_registered_redirect() {
        let parsed = AuthorizationRequest::parse(request(), Some(&rules())).unwrap();
        assert_eq!(parsed.scopes.iter().collect::<Vec<_>>(), vec![Scope::ProfileReadonly]);
        assert!(matches!(AuthorizationRequest::parse(request(), None), Err(AuthorizationRefusal::Shown(_))));
        let mut elsewhere = request();
        elsewhere.redirect_uri = Some("https://attacker.example/cb".into());
        assert!(matches!(AuthorizationRequest::parse(elsewhere, Some(&rules())), Err(AuthorizationRefusal::Shown(_))));
        let mut plain = request();
        plain.code_challenge_method = Some("plain".into());
        match AuthorizationRequest::parse(plain, Some(&rules())) {
            Err(AuthorizationRefusal::Redirected { error, state, .. }) => {
                assert_eq!(error.code, ErrorCode::InvalidRequest);
                assert_eq!(state.as_deref(), Some("xyz"));
            }
            other => panic!("{other:?}"),
        }
        let mut no_pkce = request();
        no_pkce.code_challenge = None;
        assert!(matches!(AuthorizationRequest::parse(no_pkce, Some(&rules())), Err(AuthorizationRefusal::Redirected { .. })));
        let mut narrow = rules();
        narrow.scopes = Scopes::parse(Scope::CredentialReadonly.uri()).unwrap();
        match AuthorizationRequest::parse(request(), Some(&narrow)) {
            Err(AuthorizationRefusal::Redirected { error, .. }) => assert_eq!(error.code, ErrorCode::InvalidScope),
            other => panic!("{other:?}"),
        }
        let mut no_scope = request();
        no_scope.scope = None;
        assert_eq!(AuthorizationRequest::parse(no_scope, Some(&rules())).unwrap().scopes, Scopes::all());
    }

    #[test]
    fn verifiers_are_checked_as_rfc_7636_says() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(check_verifier(Some(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").is_ok());
        assert_eq!(check_verifier(Some(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN").unwrap_err().code, ErrorCode::InvalidGrant);
        assert_eq!(check_verifier(None, "x").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(check_verifier(Some("short"), "x").unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn access_names_the_missing_scope() {
        let access = Access { scopes: Scopes::parse(Scope::ProfileReadonly.uri()).unwrap() };
        assert!(access.require(Scope::ProfileReadonly).is_ok());
        let error = access.require(Scope::ProfileUpdate).unwrap_err();
        assert_eq!(error.code, ErrorCode::InsufficientScope);
        assert!(error.description.contains("profile.update"));
    }
}
