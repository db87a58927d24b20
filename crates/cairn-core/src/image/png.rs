//! PNG badge images: a full decode within size and memory limits, and nothing after the end.

use super::{ImageError, MAX_PNG_SIDE};

/// The most memory the PNG decoder may reserve for chunks and buffers.
const PNG_DECODER_BYTES: usize = 64 * 1024 * 1024;
pub(super) const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks that a badge PNG decodes in full, within the side and memory limits, and ends at `IEND`.
pub(super) fn validate_png(bytes: &[u8]) -> Result<(), ImageError> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::super::tests::check;
    use super::super::{ImageType, accept_badge_image};
    use super::*;

    pub(in crate::image) fn png(width: u32, height: u32) -> Vec<u8> {
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

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
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
}
