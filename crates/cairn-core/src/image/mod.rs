//! Badge image uploads: recognising PNG and SVG, validating PNGs, sanitising SVGs, and drawing the generated default badge.
//!
//! Badge images are shown to anyone who views a credential, so an upload is only stored once it
//! is known to be a PNG that decodes cleanly (`png.rs`) or an SVG rebuilt from an allowlist of
//! plain drawing elements, with nothing that runs script or loads anything from elsewhere
//! (`svg.rs`). Issuers without an image get a generated one (`default_badge.rs`).

mod default_badge;
mod png;
mod svg;

pub use default_badge::{BadgeArt, TextBox, default_badge_svg};
pub use svg::{MAX_SVG_ATTRIBUTES, MAX_SVG_DEPTH, MAX_SVG_ELEMENTS, MAX_SVG_NAMESPACES};

/// The largest upload accepted, in bytes.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The widest and tallest PNG accepted, in pixels.
pub const MAX_PNG_SIDE: u32 = 4096;

/// The image formats a badge may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Svg,
}

impl ImageType {
    /// The media type to serve the image with.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Svg => "image/svg+xml",
        }
    }

    /// The file name extension to store the image under.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Svg => "svg",
        }
    }
}

/// Why an uploaded badge image was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("image is empty")]
    Empty,
    #[error("image is {size} bytes, more than the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("image is neither a png nor an svg")]
    UnknownType,
    #[error("image was declared as \"{declared}\" but is \"{actual}\"")]
    TypeMismatch { declared: String, actual: &'static str },
    #[error("png is damaged: {0}")]
    BadPng(String),
    #[error("png is {width}x{height} pixels, more than the {side}x{side} limit", side = MAX_PNG_SIDE)]
    PngTooBig { width: u32, height: u32 },
    #[error("svg is not acceptable: {0}")]
    BadSvg(String),
    #[error(
        "svg is too complex: it has more than {depth} levels of nesting, {elements} elements, {attributes} attributes on one element or {namespaces} namespace declarations",
        depth = MAX_SVG_DEPTH,
        elements = MAX_SVG_ELEMENTS,
        attributes = MAX_SVG_ATTRIBUTES,
        namespaces = MAX_SVG_NAMESPACES
    )]
    SvgTooComplex,
}

/// Checks an uploaded badge image and returns its type and the bytes to store: PNG bytes unchanged after validation; SVG re-serialised after sanitising.
///
/// `declared` is the client's Content-Type (may be None or "application/octet-stream"); if it names png or svg and disagrees with the sniffed bytes, that is TypeMismatch.
pub fn accept_badge_image(bytes: &[u8], declared: Option<&str>) -> Result<(ImageType, Vec<u8>), ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge { size: bytes.len(), max: MAX_IMAGE_BYTES });
    }
    let actual = sniff(bytes).ok_or(ImageError::UnknownType)?;
    if let Some(declared) = declared
        && declared_type(declared).is_some_and(|claimed| claimed != actual)
    {
        // The header is client-supplied, so only a bounded piece of it goes into the message.
        let declared: String = declared.trim().chars().take(100).collect();
        return Err(ImageError::TypeMismatch { declared, actual: actual.media_type() });
    }
    match actual {
        ImageType::Png => {
            png::validate_png(bytes)?;
            Ok((ImageType::Png, bytes.to_vec()))
        }
        ImageType::Svg => Ok((ImageType::Svg, svg::sanitise_svg(bytes)?)),
    }
}

/// Recognises a PNG by its signature and an SVG by its root element `<svg`, which may follow a
/// byte-order mark, whitespace, an XML declaration or other processing instructions, comments
/// and a document type declaration (the sanitiser refuses the latter, but it is still an SVG).
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(png::PNG_SIGNATURE) {
        return Some(ImageType::Png);
    }
    let root = skip_xml_prolog(bytes)?;
    let after_name = root.strip_prefix(b"<svg")?;
    match after_name.first() {
        Some(b) if b.is_ascii_whitespace() || *b == b'>' || *b == b'/' => Some(ImageType::Svg),
        _ => None,
    }
}

/// The type named by a Content-Type header, when it names one of ours.
fn declared_type(content_type: &str) -> Option<ImageType> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "image/png" | "image/x-png" | "image/apng" => Some(ImageType::Png),
        "image/svg+xml" | "image/svg" => Some(ImageType::Svg),
        _ => None,
    }
}

