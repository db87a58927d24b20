//! The fast path: JSON-LD 1.1 toRdf for documents whose contexts are all bundled.
//!
//! Kept by hand, for speed: oxjsonld re-processes every context for every document (and clones the
//! whole active context at each type-scoped context), which costs milliseconds per credential. Here the
//! bundled contexts are parsed once, and every processed context state is cached process-wide, keyed by
//! (previous state, local context), so a credential costs only its own expansion. The expander
//! implements the JSON-LD 1.1 Expansion (§5.1), Context Processing (§4.1), Create Term Definition (§4.2),
//! IRI Expansion (§5.2), Value Expansion (§5.3) and Deserialize JSON-LD to RDF (§8.1) algorithms for the
//! features the bundled contexts and ordinary credentials use. Whenever it meets anything else (an inline
//! context, `@graph`, `@reverse`, language tags, `@json`, a relative IRI, anything the specification
//! calls an error) it bails out and the document goes through oxjsonld instead (`super::general`), so the
//! two agree by construction on everything the fast path accepts (the tests check this on every fixture
//! and on mutations of them). It also gives JSON-LD "safe mode": a term no context defines is an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::{Map, Number, Value};

use super::CanonError;
use super::rdfc::{Node, Statement, iri_text, literal_parts_text};
use crate::contexts;
use crate::loader::DocumentLoader;

/// Why the fast path stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// The document needs the general JSON-LD processor.
    Bail(&'static str),
    /// The document would lose data silently (JSON-LD "safe mode" would refuse it), or uses a context
    /// nobody supplies; the general processor would drop the data or fail too.
    Unsafe(CanonError),
}

fn bail(reason: &'static str) -> Stop {
    Stop::Bail(reason)
}

fn undefined(term: &str) -> Stop {
    Stop::Unsafe(CanonError::UndefinedTerm { term: term.chars().take(200).collect() })
}

type Result<T> = std::result::Result<T, Stop>;

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";

/// The most context states kept; past it, new states are computed but not kept.
const MAX_CACHED_CONTEXTS: usize = 512;

/// A fast hash for maps whose keys come from the bundled contexts (term names, cache keys); documents
/// only look keys up there, so a weak hash gives an attacker nothing to collide. Maps filled from
/// documents keep the standard SipHash.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// `<iri>` of a few RDF terms, made once.
fn rdf_text(which: usize) -> Arc<str> {
    static TEXTS: OnceLock<[Arc<str>; 4]> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| [RDF_TYPE, RDF_FIRST, RDF_REST, RDF_NIL].map(|iri| Arc::from(iri_text(iri))));
    Arc::clone(&texts[which])
}

