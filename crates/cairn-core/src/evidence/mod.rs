//! Evidence files: which types are accepted, sniffed from their bytes (never trusted from the
//! name or declared type), size-limited, and cleaned of everything in the file's container that
//! could tell an assessor who the learner is.
//!
//! Assessment is double-blind, so cleaning keeps what a viewer needs to show the content and
//! drops the rest, by allowlist where the format allows it:
//! - PDF (`pdf.rs`): the document is parsed and written out afresh without its Info dictionary,
//!   XMP metadata streams, page-piece data, attachments, scripts, signatures and annotation
//!   authors, so no earlier revision survives in the bytes.
//! - PNG (`png.rs`): only the chunks needed to draw the image are kept.
//! - JPEG (`jpeg.rs`): only the segments needed to decode the image are kept, with the
//!   orientation carried over in a fresh minimal EXIF block.
//! - Text is stored as sent.
//!
//! Office documents are refused with a request to export them to PDF, since their packages hold
//! author names, revision histories and comments in too many places to clean reliably.

mod jpeg;
mod pdf;
mod png;

/// Largest evidence file, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// The evidence file types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceType {
    Pdf,
    Png,
    Jpeg,
    /// UTF-8 text (plain text, Markdown, code).
    Text,
}

impl EvidenceType {
    /// Every accepted type, in the order they are listed to people.
    pub const ALL: [EvidenceType; 4] = [EvidenceType::Pdf, EvidenceType::Png, EvidenceType::Jpeg, EvidenceType::Text];

    pub fn media_type(self) -> &'static str {
        match self {
            EvidenceType::Pdf => "application/pdf",
            EvidenceType::Png => "image/png",
            EvidenceType::Jpeg => "image/jpeg",
            EvidenceType::Text => "text/plain; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            EvidenceType::Pdf => "pdf",
            EvidenceType::Png => "png",
            EvidenceType::Jpeg => "jpg",
            EvidenceType::Text => "txt",
        }
    }

    /// A short name for people ("PDF", "PNG image").
    pub fn label(self) -> &'static str {
        match self {
            EvidenceType::Pdf => "PDF",
            EvidenceType::Png => "PNG image",
            EvidenceType::Jpeg => "JPEG image",
            EvidenceType::Text => "Text file",
        }
    }

    /// The type a stored media type names.
    pub fn from_media_type(raw: &str) -> Option<EvidenceType> {
        match raw.split(';').next().unwrap_or("").trim() {
            "application/pdf" => Some(EvidenceType::Pdf),
            "image/png" => Some(EvidenceType::Png),
            "image/jpeg" => Some(EvidenceType::Jpeg),
            "text/plain" | "text/markdown" => Some(EvidenceType::Text),
            _ => None,
        }
    }
}

/// Why an evidence file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; evidence files may be at most {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("this kind of file is not accepted as evidence (accepted: PDF, PNG, JPEG, plain text or Markdown)")]
    UnknownType,
    #[error("the file was sent as {declared} but its content is {actual}")]
    TypeMismatch { declared: String, actual: &'static str },
    #[error("the file is damaged: {0}")]
    Corrupt(String),
    /// A document format that carries its author in too many places to clean; `kind` names it
    /// for people ("Word document").
    #[error("{kind} files are not accepted as evidence: export it to PDF (Save as or Export, then PDF) and upload the PDF")]
    ExportToPdf { kind: &'static str },
    #[error("the PDF is encrypted or password-protected: save or print an unprotected copy and upload that")]
    Encrypted,
    /// A file of an accepted type in a form that cannot be cleaned, such as an animated PNG.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// A file that does not fit in the evidence storage a learner has with an issuer
/// (`IssuerSettings::evidence_quota_mb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverQuota {
    /// Bytes the learner's files with the issuer take already.
    pub used: u64,
    /// Bytes of the file being added.
    pub adding: u64,
    /// Bytes the issuer allows each learner.
    pub allowed: u64,
}

impl std::fmt::Display for OverQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this file ({}) does not fit in your evidence storage with this issuer: you use {} of the {} allowed; remove files you no longer need",
            size_text(self.adding),
            size_text(self.used),
            size_text(self.allowed)
        )
    }
}

impl std::error::Error for OverQuota {}

