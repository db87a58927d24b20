//! Safe Markdown rendering of issuer-written criteria narratives: CommonMark in, HTML that cannot script or track the reader out, plus a plain-text view.
//!
//! Issuers are not trusted to write HTML, so raw HTML in the source is shown as text, link
//! destinations are limited to web and mail addresses or same-site paths, and images load only
//! over http(s). The parser is iterative, so hostile nesting cannot exhaust the stack, and the
//! input is capped so every call does bounded work.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// The most source text that is rendered; the rest is cut off so one narrative cannot make a page slow.
pub const MAX_MARKDOWN_BYTES: usize = 64 * 1024;

/// Renders CommonMark (with tables and strikethrough) to HTML that is safe to embed in a page.
pub fn render_markdown(source: &str) -> String {
    let source = capped(source);
    let mut events = Parser::new_ext(source, options());
    let mut safe = Vec::new();
    while let Some(event) = events.next() {
        match event {
            // The writer escapes text, so turning raw HTML into text shows the issuer's markup
            // literally instead of running it.
            Event::Html(raw) | Event::InlineHtml(raw) => safe.push(Event::Text(raw)),
            // An HTML block rendered as text still needs a block around it to keep the page's
            // structure sound.
            Event::Start(Tag::HtmlBlock) => safe.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => safe.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link { link_type, dest_url, title, .. }) => {
                safe.push(Event::InlineHtml(link_open_tag(link_type, &dest_url, &title).into()));
            }
            Event::End(TagEnd::Link) => safe.push(Event::InlineHtml("</a>".into())),
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                let alt = alt_text(&mut events);
                match allowed_destination(&dest_url, Target::Image) {
                    Some(src) => safe.push(Event::InlineHtml(img_tag(&src, &alt, &title).into())),
                    None => safe.push(Event::Text(alt.into())),
                }
            }
            other => safe.push(other),
        }
    }
    let mut out = String::with_capacity(source.len() + source.len() / 2);
    html::push_html(&mut out, safe.into_iter());
    out
}

/// A plain-text rendering (no markup), whitespace collapsed, for search indexes and meta descriptions.
///
/// Raw HTML is left out entirely: its tags are markup, and the text is meant for places where
/// tag soup is only noise.
pub fn markdown_to_text(source: &str) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(capped(source), options()) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            // Blocks and table cells end with a space so words on either side do not run together.
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::List(_)
                | TagEnd::Table
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::TableCell,
            ) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Only the extensions narratives need; each extra one is more syntax to reason about.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// The longest prefix of `source` within [`MAX_MARKDOWN_BYTES`] that ends on a character boundary.
fn capped(source: &str) -> &str {
    if source.len() <= MAX_MARKDOWN_BYTES {
        return source;
    }
    let mut end = MAX_MARKDOWN_BYTES;
    // The loop ends because index 0 is always a character boundary.
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    &source[..end]
}

/// Consumes the events inside an image, up to its end, and returns their text as the alt text.
fn alt_text<'a>(events: &mut impl Iterator<Item = Event<'a>>) -> String {
    let mut alt = String::new();
    // Images can nest inside alt text, so count them to find this image's own end.
    let mut open_images = 1usize;
    for event in events {
        match event {
            Event::Start(Tag::Image { .. }) => open_images += 1,
            Event::End(TagEnd::Image) => {
                open_images -= 1;
                if open_images == 0 {
                    break;
                }
            }
            Event::Text(words) | Event::Code(words) | Event::InlineHtml(words) => alt.push_str(&words),
            Event::SoftBreak | Event::HardBreak => alt.push(' '),
            _ => {}
        }
    }
    alt
}

fn link_open_tag(link_type: LinkType, dest_url: &str, title: &str) -> String {
    // The parser gives e-mail autolinks without their scheme.
    let dest = if link_type == LinkType::Email { format!("mailto:{dest_url}") } else { dest_url.to_owned() };
    let href = allowed_destination(&dest, Target::Link).unwrap_or_else(|| "#".to_owned());
    let mut tag = String::from("<a href=\"");
    push_url(&mut tag, &href);
    tag.push('"');
    if !title.is_empty() {
        tag.push_str(" title=\"");
        push_attribute(&mut tag, title);
        tag.push('"');
    }
    tag.push_str(" rel=\"nofollow noopener\">");
    tag
}

