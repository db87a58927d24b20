//! RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, offline.
//!
//! The pipeline is JSON → JSON-LD 1.1 toRdf (contexts only through a [`DocumentLoader`]) →
//! RDFC-1.0 (W3C REC, 2024) → canonical N-Quads. Every stage is bounded, because documents to verify come
//! from strangers: the JSON's size and depth are checked before anything is parsed, the number of quads
//! and blank nodes after toRdf, and the RDFC-1.0 "deep iterations" during canonicalization.
//!
//! The stages live in submodules: `expand` (Cairn's own JSON-LD 1.1 expander and toRdf, the fast path),
//! `general` (the general JSON-LD processor, oxjsonld, with the JSON text it reads) and `rdfc` (RDFC-1.0
//! and canonical N-Quads); this file holds the limits, the errors and the entry points.
//!
//! JSON-LD is processed by Cairn's own expander (`expand`) whenever the document's contexts
//! are all bundled and it uses the features credentials use: the pinned contexts are processed once per
//! process and cached, which makes a 4 KB credential about fifty times cheaper than with oxjsonld, which
//! re-processes every context for every document. Anything else goes to oxjsonld (the "general processor").
//! The two are checked against each other, and against jsonld.js, in the tests. The fast path also gives
//! JSON-LD "safe mode" ([`CanonLimits::safe_mode`], on by default): a term no context defines is an error,
//! not silently unsigned data.
//!
//! RDFC-1.0 itself is implemented here rather than taken from `oxrdf::Dataset::canonicalize`: that one has
//! no work limit, and the algorithm is exponential on "poison" graphs (RDFC-1.0 §6, Dataset Poisoning).
//! The limit is the one the reference implementation (`rdf-canonize`, used by the Digital Bazaar and DCC
//! verifiers) applies by default: at most as many calls of Hash N-Degree Quads as there are blank nodes
//! without a unique first-degree hash (`maxWorkFactor = 1`), so Cairn refuses what they refuse. The tests
//! check this implementation against oxrdf's on graphs both can handle.
//!
//! Numbers and strings follow what JSON-LD processors in the wild (jsonld.js, PyLD) produce, not the digits
//! as written: a number is read as an IEEE double, as JavaScript does; an integral value below 10^21 is an
//! `xsd:integer`, anything else an `xsd:double` in the canonical `3.5E0` form with at most 16 significant
//! digits (JSON-LD 1.1 API §8.6, Object to RDF Conversion). Literals are escaped as in canonical N-Quads
//! (`\t`, `\b`, `\n`, `\f`, `\r`, `\"`, `\\`, other C0 controls and DEL as `\u00XX`), as rdf-canonize
//! does. PyLD 3.3 (openbadgeslib) escapes only tab, newline, carriage return, quote and backslash, so a
//! string with any other control character verifies with the DCC stack but not with openbadgeslib.

use serde_json::Value;

use crate::loader::DocumentLoader;

mod expand;
mod general;
mod rdfc;
#[cfg(test)]
mod tests;

use general::{to_json_ld_text, to_rdf};
use rdfc::{canonical_nquads, to_statements};

/// Bounds on the work one canonicalization may do. The defaults suit credentials (a 4 KB Open Badge makes
/// about 40 quads; a large CLR transcript a few thousand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonLimits {
    /// The largest JSON document, in bytes (as given, or as serialized from a `Value`). Default 1 MiB.
    pub max_bytes: usize,
    /// The deepest nesting of arrays and objects. Default 64.
    pub max_depth: usize,
    /// The most quads the document may expand to. Default 50,000.
    pub max_quads: usize,
    /// The most distinct blank nodes. Default 4,096.
    pub max_blank_nodes: usize,
    /// RDFC-1.0 deep iterations allowed, as a power of the number of blank nodes whose first-degree hash is
    /// not unique (`rdf-canonize`'s `maxWorkFactor`; its default, and ours, is 1).
    pub max_work_factor: u32,
    /// The most permutations of related blank nodes RDFC-1.0 may try in all. Default 65,536.
    pub max_permutations: usize,
    /// JSON-LD "safe mode", as jsonld.js (and so the DCC and Digital Bazaar verifiers) applies it: refuse a
    /// document rather than silently drop an entry no context defines, or a relative IRI. Dropped data is
    /// data no signature covers. Default on.
    ///
    /// Cairn checks this only with its own JSON-LD processor, which covers documents whose contexts are all
    /// bundled and that use the features credentials use; a document that needs the general processor
    /// (inline contexts, `@graph`, `@reverse`, `@json`, language maps, …) is refused with
    /// [`CanonError::Unsupported`] in safe mode. Turn it off to process such documents as plain JSON-LD.
    pub safe_mode: bool,
}

