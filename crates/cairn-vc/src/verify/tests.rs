use super::*;
use crate::keys::{Ed25519KeyPair, KeyFile};
use crate::loader::StaticLoader;
use crate::ob3::{EndorsementInput, Profile, Recipient, add_endorsement, endorsement_credential, open_badge_credential};
use crate::schemas::SchemaError;
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

/// The time the tests judge at.
const LATER: i64 = NOW + 400 * 86_400;

fn run(input: &[u8], loader: &dyn DocumentLoader) -> VerificationReport {
    verify(input, &VerifyOptions::new(loader, LATER).with_clock_skew(60))
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
    broken["credentialSubject"]["achievement"]["name"] = json!(7);
    broken["credentialSubject"]["achievement"]["description"] = json!(["not", "text"]);
    let mut report = Report::new(false);
    check_shape(&broken, &mut report);
    let shape = &report.checks[0];
    // Structural errors fail and are named, three at most.
    assert_eq!(shape.ok, Some(false));
    assert!(shape.detail.contains("/credentialSubject/achievement/name: 7 is not of type \"string\""), "{}", shape.detail);
    // An issuer that is not a valid Profile is judged at the issuer itself, where the verdict rests.
    assert!(shape.detail.contains("; /issuer: {"), "{}", shape.detail);
    assert!(shape.detail.ends_with("(and 1 more)"), "{}", shape.detail);
    assert_eq!(shape.detail.matches("; /").count(), 2, "three errors are named: {}", shape.detail);
    // Terms outside the schema's lists are warnings beside them.
    assert_eq!(shape.warnings.len(), 2, "{:#?}", shape.warnings);
    assert!(
        shape.warnings[0].starts_with("/credentialSubject/achievement/achievementType: \"Trophy\" is not valid under any of the schemas"),
        "{:?}",
        shape.warnings
    );
    assert!(shape.warnings[1].starts_with("/evidence/0/type: None of [\"Proof\"] are valid"), "{:?}", shape.warnings);
}

