//! Direct award: an issuer's staff award an achievement to an e-mail address over the API
//! (idempotently with an `Idempotency-Key`), the address is mailed a claim link, and the claim
//! page issues the credential to the account that claims it with that address — signed in, or
//! created there. Nobody else may award, and only the link claims.

use crate::helpers::{Browser, TestApp, badge_body};
use crate::issuing::demo_achievements;
use crate::journey::sign_up;
use axum::body::Body;
use axum::http::{Request, header};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use serde_json::{Value, json};

pub(crate) const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");

async fn post_award(app: &TestApp, token: &str, org: &str, key: Option<&str>, body: &Value) -> crate::helpers::TestResponse {
    let mut request = Request::post(format!("/api/v1/organisations/{org}/awards"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

/// The claim links mailed to `to`, oldest first, as paths.
pub(crate) async fn claim_links(app: &TestApp, to: &str) -> Vec<String> {
    let mut outbox = app.state.app.store.outbox(500).await.unwrap();
    outbox.reverse();
    outbox
        .iter()
        .filter(|mail| mail.to == to)
        .filter_map(|mail| mail.body.find("/claim/").map(|start| mail.body[start..].split_whitespace().next().unwrap().to_string()))
        .collect()
}

/// The demo issuer's published micro-badges the demo learner does not hold, by name.
pub(crate) async fn badges_not_held(app: &TestApp) -> Vec<Achievement> {
    let learner = app.state.app.store.user_by_email(&Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap().id;
    let held: Vec<_> = app.state.app.store.awards_of(learner).await.unwrap().iter().map(|a| a.achievement).collect();
    let mut badges: Vec<Achievement> =
        demo_achievements(app).await.into_iter().filter(|a| a.kind == Kind::MicroBadge && a.state == State::Published && !held.contains(&a.id)).collect();
    badges.sort_by(|a, b| a.content.name.cmp(&b.content.name));
    assert!(badges.len() >= 2, "the demo learner lacks two of the demo's micro-badges");
    badges
}

fn body(achievement: &Achievement, email: &str, name: &str) -> Value {
    json!({
        "achievement_id": achievement.id.to_string(),
        "recipient": {"email": email, "name": name},
        "narrative": "Assessed at the spring workshop:\nall three tasks passed.",
        "evidence": [{"url": "https://example.org/grace/project", "name": "Compiler project"}],
    })
}

backend_test!(an_issuer_awards_directly_once_and_the_recipient_claims_it_with_a_new_account, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badge = &badges_not_held(app).await[0];

    let created = post_award(app, &issuer, &org, Some("workshop-2026/grace"), &body(badge, "Grace@Example.org", "Grace Hopper")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let offer = created.json();
    assert_eq!((offer["status"].as_str(), offer["recipient"]["email"].as_str()), (Some("waiting"), Some("grace@example.org")));
    assert_eq!(offer["award_id"], Value::Null);
    assert_eq!(offer["evidence"][0]["name"], "Compiler project");
    let id = offer["id"].as_str().unwrap().to_string();

    // Sent again with the same key: the same award, and nobody is mailed twice.
    let again = post_award(app, &issuer, &org, Some("workshop-2026/grace"), &body(badge, "grace@example.org", "Grace Hopper")).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.header(header::HeaderName::from_static("idempotent-replayed")), "true");
    assert_eq!(again.json(), offer);
    let links = claim_links(app, "grace@example.org").await;
    assert_eq!(links.len(), 1, "{links:?}");
    // The key with another request, or the same award again without a key, is refused.
    let other = post_award(app, &issuer, &org, Some("workshop-2026/grace"), &body(badge, "grace@example.org", "Grace B. Hopper")).await;
    assert!(other.problem(409, "conflict")["detail"].as_str().unwrap().contains("Idempotency-Key"));
    let twice = post_award(app, &issuer, &org, None, &body(badge, "grace@example.org", "Grace Hopper")).await;
    assert!(twice.problem(409, "conflict")["detail"].as_str().unwrap().contains("waits to be claimed"));
    assert_eq!(claim_links(app, "grace@example.org").await.len(), 1);

    // Listed and read by the issuer's staff.
    let listed = app.get(&format!("/api/v1/organisations/{org}/awards"), Some(&issuer)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect::<Vec<_>>(), [id.as_str()]);

    // The link opens the claim page: nobody uses the address yet, so it offers an account.
    let mut visitor = Browser::new(app.router.clone());
    let page = visitor.get(&links[0]).await;
    assert_eq!(page.status, 200, "{}", page.text());
    for shown in ["Grace Hopper", "grace@example.org", "all three tasks passed", "Compiler project", "Create the account and claim"] {
        page.assert_contains(shown);
    }
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    let weak = visitor.post(&links[0], &[("name", "Grace Hopper"), ("password", "short")]).await;
    assert_eq!(weak.status, 422, "{}", weak.text());
    let claimed = visitor.post(&links[0], &[("name", "Grace Hopper"), ("password", "a long enough password")]).await;
    assert_eq!(claimed.status, 303, "{}", claimed.text());
    assert!(claimed.location().starts_with("/awards/"), "{}", claimed.location());

    // The credential is issued to the new account, with the narrative and evidence.
    let grace = app.token("grace@example.org", "a long enough password").await;
    let mine = app.get("/api/v1/awards", Some(&grace)).await.json();
    let award = &mine["items"][0];
    assert_eq!(award["achievement_id"], badge.id.to_string(), "{mine}");
    let award_id = award["id"].as_str().unwrap();
    let credential = app.get(&format!("/awards/{award_id}/credential"), Some(&grace)).await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let evidence = credential.json()["evidence"].clone();
    let texts = evidence.to_string();
    assert!(texts.contains("all three tasks passed") && texts.contains("https://example.org/grace/project"), "{evidence}");
    let offer = app.get(&format!("/api/v1/organisations/{org}/awards/{id}"), Some(&issuer)).await.json();
    assert_eq!((offer["status"].as_str(), offer["award_id"].as_str()), (Some("claimed"), Some(award_id)));

    // The link works once; the claimed award cannot be withdrawn.
    let used = Browser::new(app.router.clone()).get(&links[0]).await;
    assert_eq!(used.status, 410, "{}", used.text());
    app.json("DELETE", &format!("/api/v1/organisations/{org}/awards/{id}"), Some(&issuer), &json!({})).await.problem(409, "conflict");
});

backend_test!(an_account_claims_a_direct_award_signed_in_with_its_address_only, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badges = badges_not_held(app).await;
    let created = post_award(app, &issuer, &org, None, &body(&badges[0], LEARNER.0, "Demo Learner")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let link = claim_links(app, LEARNER.0).await.pop().unwrap();

    // A visitor is asked to sign in with the address; another account may not claim it.
    let page = Browser::new(app.router.clone()).get(&link).await;
    page.assert_contains("Sign in to claim");
    page.assert_lacks("Create the account");
    sign_up(app, "Mallory", "mallory@example.org").await;
    let mut mallory = Browser::signed_in(app.router.clone(), ("mallory@example.org", "a long enough password")).await;
    mallory.get(&link).await.assert_contains("Sign out, then open the link again");
    let refused = mallory.post(&link, &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.text());

    // Signed in with the address, one button claims it.
    let mut learner = Browser::signed_in(app.router.clone(), LEARNER).await;
    learner.get(&link).await.assert_contains("Claim the badge");
    let claimed = learner.post(&link, &[]).await;
    assert_eq!(claimed.status, 303, "{}", claimed.text());
    let award = claimed.location().trim_start_matches("/awards/").to_string();
    let page = learner.get(&format!("/awards/{award}")).await;
    assert_eq!(page.status, 200);
    page.assert_contains(&badges[0].content.name);

    // A withdrawn award's link stops working.
    let other = post_award(app, &issuer, &org, None, &body(&badges[1], LEARNER.0, "Demo Learner")).await.json();
    let link = claim_links(app, LEARNER.0).await.pop().unwrap();
    let offer_id: cairn_core::ids::AwardOfferId = other["id"].as_str().unwrap().parse().unwrap();
    let held = app.state.app.store.held_credential(offer_id).await.unwrap().expect("a held credential");
    assert!(app.state.app.store.blobs().get(&held.png_key).await.is_ok());
    let withdrawn = app.json("DELETE", &format!("/api/v1/organisations/{org}/awards/{}", other["id"].as_str().unwrap()), Some(&issuer), &json!({})).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["status"], "withdrawn");
    // Its held credential is dropped with its images, and its status index is free again.
    let store = &app.state.app.store;
    assert_eq!(store.held_credential(offer_id).await.unwrap(), None);
    let organisation: cairn_core::ids::OrganisationId = org.parse().unwrap();
    assert!(!store.used_status_indexes(organisation).await.unwrap().contains(&held.status_index), "{held:?}");
    store.sweep_blobs(app.state.app.now() + time::Duration::days(2)).await.unwrap();
    for key in [&held.png_key, &held.svg_key] {
        assert!(store.blobs().get(key).await.is_err(), "{key} is swept");
    }
    assert_eq!(learner.get(&link).await.status, 410);
    assert_eq!(learner.post(&link, &[]).await.status, 410);
});

backend_test!(only_an_issuers_staff_award_directly_and_every_bad_field_is_named, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badge = &badges_not_held(app).await[0];
    let (learner, _) = sign_up(app, "Lee Learner", "lee@example.org").await;
    post_award(app, &learner, &org, None, &body(badge, "x@example.org", "X")).await.problem(403, "forbidden");
    let anonymous = app.json("POST", &format!("/api/v1/organisations/{org}/awards"), None, &body(badge, "x@example.org", "X")).await;
    assert_eq!(anonymous.status, 401);
    app.get(&format!("/api/v1/organisations/{org}/awards"), Some(&learner)).await.problem(403, "forbidden");

    let bad = json!({"achievement_id": "nope", "recipient": {"email": "not an address", "name": " "}, "evidence": [{"url": "javascript:alert(1)"}]});
    let problem = post_award(app, &issuer, &org, None, &bad).await.problem(422, "invalid-input");
    let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/achievement_id", "/recipient/email", "/recipient/name", "/evidence/0/url"], "{problem}");
    post_award(app, &issuer, &org, Some("with space"), &body(badge, "x@example.org", "X")).await.problem(422, "invalid-input");
    let unknown = json!({"achievement_id": badge.id.to_string(), "recipient": {"email": "x@example.org", "name": "X"}, "grade": "A"});
    post_award(app, &issuer, &org, None, &unknown).await.problem(400, "malformed-request");

    // Another issuer's achievement, or a draft, is not awarded.
    let (owner, _) = sign_up(app, "Other Owner", "owner@other.example").await;
    let other = app.json("POST", "/api/v1/organisations", Some(&owner), &json!({"name": "Other Issuer", "url": "https://other.example"})).await.json();
    let other_org = other["id"].as_str().unwrap();
    let draft = app.json("POST", &format!("/api/v1/organisations/{other_org}/achievements"), Some(&owner), &badge_body("Draft Badge")).await.json();
    let theirs = post_award(app, &owner, other_org, None, &body(badge, "x@example.org", "X")).await.problem(422, "invalid-input");
    assert_eq!(theirs["errors"][0]["pointer"], "/achievement_id");
    let draft_id = draft["id"].as_str().unwrap();
    let not_published = json!({"achievement_id": draft_id, "recipient": {"email": "x@example.org", "name": "X"}});
    post_award(app, &owner, other_org, None, &not_published).await.problem(409, "conflict");
    assert!(claim_links(app, "x@example.org").await.is_empty(), "nothing was mailed");
});

backend_test!(the_issuers_page_awards_lists_and_withdraws_and_is_for_its_staff_only, |app| {
    let org = app.demo_organisation().await;
    let badge = &badges_not_held(app).await[0];
    let page_path = format!("/issuers/{org}/direct-awards");
    let mut issuer = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let page = issuer.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains("No direct awards yet");
    page.assert_contains(&badge.content.name);

    // A bad address is named at its field and what was typed stays.
    let achievement = badge.id.to_string();
    let typed = [("achievement_id", achievement.as_str()), ("email", "nobody"), ("name", "Ada Byron"), ("narrative", "Workshop"), ("evidence", "")];
    let refused = issuer.post(&page_path, &typed).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    refused.assert_contains("is not an e-mail address");
    refused.assert_contains("Ada Byron");
    // Results that do not fit the rubric are named at their field.
    let typed = [("achievement_id", achievement.as_str()), ("email", "ada@example.org"), ("name", "Ada Byron"), ("results", "No such criterion: 1")];
    let refused = issuer.post(&page_path, &typed).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    refused.assert_contains("href=\"#award_results\"");
    refused.assert_contains("No such criterion: 1");
    let good = [
        ("achievement_id", achievement.as_str()),
        ("email", "ada@example.org"),
        ("name", "Ada Byron"),
        ("narrative", "Workshop"),
        ("evidence", "https://example.org/ada Notes"),
    ];
    let sent = issuer.post(&page_path, &good).await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let listed = issuer.get(&page_path).await;
    listed.assert_contains("Waiting since");
    listed.assert_contains("ada@example.org");
    assert_eq!(claim_links(app, "ada@example.org").await.len(), 1);
    // The same award again waits already: said on the page, nothing mailed.
    let again = issuer.post(&page_path, &good).await;
    assert_eq!(again.status, 422, "{}", again.text());
    again.assert_contains("waits to be claimed");
    assert_eq!(claim_links(app, "ada@example.org").await.len(), 1);

    // Withdrawn from the page, its link stops working.
    let offer = app.state.app.store.award_offers(org.parse().unwrap(), 10).await.unwrap().remove(0);
    let withdrawn = issuer.post(&format!("{page_path}/{}/withdraw", offer.id), &[]).await;
    assert_eq!(withdrawn.status, 303, "{}", withdrawn.text());
    issuer.get(&page_path).await.assert_contains("Withdrawn");
    let link = claim_links(app, "ada@example.org").await.remove(0);
    assert_eq!(Browser::new(app.router.clone()).get(&link).await.status, 410);

    // Nobody else sees the page.
    sign_up(app, "Lee Learner", "lee@example.org").await;
    let mut learner = Browser::signed_in(app.router.clone(), ("lee@example.org", "a long enough password")).await;
    assert_eq!(learner.get(&page_path).await.status, 403);
    assert_eq!(learner.post(&page_path, &good).await.status, 403);
    assert!(Browser::new(app.router.clone()).get(&page_path).await.location().starts_with("/login"));
});

backend_test!(rubric_results_of_an_assessment_done_elsewhere_are_checked_and_stated_in_the_credential, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badges = badges_not_held(app).await;
    let badge = badges.iter().find(|b| b.content.rubric.as_ref().is_some_and(|r| r.criteria.len() >= 2)).expect("a demo badge with a rubric");
    let rubric = badge.content.rubric.clone().unwrap();
    let top = rubric.levels.len();
    let with = |results: Value| {
        let mut sent = body(badge, LEARNER.0, "Demo Learner");
        sent["results"] = results;
        sent
    };

    // Every criterion, at or above its required level, by id or name and by level name or number.
    let below: Vec<Value> = rubric.criteria.iter().map(|c| json!({"criterion": c.id, "level": 1})).collect();
    let refused = post_award(app, &issuer, &org, None, &with(Value::Array(below))).await.problem(422, "invalid-input");
    assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("below the required level"), "{refused}");
    let missing = json!([{"criterion": rubric.criteria[0].id, "level": top}]);
    let refused = post_award(app, &issuer, &org, None, &with(missing)).await.problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/results", "{refused}");
    let unknown = json!([{"criterion": "no-such-criterion", "level": top}, {"criterion": rubric.criteria[0].id, "level": "Legendary"}]);
    let refused = post_award(app, &issuer, &org, None, &with(unknown)).await.problem(422, "invalid-input");
    let pointers: Vec<&str> = refused["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/results/0/criterion", "/results/1/level"], "{refused}");
    assert!(claim_links(app, LEARNER.0).await.is_empty(), "nothing was mailed");

    let results: Vec<Value> = rubric
        .criteria
        .iter()
        .enumerate()
        .map(|(i, c)| if i == 0 { json!({"criterion": c.name, "level": rubric.levels[top - 1]}) } else { json!({"criterion": c.id, "level": top}) })
        .collect();
    let created = post_award(app, &issuer, &org, None, &with(Value::Array(results))).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let offer = created.json();
    assert_eq!(offer["results"].as_array().unwrap().len(), rubric.criteria.len(), "{offer}");
    let first = &offer["results"][0];
    assert_eq!((&first["criterion"], &first["level"], &first["level_name"]), (&json!(rubric.criteria[0].id), &json!(top), &json!(rubric.levels[top - 1])));

    // The credential was signed when awarded, and is held until claimed.
    let store = &app.state.app.store;
    let offer_id = offer["id"].as_str().unwrap().parse().unwrap();
    let held = store.held_credential(offer_id).await.unwrap().expect("the credential is held");
    assert!(held.credential_json.contains("\"proof\"") && held.jwt.starts_with("eyJ"), "signed in both forms");

    // Claimed, it becomes the learner's award as signed, stating each level reached.
    let link = claim_links(app, LEARNER.0).await.pop().unwrap();
    let mut learner = Browser::signed_in(app.router.clone(), LEARNER).await;
    let claimed = learner.post(&link, &[]).await;
    assert_eq!(claimed.status, 303, "{}", claimed.text());
    let award = claimed.location().trim_start_matches("/awards/").to_string();
    assert_eq!(award, held.award.to_string());
    let stored = store.award(held.award).await.unwrap();
    assert_eq!((stored.issued_at, stored.status_index, stored.credential_json.as_str()), (held.issued_at, held.status_index, held.credential_json.as_str()));
    assert_eq!(store.held_credential(offer_id).await.unwrap(), None);
    let credential = learner.get(&format!("/awards/{award}/credential")).await.json();
    let stated = credential["credentialSubject"]["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(stated.len(), rubric.criteria.len(), "{credential}");
    let described: Vec<&str> =
        credential["credentialSubject"]["achievement"]["resultDescription"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    for result in &stated {
        assert!(described.contains(&result["resultDescription"].as_str().unwrap()), "{result}");
        assert!(result["achievedLevel"].as_str().unwrap().ends_with(&format!("-level-{top}")), "{result}");
    }
    let page = learner.get(&format!("/awards/{award}")).await;
    page.assert_contains(&rubric.levels[top - 1]);

    // An achievement without a rubric takes no results.
    if let Some(plain) = badges.iter().find(|b| b.content.rubric.is_none()) {
        let mut sent = body(plain, "x@example.org", "X");
        sent["results"] = json!([{"criterion": "anything", "level": 1}]);
        let refused = post_award(app, &issuer, &org, None, &sent).await.problem(422, "invalid-input");
        assert!(refused["errors"][0]["detail"].as_str().unwrap().contains("no rubric"), "{refused}");
    }
});

