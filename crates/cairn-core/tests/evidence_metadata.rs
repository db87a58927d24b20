//! Evidence files must not tell an assessor who the learner is.
//!
//! Each test builds a file carrying a name, an e-mail address and a GPS position in every place
//! its format allows, checks with an independent reader (`exiftool`) and a raw search of the bytes
//! (with every zlib stream in them inflated) that the fixture really carries them, runs it through
//! `accept_evidence`, and checks that the cleaned file carries none of them and still opens
//! (`qpdf --check` and `lopdf` for PDFs, `djpeg` for JPEGs, the `png` decoder for PNGs).
//!
//! The tools come from Debian; `scripts/install-test-tools.sh` installs them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Output};

use cairn_core::evidence::{EvidenceError, accept_evidence};

const NAME: &str = "Ada Quillfeather";
const EMAIL: &str = "ada.quillfeather@example.org";
/// Latitude 51° 30' N, longitude 0° 7' 30" W.
const GPS_XMP: &str = "<exif:GPSLatitude>51,30.0N</exif:GPSLatitude><exif:GPSLongitude>0,7.5W</exif:GPSLongitude>";

// ---------------------------------------------------------------------------------------------
// Independent checks

/// Runs a tool on `bytes` saved under `extension`, failing with the install hint when the tool
/// is missing rather than skipping.
fn run_tool(tool: &str, args: &[&str], bytes: &[u8], extension: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("evidence.{extension}"));
    std::fs::write(&path, bytes).unwrap();
    match Command::new(tool).args(args).arg(&path).output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is not installed; run scripts/install-test-tools.sh to install the tools this test checks with")
        }
        Err(error) => panic!("could not run `{tool}`: {error}"),
    }
}

/// What exiftool reads from the file, as its JSON text (`-a -u -g1`: every tag, unknown ones
/// too, grouped by where in the file they are).
fn exiftool(bytes: &[u8], extension: &str) -> String {
    let output = run_tool("exiftool", &["-a", "-u", "-g1", "-j"], bytes, extension);
    let text = String::from_utf8(output.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("exiftool gave no JSON ({error}): {text}"));
    assert!(parsed[0]["ExifTool"].get("Error").is_none(), "exiftool cannot read the file: {text}");
    text
}

/// The file's bytes followed by whatever every zlib stream found in them inflates to, so text
/// in compressed PDF streams and PNG chunks is searched too.
fn searchable(bytes: &[u8]) -> Vec<u8> {
    let mut all = bytes.to_vec();
    for start in 0..bytes.len().saturating_sub(2) {
        let header = u16::from_be_bytes([bytes[start], bytes[start + 1]]);
        if bytes[start] & 0x0F != 8 || !header.is_multiple_of(31) {
            continue;
        }
        let mut inflated = Vec::new();
        let _ = flate2::read::ZlibDecoder::new(&bytes[start..]).take(1 << 20).read_to_end(&mut inflated);
        all.extend_from_slice(&inflated);
    }
    all
}

fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The identifying things found in a file, by exiftool and in its (inflated) bytes.
fn identity_in(bytes: &[u8], extension: &str) -> Vec<String> {
    let read = exiftool(bytes, extension);
    let raw = searchable(bytes);
    let mut found = Vec::new();
    for (what, present) in [
        ("name (exiftool)", read.contains(NAME)),
        ("e-mail (exiftool)", read.contains(EMAIL)),
        ("GPS (exiftool)", read.contains("GPS")),
        ("name (bytes)", contains(&raw, NAME.as_bytes()) || contains(&raw, &utf16be(NAME))),
        ("e-mail (bytes)", contains(&raw, EMAIL.as_bytes()) || contains(&raw, &utf16be(EMAIL))),
        ("GPS (bytes)", contains(&raw, b"GPS")),
    ] {
        if present {
            found.push(what.to_owned());
        }
    }
    found
}

const EVERYWHERE: [&str; 6] = ["name (exiftool)", "e-mail (exiftool)", "GPS (exiftool)", "name (bytes)", "e-mail (bytes)", "GPS (bytes)"];

