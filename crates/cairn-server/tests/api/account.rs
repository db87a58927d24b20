//! The person's own account: forgotten passwords reset by an e-mailed link, and changing one's
//! name and password, over the API and in the browser.

use std::sync::Arc;

use axum::Router;
use cairn_server::AppState;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::helpers::{Browser, FixedClock, TestApp, TestResponse};

const LEARNER: &str = "learner@demo.cairn.test";
const LEARNER_PASSWORD: &str = "cairn-demo-learner";
const NEW_PASSWORD: &str = "granite ledge over misty tarn";

/// The same application and database, seen at another time.
fn app_at(app: &TestApp, now: OffsetDateTime) -> Router {
    let mut state: AppState = app.state.clone();
    state.app.clock = Arc::new(FixedClock(now));
    cairn_server::app(state)
}

/// The reset mails queued for `to`, newest first.
async fn reset_mails(app: &TestApp, to: &str) -> Vec<cairn_store::Mail> {
    let outbox = app.state.app.store.outbox(100).await.unwrap();
    outbox.into_iter().filter(|mail| mail.to == to && mail.subject == "Reset your Cairn password").collect()
}

/// The secrets of the reset links mailed to `to`.
async fn reset_secrets(app: &TestApp, to: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for mail in reset_mails(app, to).await {
        let start = mail.body.find("/reset-password/").expect("a reset link") + "/reset-password/".len();
        secrets.push(mail.body[start..].split_whitespace().next().unwrap().to_string());
    }
    secrets
}

/// The secret of the one reset link mailed to `to` since `before` (their secrets then).
async fn new_secret(app: &TestApp, to: &str, before: &[String]) -> String {
    let mut new: Vec<String> = reset_secrets(app, to).await.into_iter().filter(|secret| !before.contains(secret)).collect();
    assert_eq!(new.len(), 1, "one new reset mail");
    new.remove(0)
}

/// The secret in the only reset link mailed to `to`.
async fn reset_secret(app: &TestApp, to: &str) -> String {
    new_secret(app, to, &[]).await
}

async fn request_reset(app: &TestApp, email: &str) -> TestResponse {
    app.json("POST", "/api/v1/password-resets", None, &json!({"email": email})).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.json("POST", "/api/v1/session", None, &json!({"email": email, "password": password})).await
}

async fn browser_signed_in(app: &TestApp, email: &str, password: &str) -> Browser {
    let mut browser = Browser::new(app.router.clone());
    let response = browser.post("/login", &[("email", email), ("password", password)]).await;
    assert_eq!(response.status, 303, "{}", response.text());
    assert_eq!(browser.get("/dashboard").await.status, 200);
    browser
}

fn location(response: &TestResponse) -> &str {
    response.headers.get("location").and_then(|value| value.to_str().ok()).unwrap_or("")
}

backend_test!(a_forgotten_password_is_reset_by_the_e_mailed_link, |app| {
    let old_token = app.token(LEARNER, LEARNER_PASSWORD).await;
    let mut old_browser = browser_signed_in(app, LEARNER, LEARNER_PASSWORD).await;

    let known = request_reset(app, LEARNER).await;
    let unknown = request_reset(app, "ghost@demo.cairn.test").await;
    assert_eq!((known.status.as_u16(), unknown.status.as_u16()), (202, 202));
    assert_eq!(known.json(), unknown.json(), "the answer does not tell whether the address has an account");
    assert_eq!(reset_mails(app, LEARNER).await.len(), 1);
    assert!(reset_mails(app, "ghost@demo.cairn.test").await.is_empty());
    let secret = reset_secret(app, LEARNER).await;
    let stored: i64 = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
        let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM password_resets WHERE token_hash = $1").bind(&secret).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        count.0
    };
    assert_eq!(stored, 0, "only the secret's digest is stored");

    let mut browser = Browser::new(app.router.clone());
    let form = browser.get(&format!("/reset-password/{secret}")).await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("Choose a new password"));
    assert_eq!(form.headers["cache-control"], "no-store");

    // The sign-up rules apply, the common-password check included; a refused password uses nothing up.
    let weak = app.json("POST", &format!("/api/v1/password-resets/{secret}"), None, &json!({"password": "password123"})).await;
    let problem = weak.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/password");
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("too easy to guess"), "{problem}");

    let done = app.json("POST", &format!("/api/v1/password-resets/{secret}"), None, &json!({"password": NEW_PASSWORD})).await;
    assert_eq!(done.status, 204, "{}", done.text());

    // Every session and API token of the account ended.
    app.get("/api/v1/me", Some(&old_token)).await.problem(401, "unauthenticated");
    let dashboard = old_browser.get("/dashboard").await;
    assert_eq!(dashboard.status, 303);
    assert!(location(&dashboard).starts_with("/login"));
    sign_in(app, LEARNER, LEARNER_PASSWORD).await.problem(401, "unauthenticated");
    assert_eq!(sign_in(app, LEARNER, NEW_PASSWORD).await.status, 201);

    // The link works once.
    let again = app.json("POST", &format!("/api/v1/password-resets/{secret}"), None, &json!({"password": "another fine long phrase"})).await;
    assert!(again.problem(410, "gone")["detail"].as_str().unwrap().contains("ask for a new one"));
    assert_eq!(browser.get(&format!("/reset-password/{secret}")).await.status, 410);
    let forged = app.json("POST", "/api/v1/password-resets/not-a-real-secret", None, &json!({"password": NEW_PASSWORD})).await;
    forged.problem(410, "gone");
    app.json("POST", "/api/v1/password-resets/x", None, &json!({"password": NEW_PASSWORD, "admin": true})).await.problem(400, "malformed-request");
});

