//! Fuzzes reading baked PNG and SVG badges.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cairn_vc::bake::unbake(data);
});