/// Cleans `input` and checks that every identifying thing was there before and none is after.
fn check_cleaned(input: &[u8], declared: &str, extension: &str) -> Vec<u8> {
    assert_eq!(identity_in(input, extension), EVERYWHERE, "the fixture does not carry everything");
    let (_, clean) = accept_evidence(input, Some(declared)).unwrap();
    let left = identity_in(&clean, extension);
    assert!(left.is_empty(), "still in the cleaned file: {left:?}\nexiftool reads: {}", exiftool(&clean, extension));
    clean
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Shared pieces of metadata

fn xmp() -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"><dc:creator><rdf:Seq><rdf:li>{NAME}</rdf:li></rdf:Seq></dc:creator><dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">{EMAIL}</rdf:li></rdf:Alt></dc:rights>{GPS_XMP}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    )
}

/// A TIFF directory entry: tag, type, count and the value's bytes (big-endian).
type Entry = (u16, u16, u32, Vec<u8>);

fn ascii(tag: u16, text: &str) -> Entry {
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    (tag, 2, data.len() as u32, data)
}

fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
    let data = values.iter().flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()].concat()).collect();
    (tag, 5, values.len() as u32, data)
}

/// Writes one directory at `at`, with values too long to fit in an entry placed from `data_at`.
fn directory(entries: &[Entry], data_at: &mut usize, data: &mut Vec<u8>) -> Vec<u8> {
    let mut out = (entries.len() as u16).to_be_bytes().to_vec();
    for (tag, kind, count, value) in entries {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        if value.len() <= 4 {
            let mut inline = value.clone();
            inline.resize(4, 0);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&(*data_at as u32).to_be_bytes());
            data.extend_from_slice(value);
            *data_at += value.len();
            if value.len() % 2 == 1 {
                data.push(0);
                *data_at += 1;
            }
        }
    }
    out.extend_from_slice(&[0; 4]);
    out
}

/// A big-endian TIFF structure (the body of an EXIF block) with the learner as artist and
/// copyright holder and a GPS directory.
fn exif_tiff() -> Vec<u8> {
    let gps = [ascii(1, "N"), rationals(2, &[(51, 1), (30, 1), (0, 1)]), ascii(3, "W"), rationals(4, &[(0, 1), (7, 1), (30, 1)])];
    let ifd0_size = 2 + 12 * 4 + 4;
    let gps_at = 8 + ifd0_size;
    let ifd0 = [ascii(0x013B, NAME), ascii(0x8298, EMAIL), (0x0112, 3, 1, vec![0, 1]), (0x8825, 4, 1, (gps_at as u32).to_be_bytes().to_vec())];
    let mut data_at = gps_at + 2 + 12 * gps.len() + 4;
    let mut data = Vec::new();
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    tiff.extend(directory(&ifd0, &mut data_at, &mut data));
    tiff.extend(directory(&gps, &mut data_at, &mut data));
    tiff.extend(data);
    tiff
}

/// An ICC profile whose description is the learner's name and whose copyright is their e-mail.
fn icc_profile() -> Vec<u8> {
    let mut description = b"desc\0\0\0\0".to_vec();
    description.extend_from_slice(&(NAME.len() as u32 + 1).to_be_bytes());
    description.extend_from_slice(NAME.as_bytes());
    description.extend_from_slice(&[0; 1 + 4 + 4 + 2 + 1 + 67]);
    let mut copyright = b"text\0\0\0\0".to_vec();
    copyright.extend_from_slice(EMAIL.as_bytes());
    copyright.push(0);
    for tag in [&mut description, &mut copyright] {
        tag.resize(tag.len().next_multiple_of(4), 0);
    }
    let description_at = 128 + 4 + 2 * 12;
    let copyright_at = description_at + description.len();
    let size = copyright_at + copyright.len();
    let mut profile = Vec::new();
    profile.extend_from_slice(&(size as u32).to_be_bytes());
    profile.extend_from_slice(b"none\x02\x10\0\0mntrRGB XYZ ");
    profile.extend_from_slice(&[0; 12]);
    profile.extend_from_slice(b"acsp");
    profile.extend_from_slice(&[0; 24]);
    profile.extend_from_slice(&[0; 4]);
    profile.extend_from_slice(&[0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D]);
    profile.extend_from_slice(&[0; 48]);
    assert_eq!(profile.len(), 128);
    profile.extend_from_slice(&2u32.to_be_bytes());
    for (signature, at, tag) in [(b"desc", description_at, &description), (b"cprt", copyright_at, &copyright)] {
        profile.extend_from_slice(signature);
        profile.extend_from_slice(&(at as u32).to_be_bytes());
        profile.extend_from_slice(&(tag.len() as u32).to_be_bytes());
    }
    profile.extend(description);
    profile.extend(copyright);
    profile
}

