//! Stacks and certificates over the API: a micro-credential's levels are taken in order unless
//! its issuer allows any order; a micro-credential can be made of existing micro-badges; a
//! certificate is awarded through the outbox once its rule (all, n of, a minimum of credit
//! hours) is met, its credential naming the awards that earned it; another organisation's
//! achievement counts once an owner of it agrees; credit hours reach the credentials.

use crate::helpers::{TestApp, badge_body};
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::ids::{AchievementId, UserId};
use cairn_store::{Award, Effect, EffectState};
use cairn_vc::loader::StaticLoader;
use cairn_vc::verify::{Verdict, VerifyOptions, verify};
use serde_json::{Value, json};

async fn create(app: &TestApp, token: &str, org: &str, body: &Value) -> Value {
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(token), body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()
}

async fn publish(app: &TestApp, token: &str, id: &str) -> Value {
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(token), &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text());
    published.json()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

/// A published micro-badge of `org` worth `credits` credit hours.
async fn badge(app: &TestApp, token: &str, org: &str, name: &str, credits: Option<f64>) -> String {
    let mut body = badge_body(name);
    body["fee"] = Value::Null;
    body["credits_available"] = json!(credits);
    let created = create(app, token, org, &body).await;
    assert_eq!(created["credits_available"], json!(credits));
    publish(app, token, &id(&created)).await;
    id(&created)
}

