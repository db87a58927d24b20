use super::general::{to_json_ld_text, to_rdf};
use super::rdfc::{canonical_nquads, to_statements};
use super::*;
use crate::contexts::{self, OB_V3P0_303, VC_V2};
use crate::loader::{BundledLoader, StaticLoader};
use serde_json::json;

const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";

/// The general JSON-LD processor (oxjsonld), as used when the fast path does not take a document.
fn canonize_general(document: &Value, limits: &CanonLimits) -> Result<String, CanonError> {
    check_shape(document, limits)?;
    let json = to_json_ld_text(document, limits)?;
    let (statements, blanks) = to_statements(to_rdf(&json, Some(document), &BundledLoader, limits)?);
    canonical_nquads(statements, blanks, limits)
}

fn unsafe_limits() -> CanonLimits {
    CanonLimits { safe_mode: false, ..CanonLimits::default() }
}

/// Canonicalizes `document` with Cairn's processor (which must take it) and with the general one, and
/// checks both against `expect` (lines in any order; `{xsd}` and `{ob}` abbreviate the namespaces).
#[track_caller]
fn check(document: Value, expect: &str) {
    let mut expect: Vec<String> =
        expect.lines().map(str::trim).filter(|line| !line.is_empty()).map(|line| line.replace("{xsd}", XSD).replace("{ob}", OB) + "\n").collect();
    expect.sort();
    let expect = expect.concat();
    assert_eq!(expand::stop_reason(&document), None, "the fast path should take {document}");
    assert_eq!(canonize(&document, &BundledLoader).as_deref(), Ok(expect.as_str()), "fast path");
    assert_eq!(canonize_general(&document, &unsafe_limits()).as_deref(), Ok(expect.as_str()), "general processor");
}

/// As [`check`], for documents the general processor gets wrong.
#[track_caller]
fn check_fast_only(document: Value, expect: &str) {
    let mut expect: Vec<String> =
        expect.lines().map(str::trim).filter(|line| !line.is_empty()).map(|line| line.replace("{xsd}", XSD).replace("{ob}", OB) + "\n").collect();
    expect.sort();
    assert_eq!(canonize(&document, &BundledLoader), Ok(expect.concat()));
}

fn ob(body: Value) -> Value {
    let mut document = json!({"@context": [VC_V2, OB_V3P0_303]});
    document.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    document
}

// Expected values below follow JSON-LD 1.1 API §8.6 (Object to RDF Conversion) and canonical N-Quads;
// each was also produced by jsonld.js 8 + rdf-canonize 5 (the DCC / Digital Bazaar stack).

#[test]
fn numbers_become_integers_or_canonical_doubles() {
    check(
        ob(json!({"id": "urn:r", "type": "Result", "value": [3, 3.0, 3.5, 1e21, 0.1, -0.0, 123456789012345678_u64,
            0.30000000000000004, 1.5e-7, true, 1.2345678901234568e22, -2.25]})),
        r#"<urn:r> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}Result> .
           <urn:r> <https://schema.org/value> "-2.25E0"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "0"^^<{xsd}integer> .
           <urn:r> <https://schema.org/value> "1.0E-1"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "1.0E21"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "1.234567890123457E22"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "1.5E-7"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "123456789012345680"^^<{xsd}integer> .
           <urn:r> <https://schema.org/value> "3"^^<{xsd}integer> .
           <urn:r> <https://schema.org/value> "3.0E-1"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "3.5E0"^^<{xsd}double> .
           <urn:r> <https://schema.org/value> "true"^^<{xsd}boolean> ."#,
    );
}

#[test]
fn twenty_one_digit_integers_are_integers_and_the_general_processor_refuses_them() {
    // oxjsonld 0.2.7 would type 10^20 as xsd:double; jsonld.js and the JSON-LD spec say xsd:integer.
    let document = ob(json!({"id": "urn:r", "type": "Result", "value": 1e20}));
    assert_eq!(
        canonize(&document, &BundledLoader).unwrap(),
        format!(
            "<urn:r> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{OB}Result> .\n<urn:r> <https://schema.org/value> \"100000000000000000000\"^^<{XSD}integer> .\n"
        )
    );
    assert!(matches!(canonize_general(&document, &unsafe_limits()), Err(CanonError::JsonLd(_))));
}

