//! Accounts, sessions and API tokens over the API.

use serde_json::json;

backend_test!(sign_up_then_session_then_me, |app| {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": "Grace", "email": "Grace@Example.org", "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    assert_eq!(created.json()["email"], "grace@example.org");
    let token = app.token("grace@example.org", "a long enough password").await;
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["name"], "Grace");
    assert_eq!(me["memberships"], json!([]));
});

backend_test!(bad_sign_ups_are_refused_field_by_field, |app| {
    let response = app.json("POST", "/api/v1/users", None, &json!({"name": "", "email": "nope", "password": "short"})).await;
    let problem = response.problem(422, "invalid-input");
    let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/email", "/password"]);
    app.raw("POST", "/api/v1/users", None, "application/json", b"{\"name\": ".to_vec()).await.problem(400, "malformed-request");
    app.json("POST", "/api/v1/users", None, &json!({"name": "X", "email": "x@example.org", "password": "long password 123", "admin": true}))
        .await
        .problem(400, "malformed-request");
    app.raw("POST", "/api/v1/users", None, "text/plain", b"hello".to_vec()).await.problem(415, "unsupported-media-type");
});

backend_test!(wrong_credentials_get_one_message, |app| {
    let wrong_password = app.json("POST", "/api/v1/session", None, &json!({"email": "learner@demo.cairn.test", "password": "not the password"})).await;
    let unknown = app.json("POST", "/api/v1/session", None, &json!({"email": "ghost@demo.cairn.test", "password": "not the password"})).await;
    assert_eq!(wrong_password.problem(401, "unauthenticated")["detail"], unknown.problem(401, "unauthenticated")["detail"]);
    assert!(wrong_password.headers.get("www-authenticate").is_some());
});

backend_test!(api_tokens_are_created_listed_and_revoked, |app| {
    let token = app.token("learner@demo.cairn.test", "cairn-demo-learner").await;
    let created = app.json("POST", "/api/v1/tokens", Some(&token), &json!({"name": "laptop"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));
    let listed = app.get("/api/v1/tokens", Some(&secret)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&secret), "a secret is shown only once");
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.json("DELETE", &format!("/api/v1/tokens/{id}"), Some(&token), &json!({})).await.status, 204);
    app.get("/api/v1/me", Some(&secret)).await.problem(401, "unauthenticated");
    app.json("POST", "/api/v1/tokens", Some(&token), &json!({"name": "  "})).await.problem(422, "invalid-input");
    app.json("DELETE", &format!("/api/v1/tokens/{}", uuid::Uuid::new_v4()), Some(&token), &json!({})).await.problem(404, "not-found");
    app.get("/api/v1/tokens", None).await.problem(401, "unauthenticated");
    app.get("/api/v1/me", Some("cairn_forged")).await.problem(401, "unauthenticated");
    let basic = app.send(axum::http::Request::get("/api/v1/me").header("authorization", "Basic eDp5").body(axum::body::Body::empty()).unwrap()).await;
    basic.problem(401, "unauthenticated");
});

backend_test!(the_api_ignores_session_cookies, |app| {
    let response = app.send(axum::http::Request::get("/api/v1/me").header("cookie", "cairn_session=anything").body(axum::body::Body::empty()).unwrap()).await;
    response.problem(401, "unauthenticated");
});
