//! Fuzzes upload reading (`cairn_server::upload::read_upload`, used by every evidence and image
//! upload): the first byte picks the limits (evidence, image, or a 64-byte file cap that makes
//! refusals common), the rest is a multipart body with the boundary `cairnfuzz`. Any bytes must
//! be read or refused, never panic, and nothing read may pass its cap.
#![no_main]

use axum::body::Body;
use axum::extract::Request;
use cairn_server::upload::{MAX_PARTS, MAX_TEXT_FIELD_BYTES, UploadForm, UploadLimits, read_upload};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const TINY: UploadLimits = UploadLimits { file_fields: &["file"], max_file_bytes: 64, text_fields: &["csrf", "title"] };

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime starts"))
}

fn within_caps(form: &UploadForm, limits: &UploadLimits) {
    if let Some(file) = &form.file {
        assert!(file.bytes.len() <= limits.max_file_bytes, "a file of {} bytes passed the {}-byte cap", file.bytes.len(), limits.max_file_bytes);
        assert!(limits.file_fields.contains(&file.field.as_str()));
    }
    assert!(form.texts.len() <= MAX_PARTS);
    for (name, text) in &form.texts {
        assert!(limits.text_fields.contains(&name.as_str()));
        // Invalid UTF-8 is replaced, one to three bytes becoming the three of U+FFFD.
        assert!(text.len() <= 3 * MAX_TEXT_FIELD_BYTES, "the text field {name} passed its cap");
    }
}

fuzz_target!(|data: &[u8]| {
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
});