#[test]
fn credits_keep_the_ob_float_datatype() {
    // OB 3.0 types creditsEarned as "https://www.w3.org/2001/XMLSchema#float" (sic: https).
    for (credits, lexical) in [(json!(3.0), "3"), (json!(3), "3"), (json!(3.5), "3.5E0"), (json!(1e21), "1.0E21"), (json!(0.25), "2.5E-1")] {
        check(
            ob(json!({"id": "urn:s", "type": "AchievementSubject", "creditsEarned": credits})),
            &format!(
                r#"<urn:s> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{{ob}}AchievementSubject> .
                   <urn:s> <{{ob}}creditsEarned> "{lexical}"^^<https://www.w3.org/2001/XMLSchema#float> ."#
            ),
        );
    }
}

#[test]
fn strings_are_escaped_as_canonical_nquads() {
    check(
        ob(json!({"id": "urn:r", "type": "Result", "value": ["tab\there", "ctl\u{1}\u{7}\u{b}\u{1f}\u{7f} end",
            "bs\u{8} ff\u{c} nl\n cr\r", "quote\" backslash\\", "Évalué 評価 😀 \u{e9}\u{2028}"]})),
        "<urn:r> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}Result> .
         <urn:r> <https://schema.org/value> \"bs\\b ff\\f nl\\n cr\\r\" .
         <urn:r> <https://schema.org/value> \"ctl\\u0001\\u0007\\u000B\\u001F\\u007F end\" .
         <urn:r> <https://schema.org/value> \"quote\\\" backslash\\\\\" .
         <urn:r> <https://schema.org/value> \"tab\\there\" .
         <urn:r> <https://schema.org/value> \"Évalué 評価 😀 é\u{2028}\" .",
    );
}

#[test]
fn allowed_values_are_an_ordered_rdf_list() {
    check(
        ob(json!({"id": "urn:rd", "type": "ResultDescription", "allowedValue": ["Not yet", "Pass", "Pass"]})),
        r#"<urn:rd> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}ResultDescription> .
           <urn:rd> <{ob}allowedValue> _:c14n1 .
           _:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "Pass" .
           _:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> <http://www.w3.org/1999/02/22-rdf-syntax-ns#nil> .
           _:c14n1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "Not yet" .
           _:c14n1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> _:c14n2 .
           _:c14n2 <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> "Pass" .
           _:c14n2 <http://www.w3.org/1999/02/22-rdf-syntax-ns#rest> _:c14n0 ."#,
    );
    check(
        ob(json!({"id": "urn:rd", "type": "ResultDescription", "allowedValue": []})),
        r#"<urn:rd> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}ResultDescription> .
           <urn:rd> <{ob}allowedValue> <http://www.w3.org/1999/02/22-rdf-syntax-ns#nil> ."#,
    );
}

#[test]
fn language_tags_are_lowercased() {
    check(
        json!({"@context": [VC_V2], "id": "urn:x", "name": [{"@value": "Badge", "@language": "en-GB"}, {"@value": "Insigne", "@language": "fr"}]}),
        r#"<urn:x> <https://schema.org/name> "Badge"@en-gb .
           <urn:x> <https://schema.org/name> "Insigne"@fr ."#,
    );
}

#[test]
fn undefined_terms_are_refused_in_safe_mode_and_dropped_otherwise() {
    // VC 2.0 has no @vocab: "extra" is defined by nothing, so JSON-LD drops it (jsonld.js gives no quads).
    let document = json!({"@context": [VC_V2], "id": "urn:x", "extra": 3});
    assert_eq!(canonize(&document, &BundledLoader), Err(CanonError::UndefinedTerm { term: "extra".into() }));
    assert_eq!(canonize_with(&document, &BundledLoader, &unsafe_limits()), Ok(String::new()));
    let typed = ob(json!({"id": "urn:x", "type": ["VerifiableCredential", "Diploma"]}));
    assert_eq!(canonize(&typed, &BundledLoader), Err(CanonError::UndefinedTerm { term: "Diploma".into() }));
    let relative = ob(json!({"id": "credentials/1", "type": "VerifiableCredential"}));
    assert_eq!(canonize(&relative, &BundledLoader), Err(CanonError::RelativeIri { value: "credentials/1".into() }));
}

#[test]
fn unknown_contexts_are_refused() {
    for context in [json!("https://example.org/context.json"), json!([VC_V2, "https://w3id.org/vc/status-list/2021/v9"])] {
        let document = json!({"@context": context, "id": "urn:x"});
        let url = match &document["@context"] {
            Value::Array(urls) => urls[1].as_str().unwrap().to_owned(),
            url => url.as_str().unwrap().to_owned(),
        };
        assert_eq!(canonize(&document, &BundledLoader), Err(CanonError::UnknownContext { url: url.clone() }));
        assert_eq!(canonize_with(&document, &BundledLoader, &unsafe_limits()), Err(CanonError::UnknownContext { url }));
    }
}

