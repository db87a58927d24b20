//! Wallet pickup over OpenID for Verifiable Credential Issuance (migration `0035_wallet.sql`):
//! offers, the access tokens they give, spent nonces and the record of each credential a wallet
//! collected. Secrets are kept as digests; the transaction code's digest is keyed by its
//! pre-authorized code, so a copy of the table gives neither. A live offer's code is also kept
//! sealed under the master key, so wallets can fetch the offer by its id until it is redeemed. The store enforces what must
//! hold under concurrency: an offer is redeemed once (`UPDATE … WHERE redeemed_at IS NULL`), a
//! pre-authorized code presented again ends the tokens it gave, wrong transaction codes are
//! counted in the same statement that reads them, and a nonce is spent once (its digest is the
//! key of the row that spends it). The rules (lifetimes, tries) are `cairn_core::wallet`'s.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_core::ids::{AwardId, UserId};
use rand::RngCore;
use time::{Duration, OffsetDateTime};

use crate::accounts::{digest, random_secret};
use crate::rows::{get_i64, get_id, get_opt_string, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};

/// Prefix of a wallet access token, so a leaked one is easy to recognise.
pub const WALLET_TOKEN_PREFIX: &str = "cairn_wat_";
/// The purpose of the key nonces are made with (derived from the master key).
const NONCE_KEY_PURPOSE: &str = "cairn oid4vci nonce v1";

/// What presenting a pre-authorized code and its transaction code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The offer is redeemed: an access token for its award.
    Token { token: String, award: AwardId },
    /// The transaction code was wrong; `left` more tries before the offer stops working.
    WrongTxCode { left: u32 },
    /// The code was redeemed before: the tokens it gave are ended.
    Again,
    /// Unknown, expired, or out of tries.
    Unknown,
}

/// A nonce presented in a key proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceUse {
    /// Made here, unexpired, and now spent.
    Fresh,
    /// Spent before.
    Spent,
    /// Not made here, or expired.
    Invalid,
}

/// A credential a wallet collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletPickup {
    /// The credential's `urn:uuid:` id.
    pub credential_id: String,
    pub award: AwardId,
    /// The holder's DID, to which the credential is bound.
    pub holder: String,
    /// `ldp_vc` or `jwt_vc_json`.
    pub format: String,
    pub picked_up_at: OffsetDateTime,
}

fn pickup_from(row: &sqlx::any::AnyRow) -> Result<WalletPickup, StoreError> {
    Ok(WalletPickup {
        credential_id: format!("urn:uuid:{}", get_string(row, "id")?),
        award: get_id(row, "award_id")?,
        holder: get_string(row, "holder")?,
        format: get_string(row, "format")?,
        picked_up_at: get_time(row, "picked_up_at")?,
    })
}

/// What an offer's sealed code is bound to.
fn offer_context(id: &str) -> String {
    format!("wallet offer {id}")
}

/// The secret a transaction code is kept as: keyed by its pre-authorized code.
fn tx_code_digest(code: &str, tx_code: &str) -> String {
    digest(&format!("{code}\u{0}{tx_code}"))
}

