//! Evidence files: which types are accepted, sniffed from their bytes (never trusted from the
//! name or declared type), size-limited, and stripped of embedded metadata (author, camera,
//! location) so nothing in a file's container identifies the learner to an assessor.

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
}

/// Checks an uploaded evidence file and returns its type and its bytes with metadata removed.
///
/// # Errors
/// [`EvidenceError`] for empty, oversized, unknown, mislabelled or damaged files.
pub fn accept_evidence(bytes: &[u8], declared: Option<&str>) -> Result<(EvidenceType, Vec<u8>), EvidenceError> {
    if bytes.is_empty() {
        return Err(EvidenceError::Empty);
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(EvidenceError::TooLarge { size: bytes.len(), max: MAX_EVIDENCE_BYTES });
    }
    let actual = sniff(bytes).ok_or(EvidenceError::UnknownType)?;
    if let Some(declared) = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).filter(|d| !d.is_empty()) {
        let generic = matches!(declared.as_str(), "application/octet-stream" | "binary/octet-stream");
        let matches = match EvidenceType::from_media_type(&declared) {
            Some(EvidenceType::Text) => actual == EvidenceType::Text,
            Some(kind) => kind == actual,
            None => generic,
        };
        if !matches {
            return Err(EvidenceError::TypeMismatch { declared, actual: actual.label() });
        }
    }
    let clean = match actual {
        EvidenceType::Png => strip_png(bytes)?,
        EvidenceType::Jpeg => strip_jpeg(bytes)?,
        EvidenceType::Pdf | EvidenceType::Text => bytes.to_vec(),
    };
    Ok((actual, clean))
}

fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
    if bytes.starts_with(b"%PDF-") {
        Some(EvidenceType::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(EvidenceType::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(EvidenceType::Jpeg)
    } else if std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0')) {
        Some(EvidenceType::Text)
    } else {
        None
    }
}

/// Drops PNG text, time and EXIF chunks (`tEXt`, `zTXt`, `iTXt`, `tIME`, `eXIf`), walking the
/// chunk list and checking each chunk's bounds.
fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..8]);
    let mut at = 8usize;
    let mut seen_end = false;
    while at < bytes.len() {
        let header = bytes.get(at..at + 8).ok_or_else(|| EvidenceError::Corrupt("a PNG chunk header is cut short".into()))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = at.checked_add(12).and_then(|n| n.checked_add(length)).filter(|&end| end <= bytes.len());
        let end = end.ok_or_else(|| EvidenceError::Corrupt("a PNG chunk runs past the end of the file".into()))?;
        let kind = &header[4..8];
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" | b"eXIf") {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
        if kind == b"IEND" {
            seen_end = true;
            break;
        }
    }
    if !seen_end {
        return Err(EvidenceError::Corrupt("the PNG has no end chunk".into()));
    }
    Ok(out)
}

/// Drops JPEG application segments that carry metadata (APP1 EXIF/XMP, APP13 IPTC) and comments,
/// keeping APP0 (JFIF), APP2 (ICC colour profiles) and APP14 (Adobe colour transform).
fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut at = 2usize;
    loop {
        let marker = bytes.get(at..at + 2).ok_or_else(|| EvidenceError::Corrupt("the JPEG ends before its image data".into()))?;
        if marker[0] != 0xFF {
            return Err(EvidenceError::Corrupt("a JPEG segment marker is missing".into()));
        }
        let kind = marker[1];
        if kind == 0xDA || kind == 0xD9 {
            // Start of scan (or an image with no scan): the rest is image data.
            out.extend_from_slice(&bytes[at..]);
            return Ok(out);
        }
        let length = bytes
            .get(at + 2..at + 4)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
            .ok_or_else(|| EvidenceError::Corrupt("a JPEG segment is cut short".into()))?;
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            return Err(EvidenceError::Corrupt("a JPEG segment runs past the end of the file".into()));
        }
        if !matches!(kind, 0xE1 | 0xED | 0xFE) {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }

    fn png_with_author() -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"Author\0Ada Lovelace"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        png
    }

    #[test]
    fn png_metadata_is_removed() {
        let (kind, clean) = accept_evidence(&png_with_author(), Some("image/png")).unwrap();
        assert_eq!(kind, EvidenceType::Png);
        assert!(!clean.windows(7).any(|w| w == b"Ada Lov"));
        assert!(clean.windows(4).any(|w| w == b"IDAT"));
    }

    #[test]
    fn jpeg_exif_and_comments_are_removed() {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend([0xFF, 0xE0, 0, 4, b'J', b'F']);
        let exif = b"Exif\0\0Artist=Ada Lovelace";
        jpeg.extend([0xFF, 0xE1, 0, (exif.len() + 2) as u8]);
        jpeg.extend_from_slice(exif);
        jpeg.extend([0xFF, 0xFE, 0, 5, b'A', b'd', b'a']);
        jpeg.extend([0xFF, 0xDA, 0, 2, 9, 9, 0xFF, 0xD9]);
        let (kind, clean) = accept_evidence(&jpeg, Some("image/jpeg")).unwrap();
        assert_eq!(kind, EvidenceType::Jpeg);
        assert!(!clean.windows(3).any(|w| w == b"Ada"));
        assert!(clean.ends_with(&[0xFF, 0xDA, 0, 2, 9, 9, 0xFF, 0xD9]));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        assert_eq!(accept_evidence(b"", None), Err(EvidenceError::Empty));
        assert!(matches!(accept_evidence(&vec![b'a'; MAX_EVIDENCE_BYTES + 1], None), Err(EvidenceError::TooLarge { .. })));
        assert_eq!(accept_evidence(b"\0\x01\x02binary", None), Err(EvidenceError::UnknownType));
        assert!(matches!(accept_evidence(b"%PDF-1.7 ...", Some("image/png")), Err(EvidenceError::TypeMismatch { .. })));
        assert!(matches!(accept_evidence(b"plain words", Some("application/pdf")), Err(EvidenceError::TypeMismatch { .. })));
        assert!(matches!(accept_evidence(&png_with_author()[..30], None), Err(EvidenceError::Corrupt(_))));
        assert!(matches!(accept_evidence(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF], None), Err(EvidenceError::Corrupt(_))));
        assert_eq!(accept_evidence(b"# Notes\nplain", Some("text/markdown")).unwrap().0, EvidenceType::Text);
        assert_eq!(accept_evidence(b"%PDF-1.7 ...", Some("application/octet-stream")).unwrap().0, EvidenceType::Pdf);
    }
}
