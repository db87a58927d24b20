//! Achievements and their versions: create (a micro-credential with its three levels, or a
//! composed micro-credential or certificate with its components, in one transaction), read, edit
//! in place or as a new version, publish and retire; components of another organisation and
//! that organisation's agreement to them.

use crate::error::conflict_on_unique;
use crate::organisations::image_from;
use crate::rows::{get_i64, get_id, get_opt_i64, get_opt_id, get_opt_string, get_opt_time, get_string, get_time, secs};
use crate::{Backend, Store, StoreError};
use cairn_core::achievement::{Achievement, AchievementContent, Alignment, EditMode, Fee, FeePlan, Kind, NewAchievement, State};
use cairn_core::composition::{Credits, Rule};
use cairn_core::ids::{AchievementId, OrganisationId, UserId};
use cairn_core::renewal::RenewalPath;
use cairn_core::rubric::{Criterion, Rubric};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The stored JSON form of a rubric (a row shape, converted by hand to [`Rubric`]).
#[derive(Serialize, Deserialize)]
struct RubricRow {
    levels: Vec<String>,
    criteria: Vec<CriterionRow>,
}

#[derive(Serialize, Deserialize)]
struct CriterionRow {
    id: String,
    name: String,
    description: String,
    required_level: usize,
    descriptors: Vec<String>,
}

