//! CLR 2.0 `ClrCredential`: a learner's transcript of signed OB 3.0 credentials, the achievements
//! they attest, and associations between them (e.g. a level badge `isPartOf` its micro-credential).

use crate::ob3::{OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS_CONTEXT, Profile, Recipient, VC_V2_CONTEXT, identity_hash, profile_json};
use serde_json::{Value, json};

/// The CLR 2.0 context Cairn issues with.
pub const CLR_V2P0_CONTEXT: &str = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json";

/// A relationship between two achievements (CLR 2.0 `AssociationType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// `isPartOf`, `isChildOf`, `precedes`, …
    pub association_type: String,
    /// The source achievement's id.
    pub source_id: String,
    /// The target achievement's id.
    pub target_id: String,
}

/// Everything a `ClrCredential` states.
#[derive(Debug, Clone, PartialEq)]
pub struct ClrInput {
    /// The transcript's id.
    pub id: String,
    /// Its name ("Transcript of …").
    pub name: String,
    /// Who issues the transcript.
    pub issuer: Profile,
    /// RFC 3339 date-time.
    pub valid_from: String,
    /// The learner: a DID or another IRI, or a hashed e-mail address.
    pub subject: Recipient,
    /// Signed OB 3.0 credentials (each with its own proof).
    pub credentials: Vec<Value>,
    /// Associations between the achievements of those credentials.
    pub associations: Vec<Association>,
    /// Whether the transcript is a selection rather than everything (`partial`).
    pub partial: bool,
}

/// Builds the unsigned `ClrCredential`, ready for a proof.
pub fn clr_credential(input: &ClrInput) -> Value {
    let mut subject = match &input.subject {
        Recipient::Id(id) => json!({"id": id, "type": "ClrSubject"}),
        Recipient::Email { address, salt } => json!({
            "type": "ClrSubject",
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": identity_hash(address, salt),
                "identityType": "emailAddress",
                "hashed": true,
                "salt": salt,
            }],
        }),
    };
    subject["verifiableCredential"] = json!(input.credentials);
    if !input.associations.is_empty() {
        subject["association"] = input
            .associations
            .iter()
            .map(|a| json!({"type": "Association", "associationType": a.association_type, "sourceId": a.source_id, "targetId": a.target_id}))
            .collect();
    }
    json!({
        "@context": [VC_V2_CONTEXT, CLR_V2P0_CONTEXT, OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS_CONTEXT],
        "id": input.id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": profile_json(&input.issuer),
        "name": input.name,
        "validFrom": input.valid_from,
        "partial": input.partial,
        "credentialSubject": subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_nests_credentials_and_associations() {
        let credential = crate::ob3::open_badge_credential(&crate::ob3::tests::sample());
        let clr = clr_credential(&ClrInput {
            id: "urn:uuid:1".into(),
            name: "Transcript".into(),
            issuer: crate::ob3::tests::sample().issuer,
            valid_from: "2026-11-22T10:00:00Z".into(),
            subject: Recipient::Id("did:example:learner".into()),
            credentials: vec![credential.clone()],
            associations: vec![Association { association_type: "isPartOf".into(), source_id: "urn:a".into(), target_id: "urn:b".into() }],
            partial: true,
        });
        assert_eq!(clr["type"], json!(["VerifiableCredential", "ClrCredential"]));
        assert_eq!(clr["@context"][1], CLR_V2P0_CONTEXT);
        assert_eq!(clr["credentialSubject"]["verifiableCredential"][0], credential);
        assert_eq!(clr["credentialSubject"]["association"][0]["associationType"], "isPartOf");
        assert_eq!(clr["credentialSubject"]["id"], "did:example:learner");
    }

    #[test]
    fn a_transcript_may_name_its_learner_by_a_hashed_address() {
        let clr = clr_credential(&ClrInput {
            id: "urn:uuid:2".into(),
            name: "Transcript".into(),
            issuer: crate::ob3::tests::sample().issuer,
            valid_from: "2026-11-22T10:00:00Z".into(),
            subject: Recipient::Email { address: "Learner@Example.org".into(), salt: "ab".into() },
            credentials: Vec::new(),
            associations: Vec::new(),
            partial: false,
        });
        let identifier = &clr["credentialSubject"]["identifier"][0];
        assert_eq!(identifier["identityHash"], identity_hash("learner@example.org", "ab"));
        assert!(clr["credentialSubject"].get("id").is_none() && clr["credentialSubject"].get("association").is_none());
        let errors = crate::schemas::validate(crate::schemas::Schema::ClrCredential, &clr).err().unwrap_or_default();
        assert!(errors.iter().all(|e| !e.pointer.starts_with("/credentialSubject/identifier")), "{errors:?}");
    }
}
