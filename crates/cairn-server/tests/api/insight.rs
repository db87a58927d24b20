//! Inter-rater agreement and issuer insight over the API: a sampled judgement is held for a
//! second, blind assessor; agreement lets the first decision stand, disagreement goes to a
//! moderator whose decision stands; the insight's figures, CSV and permissions.

use crate::helpers::TestApp;
use crate::journey::{assessed_badge, sign_up};
use serde_json::{Value, json};

fn scoring(robustness: &str, tests: &str, feedback: &str) -> Value {
    json!({"scores": [
        {"criterion": "robustness", "level": robustness, "comment": format!("{feedback} on robustness")},
        {"criterion": "tests", "level": tests, "comment": format!("{feedback} on tests")},
    ], "feedback": feedback})
}

/// A second assessor in the demo issuer and in the badge's pool; returns their token.
async fn second_assessor(app: &TestApp, badge: &str, issuer: &str) -> String {
    let org = app.demo_organisation().await;
    let (token, id) = sign_up(app, "Bea Second", "bea.second@example.org").await;
    let added =
        app.json("POST", &format!("/api/v1/organisations/{org}/members"), Some(issuer), &json!({"email": "bea.second@example.org", "role": "assessor"})).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let pooled = app.json("POST", &format!("/api/v1/achievements/{badge}/assessors"), Some(issuer), &json!({"user_id": id})).await;
    assert_eq!(pooled.status, 204, "{}", pooled.text());
    token
}

async fn sample_everything(app: &TestApp, issuer: &str) {
    let org = app.demo_organisation().await;
    let body = json!({"service_days": 14, "nearly_due_days": 2, "attempt_limit": 3, "sampling_percent": 100});
    let saved = app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(issuer), &body).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["sampling_percent"], 100);
    let bad = json!({"service_days": 14, "nearly_due_days": 2, "sampling_percent": 101});
    let refused = app.json("PUT", &format!("/api/v1/organisations/{org}/assessment-settings"), Some(issuer), &bad).await.problem(422, "invalid-input");
    assert_eq!(refused["errors"][0]["pointer"], "/sampling_percent");
}

/// The evidence file each learner sends.
const NOTES: &[u8] = b"Test notes: the script refuses a missing source directory.\n";

/// A learner's submission with an evidence file, sent; returns (learner token, submission id).
async fn sent(app: &TestApp, badge: &str, name: &str, email: &str) -> (String, String) {
    let (learner, _) = sign_up(app, name, email).await;
    let body =
        json!({"overview": "My backup script and its tests.", "reflection": "I learnt to test the unhappy paths.", "links": ["https://example.org/repo"]});
    let created = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&learner), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    let upload = app.upload(&format!("/api/v1/submissions/{id}/artifacts"), Some(&learner), "my-test-notes.txt", "text/plain", NOTES).await;
    assert_eq!(upload.status, 201, "{}", upload.text());
    let submitted = app.json("POST", &format!("/api/v1/submissions/{id}/submit"), Some(&learner), &json!({})).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text());
    (learner, id)
}

/// Which of the two assessors holds `id` now: (holder, other).
async fn holder<'a>(app: &TestApp, id: &str, a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    let queued = |queue: Value| queue["items"].as_array().unwrap().iter().any(|item| item["submission_id"] == id);
    let in_a = queued(app.get("/api/v1/assessments", Some(a)).await.json());
    let in_b = queued(app.get("/api/v1/assessments", Some(b)).await.json());
    assert!(in_a != in_b, "exactly one assessor holds {id}: {in_a} {in_b}");
    if in_a { (a, b) } else { (b, a) }
}

async fn learner_sees_nothing_yet(app: &TestApp, learner: &str, id: &str) {
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(learner)).await;
    let text = view.text();
    let view = view.json();
    assert!(["submitted", "in_review"].contains(&view["status"].as_str().unwrap()), "{view}");
    assert_eq!(view["feedback"].as_array().unwrap().len(), 0, "{view}");
    assert_eq!(view["award_id"], Value::Null);
    assert!(!text.contains("FIRST") && !text.contains("SECOND"), "the learner reads no scoring yet: {text}");
}

