//! Renewals: an issuer sets a light renewal path; the learner renews an award that expires soon
//! through the ordinary journey, judged against the renewal rubric; the pass issues a new award
//! naming the previous one, which is marked renewed, keeps its page and stops being reminded; a
//! renewal too early, of someone else's award or of an award renewed already is refused.

use std::sync::Arc;

use crate::helpers::{Browser, FixedClock, TestApp, TestResponse, badge_body, send_to};
use crate::issuing::{LEARNER, loader_for, user};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use cairn_app::App;
use cairn_app::awards::{self, AwardRequest};
use cairn_app::jobs::remind_expiring;
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::ids::AchievementId;
use cairn_server::AppState;
use cairn_vc::verify::{Verdict, VerifyOptions, verify};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const LEARNER_PASSWORD: &str = "cairn-demo-learner";

/// The same application and database, seen at another time.
fn app_at(app: &TestApp, now: OffsetDateTime) -> App {
    let mut at = app.state.app.clone();
    at.clock = Arc::new(FixedClock(now));
    at
}

fn router_at(app: &TestApp, now: OffsetDateTime) -> Router {
    cairn_server::app(AppState::new(app_at(app, now)))
}

async fn call(router: &Router, method: &str, path: &str, token: &str, body: Option<&Value>) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    send_to(router, request.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap()).await
}

/// A session token made at the router's time (tokens made now would have lapsed by then).
async fn token_at(router: &Router, email: &str, password: &str) -> String {
    let request = Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json");
    let response = send_to(router, request.body(Body::from(json!({"email": email, "password": password}).to_string())).unwrap()).await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["token"].as_str().unwrap().to_string()
}

/// A light renewal path: one criterion, current practice, judged at two levels.
fn light_renewal() -> Value {
    json!({
        "path": "light",
        "rubric": {
            "levels": ["Not yet", "Current"],
            "criteria": [{"name": "Current practice", "required_level": "Current", "descriptors": ["No recent work", "Recent work shown"]}]
        },
        "instructions": "Show **one** script you wrote in the last year."
    })
}

/// A published micro-badge, valid 12 months, renewed by the light path, with the demo assessor
/// in its pool; returns its id, the issuer's token and the assessor's.
async fn renewable_badge(app: &TestApp) -> (String, String, String) {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let mut body = badge_body("Renewable Bash");
    body["fee"] = Value::Null;
    body["renewal"] = light_renewal();
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["renewal"]["path"], "light");
    assert_eq!(created["renewal"]["rubric"]["criteria"][0]["id"], "current-practice");
    let id = created["id"].as_str().unwrap().to_string();
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text());
    let members = app.get(&format!("/api/v1/organisations/{org}/members"), Some(&issuer)).await.json();
    let assessor_id = members["items"].as_array().unwrap().iter().find(|m| m["role"] == "assessor").unwrap()["user_id"].as_str().unwrap().to_string();
    let added = app.json("POST", &format!("/api/v1/achievements/{id}/assessors"), Some(&issuer), &json!({"user_id": assessor_id})).await;
    assert_eq!(added.status, 204, "{}", added.text());
    (id, issuer, app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await)
}

