//! The assessment journey's storage: settings, pools, submissions, artefacts, the life cycle,
//! assessments, queues, duplicates, vouchers, awards, status lists, notifications, the mail outbox
//! and the effects outbox.
//! Every test runs on SQLite and on PostgreSQL (`backend_test!`, harness in `common/mod.rs`).

#[macro_use]
mod common;

use cairn_core::account::Email;
use cairn_core::assessment::{DuplicateFlag, DuplicateKind, Judgement, Score};
use cairn_core::authz::Role;
use cairn_core::award::{AwardStatus, Privacy};
use cairn_core::discovery::{Discovery, Handle};
use cairn_core::ids::{AchievementId, ArtifactId, AwardId, NotificationId, OrganisationId, SubmissionId, UserId};
use cairn_core::notification::NotificationKind;
use cairn_core::submission::{FeeState, IssuerSettings, MAX_ARTIFACTS, Outcome, Status, Submission, SubmissionContent};
use cairn_store::{ArtifactBody, Effect, EffectState, NewArtifact, NewAward, NewEffect, NewSubmission, Notice, Retry, Sending, Store, StoreError};
use common::{badge, named_user, now, organisation};
use time::macros::date;
use time::{Duration, OffsetDateTime};

fn at(minutes: i64) -> OffsetDateTime {
    now() + Duration::minutes(minutes)
}

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn content(overview: &str, reflection: &str, collaborators: &[&str]) -> SubmissionContent {
    SubmissionContent {
        overview: overview.into(),
        reflection: reflection.into(),
        links: vec!["https://example.org/work".into()],
        collaborators: collaborators.iter().map(|c| email(c)).collect(),
    }
}

/// An organisation with one achievement whose pool holds one assessor, and a learner.
struct World {
    owner: UserId,
    org: OrganisationId,
    achievement: AchievementId,
    assessor: UserId,
    learner: UserId,
}

async fn world(store: &Store) -> World {
    let owner = named_user(store, "Olive Owner", "owner@example.org").await;
    let org = organisation(store, "Assessing Org", owner).await;
    let achievement = store.create_achievement(org, &badge("Assessed Badge"), owner, now()).await.unwrap().id;
    let assessor = named_user(store, "Ada Assessor", "assessor@example.org").await;
    let learner = named_user(store, "Lee Learner", "learner@example.org").await;
    store.add_to_pool(achievement, assessor, now()).await.unwrap();
    World { owner, org, achievement, assessor, learner }
}

fn new_submission(w: &World, learner: UserId, fee: FeeState) -> NewSubmission {
    NewSubmission {
        id: SubmissionId::new(),
        achievement: w.achievement,
        organisation: w.org,
        learner,
        content: content("What I did", "What I learnt", &[]),
        fee,
        prior_learning: None,
        renewal_of: None,
    }
}

async fn start(store: &Store, w: &World, learner: UserId) -> Submission {
    store.create_submission(&new_submission(w, learner, FeeState::None), now()).await.unwrap()
}

/// An attempt of `learner`'s sent to `assessor`, due at `due`.
fn submit(submission: SubmissionId, learner: UserId, assessor: Option<UserId>, due: OffsetDateTime) -> Sending {
    Sending { submission, learner, assessor, due_at: due, note: "submitted".into() }
}

/// A new submission by `learner`, sent and assigned to the world's assessor, due in `due` minutes.
async fn submitted(store: &Store, w: &World, learner: UserId, due: i64) -> Submission {
    let draft = start(store, w, learner).await;
    store.send_first_attempt(&submit(draft.id, learner, Some(w.assessor), at(due)), &[], now()).await.unwrap()
}

fn judgement(outcome: Outcome) -> Judgement {
    Judgement {
        scores: vec![
            Score { criterion: "design".into(), level: 2, comment: "Clear".into() },
            Score { criterion: "testing".into(), level: if outcome == Outcome::Pass { 1 } else { 0 }, comment: "More tests".into() },
        ],
        feedback: "Thank you".into(),
        outcome,
    }
}

fn text(submission: SubmissionId, title: &str, body: &str) -> NewArtifact {
    NewArtifact { id: ArtifactId::new(), submission, title: title.into(), body: ArtifactBody::Text { body: body.into() } }
}

fn file(submission: SubmissionId, title: &str, sha256: &str) -> NewArtifact {
    NewArtifact {
        id: ArtifactId::new(),
        submission,
        title: title.into(),
        body: ArtifactBody::File {
            blob_key: format!("evidence/{sha256}"),
            media_type: "application/pdf".into(),
            size: 1234,
            sha256: sha256.into(),
            original_name: "report.pdf".into(),
        },
    }
}

const SHA_A: &str = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001";
const SHA_B: &str = "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002";

fn new_award(w: &World, learner: UserId, submission: Option<SubmissionId>, index: u64) -> NewAward {
    NewAward {
        id: AwardId::new(),
        achievement: w.achievement,
        achievement_version: 1,
        organisation: w.org,
        learner,
        submission,
        issued_at: at(100),
        valid_until: Some(at(100) + Duration::days(730)),
        status_index: index,
        recipient_salt: "salt".into(),
        results_json: "[]".into(),
        credential_json: "{\"type\":[\"VerifiableCredential\"]}".into(),
        jwt: "eyJ.x.y".into(),
        ob2_json: "{}".into(),
        png_key: "awards/x.png".into(),
        svg_key: "awards/x.svg".into(),
        privacy: Privacy::Public,
        recognition: None,
        renews: None,
        offer: None,
    }
}

/// A passed submission of `learner`.
async fn passed(store: &Store, w: &World, learner: UserId) -> Submission {
    let sent = submitted(store, w, learner, 60).await;
    store.record_assessment(sent.id, w.assessor, &judgement(Outcome::Pass), &[], at(1)).await.unwrap();
    store.submission(sent.id).await.unwrap()
}

fn conflict(result: Result<impl std::fmt::Debug, StoreError>) -> (&'static str, String) {
    match result {
        Err(StoreError::Conflict { constraint, detail }) => (constraint, detail),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { .. }))
}

// ---------- settings, pools, conflicts ----------

backend_test!(issuer_settings_default_until_saved_then_round_trip, |store| {
    let w = world(store).await;
    assert_eq!(store.issuer_settings(w.org).await.unwrap(), IssuerSettings::default());
    let settings = IssuerSettings {
        service_days: 10,
        nearly_due_days: 3,
        attempt_limit: None,
        confirm_passes: true,
        holidays: vec![date!(2026 - 12 - 25), date!(2027 - 01 - 01)],
        evidence_quota_mb: 50,
        payment_instructions: "Pay by bank transfer.\nQuote your reference.".into(),
        payment_url: Some("https://pay.example.org/".into()),
        collaborator_reflections: cairn_core::submission::ReflectionRule::Require,
        publish_outcomes: true,
        sampling_percent: 25,
    };
    store.set_issuer_settings(w.org, &settings, now()).await.unwrap();
    assert_eq!(store.issuer_settings(w.org).await.unwrap(), settings);
    let changed = IssuerSettings { attempt_limit: Some(5), holidays: vec![], evidence_quota_mb: 10_240, payment_url: None, sampling_percent: 100, ..settings };
    store.set_issuer_settings(w.org, &changed, at(1)).await.unwrap();
    assert_eq!(store.issuer_settings(w.org).await.unwrap(), changed, "saving again replaces");
    let other = organisation(store, "Other Org", w.owner).await;
    assert_eq!(store.issuer_settings(other).await.unwrap(), IssuerSettings::default());
});

// ---------- evidence storage ----------

fn sized_file(submission: SubmissionId, blob_key: &str, size: u64) -> NewArtifact {
    let sha256 = format!("{:0>64}", size);
    NewArtifact {
        id: ArtifactId::new(),
        submission,
        title: "File".into(),
        body: ArtifactBody::File { blob_key: blob_key.into(), media_type: "text/plain".into(), size, sha256, original_name: "notes.txt".into() },
    }
}

backend_test!(evidence_bytes_count_a_learners_files_with_one_issuer_and_the_quota_holds, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    assert_eq!(store.evidence_bytes(w.learner, w.org).await.unwrap(), 0);
    store.add_artifact(&sized_file(draft.id, "evidence/a.txt", 300), at(1)).await.unwrap();
    store.add_artifact(&text(draft.id, "Notes", "texts are not files"), at(1)).await.unwrap();
    // A withdrawn submission's files still take room; another learner's and another issuer's do not.
    store.withdraw_submission(draft.id, Status::Draft, w.learner, at(2)).await.unwrap();
    let again = start(store, &w, w.learner).await;
    store.add_artifact(&sized_file(again.id, "evidence/b.txt", 200), at(3)).await.unwrap();
    let other_learner = named_user(store, "Other Learner", "other@example.org").await;
    let theirs = start(store, &w, other_learner).await;
    store.add_artifact(&sized_file(theirs.id, "evidence/c.txt", 7000), at(3)).await.unwrap();
    let other_org = organisation(store, "Other Org", w.owner).await;
    let elsewhere = store.create_achievement(other_org, &badge("Elsewhere"), w.owner, now()).await.unwrap().id;
    let there = store
        .create_submission(&NewSubmission { achievement: elsewhere, organisation: other_org, ..new_submission(&w, w.learner, FeeState::None) }, now())
        .await
        .unwrap();
    store.add_artifact(&sized_file(there.id, "evidence/d.txt", 9000), at(3)).await.unwrap();
    assert_eq!(store.evidence_bytes(w.learner, w.org).await.unwrap(), 500);
    assert_eq!(store.evidence_bytes(w.learner, other_org).await.unwrap(), 9000);

    // Within the quota the file is added; past it, the transaction refuses and adds nothing.
    store.add_artifact_within(&sized_file(again.id, "evidence/e.txt", 500), Some(1000), at(4)).await.unwrap();
    let (constraint, detail) = conflict(store.add_artifact_within(&sized_file(again.id, "evidence/f.txt", 1), Some(1000), at(4)).await);
    assert_eq!(constraint, "artifacts.quota");
    assert!(detail.contains("you use 1000 bytes of the 1000 bytes allowed"), "{detail}");
    assert_eq!(store.evidence_bytes(w.learner, w.org).await.unwrap(), 1000);
    store.add_artifact_within(&text(again.id, "Words", "texts do not count"), Some(1000), at(4)).await.unwrap();
    // Removing a file that was never sent frees its room.
    let e = store.artifacts(again.id).await.unwrap().into_iter().find(|a| matches!(&a.body, ArtifactBody::File { size: 500, .. })).unwrap();
    store.remove_artifact(again.id, e.id, at(5)).await.unwrap();
    assert_eq!(store.evidence_bytes(w.learner, w.org).await.unwrap(), 500);
});

backend_test!(the_sweep_deletes_only_old_blobs_no_row_refers_to, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    let blobs = store.blobs();
    let referenced = blobs.put("evidence", "txt", b"kept: an artefact refers to it".to_vec()).await.unwrap();
    store.add_artifact(&sized_file(draft.id, &referenced, 30), at(1)).await.unwrap();
    let orphan = blobs.put("evidence", "txt", b"refused upload".to_vec()).await.unwrap();
    let image = blobs.put("images", "png", b"an organisation's image".to_vec()).await.unwrap();
    let mut profile = store.organisation(w.org).await.unwrap().profile;
    profile.image = Some(cairn_core::achievement::ImageRef { key: image.clone(), image_type: cairn_core::image::ImageType::Png });
    store.update_organisation(w.org, &profile, at(1)).await.unwrap();
    let keys = [referenced.clone(), orphan.clone(), image.clone(), "awards/x.png".to_string()];
    let found = store.referenced_blob_keys(&keys).await.unwrap();
    assert_eq!(found, [referenced.clone(), image.clone()].into_iter().collect());
    assert!(store.referenced_blob_keys(&[]).await.unwrap().is_empty());
    let many: Vec<String> = (0..450).map(|n| format!("evidence/{n}.txt")).chain([referenced.clone()]).collect();
    assert_eq!(store.referenced_blob_keys(&many).await.unwrap().len(), 1, "keys are looked up in batches");

    // Within the grace period even an orphan stays: its row may be on its way.
    let written = OffsetDateTime::now_utc();
    let report = store.sweep_blobs(written - Duration::hours(1)).await.unwrap();
    assert_eq!((report.examined, report.deleted), (3, 0));
    assert_eq!(blobs.count().await.unwrap(), 3);
    // Past it, the orphan goes and what rows refer to stays.
    let report = store.sweep_blobs(written + Duration::hours(2)).await.unwrap();
    assert_eq!((report.examined, report.deleted), (3, 1));
    let mut left: Vec<String> = blobs.list().await.unwrap().into_iter().map(|b| b.key).collect();
    left.sort();
    let mut expected = vec![referenced.clone(), image];
    expected.sort();
    assert_eq!(left, expected);
    assert!(matches!(blobs.get(&orphan).await, Err(StoreError::NotFound { .. })));
    assert_eq!(blobs.get(&referenced).await.unwrap(), b"kept: an artefact refers to it");
});

