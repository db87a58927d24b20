//! The public catalog: full-text search over published achievements with issuer, kind,
//! competency and fee filters, and the issuers' names and levels that listings show.

use std::collections::HashMap;

use cairn_core::achievement::Achievement;
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
    /// A micro-credential's levels (inline, or the micro-badges it is composed of), or a
    /// certificate's components.
    pub levels: Vec<Achievement>,
    /// A certificate's or micro-credential's rule over its components, each with its issuer's
    /// name.
    pub requirements: Option<ListedRequirements>,
}

/// The requirements of a listed achievement, as the API states them.
#[derive(Debug, Clone)]
pub struct ListedRequirements {
    pub rule: cairn_core::composition::Rule,
    /// Each component with its issuer's name and whether that issuer agreed.
    pub components: Vec<(Achievement, String, bool)>,
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
        let (levels, requirements) = match crate::stacks::requirements(app, &achievement).await? {
            None => (Vec::new(), None),
            Some(requirements) => {
                let mut components = Vec::with_capacity(requirements.components.len());
                for component in &requirements.components {
                    let name = match issuers.get(&component.organisation) {
                        Some(name) => name.clone(),
                        None => {
                            let name = app.store.organisation(component.organisation).await?.profile.name;
                            issuers.insert(component.organisation, name.clone());
                            name
                        }
                    };
                    components.push((component.clone(), name, !requirements.pending.contains(&component.id)));
                }
                (requirements.components, Some(ListedRequirements { rule: requirements.rule, components }))
            }
        };
        items.push(Listed { achievement, issuer_name, levels, requirements });
    }
    Ok(items)
}
