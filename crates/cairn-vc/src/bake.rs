//! Baking: credentials embedded in PNG (`iTXt`) and SVG badge images, and read back out.
//!
//! Two standards share the carriers, with different names:
//!
//! | | PNG text chunk keyword | SVG element (namespace) |
//! |---|---|---|
//! | Open Badges 3.0, "Baked Badge" (§5.3) | `openbadgecredential` | `<openbadges:credential>` (`https://purl.imsglobal.org/ob/v3p0`) |
//! | Open Badges 2.0, "Baking Specification" | `openbadges` | `<openbadges:assertion>` (`http://openbadges.org`) |
//!
//! An OB 3.0 credential is baked as its JSON (Data Integrity proof) or as its compact VC-JWT; an OB
//! 2.0 assertion as its JSON, its hosted URL or its JWS. [`BakedPayload`] names the five forms.
//!
//! Everything here is a pure function of bytes. Reading treats the image as hostile: the whole PNG
//! datastream is checked (structure and every CRC) and the whole SVG parsed, with the work bounded
//! by [`MAX_IMAGE_BYTES`], [`MAX_PAYLOAD_BYTES`] and [`MAX_SVG_DEPTH`]; SVG document type
//! declarations with an internal subset (where entities are declared) are refused, so entity
//! expansion cannot blow up. An image holds at most one badge: two carriers, of either version, are
//! an error rather than a guess.
//!
//! Writing keeps the rest of the image byte for byte: in a PNG every other chunk is copied as it
//! was; in an SVG only the badge element (and the `xmlns:openbadges` declaration on the root) is
//! inserted or replaced.
//!
//! The PNG chunk walk is written here, on purpose: a decoder (the `png` crate's) decodes pixels and
//! hands back text chunks, not the datastream, so it could neither copy the other chunks byte for
//! byte nor say which chunk of a hostile file is broken. The `png` crate still judges the header and
//! inflates compressed text; `crc32fast` computes the CRCs; `quick-xml` reads the SVG.
//!
//! ```
//! use cairn_vc::bake::{bake_svg, unbake, BakedPayload};
//!
//! let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>"#;
//! let jwt = BakedPayload::Ob3Jwt("eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln".into());
//! let baked = bake_svg(svg, &jwt)?;
//! assert_eq!(unbake(&baked)?, Some(jwt));
//! assert_eq!(unbake(svg)?, None);
//! # Ok::<(), cairn_vc::bake::BakeError>(())
//! ```

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine as _;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

/// The largest image, PNG or SVG, that is read or produced (8 MiB).
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// The largest payload that is baked or read back (2 MiB), also the cap on inflating a compressed
/// PNG text chunk.
pub const MAX_PAYLOAD_BYTES: usize = 2 * 1024 * 1024;

/// The deepest element nesting accepted in an SVG.
pub const MAX_SVG_DEPTH: usize = 256;

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// PNG §5.3: a chunk length is at most 2^31 − 1.
const PNG_MAX_CHUNK_LENGTH: u32 = 0x7FFF_FFFF;
const SVG_NAMESPACE: &[u8] = b"http://www.w3.org/2000/svg";
/// How far [`sniff`] looks for an `<svg` tag.
const SNIFF_WINDOW: usize = 8 * 1024;

/// The kind of image a badge can be baked into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// A PNG: the badge is an `iTXt` chunk.
    Png,
    /// An SVG: the badge is an element right after the `<svg>` start tag.
    Svg,
}

/// What a baked image carries.
///
/// Each variant holds the text as it sits in the image, without surrounding whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BakedPayload {
    /// An OB 3.0 credential as JSON (secured with an embedded proof).
    Ob3Json(String),
    /// An OB 3.0 credential as a compact VC-JWT.
    Ob3Jwt(String),
    /// An OB 2.0 assertion as JSON.
    Ob2Json(String),
    /// The URL of a hosted OB 2.0 assertion.
    Ob2Url(String),
    /// A signed OB 2.0 assertion as a compact JWS.
    Ob2Jws(String),
}

impl BakedPayload {
    /// The payload's text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ob3Json(text) | Self::Ob3Jwt(text) | Self::Ob2Json(text) | Self::Ob2Url(text) | Self::Ob2Jws(text) => text,
        }
    }

    /// The payload's text, owned.
    pub fn into_string(self) -> String {
        match self {
            Self::Ob3Json(text) | Self::Ob3Jwt(text) | Self::Ob2Json(text) | Self::Ob2Url(text) | Self::Ob2Jws(text) => text,
        }
    }

    fn standard(&self) -> Standard {
        match self {
            Self::Ob3Json(_) | Self::Ob3Jwt(_) => Standard::Ob3,
            Self::Ob2Json(_) | Self::Ob2Url(_) | Self::Ob2Jws(_) => Standard::Ob2,
        }
    }

    fn form(&self) -> Form {
        match self {
            Self::Ob3Json(_) | Self::Ob2Json(_) => Form::Json,
            Self::Ob3Jwt(_) | Self::Ob2Jws(_) => Form::CompactJws,
            Self::Ob2Url(_) => Form::Url,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Ob3Json(_) => "OB 3.0 JSON credential",
            Self::Ob3Jwt(_) => "OB 3.0 VC-JWT",
            Self::Ob2Json(_) => "OB 2.0 JSON assertion",
            Self::Ob2Url(_) => "OB 2.0 assertion URL",
            Self::Ob2Jws(_) => "OB 2.0 JWS",
        }
    }
}

/// Why an image could not be baked or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BakeError {
    /// The image, as given or once baked, is larger than [`MAX_IMAGE_BYTES`].
    #[error("the image is {size} bytes, more than the {limit}-byte limit")]
    ImageTooLarge {
        /// The image's size in bytes.
        size: usize,
        /// [`MAX_IMAGE_BYTES`].
        limit: usize,
    },
    /// The payload to bake, or the one found, is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("the badge payload is {size} bytes, more than the {limit}-byte limit")]
    PayloadTooLarge {
        /// The payload's size in bytes.
        size: usize,
        /// [`MAX_PAYLOAD_BYTES`].
        limit: usize,
    },
    /// The bytes start neither with the PNG signature nor with XML markup.
    #[error("the image is neither a PNG nor an SVG")]
    UnknownImageFormat,
    /// The payload to bake is not what its [`BakedPayload`] variant says it is.
    #[error("cannot bake this {kind}: {reason}")]
    InvalidPayload {
        /// The variant, in words ("OB 3.0 VC-JWT").
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PNG datastream is broken.
    #[error("invalid PNG at byte {offset}: {defect}")]
    InvalidPng {
        /// Where the defect starts.
        offset: usize,
        /// What is wrong.
        defect: PngDefect,
    },
    /// The SVG document is broken or refused.
    #[error("invalid SVG at byte {offset}: {defect}")]
    InvalidSvg {
        /// Where the defect starts (in the document's bytes).
        offset: usize,
        /// What is wrong.
        defect: SvgDefect,
    },
    /// The image carries more than one badge (the standards allow one).
    #[error("the image carries {count} baked badges; at most one is allowed")]
    MultipleBadges {
        /// How many carriers were found, of either version.
        count: usize,
    },
    /// A badge carrier is present, but what it holds is not an Open Badges payload of its version.
    #[error("the {carrier} holds no usable badge: {reason}")]
    UnrecognisedBadge {
        /// The carrier, e.g. `iTXt "openbadgecredential" chunk` or `<openbadges:assertion>`.
        carrier: String,
        /// What is wrong with its content.
        reason: String,
    },
}

