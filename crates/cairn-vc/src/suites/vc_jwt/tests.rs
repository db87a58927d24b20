use super::dates::{format_date_time, parse_date_time};
use super::keys::VerificationKey;
use super::resolve::DID_KEY_CACHE_SIZE;
use super::*;
use crate::keys::Ed25519KeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

#[test]
fn did_keys_are_remembered_a_few_at_a_time_and_still_resolve_after() {
    let keys = TrustedKeys::new();
    let dids: Vec<(String, VerificationKey)> = (0..=DID_KEY_CACHE_SIZE as u8)
        .map(|seed| {
            let key = Ed25519KeyPair::from_seed([seed; 32]);
            (crate::did::did_key(&key.public_key_multibase()), VerificationKey::ed25519(&key.public_key()).unwrap())
        })
        .collect();
    let resolve =
        |keys: &TrustedKeys, did: &str| keys.resolve(&KeyLookup { kid: None, issuer: Some(did), algorithm: JwtAlgorithm::EdDsa, jwk: None }).unwrap().unwrap();
    for (did, key) in dids.iter().chain(dids.iter().take(2)) {
        let resolved = resolve(&keys, did);
        assert_eq!((&resolved.key, resolved.controller.as_deref()), (key, Some(did.as_str())));
    }
    assert_eq!(keys.did_keys.0.read().unwrap().len(), DID_KEY_CACHE_SIZE);
    let copy = keys.clone();
    assert_eq!(resolve(&copy, &dids[5].0).key, dids[5].1);
    assert!(keys.resolve(&KeyLookup { kid: Some("did:key:zNotAKey"), issuer: None, algorithm: JwtAlgorithm::EdDsa, jwk: None }).is_err());
    assert_eq!(keys.did_keys.0.read().unwrap().len(), DID_KEY_CACHE_SIZE, "a bad did:key is not remembered");
}

#[track_caller]
fn check_date(text: &str, expect: Option<(i64, bool)>) {
    assert_eq!(parse_date_time(text).map(|date| (date.seconds, date.has_offset)), expect, "{text}");
}

#[test]
fn dates_parse_as_rfc_3339() {
    check_date("1970-01-01T00:00:00Z", Some((0, true)));
    check_date("2024-01-01T00:00:00Z", Some((1_704_067_200, true)));
    check_date("2024-01-01t00:00:00z", Some((1_704_067_200, true)));
    check_date("2024-01-01T00:00:00.999Z", Some((1_704_067_200, true)));
    check_date("2024-01-01T01:30:00+01:30", Some((1_704_067_200, true)));
    check_date("2023-12-31T20:00:00-04:00", Some((1_704_067_200, true)));
    check_date("2024-01-01T00:00:00", Some((1_704_067_200, false)));
    check_date("2024-02-29T12:00:00Z", Some((1_709_208_000, true)));
    check_date("2000-02-29T00:00:00Z", Some((951_782_400, true)));
    check_date("1969-12-31T23:59:59.5Z", Some((-1, true)));
    check_date("9999-12-31T23:59:59Z", Some((253_402_300_799, true)));
}

#[test]
fn malformed_dates_are_refused() {
    for text in [
        "",
        "2024-01-01",
        "2024-01-01 00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:61Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00+25:00",
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00ZZ",
        "+2024-01-01T00:00:00Z",
        "２０２４-01-01T00:00:00Z",
    ] {
        check_date(text, None);
    }
}

#[test]
fn dates_format_back_to_what_they_parse_from() {
    for seconds in [0, 951_782_400, 1_704_067_200, 1_709_208_000, 253_402_300_799, -1, -86_400 * 365] {
        let text = format_date_time(seconds);
        assert_eq!(parse_date_time(&text).map(|date| date.seconds), Some(seconds), "{text}");
    }
    assert_eq!(format_date_time(1_704_067_200), "2024-01-01T00:00:00Z");
}

const ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

