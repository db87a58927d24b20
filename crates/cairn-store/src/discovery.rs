//! Discovery: learners' handles and consent, the awards a portfolio lists, employers' talent
//! search, shortlists, contact requests and the log of what employers did (migration
//! `0017_discovery.sql`). Who may do what, the application decides (`cairn_core::discovery`
//! holds the consent rules); every query here already keeps to them, listing only discoverable
//! learners and only their public, active, current awards.

use cairn_core::account::Email;
use cairn_core::discovery::{CompetencyFilter, ContactStatus, Discovery, Handle, TALENT_COUNT_CAP, TalentEvent, TalentQuery};
use cairn_core::ids::{ContactRequestId, OrganisationId, UserId};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::awards::{SHOWN_AWARD_COLUMNS, learner_award_from};
use crate::catalog::{escape_like, search_terms};
use crate::effects::{NewEffect, insert_effects};
use crate::error::conflict_on_unique;
use crate::rows::{get_i64, get_id, get_opt_string, get_opt_time, get_string, get_time, get_u64, secs};
use crate::{Backend, LearnerAward, Store, StoreError};

/// The awards anyone may list: public, active and current (not renewed by a newer one). The
/// triggers of migration `0020_talent_index.sql` keep `users.listed_at`, and that of
/// `0024_talent_awards.sql` keeps `talent_awards`, by the same rule.
const LISTED: &str = "aw.privacy = 'public' AND aw.status = 'active' AND aw.renewed_by IS NULL";

/// The earliest issue time that counts as within the last `days` days.
fn recent_cutoff(now: OffsetDateTime, days: u32) -> i64 {
    secs(now) - i64::from(days) * 86_400
}

/// Achievement ids (or version pairs) a talent search finds once and writes into its statements,
/// up to this many; beyond, each statement matches them again.
const INLINE_IDS: usize = 5_000;

/// A stored id, once checked to be a UUID (so that it cannot break out of a literal).
fn checked_id(id: String) -> Result<String, StoreError> {
    if uuid::Uuid::parse_str(&id).is_err() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(StoreError::corrupt(format!("achievement id \"{id}\"")));
    }
    Ok(id)
}

/// The condition that `column` is one of `values` (checked ids, or `id:version` pairs), written
/// in: PostgreSQL compares with one array constant, which it plans at once and hashes once per
/// statement, even inside a subquery run for each learner; SQLite with a list, which it makes
/// into one index for the statement.
fn one_of(backend: Backend, column: &str, values: &[String]) -> String {
    match backend {
        Backend::Postgres => format!("{column} = ANY('{{{}}}'::text[])", values.join(",")),
        Backend::Sqlite => format!("{column} IN ({})", values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")),
    }
}

/// The (achievement, version) pairs (`id`, `version`) whose alignments meet `matches`: the awarded
/// version's own, or (for a micro-credential) its levels' current ones.
fn competency_pairs(matches: &str) -> String {
    format!(
        "SELECT al.achievement_id AS id, al.version AS version FROM achievement_alignments al WHERE {matches} \
         UNION SELECT l.parent_id AS id, pv.version AS version FROM achievements l \
         JOIN achievement_alignments al ON al.achievement_id = l.id AND al.version = l.current_version \
         JOIN achievement_versions pv ON pv.achievement_id = l.parent_id WHERE {matches}"
    )
}

/// The condition on an alignment (`al`) that a competency filter puts, its values bound in `c`.
fn competency_matches(c: &mut Conditions, competency: &CompetencyFilter) -> String {
    match competency {
        CompetencyFilter::Code { framework, code } => {
            let code = c.bind(Bind::Text(code.to_lowercase()));
            match framework {
                Some(framework) => {
                    let framework = c.bind(Bind::Text(framework.to_lowercase()));
                    format!("LOWER(al.target_code) = {code} AND LOWER(al.target_framework) = {framework}")
                }
                None => format!("LOWER(al.target_code) = {code}"),
            }
        }
        CompetencyFilter::Words(words) => {
            let like = c.bind(Bind::Text(format!("%{}%", escape_like(&words.to_lowercase()))));
            format!("(LOWER(al.target_name) LIKE {like} ESCAPE '\\' OR LOWER(al.target_code) LIKE {like} ESCAPE '\\')")
        }
    }
}

/// Most matching awards shown with each learner of a talent search.
pub const AWARDS_PER_HIT: usize = 20;

/// A learner who chose to be found, as employers see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Talent {
    pub learner: UserId,
    pub handle: Handle,
    pub name: String,
}

