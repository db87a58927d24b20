//! PDF evidence: parsed with `lopdf`, cleaned, and written out afresh, so that nothing of an
//! earlier revision (an incremental update keeps the old bytes in the file) survives.
//!
//! Removed: the trailer's `/Info` and `/ID`; every `/Metadata` stream (XMP, on the catalog and on
//! pages, images, fonts or any other object); `/PieceInfo` (application-private data);
//! attachments (embedded files, file specifications, file-attachment annotations, associated
//! files, portfolios); JavaScript (the document's named scripts, the `/JS` of actions) and the
//! open and additional actions; digital signatures (which name the signer and hold their
//! certificate); and the author label (`/T`) of comments and other markup annotations. EXIF and
//! other application segments in embedded JPEG images are dropped as for uploaded JPEGs.
//! Objects no longer reachable from the trailer are then pruned, and the rest renumbered.
//!
//! The work is bounded before anything is kept: the cross-reference table is rebuilt by
//! scanning the file for objects (which `lopdf` caps at a million) rather than read as written,
//! since a written table may list the same offset again and again and have each object parsed
//! once per entry; each decompressed stream and all object streams together have a size
//! budget; object streams must list their objects in increasing order, as ISO 32000 requires;
//! and the number of objects is capped. A rebuilt table takes the last copy of each object in the
//! file, which is what incremental updates mean, except where a later revision moved an object
//! into an object stream: then the earlier, top-level copy is shown.

use std::cell::RefCell;
use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::EvidenceError;

/// The most one stream may decompress to while the file is read.
pub(super) const MAX_STREAM_BYTES: usize = 8 * 1024 * 1024;
/// The most all object streams together may decompress to.
pub(super) const MAX_OBJECT_STREAM_BYTES: usize = 32 * 1024 * 1024;
/// The most objects a file may hold, in object streams or not.
pub(super) const MAX_OBJECTS: usize = 500_000;

/// Dictionary keys whose values are metadata, attachments or scripts, removed wherever they are.
const STRIPPED_KEYS: &[&[u8]] = &[b"Metadata", b"PieceInfo", b"OpenAction", b"AA", b"AF", b"EmbeddedFiles", b"JavaScript", b"Collection", b"Perms", b"Thumb"];

/// Annotation kinds whose `/T` names the person who made them (ISO 32000-2, 12.5.6.2).
const MARKUP_ANNOTATIONS: &[&[u8]] = &[
    b"Text",
    b"FreeText",
    b"Line",
    b"Square",
    b"Circle",
    b"Polygon",
    b"PolyLine",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Caret",
    b"Ink",
    b"Stamp",
    b"Sound",
    b"Redact",
    b"Projection",
];

fn corrupt(message: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Corrupt(format!("the PDF {message}"))
}

/// Most cleaning passes before the written form must be stable.
const MAX_PASSES: usize = 3;

/// Returns the PDF cleaned and written out afresh, in a form that cleaning leaves as it is: a
/// kept file is cleaned again whenever it is uploaded again, so one whose page tree reads only
/// through what the cleaning removes (found by fuzzing: a `/Kids` naming the catalog, mangled
/// objects) must settle within [`MAX_PASSES`] or be refused now, not on the next upload.
pub(super) fn clean(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let mut out = clean_once(bytes)?;
    for _ in 0..MAX_PASSES {
        let again = clean_once(&out)?;
        if again == out {
            return Ok(out);
        }
        out = again;
    }
    Err(corrupt("could not be written out in a stable form"))
}

/// One cleaning pass.
fn clean_once(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let (mut document, _) = load(bytes)?;
    if document.encryption_state.is_some() || document.trailer.has(b"Encrypt") {
        return Err(EvidenceError::Encrypted);
    }
    check_pages(&document)?;
    strip(&mut document);
    let mut out = Vec::with_capacity(bytes.len());
    document.save_modern(&mut out).map_err(|error| corrupt(format_args!("could not be written out again: {}", short(&error))))?;
    Ok(out)
}

/// Refuses a document without a catalog or without a page that can be reached.
fn check_pages(document: &Document) -> Result<(), EvidenceError> {
    if document.catalog().is_err() || document.page_iter().next().is_none() {
        return Err(corrupt("has no readable pages"));
    }
    Ok(())
}

/// A library error's message, cut to a length fit for a person to read.
fn short(error: &impl std::fmt::Display) -> String {
    let message = error.to_string();
    match message.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message,
    }
}