#[track_caller]
fn check_jwk(jwk: Value, expect: Result<JwtAlgorithm, &str>) {
    let got = VerificationKey::from_jwk(&jwk).map(|key| key.algorithm()).map_err(|error| error.to_string());
    match (got, expect) {
        (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{jwk}"),
        (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{jwk}: {got:?} lacks {fragment:?}"),
        (got, expected) => panic!("{jwk}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn jwks_become_keys_for_exactly_one_algorithm() {
    let rsa_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 254], &[0x01]].concat());
    let small_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 126], &[0x01]].concat());
    let padded_n = URL_SAFE_NO_PAD.encode([[0_u8, 0xc1].as_slice(), &[0x5a; 254], &[0x01]].concat());
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}), Ok(JwtAlgorithm::EdDsa));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "alg": "EdDSA", "use": "sig", "kid": "k"}), Ok(JwtAlgorithm::EdDsa));
    check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}), Ok(JwtAlgorithm::Es256));
    check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y, "key_ops": ["verify"]}), Ok(JwtAlgorithm::Es256));
    check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAB"}), Ok(JwtAlgorithm::Rs256));
    check_jwk(json!({"kty": "RSA", "n": padded_n, "e": "AAEAAQ"}), Ok(JwtAlgorithm::Rs256));

    check_jwk(json!("not a key"), Err("not a JSON object"));
    check_jwk(json!({"crv": "Ed25519", "x": ED25519_X}), Err("\"kty\""));
    check_jwk(json!({"kty": "oct", "k": "c2VjcmV0"}), Err("unsupported key type \"oct\""));
    check_jwk(json!({"kty": "OKP", "crv": "Ed448", "x": ED25519_X}), Err("unsupported curve \"Ed448\""));
    check_jwk(json!({"kty": "OKP", "crv": "X25519", "x": ED25519_X}), Err("unsupported curve"));
    check_jwk(json!({"kty": "EC", "crv": "P-384", "x": P256_X, "y": P256_Y}), Err("unsupported curve \"P-384\""));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "d": ED25519_X}), Err("private key"));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": &ED25519_X[..40]}), Err("\"x\" is 30 bytes; expected 32"));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{ED25519_X}=")}), Err("not base64url"));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X.replace('_', "/")}), Err("not base64url"));
    check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_X}), Err("not a valid P-256 point"));
    let identity = URL_SAFE_NO_PAD.encode([[1_u8].as_slice(), &[0; 31]].concat());
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": identity}), Err("small order"));
    check_jwk(json!({"kty": "EC", "crv": "P-256", "x": P256_X}), Err("\"y\""));
    check_jwk(json!({"kty": "RSA", "n": small_n, "e": "AQAB"}), Err("1024 bits"));
    check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQ"}), Err("exponent"));
    check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAA"}), Err("exponent"));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "alg": "RS256"}), Err("\"alg\" is \"RS256\""));
    check_jwk(json!({"kty": "RSA", "n": rsa_n, "e": "AQAB", "alg": "RS512"}), Err("\"alg\" is \"RS512\""));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "use": "enc"}), Err("not for verifying"));
    check_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X, "key_ops": ["sign"]}), Err("not for verifying"));
}

#[test]
fn keys_round_trip_through_their_jwk() {
    let rsa_n = URL_SAFE_NO_PAD.encode([[0xc1_u8].as_slice(), &[0x5a; 254], &[0x01]].concat());
    for jwk in [
        json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}),
        json!({"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}),
        json!({"kty": "RSA", "n": rsa_n, "e": "AQAB"}),
    ] {
        let key = VerificationKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.to_jwk(), jwk);
        assert_eq!(VerificationKey::from_jwk(&key.to_jwk()).unwrap(), key);
    }
}

