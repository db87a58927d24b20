//! Health, problems, the OpenAPI document, DID documents and images.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

backend_test!(healthz_answers_when_the_database_does, |app| {
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
    assert_eq!(response.json()["signing"], "ok", "the demo issuer's key unseals and signs");
});

backend_test!(readyz_answers_until_the_instance_stops, |app| {
    let response = app.get("/readyz", None).await;
    assert_eq!((response.status.as_u16(), response.json()["status"].as_str()), (200, Some("ready")));
    app.state.app.lifecycle.stop();
    let stopping = app.get("/readyz", None).await.problem(503, "unavailable");
    assert!(stopping["detail"].as_str().unwrap().contains("shutting down"), "{stopping}");
    assert_eq!(app.get("/readyz", None).await.headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap()), Some("5"));
    assert_eq!(app.get("/healthz", None).await.status, 200, "health is not readiness");
});

backend_test!(metrics_count_requests_by_route_template_and_need_the_token_when_set, |app| {
    for _ in 0..3 {
        app.get("/api/v1/achievements", None).await;
    }
    app.get("/api/v1/no-such-thing/at-all", None).await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type(), cairn_app::metrics::CONTENT_TYPE);
    let text = response.text();
    for line in [
        "cairn_http_requests_total{method=\"GET\",route=\"/api/v1/achievements\",status=\"200\"} 3",
        "cairn_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "cairn_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/achievements\"} 3",
        "cairn_http_requests_in_flight 1",
        "cairn_outbox_depth{queue=\"mail\"} ",
        "cairn_outbox_depth{queue=\"effects_failed\"} 0",
        "# EOF",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains("no-such-thing"), "raw paths never become labels");

    let guarded = app.router_with(|config| config.metrics_token_digest = Some(cairn_app::metrics::token_digest("a-metrics-token-0123")));
    let refused = crate::helpers::send_to(&guarded, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    refused.problem(401, "unauthenticated");
    assert!(refused.headers.contains_key(header::WWW_AUTHENTICATE));
    let wrong = Request::get("/metrics").header(header::AUTHORIZATION, "Bearer a-metrics-token-0124").body(Body::empty()).unwrap();
    assert_eq!(crate::helpers::send_to(&guarded, wrong).await.status, 401);
    let right = Request::get("/metrics").header(header::AUTHORIZATION, "Bearer a-metrics-token-0123").body(Body::empty()).unwrap();
    assert_eq!(crate::helpers::send_to(&guarded, right).await.status, 200);
});

backend_test!(unknown_routes_and_methods_are_problems, |app| {
    app.get("/api/v1/nothing-here", None).await.problem(404, "not-found");
    let response = app.json("DELETE", "/api/v1/achievements", None, &json!({})).await;
    response.problem(405, "method-not-allowed");
    let page = app.send(Request::get("/no/such/page").header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, 404);
    assert!(page.content_type().starts_with("text/html"), "{}", page.content_type());
    assert!(page.text().contains("Not found"));
});

backend_test!(the_openapi_document_describes_every_operation, |app| {
    let doc = app.get("/api/v1/openapi.json", None).await.json();
    insta::assert_snapshot!("openapi", crate::helpers::snapshot_text(&doc));
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/achievements") && paths.contains_key("/organisations/{id}/achievements"));
    // Every documented operation is routed: none answers with the router's 404 or a 405.
    let id = uuid::Uuid::new_v4().to_string();
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", &id).replace("{user_id}", &id).replace("{version}", "1");
            let response = app.raw(&method.to_uppercase(), &format!("/api/v1{concrete}"), None, "application/json", b"{}".to_vec()).await;
            assert_ne!(response.status, 405, "{method} {path}");
            if response.status == 404 {
                assert_ne!(response.json()["detail"], "nothing here", "{method} {path} is not routed");
            }
        }
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(doc["components"]["schemas"].get(&name).is_some(), "missing schema {name}");
    }
});

backend_test!(issuers_publish_did_documents_with_public_keys_only, |app| {
    let id = app.demo_organisation().await;
    let organisation = app.get(&format!("/api/v1/organisations/{id}"), None).await.json();
    let did_web = organisation["did_web"].as_str().unwrap();
    assert_eq!(did_web, format!("did:web:127.0.0.1%3A8080:issuers:{id}"));
    assert!(organisation["did_key"].as_str().unwrap().starts_with("did:key:z6Mk"));
    let document = app.get(&format!("/issuers/{id}/did.json"), None).await;
    assert_eq!(document.status, 200);
    let document = document.json();
    assert_eq!(document["id"], did_web);
    assert_eq!(document["verificationMethod"][0]["type"], "Multikey");
    assert_eq!(document["verificationMethod"][0]["publicKeyMultibase"], organisation["public_key_multibase"]);
    assert_eq!(document["assertionMethod"][0], format!("{did_web}#key-1"));
    assert_eq!(document["alsoKnownAs"][0], organisation["did_key"]);
    let text = document.to_string();
    assert!(!text.contains("private") && !text.contains("secret") && !text.contains("sealed"));
    app.get(&format!("/issuers/{}/did.json", uuid::Uuid::new_v4()), None).await.problem(404, "not-found");
    app.get("/issuers/not-a-uuid/did.json", None).await.problem(404, "not-found");
});

backend_test!(achievements_have_a_generated_default_image, |app| {
    let list = app.get("/api/v1/achievements?q=OWASP", None).await.json();
    let image_url = list["items"][0]["image"].as_str().unwrap();
    let path = image_url.trim_start_matches("http://127.0.0.1:8080");
    let image = app.get(path, None).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.content_type(), "image/svg+xml");
    assert!(image.text().contains("<svg"));
    assert!(image.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
});
