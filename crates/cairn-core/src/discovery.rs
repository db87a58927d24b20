//! Discovery with the learner in control: the public handle of a learner's portfolio, whether
//! employers may find them, what an employer's talent search asks, and contact requests that the
//! learner accepts or declines before any contact detail is shown.
//!
//! The consent rules, in one place:
//! - a learner has no portfolio until they choose a [`Handle`]; it lists only awards they made
//!   public (and verified imported badges, when they say so);
//! - employers find only learners who chose to be discoverable ([`Discovery::discoverable`]),
//!   which needs a handle, and see only their public awards;
//! - an employer sees a learner's e-mail address only once the learner accepted a contact request
//!   ([`ContactStatus::Accepted`]).

use crate::ids::{AchievementId, OrganisationId};
use crate::invalid::{Invalid, clip, forbidden_char};

/// Shortest and longest handle.
pub const HANDLE_CHARS: std::ops::RangeInclusive<usize> = 3..=30;

/// Handles nobody may take: they would read as the platform speaking.
const RESERVED_HANDLES: [&str; 16] =
    ["admin", "administrator", "api", "cairn", "embed", "help", "issuer", "issuers", "me", "operator", "root", "search", "staff", "support", "talent", "www"];

/// A learner's public handle: the `{handle}` of `/u/{handle}`. Lower-case letters, digits and
/// hyphens, 3–30 characters, neither starting nor ending with a hyphen, no two in a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    /// Parses a handle, lower-casing it.
    ///
    /// # Errors
    /// The rule it breaks, in words.
    pub fn parse(raw: &str) -> Result<Handle, String> {
        let value = raw.trim().to_lowercase();
        let count = value.chars().count();
        if !HANDLE_CHARS.contains(&count) {
            return Err(format!("must be {} to {} characters long", HANDLE_CHARS.start(), HANDLE_CHARS.end()));
        }
        if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(format!("\"{}\" may hold only the letters a to z, digits and hyphens", clip(raw.trim())));
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return Err("must not start or end with a hyphen, or hold two in a row".to_string());
        }
        if RESERVED_HANDLES.contains(&value.as_str()) {
            return Err(format!("\"{value}\" is reserved"));
        }
        Ok(Handle(value))
    }

    /// A handle read back from storage, trusted as written.
    pub fn stored(value: String) -> Handle {
        Handle(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a learner chose about being seen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovery {
    /// The portfolio's handle; `None` means no portfolio.
    pub handle: Option<Handle>,
    /// Whether employers may find the learner in talent search (off by default).
    pub discoverable: bool,
    /// Whether the portfolio lists the badges they imported that verify.
    pub show_imports: bool,
}

/// A change to [`Discovery`], as sent: each field absent means "leave it".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscoveryFields {
    /// `Some(None)` removes the handle (and with it the portfolio and discoverability).
    pub handle: Option<Option<String>>,
    pub discoverable: Option<bool>,
    pub show_imports: Option<bool>,
}

impl Discovery {
    /// Applies a change to the current choices.
    ///
    /// # Errors
    /// `Invalid` at `/handle` for a handle that breaks the rules, and at `/discoverable` when
    /// asking to be discoverable without a handle (employers find people by it).
    pub fn apply(&self, fields: &DiscoveryFields) -> Result<Discovery, Invalid> {
        let mut invalid = Invalid::new();
        let handle = match &fields.handle {
            None => self.handle.clone(),
            Some(None) => None,
            Some(Some(raw)) if raw.trim().is_empty() => None,
            Some(Some(raw)) => match Handle::parse(raw) {
                Ok(handle) => Some(handle),
                Err(detail) => {
                    invalid.push("/handle", detail);
                    self.handle.clone()
                }
            },
        };
        let mut discoverable = fields.discoverable.unwrap_or(self.discoverable);
        if handle.is_none() {
            if fields.discoverable == Some(true) {
                invalid.push("/discoverable", "choose a handle first: employers find you by it");
            }
            discoverable = false;
        }
        let show_imports = fields.show_imports.unwrap_or(self.show_imports);
        invalid.into_result(Discovery { handle, discoverable, show_imports })
    }
}

/// Most words of a talent search that are used.
pub const MAX_QUERY_CHARS: usize = 200;

/// How far back a talent search may look for recent awards, in days.
pub const MAX_RECENT_DAYS: u32 = 36_600;

/// Most results on one page of a talent search.
pub const MAX_TALENT_PAGE: u32 = 50;

/// Learners a talent search counts exactly: beyond, it answers that there are more ("1,000+"),
/// as counting every match of a broad search would cost more than the page itself.
pub const TALENT_COUNT_CAP: u64 = 1_000;

/// A rubric level reached on one criterion of one achievement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionLevel {
    /// The criterion's slug in the achievement's rubric.
    pub criterion: String,
    /// The least level reached, from 1.
    pub min_level: u32,
}

