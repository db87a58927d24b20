//! VC-JWT conformance: Cairn's tokens, tokens made by jsonwebtoken (ES256, RS256), 1EdTech's
//! fixtures, and the refusals a verifier owes (OB 3.0 §8.2, RFC 7515/7519/8725).
//!
//! Fixtures and their sources: `tests/fixtures/jwt/SOURCES.md`. Nothing here reads the clock:
//! every verification passes its own `now`.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cairn_vc::did;
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::suites::vc_jwt::{
    self, CredentialForm, JwtAlgorithm, JwtCheckId, JwtError, JwtVerdict, JwtVerification, KeyLookup, KeyResolutionError, KeyResolver, ResolvedKey,
    TrustedKeys, VerificationKey,
};
use serde_json::{Value, json};

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;
const SKEW: i64 = 60;
/// 2025-01-01T00:00:00Z and 2027-01-01T00:00:00Z, the demo credential's validity.
const VALID_FROM: i64 = 1_735_689_600;
const VALID_UNTIL: i64 = 1_798_761_600;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/// A `did:key` issuer.
struct TestIssuer {
    key: Ed25519KeyPair,
    did: String,
    kid: String,
}

impl TestIssuer {
    fn demo() -> Self {
        Self::from_key(Ed25519KeyPair::from_seed([42; 32]))
    }

    fn from_key(key: Ed25519KeyPair) -> Self {
        let multibase = key.public_key_multibase();
        Self { did: did::did_key(&multibase), kid: did::did_key_method(&multibase), key }
    }

    fn credential(&self) -> Value {
        credential(&self.did, "urn:uuid:8d2b7c1e-5f3a-4e9b-a1c0-6f7e8d9c0b1a", "2025-01-01T00:00:00Z", Some("2027-01-01T00:00:00Z"))
    }

    fn sign(&self, credential: &Value) -> String {
        vc_jwt::sign(credential, &self.key, &self.kid).unwrap()
    }

    fn token(&self) -> String {
        self.sign(&self.credential())
    }

    /// Re-signs `payload` under `header` with this issuer's key: a correctly signed token whose
    /// content the test chose.
    fn forge(&self, header: &Value, payload: &Value) -> String {
        forge(header, payload, |input| self.key.sign(input).to_vec())
    }

    fn header(&self) -> Value {
        json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid})
    }
}

