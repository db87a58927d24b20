//! Fuzzes the API's JSON inputs: the first byte picks the input (sign-up, organisation, new
//! achievement, achievement content, submission, assessment settings, assessment, voucher,
//! privacy, award status: `cairn_server::fuzzing::JSON_INPUTS`), the rest is the request body.
//! It goes through the handlers' own extractor into the input type, then through the core
//! parser the handler uses. Any bytes must be read or refused with a client error, never panic.
//!
//! The check lives in `cairn_server::fuzzing::api_json`; `crates/cairn-server/tests/fuzz_corpus.rs`
//! replays this corpus through it on every test run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_server::fuzzing::api_json(data));