#[derive(Debug, Clone, PartialEq)]
enum TypeMapping {
    Id,
    Vocab,
    Json,
    None,
    Iri(Arc<str>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Container {
    list: bool,
    set: bool,
    graph: bool,
}

#[derive(Debug, Clone)]
struct TermDefinition {
    /// The IRI (or keyword) the term expands to; `None` for a term explicitly mapped to null.
    iri: Option<Arc<str>>,
    /// `<iri>`, when `iri` is an absolute IRI (checked once, when the context is processed).
    text: Option<Arc<str>>,
    prefix: bool,
    protected: bool,
    type_mapping: Option<TypeMapping>,
    container: Container,
    /// A scoped context, always part of a bundled (static) context.
    scoped: Option<&'static Value>,
}

impl TermDefinition {
    /// Equal apart from `protected` (Create Term Definition step 27.1).
    fn same_as(&self, other: &Self) -> bool {
        self.iri == other.iri
            && self.prefix == other.prefix
            && self.type_mapping == other.type_mapping
            && self.container == other.container
            && self.scoped == other.scoped
    }
}

/// An active context. States are immutable once built and shared through the cache.
#[derive(Debug, Clone)]
pub(super) struct Context {
    id: u64,
    terms: FastMap<String, Arc<TermDefinition>>,
    vocab: Option<Arc<str>>,
    previous: Option<Arc<Context>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Context {
    fn empty() -> Arc<Self> {
        static EMPTY: OnceLock<Arc<Context>> = OnceLock::new();
        Arc::clone(EMPTY.get_or_init(|| Arc::new(Context { id: 0, terms: FastMap::default(), vocab: None, previous: None })))
    }

    fn term(&self, term: &str) -> Option<&TermDefinition> {
        self.terms.get(term).map(|definition| &**definition)
    }
}

/// The bundled contexts, parsed once.
fn parsed(url: &str) -> Option<&'static Value> {
    static PARSED: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    PARSED
        .get_or_init(|| contexts::BUNDLED.iter().filter_map(|context| Some((context.url, serde_json::from_str::<Value>(context.json).ok()?))).collect())
        .get(url)
        .and_then(|document| document.get("@context"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey {
    active: u64,
    local: usize,
    propagate: bool,
    override_protected: bool,
}

fn cache() -> &'static RwLock<FastMap<CacheKey, Arc<Context>>> {
    static CACHE: OnceLock<RwLock<FastMap<CacheKey, Arc<Context>>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(FastMap::default()))
}

fn is_keyword(value: &str) -> bool {
    matches!(
        value,
        "@base"
            | "@container"
            | "@context"
            | "@direction"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@prefix"
            | "@propagate"
            | "@protected"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

fn has_keyword_form(value: &str) -> bool {
    value.len() > 1 && value.starts_with('@') && value[1..].bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_absolute_iri(value: &str) -> bool {
    oxrdf::NamedNode::new(value).is_ok()
}

/// A context processing run over one static local context (Context Processing, §4.1.2).
struct Processing<'l> {
    local: &'l Map<String, Value>,
    defined: HashMap<&'l str, bool>,
    protected: bool,
    override_protected: bool,
}

/// Applies `local` (part of a bundled context) to `active`, through the cache.
fn process(active: &Arc<Context>, local: &'static Value, propagate: bool, override_protected: bool) -> Result<Arc<Context>> {
    let key = CacheKey { active: active.id, local: local as *const Value as usize, propagate, override_protected };
    if let Some(hit) = cache().read().map_err(|_| bail("poisoned cache"))?.get(&key) {
        return Ok(Arc::clone(hit));
    }
    let result = Arc::new(process_uncached(active, local, propagate, override_protected)?);
    let mut cache = cache().write().map_err(|_| bail("poisoned cache"))?;
    if cache.len() < MAX_CACHED_CONTEXTS {
        cache.insert(key, Arc::clone(&result));
    }
    Ok(result)
}

fn process_uncached(active: &Arc<Context>, local: &'static Value, mut propagate: bool, override_protected: bool) -> Result<Context> {
    let mut result = Context { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), ..(**active).clone() };
    if let Some(value) = local.get("@propagate") {
        propagate = value.as_bool().ok_or(bail("@propagate is not a boolean"))?;
    }
    if !propagate && result.previous.is_none() {
        result.previous = Some(Arc::clone(active));
    }
    let locals: Vec<&'static Value> = match local {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for context in locals {
        match context {
            Value::String(_) => return Err(bail("a bundled context refers to another context")),
            Value::Object(map) => process_map(&mut result, map, override_protected)?,
            _ => return Err(bail("a null or invalid local context")),
        }
    }
    Ok(result)
}

fn process_map(result: &mut Context, map: &'static Map<String, Value>, override_protected: bool) -> Result<()> {
    for keyword in ["@import", "@base", "@language", "@direction"] {
        if map.contains_key(keyword) {
            return Err(bail("unsupported context keyword"));
        }
    }
    if let Some(version) = map.get("@version")
        && version.as_f64() != Some(1.1)
    {
        return Err(bail("@version is not 1.1"));
    }
    if let Some(propagate) = map.get("@propagate") {
        propagate.as_bool().ok_or(bail("@propagate is not a boolean"))?;
    }
    let protected = match map.get("@protected") {
        None => false,
        Some(value) => value.as_bool().ok_or(bail("@protected is not a boolean"))?,
    };
    let mut run = Processing { local: map, defined: HashMap::new(), protected, override_protected };
    match map.get("@vocab") {
        None => {}
        Some(Value::Null) => result.vocab = None,
        Some(Value::String(vocab)) => {
            let iri = expand_iri_defining(result, &mut run, vocab, true)?.ok_or(bail("@vocab expands to null"))?;
            if !(is_absolute_iri(&iri) || iri.starts_with("_:")) {
                return Err(bail("@vocab is not an IRI"));
            }
            result.vocab = Some(iri.into());
        }
        Some(_) => return Err(bail("@vocab is not a string")),
    }
    for term in map.keys() {
        if !matches!(term.as_str(), "@version" | "@vocab" | "@propagate" | "@protected") {
            create_term_definition(result, &mut run, term)?;
        }
    }
    Ok(())
}

/// Create Term Definition (§4.2.2).
fn create_term_definition(active: &mut Context, run: &mut Processing<'static>, term: &'static str) -> Result<()> {
    match run.defined.get(term) {
        Some(true) => return Ok(()),
        Some(false) => return Err(bail("cyclic term definition")),
        None => {}
    }
    if term.is_empty() || is_keyword(term) || has_keyword_form(term) {
        return Err(bail("keyword or empty term"));
    }
    run.defined.insert(term, false);
    let value = &run.local[term];
    let previous = active.terms.remove(term);
    let (entries, simple) = match value {
        Value::Null => (None, false),
        Value::String(_) => (None, true),
        Value::Object(entries) => (Some(entries), false),
        _ => return Err(bail("invalid term definition")),
    };
    let entry = |key: &str| match (entries, value) {
        (Some(entries), _) => entries.get(key),
        (None, Value::String(_) | Value::Null) if key == "@id" => Some(value),
        _ => None,
    };
    if let Some(entries) = entries {
        for key in entries.keys() {
            if !matches!(key.as_str(), "@id" | "@type" | "@container" | "@context" | "@protected") {
                return Err(bail("unsupported term definition entry"));
            }
        }
    }
    let mut definition =
        TermDefinition { iri: None, text: None, prefix: false, protected: run.protected, type_mapping: None, container: Container::default(), scoped: None };
    if let Some(protected) = entry("@protected") {
        definition.protected = protected.as_bool().ok_or(bail("@protected is not a boolean"))?;
    }
    if let Some(type_mapping) = entry("@type") {
        let type_mapping = type_mapping.as_str().ok_or(bail("@type mapping is not a string"))?;
        let expanded = expand_iri_defining(active, run, type_mapping, true)?.ok_or(bail("@type expands to null"))?;
        definition.type_mapping = Some(match expanded.as_str() {
            "@id" => TypeMapping::Id,
            "@vocab" => TypeMapping::Vocab,
            "@json" => TypeMapping::Json,
            "@none" => TypeMapping::None,
            iri if is_absolute_iri(iri) => TypeMapping::Iri(iri.into()),
            _ => return Err(bail("invalid type mapping")),
        });
    }
    match entry("@id") {
        Some(Value::Null) => definition.iri = None,
        Some(Value::String(id)) if id != term => {
            if !is_keyword(id) && has_keyword_form(id) {
                return Err(bail("@id has the form of a keyword"));
            }
            let iri = expand_iri_defining(active, run, id, true)?.ok_or(bail("@id expands to null"))?;
            if iri == "@context" || !(is_keyword(&iri) || is_absolute_iri(&iri) || iri.starts_with("_:")) {
                return Err(bail("invalid IRI mapping"));
            }
            if term.contains(':') || term.contains('/') {
                return Err(bail("a compact IRI or IRI used as a term"));
            }
            definition.prefix = simple && (iri.starts_with("_:") || iri.ends_with([':', '/', '?', '#', '[', ']', '@']));
            definition.iri = Some(iri.into());
        }
        Some(Value::String(_)) | None => {
            if term.contains(':') || term.contains('/') {
                return Err(bail("a compact IRI or IRI used as a term"));
            }
            let vocab = active.vocab.as_deref().ok_or(bail("a term without @id and no @vocab"))?;
            definition.iri = Some(format!("{vocab}{term}").into());
        }
        Some(_) => return Err(bail("@id is not a string")),
    }
    if let Some(container) = entry("@container") {
        let values: Vec<&str> = match container {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().map(|v| v.as_str().ok_or(bail("bad @container"))).collect::<Result<_>>()?,
            _ => return Err(bail("bad @container")),
        };
        for value in &values {
            match *value {
                "@list" => definition.container.list = true,
                "@set" => definition.container.set = true,
                "@graph" => definition.container.graph = true,
                _ => return Err(bail("unsupported @container")),
            }
        }
        if definition.container.list && values.len() > 1 {
            return Err(bail("unsupported @container combination"));
        }
    }
    if let Some(scoped) = entry("@context") {
        definition.scoped = Some(scoped);
    }
    definition.text =
        definition.iri.as_deref().filter(|iri| !is_keyword(iri) && !iri.starts_with("_:") && is_absolute_iri(iri)).map(|iri| iri_text(iri).into());
    if let Some(previous) = previous
        && previous.protected
        && !run.override_protected
    {
        if !definition.same_as(&previous) {
            return Err(bail("redefines a protected term"));
        }
        definition = (*previous).clone();
    }
    active.terms.insert(term.to_owned(), Arc::new(definition));
    run.defined.insert(term, true);
    Ok(())
}

/// IRI Expansion (§5.2.2) during context processing, defining terms of the local context on demand.
fn expand_iri_defining(active: &mut Context, run: &mut Processing<'static>, value: &'static str, vocab: bool) -> Result<Option<String>> {
    if is_keyword(value) {
        return Ok(Some(value.to_owned()));
    }
    if has_keyword_form(value) {
        return Ok(None);
    }
    if run.local.contains_key(value) && run.defined.get(value) != Some(&true) {
        create_term_definition(active, run, value_key(run.local, value))?;
    }
    if let Some((prefix, _)) = split_compact(value)
        && run.local.contains_key(prefix)
        && run.defined.get(prefix) != Some(&true)
    {
        create_term_definition(active, run, value_key(run.local, prefix))?;
    }
    Ok(expand_iri(active, value, vocab).map(Cow::into_owned))
}

/// The local context's own key equal to `value` (to borrow it for `'static`).
fn value_key(local: &'static Map<String, Value>, value: &str) -> &'static str {
    local.get_key_value(value).map_or("", |(key, _)| key.as_str())
}

fn split_compact(value: &str) -> Option<(&str, &str)> {
    let colon = value.find(':')?;
    (colon > 0).then(|| (&value[..colon], &value[colon + 1..]))
}

/// IRI Expansion (§5.2.2) with no base IRI. Relative results are returned as they are; callers reject
/// them, and callers check that what looks absolute is a valid IRI.
fn expand_iri<'x>(active: &'x Context, value: &'x str, vocab: bool) -> Option<Cow<'x, str>> {
    if is_keyword(value) {
        return Some(Cow::Borrowed(value));
    }
    if has_keyword_form(value) {
        return None;
    }
    if let Some(definition) = active.term(value) {
        match &definition.iri {
            Some(iri) if is_keyword(iri) => return Some(Cow::Borrowed(iri)),
            iri if vocab => return iri.as_deref().map(Cow::Borrowed),
            _ => {}
        }
    }
    let vocab = if vocab { active.vocab.as_deref() } else { None };
    if let Some((prefix, suffix)) = split_compact(value) {
        if prefix == "_" || suffix.starts_with("//") {
            return Some(Cow::Borrowed(value));
        }
        if let Some(TermDefinition { iri: Some(iri), prefix: true, .. }) = active.term(prefix) {
            return Some(Cow::Owned(format!("{iri}{suffix}")));
        }
        // Step 6.5. Without a vocabulary mapping, steps 7–9 return the value unchanged anyway.
        if vocab.is_none() || is_absolute_iri(value) {
            return Some(Cow::Borrowed(value));
        }
    }
    if let Some(vocab) = vocab {
        return Some(Cow::Owned(format!("{vocab}{value}")));
    }
    Some(Cow::Borrowed(value))
}

/// The keyword `key` stands for, if any (a keyword itself or a term aliasing one).
fn keyword_of<'x>(active: &'x Context, key: &'x str) -> Option<&'x str> {
    match active.term(key) {
        Some(definition) => definition.iri.as_deref().filter(|iri| is_keyword(iri)),
        None => is_keyword(key).then_some(key),
    }
}

/// What a key of a node object means.
enum Key<'x> {
    Keyword(&'x str),
    Property(Arc<str>, Option<&'x TermDefinition>),
    Dropped,
}

fn key_meaning<'x>(active: &'x Context, key: &'x str) -> Result<Key<'x>> {
    if let Some(definition) = active.term(key) {
        return match (&definition.iri, &definition.text) {
            (None, _) => Ok(Key::Dropped),
            (Some(iri), _) if is_keyword(iri) => Ok(Key::Keyword(iri)),
            (Some(_), Some(text)) => Ok(Key::Property(Arc::clone(text), Some(definition))),
            (Some(_), None) => Err(bail("a blank node or invalid property")),
        };
    }
    if is_keyword(key) {
        return Ok(Key::Keyword(key));
    }
    let Some(expanded) = expand_iri(active, key, true) else { return Ok(Key::Dropped) };
    if !expanded.contains(':') {
        return Ok(Key::Dropped); // Step 13.3: not an IRI.
    }
    if expanded.starts_with("_:") {
        return Err(bail("a blank node property"));
    }
    if !is_absolute_iri(&expanded) {
        return Err(undefined(key));
    }
    Ok(Key::Property(iri_text(&expanded).into(), None))
}

// ---- Expansion ----

/// A node's identifier: `<iri>` text, or a blank node label from the document.
#[derive(Debug, Clone)]
enum Subject {
    Iri(Arc<str>),
    Blank(String),
}

#[derive(Debug)]
enum Item<'d> {
    Node { id: Option<Subject>, types: Vec<Arc<str>>, properties: Vec<(Arc<str>, Vec<Item<'d>>)> },
    Value { value: Scalar<'d>, datatype: Option<Arc<str>>, language: Option<String> },
    List(Vec<Item<'d>>),
    Graph(Vec<Item<'d>>),
}

#[derive(Debug, Clone, Copy)]
enum Scalar<'d> {
    String(&'d str),
    Number(&'d Number),
    Bool(bool),
}

struct Expander<'a> {
    loader: &'a dyn DocumentLoader,
    /// A key of the root object to leave out (`proof`), taken by the first object expanded.
    without: Option<&'static str>,
    /// Context URLs the loader confirmed to be the bundled ones.
    confirmed: Vec<String>,
}

impl Expander<'_> {
    /// Applies a document's `@context` value: only bundled context URLs are accepted.
    fn apply_context(&mut self, active: &Arc<Context>, local: &Value) -> Result<Arc<Context>> {
        let urls: Vec<&str> = match local {
            Value::String(url) => vec![url.as_str()],
            Value::Array(items) => items.iter().map(|item| item.as_str().ok_or(bail("an inline context"))).collect::<Result<_>>()?,
            _ => return Err(bail("an inline or null context")),
        };
        let mut context = Arc::clone(active);
        for url in urls {
            let refused = |error| match error {
                crate::loader::LoadError::Refused { url } => Stop::Unsafe(CanonError::UnknownContext { url }),
                _ => bail("the loader cannot give a context"),
            };
            let Some(local) = parsed(url) else {
                // Not bundled: unknown unless the caller supplies it (then the general processor reads it).
                self.loader.load(url).map_err(refused)?;
                return Err(bail("a context that is not bundled"));
            };
            if !self.confirmed.iter().any(|confirmed| confirmed == url) {
                // The loader decides which contexts exist: it must serve exactly the bundled bytes.
                let document = self.loader.load(url).map_err(refused)?;
                let pinned = contexts::bundled_context(url).unwrap_or_default();
                if !std::ptr::eq(document.json(), pinned) && document.json() != pinned {
                    return Err(bail("the loader serves other bytes for a bundled context"));
                }
                self.confirmed.push(url.to_owned());
            }
            context = process(&context, local, true, false)?;
        }
        Ok(context)
    }

    /// Expansion (§5.1.2). `None` is JSON-LD's null.
    fn expand<'d>(&mut self, active: &Arc<Context>, property: Option<&'d str>, element: &'d Value) -> Result<Option<Vec<Item<'d>>>> {
        let definition = property.and_then(|property| active.term(property));
        match element {
            Value::Null => Ok(None),
            Value::Array(items) => {
                let list = definition.is_some_and(|definition| definition.container.list);
                let mut result = Vec::with_capacity(items.len());
                for item in items {
                    let expanded = self.expand(active, property, item)?;
                    match expanded {
                        Some(expanded) if list && item.is_array() => result.push(Item::List(expanded)),
                        Some(expanded) => result.extend(expanded),
                        None => {}
                    }
                }
                Ok(Some(result))
            }
            Value::Object(entries) => self.expand_object(active, property, entries),
            scalar => {
                let Some(property) = property else { return Ok(None) };
                let scoped = definition.and_then(|definition| definition.scoped);
                let active = match scoped {
                    Some(scoped) => process(active, scoped, true, true)?,
                    None => Arc::clone(active),
                };
                Ok(Some(vec![expand_value(&active, property, scalar)?]))
            }
        }
    }

    fn expand_object<'d>(&mut self, entry_context: &Arc<Context>, property: Option<&'d str>, entries: &'d Map<String, Value>) -> Result<Option<Vec<Item<'d>>>> {
        let without = self.without.take();
        let mut active = Arc::clone(entry_context);
        // Step 7: a type-scoped context does not reach nested node objects.
        if let Some(previous) = entry_context.previous.as_ref() {
            let expands_to = |key: &str, keyword: &str| keyword_of(entry_context, key) == Some(keyword);
            let has_value = entries.keys().any(|key| expands_to(key, "@value"));
            let only_id = entries.len() == 1 && entries.keys().all(|key| expands_to(key, "@id"));
            if !has_value && !only_id {
                active = Arc::clone(previous);
            }
        }
        // Step 8: property-scoped context (looked up in the context the element was reached with).
        if let Some(scoped) = property.and_then(|property| entry_context.term(property)).and_then(|d| d.scoped) {
            active = process(&active, scoped, true, true)?;
        }
        // Step 9: embedded context.
        if let Some(local) = entries.get("@context") {
            active = self.apply_context(&active, local)?;
        }
        // Steps 10–11: type-scoped contexts, in lexicographic order of keys and of types.
        let type_scoped = Arc::clone(&active);
        let mut keys: Vec<&'d String> = entries.keys().filter(|key| Some(key.as_str()) != without).collect();
        keys.sort_unstable();
        for key in &keys {
            if keyword_of(&active, key) != Some("@type") {
                continue;
            }
            let mut types: Vec<&str> = match &entries[key.as_str()] {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().map(|v| v.as_str().ok_or(bail("@type is not a string"))).collect::<Result<_>>()?,
                _ => return Err(bail("@type is not a string")),
            };
            types.sort_unstable();
            for term in types {
                if let Some(scoped) = type_scoped.term(term).and_then(|definition| definition.scoped) {
                    active = process(&active, scoped, false, false)?;
                }
            }
        }
        // Step 13.
        let mut id = None;
        let mut types: Vec<Arc<str>> = Vec::new();
        let mut value: Option<Option<Scalar<'d>>> = None;
        let mut language: Option<String> = None;
        let mut list: Option<Option<Vec<Item<'d>>>> = None;
        let mut properties: Vec<(Arc<str>, Vec<Item<'d>>)> = Vec::new();
        let mut keywords_seen: Vec<&str> = Vec::new();
        let mut typed_array = false;
        for key in keys {
            if key == "@context" {
                continue;
            }
            let item = &entries[key.as_str()];
            let (expanded_key, definition) = match key_meaning(&active, key)? {
                // JSON-LD drops the entry; jsonld.js in safe mode refuses the document ("invalid
                // property"), and so does Cairn: a dropped entry is data no signature covers.
                Key::Dropped => return Err(undefined(key)),
                Key::Property(text, definition) => (text, definition),
                Key::Keyword(keyword) => {
                    if keyword != "@type" && keywords_seen.contains(&keyword) {
                        return Err(bail("colliding keywords"));
                    }
                    keywords_seen.push(keyword);
                    match keyword {
                        "@id" => {
                            let raw = item.as_str().ok_or(bail("@id is not a string"))?;
                            id = Some(node_subject(&active, raw, false)?);
                        }
                        "@type" => {
                            let raw: Vec<&str> = match item {
                                Value::String(one) => vec![one.as_str()],
                                Value::Array(many) => many.iter().map(|v| v.as_str().ok_or(bail("@type"))).collect::<Result<_>>()?,
                                _ => return Err(bail("@type is not a string")),
                            };
                            for raw in raw {
                                match node_subject(&type_scoped, raw, true)? {
                                    Subject::Iri(text) => types.push(text),
                                    Subject::Blank(_) => return Err(bail("a blank node type")),
                                }
                            }
                            typed_array |= item.is_array();
                        }
                        "@value" => {
                            value = Some(match item {
                                Value::Null => None,
                                Value::String(text) => Some(Scalar::String(text)),
                                Value::Number(number) => Some(Scalar::Number(number)),
                                Value::Bool(flag) => Some(Scalar::Bool(*flag)),
                                _ => return Err(bail("@value is not a scalar")),
                            });
                        }
                        "@language" => {
                            let tag = item.as_str().ok_or(bail("@language is not a string"))?;
                            if !is_language_tag(tag) {
                                return Err(bail("an invalid language tag"));
                            }
                            language = Some(tag.to_ascii_lowercase());
                        }
                        "@list" => {
                            if property.is_none() {
                                continue;
                            }
                            if item.is_null() {
                                return Err(bail("a null list"));
                            }
                            list = Some(self.expand(&active, property, item)?);
                        }
                        _ => return Err(bail("unsupported keyword")),
                    }
                    continue;
                }
            };
            if definition.is_some_and(|d| d.type_mapping == Some(TypeMapping::Json)) {
                return Err(bail("@json value"));
            }
            let container = definition.map(|d| d.container).unwrap_or_default();
            let Some(mut expanded) = self.expand(&active, Some(key.as_str()), item)? else { continue };
            if container.list && !matches!(expanded.as_slice(), [Item::List(_)]) {
                expanded = vec![Item::List(expanded)];
            }
            if container.graph {
                expanded = expanded.into_iter().map(|item| Item::Graph(vec![item])).collect();
            }
            match properties.iter_mut().find(|(iri, _)| *iri == expanded_key) {
                Some((_, values)) => values.extend(expanded),
                None => properties.push((expanded_key, expanded)),
            }
        }
        // Steps 14–19.
        if language.is_some() && value.is_none() {
            return Err(bail("@language outside a value object"));
        }
        if let Some(value) = value {
            if id.is_some() || list.is_some() || !properties.is_empty() || typed_array {
                return Err(bail("an invalid value object"));
            }
            let Some(value) = value else { return Err(bail("a null @value")) };
            if language.is_some() && (!types.is_empty() || !matches!(value, Scalar::String(_))) {
                return Err(bail("an invalid language-tagged value"));
            }
            let datatype = match types.as_slice() {
                [] => None,
                // A checked IRI's text is exactly `<iri>`: nothing in a valid IRI needs escaping.
                [one] => Some(Arc::from(&one[1..one.len() - 1])),
                _ => return Err(bail("a value object with several types")),
            };
            if property.is_none() {
                return Ok(None);
            }
            return Ok(Some(vec![Item::Value { value, datatype, language }]));
        }
        if let Some(list) = list {
            if id.is_some() || !types.is_empty() || !properties.is_empty() {
                return Err(bail("an invalid list object"));
            }
            return Ok(property.map(|_| vec![Item::List(list.unwrap_or_default())]));
        }
        if property.is_none() && types.is_empty() && properties.is_empty() {
            return Ok(None);
        }
        Ok(Some(vec![Item::Node { id, types, properties }]))
    }
}

/// A BCP 47-shaped tag (`en`, `fr-CA`, `zh-Hant-TW`), as jsonld.js checks it.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|part| (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An `@id` or `@type` value: an absolute IRI or a blank node identifier.
fn node_subject(active: &Context, raw: &str, vocab: bool) -> Result<Subject> {
    if vocab && let Some(text) = active.term(raw).and_then(|definition| definition.text.as_ref()) {
        return Ok(Subject::Iri(Arc::clone(text)));
    }
    let iri = expand_iri(active, raw, vocab).ok_or_else(|| undefined(raw))?;
    if let Some(label) = iri.strip_prefix("_:") {
        if label.is_empty() {
            return Err(bail("an empty blank node identifier"));
        }
        return Ok(Subject::Blank(label.to_owned()));
    }
    if is_keyword(&iri) {
        return Err(bail("a keyword as an IRI"));
    }
    if !is_absolute_iri(&iri) {
        // jsonld.js in safe mode: "relative @id reference" / "relative @type reference".
        return Err(if vocab { undefined(raw) } else { Stop::Unsafe(CanonError::RelativeIri { value: raw.chars().take(200).collect() }) });
    }
    Ok(Subject::Iri(iri_text(&iri).into()))
}

/// Value Expansion (§5.3.2).
fn expand_value<'d>(active: &Context, property: &str, value: &'d Value) -> Result<Item<'d>> {
    let type_mapping = active.term(property).and_then(|definition| definition.type_mapping.clone());
    let scalar = match value {
        Value::String(text) => Scalar::String(text),
        Value::Number(number) => Scalar::Number(number),
        Value::Bool(flag) => Scalar::Bool(*flag),
        _ => return Err(bail("not a scalar")),
    };
    match (type_mapping, scalar) {
        (Some(TypeMapping::Id), Scalar::String(text)) => {
            Ok(Item::Node { id: Some(node_subject(active, text, false)?), types: Vec::new(), properties: Vec::new() })
        }
        (Some(TypeMapping::Vocab), Scalar::String(text)) => {
            Ok(Item::Node { id: Some(node_subject(active, text, true)?), types: Vec::new(), properties: Vec::new() })
        }
        (Some(TypeMapping::Json), _) => Err(bail("@json value")),
        (Some(TypeMapping::Iri(datatype)), scalar) => Ok(Item::Value { value: scalar, datatype: Some(datatype), language: None }),
        (_, scalar) => Ok(Item::Value { value: scalar, datatype: None, language: None }),
    }
}

// ---- Deserialize JSON-LD to RDF (§8.1), without the node map: quads are a set, and blank node labels
// ---- are renamed by canonicalization anyway.

struct Emitter {
    statements: Vec<Statement>,
    labels: HashMap<String, usize>,
    blanks: usize,
    max_statements: usize,
}

impl Emitter {
    fn fresh(&mut self) -> Node {
        self.blanks += 1;
        Node::Blank(self.blanks - 1)
    }

    fn named(&mut self, subject: &Subject) -> Node {
        match subject {
            Subject::Blank(label) => {
                let next = self.blanks;
                let index = *self.labels.entry(label.clone()).or_insert(next);
                if index == next {
                    self.blanks += 1;
                }
                Node::Blank(index)
            }
            Subject::Iri(text) => Node::Fixed(Arc::clone(text)),
        }
    }

    fn push(&mut self, subject: Node, predicate: Arc<str>, object: Node, graph: &Option<Node>) -> Result<()> {
        if self.statements.len() >= self.max_statements {
            return Err(Stop::Unsafe(CanonError::TooComplex(super::Complexity::Quads { limit: self.max_statements })));
        }
        self.statements.push(Statement { subject, predicate, object, graph: graph.clone() });
        Ok(())
    }

    /// A node object or a free-floating item at the top of a graph.
    fn top(&mut self, item: &Item<'_>, graph: &Option<Node>) -> Result<()> {
        match item {
            Item::Node { .. } | Item::Graph(_) => {
                self.object(item, graph)?;
            }
            Item::Value { .. } | Item::List(_) => {}
        }
        Ok(())
    }

    fn object(&mut self, item: &Item<'_>, graph: &Option<Node>) -> Result<Node> {
        match item {
            Item::Node { id, types, properties } => {
                let subject = match id {
                    Some(id) => self.named(id),
                    None => self.fresh(),
                };
                for type_text in types {
                    self.push(subject.clone(), rdf_text(0), Node::Fixed(Arc::clone(type_text)), graph)?;
                }
                for (predicate, values) in properties {
                    for value in values {
                        let object = self.object(value, graph)?;
                        self.push(subject.clone(), Arc::clone(predicate), object, graph)?;
                    }
                }
                Ok(subject)
            }
            Item::Value { value, datatype, language: Some(language) } => {
                let Scalar::String(text) = value else { return Err(bail("a language-tagged non-string")) };
                debug_assert!(datatype.is_none());
                let mut out = literal_parts_text(text, None);
                out.push('@');
                out.push_str(language);
                Ok(Node::Fixed(out.into()))
            }
            Item::Value { value, datatype, language: None } => Ok(Node::Fixed(literal(*value, datatype.as_deref())?.into())),
            Item::List(items) => {
                let mut next = Node::Fixed(rdf_text(3));
                let heads: Vec<Node> = items.iter().map(|_| self.fresh()).collect();
                for (index, item) in items.iter().enumerate().rev() {
                    let first = self.object(item, graph)?;
                    self.push(heads[index].clone(), rdf_text(1), first, graph)?;
                    self.push(heads[index].clone(), rdf_text(2), next, graph)?;
                    next = heads[index].clone();
                }
                Ok(next)
            }
            Item::Graph(items) => {
                let name = self.fresh();
                let inner = Some(name.clone());
                for item in items {
                    self.top(item, &inner)?;
                }
                Ok(name)
            }
        }
    }
}

/// Object to RDF Conversion (§8.5.2) of a value object, in canonical N-Quads form.
/// `datatype` was checked to be an absolute IRI where it came from (a term definition or `@type`).
fn literal(value: Scalar<'_>, datatype: Option<&str>) -> Result<String> {
    let (lexical, default_type) = match value {
        Scalar::String(text) => return Ok(literal_parts_text(text, datatype)),
        Scalar::Bool(flag) => (if flag { "true" } else { "false" }.to_owned(), XSD_BOOLEAN),
        Scalar::Number(number) => {
            let double = number.as_f64().ok_or(bail("a number that is not a double"))?;
            if double.fract() != 0.0 || double.abs() >= 1e21 || datatype == Some(XSD_DOUBLE) {
                (canonical_double(double), XSD_DOUBLE)
            } else {
                (canonical_integer(number, double), XSD_INTEGER)
            }
        }
    };
    Ok(literal_parts_text(&lexical, Some(datatype.unwrap_or(default_type))))
}

/// An integral JSON number as JavaScript's `toFixed(0)` writes it (exact below 2^53, else the double).
fn canonical_integer(number: &Number, double: f64) -> String {
    const EXACT: u64 = 1 << 53;
    if let Some(n) = number.as_u64().filter(|n| *n <= EXACT) {
        n.to_string()
    } else if let Some(n) = number.as_i64().filter(|n| n.unsigned_abs() <= EXACT) {
        n.to_string()
    } else if double == 0.0 {
        "0".to_owned()
    } else {
        format!("{double:.0}")
    }
}

/// The canonical `xsd:double` form jsonld.js writes: `toExponential(15)` with trailing zeros trimmed
/// (`3.5E0`, `1.0E21`, `-1.5E-7`).
fn canonical_double(double: f64) -> String {
    let double = if double == 0.0 { 0.0 } else { double };
    let formatted = format!("{double:.15e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let mantissa = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            format!("{whole}.{}", if fraction.is_empty() { "0" } else { fraction })
        }
        None => format!("{mantissa}.0"),
    };
    format!("{mantissa}E{exponent}")
}

/// The fast path: the document's statements and blank node count, or why it bailed.
pub(super) fn to_statements(
    document: &Value,
    without: Option<&'static str>,
    loader: &dyn DocumentLoader,
    max_statements: usize,
) -> Result<(Vec<Statement>, usize)> {
    let without = if document.is_object() { without } else { None };
    let mut expander = Expander { loader, without, confirmed: Vec::new() };
    let items = expander.expand(&Context::empty(), None, document)?.unwrap_or_default();
    let mut emitter = Emitter { statements: Vec::new(), labels: HashMap::new(), blanks: 0, max_statements };
    for item in &items {
        if let Item::Graph(_) = item {
            return Err(bail("a top-level graph"));
        }
        emitter.top(item, &None)?;
    }
    Ok((emitter.statements, emitter.blanks))
}

/// Why the fast path does not take `document` (tests).
#[cfg(test)]
pub(super) fn stop_reason(document: &Value) -> Option<String> {
    to_statements(document, None, &crate::loader::BundledLoader, usize::MAX).err().map(|stop| match stop {
        Stop::Bail(reason) => reason.to_owned(),
        Stop::Unsafe(error) => error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_are_written_as_jsonld_js_does() {
        for (value, expect) in [
            (3.5, "3.5E0"),
            (1e21, "1.0E21"),
            (0.1, "1.0E-1"),
            (-2.25, "-2.25E0"),
            (1.5e-7, "1.5E-7"),
            (0.30000000000000004, "3.0E-1"),
            (std::f64::consts::PI, "3.141592653589793E0"),
            (0.0, "0.0E0"),
            (-0.0, "0.0E0"),
            (1.2345678901234567e22, "1.234567890123457E22"),
        ] {
            assert_eq!(canonical_double(value), expect, "{value}");
        }
    }
}
