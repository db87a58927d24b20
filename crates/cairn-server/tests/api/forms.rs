//! Page forms across redirects (`cairn_server::flash`): a failed form is kept for reloads
//! (post/redirect/get), and notices are shown once, carried by a cookie rather than the URL.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::helpers::{Browser, HTML};

const OWNER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");

/// A form post as a browser sends it, without following the redirect.
fn form_post(path: &str, pairs: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body)).unwrap()
}

backend_test!(a_failed_form_redirects_to_its_address_and_reloads_keep_what_was_typed, |app| {
    let mut browser = Browser::new(app.router.clone());
    let csrf = browser.csrf().await;
    let typed = [("csrf", csrf.as_str()), ("name", "Ada Lovelace"), ("email", "ada@example.org"), ("password", "short")];
    let failed = browser.exchange(form_post("/signup", &typed), HTML).await;
    assert_eq!(failed.status, StatusCode::SEE_OTHER, "{}", failed.text());
    assert_eq!(failed.location(), "/signup", "back to the address the form was posted to");
    let cookie = failed.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).find(|v| v.starts_with("cairn_form=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age="), "{cookie}");

    // The page after the redirect, and every reload of it, has the typed values and the errors.
    for _ in 0..2 {
        let page = browser.get("/signup").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("value=\"Ada Lovelace\"");
        page.assert_contains("value=\"ada@example.org\"");
        page.assert_contains("at least 10 characters");
        page.assert_lacks("value=\"short\"");
        assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    }
    // Another browser, or this one with a forged id, gets the empty form.
    let mut other = Browser::new(app.router.clone());
    other.cookies.insert("cairn_form".into(), browser.cookies["cairn_form"].clone());
    let fresh = other.get("/signup").await;
    assert_eq!(fresh.status, StatusCode::OK);
    fresh.assert_lacks("Ada Lovelace");

    // A form that goes through forgets what was kept.
    let done = browser.post("/signup", &[("name", "Ada Lovelace"), ("email", "ada@example.org"), ("password", "analytical engine")]).await;
    done.assert_redirect_with("/login", "signed-up");
    assert_eq!(done.set_cookie("cairn_form").as_deref(), Some(""), "the kept form is cleared");
    let again = browser.get("/signup").await;
    assert_eq!(again.status, StatusCode::OK);
    again.assert_lacks("Ada Lovelace");
});

backend_test!(a_failed_form_posted_to_a_post_only_address_reloads_without_405, |app| {
    let organisation = app.demo_organisation().await;
    let mut owner = Browser::signed_in(app.router.clone(), OWNER).await;
    let path = format!("/issuers/{organisation}/profile");
    let csrf = owner.csrf().await;
    let typed =
        [("csrf", csrf.as_str()), ("name", "Northbridge Institute"), ("url", "not a web address"), ("email", ""), ("description", "Typed before the error")];
    let failed = owner.exchange(form_post(&path, &typed), HTML).await;
    assert_eq!((failed.status, failed.location()), (StatusCode::SEE_OTHER, path.as_str()));
    for _ in 0..2 {
        let page = owner.get(&path).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "not 405: {}", page.text());
        page.assert_contains("Typed before the error");
        page.assert_contains("not a web address");
    }
});

backend_test!(a_notice_is_shown_once_and_never_in_the_url, |app| {
    let mut learner = Browser::signed_in(app.router.clone(), LEARNER).await;
    let renamed = learner.post("/account/name", &[("name", "Lena M. Fischer")]).await;
    renamed.assert_redirect_with("/account", "name-saved");
    assert!(!renamed.location().contains("notice"));
    let cookie = renamed.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).find(|v| v.starts_with("cairn_notice=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let page = learner.get("/account").await;
    page.assert_contains("Your name is saved.");
    assert_eq!(page.set_cookie("cairn_notice").as_deref(), Some(""), "shown, then cleared");
    learner.get("/account").await.assert_lacks("Your name is saved.");

    // A redirect on the way does not use the notice up: only a page that shows it does.
    learner.post("/account/name", &[("name", "Lena Fischer")]).await;
    let css = learner.get("/static/cairn.css").await;
    assert_eq!(css.set_cookie("cairn_notice"), None);
    learner.get("/account").await.assert_contains("Your name is saved.");
});
