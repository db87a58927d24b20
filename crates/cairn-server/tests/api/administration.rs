//! Safe administration: revocations and suspensions whose reason is private unless the issuer
//! publishes it, the confirmation steps before revoking, withdrawing, retiring and removing a
//! member, the earners' names in the issuer's awards table (never for assessors), the assessor
//! pool picker that chooses nobody, and invitations by e-mail.

use crate::helpers::{Browser, TestApp};
use axum::http::StatusCode;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::award::Privacy;
use cairn_core::ids::UserId;
use cairn_store::Award;
use serde_json::json;

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const ASSESSOR: (&str, &str) = ("assessor@demo.cairn.test", "cairn-demo-assessor");
const PASSWORD: &str = "granite ledge over misty tarn";

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

async fn signed_in(app: &TestApp, (email, password): (&str, &str)) -> Browser {
    let mut browser = Browser::new(app.router.clone());
    let response = browser.post("/login", &[("email", email), ("password", password)]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text());
    browser
}

/// A published micro-badge of the demo issuer.
async fn micro_badge(app: &TestApp) -> Achievement {
    let organisation = app.demo_organisation().await.parse().unwrap();
    let all = app.state.app.store.organisation_achievements(organisation).await.unwrap();
    all.into_iter().find(|a| a.kind == Kind::MicroBadge && a.state == State::Published).expect("the demo has a published micro-badge")
}

/// Awards `achievement` to the demo learner, judged at every criterion's required level.
async fn award(app: &TestApp, achievement: &Achievement) -> Award {
    let judgement = achievement.content.rubric.as_ref().map(|rubric| {
        let scores: Vec<ScoreFields> = rubric
            .criteria
            .iter()
            .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid".into() })
            .collect();
        Judgement::parse(rubric, &scores, "Well done").unwrap()
    });
    let request = AwardRequest { judgement, ..AwardRequest::new(user(app, LEARNER.0).await, achievement.id) };
    let award = awards::award(&app.state.app, request).await.unwrap();
    app.state.app.store.set_award_privacy(award.id, Privacy::Public, false).await.unwrap()
}

/// The secret of the newest link to `path_prefix` mailed to `to`.
async fn mailed_secret(app: &TestApp, to: &str, path_prefix: &str) -> String {
    let outbox = app.state.app.store.outbox(200).await.unwrap();
    let mail = outbox.iter().find(|mail| mail.to == to && mail.body.contains(path_prefix)).unwrap_or_else(|| panic!("a mail to {to} with {path_prefix}"));
    let start = mail.body.find(path_prefix).unwrap() + path_prefix.len();
    mail.body[start..].split_whitespace().next().unwrap().to_string()
}

