//! `spawn_app(backend)`: the real application on a fresh database (SQLite in a temp dir, or a new
//! PostgreSQL database on `CAIRN_TEST_DATABASE_URL`), seeded with the demo, driven in-process.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cairn_app::{App, Config};
use cairn_server::AppState;
use cairn_store::{MasterKey, Store, StoreOptions};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The database's URL, for a second store on the same data.
    pub database_url: String,
    _dir: tempfile::TempDir,
    cleanup: Option<(String, String)>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// A header's value as text ("" when absent).
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Where a redirect goes ("" when it is none).
    pub fn location(&self) -> &str {
        self.header(header::LOCATION)
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) {
        let text = self.text();
        assert!(text.contains(needle), "expected {needle:?} in the page (status {}):\n{text}", self.status);
    }

    #[track_caller]
    pub fn assert_lacks(&self, needle: &str) {
        let text = self.text();
        assert!(!text.contains(needle), "did not expect {needle:?} in the page (status {}):\n{text}", self.status);
    }

    /// Asserts a 303 to a path starting with `prefix`.
    #[track_caller]
    pub fn assert_redirect(&self, prefix: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text());
        assert!(self.location().starts_with(prefix), "redirected to {:?}, expected {prefix:?}", self.location());
    }

    /// The value this response gives cookie `name` ("" when it clears it), if it sets it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|text| {
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| if attributes.contains("Max-Age=0") { String::new() } else { value.to_string() })
        })
    }

    /// Asserts a 303 to exactly `path` whose page is to show the notice `code` (a one-time
    /// cookie, never the URL).
    #[track_caller]
    pub fn assert_redirect_with(&self, path: &str, code: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text());
        assert_eq!(self.location(), path);
        assert_eq!(self.set_cookie("cairn_notice").as_deref(), Some(code), "the notice cookie");
    }

    /// Asserts an RFC 9457 problem with this status and slug, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, slug: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.content_type(), "application/problem+json", "{}", self.text());
        let body = self.json();
        assert!(body["type"].as_str().unwrap().ends_with(&format!("/problems/{slug}")), "{body}");
        assert_eq!(body["status"], status);
        assert!(body["title"].is_string() && body["detail"].is_string() && body["request_id"].is_string(), "{body}");
        body
    }
}

/// The PostgreSQL the tests use unless `CAIRN_TEST_DATABASE_URL` names another (each test gets
/// its own database in it, dropped afterwards).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Builds the app on `backend`, seeded with the demo.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let app = spawn_bare_app(backend).await;
    cairn_app::demo::seed(&app.state.app).await.unwrap();
    Some(app)
}

/// Builds the app on an empty database of `backend`.
pub async fn spawn_bare_app(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (url, cleanup) = match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.path().join("cairn.db").display()), None),
        Backend::Postgres => {
            // Always run: a PostgreSQL half that skipped itself would assert nothing.
            let admin_url = std::env::var("CAIRN_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty()).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
            let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
            admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path(&format!("/{name}"));
            (url.to_string(), Some((admin_url, name)))
        }
    };
    let store =
        Store::connect(&url, StoreOptions { master_key: MasterKey::from_bytes(MASTER_KEY), blobs: cairn_store::BlobLocation::Dir(dir.path().join("blobs")) })
            .await
            .unwrap();
    let mut config = Config::for_addr("127.0.0.1:8080".parse().unwrap(), dir.path().to_path_buf());
    // As `cairn serve --demo` does, the demo issuer operates the installation.
    config.operators = vec!["issuer@demo.cairn.test".into()];
    let state = AppState::new(App::new(store, config));
    TestApp { router: cairn_server::app(state.clone()), state, database_url: url, _dir: dir, cleanup }
}

/// The master key of every test app.
pub const MASTER_KEY: [u8; 32] = [7; 32];

/// Sends `request` to `router` and collects the answer.
pub async fn send_to(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    TestResponse { status, headers, body }
}

