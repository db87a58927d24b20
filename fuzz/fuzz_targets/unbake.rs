//! Fuzzes reading baked PNG and SVG badges.
//!
//! The check lives in `cairn_server::fuzzing::unbake`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::unbake(data));
