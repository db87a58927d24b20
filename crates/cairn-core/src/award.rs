//! Awards: the credential a learner holds, its status (active, revoked, suspended), its privacy,
//! its validity period, stacking of level badges into a micro-credential, and sharing links.

use crate::ids::AchievementId;
use time::{Date, Month, OffsetDateTime};

/// Whether an award counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwardStatus {
    Active,
    /// Withdrawn for good; the status list says so.
    Revoked,
    /// Withdrawn for now; may be reinstated.
    Suspended,
}

impl AwardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AwardStatus::Active => "active",
            AwardStatus::Revoked => "revoked",
            AwardStatus::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<AwardStatus> {
        match raw {
            "active" => Some(AwardStatus::Active),
            "revoked" => Some(AwardStatus::Revoked),
            "suspended" => Some(AwardStatus::Suspended),
            _ => None,
        }
    }

    /// The status after an issuer's action, or why it cannot happen.
    ///
    /// # Errors
    /// A message: revoked awards stay revoked; only suspended awards are reinstated.
    pub fn apply(self, action: StatusAction) -> Result<AwardStatus, String> {
        match (self, action) {
            (AwardStatus::Revoked, _) => Err("this award is revoked; revocation cannot be undone".into()),
            (_, StatusAction::Revoke) => Ok(AwardStatus::Revoked),
            (AwardStatus::Active, StatusAction::Suspend) => Ok(AwardStatus::Suspended),
            (AwardStatus::Suspended, StatusAction::Reinstate) => Ok(AwardStatus::Active),
            (AwardStatus::Suspended, StatusAction::Suspend) => Err("this award is already suspended".into()),
            (AwardStatus::Active, StatusAction::Reinstate) => Err("this award is not suspended".into()),
        }
    }
}

/// Why an award was revoked or suspended, and whether the issuer chose to publish it. An
/// unpublished reason is for the issuer's staff and the learner only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReason {
    pub text: String,
    pub public: bool,
}

impl StatusReason {
    /// A reason kept private (the default).
    pub fn private(text: impl Into<String>) -> StatusReason {
        StatusReason { text: text.into(), public: false }
    }

    /// A reason the issuer publishes with the status.
    pub fn published(text: impl Into<String>) -> StatusReason {
        StatusReason { text: text.into(), public: true }
    }
}

impl From<&str> for StatusReason {
    fn from(text: &str) -> StatusReason {
        StatusReason::private(text)
    }
}

impl From<String> for StatusReason {
    fn from(text: String) -> StatusReason {
        StatusReason::private(text)
    }
}

/// What an issuer may do to an award's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Revoke,
    Suspend,
    Reinstate,
}

impl StatusAction {
    pub fn parse(raw: &str) -> Option<StatusAction> {
        match raw.trim() {
            "revoke" => Some(StatusAction::Revoke),
            "suspend" => Some(StatusAction::Suspend),
            "reinstate" => Some(StatusAction::Reinstate),
            _ => None,
        }
    }
}

/// Who may see an award, as its learner chose (the rule that uses it is
/// `crate::authz::Action::ViewAward`). New awards start private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Privacy {
    /// Anyone, and it may be listed and indexed.
    Public,
    /// Anyone with the link; not listed, not indexed.
    Unlisted,
    /// The learner and the issuer's staff only (downloaded OB 3.0 copies still verify).
    Private,
}

impl Privacy {
    pub const ALL: [Privacy; 3] = [Privacy::Public, Privacy::Unlisted, Privacy::Private];

    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::Unlisted => "unlisted",
            Privacy::Private => "private",
        }
    }

    pub fn parse(raw: &str) -> Option<Privacy> {
        Privacy::ALL.into_iter().find(|p| p.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Privacy::Public => "Public",
            Privacy::Unlisted => "Anyone with the link",
            Privacy::Private => "Only me",
        }
    }

    /// Whether people other than the learner and the issuer's staff may see the award.
    pub fn shows_to_others(self) -> bool {
        !matches!(self, Privacy::Private)
    }
}

