//! Named collaborators: told once (a notification and an e-mail, or an invitation to sign up),
//! their reflections written over the API, and the submit warned or held while one is missing,
//! as the issuer sets.

use crate::helpers::{Browser, TestApp, badge_body};
use serde_json::{Value, json};

const SAM: &str = "sam.collab@example.org";
const NEWCOMER: &str = "nova.new@example.org";

async fn sign_up(app: &TestApp, name: &str, email: &str) -> String {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": name, "email": email, "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    app.token(email, "a long enough password").await
}

/// A published free micro-badge of the demo issuer with the demo assessor in its pool.
async fn badge(app: &TestApp, name: &str) -> String {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let mut body = badge_body(name);
    body["fee"] = Value::Null;
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await.status, 200);
    id
}

fn parts(collaborators: &[&str]) -> Value {
    json!({"overview": "We built it together", "reflection": "What I learnt", "links": ["https://example.org/work"], "collaborators": collaborators})
}

async fn set_rule(app: &TestApp, rule: &str) {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{org}/assessment-settings");
    let mut settings = app.get(&path, Some(&issuer)).await.json();
    settings["collaborator_reflections"] = json!(rule);
    let saved = app.json("PUT", &path, Some(&issuer), &settings).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["collaborator_reflections"], rule);
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<(String, String)> {
    app.state.app.store.outbox(200).await.unwrap().into_iter().filter(|m| m.to == to).map(|m| (m.subject, m.body)).collect()
}

async fn collaboration_notices(app: &TestApp, token: &str) -> Vec<Value> {
    let inbox = app.get("/api/v1/notifications", Some(token)).await.json();
    inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "collaboration").cloned().collect()
}

backend_test!(named_collaborators_are_told_once_and_newcomers_are_invited, |app| {
    let achievement = badge(app, "Team Retrospective").await;
    let learner = sign_up(app, "Lou Pratt", "lou.pratt@example.org").await;
    let sam = sign_up(app, "Sam Collab", SAM).await;
    let created = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(&learner), &parts(&[SAM, NEWCOMER])).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    // Someone with an account: a notification and an e-mail naming who and what, linking to the reflection.
    let notices = collaboration_notices(app, &sam).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["subject"], "Lou Pratt named you as a collaborator on \"Team Retrospective\"");
    assert!(notices[0]["link"].as_str().unwrap().ends_with(&format!("/collaborations#collaboration-{id}")), "{}", notices[0]);
    let mail = mails_to(app, SAM).await.into_iter().filter(|(subject, _)| subject.contains("collaborator")).collect::<Vec<_>>();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].1.contains("Lou Pratt named you as a collaborator on their submission for \"Team Retrospective\""), "{}", mail[0].1);
    // Someone without one: an invitation through sign-up with that address, and no account.
    let invitations = mails_to(app, NEWCOMER).await;
    assert_eq!(invitations.len(), 1);
    let link = format!("/signup?email=nova.new%40example.org&next=%2Fcollaborations%23collaboration-{id}");
    assert!(invitations[0].1.contains(&link), "{}", invitations[0].1);
    assert!(invitations[0].1.contains("Nothing is created unless you sign up"), "{}", invitations[0].1);
    let email = cairn_core::account::Email::parse(NEWCOMER).unwrap();
    assert!(app.state.app.store.user_by_email(&email).await.unwrap().is_none(), "no account is made for them");
    // Saving again tells nobody twice; someone added later is told once.
    let third = "tia.third@example.org";
    let _tia = sign_up(app, "Tia Third", third).await;
    for _ in 0..2 {
        let saved = app.json("PUT", &format!("/api/v1/submissions/{id}"), Some(&learner), &parts(&[SAM, NEWCOMER, third])).await;
        assert_eq!(saved.status, 200, "{}", saved.text());
    }
    assert_eq!(collaboration_notices(app, &sam).await.len(), 1);
    assert_eq!(mails_to(app, NEWCOMER).await.len(), 1);
    assert_eq!(mails_to(app, third).await.iter().filter(|(subject, _)| subject.contains("collaborator")).count(), 1);
    // The invitation's link opens sign-up with the address filled in and leads on to the collaboration.
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&link).await;
    page.assert_contains("value=\"nova.new@example.org\"");
    page.assert_contains(&format!("collaboration-{id}"));
    let signed_up = browser
        .post(
            "/signup",
            &[("name", "Nova New"), ("email", NEWCOMER), ("password", "a long enough password"), ("next", &format!("/collaborations#collaboration-{id}"))],
        )
        .await;
    assert_eq!(signed_up.status, 303, "{}", signed_up.text());
    assert!(signed_up.location().starts_with("/login?next=/collaborations%23collaboration-"), "{}", signed_up.location());
    let nova = app.token(NEWCOMER, "a long enough password").await;
    let mine = app.get("/api/v1/collaborations", Some(&nova)).await.json();
    assert_eq!(mine["items"][0]["submission_id"], id.as_str());
    assert_eq!(mine["items"][0]["named_by"], "Lou Pratt");
    assert_eq!(mine["items"][0]["open"], true);
});