// ---------------------------------------------------------------------------------------------
// JPEG

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An 8x8 mid-grey baseline JPEG with `metadata` segments after the start marker: tables that
/// give every coefficient the one-bit code 0, and a single block with none set.
fn jpeg(metadata: &[Vec<u8>]) -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    for segment in metadata {
        jpeg.extend_from_slice(segment);
    }
    jpeg.extend(segment(0xDB, &[[0].as_slice(), &[1; 64]].concat()));
    jpeg.extend(segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
    for class in [0x00, 0x10] {
        let mut table = vec![class, 1];
        table.extend_from_slice(&[0; 15]);
        table.push(0);
        jpeg.extend(segment(0xC4, &table));
    }
    jpeg.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
    jpeg.extend_from_slice(&[0x3F, 0xFF, 0xD9]);
    jpeg
}

fn exif_segment() -> Vec<u8> {
    segment(0xE1, &[b"Exif\0\0".as_slice(), &exif_tiff()].concat())
}

fn jpeg_with_identity() -> Vec<u8> {
    let mut jfif = b"JFIF\0\x01\x02\x01\0\x48\0\x48\x01\x01".to_vec();
    jfif.extend_from_slice(&[0x80, 0x80, 0x80]);
    let xmp_segment = segment(0xE1, &[b"http://ns.adobe.com/xap/1.0/\0".as_slice(), xmp().as_bytes()].concat());
    let icc = segment(0xE2, &[b"ICC_PROFILE\0\x01\x01".as_slice(), &icc_profile()].concat());
    let mut ducky = b"Ducky\0\x03".to_vec();
    ducky.extend_from_slice(&((4 + 2 * NAME.len()) as u16).to_be_bytes());
    ducky.extend_from_slice(&(NAME.len() as u32).to_be_bytes());
    ducky.extend(utf16be(NAME));
    ducky.extend_from_slice(&[0, 0]);
    let mut iptc = Vec::new();
    for (dataset, text) in [(80u8, NAME), (116, EMAIL)] {
        iptc.extend_from_slice(&[0x1C, 2, dataset]);
        iptc.extend_from_slice(&(text.len() as u16).to_be_bytes());
        iptc.extend_from_slice(text.as_bytes());
    }
    if iptc.len() % 2 == 1 {
        iptc.push(0);
    }
    let mut photoshop = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    photoshop.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
    photoshop.extend(iptc);
    let comment = segment(0xFE, format!("Photo by {NAME} <{EMAIL}>").as_bytes());
    let mut file = jpeg(&[segment(0xE0, &jfif), exif_segment(), xmp_segment, icc, segment(0xEC, &ducky), segment(0xED, &photoshop), comment]);
    // A second picture after the end of the first, as some cameras and editors append.
    file.extend(jpeg(&[exif_segment()]));
    file
}

