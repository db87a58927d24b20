//! Sign-in with an identity provider, the parts that need no provider's signature: the sign-in
//! page's buttons, the redirect to the provider (PKCE, state, nonce, the state cookie) from a
//! discovery document served on a loopback port, and the callback's refusals (another browser,
//! a replay, a cancellation, an unknown provider, a provider that cannot be reached). The whole
//! flow against an independent OpenID Provider (`oidc-provider`) is `tests/interop/oidc.test.mjs`.

use crate::helpers::Browser;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use cairn_app::config::OidcProvider;
use serde_json::json;

/// Serves a discovery document and an empty key set for an issuer on a loopback port.
async fn discovery_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "code_challenge_methods_supported": ["S256"],
    });
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { axum::Json(document) }))
        .route("/jwks", get(|| async { axum::Json(json!({"keys": []})) }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    issuer
}

fn provider(id: &str, issuer: &str) -> OidcProvider {
    OidcProvider {
        id: id.into(),
        name: format!("{id} University"),
        issuer: issuer.into(),
        client_id: "cairn".into(),
        client_secret: "s3cret".into(),
        scopes: vec!["profile".into()],
    }
}

backend_test!(sign_in_with_a_provider_starts_with_pkce_and_refuses_callbacks_it_did_not_start, |app| {
    let issuer = discovery_server().await;
    // A port nothing listens on, for a provider that cannot be reached.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let router = app.router_with(|config| config.oidc_providers = vec![provider("uni", &issuer), provider("down", &closed)]);
    let mut browser = Browser::new(router.clone());

    let login = browser.get("/login?next=/account").await;
    login.assert_contains(r#"href="/auth/oidc/uni?next=/account">Sign in with uni University</a>"#);
    login.assert_contains(r#"href="/auth/oidc/down?next=/account">Sign in with down University</a>"#);
    let plain = app.get("/login", None).await;
    plain.assert_lacks("sign-in-providers");

    // The redirect: the provider's authorization endpoint with PKCE S256, state and nonce.
    let start = browser.get("/auth/oidc/uni?next=/account").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.text());
    let cookie = start.set_cookie("cairn_oidc_state").expect("the state cookie");
    let raw = start
        .headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cairn_oidc_state="))
        .unwrap();
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Lax") && raw.contains("Max-Age=600"), "{raw}");
    let location = url::Url::parse(start.location()).unwrap();
    assert_eq!(location.as_str().split('?').next().unwrap(), format!("{issuer}/auth"));
    let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "cairn");
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "a SHA-256 digest, base64url");
    assert_eq!(query["state"], cookie, "the cookie holds the state sent");
    assert_eq!(query["nonce"].len(), 43);
    assert!(query["redirect_uri"].ends_with("/auth/oidc/uni/callback"), "{}", query["redirect_uri"]);
    let state = query["state"].clone();

    // Another browser (no state cookie) cannot use the callback; the sign-in stays usable.
    let elsewhere = Browser::new(router.clone()).get(&format!("/auth/oidc/uni/callback?code=abc&state={state}")).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    elsewhere.assert_contains("did not start in this browser");

    // Cancelled at the provider: said in words, and the sign-in is used up.
    let cancelled = browser.get(&format!("/auth/oidc/uni/callback?error=access_denied&state={state}")).await;
    assert_eq!(cancelled.status, StatusCode::FORBIDDEN, "{}", cancelled.text());
    cancelled.assert_contains("uni University did not sign you in: you cancelled, or the provider refused access.");
    assert!(cancelled.set_cookie("cairn_oidc_state").is_some_and(|v| v.is_empty()), "the state cookie is cleared");
    let again = browser.get(&format!("/auth/oidc/uni/callback?error=access_denied&state={state}")).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    again.assert_contains("was used already or took too long");

    // A provider's error description is shown as text, clipped.
    browser.get("/auth/oidc/uni").await;
    let state = browser.cookies["cairn_oidc_state"].clone();
    let odd = browser.get(&format!("/auth/oidc/uni/callback?error=server_error&error_description=%3Cscript%3Ex%3C%2Fscript%3E&state={state}")).await;
    assert_eq!(odd.status, StatusCode::FORBIDDEN);
    odd.assert_contains("server_error");
    odd.assert_contains("(&#60;script&#62;x&#60;/script&#62;)");
    odd.assert_lacks("<script>x</script>");

    // An issuer other than the provider's in the answer (RFC 9207) is refused.
    browser.get("/auth/oidc/uni").await;
    let state = browser.cookies["cairn_oidc_state"].clone();
    let mixed = browser.get(&format!("/auth/oidc/uni/callback?code=abc&state={state}&iss=https%3A%2F%2Fevil.example")).await;
    assert_eq!(mixed.status, StatusCode::FORBIDDEN);
    mixed.assert_contains("did not come from uni University");

    let unknown = browser.get("/auth/oidc/nobody").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    unknown.assert_contains("no sign-in provider is called");
    let down = browser.get("/auth/oidc/down").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    down.assert_contains("down University could not be reached");
    down.assert_contains("Sign in with uni University");
});

backend_test!(the_account_page_lists_linked_providers_and_keeps_the_only_way_in, |app| {
    let router = app.router_with(|config| config.oidc_providers = vec![provider("uni", "https://login.example.edu")]);
    let store = &app.state.app.store;
    let now = time::OffsetDateTime::now_utc();
    let learner = store.user_by_email(&cairn_core::account::Email::parse("learner@demo.cairn.test").unwrap()).await.unwrap().unwrap();
    store.link_oidc_identity("uni", "sub-learner", learner.id, "learner@demo.cairn.test", now).await.unwrap();
    let mut browser = Browser::signed_in(router.clone(), ("learner@demo.cairn.test", "cairn-demo-learner")).await;
    browser.get("/account").await.assert_contains(r#"href="/account/providers""#);
    let page = browser.get("/account/providers").await;
    page.assert_contains("<th scope=\"row\">uni University</th>");
    page.assert_contains("learner@demo.cairn.test");
    page.assert_contains(r#"action="/account/providers/uni/unlink""#);
    let export = browser.get("/account/export").await.text();
    assert!(export.contains("\"sign_in_providers\"") && export.contains("sub-learner"), "{export}");
    let unlinked = browser.post("/account/providers/uni/unlink", &[]).await;
    unlinked.assert_redirect_with("/account/providers", "provider-unlinked");
    let page = browser.get("/account/providers").await;
    page.assert_contains("No organisation's sign-in is linked");
    page.assert_contains("Also available");
    assert_eq!(browser.post("/account/providers/uni/unlink", &[]).await.status, StatusCode::NOT_FOUND);

    // An account made by a provider has no password: its only link stays until it has one.
    let email = cairn_core::account::Email::parse("new@example.org").unwrap();
    store.create_user_with_identity("New Person", &email, "uni", "sub-new", now).await.unwrap();
    let session = store.create_session(store.user_by_email(&email).await.unwrap().unwrap().id, now, time::Duration::hours(1)).await.unwrap();
    let mut newcomer = Browser::new(router);
    newcomer.cookies.insert("cairn_session".into(), session.token);
    let refused = newcomer.post("/account/providers/uni/unlink", &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    refused.assert_contains("This is the only way into your account");
    assert_eq!(store.oidc_identities_of(store.user_by_email(&email).await.unwrap().unwrap().id).await.unwrap().len(), 1);
});
