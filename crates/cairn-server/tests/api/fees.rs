//! A micro-credential's fee over the API: charged on its levels, paid once up front (covering
//! every level) or split a third per level, as the issuer sets; the learner's view says how to
//! pay with the issuer's instructions and link.

use crate::helpers::{TestApp, badge_body};
use serde_json::{Value, json};

/// A published micro-credential of the demo issuer costing 120 EUR under `plan`; returns its
/// id, its three level ids and the issuer's token.
async fn paid_micro_credential(app: &TestApp, name: &str, plan: &str) -> (String, Vec<String>, String) {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let level = |n: u8| {
        let mut body = badge_body(&format!("{name} {n}"));
        body.as_object_mut().unwrap().remove("kind");
        body["fee"] = Value::Null;
        body
    };
    let body = json!({
        "kind": "micro-credential",
        "name": name,
        "description": "Three levels of shell work",
        "criteria": "Hold all three levels",
        "fee": {"amount": "120", "currency": "EUR", "plan": plan},
        "levels": [level(1), level(2), level(3)],
        // These tests open drafts on several levels at once; the level order is tested in stacks.rs.
        "levels_in_any_order": true,
    });
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_eq!(created["fee"]["plan"], plan);
    let id = created["id"].as_str().unwrap().to_string();
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text());
    let levels = created["levels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    (id, levels, issuer)
}

async fn learner(app: &TestApp, name: &str, email: &str) -> String {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": name, "email": email, "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    app.token(email, "a long enough password").await
}

/// A complete draft for `achievement` (an overview, a reflection and a link), ready to send.
async fn draft(app: &TestApp, token: &str, achievement: &str) -> Value {
    let body = json!({"overview": "What I did", "reflection": "What I learnt", "links": ["https://example.org/work"]});
    let created = app.json("POST", &format!("/api/v1/achievements/{achievement}/submissions"), Some(token), &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()
}

async fn view(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/submissions/{id}"), Some(token)).await.json()
}

async fn settle(app: &TestApp, issuer: &str, id: &str, action: &str) -> Value {
    let settled = app.json("POST", &format!("/api/v1/submissions/{id}/fee"), Some(issuer), &json!({"action": action})).await;
    assert_eq!(settled.status, 200, "{}", settled.text());
    settled.json()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

backend_test!(a_level_of_a_paid_micro_credential_waits_for_the_fee, |app| {
    let (stack, levels, issuer) = paid_micro_credential(app, "Shell Mastery", "upfront").await;
    let token = learner(app, "Ada Quill", "ada.quill@example.org").await;
    app.json("POST", &format!("/api/v1/achievements/{stack}/submissions"), Some(&token), &json!({})).await.problem(409, "submission-state");
    let level1 = draft(app, &token, &levels[0]).await;
    assert_eq!(level1["fee"], "due", "a level of a paid micro-credential is not free");
    let submitted = app.json("POST", &format!("/api/v1/submissions/{}/submit", id(&level1)), Some(&token), &json!({})).await;
    let problem = submitted.problem(409, "fee-due");
    assert!(problem["detail"].as_str().unwrap().contains("fee"), "{problem}");
    let shown = view(app, &token, &id(&level1)).await;
    assert_eq!(shown["status"], "draft", "nothing was sent");
    assert_eq!(shown["fee_charge"]["label"], "120.00 EUR for all three levels, paid once");
    assert_eq!(shown["fee_charge"]["amount"]["amount_minor"], 12000);
    assert_eq!(shown["fee_charge"]["covers_every_level"], true);
    // Paid, it goes.
    settle(app, &issuer, &id(&level1), "paid").await;
    let sent = app.json("POST", &format!("/api/v1/submissions/{}/submit", id(&level1)), Some(&token), &json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.text());
});

backend_test!(a_micro_credential_fee_paid_once_covers_every_level, |app| {
    let (_, levels, issuer) = paid_micro_credential(app, "Data Craft", "upfront").await;
    let token = learner(app, "Bo Reed", "bo.reed@example.org").await;
    // Two levels started before the fee is paid: recording it on one settles both.
    let level1 = draft(app, &token, &levels[0]).await;
    let level2 = draft(app, &token, &levels[1]).await;
    assert_eq!((level1["fee"].as_str(), level2["fee"].as_str()), (Some("due"), Some("due")));
    let paid = settle(app, &issuer, &id(&level2), "paid").await;
    assert_eq!(paid["fee"], "paid");
    let covered = view(app, &token, &id(&level1)).await;
    assert_eq!(covered["fee"], "paid", "the other level's fee is settled with it");
    assert!(covered["history"].as_array().unwrap().iter().any(|h| h["note"] == "fee paid with the micro-credential's fee"), "{covered}");
    for level in [&level1, &level2] {
        let sent = app.json("POST", &format!("/api/v1/submissions/{}/submit", id(level)), Some(&token), &json!({})).await;
        assert_eq!(sent.status, 200, "{}", sent.text());
    }
    // A level started later owes nothing either.
    let level3 = draft(app, &token, &levels[2]).await;
    assert_eq!(level3["fee"], "paid");
    // Nothing is due, so there is nothing to record twice.
    app.json("POST", &format!("/api/v1/submissions/{}/fee", id(&level1)), Some(&issuer), &json!({"action": "paid"})).await.problem(409, "conflict");
    // Another learner still owes the fee.
    let other = learner(app, "Cy Dunn", "cy.dunn@example.org").await;
    assert_eq!(draft(app, &other, &levels[2]).await["fee"], "due");
});

backend_test!(a_voucher_pays_a_micro_credential_fee_for_every_level, |app| {
    let (stack, levels, issuer) = paid_micro_credential(app, "Voucher Stack", "upfront").await;
    let org = app.demo_organisation().await;
    let token = learner(app, "Di Lane", "di.lane@example.org").await;
    let level1 = draft(app, &token, &levels[0]).await;
    let level3 = draft(app, &token, &levels[2]).await;
    let codes = app.json("POST", &format!("/api/v1/organisations/{org}/vouchers"), Some(&issuer), &json!({"count": 1, "achievement_id": levels[0]})).await;
    assert_eq!(codes.status, 201, "{}", codes.text());
    let code = codes.json()["codes"][0].as_str().unwrap().to_string();
    let redeemed = app.json("POST", &format!("/api/v1/submissions/{}/voucher", id(&level1)), Some(&token), &json!({"code": code})).await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.text());
    assert_eq!(view(app, &token, &id(&level3)).await["fee"], "voucher");
    let _ = stack;
});

backend_test!(split_mode_charges_each_level_its_share, |app| {
    let (stack, levels, issuer) = paid_micro_credential(app, "Split Stack", "per-level").await;
    let listed = app.get(&format!("/api/v1/achievements/{stack}"), None).await.json();
    assert_eq!(listed["fee"]["plan"], "per-level");
    let token = learner(app, "Eve Park", "eve.park@example.org").await;
    let level1 = draft(app, &token, &levels[0]).await;
    let level2 = draft(app, &token, &levels[1]).await;
    let shown = view(app, &token, &id(&level1)).await;
    assert_eq!(shown["fee_charge"]["label"], "40.00 EUR, this level's share of 120.00 EUR");
    assert_eq!(shown["fee_charge"]["amount"]["amount_minor"], 4000);
    assert_eq!(shown["fee_charge"]["covers_every_level"], false);
    settle(app, &issuer, &id(&level1), "paid").await;
    assert_eq!(view(app, &token, &id(&level2)).await["fee"], "due", "a share paid covers its own level only");
    app.json("POST", &format!("/api/v1/submissions/{}/submit", id(&level2)), Some(&token), &json!({})).await.problem(409, "fee-due");
    let sent = app.json("POST", &format!("/api/v1/submissions/{}/submit", id(&level1)), Some(&token), &json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(draft(app, &token, &levels[2]).await["fee"], "due", "the third level owes its share too");
    // A fee plan is a micro-credential's only.
    let org = app.demo_organisation().await;
    let mut badge = badge_body("Split Badge");
    badge["fee"] = json!({"amount": "30", "currency": "EUR", "plan": "per-level"});
    let problem = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &badge).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/fee/plan");
    badge["fee"]["plan"] = json!("monthly");
    let problem = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &badge).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["detail"], "\"monthly\" is not a fee plan (upfront or per-level)");
});

