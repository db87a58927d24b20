//! Authoring achievements over the API: create, validate, version, publish, retire, images.

use crate::helpers::badge_body;
use serde_json::json;

backend_test!(staff_create_edit_publish_and_retire_a_micro_badge, |app| {
    let org = app.demo_organisation().await;
    let token = app.issuer_token().await;
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&token), &badge_body("Robust Bash")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!((created["state"].as_str(), created["version"].as_u64()), (Some("draft"), Some(1)));
    assert_eq!(created["fee"]["currency"], "USD");
    assert_eq!(created["rubric"]["criteria"][1]["required_level"], "Proficient");
    assert_eq!(created["rubric"]["criteria"][0]["id"], "robustness");
    let id = created["id"].as_str().unwrap();
    // A draft is invisible to the public and to the catalog.
    app.get(&format!("/api/v1/achievements/{id}"), None).await.problem(404, "not-found");
    assert_eq!(app.get("/api/v1/achievements?q=bash", None).await.json()["total"], 0);
    assert_eq!(app.get(&format!("/api/v1/achievements/{id}"), Some(&token)).await.status, 200);
    // Edits to a draft change it in place.
    let mut edit = badge_body("Robust Bash Scripting");
    edit.as_object_mut().unwrap().remove("kind");
    let edited = app.json("PUT", &format!("/api/v1/achievements/{id}"), Some(&token), &edit).await.json();
    assert_eq!((edited["name"].as_str(), edited["version"].as_u64()), (Some("Robust Bash Scripting"), Some(1)));
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&token), &json!({})).await.json();
    assert_eq!(published["state"], "published");
    assert_eq!(app.get("/api/v1/achievements?q=bash", None).await.json()["total"], 1);
    app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&token), &json!({})).await.problem(409, "achievement-state");
    // Edits to a published achievement create a new version; the old one stays readable.
    edit["description"] = json!("Version two");
    let v2 = app.json("PUT", &format!("/api/v1/achievements/{id}"), Some(&token), &edit).await.json();
    assert_eq!(v2["version"], 2);
    let v1 = app.get(&format!("/api/v1/achievements/{id}/versions/1"), None).await.json();
    assert_eq!(v1["description"], "Write a bash script that survives bad input.");
    let retired = app.json("POST", &format!("/api/v1/achievements/{id}/retire"), Some(&token), &json!({})).await.json();
    assert_eq!(retired["state"], "retired");
    assert_eq!(app.get("/api/v1/achievements?q=bash", None).await.json()["total"], 0);
    app.json("PUT", &format!("/api/v1/achievements/{id}"), Some(&token), &edit).await.problem(409, "achievement-state");
});

backend_test!(a_micro_credential_needs_exactly_three_valid_levels, |app| {
    let org = app.demo_organisation().await;
    let token = app.issuer_token().await;
    let level = |name: &str| {
        let mut body = badge_body(name);
        body.as_object_mut().unwrap().remove("kind");
        body
    };
    let mut body = json!({
        "kind": "micro-credential",
        "name": "Shell Mastery",
        "description": "Three levels of shell work",
        "criteria": "Hold all three levels",
        "levels": [level("Shell 1"), level("Shell 2")],
    });
    let problem = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&token), &body).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/levels");
    let mut broken = level("Shell 3");
    broken["rubric"]["criteria"][0]["required_level"] = json!("Legendary");
    body["levels"] = json!([level("Shell 1"), level("Shell 2"), broken]);
    let problem = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&token), &body).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/levels/2/rubric/criteria/0/required_level");
    body["levels"] = json!([level("Shell 1"), level("Shell 2"), level("Shell 3")]);
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&token), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["kind"], "micro-credential");
    assert_eq!(created["levels"].as_array().unwrap().len(), 3);
    let level1 = created["levels"][0].as_str().unwrap();
    app.json("POST", &format!("/api/v1/achievements/{level1}/publish"), Some(&token), &json!({})).await.problem(409, "achievement-state");
    let id = created["id"].as_str().unwrap();
    app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&token), &json!({})).await;
    assert_eq!(app.get(&format!("/api/v1/achievements/{level1}"), None).await.json()["state"], "published", "levels are published with their micro-credential");
    app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&token), &body).await.problem(409, "conflict");
});

