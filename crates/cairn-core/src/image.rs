//! Badge image uploads: recognising PNG and SVG, validating PNGs, sanitising SVGs, and drawing the generated default badge.
//!
//! Badge images are shown to anyone who views a credential, so an upload is only stored once it
//! is known to be a PNG that decodes cleanly or an SVG rebuilt from an allowlist of plain
//! drawing elements, with nothing that runs script or loads anything from elsewhere.

use std::borrow::Cow;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;

/// The largest upload accepted, in bytes.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The widest and tallest PNG accepted, in pixels.
pub const MAX_PNG_SIDE: u32 = 4096;
/// How deeply SVG elements may nest.
pub const MAX_SVG_DEPTH: usize = 64;
/// How many elements an SVG may contain, kept or not.
pub const MAX_SVG_ELEMENTS: usize = 10_000;
/// How many attributes one kept SVG element may carry.
pub const MAX_SVG_ATTRIBUTES: usize = 256;
/// How many namespace declarations an SVG may contain, counted generously as mentions of `xmlns`.
pub const MAX_SVG_NAMESPACES: usize = 256;

/// The most memory the PNG decoder may reserve for chunks and buffers.
const PNG_DECODER_BYTES: usize = 64 * 1024 * 1024;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

const SVG_NS: &[u8] = b"http://www.w3.org/2000/svg";
const XLINK_NS: &[u8] = b"http://www.w3.org/1999/xlink";
const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";

/// Plain drawing elements. Anything else, including `script`, `foreignObject`, `a`, animation
/// and media elements, is dropped together with everything inside it.
const ALLOWED_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "title",
    "desc",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "image",
    "marker",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "style",
];

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
            validate_png(bytes)?;
            Ok((ImageType::Png, bytes.to_vec()))
        }
        ImageType::Svg => Ok((ImageType::Svg, sanitise_svg(bytes)?)),
    }
}

/// Recognises a PNG by its signature and an SVG by its root element `<svg`, which may follow a
/// byte-order mark, whitespace, an XML declaration or other processing instructions, comments
/// and a document type declaration (the sanitiser refuses the latter, but it is still an SVG).
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(PNG_SIGNATURE) {
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

fn validate_png(bytes: &[u8]) -> Result<(), ImageError> {
    // The header is read by hand first so an absurd canvas is reported as too big rather than as
    // whatever the decoder's limits make of it.
    if let Some((width, height)) = png_header_size(bytes)
        && (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE)
    {
        return Err(ImageError::PngTooBig { width, height });
    }
    let mut options = png::DecodeOptions::default();
    // A damaged chunk of any kind, or a damaged compressed stream, means a damaged file.
    options.set_ignore_adler32(false);
    options.set_skip_ancillary_crc_failures(false);
    let mut decoder = png::Decoder::new_with_options(bytes, options);
    decoder.set_limits(png::Limits { bytes: PNG_DECODER_BYTES });
    let mut reader = decoder.read_info().map_err(bad_png)?;
    let (width, height) = reader.info().size();
    if width > MAX_PNG_SIDE || height > MAX_PNG_SIDE {
        return Err(ImageError::PngTooBig { width, height });
    }
    // Decoding row by row walks every image data byte, so corrupt compressed data or checksums
    // fail here, while only one row is ever held in memory.
    while reader.next_row().map_err(bad_png)?.is_some() {}
    // The chunks after the image data, up to the end marker, must be sound too.
    reader.finish().map_err(bad_png)?;
    // Bytes after the end marker are ignored by decoders, which is how files that are also
    // HTML or archives are made, so a badge may not have any.
    if png_length(bytes) != Some(bytes.len()) {
        return Err(ImageError::BadPng("there is data after the end of the image".to_owned()));
    }
    Ok(())
}

/// The length of the PNG proper: its signature and its chunks up to and including `IEND`.
fn png_length(bytes: &[u8]) -> Option<usize> {
    let mut offset = PNG_SIGNATURE.len();
    // Each pass moves at least twelve bytes on, and reading past the end returns, so this ends.
    loop {
        let length: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
        let length = u32::from_be_bytes(length);
        let kind = bytes.get(offset.checked_add(4)?..offset.checked_add(8)?)?;
        offset = offset.checked_add(12)?.checked_add(usize::try_from(length).ok()?)?;
        if kind == b"IEND" {
            return (offset <= bytes.len()).then_some(offset);
        }
    }
}

/// Width and height from an `IHDR` chunk in its required place straight after the signature.
fn png_header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let header = bytes.get(8..24)?;
    if header[..4] != 13u32.to_be_bytes() || &header[4..8] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let height = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
    Some((width, height))
}

fn bad_png(error: png::DecodingError) -> ImageError {
    let message = error.to_string();
    ImageError::BadPng(message.trim_end_matches('.').to_owned())
}

fn bad_svg(message: impl Into<String>) -> ImageError {
    ImageError::BadSvg(message.into())
}

