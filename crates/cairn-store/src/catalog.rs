//! The public catalog: published micro-badges and micro-credentials, full-text searched (SQLite
//! FTS5, PostgreSQL tsvector) and filtered by issuer, kind, competency and fee; and every published
//! achievement with when it last changed, for the sitemap.

use crate::rows::{get_i64, get_id, get_time};
use crate::{Backend, Store, StoreError};
use cairn_core::achievement::Achievement;
use cairn_core::ids::{AchievementId, OrganisationId};
use time::OffsetDateTime;

/// Which kind of entry to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindFilter {
    MicroBadge,
    MicroCredential,
    Certificate,
}

/// Free or paid entries only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeFilter {
    Free,
    Paid,
}

/// A catalog search. Empty text lists everything, newest first; text ranks by relevance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogQuery {
    pub text: Option<String>,
    pub issuer: Option<OrganisationId>,
    pub kind: Option<KindFilter>,
    /// Matches an alignment's code exactly or its name in part (case-insensitive).
    pub competency: Option<String>,
    pub fee: Option<FeeFilter>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of results and the total count.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPage {
    pub items: Vec<Achievement>,
    pub total: u64,
}

/// Most terms of a search that are used; the rest are ignored so work stays bounded.
const MAX_TERMS: usize = 12;

/// Splits free text into plain word terms (letters and digits only), at most [`MAX_TERMS`].
pub(crate) fn search_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(40).collect::<String>().to_lowercase())
        .take(MAX_TERMS)
        .collect()
}

impl Store {
    /// Searches the published catalog.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage, StoreError> {
        let mut conditions = vec!["a.state = 'published'".to_string(), "a.parent_id IS NULL".to_string()];
        let mut binds: Vec<String> = Vec::new();
        let next = |binds: &mut Vec<String>, value: String| {
            binds.push(value);
            format!("${}", binds.len())
        };
        let terms = query.text.as_deref().map(search_terms).unwrap_or_default();
        let mut rank = String::from("a.published_at DESC, v.name");
        let mut join = String::new();
        if !terms.is_empty() {
            match self.backend {
                Backend::Sqlite => {
                    // Each term is a quoted prefix query, so user text cannot inject FTS5 syntax.
                    let fts: Vec<String> = terms.iter().map(|t| format!("\"{t}\"*")).collect();
                    let p = next(&mut binds, fts.join(" AND "));
                    // The matches and their rank in one pass over the index, joined: a rank
                    // looked up per achievement would run the whole match again for each.
                    join = format!(
                        "JOIN (SELECT achievement_id, bm25(achievement_search) AS score FROM achievement_search WHERE achievement_search MATCH {p}) s \
                         ON s.achievement_id = a.id"
                    );
                    rank = "s.score, v.name".into();
                }
                Backend::Postgres => {
                    let tsquery: Vec<String> = terms.iter().map(|t| format!("{t}:*")).collect();
                    let p = next(&mut binds, tsquery.join(" & "));
                    conditions.push(format!("a.search @@ to_tsquery('english', {p})"));
                    rank = format!("ts_rank(a.search, to_tsquery('english', {p})) DESC, v.name");
                }
            }
        }
        if let Some(issuer) = query.issuer {
            let p = next(&mut binds, issuer.to_string());
            conditions.push(format!("a.organisation_id = {p}"));
        }
        match query.kind {
            Some(KindFilter::MicroBadge) => conditions.push("a.kind = 'micro-badge'".into()),
            Some(KindFilter::MicroCredential) => conditions.push("a.kind = 'micro-credential'".into()),
            Some(KindFilter::Certificate) => conditions.push("a.kind = 'certificate'".into()),
            None => {}
        }
        match query.fee {
            Some(FeeFilter::Free) => conditions.push("(v.fee_minor IS NULL OR v.fee_minor = 0)".into()),
            Some(FeeFilter::Paid) => conditions.push("v.fee_minor > 0".into()),
            None => {}
        }
        if let Some(competency) = query.competency.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let exact = next(&mut binds, competency.to_lowercase());
            let like = next(&mut binds, format!("%{}%", escape_like(&competency.to_lowercase())));
            // A micro-credential also matches through its levels' alignments.
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM achievements x JOIN achievement_alignments al ON al.achievement_id = x.id AND al.version = x.current_version \
                 WHERE (x.id = a.id OR x.parent_id = a.id) AND (LOWER(al.target_code) = {exact} OR LOWER(al.target_name) LIKE {like} ESCAPE '\\'))"
            ));
        }
        let where_sql = conditions.join(" AND ");
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM achievements a JOIN achievement_versions v ON v.achievement_id = a.id AND v.version = a.current_version {join} \
             WHERE {where_sql}"
        );
        let mut count = sqlx::query(&count_sql);
        for bind in &binds {
            count = count.bind(bind.clone());
        }
        let total = get_i64(&count.fetch_one(&self.pool).await?, "n")?;
        let limit = query.limit.clamp(1, 100);
        let order_by = format!("{rank} LIMIT {limit} OFFSET {}", query.offset.min(100_000));
        let items = self.load_achievements_joined(&join, &where_sql, &binds, &order_by).await?;
        Ok(CatalogPage { items, total: u64::try_from(total).unwrap_or(0) })
    }
}

impl Store {
    /// Every published achievement's id (levels included: their pages are public too) with when
    /// it last changed, most recently changed first, at most `limit` of them.
    ///
    /// # Errors
    /// [`StoreError::Backend`] on a database failure.
    #[tracing::instrument(skip_all)]
    pub async fn published_achievements(&self, limit: u32) -> Result<Vec<(AchievementId, OffsetDateTime)>, StoreError> {
        let sql = format!("SELECT id, updated_at FROM achievements WHERE state = 'published' ORDER BY updated_at DESC, id LIMIT {}", limit.max(1));
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(|row| Ok((get_id(row, "id")?, get_time(row, "updated_at")?))).collect()
    }
}

pub(crate) fn escape_like(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_drop_syntax_and_are_bounded() {
        assert_eq!(search_terms("SQL \"joins\" OR* NEAR(x)"), ["sql", "joins", "or", "near", "x"]);
        assert_eq!(search_terms("   "), Vec::<String>::new());
        assert_eq!(search_terms(&"a ".repeat(100)).len(), MAX_TERMS);
        assert_eq!(search_terms("Análisis de datos"), ["análisis", "de", "datos"]);
    }
}