backend_test!(the_learner_sees_the_issuers_payment_instructions_and_link, |app| {
    let (_, levels, issuer) = paid_micro_credential(app, "Paying Stack", "upfront").await;
    let org = app.demo_organisation().await;
    let path = format!("/api/v1/organisations/{org}/assessment-settings");
    let mut settings = app.get(&path, Some(&issuer)).await.json();
    assert_eq!(settings["payment_instructions"], "");
    assert_eq!(settings["payment_url"], Value::Null);
    settings["payment_instructions"] = json!("Transfer the fee to IBAN DE02 1203 0000 0000 2020 51, quoting your submission code.");
    settings["payment_url"] = json!("https://pay.example.org/cairn");
    let saved = app.json("PUT", &path, Some(&issuer), &settings).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["payment_url"], "https://pay.example.org/cairn");
    // A bad address is refused and nothing changes.
    let mut bad = settings.clone();
    bad["payment_url"] = json!("javascript:alert(1)");
    let problem = app.json("PUT", &path, Some(&issuer), &bad).await.problem(422, "invalid-input");
    assert_eq!(problem["errors"][0]["pointer"], "/payment_url");
    assert_eq!(app.get(&path, Some(&issuer)).await.json()["payment_url"], "https://pay.example.org/cairn");
    // The learner who owes the fee is told how to pay.
    let token = learner(app, "Flo Marsh", "flo.marsh@example.org").await;
    let level = draft(app, &token, &levels[0]).await;
    let shown = view(app, &token, &id(&level)).await;
    assert_eq!(shown["fee_charge"]["payment"]["instructions"], "Transfer the fee to IBAN DE02 1203 0000 0000 2020 51, quoting your submission code.");
    assert_eq!(shown["fee_charge"]["payment"]["url"], "https://pay.example.org/cairn");
    assert!(shown["fee_charge"]["terms"].as_str().unwrap().contains("paid once before its first level is assessed"), "{shown}");
    // The learner cannot change the issuer's settings.
    app.json("PUT", &path, Some(&token), &settings).await.problem(403, "forbidden");
});