backend_test!(an_unpublished_revocation_reason_stays_with_staff_and_the_learner, |app| {
    let badge = micro_badge(app).await;
    let first = award(app, &badge).await;
    let issuer = app.issuer_token().await;
    let learner = app.token(LEARNER.0, LEARNER.1).await;
    let path = format!("/api/v1/awards/{}/status", first.id);

    let suspended = app.json("POST", &path, Some(&issuer), &json!({"action": "suspend", "reason": "checking a complaint"})).await;
    assert_eq!(suspended.status, 200, "{}", suspended.text());
    assert_eq!(suspended.json()["status_reason"], "checking a complaint", "staff read the reason");
    let as_learner = app.get(&format!("/api/v1/awards/{}", first.id), Some(&learner)).await.json();
    assert_eq!(as_learner["status_reason"], "checking a complaint", "the learner reads it");
    let as_public = app.get(&format!("/api/v1/awards/{}", first.id), None).await;
    if as_public.status == 200 {
        assert!(as_public.json()["status_reason"].is_null(), "the public does not");
    }
    let assertion = app.get(&format!("/ob2/assertions/{}", first.id), None).await;
    assert!(!assertion.text().contains("complaint"), "the OB 2.0 assertion keeps it private: {}", assertion.text());
    let page = app.get(&format!("/awards/{}", first.id), None).await;
    assert!(!page.text().contains("complaint"), "the public award page keeps it private");
    let credential = app.get(&format!("/awards/{}/credential", first.id), None).await;
    assert!(!credential.text().contains("complaint"));
    let mut learner_browser = signed_in(app, LEARNER).await;
    learner_browser.get(&format!("/awards/{}", first.id)).await.assert_contains("checking a complaint");

    // Published, the reason is everyone's.
    let revoked = app.json("POST", &path, Some(&issuer), &json!({"action": "revoke", "reason": "plagiarised evidence", "publish_reason": true})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let assertion = app.get(&format!("/ob2/assertions/{}", first.id), None).await;
    assert_eq!(assertion.status, 410);
    assert!(assertion.text().contains("plagiarised evidence"), "{}", assertion.text());
    app.get(&format!("/awards/{}", first.id), None).await.assert_contains("plagiarised evidence");
    app.json("POST", &path, Some(&issuer), &json!({"action": "revoke", "publish_reason": "yes"})).await.problem(400, "malformed-request");
});

backend_test!(destructive_forms_ask_first_and_say_what_follows, |app| {
    let badge = micro_badge(app).await;
    let held = award(app, &badge).await;
    let org = app.demo_organisation().await;
    let mut issuer = signed_in(app, ISSUER).await;

    // Revoking: the first post shows what follows, with the choice to publish the reason.
    let status = format!("/issuers/{org}/assessment/awards/{}/status", held.id);
    let ask = issuer.post(&status, &[("action", "revoke"), ("reason", "issued in error")]).await;
    assert_eq!(ask.status, StatusCode::OK);
    ask.assert_contains("Revoking tells every verifier");
    ask.assert_contains("is notified");
    ask.assert_contains("name=\"publish_reason\"");
    ask.assert_contains("name=\"confirmed\" value=\"yes\"");
    assert_eq!(app.state.app.store.award(held.id).await.unwrap().status.as_str(), "active", "nothing changed yet");
    let done = issuer.post(&status, &[("action", "revoke"), ("reason", "issued in error"), ("confirmed", "yes")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let stored = app.state.app.store.award(held.id).await.unwrap();
    assert_eq!((stored.status.as_str(), stored.status_reason.as_deref(), stored.status_reason_public), ("revoked", Some("issued in error"), false));

    // Retiring.
    let retire = format!("/achievements/{}/retire", badge.id);
    let ask = issuer.post(&retire, &[]).await;
    assert_eq!(ask.status, StatusCode::OK);
    ask.assert_contains("Awards already made stay valid");
    assert_eq!(app.state.app.store.achievement(badge.id).await.unwrap().state, State::Published);
    assert_eq!(issuer.post(&retire, &[("confirmed", "yes")]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.state.app.store.achievement(badge.id).await.unwrap().state, State::Retired);

    // Removing a member.
    let assessor = user(app, ASSESSOR.0).await;
    let member = format!("/issuers/{org}/members/{assessor}");
    let ask = issuer.post(&member, &[("role", "remove")]).await;
    assert_eq!(ask.status, StatusCode::OK);
    ask.assert_contains("Remove the member");
    assert_eq!(app.get(&format!("/api/v1/organisations/{org}/members"), Some(&app.issuer_token().await)).await.json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(issuer.post(&member, &[("role", "remove"), ("confirmed", "yes")]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/organisations/{org}/members"), Some(&app.issuer_token().await)).await.json()["items"].as_array().unwrap().len(), 1);

    // Withdrawing a submission.
    let learner = app.token(LEARNER.0, LEARNER.1).await;
    let organisation = app.demo_organisation().await.parse().unwrap();
    let other = app
        .state
        .app
        .store
        .organisation_achievements(organisation)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == Kind::MicroBadge && a.state == State::Published)
        .expect("another published micro-badge");
    let started = app.json("POST", &format!("/api/v1/achievements/{}/submissions", other.id), Some(&learner), &json!({})).await;
    assert_eq!(started.status, 201, "{}", started.text());
    let submission = started.json()["id"].as_str().unwrap().to_string();
    let mut learner_browser = signed_in(app, LEARNER).await;
    let ask = learner_browser.post(&format!("/submissions/{submission}/withdraw"), &[]).await;
    assert_eq!(ask.status, StatusCode::OK);
    ask.assert_contains("it will not be assessed");
    assert_eq!(learner_browser.post(&format!("/submissions/{submission}/withdraw"), &[("confirmed", "yes")]).await.status, StatusCode::SEE_OTHER);
    let after = app.get(&format!("/api/v1/submissions/{submission}"), Some(&learner)).await.json();
    assert_eq!(after["status"], "withdrawn");
});

backend_test!(staff_see_who_earned_an_award_and_the_pool_picker_chooses_nobody, |app| {
    let badge = micro_badge(app).await;
    award(app, &badge).await;
    let org = app.demo_organisation().await;
    let learner_name = app.state.app.store.user(user(app, LEARNER.0).await).await.unwrap().name;
    let mut issuer = signed_in(app, ISSUER).await;
    let dashboard = issuer.get(&format!("/issuers/{org}/assessment")).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    dashboard.assert_contains("<th scope=\"col\">Earner</th>");
    dashboard.assert_contains(&learner_name);
    dashboard.assert_contains("<option value=\"\" selected>Choose an assessor…</option>");
    let organisation = org.parse().unwrap();
    let issuer_actor = cairn_core::authz::Actor::member(user(app, ISSUER.0).await, vec![(organisation, cairn_core::authz::Role::Owner)]);
    let overview = cairn_app::issuer::overview(&app.state.app, &issuer_actor, organisation).await.unwrap();
    assert!(overview.awards.iter().all(|(_, _, earner)| earner.is_some()));
    // Assessors never see the dashboard, so never the names.
    let assessor_actor = cairn_core::authz::Actor::member(user(app, ASSESSOR.0).await, vec![(organisation, cairn_core::authz::Role::Assessor)]);
    assert!(cairn_app::issuer::overview(&app.state.app, &assessor_actor, organisation).await.is_err());
    assert!(!assessor_actor.can(cairn_core::authz::Action::Org(organisation, cairn_core::authz::OrgAction::ViewEarners)));
    // Adding nobody is a clear error.
    let pool = format!("/issuers/{org}/assessment/pools/{}", badge.id);
    let response = issuer.post(&pool, &[("action", "add"), ("user", "")]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
});

backend_test!(invitations_by_e_mail_create_the_account_on_acceptance, |app| {
    let org = app.demo_organisation().await;
    let owner = app.issuer_token().await;
    let assessor = app.token(ASSESSOR.0, ASSESSOR.1).await;
    let invitations = format!("/api/v1/organisations/{org}/invitations");
    let body = json!({"email": "newcomer@example.org", "role": "staff"});
    app.json("POST", &invitations, Some(&assessor), &body).await.problem(403, "forbidden");
    app.json("POST", &invitations, None, &body).await.problem(401, "unauthenticated");
    let bad = app.json("POST", &invitations, Some(&owner), &json!({"email": "nope", "role": "admin"})).await.problem(422, "invalid-input");
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2, "both fields are named");
    app.json("POST", &invitations, Some(&owner), &json!({"email": ASSESSOR.0, "role": "staff"})).await.problem(409, "conflict");

    let created = app.json("POST", &invitations, Some(&owner), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let invitation = created.json();
    assert_eq!((invitation["state"].as_str(), invitation["role"].as_str()), (Some("pending"), Some("staff")));
    let secret = mailed_secret(app, "newcomer@example.org", "/invitations/").await;
    let listed = app.get(&invitations, Some(&owner)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret), "the secret is never listed");

    // The page offers to create the account; a weak password loses nothing but itself.
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&format!("/invitations/{secret}")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Create the account and join");
    assert_eq!(page.header(axum::http::header::CACHE_CONTROL), "no-store");
    let weak = browser.post(&format!("/invitations/{secret}"), &[("name", "Nia Newcomer"), ("password", "short")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    weak.assert_contains("value=\"Nia Newcomer\"");
    let joined = browser.post(&format!("/invitations/{secret}"), &[("name", "Nia Newcomer"), ("password", PASSWORD)]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    assert!(joined.location().starts_with(&format!("/issuers/{org}/manage")));
    assert_eq!(browser.get(&format!("/issuers/{org}/manage")).await.status, StatusCode::OK, "signed in, and a member");
    let newcomer = app.token("newcomer@example.org", PASSWORD).await;
    let me = app.get("/api/v1/me", Some(&newcomer)).await.json();
    assert_eq!(me["memberships"][0], json!({"organisation_id": org, "role": "staff"}));

    // Single use.
    app.json("POST", &format!("/api/v1/invitations/{secret}"), None, &json!({"name": "Again", "password": PASSWORD})).await.problem(410, "gone");
    assert_eq!(browser.get(&format!("/invitations/{secret}")).await.status, StatusCode::GONE);

    // An address with an account accepts signed in with it (over the API: its bearer token).
    let learner = app.token(LEARNER.0, LEARNER.1).await;
    app.json("POST", &invitations, Some(&owner), &json!({"email": LEARNER.0, "role": "assessor"})).await;
    let secret = mailed_secret(app, LEARNER.0, "/invitations/").await;
    let page = Browser::new(app.router.clone()).get(&format!("/invitations/{secret}")).await;
    page.assert_contains("Sign in to join");
    app.json("POST", &format!("/api/v1/invitations/{secret}"), Some(&newcomer), &json!({})).await.problem(403, "forbidden");
    app.json("POST", &format!("/api/v1/invitations/{secret}"), None, &json!({"name": "Imposter", "password": PASSWORD})).await.problem(409, "conflict");
    let accepted = app
        .send(
            axum::http::Request::post(format!("/api/v1/invitations/{secret}"))
                .header("authorization", format!("Bearer {learner}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["role"], "assessor");

    // Revoked invitations stop working; accepted ones cannot be revoked.
    let again = app.json("POST", &invitations, Some(&owner), &json!({"email": "later@example.org", "role": "assessor"})).await.json();
    let secret = mailed_secret(app, "later@example.org", "/invitations/").await;
    let id = again["id"].as_str().unwrap();
    app.json("DELETE", &format!("{invitations}/{id}"), Some(&assessor), &json!({})).await.problem(403, "forbidden");
    assert_eq!(app.json("DELETE", &format!("{invitations}/{id}"), Some(&owner), &json!({})).await.status, 204);
    app.json("POST", &format!("/api/v1/invitations/{secret}"), None, &json!({"name": "Late", "password": PASSWORD})).await.problem(410, "gone");
    app.json("DELETE", &format!("{invitations}/{}", invitation["id"].as_str().unwrap()), Some(&owner), &json!({})).await.problem(409, "conflict");
    let mut states: Vec<String> =
        app.get(&invitations, Some(&owner)).await.json()["items"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap().to_string()).collect();
    states.sort();
    assert_eq!(states, ["accepted", "accepted", "revoked"]);
});

backend_test!(invitations_expire, |app| {
    let org = app.demo_organisation().await;
    let owner = app.issuer_token().await;
    app.json("POST", &format!("/api/v1/organisations/{org}/invitations"), Some(&owner), &json!({"email": "slow@example.org", "role": "assessor"})).await;
    let secret = mailed_secret(app, "slow@example.org", "/invitations/").await;
    let mut state = app.state.clone();
    state.app.clock = std::sync::Arc::new(crate::helpers::FixedClock(app.state.app.now() + time::Duration::days(15)));
    let later = cairn_server::app(state);
    let response = crate::helpers::send_to(
        &later,
        axum::http::Request::post(format!("/api/v1/invitations/{secret}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"name": "Slow", "password": PASSWORD}).to_string()))
            .unwrap(),
    )
    .await;
    response.problem(410, "gone");
});
