//! Recognition of prior learning: an issuer counts learning done elsewhere as one of its own
//! achievements. An issuer's **equivalency rule** says that an achievement from elsewhere —
//! named by its issuer's id (a DID or a URL) and its own id, as the credential gives them —
//! counts as one of the issuer's achievements; a verified badge that matches a rule and names the
//! learner is recognised at once. Every other request (another badge, or prior learning shown by
//! evidence: military or workplace training, a transcript) is judged like any submission, blind,
//! against the achievement's rubric. Either way the award says it recognises prior learning, and
//! it counts toward stacks, certificates and transcripts like any other.

use crate::achievement::Kind;
use crate::ids::{AchievementId, EquivalencyId, OrganisationId};
use crate::invalid::{self, Invalid};
use time::OffsetDateTime;

/// Longest id of an issuer or achievement from elsewhere.
pub const MAX_EXTERNAL_ID_CHARS: usize = 2000;
/// Longest note on an equivalency rule.
pub const MAX_NOTE_CHARS: usize = 500;
/// Most equivalency rules one organisation keeps.
pub const MAX_EQUIVALENCIES: usize = 1000;

/// An equivalency rule as typed in a form or sent to the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EquivalencyFields {
    pub achievement_id: String,
    pub external_issuer: String,
    pub external_achievement: String,
    pub note: Option<String>,
}

/// A valid equivalency rule, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEquivalency {
    pub achievement: AchievementId,
    pub external_issuer: String,
    pub external_achievement: String,
    pub note: String,
}

impl NewEquivalency {
    /// Parses a rule's fields; whether the achievement exists, belongs to the organisation and
    /// may be recognised is the caller's to check ([`recognisable`]).
    ///
    /// # Errors
    /// Every broken rule (`/achievement_id`, `/external_issuer`, `/external_achievement`, `/note`).
    pub fn parse(fields: &EquivalencyFields) -> Result<NewEquivalency, Invalid> {
        let mut invalid = Invalid::new();
        let achievement = match fields.achievement_id.trim().parse::<AchievementId>() {
            Ok(id) => Some(id),
            Err(_) => {
                invalid.push("/achievement_id", "choose one of your achievements");
                None
            }
        };
        let external_issuer = external_id(&mut invalid, "/external_issuer", &fields.external_issuer);
        let external_achievement = external_id(&mut invalid, "/external_achievement", &fields.external_achievement);
        let note = invalid::text(&mut invalid, "/note", fields.note.as_deref().unwrap_or(""), 0, MAX_NOTE_CHARS);
        match achievement {
            Some(achievement) if invalid.is_empty() => Ok(NewEquivalency { achievement, external_issuer, external_achievement, note }),
            _ => Err(invalid),
        }
    }
}

/// A stored equivalency rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivalency {
    pub id: EquivalencyId,
    pub organisation: OrganisationId,
    pub achievement: AchievementId,
    pub external_issuer: String,
    pub external_achievement: String,
    pub note: String,
    pub created_at: OffsetDateTime,
}

impl Equivalency {
    /// Whether a credential from `issuer` for `achievement` (its ids as the credential gives
    /// them) is what this rule names. Ids are compared exactly, as verifiers compare them, except
    /// for surrounding space.
    pub fn matches(&self, issuer: Option<&str>, achievement: Option<&str>) -> bool {
        matches!((issuer, achievement), (Some(issuer), Some(achievement))
            if issuer.trim() == self.external_issuer && achievement.trim() == self.external_achievement)
    }
}

/// An id from elsewhere: an absolute IRI (`https://…`, `did:…`, `urn:uuid:…`), without spaces or
/// control characters, at most [`MAX_EXTERNAL_ID_CHARS`] characters.
fn external_id(invalid: &mut Invalid, pointer: &str, value: &str) -> String {
    let trimmed = value.trim();
    let scheme_ok = trimmed.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if trimmed.is_empty() {
        invalid.push(pointer, "give the id as the badge names it: a web address or a DID");
    } else if trimmed.chars().count() > MAX_EXTERNAL_ID_CHARS {
        invalid.push(pointer, format!("at most {MAX_EXTERNAL_ID_CHARS} characters"));
    } else if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) || !scheme_ok {
        invalid.push(pointer, format!("\"{}\" is not an id: give a web address (https://…) or a DID (did:…)", invalid::clip(trimmed)));
    } else if let Some((scheme, _)) = trimmed.split_once(':')
        && matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
    {
        invalid::http_url(invalid, pointer, trimmed);
    }
    trimmed.to_string()
}