backend_test!(a_periodic_job_is_claimed_once_per_interval, |store| {
    let every = Duration::hours(1);
    assert!(store.claim_job_run("blob_sweep", at(0), every).await.unwrap(), "never ran");
    assert!(!store.claim_job_run("blob_sweep", at(59), every).await.unwrap());
    assert!(store.claim_job_run("other_job", at(59), every).await.unwrap(), "jobs are claimed apart");
    assert!(store.claim_job_run("blob_sweep", at(60), every).await.unwrap());
    assert!(!store.claim_job_run("blob_sweep", at(60), every).await.unwrap(), "one of two instances at once");
});

backend_test!(pools_count_open_work_and_conflicts_are_recorded, |store| {
    let w = world(store).await;
    let bea = named_user(store, "Bea Assessor", "bea@example.org").await;
    store.add_to_pool(w.achievement, bea, now()).await.unwrap();
    store.add_to_pool(w.achievement, bea, now()).await.expect("adding twice is harmless");
    let second = store.create_achievement(w.org, &badge("Second Badge"), w.owner, now()).await.unwrap().id;
    store.add_to_pool(second, w.assessor, at(1)).await.unwrap();

    let pool = store.pool(w.achievement).await.unwrap();
    assert_eq!(pool.iter().map(|m| (m.name.as_str(), m.open)).collect::<Vec<_>>(), [("Ada Assessor", 0), ("Bea Assessor", 0)]);
    assert_eq!(pool[0].email, email("assessor@example.org"));

    submitted(store, &w, w.learner, 60).await;
    let other = named_user(store, "Other Learner", "other@example.org").await;
    let draft = start(store, &w, other).await;
    store.send_first_attempt(&submit(draft.id, other, Some(w.assessor), at(60)), &[], now()).await.unwrap();
    store.withdraw_submission(draft.id, Status::Submitted, other, now()).await.unwrap();
    let pool = store.pool(w.achievement).await.unwrap();
    assert_eq!(pool.iter().map(|m| m.open).collect::<Vec<_>>(), [1, 0], "only queued submissions count");
    assert_eq!(store.pool(second).await.unwrap()[0].open, 1, "the load counts across achievements");

    assert_eq!(store.pools_of(w.assessor).await.unwrap(), [w.achievement, second]);
    store.remove_from_pool(w.achievement, bea).await.unwrap();
    store.remove_from_pool(w.achievement, bea).await.unwrap();
    assert_eq!(store.pool(w.achievement).await.unwrap().len(), 1);
    assert!(store.pools_of(bea).await.unwrap().is_empty());

    // Conflicts are declared by e-mail, whether or not anyone uses it, and matched by address.
    let email = |text: &str| Email::parse(text).unwrap();
    let learner_email = store.user(w.learner).await.unwrap().email;
    assert!(store.conflicted_assessors(w.org, w.learner, std::slice::from_ref(&learner_email)).await.unwrap().is_empty());
    store.declare_conflict(w.org, bea, &email(" Learner@Example.org "), now()).await.unwrap();
    store.declare_conflict(w.org, bea, &learner_email, now()).await.expect("declaring twice is harmless");
    store.declare_conflict(w.org, w.assessor, &email("nobody.yet@example.org"), now()).await.expect("no account needed");
    assert_eq!(store.conflicted_assessors(w.org, w.learner, std::slice::from_ref(&learner_email)).await.unwrap(), [bea]);
    assert!(store.conflicted_assessors(w.org, other, &[email("other@example.org")]).await.unwrap().is_empty());
    assert_eq!(store.conflicted_assessors(w.org, other, &[email("other@example.org"), email("nobody.yet@example.org")]).await.unwrap(), [w.assessor]);
    let elsewhere = organisation(store, "Elsewhere", w.owner).await;
    assert!(store.conflicted_assessors(elsewhere, w.learner, &[learner_email]).await.unwrap().is_empty(), "conflicts are per organisation");
});

// ---------- submissions ----------

backend_test!(submissions_are_created_read_and_updated, |store| {
    let w = world(store).await;
    named_user(store, "Fran Friend", "friend@example.org").await;
    let mut new = new_submission(&w, w.learner, FeeState::Due);
    new.content = content("Overview", "Reflection", &["friend@example.org", "stranger@example.org"]);
    let created = store.create_submission(&new, now()).await.unwrap();
    assert_eq!((created.id, created.status, created.attempt, created.fee.clone()), (new.id, Status::Draft, 1, FeeState::Due));
    assert_eq!(created.content, new.content);
    assert_eq!((created.assessor, created.submitted_at, created.due_at), (None, None, None));
    assert_eq!((created.created_at, created.updated_at), (now(), now()));
    assert_eq!(store.submission(new.id).await.unwrap(), created);
    assert_eq!(store.submission_organisation(new.id).await.unwrap(), w.org);
    assert!(is_not_found(store.submission(SubmissionId::new()).await));
    assert!(is_not_found(store.submission_organisation(SubmissionId::new()).await));

    let events = store.events(new.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].from, events[0].to, events[0].actor, events[0].note.as_str()), (None, Status::Draft, Some(w.learner), "started"));
    assert_eq!(events[0].actor_name.as_deref(), Some("Lee Learner"));

    let mine = store.submissions_of(w.learner).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].achievement_name.as_str(), mine[0].organisation_name.as_str(), mine[0].award), ("Assessed Badge", "Assessing Org", None));

    // Collaborators write their own reflections, kept while they stay named.
    store.set_collaborator_reflection(new.id, &email("friend@example.org"), "My part was the tests", at(1)).await.unwrap();
    assert!(is_not_found(store.set_collaborator_reflection(new.id, &email("nobody@example.org"), "x", at(1)).await));
    let collaborations = store.collaborations_of(&email("friend@example.org")).await.unwrap();
    assert_eq!(collaborations.len(), 1);
    assert_eq!(
        (collaborations[0].submission, collaborations[0].achievement, collaborations[0].achievement_name.as_str(), collaborations[0].status),
        (new.id, w.achievement, "Assessed Badge", Status::Draft)
    );
    assert_eq!(collaborations[0].reflection, "My part was the tests");

    let edited = content("New overview", "New reflection", &["third@example.org", "friend@example.org"]);
    let updated = store.update_content(new.id, &edited, at(2)).await.unwrap();
    assert_eq!(updated.content, edited);
    assert_eq!(updated.updated_at, at(2));
    assert_eq!(
        store.collaborator_reflections(new.id).await.unwrap(),
        [(email("third@example.org"), String::new()), (email("friend@example.org"), "My part was the tests".to_string())]
    );
    assert!(store.collaborations_of(&email("stranger@example.org")).await.unwrap().is_empty(), "a collaborator no longer named is dropped");
    assert!(is_not_found(store.update_content(SubmissionId::new(), &edited, at(2)).await));
});

backend_test!(a_learner_has_one_live_submission_per_achievement, |store| {
    let w = world(store).await;
    let first = start(store, &w, w.learner).await;
    let (constraint, detail) = conflict(store.create_submission(&new_submission(&w, w.learner, FeeState::None), now()).await);
    assert_eq!((constraint, detail.as_str()), ("submissions.live", "you already have a submission for this achievement"));
    assert_eq!(store.submissions_of(w.learner).await.unwrap().len(), 1, "the refused submission left nothing behind");
    assert_eq!(store.organisation_events(w.org).await.unwrap().len(), 1, "nor an event");

    let other = named_user(store, "Other Learner", "other@example.org").await;
    start(store, &w, other).await;

    let withdrawn = store.withdraw_submission(first.id, Status::Draft, w.learner, at(1)).await.unwrap();
    assert_eq!((withdrawn.status, withdrawn.due_at), (Status::Withdrawn, None));
    let mut again = new_submission(&w, w.learner, FeeState::None);
    let second = store.create_submission(&again, at(2)).await.expect("a withdrawn submission may be followed by a new one");
    let mine = store.submissions_of(w.learner).await.unwrap();
    assert_eq!(mine.iter().map(|s| (s.submission.id, s.submission.status)).collect::<Vec<_>>(), [(second.id, Status::Draft), (first.id, Status::Withdrawn)]);
    again.id = SubmissionId::new();
    assert_eq!(conflict(store.create_submission(&again, at(3)).await).0, "submissions.live");
});

backend_test!(editing_is_refused_once_submitted, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    let kept = store.add_artifact(&text(draft.id, "Notes", "Some notes"), now()).await.unwrap();
    let sent = store.send_first_attempt(&submit(draft.id, w.learner, Some(w.assessor), at(60)), &[], at(1)).await.unwrap();
    assert_eq!(sent.status, Status::Submitted);

    let (constraint, detail) = conflict(store.update_content(draft.id, &content("Changed", "Changed", &[]), at(2)).await);
    assert_eq!((constraint, detail.as_str()), ("submissions.editable", "this submission can no longer be edited"));
    assert_eq!(conflict(store.add_artifact(&text(draft.id, "Late", "Too late"), at(2)).await).0, "submissions.editable");
    assert_eq!(conflict(store.remove_artifact(draft.id, kept.id, at(2)).await).0, "submissions.editable");
    let unchanged = store.submission(draft.id).await.unwrap();
    assert_eq!(unchanged, sent, "nothing changed");
    assert_eq!(store.artifacts(draft.id).await.unwrap().len(), 1);
    assert!(is_not_found(store.add_artifact(&text(SubmissionId::new(), "Nowhere", "x"), at(2)).await));
    assert!(is_not_found(store.remove_artifact(SubmissionId::new(), kept.id, at(2)).await));
});

// ---------- artefacts ----------

backend_test!(artefacts_are_added_listed_removed_and_limited, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    let report = store.add_artifact(&file(draft.id, "Report", SHA_A), at(1)).await.unwrap();
    let notes = store.add_artifact(&text(draft.id, "Notes", "My notes"), at(1)).await.unwrap();
    assert_eq!((report.added_in_attempt, report.created_at), (1, at(1)));
    assert_eq!(report.label(), "Report (aaaaaaaaaaaa)");
    assert_eq!(notes.label(), "Notes (text)");
    assert_eq!(store.artifacts(draft.id).await.unwrap(), [report.clone(), notes.clone()], "in the order added");
    assert_eq!(store.artifact(report.id).await.unwrap(), report);
    assert_eq!(store.submission(draft.id).await.unwrap().updated_at, at(1), "adding touches the submission");
    assert!(is_not_found(store.artifact(ArtifactId::new()).await));

    // Another submission's artefact cannot be removed through this one.
    let other_learner = named_user(store, "Other Learner", "other@example.org").await;
    let other = start(store, &w, other_learner).await;
    let theirs = store.add_artifact(&text(other.id, "Theirs", "x"), at(1)).await.unwrap();
    assert!(is_not_found(store.remove_artifact(draft.id, theirs.id, at(2)).await));
    assert!(is_not_found(store.remove_artifact(draft.id, ArtifactId::new(), at(2)).await));

    // Never sent: deleted outright.
    store.remove_artifact(draft.id, notes.id, at(2)).await.unwrap();
    assert!(is_not_found(store.artifact(notes.id).await));
    assert_eq!(store.artifacts(draft.id).await.unwrap(), std::slice::from_ref(&report));

    // The limit counts live artefacts.
    for i in 1..MAX_ARTIFACTS {
        store.add_artifact(&text(draft.id, &format!("Text {i}"), "body"), at(3)).await.unwrap();
    }
    let (constraint, detail) = conflict(store.add_artifact(&text(draft.id, "One too many", "body"), at(3)).await);
    assert_eq!((constraint, detail.as_str()), ("artifacts.limit", "at most 20 artefacts"));
    assert_eq!(store.artifacts(draft.id).await.unwrap().len(), MAX_ARTIFACTS);
    let duplicate_id = NewArtifact { id: report.id, ..text(other.id, "Same id", "x") };
    assert_eq!(conflict(store.add_artifact(&duplicate_id, at(3)).await).0, "artifacts.id");

    // Sent, judged "not yet", then removed while revising: kept for the history.
    let last = store.artifacts(draft.id).await.unwrap().pop().unwrap();
    store.remove_artifact(draft.id, last.id, at(4)).await.unwrap();
    store.send_first_attempt(&submit(draft.id, w.learner, Some(w.assessor), at(60)), &[], at(5)).await.unwrap();
    store.record_assessment(draft.id, w.assessor, &judgement(Outcome::NotYet), &[], at(6)).await.unwrap();
    store.remove_artifact(draft.id, report.id, at(7)).await.unwrap();
    assert_eq!(store.artifact(report.id).await.unwrap(), report, "a sent artefact is kept");
    assert!(!store.artifacts(draft.id).await.unwrap().iter().any(|a| a.id == report.id));
    assert!(is_not_found(store.remove_artifact(draft.id, report.id, at(7)).await), "removed once");
    let fresh = store.add_artifact(&text(draft.id, "Revision", "new"), at(8)).await.unwrap();
    assert_eq!(fresh.added_in_attempt, 1, "the attempt being revised");
    store.remove_artifact(draft.id, fresh.id, at(9)).await.unwrap();
    assert!(is_not_found(store.artifact(fresh.id).await), "added while revising and never sent: deleted");
});

