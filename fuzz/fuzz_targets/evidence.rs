//! Fuzzes evidence uploads: the first byte picks the declared type (none, or one of the media
//! types a browser sends), the rest is the file. Any bytes must be refused or cleaned, never
//! panic, with bounded work; a cleaned file must be accepted again as the same type.
//!
//! The check lives in `cairn_server::fuzzing::evidence`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::evidence(data));
