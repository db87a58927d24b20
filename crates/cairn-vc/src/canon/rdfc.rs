//! RDFC-1.0 (<https://www.w3.org/TR/rdf-canon/>), over quads whose IRIs and literals are pre-serialized,
//! and the canonical N-Quads they are written as.
//!
//! Written here rather than taken from `oxrdf::Dataset::canonicalize`, which has no work limit: the
//! algorithm is exponential on "poison" graphs (RDFC-1.0 §6), so Hash N-Degree Quads calls and
//! permutations are counted against [`CanonLimits`] as `rdf-canonize` counts them. Quads are numbered
//! and pre-serialized once, so that hashing and sorting work on strings rather than terms.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use oxrdf::{GraphName, Literal, NamedOrBlankNode, Quad, Term};
use sha2::{Digest, Sha256};

use super::{CanonError, CanonLimits, Complexity};

/// A quad component: an IRI or literal already in canonical N-Quads form, or a blank node by index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Node {
    Fixed(Arc<str>),
    Blank(usize),
}

/// A quad with pre-serialized components; `graph` is `None` for the default graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Statement {
    pub(super) subject: Node,
    pub(super) predicate: Arc<str>,
    pub(super) object: Node,
    pub(super) graph: Option<Node>,
}

impl Statement {
    fn nodes(&self) -> impl Iterator<Item = (&Node, Position)> {
        [(Some(&self.subject), Position::Subject), (Some(&self.object), Position::Object), (self.graph.as_ref(), Position::Graph)]
            .into_iter()
            .filter_map(|(node, position)| node.map(|node| (node, position)))
    }

    /// Appends the N-Quads line, naming blank node `n` by `name(n)`.
    fn write(&self, out: &mut String, mut name: impl FnMut(usize, &mut String)) {
        let mut node = |node: &Node, out: &mut String| match node {
            Node::Fixed(text) => out.push_str(text),
            Node::Blank(index) => {
                out.push_str("_:");
                name(*index, out);
            }
        };
        node(&self.subject, out);
        out.push(' ');
        out.push_str(&self.predicate);
        out.push(' ');
        node(&self.object, out);
        if let Some(graph) = &self.graph {
            out.push(' ');
            node(graph, out);
        }
        out.push_str(" .\n");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Subject,
    Object,
    Graph,
}

/// RDFC-1.0 Identifier Issuer (§4.3).
#[derive(Debug, Clone)]
struct Issuer {
    prefix: &'static str,
    issued: HashMap<usize, usize>,
    order: Vec<usize>,
}

impl Issuer {
    fn new(prefix: &'static str) -> Self {
        Self { prefix, issued: HashMap::new(), order: Vec::new() }
    }

    fn get(&self, node: usize) -> Option<usize> {
        self.issued.get(&node).copied()
    }

    /// Issue Identifier (§4.5): the existing number for `node`, or the next one.
    fn issue(&mut self, node: usize) -> usize {
        let next = self.order.len();
        *self.issued.entry(node).or_insert_with(|| {
            self.order.push(node);
            next
        })
    }

    fn write(&self, number: usize, out: &mut String) {
        out.push_str(self.prefix);
        let _ = write!(out, "{number}");
    }
}

struct Canonicalizer<'a> {
    statements: &'a [Statement],
    /// For each blank node, the indexes of the statements that mention it (§4.4.3 step 2).
    mentions: Vec<Vec<usize>>,
    first_degree: Vec<String>,
    canonical: Issuer,
    deep_iterations_left: usize,
    deep_iterations_limit: usize,
    permutations_left: usize,
    permutations_limit: usize,
}

fn sha256_hex(data: &str) -> String {
    hex::encode(Sha256::digest(data.as_bytes()))
}

