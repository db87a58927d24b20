//! Uploads and the blob store: every limit is checked before a blob is written, so a refused
//! upload leaves nothing behind; each learner's evidence storage with an issuer is capped by the
//! issuer's setting; the background sweep deletes blobs nothing refers to once they are old
//! enough, and keeps the rest.

use crate::helpers::{TestApp, badge_body};
use cairn_app::Clock;
use cairn_server::AppState;
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;

struct Fixed(OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A published micro-badge of the demo issuer; returns (achievement id, issuer token).
async fn published_badge(app: &TestApp, name: &str) -> (String, String) {
    let org = app.demo_organisation().await;
    let issuer = app.issuer_token().await;
    let created = app.json("POST", &format!("/api/v1/organisations/{org}/achievements"), Some(&issuer), &badge_body(name)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    let published = app.json("POST", &format!("/api/v1/achievements/{id}/publish"), Some(&issuer), &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text());
    (id, issuer)
}

/// A new learner's token and a draft submission of theirs for `badge`.
async fn learner_draft(app: &TestApp, email: &str, badge: &str) -> (String, String) {
    let created = app.json("POST", "/api/v1/users", None, &json!({"name": "Uma Loft", "email": email, "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    let token = app.token(email, "a long enough password").await;
    let body = json!({"overview": "Overview", "reflection": "Reflection", "links": [], "collaborators": []});
    let started = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&token), &body).await;
    assert_eq!(started.status, 201, "{}", started.text());
    (token, started.json()["id"].as_str().unwrap().to_string())
}

async fn blob_count(app: &TestApp) -> usize {
    app.state.app.store.blobs().count().await.unwrap()
}

/// A 2×2 PNG.
fn tiny_png(shade: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 2, 2);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[shade; 16]).unwrap();
    }
    bytes
}

/// A PNG with an animation control chunk after its header: an animated PNG.
fn animated_png() -> Vec<u8> {
    let png = tiny_png(200);
    let after_header = 8 + 8 + 13 + 4;
    let actl = [&8u32.to_be_bytes()[..], b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0], &[0; 4]].concat();
    [&png[..after_header], &actl, &png[after_header..]].concat()
}

/// A ZIP local file header naming a Word part: what a .docx starts with.
fn docx() -> Vec<u8> {
    let name = b"word/document.xml";
    [&b"PK\x03\x04\x14\0\0\0\x08\0"[..], &[0; 16], &(name.len() as u16).to_le_bytes(), &[0, 0], name].concat()
}

/// The app as it is an hour and more after now: blobs written now are past the sweep's grace.
fn later(app: &TestApp, hours: i64) -> AppState {
    let mut state: AppState = app.state.clone();
    state.app.clock = Arc::new(Fixed(OffsetDateTime::now_utc() + time::Duration::hours(hours)));
    state
}

backend_test!(refused_evidence_uploads_leave_no_blob_behind, |app| {
    let (badge, _issuer) = published_badge(app, "Tidy Uploads").await;
    let (learner, id) = learner_draft(app, "uma.loft@example.org", &badge).await;
    let (other, _) = learner_draft(app, "vic.mole@example.org", &badge).await;
    let path = format!("/api/v1/submissions/{id}/artifacts");
    let before = blob_count(app).await;

    let huge = vec![b'a'; cairn_core::evidence::MAX_EVIDENCE_BYTES + 1];
    let too_large = app.upload(&path, Some(&learner), "huge.txt", "text/plain", &huge).await.problem(413, "too-large");
    assert_eq!(too_large["detail"], "the file is larger than the 10 MB allowed");
    app.upload(&path, Some(&learner), "tool.exe", "application/octet-stream", b"MZ\x90\x00\x03\x00\x00\x00").await.problem(415, "unsupported-media-type");
    let office = app.upload(&path, Some(&learner), "report.docx", "application/octet-stream", &docx()).await.problem(415, "unsupported-media-type");
    assert!(office["detail"].as_str().unwrap().contains("export it to PDF"), "{office}");
    let animated = app.upload(&path, Some(&learner), "anim.png", "image/png", &animated_png()).await.problem(415, "unsupported-media-type");
    assert!(animated["detail"].as_str().unwrap().starts_with("animated PNG images are not accepted"), "{animated}");
    app.upload(&path, Some(&learner), "empty.txt", "text/plain", b"").await.problem(422, "invalid-input");
    app.upload(&path, Some(&other), "theirs.txt", "text/plain", b"not your submission").await.problem(404, "not-found");
    let no_file = app
        .raw(
            "POST",
            &path,
            Some(&learner),
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n--x--\r\n".to_vec(),
        )
        .await;
    no_file.problem(422, "invalid-input");
    app.raw("POST", &path, Some(&learner), "application/json", b"{}".to_vec()).await.problem(400, "malformed-request");
    assert_eq!(blob_count(app).await, before, "no refused upload wrote a blob");

    // A full submission refuses the next file before writing it.
    for n in 0..cairn_core::submission::MAX_ARTIFACTS {
        let text = app.json("POST", &format!("/api/v1/submissions/{id}/texts"), Some(&learner), &json!({"body": format!("Text {n}")})).await;
        assert_eq!(text.status, 201, "{}", text.text());
    }
    let full = app.upload(&path, Some(&learner), "one-more.txt", "text/plain", b"one file too many").await.problem(409, "conflict");
    assert!(full["detail"].as_str().unwrap().contains("at most 20 pieces of evidence"), "{full}");
    assert_eq!(blob_count(app).await, before, "a full submission's refused file wrote no blob");
});

