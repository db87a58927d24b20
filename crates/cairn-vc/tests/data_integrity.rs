use cairn_vc::loader::BundledLoader;
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use serde_json::Value;
use std::time::Instant;

#[test]
fn scratch_perf() {
    let doc: Value = serde_json::from_str(include_str!("fixtures/di/cairn/ob3-rubric-unsigned.json")).unwrap();
    let signer = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([1; 32]));
    let options = ProofOptions::assertion("2025-01-01T00:00:00Z");
    let signed = eddsa::sign(&doc, &signer, &options, &BundledLoader).unwrap();
    assert!(eddsa::verify(&signed, &BundledLoader).unwrap().is_valid());
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n { eddsa::sign(&doc, &signer, &options, &BundledLoader).unwrap(); }
    let s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n { eddsa::verify(&signed, &BundledLoader).unwrap(); }
    let v = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n { cairn_vc::canon::canonize(&doc, &BundledLoader).unwrap(); }
    let c = t.elapsed().as_secs_f64();
    println!("sign {:.0}/s verify {:.0}/s canon-doc {:.0}/s", n as f64 / s, n as f64 / v, n as f64/c);
}
