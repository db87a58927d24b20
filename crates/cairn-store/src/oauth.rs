//! OAuth 2.0 for the Open Badges 3.0 API (migration `0034_oauth.sql`): registered clients, the
//! grants learners make on the consent page, authorization codes and tokens. Every secret is
//! kept as its SHA-256 digest and leaves once, to the client. The store enforces what must hold
//! under concurrency: a code and a refresh token are used at most once (an `UPDATE … WHERE
//! used_at IS NULL` that only one caller wins), and a code or a refresh token presented again
//! revokes its whole grant (RFC 6749 §4.1.2, RFC 9700 §4.14.2). The rules about what a client may
//! ask for live in `cairn_core::oauth`.

use cairn_core::account::same_secret;
use cairn_core::ids::{OAuthGrantId, UserId};
use cairn_core::oauth::{ClientAuth, NewClient, Scopes};
use sqlx::any::AnyRow;
use time::{Duration, OffsetDateTime};

use crate::accounts::{USE_RECORDING_SECS, digest, random_secret};
use crate::rows::{get_i64, get_id, get_opt_string, get_opt_time, get_string, get_time, secs};
use crate::{Store, StoreError};

/// Prefix of a client secret, an access token and a refresh token, so leaked ones are easy to
/// recognise (and told apart from API tokens).
pub const CLIENT_SECRET_PREFIX: &str = "cairn_ocs_";
pub const ACCESS_TOKEN_PREFIX: &str = "cairn_oat_";
pub const REFRESH_TOKEN_PREFIX: &str = "cairn_ort_";

/// A registered client (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub id: String,
    pub name: String,
    pub auth: ClientAuth,
    pub redirect_uris: Vec<String>,
    pub scopes: Scopes,
    pub refresh: bool,
    /// The registration as it was answered (RFC 7591 §3.2.1), without the secret.
    pub metadata_json: String,
    pub created_at: OffsetDateTime,
}

/// A grant as its learner lists it: which application, what it may do, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthGrant {
    pub id: OAuthGrantId,
    pub client_id: String,
    pub client_name: String,
    pub client_uri: Option<String>,
    pub user: UserId,
    pub scopes: Scopes,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A learner's consent, as the consent page gives it: the client, the scopes allowed, and what
/// its authorization code is bound to (the redirect address and the PKCE challenge), with the
/// code's lifetime.
#[derive(Debug, Clone, Copy)]
pub struct NewGrant<'a> {
    pub client_id: &'a str,
    pub user: UserId,
    pub scopes: &'a Scopes,
    pub redirect_uri: &'a str,
    pub code_challenge: &'a str,
    pub lifetime: Duration,
}

/// An authorization code once claimed: what the token request is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedCode {
    pub grant: OAuthGrantId,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: OffsetDateTime,
}

/// What presenting a code or a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented<T> {
    /// The first use: it is now used up.
    First(T),
    /// It was used before: its grant is now revoked.
    Again,
    /// Unknown, expired, or its grant is revoked.
    Unknown,
}

/// A new access token, and the refresh token that goes with it when the client may refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Scopes,
    pub expires_in: Duration,
}

/// Whom a live access token stands for, and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub grant: OAuthGrantId,
    pub client_id: String,
    pub user: UserId,
    pub scopes: Scopes,
}

fn client_from(row: &AnyRow) -> Result<OAuthClient, StoreError> {
    let auth = get_string(row, "auth_method")?;
    Ok(OAuthClient {
        id: get_string(row, "id")?,
        name: get_string(row, "name")?,
        auth: ClientAuth::parse(&auth).ok_or_else(|| StoreError::corrupt(format!("unknown client authentication {auth:?}")))?,
        redirect_uris: serde_json::from_str(&get_string(row, "redirect_uris_json")?).map_err(|e| StoreError::corrupt(format!("redirect uris: {e}")))?,
        scopes: Scopes::from_stored(&get_string(row, "scope")?),
        refresh: get_i64(row, "refresh")? != 0,
        metadata_json: get_string(row, "metadata_json")?,
        created_at: get_time(row, "created_at")?,
    })
}