fn rubric_to_json(rubric: &Rubric) -> String {
    let row = RubricRow {
        levels: rubric.levels.clone(),
        criteria: rubric
            .criteria
            .iter()
            .map(|c| CriterionRow {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                required_level: c.required_level,
                descriptors: c.descriptors.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&row).unwrap_or_default()
}

fn rubric_from_json(json: &str) -> Result<Rubric, StoreError> {
    let row: RubricRow = serde_json::from_str(json).map_err(|e| StoreError::corrupt(format!("rubric: {e}")))?;
    Ok(Rubric {
        levels: row.levels,
        criteria: row
            .criteria
            .into_iter()
            .map(|c| Criterion { id: c.id, name: c.name, description: c.description, required_level: c.required_level, descriptors: c.descriptors })
            .collect(),
    })
}

pub(crate) const ACHIEVEMENT_COLUMNS: &str = "a.id, a.organisation_id, a.kind, a.level, a.parent_id, a.state, a.current_version, a.created_at, a.updated_at, \
     a.published_at, v.version, v.name, v.description, v.criteria, v.rubric_json, v.tags_json, v.language, v.effort_minutes, \
     v.fee_minor, v.fee_currency, v.fee_plan, v.validity_months, v.image_key, v.image_type, v.credits_hundredths, a.levels_in_any_order, a.rule, \
     a.rule_n, a.rule_min_credits, v.renewal_path, v.renewal_rubric_json, v.renewal_instructions";

fn kind_from(kind: &str, level: Option<i64>) -> Result<Kind, StoreError> {
    match (kind, level) {
        ("micro-badge", _) => Ok(Kind::MicroBadge),
        ("micro-credential", _) => Ok(Kind::MicroCredential),
        ("level", Some(n @ 1..=3)) => Ok(Kind::Level(n as u8)),
        ("certificate", _) => Ok(Kind::Certificate),
        _ => Err(StoreError::corrupt(format!("achievement kind \"{kind}\" level {level:?}"))),
    }
}

/// Builds an achievement from a row of [`ACHIEVEMENT_COLUMNS`] and its alignments.
pub(crate) fn achievement_from(row: &AnyRow, alignments: Vec<Alignment>) -> Result<Achievement, StoreError> {
    let state = get_string(row, "state")?;
    let tags: Vec<String> = serde_json::from_str(&get_string(row, "tags_json")?).map_err(|e| StoreError::corrupt(format!("tags: {e}")))?;
    let fee = match (get_opt_i64(row, "fee_minor")?, get_opt_string(row, "fee_currency")?) {
        (Some(amount_minor), Some(currency)) if amount_minor > 0 => Fee::Paid { amount_minor, currency },
        _ => Fee::Free,
    };
    let count = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok());
    Ok(Achievement {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        kind: kind_from(&get_string(row, "kind")?, get_opt_i64(row, "level")?)?,
        parent: get_opt_id(row, "parent_id")?,
        state: State::parse(&state).ok_or_else(|| StoreError::corrupt(format!("state \"{state}\"")))?,
        version: count(Some(get_i64(row, "version")?)).unwrap_or(1),
        content: AchievementContent {
            name: get_string(row, "name")?,
            description: get_string(row, "description")?,
            criteria: get_string(row, "criteria")?,
            rubric: get_opt_string(row, "rubric_json")?.as_deref().map(rubric_from_json).transpose()?,
            alignments,
            tags,
            language: get_string(row, "language")?,
            effort_minutes: count(get_opt_i64(row, "effort_minutes")?),
            fee,
            fee_plan: {
                let plan = get_string(row, "fee_plan")?;
                FeePlan::parse(&plan).ok_or_else(|| StoreError::corrupt(format!("fee plan \"{plan}\"")))?
            },
            validity_months: count(get_opt_i64(row, "validity_months")?),
            image: image_from(get_opt_string(row, "image_key")?, get_opt_string(row, "image_type")?)?,
            credits: count(get_opt_i64(row, "credits_hundredths")?).map(Credits),
            renewal: renewal_from(row)?,
        },
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
        published_at: get_opt_time(row, "published_at")?,
        levels_in_any_order: get_i64(row, "levels_in_any_order")? != 0,
        rule: match get_opt_string(row, "rule")? {
            None => None,
            Some(rule) => {
                let min_credits = count(get_opt_i64(row, "rule_min_credits")?).map(|c| Credits(c).as_f64());
                Some(Rule::parse(&rule, get_opt_i64(row, "rule_n")?, min_credits).map_err(|e| StoreError::corrupt(format!("rule: {e}")))?)
            }
        },
    })
}

/// The renewal path of a row of [`ACHIEVEMENT_COLUMNS`].
fn renewal_from(row: &AnyRow) -> Result<RenewalPath, StoreError> {
    match get_string(row, "renewal_path")?.as_str() {
        "full" => Ok(RenewalPath::Full),
        "light" => {
            let rubric = get_opt_string(row, "renewal_rubric_json")?.ok_or_else(|| StoreError::corrupt("a light renewal path without its rubric"))?;
            Ok(RenewalPath::Light { rubric: rubric_from_json(&rubric)?, instructions: get_opt_string(row, "renewal_instructions")?.unwrap_or_default() })
        }
        other => Err(StoreError::corrupt(format!("renewal path \"{other}\""))),
    }
}

/// One component of a certificate or composed micro-credential, with whether its organisation
/// agreed to it (always, for the parent's own organisation's).
#[derive(Debug, Clone)]
pub struct ComponentLink {
    pub achievement: Achievement,
    pub agreed: bool,
}

/// A request from another organisation to use one of this organisation's achievements as a
/// component, waiting for an owner's agreement.
#[derive(Debug, Clone)]
pub struct ComponentRequest {
    /// The certificate or micro-credential asking.
    pub parent: Achievement,
    /// The asking organisation's name.
    pub parent_organisation: String,
    /// This organisation's achievement.
    pub child: Achievement,
    pub requested_at: OffsetDateTime,
}

fn alignment_from(row: &AnyRow) -> Result<Alignment, StoreError> {
    Ok(Alignment {
        target_name: get_string(row, "target_name")?,
        target_url: get_string(row, "target_url")?,
        target_description: get_opt_string(row, "target_description")?,
        target_framework: get_opt_string(row, "target_framework")?,
        target_code: get_opt_string(row, "target_code")?,
        target_type: get_opt_string(row, "target_type")?,
    })
}

/// `$first, $first+1, …` placeholders for an `IN` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn duplicate_name(name: &str) -> String {
    format!("this organisation already has an achievement named \"{name}\"")
}

