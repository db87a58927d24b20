//! Fuzzes the SVG sanitiser: any bytes are offered as an SVG badge (a root element is put in
//! front of those that do not look like one), and must be refused or rebuilt, never panic, with
//! bounded work. An accepted SVG must be accepted again unchanged.
#![no_main]

use cairn_core::image::{ImageType, accept_badge_image, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = if sniff(data) == Some(ImageType::Svg) { data.to_vec() } else { [b"<svg ".as_slice(), data].concat() };
    if let Ok((ImageType::Svg, clean)) = accept_badge_image(&input, Some("image/svg+xml")) {
        let again = accept_badge_image(&clean, Some("image/svg+xml"));
        assert_eq!(again.as_ref().map(|(_, bytes)| bytes), Ok(&clean), "a sanitised SVG changes when sanitised again");
    }
});