/// A published micro-credential with three levels written inline; its id and its level ids.
async fn micro_credential(app: &TestApp, token: &str, org: &str, name: &str, any_order: bool) -> (String, Vec<String>) {
    let level = |n: u8| {
        let mut body = badge_body(&format!("{name} {n}"));
        body.as_object_mut().unwrap().remove("kind");
        body["fee"] = Value::Null;
        body
    };
    let body = json!({
        "kind": "micro-credential", "name": name, "description": "Three levels", "criteria": "Hold all three levels",
        "levels": [level(1), level(2), level(3)], "levels_in_any_order": any_order,
    });
    let created = create(app, token, org, &body).await;
    assert_eq!(created["levels_in_any_order"], any_order);
    publish(app, token, &id(&created)).await;
    (id(&created), created["levels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect())
}

/// A new learner: their token and id.
async fn learner(app: &TestApp, name: &str, email: &str) -> (String, UserId) {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": name, "email": email, "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    let token = app.token(email, "a long enough password").await;
    let user = app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id;
    (token, user)
}

/// Awards `achievement` to `learner` as a passed assessment would (the award's effects, stacking
/// included, run from the outbox before it returns).
async fn award(app: &TestApp, learner: UserId, achievement: &str) -> Award {
    let achievement = app.state.app.store.achievement(achievement.parse().unwrap()).await.unwrap();
    let judgement = achievement.content.rubric.as_ref().map(|rubric| {
        let scores: Vec<ScoreFields> = rubric
            .criteria
            .iter()
            .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Good".into() })
            .collect();
        Judgement::parse(rubric, &scores, "Well done").unwrap()
    });
    let request = AwardRequest { judgement, ..AwardRequest::new(learner, achievement.id) };
    awards::award(&app.state.app, request).await.unwrap()
}

/// The learner's award of `achievement`, if any.
async fn award_of(app: &TestApp, learner: UserId, achievement: &str) -> Option<Award> {
    let achievement: AchievementId = achievement.parse().unwrap();
    app.state.app.store.awards_of(learner).await.unwrap().into_iter().find(|a| a.achievement == achievement)
}

/// Applies for `achievement` over the API.
async fn apply(app: &TestApp, token: &str, achievement: &str) -> crate::helpers::TestResponse {
    app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(token), &json!({})).await
}

fn schema() -> jsonschema::Validator {
    let path = format!("{}/../cairn-vc/tests/fixtures/schemas/ob_v3p0_achievementcredential_schema.json", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft201909::new(&schema).unwrap()
}

/// The award's stored credential (what its learner downloads; new awards are private), checked
/// against the OB 3.0 schema and verified with the issuer's DID document and status lists as the
/// app serves them.
pub(crate) async fn checked_credential(app: &TestApp, award: &Award) -> Value {
    let credential: Value = serde_json::from_str(&award.credential_json).unwrap();
    // The credential names a revocation and a suspension entry (docs/credentials.md), where the
    // OB 3.0 schema allows one: each entry is checked in the schema's place.
    let entries = credential["credentialStatus"].as_array().cloned().unwrap_or_else(|| vec![credential["credentialStatus"].clone()]);
    assert_eq!(entries.len(), 2, "a revocation and a suspension entry");
    let validator = schema();
    let mut errors = Vec::new();
    for entry in entries {
        let mut one = credential.clone();
        one["credentialStatus"] = entry;
        errors.extend(validator.iter_errors(&one).map(|e| format!("{} at {}", e, e.instance_path())));
    }
    assert!(errors.is_empty(), "{errors:#?}\n{credential:#}");
    let did = credential["issuer"]["id"].as_str().unwrap();
    let organisation = did.rsplit(':').next().unwrap();
    let mut loader = StaticLoader::new().with(did, &app.get(&format!("/issuers/{organisation}/did.json"), None).await.json());
    for entry in credential["credentialStatus"].as_array().unwrap() {
        let status_url = entry["statusListCredential"].as_str().unwrap();
        let status_path = status_url.strip_prefix(app.state.app.config.url("").as_str()).unwrap();
        loader.insert(status_url, &app.get(status_path, None).await.json());
    }
    let report = verify(award.credential_json.as_bytes(), &VerifyOptions::new(&loader, app.state.app.now().unix_timestamp()).with_clock_skew(60));
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    credential
}

backend_test!(levels_are_taken_in_order_unless_the_issuer_allows_any_order, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let (_, levels) = micro_credential(app, &issuer, &org, "Shell Craft", false).await;
    let (token, learner_id) = learner(app, "Ola Order", "ola.order@example.org").await;

    let problem = apply(app, &token, &levels[2]).await.problem(409, "level-order");
    assert_eq!(problem["detail"], "Earn \"Shell Craft 1\" first: the levels of \"Shell Craft\" are taken in order", "{problem}");
    apply(app, &token, &levels[1]).await.problem(409, "level-order");
    assert_eq!(app.get("/api/v1/submissions", Some(&token)).await.json()["items"].as_array().map(Vec::len), Some(0), "nothing was started");

    let first = apply(app, &token, &levels[0]).await;
    assert_eq!(first.status, 201, "{}", first.text());
    award(app, learner_id, &levels[0]).await;
    let problem = apply(app, &token, &levels[2]).await.problem(409, "level-order");
    assert!(problem["detail"].as_str().unwrap().starts_with("Earn \"Shell Craft 2\" first"), "the next level missing is named: {problem}");
    let second = apply(app, &token, &levels[1]).await;
    assert_eq!(second.status, 201, "{}", second.text());

    // An issuer may let the levels be taken in any order.
    let (free, free_levels) = micro_credential(app, &issuer, &org, "Shell Sampler", true).await;
    let third = apply(app, &token, &free_levels[2]).await;
    assert_eq!(third.status, 201, "{}", third.text());
    let shown = app.get(&format!("/api/v1/achievements/{free}"), None).await.json();
    assert_eq!(shown["levels_in_any_order"], true);

    // The option belongs to micro-credentials only.
    let mut body = badge_body("Out of place");
    body["levels_in_any_order"] = json!(true);
    let refused = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await.problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/levels_in_any_order", "{refused}");
});

backend_test!(a_micro_credential_made_of_existing_micro_badges_stacks_them, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let first = badge(app, &issuer, &org, "Reading Logs", Some(1.5)).await;
    let second = badge(app, &issuer, &org, "Writing Alerts", Some(2.0)).await;
    let body = json!({
        "kind": "micro-credential", "name": "Observability Basics", "description": "Logs, then alerts", "criteria": "Hold both badges",
        "requirements": {"components": [first, second]}, "credits_available": 3.5,
    });
    let created = create(app, &issuer, &org, &body).await;
    let stack = id(&created);
    assert_eq!(created["levels"], json!([first, second]), "the micro-badges are its levels, in order");
    assert_eq!(created["requirements"]["rule"], "all");
    assert_eq!(created["requirements"]["components"][0]["name"], "Reading Logs");
    assert_eq!(created["requirements"]["components"][1]["credits_available"], 2.0);
    publish(app, &issuer, &stack).await;

    // Its levels keep their order, and stacking awards it once both are held.
    let (token, learner_id) = learner(app, "Cleo Compose", "cleo.compose@example.org").await;
    apply(app, &token, &second).await.problem(409, "level-order");
    award(app, learner_id, &first).await;
    assert!(award_of(app, learner_id, &stack).await.is_none());
    let last = award(app, learner_id, &second).await;
    let stacked = award_of(app, learner_id, &stack).await.expect("holding both micro-badges earns the micro-credential");
    let credential = checked_credential(app, &stacked).await;
    assert_eq!(credential["credentialSubject"]["achievement"]["achievementType"], "MicroCredential");
    let evidence: Vec<&str> = credential["evidence"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(evidence.contains(&app.state.app.config.url(&format!("/awards/{}", last.id)).as_str()), "{evidence:?}");

    // Only the organisation's own micro-badges can be its levels.
    let body = json!({"kind": "micro-credential", "name": "Bad Stack", "description": "x", "criteria": "x", "requirements": {"components": [first, stack]}});
    let refused = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await.problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/requirements/components/1", "{refused}");
    assert_eq!(refused["errors"][0]["detail"], "a micro-credential cannot be a level; levels are micro-badges");
});

backend_test!(certificates_are_awarded_through_the_outbox_for_each_rule, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let one = badge(app, &issuer, &org, "Cert Part One", Some(1.0)).await;
    let two = badge(app, &issuer, &org, "Cert Part Two", Some(2.0)).await;
    let three = badge(app, &issuer, &org, "Cert Part Three", Some(3.0)).await;
    let certificate = |name: &str, requirements: Value| {
        json!({"kind": "certificate", "name": name, "description": "A larger qualification", "criteria": "Meet the rule",
               "credits_available": 6, "requirements": requirements})
    };
    let all = create(app, &issuer, &org, &certificate("All Parts", json!({"rule": "all", "components": [one, two]}))).await;
    let n_of = create(app, &issuer, &org, &certificate("Two Parts", json!({"rule": "n_of", "n": 2, "components": [one, two, three]}))).await;
    let credits =
        create(app, &issuer, &org, &certificate("Four Hours", json!({"rule": "min_credits", "min_credits": 4, "components": [one, two, three]}))).await;
    assert_eq!(all["kind"], "certificate");
    assert_eq!(n_of["requirements"]["rule"], "n_of");
    assert_eq!(n_of["requirements"]["n"], 2);
    assert_eq!(credits["requirements"]["min_credits"], 4.0);
    let (all, n_of, credits) = (id(&all), id(&n_of), id(&credits));
    for certificate in [&all, &n_of, &credits] {
        publish(app, &issuer, certificate).await;
    }

    let (token, learner_id) = learner(app, "Cora Cert", "cora.cert@example.org").await;
    apply(app, &token, &all).await.problem(409, "submission-state");
    award(app, learner_id, &one).await;
    for certificate in [&all, &n_of, &credits] {
        assert!(award_of(app, learner_id, certificate).await.is_none(), "one part earns nothing yet");
    }
    let third = award(app, learner_id, &three).await;
    assert!(award_of(app, learner_id, &n_of).await.is_some(), "two of three parts");
    assert!(award_of(app, learner_id, &credits).await.is_some(), "1 + 3 credit hours");
    assert!(award_of(app, learner_id, &all).await.is_none(), "part two is missing");
    award(app, learner_id, &two).await;
    let earned = award_of(app, learner_id, &all).await.expect("every part held");

    // The award's outbox effect did it, and running it again awards nothing twice.
    let store = &app.state.app.store;
    let records = store.effects(200).await.unwrap();
    let checked = records.iter().find(|r| matches!(r.effect, Effect::Stack { award } if award == third.id)).expect("the award wrote its Stack effect");
    assert_eq!(checked.state(), EffectState::Done);
    store.enqueue_effects(&[cairn_store::NewEffect::from(Effect::Stack { award: third.id })], app.state.app.now()).await.unwrap();
    cairn_app::effects::drain(&app.state.app).await;
    let n_of_id: AchievementId = n_of.parse().unwrap();
    assert_eq!(store.awards_of(learner_id).await.unwrap().iter().filter(|a| a.achievement == n_of_id).count(), 1);

    // The certificate's credential: a Certificate with its credit hours, naming the awards that earned it.
    let credential = checked_credential(app, &earned).await;
    let subject = &credential["credentialSubject"];
    assert_eq!(subject["achievement"]["achievementType"], "Certificate");
    assert_eq!(subject["achievement"]["creditsAvailable"], 6);
    assert_eq!(subject["creditsEarned"], 6);
    let evidence = credential["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    let names: Vec<&str> = evidence.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Cert Part One") && names.contains(&"Cert Part Two"), "{names:?}");
    for item in evidence {
        let path = item["id"].as_str().unwrap().strip_prefix(app.state.app.config.url("").as_str()).unwrap().to_string();
        assert!(path.starts_with("/awards/"), "{path}");
    }
    // A component's credential carries its own credit hours.
    let part = checked_credential(app, &award_of(app, learner_id, &three).await.unwrap()).await;
    assert_eq!(part["credentialSubject"]["achievement"]["creditsAvailable"], 3);
    assert_eq!(part["credentialSubject"]["creditsEarned"], 3);

    // A rule that cannot be met is refused.
    let refused = app
        .json(
            "POST",
            &format!("/api/v1/organisations/{org}/achievements"),
            Some(&issuer),
            &certificate("Too Many Hours", json!({"rule": "min_credits", "min_credits": 7, "components": [one, two, three]})),
        )
        .await
        .problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/requirements/min_credits", "{refused}");
    let refused = app
        .json(
            "POST",
            &format!("/api/v1/organisations/{org}/achievements"),
            Some(&issuer),
            &certificate("No Rule", json!({"rule": "most", "components": [one, two]})),
        )
        .await
        .problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/requirements/rule", "{refused}");
});

