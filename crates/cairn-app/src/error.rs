//! The one error every use case returns, its variants named by what went wrong. Each carries the
//! sentence people are shown; the HTTP layer maps a variant to a status and a problem type once.

use cairn_core::Invalid;
use cairn_core::authz::Denied;
use cairn_store::StoreError;

/// Which rule a [`AppError::Conflict`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// The request clashes with what is stored: a name already taken, a voucher already used,
    /// a change that is not possible any more.
    Generic,
    /// The achievement's life-cycle state does not allow it (a retired one cannot be edited…).
    AchievementState,
    /// The submission's state does not allow it (sent twice, assessed twice, no attempts left…).
    SubmissionState,
    /// The achievement's fee is due before the evidence can be sent.
    FeeDue,
    /// The issuer requires every named collaborator's reflection before the evidence is sent.
    ReflectionsMissing,
    /// The learner already holds the achievement.
    AlreadyAwarded,
    /// A micro-credential's levels are taken in order, and an earlier level is not held yet.
    LevelOrder,
    /// An award that cannot be renewed (now): too early, withdrawn, renewed already, a renewal
    /// in progress (`cairn_core::renewal::NotRenewable` says which).
    NotRenewable,
}

/// Why a use case did not happen. Nothing was changed on any of them.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nobody is signed in, and this needs someone.
    #[error("sign in to do this")]
    Unauthenticated,
    /// A sign-in with an unknown e-mail address or a wrong password (never which of the two).
    #[error("the e-mail address or password is wrong")]
    WrongCredentials,
    /// A bearer token that is unknown or revoked.
    #[error("the bearer token is unknown or revoked")]
    UnknownToken,
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing exists here, or it is not visible to the actor.
    #[error("{0}")]
    NotFound(String),
    /// Something that existed once and is gone for good: a used or expired password reset link.
    #[error("{0}")]
    Gone(String),
    /// Input that broke field rules, each addressed by a JSON Pointer.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The request conflicts with the stored state.
    #[error("{detail}")]
    Conflict { kind: ConflictKind, detail: String },
    /// An upload larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// An upload of a type that is not accepted, or not the type it claims.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Temporarily impossible: the database is unreachable, a status list is full.
    #[error("{0}")]
    Unavailable(String),
    /// Too much work at once (password hashing is saturated); try again after `retry_after`
    /// seconds.
    #[error("the server is busy; try again in {retry_after} seconds")]
    Busy { retry_after: u64 },
    /// Too many attempts of one kind for this account or from this address lately; try again
    /// after `retry_after` seconds.
    #[error("too many {} for this account or from this network lately; try again in {} minutes", what.words(), retry_after.div_ceil(60))]
    Throttled { retry_after: u64, what: Throttle },
    /// An OAuth 2.0 request refused with one of the RFC 6749 / 6750 / 7591 error codes (the
    /// Open Badges API's sign-in for other applications).
    #[error("{0}")]
    OAuth(#[from] cairn_core::oauth::OAuthError),
    /// An unexpected failure; its cause chain was logged where it was made
    /// ([`AppError::internal`]).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An unexpected failure: its cause chain is logged here, once; people are told only that
    /// something went wrong.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> AppError {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next.source();
        }
        tracing::error!(error = %chain, "internal error");
        AppError::Internal(chain)
    }

    /// One broken field rule.
    pub fn invalid_field(pointer: &str, detail: impl Into<String>) -> AppError {
        AppError::Invalid(Invalid::one(pointer, detail))
    }

    /// A clash with stored data.
    pub fn conflict(detail: impl Into<String>) -> AppError {
        AppError::Conflict { kind: ConflictKind::Generic, detail: detail.into() }
    }

    /// The sentence people are shown: the message, except for internal failures, whose cause
    /// stays in the log.
    pub fn detail(&self) -> String {
        match self {
            AppError::Internal(_) => "something went wrong".to_string(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound { entity, id } if id.is_empty() => AppError::NotFound(format!("{entity} not found")),
            StoreError::NotFound { .. } => AppError::NotFound(error.to_string()),
            StoreError::Conflict { .. } => AppError::conflict(error.to_string()),
            StoreError::Unavailable { .. } | StoreError::DatabaseDown(_) => {
                tracing::warn!(%error, cause = ?std::error::Error::source(&error), "the database is not reachable");
                AppError::Unavailable("the database is not reachable; please try again in a moment".into())
            }
            StoreError::Blob(cause) => {
                tracing::warn!(%cause, "the blob store failed");
                AppError::Unavailable("the file store is not reachable; please try again in a moment".into())
            }
            StoreError::Full(detail) => {
                tracing::error!(%detail, "storage is full");
                AppError::Unavailable(detail.clone())
            }
            StoreError::InvalidText => AppError::invalid_field("", error.to_string()),
            _ => AppError::internal(&error),
        }
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Unauthenticated => AppError::Unauthenticated,
            Denied::Forbidden => AppError::Forbidden("your role in this organisation does not allow this".into()),
            Denied::ReadOnly => {
                AppError::Forbidden("this API token is read-only: it may only read (GET); create a token with full access to make changes".into())
            }
        }
    }
}