#[test]
fn clr_and_vc_1_1_credentials_get_the_shape_check_that_fits_them() {
    let clr: Value = serde_json::from_str(include_str!("../../tests/fixtures/di/clr2-ldp-test-vector/credential-signed.json")).unwrap();
    assert_eq!(crate::schemas::validate(crate::schemas::Schema::ClrCredential, &clr), Ok(()));
    let mut report = Report::new(false);
    check_shape(&clr, &mut report);
    assert_eq!(report.checks[0].detail, "valid against the official CLR 2.0 ClrCredential JSON schema");
    let mut empty = clr.clone();
    empty["credentialSubject"]["verifiableCredential"] = json!([]);
    let mut report = Report::new(false);
    check_shape(&empty, &mut report);
    assert_eq!(report.checks[0].ok, Some(false));
    assert!(report.checks[0].detail.contains("/credentialSubject/verifiableCredential"), "{}", report.checks[0].detail);

    let issuer = issuer();
    let mut v1 = unsigned(&issuer, None);
    v1["@context"] = json!(["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]);
    let mut report = Report::new(false);
    check_shape(&v1, &mut report);
    assert_eq!(report.checks[0].detail, "the credential has every required part (VC 1.1: no official schema applies)");
    v1.as_object_mut().unwrap().remove("validFrom");
    let mut report = Report::new(false);
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

// ---------------------------------------------------------------------------------------------
// Bounded fan-out: work is counted in loader calls.

/// A loader that records every URL asked for.
struct Counting {
    inner: StaticLoader,
    calls: std::sync::Mutex<Vec<String>>,
}

impl Counting {
    fn new(inner: StaticLoader) -> Self {
        Counting { inner, calls: std::sync::Mutex::default() }
    }

    /// How many times a URL starting with `prefix` was asked for.
    fn count(&self, prefix: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|url| url.starts_with(prefix)).count()
    }
}

impl DocumentLoader for Counting {
    fn load(&self, url: &str) -> Result<crate::loader::LoadedDocument, crate::loader::LoadError> {
        self.calls.lock().unwrap().push(url.to_owned());
        self.inner.load(url)
    }
}

/// An issuer whose key is published as a `did:web` document, so that each proof by it costs one
/// loader call.
fn web_issuer(seed: u8, host: &str) -> Issuer {
    let key = Ed25519KeyPair::from_seed([seed; 32]);
    Issuer { file: KeyFile::new(&key, Some(host)), key }
}

/// A status list at `url` by `issuer`, with the entries in `set` revoked.
fn status_list(issuer: &Issuer, url: &str, set: &[usize]) -> Value {
    let mut bits = StatusList::new(0);
    for &index in set {
        bits.set(index, true).unwrap();
    }
    signed(issuer, &list_credential(url, &issuer.file.controller, StatusPurpose::Revocation, &bits, "2026-11-01T00:00:00Z"))
}

#[test]
fn status_entries_past_the_cap_are_not_looked_up() {
    let issuer = issuer();
    let mut credential = unsigned(&issuer, None);
    let entries: Vec<Value> = (0..40).map(|n| status_entry(&format!("https://issuer.example/status/{n}"), 1, StatusPurpose::Revocation)).collect();
    credential["credentialStatus"] = Value::Array(entries);
    let loader = Counting::new(StaticLoader::new());
    let report = run(signed(&issuer, &credential).to_string().as_bytes(), &loader);
    assert_eq!(loader.count("https://issuer.example/status/"), MAX_STATUS_ENTRIES);
    // (The OB 3.0 schema wants one status object, so the shape fails too.)
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(report.checks.iter().filter(|c| c.id == "status").all(|c| c.ok.is_none()), "{:#?}", report.checks);
    let last = report.checks.iter().rfind(|c| c.id == "status").unwrap();
    assert_eq!(last.detail, "status unknown: the credential has 40 status entries; only the first 8 were checked");
}

#[test]
fn a_list_is_loaded_and_verified_once_per_verification() {
    let issuer = web_issuer(21, "issuer.example");
    let url = "https://issuer.example/status/1";
    let mut credential = unsigned(&issuer, None);
    credential["credentialStatus"] = json!([
        status_entry(url, 3, StatusPurpose::Revocation),
        status_entry(url, 4, StatusPurpose::Revocation),
        status_entry(url, 5, StatusPurpose::Revocation),
    ]);
    let loader = Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()).with(url, &status_list(&issuer, url, &[4])));
    let report = run(signed(&issuer, &credential).to_string().as_bytes(), &loader);
    check(&report, Verdict::Invalid, &["status"]);
    assert_eq!(report.checks.iter().filter(|c| c.id == "status").count(), 3);
    assert_eq!(loader.count(url), 1);
    // One DID document for the credential's proof, one for the list's: not one per entry.
    assert_eq!(loader.count(&issuer.file.controller), 2);
}

#[test]
fn a_status_list_cache_spares_later_verifications_the_list() {
    let issuer = web_issuer(22, "issuer.example");
    let url = "https://issuer.example/status/2";
    let credentials: Vec<String> =
        (0..3).map(|n| signed(&issuer, &unsigned(&issuer, Some(status_entry(url, n, StatusPurpose::Revocation)))).to_string()).collect();
    let loader = Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()).with(url, &status_list(&issuer, url, &[1])));
    let cache = StatusListCache::new(600);
    let verdicts: Vec<Verdict> =
        credentials.iter().map(|credential| verify(credential.as_bytes(), &VerifyOptions::new(&loader, LATER).with_status_lists(&cache)).verdict).collect();
    assert_eq!(verdicts, [Verdict::Valid, Verdict::Invalid, Verdict::Valid]);
    assert_eq!((loader.count(url), cache.len()), (1, 1));
    // Three proofs, and one list verification in all.
    assert_eq!(loader.count(&issuer.file.controller), 4);

    // Past its maximum age the list is loaded and verified again.
    let report = verify(credentials[0].as_bytes(), &VerifyOptions::new(&loader, LATER + 600).with_status_lists(&cache));
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
    assert_eq!((loader.count(url), loader.count(&issuer.file.controller)), (2, 6));
    assert!(cache.remove(url) && cache.is_empty());

    // A list whose proof fails is not kept.
    let mut tampered = status_list(&issuer, url, &[]);
    tampered["credentialSubject"]["encodedList"] = json!(StatusList::new(0).encode());
    tampered["validFrom"] = json!("2026-11-02T00:00:00Z");
    let forged = Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()).with(url, &tampered));
    for _ in 0..2 {
        let report = verify(credentials[0].as_bytes(), &VerifyOptions::new(&forged, LATER).with_status_lists(&cache));
        check(&report, Verdict::Invalid, &["status"]);
    }
    assert_eq!((forged.count(url), cache.len()), (2, 0));
    // A list that verifies is kept even when it is another issuer's; it is judged at each use.
    let foreign =
        Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()).with(url, &status_list(&self::issuer(), url, &[])));
    for _ in 0..2 {
        let report = verify(credentials[0].as_bytes(), &VerifyOptions::new(&foreign, LATER).with_status_lists(&cache));
        check(&report, Verdict::Invalid, &["status"]);
        assert!(report.checks.iter().any(|c| c.detail == format!("the status list {url} is not signed by the credential's issuer")));
    }
    assert_eq!((foreign.count(url), cache.len()), (1, 1));
}