#[test]
fn jpeg_evidence_keeps_no_name_email_or_location() {
    let input = jpeg_with_identity();
    // Every place carries the name, whatever exiftool makes of it.
    let places = [&[0xFF, 0xE1][..], &[0xFF, 0xE2], &[0xFF, 0xEC], &[0xFF, 0xED], &[0xFF, 0xFE]];
    for marker in places {
        let at = input.windows(2).position(|window| window == marker).unwrap();
        let length = u16::from_be_bytes([input[at + 2], input[at + 3]]) as usize;
        let body = &input[at..at + 2 + length];
        assert!(contains(body, NAME.as_bytes()) || contains(body, &utf16be(NAME)) || marker == [0xFF, 0xE2], "{marker:02X?}");
    }
    let clean = check_cleaned(&input, "image/jpeg", "jpg");
    assert_eq!(clean.windows(2).filter(|window| *window == [0xFF, 0xD8]).count(), 1, "the second picture is gone");
    assert!(clean.ends_with(&[0xFF, 0xD9]));
    let decoded = run_tool("djpeg", &["-pnm"], &clean, "jpg");
    assert!(decoded.status.success(), "djpeg: {}", String::from_utf8_lossy(&decoded.stderr));
    assert_eq!(decoded.stdout, [b"P5\n8 8\n255\n".as_slice(), &[0x80; 64]].concat());
}

// ---------------------------------------------------------------------------------------------
// PNG

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

const PIXELS: [u8; 48] = {
    let mut pixels = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        pixels[i] = (i * 5) as u8;
        i += 1;
    }
    pixels
};

fn plain_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 4, 4);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&PIXELS).unwrap();
    writer.finish().unwrap();
    out
}

fn png_with_identity() -> Vec<u8> {
    let plain = plain_png();
    let after_header = 8 + 25;
    let mut splt = format!("{NAME}\0").into_bytes();
    splt.push(8);
    splt.extend_from_slice(&[1, 2, 3, 255, 0, 1]);
    let mut iccp = format!("{NAME}\0\0").into_bytes();
    iccp.extend(zlib(&icc_profile()));
    let mut ztxt = b"Comment\0\0".to_vec();
    ztxt.extend(zlib(EMAIL.as_bytes()));
    let mut file = plain[..after_header].to_vec();
    for extra in [
        chunk(b"iCCP", &iccp),
        chunk(b"tEXt", format!("Author\0{NAME}").as_bytes()),
        chunk(b"zTXt", &ztxt),
        chunk(b"iTXt", [b"XML:com.adobe.xmp\0\0\0\0\0".as_slice(), xmp().as_bytes()].concat().as_slice()),
        chunk(b"eXIf", &exif_tiff()),
        chunk(b"sPLT", &splt),
        chunk(b"tIME", &[7, 232, 5, 17, 9, 30, 0]),
        chunk(b"prVt", format!("{NAME} {EMAIL}").as_bytes()),
    ] {
        file.extend(extra);
    }
    file.extend_from_slice(&plain[after_header..]);
    file.extend(chunk(b"tEXt", format!("Author\0{NAME}").as_bytes()));
    file
}

#[test]
fn png_evidence_keeps_no_name_email_or_location() {
    let input = png_with_identity();
    let clean = check_cleaned(&input, "image/png", "png");
    let mut reader = png::Decoder::new(clean.as_slice()).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    assert_eq!(pixels, PIXELS, "the picture is unchanged");
}

// ---------------------------------------------------------------------------------------------
// PDF

/// Writes a PDF object by object, remembering offsets for the cross-reference sections.
struct PdfWriter {
    bytes: Vec<u8>,
    /// Objects written since the last cross-reference section.
    offsets: BTreeMap<u32, usize>,
}

impl PdfWriter {
    fn new() -> Self {
        PdfWriter { bytes: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(), offsets: BTreeMap::new() }
    }

    fn object(&mut self, id: u32, body: &[u8]) -> usize {
        let at = self.bytes.len();
        self.offsets.insert(id, at);
        self.bytes.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(b"\nendobj\n");
        at
    }

    fn stream(&mut self, id: u32, dictionary: &str, data: &[u8]) -> usize {
        let mut body = format!("<< {dictionary} /Length {} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.object(id, &body)
    }

    /// A classic cross-reference table for the objects written since the last one, with a
    /// subsection per object, and its trailer; returns the table's offset.
    fn xref_table(&mut self, first: bool, trailer: &str) -> usize {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(b"xref\n");
        if first {
            self.bytes.extend_from_slice(b"0 1\n0000000000 65535 f\r\n");
        }
        for (id, offset) in std::mem::take(&mut self.offsets) {
            self.bytes.extend_from_slice(format!("{id} 1\n{offset:010} 00000 n\r\n").as_bytes());
        }
        self.bytes.extend_from_slice(format!("trailer\n<< {trailer} >>\nstartxref\n{at}\n%%EOF\n").as_bytes());
        at
    }
}

fn pdf_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)")
}

