//! JPEG evidence: the segment list is rebuilt from an allowlist of what a decoder needs, up to
//! the first end-of-image marker.
//!
//! Kept: the tables (`DQT`, `DHT`, `DAC`, `DRI`, `DNL`), frame and scan headers with their
//! entropy-coded data, the JFIF header (without its thumbnail) and the Adobe colour-transform
//! header (without anything after its fixed fields). Dropped: every other application segment —
//! EXIF and XMP (APP1), ICC profiles and multi-picture indexes (APP2), Ducky and PictureInfo
//! (APP12), Photoshop and IPTC (APP13) and the rest — comments, and everything after the end of
//! the image, such as a second picture appended by a camera or an editor.
//!
//! ICC profiles are dropped for the same reason as in PNGs (see `png.rs`): their name and text
//! tags are free text. The EXIF orientation is the one field kept, written into a fresh EXIF block
//! that holds nothing else, so a phone photo taken upright is still shown upright.

use super::EvidenceError;

/// The most segments (markers) a file may have. Real files have a few dozen; a progressive
/// image with many scans a few hundred.
pub(super) const MAX_SEGMENTS: usize = 10_000;

const EXIF_HEADER: &[u8] = b"Exif\0\0";
/// The EXIF tag that says how the stored pixels are to be turned for display.
const ORIENTATION_TAG: u16 = 0x0112;

fn corrupt(message: &str) -> EvidenceError {
    EvidenceError::Corrupt(format!("the JPEG {message}"))
}

/// Returns the JPEG with only the allowed segments, each checked for bounds.
pub(super) fn clean(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    // Where the new EXIF block goes: after the start marker and the JFIF header, if any.
    let mut exif_at = out.len();
    let mut orientation = None;
    let mut seen_frame = false;
    let mut seen_scan = false;
    let mut at = 2usize;
    for _ in 0..MAX_SEGMENTS {
        if bytes.get(at) != Some(&0xFF) {
            return Err(if at >= bytes.len() { corrupt("ends before its end-of-image marker") } else { corrupt("has a segment marker missing") });
        }
        // Any marker may be preceded by fill bytes (more 0xFF).
        while bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at + 1).ok_or_else(|| corrupt("ends before its end-of-image marker"))?;
        match marker {
            0xD9 => {
                if !seen_scan {
                    return Err(corrupt("has no image data"));
                }
                out.extend_from_slice(&[0xFF, 0xD9]);
                if let Some(orientation) = orientation {
                    out.splice(exif_at..exif_at, orientation_segment(orientation));
                }
                // Whatever follows the end of the image is dropped.
                return Ok(out);
            }
            0xD8 => return Err(corrupt("has a second start-of-image marker")),
            // Restart and TEM markers stand alone, with no length.
            0xD0..=0xD7 | 0x01 => {
                out.extend_from_slice(&[0xFF, marker]);
                at += 2;
                continue;
            }
            _ => {}
        }
        let length = bytes.get(at + 2..at + 4).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize);
        let end = length.filter(|&length| length >= 2).map(|length| at + 2 + length).filter(|&end| end <= bytes.len());
        let end = end.ok_or_else(|| corrupt("has a segment that runs past the end of the file"))?;
        let segment = &bytes[at..end];
        let payload = &segment[4..];
        match marker {
            // APP0: the JFIF header, rewritten without its thumbnail; other APP0 blocks (JFXX
            // thumbnails, AVI1) are dropped.
            0xE0 => {
                if payload.starts_with(b"JFIF\0") && payload.len() >= 14 && exif_at == 2 {
                    out.extend_from_slice(&[0xFF, 0xE0, 0, 16]);
                    out.extend_from_slice(&payload[..12]);
                    out.extend_from_slice(&[0, 0]);
                    exif_at = out.len();
                }
            }
            // APP1: EXIF (only its orientation is carried over) or XMP.
            0xE1 => {
                if orientation.is_none()
                    && let Some(tiff) = payload.strip_prefix(EXIF_HEADER)
                {
                    orientation = exif_orientation(tiff).filter(|&orientation| orientation != 1);
                }
            }
            // APP14: the Adobe header says how to convert the colours of CMYK and YCCK images.
            0xEE => {
                if payload.starts_with(b"Adobe") && payload.len() >= 12 {
                    out.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
                    out.extend_from_slice(&payload[..12]);
                }
            }
            // Every other application segment, and comments.
            0xE2..=0xEF | 0xFE => {}
            // Tables: Huffman, arithmetic conditioning, quantisation, restart interval, line count,
            // and the hierarchical-mode headers.
            0xC4 | 0xCC | 0xDB | 0xDC | 0xDD | 0xDE | 0xDF => out.extend_from_slice(segment),
            // Frame headers: every SOFn except the reserved 0xC8 and the tables above.
            0xC0..=0xCF => {
                if marker == 0xC8 {
                    return Err(corrupt("has a segment of a reserved kind"));
                }
                seen_frame = true;
                out.extend_from_slice(segment);
            }
            0xDA => {
                if !seen_frame {
                    return Err(corrupt("has image data before its frame header"));
                }
                seen_scan = true;
                out.extend_from_slice(segment);
                let data_end = entropy_coded_end(bytes, end).ok_or_else(|| corrupt("ends before its end-of-image marker"))?;
                out.extend_from_slice(&bytes[end..data_end]);
                at = data_end;
                continue;
            }
            _ => return Err(corrupt(&format!("has a segment of unknown kind 0xFF{marker:02X}"))),
        }
        at = end;
    }
    Err(corrupt(&format!("has more than {MAX_SEGMENTS} segments")))
}