backend_test!(another_organisations_achievement_counts_once_an_owner_agrees, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let own = badge(app, &issuer, &org, "Home Part", Some(1.0)).await;
    let (partner, partner_id) = learner(app, "Pat Partner", "pat.partner@example.org").await;
    let created = app.json("POST", "/api/v1/organisations", Some(&partner), &json!({"name": "Partner College", "url": "https://partner.example.org"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let partner_org = id(&created.json());
    let foreign = badge(app, &partner, &partner_org, "Partner Part", Some(2.0)).await;

    let body = json!({"kind": "certificate", "name": "Joint Certificate", "description": "Two issuers agree", "criteria": "Hold both",
                      "requirements": {"rule": "all", "components": [own, foreign]}});
    let created = create(app, &issuer, &org, &body).await;
    let joint = id(&created);
    assert_eq!(created["requirements"]["components"][0]["agreed"], true, "its own organisation's part");
    assert_eq!(created["requirements"]["components"][1]["agreed"], false);
    assert_eq!(created["requirements"]["components"][1]["issuer"]["name"], "Partner College");
    let refused = app.json("POST", &format!("/api/v1/achievements/{joint}/publish"), Some(&issuer), &json!({})).await.problem(409, "achievement-state");
    assert!(refused["detail"].as_str().unwrap().contains("Partner College"), "{refused}");

    // The partner's owner sees the request; nobody else may answer it.
    let requests = app.get(&format!("/api/v1/organisations/{partner_org}/component-requests"), Some(&partner)).await;
    assert_eq!(requests.status, 200, "{}", requests.text());
    let items = requests.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["certificate"]["name"], "Joint Certificate");
    assert_eq!(items[0]["component"]["id"], foreign.as_str());
    let agree = items[0]["agree"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/organisations/{partner_org}/component-requests"), Some(&issuer)).await.problem(403, "forbidden");
    app.json("POST", &agree, Some(&issuer), &json!({})).await.problem(403, "forbidden");
    let (stranger, _) = learner(app, "Sid Stranger", "sid.stranger@example.org").await;
    app.json("POST", &agree, Some(&stranger), &json!({})).await.problem(403, "forbidden");

    let agreed = app.json("POST", &agree, Some(&partner), &json!({})).await;
    assert_eq!(agreed.status, 204, "{}", agreed.text());
    app.json("POST", &agree, Some(&partner), &json!({})).await.problem(404, "not-found");
    assert_eq!(app.get(&format!("/api/v1/organisations/{partner_org}/component-requests"), Some(&partner)).await.json()["items"], json!([]));
    publish(app, &issuer, &joint).await;

    // Holding both, from both issuers, earns it.
    let (_, learner_id) = learner(app, "Jo Joint", "jo.joint@example.org").await;
    award(app, learner_id, &own).await;
    award(app, learner_id, &foreign).await;
    let earned = award_of(app, learner_id, &joint).await.expect("both parts held");
    let credential = checked_credential(app, &earned).await;
    assert_eq!(credential["evidence"].as_array().unwrap().len(), 2);
    let _ = partner_id;
});

backend_test!(the_catalog_lists_certificates_with_their_requirements_and_credits_are_checked, |app| {
    let listed = app.get("/api/v1/achievements?kind=certificate", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "the demo's certificate: {items:?}");
    let demo = &items[0];
    assert_eq!(demo["kind"], "certificate");
    assert_eq!(demo["name"], "Certificate in Applied Data Engineering");
    assert_eq!(demo["credits_available"], 8.0);
    let requirements = &demo["requirements"];
    assert_eq!(requirements["rule"], "all");
    let components = requirements["components"].as_array().unwrap();
    assert_eq!(components.len(), 2);
    assert_eq!(components[0]["name"], "Data Analysis with SQL");
    assert_eq!(components[0]["kind"], "micro-credential");
    assert_eq!(components[0]["credits_available"], 6.0);
    assert_eq!(components[1]["kind"], "micro-badge");
    assert_eq!(components[1]["issuer"]["name"], "Northbridge Institute of Technology");
    for field in ["id", "name", "kind", "issuer", "credits_available"] {
        assert!(components[1].get(field).is_some(), "{field} in {components:?}");
    }
    let everything = app.get("/api/v1/achievements?limit=100", None).await.json();
    assert!(everything["items"].as_array().unwrap().iter().any(|a| a["kind"] == "certificate"), "certificates are in the catalog");
    let badges = app.get("/api/v1/achievements?kind=micro-badge", None).await.json();
    assert!(badges["items"].as_array().unwrap().iter().all(|a| a["requirements"].is_null()));

    // The demo certificate follows from the demo micro-credential, itself stacked from its levels.
    let (_, learner_id) = learner(app, "Dee Demo", "dee.demo@example.org").await;
    let sql = components[0]["id"].as_str().unwrap().to_string();
    let secure = components[1]["id"].as_str().unwrap().to_string();
    let levels = app.get(&format!("/api/v1/achievements/{sql}"), None).await.json()["levels"].clone();
    award(app, learner_id, &secure).await;
    for level in levels.as_array().unwrap() {
        award(app, learner_id, level.as_str().unwrap()).await;
    }
    assert!(award_of(app, learner_id, &sql).await.is_some());
    assert!(award_of(app, learner_id, demo["id"].as_str().unwrap()).await.is_some(), "the micro-credential's award completed the certificate");

    // Credit hours are checked.
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    for bad in [json!(0), json!(1.234), json!(-2), json!(20000)] {
        let mut body = badge_body("Odd Credits");
        body["credits_available"] = bad;
        let refused = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await.problem(422, "invalid-input");
        assert_eq!(refused["errors"][0]["pointer"], "/credits_available", "{refused}");
    }
});