/// What is wrong with a PNG datastream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PngDefect {
    /// The first eight bytes are not the PNG signature.
    #[error("no PNG signature")]
    BadSignature,
    /// The data ends inside a chunk.
    #[error("the data ends inside a chunk")]
    Truncated,
    /// A chunk claims more than the PNG maximum of 2^31 − 1 bytes.
    #[error("a chunk claims {length} bytes, more than the PNG maximum of 2^31-1")]
    ChunkLengthTooLarge {
        /// The claimed length.
        length: u32,
    },
    /// A chunk type is not four ASCII letters.
    #[error("chunk type \"{chunk}\" is not four ASCII letters")]
    InvalidChunkType {
        /// The type bytes, escaped.
        chunk: String,
    },
    /// A chunk's CRC does not match its type and data.
    #[error("chunk \"{chunk}\" fails its CRC check")]
    ChecksumMismatch {
        /// The chunk type.
        chunk: String,
    },
    /// The first chunk is not `IHDR`.
    #[error("the first chunk is \"{chunk}\", not IHDR")]
    HeaderNotFirst {
        /// The chunk type found first.
        chunk: String,
    },
    /// The `IHDR` chunk is not a valid image header.
    #[error("bad IHDR: {reason}")]
    InvalidHeader {
        /// What is wrong with it.
        reason: String,
    },
    /// A chunk that may appear once appears again.
    #[error("a second \"{chunk}\" chunk")]
    DuplicateChunk {
        /// The chunk type.
        chunk: String,
    },
    /// There is no `IDAT` chunk, so no image.
    #[error("no IDAT chunk")]
    MissingImageData,
    /// The data ends between chunks without an `IEND` chunk.
    #[error("no IEND chunk")]
    MissingEnd,
    /// Bytes follow the `IEND` chunk.
    #[error("{extra} bytes after IEND")]
    DataAfterEnd {
        /// How many.
        extra: usize,
    },
    /// A badge text chunk cannot be decoded.
    #[error("bad \"{chunk}\" text chunk: {reason}")]
    InvalidTextChunk {
        /// The chunk type (`iTXt`, `tEXt` or `zTXt`).
        chunk: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What is wrong with an SVG document, or why it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SvgDefect {
    /// The document is not UTF-8.
    #[error("the document is not UTF-8")]
    NotUtf8,
    /// The XML declaration names an encoding other than UTF-8.
    #[error("encoding \"{encoding}\" is not supported, only UTF-8")]
    UnsupportedEncoding {
        /// The declared encoding.
        encoding: String,
    },
    /// A document type declaration with an internal subset, where entities would be declared.
    #[error("a DOCTYPE with an internal subset (entity declarations) is refused")]
    DtdRefused,
    /// Elements nest deeper than [`MAX_SVG_DEPTH`].
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// [`MAX_SVG_DEPTH`].
        limit: usize,
    },
    /// The document ends before its root element is complete.
    #[error("the document ends before its root element is complete")]
    Truncated,
    /// The root element is not an SVG `<svg>`.
    #[error("the root element is <{name}>, not an SVG <svg>")]
    RootNotSvg {
        /// The root element's qualified name.
        name: String,
    },
    /// Elements or text outside the root element.
    #[error("content outside the root element")]
    ContentOutsideRoot,
    /// A badge element contains an element.
    #[error("the badge element <{name}> contains an element")]
    BadgeHasChildren {
        /// The badge element's qualified name.
        name: String,
    },
    /// The XML is not well formed.
    #[error("malformed XML: {reason}")]
    Malformed {
        /// The parser's explanation.
        reason: String,
    },
}

/// The image kind of `bytes`, from the PNG signature or from an `<svg` tag near the start of XML
/// text; `None` for anything else. This is a quick look: [`unbake`] checks the whole image.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(PNG_SIGNATURE) {
        return Some(ImageKind::Png);
    }
    let window = bytes.get(..SNIFF_WINDOW).unwrap_or(bytes);
    (looks_like_xml(bytes) && window.windows(4).any(|four| four == b"<svg")).then_some(ImageKind::Svg)
}

/// Bakes `payload` into a PNG or an SVG, whichever `image` is; see [`bake_png`] and [`bake_svg`].
///
/// # Errors
/// [`BakeError::UnknownImageFormat`] for bytes that are neither PNG nor XML, then as
/// [`bake_png`] or [`bake_svg`].
pub fn bake(image: &[u8], payload: &BakedPayload) -> Result<Vec<u8>, BakeError> {
    if image.starts_with(PNG_SIGNATURE) {
        bake_png(image, payload)
    } else if looks_like_xml(image) {
        bake_svg(image, payload)
    } else {
        Err(BakeError::UnknownImageFormat)
    }
}

/// Bakes `payload` into the PNG `image` as an uncompressed `iTXt` chunk, with keyword
/// `openbadgecredential` (OB 3.0) or `openbadges` (OB 2.0), empty language tag and translated
/// keyword: the form both OB baking specifications show.
///
/// The chunk goes right before `IEND`, where the 1EdTech samples and openbadgeslib put it (every
/// reader scans all chunks; PNG allows text chunks anywhere after `IHDR`). Any badge chunk already
/// there, `iTXt`, `tEXt` or `zTXt` of either version, is removed, so re-baking replaces. Every
/// other chunk is copied byte for byte. Surrounding whitespace of the payload is not baked.
///
/// # Errors
/// [`BakeError::InvalidPayload`] or [`BakeError::PayloadTooLarge`] for a payload that is not what
/// its variant says; [`BakeError::InvalidPng`] for a broken PNG; [`BakeError::ImageTooLarge`] when
/// the image, before or after baking, exceeds [`MAX_IMAGE_BYTES`].
pub fn bake_png(image: &[u8], payload: &BakedPayload) -> Result<Vec<u8>, BakeError> {
    let text = text_to_bake(payload)?;
    let png = read_png(image)?;
    let badge_chunk = png_chunk(*b"iTXt", &itxt_data(payload.standard().png_keyword(), text))?;
    let mut baked = Vec::with_capacity(image.len() + badge_chunk.len());
    baked.extend_from_slice(PNG_SIGNATURE);
    for chunk in png.chunks.iter().filter(|chunk| chunk.badge_standard().is_none()) {
        if &chunk.kind == b"IEND" {
            baked.extend_from_slice(&badge_chunk);
        }
        baked.extend_from_slice(chunk.raw);
    }
    check_image_size(baked.len())?;
    Ok(baked)
}