// ---------- life cycle ----------

backend_test!(a_double_submit_conflicts_and_changes_nothing, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    let sent = store.send_first_attempt(&submit(draft.id, w.learner, Some(w.assessor), at(60)), &[], at(1)).await.unwrap();
    assert_eq!((sent.status, sent.assessor, sent.due_at, sent.submitted_at, sent.attempt), (Status::Submitted, Some(w.assessor), Some(at(60)), Some(at(1)), 1));

    let (constraint, detail) = conflict(store.send_first_attempt(&submit(draft.id, w.learner, None, at(90)), &[], at(2)).await);
    assert_eq!((constraint, detail.as_str()), ("submissions.status", "this submission was changed meanwhile: it is now submitted"));
    assert_eq!(store.submission(draft.id).await.unwrap(), sent, "nothing changed");
    assert_eq!(store.events(draft.id).await.unwrap().len(), 2, "no event for the refused move");
    assert_eq!(store.attempts(draft.id).await.unwrap().len(), 1, "no second snapshot");
    assert!(is_not_found(store.send_first_attempt(&submit(SubmissionId::new(), w.learner, None, at(90)), &[], at(2)).await));

    // Two submits at once: exactly one wins.
    let other = named_user(store, "Racing Learner", "race@example.org").await;
    let race = start(store, &w, other).await;
    let send = submit(race.id, other, Some(w.assessor), at(60));
    let (a, b) = tokio::join!(store.send_first_attempt(&send, &[], at(3)), store.send_first_attempt(&send, &[], at(3)));
    assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
    assert!([a, b].into_iter().any(|r| matches!(r, Err(StoreError::Conflict { constraint: "submissions.status", .. }))));
    assert_eq!(store.events(race.id).await.unwrap().len(), 2);
    assert_eq!(store.attempts(race.id).await.unwrap().len(), 1);
});

backend_test!(events_and_attempt_snapshots_record_the_journey, |store| {
    let w = world(store).await;
    let draft = start(store, &w, w.learner).await;
    store.add_artifact(&file(draft.id, "Report", SHA_A), at(1)).await.unwrap();
    let notes = store.add_artifact(&text(draft.id, "Notes", "first notes"), at(1)).await.unwrap();
    store.send_first_attempt(&submit(draft.id, w.learner, Some(w.assessor), at(60)), &[], at(2)).await.unwrap();
    store.start_review(draft.id, Status::Submitted, Some(w.assessor), at(3)).await.unwrap();
    store.record_assessment(draft.id, w.assessor, &judgement(Outcome::NotYet), &[], at(4)).await.unwrap();

    let revised = SubmissionContent { links: vec!["https://example.org/v2".into()], ..content("Overview v2", "Reflection v2", &[]) };
    store.update_content(draft.id, &revised, at(5)).await.unwrap();
    store.remove_artifact(draft.id, notes.id, at(5)).await.unwrap();
    store.add_artifact(&file(draft.id, "Slides", SHA_B), at(6)).await.unwrap();
    let resubmit = Sending { note: "resubmitted".into(), ..submit(draft.id, w.learner, Some(w.assessor), at(200)) };
    let again = store.send_revision(&resubmit, &[], at(7)).await.unwrap();
    assert_eq!(
        (again.attempt, again.status, again.assessor, again.due_at, again.submitted_at),
        (2, Status::Resubmitted, Some(w.assessor), Some(at(200)), Some(at(7)))
    );

    let attempts = store.attempts(draft.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!((attempts[0].attempt, attempts[0].overview.as_str(), attempts[0].reflection.as_str()), (1, "What I did", "What I learnt"));
    assert_eq!(attempts[0].links, ["https://example.org/work"]);
    assert_eq!(attempts[0].artifacts, ["Report (aaaaaaaaaaaa)", "Notes (text)"]);
    assert_eq!((attempts[0].submitted_at, attempts[0].due_at, attempts[0].assessor), (at(2), at(60), Some(w.assessor)));
    assert_eq!((attempts[1].attempt, attempts[1].overview.as_str(), attempts[1].reflection.as_str()), (2, "Overview v2", "Reflection v2"));
    assert_eq!(attempts[1].links, ["https://example.org/v2"]);
    assert_eq!(attempts[1].artifacts, ["Report (aaaaaaaaaaaa)", "Slides (bbbbbbbbbbbb)"]);
    assert_eq!((attempts[1].submitted_at, attempts[1].due_at), (at(7), at(200)));

    let events = store.events(draft.id).await.unwrap();
    let steps: Vec<_> = events.iter().map(|e| (e.from, e.to, e.note.as_str(), e.actor_name.as_deref())).collect();
    assert_eq!(
        steps,
        [
            (None, Status::Draft, "started", Some("Lee Learner")),
            (Some(Status::Draft), Status::Submitted, "submitted", Some("Lee Learner")),
            (Some(Status::Submitted), Status::InReview, "review started", Some("Ada Assessor")),
            (Some(Status::InReview), Status::NotYet, "assessed: not yet", Some("Ada Assessor")),
            (Some(Status::NotYet), Status::Resubmitted, "resubmitted", Some("Lee Learner")),
        ]
    );
    assert_eq!(events.iter().map(|e| e.at).collect::<Vec<_>>(), [now(), at(2), at(3), at(4), at(7)]);

    // A system move has no actor; the organisation's audit trail lists everything.
    let bea = named_user(store, "Bea Assessor", "bea@example.org").await;
    let reassigned = store.assign_assessor(draft.id, Status::Resubmitted, bea, &[], at(8)).await.unwrap();
    assert_eq!((reassigned.status, reassigned.assessor), (Status::Resubmitted, Some(bea)));
    let audit = store.organisation_events(w.org).await.unwrap();
    assert_eq!(audit.len(), 6);
    assert!(audit.iter().all(|e| e.submission == draft.id && e.achievement_name == "Assessed Badge"));
    assert_eq!((audit[5].event.actor, audit[5].event.actor_name.as_deref(), audit[5].event.note.as_str()), (None, None, "assessor assigned"));
    let elsewhere = organisation(store, "Elsewhere", w.owner).await;
    assert!(store.organisation_events(elsewhere).await.unwrap().is_empty());
});

// ---------- assessment ----------

backend_test!(only_one_assessment_wins, |store| {
    let w = world(store).await;
    let bea = named_user(store, "Bea Assessor", "bea@example.org").await;
    let sent = submitted(store, &w, w.learner, 60).await;

    let (constraint, detail) = conflict(store.record_assessment(sent.id, bea, &judgement(Outcome::Pass), &[], at(1)).await);
    assert_eq!((constraint, detail.as_str()), ("submissions.assessment", "this submission has already been assessed or is not assigned to you"));
    assert!(store.assessments(sent.id).await.unwrap().is_empty(), "the unassigned assessor wrote nothing");

    let recorded = store.record_assessment(sent.id, w.assessor, &judgement(Outcome::Pass), &[], at(2)).await.unwrap();
    assert_eq!((recorded.attempt, recorded.assessor, recorded.outcome, recorded.created_at), (1, Some(w.assessor), Outcome::Pass, at(2)));
    assert_eq!(conflict(store.record_assessment(sent.id, w.assessor, &judgement(Outcome::NotYet), &[], at(3)).await).0, "submissions.assessment");
    let stored = store.assessments(sent.id).await.unwrap();
    assert_eq!(stored, std::slice::from_ref(&recorded), "one assessment, read back whole");
    assert_eq!(stored[0].scores, judgement(Outcome::Pass).scores);
    assert_eq!(store.submission(sent.id).await.unwrap().status, Status::Passed);
    assert!(is_not_found(store.record_assessment(SubmissionId::new(), w.assessor, &judgement(Outcome::Pass), &[], at(3)).await));

    // The same assessor scoring twice at once: exactly one wins.
    let other = named_user(store, "Racing Learner", "race@example.org").await;
    let race = submitted(store, &w, other, 60).await;
    let (pass, not_yet) = (judgement(Outcome::Pass), judgement(Outcome::NotYet));
    let (a, b) =
        tokio::join!(store.record_assessment(race.id, w.assessor, &pass, &[], at(4)), store.record_assessment(race.id, w.assessor, &not_yet, &[], at(4)));
    assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
    assert!([&a, &b].iter().any(|r| matches!(r, Err(StoreError::Conflict { .. }))));
    let winner = if let Ok(winner) = a { winner } else { b.unwrap() };
    assert_eq!(store.assessments(race.id).await.unwrap(), std::slice::from_ref(&winner));
    let expected = if winner.outcome == Outcome::Pass { Status::Passed } else { Status::NotYet };
    assert_eq!(store.submission(race.id).await.unwrap().status, expected);
    assert_eq!(store.events(race.id).await.unwrap().iter().filter(|e| e.note.starts_with("assessed")).count(), 1);
});

backend_test!(passes_are_confirmed_once, |store| {
    let w = world(store).await;
    let sent = submitted(store, &w, w.learner, 60).await;
    assert!(is_not_found(store.confirm_pass(sent.id, w.owner, &[], at(1)).await), "nothing to confirm yet");
    store.record_assessment(sent.id, w.assessor, &judgement(Outcome::NotYet), &[], at(1)).await.unwrap();
    assert_eq!(conflict(store.confirm_pass(sent.id, w.owner, &[], at(2)).await).1, "the latest assessment is not a pass");

    store.send_revision(&submit(sent.id, w.learner, Some(w.assessor), at(90)), &[], at(3)).await.unwrap();
    store.record_assessment(sent.id, w.assessor, &judgement(Outcome::Pass), &[], at(4)).await.unwrap();
    store.confirm_pass(sent.id, w.owner, &[], at(5)).await.unwrap();
    assert_eq!(conflict(store.confirm_pass(sent.id, w.owner, &[], at(6)).await).1, "this pass was already confirmed");
    let assessments = store.assessments(sent.id).await.unwrap();
    assert_eq!(
        assessments.iter().map(|a| (a.attempt, a.outcome, a.confirmed_by, a.confirmed_at)).collect::<Vec<_>>(),
        [(1, Outcome::NotYet, None, None), (2, Outcome::Pass, Some(w.owner), Some(at(5)))]
    );
});

backend_test!(pass_rates_count_each_submission_once_per_period, |store| {
    let w = world(store).await;
    let day = |d: i64| now() + Duration::days(d);
    let second = named_user(store, "Sam Second", "sam@example.org").await;
    let third = named_user(store, "Tia Third", "tia@example.org").await;
    // A: not yet on days 0 and 2, then a pass on day 5. B: a pass on day 2. C: not yet on day 5.
    let a = submitted(store, &w, w.learner, 60 * 24 * 30).await;
    store.record_assessment(a.id, w.assessor, &judgement(Outcome::NotYet), &[], day(0)).await.unwrap();
    store.send_revision(&submit(a.id, w.learner, Some(w.assessor), day(30)), &[], day(1)).await.unwrap();
    store.record_assessment(a.id, w.assessor, &judgement(Outcome::NotYet), &[], day(2)).await.unwrap();
    store.send_revision(&submit(a.id, w.learner, Some(w.assessor), day(30)), &[], day(3)).await.unwrap();
    store.record_assessment(a.id, w.assessor, &judgement(Outcome::Pass), &[], day(5)).await.unwrap();
    let b = submitted(store, &w, second, 60 * 24 * 30).await;
    store.record_assessment(b.id, w.assessor, &judgement(Outcome::Pass), &[], day(2)).await.unwrap();
    let c = submitted(store, &w, third, 60 * 24 * 30).await;
    store.record_assessment(c.id, w.assessor, &judgement(Outcome::NotYet), &[], day(5)).await.unwrap();

    let scope = |from: i64, to: i64| cairn_store::InsightScope { organisation: w.org, achievement: None, from: day(from), to: day(to) };
    let passes = |first_decided, first_passed, decided, passed| cairn_store::PassCounts { first_decided, first_passed, decided, passed };
    for (from, to, expected) in [
        (0, 6, passes(3, 1, 3, 2)),
        // A's third attempt and second decision are in it: A counts once.
        (1, 6, passes(2, 1, 3, 2)),
        (3, 6, passes(1, 0, 2, 1)),
        (0, 1, passes(1, 0, 1, 0)),
        (2, 3, passes(1, 1, 2, 1)),
        (6, 9, passes(0, 0, 0, 0)),
    ] {
        assert_eq!(store.insight_decisions(&scope(from, to)).await.unwrap().passes, expected, "days {from}..{to}");
    }
    let only = cairn_store::InsightScope { achievement: Some(AchievementId::new()), ..scope(0, 6) };
    assert_eq!(store.insight_decisions(&only).await.unwrap().passes, passes(0, 0, 0, 0), "another achievement's figures");
});

backend_test!(daily_totals_follow_attempts_awards_and_deleted_accounts, |store| {
    let w = world(store).await;
    let midnight = now().date().midnight().assume_utc();
    let today = now().unix_timestamp().div_euclid(86_400);
    let second = named_user(store, "Sam Second", "sam@example.org").await;
    // The learner sends on day 0, revises on day 1 and passes on day 2; the second learner sends
    // on day 0, passes and is awarded, and the award is viewed once.
    let a = submitted(store, &w, w.learner, 60 * 24 * 30).await;
    store.record_assessment(a.id, w.assessor, &judgement(Outcome::NotYet), &[], at(1)).await.unwrap();
    store.send_revision(&submit(a.id, w.learner, Some(w.assessor), now() + Duration::days(30)), &[], now() + Duration::days(1)).await.unwrap();
    store.record_assessment(a.id, w.assessor, &judgement(Outcome::Pass), &[], now() + Duration::days(2)).await.unwrap();
    let b = submitted(store, &w, second, 60).await;
    store.record_assessment(b.id, w.assessor, &judgement(Outcome::Pass), &[], at(2)).await.unwrap();
    let award = store.create_award(&new_award(&w, second, Some(b.id), 1), &[], at(100)).await.unwrap();
    store.record_award_use(award.id, cairn_store::AwardUse::View, at(120)).await.unwrap();

    let all = cairn_store::InsightScope { organisation: w.org, achievement: None, from: midnight, to: midnight + Duration::days(3) };
    let one = cairn_store::InsightScope { achievement: Some(w.achievement), ..all };
    let sends = |first_attempts, revisions, day| cairn_store::SendsOnDay { day: today + day, first_attempts, revisions };
    let decided = |scope| async move {
        let mut decisions = store.insight_decisions(&scope).await.unwrap();
        decisions.groups.sort_by_key(|g| (g.assessor, g.sent_day, g.decided_day));
        decisions
    };
    let figures = || async {
        let from_totals = (store.insight_sends(&all).await.unwrap(), store.insight_use(&all).await.unwrap(), decided(all).await);
        // The issuer has this one achievement: its own rows must give the same figures.
        let from_rows = (store.insight_sends(&one).await.unwrap(), store.insight_use(&one).await.unwrap(), decided(one).await);
        assert_eq!(from_totals, from_rows, "daily totals and rows agree");
        // A period that starts after the first decision: the learner's submission counts once,
        // at its second decision, whose previous one is before the period.
        let later = cairn_store::InsightScope { from: midnight + Duration::days(1), ..all };
        assert_eq!(decided(later).await, decided(cairn_store::InsightScope { achievement: Some(w.achievement), ..later }).await);
        (from_totals.0, from_totals.1, from_totals.2.passes)
    };
    let used = |issued| cairn_store::UseCounts { issued, views: 1, shares: 0, verifications: 0 };
    let passes = |first_decided, first_passed, decided, passed| cairn_store::PassCounts { first_decided, first_passed, decided, passed };
    assert_eq!(figures().await, (vec![sends(2, 0, 0), sends(0, 1, 1)], used(1), passes(2, 1, 2, 2)));
    let before = cairn_store::InsightScope { from: midnight - Duration::days(3), to: midnight, ..all };
    assert_eq!((store.insight_sends(&before).await.unwrap(), store.insight_use(&before).await.unwrap()), (vec![], cairn_store::UseCounts::default()));

    // Deleting the second learner's account takes their submission (and its attempt) away; the
    // award stays, as issued.
    store.delete_account(second, at(200)).await.unwrap();
    assert_eq!(figures().await, (vec![sends(1, 0, 0), sends(0, 1, 1)], used(1), passes(1, 0, 1, 1)));
    // Recomputed from the rows, the totals are the same.
    store.rebuild_insight_days().await.unwrap();
    assert_eq!(figures().await, (vec![sends(1, 0, 0), sends(0, 1, 1)], used(1), passes(1, 0, 1, 1)));
});

type CountRow = (String, i64, String, i64);

/// `talent_award_counts` against the listed awards it counts, read directly: (achievement,
/// version, issuer, awards) for each achievement version with any.
async fn talent_counts(url: &str) -> (Vec<CountRow>, Vec<CountRow>) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut read = async |sql: &str| -> Vec<CountRow> {
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect()
    };
    let kept = read(
        "SELECT achievement_id, achievement_version, organisation_id, awards FROM talent_award_counts WHERE awards <> 0 \
         ORDER BY achievement_id, achievement_version",
    )
    .await;
    let counted = read(
        "SELECT achievement_id, achievement_version, MIN(organisation_id), CAST(COUNT(*) AS BIGINT) FROM talent_awards \
         GROUP BY achievement_id, achievement_version ORDER BY achievement_id, achievement_version",
    )
    .await;
    conn.close().await.unwrap();
    (kept, counted)
}