/// Canonicalizes `quads` and returns the sorted canonical N-Quads (§4.4.3 step 7 and §4.4.4 serialization).
pub(super) fn canonical_nquads(mut statements: Vec<Statement>, blank_count: usize, limits: &CanonLimits) -> Result<String, CanonError> {
    // A dataset is a set: duplicate quads would change first-degree hashes.
    statements.sort_unstable();
    statements.dedup();
    if blank_count > limits.max_blank_nodes {
        return Err(CanonError::TooComplex(Complexity::BlankNodes { count: blank_count, limit: limits.max_blank_nodes }));
    }
    let labels = canonical_labels(&statements, blank_count, limits)?;
    Ok(sorted_lines(statements.iter(), |index, out| {
        out.push_str("c14n");
        let _ = write!(out, "{}", labels[index]);
    }))
}

/// The N-Quads lines of `statements`, sorted in code point order (UTF-8 byte order) and concatenated
/// (duplicates are kept: Hash First Degree Quads hashes them all). Lines are written into one buffer and
/// sorted as ranges, to spare an allocation per line.
fn sorted_lines<'s>(statements: impl Iterator<Item = &'s Statement>, mut name: impl FnMut(usize, &mut String)) -> String {
    let mut buffer = String::with_capacity(4096);
    let mut ranges = Vec::new();
    for statement in statements {
        let start = buffer.len();
        statement.write(&mut buffer, &mut name);
        ranges.push(start..buffer.len());
    }
    ranges.sort_unstable_by(|left, right| buffer[left.clone()].cmp(&buffer[right.clone()]));
    let mut out = String::with_capacity(buffer.len());
    for range in ranges {
        out.push_str(&buffer[range]);
    }
    out
}

