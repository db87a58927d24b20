//! Decentralised identifiers: `did:key` and `did:web` for issuer keys, and their DID documents.

use serde_json::{Value, json};

/// `did:key:z6Mk…` for an Ed25519 Multikey.
pub fn did_key(public_key_multibase: &str) -> String {
    format!("did:key:{public_key_multibase}")
}

/// The verification method id of a `did:key` (`did:key:z6Mk…#z6Mk…`).
pub fn did_key_method(public_key_multibase: &str) -> String {
    format!("did:key:{public_key_multibase}#{public_key_multibase}")
}

/// `did:web` for `host` (with an optional port, percent-encoded as `%3A`) and path segments.
///
/// `did_web("example.org:8443", &["issuers", "42"])` is `did:web:example.org%3A8443:issuers:42`,
/// which resolves to `https://example.org:8443/issuers/42/did.json` (DID Web method, §3.2).
pub fn did_web(host: &str, path: &[&str]) -> String {
    let mut did = format!("did:web:{}", host.replace(':', "%3A"));
    for segment in path {
        did.push(':');
        did.push_str(&segment.replace(':', "%3A"));
    }
    did
}

/// A DID document with one Ed25519 Multikey used for assertions and authentication
/// (DID Core 1.0, Controlled Identifiers: Multikey). `also_known_as` lists equivalent DIDs.
pub fn did_document(did: &str, public_key_multibase: &str, also_known_as: &[String]) -> Value {
    let mut document = single_key_document(did, &format!("{did}#key-1"), public_key_multibase);
    if !also_known_as.is_empty() {
        document["alsoKnownAs"] = json!(also_known_as);
    }
    document
}

/// The DID document of a `did:key` (its method id is `did:key:z…#z…`).
pub fn did_key_document(public_key_multibase: &str) -> Value {
    single_key_document(&did_key(public_key_multibase), &did_key_method(public_key_multibase), public_key_multibase)
}

fn single_key_document(did: &str, method: &str, public_key_multibase: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_multibase,
        }],
        "assertionMethod": [method],
        "authentication": [method],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_encodes_ports_and_paths() {
        assert_eq!(did_web("example.org", &[]), "did:web:example.org");
        assert_eq!(did_web("localhost:8080", &["issuers", "abc"]), "did:web:localhost%3A8080:issuers:abc");
    }

    #[test]
    fn documents_name_the_key_for_assertions() {
        let doc = did_document("did:web:example.org", "z6MkTest", &["did:key:z6MkTest".into()]);
        assert_eq!(doc["verificationMethod"][0]["id"], "did:web:example.org#key-1");
        assert_eq!(doc["assertionMethod"][0], "did:web:example.org#key-1");
        assert_eq!(doc["alsoKnownAs"][0], "did:key:z6MkTest");
        let key_doc = did_key_document("z6MkTest");
        assert_eq!(key_doc["assertionMethod"][0], "did:key:z6MkTest#z6MkTest");
    }
}
