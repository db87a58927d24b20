//! Issuer organisations, their members, and their signing keys (sealed at rest).

use crate::error::conflict_on_unique;
use crate::rows::{get_id, get_opt_string, get_string, get_time, secs};
use crate::{Store, StoreError};
use cairn_core::account::Email;
use cairn_core::achievement::ImageRef;
use cairn_core::authz::Role;
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::image::ImageType;
use cairn_core::organisation::{Organisation, OrganisationKind, OrganisationProfile};
use cairn_vc::keys::Ed25519KeyPair;
use sqlx::Row;
use time::OffsetDateTime;

/// A member of an organisation, as its owners see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub name: String,
    pub email: Email,
    pub role: Role,
}

const ORGANISATION_COLUMNS: &str = "id, name, url, email, description, image_key, image_type, public_key_multibase, created_at, kind";

pub(crate) fn image_type_from(raw: Option<String>) -> Result<Option<ImageType>, StoreError> {
    match raw.as_deref() {
        None => Ok(None),
        Some("png") => Ok(Some(ImageType::Png)),
        Some("svg") => Ok(Some(ImageType::Svg)),
        Some(other) => Err(StoreError::corrupt(format!("image type \"{other}\""))),
    }
}

pub(crate) fn image_from(key: Option<String>, image_type: Option<String>) -> Result<Option<ImageRef>, StoreError> {
    Ok(match (key, image_type_from(image_type)?) {
        (Some(key), Some(image_type)) => Some(ImageRef { key, image_type }),
        _ => None,
    })
}