impl Default for CanonLimits {
    fn default() -> Self {
        Self { max_bytes: 1 << 20, max_depth: 64, max_quads: 50_000, max_blank_nodes: 4096, max_work_factor: 1, max_permutations: 1 << 16, safe_mode: true }
    }
}

/// Why a document could not be canonicalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonError {
    /// The JSON is over [`CanonLimits::max_bytes`].
    #[error("the document is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Arrays and objects nest deeper than [`CanonLimits::max_depth`].
    #[error("the document nests deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The bytes are not JSON.
    #[error("the document is not JSON: {0}")]
    NotJson(String),
    /// The document uses a context that is neither bundled nor supplied by the caller.
    #[error("unknown JSON-LD context \"{url}\": only bundled contexts and documents supplied by the caller are used")]
    UnknownContext {
        /// The context URL.
        url: String,
    },
    /// A context was found but cannot be used (too large, not JSON).
    #[error("the JSON-LD context \"{url}\" cannot be used: {reason}")]
    BadContext {
        /// The context URL.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The document is not valid JSON-LD 1.1 (for example, it redefines a protected term).
    #[error("the document is not valid JSON-LD: {0}")]
    JsonLd(String),
    /// An entry or type is not defined by any of the document's contexts, so JSON-LD would drop it and no
    /// signature would cover it (refused in [`CanonLimits::safe_mode`]).
    #[error("\"{term}\" is not defined by the document's contexts (it would be dropped, and not signed)")]
    UndefinedTerm {
        /// The key or type.
        term: String,
    },
    /// An `@id` is a relative IRI, which JSON-LD would drop (refused in [`CanonLimits::safe_mode`]).
    #[error("\"{value}\" is not an absolute IRI (it would be dropped, and not signed)")]
    RelativeIri {
        /// The value.
        value: String,
    },
    /// The document needs JSON-LD features Cairn processes only with [`CanonLimits::safe_mode`] off.
    #[error("the document uses JSON-LD features that safe mode does not cover ({feature})")]
    Unsupported {
        /// What the document uses.
        feature: String,
    },
    /// The document would take too much work to canonicalize.
    #[error("the document is too complex to canonicalize: {0}")]
    TooComplex(Complexity),
}

/// Which work limit a document went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Complexity {
    /// More quads than [`CanonLimits::max_quads`].
    #[error("more than {limit} quads")]
    Quads {
        /// The limit.
        limit: usize,
    },
    /// More blank nodes than [`CanonLimits::max_blank_nodes`].
    #[error("{count} blank nodes, over the limit of {limit}")]
    BlankNodes {
        /// How many there are.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// More RDFC-1.0 deep iterations (Hash N-Degree Quads calls) than allowed.
    #[error("more than {limit} RDFC-1.0 deep iterations (a poisoned or highly symmetric graph)")]
    DeepIterations {
        /// The limit.
        limit: usize,
    },
    /// More permutations of related blank nodes than [`CanonLimits::max_permutations`].
    #[error("more than {limit} blank node permutations (a poisoned or highly symmetric graph)")]
    Permutations {
        /// The limit.
        limit: usize,
    },
}

/// The RDFC-1.0 canonical N-Quads of a JSON-LD document, with the default [`CanonLimits`].
///
/// # Errors
/// See [`CanonError`]: the document is too large, too deep or too complex, uses a context `loader` does not
/// give, or is not valid JSON-LD.
pub fn canonize(document: &Value, loader: &dyn DocumentLoader) -> Result<String, CanonError> {
    canonize_with(document, loader, &CanonLimits::default())
}

