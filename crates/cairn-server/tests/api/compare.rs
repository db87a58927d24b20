//! Comparing achievements (the API and the page), the issuer's outcome figures, and what makes
//! the catalog findable: the sitemap, robots.txt and the achievement page's JSON-LD.

use crate::helpers::{Browser, TestApp, badge_body};
use crate::journey::{assessed_badge, sign_up};
use cairn_app::Clock;
use cairn_core::assessment::ScoreFields;
use cairn_core::authz::{Actor, Role};
use cairn_core::ids::{OrganisationId, SubmissionId, UserId};
use cairn_server::AppState;
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

struct Fixed(OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// Creates a micro-badge of the demo issuer from `body`, published unless `publish` is false;
/// returns its id.
async fn badge(app: &TestApp, body: Value, publish: bool) -> String {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    if publish {
        let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await;
        assert_eq!(published.status, 200, "{}", published.text());
    }
    id
}

/// The demo catalog's entries by name.
async fn demo_id(app: &TestApp, name: &str) -> String {
    let page = app.get("/api/v1/achievements?limit=100", None).await.json();
    page["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("{name} in {page}"))["id"].as_str().unwrap().to_string()
}

fn names(comparison: &Value) -> Vec<String> {
    comparison["items"].as_array().unwrap().iter().map(|i| i["achievement"]["name"].as_str().unwrap().to_string()).collect()
}

backend_test!(two_to_four_published_achievements_compare_and_anything_else_is_refused, |app| {
    let (bash, sql) = (badge(app, badge_body("Robust Bash"), true).await, demo_id(app, "Data Analysis with SQL").await);
    let owasp = demo_id(app, "Secure Coding Essentials: OWASP Top 10").await;
    let docs = demo_id(app, "Writing Clear API Documentation").await;
    let draft = badge(app, badge_body("Unfinished Draft"), false).await;
    let fifth = badge(app, badge_body("One Too Many"), true).await;

    // Two, comma-separated, in the order chosen; anyone may ask.
    let two = app.get(&format!("/api/v1/compare?achievements={bash},{sql}"), None).await;
    assert_eq!(two.status, 200, "{}", two.text());
    let two = two.json();
    assert_eq!(names(&two), ["Robust Bash", "Data Analysis with SQL"]);
    let first = &two["items"][0];
    assert_eq!(first["fee_label"], "25.00 USD");
    assert_eq!((first["effort"].as_str(), first["validity"].as_str()), (Some("4 hours"), Some("Valid for 12 months")));
    assert_eq!(first["achievement"]["rubric"]["criteria"][0]["required_level"], "Proficient");
    assert_eq!(first["achievement"]["alignments"][0]["target_code"], "SH-1");
    assert_eq!(first["outcomes"], json!({"status": "not_published"}));
    assert_eq!(two["items"][1]["fee_label"], "120.00 EUR, once for all three levels");
    assert_eq!(two["items"][1]["achievement"]["levels"].as_array().unwrap().len(), 3);

    // Four, the parameter repeated; a repeated id counts once.
    let four =
        app.get(&format!("/api/v1/compare?achievements={owasp}&achievements={bash}&achievements={docs}&achievements={sql}&achievements={bash}"), None).await;
    assert_eq!(four.status, 200, "{}", four.text());
    assert_eq!(names(&four.json()), ["Secure Coding Essentials: OWASP Top 10", "Robust Bash", "Writing Clear API Documentation", "Data Analysis with SQL"]);

    // One, five, nothing, junk, unknown and draft ids are problems, never a 500; a draft reads
    // exactly like an id that does not exist.
    let unknown = uuid::Uuid::new_v4().to_string();
    for (query, pointer, detail) in [
        (format!("achievements={bash}"), "/achievements", "choose at least 2 achievements to compare (got 1)".to_string()),
        (String::new(), "/achievements", "choose at least 2 achievements to compare (got 0)".to_string()),
        (format!("achievements={bash},{sql},{owasp},{docs},{fifth}"), "/achievements", "choose at most 4 achievements to compare (got 5)".to_string()),
        (format!("achievements={bash},not-an-id"), "/achievements/1", "\"not-an-id\" is not an achievement id".to_string()),
        (format!("achievements={bash},{unknown}"), "/achievements/1", format!("\"{unknown}\" is not a published achievement")),
        (format!("achievements={draft},{bash}"), "/achievements/0", format!("\"{draft}\" is not a published achievement")),
    ] {
        let refused = app.get(&format!("/api/v1/compare?{query}"), None).await;
        let problem = refused.problem(422, "invalid-input");
        assert_eq!(problem["errors"], json!([{"pointer": pointer, "detail": detail}]), "{query}");
    }

    // The page: one column per achievement in a labelled region that scrolls on its own.
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&format!("/compare?a={bash}&a={sql}&a={owasp}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains(r#"class="table-scroll compare-scroll" role="region" aria-labelledby="compare-caption" tabindex="0""#);
    page.assert_contains("Comparison of 3 achievements, one column each");
    for text in ["Robust Bash", "Data Analysis with SQL", "Secure Coding Essentials: OWASP Top 10", "120.00 EUR, once for all three levels", "Shell scripting"]
    {
        page.assert_contains(text);
    }
    page.assert_contains("Robustness: <span class=\"small\">at least Proficient</span>");
    page.assert_contains("Not published by the issuer");
    page.assert_contains(&format!("href=\"/compare?a={sql}&#38;a={owasp}\""));
    page.assert_contains(&format!("href=\"/catalog?a={bash}&#38;a={sql}&#38;a={owasp}\""));

    // A refused choice is a page that says why and keeps the way back.
    let one = browser.get(&format!("/compare?a={bash}")).await;
    assert_eq!(one.status, 422, "{}", one.text());
    assert!(one.content_type().starts_with("text/html"), "{}", one.content_type());
    one.assert_contains("Choose at least 2 achievements to compare (got 1).");
    one.assert_contains(&format!("href=\"/catalog?a={bash}\""));
    let hidden = browser.get(&format!("/compare?a={bash}&a={draft}")).await;
    assert_eq!(hidden.status, 422, "{}", hidden.text());
    hidden.assert_contains(&format!("{draft}&#34; is not a published achievement."));
    hidden.assert_lacks("Unfinished Draft");
    let many = browser.get(&format!("/compare?a={bash}&a={sql}&a={owasp}&a={docs}&a={fifth}")).await;
    assert_eq!(many.status, 422);
    many.assert_contains("Choose at most 4 achievements to compare (got 5).");
    let junk = browser.get("/compare?a=%3Cscript%3E&a=x").await;
    assert_eq!(junk.status, 422);
    junk.assert_lacks("<script>");

    // The catalog keeps what was chosen: ticked here, carried by the search form and the
    // compare form; the achievement page leads there.
    let catalog = browser.get(&format!("/catalog?a={bash}")).await;
    assert_eq!(catalog.status, 200, "{}", catalog.text());
    catalog.assert_contains(&format!(r#"id="compare-{bash}" name="a" value="{bash}" form="compare-form" checked"#));
    catalog.assert_contains(&format!(r#"id="compare-{sql}" name="a" value="{sql}" form="compare-form">"#));
    catalog.assert_contains(r#"<form id="compare-form" class="compare-bar" method="get" action="/compare""#);
    catalog.assert_contains("(1 chosen so far)");
    let achievement = browser.get(&format!("/achievements/{bash}")).await;
    achievement.assert_contains(&format!("href=\"/catalog?a={bash}\""));
});

/// Sends `submission` at `at` as its learner.
async fn send(state: &AppState, learner: UserId, submission: SubmissionId, at: OffsetDateTime) {
    let mut state = state.clone();
    state.app.clock = Arc::new(Fixed(at));
    cairn_app::submissions::submit(&state.app, &Actor::member(learner, vec![]), submission).await.unwrap();
}

/// Decides `submission` at `at` as the demo assessor: a pass, or a "not yet".
async fn decide(state: &AppState, assessor: (UserId, OrganisationId), submission: SubmissionId, pass: bool, at: OffsetDateTime) {
    let mut state = state.clone();
    state.app.clock = Arc::new(Fixed(at));
    let level = if pass { "3" } else { "1" };
    let scores: Vec<ScoreFields> =
        ["robustness", "tests"].into_iter().map(|criterion| ScoreFields { criterion: criterion.into(), level: level.into(), comment: String::new() }).collect();
    let actor = Actor::member(assessor.0, vec![(assessor.1, Role::Assessor)]);
    let result = cairn_app::assessment::assess(&state.app, &actor, submission, &scores, "Feedback").await.unwrap();
    assert_eq!(result.awarded, pass);
}

/// A learner's draft submission for `badge`.
async fn learner_with_draft(app: &TestApp, n: usize, badge: &str) -> (UserId, SubmissionId) {
    let (token, id) = sign_up(app, &format!("Learner {n}"), &format!("learner{n}@example.org")).await;
    let body = json!({"overview": format!("Overview {n}"), "reflection": "Reflection", "links": ["https://example.org/work"], "collaborators": []});
    let created = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&token), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    (id.parse().unwrap(), created.json()["id"].as_str().unwrap().parse().unwrap())
}

backend_test!(outcome_figures_show_once_published_and_resting_on_five_decisions, |app| {
    let (badge, issuer, _, assessor_id) = assessed_badge(app, "Measured Outcomes", None).await;
    let org = app.demo_organisation().await;
    let assessor = (assessor_id.parse::<UserId>().unwrap(), org.parse::<OrganisationId>().unwrap());
    let other = demo_id(app, "Secure Coding Essentials: OWASP Top 10").await;
    let certificate = app.get("/api/v1/achievements?kind=certificate", None).await.json()["items"][0]["id"].as_str().unwrap().to_string();
    let day = Duration::days(1);
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + day;
    let state = app.state.clone();

    // Four decisions: a "not yet" after 2 days and its resubmission passed after 1; a pass
    // after 3 days; a "not yet" after 5. One more submission waits for its decision.
    let (one, one_sub) = learner_with_draft(app, 1, &badge).await;
    send(&state, one, one_sub, start).await;
    decide(&state, assessor, one_sub, false, start + 2 * day).await;
    send(&state, one, one_sub, start + 3 * day).await;
    decide(&state, assessor, one_sub, true, start + 4 * day).await;
    let (two, two_sub) = learner_with_draft(app, 2, &badge).await;
    send(&state, two, two_sub, start).await;
    decide(&state, assessor, two_sub, true, start + 3 * day).await;
    let (three, three_sub) = learner_with_draft(app, 3, &badge).await;
    send(&state, three, three_sub, start).await;
    decide(&state, assessor, three_sub, false, start + 5 * day).await;
    let (waiting, waiting_sub) = learner_with_draft(app, 5, &badge).await;
    send(&state, waiting, waiting_sub, start).await;

    // Hidden until the issuer publishes them: in the API, the comparison and the page.
    let comparison = format!("/api/v1/compare?achievements={badge},{other},{certificate}");
    assert_eq!(app.get(&comparison, None).await.json()["items"][0]["outcomes"], json!({"status": "not_published"}));
    let mut browser = Browser::new(app.router.clone());
    browser.get(&format!("/achievements/{badge}")).await.assert_lacks("Pass rate");

    let settings = json!({"service_days": 14, "nearly_due_days": 2, "attempt_limit": 3, "publish_outcomes": true});
    let saved = app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(&issuer), &settings).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["publish_outcomes"], true);

    // Published, but four decisions are too few to show.
    let items = app.get(&comparison, None).await.json()["items"].clone();
    assert_eq!(items[0]["outcomes"], json!({"status": "too_few_decisions", "decisions": 4, "minimum_decisions": 5}));
    assert_eq!(items[2]["outcomes"], json!({"status": "not_assessed"}), "a certificate is awarded on its components");
    let page = browser.get(&format!("/achievements/{badge}")).await;
    page.assert_contains("Not enough decisions yet (4 so far; figures show from 5)");

    // The fifth decision: a pass after 4 days. Decisions took 2, 1, 3, 5 and 4 days: the median
    // is 3. Four submissions are decided (the waiting one is not), three of them awarded.
    let (four, four_sub) = learner_with_draft(app, 4, &badge).await;
    send(&state, four, four_sub, start).await;
    decide(&state, assessor, four_sub, true, start + 4 * day).await;
    let items = app.get(&comparison, None).await.json()["items"].clone();
    assert_eq!(
        items[0]["outcomes"],
        json!({"status": "published", "decisions": 5, "decided_submissions": 4, "awarded": 3, "pass_rate_percent": 75,
            "median_decision_seconds": 3 * 86_400, "median_decision_days": 3.0, "median_decision_text": "3 calendar days"})
    );
    let page = browser.get(&format!("/achievements/{badge}")).await;
    page.assert_contains("75% (3 of 4 decided submissions awarded)");
    page.assert_contains("3 calendar days");
    page.assert_contains("based on 5 decisions");
    let side_by_side = browser.get(&format!("/compare?a={badge}&a={other}")).await;
    side_by_side.assert_contains("75% (3 of 4 decided submissions awarded)");
    side_by_side.assert_contains("Based on 5 decisions");

    // The issuer can turn them off again from its settings page.
    let mut staff = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let dashboard = staff.get(&format!("/issuers/{org}/assessment")).await;
    dashboard.assert_contains(r#"id="publish_outcomes" name="publish_outcomes" value="on" checked"#);
    let saved = staff.post(&format!("/issuers/{org}/assessment/settings"), &[("service_days", "14"), ("nearly_due_days", "2"), ("attempt_limit", "3")]).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(app.get(&comparison, None).await.json()["items"][0]["outcomes"], json!({"status": "not_published"}));
    browser.get(&format!("/achievements/{badge}")).await.assert_lacks("75%");
});

backend_test!(the_sitemap_lists_published_pages_and_robots_names_it, |app| {
    let published = badge(app, badge_body("Listed Badge"), true).await;
    let draft = badge(app, badge_body("Draft Badge"), false).await;
    let retired = badge(app, badge_body("Retired Badge"), true).await;
    let issuer = app.issuer_token().await;
    assert_eq!(app.json("POST", &format!("/api/v1/achievements/{retired}/retire"), Some(&issuer), &json!({})).await.status, 200);
    let sql = demo_id(app, "Data Analysis with SQL").await;
    let levels = app.get(&format!("/api/v1/achievements/{sql}"), None).await.json()["levels"].clone();

    let response = app.get("/sitemap.xml", None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.content_type(), "application/xml; charset=utf-8");
    let text = response.text();
    let xml = roxmltree::Document::parse(&text).expect("the sitemap is well-formed XML");
    let root = xml.root_element();
    assert_eq!((root.tag_name().name(), root.tag_name().namespace()), ("urlset", Some("http://www.sitemaps.org/schemas/sitemap/0.9")));
    let mut locations = Vec::new();
    for url in root.children().filter(|n| n.is_element()) {
        assert_eq!(url.tag_name().name(), "url");
        let child = |name: &str| url.children().find(|n| n.tag_name().name() == name).and_then(|n| n.text()).map(str::to_string);
        let lastmod = child("lastmod").expect("every entry has a lastmod");
        assert!(cairn_vc::dates::parse_rfc3339(&lastmod).is_some(), "{lastmod}");
        locations.push(child("loc").expect("every entry has a loc"));
    }
    let base = "http://127.0.0.1:8080";
    assert_eq!(locations[0], format!("{base}/catalog"));
    for id in [published.as_str(), sql.as_str(), levels[0].as_str().unwrap()] {
        assert!(locations.contains(&format!("{base}/achievements/{id}")), "{id} in {locations:?}");
    }
    for id in [&draft, &retired] {
        assert!(!text.contains(id.as_str()), "{id} must not be listed");
    }
    let catalog = app.get("/api/v1/achievements", None).await.json()["total"].as_u64().unwrap();
    assert!(locations.len() as u64 > catalog, "the catalog, every catalog entry and the levels");

    let robots = app.get("/robots.txt", None).await;
    assert_eq!(robots.status, 200);
    assert!(robots.content_type().starts_with("text/plain"));
    assert!(robots.text().lines().any(|line| line == format!("Sitemap: {base}/sitemap.xml")), "{}", robots.text());
});

/// The JSON-LD of an achievement page, parsed.
fn json_ld(page: &str) -> Value {
    let start = page.find(r#"<script type="application/ld+json">"#).expect("a JSON-LD script") + r#"<script type="application/ld+json">"#.len();
    let end = start + page[start..].find("</script>").expect("the script ends");
    serde_json::from_str(&page[start..end]).expect("the JSON-LD parses")
}

backend_test!(achievement_pages_describe_themselves_for_search_engines, |app| {
    let mut body = badge_body("Shell </script><script>alert(1)</script> & Friends");
    body["alignments"][0]["target_framework"] = json!("Skills <Framework>");
    body["credits_available"] = json!(1.5);
    let id = badge(app, body, true).await;
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&format!("/achievements/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let text = page.text();
    assert_eq!(text.matches("</script>").count(), 2, "the JSON-LD's own end tag and cairn.js's, nothing from the name");
    assert!(!text.contains("<script>alert"), "the name cannot open a script");
    // The policy stays as strict as ever: a JSON-LD block is data, never run.
    assert_eq!(page.header(axum::http::header::CONTENT_SECURITY_POLICY), cairn_server_policy());

    let ld = json_ld(&text);
    let url = format!("http://127.0.0.1:8080/achievements/{id}");
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "EducationalOccupationalCredential");
    assert_eq!(ld["name"], "Shell </script><script>alert(1)</script> & Friends");
    assert_eq!(ld["description"], "Write a bash script that survives bad input.");
    assert_eq!(ld["url"], url.as_str());
    assert_eq!(ld["credentialCategory"], "badge");
    assert_eq!(ld["validFor"], "P12M");
    assert_eq!(
        ld["competencyRequired"],
        json!([{"@type": "DefinedTerm", "name": "Shell scripting", "url": "https://example.org/skills/shell", "termCode": "SH-1", "inDefinedTermSet": "Skills <Framework>"}])
    );
    assert_eq!(ld["recognizedBy"]["@type"], "Organization");
    assert_eq!(ld["recognizedBy"]["name"], "Northbridge Institute of Technology");
    assert_eq!(ld["offers"], json!({"@type": "Offer", "price": "25.00", "priceCurrency": "USD", "description": "25.00 USD"}));
    assert_eq!(ld["educationalCredentialAwarded"], "1.5 credit hours");
    // Open Graph, for link previews.
    page.assert_contains(&format!(r#"<meta property="og:url" content="{url}">"#));
    page.assert_contains(r#"<meta property="og:type" content="website">"#);

    // A level names its place; a certificate is one; a free achievement costs 0.
    let sql = demo_id(app, "Data Analysis with SQL").await;
    let level = app.get(&format!("/api/v1/achievements/{sql}"), None).await.json()["levels"][1].as_str().unwrap().to_string();
    let level_ld = json_ld(&browser.get(&format!("/achievements/{level}")).await.text());
    assert_eq!(level_ld["educationalLevel"], "Level 2: Practice");
    let certificate = app.get("/api/v1/achievements?kind=certificate", None).await.json()["items"][0]["id"].as_str().unwrap().to_string();
    let certificate_ld = json_ld(&browser.get(&format!("/achievements/{certificate}")).await.text());
    assert_eq!(certificate_ld["credentialCategory"], "certificate");
    let docs = demo_id(app, "Writing Clear API Documentation").await;
    let free_ld = json_ld(&browser.get(&format!("/achievements/{docs}")).await.text());
    assert_eq!(free_ld["offers"]["price"], "0");
});

/// The page policy, as the server sets it.
fn cairn_server_policy() -> &'static str {
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}
