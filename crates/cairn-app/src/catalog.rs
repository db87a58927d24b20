//! The public catalog: full-text search over published achievements with issuer, kind,
//! competency and fee filters, and the issuers' names and levels that listings show.

use std::collections::HashMap;

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::ids::OrganisationId;
use cairn_core::organisation::Organisation;
use cairn_store::{CatalogPage, CatalogQuery};

use crate::{App, AppError};

/// An achievement as listings show it: with its issuer's name and, for a micro-credential, its
/// levels.
#[derive(Debug, Clone)]
pub struct Listed {
    pub achievement: Achievement,
    pub issuer_name: String,
    pub levels: Vec<Achievement>,
}

/// A page of search results with every issuer (for names and filters).
#[derive(Debug, Clone)]
pub struct Browse {
    pub page: CatalogPage,
    pub organisations: Vec<Organisation>,
}

/// One page of published achievements matching `query`, with every issuer.
///
/// # Errors
/// Store failures.
pub async fn browse(app: &App, query: &CatalogQuery) -> Result<Browse, AppError> {
    let page = app.store.search_catalog(query).await?;
    let organisations = app.store.organisations().await?;
    Ok(Browse { page, organisations })
}

/// One page of published achievements matching `query`, each with its issuer's name and levels;
/// and how many match in all.
///
/// # Errors
/// Store failures.
pub async fn search(app: &App, query: &CatalogQuery) -> Result<(Vec<Listed>, u64), AppError> {
    let page = app.store.search_catalog(query).await?;
    Ok((describe(app, page.items).await?, page.total))
}

/// Adds issuers' names and levels to achievements, loading each issuer once.
///
/// # Errors
/// Store failures.
pub async fn describe(app: &App, achievements: Vec<Achievement>) -> Result<Vec<Listed>, AppError> {
    let mut issuers: HashMap<OrganisationId, String> = HashMap::new();
    let mut items = Vec::with_capacity(achievements.len());
    for achievement in achievements {
        let issuer_name = match issuers.get(&achievement.organisation) {
            Some(name) => name.clone(),
            None => {
                let name = app.store.organisation(achievement.organisation).await?.profile.name;
                issuers.insert(achievement.organisation, name.clone());
                name
            }
        };
        let levels = if achievement.kind == Kind::MicroCredential { app.store.levels(achievement.id).await? } else { Vec::new() };
        items.push(Listed { achievement, issuer_name, levels });
    }
    Ok(items)
}
