//! Wallet pickup over OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow
//! (`cairn_core::wallet` has the rules, `cairn_vc::oid4vci` the messages):
//!
//! 1. The learner asks for an offer on the award page or over the API ([`make_offer`]): a link
//!    and QR code naming where the wallet fetches it ([`offer_by_id`]), with a single-use
//!    pre-authorized code inside, and a six-digit transaction code shown beside it.
//! 2. The wallet reads the issuer's metadata ([`issuer_metadata`], and the OAuth server's,
//!    which lists the grant), and exchanges the code and the transaction code at the token
//!    endpoint for a short-lived access token ([`token`]).
//! 3. It gets a nonce ([`nonce`]), signs a key proof with it, and asks for the credential
//!    ([`collect`]): the award's Open Badge bound to the proof's DID (`credentialSubject.id`),
//!    with a fresh `urn:uuid:` id and the award's own status entries, signed now as a Data
//!    Integrity credential or a VC-JWT. Each collection is recorded ([`pickups`]).
//!
//! The award is checked when the offer is made and again when the wallet collects: a badge
//! revoked or suspended in between is not sent.

use cairn_core::authz::{Action, Actor, Denied};
use cairn_core::ids::AwardId;
use cairn_core::oauth::{ErrorCode, OAuthError};
use cairn_core::wallet::{ACCESS_TOKEN_LIFETIME, MAX_TX_CODE_FAILURES, NONCE_LIFETIME, NotSendable, OFFER_LIFETIME, Sendable, TX_CODE_DIGITS, tx_code};
use cairn_store::{Award, NonceUse, Redeemed, WalletPickup};
use cairn_vc::loader::BundledLoader;
use cairn_vc::oid4vci::{self, CredentialFormat, CredentialRequest, Display, IssuerEndpoints, RequestError, TxCodeHint};
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use cairn_vc::{ob3, suites::vc_jwt};
use rand::Rng as _;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::awards::documents::{rfc3339, verification_method};
use crate::{App, AppError};

/// What a wallet is told to ask its user for, beside the offer.
pub const TX_CODE_DESCRIPTION: &str = "The six-digit code shown beside the QR code on your badge page";

/// An offer for a wallet: the offer itself, where wallets fetch it (`uri`), the link (and QR
/// code) a wallet opens (`url`, by reference), and the transaction code to type in, shown once.
#[derive(Debug, Clone)]
pub struct WalletOffer {
    pub award: AwardId,
    pub offer: Value,
    pub uri: String,
    pub url: String,
    pub tx_code: String,
    pub expires_at: OffsetDateTime,
}

/// The credential issuer's addresses, owned.
struct Endpoints {
    issuer: String,
    credential: String,
    nonce: String,
}

impl Endpoints {
    fn of(app: &App) -> Endpoints {
        Endpoints { issuer: app.config.url(""), credential: app.config.url("/oid4vci/credential"), nonce: app.config.url("/oid4vci/nonce") }
    }
}

/// The credential issuer metadata, at `/.well-known/openid-credential-issuer`.
pub fn issuer_metadata(app: &App) -> Value {
    let endpoints = Endpoints::of(app);
    let logo = app.config.url("/static/cairn-logo.svg");
    oid4vci::issuer_metadata(
        &IssuerEndpoints { issuer: &endpoints.issuer, credential: &endpoints.credential, nonce: &endpoints.nonce },
        &Display { name: "Cairn", logo: Some(&logo), locale: "en" },
    )
}

/// An award of the actor's own, or `NotFound` (another person's awards are not named).
async fn own_award(app: &App, actor: &Actor, id: AwardId) -> Result<Award, AppError> {
    let award = app.store.award(id).await?;
    match actor.authorise(Action::Own(award.learner)) {
        Ok(()) => Ok(award),
        Err(Denied::Unauthenticated) => Err(AppError::Unauthenticated),
        Err(Denied::Forbidden | Denied::ReadOnly) => Err(AppError::NotFound(format!("award \"{id}\" not found"))),
    }
}

fn sendable(award: &Award) -> Sendable {
    Sendable { status: award.status, valid_until: award.valid_until, renewed: award.renewed_by.is_some() }
}