backend_test!(issuers_set_a_renewal_path_and_bad_ones_are_refused, |app| {
    let path = format!("/api/v1/organisations/{}/achievements", app.demo_organisation().await);
    let issuer = app.issuer_token().await;
    let create = |body: Value| {
        let (path, issuer) = (&path, &issuer);
        async move { app.json("POST", path, Some(issuer), &body).await }
    };

    let mut no_rubric = badge_body("Light Without Rubric");
    no_rubric["renewal"] = json!({"path": "light", "instructions": "Anything recent."});
    let problem = create(no_rubric).await.problem(422, "invalid-input");
    assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == "/renewal/rubric"), "{problem}");

    let mut never_expires = badge_body("Light Without Validity");
    never_expires["validity_months"] = Value::Null;
    never_expires["renewal"] = light_renewal();
    let problem = create(never_expires).await.problem(422, "invalid-input");
    let error = problem["errors"].as_array().unwrap().iter().find(|e| e["pointer"] == "/renewal/path").cloned().unwrap_or_default();
    assert_eq!(error["detail"], "only an achievement with a validity period can be renewed", "{problem}");

    let mut unknown = badge_body("Quick Renewal");
    unknown["renewal"] = json!({"path": "quick"});
    create(unknown).await.problem(422, "invalid-input");

    // A full reassessment is the default.
    let plain = create(badge_body("Plain Renewal")).await;
    assert_eq!(plain.status, 201, "{}", plain.text());
    assert_eq!(plain.json()["renewal"], json!({"path": "full", "rubric": null, "instructions": null}));

    // The achievement page says how its awards are renewed.
    let (light, _, _) = renewable_badge(app).await;
    let page = app.send(Request::get(format!("/achievements/{light}")).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()).await;
    page.assert_contains("<h2 id=\"renewal-title\">Renewal</h2>");
    page.assert_contains("Renewal: renewal evidence judged against a renewal rubric");
    page.assert_contains("Recent work shown");
});

