//! Baking conformance: 1EdTech's baked samples, images baked by peer tools, round trips through
//! every carrier, and hostile images that must fail fast and cleanly. Fixtures and their sources:
//! `tests/fixtures/bake/SOURCES.md`.

use std::path::Path;

use cairn_vc::bake::{self, BakeError, BakedPayload, ImageKind, MAX_IMAGE_BYTES, MAX_SVG_DEPTH, PngDefect, SvgDefect};
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bake").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The payloads the peer fixtures carry.
struct PeerPayloads {
    ob3_json: String,
    ob3_jwt: String,
    ob2_json: String,
    ob2_url: String,
    ob2_jws: String,
}

fn peer_payloads() -> PeerPayloads {
    let json: serde_json::Value = serde_json::from_slice(&fixture("peer-payloads.json")).expect("peer-payloads.json is JSON");
    let text = |key: &str| json[key].as_str().unwrap_or_else(|| panic!("peer-payloads.json has no {key}")).to_owned();
    PeerPayloads { ob3_json: text("ob3_json"), ob3_jwt: text("ob3_jwt"), ob2_json: text("ob2_json"), ob2_url: text("ob2_url"), ob2_jws: text("ob2_jws") }
}

/// One payload of every kind.
fn every_payload() -> Vec<BakedPayload> {
    let peer = peer_payloads();
    vec![
        BakedPayload::Ob3Json(peer.ob3_json),
        BakedPayload::Ob3Jwt(peer.ob3_jwt),
        BakedPayload::Ob2Json(peer.ob2_json),
        BakedPayload::Ob2Url(peer.ob2_url),
        BakedPayload::Ob2Jws(peer.ob2_jws),
    ]
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

// PNG building blocks -------------------------------------------------------------------------

type Chunk = ([u8; 4], Vec<u8>);

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

fn raw_chunk(kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&kind);
    chunk.extend_from_slice(data);
    let mut covered = kind.to_vec();
    covered.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&covered).to_be_bytes());
    chunk
}

fn assemble(chunks: &[Chunk]) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in chunks {
        png.extend_from_slice(&raw_chunk(*kind, data));
    }
    png
}

/// The chunks of a well-formed PNG, without checking anything.
fn chunks_of(png: &[u8]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut offset = 8;
    while offset + 12 <= png.len() {
        let length = u32::from_be_bytes(png[offset..offset + 4].try_into().expect("four bytes")) as usize;
        let Some(data) = png.get(offset + 8..offset + 8 + length) else { break };
        chunks.push((png[offset + 4..offset + 8].try_into().expect("four bytes"), data.to_vec()));
        offset += 12 + length;
    }
    chunks
}

/// A small opaque image made by the png crate's encoder.
fn tiny_png() -> Vec<u8> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, 3, 2);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(&[200; 18]).expect("pixels");
    writer.finish().expect("finish");
    png
}

/// `tiny_png()` with `extra` chunks right before `IEND`.
fn tiny_png_with(extra: &[Chunk]) -> Vec<u8> {
    let mut chunks = chunks_of(&tiny_png());
    let end = chunks.pop().expect("IEND");
    chunks.extend_from_slice(extra);
    chunks.push(end);
    assemble(&chunks)
}

fn itxt(keyword: &str, text: &str) -> Chunk {
    let mut data = keyword.as_bytes().to_vec();
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(text.as_bytes());
    (*b"iTXt", data)
}

fn text_chunk(keyword: &str, text: &[u8]) -> Chunk {
    let mut data = keyword.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(text);
    (*b"tEXt", data)
}

/// A text chunk as the png crate's encoder writes it (it compresses `zTXt` and flagged `iTXt`).
fn encoded_text_chunk(write: impl FnOnce(&mut png::Writer<&mut Vec<u8>>)) -> Chunk {
    let mut png = Vec::new();
    let mut writer = png::Encoder::new(&mut png, 1, 1).write_header().expect("header");
    write(&mut writer);
    writer.write_image_data(&[0]).expect("pixels");
    writer.finish().expect("finish");
    chunks_of(&png).into_iter().find(|(kind, _)| matches!(kind, b"iTXt" | b"tEXt" | b"zTXt")).expect("a text chunk")
}

// Reading what others baked ---------------------------------------------------------------------