#[track_caller]
fn check_method(method: Value, expect: Result<JwtAlgorithm, &str>) {
    let got = VerificationKey::from_verification_method(&method).map(|key| key.algorithm()).map_err(|error| error.to_string());
    match (got, expect) {
        (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{method}"),
        (Err(got), Err(fragment)) => assert!(got.contains(fragment), "{method}: {got:?} lacks {fragment:?}"),
        (got, expected) => panic!("{method}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn verification_methods_become_keys() {
    let key = Ed25519KeyPair::from_seed([3; 32]);
    let multibase = key.public_key_multibase();
    let base58 = bs58::encode(key.public_key()).into_string();
    check_method(json!({"type": "Multikey", "publicKeyMultibase": multibase}), Ok(JwtAlgorithm::EdDsa));
    check_method(json!({"type": "Ed25519VerificationKey2020", "publicKeyMultibase": multibase}), Ok(JwtAlgorithm::EdDsa));
    check_method(json!({"type": "Ed25519VerificationKey2018", "publicKeyBase58": base58}), Ok(JwtAlgorithm::EdDsa));
    check_method(json!({"type": "JsonWebKey2020", "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": P256_X, "y": P256_Y}}), Ok(JwtAlgorithm::Es256));
    check_method(json!({"type": "JsonWebKey", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}}), Ok(JwtAlgorithm::EdDsa));

    check_method(json!({"type": "Multikey", "publicKeyMultibase": "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"}), Err("Multikey"));
    check_method(json!({"type": "Multikey"}), Err("\"publicKeyMultibase\""));
    check_method(json!({"type": "Ed25519VerificationKey2018", "publicKeyBase58": "3yZe7d"}), Err("expected 32"));
    check_method(json!({"type": "JsonWebKey2020"}), Err("\"publicKeyJwk\""));
    check_method(json!({"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyJwk": {}}), Err("unsupported verification method type"));
    check_method(json!({"publicKeyMultibase": multibase}), Err("\"type\""));
}

#[test]
fn did_keys_resolve_from_the_identifier() {
    let key = Ed25519KeyPair::from_seed([5; 32]);
    let multibase = key.public_key_multibase();
    let expected = VerificationKey::ed25519(&key.public_key()).unwrap();
    for did in [format!("did:key:{multibase}"), format!("did:key:{multibase}#{multibase}")] {
        assert_eq!(VerificationKey::from_did_key(&did), Ok(expected.clone()), "{did}");
    }
    let other = Ed25519KeyPair::from_seed([6; 32]).public_key_multibase();
    for did in [
        format!("did:key:{multibase}#{other}"),
        format!("did:web:example.org#{multibase}"),
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169".to_owned(),
        "did:key:".to_owned(),
    ] {
        assert!(VerificationKey::from_did_key(&did).is_err(), "{did}");
    }
}

#[test]
fn trusted_keys_pick_by_kid_then_by_issuer() {
    let first = VerificationKey::ed25519(&Ed25519KeyPair::from_seed([1; 32]).public_key()).unwrap();
    let second = VerificationKey::ed25519(&Ed25519KeyPair::from_seed([2; 32]).public_key()).unwrap();
    let document = json!({
        "id": "did:web:example.org",
        "verificationMethod": [
            {"id": "#key-1", "type": "JsonWebKey2020", "controller": "did:web:example.org", "publicKeyJwk": first.to_jwk()},
            {"id": "did:web:example.org#key-2", "type": "JsonWebKey2020", "controller": "did:web:example.org", "publicKeyJwk": second.to_jwk()},
        ],
        "assertionMethod": ["did:web:example.org#key-1"],
        "authentication": ["#key-2"],
    });
    let keys = TrustedKeys::new().with_did_document(&document).unwrap();
    let lookup = |kid, issuer| KeyLookup { kid, issuer, algorithm: JwtAlgorithm::EdDsa, jwk: None };
    let resolved = |kid, issuer| keys.resolve(&lookup(kid, issuer)).unwrap().map(|found| (found.key, found.controller));
    let web = Some("did:web:example.org".to_owned());

    assert_eq!(resolved(Some("did:web:example.org#key-1"), None), Some((first.clone(), web.clone())));
    assert_eq!(resolved(None, Some("did:web:example.org")), Some((first.clone(), web.clone())));
    // Only assertionMethod keys are trusted for credentials.
    assert_eq!(resolved(Some("did:web:example.org#key-2"), None), None);
    assert_eq!(resolved(None, Some("https://example.org")), None);

    let did_key = Ed25519KeyPair::from_seed([9; 32]).public_key_multibase();
    let did_key_url = format!("did:key:{did_key}#{did_key}");
    assert_eq!(resolved(Some(&did_key_url), None).map(|(_, controller)| controller), Some(Some(format!("did:key:{did_key}"))));
    assert!(keys.resolve(&lookup(Some("did:key:z6Mkbad"), None)).is_err());
    assert!(!keys.accepts_header_jwk());
    assert!(keys.clone().allowing_header_jwk().accepts_header_jwk());

    let single = TrustedKeys::new().with_key("https://example.org/keys#1", second.clone());
    assert_eq!(single.resolve(&lookup(None, Some("https://example.org"))).unwrap().map(|found| found.key), Some(second));
    assert!(TrustedKeys::new().with_did_document(&json!({"id": "did:web:x", "assertionMethod": ["#nope"]})).is_err());
}

#[test]
fn rsa_pem_keys_are_read_in_either_form_and_any_line_length() {
    let spki = include_str!("../../../tests/fixtures/ob2/issuer-key.pub.pem");
    let pkcs1 = include_str!("../../../tests/fixtures/ob2/issuer-key.pkcs1.pub.pem");
    let key = VerificationKey::from_rsa_pem(spki).unwrap();
    assert_eq!(key.algorithm(), JwtAlgorithm::Rs256);
    assert_eq!(VerificationKey::from_rsa_pem(pkcs1).unwrap(), key);
    // One line, or CRLF with leading spaces: the same key.
    let body: String = spki.lines().filter(|line| !line.starts_with("-----")).collect();
    assert_eq!(VerificationKey::from_rsa_pem(&format!("-----BEGIN PUBLIC KEY-----{body}-----END PUBLIC KEY-----")).unwrap(), key);
    assert_eq!(VerificationKey::from_rsa_pem(&format!("  {}", spki.replace('\n', "\r\n"))).unwrap(), key);
    let refused = |pem: &str| VerificationKey::from_rsa_pem(pem).unwrap_err().to_string();
    assert!(refused(include_str!("../../../tests/fixtures/ob2/weak-key.pub.pem")).contains("1024 bits"));
    assert!(refused(include_str!("../../../tests/fixtures/ob2/issuer-key.pem")).contains("neither PUBLIC KEY nor RSA PUBLIC KEY"));
    assert!(refused(&spki.replace("PUBLIC KEY", "RSA PUBLIC KEY")).contains("not a PKCS #1 RSAPublicKey"));
    assert!(refused("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").contains("not an rsaEncryption SubjectPublicKeyInfo"));
    // A P-256 SubjectPublicKeyInfo is not an RSA key.
    let p256 = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n";
    assert!(refused(p256).contains("not an rsaEncryption"));
    assert!(refused("not a key").contains("no -----BEGIN line"));
}

#[test]
fn thumbprints_follow_rfc_7638() {
    // RFC 7638 §3.1, the example RSA key and its thumbprint.
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    });
    assert_eq!(VerificationKey::from_jwk(&jwk).unwrap().thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    // RFC 8037 §A.3, the example Ed25519 key.
    let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(VerificationKey::from_jwk(&okp).unwrap().thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn tokens_without_kid_are_matched_by_header_jwk_thumbprint_or_by_trying_keys() {
    let key = |seed: u8| VerificationKey::ed25519(&Ed25519KeyPair::from_seed([seed; 32]).public_key()).unwrap();
    let jwks = json!({"keys": [key(1).to_jwk(), key(2).to_jwk(), VerificationKey::from_rsa_pem(include_str!("../../../tests/fixtures/ob2/issuer-key.pub.pem")).unwrap().to_jwk()]});
    let keys = TrustedKeys::new().with_jwks(&jwks).unwrap();
    let second = key(2);
    let lookup = |jwk| KeyLookup { kid: None, issuer: Some("https://issuer.example/"), algorithm: JwtAlgorithm::EdDsa, jwk };
    // The header jwk names the held key with the same thumbprint.
    assert_eq!(keys.resolve(&lookup(Some(&second))).unwrap().map(|found| found.key), Some(second.clone()));
    let third = key(3);
    assert_eq!(keys.resolve(&lookup(Some(&third))).unwrap(), None);
    // A held key whose kid is the thumbprint is found by it too.
    let by_kid = TrustedKeys::new().with_key(second.thumbprint(), second.clone()).with_key("other", key(1));
    assert_eq!(by_kid.resolve(&lookup(Some(&second))).unwrap().map(|found| found.key), Some(second.clone()));
    // Without kid or jwk, and with several keys, nothing resolves; the candidates are the keys of
    // the token's algorithm.
    assert_eq!(keys.resolve(&lookup(None)).unwrap(), None);
    let candidates: Vec<VerificationKey> = keys.candidates(&lookup(None)).unwrap().into_iter().map(|found| found.key).collect();
    assert_eq!(candidates, [key(1), key(2)]);
    assert!(keys.candidates(&lookup(Some(&second))).unwrap().is_empty());
    assert!(keys.candidates(&KeyLookup { kid: Some("x"), ..lookup(None) }).unwrap().is_empty());
}

#[test]
fn a_token_without_kid_verifies_with_the_trusted_key_that_signed_it() {
    let signer = Ed25519KeyPair::from_seed([2; 32]);
    let key = |seed: u8| VerificationKey::ed25519(&Ed25519KeyPair::from_seed([seed; 32]).public_key()).unwrap();
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example/", "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:1"},
        "iss": "https://issuer.example/", "jti": "urn:uuid:1", "sub": "did:example:1", "nbf": 1_767_225_600,
    });
    let token = |header: Value| {
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(credential.to_string()));
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes())))
    };
    let now = 1_790_000_000;
    let tried = TrustedKeys::new().with_jwks(&json!({"keys": [key(1).to_jwk(), key(2).to_jwk(), key(3).to_jwk()]})).unwrap();
    let verification = verify(&token(json!({"alg": "EdDSA"})), &tried, now, 60).unwrap();
    assert_eq!(verification.verdict, JwtVerdict::Valid, "{:#?}", verification.checks);
    let key_check = verification.checks.iter().find(|c| c.id == JwtCheckId::Key).unwrap();
    assert!(key_check.detail.contains("found by trying the 3 trusted EdDSA keys"), "{}", key_check.detail);
    // With a header jwk, the held key of that thumbprint is the one, and no other is tried.
    let named = verify(&token(json!({"alg": "EdDSA", "jwk": key(2).to_jwk()})), &tried, now, 60).unwrap();
    assert_eq!(named.verdict, JwtVerdict::Valid, "{:#?}", named.checks);
    // None of the keys signed it: invalid, saying so.
    let others = TrustedKeys::new().with_jwks(&json!({"keys": [key(1).to_jwk(), key(3).to_jwk()]})).unwrap();
    let refused = verify(&token(json!({"alg": "EdDSA"})), &others, now, 60).unwrap();
    assert_eq!(refused.verdict, JwtVerdict::Invalid);
    assert!(refused.first_failure().unwrap().detail.contains("verifies with none of the 2 trusted EdDSA keys"), "{:#?}", refused.checks);
}

#[test]
fn the_calendar_agrees_with_the_time_crate() {
    for text in
        ["1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2024-12-31T23:59:59+01:00", "1969-07-20T20:17:40Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
    {
        let ours = parse_date_time(text).unwrap().seconds;
        let theirs = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp();
        assert_eq!(ours, theirs, "{text}");
        let back = time::OffsetDateTime::from_unix_timestamp(ours).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap();
        assert_eq!(format_date_time(ours), back, "{text}");
    }
}
