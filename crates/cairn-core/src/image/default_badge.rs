//! The generated default badge, for achievements and issuers without an image of their own.
//!
//! Generated badges are told apart at a glance:
//! - the **issuer** sets the colours (one palette per issuer, so its badges belong together);
//! - the **kind** sets the shape: a round medal for a micro-badge, a hexagon for a
//!   micro-credential, a shield for each of its levels, a rounded square with initials for an
//!   issuer;
//! - the **level** sets the mark: "Level N" and three pips, filled up to the level; a
//!   micro-credential carries three stacked chevrons;
//! - the **achievement's name** sets the pattern in the ground and its shade.
//!
//! The name is set in the largest size at which it fits the shape's text box whole
//! ([`BadgeArt::text_box`]), wrapped by estimated width over at most four lines, with an ellipsis
//! only when it cannot fit at the smallest size. The estimate is that of a wide bold font (DejaVu
//! Sans Bold); a line that comes near the edge is also given its estimated width as `textLength`,
//! so that the text stays inside whatever font draws it.

use super::svg::is_xml_char;
use crate::achievement::Kind;

/// Colour pairs for generated badges: white text on `ground` and `ground`-coloured text on
/// `accent` both contrast by more than 4.5:1 (WCAG AA); darkening the ground keeps both.
struct Palette {
    ground: [u8; 3],
    accent: &'static str,
}

const PALETTES: &[Palette] = &[
    Palette { ground: [0x1d, 0x4e, 0x89], accent: "#f2c14e" },
    Palette { ground: [0x7b, 0x1e, 0x3a], accent: "#f7d6a0" },
    Palette { ground: [0x1e, 0x56, 0x31], accent: "#c9e4a6" },
    Palette { ground: [0x4b, 0x2a, 0x7b], accent: "#e0cffc" },
    Palette { ground: [0x8a, 0x3b, 0x12], accent: "#fbd9b5" },
    Palette { ground: [0x1f, 0x4f, 0x5a], accent: "#a8e0e6" },
];

/// Shades of the ground, in percent of the palette's: the name picks one.
const SHADES: [u32; 4] = [100, 90, 80, 70];

/// Font sizes tried for the name, largest first.
const NAME_SIZES: [u32; 10] = [60, 54, 48, 44, 40, 36, 32, 28, 26, 24];
/// The most lines a name is set on.
const MAX_NAME_LINES: usize = 4;
/// Characters of a name considered at all (a badge shows far fewer).
const MAX_NAME_CHARS: usize = 500;
/// A line wider than this share of the text box gets `textLength`, in percent.
const FITTED_LINE_PERCENT: f64 = 80.0;

/// How far a bold sans-serif font reaches above the baseline (accented capitals) and below it,
/// in percent of its size.
const ASCENT_PERCENT: u32 = 93;
const DESCENT_PERCENT: u32 = 24;

const FONT_FAMILY: &str = "'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif";

/// What a generated badge is for: it sets the shape and the mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeArt {
    /// An issuer's picture: its initials.
    Issuer,
    MicroBadge,
    MicroCredential,
    /// A level of a micro-credential; levels outside 1..=3 get the shield without pips.
    Level(u8),
}

impl From<Kind> for BadgeArt {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::MicroBadge => BadgeArt::MicroBadge,
            // A certificate is made of other achievements, like a micro-credential: the hexagon.
            Kind::MicroCredential | Kind::Certificate => BadgeArt::MicroCredential,
            Kind::Level(level) => BadgeArt::Level(level),
        }
    }
}

/// A rectangle in the badge's 512-unit square: the name is set inside it, and it lies inside the
/// shape's inner border.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextBox {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
}

impl TextBox {
    fn width(self) -> u32 {
        self.right - self.left
    }
    fn height(self) -> u32 {
        self.bottom - self.top
    }
    fn centre_x(self) -> u32 {
        (self.left + self.right) / 2
    }
}

impl BadgeArt {
    /// Where the name is set. An issuer's box holds its initials.
    pub fn text_box(self) -> TextBox {
        match self {
            // The corners lie 196 units from the centre, inside the inner ring of radius 212.
            BadgeArt::MicroBadge => TextBox { left: 91, top: 150, right: 421, bottom: 362 },
            // The inner hexagon is 368 units wide from y = 150 to y = 362; the chevrons sit below.
            BadgeArt::MicroCredential => TextBox { left: 88, top: 150, right: 424, bottom: 342 },
            // The shield's inner border is at least 326 units wide from y = 110 to y = 310; the
            // level and its pips sit below.
            BadgeArt::Level(_) => TextBox { left: 100, top: 118, right: 412, bottom: 310 },
            BadgeArt::Issuer => TextBox { left: 72, top: 96, right: 440, bottom: 416 },
        }
    }

