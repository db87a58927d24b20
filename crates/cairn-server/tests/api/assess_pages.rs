//! The assessor's and the issuer's assessment pages, driven like a browser: double-blind pages
//! never name the learner, scoring errors keep what was chosen, only the assigned assessor gets
//! in, the dashboard flags overdue work, settings errors sit at their fields, and the audit
//! export is safe to open in a spreadsheet.

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use cairn_app::submissions;
use cairn_core::account::{Email, NewAccount, SignUpFields};
use cairn_core::achievement::Achievement;
use cairn_core::authz::Actor;
use cairn_core::ids::{SubmissionId, UserId};
use cairn_core::submission::SubmissionFields;
use cairn_server::AppState;
use time::OffsetDateTime;

use crate::helpers::{Browser, FixedClock, TestApp};

const LEARNER: &str = "learner@demo.cairn.test";
const LEARNER_NAME: &str = "Lena Fischer";
const ASSESSOR: (&str, &str) = ("assessor@demo.cairn.test", "cairn-demo-assessor");
const OWNER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const LEARNER_LOGIN: (&str, &str) = (LEARNER, "cairn-demo-learner");
/// The original name of the uploaded evidence file: it would give the learner away.
const ORIGINAL_FILE_NAME: &str = "lena-fischer-tester-notes.txt";

/// The same application and database, seen at another time.
fn app_at(app: &TestApp, now: OffsetDateTime) -> Router {
    let mut state: AppState = app.state.clone();
    state.app.clock = Arc::new(FixedClock(now));
    cairn_server::app(state)
}

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

async fn actor(app: &TestApp, email: &str) -> Actor {
    let id = user(app, email).await;
    Actor::member(id, app.state.app.store.memberships(id).await.unwrap())
}

/// The demo micro-badge assessed in these tests: free, with two criteria.
async fn documentation_badge(app: &TestApp) -> Achievement {
    let organisation = app.demo_organisation().await.parse().unwrap();
    let all = app.state.app.store.organisation_achievements(organisation).await.unwrap();
    all.into_iter().find(|a| a.content.name == "Writing Clear API Documentation").expect("the demo has the documentation badge")
}

/// `email` applies for the documentation badge, adds a text file and submits: returns the
/// submission, assigned to the demo assessor.
async fn submitted(app: &TestApp, email: &str) -> SubmissionId {
    let learner = actor(app, email).await;
    let badge = documentation_badge(app).await;
    let fields = SubmissionFields {
        overview: "I documented the orders API: a getting-started guide,\nreference pages for six endpoints and the error catalogue.".into(),
        reflection: "The tester stumbled over authentication, so I rewrote that page first.".into(),
        links: vec!["https://docs.example.org/orders".into()],
        collaborators: vec![],
    };
    let submission = submissions::start_submission(&app.state.app, &learner, badge.id, &fields).await.unwrap();
    submissions::add_file(
        &app.state.app,
        &learner,
        submission.id,
        Some("Tester notes"),
        Some(ORIGINAL_FILE_NAME),
        Some("text/plain"),
        b"Tester: the quick start worked.\n",
    )
    .await
    .unwrap();
    submissions::submit(&app.state.app, &learner, submission.id).await.unwrap();
    submission.id
}

/// What would identify the demo learner on a page or in a header.
async fn learner_traces(app: &TestApp) -> Vec<String> {
    let id = user(app, LEARNER).await;
    vec![LEARNER_NAME.into(), "Lena".into(), "Fischer".into(), LEARNER.into(), "learner@".into(), id.to_string(), ORIGINAL_FILE_NAME.into()]
}

#[track_caller]
fn assert_blind(what: &str, text: &str, traces: &[String]) {
    for trace in traces {
        assert!(!text.contains(trace.as_str()), "{what} gives the learner away with {trace:?}:\n{text}");
    }
}