impl From<cairn_core::achievement::TransitionError> for AppError {
    fn from(error: cairn_core::achievement::TransitionError) -> Self {
        AppError::Conflict { kind: ConflictKind::AchievementState, detail: error.to_string() }
    }
}

impl From<cairn_core::submission::TransitionError> for AppError {
    fn from(error: cairn_core::submission::TransitionError) -> Self {
        AppError::Conflict { kind: ConflictKind::SubmissionState, detail: error.to_string() }
    }
}

impl From<cairn_core::submission::SendError> for AppError {
    fn from(error: cairn_core::submission::SendError) -> Self {
        use cairn_core::submission::SendError;
        match error {
            SendError::State(error) => error.into(),
            SendError::FeeDue => AppError::Conflict { kind: ConflictKind::FeeDue, detail: error.to_string() },
            SendError::ReflectionsMissing(_) => AppError::Conflict { kind: ConflictKind::ReflectionsMissing, detail: error.to_string() },
            SendError::Incomplete(invalid) => AppError::Invalid(invalid),
            SendError::NoAttemptsLeft { .. } => AppError::Conflict { kind: ConflictKind::SubmissionState, detail: error.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_keep_their_meaning() {
        let missing: AppError = StoreError::NotFound { entity: "award", id: String::new() }.into();
        assert!(matches!(&missing, AppError::NotFound(detail) if detail == "award not found"), "{missing:?}");
        let named: AppError = StoreError::NotFound { entity: "award", id: "x".into() }.into();
        assert_eq!(named.detail(), "award \"x\" not found");
        let taken: AppError = StoreError::Conflict { constraint: "organisations.name", detail: "the name is taken".into() }.into();
        assert!(matches!(taken, AppError::Conflict { kind: ConflictKind::Generic, .. }));
        let corrupt: AppError = StoreError::Corrupt("bad row".into()).into();
        assert!(matches!(&corrupt, AppError::Internal(chain) if chain.contains("bad row")));
        assert_eq!(corrupt.detail(), "something went wrong", "the cause stays in the log");
        let nul: AppError = StoreError::InvalidText.into();
        assert!(matches!(&nul, AppError::Invalid(invalid) if invalid.errors.len() == 1), "{nul:?}");
    }

    #[test]
    fn denials_are_unauthenticated_or_forbidden() {
        assert!(matches!(AppError::from(Denied::Unauthenticated), AppError::Unauthenticated));
        assert!(matches!(AppError::from(Denied::Forbidden), AppError::Forbidden(_)));
        assert!(matches!(AppError::from(Denied::ReadOnly), AppError::Forbidden(detail) if detail.contains("read-only")));
        assert_eq!(AppError::Unauthenticated.detail(), "sign in to do this");
    }
}

/// What was tried too often, for [`AppError::Throttled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Sign-ins with a wrong password (and wrong current passwords on the account page).
    SignIn,
    SignUp,
    PasswordReset,
    /// OAuth client registrations (the Open Badges API's), per client address.
    ClientRegistration,
}

impl Throttle {
    /// What was counted, in words: "failed sign-ins".
    pub fn words(self) -> &'static str {
        match self {
            Throttle::SignIn => "failed sign-ins",
            Throttle::SignUp => "sign-ups",
            Throttle::PasswordReset => "password reset requests",
            Throttle::ClientRegistration => "application registrations",
        }
    }
}