#[test]
fn no_status_list_is_loaded_for_a_credential_whose_proof_failed() {
    let issuer = issuer();
    let url = "https://issuer.example/status/3";
    let mut tampered = signed(&issuer, &unsigned(&issuer, Some(status_entry(url, 1, StatusPurpose::Revocation))));
    tampered["name"] = json!("Something else");
    let loader = Counting::new(StaticLoader::new().with(url, &status_list(&issuer, url, &[])));
    let report = run(tampered.to_string().as_bytes(), &loader);
    check(&report, Verdict::Invalid, &["proof", "status"]);
    assert_eq!(loader.count(url), 0);
    let status = report.checks.iter().find(|c| c.id == "status").unwrap();
    assert_eq!((status.ok, status.detail.as_str()), (None, "not checked: the proof failed, so no status list can speak for this credential"));
}

#[test]
fn status_lists_secured_as_vc_jwt_are_read_like_json_ones() {
    let issuer = issuer();
    let url = "https://issuer.example/status/jwt";
    let credential = signed(&issuer, &unsigned(&issuer, Some(status_entry(url, 7, StatusPurpose::Revocation)))).to_string();
    let list_token = |set: bool, by: &Issuer| {
        let mut bits = StatusList::new(0);
        bits.set(7, set).unwrap();
        let mut list = list_credential(url, &by.file.controller, StatusPurpose::Revocation, &bits, "2026-11-01T00:00:00Z");
        list["validUntil"] = json!("2030-01-01T00:00:00Z");
        crate::suites::vc_jwt::sign(&list, &by.key, &by.file.id).unwrap()
    };
    let with = |token: String| StaticLoader::new().with_json(url, token);
    check(&run(credential.as_bytes(), &with(list_token(false, &issuer))), Verdict::Valid, &[]);
    let revoked = run(credential.as_bytes(), &with(list_token(true, &issuer)));
    check(&revoked, Verdict::Invalid, &["status"]);
    assert_eq!(revoked.checks.iter().find(|c| c.id == "status").unwrap().detail, "revoked by the issuer");
    // Signed by someone else: not believed.
    let other = Issuer { file: KeyFile::new(&Ed25519KeyPair::from_seed([14; 32]), None), key: Ed25519KeyPair::from_seed([14; 32]) };
    check(&run(credential.as_bytes(), &with(list_token(false, &other))), Verdict::Invalid, &["status"]);
    // A forged signature fails; an expired list leaves the status unknown.
    let mut forged = list_token(false, &issuer);
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    check(&run(credential.as_bytes(), &with(forged)), Verdict::Invalid, &["status"]);
    let expired = verify(credential.as_bytes(), &VerifyOptions::new(&with(list_token(false, &issuer)), 1_900_000_000));
    let status = expired.checks.iter().find(|c| c.id == "status").unwrap();
    assert_eq!(status.ok, None, "{status:?}");
    assert!(status.detail.contains("is outside its validity period"), "{}", status.detail);
}

