//! Data Integrity `eddsa-rdfc-2022`: Ed25519 signatures over RDFC-1.0 canonical N-Quads.
//!
//! Implements W3C "Data Integrity EdDSA Cryptosuites v1.0" §3.3 (eddsa-rdfc-2022): Create Proof (§3.3.1),
//! Verify Proof (§3.3.2), Transformation (§3.3.3), Hashing (§3.3.4), Proof Configuration (§3.3.5) and
//! Proof Serialization (§3.3.6); plus the Data Integrity "Retrieve Verification Method" step for `did:key`
//! (derived offline from the DID itself) and for controller documents the caller supplies through the
//! [`DocumentLoader`] (did:web DID documents, issuer profiles).
//!
//! ```
//! use cairn_vc::keys::Ed25519KeyPair;
//! use cairn_vc::loader::BundledLoader;
//! use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
//! use serde_json::json;
//!
//! let signer = Ed25519Signer::did_key(Ed25519KeyPair::from_seed([7; 32]));
//! let credential = json!({
//!     "@context": ["https://www.w3.org/ns/credentials/v2"],
//!     "type": ["VerifiableCredential"],
//!     "issuer": "did:example:issuer",
//!     "credentialSubject": {"id": "did:example:learner"},
//! });
//! let signed = eddsa::sign(&credential, &signer, &ProofOptions::assertion("2025-01-01T00:00:00Z"), &BundledLoader)?;
//! assert!(eddsa::verify(&signed, &BundledLoader)?.is_valid());
//!
//! let mut tampered = signed.clone();
//! tampered["issuer"] = json!("did:example:someone-else");
//! assert!(!eddsa::verify(&tampered, &BundledLoader)?.is_valid());
//! # Ok::<(), eddsa::DiError>(())
//! ```

use std::fmt;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::canon::{self, CanonError, CanonLimits};
use crate::did;
use crate::keys::{self, Ed25519KeyPair, KeyError};
use crate::loader::{DocumentLoader, LoadError};

/// The cryptosuite name, the `cryptosuite` value of its proofs.
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
/// The name of the same suite in the 2022–2023 drafts, still found on early OB 3.0 credentials (the 1EdTech
/// validator's fixtures). Verified, never issued: its proof configuration is read with the Data Integrity
/// v1 context instead of the document's.
pub const LEGACY_CRYPTOSUITE: &str = "eddsa-2022";
/// The proof `type` of every Data Integrity proof.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The signature algorithm a [`Signer`] must use with this suite (its `requiredAlgorithm`).
pub const REQUIRED_ALGORITHM: &str = "Ed25519";
/// The only proof purpose Cairn signs and accepts: the issuer asserts the credential.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// Signs bytes with a key held elsewhere (in memory, an HSM, a KMS).
///
/// Data Integrity and VC-JWT proofs sign only through this trait, so no suite ever holds key material.
pub trait Signer {
    /// The signature algorithm, as the suites name it (`"Ed25519"`).
    fn algorithm(&self) -> &str;
    /// The verification method id that verifiers resolve to the public key (`did:key:z6Mk…#z6Mk…`,
    /// `did:web:example.org#key-1`).
    fn key_id(&self) -> &str;
    /// The signature over `data`.
    ///
    /// # Errors
    /// [`SignerError`] when the key is unavailable.
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// A signer could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signer failed: {0}")]
pub struct SignerError(pub String);

/// An in-memory Ed25519 key and the verification method id it signs as. `Debug` shows the id only.
#[derive(Clone)]
pub struct Ed25519Signer {
    key: Ed25519KeyPair,
    key_id: String,
}

impl Ed25519Signer {
    /// Signs as `verification_method` (for example `did:web:example.org#key-1`).
    pub fn new(key: Ed25519KeyPair, verification_method: impl Into<String>) -> Self {
        Self { key, key_id: verification_method.into() }
    }

    /// Signs as the key's own `did:key` verification method (`did:key:z6Mk…#z6Mk…`).
    pub fn did_key(key: Ed25519KeyPair) -> Self {
        let key_id = did::did_key_method(&key.public_key_multibase());
        Self { key, key_id }
    }
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Signer").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Signer for Ed25519Signer {
    fn algorithm(&self) -> &str {
        REQUIRED_ALGORITHM
    }

    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.key.sign(data).to_vec())
    }
}