/// The budget the load filter spends; see [`admit`].
struct Budget {
    objects_left: usize,
    object_stream_bytes_left: usize,
    refusal: Option<String>,
}

thread_local! {
    /// `lopdf` takes its load filter as a plain function, so the budget of the load running on
    /// this thread lives here. `lopdf` is built without its `rayon` feature, so the filter runs
    /// on the loading thread; on any other thread it would find no budget and keep nothing, which
    /// fails the load rather than the limits.
    static BUDGET: RefCell<Option<Budget>> = const { RefCell::new(None) };
}

/// Sets this thread's budget for one load and clears it again when dropped.
struct BudgetGuard;

impl BudgetGuard {
    fn arm() -> Self {
        BUDGET.set(Some(Budget { objects_left: MAX_OBJECTS, object_stream_bytes_left: MAX_OBJECT_STREAM_BYTES, refusal: None }));
        BudgetGuard
    }

    /// Why the budget refused the file, if it did, and how many objects it let through.
    fn outcome(&self) -> (Option<String>, usize) {
        BUDGET.with_borrow_mut(|budget| match budget.as_mut() {
            Some(budget) => (budget.refusal.take(), MAX_OBJECTS - budget.objects_left),
            None => (None, 0),
        })
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        BUDGET.set(None);
    }
}

/// Reads the document within the budget, returning it with the number of objects read.
fn load(bytes: &[u8]) -> Result<(Document, usize), EvidenceError> {
    // The scan ignores the written cross-reference table, but when it finds no trailer `lopdf`
    // would fall back to that table. A final `startxref` that names itself makes the fallback
    // fail at once; the padding keeps the file's own `%%EOF` out of the last 1024 bytes, where
    // `startxref` is looked for.
    let mut input = Vec::with_capacity(bytes.len() + 1200);
    input.extend_from_slice(bytes);
    input.extend_from_slice(b"\n%");
    input.extend(std::iter::repeat_n(b'-', 1100));
    input.push(b'\n');
    let startxref = input.len();
    input.extend_from_slice(format!("startxref\n{startxref}\n%%EOF\n").as_bytes());

    let options =
        LoadOptions { filter: Some(admit), strict: false, force_reconstruct: true, max_decompressed_size: Some(MAX_STREAM_BYTES), ..LoadOptions::default() };
    let guard = BudgetGuard::arm();
    let loaded = Document::load_mem_with_options(&input, options);
    let (refusal, objects_read) = guard.outcome();
    if let Some(refusal) = refusal {
        return Err(corrupt(refusal));
    }
    let document = loaded.map_err(|error| match error {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword | lopdf::Error::AlreadyEncrypted => EvidenceError::Encrypted,
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            corrupt(format_args!("has a stream that decompresses to more than {MAX_STREAM_BYTES} bytes"))
        }
        error => corrupt(format_args!("could not be read: {}", short(&error))),
    })?;
    Ok((document, objects_read))
}

/// The load filter: counts objects and checks each object stream before `lopdf` expands it.
fn admit(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    BUDGET.with_borrow_mut(|budget| {
        let budget = budget.as_mut()?;
        if budget.refusal.is_some() {
            return None;
        }
        let Some(left) = budget.objects_left.checked_sub(1) else {
            budget.refusal = Some(format!("has more than {MAX_OBJECTS} objects"));
            return None;
        };
        budget.objects_left = left;
        if let Object::Stream(stream) = object
            && stream.dict.has_type(b"ObjStm")
            && let Err(refusal) = check_object_stream(stream, &mut budget.object_stream_bytes_left)
        {
            budget.refusal = Some(refusal);
            return None;
        }
        // `lopdf` keeps the object it passed in for top-level objects and the one returned for
        // objects from object streams, so the answer must be a copy.
        Some((id, object.clone()))
    })
}

