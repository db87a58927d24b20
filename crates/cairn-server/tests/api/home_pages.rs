//! Pages that know the viewer: the learner's home (submissions in progress, feedback waiting,
//! badges, progress through micro-credentials, badges expiring soon, and the issuer and API
//! panels only for those who use them) and the achievement page (how the work is assessed, and the
//! viewer's award, submission and progress across levels).

use std::sync::Arc;

use axum::http::StatusCode;
use cairn_app::awards::{self, AwardRequest};
use cairn_app::{App, AppError, home};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::authz::Actor;
use cairn_core::ids::{AchievementId, UserId};
use cairn_core::progress::LevelProgress;
use cairn_core::submission::IssuerSettingsFields;
use cairn_core::submission::{Status, SubmissionFields};
use cairn_server::AppState;
use cairn_store::{Award, CatalogQuery};
use time::Duration;

use crate::helpers::{Browser, FixedClock, TestApp, TestResponse};

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const OWNER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const ASSESSOR: &str = "assessor@demo.cairn.test";
const FREE_BADGE: &str = "Writing Clear API Documentation";
const OTHER_FREE_BADGE: &str = "Inclusive Meeting Facilitation";
const PAID_BADGE: &str = "Secure Coding Essentials: OWASP Top 10";
const MICRO_CREDENTIAL: &str = "Data Analysis with SQL";

#[track_caller]
fn page(response: &TestResponse) -> String {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.text()
}

#[track_caller]
fn has(body: &str, needle: &str) {
    assert!(body.contains(needle), "expected {needle:?} in:\n{body}");
}

#[track_caller]
fn lacks(body: &str, needle: &str) {
    assert!(!body.contains(needle), "did not expect {needle:?} in:\n{body}");
}

/// The part of the page from the element with `id` to the end of its section.
#[track_caller]
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in:\n{body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

async fn signed_in(app: &TestApp, (email, password): (&str, &str)) -> Browser {
    let mut browser = Browser::new(app.router.clone());
    let response = browser.post("/login", &[("email", email), ("password", password)]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text());
    browser
}

async fn published(app: &TestApp, name: &str) -> Achievement {
    let page = app.state.app.store.search_catalog(&CatalogQuery { limit: 100, ..Default::default() }).await.unwrap();
    page.items.into_iter().find(|a| a.content.name == name).unwrap_or_else(|| panic!("no published {name}"))
}

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

async fn actor(app: &TestApp, email: &str) -> Actor {
    let id = user(app, email).await;
    Actor::member(id, app.state.app.store.memberships(id).await.unwrap())
}

/// Applies for `achievement` in the browser; the new submission's path.
async fn apply(browser: &mut Browser, achievement: AchievementId) -> String {
    let response = browser.post(&format!("/achievements/{achievement}/apply"), &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text());
    let location = response.headers["location"].to_str().unwrap();
    location.split('?').next().unwrap().to_string()
}

fn scores(achievement: &Achievement, pass: bool) -> Vec<ScoreFields> {
    let rubric = achievement.content.rubric.as_ref().unwrap();
    rubric
        .criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let level = if i == 0 && !pass { 1 } else { c.required_level + 1 };
            ScoreFields { criterion: c.id.clone(), level: level.to_string(), comment: "Noted".into() }
        })
        .collect()
}

/// Awards `achievement` to the demo learner directly.
async fn award(app: &TestApp, achievement: &Achievement) -> Award {
    let rubric = achievement.content.rubric.as_ref().unwrap();
    let request = AwardRequest {
        judgement: Some(Judgement::parse(rubric, &scores(achievement, true), "Well done").unwrap()),
        ..AwardRequest::new(user(app, LEARNER.0).await, achievement.id)
    };
    awards::award(&app.state.app, request).await.unwrap()
}

/// The micro-credential and its three levels.
async fn micro_credential(app: &TestApp) -> (Achievement, Vec<Achievement>) {
    let stack = published(app, MICRO_CREDENTIAL).await;
    assert_eq!(stack.kind, Kind::MicroCredential);
    let levels = app.state.app.store.levels(stack.id).await.unwrap();
    assert_eq!(levels.len(), 3);
    (stack, levels)
}

