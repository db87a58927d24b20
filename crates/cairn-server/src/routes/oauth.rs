//! The OAuth 2.0 authorization server's machine endpoints (`cairn_app::oauth`): metadata
//! (RFC 8414), dynamic client registration (RFC 7591), the token endpoint (RFC 6749 §3.2, with
//! PKCE) and revocation (RFC 7009). Their errors are OAuth's own JSON (`{"error",
//! "error_description"}`), not problem documents, as OAuth clients expect. The consent page is
//! a page: `routes::pages::oauth`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cairn_app::AppError;
use cairn_app::oauth::{self, ClientCredentials, TokenFields};
use cairn_app::wallet;
use cairn_core::oauth::{ClientFields, ErrorCode, OAuthError};
use cairn_vc::oid4vci::PRE_AUTHORIZED_CODE_GRANT;
use serde_json::{Value, json};

use crate::auth::ClientAddress;
use crate::extract::media_type;
use crate::problem::Problem;
use crate::state::AppState;

/// Largest registration document read.
const MAX_REGISTRATION_BYTES: usize = 64 * 1024;
/// Largest token or revocation form read.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/oauth/register", post(register))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
}

/// A JSON answer that must not be cached (it may hold secrets).
pub(super) fn no_store_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An OAuth error answer: 401 for a client that failed to authenticate (with a `Basic`
/// challenge when it tried Basic), 400 otherwise; a failure that is not OAuth's becomes a
/// problem document.
pub(super) fn oauth_error(error: AppError, basic: bool) -> Response {
    let error = match error {
        AppError::OAuth(error) => error,
        AppError::Invalid(invalid) => OAuthError::new(ErrorCode::InvalidRequest, invalid.to_string()),
        other => return Problem::from(other).into_response(),
    };
    let status = if error.code == ErrorCode::InvalidClient { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    let mut response = no_store_json(status, &json!({"error": error.code.as_str(), "error_description": error.description}));
    if status == StatusCode::UNAUTHORIZED && basic {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"cairn\""));
    }
    response
}

async fn metadata(State(state): State<AppState>) -> Response {
    let mut response = axum::Json(oauth::server_metadata(&state.app)).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn metadata_error(description: impl Into<String>) -> AppError {
    AppError::OAuth(OAuthError::new(ErrorCode::InvalidClientMetadata, description))
}

/// A registration's fields from its JSON, each of the type RFC 7591 gives it.
fn client_fields(body: &Value) -> Result<ClientFields, AppError> {
    let object = body.as_object().ok_or_else(|| metadata_error("send the client metadata as a JSON object"))?;
    let text = |name: &str| -> Result<Option<String>, AppError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(metadata_error(format!("{name} must be a string"))),
        }
    };
    let list = |name: &str| -> Result<Option<Vec<String>>, AppError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) if items.len() <= 50 => items
                .iter()
                .map(|item| item.as_str().map(str::to_string).ok_or_else(|| metadata_error(format!("{name} must be a list of strings"))))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(metadata_error(format!("{name} must be a list of at most 50 strings"))),
        }
    };
    Ok(ClientFields {
        redirect_uris: list("redirect_uris")?,
        client_name: text("client_name")?,
        client_uri: text("client_uri")?,
        logo_uri: text("logo_uri")?,
        tos_uri: text("tos_uri")?,
        policy_uri: text("policy_uri")?,
        software_id: text("software_id")?,
        software_version: text("software_version")?,
        contacts: list("contacts")?,
        scope: text("scope")?,
        token_endpoint_auth_method: text("token_endpoint_auth_method")?,
        grant_types: list("grant_types")?,
        response_types: list("response_types")?,
    })
}

/// `POST /oauth/register`: RFC 7591 dynamic registration; 201 with the client's metadata and,
/// for a confidential client, its secret.
async fn register(State(state): State<AppState>, ClientAddress(address): ClientAddress, headers: HeaderMap, body: Bytes) -> Response {
    let json_type = media_type(&headers) == "application/json";
    let result = async {
        if !json_type {
            return Err(metadata_error("send the registration as application/json"));
        }
        if body.len() > MAX_REGISTRATION_BYTES {
            return Err(metadata_error(format!("the registration is larger than {} KB", MAX_REGISTRATION_BYTES / 1024)));
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| metadata_error(format!("the registration is not JSON: {e}")))?;
        oauth::register(&state.app, client_fields(&value)?, address).await
    }
    .await;
    match result {
        Ok(registered) => no_store_json(StatusCode::CREATED, &registered.response),
        Err(error) => oauth_error(error, false),
    }
}

/// A form's fields; a parameter sent twice is refused (RFC 6749 §3.2).
fn form_fields(headers: &HeaderMap, body: &Bytes) -> Result<Vec<(String, String)>, AppError> {
    let form_type = media_type(headers) == "application/x-www-form-urlencoded";
    let invalid = |text: &str| AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, text));
    if !form_type {
        return Err(invalid("send the request as application/x-www-form-urlencoded"));
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(invalid("the request is too large"));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(other, _)| other == name) {
            return Err(AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, format!("the parameter {name:?} is sent more than once"))));
        }
    }
    Ok(pairs)
}