/// Spends the object stream's decompressed size from `bytes_left` and checks that its index
/// lists offsets in increasing order, so `lopdf` parses each part of the stream about once.
/// Streams that cannot be decoded at all are left for `lopdf` to report.
fn check_object_stream(stream: &lopdf::Stream, bytes_left: &mut usize) -> Result<(), String> {
    let content = match stream.get_plain_content_with_limit((*bytes_left).min(MAX_STREAM_BYTES)) {
        Ok(content) => content,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) if *bytes_left < MAX_STREAM_BYTES => {
            return Err(format!("has object streams that decompress to more than {MAX_OBJECT_STREAM_BYTES} bytes in all"));
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            return Err(format!("has a stream that decompresses to more than {MAX_STREAM_BYTES} bytes"));
        }
        Err(_) => return Ok(()),
    };
    // The limit above keeps the content within what is left.
    *bytes_left -= content.len();
    let Some(index) =
        stream.dict.get(b"First").and_then(Object::as_i64).ok().and_then(|first| usize::try_from(first).ok()).and_then(|first| content.get(..first))
    else {
        return Ok(());
    };
    // Pairs of object number and offset, separated by white space, with comments as lopdf reads them.
    let numbers =
        index.split(|&b| b == b'\r' || b == b'\n').flat_map(|line| line.split(|&b| b == b'%').next().unwrap_or_default().split(u8::is_ascii_whitespace));
    let mut previous: Option<u64> = None;
    for (position, number) in numbers.filter(|number| !number.is_empty()).enumerate() {
        if position / 2 >= MAX_OBJECTS {
            return Err(format!("has more than {MAX_OBJECTS} objects"));
        }
        if position % 2 == 1 {
            let offset = std::str::from_utf8(number).ok().and_then(|number| number.parse::<u64>().ok());
            match offset {
                Some(offset) if previous.is_none_or(|previous| offset > previous) => previous = Some(offset),
                _ => return Err("has an object stream whose objects are not listed in order".to_owned()),
            }
        }
    }
    Ok(())
}

/// Removes everything identifying from a loaded document.
fn strip(document: &mut Document) {
    document.trailer.remove(b"Info");
    document.trailer.remove(b"ID");
    let dropped: BTreeSet<ObjectId> = document.objects.iter().filter(|(_, object)| is_dropped(object)).map(|(&id, _)| id).collect();
    for id in &dropped {
        document.objects.remove(id);
    }
    for object in document.objects.values_mut() {
        clean_object(object, &dropped);
        if let Object::Stream(stream) = object
            && stream.filters().is_ok_and(|filters| filters == [b"DCTDecode".as_slice()])
            && let Ok(image) = super::jpeg::clean(&stream.content)
        {
            // A JPEG the cleaner cannot read is left as it is: viewers are more forgiving.
            stream.set_content(image);
        }
    }
    clean_dictionary(&mut document.trailer, &dropped);
    document.prune_objects();
    // Fresh numbers from 1: a scanned file may use 0, which the free list owns, and the gaps
    // left by removed objects would hint at what was there.
    document.renumber_objects();
}

/// Objects removed outright: metadata streams, attachments, signatures, and the containers of
/// the original layout (object and cross-reference streams), which the writer does not need.
fn is_dropped(object: &Object) -> bool {
    match object {
        Object::Stream(stream) => {
            let dict = &stream.dict;
            ["Metadata", "EmbeddedFile", "ObjStm", "XRef"].iter().any(|kind| dict.has_type(kind.as_bytes()))
                || dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|subtype| subtype == b"XML")
        }
        Object::Dictionary(dict) => is_dropped_dictionary(dict),
        _ => false,
    }
}

fn is_dropped_dictionary(dict: &Dictionary) -> bool {
    dict.has_type(b"Filespec") || dict.has_type(b"Sig") || dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|subtype| subtype == b"FileAttachment")
}

/// Whether a value inside a dictionary or array goes: a reference to a dropped object, or a
/// direct dictionary that would have been dropped as an object.
fn is_dropped_value(object: &Object, dropped: &BTreeSet<ObjectId>) -> bool {
    match object {
        Object::Reference(id) => dropped.contains(id),
        Object::Dictionary(dict) => is_dropped_dictionary(dict),
        _ => false,
    }
}

fn clean_object(object: &mut Object, dropped: &BTreeSet<ObjectId>) {
    match object {
        Object::Dictionary(dict) => clean_dictionary(dict, dropped),
        Object::Stream(stream) => clean_dictionary(&mut stream.dict, dropped),
        Object::Array(array) => {
            array.retain(|item| !is_dropped_value(item, dropped));
            for item in array {
                clean_object(item, dropped);
            }
        }
        _ => {}
    }
}