/// A competency to look for: by framework and code, or by words of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompetencyFilter {
    Code { framework: Option<String>, code: String },
    Words(String),
}

/// An employer's talent search, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TalentQuery {
    /// Free text over the achievements' names, descriptions and competencies.
    pub text: Option<String>,
    pub competency: Option<CompetencyFilter>,
    pub achievement: Option<AchievementId>,
    pub issuer: Option<OrganisationId>,
    /// Needs `achievement`: criteria belong to its rubric.
    pub criterion: Option<CriterionLevel>,
    /// Only awards that have not expired.
    pub unexpired: bool,
    /// Only awards issued within this many days.
    pub recent_days: Option<u32>,
    pub limit: u32,
    pub offset: u32,
}

/// A talent search as sent (query parameters or a form).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TalentFields {
    pub q: Option<String>,
    pub competency: Option<String>,
    pub framework: Option<String>,
    pub code: Option<String>,
    pub achievement: Option<String>,
    pub issuer: Option<String>,
    pub criterion: Option<String>,
    pub min_level: Option<String>,
    pub unexpired: Option<bool>,
    pub recent_days: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl TalentQuery {
    /// Validates a talent search.
    ///
    /// # Errors
    /// `Invalid`, each broken parameter at its own pointer (`/q`, `/achievement`, …).
    pub fn parse(fields: &TalentFields) -> Result<TalentQuery, Invalid> {
        let mut invalid = Invalid::new();
        let mut text_of = |pointer: &str, value: &Option<String>, max: usize| -> Option<String> {
            let value = filled(value)?;
            if let Some(c) = forbidden_char(value) {
                invalid.push(pointer, crate::invalid::forbidden_char_message(c));
                return None;
            }
            if value.chars().count() > max {
                invalid.push(pointer, format!("must be at most {max} characters"));
                return None;
            }
            Some(value.to_string())
        };
        let text = text_of("/q", &fields.q, MAX_QUERY_CHARS);
        let words = text_of("/competency", &fields.competency, MAX_QUERY_CHARS);
        let framework = text_of("/framework", &fields.framework, 200);
        let code = text_of("/code", &fields.code, 200);
        let criterion = text_of("/criterion", &fields.criterion, 200);
        let competency = match (code, words) {
            (Some(code), _) => Some(CompetencyFilter::Code { framework, code }),
            (None, Some(words)) => Some(CompetencyFilter::Words(words)),
            (None, None) => {
                if framework.is_some() {
                    invalid.push("/code", "give the competency's code with its framework");
                }
                None
            }
        };
        let achievement = filled(&fields.achievement).and_then(|raw| match raw.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                invalid.push("/achievement", format!("\"{}\" is not an achievement id", clip(raw)));
                None
            }
        });
        let issuer = filled(&fields.issuer).and_then(|raw| match raw.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                invalid.push("/issuer", format!("\"{}\" is not an organisation id", clip(raw)));
                None
            }
        });
        let min_level = filled(&fields.min_level).and_then(|raw| match raw.parse::<u32>() {
            Ok(level) if (1..=10).contains(&level) => Some(level),
            _ => {
                invalid.push("/min_level", format!("\"{}\" is not a rubric level (1 to 10)", clip(raw)));
                None
            }
        });
        let criterion = match (criterion, min_level) {
            (Some(criterion), level) => {
                if achievement.is_none() {
                    invalid.push("/criterion", "name the achievement whose rubric has this criterion");
                }
                Some(CriterionLevel { criterion, min_level: level.unwrap_or(1) })
            }
            (None, Some(_)) => {
                invalid.push("/criterion", "name the criterion the level is reached on");
                None
            }
            (None, None) => None,
        };
        let recent_days = filled(&fields.recent_days).and_then(|raw| match raw.parse::<u32>() {
            Ok(days) if (1..=MAX_RECENT_DAYS).contains(&days) => Some(days),
            _ => {
                invalid.push("/recent_days", format!("\"{}\" is not a number of days (1 to {MAX_RECENT_DAYS})", clip(raw)));
                None
            }
        });
        let limit = fields.limit.unwrap_or(20);
        if !(1..=MAX_TALENT_PAGE).contains(&limit) {
            invalid.push("/limit", format!("must be 1 to {MAX_TALENT_PAGE}"));
        }
        let offset = fields.offset.unwrap_or(0);
        if offset > 10_000 {
            invalid.push("/offset", "must be at most 10000");
        }
        invalid.into_result(TalentQuery {
            text,
            competency,
            achievement,
            issuer,
            criterion,
            unexpired: fields.unexpired.unwrap_or(false),
            recent_days,
            limit: limit.clamp(1, MAX_TALENT_PAGE),
            offset: offset.min(10_000),
        })
    }
}

