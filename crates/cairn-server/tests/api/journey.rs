//! The assessment journey over the API: apply, evidence, submit, double-blind review, "not yet",
//! resubmission, pass, award; and every kind of bad input on the way.

use crate::helpers::{TestApp, badge_body};
use cairn_app::Clock;
use cairn_server::AppState;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

/// The smallest PDF with one page.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

struct Fixed(OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A published micro-badge of the demo issuer with the demo assessor in its pool; returns
/// (achievement id, issuer token, assessor token, assessor user id).
pub(crate) async fn assessed_badge(app: &TestApp, name: &str, fee: Option<Value>) -> (String, String, String, String) {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let mut body = badge_body(name);
    body["fee"] = fee.unwrap_or(Value::Null);
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text());
    let members = app.get(&format!("/api/v1/organisations/{org}/members"), Some(&issuer)).await.json();
    let assessor_id = members["items"].as_array().unwrap().iter().find(|m| m["role"] == "assessor").unwrap()["user_id"].as_str().unwrap().to_string();
    let added = app.json("POST", &format!("/api/v1/achievements/{id}/assessors"), Some(&issuer), &json!({"user_id": assessor_id})).await;
    assert_eq!(added.status, 204, "{}", added.text());
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    (id, issuer, assessor, assessor_id)
}

pub(crate) async fn sign_up(app: &TestApp, name: &str, email: &str) -> (String, String) {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": name, "email": email, "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    let token = app.token(email, "a long enough password").await;
    let id = app.get("/api/v1/me", Some(&token)).await.json()["id"].as_str().unwrap().to_string();
    (token, id)
}

async fn draft(app: &TestApp, token: &str, achievement: &str, overview: &str, reflection: &str) -> String {
    let body = json!({"overview": overview, "reflection": reflection, "links": ["https://example.org/repo"], "collaborators": []});
    let created = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(token), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["status"], "draft");
    created["id"].as_str().unwrap().to_string()
}

pub(crate) fn scores(levels: [&str; 2]) -> Value {
    json!({"scores": [
        {"criterion": "robustness", "level": levels[0], "comment": "Robustness comment"},
        {"criterion": "tests", "level": levels[1], "comment": "Tests comment"},
    ], "feedback": "Overall feedback"})
}