backend_test!(the_assessor_pages_never_show_who_the_learner_is, |app| {
    let submission = submitted(app, LEARNER).await;
    let code = cairn_core::submission::submission_code(submission);
    let traces = learner_traces(app).await;
    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;

    let queue = assessor.get("/assess").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text());
    queue.assert_contains(&code);
    queue.assert_contains("Writing Clear API Documentation");
    queue.assert_contains("On track");
    queue.assert_contains("Arjun Mehta"); // the viewer's own name, in the navigation
    assert_blind("the queue", &queue.text(), &traces);

    let page = assessor.get(&format!("/assess/{submission}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains(&code);
    page.assert_contains("I documented the orders API");
    page.assert_contains("rel=\"noopener nofollow ugc\"");
    page.assert_contains(&format!("{code} evidence 1"));
    page.assert_contains("name=\"level_1\"");
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    assert_blind("the scoring page", &page.text(), &traces);

    let artifact = app.state.app.store.artifacts(submission).await.unwrap().remove(0);
    let download = assessor.get(&format!("/assess/{submission}/artifacts/{}", artifact.id)).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.text());
    let disposition = download.header(header::CONTENT_DISPOSITION).to_string();
    assert_eq!(disposition, format!("attachment; filename=\"{code}-evidence-1.txt\""));
    let headers: String = download.headers.iter().map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or(""))).collect();
    assert_blind("the download's headers", &headers, &traces);
    assert_eq!(download.text(), "Tester: the quick start worked.\n");
});

