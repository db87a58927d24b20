use super::*;
use crate::keys::{Ed25519KeyPair, KeyFile};
use crate::loader::StaticLoader;
use crate::ob3::{EndorsementInput, Profile, Recipient, add_endorsement, endorsement_credential, open_badge_credential};
use crate::status::{StatusList, StatusPurpose, list_credential, status_entry};
use crate::suites::eddsa_rdfc_2022::{Ed25519Signer, ProofOptions, sign};
use serde_json::json;

const NOW: i64 = 1_795_000_000; // 2026-11-18

struct Issuer {
    file: KeyFile,
    key: Ed25519KeyPair,
}

fn issuer() -> Issuer {
    let key = Ed25519KeyPair::from_seed([11; 32]);
    Issuer { file: KeyFile::new(&key, None), key }
}

fn unsigned(issuer: &Issuer, status: Option<Value>) -> Value {
    let mut input = crate::ob3::tests::sample();
    input.issuer.id = issuer.file.controller.clone();
    input.achievement.creator = None;
    input.recipient = Recipient::Id("did:example:learner".into());
    input.status = status;
    open_badge_credential(&input)
}

fn signed(issuer: &Issuer, document: &Value) -> Value {
    let signer = Ed25519Signer::new(issuer.key.clone(), issuer.file.id.clone());
    sign(document, &signer, &ProofOptions::assertion("2026-11-22T10:00:00Z"), &StaticLoader::new()).unwrap()
}

fn run(input: &[u8], loader: &StaticLoader) -> VerificationReport {
    verify(input, &VerifyOptions { loader, jwt_keys: None, now: NOW + 400 * 86_400, max_clock_skew_secs: 60 })
}

#[track_caller]
fn check(report: &VerificationReport, verdict: Verdict, failing: &[&str]) {
    let not_ok: Vec<&str> = report.checks.iter().filter(|c| c.ok != Some(true)).map(|c| c.id.as_str()).collect();
    assert_eq!((report.verdict, not_ok.as_slice()), (verdict, failing), "{:#?}", report.checks);
}

#[test]
fn a_signed_credential_verifies_with_every_check() {
    let issuer = issuer();
    let credential = signed(&issuer, &unsigned(&issuer, None));
    let report = run(credential.to_string().as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Valid, &[]);
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["format", "shape", "proof", "issuer", "valid_from", "valid_until"]);
    assert_eq!(report.format, "ob3-json");
}

#[test]
fn tampering_expiry_and_foreign_keys_are_caught() {
    let issuer = issuer();
    let credential = signed(&issuer, &unsigned(&issuer, None));
    let mut tampered = credential.clone();
    tampered["name"] = json!("Something else");
    check(&run(tampered.to_string().as_bytes(), &StaticLoader::new()), Verdict::Invalid, &["proof"]);
    let mut expiring = unsigned(&issuer, None);
    expiring["validUntil"] = json!("2026-11-23T00:00:00Z");
    let expired = signed(&issuer, &expiring);
    check(&run(expired.to_string().as_bytes(), &StaticLoader::new()), Verdict::Invalid, &["valid_until"]);
    // Signed by a key that is not the issuer's.
    let other = Issuer { file: KeyFile::new(&Ed25519KeyPair::from_seed([12; 32]), None), key: Ed25519KeyPair::from_seed([12; 32]) };
    let foreign = signed(&other, &unsigned(&issuer, None));
    check(&run(foreign.to_string().as_bytes(), &StaticLoader::new()), Verdict::Invalid, &["issuer"]);
    let unsigned_report = run(unsigned(&issuer, None).to_string().as_bytes(), &StaticLoader::new());
    check(&unsigned_report, Verdict::Invalid, &["proof"]);
}

#[test]
fn status_lists_revoke_and_missing_lists_leave_the_verdict_open() {
    let issuer = issuer();
    let url = "https://issuer.example/status/1";
    let credential = signed(&issuer, &unsigned(&issuer, Some(status_entry(url, 42, StatusPurpose::Revocation))));
    let list = |set: bool| {
        let mut bits = StatusList::new(0);
        bits.set(42, set).unwrap();
        let mut document = list_credential(url, &issuer.file.controller, StatusPurpose::Revocation, &bits, "2026-11-01T00:00:00Z");
        document = signed(&issuer, &document);
        document
    };
    let bytes = credential.to_string();
    check(&run(bytes.as_bytes(), &StaticLoader::new().with(url, &list(false))), Verdict::Valid, &[]);
    let revoked = run(bytes.as_bytes(), &StaticLoader::new().with(url, &list(true)));
    check(&revoked, Verdict::Invalid, &["status"]);
    assert!(revoked.checks.iter().any(|c| c.detail.contains("revoked")));
    check(&run(bytes.as_bytes(), &StaticLoader::new()), Verdict::Indeterminate, &["status"]);
    // A list signed by someone else is not believed.
    let other = Issuer { file: KeyFile::new(&Ed25519KeyPair::from_seed([13; 32]), None), key: Ed25519KeyPair::from_seed([13; 32]) };
    let mut forged = list_credential(url, &other.file.controller, StatusPurpose::Revocation, &StatusList::new(0), "2026-11-01T00:00:00Z");
    forged = signed(&other, &forged);
    check(&run(bytes.as_bytes(), &StaticLoader::new().with(url, &forged)), Verdict::Invalid, &["status"]);
}

