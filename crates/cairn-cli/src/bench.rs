//! `cairn bench`: credential throughput on this machine, so an operator can size a deployment.
//! Signs and verifies a realistic ~4 KB OpenBadgeCredential (rubric, alignments, evidence,
//! status) with each proof format, on one core and on all cores.

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::ob3::{self, Achievement, Alignment, CredentialInput, CriterionResult, Evidence, Image, Profile, Recipient, RubricCriterion, RubricLevel};
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A realistic credential, numbered so that every one is distinct.
pub fn sample_credential(issuer: &str, n: usize) -> Value {
    let base = "https://badges.example.edu/achievements/secure-coding";
    let levels = ["Beginning", "Developing", "Proficient", "Exemplary"];
    let rubric: Vec<RubricCriterion> = ["Finding", "Fixing"]
        .iter()
        .map(|criterion| RubricCriterion {
            id: format!("{base}#{}", criterion.to_lowercase()),
            name: criterion.to_string(),
            levels: levels
                .iter()
                .map(|level| RubricLevel {
                    id: format!("{base}#{}-{}", criterion.to_lowercase(), level.to_lowercase()),
                    name: level.to_string(),
                    description: None,
                })
                .collect(),
            required_level: Some(format!("{base}#{}-proficient", criterion.to_lowercase())),
        })
        .collect();
    let results = rubric
        .iter()
        .map(|c| CriterionResult { result_description: c.id.clone(), achieved_level: c.required_level.clone().unwrap_or_default() })
        .collect();
    let profile = Profile {
        id: issuer.to_string(),
        name: "Northbridge Institute of Technology".into(),
        url: Some("https://northbridge.example.edu/".into()),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some("Extension school issuing rubric-assessed micro-credentials.".into()),
        image: Some(Image { id: "https://northbridge.example.edu/logo.png".into(), caption: Some("Northbridge logo".into()) }),
    };
    ob3::open_badge_credential(&CredentialInput {
        id: format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
        name: "Secure Coding Essentials: OWASP Top 10".into(),
        issuer: profile,
        valid_from: "2026-01-01T00:00:00Z".into(),
        valid_until: Some("2028-01-01T00:00:00Z".into()),
        awarded_date: Some("2026-01-01T00:00:00Z".into()),
        recipient: Recipient::Id(format!("did:example:learner-{n}")),
        achievement: Achievement {
            id: base.into(),
            achievement_type: "Badge".into(),
            name: "Secure Coding Essentials: OWASP Top 10".into(),
            description: "Find and fix the most common web application vulnerabilities in real code.".into(),
            criteria_narrative: "In the provided vulnerable application, find, exploit in a test environment and fix four issues from \
                                 different OWASP Top 10 categories. Submit a patch with tests that fail before the fix."
                .into(),
            criteria_id: Some(base.into()),
            image: Some(Image { id: format!("{base}/image"), caption: Some("Secure Coding badge".into()) }),
            alignments: vec![Alignment {
                target_name: "OWASP Top 10 web application security risks".into(),
                target_url: "https://owasp.org/www-project-top-ten/".into(),
                target_description: None,
                target_framework: Some("OWASP".into()),
                target_code: Some("A01-A10".into()),
                target_type: Some("ceasn:Competency".into()),
            }],
            rubric,
            tags: vec!["security".into(), "web".into()],
            language: Some("en".into()),
            version: Some("1".into()),
            creator: None,
        },
        results,
        evidence: vec![Evidence {
            id: Some(format!("https://badges.example.edu/evidence/{n}")),
            name: "Pull request".into(),
            description: None,
            narrative: Some("Fixed an injection flaw in the search form, with regression tests.".into()),
            genre: Some("Project".into()),
        }],
        status: None,
        with_schema: false,
    })
}

struct Rig {
    key: Ed25519KeyPair,
    file: KeyFile,
}

/// Runs `work(i)` repeatedly for about `duration` on `threads` threads; returns operations per second.
fn rate(threads: usize, duration: Duration, work: &(dyn Fn(usize) + Sync)) -> f64 {
    let start = Instant::now();
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut n = 0;
                    while start.elapsed() < duration {
                        work(t * 1_000_000 + n);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    counts.iter().sum::<usize>() as f64 / start.elapsed().as_secs_f64()
}

/// The benchmark's figures.
pub fn run(seconds: f64, json_output: bool) -> anyhow::Result<()> {
    let key = Ed25519KeyPair::from_seed([42; 32]);
    let rig = Rig { file: KeyFile::new(&key, None), key };
    let signer = eddsa_rdfc_2022::Ed25519Signer::new(rig.key.clone(), rig.file.id.clone());
    let loader = StaticLoader::new();
    let options = eddsa_rdfc_2022::ProofOptions::assertion("2026-01-01T00:00:00Z");
    let sample = sample_credential(&rig.file.controller, 0);
    let size = sample.to_string().len();
    let signed: Vec<Value> = (0..64).map(|n| eddsa_rdfc_2022::sign(&sample_credential(&rig.file.controller, n), &signer, &options, &loader)).collect::<Result<_, _>>()?;
    let tokens: Vec<String> = (0..64).map(|n| vc_jwt::sign(&sample_credential(&rig.file.controller, n), &rig.key, &rig.file.id)).collect::<Result<_, _>>()?;
    let keys = vc_jwt::TrustedKeys::new();
    let now = 1_790_000_000;
    let duration = Duration::from_secs_f64(seconds.max(0.2));
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    // Distinct credentials, built before timing so that only signing is measured.
    let unsigned: Vec<Value> = (0..256).map(|n| sample_credential(&rig.file.controller, n)).collect();
    let di_sign = |n: usize| {
        let _ = eddsa_rdfc_2022::sign(&unsigned[n % unsigned.len()], &signer, &options, &loader);
    };
    let di_verify = |n: usize| {
        let _ = eddsa_rdfc_2022::verify(&signed[n % signed.len()], &loader);
    };
    let jwt_sign = |n: usize| {
        let _ = vc_jwt::sign(&unsigned[n % unsigned.len()], &rig.key, &rig.file.id);
    };
    let jwt_verify = |n: usize| {
        let _ = vc_jwt::verify(&tokens[n % tokens.len()], &keys, now, 60);
    };
    let mut figures = serde_json::Map::new();
    for (name, work) in [("di_sign", &di_sign as &(dyn Fn(usize) + Sync)), ("di_verify", &di_verify), ("jwt_sign", &jwt_sign), ("jwt_verify", &jwt_verify)] {
        let one = rate(1, duration, work);
        let all = rate(cores, duration, work);
        figures.insert(format!("{name}_per_s"), json!(one.round()));
        figures.insert(format!("{name}_all_cores_per_s"), json!(all.round()));
        if !json_output {
            println!("{name:<11} {one:>10.0} /s on one core   {all:>10.0} /s on {cores} cores");
        }
    }
    figures.insert("cores".into(), json!(cores));
    figures.insert("credential_bytes".into(), json!(size));
    if json_output {
        println!("{}", Value::Object(figures));
    } else {
        println!("(a {size}-byte OpenBadgeCredential with a rubric, alignments and evidence; {seconds} s per figure)");
    }
    Ok(())
}
