//! Importing badges earned elsewhere: every way of giving one (JSON, JWT text, a baked image, a
//! hosted badge's address), the verdict kept with its date and refreshed when shown, and the
//! refusals: invalid badges (naming the failed check), other people's, this site's own, twice.

use std::collections::HashMap;
use std::sync::Arc;

use crate::helpers::{FixedClock, TestApp, send_to};
use crate::verify_url::{credential, serve};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cairn_vc::bake::{BakedPayload, bake_png};
use serde_json::{Value, json};

const OB3_VALID: &str = include_str!("../../../cairn-vc/tests/fixtures/di/interop/ob3-di-valid.json");
const BASE_PNG: &[u8] = include_bytes!("../../../cairn-vc/tests/fixtures/bake/base.png");

async fn learner(app: &TestApp) -> String {
    app.token("learner@demo.cairn.test", "cairn-demo-learner").await
}

/// An OB 2.0 assertion hosted on a loopback server, issued to `email`.
fn hosted(base: &str, email: &str) -> HashMap<String, (&'static str, String)> {
    let json = "application/json";
    let assertion = json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": format!("{base}/assertions/1"),
        "recipient": {"type": "email", "hashed": false, "identity": email},
        "badge": format!("{base}/badges/1"), "verification": {"type": "hosted"}, "issuedOn": "2026-01-01T00:00:00Z"
    });
    let badge = json!({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": format!("{base}/badges/1"), "name": "First Aid at Work", "issuer": format!("{base}/issuers/1")});
    let issuer =
        json!({"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": format!("{base}/issuers/1"), "name": "Harbour Training", "url": base});
    HashMap::from([
        ("/assertions/1".to_string(), (json, assertion.to_string())),
        ("/badges/1".to_string(), (json, badge.to_string())),
        ("/issuers/1".to_string(), (json, issuer.to_string())),
    ])
}

fn post_json(token: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/api/v1/imports")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[track_caller]
fn refused_at_credential(response: &crate::helpers::TestResponse, words: &str) {
    let problem = response.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/credential", "{problem}");
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(words), "{words:?} not in {detail:?}");
}

backend_test!(badges_from_elsewhere_are_imported_with_their_verdict, |app| {
    let token = learner(app).await;
    let imported = app.raw("POST", "/api/v1/imports", Some(&token), "application/ld+json", OB3_VALID.as_bytes().to_vec()).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text());
    let body = imported.json();
    assert_eq!((body["verdict"].as_str(), body["format"].as_str(), body["source"].as_str()), (Some("valid"), Some("ob3-json"), Some("json")), "{body}");
    assert!(body["issuer_id"].as_str().unwrap().starts_with("did:key:"), "{body}");
    assert!(body["verdict_text"].as_str().unwrap().starts_with("Verified by Cairn on "), "{body}");
    assert!(body["name"].as_str().is_some_and(|n| !n.is_empty()) && body["issuer"].as_str().is_some_and(|n| !n.is_empty()), "{body}");

    // The same badge again is a conflict; nothing is kept twice.
    app.raw("POST", "/api/v1/imports", Some(&token), "application/json", OB3_VALID.as_bytes().to_vec()).await.problem(409, "conflict");

    // Changed after signing: refused, naming the failed check.
    let mut tampered: Value = serde_json::from_str(OB3_VALID).unwrap();
    tampered["name"] = json!("Something else entirely");
    refused_at_credential(&app.json("POST", "/api/v1/imports", Some(&token), &tampered).await, "not valid");

    // Baked into a PNG, as a multipart file.
    let png = bake_png(BASE_PNG, &BakedPayload::Ob3Json(OB3_VALID.to_string())).unwrap();
    let baked = app.upload("/api/v1/imports", Some(&token), "badge.png", "image/png", &png).await;
    assert_eq!(baked.status, StatusCode::CREATED, "{}", baked.text());
    assert_eq!((baked.json()["format"].as_str(), baked.json()["source"].as_str()), (Some("png+ob3-json"), Some("png")));

    // Not a badge at all, as JWT text; an unsupported body type.
    refused_at_credential(&app.raw("POST", "/api/v1/imports", Some(&token), "text/plain", b"not.a.badge".to_vec()).await, "");
    app.raw("POST", "/api/v1/imports", Some(&token), "application/xml", b"<x/>".to_vec()).await.problem(415, "unsupported-media-type");
    app.raw("POST", "/api/v1/imports", None, "application/json", OB3_VALID.as_bytes().to_vec()).await.problem(401, "unauthenticated");

    // This site's own award belongs in its owner's backpack already.
    let own = credential(app).await;
    app.raw("POST", "/api/v1/imports", Some(&token), "application/json", own.into_bytes()).await.problem(409, "conflict");

    // The list is the learner's own; another person sees neither the list nor an item.
    let list = app.get("/api/v1/imports", Some(&token)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let id = body["id"].as_str().unwrap();
    let other = app.issuer_token().await;
    assert_eq!(app.get("/api/v1/imports", Some(&other)).await.json()["items"], json!([]));
    app.get(&format!("/api/v1/imports/{id}"), Some(&other)).await.problem(404, "not-found");
    assert_eq!(app.get(&format!("/api/v1/imports/{id}"), Some(&token)).await.json()["id"], id);

    // Shown later than REVERIFY_AFTER, it is verified again and the date moves.
    let later = app.state.app.now() + time::Duration::days(3);
    let mut at = app.state.app.clone();
    at.clock = Arc::new(FixedClock(later));
    let learner_actor = {
        let user = app.state.app.store.user_by_email(&cairn_core::account::Email::parse("learner@demo.cairn.test").unwrap()).await.unwrap().unwrap();
        cairn_core::authz::Actor::member(user.id, vec![])
    };
    let shown = cairn_app::imports::list(&at, &learner_actor).await.unwrap();
    assert!(shown.iter().all(|i| i.check.verified_at == later), "{shown:?}");
    assert!(cairn_app::imports::verdict_words(&shown[0].check).contains(&cairn_vc::dates::day(later)));

    let removed = app.raw("DELETE", &format!("/api/v1/imports/{id}"), Some(&other), "application/json", Vec::new()).await;
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let removed = app.raw("DELETE", &format!("/api/v1/imports/{id}"), Some(&token), "application/json", Vec::new()).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/imports/{id}"), Some(&token)).await.problem(404, "not-found");
});

backend_test!(hosted_badges_are_imported_by_address_when_issued_to_the_learner, |app| {
    let token = learner(app).await;
    let allowed = app.router_with(|config| config.verify_allow_hosts = vec!["127.0.0.1".into()]);
    let mine = serve(|base| hosted(base, "learner@demo.cairn.test")).await;
    let imported = send_to(&allowed, post_json(&token, &json!({"url": format!("{mine}/assertions/1")}))).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text());
    let body = imported.json();
    assert_eq!(
        (body["verdict"].as_str(), body["format"].as_str(), body["name"].as_str(), body["issuer"].as_str()),
        (Some("valid"), Some("ob2-hosted"), Some("First Aid at Work"), Some("Harbour Training")),
        "{body}"
    );
    assert_eq!(body["achievement_id"].as_str(), Some(format!("{mine}/badges/1").as_str()));

    let theirs = serve(|base| hosted(base, "someone.else@example.org")).await;
    refused_at_credential(&send_to(&allowed, post_json(&token, &json!({"url": format!("{theirs}/assertions/1")}))).await, "issued to someone else");
    refused_at_credential(&send_to(&allowed, post_json(&token, &json!({"url": format!("{mine}/nothing")}))).await, "could not be fetched");
});