/// A one-page PDF in three revisions. The first has an Info dictionary, XMP on the catalog and
/// the page, page-piece data, an attachment (in the names tree and as an annotation), a sticky
/// note signed with the name, a document script and an open action, and a photo with EXIF. An
/// incremental update replaces the Info dictionary and the XMP; a second one, written with an
/// object stream and a cross-reference stream, replaces the Info dictionary again.
fn pdf_with_identity() -> Vec<u8> {
    let (name, email) = (pdf_text(NAME), pdf_text(EMAIL));
    let name_utf16: String = utf16be(NAME).iter().map(|b| format!("{b:02X}")).collect();
    let piece_info = format!("/PieceInfo << /Cairn << /LastModified (D:20240517) /Private << /Owner ({email}) >> >> >>");
    let mut pdf = PdfWriter::new();
    pdf.object(
        1,
        format!("<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R /Names << /EmbeddedFiles 7 0 R /JavaScript 9 0 R >> /OpenAction 10 0 R {piece_info} >>")
            .as_bytes(),
    );
    pdf.object(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    pdf.object(
        3,
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 11 0 R >> /XObject << /Im1 12 0 R >> >> /Annots [13 0 R 14 0 R] /Metadata 15 0 R {piece_info} >>").as_bytes(),
    );
    let content = zlib(b"BT /F1 12 Tf 20 150 Td (Welding practice log) Tj ET q 50 0 0 50 20 20 cm /Im1 Do Q");
    pdf.stream(4, "/Filter /FlateDecode", &content);
    pdf.stream(5, "/Type /Metadata /Subtype /XML", xmp().as_bytes());
    pdf.object(6, format!("<< /Author ({name}) /Creator ({email}) /Title (Log by {name}) /Subject <FEFF{name_utf16}> /Producer (Writer 1.0) >>").as_bytes());
    pdf.object(7, b"<< /Names [(notes.txt) 8 0 R] >>");
    pdf.object(8, format!("<< /Type /Filespec /F (notes.txt) /UF (notes.txt) /Desc ({name}) /EF << /F 16 0 R >> >>").as_bytes());
    pdf.stream(16, "/Type /EmbeddedFile /Filter /FlateDecode", &zlib(format!("Notes by {NAME} <{EMAIL}>").as_bytes()));
    pdf.object(9, format!("<< /Names [(hello) << /S /JavaScript /JS (app.alert\\('{name}'\\)) >>] >>").as_bytes());
    pdf.object(10, format!("<< /S /JavaScript /JS (console.println\\('{email}'\\)) >>").as_bytes());
    pdf.object(11, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    let photo = jpeg(&[exif_segment()]);
    pdf.stream(12, "/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", &photo);
    pdf.object(13, format!("<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /T ({name}) /Contents (Looks right) >>").as_bytes());
    pdf.object(14, format!("<< /Type /Annot /Subtype /FileAttachment /Rect [40 10 60 30] /T ({name}) /FS 8 0 R >>").as_bytes());
    pdf.stream(15, "/Type /Metadata /Subtype /XML /Filter /FlateDecode", &zlib(xmp().as_bytes()));
    let first = pdf.xref_table(true, "/Size 17 /Root 1 0 R /Info 6 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]");

    // First update: a new Info dictionary and new XMP on the catalog.
    pdf.object(
        1,
        format!("<< /Type /Catalog /Pages 2 0 R /Metadata 18 0 R /Names << /EmbeddedFiles 7 0 R /JavaScript 9 0 R >> /OpenAction 10 0 R {piece_info} >>")
            .as_bytes(),
    );
    pdf.object(17, format!("<< /Author ({name}) /ModDate (D:20240518) >>").as_bytes());
    pdf.stream(18, "/Type /Metadata /Subtype /XML /Filter /FlateDecode", &zlib(xmp().as_bytes()));
    let second = pdf.xref_table(false, &format!("/Size 19 /Root 1 0 R /Info 17 0 R /Prev {first}"));

    // Second update: the Info dictionary inside an object stream, listed by a cross-reference stream.
    let info = format!("<< /Author ({name}) /Keywords ({email}) >>");
    let objects = format!("19 0 {info}");
    let container = pdf.stream(20, "/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", &zlib(objects.as_bytes()));
    let xref_at = pdf.bytes.len();
    let mut entries = vec![2u8, 0, 0, 0, 20, 0, 0];
    for offset in [container, xref_at] {
        entries.push(1);
        entries.extend_from_slice(&(offset as u32).to_be_bytes());
        entries.extend_from_slice(&[0, 0]);
    }
    pdf.stream(21, &format!("/Type /XRef /Size 22 /W [1 4 2] /Index [19 3] /Root 1 0 R /Info 19 0 R /Prev {second} /Filter /FlateDecode"), &zlib(&entries));
    pdf.bytes.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    pdf.bytes
}

#[test]
fn pdf_evidence_keeps_no_name_email_or_location() {
    let input = pdf_with_identity();
    let checked = run_tool("qpdf", &["--check"], &input, "pdf");
    assert!(checked.status.success(), "the fixture is not a sound PDF: {}", String::from_utf8_lossy(&checked.stdout));
    let clean = check_cleaned(&input, "application/pdf", "pdf");

    let checked = run_tool("qpdf", &["--check"], &clean, "pdf");
    assert!(
        checked.status.success(),
        "qpdf finds the cleaned PDF unsound: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let document = lopdf::Document::load_mem(&clean).unwrap();
    assert_eq!(document.get_pages().len(), 1);
    assert!(document.trailer.get(b"Info").is_err() && document.trailer.get(b"ID").is_err());
    let page = document.get_pages()[&1];
    let content = document.get_page_content(page);
    assert!(contains(&content, b"(Welding practice log) Tj"), "the page keeps its text");
    let annotations = document.get_page_annotations(page).unwrap();
    assert_eq!(annotations.len(), 1, "the attachment annotation is gone, the note stays");
    assert_eq!(annotations[0].get(b"Contents").unwrap().as_str().unwrap(), b"Looks right");
    let image = document.get_page_images(page).unwrap();
    assert_eq!((image.len(), image[0].width, image[0].height), (1, 8, 8));
    let decoded = run_tool("djpeg", &["-pnm"], image[0].content, "jpg");
    assert!(decoded.status.success(), "the photo in the PDF no longer decodes");
}

#[test]
fn the_reader_sees_exif_and_plain_files_read_clean() {
    // The checks above are only as good as the reader and the fixtures' metadata.
    let read = exiftool(&jpeg(&[exif_segment()]), "jpg");
    assert!(read.contains(NAME) && read.contains(EMAIL) && read.contains("GPSLatitude"), "{read}");
    assert!(identity_in(&jpeg(&[]), "jpg").is_empty());
    assert!(identity_in(&plain_png(), "png").is_empty());
}

#[test]
fn encrypted_pdfs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, pdf_with_identity()).unwrap();
    // With no user password a viewer opens the file without asking; it is refused all the same.
    for user in ["", "secret"] {
        let encrypted = dir.path().join("encrypted.pdf");
        let output = Command::new("qpdf").args(["--encrypt", user, "owner", "256", "--"]).arg(&plain).arg(&encrypted).output();
        let output = output.unwrap_or_else(|error| panic!("could not run `qpdf` ({error}); run scripts/install-test-tools.sh"));
        assert!(output.status.success(), "qpdf: {}", String::from_utf8_lossy(&output.stderr));
        let refused = accept_evidence(&std::fs::read(&encrypted).unwrap(), Some("application/pdf"));
        assert_eq!(refused, Err(EvidenceError::Encrypted), "user password {user:?}");
    }
}
