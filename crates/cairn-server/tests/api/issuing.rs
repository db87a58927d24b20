//! Issuing awards: every served form of a credential verifies, status changes reach the status
//! lists at once, a second award is refused, level badges stack, private downloads stay private.

use crate::helpers::TestApp;
use axum::http::header;
use cairn_app::awards::{self, AwardRequest};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::assessment::{Judgement, ScoreFields};
use cairn_core::authz::Actor;
use cairn_core::award::{AwardStatus, Privacy, StatusAction, StatusReason};
use cairn_core::ids::{AwardId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_server::problem::Problem;
use cairn_store::{Award, Effect, EffectState, NewEffect};
use cairn_vc::bake::{BakedPayload, unbake};
use cairn_vc::loader::StaticLoader;
use cairn_vc::status::StatusList;
use cairn_vc::verify::{Verdict, VerificationReport, VerifyOptions, verify};
use serde_json::{Value, json};

pub(crate) const LEARNER: &str = "learner@demo.cairn.test";

pub(crate) async fn user(app: &TestApp, email: &str) -> UserId {
    app.state.app.store.user_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap().id
}

pub(crate) async fn actor(app: &TestApp, email: &str) -> Actor {
    let id = user(app, email).await;
    Actor::member(id, app.state.app.store.memberships(id).await.unwrap())
}

/// The demo issuer's published achievements.
pub(crate) async fn demo_achievements(app: &TestApp) -> Vec<Achievement> {
    let organisation = app.demo_organisation().await.parse().unwrap();
    app.state.app.store.organisation_achievements(organisation).await.unwrap()
}

pub(crate) async fn micro_badge(app: &TestApp) -> Achievement {
    demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge).expect("the demo has micro-badges")
}

/// A judgement meeting every criterion's required level.
fn passing(achievement: &Achievement) -> Judgement {
    let rubric = achievement.content.rubric.as_ref().unwrap();
    let scores: Vec<ScoreFields> = rubric
        .criteria
        .iter()
        .map(|c| ScoreFields { criterion: c.id.clone(), level: (c.required_level + 1).to_string(), comment: "Solid work".into() })
        .collect();
    Judgement::parse(rubric, &scores, "Well done").unwrap()
}

pub(crate) fn request(learner: UserId, achievement: &Achievement) -> AwardRequest {
    AwardRequest {
        judgement: achievement.content.rubric.as_ref().map(|_| passing(achievement)),
        evidence_urls: vec![("https://example.org/portfolio/bash".into(), "My\u{7} portfolio\u{0}".into())],
        ..AwardRequest::new(learner, achievement.id)
    }
}

/// Awards a micro-badge to the demo learner, who then shares it with anyone who has the link
/// (new awards start private).
async fn award_badge(app: &TestApp) -> (Award, Achievement) {
    let badge = micro_badge(app).await;
    let award = awards::award(&app.state.app, request(user(app, LEARNER).await, &badge)).await.unwrap();
    assert_eq!(award.privacy, Privacy::Private, "new awards start private");
    (share(app, award.id).await, badge)
}

/// The learner's privacy control: anyone with the link may see the award.
async fn share(app: &TestApp, award: AwardId) -> Award {
    let learner = actor(app, LEARNER).await;
    awards::set_privacy(&app.state.app, &learner, award, Privacy::Unlisted, false).await.unwrap().award
}

fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(app.state.app.config.url("").as_str()).unwrap_or_else(|| panic!("{url} is not on this server")).to_string()
}

fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// What a verifier would fetch, fetched from the app: the issuer's DID document and the status
/// lists the credential names.
pub(crate) async fn loader_for(app: &TestApp, credential: &Value) -> StaticLoader {
    let did = credential["issuer"]["id"].as_str().unwrap();
    let organisation = did.rsplit(':').next().unwrap();
    let document = app.get(&format!("/issuers/{organisation}/did.json"), None).await;
    assert_eq!(document.status, 200, "{}", document.text());
    let mut loader = StaticLoader::new().with(did, &document.json());
    for entry in one_or_many(&credential["credentialStatus"]) {
        let url = entry["statusListCredential"].as_str().unwrap();
        let list = app.get(&path_of(app, url), None).await;
        assert_eq!(list.status, 200, "{}", list.text());
        assert_eq!(list.headers[header::CACHE_CONTROL], "no-cache");
        loader.insert(url, &list.json());
    }
    loader
}

async fn verified(app: &TestApp, input: &[u8], credential: &Value) -> VerificationReport {
    let loader = loader_for(app, credential).await;
    verify(input, &VerifyOptions::new(&loader, app.state.app.now().unix_timestamp()).with_clock_skew(60))
}

#[track_caller]
fn assert_valid(report: &VerificationReport) {
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let passed = |ids: &[&str]| report.checks.iter().any(|c| ids.contains(&c.id.as_str()) && c.ok == Some(true));
    assert!(passed(&["proof", "jwt.signature"]) && passed(&["status"]), "the proof and the status were checked: {report:#?}");
}

async fn credential_of(app: &TestApp, award: AwardId) -> (Vec<u8>, Value) {
    let response = app.get(&format!("/awards/{award}/credential"), None).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.content_type(), "application/vc+ld+json");
    let json = response.json();
    (response.body, json)
}

