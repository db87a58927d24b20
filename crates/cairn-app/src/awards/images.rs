//! Baked badge images: the achievement's image, as a PNG and as an SVG, each carrying the signed
//! OB 3.0 credential. An SVG badge is rendered to PNG with resvg (text set in the system's fonts;
//! without any installed, the shapes alone); a PNG badge is wrapped in an SVG that embeds it.

use base64::Engine as _;
use cairn_core::image::ImageType;
use cairn_vc::bake::{self, BakeError, BakedPayload};
use resvg::{tiny_skia, usvg};
use std::sync::{Arc, OnceLock};

/// The longer side of a PNG rendered from an SVG badge, in pixels.
pub(crate) const RENDER_SIDE: u32 = 512;

/// Families tried, in order, for the generic `sans-serif` (the default badge asks for Helvetica
/// Neue, then Arial, then sans-serif).
const SANS_SERIF_FAMILIES: [&str; 8] = ["Helvetica Neue", "Helvetica", "Arial", "Liberation Sans", "DejaVu Sans", "Noto Sans", "FreeSans", "Roboto"];

/// The source image of a badge.
#[derive(Debug, Clone)]
pub(crate) struct BadgeImage {
    pub image_type: ImageType,
    pub bytes: Vec<u8>,
}

/// Why an award's badges could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BadgeError {
    #[error("the badge image cannot be rendered: {0}")]
    Render(String),
    #[error("the badge cannot be baked")]
    Bake(#[from] BakeError),
}

/// The two baked images of one award.
#[derive(Debug)]
pub(crate) struct BakedImages {
    pub png: Vec<u8>,
    pub svg: Vec<u8>,
}

/// The system's fonts, read once per process (scanning the font directories is slow).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut database = usvg::fontdb::Database::new();
            database.load_system_fonts();
            let installed = |family: &str| database.faces().any(|face| face.families.iter().any(|(name, _)| name == family));
            if let Some(family) = SANS_SERIF_FAMILIES.into_iter().find(|family| installed(family)) {
                database.set_sans_serif_family(family);
            }
            Arc::new(database)
        })
        .clone()
}

/// Renders an SVG to a PNG whose longer side is `side` pixels. Images that refer to files or URLs
/// are not loaded; `data:` images are.
///
/// # Errors
/// A message when the SVG cannot be parsed or has no area.
pub(crate) fn render_png(svg: &[u8], side: u32) -> Result<Vec<u8>, String> {
    render_pixmap(svg, side)?.encode_png().map_err(|e| format!("the rendered badge cannot be encoded: {e}"))
}

/// Renders an SVG as [`render_png`] does, to pixels.
fn render_pixmap(svg: &[u8], side: u32) -> Result<tiny_skia::Pixmap, String> {
    let mut options = usvg::Options { fontdb: fonts(), ..usvg::Options::default() };
    options.font_family = "sans-serif".into();
    options.image_href_resolver =
        usvg::ImageHrefResolver { resolve_data: usvg::ImageHrefResolver::default_data_resolver(), resolve_string: Box::new(|_: &str, _: &usvg::Options| None) };
    let tree = usvg::Tree::from_data(svg, &options).map_err(|e| format!("the badge SVG cannot be rendered: {e}"))?;
    let size = tree.size();
    let longer = size.width().max(size.height());
    if !(longer.is_finite() && longer > 0.0) {
        return Err("the badge SVG has no area".into());
    }
    let scale = side as f32 / longer;
    let pixels = |length: f32| ((length * scale).round() as u32).clamp(1, side);
    let mut pixmap = tiny_skia::Pixmap::new(pixels(size.width()), pixels(size.height())).ok_or("the badge SVG has no area")?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    Ok(pixmap)
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let header = png.get(16..24)?;
    Some((u32::from_be_bytes(header[..4].try_into().ok()?), u32::from_be_bytes(header[4..].try_into().ok()?)))
}

/// An SVG showing `png` at its own size.
fn svg_wrapping_png(png: &[u8]) -> Vec<u8> {
    let (width, height) = png_size(png).unwrap_or((RENDER_SIDE, RENDER_SIDE));
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\
         <image width=\"{width}\" height=\"{height}\" href=\"data:image/png;base64,{data}\"/></svg>"
    )
    .into_bytes()
}

/// A badge's PNG and SVG before a credential is baked into them: rendered once per achievement,
/// then baked for each of its credentials.
#[derive(Debug, Clone)]
pub(crate) struct PlainBadges {
    png: Vec<u8>,
    svg: Vec<u8>,
}

/// The PNG and SVG of `image`. When an SVG badge cannot be rendered, the PNG shows
/// `fallback_svg` (the generated default badge) instead, so an award never fails for want of a
/// picture.
///
/// # Errors
/// [`BadgeError`] when neither the image nor the fallback renders.
pub(crate) fn plain_badges(image: &BadgeImage, fallback_svg: &str) -> Result<PlainBadges, BadgeError> {
    Ok(match image.image_type {
        ImageType::Png => PlainBadges { png: image.bytes.clone(), svg: svg_wrapping_png(&image.bytes) },
        ImageType::Svg => {
            let png = render_png(&image.bytes, RENDER_SIDE).or_else(|error| {
                tracing::warn!(%error, "the badge image could not be rendered; the PNG shows the default badge");
                render_png(fallback_svg.as_bytes(), RENDER_SIDE)
            });
            PlainBadges { png: png.map_err(BadgeError::Render)?, svg: image.bytes.clone() }
        }
    })
}

