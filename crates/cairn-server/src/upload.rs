//! Reading multipart uploads (evidence files, badge and organisation images) with a byte cap:
//! a file is read chunk by chunk and refused as soon as it passes its limit, so no more than
//! the limit is ever held for one field, whatever the body claims. Text fields (`csrf`,
//! `title`) have a small cap of their own, and a form has a bounded number of parts; fields the
//! form does not name are skipped unread.
//!
//! The API and the pages read every upload through [`read_upload`]; the `multipart` fuzz target
//! feeds it arbitrary bodies, which is why it is public.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use cairn_core::evidence::size_text;

use crate::problem::Problem;

/// Largest text field of an upload form, in bytes.
pub const MAX_TEXT_FIELD_BYTES: usize = 8 * 1024;

/// Most parts in one upload form.
pub const MAX_PARTS: usize = 16;

/// What an upload form may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// The names the file may come under.
    pub file_fields: &'static [&'static str],
    /// Largest file, in bytes.
    pub max_file_bytes: usize,
    /// The text fields kept; others are skipped.
    pub text_fields: &'static [&'static str],
}

impl UploadLimits {
    /// An evidence upload: `file`, with `title` (and `csrf` on the pages).
    pub const EVIDENCE: UploadLimits =
        UploadLimits { file_fields: &["file"], max_file_bytes: cairn_core::evidence::MAX_EVIDENCE_BYTES, text_fields: &["csrf", "title"] };

    /// A badge or organisation image: `file` or `image` (and `csrf` on the pages).
    pub const IMAGE: UploadLimits =
        UploadLimits { file_fields: &["file", "image"], max_file_bytes: cairn_core::image::MAX_IMAGE_BYTES, text_fields: &["csrf"] };
}

/// An uploaded file as sent: its bytes, the name and type the client gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadedFile {
    /// The form field it came in.
    pub field: String,
    pub file_name: Option<String>,
    pub declared_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The fields of an upload form that were read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadForm {
    pub file: Option<UploadedFile>,
    /// Text fields in the order sent (only those [`UploadLimits::text_fields`] names).
    pub texts: Vec<(String, String)>,
}

impl UploadForm {
    /// The first value of text field `name`, or "".
    pub fn text(&self, name: &str) -> &str {
        self.texts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Why an upload could not be read, with what was read before it (a form shown again keeps
/// the title typed; a page checks the CSRF token read so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError {
    pub kind: UploadErrorKind,
    pub read: UploadForm,
}

/// What went wrong reading an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadErrorKind {
    /// A file or field over its cap, or a body over the route's limit: reading stopped there.
    TooLarge(String),
    /// Not a multipart body, or a broken one.
    Malformed(String),
}

impl UploadError {
    fn new(kind: UploadErrorKind, read: &UploadForm) -> UploadError {
        UploadError { kind, read: read.clone() }
    }

    /// Whether the upload was refused for its size.
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, UploadErrorKind::TooLarge(_))
    }

    /// The sentence people are shown.
    pub fn detail(&self) -> &str {
        match &self.kind {
            UploadErrorKind::TooLarge(detail) | UploadErrorKind::Malformed(detail) => detail,
        }
    }
}

impl From<UploadError> for Problem {
    fn from(error: UploadError) -> Problem {
        match error.kind {
            UploadErrorKind::TooLarge(detail) => Problem::too_large(detail),
            UploadErrorKind::Malformed(detail) => Problem::malformed(detail),
        }
    }
}

/// Reads a multipart upload form within `limits`.
///
/// # Errors
/// [`UploadErrorKind::Malformed`] for a body that is not multipart, is broken, has more than
/// [`MAX_PARTS`] parts or two files; [`UploadErrorKind::TooLarge`] as soon as the file passes
/// [`UploadLimits::max_file_bytes`], a text field passes [`MAX_TEXT_FIELD_BYTES`], or the body
/// passes the route's body limit.
pub async fn read_upload(request: Request, limits: &UploadLimits) -> Result<UploadForm, UploadError> {
    let mut form = UploadForm::default();
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(multipart) => multipart,
        Err(rejection) => return Err(UploadError::new(UploadErrorKind::Malformed(rejection.body_text()), &form)),
    };
    let mut parts = 0;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(form),
            Err(error) => return Err(UploadError::new(broken(&error), &form)),
        };
        parts += 1;
        if parts > MAX_PARTS {
            return Err(UploadError::new(UploadErrorKind::Malformed(format!("an upload form has at most {MAX_PARTS} parts")), &form));
        }
        let name = field.name().unwrap_or("").to_string();
        if limits.file_fields.contains(&name.as_str()) {
            if form.file.is_some() {
                return Err(UploadError::new(UploadErrorKind::Malformed("send one file per upload".into()), &form));
            }
            let file_name = field.file_name().map(|n| n.chars().take(255).collect());
            let declared_type = field.content_type().map(|t| t.chars().take(255).collect());
            let bytes = read_capped(&mut field, limits.max_file_bytes).await.map_err(|error| {
                UploadError::new(error.into_kind(|| format!("the file is larger than the {} allowed", size_text(limits.max_file_bytes as u64))), &form)
            })?;
            form.file = Some(UploadedFile { field: name, file_name, declared_type, bytes });
        } else if limits.text_fields.contains(&name.as_str()) {
            let bytes = read_capped(&mut field, MAX_TEXT_FIELD_BYTES).await.map_err(|error| {
                UploadError::new(error.into_kind(|| format!("the field \"{name}\" is longer than {}", size_text(MAX_TEXT_FIELD_BYTES as u64))), &form)
            })?;
            form.texts.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        // Any other field is skipped: the next `next_field` reads past it without keeping it.
    }
}

/// Why reading a field stopped.
enum ReadError {
    OverCap,
    Broken(MultipartError),
}