backend_test!(a_learner_earns_a_badge_through_not_yet_and_a_resubmission, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Robust Bash", None).await;
    let (learner, learner_id) = sign_up(app, "Ada Quietwater", "ada.quietwater@example.org").await;
    let id = draft(app, &learner, &badge, "I wrote a backup script.\nIt checks its input.", "I learnt to validate input first.").await;
    let upload = app.upload(&format!("/api/v1/submissions/{id}/artifacts"), Some(&learner), "ada-quietwater-cv.pdf", "application/pdf", PDF).await;
    assert_eq!(upload.status, 201, "{}", upload.text());
    let submitted = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text());
    let submitted = submitted.json();
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["due_at"].as_str().is_some());
    // Sending twice is refused and changes nothing.
    app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.problem(409, "submission-state");

    // The assessor's queue is double-blind.
    let queue = app.get("/api/v1/assessments", Some(&assessor)).await;
    assert_eq!(queue.status, 200, "{}", queue.text());
    let text = queue.text();
    for secret in ["Ada", "Quietwater", "ada.quietwater", learner_id.as_str(), "cv.pdf"] {
        assert!(!text.contains(secret), "the assessor queue shows {secret}: {text}");
    }
    let item = &queue.json()["items"][0];
    assert_eq!(item["submission_id"], id.as_str());
    assert_eq!(item["achievement_id"], badge.as_str());
    assert!(item["code"].as_str().unwrap().starts_with("S-"));
    assert_eq!(item["rubric"]["criteria"].as_array().unwrap().len(), 2);
    assert_eq!(item["overview"], "I wrote a backup script.\nIt checks its input.");
    let download = item["artifacts"][0]["download"].as_str().unwrap().replace("http://127.0.0.1:8080", "");
    let file = app.get(&download, Some(&assessor)).await;
    assert_eq!(file.status, 200);
    // The assessor gets the file as cleaned on upload, not as sent.
    let (_, cleaned) = cairn_core::evidence::accept_evidence(PDF, Some("application/pdf")).unwrap();
    assert_eq!(file.body, cleaned);
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains(item["code"].as_str().unwrap()) && !disposition.contains("quietwater"), "{disposition}");
    let opened = app.get(&format!("/api/v1/assessments/{id}"), Some(&assessor)).await;
    assert!(!opened.text().contains("Quietwater"));
    insta::assert_snapshot!("blind_assessor_view", crate::helpers::snapshot_text(&opened.json()));
    assert_eq!(opened.json()["status"], "in_review");

    // A level that does not exist is refused; nothing is recorded.
    app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["Legendary", "1"])).await.problem(422, "invalid-input");
    let not_yet = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["Proficient", "Developing"])).await;
    assert_eq!(not_yet.status, 200, "{}", not_yet.text());
    assert_eq!(not_yet.json()["outcome"], "not_yet");
    app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["Exemplary", "Exemplary"])).await.problem(409, "submission-state");

    // The learner reads per-criterion feedback, never the assessor's name.
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await;
    let view_text = view.text();
    assert!(!view_text.contains("Arjun") && !view_text.contains("assessor@demo"), "{view_text}");
    let view = view.json();
    assert_eq!(view["status"], "not_yet");
    assert_eq!(view["feedback"][0]["scores"][1]["met"], false);
    assert_eq!(view["feedback"][0]["scores"][1]["comment"], "Tests comment");
    assert_eq!(view["feedback"][0]["feedback"], "Overall feedback");
    assert_eq!(view["attempts_left"], 2);

    // Revise and resubmit: the same assessor gets it and sees what changed.
    let revised = json!({"overview": "I wrote a backup script.\nIt checks its input and has tests.", "reflection": "I learnt to validate input first.", "links": ["https://example.org/repo"]});
    let updated = app.json("PUT", &format!("/api/v1/submissions/{id}"), Some(&learner), &revised).await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let text_added = app.json("POST", &format!("/api/v1/submissions/{id}/texts"), Some(&learner), &json!({"title": "Test log", "body": "12 tests pass"})).await;
    assert_eq!(text_added.status, 201, "{}", text_added.text());
    let resubmitted = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(resubmitted.json()["status"], "resubmitted");
    assert_eq!(resubmitted.json()["attempt"], 2);
    let again = app.get(&format!("/api/v1/assessments/{id}"), Some(&assessor)).await.json();
    assert_eq!(again["attempt"], 2);
    assert_eq!(again["previous_feedback"][0]["outcome"], "not_yet");
    let changes = &again["changes"];
    assert!(changes["overview"].as_array().unwrap().iter().any(|l| l["op"] == "added" && l["text"] == "It checks its input and has tests."), "{changes}");
    assert_eq!(changes["added_artifacts"].as_array().unwrap().len(), 1);

    let pass = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["2", "Exemplary"])).await;
    assert_eq!(pass.status, 200, "{}", pass.text());
    // The assessor learns the outcome, not the award: its id would lead to the learner's name.
    assert_eq!(pass.json(), json!({"outcome": "pass", "awarded": true, "held": false}));
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["status"], "awarded");
    let award_id = view["award_id"].as_str().unwrap().to_string();

    // New awards start private: the learner and the issuer's staff see them, with the
    // submission behind them; nobody else does, the assessor included.
    let award_path = format!("/api/v1/awards/{award_id}");
    app.get(&award_path, None).await.problem(404, "not-found");
    app.get(&award_path, Some(&assessor)).await.problem(404, "not-found");
    let (stranger, _) = sign_up(app, "Sam Stranger", "sam.stranger@example.org").await;
    app.get(&award_path, Some(&stranger)).await.problem(404, "not-found");
    for (who, token) in [("learner", &learner), ("issuer staff", &issuer)] {
        let seen = app.get(&award_path, Some(token)).await;
        assert_eq!(seen.status, 200, "{who}: {}", seen.text());
        assert_eq!((seen.json()["privacy"].as_str(), seen.json()["submission_id"].as_str()), (Some("private"), Some(id.as_str())), "{who}");
    }
    assert_eq!(app.get("/api/v1/awards", Some(&learner)).await.json()["items"][0]["submission_id"], id.as_str());
    // The learner's privacy control opens it to anyone with the link, still without its provenance.
    let unlisted = app.json("PUT", &format!("{award_path}/privacy"), Some(&learner), &json!({"privacy": "unlisted"})).await;
    assert_eq!((unlisted.status.as_u16(), unlisted.json()["privacy"].as_str()), (200, Some("unlisted")), "{}", unlisted.text());
    for token in [None, Some(assessor.as_str()), Some(stranger.as_str())] {
        let seen = app.get(&award_path, token).await;
        assert_eq!(seen.status, 200, "{}", seen.text());
        assert_eq!(seen.json()["submission_id"], Value::Null, "the submission is the learner's and the issuer's business");
        assert!(!seen.text().contains(&id), "{}", seen.text());
    }

    let award = app.get(&award_path, None).await;
    let award = award.json();
    assert_eq!(award["achievement_id"], badge.as_str());
    assert_eq!(award["status"], "active");
    for form in ["page", "credential", "jwt", "png", "svg", "ob2"] {
        let link = award["links"][form].as_str().unwrap().replace("http://127.0.0.1:8080", "");
        let response = app.get(&link, None).await;
        assert_eq!(response.status, 200, "{form} at {link}: {}", response.text());
    }
    let credential: Value = serde_json::from_slice(&app.get(&format!("/awards/{award_id}/credential"), None).await.body).unwrap();
    let results = credential["credentialSubject"]["result"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{credential}");

    // The learner's submitted links show on the award page only once they make evidence public.
    let page = format!("/awards/{award_id}");
    assert!(!app.get(&page, None).await.text().contains("https://example.org/repo"));
    let shown = app.json("PUT", &format!("/api/v1/awards/{award_id}/privacy"), Some(&learner), &json!({"privacy": "public", "evidence_public": true})).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(app.get(&page, None).await.text().contains("https://example.org/repo"));

    // History records every step with its actor and time.
    let history = view["history"].as_array().unwrap();
    let statuses: Vec<&str> = history.iter().map(|h| h["status"].as_str().unwrap()).collect();
    for status in ["draft", "submitted", "in_review", "not_yet", "resubmitted", "passed", "awarded"] {
        assert!(statuses.contains(&status), "{status} missing from {statuses:?}");
    }
    // Notifications reached the learner.
    let notes = app.get("/api/v1/notifications", Some(&learner)).await.json();
    assert!(notes["unread"].as_u64().unwrap() >= 3, "{notes}");
});

