//! Verification: the token's form, algorithm and header, its key (resolved, then checked against the
//! issuer), the signature, and the OB 3.0 §8.2 claims.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use super::dates::{format_date_time, parse_date_time};
use super::keys::VerificationKey;
use super::resolve::{KeyLookup, KeyResolutionError, KeyResolver, MAX_CANDIDATE_KEYS, ResolvedKey};
use super::{ALLOWED_HEADER_PARAMETERS, JwtAlgorithm, JwtError, MAX_TOKEN_BYTES, REGISTERED_CLAIMS, did_of, issuer_id, shorten, subject_id, value_text};

/// The outcome of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JwtVerdict {
    /// Every check passed.
    Valid,
    /// A check failed: the token must not be trusted.
    Invalid,
    /// The key source was unavailable, so the token could not be judged.
    Indeterminate,
}

/// What a [`JwtCheck`] or [`JwtWarning`] is about. The snake_case names ([`JwtCheckId::name`]) are
/// stable: reports and API responses carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JwtCheckId {
    /// A compact JWS of at most [`MAX_TOKEN_BYTES`]: three base64url parts, JSON object header and
    /// payload.
    Format,
    /// `alg` is EdDSA, ES256 or RS256 (never `none` or HMAC).
    Algorithm,
    /// The other header parameters: no `crit`, `typ` is `JWT`, `kid` a string, `jwk` a public key.
    Header,
    /// A key was found, is the issuer's, fits `alg` and agrees with any header `jwk`.
    Key,
    /// The signature verifies.
    Signature,
    /// The payload holds a credential (native OB 3.0 form, or the VC 1.1 `vc` claim).
    Credential,
    /// `iss` equals the issuer id.
    IssClaim,
    /// `jti` equals the credential id.
    JtiClaim,
    /// `sub` equals `credentialSubject.id`.
    SubClaim,
    /// `nbf` is present and equals `validFrom` (VC 1.1: `issuanceDate`).
    NbfClaim,
    /// `exp` equals `validUntil` (VC 1.1: `expirationDate`).
    ExpClaim,
    /// `now` is not before `nbf` / `validFrom`, give or take the clock skew.
    ValidityStart,
    /// `now` is before `exp` / `validUntil`, give or take the clock skew.
    ValidityEnd,
}

impl JwtCheckId {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Format => "format",
            Self::Algorithm => "algorithm",
            Self::Header => "header",
            Self::Key => "key",
            Self::Signature => "signature",
            Self::Credential => "credential",
            Self::IssClaim => "iss_claim",
            Self::JtiClaim => "jti_claim",
            Self::SubClaim => "sub_claim",
            Self::NbfClaim => "nbf_claim",
            Self::ExpClaim => "exp_claim",
            Self::ValidityStart => "validity_start",
            Self::ValidityEnd => "validity_end",
        }
    }
}

impl fmt::Display for JwtCheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One check [`verify`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtCheck {
    /// What was checked.
    pub id: JwtCheckId,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in words.
    pub detail: String,
}

/// Something that does not fail the token but a reader should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtWarning {
    /// The check it belongs to.
    pub id: JwtCheckId,
    /// What, in words.
    pub detail: String,
}

/// Where the credential sits in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialForm {
    /// OB 3.0 §8.2 / VC-JOSE-COSE: the payload is the credential.
    Native,
    /// VC-JWT 1.1: the credential is the `vc` claim.
    VcClaim,
}