/// Fewest and most learners compared side by side.
pub const COMPARE_LEARNERS: std::ops::RangeInclusive<usize> = 2..=4;

/// Parses the handles of learners to compare.
///
/// # Errors
/// `Invalid` at `/learners` for fewer than two, more than four, repeats or a broken handle.
pub fn compare_handles(raw: &[String]) -> Result<Vec<Handle>, Invalid> {
    let names: Vec<&str> = raw.iter().flat_map(|r| r.split(',')).map(str::trim).filter(|r| !r.is_empty()).collect();
    if names.len() > *COMPARE_LEARNERS.end() * 4 {
        return Err(Invalid::one("/learners", format!("compare {} to {} learners", COMPARE_LEARNERS.start(), COMPARE_LEARNERS.end())));
    }
    let mut handles = Vec::new();
    for name in names {
        let handle = Handle::parse(name).map_err(|detail| Invalid::one("/learners", format!("\"{}\": {detail}", clip(name))))?;
        if !handles.contains(&handle) {
            handles.push(handle);
        }
    }
    if !COMPARE_LEARNERS.contains(&handles.len()) {
        return Err(Invalid::one("/learners", format!("compare {} to {} different learners", COMPARE_LEARNERS.start(), COMPARE_LEARNERS.end())));
    }
    Ok(handles)
}

/// Longest message of a contact request.
pub const MAX_CONTACT_MESSAGE_CHARS: usize = 2_000;

/// Checks a contact request's message: 1–2,000 characters of text.
///
/// # Errors
/// `Invalid` at `/message`.
pub fn contact_message(raw: &str) -> Result<String, Invalid> {
    let message = raw.trim();
    if message.is_empty() {
        return Err(Invalid::one("/message", "say who you are and why you would like to be in touch"));
    }
    if message.chars().count() > MAX_CONTACT_MESSAGE_CHARS {
        return Err(Invalid::one("/message", format!("must be at most {MAX_CONTACT_MESSAGE_CHARS} characters")));
    }
    if let Some(c) = forbidden_char(message) {
        return Err(Invalid::one("/message", crate::invalid::forbidden_char_message(c)));
    }
    Ok(message.to_string())
}

/// Where a contact request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactStatus {
    /// Waiting for the learner.
    Pending,
    /// The learner agreed: the employer sees their e-mail address.
    Accepted,
    /// The learner said no: the employer sees nothing more.
    Declined,
}

impl ContactStatus {
    pub const ALL: [ContactStatus; 3] = [ContactStatus::Pending, ContactStatus::Accepted, ContactStatus::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Pending => "pending",
            ContactStatus::Accepted => "accepted",
            ContactStatus::Declined => "declined",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactStatus> {
        ContactStatus::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactStatus::Pending => "Waiting for an answer",
            ContactStatus::Accepted => "Accepted",
            ContactStatus::Declined => "Declined",
        }
    }

    /// The learner's answer: `accept` or `decline`.
    ///
    /// # Errors
    /// `Invalid` at `/decision`.
    pub fn decision(raw: &str) -> Result<ContactStatus, Invalid> {
        match raw.trim() {
            "accept" | "accepted" => Ok(ContactStatus::Accepted),
            "decline" | "declined" => Ok(ContactStatus::Declined),
            other => Err(Invalid::one("/decision", format!("\"{}\" is not a decision (accept or decline)", clip(other)))),
        }
    }
}

/// What an employer did that the learner is told about; every one is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TalentEvent {
    /// The learner appeared in a search's results.
    SearchHit,
    /// A member of the employer looked at the learner (compare or profile).
    View,
    Shortlist,
    ContactRequest,
}

impl TalentEvent {
    pub const ALL: [TalentEvent; 4] = [TalentEvent::SearchHit, TalentEvent::View, TalentEvent::Shortlist, TalentEvent::ContactRequest];

