//! The learner's pages in a cookie-keeping browser: apply, the draft with autosave, evidence,
//! submit and the due date; errors that keep what was typed; privacy of submissions and awards;
//! the award page (Open Graph, sharing, downloads, live verification); the verify page; and
//! notifications.

use axum::http::{StatusCode, header};
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::award::StatusAction;
use cairn_core::ids::UserId;
use cairn_store::{Award, CatalogQuery};

use crate::helpers::{Browser, TestApp};

const LEARNER: (&str, &str) = ("learner@demo.cairn.test", "cairn-demo-learner");
const OWNER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const ASSESSOR: (&str, &str) = ("assessor@demo.cairn.test", "cairn-demo-assessor");

async fn signed_in(app: &TestApp, account: (&str, &str)) -> Browser {
    Browser::signed_in(app.router.clone(), account).await
}

/// The published demo achievement named `name`.
async fn published(app: &TestApp, name: &str) -> Achievement {
    let page = app.state.app.store.search_catalog(&CatalogQuery { limit: 100, ..Default::default() }).await.unwrap();
    page.items.into_iter().find(|a| a.content.name == name).unwrap_or_else(|| panic!("no published {name}"))
}

const FREE_BADGE: &str = "Writing Clear API Documentation";
const OTHER_FREE_BADGE: &str = "Inclusive Meeting Facilitation";
const PAID_BADGE: &str = "Secure Coding Essentials: OWASP Top 10";

/// Applies for `name` in the browser and returns the new submission's path.
async fn apply(browser: &mut Browser, app: &TestApp, name: &str) -> String {
    let achievement = published(app, name).await;
    let page = browser.post(&format!("/achievements/{}/apply", achievement.id), &[]).await;
    page.assert_redirect("/submissions/");
    page.location().split('?').next().unwrap().to_string()
}

async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

/// A judgement at every criterion's required level (levels are numbered from 1).
fn passing(achievement: &Achievement) -> Judgement {
    let rubric = achievement.content.rubric.as_ref().unwrap();
    let scores: Vec<ScoreFields> =
        rubric.criteria.iter().map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid".into() }).collect();
    Judgement::parse(rubric, &scores, "Well done").unwrap()
}

/// Awards the free demo badge to the learner directly.
async fn award(app: &TestApp) -> (Award, Achievement) {
    let badge = published(app, FREE_BADGE).await;
    assert_eq!(badge.kind, Kind::MicroBadge);
    let request = AwardRequest {
        judgement: Some(passing(&badge)),
        evidence_urls: vec![("https://example.org/portfolio/api-docs".into(), "My API guide".into())],
        ..AwardRequest::new(user(app, LEARNER.0).await, badge.id)
    };
    (awards::award(&app.state.app, request).await.unwrap(), badge)
}

// ---------------------------------------------------------------------------------------------
// The submission journey

