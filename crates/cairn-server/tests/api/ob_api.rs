//! The Open Badges 3.0 API with OAuth 2.0: a host system registers (RFC 7591), the learner
//! allows it on the consent page, it exchanges the code with PKCE, reads and writes through
//! `/ims/ob/v3p0`, refreshes (a refresh token used twice ends the grant) and revokes (RFC 7009);
//! and every refusal on the way. The same flow is driven by an independent OAuth client in
//! `tests/interop/ob-api.test.mjs`.

use crate::helpers::{Browser, TestApp, TestResponse};
use crate::offers::LEARNER;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use cairn_core::oauth::{Scope, s256_challenge};
use serde_json::{Value, json};

const OB3_VALID: &str = include_str!("../../../cairn-vc/tests/fixtures/di/interop/ob3-di-valid.json");
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "cairn-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

/// A registered client: its id and secret (none for a public client).
struct Client {
    id: String,
    secret: Option<String>,
}

async fn register(app: &TestApp, extra: Value) -> Client {
    let mut body = json!({
        "client_name": "Example LMS",
        "client_uri": "https://lms.example",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let response = app.json("POST", "/oauth/register", None, &body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.header(header::CACHE_CONTROL), "no-store");
    let client = response.json();
    Client { id: client["client_id"].as_str().unwrap().to_string(), secret: client["client_secret"].as_str().map(str::to_string) }
}

fn scopes(list: &[Scope]) -> String {
    list.iter().map(|s| s.uri()).collect::<Vec<_>>().join(" ")
}

fn authorize_path(client: &Client, scope: &str, challenge: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "s-123");
    if let Some(challenge) = challenge {
        query.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
    }
    format!("/oauth/authorize?{}", query.finish())
}

/// The parameters of the address the browser is sent back to.
fn returned(response: &TestResponse) -> Vec<(String, String)> {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text());
    let location = url::Url::parse(response.location()).unwrap();
    assert_eq!(&location[..url::Position::AfterPath], REDIRECT);
    location.query_pairs().into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The learner answers the consent page; returns the parameters sent back.
async fn consent(browser: &mut Browser, client: &Client, scope: &str, decision: &str) -> Vec<(String, String)> {
    let challenge = s256_challenge(VERIFIER);
    let page = browser.get(&authorize_path(client, scope, Some(&challenge))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("Allow “Example LMS” to use your account?");
    assert!(page.header(header::CONTENT_SECURITY_POLICY).contains("form-action 'self' http://127.0.0.1:9"), "{:?}", page.headers);
    let answer = browser
        .post(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
                ("state", "s-123"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("decision", decision),
            ],
        )
        .await;
    let pairs = returned(&answer);
    assert_eq!(param(&pairs, "state"), Some("s-123"));
    // The test app's public address (`Config::for_addr`), the issuer identifier.
    assert_eq!(param(&pairs, "iss"), Some("http://127.0.0.1:8080"));
    pairs
}

async fn token_request(app: &TestApp, client: &Client, pairs: &[(&str, &str)]) -> TestResponse {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let mut request = Request::post("/oauth/token").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=UTF-8");
    match &client.secret {
        Some(secret) => {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", client.id));
            request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
        }
        None => {
            let body = format!("{body}&client_id={}", client.id);
            return app.send(request.body(Body::from(body)).unwrap()).await;
        }
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

async fn exchange(app: &TestApp, client: &Client, code: &str) -> TestResponse {
    token_request(app, client, &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await
}

fn oauth_error(response: &TestResponse, status: u16, error: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    assert_eq!(response.json()["error"], error, "{}", response.text());
}

async fn ob(app: &TestApp, method: &str, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(format!("/ims/ob/v3p0{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[track_caller]
fn imsx(response: &TestResponse, status: u16, minor: &str) -> Value {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    let body = response.json();
    assert_eq!(body["imsx_codeMajor"], "failure", "{body}");
    assert_eq!(body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"], minor, "{body}");
    body
}

backend_test!(a_host_system_registers_is_allowed_reads_writes_refreshes_and_is_revoked, |app| {
    // The service description and the server's metadata name the same endpoints.
    let discovery = app.get("/ims/ob/v3p0/discovery", None).await.json();
    let scheme = &discovery["components"]["securitySchemes"]["OAuth2ACG"];
    assert_eq!(scheme["type"], "oauth2");
    let registration = scheme["x-imssf-registrationUrl"].as_str().unwrap();
    assert!(registration.ends_with("/oauth/register"), "{discovery}");
    assert_eq!(scheme["flows"]["authorizationCode"]["scopes"].as_object().unwrap().len(), 4);
    assert!(discovery["info"]["x-imssf-privacyPolicyUrl"].is_string() && discovery["info"]["termsOfService"].is_string());
    for path in ["/credentials", "/profile", "/discovery"] {
        assert!(discovery["paths"][path].is_object(), "{path} is not described");
    }
    let metadata = app.get("/.well-known/oauth-authorization-server", None).await.json();
    assert_eq!(metadata["registration_endpoint"].as_str(), Some(registration));
    assert_eq!(metadata["code_challenge_methods_supported"], json!(["S256"]));

    // The demo learner holds an award issued here.
    let learner = app.state.app.store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    if app.state.app.store.awards_of(learner.id).await.unwrap().is_empty() {
        let badge = crate::offers::badges_not_held(app).await[0].id;
        cairn_app::awards::award(&app.state.app, cairn_app::awards::AwardRequest::new(learner.id, badge)).await.unwrap();
    }
    let held = app.state.app.store.awards_of(learner.id).await.unwrap().len() as u64;

    let client = register(app, json!({})).await;
    assert!(client.secret.as_deref().is_some_and(|s| s.starts_with("cairn_ocs_")));
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let all = scopes(&Scope::ALL);
    let pairs = consent(&mut browser, &client, &all, "allow").await;
    let code = param(&pairs, "code").unwrap().to_string();
    let tokens = exchange(app, &client, &code).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text());
    assert_eq!(tokens.header(header::CACHE_CONTROL), "no-store");
    let tokens = tokens.json();
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_i64(), tokens["scope"].as_str()), (Some("Bearer"), Some(3600), Some(all.as_str())));
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    // A code works once; presented again, it ends the access it gave.
    oauth_error(&exchange(app, &client, &code).await, 400, "invalid_grant");
    imsx(&ob(app, "GET", "/profile", &access, "application/json", vec![]).await, 401, "unauthorizedrequest");

    // A new consent, and the API.
    let pairs = consent(&mut browser, &client, &all, "allow").await;
    let tokens = exchange(app, &client, param(&pairs, "code").unwrap()).await.json();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_two = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh, refresh_two);
    let profile = ob(app, "GET", "/profile", &access, "application/json", vec![]).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text());
    let profile = profile.json();
    assert_eq!((profile["email"].as_str(), profile["type"][0].as_str()), (Some(LEARNER.0), Some("Profile")));
    assert_eq!(profile["id"], format!("urn:uuid:{}", learner.id));
    let renamed = ob(app, "PUT", "/profile", &access, "application/json", json!({"type": "Profile", "name": "Dana Learner"}).to_string().into_bytes()).await;
    assert_eq!((renamed.status, renamed.json()["name"].as_str()), (StatusCode::OK, Some("Dana Learner")), "{}", renamed.text());
    assert_eq!(app.state.app.store.user(learner.id).await.unwrap().name, "Dana Learner");
    let refused =
        ob(app, "PUT", "/profile", &access, "application/json", json!({"type": "Profile", "email": "other@example.org"}).to_string().into_bytes()).await;
    assert!(imsx(&refused, 400, "invalid_data")["imsx_description"].as_str().unwrap().contains("/email"));
    imsx(&ob(app, "PUT", "/profile", &access, "application/json", json!({"name": "No type"}).to_string().into_bytes()).await, 400, "invalid_data");
    imsx(&ob(app, "PUT", "/profile", &access, "text/plain", b"Dana".to_vec()).await, 415, "invalid_data");

    let list = ob(app, "GET", "/credentials", &access, "application/json", vec![]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.header(header::HeaderName::from_static("x-total-count")), held.to_string());
    let body = list.json();
    let first = &body["credential"][0];
    assert!(first["type"].as_array().unwrap().iter().any(|t| t == "OpenBadgeCredential") && !first["proof"].is_null(), "{body}");

    // Upsert: a badge from elsewhere is added (201), sent again it replaces itself (200); one of
    // this site's awards to the learner is held already (200).
    let created = ob(app, "POST", "/credentials", &access, "application/json", OB3_VALID.as_bytes().to_vec()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let again = ob(app, "POST", "/credentials", &access, "application/json", OB3_VALID.as_bytes().to_vec()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(app.state.app.store.imports_of(learner.id).await.unwrap().len(), 1);
    let own = ob(app, "POST", "/credentials", &access, "application/json", first.to_string().into_bytes()).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    let mut tampered: Value = serde_json::from_str(OB3_VALID).unwrap();
    tampered["name"] = json!("Something else entirely");
    imsx(&ob(app, "POST", "/credentials", &access, "application/json", tampered.to_string().into_bytes()).await, 400, "invalid_data");
    imsx(&ob(app, "POST", "/credentials", &access, "text/plain", b"not a jws".to_vec()).await, 400, "invalid_data");
    imsx(&ob(app, "POST", "/credentials", &access, "image/png", vec![1, 2, 3]).await, 415, "invalid_data");

    // Paging: one per page, newest first, with the total and the links.
    let total = held + 1;
    let page = ob(app, "GET", "/credentials?limit=1&offset=0", &access, "application/json", vec![]).await;
    assert_eq!(page.header(header::HeaderName::from_static("x-total-count")), total.to_string());
    let page_body = page.json();
    assert_eq!(page_body["credential"].as_array().unwrap().len() + page_body["compactJwsString"].as_array().unwrap().len(), 1);
    assert!(page.header(header::LINK).contains("rel=\"next\"") && page.header(header::LINK).contains("rel=\"last\""), "{}", page.header(header::LINK));
    let future = ob(app, "GET", "/credentials?since=2999-01-01T00:00:00", &access, "application/json", vec![]).await;
    assert_eq!(future.header(header::HeaderName::from_static("x-total-count")), "0");
    imsx(&ob(app, "GET", "/credentials?limit=0", &access, "application/json", vec![]).await, 400, "invalid_query_parameter");
    imsx(&ob(app, "GET", "/credentials?since=yesterday", &access, "application/json", vec![]).await, 400, "invalid_query_parameter");
    imsx(&ob(app, "DELETE", "/credentials", &access, "application/json", vec![]).await, 405, "not_allowed");

    // Refresh: a new pair; the old refresh token used again ends the grant.
    let refreshed = token_request(app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh_two)]).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    let refreshed = refreshed.json();
    let new_access = refreshed["access_token"].as_str().unwrap().to_string();
    assert_eq!(ob(app, "GET", "/profile", &new_access, "application/json", vec![]).await.status, StatusCode::OK);
    oauth_error(&token_request(app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh_two)]).await, 400, "invalid_grant");
    imsx(&ob(app, "GET", "/profile", &new_access, "application/json", vec![]).await, 401, "unauthorizedrequest");

    // Revocation (RFC 7009): an access token alone; a refresh token with its grant.
    let pairs = consent(&mut browser, &client, &all, "allow").await;
    let tokens = exchange(app, &client, param(&pairs, "code").unwrap()).await.json();
    let (access, refresh) = (tokens["access_token"].as_str().unwrap().to_string(), tokens["refresh_token"].as_str().unwrap().to_string());
    let revoke = |token: String| {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.id, client.secret.clone().unwrap()));
        Request::post("/oauth/revoke")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Body::from(format!("token={token}")))
            .unwrap()
    };
    assert_eq!(app.send(revoke(access.clone())).await.status, StatusCode::OK);
    let gone = ob(app, "GET", "/profile", &access, "application/json", vec![]).await;
    imsx(&gone, 401, "unauthorizedrequest");
    assert!(gone.header(header::WWW_AUTHENTICATE).contains("error=\"invalid_token\""), "{:?}", gone.headers);
    let refreshed = token_request(app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await.json();
    let latest = refreshed["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.send(revoke(refreshed["refresh_token"].as_str().unwrap().to_string())).await.status, StatusCode::OK);
    imsx(&ob(app, "GET", "/profile", &latest, "application/json", vec![]).await, 401, "unauthorizedrequest");
    assert_eq!(app.send(revoke("cairn_oat_unknown".into())).await.status, StatusCode::OK);
});

backend_test!(oauth_refuses_what_it_must_and_learners_disconnect_applications, |app| {
    // Registration refusals, in RFC 7591's words.
    let bad = app.json("POST", "/oauth/register", None, &json!({"client_name": "X", "redirect_uris": ["http://lms.example/cb"]})).await;
    oauth_error(&bad, 400, "invalid_redirect_uri");
    let bad = app.json("POST", "/oauth/register", None, &json!({"redirect_uris": [REDIRECT]})).await;
    oauth_error(&bad, 400, "invalid_client_metadata");
    let bad = app.json("POST", "/oauth/register", None, &json!({"client_name": "X", "redirect_uris": [REDIRECT], "grant_types": ["implicit"]})).await;
    oauth_error(&bad, 400, "invalid_client_metadata");
    oauth_error(&app.raw("POST", "/oauth/register", None, "text/plain", b"{}".to_vec()).await, 400, "invalid_client_metadata");

    let public = register(app, json!({"token_endpoint_auth_method": "none", "scope": scopes(&[Scope::ProfileReadonly, Scope::CredentialReadonly])})).await;
    assert!(public.secret.is_none());
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;

    // An unknown client or an unregistered redirect: told on the page, never redirected.
    let unknown = Client { id: "cairn-unknown".into(), secret: None };
    let page = browser.get(&authorize_path(&unknown, "", Some(&s256_challenge(VERIFIER)))).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_contains("This request cannot be used");
    let elsewhere = browser.get(&authorize_path(&public, "", Some(&s256_challenge(VERIFIER))).replace("127.0.0.1%3A9", "attacker.example")).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    // Without PKCE, or asking beyond the registration: sent back with the error.
    let no_pkce = returned(&browser.get(&authorize_path(&public, "", None)).await);
    assert_eq!(param(&no_pkce, "error"), Some("invalid_request"));
    let beyond = returned(&browser.get(&authorize_path(&public, &scopes(&[Scope::ProfileUpdate]), Some(&s256_challenge(VERIFIER)))).await);
    assert_eq!(param(&beyond, "error"), Some("invalid_scope"));
    // Signed out: sign in first, then back to the question.
    let mut visitor = Browser::new(app.router.clone());
    let path = authorize_path(&public, "", Some(&s256_challenge(VERIFIER)));
    let redirect = visitor.get(&path).await;
    redirect.assert_redirect("/login?next=");
    let login = visitor
        .post(&format!("/login?{}", redirect.location().split_once('?').unwrap().1), &[("email", LEARNER.0), ("password", LEARNER.1), ("next", &path)])
        .await;
    assert_eq!(login.location(), path);

    // The learner says no.
    let denied = consent(&mut browser, &public, &scopes(&[Scope::ProfileReadonly]), "deny").await;
    assert_eq!(param(&denied, "error"), Some("access_denied"));

    // A wrong verifier, another client's code, an unknown client.
    let pairs = consent(&mut browser, &public, &scopes(&[Scope::ProfileReadonly]), "allow").await;
    let code = param(&pairs, "code").unwrap().to_string();
    let other = register(app, json!({})).await;
    oauth_error(&exchange(app, &other, &code).await, 400, "invalid_grant");
    let pairs = consent(&mut browser, &public, &scopes(&[Scope::ProfileReadonly]), "allow").await;
    let code = param(&pairs, "code").unwrap().to_string();
    let wrong =
        token_request(app, &public, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &"x".repeat(43))])
            .await;
    oauth_error(&wrong, 400, "invalid_grant");
    oauth_error(&exchange(app, &Client { id: "cairn-unknown".into(), secret: None }, &code).await, 401, "invalid_client");
    let forged = Client { id: other.id.clone(), secret: Some("cairn_ocs_wrong".into()) };
    let refused = exchange(app, &forged, &code).await;
    oauth_error(&refused, 401, "invalid_client");
    assert!(refused.header(header::WWW_AUTHENTICATE).starts_with("Basic"));
    oauth_error(&token_request(app, &public, &[("grant_type", "password")]).await, 400, "unsupported_grant_type");

    // A token carries only what the learner allowed.
    let pairs = consent(&mut browser, &public, &scopes(&[Scope::ProfileReadonly]), "allow").await;
    let tokens = exchange(app, &public, param(&pairs, "code").unwrap()).await.json();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(ob(app, "GET", "/profile", &access, "application/json", vec![]).await.status, StatusCode::OK);
    let narrow = ob(app, "GET", "/credentials", &access, "application/json", vec![]).await;
    imsx(&narrow, 403, "forbidden");
    assert!(narrow.header(header::WWW_AUTHENTICATE).contains("insufficient_scope"), "{:?}", narrow.headers);
    let none = app.get("/ims/ob/v3p0/profile", None).await;
    imsx(&none, 401, "unauthorizedrequest");
    assert_eq!(none.header(header::WWW_AUTHENTICATE), "Bearer realm=\"cairn\"");
    // An API token is not an access token, nor the other way round.
    let api_token = app.token(LEARNER.0, LEARNER.1).await;
    imsx(&ob(app, "GET", "/profile", &api_token, "application/json", vec![]).await, 401, "unauthorizedrequest");
    assert_eq!(app.get("/api/v1/me", Some(&access)).await.status, StatusCode::UNAUTHORIZED);

    // Connected applications: listed, then disconnected; its tokens stop at once.
    let apps = browser.get("/account/apps").await;
    apps.assert_contains("Example LMS");
    apps.assert_contains(Scope::ProfileReadonly.words());
    let grants = app
        .state
        .app
        .store
        .oauth_grants_of(
            app.state.app.store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap().id,
            app.state.app.now(),
        )
        .await
        .unwrap();
    for grant in &grants {
        browser.post(&format!("/account/apps/{}/revoke", grant.id), &[]).await.assert_redirect_with("/account/apps", "app-disconnected");
    }
    browser.get("/account/apps").await.assert_contains("No application is connected");
    imsx(&ob(app, "GET", "/profile", &access, "application/json", vec![]).await, 401, "unauthorizedrequest");
    // Another person cannot disconnect them.
    let mut stranger = Browser::signed_in(app.router.clone(), ("issuer@demo.cairn.test", "cairn-demo-issuer")).await;
    let pairs = consent(&mut browser, &public, &scopes(&[Scope::ProfileReadonly]), "allow").await;
    exchange(app, &public, param(&pairs, "code").unwrap()).await;
    let learner = app.state.app.store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    let grant = &app.state.app.store.oauth_grants_of(learner.id, app.state.app.now()).await.unwrap()[0];
    assert_eq!(stranger.post(&format!("/account/apps/{}/revoke", grant.id), &[]).await.status, StatusCode::NOT_FOUND);
});

