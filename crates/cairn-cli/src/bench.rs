//! `cairn bench`: credential throughput on this machine, so an operator can size a deployment.
//! Signs and verifies a realistic ~4 KB OpenBadgeCredential (rubric, alignments, evidence,
//! status) with each proof format, on one core and on all cores.

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::ob3::reference_credential;
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
    let sample = reference_credential(&rig.file.controller, 0);
    let size = sample.to_string().len();
    let signed: Vec<Value> =
        (0..64).map(|n| eddsa_rdfc_2022::sign(&reference_credential(&rig.file.controller, n), &signer, &options, &loader)).collect::<Result<_, _>>()?;
    let tokens: Vec<String> =
        (0..64).map(|n| vc_jwt::sign(&reference_credential(&rig.file.controller, n), &rig.key, &rig.file.id)).collect::<Result<_, _>>()?;
    let keys = vc_jwt::TrustedKeys::new();
    let now = 1_790_000_000;
    let duration = Duration::from_secs_f64(seconds.max(0.2));
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    // Distinct credentials, built before timing so that only signing is measured.
    let unsigned: Vec<Value> = (0..256).map(|n| reference_credential(&rig.file.controller, n)).collect();
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
