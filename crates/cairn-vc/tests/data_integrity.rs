//! Conformance of Data Integrity `eddsa-rdfc-2022`: the OB 3.0 and CLR 2.0 signing test vectors byte for
//! byte, signed fixtures from other implementations, tampering, hostile inputs and round trips.
//! Fixtures and their sources: `tests/fixtures/di/SOURCES.md`.

use cairn_vc::canon::{self, CanonError, CanonLimits};
use cairn_vc::did;
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::loader::{BundledLoader, DocumentLoader, StaticLoader};
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, DiError, Ed25519Signer, ProofFailure, ProofOptions, Signer, SignerError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

macro_rules! fixture {
    ($path:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!("fixtures/di/", $path))).expect($path)
    };
}

/// The test-vector key of the OB 3.0 Implementation Guide (public test material).
const TEST_KEY: &str = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi";

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

/// A controller document (an issuer profile or DID document) listing `key` as `controller#key` for
/// assertions, as the fixtures' `https://…/issuers/…#z6Mk…` verification methods need.
fn controller_document(controller: &str, key: &str) -> Value {
    let method = format!("{controller}#{key}");
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": controller,
        "verificationMethod": [{"id": method, "type": "Multikey", "controller": controller, "publicKeyMultibase": key}],
        "assertionMethod": [method],
    })
}

fn test_vector_issuers() -> StaticLoader {
    StaticLoader::new()
        .with("https://example.edu/issuers/565049", &controller_document("https://example.edu/issuers/565049", TEST_KEY))
        .with("https://example.com/issuers/876543", &controller_document("https://example.com/issuers/876543", TEST_KEY))
}

struct Vector {
    unsigned: Value,
    signed: Value,
    proof_options: Value,
    values: Value,
    document_canon: &'static str,
    proof_canon: &'static str,
}

/// Signing the unsigned credential with the vector's key and options reproduces every intermediate value
/// and the signed credential.
#[track_caller]
fn check_vector(vector: Vector) {
    let value = |name: &str| vector.values[name].as_str().unwrap().to_owned();
    let secret = unhex(&value("privateKeyHex_ed25519_expanded_64bytes_seed_then_pub"));
    let key = Ed25519KeyPair::from_seed(secret[..32].try_into().unwrap());
    assert_eq!(hex(&key.public_key()), value("publicKeyHex"));
    assert_eq!(key.public_key_multibase(), value("publicKeyMultibase"));

    let input = eddsa::signing_input(&vector.unsigned, &vector.proof_options, &BundledLoader, &CanonLimits::default()).unwrap();
    assert_eq!(input.canonical_document, vector.document_canon);
    assert_eq!(input.canonical_proof_config, vector.proof_canon);
    assert_eq!(hex(&Sha256::digest(&input.canonical_document)), value("documentHashHex"));
    assert_eq!(hex(&Sha256::digest(&input.canonical_proof_config)), value("proofHashHex"));
    assert_eq!(hex(&input.hash_data), value("dataToSignHex (proofHash||documentHash)"));

    let options = ProofOptions::assertion(vector.proof_options["created"].as_str().unwrap());
    let signer = Ed25519Signer::new(key, vector.proof_options["verificationMethod"].as_str().unwrap());
    let signed = eddsa::sign(&vector.unsigned, &signer, &options, &BundledLoader).unwrap();
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, value("proofValue (multibase base58btc)"));
    assert_eq!(hex(&bs58::decode(&proof_value[1..]).into_vec().unwrap()), value("signatureHex"));
    // The CLR vector publishes its proof as a one-element proof set; the proof itself must be identical.
    let mut expected = vector.signed.clone();
    if let Some(Value::Array(proofs)) = expected.get("proof") {
        expected["proof"] = proofs[0].clone();
    }
    assert_eq!(signed, expected);

    let verification = eddsa::verify(&signed, &test_vector_issuers()).unwrap();
    assert!(verification.is_valid(), "{verification:?}");
}

