//! One's own data: changing the e-mail address by a link sent to the new one, exporting
//! everything kept about the account, and deleting it while its awards stay verifiable.

use crate::helpers::{Browser, TestApp};
use axum::http::StatusCode;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::award::Privacy;
use cairn_store::Award;
use serde_json::json;

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");

/// The secret of the newest link to `path_prefix` mailed to `to`.
async fn mailed_secret(app: &TestApp, to: &str, path_prefix: &str) -> String {
    let outbox = app.state.app.store.outbox(200).await.unwrap();
    let mail = outbox.iter().find(|mail| mail.to == to && mail.body.contains(path_prefix)).unwrap_or_else(|| panic!("a mail to {to} with {path_prefix}"));
    let start = mail.body.find(path_prefix).unwrap() + path_prefix.len();
    mail.body[start..].split_whitespace().next().unwrap().to_string()
}

async fn awarded(app: &TestApp) -> (Achievement, Award) {
    let organisation = app.demo_organisation().await.parse().unwrap();
    let badge = app
        .state
        .app
        .store
        .organisation_achievements(organisation)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == Kind::MicroBadge && a.state == State::Published)
        .unwrap();
    let judgement = badge.content.rubric.as_ref().map(|rubric| {
        let scores: Vec<ScoreFields> = rubric
            .criteria
            .iter()
            .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid".into() })
            .collect();
        Judgement::parse(rubric, &scores, "Well done").unwrap()
    });
    let learner = app.state.app.store.user_by_email(&Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap().id;
    let request = AwardRequest { judgement, ..AwardRequest::new(learner, badge.id) };
    let award = awards::award(&app.state.app, request).await.unwrap();
    let award = app.state.app.store.set_award_privacy(award.id, Privacy::Public, false).await.unwrap();
    (badge, award)
}

backend_test!(the_e_mail_address_changes_when_the_link_sent_to_it_is_opened, |app| {
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let change = |email: &str, password: &str| json!({"email": email, "password": password});
    app.json("POST", "/api/v1/me/email", None, &change("new@example.org", LEARNER.1)).await.problem(401, "unauthenticated");
    let wrong = app.json("POST", "/api/v1/me/email", Some(&token), &change("new@example.org", "not my password")).await.problem(422, "invalid-input");
    assert_eq!(wrong["errors"][0]["pointer"], "/password");
    let taken = app.json("POST", "/api/v1/me/email", Some(&token), &change(ISSUER.0, LEARNER.1)).await.problem(422, "invalid-input");
    assert_eq!(taken["errors"][0]["pointer"], "/email");
    app.json("POST", "/api/v1/me/email", Some(&token), &change("not an address", LEARNER.1)).await.problem(422, "invalid-input");
    app.json("POST", "/api/v1/me/email", Some(&token), &change(LEARNER.0, LEARNER.1)).await.problem(422, "invalid-input");

    let asked = app.json("POST", "/api/v1/me/email", Some(&token), &change("Learner.New@Example.org", LEARNER.1)).await;
    assert_eq!(asked.status, 202, "{}", asked.text());
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.json()["email"], LEARNER.0, "nothing changes before the link is opened");
    let secret = mailed_secret(app, "learner.new@example.org", "/email-changes/").await;

    // The link's page asks for a click, so that a mail scanner opening it changes nothing.
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&format!("/email-changes/{secret}")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Use this address");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.json()["email"], LEARNER.0);

    let confirmed = app.json("POST", &format!("/api/v1/email-changes/{secret}"), None, &json!({})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.json()["email"], "learner.new@example.org");
    let outbox = app.state.app.store.outbox(200).await.unwrap();
    assert!(outbox.iter().any(|mail| mail.to == LEARNER.0 && mail.subject == "Your Cairn e-mail address was changed"), "the old address is told");
    app.json("POST", &format!("/api/v1/email-changes/{secret}"), None, &json!({})).await.problem(410, "gone");
    assert_eq!(browser.post(&format!("/email-changes/{secret}"), &[]).await.status, StatusCode::GONE);
    app.json("POST", "/api/v1/session", None, &json!({"email": LEARNER.0, "password": LEARNER.1})).await.problem(401, "unauthenticated");
    app.token("learner.new@example.org", LEARNER.1).await;
});