/// Rebuilds an SVG from its allowed parts, refusing documents that cannot be made safe.
fn sanitise_svg(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let text = std::str::from_utf8(bytes).map_err(|error| bad_svg(format!("not utf-8 text: {error}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Every element and attribute name is looked up among the namespace declarations in scope,
    // one by one, so their number is capped before the reader starts collecting them.
    if text.matches("xmlns").count() > MAX_SVG_NAMESPACES {
        return Err(ImageError::SvgTooComplex);
    }
    let mut reader = NsReader::from_str(text);
    let mut sanitiser =
        Sanitiser { out: Writer::new(Vec::with_capacity(text.len() + 128)), depth: 0, elements: 0, skipping_from: None, root: Root::Before, style: None };
    // Whatever encoding the upload declared, the stored copy is UTF-8 and says so.
    sanitiser.write(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(error) => return Err(bad_svg(format!("malformed xml at byte {}: {error}", reader.error_position()))),
        };
        let namespace = ElementNamespace::of(&resolved);
        match event {
            Event::Start(start) => sanitiser.open(&reader, namespace, &start, false)?,
            Event::Empty(start) => sanitiser.open(&reader, namespace, &start, true)?,
            Event::End(end) => sanitiser.close(&end)?,
            Event::Text(text) => {
                if sanitiser.outside_root(text.trim_ascii().is_empty())? {
                    continue;
                }
                let text = text.unescape().map_err(|error| bad_svg(format!("bad text: {error}")))?;
                sanitiser.text(&text)?;
            }
            Event::CData(data) => {
                if sanitiser.outside_root(false)? {
                    continue;
                }
                let data = data.decode().map_err(|error| bad_svg(format!("bad cdata: {error}")))?;
                sanitiser.text(&data)?;
            }
            // Entity declarations can expand without bound, and no badge needs a DTD.
            Event::DocType(_) => return Err(bad_svg("document type declarations are not allowed")),
            // Comments and processing instructions carry nothing a badge needs, and
            // instructions such as xml-stylesheet load things; the declaration is rewritten.
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    match sanitiser.root {
        Root::Before => Err(bad_svg("there is no svg element")),
        Root::Inside => Err(bad_svg("the document ends before the svg element is closed")),
        Root::After => Ok(sanitiser.out.into_inner()),
    }
}

/// Where the reader is relative to the root element.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    Before,
    Inside,
    After,
}

/// The namespace of an element, reduced to what the sanitiser needs to know.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ElementNamespace {
    Svg,
    /// No namespace at all: the output declares the SVG namespace as the default, which is what
    /// a browser rendering the image file as SVG assumes anyway.
    None,
    Other,
}

impl ElementNamespace {
    fn of(resolved: &ResolveResult) -> Self {
        match resolved {
            ResolveResult::Bound(Namespace(namespace)) if *namespace == SVG_NS => ElementNamespace::Svg,
            ResolveResult::Unbound => ElementNamespace::None,
            _ => ElementNamespace::Other,
        }
    }
}

/// A `style` element whose text is held back until it can be checked as a whole.
struct PendingStyle {
    /// The depth outside the element, which the reader returns to at its end.
    depth: usize,
    start: BytesStart<'static>,
    css: String,
}

struct Sanitiser {
    out: Writer<Vec<u8>>,
    /// How many elements are open in the input.
    depth: usize,
    /// How many elements have been read, kept or not.
    elements: usize,
    /// The depth outside a dropped element while its subtree is being skipped.
    skipping_from: Option<usize>,
    root: Root,
    style: Option<PendingStyle>,
}

impl Sanitiser {
    fn write<'a>(&mut self, event: impl Into<Event<'a>>) -> Result<(), ImageError> {
        // Writing to a vector cannot fail, but the error is passed on rather than assumed away.
        self.out.write_event(event).map_err(|error| bad_svg(format!("cannot write svg: {error}")))
    }

    fn open(&mut self, reader: &NsReader<&[u8]>, namespace: ElementNamespace, start: &BytesStart, empty: bool) -> Result<(), ImageError> {
        self.elements += 1;
        if self.elements > MAX_SVG_ELEMENTS || self.depth >= MAX_SVG_DEPTH {
            return Err(ImageError::SvgTooComplex);
        }
        let outer_depth = self.depth;
        if !empty {
            self.depth += 1;
        }
        let local = std::str::from_utf8(start.local_name().into_inner()).map_err(|error| bad_svg(format!("element name is not utf-8 text: {error}")))?;
        let is_root = match self.root {
            Root::Before => true,
            Root::Inside => false,
            Root::After => return Err(bad_svg("there is more than one root element")),
        };
        if is_root {
            if local != "svg" || namespace == ElementNamespace::Other {
                let name = String::from_utf8_lossy(start.name().into_inner()).chars().take(50).collect::<String>();
                return Err(bad_svg(format!("the root element is \"{name}\", not an svg element")));
            }
            self.root = if empty { Root::After } else { Root::Inside };
        }
        if self.skipping_from.is_some() {
            return Ok(());
        }
        let allowed = namespace != ElementNamespace::Other && self.style.is_none();
        let Some(&name) = ALLOWED_ELEMENTS.iter().find(|&&allowed_name| allowed && allowed_name == local) else {
            if !empty {
                self.skipping_from = Some(outer_depth);
            }
            return Ok(());
        };
        let mut element = BytesStart::new(name);
        if is_root {
            // Prefixes are not copied, so the root declares the only two namespaces the output uses.
            element.push_attribute(("xmlns", "http://www.w3.org/2000/svg"));
            element.push_attribute(("xmlns:xlink", "http://www.w3.org/1999/xlink"));
        }
        copy_attributes(reader, start, name, &mut element)?;
        if name == "style" && !empty {
            self.style = Some(PendingStyle { depth: outer_depth, start: element, css: String::new() });
            return Ok(());
        }
        if empty { self.write(Event::Empty(element)) } else { self.write(Event::Start(element)) }
    }

    fn close(&mut self, end: &BytesEnd) -> Result<(), ImageError> {
        // The reader matches end tags to start tags, so this only fails on a reader fault.
        self.depth = self.depth.checked_sub(1).ok_or_else(|| bad_svg("an end tag has no start tag"))?;
        if self.depth == 0 {
            self.root = Root::After;
        }
        match self.skipping_from {
            Some(depth) if depth == self.depth => {
                self.skipping_from = None;
                return Ok(());
            }
            Some(_) => return Ok(()),
            None => {}
        }
        let depth = self.depth;
        if let Some(style) = self.style.take_if(|style| style.depth == depth) {
            return self.write_style(style);
        }
        let local = std::str::from_utf8(end.local_name().into_inner()).map_err(|error| bad_svg(format!("element name is not utf-8 text: {error}")))?;
        self.write(Event::End(BytesEnd::new(local.to_owned())))
    }

    /// Says whether text at this point is to be ignored, refusing text outside the root unless it
    /// is blank.
    fn outside_root(&self, blank: bool) -> Result<bool, ImageError> {
        if self.root == Root::Inside {
            return Ok(self.skipping_from.is_some());
        }
        if blank { Ok(true) } else { Err(bad_svg("there is text outside the svg element")) }
    }

    fn text(&mut self, text: &str) -> Result<(), ImageError> {
        let text = xml_chars(text);
        match &mut self.style {
            Some(style) => {
                style.css.push_str(&text);
                Ok(())
            }
            None => self.write(Event::Text(BytesText::from_escaped(partial_escape(text)))),
        }
    }

    /// Writes a held-back `style` element, emptied if its CSS could load or run anything.
    fn write_style(&mut self, style: PendingStyle) -> Result<(), ImageError> {
        self.write(Event::Start(style.start))?;
        // Markup has no business in CSS, and refusing it keeps the sheet inert even if the SVG
        // is ever inlined into an HTML page.
        if css_is_safe(&style.css) && !style.css.contains('<') && !style.css.trim().is_empty() {
            // A CDATA section cannot hold its own terminator, so such a sheet is written as text.
            if style.css.contains("]]>") {
                self.write(Event::Text(BytesText::from_escaped(partial_escape(style.css))))?;
            } else {
                self.write(Event::CData(BytesCData::new(style.css)))?;
            }
        }
        self.write(Event::End(BytesEnd::new("style")))
    }
}

/// Copies the attributes of `start` that are safe for the element `name` onto `element`.
fn copy_attributes(reader: &NsReader<&[u8]>, start: &BytesStart, name: &str, element: &mut BytesStart) -> Result<(), ImageError> {
    let mut written: Vec<String> = Vec::new();
    for (index, attribute) in start.attributes().enumerate() {
        // The reader's duplicate check compares each attribute with every earlier one, so the
        // number per element is capped to keep that cheap.
        if index >= MAX_SVG_ATTRIBUTES {
            return Err(ImageError::SvgTooComplex);
        }
        let attribute = attribute.map_err(|error| bad_svg(format!("malformed attribute: {error}")))?;
        let key = attribute.key.into_inner();
        // The root declares the namespaces the output uses; others are dropped with their prefixes.
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let (namespace, local) = reader.resolve_attribute(attribute.key);
        let Ok(local) = std::str::from_utf8(local.into_inner()) else { continue };
        if !is_plain_name(local) || local.get(..2).is_some_and(|prefix| prefix.eq_ignore_ascii_case("on")) {
            continue;
        }
        let qualified = match namespace {
            ResolveResult::Unbound => local.to_owned(),
            ResolveResult::Bound(Namespace(namespace)) if namespace == XLINK_NS => format!("xlink:{local}"),
            // xml:base is left out because it would change what fragment links resolve against.
            ResolveResult::Bound(Namespace(namespace)) if namespace == XML_NS && matches!(local, "space" | "lang") => {
                format!("xml:{local}")
            }
            _ => continue,
        };
        let value = attribute.unescape_value().map_err(|error| bad_svg(format!("bad attribute value: {error}")))?;
        let value = xml_chars(&value);
        let safe = if local == "href" { if name == "image" { is_inline_raster(&value) } else { is_fragment(&value) } } else { css_is_safe(&value) };
        // Two prefixes bound to the same namespace would otherwise give one attribute twice.
        if safe && !written.contains(&qualified) {
            element.push_attribute((qualified.as_str(), value.as_ref()));
            written.push(qualified);
        }
    }
    Ok(())
}

/// An ASCII XML name without a prefix, which is all SVG's own attributes use.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A reference to an element of the same document, such as `#gradient`.
fn is_fragment(value: &str) -> bool {
    value.trim().strip_prefix('#').is_some_and(|id| !id.is_empty() && !id.chars().any(|c| c.is_whitespace() || c.is_control()))
}

/// An embedded PNG or JPEG, the only images a badge may draw, since a fetched image could track viewers.
fn is_inline_raster(value: &str) -> bool {
    let value = value.trim();
    ["data:image/png;base64,", "data:image/jpeg;base64,"].iter().any(|prefix| {
        value.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix))
            && value[prefix.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace())
    })
}

