//! Sharing awards: the embed snippet's frame holds the card, the micro-credential's award page
//! links its level awards (each through the one visibility rule), the backpack groups level
//! badges under their micro-credential, and the navigation counts unread notifications.

use crate::helpers::{Browser, TestApp};
use axum::http::StatusCode;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind, State};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::award::Privacy;
use cairn_core::ids::{AwardId, UserId};
use cairn_store::Award;

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

async fn signed_in(app: &TestApp, (email, password): (&str, &str)) -> Browser {
    let mut browser = Browser::new(app.router.clone());
    let response = browser.post("/login", &[("email", email), ("password", password)]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text());
    browser
}

/// The demo issuer's achievements.
async fn demo_achievements(app: &TestApp) -> Vec<Achievement> {
    let organisation = app.demo_organisation().await.parse().unwrap();
    app.state.app.store.organisation_achievements(organisation).await.unwrap()
}

/// The demo micro-credential and its levels, lowest first.
async fn micro_credential(app: &TestApp) -> (Achievement, Vec<Achievement>) {
    let stack = demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroCredential).expect("the demo has a micro-credential");
    let mut levels = app.state.app.store.levels(stack.id).await.unwrap();
    levels.sort_by_key(|l| match l.kind {
        Kind::Level(n) => n,
        _ => 0,
    });
    assert_eq!(levels.len(), 3);
    (stack, levels)
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
    awards::award(&app.state.app, request).await.unwrap()
}

async fn set_privacy(app: &TestApp, id: AwardId, privacy: Privacy) {
    app.state.app.store.set_award_privacy(id, privacy, false).await.unwrap();
}