impl Store {
    /// Reads achievements (current versions) by a `WHERE` clause over `a`/`v`, with alignments,
    /// in the order of `order_by`.
    pub(crate) async fn load_achievements(&self, where_sql: &str, binds: &[String], order_by: &str) -> Result<Vec<Achievement>, StoreError> {
        self.load_achievements_joined("", where_sql, binds, order_by).await
    }

    /// [`Store::load_achievements`] with more tables joined to `a` and `v` (`join`, which may
    /// use the binds too).
    pub(crate) async fn load_achievements_joined(&self, join: &str, where_sql: &str, binds: &[String], order_by: &str) -> Result<Vec<Achievement>, StoreError> {
        let sql = format!(
            "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements a JOIN achievement_versions v ON v.achievement_id = a.id AND v.version = a.current_version {join} \
             WHERE {where_sql} ORDER BY {order_by}"
        );
        let mut query = sqlx::query(&sql);
        for bind in binds {
            query = query.bind(bind.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let ids: Vec<String> = rows.iter().map(|row| get_string(row, "id")).collect::<Result<_, _>>()?;
        let mut alignments = self.current_alignments(&ids).await?;
        rows.iter()
            .map(|row| {
                let id = get_string(row, "id")?;
                achievement_from(row, alignments.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    /// Alignments of the current versions of `ids`, by id, in position order.
    async fn current_alignments(&self, ids: &[String]) -> Result<HashMap<String, Vec<Alignment>>, StoreError> {
        let mut by_id: HashMap<String, Vec<Alignment>> = HashMap::new();
        for chunk in ids.chunks(200) {
            let sql = format!(
                "SELECT al.* FROM achievement_alignments al JOIN achievements a ON a.id = al.achievement_id AND al.version = a.current_version \
                 WHERE a.id IN ({}) ORDER BY al.achievement_id, al.position",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                by_id.entry(get_string(&row, "achievement_id")?).or_default().push(alignment_from(&row)?);
            }
        }
        Ok(by_id)
    }

    /// The current version of one achievement.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn achievement(&self, id: AchievementId) -> Result<Achievement, StoreError> {
        self.load_achievements("a.id = $1", &[id.to_string()], "a.id").await?.pop().ok_or_else(|| StoreError::not_found("achievement", id))
    }

    /// A given version of one achievement (awards keep the version they were assessed under).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id or version.
    pub async fn achievement_version(&self, id: AchievementId, version: u32) -> Result<Achievement, StoreError> {
        let sql = format!(
            "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements a JOIN achievement_versions v ON v.achievement_id = a.id WHERE a.id = $1 AND v.version = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(i64::from(version))
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("achievement version", format!("{id} v{version}")))?;
        let alignments = sqlx::query("SELECT * FROM achievement_alignments WHERE achievement_id = $1 AND version = $2 ORDER BY position")
            .bind(id.to_string())
            .bind(i64::from(version))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(alignment_from)
            .collect::<Result<Vec<_>, _>>()?;
        achievement_from(&row, alignments)
    }

    /// Several achievement versions at once (those that do not exist are left out): two
    /// statements however many are asked for, for pages that list many awards.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn achievement_versions(&self, wanted: &[(AchievementId, u32)]) -> Result<HashMap<(AchievementId, u32), Achievement>, StoreError> {
        let mut ids: Vec<String> = wanted.iter().map(|(id, _)| id.to_string()).collect();
        ids.sort();
        ids.dedup();
        let mut found = HashMap::new();
        for chunk in ids.chunks(200) {
            let list = placeholders(1, chunk.len());
            let sql = format!("SELECT {ACHIEVEMENT_COLUMNS} FROM achievements a JOIN achievement_versions v ON v.achievement_id = a.id WHERE a.id IN ({list})");
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(&self.pool).await?;
            let sql = format!("SELECT * FROM achievement_alignments WHERE achievement_id IN ({list}) ORDER BY achievement_id, version, position");
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let mut alignments: HashMap<(String, i64), Vec<Alignment>> = HashMap::new();
            for row in query.fetch_all(&self.pool).await? {
                alignments.entry((get_string(&row, "achievement_id")?, get_i64(&row, "version")?)).or_default().push(alignment_from(&row)?);
            }
            for row in &rows {
                let id: AchievementId = get_id(row, "id")?;
                let version = get_i64(row, "version")?;
                let Ok(key) = u32::try_from(version).map(|v| (id, v)) else { continue };
                if !wanted.contains(&key) {
                    continue;
                }
                let achievement = achievement_from(row, alignments.remove(&(id.to_string(), version)).unwrap_or_default())?;
                found.insert(key, achievement);
            }
        }
        Ok(found)
    }

    /// The three levels of a micro-credential, in order (empty for other kinds).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn levels(&self, id: AchievementId) -> Result<Vec<Achievement>, StoreError> {
        self.load_achievements("a.parent_id = $1", &[id.to_string()], "a.level").await
    }

    /// The components of a certificate or composed micro-credential, in order (empty for others).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn components(&self, parent: AchievementId) -> Result<Vec<ComponentLink>, StoreError> {
        let links = sqlx::query("SELECT child_id, agreed_at FROM achievement_components WHERE parent_id = $1 ORDER BY position")
            .bind(parent.to_string())
            .fetch_all(&self.pool)
            .await?;
        let mut components = Vec::with_capacity(links.len());
        for link in &links {
            let child: AchievementId = get_id(link, "child_id")?;
            components.push(ComponentLink { achievement: self.achievement(child).await?, agreed: get_opt_i64(link, "agreed_at")?.is_some() });
        }
        Ok(components)
    }

    /// The achievements `child` is a component of or a level of: what holding it may complete.
    /// A component still waiting for its organisation's agreement completes nothing.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn containers_of(&self, child: AchievementId) -> Result<Vec<AchievementId>, StoreError> {
        let rows = sqlx::query(
            "SELECT parent_id FROM achievement_components WHERE child_id = $1 AND agreed_at IS NOT NULL \
             UNION SELECT parent_id FROM achievements WHERE id = $1 AND parent_id IS NOT NULL",
        )
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| get_id(row, "parent_id")).collect()
    }