impl Store {
    /// Makes a wallet offer for `award` with `tx_code`, valid for `lifetime`; earlier offers of
    /// the award not yet redeemed stop working (one QR code at a time). Returns the offer's id
    /// (where wallets fetch it) and its pre-authorized code.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_wallet_offer(&self, award: AwardId, tx_code: &str, lifetime: Duration, now: OffsetDateTime) -> Result<(String, String), StoreError> {
        let code = random_secret();
        let id = random_secret();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM wallet_offers WHERE award_id = $1 AND redeemed_at IS NULL").bind(award.to_string()).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO wallet_offers (code_hash, id, code_sealed, award_id, tx_code_hash, failures, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(digest(&code))
        .bind(&id)
        .bind(self.master_key.seal(code.as_bytes(), &offer_context(&id)))
        .bind(award.to_string())
        .bind(tx_code_digest(&code, tx_code))
        .bind(secs(now))
        .bind(secs(now + lifetime))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, code))
    }

    /// The pre-authorized code of the offer `id`, while it may still be redeemed: not redeemed,
    /// not expired, not out of tries.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure; [`StoreError::Sealed`] when the code cannot
    /// be opened (another master key).
    pub async fn wallet_offer_code(&self, id: &str, max_failures: u32, now: OffsetDateTime) -> Result<Option<String>, StoreError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT code_sealed FROM wallet_offers WHERE id = $1 AND redeemed_at IS NULL AND expires_at > $2 AND failures < $3")
            .bind(id)
            .bind(secs(now))
            .bind(i64::from(max_failures))
            .fetch_optional(&self.pool)
            .await?;
        let Some(sealed) = row.map(|row| get_opt_string(&row, "code_sealed")).transpose()?.flatten() else { return Ok(None) };
        let code = self.master_key.open(&sealed, &offer_context(id))?;
        Ok(Some(String::from_utf8(code).map_err(|_| StoreError::corrupt("a sealed wallet offer code is not text"))?))
    }

    /// Redeems an offer: its pre-authorized code with its transaction code, before it expires
    /// and within `max_failures` wrong transaction codes, gives an access token for its award
    /// valid for `token_lifetime`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn redeem_wallet_offer(
        &self,
        code: &str,
        tx_code: &str,
        max_failures: u32,
        token_lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<Redeemed, StoreError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(Redeemed::Unknown);
        }
        let hash = digest(code);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT award_id, tx_code_hash, failures, expires_at, redeemed_at FROM wallet_offers WHERE code_hash = $1")
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(Redeemed::Unknown);
        };
        if get_opt_time(&row, "redeemed_at")?.is_some() {
            sqlx::query("DELETE FROM wallet_tokens WHERE offer_hash = $1").bind(&hash).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Redeemed::Again);
        }
        let failures = u32::try_from(get_i64(&row, "failures")?).unwrap_or(u32::MAX);
        if get_time(&row, "expires_at")? <= now || failures >= max_failures {
            tx.rollback().await?;
            return Ok(Redeemed::Unknown);
        }
        if !cairn_core::account::same_secret(&get_string(&row, "tx_code_hash")?, &tx_code_digest(code, tx_code)) {
            sqlx::query("UPDATE wallet_offers SET failures = failures + 1 WHERE code_hash = $1").bind(&hash).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Redeemed::WrongTxCode { left: max_failures.saturating_sub(failures + 1) });
        }
        let claimed = sqlx::query("UPDATE wallet_offers SET redeemed_at = $1, code_sealed = NULL WHERE code_hash = $2 AND redeemed_at IS NULL")
            .bind(secs(now))
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Redeemed::Again);
        }
        let award: AwardId = get_id(&row, "award_id")?;
        let token = format!("{WALLET_TOKEN_PREFIX}{}", random_secret());
        sqlx::query("INSERT INTO wallet_tokens (token_hash, offer_hash, award_id, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest(&token))
            .bind(&hash)
            .bind(award.to_string())
            .bind(secs(now + token_lifetime))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Redeemed::Token { token, award })
    }

    /// The award a live wallet access token collects, or `None`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn wallet_token_award(&self, token: &str, now: OffsetDateTime) -> Result<Option<AwardId>, StoreError> {
        if !token.starts_with(WALLET_TOKEN_PREFIX) || token.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT award_id FROM wallet_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(digest(token))
            .bind(secs(now))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| get_id(&row, "award_id")).transpose()
    }

    /// A fresh nonce for a key proof, valid for `lifetime`: made without the database, as
    /// `expiry.random.mac` under a key derived from the master key, so any instance sharing the
    /// master key accepts it and nobody can fill the store by asking for nonces.
    pub fn wallet_nonce(&self, lifetime: Duration, now: OffsetDateTime) -> String {
        let mut random = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let body = format!("{}.{}", secs(now + lifetime), URL_SAFE_NO_PAD.encode(random));
        let mac = self.nonce_mac(&body);
        format!("{body}.{mac}")
    }

    fn nonce_mac(&self, body: &str) -> String {
        use hmac::{Hmac, Mac};
        let key = self.master_key.derive_secret(NONCE_KEY_PURPOSE);
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(body.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Spends a nonce: [`NonceUse::Fresh`] the first time a nonce made by
    /// [`Store::wallet_nonce`] is presented before it expires.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn spend_wallet_nonce(&self, nonce: &str, now: OffsetDateTime) -> Result<NonceUse, StoreError> {
        if nonce.len() > 200 {
            return Ok(NonceUse::Invalid);
        }
        let Some((body, mac)) = nonce.rsplit_once('.') else { return Ok(NonceUse::Invalid) };
        let expires = body.split_once('.').and_then(|(expiry, _)| expiry.parse::<i64>().ok());
        let Some(expires) = expires.filter(|_| cairn_core::account::same_secret(&self.nonce_mac(body), mac)) else {
            return Ok(NonceUse::Invalid);
        };
        if expires <= secs(now) {
            return Ok(NonceUse::Invalid);
        }
        let spent = sqlx::query("INSERT INTO wallet_nonces (nonce_hash, expires_at) VALUES ($1, $2) ON CONFLICT (nonce_hash) DO NOTHING")
            .bind(digest(nonce))
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok(if spent.rows_affected() == 1 { NonceUse::Fresh } else { NonceUse::Spent })
    }

    /// Records a credential a wallet collected; `credential_id` is its `urn:uuid:`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_wallet_pickup(&self, pickup: &WalletPickup) -> Result<(), StoreError> {
        let id = pickup.credential_id.strip_prefix("urn:uuid:").unwrap_or(&pickup.credential_id);
        sqlx::query("INSERT INTO wallet_pickups (id, award_id, holder, format, picked_up_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(pickup.award.to_string())
            .bind(&pickup.holder)
            .bind(&pickup.format)
            .bind(secs(pickup.picked_up_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The credentials wallets collected of `award`, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn wallet_pickups(&self, award: AwardId) -> Result<Vec<WalletPickup>, StoreError> {
        let rows = sqlx::query("SELECT id, award_id, holder, format, picked_up_at FROM wallet_pickups WHERE award_id = $1 ORDER BY picked_up_at DESC, id")
            .bind(award.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(pickup_from).collect()
    }

    /// The credentials wallets collected of `learner`'s awards, newest first (for their export).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn wallet_pickups_of(&self, learner: UserId) -> Result<Vec<WalletPickup>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.award_id, p.holder, p.format, p.picked_up_at FROM wallet_pickups p JOIN awards a ON a.id = p.award_id \
             WHERE a.learner_id = $1 ORDER BY p.picked_up_at DESC, p.id",
        )
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pickup_from).collect()
    }

    /// Deletes offers, tokens and spent nonces that expired more than `grace` before `now`;
    /// returns how many rows went.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn sweep_wallet(&self, now: OffsetDateTime, grace: Duration) -> Result<u64, StoreError> {
        let cutoff = secs(now - grace);
        let mut tx = self.pool.begin().await?;
        let mut deleted = 0;
        for statement in [
            "DELETE FROM wallet_tokens WHERE expires_at < $1",
            "DELETE FROM wallet_nonces WHERE expires_at < $1",
            "DELETE FROM wallet_offers WHERE expires_at < $1 AND NOT EXISTS (SELECT 1 FROM wallet_tokens t WHERE t.offer_hash = wallet_offers.code_hash)",
        ] {
            deleted += sqlx::query(statement).bind(cutoff).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