/// The answer of [`verify`]: the verdict, the checks in the order made, warnings, and the
/// credential once its signature holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwtVerification {
    /// Valid, invalid or indeterminate.
    pub verdict: JwtVerdict,
    /// The checks made; verification stops at the first failure that leaves nothing to check
    /// (format, algorithm, header, key, signature) and runs every claim check otherwise.
    pub checks: Vec<JwtCheck>,
    /// Things worth knowing that do not fail the token.
    pub warnings: Vec<JwtWarning>,
    /// The token's algorithm, once read.
    pub algorithm: Option<JwtAlgorithm>,
    /// The token's `kid` (absolute), if it has one.
    pub key_id: Option<String>,
    /// Where the credential sat, once read.
    pub form: Option<CredentialForm>,
    /// The credential, without the JWT registered claims, once the signature has verified (also
    /// when a claim check then fails, so that a report can show what expired). For the VC 1.1 form,
    /// properties the `vc` claim leaves out are filled from the claims (`id` from `jti`, `issuer`
    /// from `iss`, `issuanceDate` from `nbf`, `expirationDate` from `exp`, `credentialSubject.id`
    /// from `sub`), as VC-JWT 1.1 decoding says; each fill is a warning.
    pub credential: Option<Value>,
}

impl JwtVerification {
    /// Whether the verdict is [`JwtVerdict::Valid`].
    pub fn is_valid(&self) -> bool {
        self.verdict == JwtVerdict::Valid
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&JwtCheck> {
        self.checks.iter().find(|check| !check.ok)
    }
}

/// Verifies a VC-JWT as OB 3.0 §8.2.6 says, at time `now` (Unix seconds), allowing clocks to differ
/// by `max_clock_skew_secs`.
///
/// In order: the token is a compact JWS of at most [`MAX_TOKEN_BYTES`]; `alg` is EdDSA, ES256 or
/// RS256; the header has no `crit` (no extension is understood), `typ` is absent or `JWT`, and any
/// `jwk` is a public key; `keys` gives the key for the `kid` (a DID `kid` must name the issuer DID,
/// a resolved key's controller must be the issuer, and a header `jwk` must be that same key; the
/// header key alone is used only when `keys` accepts it); the key fits `alg`; the signature
/// verifies. Then the claims: `iss` is present and equals the issuer id; `jti` equals the credential
/// id (required when there is an id); `sub` equals `credentialSubject.id` (its absence is only a
/// warning, since 1EdTech's own fixtures omit it); `nbf` is present and equals `validFrom`; `exp`
/// equals `validUntil`; and `now` lies within `nbf`/`validFrom` and `exp`/`validUntil`, widened by
/// the skew (a token is expired from `exp` on, RFC 7519 §4.1.4).
///
/// A token that fails any of this is answered with [`JwtVerdict::Invalid`] (or
/// [`JwtVerdict::Indeterminate`] when the key source was unavailable) and the failed check's
/// reason. Malformed and oversized tokens are refused before any signature or large parse work.
///
/// # Errors
/// [`JwtError::NegativeClockSkew`] when `max_clock_skew_secs` is negative.
pub fn verify(jwt: &str, keys: &dyn KeyResolver, now: i64, max_clock_skew_secs: i64) -> Result<JwtVerification, JwtError> {
    if max_clock_skew_secs < 0 {
        return Err(JwtError::NegativeClockSkew(max_clock_skew_secs));
    }
    let mut run = Run::default();
    // `None` only means verification stopped early; the reason is already in `run.checks`.
    let _stopped_early = run.verify_token(jwt, keys, now, max_clock_skew_secs);
    Ok(run.finish())
}

/// The state of one [`verify`] call.
#[derive(Default)]
struct Run {
    checks: Vec<JwtCheck>,
    warnings: Vec<JwtWarning>,
    key_source_unavailable: bool,
    algorithm: Option<JwtAlgorithm>,
    key_id: Option<String>,
    form: Option<CredentialForm>,
    credential: Option<Value>,
}

/// The registered claims of a verified token.
struct Claims {
    iss: Option<Value>,
    sub: Option<Value>,
    jti: Option<Value>,
    nbf: Option<Value>,
    exp: Option<Value>,
}

impl Claims {
    /// Takes every registered claim out of `payload`, keeping those the checks use.
    fn take_from(payload: &mut Map<String, Value>) -> Self {
        let claims =
            Self { iss: payload.remove("iss"), sub: payload.remove("sub"), jti: payload.remove("jti"), nbf: payload.remove("nbf"), exp: payload.remove("exp") };
        for name in REGISTERED_CLAIMS {
            payload.remove(name);
        }
        claims
    }
}

/// The header parameters verification uses.
struct Header {
    kid: Option<String>,
    jwk: Option<VerificationKey>,
}

impl Run {
    fn pass(&mut self, id: JwtCheckId, detail: impl Into<String>) {
        self.checks.push(JwtCheck { id, ok: true, detail: detail.into() });
    }