/// Entry `index` of the status list at `url`, as the app serves it now.
async fn status_bit(app: &TestApp, url: &str, index: u64) -> bool {
    let list = app.get(&path_of(app, url), None).await.json();
    StatusList::decode(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap().get(usize::try_from(index).unwrap()).unwrap()
}

fn achievement_schema() -> jsonschema::Validator {
    let path = format!("{}/../cairn-vc/tests/fixtures/schemas/ob_v3p0_achievementcredential_schema.json", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft201909::new(&schema).unwrap()
}

backend_test!(an_award_is_signed_baked_and_served_in_every_form, |app| {
    let (award, badge) = award_badge(app).await;
    assert_eq!((award.status, award.privacy, award.achievement_version), (AwardStatus::Active, Privacy::Unlisted, badge.version));
    assert_eq!(credential_of(app, award.id).await.1["id"], app.state.app.config.urls().credential(award.id));
    let (bytes, credential) = credential_of(app, award.id).await;
    assert_eq!(credential["id"], app.state.app.config.url(&format!("/awards/{}/credential", award.id)));
    assert_eq!(credential["issuer"]["id"], awards::issuer_did(&app.state.app.config, badge.organisation));
    assert_eq!(credential["proof"][0]["verificationMethod"], awards::verification_method(&app.state.app.config, badge.organisation));
    let achievement = &credential["credentialSubject"]["achievement"];
    assert_eq!(achievement["achievementType"], "Badge");
    assert_eq!(achievement["name"], badge.content.name.as_str());
    let criteria = badge.content.rubric.as_ref().unwrap().criteria.len();
    assert_eq!(achievement["resultDescription"].as_array().unwrap().len(), criteria);
    assert_eq!(credential["credentialSubject"]["result"].as_array().unwrap().len(), criteria);
    assert_eq!(credential["credentialSubject"]["result"][0]["achievedLevel"], achievement["resultDescription"][0]["requiredLevel"]);
    assert_eq!(credential["evidence"][0]["name"], "My portfolio", "control characters are not signed");
    let entries = credential["credentialStatus"].as_array().expect("a revocation and a suspension entry");
    assert_eq!(entries.iter().map(|e| e["statusPurpose"].as_str().unwrap()).collect::<Vec<_>>(), ["revocation", "suspension"]);
    let index = award.status_index.to_string();
    assert!(entries.iter().all(|e| e["statusListIndex"] == index.as_str()), "{entries:?}");
    assert!(!String::from_utf8_lossy(&bytes).contains(LEARNER), "the recipient's address is hashed");
    // The official schema describes one status entry: the credential is valid with each of its
    // entries in turn (the set itself is the one deviation, see docs/credentials.md).
    for entry in entries {
        let mut single = credential.clone();
        single["credentialStatus"] = entry.clone();
        let errors: Vec<String> = achievement_schema().iter_errors(&single).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let report = verified(app, &bytes, &credential).await;
    let shape = report.checks.iter().find(|c| c.id == "shape").unwrap();
    assert_eq!(shape.ok, Some(true), "{shape:?}");
    assert_eq!(shape.warnings.len(), 1, "only the status set deviates: {shape:?}");
    assert!(shape.warnings[0].contains("/credentialStatus: 2 status entries"), "{shape:?}");
    assert_eq!(report.checks.iter().filter(|c| c.id == "status" && c.ok == Some(true)).count(), 2, "both lists were read: {report:#?}");
    assert_valid(&verified(app, &bytes, &credential).await);

    let download = app.get(&format!("/awards/{}/credential.json?download=1", award.id), None).await;
    assert_eq!(download.body, bytes);
    let disposition = download.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".credential.json\""), "{disposition}");

    let jwt = app.get(&format!("/awards/{}/credential.jwt", award.id), None).await;
    assert_eq!((jwt.status.as_u16(), jwt.content_type()), (200, "application/vc+jwt"));
    let report = verified(app, &jwt.body, &credential).await;
    assert_valid(&report);
    assert_eq!(report.credential.as_ref().unwrap()["id"], credential["id"]);

    for (path, media_type) in [("badge.png", "image/png"), ("badge.svg", "image/svg+xml")] {
        let image = app.get(&format!("/awards/{}/{path}", award.id), None).await;
        assert_eq!((image.status.as_u16(), image.content_type()), (200, media_type), "{path}");
        assert!(image.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename="), "{path}");
        assert_eq!(unbake(&image.body).unwrap(), Some(BakedPayload::Ob3Json(String::from_utf8(bytes.clone()).unwrap())), "{path}");
        assert_valid(&verified(app, &image.body, &credential).await);
    }

    let assertion = app.get(&format!("/ob2/assertions/{}", award.id), None).await;
    assert_eq!(assertion.status, 200);
    let assertion = assertion.json();
    assert!(cairn_vc::ob2::recipient_matches(&assertion["recipient"], LEARNER));
    assert!(!cairn_vc::ob2::recipient_matches(&assertion["recipient"], "someone@example.org"));
    assert_eq!(assertion["recipient"]["salt"], credential["credentialSubject"]["identifier"][0]["salt"]);
    let badge_class = app.get(&path_of(app, assertion["badge"].as_str().unwrap()), None).await.json();
    assert_eq!((badge_class["type"].as_str(), badge_class["name"].as_str()), (Some("BadgeClass"), Some(badge.content.name.as_str())));
    let issuer = app.get(&path_of(app, badge_class["issuer"].as_str().unwrap()), None).await.json();
    assert_eq!(issuer["type"], "Issuer");

    let links = awards::award_links(&app.state.app.config, award.id);
    for key in ["page", "credential", "jwt", "png", "svg", "ob2"] {
        assert!(links[key].as_str().unwrap().starts_with("http://127.0.0.1:8080/"), "{key}: {links}");
    }
    let results = awards::award_results(&award);
    assert_eq!(results.len(), criteria);
    assert!(results.iter().all(|r| r.met), "{results:?}");
    let learner = user(app, LEARNER).await;
    let notifications = app.state.app.store.notifications(learner, 10).await.unwrap();
    assert!(notifications.iter().any(|n| n.kind == NotificationKind::Award && n.link == format!("/awards/{}", award.id)), "{notifications:?}");
    assert!(app.state.app.store.outbox(10).await.unwrap().iter().any(|m| m.to == LEARNER), "an e-mail is queued");
});

backend_test!(revoking_and_suspending_change_the_status_lists_at_once, |app| {
    let (award, _) = award_badge(app).await;
    let (bytes, credential) = credential_of(app, award.id).await;
    let revocation = credential["credentialStatus"][0]["statusListCredential"].as_str().unwrap().to_string();
    let (_, suspension_id) = app.state.app.store.ensure_status_lists(award.organisation, awards::STATUS_LIST_LENGTH, app.state.app.now()).await.unwrap();
    let suspension = awards::status_list_url(&app.state.app.config, &suspension_id);
    assert_eq!(credential["credentialStatus"][1]["statusListCredential"], suspension.as_str(), "the credential names the suspension list");
    let issuer = actor(app, "issuer@demo.cairn.test").await;

    let learner = actor(app, LEARNER).await;
    let denied = awards::set_status(&app.state.app, &learner, award.id, StatusAction::Revoke, None).await.map_err(Problem::from).unwrap_err();
    assert_eq!(denied.status, 403);
    let denied = awards::set_status(&app.state.app, &Actor::anonymous(), award.id, StatusAction::Revoke, None).await.map_err(Problem::from).unwrap_err();
    assert_eq!(denied.status, 401);

    let suspended =
        awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Suspend, Some(StatusReason::published("under review\u{0}"))).await.unwrap();
    assert_eq!((suspended.status, suspended.status_reason.as_deref()), (AwardStatus::Suspended, Some("under review")));
    assert!(status_bit(app, &suspension, award.status_index).await);
    assert!(!status_bit(app, &revocation, award.status_index).await);
    let gone = app.get(&format!("/ob2/assertions/{}", award.id), None).await;
    assert_eq!(gone.status, 410);
    assert_eq!((gone.json()["revoked"].as_bool(), gone.json()["revocationReason"].as_str()), (Some(true), Some("suspended: under review")));
    // Every form of the credential fails while it is suspended.
    let report = verified(app, &bytes, &credential).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert!(report.checks.iter().any(|c| c.id == "status" && c.ok == Some(false) && c.detail.starts_with("suspended")), "{report:#?}");
    assert!(report.checks.iter().any(|c| c.id == "status" && c.ok == Some(true)), "the revocation entry is clear: {report:#?}");
    let jwt = app.get(&format!("/awards/{}/credential.jwt", award.id), None).await;
    assert_eq!(verified(app, &jwt.body, &credential).await.verdict, Verdict::Invalid);
    let png = app.get(&format!("/awards/{}/badge.png", award.id), None).await;
    assert_eq!(verified(app, &png.body, &credential).await.verdict, Verdict::Invalid);

    let reinstated = awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Reinstate, None).await.unwrap();
    assert_eq!(reinstated.status, AwardStatus::Active);
    assert!(!status_bit(app, &suspension, award.status_index).await);
    assert_eq!(app.get(&format!("/ob2/assertions/{}", award.id), None).await.status, 200);
    assert_valid(&verified(app, &bytes, &credential).await);
    let jwt = app.get(&format!("/awards/{}/credential.jwt", award.id), None).await;
    assert_valid(&verified(app, &jwt.body, &credential).await);

    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Revoke, Some("issued in error".into())).await.unwrap();
    assert!(status_bit(app, &revocation, award.status_index).await);
    let report = verified(app, &bytes, &credential).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert!(report.checks.iter().any(|c| c.id == "status" && c.ok == Some(false) && c.detail.contains("revoked")), "{report:#?}");
    let jwt = app.get(&format!("/awards/{}/credential.jwt", award.id), None).await;
    assert_eq!(verified(app, &jwt.body, &credential).await.verdict, Verdict::Invalid);
    let gone = app.get(&format!("/ob2/assertions/{}", award.id), None).await;
    // The revocation's reason was not published: the public document does not carry it.
    assert_eq!((gone.status.as_u16(), gone.json()["revocationReason"].as_str()), (410, Some("revoked by the issuer")));
    let refused = awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Reinstate, None).await.map_err(Problem::from).unwrap_err();
    assert_eq!(refused.status, 409);
    assert!(app.state.app.store.notifications(user(app, LEARNER).await, 10).await.unwrap().iter().any(|n| n.kind == NotificationKind::AwardRevoked));
});