    /// Requests to use `organisation`'s achievements as components of another organisation's,
    /// waiting for agreement, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn component_requests(&self, organisation: OrganisationId) -> Result<Vec<ComponentRequest>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.parent_id, c.child_id, c.requested_at, o.name AS parent_organisation FROM achievement_components c \
             JOIN achievements child ON child.id = c.child_id JOIN achievements p ON p.id = c.parent_id JOIN organisations o ON o.id = p.organisation_id \
             WHERE child.organisation_id = $1 AND c.agreed_at IS NULL ORDER BY c.requested_at, c.parent_id, c.position",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut requests = Vec::with_capacity(rows.len());
        for row in &rows {
            requests.push(ComponentRequest {
                parent: self.achievement(get_id(row, "parent_id")?).await?,
                parent_organisation: get_string(row, "parent_organisation")?,
                child: self.achievement(get_id(row, "child_id")?).await?,
                requested_at: get_time(row, "requested_at")?,
            });
        }
        Ok(requests)
    }

    /// Records the child's organisation's agreement to be a component of `parent`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no such request waits (unknown, or already agreed).
    pub async fn agree_to_component(&self, parent: AchievementId, child: AchievementId, by: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        let result =
            sqlx::query("UPDATE achievement_components SET agreed_at = $1, agreed_by = $2 WHERE parent_id = $3 AND child_id = $4 AND agreed_at IS NULL")
                .bind(secs(now))
                .bind(by.to_string())
                .bind(parent.to_string())
                .bind(child.to_string())
                .execute(&self.pool)
                .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("component request", format!("{parent} {child}")));
        }
        Ok(())
    }

    /// All of an organisation's achievements (every state; levels after their micro-credential).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn organisation_achievements(&self, organisation: OrganisationId) -> Result<Vec<Achievement>, StoreError> {
        self.load_achievements("a.organisation_id = $1", &[organisation.to_string()], "COALESCE(a.parent_id, a.id), a.level, v.name").await
    }

    /// Creates a draft achievement; a micro-credential and its three levels in one transaction.
    /// Returns the micro-badge or the micro-credential.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`achievements.name`) when the organisation already has an
    /// achievement of that name; nothing is written then.
    #[tracing::instrument(skip_all, fields(organisation_id = %organisation))]
    pub async fn create_achievement(
        &self,
        organisation: OrganisationId,
        new: &NewAchievement,
        author: UserId,
        now: OffsetDateTime,
    ) -> Result<Achievement, StoreError> {
        let id = AchievementId::new();
        let mut tx = self.pool.begin().await?;
        match new {
            NewAchievement::MicroBadge(content) => {
                insert_achievement(&mut tx, id, organisation, Kind::MicroBadge, None, content, author, now).await?;
            }
            NewAchievement::MicroCredential { credential, levels, any_order } => {
                insert_achievement(&mut tx, id, organisation, Kind::MicroCredential, None, credential, author, now).await?;
                set_composition(&mut tx, id, *any_order, None).await?;
                for (i, level) in levels.iter().enumerate() {
                    insert_achievement(&mut tx, AchievementId::new(), organisation, Kind::Level(i as u8 + 1), Some(id), level, author, now).await?;
                }
            }
            NewAchievement::Composed { credential, badges, any_order } => {
                insert_achievement(&mut tx, id, organisation, Kind::MicroCredential, None, credential, author, now).await?;
                set_composition(&mut tx, id, *any_order, None).await?;
                insert_components(&mut tx, id, organisation, badges, author, now).await?;
            }
            NewAchievement::Certificate { certificate, rule, components } => {
                insert_achievement(&mut tx, id, organisation, Kind::Certificate, None, certificate, author, now).await?;
                set_composition(&mut tx, id, false, Some(*rule)).await?;
                insert_components(&mut tx, id, organisation, components, author, now).await?;
            }
        }
        tx.commit().await?;
        self.achievement(id).await
    }

    /// Applies an edit: in place for a draft, as a new version for a published achievement (the
    /// caller decided which with [`Achievement::edit_mode`]). Keeps the catalog index current.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Conflict`] for a duplicate name.
    #[tracing::instrument(skip_all, fields(achievement_id = %id))]
    pub async fn update_achievement(
        &self,
        id: AchievementId,
        content: &AchievementContent,
        mode: EditMode,
        author: UserId,
        now: OffsetDateTime,
    ) -> Result<Achievement, StoreError> {
        let current = self.achievement(id).await?;
        let mut tx = self.pool.begin().await?;
        let version = match mode {
            EditMode::InPlace => {
                sqlx::query("DELETE FROM achievement_versions WHERE achievement_id = $1 AND version = $2")
                    .bind(id.to_string())
                    .bind(i64::from(current.version))
                    .execute(&mut *tx)
                    .await?;
                current.version
            }
            EditMode::NewVersion => current.version + 1,
        };
        insert_version(&mut tx, id, version, content, author, now).await?;
        sqlx::query("UPDATE achievements SET current_version = $1, name_key = $2, updated_at = $3 WHERE id = $4")
            .bind(i64::from(version))
            .bind(name_key(&content.name))
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("achievements.name", duplicate_name(&content.name)))?;
        let top = current.parent.unwrap_or(id);
        self.reindex(&mut tx, top).await?;
        tx.commit().await?;
        self.achievement(id).await
    }

    /// Moves an achievement (and a micro-credential's levels with it) to `state`; the caller
    /// checked the transition with [`Achievement::publish`] or [`Achievement::retire`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    #[tracing::instrument(skip_all, fields(achievement_id = %id, state = state.as_str()))]
    pub async fn set_achievement_state(&self, id: AchievementId, state: State, now: OffsetDateTime) -> Result<Achievement, StoreError> {
        let mut tx = self.pool.begin().await?;
        let published_at = (state == State::Published).then_some(secs(now));
        let result =
            sqlx::query("UPDATE achievements SET state = $1, updated_at = $2, published_at = COALESCE($3, published_at) WHERE id = $4 OR parent_id = $4")
                .bind(state.as_str())
                .bind(secs(now))
                .bind(published_at)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("achievement", id));
        }
        self.reindex(&mut tx, id).await?;
        tx.commit().await?;
        self.achievement(id).await
    }

    /// Rebuilds the full-text entry of a catalog entry from its current text (a micro-credential
    /// includes its levels).
    async fn reindex(&self, tx: &mut Transaction<'static, Any>, top: AchievementId) -> Result<(), StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACHIEVEMENT_COLUMNS} FROM achievements a JOIN achievement_versions v ON v.achievement_id = a.id AND v.version = a.current_version \
             WHERE a.id = $1 OR a.parent_id = $1 ORDER BY a.level"
        ))
        .bind(top.to_string())
        .fetch_all(&mut **tx)
        .await?;
        let mut body = String::new();
        for row in &rows {
            let id = get_string(row, "id")?;
            let alignments = sqlx::query(
                "SELECT al.* FROM achievement_alignments al JOIN achievements a ON a.id = al.achievement_id AND al.version = a.current_version WHERE a.id = $1 ORDER BY al.position",
            )
            .bind(&id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(alignment_from)
            .collect::<Result<Vec<_>, _>>()?;
            body.push_str(&achievement_from(row, alignments)?.content.search_text());
            body.push('\n');
        }
        let organisation_name: Option<String> =
            sqlx::query("SELECT o.name FROM organisations o JOIN achievements a ON a.organisation_id = o.id WHERE a.id = $1")
                .bind(top.to_string())
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| get_string(&row, "name"))
                .transpose()?;
        body.push_str(&organisation_name.unwrap_or_default());
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("DELETE FROM achievement_search WHERE achievement_id = $1").bind(top.to_string()).execute(&mut **tx).await?;
                sqlx::query("INSERT INTO achievement_search (achievement_id, body) VALUES ($1, $2)")
                    .bind(top.to_string())
                    .bind(body)
                    .execute(&mut **tx)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::query("UPDATE achievements SET search = to_tsvector('english', $1) WHERE id = $2")
                    .bind(body)
                    .bind(top.to_string())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_achievement(
    tx: &mut Transaction<'static, Any>,
    id: AchievementId,
    organisation: OrganisationId,
    kind: Kind,
    parent: Option<AchievementId>,
    content: &AchievementContent,
    author: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let level = match kind {
        Kind::Level(n) => Some(i64::from(n)),
        _ => None,
    };
    sqlx::query(
        "INSERT INTO achievements (id, organisation_id, kind, level, parent_id, state, current_version, name_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7, $7)",
    )
    .bind(id.to_string())
    .bind(organisation.to_string())
    .bind(kind.as_str())
    .bind(level)
    .bind(parent.map(|p| p.to_string()))
    .bind(name_key(&content.name))
    .bind(secs(now))
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("achievements.name", duplicate_name(&content.name)))?;
    insert_version(tx, id, 1, content, author, now).await
}