/// Whether a file of `adding` bytes fits beside `used` bytes within `allowed`.
///
/// # Errors
/// [`OverQuota`] saying how much is used and allowed.
pub fn check_quota(used: u64, adding: u64, allowed: u64) -> Result<(), OverQuota> {
    match used.checked_add(adding) {
        Some(total) if total <= allowed => Ok(()),
        _ => Err(OverQuota { used, adding, allowed }),
    }
}

/// A size for people: "512 bytes", "12 KB", "3.2 MB", "200 MB" (binary units, as the limits are).
pub fn size_text(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..MB => format!("{} KB", bytes.div_ceil(1024)),
        _ if bytes.is_multiple_of(MB) => format!("{} MB", bytes / MB),
        _ => format!("{:.1} MB", bytes as f64 / MB as f64),
    }
}

/// Checks an uploaded evidence file and returns its type and its bytes with metadata removed.
///
/// # Errors
/// [`EvidenceError`] for empty, oversized, unknown, mislabelled, damaged, encrypted or
/// uncleanable files.
pub fn accept_evidence(bytes: &[u8], declared: Option<&str>) -> Result<(EvidenceType, Vec<u8>), EvidenceError> {
    if bytes.is_empty() {
        return Err(EvidenceError::Empty);
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(EvidenceError::TooLarge { size: bytes.len(), max: MAX_EVIDENCE_BYTES });
    }
    if let Some(kind) = office_document(bytes) {
        return Err(EvidenceError::ExportToPdf { kind });
    }
    let actual = sniff(bytes).ok_or(EvidenceError::UnknownType)?;
    if let Some(declared) = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).filter(|d| !d.is_empty()) {
        let generic = matches!(declared.as_str(), "application/octet-stream" | "binary/octet-stream");
        let matches = match EvidenceType::from_media_type(&declared) {
            Some(kind) => kind == actual,
            None => generic,
        };
        if !matches {
            // The header is client-supplied, so only a bounded piece of it goes into the message.
            let declared = declared.chars().take(100).collect();
            return Err(EvidenceError::TypeMismatch { declared, actual: actual.label() });
        }
    }
    let clean = match actual {
        EvidenceType::Pdf => pdf::clean(bytes)?,
        EvidenceType::Png => png::clean(bytes)?,
        EvidenceType::Jpeg => jpeg::clean(bytes)?,
        EvidenceType::Text => bytes.to_vec(),
    };
    Ok((actual, clean))
}

fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
    if bytes.starts_with(b"%PDF-") {
        Some(EvidenceType::Pdf)
    } else if bytes.starts_with(png::SIGNATURE) {
        Some(EvidenceType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(EvidenceType::Jpeg)
    } else if std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0')) {
        Some(EvidenceType::Text)
    } else {
        None
    }
}