/// Whether CSS (a style sheet, a style attribute or any presentation attribute) is free of
/// anything that loads a resource from elsewhere or runs script.
fn css_is_safe(css: &str) -> bool {
    // Whitespace and controls are removed and letters lower-cased so spacing and case tricks do
    // not hide a keyword; removing spaces can only make "url (" look like "url(", which errs
    // towards refusing.
    let probe: String = css.chars().filter(|c| !c.is_whitespace() && !c.is_control()).flat_map(char::to_lowercase).collect();
    // CSS escapes can spell any keyword, and badges have no use for them.
    if probe.contains('\\') {
        return false;
    }
    const FORBIDDEN: &[&str] = &["javascript:", "vbscript:", "expression(", "@import", "image-set(", "src(", "-moz-binding", "behavior:"];
    if FORBIDDEN.iter().any(|forbidden| probe.contains(forbidden)) {
        return false;
    }
    probe.match_indices("url(").all(|(at, function)| probe[at + function.len()..].trim_start_matches(['"', '\'']).starts_with('#'))
}

/// `text` without the characters XML 1.0 forbids even as references, so the output always parses.
fn xml_chars(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) { Cow::Borrowed(text) } else { Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect()) }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Colour pairs for generated badges: white text on `ground` and `ground`-coloured text on
/// `accent` both contrast by more than 4.5:1 (WCAG AA).
struct Palette {
    ground: &'static str,
    accent: &'static str,
}

