//! Issuer organisations: the public profile that every credential they sign carries.

use crate::account::Email;
use crate::achievement::ImageRef;
use crate::ids::OrganisationId;
use crate::invalid::{self, Invalid};
use time::OffsetDateTime;

/// A validated issuer profile.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationProfile {
    pub name: String,
    /// The issuer's home page (OB 3.0 `Profile.url`).
    pub url: String,
    pub email: Option<Email>,
    pub description: String,
    pub image: Option<ImageRef>,
}

/// A profile as typed in a form or sent to the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganisationFields {
    pub name: String,
    pub url: String,
    pub email: Option<String>,
    pub description: Option<String>,
}

impl OrganisationProfile {
    /// Applies the profile rules: a name of 2–120 characters, an http(s) home page, an optional
    /// e-mail address, a description of at most 2,000 characters.
    ///
    /// # Errors
    /// Every broken rule (`/name`, `/url`, `/email`, `/description`).
    pub fn parse(fields: &OrganisationFields) -> Result<OrganisationProfile, Invalid> {
        let mut invalid = Invalid::new();
        let name = invalid::text(&mut invalid, "/name", &fields.name, 2, 120);
        let url = invalid::http_url(&mut invalid, "/url", &fields.url).map(|u| u.to_string()).unwrap_or_default();
        let email = match fields.email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => match Email::parse(raw) {
                Ok(email) => Some(email),
                Err(message) => {
                    invalid.push("/email", message);
                    None
                }
            },
        };
        let description = invalid::text(&mut invalid, "/description", fields.description.as_deref().unwrap_or(""), 0, 2000);
        invalid.into_result(OrganisationProfile { name, url, email, description, image: None })
    }

    /// Back to fields, for editing forms.
    pub fn to_fields(&self) -> OrganisationFields {
        OrganisationFields {
            name: self.name.clone(),
            url: self.url.clone(),
            email: self.email.as_ref().map(|e| e.to_string()),
            description: Some(self.description.clone()),
        }
    }
}

/// A stored organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub profile: OrganisationProfile,
    /// Chosen at creation and kept.
    pub kind: OrganisationKind,
    /// The organisation's Ed25519 public key as a Multikey (`z6Mk…`); the private half never leaves the store.
    pub public_key_multibase: String,
    pub created_at: OffsetDateTime,
}

/// What an organisation is on the platform: an issuer (the default) awards badges; an employer
/// searches the learners who chose to be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrganisationKind {
    #[default]
    Issuer,
    Employer,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 2] = [OrganisationKind::Issuer, OrganisationKind::Employer];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::Issuer => "issuer",
            OrganisationKind::Employer => "employer",
        }
    }

    /// Parses `issuer` or `employer`; empty means the default, an issuer.
    ///
    /// # Errors
    /// A message quoting the value and naming the accepted ones.
    pub fn parse(raw: &str) -> Result<OrganisationKind, String> {
        match raw.trim() {
            "" | "issuer" => Ok(OrganisationKind::Issuer),
            "employer" => Ok(OrganisationKind::Employer),
            other => Err(format!("\"{}\" is not a kind of organisation (issuer or employer)", crate::invalid::clip(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(fields: OrganisationFields, expected: &[&str]) {
        let got: Vec<String> = match OrganisationProfile::parse(&fields) {
            Ok(_) => vec![],
            Err(invalid) => invalid.errors.iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect(),
        };
        assert_eq!(got, expected);
    }

    fn fields(name: &str, url: &str, email: Option<&str>) -> OrganisationFields {
        OrganisationFields { name: name.into(), url: url.into(), email: email.map(Into::into), description: None }
    }

    #[test]
    fn profile_rules() {
        check(fields("Northbridge Institute", "https://northbridge.example", Some("badges@northbridge.example")), &[]);
        check(fields("Northbridge Institute", "https://northbridge.example", None), &[]);
        check(fields("N", "https://northbridge.example", None), &["/name must be at least 2 characters"]);
        check(fields("Northbridge", "ftp://northbridge.example", None), &["/url \"ftp://northbridge.example\" is not an http(s) URL"]);
        check(fields("Northbridge", "https://n.example", Some("nope")), &["/email \"nope\" is not an e-mail address"]);
    }
}
