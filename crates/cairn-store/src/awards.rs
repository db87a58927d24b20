//! Awards (the credentials learners hold, with their signed forms and image keys) and the
//! issuer's Bitstring Status Lists behind revocation and suspension.

use crate::assessment::{Move, Tx, apply_move};
use crate::effects::{NewEffect, insert_effects};
use crate::rows::{get_i64, get_id, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, get_u32, get_u64, secs};
use crate::{HeldCredential, Store, StoreError};
use cairn_core::award::{AwardStatus, Privacy, StatusReason};
use cairn_core::ids::{AchievementId, AwardId, AwardOfferId, OrganisationId, SubmissionId, UserId};
use cairn_core::recognition::Recognition;
use cairn_core::submission::Status;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// The shortest status list: 131,072 entries (16 KiB), the Bitstring Status List minimum that
/// keeps a holder from being singled out.
pub const MIN_STATUS_LIST_LENGTH: u64 = 131_072;

/// A stored status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListRow {
    pub id: String,
    pub organisation: OrganisationId,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// Number of entries.
    pub length: u64,
}

/// An award to record, with its issued documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAward {
    pub id: AwardId,
    pub achievement: AchievementId,
    /// The version the learner was assessed under.
    pub achievement_version: u32,
    pub organisation: OrganisationId,
    pub learner: UserId,
    /// The submission it rewards (`None` for awards made otherwise, e.g. a completed stack).
    pub submission: Option<SubmissionId>,
    pub issued_at: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    /// The award's index in both of the issuer's status lists.
    pub status_index: u64,
    /// The salt of the hashed recipient identifier.
    pub recipient_salt: String,
    pub results_json: String,
    /// The OB 3.0 credential with its Data Integrity proof.
    pub credential_json: String,
    /// The same credential as a VC-JWT.
    pub jwt: String,
    /// The hosted OB 2.0 assertion.
    pub ob2_json: String,
    /// Blob keys of the baked images.
    pub png_key: String,
    pub svg_key: String,
    pub privacy: Privacy,
    /// Set when the award recognises prior learning.
    pub recognition: Option<Recognition>,
    /// The award this one renews: marked renewed by it in the same transaction.
    pub renews: Option<AwardId>,
    /// The direct award offer this one claims: marked claimed by it in the same transaction.
    pub offer: Option<AwardOfferId>,
}

impl NewAward {
    /// The award a signed credential becomes for `learner`: private, on no submission, prior
    /// learning, renewal or offer (set those that apply with `..`).
    pub fn from_held(held: HeldCredential, achievement: AchievementId, organisation: OrganisationId, learner: UserId) -> NewAward {
        NewAward {
            id: held.award,
            achievement,
            achievement_version: held.achievement_version,
            organisation,
            learner,
            submission: None,
            issued_at: held.issued_at,
            valid_until: held.valid_until,
            status_index: held.status_index,
            recipient_salt: held.recipient_salt,
            results_json: held.results_json,
            credential_json: held.credential_json,
            jwt: held.jwt,
            ob2_json: held.ob2_json,
            png_key: held.png_key,
            svg_key: held.svg_key,
            // Private until the learner chooses: an assessor who knew the submission must not be
            // able to follow it to a name.
            privacy: Privacy::Private,
            recognition: None,
            renews: None,
            offer: None,
        }
    }
}

