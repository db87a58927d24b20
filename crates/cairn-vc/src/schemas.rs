//! The official JSON schemas (draft 2019-09) of what the verification pipeline reads, bundled and
//! pinned; never fetched.
//!
//! Each schema is the published file, embedded at build time from `schemas/` (the folder mirrors the
//! official URL; `schemas/SOURCES.md` records each file's origin and sha256, and a test recomputes
//! the digests). Every `$ref` in them points inside the same file, so nothing is resolved from
//! anywhere else. Each schema is compiled once per process, on first use.
//!
//! The schemas describe JSON: a member that JSON-LD allows as one value or a set (`proof`,
//! `endorsement`, …) is `"type": "array"` there. [`validate`] reads a single value where the schema
//! wants an array as the one-element array it stands for (JSON-LD 1.1 §4.3.2, "Representing
//! Singular Values as Arrays"), so that a credential with one `proof` object is judged on its
//! content, not on that spelling.
//!
//! ```
//! use cairn_vc::schemas::{self, Schema};
//! use serde_json::json;
//!
//! let errors = schemas::validate(Schema::AchievementCredential, &json!({"type": ["VerifiableCredential"]})).unwrap_err();
//! assert!(errors.iter().any(|e| e.pointer.is_empty() && e.message.contains("\"@context\" is a required property")));
//! ```

use std::sync::OnceLock;

use serde_json::Value;

/// A bundled schema: its official URL, the file under `schemas/` and the published bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledSchema {
    /// The URL credentials name in `credentialSchema`.
    pub url: &'static str,
    /// The file under `schemas/` (host and path of `url`).
    pub file: &'static str,
    /// The published JSON, byte for byte.
    pub json: &'static str,
}

/// The schemas the pipeline checks documents against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// OB 3.0 `AchievementCredential` (also `OpenBadgeCredential`).
    AchievementCredential,
    /// OB 3.0 `EndorsementCredential`.
    EndorsementCredential,
    /// OB 3.0 `Profile`.
    Profile,
    /// CLR 2.0 `ClrCredential`.
    ClrCredential,
}

impl Schema {
    /// Every schema, in the order of [`BUNDLED`].
    pub const ALL: [Schema; 4] = [Schema::AchievementCredential, Schema::EndorsementCredential, Schema::Profile, Schema::ClrCredential];

    /// The bundled file.
    pub fn bundled(self) -> &'static BundledSchema {
        &BUNDLED[self as usize]
    }

    /// A short name for reports ("OB 3.0 AchievementCredential").
    pub fn name(self) -> &'static str {
        match self {
            Schema::AchievementCredential => "OB 3.0 AchievementCredential",
            Schema::EndorsementCredential => "OB 3.0 EndorsementCredential",
            Schema::Profile => "OB 3.0 Profile",
            Schema::ClrCredential => "CLR 2.0 ClrCredential",
        }
    }
}

macro_rules! bundled {
    ($($url:literal => $file:literal,)*) => {
        /// Every bundled schema, in the order of [`Schema::ALL`] and `schemas/SOURCES.md`.
        pub const BUNDLED: &[BundledSchema] = &[
            $(BundledSchema { url: $url, file: $file, json: include_str!(concat!("../schemas/", $file)) },)*
        ];
    };
}

bundled! {
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
        => "purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
        => "purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_profile_schema.json"
        => "purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_profile_schema.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
        => "purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json",
}

/// One way a document breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Where, as a JSON Pointer into the document (`""` is the document itself).
    pub pointer: String,
    /// What is wrong, shortened to a line.
    pub message: String,
    /// The schema keyword that failed (`required`, `type`, `enum`, `anyOf`, …).
    pub keyword: String,
    /// Whether the only problem is that a value lies outside a closed list or a form: `enum`,
    /// `const`, `pattern`, `format`, `contains` over a list of strings (a `type` list without the
    /// expected term), or `anyOf`/`oneOf` whose every alternative failed only so, at the same place.
    /// The value is there and of the right JSON type; another issuer's vocabulary, not a broken
    /// structure.
    pub vocabulary: bool,
}

/// How deep [`as_arrays`] follows the schema: far more than the OB 3.0 schemas nest, and a bound
/// on `$ref` chains that descend into nothing.
const MAX_SCHEMA_DEPTH: usize = 256;

/// The longest message kept; schema messages can quote whole sub-documents.
const MAX_MESSAGE_CHARS: usize = 160;

/// A compiled bundled schema and its JSON (for [`as_arrays`]).
struct Compiled {
    validator: jsonschema::Validator,
    json: Value,
}

