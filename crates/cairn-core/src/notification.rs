//! What a notification is about: one [`NotificationKind`] per thing that happens to a person,
//! stored as text and shown to API clients as that text.

/// Why someone was told something. The text forms are stable: they are stored and the API shows
/// them (`kind` of `/api/v1/notifications`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// The learner's evidence was received.
    Submitted,
    /// A submission is in the assessor's queue.
    Assignment,
    /// A submission has no eligible assessor (told to the issuer's staff).
    Unassigned,
    /// The assessor's judgement is "not yet".
    NotYet,
    /// A pass waits for the issuer's confirmation (told to the learner).
    Passed,
    /// A pass to confirm (told to the issuer's staff).
    Confirm,
    /// A fee was recorded as paid or waived.
    Fee,
    /// A submission is nearly due or overdue.
    Escalation,
    /// An achievement was awarded.
    Award,
    AwardRevoked,
    AwardSuspended,
    AwardReinstated,
    /// An award expires soon (90, 30 and 7 days before, each once).
    AwardExpiring,
    /// Someone named the person as a collaborator on their submission.
    Collaboration,
    /// An employer asked to contact the learner.
    ContactRequest,
    /// The learner answered an employer's contact request (told to the member who asked).
    ContactAnswer,
    /// Two blind scorings of a sampled submission disagree (told to the issuer's moderators).
    Moderation,
}

impl NotificationKind {
    /// Every kind, for exhaustive checks.
    pub const ALL: [NotificationKind; 17] = [
        NotificationKind::Submitted,
        NotificationKind::Assignment,
        NotificationKind::Unassigned,
        NotificationKind::NotYet,
        NotificationKind::Passed,
        NotificationKind::Confirm,
        NotificationKind::Fee,
        NotificationKind::Escalation,
        NotificationKind::Award,
        NotificationKind::AwardRevoked,
        NotificationKind::AwardSuspended,
        NotificationKind::AwardReinstated,
        NotificationKind::AwardExpiring,
        NotificationKind::Collaboration,
        NotificationKind::ContactRequest,
        NotificationKind::ContactAnswer,
        NotificationKind::Moderation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Submitted => "submitted",
            NotificationKind::Assignment => "assignment",
            NotificationKind::Unassigned => "unassigned",
            NotificationKind::NotYet => "not_yet",
            NotificationKind::Passed => "passed",
            NotificationKind::Confirm => "confirm",
            NotificationKind::Fee => "fee",
            NotificationKind::Escalation => "escalation",
            NotificationKind::Award => "award",
            NotificationKind::AwardRevoked => "award-revoked",
            NotificationKind::AwardSuspended => "award-suspended",
            NotificationKind::AwardReinstated => "award-reinstated",
            NotificationKind::AwardExpiring => "award-expiring",
            NotificationKind::Collaboration => "collaboration",
            NotificationKind::ContactRequest => "contact-request",
            NotificationKind::ContactAnswer => "contact-answer",
            NotificationKind::Moderation => "moderation",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_text() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NotificationKind::parse("award_revoked"), None);
        assert_eq!(NotificationKind::parse(""), None);
    }
}
