//! Wallet pickup over OpenID for Verifiable Credential Issuance (pre-authorized code flow): the
//! learner makes an offer, a wallet redeems it with the transaction code, proves its key with a
//! nonce, and collects the award bound to its DID in both formats; and every refusal on the way
//! (transaction codes, reused codes and nonces, proofs, tokens, other people's awards, a badge
//! revoked in between). The same flow is driven by an independent wallet library in
//! `tests/interop/wallet.test.mjs`.

use crate::helpers::{Browser, TestApp, TestResponse};
use crate::issuing::actor;
use crate::offers::LEARNER;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_app::awards;
use cairn_core::award::StatusAction;
use cairn_core::ids::AwardId;
use cairn_vc::did;
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::verify::Verdict;
use serde_json::{Value, json};

/// The test app's public address (`Config::for_addr`): the credential issuer identifier.
const ISSUER: &str = "http://127.0.0.1:8080";
const LDP: &str = "OpenBadgeCredential_ldp_vc";
const JWT: &str = "OpenBadgeCredential_jwt_vc_json";

/// The demo learner's award, made if they hold none.
async fn learner_award(app: &TestApp) -> AwardId {
    let learner = app.state.app.store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    if let Some(award) = app.state.app.store.awards_of(learner.id).await.unwrap().first() {
        return award.id;
    }
    let badge = crate::offers::badges_not_held(app).await[0].id;
    cairn_app::awards::award(&app.state.app, cairn_app::awards::AwardRequest::new(learner.id, badge)).await.unwrap().id
}

/// An offer made over the API: the pre-authorized code and the transaction code.
async fn offer(app: &TestApp, token: &str, award: AwardId) -> (String, String, Value) {
    let made = app.json("POST", &format!("/api/v1/awards/{award}/wallet-offers"), Some(token), &json!({})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.header(header::CACHE_CONTROL), "no-store");
    let body = made.json();
    let code = body["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"].as_str().unwrap().to_string();
    let tx_code = body["tx_code"].as_str().unwrap().to_string();
    (code, tx_code, body)
}

async fn form(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    app.send(Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body)).unwrap()).await
}

async fn redeem(app: &TestApp, code: &str, tx_code: &str) -> TestResponse {
    form(app, "/oauth/token", &[("grant_type", "urn:ietf:params:oauth:grant-type:pre-authorized_code"), ("pre-authorized_code", code), ("tx_code", tx_code)])
        .await
}

async fn nonce(app: &TestApp) -> String {
    let answer = app.send(Request::post("/oid4vci/nonce").body(Body::empty()).unwrap()).await;
    assert_eq!((answer.status, answer.header(header::CACHE_CONTROL)), (StatusCode::OK, "no-store"), "{}", answer.text());
    answer.json()["c_nonce"].as_str().unwrap().to_string()
}

/// A `jwt` key proof signed by `key` with `header` (typ and alg added) and `payload`.
fn proof_with(key: &Ed25519KeyPair, mut header: Value, payload: &Value) -> String {
    header["typ"] = json!("openid4vci-proof+jwt");
    header["alg"] = json!("EdDSA");
    let mut token = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

/// A proof by `key` named as a did:key, for `nonce`, now.
fn proof(key: &Ed25519KeyPair, nonce: &str) -> String {
    let kid = did::did_key_method(&key.public_key_multibase());
    proof_with(key, json!({"kid": kid}), &json!({"aud": ISSUER, "iat": time::OffsetDateTime::now_utc().unix_timestamp(), "nonce": nonce}))
}

async fn collect(app: &TestApp, token: Option<&str>, body: &Value) -> TestResponse {
    let mut request = Request::post("/oid4vci/credential").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

fn request(configuration: &str, proof: &str) -> Value {
    json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}})
}

#[track_caller]
fn oauth_error(response: &TestResponse, status: u16, error: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    assert_eq!(response.json()["error"], error, "{}", response.text());
}

