//! Renewal: how an issuer lets learners renew an award that expires — a full reassessment
//! against the achievement's own rubric, or a lighter renewal rubric with instructions for the
//! renewal evidence — and when an award may be renewed. A renewal is an ordinary submission
//! that names the award it renews; its pass issues a new award linked to the previous one.

use crate::achievement::{Kind, State};
use crate::award::{AwardStatus, EXPIRY_REMINDER_DAYS};
use crate::invalid::{self, Invalid};
use crate::rubric::{Rubric, RubricFields};
use std::fmt;
use time::{Duration, OffsetDateTime};

/// How an issuer renews an achievement's awards.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RenewalPath {
    /// The learner is assessed again against the achievement's own rubric (the default).
    #[default]
    Full,
    /// The learner sends renewal evidence, as `instructions` say, judged against a rubric of
    /// its own.
    Light { rubric: Rubric, instructions: String },
}

/// A renewal path as typed in a form or sent to the API, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenewalFields {
    /// `full` or `light`; absent or empty means `full`.
    pub path: Option<String>,
    /// The renewal rubric of a light path.
    pub rubric: Option<RubricFields>,
    /// What the renewal evidence should be, for a light path (Markdown).
    pub instructions: Option<String>,
}

/// Longest renewal instructions, in characters.
pub const MAX_INSTRUCTIONS_CHARS: usize = 4000;

impl RenewalPath {
    /// The API and storage name: `full` or `light`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RenewalPath::Full => "full",
            RenewalPath::Light { .. } => "light",
        }
    }

    /// The words a person reads ("Renewal: full reassessment").
    pub fn label(&self) -> &'static str {
        match self {
            RenewalPath::Full => "full reassessment against the rubric",
            RenewalPath::Light { .. } => "renewal evidence judged against a renewal rubric",
        }
    }

    /// The renewal rubric of a light path.
    pub fn rubric(&self) -> Option<&Rubric> {
        match self {
            RenewalPath::Full => None,
            RenewalPath::Light { rubric, .. } => Some(rubric),
        }
    }

    /// Applies the renewal rules for an achievement of `kind` valid for `validity_months`: a
    /// light path needs a rubric, and only an assessed achievement that expires has one.
    /// Errors are recorded in `invalid` under `/renewal`; the full path stands in for a bad one.
    pub(crate) fn parse(invalid: &mut Invalid, fields: Option<&RenewalFields>, kind: Kind, validity_months: Option<u32>) -> RenewalPath {
        let Some(fields) = fields else { return RenewalPath::Full };
        let path = fields.path.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("full");
        match path {
            "full" => RenewalPath::Full,
            "light" => {
                if matches!(kind, Kind::MicroCredential | Kind::Certificate) {
                    invalid.push(
                        "/renewal/path",
                        format!("a {} is earned by its components, not assessed, so it has no renewal path", kind.label().to_lowercase()),
                    );
                } else if validity_months.is_none() {
                    invalid.push("/renewal/path", "only an achievement with a validity period can be renewed");
                }
                let rubric = match &fields.rubric {
                    Some(rubric) if !(rubric.levels.is_empty() && rubric.criteria.is_empty()) => match Rubric::parse(rubric) {
                        Ok(rubric) => Some(rubric),
                        Err(errors) => {
                            invalid.extend_under("/renewal/rubric", errors);
                            None
                        }
                    },
                    _ => {
                        invalid.push("/renewal/rubric", "a light renewal needs a renewal rubric");
                        None
                    }
                };
                let instructions =
                    invalid::multiline(invalid, "/renewal/instructions", fields.instructions.as_deref().unwrap_or(""), 0, MAX_INSTRUCTIONS_CHARS);
                match rubric {
                    Some(rubric) => RenewalPath::Light { rubric, instructions },
                    None => RenewalPath::Full,
                }
            }
            other => {
                invalid.push("/renewal/path", format!("\"{}\" is not a renewal path (full or light)", invalid::clip(other)));
                RenewalPath::Full
            }
        }
    }

    /// Back to fields, for editing forms.
    pub fn to_fields(&self) -> RenewalFields {
        match self {
            RenewalPath::Full => RenewalFields { path: Some("full".into()), rubric: None, instructions: None },
            RenewalPath::Light { rubric, instructions } => {
                RenewalFields { path: Some("light".into()), rubric: Some(rubric.to_fields()), instructions: Some(instructions.clone()) }
            }
        }
    }
}

/// How many days before an award expires it may be renewed: the earliest expiry reminder's, so
/// that the first reminder can invite the learner to renew.
pub const RENEWAL_WINDOW_DAYS: u32 = earliest(EXPIRY_REMINDER_DAYS);

const fn earliest(days: [u32; 3]) -> u32 {
    let mut max = 0;
    let mut i = 0;
    while i < days.len() {
        if days[i] > max {
            max = days[i];
        }
        i += 1;
    }
    max
}