backend_test!(registrations_are_throttled_per_address_and_dead_tokens_are_swept, |app| {
    // Registration is open, but one address may register only so many clients in a period.
    let proxied = app.router_with(|config| {
        config.login_failures_per_address = 2;
        config.client_address_header = Some("x-forwarded-for".into());
    });
    let body = json!({"client_name": "Example LMS", "redirect_uris": [REDIRECT]}).to_string();
    let register_from = |client: &'static str| {
        Request::post("/oauth/register")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", client)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    for _ in 0..2 {
        assert_eq!(crate::helpers::send_to(&proxied, register_from("203.0.113.5")).await.status, StatusCode::CREATED);
    }
    let blocked = crate::helpers::send_to(&proxied, register_from("203.0.113.5")).await;
    blocked.problem(429, "too-many-requests");
    assert!(blocked.text().contains("application registrations"), "{}", blocked.text());
    assert_eq!(crate::helpers::send_to(&proxied, register_from("198.51.100.7")).await.status, StatusCode::CREATED);

    // Codes and tokens that can no longer work are deleted by the sweep, with the grants they
    // leave empty; live ones stay.
    let client = register(app, json!({})).await;
    let mut browser = Browser::signed_in(app.router.clone(), LEARNER).await;
    let all = scopes(&Scope::ALL);
    let pairs = consent(&mut browser, &client, &all, "allow").await;
    let tokens = exchange(app, &client, param(&pairs, "code").unwrap()).await.json();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let store = &app.state.app.store;
    let now = app.state.app.now();
    assert_eq!(store.sweep_oauth(now, time::Duration::days(1)).await.unwrap(), 0);
    assert_eq!(ob(app, "GET", "/profile", &access, "application/json", vec![]).await.status, StatusCode::OK);
    let learner = store.user_by_email(&cairn_core::account::Email::parse(LEARNER.0).unwrap()).await.unwrap().unwrap();
    assert_eq!(store.oauth_grants_of(learner.id, now).await.unwrap().len(), 1);
    // A year on, the refresh token has expired too: code, both tokens and the grant go.
    let later = now + time::Duration::days(365);
    assert_eq!(store.sweep_oauth(later, time::Duration::days(1)).await.unwrap(), 4);
    assert!(store.oauth_grants_of(learner.id, now).await.unwrap().is_empty());
});

backend_test!(an_answer_sent_after_the_session_ended_asks_to_sign_in_again, |app| {
    let client = register(app, json!({"token_endpoint_auth_method": "none"})).await;
    let mut visitor = Browser::new(app.router.clone());
    let challenge = s256_challenge(VERIFIER);
    let answer = visitor
        .post(
            "/oauth/authorize",
            &[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", REDIRECT),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("decision", "allow"),
            ],
        )
        .await;
    answer.assert_redirect("/login?next=/oauth/authorize");
    assert!(app.state.app.store.oauth_client(&client.id).await.unwrap().is_some());
});
