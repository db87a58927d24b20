//! What a page says after a redirect, kept out of the address bar: the one-time notice ("Your
//! changes are saved") and the failed form, both carried by short-lived, HttpOnly, SameSite=Lax
//! cookies by one layer, [`flash`].
//!
//! - **Notices.** A handler redirects with `pages::see_other_with(path, code)`, which marks the
//!   response with [`SetNotice`]; this layer turns the mark into a `cairn_notice` cookie holding
//!   the code (only codes of the fixed list, `pages::notice_message`). The next page request
//!   gets the message as a [`Notice`] (the layout shows it) and, once an HTML page has shown it,
//!   the cookie is cleared: a notice appears once and never lives in a URL one could share.
//! - **Failed forms (post/redirect/get).** A page form that fails answers with its page again,
//!   the typed values and the errors in it (4xx, HTML). This layer keeps that page in memory
//!   ([`KeptForms`]) under a random id in a `cairn_form` cookie and redirects (303) to the
//!   address the form was posted to; a GET of that address from the same browser (same CSRF
//!   token and session) gets the kept page back, as often as it is reloaded, until the browser's
//!   next successful form post or [`FORM_SECONDS`]. The address bar so never holds a URL that
//!   answers a reload with "405 Method Not Allowed", and nothing typed is lost. Script and API
//!   clients (`Accept: application/json`) get the answer as it is.
//!
//! Kept pages live in this process: behind a load balancer without sticky sessions, a reload that
//! reaches another instance shows the form's page as the handler renders it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::{CsrfToken, cookie, random_token, session_cookie, set_cookie};
use crate::routes::pages::notice_message;
use crate::state::AppState;

/// The cookie holding the code of a notice still to show.
pub const NOTICE_COOKIE: &str = "cairn_notice";
/// The cookie naming this browser's kept failed form.
pub const FORM_COOKIE: &str = "cairn_form";
/// How long a notice waits to be shown: the redirect that sets it is followed at once.
pub const NOTICE_SECONDS: i64 = 120;
/// How long a failed form is kept for reloads.
pub const FORM_SECONDS: i64 = 60 * 60;
/// The largest page kept; a larger one (a pasted credential of megabytes) is answered as it is.
pub const MAX_KEPT_PAGE_BYTES: usize = 1024 * 1024;
/// The most bytes all kept pages together hold; the oldest go first.
pub const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;

/// Marks a redirect: the next page shows the notice with this code.
#[derive(Debug, Clone)]
pub struct SetNotice(pub String);

/// The notice a page request brings, as the layout shows it.
#[derive(Debug, Clone, Copy)]
pub struct Notice(pub &'static str);

/// One kept failed form.
#[derive(Debug)]
struct KeptPage {
    /// The path and query the form was posted to, where it is shown again.
    path: String,
    /// The browser's CSRF token and session cookie when it failed: only that browser, still in
    /// the same session, gets it back.
    owner: String,
    status: StatusCode,
    html: Bytes,
    until: Instant,
}

#[derive(Debug, Default)]
struct Kept {
    pages: HashMap<String, KeptPage>,
    /// Ids, oldest first, for eviction.
    order: VecDeque<String>,
    bytes: usize,
}

/// Failed forms kept for their browsers, in memory, within [`MAX_KEPT_BYTES`].
#[derive(Debug, Default)]
pub struct KeptForms {
    kept: Mutex<Kept>,
}

impl KeptForms {
    fn keep(&self, id: String, page: KeptPage) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        kept.bytes += page.html.len();
        kept.pages.insert(id.clone(), page);
        kept.order.push_back(id);
        while kept.bytes > MAX_KEPT_BYTES || kept.order.front().is_some_and(|oldest| kept.pages.get(oldest).is_none_or(|p| p.until <= now)) {
            let Some(oldest) = kept.order.pop_front() else { break };
            if let Some(gone) = kept.pages.remove(&oldest) {
                kept.bytes -= gone.html.len();
            }
        }
    }

    /// The page kept under `id` for `path`, if `owner` left it there and it has not expired.
    fn get(&self, id: &str, path: &str, owner: &str) -> Option<(StatusCode, Bytes)> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let page = kept.pages.get(id)?;
        (page.path == path && page.owner == owner && page.until > Instant::now()).then(|| (page.status, page.html.clone()))
    }

    fn forget(&self, id: &str) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gone) = kept.pages.remove(id) {
            kept.bytes -= gone.html.len();
            kept.order.retain(|other| other != id);
        }
    }
}

/// Whether a request wants a page (a browser) rather than JSON (scripts, the autosave).
fn wants_page(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    !accept.contains("application/json") || accept.contains("text/html")
}

fn is_html(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"))
}

/// A failed page form: its page again, with a client error status (not a throttled one, whose
/// `Retry-After` belongs to the answer itself).
fn is_failed_form(response: &Response) -> bool {
    response.status().is_client_error() && response.status() != StatusCode::TOO_MANY_REQUESTS && is_html(response)
}