/// What the caller decides about a new proof. The verification method comes from the [`Signer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// The proof's `created` time, an XML Schema `dateTimeStamp` (`2025-01-01T00:00:00Z`). The crate has no
    /// clock: the caller passes "now".
    pub created: String,
    /// The proof purpose; Cairn issues with `assertionMethod`.
    pub proof_purpose: String,
}

impl ProofOptions {
    /// An `assertionMethod` proof created at `created`.
    pub fn assertion(created: impl Into<String>) -> Self {
        Self { created: created.into(), proof_purpose: ASSERTION_METHOD.to_owned() }
    }
}

/// The signing was refused, or the proof could not be checked. A proof that was checked and is wrong is
/// not an error: it is a [`ProofCheck`] with a [`ProofFailure`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiError {
    /// The document is not a JSON object.
    #[error("a credential must be a JSON object")]
    NotAnObject,
    /// The document has no `@context`, so it has no RDF meaning to sign.
    #[error("the document has no @context")]
    NoContext,
    /// The signer uses another algorithm than the suite requires.
    #[error("{CRYPTOSUITE} needs an {REQUIRED_ALGORITHM} signer, not {found}")]
    WrongAlgorithm {
        /// The signer's algorithm.
        found: String,
    },
    /// `created` is not an XML Schema `dateTimeStamp`.
    #[error("proof created time \"{0}\" is not a date-time with a time zone (2025-01-01T00:00:00Z)")]
    InvalidCreated(String),
    /// The signer failed or returned something that is not an Ed25519 signature.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// The document or proof configuration could not be canonicalized.
    #[error("cannot canonicalize: {0}")]
    Canon(#[from] CanonError),
    /// The controller document of the verification method was not supplied (or could not be read).
    #[error("cannot get the key for verification method \"{verification_method}\": {reason}")]
    KeyUnavailable {
        /// The verification method id.
        verification_method: String,
        /// Why the controller document is unavailable.
        reason: LoadError,
    },
}

/// Why a proof is not valid: the document's fault, found by checking it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofFailure {
    /// The document has no `proof`.
    #[error("the document has no proof")]
    NoProof,
    /// The proof is not a JSON object.
    #[error("the proof is not a JSON object")]
    NotAnObject,
    /// A required proof property is missing or not a string.
    #[error("the proof has no {0} string")]
    MissingProperty(&'static str),
    /// The proof `type` is not `DataIntegrityProof`.
    #[error("proof type \"{0}\" is not {PROOF_TYPE}")]
    UnsupportedProofType(String),
    /// The proof's `cryptosuite` is not `eddsa-rdfc-2022`.
    #[error("cryptosuite \"{0}\" is not {CRYPTOSUITE}")]
    UnsupportedCryptosuite(String),
    /// The proof purpose is not `assertionMethod`.
    #[error("proof purpose \"{0}\" is not {ASSERTION_METHOD}")]
    UnsupportedProofPurpose(String),
    /// The proof's own `@context` is not a prefix of the document's (vc-di-eddsa §3.3.2 step 4).
    #[error("the proof's @context does not match the document's")]
    ContextMismatch,
    /// `created` is not a date-time with a time zone.
    #[error("proof created time \"{0}\" is not a date-time with a time zone")]
    InvalidCreated(String),
    /// `proofValue` is not a base58btc multibase (`z…`) 64-byte signature.
    #[error("proofValue is not a base58btc-encoded Ed25519 signature: {0}")]
    MalformedProofValue(String),
    /// The controller document has no verification method with this id.
    #[error("verification method \"{0}\" is not in its controller document")]
    UnknownVerificationMethod(String),
    /// The verification method's controller is not the document that lists it.
    #[error("verification method \"{verification_method}\" is controlled by \"{controller}\", not by \"{document}\"")]
    ControllerMismatch {
        /// The verification method id.
        verification_method: String,
        /// The `controller` it names.
        controller: String,
        /// The `id` of the document it was found in.
        document: String,
    },
    /// The controller document does not list the verification method under `assertionMethod`.
    #[error("verification method \"{0}\" is not authorized for assertionMethod by its controller")]
    NotAuthorized(String),
    /// The verification method's key is not an Ed25519 key this suite can use.
    #[error("verification method \"{verification_method}\" has no usable Ed25519 key: {reason}")]
    UnsupportedKey {
        /// The verification method id.
        verification_method: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature does not match the document, the proof options and the key.
    #[error("the signature does not match: the document or its proof was changed, or signed with another key")]
    BadSignature,
}

/// The outcome of checking one proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofCheck {
    /// The proof's `verificationMethod`, if it has one.
    pub verification_method: Option<String>,
    /// The controller of the verification method (a DID or a profile URL), once resolved. Callers bind it to
    /// the credential's `issuer`.
    pub controller: Option<String>,
    /// The proof's `created`, if it has one (the suite does not compare it with any clock).
    pub created: Option<String>,
    /// `None` when the proof is valid.
    pub failure: Option<ProofFailure>,
}