#[test]
fn supplied_contexts_need_the_general_processor() {
    let custom = "https://issuer.example/context.json";
    let loader = StaticLoader::new().with(custom, &json!({"@context": {"extra": "https://issuer.example/extra"}}));
    let document = json!({"@context": [VC_V2, custom], "id": "urn:x", "extra": "y"});
    assert!(matches!(canonize(&document, &loader), Err(CanonError::Unsupported { .. })));
    assert_eq!(canonize_with(&document, &loader, &unsafe_limits()), Ok("<urn:x> <https://issuer.example/extra> \"y\" .\n".to_owned()));
}

#[test]
fn inline_contexts_need_the_general_processor() {
    let document = json!({"@context": [VC_V2, {"extra": "https://issuer.example/extra"}], "id": "urn:x", "extra": "y"});
    assert!(matches!(canonize(&document, &BundledLoader), Err(CanonError::Unsupported { .. })));
    assert_eq!(canonize_with(&document, &BundledLoader, &unsafe_limits()), Ok("<urn:x> <https://issuer.example/extra> \"y\" .\n".to_owned()));
}

#[test]
fn protected_terms_cannot_be_redefined() {
    // OB 3.0.1 redefines terms VC 2.0 protects; the general processor reports the JSON-LD error.
    let document = json!({"@context": [VC_V2, contexts::OB_V3P0_301], "id": "urn:x", "name": "n"});
    assert!(matches!(canonize_with(&document, &BundledLoader, &unsafe_limits()), Err(CanonError::JsonLd(_))));
    assert!(canonize(&document, &BundledLoader).is_err());
}

#[test]
fn bundled_context_stacks_take_the_fast_path() {
    for context in [
        json!([VC_V2]),
        json!([VC_V2, OB_V3P0_303]),
        json!([VC_V2, contexts::OB_V3P0_302]),
        json!([VC_V2, OB_V3P0_303, contexts::OB_V3P0_EXTENSIONS]),
        json!([VC_V2, contexts::CLR_V2P0_201, OB_V3P0_303, contexts::OB_V3P0_EXTENSIONS]),
        json!([VC_V2, contexts::DATA_INTEGRITY_V2]),
        json!([contexts::DID_V1, contexts::MULTIKEY_V1]),
        json!([contexts::VC_V1, contexts::OB_V3P0_301, contexts::DATA_INTEGRITY_V1]),
        json!([contexts::VC_V1, contexts::OB_V3P0, contexts::ED25519_2020_V1]),
        json!([contexts::VC_V1, contexts::STATUS_LIST_2021_V1]),
        json!([contexts::VC_V1, contexts::STATUS_V1]),
    ] {
        let document = json!({"@context": context, "id": "urn:x"});
        assert_eq!(expand::stop_reason(&document), None, "{}", document["@context"]);
    }
}

/// Every fixture document, and many mutations of them, canonicalize the same through both processors
/// whenever Cairn's processor takes them.
#[test]
fn both_processors_agree_on_fixtures_and_their_mutations() {
    let fixtures = [
        include_str!("../../tests/fixtures/di/ob3-ldp-test-vector/credential-signed.json"),
        include_str!("../../tests/fixtures/di/clr2-ldp-test-vector/credential-signed.json"),
        include_str!("../../tests/fixtures/di/cairn/ob3-rubric-unsigned.json"),
        include_str!("../../tests/fixtures/di/1edtech-validator/simple.json"),
        include_str!("../../tests/fixtures/di/1edtech-validator/simple-eddsa-2022.json"),
        include_str!("../../tests/fixtures/di/1edtech-validator/simple-did-key-method.json"),
        include_str!("../../tests/fixtures/di/interop/ob3-di-valid.json"),
    ];
    let mut documents: Vec<Value> = fixtures.iter().map(|text| serde_json::from_str(text).unwrap()).collect();
    documents.push(crate::did::did_document("did:web:example.org", "z6MkTest", &["did:key:z6MkTest".into()]));
    let mut compared = 0;
    for (index, document) in documents.iter().enumerate() {
        assert_eq!(expand::stop_reason(document), None, "fixture {index}");
        let mut variants = vec![document.clone()];
        mutations(document, &mut Vec::new(), &mut variants, if index < 3 { 400 } else { 60 });
        for variant in variants {
            let limits = unsafe_limits();
            let Ok((statements, blanks)) = expand::to_statements(&variant, None, &BundledLoader, usize::MAX) else { continue };
            let fast = canonical_nquads(statements, blanks, &limits);
            let general = canonize_general(&variant, &limits);
            if matches!(&general, Err(CanonError::JsonLd(message)) if message.contains("protected term")) {
                // oxjsonld 0.2.7 sometimes keeps a type-scoped context active in a nested node object
                // (JSON-LD 1.1 §5.1.2 step 7 reverts it) and then sees a protected term redefined; see
                // `a_type_scoped_context_does_not_reach_nested_nodes`. jsonld.js agrees with Cairn on
                // every such variant (9 when this test was written).
                continue;
            }
            assert_eq!(fast, general, "{variant}");
            compared += 1;
        }
    }
    assert!(compared > 500, "only {compared} variants compared");
}