/// One learner in a talent search, with the public awards that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalentHit {
    pub talent: Talent,
    pub awards: Vec<LearnerAward>,
}

/// A page of a talent search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalentPage {
    pub hits: Vec<TalentHit>,
    /// Learners matching in all, counted up to [`TALENT_COUNT_CAP`].
    pub total: u64,
    /// More than [`TALENT_COUNT_CAP`] learners match: `total` is the cap.
    pub capped: bool,
}

/// Listed awards beyond which a talent search's award conditions are broad: it then walks the
/// findable learners in order, checking each one's awards, and stops when the page is full,
/// rather than gathering every matching award.
const BROAD_MATCH: u64 = 20_000;

/// Where a talent search changes its ways: [`Store::search_talent`] uses [`BROAD_MATCH`] and
/// [`TALENT_COUNT_CAP`]; tests set them low to check that both ways agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TalentTuning {
    /// Matching listed awards from which the search walks the learners instead.
    pub broad_match: u64,
    /// Learners counted exactly.
    pub count_cap: u64,
}

/// A learner on an employer's shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortlistEntry {
    pub talent: Talent,
    pub added_at: OffsetDateTime,
}

/// An employer's request to contact a learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub id: ContactRequestId,
    pub organisation: OrganisationId,
    pub organisation_name: String,
    pub learner: UserId,
    /// The learner's handle and name, while they have a handle.
    pub learner_handle: Option<Handle>,
    pub learner_name: String,
    /// Only once the learner accepted; `None` otherwise.
    pub learner_email: Option<Email>,
    pub requested_by: Option<UserId>,
    pub message: String,
    pub status: ContactStatus,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
}

/// Something an employer did concerning a learner, as the learner is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalentActivity {
    pub organisation: OrganisationId,
    pub organisation_name: String,
    /// The member who did it, while they have an account.
    pub viewer_name: Option<String>,
    pub event: TalentEvent,
    pub at: OffsetDateTime,
}

fn talent_from(row: &AnyRow) -> Result<Talent, StoreError> {
    Ok(Talent { learner: get_id(row, "learner_id")?, handle: Handle::stored(get_string(row, "handle")?), name: get_string(row, "learner_name")? })
}

fn contact_request_from(row: &AnyRow) -> Result<ContactRequest, StoreError> {
    let status = get_string(row, "status")?;
    let status = ContactStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("contact request status \"{status}\"")))?;
    let email = get_string(row, "learner_email")?;
    Ok(ContactRequest {
        id: get_id(row, "id")?,
        organisation: get_id(row, "organisation_id")?,
        organisation_name: get_string(row, "organisation_name")?,
        learner: get_id(row, "learner_id")?,
        learner_handle: get_opt_string(row, "handle")?.map(Handle::stored),
        learner_name: get_string(row, "learner_name")?,
        learner_email: match status {
            ContactStatus::Accepted => Some(Email::parse(&email).map_err(StoreError::corrupt)?),
            _ => None,
        },
        requested_by: crate::rows::get_opt_id(row, "requested_by")?,
        message: get_string(row, "message")?,
        status,
        created_at: get_time(row, "created_at")?,
        decided_at: get_opt_time(row, "decided_at")?,
    })
}

