//! Open Badges 2.0 hosted documents, for older displayers and backpacks: `Assertion`,
//! `BadgeClass` and `Issuer` (Profile), each served at its own URL (OB 2.0 §Hosted Verification).

use crate::ob3::{Alignment, identity_hash, put};
use serde_json::{Map, Value, json};

/// The OB 2.0 context.
pub const OB_V2_CONTEXT: &str = "https://w3id.org/openbadges/v2";

/// An OB 2.0 issuer profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Where this document is hosted.
    pub id: String,
    /// Name.
    pub name: String,
    /// Home page (required by OB 2.0).
    pub url: String,
    /// Contact address.
    pub email: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Logo URL.
    pub image: Option<String>,
}

/// An OB 2.0 badge class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeClass {
    /// Where this document is hosted.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Image URL.
    pub image: String,
    /// Criteria page.
    pub criteria_url: Option<String>,
    /// Criteria narrative (Markdown).
    pub criteria_narrative: String,
    /// The hosted issuer URL.
    pub issuer: String,
    /// Alignments (`target_type` has no OB 2.0 equivalent and is left out).
    pub alignments: Vec<Alignment>,
    /// Tags.
    pub tags: Vec<String>,
}

/// An OB 2.0 hosted assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// Where this document is hosted (also its verification URL).
    pub id: String,
    /// The recipient's e-mail address (hashed with `salt` in the document).
    pub recipient_email: String,
    /// A random salt.
    pub salt: String,
    /// The hosted badge class URL.
    pub badge: String,
    /// RFC 3339 issue date.
    pub issued_on: String,
    /// RFC 3339 expiry.
    pub expires: Option<String>,
    /// The baked image URL.
    pub image: Option<String>,
    /// Evidence page.
    pub evidence: Option<String>,
}

/// The hosted `Issuer` document.
pub fn issuer_json(issuer: &Issuer) -> Value {
    let mut map = Map::new();
    map.insert("@context".into(), json!(OB_V2_CONTEXT));
    map.insert("type".into(), json!("Issuer"));
    map.insert("id".into(), json!(issuer.id));
    map.insert("name".into(), json!(issuer.name));
    map.insert("url".into(), json!(issuer.url));
    put(&mut map, "email", issuer.email.as_ref());
    put(&mut map, "description", issuer.description.as_ref());
    put(&mut map, "image", issuer.image.as_ref());
    Value::Object(map)
}

/// The hosted `BadgeClass` document.
pub fn badge_class_json(badge: &BadgeClass) -> Value {
    let mut criteria = Map::new();
    put(&mut criteria, "id", badge.criteria_url.as_ref());
    criteria.insert("narrative".into(), json!(badge.criteria_narrative));
    let mut map = Map::new();
    map.insert("@context".into(), json!(OB_V2_CONTEXT));
    map.insert("type".into(), json!("BadgeClass"));
    map.insert("id".into(), json!(badge.id));
    map.insert("name".into(), json!(badge.name));
    map.insert("description".into(), json!(badge.description));
    map.insert("image".into(), json!(badge.image));
    map.insert("criteria".into(), Value::Object(criteria));
    map.insert("issuer".into(), json!(badge.issuer));
    if !badge.alignments.is_empty() {
        let alignments: Vec<Value> = badge
            .alignments
            .iter()
            .map(|a| {
                let mut m = Map::new();
                m.insert("targetName".into(), json!(a.target_name));
                m.insert("targetUrl".into(), json!(a.target_url));
                put(&mut m, "targetDescription", a.target_description.as_ref());
                put(&mut m, "targetFramework", a.target_framework.as_ref());
                put(&mut m, "targetCode", a.target_code.as_ref());
                Value::Object(m)
            })
            .collect();
        map.insert("alignment".into(), json!(alignments));
    }
    if !badge.tags.is_empty() {
        map.insert("tags".into(), json!(badge.tags));
    }
    Value::Object(map)
}