backend_test!(talent_award_counts_follow_the_listed_awards, |store, url| {
    let w = world(store).await;
    let second = store.create_achievement(w.org, &badge("Second Badge"), w.owner, now()).await.unwrap().id;
    let other = named_user(store, "Oda Other", "other@example.org").await;
    let findable = |handle: &str| Discovery { handle: Some(Handle::parse(handle).unwrap()), discoverable: true, show_imports: false };
    store.set_discovery(w.learner, &findable("lee")).await.unwrap();
    store.set_discovery(other, &findable("oda")).await.unwrap();
    let award = |learner, achievement, index| NewAward { achievement, ..new_award(&w, learner, None, index) };
    let a = store.create_award(&award(w.learner, w.achievement, 1), &[], at(100)).await.unwrap();
    let b = store.create_award(&award(w.learner, second, 2), &[], at(101)).await.unwrap();
    store.create_award(&award(other, w.achievement, 3), &[], at(102)).await.unwrap();
    let row = |achievement: AchievementId, awards| (achievement.to_string(), 1, w.org.to_string(), awards);
    let sorted = |mut rows: Vec<CountRow>| {
        rows.sort();
        rows
    };
    let check = |expected: Vec<CountRow>| async move {
        let (kept, counted) = talent_counts(url).await;
        assert_eq!(kept, counted, "the counts kept and the listed awards agree");
        assert_eq!(kept, sorted(expected));
    };
    check(vec![row(w.achievement, 2), row(second, 1)]).await;

    // A private award, a suspended one, a learner who no longer wants to be found, and a deleted
    // account each take theirs away; making an award public again brings it back.
    store.set_award_privacy(b.id, Privacy::Private, false).await.unwrap();
    check(vec![row(w.achievement, 2)]).await;
    store.set_award_privacy(b.id, Privacy::Public, false).await.unwrap();
    check(vec![row(w.achievement, 2), row(second, 1)]).await;
    store.set_award_status(a.id, AwardStatus::Suspended, None, &[], at(110)).await.unwrap();
    check(vec![row(w.achievement, 1), row(second, 1)]).await;
    store.set_discovery(w.learner, &Discovery { discoverable: false, ..findable("lee") }).await.unwrap();
    check(vec![row(w.achievement, 1)]).await;
    store.set_discovery(w.learner, &findable("lee")).await.unwrap();
    check(vec![row(w.achievement, 1), row(second, 1)]).await;
    store.delete_account(other, at(200)).await.unwrap();
    check(vec![row(second, 1)]).await;
});

backend_test!(direct_awards_are_offered_once_claimed_once_and_withdrawn, |store| {
    let w = world(store).await;
    let ada = email("ada@example.org");
    let evidence = vec![("https://example.org/work".to_string(), "The work".to_string())];
    let held = |index: u64| cairn_store::HeldCredential {
        award: AwardId::new(),
        achievement_version: 1,
        issued_at: at(1),
        valid_until: None,
        status_index: index,
        recipient_salt: "salt".into(),
        results_json: r#"[{"criterion":"design","level":3}]"#.into(),
        credential_json: "{}".into(),
        jwt: "eyJ.x.y".into(),
        ob2_json: "{}".into(),
        png_key: format!("awards/{index}.png"),
        svg_key: format!("awards/{index}.svg"),
    };
    let (first_held, other_held) = (held(7), held(8));
    let offer = |key: Option<&'static str>, fingerprint: &'static str| cairn_store::NewAwardOffer {
        organisation: w.org,
        achievement: w.achievement,
        email: &ada,
        name: "Ada Lovelace",
        narrative: "Assessed on site.",
        evidence: &evidence,
        credential: if fingerprint == "f-4" { &other_held } else { &first_held },
        offered_by: w.owner,
        idempotency_key: key,
        fingerprint,
    };
    let secret = std::sync::Mutex::new(String::new());
    let compose = |s: &str| {
        *secret.lock().unwrap() = s.to_string();
        (ada.clone(), "Claim your badge".to_string(), format!("/claim/{s}"))
    };
    let mails = || async { store.outbox(100).await.unwrap().len() };
    let made = store.create_award_offer(offer(Some("k-1"), "f-1"), at(1), compose).await.unwrap();
    let cairn_store::OfferMade::New(first) = made else { panic!("{made:?}") };
    assert!(first.waiting() && first.award.is_none());
    assert_eq!((first.name.as_str(), first.narrative.as_str(), first.evidence.clone()), ("Ada Lovelace", "Assessed on site.", evidence.clone()));
    assert_eq!((first.results_json.as_str(), first.held), (first_held.results_json.as_str(), Some(first_held.award)));
    assert_eq!(store.held_credential(first.id).await.unwrap(), Some(first_held.clone()));
    // Its status index is held: awards avoid it, and another waiting offer may not take it.
    assert!(store.used_status_indexes(w.org).await.unwrap().contains(&7));
    let other = email("other@example.org");
    let taken = cairn_store::NewAwardOffer { email: &other, ..offer(None, "f-5") };
    assert_eq!(conflict(store.create_award_offer(taken, at(2), |_| unreachable!()).await).0, "award_offers.status_index");
    assert_eq!(mails().await, 1);
    let secret = secret.lock().unwrap().clone();
    assert!(secret.len() >= 32, "{secret}");

    // The same request with the same key finds the same offer and mails nobody again; another
    // request with the key, or another offer of the achievement to the address, is refused.
    let again = store.create_award_offer(offer(Some("k-1"), "f-1"), at(2), |_| unreachable!("no second mail")).await.unwrap();
    assert_eq!(again, cairn_store::OfferMade::Replayed(first.clone()));
    assert_eq!(conflict(store.create_award_offer(offer(Some("k-1"), "f-2"), at(2), |_| unreachable!()).await).0, "award_offers.key");
    assert_eq!(conflict(store.create_award_offer(offer(None, "f-3"), at(2), |_| unreachable!()).await).0, "award_offers.waiting");
    assert_eq!(conflict(store.create_award_offer(offer(Some("k-2"), "f-1"), at(2), |_| unreachable!()).await).0, "award_offers.waiting");
    assert_eq!(mails().await, 1);
    assert_eq!(store.award_offers(w.org, 10).await.unwrap(), std::slice::from_ref(&first));

    // The link opens it while it waits; the award that claims it marks it claimed, once.
    assert_eq!(store.award_offer_by_secret(&secret).await.unwrap(), Some(first.clone()));
    assert_eq!(store.award_offer_by_secret("not-the-secret").await.unwrap(), None);
    let claiming = NewAward { offer: Some(first.id), ..new_award(&w, w.learner, None, 1) };
    let award = store.create_award(&claiming, &[], at(10)).await.unwrap();
    let claimed = store.award_offer(w.org, first.id).await.unwrap();
    assert_eq!((claimed.award, claimed.claimed_at, claimed.waiting()), (Some(award.id), Some(at(10)), false));
    assert_eq!(store.held_credential(first.id).await.unwrap(), None, "a claimed offer holds nothing any more");
    assert!(!store.used_status_indexes(w.org).await.unwrap().contains(&7), "nor its index");
    assert_eq!(store.award_offer_by_secret(&secret).await.unwrap(), None, "a claimed link no longer opens");
    let second = named_user(store, "Sam Second", "sam@example.org").await;
    let twice = NewAward { offer: Some(first.id), ..new_award(&w, second, None, 2) };
    assert_eq!(conflict(store.create_award(&twice, &[], at(11)).await).0, "award_offers.claimed");
    assert!(store.awards_of(second).await.unwrap().is_empty(), "nothing of the refused award stays");
    assert_eq!(conflict(store.withdraw_award_offer(w.org, first.id, at(12)).await).0, "award_offers.claimed");

    // A new offer to the address may wait again; withdrawn, its link stops working.
    let made = store.create_award_offer(offer(None, "f-4"), at(20), |s| (ada.clone(), "again".into(), s.to_string())).await.unwrap();
    let cairn_store::OfferMade::New(next) = made else { panic!("{made:?}") };
    let withdrawn = store.withdraw_award_offer(w.org, next.id, at(21)).await.unwrap();
    assert_eq!(withdrawn.withdrawn_at, Some(at(21)));
    assert_eq!(store.withdraw_award_offer(w.org, next.id, at(22)).await.unwrap().withdrawn_at, Some(at(21)), "withdrawing twice keeps the first time");
    let refused = NewAward { offer: Some(next.id), ..new_award(&w, second, None, 3) };
    assert_eq!(conflict(store.create_award(&refused, &[], at(23)).await).0, "award_offers.claimed");
    assert!(is_not_found(store.award_offer(OrganisationId::new(), next.id).await), "another issuer's offer is not found");
});