#[test]
fn endorsements_past_the_cap_are_not_verified() {
    let issuer = issuer();
    let credential_id = unsigned(&issuer, None)["id"].as_str().unwrap().to_string();
    let mut loader = StaticLoader::new();
    let credential = endorsed(&issuer, |c| {
        for n in 0..20_u8 {
            let endorser = web_issuer(100 + n, &format!("endorser{n}.example"));
            loader.insert(endorser.file.controller.clone(), &endorser.file.did_document());
            let mut endorsement = endorsement(100 + n, &credential_id, None);
            endorsement.as_object_mut().unwrap().remove("proof");
            endorsement["issuer"]["id"] = json!(endorser.file.controller);
            add_endorsement(c, signed(&endorser, &endorsement));
        }
    });
    let loader = Counting::new(loader);
    let report = run(credential.to_string().as_bytes(), &loader);
    assert_eq!(loader.count("did:web:endorser"), MAX_ENDORSEMENTS);
    check(&report, Verdict::Indeterminate, &["endorsements"]);
    assert_eq!(endorsements_check(&report).unwrap().detail, "20 endorsements; only the first 16 were checked");
}

/// A VC-JWT credential by `issuer` (a `did:web`, so that checking it loads one DID document).
fn jwt_credential(issuer: &Issuer, extra: impl FnOnce(&mut Value)) -> String {
    let mut credential = unsigned(issuer, None);
    extra(&mut credential);
    crate::suites::vc_jwt::sign(&credential, &issuer.key, &issuer.file.id).unwrap()
}

/// A compact JWS whose key is the `did:web` document `n` of `host`: checking it loads that
/// document, and nothing else (the signature is never reached).
fn token_naming(host: &str, n: usize) -> String {
    use base64::Engine as _;
    let encode = |value: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let did = format!("did:web:{host}:k:{n}");
    format!("{}.{}.AAAA", encode(json!({"alg": "EdDSA", "kid": format!("{did}#key-1")})), encode(json!({"issuer": did})))
}

#[test]
fn a_clr_verifies_at_most_the_capped_credentials_and_one_run_at_most_its_budget() {
    let issuer = web_issuer(23, "clr.example");
    let loader = Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()));
    let clr = |nested: Vec<Value>| json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "ClrCredential"], "credentialSubject": {"verifiableCredential": nested}});

    let token = jwt_credential(&issuer, |_| {});
    let report = run(clr(vec![Value::String(token); MAX_NESTED_CREDENTIALS + 5]).to_string().as_bytes(), &loader);
    assert_eq!(loader.count(&issuer.file.controller), MAX_NESTED_CREDENTIALS);
    let over = report.checks.iter().find(|c| c.id == "credentials").unwrap();
    assert_eq!((over.ok, over.detail.as_str()), (None, "the CLR holds 105 credentials; only the first 100 were checked"));

    // 100 credentials with 3 endorsements each would be 401 documents: the run stops at its budget.
    let endorsed = |n: usize| {
        let tokens: Vec<Value> = (0..3).map(|k| Value::String(token_naming("endorsers.example", n * 3 + k))).collect();
        Value::String(jwt_credential(&issuer, |c| c["endorsementJwt"] = Value::Array(tokens)))
    };
    let loader = Counting::new(StaticLoader::new().with(&issuer.file.controller, &issuer.file.did_document()));
    let report = run(clr((0..MAX_NESTED_CREDENTIALS).map(endorsed).collect()).to_string().as_bytes(), &loader);
    let documents = loader.count(&issuer.file.controller) + loader.count("did:web:endorsers.example");
    assert_eq!(documents, MAX_CREDENTIALS_PER_RUN - 1, "every credential but the CLR itself loads one DID document");
    assert!(
        report.checks.iter().any(|c| c.ok.is_none() && c.detail.contains("already checked 256 credentials, the most one verification checks")),
        "{:#?}",
        report.checks.iter().filter(|c| c.ok.is_none()).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// Warnings and strict

#[test]
fn a_term_outside_the_schema_lists_is_a_warning_and_strict_makes_it_a_failure() {
    let issuer = issuer();
    let mut credential = unsigned(&issuer, None);
    credential["credentialSubject"]["achievement"]["alignment"] = json!([{"type": ["Alignment"], "targetName": "Skill", "targetUrl": "https://credentialengineregistry.org/resources/ce-1", "targetType": "ceterms:Skill"}]);
    let bytes = signed(&issuer, &credential).to_string();
    let report = run(bytes.as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Valid, &[]);
    let shape = &report.checks[1];
    assert_eq!(shape.outcome(), CheckOutcome::Warning);
    assert_eq!(shape.detail, "valid against the official OB 3.0 AchievementCredential JSON schema but for 1 deviation that does not change what it means");
    assert_eq!(shape.warnings.len(), 1);
    assert!(shape.warnings[0].starts_with("/credentialSubject/achievement/alignment/0/targetType: \"ceterms:Skill\""), "{:?}", shape.warnings);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][1]["warnings"].as_array().map(Vec::len), Some(1));
    assert!(json["checks"][0].get("warnings").is_none(), "no warnings, no member");

    let strict = verify(bytes.as_bytes(), &VerifyOptions::new(&StaticLoader::new(), LATER).strict(true));
    check(&strict, Verdict::Invalid, &["shape"]);
    assert!(strict.checks[1].detail.ends_with("(strict: its warnings are failures)"), "{}", strict.checks[1].detail);
}