backend_test!(scoring_with_a_missing_criterion_re_renders_with_the_choices_kept, |app| {
    let submission = submitted(app, LEARNER).await;
    let rubric = documentation_badge(app).await.content.rubric.unwrap();
    let (first, second) = (rubric.criteria[0].id.clone(), rubric.criteria[1].id.clone());
    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    let path = format!("/assess/{submission}");

    let page = assessor
        .post(
            &path,
            &[
                ("criterion_0", &first),
                ("level_0", "3"),
                ("comment_0", "Every endpoint is there."),
                ("criterion_1", &second),
                ("comment_1", "Not tested yet"),
                ("feedback", "Nearly there."),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    page.assert_contains("id=\"error-summary\"");
    page.assert_contains("<a href=\"#criterion-1\">Usability: choose a level.</a>");
    page.assert_contains("id=\"criterion-1-error\"");
    page.assert_contains("id=\"criterion-0-level-3\" name=\"level_0\" value=\"3\" checked");
    assert!(!page.text().contains("name=\"level_1\" value=\"1\" checked"), "nothing was chosen for the second criterion");
    page.assert_contains("Every endpoint is there.</textarea>");
    page.assert_contains("Not tested yet</textarea>");
    page.assert_contains("Nearly there.</textarea>");

    let done = assessor
        .post(
            &path,
            &[("criterion_0", &first), ("level_0", "3"), ("criterion_1", &second), ("level_1", "Developing"), ("feedback", "Test it with a developer.")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    done.assert_redirect_with("/assess", "assessed-not-yet");
    let queue = assessor.get("/assess").await;
    queue.assert_contains("Not yet — feedback sent.");
    assert!(!queue.text().contains(&format!("/assess/{submission}\"")), "an assessed submission leaves the queue");

    let again = assessor.post(&path, &[("criterion_0", &first), ("level_0", "4"), ("criterion_1", &second), ("level_1", "4")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    again.assert_contains("class=\"problem-page\"");
});

backend_test!(only_the_assigned_assessor_gets_in, |app| {
    let submission = submitted(app, LEARNER).await;
    let artifact = app.state.app.store.artifacts(submission).await.unwrap().remove(0);
    let path = format!("/assess/{submission}");

    let mut anonymous = Browser::new(app.router.clone());
    let page = anonymous.get(&path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header(header::LOCATION), format!("/login?next={path}"));

    // The owner may assess for the issuer but is not assigned; the learner owns the work.
    for login in [OWNER, LEARNER_LOGIN] {
        let mut browser = Browser::signed_in(app.router.clone(), login).await;
        assert_eq!(browser.get(&path).await.status, StatusCode::NOT_FOUND, "{}", login.0);
        assert_eq!(browser.get(&format!("{path}/artifacts/{}", artifact.id)).await.status, StatusCode::NOT_FOUND, "{}", login.0);
        let post = browser.post(&path, &[("criterion_0", "accuracy"), ("level_0", "4")]).await;
        assert_eq!(post.status, StatusCode::NOT_FOUND, "{}", login.0);
    }
    let mut learner = Browser::signed_in(app.router.clone(), LEARNER_LOGIN).await;
    let queue = learner.get("/assess").await;
    queue.assert_contains("You do not assess for any issuer yet.");
    assert!(!queue.text().contains("href=\"/assess\">Assess queue"), "learners have no queue link");
    assert_eq!(learner.get("/issuer/assessment").await.status, StatusCode::FORBIDDEN);
    assert_eq!(learner.get("/admin/outbox").await.status, StatusCode::FORBIDDEN);
    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    assert_eq!(assessor.get("/admin/outbox").await.status, StatusCode::FORBIDDEN, "members who are not operators");
});

backend_test!(the_dashboard_flags_overdue_submissions, |app| {
    let submission = submitted(app, LEARNER).await;
    let code = cairn_core::submission::submission_code(submission);
    let organisation = app.demo_organisation().await;

    // A month later, nobody has assessed it.
    let later = app_at(app, app.state.app.now() + time::Duration::days(30));
    let mut owner = Browser::signed_in(later, OWNER).await;
    let redirect = owner.get("/issuer/assessment").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(redirect.header(header::LOCATION), format!("/issuers/{organisation}/assessment"));

    let page = owner.get(&format!("/issuers/{organisation}/assessment")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("<tr class=\"row-urgent\">");
    page.assert_contains(&code);
    page.assert_contains("<span class=\"pill pill-overdue\">Overdue</span>");
    page.assert_contains("<strong>1 overdue.</strong>");
    page.assert_contains("Arjun Mehta"); // staff see who assesses
    page.assert_contains(&format!("href=\"/issuers/{organisation}/assessment/audit.csv\""));
    assert_blind("the dashboard", &page.text(), &learner_traces(app).await);

    // Today it is on track.
    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let page = owner.get(&format!("/issuers/{organisation}/assessment")).await;
    page.assert_contains("<span class=\"pill pill-on-track\">On track</span>");
    assert!(!page.text().contains("row-urgent"));
});

backend_test!(settings_errors_are_shown_at_their_fields, |app| {
    let organisation = app.demo_organisation().await;
    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let path = format!("/issuers/{organisation}/assessment/settings");

    let page = owner
        .post(
            &path,
            &[("service_days", "0"), ("nearly_due_days", "2"), ("attempt_limit", "3"), ("holidays", "2026-12-25\ntomorrow"), ("evidence_quota_mb", "0")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    page.assert_contains("There are 3 problems");
    page.assert_contains("id=\"service_days-error\"");
    page.assert_contains("id=\"evidence_quota_mb-error\"");
    page.assert_contains("<a href=\"#holidays\">Holidays: &#34;tomorrow&#34; is not a date (YYYY-MM-DD).</a>");
    page.assert_contains("2026-12-25\ntomorrow</textarea>");

    let saved = owner
        .post(
            &path,
            &[
                ("service_days", "10"),
                ("nearly_due_days", "3"),
                ("attempt_limit", ""),
                ("confirm_passes", "on"),
                ("holidays", "2026-12-25"),
                ("evidence_quota_mb", "500"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let settings = app.state.app.store.issuer_settings(organisation.parse().unwrap()).await.unwrap();
    assert_eq!((settings.service_days, settings.nearly_due_days, settings.attempt_limit, settings.confirm_passes), (10, 3, None, true));
    assert_eq!(settings.evidence_quota_mb, 500);
    let page = owner.get(&format!("/issuers/{organisation}/assessment")).await;
    page.assert_contains("name=\"service_days\" type=\"text\" value=\"10\"");
    page.assert_contains("name=\"evidence_quota_mb\" type=\"text\" value=\"500\"");
    page.assert_contains("name=\"confirm_passes\" value=\"on\" checked");

    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    assert_eq!(assessor.post(&path, &[("service_days", "10"), ("nearly_due_days", "3")]).await.status, StatusCode::FORBIDDEN);
});

backend_test!(the_audit_export_is_csv_with_neutralised_formulas, |app| {
    // A learner whose name a spreadsheet would run as a formula.
    let email = "mallory@example.org";
    let new = NewAccount::parse(SignUpFields {
        name: "=HYPERLINK(\"https://evil.example\",\"x\")".into(),
        email: email.into(),
        password: "a long enough password".into(),
    })
    .unwrap();
    let hash = app.state.app.passwords.hash(&new.password).await.unwrap();
    app.state.app.store.create_user(&new.name, &new.email, &hash, app.state.app.now()).await.unwrap();
    submitted(app, email).await;
    let organisation = app.demo_organisation().await;

    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let csv = owner.get(&format!("/issuers/{organisation}/assessment/audit.csv")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    assert_eq!(csv.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
    assert!(csv.header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"cairn-audit-"), "{:?}", csv.headers);
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("submission,achievement,from,to,actor,note,at"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 2, "started and submitted: {rows:?}");
    assert!(rows.iter().any(|row| row.contains("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\"")), "{rows:?}");
    for row in &rows {
        assert!(!row.contains(",=") && !row.contains(",\"="), "a formula survived: {row}");
    }

    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    assert_eq!(assessor.get(&format!("/issuers/{organisation}/assessment/audit.csv")).await.status, StatusCode::FORBIDDEN);
});

backend_test!(fees_vouchers_and_pools_are_managed_from_the_dashboard, |app| {
    let organisation = app.demo_organisation().await;
    let base = format!("/issuers/{organisation}/assessment");
    let learner = actor(app, LEARNER).await;
    let paid = app.state.app.store.organisation_achievements(organisation.parse().unwrap()).await.unwrap();
    let secure = paid.iter().find(|a| a.content.name.starts_with("Secure Coding")).expect("the demo has a paid badge");
    let draft = submissions::start_submission(&app.state.app, &learner, secure.id, &SubmissionFields::default()).await.unwrap();

    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let page = owner.get(&base).await;
    page.assert_contains("id=\"fees-due\"");
    page.assert_contains(&draft.code());
    let fee = owner.post(&format!("{base}/submissions/{}/fee", draft.id), &[("action", "paid")]).await;
    assert_eq!(fee.status, StatusCode::SEE_OTHER, "{}", fee.text());
    fee.assert_redirect_with(&base, "fee-paid");
    assert_eq!(app.state.app.store.submission(draft.id).await.unwrap().fee, cairn_core::submission::FeeState::Paid);
    let again = owner.post(&format!("{base}/submissions/{}/fee", draft.id), &[("action", "waive")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "no fee is due any more");

    let bad = owner.post(&format!("{base}/vouchers"), &[("count", "0"), ("achievement", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
    bad.assert_contains("id=\"voucher_count-error\"");
    let made = owner.post(&format!("{base}/vouchers"), &[("count", "3"), ("achievement", &secure.id.to_string())]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let vouchers = app.state.app.store.vouchers(organisation.parse().unwrap()).await.unwrap();
    assert_eq!(vouchers.len(), 3);
    let page = owner.get(&base).await;
    for voucher in &vouchers {
        page.assert_contains(&format!("<code>{}</code>", voucher.code));
    }

    let badge = documentation_badge(app).await;
    let assessor = user(app, ASSESSOR.0).await.to_string();
    let pool = format!("{base}/pools/{}", badge.id);
    let removed = owner.post(&pool, &[("user", &assessor), ("action", "remove")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text());
    assert!(app.state.app.store.pool(badge.id).await.unwrap().is_empty());
    let learner_id = user(app, LEARNER).await.to_string();
    assert_eq!(owner.post(&pool, &[("user", &learner_id), ("action", "add")]).await.status, StatusCode::UNPROCESSABLE_ENTITY, "learners cannot assess");
    let added = owner.post(&pool, &[("user", &assessor), ("action", "add")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    assert_eq!(app.state.app.store.pool(badge.id).await.unwrap().len(), 1);

    let outbox = owner.get("/admin/outbox").await;
    assert_eq!(outbox.status, StatusCode::OK, "{}", outbox.text());
    outbox.assert_contains("Fee recorded as paid");
    outbox.assert_contains(LEARNER);
    assert_eq!(outbox.header(header::CACHE_CONTROL), "no-store");
});

backend_test!(passes_wait_for_confirmation_and_awards_can_be_suspended_and_revoked, |app| {
    let organisation = app.demo_organisation().await;
    let base = format!("/issuers/{organisation}/assessment");
    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let saved =
        owner.post(&format!("{base}/settings"), &[("service_days", "14"), ("nearly_due_days", "2"), ("attempt_limit", "3"), ("confirm_passes", "on")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());

    let submission = submitted(app, LEARNER).await;
    let rubric = documentation_badge(app).await.content.rubric.unwrap();
    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    let passed = assessor
        .post(
            &format!("/assess/{submission}"),
            &[
                ("criterion_0", &rubric.criteria[0].id),
                ("level_0", "Proficient"),
                ("criterion_1", &rubric.criteria[1].id),
                ("level_1", "4"),
                ("feedback", "Clear and tested."),
            ],
        )
        .await;
    passed.assert_redirect_with("/assess", "assessed-pass-confirm");
    assert!(app.state.app.store.award_for_submission(submission).await.unwrap().is_none(), "the pass waits for staff");

    let page = owner.get(&base).await;
    let confirm = format!("{base}/submissions/{submission}/confirm");
    page.assert_contains(&format!("action=\"{confirm}\""));
    let confirmed = owner.post(&confirm, &[]).await;
    confirmed.assert_redirect_with(&base, "pass-confirmed");
    let award = app.state.app.store.award_for_submission(submission).await.unwrap().expect("the confirmed pass is awarded");

    let status = format!("{base}/awards/{}/status", award.id);
    let page = owner.get(&base).await;
    page.assert_contains(&format!("action=\"{status}\""));
    page.assert_contains("<option value=\"suspend\" selected>Suspend</option>");
    let asked = owner.post(&status, &[("action", "suspend"), ("reason", "Checking a complaint")]).await;
    assert_eq!(asked.status, StatusCode::OK, "a suspension asks first");
    asked.assert_contains("Suspending tells every verifier");
    let suspended = owner.post(&status, &[("action", "suspend"), ("reason", "Checking a complaint"), ("confirmed", "yes")]).await;
    assert_eq!(suspended.status, StatusCode::SEE_OTHER, "{}", suspended.text());
    let page = owner.get(&base).await;
    page.assert_contains("Suspended</span><br><span class=\"small\">Checking a complaint</span>");
    page.assert_contains("<option value=\"reinstate\" selected>Reinstate</option>");
    let revoked = owner.post(&status, &[("action", "revoke"), ("reason", ""), ("confirmed", "yes")]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text());
    owner.get(&base).await.assert_contains("Revoked for good");
    assert_eq!(owner.post(&status, &[("action", "reinstate")]).await.status, StatusCode::CONFLICT, "a revocation stands");
    assert_eq!(assessor.post(&status, &[("action", "reinstate")]).await.status, StatusCode::FORBIDDEN);
});

backend_test!(declaring_a_conflict_reveals_neither_an_account_nor_a_submission, |app| {
    let queued = submitted(app, LEARNER).await;
    let assessor_id = user(app, ASSESSOR.0).await;
    assert_eq!(app.state.app.store.submission(queued).await.unwrap().assessor, Some(assessor_id));
    let organisation = app.demo_organisation().await;
    let mut assessor = Browser::signed_in(app.router.clone(), ASSESSOR).await;
    let queue_before = assessor.get("/assess").await.text();

    // An address with an account and one without get the same answer.
    let known = assessor.post("/assess/conflicts", &[("organisation", &organisation), ("email", LEARNER)]).await;
    let unknown = assessor.post("/assess/conflicts", &[("organisation", &organisation), ("email", "Nobody.Yet@Example.org")]).await;
    assert_eq!(known.status, StatusCode::SEE_OTHER, "{}", known.text());
    assert_eq!((known.status, known.header(header::LOCATION), &known.text()), (unknown.status, unknown.header(header::LOCATION), &unknown.text()));
    let notice = assessor.get(known.header(header::LOCATION)).await;
    notice.assert_contains("from now on");
    let refused = assessor.post("/assess/conflicts", &[("organisation", &organisation), ("email", "not an address")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "only the address's form is checked");

    // Nothing already in the queue moves: which submission was the learner's stays untold.
    assert_eq!(app.state.app.store.submission(queued).await.unwrap().assessor, Some(assessor_id));
    assert_eq!(assessor.get("/assess").await.text(), queue_before);

    // Matched when submissions are assigned: the learner's next one, and one from the address
    // that had no account when it was declared, go to nobody (the assessor is the pool).
    let new = NewAccount::parse(SignUpFields { name: "Nia Later".into(), email: "nobody.yet@example.org".into(), password: "a long enough password".into() })
        .unwrap();
    app.state.app.store.create_user(&new.name, &new.email, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", app.state.app.now()).await.unwrap();
    let all = app.state.app.store.organisation_achievements(organisation.parse().unwrap()).await.unwrap();
    let named = |name: &str| all.iter().find(|a| a.content.name == name).unwrap().id;
    for (email, badge) in [("nobody.yet@example.org", named("Writing Clear API Documentation")), (LEARNER, named("Inclusive Meeting Facilitation"))] {
        let learner = actor(app, email).await;
        let fields = SubmissionFields { overview: "Overview".into(), reflection: "Reflection".into(), links: vec![], collaborators: vec![] };
        let submission = submissions::start_submission(&app.state.app, &learner, badge, &fields).await.unwrap();
        submissions::add_text(&app.state.app, &learner, submission.id, Some("Notes"), "What I did.").await.unwrap();
        let sent = submissions::submit(&app.state.app, &learner, submission.id).await.unwrap();
        assert_eq!(sent.assessor, None, "{email}: the conflicted assessor is not assigned");
    }
    // Another learner's submission still reaches the assessor.
    let new =
        NewAccount::parse(SignUpFields { name: "Uma Unrelated".into(), email: "uma@example.org".into(), password: "a long enough password".into() }).unwrap();
    app.state.app.store.create_user(&new.name, &new.email, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", app.state.app.now()).await.unwrap();
    assert_eq!(app.state.app.store.submission(submitted(app, "uma@example.org").await).await.unwrap().assessor, Some(assessor_id));
});