// ---------- queues ----------

backend_test!(queues_order_by_due_date, |store| {
    let w = world(store).await;
    let learners = [
        named_user(store, "Learner One", "one@example.org").await,
        named_user(store, "Learner Two", "two@example.org").await,
        named_user(store, "Learner Three", "three@example.org").await,
        named_user(store, "Learner Four", "four@example.org").await,
    ];
    let late = submitted(store, &w, learners[0], 300).await;
    let soon = submitted(store, &w, learners[1], 100).await;
    let draft = start(store, &w, learners[2]).await;
    let orphan = start(store, &w, learners[3]).await;
    store.send_first_attempt(&submit(orphan.id, learners[3], None, at(200)), &[], at(1)).await.unwrap();
    let judged = submitted(store, &w, w.learner, 50).await;
    store.record_assessment(judged.id, w.assessor, &judgement(Outcome::Pass), &[], at(2)).await.unwrap();

    let queue = store.assessor_queue(w.assessor).await.unwrap();
    assert_eq!(queue.iter().map(|q| q.submission.id).collect::<Vec<_>>(), [soon.id, late.id], "queued ones, soonest due first");
    assert!(queue.iter().all(|q| q.achievement_name == "Assessed Badge" && q.organisation == w.org));

    let issuer = store.issuer_queue(w.org).await.unwrap();
    assert_eq!(issuer.iter().map(|q| q.submission.id).collect::<Vec<_>>(), [judged.id, soon.id, orphan.id, late.id]);
    assert!(!issuer.iter().any(|q| q.submission.id == draft.id), "no drafts");
    assert_eq!(issuer[0].assessor_name.as_deref(), Some("Ada Assessor"));
    assert_eq!(issuer[2].assessor_name, None);

    assert_eq!(store.unassigned(w.org).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [orphan.id]);

    let candidates = store.escalation_candidates(at(10)).await.unwrap();
    assert_eq!(candidates.iter().map(|c| (c.submission, c.organisation)).collect::<Vec<_>>(), [(soon.id, w.org), (orphan.id, w.org), (late.id, w.org)]);
    assert_eq!(candidates[0].due, soon.due_at.unwrap());
    assert!(candidates.windows(2).all(|pair| pair[0].due <= pair[1].due), "soonest due first");
    assert!(store.mark_escalated(soon.id, &[], at(11)).await.unwrap());
    assert!(!store.mark_escalated(soon.id, &[], at(12)).await.unwrap(), "escalated once");
    assert!(is_not_found(store.mark_escalated(SubmissionId::new(), &[], at(11)).await));
    assert_eq!(store.escalation_candidates(at(12)).await.unwrap().len(), 2, "escalated once");

    // Sending a new attempt clears the escalation.
    store.record_assessment(soon.id, w.assessor, &judgement(Outcome::NotYet), &[], at(13)).await.unwrap();
    assert_eq!(store.escalation_candidates(at(13)).await.unwrap().len(), 2);
    store.send_revision(&submit(soon.id, learners[1], Some(w.assessor), at(400)), &[], at(14)).await.unwrap();
    let candidates = store.escalation_candidates(at(15)).await.unwrap();
    assert_eq!(candidates.last().map(|c| c.submission), Some(soon.id));
});

// ---------- duplicates ----------

backend_test!(evidence_digests_feed_duplicate_detection, |store| {
    let w = world(store).await;
    let friend = named_user(store, "Fran Friend", "friend@example.org").await;
    let mut new = new_submission(&w, w.learner, FeeState::None);
    new.content = content("My overview", "My reflection", &["friend@example.org", "no-account@example.org"]);
    let mine = store.create_submission(&new, now()).await.unwrap();
    store.add_artifact(&text(mine.id, "Essay", "The essay text"), at(1)).await.unwrap();
    store.add_artifact(&file(mine.id, "Report", SHA_A), at(1)).await.unwrap();
    let gone = store.add_artifact(&file(mine.id, "Old", SHA_B), at(1)).await.unwrap();
    store.add_artifact(&text(mine.id, "Appendix", "More text"), at(1)).await.unwrap();
    store.remove_artifact(mine.id, gone.id, at(2)).await.unwrap();
    store.send_first_attempt(&submit(mine.id, w.learner, Some(w.assessor), at(60)), &[], at(3)).await.unwrap();
    let theirs = submitted(store, &w, friend, 60).await;
    let other = named_user(store, "Drafting Learner", "draft@example.org").await;
    start(store, &w, other).await;

    let digests = store.evidence_digests(w.achievement).await.unwrap();
    assert_eq!(digests.len(), 2, "drafts are not compared");
    let digest = digests.iter().find(|d| d.submission == mine.id).unwrap();
    assert_eq!(digest.learner, w.learner);
    assert_eq!(digest.text, "My overview\nThe essay text\nMore text");
    assert_eq!(digest.reflection, "My reflection");
    assert_eq!(digest.file_hashes, [SHA_A]);
    assert_eq!(digest.collaborators, [friend], "only named e-mails with an account");
    assert!(store.evidence_digests(AchievementId::new()).await.unwrap().is_empty());

    assert!(store.duplicate_flags(mine.id).await.unwrap().is_empty());
    let flags = [
        DuplicateFlag { other: theirs.id, kind: DuplicateKind::Text, similarity: 0.85 },
        DuplicateFlag { other: theirs.id, kind: DuplicateKind::File, similarity: 1.0 },
        DuplicateFlag { other: theirs.id, kind: DuplicateKind::Text, similarity: 0.9 },
    ];
    store.set_duplicate_flags(mine.id, &flags, at(4)).await.unwrap();
    assert_eq!(store.duplicate_flags(mine.id).await.unwrap(), [flags[1].clone(), flags[2].clone()], "one per kind, the highest kept, most similar first");
    store.set_duplicate_flags(mine.id, &flags[..1], at(5)).await.unwrap();
    assert_eq!(store.duplicate_flags(mine.id).await.unwrap(), [flags[0].clone()], "flags are replaced");
    store.set_duplicate_flags(mine.id, &[], at(6)).await.unwrap();
    assert!(store.duplicate_flags(mine.id).await.unwrap().is_empty());
});

// ---------- fees and vouchers ----------

backend_test!(vouchers_are_redeemed_once_within_their_organisation, |store| {
    let w = world(store).await;
    let other_badge = store.create_achievement(w.org, &badge("Other Badge"), w.owner, now()).await.unwrap().id;
    store.create_vouchers(w.org, None, &["ANY-1".into(), "ANY-2".into()], w.owner, now()).await.unwrap();
    store.create_vouchers(w.org, Some(other_badge), &["OTHER-1".into()], w.owner, at(1)).await.unwrap();
    let (constraint, _) = conflict(store.create_vouchers(w.org, None, &["NEW-1".into(), "ANY-1".into()], w.owner, at(2)).await);
    assert_eq!(constraint, "vouchers.code");
    let vouchers = store.vouchers(w.org).await.unwrap();
    assert_eq!(
        vouchers.iter().map(|v| (v.code.as_str(), v.achievement)).collect::<Vec<_>>(),
        [("ANY-1", None), ("ANY-2", None), ("OTHER-1", Some(other_badge))]
    );
    assert!(vouchers.iter().all(|v| v.redeemed_by.is_none() && v.redeemed_at.is_none()), "the refused batch wrote nothing");

    let due = store.create_submission(&new_submission(&w, w.learner, FeeState::Due), now()).await.unwrap();
    assert!(is_not_found(store.redeem_voucher(due.id, "OTHER-1", at(3)).await), "a voucher for another achievement");
    assert!(is_not_found(store.redeem_voucher(due.id, "NOPE", at(3)).await));
    assert!(is_not_found(store.redeem_voucher(SubmissionId::new(), "ANY-1", at(3)).await));
    let elsewhere = organisation(store, "Elsewhere", w.owner).await;
    store.create_vouchers(elsewhere, None, &["ELSEWHERE-1".into()], w.owner, now()).await.unwrap();
    assert!(is_not_found(store.redeem_voucher(due.id, "ELSEWHERE-1", at(3)).await), "another organisation's voucher");

    store.redeem_voucher(due.id, "ANY-1", at(4)).await.unwrap();
    assert_eq!(store.submission(due.id).await.unwrap().fee, FeeState::Voucher("ANY-1".into()));
    let used = store.vouchers(w.org).await.unwrap().into_iter().find(|v| v.code == "ANY-1").unwrap();
    assert_eq!((used.redeemed_by, used.redeemed_at), (Some(due.id), Some(at(4))));
    let last = store.events(due.id).await.unwrap().pop().unwrap();
    assert_eq!((last.from, last.to, last.note.as_str(), last.actor), (Some(Status::Draft), Status::Draft, "voucher ANY-1 redeemed", Some(w.learner)));

    let other = named_user(store, "Other Learner", "other@example.org").await;
    let second = store.create_submission(&new_submission(&w, other, FeeState::Due), now()).await.unwrap();
    let (constraint, detail) = conflict(store.redeem_voucher(second.id, "ANY-1", at(5)).await);
    assert_eq!((constraint, detail.as_str()), ("vouchers.redeemed", "this voucher was already used"));
    assert_eq!(store.submission(second.id).await.unwrap().fee, FeeState::Due, "nothing changed");

    let free = start(store, &w, named_user(store, "Free Learner", "free@example.org").await).await;
    assert_eq!(conflict(store.redeem_voucher(free.id, "ANY-2", at(6)).await).0, "submissions.fee");
    assert!(store.vouchers(w.org).await.unwrap().iter().find(|v| v.code == "ANY-2").unwrap().redeemed_at.is_none(), "the voucher stays unused");

    // Two learners redeeming the same code at once: exactly one wins.
    let third = store.create_submission(&new_submission(&w, named_user(store, "Third", "third@example.org").await, FeeState::Due), now()).await.unwrap();
    let (a, b) = tokio::join!(store.redeem_voucher(second.id, "ANY-2", at(7)), store.redeem_voucher(third.id, "ANY-2", at(7)));
    assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
    let fees = [store.submission(second.id).await.unwrap().fee, store.submission(third.id).await.unwrap().fee];
    assert_eq!(fees.iter().filter(|f| **f == FeeState::Due).count(), 1);

    // Staff record payments and waivers, with an audit entry and no status change.
    let paid = store.create_submission(&new_submission(&w, named_user(store, "Payer", "payer@example.org").await, FeeState::Due), now()).await.unwrap();
    store.set_fee_state(paid.id, &FeeState::Paid, w.owner, &[], at(8)).await.unwrap();
    let after = store.submission(paid.id).await.unwrap();
    assert_eq!((after.fee, after.status), (FeeState::Paid, Status::Draft));
    let last = store.events(paid.id).await.unwrap().pop().unwrap();
    assert_eq!((last.from, last.to, last.note.as_str(), last.actor_name.as_deref()), (Some(Status::Draft), Status::Draft, "fee paid", Some("Olive Owner")));
    store.set_fee_state(paid.id, &FeeState::Waived, w.owner, &[], at(9)).await.unwrap();
    assert_eq!(store.events(paid.id).await.unwrap().pop().unwrap().note, "fee waived");
    assert!(is_not_found(store.set_fee_state(SubmissionId::new(), &FeeState::Paid, w.owner, &[], at(9)).await));
});

// ---------- awards and status lists ----------

