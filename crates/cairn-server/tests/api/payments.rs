//! Online fee payments, the parts that need no Stripe: who may connect, keys of the wrong form
//! (refused before Stripe is asked), a Checkout Session where the issuer takes no payments
//! online, and the webhook's refusals (an organisation not connected, a missing, wrong or stale
//! signature, a body that is no event) and its once-only taking of events. Paying, the webhook
//! that settles the fee, the learner's return and the refund on withdrawal run against a Stripe
//! test server (localstripe, checked with the `stripe` SDK) in `tests/interop/payments.test.mjs`.

use crate::journey::{assessed_badge, sign_up};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cairn_core::payments::{StripeKeys, signature_header};
use serde_json::json;

backend_test!(stripe_connections_and_checkouts_are_refused_without_asking_stripe, |app| {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let path = format!("/api/v1/organisations/{org}/payments/stripe");
    let read = app.get(&path, Some(&issuer)).await;
    assert_eq!(read.status, 200, "{}", read.text());
    let body = read.json();
    assert_eq!(body["connected"], false);
    assert!(body["webhook_url"].as_str().unwrap().ends_with(&format!("/payments/stripe/{org}/webhook")));
    assert_eq!(body["webhook_events"][0], "checkout.session.completed");

    let refused = app.json("PUT", &path, Some(&issuer), &json!({"secret_key": "pk_test_123", "webhook_secret": "nope"})).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    refused.assert_contains("publishable key");
    refused.assert_contains("whsec_");
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    assert_eq!(app.get(&path, Some(&assessor)).await.status, 403, "owners only");
    assert_eq!(app.json("DELETE", &path, Some(&issuer), &json!({})).await.status, 404, "not connected");

    // A submission owing a fee, at an issuer that takes no payments online.
    let (badge, ..) = assessed_badge(app, "Paid badge", Some(json!({"amount": "49.50", "currency": "EUR"}))).await;
    let (learner, _) = sign_up(app, "Paula Payer", "paula@example.org").await;
    let body = json!({"overview": "o", "reflection": "r", "links": ["https://example.org/x"], "collaborators": []});
    let draft = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&learner), &body).await;
    assert_eq!(draft.status, 201, "{}", draft.text());
    let submission = draft.json()["id"].as_str().unwrap().to_string();
    let checkout = app.json("POST", &format!("/api/v1/submissions/{submission}/checkout"), Some(&learner), &json!({})).await;
    assert_eq!(checkout.status, 409, "{}", checkout.text());
    checkout.assert_contains("does not take payments online");
    let (other, _) = sign_up(app, "Olga Other", "olga@example.org").await;
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{submission}/checkout"), Some(&other), &json!({})).await.status, 404, "another learner's");
    let payments = app.get(&format!("/api/v1/submissions/{submission}/payments"), Some(&learner)).await;
    assert_eq!(payments.json(), json!({"items": []}));
});

backend_test!(the_stripe_webhook_refuses_what_it_cannot_trust, |app| {
    let org = app.demo_organisation().await;
    let path = format!("/payments/stripe/{org}/webhook");
    let event: &'static [u8] = br#"{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_x","payment_status":"paid"}}}"#;
    let post = |signature: Option<String>, body: &'static [u8]| {
        let mut request = Request::post(path.clone()).header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.body(Body::from(body)).unwrap()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let not_connected = app.send(post(Some(signature_header("whsec_x", now, event)), event)).await;
    assert_eq!(not_connected.status, StatusCode::NOT_FOUND, "{}", not_connected.text());

    // Connected directly in the store (the API asks Stripe to check the key).
    let keys = StripeKeys::parse("sk_test_key", "whsec_right").unwrap();
    let owner = app.state.app.store.user_by_email(&cairn_core::account::Email::parse("issuer@demo.cairn.test").unwrap()).await.unwrap().unwrap();
    app.state.app.store.connect_stripe(org.parse().unwrap(), "acct_demo", "Demo", &keys, owner.id, time::OffsetDateTime::now_utc()).await.unwrap();

    let missing = app.send(post(None, event)).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    missing.assert_contains("no Stripe-Signature header");
    let wrong = app.send(post(Some(signature_header("whsec_wrong", now, event)), event)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    wrong.assert_contains("does not match");
    let stale = app.send(post(Some(signature_header("whsec_right", now - 3600, event)), event)).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    stale.assert_contains("more than 300 seconds");
    let garbage: &'static [u8] = b"not json";
    assert_eq!(app.send(post(Some(signature_header("whsec_right", now, garbage)), garbage)).await.status, StatusCode::BAD_REQUEST);

    // A genuine event about a session Cairn did not make is taken, and taken once.
    let taken = app.send(post(Some(signature_header("whsec_right", now, event)), event)).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text());
    assert_eq!(taken.json()["event"], "taken");
    let again = app.send(post(Some(signature_header("whsec_right", now, event)), event)).await;
    assert_eq!(again.json()["event"], "taken before");
    let other: &'static [u8] = br#"{"id":"evt_2","type":"customer.created","data":{"object":{}}}"#;
    assert_eq!(app.send(post(Some(signature_header("whsec_right", now, other)), other)).await.json()["event"], "ignored");
});