#[test]
fn ob3_test_vector_signs_byte_for_byte() {
    check_vector(Vector {
        unsigned: fixture!("ob3-ldp-test-vector/credential-unsigned.json"),
        signed: fixture!("ob3-ldp-test-vector/credential-signed.json"),
        proof_options: fixture!("ob3-ldp-test-vector/proof-options.json"),
        values: fixture!("ob3-ldp-test-vector/keys-and-intermediate-values.json"),
        document_canon: include_str!("fixtures/di/ob3-ldp-test-vector/document-canon.txt"),
        proof_canon: include_str!("fixtures/di/ob3-ldp-test-vector/proof-canon.txt"),
    });
}

#[test]
fn clr2_test_vector_signs_byte_for_byte() {
    check_vector(Vector {
        unsigned: fixture!("clr2-ldp-test-vector/credential-unsigned.json"),
        signed: fixture!("clr2-ldp-test-vector/credential-signed.json"),
        proof_options: fixture!("clr2-ldp-test-vector/proof-options.json"),
        values: fixture!("clr2-ldp-test-vector/keys-and-intermediate-values.json"),
        document_canon: include_str!("fixtures/di/clr2-ldp-test-vector/document-canon.txt"),
        proof_canon: include_str!("fixtures/di/clr2-ldp-test-vector/proof-canon.txt"),
    });
}

/// `Ok(controller)` for a valid proof, `Err(failure)` for an invalid one.
type Expect = Result<&'static str, ProofFailure>;

#[track_caller]
fn check_verify(document: &Value, loader: &dyn DocumentLoader, expect: Expect) {
    let verification = eddsa::verify(document, loader).unwrap_or_else(|error| panic!("could not check: {error}"));
    let [check] = verification.proofs.as_slice() else { panic!("one proof expected: {verification:?}") };
    match expect {
        Ok(controller) => {
            assert!(verification.is_valid(), "{verification:?}");
            assert_eq!(check.controller.as_deref(), Some(controller));
        }
        Err(failure) => {
            assert!(!verification.is_valid());
            assert_eq!(check.failure.as_ref(), Some(&failure), "{verification:?}");
        }
    }
}

#[test]
fn signed_fixtures_verify() {
    let issuers = test_vector_issuers();
    let wrong_key = "z6MkrvfzkMnvCroEUP2DVc9SHPE48CRsvHiVSusHioxTYu1x";
    let other_issuer = StaticLoader::new().with("https://example.com/issuers/876543", &controller_document("https://example.com/issuers/876543", wrong_key));
    let cases: [(&str, Value, &dyn DocumentLoader, Expect); 7] = [
        ("OB 3.0 vector", fixture!("ob3-ldp-test-vector/credential-signed.json"), &issuers, Ok("https://example.edu/issuers/565049")),
        ("CLR 2.0 vector", fixture!("clr2-ldp-test-vector/credential-signed.json"), &issuers, Ok("https://example.edu/issuers/565049")),
        ("1EdTech simple", fixture!("1edtech-validator/simple.json"), &issuers, Ok("https://example.com/issuers/876543")),
        (
            "1EdTech bare did:key method",
            fixture!("1edtech-validator/simple-did-key-method.json"),
            &BundledLoader,
            Ok("did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"),
        ),
        ("1EdTech legacy eddsa-2022, VC 1.1", fixture!("1edtech-validator/simple-eddsa-2022.json"), &issuers, Ok("https://example.com/issuers/876543")),
        ("DCC-signed interop fixture", fixture!("interop/ob3-di-valid.json"), &BundledLoader, Ok("did:key:z6MknfktEyYcDQ1bsst7dKCtcDCMHRw8i4AxRF7JcDmrrrtT")),
        ("1EdTech wrong proof value", fixture!("1edtech-validator/simple-err-proof-value.json"), &other_issuer, Err(ProofFailure::BadSignature)),
    ];
    for (name, document, loader, expect) in cases {
        eprintln!("{name}");
        check_verify(&document, loader, expect);
    }
}