async fn admin_execute(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to CAIRN_TEST_DATABASE_URL");
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

impl TestApp {
    pub async fn finish(self) {
        self.state.app.store.close().await;
        if let Some((admin_url, name)) = self.cleanup {
            admin_execute(&admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send_to(&self.router, request).await
    }

    /// The same database and store under a changed configuration (with its own sign-in guards,
    /// made from that configuration).
    pub fn router_with(&self, change: impl FnOnce(&mut Config)) -> Router {
        let mut config = (*self.state.app.config).clone();
        change(&mut config);
        let mut app = App::new(self.state.app.store.clone(), config);
        app.clock = self.state.app.clock.clone();
        cairn_server::app(AppState::new(app))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        let mut request = Request::get(path).header(header::ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.raw(method, path, token, "application/json", body.to_string().into_bytes()).await
    }

    pub async fn raw(&self, method: &str, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// A multipart upload with one `file` field.
    pub async fn upload(&self, path: &str, token: Option<&str>, filename: &str, content_type: &str, bytes: &[u8]) -> TestResponse {
        let boundary = "cairn-test-boundary-7d1f";
        let mut body =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.raw("POST", path, token, &format!("multipart/form-data; boundary={boundary}"), body).await
    }

    /// Logs in over the API and returns a bearer token.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let response = self.json("POST", "/api/v1/session", None, &serde_json::json!({"email": email, "password": password})).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["token"].as_str().unwrap().to_string()
    }

    pub async fn issuer_token(&self) -> String {
        self.token("issuer@demo.cairn.test", "cairn-demo-issuer").await
    }

    /// The demo organisation's id.
    pub async fn demo_organisation(&self) -> String {
        let list = self.get("/api/v1/organisations", None).await.json();
        list["items"][0]["id"].as_str().unwrap().to_string()
    }
}

/// Emits `NAME::sqlite` and `NAME::postgres` running the same body against each backend.
macro_rules! backend_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::helpers::{Backend, TestApp, spawn_app};

            async fn run($app: &TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                let app = spawn_app(Backend::Sqlite).await.unwrap();
                run(&app).await;
                app.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = spawn_app(Backend::Postgres).await {
                    run(&app).await;
                    app.finish().await;
                }
            }
        }
    };
}

/// A valid micro-badge body for the API.
pub fn badge_body(name: &str) -> Value {
    serde_json::json!({
        "kind": "micro-badge",
        "name": name,
        "description": "Write a bash script that survives bad input.",
        "criteria": "Submit a script and its tests.",
        "rubric": {
            "levels": ["Developing", "Proficient", "Exemplary"],
            "criteria": [
                {"name": "Robustness", "required_level": "Proficient", "descriptors": ["Breaks on bad input", "Handles bad input", "Handles and reports bad input"]},
                {"name": "Tests", "description": "Automated tests", "required_level": 2, "descriptors": ["None", "Some", "Thorough"]}
            ]
        },
        "alignments": [{"target_name": "Shell scripting", "target_url": "https://example.org/skills/shell", "target_code": "SH-1", "target_type": "CFItem"}],
        "tags": ["bash", "scripting"],
        "effort_hours": 4,
        "fee": {"amount": "25", "currency": "usd"},
        "validity_months": 12
    })
}

/// A JSON document as a stable snapshot: pretty-printed, with what changes from run to run
/// (ids, times, signatures, keys, salts, hashes, submission codes) replaced by placeholders, so
/// that a snapshot shows the shape and every fixed value.
pub fn snapshot_text(value: &Value) -> String {
    fn redact(key: Option<&str>, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), redact(Some(k), v))).collect()),
            Value::Array(list) => Value::Array(list.iter().map(|v| redact(key, v)).collect()),
            Value::String(text) => {
                const OPAQUE: &[&str] =
                    &["proofValue", "identityHash", "salt", "encodedList", "jwt", "code", "publicKeyMultibase", "x", "hash", "token", "statusListIndex"];
                if key.is_some_and(|k| OPAQUE.contains(&k)) {
                    return Value::String(format!("[{}]", key.unwrap_or_default()));
                }
                let mut text = replace_uuids(text);
                if let Some(at) = text.find("/status/[uuid]#") {
                    text.replace_range(at + "/status/[uuid]#".len().., "[index]");
                }
                let text = replace_submission_codes(&text);
                if cairn_vc::dates::parse_rfc3339(&text).is_some() {
                    return Value::String("[time]".into());
                }
                Value::String(text)
            }
            other => other.clone(),
        }
    }
    let mut text = serde_json::to_string_pretty(&redact(None, value)).unwrap();
    text.push('\n');
    text
}

/// `text` with every blind submission code (`S-66XC-1QA9`) in it replaced by `[code]`.
fn replace_submission_codes(text: &str) -> String {
    let code = |w: &str| {
        let b = w.as_bytes();
        b.len() == 11 && b.starts_with(b"S-") && b[6] == b'-' && b.iter().enumerate().all(|(i, c)| [0, 1, 6].contains(&i) || c.is_ascii_alphanumeric())
    };
    text.split(' ').map(|word| if code(word) { "[code]" } else { word }).collect::<Vec<_>>().join(" ")
}