backend_test!(awards_are_created_with_their_transition_in_one_transaction, |store| {
    let w = world(store).await;
    let pass = passed(store, &w, w.learner).await;
    let new = new_award(&w, w.learner, Some(pass.id), 7);
    let award = store.create_award(&new, &[], at(100)).await.unwrap();
    assert_eq!((award.id, award.status_index, award.status, award.privacy, award.evidence_public), (new.id, 7, AwardStatus::Active, Privacy::Public, false));
    assert_eq!((award.issued_at, award.valid_until, award.created_at), (new.issued_at, new.valid_until, at(100)));
    assert_eq!((award.credential_json.as_str(), award.jwt.as_str(), award.svg_key.as_str()), (new.credential_json.as_str(), "eyJ.x.y", "awards/x.svg"));
    assert_eq!(store.submission(pass.id).await.unwrap().status, Status::Awarded);
    let awarded = store.events(pass.id).await.unwrap().pop().unwrap();
    assert_eq!((awarded.from, awarded.to, awarded.actor, awarded.note.as_str()), (Some(Status::Passed), Status::Awarded, None, "credential issued"));
    assert_eq!(store.award(award.id).await.unwrap(), award);
    assert_eq!(store.award_for_submission(pass.id).await.unwrap(), Some(award.clone()));
    assert_eq!(store.submissions_of(w.learner).await.unwrap()[0].award, Some(award.id));
    assert!(is_not_found(store.award(AwardId::new()).await));

    // The same learner and achievement again: refused, nothing written.
    let again = new_award(&w, w.learner, None, 8);
    let (constraint, detail) = conflict(store.create_award(&again, &[], at(101)).await);
    assert_eq!(constraint, "awards.learner");
    assert!(detail.contains("already awarded"), "{detail}");
    assert!(is_not_found(store.award(again.id).await));

    // A taken status index: refused with its own constraint, and the transition is undone.
    let other = named_user(store, "Other Learner", "other@example.org").await;
    let other_pass = passed(store, &w, other).await;
    let clash = new_award(&w, other, Some(other_pass.id), 7);
    assert_eq!(conflict(store.create_award(&clash, &[], at(102)).await).0, "awards.status_index");
    assert_eq!(store.submission(other_pass.id).await.unwrap().status, Status::Passed, "the submission status is unchanged");
    assert!(store.award_for_submission(other_pass.id).await.unwrap().is_none());

    // A submission that is not passed: the award is not written either.
    let third = named_user(store, "Third Learner", "third@example.org").await;
    let queued = submitted(store, &w, third, 60).await;
    let early = new_award(&w, third, Some(queued.id), 9);
    assert_eq!(conflict(store.create_award(&early, &[], at(103)).await).0, "submissions.status");
    assert!(is_not_found(store.award(early.id).await), "no award without its transition");
    assert_eq!(store.submission(queued.id).await.unwrap().status, Status::Submitted);
    let fresh = new_award(&w, other, Some(other_pass.id), 9);
    let issued = store.create_award(&fresh, &[], at(104)).await.unwrap();
    assert_eq!(store.submission(other_pass.id).await.unwrap().status, Status::Awarded);

    // Awarding the same submission twice at once: exactly one wins.
    let racer = named_user(store, "Racer", "racer@example.org").await;
    let race = passed(store, &w, racer).await;
    let (first, second) = (new_award(&w, racer, Some(race.id), 20), new_award(&w, racer, Some(race.id), 21));
    let (a, b) = tokio::join!(store.create_award(&first, &[], at(105)), store.create_award(&second, &[], at(105)));
    assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
    assert!([&a, &b].iter().any(|r| matches!(r, Err(StoreError::Conflict { .. }))));

    let listed = store.awards_of_organisation(w.org).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().any(|(a, learner, achievement)| a.id == issued.id && learner == "Other Learner" && achievement == "Assessed Badge"));
    assert_eq!(store.awards_of(w.learner).await.unwrap(), [award]);
    assert_eq!(store.held_achievements(other).await.unwrap(), [w.achievement]);
    assert_eq!(store.used_status_indexes(w.org).await.unwrap().len(), 3);
    assert!(store.used_status_indexes(w.org).await.unwrap().starts_with(&[7, 9]));
});

backend_test!(status_lists_and_award_statuses, |store| {
    let w = world(store).await;
    let (revocation, suspension) = store.ensure_status_lists(w.org, 1000, now()).await.unwrap();
    assert_ne!(revocation, suspension);
    assert_eq!(store.ensure_status_lists(w.org, 200_000, at(1)).await.unwrap(), (revocation.clone(), suspension.clone()), "created once");
    let list = store.status_list(&revocation).await.unwrap();
    assert_eq!((list.organisation, list.purpose.as_str(), list.length), (w.org, "revocation", cairn_store::MIN_STATUS_LIST_LENGTH));
    assert_eq!(store.status_list(&suspension).await.unwrap().purpose, "suspension");
    assert!(is_not_found(store.status_list("nope").await));
    let elsewhere = organisation(store, "Elsewhere", w.owner).await;
    let (other_revocation, _) = store.ensure_status_lists(elsewhere, 200_000, now()).await.unwrap();
    assert_ne!(other_revocation, revocation);
    assert_eq!(store.status_list(&other_revocation).await.unwrap().length, 200_000);

    let second = store.create_achievement(w.org, &badge("Second Badge"), w.owner, now()).await.unwrap().id;
    let first = store.create_award(&new_award(&w, w.learner, None, 3), &[], at(1)).await.unwrap();
    let other = store.create_award(&NewAward { achievement: second, ..new_award(&w, w.learner, None, 1) }, &[], at(2)).await.unwrap();
    assert_eq!(store.used_status_indexes(w.org).await.unwrap(), [1, 3]);
    assert!(store.status_entries(w.org).await.unwrap().is_empty());
    assert_eq!(store.held_achievements(w.learner).await.unwrap().len(), 2);

    let suspended = store.set_award_status(first.id, AwardStatus::Suspended, Some("under review".into()), &[], at(3)).await.unwrap();
    assert_eq!(
        (suspended.status, suspended.status_reason.as_deref(), suspended.status_changed_at),
        (AwardStatus::Suspended, Some("under review"), Some(at(3)))
    );
    store.set_award_status(other.id, AwardStatus::Revoked, Some("copied work".into()), &[], at(4)).await.unwrap();
    assert_eq!(store.status_entries(w.org).await.unwrap(), [(1, AwardStatus::Revoked), (3, AwardStatus::Suspended)]);
    assert_eq!(store.held_achievements(w.learner).await.unwrap(), Vec::<AchievementId>::new(), "suspended and revoked awards are not held");

    let reinstated = store.set_award_status(first.id, AwardStatus::Active, None, &[], at(5)).await.unwrap();
    assert_eq!((reinstated.status, reinstated.status_reason), (AwardStatus::Active, None));
    assert_eq!(store.status_entries(w.org).await.unwrap(), [(1, AwardStatus::Revoked)]);
    assert_eq!(conflict(store.set_award_status(other.id, AwardStatus::Active, None, &[], at(6)).await).0, "awards.revoked");
    assert_eq!(store.award(other.id).await.unwrap().status, AwardStatus::Revoked, "revocation stays");
    assert!(is_not_found(store.set_award_status(AwardId::new(), AwardStatus::Revoked, None, &[], at(6)).await));
    assert!(store.status_entries(elsewhere).await.unwrap().is_empty());
});

backend_test!(award_privacy_is_set_by_the_learner, |store| {
    let w = world(store).await;
    let award = store.create_award(&new_award(&w, w.learner, None, 1), &[], now()).await.unwrap();
    let private = store.set_award_privacy(award.id, Privacy::Private, false).await.unwrap();
    assert_eq!((private.privacy, private.evidence_public), (Privacy::Private, false));
    let shown = store.set_award_privacy(award.id, Privacy::Unlisted, true).await.unwrap();
    assert_eq!((shown.privacy, shown.evidence_public), (Privacy::Unlisted, true));
    assert_eq!(store.award(award.id).await.unwrap(), shown);
    assert!(is_not_found(store.set_award_privacy(AwardId::new(), Privacy::Public, false).await));
});

// ---------- notifications and outbox ----------

backend_test!(notifications_are_listed_counted_and_marked_read, |store| {
    let w = world(store).await;
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(store.notify(w.learner, NotificationKind::NotYet, &format!("Subject {i}"), "Body", "/submissions/x", at(i)).await.unwrap());
    }
    store.notify(w.assessor, NotificationKind::Assignment, "Someone else's", "Body", "/queue", now()).await.unwrap();
    let latest = store.notifications(w.learner, 2).await.unwrap();
    assert_eq!(latest, [sent[2].clone(), sent[1].clone()], "newest first, limited");
    assert_eq!(store.notifications(w.learner, 10).await.unwrap().len(), 3);
    assert_eq!(store.unread_count(w.learner).await.unwrap(), 3);

    store.mark_read(w.learner, Some(sent[0].id), at(10)).await.unwrap();
    store.mark_read(w.learner, Some(sent[0].id), at(11)).await.unwrap();
    assert_eq!(store.notifications(w.learner, 10).await.unwrap()[2].read_at, Some(at(10)), "the first reading time stays");
    assert_eq!(store.unread_count(w.learner).await.unwrap(), 2);
    let theirs = store.notifications(w.assessor, 10).await.unwrap()[0].id;
    assert!(is_not_found(store.mark_read(w.learner, Some(theirs), at(12)).await), "another user's notification");
    assert!(is_not_found(store.mark_read(w.learner, Some(NotificationId::new()), at(12)).await));

    store.mark_read(w.learner, None, at(13)).await.unwrap();
    assert_eq!(store.unread_count(w.learner).await.unwrap(), 0);
    assert_eq!(store.unread_count(w.assessor).await.unwrap(), 1, "only the user's own");
    assert!(store.notifications(w.learner, 10).await.unwrap().iter().all(|n| n.read_at.is_some()));
});

backend_test!(the_outbox_tracks_pending_sent_and_failed_mail, |store| {
    let first = store.queue_mail(&email("a@example.org"), "First", "Hello", at(1)).await.unwrap();
    let second = store.queue_mail(&email("b@example.org"), "Second", "Hello", at(2)).await.unwrap();
    assert_eq!((first.to.as_str(), first.attempts, first.sent_at), ("a@example.org", 0, None));
    assert_eq!(store.pending_mail(10).await.unwrap(), [first.clone(), second.clone()], "oldest first");
    assert_eq!(store.outbox(10).await.unwrap(), [second.clone(), first.clone()], "newest first");
    assert_eq!(store.pending_mail(1).await.unwrap(), std::slice::from_ref(&first));

    store.mark_mail_failed(&first.id, "connection refused", at(3)).await.unwrap();
    let failed = store.pending_mail(10).await.unwrap().remove(0);
    assert_eq!((failed.attempts, failed.last_error.as_deref()), (1, Some("connection refused")));
    for _ in 1..cairn_store::MAX_MAIL_ATTEMPTS {
        store.mark_mail_failed(&first.id, "still refused", at(4)).await.unwrap();
    }
    assert_eq!(store.pending_mail(10).await.unwrap(), std::slice::from_ref(&second), "given up after the last attempt");

    store.mark_mail_sent(&second.id, at(5)).await.unwrap();
    assert!(store.pending_mail(10).await.unwrap().is_empty());
    let outbox = store.outbox(10).await.unwrap();
    assert_eq!((outbox[0].sent_at, outbox[0].attempts), (Some(at(5)), 1));
    assert_eq!((outbox[1].sent_at, outbox[1].attempts), (None, cairn_store::MAX_MAIL_ATTEMPTS));
    assert!(is_not_found(store.mark_mail_sent("nope", at(6)).await));
    assert!(is_not_found(store.mark_mail_failed("nope", "x", at(6)).await));
});

backend_test!(mail_is_claimed_by_one_runner_until_sent_failed_or_the_lease_ends, |store| {
    let first = store.queue_mail(&email("a@example.org"), "First", "Hello", at(1)).await.unwrap();
    let second = store.queue_mail(&email("b@example.org"), "Second", "Hello", at(2)).await.unwrap();
    let t = at(100);
    let one = store.claim_mail(1, t).await.unwrap();
    assert_eq!(one, std::slice::from_ref(&first), "oldest first, at most the limit");
    let other = store.claim_mail(10, t).await.unwrap();
    assert_eq!(other, std::slice::from_ref(&second), "another runner gets only what nobody holds");
    assert!(store.claim_mail(10, t).await.unwrap().is_empty(), "both are held");
    assert_eq!(store.pending_mail(10).await.unwrap().len(), 2, "held mail is still pending");

    store.mark_mail_failed(&first.id, "connection refused", t).await.unwrap();
    let again = store.claim_mail(10, t).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [first.id.as_str()], "a failure frees the message for the next run");
    store.mark_mail_sent(&first.id, t).await.unwrap();

    let lease_end = t + cairn_store::MAIL_LEASE;
    assert!(store.claim_mail(10, lease_end - time::Duration::seconds(1)).await.unwrap().is_empty(), "the lease holds");
    let taken_over = store.claim_mail(10, lease_end).await.unwrap();
    assert_eq!(taken_over, std::slice::from_ref(&second), "a dead runner's claim runs out");
    store.mark_mail_sent(&second.id, lease_end).await.unwrap();
    assert!(store.claim_mail(10, lease_end + cairn_store::MAIL_LEASE).await.unwrap().is_empty(), "sent mail is never claimed");

    // A restarted instance frees what it held at once; another instance's claims wait for their lease.
    let third = store.queue_mail(&email("c@example.org"), "Third", "Hello", at(3)).await.unwrap();
    let other = store.clone().with_instance("other:8080");
    let later = lease_end + cairn_store::MAIL_LEASE;
    assert_eq!(other.claim_mail(10, later).await.unwrap(), std::slice::from_ref(&third));
    assert_eq!(store.release_claimed_mail().await.unwrap(), 0, "not this instance's");
    assert!(store.claim_mail(10, later).await.unwrap().is_empty());
    assert_eq!(other.release_claimed_mail().await.unwrap(), 1);
    assert_eq!(store.claim_mail(10, later).await.unwrap(), std::slice::from_ref(&third), "free again after its instance restarted");
});