/// The first moment an award valid until `valid_until` may be renewed.
pub fn renewable_from(valid_until: OffsetDateTime) -> OffsetDateTime {
    valid_until - Duration::days(i64::from(RENEWAL_WINDOW_DAYS))
}

/// What the renewal rule needs to know about an award and its achievement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalState {
    pub status: AwardStatus,
    /// The award's end of validity.
    pub valid_until: Option<OffsetDateTime>,
    /// The achievement as it is now: its kind, state and validity period.
    pub kind: Kind,
    pub achievement_state: State,
    pub validity_months: Option<u32>,
    /// Whether a newer award already renews this one.
    pub renewed: bool,
    /// Whether a renewal submission of this award is open (not withdrawn, not yet awarded).
    pub renewal_open: bool,
}

/// Why an award cannot be renewed (now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRenewable {
    /// The award, or the achievement as it is now, has no end date.
    NeverExpires,
    /// A micro-credential or certificate: earned by its components, never assessed itself.
    NotAssessed(Kind),
    /// The achievement is retired (or not published).
    NotOffered,
    Revoked,
    Suspended,
    /// A newer award renews it already.
    AlreadyRenewed,
    /// A renewal submission is open.
    InProgress,
    /// Too early: more than [`RENEWAL_WINDOW_DAYS`] before it expires.
    TooEarly {
        from: OffsetDateTime,
    },
}

impl fmt::Display for NotRenewable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotRenewable::NeverExpires => f.write_str("this badge does not expire, so it needs no renewal"),
            NotRenewable::NotAssessed(kind) => {
                write!(f, "a {} is earned by its components, so it is not renewed itself; renew the badges it is made of", kind.label().to_lowercase())
            }
            NotRenewable::NotOffered => f.write_str("its issuer no longer offers this achievement, so it cannot be renewed"),
            NotRenewable::Revoked => f.write_str("this badge was revoked, so it cannot be renewed"),
            NotRenewable::Suspended => f.write_str("this badge is suspended, so it cannot be renewed until its issuer reinstates it"),
            NotRenewable::AlreadyRenewed => f.write_str("this badge was renewed already; renew the newer award when its time comes"),
            NotRenewable::InProgress => f.write_str("a renewal of this badge is in progress already"),
            NotRenewable::TooEarly { from } => {
                write!(f, "this badge can be renewed from {}, {RENEWAL_WINDOW_DAYS} days before it expires", cairn_vc::dates::day(*from))
            }
        }
    }
}

