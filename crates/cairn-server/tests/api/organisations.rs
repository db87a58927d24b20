//! Issuer organisations and members over the API, and the role checks on them.

use serde_json::json;

backend_test!(any_user_can_create_an_organisation_and_owns_it, |app| {
    let token = app.token("learner@demo.cairn.test", "cairn-demo-learner").await;
    let body =
        json!({"name": "Riverside Makerspace", "url": "https://riverside.example", "email": "hello@riverside.example", "description": "Community workshop"});
    let created = app.json("POST", "/api/v1/organisations", Some(&token), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert!(created["did_key"].as_str().unwrap().starts_with("did:key:z6Mk"));
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["memberships"][0], json!({"organisation_id": created["id"], "role": "owner"}));
    let duplicate = app.json("POST", "/api/v1/organisations", Some(&token), &json!({"name": "riverside makerspace", "url": "https://x.example"})).await;
    duplicate.problem(409, "conflict");
    app.json("POST", "/api/v1/organisations", None, &body).await.problem(401, "unauthenticated");
    let invalid = app.json("POST", "/api/v1/organisations", Some(&token), &json!({"name": "X", "url": "javascript:alert(1)"})).await;
    let problem = invalid.problem(422, "invalid-input");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/v1/organisations", None).await.json()["items"].as_array().unwrap().len(), 2, "nothing extra was created");
});

backend_test!(owners_manage_members_and_others_cannot, |app| {
    let org = app.demo_organisation().await;
    let owner = app.issuer_token().await;
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    let learner = app.token("learner@demo.cairn.test", "cairn-demo-learner").await;
    let members = app.get(&format!("/api/v1/organisations/{org}/members"), Some(&assessor)).await.json();
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    app.get(&format!("/api/v1/organisations/{org}/members"), Some(&learner)).await.problem(403, "forbidden");
    let add = json!({"email": "learner@demo.cairn.test", "role": "staff"});
    app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(&assessor), &add).await.problem(403, "forbidden");
    let added = app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(&owner), &add).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let learner_id = added.json()["user_id"].as_str().unwrap().to_string();
    app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(&owner), &add).await.problem(409, "conflict");
    app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(&owner), &json!({"email": "ghost@example.org", "role": "staff"}))
        .await
        .problem(422, "invalid-input");
    app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(&owner), &json!({"email": "x@example.org", "role": "admin"}))
        .await
        .problem(422, "invalid-input");
    assert_eq!(app.json("PUT", &format!("/api/v1/organisations/{org}/members/{learner_id}"), Some(&owner), &json!({"role": "assessor"})).await.status, 204);
    let me = app.get("/api/v1/me", Some(&owner)).await.json();
    let owner_id = me["id"].as_str().unwrap();
    app.json("DELETE", &format!("/api/v1/organisations/{org}/members/{owner_id}"), Some(&owner), &json!({})).await.problem(409, "conflict");
    assert_eq!(app.json("DELETE", &format!("/api/v1/organisations/{org}/members/{learner_id}"), Some(&owner), &json!({})).await.status, 204);
    app.get(&format!("/api/v1/organisations/{org}/members"), Some(&learner)).await.problem(403, "forbidden");
});

backend_test!(owners_edit_the_profile_and_image, |app| {
    let org = app.demo_organisation().await;
    let owner = app.issuer_token().await;
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    let body = json!({"name": "Northbridge Institute", "url": "https://northbridge.example.edu", "description": "Renamed"});
    app.json("PUT", &format!("/api/v1/organisations/{org}"), Some(&assessor), &body).await.problem(403, "forbidden");
    let updated = app.json("PUT", &format!("/api/v1/organisations/{org}"), Some(&owner), &body).await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["name"], "Northbridge Institute");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="teal"/><script>alert(1)</script></svg>"#;
    let uploaded = app.upload(&format!("/api/v1/organisations/{org}/image"), Some(&owner), "logo.svg", "image/svg+xml", svg).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let image = app.get(&format!("/issuers/{org}/image"), None).await;
    assert_eq!(image.content_type(), "image/svg+xml");
    assert!(image.text().contains("circle") && !image.text().contains("script"), "{}", image.text());
});