backend_test!(the_imports_page_imports_lists_explains_refusals_and_removes, |app| {
    let mut browser = crate::helpers::Browser::signed_in(app.router.clone(), ("learner@demo.cairn.test", "cairn-demo-learner")).await;
    let empty = browser.get("/imports").await;
    assert_eq!(empty.status, StatusCode::OK);
    empty.assert_contains("You have not imported any badges yet");

    let png = bake_png(BASE_PNG, &BakedPayload::Ob3Json(OB3_VALID.to_string())).unwrap();
    let imported = browser.multipart("/imports", &[("text", ""), ("url", "")], ("file", "badge.png", "image/png", &png), "text/html").await;
    imported.assert_redirect("/imports");
    let listed = browser.get("/imports").await;
    listed.assert_contains("The badge is imported");
    listed.assert_contains("Verified by Cairn on ");
    listed.assert_contains("png+ob3-json");

    // Tampered JSON pasted as text: the page says which check failed, at the field, and keeps the text.
    let tampered = OB3_VALID.replacen("\"name\"", "\"name\":\"Forged\",\"x-name\"", 1);
    let refused = browser.multipart("/imports", &[("text", &tampered), ("url", "")], ("file", "", "application/octet-stream", b""), "text/html").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text());
    refused.assert_contains("id=\"import_text-error\"");
    refused.assert_contains("Forged");

    let id = app.get("/api/v1/imports", Some(&learner(app).await)).await.json()["items"][0]["id"].as_str().unwrap().to_string();
    browser.post(&format!("/imports/{id}/remove"), &[]).await.assert_redirect("/imports");
    browser.get("/imports").await.assert_contains("The imported badge is removed");
    assert_eq!(app.get("/api/v1/imports", Some(&learner(app).await)).await.json()["items"], json!([]));

    // Signed out, the page asks to sign in.
    crate::helpers::Browser::new(app.router.clone()).get("/imports").await.assert_redirect("/login");
});
