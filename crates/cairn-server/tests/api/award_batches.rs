//! Bulk award over the API: a CSV file is checked row by row and awarded in the background;
//! its status names every row that failed or was skipped, each credential is held for its
//! address with a claim link mailed, and the same file sent again awards nobody twice.

use crate::helpers::{TestApp, TestResponse};
use crate::journey::sign_up;
use crate::offers::{LEARNER, badges_not_held, claim_links};
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;

async fn post_csv(app: &TestApp, token: &str, org: &str, content_type: &str, csv: &str) -> TestResponse {
    let request = Request::post(format!("/api/v1/organisations/{org}/award-batches"))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_DISPOSITION, "attachment; filename=\"spring-workshop.csv\"")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    app.send(request.body(Body::from(csv.to_string())).unwrap()).await
}

/// The batch once it is done (it is awarded in the background).
async fn done(app: &TestApp, token: &str, link: &str) -> Value {
    let path = link.split_once("/api/v1/").map(|(_, rest)| format!("/api/v1/{rest}")).unwrap();
    for _ in 0..300 {
        let batch = app.get(&path, Some(token)).await.json();
        if batch["status"] == "done" {
            return batch;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the batch did not finish: {}", app.get(&path, Some(token)).await.text());
}

backend_test!(a_csv_file_is_awarded_row_by_row_and_the_same_file_again_awards_nobody_twice, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let badges = badges_not_held(app).await;
    let (a, b) = (badges[0].id, badges[1].id);
    // The demo learner holds `b` already.
    let learner = app.state.app.store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    cairn_app::awards::award(&app.state.app, cairn_app::awards::AwardRequest::new(learner.id, b)).await.unwrap();
    let holds = b;
    let csv = format!(
        "Name,Email,Achievement_ID,Narrative,Evidence_URL\n\
         Ada Lovelace,ada@example.org,{a},Spring workshop,https://example.org/ada\n\
         \"Hopper, Grace\",grace@example.org,{a},,\n\
         Grace Hopper,grace@example.org,{b},Second badge,\n\
         Nobody,not an address,{a},,\n\
         Ghost,ghost@example.org,{ghost},,\n\
         Ada Lovelace,ADA@example.org,{a},Again,\n\
         Demo Learner,{learner},{holds},Holds it,\n",
        ghost = cairn_core::ids::AchievementId::new(),
        learner = LEARNER.0,
    );
    let created = post_csv(app, &issuer, &org, "text/csv; charset=utf-8", &csv).await;
    assert_eq!(created.status, 202, "{}", created.text());
    let batch = created.json();
    assert_eq!((batch["total"].as_u64(), batch["file_name"].as_str()), (Some(7), Some("spring-workshop.csv")));
    assert!(matches!(batch["status"].as_str(), Some("running" | "done")), "{batch}");
    let batch = done(app, &issuer, batch["links"]["self"].as_str().unwrap()).await;
    assert_eq!(
        (batch["awarded"].as_u64(), batch["failed"].as_u64(), batch["skipped"].as_u64(), batch["pending"].as_u64()),
        (Some(3), Some(2), Some(2), Some(0)),
        "{batch}"
    );
    let errors: Vec<(u64, String)> =
        batch["errors"].as_array().unwrap().iter().map(|e| (e["row"].as_u64().unwrap(), e["detail"].as_str().unwrap().to_string())).collect();
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), [5, 6], "{batch}");
    assert!(errors[0].1.contains("email"), "{errors:?}");
    assert!(errors[1].1.contains("no achievement of this issuer"), "{errors:?}");
    let skipped: Vec<(u64, String)> =
        batch["skipped_rows"].as_array().unwrap().iter().map(|e| (e["row"].as_u64().unwrap(), e["detail"].as_str().unwrap().to_string())).collect();
    assert_eq!(skipped.iter().map(|e| e.0).collect::<Vec<_>>(), [7, 8], "{batch}");
    assert!(skipped[0].1.contains("repeats row 2") && skipped[1].1.contains("holds it already"), "{skipped:?}");

    // Each awarded row is a direct award, its credential held, its claim link mailed.
    let offers = app.get(&format!("/api/v1/organisations/{org}/awards"), Some(&issuer)).await.json();
    let items = offers["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{offers}");
    let ada = items.iter().find(|o| o["recipient"]["email"] == "ada@example.org").unwrap();
    assert_eq!((ada["narrative"].as_str(), ada["evidence"][0]["url"].as_str()), (Some("Spring workshop"), Some("https://example.org/ada")));
    let grace = items.iter().find(|o| o["recipient"]["name"] == "Hopper, Grace").unwrap();
    let held = app.state.app.store.held_credential(grace["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert!(held.is_some_and(|h| h.credential_json.contains("\"proof\"")));
    assert_eq!(claim_links(app, "ada@example.org").await.len(), 1);
    assert_eq!(claim_links(app, "grace@example.org").await.len(), 2);

    // The same file again: every row awarded before is skipped, nobody is mailed again.
    let again = post_csv(app, &issuer, &org, "text/csv", &csv).await;
    assert_eq!(again.status, 202, "{}", again.text());
    let again = done(app, &issuer, again.json()["links"]["self"].as_str().unwrap()).await;
    assert_eq!((again["awarded"].as_u64(), again["skipped"].as_u64(), again["failed"].as_u64()), (Some(0), Some(5), Some(2)), "{again}");
    assert!(again["skipped_rows"][0]["detail"].as_str().unwrap().contains("waits to be claimed"), "{again}");
    assert_eq!(claim_links(app, "ada@example.org").await.len(), 1);
    let listed = app.get(&format!("/api/v1/organisations/{org}/award-batches"), Some(&issuer)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
});