/// The offset of the marker that ends the entropy-coded data starting at `from`: the first 0xFF
/// that is not a stuffed 0xFF00, a restart marker or a fill byte.
fn entropy_coded_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

/// The orientation (1 to 8) in the first image directory of an EXIF block's TIFF structure.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| tiff.get(at..at + 2).map(|b| if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) });
    let u32_at = |at: usize| {
        tiff.get(at..at + 4).map(|b| if big_endian { u32::from_be_bytes([b[0], b[1], b[2], b[3]]) } else { u32::from_le_bytes([b[0], b[1], b[2], b[3]]) })
    };
    let directory = usize::try_from(u32_at(4)?).ok()?;
    let entries = u16_at(directory)?;
    (0..usize::from(entries)).find_map(|index| {
        let entry = directory.checked_add(2 + index * 12)?;
        // A SHORT (type 3) with one value, stored in the first two bytes of the value field.
        let is_orientation = u16_at(entry)? == ORIENTATION_TAG && u16_at(entry + 2)? == 3 && u32_at(entry + 4)? == 1;
        is_orientation.then(|| u16_at(entry + 8)).flatten().filter(|orientation| (1..=8).contains(orientation))
    })
}

/// An APP1 segment with an EXIF block holding the orientation and nothing else.
fn orientation_segment(orientation: u16) -> Vec<u8> {
    let mut segment = vec![0xFF, 0xE1, 0, 34];
    segment.extend_from_slice(EXIF_HEADER);
    // Big-endian TIFF header, first directory at offset 8, one entry, no next directory.
    segment.extend_from_slice(b"MM\0*\0\0\0\x08\0\x01");
    segment.extend_from_slice(&ORIENTATION_TAG.to_be_bytes());
    segment.extend_from_slice(&[0, 3, 0, 0, 0, 1]);
    segment.extend_from_slice(&orientation.to_be_bytes());
    segment.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    segment
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;
    use super::super::{EvidenceType, accept_evidence};
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    const FRAME: &[u8] = &[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0];
    const SCAN: &[u8] = &[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0];
    /// Entropy-coded data with a stuffed 0xFF00, a restart marker and fill bytes before the end.
    const DATA: &[u8] = &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF];

    fn jpeg(before: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8];
        for segment in before {
            jpeg.extend_from_slice(segment);
        }
        jpeg.extend_from_slice(FRAME);
        jpeg.extend_from_slice(SCAN);
        jpeg.extend_from_slice(DATA);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg.extend_from_slice(after);
        jpeg
    }

    fn jfif(thumbnail: &[u8]) -> Vec<u8> {
        let mut payload = b"JFIF\0\x01\x02\x01\0\x48\0\x48".to_vec();
        payload.extend_from_slice(&[if thumbnail.is_empty() { 0 } else { 1 }, if thumbnail.is_empty() { 0 } else { 1 }]);
        payload.extend_from_slice(thumbnail);
        segment(0xE0, &payload)
    }

    /// An EXIF block with an artist and the given orientation, little-endian.
    fn exif(orientation: u16) -> Vec<u8> {
        let mut tiff = b"Exif\0\0II*\0\x08\0\0\0\x02\0".to_vec();
        tiff.extend_from_slice(&[0x3B, 0x01, 2, 0, 4, 0, 0, 0, b'A', b'd', b'a', 0]);
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        segment(0xE1, &tiff)
    }

    #[test]
    fn only_the_segments_a_decoder_needs_are_kept() {
        let input = jpeg(
            &[
                jfif(&[0xAD, 0xA0, 0x00]),
                exif(1),
                segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Ada</x:xmpmeta>"),
                segment(0xE2, b"ICC_PROFILE\0\x01\x01Ada's monitor"),
                segment(0xEC, b"Ducky\0Ada"),
                segment(0xED, b"Photoshop 3.0\08BIM Ada"),
                segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01Ada"),
                segment(0xFE, b"Ada Lovelace"),
                segment(0xDB, &[0; 65]),
                segment(0xC4, &[0; 17]),
                segment(0xDD, &[0, 0]),
            ],
            &jpeg(&[segment(0xFE, b"Ada Lovelace")], b""),
        );
        let (kind, clean) = accept_evidence(&input, Some("image/jpeg")).unwrap();
        assert_eq!(kind, EvidenceType::Jpeg);
        let expected = [
            &[0xFF, 0xD8][..],
            b"\xFF\xE0\0\x10JFIF\0\x01\x02\x01\0\x48\0\x48\0\0",
            b"\xFF\xEE\0\x0EAdobe\0\x64\0\0\0\0\x01",
            &segment(0xDB, &[0; 65]),
            &segment(0xC4, &[0; 17]),
            &segment(0xDD, &[0, 0]),
            FRAME,
            SCAN,
            DATA,
            &[0xFF, 0xD9],
        ]
        .concat();
        assert_eq!(clean, expected);
    }

    #[test]
    fn the_orientation_is_kept_in_a_fresh_exif_block() {
        let (_, clean) = accept_evidence(&jpeg(&[jfif(b""), exif(6)], b""), None).unwrap();
        let expected_exif = b"\xFF\xE1\0\x22Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
        assert_eq!(&clean[20..20 + expected_exif.len()], expected_exif);
        assert_eq!(exif_orientation(&expected_exif[10..]), Some(6));
        assert!(!clean.windows(3).any(|w| w == b"Ada"));
        // No JFIF header: the block goes straight after the start marker.
        let (_, clean) = accept_evidence(&jpeg(&[exif(8)], b""), None).unwrap();
        assert_eq!(&clean[2..6], b"\xFF\xE1\0\x22");
        // Upright (1), out of range or unreadable: no block at all.
        for before in [exif(1), exif(9), segment(0xE1, b"Exif\0\0MM\0*\xFF\xFF\xFF\xFF")] {
            let (_, clean) = accept_evidence(&jpeg(&[before], b""), None).unwrap();
            assert!(!clean.windows(4).any(|w| w == b"Exif"));
        }
    }

    #[test]
    fn damaged_or_odd_jpegs_are_refused() {
        let good = jpeg(&[], b"");
        check(&good[..good.len() - 2], None, Err("the file is damaged: the JPEG ends before its end-of-image marker"));
        check(&good[..6], None, Err("the file is damaged: the JPEG has a segment that runs past the end of the file"));
        check(&[0xFF, 0xD8, 0xFF], None, Err("the file is damaged: the JPEG ends before its end-of-image marker"));
        check(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF], None, Err("the file is damaged: the JPEG has a segment that runs past the end of the file"));
        check(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF, 0xD9], None, Err("the file is damaged: the JPEG has a segment that runs past"));
        check(&[0xFF, 0xD8, 0xFF, 0xD9], None, Err("the file is damaged: the JPEG has no image data"));
        check(&[&[0xFF, 0xD8][..], SCAN, DATA, &[0xFF, 0xD9]].concat(), None, Err("the file is damaged: the JPEG has image data before its frame header"));
        check(&[0xFF, 0xD8, 0xFF, 0xD8], None, Err("the file is damaged: the JPEG has a second start-of-image marker"));
        check(&[0xFF, 0xD8, 0xFF, 0xF7, 0, 2], None, Err("the file is damaged: the JPEG has a segment of unknown kind 0xFFF7"));
        check(&[0xFF, 0xD8, 0xFF, 0xC8, 0, 2], None, Err("the file is damaged: the JPEG has a segment of a reserved kind"));
        check(&[0xFF, 0xD8, 0xFF, 0xDB, 0, 2, 0x00], None, Err("the file is damaged: the JPEG has a segment marker missing"));
        let comments = vec![segment(0xFE, b""); MAX_SEGMENTS];
        // The frame and scan headers count too; the end marker ends the walk before the limit.
        check(&jpeg(&comments[2..], b""), None, Err("the file is damaged: the JPEG has more than 10000 segments"));
        check(&jpeg(&comments[3..], b""), None, Ok(EvidenceType::Jpeg));
    }
}
