//! Ed25519 signing keys and their Multikey (`z6Mk…`) public form.

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use std::fmt;

/// The multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed as a varint).
const ED25519_PUB_PREFIX: [u8; 2] = [0xed, 0x01];

/// An Ed25519 key pair. `Debug` shows the public key only; the type is not serialisable, so a
/// private key cannot leak through a response or a log line by accident.
#[derive(Clone)]
pub struct Ed25519KeyPair {
    signing: SigningKey,
}

/// Why bytes are not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The seed or public key has the wrong length.
    #[error("an Ed25519 {what} is 32 bytes (got {got})")]
    Length {
        /// What was expected.
        what: &'static str,
        /// How many bytes arrived.
        got: usize,
    },
    /// Not a base58btc multibase Ed25519 Multikey.
    #[error("\"{0}\" is not an Ed25519 Multikey (z6Mk…)")]
    Multikey(String),
    /// The public key bytes are not a curve point.
    #[error("the public key is not a valid Ed25519 point")]
    Point,
}

impl Ed25519KeyPair {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self { signing: SigningKey::generate(&mut rand::rngs::OsRng) }
    }

    /// The key whose 32-byte secret seed is `seed` (deterministic, for tests and stored keys).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&seed) }
    }

    /// The key from a stored seed.
    ///
    /// # Errors
    /// [`KeyError::Length`] unless `seed` is 32 bytes.
    pub fn from_seed_slice(seed: &[u8]) -> Result<Self, KeyError> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::Length { what: "seed", got: seed.len() })?;
        Ok(Self::from_seed(seed))
    }

    /// The secret seed, for encrypting at rest. Handle with care.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The public key as a Multikey `publicKeyMultibase` (`z6Mk…`).
    pub fn public_key_multibase(&self) -> String {
        public_key_multibase(&self.public_key())
    }

    /// Signs `message` (Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for Ed25519KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519KeyPair").field("public_key", &self.public_key_multibase()).finish_non_exhaustive()
    }
}

/// Encodes a raw Ed25519 public key as a Multikey `publicKeyMultibase`.
pub fn public_key_multibase(public_key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_PREFIX);
    bytes.extend_from_slice(public_key);
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decodes a Multikey `publicKeyMultibase` (`z6Mk…`) to the raw Ed25519 public key.
///
/// # Errors
/// [`KeyError::Multikey`] for anything but a base58btc, ed25519-pub-prefixed 32-byte key.
pub fn decode_public_key_multibase(value: &str) -> Result<[u8; 32], KeyError> {
    let refuse = || KeyError::Multikey(value.chars().take(64).collect());
    let encoded = value.strip_prefix('z').filter(|rest| rest.len() <= 64).ok_or_else(refuse)?;
    let bytes = bs58::decode(encoded).into_vec().map_err(|_| refuse())?;
    match bytes.split_first_chunk::<2>() {
        Some((prefix, key)) if *prefix == ED25519_PUB_PREFIX && key.len() == 32 => key.try_into().map_err(|_| refuse()),
        _ => Err(refuse()),
    }
}

/// Checks an Ed25519 signature.
///
/// # Errors
/// [`KeyError::Point`] when the public key is not a curve point; `Ok(false)` for a wrong signature.
pub fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, KeyError> {
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::Point)?;
    Ok(key.verify(message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multikey_round_trips_and_has_the_ed25519_prefix() {
        let key = Ed25519KeyPair::from_seed([1; 32]);
        let multibase = key.public_key_multibase();
        assert!(multibase.starts_with("z6Mk"), "{multibase}");
        assert_eq!(decode_public_key_multibase(&multibase), Ok(key.public_key()));
    }

    #[test]
    fn rfc8032_test_vector_1_signs_as_published() {
        // RFC 8032 §7.1, TEST 1: empty message.
        let seed: [u8; 32] = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").try_into().unwrap();
        let key = Ed25519KeyPair::from_seed(seed);
        assert_eq!(key.public_key().to_vec(), hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
        let signature = key.sign(b"");
        assert_eq!(
            signature.to_vec(),
            hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        );
        assert_eq!(verify_ed25519(&key.public_key(), b"", &signature), Ok(true));
        assert_eq!(verify_ed25519(&key.public_key(), b"x", &signature), Ok(false));
    }

    #[test]
    fn bad_multikeys_are_refused() {
        for bad in [
            "",
            "z",
            "6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "z0OIl",
            "zQmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
            &format!("z{}", "1".repeat(100)),
        ] {
            assert!(decode_public_key_multibase(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = Ed25519KeyPair::from_seed([9; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key_multibase()));
        assert!(!shown.contains("seed") && !shown.contains("signing"));
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