/// Makes an offer of the actor's award for a wallet; an earlier offer of it not yet used stops
/// working.
///
/// # Errors
/// `NotFound` for an award that is not the actor's; `Conflict` for one that is revoked,
/// suspended, expired or renewed; store failures.
pub async fn make_offer(app: &App, actor: &Actor, id: AwardId) -> Result<WalletOffer, AppError> {
    let award = own_award(app, actor, id).await?;
    let now = app.now();
    sendable(&award).check(now).map_err(|reason| AppError::conflict(reason.to_string()))?;
    let tx_code = tx_code(rand::thread_rng().r#gen());
    let (offer_id, code) = app.store.create_wallet_offer(award.id, &tx_code, OFFER_LIFETIME, now).await?;
    let uri = app.config.url(&format!("/oid4vci/offers/{offer_id}"));
    Ok(WalletOffer { award: award.id, url: oid4vci::offer_link(&uri), uri, offer: offer_object(app, &code), tx_code, expires_at: now + OFFER_LIFETIME })
}

fn offer_object(app: &App, code: &str) -> Value {
    oid4vci::offer(&app.config.url(""), code, &TxCodeHint { length: TX_CODE_DIGITS, description: TX_CODE_DESCRIPTION })
}

/// The offer a wallet fetches from its `credential_offer_uri`, while it may still be redeemed.
///
/// # Errors
/// `NotFound` for an offer unknown, redeemed, expired or out of tries; store failures.
pub async fn offer_by_id(app: &App, id: &str) -> Result<Value, AppError> {
    let code = app.store.wallet_offer_code(id, MAX_TX_CODE_FAILURES, app.now()).await?;
    code.map(|code| offer_object(app, &code))
        .ok_or_else(|| AppError::NotFound("this wallet offer is unknown, used or expired: make a new one on the badge page".into()))
}

/// What the wallet page shows of the actor's award: its name, whether it may be sent now (and
/// why not), and the credentials wallets collected of it.
#[derive(Debug, Clone)]
pub struct WalletStanding {
    pub award: Award,
    pub name: String,
    pub sendable: Result<(), NotSendable>,
    pub pickups: Vec<WalletPickup>,
}

/// The wallet page's view of the actor's award.
///
/// # Errors
/// `NotFound` for an award that is not the actor's; store failures.
pub async fn standing(app: &App, actor: &Actor, id: AwardId) -> Result<WalletStanding, AppError> {
    let award = own_award(app, actor, id).await?;
    let name = app.store.achievement(award.achievement).await?.content.name;
    let pickups = app.store.wallet_pickups(award.id).await?;
    Ok(WalletStanding { sendable: sendable(&award).check(app.now()), award, name, pickups })
}

/// The credentials wallets collected of the actor's award, newest first.
///
/// # Errors
/// `NotFound` for an award that is not the actor's; store failures.
pub async fn pickups(app: &App, actor: &Actor, id: AwardId) -> Result<Vec<WalletPickup>, AppError> {
    let award = own_award(app, actor, id).await?;
    Ok(app.store.wallet_pickups(award.id).await?)
}

/// The token endpoint's answer to a redeemed offer, with a first nonce (as drafts 13 to 15 of
/// OID4VCI gave it there; 1.0 wallets ask the nonce endpoint).
#[derive(Debug, Clone)]
pub struct WalletToken {
    pub access_token: String,
    pub expires_in: Duration,
    pub c_nonce: String,
    pub c_nonce_expires_in: Duration,
}

fn oauth(code: ErrorCode, description: impl Into<String>) -> AppError {
    AppError::OAuth(OAuthError::new(code, description))
}

/// The pre-authorized code grant: the offer's code and its transaction code for an access token.
///
/// # Errors
/// `OAuth` `invalid_request` when either is missing; `invalid_grant` for a wrong transaction
/// code (counted), a code used before (which ends the access it gave), or one unknown, expired
/// or out of tries; store failures.
pub async fn token(app: &App, code: Option<&str>, tx_code: Option<&str>) -> Result<WalletToken, AppError> {
    let code = code.ok_or_else(|| oauth(ErrorCode::InvalidRequest, "send the pre-authorized_code"))?;
    let tx_code = tx_code.ok_or_else(|| oauth(ErrorCode::InvalidRequest, "send the tx_code: the six-digit code shown beside the offer"))?;
    let now = app.now();
    match app.store.redeem_wallet_offer(code, tx_code, MAX_TX_CODE_FAILURES, ACCESS_TOKEN_LIFETIME, now).await? {
        Redeemed::Token { token, .. } => {
            Ok(WalletToken { access_token: token, expires_in: ACCESS_TOKEN_LIFETIME, c_nonce: nonce(app).0, c_nonce_expires_in: NONCE_LIFETIME })
        }
        Redeemed::WrongTxCode { left: 0 } => {
            Err(oauth(ErrorCode::InvalidGrant, "the tx_code is wrong, and the offer no longer works: make a new one on the badge page"))
        }
        Redeemed::WrongTxCode { left } => Err(oauth(ErrorCode::InvalidGrant, format!("the tx_code is wrong ({left} more tries)"))),
        Redeemed::Again => {
            tracing::warn!("a pre-authorized code was presented again: the access it gave is ended");
            Err(oauth(ErrorCode::InvalidGrant, "the pre-authorized code was used before; the access it gave is ended"))
        }
        Redeemed::Unknown => Err(oauth(ErrorCode::InvalidGrant, "the pre-authorized code is unknown or expired: make a new offer on the badge page")),
    }
}

/// A fresh nonce for a key proof, and how long it works.
pub fn nonce(app: &App) -> (String, Duration) {
    (app.store.wallet_nonce(NONCE_LIFETIME, app.now()), NONCE_LIFETIME)
}

/// A credential a wallet collected: a JSON object (`ldp_vc`) or a compact JWT (`jwt_vc_json`),
/// and whether to answer in the shape of drafts 13 to 15.
#[derive(Debug, Clone)]
pub struct Collected {
    pub credential: Value,
    pub legacy: bool,
}

fn request_error(error: RequestError) -> AppError {
    match error {
        RequestError::InvalidRequest(text) => oauth(ErrorCode::InvalidCredentialRequest, text),
        RequestError::UnknownConfiguration(text) => oauth(ErrorCode::UnknownCredentialConfiguration, text),
        RequestError::InvalidProof(text) => oauth(ErrorCode::InvalidProof, text),
    }
}

/// The credential endpoint: the award an access token collects, bound to the key the request's
/// proof names, signed now in the format asked for.
///
/// # Errors
/// `Unauthenticated` without an access token; `OAuth` `invalid_token` for an unknown or expired
/// one;
/// `invalid_credential_request`, `unknown_credential_configuration`, `invalid_proof` or
/// `invalid_nonce` for a request that is not right; `credential_request_denied` when the award
/// was revoked, suspended or renewed since the offer; `Internal` when signing fails; store
/// failures.
pub async fn collect(app: &App, access_token: Option<&str>, body: &Value) -> Result<Collected, AppError> {
    let now = app.now();
    let token = access_token.ok_or(AppError::Unauthenticated)?;
    let award = app.store.wallet_token_award(token, now).await?.ok_or_else(|| oauth(ErrorCode::InvalidToken, "the access token is unknown or has expired"))?;
    let request = CredentialRequest::parse(body).map_err(request_error)?;
    let issuer = app.config.url("");
    let proof = oid4vci::verify_key_proof(&request.proof_jwt, &issuer, now.unix_timestamp()).map_err(request_error)?;
    let nonce = proof.nonce.as_deref().ok_or_else(|| oauth(ErrorCode::InvalidNonce, "the proof carries no nonce: ask the nonce endpoint for one"))?;
    match app.store.spend_wallet_nonce(nonce, now).await? {
        NonceUse::Fresh => {}
        NonceUse::Spent => return Err(oauth(ErrorCode::InvalidNonce, "the proof's nonce was used before: ask the nonce endpoint for a new one")),
        NonceUse::Invalid => return Err(oauth(ErrorCode::InvalidNonce, "the proof's nonce is not one this issuer gave, or it has expired")),
    }
    let award = app.store.award(award).await?;
    sendable(&award).check(now).map_err(|reason| oauth(ErrorCode::CredentialRequestDenied, reason.to_string()))?;
    let held: Value = serde_json::from_str(&award.credential_json).map_err(|e| AppError::internal(&e))?;
    let credential_id = format!("urn:uuid:{}", crate::transcripts::random_uuid());
    let bound = oid4vci::bind_to_holder(&held, &proof.holder, &credential_id);
    let key = app.store.signing_key(award.organisation).await?;
    let method = verification_method(&app.config, award.organisation);
    let format = request.format;
    crate::metrics::signed(crate::metrics::Signed::Wallet);
    let credential = tokio::task::spawn_blocking(move || -> Result<Value, AppError> {
        match format {
            CredentialFormat::LdpVc => {
                let signer = Ed25519Signer::new(key, method);
                let signed = eddsa::sign(&bound, &signer, &ProofOptions::assertion(rfc3339(now)), &BundledLoader).map_err(|e| AppError::internal(&e))?;
                Ok(ob3::proof_as_array(signed))
            }
            CredentialFormat::JwtVcJson => Ok(Value::String(vc_jwt::sign(&bound, &key, &method).map_err(|e| AppError::internal(&e))?)),
        }
    })
    .await
    .map_err(|e| AppError::internal(&e))??;
    app.store
        .record_wallet_pickup(&WalletPickup { credential_id, award: award.id, holder: proof.holder, format: format.format().to_string(), picked_up_at: now })
        .await?;
    tracing::info!(award = %award.id, format = format.format(), "a wallet collected a credential");
    Ok(Collected { credential, legacy: request.legacy })
}
