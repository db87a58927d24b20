//! Fuzzes upload reading (`cairn_server::upload::read_upload`, used by every evidence and image
//! upload): the first byte picks the limits (evidence, image, or a 64-byte file cap that makes
//! refusals common), the rest is a multipart body with the boundary `cairnfuzz`. Any bytes must
//! be read or refused, never panic, and nothing read may pass its cap.
//!
//! The check lives in `cairn_server::fuzzing::multipart`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::multipart(data));