backend_test!(a_learner_renews_an_award_through_the_light_path_and_keeps_its_history, |app| {
    let (badge, _, _) = renewable_badge(app).await;
    let achievement = app.state.app.store.achievement(badge.parse::<AchievementId>().unwrap()).await.unwrap();
    let learner_id = user(app, LEARNER).await;
    let learner = app.token(LEARNER, LEARNER_PASSWORD).await;

    // The first award, judged against the achievement's own rubric.
    let rubric = achievement.content.rubric.as_ref().unwrap();
    let scores: Vec<ScoreFields> =
        rubric.criteria.iter().map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: String::new() }).collect();
    let judgement = Judgement::parse(rubric, &scores, "Well done").unwrap();
    let request = AwardRequest { judgement: Some(judgement), ..AwardRequest::new(learner_id, achievement.id) };
    let first = awards::award(&app.state.app, request).await.unwrap();
    let until = first.valid_until.expect("the badge expires");

    // Too early: more than 90 days before it expires.
    let early = app.json("POST", &format!("/api/v1/awards/{}/renewal", first.id), Some(&learner), &json!({})).await;
    let problem = early.problem(409, "not-renewable");
    let from = cairn_app::notify::format_day(until - Duration::days(90));
    assert_eq!(problem["detail"], format!("this badge can be renewed from {from}, 90 days before it expires"));

    // The 90-day reminder goes out.
    assert_eq!(remind_expiring(&app_at(app, until - Duration::days(89))).await.unwrap(), 1);

    // Sixty days before it expires: nobody else may renew it; its learner may, once at a time.
    let later = until - Duration::days(60);
    let router = router_at(app, later);
    let learner = token_at(&router, LEARNER, LEARNER_PASSWORD).await;
    let issuer = token_at(&router, "issuer@demo.cairn.test", "cairn-demo-issuer").await;
    let assessor = token_at(&router, "assessor@demo.cairn.test", "cairn-demo-assessor").await;
    call(&router, "POST", &format!("/api/v1/awards/{}/renewal", first.id), &issuer, None).await.problem(404, "not-found");
    let started = call(&router, "POST", &format!("/api/v1/awards/{}/renewal", first.id), &learner, None).await;
    assert_eq!(started.status, 201, "{}", started.text());
    let renewal = started.json();
    assert_eq!(renewal["status"], "draft");
    assert_eq!(renewal["fee"], "none", "renewals are free");
    assert_eq!(renewal["renewal_of"], first.id.to_string());
    assert_eq!(renewal["achievement_id"], badge.as_str());
    let id = renewal["id"].as_str().unwrap().to_string();
    let again = call(&router, "POST", &format!("/api/v1/awards/{}/renewal", first.id), &learner, None).await.problem(409, "not-renewable");
    assert_eq!(again["detail"], "a renewal of this badge is in progress already");

    // The learner's page of it says what to send.
    let view = call(&router, "GET", &format!("/api/v1/submissions/{id}"), &learner, None).await.json();
    assert_eq!(view["renewal"]["path"], "light");
    assert_eq!(view["renewal"]["instructions"], "Show **one** script you wrote in the last year.");

    // The ordinary journey: evidence, submit, the blind queue, the renewal rubric.
    let body = json!({"overview": "A log rotation script from March.", "reflection": "I still test my input first."});
    assert_eq!(call(&router, "PUT", &format!("/api/v1/submissions/{id}"), &learner, Some(&body)).await.status, 200);
    let text = json!({"title": "Script", "body": "#!/bin/sh\nset -eu"});
    assert_eq!(call(&router, "POST", &format!("/api/v1/submissions/{id}/texts"), &learner, Some(&text)).await.status, 201);
    let sent = call(&router, "POST", &format!("/api/v1/submissions/{id}/submit"), &learner, None).await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    let blind = call(&router, "GET", &format!("/api/v1/assessments/{id}"), &assessor, None).await;
    assert_eq!(blind.status, 200, "{}", blind.text());
    let blind = blind.json();
    assert_eq!(blind["renewal"], true);
    assert_eq!(blind["rubric"]["criteria"].as_array().unwrap().len(), 1);
    assert_eq!(blind["rubric"]["criteria"][0]["id"], "current-practice");
    let assessor_page = Browser::signed_in(router.clone(), ("assessor@demo.cairn.test", "cairn-demo-assessor")).await.get(&format!("/assess/{id}")).await;
    assessor_page.assert_contains("Renewal: renewal evidence judged against a renewal rubric");
    // Scores against the achievement's own rubric do not fit the renewal rubric.
    let wrong = json!({"scores": [{"criterion": "robustness", "level": "Proficient"}], "feedback": "?"});
    call(&router, "POST", &format!("/api/v1/assessments/{id}"), &assessor, Some(&wrong)).await.problem(422, "invalid-input");
    let pass = json!({"scores": [{"criterion": "current-practice", "level": "Current", "comment": "Recent and tested"}], "feedback": "Still current."});
    let assessed = call(&router, "POST", &format!("/api/v1/assessments/{id}"), &assessor, Some(&pass)).await;
    assert_eq!(assessed.status, 200, "{}", assessed.text());
    assert_eq!(assessed.json(), json!({"outcome": "pass", "awarded": true, "held": false}));

    // A new award, valid from its own issue date, renews the first; the learner holds one.
    let mine = call(&router, "GET", "/api/v1/awards", &learner, None).await.json();
    let current: Vec<&Value> = mine["items"].as_array().unwrap().iter().filter(|a| a["achievement_id"] == badge.as_str()).collect();
    assert_eq!(current.len(), 1, "one current award of the achievement: {mine}");
    let renewed = current[0].clone();
    let new_id = renewed["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, first.id.to_string());
    assert_eq!(renewed["renews"]["id"], first.id.to_string());
    assert_eq!(renewed["renewed_by"], Value::Null);
    let new_award = app.state.app.store.award(new_id.parse().unwrap()).await.unwrap();
    assert_eq!(new_award.issued_at, later);
    assert_eq!(new_award.valid_until, cairn_core::award::valid_until(later, Some(12)), "validity counts from the renewal");
    let old = call(&router, "GET", &format!("/api/v1/awards/{}", first.id), &learner, None).await.json();
    assert_eq!(old["renewed_by"]["id"], new_id.as_str());
    assert_eq!(old["status"], "active", "a renewed award stays as it was");
    let backpack = app_at(app, later);
    let shelf = awards::backpack(&backpack, &crate::issuing::actor(app, LEARNER).await).await.unwrap();
    let held: Vec<String> = shelf.iter().filter(|item| item.award.achievement == achievement.id).map(|item| item.award.id.to_string()).collect();
    assert_eq!(held, [new_id.as_str()], "the backpack shows the current award only");

    // The new credential names the previous award as evidence, and verifies.
    let mut browser = Browser::signed_in(router.clone(), (LEARNER, LEARNER_PASSWORD)).await;
    let credential = browser.get(&format!("/awards/{new_id}/credential.json")).await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let document = credential.json();
    let evidence = document["evidence"].as_array().expect("evidence");
    let previous = evidence.iter().find(|e| e["name"] == "Previous award, renewed").unwrap_or_else(|| panic!("{document}"));
    assert_eq!(previous["id"], app.state.app.config.urls().award_page(first.id));
    assert!(previous["narrative"].as_str().unwrap().contains("renewal rubric"), "{previous}");
    assert!(document["credentialSubject"].get("result").is_none(), "a light renewal states no results of the achievement's rubric: {document}");
    let loader = loader_for(app, &document).await;
    let report = verify(&credential.body, &VerifyOptions::new(&loader, later.unix_timestamp()).with_clock_skew(60));
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // Both award pages tell the history; the new one shows the renewal rubric's results.
    let old_page = browser.get(&format!("/awards/{}", first.id)).await;
    old_page.assert_contains(&format!("Renewed on {} by a new award.", cairn_app::notify::format_day(later)));
    old_page.assert_contains(&format!("href=\"/awards/{new_id}\""));
    old_page.assert_lacks(&format!("action=\"/awards/{}/renewal\"", first.id));
    let new_page = browser.get(&format!("/awards/{new_id}")).await;
    new_page.assert_contains(&format!("Renews the award of {}.", cairn_app::notify::format_day(first.issued_at)));
    new_page.assert_contains(&format!("href=\"/awards/{}\"", first.id));
    new_page.assert_contains("Current practice");
    new_page.assert_contains(&format!("can be renewed from {}", cairn_app::notify::format_day(new_award.valid_until.unwrap() - Duration::days(90))));

    // Reminders stop for the renewed award, and it cannot be renewed again.
    assert_eq!(remind_expiring(&app_at(app, until - Duration::days(29))).await.unwrap(), 0, "no 30-day reminder for a renewed award");
    let twice = call(&router, "POST", &format!("/api/v1/awards/{}/renewal", first.id), &learner, None).await.problem(409, "not-renewable");
    assert_eq!(twice["detail"], "this badge was renewed already; renew the newer award when its time comes");

    // Once past its end, the old award's page says it expired, and so does its verdict.
    let expired = Browser::signed_in(router_at(app, until + Duration::days(1)), (LEARNER, LEARNER_PASSWORD)).await.get(&format!("/awards/{}", first.id)).await;
    expired.assert_contains(&format!("Expired on {}.", cairn_app::notify::format_day(until)));
    expired.assert_contains("Not valid: expired");
});

