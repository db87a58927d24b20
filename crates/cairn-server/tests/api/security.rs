//! Security findings of issue 8: sign-in throttling and bounded password hashing, token scopes,
//! expiry and last use, idle sessions and the `__Host-` cookie, security headers on every
//! response, sign-up that reveals no accounts, NUL bytes as invalid input, and a health check
//! that signs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use cairn_app::accounts::PasswordHashing;
use cairn_app::awards::{self, AwardRequest};
use cairn_app::{App, Config};
use cairn_core::account::Email;
use cairn_core::achievement::Kind;
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_server::AppState;
use cairn_store::{MasterKey, Store, StoreOptions};
use serde_json::{Value, json};

use crate::helpers::{Browser, FixedClock, TestResponse, badge_body, send_to};

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");

/// A JSON request to `router`, from `peer` when given (as a real connection would have it).
async fn json_from(router: &Router, method: &str, path: &str, body: &Value, peer: Option<&str>, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::from(body.to_string())).unwrap();
    if let Some(peer) = peer {
        request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    }
    send_to(router, request).await
}

fn session(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

#[track_caller]
fn retry_after(response: &TestResponse) -> u64 {
    let value = response.headers.get(header::RETRY_AFTER).unwrap_or_else(|| panic!("no Retry-After: {:?}", response.headers));
    let seconds: u64 = value.to_str().unwrap().parse().unwrap();
    assert!(seconds >= 1, "{seconds}");
    seconds
}

// ---------------------------------------------------------------------------------------------
// Sign-in throttling and bounded hashing

backend_test!(failed_api_sign_ins_are_throttled_per_account, |app| {
    let limit = app.state.app.config.login_failures_per_account;
    for _ in 0..limit {
        app.json("POST", "/api/v1/session", None, &session(LEARNER.0, "not the password")).await.problem(401, "unauthenticated");
    }
    // Even the right password waits now: the throttle answers before any password is checked.
    let throttled = app.json("POST", "/api/v1/session", None, &session(LEARNER.0, LEARNER.1)).await;
    let problem = throttled.problem(429, "too-many-requests");
    assert!(problem["detail"].as_str().unwrap().contains("too many failed sign-ins"), "{problem}");
    let minutes = u64::from(app.state.app.config.login_throttle_minutes);
    assert!(retry_after(&throttled) <= minutes * 60);
    // Another account is not affected.
    assert_eq!(app.json("POST", "/api/v1/session", None, &session(ISSUER.0, ISSUER.1)).await.status, 201);
});

backend_test!(failed_sign_ins_are_throttled_per_client_address, |app| {
    let router = app.router_with(|config| config.login_failures_per_address = 3);
    for i in 0..3 {
        let response =
            json_from(&router, "POST", "/api/v1/session", &session(&format!("nobody{i}@example.org"), "wrong password"), Some("192.0.2.7:50000"), &[]).await;
        response.problem(401, "unauthenticated");
    }
    let blocked = json_from(&router, "POST", "/api/v1/session", &session(LEARNER.0, LEARNER.1), Some("192.0.2.7:50001"), &[]).await;
    blocked.problem(429, "too-many-requests");
    retry_after(&blocked);
    let elsewhere = json_from(&router, "POST", "/api/v1/session", &session(LEARNER.0, LEARNER.1), Some("198.51.100.1:40000"), &[]).await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text());

    // Behind a proxy, the address it reports (the last X-Forwarded-For entry) is counted.
    let proxied = app.router_with(|config| {
        config.login_failures_per_address = 2;
        config.client_address_header = Some("x-forwarded-for".into());
    });
    let via = |client: &'static str| [("x-forwarded-for", client)];
    for i in 0..2 {
        let response = json_from(
            &proxied,
            "POST",
            "/api/v1/session",
            &session(&format!("ghost{i}@example.org"), "wrong password"),
            Some("10.0.0.1:1"),
            &via("6.6.6.6, 203.0.113.5"),
        )
        .await;
        response.problem(401, "unauthenticated");
    }
    let blocked = json_from(&proxied, "POST", "/api/v1/session", &session(LEARNER.0, LEARNER.1), Some("10.0.0.1:1"), &via("203.0.113.5")).await;
    blocked.problem(429, "too-many-requests");
    let other = json_from(&proxied, "POST", "/api/v1/session", &session(LEARNER.0, LEARNER.1), Some("10.0.0.1:1"), &via("203.0.113.6")).await;
    assert_eq!(other.status, 201, "the proxy's own address is not the client: {}", other.text());
});