impl ProofCheck {
    /// Whether the proof is valid.
    pub fn is_valid(&self) -> bool {
        self.failure.is_none()
    }

    fn failed(proof: Option<&Map<String, Value>>, failure: ProofFailure) -> Self {
        let text = |name: &str| proof.and_then(|proof| proof.get(name)).and_then(Value::as_str).map(str::to_owned);
        Self { verification_method: text("verificationMethod"), controller: None, created: text("created"), failure: Some(failure) }
    }
}

/// The outcome of checking every proof on a document (a proof set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// One check per proof, in document order; never empty ([`ProofFailure::NoProof`] when unsigned).
    pub proofs: Vec<ProofCheck>,
}

impl Verification {
    /// Whether every proof is valid.
    pub fn is_valid(&self) -> bool {
        !self.proofs.is_empty() && self.proofs.iter().all(ProofCheck::is_valid)
    }

    /// The first failure, if any.
    pub fn failure(&self) -> Option<&ProofFailure> {
        self.proofs.iter().find_map(|check| check.failure.as_ref())
    }
}

/// What is hashed and signed: both canonical forms and the 64-byte hash data
/// (SHA-256 of the canonical proof configuration, then SHA-256 of the canonical document; §3.3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningInput {
    /// The RDFC-1.0 canonical N-Quads of the document without its proof.
    pub canonical_document: String,
    /// The RDFC-1.0 canonical N-Quads of the proof configuration.
    pub canonical_proof_config: String,
    /// `SHA-256(canonical_proof_config) || SHA-256(canonical_document)`.
    pub hash_data: [u8; 64],
}

/// Adds an `eddsa-rdfc-2022` proof to `document` (Create Proof, §3.3.1). A document that already has a
/// proof gets a second one (a proof set); the new proof does not cover the old.
///
/// # Errors
/// [`DiError::NotAnObject`], [`DiError::NoContext`], [`DiError::WrongAlgorithm`],
/// [`DiError::InvalidCreated`], [`DiError::Canon`] (for example an unknown context) and [`DiError::Signer`].
pub fn sign(document: &Value, signer: &dyn Signer, options: &ProofOptions, loader: &dyn DocumentLoader) -> Result<Value, DiError> {
    let proof = create_proof(document, signer, options, loader)?;
    let mut signed = document.clone();
    let Value::Object(entries) = &mut signed else { return Err(DiError::NotAnObject) };
    match entries.remove("proof") {
        None => entries.insert("proof".to_owned(), proof),
        Some(Value::Array(mut proofs)) => {
            proofs.push(proof);
            entries.insert("proof".to_owned(), Value::Array(proofs))
        }
        Some(existing) => entries.insert("proof".to_owned(), Value::Array(vec![existing, proof])),
    };
    Ok(signed)
}