backend_test!(a_new_learners_home_says_what_to_do_next_and_hides_issuer_and_api_panels, |app| {
    let mut learner = signed_in(app, LEARNER).await;
    let home = page(&learner.get("/dashboard").await);
    has(&home, "<title>Your home");
    has(section(&home, "in-progress"), "Nothing in progress.");
    has(section(&home, "in-progress"), "<a href=\"/catalog\">Browse the catalog</a>");
    has(section(&home, "feedback"), "No feedback to act on.");
    has(section(&home, "micro-credentials"), "You have not started a micro-credential or a certificate.");
    has(section(&home, "badges"), "No badges yet.");
    lacks(&home, "Badges expiring soon");
    lacks(&home, "Your organisations");
    lacks(&home, "API access");
    has(&home, "<a href=\"/account/tokens\">Developer settings</a>");
    has(&home, "<a href=\"/issuers/new\">Create an issuer organisation</a>");

    // Once the learner has created an API token, the API panel is theirs.
    let created = learner.post("/account/tokens", &[("name", "My script"), ("scope", "read-only"), ("expires", "30")]).await;
    assert!(created.status.is_success() || created.status == StatusCode::SEE_OTHER, "{}", created.text());
    let home = page(&learner.get("/dashboard").await);
    has(&home, "API access");
    lacks(&home, "Developer settings");

    // Organisation members see their organisations.
    let mut owner = signed_in(app, OWNER).await;
    let home = page(&owner.get("/dashboard").await);
    has(&home, "Your organisations");
    has(&home, "Northbridge Institute of Technology");

    // Visitors are sent to sign in; the use case itself refuses them.
    let anonymous = Browser::new(app.router.clone()).get("/dashboard").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(matches!(home::learner_home(&app.state.app, &Actor::anonymous()).await, Err(AppError::Unauthenticated)));
});

backend_test!(the_learner_home_use_case_sorts_work_by_stage, |app| {
    let learner = actor(app, LEARNER.0).await;
    let badge = published(app, FREE_BADGE).await;
    let (stack, levels) = micro_credential(app).await;
    let fields = SubmissionFields { overview: "Notes".into(), reflection: "Thoughts".into(), ..Default::default() };
    let draft = cairn_app::submissions::start_submission(&app.state.app, &learner, badge.id, &fields).await.unwrap();
    let level_award = award(app, &levels[0]).await;
    let home = home::learner_home(&app.state.app, &learner).await.unwrap();
    assert_eq!(home.in_progress.iter().map(|s| (s.id, s.status, s.due.is_none())).collect::<Vec<_>>(), [(draft.id, Status::Draft, true)]);
    assert!(home.feedback_waiting.is_empty());
    assert_eq!(home.awards.iter().map(|a| (a.id, a.expired, a.expiring_soon)).collect::<Vec<_>>(), [(level_award.id, false, false)]);
    assert!(home.expiring_soon.is_empty());
    assert_eq!(home.micro_credentials.len(), 1);
    let progress = &home.micro_credentials[0];
    assert_eq!(progress.micro_credential.id, stack.id);
    assert_eq!(
        progress.levels.iter().map(|l| (l.level.id, l.progress, l.award)).collect::<Vec<_>>(),
        [
            (levels[0].id, LevelProgress::Held, Some(level_award.id)),
            (levels[1].id, LevelProgress::NotStarted, None),
            (levels[2].id, LevelProgress::NotStarted, None)
        ]
    );
    assert!(home.memberships.is_empty() && !home.has_api_tokens);

    // The achievement page's viewer part: the level held, the badge's draft, the anonymous nothing.
    let page = home::achievement_page(&app.state.app, &learner, levels[0].id).await.unwrap();
    let standing = page.standing.unwrap();
    assert_eq!(standing.award, Some((level_award.id, cairn_core::award::AwardStatus::Active)));
    assert_eq!(standing.stack.unwrap().progress.summary(), "1 of 3 levels held");
    let page = home::achievement_page(&app.state.app, &learner, badge.id).await.unwrap();
    assert_eq!(page.standing.unwrap().submission, Some((draft.id, Status::Draft)));
    assert_eq!((page.terms.attempt_limit, page.terms.max_file_bytes), (Some(3), 10 * 1024 * 1024));
    assert!(home::achievement_page(&app.state.app, &Actor::anonymous(), badge.id).await.unwrap().standing.is_none());
});