/// Text with the HTML escapes of quotes undone, to read attribute values shown inside text.
fn unescaped(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

backend_test!(the_micro_credential_award_page_links_the_level_awards_its_viewer_may_see, |app| {
    let (stack, levels) = micro_credential(app).await;
    let mut level_awards = Vec::new();
    for level in &levels {
        level_awards.push(award(app, level).await);
    }
    let learner = user(app, LEARNER.0).await;
    let parent =
        app.state.app.store.awards_of(learner).await.unwrap().into_iter().find(|a| a.achievement == stack.id).expect("the third level completes the stack");
    set_privacy(app, parent.id, Privacy::Public).await;
    set_privacy(app, level_awards[0].id, Privacy::Public).await;
    set_privacy(app, level_awards[2].id, Privacy::Unlisted).await;
    // Level 2 stays private, as every new award starts.

    let mut visitor = Browser::new(app.router.clone());
    let page = visitor.get(&format!("/awards/{}", parent.id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let body = page.text();
    assert!(body.contains("class=\"levels level-awards\""), "{body}");
    for (level, linked) in [(&level_awards[0], true), (&level_awards[1], false), (&level_awards[2], true)] {
        assert_eq!(body.contains(&format!("href=\"/awards/{}\"", level.id)), linked, "level award {} linked: {linked}\n{body}", level.id);
        assert_eq!(body.contains(&level.id.to_string()), linked, "a private level award's id must not appear at all");
    }
    assert!(body.contains("Held; the learner keeps this level badge private."), "{body}");
    for heading in ["Level 1: Foundations", "Level 2: Practice", "Level 3: Real-world application"] {
        assert!(body.contains(heading), "{heading} missing");
    }
    // The shown levels carry their rubric results: each criterion with the level reached.
    let level_one = levels[0].content.rubric.as_ref().expect("demo levels have rubrics");
    let results = body.split("class=\"level-results\"").nth(1).expect("the level results");
    let first = &level_one.criteria[0];
    assert!(results.contains(&format!("<dt>{}</dt>", first.name)), "{results}");
    assert!(results.contains(&format!("<dd>{} (met)</dd>", level_one.levels[first.required_level])), "{results}");
    // The private level's own page is not there for a visitor either.
    assert_eq!(visitor.get(&format!("/awards/{}", level_awards[1].id)).await.status, StatusCode::NOT_FOUND);

    // The learner sees every level linked, the private one too.
    let mut owner = signed_in(app, LEARNER).await;
    let body = owner.get(&format!("/awards/{}", parent.id)).await.text();
    for level in &level_awards {
        assert!(body.contains(&format!("href=\"/awards/{}\"", level.id)), "the learner's own level {} is not linked", level.id);
    }
    assert!(!body.contains("keeps this level badge private"));

    // A level's award page has no level list; a micro-badge's neither.
    let body = owner.get(&format!("/awards/{}", level_awards[0].id)).await.text();
    assert!(!body.contains("class=\"levels level-awards\""));
});

backend_test!(the_backpack_groups_level_badges_under_their_micro_credential, |app| {
    let (stack, levels) = micro_credential(app).await;
    let first = award(app, &levels[0]).await;
    let second = award(app, &levels[1]).await;
    let badge =
        demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge && a.state == State::Published && a.content.rubric.is_some()).unwrap();
    let single = award(app, &badge).await;

    let mut learner = signed_in(app, LEARNER).await;
    let page = learner.get("/backpack").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.text();
    let stack_at = body.find(&format!("<h2 id=\"stack-1\">{}</h2>", stack.content.name)).unwrap_or_else(|| panic!("no group for the micro-credential\n{body}"));
    assert!(body.contains("2 of 3 levels held"), "{body}");
    let other_at = body.find("<h2 id=\"singles-title\">Other badges</h2>").expect("the other badges");
    let at = |id: AwardId| body.find(&format!("href=\"/awards/{id}\"")).unwrap_or_else(|| panic!("award {id} missing"));
    assert!(stack_at < at(first.id) && at(first.id) < at(second.id) && at(second.id) < other_at, "levels sit in order under their micro-credential");
    assert!(at(single.id) > other_at, "the micro-badge stands alone");
    assert!(body.contains("Level 1: Foundations") && body.contains("Level 2: Practice"));

    // The third level brings the micro-credential itself, first in its group.
    award(app, &levels[2]).await;
    let body = learner.get("/backpack").await.text();
    assert!(body.contains("3 of 3 levels held: awarded"), "{body}");
    let parent = app.state.app.store.awards_of(user(app, LEARNER.0).await).await.unwrap().into_iter().find(|a| a.achievement == stack.id).unwrap();
    let at = |id: AwardId| body.find(&format!("href=\"/awards/{id}\"")).unwrap();
    assert!(at(parent.id) < at(first.id));
});

backend_test!(the_embed_snippet_frames_the_whole_card, |app| {
    let badge =
        demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge && a.state == State::Published && a.content.rubric.is_some()).unwrap();
    let earned = award(app, &badge).await;
    set_privacy(app, earned.id, Privacy::Public).await;
    let mut learner = signed_in(app, LEARNER).await;
    let body = unescaped(&learner.get(&format!("/awards/{}", earned.id)).await.text());
    let embed_url = app.state.app.config.urls().award_embed(earned.id);
    let snippet = body.split("<textarea id=\"embed-code\"").nth(1).and_then(|rest| rest.split("</textarea>").next()).expect("the embed code");
    assert!(snippet.contains(&format!("<iframe src=\"{embed_url}\"")), "{snippet}");
    assert!(snippet.contains("width=\"360\" height=\"152\""), "the snippet names the card's frame size: {snippet}");
    let card = Browser::new(app.router.clone()).get(&format!("/awards/{}/embed", earned.id)).await;
    assert_eq!(card.status, StatusCode::OK);
    let card = card.text();
    for class in ["class=\"embed-card\"", "class=\"embed-title\"", "class=\"embed-meta\"", "class=\"embed-status\""] {
        assert!(card.contains(class), "{class} missing: the stylesheet's fixed lines size the card by these\n{card}");
    }
});

backend_test!(every_signed_in_page_counts_unread_notifications, |app| {
    let learner_id = user(app, LEARNER.0).await;
    let mut learner = signed_in(app, LEARNER).await;
    learner.post("/notifications/read-all", &[]).await;
    assert_eq!(app.state.app.store.unread_count(learner_id).await.unwrap(), 0);
    let body = learner.get("/catalog").await.text();
    assert!(body.contains("<details class=\"nav-menu\">"), "{body}");
    assert!(!body.contains("class=\"nav-count\""), "no count while nothing is unread\n{body}");

    // Two awards bring two notifications: every page's navigation counts them.
    let badges: Vec<Achievement> = demo_achievements(app)
        .await
        .into_iter()
        .filter(|a| a.kind == Kind::MicroBadge && a.state == State::Published && a.content.rubric.is_some())
        .take(2)
        .collect();
    assert_eq!(badges.len(), 2);
    for badge in &badges {
        award(app, badge).await;
    }
    assert_eq!(app.state.app.store.unread_count(learner_id).await.unwrap(), 2);
    let link = "<a href=\"/notifications\" class=\"nav-notifications\" aria-label=\"Notifications, 2 unread\">Notifications <span class=\"nav-count\" aria-hidden=\"true\">2</span></a>";
    for path in ["/catalog", "/backpack", "/submissions", &format!("/achievements/{}", badges[0].id)] {
        let page = learner.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let body = page.text();
        assert!(body.contains(link), "{path} lacks the unread count\n{body}");
        assert!(body.contains("<summary class=\"nav-toggle\" aria-label=\"Menu, 2 unread notifications\">"), "{path}: the closed menu tells it too");
    }

    // Reading them clears the count.
    learner.post("/notifications/read-all", &[]).await;
    assert!(!learner.get("/backpack").await.text().contains("class=\"nav-count\""));

    // Another user's count is their own; visitors get the plain navigation.
    let issuer_id = user(app, ISSUER.0).await;
    let unread = app.state.app.store.unread_count(issuer_id).await.unwrap();
    let mut issuer = signed_in(app, ISSUER).await;
    let body = issuer.get("/catalog").await.text();
    if unread == 0 {
        assert!(!body.contains("class=\"nav-count\""));
    } else {
        assert!(body.contains(&format!("aria-label=\"Notifications, {unread} unread\"")), "{body}");
    }
    let body = Browser::new(app.router.clone()).get("/catalog").await.text();
    assert!(!body.contains("nav-menu") && body.contains("<a href=\"/login\">Sign in</a>"));
});
