//! Paying assessment fees online through an issuer's own Stripe account: the rules that need no
//! database or network. The keys an owner gives ([`StripeKeys::parse`]), the check of a webhook's
//! `Stripe-Signature` header as Stripe documents it ([`verify_signature`]: HMAC-SHA256 of
//! `"{t}.{body}"` under the endpoint's signing secret, any `v1` entry, within a tolerance of five
//! minutes), and a payment's states ([`PaymentStatus`]).

use hmac::{Hmac, Mac};

use crate::invalid::Invalid;

/// How old (or how far ahead) a signed webhook's timestamp may be, in seconds: Stripe's libraries'
/// default tolerance.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;
/// The largest webhook body read.
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;
/// How long a Checkout Session stays open, in minutes (Stripe allows 30 minutes to 24 hours).
pub const CHECKOUT_MINUTES: i64 = 60;

/// An organisation's Stripe keys, as its owner gives them.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeKeys {
    /// A secret key (`sk_…`) or restricted key (`rk_…`) with write access to Checkout Sessions
    /// and Refunds.
    pub secret_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// Whether the keys are live keys (not test mode).
    pub livemode: bool,
}

impl std::fmt::Debug for StripeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeKeys").field("secret_key", &"***").field("webhook_secret", &"***").field("livemode", &self.livemode).finish()
    }
}