backend_test!(a_held_credential_whose_status_index_another_award_took_is_issued_afresh_at_the_claim, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badges = badges_not_held(app).await;
    let created = post_award(app, &issuer, &org, None, &body(&badges[0], LEARNER.0, "Demo Learner")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let store = &app.state.app.store;
    let offer_id = created.json()["id"].as_str().unwrap().parse().unwrap();
    let held = store.held_credential(offer_id).await.unwrap().unwrap();

    // Two issuings chose the same index at once: an award of another learner took it first.
    sign_up(app, "Sam Other", "sam@example.org").await;
    let sam = store.user_by_email(&Email::parse("sam@example.org").unwrap()).await.unwrap().unwrap();
    let taken = cairn_store::NewAward {
        id: cairn_core::ids::AwardId::new(),
        achievement: badges[1].id,
        achievement_version: badges[1].version,
        organisation: org.parse().unwrap(),
        learner: sam.id,
        submission: None,
        issued_at: held.issued_at,
        valid_until: None,
        status_index: held.status_index,
        recipient_salt: "salt".into(),
        results_json: "[]".into(),
        credential_json: "{}".into(),
        jwt: "eyJ.x.y".into(),
        ob2_json: "{}".into(),
        png_key: held.png_key.clone(),
        svg_key: held.svg_key.clone(),
        privacy: cairn_core::award::Privacy::Private,
        recognition: None,
        renews: None,
        offer: None,
    };
    store.create_award(&taken, &[], held.issued_at).await.unwrap();

    // The claim still succeeds: the award is signed afresh, with an index of its own.
    let link = claim_links(app, LEARNER.0).await.pop().unwrap();
    let mut learner = Browser::signed_in(app.router.clone(), LEARNER).await;
    let claimed = learner.post(&link, &[]).await;
    assert_eq!(claimed.status, 303, "{}", claimed.text());
    let award: cairn_core::ids::AwardId = claimed.location().trim_start_matches("/awards/").parse().unwrap();
    assert_ne!(award, held.award);
    let stored = store.award(award).await.unwrap();
    assert_ne!(stored.status_index, held.status_index);
    let credential: Value = serde_json::from_str(&stored.credential_json).unwrap();
    assert!(credential["evidence"].to_string().contains("all three tasks passed"), "{credential}");
    let offer = app.get(&format!("/api/v1/organisations/{org}/awards/{offer_id}"), Some(&issuer)).await.json();
    assert_eq!((offer["status"].as_str(), offer["award_id"].as_str()), (Some("claimed"), Some(award.to_string().as_str())));
});