#[test]
fn tampering_is_detected() {
    let signed = fixture!("ob3-ldp-test-vector/credential-signed.json");
    let method = signed["proof"]["verificationMethod"].as_str().unwrap().to_owned();
    let flipped_signature = {
        let mut bytes = bs58::decode(&signed["proof"]["proofValue"].as_str().unwrap()[1..]).into_vec().unwrap();
        bytes[10] ^= 1;
        format!("z{}", bs58::encode(bytes).into_string())
    };
    let unlisted = "https://example.edu/issuers/565049#key-2".to_owned();
    type Tamper = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tamper, Expect)> = vec![
        ("nothing", Box::new(|_| {}), Ok("https://example.edu/issuers/565049")),
        ("the name", Box::new(|d| d["name"] = json!("Teamwork Badge!")), Err(ProofFailure::BadSignature)),
        ("the achievement name", Box::new(|d| d["credentialSubject"]["achievement"]["name"] = json!("Leadership")), Err(ProofFailure::BadSignature)),
        ("validFrom", Box::new(|d| d["validFrom"] = json!("2010-01-02T00:00:00Z")), Err(ProofFailure::BadSignature)),
        ("the issuer", Box::new(|d| d["issuer"]["id"] = json!("https://example.edu/issuers/1")), Err(ProofFailure::BadSignature)),
        ("proof created", Box::new(|d| d["proof"]["created"] = json!("2010-01-01T19:23:25Z")), Err(ProofFailure::BadSignature)),
        ("a signature bit", Box::new(move |d| d["proof"]["proofValue"] = json!(flipped_signature)), Err(ProofFailure::BadSignature)),
        (
            "the context (OB 3.0.2 maps terms differently)",
            Box::new(|d| d["@context"][1] = json!(cairn_vc::contexts::OB_V3P0_302)),
            Err(ProofFailure::BadSignature),
        ),
        (
            "the context, without changing any meaning",
            Box::new(|d| d["@context"].as_array_mut().unwrap().insert(1, json!(cairn_vc::contexts::CLR_V2P0_201))),
            Ok("https://example.edu/issuers/565049"),
        ),
        (
            "the proof value encoding",
            Box::new(|d| d["proof"]["proofValue"] = json!("u5x9aCBYovW3CQ")),
            Err(ProofFailure::MalformedProofValue("it does not start with z (base58btc)".into())),
        ),
        (
            "the cryptosuite",
            Box::new(|d| d["proof"]["cryptosuite"] = json!("eddsa-jcs-2022")),
            Err(ProofFailure::UnsupportedCryptosuite("eddsa-jcs-2022".into())),
        ),
        (
            "the proof purpose",
            Box::new(|d| d["proof"]["proofPurpose"] = json!("authentication")),
            Err(ProofFailure::UnsupportedProofPurpose("authentication".into())),
        ),
        (
            "the verification method",
            Box::new(move |d| d["proof"]["verificationMethod"] = json!(unlisted)),
            Err(ProofFailure::UnknownVerificationMethod("https://example.edu/issuers/565049#key-2".into())),
        ),
        (
            "the proof type",
            Box::new(|d| d["proof"]["type"] = json!("Ed25519Signature2020")),
            Err(ProofFailure::UnsupportedProofType("Ed25519Signature2020".into())),
        ),
        (
            "the proof value, removed",
            Box::new(|d| _ = d["proof"].as_object_mut().unwrap().remove("proofValue")),
            Err(ProofFailure::MissingProperty("proofValue")),
        ),
        ("the proof, removed", Box::new(|d| _ = d.as_object_mut().unwrap().remove("proof")), Err(ProofFailure::NoProof)),
    ];
    let issuers = test_vector_issuers();
    for (what, tamper, expect) in cases {
        eprintln!("changing {what}");
        let mut document = signed.clone();
        tamper(&mut document);
        check_verify(&document, &issuers, expect);
    }

    // The key is the issuer's, but the issuer does not authorize it for assertions.
    let mut controller = controller_document("https://example.edu/issuers/565049", TEST_KEY);
    controller["assertionMethod"] = json!([]);
    let unauthorized = StaticLoader::new().with("https://example.edu/issuers/565049", &controller);
    check_verify(&signed, &unauthorized, Err(ProofFailure::NotAuthorized(method.clone())));
    // The key is listed by a document that is not its controller.
    let mut controller = controller_document("https://example.edu/issuers/565049", TEST_KEY);
    controller["verificationMethod"][0]["controller"] = json!("https://attacker.example");
    let hijacked = StaticLoader::new().with("https://example.edu/issuers/565049", &controller);
    let verification = eddsa::verify(&signed, &hijacked).unwrap();
    assert!(matches!(verification.failure(), Some(ProofFailure::ControllerMismatch { .. })), "{verification:?}");
}