backend_test!(the_autosave_tells_nobody_until_a_real_save, |app| {
    let achievement = badge(app, "Pair Programming").await;
    let _sam = sign_up(app, "Sam Collab", SAM).await;
    let mut learner = Browser::signed_in(app.router.clone(), ("learner@demo.cairn.test", "cairn-demo-learner")).await;
    let token = app.token("learner@demo.cairn.test", "cairn-demo-learner").await;
    let created = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(&token), &parts(&[])).await;
    let id = created.json()["id"].as_str().unwrap().to_string();
    let form = [("overview", "Typing"), ("reflection", ""), ("links", ""), ("collaborators", "sam.coll@example.org")];
    let autosaved = learner.post_as(&format!("/submissions/{id}"), &form, "application/json").await;
    assert_eq!(autosaved.status, 200, "{}", autosaved.text());
    assert!(mails_to(app, "sam.coll@example.org").await.is_empty(), "a half-typed address is not mailed");
    let form = [("overview", "Typing"), ("reflection", ""), ("links", ""), ("collaborators", SAM)];
    learner.post(&format!("/submissions/{id}"), &form).await;
    assert_eq!(mails_to(app, SAM).await.iter().filter(|(subject, _)| subject.contains("collaborator")).count(), 1);
});

backend_test!(a_missing_reflection_warns_or_holds_the_submit_as_the_issuer_sets, |app| {
    let achievement = badge(app, "Shared Research").await;
    let learner = sign_up(app, "Ida Rowe", "ida.rowe@example.org").await;
    let sam = sign_up(app, "Sam Collab", SAM).await;
    let created = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(&learner), &parts(&[SAM])).await;
    let id = created.json()["id"].as_str().unwrap().to_string();
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["missing_reflections"], json!([SAM]));
    assert_eq!(view["reflections_required"], false);
    // The issuer requires them: the submit waits, and nothing changes.
    set_rule(app, "require").await;
    let problem = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.problem(409, "reflections-missing");
    assert_eq!(problem["detail"], format!("the issuer requires every collaborator's reflection before you submit: waiting for {SAM}"));
    assert_eq!(app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json()["status"], "draft");
    // A bad rule is refused.
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{org}/assessment-settings");
    let mut bad = app.get(&path, Some(&issuer)).await.json();
    bad["collaborator_reflections"] = json!("block");
    app.json("PUT", &path, Some(&issuer), &bad).await.problem(422, "invalid-input");
    // The collaborator writes theirs; then the submit goes.
    let nobody = sign_up(app, "Nick Body", "nick.body@example.org").await;
    app.json("PUT", &format!("/api/v1/collaborations/{id}"), Some(&nobody), &json!({"reflection": "Me too"})).await.problem(404, "not-found");
    let written = app.json("PUT", &format!("/api/v1/collaborations/{id}"), Some(&sam), &json!({"reflection": "I ran the interviews."})).await;
    assert_eq!(written.status, 204, "{}", written.text());
    assert_eq!(app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json()["missing_reflections"], json!([]));
    let sent = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    // Under "warn" (the default) a missing reflection does not hold the submit.
    set_rule(app, "warn").await;
    let other = badge(app, "Shared Survey").await;
    let created = app.json("POST", &format!("/api/v1/achievements/{other}/submissions"), Some(&learner), &parts(&[NEWCOMER])).await;
    let other_id = created.json()["id"].as_str().unwrap().to_string();
    let sent = app.json("POST", &format!("/api/v1/submissions/{other_id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.text());
});

backend_test!(the_signed_in_menu_offers_collaborations, |app| {
    let mut learner = Browser::signed_in(app.router.clone(), ("learner@demo.cairn.test", "cairn-demo-learner")).await;
    let page = learner.get("/dashboard").await;
    page.assert_contains("<a href=\"/collaborations\">Collaborations</a>");
    let anonymous = Browser::new(app.router.clone()).get("/catalog").await;
    anonymous.assert_lacks("href=\"/collaborations\"");
});