backend_test!(sampled_judgements_are_scored_twice_blind_and_disagreements_are_moderated, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Sampled Bash", None).await;
    let bea = second_assessor(app, &badge, &issuer).await;
    sample_everything(app, &issuer).await;
    let org = app.demo_organisation().await;

    // Agreement: the first judgement waits for a second, blind one, then stands.
    let (ada, agreed) = sent(app, &badge, "Ada Twofold", "ada.twofold@example.org").await;
    let (first, second) = holder(app, &agreed, &assessor, &bea).await;
    let held = app.json("POST", &format!("/api/v1/assessments/{agreed}"), Some(first), &scoring("Proficient", "Proficient", "FIRST pass")).await;
    assert_eq!(held.status, 200, "{}", held.text());
    assert_eq!(held.json(), json!({"outcome": "pass", "awarded": false, "held": true}));
    learner_sees_nothing_yet(app, &ada, &agreed).await;
    let (now_first, _) = holder(app, &agreed, &assessor, &bea).await;
    assert_eq!(now_first, second, "the second assessor has it now, the first no longer");
    let blind = app.get(&format!("/api/v1/assessments/{agreed}"), Some(second)).await;
    assert_eq!(blind.status, 200, "{}", blind.text());
    for secret in ["FIRST", "Ada", "Twofold", "ada.twofold"] {
        assert!(!blind.text().contains(secret), "the second assessor sees {secret}: {}", blind.text());
    }
    app.json("POST", &format!("/api/v1/assessments/{agreed}"), Some(first), &scoring("Exemplary", "Exemplary", "FIRST again")).await.problem(404, "not-found");
    let agree = app.json("POST", &format!("/api/v1/assessments/{agreed}"), Some(second), &scoring("Proficient", "Exemplary", "SECOND pass")).await;
    assert_eq!(agree.status, 200, "{}", agree.text());
    assert_eq!(agree.json(), json!({"outcome": "pass", "awarded": true, "held": false}));
    let view = app.get(&format!("/api/v1/submissions/{agreed}"), Some(&ada)).await.json();
    assert_eq!(view["status"], "awarded");
    assert_eq!(view["feedback"][0]["feedback"], "FIRST pass", "the first judgement is the decision");
    let award = view["award_id"].as_str().unwrap().to_string();

    // Disagreement: a moderator who scored neither reads both, blind, and decides.
    let (cy, disputed) = sent(app, &badge, "Cy Twofold", "cy.twofold@example.org").await;
    let (first, second) = holder(app, &disputed, &assessor, &bea).await;
    let held = app.json("POST", &format!("/api/v1/assessments/{disputed}"), Some(first), &scoring("Proficient", "Proficient", "FIRST pass")).await;
    assert_eq!(held.json()["held"], true);
    let split = app.json("POST", &format!("/api/v1/assessments/{disputed}"), Some(second), &scoring("Developing", "Proficient", "SECOND not yet")).await;
    assert_eq!(split.status, 200, "{}", split.text());
    assert_eq!(split.json(), json!({"outcome": "not_yet", "awarded": false, "held": true}));
    learner_sees_nothing_yet(app, &cy, &disputed).await;
    for token in [&assessor, &bea] {
        let queue = app.get("/api/v1/assessments", Some(token)).await.json();
        assert!(queue["items"].as_array().unwrap().iter().all(|item| item["submission_id"] != disputed.as_str()), "no assessor holds it: {queue}");
        app.get(&format!("/api/v1/organisations/{org}/moderation"), Some(token)).await.problem(403, "forbidden");
        app.get(&format!("/api/v1/moderation/{disputed}"), Some(token)).await.problem(403, "forbidden");
    }
    let queue = app.get(&format!("/api/v1/organisations/{org}/moderation"), Some(&issuer)).await;
    assert_eq!(queue.status, 200, "{}", queue.text());
    let items = queue.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        (items[0]["submission_id"].as_str(), items[0]["first_outcome"].as_str(), items[0]["second_outcome"].as_str()),
        (Some(disputed.as_str()), Some("pass"), Some("not_yet"))
    );
    let both = app.get(&format!("/api/v1/moderation/{disputed}"), Some(&issuer)).await;
    assert_eq!(both.status, 200, "{}", both.text());
    assert!(!both.text().contains("Cy Twofold") && !both.text().contains("cy.twofold"), "{}", both.text());
    // The moderator downloads the evidence file as the assessors did, under its blind name;
    // nobody else may.
    let download = both.json()["artifacts"][0]["download"].as_str().unwrap().replace("http://127.0.0.1:8080", "");
    let file = app.get(&download, Some(&issuer)).await;
    assert_eq!(file.status, 200, "{}", file.text());
    assert_eq!(file.body, NOTES);
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains(both.json()["code"].as_str().unwrap()) && !disposition.contains("my-test-notes"), "{disposition}");
    app.get(&download, Some(&cy)).await.problem(404, "not-found");
    let scorings = both.json()["scorings"].as_array().unwrap().clone();
    assert_eq!(scorings.iter().map(|s| s["feedback"].as_str().unwrap()).collect::<Vec<_>>(), ["FIRST pass", "SECOND not yet"]);
    app.json("POST", &format!("/api/v1/moderation/{disputed}"), Some(&issuer), &scoring("Legendary", "1", "x")).await.problem(422, "invalid-input");
    let decided = app.json("POST", &format!("/api/v1/moderation/{disputed}"), Some(&issuer), &scoring("Developing", "Proficient", "MODERATOR not yet")).await;
    assert_eq!(decided.status, 200, "{}", decided.text());
    assert_eq!(decided.json(), json!({"outcome": "not_yet", "awarded": false}));
    let view = app.get(&format!("/api/v1/submissions/{disputed}"), Some(&cy)).await.json();
    assert_eq!(view["status"], "not_yet");
    assert_eq!(view["feedback"][0]["feedback"], "MODERATOR not yet", "the moderator's decision stands");
    app.json("POST", &format!("/api/v1/moderation/{disputed}"), Some(&issuer), &scoring("Exemplary", "Exemplary", "again")).await.problem(404, "not-found");
    app.get(&download, Some(&issuer)).await.problem(404, "not-found");
    assert!(app.get(&format!("/api/v1/organisations/{org}/moderation"), Some(&issuer)).await.json()["items"].as_array().unwrap().is_empty());

    // The award is seen twice by visitors once its learner shares it.
    let shared = app.json("PUT", &format!("/api/v1/awards/{award}/privacy"), Some(&ada), &json!({"privacy": "unlisted"})).await;
    assert_eq!(shared.status, 200, "{}", shared.text());
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/awards/{award}"), None).await.status, 200);
    }
    // Its learner's own visits are not views.
    let mut own = crate::helpers::Browser::signed_in(app.router.clone(), ("ada.twofold@example.org", "a long enough password")).await;
    assert_eq!(own.get(&format!("/awards/{award}")).await.status, 200);
    // It shares it twice (LinkedIn, then X); a visitor's try at its share link counts nothing.
    for network in ["linkedin", "x"] {
        assert_eq!(own.get(&format!("/awards/{award}/share/{network}")).await.status, 303);
    }
    assert_eq!(app.get(&format!("/awards/{award}/share/linkedin"), None).await.status, 404);

    // The insight: exact figures for this scenario.
    let path = format!("/api/v1/organisations/{org}/insights?achievement={badge}");
    let insight = app.get(&path, Some(&issuer)).await;
    assert_eq!(insight.status, 200, "{}", insight.text());
    let insight = insight.json();
    let sent_total: u64 = insight["submissions"].as_array().unwrap().iter().map(|b| b["first_attempts"].as_u64().unwrap()).sum();
    assert_eq!(sent_total, 2, "{insight}");
    assert_eq!(insight["period"]["grain"], "week");
    assert_eq!(insight["pass_rate"]["first_attempt"], json!({"passed": 1, "decided": 2, "percent": 50.0}));
    assert_eq!(insight["pass_rate"]["overall"], json!({"passed": 1, "decided": 2, "percent": 50.0}));
    assert_eq!(insight["time_to_decision"]["decisions"], 2);
    assert_eq!(insight["time_to_decision"]["breaches"], 0);
    assert_eq!(insight["time_to_decision"]["p50_business_days"], 0);
    assert_eq!(insight["time_to_decision"]["service_days"], 14);
    assert_eq!(insight["sampling"], json!({"rate_percent": 100, "sampled": 2, "waiting_second": 0, "waiting_moderation": 0, "agreed": 1, "moderated": 1}));
    assert_eq!(insight["awards"], json!({"issued": 1, "viewed": 2, "shared": 2, "verified": 0}));
    let decided: u64 = insight["assessors"].as_array().unwrap().iter().map(|a| a["decided"].as_u64().unwrap()).sum();
    assert_eq!(decided, 2, "one decision by the first assessor, one by the moderator: {insight}");
    // Robustness: (Proficient, Proficient) and (Proficient, Developing); tests: (Proficient,
    // Exemplary) and (Proficient, Proficient). Each: half exact; the first assessor gave one
    // level throughout, so observed and expected disagreement are equal and kappa is 0.
    let agreement = insight["agreement"].as_array().unwrap();
    assert_eq!(agreement.len(), 2, "{insight}");
    for criterion in agreement {
        assert_eq!(
            (criterion["pairs"].as_u64(), criterion["exact_percent"].as_f64(), criterion["weighted_kappa"].as_f64()),
            (Some(2), Some(50.0), Some(0.0)),
            "{criterion}"
        );
        assert_eq!(criterion["kappa_note"], Value::Null);
    }

    // CSV, both ways.
    for csv_path in [format!("/api/v1/organisations/{org}/insights.csv?achievement={badge}"), format!("{path}&format=csv")] {
        let csv = app.get(&csv_path, Some(&issuer)).await;
        assert_eq!(csv.status, 200, "{}", csv.text());
        assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
        let text = csv.text();
        assert!(text.starts_with("section,item,measure,value\n"), "{text}");
        for line in [
            "pass_rate,first_attempt,percent,50.000",
            "sampling,all,moderated,1",
            "awards,all,views,2",
            "agreement,Sampled Bash / Robustness,weighted_kappa,0.000",
            "agreement,Sampled Bash / Tests,exact_percent,50.000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
    }

    // Only owners and staff see it; bad filters are named.
    app.get(&path, Some(&assessor)).await.problem(403, "forbidden");
    let (stranger, _) = sign_up(app, "Sam Outside", "sam.outside@example.org").await;
    app.get(&path, Some(&stranger)).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/organisations/{org}/insights.csv"), Some(&stranger)).await.problem(403, "forbidden");
    app.get(&path, None).await.problem(401, "unauthenticated");
    let bad = app.get(&format!("/api/v1/organisations/{org}/insights?from=tomorrow"), Some(&issuer)).await.problem(422, "invalid-input");
    assert_eq!(bad["errors"][0]["pointer"], "/from");
    app.get(&format!("/api/v1/organisations/{org}/insights?achievement=not-an-id"), Some(&issuer)).await.problem(422, "invalid-input");
    app.get(&format!("/api/v1/organisations/{org}/insights?achievement={}", uuid::Uuid::new_v4()), Some(&issuer)).await.problem(422, "invalid-input");
    app.get(&format!("/api/v1/organisations/{org}/insights?format=xml"), Some(&issuer)).await.problem(422, "invalid-input");
    // Without a filter: every achievement, and kappa is absent rather than a number it is not.
    let all = app.get(&format!("/api/v1/organisations/{org}/insights"), Some(&issuer)).await.json();
    assert_eq!(all["achievement_id"], Value::Null);
    assert!(all["pass_rate"]["first_attempt"]["decided"].as_u64().unwrap() >= 2, "{all}");
    // The issuer's daily totals of award use agree with its one used award's.
    assert_eq!((&all["awards"]["viewed"], &all["awards"]["shared"], &all["awards"]["verified"]), (&json!(2), &json!(2), &json!(0)), "{all}");
});

