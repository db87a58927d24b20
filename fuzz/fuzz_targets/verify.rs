//! Fuzzes the whole verification pipeline: any bytes (JSON, JWT, PNG, SVG, URL-ish text) must give
//! a report, never a panic, with bounded work.
#![no_main]

use cairn_vc::loader::StaticLoader;
use cairn_vc::verify::{VerifyOptions, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let loader = StaticLoader::new();
    let _ = verify(data, &VerifyOptions::new(&loader, 1_790_000_000).with_clock_skew(60));
});