#[test]
fn jwts_and_baked_images_go_through_the_same_checks() {
    let issuer = issuer();
    let credential = unsigned(&issuer, None);
    let token = crate::suites::vc_jwt::sign(&credential, &issuer.key, &issuer.file.id).unwrap();
    let report = run(token.as_bytes(), &StaticLoader::new());
    assert_eq!((report.verdict, report.format.as_str()), (Verdict::Valid, "ob3-jwt"), "{:#?}", report.checks);
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(run(forged.as_bytes(), &StaticLoader::new()).verdict, Verdict::Invalid);

    let png = tiny_png();
    let signed_json = signed(&issuer, &credential).to_string();
    let baked = crate::bake::bake(&png, &crate::bake::BakedPayload::Ob3Json(signed_json)).unwrap();
    let report = run(&baked, &StaticLoader::new());
    assert_eq!((report.verdict, report.format.as_str()), (Verdict::Valid, "png+ob3-json"), "{:#?}", report.checks);
    let plain = run(&png, &StaticLoader::new());
    check(&plain, Verdict::Invalid, &["format"]);
}

#[test]
fn urls_load_through_the_loader() {
    let issuer = issuer();
    let credential = signed(&issuer, &unsigned(&issuer, None));
    let url = "https://issuer.example/credentials/1";
    let loader = StaticLoader::new().with(url, &credential);
    assert_eq!(run(url.as_bytes(), &loader).verdict, Verdict::Valid);
    let missing = run(b"https://issuer.example/credentials/2", &loader);
    check(&missing, Verdict::Indeterminate, &["format"]);
}