const CONTACT_REQUEST_SELECT: &str = "SELECT c.*, o.name AS organisation_name, u.handle, u.name AS learner_name, u.email AS learner_email \
     FROM contact_requests c JOIN organisations o ON o.id = c.organisation_id JOIN users u ON u.id = c.learner_id";

/// The bound values and conditions of a talent search, over `awards aw JOIN achievements ach`.
struct Conditions {
    sql: Vec<String>,
    /// The same conditions, written for checking one learner's listed awards (a broad search's
    /// walk): a list of achievements is compared with an expression of the column, so that the
    /// database reads the learner's few awards by index and filters them, rather than seeking
    /// each achievement of the list in the learner's part of the index.
    learner_sql: Vec<String>,
    binds: Vec<Bind>,
    /// Every condition is on which achievement (and version) an award is of, or which issuer:
    /// the columns of `talent_award_counts` (migration `0030_talent_award_counts.sql`), whose
    /// counts then tell how many listed awards match without reading them.
    counted: bool,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Conditions {
    fn new(sql: Vec<String>) -> Conditions {
        Conditions { learner_sql: sql.clone(), sql, binds: Vec::new(), counted: true }
    }

    /// A condition that reads the same either way, on which achievement or issuer an award is
    /// of.
    fn push(&mut self, condition: String) {
        self.learner_sql.push(condition.clone());
        self.sql.push(condition);
    }

    /// A condition that reads the same either way, on more of an award than which achievement
    /// or issuer it is of.
    fn push_uncounted(&mut self, condition: String) {
        self.counted = false;
        self.push(condition);
    }

    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn apply<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for bind in &self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(int) => query.bind(*int),
            };
        }
        query
    }
}

impl Store {
    /// What a learner chose about being seen.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    pub async fn discovery(&self, user: UserId) -> Result<Discovery, StoreError> {
        let row = sqlx::query("SELECT handle, discoverable, show_imports FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user))?;
        Ok(Discovery {
            handle: get_opt_string(&row, "handle")?.map(Handle::stored),
            discoverable: get_i64(&row, "discoverable")? != 0,
            show_imports: get_i64(&row, "show_imports")? != 0,
        })
    }