/// Records a micro-credential's level order option or a certificate's rule.
async fn set_composition(tx: &mut Transaction<'static, Any>, id: AchievementId, any_order: bool, rule: Option<Rule>) -> Result<(), StoreError> {
    let (n, min_credits) = match rule {
        Some(Rule::NOf(n)) => (Some(i64::from(n)), None),
        Some(Rule::MinCredits(credits)) => (None, Some(i64::from(credits.0))),
        _ => (None, None),
    };
    sqlx::query("UPDATE achievements SET levels_in_any_order = $1, rule = $2, rule_n = $3, rule_min_credits = $4 WHERE id = $5")
        .bind(i64::from(any_order))
        .bind(rule.map(Rule::as_str))
        .bind(n)
        .bind(min_credits)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Links `children` to `parent` in order; those of the parent's own organisation are agreed at
/// once, the others wait for their organisation.
async fn insert_components(
    tx: &mut Transaction<'static, Any>,
    parent: AchievementId,
    organisation: OrganisationId,
    children: &[AchievementId],
    author: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for (position, child) in children.iter().enumerate() {
        let result = sqlx::query(
            "INSERT INTO achievement_components (parent_id, child_id, position, requested_at, agreed_at, agreed_by) \
             SELECT $1, a.id, $2, $3, CASE WHEN a.organisation_id = $4 THEN $3 END, CASE WHEN a.organisation_id = $4 THEN $5 END \
             FROM achievements a WHERE a.id = $6",
        )
        .bind(parent.to_string())
        .bind(position as i64)
        .bind(secs(now))
        .bind(organisation.to_string())
        .bind(author.to_string())
        .bind(child.to_string())
        .execute(&mut **tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("achievement", child));
        }
    }
    Ok(())
}