backend_test!(only_an_issuers_staff_send_a_bulk_award_and_a_file_that_is_not_such_a_csv_is_refused, |app| {
    let issuer = app.issuer_token().await;
    let org = app.demo_organisation().await;
    let (learner, _) = sign_up(app, "Lee Learner", "lee@example.org").await;
    let csv = "email,name,achievement_id\nada@example.org,Ada,x\n";
    post_csv(app, &learner, &org, "text/csv", csv).await.problem(403, "forbidden");
    app.get(&format!("/api/v1/organisations/{org}/award-batches"), Some(&learner)).await.problem(403, "forbidden");
    let unsupported = post_csv(app, &issuer, &org, "application/json", "{}").await;
    assert_eq!(unsupported.status, 415, "{}", unsupported.text());
    let missing = post_csv(app, &issuer, &org, "text/csv", "email,name\nada@example.org,Ada\n").await.problem(422, "invalid-input");
    assert_eq!(missing["errors"][0]["pointer"], "/file");
    assert!(missing["errors"][0]["detail"].as_str().unwrap().contains("achievement_id"), "{missing}");
    let unknown = app.get(&format!("/api/v1/organisations/{org}/award-batches/{}", cairn_core::ids::AwardBatchId::new()), Some(&issuer)).await;
    assert_eq!(unknown.status, 404);
});

backend_test!(the_issuers_page_previews_a_file_then_awards_it_and_shows_what_was_not_awarded, |app| {
    let org = app.demo_organisation().await;
    let badge = &badges_not_held(app).await[0];
    let page_path = format!("/issuers/{org}/award-batches");
    let mut issuer = crate::helpers::Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let page = issuer.get(&page_path).await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.assert_contains("No files yet");
    page.assert_contains(&badge.id.to_string());

    // A file without the columns is refused at its field, and nothing is stored.
    let refused = issuer.multipart(&page_path, &[], ("file", "bad.csv", "text/csv", b"email,name\nada@example.org,Ada\n"), "text/html").await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    refused.assert_contains("href=\"#batch_file\"");
    refused.assert_contains("missing: achievement_id");

    // A good file is checked and previewed: nothing is awarded until it is confirmed.
    let csv = format!("email,name,achievement_id\nada@example.org,Ada Lovelace,{id}\nnobody,Nobody,{id}\n", id = badge.id);
    let sent = issuer.multipart(&page_path, &[], ("file", "workshop.csv", "text/csv", csv.as_bytes()), "text/html").await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let batch_path = sent.location().to_string();
    let preview = issuer.get(&batch_path).await;
    preview.assert_contains("Preview");
    preview.assert_contains("Award 1 recipients");
    preview.assert_contains("To award");
    preview.assert_contains("Cannot be awarded: email");
    assert!(claim_links(app, "ada@example.org").await.is_empty(), "nothing is awarded before the preview is confirmed");

    // Confirmed, it is awarded; the page shows the row that was not.
    let started = issuer.post(&format!("{batch_path}/start"), &[]).await;
    assert_eq!(started.status, 303, "{}", started.text());
    let mut page = issuer.get(&batch_path).await;
    for _ in 0..300 {
        if page.text().contains("<h2 id=\"state-title\">Done</h2>") {
            break;
        }
        assert_eq!(page.header(header::HeaderName::from_static("refresh")), "2", "a running batch's page follows it");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = issuer.get(&batch_path).await;
    }
    page.assert_contains("1 awarded, 1 could not be awarded");
    page.assert_contains("Rows not awarded");
    assert_eq!(claim_links(app, "ada@example.org").await.len(), 1);
    issuer.get(&page_path).await.assert_contains("workshop.csv");

    // A preview may be discarded; a started batch may not.
    let again = issuer.multipart(&page_path, &[], ("file", "again.csv", "text/csv", csv.as_bytes()), "text/html").await;
    let again_path = again.location().to_string();
    let discarded = issuer.post(&format!("{again_path}/discard"), &[]).await;
    assert_eq!(discarded.status, 303, "{}", discarded.text());
    assert_eq!(issuer.get(&again_path).await.status, 404);
    assert_eq!(issuer.post(&format!("{batch_path}/discard"), &[]).await.status, 409);

    // Nobody else sees the pages.
    sign_up(app, "Lee Learner", "lee@example.org").await;
    let mut learner = crate::helpers::Browser::signed_in(app.router.clone(), ("lee@example.org", "a long enough password")).await;
    assert_eq!(learner.get(&page_path).await.status, 403);
    assert_eq!(learner.get(&batch_path).await.status, 403);
});
