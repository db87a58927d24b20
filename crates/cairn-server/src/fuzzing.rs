//! What each fuzz target in `fuzz/` checks, in one place: the cargo-fuzz targets call these
//! with libFuzzer's inputs, and `tests/fuzz_corpus.rs` replays every committed corpus input
//! through them on each test run. Each takes any bytes and panics only when an input breaks the
//! rule it names (a panic inside the code under test is such a break too).

use crate::upload::{MAX_PARTS, MAX_TEXT_FIELD_BYTES, UploadForm, UploadLimits, read_upload};
use axum::body::Body;
use axum::extract::Request;
use cairn_core::evidence::accept_evidence;
use cairn_core::image::{ImageType, accept_badge_image, sniff};
use cairn_vc::loader::StaticLoader;
use cairn_vc::verify::{VerifyOptions, verify as verify_any};
use std::sync::OnceLock;

pub use crate::routes::api::fuzzing::{JSON_INPUTS, Outcome, api_json as read_api_json};

/// A target's check: any bytes in, a panic only when they break its rule.
pub type Check = fn(&[u8]);

/// Every target, by the name of its binary in `fuzz/` and its corpus directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("verify", verify),
    ("unbake", unbake),
    ("svg_sanitise", svg_sanitise),
    ("badge_image", badge_image),
    ("evidence", evidence),
    ("multipart", multipart),
    ("api_json", api_json),
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime starts"))
}

/// The whole verification pipeline: any bytes (JSON, JWT, PNG, SVG, URL-ish text) give a
/// report.
pub fn verify(data: &[u8]) {
    let loader = StaticLoader::new();
    let _ = verify_any(data, &VerifyOptions::new(&loader, 1_790_000_000).with_clock_skew(60));
}

/// Reading baked PNG and SVG badges.
pub fn unbake(data: &[u8]) {
    let _ = cairn_vc::bake::unbake(data);
}

/// The SVG sanitiser: any bytes are offered as an SVG badge (a root element is put in front of
/// those that do not look like one); an accepted SVG is accepted again unchanged.
pub fn svg_sanitise(data: &[u8]) {
    let input = if sniff(data) == Some(ImageType::Svg) { data.to_vec() } else { [b"<svg ".as_slice(), data].concat() };
    if let Ok((ImageType::Svg, clean)) = accept_badge_image(&input, Some("image/svg+xml")) {
        let again = accept_badge_image(&clean, Some("image/svg+xml"));
        assert_eq!(again.as_ref().map(|(_, bytes)| bytes), Ok(&clean), "a sanitised SVG changes when sanitised again");
    }
}

/// Badge image uploads of any kind: refused, or accepted as a PNG or SVG.
pub fn badge_image(data: &[u8]) {
    let _ = accept_badge_image(data, None);
}

/// The declared types [`evidence`] picks from with its first byte.
const DECLARED: &[Option<&str>] = &[None, Some("application/pdf"), Some("image/png"), Some("image/jpeg"), Some("text/plain"), Some("application/octet-stream")];

/// Evidence uploads: the first byte picks the declared type, the rest is the file; a cleaned
/// file is accepted again as the same type.
pub fn evidence(data: &[u8]) {
    let Some((&choice, file)) = data.split_first() else { return };
    let declared = DECLARED[usize::from(choice) % DECLARED.len()];
    if let Ok((kind, clean)) = accept_evidence(file, declared) {
        let again = accept_evidence(&clean, Some(kind.media_type()));
        assert_eq!(again.as_ref().map(|(kind, _)| *kind), Ok(kind), "a cleaned file is refused when uploaded again");
    }
}

/// A 64-byte file cap that makes refusals common.
const TINY: UploadLimits = UploadLimits { file_fields: &["file"], max_file_bytes: 64, text_fields: &["csrf", "title"] };

fn within_caps(form: &UploadForm, limits: &UploadLimits) {
    if let Some(file) = &form.file {
        assert!(file.bytes.len() <= limits.max_file_bytes, "a file of {} bytes passed the {}-byte cap", file.bytes.len(), limits.max_file_bytes);
        assert!(limits.file_fields.contains(&file.field.as_str()), "the file came in the field {}", file.field);
    }
    assert!(form.texts.len() <= MAX_PARTS, "{} text fields passed the cap", form.texts.len());
    for (name, text) in &form.texts {
        assert!(limits.text_fields.contains(&name.as_str()), "the text field {name} is not one of the form's");
        // Invalid UTF-8 is replaced, one to three bytes becoming the three of U+FFFD.
        assert!(text.len() <= 3 * MAX_TEXT_FIELD_BYTES, "the text field {name} passed its cap");
    }
}

/// Upload reading ([`read_upload`]): the first byte picks the limits (evidence, image, or
/// [`TINY`]), the rest is a multipart body with the boundary `cairnfuzz`. Nothing read, whether
/// the form is accepted or refused, passes its cap.
pub fn multipart(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else { return };
    let limits = match choice % 3 {
        0 => UploadLimits::EVIDENCE,
        1 => UploadLimits::IMAGE,
        _ => TINY,
    };
    let request = Request::post("/").header("content-type", "multipart/form-data; boundary=cairnfuzz").body(Body::from(body.to_vec()));
    let Ok(request) = request else { return };
    match runtime().block_on(read_upload(request, &limits)) {
        Ok(form) => within_caps(&form, &limits),
        Err(error) => within_caps(&error.read, &limits),
    }
}

/// The API's JSON inputs: the first byte picks the input ([`JSON_INPUTS`]), the rest is the
/// body. A body that cannot be read is a client error (400, 413 or 415).
pub fn api_json(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else { return };
    if let Outcome::Unreadable(problem) = runtime().block_on(read_api_json(which, body)) {
        let status = problem.status.as_u16();
        assert!(matches!(status, 400 | 413 | 415), "an unreadable body is a client error, got {status}: {}", problem.detail);
    }
}
