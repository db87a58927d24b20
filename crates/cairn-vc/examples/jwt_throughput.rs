//! VC-JWT sign and verify throughput on one core, beside bare Ed25519 over the same bytes (the
//! ceiling), as operations per wall-clock second and per CPU second of this thread (read from
//! `/proc/thread-self/schedstat`, so that other load on a shared machine counts less).
//!
//! ```sh
//! cargo run --release -p cairn-vc --example jwt_throughput -- 3
//! ```

use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::ob3::reference_credential;
use cairn_vc::suites::vc_jwt;
use ed25519_dalek::{Signer as _, Verifier as _};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has run on a CPU, when Linux says.
fn cpu_nanos() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

fn measure(name: &str, seconds: f64, mut work: impl FnMut(usize)) {
    for n in 0..200 {
        work(n);
    }
    let (start, cpu_start) = (Instant::now(), cpu_nanos());
    let mut n = 0;
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        for _ in 0..100 {
            work(n);
            n += 1;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_nanos().zip(cpu_start).map(|(end, start)| (end - start) as f64 / 1e9);
    let per_cpu = cpu.map_or_else(|| "?".into(), |cpu| format!("{:.0}", n as f64 / cpu));
    println!("{{\"op\":\"{name}\",\"ops\":{n},\"per_wall_s\":{:.0},\"per_cpu_s\":{per_cpu}}}", n as f64 / wall);
}

fn main() {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let key = Ed25519KeyPair::from_seed([42; 32]);
    let file = KeyFile::new(&key, None);
    let unsigned: Vec<_> = (0..256).map(|n| reference_credential(&file.controller, n)).collect();
    let tokens: Vec<String> = unsigned.iter().map(|u| vc_jwt::sign(u, &key, &file.id).expect("the reference credential signs")).collect();
    let keys = vc_jwt::TrustedKeys::new();
    let now = 1_790_000_000;
    let inputs: Vec<&[u8]> = tokens.iter().map(|t| &t.as_bytes()[..t.rfind('.').expect("a token has three parts")]).collect();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let verifying = signing.verifying_key();
    let signatures: Vec<_> = inputs.iter().map(|input| signing.sign(input)).collect();
    measure("ed25519_sign_bare", seconds, |n| {
        black_box(signing.sign(inputs[n % 256]));
    });
    measure("jwt_sign", seconds, |n| {
        black_box(vc_jwt::sign(&unsigned[n % 256], &key, &file.id).ok());
    });
    measure("ed25519_verify_bare", seconds, |n| {
        black_box(verifying.verify(inputs[n % 256], &signatures[n % 256]).is_ok());
    });
    measure("jwt_verify", seconds, |n| {
        black_box(vc_jwt::verify(&tokens[n % 256], &keys, now, 60).ok());
    });
}
