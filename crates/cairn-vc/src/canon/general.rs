//! The general JSON-LD processor: a document the expander (`super::expand`) does not take is written
//! out as JSON-LD text, with numbers as JavaScript reads them, and turned into quads by oxjsonld, its
//! contexts preloaded through the caller's loader.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use oxjsonld::{JsonLdParser, JsonLdRemoteDocument};
use oxrdf::Quad;
use serde_json::Value;

use super::{CanonError, CanonLimits, Complexity};
use crate::loader::{DocumentLoader, LoadError, LoadedDocument};

// ---------------------------------------------------------------------------------------------------------
// JSON → JSON-LD text, with the checks and the number normalization.

/// Serializes `document` for the JSON-LD parser: checks depth and size as it goes, writes `@context` first
/// in every object, and rewrites numbers as JavaScript reads them (see the module documentation).
pub(super) fn to_json_ld_text(document: &Value, limits: &CanonLimits) -> Result<String, CanonError> {
    let mut out = String::with_capacity(4096);
    write_json(document, 0, &mut out, limits)?;
    Ok(out)
}

fn write_json(value: &Value, depth: usize, out: &mut String, limits: &CanonLimits) -> Result<(), CanonError> {
    if out.len() > limits.max_bytes {
        return Err(CanonError::TooLarge { limit: limits.max_bytes });
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out)?,
        Value::String(string) => write_string(string, out),
        Value::Array(items) => {
            if depth >= limits.max_depth {
                return Err(CanonError::TooDeep { limit: limits.max_depth });
            }
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, depth + 1, out, limits)?;
            }
            out.push(']');
        }
        Value::Object(entries) => {
            if depth >= limits.max_depth {
                return Err(CanonError::TooDeep { limit: limits.max_depth });
            }
            out.push('{');
            let context = entries.get_key_value("@context");
            let rest = entries.iter().filter(|(key, _)| *key != "@context");
            for (index, (key, item)) in context.into_iter().chain(rest).enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_json(item, depth + 1, out, limits)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(string: &str, out: &mut String) {
    out.push('"');
    for c in string.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The largest integer every JSON-LD processor reads exactly (2^53; JavaScript numbers are doubles).
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Writes a number the way a JavaScript JSON-LD processor sees it: integers that fit in a double exactly as
/// written; any other value rounded to a double, then either as an exact integer (integral and below 10^21:
/// `xsd:integer`) or with 16 significant digits in exponent form (`xsd:double`), which is the precision of
/// `Number.prototype.toExponential(15)` that jsonld.js uses. The JSON-LD parser then derives the canonical
/// lexical form (`3.5E0`, `1.0E21`) from these digits.
///
/// oxjsonld 0.2.7 types integral values from 10^20 up to 10^21 (21 digits) as `xsd:double`, where JSON-LD
/// (and every other processor) says `xsd:integer`; rather than sign or check a form nobody else would
/// produce, this path refuses them. (The fast path handles them.)
fn write_number(number: &serde_json::Number, out: &mut String) -> Result<(), CanonError> {
    if let Some(integer) = number.as_u64().filter(|n| *n <= MAX_EXACT_INTEGER) {
        let _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_i64().filter(|n| n.unsigned_abs() <= MAX_EXACT_INTEGER) {
        let _ = write!(out, "{integer}");
    } else {
        // Every JSON number serde_json holds has an f64 reading (integers beyond 2^53 are rounded, as in
        // JavaScript); `as_f64` only fails for arbitrary-precision numbers, which are not enabled.
        let double = number.as_f64().unwrap_or(f64::NAN);
        if double.fract() == 0.0 && double.abs() < 1e21 {
            if double.abs() >= 1e20 {
                return Err(CanonError::JsonLd(format!(
                    "the number {number} (an integer of 21 digits) is not supported in a document that needs the \
                     general JSON-LD processor"
                )));
            }
            let _ = write!(out, "{double:.0}");
        } else if double.is_finite() {
            let _ = write!(out, "{double:.15e}");
        } else {
            out.push_str("null");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// JSON-LD → RDF.

/// How many times a document's contexts may lead to further contexts (JSON-LD 1.1 allows 8 nested remote
/// contexts; bundled contexts reference none).
const MAX_CONTEXT_ROUNDS: usize = 8;

/// The documents the JSON-LD parser may load during one call, gathered from the loader beforehand because
/// the parser's callback must be `'static` while the loader is borrowed.
#[derive(Default)]
struct Preloaded {
    documents: HashMap<String, LoadedDocument>,
    failures: HashMap<String, LoadError>,
}

impl Preloaded {
    fn load(&mut self, url: &str, loader: &dyn DocumentLoader) {
        if self.documents.contains_key(url) || self.failures.contains_key(url) {
            return;
        }
        match loader.load(url) {
            Ok(document) => {
                self.documents.insert(url.to_owned(), document);
            }
            Err(error) => {
                self.failures.insert(url.to_owned(), error);
            }
        }
    }
}

/// Collects the string values of every `@context` in `value` (a cheap guess at what the parser will load).
fn context_urls<'a>(value: &'a Value, urls: &mut Vec<&'a str>, depth: usize) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(entries) => {
            for (key, item) in entries {
                if key == "@context" {
                    match item {
                        Value::String(url) => urls.push(url),
                        Value::Array(items) => urls.extend(items.iter().filter_map(Value::as_str)),
                        _ => {}
                    }
                }
                context_urls(item, urls, depth + 1);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| context_urls(item, urls, depth + 1)),
        _ => {}
    }
}

pub(super) fn to_rdf(json: &str, document: Option<&Value>, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<Vec<Quad>, CanonError> {
    let mut preloaded = Preloaded::default();
    if let Some(document) = document {
        let mut urls = Vec::new();
        context_urls(document, &mut urls, 0);
        for url in urls {
            preloaded.load(url, loader);
        }
    }
    for _ in 0..MAX_CONTEXT_ROUNDS {
        let documents = Arc::new(std::mem::take(&mut preloaded.documents));
        let missed = Arc::new(Mutex::new(Vec::<String>::new()));
        let outcome = parse_json_ld(json, Arc::clone(&documents), Arc::clone(&missed), limits);
        preloaded.documents = Arc::try_unwrap(documents).unwrap_or_else(|shared| (*shared).clone());
        let missed = std::mem::take(&mut *missed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        if missed.is_empty() {
            return outcome;
        }
        for url in &missed {
            preloaded.load(url, loader);
            if let Some(error) = preloaded.failures.get(url) {
                return Err(context_error(error));
            }
        }
    }
    Err(CanonError::JsonLd("contexts refer to further contexts too many times".to_owned()))
}

fn context_error(error: &LoadError) -> CanonError {
    match error {
        LoadError::Refused { url } => CanonError::UnknownContext { url: url.clone() },
        LoadError::TooLarge { url, .. } | LoadError::NotJson { url, .. } | LoadError::Unavailable { url, .. } | LoadError::Gone { url } => {
            CanonError::BadContext { url: url.clone(), reason: error.to_string() }
        }
    }
}

/// One run of the JSON-LD parser. URLs it wanted but were not preloaded are pushed to `missed`.
fn parse_json_ld(
    json: &str,
    documents: Arc<HashMap<String, LoadedDocument>>,
    missed: Arc<Mutex<Vec<String>>>,
    limits: &CanonLimits,
) -> Result<Vec<Quad>, CanonError> {
    let parser = JsonLdParser::new().for_slice(json.as_bytes()).with_load_document_callback(move |url, _options| match documents.get(url) {
        Some(document) => Ok(JsonLdRemoteDocument { document: document.json().as_bytes().to_vec(), document_url: document.url().to_owned() }),
        None => {
            missed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(url.to_owned());
            Err(format!("\"{url}\" was not preloaded").into())
        }
    });
    let mut seen = HashSet::new();
    let mut quads = Vec::new();
    for quad in parser {
        let quad = quad.map_err(|error| CanonError::JsonLd(error.to_string()))?;
        if seen.insert(quad.clone()) {
            quads.push(quad);
            if quads.len() > limits.max_quads {
                return Err(CanonError::TooComplex(Complexity::Quads { limit: limits.max_quads }));
            }
        }
    }
    Ok(quads)
}