backend_test!(the_home_follows_submissions_feedback_progress_and_awards, |app| {
    let badge = published(app, FREE_BADGE).await;
    cairn_app::issuer::add_to_pool(&app.state.app, &actor(app, OWNER.0).await, badge.id, user(app, ASSESSOR).await).await.unwrap();
    let mut learner = signed_in(app, LEARNER).await;

    // A draft: in progress, with no due date yet.
    let path = apply(&mut learner, badge.id).await;
    let home = page(&learner.get("/dashboard").await);
    let in_progress = section(&home, "in-progress");
    has(in_progress, &format!("<a href=\"{path}\">{FREE_BADGE}</a>"));
    has(in_progress, ">Draft</span>");
    has(in_progress, "Not submitted yet: no due date");

    // Submitted: still in progress, now with the decision's due date.
    let parts = [("overview", "I documented an API."), ("reflection", "I learnt a lot."), ("links", "https://example.org/docs"), ("collaborators", "")];
    let sent = learner.post(&format!("{path}/submit"), &parts).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    let home = page(&learner.get("/dashboard").await);
    let in_progress = section(&home, "in-progress");
    has(in_progress, ">Submitted</span>");
    has(in_progress, "Decision due ");
    has(in_progress, "On track");

    // "Not yet": it moves to the feedback waiting, with the attempts left.
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    cairn_app::assessment::assess(&app.state.app, &actor(app, ASSESSOR).await, id, &scores(&badge, false), "Close.").await.unwrap();
    let home = page(&learner.get("/dashboard").await);
    has(section(&home, "in-progress"), "Nothing in progress.");
    let feedback = section(&home, "feedback");
    has(feedback, &format!("<a href=\"{path}\">Read the feedback on {FREE_BADGE}</a>"));
    has(feedback, "2 more attempts");

    // A micro-credential: a draft on level 1, level 2 held.
    let (stack, levels) = micro_credential(app).await;
    let level_path = apply(&mut learner, levels[0].id).await;
    let home = page(&learner.get("/dashboard").await);
    let progress = section(&home, "micro-credentials");
    has(progress, &format!("<a href=\"/achievements/{}\">{MICRO_CREDENTIAL}</a>", stack.id));
    has(progress, "0 of 3 levels held");
    has(progress, &format!("href=\"{level_path}\">Continue your submission"));
    let level_award = award(app, &levels[1]).await;
    let home = page(&learner.get("/dashboard").await);
    let progress = section(&home, "micro-credentials");
    has(progress, "1 of 3 levels held");
    has(progress, &format!("href=\"/awards/{}\">View badge", level_award.id));
    assert_eq!(progress.matches("progress-held").count(), 1, "{progress}");
    assert_eq!(progress.matches("progress-started").count(), 1, "{progress}");
    assert_eq!(progress.matches("progress-none").count(), 1, "{progress}");
    let badges = section(&home, "badges");
    has(badges, &format!("<a href=\"/awards/{}\">{}</a>", level_award.id, levels[1].content.name));
    lacks(&home, "Badges expiring soon");

    // Another badge, valid for 24 months: expiring soon once fewer than 60 days are left.
    let other = published(app, OTHER_FREE_BADGE).await;
    let other_award = award(app, &other).await;
    let until = other_award.valid_until.expect("the demo badge expires");
    let mut later = App::new(app.state.app.store.clone(), (*app.state.app.config).clone());
    later.clock = Arc::new(FixedClock(until - Duration::days(30)));
    learner.router = cairn_server::app(AppState::new(later));
    // Two years on, the old session has lapsed: sign in again.
    let again = learner.post("/login", &[("email", LEARNER.0), ("password", LEARNER.1)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
    let home = page(&learner.get("/dashboard").await);
    let expiring = section(&home, "expiring");
    has(expiring, &format!("<a href=\"/awards/{}\">{OTHER_FREE_BADGE}</a>", other_award.id));
    has(expiring, &format!("Valid until {}", cairn_vc::dates::day(until)));
    lacks(expiring, &levels[1].content.name);
});

backend_test!(the_achievement_page_says_how_work_is_assessed_and_where_the_viewer_stands, |app| {
    let badge = published(app, FREE_BADGE).await;
    let badge_page = format!("/achievements/{}", badge.id);

    // Before anyone applies: double-blind, the service days, attempts, evidence and fee.
    let mut anonymous = Browser::new(app.router.clone());
    let body = page(&anonymous.get(&badge_page).await);
    let terms = section(&body, "how-assessed");
    has(terms, "Double-blind");
    has(terms, "A decision within 14 business days of submitting.");
    has(terms, "Attempts allowed: 3.");
    has(terms, "Evidence files: PDF, PNG image, JPEG image, Text file");
    has(terms, "up to 10 MB each");
    has(terms, "Fee: free.");
    lacks(&body, "Where you stand");
    has(&body, &format!("action=\"/achievements/{}/apply\"", badge.id));
    let paid = published(app, PAID_BADGE).await;
    let body = page(&anonymous.get(&format!("/achievements/{}", paid.id)).await);
    let terms = section(&body, "how-assessed");
    has(terms, "Fee: 49.00 EUR, due before your work is assessed. A voucher from the issuer also covers it.");
    has(terms, "How to pay");
    has(terms, "has not written payment instructions yet: ask them how to pay");

    // The issuer's settings are what the page says.
    let settings = IssuerSettingsFields { service_days: "5".into(), nearly_due_days: "1".into(), attempt_limit: String::new(), ..Default::default() };
    cairn_app::issuer::set_settings(&app.state.app, &actor(app, OWNER.0).await, badge.organisation, &settings).await.unwrap();
    let terms_page = page(&anonymous.get(&badge_page).await);
    let terms = section(&terms_page, "how-assessed");
    has(terms, "A decision within 5 business days of submitting.");
    has(terms, "Attempts allowed: unlimited.");

    // A learner with a draft is sent back to it, not offered "Apply" again.
    let mut learner = signed_in(app, LEARNER).await;
    let body = page(&learner.get(&badge_page).await);
    lacks(&body, "Where you stand");
    let path = apply(&mut learner, badge.id).await;
    let body = page(&learner.get(&badge_page).await);
    let standing = section(&body, "your-standing");
    has(standing, &format!("href=\"{path}\">Continue your submission</a>"));
    lacks(standing, "You hold this badge");
    lacks(&body, &format!("action=\"/achievements/{}/apply\"", badge.id));

    // A holder is told so, with the link to the award.
    let other = published(app, OTHER_FREE_BADGE).await;
    let held = award(app, &other).await;
    let body = page(&learner.get(&format!("/achievements/{}", other.id)).await);
    let standing = section(&body, "your-standing");
    has(standing, "You hold this badge.");
    has(standing, &format!("<a href=\"/awards/{}\">View your badge</a>", held.id));

    // Someone else sees none of it.
    let mut owner = signed_in(app, OWNER).await;
    let body = page(&owner.get(&format!("/achievements/{}", other.id)).await);
    lacks(&body, "You hold this badge");

    // A micro-credential and each of its levels show the progress across the levels.
    let (stack, levels) = micro_credential(app).await;
    let level_path = apply(&mut learner, levels[0].id).await;
    award(app, &levels[2]).await;
    for id in [stack.id, levels[0].id, levels[1].id, levels[2].id] {
        let body = page(&learner.get(&format!("/achievements/{id}")).await);
        let standing = section(&body, "your-standing");
        has(standing, "1 of 3 levels held");
        has(standing, &format!("href=\"{level_path}\">Continue your submission"));
        assert_eq!(standing.matches("progress-none").count(), 1, "{standing}");
    }
    let body = page(&learner.get(&format!("/achievements/{}", levels[2].id)).await);
    has(section(&body, "your-standing"), "You hold this badge.");
});