#[test]
fn data_no_context_defines_is_refused_not_ignored() {
    let mut signed = fixture!("ob3-ldp-test-vector/credential-signed.json");
    signed["grade"] = json!("A+");
    assert_eq!(eddsa::verify(&signed, &test_vector_issuers()), Err(DiError::Canon(CanonError::UndefinedTerm { term: "grade".into() })));
}

#[test]
fn missing_controller_documents_mean_the_proof_cannot_be_checked() {
    let signed = fixture!("ob3-ldp-test-vector/credential-signed.json");
    let outcome = eddsa::verify(&signed, &BundledLoader);
    assert!(matches!(outcome, Err(DiError::KeyUnavailable { .. })), "{outcome:?}");
}

#[test]
fn unknown_contexts_are_refused() {
    let url = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.9.json";
    let mut signed = fixture!("ob3-ldp-test-vector/credential-signed.json");
    signed["@context"][1] = json!(url);
    let refused = DiError::Canon(CanonError::UnknownContext { url: url.to_owned() });
    assert_eq!(eddsa::verify(&signed, &test_vector_issuers()), Err(refused.clone()));
    let signer = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([5; 32]));
    let options = ProofOptions::assertion("2025-01-01T00:00:00Z");
    assert_eq!(eddsa::sign(&signed, &signer, &options, &BundledLoader), Err(refused));
}

#[test]
fn hostile_documents_are_refused_by_their_limits() {
    // Each refusal names the limit that stopped it: the work done is bounded by that limit, not by
    // the input (speed itself is measured by the benches, never asserted here).
    // Built and dropped on a thread with a large stack: a 10,000-deep `Value` is recursive to drop.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let limits = CanonLimits::default();
            let deep_text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            assert_eq!(canon::parse_json(deep_text.as_bytes(), &limits), Err(CanonError::TooDeep { limit: 64 }));
            let mut deep = json!({"@context": [cairn_vc::contexts::VC_V2], "type": "VerifiableCredential"});
            for _ in 0..10_000 {
                // Not `json!`, which would copy `deep` each time.
                let mut wrapper = serde_json::Map::new();
                wrapper.insert("@context".into(), json!([cairn_vc::contexts::VC_V2]));
                wrapper.insert("credentialSubject".into(), deep);
                deep = Value::Object(wrapper);
            }
            deep["proof"] = fixture!("ob3-ldp-test-vector/credential-signed.json")["proof"].clone();
            assert_eq!(eddsa::verify(&deep, &BundledLoader), Err(DiError::Canon(CanonError::TooDeep { limit: 64 })));

            let big_name = "x".repeat(5 << 20);
            let big = json!({"@context": [cairn_vc::contexts::VC_V2], "type": "VerifiableCredential", "name": big_name, "proof": {}});
            let big_text = big.to_string();
            assert_eq!(canon::parse_json(big_text.as_bytes(), &limits), Err(CanonError::TooLarge { limit: 1 << 20 }));
            assert_eq!(eddsa::verify(&big, &BundledLoader), Err(DiError::Canon(CanonError::TooLarge { limit: 1 << 20 })));
            let signer = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([5; 32]));
            let options = ProofOptions::assertion("2025-01-01T00:00:00Z");
            assert!(matches!(eddsa::sign(&big, &signer, &options, &BundledLoader), Err(DiError::Canon(CanonError::TooLarge { .. }))));
        })
        .unwrap()
        .join()
        .unwrap();
}

fn rubric_credential(issuer: &str) -> Value {
    let mut credential = fixture!("cairn/ob3-rubric-unsigned.json");
    credential["issuer"]["id"] = json!(issuer);
    credential
}