backend_test!(the_sign_in_page_is_throttled_with_retry_after, |app| {
    let mut browser = Browser::new(app.router.clone());
    for _ in 0..app.state.app.config.login_failures_per_account {
        let page = browser.post("/login", &[("email", LEARNER.0), ("password", "not the password")]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = browser.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.text());
    assert!(page.text().contains("too many failed sign-ins"), "{}", page.text());
    assert!(page.text().contains(&format!("value=\"{}\"", LEARNER.0)), "the form keeps the address");
    retry_after(&page);
    assert!(!browser.cookies.keys().any(|name| name.contains("session")));
});

backend_test!(saturated_password_hashing_answers_busy_with_retry_after, |app| {
    // A gate that admits nobody: every sign-in and sign-up is turned away before hashing.
    let mut state = app.state.clone();
    state.app.passwords = Arc::new(PasswordHashing::with_queue(0, 0, Duration::ZERO));
    let router = cairn_server::app(state);
    let busy = json_from(&router, "POST", "/api/v1/session", &session(LEARNER.0, LEARNER.1), None, &[]).await;
    busy.problem(503, "unavailable");
    assert_eq!(retry_after(&busy), cairn_app::accounts::passwords::BUSY_RETRY_AFTER_SECS);
    let sign_up =
        json_from(&router, "POST", "/api/v1/users", &json!({"name": "Busy", "email": "busy@example.org", "password": "a long enough password"}), None, &[])
            .await;
    sign_up.problem(503, "unavailable");
    retry_after(&sign_up);
    let mut browser = Browser::new(router);
    let page = browser.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().contains("busy"), "{}", page.text());
    retry_after(&page);
    // Busy answers are not failed sign-ins.
    assert!(app.state.app.login_throttle.is_empty());
});

// ---------------------------------------------------------------------------------------------
// Tokens: scope, expiry, last use