fn clean_dictionary(dict: &mut Dictionary, dropped: &BTreeSet<ObjectId>) {
    for key in STRIPPED_KEYS {
        dict.remove(key);
    }
    let name = |dict: &Dictionary, key: &[u8]| dict.get(key).and_then(Object::as_name).ok().map(<[u8]>::to_vec);
    if name(dict, b"Subtype").is_some_and(|subtype| MARKUP_ANNOTATIONS.contains(&subtype.as_slice())) {
        dict.remove(b"T");
    }
    if name(dict, b"FT").as_deref() == Some(b"Sig") {
        dict.remove(b"V");
    }
    if name(dict, b"S").as_deref() == Some(b"JavaScript") {
        dict.remove(b"JS");
    }
    let gone: Vec<Vec<u8>> = dict.iter().filter(|(_, value)| is_dropped_value(value, dropped)).map(|(key, _)| key.clone()).collect();
    for key in gone {
        dict.remove(&key);
    }
    for (_, value) in dict.iter_mut() {
        clean_object(value, dropped);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::tests::check;
    use super::super::{EvidenceType, accept_evidence};
    use super::*;

    const CATALOG: &str = "<< /Type /Catalog /Pages 2 0 R >>";
    const PAGES: &str = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
    const PAGE: &str = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>";

    /// A PDF of `objects`, each starting a line, with a classic cross-reference table that lists
    /// `extra` more entries pointing at the last object, and `trailer`.
    fn pdf(objects: &[(u32, Vec<u8>)], extra: usize, trailer: &str) -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (id, body) in objects {
            offsets.push((*id, pdf.len()));
            pdf.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        }
        let last = offsets.last().map_or(0, |&(_, offset)| offset);
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n");
        for (id, offset) in &offsets {
            pdf.extend_from_slice(format!("{id} 1\n{offset:010} 00000 n\r\n").as_bytes());
        }
        if extra > 0 {
            pdf.extend_from_slice(format!("100 {extra}\n").as_bytes());
            for _ in 0..extra {
                pdf.extend_from_slice(format!("{last:010} 00000 n\r\n").as_bytes());
            }
        }
        pdf.extend_from_slice(format!("trailer\n<< {trailer} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        pdf
    }

    fn one_page(more: &[(u32, Vec<u8>)]) -> Vec<(u32, Vec<u8>)> {
        let mut objects = vec![(1, CATALOG.as_bytes().to_vec()), (2, PAGES.as_bytes().to_vec()), (3, PAGE.as_bytes().to_vec())];
        objects.extend_from_slice(more);
        objects
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// An object stream whose index is `index` and whose objects follow it.
    fn object_stream(index: &str, objects: &[u8]) -> Vec<u8> {
        let content = [index.as_bytes(), objects].concat();
        let data = zlib(&content);
        let mut body = format!("<< /Type /ObjStm /N 2 /First {} /Filter /FlateDecode /Length {} >>\nstream\n", index.len(), data.len()).into_bytes();
        body.extend(data);
        body.extend_from_slice(b"\nendstream");
        body
    }

    #[test]
    fn a_pdf_is_written_out_again_without_its_info() {
        let input = pdf(&one_page(&[(4, b"<< /Author (Ada) >>".to_vec())]), 0, "/Size 5 /Root 1 0 R /Info 4 0 R");
        let (kind, clean) = accept_evidence(&input, Some("application/pdf")).unwrap();
        assert_eq!(kind, EvidenceType::Pdf);
        let document = Document::load_mem(&clean).unwrap();
        assert_eq!(document.get_pages().len(), 1);
        assert!(!document.trailer.has(b"Info"));
        assert!(!clean.windows(3).any(|w| w == b"Ada"));
    }

    #[test]
    fn each_object_is_read_once_however_often_the_table_lists_it() {
        // A table naming the same object 5,000 times would have it parsed 5,000 times.
        let big = (4, format!("({})", "a".repeat(10_000)).into_bytes());
        let input = pdf(&one_page(&[big]), 5_000, "/Size 5100 /Root 1 0 R");
        let (document, objects_read) = load(&input).unwrap();
        assert_eq!(objects_read, 4);
        assert_eq!(document.objects.len(), 4);
        check(&input, None, Ok(EvidenceType::Pdf));
    }

    #[test]
    fn a_file_whose_objects_the_scan_cannot_find_is_refused_unread() {
        // Objects that do not start a line are invisible to the scan. Read as written, the
        // table is sound, but it is not read in the scan's place, since a written table may list
        // one object any number of times.
        let mut input = b"%PDF-1.7\n%x".to_vec();
        let mut offsets = Vec::new();
        for (id, body) in [(1, CATALOG), (2, PAGES), (3, PAGE)] {
            input.push(b' ');
            offsets.push(input.len());
            input.extend_from_slice(format!("{id} 0 obj {body} endobj").as_bytes());
        }
        let xref = input.len() + 1;
        input.extend_from_slice(b"\nxref\n0 4\n0000000000 65535 f\r\n");
        for offset in offsets {
            input.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
        }
        input.extend_from_slice(format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        assert_eq!(Document::load_mem(&input).unwrap().get_pages().len(), 1);
        check(&input, None, Err("the file is damaged: the PDF could not be read: "));
    }

    #[test]
    fn object_streams_must_be_in_order_and_within_budget() {
        let two = b"<< /A 1 >> << /B 2 >>";
        let in_order = pdf(&one_page(&[(4, object_stream("5 0 6 11 ", two))]), 0, "/Size 7 /Root 1 0 R");
        let (document, objects_read) = load(&in_order).unwrap();
        assert_eq!(objects_read, 6);
        assert!(document.objects.contains_key(&(6, 0)));
        for index in ["5 11 6 0 ", "5 0 6 0 ", "5 0 6 x "] {
            let input = pdf(&one_page(&[(4, object_stream(index, two))]), 0, "/Size 7 /Root 1 0 R");
            check(&input, None, Err("the file is damaged: the PDF has an object stream whose objects are not listed in order"));
        }
        let bomb = pdf(&one_page(&[(4, object_stream("5 0 ", &vec![b' '; MAX_STREAM_BYTES + 1]))]), 0, "/Size 6 /Root 1 0 R");
        check(&bomb, None, Err("the file is damaged: the PDF has a stream that decompresses to more than 8388608 bytes"));
        let many: Vec<(u32, Vec<u8>)> = (0..5).map(|n| (4 + n, object_stream("9 0 ", &vec![b' '; MAX_STREAM_BYTES - 100]))).collect();
        check(
            &pdf(&one_page(&many), 0, "/Size 10 /Root 1 0 R"),
            None,
            Err("the file is damaged: the PDF has object streams that decompress to more than 33554432 bytes in all"),
        );
    }

    #[test]
    fn cleaned_pdfs_are_accepted_again() {
        // Found by fuzzing: a catalog numbered 0 was written out as object 0, which no reader
        // accepts, since the cross-reference table's entry 0 heads the free list.
        let zero =
            pdf(&[(0, b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()), (2, PAGES.as_bytes().to_vec()), (3, PAGE.as_bytes().to_vec())], 0, "/Size 4 /Root 0 0 R");
        let (_, clean) = accept_evidence(&zero, None).unwrap();
        assert!(!clean.windows(8).any(|w| w == b"\n0 0 obj"));
        let (kind, again) = accept_evidence(&clean, Some("application/pdf")).unwrap();
        assert_eq!((kind, Document::load_mem(&again).unwrap().get_pages().len()), (EvidenceType::Pdf, 1));
    }

    #[test]
    fn a_page_tree_that_reads_only_through_what_is_removed_is_refused() {
        // Found by fuzzing: the page list names the catalog as its kid. Read as given it seems
        // to have a page; written out again it has none, so the kept file would be refused when
        // uploaded again. It is refused at once.
        let input = pdf(
            &[(1, CATALOG.as_bytes().to_vec()), (2, b"<< /Type /Pages /Kids [1 0 R] /Count 1 >>".to_vec()), (3, PAGE.as_bytes().to_vec())],
            0,
            "/Size 4 /Root 1 0 R",
        );
        match accept_evidence(&input, Some("application/pdf")) {
            Ok((kind, clean)) => assert_eq!(accept_evidence(&clean, Some(kind.media_type())).map(|(kind, _)| kind), Ok(kind)),
            Err(error) => assert_eq!(error.to_string(), "the file is damaged: the PDF has no readable pages"),
        }
    }

    #[test]
    fn encrypted_empty_or_broken_pdfs_are_refused() {
        let encrypt = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF> /U <00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF> >>";
        let encrypted = pdf(&one_page(&[(4, encrypt.to_vec())]), 0, "/Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<00> <00>]");
        check(&encrypted, None, Err("the PDF is encrypted or password-protected"));
        let no_pages = pdf(&[(1, CATALOG.as_bytes().to_vec()), (2, b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec())], 0, "/Size 3 /Root 1 0 R");
        check(&no_pages, None, Err("the file is damaged: the PDF has no readable pages"));
        check(b"%PDF-1.7\n", None, Err("the file is damaged: the PDF could not be read: "));
        check(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", None, Err("the file is damaged: the PDF "));
    }
}
