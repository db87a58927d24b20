//! Who is asking: browser sessions (cookies, for pages) and API tokens (`Authorization: Bearer`,
//! for the JSON API), turned into a [`cairn_core::authz::Actor`]; plus CSRF tokens for forms.
//!
//! The JSON API accepts bearer tokens only, so a cookie can never authorise an API call made by
//! another site; a read-only token may only read (`GET`, `HEAD`). Pages accept the session
//! cookie only, and every form carries a CSRF token. On an https installation the session cookie
//! is `__Host-cairn_session`: browsers then insist it is `Secure`, host-only and for `/`.

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_app::accounts::{self, Caller};
use cairn_core::authz::{Action, Actor};
use cairn_store::User;
use rand::RngCore;
use std::net::{IpAddr, SocketAddr};

use crate::problem::Problem;
use crate::state::AppState;

/// Name of the session cookie on a plain-http installation (development, tests).
pub const SESSION_COOKIE: &str = "cairn_session";
/// Name of the session cookie when the public URL is https: the `__Host-` prefix makes browsers
/// refuse it unless it is `Secure`, has `Path=/` and no `Domain`, so no other host can set it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-cairn_session";

/// The session cookie's name on this installation.
pub fn session_cookie(state: &AppState) -> &'static str {
    if state.app.config.secure_cookies() { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}
/// Name of the CSRF cookie (double-submit: the form field must equal it).
pub const CSRF_COOKIE: &str = "cairn_csrf";

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value with Cairn's attributes: HttpOnly, SameSite, Path=/, Secure on https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64, same_site: &str) -> HeaderValue {
    let secure = if state.app.config.secure_cookies() { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("cairn_invalid=1; Max-Age=0"))
}

/// A random token for cookies: 24 bytes, URL-safe base64.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The CSRF token of this browser, for hidden form fields.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// Checks a submitted form field against the browser's token.
    ///
    /// # Errors
    /// [`Problem::csrf`] when it does not match.
    pub fn verify(&self, submitted: &str) -> Result<(), Problem> {
        if !self.0.is_empty() && cairn_core::account::same_secret(&self.0, submitted) { Ok(()) } else { Err(Problem::csrf()) }
    }
}

/// Makes sure every browser has a CSRF cookie: reuses the one sent, or sets a new one, and puts
/// the token in the request for [`CsrfToken`] extraction.
pub async fn ensure_csrf_cookie(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let existing = cookie(request.headers(), CSRF_COOKIE).filter(|v| v.len() >= 16 && v.len() <= 64).map(str::to_string);
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (random_token(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, CSRF_COOKIE, &token, 60 * 60 * 24 * 365, "Strict"));
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(Problem::csrf)
    }
}

/// The person behind a page request (session cookie), or nobody.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<User>,
    pub actor: Actor,
    /// The raw session token, for log-out.
    pub session_token: Option<String>,
    /// How many of the user's notifications are unread: filled in for pages only (by
    /// `routes::pages::layout_data`), 0 elsewhere.
    pub unread_notifications: usize,
    /// The one-time notice this page shows (`crate::flash`).
    pub notice: Option<&'static str>,
}

impl Viewer {
    /// The signed-in user.
    ///
    /// # Errors
    /// A 401 [`Problem`] for anonymous viewers.
    pub fn require_user(&self) -> Result<&User, Problem> {
        self.user.as_ref().ok_or_else(Problem::unauthenticated)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let token = cookie(&parts.headers, session_cookie(state)).filter(|t| !t.is_empty() && t.len() <= 128).map(str::to_string);
        let Caller { user, actor } = accounts::session_caller(&state.app, token.as_deref()).await?;
        let notice = parts.extensions.get::<crate::flash::Notice>().map(|notice| notice.0);
        let viewer = Viewer { user, actor, session_token: token, unread_notifications: 0, notice };
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// The caller of a JSON API request (bearer token), or nobody.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub user: Option<User>,
    pub actor: Actor,
}

impl ApiCaller {
    /// The calling user.
    ///
    /// # Errors
    /// A 401 [`Problem`] without a valid token.
    pub fn require_user(&self) -> Result<&User, Problem> {
        self.user.as_ref().ok_or_else(Problem::unauthenticated)
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            let Caller { user, actor } = Caller::anonymous();
            return Ok(ApiCaller { user, actor });
        };
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(|| Problem::new(axum::http::StatusCode::UNAUTHORIZED, "unauthenticated", "the Authorization header must be \"Bearer <token>\""))?;
        let Caller { user, actor } = accounts::token_caller(&state.app, token).await?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            actor.authorise(Action::Change).map_err(cairn_app::AppError::from)?;
        }
        Ok(ApiCaller { user, actor })
    }
}

/// The client's address: the connection's peer, or, behind a reverse proxy named in the
/// `client_address_header` setting, the address that proxy reports (for `X-Forwarded-For`, its
/// last entry, the one the proxy itself added). `None` when neither is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

/// The address in a proxy's header value: the last comma-separated entry, without a port.
fn forwarded_address(value: &str) -> Option<IpAddr> {
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>().ok().or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(name) = &state.app.config.client_address_header {
            let value = parts.headers.get(name.as_str()).and_then(|v| v.to_str().ok());
            return Ok(ClientAddress(value.and_then(forwarded_address)));
        }
        Ok(ClientAddress(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; cairn_session_x=2; cairn_session=abc"));
        assert_eq!(cookie(&headers, "cairn_session"), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn proxies_report_the_client_in_their_last_entry() {
        assert_eq!(forwarded_address("203.0.113.9"), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(forwarded_address("10.0.0.1, 198.51.100.7"), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(forwarded_address("2001:db8::1"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(forwarded_address("[2001:db8::1]:443"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(forwarded_address("unknown"), None);
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let token = CsrfToken("abcdefghijklmnopqrstuvwx".into());
        assert!(token.verify("abcdefghijklmnopqrstuvwx").is_ok());
        assert!(token.verify("abcdefghijklmnopqrstuvwy").is_err());
        assert!(token.verify("").is_err());
        assert!(CsrfToken(String::new()).verify("").is_err());
    }
}