#[test]
fn a_fresh_did_key_round_trips() {
    let key = Ed25519KeyPair::generate();
    let issuer = did::did_key(&key.public_key_multibase());
    let signer = Ed25519Signer::did_key(key);
    let credential = rubric_credential(&issuer);
    let signed = eddsa::sign(&credential, &signer, &ProofOptions::assertion("2025-03-01T12:00:00Z"), &BundledLoader).unwrap();
    assert_eq!(signed["proof"]["verificationMethod"], json!(signer.key_id()));
    let verification = eddsa::verify(&signed, &BundledLoader).unwrap();
    assert!(verification.is_valid(), "{verification:?}");
    assert_eq!(verification.proofs[0].controller.as_deref(), Some(issuer.as_str()));
}

#[test]
fn did_web_keys_come_from_the_supplied_did_document() {
    let key = Ed25519KeyPair::from_seed([11; 32]);
    let issuer = did::did_web("badges.example.org", &[]);
    let document = did::did_document(&issuer, &key.public_key_multibase(), &[]);
    let signer = Ed25519Signer::new(key, format!("{issuer}#key-1"));
    let signed = eddsa::sign(&rubric_credential(&issuer), &signer, &ProofOptions::assertion("2025-03-01T12:00:00Z"), &BundledLoader).unwrap();
    check_verify(&signed, &StaticLoader::new().with(&issuer, &document), Ok("did:web:badges.example.org"));
    // A different key published under the same DID does not verify.
    let rotated = did::did_document(&issuer, &Ed25519KeyPair::from_seed([12; 32]).public_key_multibase(), &[]);
    check_verify(&signed, &StaticLoader::new().with(&issuer, &rotated), Err(ProofFailure::BadSignature));
    assert!(matches!(eddsa::verify(&signed, &BundledLoader), Err(DiError::KeyUnavailable { .. })));
}

#[test]
fn proof_sets_check_every_proof() {
    let first = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([21; 32]));
    let second = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([22; 32]));
    let options = ProofOptions::assertion("2025-03-01T12:00:00Z");
    let once = eddsa::sign(&rubric_credential("did:example:issuer"), &first, &options, &BundledLoader).unwrap();
    let twice = eddsa::sign(&once, &second, &options, &BundledLoader).unwrap();
    let verification = eddsa::verify(&twice, &BundledLoader).unwrap();
    assert_eq!(verification.proofs.len(), 2);
    assert!(verification.is_valid(), "{verification:?}");
    let mut tampered = twice.clone();
    tampered["proof"][1]["created"] = json!("2025-03-01T12:00:01Z");
    let verification = eddsa::verify(&tampered, &BundledLoader).unwrap();
    assert!(!verification.is_valid() && verification.proofs[0].is_valid());
    assert_eq!(verification.failure(), Some(&ProofFailure::BadSignature));
}

#[test]
fn signing_misuse_is_an_error() {
    struct P256;
    impl Signer for P256 {
        fn algorithm(&self) -> &str {
            "P-256"
        }
        fn key_id(&self) -> &str {
            "did:example:p256#key-1"
        }
        fn sign(&self, _: &[u8]) -> Result<Vec<u8>, SignerError> {
            Ok(vec![0; 64])
        }
    }
    let credential = rubric_credential("did:example:issuer");
    let options = ProofOptions::assertion("2025-03-01T12:00:00Z");
    assert_eq!(eddsa::sign(&credential, &P256, &options, &BundledLoader), Err(DiError::WrongAlgorithm { found: "P-256".into() }));
    let signer = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([5; 32]));
    assert_eq!(eddsa::sign(&credential, &signer, &ProofOptions::assertion("2025-03-01"), &BundledLoader), Err(DiError::InvalidCreated("2025-03-01".into())));
    assert_eq!(eddsa::sign(&json!(["not", "a", "credential"]), &signer, &options, &BundledLoader), Err(DiError::NotAnObject));
    assert_eq!(eddsa::sign(&json!({"name": "no context"}), &signer, &options, &BundledLoader), Err(DiError::NoContext));
}