/// [`canonize`] with explicit limits.
///
/// # Errors
/// As [`canonize`].
pub fn canonize_with(document: &Value, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<String, CanonError> {
    canonize_inner(document, None, loader, limits)
}

/// The canonical N-Quads of `document` without its top-level `proof` entry (the "unsecured document" of
/// Data Integrity), without copying the document.
pub(crate) fn canonize_unsecured(document: &Value, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<String, CanonError> {
    canonize_inner(document, Some("proof"), loader, limits)
}

fn canonize_inner(document: &Value, without: Option<&'static str>, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<String, CanonError> {
    check_shape(document, limits)?;
    let (statements, blank_count) = match expand::to_statements(document, without, loader, limits.max_quads) {
        Ok(expanded) => expanded,
        Err(expand::Stop::Unsafe(error)) if limits.safe_mode => return Err(error),
        Err(expand::Stop::Bail(feature)) if limits.safe_mode => {
            return Err(CanonError::Unsupported { feature: feature.to_owned() });
        }
        Err(_) => {
            let trimmed;
            let document = match (without, document) {
                (Some(key), Value::Object(entries)) if entries.contains_key(key) => {
                    let mut copy = entries.clone();
                    copy.remove(key);
                    trimmed = Value::Object(copy);
                    &trimmed
                }
                _ => document,
            };
            let json = to_json_ld_text(document, limits)?;
            to_statements(to_rdf(&json, Some(document), loader, limits)?)
        }
    };
    if statements.len() > limits.max_quads {
        return Err(CanonError::TooComplex(Complexity::Quads { limit: limits.max_quads }));
    }
    canonical_nquads(statements, blank_count, limits)
}

/// Checks the nesting depth and (approximately: escapes are not counted) the serialized size of
/// `document`, without recursing deeper than the limit. Canonicalization does this first; verifiers call it
/// before anything else to refuse hostile input before any other work.
///
/// # Errors
/// [`CanonError::TooDeep`] or [`CanonError::TooLarge`].
pub fn check_shape(document: &Value, limits: &CanonLimits) -> Result<(), CanonError> {
    fn walk(value: &Value, depth: usize, size: &mut usize, limits: &CanonLimits) -> Result<(), CanonError> {
        if *size > limits.max_bytes {
            return Err(CanonError::TooLarge { limit: limits.max_bytes });
        }
        match value {
            Value::Null | Value::Bool(_) => *size += 5,
            Value::Number(_) => *size += 8,
            Value::String(text) => *size += text.len() + 2,
            Value::Array(items) => {
                if depth >= limits.max_depth {
                    return Err(CanonError::TooDeep { limit: limits.max_depth });
                }
                *size += 2 + items.len();
                for item in items {
                    walk(item, depth + 1, size, limits)?;
                }
            }
            Value::Object(entries) => {
                if depth >= limits.max_depth {
                    return Err(CanonError::TooDeep { limit: limits.max_depth });
                }
                *size += 2;
                for (key, item) in entries {
                    *size += key.len() + 4;
                    walk(item, depth + 1, size, limits)?;
                }
            }
        }
        Ok(())
    }
    let mut size = 0;
    walk(document, 0, &mut size, limits)?;
    if size > limits.max_bytes {
        return Err(CanonError::TooLarge { limit: limits.max_bytes });
    }
    Ok(())
}

/// The canonical N-Quads of a JSON-LD document given as bytes, checking its size and depth before parsing.
///
/// # Errors
/// As [`canonize`], and [`CanonError::NotJson`].
pub fn canonize_json(json: &[u8], loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<String, CanonError> {
    let document = parse_json(json, limits)?;
    canonize_with(&document, loader, limits)
}

/// Parses untrusted JSON: the size and nesting depth are checked on the raw bytes first, so a hostile input
/// is refused in one linear pass without building anything.
///
/// # Errors
/// [`CanonError::TooLarge`], [`CanonError::TooDeep`] or [`CanonError::NotJson`].
pub fn parse_json(json: &[u8], limits: &CanonLimits) -> Result<Value, CanonError> {
    if json.len() > limits.max_bytes {
        return Err(CanonError::TooLarge { limit: limits.max_bytes });
    }
    check_depth(json, limits.max_depth)?;
    serde_json::from_slice(json).map_err(|error| CanonError::NotJson(error.to_string()))
}

/// Refuses JSON text that nests arrays and objects deeper than `max_depth`; does not otherwise validate.
fn check_depth(json: &[u8], max_depth: usize) -> Result<(), CanonError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(CanonError::TooDeep { limit: max_depth });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