/// A stored award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub id: AwardId,
    pub achievement: AchievementId,
    pub achievement_version: u32,
    pub organisation: OrganisationId,
    pub learner: UserId,
    pub submission: Option<SubmissionId>,
    pub issued_at: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub status_index: u64,
    pub recipient_salt: String,
    pub results_json: String,
    pub credential_json: String,
    pub jwt: String,
    pub ob2_json: String,
    pub png_key: String,
    pub svg_key: String,
    pub privacy: Privacy,
    pub status: AwardStatus,
    /// The issuer's reason for a revocation or suspension.
    pub status_reason: Option<String>,
    /// Whether the issuer published the reason; an unpublished one is for the issuer's staff
    /// and the learner only ([`Award::public_reason`]).
    pub status_reason_public: bool,
    pub status_changed_at: Option<OffsetDateTime>,
    /// Whether the award page shows the evidence (false until the learner says so).
    pub evidence_public: bool,
    pub created_at: OffsetDateTime,
    /// Set when the award recognises prior learning, and how.
    pub recognition: Option<Recognition>,
    /// The award this one renews.
    pub renews: Option<AwardId>,
    /// The newer award that renews this one; the learner's current award is the one not
    /// renewed.
    pub renewed_by: Option<AwardId>,
}

/// The columns of an award (`aw`) as a portfolio or a talent search shows it: its signed forms
/// are left out (`jwt` and `ob2_json` empty), except the credential of one whose evidence is
/// public, which the evidence links are read from. The forms are about 20 KB an award, and a
/// page of learners shows hundreds of awards.
pub(crate) const SHOWN_AWARD_COLUMNS: &str = "aw.id, aw.achievement_id, aw.achievement_version, aw.organisation_id, aw.learner_id, \
     aw.submission_id, aw.issued_at, aw.valid_until, aw.status, aw.status_reason, aw.status_changed_at, aw.privacy, aw.evidence_public, \
     aw.status_index, aw.recipient_salt, aw.results_json, CASE WHEN aw.evidence_public = 1 THEN aw.credential_json ELSE '' END AS credential_json, \
     '' AS jwt, '' AS ob2_json, aw.png_key, aw.svg_key, aw.created_at, aw.status_reason_public, aw.renews, aw.renewed_by, aw.recognition";

/// An award as its learner lists it. From [`Store::listed_awards`] and a talent search, its
/// signed forms are not loaded ([`SHOWN_AWARD_COLUMNS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerAward {
    pub award: Award,
    /// The name of the achievement version awarded.
    pub achievement_name: String,
    pub organisation_name: String,
}

/// An award read with its `achievement_name` and `organisation_name` columns.
pub(crate) fn learner_award_from(row: &AnyRow) -> Result<LearnerAward, StoreError> {
    Ok(LearnerAward {
        award: award_from(row)?,
        achievement_name: get_string(row, "achievement_name")?,
        organisation_name: get_string(row, "organisation_name")?,
    })
}

fn award_from(row: &AnyRow) -> Result<Award, StoreError> {
    let status = get_string(row, "status")?;
    let privacy = get_string(row, "privacy")?;
    Ok(Award {
        id: get_id(row, "id")?,
        achievement: get_id(row, "achievement_id")?,
        achievement_version: get_u32(row, "achievement_version")?,
        organisation: get_id(row, "organisation_id")?,
        learner: get_id(row, "learner_id")?,
        submission: get_opt_id(row, "submission_id")?,
        issued_at: get_time(row, "issued_at")?,
        valid_until: get_opt_time(row, "valid_until")?,
        status_index: get_u64(row, "status_index")?,
        recipient_salt: get_string(row, "recipient_salt")?,
        results_json: get_string(row, "results_json")?,
        credential_json: get_string(row, "credential_json")?,
        jwt: get_string(row, "jwt")?,
        ob2_json: get_string(row, "ob2_json")?,
        png_key: get_string(row, "png_key")?,
        svg_key: get_string(row, "svg_key")?,
        privacy: Privacy::parse(&privacy).ok_or_else(|| StoreError::corrupt(format!("privacy \"{privacy}\"")))?,
        status: AwardStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("award status \"{status}\"")))?,
        status_reason: get_opt_string(row, "status_reason")?,
        status_reason_public: get_i64(row, "status_reason_public")? != 0,
        status_changed_at: get_opt_time(row, "status_changed_at")?,
        evidence_public: get_i64(row, "evidence_public")? != 0,
        created_at: get_time(row, "created_at")?,
        recognition: match get_opt_string(row, "recognition")? {
            None => None,
            Some(raw) => Some(Recognition::parse(&raw).ok_or_else(|| StoreError::corrupt(format!("recognition \"{raw}\"")))?),
        },
        renews: get_opt_id(row, "renews")?,
        renewed_by: get_opt_id(row, "renewed_by")?,
    })
}