    /// Records a failed check. Returns `None`, so that `run.fail(…)?` also stops verification.
    fn fail<T>(&mut self, id: JwtCheckId, detail: impl Into<String>) -> Option<T> {
        self.checks.push(JwtCheck { id, ok: false, detail: detail.into() });
        None
    }

    fn check(&mut self, id: JwtCheckId, outcome: Result<String, String>) {
        match outcome {
            Ok(detail) => self.pass(id, detail),
            Err(detail) => {
                let _continue = self.fail::<()>(id, detail);
            }
        }
    }

    fn warn(&mut self, id: JwtCheckId, detail: impl Into<String>) {
        self.warnings.push(JwtWarning { id, detail: detail.into() });
    }

    fn finish(self) -> JwtVerification {
        let verdict = if self.checks.iter().all(|check| check.ok) && !self.checks.is_empty() {
            JwtVerdict::Valid
        } else if self.key_source_unavailable {
            JwtVerdict::Indeterminate
        } else {
            JwtVerdict::Invalid
        };
        JwtVerification {
            verdict,
            checks: self.checks,
            warnings: self.warnings,
            algorithm: self.algorithm,
            key_id: self.key_id,
            form: self.form,
            credential: self.credential,
        }
    }

    fn verify_token(&mut self, jwt: &str, keys: &dyn KeyResolver, now: i64, skew: i64) -> Option<()> {
        use JwtCheckId as Id;

        // Format. The length comes first, so that an oversized token costs nothing.
        if jwt.len() > MAX_TOKEN_BYTES {
            return self.fail(Id::Format, format!("the token is {} bytes, over the {MAX_TOKEN_BYTES}-byte limit", jwt.len()));
        }
        let token = jwt.trim_ascii();
        let mut parts = token.split('.');
        let (Some(encoded_header), Some(encoded_payload), Some(encoded_signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            let count = token.split('.').count();
            return self.fail(Id::Format, format!("not a compact JWS: expected 3 dot-separated parts, got {count}"));
        };
        let header = match decode_json_object(encoded_header) {
            Ok(header) => header,
            Err(why) => return self.fail(Id::Format, format!("the header {why}")),
        };
        let mut payload = match decode_json_object(encoded_payload) {
            Ok(payload) => payload,
            Err(why) => return self.fail(Id::Format, format!("the payload {why}")),
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(encoded_signature) else {
            return self.fail(Id::Format, "the signature is not unpadded base64url");
        };
        self.pass(Id::Format, format!("a compact JWS of {} bytes", token.len()));

        let algorithm = self.check_algorithm(&header)?;
        let header = self.check_header(&header)?;

        // The credential, for its issuer: the key must be the issuer's.
        let form = match payload.get("vc") {
            Some(Value::Object(_)) => CredentialForm::VcClaim,
            Some(_) => return self.fail(Id::Credential, "the \"vc\" claim is not a JSON object"),
            None => CredentialForm::Native,
        };
        self.form = Some(form);
        let credential_members = match form {
            CredentialForm::VcClaim => payload.get("vc").and_then(Value::as_object).unwrap_or(&payload),
            CredentialForm::Native => &payload,
        };
        let issuer = issuer_id(credential_members).or_else(|| payload.get("iss").and_then(Value::as_str)).map(str::to_owned);

        // Signature, over the first two parts exactly as received.
        let signing_input = &token.as_bytes()[..encoded_header.len() + 1 + encoded_payload.len()];
        let key = self.resolve_key(keys, algorithm, &header, issuer.as_deref(), (signing_input, &signature))?;
        if let Err(why) = key.check_signature(signing_input, &signature) {
            return self.fail(Id::Signature, why);
        }
        self.pass(Id::Signature, format!("{algorithm} signature verifies"));

        // The credential, without the registered claims.
        let claims = Claims::take_from(&mut payload);
        let mut credential = match payload.remove("vc") {
            Some(Value::Object(vc)) => {
                self.warn(Id::Credential, "the credential is under a \"vc\" claim (VC-JWT 1.1); OB 3.0 VC-JWT uses the credential itself as the payload");
                vc
            }
            _ => payload,
        };
        if form == CredentialForm::VcClaim {
            self.fill_from_claims(&mut credential, &claims);
        }
        self.pass(
            Id::Credential,
            match form {
                CredentialForm::Native => "the payload is the credential (OB 3.0 form)",
                CredentialForm::VcClaim => "the credential is the \"vc\" claim (VC-JWT 1.1 form)",
            },
        );

        self.check_claims(&credential, &claims, now, skew);
        self.credential = Some(Value::Object(credential));
        Some(())
    }

    fn check_algorithm(&mut self, header: &Map<String, Value>) -> Option<JwtAlgorithm> {
        let id = JwtCheckId::Algorithm;
        let name = match header.get("alg") {
            None => return self.fail(id, "the header has no \"alg\""),
            Some(Value::String(name)) => name,
            Some(_) => return self.fail(id, "\"alg\" is not a string"),
        };
        let Some(algorithm) = JwtAlgorithm::from_name(name) else {
            let shown = shorten(name);
            return self.fail(
                id,
                if name.eq_ignore_ascii_case("none") {
                    format!("alg {shown:?}: the token is unsigned")
                } else if name.get(..2).is_some_and(|family| family.eq_ignore_ascii_case("HS")) {
                    format!("alg {shown:?} is an HMAC with a shared secret, not a signature by the issuer's private key; it is never accepted for a credential")
                } else {
                    format!("alg {shown:?} is not supported (EdDSA, ES256 and RS256 are)")
                },
            );
        };
        self.algorithm = Some(algorithm);
        self.pass(id, algorithm.name());
        Some(algorithm)
    }

    fn check_header(&mut self, header: &Map<String, Value>) -> Option<Header> {
        let id = JwtCheckId::Header;
        if let Some(critical) = header.get("crit") {
            return self.fail(
                id,
                format!(
                    "the header marks extensions as critical (\"crit\": {}), and none is understood here (RFC 7515 §4.1.11)",
                    shorten(&critical.to_string())
                ),
            );
        }
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("vc+jwt") || typ.eq_ignore_ascii_case("vc+ld+jwt") => {
                self.warn(id, format!("typ {typ:?} is the VC-JOSE-COSE media type; OB 3.0 §8.2 says \"JWT\""));
            }
            Some(typ) => return self.fail(id, format!("typ {} is not \"JWT\"", shorten(&value_text(typ)))),
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if !kid.is_empty() => Some(kid.clone()),
            Some(_) => return self.fail(id, "\"kid\" is not a non-empty string"),
        };
        let jwk = match header.get("jwk") {
            None => None,
            Some(jwk) => match VerificationKey::from_jwk(jwk) {
                Ok(key) => Some(key),
                Err(why) => return self.fail(id, format!("the header jwk is not a usable public key: {why}")),
            },
        };
        let others: Vec<&str> = header.keys().map(String::as_str).filter(|name| !ALLOWED_HEADER_PARAMETERS.contains(name)).collect();
        if !others.is_empty() {
            self.warn(id, format!("OB 3.0 §8.2 allows only alg, kid, jwk and typ in the header; also found: {}", shorten(&others.join(", "))));
        }
        if kid.is_none() && jwk.is_none() {
            self.warn(id, "the header has neither kid nor jwk (OB 3.0 §8.2 asks for one); the key was looked up by issuer");
        }
        self.pass(
            id,
            match (&kid, &jwk) {
                (Some(kid), _) => format!("kid {:?}", shorten(kid)),
                (None, Some(_)) => "no kid; a header jwk".to_owned(),
                (None, None) => "no kid".to_owned(),
            },
        );
        Some(Header { kid, jwk })
    }

    /// The key for the token: resolved by `kid`, header `jwk` or issuer; or, for a token that names
    /// none, the first of the resolver's candidates that the signature (`signed`: the signing input
    /// and the signature) verifies with.
    fn resolve_key(
        &mut self,
        keys: &dyn KeyResolver,
        algorithm: JwtAlgorithm,
        header: &Header,
        issuer: Option<&str>,
        signed: (&[u8], &[u8]),
    ) -> Option<VerificationKey> {
        let id = JwtCheckId::Key;
        let issuer_did = issuer.filter(|issuer| issuer.starts_with("did:"));
        let kid = header.kid.as_deref().map(|kid| match issuer_did {
            Some(did) if kid.starts_with('#') => format!("{did}{kid}"),
            _ => kid.to_owned(),
        });
        self.key_id.clone_from(&kid);
        if let (Some(kid), Some(issuer)) = (kid.as_deref(), issuer_did)
            && kid.starts_with("did:")
            && did_of(kid) != issuer
        {
            return self.fail(id, format!("kid {:?} is a key of another DID than the issuer {:?}", shorten(kid), shorten(issuer)));
        }
        let wanted = match (kid.as_deref(), issuer) {
            (Some(kid), _) => format!("kid {:?}", shorten(kid)),
            (None, Some(issuer)) => format!("issuer {:?}", shorten(issuer)),
            (None, None) => "the token (no kid, no issuer)".to_owned(),
        };
        let lookup = KeyLookup { kid: kid.as_deref(), issuer, algorithm, jwk: header.jwk.as_ref() };
        let (key, source) = match keys.resolve(&lookup) {
            Err(KeyResolutionError::Unavailable(why)) => {
                self.key_source_unavailable = true;
                return self.fail(id, format!("cannot look up the key for {wanted}: {why}"));
            }
            Err(KeyResolutionError::Refused(why)) => return self.fail(id, format!("no usable key for {wanted}: {why}")),
            Ok(Some(resolved)) => {
                if let Some(controller) = resolved.controller.as_deref()
                    && issuer != Some(controller)
                {
                    return self.fail(
                        id,
                        format!("the key for {wanted} belongs to {:?}, not the issuer {:?}", shorten(controller), issuer.map(shorten).unwrap_or_default()),
                    );
                }
                if header.jwk.as_ref().is_some_and(|header_key| *header_key != resolved.key) {
                    return self.fail(id, format!("the header jwk is not the key resolved for {wanted}"));
                }
                let source = format!("{} resolved for {wanted}", resolved.key.kind());
                (resolved.key, source)
            }
            Ok(None) => match &header.jwk {
                Some(header_key) if keys.accepts_header_jwk() => {
                    self.warn(id, "the key was taken from the token's own header jwk, which is not bound to the issuer");
                    (header_key.clone(), format!("{} from the header jwk", header_key.describe()))
                }
                Some(_) => {
                    return self.fail(id, format!("no trusted key for {wanted}; the token carries its own jwk, which is not accepted as a key source"));
                }
                None => match self.try_candidates(keys, &lookup, signed) {
                    Ok(found) => found,
                    Err(why) => return self.fail(id, format!("no key found for {wanted}{why}")),
                },
            },
        };
        if key.algorithm() != algorithm {
            return self.fail(id, format!("alg {algorithm} needs {}, but the key is {}", algorithm.key_type(), key.algorithm().key_type()));
        }
        self.pass(id, source);
        Some(key)
    }

    /// For a token that names no key: the first candidate of the token's algorithm, belonging to
    /// the issuer when its controller is known, that the signature verifies with.
    /// Fails with the end of the failure's detail.
    fn try_candidates(
        &mut self,
        keys: &dyn KeyResolver,
        lookup: &KeyLookup<'_>,
        (message, signature): (&[u8], &[u8]),
    ) -> Result<(VerificationKey, String), String> {
        let candidates = match keys.candidates(lookup) {
            Ok(candidates) => candidates,
            Err(KeyResolutionError::Unavailable(why)) => {
                self.key_source_unavailable = true;
                return Err(format!("; the keys to try could not be looked up: {why}"));
            }
            Err(KeyResolutionError::Refused(why)) => return Err(format!("; no keys to try: {why}")),
        };
        let usable: Vec<ResolvedKey> = candidates
            .into_iter()
            .filter(|candidate| candidate.key.algorithm() == lookup.algorithm)
            .filter(|candidate| candidate.controller.is_none() || candidate.controller.as_deref() == lookup.issuer)
            .take(MAX_CANDIDATE_KEYS)
            .collect();
        let tried = usable.len();
        let keys_text = format!("{tried} trusted {} key{}", lookup.algorithm, if tried == 1 { "" } else { "s" });
        match usable.into_iter().find(|candidate| candidate.key.check_signature(message, signature).is_ok()) {
            Some(found) => Ok((found.key.clone(), format!("{} found by trying the {keys_text} (the token names no key)", found.key.describe()))),
            None if tried == 0 => Err(String::new()),
            None => Err(format!(": the signature verifies with none of the {keys_text}")),
        }
    }

    /// VC-JWT 1.1 §6.3.1 decoding: a `vc` claim may leave out what the registered claims say.
    fn fill_from_claims(&mut self, credential: &mut Map<String, Value>, claims: &Claims) {
        let fill = |run: &mut Self, credential: &mut Map<String, Value>, property: &str, claim: &str, value: Option<Value>| {
            if let Some(value) = value.filter(|_| !credential.contains_key(property)) {
                run.warn(JwtCheckId::Credential, format!("the vc claim has no {property:?}; taken from {claim:?}"));
                credential.insert(property.to_owned(), value);
            }
        };
        let as_date = |claim: &Option<Value>| numeric_date(claim.as_ref()).and_then(Result::ok).map(|seconds| Value::String(format_date_time(seconds)));
        fill(self, credential, "id", "jti", claims.jti.clone().filter(Value::is_string));
        fill(self, credential, "issuer", "iss", claims.iss.clone().filter(Value::is_string));
        if !credential.contains_key("validFrom") {
            fill(self, credential, "issuanceDate", "nbf", as_date(&claims.nbf));
        }
        if !credential.contains_key("validUntil") {
            fill(self, credential, "expirationDate", "exp", as_date(&claims.exp));
        }
        if let (Some(Value::String(sub)), Some(Value::Object(subject))) = (&claims.sub, credential.get_mut("credentialSubject"))
            && !subject.contains_key("id")
        {
            subject.insert("id".to_owned(), Value::String(sub.clone()));
            self.warn(JwtCheckId::Credential, "the vc claim's credentialSubject has no \"id\"; taken from \"sub\"");
        }
    }

    fn check_claims(&mut self, credential: &Map<String, Value>, claims: &Claims, now: i64, skew: i64) {
        use JwtCheckId as Id;

        // iss: required, equal to the issuer id.
        let issuer = issuer_id(credential);
        let outcome = match (&claims.iss, issuer) {
            (None, _) => Err("the token has no \"iss\" claim".to_owned()),
            (Some(Value::String(iss)), Some(issuer)) if iss == issuer => Ok(format!("iss equals the issuer id {:?}", shorten(issuer))),
            (Some(Value::String(iss)), Some(issuer)) => Err(format!("iss {:?} is not the issuer id {:?}", shorten(iss), shorten(issuer))),
            (Some(Value::String(iss)), None) => Err(format!("iss {:?}, but the credential has no issuer id", shorten(iss))),
            (Some(_), _) => Err("\"iss\" is not a string".to_owned()),
        };
        self.check(Id::IssClaim, outcome);

        // jti: equal to the credential id; required when there is one.
        let outcome = match (&claims.jti, credential.get("id")) {
            (_, Some(id)) if !id.is_string() => Err("the credential id is not a string".to_owned()),
            (None, None) => Ok("neither jti nor a credential id".to_owned()),
            (None, Some(id)) => Err(format!("the token has no \"jti\" claim; the credential id is {}", shorten(&value_text(id)))),
            (Some(Value::String(jti)), Some(id)) if Some(jti.as_str()) == id.as_str() => Ok(format!("jti equals the credential id {:?}", shorten(jti))),
            (Some(Value::String(jti)), Some(id)) => Err(format!("jti {:?} is not the credential id {}", shorten(jti), shorten(&value_text(id)))),
            (Some(Value::String(jti)), None) => Err(format!("jti {:?}, but the credential has no id", shorten(jti))),
            (Some(_), _) => Err("\"jti\" is not a string".to_owned()),
        };
        self.check(Id::JtiClaim, outcome);

        // sub: equal to credentialSubject.id; its absence is a warning.
        let outcome = match (&claims.sub, subject_id(credential)) {
            (None, None) => Ok("neither sub nor a credentialSubject.id".to_owned()),
            (None, Some(subject)) => {
                self.warn(Id::SubClaim, format!("no \"sub\" claim; OB 3.0 §8.2 asks for one equal to credentialSubject.id {:?}", shorten(subject)));
                Ok("no sub claim (see warnings)".to_owned())
            }
            (Some(Value::String(sub)), Some(subject)) if sub == subject => Ok(format!("sub equals credentialSubject.id {:?}", shorten(sub))),
            (Some(Value::String(sub)), Some(subject)) => Err(format!("sub {:?} is not credentialSubject.id {:?}", shorten(sub), shorten(subject))),
            (Some(Value::String(sub)), None) => Err(format!("sub {:?}, but the credentialSubject has no id", shorten(sub))),
            (Some(_), _) => Err("\"sub\" is not a string".to_owned()),
        };
        self.check(Id::SubClaim, outcome);

        // nbf: required, equal to validFrom; exp: equal to validUntil.
        let valid_from = self.credential_date(credential, "validFrom", "issuanceDate");
        let valid_until = self.credential_date(credential, "validUntil", "expirationDate");
        let not_before = numeric_date(claims.nbf.as_ref());
        let expires = numeric_date(claims.exp.as_ref());
        let seconds = |date: &Option<Result<i64, String>>| date.as_ref().and_then(|date| date.as_ref().ok().copied());
        let dated = |date: &Option<Result<(&str, i64), String>>| date.as_ref().and_then(|date| date.as_ref().ok().map(|(_, seconds)| *seconds));
        let outcome = match (&not_before, &valid_from) {
            (None, _) => Err("the token has no \"nbf\" claim".to_owned()),
            (Some(Err(why)), _) => Err(format!("nbf {why}")),
            (Some(Ok(nbf)), Some(Ok((property, from)))) if nbf == from => Ok(format!("nbf {nbf} equals {property} {}", format_date_time(*from))),
            (Some(Ok(nbf)), Some(Ok((property, from)))) => Err(format!("nbf {nbf} ({}) is not {property} {}", format_date_time(*nbf), format_date_time(*from))),
            (Some(Ok(nbf)), Some(Err(_)) | None) => Ok(format!("nbf {nbf}")),
        };
        self.check(Id::NbfClaim, outcome);
        let outcome = match (&expires, &valid_until) {
            (Some(Err(why)), _) => Err(format!("exp {why}")),
            (Some(Ok(exp)), Some(Ok((property, until)))) if exp == until => Ok(format!("exp {exp} equals {property} {}", format_date_time(*until))),
            (Some(Ok(exp)), Some(Ok((property, until)))) => {
                Err(format!("exp {exp} ({}) is not {property} {}", format_date_time(*exp), format_date_time(*until)))
            }
            (Some(Ok(exp)), Some(Err(_)) | None) => Ok(format!("exp {exp}")),
            (None, Some(Ok((property, _)))) => {
                self.warn(Id::ExpClaim, format!("the credential has {property} but the token has no \"exp\" claim (OB 3.0 §8.2 asks for one)"));
                Ok("no exp claim (see warnings)".to_owned())
            }
            (None, Some(Err(_)) | None) => Ok("no exp claim and no validUntil".to_owned()),
        };
        self.check(Id::ExpClaim, outcome);

        // The validity window, widened by the skew.
        let outcome = match (&valid_from, &not_before) {
            (Some(Err(why)), _) => Err(why.clone()),
            _ => {
                let starts = [seconds(&not_before), dated(&valid_from)].into_iter().flatten().max();
                match starts {
                    Some(starts) if now.saturating_add(skew) < starts => {
                        Err(format!("not valid before {}; now is {} (clock skew {skew} s)", format_date_time(starts), format_date_time(now)))
                    }
                    Some(starts) => Ok(format!("valid from {}", format_date_time(starts))),
                    None => Ok("no start of validity".to_owned()),
                }
            }
        };
        self.check(Id::ValidityStart, outcome);
        let outcome = match (&valid_until, &expires) {
            (Some(Err(why)), _) => Err(why.clone()),
            _ => {
                let ends = [seconds(&expires), dated(&valid_until)].into_iter().flatten().min();
                match ends {
                    Some(ends) if now.saturating_sub(skew) >= ends => {
                        Err(format!("expired at {}; now is {} (clock skew {skew} s)", format_date_time(ends), format_date_time(now)))
                    }
                    Some(ends) => Ok(format!("valid until {}", format_date_time(ends))),
                    None => Ok("does not expire".to_owned()),
                }
            }
        };
        self.check(Id::ValidityEnd, outcome);
    }

    /// A credential date as `(property, epoch seconds)`: the VC 2.0 property, else the VC 1.1 one.
    /// A date without a time zone is read as UTC, with a warning.
    fn credential_date(
        &mut self,
        credential: &Map<String, Value>,
        property: &'static str,
        legacy_property: &'static str,
    ) -> Option<Result<(&'static str, i64), String>> {
        let (property, value) = [property, legacy_property].into_iter().find_map(|property| credential.get(property).map(|value| (property, value)))?;
        let Some(date) = value.as_str().and_then(parse_date_time) else {
            return Some(Err(format!("{property} {} is not an RFC 3339 date-time", shorten(&value_text(value)))));
        };
        if !date.has_offset {
            let id = if property == "validFrom" || property == "issuanceDate" { JwtCheckId::ValidityStart } else { JwtCheckId::ValidityEnd };
            self.warn(id, format!("{property} {} has no time zone; read as UTC", shorten(&value_text(value))));
        }
        Some(Ok((property, date.seconds)))
    }
}

/// Decodes one base64url part into a JSON object.
fn decode_json_object(encoded: &str) -> Result<Map<String, Value>, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| "is not unpadded base64url")?;
    // One UTF-8 check of the whole text is cheaper than serde_json's check of each string.
    let text = std::str::from_utf8(&bytes).map_err(|_| "is not JSON")?;
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("is not a JSON object"),
        Err(_) => Err("is not JSON"),
    }
}

/// A JWT NumericDate (RFC 7519 §2) as whole seconds, rounded down; `None` when absent.
fn numeric_date(value: Option<&Value>) -> Option<Result<i64, String>> {
    let value = value?;
    Some(match value.as_i64() {
        Some(seconds) => Ok(seconds),
        None => match value.as_f64() {
            // `as` saturates, and serde_json numbers are finite.
            Some(seconds) => Ok(seconds.floor() as i64),
            None => Err(format!("{} is not a NumericDate", shorten(&value_text(value)))),
        },
    })
}
