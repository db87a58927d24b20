//! Discovery with the learner in control: a handle opens a public portfolio that lists only
//! public awards; employers (and nobody else) find only learners who chose to be found, see only
//! what they made public, compare and shortlist them, and ask before contacting them; the
//! learner sees every search hit, view, shortlisting and request, and answers.

use crate::helpers::{Browser, TestApp};
use crate::issuing::{actor, demo_achievements, request};
use crate::journey::sign_up;
use cairn_app::awards;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::award::Privacy;
use cairn_core::ids::UserId;
use serde_json::{Value, json};

/// The demo issuer's micro-badges, in a fixed order.
async fn badges(app: &TestApp) -> Vec<Achievement> {
    let mut badges: Vec<Achievement> = demo_achievements(app).await.into_iter().filter(|a| a.kind == Kind::MicroBadge).collect();
    badges.sort_by(|a, b| a.content.name.cmp(&b.content.name));
    assert!(badges.len() >= 2, "the demo has micro-badges");
    badges
}

/// Awards `badge` to the learner (passing every criterion one level above what is required
/// where the rubric allows) and sets its privacy as the learner would.
async fn holds(app: &TestApp, email: &str, learner: &str, badge: &Achievement, privacy: Privacy) -> cairn_core::ids::AwardId {
    let id: UserId = learner.parse().unwrap();
    let award = awards::award(&app.state.app, request(id, badge)).await.unwrap();
    awards::set_privacy(&app.state.app, &actor(app, email).await, award.id, privacy, true).await.unwrap();
    award.id
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> crate::helpers::TestResponse {
    app.json("PATCH", "/api/v1/me", Some(token), &body).await
}

/// A learner with a handle, discoverable or not.
async fn learner(app: &TestApp, name: &str, email: &str, handle: &str, discoverable: bool) -> (String, String) {
    let (token, id) = sign_up(app, name, email).await;
    let set = patch_me(app, &token, json!({"handle": handle, "discoverable": discoverable})).await;
    assert_eq!(set.status, 200, "{}", set.text());
    (token, id)
}

/// An employer organisation with its owner; returns (owner token, organisation id).
async fn employer(app: &TestApp) -> (String, String) {
    let (token, _) = sign_up(app, "Hira Castell", "hira@northwind.example").await;
    let created = app
        .json("POST", "/api/v1/organisations", Some(&token), &json!({"name": "Northwind Hiring", "url": "https://northwind.example", "kind": "employer"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["kind"], "employer");
    (token, created["id"].as_str().unwrap().to_string())
}

fn handles(found: &Value) -> Vec<String> {
    found["items"].as_array().unwrap().iter().map(|i| i["learner"]["handle"].as_str().unwrap().to_string()).collect()
}

backend_test!(a_handle_opens_a_portfolio_that_lists_only_public_awards, |app| {
    let badges = badges(app).await;
    let (token, id) = sign_up(app, "Ada Quillfeather", "ada.quill@example.org").await;
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["handle"], Value::Null, "no portfolio until the learner asks: {me}");
    assert_eq!(me["discoverable"], false);

    // Being found needs a handle; a broken handle is refused and changes nothing.
    let refused = patch_me(app, &token, json!({"discoverable": true})).await.problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/discoverable", "{refused}");
    let broken = patch_me(app, &token, json!({"handle": "ada quill", "name": ""})).await.problem(422, "invalid-input");
    let pointers: Vec<&str> = broken["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"/handle") && pointers.contains(&"/name"), "both rules at once: {broken}");
    patch_me(app, &token, json!({"handle": 7})).await.problem(422, "invalid-input");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.json()["name"], "Ada Quillfeather");

    let set = patch_me(app, &token, json!({"handle": "Ada-Quill"})).await;
    assert_eq!(set.status, 200, "{}", set.text());
    let set = set.json();
    assert_eq!(set["handle"], "ada-quill");
    assert!(set["portfolio"].as_str().unwrap().ends_with("/u/ada-quill"), "{set}");
    assert_eq!(set["discoverable"], false, "a portfolio does not make the learner findable");
    let (other, _) = sign_up(app, "Ada Other", "ada.other@example.org").await;
    patch_me(app, &other, json!({"handle": "ada-quill"})).await.problem(409, "conflict");
    patch_me(app, &other, json!({"handle": "admin"})).await.problem(422, "invalid-input");

    holds(app, "ada.quill@example.org", &id, &badges[0], Privacy::Public).await;
    holds(app, "ada.quill@example.org", &id, &badges[1], Privacy::Unlisted).await;

    let mut visitor = Browser::new(app.router.clone());
    let page = visitor.get("/u/ada-quill").await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains("Ada Quillfeather");
    page.assert_contains(&badges[0].content.name);
    page.assert_lacks(&badges[1].content.name);
    page.assert_contains("property=\"og:title\"");
    page.assert_contains("application/ld+json");
    page.assert_contains("/u/ada-quill/qr.svg");
    page.assert_contains("/u/ada-quill/embed");
    let text = page.text();
    let start = text.find("<script type=\"application/ld+json\">").unwrap() + "<script type=\"application/ld+json\">".len();
    let end = start + text[start..].find("</script>").unwrap();
    let ld: Value = serde_json::from_str(&text[start..end]).unwrap();
    assert_eq!(ld["@type"], "Person", "{ld}");
    assert_eq!(ld["hasCredential"].as_array().unwrap().len(), 1, "only the public award: {ld}");
    assert_eq!(ld["hasCredential"][0]["@type"], "EducationalOccupationalCredential");

    let qr = visitor.get("/u/ada-quill/qr.svg").await;
    assert_eq!(qr.status, 200);
    assert!(qr.content_type().starts_with("image/svg+xml"), "{}", qr.content_type());
    assert!(qr.text().contains("<svg"));
    let embed = visitor.get("/u/ada-quill/embed").await;
    assert_eq!(embed.status, 200, "{}", embed.text());
    embed.assert_contains(&badges[0].content.name);

    // The sitemap lists the portfolio, which lists something.
    let sitemap = visitor.get("/sitemap.xml").await.text();
    assert!(sitemap.contains("/u/ada-quill</loc>"), "{sitemap}");

    // Handles are case-insensitive; unknown ones are "not found", as is a removed handle.
    assert_eq!(visitor.get("/u/ADA-QUILL").await.status, 200);
    assert_eq!(visitor.get("/u/nobody-here").await.status, 404);
    assert_eq!(visitor.get("/u/no%20way").await.status, 404);
    let removed = patch_me(app, &token, json!({"handle": null})).await.json();
    assert_eq!(removed["handle"], Value::Null);
    assert_eq!(visitor.get("/u/ada-quill").await.status, 404);
    assert!(!visitor.get("/sitemap.xml").await.text().contains("/u/ada-quill"), "nor in the sitemap");
});

backend_test!(employers_find_only_learners_who_chose_to_be_found_and_only_what_they_made_public, |app| {
    let badges = badges(app).await;
    let (employer, org) = employer(app).await;
    let (ada, ada_id) = learner(app, "Ada Quillfeather", "ada.quill@example.org", "ada-quill", true).await;
    let (_, ben_id) = learner(app, "Ben Hidden", "ben.hidden@example.org", "ben-hidden", false).await;
    let (_, cy_id) = learner(app, "Cy Private", "cy.private@example.org", "cy-private", true).await;
    let (_, dee_id) = learner(app, "Dee Second", "dee.second@example.org", "dee-second", true).await;
    holds(app, "ada.quill@example.org", &ada_id, &badges[0], Privacy::Public).await;
    holds(app, "ada.quill@example.org", &ada_id, &badges[1], Privacy::Unlisted).await;
    holds(app, "ben.hidden@example.org", &ben_id, &badges[0], Privacy::Public).await;
    holds(app, "cy.private@example.org", &cy_id, &badges[0], Privacy::Private).await;
    let dee_award = holds(app, "dee.second@example.org", &dee_id, &badges[0], Privacy::Public).await;

    // Only an employer's members may search: not visitors, learners or an issuer's staff.
    app.get("/api/v1/talent", None).await.problem(401, "unauthenticated");
    app.get("/api/v1/talent", Some(&ada)).await.problem(403, "forbidden");
    let issuer = app.issuer_token().await;
    app.get("/api/v1/talent", Some(&issuer)).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/talent?organisation={}", app.demo_organisation().await), Some(&issuer)).await.problem(403, "forbidden");

    // Everyone discoverable with a public award, and nobody else.
    let all = app.get("/api/v1/talent", Some(&employer)).await;
    assert_eq!(all.status, 200, "{}", all.text());
    let all = all.json();
    let mut found = handles(&all);
    found.sort();
    assert_eq!(found, ["ada-quill", "dee-second"], "{all}");
    assert_eq!(all["total"], 2);
    assert_eq!(all["organisation"]["id"], org.as_str());
    let ada_hit = all["items"].as_array().unwrap().iter().find(|i| i["learner"]["handle"] == "ada-quill").unwrap();
    let names: Vec<&str> = ada_hit["awards"].as_array().unwrap().iter().map(|a| a["achievement"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, [badges[0].content.name.as_str()], "only the public award: {ada_hit}");
    assert!(!all.to_string().contains("@example.org"), "no e-mail address before the learner agrees");
    let award = &ada_hit["awards"][0];
    let result = &award["results"][0];
    let criterion = result["criterion"].as_str().unwrap().to_string();
    let level = result["level"].as_u64().unwrap();
    assert!(level >= 1 && !award["competencies"].as_array().unwrap().is_empty(), "{award}");

    // Filters: words, competency, achievement with the rubric level reached, issuer, recency.
    let word = badges[0].content.name.split_whitespace().next().unwrap().to_lowercase();
    let by = |query: String| {
        let employer = employer.clone();
        async move {
            let response = app.get(&format!("/api/v1/talent?{query}"), Some(&employer)).await;
            assert_eq!(response.status, 200, "{query}: {}", response.text());
            let mut found = handles(&response.json());
            found.sort();
            found
        }
    };
    assert_eq!(by(format!("q={word}")).await, ["ada-quill", "dee-second"]);
    assert!(by("q=zzzyzzy".into()).await.is_empty());
    let code = badges[0].content.alignments[0].target_code.clone().unwrap();
    let framework = badges[0].content.alignments[0].target_framework.clone().unwrap();
    assert_eq!(by(format!("code={code}&framework={}", framework.replace(' ', "+"))).await.len(), 2);
    assert!(by(format!("code={code}&framework=Elsewhere")).await.is_empty());
    let competency_word = badges[0].content.alignments[0].target_name.split_whitespace().last().unwrap().to_string();
    assert_eq!(by(format!("competency={competency_word}")).await.len(), 2);
    let achievement = badges[0].id;
    assert_eq!(by(format!("achievement={achievement}&criterion={criterion}&min_level={level}")).await.len(), 2);
    assert!(by(format!("achievement={achievement}&criterion={criterion}&min_level={}", level + 1)).await.is_empty());
    assert_eq!(by(format!("achievement={}", badges[1].id)).await, Vec::<String>::new(), "Ada's second badge is not public");
    assert_eq!(by(format!("issuer={}&unexpired=true&recent_days=7", app.demo_organisation().await)).await.len(), 2);
    assert_eq!(by("limit=1".into()).await.len(), 1);
    for bad in ["min_level=2", "criterion=x", "achievement=nope", "unexpired=maybe", "limit=500", "recent_days=0", "organisation=nope"] {
        app.get(&format!("/api/v1/talent?{bad}"), Some(&employer)).await.problem(422, "invalid-input");
    }

    // Compare two to four discoverable learners; nobody else.
    let compared = app.get("/api/v1/talent/compare?learners=ada-quill,dee-second", Some(&employer)).await;
    assert_eq!(compared.status, 200, "{}", compared.text());
    let compared = compared.json();
    assert_eq!(handles(&compared), ["ada-quill", "dee-second"]);
    assert_eq!(compared["items"][0]["awards"].as_array().unwrap().len(), 1, "{compared}");
    app.get("/api/v1/talent/compare?learners=ada-quill", Some(&employer)).await.problem(422, "invalid-input");
    app.get("/api/v1/talent/compare?learners=ada-quill,ben-hidden", Some(&employer)).await.problem(404, "not-found");
    app.get("/api/v1/talent/compare?learners=ada-quill,dee-second", Some(&ada)).await.problem(403, "forbidden");
    let cy = app.get("/api/v1/talent/learners/cy-private", Some(&employer)).await.json();
    assert_eq!(cy["learner"]["handle"], "cy-private", "{cy}");
    assert!(cy["awards"].as_array().unwrap().is_empty(), "a private award stays private: {cy}");

    // Shortlist and a contact request the learner answers before anything is shown.
    let added = app.json("PUT", "/api/v1/talent/shortlist/ada-quill", Some(&employer), &json!({})).await;
    assert_eq!(added.status, 200, "{}", added.text());
    app.json("PUT", "/api/v1/talent/shortlist/ben-hidden", Some(&employer), &json!({})).await.problem(404, "not-found");
    let listed = app.get("/api/v1/talent/shortlist", Some(&employer)).await.json();
    assert_eq!(handles(&listed), ["ada-quill"]);
    app.json("POST", "/api/v1/talent/contact-requests", Some(&employer), &json!({"handle": "ada-quill", "message": ""})).await.problem(422, "invalid-input");
    let asked =
        app.json("POST", "/api/v1/talent/contact-requests", Some(&employer), &json!({"handle": "ada-quill", "message": "We are hiring facilitators."})).await;
    assert_eq!(asked.status, 201, "{}", asked.text());
    let asked = asked.json();
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["learner"]["email"], Value::Null);
    app.json("POST", "/api/v1/talent/contact-requests", Some(&employer), &json!({"handle": "ada-quill", "message": "Again"})).await.problem(409, "conflict");

    // The learner sees who did what, and when.
    let activity = app.get("/api/v1/me/talent-activity", Some(&ada)).await.json();
    let events: Vec<&str> = activity["items"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    for event in ["search", "view", "shortlist", "contact"] {
        assert!(events.contains(&event), "{event} in {events:?}");
    }
    assert!(activity["items"].as_array().unwrap().iter().all(|e| e["organisation"]["name"] == "Northwind Hiring" && e["at"].is_string()));
    let ben = app.token("ben.hidden@example.org", "a long enough password").await;
    assert!(app.get("/api/v1/me/talent-activity", Some(&ben)).await.json()["items"].as_array().unwrap().is_empty(), "Ben was never seen");

    let received = app.get("/api/v1/me/contact-requests", Some(&ada)).await.json();
    assert_eq!(received["items"].as_array().unwrap().len(), 1, "{received}");
    let request_id = received["items"][0]["id"].as_str().unwrap().to_string();
    cairn_app::effects::drain(&app.state.app).await;
    let notes = app.get("/api/v1/notifications", Some(&ada)).await.text();
    assert!(notes.contains("Northwind Hiring would like to contact you"), "{notes}");
    app.json("POST", &format!("/api/v1/me/contact-requests/{request_id}"), Some(&ben), &json!({"decision": "accept"})).await.problem(404, "not-found");
    app.json("POST", &format!("/api/v1/me/contact-requests/{request_id}"), Some(&ada), &json!({"decision": "maybe"})).await.problem(422, "invalid-input");
    let accepted = app.json("POST", &format!("/api/v1/me/contact-requests/{request_id}"), Some(&ada), &json!({"decision": "accept"})).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    app.json("POST", &format!("/api/v1/me/contact-requests/{request_id}"), Some(&ada), &json!({"decision": "decline"})).await.problem(409, "conflict");
    let sent = app.get("/api/v1/talent/contact-requests", Some(&employer)).await.json();
    assert_eq!(sent["items"][0]["learner"]["email"], "ada.quill@example.org", "shown once accepted: {sent}");
    cairn_app::effects::drain(&app.state.app).await;
    assert!(app.get("/api/v1/notifications", Some(&employer)).await.text().contains("accepted your contact request"));

    // Consent can be withdrawn: Ada leaves search and the shortlist; Ben, now discoverable, appears.
    patch_me(app, &ada, json!({"discoverable": false})).await.json();
    patch_me(app, &ben, json!({"discoverable": true})).await.json();
    let mut now_found = by(String::new()).await;
    now_found.sort();
    assert_eq!(now_found, ["ben-hidden", "dee-second"]);
    // Searches by award (words, issuer, achievement, both "unexpired" and "recent") follow too.
    let demo = app.demo_organisation().await;
    for query in [format!("q={word}"), format!("issuer={demo}"), format!("achievement={achievement}"), "unexpired=true&recent_days=7".into()] {
        assert_eq!(by(query.clone()).await, ["ben-hidden", "dee-second"], "{query}");
    }
    // So do an award made private, and a new handle.
    awards::set_privacy(&app.state.app, &actor(app, "dee.second@example.org").await, dee_award, Privacy::Private, true).await.unwrap();
    patch_me(app, &ben, json!({"handle": "ben-found"})).await.json();
    for query in [format!("q={word}"), format!("issuer={demo}"), String::new()] {
        assert_eq!(by(query.clone()).await, ["ben-found"], "{query}");
    }
    assert!(handles(&app.get("/api/v1/talent/shortlist", Some(&employer)).await.json()).is_empty());
    app.get("/api/v1/talent/learners/ada-quill", Some(&employer)).await.problem(404, "not-found");
    let removed = app.raw("DELETE", "/api/v1/talent/shortlist/dee-second", Some(&employer), "application/json", Vec::new()).await;
    assert_eq!(removed.status, 404, "Dee was never shortlisted: {}", removed.text());
});

backend_test!(an_organisation_stays_the_kind_it_was_created_as, |app| {
    let (employer, org) = employer(app).await;
    let body = json!({"name": "Northwind Hiring", "url": "https://northwind.example", "kind": "issuer"});
    app.json("PUT", &format!("/api/v1/organisations/{org}"), Some(&employer), &body).await.problem(422, "invalid-input");
    let kept = app
        .json("PUT", &format!("/api/v1/organisations/{org}"), Some(&employer), &json!({"name": "Northwind Talent", "url": "https://northwind.example"}))
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert_eq!(kept.json()["kind"], "employer");
    // An employer issues nothing: its owner may not author achievements there, and the pages
    // offer them no assessment.
    let badge = crate::helpers::badge_body("Hiring Badge");
    app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&employer), &badge).await.problem(403, "forbidden");
    let mut browser = Browser::signed_in(app.router.clone(), ("hira@northwind.example", "a long enough password")).await;
    let dashboard = browser.get("/dashboard").await;
    assert_eq!(dashboard.status, 200);
    let dashboard = dashboard.text();
    assert!(dashboard.contains("Sign out") && !dashboard.contains("href=\"/assess\"") && !dashboard.contains("/issuer/assessment"), "{dashboard}");
    let (token, _) = sign_up(app, "Someone Else", "someone@example.org").await;
    app.json("POST", "/api/v1/organisations", Some(&token), &json!({"name": "Odd Kind", "url": "https://odd.example", "kind": "guild"}))
        .await
        .problem(422, "invalid-input");
    let issuer = app.json("POST", "/api/v1/organisations", Some(&token), &json!({"name": "Plain Issuer", "url": "https://plain.example"})).await.json();
    assert_eq!(issuer["kind"], "issuer", "issuers stay the default");
});
