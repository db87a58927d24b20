//! Document loading: bundled contexts, and documents the caller supplies (DID documents, status lists).
//!
//! `cairn-vc` performs no I/O, so a [`DocumentLoader`] never fetches: the caller fetches whatever it allows
//! beforehand (a did:web document, a status list, an issuer profile) and hands the bytes in through a
//! [`StaticLoader`]. Contexts come only from the pinned, bundled set ([`crate::contexts`]); a supplied
//! document can never replace one.
//!
//! ```
//! use cairn_vc::loader::{BundledLoader, DocumentLoader, LoadError, StaticLoader};
//! use serde_json::json;
//!
//! assert!(BundledLoader.load(cairn_vc::contexts::VC_V2).is_ok());
//! assert!(matches!(BundledLoader.load("https://example.org/context"), Err(LoadError::Refused { .. })));
//!
//! let loader = StaticLoader::new().with("did:web:example.org", &json!({"id": "did:web:example.org"}));
//! assert_eq!(loader.load("did:web:example.org").unwrap().parse().unwrap()["id"], "did:web:example.org");
//! assert!(loader.load(cairn_vc::contexts::OB_V3P0_303).is_ok());
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::contexts;

/// The largest document a loader hands out by default (1 MiB). Contexts and DID documents are a few KB;
/// a status list of 131,072 entries is about 22 KB of base64.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Gives JSON-LD contexts and other documents by URL, without I/O.
///
/// Implementations must be deterministic for the duration of one call into this crate: canonicalization
/// may ask for the same URL more than once.
pub trait DocumentLoader {
    /// The document at `url`.
    ///
    /// # Errors
    /// [`LoadError::Refused`] when the loader does not have (or will not give) the document;
    /// [`LoadError::TooLarge`] when it is over the loader's size limit.
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError>;
}

impl<T: DocumentLoader + ?Sized> DocumentLoader for &T {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        (**self).load(url)
    }
}

impl<T: DocumentLoader + ?Sized> DocumentLoader for Box<T> {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        (**self).load(url)
    }
}

impl<T: DocumentLoader + ?Sized> DocumentLoader for Arc<T> {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        (**self).load(url)
    }
}

/// A loaded document: the URL it was asked for and its JSON text.
#[derive(Clone, PartialEq, Eq)]
pub struct LoadedDocument {
    url: String,
    json: Text,
}

#[derive(Clone, PartialEq, Eq)]
enum Text {
    Bundled(&'static str),
    Supplied(Arc<str>),
}

impl LoadedDocument {
    /// A document with the JSON text `json`, loaded for `url`.
    pub fn new(url: impl Into<String>, json: impl Into<Arc<str>>) -> Self {
        Self { url: url.into(), json: Text::Supplied(json.into()) }
    }

    /// A bundled (static) document; no copy is made.
    pub fn bundled(url: impl Into<String>, json: &'static str) -> Self {
        Self { url: url.into(), json: Text::Bundled(json) }
    }

    /// The URL the document was loaded for.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        match &self.json {
            Text::Bundled(json) => json,
            Text::Supplied(json) => json,
        }
    }

    /// Whether this is one of the pinned contexts bundled with the crate.
    pub fn is_bundled(&self) -> bool {
        matches!(self.json, Text::Bundled(_))
    }

    /// The document parsed as JSON.
    ///
    /// # Errors
    /// [`LoadError::NotJson`] when the text is not JSON.
    pub fn parse(&self) -> Result<Value, LoadError> {
        serde_json::from_str(self.json()).map_err(|error| LoadError::NotJson { url: self.url.clone(), reason: error.to_string() })
    }
}

impl fmt::Debug for LoadedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedDocument").field("url", &self.url).field("bytes", &self.json().len()).field("bundled", &self.is_bundled()).finish()
    }
}

/// Why a document could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The loader does not have the document and will not fetch it.
    #[error("refused to load \"{url}\": it is neither a bundled context nor a document supplied by the caller")]
    Refused {
        /// The URL asked for.
        url: String,
    },
    /// The document is over the size limit.
    #[error("\"{url}\" is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The document's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The server says the document was withdrawn for good (HTTP 410 Gone); for a hosted OB 2.0
    /// assertion that means revoked.
    #[error("\"{url}\" is gone (HTTP 410): it was withdrawn")]
    Gone {
        /// The URL asked for.
        url: String,
    },
    /// The document could not be retrieved (network failure, HTTP error, host not allowed).
    #[error("cannot retrieve \"{url}\": {reason}")]
    Unavailable {
        /// The URL asked for.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The document is not JSON.
    #[error("\"{url}\" is not JSON: {reason}")]
    NotJson {
        /// The URL asked for.
        url: String,
        /// What the JSON parser said.
        reason: String,
    },
}

/// Serves the bundled, pinned contexts ([`crate::contexts::BUNDLED`]) and refuses every other URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BundledLoader;

impl DocumentLoader for BundledLoader {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        contexts::bundled_context(url).map(|json| LoadedDocument::bundled(url, json)).ok_or_else(|| LoadError::Refused { url: url.to_owned() })
    }
}