    /// The outline (filled with the ground, stroked with the accent) and the inner border, which
    /// also clips the pattern.
    fn outline(self) -> (String, String) {
        match self {
            BadgeArt::MicroBadge => ("<circle cx=\"256\" cy=\"256\" r=\"240\"".into(), "<circle cx=\"256\" cy=\"256\" r=\"212\"".into()),
            BadgeArt::MicroCredential => (
                "<polygon points=\"256,16 464,136 464,376 256,496 48,376 48,136\" stroke-linejoin=\"round\"".into(),
                "<polygon points=\"256,44 440,150 440,362 256,468 72,362 72,150\"".into(),
            ),
            BadgeArt::Level(_) => (
                "<path d=\"M256 20 L460 78 V246 C460 378 362 452 256 496 C150 452 52 378 52 246 V78 Z\" stroke-linejoin=\"round\"".into(),
                "<path d=\"M256 48 L434 98 V248 C434 364 348 428 256 466 C164 428 78 364 78 248 V98 Z\"".into(),
            ),
            BadgeArt::Issuer => (
                "<rect x=\"24\" y=\"24\" width=\"464\" height=\"464\" rx=\"96\"".into(),
                "<rect x=\"52\" y=\"52\" width=\"408\" height=\"408\" rx=\"72\"".into(),
            ),
        }
    }
}

/// A generated default badge: a 512×512 SVG whose shape and mark follow `art`, whose colours
/// follow `issuer` and whose pattern and shade follow `name`, with the name set to fit (an
/// issuer's badge shows its initials instead). The same arguments always give the same image;
/// all text is XML-escaped.
pub fn default_badge_svg(name: &str, art: BadgeArt, issuer: &str) -> String {
    let issuer_hash = fnv1a(issuer.as_bytes());
    let name: String = name.chars().filter(|&c| is_xml_char(c)).take(MAX_NAME_CHARS).collect();
    let name_hash = fnv1a(name.as_bytes());
    // The modulo keeps each index below its table's length, so no lookup can miss.
    let palette = &PALETTES[(issuer_hash % PALETTES.len() as u64) as usize];
    let shade = SHADES[(name_hash % SHADES.len() as u64) as usize];
    let ground = shaded(palette.ground, shade);
    let accent = palette.accent;
    let clip = format!("c{:016x}", name_hash ^ issuer_hash.rotate_left(17));
    let words: Vec<&str> = name.split_whitespace().collect();

    let mut svg = String::with_capacity(4096);
    svg.push_str("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"512\" height=\"512\" viewBox=\"0 0 512 512\" role=\"img\">");
    svg.push_str(&format!("<title>{}</title>", escape_xml(&words.join(" "))));
    let (outer, inner) = art.outline();
    svg.push_str(&format!("<defs><clipPath id=\"{clip}\">{inner}/></clipPath></defs>"));
    svg.push_str(&format!("{outer} fill=\"{ground}\" stroke=\"{accent}\" stroke-width=\"12\"/>"));
    svg.push_str(&format!("<g clip-path=\"url(#{clip})\" fill=\"none\" stroke=\"{accent}\" stroke-opacity=\"0.16\">"));
    svg.push_str(&pattern((name_hash >> 8) % 6));
    svg.push_str("</g>");
    svg.push_str(&format!("{inner} fill=\"none\" stroke=\"{accent}\" stroke-width=\"3\" stroke-opacity=\"0.6\"/>"));

    match art {
        BadgeArt::Issuer => {
            let initials: String = words.iter().filter_map(|word| word.chars().find(|c| c.is_alphanumeric())).take(2).flat_map(char::to_uppercase).collect();
            if !initials.is_empty() {
                set_lines(&mut svg, &[initials], art.text_box(), 176, "#ffffff");
            }
        }
        _ => {
            let (size, lines) = fit_name(&words, art.text_box());
            set_lines(&mut svg, &lines, art.text_box(), size, "#ffffff");
        }
    }
    match art {
        BadgeArt::MicroCredential => {
            // Three stacked chevrons: a stack of three levels.
            for top in [366, 386, 406] {
                svg.push_str(&format!(
                    "<polyline points=\"214,{top} 256,{} 298,{top}\" fill=\"none\" stroke=\"{accent}\" stroke-width=\"9\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>",
                    top + 18
                ));
            }
        }
        BadgeArt::Level(level) if (1..=3).contains(&level) => {
            svg.push_str(&format!(
                "<text x=\"256\" y=\"362\" text-anchor=\"middle\" font-family=\"{FONT_FAMILY}\" font-size=\"28\" font-weight=\"700\" letter-spacing=\"3\" fill=\"{accent}\">LEVEL {level}</text>"
            ));
            for (index, cx) in [212u32, 256, 300].into_iter().enumerate() {
                if index < usize::from(level) {
                    svg.push_str(&format!("<circle class=\"pip held\" cx=\"{cx}\" cy=\"398\" r=\"13\" fill=\"{accent}\"/>"));
                } else {
                    svg.push_str(&format!("<circle class=\"pip\" cx=\"{cx}\" cy=\"398\" r=\"11\" fill=\"none\" stroke=\"{accent}\" stroke-width=\"4\"/>"));
                }
            }
        }
        _ => {}
    }
    svg.push_str("</svg>");
    svg
}