backend_test!(uploads_and_submissions_refuse_bad_input_and_lose_nothing, |app| {
    let (badge, _issuer, _assessor, _) = assessed_badge(app, "Careful Uploads", None).await;
    let (learner, _) = sign_up(app, "Bo Ren", "bo.ren@example.org").await;
    let (other, _) = sign_up(app, "Cy Vale", "cy.vale@example.org").await;
    // Submitting without the required parts names each one.
    let id = draft(app, &learner, &badge, "", "").await;
    let missing = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.problem(422, "invalid-input");
    let pointers: Vec<&str> = missing["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"/overview") && pointers.contains(&"/reflection"), "{pointers:?}");
    let path = format!("/api/v1/submissions/{id}/artifacts");
    app.upload(&path, Some(&learner), "empty.pdf", "application/pdf", b"").await.problem(422, "invalid-input");
    app.upload(&path, Some(&learner), "fake.pdf", "application/pdf", b"\x89PNG\r\n\x1a\nnot really").await.problem(415, "unsupported-media-type");
    app.upload(&path, Some(&learner), "tool.exe", "application/octet-stream", b"MZ\x90\x00\x03\x00\x00\x00").await.problem(415, "unsupported-media-type");
    let huge = vec![b'a'; cairn_core::evidence::MAX_EVIDENCE_BYTES + 10];
    app.upload(&path, Some(&learner), "huge.txt", "text/plain", &huge).await.problem(413, "too-large");
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["artifacts"].as_array().unwrap().len(), 0);
    assert_eq!(view["status"], "draft");
    // Someone else's submission does not exist for them.
    app.get(&format!("/api/v1/submissions/{id}"), Some(&other)).await.problem(404, "not-found");
    app.json("PUT", &format!("/api/v1/submissions/{id}"), Some(&other), &json!({"overview": "mine now"})).await.problem(404, "not-found");
    app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&other), &json!({})).await.problem(404, "not-found");
    app.upload(&path, Some(&other), "x.pdf", "application/pdf", PDF).await.problem(404, "not-found");
    app.get(&format!("/api/v1/submissions/{id}"), None).await.problem(401, "unauthenticated");
    // Bad field values are named; a second live submission for the same badge is refused.
    let bad = json!({"overview": "x", "links": ["javascript:alert(1)"], "collaborators": ["bo.ren@example.org"]});
    let invalid = app.json("PUT", &format!("/api/v1/submissions/{id}"), Some(&learner), &bad).await.problem(422, "invalid-input");
    assert_eq!(invalid["errors"].as_array().unwrap().len(), 2, "{invalid}");
    let twice = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&learner), &json!({})).await;
    twice.problem(409, "conflict");
    app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&learner), &json!({"surprise": 1})).await.problem(400, "malformed-request");
    // A withdrawn submission can be followed by a new one.
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/withdraw"), Some(&learner), &json!({})).await.json()["status"], "withdrawn");
    draft(app, &learner, &badge, "again", "again").await;
});

