//! Verifying by URL a badge hosted elsewhere: an OB 2.0 hosted assertion and an OB 3.0
//! credential served by a local HTTP server (loopback allowed by `verify_allow_hosts`), and the
//! plain answers for addresses refused, not found, too large or not a badge.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::Kind;
use cairn_core::assessment::{Judgement, ScoreFields};
use serde_json::json;

use crate::helpers::{Browser, TestApp};

/// Serves `documents(base)` (path → content type and body) on a loopback port; returns the base
/// URL.
pub(crate) async fn serve(documents: impl FnOnce(&str) -> HashMap<String, (&'static str, String)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let documents = Arc::new(documents(&base));
    let router = Router::new().fallback(move |uri: Uri| {
        let documents = Arc::clone(&documents);
        async move {
            match documents.get(uri.path()) {
                Some((content_type, body)) => ([(header::CONTENT_TYPE, *content_type)], body.clone()).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// An award of a demo micro-badge to the demo learner: its signed OB 3.0 credential.
pub(crate) async fn credential(app: &TestApp) -> String {
    let organisation = app.demo_organisation().await.parse().unwrap();
    let achievement = app.state.app.store.organisation_achievements(organisation).await.unwrap().into_iter().find(|a| a.kind == Kind::MicroBadge).unwrap();
    let judgement = achievement.content.rubric.as_ref().map(|rubric| {
        let scores: Vec<ScoreFields> = rubric
            .criteria
            .iter()
            .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid".into() })
            .collect();
        Judgement::parse(rubric, &scores, "Well done").unwrap()
    });
    let learner = app.state.app.store.user_by_email(&Email::parse("learner@demo.cairn.test").unwrap()).await.unwrap().unwrap().id;
    let request = AwardRequest { judgement, ..AwardRequest::new(learner, achievement.id) };
    awards::award(&app.state.app, request).await.unwrap().credential_json
}

fn hosted_badge(base: &str, credential: String) -> HashMap<String, (&'static str, String)> {
    let json = "application/json";
    let assertion = json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": format!("{base}/ob2/assertions/1"),
        "recipient": {"type": "email", "hashed": false, "identity": "ada@example.org"},
        "badge": format!("{base}/ob2/badges/1"), "verification": {"type": "hosted"}, "issuedOn": "2026-01-01T00:00:00Z"
    });
    let badge = json!({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": format!("{base}/ob2/badges/1"), "name": "Hosted Elsewhere", "issuer": format!("{base}/ob2/issuers/1")});
    let issuer = json!({"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": format!("{base}/ob2/issuers/1"), "name": "Another Badge Host", "url": base});
    HashMap::from([
        ("/ob2/assertions/1".to_string(), (json, assertion.to_string())),
        ("/ob2/badges/1".to_string(), (json, badge.to_string())),
        ("/ob2/issuers/1".to_string(), (json, issuer.to_string())),
        ("/ob3/credential.json".to_string(), ("application/ld+json", credential)),
        ("/page.html".to_string(), ("text/html", "<!doctype html><title>Hello</title><p>No badge here.".to_string())),
        ("/huge.json".to_string(), (json, format!("{{\"padding\": \"{}\"}}", "x".repeat(cairn_app::fetch::MAX_FETCH_BYTES + 1)))),
    ])
}

/// Verifies `url` on `router` as a script would, and returns the answer.
async fn verify(router: Router, url: &str) -> crate::helpers::TestResponse {
    Browser::new(router).post_as("/verify", &[("url", url)], "application/json").await
}

#[track_caller]
fn refused_with(response: &crate::helpers::TestResponse, words: &str) {
    let problem = response.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/url", "{problem}");
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(words), "{words:?} not in {detail:?}");
}

backend_test!(badges_hosted_elsewhere_are_verified_by_url, |app| {
    let credential = credential(app).await;
    let base = serve(|base| hosted_badge(base, credential)).await;
    let allowed = app.router_with(|config| config.verify_allow_hosts = vec!["127.0.0.1".into()]);

    let ob2 = verify(allowed.clone(), &format!("{base}/ob2/assertions/1")).await;
    assert_eq!(ob2.status, StatusCode::OK, "{}", ob2.text());
    let report = ob2.json();
    assert_eq!((report["verdict"].as_str(), report["format"].as_str()), (Some("valid"), Some("ob2-hosted")), "{report}");

    let ob3 = verify(allowed.clone(), &format!("{base}/ob3/credential.json")).await;
    let report = ob3.json();
    assert_eq!(report["verdict"], "valid", "{report}");
    assert!(report["checks"][0]["detail"].as_str().unwrap().contains("/ob3/credential.json"), "{report}");

    // The page says it in words.
    let mut browser = Browser::new(allowed.clone());
    let page = browser.post("/verify", &[("url", &format!("{base}/ob2/assertions/1"))]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("Another Badge Host");

    // Plain answers for what cannot be verified.
    refused_with(&verify(allowed.clone(), &format!("{base}/nothing-here")).await, "nothing was found at this address (HTTP 404)");
    refused_with(&verify(allowed.clone(), &format!("{base}/page.html")).await, "not an Open Badge");
    refused_with(&verify(allowed.clone(), &format!("{base}/huge.json")).await, "larger than");
    let page = browser.post("/verify", &[("url", &format!("{base}/page.html"))]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("not an Open Badge");
    page.assert_contains(&format!("value=\"{base}/page.html\""));
});

backend_test!(private_and_loopback_addresses_are_refused_unless_allowed, |app| {
    let base = serve(|base| hosted_badge(base, String::new())).await;
    // The default: public addresses only.
    refused_with(&verify(app.router.clone(), &format!("{base}/ob2/assertions/1")).await, "loopback");
    refused_with(&verify(app.router.clone(), "http://10.0.0.1/badge.json").await, "a private address");
    refused_with(&verify(app.router.clone(), "http://169.254.169.254/latest/meta-data").await, "a link-local address");
    refused_with(&verify(app.router.clone(), "http://[::ffff:127.0.0.1]/badge.json").await, "IPv4-mapped");
    // Allowing one host allows that host only.
    let allowed = app.router_with(|config| config.verify_allow_hosts = vec!["127.0.0.1".into()]);
    refused_with(&verify(allowed, &format!("{}/ob2/assertions/1", base.replace("127.0.0.1", "localhost"))).await, "loopback");
});
