//! The generated default badge, for achievements and issuers without an image of their own.

use super::svg::is_xml_char;

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
    use super::super::{ImageType, accept_badge_image};
    use super::*;

    fn check_wrap(name: &str, expected: &[&str]) {
        assert_eq!(wrap_name(name, BADGE_LINE_CHARS, BADGE_MAX_LINES), expected, "wrapping {name:?}");
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