backend_test!(only_the_assigned_assessor_scores_and_only_once, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Single Judgement", None).await;
    let (learner, _) = sign_up(app, "Di Moss", "di.moss@example.org").await;
    let id = draft(app, &learner, &badge, "Overview of the work", "Reflection on the work").await;
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.status, 200);
    // The issuer (not assigned) and the learner cannot score it.
    app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&issuer), &scores(["3", "3"])).await.problem(404, "not-found");
    app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&learner), &scores(["3", "3"])).await.problem(404, "not-found");
    app.get(&format!("/api/v1/assessments/{id}"), Some(&learner)).await.problem(404, "not-found");
    // Two judgements at once: exactly one wins and one award exists.
    let path = format!("/api/v1/assessments/{id}");
    let first = scores(["3", "3"]);
    let second = scores(["1", "1"]);
    let (a, b) = tokio::join!(app.json("POST", &path, Some(&assessor), &first), app.json("POST", &path, Some(&assessor), &second));
    let statuses = [a.status.as_u16(), b.status.as_u16()];
    assert!(statuses.contains(&200) && (statuses.contains(&409) || statuses.contains(&404)), "{statuses:?}: {} {}", a.text(), b.text());
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["feedback"].as_array().unwrap().len(), 1);
    let awards = app.get("/api/v1/awards", Some(&learner)).await.json();
    assert!(awards["items"].as_array().unwrap().len() <= 1);
});

backend_test!(fees_block_submission_until_paid_waived_or_vouchered, |app| {
    let fee = json!({"amount": "25.00", "currency": "EUR"});
    let (badge, issuer, _assessor, _) = assessed_badge(app, "Paid Badge", Some(fee)).await;
    let org = app.demo_organisation().await;
    let (learner, _) = sign_up(app, "Ed Pike", "ed.pike@example.org").await;
    let id = draft(app, &learner, &badge, "Overview", "Reflection").await;
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["fee"], "due");
    app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.problem(409, "fee-due");
    app.json("POST", &format!("/api/v1/submissions/{id}/voucher"), Some(&learner), &json!({"code": "NOPE-NOPE"})).await.problem(404, "not-found");
    let codes = app.json("POST", &format!("/api/v1/organisations/{org}/vouchers"), Some(&issuer), &json!({"count": 2, "achievement_id": badge})).await;
    assert_eq!(codes.status, 201, "{}", codes.text());
    let code = codes.json()["codes"][0].as_str().unwrap().to_lowercase();
    let redeemed = app.json("POST", &format!("/api/v1/submissions/{id}/voucher"), Some(&learner), &json!({"code": code})).await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.text());
    assert_eq!(redeemed.json()["fee"], "voucher");
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.status, 200);
    // A used voucher cannot be used again; staff can waive a fee; learners cannot.
    let (other, _) = sign_up(app, "Fay Holt", "fay.holt@example.org").await;
    let other_id = draft(app, &other, &badge, "Overview", "Reflection").await;
    app.json("POST", &format!("/api/v1/submissions/{other_id}/voucher"), Some(&other), &json!({"code": code})).await.problem(409, "conflict");
    app.json("POST", &format!("/api/v1/submissions/{other_id}/fee"), Some(&other), &json!({"action": "waived"})).await.problem(403, "forbidden");
    let waived = app.json("POST", &format!("/api/v1/submissions/{other_id}/fee"), Some(&issuer), &json!({"action": "waived"})).await;
    assert_eq!(waived.json()["fee"], "waived");
    app.json("POST", &format!("/api/v1/submissions/{other_id}/fee"), Some(&issuer), &json!({"action": "paid"})).await.problem(409, "conflict");
});