const PALETTES: &[Palette] = &[
    Palette { ground: "#1d4e89", accent: "#f2c14e" },
    Palette { ground: "#7b1e3a", accent: "#f7d6a0" },
    Palette { ground: "#1e5631", accent: "#c9e4a6" },
    Palette { ground: "#4b2a7b", accent: "#e0cffc" },
    Palette { ground: "#8a3b12", accent: "#fbd9b5" },
    Palette { ground: "#1f4f5a", accent: "#a8e0e6" },
];

/// The longest line of a generated badge's name, in characters.
const BADGE_LINE_CHARS: usize = 16;
const BADGE_MAX_LINES: usize = 3;

/// A generated default badge: a 512x512 SVG (hexagon or circle medal shape) with the achievement name wrapped over up to 3 lines and a level number (1..=3) or none, colours derived deterministically from `seed` (e.g. the issuer name) from a small accessible palette. All text XML-escaped.
///
/// Levels outside 1..=3 are drawn as no level, since the badge has room for one digit only.
pub fn default_badge_svg(name: &str, level: Option<u8>, seed: &str) -> String {
    let hash = fnv1a(seed.as_bytes());
    // The modulo keeps the index below the palette's length, so the lookup cannot miss.
    let palette = &PALETTES[(hash % PALETTES.len() as u64) as usize];
    let hexagon = (hash >> 32) & 1 == 0;
    let level = level.filter(|level| (1..=3).contains(level));
    let name: String = name.chars().filter(|&c| is_xml_char(c)).take(500).collect();
    let lines = wrap_name(&name, BADGE_LINE_CHARS, BADGE_MAX_LINES);

    let mut svg = String::with_capacity(2048);
    svg.push_str("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"512\" height=\"512\" viewBox=\"0 0 512 512\" role=\"img\">");
    svg.push_str(&format!("<title>{}</title>", escape_xml(name.split_whitespace().collect::<Vec<_>>().join(" ").as_str())));
    let (ground, accent) = (palette.ground, palette.accent);
    if hexagon {
        svg.push_str(&format!(
            "<polygon points=\"256,16 464,136 464,376 256,496 48,376 48,136\" fill=\"{ground}\" stroke=\"{accent}\" stroke-width=\"12\" stroke-linejoin=\"round\"/>"
        ));
        svg.push_str(&format!(
            "<polygon points=\"256,44 440,150 440,362 256,468 72,362 72,150\" fill=\"none\" stroke=\"{accent}\" stroke-width=\"3\" stroke-opacity=\"0.6\"/>"
        ));
    } else {
        svg.push_str(&format!("<circle cx=\"256\" cy=\"256\" r=\"240\" fill=\"{ground}\" stroke=\"{accent}\" stroke-width=\"12\"/>"));
        svg.push_str(&format!("<circle cx=\"256\" cy=\"256\" r=\"212\" fill=\"none\" stroke=\"{accent}\" stroke-width=\"3\" stroke-opacity=\"0.6\"/>"));
    }
    if !lines.is_empty() {
        // Short names are set larger; the smaller size fits a full line inside the medal.
        let font_size: usize = if lines.iter().all(|line| line.chars().count() <= 10) { 52 } else { 40 };
        let line_height = font_size * 6 / 5;
        let centre: usize = if level.is_some() { 224 } else { 256 };
        // Centre the block of lines on `centre`, allowing for the baseline sitting below the
        // middle of the capitals. At most three lines of at most 62 pixels keep the subtraction
        // well above zero.
        let first_baseline = centre + font_size * 7 / 20 - (lines.len() - 1) * line_height / 2;
        svg.push_str(&format!(
            "<text x=\"256\" y=\"{first_baseline}\" text-anchor=\"middle\" font-family=\"'Helvetica Neue', Arial, sans-serif\" font-size=\"{font_size}\" font-weight=\"700\" fill=\"#ffffff\">"
        ));
        for (index, line) in lines.iter().enumerate() {
            let dy = if index == 0 { 0 } else { line_height };
            svg.push_str(&format!("<tspan x=\"256\" dy=\"{dy}\">{}</tspan>", escape_xml(line)));
        }
        svg.push_str("</text>");
    }
    if let Some(level) = level {
        svg.push_str(&format!("<circle cx=\"256\" cy=\"392\" r=\"38\" fill=\"{accent}\"/>"));
        svg.push_str(&format!(
            "<text x=\"256\" y=\"408\" text-anchor=\"middle\" font-family=\"'Helvetica Neue', Arial, sans-serif\" font-size=\"44\" font-weight=\"700\" fill=\"{ground}\">{level}</text>"
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Greedy word wrap to `width` characters over at most `max_lines` lines; words longer than a
/// line are split, and a name that does not fit ends with an ellipsis.
fn wrap_name(name: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0usize;
    let mut overflow = false;
    'words: for word in name.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(width.max(1)) {
            if current_chars > 0 && current_chars + 1 + piece.len() <= width {
                current.push(' ');
                current.extend(piece);
                current_chars += 1 + piece.len();
                continue;
            }
            if current_chars > 0 {
                lines.push(std::mem::take(&mut current));
                if lines.len() == max_lines {
                    overflow = true;
                    break 'words;
                }
            }
            current.extend(piece);
            current_chars = piece.len();
        }
    }
    if current_chars > 0 && !overflow {
        lines.push(current);
    }
    if overflow && let Some(last) = lines.last_mut() {
        // Make room for the ellipsis, preferring to drop a cut-off word over showing part of it.
        let mut kept: String = last.chars().take(width.saturating_sub(1)).collect();
        // `kept` is a prefix of `last` by whole characters, so its length is a character boundary.
        let cut_mid_word = last[kept.len()..].chars().next().is_some_and(|c| c != ' ');
        if cut_mid_word && let Some(space) = kept.rfind(' ') {
            kept.truncate(space);
        }
        *last = format!("{}…", kept.trim_end());
    }
    lines
}

fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if is_xml_char(c) => escaped.push(c),
            _ => {}
        }
    }
    escaped
}

