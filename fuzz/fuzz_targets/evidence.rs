//! Fuzzes evidence uploads: the first byte picks the declared type (none, or one of the media
//! types a browser sends), the rest is the file. Any bytes must be refused or cleaned, never
//! panic, with bounded work; a cleaned file must be accepted again as the same type.
#![no_main]

use cairn_core::evidence::accept_evidence;
use libfuzzer_sys::fuzz_target;

const DECLARED: &[Option<&str>] =
    &[None, Some("application/pdf"), Some("image/png"), Some("image/jpeg"), Some("text/plain"), Some("application/octet-stream")];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, file)) = data.split_first() else { return };
    let declared = DECLARED[usize::from(choice) % DECLARED.len()];
    if let Ok((kind, clean)) = accept_evidence(file, declared) {
        let again = accept_evidence(&clean, Some(kind.media_type()));
        assert_eq!(again.as_ref().map(|(kind, _)| *kind), Ok(kind), "a cleaned file is refused when uploaded again");
    }
});