/// Whether an award may be renewed at `now`: it is active, its achievement is assessed, still
/// offered and has a validity period, it expires within [`RENEWAL_WINDOW_DAYS`] or has expired,
/// no newer award renews it and no renewal of it is open.
///
/// # Errors
/// [`NotRenewable`], saying why not (the first reason that applies).
pub fn renewable(state: &RenewalState, now: OffsetDateTime) -> Result<(), NotRenewable> {
    if matches!(state.kind, Kind::MicroCredential | Kind::Certificate) {
        return Err(NotRenewable::NotAssessed(state.kind));
    }
    let (Some(valid_until), Some(_)) = (state.valid_until, state.validity_months) else { return Err(NotRenewable::NeverExpires) };
    match state.status {
        AwardStatus::Revoked => return Err(NotRenewable::Revoked),
        AwardStatus::Suspended => return Err(NotRenewable::Suspended),
        AwardStatus::Active => {}
    }
    if state.renewed {
        return Err(NotRenewable::AlreadyRenewed);
    }
    if state.achievement_state != State::Published {
        return Err(NotRenewable::NotOffered);
    }
    if state.renewal_open {
        return Err(NotRenewable::InProgress);
    }
    let from = renewable_from(valid_until);
    if now < from {
        return Err(NotRenewable::TooEarly { from });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::CriterionFields;
    use time::macros::datetime;

    fn light_fields() -> RenewalFields {
        RenewalFields {
            path: Some("light".into()),
            rubric: Some(RubricFields {
                levels: vec!["Not yet".into(), "Current".into()],
                criteria: vec![CriterionFields {
                    id: None,
                    name: "Recent practice".into(),
                    description: String::new(),
                    required_level: "Current".into(),
                    descriptors: vec!["No recent work".into(), "Recent work shown".into()],
                }],
            }),
            instructions: Some("Show one piece of work from the last year.".into()),
        }
    }

    #[track_caller]
    fn check_path(fields: Option<RenewalFields>, kind: Kind, validity: Option<u32>, expected: &str) {
        let mut invalid = Invalid::new();
        let path = RenewalPath::parse(&mut invalid, fields.as_ref(), kind, validity);
        let got = if invalid.is_empty() {
            path.as_str().to_string()
        } else {
            invalid.errors.iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect::<Vec<_>>().join("; ")
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn renewal_paths_follow_their_rules() {
        check_path(None, Kind::MicroBadge, Some(24), "full");
        check_path(None, Kind::MicroBadge, None, "full");
        check_path(Some(RenewalFields { path: Some(" ".into()), ..Default::default() }), Kind::MicroBadge, None, "full");
        check_path(Some(light_fields()), Kind::MicroBadge, Some(24), "light");
        check_path(Some(light_fields()), Kind::Level(2), Some(24), "light");
        check_path(Some(light_fields()), Kind::MicroBadge, None, "/renewal/path only an achievement with a validity period can be renewed");
        check_path(
            Some(light_fields()),
            Kind::Certificate,
            Some(24),
            "/renewal/path a certificate is earned by its components, not assessed, so it has no renewal path",
        );
        check_path(
            Some(RenewalFields { rubric: None, ..light_fields() }),
            Kind::MicroBadge,
            Some(24),
            "/renewal/rubric a light renewal needs a renewal rubric",
        );
        let mut broken = light_fields();
        broken.rubric.as_mut().unwrap().levels.pop();
        check_path(
            Some(broken),
            Kind::MicroBadge,
            Some(24),
            "/renewal/rubric/levels a rubric needs 2 to 6 levels (got 1); /renewal/rubric/criteria/0/required_level \"Current\" is not a level of this rubric; \
             /renewal/rubric/criteria/0/descriptors needs one descriptor per level (1; got 2)",
        );
        check_path(
            Some(RenewalFields { path: Some("quick".into()), ..Default::default() }),
            Kind::MicroBadge,
            Some(24),
            "/renewal/path \"quick\" is not a renewal path (full or light)",
        );
    }

    #[test]
    fn a_light_path_round_trips_through_its_fields() {
        let mut invalid = Invalid::new();
        let path = RenewalPath::parse(&mut invalid, Some(&light_fields()), Kind::MicroBadge, Some(12));
        assert!(invalid.is_empty());
        assert_eq!(path.rubric().map(|r| r.criteria[0].id.as_str()), Some("recent-practice"));
        assert_eq!(RenewalPath::parse(&mut invalid, Some(&path.to_fields()), Kind::MicroBadge, Some(12)), path);
        assert_eq!(RenewalPath::Full.to_fields().path.as_deref(), Some("full"));
    }

    #[test]
    fn the_renewal_window_is_the_earliest_reminder() {
        assert_eq!(RENEWAL_WINDOW_DAYS, 90);
        assert_eq!(renewable_from(datetime!(2027-06-01 12:00 UTC)), datetime!(2027-03-03 12:00 UTC));
    }

    #[track_caller]
    fn check(edit: impl FnOnce(&mut RenewalState), now: OffsetDateTime, expected: &str) {
        let mut state = RenewalState {
            status: AwardStatus::Active,
            valid_until: Some(datetime!(2027-06-01 12:00 UTC)),
            kind: Kind::MicroBadge,
            achievement_state: State::Published,
            validity_months: Some(24),
            renewed: false,
            renewal_open: false,
        };
        edit(&mut state);
        let got = match renewable(&state, now) {
            Ok(()) => "renewable".to_string(),
            Err(why) => why.to_string(),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn an_award_is_renewable_when_it_expires_soon_or_has_expired() {
        let early = datetime!(2027-01-01 12:00 UTC);
        let soon = datetime!(2027-05-01 12:00 UTC);
        let after = datetime!(2028-01-01 12:00 UTC);
        check(|_| {}, early, "this badge can be renewed from 3 March 2027, 90 days before it expires");
        check(|_| {}, datetime!(2027-03-03 12:00 UTC), "renewable");
        check(|_| {}, soon, "renewable");
        check(|_| {}, after, "renewable");
        check(|s| s.valid_until = None, soon, "this badge does not expire, so it needs no renewal");
        check(|s| s.validity_months = None, soon, "this badge does not expire, so it needs no renewal");
        check(|s| s.status = AwardStatus::Revoked, soon, "this badge was revoked, so it cannot be renewed");
        check(|s| s.status = AwardStatus::Suspended, soon, "this badge is suspended, so it cannot be renewed until its issuer reinstates it");
        check(|s| s.renewed = true, after, "this badge was renewed already; renew the newer award when its time comes");
        check(|s| s.renewal_open = true, soon, "a renewal of this badge is in progress already");
        check(|s| s.achievement_state = State::Retired, soon, "its issuer no longer offers this achievement, so it cannot be renewed");
        check(
            |s| s.kind = Kind::MicroCredential,
            soon,
            "a micro-credential is earned by its components, so it is not renewed itself; renew the badges it is made of",
        );
        check(|s| s.kind = Kind::Level(1), soon, "renewable");
    }
}