fn grant_from(row: &AnyRow) -> Result<OAuthGrant, StoreError> {
    let metadata: serde_json::Value = serde_json::from_str(&get_string(row, "metadata_json")?).unwrap_or_default();
    Ok(OAuthGrant {
        id: get_id(row, "id")?,
        client_id: get_string(row, "client_id")?,
        client_name: get_string(row, "client_name")?,
        client_uri: metadata.get("client_uri").and_then(serde_json::Value::as_str).map(str::to_string),
        user: get_id(row, "user_id")?,
        scopes: Scopes::from_stored(&get_string(row, "scope")?),
        created_at: get_time(row, "created_at")?,
        last_used_at: get_opt_time(row, "last_used_at")?,
    })
}

/// Whether `secret` is a plausible secret with `prefix`, before it is looked up.
fn plausible(secret: &str, prefix: &str) -> bool {
    secret.starts_with(prefix) && secret.len() <= 128
}

impl Store {
    /// Registers a client; returns it with its secret for a confidential client (shown once).
    /// `metadata` is the registration response without the secret, kept to answer again.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_oauth_client(
        &self,
        new: &NewClient,
        metadata: impl FnOnce(&str) -> serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<(OAuthClient, Option<String>), StoreError> {
        let id = format!("cairn-{}", uuid::Uuid::new_v4().simple());
        let secret = new.auth.confidential().then(|| format!("{CLIENT_SECRET_PREFIX}{}", random_secret()));
        let metadata_json = metadata(&id).to_string();
        let redirect_uris = serde_json::to_string(&new.redirect_uris).map_err(|e| StoreError::corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO oauth_clients (id, secret_hash, auth_method, name, redirect_uris_json, scope, refresh, metadata_json, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(secret.as_deref().map(digest))
        .bind(new.auth.as_str())
        .bind(&new.name)
        .bind(&redirect_uris)
        .bind(new.scopes.to_string())
        .bind(i64::from(new.refresh))
        .bind(&metadata_json)
        .bind(secs(now))
        .execute(&self.pool)
        .await?;
        let client = OAuthClient {
            id,
            name: new.name.clone(),
            auth: new.auth,
            redirect_uris: new.redirect_uris.clone(),
            scopes: new.scopes.clone(),
            refresh: new.refresh,
            metadata_json,
            created_at: OffsetDateTime::from_unix_timestamp(secs(now)).unwrap_or(now),
        };
        Ok((client, secret))
    }

    /// A registered client, or `None`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>, StoreError> {
        if id.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM oauth_clients WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(client_from).transpose()
    }

    /// The client `id` when `secret` is its secret (a confidential client) or when it has none
    /// and none was given (a public client).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn authenticate_oauth_client(&self, id: &str, secret: Option<&str>) -> Result<Option<OAuthClient>, StoreError> {
        if id.len() > 128 {
            return Ok(None);
        }
        let Some(row) = sqlx::query("SELECT * FROM oauth_clients WHERE id = $1").bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let stored = get_opt_string(&row, "secret_hash")?;
        let matches = match (stored, secret) {
            (Some(hash), Some(secret)) => plausible(secret, CLIENT_SECRET_PREFIX) && same_secret(&hash, &digest(secret)),
            (None, None) => true,
            _ => false,
        };
        if matches { client_from(&row).map(Some) } else { Ok(None) }
    }

