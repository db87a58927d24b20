//! Fuzzes badge image uploads: any bytes must be refused or accepted as a PNG or SVG, never
//! panic, with bounded work.
#![no_main]

use cairn_core::image::accept_badge_image;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = accept_badge_image(data, None);
});