fn img_tag(src: &str, alt: &str, title: &str) -> String {
    let mut tag = String::from("<img src=\"");
    push_url(&mut tag, src);
    tag.push_str("\" alt=\"");
    push_attribute(&mut tag, alt);
    tag.push('"');
    if !title.is_empty() {
        tag.push_str(" title=\"");
        push_attribute(&mut tag, title);
        tag.push('"');
    }
    tag.push_str(" loading=\"lazy\">");
    tag
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Link,
    Image,
}

/// The destination as it should be written, or `None` when it may not be used for `target`.
///
/// Links may go to http(s), mailto or same-site relative addresses; images only to http(s),
/// because a relative image could reach the application's own endpoints with the reader's cookies.
fn allowed_destination(dest: &str, target: Target) -> Option<String> {
    // Browsers ignore leading and trailing controls and spaces and every tab or newline inside a
    // URL, so the kept address is that cleaned form.
    let cleaned: String = dest.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    // The scheme is judged on a stricter view with all whitespace and controls gone and letters
    // lower-cased, so "java\tscript:" or " JaVaScRiPt:" cannot pass as something else.
    let probe: String = cleaned.chars().filter(|c| !c.is_whitespace() && !c.is_control()).flat_map(char::to_lowercase).collect();
    let scheme_end = probe.find(':').filter(|&colon| !probe[..colon].contains(['/', '?', '#']));
    let allowed = match scheme_end {
        Some(colon) => {
            let scheme = &probe[..colon];
            match target {
                Target::Link => matches!(scheme, "http" | "https" | "mailto"),
                Target::Image => matches!(scheme, "http" | "https"),
            }
        }
        // Browsers read "//host" and "\\host" (and mixes) as another site, so only paths on this
        // site count as relative.
        None => {
            let mut start = probe.chars().take(2);
            let other_site = start.next().is_some_and(|c| c == '/' || c == '\\') && start.next().is_some_and(|c| c == '/' || c == '\\');
            target == Target::Link && !other_site
        }
    };
    allowed.then_some(cleaned)
}