fn compiled(schema: Schema) -> Result<&'static Compiled, String> {
    static COMPILED: [OnceLock<Result<Compiled, String>>; Schema::ALL.len()] = [const { OnceLock::new() }; Schema::ALL.len()];
    COMPILED[schema as usize]
        .get_or_init(|| {
            let json: Value = serde_json::from_str(schema.bundled().json).map_err(|e| e.to_string())?;
            let validator = jsonschema::draft201909::options().should_validate_formats(true).build(&json).map_err(|e| e.to_string())?;
            Ok(Compiled { validator, json })
        })
        .as_ref()
        .map_err(|e| format!("the bundled {} schema does not compile: {e}", schema.name()))
}

/// Checks `document` against the bundled `schema`, with singular values read as one-element arrays
/// where the schema wants an array.
///
/// # Errors
/// Every [`SchemaError`] of the document, in the validator's order; a bundled schema that does not
/// compile (which a test rules out) is reported as one error at the document itself.
pub fn validate(schema: Schema, document: &Value) -> Result<(), Vec<SchemaError>> {
    let compiled = compiled(schema).map_err(|message| vec![SchemaError { pointer: String::new(), message, keyword: String::new(), vocabulary: false }])?;
    let mut document = document.clone();
    as_arrays(&compiled.json, &compiled.json, &mut document, 0);
    let errors: Vec<SchemaError> = compiled
        .validator
        .iter_errors(&document)
        .map(|error| SchemaError {
            pointer: error.instance_path().to_string(),
            message: shorten(&error.to_string()),
            keyword: error.kind().keyword().to_owned(),
            vocabulary: is_vocabulary(&error, 0),
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The most entries a `credentialStatus` set may have for [`validate_status_sets`] to read it entry
/// by entry (the status check's own cap, `verify::MAX_STATUS_ENTRIES`).
pub const MAX_STATUS_SET: usize = 8;

/// How deep [`validate_status_sets`] looks for credentials in a document.
const MAX_CREDENTIAL_DEPTH: usize = 32;

/// A `credentialStatus` given as a set of entries where the schema describes one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    /// The credential holding it, as a JSON Pointer (`""` is the document itself).
    pub pointer: String,
    /// How many entries it has.
    pub entries: usize,
}

/// [`validate`], reading a `credentialStatus` that is a set (VC 2.0 §4.10: "a single object or a
/// set of one or more objects") entry by entry: the OB 3.0 and CLR 2.0 schemas describe one
/// `CredentialStatus` object, so each entry of a set of at most [`MAX_STATUS_SET`] objects is
/// checked against the schema's `CredentialStatus` instead, its errors placed at
/// `…/credentialStatus/N`. Returns the errors and every set so read, wherever it is in the
/// document (a CLR's nested credentials and endorsements have their own); a larger set, or one
/// holding anything but objects, is left to the schema as it is.
pub fn validate_status_sets(schema: Schema, document: &Value) -> (Vec<SchemaError>, Vec<StatusSet>) {
    let mut single = document.clone();
    let mut sets = Vec::new();
    let mut others = Vec::new();
    split_status_sets(&mut single, &mut String::new(), 0, &mut sets, &mut others);
    if sets.is_empty() {
        return (validate(schema, document).err().unwrap_or_default(), sets);
    }
    let mut errors = validate(schema, &single).err().unwrap_or_default();
    for error in &mut errors {
        for set in &sets {
            let base = format!("{}/credentialStatus", set.pointer);
            if error.pointer == base || error.pointer.strip_prefix(&base).is_some_and(|rest| rest.starts_with('/')) {
                error.pointer.insert_str(base.len(), "/0");
            }
        }
    }
    for (pointer, entry) in others {
        errors.extend(validate_status_entry(schema, &entry).into_iter().map(|mut error| {
            error.pointer.insert_str(0, &pointer);
            error
        }));
    }
    (errors, sets)
}

/// Replaces each `credentialStatus` set of `value` (and of everything in it) by its first entry,
/// recording the set and the other entries with their pointers.
fn split_status_sets(value: &mut Value, pointer: &mut String, depth: usize, sets: &mut Vec<StatusSet>, others: &mut Vec<(String, Value)>) {
    if depth > MAX_CREDENTIAL_DEPTH {
        return;
    }
    match value {
        Value::Object(members) => {
            if let Some(Value::Array(entries)) = members.get("credentialStatus")
                && (1..=MAX_STATUS_SET).contains(&entries.len())
                && entries.iter().all(Value::is_object)
            {
                let mut entries = entries.clone();
                sets.push(StatusSet { pointer: pointer.clone(), entries: entries.len() });
                let first = entries.remove(0);
                others.extend(entries.into_iter().enumerate().map(|(i, entry)| (format!("{pointer}/credentialStatus/{}", i + 1), entry)));
                members.insert("credentialStatus".into(), first);
            }
            for (name, member) in members.iter_mut() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                split_status_sets(member, pointer, depth + 1, sets, others);
                pointer.truncate(length);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                split_status_sets(item, pointer, depth + 1, sets, others);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

/// The errors of one status entry against `schema`'s `CredentialStatus` definition.
fn validate_status_entry(schema: Schema, entry: &Value) -> Vec<SchemaError> {
    static COMPILED: [OnceLock<Result<Compiled, String>>; Schema::ALL.len()] = [const { OnceLock::new() }; Schema::ALL.len()];
    let compiled = COMPILED[schema as usize]
        .get_or_init(|| {
            let root = compiled(schema)?;
            let json = serde_json::json!({
                "$schema": root.json.get("$schema").cloned().unwrap_or(Value::Null),
                "$defs": root.json.get("$defs").cloned().unwrap_or_default(),
                "$ref": "#/$defs/CredentialStatus",
            });
            let validator = jsonschema::draft201909::options().should_validate_formats(true).build(&json).map_err(|e| e.to_string())?;
            Ok(Compiled { validator, json })
        })
        .as_ref();
    let compiled = match compiled {
        Ok(compiled) => compiled,
        Err(message) => return vec![SchemaError { pointer: String::new(), message: message.clone(), keyword: String::new(), vocabulary: false }],
    };
    let mut entry = entry.clone();
    as_arrays(&compiled.json, &compiled.json, &mut entry, 0);
    compiled
        .validator
        .iter_errors(&entry)
        .map(|error| SchemaError {
            pointer: error.instance_path().to_string(),
            message: shorten(&error.to_string()),
            keyword: error.kind().keyword().to_owned(),
            vocabulary: is_vocabulary(&error, 0),
        })
        .collect()
}

/// Wraps each single value of `instance` that `node` (a part of the schema `root`) wants as an
/// array into a one-element array, following `$ref`, `properties`, `items`, `additionalItems` and
/// the combinators. A `oneOf`/`anyOf` branch is followed only when its type fits the value.
fn as_arrays(root: &Value, node: &Value, instance: &mut Value, depth: usize) {
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let Some(node) = node.as_object() else {
        return;
    };
    if let Some(target) = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|pointer| root.pointer(pointer)) {
        as_arrays(root, target, instance, depth + 1);
    }
    if node.get("type").and_then(Value::as_str) == Some("array") && !instance.is_array() {
        *instance = Value::Array(vec![instance.take()]);
    }
    for branch in node.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        as_arrays(root, branch, instance, depth + 1);
    }
    // Of the alternatives, those about this kind of value; only when there are none, those that
    // would hold it as the only element of an array.
    let alternatives: Vec<(&Value, Fit)> = ["oneOf", "anyOf"]
        .into_iter()
        .filter_map(|keyword| node.get(keyword).and_then(Value::as_array))
        .flatten()
        .map(|branch| (branch, fit(root, branch, instance, depth)))
        .collect();
    let wanted = if alternatives.iter().any(|(_, fit)| *fit == Fit::Direct) { Fit::Direct } else { Fit::AsArray };
    for (branch, _) in alternatives.iter().filter(|(_, fit)| *fit == wanted) {
        as_arrays(root, branch, instance, depth + 1);
    }
    match instance {
        Value::Object(members) => {
            for (name, property) in node.get("properties").and_then(Value::as_object).into_iter().flatten() {
                if let Some(member) = members.get_mut(name) {
                    as_arrays(root, property, member, depth + 1);
                }
            }
        }
        Value::Array(elements) => match node.get("items") {
            Some(Value::Array(tuple)) => {
                let rest = node.get("additionalItems");
                for (i, element) in elements.iter_mut().enumerate() {
                    if let Some(item) = tuple.get(i).or(rest) {
                        as_arrays(root, item, element, depth + 1);
                    }
                }
            }
            Some(item) => elements.iter_mut().for_each(|element| as_arrays(root, item, element, depth + 1)),
            None => {}
        },
        _ => {}
    }
}

/// How a `oneOf`/`anyOf` branch relates to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// The branch declares another type.
    No,
    /// The branch declares the value's JSON type (after `$ref`), or none.
    Direct,
    /// The branch wants an array and the value is a single one.
    AsArray,
}

fn fit(root: &Value, branch: &Value, instance: &Value, depth: usize) -> Fit {
    if depth > MAX_SCHEMA_DEPTH {
        return Fit::No;
    }
    if let Some(target) = branch.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|pointer| root.pointer(pointer)) {
        return fit(root, target, instance, depth + 1);
    }
    let kind = match instance {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match branch.get("type").and_then(Value::as_str) {
        None => Fit::Direct,
        Some("array") if kind != "array" => Fit::AsArray,
        Some("integer") if kind == "number" => Fit::Direct,
        Some(declared) if declared == kind => Fit::Direct,
        Some(_) => Fit::No,
    }
}

/// How deep [`is_vocabulary`] looks into nested `anyOf`/`oneOf` alternatives.
const MAX_ALTERNATIVE_DEPTH: usize = 8;

/// See [`SchemaError::vocabulary`].
fn is_vocabulary(error: &jsonschema::ValidationError<'_>, depth: usize) -> bool {
    use jsonschema::error::ValidationErrorKind as Kind;
    match error.kind() {
        Kind::Enum { .. } | Kind::Constant { .. } | Kind::Pattern { .. } | Kind::Format { .. } => true,
        Kind::Contains => error.instance().as_array().is_some_and(|items| items.iter().all(Value::is_string)),
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } if depth < MAX_ALTERNATIVE_DEPTH => {
            !context.is_empty()
                && context.iter().all(|branch| {
                    !branch.is_empty()
                        && branch.iter().all(|inner| inner.instance_path().as_str() == error.instance_path().as_str() && is_vocabulary(inner, depth + 1))
                })
        }
        _ => false,
    }
}

fn shorten(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    const SOURCES: &str = include_str!("../schemas/SOURCES.md");

    #[test]
    fn every_bundled_schema_matches_its_recorded_sha256_and_compiles() {
        let rows: Vec<Vec<&str>> = SOURCES.lines().filter(|line| line.starts_with("| `")).map(|line| line.split('|').map(str::trim).collect()).collect();
        assert_eq!(rows.len(), BUNDLED.len(), "SOURCES.md and BUNDLED list different schemas");
        for schema in Schema::ALL {
            let bundled = schema.bundled();
            let row = rows.iter().find(|row| row[1].trim_matches('`') == bundled.file).unwrap_or_else(|| panic!("{} is not in SOURCES.md", bundled.file));
            assert_eq!(row[2], bundled.url, "{}", bundled.file);
            let digest = hex::encode(Sha256::digest(bundled.json.as_bytes()));
            assert_eq!(row[3].trim_matches('`'), digest, "{} changed", bundled.file);
            assert!(compiled(schema).is_ok(), "{}", schema.name());
        }
    }

    #[track_caller]
    fn check(schema: Schema, document: Value, expect: &[(&str, &str)]) {
        let errors = validate(schema, &document).err().unwrap_or_default();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.pointer.as_str(), e.message.as_str())).collect();
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        for ((pointer, message), (want_pointer, want_message)) in found.iter().zip(expect) {
            assert_eq!(pointer, want_pointer);
            assert!(message.contains(want_message), "{message:?} lacks {want_message:?}");
        }
    }

    fn profile() -> Value {
        json!({"id": "https://issuer.example/", "type": ["Profile"], "name": "Issuer"})
    }

    #[test]
    fn single_values_stand_for_one_element_arrays() {
        check(Schema::Profile, profile(), &[]);
        // `type` is an array in the schema; one string is the same set.
        check(Schema::Profile, json!({"id": "https://issuer.example/", "type": "Profile"}), &[]);
        // A single value that is wrong is still wrong, at its own place.
        check(Schema::Profile, json!({"id": "https://issuer.example/", "type": "Person"}), &[("/type", "None of [\"Person\"] are valid")]);
        check(Schema::Profile, json!({"type": ["Profile"], "email": 7}), &[("", "\"id\" is a required property"), ("/email", "is not of type \"string\"")]);
    }

    #[test]
    fn formats_are_checked_and_long_messages_are_cut() {
        let endorsement = |valid_from: &str| {
            json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                "type": ["VerifiableCredential", "EndorsementCredential"], "id": "urn:uuid:1", "name": "E",
                "credentialSubject": {"id": "https://issuer.example/", "type": ["EndorsementSubject"]},
                "issuer": "https://endorser.example/", "validFrom": valid_from,
            })
        };
        check(Schema::EndorsementCredential, endorsement("2026-01-01T00:00:00Z"), &[]);
        check(Schema::EndorsementCredential, endorsement("2026-01-01T00:00:00"), &[("/validFrom", "is not a \"date-time\"")]);
        let mut dated = profile();
        dated["dateOfBirth"] = json!("last tuesday");
        check(Schema::Profile, dated, &[("/dateOfBirth", "is not a \"date\"")]);
        let mut long = profile();
        long["email"] = json!({"x": "y".repeat(1000)});
        let errors = validate(Schema::Profile, &long).unwrap_err();
        assert!(errors[0].message.chars().count() <= MAX_MESSAGE_CHARS + 1 && errors[0].message.ends_with('…'), "{errors:?}");
    }
}
