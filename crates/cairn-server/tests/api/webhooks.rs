//! Webhooks: an owner registers an endpoint (a loopback one only once the operator allows its
//! host), and a receiver on a loopback port gets every event — an award issued and revoked, a
//! submission sent and decided, a test message — signed with the endpoint's secret, with the same
//! `webhook-id` at every attempt. A failed delivery is retried on the schedule by the job
//! runner, sent again by hand, and given up after the last attempt; everything stays in the
//! log. The same endpoints are driven by the `standardwebhooks` library in
//! `tests/interop/webhooks.test.mjs`.

use std::sync::{Arc, Mutex};

use crate::helpers::{FixedClock, TestApp, TestResponse, send_to};
use crate::journey::{assessed_badge, scores, sign_up};
use crate::offers::LEARNER;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::{Router, routing::post};
use cairn_app::App;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::award::StatusAction;
use cairn_server::state::AppState;
use serde_json::{Value, json};

/// What the receiver got: each request's headers and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

/// A receiver on a loopback port answering `statuses` in turn (then 200); returns its address.
async fn receiver(statuses: Arc<Mutex<Vec<u16>>>) -> (String, Received) {
    let received = Received::default();
    let log = received.clone();
    let router = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let statuses = statuses.clone();
            async move {
                log.0.lock().unwrap().push((headers, String::from_utf8_lossy(&body).into_owned()));
                let next = {
                    let mut statuses = statuses.lock().unwrap();
                    if statuses.is_empty() { 200 } else { statuses.remove(0) }
                };
                (StatusCode::from_u16(next).unwrap(), "thanks")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{address}/hooks"), received)
}

/// The app with loopback webhooks allowed (as an operator does for tests), and its router.
fn allowing_loopback(app: &TestApp) -> (App, Router) {
    let mut config = (*app.state.app.config).clone();
    config.webhook_allow_hosts = vec!["127.0.0.1".into()];
    let hooked = App::new(app.state.app.store.clone(), config);
    let router = cairn_server::app(AppState::new(hooked.clone()));
    (hooked, router)
}

async fn call(router: &Router, method: &str, path: &str, token: &str, body: Option<Value>) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    send_to(router, request).await
}

/// Checks a received message's Standard Webhooks headers against `secret`; returns its body.
fn verified(secret: &str, (headers, body): &(HeaderMap, String)) -> Value {
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    assert!((time::OffsetDateTime::now_utc().unix_timestamp() - timestamp).abs() < 600, "{timestamp}");
    let expected = cairn_core::webhook::signature(secret, id, timestamp, body).unwrap();
    assert_eq!(headers["webhook-signature"].to_str().unwrap(), expected);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    serde_json::from_str(body).unwrap()
}