    /// Records a learner's consent: a grant of `scopes` to the client, and an authorization code
    /// for it, valid for `lifetime`, bound to the redirect address and the PKCE challenge.
    /// Returns the code (shown once, in the redirect).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn create_oauth_grant(&self, grant: &NewGrant<'_>, now: OffsetDateTime) -> Result<String, StoreError> {
        let NewGrant { client_id, user, scopes, redirect_uri, code_challenge, lifetime } = *grant;
        let grant = OAuthGrantId::new();
        let code = random_secret();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO oauth_grants (id, client_id, user_id, scope, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(grant.to_string())
            .bind(client_id)
            .bind(user.to_string())
            .bind(scopes.to_string())
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(digest(&code))
            .bind(grant.to_string())
            .bind(redirect_uri)
            .bind(code_challenge)
            .bind(secs(now + lifetime))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Uses up an authorization code. A code used before revokes its grant, and with it every
    /// token the first use gave (RFC 6749 §4.1.2). Whether the code has expired, and whether the
    /// request matches it, the caller checks on what is returned.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn claim_oauth_code(&self, code: &str, now: OffsetDateTime) -> Result<Presented<ClaimedCode>, StoreError> {
        if code.is_empty() || code.len() > 128 {
            return Ok(Presented::Unknown);
        }
        let hash = digest(code);
        let mut tx = self.pool.begin().await?;
        let claimed =
            sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL").bind(secs(now)).bind(&hash).execute(&mut *tx).await?;
        let row = sqlx::query(
            "SELECT c.grant_id, c.redirect_uri, c.code_challenge, c.expires_at, g.client_id, g.revoked_at \
             FROM oauth_codes c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.code_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(Presented::Unknown);
        };
        let grant: OAuthGrantId = get_id(&row, "grant_id")?;
        if claimed.rows_affected() == 0 {
            revoke_grant(&mut *tx, &grant.to_string(), now).await?;
            tx.commit().await?;
            return Ok(Presented::Again);
        }
        let revoked = get_opt_time(&row, "revoked_at")?.is_some();
        let code = ClaimedCode {
            grant,
            client_id: get_string(&row, "client_id")?,
            redirect_uri: get_string(&row, "redirect_uri")?,
            code_challenge: get_string(&row, "code_challenge")?,
            expires_at: get_time(&row, "expires_at")?,
        };
        tx.commit().await?;
        Ok(if revoked { Presented::Unknown } else { Presented::First(code) })
    }

    /// Issues an access token for a live grant, and a refresh token when `refresh`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the grant is unknown or revoked; [`StoreError::Backend`].
    pub async fn issue_oauth_tokens(
        &self,
        grant: OAuthGrantId,
        refresh: bool,
        access_lifetime: Duration,
        refresh_lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<IssuedTokens, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT scope FROM oauth_grants WHERE id = $1 AND revoked_at IS NULL").bind(grant.to_string()).fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StoreError::not_found("grant", grant));
        };
        let scopes = Scopes::from_stored(&get_string(&row, "scope")?);
        let access_token = format!("{ACCESS_TOKEN_PREFIX}{}", random_secret());
        let refresh_token = refresh.then(|| format!("{REFRESH_TOKEN_PREFIX}{}", random_secret()));
        let insert = "INSERT INTO oauth_tokens (token_hash, grant_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        sqlx::query(insert)
            .bind(digest(&access_token))
            .bind(grant.to_string())
            .bind("access")
            .bind(secs(now))
            .bind(secs(now + access_lifetime))
            .execute(&mut *tx)
            .await?;
        if let Some(token) = &refresh_token {
            sqlx::query(insert)
                .bind(digest(token))
                .bind(grant.to_string())
                .bind("refresh")
                .bind(secs(now))
                .bind(secs(now + refresh_lifetime))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(IssuedTokens { access_token, refresh_token, scopes, expires_in: access_lifetime })
    }