backend_test!(an_achievement_is_awarded_once_and_a_refusal_stores_nothing, |app| {
    let (award, badge) = award_badge(app).await;
    let learner = user(app, LEARNER).await;
    let again = awards::award(&app.state.app, request(learner, &badge)).await.map_err(Problem::from).unwrap_err();
    assert_eq!((again.status.as_u16(), again.detail.as_str()), (409, "already awarded"));
    let awards = app.state.app.store.awards_of(learner).await.unwrap();
    assert_eq!(awards.iter().map(|a| a.id).collect::<Vec<_>>(), vec![award.id]);
    // The demo graduate holds one of the issuer's awards too; a refused award takes no entry.
    let used = app.state.app.store.used_status_indexes(award.organisation).await.unwrap();
    assert!(used.contains(&award.status_index), "{used:?}");

    let mut bad = request(learner, &demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge && a.id != badge.id).unwrap());
    bad.evidence_urls.push(("javascript:alert(1)".into(), "x".into()));
    let refused = awards::award(&app.state.app, bad).await.map_err(Problem::from).unwrap_err();
    assert_eq!((refused.status.as_u16(), refused.errors[0].pointer.as_str()), (422, "/evidence_urls/1"));
    assert_eq!(app.state.app.store.awards_of(learner).await.unwrap().len(), 1);
    assert_eq!(app.state.app.store.used_status_indexes(award.organisation).await.unwrap(), used);

    let token = app.issuer_token().await;
    let organisation = app.demo_organisation().await;
    let draft = app.json("POST", &format!("/api/v1/organisations/{organisation}/achievements"), Some(&token), &crate::helpers::badge_body("Draft Only")).await;
    let draft = app.state.app.store.achievement(draft.json()["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(awards::award(&app.state.app, request(learner, &draft)).await.map_err(Problem::from).unwrap_err().status, 409);
    assert_eq!(app.state.app.store.awards_of(learner).await.unwrap().len(), 1);
});

backend_test!(holding_every_level_awards_the_micro_credential, |app| {
    let achievements = demo_achievements(app).await;
    let stack = achievements.iter().find(|a| a.kind == Kind::MicroCredential).unwrap();
    let mut levels = app.state.app.store.levels(stack.id).await.unwrap();
    levels.sort_by_key(|l| match l.kind {
        Kind::Level(n) => n,
        _ => 0,
    });
    assert_eq!(levels.len(), 3);
    let learner = user(app, LEARNER).await;
    let mut level_awards = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        let (award, stacked) = awards::award_with_stack(&app.state.app, request(learner, level)).await.unwrap();
        level_awards.push(award);
        assert_eq!(stacked.is_some(), i == 2, "the micro-credential comes with the last level only");
    }
    let held = app.state.app.store.held_achievements(learner).await.unwrap();
    assert!(held.contains(&stack.id), "{held:?}");
    let parent = app.state.app.store.awards_of(learner).await.unwrap().into_iter().find(|a| a.achievement == stack.id).unwrap();
    assert_eq!((parent.submission, parent.privacy), (None, Privacy::Private));
    let parent = share(app, parent.id).await;
    share(app, level_awards[0].id).await;
    let (bytes, credential) = credential_of(app, parent.id).await;
    assert_eq!(credential["credentialSubject"]["achievement"]["achievementType"], "MicroCredential");
    let evidence: Vec<&str> = credential["evidence"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    for award in &level_awards {
        assert!(evidence.contains(&app.state.app.config.url(&format!("/awards/{}", award.id)).as_str()), "{evidence:?}");
    }
    assert_ne!(parent.status_index, level_awards[2].status_index);
    assert_valid(&verified(app, &bytes, &credential).await);
    let level_credential = credential_of(app, level_awards[0].id).await.1;
    assert_eq!(level_credential["credentialSubject"]["achievement"]["achievementType"], "Badge");
});

backend_test!(effects_that_run_again_award_and_tell_once_and_failures_are_retried, |app| {
    let store = &app.state.app.store;
    let stack = demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroCredential).unwrap();
    let learner = user(app, LEARNER).await;
    let mut last = None;
    for level in store.levels(stack.id).await.unwrap() {
        last = Some(awards::award(&app.state.app, request(learner, &level)).await.unwrap());
    }
    let last = last.unwrap();
    let held_stack = || async { store.awards_of(learner).await.unwrap().into_iter().filter(|a| a.achievement == stack.id).collect::<Vec<_>>() };
    let parent = held_stack().await;
    assert_eq!(parent.len(), 1, "the third level completed the stack");
    let told = || async {
        let link = format!("/awards/{}", parent[0].id);
        store.notifications(learner, 100).await.unwrap().into_iter().filter(|n| n.kind == NotificationKind::Award && n.link == link).count()
    };
    assert_eq!(told().await, 1);
    assert_eq!(store.pending_effect_count().await.unwrap(), 0, "everything ran before the awards returned");

    // The stacking check again, twice, as a runner that died before recording it would: nothing new.
    let again = [NewEffect::from(Effect::Stack { award: last.id }), NewEffect::from(Effect::Stack { award: last.id })];
    store.enqueue_effects(&again, app.state.app.now()).await.unwrap();
    let report = cairn_app::effects::drain(&app.state.app).await;
    assert_eq!((report.done, report.retried, report.given_up), (2, 0, 0));
    assert_eq!(held_stack().await, parent, "one micro-credential");
    assert_eq!(told().await, 1, "one notification");

    // A failing effect is kept with its error and tried again later, not dropped.
    let doomed = NewEffect::from(Effect::AwardPassed { submission: cairn_core::ids::SubmissionId::new() });
    store.enqueue_effects(std::slice::from_ref(&doomed), app.state.app.now()).await.unwrap();
    let report = cairn_app::effects::drain(&app.state.app).await;
    assert_eq!((report.done, report.retried), (0, 1));
    let kept = store.effect(doomed.id).await.unwrap();
    assert_eq!((kept.state(), kept.attempts), (EffectState::Pending, 1));
    assert!(kept.last_error.as_deref().is_some_and(|e| e.contains("not found")), "{kept:?}");
    assert!(kept.next_attempt_at >= app.state.app.now() + cairn_app::effects::backoff(1) - time::Duration::seconds(1), "{kept:?}");
    assert_eq!(cairn_app::effects::drain(&app.state.app).await, cairn_app::effects::DrainReport::default(), "not due yet");
});