/// The hosted `Assertion` document, with a salted `sha256$` recipient hash.
pub fn assertion_json(assertion: &Assertion) -> Value {
    let mut map = Map::new();
    map.insert("@context".into(), json!(OB_V2_CONTEXT));
    map.insert("type".into(), json!("Assertion"));
    map.insert("id".into(), json!(assertion.id));
    map.insert(
        "recipient".into(),
        json!({"type": "email", "hashed": true, "salt": assertion.salt, "identity": identity_hash(&assertion.recipient_email, &assertion.salt)}),
    );
    map.insert("badge".into(), json!(assertion.badge));
    map.insert("verification".into(), json!({"type": "hosted"}));
    map.insert("issuedOn".into(), json!(assertion.issued_on));
    put(&mut map, "expires", assertion.expires.as_ref());
    put(&mut map, "image", assertion.image.as_ref());
    put(&mut map, "evidence", assertion.evidence.as_ref());
    Value::Object(map)
}

/// What a hosted assertion URL serves once revoked: OB 2.0 lets verifiers see the reason.
pub fn revoked_assertion_json(id: &str, reason: &str) -> Value {
    json!({"@context": OB_V2_CONTEXT, "type": "Assertion", "id": id, "revoked": true, "revocationReason": reason})
}

/// Whether `identity` (`sha256$…`, or a plain address when unhashed) names `email`.
pub fn recipient_matches(recipient: &Value, email: &str) -> bool {
    let identity = recipient.get("identity").and_then(Value::as_str).unwrap_or("");
    if recipient.get("hashed").and_then(Value::as_bool).unwrap_or(false) {
        let salt = recipient.get("salt").and_then(Value::as_str).unwrap_or("");
        identity.eq_ignore_ascii_case(&identity_hash(email, salt))
    } else {
        identity.eq_ignore_ascii_case(email.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion() -> Assertion {
        Assertion {
            id: "https://cairn.example/ob2/assertions/1".into(),
            recipient_email: "Learner@Example.org".into(),
            salt: "pepper".into(),
            badge: "https://cairn.example/ob2/badges/1".into(),
            issued_on: "2026-11-22T10:00:00Z".into(),
            expires: None,
            image: Some("https://cairn.example/awards/1.png".into()),
            evidence: None,
        }
    }

    #[test]
    fn hosted_assertions_hash_the_recipient() {
        let json = assertion_json(&assertion());
        assert_eq!(json["verification"], json!({"type": "hosted"}));
        assert_eq!(json["recipient"]["hashed"], true);
        assert!(!json.to_string().to_lowercase().contains("learner@example.org"));
        assert!(recipient_matches(&json["recipient"], "learner@example.org"));
        assert!(!recipient_matches(&json["recipient"], "other@example.org"));
        assert!(json.get("expires").is_none());
    }

    #[test]
    fn badge_classes_and_issuers_have_the_required_fields() {
        let badge = badge_class_json(&BadgeClass {
            id: "https://cairn.example/ob2/badges/1".into(),
            name: "Badge".into(),
            description: "d".into(),
            image: "https://cairn.example/i.png".into(),
            criteria_url: None,
            criteria_narrative: "do it".into(),
            issuer: "https://cairn.example/ob2/issuers/1".into(),
            alignments: vec![],
            tags: vec!["t".into()],
        });
        for key in ["@context", "type", "id", "name", "description", "image", "criteria", "issuer"] {
            assert!(badge.get(key).is_some(), "{key}");
        }
        let issuer = issuer_json(&Issuer {
            id: "https://cairn.example/ob2/issuers/1".into(),
            name: "N".into(),
            url: "https://n.example".into(),
            email: None,
            description: None,
            image: None,
        });
        assert_eq!(issuer["type"], "Issuer");
        assert_eq!(revoked_assertion_json("x", "error")["revoked"], true);
    }
}