fn token_like(text: &str) -> bool {
    !text.is_empty() && text.len() <= 255 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl StripeKeys {
    /// Checks the form of the keys (not whether Stripe takes them).
    ///
    /// # Errors
    /// `Invalid` at `/secret_key` and `/webhook_secret`, saying what each should look like.
    pub fn parse(secret_key: &str, webhook_secret: &str) -> Result<StripeKeys, Invalid> {
        let mut invalid = Invalid::new();
        let secret_key = secret_key.trim();
        let webhook_secret = webhook_secret.trim();
        let livemode = secret_key.starts_with("sk_live_") || secret_key.starts_with("rk_live_");
        let test = secret_key.starts_with("sk_test_") || secret_key.starts_with("rk_test_");
        if secret_key.starts_with("pk_") {
            invalid.push("/secret_key", "this is a publishable key (pk_…); give the secret key (sk_…) or a restricted key (rk_…)");
        } else if !(livemode || test) || !token_like(secret_key) {
            invalid.push("/secret_key", "a Stripe secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_");
        }
        if !webhook_secret.starts_with("whsec_") || !token_like(webhook_secret) {
            invalid.push("/webhook_secret", "a webhook signing secret starts with whsec_ (Stripe shows it on the webhook endpoint's page)");
        }
        invalid.into_result(StripeKeys { secret_key: secret_key.to_string(), webhook_secret: webhook_secret.to_string(), livemode })
    }
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp (t=) or no v1 signature")]
    Malformed,
    #[error("the signature does not match the body under the endpoint's signing secret")]
    Mismatch,
    #[error("the signature's timestamp is more than {SIGNATURE_TOLERANCE_SECS} seconds from now")]
    Stale,
}

/// The `v1` signature of `body` at time `t` under `secret`, in hex.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A `Stripe-Signature` header for `body` at `t` (for tests and the documentation's examples).
pub fn signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

/// Checks a webhook's `Stripe-Signature` header (`t=…,v1=…[,v1=…][,v0=…]`) against its raw
/// `body` and the endpoint's signing `secret` at `now` (Unix seconds): one `v1` entry must be
/// the HMAC-SHA256 of `"{t}.{body}"`, compared in constant time, and `t` within
/// [`SIGNATURE_TOLERANCE_SECS`] of `now`. Several `v1` entries happen while a secret is rolled.
///
/// # Errors
/// The [`SignatureError`] saying what is wrong.
pub fn verify_signature(header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',').take(16) {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let (Some(t), false) = (timestamp, signatures.is_empty()) else { return Err(SignatureError::Malformed) };
    let expected = sign(secret, t, body);
    if !signatures.iter().any(|candidate| crate::account::same_secret(candidate, &expected)) {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// An amount in minor units with its currency, as fees read everywhere: `49.50 EUR`.
pub fn money(amount_minor: i64, currency: &str) -> String {
    format!("{} {currency}", crate::achievement::minor_units_text(amount_minor))
}

/// Where an online payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// The Checkout Session is open: the learner may pay.
    Open,
    /// Paid: the submission's fee is settled.
    Paid,
    /// The session expired unpaid.
    Expired,
    /// Paid, then refunded (the learner withdrew before assessment, or the issuer refunded it).
    Refunded,
    /// A refund Stripe refused; the issuer's staff settle it by hand.
    RefundFailed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Open => "open",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::RefundFailed => "refund_failed",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        [PaymentStatus::Open, PaymentStatus::Paid, PaymentStatus::Expired, PaymentStatus::Refunded, PaymentStatus::RefundFailed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            PaymentStatus::Open => "Waiting for payment",
            PaymentStatus::Paid => "Paid",
            PaymentStatus::Expired => "Not paid (expired)",
            PaymentStatus::Refunded => "Refunded",
            PaymentStatus::RefundFailed => "Refund failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn keys_are_checked_for_their_form_and_mode() {
        let keys = StripeKeys::parse(" sk_test_abc123 ", "whsec_xyz").unwrap();
        assert_eq!((keys.secret_key.as_str(), keys.webhook_secret.as_str(), keys.livemode), ("sk_test_abc123", "whsec_xyz", false));
        assert!(StripeKeys::parse("rk_live_abc", "whsec_xyz").unwrap().livemode);
        let error = StripeKeys::parse("pk_test_abc", "secret").unwrap_err();
        let text = format!("{error:?}");
        assert!(text.contains("publishable key") && text.contains("whsec_"), "{text}");
        assert!(StripeKeys::parse("sk_test_a b", "whsec_x").is_err(), "spaces inside");
        assert!(!format!("{keys:?}").contains("abc123"), "never in debug output");
    }

    #[test]
    fn signatures_are_checked_as_stripe_documents() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let t = 1_765_000_000;
        let header = signature_header(SECRET, t, body);
        assert_eq!(verify_signature(Some(&header), body, SECRET, t + 10), Ok(()));
        // The signature is the hex HMAC-SHA256 of "t.body" keyed by the whole secret string.
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        assert_eq!(header, format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes())));
        // Another v1 beside it (a secret being rolled) and a v0 are fine.
        let rolled = format!("t={t},v1={},v1={},v0=abc", "00".repeat(32), sign(SECRET, t, body));
        assert_eq!(verify_signature(Some(&rolled), body, SECRET, t), Ok(()));
        assert_eq!(verify_signature(None, body, SECRET, t), Err(SignatureError::Missing));
        assert_eq!(verify_signature(Some("v1=abc"), body, SECRET, t), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(Some(&format!("t={t}")), body, SECRET, t), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(Some(&header), b"{}", SECRET, t), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(Some(&header), body, "whsec_other", t), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(Some(&header), body, SECRET, t + SIGNATURE_TOLERANCE_SECS + 1), Err(SignatureError::Stale));
        assert_eq!(verify_signature(Some(&header), body, SECRET, t - SIGNATURE_TOLERANCE_SECS - 1), Err(SignatureError::Stale));
    }

    #[test]
    fn amounts_read_as_fees_do() {
        assert_eq!(money(4950, "EUR"), "49.50 EUR");
        assert_eq!(money(12_000, "GBP"), "120.00 GBP");
    }

    #[test]
    fn statuses_round_trip() {
        for status in [PaymentStatus::Open, PaymentStatus::Paid, PaymentStatus::Expired, PaymentStatus::Refunded, PaymentStatus::RefundFailed] {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PaymentStatus::parse("lost"), None);
    }
}
