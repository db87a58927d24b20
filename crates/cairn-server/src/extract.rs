//! Cairn's own extractors: bad JSON or form input becomes a [`Problem`] like any other error, and
//! every HTML form is checked against the browser's CSRF token here, once.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::CsrfToken;
use crate::problem::Problem;

/// JSON request bodies for the API.
pub struct ApiJson<T>(pub T);

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large("the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::unsupported_media_type("send the body as application/json"),
        _ => Problem::malformed(rejection.body_text()),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state).await.map(|axum::Json(value)| ApiJson(value)).map_err(json_problem)
    }
}

/// Query strings; a malformed one is a 400 problem.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| Problem::malformed(rejection.body_text()))
    }
}

/// A submitted HTML form as ordered name/value pairs (repeated names allowed, as in rubric
/// grids), already checked against the CSRF token.
#[derive(Debug, Clone, Default)]
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The first value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let value = self.get(name).trim();
        (!value.is_empty()).then(|| value.to_string())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let csrf = request.extensions().get::<CsrfToken>().cloned().ok_or_else(Problem::csrf)?;
        let axum::Form(pairs) =
            axum::Form::<Vec<(String, String)>>::from_request(request, state).await.map_err(|rejection: FormRejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large("the form is too large"),
                _ => Problem::malformed(rejection.body_text()),
            })?;
        let fields = FormFields(pairs);
        csrf.verify(fields.get("csrf"))?;
        Ok(fields)
    }
}

/// The request's media type (`Content-Type` without its parameters, lower case), or "".
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    let value = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Parses an id from a path segment; an unparsable id is simply not found.
///
/// # Errors
/// A 404 [`Problem`] naming `what`.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, Problem> {
    raw.parse().map_err(|_| Problem::not_found(format!("{what} \"{}\" not found", raw.chars().take(60).collect::<String>())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_keep_order_and_repeats() {
        let form = FormFields(vec![("a".into(), "1".into()), ("b".into(), " ".into()), ("a".into(), "2".into())]);
        assert_eq!(form.get("a"), "1");
        assert_eq!(form.all("a"), ["1", "2"]);
        assert_eq!(form.opt("b"), None);
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn media_types_drop_their_parameters_and_case() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(media_type(&headers), "");
        headers.insert(axum::http::header::CONTENT_TYPE, "Application/X-WWW-Form-Urlencoded ;charset=UTF-8".parse().unwrap());
        assert_eq!(media_type(&headers), "application/x-www-form-urlencoded");
        headers.insert(axum::http::header::CONTENT_TYPE, "text/csv".parse().unwrap());
        assert_eq!(media_type(&headers), "text/csv");
    }
}
