//! Transcripts (CLR 2.0): a learner's own, signed by the installation, of every active award or
//! the chosen ones, with the stack's associations; an issuer's, of one learner's awards with it.
//! Every form verifies, nested credentials included.

use crate::helpers::{Browser, TestApp};
use axum::http::header;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::authz::Actor;
use cairn_core::award::StatusAction;
use cairn_core::ids::{AwardId, UserId};
use cairn_store::Award;
use cairn_vc::verify::{Verdict, VerificationReport};
use serde_json::Value;

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

async fn actor(app: &TestApp, email: &str) -> Actor {
    let id = user(app, email).await;
    Actor::member(id, app.state.app.store.memberships(id).await.unwrap())
}

async fn demo_achievements(app: &TestApp) -> Vec<Achievement> {
    let organisation = app.demo_organisation().await.parse().unwrap();
    app.state.app.store.organisation_achievements(organisation).await.unwrap()
}

fn request(learner: UserId, achievement: &Achievement) -> AwardRequest {
    let judgement = achievement.content.rubric.as_ref().map(|rubric| {
        let scores: Vec<ScoreFields> = rubric
            .criteria
            .iter()
            .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Good".into() })
            .collect();
        Judgement::parse(rubric, &scores, "Well done").unwrap()
    });
    AwardRequest { judgement, ..AwardRequest::new(learner, achievement.id) }
}

/// The learner holds a whole micro-credential (three levels and the micro-credential) and two
/// micro-badges, the second of them suspended. Returns (stack awards, active badge, suspended badge).
async fn holdings(app: &TestApp) -> (Vec<Award>, Award, Award) {
    let achievements = demo_achievements(app).await;
    let learner = user(app, LEARNER.0).await;
    let stack = achievements.iter().find(|a| a.kind == Kind::MicroCredential).unwrap();
    let mut stack_awards = Vec::new();
    for level in app.state.app.store.levels(stack.id).await.unwrap() {
        let (award, stacked) = awards::award_with_stack(&app.state.app, request(learner, &level)).await.unwrap();
        stack_awards.push(award);
        stack_awards.extend(stacked);
    }
    assert_eq!(stack_awards.len(), 4);
    let mut badges = achievements.iter().filter(|a| a.kind == Kind::MicroBadge);
    let badge = awards::award(&app.state.app, request(learner, badges.next().unwrap())).await.unwrap();
    let other = awards::award(&app.state.app, request(learner, badges.next().unwrap())).await.unwrap();
    let issuer = actor(app, ISSUER.0).await;
    let suspended = awards::set_status(&app.state.app, &issuer, other.id, StatusAction::Suspend, None).await.unwrap();
    (stack_awards, badge, suspended)
}

async fn verified(app: &TestApp, bytes: &[u8]) -> VerificationReport {
    cairn_app::verification::verify(&app.state.app, bytes.to_vec()).await.unwrap()
}

#[track_caller]
fn assert_valid_clr(report: &VerificationReport, nested: usize) {
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(report.format.starts_with("clr-"), "{}", report.format);
    for i in 0..nested {
        let passed = |suffix: &str| report.checks.iter().any(|c| c.id == format!("credential[{i}].{suffix}") && c.ok == Some(true));
        assert!(passed("proof") || passed("jwt.signature"), "credential {i}'s proof was checked: {report:#?}");
        assert!(passed("status"), "credential {i}'s status was checked: {report:#?}");
    }
}