/// Documents the caller supplies (DID documents, controller documents, status lists), on top of the bundled
/// contexts, optionally on top of another loader.
///
/// Lookup order: the bundled contexts (a supplied document never replaces a pinned context), then the
/// documents given with [`with`](Self::with), then the fallback loader if any. Keys are exact URLs; for a
/// DID, supply the document under the DID itself (`did:web:example.org`), without a fragment.
#[derive(Clone)]
pub struct StaticLoader {
    documents: HashMap<String, Arc<str>>,
    fallback: Option<Arc<dyn DocumentLoader + Send + Sync>>,
    max_bytes: usize,
}

impl Default for StaticLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl StaticLoader {
    /// The bundled contexts and nothing else, until documents are added.
    pub fn new() -> Self {
        Self { documents: HashMap::new(), fallback: None, max_bytes: MAX_DOCUMENT_BYTES }
    }

    /// Also asks `fallback` for URLs that are neither bundled nor supplied here.
    pub fn with_fallback(mut self, fallback: Arc<dyn DocumentLoader + Send + Sync>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// Serves `document` for `url`.
    pub fn with(mut self, url: impl Into<String>, document: &Value) -> Self {
        self.insert(url, document);
        self
    }

    /// Serves the JSON text `json` for `url` (checked to be JSON when loaded).
    pub fn with_json(mut self, url: impl Into<String>, json: impl Into<Arc<str>>) -> Self {
        self.documents.insert(url.into(), json.into());
        self
    }

    /// Serves `document` for `url` (in place).
    pub fn insert(&mut self, url: impl Into<String>, document: &Value) {
        self.documents.insert(url.into(), document.to_string().into());
    }

    /// Refuses supplied documents larger than `max_bytes` (default [`MAX_DOCUMENT_BYTES`]).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }
}

impl fmt::Debug for StaticLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut urls: Vec<&str> = self.documents.keys().map(String::as_str).collect();
        urls.sort_unstable();
        f.debug_struct("StaticLoader").field("documents", &urls).field("fallback", &self.fallback.is_some()).field("max_bytes", &self.max_bytes).finish()
    }
}

impl DocumentLoader for StaticLoader {
    fn load(&self, url: &str) -> Result<LoadedDocument, LoadError> {
        if let Some(json) = contexts::bundled_context(url) {
            return Ok(LoadedDocument::bundled(url, json));
        }
        let document = match (self.documents.get(url), &self.fallback) {
            (Some(json), _) => LoadedDocument { url: url.to_owned(), json: Text::Supplied(Arc::clone(json)) },
            (None, Some(fallback)) => fallback.load(url)?,
            (None, None) => return Err(LoadError::Refused { url: url.to_owned() }),
        };
        let size = document.json().len();
        if size > self.max_bytes {
            return Err(LoadError::TooLarge { url: url.to_owned(), size, limit: self.max_bytes });
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    enum Outcome {
        Bundled,
        Supplied(&'static str),
        Refused,
        TooLarge,
    }

    #[track_caller]
    fn check(loader: &dyn DocumentLoader, url: &str, expect: Outcome) {
        let outcome = match loader.load(url) {
            Ok(document) if document.is_bundled() => Outcome::Bundled,
            Ok(document) => Outcome::Supplied(if document.json().contains("alice") { "alice" } else { "other" }),
            Err(LoadError::Refused { url: refused }) => {
                assert_eq!(refused, url);
                Outcome::Refused
            }
            Err(LoadError::TooLarge { .. }) => Outcome::TooLarge,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(outcome, expect, "{url}");
    }

    #[test]
    fn bundled_loader_serves_contexts_only() {
        check(&BundledLoader, contexts::VC_V2, Outcome::Bundled);
        check(&BundledLoader, contexts::CLR_V2P0_201, Outcome::Bundled);
        check(&BundledLoader, "did:web:example.org", Outcome::Refused);
        check(&BundledLoader, "https://example.org/context.json", Outcome::Refused);
    }

    #[test]
    fn static_loader_serves_supplied_documents_on_top_of_the_bundled_contexts() {
        let loader = StaticLoader::new()
            .with("did:web:alice.example", &json!({"id": "did:web:alice.example", "name": "alice"}))
            .with(contexts::VC_V2, &json!({"@context": {"name": "https://evil.example/name", "alice": 1}}))
            .with_json("https://example.org/big", "x".repeat(MAX_DOCUMENT_BYTES + 1));
        check(&loader, "did:web:alice.example", Outcome::Supplied("alice"));
        check(&loader, contexts::VC_V2, Outcome::Bundled);
        check(&loader, "did:web:alice.example#key-1", Outcome::Refused);
        check(&loader, "https://example.org/big", Outcome::TooLarge);
    }

    #[test]
    fn static_loaders_compose() {
        let inner = StaticLoader::new().with("https://example.org/issuer", &json!({"name": "alice"}));
        let outer = StaticLoader::new().with("did:web:other.example", &json!({})).with_fallback(Arc::new(inner));
        check(&outer, "https://example.org/issuer", Outcome::Supplied("alice"));
        check(&outer, "did:web:other.example", Outcome::Supplied("other"));
        check(&outer, "https://example.org/nobody", Outcome::Refused);
    }

    #[test]
    fn parse_reports_bad_json() {
        let loader = StaticLoader::new().with_json("https://example.org/x", "{not json");
        let error = loader.load("https://example.org/x").unwrap().parse().unwrap_err();
        assert!(matches!(error, LoadError::NotJson { .. }), "{error}");
    }
}