backend_test!(no_sampling_leaves_the_journey_as_it_was, |app| {
    let (badge, issuer, assessor, _) = assessed_badge(app, "Unsampled Bash", None).await;
    let org = app.demo_organisation().await;
    let settings = app.get(&format!("/api/v1/organisations/{org}/assessment-settings"), Some(&issuer)).await.json();
    assert_eq!(settings["sampling_percent"], 0);
    let (learner, id) = sent(app, &badge, "Di Single", "di.single@example.org").await;
    let pass = app.json("POST", &format!("/api/v1/assessments/{id}"), Some(&assessor), &scoring("Proficient", "Proficient", "Fine work")).await;
    assert_eq!(pass.json(), json!({"outcome": "pass", "awarded": true, "held": false}));
    assert_eq!(app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json()["status"], "awarded");
    let insight = app.get(&format!("/api/v1/organisations/{org}/insights?achievement={badge}"), Some(&issuer)).await.json();
    assert_eq!(insight["sampling"]["sampled"], 0);
    assert_eq!(insight["agreement"], json!([]));
    assert_eq!(insight["pass_rate"]["first_attempt"]["percent"], 100.0);
});

backend_test!(the_insight_page_draws_charts_beside_tables_and_moderators_decide_in_the_browser, |app| {
    use crate::helpers::Browser;
    let (badge, issuer, assessor, _) = assessed_badge(app, "Paged Bash", None).await;
    let bea = second_assessor(app, &badge, &issuer).await;
    sample_everything(app, &issuer).await;
    let org = app.demo_organisation().await;
    let (learner, id) = sent(app, &badge, "Eve Paged", "eve.paged@example.org").await;
    let (first, second) = holder(app, &id, &assessor, &bea).await;
    assert_eq!(app.json("POST", &format!("/api/v1/assessments/{id}"), Some(first), &scoring("Exemplary", "Exemplary", "FIRST pass")).await.status, 200);
    assert_eq!(app.json("POST", &format!("/api/v1/assessments/{id}"), Some(second), &scoring("Developing", "Developing", "SECOND not yet")).await.status, 200);

    let mut owner = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let page = owner.get(&format!("/issuers/{org}/insights")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains("<svg class=\"chart\"");
    page.assert_contains("role=\"img\"");
    page.assert_contains("<title id=\"chart-pass-title\">Pass rate</title>");
    page.assert_contains("id=\"chart-pass-table\"");
    page.assert_contains(&format!("/issuers/{org}/insights.csv?"));
    page.assert_contains("Moderation (1 waiting)");
    let filtered = owner.get(&format!("/issuers/{org}/insights?achievement={badge}&from=2020-01-01&to=2020-01-31")).await;
    assert_eq!(filtered.status, 200, "{}", filtered.text());
    filtered.assert_contains("No work has been scored twice in this period.");
    let bad = owner.get(&format!("/issuers/{org}/insights?from=not-a-date")).await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    bad.assert_contains("is not a date");
    let csv = owner.get(&format!("/issuers/{org}/insights.csv?achievement={badge}")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text().contains("sampling,all,waiting_moderation,1"), "{}", csv.text());

    // The moderator's pages: the queue, both scorings, the decision.
    let queue = owner.get(&format!("/issuers/{org}/moderation")).await;
    assert_eq!(queue.status, 200, "{}", queue.text());
    queue.assert_contains(&format!("/moderate/{id}"));
    let view = owner.get(&format!("/moderate/{id}")).await;
    assert_eq!(view.status, 200, "{}", view.text());
    view.assert_contains("The two blind scorings");
    view.assert_contains("FIRST pass");
    view.assert_contains("SECOND not yet");
    view.assert_lacks("Eve Paged");
    view.assert_lacks("eve.paged");
    let missing = owner.post(&format!("/moderate/{id}"), &[("criterion_0", "robustness"), ("criterion_1", "tests"), ("feedback", "x")]).await;
    assert!([303, 422].contains(&missing.status.as_u16()), "a form without levels is refused and kept: {}", missing.text());
    let decided = owner
        .post(
            &format!("/moderate/{id}"),
            &[("criterion_0", "robustness"), ("level_0", "2"), ("criterion_1", "tests"), ("level_1", "2"), ("feedback", "MODERATOR pass")],
        )
        .await;
    decided.assert_redirect_with(&format!("/issuers/{org}/moderation"), "moderated-pass");
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["status"], "awarded");
    assert_eq!(view["feedback"][0]["feedback"], "MODERATOR pass");

    // Assessors and strangers see neither page.
    let mut judge = Browser::signed_in(app.router.clone(), ("assessor@demo.cairn.test", "cairn-demo-assessor")).await;
    assert_eq!(judge.get(&format!("/issuers/{org}/insights")).await.status, 403);
    assert_eq!(judge.get(&format!("/issuers/{org}/moderation")).await.status, 403);
    assert_eq!(judge.get(&format!("/issuers/{org}/insights.csv")).await.status, 403);
});