backend_test!(an_award_renewed_in_the_browser_starts_from_its_page, |app| {
    let (badge, _, _) = renewable_badge(app).await;
    let achievement = app.state.app.store.achievement(badge.parse::<AchievementId>().unwrap()).await.unwrap();
    let request = AwardRequest::new(user(app, LEARNER).await, achievement.id);
    let award = awards::award(&app.state.app, request).await.unwrap();
    let until = award.valid_until.unwrap();

    // Too early: the page says from when, and offers no button.
    let mut now = Browser::signed_in(app.router.clone(), (LEARNER, LEARNER_PASSWORD)).await;
    let page = now.get(&format!("/awards/{}", award.id)).await;
    page.assert_contains(&format!("This badge can be renewed from {}, 90 days before it expires.", cairn_app::notify::format_day(until - Duration::days(90))));
    page.assert_lacks(&format!("action=\"/awards/{}/renewal\"", award.id));

    let mut later = Browser::signed_in(router_at(app, until - Duration::days(10)), (LEARNER, LEARNER_PASSWORD)).await;
    let page = later.get(&format!("/awards/{}", award.id)).await;
    page.assert_contains(&format!("action=\"/awards/{}/renewal\"", award.id));
    page.assert_contains("<h2 id=\"renewal-title\">Renew this badge</h2>");
    let started = later.post(&format!("/awards/{}/renewal", award.id), &[]).await;
    started.assert_redirect("/submissions/");
    let submission = started.location().to_string();
    let draft = later.get(&submission).await;
    draft.assert_contains("Renewal: Renewable Bash");
    draft.assert_contains("Show <strong>one</strong> script you wrote in the last year.");
    draft.assert_contains("Recent work shown");
    // The award page now leads to the renewal in progress.
    let page = later.get(&format!("/awards/{}", award.id)).await;
    page.assert_contains(&format!("href=\"{submission}\""));
    page.assert_contains("Continue your renewal");
});