/// `rgb` darkened to `percent` of itself, as `#rrggbb`.
fn shaded(rgb: [u8; 3], percent: u32) -> String {
    let [r, g, b] = rgb.map(|channel| u32::from(channel) * percent / 100);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// One of six faint patterns over the whole square (the caller clips it to the shape).
fn pattern(which: u64) -> String {
    let mut out = String::new();
    match which {
        // Rays from the centre.
        0 => {
            for step in 0..24 {
                let angle = f64::from(step) * std::f64::consts::PI / 12.0;
                let (x, y) = (256.0 + 330.0 * angle.cos(), 256.0 + 330.0 * angle.sin());
                out.push_str(&format!("<line x1=\"256\" y1=\"256\" x2=\"{x:.1}\" y2=\"{y:.1}\" stroke-width=\"10\"/>"));
            }
        }
        // Rings around the centre.
        1 => {
            for radius in (36..=324).step_by(36) {
                out.push_str(&format!("<circle cx=\"256\" cy=\"256\" r=\"{radius}\" stroke-width=\"9\"/>"));
            }
        }
        // A grid of dots.
        2 => {
            for y in (16..512).step_by(40) {
                for x in (16..512).step_by(40) {
                    out.push_str(&format!("<circle cx=\"{x}\" cy=\"{y}\" r=\"5\" stroke-width=\"6\"/>"));
                }
            }
        }
        // Diagonal stripes.
        3 => {
            for start in (-512..512).step_by(40) {
                out.push_str(&format!("<line x1=\"{start}\" y1=\"0\" x2=\"{}\" y2=\"512\" stroke-width=\"12\"/>", start + 512));
            }
        }
        // Rows of chevrons.
        4 => {
            for y in (0..560).step_by(48) {
                let points: Vec<String> = (0..=16).map(|step| format!("{},{}", step * 32, if step % 2 == 0 { y } else { y + 24 })).collect();
                out.push_str(&format!("<polyline points=\"{}\" stroke-width=\"8\"/>", points.join(" ")));
            }
        }
        // Rows of waves.
        _ => {
            for y in (0..560).step_by(48) {
                let mut d = format!("M0 {y}");
                for step in 0..8 {
                    let x = step * 64;
                    d.push_str(&format!(" Q{} {} {} {y} T{} {y}", x + 16, y - 18, x + 32, x + 64));
                }
                out.push_str(&format!("<path d=\"{d}\" stroke-width=\"8\"/>"));
            }
        }
    }
    out
}

/// Writes `lines` centred in `area` at font size `size`, one `text` element each (class
/// `name`), giving a line near the box's width its estimated width.
fn set_lines(svg: &mut String, lines: &[String], area: TextBox, size: u32, fill: &str) {
    if lines.is_empty() {
        return;
    }
    let line_height = size * 6 / 5;
    let block = block_height(size, lines.len());
    let top = area.top + area.height().saturating_sub(block) / 2;
    for (index, line) in lines.iter().enumerate() {
        // The baseline sits below the line's top by the font's ascent (accented capitals
        // included), leaving its descent below.
        let baseline = top + index as u32 * line_height + size * ASCENT_PERCENT / 100;
        let width = text_em(line) * f64::from(size);
        let fitted = if width > f64::from(area.width()) * FITTED_LINE_PERCENT / 100.0 {
            format!(" textLength=\"{:.0}\" lengthAdjust=\"spacingAndGlyphs\"", width.min(f64::from(area.width())).floor())
        } else {
            String::new()
        };
        svg.push_str(&format!(
            "<text class=\"name\" x=\"{}\" y=\"{baseline}\" text-anchor=\"middle\" font-family=\"{FONT_FAMILY}\" font-size=\"{size}\" font-weight=\"700\" fill=\"{fill}\"{fitted}>{}</text>",
            area.centre_x(),
            escape_xml(line)
        ));
    }
}

/// The largest size from [`NAME_SIZES`] at which the name fits `area` whole without breaking a
/// word; failing that, the largest at which it fits with words broken; failing that, at the
/// smallest size, the name's beginning with an ellipsis.
fn fit_name(words: &[&str], area: TextBox) -> (u32, Vec<String>) {
    let smallest = NAME_SIZES[NAME_SIZES.len() - 1];
    for split in [false, true] {
        for size in NAME_SIZES {
            let (budget, max_lines) = line_budget(area, size);
            let (lines, whole) = wrap(words, budget, max_lines, split);
            if whole {
                return (size, lines);
            }
        }
    }
    let (budget, max_lines) = line_budget(area, smallest);
    let (mut lines, _) = wrap(words, budget, max_lines, true);
    if let Some(last) = lines.last_mut() {
        *last = with_ellipsis(last, budget);
    }
    (smallest, lines)
}

/// The height of `lines` lines set at `size`: the first line's ascent and descent, then a line
/// height (1.2 × the size) for each further line.
fn block_height(size: u32, lines: usize) -> u32 {
    size * (ASCENT_PERCENT + DESCENT_PERCENT) / 100 + lines.saturating_sub(1) as u32 * (size * 6 / 5)
}

/// The width of a line in ems, and how many lines fit, at `size` in `area`.
fn line_budget(area: TextBox, size: u32) -> (f64, usize) {
    let lines = (1..=MAX_NAME_LINES).take_while(|&lines| block_height(size, lines) <= area.height()).last().unwrap_or(1);
    (f64::from(area.width()) / f64::from(size), lines)
}

/// Greedy wrap by estimated width: lines of at most `budget` ems, at most `max_lines` of them;
/// a word wider than a line is split when `split` allows, and otherwise ends the wrap. Also
/// says whether every word found a place.
fn wrap(words: &[&str], budget: f64, max_lines: usize, split: bool) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for (index, word) in words.iter().enumerate() {
        let mut rest: &str = word;
        while !rest.is_empty() {
            let joined = if current.is_empty() { rest.to_string() } else { format!("{current} {rest}") };
            if text_em(&joined) <= budget {
                current = joined;
                break;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
                if lines.len() == max_lines {
                    return (lines, false);
                }
                continue;
            }
            if !split {
                return (lines, false);
            }
            // The rest of the word alone is wider than a line: put as much as fits (at least
            // one character, so the loop always advances) on a line of its own.
            let mut cut = 0;
            for (index, c) in rest.char_indices() {
                if cut > 0 && text_em(&rest[..index + c.len_utf8()]) > budget {
                    break;
                }
                cut = index + c.len_utf8();
            }
            lines.push(rest[..cut].to_string());
            rest = &rest[cut..];
            if lines.len() == max_lines {
                return (lines, rest.is_empty() && index + 1 == words.len());
            }
        }
    }
    if !current.is_empty() {
        if lines.len() == max_lines {
            return (lines, false);
        }
        lines.push(current);
    }
    (lines, true)
}

