//! Fuzzes badge image uploads: any bytes must be refused or accepted as a PNG or SVG, never
//! panic, with bounded work.
//!
//! The check lives in `cairn_server::fuzzing::badge_image`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::badge_image(data));