/// The end of an award's validity: `months` after `issued`, on the same day of the month or the
/// month's last day.
pub fn valid_until(issued: OffsetDateTime, months: Option<u32>) -> Option<OffsetDateTime> {
    let months = months?;
    let total = i64::from(issued.year()) * 12 + i64::from(u8::from(issued.month()) - 1) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let last_day = time::util::days_in_month(month, year);
    let date = Date::from_calendar_date(year, month, issued.day().min(last_day)).ok()?;
    Some(issued.replace_date(date))
}

/// Whether an award valid until `valid_until` has expired at `now` (one without an end date never
/// does). An expired award is still genuine; it just no longer attests anything current.
pub fn expired(valid_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    valid_until.is_some_and(|until| until < now)
}

/// How many days before an award expires its learner is reminded, the earliest first. Each
/// reminder is sent once.
pub const EXPIRY_REMINDER_DAYS: [u32; 3] = [90, 30, 7];

/// The expiry reminder due for an active award valid until `valid_until` at `now`: the nearest of
/// [`EXPIRY_REMINDER_DAYS`] that the time left is within, so an award issued with 20 days left
/// gets the 30-day reminder, then the 7-day one, never the 90-day one. `None` when the award never
/// expires, has expired, has more time left than the earliest reminder, or is not active.
pub fn expiry_reminder_due(status: AwardStatus, valid_until: Option<OffsetDateTime>, now: OffsetDateTime) -> Option<u32> {
    let left = valid_until? - now;
    if status != AwardStatus::Active || left.is_negative() {
        return None;
    }
    EXPIRY_REMINDER_DAYS.into_iter().rev().find(|&days| left <= time::Duration::days(i64::from(days)))
}

/// Whether holding `held` completes a micro-credential whose level badges are `levels`.
pub fn completes_stack(levels: &[AchievementId], held: &[AchievementId]) -> bool {
    !levels.is_empty() && levels.iter().all(|level| held.contains(level))
}

/// What a LinkedIn "Add to profile" certification link carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedInCertification<'a> {
    pub name: &'a str,
    pub organisation: &'a str,
    pub issued: OffsetDateTime,
    pub expires: Option<OffsetDateTime>,
    pub certificate_url: &'a str,
    pub certificate_id: &'a str,
}

/// LinkedIn's "Add to profile" URL for a certification.
pub fn linkedin_add_to_profile(cert: &LinkedInCertification<'_>) -> String {
    let mut url = url::Url::parse("https://www.linkedin.com/profile/add").expect("a fixed URL parses");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("startTask", "CERTIFICATION_NAME");
        query.append_pair("name", cert.name);
        query.append_pair("organizationName", cert.organisation);
        query.append_pair("issueYear", &cert.issued.year().to_string());
        query.append_pair("issueMonth", &u8::from(cert.issued.month()).to_string());
        if let Some(expires) = cert.expires {
            query.append_pair("expirationYear", &expires.year().to_string());
            query.append_pair("expirationMonth", &u8::from(expires.month()).to_string());
        }
        query.append_pair("certUrl", cert.certificate_url);
        query.append_pair("certId", cert.certificate_id);
    }
    url.to_string()
}