/// The bytes from the first element's `<` on, past anything allowed before it.
fn skip_xml_prolog(bytes: &[u8]) -> Option<&[u8]> {
    let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b"<?") {
            rest = after(rest, b"?>")?;
        } else if rest.starts_with(b"<!--") {
            rest = after(&rest[4..], b"-->")?;
        } else if rest.get(..9).is_some_and(|start| start.eq_ignore_ascii_case(b"<!doctype")) {
            // An internal subset in brackets may contain `>`, so skip it before looking for the end.
            // The bracket is only looked for before the first `>`, which keeps a run of many
            // declarations linear to scan.
            let close = rest.iter().position(|&b| b == b'>')?;
            rest = match rest[..close].iter().position(|&b| b == b'[') {
                Some(open) => after(after(&rest[open..], b"]")?, b">")?,
                None => &rest[close + 1..],
            };
        } else {
            return Some(rest);
        }
    }
}

/// The part of `haystack` after the first `needle`, which must not be empty (every caller passes
/// a literal).
fn after<'a>(haystack: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    let at = haystack.windows(needle.len()).position(|window| window == needle)?;
    Some(&haystack[at + needle.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const NS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";

    /// Checks the outcome of an upload: the accepted type, or the start of the error message.
    pub(super) fn check(bytes: &[u8], declared: Option<&str>, expected: Result<ImageType, &str>) {
        let outcome = accept_badge_image(bytes, declared);
        match (&outcome, expected) {
            (Ok((actual, _)), Ok(expected)) => assert_eq!(*actual, expected),
            (Err(error), Err(expected)) => {
                assert!(error.to_string().starts_with(expected), "expected {expected:?}, got {:?}", error.to_string())
            }
            _ => panic!("expected {expected:?}, got {outcome:?}"),
        }
    }

    fn check_sniff(bytes: &[u8], expected: Option<ImageType>) {
        assert_eq!(sniff(bytes), expected, "sniffing {:?}", String::from_utf8_lossy(bytes));
    }

    #[test]
    fn image_types_name_their_media_type_and_extension() {
        assert_eq!(ImageType::Png.media_type(), "image/png");
        assert_eq!(ImageType::Svg.media_type(), "image/svg+xml");
        assert_eq!(ImageType::Png.extension(), "png");
        assert_eq!(ImageType::Svg.extension(), "svg");
    }

    #[test]
    fn sniffing_recognises_png_and_svg_only() {
        check_sniff(png::PNG_SIGNATURE, Some(ImageType::Png));
        check_sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", Some(ImageType::Svg));
        check_sniff(b"<svg>", Some(ImageType::Svg));
        check_sniff(b"<svg/>", Some(ImageType::Svg));
        check_sniff(b"\xEF\xBB\xBF \n\t<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<svg\nwidth=\"1\">", Some(ImageType::Svg));
        check_sniff(b"<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\"><svg>", Some(ImageType::Svg));
        check_sniff(b"<!DOCTYPE svg [<!ENTITY a \">\">]><svg>", Some(ImageType::Svg));
        check_sniff(b"<svgx>", None);
        check_sniff(b"<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\">", None);
        check_sniff(b"<html><svg>", None);
        check_sniff(b"<?xml version=\"1.0\"", None);
        check_sniff(b"<!-- <svg>", None);
        check_sniff(b"GIF89a", None);
        check_sniff(b"\x89PNG", None);
        check_sniff(b"", None);
    }

    #[test]
    fn uploads_are_checked_for_size_type_and_label() {
        let small = png::tests::png(16, 16);
        check(&small, None, Ok(ImageType::Png));
        check(&small, Some("image/png"), Ok(ImageType::Png));
        check(&small, Some(" IMAGE/PNG; charset=binary"), Ok(ImageType::Png));
        check(&small, Some("application/octet-stream"), Ok(ImageType::Png));
        check(&small, Some("image/svg+xml"), Err("image was declared as \"image/svg+xml\" but is \"image/png\""));
        check(format!("<svg {NS}/>").as_bytes(), Some("image/png"), Err("image was declared as \"image/png\" but is \"image/svg+xml\""));
        check(format!("<svg {NS}/>").as_bytes(), Some("text/xml"), Ok(ImageType::Svg));
        check(b"", None, Err("image is empty"));
        check(&vec![0u8; MAX_IMAGE_BYTES + 1], None, Err("image is 2097153 bytes, more than the 2097152-byte limit"));
        check(b"GIF89a\x01\x00\x01\x00", Some("image/gif"), Err("image is neither a png nor an svg"));
        check(b"<html><body>hi</body></html>", None, Err("image is neither a png nor an svg"));
    }
}