    pub fn as_str(self) -> &'static str {
        match self {
            TalentEvent::SearchHit => "search",
            TalentEvent::View => "view",
            TalentEvent::Shortlist => "shortlist",
            TalentEvent::ContactRequest => "contact",
        }
    }

    pub fn parse(raw: &str) -> Option<TalentEvent> {
        TalentEvent::ALL.into_iter().find(|e| e.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            TalentEvent::SearchHit => "found you in a search",
            TalentEvent::View => "viewed your achievements",
            TalentEvent::Shortlist => "shortlisted you",
            TalentEvent::ContactRequest => "asked to contact you",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_follow_the_rules() {
        assert_eq!(Handle::parse(" Ada-Lovelace ").unwrap().as_str(), "ada-lovelace");
        assert_eq!(Handle::parse("r2d2").unwrap().as_str(), "r2d2");
        for bad in ["ab", "-ada", "ada-", "a--b", "ada lovelace", "adá", "admin", &"a".repeat(31), "ada_l"] {
            assert!(Handle::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn discoverable_needs_a_handle_and_removing_the_handle_hides_the_learner() {
        let none = Discovery::default();
        let refused = none.apply(&DiscoveryFields { discoverable: Some(true), ..Default::default() }).unwrap_err();
        assert_eq!(refused.at("/discoverable"), Some("choose a handle first: employers find you by it"));

        let chosen = none.apply(&DiscoveryFields { handle: Some(Some("ada".into())), discoverable: Some(true), show_imports: None }).unwrap();
        assert_eq!(chosen, Discovery { handle: Some(Handle::parse("ada").unwrap()), discoverable: true, show_imports: false });

        let kept = chosen.apply(&DiscoveryFields { show_imports: Some(true), ..Default::default() }).unwrap();
        assert!(kept.discoverable && kept.show_imports && kept.handle.is_some());

        let removed = kept.apply(&DiscoveryFields { handle: Some(None), ..Default::default() }).unwrap();
        assert_eq!(removed.handle, None);
        assert!(!removed.discoverable, "no handle, not findable");

        let broken = kept.apply(&DiscoveryFields { handle: Some(Some("a b".into())), ..Default::default() }).unwrap_err();
        assert!(broken.at("/handle").is_some());
    }

    #[test]
    fn talent_queries_are_validated_and_bounded() {
        let query = TalentQuery::parse(&TalentFields { q: Some(" data ".into()), unexpired: Some(true), ..Default::default() }).unwrap();
        assert_eq!(query.text.as_deref(), Some("data"));
        assert!(query.unexpired);
        assert_eq!(query.limit, 20);

        let code = TalentQuery::parse(&TalentFields { framework: Some("ESCO".into()), code: Some("S1.2".into()), ..Default::default() }).unwrap();
        assert_eq!(code.competency, Some(CompetencyFilter::Code { framework: Some("ESCO".into()), code: "S1.2".into() }));

        let errors = TalentQuery::parse(&TalentFields {
            q: Some("x".repeat(201)),
            achievement: Some("nope".into()),
            criterion: Some("analysis".into()),
            min_level: Some("0".into()),
            recent_days: Some("-3".into()),
            limit: Some(500),
            framework: Some("ESCO".into()),
            ..Default::default()
        })
        .unwrap_err();
        let pointers: Vec<&str> = errors.errors.iter().map(|e| e.pointer.as_str()).collect();
        for pointer in ["/q", "/achievement", "/criterion", "/min_level", "/recent_days", "/limit", "/code"] {
            assert!(pointers.contains(&pointer), "{pointer} in {pointers:?}");
        }

        let lone_level = TalentQuery::parse(&TalentFields { min_level: Some("2".into()), ..Default::default() }).unwrap_err();
        assert_eq!(lone_level.at("/criterion"), Some("name the criterion the level is reached on"));
    }

    #[test]
    fn two_to_four_different_learners_are_compared() {
        assert_eq!(compare_handles(&["ada,grace".into(), "ada".into()]).unwrap().len(), 2, "repeats count once");
        let one = compare_handles(&["ada,ADA".into()]).unwrap_err();
        assert!(one.at("/learners").is_some(), "a repeat leaves one learner");
        assert_eq!(compare_handles(&["ada, grace ,alan".into()]).unwrap().len(), 3);
        assert!(compare_handles(&["ada,grace,alan,edsger,barbara".into()]).is_err());
        assert!(compare_handles(&["ada,no way".into()]).is_err());
    }

    #[test]
    fn contact_requests_carry_a_message_and_an_answer() {
        assert!(contact_message("  ").is_err());
        assert!(contact_message(&"x".repeat(2_001)).is_err());
        assert_eq!(contact_message(" Hello ").unwrap(), "Hello");
        assert_eq!(ContactStatus::decision("accept").unwrap(), ContactStatus::Accepted);
        assert!(ContactStatus::decision("maybe").is_err());
        for status in ContactStatus::ALL {
            assert_eq!(ContactStatus::parse(status.as_str()), Some(status));
        }
        for event in TalentEvent::ALL {
            assert_eq!(TalentEvent::parse(event.as_str()), Some(event));
        }
    }
}