/// Bakes `payload` into the SVG `image`, right after the root `<svg>` start tag, which gets the
/// `xmlns:openbadges` declaration of the payload's version (when other elements already use the
/// `openbadges` prefix for another namespace, the root keeps it and the badge element declares
/// its own):
///
/// * [`BakedPayload::Ob3Json`] gives `<openbadges:credential><![CDATA[…]]></openbadges:credential>`;
/// * [`BakedPayload::Ob3Jwt`] gives `<openbadges:credential verify="…"></openbadges:credential>`;
/// * [`BakedPayload::Ob2Json`] gives `<openbadges:assertion verify="…"><![CDATA[…]]></openbadges:assertion>`,
///   `verify` being the assertion's `id` when that is an http(s) URL (the hosted form);
/// * [`BakedPayload::Ob2Url`] and [`BakedPayload::Ob2Jws`] give `<openbadges:assertion verify="…"/>`.
///
/// A badge element already there, of either version, is removed with the line it sat on, so
/// re-baking replaces. The rest of the document, XML declaration, DOCTYPE and comments included,
/// is kept byte for byte. A JSON text containing `]]>` is split over two CDATA sections.
///
/// # Errors
/// [`BakeError::InvalidPayload`] or [`BakeError::PayloadTooLarge`] for a payload that is not what
/// its variant says; [`BakeError::InvalidSvg`] for a broken or refused SVG (see [`unbake`]);
/// [`BakeError::ImageTooLarge`] when the image, before or after baking, exceeds
/// [`MAX_IMAGE_BYTES`].
pub fn bake_svg(image: &[u8], payload: &BakedPayload) -> Result<Vec<u8>, BakeError> {
    let text = text_to_bake(payload)?;
    let svg = read_svg(image)?;
    let standard = payload.standard();
    let root = &svg.root;
    let root_tag = svg.text.get(root.tag.clone()).ok_or_else(|| internal_svg_error(root.tag.start))?;
    let layout = tag_layout(root_tag).ok_or_else(|| internal_svg_error(root.tag.start))?;

    let mut edits = Vec::new();
    let mut element_declares_prefix = false;
    let declaration = layout.attributes.iter().find(|attribute| root_tag.get(attribute.name.clone()) == Some("xmlns:openbadges"));
    match declaration {
        Some(attribute) if root_tag.get(attribute.value.clone()) == Some(standard.svg_namespace()) => {}
        // Other elements rely on the root's binding of the prefix: leave it, and bind it on the badge.
        Some(_) if svg.openbadges_prefix_in_use => element_declares_prefix = true,
        // The old binding served only the badge element being replaced.
        Some(attribute) => edits.push(Edit::replace(shift(&attribute.value, root.tag.start), standard.svg_namespace())),
        None => {
            let at = root.tag.start + layout.attributes.last().map_or(layout.name_end, |last| last.value.end + 1);
            edits.push(Edit::replace(at..at, &format!(" xmlns:openbadges=\"{}\"", standard.svg_namespace())));
        }
    }
    let element = svg_badge_element(payload, text, element_declares_prefix);
    if root.self_closing {
        // `<svg …/>` becomes `<svg …>` + badge + `</svg>`.
        let slash = root.tag.end.checked_sub(2).filter(|&slash| svg.text.get(slash..root.tag.end) == Some("/>"));
        let slash = slash.ok_or_else(|| internal_svg_error(root.tag.start))?;
        edits.push(Edit::replace(slash..root.tag.end, &format!(">\n{element}\n</{}>", root.name)));
    } else {
        edits.push(Edit::replace(root.tag.end..root.tag.end, &format!("\n{element}")));
        for badge in &svg.badges {
            edits.push(Edit::replace(with_its_line(svg.text, badge.element.clone()), ""));
        }
    }
    let baked = apply_edits(svg.text, edits)?;
    check_image_size(baked.len())?;
    Ok(baked.into_bytes())
}

/// Reads the badge baked into a PNG or SVG image: `Ok(None)` for a valid image that carries none.
///
/// A PNG is checked whole (signature, chunk structure, every CRC, the header) before its text
/// chunks are read; `iTXt` is the standard carrier, and `tEXt` and `zTXt` chunks with a badge
/// keyword, found in older images, are read too. Compressed text inflates to at most
/// [`MAX_PAYLOAD_BYTES`].
///
/// An SVG is parsed whole: it must be UTF-8, namespace-well-formed XML whose root is `<svg>`,
/// nested at most [`MAX_SVG_DEPTH`] deep, with no DOCTYPE internal subset. The badge element may
/// sit anywhere. For OB 2.0, a `verify` URL together with a JSON body is read as the JSON (the
/// hosted assertion and its copy); otherwise `verify` wins over the body, as in the reference
/// bakery. For OB 3.0, `verify` holds a VC-JWT and the body JSON; both at once is an error.
///
/// # Errors
/// [`BakeError::UnknownImageFormat`] for bytes that are neither PNG nor XML;
/// [`BakeError::ImageTooLarge`]; [`BakeError::InvalidPng`] or [`BakeError::InvalidSvg`] for a
/// broken or refused image; [`BakeError::MultipleBadges`] for more than one carrier;
/// [`BakeError::UnrecognisedBadge`] or [`BakeError::PayloadTooLarge`] for a carrier whose content
/// is not a payload of its version.
pub fn unbake(image: &[u8]) -> Result<Option<BakedPayload>, BakeError> {
    if image.starts_with(PNG_SIGNATURE) {
        unbake_png(image)
    } else if looks_like_xml(image) {
        unbake_svg(image)
    } else {
        Err(BakeError::UnknownImageFormat)
    }
}

/// Which Open Badges version a carrier belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standard {
    Ob3,
    Ob2,
}