backend_test!(a_private_award_is_seen_by_its_learner_and_the_issuers_staff_only, |app| {
    let (award, _) = award_badge(app).await;
    let learner_actor = actor(app, LEARNER).await;
    awards::set_privacy(&app.state.app, &learner_actor, award.id, Privacy::Private, false).await.unwrap();
    let learner = app.token(LEARNER, "cairn-demo-learner").await;
    let issuer = app.issuer_token().await;
    let assessor = app.token("assessor@demo.cairn.test", "cairn-demo-assessor").await;
    let created =
        app.json("POST", "/api/v1/users", None, &json!({"name": "Sam Stranger", "email": "sam@example.org", "password": "a long enough password"})).await;
    assert_eq!(created.status, 202, "{}", created.text());
    let stranger = app.token("sam@example.org", "a long enough password").await;
    let surfaces: Vec<String> = ["credential", "credential.json", "credential.jwt", "badge.png", "badge.svg"]
        .iter()
        .map(|path| format!("/awards/{}/{path}", award.id))
        .chain([format!("/ob2/assertions/{}", award.id), format!("/api/v1/awards/{}", award.id)])
        .collect();
    for path in &surfaces {
        // The OB 2.0 assertion carries the recipient's salt: it is no exception.
        app.get(path, None).await.problem(404, "not-found");
        app.get(path, Some(&stranger)).await.problem(404, "not-found");
        app.get(path, Some(&assessor)).await.problem(404, "not-found");
        for (who, token) in [("learner", &learner), ("issuer staff", &issuer)] {
            let seen = app.get(path, Some(token)).await;
            assert_eq!(seen.status, 200, "{who} at {path}: {}", seen.text());
            if !path.starts_with("/api/") {
                assert_eq!(seen.headers[header::CACHE_CONTROL], "private, no-store", "{who} at {path}");
                assert!(!seen.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN), "{who} at {path}");
            }
        }
    }
    // The verifier's in-process loader sees what a visitor sees.
    let url = app.state.app.config.urls().credential(award.id);
    let report = cairn_app::verification::verify(&app.state.app, url.clone().into_bytes()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    let ob2 = app.state.app.config.urls().ob2_assertion(award.id);
    assert_ne!(cairn_app::verification::verify(&app.state.app, ob2.clone().into_bytes()).await.unwrap().verdict, Verdict::Valid);
    // A revoked private award stays private: its assertion does not even say it was revoked.
    let staff = actor(app, "issuer@demo.cairn.test").await;
    awards::set_status(&app.state.app, &staff, award.id, StatusAction::Suspend, Some("under review".into())).await.unwrap();
    app.get(&format!("/ob2/assertions/{}", award.id), None).await.problem(404, "not-found");
    assert_eq!(app.get(&format!("/ob2/assertions/{}", award.id), Some(&issuer)).await.status, 410);
    awards::set_status(&app.state.app, &staff, award.id, StatusAction::Reinstate, None).await.unwrap();

    // Unlisted: reachable by its address, with every surface, and verifiable by URL.
    share(app, award.id).await;
    for path in &surfaces {
        let seen = app.get(path, None).await;
        assert_eq!(seen.status, 200, "{path}: {}", seen.text());
    }
    assert_eq!(cairn_app::verification::verify(&app.state.app, url.into_bytes()).await.unwrap().verdict, Verdict::Valid);
    assert_eq!(cairn_app::verification::verify(&app.state.app, ob2.into_bytes()).await.unwrap().verdict, Verdict::Valid);

    app.get(&format!("/awards/{}/credential.json", uuid::Uuid::new_v4()), None).await.problem(404, "not-found");
    app.get("/awards/not-an-id/badge.png", None).await.problem(404, "not-found");
    app.get("/status/no-such-list", None).await.problem(404, "not-found");
    app.get("/ob2/assertions/nope", None).await.problem(404, "not-found");
    assert_eq!(app.get(&format!("/ob2/issuers/{}", award.organisation), None).await.json()["type"], json!("Issuer"));
});

