//! Direct awards (migration `0031_award_offers.sql`): an issuer's staff offer an achievement to an
//! e-mail address; the address is e-mailed a claim link whose secret is kept as its digest. The
//! offer is claimed by the award its recipient is issued ([`crate::NewAward::offer`]), in the
//! award's transaction. An `Idempotency-Key` names one offer per issuer: the same request again
//! finds it, another request with the same key is refused.

use crate::account_data::OutgoingMail;
use crate::accounts::{digest, random_secret};
use crate::error::conflict_on_unique;
use crate::rows::{get_email, get_id, get_opt_id, get_opt_time, get_string, get_time, secs};
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
    pub offered_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    /// The award its claim issued.
    pub award: Option<AwardId>,
    pub claimed_at: Option<OffsetDateTime>,
    pub withdrawn_at: Option<OffsetDateTime>,
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
     f.offered_by, f.created_at, f.award_id, f.claimed_at, f.withdrawn_at";

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
        if let Some(earlier) = self.replayed(&offer).await? {
            return earlier;
        }
        let secret = random_secret();
        let id = AwardOfferId::new();
        let evidence = serde_json::to_string(offer.evidence).map_err(|e| StoreError::corrupt(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO award_offers (id, organisation_id, achievement_id, email, name, narrative, evidence_json, token_hash, idempotency_key, \
             fingerprint, offered_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id.to_string())
        .bind(offer.organisation.to_string())
        .bind(offer.achievement.to_string())
        .bind(offer.email.as_str())
        .bind(offer.name)
        .bind(offer.narrative)
        .bind(evidence)
        .bind(digest(&secret))
        .bind(offer.idempotency_key)
        .bind(offer.fingerprint)
        .bind(offer.offered_by.to_string())
        .bind(secs(now))
        .execute(&mut *tx)
        .await;
        if let Err(error) = inserted {
            drop(tx);
            // The key was taken meanwhile (answered as if that request came first), or an offer of
            // the achievement to the address waits (`award_offers_waiting`).
            return match conflict_on_unique("award_offers", String::new())(error) {
                StoreError::Conflict { .. } => match self.replayed(&offer).await? {
                    Some(earlier) => earlier,
                    None => Err(waiting_already(offer.email)),
                },
                other => Err(other),
            };
        }
        // Composed once the offer stands: a refused one makes no mail.
        crate::account_data::queue(&mut tx, &compose(&secret), now).await?;
        tx.commit().await?;
        Ok(OfferMade::New(self.award_offer(offer.organisation, id).await?))
    }

    /// What the offer's idempotency key answers when the issuer used it before: the earlier offer
    /// for the same request, a conflict for another one; `None` for no key or a new one.
    async fn replayed(&self, offer: &NewAwardOffer<'_>) -> Result<Option<Result<OfferMade, StoreError>>, StoreError> {
        let Some(key) = offer.idempotency_key else { return Ok(None) };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, f.fingerprint FROM award_offers f JOIN organisations o ON o.id = f.organisation_id \
             WHERE f.organisation_id = $1 AND f.idempotency_key = $2"
        ))
        .bind(offer.organisation.to_string())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(if get_string(&row, "fingerprint")? == offer.fingerprint { Ok(OfferMade::Replayed(offer_from(&row)?)) } else { Err(key_reused()) }))
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
        sqlx::query("UPDATE award_offers SET withdrawn_at = COALESCE(withdrawn_at, $1) WHERE id = $2 AND organisation_id = $3 AND claimed_at IS NULL")
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