    /// Records a learner's choices.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`users.handle`) when another learner has the handle.
    pub async fn set_discovery(&self, user: UserId, discovery: &Discovery) -> Result<(), StoreError> {
        let taken = discovery.handle.as_ref().map(|h| format!("the handle \"{h}\" is taken")).unwrap_or_default();
        let result = sqlx::query("UPDATE users SET handle = $1, discoverable = $2, show_imports = $3 WHERE id = $4")
            .bind(discovery.handle.as_ref().map(|h| h.as_str().to_string()))
            .bind(i64::from(discovery.discoverable))
            .bind(i64::from(discovery.show_imports))
            .bind(user.to_string())
            .execute(&self.pool)
            .await
            .map_err(conflict_on_unique("users.handle", taken))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("user", user));
        }
        Ok(())
    }

    /// The learner with this handle, with their choices.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn user_by_handle(&self, handle: &Handle) -> Result<Option<(crate::User, Discovery)>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM users WHERE handle = $1").bind(handle.as_str()).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let user = crate::accounts::user_from(&row)?;
        let discovery =
            Discovery { handle: Some(handle.clone()), discoverable: get_i64(&row, "discoverable")? != 0, show_imports: get_i64(&row, "show_imports")? != 0 };
        Ok(Some((user, discovery)))
    }

    /// A learner's listed awards (public, active, current), newest first: what their portfolio
    /// shows and employers may see.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn listed_awards(&self, learner: UserId) -> Result<Vec<LearnerAward>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SHOWN_AWARD_COLUMNS}, v.name AS achievement_name, o.name AS organisation_name FROM awards aw \
             JOIN achievement_versions v ON v.achievement_id = aw.achievement_id AND v.version = aw.achievement_version \
             JOIN organisations o ON o.id = aw.organisation_id \
             WHERE aw.learner_id = $1 AND {LISTED} ORDER BY aw.issued_at DESC, aw.id LIMIT 500"
        ))
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(learner_award_from).collect()
    }

    /// Every learner with a portfolio (a handle) and at least one listed award, by handle, with
    /// the time of their latest listed award: the sitemap's portfolios.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn portfolios(&self, limit: u32) -> Result<Vec<(Handle, OffsetDateTime)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT u.handle, u.listed_at AS latest FROM users u WHERE u.handle IS NOT NULL AND u.listed_at IS NOT NULL ORDER BY u.handle LIMIT {}",
            limit.min(50_000)
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((Handle::stored(get_string(row, "handle")?), get_time(row, "latest")?))).collect()
    }

    /// The discoverable learners with these handles (the others are left out), in the order given.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn discoverable_learners(&self, handles: &[Handle]) -> Result<Vec<Talent>, StoreError> {
        let mut found = Vec::new();
        for handle in handles.iter().take(50) {
            let row = sqlx::query("SELECT id AS learner_id, handle, name AS learner_name FROM users WHERE handle = $1 AND discoverable = 1")
                .bind(handle.as_str())
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                found.push(talent_from(&row)?);
            }
        }
        Ok(found)
    }

    /// Searches the learners who chose to be found, by their listed awards: a page of learners,
    /// the most recently awarded (their latest listed award) first, each with the awards that
    /// matched (at most [`AWARDS_PER_HIT`]).
    ///
    /// A search with a condition on the awards (words, competency, achievement, issuer,
    /// criterion, or both "unexpired" and "recent", which one award must meet together) reads
    /// `talent_awards`, the findable learners' listed awards with their learner's latest
    /// (migration `0024_talent_awards.sql`). How many awards match tells a narrow search from a
    /// broad one ([`BROAD_MATCH`] awards or more): summed from the counts per achievement
    /// (`talent_award_counts`) when the conditions are only on achievements and issuers, or else
    /// counted by a bounded probe. A narrow one groups its few awards by learner; a broad one walks the findable learners in order and stops when the page is full. One
    /// without walks the findable learners in the order of `users.listed_at` (migration
    /// `0020_talent_index.sql`), which answers "unexpired" or "recent" alone too. Learners are
    /// counted up to [`TALENT_COUNT_CAP`]. Then the page's matching awards, in one statement.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn search_talent(&self, query: &TalentQuery, now: OffsetDateTime) -> Result<TalentPage, StoreError> {
        self.search_talent_tuned(query, now, TalentTuning { broad_match: BROAD_MATCH, count_cap: TALENT_COUNT_CAP }).await
    }

    /// [`Store::search_talent`] with its thresholds set.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn search_talent_tuned(&self, query: &TalentQuery, now: OffsetDateTime, tuning: TalentTuning) -> Result<TalentPage, StoreError> {
        let TalentTuning { broad_match, count_cap } = tuning;
        let Some(mut conditions) = self.talent_conditions(query, now).await? else {
            // Words or a competency that nothing awarded matches.
            return Ok(TalentPage { hits: Vec::new(), total: 0, capped: false });
        };
        let limit = query.limit.clamp(1, cairn_core::discovery::MAX_TALENT_PAGE);
        let offset = query.offset.min(10_000);
        let by_award = query.text.is_some()
            || query.competency.is_some()
            || query.achievement.is_some()
            || query.issuer.is_some()
            || query.criterion.is_some()
            || (query.unexpired && query.recent_days.is_some());
        let mut learners = Conditions::new(vec!["u.discoverable = 1".into(), "u.handle IS NOT NULL".into(), "u.listed_at IS NOT NULL".into()]);
        let over_cap = count_cap.min(1 << 40) + 1;
        // Walking the findable learners in order, as far as the page and the count need, each
        // checked for a matching award when there are conditions on them. PostgreSQL is told to
        // check learner by learner (a lateral subquery, one award at most), as it would otherwise
        // gather every matching award first to join them.
        let backend = self.backend;
        let walk = |learners_where: &str, awards_where: Option<&str>| {
            let (from, learners_where) = match (awards_where, backend) {
                (None, _) => ("users u".to_string(), learners_where.to_string()),
                (Some(awards_where), Backend::Postgres) => (
                    format!("users u CROSS JOIN LATERAL (SELECT 1 AS hit FROM talent_awards aw WHERE aw.learner_id = u.id AND {awards_where} LIMIT 1) m"),
                    learners_where.to_string(),
                ),
                (Some(awards_where), Backend::Sqlite) => (
                    "users u".to_string(),
                    format!("{learners_where} AND EXISTS (SELECT 1 FROM talent_awards aw WHERE aw.learner_id = u.id AND {awards_where})"),
                ),
            };
            (
                format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM {from} WHERE {learners_where} LIMIT {over_cap}) c"),
                format!(
                    "SELECT u.id AS learner_id, u.handle, u.name AS learner_name FROM {from} WHERE {learners_where} \
                     ORDER BY u.listed_at DESC, u.id LIMIT {limit} OFFSET {offset}"
                ),
            )
        };
        let (count_sql, page_sql, binds) = if by_award {
            let awards_where = conditions.sql.join(" AND ");
            let probe_sql = if conditions.counted {
                // Summed from the counts per achievement, without reading the awards.
                format!("SELECT CAST(COALESCE(SUM(aw.awards), 0) AS BIGINT) AS n FROM talent_award_counts aw WHERE {awards_where}")
            } else {
                let probe = broad_match.min(i64::MAX as u64);
                format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM talent_awards aw WHERE {awards_where} LIMIT {probe}) p")
            };
            let broad = get_u64(&conditions.apply(sqlx::query(&probe_sql)).fetch_one(&self.pool).await?, "n")? >= broad_match;
            let (count_sql, page_sql) = if broad {
                // Many learners match: the first ones in order are found soon.
                walk(&learners.sql.join(" AND "), Some(&conditions.learner_sql.join(" AND ")))
            } else {
                // Few awards match: gathered from the index, grouped by learner (rather than
                // COUNT(DISTINCT …), which PostgreSQL sorts for).
                (
                    format!(
                        "SELECT COUNT(*) AS n FROM (SELECT aw.learner_id FROM talent_awards aw WHERE {awards_where} GROUP BY aw.learner_id LIMIT {over_cap}) m"
                    ),
                    format!(
                        "SELECT p.learner_id, u.handle, u.name AS learner_name FROM \
                         (SELECT aw.learner_id, aw.listed_at FROM talent_awards aw WHERE {awards_where} GROUP BY aw.listed_at, aw.learner_id \
                          ORDER BY aw.listed_at DESC, aw.learner_id LIMIT {limit} OFFSET {offset}) p \
                         JOIN users u ON u.id = p.learner_id ORDER BY p.listed_at DESC, p.learner_id"
                    ),
                )
            };
            (count_sql, page_sql, &conditions)
        } else {
            if query.unexpired {
                let p = learners.bind(Bind::Int(secs(now)));
                learners.push(format!("u.listed_until > {p}"));
            }
            if let Some(days) = query.recent_days {
                let p = learners.bind(Bind::Int(recent_cutoff(now, days)));
                learners.push(format!("u.listed_at >= {p}"));
            }
            let (count_sql, page_sql) = walk(&learners.sql.join(" AND "), None);
            (count_sql, page_sql, &learners)
        };
        // The count and the page, each on its own connection, at once.
        let (count, rows) =
            tokio::try_join!(binds.apply(sqlx::query(&count_sql)).fetch_one(&self.pool), binds.apply(sqlx::query(&page_sql)).fetch_all(&self.pool))?;
        let counted = get_u64(&count, "n")?;
        let (total, capped) = if counted > count_cap { (count_cap, true) } else { (counted, false) };
        let talents: Vec<Talent> = rows.iter().map(talent_from).collect::<Result<_, _>>()?;
        if talents.is_empty() {
            return Ok(TalentPage { hits: Vec::new(), total, capped });
        }
        let ids: Vec<String> = talents.iter().map(|t| conditions.bind(Bind::Text(t.learner.to_string()))).collect();
        let awards_sql = format!(
            "SELECT {SHOWN_AWARD_COLUMNS}, v.name AS achievement_name, o.name AS organisation_name FROM awards aw \
             JOIN achievement_versions v ON v.achievement_id = aw.achievement_id AND v.version = aw.achievement_version \
             JOIN organisations o ON o.id = aw.organisation_id \
             WHERE aw.learner_id IN ({}) AND {LISTED} AND {} ORDER BY aw.learner_id, aw.issued_at DESC, aw.id",
            ids.join(", "),
            conditions.learner_sql.join(" AND ")
        );
        let mut by_learner: std::collections::HashMap<UserId, Vec<LearnerAward>> = std::collections::HashMap::new();
        for row in conditions.apply(sqlx::query(&awards_sql)).fetch_all(&self.pool).await? {
            let award = learner_award_from(&row)?;
            let list = by_learner.entry(award.award.learner).or_default();
            if list.len() < AWARDS_PER_HIT {
                list.push(award);
            }
        }
        let hits = talents
            .into_iter()
            .map(|talent| {
                let awards = by_learner.remove(&talent.learner).unwrap_or_default();
                TalentHit { talent, awards }
            })
            .collect();
        Ok(TalentPage { hits, total, capped })
    }

    /// The conditions a search puts on a learner's listed awards, on the columns `awards` and
    /// `talent_awards` share (as `aw`); "TRUE" when there is none. The achievements matching the
    /// words, and the achievement versions matching the competency, are found once here and
    /// written into the search's statements as a list (up to [`INLINE_IDS`]), rather than
    /// matched again in each of them. `None` when nothing awarded can match.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    async fn talent_conditions(&self, query: &TalentQuery, now: OffsetDateTime) -> Result<Option<Conditions>, StoreError> {
        let mut c = Conditions::new(vec!["1 = 1".into()]);
        let terms = query.text.as_deref().map(search_terms).unwrap_or_default();
        if !terms.is_empty() {
            // The award's achievement, or the micro-credential a level belongs to, matches the
            // words.
            let (words, matching): (String, fn(&str) -> String) = match self.backend {
                Backend::Sqlite => (terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" AND "), |p| {
                    format!("SELECT achievement_id FROM achievement_search WHERE achievement_search MATCH {p}")
                }),
                Backend::Postgres => (terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & "), |p| {
                    format!("SELECT id FROM achievements WHERE search @@ to_tsquery('english', {p})")
                }),
            };
            let achievements = |p: &str| format!("SELECT id FROM achievements WHERE id IN ({m}) OR parent_id IN ({m})", m = matching(p));
            let rows = sqlx::query(&achievements("$1")).bind(words.as_str()).fetch_all(&self.pool).await?;
            let ids = rows.iter().map(|row| checked_id(get_string(row, "id")?)).collect::<Result<Vec<_>, _>>()?;
            if ids.is_empty() {
                return Ok(None);
            }
            if ids.len() <= INLINE_IDS {
                c.sql.push(one_of(self.backend, "aw.achievement_id", &ids));
                c.learner_sql.push(one_of(self.backend, "(aw.achievement_id || '')", &ids));
            } else {
                let list = achievements(&c.bind(Bind::Text(words)));
                c.sql.push(format!("aw.achievement_id IN ({list})"));
                c.learner_sql.push(format!("(aw.achievement_id || '') IN ({list})"));
            }
        }
        if let Some(competency) = &query.competency {
            let mut m = Conditions::new(Vec::new());
            let matches = competency_matches(&mut m, competency);
            let pairs = m
                .apply(sqlx::query(&competency_pairs(&matches)))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|row| Ok((checked_id(get_string(row, "id")?)?, get_i64(row, "version")?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            if pairs.is_empty() {
                return Ok(None);
            }
            if pairs.len() <= INLINE_IDS {
                let values = pairs.iter().map(|(id, version)| format!("('{id}', {version})")).collect::<Vec<_>>().join(", ");
                c.sql.push(format!("(aw.achievement_id, aw.achievement_version) IN (VALUES {values})"));
                c.learner_sql.push(match self.backend {
                    Backend::Postgres => {
                        let keys: Vec<String> = pairs.iter().map(|(id, version)| format!("{id}:{version}")).collect();
                        one_of(self.backend, "(aw.achievement_id || ':' || aw.achievement_version)", &keys)
                    }
                    Backend::Sqlite => format!("(aw.achievement_id || '', aw.achievement_version + 0) IN (VALUES {values})"),
                });
            } else {
                // Too many to list: matched again in each statement.
                let list = competency_pairs(&competency_matches(&mut c, competency));
                c.sql.push(format!("(aw.achievement_id, aw.achievement_version) IN ({list})"));
                c.learner_sql.push(format!("(aw.achievement_id || '', aw.achievement_version + 0) IN ({list})"));
            }
        }
        if let Some(achievement) = query.achievement {
            let p = c.bind(Bind::Text(achievement.to_string()));
            c.push(format!("aw.achievement_id = {p}"));
        }
        if let Some(issuer) = query.issuer {
            let p = c.bind(Bind::Text(issuer.to_string()));
            c.push(format!("aw.organisation_id = {p}"));
        }
        if let Some(criterion) = &query.criterion {
            let name = c.bind(Bind::Text(criterion.criterion.clone()));
            let level = c.bind(Bind::Int(i64::from(criterion.min_level)));
            c.push_uncounted(format!("EXISTS (SELECT 1 FROM award_results r WHERE r.award_id = aw.id AND r.criterion = {name} AND r.level >= {level})"));
        }
        if query.unexpired {
            let p = c.bind(Bind::Int(secs(now)));
            c.push_uncounted(format!("(aw.valid_until IS NULL OR aw.valid_until > {p})"));
        }
        if let Some(days) = query.recent_days {
            let p = c.bind(Bind::Int(recent_cutoff(now, days)));
            c.push_uncounted(format!("aw.issued_at >= {p}"));
        }
        Ok(Some(c))
    }

    /// Logs what an employer's member did concerning each of `learners`, in one statement.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn record_talent_events(
        &self,
        organisation: OrganisationId,
        viewer: UserId,
        learners: &[UserId],
        event: TalentEvent,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        for chunk in learners.chunks(50) {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, $1, $2, ${}, $3, $4)", 5 + 2 * i, 6 + 2 * i)).collect();
            let sql = format!("INSERT INTO talent_events (id, organisation_id, viewer_id, learner_id, kind, created_at) VALUES {}", rows.join(", "));
            let mut insert = sqlx::query(&sql).bind(organisation.to_string()).bind(viewer.to_string()).bind(event.as_str()).bind(secs(now));
            for learner in chunk {
                insert = insert.bind(uuid::Uuid::new_v4().to_string()).bind(learner.to_string());
            }
            insert.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// What employers did concerning a learner, newest first (at most `limit`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn talent_activity(&self, learner: UserId, limit: u32) -> Result<Vec<TalentActivity>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.organisation_id, o.name AS organisation_name, v.name AS viewer_name, e.kind, e.created_at FROM talent_events e \
             JOIN organisations o ON o.id = e.organisation_id LEFT JOIN users v ON v.id = e.viewer_id \
             WHERE e.learner_id = $1 ORDER BY e.created_at DESC, e.id LIMIT {}",
            limit.min(1_000)
        ))
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind = get_string(row, "kind")?;
                Ok(TalentActivity {
                    organisation: get_id(row, "organisation_id")?,
                    organisation_name: get_string(row, "organisation_name")?,
                    viewer_name: get_opt_string(row, "viewer_name")?,
                    event: TalentEvent::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("talent event \"{kind}\"")))?,
                    at: get_time(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Puts a learner on an employer's shortlist (again: nothing changes).
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn shortlist_add(&self, organisation: OrganisationId, learner: UserId, by: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO shortlist_entries (organisation_id, learner_id, added_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(organisation.to_string())
            .bind(learner.to_string())
            .bind(by.to_string())
            .bind(secs(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the learner with this handle off an employer's shortlist, in one statement.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nobody with the handle was on it.
    pub async fn shortlist_remove(&self, organisation: OrganisationId, handle: &Handle) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM shortlist_entries WHERE organisation_id = $1 AND learner_id IN (SELECT id FROM users WHERE handle = $2)")
            .bind(organisation.to_string())
            .bind(handle.as_str())
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::not_found("shortlist entry", handle));
        }
        Ok(())
    }

    /// An employer's shortlist, newest first: only learners still discoverable.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn shortlist(&self, organisation: OrganisationId) -> Result<Vec<ShortlistEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.learner_id, u.handle, u.name AS learner_name, s.created_at FROM shortlist_entries s JOIN users u ON u.id = s.learner_id \
             WHERE s.organisation_id = $1 AND u.discoverable = 1 AND u.handle IS NOT NULL ORDER BY s.created_at DESC, s.learner_id LIMIT 1000",
        )
        .bind(organisation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(ShortlistEntry { talent: talent_from(row)?, added_at: get_time(row, "created_at")? })).collect()
    }

    /// Records a contact request with its effects (the learner's notification) in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`contact_requests.open`) when the employer has one waiting for
    /// this learner already.
    pub async fn create_contact_request(
        &self,
        organisation: OrganisationId,
        learner: UserId,
        by: UserId,
        message: &str,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<ContactRequest, StoreError> {
        let id = ContactRequestId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO contact_requests (id, organisation_id, learner_id, requested_by, message, status, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
        )
        .bind(id.to_string())
        .bind(organisation.to_string())
        .bind(learner.to_string())
        .bind(by.to_string())
        .bind(message)
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("contact_requests.open", "your organisation has asked to contact this learner already; wait for their answer"))?;
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.contact_request(id).await
    }

    /// One contact request.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn contact_request(&self, id: ContactRequestId) -> Result<ContactRequest, StoreError> {
        let row = sqlx::query(&format!("{CONTACT_REQUEST_SELECT} WHERE c.id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("contact request", id))?;
        contact_request_from(&row)
    }

    /// The contact requests a learner received, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn contact_requests_to(&self, learner: UserId) -> Result<Vec<ContactRequest>, StoreError> {
        let rows = sqlx::query(&format!("{CONTACT_REQUEST_SELECT} WHERE c.learner_id = $1 ORDER BY c.created_at DESC, c.id LIMIT 500"))
            .bind(learner.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(contact_request_from).collect()
    }

    /// The contact requests an employer sent, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    pub async fn contact_requests_from(&self, organisation: OrganisationId) -> Result<Vec<ContactRequest>, StoreError> {
        let rows = sqlx::query(&format!("{CONTACT_REQUEST_SELECT} WHERE c.organisation_id = $1 ORDER BY c.created_at DESC, c.id LIMIT 500"))
            .bind(organisation.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(contact_request_from).collect()
    }

    /// The learner's answer to a waiting request, with its effects, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (`contact_requests.status`) when it was answered already;
    /// [`StoreError::NotFound`] for an unknown id.
    pub async fn decide_contact_request(
        &self,
        id: ContactRequestId,
        decision: ContactStatus,
        effects: &[NewEffect],
        now: OffsetDateTime,
    ) -> Result<ContactRequest, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("UPDATE contact_requests SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'pending'")
            .bind(decision.as_str())
            .bind(secs(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            drop(tx);
            self.contact_request(id).await?;
            return Err(StoreError::Conflict { constraint: "contact_requests.status", detail: "this request was answered already".into() });
        }
        insert_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        self.contact_request(id).await
    }
}