backend_test!(the_account_page_asks_for_a_new_address_and_keeps_what_was_typed, |app| {
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let page = browser.get("/account").await;
    page.assert_contains("Send the confirmation link");
    page.assert_contains("href=\"/account/export\"");
    page.assert_contains("href=\"/account/delete\"");
    let failed = browser.post("/account/email", &[("email", "fresh@example.org"), ("password", "wrong password")]).await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);
    failed.assert_contains("value=\"fresh@example.org\"");
    failed.assert_contains("id=\"email_password-error\"");
    let sent = browser.post("/account/email", &[("email", "fresh@example.org"), ("password", LEARNER.1)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let secret = mailed_secret(app, "fresh@example.org", "/email-changes/").await;
    let done = browser.post(&format!("/email-changes/{secret}"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(done.location().starts_with("/account"));
    browser.get("/account").await.assert_contains("fresh@example.org");
});

backend_test!(the_export_holds_everything_but_secrets, |app| {
    let (badge, award) = awarded(app).await;
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let started = app.json("POST", "/api/v1/achievements/{}/submissions".replace("{}", &badge.id.to_string()).as_str(), Some(&token), &json!({})).await;
    assert!(started.status == 201 || started.status == 409, "{}", started.text());
    app.get("/api/v1/me/export", None).await.problem(401, "unauthenticated");
    let export = app.get("/api/v1/me/export", Some(&token)).await;
    assert_eq!(export.status, 200, "{}", export.text());
    assert!(export.header(axum::http::header::CONTENT_DISPOSITION).starts_with("attachment"));
    let document = export.json();
    assert_eq!(document["profile"]["email"], LEARNER.0);
    let awards = document["awards"].as_array().unwrap();
    let listed = awards.iter().find(|a| a["id"] == award.id.to_string()).expect("the award is exported");
    assert!(listed["links"]["credential"].as_str().unwrap().ends_with("/credential"));
    assert!(document["api_tokens"].as_array().unwrap().iter().all(|t| t.get("token").is_none() && t.get("token_hash").is_none()));
    for key in ["submissions", "notifications", "collaborations", "memberships"] {
        assert!(document[key].is_array(), "{key}");
    }
    let text = export.text();
    assert!(!text.contains(&token), "no token secret");
    assert!(!text.contains("$argon2"), "no password hash");
    // In the browser: a download.
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let download = browser.get("/account/export").await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.header(axum::http::header::CONTENT_DISPOSITION).contains("cairn-data.json"));
});

backend_test!(a_deleted_account_leaves_its_awards_verifiable_and_their_pages_gone, |app| {
    let (_, award) = awarded(app).await;
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let wrong = app.json("DELETE", "/api/v1/me", Some(&token), &json!({"password": "wrong"})).await.problem(422, "invalid-input");
    assert_eq!(wrong["errors"][0]["pointer"], "/password");
    let page = browser.get("/account/delete").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("stay verifiable");

    assert_eq!(app.json("DELETE", "/api/v1/me", Some(&token), &json!({"password": LEARNER.1})).await.status, 204);
    app.get("/api/v1/me", Some(&token)).await.problem(401, "unauthenticated");
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER, "the session ended");
    let gone = app.get(&format!("/awards/{}", award.id), None).await;
    assert_eq!(gone.status, StatusCode::GONE);
    // The signed credential and the status list keep working.
    let credential = app.get(&format!("/awards/{}/credential", award.id), None).await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let document = credential.json();
    let list = document["credentialStatus"].as_array().map(|l| l[0].clone()).unwrap_or_else(|| document["credentialStatus"].clone());
    let list_url = list["statusListCredential"].as_str().unwrap();
    let path = &list_url[list_url.find("/status/").unwrap()..];
    assert_eq!(app.get(path, None).await.status, 200);
    let stored = app.state.app.store.user(award.learner).await.unwrap();
    assert_eq!(stored.name, "Deleted account");
    assert!(!stored.email.as_str().contains("learner"));
    // The address is free again.
    let signed_up =
        app.json("POST", "/api/v1/users", None, &json!({"name": "Lee Again", "email": LEARNER.0, "password": "granite ledge over misty tarn"})).await;
    assert_eq!(signed_up.status, 202);
    let again = app.token(LEARNER.0, "granite ledge over misty tarn").await;
    let export = app.get("/api/v1/me/export", Some(&again)).await.json();
    assert!(export["awards"].as_array().unwrap().is_empty(), "a new account, without the old badges");
});

backend_test!(the_only_owner_hands_over_the_organisation_first, |app| {
    let token = app.issuer_token().await;
    let refused = app.json("DELETE", "/api/v1/me", Some(&token), &json!({"password": ISSUER.1})).await.problem(409, "conflict");
    assert!(refused["detail"].as_str().unwrap().contains("only owner of"), "{refused}");
    let mut browser = Browser::signed_in(app.router.clone(), ISSUER).await;
    let page = browser.post("/account/delete", &[("password", ISSUER.1)]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    page.assert_contains("only owner of");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200, "nothing was deleted");
});
