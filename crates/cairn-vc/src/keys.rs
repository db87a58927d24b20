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
    /// The public key's Multikey form, made once: VC-JWT signing checks the `kid` against it each
    /// time, and base58 encoding costs as much as 3 % of a signature.
    multibase: String,
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
        Self::with(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The key whose 32-byte secret seed is `seed` (deterministic, for tests and stored keys).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::with(SigningKey::from_bytes(&seed))
    }

    fn with(signing: SigningKey) -> Self {
        let multibase = public_key_multibase(signing.verifying_key().as_bytes());
        Self { signing, multibase }
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
        self.multibase.clone()
    }

    /// [`Self::public_key_multibase`], borrowed.
    pub(crate) fn multibase(&self) -> &str {
        &self.multibase
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
        hex::decode(s).unwrap()
    }
}

/// The multicodec prefix of an Ed25519 private key (`ed25519-priv`, 0x1300 as a varint).
const ED25519_PRIV_PREFIX: [u8; 2] = [0x80, 0x26];

/// A key file as `cairn keys new` writes it: a Multikey with its controller, verification
/// method id and secret (`secretKeyMultibase`). Keep it private. It deliberately does not
/// implement `Serialize`: the only way to write it out is [`KeyFile::to_json`], so a secret cannot
/// end up in a response or a log by accident.
#[derive(Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyFile {
    /// Always `Multikey`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The verification method id (`did:key:z…#z…`, or `did:web:…#key-1`).
    pub id: String,
    /// The DID that controls the key: the issuer id credentials must carry.
    pub controller: String,
    /// The public key.
    pub public_key_multibase: String,
    /// The secret seed, multibase base58btc with the `ed25519-priv` prefix.
    pub secret_key_multibase: String,
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile").field("id", &self.id).field("controller", &self.controller).finish_non_exhaustive()
    }
}

impl KeyFile {
    /// A key file for `key` controlled by `did:key` (default) or by `did:web:<host>`.
    pub fn new(key: &Ed25519KeyPair, did_web_host: Option<&str>) -> KeyFile {
        let public = key.public_key_multibase();
        let (controller, id) = match did_web_host {
            None => (crate::did::did_key(&public), crate::did::did_key_method(&public)),
            Some(host) => {
                let did = crate::did::did_web(host, &[]);
                let id = format!("{did}#key-1");
                (did, id)
            }
        };
        let mut secret = ED25519_PRIV_PREFIX.to_vec();
        secret.extend_from_slice(&key.seed());
        KeyFile {
            kind: "Multikey".into(),
            id,
            controller,
            public_key_multibase: public,
            secret_key_multibase: format!("z{}", bs58::encode(secret).into_string()),
        }
    }

    /// The key pair, checked against the public key the file states.
    ///
    /// # Errors
    /// [`KeyError::Multikey`] when the secret is malformed or does not match the public key.
    pub fn key_pair(&self) -> Result<Ed25519KeyPair, KeyError> {
        let refuse = || KeyError::Multikey("secretKeyMultibase".into());
        let encoded = self.secret_key_multibase.strip_prefix('z').ok_or_else(refuse)?;
        let bytes = bs58::decode(encoded).into_vec().map_err(|_| refuse())?;
        let seed = match bytes.split_first_chunk::<2>() {
            Some((prefix, seed)) if *prefix == ED25519_PRIV_PREFIX => seed,
            _ => return Err(refuse()),
        };
        let key = Ed25519KeyPair::from_seed_slice(seed)?;
        if key.public_key_multibase() != self.public_key_multibase {
            return Err(KeyError::Multikey("the secret key does not match publicKeyMultibase".into()));
        }
        Ok(key)
    }

    /// The key file's JSON text, secret included: write it only to a private file.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "type": self.kind,
            "id": self.id,
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
            "secretKeyMultibase": self.secret_key_multibase,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// The DID document of the controller, for publishing (did:web) or offline use (did:key).
    pub fn did_document(&self) -> serde_json::Value {
        if self.controller.starts_with("did:key:") {
            crate::did::did_key_document(&self.public_key_multibase)
        } else {
            crate::did::did_document(&self.controller, &self.public_key_multibase, &[crate::did::did_key(&self.public_key_multibase)])
        }
    }
}

#[cfg(test)]
mod key_file_tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_hide_the_secret_in_debug() {
        let key = Ed25519KeyPair::from_seed([5; 32]);
        let file = KeyFile::new(&key, None);
        assert_eq!(file.controller, crate::did::did_key(&key.public_key_multibase()));
        assert!(file.id.starts_with(&file.controller) && file.id.contains('#'));
        let text = file.to_json();
        let parsed: KeyFile = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.key_pair().unwrap().public_key(), key.public_key());
        assert!(!format!("{file:?}").contains(&file.secret_key_multibase));
        let web = KeyFile::new(&key, Some("issuer.example:8443"));
        assert_eq!(web.controller, "did:web:issuer.example%3A8443");
        assert_eq!(web.did_document()["assertionMethod"][0], "did:web:issuer.example%3A8443#key-1");
    }

    #[test]
    fn a_mismatched_or_malformed_secret_is_refused() {
        let mut file = KeyFile::new(&Ed25519KeyPair::from_seed([5; 32]), None);
        file.public_key_multibase = Ed25519KeyPair::from_seed([6; 32]).public_key_multibase();
        assert!(file.key_pair().is_err());
        file.secret_key_multibase = "znotbase58!".into();
        assert!(file.key_pair().is_err());
    }
}
