//! Fuzzes the API's JSON inputs: the first byte picks the input (sign-up, organisation, new
//! achievement, achievement content, submission, assessment settings, assessment, voucher,
//! privacy, award status: `cairn_server::fuzzing::JSON_INPUTS`), the rest is the request body.
//! It goes through the handlers' own extractor into the input type, then through the core
//! parser the handler uses. Any bytes must be read or refused with a client error, never panic.
#![no_main]

use cairn_server::fuzzing::{Outcome, api_json};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime starts"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    if let Outcome::Unreadable(problem) = runtime().block_on(api_json(which, body)) {
        let status = problem.status.as_u16();
        assert!(matches!(status, 400 | 413 | 415), "an unreadable body is a client error, got {status}: {}", problem.detail);
    }
});