backend_test!(refused_image_uploads_leave_no_blob_behind, |app| {
    let (badge, issuer) = published_badge(app, "Tidy Images").await;
    let org = app.demo_organisation().await;
    let before = blob_count(app).await;
    let path = format!("/api/v1/achievements/{badge}/image");
    let big = vec![0u8; cairn_core::image::MAX_IMAGE_BYTES + 1];
    app.upload(&path, Some(&issuer), "big.png", "image/png", &big).await.problem(413, "too-large");
    app.upload(&path, Some(&issuer), "notes.txt", "text/plain", b"hello there").await.problem(415, "unsupported-media-type");
    app.upload(&path, Some(&issuer), "empty.png", "image/png", b"").await.problem(422, "invalid-input");
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    app.upload(&path, Some(&assessor), "badge.png", "image/png", &tiny_png(1)).await.problem(403, "forbidden");
    app.upload(&format!("/api/v1/organisations/{org}/image"), Some(&assessor), "logo.png", "image/png", &tiny_png(1)).await.problem(403, "forbidden");
    assert_eq!(blob_count(app).await, before);
});

backend_test!(each_learner_has_the_evidence_storage_the_issuer_allows, |app| {
    let (badge, issuer) = published_badge(app, "Measured Evidence").await;
    let org = app.demo_organisation().await;
    let settings_path = format!("/api/v1/organisations/{org}/assessment-settings");
    let defaults = app.get(&settings_path, Some(&issuer)).await.json();
    assert_eq!(defaults["evidence_quota_mb"], 200, "{defaults}");
    let bad = json!({"service_days": 14, "nearly_due_days": 2, "evidence_quota_mb": 0});
    let invalid = app.json("PUT", &settings_path, Some(&issuer), &bad).await.problem(422, "invalid-input");
    assert_eq!(invalid["errors"][0]["pointer"], "/evidence_quota_mb", "{invalid}");
    let one_mb = json!({"service_days": 14, "nearly_due_days": 2, "attempt_limit": 3, "evidence_quota_mb": 1});
    let saved = app.json("PUT", &settings_path, Some(&issuer), &one_mb).await;
    assert_eq!((saved.status.as_u16(), saved.json()["evidence_quota_mb"].clone()), (200, json!(1)), "{}", saved.text());

    let (learner, id) = learner_draft(app, "wen.pike@example.org", &badge).await;
    let path = format!("/api/v1/submissions/{id}/artifacts");
    let notes = vec![b'n'; 700 * 1024];
    assert_eq!(app.upload(&path, Some(&learner), "notes.txt", "text/plain", &notes).await.status, 201);
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["evidence_storage"], json!({"used_bytes": 700 * 1024, "allowed_bytes": 1024 * 1024}), "{view}");

    // The next file would pass the limit: refused before its blob is written, saying what is used and allowed.
    let before = blob_count(app).await;
    let more = vec![b'm'; 400 * 1024];
    let over = app.upload(&path, Some(&learner), "more.txt", "text/plain", &more).await.problem(413, "too-large");
    assert_eq!(
        over["detail"],
        "this file (400 KB) does not fit in your evidence storage with this issuer: you use 700 KB of the 1 MB allowed; remove files you no longer need"
    );
    assert_eq!(blob_count(app).await, before);
    // A file that fills the rest is still welcome, and text artefacts do not count.
    assert_eq!(app.upload(&path, Some(&learner), "small.txt", "text/plain", &vec![b's'; 324 * 1024]).await.status, 201);
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/texts"), Some(&learner), &json!({"body": "words"})).await.status, 201);
    // Full now: even a tiny file is refused.
    app.upload(&path, Some(&learner), "tiny.txt", "text/plain", b"x").await.problem(413, "too-large");

    // Withdrawing and starting again does not give the room back: the files are kept.
    assert_eq!(app.json("POST", &format!("/api/v1/submissions/{id}/withdraw"), Some(&learner), &json!({})).await.status, 200);
    let body = json!({"overview": "Again", "reflection": "Again"});
    let again = app.json("POST", &format!("/api/v1/achievements/{badge}/submissions"), Some(&learner), &body).await.json();
    let again_path = format!("/api/v1/submissions/{}/artifacts", again["id"].as_str().unwrap());
    app.upload(&again_path, Some(&learner), "again.txt", "text/plain", b"again").await.problem(413, "too-large");

    // Another learner has their own storage; a larger quota lets the first one go on.
    let (someone, theirs) = learner_draft(app, "xan.reed@example.org", &badge).await;
    assert_eq!(app.upload(&format!("/api/v1/submissions/{theirs}/artifacts"), Some(&someone), "t.txt", "text/plain", &notes).await.status, 201);
    let two_mb = json!({"service_days": 14, "nearly_due_days": 2, "evidence_quota_mb": 2});
    assert_eq!(app.json("PUT", &settings_path, Some(&issuer), &two_mb).await.status, 200);
    assert_eq!(app.upload(&again_path, Some(&learner), "again.txt", "text/plain", b"again").await.status, 201);
});