async fn insert_version(
    tx: &mut Transaction<'static, Any>,
    id: AchievementId,
    version: u32,
    content: &AchievementContent,
    author: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (fee_minor, fee_currency) = match &content.fee {
        Fee::Free => (None, None),
        Fee::Paid { amount_minor, currency } => (Some(*amount_minor), Some(currency.clone())),
    };
    sqlx::query(
        "INSERT INTO achievement_versions (achievement_id, version, name, description, criteria, rubric_json, tags_json, language, effort_minutes, \
         fee_minor, fee_currency, validity_months, image_key, image_type, created_by, created_at, fee_plan, credits_hundredths, renewal_path, \
         renewal_rubric_json, renewal_instructions) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(id.to_string())
    .bind(i64::from(version))
    .bind(&content.name)
    .bind(&content.description)
    .bind(&content.criteria)
    .bind(content.rubric.as_ref().map(rubric_to_json))
    .bind(serde_json::to_string(&content.tags).unwrap_or_else(|_| "[]".into()))
    .bind(&content.language)
    .bind(content.effort_minutes.map(i64::from))
    .bind(fee_minor)
    .bind(fee_currency)
    .bind(content.validity_months.map(i64::from))
    .bind(content.image.as_ref().map(|i| i.key.clone()))
    .bind(content.image.as_ref().map(|i| i.image_type.extension()))
    .bind(author.to_string())
    .bind(secs(now))
    .bind(content.fee_plan.as_str())
    .bind(content.credits.map(|c| i64::from(c.0)))
    .bind(content.renewal.as_str())
    .bind(content.renewal.rubric().map(rubric_to_json))
    .bind(match &content.renewal {
        RenewalPath::Full => None,
        RenewalPath::Light { instructions, .. } => Some(instructions.clone()),
    })
    .execute(&mut **tx)
    .await?;
    for (position, a) in content.alignments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO achievement_alignments (achievement_id, version, position, target_name, target_url, target_description, target_framework, target_code, target_type) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(i64::from(version))
        .bind(position as i64)
        .bind(&a.target_name)
        .bind(&a.target_url)
        .bind(a.target_description.clone())
        .bind(a.target_framework.clone())
        .bind(a.target_code.clone())
        .bind(a.target_type.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
