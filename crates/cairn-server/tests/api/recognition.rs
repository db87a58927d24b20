//! Recognition of prior learning: issuers' equivalency rules (kept, refused when wrong, theirs
//! alone), a verified badge that a rule names recognised at once, and every other request judged
//! blind against the rubric; either way the award says it recognises prior learning, counts
//! toward stacks and appears on the transcript.

use crate::helpers::{Browser, TestApp};
use crate::journey::{assessed_badge, scores, sign_up};
use crate::stacks::checked_credential;
use cairn_core::ids::AwardId;
use serde_json::{Value, json};

const OB3_VALID: &str = include_str!("../../../cairn-vc/tests/fixtures/di/interop/ob3-di-valid.json");

async fn graduate(app: &TestApp) -> String {
    app.token(cairn_core::demo::GRADUATE_EMAIL, "cairn-demo-graduate").await
}

fn evidence_of_recognition(credential: &Value) -> Value {
    credential["evidence"].as_array().unwrap().iter().find(|e| e["genre"] == "Recognition of prior learning").cloned().unwrap_or(Value::Null)
}

backend_test!(a_verified_badge_named_by_an_equivalency_rule_is_recognised_at_once, |app| {
    let token = graduate(app).await;
    // The demo graduate imported two badges from elsewhere; the demo claimed the first.
    let listed = app.get("/api/v1/imports", Some(&token)).await.json();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    let waiting = items.iter().find(|i| i["name"] == "Relational Databases I").unwrap();
    assert_eq!(waiting["verdict"], "valid", "{waiting}");
    assert_eq!(waiting["counts_as"][0]["name"], "SQL Foundations: Querying One Table", "{waiting}");
    let level = waiting["counts_as"][0]["achievement_id"].as_str().unwrap().to_string();
    let held = app.get("/api/v1/awards", Some(&token)).await.json();
    assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["items"][0]["recognition"], "equivalency", "{held}");

    let claimed = app.json("POST", "/api/v1/recognitions", Some(&token), &json!({"achievement_id": level, "import_id": waiting["id"]})).await;
    assert_eq!(claimed.status, 201, "{}", claimed.text());
    let body = claimed.json();
    assert_eq!(body["status"], "awarded", "{body}");
    assert_eq!(body["award"]["recognition"], "equivalency", "{body}");
    assert_eq!(body["award"]["achievement_id"], level.as_str());
    let award = app.state.app.store.award(body["award"]["id"].as_str().unwrap().parse::<AwardId>().unwrap()).await.unwrap();
    let credential = checked_credential(app, &award).await;
    let evidence = evidence_of_recognition(&credential);
    assert!(evidence["narrative"].as_str().unwrap().contains("\"Relational Databases I\", issued by Harbourside Community College"), "{evidence}");
    assert!(evidence["description"].as_str().unwrap().contains("equivalency rule"), "{evidence}");

    // Held like any award: once, toward its micro-credential, on the transcript.
    app.json("POST", "/api/v1/recognitions", Some(&token), &json!({"achievement_id": level, "import_id": waiting["id"]})).await.problem(409, "conflict");
    let user = app.state.app.store.user_by_email(&cairn_core::account::Email::parse(cairn_core::demo::GRADUATE_EMAIL).unwrap()).await.unwrap().unwrap();
    assert!(app.state.app.store.held_achievements(user.id).await.unwrap().contains(&level.parse().unwrap()));
    let transcript = app.get("/api/v1/me/transcript", Some(&token)).await;
    assert_eq!(transcript.status, 200, "{}", transcript.text());
    let transcript = transcript.text();
    assert!(transcript.contains("SQL Foundations: Querying One Table") && transcript.contains("Inclusive Meeting Facilitation"), "{transcript}");
    assert!(transcript.contains("Recognition of prior learning"), "the awards in the transcript say so");

    // The account export lists the badges from elsewhere, as given.
    let export = app.get("/api/v1/me/export", Some(&token)).await.json();
    let exported = export["imports"].as_array().unwrap();
    assert_eq!(exported.len(), 2, "{export}");
    assert!(exported.iter().all(|i| i["credential"].as_str().is_some_and(|c| c.contains("Harbourside")) && i["verdict"] == "valid"), "{exported:?}");
    assert!(export["awards"].as_array().unwrap().iter().all(|a| a["recognition"] == "equivalency"));

    // The award page says so too.
    let mut browser = Browser::signed_in(app.router.clone(), (cairn_core::demo::GRADUATE_EMAIL, "cairn-demo-graduate")).await;
    let page = browser.get(&format!("/awards/{}", award.id)).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains("Recognised prior learning, by the issuer&#39;s equivalency rule");
});