#[test]
fn only_vocabulary_errors_away_from_what_the_verdict_rests_on_are_warnings() {
    let error = |pointer: &str, vocabulary: bool| SchemaError { pointer: pointer.into(), message: String::new(), keyword: String::new(), vocabulary };
    for (pointer, warning) in [
        ("/credentialSubject/achievement/alignment/0/targetType", true),
        ("/credentialSubject/achievement/achievementType", true),
        ("/evidence/0/type", true),
        ("/issuer/email", true),
        ("/credentialSubject/achievement/creator/url", true),
        ("", false),
        ("/type", false),
        ("/type/1", false),
        ("/id", false),
        ("/@context/0", false),
        ("/issuer", false),
        ("/issuer/id", false),
        ("/credentialSubject", false),
        ("/credentialSubject/type", false),
        ("/credentialSubject/achievement", false),
        ("/credentialSubject/achievement/type", false),
        ("/validFrom", false),
        ("/validUntil", false),
        ("/proof/0/cryptosuite", false),
        ("/credentialStatus/0/statusPurpose", false),
        ("/credentialSchema/0/type", false),
        // An endorsement or a CLR's credential is a credential of its own.
        ("/credentialSubject/achievement/endorsement/0/type", false),
        ("/credentialSubject/achievement/endorsement/0/validFrom", false),
        ("/credentialSubject/achievement/endorsement/0/credentialSubject/endorsementComment", true),
        ("/credentialSubject/verifiableCredential/3/issuer/id", false),
        ("/credentialSubject/verifiableCredential/3/credentialSubject/achievement/alignment/0/targetType", true),
        ("/credentialSubject/verifiableCredential/3", false),
    ] {
        assert_eq!(meaning_preserving(&error(pointer, true)), warning, "{pointer}");
        assert!(!meaning_preserving(&error(pointer, false)), "{pointer}: a structural error is never a warning");
    }
    // A wrong JSON type is structural wherever it is.
    let issuer = issuer();
    let mut credential = unsigned(&issuer, None);
    credential["credentialSubject"]["achievement"]["alignment"] =
        json!([{"type": ["Alignment"], "targetName": "Skill", "targetUrl": "https://example.org/s", "targetType": 42}]);
    let mut report = Report::new(false);
    check_shape(&credential, &mut report);
    assert_eq!(report.checks[0].ok, Some(false), "{:?}", report.checks[0]);
}