/// FNV-1a, chosen because its output is fixed forever, unlike the standard library's hasher, so
/// an issuer's badges keep their colours across releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";
    const XLINK: &str = "xmlns:xlink=\"http://www.w3.org/1999/xlink\"";
    /// The start of every sanitised SVG, up to the root's own attributes.
    const OPEN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"";

    /// Checks the outcome of an upload: the accepted type, or the start of the error message.
    fn check(bytes: &[u8], declared: Option<&str>, expected: Result<ImageType, &str>) {
        let outcome = accept_badge_image(bytes, declared);
        match (&outcome, expected) {
            (Ok((actual, _)), Ok(expected)) => assert_eq!(*actual, expected),
            (Err(error), Err(expected)) => {
                assert!(error.to_string().starts_with(expected), "expected {expected:?}, got {:?}", error.to_string())
            }
            _ => panic!("expected {expected:?}, got {outcome:?}"),
        }
    }

    /// Checks the exact stored form of an uploaded SVG.
    fn check_svg(input: &str, expected: &str) {
        match accept_badge_image(input.as_bytes(), Some("image/svg+xml")) {
            Ok((ImageType::Svg, stored)) => {
                assert_eq!(String::from_utf8_lossy(&stored), expected, "sanitising {input:?}")
            }
            other => panic!("expected {input:?} to be accepted as svg, got {other:?}"),
        }
    }

    fn check_sniff(bytes: &[u8], expected: Option<ImageType>) {
        assert_eq!(sniff(bytes), expected, "sniffing {:?}", String::from_utf8_lossy(bytes));
    }

    fn check_wrap(name: &str, expected: &[&str]) {
        assert_eq!(wrap_name(name, BADGE_LINE_CHARS, BADGE_MAX_LINES), expected, "wrapping {name:?}");
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let pixels: Vec<u8> = (0..width * height * 4).map(|i| (i % 251) as u8).collect();
        writer.write_image_data(&pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut covered = kind.to_vec();
        covered.extend_from_slice(data);
        out.extend_from_slice(&crc32(&covered).to_be_bytes());
        out
    }

    /// The offset of the first chunk of `kind`, at its length field.
    fn find_chunk(png: &[u8], kind: &[u8; 4]) -> usize {
        png.windows(4).position(|window| window == kind).unwrap() - 4
    }

    fn with_bad_idat_crc() -> Vec<u8> {
        let mut bytes = png(8, 8);
        let at = find_chunk(&bytes, b"IDAT");
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        bytes[at + 8 + length] ^= 0xff;
        bytes
    }

    fn with_bad_ihdr_crc() -> Vec<u8> {
        let mut bytes = png(8, 8);
        bytes[29] ^= 0x01;
        bytes
    }

    /// Image data whose CRC is right but whose compressed stream is garbage.
    fn with_corrupt_idat() -> Vec<u8> {
        let bytes = png(8, 8);
        let at = find_chunk(&bytes, b"IDAT");
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let mut data = bytes[at + 8..at + 8 + length].to_vec();
        for byte in data.iter_mut().skip(2) {
            *byte ^= 0x5a;
        }
        let mut out = bytes[..at].to_vec();
        out.extend(chunk(b"IDAT", &data));
        out.extend_from_slice(&bytes[at + 12 + length..]);
        out
    }

    /// A text chunk with a wrong CRC between the header and the image data.
    fn with_bad_ancillary_crc() -> Vec<u8> {
        let bytes = png(8, 8);
        let mut text = chunk(b"tEXt", b"Comment\0hello");
        let last = text.len() - 1;
        text[last] ^= 0xff;
        let mut out = bytes[..33].to_vec();
        out.extend(text);
        out.extend_from_slice(&bytes[33..]);
        out
    }

    /// A header claiming a giant canvas, with a correct CRC, and no image data at all.
    fn giant_header(width: u32, height: u32) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &header));
        out.extend(chunk(b"IEND", b""));
        out
    }

    fn attributes(count: usize) -> String {
        (0..count).map(|i| format!("a{i}=\"1\"")).collect::<Vec<_>>().join(" ")
    }

    fn namespaces(count: usize) -> String {
        (0..count).map(|i| format!("xmlns:n{i}=\"urn:n{i}\"")).collect::<Vec<_>>().join(" ")
    }

    fn nested_groups(depth: usize) -> String {
        format!("<svg {NS}>{}{}</svg>", "<g>".repeat(depth), "</g>".repeat(depth))
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
        check_sniff(PNG_SIGNATURE, Some(ImageType::Png));
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
        let small = png(16, 16);
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

    #[test]
    fn pngs_are_stored_unchanged_after_a_full_decode() {
        let bytes = png(32, 24);
        assert_eq!(accept_badge_image(&bytes, Some("image/png")), Ok((ImageType::Png, bytes.clone())));
        check(&png(1, 1), None, Ok(ImageType::Png));
        check(&png(4096, 1), None, Ok(ImageType::Png));
    }

    #[test]
    fn damaged_or_giant_pngs_are_refused() {
        let small = png(16, 16);
        check(&with_bad_idat_crc(), None, Err("png is damaged: "));
        check(&with_bad_ihdr_crc(), None, Err("png is damaged: "));
        check(&with_corrupt_idat(), None, Err("png is damaged: "));
        check(&with_bad_ancillary_crc(), None, Err("png is damaged: "));
        check(&small[..small.len() / 2], None, Err("png is damaged: "));
        check(&small[..small.len() - 12], None, Err("png is damaged: "));
        check(&small[..20], None, Err("png is damaged: "));
        check(PNG_SIGNATURE, None, Err("png is damaged: "));
        check(&giant_header(100_000, 100_000), None, Err("png is 100000x100000 pixels, more than the 4096x4096 limit"));
        check(&giant_header(1, 4097), None, Err("png is 1x4097 pixels, more than the 4096x4096 limit"));
        check(&giant_header(0, 0), None, Err("png is damaged: "));
        check(&[small.as_slice(), b"<html><script>alert(1)</script>"].concat(), None, Err("png is damaged: there is data after the end of the image"));
        check(&[small.as_slice(), b"\0"].concat(), None, Err("png is damaged: there is data after the end of the image"));
        check(&png(4097, 1), None, Err("png is 4097x1 pixels, more than the 4096x4096 limit"));
    }

    #[test]
    fn clean_svgs_keep_their_drawing() {
        check_svg(
            &format!("<svg {NS} viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\" fill=\"#c00\"/><circle cx=\"5\" cy=\"5\" r=\"2\"/></svg>"),
            &format!("{OPEN} viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\" fill=\"#c00\"/><circle cx=\"5\" cy=\"5\" r=\"2\"/></svg>"),
        );
        check_svg(
            &format!(
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!-- c -->\n<svg {NS}>\n  <g>\n    <text x=\"1\">Caf\u{e9} &amp; co &lt;3</text>\n  </g>\n</svg>\n"
            ),
            &format!("{OPEN}>\n  <g>\n    <text x=\"1\">Caf\u{e9} &amp; co &lt;3</text>\n  </g>\n</svg>"),
        );
        check_svg(
            &format!(
                "<svg {NS}><defs><linearGradient id=\"g\"><stop offset=\"0\" stop-color=\"#fff\"/></linearGradient></defs><rect fill=\"url(#g)\" style=\"stroke: url('#g')\"/><use href=\"#g\"/></svg>"
            ),
            &format!(
                "{OPEN}><defs><linearGradient id=\"g\"><stop offset=\"0\" stop-color=\"#fff\"/></linearGradient></defs><rect fill=\"url(#g)\" style=\"stroke: url(&apos;#g&apos;)\"/><use href=\"#g\"/></svg>"
            ),
        );
        check_svg("<svg><rect/></svg>", &format!("{OPEN}><rect/></svg>"));
        check_svg(&format!("<svg {NS} xmlns:s=\"http://www.w3.org/2000/svg\"><s:rect/></svg>"), &format!("{OPEN}><rect/></svg>"));
        check_svg(&format!("\u{feff}<svg {NS}/>"), &format!("{OPEN}/>"));
        check_svg(&format!("<svg {NS}><text><![CDATA[a < b]]></text></svg>"), &format!("{OPEN}><text>a &lt; b</text></svg>"));
        check_svg(
            &format!("<svg {NS}><style>rect {{ fill: url(#g) }}</style></svg>"),
            &format!("{OPEN}><style><![CDATA[rect {{ fill: url(#g) }}]]></style></svg>"),
        );
        check_svg(
            &format!("<svg {NS}><filter id=\"f\"><feGaussianBlur stdDeviation=\"2\"/></filter></svg>"),
            &format!("{OPEN}><filter id=\"f\"><feGaussianBlur stdDeviation=\"2\"/></filter></svg>"),
        );
    }

    #[test]
    fn active_content_is_removed_from_svgs() {
        check_svg(&format!("<svg {NS}><script>alert(1)</script><rect/></svg>"), &format!("{OPEN}><rect/></svg>"));
        check_svg(&format!("<svg {NS}><script><![CDATA[alert(1)]]></script></svg>"), &format!("{OPEN}></svg>"));
        check_svg(
            &format!("<svg {NS} onload=\"alert(1)\"><rect ONCLICK=\"x()\" onMouseOver=\"y()\" width=\"1\"/></svg>"),
            &format!("{OPEN}><rect width=\"1\"/></svg>"),
        );
        check_svg(
            &format!("<svg {NS} {XLINK}><use xlink:href=\"http://evil.example/x.svg#a\"/><use xlink:href=\"#a\"/></svg>"),
            &format!("{OPEN}><use/><use xlink:href=\"#a\"/></svg>"),
        );
        check_svg(&format!("<svg {NS}><use href=\"https://evil.example/x.svg#a\"/></svg>"), &format!("{OPEN}><use/></svg>"));
        check_svg(&format!("<svg {NS}><use href=\"&#106;avascript:alert(1)\"/></svg>"), &format!("{OPEN}><use/></svg>"));
        check_svg(&format!("<svg {NS}><use href=\"data:image/svg+xml;base64,PHN2Zz4=\"/></svg>"), &format!("{OPEN}><use/></svg>"));
        check_svg(
            &format!(
                "<svg {NS}><foreignObject><div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script><img src=\"x\" onerror=\"alert(1)\"/></div></foreignObject><g/></svg>"
            ),
            &format!("{OPEN}><g/></svg>"),
        );
        check_svg(
            &format!(
                "<svg {NS}><a href=\"javascript:alert(1)\"><text>click</text></a><animate attributeName=\"href\" to=\"javascript:alert(1)\"/><set attributeName=\"onload\"/><iframe/><object/><embed/><audio/><video/><handler/><listener/><metadata>m</metadata></svg>"
            ),
            &format!("{OPEN}></svg>"),
        );
        check_svg(&format!("<svg {NS}><g><SCRIPT>alert(1)</SCRIPT><rect/></g></svg>"), &format!("{OPEN}><g><rect/></g></svg>"));
        check_svg(
            &format!("<svg {NS}><h:script xmlns:h=\"http://www.w3.org/1999/xhtml\">alert(1)</h:script><h:rect xmlns:h=\"urn:x\"/></svg>"),
            &format!("{OPEN}></svg>"),
        );
        check_svg(
            &format!("<?xml-stylesheet href=\"https://evil.example/x.css\"?><svg {NS}><?php evil(); ?><!-- note --><g/></svg>"),
            &format!("{OPEN}><g/></svg>"),
        );
    }

    #[test]
    fn stylesheets_and_urls_that_reach_outside_are_removed() {
        check_svg(
            &format!("<svg {NS}><style>@import url(https://evil.example/x.css); rect {{ fill: red }}</style></svg>"),
            &format!("{OPEN}><style></style></svg>"),
        );
        check_svg(&format!("<svg {NS}><style>@IMPORT 'x.css';</style></svg>"), &format!("{OPEN}><style></style></svg>"));
        check_svg(&format!("<svg {NS}><style>rect {{ fill: url(http://evil.example/t) }}</style></svg>"), &format!("{OPEN}><style></style></svg>"));
        check_svg(
            &format!("<svg {NS}><style><![CDATA[rect {{ background: URL( \"//evil.example/t\" ) }}]]></style></svg>"),
            &format!("{OPEN}><style></style></svg>"),
        );
        check_svg(&format!("<svg {NS}><style>rect {{ fill: u\\72l(http://evil.example/t) }}</style></svg>"), &format!("{OPEN}><style></style></svg>"));
        check_svg(&format!("<svg {NS}><style>rect {{ width: expression(alert(1)) }}</style></svg>"), &format!("{OPEN}><style></style></svg>"));
        check_svg(&format!("<svg {NS}><style>&lt;/style&gt;&lt;script&gt;</style></svg>"), &format!("{OPEN}><style></style></svg>"));
        check_svg(
            &format!("<svg {NS}><style><g/>rect {{ fill: red }}</style></svg>"),
            &format!("{OPEN}><style><![CDATA[rect {{ fill: red }}]]></style></svg>"),
        );
        check_svg(
            &format!("<svg {NS}><rect style=\"fill: url(https://evil.example/t)\" fill=\"url(#g)\"/></svg>"),
            &format!("{OPEN}><rect fill=\"url(#g)\"/></svg>"),
        );
        check_svg(
            &format!(
                "<svg {NS}><rect style=\"width: expression(alert(1))\" filter=\"url(data:image/svg+xml,x)\" cursor=\"url(https://evil.example/c), auto\"/></svg>"
            ),
            &format!("{OPEN}><rect/></svg>"),
        );
        check_svg(&format!("<svg {NS}><rect fill=\"java\tscript:alert(1)\" mask=\"image-set('x.png' 1x)\"/></svg>"), &format!("{OPEN}><rect/></svg>"));
    }

    #[test]
    fn images_in_svgs_must_be_embedded_rasters() {
        check_svg(
            &format!(
                "<svg {NS} {XLINK}><image href=\"data:image/png;base64,iVBORw0KGgo=\" width=\"1\"/><image xlink:href=\"data:image/jpeg;base64,/9j/4A==\"/></svg>"
            ),
            &format!("{OPEN}><image href=\"data:image/png;base64,iVBORw0KGgo=\" width=\"1\"/><image xlink:href=\"data:image/jpeg;base64,/9j/4A==\"/></svg>"),
        );
        check_svg(
            &format!(
                "<svg {NS} {XLINK}><image xlink:href=\"https://evil.example/t.png\"/><image href=\"data:image/svg+xml;base64,PHN2Zz4=\"/><image href=\"#a\"/><image href=\"data:image/png;base64,<x>\"/></svg>"
            ),
            &format!("{OPEN}><image/><image/><image/><image/></svg>"),
        );
        check_svg(&format!("<svg {NS}><feImage href=\"https://evil.example/t.png\"/></svg>"), &format!("{OPEN}><feImage/></svg>"));
    }

    #[test]
    fn foreign_namespaces_and_odd_characters_are_dropped() {
        check_svg(
            &format!(
                "<svg {NS} xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" inkscape:version=\"1.0\" xml:space=\"preserve\" xml:base=\"https://evil.example/\"><inkscape:grid/></svg>"
            ),
            &format!("{OPEN} xml:space=\"preserve\"></svg>"),
        );
        check_svg(
            &format!("<svg {NS} {XLINK} xmlns:l=\"http://www.w3.org/1999/xlink\"><use xlink:href=\"#a\" l:href=\"#b\"/></svg>"),
            &format!("{OPEN}><use xlink:href=\"#a\"/></svg>"),
        );
        check_svg(&format!("<svg {NS}><text>a&#1;b\u{1}c</text></svg>"), &format!("{OPEN}><text>abc</text></svg>"));
        check_svg(
            &format!("<svg {NS}><text font-family=\"'A' &quot;B&quot;\">x</text></svg>"),
            &format!("{OPEN}><text font-family=\"&apos;A&apos; &quot;B&quot;\">x</text></svg>"),
        );
        check_svg(&format!("<svg {NS}><text>a ]]&gt; b</text></svg>"), &format!("{OPEN}><text>a ]]&gt; b</text></svg>"));
    }

    #[test]
    fn unsafe_or_broken_svgs_are_refused() {
        let svg = |text: &str| text.replace("NS", NS);
        check(
            svg("<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><svg NS><text>&c;</text></svg>").as_bytes(),
            None,
            Err("svg is not acceptable: document type declarations are not allowed"),
        );
        check(
            svg("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\"><svg NS/>").as_bytes(),
            None,
            Err("svg is not acceptable: document type"),
        );
        check(
            nested_groups(10_000).as_bytes(),
            None,
            Err("svg is too complex: it has more than 64 levels of nesting, 10000 elements, 256 attributes on one element or 256 namespace declarations"),
        );
        check(nested_groups(64).as_bytes(), None, Err("svg is too complex"));
        check(nested_groups(63).as_bytes(), None, Ok(ImageType::Svg));
        check(format!("<svg {NS}>{}</svg>", "<rect/>".repeat(10_000)).as_bytes(), None, Err("svg is too complex"));
        check(format!("<svg {NS}>{}</svg>", "<rect/>".repeat(9_999)).as_bytes(), None, Ok(ImageType::Svg));
        check(format!("<svg {NS}><rect {}/></svg>", attributes(257)).as_bytes(), None, Err("svg is too complex"));
        check(format!("<svg {NS}><rect {}/></svg>", attributes(256)).as_bytes(), None, Ok(ImageType::Svg));
        check(format!("<svg {NS}><g {}/></svg>", namespaces(256)).as_bytes(), None, Err("svg is too complex"));
        check(format!("<svg {NS}><g {}/></svg>", namespaces(255)).as_bytes(), None, Ok(ImageType::Svg));
        check(
            b"<svg xmlns=\"http://www.w3.org/1999/xhtml\"><rect/></svg>",
            None,
            Err("svg is not acceptable: the root element is \"svg\", not an svg element"),
        );
        check(b"<html xmlns=\"http://www.w3.org/1999/xhtml\"><svg/></html>", None, Err("image is neither a png nor an svg"));
        check(svg("<svg NS><rect width=\"1\"").as_bytes(), None, Err("svg is not acceptable: "));
        check(svg("<svg NS><g><rect/>").as_bytes(), None, Err("svg is not acceptable: the document ends before the svg element is closed"));
        check(svg("<svg NS><g></svg>").as_bytes(), None, Err("svg is not acceptable: malformed xml"));
        check(svg("<svg NS></g></svg>").as_bytes(), None, Err("svg is not acceptable: malformed xml"));
        check(svg("<svg NS/><svg NS/>").as_bytes(), None, Err("svg is not acceptable: there is more than one root element"));
        check(svg("<svg NS/>trailing").as_bytes(), None, Err("svg is not acceptable: there is text outside the svg element"));
        check(svg("<svg NS><text>&nbsp;</text></svg>").as_bytes(), None, Err("svg is not acceptable: bad text"));
        check(svg("<svg NS><rect a=\"1\" a=\"2\"/></svg>").as_bytes(), None, Err("svg is not acceptable: malformed attribute"));
        check(b"<svg>\xff</svg>", None, Err("svg is not acceptable: not utf-8 text"));
    }

    #[test]
    fn names_wrap_over_at_most_three_lines() {
        check_wrap("", &[]);
        check_wrap("   ", &[]);
        check_wrap("Intro", &["Intro"]);
        check_wrap("Introduction to Rust Programming", &["Introduction to", "Rust Programming"]);
        check_wrap("a b c d e f g h i j k l m n o p q r s t u v w x y z", &["a b c d e f g h", "i j k l m n o p", "q r s t u v w x…"]);
        check_wrap("Supercalifragilisticexpialidocious", &["Supercalifragili", "sticexpialidocio", "us"]);
        check_wrap("one two three four five six seven eight nine ten eleven", &["one two three", "four five six", "seven eight…"]);
    }

    #[test]
    fn default_badges_are_accepted_uploads_with_escaped_text() {
        let cases: &[(&str, Option<u8>, &str)] = &[
            ("Intro", None, "Acme"),
            ("<script>&\"'", Some(1), "x"),
            ("Advanced Welding and Fabrication in Practice", Some(3), "Northern College"),
            ("Supercalifragilisticexpialidocious", Some(2), ""),
            ("Café ☕ 咖啡", Some(0), "é"),
            ("bad\u{1}control\u{0}chars\u{FFFF}", Some(9), "y"),
            ("", None, ""),
        ];
        for &(name, level, seed) in cases {
            let svg = default_badge_svg(name, level, seed);
            let accepted = accept_badge_image(svg.as_bytes(), Some("image/svg+xml"));
            assert!(matches!(accepted, Ok((ImageType::Svg, _))), "badge for {name:?} refused: {accepted:?}\n{svg}");
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains('\u{1}') && !svg.contains('\u{0}'), "{svg}");
        }
        let svg = default_badge_svg("<script>&\"", Some(2), "Acme");
        assert!(svg.contains("<title>&lt;script&gt;&amp;&quot;</title>"), "{svg}");
        assert!(svg.contains(">&lt;script&gt;&amp;&quot;</tspan>"), "{svg}");
    }

    #[test]
    fn default_badges_show_a_level_only_from_one_to_three() {
        let cases: &[(Option<u8>, Option<&str>)] =
            &[(None, None), (Some(0), None), (Some(1), Some(">1</text>")), (Some(2), Some(">2</text>")), (Some(3), Some(">3</text>")), (Some(4), None)];
        for &(level, expected) in cases {
            let svg = default_badge_svg("Welding", level, "Acme");
            let drawn = svg.contains("r=\"38\"");
            assert_eq!(drawn, expected.is_some(), "level {level:?}: {svg}");
            if let Some(expected) = expected {
                assert!(svg.contains(expected), "level {level:?}: {svg}");
            }
        }
    }

    #[test]
    fn default_badge_colours_and_shape_follow_the_seed() {
        assert_eq!(default_badge_svg("A", Some(1), "Acme"), default_badge_svg("A", Some(1), "Acme"));
        let seeds = ["Acme", "Northern College", "Guild", "x", "y", "z", "Open University", "Makers"];
        let grounds: std::collections::BTreeSet<&str> = seeds
            .iter()
            .map(|seed| {
                let svg = default_badge_svg("A", None, seed);
                PALETTES.iter().map(|palette| palette.ground).find(|ground| svg.contains(ground)).unwrap()
            })
            .collect();
        assert!(grounds.len() > 1, "every seed gave {grounds:?}");
        let shapes: std::collections::BTreeSet<bool> = seeds.iter().map(|seed| default_badge_svg("A", None, seed).contains("<polygon")).collect();
        assert_eq!(shapes.len(), 2, "every seed gave the same shape");
        let svg = default_badge_svg("A", None, "Acme");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"512\" height=\"512\""), "{svg}");
    }
}