/// `line` shortened until it fits `budget` ems with an ellipsis after it, preferring to drop a
/// cut-off word over showing part of it.
fn with_ellipsis(line: &str, budget: f64) -> String {
    let mut kept = line.to_string();
    while !kept.is_empty() && text_em(&format!("{kept}…")) > budget {
        kept.pop();
    }
    if kept.len() < line.len()
        && !line[kept.len()..].starts_with(' ')
        && let Some(space) = kept.rfind(' ')
    {
        kept.truncate(space);
    }
    format!("{}…", kept.trim_end())
}

/// The estimated width of `text` in ems, set in a wide bold font (DejaVu Sans Bold's advances,
/// rounded up), so that most fonts draw it narrower.
fn text_em(text: &str) -> f64 {
    text.chars().map(advance_em).sum()
}

fn advance_em(c: char) -> f64 {
    match c {
        ' ' => 0.35,
        'i' | 'j' | 'l' | 'I' | 'J' | '!' | '.' | ',' | ':' | ';' | '\'' | '|' | '`' => 0.4,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '{' | '}' | '/' | '\\' | '-' => 0.52,
        'm' | 'w' | 'M' | 'W' | '@' | '%' | '&' => 1.08,
        'A'..='Z' => 0.84,
        'a'..='z' | '0'..='9' => 0.74,
        c if c.is_ascii() => 0.84,
        // Wide scripts: CJK, Hangul, full-width forms; and emoji, wider still.
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{20000}'..='\u{3FFFD}' => 1.05,
        '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' => 1.3,
        _ => 0.9,
    }
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
/// a badge keeps its colours and pattern across releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::super::{ImageType, accept_badge_image};
    use super::*;

    const ARTS: [BadgeArt; 6] = [BadgeArt::MicroBadge, BadgeArt::MicroCredential, BadgeArt::Level(1), BadgeArt::Level(2), BadgeArt::Level(3), BadgeArt::Issuer];

    /// The `name` lines of a badge: (font size, textLength if any, text).
    fn name_lines(svg: &str) -> Vec<(u32, Option<f64>, String)> {
        svg.split("<text class=\"name\"")
            .skip(1)
            .map(|part| {
                let attribute = |name: &str| part.split(&format!(" {name}=\"")).nth(1).and_then(|rest| rest.split('"').next()).map(str::to_string);
                let size = attribute("font-size").unwrap().parse().unwrap();
                let length = attribute("textLength").map(|length| length.parse().unwrap());
                let text = part.split('>').nth(1).unwrap().split('<').next().unwrap().to_string();
                (size, length, text)
            })
            .collect()
    }

    fn words(name: &str) -> Vec<&str> {
        name.split_whitespace().collect()
    }

    #[test]
    fn names_wrap_by_width_and_split_only_words_wider_than_a_line() {
        assert_eq!(wrap(&[], 10.0, 3, true), (vec![], true));
        assert_eq!(wrap(&words("Intro"), 10.0, 3, true), (vec!["Intro".to_string()], true));
        assert_eq!(wrap(&words("Introduction to Rust"), 9.0, 3, true), (vec!["Introduction".into(), "to Rust".into()], true));
        // Wide letters take more room than narrow ones.
        assert_eq!(wrap(&words("WWW WWW"), 6.5, 3, true).0.len(), 2);
        assert_eq!(wrap(&words("iii iii"), 6.5, 3, true).0.len(), 1);
        let (lines, whole) = wrap(&words("Supercalifragilisticexpialidocious"), 8.0, 6, true);
        assert!(!wrap(&words("Supercalifragilisticexpialidocious"), 8.0, 6, false).1, "no break unless allowed");
        assert!(whole && lines.len() > 1 && lines.concat() == "Supercalifragilisticexpialidocious", "{lines:?}");
        assert!(lines.iter().all(|line| text_em(line) <= 8.0), "{lines:?}");
        let (lines, whole) = wrap(&words("one two three four five six seven eight nine ten"), 5.0, 2, true);
        assert!(!whole && lines.len() == 2, "{lines:?}");
        assert_eq!(with_ellipsis("seven eight", 5.0), "seven…");
        assert_eq!(with_ellipsis("Supercalifragilistic", 5.0).chars().last(), Some('…'));
        assert!(text_em(&with_ellipsis("Supercalifragilistic", 5.0)) <= 5.0);
    }

    #[test]
    fn every_name_fits_its_box_at_the_largest_size_that_holds_it_whole() {
        let names = [
            "Intro",
            "Robust Bash",
            "Advanced Welding and Fabrication in Practice",
            "Supercalifragilisticexpialidocious",
            "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
            "Professional Certificate in Sustainable Infrastructure Asset Management and Lifecycle Engineering for Municipal Water Systems",
            "持续集成与持续交付的工程实践基础课程证书",
            "Café ☕ 咖啡 🎓🎓🎓🎓🎓🎓",
        ];
        for art in [BadgeArt::MicroBadge, BadgeArt::MicroCredential, BadgeArt::Level(2)] {
            let area = art.text_box();
            for name in names {
                let svg = default_badge_svg(name, art, "Acme");
                let lines = name_lines(&svg);
                assert!(!lines.is_empty() && lines.len() <= MAX_NAME_LINES, "{art:?} {name:?}: {lines:?}");
                let size = lines[0].0;
                assert!(block_height(size, lines.len()) <= area.height(), "{art:?} {name:?}: {lines:?} too tall");
                for (_, length, text) in &lines {
                    let text = text.replace("&amp;", "&");
                    let estimate = text_em(&text) * f64::from(size);
                    assert!(estimate <= f64::from(area.width()) + 0.001, "{art:?} {name:?}: {text:?} is {estimate} wide");
                    if estimate > f64::from(area.width()) * 0.8 {
                        assert!(length.is_some_and(|length| length <= f64::from(area.width())), "{art:?} {name:?}: {text:?} has no textLength");
                    }
                }
                let shown: String = lines.iter().map(|(_, _, text)| text.as_str()).collect::<Vec<_>>().join(" ");
                if !shown.ends_with('…') {
                    assert_eq!(shown.replace(' ', ""), name.replace(' ', ""), "{art:?}: the whole name is shown");
                    // One size larger would not have held it whole: without breaking a word
                    // when none is broken, or at all when one had to be.
                    let (budget, _) = line_budget(area, size);
                    let unbroken = words(name).iter().all(|word| text_em(word) <= budget);
                    if let Some(larger) = NAME_SIZES.iter().rev().find(|&&s| s > size) {
                        let (budget, max_lines) = line_budget(area, *larger);
                        assert!(!wrap(&words(name), budget, max_lines, !unbroken).1, "{art:?} {name:?} would fit at {larger}");
                    }
                    if unbroken {
                        let shown_words: Vec<&str> = shown.split(' ').collect();
                        assert_eq!(shown_words, words(name), "{art:?}: no word is broken when none must be");
                    }
                }
            }
        }
        // Short names are set large; long ones smaller.
        let short = name_lines(&default_badge_svg("Intro", BadgeArt::MicroBadge, "Acme"))[0].0;
        let long = name_lines(&default_badge_svg(names[5], BadgeArt::MicroBadge, "Acme"))[0].0;
        assert!(short == NAME_SIZES[0] && long < short, "{short} {long}");
    }

    #[test]
    fn text_boxes_lie_inside_their_shapes_inner_border() {
        // The circle: every corner within the inner ring (radius 212, minus its stroke).
        let circle = BadgeArt::MicroBadge.text_box();
        for (x, y) in [(circle.left, circle.top), (circle.right, circle.bottom), (circle.left, circle.bottom), (circle.right, circle.top)] {
            let (dx, dy) = (f64::from(x) - 256.0, f64::from(y) - 256.0);
            assert!((dx * dx + dy * dy).sqrt() < 208.0, "({x}, {y})");
        }
        // The hexagon: the box lies within its vertical sides, between its side vertices.
        let hexagon = BadgeArt::MicroCredential.text_box();
        assert!(hexagon.left > 72 && hexagon.right < 440 && hexagon.top >= 150 && hexagon.bottom <= 362);
        // The shield: the box is below the sloping top and inside the sides where they are
        // straight (down to y = 248) and, at its bottom, inside the curve (x ≈ 90 and 422 at y = 318).
        let shield = BadgeArt::Level(1).text_box();
        let top_edge_at = |x: f64| 48.0 + (256.0 - x).abs() / 178.0 * 50.0;
        assert!(f64::from(shield.top) > top_edge_at(f64::from(shield.left)) + 8.0);
        assert!(shield.left > 90 && shield.right < 422 && shield.bottom < 318);
    }

    #[test]
    fn kind_level_issuer_and_name_each_change_the_badge() {
        let badge = |name: &str, art: BadgeArt, issuer: &str| default_badge_svg(name, art, issuer);
        // The kind sets the shape.
        let shapes: std::collections::BTreeSet<String> = [BadgeArt::MicroBadge, BadgeArt::MicroCredential, BadgeArt::Level(1), BadgeArt::Issuer]
            .into_iter()
            .map(|art| {
                let svg = badge("Welding", art, "Acme");
                let after_defs = svg.split("</defs>").nth(1).unwrap();
                after_defs.split_whitespace().next().unwrap().to_string()
            })
            .collect();
        assert_eq!(shapes.len(), 4, "{shapes:?}");
        // The level sets the mark: "LEVEL n" and n held pips of three.
        for level in 1..=3u8 {
            let svg = badge("Welding", BadgeArt::Level(level), "Acme");
            assert!(svg.contains(&format!(">LEVEL {level}</text>")), "{svg}");
            assert_eq!(svg.matches("class=\"pip held\"").count(), usize::from(level));
            assert_eq!(svg.matches("class=\"pip").count(), 3);
        }
        for level in [0, 4] {
            assert!(!badge("Welding", BadgeArt::Level(level), "Acme").contains("pip"));
        }
        assert_eq!(badge("Welding", BadgeArt::MicroCredential, "Acme").matches("<polyline points=\"214,").count(), 3);
        // The issuer sets the colours: a badge shows its palette's accent.
        let accents: std::collections::BTreeSet<&str> = ["Acme", "Northern College", "Guild", "x", "y", "z", "Open University", "Makers"]
            .iter()
            .map(|issuer| {
                let svg = badge("A", BadgeArt::MicroBadge, issuer);
                PALETTES.iter().map(|palette| palette.accent).find(|accent| svg.contains(accent)).unwrap()
            })
            .collect();
        assert!(accents.len() > 2, "{accents:?}");
        // The name sets the pattern and shade: one issuer's micro-badges are not all alike.
        let names = ["Robust Bash", "Welding", "Data Ethics", "First Aid", "Public Speaking", "Rust", "Python", "Statistics"];
        let looks: std::collections::BTreeSet<String> = names
            .iter()
            .map(|name| {
                let svg = badge(name, BadgeArt::MicroBadge, "Acme");
                let fill = svg.split(" fill=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
                let pattern = svg.split("stroke-opacity=\"0.16\">").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
                format!("{fill} {pattern}")
            })
            .collect();
        assert!(looks.len() >= 5, "{looks:?}");
        // And the same arguments always draw the same badge.
        assert_eq!(badge("A", BadgeArt::Level(2), "Acme"), badge("A", BadgeArt::Level(2), "Acme"));
        // An issuer's badge shows its initials.
        let lines = name_lines(&badge("Northern College of Art", BadgeArt::Issuer, "Northern College of Art"));
        assert_eq!(lines.iter().map(|(_, _, text)| text.as_str()).collect::<Vec<_>>(), ["NC"]);
        assert!(name_lines(&badge("", BadgeArt::Issuer, "")).is_empty());
    }

    #[test]
    fn shaded_grounds_stay_dark_enough_for_white_text() {
        // WCAG relative luminance: white on the ground needs a contrast of at least 4.5.
        fn luminance(rgb: [u8; 3]) -> f64 {
            let channel = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
        }
        for palette in PALETTES {
            for shade in SHADES {
                let hex = shaded(palette.ground, shade);
                let rgb = [1, 3, 5].map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap());
                assert!(1.05 / (luminance(rgb) + 0.05) >= 4.5, "{hex}");
            }
        }
    }

    #[test]
    fn default_badges_are_accepted_uploads_with_escaped_text() {
        let cases: &[(&str, &str)] = &[
            ("Intro", "Acme"),
            ("<script>&\"'", "x"),
            ("Advanced Welding and Fabrication in Practice", "Northern College"),
            ("Supercalifragilisticexpialidocious", ""),
            ("Café ☕ 咖啡", "é"),
            ("bad\u{1}control\u{0}chars\u{FFFF}", "y"),
            ("", ""),
        ];
        for &(name, issuer) in cases {
            for art in ARTS.into_iter().chain([BadgeArt::Level(0), BadgeArt::Level(9)]) {
                let svg = default_badge_svg(name, art, issuer);
                let accepted = accept_badge_image(svg.as_bytes(), Some("image/svg+xml"));
                assert!(matches!(accepted, Ok((ImageType::Svg, _))), "{art:?} badge for {name:?} refused: {accepted:?}\n{svg}");
                assert!(!svg.contains("<script"), "{svg}");
                assert!(!svg.contains('\u{1}') && !svg.contains('\u{0}'), "{svg}");
                assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"512\" height=\"512\""), "{svg}");
            }
        }
        let svg = default_badge_svg("<i>&\"", BadgeArt::Level(2), "Acme");
        assert!(svg.contains("<title>&lt;i&gt;&amp;&quot;</title>"), "{svg}");
        assert!(svg.contains(">&lt;i&gt;&amp;&quot;</text>"), "{svg}");
    }
}