fn nested_ids(clr: &Value) -> Vec<String> {
    clr["credentialSubject"]["verifiableCredential"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

fn credential_id(app: &TestApp, award: &Award) -> String {
    app.state.app.config.urls().credential(award.id)
}

backend_test!(a_learner_downloads_a_signed_transcript_of_every_active_award, |app| {
    let (stack, badge, suspended) = holdings(app).await;
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let response = app.get("/api/v1/me/transcript", Some(&token)).await;
    assert_eq!((response.status.as_u16(), response.content_type()), (200, "application/json"), "{}", response.text());
    assert_eq!(response.header(header::CACHE_CONTROL), "private, no-store");
    let clr = response.json();
    assert_eq!(clr["type"], serde_json::json!(["VerifiableCredential", "ClrCredential"]));
    let platform = app.state.app.config.urls().platform_did();
    assert_eq!(clr["issuer"]["id"], platform.as_str());
    assert_eq!(clr["proof"][0]["verificationMethod"], app.state.app.config.urls().platform_verification_method().as_str());
    assert_eq!(clr["partial"], false);
    // The demo achievements carry credit hours: the transcript states their total.
    assert!(clr["description"].as_str().is_some_and(|d| d.ends_with("credits in all.")), "{}", clr["description"]);
    let identifier = &clr["credentialSubject"]["identifier"][0];
    assert!(cairn_vc::ob2::recipient_matches(
        &serde_json::json!({"type": "email", "hashed": true, "identity": identifier["identityHash"], "salt": identifier["salt"]}),
        LEARNER.0
    ));

    // Every active award, as issued (the stack, the badge and the demo certificate they complete);
    // the suspended one left out.
    let held = app.state.app.store.awards_of(user(app, LEARNER.0).await).await.unwrap();
    let active: Vec<&Award> = held.iter().filter(|a| a.status == cairn_core::award::AwardStatus::Active).collect();
    assert!(stack.iter().chain([&badge]).all(|a| active.iter().any(|b| b.id == a.id)));
    let mut ids = nested_ids(&clr);
    ids.sort();
    let mut expected: Vec<String> = active.iter().map(|a| credential_id(app, a)).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(!ids.contains(&credential_id(app, &suspended)));
    for nested in clr["credentialSubject"]["verifiableCredential"].as_array().unwrap() {
        let award = active.iter().find(|a| credential_id(app, a) == nested["id"]).unwrap();
        let stored: Value = serde_json::from_str(&app.state.app.store.award(award.id).await.unwrap().credential_json).unwrap();
        assert_eq!(nested, &stored, "each credential goes in as issued");
    }

    // The micro-credential is the parent of each of its levels, and each level its child.
    let mut micro = None;
    for award in &stack {
        if app.state.app.store.achievement(award.achievement).await.unwrap().kind == Kind::MicroCredential {
            micro = Some(award);
        }
    }
    let micro = micro.expect("the micro-credential's award");
    let micro_id = app.state.app.config.urls().achievement_page(micro.achievement);
    let associations = clr["credentialSubject"]["association"].as_array().unwrap();
    // Each link is stated both ways.
    assert_eq!(associations.iter().filter(|a| a["associationType"] == "isParentOf").count() * 2, associations.len(), "{associations:#?}");
    let mut certificate = None;
    for award in &active {
        if app.state.app.store.achievement(award.achievement).await.unwrap().kind == Kind::Certificate {
            certificate = Some(app.state.app.config.urls().achievement_page(award.achievement));
        }
    }
    // When the holdings complete the demo certificate (its micro-badge is among them), it is the
    // parent of the micro-credential.
    if let Some(certificate) = certificate {
        assert!(
            associations.iter().any(|a| a["associationType"] == "isParentOf" && a["sourceId"] == certificate.as_str() && a["targetId"] == micro_id.as_str()),
            "{associations:#?}"
        );
    }
    for level in stack.iter().filter(|a| a.id != micro.id) {
        let level_id = app.state.app.config.urls().achievement_page(level.achievement);
        let has = |kind: &str, from: &str, to: &str| associations.iter().any(|a| a["associationType"] == kind && a["sourceId"] == from && a["targetId"] == to);
        assert!(has("isParentOf", &micro_id, &level_id) && has("isChildOf", &level_id, &micro_id), "{associations:#?}");
    }

    assert_valid_clr(&verified(app, &response.body).await, 5);
    let did = app.get("/platform/did.json", None).await;
    assert_eq!(did.status, 200);
    assert_eq!(did.json()["id"], platform.as_str());

    let jwt = app.get("/api/v1/me/transcript?format=jwt", Some(&token)).await;
    assert_eq!((jwt.status.as_u16(), jwt.content_type()), (200, "application/vc+jwt"), "{}", jwt.text());
    assert_eq!(jwt.text().split('.').count(), 3);
    assert_valid_clr(&verified(app, &jwt.body).await, 5);
});

backend_test!(a_learner_chooses_the_awards_and_only_their_own_active_ones, |app| {
    let (stack, badge, suspended) = holdings(app).await;
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let chosen = format!("/api/v1/me/transcript?award={}&award={}&award={}", badge.id, stack[0].id, badge.id);
    let response = app.get(&chosen, Some(&token)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let clr = response.json();
    assert_eq!(nested_ids(&clr), vec![credential_id(app, &badge), credential_id(app, &stack[0])], "in the order chosen, each once");
    assert_eq!(clr["partial"], true);
    assert_valid_clr(&verified(app, &response.body).await, 2);

    app.get(&format!("/api/v1/me/transcript?award={}", suspended.id), Some(&token)).await.problem(422, "invalid-input");
    app.get("/api/v1/me/transcript?award=not-an-id", Some(&token)).await.problem(422, "invalid-input");
    app.get(&format!("/api/v1/me/transcript?award={}", AwardId::new()), Some(&token)).await.problem(404, "not-found");
    app.get("/api/v1/me/transcript?format=xml", Some(&token)).await.problem(422, "invalid-input");
    app.get("/api/v1/me/transcript", None).await.problem(401, "unauthenticated");

    // Someone else's award is not found, and a learner with no award has no transcript.
    let issuer = user(app, ISSUER.0).await;
    let theirs =
        awards::award(&app.state.app, request(issuer, &demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge).unwrap())).await.unwrap();
    app.get(&format!("/api/v1/me/transcript?award={}", theirs.id), Some(&token)).await.problem(404, "not-found");
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    app.get("/api/v1/me/transcript", Some(&assessor)).await.problem(409, "conflict");
});

backend_test!(an_issuer_downloads_one_learners_transcript_with_it, |app| {
    let (stack, badge, _) = holdings(app).await;
    let organisation = app.demo_organisation().await;
    let learner = user(app, LEARNER.0).await;
    let issuer = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{organisation}/learners/{learner}/transcript");
    let response = app.get(&path, Some(&issuer)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let clr = response.json();
    assert_eq!(clr["issuer"]["id"], awards::issuer_did(&app.state.app.config, organisation.parse().unwrap()).as_str(), "signed by the issuer");
    assert_eq!(clr["partial"], true);
    // Every active award with the issuer: the stack, the badge, and whatever they completed in turn
    // (the demo certificate is made of the stack's micro-credential and a micro-badge).
    let active: Vec<String> = app
        .state
        .app
        .store
        .awards_of(learner)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.status == cairn_core::award::AwardStatus::Active && a.organisation.to_string() == organisation)
        .map(|a| credential_id(app, a))
        .collect();
    let mut nested = nested_ids(&clr);
    nested.sort();
    let mut expected = active.clone();
    expected.sort();
    assert_eq!(nested, expected, "every active award with the issuer");
    assert!(active.len() > stack.len(), "{active:?}");
    assert!(nested_ids(&clr).contains(&credential_id(app, &badge)));
    assert_valid_clr(&verified(app, &response.body).await, active.len());
    let jwt = app.get(&format!("{path}?format=jwt"), Some(&issuer)).await;
    assert_eq!(jwt.content_type(), "application/vc+jwt");
    assert_valid_clr(&verified(app, &jwt.body).await, active.len());

    let learner_token = app.token(LEARNER.0, LEARNER.1).await;
    app.get(&path, Some(&learner_token)).await.problem(403, "forbidden");
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    app.get(&path, Some(&assessor)).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/organisations/{organisation}/learners/{}/transcript", UserId::new()), Some(&issuer)).await.problem(404, "not-found");
});

backend_test!(the_transcript_pages_choose_and_download, |app| {
    let (_, badge, suspended) = holdings(app).await;
    let mut browser = Browser::signed_in(app.router_with(|_| {}), LEARNER).await;
    let page = browser.get("/transcript").await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains(&format!("value=\"{}\"", badge.id));
    page.assert_lacks(&format!("value=\"{}\"", suspended.id));
    browser.get("/backpack").await.assert_contains("href=\"/transcript\"");
    let download = browser.get(&format!("/transcript/download?award={}&format=jwt", badge.id)).await;
    assert_eq!((download.status.as_u16(), download.content_type()), (200, "application/vc+jwt"), "{}", download.text());
    assert!(download.header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"transcript-"));
    assert_eq!(verified(app, &download.body).await.verdict, Verdict::Valid);

    let organisation = app.demo_organisation().await;
    let learner = user(app, LEARNER.0).await;
    let mut staff = Browser::signed_in(app.router_with(|_| {}), ISSUER).await;
    let assessment = staff.get(&format!("/issuers/{organisation}/assessment")).await;
    let href = format!("/issuers/{organisation}/learners/{learner}/transcript.json");
    assessment.assert_contains(&href);
    let file = staff.get(&href).await;
    assert_eq!((file.status.as_u16(), file.content_type()), (200, "application/vc+ld+json"), "{}", file.text());
    assert_eq!(verified(app, &file.body).await.verdict, Verdict::Valid);
    let mut visitor = Browser::new(app.router_with(|_| {}));
    assert!(visitor.get("/transcript").await.location().starts_with("/login"));
    assert_eq!(visitor.get(&href).await.status, 401);
});