/// RDFC-1.0 §4.4.3 steps 1–6: the canonical number of each blank node (`c14n<number>`).
fn canonical_labels(statements: &[Statement], blank_count: usize, limits: &CanonLimits) -> Result<Vec<usize>, CanonError> {
    let mut mentions = vec![Vec::new(); blank_count];
    for (index, statement) in statements.iter().enumerate() {
        for (node, _) in statement.nodes() {
            if let Node::Blank(blank) = node {
                let list: &mut Vec<usize> = &mut mentions[*blank];
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
        }
    }
    let mut canonicalizer = Canonicalizer {
        statements,
        mentions,
        first_degree: Vec::with_capacity(blank_count),
        canonical: Issuer::new("c14n"),
        deep_iterations_left: 0,
        deep_iterations_limit: 0,
        permutations_left: limits.max_permutations,
        permutations_limit: limits.max_permutations,
    };
    // Step 3: first-degree hashes of the blank nodes that occur in a quad.
    let mut by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for blank in 0..blank_count {
        if canonicalizer.mentions[blank].is_empty() {
            canonicalizer.first_degree.push(String::new());
            continue;
        }
        let hash = canonicalizer.hash_first_degree(blank);
        by_hash.entry(hash.clone()).or_default().push(blank);
        canonicalizer.first_degree.push(hash);
    }
    // Step 4: blank nodes with a unique hash get their canonical identifier in hash order.
    let mut shared = Vec::new();
    for (_, blanks) in by_hash {
        if let [only] = blanks[..] {
            canonicalizer.canonical.issue(only);
        } else {
            shared.push(blanks);
        }
    }
    // The deep iteration budget, as rdf-canonize computes it.
    let non_unique: usize = shared.iter().map(Vec::len).sum();
    let budget = u32::try_from(non_unique).ok().and_then(|n| usize::try_from(u64::from(n).checked_pow(limits.max_work_factor)?).ok()).unwrap_or(usize::MAX);
    canonicalizer.deep_iterations_left = budget;
    canonicalizer.deep_iterations_limit = budget;
    // Step 5: the rest, by N-degree hashes.
    for blanks in shared {
        let mut hash_paths = Vec::new();
        for blank in blanks {
            if canonicalizer.canonical.get(blank).is_some() {
                continue;
            }
            let mut temporary = Issuer::new("b");
            temporary.issue(blank);
            hash_paths.push(canonicalizer.hash_n_degree(blank, temporary)?);
        }
        hash_paths.sort_by(|(left, _), (right, _)| left.cmp(right));
        for (_, issuer) in hash_paths {
            for blank in issuer.order {
                canonicalizer.canonical.issue(blank);
            }
        }
    }
    Ok((0..blank_count).map(|blank| canonicalizer.canonical.get(blank).unwrap_or(usize::MAX)).collect())
}

impl Canonicalizer<'_> {
    /// Hash First Degree Quads (§4.6.3).
    fn hash_first_degree(&self, reference: usize) -> String {
        let statements = self.mentions[reference].iter().map(|&index| &self.statements[index]);
        sha256_hex(&sorted_lines(statements, |blank, out| out.push(if blank == reference { 'a' } else { 'z' })))
    }

    /// Hash Related Blank Node (§4.7.3).
    fn hash_related(&self, related: usize, statement: &Statement, issuer: &Issuer, position: Position) -> String {
        let mut input = String::new();
        input.push(match position {
            Position::Subject => 's',
            Position::Object => 'o',
            Position::Graph => 'g',
        });
        if position != Position::Graph {
            input.push_str(&statement.predicate);
        }
        if let Some(number) = self.canonical.get(related) {
            input.push_str("_:");
            self.canonical.write(number, &mut input);
        } else if let Some(number) = issuer.get(related) {
            input.push_str("_:");
            issuer.write(number, &mut input);
        } else {
            input.push_str(&self.first_degree[related]);
        }
        sha256_hex(&input)
    }

    /// Hash N-Degree Quads (§4.8.3), counting deep iterations and permutations against the limits.
    fn hash_n_degree(&mut self, identifier: usize, mut issuer: Issuer) -> Result<(String, Issuer), CanonError> {
        if self.deep_iterations_left == 0 {
            return Err(CanonError::TooComplex(Complexity::DeepIterations { limit: self.deep_iterations_limit }));
        }
        self.deep_iterations_left -= 1;
        // Steps 1–3: related blank nodes by hash.
        let mut related_by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &index in &self.mentions[identifier] {
            let statement = &self.statements[index];
            for (node, position) in statement.nodes() {
                if let Node::Blank(related) = *node
                    && related != identifier
                {
                    let hash = self.hash_related(related, statement, &issuer, position);
                    related_by_hash.entry(hash).or_default().push(related);
                }
            }
        }
        // Steps 4–5.
        let mut data_to_hash = String::new();
        for (related_hash, mut blanks) in related_by_hash {
            data_to_hash.push_str(&related_hash);
            let mut chosen_path = String::new();
            let mut chosen_issuer: Option<Issuer> = None;
            blanks.sort_unstable();
            let mut permutation = Some(blanks);
            'permutations: while let Some(current) = permutation.take() {
                if self.permutations_left == 0 {
                    return Err(CanonError::TooComplex(Complexity::Permutations { limit: self.permutations_limit }));
                }
                self.permutations_left -= 1;
                let mut next = current.clone();
                permutation = next_permutation(&mut next).then_some(next);

                let mut issuer_copy = issuer.clone();
                let mut path = String::new();
                let mut recursion = Vec::new();
                for &related in &current {
                    path.push_str("_:");
                    if let Some(number) = self.canonical.get(related) {
                        self.canonical.write(number, &mut path);
                    } else {
                        if issuer_copy.get(related).is_none() {
                            recursion.push(related);
                        }
                        let number = issuer_copy.issue(related);
                        issuer_copy.write(number, &mut path);
                    }
                    if !chosen_path.is_empty() && path.len() >= chosen_path.len() && path > chosen_path {
                        continue 'permutations;
                    }
                }
                for related in recursion {
                    let number = issuer_copy.issue(related);
                    path.push_str("_:");
                    issuer_copy.write(number, &mut path);
                    let (hash, result_issuer) = self.hash_n_degree(related, issuer_copy)?;
                    path.push('<');
                    path.push_str(&hash);
                    path.push('>');
                    issuer_copy = result_issuer;
                    if !chosen_path.is_empty() && path.len() >= chosen_path.len() && path > chosen_path {
                        continue 'permutations;
                    }
                }
                if chosen_issuer.is_none() || path < chosen_path {
                    chosen_path = path;
                    chosen_issuer = Some(issuer_copy);
                }
            }
            data_to_hash.push_str(&chosen_path);
            if let Some(chosen) = chosen_issuer {
                issuer = chosen;
            }
        }
        Ok((sha256_hex(&data_to_hash), issuer))
    }
}