#[track_caller]
fn check_unbake(name: &str, expected_kind: fn(String) -> BakedPayload, expected_sha256: &str, expected_len: usize) {
    let payload = bake::unbake(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}")).unwrap_or_else(|| panic!("{name}: no badge"));
    assert_eq!(expected_kind(payload.as_str().to_owned()), payload, "{name}: wrong kind");
    assert_eq!((payload.as_str().len(), sha256_hex(payload.as_str()).as_str()), (expected_len, expected_sha256), "{name}: wrong payload");
}

#[test]
fn the_1edtech_samples_unbake_to_their_credential() {
    check_unbake("simple-json.png", BakedPayload::Ob3Json, "bb83ff2bc2952d38551c7b9bb1ef611e46309d7157eddf14a217e3768880e691", 1365);
    check_unbake("simple-jwt.png", BakedPayload::Ob3Jwt, "35d59278be3fe85e4f3637c0698334fa8dcbd8fd0682b22fda2568692508fccc", 2263);
    check_unbake("simple-json.svg", BakedPayload::Ob3Json, "bbacdb6dd1dcd47f0ef5ef8372d0733f6c34f8060ae77d2f50dd7b73ea9cdf80", 1550);
    check_unbake("simple-jwt.svg", BakedPayload::Ob3Jwt, "7f39f9c82a1e2ff620edecaf9c14cc4c1adfe1a38afaf03b49e7f30efc5a5db4", 2263);
    check_unbake("simple-jwt_v1.svg", BakedPayload::Ob3Jwt, "47984fd22aca44135e25843f1ae5f8e9d637daffbff1823303201a1b4ea289d4", 2549);
}

#[test]
fn images_baked_by_openbadges_bakery_and_openbadgeslib_unbake_to_what_they_baked() {
    let peer = peer_payloads();
    let cases = [
        ("ob2-bakery-json.png", BakedPayload::Ob2Json(peer.ob2_json.clone())),
        // verify="<id>" plus the assertion in CDATA: the JSON is the fuller answer.
        ("ob2-bakery-json.svg", BakedPayload::Ob2Json(peer.ob2_json.clone())),
        ("ob2-bakery-url.svg", BakedPayload::Ob2Url(peer.ob2_url.clone())),
        ("ob2-bakery-jws.svg", BakedPayload::Ob2Jws(peer.ob2_jws.clone())),
        ("ob2-bakery-jws.png", BakedPayload::Ob2Jws(peer.ob2_jws.clone())),
        ("ob2-openbadgeslib-jws.svg", BakedPayload::Ob2Jws(peer.ob2_jws.clone())),
        ("ob2-openbadgeslib-jws.png", BakedPayload::Ob2Jws(peer.ob2_jws.clone())),
        ("ob3-openbadgeslib-jwt.png", BakedPayload::Ob3Jwt(peer.ob3_jwt.clone())),
        ("ob3-openbadgeslib-json.png", BakedPayload::Ob3Json(peer.ob3_json.clone())),
        ("ob3-openbadgeslib-jwt.svg", BakedPayload::Ob3Jwt(peer.ob3_jwt.clone())),
        ("ob3-openbadgeslib-json.svg", BakedPayload::Ob3Json(peer.ob3_json.clone())),
    ];
    for (name, expected) in cases {
        assert_eq!(bake::unbake(&fixture(name)), Ok(Some(expected)), "{name}");
    }
}

#[test]
fn images_without_a_badge_unbake_to_nothing() {
    for image in [fixture("base.png"), fixture("base.svg"), tiny_png(), tiny_png_with(&[text_chunk("Comment", b"openbadges")])] {
        assert_eq!(bake::unbake(&image), Ok(None));
    }
}

