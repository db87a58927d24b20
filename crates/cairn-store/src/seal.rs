//! Sealing secrets at rest: issuer private keys are encrypted with XChaCha20-Poly1305 under the
//! operator's master key, bound to the row they belong to. Also keyed fingerprints
//! (HMAC-SHA256 under a key derived from the master key) of values that must be matched but not
//! kept, such as the e-mail address of a declared conflict of interest.

use crate::StoreError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::fmt;
use std::path::Path;

/// The operator's 32-byte key. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// The format version prefix of a sealed value.
const SEALED_PREFIX: &str = "v1:";

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses the `CAIRN_MASTER_KEY` form: 32 bytes as base64 or as 64 hex digits.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the accepted forms (never echoing the value).
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16)).collect::<Result<Vec<u8>, _>>().ok()
        } else {
            STANDARD.decode(text).ok()
        };
        match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(bytes) => Ok(Self(bytes)),
            None => Err(StoreError::Config("the master key must be 32 bytes, as base64 or as 64 hex digits".into())),
        }
    }

    /// The key in `path`, or `None` when the file does not exist.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the file when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Option<Self>, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map(Some).map_err(|e| StoreError::Config(format!("{} in {}", e, path.display()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::Config(format!("cannot read the master key file {}: {error}", path.display()))),
        }
    }

    /// Writes `key` to a new file at `path` (mode 0600), creating its directory; never
    /// overwrites a file.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the file when it exists or cannot be written.
    pub fn save_new(path: &Path, key: &MasterKey) -> Result<(), StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        write_private(path, &STANDARD.encode(key.0)).map_err(|e| StoreError::Config(format!("cannot write the master key file {}: {e}", path.display())))
    }

    /// The key in `path`, created (mode 0600) with a fresh random key when the file does not exist.
    ///
    /// # Errors
    /// [`StoreError::Config`] when the file cannot be read, written or parsed.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        match Self::load(path)? {
            Some(key) => Ok(key),
            None => {
                let key = Self::generate();
                Self::save_new(path, &key)?;
                Ok(key)
            }
        }
    }

    /// Encrypts `secret`, bound to `context` (e.g. the organisation id) so a sealed value cannot be
    /// moved to another row.
    pub(crate) fn seal(&self, secret: &[u8], context: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce length cannot fail; an empty output would only fail to open later.
        let sealed = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad: context.as_bytes() }).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// A keyed fingerprint of `value` for `purpose`: HMAC-SHA256 of `value` under a key derived
    /// from the master key for that purpose alone (HMAC-SHA256 of the purpose under the master
    /// key), as 64 hex digits. Equal values give equal fingerprints; without the master key a
    /// fingerprint cannot be computed, so a list of guesses cannot be checked against the table.
    pub(crate) fn fingerprint(&self, purpose: &str, value: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        // HMAC accepts keys of any length, so neither `new_from_slice` can fail.
        let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(value);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A 32-byte secret for `purpose` alone, derived from the master key (HMAC-SHA256 of the
    /// purpose under it, as for [`MasterKey::fingerprint`]): the same for as long as the master
    /// key is, and nothing without it.
    pub(crate) fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        derive.update(purpose.as_bytes());
        derive.finalize().into_bytes().into()
    }

    /// Decrypts a value made by [`MasterKey::seal`] with the same `context`.
    pub(crate) fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, StoreError> {
        let refuse = || StoreError::Sealed(format!("cannot open the sealed key of {context}: wrong master key or corrupted data"));
        let bytes = sealed.strip_prefix(SEALED_PREFIX).and_then(|b64| STANDARD.decode(b64).ok()).ok_or_else(refuse)?;
        if bytes.len() < 24 + 16 {
            return Err(refuse());
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() }).map_err(|_| refuse())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = MasterKey::from_bytes([3; 32]);
        let sealed = key.seal(b"secret seed", "org-1");
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open(&sealed, "org-1").unwrap(), b"secret seed");
        assert!(key.open(&sealed, "org-2").is_err());
        assert!(MasterKey::from_bytes([4; 32]).open(&sealed, "org-1").is_err());
        assert!(key.open("v1:AAAA", "org-1").is_err());
        assert!(key.open("garbage", "org-1").is_err());
    }

    #[test]
    fn fingerprints_are_keyed_per_purpose() {
        let key = MasterKey::from_bytes([3; 32]);
        let print = key.fingerprint("conflict-of-interest e-mail", b"ada@example.org");
        // HMAC-SHA256(HMAC-SHA256(master key, purpose), value), computed independently.
        assert_eq!(print, "6d935465bc54d02bc850d3f1eefd8150201c06119df3bbda4256547ef473720d");
        assert_eq!(key.fingerprint("conflict-of-interest e-mail", b"ada@example.org"), print, "stable");
        assert_ne!(key.fingerprint("something else", b"ada@example.org"), print, "one key per purpose");
        assert_ne!(key.fingerprint("conflict-of-interest e-mail", b"bo@example.org"), print);
        assert_ne!(MasterKey::from_bytes([4; 32]).fingerprint("conflict-of-interest e-mail", b"ada@example.org"), print, "keyed");
    }

    #[test]
    fn derived_secrets_are_stable_per_purpose_and_keyed() {
        let key = MasterKey::from_bytes([3; 32]);
        let secret = key.derive_secret("cairn platform signing key v1");
        assert_eq!(key.derive_secret("cairn platform signing key v1"), secret, "stable");
        assert_ne!(key.derive_secret("another purpose"), secret, "one secret per purpose");
        assert_ne!(MasterKey::from_bytes([4; 32]).derive_secret("cairn platform signing key v1"), secret, "keyed");
        // The fingerprint key of the same purpose is this secret: purposes must not be shared.
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&secret).unwrap();
        hmac::Mac::update(&mut mac, b"x");
        let expected: String = hmac::Mac::finalize(mac).into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key.fingerprint("cairn platform signing key v1", b"x"), expected);
    }

    #[test]
    fn master_keys_parse_from_base64_or_hex_only() {
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse(&STANDARD.encode([1u8; 32])).is_ok());
        let error = MasterKey::parse("too-short").unwrap_err().to_string();
        assert!(!error.contains("too-short"));
        assert_eq!(format!("{:?}", MasterKey::from_bytes([1; 32])), "MasterKey(***)");
    }

    #[test]
    fn a_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("master.key");
        assert!(MasterKey::load(&path).unwrap().is_none(), "a missing file is no key, not an error");
        let first = MasterKey::load_or_create(&path).unwrap();
        let second = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(first.0, second.0);
        assert_eq!(MasterKey::load(&path).unwrap().map(|k| k.0), Some(first.0));
        let refused = MasterKey::save_new(&path, &MasterKey::generate()).unwrap_err().to_string();
        assert!(refused.contains("master.key"), "an existing key file is never overwritten: {refused}");
        std::fs::write(dir.path().join("bad.key"), "nope").unwrap();
        let unreadable = MasterKey::load(&dir.path().join("bad.key")).unwrap_err().to_string();
        assert!(unreadable.contains("bad.key"), "{unreadable}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
