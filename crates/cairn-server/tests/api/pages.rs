//! Page handlers driven through the whole application with a browser-like client that keeps
//! cookies, on each database seeded with the demo catalog.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::authz::Actor;
use cairn_core::ids::OrganisationId;
use cairn_store::CatalogQuery;

use crate::helpers::{Browser, HTML, TestApp};

const OWNER_EMAIL: &str = "issuer@demo.cairn.test";
const OWNER_PASSWORD: &str = "cairn-demo-issuer";
const LEARNER_EMAIL: &str = "learner@demo.cairn.test";
const LEARNER_PASSWORD: &str = "cairn-demo-learner";

async fn organisation(app: &TestApp) -> OrganisationId {
    app.state.app.store.organisation_by_name("Northbridge Institute of Technology").await.unwrap().unwrap().id
}

/// The published demo achievement whose name contains `name`.
async fn published(app: &TestApp, name: &str) -> Achievement {
    let page = app.state.app.store.search_catalog(&CatalogQuery { limit: 100, ..Default::default() }).await.unwrap();
    page.items.into_iter().find(|a| a.content.name.contains(name)).unwrap_or_else(|| panic!("no published {name}"))
}

async fn owner_actor(app: &TestApp) -> Actor {
    let owner = app.state.app.store.user_by_email(&Email::parse(OWNER_EMAIL).unwrap()).await.unwrap().unwrap();
    Actor::member(owner.id, app.state.app.store.memberships(owner.id).await.unwrap())
}

// ---------------------------------------------------------------------------------------------
// Public pages

backend_test!(the_home_page_introduces_cairn_and_links_to_the_catalog, |app| {
    let page = Browser::new(app.router.clone()).get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("<html lang=\"en\">");
    page.assert_contains("href=\"/catalog\"");
    page.assert_contains("action=\"/catalog\"");
    page.assert_contains("<meta name=\"description\"");
    page.assert_contains("Secure Coding Essentials");
    page.assert_contains("Sign up");
});

backend_test!(the_catalog_lists_the_demo_items_and_filters_by_kind, |app| {
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get("/catalog").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("<form id=\"catalog-search\" class=\"catalog-search\" method=\"get\" action=\"/catalog\"");
    page.assert_contains("<label for=\"q\">Search</label>");
    page.assert_contains("id=\"results\"");
    page.assert_contains("class=\"achievement-card\"");
    page.assert_contains("Data Analysis with SQL");
    page.assert_contains("Secure Coding Essentials");
    page.assert_contains("49.00 EUR");
    page.assert_contains("Free");
    page.assert_contains("Northbridge Institute of Technology");
    assert!(!page.text().contains("SQL Foundations"), "levels are not catalog entries");

    let page = browser.get("/catalog?kind=micro-credential").await;
    page.assert_contains("Data Analysis with SQL");
    assert!(!page.text().contains("Secure Coding Essentials"));
    assert_eq!(page.text().matches("class=\"achievement-card\"").count(), 1);

    let page = browser.get("/catalog?kind=micro-badge&fee=paid").await;
    page.assert_contains("Secure Coding Essentials");
    assert!(!page.text().contains("Data Analysis with SQL"));
});

backend_test!(search_finds_owasp, |app| {
    let page = Browser::new(app.router.clone()).get("/catalog?q=OWASP").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("class=\"achievement-link\"");
    page.assert_contains("Secure Coding Essentials: OWASP Top 10</a>");
    page.assert_contains("value=\"OWASP\"");
    assert!(!page.text().contains("Data Analysis with SQL</a>"));
});

backend_test!(an_empty_search_shows_the_empty_state_and_no_cards, |app| {
    let page = Browser::new(app.router.clone()).get("/catalog?q=zzzznotfound").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("class=\"empty-state\"");
    assert!(!page.text().contains("achievement-card"));
});