backend_test!(read_only_tokens_may_read_but_not_change, |app| {
    let full = app.issuer_token().await;
    let created = app.json("POST", "/api/v1/tokens", Some(&full), &json!({"name": "dashboard", "scope": "read-only"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["scope"], "read-only");
    let reader = created["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", Some(&reader)).await.status, 200);
    let organisation = app.demo_organisation().await;
    assert_eq!(app.get(&format!("/api/v1/organisations/{organisation}/achievements"), Some(&reader)).await.status, 200, "it reads what its owner may");
    let refused = app.json("POST", "/api/v1/tokens", Some(&reader), &json!({"name": "escalate"})).await;
    assert!(refused.problem(403, "forbidden")["detail"].as_str().unwrap().contains("read-only"));
    app.json("POST", &format!("/api/v1/organisations/{organisation}/achievements"), Some(&reader), &crate::helpers::badge_body("Read-only badge"))
        .await
        .problem(403, "forbidden");
    let id = created["id"].as_str().unwrap();
    app.json("DELETE", &format!("/api/v1/tokens/{id}"), Some(&reader), &json!({})).await.problem(403, "forbidden");
    // The owner's full token still changes things, revoking the reader among them.
    assert_eq!(app.json("DELETE", &format!("/api/v1/tokens/{id}"), Some(&full), &json!({})).await.status, 204);
});

backend_test!(tokens_expire_and_show_their_scope_and_last_use, |app| {
    let full = app.token(LEARNER.0, LEARNER.1).await;
    let full = full.as_str();
    let now = app.state.app.now();
    let made = |body: Value| async move { app.json("POST", "/api/v1/tokens", Some(full), &body).await };
    let default = made(json!({"name": "default"})).await.json();
    assert_eq!(default["scope"], "full");
    expires_about(&default["expires_at"], now + time::Duration::days(90));
    let never = made(json!({"name": "forever", "expires_in_days": null})).await.json();
    assert_eq!(never["expires_at"], Value::Null);
    let day = made(json!({"name": "one day", "expires_in_days": 1, "scope": "read-only"})).await.json();
    expires_about(&day["expires_at"], now + time::Duration::days(1));
    let bad_lifetime = made(json!({"name": "bad", "expires_in_days": 0})).await;
    assert_eq!(bad_lifetime.problem(422, "invalid-input")["errors"][0]["pointer"], "/expires_in_days");
    let bad_scope = made(json!({"name": "bad", "scope": "admin"})).await;
    assert_eq!(bad_scope.problem(422, "invalid-input")["errors"][0]["pointer"], "/scope");

    // Using a token records it; the listing shows it.
    let secret = day["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(secret)).await.status, 200);
    let listed = app.get("/api/v1/tokens", Some(full)).await.json();
    let entry = listed["items"].as_array().unwrap().iter().find(|t| t["id"] == day["id"]).unwrap().clone();
    // The clock runs on: the use came a moment after `now`.
    expires_about(&entry["last_used_at"], now);
    assert_eq!(entry["scope"], "read-only");

    // A day later it no longer works; the one that never expires does. (`now` was read before
    // the token was made, on the running clock, so a day after `now` may fall a second before
    // its expiry: a minute more is a day after it for certain.)
    let mut later = app.state.clone();
    later.app.clock = Arc::new(FixedClock(now + time::Duration::days(1) + time::Duration::minutes(1)));
    let later = cairn_server::app(later);
    let me = |token: &str| Request::get("/api/v1/me").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    send_to(&later, me(secret)).await.problem(401, "unauthenticated");
    assert_eq!(send_to(&later, me(never["token"].as_str().unwrap())).await.status, 200);
});

backend_test!(the_tokens_page_offers_scope_and_expiry_and_shows_last_use, |app| {
    let mut browser = Browser::new(app.router.clone());
    browser.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    let form = browser.get("/account/tokens").await;
    assert!(form.text().contains("<option value=\"read-only\"") && form.text().contains("<option value=\"90\" selected>"), "{}", form.text());
    let bad = browser.post("/account/tokens", &[("name", "x"), ("scope", "full"), ("expires", "0")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("id=\"expires-error\""), "{}", bad.text());
    let page = browser.post("/account/tokens", &[("name", "Reporting"), ("scope", "read-only"), ("expires", "30")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let start = page.text().find("value=\"cairn_").unwrap() + "value=\"".len();
    let secret: String = page.text()[start..].chars().take_while(|c| *c != '"').collect();
    let listed = browser.get("/account/tokens").await.text();
    assert!(listed.contains("Read only"), "{listed}");
    assert!(listed.contains(&cairn_app::notify::format_day(app.state.app.now() + time::Duration::days(30))), "the expiry date is shown: {listed}");
    app.get("/api/v1/me", Some(&secret)).await;
    let row_of = |page: &str| page.split("<tr>").find(|row| row.contains("Reporting")).unwrap().to_string();
    assert!(!row_of(&browser.get("/account/tokens").await.text()).contains("<td>Never</td>"), "last use is shown once used");
});

// ---------------------------------------------------------------------------------------------
// Sessions: idle timeout and the cookie

backend_test!(sessions_end_after_the_idle_timeout_and_use_keeps_them_alive, |app| {
    let start = app.state.app.now();
    let at = |hours: i64| {
        let mut state = app.state.clone();
        state.app.clock = Arc::new(FixedClock(start + time::Duration::hours(hours)));
        cairn_server::app(state)
    };
    let idle = i64::from(app.state.app.config.session_idle_hours);
    let mut browser = Browser::new(at(0));
    let page = browser.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    browser.router = at(idle - 1);
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK, "used before the idle period ends");
    browser.router = at(2 * idle - 2);
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK, "the use above started the period again");
    browser.router = at(3 * idle);
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/login?next=/dashboard");
});

backend_test!(the_session_cookie_is_host_prefixed_and_secure_on_https, |app| {
    let https = app.router_with(|config| config.public_url = "https://badges.example.org/".parse().unwrap());
    let mut browser = Browser::new(https);
    let page = browser.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let cookies: Vec<String> = page.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = cookies.iter().find(|c| c.contains("session=")).unwrap();
    assert!(session.starts_with("__Host-cairn_session="), "{session}");
    assert!(session.contains("; Secure") && session.contains("Path=/") && !session.contains("Domain"), "{session}");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK, "the prefixed cookie is the one read");
    // On plain http the cookie keeps its plain name (browsers refuse __Host- without Secure).
    let mut plain = Browser::new(app.router.clone());
    plain.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert!(plain.cookies.contains_key("cairn_session") && !plain.cookies.contains_key("__Host-cairn_session"));
});

// ---------------------------------------------------------------------------------------------
// Security headers

#[track_caller]
fn assert_security_headers(response: &TestResponse, what: &str) {
    let header = |name: &str| response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin", "{what}");
    let policy = header("content-security-policy");
    assert!(policy.contains("default-src 'self'") || policy.contains("default-src 'none'"), "{what}: {policy}");
    assert!(!policy.contains("'unsafe-inline'") || what.contains("svg"), "{what}: {policy}");
}

#[track_caller]
fn assert_not_frameable(response: &TestResponse, what: &str) {
    assert_eq!(response.headers.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{what}");
    let policy = response.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"), "{what}: {policy}");
}

backend_test!(security_headers_are_on_every_response_error_pages_included, |app| {
    let page = app.send(Request::get("/catalog").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    let api = app.get("/api/v1/achievements", None).await;
    let problem = app.get("/api/v1/nothing-here", None).await;
    let error_page = app.send(Request::get("/no/such/page").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    let unauthenticated = app.get("/api/v1/me", None).await;
    problem.problem(404, "not-found");
    assert_eq!(error_page.status, 404);
    for (response, what) in [(&page, "page"), (&api, "API"), (&problem, "404 problem"), (&error_page, "404 page"), (&unauthenticated, "401 problem")] {
        assert_security_headers(response, what);
        assert_not_frameable(response, what);
        assert!(response.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{what}: no HSTS on http");
    }
    let https = app.router_with(|config| config.public_url = "https://badges.example.org/".parse().unwrap());
    for path in ["/catalog", "/api/v1/nothing-here"] {
        let response = send_to(&https, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(response.headers[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000", "{path}");
    }
});

backend_test!(only_the_embed_card_may_be_framed, |app| {
    let organisation = app.demo_organisation().await.parse().unwrap();
    let badge = app.state.app.store.organisation_achievements(organisation).await.unwrap().into_iter().find(|a| a.kind == Kind::MicroBadge).unwrap();
    let learner = app.state.app.store.user_by_email(&Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    let rubric = badge.content.rubric.as_ref().unwrap();
    let scores: Vec<ScoreFields> = rubric
        .criteria
        .iter()
        .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid work".into() })
        .collect();
    let judgement = Some(Judgement::parse(rubric, &scores, "Well done").unwrap());
    let request = AwardRequest { judgement, ..AwardRequest::new(learner.id, badge.id) };
    let award = awards::award(&app.state.app, request).await.unwrap();
    // New awards are private; the learner shows this one.
    let owner = cairn_core::authz::Actor::member(learner.id, app.state.app.store.memberships(learner.id).await.unwrap());
    awards::set_privacy(&app.state.app, &owner, award.id, cairn_core::award::Privacy::Public, false).await.unwrap();
    let embed = app.send(Request::get(format!("/awards/{}/embed", award.id)).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(embed.status, 200, "{}", embed.text());
    assert_security_headers(&embed, "embed");
    assert!(embed.headers.get("x-frame-options").is_none(), "{:?}", embed.headers);
    let policy = embed.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors *") && policy.contains("script-src 'self'"), "{policy}");
    let page = app.send(Request::get(format!("/awards/{}", award.id)).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert_not_frameable(&page, "award page");
    let missing =
        app.send(Request::get(format!("/awards/{}/embed", uuid::Uuid::new_v4())).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, 404);
    assert_not_frameable(&missing, "a missing card is an ordinary error page");
});

/// The templates rely on no inline script or style, which the policy would block. A JSON-LD data
/// block (`<script type="application/ld+json">`) is not a script: browsers never run it, so the
/// policy has nothing to block.
#[test]
fn templates_have_no_inline_script_or_style() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let at = format!("{}:{}", path.display(), i + 1);
            assert!(!line.contains("<style"), "{at}: inline <style>");
            let allowed = line.contains("<script src=\"/static/") || line.contains("<script type=\"application/ld+json\">");
            assert!(!line.contains("<script") || allowed, "{at}: inline <script>");
            let attributes = line.split('<').skip(1).map(|tag| tag.split('>').next().unwrap_or(""));
            for tag in attributes {
                assert!(!tag.contains(" style=\"") && !tag.contains(" onclick=") && !tag.contains(" onload="), "{at}: inline style or handler");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-up reveals no accounts

backend_test!(signing_up_with_a_taken_address_looks_the_same_and_tells_its_owner, |app| {
    let fresh = app.json("POST", "/api/v1/users", None, &json!({"name": "Nia", "email": "nia@example.org", "password": "a long enough password"})).await;
    let taken = app.json("POST", "/api/v1/users", None, &json!({"name": "Nia", "email": LEARNER.0, "password": "a long enough password"})).await;
    assert_eq!((fresh.status, taken.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED), "{} / {}", fresh.text(), taken.text());
    let (fresh, taken) = (fresh.json(), taken.json());
    assert_eq!(fresh.as_object().unwrap().keys().collect::<Vec<_>>(), taken.as_object().unwrap().keys().collect::<Vec<_>>());
    assert_eq!(fresh["detail"], taken["detail"]);
    // The owner's account is untouched, and they hear about the attempt; the new address is welcomed.
    assert_eq!(app.json("POST", "/api/v1/session", None, &session(LEARNER.0, LEARNER.1)).await.status, 201);
    let outbox = app.state.app.store.outbox(50).await.unwrap();
    let to = |email: &str| outbox.iter().filter(|m| m.to == email).map(|m| m.subject.clone()).collect::<Vec<_>>();
    assert_eq!(to(LEARNER.0), ["Someone tried to sign up with your e-mail address"]);
    assert_eq!(to("nia@example.org"), ["Your Cairn account is ready"]);
    let owner_mail = outbox.iter().find(|m| m.to == LEARNER.0).unwrap();
    assert!(owner_mail.body.contains("http://127.0.0.1:8080/login"), "{}", owner_mail.body);
});

backend_test!(sign_ups_are_throttled_alike_for_new_and_taken_addresses, |app| {
    let limit = app.state.app.config.login_failures_per_account;
    let attempt = |email: &'static str| async move {
        app.json("POST", "/api/v1/users", None, &json!({"name": "Nia", "email": email, "password": "a long enough password"})).await
    };
    for _ in 0..limit {
        assert_eq!(attempt("new@example.org").await.status, StatusCode::ACCEPTED);
        assert_eq!(attempt(LEARNER.0).await.status, StatusCode::ACCEPTED);
    }
    for email in ["new@example.org", LEARNER.0] {
        let throttled = attempt(email).await;
        throttled.problem(429, "too-many-requests");
        retry_after(&throttled);
    }
    let outbox = app.state.app.store.outbox(50).await.unwrap();
    assert_eq!(outbox.iter().filter(|m| m.to == LEARNER.0).count(), usize::try_from(limit).unwrap(), "the owner is not mailed without end");
});

// ---------------------------------------------------------------------------------------------
// NUL and control characters

#[track_caller]
fn assert_refused_at(response: &TestResponse, pointer: &str) {
    let problem = response.problem(422, "invalid-input");
    let errors = problem["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["pointer"] == pointer && e["detail"].as_str().unwrap().contains("control characters")), "{problem}");
}

backend_test!(nul_bytes_are_invalid_input_on_every_database, |app| {
    let sign_up =
        app.json("POST", "/api/v1/users", None, &json!({"name": "Nul\u{0}Name", "email": "nul@example.org", "password": "a long enough password"})).await;
    assert_refused_at(&sign_up, "/name");
    let issuer = app.issuer_token().await;
    let organisation = app.demo_organisation().await;
    let badge = app.json("POST", &format!("/api/v1/organisations/{organisation}/achievements"), Some(&issuer), &badge_body("Bad\u{0}name")).await;
    assert_refused_at(&badge, "/name");
    let mut tagged = badge_body("Tagged badge");
    tagged["tags"] = json!(["fine", "bad\u{0}"]);
    assert_refused_at(&app.json("POST", &format!("/api/v1/organisations/{organisation}/achievements"), Some(&issuer), &tagged).await, "/tags/1");
    assert_refused_at(&app.json("POST", "/api/v1/tokens", Some(&issuer), &json!({"name": "ci\u{0}"})).await, "/name");

    let learner = app.token(LEARNER.0, LEARNER.1).await;
    let catalog = app.get("/api/v1/achievements", None).await.json();
    let badge = catalog["items"].as_array().unwrap().iter().find(|a| a["kind"] == "micro-badge").expect("the demo has micro-badges");
    let achievement = badge["id"].as_str().unwrap().to_string();
    let draft = json!({"overview": "Fine", "reflection": "I learnt\u{0} a lot", "links": [], "collaborators": []});
    let response = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(&learner), &draft).await;
    assert_refused_at(&response, "/reflection");
    // Other control characters too; tab and line breaks are text.
    let bell = json!({"overview": "Ring\u{7}", "reflection": "Line one\r\nLine two\tindented", "links": [], "collaborators": []});
    assert_refused_at(&app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(&learner), &bell).await, "/overview");
});

// ---------------------------------------------------------------------------------------------
// Health and the master key

backend_test!(healthz_fails_when_the_master_key_cannot_open_the_issuer_keys, |app| {
    let dir = tempfile::tempdir().unwrap();
    let wrong = Store::connect(
        &app.database_url,
        StoreOptions { master_key: MasterKey::from_bytes([9; 32]), blobs: cairn_store::BlobLocation::Dir(dir.path().join("blobs")) },
    )
    .await
    .unwrap();
    let config: Config = (*app.state.app.config).clone();
    let router = cairn_server::app(AppState::new(App::new(wrong.clone(), config)));
    let health = send_to(&router, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    let problem = health.problem(503, "unavailable");
    assert!(problem["detail"].as_str().unwrap().contains("signing does not work"), "{problem}");
    wrong.close().await;
});

/// A token's expiry is its lifetime after the request that made it: within a few seconds of
/// `expected`, which the test reckoned just before the request (a slow run crosses a second).
/// A time within five seconds of `expected` (the test's clock runs).
fn expires_about(expires_at: &Value, expected: time::OffsetDateTime) {
    let at = time::OffsetDateTime::parse(expires_at.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    assert!((at - expected).whole_seconds().abs() <= 5, "at {at}, expected about {expected}");
}