impl ReadError {
    fn into_kind(self, over_cap: impl FnOnce() -> String) -> UploadErrorKind {
        match self {
            ReadError::OverCap => UploadErrorKind::TooLarge(over_cap()),
            ReadError::Broken(error) => broken(&error),
        }
    }
}

fn broken(error: &MultipartError) -> UploadErrorKind {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        UploadErrorKind::TooLarge("the upload is larger than this server accepts".into())
    } else {
        UploadErrorKind::Malformed(error.body_text())
    }
}

/// Reads a field's bytes, stopping at the first chunk that would take it past `cap`. The
/// buffer grows geometrically but never beyond `cap`.
async fn read_capped(field: &mut Field<'_>, cap: usize) -> Result<Vec<u8>, ReadError> {
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(ReadError::Broken)? {
        let needed = bytes.len().saturating_add(chunk.len());
        if needed > cap {
            return Err(ReadError::OverCap);
        }
        if needed > bytes.capacity() {
            let target = needed.max(bytes.capacity().saturating_mul(2)).min(cap);
            bytes.reserve_exact(target - bytes.len());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    const BOUNDARY: &str = "cairn-upload-test";

    fn request(body: Vec<u8>) -> Request {
        axum::http::Request::post("/").header("content-type", format!("multipart/form-data; boundary={BOUNDARY}")).body(Body::from(body)).unwrap()
    }

    fn part(name: &str, file: Option<(&str, &str)>, content: &[u8]) -> Vec<u8> {
        let mut head = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"");
        if let Some((file_name, media_type)) = file {
            head.push_str(&format!("; filename=\"{file_name}\"\r\nContent-Type: {media_type}"));
        }
        head.push_str("\r\n\r\n");
        [head.as_bytes(), content, b"\r\n"].concat()
    }

    fn body(parts: &[Vec<u8>]) -> Vec<u8> {
        [parts.concat(), format!("--{BOUNDARY}--\r\n").into_bytes()].concat()
    }

    const SMALL: UploadLimits = UploadLimits { file_fields: &["file"], max_file_bytes: 10, text_fields: &["csrf", "title"] };

    async fn read(parts: &[Vec<u8>]) -> Result<UploadForm, UploadError> {
        read_upload(request(body(parts)), &SMALL).await
    }

    #[tokio::test]
    async fn a_form_gives_its_file_and_named_texts() {
        let form = read(&[part("title", None, b"My notes"), part("other", None, b"skipped"), part("file", Some(("n.txt", "text/plain")), b"0123456789")])
            .await
            .unwrap();
        assert_eq!(form.text("title"), "My notes");
        assert_eq!(form.text("csrf"), "");
        assert_eq!(form.texts.len(), 1, "unnamed fields are not kept");
        let file = form.file.unwrap();
        assert_eq!((file.field.as_str(), file.file_name.as_deref(), file.declared_type.as_deref()), ("file", Some("n.txt"), Some("text/plain")));
        assert_eq!(file.bytes, b"0123456789");
        assert_eq!(read(&[]).await.unwrap(), UploadForm::default());
    }

    #[tokio::test]
    async fn a_file_over_its_cap_is_refused_with_what_was_read_before() {
        let error = read(&[part("title", None, b"Kept"), part("file", Some(("n.txt", "text/plain")), b"01234567890")]).await.unwrap_err();
        assert!(error.is_too_large(), "{error:?}");
        assert_eq!(error.detail(), "the file is larger than the 10 bytes allowed");
        assert_eq!(error.read.text("title"), "Kept");
        let long = vec![b'x'; MAX_TEXT_FIELD_BYTES + 1];
        let error = read(&[part("title", None, &long)]).await.unwrap_err();
        assert_eq!(error.detail(), "the field \"title\" is longer than 8 KB");
        // A skipped field is not held, so its size does not matter here (the route's body limit caps it).
        assert!(read(&[part("other", None, &long)]).await.is_ok());
    }

    #[tokio::test]
    async fn broken_or_odd_forms_are_malformed() {
        let not_multipart = axum::http::Request::post("/").header("content-type", "application/json").body(Body::from("{}")).unwrap();
        let error = read_upload(not_multipart, &SMALL).await.unwrap_err();
        assert!(matches!(error.kind, UploadErrorKind::Malformed(_)), "{error:?}");
        let two = read(&[part("file", Some(("a", "text/plain")), b"a"), part("file", Some(("b", "text/plain")), b"b")]).await.unwrap_err();
        assert_eq!(two.detail(), "send one file per upload");
        let many: Vec<Vec<u8>> = (0..=MAX_PARTS).map(|_| part("other", None, b"x")).collect();
        assert_eq!(read(&many).await.unwrap_err().detail(), "an upload form has at most 16 parts");
        let cut = part("file", Some(("a", "text/plain")), b"abc");
        let error = read_upload(request(cut), &SMALL).await.unwrap_err();
        assert!(matches!(error.kind, UploadErrorKind::Malformed(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_body_over_the_route_limit_is_too_large() {
        use axum::routing::post;
        use tower::ServiceExt;
        let route = axum::Router::new()
            .route(
                "/",
                post(|request: Request| async move {
                    match read_upload(request, &SMALL).await {
                        Ok(_) => "read".to_string(),
                        Err(error) => format!("{error:?}"),
                    }
                }),
            )
            .layer(axum::extract::DefaultBodyLimit::max(1024));
        let response = route.oneshot(request(body(&[part("other", None, &[b'x'; 4096])]))).await.unwrap();
        let text = String::from_utf8(axum::body::to_bytes(response.into_body(), 100_000).await.unwrap().to_vec()).unwrap();
        assert!(text.contains("TooLarge(\"the upload is larger than this server accepts\")"), "{text}");
    }
}
