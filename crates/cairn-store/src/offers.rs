//! Direct awards (migrations `0031_award_offers.sql`, `0032_award_offer_credentials.sql`): an
//! issuer's staff offer an achievement to an e-mail address; the address is e-mailed a claim link
//! whose secret is kept as its digest. The credential is signed when the offer is made and held
//! with it ([`HeldCredential`]); the offer is claimed by the award its recipient is then given
//! ([`crate::NewAward::offer`]), in the award's transaction. An `Idempotency-Key` names one offer per issuer: the same request again
//! finds it, another request with the same key is refused.

use crate::account_data::OutgoingMail;
use crate::accounts::{digest, random_secret};
use crate::rows::{get_email, get_id, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, get_u64, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::ids::{AchievementId, AwardId, AwardOfferId, OrganisationId, UserId};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A stored offer (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardOffer {
    pub id: AwardOfferId,
    pub organisation: OrganisationId,
    pub organisation_name: String,
    pub achievement: AchievementId,
    pub email: Email,
    /// The recipient's name, as the issuer gave it.
    pub name: String,
    pub narrative: String,
    /// Evidence links as (URL, name).
    pub evidence: Vec<(String, String)>,
    /// The rubric results its credential states, as an award keeps them (`awards.results_json`).
    pub results_json: String,
    /// The id of the award its held credential becomes, for offers made with one.
    pub held: Option<AwardId>,
    pub offered_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    /// The award its claim issued.
    pub award: Option<AwardId>,
    pub claimed_at: Option<OffsetDateTime>,
    pub withdrawn_at: Option<OffsetDateTime>,
}

/// A credential signed and baked when the offer is made, held until it is claimed: then it
/// becomes the award of the account that claims it, under the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCredential {
    pub award: AwardId,
    pub achievement_version: u32,
    pub issued_at: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    /// Its index in both of the issuer's status lists.
    pub status_index: u64,
    pub recipient_salt: String,
    pub results_json: String,
    pub credential_json: String,
    pub jwt: String,
    pub ob2_json: String,
    pub png_key: String,
    pub svg_key: String,
}

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    Waiting,
    Claimed(OffsetDateTime),
    Withdrawn(OffsetDateTime),
}

impl OfferState {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Waiting => "waiting",
            OfferState::Claimed(_) => "claimed",
            OfferState::Withdrawn(_) => "withdrawn",
        }
    }
}

impl AwardOffer {
    /// Where it stands: claimed (and when), else withdrawn (and when), else waiting.
    pub fn state(&self) -> OfferState {
        match (self.claimed_at, self.withdrawn_at) {
            (Some(at), _) => OfferState::Claimed(at),
            (None, Some(at)) => OfferState::Withdrawn(at),
            (None, None) => OfferState::Waiting,
        }
    }

    /// Whether it waits to be claimed.
    pub fn waiting(&self) -> bool {
        self.state() == OfferState::Waiting
    }
}

/// What an issuer offers, to whom: the first part of [`Store::create_award_offer`].
#[derive(Debug, Clone, Copy)]
pub struct NewAwardOffer<'a> {
    pub organisation: OrganisationId,
    pub achievement: AchievementId,
    pub email: &'a Email,
    pub name: &'a str,
    pub narrative: &'a str,
    pub evidence: &'a [(String, String)],
    /// Its credential, signed for the address.
    pub credential: &'a HeldCredential,
    pub offered_by: UserId,
    /// The request's `Idempotency-Key`, if it had one.
    pub idempotency_key: Option<&'a str>,
    /// A digest of everything the request asked, to tell the same request from another one
    /// sent with the same key.
    pub fingerprint: &'a str,
}

/// What [`Store::create_award_offer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferMade {
    /// A new offer, its mail queued.
    New(AwardOffer),
    /// The offer the same request with the same key made before: nothing new.
    Replayed(AwardOffer),
}

const COLUMNS: &str = "f.id, f.organisation_id, o.name AS organisation_name, f.achievement_id, f.email, f.name, f.narrative, f.evidence_json, \
     f.results_json, f.credential_award_id, f.offered_by, f.created_at, f.award_id, f.claimed_at, f.withdrawn_at";