impl Standard {
    fn png_keyword(self) -> &'static str {
        match self {
            Self::Ob3 => "openbadgecredential",
            Self::Ob2 => "openbadges",
        }
    }

    fn svg_namespace(self) -> &'static str {
        match self {
            Self::Ob3 => "https://purl.imsglobal.org/ob/v3p0",
            Self::Ob2 => "http://openbadges.org",
        }
    }

    fn svg_local_name(self) -> &'static str {
        match self {
            Self::Ob3 => "credential",
            Self::Ob2 => "assertion",
        }
    }

    fn from_png_keyword(keyword: &[u8]) -> Option<Self> {
        [Self::Ob3, Self::Ob2].into_iter().find(|standard| standard.png_keyword().as_bytes() == keyword)
    }

    fn from_svg_element(namespace: &[u8], local_name: &[u8]) -> Option<Self> {
        [Self::Ob3, Self::Ob2]
            .into_iter()
            .find(|standard| standard.svg_namespace().as_bytes() == namespace && standard.svg_local_name().as_bytes() == local_name)
    }

    /// The payload for `text` in this version, if its form exists in this version.
    fn payload(self, form: Form, text: String) -> Option<BakedPayload> {
        match (self, form) {
            (Self::Ob3, Form::Json) => Some(BakedPayload::Ob3Json(text)),
            (Self::Ob3, Form::CompactJws) => Some(BakedPayload::Ob3Jwt(text)),
            (Self::Ob3, Form::Url) => None,
            (Self::Ob2, Form::Json) => Some(BakedPayload::Ob2Json(text)),
            (Self::Ob2, Form::CompactJws) => Some(BakedPayload::Ob2Jws(text)),
            (Self::Ob2, Form::Url) => Some(BakedPayload::Ob2Url(text)),
        }
    }
}

/// The shapes a payload text takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Json,
    CompactJws,
    Url,
}

impl Form {
    fn describe(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::CompactJws => "a compact JWS",
            Self::Url => "a URL",
        }
    }
}

/// The form of a payload `text` (already trimmed), or why it has none.
fn form_of(text: &str) -> Result<Form, String> {
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    if let Some(forbidden) = text.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!("it contains the character U+{:04X}, which neither XML nor PNG text allows", u32::from(forbidden)));
    }
    if text.starts_with('{') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(_) => Ok(Form::Json),
            Err(error) => Err(format!("it is not valid JSON ({error})")),
        };
    }
    if is_http_url(text) {
        return Ok(Form::Url);
    }
    if is_compact_jws(text) {
        return Ok(Form::CompactJws);
    }
    Err("it is neither JSON, a compact JWS nor an http(s) URL".to_owned())
}

/// XML 1.0 `Char`: no C0 controls but tab, line feed and carriage return, no U+FFFE or U+FFFF.
/// PNG text refuses NUL, so this serves both.
fn is_xml_char(c: char) -> bool {
    (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && c != '\u{FFFE}' && c != '\u{FFFF}'
}

fn is_xml_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_http_url(text: &str) -> bool {
    let bytes = text.as_bytes();
    let scheme_length = if bytes.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"https://")) {
        8
    } else if bytes.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"http://")) {
        7
    } else {
        return false;
    };
    let rest = text.get(scheme_length..).unwrap_or_default();
    !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<')
}

/// Three non-empty base64url segments whose first decodes to a JSON object with an `alg`.
fn is_compact_jws(text: &str) -> bool {
    let mut segments = text.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (segments.next(), segments.next(), segments.next(), segments.next()) else {
        return false;
    };
    let is_base64url = |segment: &str| {
        let unpadded = segment.trim_end_matches('=');
        !unpadded.is_empty() && unpadded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if ![header, payload, signature].into_iter().all(is_base64url) {
        return false;
    }
    let Ok(header) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&header).is_ok_and(|header| header.get("alg").is_some_and(serde_json::Value::is_string))
}

/// The trimmed text of `payload`, once it is known to be what its variant says.
fn text_to_bake(payload: &BakedPayload) -> Result<&str, BakeError> {
    let text = payload.as_str().trim_matches(is_xml_whitespace);
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(BakeError::PayloadTooLarge { size: text.len(), limit: MAX_PAYLOAD_BYTES });
    }
    let invalid = |reason: String| BakeError::InvalidPayload { kind: payload.describe(), reason };
    match form_of(text).map_err(invalid)? {
        form if form == payload.form() => Ok(text),
        form => Err(invalid(format!("it is {}", form.describe()))),
    }
}

/// The payload `standard` carries as `text`, or why `carrier` holds none.
fn read_payload(standard: Standard, carrier: &str, text: &str) -> Result<BakedPayload, BakeError> {
    let text = text.trim_matches(is_xml_whitespace);
    let unrecognised = |reason: String| BakeError::UnrecognisedBadge { carrier: carrier.to_owned(), reason };
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(BakeError::PayloadTooLarge { size: text.len(), limit: MAX_PAYLOAD_BYTES });
    }
    let form = form_of(text).map_err(unrecognised)?;
    standard.payload(form, text.to_owned()).ok_or_else(|| unrecognised(format!("it is {}, which this version does not bake", form.describe())))
}

fn check_image_size(size: usize) -> Result<(), BakeError> {
    if size > MAX_IMAGE_BYTES {
        return Err(BakeError::ImageTooLarge { size, limit: MAX_IMAGE_BYTES });
    }
    Ok(())
}

/// After an optional byte order mark and whitespace, the first byte is `<`.
fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

// PNG -------------------------------------------------------------------------------------------

/// One chunk of a checked PNG datastream.
#[derive(Clone, Copy)]
struct PngChunk<'a> {
    /// Where the chunk (its length field) starts.
    offset: usize,
    kind: [u8; 4],
    data: &'a [u8],
    /// Length, type, data and CRC, as in the file.
    raw: &'a [u8],
}

impl PngChunk<'_> {
    fn name(&self) -> String {
        self.kind.escape_ascii().to_string()
    }

    /// The version of the badge this chunk carries, if it is a text chunk with a badge keyword.
    fn badge_standard(&self) -> Option<Standard> {
        if !matches!(&self.kind, b"iTXt" | b"tEXt" | b"zTXt") {
            return None;
        }
        let keyword = self.data.split(|&byte| byte == 0).next().unwrap_or_default();
        Standard::from_png_keyword(keyword)
    }
}

/// A PNG whose structure, CRCs and header have been checked.
struct Png<'a> {
    header: PngChunk<'a>,
    /// Every chunk, `IHDR` first and `IEND` last.
    chunks: Vec<PngChunk<'a>>,
}

fn invalid_png(offset: usize, defect: PngDefect) -> BakeError {
    BakeError::InvalidPng { offset, defect }
}