backend_test!(a_reset_link_expires_after_an_hour_and_one_use_ends_the_others, |app| {
    let now = app.state.app.now();
    request_reset(app, LEARNER).await;
    let first = reset_secret(app, LEARNER).await;
    let later = app_at(app, now + Duration::minutes(61));
    let expired = crate::helpers::send_to(
        &later,
        axum::http::Request::post(format!("/api/v1/password-resets/{first}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"password": NEW_PASSWORD}).to_string()))
            .unwrap(),
    )
    .await;
    expired.problem(410, "gone");
    assert_eq!(sign_in(app, LEARNER, LEARNER_PASSWORD).await.status, 201, "nothing changed");

    request_reset(app, LEARNER).await;
    let second = new_secret(app, LEARNER, std::slice::from_ref(&first)).await;
    request_reset(app, LEARNER).await;
    let third = new_secret(app, LEARNER, &[first.clone(), second.clone()]).await;
    assert_eq!(app.json("POST", &format!("/api/v1/password-resets/{third}"), None, &json!({"password": NEW_PASSWORD})).await.status, 204);
    app.json("POST", &format!("/api/v1/password-resets/{second}"), None, &json!({"password": "another fine long phrase"})).await.problem(410, "gone");
});

backend_test!(reset_requests_are_checked_and_throttled_like_sign_ins, |app| {
    request_reset(app, "not an address").await.problem(422, "invalid-input");
    let limit = app.state.app.config.login_failures_per_account;
    for _ in 0..limit {
        assert_eq!(request_reset(app, "ghost@demo.cairn.test").await.status, 202);
    }
    let throttled = request_reset(app, "ghost@demo.cairn.test").await;
    let problem = throttled.problem(429, "too-many-requests");
    assert!(problem["detail"].as_str().unwrap().starts_with("too many password reset requests"), "{problem}");
    assert!(throttled.headers.get("retry-after").is_some());
    for _ in 0..limit {
        assert_eq!(request_reset(app, LEARNER).await.status, 202);
    }
    request_reset(app, LEARNER).await.problem(429, "too-many-requests");
    assert_eq!(reset_mails(app, LEARNER).await.len() as u32, limit, "a throttled request sends nothing");
});

backend_test!(the_forgotten_password_pages_never_tell_who_has_an_account, |app| {
    let mut browser = Browser::new(app.router.clone());
    let login = browser.get("/login").await.text();
    assert!(login.contains("href=\"/forgot-password\""));
    assert_eq!(browser.get("/forgot-password").await.status, 200);
    let known = browser.post("/forgot-password", &[("email", LEARNER)]).await;
    let unknown = browser.post("/forgot-password", &[("email", "ghost@demo.cairn.test")]).await;
    assert_eq!((known.status.as_u16(), location(&known)), (303, "/forgot-password/sent"));
    assert_eq!((unknown.status.as_u16(), location(&unknown)), (303, "/forgot-password/sent"));
    assert!(browser.get("/forgot-password/sent").await.text().contains("If an account uses the address"));
    let empty = browser.post("/forgot-password", &[("email", "")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.text().contains("enter your e-mail address"));

    let secret = reset_secret(app, LEARNER).await;
    let weak = browser.post(&format!("/reset-password/{secret}"), &[("password", "short")]).await;
    assert_eq!(weak.status, 422);
    assert!(weak.text().contains("must be at least 10 characters"));
    let done = browser.post(&format!("/reset-password/{secret}"), &[("password", NEW_PASSWORD)]).await;
    done.assert_redirect_with("/login", "password-reset");
    let used = browser.post(&format!("/reset-password/{secret}"), &[("password", NEW_PASSWORD)]).await;
    assert_eq!(used.status, 410);
    assert!(used.text().contains("Ask for a new link"));
    browser_signed_in(app, LEARNER, NEW_PASSWORD).await;
});

backend_test!(the_account_page_changes_the_name_and_the_password, |app| {
    let mut browser = browser_signed_in(app, LEARNER, LEARNER_PASSWORD).await;
    let mut elsewhere = browser_signed_in(app, LEARNER, LEARNER_PASSWORD).await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(LEARNER));

    let empty = browser.post("/account/name", &[("name", "  ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.text().contains("is required"));
    let renamed = browser.post("/account/name", &[("name", "Lena M. Fischer")]).await;
    renamed.assert_redirect_with("/account", "name-saved");
    assert!(browser.get("/account").await.text().contains("value=\"Lena M. Fischer\""));
    // Reloading a form's address after a failed POST does not answer 405.
    assert_eq!(location(&browser.get("/account/name").await), "/account");

    let wrong = browser.post("/account/password", &[("current_password", "not my password"), ("password", NEW_PASSWORD)]).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text().contains("is not your current password"));
    let weak = browser.post("/account/password", &[("current_password", LEARNER_PASSWORD), ("password", "qwertyuiop1")]).await;
    assert_eq!(weak.status, 422);
    assert!(weak.text().contains("too easy to guess"));
    let changed = browser.post("/account/password", &[("current_password", LEARNER_PASSWORD), ("password", NEW_PASSWORD)]).await;
    changed.assert_redirect_with("/account", "password-changed");
    assert_eq!(browser.get("/dashboard").await.status, 200, "the session that changed it stays");
    assert_eq!(elsewhere.get("/dashboard").await.status, 303, "other sessions end");
    sign_in(app, LEARNER, LEARNER_PASSWORD).await.problem(401, "unauthenticated");
    assert_eq!(sign_in(app, LEARNER, NEW_PASSWORD).await.status, 201);

    let mut visitor = Browser::new(app.router.clone());
    assert_eq!(location(&visitor.get("/account").await), "/login?next=/account");
});

backend_test!(the_api_changes_the_name_and_the_password, |app| {
    let token = app.token(LEARNER, LEARNER_PASSWORD).await;
    let renamed: Value = app.json("PATCH", "/api/v1/me", Some(&token), &json!({"name": "Lena M. Fischer"})).await.json();
    assert_eq!(renamed["name"], "Lena M. Fischer");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.json()["name"], "Lena M. Fischer");
    let problem = app.json("PATCH", "/api/v1/me", Some(&token), &json!({"name": ""})).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/name");
    app.json("PATCH", "/api/v1/me", None, &json!({"name": "X"})).await.problem(401, "unauthenticated");

    let wrong = app.json("POST", "/api/v1/me/password", Some(&token), &json!({"current_password": "nope", "password": NEW_PASSWORD})).await;
    assert_eq!(wrong.problem(422, "invalid-input")["errors"][0]["pointer"], "/current_password");
    let browser = browser_signed_in(app, LEARNER, LEARNER_PASSWORD).await;
    let changed = app.json("POST", "/api/v1/me/password", Some(&token), &json!({"current_password": LEARNER_PASSWORD, "password": NEW_PASSWORD})).await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    let mut browser = browser;
    assert_eq!(browser.get("/dashboard").await.status, 303, "browser sessions end");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200, "the token that changed it keeps working");
    assert_eq!(sign_in(app, LEARNER, NEW_PASSWORD).await.status, 201);
});