fn offer_from(row: &AnyRow) -> Result<AwardOffer, StoreError> {
    let evidence: Vec<(String, String)> =
        serde_json::from_str(&get_string(row, "evidence_json")?).map_err(|e| StoreError::corrupt(format!("an offer's evidence: {e}")))?;
    Ok(AwardOffer {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        organisation_name: get_string(row, "organisation_name")?,
        achievement: get_id(row, "achievement_id")?,
        email: get_email(row, "email")?,
        name: get_string(row, "name")?,
        narrative: get_string(row, "narrative")?,
        evidence,
        results_json: get_string(row, "results_json")?,
        held: get_opt_id(row, "credential_award_id")?,
        offered_by: get_opt_id(row, "offered_by")?,
        created_at: get_time(row, "created_at")?,
        award: get_opt_id(row, "award_id")?,
        claimed_at: get_opt_time(row, "claimed_at")?,
        withdrawn_at: get_opt_time(row, "withdrawn_at")?,
    })
}

fn key_reused() -> StoreError {
    StoreError::Conflict { constraint: "award_offers.key", detail: "this Idempotency-Key was used for another request: use a new key for a new award".into() }
}

impl Store {
    /// Offers an achievement to an address: keeps the digest of a new secret and queues the mail
    /// `compose` makes from it, in one transaction. With an idempotency key the issuer used
    /// before, for the same request ([`NewAwardOffer::fingerprint`]), it answers that offer and
    /// queues nothing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`]: `award_offers.key` when the key named another request,
    /// `award_offers.waiting` when an offer of the achievement to the address waits already.
    #[tracing::instrument(skip_all, fields(organisation_id = %offer.organisation))]
    pub async fn create_award_offer(
        &self,
        offer: NewAwardOffer<'_>,
        now: OffsetDateTime,
        compose: impl FnOnce(&str) -> OutgoingMail,
    ) -> Result<OfferMade, StoreError> {
        if let Some(earlier) = self.replayed_offer(offer.organisation, offer.idempotency_key, offer.fingerprint).await? {
            return earlier;
        }
        let secret = random_secret();
        let id = AwardOfferId::new();
        let held = offer.credential;
        let mut tx = self.pool.begin().await?;
        let inserted = insert_offer(&mut tx, id, &offer, &digest(&secret), now, false).await;
        if let Err(error) = inserted {
            drop(tx);
            if !StoreError::is_unique_violation(&error) {
                return Err(error.into());
            }
            // The key was taken meanwhile (answered as if that request came first), an offer of
            // the achievement to the address waits (`award_offers_waiting`), or another waiting
            // offer holds the status index; the databases name whichever they check first.
            if let Some(earlier) = self.replayed_offer(offer.organisation, offer.idempotency_key, offer.fingerprint).await? {
                return earlier;
            }
            if self.offer_waits(offer.achievement, offer.email).await? || !violated(&error).contains("status_index") {
                return Err(waiting_already(offer.email));
            }
            return Err(StoreError::Conflict { constraint: "award_offers.status_index", detail: format!("status index {} is taken", held.status_index) });
        }
        // Composed once the offer stands: a refused one makes no mail.
        crate::account_data::queue(&mut tx, &compose(&secret), now).await?;
        tx.commit().await?;
        Ok(OfferMade::New(self.award_offer(offer.organisation, id).await?))
    }