/// The award page as a browser gets it.
async fn award_page(app: &TestApp, award: AwardId) -> String {
    let request = axum::http::Request::get(format!("/awards/{award}")).header(header::ACCEPT, "text/html").body(axum::body::Body::empty()).unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.text()
}

backend_test!(the_award_page_verifies_once_per_status_and_never_re_signs_to_show_a_list, |app| {
    let (award, _) = award_badge(app).await;
    let learner = actor(app, LEARNER).await;
    awards::set_privacy(&app.state.app, &learner, award.id, Privacy::Public, false).await.unwrap();
    let caches = &app.state.app.caches;
    let (bytes, credential) = credential_of(app, award.id).await;
    let revocation = credential["credentialStatus"][0]["statusListCredential"].as_str().unwrap().to_string();

    // The first view verifies (each status list signed once, verified once); later views reuse it.
    assert!(award_page(app, award.id).await.contains("Verified"));
    assert_eq!(caches.award_reports(), 1);
    assert_eq!(caches.status_lists.len(), 2, "the revocation and suspension lists were verified once and kept");
    assert!(caches.did_document(award.organisation).is_some(), "the issuer's DID document is kept: a verification reads no organisation");
    let list = app.get(&path_of(app, &revocation), None).await.json();
    assert!(award_page(app, award.id).await.contains("Verified"));
    assert_eq!(caches.award_reports(), 1);
    assert_eq!(app.get(&path_of(app, &revocation), None).await.json(), list, "the same bits are not signed again");

    // A revocation is seen by the next view, and the list is signed anew over the new bits.
    let issuer = actor(app, "issuer@demo.cairn.test").await;
    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Revoke, Some("issued in error".into())).await.unwrap();
    assert_eq!(caches.status_lists.len(), 0, "a status change forgets the lists its credential points at");
    let page = award_page(app, award.id).await;
    assert!(page.contains("Not valid: revoked") && !page.contains(">Verified<"), "{page}");
    let resigned = app.get(&path_of(app, &revocation), None).await.json();
    assert_ne!(resigned["proof"], list["proof"]);
    assert!(status_bit(app, &revocation, award.status_index).await);

    // `/verify` of the same bytes, after the change, reads the list as it is now.
    let report = cairn_app::verification::verify(&app.state.app, bytes).await.unwrap();
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
});