impl Award {
    /// The status reason as anyone may read it: only when the issuer published it.
    pub fn public_reason(&self) -> Option<&str> {
        self.status_reason.as_deref().filter(|_| self.status_reason_public)
    }
}

fn index_i64(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// Names which unique rule an award insert broke.
fn award_conflict(status_index: u64) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| {
        if !StoreError::is_unique_violation(&error) {
            return StoreError::from(error);
        }
        let text = crate::offers::violated(&error);
        if text.contains("status_index") {
            StoreError::Conflict { constraint: "awards.status_index", detail: format!("status index {status_index} is taken") }
        } else if text.contains("renews") {
            StoreError::Conflict { constraint: "awards.renewed", detail: "this award was renewed already".into() }
        } else if text.contains("learner_id") || text.contains("awards_current") || text.contains("submission_id") {
            StoreError::Conflict { constraint: "awards.learner", detail: "already awarded: the learner holds this achievement".into() }
        } else {
            StoreError::Conflict { constraint: "awards.id", detail: "an award with this id exists".into() }
        }
    }
}

/// Marks `previous` renewed by `new`: only the learner's current award of the same achievement,
/// not renewed yet. Runs before the new award is inserted, so the learner never holds two
/// current awards of one achievement (`awards_current`).
async fn mark_renewed(tx: &mut Tx, previous: AwardId, new: &NewAward) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE awards SET renewed_by = $1 WHERE id = $2 AND renewed_by IS NULL AND learner_id = $3 AND achievement_id = $4")
        .bind(new.id.to_string())
        .bind(previous.to_string())
        .bind(new.learner.to_string())
        .bind(new.achievement.to_string())
        .execute(&mut **tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            constraint: "awards.renewed",
            detail: "this award was renewed already, or is not the learner's award of this achievement".into(),
        });
    }
    Ok(())
}