#[test]
fn jwt_warnings_ride_on_their_checks() {
    let issuer = issuer();
    let mut credential = unsigned(&issuer, None);
    credential["credentialSubject"].as_object_mut().unwrap().remove("id");
    credential["credentialSubject"]["identifier"] =
        json!([{"type": "IdentityObject", "identityType": "emailAddress", "hashed": false, "identityHash": "learner@example.org"}]);
    let token = crate::suites::vc_jwt::sign(&credential, &issuer.key, &issuer.file.id).unwrap();
    let report = run(token.as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Valid, &[]);
    assert!(report.checks.iter().all(|c| c.warnings.is_empty()), "{:#?}", report.checks);
    // A VC-JWT 1.1 token (the credential under "vc") is read, with a warning on jwt.credential.
    use base64::Engine as _;
    let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let header = json!({"alg": "EdDSA", "kid": issuer.file.id});
    let valid_from = time::OffsetDateTime::parse(credential["validFrom"].as_str().unwrap(), &Rfc3339).unwrap().unix_timestamp();
    let valid_until = time::OffsetDateTime::parse(credential["validUntil"].as_str().unwrap(), &Rfc3339).unwrap().unix_timestamp();
    let payload = json!({"vc": credential, "iss": issuer.file.controller, "jti": credential["id"], "nbf": valid_from, "exp": valid_until});
    let input = format!("{}.{}", encode(&header), encode(&payload));
    let legacy = format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(issuer.key.sign(input.as_bytes())));
    let report = run(legacy.as_bytes(), &StaticLoader::new());
    let credential_check = report.checks.iter().find(|c| c.id == "jwt.credential").unwrap();
    assert_eq!(credential_check.outcome(), CheckOutcome::Warning, "{:#?}", report.checks);
    assert!(credential_check.warnings[0].contains("VC-JWT 1.1"), "{:?}", credential_check.warnings);
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
    let strict = verify(legacy.as_bytes(), &VerifyOptions::new(&StaticLoader::new(), LATER).strict(true));
    assert_eq!(strict.verdict, Verdict::Invalid);
}

#[test]
fn text_inputs_are_bounded_before_they_are_parsed() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_TEXT_BYTES));
    let report = run(big.as_bytes(), &StaticLoader::new());
    check(&report, Verdict::Invalid, &["format"]);
    assert!(report.checks[0].detail.contains("over the limit of 2097152"), "{}", report.checks[0].detail);
}

#[test]
fn a_status_list_cache_keeps_to_its_memory_bound() {
    let issuer = issuer();
    let urls = ["https://issuer.example/status/a", "https://issuer.example/status/b"];
    let loader = StaticLoader::new().with(urls[0], &status_list(&issuer, urls[0], &[])).with(urls[1], &status_list(&issuer, urls[1], &[]));
    // One list of the minimum size is 16 KiB of bits.
    let cache = StatusListCache::new(600).with_max_bytes(20_000);
    for url in urls {
        let credential = signed(&issuer, &unsigned(&issuer, Some(status_entry(url, 1, StatusPurpose::Revocation))));
        check(&verify(credential.to_string().as_bytes(), &VerifyOptions::new(&loader, LATER).with_status_lists(&cache)), Verdict::Valid, &[]);
    }
    assert_eq!(cache.len(), 1);
    assert!(cache.get(urls[1], LATER).is_some() && cache.get(urls[0], LATER).is_none());
    assert!(format!("{cache:?}").starts_with("StatusListCache { max_age_secs: 600, max_bytes: 20000, lists: 1, bytes: "));
}

/// A signed list at `url` by `issuer` for `purpose`, with the entries in `set` set.
fn purpose_list(issuer: &Issuer, url: &str, purpose: StatusPurpose, set: &[usize]) -> Value {
    let mut bits = StatusList::new(0);
    for &index in set {
        bits.set(index, true).unwrap();
    }
    signed(issuer, &list_credential(url, &issuer.file.controller, purpose, &bits, "2026-11-01T00:00:00Z"))
}