/// The award page's status badge and its verdict, as the page shows them.
fn badge_and_verdict(page: &str) -> (bool, bool, bool) {
    let suspended_badge = page.contains("class=\"pill") && page.contains(">Suspended<");
    (suspended_badge, page.contains("Not valid: suspended"), page.contains(">Verified<"))
}

backend_test!(the_award_page_verdict_agrees_with_its_status_badge, |app| {
    let (award, _) = award_badge(app).await;
    let learner = actor(app, LEARNER).await;
    awards::set_privacy(&app.state.app, &learner, award.id, Privacy::Public, false).await.unwrap();
    let issuer = actor(app, "issuer@demo.cairn.test").await;
    assert_eq!(badge_and_verdict(&award_page(app, award.id).await), (false, false, true));

    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Suspend, None).await.unwrap();
    let page = award_page(app, award.id).await;
    assert_eq!(badge_and_verdict(&page), (true, true, false), "{page}");
    // The public verifier agrees: the credential itself says it is suspended.
    let (bytes, _) = credential_of(app, award.id).await;
    let report = cairn_app::verification::verify(&app.state.app, bytes.clone()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert!(report.checks.iter().any(|c| c.id == "status" && c.ok == Some(false) && c.detail.starts_with("suspended")), "{report:#?}");

    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Reinstate, None).await.unwrap();
    assert_eq!(badge_and_verdict(&award_page(app, award.id).await), (false, false, true));
    assert_eq!(cairn_app::verification::verify(&app.state.app, bytes.clone()).await.unwrap().verdict, Verdict::Valid);

    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Revoke, None).await.unwrap();
    let page = award_page(app, award.id).await;
    assert!(page.contains(">Revoked<") && page.contains("Not valid: revoked") && !page.contains(">Verified<"), "{page}");
    assert_eq!(cairn_app::verification::verify(&app.state.app, bytes).await.unwrap().verdict, Verdict::Invalid);
});

backend_test!(an_issued_credential_keeps_its_shape, |app| {
    // The same demo badge every run (the demo's order follows its random ids).
    let badge = demo_achievements(app).await.into_iter().find(|a| a.content.name == "Writing Clear API Documentation").expect("the demo badge");
    let award = awards::award(&app.state.app, request(user(app, LEARNER).await, &badge)).await.unwrap();
    awards::set_privacy(&app.state.app, &actor(app, LEARNER).await, award.id, Privacy::Public, false).await.unwrap();
    let (_, credential) = credential_of(app, award.id).await;
    insta::assert_snapshot!("issued_credential", crate::helpers::snapshot_text(&credential));
});
