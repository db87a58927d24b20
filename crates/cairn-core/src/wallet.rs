//! Wallet pickup: a learner sends an award to a standards wallet over OpenID for Verifiable
//! Credential Issuance (pre-authorized code flow). The award page makes an *offer*: a QR code
//! and a link holding a single-use pre-authorized code, and a transaction code shown beside it
//! (never inside it), which the wallet's user types in. The wallet exchanges both for a
//! short-lived access token, proves it holds a key, and receives the award's credential bound
//! to that key's DID, signed afresh, with the award's own status entries: revoking or
//! suspending the award reaches every copy in a wallet.
//!
//! The rules here are the lifetimes, the transaction code's shape and tries, and which awards
//! may be sent. The messages are `cairn_vc::oid4vci`'s.

use time::{Duration, OffsetDateTime};

use crate::award::AwardStatus;

/// How long an offer (its QR code) works, unredeemed.
pub const OFFER_LIFETIME: Duration = Duration::minutes(10);
/// How long the access token an offer gives works: long enough to fetch both formats.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(5);
/// How long a nonce for a key proof works.
pub const NONCE_LIFETIME: Duration = Duration::minutes(5);
/// Digits of the transaction code.
pub const TX_CODE_DIGITS: usize = 6;
/// Wrong transaction codes an offer takes before it stops working.
pub const MAX_TX_CODE_FAILURES: u32 = 5;

/// The transaction code made from a random number: [`TX_CODE_DIGITS`] digits, leading zeros
/// kept.
pub fn tx_code(random: u32) -> String {
    format!("{:06}", random % 1_000_000)
}

/// Whether `text` has the transaction code's shape (before it is compared).
pub fn plausible_tx_code(text: &str) -> bool {
    text.len() == TX_CODE_DIGITS && text.bytes().all(|b| b.is_ascii_digit())
}

/// Why an award cannot be sent to a wallet now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotSendable {
    #[error("This badge was revoked by its issuer, so it cannot be added to a wallet")]
    Revoked,
    #[error("This badge is suspended by its issuer; it can be added to a wallet once it is reinstated")]
    Suspended,
    #[error("This badge has expired; renew it to add a current one to a wallet")]
    Expired,
    #[error("This badge has been renewed: add the newer award to your wallet")]
    Renewed,
}

/// The award's state as far as sending it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sendable {
    pub status: AwardStatus,
    pub valid_until: Option<OffsetDateTime>,
    pub renewed: bool,
}

impl Sendable {
    /// Whether the award may go to a wallet at `now`: active, unexpired and current (not
    /// renewed). Checked when the offer is made and again when the wallet collects.
    ///
    /// # Errors
    /// [`NotSendable`] saying why not.
    pub fn check(self, now: OffsetDateTime) -> Result<(), NotSendable> {
        match self.status {
            AwardStatus::Revoked => return Err(NotSendable::Revoked),
            AwardStatus::Suspended => return Err(NotSendable::Suspended),
            AwardStatus::Active => {}
        }
        if self.renewed {
            return Err(NotSendable::Renewed);
        }
        if self.valid_until.is_some_and(|until| until <= now) {
            return Err(NotSendable::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tx_codes_have_six_digits() {
        assert_eq!(tx_code(42), "000042");
        assert_eq!(tx_code(u32::MAX), "967295");
        assert!(plausible_tx_code("000042"));
        assert!(!plausible_tx_code("42"));
        assert!(!plausible_tx_code("12345a"));
        assert!(!plausible_tx_code("１２３４５６"));
    }

    #[test]
    fn only_current_active_awards_are_sent() {
        let now = datetime!(2026-12-07 12:00 UTC);
        let active = Sendable { status: AwardStatus::Active, valid_until: None, renewed: false };
        assert_eq!(active.check(now), Ok(()));
        assert_eq!(Sendable { valid_until: Some(now + Duration::days(1)), ..active }.check(now), Ok(()));
        assert_eq!(Sendable { valid_until: Some(now), ..active }.check(now), Err(NotSendable::Expired));
        assert_eq!(Sendable { status: AwardStatus::Revoked, ..active }.check(now), Err(NotSendable::Revoked));
        assert_eq!(Sendable { status: AwardStatus::Suspended, ..active }.check(now), Err(NotSendable::Suspended));
        assert_eq!(Sendable { renewed: true, ..active }.check(now), Err(NotSendable::Renewed));
    }
}