#[test]
fn a_revocation_and_a_suspension_entry_are_each_checked_and_the_set_is_a_warning() {
    let issuer = issuer();
    let (revocation, suspension) = ("https://issuer.example/status/r", "https://issuer.example/status/s");
    let entries = json!([status_entry(revocation, 7, StatusPurpose::Revocation), status_entry(suspension, 7, StatusPurpose::Suspension)]);
    let bytes = signed(&issuer, &unsigned(&issuer, Some(entries.clone()))).to_string();
    let loader = |revoked: &[usize], suspended: &[usize]| {
        StaticLoader::new()
            .with(revocation, &purpose_list(&issuer, revocation, StatusPurpose::Revocation, revoked))
            .with(suspension, &purpose_list(&issuer, suspension, StatusPurpose::Suspension, suspended))
    };

    let clear = run(bytes.as_bytes(), &loader(&[], &[]));
    check(&clear, Verdict::Valid, &[]);
    assert_eq!(clear.checks.iter().filter(|c| c.id == "status" && c.ok == Some(true)).count(), 2, "{:#?}", clear.checks);
    let shape = clear.checks.iter().find(|c| c.id == "shape").unwrap();
    assert_eq!(
        shape.warnings,
        ["/credentialStatus: 2 status entries; VC 2.0 allows a set, the official schema describes one entry, so each was checked against its CredentialStatus"]
    );
    let strict = verify(bytes.as_bytes(), &VerifyOptions::new(&loader(&[], &[]), LATER).with_clock_skew(60).strict(true));
    assert_eq!(strict.verdict, Verdict::Invalid, "strict: the set departs from the schema");

    let suspended = run(bytes.as_bytes(), &loader(&[], &[7]));
    check(&suspended, Verdict::Invalid, &["status"]);
    assert!(suspended.checks.iter().any(|c| c.id == "status" && c.detail == "suspended by the issuer"), "{:#?}", suspended.checks);
    let revoked = run(bytes.as_bytes(), &loader(&[7], &[]));
    assert!(revoked.checks.iter().any(|c| c.id == "status" && c.detail == "revoked by the issuer"), "{:#?}", revoked.checks);
    assert_eq!(revoked.verdict, Verdict::Invalid);

    // Each entry of the set is held to the schema's CredentialStatus: a broken second one fails.
    let mut broken = entries;
    broken[1].as_object_mut().unwrap().remove("id");
    let broken = run(signed(&issuer, &unsigned(&issuer, Some(broken))).to_string().as_bytes(), &loader(&[], &[]));
    let shape = broken.checks.iter().find(|c| c.id == "shape").unwrap();
    assert_eq!(shape.ok, Some(false), "{shape:?}");
    assert!(shape.detail.contains("/credentialStatus/1: \"id\" is a required property"), "{shape:?}");
}

#[test]
fn a_clr_as_a_vc_jwt_verifies_each_of_its_credentials() {
    let issuer = issuer();
    let nested = signed(&issuer, &unsigned(&issuer, None));
    let clr = |credential: Value| {
        crate::clr::clr_credential(&crate::clr::ClrInput {
            id: "urn:uuid:7".into(),
            name: "Transcript".into(),
            issuer: Profile { id: issuer.file.controller.clone(), name: "Issuer".into(), url: None, email: None, description: None, image: None },
            valid_from: "2026-11-22T10:00:00Z".into(),
            subject: Recipient::Id("did:example:learner".into()),
            credentials: vec![credential],
            associations: Vec::new(),
            partial: false,
        })
    };
    let token = crate::suites::vc_jwt::sign(&clr(nested.clone()), &issuer.key, &issuer.file.id).unwrap();
    let report = run(token.as_bytes(), &StaticLoader::new());
    assert_eq!((report.verdict, report.format.as_str()), (Verdict::Valid, "clr-jwt"), "{:#?}", report.checks);
    assert!(report.checks.iter().any(|c| c.id == "credential[0].proof" && c.ok == Some(true)), "{:#?}", report.checks);
    assert_eq!(report.format_label(), "CLR 2.0 transcript (VC-JWT)");

    let mut forged = nested;
    forged["name"] = json!("Something else");
    let token = crate::suites::vc_jwt::sign(&clr(forged), &issuer.key, &issuer.file.id).unwrap();
    let report = run(token.as_bytes(), &StaticLoader::new());
    assert_eq!(report.verdict, Verdict::Invalid, "{:#?}", report.checks);
    assert!(report.checks.iter().any(|c| c.id == "credential[0].proof" && c.ok == Some(false)), "{:#?}", report.checks);
}