/// Share links for an award page.
pub fn share_links(page_url: &str, title: &str) -> Vec<(&'static str, String)> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    vec![
        ("X", format!("https://twitter.com/intent/tweet?url={}&text={}", enc(page_url), enc(title))),
        ("Facebook", format!("https://www.facebook.com/sharer/sharer.php?u={}", enc(page_url))),
        ("E-mail", format!("mailto:?subject={}&body={}", enc(title).replace('+', "%20"), enc(page_url).replace('+', "%20"))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_nearest_expiry_reminder_is_due_and_none_once_expired() {
        let now = datetime!(2027-01-01 12:00 UTC);
        let days = |d: i64| Some(now + time::Duration::days(d));
        let cases = [
            (days(120), None),
            (days(91), None),
            (days(90), Some(90)),
            (days(31), Some(90)),
            (days(30), Some(30)),
            (days(20), Some(30)),
            (days(7), Some(7)),
            (Some(now + time::Duration::hours(1)), Some(7)),
            (Some(now), Some(7)),
            (Some(now - time::Duration::seconds(1)), None),
            (None, None),
        ];
        for (until, expected) in cases {
            assert_eq!(expiry_reminder_due(AwardStatus::Active, until, now), expected, "{until:?}");
        }
        assert_eq!(expiry_reminder_due(AwardStatus::Suspended, days(7), now), None);
        assert_eq!(expiry_reminder_due(AwardStatus::Revoked, days(7), now), None);
    }

    #[test]
    fn status_actions_follow_the_rules() {
        assert_eq!(AwardStatus::Active.apply(StatusAction::Suspend), Ok(AwardStatus::Suspended));
        assert_eq!(AwardStatus::Suspended.apply(StatusAction::Reinstate), Ok(AwardStatus::Active));
        assert_eq!(AwardStatus::Suspended.apply(StatusAction::Revoke), Ok(AwardStatus::Revoked));
        assert!(AwardStatus::Revoked.apply(StatusAction::Reinstate).is_err());
        assert!(AwardStatus::Active.apply(StatusAction::Reinstate).is_err());
        assert_eq!(StatusAction::parse("suspend"), Some(StatusAction::Suspend));
        assert_eq!(Privacy::parse("unlisted"), Some(Privacy::Unlisted));
        assert!(!Privacy::Private.shows_to_others());
    }

    #[test]
    fn validity_counts_calendar_months() {
        assert_eq!(valid_until(datetime!(2026-01-31 12:00 UTC), Some(1)), Some(datetime!(2026-02-28 12:00 UTC)));
        assert_eq!(valid_until(datetime!(2026-11-22 12:00 UTC), Some(24)), Some(datetime!(2028-11-22 12:00 UTC)));
        assert_eq!(valid_until(datetime!(2026-11-22 12:00 UTC), Some(2)), Some(datetime!(2027-01-22 12:00 UTC)));
        assert_eq!(valid_until(datetime!(2026-11-22 12:00 UTC), None), None);
    }

    #[test]
    fn an_award_expires_after_its_last_valid_moment() {
        let until = Some(datetime!(2027-11-22 12:00 UTC));
        assert!(!expired(until, datetime!(2027-11-22 11:59 UTC)));
        assert!(!expired(until, datetime!(2027-11-22 12:00 UTC)), "valid up to and including its end");
        assert!(expired(until, datetime!(2027-11-22 12:01 UTC)));
        assert!(!expired(None, datetime!(2999-01-01 0:00 UTC)), "no end date, no expiry");
    }

    #[test]
    fn stacks_complete_with_every_level() {
        let levels = [AchievementId::new(), AchievementId::new(), AchievementId::new()];
        assert!(!completes_stack(&levels, &levels[..2]));
        assert!(completes_stack(&levels, &[levels[2], AchievementId::new(), levels[0], levels[1]]));
        assert!(!completes_stack(&[], &levels));
    }

    #[test]
    fn linkedin_links_carry_the_certification() {
        let url = linkedin_add_to_profile(&LinkedInCertification {
            name: "Data & Analysis",
            organisation: "Cairn University",
            issued: datetime!(2026-11-22 12:00 UTC),
            expires: Some(datetime!(2028-11-22 12:00 UTC)),
            certificate_url: "https://cairn.example/awards/1",
            certificate_id: "1",
        });
        assert!(url.starts_with("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=Data+%26+Analysis"), "{url}");
        for part in
            ["organizationName=Cairn+University", "issueYear=2026", "issueMonth=11", "expirationYear=2028", "certUrl=https%3A%2F%2Fcairn.example%2Fawards%2F1"]
        {
            assert!(url.contains(part), "{part} in {url}");
        }
        let shares = share_links("https://cairn.example/awards/1", "My badge");
        assert!(shares.iter().any(|(name, link)| *name == "E-mail" && link.starts_with("mailto:?subject=My%20badge")));
    }
}