fn clear(state: &AppState, name: &str) -> HeaderValue {
    set_cookie(state, name, "", 0, "Lax")
}

/// The layer described in the module documentation; it sits inside the CSRF layer, whose token
/// ties a kept form to its browser.
pub async fn flash(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path_and_query().map_or_else(|| request.uri().path().to_string(), |p| p.as_str().to_string());
    let page = wants_page(request.headers());
    let notice = cookie(request.headers(), NOTICE_COOKIE).and_then(notice_message);
    let form_id = cookie(request.headers(), FORM_COOKIE).filter(|id| (16..=64).contains(&id.len())).map(str::to_string);
    let csrf = request.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
    let owner = format!("{csrf} {}", cookie(request.headers(), session_cookie(&state)).unwrap_or(""));

    if method == Method::GET
        && let Some((status, html)) = form_id.as_deref().and_then(|id| state.forms.get(id, &path, &owner))
    {
        let mut response = (status, Body::from(html)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    // A notice waits for a page to show it; a form post's answer is not that page.
    if let (Some(message), true) = (notice, method == Method::GET) {
        request.extensions_mut().insert(Notice(message));
    }
    let mut response = next.run(request).await;

    if method == Method::POST && page {
        let fits = response.body().size_hint().upper().is_some_and(|size| size <= MAX_KEPT_PAGE_BYTES as u64);
        if is_failed_form(&response) && fits && !csrf.is_empty() {
            let status = response.status();
            let body = std::mem::take(response.body_mut());
            // The size hint is exact for rendered pages, so reading cannot fail on the limit.
            let html = match axum::body::to_bytes(body, MAX_KEPT_PAGE_BYTES).await {
                Ok(html) => html,
                Err(_) => return response,
            };
            let id = random_token();
            state
                .forms
                .keep(id.clone(), KeptPage { path: path.clone(), owner, status, html, until: Instant::now() + Duration::from_secs(FORM_SECONDS as u64) });
            let mut redirect = Redirect::to(&path).into_response();
            redirect.headers_mut().append(header::SET_COOKIE, set_cookie(&state, FORM_COOKIE, &id, FORM_SECONDS, "Lax"));
            return redirect;
        }
        // A form that went through: what was kept may be stale now.
        if (response.status().is_success() || response.status().is_redirection())
            && let Some(id) = &form_id
        {
            state.forms.forget(id);
            response.headers_mut().append(header::SET_COOKIE, clear(&state, FORM_COOKIE));
        }
    }

    if let Some(SetNotice(code)) = response.extensions_mut().remove::<SetNotice>() {
        if notice_message(&code).is_some() {
            response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, NOTICE_COOKIE, &code, NOTICE_SECONDS, "Lax"));
        }
    } else if notice.is_some() && method == Method::GET && response.status().is_success() && is_html(&response) {
        response.headers_mut().append(header::SET_COOKIE, clear(&state, NOTICE_COOKIE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, owner: &str, size: usize, seconds: u64) -> KeptPage {
        KeptPage {
            path: path.into(),
            owner: owner.into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            html: Bytes::from(vec![b'x'; size]),
            until: Instant::now() + Duration::from_secs(seconds),
        }
    }

    #[test]
    fn a_kept_form_is_shown_only_at_its_address_to_its_browser() {
        let forms = KeptForms::default();
        forms.keep("a".into(), page("/signup", "csrf session", 10, 60));
        assert!(forms.get("a", "/signup", "csrf session").is_some());
        assert!(forms.get("a", "/login", "csrf session").is_none(), "another address");
        assert!(forms.get("a", "/signup", "other session").is_none(), "another browser or session");
        assert!(forms.get("b", "/signup", "csrf session").is_none(), "another id");
        forms.forget("a");
        assert!(forms.get("a", "/signup", "csrf session").is_none(), "forgotten after a form went through");
    }

    #[test]
    fn kept_forms_expire_and_the_oldest_go_when_memory_is_full() {
        let forms = KeptForms::default();
        forms.keep("old".into(), page("/a", "o", 10, 0));
        assert!(forms.get("old", "/a", "o").is_none(), "expired");
        let big = MAX_KEPT_BYTES / 2 + 1;
        forms.keep("first".into(), page("/a", "o", big, 60));
        forms.keep("second".into(), page("/a", "o", big, 60));
        assert!(forms.get("first", "/a", "o").is_none(), "evicted");
        assert!(forms.get("second", "/a", "o").is_some());
        assert!(forms.kept.lock().unwrap().bytes <= MAX_KEPT_BYTES);
    }

    #[test]
    fn scripts_get_answers_as_they_are() {
        let mut headers = HeaderMap::new();
        assert!(wants_page(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_page(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html,application/json"));
        assert!(wants_page(&headers));
    }
}
