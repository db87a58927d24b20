//! What Cairn issues validates against the official OB 3.0 JSON schemas (draft 2019-09), copied
//! into `tests/fixtures/schemas/` (see ../../shared/spec/SOURCES.md for their origin).

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::ob3::*;
use cairn_vc::status::{StatusPurpose, status_entry};
use cairn_vc::suites::eddsa_rdfc_2022::{Ed25519Signer, ProofOptions, sign};
use serde_json::Value;

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/tests/fixtures/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft201909::new(&schema).unwrap()
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

fn input(issuer: &str, recipient: Recipient) -> CredentialInput {
    let profile = Profile {
        id: issuer.into(),
        name: "Northbridge Institute of Technology".into(),
        url: Some("https://northbridge.example.edu/".into()),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some("Extension school".into()),
        image: Some(Image { id: "https://northbridge.example.edu/logo.png".into(), caption: None }),
    };
    let base = "https://cairn.example/achievements/1";
    CredentialInput {
        id: "urn:uuid:2b1c6f0e-94d4-4f5a-8a3e-6f1f2f3a4b5c".into(),
        name: "Secure Coding Essentials".into(),
        issuer: profile.clone(),
        valid_from: "2026-11-22T10:00:00Z".into(),
        valid_until: Some("2028-11-22T10:00:00Z".into()),
        awarded_date: Some("2026-11-22T10:00:00Z".into()),
        recipient,
        achievement: Achievement {
            id: base.into(),
            achievement_type: "Badge".into(),
            name: "Secure Coding Essentials".into(),
            description: "Find and fix common vulnerabilities.".into(),
            criteria_narrative: "Fix **four** issues with tests.".into(),
            criteria_id: Some(base.into()),
            image: Some(Image { id: format!("{base}/image"), caption: Some("badge".into()) }),
            alignments: vec![Alignment {
                target_name: "OWASP Top 10".into(),
                target_url: "https://owasp.org/www-project-top-ten/".into(),
                target_description: Some("Web security risks".into()),
                target_framework: Some("OWASP".into()),
                target_code: Some("A01-A10".into()),
                target_type: Some("ceasn:Competency".into()),
            }],
            rubric: vec![RubricCriterion {
                id: format!("{base}#fixing"),
                name: "Fixing".into(),
                levels: ["Developing", "Proficient"]
                    .iter()
                    .map(|l| RubricLevel { id: format!("{base}#fixing-{l}"), name: l.to_string(), description: Some(format!("{l} work")) })
                    .collect(),
                required_level: Some(format!("{base}#fixing-Proficient")),
            }],
            tags: vec!["security".into()],
            language: Some("en".into()),
            version: Some("2".into()),
            creator: Some(profile),
            credits_available: Some(CreditHours(300)),
        },
        results: vec![CriterionResult { result_description: format!("{base}#fixing"), achieved_level: format!("{base}#fixing-Proficient") }],
        credits_earned: Some(CreditHours(250)),
        evidence: vec![Evidence {
            id: Some("https://cairn.example/evidence/1".into()),
            name: "Pull request".into(),
            description: Some("The fix".into()),
            narrative: Some("Fixed SQL injection.".into()),
            genre: Some("Project".into()),
        }],
        status: Some(status_entry("https://cairn.example/status/1", 42, StatusPurpose::Revocation)),
        with_schema: true,
    }
}

#[test]
fn issued_credentials_validate_against_the_achievement_credential_schema() {
    let validator = schema("ob_v3p0_achievementcredential_schema.json");
    let key = Ed25519KeyPair::from_seed([21; 32]);
    let file = KeyFile::new(&key, None);
    for recipient in [Recipient::Email { address: "learner@example.org".into(), salt: "s4lt".into() }, Recipient::Id("did:example:learner".into())] {
        let unsigned = open_badge_credential(&input(&file.controller, recipient));
        let signer = Ed25519Signer::new(key.clone(), file.id.clone());
        let signed = sign(&unsigned, &signer, &ProofOptions::assertion("2026-11-22T10:00:00Z"), &StaticLoader::new()).unwrap();
        let signed = proof_as_array(signed);
        assert_valid(&validator, &signed);
        assert!(cairn_vc::suites::eddsa_rdfc_2022::verify(&signed, &StaticLoader::new()).unwrap().is_valid(), "the array form still verifies");
    }
}

#[test]
fn the_issuer_profile_validates_against_the_profile_schema() {
    let validator = schema("ob_v3p0_profile_schema.json");
    let credential = open_badge_credential(&input("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Recipient::Id("did:example:x".into())));
    assert_valid(&validator, &credential["issuer"]);
}

#[test]
fn the_schema_is_not_a_rubber_stamp() {
    let validator = schema("ob_v3p0_achievementcredential_schema.json");
    let mut credential = open_badge_credential(&input("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Recipient::Id("did:example:x".into())));
    credential.as_object_mut().unwrap().remove("credentialSubject");
    assert!(!validator.is_valid(&credential));
}