backend_test!(a_learner_applies_prepares_evidence_and_submits, |app| {
    let mut learner = signed_in(app, LEARNER).await;
    let badge = published(app, FREE_BADGE).await;
    let page = learner.get(&format!("/achievements/{}", badge.id)).await;
    page.assert_contains(&format!("action=\"/achievements/{}/apply\"", badge.id));

    let path = apply(&mut learner, app, FREE_BADGE).await;
    let page = learner.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Your draft is ready");
    page.assert_contains("data-autosave=\"autosave-status\"");
    page.assert_contains("<script src=\"/static/autosave.js\" defer></script>");
    page.assert_contains("pill-draft");
    assert_eq!(learner.get("/static/autosave.js").await.status, StatusCode::OK);

    // Applying again leads back to the same draft; another achievement gets its own submission.
    let again = learner.post(&format!("/achievements/{}/apply", badge.id), &[]).await;
    again.assert_redirect_with(&path, "already-applied");
    let other = apply(&mut learner, app, OTHER_FREE_BADGE).await;
    assert_ne!(other, path);

    let parts = [
        ("overview", "I documented the Orders API for a partner team."),
        ("reflection", "I learnt to test docs with a newcomer."),
        ("links", "https://example.org/docs\n\nhttps://example.org/repo"),
        ("collaborators", "friend@example.org"),
    ];
    learner.post(&path, &parts).await.assert_redirect_with(&path, "draft-saved");
    let page = learner.get(&path).await;
    page.assert_contains("I documented the Orders API for a partner team.");
    page.assert_contains("https://example.org/docs\nhttps://example.org/repo");

    // Autosave: the same form, answered in JSON.
    let saved = learner.post_as(&path, &[("overview", "Autosaved overview"), ("reflection", "r")], "application/json").await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["saved"], true);
    learner.get(&path).await.assert_contains("Autosaved overview");
    learner.post(&path, &parts).await.assert_redirect(&path);

    // Evidence: a file and a text; the learner can download their own file.
    let upload = learner
        .multipart(&format!("{path}/files"), &[("title", "Test notes")], ("file", "notes.md", "text/markdown", b"# Notes\nAll good."), "text/html")
        .await;
    upload.assert_redirect(&format!("{path}#evidence"));
    let text = learner.post(&format!("{path}/texts"), &[("title", "Newcomer comments"), ("body", "Followed it first time.")]).await;
    text.assert_redirect(&path);
    let page = learner.get(&path).await;
    page.assert_contains("Test notes");
    page.assert_contains("Newcomer comments");
    let html = page.text();
    let download = html.split(&format!("href=\"{path}/artifacts/")).nth(1).and_then(|rest| rest.split('"').next()).expect("a download link");
    let file = learner.get(&format!("{path}/artifacts/{download}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"notes.md\""), "{:?}", file.headers);
    assert_eq!(file.text(), "# Notes\nAll good.");

    // Submit from the main form: saved, sent, and the status page explains the due date.
    let submitted = learner.post(&format!("{path}/submit"), &parts).await;
    submitted.assert_redirect_with(&path, "submitted");
    let page = learner.get(&path).await;
    page.assert_contains("Submitted");
    page.assert_contains("Decision due by");
    page.assert_contains("business days");
    page.assert_contains("Business days are Monday to Friday");
    page.assert_lacks("data-autosave");
    let stored = app.state.app.store.submission(path.rsplit('/').next().unwrap().parse().unwrap()).await.unwrap();
    let due = stored.due_at.expect("a due date");
    let due_text = format!("{} ", due.day());
    page.assert_contains(&format!("Decision due by {due_text}"));
    let edit = learner.post(&path, &parts).await;
    assert_eq!(edit.status, StatusCode::CONFLICT, "a submitted attempt cannot be edited: {}", edit.text());

    let list = learner.get("/submissions").await;
    list.assert_contains(FREE_BADGE);
    list.assert_contains(OTHER_FREE_BADGE);
    list.assert_contains("pill-waiting");

    // The learner was told, in the app.
    let notes = learner.get("/notifications").await;
    notes.assert_contains(&format!("Submitted: {FREE_BADGE}"));
    notes.assert_contains("1 unread");
});