backend_test!(org_staff_are_owners_and_staff, |store| {
    let w = world(store).await;
    store.add_member(w.org, &email("assessor@example.org"), Role::Assessor, now()).await.unwrap();
    named_user(store, "Sam Staff", "staff@example.org").await;
    store.add_member(w.org, &email("staff@example.org"), Role::Staff, now()).await.unwrap();
    let staff = store.org_staff(w.org).await.unwrap();
    assert_eq!(
        staff.iter().map(|(_, e, n)| (e.as_str(), n.as_str())).collect::<Vec<_>>(),
        [("owner@example.org", "Olive Owner"), ("staff@example.org", "Sam Staff")]
    );
    assert_eq!(staff[0].0, w.owner);
});

// ---------- the effects outbox ----------

fn notice_to(user: UserId, subject: &str) -> NewEffect {
    NewEffect::from(Effect::Notify(Notice {
        user,
        kind: NotificationKind::Award,
        subject: subject.into(),
        body: "You earned it.".into(),
        link: "/awards/x".into(),
    }))
}

fn award_passed(submission: SubmissionId) -> NewEffect {
    NewEffect::from(Effect::AwardPassed { submission })
}

backend_test!(effects_are_written_with_their_state_change_or_not_at_all, |store| {
    let w = world(store).await;
    let sent = submitted(store, &w, w.learner, 60).await;
    // A judgement refused (not the assigned assessor) leaves no effect behind.
    let bea = named_user(store, "Bea Assessor", "bea@example.org").await;
    let refused = award_passed(sent.id);
    conflict(store.record_assessment(sent.id, bea, &judgement(Outcome::Pass), std::slice::from_ref(&refused), at(1)).await);
    assert!(is_not_found(store.effect(refused.id).await));

    let effect = award_passed(sent.id);
    store.record_assessment(sent.id, w.assessor, &judgement(Outcome::Pass), std::slice::from_ref(&effect), at(2)).await.unwrap();
    let stored = store.effect(effect.id).await.unwrap();
    assert_eq!((stored.effect.clone(), stored.state(), stored.attempts), (effect.effect.clone(), EffectState::Pending, 0));
    assert_eq!((stored.created_at, stored.next_attempt_at, stored.claimed_at, stored.last_error.clone()), (at(2), at(2), None, None));

    // An award refused (its status index is taken) writes none of its effects; one stored does.
    let first = store.create_award(&new_award(&w, w.learner, Some(sent.id), 5), &[notice_to(w.learner, "first")], at(3)).await.unwrap();
    let other = named_user(store, "Other Learner", "other@example.org").await;
    let clash_effects = [notice_to(other, "clash"), NewEffect::from(Effect::Stack { award: AwardId::new() })];
    let clash =
        NewAward { achievement: store.create_achievement(w.org, &badge("Second Badge"), w.owner, now()).await.unwrap().id, ..new_award(&w, other, None, 5) };
    assert_eq!(conflict(store.create_award(&clash, &clash_effects, at(4)).await).0, "awards.status_index");
    let stored: Vec<_> = store.effects(100).await.unwrap().into_iter().map(|e| e.id).collect();
    assert!(clash_effects.iter().all(|e| !stored.contains(&e.id)), "{stored:?}");
    assert_eq!(stored.len(), 2, "the judgement's and the first award's");

    // Status changes, fees and escalations carry theirs the same way.
    let told = notice_to(w.learner, "suspended");
    store.set_award_status(first.id, AwardStatus::Suspended, None, std::slice::from_ref(&told), at(5)).await.unwrap();
    assert_eq!(store.effect(told.id).await.unwrap().state(), EffectState::Pending);
    let id = NewEffect { id: told.id, effect: told.effect.clone() };
    assert_eq!(conflict(store.enqueue_effects(&[id], at(6)).await).0, "effects.id");
    assert_eq!(store.pending_effect_count().await.unwrap(), 3);
});

backend_test!(claims_are_exclusive_and_failures_back_off_then_give_up, |store| {
    let w = world(store).await;
    let effects: Vec<NewEffect> = (0..3).map(|i| notice_to(w.learner, &format!("notice {i}"))).collect();
    for (i, effect) in effects.iter().enumerate() {
        store.enqueue_effects(std::slice::from_ref(effect), at(i as i64)).await.unwrap();
    }
    assert!(store.claim_due_effects(now() - Duration::minutes(1), 10).await.unwrap().is_empty(), "nothing is due before it was written");
    let claimed = store.claim_due_effects(at(5), 2).await.unwrap();
    assert_eq!(claimed.iter().map(|c| (c.id, c.attempt)).collect::<Vec<_>>(), [(effects[0].id, 1), (effects[1].id, 1)], "oldest first, limited");
    assert_eq!(claimed[0].effect, effects[0].effect);
    let rest = store.claim_due_effects(at(5), 10).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [effects[2].id], "a claimed effect is not claimed again");
    assert_eq!(store.effect(effects[0].id).await.unwrap().claimed_at, Some(at(5)));

    // Two runners racing for one effect: exactly one gets it.
    let raced = notice_to(w.learner, "raced");
    store.enqueue_effects(std::slice::from_ref(&raced), at(6)).await.unwrap();
    let (a, b) = tokio::join!(store.claim_effect(raced.id, at(6)), store.claim_effect(raced.id, at(6)));
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|c| c.is_some()).count(), 1);

    // A claim is a lease: when it ends, the effect is due again (its runner died).
    let lease_end = at(5) + cairn_store::EFFECT_LEASE;
    assert!(store.claim_effect(effects[0].id, lease_end - Duration::seconds(1)).await.unwrap().is_none());
    assert_eq!(store.claim_effect(effects[0].id, lease_end).await.unwrap().map(|c| c.attempt), Some(2));
    // A restart releases the instance's own claims at once, and leaves another instance's.
    let other = store.clone().with_instance("other:8080");
    let theirs = notice_to(w.learner, "claimed by another instance");
    store.enqueue_effects(std::slice::from_ref(&theirs), at(7)).await.unwrap();
    assert!(other.claim_effect(theirs.id, at(8)).await.unwrap().is_some());
    assert_eq!(store.release_claimed_effects(at(11)).await.unwrap(), 4);
    assert_eq!(store.claim_due_effects(at(11), 10).await.unwrap().len(), 4, "the other instance's claim holds");
    assert_eq!(other.release_claimed_effects(at(11)).await.unwrap(), 1, "its own restart releases it");
    assert_eq!(store.claim_due_effects(at(11), 10).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), [theirs.id]);

    // Done is done, and completing twice is harmless.
    store.complete_effect(effects[1].id, at(12)).await.unwrap();
    store.complete_effect(effects[1].id, at(13)).await.unwrap();
    let done = store.effect(effects[1].id).await.unwrap();
    assert_eq!((done.state(), done.done_at, done.claimed_at), (EffectState::Done, Some(at(12)), None));
    assert!(store.claim_effect(effects[1].id, at(60)).await.unwrap().is_none());
    assert!(is_not_found(store.complete_effect(cairn_core::ids::EffectId::new(), at(9)).await));

    // A failure is retried at the time given, with its error kept, until the last attempt.
    let failing = effects[2].id;
    assert_eq!(store.retry_effect(failing, "smtp down", at(20), at(14)).await.unwrap(), Retry::Scheduled(at(20)));
    let waiting = store.effect(failing).await.unwrap();
    assert_eq!((waiting.next_attempt_at, waiting.claimed_at, waiting.last_error.as_deref()), (at(20), None, Some("smtp down")));
    assert!(store.claim_effect(failing, at(19)).await.unwrap().is_none(), "not before its time");
    let mut attempt = store.claim_effect(failing, at(20)).await.unwrap().unwrap().attempt;
    while attempt < cairn_store::MAX_EFFECT_ATTEMPTS {
        assert_eq!(store.retry_effect(failing, &format!("failure {attempt}"), at(30), at(21)).await.unwrap(), Retry::Scheduled(at(30)));
        attempt = store.claim_effect(failing, at(30)).await.unwrap().unwrap().attempt;
    }
    assert_eq!(store.retry_effect(failing, "still down", at(40), at(31)).await.unwrap(), Retry::GaveUp);
    let failed = store.effect(failing).await.unwrap();
    assert_eq!((failed.state(), failed.failed_at, failed.attempts, failed.last_error.as_deref()), (EffectState::Failed, Some(at(31)), 8, Some("still down")));
    assert!(store.claim_due_effects(at(1000), 10).await.unwrap().iter().all(|c| c.id != failing), "a failed effect stays failed");
    assert_eq!(conflict(store.retry_effect(failing, "again", at(50), at(50)).await).0, "effects.state");

    // An effect whose runner died during every attempt is given up too, with a reason.
    let doomed = notice_to(w.learner, "doomed");
    store.enqueue_effects(std::slice::from_ref(&doomed), at(100)).await.unwrap();
    let mut clock = at(100);
    for _ in 0..cairn_store::MAX_EFFECT_ATTEMPTS {
        assert!(store.claim_effect(doomed.id, clock).await.unwrap().is_some());
        clock += cairn_store::EFFECT_LEASE;
    }
    assert!(store.claim_due_effects(clock, 10).await.unwrap().iter().all(|c| c.id != doomed.id));
    let gone = store.effect(doomed.id).await.unwrap();
    assert_eq!((gone.state(), gone.last_error.as_deref()), (EffectState::Failed, Some("the runner stopped during every attempt")));
});

backend_test!(a_notice_is_delivered_once, |store| {
    let w = world(store).await;
    let effect = notice_to(w.learner, "Once only");
    let Effect::Notify(notice) = &effect.effect else { unreachable!() };
    let learner = email("learner@example.org");
    assert!(store.deliver_notice(effect.id, notice, &learner, "Hello\n", at(1)).await.unwrap());
    assert!(!store.deliver_notice(effect.id, notice, &learner, "Hello\n", at(2)).await.unwrap(), "a second delivery writes nothing");
    let notifications = store.notifications(w.learner, 10).await.unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!((notifications[0].id.0, notifications[0].kind, notifications[0].subject.as_str()), (effect.id.0, NotificationKind::Award, "Once only"));
    let outbox = store.outbox(10).await.unwrap();
    assert_eq!(
        outbox.iter().map(|m| (m.id.clone(), m.to.as_str(), m.body.as_str())).collect::<Vec<_>>(),
        [(effect.id.to_string(), "learner@example.org", "Hello\n")]
    );
});

backend_test!(passes_stranded_without_their_award_get_an_award_effect_once, |store| {
    let w = world(store).await;
    // A pass judged before the outbox existed, its award lost in a crash.
    let stranded = passed(store, &w, w.learner).await;
    // A pass whose award effect is still to run is not stranded.
    let waiting = named_user(store, "Wendy Waiting", "wendy@example.org").await;
    let queued = submitted(store, &w, waiting, 60).await;
    store.record_assessment(queued.id, w.assessor, &judgement(Outcome::Pass), &[award_passed(queued.id)], at(1)).await.unwrap();

    assert_eq!(store.repair_stranded_passes(at(2)).await.unwrap(), [stranded.id]);
    let pending: Vec<Effect> = store.effects(100).await.unwrap().into_iter().filter(|e| e.state() == EffectState::Pending).map(|e| e.effect).collect();
    assert_eq!(pending.iter().filter(|e| **e == Effect::AwardPassed { submission: stranded.id }).count(), 1);
    assert!(store.repair_stranded_passes(at(3)).await.unwrap().is_empty(), "repaired once: its effect is now pending");

    // Where staff confirm passes, an unconfirmed pass waits for them; a confirmed one is repaired.
    let settings = IssuerSettings { confirm_passes: true, ..IssuerSettings::default() };
    store.set_issuer_settings(w.org, &settings, now()).await.unwrap();
    let cleo = named_user(store, "Cleo Confirmed", "cleo@example.org").await;
    let unconfirmed = passed(store, &w, cleo).await;
    assert!(store.repair_stranded_passes(at(4)).await.unwrap().is_empty());
    store.confirm_pass(unconfirmed.id, w.owner, &[], at(5)).await.unwrap();
    assert_eq!(store.repair_stranded_passes(at(6)).await.unwrap(), [unconfirmed.id]);
});

// ---------- the learner's home ----------