    /// Uses up a refresh token of `client_id`'s: returns its grant, for new tokens. A refresh
    /// token used before revokes its grant (a stolen token and its owner cannot both go on).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn claim_refresh_token(&self, client_id: &str, token: &str, now: OffsetDateTime) -> Result<Presented<OAuthGrantId>, StoreError> {
        if !plausible(token, REFRESH_TOKEN_PREFIX) {
            return Ok(Presented::Unknown);
        }
        let hash = digest(token);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT t.grant_id, t.expires_at, t.revoked_at, g.client_id, g.revoked_at AS grant_revoked_at \
             FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = $1 AND t.kind = 'refresh'",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(Presented::Unknown);
        };
        let grant: OAuthGrantId = get_id(&row, "grant_id")?;
        if get_string(&row, "client_id")? != client_id || get_opt_time(&row, "grant_revoked_at")?.is_some() || get_time(&row, "expires_at")? <= now {
            tx.rollback().await?;
            return Ok(Presented::Unknown);
        }
        let claimed = sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(secs(now))
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            revoke_grant(&mut *tx, &grant.to_string(), now).await?;
            tx.commit().await?;
            return Ok(Presented::Again);
        }
        tx.commit().await?;
        Ok(Presented::First(grant))
    }

    /// Whom a live access token stands for: not revoked, not expired at `now`, its grant live.
    /// A use is recorded on the grant at most once a minute.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn oauth_token_grant(&self, token: &str, now: OffsetDateTime) -> Result<Option<TokenGrant>, StoreError> {
        if !plausible(token, ACCESS_TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT g.id, g.client_id, g.user_id, g.scope, g.last_used_at FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > $2 AND g.revoked_at IS NULL",
        )
        .bind(digest(token))
        .bind(secs(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let grant = TokenGrant {
            grant: get_id(&row, "id")?,
            client_id: get_string(&row, "client_id")?,
            user: get_id(&row, "user_id")?,
            scopes: Scopes::from_stored(&get_string(&row, "scope")?),
        };
        let stale = get_opt_time(&row, "last_used_at")?.is_none_or(|last| (now - last).whole_seconds() >= USE_RECORDING_SECS);
        if stale {
            sqlx::query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2").bind(secs(now)).bind(grant.grant.to_string()).execute(&self.pool).await?;
        }
        Ok(Some(grant))
    }

    /// Revokes a token of `client_id`'s (RFC 7009): an access token alone; a refresh token with
    /// its whole grant. An unknown token, or another client's, changes nothing.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn revoke_oauth_token(&self, client_id: &str, token: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        if !plausible(token, ACCESS_TOKEN_PREFIX) && !plausible(token, REFRESH_TOKEN_PREFIX) {
            return Ok(());
        }
        let hash = digest(token);
        let row =
            sqlx::query("SELECT t.kind, t.grant_id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = $1 AND g.client_id = $2")
                .bind(&hash)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(()) };
        if get_string(&row, "kind")? == "refresh" {
            revoke_grant(&self.pool, &get_string(&row, "grant_id")?, now).await?;
        } else {
            sqlx::query("UPDATE oauth_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2")
                .bind(secs(now))
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// A learner's live grants (the applications that may use their account: a grant with a token
    /// or a code that still works at `now`), newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn oauth_grants_of(&self, user: UserId, now: OffsetDateTime) -> Result<Vec<OAuthGrant>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.id, g.client_id, g.user_id, g.scope, g.created_at, g.last_used_at, c.name AS client_name, c.metadata_json \
             FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = $1 AND g.revoked_at IS NULL AND (EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id AND t.revoked_at IS NULL AND t.expires_at > $2) \
               OR EXISTS (SELECT 1 FROM oauth_codes k WHERE k.grant_id = g.id AND k.used_at IS NULL AND k.expires_at > $2)) \
             ORDER BY g.created_at DESC, g.id",
        )
        .bind(user.to_string())
        .bind(secs(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_from).collect()
    }

    /// The scopes a grant gives.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown grant.
    pub async fn oauth_grant_scopes(&self, grant: OAuthGrantId) -> Result<Scopes, StoreError> {
        let row = sqlx::query("SELECT scope FROM oauth_grants WHERE id = $1")
            .bind(grant.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("grant", grant))?;
        Ok(Scopes::from_stored(&get_string(&row, "scope")?))
    }

    /// Revokes one of a learner's grants: the application's tokens stop working at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the grant is not the learner's or already revoked.
    pub async fn revoke_oauth_grant(&self, user: UserId, grant: OAuthGrantId, now: OffsetDateTime) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(secs(now))
            .bind(grant.to_string())
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("grant", grant));
        }
        Ok(())
    }
}

impl Store {
    /// Deletes what can no longer work: codes and tokens expired more than `grace` before `now`,
    /// and grants revoked or left without a code or token (their tokens gone) older than `grace`.
    /// Returns how many rows went.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn sweep_oauth(&self, now: OffsetDateTime, grace: Duration) -> Result<u64, StoreError> {
        let cutoff = secs(now - grace);
        let mut tx = self.pool.begin().await?;
        let mut deleted = 0;
        for statement in [
            "DELETE FROM oauth_codes WHERE expires_at < $1",
            "DELETE FROM oauth_tokens WHERE expires_at < $1",
            "DELETE FROM oauth_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE revoked_at < $1)",
            "DELETE FROM oauth_codes WHERE grant_id IN (SELECT id FROM oauth_grants WHERE revoked_at < $1)",
            "DELETE FROM oauth_grants WHERE created_at < $1 AND (revoked_at < $1 OR (NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = oauth_grants.id) \
             AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.grant_id = oauth_grants.id)))",
        ] {
            deleted += sqlx::query(statement).bind(cutoff).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Ends a grant (and so every token of it), keeping the first moment it ended.
async fn revoke_grant<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, grant: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    sqlx::query("UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2").bind(secs(now)).bind(grant).execute(executor).await?;
    Ok(())
}