/// Walks the whole datastream: work is linear in the image size, which is capped.
fn read_png(image: &[u8]) -> Result<Png<'_>, BakeError> {
    check_image_size(image.len())?;
    if !image.starts_with(PNG_SIGNATURE) {
        return Err(invalid_png(0, PngDefect::BadSignature));
    }
    let mut offset = PNG_SIGNATURE.len();
    let mut chunks: Vec<PngChunk<'_>> = Vec::new();
    loop {
        if offset == image.len() {
            return Err(invalid_png(offset, PngDefect::MissingEnd));
        }
        let chunk = read_png_chunk(image, offset)?;
        match (&chunk.kind, chunks.is_empty()) {
            (b"IHDR", true) => {}
            (_, true) => return Err(invalid_png(offset, PngDefect::HeaderNotFirst { chunk: chunk.name() })),
            (b"IHDR", false) => return Err(invalid_png(offset, PngDefect::DuplicateChunk { chunk: chunk.name() })),
            _ => {}
        }
        offset += chunk.raw.len();
        chunks.push(chunk);
        if &chunk.kind == b"IEND" {
            if offset != image.len() {
                return Err(invalid_png(offset, PngDefect::DataAfterEnd { extra: image.len() - offset }));
            }
            break;
        }
    }
    if !chunks.iter().any(|chunk| &chunk.kind == b"IDAT") {
        return Err(invalid_png(chunks.last().map_or(offset, |end| end.offset), PngDefect::MissingImageData));
    }
    let Some(&header) = chunks.first() else {
        return Err(invalid_png(PNG_SIGNATURE.len(), PngDefect::MissingEnd));
    };
    // The png crate knows the rules of a valid header (sizes, colour types and bit depths).
    png_decoder(&[header]).map_err(|error| invalid_png(header.offset, PngDefect::InvalidHeader { reason: error.to_string() }))?;
    Ok(Png { header, chunks })
}

fn read_png_chunk(image: &[u8], offset: usize) -> Result<PngChunk<'_>, BakeError> {
    let truncated = || invalid_png(offset, PngDefect::Truncated);
    let head: [u8; 8] = image.get(offset..offset + 8).and_then(|head| head.try_into().ok()).ok_or_else(truncated)?;
    let [l0, l1, l2, l3, t0, t1, t2, t3] = head;
    let length = u32::from_be_bytes([l0, l1, l2, l3]);
    let kind = [t0, t1, t2, t3];
    if length > PNG_MAX_CHUNK_LENGTH {
        return Err(invalid_png(offset, PngDefect::ChunkLengthTooLarge { length }));
    }
    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return Err(invalid_png(offset, PngDefect::InvalidChunkType { chunk: kind.escape_ascii().to_string() }));
    }
    let data_start = offset + 8;
    let data_end = usize::try_from(length).ok().and_then(|length| data_start.checked_add(length)).ok_or_else(truncated)?;
    let crc_end = data_end.checked_add(4).ok_or_else(truncated)?;
    let raw = image.get(offset..crc_end).ok_or_else(truncated)?;
    let data = image.get(data_start..data_end).ok_or_else(truncated)?;
    let stored: [u8; 4] = image.get(data_end..crc_end).and_then(|crc| crc.try_into().ok()).ok_or_else(truncated)?;
    if u32::from_be_bytes(stored) != crc32(&[&kind, data]) {
        return Err(invalid_png(offset, PngDefect::ChecksumMismatch { chunk: kind.escape_ascii().to_string() }));
    }
    Ok(PngChunk { offset, kind, data, raw })
}

