//! Fuzzes the whole verification pipeline: any bytes (JSON, JWT, PNG, SVG, URL-ish text) must give
//! a report, never a panic, with bounded work.
//!
//! The check lives in `cairn_server::fuzzing::verify`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::verify(data));