/// Steps `items` to the next permutation in lexicographic order; false after the last one.
fn next_permutation(items: &mut [usize]) -> bool {
    let Some(pivot) = items.windows(2).rposition(|pair| pair[0] < pair[1]) else {
        return false;
    };
    let Some(successor) = items.iter().rposition(|&item| item > items[pivot]) else {
        return false;
    };
    items.swap(pivot, successor);
    items[pivot + 1..].reverse();
    true
}

/// Pre-serializes IRIs and literals and numbers the blank nodes.
pub(super) fn to_statements(quads: Vec<Quad>) -> (Vec<Statement>, usize) {
    let mut blanks: HashMap<String, usize> = HashMap::new();
    let mut blank = |label: &str| {
        let next = blanks.len();
        *blanks.entry(label.to_owned()).or_insert(next)
    };
    let statements = quads
        .into_iter()
        .map(|quad| Statement {
            subject: match &quad.subject {
                NamedOrBlankNode::NamedNode(iri) => Node::Fixed(iri_text(iri.as_str()).into()),
                NamedOrBlankNode::BlankNode(node) => Node::Blank(blank(node.as_str())),
            },
            predicate: iri_text(quad.predicate.as_str()).into(),
            object: match &quad.object {
                Term::NamedNode(iri) => Node::Fixed(iri_text(iri.as_str()).into()),
                Term::BlankNode(node) => Node::Blank(blank(node.as_str())),
                Term::Literal(literal) => Node::Fixed(literal_text(literal).into()),
                #[allow(unreachable_patterns)]
                other => Node::Fixed(other.to_string().into()),
            },
            graph: match &quad.graph_name {
                GraphName::DefaultGraph => None,
                GraphName::NamedNode(iri) => Some(Node::Fixed(iri_text(iri.as_str()).into())),
                GraphName::BlankNode(node) => Some(Node::Blank(blank(node.as_str()))),
            },
        })
        .collect();
    (statements, blanks.len())
}

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

/// `<iri>`, escaping what may not appear in an N-Quads IRI as `\u00XX` (as rdf-canonize does).
pub(super) fn iri_text(iri: &str) -> String {
    let mut out = String::with_capacity(iri.len() + 2);
    let plain = |c: char| !matches!(c, '\u{0}'..='\u{20}' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\');
    if iri.chars().all(plain) {
        out.push('<');
        out.push_str(iri);
        out.push('>');
        return out;
    }
    out.push('<');
    for c in iri.chars() {
        match c {
            '\u{0}'..='\u{20}' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

/// A literal in canonical N-Quads form (RDF 1.1 N-Quads, canonical form as in RDFC-1.0 §4.4.4).
fn literal_text(literal: &Literal) -> String {
    match literal.language() {
        Some(language) => {
            let mut out = literal_parts_text(literal.value(), None);
            out.push('@');
            out.push_str(language);
            out
        }
        None => literal_parts_text(literal.value(), Some(literal.datatype().as_str())),
    }
}

/// `"value"` escaped as canonical N-Quads (as rdf-canonize does), then `^^<datatype>` unless it is
/// `xsd:string` (or `rdf:langString`, whose tag the caller appends).
pub(super) fn literal_parts_text(value: &str, datatype: Option<&str>) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    if let Some(datatype) = datatype.filter(|datatype| *datatype != XSD_STRING && *datatype != RDF_LANG_STRING) {
        out.push_str("^^");
        out.push_str(&iri_text(datatype));
    }
    out
}