#[test]
fn older_text_chunks_and_compressed_text_are_read_too() {
    let peer = peer_payloads();
    let compressed_itxt = encoded_text_chunk(|writer| {
        let mut chunk = png::text_metadata::ITXtChunk::new("openbadgecredential", peer.ob3_jwt.clone());
        chunk.compressed = true;
        writer.write_text_chunk(&chunk).expect("iTXt");
    });
    let ztxt = encoded_text_chunk(|writer| {
        writer.write_text_chunk(&png::text_metadata::ZTXtChunk::new("openbadges", peer.ob2_json.clone())).expect("zTXt");
    });
    let cases = [
        // The pre-2.0 form: the hosted assertion's URL in tEXt.
        (text_chunk("openbadges", peer.ob2_url.as_bytes()), BakedPayload::Ob2Url(peer.ob2_url.clone())),
        // UTF-8 written into tEXt, as some tools did, is read as UTF-8.
        (text_chunk("openbadges", r#"{"name":"Café"}"#.as_bytes()), BakedPayload::Ob2Json(r#"{"name":"Café"}"#.to_owned())),
        (ztxt, BakedPayload::Ob2Json(peer.ob2_json.clone())),
        (compressed_itxt, BakedPayload::Ob3Jwt(peer.ob3_jwt.clone())),
    ];
    for (chunk, expected) in cases {
        assert_eq!(bake::unbake(&tiny_png_with(&[chunk])), Ok(Some(expected)));
    }
}

// Baking and reading back ---------------------------------------------------------------------

/// Images to bake into: plain ones, ones already carrying a badge, and unusual but valid SVGs.
fn bakeable_images() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("base.png", fixture("base.png")),
        ("tiny png", tiny_png()),
        ("simple-json.png", fixture("simple-json.png")),
        ("ob2-bakery-json.png", fixture("ob2-bakery-json.png")),
        ("base.svg", fixture("base.svg")),
        ("simple-json.svg", fixture("simple-json.svg")),
        ("simple-jwt.svg", fixture("simple-jwt.svg")),
        ("ob2-bakery-json.svg", fixture("ob2-bakery-json.svg")),
        ("ob3-openbadgeslib-json.svg", fixture("ob3-openbadgeslib-json.svg")),
        ("self-closing root", br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec()),
        ("prefixed root", b"<s:svg xmlns:s='http://www.w3.org/2000/svg'\n  width='1'><s:g/></s:svg>".to_vec()),
        ("byte order mark", "\u{feff}<svg xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>".as_bytes().to_vec()),
        ("foreign openbadges prefix", br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://example.org/other"><g/></svg>"#.to_vec()),
        (
            "foreign openbadges prefix in use",
            br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://example.org/other"><openbadges:credential/></svg>"#.to_vec(),
        ),
    ]
}

#[test]
fn every_payload_kind_round_trips_through_every_image() {
    for (name, image) in bakeable_images() {
        for payload in every_payload() {
            let baked = bake::bake(&image, &payload).unwrap_or_else(|error| panic!("{name}, {payload:?}: {error}"));
            assert_eq!(bake::unbake(&baked), Ok(Some(payload.clone())), "{name}");
            assert_eq!(bake::sniff(&baked), bake::sniff(&image), "{name}");
        }
    }
}

#[test]
fn baking_again_replaces_the_badge_as_if_it_had_never_been_there() {
    for (name, image) in bakeable_images() {
        for first in every_payload() {
            let once = bake::bake(&image, &first).expect("bakes");
            for second in every_payload() {
                let direct = bake::bake(&image, &second).expect("bakes");
                assert_eq!(bake::bake(&once, &second).as_deref(), Ok(direct.as_slice()), "{name}: {first:?} then {second:?}");
            }
        }
    }
}

#[test]
fn baking_a_png_keeps_every_other_chunk_and_adds_one_itxt_before_iend() {
    let image = fixture("simple-jwt.png");
    let payload = BakedPayload::Ob2Url("https://example.org/assertions/123".to_owned());
    let baked = bake::bake_png(&image, &payload).expect("bakes");
    let is_badge = |(kind, data): &Chunk| kind == b"iTXt" && data.starts_with(b"openbadge");
    let kept = |png: &[u8]| chunks_of(png).into_iter().filter(|chunk| !is_badge(chunk)).collect::<Vec<_>>();
    assert_eq!(kept(&baked), kept(&image));
    let chunks = chunks_of(&baked);
    let kinds: Vec<&[u8; 4]> = chunks.iter().rev().take(2).map(|(kind, _)| kind).collect();
    assert_eq!(kinds, [b"IEND", b"iTXt"]);
    // Uncompressed, empty language tag and translated keyword: the form both specifications show.
    assert_eq!(chunks[chunks.len() - 2].1, [b"openbadges\0\0\0\0\0".as_slice(), payload.as_str().as_bytes()].concat());
}

#[test]
fn baking_an_svg_inserts_the_element_after_the_root_tag_and_keeps_every_other_byte() {
    let image = String::from_utf8(fixture("base.svg")).expect("UTF-8");
    let cases = [
        (
            BakedPayload::Ob3Jwt("eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln".to_owned()),
            r#" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0""#,
            "\n<openbadges:credential verify=\"eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln\"></openbadges:credential>",
        ),
        (
            BakedPayload::Ob3Json(r#" {"a":"]]>"} "#.to_owned()),
            r#" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0""#,
            r#"
<openbadges:credential><![CDATA[{"a":"]]]]><![CDATA[>"}]]></openbadges:credential>"#,
        ),
        (
            BakedPayload::Ob2Json(r#"{"id":"https://example.org/a?b=1&c=2"}"#.to_owned()),
            r#" xmlns:openbadges="http://openbadges.org""#,
            r#"
<openbadges:assertion verify="https://example.org/a?b=1&amp;c=2"><![CDATA[{"id":"https://example.org/a?b=1&c=2"}]]></openbadges:assertion>"#,
        ),
        (
            BakedPayload::Ob2Json(r#"{"id":"urn:uuid:1"}"#.to_owned()),
            r#" xmlns:openbadges="http://openbadges.org""#,
            r#"
<openbadges:assertion><![CDATA[{"id":"urn:uuid:1"}]]></openbadges:assertion>"#,
        ),
        (
            BakedPayload::Ob2Url("https://example.org/a?b=1&c=2".to_owned()),
            r#" xmlns:openbadges="http://openbadges.org""#,
            r#"
<openbadges:assertion verify="https://example.org/a?b=1&amp;c=2"/>"#,
        ),
    ];
    for (payload, declaration, element) in cases {
        let baked = String::from_utf8(bake::bake_svg(image.as_bytes(), &payload).expect("bakes")).expect("UTF-8");
        let root_end = image.find(r#"viewBox="0 0 64 64""#).expect("root") + r#"viewBox="0 0 64 64""#.len();
        let expected = format!("{}{declaration}>{element}{}", &image[..root_end], &image[root_end + 1..]);
        assert_eq!(baked, expected);
    }
}

#[test]
fn a_self_closing_root_is_opened_to_hold_the_badge() {
    let baked = bake::bake_svg(br#"<svg xmlns="http://www.w3.org/2000/svg" />"#, &BakedPayload::Ob2Url("https://example.org/1".to_owned())).expect("bakes");
    assert_eq!(
        String::from_utf8(baked).expect("UTF-8"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"http://openbadges.org\" >\n<openbadges:assertion verify=\"https://example.org/1\"/>\n</svg>"
    );
}

#[test]
fn a_prefix_other_elements_rely_on_keeps_its_binding_and_the_badge_declares_its_own() {
    let image = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://example.org/other"><openbadges:credential/></svg>"#;
    let payload = BakedPayload::Ob2Url("https://example.org/1".to_owned());
    let baked = String::from_utf8(bake::bake_svg(image, &payload).expect("bakes")).expect("UTF-8");
    assert_eq!(
        baked,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://example.org/other">
<openbadges:assertion xmlns:openbadges="http://openbadges.org" verify="https://example.org/1"/><openbadges:credential/></svg>"#
    );
    assert_eq!(bake::unbake(baked.as_bytes()), Ok(Some(payload)));
}

#[test]
fn svg_line_ends_are_read_as_an_xml_parser_reads_them() {
    let svg =
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:ob=\"http://openbadges.org\">\r\n<ob:assertion><![CDATA[{\r\n\"a\":\r1}]]>\r\n</ob:assertion></svg>";
    assert_eq!(bake::unbake(svg.as_bytes()), Ok(Some(BakedPayload::Ob2Json("{\n\"a\":\n1}".to_owned()))));
}

#[test]
fn payloads_that_are_not_what_their_variant_says_are_not_baked() {
    let jwt = "eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln";
    let cases = [
        BakedPayload::Ob3Json("{\"unterminated\": ".to_owned()),
        BakedPayload::Ob3Json(jwt.to_owned()),
        BakedPayload::Ob3Jwt("{}".to_owned()),
        BakedPayload::Ob3Jwt("only.two".to_owned()),
        BakedPayload::Ob3Jwt(format!("{jwt}.extra")),
        BakedPayload::Ob2Url("ftp://example.org/a".to_owned()),
        BakedPayload::Ob2Url("https://example.org/a b".to_owned()),
        BakedPayload::Ob2Jws("https://example.org/a".to_owned()),
        BakedPayload::Ob2Json("{\"nul\":\"\u{0}\"}".to_owned()),
        BakedPayload::Ob2Json("   ".to_owned()),
    ];
    for payload in cases {
        for image in [fixture("base.png"), fixture("base.svg")] {
            let result = bake::bake(&image, &payload);
            assert!(matches!(result, Err(BakeError::InvalidPayload { .. })), "{payload:?} gave {result:?}");
        }
    }
    let huge = BakedPayload::Ob3Json(format!("{{\"a\":\"{}\"}}", "x".repeat(bake::MAX_PAYLOAD_BYTES)));
    assert!(matches!(bake::bake(&fixture("base.png"), &huge), Err(BakeError::PayloadTooLarge { .. })));
}

#[test]
fn sniffing_tells_png_from_svg_from_anything_else() {
    let cases: [(&[u8], Option<ImageKind>); 7] = [
        (&fixture("simple-json.png"), Some(ImageKind::Png)),
        (&fixture("simple-json.svg"), Some(ImageKind::Svg)),
        (b"\xEF\xBB\xBF  <svg/>", Some(ImageKind::Svg)),
        (b"<html><body/></html>", None),
        (b"GIF89a", None),
        (b"", None),
        (b"svg <svg>", None),
    ];
    for (bytes, expected) in cases {
        assert_eq!(bake::sniff(bytes), expected, "{:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(20)]));
    }
}

// Hostile images --------------------------------------------------------------------------------

#[track_caller]
fn check_refused(name: &str, image: &[u8], expected: impl Fn(&BakeError) -> bool) {
    let result = bake::unbake(image);
    match &result {
        Err(error) => assert!(expected(error), "{name}: unexpected error: {error:?}"),
        Ok(found) => panic!("{name}: accepted, found {found:?}"),
    }
    // Baking into the same image fails the same way when the flaw is in the image, not in its
    // badge (which baking replaces unread).
    let flaw_in_image = match &result {
        Err(BakeError::InvalidPng { defect, .. }) => !matches!(defect, PngDefect::InvalidTextChunk { .. }),
        Err(BakeError::InvalidSvg { .. } | BakeError::UnknownImageFormat | BakeError::ImageTooLarge { .. }) => true,
        _ => false,
    };
    if flaw_in_image {
        let baked = bake::bake(image, &BakedPayload::Ob2Url("https://example.org/1".to_owned()));
        assert_eq!(baked.err(), result.err(), "{name}: baking");
    }
}

fn png_defect(expected: impl Fn(&PngDefect) -> bool) -> impl Fn(&BakeError) -> bool {
    move |error| matches!(error, BakeError::InvalidPng { defect, .. } if expected(defect))
}

fn svg_defect(expected: impl Fn(&SvgDefect) -> bool) -> impl Fn(&BakeError) -> bool {
    move |error| matches!(error, BakeError::InvalidSvg { defect, .. } if expected(defect))
}

/// `png` with the 4-byte big-endian value at `offset` replaced.
fn with_u32_at(png: &[u8], offset: usize, value: u32) -> Vec<u8> {
    let mut png = png.to_vec();
    png[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
    png
}

#[test]
fn broken_pngs_are_refused_with_the_defect_named() {
    let good = fixture("simple-json.png");
    let idat = good.windows(4).position(|window| window == b"IDAT").expect("IDAT") - 4;
    let mut bad_crc = good.clone();
    bad_crc[idat + 100] ^= 0x01;
    let chunks = chunks_of(&tiny_png());
    let without = |dropped: &[u8; 4]| assemble(&chunks.iter().filter(|(kind, _)| kind != dropped).cloned().collect::<Vec<_>>());
    let mut zero_width = chunks.clone();
    zero_width[0].1[..4].copy_from_slice(&[0, 0, 0, 0]);
    let mut header_second = chunks.clone();
    header_second.swap(0, 1);

    check_refused("a bad CRC", &bad_crc, png_defect(|defect| matches!(defect, PngDefect::ChecksumMismatch { chunk } if chunk == "IDAT")));
    check_refused("truncated", &good[..good.len() - 7], png_defect(|defect| matches!(defect, PngDefect::Truncated)));
    check_refused("cut inside the signature", &good[..5], |error| matches!(error, BakeError::UnknownImageFormat));
    check_refused(
        "a 3 GB chunk",
        &with_u32_at(&good, idat, 3_000_000_000),
        png_defect(|defect| matches!(defect, PngDefect::ChunkLengthTooLarge { length: 3_000_000_000 })),
    );
    check_refused("a 2 GB chunk", &with_u32_at(&good, idat, 0x7FFF_FFFF), png_defect(|defect| matches!(defect, PngDefect::Truncated)));
    check_refused("no IEND", &good[..good.len() - 12], png_defect(|defect| matches!(defect, PngDefect::MissingEnd)));
    check_refused("data after IEND", &[good.as_slice(), b"trailing"].concat(), png_defect(|defect| matches!(defect, PngDefect::DataAfterEnd { extra: 8 })));
    check_refused("no IDAT", &without(b"IDAT"), png_defect(|defect| matches!(defect, PngDefect::MissingImageData)));
    check_refused("IHDR not first", &assemble(&header_second), png_defect(|defect| matches!(defect, PngDefect::HeaderNotFirst { .. })));
    check_refused("a zero-width IHDR", &assemble(&zero_width), png_defect(|defect| matches!(defect, PngDefect::InvalidHeader { .. })));
    check_refused(
        "a chunk type with a digit",
        &tiny_png_with(&[(*b"ab1d", vec![])]),
        png_defect(|defect| matches!(defect, PngDefect::InvalidChunkType { chunk } if chunk == "ab1d")),
    );
}

#[test]
fn pngs_with_more_than_one_badge_or_an_unusable_one_are_refused() {
    let jwt = "eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln";
    let many = |count| move |error: &BakeError| matches!(error, BakeError::MultipleBadges { count: found } if *found == count);
    let unrecognised = |error: &BakeError| matches!(error, BakeError::UnrecognisedBadge { .. });
    let bomb = encoded_text_chunk(|writer| {
        let text = format!("{{\"a\":\"{}\"}}", "a".repeat(3 * 1024 * 1024));
        writer.write_text_chunk(&png::text_metadata::ZTXtChunk::new("openbadges", text)).expect("zTXt");
    });
    let mut bad_utf8 = itxt("openbadgecredential", "{}");
    bad_utf8.1.push(0xFF);
    let mut appended = fixture("simple-json.png");
    appended.truncate(appended.len() - 12);
    appended.extend_from_slice(&raw_chunk(*b"iTXt", &itxt("openbadgecredential", jwt).1));
    appended.extend_from_slice(&raw_chunk(*b"IEND", &[]));

    check_refused("two OB 3.0 chunks", &tiny_png_with(&[itxt("openbadgecredential", jwt), itxt("openbadgecredential", jwt)]), many(2));
    check_refused("an OB 3.0 and an OB 2.0 chunk", &tiny_png_with(&[itxt("openbadgecredential", jwt), text_chunk("openbadges", b"https://e.org/1")]), many(2));
    check_refused("a second badge added to a sample", &appended, many(2));
    check_refused("an empty badge", &tiny_png_with(&[itxt("openbadgecredential", " ")]), unrecognised);
    check_refused("prose in the badge", &tiny_png_with(&[itxt("openbadges", "hello")]), unrecognised);
    check_refused("a URL as an OB 3.0 badge", &tiny_png_with(&[itxt("openbadgecredential", "https://e.org/1")]), unrecognised);
    check_refused("a zTXt bomb", &tiny_png_with(&[bomb]), png_defect(|defect| matches!(defect, PngDefect::InvalidTextChunk { chunk, .. } if chunk == "zTXt")));
    check_refused("an iTXt that is not UTF-8", &tiny_png_with(&[bad_utf8]), png_defect(|defect| matches!(defect, PngDefect::InvalidTextChunk { .. })));
    check_refused(
        "no NUL after the keyword",
        &tiny_png_with(&[(*b"tEXt", b"openbadges".to_vec())]),
        png_defect(|defect| matches!(defect, PngDefect::InvalidTextChunk { .. })),
    );
}

#[test]
fn broken_or_dangerous_svgs_are_refused_with_the_defect_named() {
    let svg = |inner: &str| format!(r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">{inner}</svg>"#);
    let jwt = "eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln";
    let credential = format!(r#"<openbadges:credential verify="{jwt}"/>"#);
    let laughs = {
        let mut dtd = String::from("<!DOCTYPE svg [\n<!ENTITY lol0 \"lol\">\n");
        for level in 1..10 {
            let previous = format!("&lol{};", level - 1);
            dtd.push_str(&format!("<!ENTITY lol{level} \"{}\">\n", previous.repeat(10)));
        }
        dtd + "]>\n" + &svg("<text>&lol9;</text>")
    };
    let deep = svg(&format!("{}{}", "<g>".repeat(100_000), "</g>".repeat(100_000)));
    let simple = fixture("simple-json.svg");
    let unrecognised = |error: &BakeError| matches!(error, BakeError::UnrecognisedBadge { .. });
    let malformed = svg_defect(|defect| matches!(defect, SvgDefect::Malformed { .. }));

    check_refused("an entity bomb", laughs.as_bytes(), svg_defect(|defect| matches!(defect, SvgDefect::DtdRefused)));
    check_refused("100k-deep nesting", deep.as_bytes(), svg_defect(|defect| matches!(defect, SvgDefect::TooDeep { limit: MAX_SVG_DEPTH })));
    check_refused("two credentials", svg(&credential.repeat(2)).as_bytes(), |error| matches!(error, BakeError::MultipleBadges { count: 2 }));
    check_refused(
        "a credential and an assertion",
        svg(&format!(r#"{credential}<g><ob2:assertion xmlns:ob2="http://openbadges.org" verify="https://e.org/1"/></g>"#)).as_bytes(),
        |error| matches!(error, BakeError::MultipleBadges { count: 2 }),
    );
    check_refused("an HTML root", b"<html><svg/></html>", svg_defect(|defect| matches!(defect, SvgDefect::RootNotSvg { name } if name == "html")));
    check_refused(
        "an svg root in another namespace",
        br#"<svg xmlns="http://example.org/"/>"#,
        svg_defect(|defect| matches!(defect, SvgDefect::RootNotSvg { .. })),
    );
    check_refused("truncated inside a tag", &simple[..simple.len() / 2], svg_defect(|defect| matches!(defect, SvgDefect::Truncated)));
    check_refused(
        "truncated between tags",
        svg("<g>").as_bytes().strip_suffix(b"</svg>").expect("suffix"),
        svg_defect(|defect| matches!(defect, SvgDefect::Truncated)),
    );
    check_refused(
        "truncated inside the CDATA",
        &simple[..simple.windows(9).position(|w| w == b"<![CDATA[").expect("CDATA") + 50],
        svg_defect(|defect| matches!(defect, SvgDefect::Truncated)),
    );
    check_refused("no root at all", b"<?xml version=\"1.0\"?>\n<!-- nothing -->", svg_defect(|defect| matches!(defect, SvgDefect::Truncated)));
    check_refused("an undeclared entity", svg("<text>&lol;</text>").as_bytes(), &malformed);
    check_refused("an undeclared entity in an attribute", svg(r#"<g id="&lol;"/>"#).as_bytes(), &malformed);
    check_refused("a mismatched end tag", svg("<g></a>").as_bytes(), &malformed);
    check_refused("a duplicated attribute", svg(r#"<g id="a" id="b"/>"#).as_bytes(), &malformed);
    check_refused("an undeclared prefix", br#"<svg xmlns="http://www.w3.org/2000/svg"><openbadges:credential verify="x"/></svg>"#, &malformed);
    check_refused(
        "Latin-1 bytes",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><text>caf\xE9</text></svg>",
        svg_defect(|defect| matches!(defect, SvgDefect::NotUtf8)),
    );
    check_refused(
        "a Latin-1 declaration",
        br#"<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"/>"#,
        svg_defect(|defect| matches!(defect, SvgDefect::UnsupportedEncoding { encoding } if encoding == "ISO-8859-1")),
    );
    check_refused("a second root", format!("{}<svg/>", svg("")).as_bytes(), svg_defect(|defect| matches!(defect, SvgDefect::ContentOutsideRoot)));
    check_refused("text after the root", format!("{} tail", svg("")).as_bytes(), svg_defect(|defect| matches!(defect, SvgDefect::ContentOutsideRoot)));
    check_refused(
        "an element inside the badge",
        svg("<openbadges:credential><g/></openbadges:credential>").as_bytes(),
        svg_defect(|defect| matches!(defect, SvgDefect::BadgeHasChildren { name } if name == "openbadges:credential")),
    );
    check_refused(
        "a verify attribute and a body",
        svg(&format!(r#"<openbadges:credential verify="{jwt}">{{}}</openbadges:credential>"#)).as_bytes(),
        unrecognised,
    );
    check_refused("a URL in an OB 3.0 verify", svg(r#"<openbadges:credential verify="https://e.org/1"/>"#).as_bytes(), unrecognised);
    check_refused("an empty credential", svg(r#"<openbadges:credential verify=""> </openbadges:credential>"#).as_bytes(), unrecognised);
    check_refused("invalid JSON in the body", svg("<openbadges:credential><![CDATA[{nope]]></openbadges:credential>").as_bytes(), unrecognised);
    check_refused("prose", b"hello, world", |error| matches!(error, BakeError::UnknownImageFormat));
    check_refused("a 9 MiB SVG", svg(&" ".repeat(9 * 1024 * 1024)).as_bytes(), |error| {
        matches!(error, BakeError::ImageTooLarge { limit: MAX_IMAGE_BYTES, .. })
    });
}

// Arbitrary bytes -------------------------------------------------------------------------------

/// xorshift64*, for reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const SVG_TOKENS: [&str; 12] = [
    "<",
    ">",
    "&",
    "&amp;",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE svg [<!ENTITY a \"b\">]>",
    "</svg>",
    "<openbadges:credential>",
    "</openbadges:credential>",
    " verify=\"",
    "<ob:assertion xmlns:ob=\"http://openbadges.org\"/>",
];

fn mutate(rng: &mut Rng, original: &[u8], tokens: &[&str]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => {
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= 1 << rng.below(8);
                }
            }
            1 => bytes.truncate(at),
            2 => {
                let noise: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, noise);
            }
            3 => {
                let start = rng.below(bytes.len());
                let end = (start + rng.below(64)).min(bytes.len());
                let copied = bytes[start..end].to_vec();
                bytes.splice(at..at, copied);
            }
            4 => {
                let value = [0u32, u32::MAX, 0x7FFF_FFFF, 0x8000_0000, 13][rng.below(5)].to_be_bytes();
                let end = (at + 4).min(bytes.len());
                bytes.splice(at..end, value);
            }
            _ => {
                let token = tokens.get(rng.below(tokens.len())).map_or(&b"\0"[..], |token| token.as_bytes());
                bytes.splice(at..at, token.iter().copied());
            }
        }
    }
    bytes
}

/// Recomputes every chunk's CRC, so a mutation reaches past the checksum check.
fn with_fixed_crcs(png: &[u8]) -> Vec<u8> {
    let mut png = png.to_vec();
    let mut offset = 8;
    while offset + 12 <= png.len() {
        let length = u32::from_be_bytes(png[offset..offset + 4].try_into().expect("four bytes")) as usize;
        let Some(crc_end) = (offset + 12).checked_add(length).filter(|&end| end <= png.len()) else { break };
        let crc = crc32(&png[offset + 4..crc_end - 4]);
        png[crc_end - 4..crc_end].copy_from_slice(&crc.to_be_bytes());
        offset = crc_end;
    }
    png
}

#[test]
fn unbaking_two_thousand_mutations_of_each_sample_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let payload = BakedPayload::Ob3Jwt("eyJhbGciOiJFZERTQSJ9.eyJpZCI6InVybjp4In0.c2ln".to_owned());
    let png = fixture("simple-json.png");
    let svg = fixture("simple-json.svg");
    let mut outcomes = [0usize; 3];
    for round in 0..2_000 {
        let mut mutated_png = mutate(&mut rng, &png, &["iTXt", "openbadgecredential\0", "openbadges\0", "zTXt", "IEND", "IDAT"]);
        if round % 2 == 0 {
            mutated_png = with_fixed_crcs(&mutated_png);
        }
        let mutated_svg = mutate(&mut rng, &svg, &SVG_TOKENS);
        for image in [mutated_png, mutated_svg] {
            match bake::unbake(&image) {
                Ok(Some(_)) => outcomes[0] += 1,
                Ok(None) => outcomes[1] += 1,
                Err(_) => outcomes[2] += 1,
            }
            if let Ok(baked) = bake::bake(&image, &payload) {
                assert_eq!(bake::unbake(&baked), Ok(Some(payload.clone())), "a baked mutation must read back");
            }
        }
    }
    // Both branches are exercised: some mutations still carry a badge, others are refused.
    assert!(outcomes[0] > 100 && outcomes[2] > 100, "outcomes (badge, none, error): {outcomes:?}");
}