/// Waits (at most 10 s) until the receiver has `count` messages: deliveries are sent beside the
/// use case, not within it.
async fn wait_for(received: &Received, count: usize) {
    for _ in 0..200 {
        if received.0.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the receiver got {} messages, not {count}", received.0.lock().unwrap().len());
}

fn types(received: &Received) -> Vec<String> {
    received.0.lock().unwrap().iter().map(|(_, body)| serde_json::from_str::<Value>(body).unwrap()["type"].as_str().unwrap().to_string()).collect()
}

backend_test!(an_issuers_endpoint_receives_signed_events_and_keeps_a_log, |app| {
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let (url, received) = receiver(statuses.clone()).await;
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let all = json!(["award.issued", "award.revoked", "award.suspended", "award.reinstated", "submission.submitted", "submission.decided"]);

    // A loopback address is refused until the operator allows its host.
    let refused = app.json("POST", &format!("/api/v1/organisations/{org}/webhooks"), Some(&issuer), &json!({"url": url, "events": all})).await;
    let problem = refused.problem(422, "invalid-input");
    assert!(problem.to_string().contains("webhook_allow_hosts"), "{problem}");
    let bad = app.json("POST", &format!("/api/v1/organisations/{org}/webhooks"), Some(&issuer), &json!({"url": "ftp://x.example/", "events": []})).await;
    assert_eq!(bad.problem(422, "invalid-input")["errors"].as_array().unwrap().len(), 2);

    let (hooked, router) = allowing_loopback(app);
    let created =
        call(&router, "POST", &format!("/api/v1/organisations/{org}/webhooks"), &issuer, Some(json!({"url": url, "events": all, "description": "Registry"})))
            .await;
    assert_eq!((created.status, created.header(header::CACHE_CONTROL)), (StatusCode::CREATED, "no-store"), "{}", created.text());
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let endpoint = created["id"].as_str().unwrap().to_string();
    let listed = call(&router, "GET", &format!("/api/v1/organisations/{org}/webhooks"), &issuer, None).await.json();
    assert_eq!(listed["items"][0]["url"], url.as_str());
    assert!(listed.to_string().find("whsec_").is_none(), "the secret is never listed");

    // An award issued, then revoked: two signed messages.
    let learner = crate::issuing::user(app, LEARNER.0).await;
    let badge = crate::offers::badges_not_held(app).await[0].id;
    let award = awards::award(&hooked, AwardRequest::new(learner, badge)).await.unwrap();
    let staff = crate::issuing::actor(app, "issuer@demo.cairn.test").await;
    wait_for(&received, 1).await;
    awards::set_status(&hooked, &staff, award.id, StatusAction::Revoke, Some("issued in error".into())).await.unwrap();
    wait_for(&received, 2).await;
    assert_eq!(types(&received), ["award.issued", "award.revoked"]);
    let messages = received.0.lock().unwrap().clone();
    let issued = verified(&secret, &messages[0]);
    assert_eq!(issued["data"]["award_id"], award.id.to_string());
    assert_eq!(issued["data"]["recipient"]["email"], LEARNER.0);
    assert_eq!(issued["data"]["status"], "active");
    assert_eq!(issued["data"]["credential_url"], hooked.config.urls().credential(award.id));
    let revoked = verified(&secret, &messages[1]);
    assert_eq!((revoked["data"]["status"].as_str(), revoked["data"]["reason"].as_str()), (Some("revoked"), Some("issued in error")));
    assert_ne!(messages[0].0["webhook-id"], messages[1].0["webhook-id"]);

    // A submission sent and decided (the learner is not named: assessment is blind).
    let (badge, _, assessor, _) = assessed_badge(app, "Webhook Bash", None).await;
    let (learner_token, _) = sign_up(app, "Hook Learner", "hook.learner@example.org").await;
    let draft = call(
        &router,
        "POST",
        &format!("/api/v1/achievements/{badge}/submissions"),
        &learner_token,
        Some(json!({"overview": "o", "reflection": "r", "links": ["https://example.org/repo"], "collaborators": []})),
    )
    .await;
    let submission = draft.json()["id"].as_str().unwrap().to_string();
    let sent = call(&router, "POST", &format!("/api/v1/submissions/{submission}/submit"), &learner_token, Some(json!({}))).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    let decided = call(&router, "POST", &format!("/api/v1/assessments/{submission}"), &assessor, Some(scores(["Exemplary", "Exemplary"]))).await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
    // Sent, decided, and the award the pass leads to.
    wait_for(&received, 5).await;
    let kinds = types(&received);
    assert!(kinds.contains(&"submission.submitted".to_string()) && kinds.contains(&"submission.decided".to_string()), "{kinds:?}");
    let messages = received.0.lock().unwrap().clone();
    let decided = messages.iter().map(|m| verified(&secret, m)).find(|m| m["type"] == "submission.decided").unwrap();
    assert_eq!(decided["data"]["submission_id"], submission.as_str());
    assert!(decided["data"]["outcome"].is_string(), "{decided}");
    let submission_events: Vec<_> = messages.iter().filter(|(_, body)| body.contains("\"type\":\"submission.")).collect();
    assert_eq!(submission_events.len(), 2);
    assert!(
        !submission_events.iter().any(|(_, body)| body.contains("hook.learner@example.org") || body.contains("Hook Learner")),
        "submission events do not name the learner"
    );

    // A failed test message is retried on the schedule, with the same id, by the job runner.
    let before = received.0.lock().unwrap().len();
    statuses.lock().unwrap().push(500);
    let test = call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/test"), &issuer, None).await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.text());
    let test = test.json();
    assert_eq!((test["state"].as_str(), test["attempts"][0]["status"].as_u64()), (Some("pending"), Some(500)), "{test}");
    let delivery = test["id"].as_str().unwrap().to_string();
    let mut later = App::new(app.state.app.store.clone(), (*hooked.config).clone());
    later.clock = Arc::new(FixedClock(time::OffsetDateTime::now_utc() + time::Duration::seconds(10)));
    assert_eq!(cairn_app::webhooks::deliver_due(&later).await.unwrap(), 1);
    let log = call(&router, "GET", &format!("/api/v1/webhooks/{endpoint}/deliveries/{delivery}"), &issuer, None).await.json();
    assert_eq!((log["state"].as_str(), log["attempts"].as_array().unwrap().len()), (Some("delivered"), 2), "{log}");
    let retried: Vec<_> = received.0.lock().unwrap()[before..].to_vec();
    assert_eq!(retried.len(), 2);
    assert_eq!(retried[0].0["webhook-id"], retried[1].0["webhook-id"], "one message id for every attempt");
    verified(&secret, &retried[1]);

    // Sent again by hand: a third attempt, logged.
    let again = call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/deliveries/{delivery}/redeliver"), &issuer, None).await.json();
    assert_eq!((again["state"].as_str(), again["attempts"].as_array().unwrap().len()), (Some("delivered"), 3), "{again}");

    // An endpoint that never answers 2xx is given up after the last attempt of the schedule.
    statuses.lock().unwrap().extend([503; 8]);
    let failing = call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/test"), &issuer, None).await.json();
    let failing_id = failing["id"].as_str().unwrap().to_string();
    let mut at = time::OffsetDateTime::now_utc();
    for _ in 0..7 {
        at += time::Duration::hours(11);
        let mut tick = App::new(app.state.app.store.clone(), (*hooked.config).clone());
        tick.clock = Arc::new(FixedClock(at));
        cairn_app::webhooks::deliver_due(&tick).await.unwrap();
    }
    let gave_up = call(&router, "GET", &format!("/api/v1/webhooks/{endpoint}/deliveries/{failing_id}"), &issuer, None).await.json();
    assert_eq!((gave_up["state"].as_str(), gave_up["attempts"].as_array().unwrap().len()), (Some("failed"), 8), "{gave_up}");
    assert!(gave_up["last_error"].as_str().unwrap().contains("503"), "{gave_up}");

    // A new secret signs from now on; a disabled endpoint is not sent to.
    let rotated = call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/secret"), &issuer, None).await.json()["secret"].as_str().unwrap().to_string();
    assert_ne!(rotated, secret);
    let test = call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/test"), &issuer, None).await.json();
    assert_eq!(test["state"], "delivered", "{test}");
    let last = received.0.lock().unwrap().last().unwrap().clone();
    verified(&rotated, &last);
    let off = call(&router, "PATCH", &format!("/api/v1/webhooks/{endpoint}"), &issuer, Some(json!({"enabled": false}))).await;
    assert_eq!((off.status, off.json()["enabled"].as_bool()), (StatusCode::OK, Some(false)), "{}", off.text());
    call(&router, "POST", &format!("/api/v1/webhooks/{endpoint}/test"), &issuer, None).await.problem(409, "conflict");

    // Owners only: other members are refused, outsiders do not see the endpoint.
    let assessor_token = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    call(&router, "GET", &format!("/api/v1/webhooks/{endpoint}"), &assessor_token, None).await.problem(403, "forbidden");
    let learner_token = app.token(LEARNER.0, LEARNER.1).await;
    call(&router, "GET", &format!("/api/v1/webhooks/{endpoint}"), &learner_token, None).await.problem(404, "not-found");
    call(&router, "GET", &format!("/api/v1/organisations/{org}/webhooks"), &learner_token, None).await.problem(403, "forbidden");

    // The page lists it for the owner; deleting it deletes its log.
    let mut browser = crate::helpers::Browser::signed_in(router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let page = browser.get(&format!("/issuers/{org}/webhooks/{endpoint}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("Delivery log");
    page.assert_contains("webhook.test");
    let deleted = call(&router, "DELETE", &format!("/api/v1/webhooks/{endpoint}"), &issuer, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(app.state.app.store.webhook_deliveries(endpoint.parse().unwrap(), 10).await.unwrap().is_empty());
});