backend_test!(unknown_filter_values_are_ignored_with_a_notice, |app| {
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get("/catalog?issuer=not-a-uuid&kind=badge&fee=cheap&page=zero").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("were not understood and were ignored");
    page.assert_contains("Secure Coding Essentials");
    let organisation = organisation(app).await;
    let page = browser.get(&format!("/catalog?issuer={organisation}")).await;
    page.assert_contains("selected>Northbridge Institute of Technology</option>");
    // Notices come from a fixed list: arbitrary text is never echoed, from a URL or a cookie.
    let page = browser.get("/catalog?notice=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert!(!page.text().contains("alert(1)"));
    browser.cookies.insert("cairn_notice".into(), "%3Cscript%3Ealert(2)".into());
    let page = browser.get("/catalog").await;
    assert!(!page.text().contains("alert(2)") && !page.text().contains("class=\"notice\""));
});

backend_test!(the_achievement_page_shows_the_public_rubric_and_facts, |app| {
    let achievement = published(app, "Secure Coding Essentials").await;
    let page = Browser::new(app.router.clone()).get(&format!("/achievements/{}", achievement.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("<h1 id=\"achievement-title\">Secure Coding Essentials: OWASP Top 10</h1>");
    page.assert_contains("<table class=\"rubric\">");
    page.assert_contains("<th scope=\"col\">Criterion</th>");
    page.assert_contains("<th scope=\"col\">Proficient</th>");
    page.assert_contains("Required to pass");
    page.assert_contains("Fixing");
    page.assert_contains("49.00 EUR");
    page.assert_contains("class=\"alignments\"");
    page.assert_contains("rel=\"noopener\"");
    page.assert_contains(&format!("<meta property=\"og:image\" content=\"http://127.0.0.1:8080/achievements/{}/image\">", achievement.id));
    page.assert_contains(&format!("href=\"/issuers/{}\"", achievement.organisation));
    let rubric = achievement.content.rubric.as_ref().unwrap();
    // Once in the table and once in the narrow-screen cards (the `rubric_table` macro).
    assert_eq!(page.text().matches("Required to pass</span>").count(), 2 * rubric.criteria.len());
    assert_eq!(page.text().matches("<li class=\"rubric-card\">").count(), rubric.criteria.len());
    // Visitors see no member controls.
    assert!(!page.text().contains("/publish\""));
    assert!(!page.text().contains("Version 1"));
});

backend_test!(a_micro_credential_lists_its_three_levels_in_order, |app| {
    let credential = published(app, "Data Analysis with SQL").await;
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get(&format!("/achievements/{}", credential.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("<section id=\"levels\"");
    let positions: Vec<usize> = ["Level 1: Foundations", "Level 2: Practice", "Level 3: Real-world application"]
        .iter()
        .map(|t| page.text().find(t).unwrap_or_else(|| panic!("{t} missing")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "levels out of order");
    let levels = app.state.app.store.levels(credential.id).await.unwrap();
    let level = browser.get(&format!("/achievements/{}", levels[1].id)).await;
    assert_eq!(level.status, StatusCode::OK);
    level.assert_contains("Part of <a href=\"");
    level.assert_contains(&format!("/achievements/{}\">Data Analysis with SQL</a>", credential.id));
    level.assert_contains("<table class=\"rubric\">");
});

backend_test!(a_draft_is_not_found_for_visitors_but_shown_to_members, |app| {
    let organisation = organisation(app).await;
    let mut fields = cairn_core::demo::micro_badges().remove(0);
    fields.content.name = "A Draft Badge".into();
    let draft = cairn_app::achievements::create(&app.state.app, &owner_actor(app).await, organisation, &fields).await.unwrap();

    let mut visitor = Browser::new(app.router.clone());
    let page = visitor.get(&format!("/achievements/{}", draft.id)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    page.assert_contains("Not found");
    assert!(!page.text().contains("A Draft Badge"));
    assert_eq!(visitor.get("/achievements/not-an-id").await.status, StatusCode::NOT_FOUND);

    let mut learner = Browser::new(app.router.clone());
    learner.log_in((LEARNER_EMAIL, LEARNER_PASSWORD)).await;
    assert_eq!(learner.get(&format!("/achievements/{}", draft.id)).await.status, StatusCode::NOT_FOUND);

    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let page = owner.get(&format!("/achievements/{}", draft.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Draft</span>");
    page.assert_contains(&format!("action=\"/achievements/{}/publish\"", draft.id));
    page.assert_contains(&format!("href=\"/achievements/{}/edit\"", draft.id));
});

backend_test!(the_issuer_profile_shows_its_achievements_and_dids, |app| {
    let organisation = organisation(app).await;
    let page = Browser::new(app.router.clone()).get(&format!("/issuers/{organisation}")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("<h1>Northbridge Institute of Technology</h1>");
    page.assert_contains(&format!("did:web:127.0.0.1%3A8080:issuers:{organisation}"));
    page.assert_contains(&format!("href=\"/issuers/{organisation}/did.json\""));
    page.assert_contains("did:key:z6Mk");
    page.assert_contains("Secure Coding Essentials");
    assert!(!page.text().contains("/manage\""), "visitors get no manage link");
});

backend_test!(every_problem_type_has_a_page, |app| {
    let mut browser = Browser::new(app.router.clone());
    for problem in cairn_server::problem::PROBLEM_TYPES {
        let page = browser.get(&format!("/problems/{}", problem.slug)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", problem.slug);
        page.assert_contains(&format!("<h1>{}</h1>", problem.title));
        page.assert_contains(&problem.status.to_string());
    }
    let index = browser.get("/problems").await;
    assert_eq!(index.text().matches("href=\"/problems/").count(), cairn_server::problem::PROBLEM_TYPES.len());
    assert_eq!(browser.get("/problems/no-such-slug").await.status, StatusCode::NOT_FOUND);
});

backend_test!(static_files_are_served_with_their_type_and_caching, |app| {
    let mut browser = Browser::new(app.router.clone());
    for (path, media_type) in [("/static/cairn.css", "text/css"), ("/static/cairn.js", "text/javascript"), ("/static/cairn-logo.svg", "image/svg+xml")] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(media_type), "{path}");
        assert_eq!(page.headers[header::CACHE_CONTROL], "public, max-age=3600");
    }
    assert_eq!(browser.get("/static/missing.css").await.status, StatusCode::NOT_FOUND);
});

// ---------------------------------------------------------------------------------------------
// Accounts

backend_test!(signing_up_sends_the_browser_to_sign_in_then_the_dashboard, |app| {
    let mut browser = Browser::new(app.router.clone());
    assert_eq!(browser.get("/signup").await.status, StatusCode::OK);
    let page = browser.post("/signup", &[("name", "Ada Lovelace"), ("email", "ada@example.org"), ("password", "analytical engine")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    page.assert_redirect_with("/login", "signed-up");
    assert!(!browser.cookies.contains_key("cairn_session"), "signing up starts no session");
    let form = browser.get(page.location()).await;
    form.assert_contains("If that e-mail address was new to Cairn, your account is ready");
    let page = browser.post("/login", &[("email", "ada@example.org"), ("password", "analytical engine")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/dashboard"));
    let cookie = page.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("cairn_session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains(&format!("Max-Age={}", 24 * 14 * 3600)), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: no Secure, no __Host- prefix");
    let dashboard = browser.get(page.location()).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    dashboard.assert_contains("Hello, Ada Lovelace");
    dashboard.assert_contains("href=\"/issuers/new\"");
    dashboard.assert_contains("href=\"/account/tokens\"");
    dashboard.assert_contains("Sign out");

    let page = browser.post("/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("cairn_session"));
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
});

backend_test!(sign_up_errors_are_shown_next_to_the_fields_and_keep_the_values, |app| {
    let mut browser = Browser::new(app.router.clone());
    let page = browser.post("/signup", &[("name", "Ada <b>"), ("email", "not-an-address"), ("password", "short")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("role=\"alert\"");
    page.assert_contains("href=\"#email\"");
    page.assert_contains("id=\"password-error\"");
    page.assert_contains("value=\"Ada &#60;b&#62;\"");
    page.assert_contains("value=\"not-an-address\"");
    assert!(!page.text().contains("value=\"short\""), "the password is never echoed");
    // An address already in use gets the same answer as a new one: nothing tells them apart.
    let taken = browser.post("/signup", &[("name", "Someone"), ("email", LEARNER_EMAIL), ("password", "long enough password")]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    taken.assert_redirect_with("/login", "signed-up");
});

backend_test!(anonymous_visitors_are_sent_to_sign_in_and_back, |app| {
    let mut browser = Browser::new(app.router.clone());
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=/dashboard");
    let form = browser.get(page.location()).await;
    form.assert_contains("name=\"next\" value=\"/dashboard\"");
    let page = browser.post("/login", &[("email", LEARNER_EMAIL), ("password", LEARNER_PASSWORD), ("next", "/account/tokens")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/account/tokens");
    // Only local paths are followed.
    let mut other = Browser::new(app.router.clone());
    let page = other.post("/login", &[("email", LEARNER_EMAIL), ("password", LEARNER_PASSWORD), ("next", "//evil.example/")]).await;
    assert!(page.location().starts_with("/dashboard"), "{}", page.location());
});

backend_test!(a_wrong_password_gets_one_generic_message, |app| {
    let mut browser = Browser::new(app.router.clone());
    let wrong_password = browser.post("/login", &[("email", LEARNER_EMAIL), ("password", "not the password")]).await;
    let unknown_email = browser.post("/login", &[("email", "nobody@example.org"), ("password", "not the password")]).await;
    for page in [&wrong_password, &unknown_email] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        page.assert_contains("do not match an account");
        assert!(!page.text().contains("not the password"));
    }
    wrong_password.assert_contains(&format!("value=\"{LEARNER_EMAIL}\""));
    assert!(!browser.cookies.contains_key("cairn_session"));
    let blank = browser.post("/login", &[("email", ""), ("password", "")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
});

backend_test!(forms_without_the_right_csrf_token_are_refused_and_change_nothing, |app| {
    let mut browser = Browser::new(app.router.clone());
    browser.get("/signup").await;
    let fields = [("name", "Mallory"), ("email", "mallory@example.org"), ("password", "a long password")];
    let page = browser.post_raw_as("/signup", &fields, HTML).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    page.assert_contains("Form expired");
    let mut with_wrong = vec![("csrf", "wrong-token-wrong-token")];
    with_wrong.extend_from_slice(&fields);
    assert_eq!(browser.post_raw_as("/signup", &with_wrong, HTML).await.status, StatusCode::FORBIDDEN);
    assert!(app.state.app.store.user_by_email(&Email::parse("mallory@example.org").unwrap()).await.unwrap().is_none());

    // A signed-in owner's publish and retire buttons need the token too.
    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let badge = published(app, "Secure Coding Essentials").await;
    let page = owner.post_raw_as(&format!("/achievements/{}/retire", badge.id), &[("csrf", "nope-nope-nope-nope")], HTML).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.state.app.store.achievement(badge.id).await.unwrap().state, cairn_core::achievement::State::Published);
});

backend_test!(api_tokens_are_created_shown_once_and_revoked, |app| {
    let mut browser = Browser::new(app.router.clone());
    assert_eq!(browser.get("/account/tokens").await.location(), "/login?next=/account/tokens");
    browser.log_in((LEARNER_EMAIL, LEARNER_PASSWORD)).await;
    let page = browser.get("/account/tokens").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("You have no API tokens");

    let page = browser.post("/account/tokens", &[("name", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("id=\"name-error\"");

    let page = browser.post("/account/tokens", &[("name", "CI publishing")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    page.assert_contains("value=\"cairn_");
    page.assert_contains("shown only once");
    let secret_start = page.text().find("value=\"cairn_").unwrap() + "value=\"".len();
    let secret: String = page.text()[secret_start..].chars().take_while(|c| *c != '"').collect();

    let page = browser.get("/account/tokens").await;
    page.assert_contains("CI publishing");
    assert!(!page.text().contains(&secret), "the secret is shown only once");
    let action_start = page.text().find("action=\"/account/tokens/").unwrap() + "action=\"".len();
    let action: String = page.text()[action_start..].chars().take_while(|c| *c != '"').collect();
    let page = browser.post(&action, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    browser.get("/account/tokens").await.assert_contains("Revoked");
});

// ---------------------------------------------------------------------------------------------
// Issuers and authoring

/// A valid micro-badge form with one criterion in columns 1 and 3 (column 2 left empty).
fn badge_form(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("description", "Write joins that answer business questions".into()),
        ("criteria", "Submit **three** queries with their results.".into()),
        ("tags", "sql, joins".into()),
        ("language", "en".into()),
        ("effort_hours", "6".into()),
        ("fee_amount", "25".into()),
        ("fee_currency", "eur".into()),
        ("validity_months", "24".into()),
        ("alignment_0_target_name", "Use SQL".into()),
        ("alignment_0_target_url", "https://example.org/sql".into()),
        ("alignment_0_target_type", "ceasn:Competency".into()),
        ("level_0", "Developing".into()),
        ("level_1", "".into()),
        ("level_2", "Proficient".into()),
        ("criterion_0_name", "Correctness".into()),
        ("criterion_0_required_level", "3".into()),
        ("criterion_0_descriptor_0", "Some results are wrong".into()),
        ("criterion_0_descriptor_2", "All results are right".into()),
        ("criterion_1_name", "".into()),
        ("criterion_1_required_level", "3".into()),
    ]
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

backend_test!(the_authoring_form_shows_every_error_in_place_and_creates_on_good_input, |app| {
    let organisation = organisation(app).await;
    let mut owner = Browser::new(app.router.clone());
    let path = format!("/issuers/{organisation}/achievements/new");
    assert_eq!(owner.get(&format!("{path}?kind=micro-badge")).await.status, StatusCode::SEE_OTHER);
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let page = owner.get(&format!("{path}?kind=micro-badge")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("id=\"criterion_7_descriptor_5\"");
    page.assert_contains("id=\"alignment_2_target_url\"");
    page.assert_contains("value=\"Proficient\"");

    let mut bad = badge_form("");
    bad.retain(|(k, _)| *k != "criterion_0_descriptor_2");
    bad.push(("criterion_0_descriptor_2", String::new()));
    bad.push(("effort_hours", "a while".into()));
    bad.retain(|(k, v)| !(*k == "effort_hours" && v == "6"));
    bad.push(("alignment_1_target_name", "No URL".into()));
    let mut form = pairs(&bad);
    form.push(("kind", "micro-badge"));
    let page = owner.post(&path, &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("class=\"error-summary\" role=\"alert\"");
    page.assert_contains("href=\"#name\"");
    page.assert_contains("id=\"name-error\"");
    page.assert_contains("href=\"#criterion_0_descriptor_2\"");
    page.assert_contains("id=\"criterion_0_descriptor_2-error\"");
    page.assert_contains("id=\"alignment_1_target_url-error\"");
    page.assert_contains("is not a number of hours");
    page.assert_contains("value=\"a while\"");
    page.assert_contains("Some results are wrong</textarea>");
    assert_eq!(app.state.app.store.organisation_achievements(organisation).await.unwrap().len(), 8, "nothing was created");

    let good = badge_form("SQL Joins in Practice");
    let mut form = pairs(&good);
    form.push(("kind", "micro-badge"));
    let page = owner.post(&path, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.set_cookie("cairn_notice").as_deref(), Some("created"));
    let created = owner.get(page.location()).await;
    assert_eq!(created.status, StatusCode::OK);
    created.assert_contains("Created. It is a draft");
    created.assert_contains("<th scope=\"col\">Developing</th>");
    created.assert_contains("25.00 EUR");
    created.assert_contains("Valid for 24 months");
    created.assert_contains("<strong>three</strong>");
    let achievement =
        app.state.app.store.organisation_achievements(organisation).await.unwrap().into_iter().find(|a| a.content.name == "SQL Joins in Practice").unwrap();
    let rubric = achievement.content.rubric.unwrap();
    assert_eq!(rubric.levels, ["Developing", "Proficient"]);
    assert_eq!(rubric.criteria[0].required_level, 1);
});

backend_test!(a_micro_credential_is_created_with_three_levels_from_one_form, |app| {
    let organisation = organisation(app).await;
    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let path = format!("/issuers/{organisation}/achievements/new");
    let page = owner.get(&format!("{path}?kind=micro-credential")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Level 1: Foundations");
    page.assert_contains("id=\"level3_criterion_0_name\"");
    assert!(!page.text().contains("id=\"criterion_0_name\""), "the credential itself has no rubric grid");

    let mut form: Vec<(String, String)> = vec![
        ("kind".into(), "micro-credential".into()),
        ("name".into(), "Cloud Operations".into()),
        ("description".into(), "Run services in the cloud".into()),
        ("criteria".into(), "Hold all three levels.".into()),
    ];
    for n in 1..=3 {
        let p = format!("level{n}_");
        for (k, v) in [
            ("name", format!("Cloud Operations {n}")),
            ("description", format!("Level {n} work")),
            ("criteria", "Submit a runbook.".to_string()),
            ("level_0", "Developing".into()),
            ("level_1", "Proficient".into()),
            ("criterion_0_name", "Runbook".into()),
            ("criterion_0_required_level", "2".into()),
            ("criterion_0_descriptor_0", "Gaps".into()),
            ("criterion_0_descriptor_1", "Complete".into()),
        ] {
            form.push((format!("{p}{k}"), v));
        }
    }
    // Level 2 forgets its name: the error lands on that level's field.
    form.retain(|(k, _)| k != "level2_name");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = owner.post(&path, &refs).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("href=\"#level2_name\"");
    page.assert_contains("id=\"level2_name-error\"");
    page.assert_contains("value=\"Cloud Operations 3\"");

    form.push(("level2_name".into(), "Cloud Operations 2".into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = owner.post(&path, &refs).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let credential = owner.get(page.location()).await;
    credential.assert_contains("<section id=\"levels\"");
    credential.assert_contains("Cloud Operations 2");
});

backend_test!(editing_publishing_and_retiring_through_the_pages, |app| {
    let organisation = organisation(app).await;
    let badge = published(app, "Secure Coding Essentials").await;
    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;

    let edit_path = format!("/achievements/{}/edit", badge.id);
    let page = owner.get(&edit_path).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("value=\"Secure Coding Essentials: OWASP Top 10\"");
    page.assert_contains("Saving creates version 2");
    page.assert_contains("PNG or SVG, up to 2 MB");

    // Submitting the form as rendered changes nothing.
    let values = form_values(&page.text());
    let refs: Vec<(&str, &str)> = values.iter().filter(|(k, _)| k != "csrf").map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = owner.post(&edit_path, &refs).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.set_cookie("cairn_notice").as_deref(), Some("unchanged"), "{}", page.location());
    assert_eq!(app.state.app.store.achievement(badge.id).await.unwrap().version, 1);

    let mut changed: Vec<(&str, &str)> = refs.iter().filter(|(k, _)| *k != "name").copied().collect();
    changed.push(("name", "Secure Coding Essentials (2025)"));
    let page = owner.post(&edit_path, &changed).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let stored = app.state.app.store.achievement(badge.id).await.unwrap();
    assert_eq!((stored.version, stored.content.name.as_str()), (2, "Secure Coding Essentials (2025)"));

    let page =
        owner.post(&format!("/achievements/{}/retire", badge.id), &[("return_to", &format!("/issuers/{organisation}/manage")), ("confirmed", "yes")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    page.assert_redirect_with(&format!("/issuers/{organisation}/manage"), "retired");
    let manage = owner.get(page.location()).await;
    manage.assert_contains("Retired</span>");
    let retired = Browser::new(app.router.clone()).get(&format!("/achievements/{}", badge.id)).await;
    assert_eq!(retired.status, StatusCode::OK, "awards still point to retired achievements");
    retired.assert_contains("has been retired");
    assert_eq!(owner.get(&edit_path).await.status, StatusCode::OK);
    let page = owner.post(&format!("/achievements/{}/publish", badge.id), &[]).await;
    page.assert_redirect_with(&format!("/achievements/{}", badge.id), "published");
    // Publishing twice is a conflict, shown as a problem page.
    let page = owner.post(&format!("/achievements/{}/publish", badge.id), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);

    // A learner may not edit.
    let mut learner = Browser::new(app.router.clone());
    learner.log_in((LEARNER_EMAIL, LEARNER_PASSWORD)).await;
    assert_eq!(learner.get(&edit_path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(learner.post(&edit_path, &changed).await.status, StatusCode::FORBIDDEN);
});

/// The name/value pairs of the first POST form's inputs, textareas and selected options.
fn form_values(html: &str) -> Vec<(String, String)> {
    let start = html.find("<form method=\"post\" action=\"/achievements/").expect("an authoring form");
    let end = html[start..].find("</form>").map(|e| start + e).unwrap_or(html.len());
    let form = &html[start..end];
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let needle = format!(" {name}=\"");
        let at = tag.find(&needle)? + needle.len();
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let mut values = Vec::new();
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let close = rest.find('>').unwrap_or(rest.len() - 1);
        let tag = &rest[..=close];
        if tag.starts_with("<input") {
            if let Some(name) = attribute(tag, "name") {
                values.push((name, attribute(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<textarea") {
            let name = attribute(tag, "name").unwrap_or_default();
            let body_end = rest.find("</textarea>").unwrap_or(close);
            values.push((name, unescape(&rest[close + 1..body_end])));
        } else if tag.starts_with("<select") {
            let name = attribute(tag, "name").unwrap_or_default();
            let select_end = rest.find("</select>").unwrap_or(rest.len());
            let options = &rest[..select_end];
            let selected = options.split("<option").skip(1).find(|o| o.contains(" selected>")).and_then(|o| attribute(o, "value")).unwrap_or_default();
            values.push((name, selected));
        }
        rest = &rest[close + 1..];
    }
    values
}

fn unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

backend_test!(the_manage_page_is_for_members_and_shows_controls_by_role, |app| {
    let organisation = organisation(app).await;
    let manage = format!("/issuers/{organisation}/manage");

    let mut visitor = Browser::new(app.router.clone());
    assert!(visitor.get(&manage).await.location().starts_with("/login?next="));
    let mut learner = Browser::new(app.router.clone());
    learner.log_in((LEARNER_EMAIL, LEARNER_PASSWORD)).await;
    assert_eq!(learner.get(&manage).await.status, StatusCode::FORBIDDEN);

    let mut assessor = Browser::new(app.router.clone());
    assessor.log_in(("assessor@demo.cairn.test", "cairn-demo-assessor")).await;
    let page = assessor.get(&manage).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Data Analysis with SQL");
    assert!(!page.text().contains("New micro-badge"), "assessors do not author");
    assert!(!page.text().contains("Add a member"));
    assert!(!page.text().contains("Save profile"));

    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let page = owner.get(&manage).await;
    page.assert_contains("New micro-credential");
    page.assert_contains("Add a member");
    page.assert_contains("enctype=\"multipart/form-data\"");

    // Adding an unknown e-mail is a field error; a known one works; the learner becomes staff.
    let page = owner.post(&format!("/issuers/{organisation}/members"), &[("email", "nobody@example.org"), ("role", "staff")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("id=\"member_email-error\"");
    let page = owner.post(&format!("/issuers/{organisation}/members"), &[("email", LEARNER_EMAIL), ("role", "staff")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = learner.get(&manage).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("New micro-badge");

    // Profile edits re-render with errors, and save when valid.
    let page = owner.post(&format!("/issuers/{organisation}/profile"), &[("name", "N"), ("url", "ftp://x"), ("email", ""), ("description", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("id=\"url-error\"");
    let page = owner
        .post(
            &format!("/issuers/{organisation}/profile"),
            &[("name", "Northbridge Institute"), ("url", "https://northbridge.example.edu"), ("email", ""), ("description", "Renamed")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.state.app.store.organisation(organisation).await.unwrap().profile.name, "Northbridge Institute");
});

backend_test!(creating_an_issuer_makes_the_creator_its_owner, |app| {
    let mut browser = Browser::new(app.router.clone());
    assert!(browser.get("/issuers/new").await.location().starts_with("/login"));
    browser.log_in((LEARNER_EMAIL, LEARNER_PASSWORD)).await;
    let page = browser.post("/issuers/new", &[("name", "X"), ("url", "nope"), ("email", ""), ("description", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("id=\"name-error\"");
    let page = browser
        .post("/issuers/new", &[("name", "Lena's Academy"), ("url", "https://lena.example.org"), ("email", "hi@lena.example.org"), ("description", "Small")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().ends_with("/manage"));
    assert_eq!(page.set_cookie("cairn_notice").as_deref(), Some("organisation-created"));
    let manage = browser.get(page.location()).await;
    manage.assert_contains("Lena&#39;s Academy");
    browser.get("/dashboard").await.assert_contains("Owner");
});

/// A multipart body with the given text fields and one file field `image`.
fn multipart(fields: &[(&str, &str)], image: &[u8], content_type: &str) -> (String, Vec<u8>) {
    let boundary = "cairn-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"badge\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

backend_test!(images_are_uploaded_with_the_csrf_token, |app| {
    let badge = published(app, "Inclusive Meeting").await;
    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let csrf = owner.csrf().await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="teal"/></svg>"#;
    let path = format!("/achievements/{}/image", badge.id);

    let (content_type, body) = multipart(&[("csrf", "wrong-wrong-wrong-wrong")], svg, "image/svg+xml");
    let page = owner.send(Request::post(&path).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(app.state.app.store.achievement(badge.id).await.unwrap().content.image.is_none());

    let (content_type, body) = multipart(&[("csrf", &csrf)], b"", "application/octet-stream");
    let page = owner.send(Request::post(&path).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    let (content_type, body) = multipart(&[("csrf", &csrf)], svg, "image/svg+xml");
    let page = owner.send(Request::post(&path).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(app.state.app.store.achievement(badge.id).await.unwrap().content.image.is_some());

    let organisation = organisation(app).await;
    let (content_type, body) = multipart(&[("csrf", &csrf)], svg, "image/svg+xml");
    let page =
        owner.send(Request::post(format!("/issuers/{organisation}/image")).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert!(app.state.app.store.organisation(organisation).await.unwrap().profile.image.is_some());
});

backend_test!(levels_are_listed_but_not_published_on_their_own, |app| {
    let credential = published(app, "Data Analysis with SQL").await;
    let levels = app.state.app.store.levels(credential.id).await.unwrap();
    assert!(levels.iter().all(|l| matches!(l.kind, Kind::Level(_))));
    let mut owner = Browser::new(app.router.clone());
    owner.log_in((OWNER_EMAIL, OWNER_PASSWORD)).await;
    let page = owner.get(&format!("/achievements/{}", levels[0].id)).await;
    page.assert_contains("published and retired together with its micro-credential");
    assert!(!page.text().contains("/retire\""));
    page.assert_contains(&format!("href=\"/achievements/{}/edit\"", levels[0].id));
});