#[test]
fn a_type_scoped_context_does_not_reach_nested_nodes() {
    // The Achievement context (with its own "resultDescription") must not be active inside the creator
    // node, or applying the Result context would redefine a protected term. jsonld.js gives these quads;
    // oxjsonld 0.2.7 reports "Overriding the protected term resultDescription".
    let document = ob(json!({"id": "urn:a", "type": "Achievement", "creator": {"id": "urn:c", "type": "Result"}}));
    check_fast_only(
        document,
        r#"<urn:a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}Achievement> .
           <urn:a> <{ob}creator> <urn:c> .
           <urn:c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ob}Result> ."#,
    );
}

/// Pushes variants of `document`: each entry removed, strings replaced by other JSON values, arrays
/// reordered or emptied, nested objects given another type.
fn mutations(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Value>, budget: usize) {
    let root = out[0].clone();
    let replace = |path: &[Value], with: Option<Value>, out: &mut Vec<Value>| {
        if out.len() >= budget {
            return;
        }
        let mut variant = root.clone();
        let mut cursor = &mut variant;
        for step in &path[..path.len() - 1] {
            cursor = match step {
                Value::String(key) => &mut cursor[key.as_str()],
                Value::Number(index) => &mut cursor[index.as_u64().unwrap() as usize],
                _ => unreachable!(),
            };
        }
        match (path.last().unwrap(), with, cursor) {
            (Value::String(key), None, Value::Object(entries)) => {
                entries.remove(key.as_str());
            }
            (Value::String(key), Some(with), Value::Object(entries)) => {
                entries.insert(key.clone(), with);
            }
            (Value::Number(index), Some(with), Value::Array(items)) => items[index.as_u64().unwrap() as usize] = with,
            (Value::Number(index), None, Value::Array(items)) => {
                items.remove(index.as_u64().unwrap() as usize);
            }
            _ => {}
        }
        out.push(variant);
    };
    match value {
        Value::Object(entries) => {
            for (key, item) in entries {
                path.push(Value::String(key.clone()));
                if key != "@context" {
                    replace(path, None, out);
                    if !path.is_empty() && item.is_string() {
                        for with in [json!(7), json!(2.5), json!(true), json!(["a", "b"]), json!({"id": "urn:m"}), json!(null), json!("urn:z")] {
                            replace(path, Some(with), out);
                        }
                    }
                    if item.is_object() {
                        let mut typed = item.clone();
                        for type_name in ["Achievement", "Profile", "Result", "VerifiableCredential"] {
                            typed["type"] = json!(type_name);
                            replace(path, Some(typed.clone()), out);
                        }
                    }
                    mutations(item, path, out, budget);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let mut reversed = items.clone();
            reversed.reverse();
            replace(path, Some(Value::Array(reversed)), out);
            replace(path, Some(json!([])), out);
            for (index, item) in items.iter().enumerate() {
                path.push(json!(index));
                if items.len() > 1 {
                    replace(path, None, out);
                }
                mutations(item, path, out, budget);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Cairn's RDFC-1.0 agrees with oxrdf's on random datasets, including symmetric ones.
#[test]
fn rdfc_agrees_with_oxrdf_on_random_datasets() {
    use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
    use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, Quad};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    let limits = CanonLimits { max_work_factor: 3, ..CanonLimits::default() };
    let mut compared = 0;
    for round in 0..300 {
        let blanks = rng.gen_range(1..=7);
        let predicates = rng.gen_range(1..=3);
        let mut quads = Vec::new();
        for _ in 0..rng.gen_range(1..=14) {
            let blank = |rng: &mut rand::rngs::StdRng| BlankNode::new_unchecked(format!("n{}", rng.gen_range(0..blanks)));
            let predicate = NamedNode::new_unchecked(format!("http://example.org/p{}", rng.gen_range(0..predicates)));
            let subject: oxrdf::NamedOrBlankNode =
                if rng.gen_bool(0.85) { blank(&mut rng).into() } else { NamedNode::new_unchecked("http://example.org/s").into() };
            let object: oxrdf::Term = match rng.gen_range(0..10) {
                0 => Literal::new_simple_literal(format!("v{}", rng.gen_range(0..2))).into(),
                1 => NamedNode::new_unchecked("http://example.org/o").into(),
                _ => blank(&mut rng).into(),
            };
            let graph = if round % 3 == 0 && rng.gen_bool(0.3) { GraphName::from(blank(&mut rng)) } else { GraphName::DefaultGraph };
            quads.push(Quad::new(subject, predicate, object, graph));
        }
        let mut dataset: Dataset = quads.iter().cloned().collect();
        let (statements, blank_count) = to_statements(dataset.iter().map(|quad| quad.into_owned()).collect());
        let ours = match canonical_nquads(statements, blank_count, &limits) {
            Ok(ours) => ours,
            Err(CanonError::TooComplex(_)) => continue,
            Err(error) => panic!("{error}"),
        };
        dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 { hash_algorithm: CanonicalizationHashAlgorithm::Sha256 });
        let mut theirs: Vec<String> = dataset.iter().map(|quad| format!("{quad} .\n")).collect();
        theirs.sort();
        assert_eq!(ours, theirs.concat(), "round {round}");
        compared += 1;
    }
    assert!(compared > 250, "only {compared} datasets compared");
}

/// A complete graph of identical blank nodes (RDFC-1.0 §6 "dataset poisoning") is refused when it
/// goes over the work limits, which count Hash N-Degree Quads calls and permutations.
#[test]
fn poisoned_graphs_are_refused_by_the_work_limits() {
    let nodes = 40;
    let members: Vec<Value> = (0..nodes)
        .map(|i| {
            let others: Vec<Value> = (0..nodes).filter(|j| *j != i).map(|j| json!({"id": format!("_:b{j}")})).collect();
            json!({"id": format!("_:b{i}"), "type": "Profile", "parentOrg": others})
        })
        .collect();
    let document = ob(json!({"id": "urn:root", "type": "Achievement", "creator": members}));
    let outcome = canonize(&document, &BundledLoader);
    assert!(matches!(outcome, Err(CanonError::TooComplex(Complexity::DeepIterations { .. } | Complexity::Permutations { .. }))), "{outcome:?}");
}

#[test]
fn hostile_shapes_are_refused_before_parsing() {
    let deep_text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(parse_json(deep_text.as_bytes(), &CanonLimits::default()).unwrap_err(), CanonError::TooDeep { limit: 64 });
    let big_text = format!("{{\"@context\": \"{VC_V2}\", \"name\": \"{}\"}}", "x".repeat(5 << 20));
    assert_eq!(parse_json(big_text.as_bytes(), &CanonLimits::default()).unwrap_err(), CanonError::TooLarge { limit: 1 << 20 });
    // Escaped brackets in strings do not count as nesting.
    assert!(parse_json(br#"{"a": "[[[[[[[[[[{{{{{\"\\"}"#, &CanonLimits { max_depth: 2, ..CanonLimits::default() }).is_ok());

    let mut deep = json!("leaf");
    for _ in 0..100 {
        deep = json!({"@context": VC_V2, "name": [deep]});
    }
    assert_eq!(canonize(&deep, &BundledLoader), Err(CanonError::TooDeep { limit: 64 }));
    let big = json!({"@context": VC_V2, "name": "x".repeat(2 << 20)});
    assert_eq!(canonize(&big, &BundledLoader), Err(CanonError::TooLarge { limit: 1 << 20 }));
}

#[test]
fn quad_and_blank_node_counts_are_limited() {
    let many: Vec<Value> = (0..50).map(|i| json!({"type": "Result", "value": i})).collect();
    let document = ob(json!({"id": "urn:s", "type": "AchievementSubject", "result": many}));
    let quads = CanonLimits { max_quads: 100, ..CanonLimits::default() };
    assert_eq!(canonize_with(&document, &BundledLoader, &quads), Err(CanonError::TooComplex(Complexity::Quads { limit: 100 })));
    let blanks = CanonLimits { max_blank_nodes: 10, ..CanonLimits::default() };
    assert_eq!(canonize_with(&document, &BundledLoader, &blanks), Err(CanonError::TooComplex(Complexity::BlankNodes { count: 50, limit: 10 })));
    assert!(canonize(&document, &BundledLoader).is_ok());
}
