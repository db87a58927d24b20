//! Charts drawn on the server as SVG, with no script: a bar chart of labelled values, scaled to
//! its largest value, `role="img"` with a `<title>` and a `<desc>` that say what it shows. Each
//! chart is shown beside a table of the same figures, which screen readers read instead.

use std::fmt::Write;

/// One bar: its label (under it, or beside it when horizontal) and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
}

/// Text made safe inside SVG markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn figure(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// Vertical bars side by side, for values over time: a bar per bucket, its value above it, every
/// `label_every`-th label under it (so that many buckets stay legible on a phone). The drawing
/// scales with its container (`viewBox`, no fixed size).
pub(crate) fn columns(id: &str, title: &str, description: &str, bars: &[Bar], label_every: usize) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 220.0;
    const TOP: f64 = 24.0;
    const BOTTOM: f64 = 36.0;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let slot = if bars.is_empty() { WIDTH } else { WIDTH / bars.len() as f64 };
    let bar_width = (slot * 0.7).max(1.0);
    let plot = HEIGHT - TOP - BOTTOM;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" focusable=\"false\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <line class=\"chart-axis\" x1=\"0\" y1=\"{}\" x2=\"{WIDTH}\" y2=\"{}\"/>",
        escape(title),
        escape(description),
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
    for (i, bar) in bars.iter().enumerate() {
        let height = if max > 0.0 { plot * bar.value / max } else { 0.0 };
        let x = slot * i as f64 + (slot - bar_width) / 2.0;
        let y = HEIGHT - BOTTOM - height;
        let _ = write!(svg, "<rect class=\"chart-bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_width:.1}\" height=\"{height:.1}\"/>");
        if bar.value > 0.0 {
            let _ = write!(
                svg,
                "<text class=\"chart-value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_width / 2.0,
                y - 4.0,
                figure(bar.value)
            );
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                svg,
                "<text class=\"chart-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_width / 2.0,
                HEIGHT - BOTTOM + 18.0,
                escape(&bar.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one a row, for comparing a few named values against `scale` (100 for
/// percentages; the largest value when `None`), each with its label above it and its value at
/// its end, `unit` after the value.
pub(crate) fn rows(id: &str, title: &str, description: &str, bars: &[Bar], scale: Option<f64>, unit: &str) -> String {
    const WIDTH: f64 = 640.0;
    const ROW: f64 = 44.0;
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let max = scale.unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let plot = WIDTH - 90.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" focusable=\"false\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    for (i, bar) in bars.iter().enumerate() {
        let top = ROW * i as f64 + 4.0;
        let length = if max > 0.0 { plot * (bar.value / max).min(1.0) } else { 0.0 };
        let _ = write!(
            svg,
            "<text class=\"chart-label\" x=\"0\" y=\"{:.1}\">{}</text>\
             <rect class=\"chart-track\" x=\"0\" y=\"{:.1}\" width=\"{plot:.1}\" height=\"16\"/>\
             <rect class=\"chart-bar\" x=\"0\" y=\"{:.1}\" width=\"{length:.1}\" height=\"16\"/>\
             <text class=\"chart-value\" x=\"{:.1}\" y=\"{:.1}\">{}{}</text>",
            top + 12.0,
            escape(&bar.label),
            top + 18.0,
            top + 18.0,
            plot + 8.0,
            top + 31.0,
            figure(bar.value),
            escape(unit)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_labelled_images_that_escape_their_text() {
        let bars = [Bar { label: "<week 1>".into(), value: 3.0 }, Bar { label: "week 2".into(), value: 0.0 }];
        let svg = columns("sends", "Sent & decided", "Two weeks", &bars, 1);
        assert!(svg.starts_with("<svg class=\"chart\"") && svg.ends_with("</svg>"), "{svg}");
        assert!(svg.contains("role=\"img\"") && svg.contains("<title id=\"sends-title\">Sent &amp; decided</title>"), "{svg}");
        assert!(svg.contains("&lt;week 1&gt;") && !svg.contains("<week 1>"), "{svg}");
        assert_eq!(svg.matches("class=\"chart-bar\"").count(), 2);
        assert!(svg.contains(">3</text>"), "the value is written on its bar: {svg}");
        let svg = rows("rates", "Pass rates", "Percent", &[Bar { label: "First attempt".into(), value: 50.0 }], Some(100.0), " %");
        assert!(svg.contains("width=\"275.0\""), "half of the 550 wide plot: {svg}");
        assert!(svg.contains(">50 %</text>"), "{svg}");
        let empty = columns("none", "Nothing", "No data", &[], 1);
        assert!(empty.contains("<title id=\"none-title\">Nothing</title>"));
    }
}