backend_test!(a_wallet_collects_the_award_bound_to_its_key_in_both_formats, |app| {
    let metadata = app.get("/.well-known/openid-credential-issuer", None).await.json();
    assert_eq!(metadata["credential_issuer"], ISSUER);
    assert_eq!(metadata["credential_endpoint"], format!("{ISSUER}/oid4vci/credential"));
    assert_eq!(metadata["nonce_endpoint"], format!("{ISSUER}/oid4vci/nonce"));
    assert_eq!(metadata["credential_configurations_supported"][LDP]["format"], "ldp_vc");
    assert_eq!(metadata["credential_configurations_supported"][JWT]["format"], "jwt_vc_json");
    let server = app.get("/.well-known/oauth-authorization-server", None).await.json();
    assert!(server["grant_types_supported"].as_array().unwrap().iter().any(|g| g == "urn:ietf:params:oauth:grant-type:pre-authorized_code"), "{server}");
    assert_eq!(server["pre-authorized_grant_anonymous_access_supported"], true);

    let award_id = learner_award(app).await;
    let award = app.state.app.store.award(award_id).await.unwrap();
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let (code, tx_code, made) = offer(app, &token, award_id).await;
    assert!(cairn_core::wallet::plausible_tx_code(&tx_code), "{tx_code}");
    // The link names where the wallet fetches the offer, which holds no transaction code.
    let link = made["credential_offer_url"].as_str().unwrap();
    let query = link.strip_prefix("openid-credential-offer://?").unwrap();
    let (name, uri) = url::form_urlencoded::parse(query.as_bytes()).next().unwrap();
    assert_eq!((name.as_ref(), uri.as_ref()), ("credential_offer_uri", made["credential_offer_uri"].as_str().unwrap()));
    let offer_path = uri.strip_prefix(ISSUER).unwrap().to_string();
    let fetched = app.get(&offer_path, None).await;
    assert_eq!((fetched.status, fetched.header(header::CACHE_CONTROL)), (StatusCode::OK, "no-store"), "{}", fetched.text());
    assert_eq!(fetched.json(), made["credential_offer"]);
    let hint = &made["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["tx_code"];
    assert_eq!(hint["length"], 6, "{hint}");
    assert!(
        hint.as_object().unwrap().keys().all(|k| ["input_mode", "length", "description"].contains(&k.as_str())),
        "the code itself never travels in the offer: {hint}"
    );
    assert_eq!(made["credential_offer"]["credential_configuration_ids"], json!([LDP, JWT]));

    // The transaction code is asked for; a wrong one is counted.
    oauth_error(
        &form(app, "/oauth/token", &[("grant_type", "urn:ietf:params:oauth:grant-type:pre-authorized_code"), ("pre-authorized_code", &code)]).await,
        400,
        "invalid_request",
    );
    let wrong = if tx_code == "000000" { "000001" } else { "000000" };
    let refused = redeem(app, &code, wrong).await;
    oauth_error(&refused, 400, "invalid_grant");
    assert!(refused.json()["error_description"].as_str().unwrap().contains("4 more tries"), "{}", refused.text());
    let redeemed = redeem(app, &code, &tx_code).await;
    assert_eq!((redeemed.status, redeemed.header(header::CACHE_CONTROL)), (StatusCode::OK, "no-store"), "{}", redeemed.text());
    let redeemed = redeemed.json();
    assert_eq!((redeemed["token_type"].as_str(), redeemed["expires_in"].as_i64()), (Some("Bearer"), Some(300)));
    let access = redeemed["access_token"].as_str().unwrap().to_string();
    assert!(access.starts_with("cairn_wat_"));
    // A redeemed offer is no longer served.
    assert_eq!(app.get(&offer_path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/oid4vci/offers/nope", None).await.status, StatusCode::NOT_FOUND);

    // The Data Integrity form, with the nonce the token answer gave.
    let holder = Ed25519KeyPair::from_seed([21; 32]);
    let holder_did = did::did_key(&holder.public_key_multibase());
    let first_nonce = redeemed["c_nonce"].as_str().unwrap().to_string();
    let answer = collect(app, Some(&access), &request(LDP, &proof(&holder, &first_nonce))).await;
    assert_eq!((answer.status, answer.header(header::CACHE_CONTROL)), (StatusCode::OK, "no-store"), "{}", answer.text());
    let credential = answer.json()["credentials"][0]["credential"].clone();
    assert_eq!(credential["credentialSubject"]["id"], holder_did.as_str());
    assert!(credential["id"].as_str().unwrap().starts_with("urn:uuid:"), "{credential}");
    let held: Value = serde_json::from_str(&award.credential_json).unwrap();
    assert_eq!(credential["credentialStatus"], held["credentialStatus"], "the wallet's copy keeps the award's status entries");
    assert_eq!(credential["credentialSubject"]["achievement"], held["credentialSubject"]["achievement"]);
    assert_eq!(credential["issuer"], held["issuer"]);
    assert_eq!(credential["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    let report = cairn_app::verification::verify(&app.state.app, credential.to_string().into_bytes()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // A nonce works once.
    oauth_error(&collect(app, Some(&access), &request(LDP, &proof(&holder, &first_nonce))).await, 400, "invalid_nonce");

    // The VC-JWT form with the same token and a fresh nonce; a draft-13 shaped request gets the
    // draft's answer.
    let answer = collect(app, Some(&access), &request(JWT, &proof(&holder, &nonce(app).await))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let jwt = answer.json()["credentials"][0]["credential"].as_str().unwrap().to_string();
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(payload["sub"], holder_did.as_str());
    assert_eq!(payload["credentialSubject"]["id"], holder_did.as_str());
    let report = cairn_app::verification::verify(&app.state.app, jwt.into_bytes()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let draft = json!({"format": "ldp_vc", "proof": {"proof_type": "jwt", "jwt": proof(&holder, &nonce(app).await)}});
    let answer = collect(app, Some(&access), &draft).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["credential"]["credentialSubject"]["id"], holder_did.as_str());

    // The learner sees the wallets that hold the badge, over the API and on the page.
    let pickups = app.get(&format!("/api/v1/awards/{award_id}/wallet-pickups"), Some(&token)).await;
    assert_eq!(pickups.status, StatusCode::OK, "{}", pickups.text());
    let pickups = pickups.json()["items"].clone();
    assert_eq!(pickups.as_array().unwrap().len(), 3, "{pickups}");
    assert!(pickups.as_array().unwrap().iter().all(|p| p["holder"] == holder_did.as_str() && p["credential_id"].as_str().unwrap().starts_with("urn:uuid:")));
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let page = browser.get(&format!("/awards/{award_id}/wallet")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("Wallets that hold this badge");
    page.assert_contains("VC-JWT");
    page.assert_contains("Show the QR code");

    // The learner's export lists the wallet copies of each award.
    let export = app.get("/api/v1/me/export", Some(&token)).await.json();
    let exported = export["awards"].as_array().unwrap().iter().find(|a| a["id"] == award_id.to_string()).unwrap().clone();
    assert_eq!(exported["wallet_copies"].as_array().unwrap().len(), 3, "{exported}");
    assert_eq!(exported["wallet_copies"][0]["holder"], holder_did.as_str());

    // The code presented again ends the access it gave.
    oauth_error(&redeem(app, &code, &tx_code).await, 400, "invalid_grant");
    let ended = collect(app, Some(&access), &request(LDP, &proof(&holder, &nonce(app).await))).await;
    oauth_error(&ended, 401, "invalid_token");
    assert!(ended.header(header::WWW_AUTHENTICATE).contains("invalid_token"), "{:?}", ended.headers);

    // Deleting the account deletes the record of wallet copies (the copies keep verifying).
    assert_eq!(app.json("DELETE", "/api/v1/me", Some(&token), &json!({"password": LEARNER.1})).await.status, StatusCode::NO_CONTENT);
    assert!(app.state.app.store.wallet_pickups(award_id).await.unwrap().is_empty());
    let report = cairn_app::verification::verify(&app.state.app, credential.to_string().into_bytes()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
});

backend_test!(wallet_requests_are_refused_for_each_fault, |app| {
    let award_id = learner_award(app).await;
    let token = app.token(LEARNER.0, LEARNER.1).await;
    let holder = Ed25519KeyPair::from_seed([22; 32]);

    // Tokens: none (a challenge without an error, RFC 6750 §3.1), unknown, an API token.
    let none = collect(app, None, &request(LDP, &proof(&holder, &nonce(app).await))).await;
    oauth_error(&none, 401, "invalid_token");
    assert_eq!(none.header(header::WWW_AUTHENTICATE), "Bearer realm=\"cairn\"");
    oauth_error(&collect(app, Some("cairn_wat_nope"), &request(LDP, &proof(&holder, &nonce(app).await))).await, 401, "invalid_token");
    oauth_error(&collect(app, Some(&token), &request(LDP, &proof(&holder, &nonce(app).await))).await, 401, "invalid_token");

    let (code, tx_code, _) = offer(app, &token, award_id).await;
    let access = redeem(app, &code, &tx_code).await.json()["access_token"].as_str().unwrap().to_string();
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    let kid = did::did_key_method(&holder.public_key_multibase());
    let other = Ed25519KeyPair::from_seed([23; 32]);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"credential_configuration_id": "DriversLicence", "proofs": {"jwt": [proof(&holder, &nonce(app).await)]}}), "unknown_credential_configuration"),
        (json!({"credential_configuration_id": LDP}), "invalid_proof"),
        (json!({"proofs": {"jwt": [proof(&holder, &nonce(app).await)]}}), "invalid_credential_request"),
        (
            request(LDP, &proof_with(&holder, json!({"kid": kid}), &json!({"aud": "https://elsewhere.example", "iat": now(), "nonce": nonce(app).await}))),
            "invalid_proof",
        ),
        (request(LDP, &proof_with(&other, json!({"kid": kid}), &json!({"aud": ISSUER, "iat": now(), "nonce": nonce(app).await}))), "invalid_proof"),
        (request(LDP, &proof_with(&holder, json!({"kid": kid}), &json!({"aud": ISSUER, "iat": now()}))), "invalid_nonce"),
        (request(LDP, &proof(&holder, "1.made-up.nonce")), "invalid_nonce"),
    ];
    for (body, error) in cases {
        oauth_error(&collect(app, Some(&access), &body).await, 400, error);
    }
    let not_json = app
        .send(
            Request::post("/oid4vci/credential")
                .header(header::AUTHORIZATION, format!("Bearer {access}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    oauth_error(&not_json, 400, "invalid_credential_request");
    let form_body = app
        .send(
            Request::post("/oid4vci/credential")
                .header(header::AUTHORIZATION, format!("Bearer {access}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    oauth_error(&form_body, 400, "invalid_credential_request");

    // Five wrong transaction codes end an offer, even for the right code after them; a new offer
    // ends the one before it.
    let (code, tx_code, _) = offer(app, &token, award_id).await;
    let wrong = if tx_code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        oauth_error(&redeem(app, &code, wrong).await, 400, "invalid_grant");
    }
    oauth_error(&redeem(app, &code, &tx_code).await, 400, "invalid_grant");
    let (first, first_tx, _) = offer(app, &token, award_id).await;
    let (second, second_tx, _) = offer(app, &token, award_id).await;
    oauth_error(&redeem(app, &first, &first_tx).await, 400, "invalid_grant");
    // An offer expires after ten minutes.
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(11);
    assert_eq!(
        app.state.app.store.redeem_wallet_offer(&second, &second_tx, 5, time::Duration::minutes(5), later).await.unwrap(),
        cairn_store::Redeemed::Unknown
    );

    // Nobody else makes offers of the learner's award; signed out, the page asks to sign in.
    let issuer = app.issuer_token().await;
    app.json("POST", &format!("/api/v1/awards/{award_id}/wallet-offers"), Some(&issuer), &json!({})).await.problem(404, "not-found");
    let mut stranger = Browser::new(app.router.clone());
    stranger.get(&format!("/awards/{award_id}/wallet")).await.assert_redirect("/login");
    let staff = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await.get(&format!("/awards/{award_id}/wallet")).await;
    assert_eq!(staff.status, StatusCode::NOT_FOUND, "{}", staff.text());

    // The page's offer: a QR code, the link, and the code to type in, never cached.
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let shown = browser.post(&format!("/awards/{award_id}/wallet"), &[]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    shown.assert_contains("data:image/svg+xml;base64,");
    shown.assert_contains("openid-credential-offer://?credential_offer_uri=");
    assert!(shown.header(header::CACHE_CONTROL).contains("no-store"));

    // A badge revoked after the offer was redeemed is not sent, and no new offer is made.
    let (code, tx_code, _) = offer(app, &token, award_id).await;
    let access = redeem(app, &code, &tx_code).await.json()["access_token"].as_str().unwrap().to_string();
    let staff = actor(app, "issuer@demo.cairn.test").await;
    awards::set_status(&app.state.app, &staff, award_id, StatusAction::Revoke, Some("issued in error".into())).await.unwrap();
    oauth_error(&collect(app, Some(&access), &request(LDP, &proof(&holder, &nonce(app).await))).await, 400, "credential_request_denied");
    app.json("POST", &format!("/api/v1/awards/{award_id}/wallet-offers"), Some(&token), &json!({})).await.problem(409, "conflict");
    let page = browser.get(&format!("/awards/{award_id}/wallet")).await;
    page.assert_contains("revoked by its issuer");
    page.assert_lacks("Show the QR code");

    // The sweep deletes what expired.
    let swept = app.state.app.store.sweep_wallet(time::OffsetDateTime::now_utc() + time::Duration::days(2), time::Duration::days(1)).await.unwrap();
    assert!(swept >= 3, "{swept}");
});