/// `text` with every UUID in it replaced by `[uuid]`.
fn replace_uuids(text: &str) -> String {
    let is_uuid = |candidate: &[u8]| {
        candidate.len() == 36 && candidate.iter().enumerate().all(|(i, b)| if [8, 13, 18, 23].contains(&i) { *b == b'-' } else { b.is_ascii_hexdigit() })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
            out.push_str("[uuid]");
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    out
}

/// What a browser asks for by default.
pub const HTML: &str = "text/html,application/xhtml+xml";

/// A client that keeps cookies and asks for HTML, like a browser, and sends its CSRF token with
/// forms. Its `router` may be swapped (the same data seen at another time or under another
/// configuration).
pub struct Browser {
    pub router: Router,
    pub cookies: std::collections::HashMap<String, String>,
}

impl Browser {
    pub fn new(router: Router) -> Browser {
        Browser { router, cookies: std::collections::HashMap::new() }
    }

    /// A browser signed in through the login form.
    pub async fn signed_in(router: Router, account: (&str, &str)) -> Browser {
        let mut browser = Browser::new(router);
        browser.log_in(account).await;
        browser
    }

    /// Signs in through the login form and, like a browser, opens the page it leads to (which
    /// shows the one-time "signed in" notice).
    pub async fn log_in(&mut self, (email, password): (&str, &str)) {
        let page = self.post("/login", &[("email", email), ("password", password)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
        let landing = page.location().to_string();
        self.get(&landing).await;
    }

    /// Sends `request` asking for HTML.
    pub async fn send(&mut self, request: Request<Body>) -> TestResponse {
        self.send_as(request, HTML).await
    }

    /// Sends `request` with this `Accept` header and the browser's cookies; keeps the cookies set.
    /// Like a browser, it follows the redirect of a failed form (post/redirect/get: the answer
    /// sets `cairn_form`) and returns the page it leads to.
    pub async fn send_as(&mut self, request: Request<Body>, accept: &str) -> TestResponse {
        let response = self.exchange(request, accept).await;
        let kept = response.set_cookie("cairn_form").is_some_and(|id| !id.is_empty());
        if response.status == StatusCode::SEE_OTHER && kept {
            let location = response.location().to_string();
            return self.exchange(Request::get(location).body(Body::empty()).unwrap(), accept).await;
        }
        response
    }

    /// Sends `request` as it is, with the browser's cookies; keeps the cookies set.
    pub async fn exchange(&mut self, mut request: Request<Body>, accept: &str) -> TestResponse {
        request.headers_mut().insert(header::ACCEPT, accept.parse().unwrap());
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
        }
        let response = send_to(&self.router, request).await;
        for value in response.headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// This browser's CSRF token, getting one first if needed.
    pub async fn csrf(&mut self) -> String {
        if !self.cookies.contains_key("cairn_csrf") {
            self.get("/").await;
        }
        self.cookies.get("cairn_csrf").cloned().expect("a cairn_csrf cookie")
    }

    /// POSTs a form with this browser's CSRF token.
    pub async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
        self.post_as(path, pairs, HTML).await
    }

    /// POSTs a form with this browser's CSRF token, asking for `accept`.
    pub async fn post_as(&mut self, path: &str, pairs: &[(&str, &str)], accept: &str) -> TestResponse {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post_raw_as(path, &all, accept).await
    }

    /// POSTs a form as is (no CSRF token added).
    pub async fn post_raw_as(&mut self, path: &str, pairs: &[(&str, &str)], accept: &str) -> TestResponse {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body)).unwrap();
        self.send_as(request, accept).await
    }

    /// A multipart form: the CSRF token, text fields, then one file field (name, file name, type,
    /// bytes).
    pub async fn multipart(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &str, &[u8]), accept: &str) -> TestResponse {
        let csrf = self.csrf().await;
        let boundary = "cairn-test-boundary-5e1a";
        let mut body = Vec::new();
        for (name, value) in [("csrf", csrf.as_str())].iter().chain(fields) {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        let (field, file_name, content_type, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path).header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}")).body(Body::from(body)).unwrap();
        self.send_as(request, accept).await
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub time::OffsetDateTime);

impl cairn_app::Clock for FixedClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0
    }
}