/// Names the office document format `bytes` is in, if any: Office Open XML and OpenDocument
/// packages (ZIP archives recognised by their part names or `mimetype`), legacy Office compound
/// files, and RTF, which is text but keeps its author in an `\info` group.
fn office_document(bytes: &[u8]) -> Option<&'static str> {
    const OLE_COMPOUND_FILE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(OLE_COMPOUND_FILE) {
        return Some("Microsoft Office (.doc, .xls or .ppt)");
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some("RTF document");
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    if contains(b"word/") {
        Some("Word document (.docx)")
    } else if contains(b"xl/") {
        Some("Excel workbook (.xlsx)")
    } else if contains(b"ppt/") {
        Some("PowerPoint presentation (.pptx)")
    } else if contains(b"application/vnd.oasis.opendocument") {
        Some("OpenDocument (.odt, .ods or .odp)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_type_is_listed_once_and_reads_back_from_its_media_type() {
        for (i, kind) in EvidenceType::ALL.iter().enumerate() {
            assert_eq!(EvidenceType::from_media_type(kind.media_type()), Some(*kind));
            assert!(!EvidenceType::ALL[..i].contains(kind), "{kind:?} listed twice");
        }
        assert_eq!(EvidenceType::ALL.map(EvidenceType::label), ["PDF", "PNG image", "JPEG image", "Text file"]);
    }

    /// Checks the outcome of an upload: the accepted type, or the start of the error message.
    pub(super) fn check(bytes: &[u8], declared: Option<&str>, expected: Result<EvidenceType, &str>) {
        let outcome = accept_evidence(bytes, declared);
        match (&outcome, expected) {
            (Ok((actual, _)), Ok(expected)) => assert_eq!(*actual, expected),
            (Err(error), Err(expected)) => {
                assert!(error.to_string().starts_with(expected), "expected {expected:?}, got {:?}", error.to_string())
            }
            _ => panic!("expected {expected:?}, got {outcome:?}"),
        }
    }

    /// A ZIP local file header naming `name`, which is all the office check looks at.
    fn zip_with(name: &str) -> Vec<u8> {
        let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
        zip.extend_from_slice(&[0; 16]);
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name.as_bytes());
        zip
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        check(b"", None, Err("the file is empty"));
        check(&vec![b'a'; MAX_EVIDENCE_BYTES + 1], None, Err("the file is 10485761 bytes; evidence files may be at most 10485760 bytes"));
        check(b"\0\x01\x02binary", None, Err("this kind of file is not accepted as evidence"));
        check(b"%PDF-1.7 ...", Some("image/png"), Err("the file was sent as image/png but its content is PDF"));
        check(b"plain words", Some("application/pdf"), Err("the file was sent as application/pdf but its content is Text file"));
        check(b"plain words", Some(&"x".repeat(500)), Err(&format!("the file was sent as {} but", "x".repeat(100))));
        check(b"%PDF-1.7 ...", Some("application/octet-stream"), Err("the file is damaged: "));
        check(b"# Notes\nplain", Some("text/markdown"), Ok(EvidenceType::Text));
        check(b"# Notes\nplain", Some("text/plain; charset=utf-8"), Ok(EvidenceType::Text));
    }

    #[test]
    fn office_documents_are_refused_with_a_request_to_export_to_pdf() {
        let export = "files are not accepted as evidence: export it to PDF";
        for (bytes, kind) in [
            (zip_with("word/document.xml"), "Word document (.docx)"),
            (zip_with("xl/workbook.xml"), "Excel workbook (.xlsx)"),
            (zip_with("ppt/presentation.xml"), "PowerPoint presentation (.pptx)"),
            ([zip_with("mimetype"), b"application/vnd.oasis.opendocument.text".to_vec()].concat(), "OpenDocument (.odt, .ods or .odp)"),
            ([&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..], &[0; 504]].concat(), "Microsoft Office (.doc, .xls or .ppt)"),
            (b"{\\rtf1\\ansi{\\info{\\author Ada Lovelace}}Hello}".to_vec(), "RTF document"),
        ] {
            check(&bytes, None, Err(&format!("{kind} {export}")));
            check(&bytes, Some("application/pdf"), Err(&format!("{kind} {export}")));
        }
        check(&zip_with("notes.txt"), None, Err("this kind of file is not accepted as evidence"));
    }

    #[test]
    fn a_file_fits_the_quota_or_is_refused_saying_what_is_used_and_allowed() {
        const MB: u64 = 1024 * 1024;
        assert_eq!(check_quota(150 * MB, 50 * MB, 200 * MB), Ok(()));
        assert_eq!(check_quota(0, 0, 0), Ok(()));
        let over = check_quota(199 * MB + MB / 2, 3 * MB + MB / 5, 200 * MB).unwrap_err();
        assert_eq!(
            over.to_string(),
            "this file (3.2 MB) does not fit in your evidence storage with this issuer: you use 199.5 MB of the 200 MB allowed; remove files you no longer need"
        );
        assert!(check_quota(u64::MAX, 1, u64::MAX).is_err(), "no overflow");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        for (bytes, text) in [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KB"), (1500, "2 KB"), (1024 * 1024, "1 MB"), (3 * 1024 * 1024 / 2, "1.5 MB")] {
            assert_eq!(size_text(bytes), text);
        }
    }

    #[test]
    fn text_is_stored_as_sent() {
        let text = "Ada's notes — café\n".as_bytes();
        assert_eq!(accept_evidence(text, Some("text/plain")), Ok((EvidenceType::Text, text.to_vec())));
    }

    #[test]
    fn evidence_types_round_trip_through_their_media_type() {
        for kind in [EvidenceType::Pdf, EvidenceType::Png, EvidenceType::Jpeg, EvidenceType::Text] {
            assert_eq!(EvidenceType::from_media_type(kind.media_type()), Some(kind));
        }
        assert_eq!(EvidenceType::from_media_type("text/markdown; charset=utf-8"), Some(EvidenceType::Text));
        assert_eq!(EvidenceType::from_media_type("application/zip"), None);
    }
}