#[test]
fn hosted_ob2_assertions_are_checked_against_their_hosts() {
    let assertion = json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "https://issuer.example/ob2/a/1",
        "recipient": {"type": "email", "hashed": false, "identity": "x@example.org"},
        "badge": "https://issuer.example/ob2/b/1", "verification": {"type": "hosted"}, "issuedOn": "2026-01-01T00:00:00Z"
    });
    let badge = json!({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": "https://issuer.example/ob2/b/1", "name": "B", "issuer": "https://issuer.example/ob2/i/1"});
    let profile = json!({"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": "https://issuer.example/ob2/i/1", "name": "I", "url": "https://issuer.example"});
    let loader = StaticLoader::new()
        .with("https://issuer.example/ob2/a/1", &assertion)
        .with("https://issuer.example/ob2/b/1", &badge)
        .with("https://issuer.example/ob2/i/1", &profile);
    check(&run(assertion.to_string().as_bytes(), &loader), Verdict::Valid, &[]);
    let revoked =
        StaticLoader::new().with("https://issuer.example/ob2/a/1", &crate::ob2::revoked_assertion_json("https://issuer.example/ob2/a/1", "issued in error"));
    let report = run(assertion.to_string().as_bytes(), &revoked);
    check(&report, Verdict::Invalid, &["status"]);
    check(&run(assertion.to_string().as_bytes(), &StaticLoader::new()), Verdict::Indeterminate, &["proof"]);
    struct GoneLoader;
    impl DocumentLoader for GoneLoader {
        fn load(&self, url: &str) -> Result<crate::loader::LoadedDocument, crate::loader::LoadError> {
            Err(crate::loader::LoadError::Gone { url: url.to_string() })
        }
    }
    let gone = StaticLoader::new().with_fallback(std::sync::Arc::new(GoneLoader));
    check(&run(assertion.to_string().as_bytes(), &gone), Verdict::Invalid, &["status"]);
    // Given only the URL of a withdrawn hosted credential, the verdict is revoked, not unknown.
    let by_url = run(b"https://issuer.example/ob2/a/1", &gone);
    check(&by_url, Verdict::Invalid, &["status"]);
    assert!(by_url.checks.iter().any(|c| c.id == "status" && c.detail.starts_with("revoked")), "{by_url:?}");
}

#[test]
fn garbage_is_refused_as_format_problems() {
    for input in [&b"hello"[..], b"{not json", b"\xff\xfe\x00", b"a.b", b""] {
        let report = run(input, &StaticLoader::new());
        assert_eq!(report.verdict, Verdict::Invalid, "{input:?}");
        assert_eq!(report.checks[0].id, "format");
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(run(format!("{{\"a\":{deep}}}").as_bytes(), &StaticLoader::new()).verdict, Verdict::Invalid);
}

/// An endorsement of the node `subject_id`, signed by the did:key with `seed`.
fn endorsement(seed: u8, subject_id: &str, valid_until: Option<&str>) -> Value {
    let key = Ed25519KeyPair::from_seed([seed; 32]);
    let endorser = Issuer { file: KeyFile::new(&key, None), key };
    let unsigned = endorsement_credential(&EndorsementInput {
        id: format!("urn:uuid:00000000-0000-4000-8000-0000000000{seed:02}"),
        name: "Endorsement".into(),
        issuer: Profile { id: endorser.file.controller.clone(), name: format!("Endorser {seed}"), url: None, email: None, description: None, image: None },
        valid_from: "2026-11-01T00:00:00Z".into(),
        valid_until: valid_until.map(str::to_string),
        subject_id: subject_id.into(),
        comment: Some("Rigorous and well run.".into()),
    });
    signed(&endorser, &unsigned)
}

/// A credential by `issuer` with `endorse` applied before it is signed.
fn endorsed(issuer: &Issuer, endorse: impl FnOnce(&mut Value)) -> Value {
    let mut credential = unsigned(issuer, None);
    endorse(&mut credential);
    signed(issuer, &credential)
}

fn endorsements_check(report: &VerificationReport) -> Option<&Check> {
    report.checks.iter().find(|c| c.id == "endorsements")
}

#[test]
fn endorsements_on_the_credential_issuer_and_achievement_are_verified() {
    let issuer = issuer();
    let achievement_id = unsigned(&issuer, None)["credentialSubject"]["achievement"]["id"].as_str().unwrap().to_string();
    let credential_id = unsigned(&issuer, None)["id"].as_str().unwrap().to_string();
    let credential = endorsed(&issuer, |c| {
        add_endorsement(c, endorsement(31, &credential_id, None));
        add_endorsement(&mut c["issuer"], endorsement(32, &issuer.file.controller, Some("2030-01-01T00:00:00Z")));
        add_endorsement(&mut c["credentialSubject"]["achievement"], endorsement(33, &achievement_id, None));
    });
    let report = run(credential.to_string().as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Valid, &[]);
    let summary = endorsements_check(&report).unwrap();
    assert!(summary.detail.starts_with("3 endorsements verified, by did:key:"), "{}", summary.detail);

    // The same through a VC-JWT.
    let mut jwt_credential = unsigned(&issuer, None);
    add_endorsement(&mut jwt_credential["credentialSubject"]["achievement"], endorsement(33, &achievement_id, None));
    let token = crate::suites::vc_jwt::sign(&jwt_credential, &issuer.key, &issuer.file.id).unwrap();
    let report = run(token.as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Valid, &[]);
    assert_eq!(
        endorsements_check(&report).unwrap().detail,
        format!("1 endorsement verified, by {}", KeyFile::new(&Ed25519KeyPair::from_seed([33; 32]), None).controller)
    );

    // No endorsement, no check.
    let plain = run(signed(&issuer, &unsigned(&issuer, None)).to_string().as_bytes(), &StaticLoader::new());
    assert!(endorsements_check(&plain).is_none());
}

#[test]
fn a_bad_endorsement_makes_the_credential_invalid_with_its_reason() {
    let issuer = issuer();
    let achievement_id = unsigned(&issuer, None)["credentialSubject"]["achievement"]["id"].as_str().unwrap().to_string();
    let mut tampered = endorsement(34, &achievement_id, None);
    tampered["credentialSubject"]["endorsementComment"] = json!("Sloppy.");
    let mut mistyped = endorsement(34, &achievement_id, None);
    mistyped["type"] = json!(["VerifiableCredential", "OpenBadgeCredential"]);
    // Re-signed, so that only the type is wrong: an achievement credential needs an achievement.
    mistyped.as_object_mut().unwrap().remove("proof");
    let key = Ed25519KeyPair::from_seed([34; 32]);
    let mistyped = signed(&Issuer { file: KeyFile::new(&key, None), key }, &mistyped);
    let cases = [
        ("proof", tampered, &["endorsements"][..]),
        ("valid_until: expired on 2026-11-20", endorsement(34, &achievement_id, Some("2026-11-20T00:00:00Z")), &["endorsements"]),
        (
            "endorses https://elsewhere.example/achievements/9, not https://cairn.example/achievements/1",
            endorsement(34, "https://elsewhere.example/achievements/9", None),
            &["endorsements"],
        ),
        // The credential's own schema describes its endorsements too.
        ("shape: ", mistyped, &["shape", "endorsements"]),
    ];
    for (reason, bad, failing) in cases {
        let credential = endorsed(&issuer, |c| add_endorsement(&mut c["credentialSubject"]["achievement"], bad));
        let report = run(credential.to_string().as_bytes(), &StaticLoader::new());
        check(&report, Verdict::Invalid, failing);
        let detail = &endorsements_check(&report).unwrap().detail;
        assert!(detail.starts_with("an endorsement of the achievement by did:key:"), "{detail}");
        assert!(detail.contains(reason), "{reason}: {detail}");
    }
}

#[test]
fn an_endorsement_whose_key_cannot_be_had_leaves_the_verdict_open() {
    let issuer = issuer();
    let achievement_id = unsigned(&issuer, None)["credentialSubject"]["achievement"]["id"].as_str().unwrap().to_string();
    let key = Ed25519KeyPair::from_seed([35; 32]);
    let endorser = Issuer { file: KeyFile::new(&key, Some("endorser.example")), key };
    let mut unsigned_endorsement = endorsement(35, &achievement_id, None);
    unsigned_endorsement.as_object_mut().unwrap().remove("proof");
    unsigned_endorsement["issuer"]["id"] = json!(endorser.file.controller);
    let by_did_web = signed(&endorser, &unsigned_endorsement);
    let credential = endorsed(&issuer, |c| add_endorsement(&mut c["credentialSubject"]["achievement"], by_did_web));
    let report = run(credential.to_string().as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Indeterminate, &["endorsements"]);
    assert!(endorsements_check(&report).unwrap().detail.contains("did:web:endorser.example"), "{:#?}", report.checks);
}

#[test]
fn the_shape_check_is_the_official_schema_with_pointers() {
    let issuer = issuer();
    let report = run(signed(&issuer, &unsigned(&issuer, None)).to_string().as_bytes(), &StaticLoader::new());
    assert_eq!(report.checks[1].detail, "valid against the official OB 3.0 AchievementCredential JSON schema");

    let mut nameless = unsigned(&issuer, None);
    nameless["credentialSubject"]["achievement"].as_object_mut().unwrap().remove("name");
    let report = run(signed(&issuer, &nameless).to_string().as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Invalid, &["shape"]);
    assert_eq!(
        report.checks[1].detail,
        "not valid against the official OB 3.0 AchievementCredential JSON schema: /credentialSubject/achievement: \"name\" is a required property"
    );

    let mut broken = unsigned(&issuer, None);
    broken["validFrom"] = json!("yesterday");
    broken["credentialSubject"]["achievement"]["achievementType"] = json!("Trophy");
    broken["issuer"]["email"] = json!(42);
    broken["evidence"][0]["type"] = json!(["Proof"]);
    let mut report = Report { checks: Vec::new() };
    check_shape(&broken, &mut report);
    let detail = &report.checks[0].detail;
    assert!(detail.contains("/credentialSubject/achievement/achievementType: \"Trophy\" is not valid under any of the schemas"), "{detail}");
    assert!(detail.contains("/evidence/0/type: None of [\"Proof\"] are valid"), "{detail}");
    assert!(detail.ends_with("(and 1 more)"), "{detail}");
    assert_eq!(detail.matches("; /").count(), 2, "three errors are named: {detail}");
}

#[test]
fn clr_and_vc_1_1_credentials_get_the_shape_check_that_fits_them() {
    let clr: Value = serde_json::from_str(include_str!("../../tests/fixtures/di/clr2-ldp-test-vector/credential-signed.json")).unwrap();
    assert_eq!(crate::schemas::validate(crate::schemas::Schema::ClrCredential, &clr), Ok(()));
    let mut report = Report { checks: Vec::new() };
    check_shape(&clr, &mut report);
    assert_eq!(report.checks[0].detail, "valid against the official CLR 2.0 ClrCredential JSON schema");
    let mut empty = clr.clone();
    empty["credentialSubject"]["verifiableCredential"] = json!([]);
    let mut report = Report { checks: Vec::new() };
    check_shape(&empty, &mut report);
    assert_eq!(report.checks[0].ok, Some(false));
    assert!(report.checks[0].detail.contains("/credentialSubject/verifiableCredential"), "{}", report.checks[0].detail);

    let issuer = issuer();
    let mut v1 = unsigned(&issuer, None);
    v1["@context"] = json!(["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]);
    let mut report = Report { checks: Vec::new() };
    check_shape(&v1, &mut report);
    assert_eq!(report.checks[0].detail, "the credential has every required part (VC 1.1: no official schema applies)");
    v1.as_object_mut().unwrap().remove("validFrom");
    let mut report = Report { checks: Vec::new() };
    check_shape(&v1, &mut report);
    assert_eq!((report.checks[0].ok, report.checks[0].detail.as_str()), (Some(false), "validFrom is missing"));
}

fn tiny_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 1, 1);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0]).unwrap();
    }
    bytes
}
