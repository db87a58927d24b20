//! Identifier newtypes: one type per entity so ids of different things cannot be mixed up.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh random (version 4) identifier.
            pub fn new() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// An issuer organisation.
    OrganisationId
);
id_type!(
    /// An achievement (micro-badge, micro-credential or level badge); stable across versions.
    AchievementId
);
id_type!(
    /// An API token (the id, not the secret).
    TokenId
);
id_type!(
    /// A learner's submission for one achievement (all its attempts).
    SubmissionId
);
id_type!(
    /// One piece of evidence in a submission: a file, a link or a text.
    ArtifactId
);
id_type!(
    /// One assessor's judgement of one attempt.
    AssessmentId
);
id_type!(
    /// An awarded achievement: the credential a learner holds.
    AwardId
);
id_type!(
    /// An in-app notification.
    NotificationId
);
id_type!(
    /// A side effect waiting in the outbox (awarding a pass, stacking, telling someone).
    EffectId
);
id_type!(
    /// An invitation to join an organisation (the id, not the secret).
    InvitationId
);
id_type!(
    /// An issuer's offer of an achievement to an e-mail address, claimed by its recipient (the
    /// id, not the claim link's secret).
    AwardOfferId
);
id_type!(
    /// A bulk award: a CSV file of direct awards, checked on upload and awarded row by row.
    AwardBatchId
);
id_type!(
    /// A learner's consent to an application (an OAuth 2.0 client) using the Open Badges API
    /// on their behalf.
    OAuthGrantId
);
id_type!(
    /// A badge earned elsewhere that a learner imported.
    ImportId
);
id_type!(
    /// An organisation's webhook endpoint.
    WebhookEndpointId
);
id_type!(
    /// One event's delivery to one webhook endpoint, with its attempts.
    WebhookDeliveryId
);
id_type!(
    /// A Checkout Session made at Stripe for a submission's fee.
    PaymentId
);
id_type!(
    /// An issuer's equivalency rule: an achievement from elsewhere that counts as one of theirs.
    EquivalencyId
);
id_type!(
    /// An employer's request to contact a learner, which the learner accepts or declines.
    ContactRequestId
);