/// An OB 3.0 AchievementCredential of about 4 KB, the size the peer benchmarks use.
fn credential(issuer: &str, id: &str, valid_from: &str, valid_until: Option<&str>) -> Value {
    let mut credential = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": "Cairn Academy of Applied Data Practice",
            "url": "https://academy.example.org",
            "email": "credentials@academy.example.org",
            "description": "An adult education provider that awards micro-credentials for assessed, practical work in data engineering and analysis."
        },
        "name": "SQL for Analysts: Joins and Aggregation",
        "description": "Awarded for passing the assessed project of the SQL for Analysts micro-credential, level 2.",
        "validFrom": valid_from,
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://academy.example.org/achievements/sql-for-analysts-2",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "SQL for Analysts: Joins and Aggregation",
                "description": "The learner writes correct, readable SQL that joins several tables, aggregates with GROUP BY and HAVING, uses window functions for running totals and rankings, and explains the query plan of a slow query and how an index changes it. Work is assessed against a published rubric by two assessors who do not see the learner's identity.",
                "criteria": {
                    "id": "https://academy.example.org/achievements/sql-for-analysts-2/criteria",
                    "narrative": "1. Submit a project that answers the six business questions of the brief with SQL against the provided PostgreSQL or SQLite database.\n2. Each query is correct on the hidden test data set, readable, and commented where the intent is not obvious.\n3. At least one query uses a window function; at least one uses a common table expression.\n4. A short written explanation (300 to 600 words) of the query plan of the slowest query, before and after adding an index.\n5. Two blind assessors score every criterion at level 2 or above on the rubric."
                },
                "alignment": [
                    {"type": ["Alignment"], "targetName": "Data analysis with SQL", "targetUrl": "https://framework.example.org/skills/sql-analysis", "targetFramework": "Example Digital Skills Framework", "targetCode": "DA-SQL-2"},
                    {"type": ["Alignment"], "targetName": "Query performance basics", "targetUrl": "https://framework.example.org/skills/query-performance", "targetFramework": "Example Digital Skills Framework", "targetCode": "DA-PERF-1"}
                ],
                "resultDescription": [
                    {"id": "urn:uuid:0c5d8d8a-9a43-4b8e-9f0a-4a7b5b0c1d2e", "type": ["ResultDescription"], "name": "Final level", "resultType": "RubricCriterionLevel", "allowedValue": ["Level 1", "Level 2", "Level 3", "Level 4"], "requiredValue": "Level 2"}
                ],
                "image": {"id": "https://academy.example.org/achievements/sql-for-analysts-2/image.svg", "type": "Image", "caption": "SQL for Analysts, level 2"},
                "creditsAvailable": 5,
                "fieldOfStudy": "Data analysis",
                "humanCode": "SQL-A2",
                "inLanguage": "en",
                "tag": ["sql", "data analysis", "micro-credential", "level 2"]
            },
            "result": [
                {"type": ["Result"], "resultDescription": "urn:uuid:0c5d8d8a-9a43-4b8e-9f0a-4a7b5b0c1d2e", "value": "Level 3"}
            ]
        },
        "evidence": [
            {"id": "https://academy.example.org/evidence/5f0e2a", "type": ["Evidence"], "name": "Project submission", "description": "Six queries and a query plan write-up, assessed blind by two assessors.", "genre": "Project"},
            {"id": "https://academy.example.org/evidence/5f0e2b", "type": ["Evidence"], "name": "Assessor feedback", "description": "Rubric scores and written feedback from both assessors, with the moderated final level.", "genre": "Assessment"},
            {"id": "https://academy.example.org/evidence/5f0e2c", "type": ["Evidence"], "name": "Query plan write-up", "narrative": "The learner compared the plans of the slowest query before and after a composite index, explained why the planner switched from a sequential scan to an index scan, and measured the difference on the test data set.", "genre": "Written explanation"}
        ]
    });
    if let Some(valid_until) = valid_until {
        credential["validUntil"] = json!(valid_until);
    }
    credential
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn forge(header: &Value, payload: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload.to_string()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(signature))
}

fn part(token: &str, index: usize) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(index).unwrap()).unwrap()).unwrap()
}

