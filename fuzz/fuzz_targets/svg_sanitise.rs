//! Fuzzes the SVG sanitiser: any bytes are offered as an SVG badge (a root element is put in
//! front of those that do not look like one), and must be refused or rebuilt, never panic, with
//! bounded work. An accepted SVG must be accepted again unchanged.
//!
//! The check lives in `cairn_server::fuzzing::svg_sanitise`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::svg_sanitise(data));
