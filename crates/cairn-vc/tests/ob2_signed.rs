//! OB 2.0 signed assertions through the verification pipeline: a JWS (RS256) whose key is a
//! `CryptographicKey` owned by the issuer, with the issuer's `RevocationList`. The RSA keys are
//! fixtures made once with OpenSSL (`tests/fixtures/ob2/SOURCES.md`).

use base64::Engine as _;
use cairn_vc::bake::{self, BakedPayload};
use cairn_vc::loader::StaticLoader;
use cairn_vc::verify::{Verdict, VerificationReport, VerifyOptions, verify};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const NOW: i64 = 1_795_000_000; // 2026-11-18
const ASSERTION: &str = "urn:uuid:0b6c8a52-6f1e-4d55-9d0c-3c1b2a9e7f10";
const BADGE: &str = "https://issuer.example/ob2/badges/1";
const ISSUER: &str = "https://issuer.example/ob2/issuers/1";
const KEY: &str = "https://issuer.example/ob2/keys/1";
const LIST: &str = "https://issuer.example/ob2/revocations";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/ob2/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The DER inside a PEM block (the private keys are PKCS #1, `RSA PRIVATE KEY`).
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn sign_with(assertion: &Value, private_key: &str, algorithm: Algorithm) -> String {
    let key = match algorithm {
        Algorithm::HS256 => EncodingKey::from_secret(fixture("issuer-key.pub.pem").as_bytes()),
        _ => EncodingKey::from_rsa_der(&pem_der(&fixture(private_key))),
    };
    jsonwebtoken::encode(&Header::new(algorithm), assertion, &key).unwrap()
}

fn sign(assertion: &Value) -> String {
    sign_with(assertion, "issuer-key.pem", Algorithm::RS256)
}

fn assertion() -> Value {
    json!({
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": ASSERTION,
        "recipient": {"type": "email", "hashed": false, "identity": "learner@example.org"},
        "badge": BADGE,
        "verification": {"type": "SignedBadge", "creator": KEY},
        "issuedOn": "2026-01-01T00:00:00Z",
        "expires": "2028-01-01T00:00:00Z",
    })
}

fn issuer() -> Value {
    json!({
        "@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": ISSUER, "name": "Northbridge",
        "url": "https://issuer.example", "publicKey": KEY, "revocationList": LIST,
    })
}

fn key_document(pem: &str) -> Value {
    json!({"@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey", "id": KEY, "owner": ISSUER, "publicKeyPem": pem})
}

fn revocations(revoked: Value) -> Value {
    json!({"@context": "https://w3id.org/openbadges/v2", "type": "RevocationList", "id": LIST, "issuer": ISSUER, "revokedAssertions": revoked})
}

/// Everything the issuer publishes, with `change` applied to the URL → document map first.
fn loader_with(change: impl FnOnce(&mut Vec<(&'static str, Value)>)) -> StaticLoader {
    let badge = json!({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": BADGE, "name": "B", "issuer": ISSUER});
    let mut documents = vec![
        (BADGE, badge),
        (ISSUER, issuer()),
        (KEY, key_document(&fixture("issuer-key.pub.pem"))),
        (LIST, revocations(json!(["urn:uuid:someone-else", {"id": "urn:uuid:another", "revocationReason": "x"}]))),
    ];
    change(&mut documents);
    documents.into_iter().fold(StaticLoader::new(), |loader, (url, document)| loader.with(url, &document))
}

fn loader() -> StaticLoader {
    loader_with(|_| {})
}

fn run(input: &[u8], loader: &StaticLoader) -> VerificationReport {
    verify(input, &VerifyOptions::new(loader, NOW).with_clock_skew(60))
}

/// The verdict, and the checks that did not pass with the first words of their detail.
#[track_caller]
fn check(report: &VerificationReport, verdict: Verdict, failing: &[(&str, &str)]) {
    let not_ok: Vec<(&str, &str)> = report.checks.iter().filter(|c| c.ok != Some(true)).map(|c| (c.id.as_str(), c.detail.as_str())).collect();
    assert_eq!(report.verdict, verdict, "{:#?}", report.checks);
    assert_eq!(not_ok.len(), failing.len(), "{:#?}", report.checks);
    for ((id, detail), (want_id, want_detail)) in not_ok.iter().zip(failing) {
        assert_eq!(id, want_id, "{:#?}", report.checks);
        assert!(detail.contains(want_detail), "{id}: {detail:?} lacks {want_detail:?}");
    }
}

#[test]
fn a_signed_assertion_verifies_with_every_check() {
    let report = run(sign(&assertion()).as_bytes(), &loader());
    check(&report, Verdict::Valid, &[]);
    assert_eq!(report.format, "ob2-signed");
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["format", "proof", "issuer", "valid_from", "valid_until", "status"]);
    assert_eq!(report.credential.as_ref().unwrap()["id"], ASSERTION);
}

#[test]
fn the_key_may_be_pkcs1_and_found_through_the_issuer_when_no_creator_is_named() {
    let pkcs1 = loader_with(|docs| docs[2].1 = key_document(&fixture("issuer-key.pkcs1.pub.pem")));
    check(&run(sign(&assertion()).as_bytes(), &pkcs1), Verdict::Valid, &[]);
    let mut anonymous = assertion();
    anonymous["verification"] = json!({"type": "SignedBadge"});
    check(&run(sign(&anonymous).as_bytes(), &loader()), Verdict::Valid, &[]);
    // OB 2.0 allows the issuer's publicKey as an embedded node or a list.
    let listed = loader_with(|docs| docs[1].1["publicKey"] = json!([{"id": "https://issuer.example/ob2/keys/0"}, {"id": KEY}]));
    check(&run(sign(&assertion()).as_bytes(), &listed), Verdict::Valid, &[]);
}

#[test]
fn tampered_foreign_and_weak_signatures_are_refused() {
    let token = sign(&assertion());
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut changed = assertion();
    changed["recipient"]["identity"] = json!("mallory@example.org");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(changed.to_string());
    check(&run(parts.join(".").as_bytes(), &loader()), Verdict::Invalid, &[("proof", "does not verify with the RSA-2048 key")]);

    let foreign = sign_with(&assertion(), "other-key.pem", Algorithm::RS256);
    check(&run(foreign.as_bytes(), &loader()), Verdict::Invalid, &[("proof", "does not verify")]);

    let weak = loader_with(|docs| docs[2].1 = key_document(&fixture("weak-key.pub.pem")));
    let weakly_signed = sign_with(&assertion(), "weak-key.pem", Algorithm::RS256);
    check(&run(weakly_signed.as_bytes(), &weak), Verdict::Invalid, &[("proof", "1024 bits")]);

    let garbled = loader_with(|docs| docs[2].1 = key_document("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----"));
    check(&run(token.as_bytes(), &garbled), Verdict::Invalid, &[("proof", "not an RSA public key")]);

    let hmac = sign_with(&assertion(), "", Algorithm::HS256);
    check(&run(hmac.as_bytes(), &loader()), Verdict::Invalid, &[("proof", "\"HS256\"; OB 2.0 signed badges use RS256")]);

    let mut hosted = assertion();
    hosted["verification"] = json!({"type": "hosted"});
    check(&run(sign(&hosted).as_bytes(), &loader()), Verdict::Invalid, &[("proof", "\"hosted\", not SignedBadge")]);
}

#[test]
fn the_key_must_belong_to_the_issuer_both_ways() {
    let token = sign(&assertion());
    let stolen = loader_with(|docs| docs[2].1["owner"] = json!("https://mallory.example/issuer"));
    check(&run(token.as_bytes(), &stolen), Verdict::Invalid, &[("issuer", "belongs to https://mallory.example/issuer, not to the issuer")]);
    let unlisted = loader_with(|docs| docs[1].1["publicKey"] = json!("https://issuer.example/ob2/keys/0"));
    check(&run(token.as_bytes(), &unlisted), Verdict::Invalid, &[("issuer", "does not list the key")]);
    let moved = loader_with(|docs| docs[2].1["id"] = json!("https://issuer.example/ob2/keys/9"));
    check(&run(token.as_bytes(), &moved), Verdict::Invalid, &[("proof", "has another id")]);
}

#[test]
fn expired_and_future_assertions_are_invalid() {
    let mut expired = assertion();
    expired["expires"] = json!("2026-06-01T00:00:00Z");
    check(&run(sign(&expired).as_bytes(), &loader()), Verdict::Invalid, &[("valid_until", "expired on 2026-06-01")]);
    let mut future = assertion();
    future["issuedOn"] = json!("2027-01-01T00:00:00Z");
    check(&run(sign(&future).as_bytes(), &loader()), Verdict::Invalid, &[("valid_from", "not issued until 2027-01-01")]);
}

#[test]
fn the_revocation_list_revokes_with_its_reason() {
    let token = sign(&assertion());
    let by_id = loader_with(|docs| docs[3].1 = revocations(json!(["urn:uuid:someone-else", ASSERTION])));
    check(&run(token.as_bytes(), &by_id), Verdict::Invalid, &[("status", "revoked by the issuer")]);
    let with_reason = loader_with(|docs| docs[3].1 = revocations(json!([{"id": ASSERTION, "revocationReason": "awarded in error"}])));
    check(&run(token.as_bytes(), &with_reason), Verdict::Invalid, &[("status", "revoked: awarded in error")]);
    // JSON-LD compaction turns a one-element list into the element itself.
    let compacted = loader_with(|docs| docs[3].1 = revocations(json!({"id": ASSERTION, "revocationReason": "compacted"})));
    check(&run(token.as_bytes(), &compacted), Verdict::Invalid, &[("status", "revoked: compacted")]);
    let no_list = loader_with(|docs| {
        docs[1].1.as_object_mut().unwrap().remove("revocationList");
    });
    let report = run(token.as_bytes(), &no_list);
    check(&report, Verdict::Valid, &[]);
    assert!(report.checks.iter().all(|c| c.id != "status"));
}

#[test]
fn what_cannot_be_fetched_leaves_the_verdict_open() {
    let token = sign(&assertion());
    let no_revocations = loader_with(|docs| docs.retain(|(url, _)| *url != LIST));
    check(&run(token.as_bytes(), &no_revocations), Verdict::Indeterminate, &[("status", "revocation list could not be loaded")]);
    let not_a_list = loader_with(|docs| docs[3].1 = json!({"type": "Issuer"}));
    check(&run(token.as_bytes(), &not_a_list), Verdict::Indeterminate, &[("status", "is not a RevocationList")]);
    let no_key = loader_with(|docs| docs.retain(|(url, _)| *url != KEY));
    check(&run(token.as_bytes(), &no_key), Verdict::Indeterminate, &[("proof", "the key https://issuer.example/ob2/keys/1 could not be loaded")]);
    let no_issuer = loader_with(|docs| docs.retain(|(url, _)| *url != ISSUER));
    check(&run(token.as_bytes(), &no_issuer), Verdict::Indeterminate, &[("issuer", "the issuer could not be loaded")]);
}

#[test]
fn baked_signed_badges_route_to_the_signed_path() {
    let token = sign(&assertion());
    let bake_dir = format!("{}/tests/fixtures/bake", env!("CARGO_MANIFEST_DIR"));
    for (image, prefix) in [("base.png", "png"), ("base.svg", "svg")] {
        let image = std::fs::read(format!("{bake_dir}/{image}")).unwrap();
        let baked = bake::bake(&image, &BakedPayload::Ob2Jws(token.clone())).unwrap();
        let report = run(&baked, &loader());
        check(&report, Verdict::Valid, &[]);
        assert_eq!(report.format, format!("{prefix}+ob2-signed"));
    }
    // Baked by openbadgeslib with a throwaway key that was never published: the path is the
    // signed one, and the key cannot be had.
    for peer in ["ob2-openbadgeslib-jws.png", "ob2-openbadgeslib-jws.svg", "ob2-bakery-jws.png"] {
        let report = run(&std::fs::read(format!("{bake_dir}/{peer}")).unwrap(), &StaticLoader::new());
        assert!(report.format.ends_with("+ob2-signed"), "{peer}: {}", report.format);
        assert_eq!(report.verdict, Verdict::Indeterminate, "{peer}: {:#?}", report.checks);
    }
}

#[test]
fn a_bare_signed_assertion_is_not_taken_for_a_hosted_one() {
    let report = run(assertion().to_string().as_bytes(), &loader());
    check(&report, Verdict::Indeterminate, &[("proof", "verify the JWS it was signed as")]);
}
