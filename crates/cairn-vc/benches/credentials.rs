//! Throughput of the proof formats on a realistic ~4 KB OpenBadgeCredential (rubric, alignments,
//! evidence, status): `cargo bench -p cairn-vc`. `cairn bench` gives the same figures without
//! criterion, on one core and on all cores.

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::ob3::reference_credential;
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let key = Ed25519KeyPair::from_seed([42; 32]);
    let file = KeyFile::new(&key, None);
    let signer = eddsa_rdfc_2022::Ed25519Signer::new(key.clone(), file.id.clone());
    let loader = StaticLoader::new();
    let options = eddsa_rdfc_2022::ProofOptions::assertion("2026-01-01T00:00:00Z");
    let unsigned: Vec<Value> = (0..256).map(|n| reference_credential(&file.controller, n)).collect();
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

    // The ceiling for VC-JWT: bare Ed25519 over the same signing input (header.payload, ~5.8 KB),
    // with the key already expanded and decompressed.
    let inputs: Vec<&[u8]> = tokens.iter().map(|t| &t.as_bytes()[..t.rfind('.').expect("three parts")]).collect();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let verifying = signing.verifying_key();
    let signatures: Vec<ed25519_dalek::Signature> = inputs.iter().map(|i| ed25519_dalek::Signer::sign(&signing, i)).collect();
    c.bench_function("ed25519_sign_bare", |b| b.iter(|| black_box(ed25519_dalek::Signer::sign(&signing, inputs[next()]))));
    c.bench_function("ed25519_verify_bare", |b| {
        b.iter(|| {
            let n = next();
            black_box(ed25519_dalek::Verifier::verify(&verifying, inputs[n], &signatures[n]))
        })
    });
}

criterion_group!(credentials, benches);
criterion_main!(credentials);