/// Writes a URL for a double-quoted attribute, percent-encoding what cannot appear there raw.
fn push_url(out: &mut String, url: &str) {
    for c in url.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("%22"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '`' => out.push_str("%60"),
            c if c == ' ' || c.is_control() => {
                let mut bytes = [0u8; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// Writes text for a double-quoted attribute.
fn push_attribute(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(render_markdown(input), expected, "rendering {input:?}");
    }

    fn check_text(input: &str, expected: &str) {
        assert_eq!(markdown_to_text(input), expected, "extracting text from {input:?}");
    }

    #[test]
    fn ordinary_markdown_renders_as_commonmark() {
        check("# Title", "<h1>Title</h1>\n");
        check("### Third", "<h3>Third</h3>\n");
        check("*em* and **strong** and ~~gone~~", "<p><em>em</em> and <strong>strong</strong> and <del>gone</del></p>\n");
        check("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
        check("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n");
        check("use `a < b`", "<p>use <code>a &lt; b</code></p>\n");
        check("```rust\nlet x = 1 < 2;\n```", "<pre><code class=\"language-rust\">let x = 1 &lt; 2;\n</code></pre>\n");
        check(
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>1</td><td>2</td></tr>\n</tbody></table>\n",
        );
        check("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
        check("", "");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        check("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
        check("<div onclick=\"x()\">\nhi\n</div>", "<p>&lt;div onclick=\"x()\"&gt;\nhi\n&lt;/div&gt;</p>\n");
        check("a <img src=x onerror=alert(1)> b", "<p>a &lt;img src=x onerror=alert(1)&gt; b</p>\n");
        check("a <!-- hidden --> b", "<p>a &lt;!-- hidden --&gt; b</p>\n");
    }

    #[test]
    fn safe_links_are_kept_with_nofollow() {
        check("[x](https://example.org/a?b=1&c=2)", "<p><a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x](http://example.org \"the title\")", "<p><a href=\"http://example.org\" title=\"the title\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x](mailto:a@example.org)", "<p><a href=\"mailto:a@example.org\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x](/criteria/1)", "<p><a href=\"/criteria/1\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x](page.html#part)", "<p><a href=\"page.html#part\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x](</a b>)", "<p><a href=\"/a%20b\" rel=\"nofollow noopener\">x</a></p>\n");
        check("[x][r]\n\n[r]: https://example.org", "<p><a href=\"https://example.org\" rel=\"nofollow noopener\">x</a></p>\n");
    }

    #[test]
    fn autolinks_are_links_with_nofollow() {
        check("<https://example.org>", "<p><a href=\"https://example.org\" rel=\"nofollow noopener\">https://example.org</a></p>\n");
        check("<a@example.org>", "<p><a href=\"mailto:a@example.org\" rel=\"nofollow noopener\">a@example.org</a></p>\n");
        check("<javascript:alert(1)>", "<p><a href=\"#\" rel=\"nofollow noopener\">javascript:alert(1)</a></p>\n");
    }

    #[test]
    fn script_links_become_harmless_in_every_disguise() {
        let harmless = "<p><a href=\"#\" rel=\"nofollow noopener\">x</a></p>\n";
        check("[x](javascript:alert(1))", harmless);
        check("[x](JaVaScRiPt:alert(1))", harmless);
        check("[x](< JaVaScRiPt:alert(1)>)", harmless);
        check("[x](<java\tscript:alert(1)>)", harmless);
        check("[x](<java script:alert(1)>)", harmless);
        check("[x](&#106;avascript:alert(1))", harmless);
        check("[x](java&#x09;script:alert(1))", harmless);
        check("[x](java&#10;script:alert(1))", harmless);
        check("[x](vbscript:msgbox(1))", harmless);
        check("[x](data:text/html;base64,PHNjcmlwdD4=)", harmless);
        check("[x](file:///etc/passwd)", harmless);
        check("[x](//evil.example/x)", harmless);
        check("[x](\\\\\\\\evil.example/x)", harmless);
        check("[x](/\\\\evil.example/x)", harmless);
        check("[x][r]\n\n[r]: javascript:alert(1)", harmless);
    }

    #[test]
    fn images_load_only_over_http() {
        check("![a cat](https://example.org/cat.png)", "<p><img src=\"https://example.org/cat.png\" alt=\"a cat\" loading=\"lazy\"></p>\n");
        check(
            "![a \"cat\"](http://example.org/c.png \"t\")",
            "<p><img src=\"http://example.org/c.png\" alt=\"a &quot;cat&quot;\" title=\"t\" loading=\"lazy\"></p>\n",
        );
        check("![*bold* cat](https://example.org/c.png)", "<p><img src=\"https://example.org/c.png\" alt=\"bold cat\" loading=\"lazy\"></p>\n");
        check("![pixel](data:image/png;base64,iVBORw0KGgo=)", "<p>pixel</p>\n");
        check("![x](javascript:alert(1))", "<p>x</p>\n");
        check("![rel](/logo.png)", "<p>rel</p>\n");
        check("![<b>](//evil.example/t.png)", "<p>&lt;b&gt;</p>\n");
        check("[![in](data:x)](https://example.org)", "<p><a href=\"https://example.org\" rel=\"nofollow noopener\">in</a></p>\n");
    }

    #[test]
    fn deeply_nested_quotes_render_without_overflowing() {
        let source = format!("{} deep", ">".repeat(1000));
        let html = render_markdown(&source);
        let text = markdown_to_text(&source);
        assert!(html.contains("deep"), "{html}");
        assert_eq!(text, "deep");
    }

    #[test]
    fn oversized_input_is_cut_at_a_character_boundary() {
        // One ASCII letter first puts every two-byte "é" across an even offset, so the cap at
        // 65536 falls inside one and must back off a byte.
        let source = format!("a{}", "é".repeat(MAX_MARKDOWN_BYTES));
        let text = markdown_to_text(&source);
        assert_eq!(text.len(), MAX_MARKDOWN_BYTES - 1);
        assert!(render_markdown(&source).len() < 2 * MAX_MARKDOWN_BYTES);
    }

    #[test]
    fn text_extraction_drops_markup_and_collapses_whitespace() {
        check_text("# Title\n\nSome *emphasis*   and `code`.", "Title Some emphasis and code.");
        check_text("- one\n- two\n\n1. three", "one two three");
        check_text("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2");
        check_text("[link text](https://example.org) and ![alt](x.png)", "link text and alt");
        check_text("<script>alert(1)</script>\n\nafter", "after");
        check_text("line one\nline two  \nline three", "line one line two line three");
        check_text("> quoted\n\n---\n\nbelow", "quoted below");
        check_text("```\nfn main() {}\n```", "fn main() {}");
        check_text("   ", "");
    }
}