async fn insert_award(tx: &mut Tx, new: &NewAward, now: OffsetDateTime) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO awards (id, achievement_id, achievement_version, organisation_id, learner_id, submission_id, issued_at, valid_until, status, \
         privacy, evidence_public, status_index, recipient_salt, results_json, credential_json, jwt, ob2_json, png_key, svg_key, created_at, recognition, renews) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, 0, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(new.id.to_string())
    .bind(new.achievement.to_string())
    .bind(i64::from(new.achievement_version))
    .bind(new.organisation.to_string())
    .bind(new.learner.to_string())
    .bind(new.submission.map(|s| s.to_string()))
    .bind(secs(new.issued_at))
    .bind(new.valid_until.map(secs))
    .bind(new.privacy.as_str())
    .bind(index_i64(new.status_index))
    .bind(&new.recipient_salt)
    .bind(&new.results_json)
    .bind(&new.credential_json)
    .bind(&new.jwt)
    .bind(&new.ob2_json)
    .bind(&new.png_key)
    .bind(&new.svg_key)
    .bind(secs(now))
    .bind(new.recognition.map(Recognition::as_str))
    .bind(new.renews.map(|previous| previous.to_string()))
    .execute(&mut **tx)
    .await
    .map_err(award_conflict(new.status_index))?;
    for (criterion, level) in result_levels(&new.results_json) {
        sqlx::query("INSERT INTO award_results (award_id, achievement_id, criterion, level) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(new.id.to_string())
            .bind(new.achievement.to_string())
            .bind(criterion)
            .bind(level)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The level reached on each criterion, from an award's `results_json` (an array of objects with
/// `criterion` and `level`), kept as rows in `award_results` for search; anything else is skipped.
pub(crate) fn result_levels(results_json: &str) -> Vec<(String, i64)> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(results_json) else { return Vec::new() };
    items.iter().filter_map(|item| Some((item.get("criterion")?.as_str()?.to_string(), item.get("level")?.as_i64()?))).take(100).collect()
}

impl Store {
    /// The organisation's revocation and suspension lists, created on first use with `length`
    /// entries (at least [`MIN_STATUS_LIST_LENGTH`]). Returns their ids (revocation, suspension).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn ensure_status_lists(&self, organisation: OrganisationId, length: u64, now: OffsetDateTime) -> Result<(String, String), StoreError> {
        let length = index_i64(length.max(MIN_STATUS_LIST_LENGTH));
        let mut tx = self.pool.begin().await?;
        for purpose in ["revocation", "suspension"] {
            sqlx::query(
                "INSERT INTO status_lists (id, organisation_id, purpose, length, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (organisation_id, purpose) DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(organisation.to_string())
            .bind(purpose)
            .bind(length)
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        }
        let rows = sqlx::query("SELECT id, purpose FROM status_lists WHERE organisation_id = $1").bind(organisation.to_string()).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let find = |purpose: &str| -> Result<String, StoreError> {
            for row in &rows {
                if get_string(row, "purpose")? == purpose {
                    return get_string(row, "id");
                }
            }
            Err(StoreError::corrupt(format!("no {purpose} list for organisation {organisation}")))
        };
        Ok((find("revocation")?, find("suspension")?))
    }

    /// One status list.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn status_list(&self, id: &str) -> Result<StatusListRow, StoreError> {
        let row = sqlx::query("SELECT id, organisation_id, purpose, length FROM status_lists WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("status list", id))?;
        Ok(StatusListRow {
            id: get_string(&row, "id")?,
            organisation: get_id(&row, "organisation_id")?,
            purpose: get_string(&row, "purpose")?,
            length: get_u64(&row, "length")?,
        })
    }

    /// The status indexes an organisation's awards use, and those its waiting direct awards hold
    /// for their credentials, ascending.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn used_status_indexes(&self, organisation: OrganisationId) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT status_index FROM awards WHERE organisation_id = $1 UNION SELECT status_index FROM award_offers \
             WHERE organisation_id = $1 AND status_index IS NOT NULL AND claimed_at IS NULL AND withdrawn_at IS NULL ORDER BY status_index",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get_u64(row, "status_index")).collect()
    }

    /// The indexes of an organisation's awards that are not active, with their status, ascending.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn status_entries(&self, organisation: OrganisationId) -> Result<Vec<(u64, AwardStatus)>, StoreError> {
        let rows = sqlx::query("SELECT status_index, status FROM awards WHERE organisation_id = $1 AND status <> 'active' ORDER BY status_index")
            .bind(organisation.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let status = get_string(row, "status")?;
                Ok((get_u64(row, "status_index")?, AwardStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("award status \"{status}\"")))?))
            })
            .collect()
    }

    /// Records an award (active, evidence not public) with `effects` (telling the learner,
    /// stacking), in one transaction; for an award of a submission (`new.submission`), the
    /// submission moves from passed to awarded in the same transaction, by the system; for a
    /// renewal (`new.renews`), the previous award is marked renewed by the new one in the same
    /// transaction; for a direct award (`new.offer`), the offer is marked claimed by it. Nothing
    /// is written on any failure.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`awards.learner`) when the learner already holds the achievement
    /// (a current award not renewed by this one) or the submission was already awarded,
    /// (`awards.renewed`) when the award to renew was renewed already, (`award_offers.claimed`)
    /// when the offer was claimed or withdrawn meanwhile, (`awards.status_index`)
    /// when the status index is taken (pick another and retry), (`submissions.status`) when the
    /// submission is not passed; [`StoreError::NotFound`] for an unknown submission.
    #[tracing::instrument(skip_all, fields(award_id = %new.id))]
    pub async fn create_award(&self, new: &NewAward, effects: &[NewEffect], now: OffsetDateTime) -> Result<Award, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(previous) = new.renews {
            mark_renewed(&mut tx, previous, new).await?;
        }
        insert_award(&mut tx, new, now).await?;
        if let Some(offer) = new.offer {
            crate::offers::claim_offer(&mut tx, offer, new.id, now).await?;
        }
        if let Some(submission) = new.submission {
            apply_move(&mut tx, &Move::status(submission, Status::Passed, Status::Awarded, None, "credential issued"), now).await?;
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.award(new.id).await
    }

    /// One award.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn award(&self, id: AwardId) -> Result<Award, StoreError> {
        let row = sqlx::query("SELECT * FROM awards WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("award", id))?;
        award_from(&row)
    }

    /// A learner's current awards (those no newer award renews), newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn awards_of(&self, learner: UserId) -> Result<Vec<Award>, StoreError> {
        let rows = sqlx::query("SELECT * FROM awards WHERE learner_id = $1 AND renewed_by IS NULL ORDER BY issued_at DESC, created_at DESC, id")
            .bind(learner.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(award_from).collect()
    }

    /// A learner's current awards (those no newer award renews), newest first, each with the
    /// name of the achievement version awarded and its issuer's name: what the learner's home
    /// lists.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn learner_awards(&self, learner: UserId) -> Result<Vec<LearnerAward>, StoreError> {
        self.learner_awards_where(learner, "AND aw.renewed_by IS NULL").await
    }

    /// Every award a learner was issued, renewed ones included, newest first, as
    /// [`Store::learner_awards`] lists them (for the export of their data).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn learner_award_history(&self, learner: UserId) -> Result<Vec<LearnerAward>, StoreError> {
        self.learner_awards_where(learner, "").await
    }

    async fn learner_awards_where(&self, learner: UserId, condition: &str) -> Result<Vec<LearnerAward>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT aw.*, v.name AS achievement_name, o.name AS organisation_name FROM awards aw \
             JOIN achievement_versions v ON v.achievement_id = aw.achievement_id AND v.version = aw.achievement_version \
             JOIN organisations o ON o.id = aw.organisation_id \
             WHERE aw.learner_id = $1 {condition} ORDER BY aw.issued_at DESC, aw.created_at DESC, aw.id"
        ))
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(learner_award_from).collect()
    }

    /// The micro-credentials and certificates a learner has started: those of whose levels or
    /// components they hold an award or have a submission that is not withdrawn, and those they
    /// were awarded themselves. Oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn micro_credentials_started(&self, learner: UserId) -> Result<Vec<AchievementId>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id FROM achievements m WHERE m.kind IN ('micro-credential', 'certificate') AND ( \
               EXISTS (SELECT 1 FROM awards aw WHERE aw.learner_id = $1 AND aw.achievement_id = m.id) \
               OR EXISTS (SELECT 1 FROM achievements l JOIN awards aw ON aw.achievement_id = l.id WHERE l.parent_id = m.id AND aw.learner_id = $1) \
               OR EXISTS (SELECT 1 FROM achievements l JOIN submissions s ON s.achievement_id = l.id \
                          WHERE l.parent_id = m.id AND s.learner_id = $1 AND s.status <> 'withdrawn') \
               OR EXISTS (SELECT 1 FROM achievement_components c JOIN awards aw ON aw.achievement_id = c.child_id \
                          WHERE c.parent_id = m.id AND aw.learner_id = $1) \
               OR EXISTS (SELECT 1 FROM achievement_components c JOIN submissions s ON s.achievement_id = c.child_id \
                          WHERE c.parent_id = m.id AND s.learner_id = $1 AND s.status <> 'withdrawn')) \
             ORDER BY m.created_at, m.id",
        )
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get_id(row, "id")).collect()
    }

    /// Every award, `limit` at a time in id order after `after` (the last id of the previous
    /// page), for checks that walk the whole platform (`cairn restore`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn awards_after(&self, after: Option<AwardId>, limit: usize) -> Result<Vec<Award>, StoreError> {
        let rows = sqlx::query("SELECT * FROM awards WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map(|id| id.to_string()).unwrap_or_default())
            .bind(i64::try_from(limit.clamp(1, 10_000)).unwrap_or(1))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(award_from).collect()
    }

    /// An organisation's awards, newest first, each with the learner's name and the name of the
    /// achievement version awarded.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn awards_of_organisation(&self, organisation: OrganisationId) -> Result<Vec<(Award, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT aw.*, u.name AS learner_name, v.name AS achievement_name FROM awards aw JOIN users u ON u.id = aw.learner_id \
             JOIN achievement_versions v ON v.achievement_id = aw.achievement_id AND v.version = aw.achievement_version \
             WHERE aw.organisation_id = $1 ORDER BY aw.issued_at DESC, aw.created_at DESC, aw.id",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((award_from(row)?, get_string(row, "learner_name")?, get_string(row, "achievement_name")?))).collect()
    }

    /// The open renewal of an award: a submission renewing it that is neither withdrawn nor
    /// awarded yet.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn open_renewal(&self, award: AwardId) -> Result<Option<SubmissionId>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM submissions WHERE renewal_of = $1 AND status NOT IN ('withdrawn', 'awarded') ORDER BY created_at DESC, id LIMIT 1")
                .bind(award.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(|row| get_id(row, "id")).transpose()
    }

    /// The award issued for a submission, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn award_for_submission(&self, submission: SubmissionId) -> Result<Option<Award>, StoreError> {
        let row = sqlx::query("SELECT * FROM awards WHERE submission_id = $1").bind(submission.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(award_from).transpose()
    }

    /// The achievements a learner holds a current, active award for (for stacking).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn held_achievements(&self, learner: UserId) -> Result<Vec<AchievementId>, StoreError> {
        let rows = sqlx::query(
            "SELECT achievement_id FROM awards WHERE learner_id = $1 AND status = 'active' AND renewed_by IS NULL ORDER BY issued_at, achievement_id",
        )
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get_id(row, "achievement_id")).collect()
    }

    /// Sets an award's status (decided with `AwardStatus::apply`) and the reason, with `effects`
    /// (telling the learner), in one transaction. A revoked award stays revoked, even against a
    /// concurrent change.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Conflict`] (`awards.revoked`)
    /// when the award is revoked.
    #[tracing::instrument(skip_all, fields(award_id = %id, status = status.as_str()))]
    pub async fn set_award_status(
        &self,
        id: AwardId,
        status: AwardStatus,
        reason: Option<StatusReason>,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<Award, StoreError> {
        let mut tx = self.pool.begin().await?;
        let public = reason.as_ref().is_some_and(|r| r.public);
        let result = sqlx::query(
            "UPDATE awards SET status = $1, status_reason = $2, status_reason_public = $5, status_changed_at = $3 WHERE id = $4 AND status <> 'revoked'",
        )
        .bind(status.as_str())
        .bind(reason.map(|r| r.text))
        .bind(secs(now))
        .bind(id.to_string())
        .bind(i64::from(public))
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            drop(tx);
            self.award(id).await?;
            return Err(StoreError::Conflict { constraint: "awards.revoked", detail: "this award is revoked; revocation cannot be undone".into() });
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.award(id).await
    }

    /// Sets who may see an award's page and whether it shows the evidence.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn set_award_privacy(&self, id: AwardId, privacy: Privacy, evidence_public: bool) -> Result<Award, StoreError> {
        let result = sqlx::query("UPDATE awards SET privacy = $1, evidence_public = $2 WHERE id = $3")
            .bind(privacy.as_str())
            .bind(i64::from(evidence_public))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("award", id));
        }
        self.award(id).await
    }
}