backend_test!(a_learners_awards_and_started_micro_credentials_are_listed, |store| {
    let w = world(store).await;
    let stack = store.create_achievement(w.org, &common::micro_credential("Stacked", ["One", "Two", "Three"]), w.owner, now()).await.unwrap();
    let levels = store.levels(stack.id).await.unwrap();
    let untouched = store.create_achievement(w.org, &common::micro_credential("Untouched", ["Four", "Five", "Six"]), w.owner, at(1)).await.unwrap();
    let untouched_levels = store.levels(untouched.id).await.unwrap();
    assert!(store.learner_awards(w.learner).await.unwrap().is_empty());
    assert!(store.micro_credentials_started(w.learner).await.unwrap().is_empty());

    // A draft on the first level starts the micro-credential; a withdrawn one elsewhere does not.
    let on_level = NewSubmission { achievement: levels[0].id, ..new_submission(&w, w.learner, FeeState::None) };
    store.create_submission(&on_level, now()).await.unwrap();
    let elsewhere = NewSubmission { achievement: untouched_levels[0].id, ..new_submission(&w, w.learner, FeeState::None) };
    let withdrawn = store.create_submission(&elsewhere, now()).await.unwrap();
    store.withdraw_submission(withdrawn.id, Status::Draft, w.learner, at(1)).await.unwrap();
    assert_eq!(store.micro_credentials_started(w.learner).await.unwrap(), [stack.id]);

    // Awards come with their achievement's and issuer's names, newest first.
    let pass = passed(store, &w, w.learner).await;
    let badge_award = store.create_award(&new_award(&w, w.learner, Some(pass.id), 1), &[], at(100)).await.unwrap();
    let level_award = NewAward { achievement: untouched_levels[1].id, issued_at: at(200), ..new_award(&w, w.learner, None, 2) };
    let level_award = store.create_award(&level_award, &[], at(200)).await.unwrap();
    let listed = store.learner_awards(w.learner).await.unwrap();
    assert_eq!(
        listed.iter().map(|l| (l.award.id, l.achievement_name.as_str(), l.organisation_name.as_str())).collect::<Vec<_>>(),
        [(level_award.id, "Five", "Assessing Org"), (badge_award.id, "Assessed Badge", "Assessing Org")]
    );
    assert_eq!(store.micro_credentials_started(w.learner).await.unwrap(), [stack.id, untouched.id], "a level award starts its micro-credential");

    // Someone else's home is their own.
    let other = named_user(store, "Other Learner", "other@example.org").await;
    assert!(store.learner_awards(other).await.unwrap().is_empty());
    assert!(store.micro_credentials_started(other).await.unwrap().is_empty());
});

// ---------- recognition of prior learning ----------

backend_test!(equivalency_rules_and_recognition_requests_are_kept, |store| {
    use cairn_core::recognition::{EquivalencyFields, NewEquivalency, Recognition};
    use cairn_store::PriorLearning;
    let w = world(store).await;
    let rule = |issuer: &str, achievement: &str| {
        NewEquivalency::parse(&EquivalencyFields {
            achievement_id: w.achievement.to_string(),
            external_issuer: issuer.into(),
            external_achievement: achievement.into(),
            note: Some("Agreed with the college".into()),
        })
        .unwrap()
    };
    let first = store.create_equivalency(w.org, &rule("did:key:z6MkCollege", "https://college.example/b/1"), w.owner, at(1)).await.unwrap();
    store.create_equivalency(w.org, &rule("did:key:z6MkCollege", "https://college.example/b/2"), w.owner, at(2)).await.unwrap();
    let (constraint, _) = conflict(store.create_equivalency(w.org, &rule("did:key:z6MkCollege", "https://college.example/b/1"), w.owner, at(3)).await);
    assert_eq!(constraint, "equivalencies.rule");
    assert_eq!(store.count_equivalencies(w.org).await.unwrap(), 2);
    assert_eq!(store.equivalencies_of(w.org).await.unwrap()[0], first);
    assert_eq!(store.equivalencies_matching("did:key:z6MkCollege", "https://college.example/b/1").await.unwrap(), std::slice::from_ref(&first));
    assert!(store.equivalencies_matching("did:key:z6MkOther", "https://college.example/b/1").await.unwrap().is_empty());
    store.delete_equivalency(first.id).await.unwrap();
    assert!(is_not_found(store.equivalency(first.id).await));
    assert!(is_not_found(store.delete_equivalency(first.id).await));

    // A submission asking for recognition says so; an ordinary one does not.
    let ordinary = start(store, &w, w.learner).await;
    assert_eq!(store.prior_learning_of(ordinary.id).await.unwrap(), None);
    store.withdraw_submission(ordinary.id, Status::Draft, w.learner, at(4)).await.unwrap();
    let asking = NewSubmission { prior_learning: Some(PriorLearning { import: None }), ..new_submission(&w, w.learner, FeeState::None) };
    let asking = store.create_submission(&asking, at(5)).await.unwrap();
    assert_eq!(store.prior_learning_of(asking.id).await.unwrap(), Some(PriorLearning { import: None }));

    // An award says how it recognises prior learning.
    let award = store.create_award(&NewAward { recognition: Some(Recognition::Equivalency), ..new_award(&w, w.learner, None, 7) }, &[], at(6)).await.unwrap();
    assert_eq!(store.award(award.id).await.unwrap().recognition, Some(Recognition::Equivalency));
});

backend_test!(online_payments_settle_a_fee_once_and_keep_stripe_keys_sealed, |store| {
    use cairn_core::ids::PaymentId;
    use cairn_core::payments::{PaymentStatus, StripeKeys};
    use cairn_store::{NewPayment, Settled};
    let w = world(store).await;
    assert_eq!(store.stripe_account(w.org).await.unwrap(), None);
    assert_eq!(store.stripe_keys(w.org).await.unwrap(), None);
    let keys = StripeKeys::parse("sk_test_first", "whsec_first").unwrap();
    store.connect_stripe(w.org, "acct_1", "Assessing Org Ltd", &keys, w.owner, at(1)).await.unwrap();
    let again = StripeKeys::parse("rk_live_second", "whsec_second").unwrap();
    let account = store.connect_stripe(w.org, "acct_2", "Assessing Org", &again, w.owner, at(2)).await.unwrap();
    assert_eq!(store.stripe_account(w.org).await.unwrap(), Some(account.clone()), "a second connection replaces the first");
    assert!(account.livemode);
    assert_eq!(store.stripe_keys(w.org).await.unwrap(), Some(again), "the keys open again");

    let due = store.create_submission(&new_submission(&w, w.learner, FeeState::Due), now()).await.unwrap();
    let new = NewPayment {
        id: PaymentId::new(),
        submission: due.id,
        organisation: w.org,
        session_id: "cs_test_1".into(),
        checkout_url: "https://checkout.example/cs_test_1".into(),
        amount_minor: 4950,
        currency: "EUR".into(),
        send_when_paid: true,
        expires_at: at(60),
    };
    let payment = store.create_payment(&new, at(3)).await.unwrap();
    assert_eq!((payment.status, payment.send_when_paid, payment.amount_minor), (PaymentStatus::Open, true, 4950));
    assert_eq!(store.payment_by_session("cs_test_1").await.unwrap(), Some(payment.clone()));
    assert_eq!(store.payments_of(due.id).await.unwrap(), vec![payment.clone()]);

    let told = [NewEffect::from(Effect::SendPaid { submission: due.id })];
    let settled = store.settle_payment("cs_test_1", Some("pi_1"), &[], &told, at(4)).await.unwrap();
    let Settled::Now { payment: paid, fee_settled } = settled else { panic!("settled now: {settled:?}") };
    assert!(fee_settled);
    assert_eq!((paid.status, paid.payment_intent.as_deref(), paid.paid_at, paid.checkout_url), (PaymentStatus::Paid, Some("pi_1"), Some(at(4)), None));
    assert_eq!(store.submission(due.id).await.unwrap().fee, FeeState::Paid);
    let last = store.events(due.id).await.unwrap().pop().unwrap();
    assert_eq!((last.note.as_str(), last.actor), ("fee paid online (49.50 EUR)", None));
    let pending = store.claim_due_effects(at(5), 10).await.unwrap();
    assert_eq!(pending.iter().filter(|e| e.effect == Effect::SendPaid { submission: due.id }).count(), 1);
    // The webhook and the learner's return race: the second finds it settled and writes nothing.
    assert!(matches!(store.settle_payment("cs_test_1", Some("pi_1"), &[], &told, at(6)).await.unwrap(), Settled::Before(_)));
    assert!(matches!(store.settle_payment("cs_unknown", None, &[], &[], at(6)).await.unwrap(), Settled::Unknown));
    assert_eq!(store.payment_by_intent("pi_1").await.unwrap().map(|p| p.id), Some(paid.id));

    // Refunds are recorded once.
    assert!(store.record_refund(paid.id, Some("re_1"), at(7)).await.unwrap());
    assert!(!store.record_refund(paid.id, Some("re_2"), at(8)).await.unwrap());
    let refunded = store.payment(paid.id).await.unwrap();
    assert_eq!((refunded.status, refunded.refund_id.as_deref(), refunded.refunded_at), (PaymentStatus::Refunded, Some("re_1"), Some(at(7))));

    // An open session that expires; a late payment of it still settles.
    let other = named_user(store, "Other Learner", "other@example.org").await;
    let second = store.create_submission(&new_submission(&w, other, FeeState::Due), now()).await.unwrap();
    let late = NewPayment { id: PaymentId::new(), submission: second.id, session_id: "cs_test_2".into(), send_when_paid: false, ..new.clone() };
    store.create_payment(&late, at(3)).await.unwrap();
    assert!(store.expire_payment("cs_test_2").await.unwrap());
    assert!(!store.expire_payment("cs_test_2").await.unwrap());
    assert!(matches!(store.settle_payment("cs_test_2", Some("pi_2"), &[], &[], at(9)).await.unwrap(), Settled::Now { .. }));

    // Webhook events are taken once; one forgotten (acting on it failed) is taken again.
    assert!(store.take_stripe_event("evt_1", w.org, "checkout.session.completed", at(1)).await.unwrap());
    assert!(!store.take_stripe_event("evt_1", w.org, "checkout.session.completed", at(2)).await.unwrap());
    store.forget_stripe_event("evt_1").await.unwrap();
    assert!(store.take_stripe_event("evt_1", w.org, "checkout.session.completed", at(3)).await.unwrap());

    assert!(store.disconnect_stripe(w.org).await.unwrap());
    assert!(!store.disconnect_stripe(w.org).await.unwrap());
    assert_eq!(store.stripe_keys(w.org).await.unwrap(), None);
    assert_eq!(store.payments_of(due.id).await.unwrap().len(), 1, "payments stay");
});

backend_test!(withdrawing_with_a_refund_makes_covered_drafts_owe_the_fee_again, |store| {
    use cairn_core::ids::PaymentId;
    use cairn_store::NewPayment;
    let w = world(store).await;
    let level_two = store.create_achievement(w.org, &badge("Level two"), w.owner, now()).await.unwrap().id;
    let paid_on = store.create_submission(&new_submission(&w, w.learner, FeeState::Due), now()).await.unwrap();
    let covered = store.create_submission(&NewSubmission { achievement: level_two, ..new_submission(&w, w.learner, FeeState::Due) }, now()).await.unwrap();
    let new = NewPayment {
        id: PaymentId::new(),
        submission: paid_on.id,
        organisation: w.org,
        session_id: "cs_cover".into(),
        checkout_url: "https://checkout.example/cs_cover".into(),
        amount_minor: 15_000,
        currency: "EUR".into(),
        send_when_paid: false,
        expires_at: at(60),
    };
    store.create_payment(&new, at(1)).await.unwrap();
    store.settle_payment("cs_cover", Some("pi_cover"), &[level_two], &[], at(2)).await.unwrap();
    assert_eq!(store.submission(covered.id).await.unwrap().fee, FeeState::Paid, "the micro-credential's fee covers the other level");
    let refund = [NewEffect::from(Effect::Refund { payment: new.id })];
    let withdrawn = store.withdraw_submission_refunding(paid_on.id, Status::Draft, w.learner, &[level_two], &refund, at(3)).await.unwrap();
    assert_eq!(withdrawn.status, Status::Withdrawn);
    assert_eq!(store.submission(covered.id).await.unwrap().fee, FeeState::Due, "the covered draft owes the fee again");
    let last = store.events(covered.id).await.unwrap().pop().unwrap();
    assert_eq!((last.note.as_str(), last.actor), ("fee due again: the micro-credential's fee paid online was refunded", Some(w.learner)));
    let pending = store.claim_due_effects(at(4), 10).await.unwrap();
    assert_eq!(pending.iter().filter(|e| e.effect == Effect::Refund { payment: new.id }).count(), 1);
    // A stale status refuses the withdrawal and writes nothing.
    assert!(store.withdraw_submission_refunding(paid_on.id, Status::Draft, w.learner, &[], &refund, at(5)).await.is_err());
});