    /// What an idempotency key answers when the issuer used it before: the earlier offer for the
    /// same request (the same `fingerprint`), a conflict (`award_offers.key`) for another one;
    /// `None` for no key or a new one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn replayed_offer(
        &self,
        organisation: OrganisationId,
        key: Option<&str>,
        fingerprint: &str,
    ) -> Result<Option<Result<OfferMade, StoreError>>, StoreError> {
        let Some(key) = key else { return Ok(None) };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, f.fingerprint FROM award_offers f JOIN organisations o ON o.id = f.organisation_id \
             WHERE f.organisation_id = $1 AND f.idempotency_key = $2"
        ))
        .bind(organisation.to_string())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(if get_string(&row, "fingerprint")? == fingerprint { Ok(OfferMade::Replayed(offer_from(&row)?)) } else { Err(key_reused()) }))
    }

    /// Whether an offer of `achievement` to `email` waits to be claimed.
    async fn offer_waits(&self, achievement: AchievementId, email: &Email) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM award_offers WHERE achievement_id = $1 AND email = $2 AND claimed_at IS NULL AND withdrawn_at IS NULL")
            .bind(achievement.to_string())
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The credential an offer holds, while it waits (`None` for one made without).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn held_credential(&self, offer: AwardOfferId) -> Result<Option<HeldCredential>, StoreError> {
        let row = sqlx::query(
            "SELECT credential_award_id, achievement_version, issued_at, valid_until, status_index, recipient_salt, results_json, credential_json, \
             jwt, ob2_json, png_key, svg_key FROM award_offers \
             WHERE id = $1 AND credential_award_id IS NOT NULL AND claimed_at IS NULL AND withdrawn_at IS NULL",
        )
        .bind(offer.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let string =
            |column: &str| -> Result<String, StoreError> { get_opt_string(&row, column)?.ok_or_else(|| StoreError::corrupt(format!("an offer's {column}"))) };
        Ok(Some(HeldCredential {
            award: get_id(&row, "credential_award_id")?,
            achievement_version: u32::try_from(get_u64(&row, "achievement_version")?).map_err(|e| StoreError::corrupt(e.to_string()))?,
            issued_at: get_opt_time(&row, "issued_at")?.ok_or_else(|| StoreError::corrupt("an offer's issued_at"))?,
            valid_until: get_opt_time(&row, "valid_until")?,
            status_index: get_u64(&row, "status_index")?,
            recipient_salt: string("recipient_salt")?,
            results_json: get_string(&row, "results_json")?,
            credential_json: string("credential_json")?,
            jwt: string("jwt")?,
            ob2_json: string("ob2_json")?,
            png_key: string("png_key")?,
            svg_key: string("svg_key")?,
        }))
    }

    /// One of the organisation's offers.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such offer.
    pub async fn award_offer(&self, organisation: OrganisationId, id: AwardOfferId) -> Result<AwardOffer, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM award_offers f JOIN organisations o ON o.id = f.organisation_id WHERE f.id = $1 AND f.organisation_id = $2"
        ))
        .bind(id.to_string())
        .bind(organisation.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("award offer", id))?;
        offer_from(&row)
    }

    /// The organisation's offers, newest first (at most `limit`), claimed and withdrawn ones
    /// included.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn award_offers(&self, organisation: OrganisationId, limit: u32) -> Result<Vec<AwardOffer>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM award_offers f JOIN organisations o ON o.id = f.organisation_id WHERE f.organisation_id = $1 \
             ORDER BY f.created_at DESC, f.id LIMIT {}",
            limit.min(1_000)
        ))
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(offer_from).collect()
    }

    /// The offer a claim link's secret opens, while it waits to be claimed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn award_offer_by_secret(&self, secret: &str) -> Result<Option<AwardOffer>, StoreError> {
        if secret.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM award_offers f JOIN organisations o ON o.id = f.organisation_id \
             WHERE f.token_hash = $1 AND f.claimed_at IS NULL AND f.withdrawn_at IS NULL"
        ))
        .bind(digest(secret))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(offer_from).transpose()
    }

    /// Withdraws an offer that waits: its link stops working (idempotent for a withdrawn one).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the organisation has no such offer,
    /// [`StoreError::Conflict`] (`award_offers.claimed`) once it was claimed.
    pub async fn withdraw_award_offer(&self, organisation: OrganisationId, id: AwardOfferId, now: OffsetDateTime) -> Result<AwardOffer, StoreError> {
        // The credential held for the address is never issued: its signed forms and images go (the
        // blob sweep deletes the images once nothing names them) and its status index is free.
        sqlx::query(
            "UPDATE award_offers SET withdrawn_at = COALESCE(withdrawn_at, $1), credential_award_id = NULL, status_index = NULL, credential_json = NULL, \
             jwt = NULL, ob2_json = NULL, png_key = NULL, svg_key = NULL WHERE id = $2 AND organisation_id = $3 AND claimed_at IS NULL",
        )
        .bind(secs(now))
        .bind(id.to_string())
        .bind(organisation.to_string())
        .execute(&self.pool)
        .await?;
        let offer = self.award_offer(organisation, id).await?;
        if offer.claimed_at.is_some() {
            return Err(claimed_already());
        }
        Ok(offer)
    }
}

