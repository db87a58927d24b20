//! The OpenID for Verifiable Credential Issuance endpoints a wallet calls (`cairn_app::wallet`):
//! the credential issuer's metadata, the offer a QR code names, the nonce endpoint and the
//! credential endpoint. The token
//! endpoint is the OAuth server's (`routes::oauth`, the pre-authorized code grant); the offer is
//! made on the award page (`routes::pages::awards`) or over the API. Errors are OAuth's JSON
//! (`{"error", "error_description"}`), as wallets expect, with a Bearer challenge on 401.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::wallet;
use cairn_core::oauth::{ErrorCode, OAuthError};
use serde_json::{Value, json};

use super::oauth::{no_store_json, oauth_error};
use crate::extract::media_type;
use crate::state::AppState;

/// Largest credential request read: a request is a few hundred bytes and one key proof.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-credential-issuer", get(metadata))
        .route("/oid4vci/offers/{id}", get(offer))
        .route("/oid4vci/nonce", post(nonce))
        .route("/oid4vci/credential", post(credential))
}

async fn metadata(State(state): State<AppState>) -> Response {
    let mut response = axum::Json(wallet::issuer_metadata(&state.app)).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `GET /oid4vci/offers/{id}`: the credential offer a QR code names (`credential_offer_uri`),
/// never cached; 404 once it is used or expired.
async fn offer(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match wallet::offer_by_id(&state.app, &id).await {
        Ok(offer) => no_store_json(StatusCode::OK, &offer),
        Err(AppError::NotFound(detail)) => no_store_json(StatusCode::NOT_FOUND, &json!({"error": "not_found", "error_description": detail})),
        Err(error) => oauth_error(error, false),
    }
}

/// `POST /oid4vci/nonce`: a fresh `c_nonce` (OID4VCI §7), never cached.
async fn nonce(State(state): State<AppState>) -> Response {
    let (nonce, _) = wallet::nonce(&state.app);
    no_store_json(StatusCode::OK, &json!({"c_nonce": nonce}))
}

/// The Bearer token of `Authorization` (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn request_error(text: &str) -> AppError {
    AppError::OAuth(OAuthError::new(ErrorCode::InvalidCredentialRequest, text))
}

/// `POST /oid4vci/credential`: the award an access token collects, bound to the key the proof
/// names (OID4VCI §8). 1.0's answer is `{"credentials": [{"credential"}]}`; a request in the
/// shape of drafts 13 to 15 gets theirs, `{"credential"}`.
async fn credential(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let token = bearer(&headers);
        if token.is_none() {
            return Err(AppError::Unauthenticated);
        }
        if media_type(&headers) != "application/json" {
            return Err(request_error("send the credential request as application/json"));
        }
        if body.len() > MAX_REQUEST_BYTES {
            return Err(request_error("the credential request is too large"));
        }
        let request: Value = serde_json::from_slice(&body).map_err(|e| request_error(&format!("the credential request is not JSON: {e}")))?;
        wallet::collect(&state.app, token, &request).await
    }
    .await;
    match result {
        Ok(collected) if collected.legacy => no_store_json(StatusCode::OK, &json!({"credential": collected.credential})),
        Ok(collected) => no_store_json(StatusCode::OK, &json!({"credentials": [{"credential": collected.credential}]})),
        // No credentials: the challenge names no error (RFC 6750 §3.1).
        Err(AppError::Unauthenticated) => {
            let body = json!({"error": "invalid_token", "error_description": "send the access token the offer gave, as a Bearer token"});
            let mut response = no_store_json(StatusCode::UNAUTHORIZED, &body);
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cairn\""));
            response
        }
        Err(AppError::OAuth(OAuthError { code: ErrorCode::InvalidToken, description })) => {
            let mut response = no_store_json(StatusCode::UNAUTHORIZED, &json!({"error": "invalid_token", "error_description": description}));
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cairn\", error=\"invalid_token\""));
            response
        }
        Err(error) => oauth_error(error, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_whatever_the_scheme_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer cairn_wat_x"));
        assert_eq!(bearer(&headers), Some("cairn_wat_x"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }
}