backend_test!(near_identical_work_from_different_learners_is_flagged, |app| {
    let (badge, _issuer, assessor, _) = assessed_badge(app, "Original Work", None).await;
    let essay = "I designed a small web service that stores notes, wrote tests for every route and deployed it behind a proxy. \
                 Then I measured how long each request took, found the slow query, added an index and measured again.";
    let (one, _) = sign_up(app, "Gil Shaw", "gil.shaw@example.org").await;
    let (two, _) = sign_up(app, "Hal Ives", "hal.ives@example.org").await;
    let a = draft(app, &one, &badge, essay, "My own reflection about planning the work before starting to write any code").await;
    let b = draft(app, &two, &badge, &essay.replace("small", "tiny"), "A different reflection on testing and what I would change if I did it again").await;
    for (token, id) in [(&one, &a), (&two, &b)] {
        assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(token), &json!({})).await.status, 200);
    }
    let view = app.get(&format!("/api/v1/assessments/{a}"), Some(&assessor)).await.json();
    let duplicates = view["duplicates"].as_array().unwrap();
    assert_eq!(duplicates.len(), 1, "{view}");
    assert_eq!(duplicates[0]["kind"], "text");
    assert!(duplicates[0]["other_code"].as_str().unwrap().starts_with("S-"));
    let other = app.get(&format!("/api/v1/assessments/{b}"), Some(&assessor)).await.json();
    assert_eq!(other["duplicates"].as_array().unwrap().len(), 1);
});

backend_test!(due_dates_count_business_days_and_late_work_is_escalated, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Timely Review", None).await;
    let org = app.demo_organisation().await;
    let settings = json!({"service_days": 3, "nearly_due_days": 1, "attempt_limit": 1, "confirm_passes": false, "holidays": ["2026-11-24"]});
    let saved = app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(&issuer), &settings).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let bad = json!({"service_days": 0, "nearly_due_days": 1, "holidays": ["someday"]});
    app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(&issuer), &bad).await.problem(422, "invalid-input");
    app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(&assessor), &settings).await.problem(403, "forbidden");

    // Friday 20 November: +3 business days skipping the weekend and Tuesday's holiday = Thursday 26th.
    let friday = OffsetDateTime::from_unix_timestamp(1_795_166_400).unwrap(); // 2026-11-20 09:20 UTC
    assert_eq!(friday.weekday(), time::Weekday::Friday);
    let mut state: AppState = app.state.clone();
    state.app.clock = Arc::new(Fixed(friday));
    let router = cairn_server::app(state.clone());
    let (learner, _) = sign_up(app, "Ivy Lark", "ivy.lark@example.org").await;
    let id = draft(app, &learner, &badge, "Overview", "Reflection").await;
    let submitted = state.app.store.submission(id.parse().unwrap()).await.unwrap();
    let actor = cairn_core::authz::Actor::member(submitted.learner, vec![]);
    let submitted = cairn_app::submissions::submit(&state.app, &actor, submitted.id).await.unwrap();
    let due = submitted.due_at.unwrap();
    assert_eq!((due.year(), u8::from(due.month()), due.day()), (2026, 11, 26));
    drop(router);

    // On the due day it is nearly due and escalated once; the dashboard flags it.
    state.app.clock = Arc::new(Fixed(due - time::Duration::hours(1)));
    assert_eq!(cairn_app::jobs::escalate_due(&state.app).await.unwrap(), 1);
    assert_eq!(cairn_app::jobs::escalate_due(&state.app).await.unwrap(), 0, "escalated once");
    let dashboard = app.get(&format!("/api/v1/organisations/{org}/submissions"), Some(&issuer)).await.json();
    let line = dashboard["items"].as_array().unwrap().iter().find(|l| l["submission_id"] == id.as_str()).unwrap().clone();
    assert!(line["due_state"].is_string());
    let staff_notes = app.get("/api/v1/notifications", Some(&issuer)).await.json();
    assert!(staff_notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "escalation"), "{staff_notes}");

    // With an attempt limit of one, "not yet" is final.
    let not_yet = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["1", "1"])).await;
    assert_eq!(not_yet.json()["outcome"], "not_yet");
    app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.problem(409, "submission-state");
});

