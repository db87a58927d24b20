//! Throughput of the proof formats on a realistic ~4 KB OpenBadgeCredential (rubric, alignments,
//! evidence, status): `cargo bench -p cairn-vc`. `cairn bench` gives the same figures without
//! criterion, on one core and on all cores.

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::ob3::*;
use cairn_vc::status::{StatusPurpose, status_entry};
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;

fn credential(issuer: &str, n: usize) -> Value {
    let base = "https://badges.example.edu/achievements/secure-coding";
    let profile = Profile {
        id: issuer.into(),
        name: "Northbridge Institute of Technology".into(),
        url: Some("https://northbridge.example.edu/".into()),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some("Extension school issuing rubric-assessed micro-credentials.".into()),
        image: None,
    };
    let rubric: Vec<RubricCriterion> = ["finding", "fixing"]
        .iter()
        .map(|c| RubricCriterion {
            id: format!("{base}#{c}"),
            name: c.to_string(),
            levels: ["beginning", "developing", "proficient", "exemplary"]
                .iter()
                .map(|l| RubricLevel { id: format!("{base}#{c}-{l}"), name: l.to_string(), description: None })
                .collect(),
            required_level: Some(format!("{base}#{c}-proficient")),
        })
        .collect();
    open_badge_credential(&CredentialInput {
        id: format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
        name: "Secure Coding Essentials: OWASP Top 10".into(),
        issuer: profile,
        valid_from: "2026-01-01T00:00:00Z".into(),
        valid_until: Some("2028-01-01T00:00:00Z".into()),
        awarded_date: None,
        recipient: Recipient::Id(format!("did:example:learner-{n}")),
        achievement: Achievement {
            id: base.into(),
            achievement_type: "Badge".into(),
            name: "Secure Coding Essentials: OWASP Top 10".into(),
            description: "Find and fix the most common web application vulnerabilities in real code.".into(),
            criteria_narrative: "Find, exploit in a test environment and fix four issues from different OWASP Top 10 categories.".into(),
            criteria_id: Some(base.into()),
            image: Some(Image { id: format!("{base}/image"), caption: None }),
            alignments: vec![Alignment {
                target_name: "OWASP Top 10 web application security risks".into(),
                target_url: "https://owasp.org/www-project-top-ten/".into(),
                target_description: None,
                target_framework: Some("OWASP".into()),
                target_code: Some("A01-A10".into()),
                target_type: Some("ceasn:Competency".into()),
            }],
            rubric: rubric.clone(),
            tags: vec!["security".into()],
            language: Some("en".into()),
            version: Some("1".into()),
            creator: None,
        },
        results: rubric.iter().map(|c| CriterionResult { result_description: c.id.clone(), achieved_level: c.required_level.clone().unwrap_or_default() }).collect(),
        evidence: vec![Evidence { id: None, name: "Pull request".into(), description: None, narrative: Some("Fixed an injection flaw.".into()), genre: None }],
        status: Some(status_entry("https://badges.example.edu/status/1", n % 131_072, StatusPurpose::Revocation)),
        with_schema: false,
    })
}

fn benches(c: &mut Criterion) {
    let key = Ed25519KeyPair::from_seed([42; 32]);
    let file = KeyFile::new(&key, None);
    let signer = eddsa_rdfc_2022::Ed25519Signer::new(key.clone(), file.id.clone());
    let loader = StaticLoader::new();
    let options = eddsa_rdfc_2022::ProofOptions::assertion("2026-01-01T00:00:00Z");
    let unsigned: Vec<Value> = (0..256).map(|n| credential(&file.controller, n)).collect();
    let signed: Vec<Value> = unsigned.iter().map(|u| eddsa_rdfc_2022::sign(u, &signer, &options, &loader).expect("sign")).collect();
    let tokens: Vec<String> = unsigned.iter().map(|u| vc_jwt::sign(u, &key, &file.id).expect("sign")).collect();
    let keys = vc_jwt::TrustedKeys::new();
    let mut n = 0usize;
    let mut next = move || {
        n = (n + 1) % 256;
        n
    };
    c.bench_function("di_sign", |b| b.iter(|| black_box(eddsa_rdfc_2022::sign(&unsigned[next()], &signer, &options, &loader))));
    c.bench_function("di_verify", |b| b.iter(|| black_box(eddsa_rdfc_2022::verify(&signed[next()], &loader))));
    c.bench_function("jwt_sign", |b| b.iter(|| black_box(vc_jwt::sign(&unsigned[next()], &key, &file.id))));
    c.bench_function("jwt_verify", |b| b.iter(|| black_box(vc_jwt::verify(&tokens[next()], &keys, 1_790_000_000, 60))));
}

criterion_group!(credentials, benches);
criterion_main!(credentials);