/// The proof [`sign`] would add, on its own.
///
/// # Errors
/// As [`sign`].
pub fn create_proof(document: &Value, signer: &dyn Signer, options: &ProofOptions, loader: &dyn DocumentLoader) -> Result<Value, DiError> {
    if signer.algorithm() != REQUIRED_ALGORITHM {
        return Err(DiError::WrongAlgorithm { found: signer.algorithm().to_owned() });
    }
    if !is_date_time_stamp(&options.created) {
        return Err(DiError::InvalidCreated(options.created.clone()));
    }
    check_document(document)?;
    canon::check_shape(document, &CanonLimits::default())?;
    let mut proof = json!({
        "type": PROOF_TYPE,
        "created": options.created,
        "verificationMethod": signer.key_id(),
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": options.proof_purpose,
    });
    let input = signing_input(document, &proof, loader, &CanonLimits::default())?;
    let signature = signer.sign(&input.hash_data)?;
    if signature.len() != 64 {
        return Err(SignerError(format!("an Ed25519 signature is 64 bytes, the signer returned {}", signature.len())).into());
    }
    proof["proofValue"] = Value::String(format!("z{}", bs58::encode(signature).into_string()));
    Ok(proof)
}

/// Canonicalizes and hashes `document` (any `proof` it has is left out) and `proof_options` (a proof;
/// any `proofValue` is left out) as eddsa-rdfc-2022 does (§3.3.3–§3.3.5): the proof configuration gets
/// the document's `@context`.
///
/// # Errors
/// [`DiError::NotAnObject`], [`DiError::NoContext`] and [`DiError::Canon`].
pub fn signing_input(document: &Value, proof_options: &Value, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<SigningInput, DiError> {
    check_document(document)?;
    let canonical_proof_config = canonical_proof_config(document, proof_options, loader, limits)?;
    let canonical_document = canon::canonize_unsecured(document, loader, limits)?;
    let hash_data = hash_data(&canonical_proof_config, &canonical_document);
    Ok(SigningInput { canonical_document, canonical_proof_config, hash_data })
}

/// Proof Configuration (§3.3.5): the proof without `proofValue`, with the document's `@context`.
fn canonical_proof_config(document: &Value, proof: &Value, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<String, DiError> {
    let context = document.get("@context").ok_or(DiError::NoContext)?;
    let mut proof_config = proof.as_object().ok_or(DiError::NotAnObject)?.clone();
    proof_config.remove("proofValue");
    proof_config.insert("@context".to_owned(), context.clone());
    Ok(canon::canonize_with(&Value::Object(proof_config), loader, limits)?)
}

/// Hashing (§3.3.4): `SHA-256(canonical proof configuration) || SHA-256(canonical document)`.
fn hash_data(canonical_proof_config: &str, canonical_document: &str) -> [u8; 64] {
    let mut hash_data = [0u8; 64];
    hash_data[..32].copy_from_slice(&Sha256::digest(canonical_proof_config.as_bytes()));
    hash_data[32..].copy_from_slice(&Sha256::digest(canonical_document.as_bytes()));
    hash_data
}

/// A document must be a JSON object with a `@context`.
fn check_document(document: &Value) -> Result<(), DiError> {
    let Value::Object(entries) = document else { return Err(DiError::NotAnObject) };
    if !entries.contains_key("@context") {
        return Err(DiError::NoContext);
    }
    Ok(())
}

/// Checks every proof on `document` (Verify Proof, §3.3.2), with the default [`CanonLimits`].
///
/// Keys: a `did:key` verification method is resolved from the DID itself; any other is looked up in the
/// controller document `loader` gives for the method id without its fragment (a did:web DID document, an
/// issuer profile), which must list the method, be its `controller` and list it under `assertionMethod`.
///
/// # Errors
/// [`DiError::NotAnObject`] and [`DiError::NoContext`] for misuse; [`DiError::Canon`] when the document
/// cannot be canonicalized (unknown context, not JSON-LD, too large or complex); [`DiError::KeyUnavailable`]
/// when the caller did not supply a needed controller document. A proof that is wrong is `Ok`, with a
/// [`ProofFailure`].
pub fn verify(document: &Value, loader: &dyn DocumentLoader) -> Result<Verification, DiError> {
    verify_with(document, loader, &CanonLimits::default())
}

/// [`verify`] with explicit limits.
///
/// # Errors
/// As [`verify`].
pub fn verify_with(document: &Value, loader: &dyn DocumentLoader, limits: &CanonLimits) -> Result<Verification, DiError> {
    check_document(document)?;
    canon::check_shape(document, limits)?;
    let proofs: Vec<&Value> = match document.get("proof") {
        None => return Ok(Verification { proofs: vec![ProofCheck::failed(None, ProofFailure::NoProof)] }),
        Some(Value::Array(proofs)) if proofs.is_empty() => {
            return Ok(Verification { proofs: vec![ProofCheck::failed(None, ProofFailure::NoProof)] });
        }
        Some(Value::Array(proofs)) => proofs.iter().collect(),
        Some(proof) => vec![proof],
    };
    // The canonical document is the same for every proof with the document's own context.
    let mut canonical_document: Option<String> = None;
    let mut checks = Vec::with_capacity(proofs.len());
    for proof in proofs {
        checks.push(verify_proof(document, proof, &mut canonical_document, loader, limits)?);
    }
    Ok(Verification { proofs: checks })
}

fn verify_proof(
    document: &Value,
    proof: &Value,
    canonical_document: &mut Option<String>,
    loader: &dyn DocumentLoader,
    limits: &CanonLimits,
) -> Result<ProofCheck, DiError> {
    let Some(entries) = proof.as_object() else { return Ok(ProofCheck::failed(None, ProofFailure::NotAnObject)) };
    let fail = |failure| Ok(ProofCheck::failed(Some(entries), failure));
    let text = |name: &'static str| entries.get(name).and_then(Value::as_str).ok_or(ProofFailure::MissingProperty(name));
    let fields = (|| Ok((text("type")?, text("cryptosuite")?, text("proofPurpose")?, text("verificationMethod")?, text("proofValue")?)))();
    let (proof_type, cryptosuite, purpose, method, proof_value) = match fields {
        Ok(fields) => fields,
        Err(failure) => return fail(failure),
    };
    if proof_type != PROOF_TYPE {
        return fail(ProofFailure::UnsupportedProofType(proof_type.to_owned()));
    }
    if cryptosuite != CRYPTOSUITE && cryptosuite != LEGACY_CRYPTOSUITE {
        return fail(ProofFailure::UnsupportedCryptosuite(cryptosuite.to_owned()));
    }
    if purpose != ASSERTION_METHOD {
        return fail(ProofFailure::UnsupportedProofPurpose(purpose.to_owned()));
    }
    if let Some(created) = entries.get("created") {
        match created.as_str() {
            Some(created) if is_date_time_stamp(created) => {}
            _ => return fail(ProofFailure::InvalidCreated(created.as_str().unwrap_or_default().to_owned())),
        }
    }
    let signature = match decode_proof_value(proof_value) {
        Ok(signature) => signature,
        Err(reason) => return fail(ProofFailure::MalformedProofValue(reason)),
    };
    // §3.3.2 step 4: a proof with its own @context must repeat the start of the document's; the document is
    // then read with the proof's context.
    let document_context = document.get("@context").ok_or(DiError::NoContext)?;
    let own_context;
    let (document, shared) = match entries.get("@context") {
        Some(proof_context) if proof_context != document_context => {
            if !context_starts_with(document_context, proof_context) {
                return fail(ProofFailure::ContextMismatch);
            }
            let mut rewritten = document.clone();
            rewritten["@context"] = proof_context.clone();
            own_context = rewritten;
            (&own_context, false)
        }
        _ => (document, true),
    };
    let key = match resolve_key(method, loader)? {
        Ok(key) => key,
        Err(failure) => return fail(failure),
    };
    let canonical_proof_config = if cryptosuite == LEGACY_CRYPTOSUITE {
        let legacy = json!({"@context": crate::contexts::DATA_INTEGRITY_V1});
        canonical_proof_config(&legacy, proof, loader, limits)?
    } else {
        canonical_proof_config(document, proof, loader, limits)?
    };
    let fresh;
    let canonical = match (shared, canonical_document.as_ref()) {
        (true, Some(canonical)) => canonical,
        (true, None) => canonical_document.insert(canon::canonize_unsecured(document, loader, limits)?),
        (false, _) => {
            fresh = canon::canonize_unsecured(document, loader, limits)?;
            &fresh
        }
    };
    let hash_data = hash_data(&canonical_proof_config, canonical);
    let valid = match keys::verify_ed25519(&key.public_key, &hash_data, &signature) {
        Ok(valid) => valid,
        Err(error) => {
            return fail(ProofFailure::UnsupportedKey { verification_method: method.to_owned(), reason: error.to_string() });
        }
    };
    Ok(ProofCheck {
        verification_method: Some(method.to_owned()),
        controller: Some(key.controller),
        created: entries.get("created").and_then(Value::as_str).map(str::to_owned),
        failure: (!valid).then_some(ProofFailure::BadSignature),
    })
}

fn decode_proof_value(proof_value: &str) -> Result<[u8; 64], String> {
    let encoded = proof_value.strip_prefix('z').ok_or_else(|| "it does not start with z (base58btc)".to_owned())?;
    if encoded.len() > 100 {
        return Err("it is too long".to_owned());
    }
    let bytes = bs58::decode(encoded).into_vec().map_err(|error| error.to_string())?;
    <[u8; 64]>::try_from(bytes.as_slice()).map_err(|_| format!("it decodes to {} bytes, not 64", bytes.len()))
}

/// Whether the document's `@context` begins with the proof's (both as arrays of values).
fn context_starts_with(document: &Value, proof: &Value) -> bool {
    let as_list = |value: &Value| match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let (document, proof) = (as_list(document), as_list(proof));
    proof.len() <= document.len() && document.iter().zip(&proof).all(|(left, right)| left == right)
}

/// Whether `value` is an XML Schema 1.1 `dateTimeStamp`: `YYYY-MM-DDThh:mm:ss[.s+](Z|±hh:mm)`.
fn is_date_time_stamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|part| part.iter().all(u8::is_ascii_digit));
    let two = |at: usize, max: u32| digits(at..at + 2) && value.get(at..at + 2).and_then(|part| part.parse::<u32>().ok()).is_some_and(|n| n <= max);
    let shape = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && two(5, 12)
        && bytes.get(7) == Some(&b'-')
        && two(8, 31)
        && bytes.get(10) == Some(&b'T')
        && two(11, 24)
        && bytes.get(13) == Some(&b':')
        && two(14, 59)
        && bytes.get(16) == Some(&b':')
        && two(17, 60);
    if !shape {
        return false;
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let length = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 {
            return false;
        }
        rest = &fraction[length..];
    }
    match rest.as_bytes() {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => (*sign == b'+' || *sign == b'-') && [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// A resolved Ed25519 key and who controls it.
struct ResolvedKey {
    public_key: [u8; 32],
    controller: String,
}

/// Retrieve Verification Method, for the `assertionMethod` relationship.
fn resolve_key(method: &str, loader: &dyn DocumentLoader) -> Result<Result<ResolvedKey, ProofFailure>, DiError> {
    let unsupported = |reason: String| ProofFailure::UnsupportedKey { verification_method: method.to_owned(), reason };
    if let Some(rest) = method.strip_prefix("did:key:") {
        // did:key v0.7: the DID is the key; its only method is `did:key:z…#z…` (a bare DID is accepted as
        // the 1EdTech validator and DCC do).
        let (multibase, fragment) = rest.split_once('#').map_or((rest, None), |(key, fragment)| (key, Some(fragment)));
        if fragment.is_some_and(|fragment| fragment != multibase) {
            return Ok(Err(ProofFailure::UnknownVerificationMethod(method.to_owned())));
        }
        return Ok(keys::decode_public_key_multibase(multibase)
            .map(|public_key| ResolvedKey { public_key, controller: did::did_key(multibase) })
            .map_err(|error| unsupported(error.to_string())));
    }
    let document_url = method.split_once('#').map_or(method, |(url, _)| url);
    let unavailable = |reason| DiError::KeyUnavailable { verification_method: method.to_owned(), reason };
    let controller_document = loader.load(document_url).map_err(unavailable)?.parse().map_err(unavailable)?;
    let document_id = controller_document.get("id").and_then(Value::as_str).unwrap_or(document_url);
    let absolute = |id: &str| if id.starts_with('#') { format!("{document_id}{id}") } else { id.to_owned() };
    let listed = |relationship: &str| -> Vec<&Value> {
        match controller_document.get(relationship) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item) => vec![item],
            None => Vec::new(),
        }
    };
    let id_of = |value: &Value| match value {
        Value::String(id) => Some(absolute(id)),
        Value::Object(entries) => entries.get("id").and_then(Value::as_str).map(absolute),
        _ => None,
    };
    let found = listed("verificationMethod")
        .into_iter()
        .chain(listed(ASSERTION_METHOD))
        .filter(|value| value.is_object())
        .find(|value| id_of(value).as_deref() == Some(method));
    let Some(verification_method) = found else {
        return Ok(Err(ProofFailure::UnknownVerificationMethod(method.to_owned())));
    };
    let controller = verification_method.get("controller").and_then(Value::as_str).unwrap_or_default();
    if controller != document_id {
        return Ok(Err(ProofFailure::ControllerMismatch {
            verification_method: method.to_owned(),
            controller: controller.to_owned(),
            document: document_id.to_owned(),
        }));
    }
    if !listed(ASSERTION_METHOD).into_iter().any(|value| id_of(value).as_deref() == Some(method)) {
        return Ok(Err(ProofFailure::NotAuthorized(method.to_owned())));
    }
    let public_key = match public_key_of(verification_method) {
        Ok(public_key) => public_key,
        Err(error) => return Ok(Err(unsupported(error))),
    };
    Ok(Ok(ResolvedKey { public_key, controller: controller.to_owned() }))
}

/// The Ed25519 key of a `Multikey` / `Ed25519VerificationKey2020` (`publicKeyMultibase`) or `JsonWebKey`
/// (`publicKeyJwk`, OKP/Ed25519) verification method.
fn public_key_of(method: &Value) -> Result<[u8; 32], String> {
    if let Some(multibase) = method.get("publicKeyMultibase").and_then(Value::as_str) {
        return keys::decode_public_key_multibase(multibase).map_err(|error: KeyError| error.to_string());
    }
    if let Some(jwk) = method.get("publicKeyJwk") {
        use base64::Engine as _;
        let field = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
        if field("kty") != "OKP" || field("crv") != "Ed25519" {
            return Err(format!("publicKeyJwk is {} {}, not OKP Ed25519", field("kty"), field("crv")));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(field("x")).map_err(|error| format!("publicKeyJwk x is not base64url: {error}"))?;
        return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("publicKeyJwk x is {} bytes, not 32", bytes.len()));
    }
    Err("it has neither publicKeyMultibase nor publicKeyJwk".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_stamps() {
        for (value, valid) in [
            ("2010-01-01T19:23:24Z", true),
            ("2024-03-20T14:53:19.123Z", true),
            ("2024-03-20T14:53:19+01:00", true),
            ("2024-03-20T14:53:19-05:30", true),
            ("2024-03-20T14:53:19", false),
            ("2024-03-20", false),
            ("2024-13-20T14:53:19Z", false),
            ("2024-03-20T14:53:19.Z", false),
            ("2024-03-20 14:53:19Z", false),
            ("", false),
        ] {
            assert_eq!(is_date_time_stamp(value), valid, "{value}");
        }
    }

    #[test]
    fn proof_values_must_be_64_byte_base58btc() {
        let good = format!("z{}", bs58::encode([7u8; 64]).into_string());
        assert_eq!(decode_proof_value(&good), Ok([7u8; 64]));
        for bad in ["", "z", "u0000", &format!("z{}", bs58::encode([7u8; 63]).into_string()), "z0OIl", &good[1..]] {
            assert!(decode_proof_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn context_prefixes() {
        let document = json!(["a", "b", {"x": 1}]);
        for (proof, expect) in [
            (json!(["a"]), true),
            (json!("a"), true),
            (json!(["a", "b", {"x": 1}]), true),
            (json!(["b"]), false),
            (json!(["a", "b", {"x": 2}]), false),
            (json!(["a", "b", {"x": 1}, "c"]), false),
        ] {
            assert_eq!(context_starts_with(&document, &proof), expect, "{proof}");
        }
    }

    #[test]
    fn debug_shows_the_key_id_only() {
        let signer = Ed25519Signer::new(Ed25519KeyPair::from_seed([3; 32]), "did:web:example.org#key-1");
        let shown = format!("{signer:?}");
        assert!(shown.contains("did:web:example.org#key-1") && !shown.contains("signing"), "{shown}");
    }
}