fn organisation_from(row: &sqlx::any::AnyRow) -> Result<Organisation, StoreError> {
    let email = get_opt_string(row, "email")?.map(|e| Email::parse(&e).map_err(StoreError::corrupt)).transpose()?;
    Ok(Organisation {
        id: get_id(row, "id")?,
        profile: OrganisationProfile {
            name: get_string(row, "name")?,
            url: get_string(row, "url")?,
            email,
            description: get_string(row, "description")?,
            image: image_from(get_opt_string(row, "image_key")?, get_opt_string(row, "image_type")?)?,
        },
        kind: {
            let kind = get_string(row, "kind")?;
            OrganisationKind::parse(&kind).map_err(StoreError::corrupt)?
        },
        public_key_multibase: get_string(row, "public_key_multibase")?,
        created_at: get_time(row, "created_at")?,
    })
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Store {
    /// Creates an organisation of `kind` with a fresh Ed25519 signing key (sealed under the master
    /// key) and makes `owner` its first owner, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`organisations.name`) when the name is taken.
    #[tracing::instrument(skip_all)]
    pub async fn create_organisation(
        &self,
        profile: &OrganisationProfile,
        kind: OrganisationKind,
        owner: UserId,
        now: OffsetDateTime,
    ) -> Result<Organisation, StoreError> {
        let id = OrganisationId::new();
        let key = Ed25519KeyPair::generate();
        let sealed = self.master_key.seal(&key.seed(), &id.to_string());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO organisations (id, name, name_key, url, email, description, image_key, image_type, public_key_multibase, private_key_sealed, created_at, updated_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
        )
        .bind(id.to_string())
        .bind(&profile.name)
        .bind(name_key(&profile.name))
        .bind(&profile.url)
        .bind(profile.email.as_ref().map(|e| e.to_string()))
        .bind(&profile.description)
        .bind(profile.image.as_ref().map(|i| i.key.clone()))
        .bind(profile.image.as_ref().map(|i| i.image_type.extension()))
        .bind(key.public_key_multibase())
        .bind(sealed)
        .bind(secs(now))
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("organisations.name", format!("an organisation named \"{}\" already exists", profile.name)))?;
        sqlx::query("INSERT INTO memberships (organisation_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(owner.to_string())
            .bind(Role::Owner.as_str())
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Organisation { id, profile: profile.clone(), kind, public_key_multibase: key.public_key_multibase(), created_at: now })
    }

    /// One organisation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn organisation(&self, id: OrganisationId) -> Result<Organisation, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("organisation", id))?;
        organisation_from(&row)
    }

    /// The organisation with this name (case-insensitive), if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn organisation_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE name_key = $1"))
            .bind(name_key(name))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(organisation_from).transpose()
    }

    /// Every organisation, by name.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations ORDER BY name_key")).fetch_all(&self.pool).await?;
        rows.iter().map(organisation_from).collect()
    }

    /// Replaces an organisation's profile (its image included).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Conflict`] for a taken name.
    #[tracing::instrument(skip_all, fields(organisation_id = %id))]
    pub async fn update_organisation(&self, id: OrganisationId, profile: &OrganisationProfile, now: OffsetDateTime) -> Result<Organisation, StoreError> {
        let result = sqlx::query(
            "UPDATE organisations SET name = $1, name_key = $2, url = $3, email = $4, description = $5, image_key = $6, image_type = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&profile.name)
        .bind(name_key(&profile.name))
        .bind(&profile.url)
        .bind(profile.email.as_ref().map(|e| e.to_string()))
        .bind(&profile.description)
        .bind(profile.image.as_ref().map(|i| i.key.clone()))
        .bind(profile.image.as_ref().map(|i| i.image_type.extension()))
        .bind(secs(now))
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(conflict_on_unique("organisations.name", format!("an organisation named \"{}\" already exists", profile.name)))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("organisation", id));
        }
        self.organisation(id).await
    }

    /// The organisation's signing key, unsealed. Never log or return it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Sealed`] when the master key is wrong.
    pub async fn signing_key(&self, id: OrganisationId) -> Result<Ed25519KeyPair, StoreError> {
        let row = sqlx::query("SELECT private_key_sealed, public_key_multibase FROM organisations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("organisation", id))?;
        let seed = self.master_key.open(&get_string(&row, "private_key_sealed")?, &id.to_string())?;
        let key = Ed25519KeyPair::from_seed_slice(&seed).map_err(|e| StoreError::Sealed(e.to_string()))?;
        if key.public_key_multibase() != get_string(&row, "public_key_multibase")? {
            return Err(StoreError::Sealed(format!("the sealed key of organisation {id} does not match its public key")));
        }
        Ok(key)
    }

    /// The installation's own signing key, which signs what the platform itself issues (a
    /// learner's transcript of awards from several issuers): an Ed25519 key whose seed is derived
    /// from the master key for this purpose alone, so it needs no row and stays the same for as
    /// long as the master key does.
    ///
    /// # Errors
    /// [`StoreError::Sealed`] if the derived seed is not a key (it always is one).
    pub fn platform_signing_key(&self) -> Result<Ed25519KeyPair, StoreError> {
        let seed = self.master_key.derive_secret("cairn platform signing key v1");
        Ed25519KeyPair::from_seed_slice(&seed).map_err(|e| StoreError::Sealed(e.to_string()))
    }

    /// Opens every sealed signing key with this store's master key, so that a wrong or missing
    /// key is found at start-up rather than at the first award; returns how many keys there are.
    ///
    /// # Errors
    /// [`StoreError::Sealed`] naming the first organisation whose key does not open (or does not
    /// match its public key).
    pub async fn check_master_key(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query("SELECT id FROM organisations ORDER BY created_at, id").fetch_all(&self.pool).await?;
        for row in &rows {
            self.signing_key(get_id(row, "id")?).await?;
        }
        Ok(rows.len())
    }

    /// Some organisation with a signing key (the oldest), for a health probe; `None` when there
    /// is none yet.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn any_signing_organisation(&self) -> Result<Option<OrganisationId>, StoreError> {
        let row = sqlx::query("SELECT id FROM organisations ORDER BY created_at, id LIMIT 1").fetch_optional(&self.pool).await?;
        row.as_ref().map(|row| get_id(row, "id")).transpose()
    }

    /// The organisation's members, owners first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn members(&self, id: OrganisationId) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, m.role, u.name, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.organisation_id = $1 ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'staff' THEN 1 ELSE 2 END, u.name",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    user: get_id(row, "user_id")?,
                    name: get_string(row, "name")?,
                    email: Email::parse(&get_string(row, "email")?).map_err(StoreError::corrupt)?,
                    role: Role::parse(&get_string(row, "role")?).map_err(StoreError::corrupt)?,
                })
            })
            .collect()
    }

    /// Adds the account with `email` to the organisation in `role`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no account has that e-mail, [`StoreError::Conflict`]
    /// (`memberships.user`) when the person is already a member.
    pub async fn add_member(&self, id: OrganisationId, email: &Email, role: Role, now: OffsetDateTime) -> Result<Member, StoreError> {
        let user = self.user_by_email(email).await?.ok_or_else(|| StoreError::not_found("account", email))?;
        sqlx::query("INSERT INTO memberships (organisation_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(user.id.to_string())
            .bind(role.as_str())
            .bind(secs(now))
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("memberships.user", format!("{email} is already a member")))?;
        Ok(Member { user: user.id, name: user.name, email: user.email, role })
    }

    /// Changes a member's role, or removes them (`role` `None`), keeping at least one owner.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the person is not a member, [`StoreError::Conflict`]
    /// (`memberships.last_owner`) when the change would leave no owner.
    pub async fn set_member_role(&self, id: OrganisationId, user: UserId, role: Option<Role>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let current = sqlx::query("SELECT role FROM memberships WHERE organisation_id = $1 AND user_id = $2")
            .bind(id.to_string())
            .bind(user.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("member", user))?;
        let was_owner = get_string(&current, "role")? == Role::Owner.as_str();
        if was_owner && role != Some(Role::Owner) {
            let owners: i64 = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE organisation_id = $1 AND role = 'owner'")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if owners <= 1 {
                return Err(StoreError::Conflict { constraint: "memberships.last_owner", detail: "an organisation needs at least one owner".into() });
            }
        }
        match role {
            Some(role) => {
                sqlx::query("UPDATE memberships SET role = $1 WHERE organisation_id = $2 AND user_id = $3")
                    .bind(role.as_str())
                    .bind(id.to_string())
                    .bind(user.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM memberships WHERE organisation_id = $1 AND user_id = $2")
                    .bind(id.to_string())
                    .bind(user.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