backend_test!(authoring_is_for_owners_and_staff_of_that_organisation, |app| {
    let org = app.demo_organisation().await;
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    let learner = app.token("learner@demo.cairn.test", "cairn-demo-learner").await;
    let path = format!("/api/v1/organisations/{org}/achievements");
    app.json("POST", &path, Some(&assessor), &badge_body("Nope")).await.problem(403, "forbidden");
    app.json("POST", &path, Some(&learner), &badge_body("Nope")).await.problem(403, "forbidden");
    app.json("POST", &path, None, &badge_body("Nope")).await.problem(401, "unauthenticated");
    let drafts = app.get(&path, Some(&assessor)).await;
    assert_eq!(drafts.status, 200);
    assert_eq!(drafts.json()["items"].as_array().unwrap().len(), 8, "assessors see every entry, levels included");
    app.get(&path, Some(&learner)).await.problem(403, "forbidden");
    let owner = app.issuer_token().await;
    let any = app.get("/api/v1/achievements", None).await.json()["items"][0]["id"].as_str().unwrap().to_string();
    app.json("POST", &format!("/api/v1/achievements/{any}/retire"), Some(&learner), &json!({})).await.problem(403, "forbidden");
    let mut edit = badge_body("Hijack");
    edit.as_object_mut().unwrap().remove("kind");
    app.json("PUT", &format!("/api/v1/achievements/{any}"), Some(&assessor), &edit).await.problem(403, "forbidden");
    assert_eq!(app.get(&format!("/api/v1/achievements/{any}"), Some(&owner)).await.json()["version"], 1, "nothing changed");
});

backend_test!(invalid_achievements_report_every_field_and_store_nothing, |app| {
    let org = app.demo_organisation().await;
    let token = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{org}/achievements");
    let mut body = badge_body("");
    body["rubric"]["levels"] = json!(["Only"]);
    body["alignments"][0]["target_url"] = json!("not a url");
    body["fee"] = json!({"amount": "-3", "currency": "EUR"});
    body["validity_months"] = json!(9999);
    let problem = app.json("POST", &path, Some(&token), &body).await.problem(422, "invalid-input");
    let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    for expected in ["/name", "/rubric/levels", "/alignments/0/target_url", "/fee/amount", "/validity_months"] {
        assert!(pointers.contains(&expected), "{expected} missing from {pointers:?}");
    }
    app.json("POST", &path, Some(&token), &json!({"kind": "micro-badge", "name": "X", "nmae": "typo"})).await.problem(400, "malformed-request");
    app.json("POST", &path, Some(&token), &json!({"kind": "micro-badge", "rubric": "not an object"})).await.problem(400, "malformed-request");
    let duplicate = app.json("POST", &path, Some(&token), &badge_body("inclusive meeting facilitation")).await;
    duplicate.problem(409, "conflict");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    app.raw("POST", &path, Some(&token), "application/json", deep.into_bytes()).await.problem(400, "malformed-request");
    let huge = vec![b' '; 4 * 1024 * 1024];
    app.raw("POST", &path, Some(&token), "application/json", huge).await.problem(413, "too-large");
    app.json("POST", &format!("/api/v1/organisations/{}/achievements", uuid::Uuid::new_v4()), Some(&token), &badge_body("Ghost"))
        .await
        .problem(403, "forbidden");
    assert_eq!(app.get(&path, Some(&token)).await.json()["items"].as_array().unwrap().len(), 8, "nothing was stored");
});

backend_test!(badge_images_are_checked_sanitised_and_versioned, |app| {
    let org = app.demo_organisation().await;
    let token = app.issuer_token().await;
    let id = app.get("/api/v1/achievements?q=owasp", None).await.json()["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/achievements/{id}/image");
    let png = tiny_png();
    let uploaded = app.upload(&path, Some(&token), "badge.png", "image/png", &png).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    assert_eq!(uploaded.json()["version"], 2, "a published achievement gets a new version");
    let image = app.get(&format!("/achievements/{id}/image"), None).await;
    assert_eq!((image.content_type(), image.body.clone()), ("image/png", png.clone()));
    app.upload(&path, Some(&token), "badge.svg", "image/svg+xml", &png).await.problem(415, "unsupported-media-type");
    app.upload(&path, Some(&token), "empty.png", "image/png", b"").await.problem(422, "invalid-input");
    app.upload(&path, Some(&token), "notes.txt", "text/plain", b"hello there").await.problem(415, "unsupported-media-type");
    let mut corrupt = png.clone();
    let last = corrupt.len() - 5;
    corrupt[last] ^= 0xff;
    app.upload(&path, Some(&token), "corrupt.png", "image/png", &corrupt).await.problem(422, "invalid-input");
    let bomb =
        br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>"#;
    app.upload(&path, Some(&token), "bomb.svg", "image/svg+xml", bomb).await.problem(422, "invalid-input");
    let big = vec![0u8; 3 * 1024 * 1024];
    app.upload(&path, Some(&token), "big.png", "image/png", &big).await.problem(413, "too-large");
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    app.upload(&path, Some(&assessor), "badge.png", "image/png", &png).await.problem(403, "forbidden");
    assert_eq!(app.get(&format!("/api/v1/achievements/{id}"), None).await.json()["version"], 2, "failed uploads changed nothing");
    let _ = org;
});

/// A real 2×2 PNG.
fn tiny_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 2, 2);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[255u8; 16]).unwrap();
    }
    bytes
}