backend_test!(the_second_stage_holds_passes_for_staff_confirmation, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Confirmed Passes", None).await;
    let org = app.demo_organisation().await;
    let settings = json!({"service_days": 14, "nearly_due_days": 2, "attempt_limit": null, "confirm_passes": true, "holidays": []});
    assert_eq!(app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(&issuer), &settings).await.status, 200);
    let (learner, _) = sign_up(app, "Jo Marsh", "jo.marsh@example.org").await;
    let id = draft(app, &learner, &badge, "Overview", "Reflection").await;
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.status, 200);
    let pass = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scores(["3", "3"])).await.json();
    assert_eq!(pass, json!({"outcome": "pass", "awarded": false, "held": false}));
    assert_eq!(app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json()["status"], "passed");
    app.json("POST", &format!("/api/v1/submissions/{id}/confirm"), Some(&assessor), &json!({})).await.problem(403, "forbidden");
    let award = app.json("POST", &format!("/api/v1/submissions/{id}/confirm"), Some(&issuer), &json!({})).await;
    assert_eq!(award.status, 200, "{}", award.text());
    let award_id = award.json()["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json()["award_id"], award_id.as_str());
    app.json("POST", &format!("/api/v1/submissions/{id}/confirm"), Some(&issuer), &json!({})).await.problem(409, "submission-state");
    // Revoking keeps the reason and shows in the award.
    let revoked =
        app.json("POST", &format!("/api/v1/awards/{award_id}/status"), Some(&issuer), &json!({"action": "revoke", "reason": "issued in error"})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert_eq!((revoked.json()["status"].as_str(), revoked.json()["status_reason"].as_str()), (Some("revoked"), Some("issued in error")));
    app.json("POST", &format!("/api/v1/awards/{award_id}/status"), Some(&learner), &json!({"action": "reinstate"})).await.problem(403, "forbidden");
    // Privacy: a private award is hidden from others.
    let private = app.json("PUT", &format!("/api/v1/awards/{award_id}/privacy"), Some(&learner), &json!({"privacy": "private"})).await;
    assert_eq!(private.json()["privacy"], "private");
    app.get(&format!("/api/v1/awards/{award_id}"), None).await.problem(404, "not-found");
    assert_eq!(app.get(&format!("/api/v1/awards/{award_id}"), Some(&learner)).await.status, 200);
});

/// A minimal SMTP server on loopback that accepts every message and hands each DATA block over.
async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            sender.send(std::mem::take(body)).unwrap();
                            data = None;
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, receiver)
}

backend_test!(mail_is_sent_over_smtp_when_configured_and_kept_otherwise, |app| {
    let (badge, _issuer, _assessor, _) = assessed_badge(app, "Mailed Badge", None).await;
    let (learner, _) = sign_up(app, "Kim Reed", "kim.reed@example.org").await;
    let id = draft(app, &learner, &badge, "Overview", "Reflection").await;
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await.status, 200);
    // Without SMTP the mail waits in the outbox.
    let kept = cairn_app::jobs::Mailer::from_config(&app.state.app);
    assert!(!kept.sends());
    assert_eq!(cairn_app::jobs::run_once(&app.state.app, &kept).await.sent, 0);
    let pending = app.state.app.store.pending_mail(100).await.unwrap();
    assert!(pending.iter().any(|m| m.to == "kim.reed@example.org" && m.subject.starts_with("Submitted")), "{pending:?}");
    // With SMTP every pending mail is delivered once.
    let (port, mut received) = fake_smtp().await;
    let mut state: AppState = app.state.clone();
    let mut config = (*state.app.config).clone();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.mail_from = "Cairn <badges@example.org>".into();
    state.app.config = Arc::new(config);
    let mailer = cairn_app::jobs::Mailer::from_config(&state.app);
    assert!(mailer.sends());
    let report = cairn_app::jobs::run_once(&state.app, &mailer).await;
    assert_eq!((report.sent, report.failed), (pending.len(), 0));
    let mut bodies = Vec::new();
    while let Ok(body) = received.try_recv() {
        bodies.push(body);
    }
    assert_eq!(bodies.len(), pending.len());
    assert!(bodies.iter().any(|b| b.contains("To: kim.reed@example.org") && b.contains("From: Cairn <badges@example.org>")), "{bodies:?}");
    assert!(app.state.app.store.pending_mail(100).await.unwrap().is_empty());
    assert_eq!(cairn_app::jobs::run_once(&state.app, &mailer).await.sent, 0, "sent once");
});