/// The OB 3.0 payload of a credential: the credential and its registered claims, as peers make it.
fn ob3_payload(credential: &Value) -> Value {
    let mut payload = credential.clone();
    let issuer = credential["issuer"]["id"].clone();
    payload["iss"] = issuer;
    payload["sub"] = credential["credentialSubject"]["id"].clone();
    payload["jti"] = credential["id"].clone();
    payload["nbf"] = json!(VALID_FROM);
    payload["exp"] = json!(VALID_UNTIL);
    payload
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The P-256 test key: (PKCS#8 DER, public JWK).
fn p256_test_key() -> (Vec<u8>, Value) {
    let key = fixture_json("p256-test-key.json");
    (STANDARD.decode(key["private_key_pkcs8_der_base64"].as_str().unwrap()).unwrap(), key["public_jwk"].clone())
}

/// The RSA-2048 test key: (PKCS#1 DER, public JWK).
fn rsa_test_key() -> (Vec<u8>, Value) {
    let key = fixture_json("rsa2048-test-key.json");
    (STANDARD.decode(key["private_key_pkcs1_der_base64"].as_str().unwrap()).unwrap(), key["public_jwk"].clone())
}

/// A token signed by jsonwebtoken (not by this crate) for an `https` issuer.
fn jsonwebtoken_token(algorithm: jsonwebtoken::Algorithm, encoding_key: &jsonwebtoken::EncodingKey, kid: &str, payload: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, payload, encoding_key).unwrap()
}

const HTTPS_ISSUER: &str = "https://academy.example.org/issuers/1";

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

/// What a verification should come to.
#[derive(Debug)]
enum Expect<'a> {
    Valid,
    /// Invalid, the first failed check being `id`, its detail containing the text.
    Fails(JwtCheckId, &'a str),
    Indeterminate(&'a str),
}

#[track_caller]
fn check(name: &str, token: &str, keys: &dyn KeyResolver, now: i64, expect: Expect<'_>) -> JwtVerification {
    let verification = vc_jwt::verify(token, keys, now, SKEW).unwrap();
    let failure = verification.first_failure();
    match expect {
        Expect::Valid => {
            assert_eq!(verification.verdict, JwtVerdict::Valid, "{name}: {:#?}", verification.checks);
            assert!(verification.credential.is_some(), "{name}");
        }
        Expect::Fails(id, fragment) => {
            assert_eq!(verification.verdict, JwtVerdict::Invalid, "{name}: {:#?}", verification.checks);
            let failure = failure.unwrap_or_else(|| panic!("{name}: no failed check"));
            assert_eq!(failure.id, id, "{name}: {failure:?}");
            assert!(failure.detail.contains(fragment), "{name}: {:?} lacks {fragment:?}", failure.detail);
        }
        Expect::Indeterminate(fragment) => {
            assert_eq!(verification.verdict, JwtVerdict::Indeterminate, "{name}: {:#?}", verification.checks);
            let failure = failure.unwrap_or_else(|| panic!("{name}: no failed check"));
            assert_eq!(failure.id, JwtCheckId::Key, "{name}");
            assert!(failure.detail.contains(fragment), "{name}: {:?} lacks {fragment:?}", failure.detail);
        }
    }
    verification
}

fn warning_ids(verification: &JwtVerification) -> Vec<JwtCheckId> {
    verification.warnings.iter().map(|warning| warning.id).collect()
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_credential_signed_with_a_fresh_key_verifies() {
    let issuer = TestIssuer::from_key(Ed25519KeyPair::generate());
    let credential = issuer.credential();
    let token = issuer.sign(&credential);

    let verification = check("fresh key", &token, &TrustedKeys::new(), NOW, Expect::Valid);
    assert_eq!(verification.credential, Some(credential));
    assert_eq!(verification.form, Some(CredentialForm::Native));
    assert_eq!(verification.algorithm, Some(JwtAlgorithm::EdDsa));
    assert_eq!(verification.key_id.as_deref(), Some(issuer.kid.as_str()));
    assert!(verification.warnings.is_empty(), "{:?}", verification.warnings);
    let ids: Vec<&str> = verification.checks.iter().map(|check| check.id.name()).collect();
    assert_eq!(
        ids,
        [
            "format",
            "algorithm",
            "header",
            "key",
            "signature",
            "credential",
            "iss_claim",
            "jti_claim",
            "sub_claim",
            "nbf_claim",
            "exp_claim",
            "validity_start",
            "validity_end"
        ]
    );
}

#[test]
fn the_token_carries_the_ob3_header_and_claims() {
    let issuer = TestIssuer::demo();
    let credential = issuer.credential();
    let token = issuer.sign(&credential);

    assert_eq!(part(&token, 0), json!({"alg": "EdDSA", "typ": "JWT", "kid": issuer.kid}));
    let mut expected = credential.clone();
    expected["iss"] = json!(issuer.did);
    expected["sub"] = json!("did:example:ebfeb1f712ebc6f1c276e12ec21");
    expected["jti"] = json!("urn:uuid:8d2b7c1e-5f3a-4e9b-a1c0-6f7e8d9c0b1a");
    expected["nbf"] = json!(VALID_FROM);
    expected["iat"] = json!(VALID_FROM);
    expected["exp"] = json!(VALID_UNTIL);
    assert_eq!(part(&token, 1), expected);
    let signature = URL_SAFE_NO_PAD.decode(token.rsplit('.').next().unwrap()).unwrap();
    assert_eq!(signature.len(), 64);

    // Ed25519 and `iat` = `nbf` make signing deterministic.
    assert_eq!(issuer.sign(&credential), token);
    // A credential without validUntil or subject id gets no exp or sub.
    let mut open_ended = credential;
    open_ended.as_object_mut().unwrap().remove("validUntil");
    open_ended["credentialSubject"].as_object_mut().unwrap().remove("id");
    let payload = part(&issuer.sign(&open_ended), 1);
    assert!(payload.get("exp").is_none() && payload.get("sub").is_none(), "{payload}");
    check("open ended", &issuer.sign(&open_ended), &TrustedKeys::new(), NOW + 100 * 365 * 86_400, Expect::Valid);
}

#[test]
fn signing_refuses_what_the_token_could_not_say() {
    let issuer = TestIssuer::demo();
    let other = TestIssuer::from_key(Ed25519KeyPair::from_seed([43; 32]));
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut credential = issuer.credential();
        change(&mut credential);
        credential
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("not an object", json!(["a"]), issuer.kid.as_str(), "not a JSON object"),
        ("no issuer", edit(&|c| drop(c.as_object_mut().unwrap().remove("issuer"))), &issuer.kid, "no issuer id"),
        ("issuer without id", edit(&|c| drop(c["issuer"].as_object_mut().unwrap().remove("id"))), &issuer.kid, "no issuer id"),
        ("no id", edit(&|c| drop(c.as_object_mut().unwrap().remove("id"))), &issuer.kid, "no \"id\""),
        ("no validFrom", edit(&|c| drop(c.as_object_mut().unwrap().remove("validFrom"))), &issuer.kid, "no \"validFrom\""),
        ("date only", edit(&|c| c["validFrom"] = json!("2025-01-01")), &issuer.kid, "validFrom \"2025-01-01\""),
        ("no time zone", edit(&|c| c["validFrom"] = json!("2025-01-01T00:00:00")), &issuer.kid, "with a time zone"),
        ("bad validUntil", edit(&|c| c["validUntil"] = json!(17)), &issuer.kid, "validUntil"),
        ("iss member", edit(&|c| c["iss"] = json!("x")), &issuer.kid, "\"iss\" member"),
        ("exp member", edit(&|c| c["exp"] = json!(1)), &issuer.kid, "\"exp\" member"),
        ("empty kid", issuer.credential(), "", "key id is empty"),
        ("another did:key", issuer.credential(), other.kid.as_str(), "is not the signing key's did:key"),
        ("another DID", issuer.credential(), "did:web:example.org#key-1", "belongs to another DID"),
    ];
    for (name, credential, kid, fragment) in cases {
        let error = vc_jwt::sign(&credential, &issuer.key, kid).expect_err(name);
        assert!(error.to_string().contains(fragment), "{name}: {error:?} / {error} lacks {fragment:?}");
    }
    // A relative or non-DID kid is the caller's business.
    vc_jwt::sign(&issuer.credential(), &issuer.key, "#key-1").unwrap();
    vc_jwt::sign(&issuer.credential(), &issuer.key, "https://academy.example.org/keys/1").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Verification: what passes
// ---------------------------------------------------------------------------------------------

#[test]
fn es256_and_rs256_tokens_made_by_jsonwebtoken_verify() {
    let credential = credential(HTTPS_ISSUER, "urn:uuid:2d6c5a6e-0bd5-4a7b-8d3f-0c1f2e3d4c5b", "2025-01-01T00:00:00Z", Some("2027-01-01T00:00:00Z"));
    let payload = ob3_payload(&credential);
    let (p256_der, p256_jwk) = p256_test_key();
    let (rsa_der, rsa_jwk) = rsa_test_key();
    let es256 = jsonwebtoken_token(
        jsonwebtoken::Algorithm::ES256,
        &jsonwebtoken::EncodingKey::from_ec_der(&p256_der),
        "https://academy.example.org/keys#p256",
        &payload,
    );
    let rs256 = jsonwebtoken_token(
        jsonwebtoken::Algorithm::RS256,
        &jsonwebtoken::EncodingKey::from_rsa_der(&rsa_der),
        "https://academy.example.org/keys#rsa",
        &payload,
    );
    let mut p256_entry = p256_jwk.clone();
    p256_entry["kid"] = json!("https://academy.example.org/keys#p256");
    p256_entry["use"] = json!("sig");
    p256_entry["alg"] = json!("ES256");
    let mut rsa_entry = rsa_jwk.clone();
    rsa_entry["kid"] = json!("https://academy.example.org/keys#rsa");
    let keys = TrustedKeys::new().with_jwks(&json!({"keys": [p256_entry, rsa_entry]})).unwrap();

    for (name, token, algorithm) in [("ES256", &es256, JwtAlgorithm::Es256), ("RS256", &rs256, JwtAlgorithm::Rs256)] {
        let verification = check(name, token, &keys, NOW, Expect::Valid);
        assert_eq!(verification.algorithm, Some(algorithm));
        assert_eq!(verification.credential.as_ref(), Some(&credential), "{name}");

        // The same token with one payload byte changed.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut changed = part(token, 1);
        changed["name"] = json!("Something else");
        parts[1] = b64(changed.to_string());
        check(&format!("{name} tampered"), &parts.join("."), &keys, NOW, Expect::Fails(JwtCheckId::Signature, "does not verify"));
    }

    // Bound to the issuer: the same keys as another issuer's are refused.
    let bound = TrustedKeys::new().with_issuer_key(
        "https://elsewhere.example.org",
        "https://academy.example.org/keys#p256",
        VerificationKey::from_jwk(&p256_jwk).unwrap(),
    );
    check("ES256 other issuer's key", &es256, &bound, NOW, Expect::Fails(JwtCheckId::Key, "not the issuer"));
    // An ES256 token against an RSA key.
    let crossed = TrustedKeys::new().with_key("https://academy.example.org/keys#p256", VerificationKey::from_jwk(&rsa_jwk).unwrap());
    check("ES256 with an RSA key", &es256, &crossed, NOW, Expect::Fails(JwtCheckId::Key, "alg ES256 needs a P-256 key, but the key is an RSA key"));
}

#[test]
fn a_did_web_issuer_verifies_through_its_did_document() {
    let key = Ed25519KeyPair::from_seed([44; 32]);
    let web = did::did_web("academy.example.org", &[]);
    let document = did::did_document(&web, &key.public_key_multibase(), &[]);
    let credential = credential(&web, "urn:uuid:9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "2025-01-01T00:00:00Z", None);
    let keys = TrustedKeys::new().with_did_document(&document).unwrap();

    let token = vc_jwt::sign(&credential, &key, &format!("{web}#key-1")).unwrap();
    check("did:web kid", &token, &keys, NOW, Expect::Valid);
    let relative = vc_jwt::sign(&credential, &key, "#key-1").unwrap();
    let verification = check("relative kid", &relative, &keys, NOW, Expect::Valid);
    assert_eq!(verification.key_id.as_deref(), Some("did:web:academy.example.org#key-1"));

    check("no document", &token, &TrustedKeys::new(), NOW, Expect::Fails(JwtCheckId::Key, "no key found for kid \"did:web:academy.example.org#key-1\""));
    let stranger = TestIssuer::from_key(Ed25519KeyPair::from_seed([45; 32]));
    let forged = vc_jwt::sign(&credential, &stranger.key, "#key-1").unwrap();
    check("right kid, wrong key", &forged, &keys, NOW, Expect::Fails(JwtCheckId::Signature, "does not verify"));
}

#[test]
fn the_1edtech_fixtures_verify_with_their_header_key_only_when_allowed() {
    let header_keys = TrustedKeys::new().allowing_header_jwk();

    // No kid and no jwk: nothing can check it (see SOURCES.md).
    check(
        "ob30 simple.jwt",
        &fixture("1edtech-ob30-simple.jwt"),
        &header_keys,
        NOW,
        Expect::Fails(JwtCheckId::Key, "no key found for issuer \"https://example.edu/issuers/565049\""),
    );

    for (name, form) in [
        ("1edtech-ob30-simple-jwt-v1-svg.jwt", CredentialForm::VcClaim),
        ("1edtech-ob30-simple-jwt-svg.jwt", CredentialForm::Native),
        ("1edtech-clr20-simple.jwt", CredentialForm::VcClaim),
    ] {
        let token = fixture(name);
        let verification = check(name, &token, &header_keys, NOW, Expect::Valid);
        assert_eq!(verification.algorithm, Some(JwtAlgorithm::Rs256), "{name}");
        assert_eq!(verification.form, Some(form), "{name}");
        let warnings = warning_ids(&verification);
        assert!(warnings.contains(&JwtCheckId::Key), "{name}: the header key is flagged: {warnings:?}");
        assert_eq!(warnings.contains(&JwtCheckId::Credential), form == CredentialForm::VcClaim, "{name}: {warnings:?}");
        let credential = verification.credential.unwrap();
        for claim in ["iss", "sub", "jti", "nbf", "exp", "iat", "aud"] {
            assert!(credential.get(claim).is_none(), "{name}: {claim} left in the credential");
        }

        check(
            &format!("{name} without header keys"),
            &token,
            &TrustedKeys::new(),
            NOW,
            Expect::Fails(JwtCheckId::Key, "carries its own jwk, which is not accepted"),
        );
    }

    // The OB 3.0 fixtures have `aud` where `sub` belongs; that is a warning, not a failure.
    let verification = vc_jwt::verify(&fixture("1edtech-ob30-simple-jwt-svg.jwt"), &header_keys, NOW, SKEW).unwrap();
    assert!(warning_ids(&verification).contains(&JwtCheckId::SubClaim));
}

#[test]
fn a_vc_claim_token_is_read_as_vc_jwt_1_1_says() {
    let issuer = TestIssuer::demo();
    let payload = json!({
        "iss": issuer.did,
        "sub": "did:example:learner",
        "jti": "urn:uuid:11111111-2222-4333-8444-555555555555",
        "nbf": VALID_FROM,
        "vc": {
            "@context": ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context.json"],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": {"type": ["AchievementSubject"]}
        }
    });
    let verification = check("vc claim", &issuer.forge(&issuer.header(), &payload), &TrustedKeys::new(), NOW, Expect::Valid);
    assert_eq!(verification.form, Some(CredentialForm::VcClaim));
    let credential = verification.credential.unwrap();
    assert_eq!(credential["issuer"], json!(issuer.did));
    assert_eq!(credential["id"], payload["jti"]);
    assert_eq!(credential["issuanceDate"], json!("2025-01-01T00:00:00Z"));
    assert_eq!(credential["credentialSubject"]["id"], json!("did:example:learner"));
    assert!(verification.warnings.iter().filter(|warning| warning.id == JwtCheckId::Credential).count() >= 5, "{:?}", verification.warnings);
}

#[test]
fn clock_skew_widens_the_window_and_no_further() {
    let issuer = TestIssuer::demo();
    let token = issuer.token();
    let keys = TrustedKeys::new();
    check("at validFrom minus skew", &token, &keys, VALID_FROM - SKEW, Expect::Valid);
    check("before it", &token, &keys, VALID_FROM - SKEW - 1, Expect::Fails(JwtCheckId::ValidityStart, "not valid before 2025-01-01T00:00:00Z"));
    check("just before validUntil plus skew", &token, &keys, VALID_UNTIL + SKEW - 1, Expect::Valid);
    check("at it", &token, &keys, VALID_UNTIL + SKEW, Expect::Fails(JwtCheckId::ValidityEnd, "expired at 2027-01-01T00:00:00Z"));
    let error = vc_jwt::verify(&token, &keys, NOW, -1).unwrap_err();
    assert!(matches!(error, JwtError::NegativeClockSkew(-1)), "{error:?}");
}

#[test]
fn an_unavailable_key_source_makes_the_verdict_indeterminate() {
    struct Offline;
    impl KeyResolver for Offline {
        fn resolve(&self, lookup: &KeyLookup<'_>) -> Result<Option<ResolvedKey>, KeyResolutionError> {
            Err(KeyResolutionError::Unavailable(format!("{} did not load", lookup.kid.unwrap_or("?"))))
        }
    }
    let issuer = TestIssuer::demo();
    check("offline", &issuer.token(), &Offline, NOW, Expect::Indeterminate("did not load"));
}

// ---------------------------------------------------------------------------------------------
// Verification: what is refused, and why
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_tokens_are_refused_with_their_reason() {
    use JwtCheckId as Id;

    let issuer = TestIssuer::demo();
    let token = issuer.token();
    let payload = part(&token, 1);
    let header = issuer.header();
    let keys = TrustedKeys::new();
    let header_keys = TrustedKeys::new().allowing_header_jwk();
    let other = TestIssuer::from_key(Ed25519KeyPair::from_seed([46; 32]));
    let with = |changes: &[(&str, Value)]| {
        let mut changed = payload.clone();
        for (name, value) in changes {
            changed[*name] = value.clone();
        }
        changed
    };
    let without = |name: &str| {
        let mut changed = payload.clone();
        changed.as_object_mut().unwrap().remove(name);
        changed
    };
    let header_with = |name: &str, value: Value| {
        let mut changed = header.clone();
        changed[name] = value;
        changed
    };
    let tampered = {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = b64(with(&[("name", json!("Advanced SQL"))]).to_string());
        parts.join(".")
    };
    let hs256 = {
        // The classic confusion: the issuer's public key used as an HMAC secret.
        let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        hs_header.kid = Some(issuer.kid.clone());
        jsonwebtoken::encode(&hs_header, &payload, &jsonwebtoken::EncodingKey::from_secret(&issuer.key.public_key())).unwrap()
    };
    let (p256_der, _) = p256_test_key();
    let es256_for_did_key = jsonwebtoken_token(jsonwebtoken::Algorithm::ES256, &jsonwebtoken::EncodingKey::from_ec_der(&p256_der), &issuer.kid, &payload);
    let small_rsa = fixture_json("rsa1024-public-jwk.json")["public_jwk"].clone();
    let oversized = format!("{}.{}.{}", b64(header.to_string()), "A".repeat(2 << 20), "AAAA");
    let unsigned = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"}).to_string()), b64(payload.to_string()));

    let cases: Vec<(&str, String, &dyn KeyResolver, Id, &str)> = vec![
        // Format.
        ("2 MB token", oversized, &keys, Id::Format, "over the 1048576-byte limit"),
        ("half a token", token[..token.len() / 2].to_owned(), &keys, Id::Format, "expected 3 dot-separated parts, got 2"),
        ("four parts", format!("{token}.AAAA"), &keys, Id::Format, "got 4"),
        ("empty", String::new(), &keys, Id::Format, "got 1"),
        ("header not base64url", format!("!!!{token}"), &keys, Id::Format, "header is not unpadded base64url"),
        (
            "padded payload",
            {
                let mut p: Vec<String> = token.split('.').map(str::to_owned).collect();
                p[1].push('=');
                p.join(".")
            },
            &keys,
            Id::Format,
            "payload is not unpadded base64url",
        ),
        ("payload not JSON", format!("{}.{}.AAAA", b64(header.to_string()), b64("not json")), &keys, Id::Format, "payload is not JSON"),
        ("payload an array", format!("{}.{}.AAAA", b64(header.to_string()), b64("[1]")), &keys, Id::Format, "payload is not a JSON object"),
        ("signature not base64url", format!("{token}*"), &keys, Id::Format, "signature is not unpadded base64url"),
        // Algorithm.
        ("alg none", unsigned, &header_keys, Id::Algorithm, "alg \"none\": the token is unsigned"),
        ("alg None", issuer.forge(&header_with("alg", json!("None")), &payload), &keys, Id::Algorithm, "unsigned"),
        ("HS256 with the public key as secret", hs256, &header_keys, Id::Algorithm, "HMAC with a shared secret"),
        ("no alg", issuer.forge(&json!({"kid": issuer.kid}), &payload), &keys, Id::Algorithm, "no \"alg\""),
        ("ES384", issuer.forge(&header_with("alg", json!("ES384")), &payload), &keys, Id::Algorithm, "\"ES384\" is not supported"),
        ("eddsa lower case", issuer.forge(&header_with("alg", json!("eddsa")), &payload), &keys, Id::Algorithm, "not supported"),
        // Header.
        ("crit", issuer.forge(&header_with("crit", json!(["exp"])), &payload), &keys, Id::Header, "\"crit\""),
        ("typ at+jwt", issuer.forge(&header_with("typ", json!("at+jwt")), &payload), &keys, Id::Header, "typ at+jwt is not \"JWT\""),
        ("kid a number", issuer.forge(&header_with("kid", json!(7)), &payload), &keys, Id::Header, "\"kid\" is not a non-empty string"),
        (
            "jwk with d",
            issuer.forge(&header_with("jwk", json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "x"})), &payload),
            &header_keys,
            Id::Header,
            "private key",
        ),
        ("1024-bit RSA header jwk", issuer.forge(&json!({"alg": "RS256", "jwk": small_rsa}), &payload), &header_keys, Id::Header, "1024 bits"),
        // Key.
        (
            "RS256 header, Ed25519 key",
            issuer.forge(&header_with("alg", json!("RS256")), &payload),
            &keys,
            Id::Key,
            "alg RS256 needs an RSA key, but the key is an Ed25519 key",
        ),
        ("ES256 token, did:key", es256_for_did_key, &keys, Id::Key, "alg ES256 needs a P-256 key"),
        ("kid of another DID", other.forge(&other.header(), &payload), &keys, Id::Key, "a key of another DID than the issuer"),
        (
            "header jwk of another key",
            issuer.forge(&header_with("jwk", VerificationKey::ed25519(&other.key.public_key()).unwrap().to_jwk()), &payload),
            &keys,
            Id::Key,
            "header jwk is not the key resolved",
        ),
        (
            "no key for an https issuer",
            issuer.forge(&json!({"alg": "EdDSA"}), &with(&[("iss", json!(HTTPS_ISSUER)), ("issuer", json!(HTTPS_ISSUER))])),
            &keys,
            Id::Key,
            "no key found for issuer",
        ),
        (
            "unknown did:key",
            issuer.forge(
                &header_with("kid", json!("did:key:z6MkNotAKey")),
                &with(&[("iss", json!("did:key:z6MkNotAKey")), ("issuer", json!("did:key:z6MkNotAKey"))]),
            ),
            &keys,
            Id::Key,
            "not an Ed25519 did:key",
        ),
        // Signature.
        ("tampered payload", tampered, &keys, Id::Signature, "does not verify with the Ed25519 key z6Mk"),
        ("wrong key", forge(&header, &payload, |input| other.key.sign(input).to_vec()), &keys, Id::Signature, "does not verify"),
        (
            "truncated signature",
            token[..token.len() - 10].to_owned(),
            &keys,
            Id::Signature,
            "the signature is 57 bytes; an EdDSA signature with this key is 64",
        ),
        ("empty signature", format!("{}.", &token[..token.rfind('.').unwrap()]), &keys, Id::Signature, "is 0 bytes"),
        // Credential and claims (correctly signed, wrong content).
        ("vc not an object", issuer.forge(&header, &with(&[("vc", json!("x"))])), &keys, Id::Credential, "\"vc\" claim is not a JSON object"),
        ("iss is not the issuer", issuer.forge(&header, &with(&[("iss", json!("did:example:someone-else"))])), &keys, Id::IssClaim, "is not the issuer id"),
        ("no iss", issuer.forge(&header, &without("iss")), &keys, Id::IssClaim, "no \"iss\" claim"),
        ("jti is not the id", issuer.forge(&header, &with(&[("jti", json!("urn:uuid:other"))])), &keys, Id::JtiClaim, "is not the credential id"),
        ("no jti", issuer.forge(&header, &without("jti")), &keys, Id::JtiClaim, "no \"jti\" claim"),
        ("sub is not the subject", issuer.forge(&header, &with(&[("sub", json!("did:example:other"))])), &keys, Id::SubClaim, "is not credentialSubject.id"),
        ("no nbf", issuer.forge(&header, &without("nbf")), &keys, Id::NbfClaim, "no \"nbf\" claim"),
        (
            "nbf is not validFrom",
            issuer.forge(&header, &with(&[("nbf", json!(VALID_FROM - 3600))])),
            &keys,
            Id::NbfClaim,
            "is not validFrom 2025-01-01T00:00:00Z",
        ),
        ("nbf a string", issuer.forge(&header, &with(&[("nbf", json!("2025"))])), &keys, Id::NbfClaim, "not a NumericDate"),
        ("exp is not validUntil", issuer.forge(&header, &with(&[("exp", json!(VALID_UNTIL + 1))])), &keys, Id::ExpClaim, "is not validUntil"),
        (
            "validFrom not a date",
            issuer.forge(&header, &with(&[("validFrom", json!("soon"))])),
            &keys,
            Id::ValidityStart,
            "validFrom soon is not an RFC 3339 date-time",
        ),
        // Time.
        ("expired", issuer.token(), &keys, Id::ValidityEnd, "expired at 2027-01-01T00:00:00Z"),
        ("not yet valid", issuer.token(), &keys, Id::ValidityStart, "not valid before 2025-01-01T00:00:00Z"),
    ];
    for (name, token, resolver, id, fragment) in cases {
        let now = match name {
            "expired" => VALID_UNTIL + 86_400,
            "not yet valid" => VALID_FROM - 86_400,
            _ => NOW,
        };
        let verification = check(name, &token, resolver, now, Expect::Fails(id, fragment));
        let signature_verified = verification.checks.iter().any(|check| check.id == Id::Signature && check.ok);
        assert_eq!(verification.credential.is_some(), signature_verified, "{name}: a credential only with a verified signature");
    }
}

// ---------------------------------------------------------------------------------------------
// Interoperability and throughput
// ---------------------------------------------------------------------------------------------
