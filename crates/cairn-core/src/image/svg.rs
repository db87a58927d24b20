//! SVG badge images, rebuilt from an allowlist.
//!
//! The sanitiser reads the upload with `quick-xml`'s namespace-aware reader and writes a new
//! document holding only plain drawing elements and their safe attributes: no script, event
//! handler, foreign namespace, DTD, external reference or CSS that loads anything. It is written
//! here rather than taken from a crate because no crate on the registry rebuilds SVG from an
//! allowlist with bounds on depth, element count, attributes per element and namespace
//! declarations; general HTML sanitisers do not understand SVG's namespaces, presentation
//! attributes and `style` sheets, and SVG libraries parse to render, not to clean.

use std::borrow::Cow;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;

use super::ImageError;

/// How deeply SVG elements may nest.
pub const MAX_SVG_DEPTH: usize = 64;
/// How many elements an SVG may contain, kept or not.
pub const MAX_SVG_ELEMENTS: usize = 10_000;
/// How many attributes one kept SVG element may carry.
pub const MAX_SVG_ATTRIBUTES: usize = 256;
/// How many namespace declarations an SVG may contain, counted generously as mentions of `xmlns`.
pub const MAX_SVG_NAMESPACES: usize = 256;

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

fn bad_svg(message: impl Into<String>) -> ImageError {
    ImageError::BadSvg(message.into())
}

/// Rebuilds an SVG from its allowed parts, refusing documents that cannot be made safe.
pub(super) fn sanitise_svg(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
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
pub(super) fn xml_chars(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) { Cow::Borrowed(text) } else { Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect()) }
}

pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::super::tests::{NS, check};
    use super::super::{ImageType, accept_badge_image};

    const XLINK: &str = "xmlns:xlink=\"http://www.w3.org/1999/xlink\"";
    /// The start of every sanitised SVG, up to the root's own attributes.
    const OPEN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"";

    /// Checks the exact stored form of an uploaded SVG.
    fn check_svg(input: &str, expected: &str) {
        match accept_badge_image(input.as_bytes(), Some("image/svg+xml")) {
            Ok((ImageType::Svg, stored)) => {
                assert_eq!(String::from_utf8_lossy(&stored), expected, "sanitising {input:?}")
            }
            other => panic!("expected {input:?} to be accepted as svg, got {other:?}"),
        }
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
}