backend_test!(issuers_keep_equivalency_rules_of_their_own, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{org}/equivalencies");
    let rules = app.get(&path, Some(&issuer)).await.json();
    assert_eq!(rules["items"].as_array().unwrap().len(), 2, "the demo's two rules: {rules}");
    let achievements = app.get(&format!("/api/v1/organisations/{org}/achievements"), Some(&issuer)).await.json();
    let find = |kind: &str| achievements["items"].as_array().unwrap().iter().find(|a| a["kind"] == kind).unwrap()["id"].as_str().unwrap().to_string();
    let badge = find("micro-badge");
    let micro_credential = find("micro-credential");

    let rule = json!({"achievement_id": badge, "external_issuer": "did:web:college.example", "external_achievement": "https://college.example/badges/7", "note": "Reviewed 2026"});
    let added = app.json("POST", &path, Some(&issuer), &rule).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let added = added.json();
    assert_eq!((added["external_issuer"].as_str(), added["note"].as_str()), (Some("did:web:college.example"), Some("Reviewed 2026")));
    app.json("POST", &path, Some(&issuer), &rule).await.problem(409, "conflict");

    // Bad ids, a micro-credential, another organisation's achievement: refused where they are wrong.
    let bad =
        app.json("POST", &path, Some(&issuer), &json!({"achievement_id": badge, "external_issuer": "college", "external_achievement": "https://a b"})).await;
    let problem = bad.problem(422, "invalid-input");
    let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/external_issuer", "/external_achievement"], "{problem}");
    let whole =
        json!({"achievement_id": micro_credential, "external_issuer": "did:web:college.example", "external_achievement": "https://college.example/badges/8"});
    let refused = app.json("POST", &path, Some(&issuer), &whole).await.problem(422, "invalid-input");
    assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("levels"), "{refused}");
    let (other_token, _) = sign_up(app, "Other Owner", "other.owner@example.org").await;
    let other = app.json("POST", "/api/v1/organisations", Some(&other_token), &json!({"name": "Other College", "url": "https://other.example"})).await;
    assert_eq!(other.status, 201, "{}", other.text());
    let other_path = format!("/api/v1/organisations/{}/equivalencies", other.json()["id"].as_str().unwrap());
    app.json("POST", &other_path, Some(&other_token), &rule).await.problem(422, "invalid-input");

    // Only those who run assessment see and change them.
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    assert_eq!(app.get(&path, Some(&assessor)).await.status, 403);
    assert_eq!(app.json("POST", &path, Some(&other_token), &rule).await.status, 403);
    let rule_path = format!("{path}/{}", added["id"].as_str().unwrap());
    assert_eq!(app.raw("DELETE", &rule_path, Some(&other_token), "application/json", Vec::new()).await.status, 403);
    assert_eq!(app.raw("DELETE", &rule_path, Some(&issuer), "application/json", Vec::new()).await.status, 204);
    assert_eq!(app.raw("DELETE", &rule_path, Some(&issuer), "application/json", Vec::new()).await.status, 404);
    assert_eq!(app.get(&path, Some(&issuer)).await.json()["items"].as_array().unwrap().len(), 2);
});

backend_test!(other_prior_learning_is_judged_blind_against_the_rubric, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Incident Response Basics", None).await;
    let org = app.demo_organisation().await;
    let (learner, _) = sign_up(app, "Noor Haddad", "noor.haddad@example.org").await;
    // A valid badge that does not name the learner's address is not enough for a rule: it is
    // shown to the assessor instead.
    let imported = app.raw("POST", "/api/v1/imports", Some(&learner), "application/json", OB3_VALID.as_bytes().to_vec()).await;
    assert_eq!(imported.status, 201, "{}", imported.text());
    let imported = imported.json();
    let rule = json!({"achievement_id": badge, "external_issuer": imported["issuer_id"], "external_achievement": imported["achievement_id"]});
    assert_eq!(app.json("POST", &format!("/api/v1/organisations/{org}/equivalencies"), Some(&issuer), &rule).await.status, 201);

    // Refusals first: nothing is started.
    app.json("POST", "/api/v1/recognitions", Some(&learner), &json!({"achievement_id": "nope"})).await.problem(422, "invalid-input");
    let foreign = app.json("POST", "/api/v1/recognitions", Some(&learner), &json!({"achievement_id": badge, "import_id": uuid_like()})).await;
    assert_eq!(foreign.problem(422, "invalid-input")["errors"][0]["pointer"], "/import_id");
    assert_eq!(app.json("POST", "/api/v1/recognitions", None, &json!({"achievement_id": badge})).await.status, 401);

    let statement = "Two years on a security operations rota at Harbour Bank.";
    let asked =
        app.json("POST", "/api/v1/recognitions", Some(&learner), &json!({"achievement_id": badge, "import_id": imported["id"], "statement": statement})).await;
    assert_eq!(asked.status, 201, "{}", asked.text());
    let asked = asked.json();
    assert_eq!(asked["status"], "queued", "{asked}");
    let id = asked["submission"]["id"].as_str().unwrap().to_string();
    assert_eq!(asked["submission"]["overview"], statement);
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["prior_learning"]["import"]["name"], imported["name"], "{view}");
    app.json(
        "PUT",
        &format!("/api/v1/submissions/{id}"),
        Some(&learner),
        &json!({"overview": statement, "reflection": "What the rota taught me.", "links": ["https://example.org/rota-log"], "collaborators": []}),
    )
    .await;
    let sent = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.text());

    // The assessor sees the badge shown, never who holds it.
    let opened = app.get(&format!("/api/v1/assessments/{id}"), Some(&assessor)).await;
    assert!(!opened.text().contains("Noor") && !opened.text().contains("noor.haddad"), "{}", opened.text());
    let opened = opened.json();
    assert_eq!(opened["prior_learning"]["import"]["verdict_text"].as_str().map(|v| v.starts_with("Verified by Cairn on")), Some(true), "{opened}");
    let passed = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["Proficient", "Proficient"])).await;
    assert_eq!(passed.status, 200, "{}", passed.text());

    let awards = app.get("/api/v1/awards", Some(&learner)).await.json();
    assert_eq!(awards["items"][0]["recognition"], "assessed", "{awards}");
    let award = app.state.app.store.award(awards["items"][0]["id"].as_str().unwrap().parse::<AwardId>().unwrap()).await.unwrap();
    let credential = checked_credential(app, &award).await;
    let evidence = evidence_of_recognition(&credential);
    assert!(evidence["narrative"].as_str().unwrap().contains("assessed against this achievement's rubric"), "{evidence}");
    assert!(!credential["credentialSubject"]["result"].as_array().unwrap().is_empty(), "the rubric levels reached are in the credential");
});

fn uuid_like() -> String {
    cairn_core::ids::ImportId::new().to_string()
}