backend_test!(the_authoring_form_sets_a_light_renewal_and_says_what_is_missing, |app| {
    let organisation = app.demo_organisation().await;
    let mut issuer = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let path = format!("/issuers/{organisation}/achievements/new");
    let page = issuer.get(&format!("{path}?kind=micro-badge")).await;
    page.assert_contains("<legend>Renewal</legend>");
    page.assert_contains("<label for=\"renewal_path\">Renewal path</label>");
    page.assert_contains("id=\"renewal_criterion_0_name\"");

    let mut form: Vec<(&str, &str)> = vec![
        ("kind", "micro-badge"),
        ("name", "Renewable Joins"),
        ("description", "Write joins that answer business questions"),
        ("criteria", "Submit three queries."),
        ("language", "en"),
        ("validity_months", "24"),
        ("level_0", "Developing"),
        ("level_1", "Proficient"),
        ("criterion_0_name", "Correctness"),
        ("criterion_0_required_level", "2"),
        ("criterion_0_descriptor_0", "Some results are wrong"),
        ("criterion_0_descriptor_1", "All results are right"),
        ("renewal_path", "light"),
        ("renewal_instructions", "Send one query you wrote this year."),
    ];
    let refused = issuer.post(&path, &form).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    refused.assert_contains("href=\"#renewal_rubric\"");
    refused.assert_contains("a light renewal needs a renewal rubric");
    refused.assert_contains("Send one query you wrote this year.</textarea>");

    form.extend([
        ("renewal_level_0", "Not yet"),
        ("renewal_level_1", "Current"),
        ("renewal_criterion_0_name", "Recent work"),
        ("renewal_criterion_0_required_level", "2"),
        ("renewal_criterion_0_descriptor_0", "Nothing recent"),
        ("renewal_criterion_0_descriptor_1", "A query from this year"),
    ]);
    let created = issuer.post(&path, &form).await;
    assert_eq!(created.status, 303, "{}", created.text());
    let achievement = app
        .state
        .app
        .store
        .organisation_achievements(organisation.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.content.name == "Renewable Joins")
        .expect("created");
    match &achievement.content.renewal {
        cairn_core::renewal::RenewalPath::Light { rubric, instructions } => {
            assert_eq!(rubric.levels, ["Not yet", "Current"]);
            assert_eq!((rubric.criteria[0].id.as_str(), rubric.criteria[0].required_level), ("recent-work", 1));
            assert_eq!(instructions, "Send one query you wrote this year.");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(achievement.content.rubric.as_ref().unwrap().criteria[0].id, "correctness", "the achievement's own rubric is apart");
    // Editing shows the renewal as stored.
    let edit = issuer.get(&format!("/achievements/{}/edit", achievement.id)).await;
    edit.assert_contains("Send one query you wrote this year.</textarea>");
    edit.assert_contains("value=\"Recent work\"");
    edit.assert_contains("<option value=\"light\" selected>");
});