/// Whether learning done elsewhere may be recognised as an achievement of this kind: a
/// micro-badge, a level or a certificate. A micro-credential is earned by its levels.
///
/// # Errors
/// The sentence to show.
pub fn recognisable(kind: Kind) -> Result<(), &'static str> {
    match kind {
        Kind::MicroBadge | Kind::Level(_) | Kind::Certificate => Ok(()),
        Kind::MicroCredential => Err("a micro-credential is earned by its levels: ask for its levels to be recognised instead"),
    }
}

/// How an award recognises prior learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognition {
    /// At once, by one of the issuer's equivalency rules.
    Equivalency,
    /// Judged against the rubric, like any submission.
    Assessed,
}

impl Recognition {
    pub fn as_str(self) -> &'static str {
        match self {
            Recognition::Equivalency => "equivalency",
            Recognition::Assessed => "assessed",
        }
    }

    pub fn parse(raw: &str) -> Option<Recognition> {
        [Recognition::Equivalency, Recognition::Assessed].into_iter().find(|r| r.as_str() == raw)
    }

    /// The words on award pages and transcripts.
    pub fn label(self) -> &'static str {
        match self {
            Recognition::Equivalency => "Recognised prior learning, by the issuer's equivalency rule",
            Recognition::Assessed => "Recognised prior learning, assessed against the rubric",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(issuer: &str, achievement: &str) -> EquivalencyFields {
        EquivalencyFields {
            achievement_id: AchievementId::new().to_string(),
            external_issuer: issuer.into(),
            external_achievement: achievement.into(),
            note: Some("Agreed with the college in 2026".into()),
        }
    }

    #[test]
    fn rules_name_ids_as_credentials_give_them() {
        let rule = NewEquivalency::parse(&fields("  did:key:z6MkExample ", "https://college.example/badges/42")).unwrap();
        assert_eq!(rule.external_issuer, "did:key:z6MkExample");
        assert!(NewEquivalency::parse(&fields("https://college.example/issuer", "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427")).is_ok());
        for (issuer, achievement, pointer) in [
            ("", "https://a.example/1", "/external_issuer"),
            ("college", "https://a.example/1", "/external_issuer"),
            ("did:key:x", "https://a example/1", "/external_achievement"),
            ("did:key:x", "https://", "/external_achievement"),
            ("did:key:x", "1:abc", "/external_achievement"),
            ("did:key:\u{7}x", "https://a.example/1", "/external_issuer"),
        ] {
            let error = NewEquivalency::parse(&fields(issuer, achievement)).unwrap_err();
            assert!(error.at(pointer).is_some(), "{issuer:?} {achievement:?}: {error}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_EXTERNAL_ID_CHARS));
        assert!(NewEquivalency::parse(&fields("did:key:x", &long)).unwrap_err().at("/external_achievement").unwrap().contains("at most"));
        let mut bad_target = fields("did:key:x", "https://a.example/1");
        bad_target.achievement_id = "not an id".into();
        assert!(NewEquivalency::parse(&bad_target).unwrap_err().at("/achievement_id").is_some());
    }

    #[test]
    fn a_rule_matches_exactly_the_ids_it_names() {
        let rule = Equivalency {
            id: EquivalencyId::new(),
            organisation: OrganisationId::new(),
            achievement: AchievementId::new(),
            external_issuer: "did:key:z6Mk1".into(),
            external_achievement: "https://college.example/badges/42".into(),
            note: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(rule.matches(Some("did:key:z6Mk1"), Some("https://college.example/badges/42")));
        assert!(rule.matches(Some(" did:key:z6Mk1"), Some("https://college.example/badges/42 ")));
        assert!(!rule.matches(Some("did:key:z6Mk2"), Some("https://college.example/badges/42")));
        assert!(!rule.matches(Some("did:key:z6Mk1"), Some("https://college.example/badges/43")));
        assert!(!rule.matches(None, Some("https://college.example/badges/42")));
        assert!(!rule.matches(Some("did:key:z6Mk1"), None));
    }

    #[test]
    fn micro_credentials_are_recognised_through_their_levels() {
        assert!(recognisable(Kind::MicroBadge).is_ok());
        assert!(recognisable(Kind::Certificate).is_ok());
        assert!(recognisable(Kind::MicroCredential).unwrap_err().contains("levels"));
        for recognition in [Recognition::Equivalency, Recognition::Assessed] {
            assert_eq!(Recognition::parse(recognition.as_str()), Some(recognition));
        }
    }
}