backend_test!(the_sweep_deletes_unreferenced_blobs_once_they_are_old_enough, |app| {
    let (badge, issuer) = published_badge(app, "Swept Evidence").await;
    let org = app.demo_organisation().await;
    let (learner, id) = learner_draft(app, "yara.holt@example.org", &badge).await;
    let path = format!("/api/v1/submissions/{id}/artifacts");
    let kept = app.upload(&path, Some(&learner), "kept.txt", "text/plain", b"evidence that stays").await.json();
    let removed = app.upload(&path, Some(&learner), "removed.txt", "text/plain", b"evidence removed before sending").await.json();
    let removed_id = removed["id"].as_str().unwrap();
    assert_eq!(app.raw("DELETE", &format!("{path}/{removed_id}"), Some(&learner), "application/json", Vec::new()).await.status, 204);
    // A replaced organisation image is no longer referenced either.
    let image_path = format!("/api/v1/organisations/{org}/image");
    assert_eq!(app.upload(&image_path, Some(&issuer), "old.png", "image/png", &tiny_png(10)).await.status, 200);
    assert_eq!(app.upload(&image_path, Some(&issuer), "new.png", "image/png", &tiny_png(20)).await.status, 200);
    let before = blob_count(app).await;

    // Within the grace period nothing goes: an upload's row may still be on its way.
    let report = cairn_app::jobs::sweep_blobs(&app.state.app).await.unwrap();
    assert_eq!(report.deleted, 0);
    assert_eq!(blob_count(app).await, before);

    // Past it, the background run sweeps the two orphans, once per interval.
    let state = later(app, 2);
    let mailer = cairn_app::jobs::Mailer::from_config(&state.app);
    assert_eq!(cairn_app::jobs::run_once(&state.app, &mailer).await.swept, 2);
    assert_eq!(blob_count(app).await, before - 2);
    assert_eq!(cairn_app::jobs::run_once(&state.app, &mailer).await.swept, 0, "swept once per interval");

    // What rows refer to is all still there.
    let kept_id = kept["id"].as_str().unwrap();
    let view = app.get(&format!("/api/v1/submissions/{id}"), Some(&learner)).await.json();
    assert_eq!(view["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(view["artifacts"][0]["id"], kept_id);
    let artifact = app.state.app.store.artifact(kept_id.parse().unwrap()).await.unwrap();
    let cairn_store::ArtifactBody::File { blob_key, .. } = artifact.body else { panic!("a file artefact") };
    assert_eq!(app.state.app.store.blobs().get(&blob_key).await.unwrap(), b"evidence that stays");
    let image = app.get(&format!("/issuers/{org}/image"), None).await;
    assert_eq!((image.status.as_u16(), image.body.clone()), (200, tiny_png(20)), "{}", image.text());
});