impl PlainBadges {
    /// Both images with the credential baked in.
    ///
    /// # Errors
    /// [`BadgeError::Bake`] when baking refuses an image.
    pub(crate) fn bake(&self, credential_json: &str) -> Result<BakedImages, BadgeError> {
        let payload = BakedPayload::Ob3Json(credential_json.to_string());
        Ok(BakedImages { png: bake::bake_png(&self.png, &payload)?, svg: bake::bake_svg(&self.svg, &payload)? })
    }
}

/// Bakes the credential into a PNG and an SVG of `image` ([`plain_badges`], then
/// [`PlainBadges::bake`]).
///
/// # Errors
/// [`BadgeError`] when neither the image nor the fallback renders, or baking refuses the image.
#[cfg(test)]
pub(crate) fn bake_badges(image: &BadgeImage, fallback_svg: &str, credential_json: &str) -> Result<BakedImages, BadgeError> {
    plain_badges(image, fallback_svg)?.bake(credential_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_badge_renders_and_both_images_carry_the_credential() {
        let svg = cairn_core::image::default_badge_svg("Robust Bash", cairn_core::image::BadgeArt::Level(2), "Northbridge");
        let credential = r#"{"id":"https://cairn.example/awards/1/credential","proof":[{"type":"DataIntegrityProof"}]}"#;
        let baked = bake_badges(&BadgeImage { image_type: ImageType::Svg, bytes: svg.clone().into_bytes() }, &svg, credential).unwrap();
        assert_eq!(png_size(&baked.png), Some((RENDER_SIDE, RENDER_SIDE)));
        for image in [&baked.png, &baked.svg] {
            assert_eq!(bake::unbake(image).unwrap(), Some(BakedPayload::Ob3Json(credential.into())));
        }
    }

    #[test]
    fn a_generated_badges_name_stays_inside_its_text_box_in_the_systems_fonts() {
        use cairn_core::image::BadgeArt;
        if fonts().is_empty() {
            // Without fonts resvg draws no text at all; the test command installs DejaVu.
            eprintln!("no system fonts: the rendered name cannot be checked");
            return;
        }
        let names = [
            "Advanced Welding and Fabrication in Practice",
            "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW MMMMMMMMMMMMMM",
            "Professional Certificate in Sustainable Infrastructure Asset Management and Lifecycle Engineering",
            "Intro",
        ];
        for art in [BadgeArt::MicroBadge, BadgeArt::MicroCredential, BadgeArt::Level(3), BadgeArt::Issuer] {
            for name in names {
                let svg = cairn_core::image::default_badge_svg(name, art, "Northbridge");
                // The name alone, on a transparent square: every pixel it inks must lie in the box.
                let texts: String = svg
                    .split("<text class=\"name\"")
                    .skip(1)
                    .map(|part| format!("<text class=\"name\"{}</text>", part.split("</text>").next().unwrap()))
                    .collect();
                let only_name = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"512\" height=\"512\" viewBox=\"0 0 512 512\">{texts}</svg>");
                let pixmap = render_pixmap(only_name.as_bytes(), 512).unwrap();
                let inked: Vec<(u32, u32)> = (0..512u32)
                    .flat_map(|y| (0..512u32).map(move |x| (x, y)))
                    .filter(|&(x, y)| pixmap.pixel(x, y).is_some_and(|pixel| pixel.alpha() > 32))
                    .collect();
                assert!(!inked.is_empty(), "{art:?} {name:?}: no text was drawn");
                let area = art.text_box();
                // One pixel of antialiasing either side.
                let outside: Vec<&(u32, u32)> =
                    inked.iter().filter(|&&(x, y)| x + 1 < area.left || x > area.right + 1 || y + 1 < area.top || y > area.bottom + 1).collect();
                assert!(outside.is_empty(), "{art:?} {name:?}: {} pixels outside {area:?}, e.g. {:?}", outside.len(), outside.first());
            }
        }
    }

    #[test]
    fn a_png_badge_is_kept_and_wrapped_for_the_svg() {
        let png = render_png(br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>"#, 64).unwrap();
        assert_eq!(png_size(&png), Some((64, 32)));
        let baked = bake_badges(&BadgeImage { image_type: ImageType::Png, bytes: png.clone() }, "", "{}").unwrap();
        let svg = String::from_utf8(baked.svg).unwrap();
        assert!(svg.contains("width=\"64\" height=\"32\"") && svg.contains("data:image/png;base64,"), "{svg}");
        assert_eq!(bake::unbake(&baked.png).unwrap(), Some(BakedPayload::Ob3Json("{}".into())));
    }

    #[test]
    fn a_broken_svg_falls_back_to_the_default_badge() {
        let fallback = cairn_core::image::default_badge_svg("Fallback", cairn_core::image::BadgeArt::MicroBadge, "x");
        let baked = bake_badges(
            &BadgeImage { image_type: ImageType::Svg, bytes: b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"/>".to_vec() },
            &fallback,
            "{}",
        );
        assert_eq!(png_size(&baked.unwrap().png), Some((RENDER_SIDE, RENDER_SIDE)));
        assert!(render_png(b"not svg", 10).is_err());
    }
}
