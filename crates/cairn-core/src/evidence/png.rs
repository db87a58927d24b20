//! PNG evidence: the chunk list is rebuilt from an allowlist of the chunks needed to draw the
//! image, so text, EXIF, time stamps, suggested palettes, ICC profiles (whose name and text tags
//! are free text) and private or unknown chunks are dropped, with anything after `IEND`.
//!
//! ICC profiles are dropped rather than rewritten: a profile carries a name and description and
//! copyright text that the author's tools fill in, and rebuilding its tag table to neutralise them
//! is a parser of its own. An image that had one is shown as sRGB, which changes little for the
//! screenshots and photos learners upload. Animated PNGs are refused, since dropping their frames
//! would silently lose evidence.

use super::EvidenceError;

pub(super) const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Chunks kept: the critical ones and the ancillary ones that change how the pixels look.
const KEPT: &[&[u8; 4]] = &[b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"cICP"];

/// Chunks of animated PNGs.
const ANIMATION: &[&[u8; 4]] = &[b"acTL", b"fcTL", b"fdAT"];

/// The most chunks a file may have. A 10 MB file split into empty chunks would have ~870,000;
/// real encoders write image data in chunks of 8 KB or more.
pub(super) const MAX_CHUNKS: usize = 100_000;

fn corrupt(message: &str) -> EvidenceError {
    EvidenceError::Corrupt(format!("the PNG {message}"))
}

/// Returns the PNG with only the allowed chunks, each checked for bounds and checksum.
pub(super) fn clean(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = SIGNATURE.len();
    for index in 0..MAX_CHUNKS {
        let header = bytes.get(at..at + 8).ok_or_else(|| corrupt("ends before its end chunk"))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind: &[u8; 4] = header[4..8].try_into().map_err(|_| corrupt("has a chunk header cut short"))?;
        let end = at.checked_add(12).and_then(|n| n.checked_add(length)).filter(|&end| end <= bytes.len());
        let end = end.ok_or_else(|| corrupt("has a chunk that runs past the end of the file"))?;
        if (index == 0) != (kind == b"IHDR") {
            return Err(corrupt("does not start with its header chunk"));
        }
        if ANIMATION.contains(&kind) {
            return Err(EvidenceError::Unsupported("animated PNG images are not accepted as evidence: upload a still image, or a PDF"));
        }
        if KEPT.contains(&kind) {
            let stored = u32::from_be_bytes([bytes[end - 4], bytes[end - 3], bytes[end - 2], bytes[end - 1]]);
            if crc32fast::hash(&bytes[at + 4..end - 4]) != stored {
                let name = String::from_utf8_lossy(kind);
                return Err(EvidenceError::Corrupt(format!("the PNG's {name} chunk is damaged (its checksum is wrong)")));
            }
            out.extend_from_slice(&bytes[at..end]);
        } else if kind[0].is_ascii_uppercase() {
            // A critical chunk this list does not know cannot be dropped without breaking the image.
            let name = String::from_utf8_lossy(kind);
            return Err(corrupt(&format!("has a critical chunk of unknown kind \"{name}\"")));
        }
        if kind == b"IEND" {
            // Anything after the end chunk is ignored by viewers and dropped here.
            return Ok(out);
        }
        at = end;
    }
    Err(corrupt(&format!("has more than {MAX_CHUNKS} chunks")))
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;
    use super::super::{EvidenceType, accept_evidence};
    use super::*;

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

    /// A 2x1 grey image with `extra` chunks after the header and `tail` after the end chunk.
    fn png(extra: &[Vec<u8>], tail: &[u8]) -> Vec<u8> {
        let mut png = SIGNATURE.to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 2, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        for extra in extra {
            png.extend_from_slice(extra);
        }
        png.extend(chunk(b"IDAT", &[0x78, 0x01, 0x01, 0x03, 0x00, 0xfc, 0xff, 0x00, 0x10, 0x20, 0x00, 0x43, 0x00, 0x31]));
        png.extend(chunk(b"IEND", &[]));
        png.extend_from_slice(tail);
        png
    }

    fn chunk_kinds(png: &[u8]) -> Vec<String> {
        let mut kinds = Vec::new();
        let mut at = 8;
        while at + 8 <= png.len() {
            let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            kinds.push(String::from_utf8_lossy(&png[at + 4..at + 8]).into_owned());
            at += 12 + length;
        }
        kinds
    }

    #[test]
    fn only_the_chunks_that_draw_the_image_are_kept() {
        let input = png(
            &[
                chunk(b"gAMA", &45455u32.to_be_bytes()),
                chunk(b"tEXt", b"Author\0Ada Lovelace"),
                chunk(b"zTXt", b"Comment\0\0x"),
                chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
                chunk(b"eXIf", b"MM\0*\0\0\0\x08\0\0"),
                chunk(b"iCCP", b"Ada's monitor\0\0x"),
                chunk(b"sPLT", b"Ada\0\x08"),
                chunk(b"tIME", &[7, 232, 1, 1, 0, 0, 0]),
                chunk(b"hIST", &[0, 1]),
                chunk(b"bKGD", &[0, 0]),
                chunk(b"prVt", b"ada@example.org"),
                chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
            ],
            &chunk(b"tEXt", b"Author\0Ada Lovelace"),
        );
        let (kind, clean) = accept_evidence(&input, Some("image/png")).unwrap();
        assert_eq!(kind, EvidenceType::Png);
        assert_eq!(chunk_kinds(&clean), ["IHDR", "gAMA", "pHYs", "IDAT", "IEND"]);
        assert!(!clean.windows(3).any(|w| w == b"Ada" || w == b"ada"));
        let mut decoder = ::png::Decoder::new(clean.as_slice()).read_info().unwrap();
        let mut pixels = vec![0; decoder.output_buffer_size()];
        decoder.next_frame(&mut pixels).unwrap();
        assert_eq!(pixels, [0x10, 0x20]);
    }

    #[test]
    fn damaged_animated_or_odd_pngs_are_refused() {
        let good = png(&[], b"");
        let mut bad_crc = good.clone();
        let idat_crc = good.len() - 12 - 4;
        bad_crc[idat_crc] ^= 1;
        check(&bad_crc, None, Err("the file is damaged: the PNG's IDAT chunk is damaged (its checksum is wrong)"));
        check(&good[..45], None, Err("the file is damaged: the PNG has a chunk that runs past the end of the file"));
        check(&good[..good.len() - 12], None, Err("the file is damaged: the PNG ends before its end chunk"));
        check(SIGNATURE, None, Err("the file is damaged: the PNG ends before its end chunk"));
        let mut huge_length = good.clone();
        huge_length[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        check(&huge_length, None, Err("the file is damaged: the PNG has a chunk that runs past the end of the file"));
        let no_header = [SIGNATURE, &chunk(b"IEND", &[])].concat();
        check(&no_header, None, Err("the file is damaged: the PNG does not start with its header chunk"));
        check(&png(&[chunk(b"IHDR", &[0; 13])], b""), None, Err("the file is damaged: the PNG does not start with its header chunk"));
        check(&png(&[chunk(b"QQQQ", b"")], b""), None, Err("the file is damaged: the PNG has a critical chunk of unknown kind \"QQQQ\""));
        check(&png(&[chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0])], b""), None, Err("animated PNG images are not accepted as evidence"));
        let many = vec![chunk(b"prVt", b""); MAX_CHUNKS];
        // The header, image data and end chunks count too.
        check(&png(&many[2..], b""), None, Err("the file is damaged: the PNG has more than 100000 chunks"));
        check(&png(&many[3..], b""), None, Ok(EvidenceType::Png));
    }
}