fn field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1: both halves form-encoded), or
/// `client_id` and `client_secret` in the form; both at once are refused. The bool says whether
/// Basic was used.
fn client_credentials(headers: &HeaderMap, pairs: &[(String, String)]) -> Result<(ClientCredentials, bool), AppError> {
    let invalid_client = |text: &str| AppError::OAuth(OAuthError::new(ErrorCode::InvalidClient, text));
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let encoded = value.strip_prefix("Basic ").ok_or_else(|| invalid_client("client authentication is HTTP Basic or the form's client_secret"))?;
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| invalid_client("the Basic credentials are not base64 text"))?;
        let (id, secret) = decoded.split_once(':').ok_or_else(|| invalid_client("the Basic credentials hold no colon"))?;
        let decode = |part: &str| url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
        if field(pairs, "client_secret").is_some() {
            return Err(AppError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "authenticate one way: HTTP Basic or client_secret, not both")));
        }
        if field(pairs, "client_id").is_some_and(|form_id| form_id != decode(id)) {
            return Err(invalid_client("the form's client_id differs from the Basic credentials'"));
        }
        return Ok((ClientCredentials { id: decode(id), secret: Some(decode(secret)) }, true));
    }
    let id = field(pairs, "client_id").ok_or_else(|| invalid_client("name the client: client_id, or HTTP Basic"))?;
    Ok((ClientCredentials { id, secret: field(pairs, "client_secret") }, false))
}

/// `POST /oauth/token`: an authorization code or a refresh token for an access token; or a
/// wallet's pre-authorized code (OID4VCI, `cairn_app::wallet`), which needs no client.
async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut basic = false;
    let result = async {
        let pairs = form_fields(&headers, &body)?;
        if field(&pairs, "grant_type").as_deref() == Some(PRE_AUTHORIZED_CODE_GRANT) {
            let token = wallet::token(&state.app, field(&pairs, "pre-authorized_code").as_deref(), field(&pairs, "tx_code").as_deref()).await?;
            return Ok(json!({
                "access_token": token.access_token,
                "token_type": "Bearer",
                "expires_in": token.expires_in.whole_seconds(),
                "c_nonce": token.c_nonce,
                "c_nonce_expires_in": token.c_nonce_expires_in.whole_seconds(),
            }));
        }
        let (credentials, used_basic) = client_credentials(&headers, &pairs)?;
        basic = used_basic;
        let fields = TokenFields {
            grant_type: field(&pairs, "grant_type"),
            code: field(&pairs, "code"),
            redirect_uri: field(&pairs, "redirect_uri"),
            code_verifier: field(&pairs, "code_verifier"),
            refresh_token: field(&pairs, "refresh_token"),
            scope: field(&pairs, "scope"),
        };
        let tokens = oauth::token(&state.app, &credentials, fields).await?;
        let mut body = json!({
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in.whole_seconds(),
            "scope": tokens.scopes.to_string(),
        });
        if let Some(refresh) = tokens.refresh_token {
            body["refresh_token"] = json!(refresh);
        }
        Ok(body)
    }
    .await;
    match result {
        Ok(body) => no_store_json(StatusCode::OK, &body),
        Err(error) => oauth_error(error, basic),
    }
}

/// `POST /oauth/revoke`: RFC 7009; 200 whether or not the token was known.
async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut basic = false;
    let result = async {
        let pairs = form_fields(&headers, &body)?;
        let (credentials, used_basic) = client_credentials(&headers, &pairs)?;
        basic = used_basic;
        oauth::revoke(&state.app, &credentials, field(&pairs, "token").as_deref()).await
    }
    .await;
    match result {
        Ok(()) => no_store_json(StatusCode::OK, &json!({})),
        Err(error) => oauth_error(error, basic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_and_never_mixed_with_the_form() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("my+client:s%3Acret"))).unwrap());
        let (credentials, basic) = client_credentials(&headers, &[]).unwrap();
        assert!(basic);
        assert_eq!(credentials.id, "my client");
        assert_eq!(credentials.secret.as_deref(), Some("s:cret"));
        let both = client_credentials(&headers, &[("client_secret".into(), "x".into())]).unwrap_err();
        assert!(matches!(both, AppError::OAuth(OAuthError { code: ErrorCode::InvalidRequest, .. })));
        let public = client_credentials(&HeaderMap::new(), &[("client_id".into(), "c1".into())]).unwrap();
        assert_eq!(public.0, ClientCredentials { id: "c1".into(), secret: None });
        assert!(client_credentials(&HeaderMap::new(), &[]).is_err());
    }

    #[test]
    fn forms_refuse_repeated_parameters_and_other_types() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded;charset=UTF-8"));
        assert_eq!(form_fields(&headers, &Bytes::from_static(b"a=1&b=2")).unwrap().len(), 2);
        assert!(form_fields(&headers, &Bytes::from_static(b"a=1&a=2")).is_err());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(form_fields(&headers, &Bytes::from_static(b"a=1")).is_err());
    }
}
