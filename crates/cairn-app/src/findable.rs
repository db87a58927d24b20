//! What makes the catalog findable by search engines: the sitemap's entries, gathered from named
//! [`Source`]s — the catalog page, every published achievement's page and every learner's public
//! portfolio that lists something — each entry an absolute URL under the configured public base
//! URL with when it last changed. A new kind of public page is one more [`Source`] and one more
//! arm in [`entries`].

use time::OffsetDateTime;

use crate::{App, AppError};

/// Most URLs one sitemap file may list (the sitemap protocol's limit).
pub const MAX_ENTRIES: usize = 50_000;

/// One URL in the sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The absolute URL.
    pub loc: String,
    /// When the page last changed, when known.
    pub lastmod: Option<OffsetDateTime>,
}

/// Where sitemap entries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The catalog page, changed whenever a published achievement changes.
    Catalog,
    /// Every published achievement's page (levels included), most recently changed first.
    Achievements,
    /// Every learner's public portfolio (`/u/{handle}`) with at least one listed award, changed
    /// with their latest one.
    Portfolios,
}

/// Every source, in the order the sitemap lists them.
pub const SOURCES: [Source; 3] = [Source::Catalog, Source::Achievements, Source::Portfolios];

/// The sitemap: every source's entries in turn, at most [`MAX_ENTRIES`] in all.
///
/// # Errors
/// Store failures.
pub async fn sitemap(app: &App) -> Result<Vec<Entry>, AppError> {
    let mut all = Vec::new();
    for source in SOURCES {
        let room = MAX_ENTRIES.saturating_sub(all.len());
        if room == 0 {
            break;
        }
        all.extend(entries(app, source, room).await?.into_iter().take(room));
    }
    Ok(all)
}

/// One source's entries, at most `limit` of them.
///
/// # Errors
/// Store failures.
pub async fn entries(app: &App, source: Source, limit: usize) -> Result<Vec<Entry>, AppError> {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    Ok(match source {
        Source::Catalog => {
            let newest = app.store.published_achievements(1).await?;
            vec![Entry { loc: app.config.url("/catalog"), lastmod: newest.first().map(|(_, at)| *at) }]
        }
        Source::Achievements => app
            .store
            .published_achievements(limit)
            .await?
            .into_iter()
            .map(|(id, at)| Entry { loc: app.config.urls().achievement_page(id), lastmod: Some(at) })
            .collect(),
        Source::Portfolios => app
            .store
            .portfolios(limit)
            .await?
            .into_iter()
            .map(|(handle, at)| Entry { loc: app.config.urls().portfolio(handle.as_str()), lastmod: Some(at) })
            .collect(),
    })
}