backend_test!(refused_forms_come_back_with_what_was_typed, |app| {
    let mut learner = signed_in(app, LEARNER).await;
    let path = apply(&mut learner, app, FREE_BADGE).await;

    let typed = [("overview", "My carefully typed overview"), ("reflection", ""), ("links", "https://ok.example\nnot a link"), ("collaborators", "")];
    let page = learner.post(&path, &typed).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("My carefully typed overview");
    page.assert_contains("https://ok.example\nnot a link</textarea>");
    page.assert_contains("id=\"error-summary\"");
    page.assert_contains("href=\"#links\"");
    page.assert_contains("Line 2:");
    page.assert_contains("aria-invalid=\"true\"");

    // Autosave gets the problem document with the pointer instead.
    let json = learner.post_as(&path, &typed, "application/json").await;
    assert_eq!(json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json.json()["errors"][0]["pointer"], "/links/1");

    // Submitting an incomplete draft names each missing part and keeps the text.
    let incomplete =
        learner.post(&format!("{path}/submit"), &[("overview", "Only an overview"), ("reflection", ""), ("links", ""), ("collaborators", "")]).await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    incomplete.assert_contains("Only an overview");
    incomplete.assert_contains("href=\"#reflection\"");
    incomplete.assert_contains("href=\"#evidence\"");

    // A file that is not accepted keeps its title.
    let binary = learner
        .multipart(&format!("{path}/files"), &[("title", "My binary")], ("file", "a.bin", "application/octet-stream", b"\x00\x01\x02\xff"), "text/html")
        .await;
    assert_eq!(binary.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", binary.text());
    binary.assert_contains("value=\"My binary\"");
    binary.assert_contains("id=\"file-error\"");

    let empty_text = learner.post(&format!("{path}/texts"), &[("title", "Kept title"), ("body", "  ")]).await;
    assert_eq!(empty_text.status, StatusCode::UNPROCESSABLE_ENTITY);
    empty_text.assert_contains("value=\"Kept title\"");
    empty_text.assert_contains("id=\"text_body-error\"");

    // A paid achievement: the fee is due, and a wrong voucher is refused at its field.
    let paid = apply(&mut learner, app, PAID_BADGE).await;
    let page = learner.get(&paid).await;
    page.assert_contains("Fee due");
    page.assert_lacks("formaction=");
    let voucher = learner.post(&format!("{paid}/voucher"), &[("code", "NOPE-NOPE-NOPE")]).await;
    assert_eq!(voucher.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", voucher.text());
    voucher.assert_contains("value=\"NOPE-NOPE-NOPE\"");
    voucher.assert_contains("id=\"voucher_code-error\"");

    // Evidence files may be larger than other uploads, up to their own limit; beyond it the
    // page comes back with the error at the file field. (This body arrives in one piece, so the
    // title is not read before the limit is hit; a browser streams it and keeps the title.)
    let big = vec![b'a'; 3 * 1024 * 1024];
    let upload = learner.multipart(&format!("{path}/files"), &[("title", "Big notes")], ("file", "big.txt", "text/plain", &big), "text/html").await;
    upload.assert_redirect(&format!("{path}#evidence"));
    let huge = vec![b'a'; 11 * 1024 * 1024];
    let refused = learner.multipart(&format!("{path}/files"), &[("title", "Huge notes")], ("file", "huge.txt", "text/plain", &huge), "text/html").await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", refused.text());
    refused.assert_contains("id=\"file-error\"");
    refused.assert_contains("Big notes");
});

backend_test!(the_evidence_storage_is_shown_and_a_file_over_it_is_refused_at_its_field, |app| {
    let mut learner = signed_in(app, LEARNER).await;
    let path = apply(&mut learner, app, FREE_BADGE).await;
    let organisation = published(app, FREE_BADGE).await.organisation;
    let settings = cairn_core::submission::IssuerSettings { evidence_quota_mb: 1, ..app.state.app.store.issuer_settings(organisation).await.unwrap() };
    app.state.app.store.set_issuer_settings(organisation, &settings, time::OffsetDateTime::now_utc()).await.unwrap();
    learner.get(&path).await.assert_contains("Your files with this issuer take 0 bytes of the 1 MB allowed.");
    let notes = vec![b'n'; 700 * 1024];
    learner.multipart(&format!("{path}/files"), &[("title", "Notes")], ("file", "notes.txt", "text/plain", &notes), "text/html").await.assert_redirect(&path);
    learner.get(&path).await.assert_contains("Your files with this issuer take 700 KB of the 1 MB allowed.");
    let more = vec![b'm'; 400 * 1024];
    let refused = learner.multipart(&format!("{path}/files"), &[("title", "More notes")], ("file", "more.txt", "text/plain", &more), "text/html").await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", refused.text());
    refused.assert_contains("id=\"file-error\"");
    refused.assert_contains("you use 700 KB of the 1 MB allowed");
    refused.assert_contains("value=\"More notes\"");
});

backend_test!(someone_elses_submission_is_not_found, |app| {
    let mut learner = signed_in(app, LEARNER).await;
    let path = apply(&mut learner, app, FREE_BADGE).await;
    let text = learner.post(&format!("{path}/texts"), &[("body", "Private evidence")]).await;
    text.assert_redirect(&path);
    let page = learner.get(&path).await;
    let artifact = page.text().split(&format!("href=\"{path}/artifacts/")).nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_string();

    let mut other = signed_in(app, ASSESSOR).await;
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.post(&path, &[("overview", "hijack")]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("{path}/artifacts/{artifact}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.post(&format!("{path}/withdraw"), &[]).await.status, StatusCode::NOT_FOUND);
    other.get("/submissions").await.assert_lacks(FREE_BADGE);

    let mut visitor = Browser::new(app.router.clone());
    visitor.get(&path).await.assert_redirect("/login?next=/submissions/");
    visitor.get("/backpack").await.assert_redirect("/login");
});

// ---------------------------------------------------------------------------------------------
// Awards

backend_test!(award_pages_describe_verify_and_share_the_award, |app| {
    let (award, badge) = award(app).await;
    let path = format!("/awards/{}", award.id);
    let base = app.state.app.config.url("");

    // New awards start private: not found for visitors, other users and the issuer's assessors.
    let mut visitor = Browser::new(app.router.clone());
    assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(visitor.get(&format!("{path}/embed")).await.status, StatusCode::NOT_FOUND);
    let mut assessor = signed_in(app, ASSESSOR).await;
    assert_eq!(assessor.get(&path).await.status, StatusCode::NOT_FOUND);
    let mut learner = signed_in(app, LEARNER).await;
    let page = learner.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("This badge is private");
    assert_eq!(page.header(header::CACHE_CONTROL), "private, no-store");
    // The learner's privacy control opens it to anyone with the link.
    learner.post(&format!("{path}/privacy"), &[("privacy", "unlisted")]).await.assert_redirect(&path);

    // Anyone with the link: described, verified, not indexed.
    let page = visitor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_contains("<meta name=\"robots\" content=\"noindex\">");
    page.assert_contains(&format!("<meta property=\"og:title\" content=\"{} · awarded to Lena Fischer\">", badge.content.name));
    page.assert_contains(&format!("<meta property=\"og:image\" content=\"{base}/awards/{}/badge.png\">", award.id));
    page.assert_contains(&format!("<meta property=\"og:url\" content=\"{base}/awards/{}\">", award.id));
    page.assert_contains("<meta property=\"og:description\"");
    page.assert_contains("<meta name=\"twitter:card\" content=\"summary\">");
    page.assert_contains("verdict-valid");
    page.assert_contains(">Verified</h2>");
    page.assert_contains("Northbridge Institute of Technology");
    page.assert_contains("Achieved");
    page.assert_contains("Competencies and skills");
    page.assert_lacks("linkedin.com");
    page.assert_lacks("My API guide");

    // The learner's own panel: LinkedIn, shares, embed code and downloads.
    let page = learner.get(&path).await;
    // Each share link goes through the award's share route, which counts it and sends the
    // learner on to the network.
    for (network, target) in [
        ("linkedin", "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME"),
        ("x", "https://twitter.com/intent/tweet?url="),
        ("facebook", "https://www.facebook.com/sharer/sharer.php?u="),
        ("e-mail", "mailto:?subject="),
    ] {
        let link = format!("/awards/{}/share/{network}", award.id);
        page.assert_contains(&format!("href=\"{link}\""));
        let sent = learner.get(&link).await;
        assert_eq!(sent.status, 303, "{network}: {}", sent.text());
        assert!(sent.location().starts_with(target), "{network}: {}", sent.location());
        let page_url: String = url::form_urlencoded::byte_serialize(format!("{base}/awards/{}", award.id).as_bytes()).collect();
        assert!(sent.location().contains(&page_url), "{network}: {}", sent.location());
    }
    assert!(learner.get(&format!("/awards/{}/share/linkedin", award.id)).await.location().contains(&format!("certId={}", award.id)));
    assert_eq!(learner.get(&format!("/awards/{}/share/myspace", award.id)).await.status, 404);
    assert_eq!(visitor.get(&format!("/awards/{}/share/linkedin", award.id)).await.status, 404, "only its learner shares it");
    page.assert_contains(&format!("{base}/awards/{}/embed", award.id));
    for download in ["badge.png", "badge.svg", "credential.json?download=1", "credential.jwt?download=1"] {
        page.assert_contains(&format!("href=\"/awards/{}/{download}\"", award.id));
    }
    learner.get("/backpack").await.assert_contains(&format!("href=\"{path}\""));

    // The embed card may be framed by other sites.
    let embed = visitor.get(&format!("{path}/embed")).await;
    assert_eq!(embed.status, StatusCode::OK);
    assert!(embed.header(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors *"), "{:?}", embed.headers);
    assert_ne!(embed.header(header::X_FRAME_OPTIONS), "DENY");
    embed.assert_contains(&badge.content.name);
    assert_eq!(visitor.get(&path).await.header(header::X_FRAME_OPTIONS), "DENY");

    // Public with evidence: indexable, evidence shown.
    learner.post(&format!("{path}/privacy"), &[("privacy", "public"), ("evidence_public", "1")]).await.assert_redirect(&path);
    let page = visitor.get(&path).await;
    page.assert_lacks("noindex");
    page.assert_contains("My API guide");

    // Private: absent for everyone but the learner and the issuer's staff.
    learner.post(&format!("{path}/privacy"), &[("privacy", "private")]).await.assert_redirect(&path);
    assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND);
    // Its learner cannot share it: the share route says why, and sends nowhere.
    let refused = learner.get(&format!("{path}/share/linkedin")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    assert!(refused.header(header::LOCATION).is_empty(), "a private badge is not sent to LinkedIn");
    refused.assert_contains("this badge is private, so there is nothing to share");
    assert_eq!(visitor.get(&format!("{path}/embed")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(visitor.get(&format!("{path}/badge.png")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(assessor.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(assessor.get(&format!("{path}/embed")).await.status, StatusCode::NOT_FOUND);
    let mut staff = signed_in(app, OWNER).await;
    let page = staff.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.assert_lacks("This badge is private"); // the learner's panel is the learner's
    assert_eq!(page.header(header::CACHE_CONTROL), "private, no-store");
    assert_eq!(staff.get(&format!("{path}/embed")).await.status, StatusCode::OK);
    assert_eq!(staff.get(&format!("{path}/credential.json")).await.status, StatusCode::OK, "downloads follow the same rule");
    assert_eq!(staff.post(&format!("{path}/privacy"), &[("privacy", "public")]).await.status, StatusCode::NOT_FOUND, "not theirs to change");
    let page = learner.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("noindex");
    page.assert_contains("This badge is private");

    // Revoked: the page says so, and the live verification agrees.
    learner.post(&format!("{path}/privacy"), &[("privacy", "unlisted")]).await.assert_redirect(&path);
    let owner = cairn_core::authz::Actor::member(user(app, OWNER.0).await, app.state.app.store.memberships(user(app, OWNER.0).await).await.unwrap());
    awards::set_status(&app.state.app, &owner, award.id, StatusAction::Revoke, Some("Plagiarised evidence".into())).await.unwrap();
    let page = visitor.get(&path).await;
    page.assert_contains("verdict-invalid");
    page.assert_contains("Not valid: revoked");
    // The reason was not published: visitors do not read it; the learner does.
    page.assert_lacks("Plagiarised evidence");
    learner.get(&path).await.assert_contains("Plagiarised evidence");
    // A withdrawn award is never listed, even when public.
    learner.post(&format!("{path}/privacy"), &[("privacy", "public")]).await.assert_redirect(&path);
    visitor.get(&path).await.assert_contains("<meta name=\"robots\" content=\"noindex\">");
});

backend_test!(the_verify_page_tells_valid_from_tampered, |app| {
    let (award, _) = award(app).await;
    let mut visitor = Browser::new(app.router.clone());
    let form = visitor.get("/verify").await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_contains("enctype=\"multipart/form-data\"");
    form.assert_contains("<label for=\"verify_text\">");

    let valid = visitor.post("/verify", &[("text", &award.credential_json)]).await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.text());
    valid.assert_contains("verdict-valid");
    valid.assert_contains(&format!(">Valid: {FREE_BADGE}, issued by Northbridge Institute of Technology</h2>"));
    valid.assert_contains("Signature");
    valid.assert_contains("hashed");

    let tampered = award.credential_json.replacen(FREE_BADGE, "Brain Surgery", 1);
    assert_ne!(tampered, award.credential_json);
    let invalid = visitor.post("/verify", &[("text", &tampered)]).await;
    assert_eq!(invalid.status, StatusCode::OK);
    invalid.assert_contains("verdict-invalid");
    invalid.assert_contains(">Not genuine: The signature does not hold");

    // JSON clients get the report.
    let report = visitor.post_as("/verify", &[("text", &award.jwt)], "application/json").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    assert_eq!(report.json()["verdict"], "valid", "{}", report.text());

    // A URL on this site is resolved in-process, as a visitor would see it: a private award's
    // credential is not found; once the learner shares it, it verifies. Private addresses are
    // never fetched.
    let url = app.state.app.config.url(&format!("/awards/{}/credential", award.id));
    let by_url = visitor.post_as("/verify", &[("url", &url)], "application/json").await;
    assert_eq!(by_url.problem(422, "invalid-input")["errors"][0]["pointer"], "/url", "{}", by_url.text());
    let mut learner = signed_in(app, LEARNER).await;
    learner.post(&format!("/awards/{}/privacy", award.id), &[("privacy", "unlisted")]).await.assert_redirect("/awards/");
    let by_url = visitor.post_as("/verify", &[("url", &url)], "application/json").await;
    assert_eq!(by_url.json()["verdict"], "valid", "{}", by_url.text());
    let elsewhere = visitor.post("/verify", &[("url", "http://10.0.0.1/credential/1")]).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    elsewhere.assert_contains("a private address");

    // A baked badge, uploaded.
    let png = app.state.app.store.blobs().get(&award.png_key).await.unwrap();
    let baked = visitor.multipart("/verify", &[], ("file", "badge.png", "image/png", &png), "text/html").await;
    assert_eq!(baked.status, StatusCode::OK, "{}", baked.text());
    baked.assert_contains("verdict-valid");
    baked.assert_contains("baked into a PNG image");

    let huge = vec![b'{'; 3 * 1024 * 1024];
    let too_large = visitor.multipart("/verify", &[], ("file", "huge.json", "application/json", &huge), "text/html").await;
    assert_eq!(too_large.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_large.text());
    too_large.assert_contains("id=\"verify_file-error\"");

    let nothing = visitor.post("/verify", &[("text", ""), ("url", "")]).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    nothing.assert_contains("id=\"error-summary\"");
});

backend_test!(the_verify_page_names_the_revocation_checks_an_address_and_links_the_award, |app| {
    let (award, _) = award(app).await;
    let mut visitor = Browser::new(app.router.clone());
    // The recipient's address is hashed in the credential; the page compares one given.
    let right = visitor.post("/verify", &[("text", &award.credential_json), ("email", " Learner@Demo.Cairn.Test ")]).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text());
    right.assert_contains("Issued to Learner@Demo.Cairn.Test: the recipient");
    let wrong = visitor.post("/verify", &[("text", &award.credential_json), ("email", "someone@example.org")]).await;
    wrong.assert_contains("Not issued to someone@example.org");
    // A private award is not linked for a visitor; shared, it is.
    right.assert_lacks(&format!("href=\"/awards/{}\"", award.id));
    let mut learner = signed_in(app, LEARNER).await;
    learner.post(&format!("/awards/{}/privacy", award.id), &[("privacy", "unlisted")]).await.assert_redirect("/awards/");
    let shared = visitor.post("/verify", &[("text", &award.credential_json)]).await;
    shared.assert_contains(&format!("href=\"/awards/{}\"", award.id));

    // Revoked: the verdict says by whom and on which day.
    let issuer = {
        let owner = user(app, OWNER.0).await;
        cairn_core::authz::Actor::member(owner, app.state.app.store.memberships(owner).await.unwrap())
    };
    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Revoke, Some("issued in error".into())).await.unwrap();
    let revoked = visitor.post("/verify", &[("text", &award.credential_json)]).await;
    let day = cairn_vc::dates::day(app.state.app.now());
    revoked.assert_contains(&format!(">Revoked by Northbridge Institute of Technology on {day}</h2>"));
    revoked.assert_contains("verdict-invalid");
});

backend_test!(notifications_are_marked_read, |app| {
    let learner_id = user(app, LEARNER.0).await;
    let now = app.state.app.now();
    app.state
        .app
        .store
        .notify(learner_id, cairn_core::notification::NotificationKind::Fee, "First news", "Something happened.", "/backpack", now)
        .await
        .unwrap();
    app.state
        .app
        .store
        .notify(learner_id, cairn_core::notification::NotificationKind::Fee, "Second news", "Something else happened.", "https://evil.example/", now)
        .await
        .unwrap();
    let mut learner = signed_in(app, LEARNER).await;
    let page = learner.get("/notifications").await;
    page.assert_contains("2 unread");
    page.assert_contains("First news");
    page.assert_lacks("https://evil.example/");
    let read = page
        .text()
        .split("action=\"/notifications/")
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.ends_with("/read"))
        .expect("a read form")
        .to_string();
    let opened = learner.post(&format!("/notifications/{read}"), &[("follow", "/backpack")]).await;
    opened.assert_redirect("/backpack");
    learner.get("/notifications").await.assert_contains("1 unread");
    learner.post("/notifications/read-all", &[]).await.assert_redirect("/notifications");
    learner.get("/notifications").await.assert_contains("Nothing unread");

    let mut other = signed_in(app, OWNER).await;
    other.get("/notifications").await.assert_lacks("First news");
});

async fn actor(app: &TestApp, email: &str) -> cairn_core::authz::Actor {
    let id = user(app, email).await;
    cairn_core::authz::Actor::member(id, app.state.app.store.memberships(id).await.unwrap())
}

backend_test!(feedback_after_not_yet_shows_every_criterion_and_the_form_again, |app| {
    let badge = published(app, FREE_BADGE).await;
    cairn_app::issuer::add_to_pool(&app.state.app, &actor(app, OWNER.0).await, badge.id, user(app, ASSESSOR.0).await).await.unwrap();
    let mut learner = signed_in(app, LEARNER).await;
    let path = apply(&mut learner, app, FREE_BADGE).await;
    let parts = [("overview", "First overview"), ("reflection", "First reflection"), ("links", "https://example.org/docs"), ("collaborators", OWNER.0)];
    learner.post(&format!("{path}/submit"), &parts).await.assert_redirect_with(&path, "submitted");

    // The collaborator writes their own reflection; the learner sees that it is written.
    let mut collaborator = signed_in(app, OWNER).await;
    let page = collaborator.get("/collaborations").await;
    page.assert_contains(FREE_BADGE);
    let id = path.rsplit('/').next().unwrap();
    collaborator.post(&format!("/collaborations/{id}"), &[("reflection", "I reviewed the error pages.")]).await.assert_redirect("/collaborations");
    collaborator.get("/collaborations").await.assert_contains("I reviewed the error pages.");
    learner.get(&path).await.assert_contains("reflection written");

    // The assessor says "not yet" on the first criterion.
    let rubric = badge.content.rubric.as_ref().unwrap();
    let scores: Vec<ScoreFields> = rubric
        .criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // Levels are numbered from 1; the first criterion stays at the lowest.
            let level = if i == 0 { 1 } else { c.required_level + 1 };
            ScoreFields { criterion: c.id.clone(), level: level.to_string(), comment: format!("Comment on {}", c.name) }
        })
        .collect();
    let submission = id.parse().unwrap();
    cairn_app::assessment::assess(&app.state.app, &actor(app, ASSESSOR.0).await, submission, &scores, "Close: fix the first criterion.").await.unwrap();

    let page = learner.get(&path).await;
    page.assert_contains("pill-notyet");
    page.assert_contains("Attempt 1: Not yet");
    page.assert_contains("Close: fix the first criterion.");
    page.assert_contains("<th scope=\"col\">Level achieved</th><th scope=\"col\">Level required</th><th scope=\"col\">Met?</th>");
    page.assert_contains(&format!("<th scope=\"row\">{}</th>", rubric.criteria[0].name));
    page.assert_contains(&format!("Comment on {}", rubric.criteria[0].name));
    page.assert_contains("<span class=\"not-met\">Not yet</span>");
    page.assert_contains("<span class=\"met\">Yes</span>");
    page.assert_contains("You may resubmit 2 more times.");
    page.assert_contains("data-autosave");
    page.assert_contains("Save and resubmit");
    page.assert_contains("Your assessor");
    page.assert_lacks("Arjun Mehta");
    page.assert_lacks("assessor@demo.cairn.test");

    let revised = [("overview", "Revised overview"), ("reflection", "What I changed"), ("links", "https://example.org/docs"), ("collaborators", OWNER.0)];
    learner.post(&format!("{path}/submit"), &revised).await.assert_redirect_with(&path, "resubmitted");
    let page = learner.get(&path).await;
    page.assert_contains("Attempt 2");
    page.assert_contains("Decision due by");
    page.assert_contains("Revised overview");
});