/// Inserts an offer; with `ignore_conflicts`, one that breaks a unique rule (an offer of the
/// achievement to the address waits, or another holds the status index) is not inserted and
/// `Ok(false)` says so.
pub(crate) async fn insert_offer(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: AwardOfferId,
    offer: &NewAwardOffer<'_>,
    token_hash: &str,
    now: OffsetDateTime,
    ignore_conflicts: bool,
) -> Result<bool, sqlx::Error> {
    let evidence = serde_json::to_string(offer.evidence).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "INSERT INTO award_offers (id, organisation_id, achievement_id, email, name, narrative, evidence_json, token_hash, idempotency_key, \
         fingerprint, offered_by, created_at, results_json, credential_award_id, achievement_version, issued_at, valid_until, status_index, \
         recipient_salt, credential_json, jwt, ob2_json, png_key, svg_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24){}",
        if ignore_conflicts { " ON CONFLICT DO NOTHING" } else { "" }
    );
    let held = offer.credential;
    let inserted = sqlx::query(&sql)
        .bind(id.to_string())
        .bind(offer.organisation.to_string())
        .bind(offer.achievement.to_string())
        .bind(offer.email.as_str())
        .bind(offer.name)
        .bind(offer.narrative)
        .bind(evidence)
        .bind(token_hash)
        .bind(offer.idempotency_key)
        .bind(offer.fingerprint)
        .bind(offer.offered_by.to_string())
        .bind(secs(now))
        .bind(&held.results_json)
        .bind(held.award.to_string())
        .bind(i64::from(held.achievement_version))
        .bind(secs(held.issued_at))
        .bind(held.valid_until.map(secs))
        .bind(i64::try_from(held.status_index).unwrap_or(i64::MAX))
        .bind(&held.recipient_salt)
        .bind(&held.credential_json)
        .bind(&held.jwt)
        .bind(&held.ob2_json)
        .bind(&held.png_key)
        .bind(&held.svg_key)
        .execute(&mut **tx)
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The database's words for a violated constraint, to tell which one it was.
pub(crate) fn violated(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => format!("{} {}", db.message(), db.constraint().unwrap_or_default()),
        _ => String::new(),
    }
}

fn waiting_already(email: &Email) -> StoreError {
    StoreError::Conflict { constraint: "award_offers.waiting", detail: format!("an offer of this achievement to {email} waits to be claimed already") }
}

pub(crate) fn claimed_already() -> StoreError {
    StoreError::Conflict { constraint: "award_offers.claimed", detail: "this award was claimed already".into() }
}

/// Marks an offer claimed by `award`, in the award's transaction.
///
/// # Errors
/// [`StoreError::Conflict`] (`award_offers.claimed`) when it was claimed or withdrawn meanwhile.
pub(crate) async fn claim_offer(tx: &mut sqlx::Transaction<'_, sqlx::Any>, offer: AwardOfferId, award: AwardId, now: OffsetDateTime) -> Result<(), StoreError> {
    let claimed = sqlx::query("UPDATE award_offers SET award_id = $1, claimed_at = $2 WHERE id = $3 AND claimed_at IS NULL AND withdrawn_at IS NULL")
        .bind(award.to_string())
        .bind(secs(now))
        .bind(offer.to_string())
        .execute(&mut **tx)
        .await?;
    if claimed.rows_affected() == 0 {
        return Err(claimed_already());
    }
    Ok(())
}