/// Runs the png crate's decoder over the signature and `chunks` (starting with `IHDR`), leaving
/// out the image data, so what it parses costs no inflating of pixels.
fn png_decoder(chunks: &[PngChunk<'_>]) -> Result<png::StreamingDecoder, png::DecodingError> {
    let mut stream = PNG_SIGNATURE.to_vec();
    for chunk in chunks {
        stream.extend_from_slice(chunk.raw);
    }
    let mut decoder = png::StreamingDecoder::new();
    let mut image_data = Vec::new();
    let mut rest = stream.as_slice();
    while !rest.is_empty() {
        let (consumed, _) = decoder.update(rest, &mut image_data)?;
        if consumed == 0 {
            break;
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
    Ok(decoder)
}

fn unbake_png(image: &[u8]) -> Result<Option<BakedPayload>, BakeError> {
    let png = read_png(image)?;
    let badges: Vec<(PngChunk<'_>, Standard)> = png.chunks.iter().filter_map(|chunk| chunk.badge_standard().map(|standard| (*chunk, standard))).collect();
    match badges.as_slice() {
        [] => Ok(None),
        [(chunk, standard)] => {
            let text = png_text(png.header, *chunk)?;
            let carrier = format!("{} \"{}\" chunk", chunk.name(), standard.png_keyword());
            read_payload(*standard, &carrier, &text).map(Some)
        }
        several => Err(BakeError::MultipleBadges { count: several.len() }),
    }
}

/// The text of a `tEXt`, `zTXt` or `iTXt` chunk, decoded (and inflated) by the png crate.
fn png_text(header: PngChunk<'_>, chunk: PngChunk<'_>) -> Result<String, BakeError> {
    let defect = |reason: String| invalid_png(chunk.offset, PngDefect::InvalidTextChunk { chunk: chunk.name(), reason });
    let inflate_error = |error: png::DecodingError| defect(format!("cannot inflate it within {MAX_PAYLOAD_BYTES} bytes ({error})"));
    let decoder = png_decoder(&[header, chunk]).map_err(|error| defect(error.to_string()))?;
    let info = decoder.info().ok_or_else(|| defect("the decoder read no header".to_owned()))?;
    let missing = || defect("the decoder kept no text".to_owned());
    match &chunk.kind {
        b"tEXt" => Ok(latin1_or_utf8(&info.uncompressed_latin1_text.first().ok_or_else(missing)?.text)),
        b"zTXt" => {
            let mut text = info.compressed_latin1_text.first().ok_or_else(missing)?.clone();
            text.decompress_text_with_limit(MAX_PAYLOAD_BYTES).map_err(inflate_error)?;
            Ok(latin1_or_utf8(&text.get_text().map_err(inflate_error)?))
        }
        _ => {
            let mut text = info.utf8_text.first().ok_or_else(missing)?.clone();
            text.decompress_text_with_limit(MAX_PAYLOAD_BYTES).map_err(inflate_error)?;
            text.get_text().map_err(inflate_error)
        }
    }
}

/// `tEXt` and `zTXt` are Latin-1 by the PNG specification, but badge tools have written UTF-8 into
/// them (and the reference bakery reads them as UTF-8): bytes that are valid UTF-8 are read so.
fn latin1_or_utf8(latin1: &str) -> String {
    let bytes: Option<Vec<u8>> = latin1.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
    bytes.and_then(|bytes| String::from_utf8(bytes).ok()).unwrap_or_else(|| latin1.to_owned())
}

/// `iTXt` data: keyword, NUL, compression flag 0, method 0, empty language tag and translated
/// keyword (each NUL-terminated), then the UTF-8 text. The five zero bytes are what
/// openbadges-bakery strips when it reads the chunk.
fn itxt_data(keyword: &str, text: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(keyword.len() + 5 + text.len());
    data.extend_from_slice(keyword.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(text.as_bytes());
    data
}

/// A whole chunk: length, type, data, CRC.
fn png_chunk(kind: [u8; 4], data: &[u8]) -> Result<Vec<u8>, BakeError> {
    let length = u32::try_from(data.len())
        .ok()
        .filter(|&length| length <= PNG_MAX_CHUNK_LENGTH)
        .ok_or(BakeError::PayloadTooLarge { size: data.len(), limit: MAX_PAYLOAD_BYTES })?;
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&length.to_be_bytes());
    chunk.extend_from_slice(&kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&[&kind, data]).to_be_bytes());
    Ok(chunk)
}

/// The CRC-32 of PNG §5.5 (ISO 3309, the reflected polynomial 0xEDB88320) over `parts` in order.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

// SVG -------------------------------------------------------------------------------------------

/// A parsed SVG: where its root start tag is and where its badge elements are.
struct Svg<'a> {
    /// The whole document, byte order mark included.
    text: &'a str,
    root: SvgRoot,
    badges: Vec<SvgBadge>,
    /// Whether an element or attribute other than a badge element uses the `openbadges` prefix.
    openbadges_prefix_in_use: bool,
}

struct SvgRoot {
    /// The start tag, `<` to `>`.
    tag: Range<usize>,
    /// The qualified name, for closing a self-closing root.
    name: String,
    self_closing: bool,
}

struct SvgBadge {
    standard: Standard,
    /// The element, start tag to end tag.
    element: Range<usize>,
    name: String,
    verify: Option<String>,
    /// Its text and CDATA content, unescaped.
    body: String,
}

/// The namespace of an element, reduced to what matters here.
enum ElementNamespace {
    None,
    Svg,
    Other(Vec<u8>),
    Undeclared,
}

impl ElementNamespace {
    fn of(resolved: &ResolveResult<'_>) -> Self {
        match resolved {
            ResolveResult::Unbound => Self::None,
            ResolveResult::Bound(namespace) if namespace.as_ref() == SVG_NAMESPACE => Self::Svg,
            ResolveResult::Bound(namespace) => Self::Other(namespace.as_ref().to_vec()),
            ResolveResult::Unknown(_) => Self::Undeclared,
        }
    }
}

fn invalid_svg(offset: usize, defect: SvgDefect) -> BakeError {
    BakeError::InvalidSvg { offset, defect }
}

fn malformed_svg(offset: usize, reason: impl Into<String>) -> BakeError {
    invalid_svg(offset, SvgDefect::Malformed { reason: reason.into() })
}

/// For a state the parser has ruled out, reported rather than panicking.
fn internal_svg_error(offset: usize) -> BakeError {
    malformed_svg(offset, "the parser and the baker disagree about this tag")
}

fn xml_error(offset: usize, error: quick_xml::Error) -> BakeError {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match error {
        quick_xml::Error::Syntax(
            SyntaxError::UnclosedTag
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedComment
            | SyntaxError::UnclosedDoctype
            | SyntaxError::UnclosedPIOrXmlDecl,
        )
        | quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => invalid_svg(offset, SvgDefect::Truncated),
        error => malformed_svg(offset, error.to_string()),
    }
}

/// A badge element whose end tag has not been read yet.
struct OpenBadge {
    badge: SvgBadge,
    /// The depth of its content.
    depth: usize,
}

/// Parses the whole document: work is linear in its size, which is capped; depth is capped; no
/// entity is declared, so none expands.
fn read_svg(image: &[u8]) -> Result<Svg<'_>, BakeError> {
    check_image_size(image.len())?;
    let text = std::str::from_utf8(image).map_err(|error| invalid_svg(error.valid_up_to(), SvgDefect::NotUtf8))?;
    let bom = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let mut reader = NsReader::from_str(text.get(bom..).unwrap_or_default());
    reader.config_mut().check_comments = true;
    reader.config_mut().check_end_names = true;

    let mut depth = 0usize;
    let mut root: Option<SvgRoot> = None;
    let mut root_complete = false;
    let mut badges = Vec::new();
    let mut open_badge: Option<OpenBadge> = None;
    let mut openbadges_prefix_in_use = false;
    loop {
        let start = position(&reader) + bom;
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((namespace, event)) => (ElementNamespace::of(&namespace), event),
            Err(error) => return Err(xml_error(position_of_error(&reader) + bom, error)),
        };
        let end = position(&reader) + bom;
        let self_closing = matches!(event, Event::Empty(_));
        match event {
            Event::Start(tag) | Event::Empty(tag) if depth == 0 => {
                if root.is_some() {
                    return Err(invalid_svg(start, SvgDefect::ContentOutsideRoot));
                }
                openbadges_prefix_in_use |= check_tag(&tag, start)?.uses_openbadges_prefix;
                let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                if tag.local_name().as_ref() != b"svg" || !matches!(namespace, ElementNamespace::Svg | ElementNamespace::None) {
                    return Err(invalid_svg(start, SvgDefect::RootNotSvg { name }));
                }
                root = Some(SvgRoot { tag: start..end, name, self_closing });
                if self_closing {
                    root_complete = true;
                } else {
                    depth = 1;
                }
            }
            Event::Start(tag) | Event::Empty(tag) => {
                if let Some(open) = &open_badge {
                    return Err(invalid_svg(start, SvgDefect::BadgeHasChildren { name: open.badge.name.clone() }));
                }
                let facts = check_tag(&tag, start)?;
                let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                let standard = match &namespace {
                    ElementNamespace::Undeclared => return Err(malformed_svg(start, format!("element <{name}> uses an undeclared namespace prefix"))),
                    ElementNamespace::Other(uri) => Standard::from_svg_element(uri, tag.local_name().as_ref()),
                    ElementNamespace::None | ElementNamespace::Svg => None,
                };
                if let Some(standard) = standard {
                    let badge = SvgBadge { standard, element: start..end, name, verify: facts.verify, body: String::new() };
                    if self_closing {
                        badges.push(badge);
                    } else {
                        open_badge = Some(OpenBadge { badge, depth: depth + 1 });
                    }
                } else {
                    openbadges_prefix_in_use |= facts.uses_openbadges_prefix;
                }
                if !self_closing {
                    depth += 1;
                    if depth > MAX_SVG_DEPTH {
                        return Err(invalid_svg(start, SvgDefect::TooDeep { limit: MAX_SVG_DEPTH }));
                    }
                }
            }
            Event::End(_) => {
                if let Some(open) = open_badge.take_if(|open| open.depth == depth) {
                    badges.push(SvgBadge { element: open.badge.element.start..end, ..open.badge });
                }
                depth = depth.checked_sub(1).ok_or_else(|| malformed_svg(start, "an end tag with no start tag"))?;
                if depth == 0 {
                    root_complete = true;
                }
            }
            Event::Text(content) => {
                let raw = std::str::from_utf8(&content).map_err(|error| malformed_svg(start, error.to_string()))?;
                let normalised = normalize_line_ends(raw);
                let content = quick_xml::escape::unescape(&normalised).map_err(|error| xml_error(start, error.into()))?;
                if depth == 0 && !content.trim_matches(is_xml_whitespace).is_empty() {
                    return Err(invalid_svg(start, SvgDefect::ContentOutsideRoot));
                }
                if let Some(open) = &mut open_badge {
                    open.badge.body.push_str(&content);
                }
            }
            Event::CData(content) => {
                if depth == 0 {
                    return Err(invalid_svg(start, SvgDefect::ContentOutsideRoot));
                }
                let content = content.decode().map_err(|error| malformed_svg(start, error.to_string()))?;
                if let Some(open) = &mut open_badge {
                    open.badge.body.push_str(&normalize_line_ends(&content));
                }
            }
            Event::DocType(doctype) => {
                if root.is_some() {
                    return Err(malformed_svg(start, "a DOCTYPE after the root element"));
                }
                if doctype.contains(&b'[') {
                    return Err(invalid_svg(start, SvgDefect::DtdRefused));
                }
            }
            Event::Decl(declaration) => {
                if let Some(encoding) = declaration.encoding() {
                    let encoding = encoding.map_err(|error| xml_error(start, error.into()))?;
                    if !matches!(encoding.to_ascii_lowercase().as_slice(), b"utf-8" | b"utf8" | b"us-ascii" | b"ascii") {
                        return Err(invalid_svg(start, SvgDefect::UnsupportedEncoding { encoding: String::from_utf8_lossy(&encoding).into_owned() }));
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                return match root {
                    Some(root) if root_complete => Ok(Svg { text, root, badges, openbadges_prefix_in_use }),
                    _ => Err(invalid_svg(start, SvgDefect::Truncated)),
                };
            }
        }
    }
}

fn position(reader: &NsReader<&[u8]>) -> usize {
    // The document is at most MAX_IMAGE_BYTES long; an impossible overflow yields an offset that
    // slices nothing, so it surfaces as an error rather than a panic.
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

fn position_of_error(reader: &NsReader<&[u8]>) -> usize {
    usize::try_from(reader.error_position()).unwrap_or(usize::MAX)
}

/// What [`check_tag`] learns about a start tag.
struct TagFacts {
    /// The `verify` attribute, normalised and unescaped.
    verify: Option<String>,
    /// Whether the element or one of its attributes is named with the `openbadges` prefix.
    uses_openbadges_prefix: bool,
}

/// Checks every attribute of `tag` (syntax, duplicates, entities).
fn check_tag(tag: &BytesStart<'_>, offset: usize) -> Result<TagFacts, BakeError> {
    let is_openbadges = |prefix: Option<quick_xml::name::Prefix<'_>>| prefix.is_some_and(|prefix| prefix.as_ref() == b"openbadges");
    let mut facts = TagFacts { verify: None, uses_openbadges_prefix: is_openbadges(tag.name().prefix()) };
    for attribute in tag.attributes() {
        let attribute = attribute.map_err(|error| xml_error(offset, error.into()))?;
        let raw = std::str::from_utf8(&attribute.value).map_err(|error| malformed_svg(offset, error.to_string()))?;
        // XML 1.0 §3.3.3: line ends, then each whitespace character, become a space.
        let normalised = normalize_line_ends(raw).replace(['\t', '\n'], " ");
        let value = quick_xml::escape::unescape(&normalised).map_err(|error| xml_error(offset, error.into()))?;
        facts.uses_openbadges_prefix |= is_openbadges(attribute.key.prefix());
        if attribute.key.as_ref() == b"verify" {
            facts.verify = Some(value.into_owned());
        }
    }
    Ok(facts)
}

/// XML 1.0 §2.11: a parser passes CR LF, and a CR alone, on as LF.
fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    if text.contains('\r') { Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n")) } else { Cow::Borrowed(text) }
}

fn unbake_svg(image: &[u8]) -> Result<Option<BakedPayload>, BakeError> {
    let svg = read_svg(image)?;
    match svg.badges.as_slice() {
        [] => Ok(None),
        [badge] => svg_payload(badge).map(Some),
        several => Err(BakeError::MultipleBadges { count: several.len() }),
    }
}

/// OB 3.0 §5.3.2: a VC-JWT goes in `verify`, JSON in the body. OB 2.0: `verify` holds the JWS or
/// the hosted URL, and the body may hold the assertion's JSON.
fn svg_payload(badge: &SvgBadge) -> Result<BakedPayload, BakeError> {
    let carrier = format!("<{}>", badge.name);
    let verify = badge.verify.as_deref().map(|verify| verify.trim_matches(is_xml_whitespace)).filter(|verify| !verify.is_empty());
    let body = Some(badge.body.trim_matches(is_xml_whitespace)).filter(|body| !body.is_empty());
    let unrecognised = |reason: &str| BakeError::UnrecognisedBadge { carrier: carrier.clone(), reason: reason.to_owned() };
    match (badge.standard, verify, body) {
        (_, None, None) => Err(unrecognised("it is empty")),
        (Standard::Ob3, Some(_), Some(_)) => Err(unrecognised("it has both a verify attribute and content")),
        (Standard::Ob3, Some(jwt), None) => match read_payload(Standard::Ob3, &carrier, jwt)? {
            jwt @ BakedPayload::Ob3Jwt(_) => Ok(jwt),
            _ => Err(unrecognised("its verify attribute is not a compact JWS")),
        },
        // The hosted form: the assertion's URL, and a copy of the assertion.
        (Standard::Ob2, Some(url), Some(json)) if json.starts_with('{') && form_of(url) == Ok(Form::Url) => read_payload(Standard::Ob2, &carrier, json),
        (standard, Some(text), _) | (standard, None, Some(text)) => read_payload(standard, &carrier, text),
    }
}

/// The element baked for `payload`, whose trimmed text is `text`; it binds the `openbadges` prefix
/// itself when `declares_prefix`.
fn svg_badge_element(payload: &BakedPayload, text: &str, declares_prefix: bool) -> String {
    let name = match payload.standard() {
        Standard::Ob3 => "openbadges:credential",
        Standard::Ob2 => "openbadges:assertion",
    };
    let mut start_tag = format!("<{name}");
    if declares_prefix {
        start_tag.push_str(&format!(" xmlns:openbadges=\"{}\"", payload.standard().svg_namespace()));
    }
    let verify = |value: &str| format!(" verify=\"{}\"", escape_attribute(value));
    match payload {
        BakedPayload::Ob3Json(_) => format!("{start_tag}>{}</{name}>", cdata(text)),
        BakedPayload::Ob3Jwt(_) => format!("{start_tag}{}></{name}>", verify(text)),
        BakedPayload::Ob2Json(_) => {
            let verify = hosted_assertion_url(text).map(|url| verify(&url)).unwrap_or_default();
            format!("{start_tag}{verify}>{}</{name}>", cdata(text))
        }
        BakedPayload::Ob2Url(_) | BakedPayload::Ob2Jws(_) => format!("{start_tag}{}/>", verify(text)),
    }
}

/// The `id` of an OB 2.0 assertion when it is an http(s) URL, where a hosted assertion lives.
fn hosted_assertion_url(json: &str) -> Option<String> {
    let assertion: serde_json::Value = serde_json::from_str(json).ok()?;
    assertion.get("id")?.as_str().filter(|id| is_http_url(id)).map(str::to_owned)
}

fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

fn escape_attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '"' => escaped.push_str("&quot;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Where the name and attributes of a start tag sit, relative to its `<`.
struct TagLayout {
    name_end: usize,
    attributes: Vec<AttributeSpan>,
}

struct AttributeSpan {
    name: Range<usize>,
    /// Between the quotes.
    value: Range<usize>,
}

/// Lays out a start tag the XML parser has already accepted; `None` if it does not parse after
/// all.
fn tag_layout(tag: &str) -> Option<TagLayout> {
    let bytes = tag.as_bytes();
    let is_space = |i: usize| bytes.get(i).is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    let mut i = 1;
    while bytes.get(i).is_some_and(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')) {
        i += 1;
    }
    let name_end = i;
    let mut attributes = Vec::new();
    loop {
        while is_space(i) {
            i += 1;
        }
        if matches!(bytes.get(i)?, b'/' | b'>') {
            return Some(TagLayout { name_end, attributes });
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|&b| b != b'=') && !is_space(i) {
            i += 1;
        }
        let name = name_start..i;
        while is_space(i) {
            i += 1;
        }
        if *bytes.get(i)? != b'=' {
            return None;
        }
        i += 1;
        while is_space(i) {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        i += 1;
        let value_start = i;
        while bytes.get(i).is_some_and(|&b| b != quote) {
            i += 1;
        }
        bytes.get(i)?;
        attributes.push(AttributeSpan { name, value: value_start..i });
        i += 1;
    }
}

fn shift(range: &Range<usize>, by: usize) -> Range<usize> {
    range.start + by..range.end + by
}

/// `element` widened to the line break and indentation before it, when only those separate it
/// from the previous line: removing a badge then leaves no blank line, and re-baking is stable.
fn with_its_line(text: &str, element: Range<usize>) -> Range<usize> {
    let before = text.get(..element.start).unwrap_or_default();
    let indented = before.trim_end_matches([' ', '\t']);
    let Some(line_start) = indented.strip_suffix('\n') else {
        return element;
    };
    let line_start = line_start.strip_suffix('\r').unwrap_or(line_start);
    line_start.len()..element.end
}

/// A replacement of `range` in the original document.
struct Edit {
    range: Range<usize>,
    replacement: String,
}

impl Edit {
    fn replace(range: Range<usize>, replacement: &str) -> Self {
        Self { range, replacement: replacement.to_owned() }
    }
}

fn apply_edits(text: &str, mut edits: Vec<Edit>) -> Result<String, BakeError> {
    // An insertion sorts before a removal starting at the same place.
    edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut edited = String::with_capacity(text.len() + edits.iter().map(|edit| edit.replacement.len()).sum::<usize>());
    let mut kept_from = 0;
    for edit in edits {
        edited.push_str(text.get(kept_from..edit.range.start).ok_or_else(|| internal_svg_error(edit.range.start))?);
        edited.push_str(&edit.replacement);
        kept_from = edit.range.end;
    }
    edited.push_str(text.get(kept_from..).ok_or_else(|| internal_svg_error(kept_from))?);
    Ok(edited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }

    #[track_caller]
    fn check_form(text: &str, expected: Result<Form, &str>) {
        let actual = form_of(text);
        match expected {
            Ok(form) => assert_eq!(actual, Ok(form), "{text:?}"),
            Err(reason) => assert!(actual.as_ref().is_err_and(|actual| actual.contains(reason)), "{text:?} gave {actual:?}, expected an error with {reason:?}"),
        }
    }

    #[test]
    fn payload_forms_are_told_apart_by_shape() {
        check_form(r#"{"id":"urn:uuid:1"}"#, Ok(Form::Json));
        check_form("[1]", Err("neither JSON"));
        check_form("{not json", Err("not valid JSON"));
        check_form("https://example.org/assertions/1", Ok(Form::Url));
        check_form("HTTP://example.org/a", Ok(Form::Url));
        check_form("https://example.org/a b", Err("neither"));
        check_form("ftp://example.org/a", Err("neither"));
        check_form("eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln", Ok(Form::CompactJws));
        check_form("eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0", Err("neither"));
        check_form("eyJhbGciOiJFZERTQSJ9..c2ln", Err("neither"));
        check_form("eyJpZCI6InVybjp4In0.eyJpZCI6InVybjp4In0.c2ln", Err("neither"));
        check_form("a.b.c", Err("neither"));
        check_form("", Err("empty"));
        check_form("{\"a\":\"\u{0}\"}", Err("U+0000"));
    }

    #[test]
    fn tag_layout_finds_attribute_values_between_either_quote() {
        let tag = "<svg a=\"1\"\n  xmlns:openbadges = 'x>y' b=\"\"/>";
        let layout = tag_layout(tag).expect("a valid tag");
        assert_eq!(&tag[..layout.name_end], "<svg");
        let spans: Vec<(&str, &str)> = layout.attributes.iter().map(|a| (&tag[a.name.clone()], &tag[a.value.clone()])).collect();
        assert_eq!(spans, [("a", "1"), ("xmlns:openbadges", "x>y"), ("b", "")]);
        assert!(tag_layout("<svg a=1>").is_none());
    }

    #[test]
    fn a_removed_element_takes_its_line_break_and_indentation_along() {
        let text = "<svg>\r\n  <b/><c/>\n\t<d/>";
        let at = |needle: &str| text.find(needle).map(|start| start..start + needle.len()).expect("present");
        assert_eq!(&text[with_its_line(text, at("<b/>"))], "\r\n  <b/>");
        assert_eq!(&text[with_its_line(text, at("<c/>"))], "<c/>");
        assert_eq!(&text[with_its_line(text, at("<d/>"))], "\n\t<d/>");
    }

    #[test]
    fn cdata_sections_split_around_their_terminator() {
        assert_eq!(cdata(r#"{"a":"]]>"}"#), r#"<![CDATA[{"a":"]]]]><![CDATA[>"}]]>"#);
    }

    #[test]
    fn latin1_text_that_is_utf8_underneath_is_read_as_utf8() {
        assert_eq!(latin1_or_utf8("caf\u{c3}\u{a9}"), "café");
        assert_eq!(latin1_or_utf8("caf\u{e9}"), "café");
    }
}
