//! The landing page and the public catalog: full-text search with issuer, kind, competency and
//! fee filters, twenty cards a page.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use cairn_app::catalog::{self, Browse};
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::compare::MAX_COMPARED;
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_core::organisation::Organisation;
use cairn_store::{CatalogQuery, FeeFilter, KindFilter};
use serde::Deserialize;

use super::compare::chosen_values;
use super::form::SelectOption;
use super::{Layout, excerpt, render};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::Query;
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(home)).route("/catalog", get(catalog))
}

/// Results per catalog page.
const PAGE_SIZE: u32 = 20;
/// Newest achievements on the landing page.
const NEWEST: u32 = 6;
/// Competencies a card shows.
const CARD_COMPETENCIES: usize = 3;

/// An achievement as a catalog card.
#[derive(Debug, Clone)]
pub(crate) struct Card {
    pub id: String,
    pub href: String,
    pub image_url: String,
    pub name: String,
    pub summary: String,
    pub issuer_name: String,
    pub kind_label: String,
    pub fee: String,
    pub free: bool,
    pub validity: String,
    pub effort: Option<String>,
    pub competencies: Vec<String>,
    /// On the catalog, the "Compare" box and whether it is ticked.
    pub compare: Option<bool>,
}

impl Card {
    pub(crate) fn new(achievement: &Achievement, issuer_name: &str) -> Card {
        let content = &achievement.content;
        Card {
            id: achievement.id.to_string(),
            href: format!("/achievements/{}", achievement.id),
            image_url: format!("/achievements/{}/image", achievement.id),
            name: content.name.clone(),
            summary: excerpt(&content.description, 160),
            issuer_name: issuer_name.to_string(),
            kind_label: achievement.kind.label(),
            // The catalog lists micro-credentials and micro-badges, never a level on its own.
            fee: cairn_core::fees::fee_label(achievement, None),
            free: content.fee.is_free(),
            validity: content.validity_text(),
            effort: content.effort_text(),
            competencies: content.alignments.iter().take(CARD_COMPETENCIES).map(|a| a.target_name.clone()).collect(),
            compare: None,
        }
    }
}

/// Cards for `achievements`, naming each issuer from `organisations`.
pub(crate) fn cards(achievements: &[Achievement], organisations: &[Organisation]) -> Vec<Card> {
    let names: HashMap<OrganisationId, &str> = organisations.iter().map(|o| (o.id, o.profile.name.as_str())).collect();
    achievements.iter().map(|a| Card::new(a, names.get(&a.organisation).copied().unwrap_or("Unknown issuer"))).collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    newest: Vec<Card>,
    total: u64,
    issuers: usize,
}

async fn home(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    let Browse { page, organisations } = catalog::browse(&state.app, &CatalogQuery { limit: NEWEST, ..Default::default() }).await?;
    render(&HomePage { layout: Layout::new(&viewer, &csrf, None), newest: cards(&page.items, &organisations), total: page.total, issuers: organisations.len() })
}

/// The catalog's query string, as typed; each value is checked in [`Filters::parse`].
#[derive(Debug, Default, Deserialize)]
struct CatalogParams {
    q: Option<String>,
    issuer: Option<String>,
    kind: Option<String>,
    competency: Option<String>,
    fee: Option<String>,
    page: Option<String>,
}

/// The filters that were understood, and whether any was not.
#[derive(Debug, Default, PartialEq)]
struct Filters {
    text: String,
    issuer: Option<OrganisationId>,
    kind: Option<KindFilter>,
    competency: String,
    fee: Option<FeeFilter>,
    page: u32,
    ignored: bool,
    /// Achievements chosen for comparison so far (`a`, repeated), kept across searches and pages.
    chosen: Vec<AchievementId>,
}

impl Filters {
    fn parse(params: &CatalogParams, raw_query: Option<&str>) -> Filters {
        let mut ignored = false;
        let value = |raw: &Option<String>| raw.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let issuer = value(&params.issuer).and_then(|raw| {
            let parsed = raw.parse::<OrganisationId>().ok();
            ignored |= parsed.is_none();
            parsed
        });
        let kind = value(&params.kind).and_then(|raw| {
            let parsed = match raw.as_str() {
                "micro-badge" => Some(KindFilter::MicroBadge),
                "micro-credential" => Some(KindFilter::MicroCredential),
                "certificate" => Some(KindFilter::Certificate),
                _ => None,
            };
            ignored |= parsed.is_none();
            parsed
        });
        let fee = value(&params.fee).and_then(|raw| {
            let parsed = match raw.as_str() {
                "free" => Some(FeeFilter::Free),
                "paid" => Some(FeeFilter::Paid),
                _ => None,
            };
            ignored |= parsed.is_none();
            parsed
        });
        let page = match value(&params.page) {
            None => 1,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=5000).contains(&n) => n,
                _ => {
                    ignored = true;
                    1
                }
            },
        };
        Filters {
            text: value(&params.q).map(|t| t.chars().take(200).collect()).unwrap_or_default(),
            issuer,
            kind,
            competency: value(&params.competency).map(|t| t.chars().take(120).collect()).unwrap_or_default(),
            fee,
            page,
            ignored,
            chosen: chosen(raw_query),
        }
    }

    fn query(&self) -> CatalogQuery {
        CatalogQuery {
            text: (!self.text.is_empty()).then(|| self.text.clone()),
            issuer: self.issuer,
            kind: self.kind,
            competency: (!self.competency.is_empty()).then(|| self.competency.clone()),
            fee: self.fee,
            limit: PAGE_SIZE,
            offset: (self.page - 1) * PAGE_SIZE,
        }
    }

    fn kind_value(&self) -> &'static str {
        match self.kind {
            Some(KindFilter::MicroBadge) => Kind::MicroBadge.as_str(),
            Some(KindFilter::MicroCredential) => Kind::MicroCredential.as_str(),
            Some(KindFilter::Certificate) => Kind::Certificate.as_str(),
            None => "",
        }
    }

    fn fee_value(&self) -> &'static str {
        match self.fee {
            Some(FeeFilter::Free) => "free",
            Some(FeeFilter::Paid) => "paid",
            None => "",
        }
    }

    /// `/catalog?...` for another page of the same search.
    fn href(&self, page: u32) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("q", self.text.clone()),
            ("issuer", self.issuer.map(|i| i.to_string()).unwrap_or_default()),
            ("kind", self.kind_value().to_string()),
            ("competency", self.competency.clone()),
            ("fee", self.fee_value().to_string()),
        ] {
            if !value.is_empty() {
                query.append_pair(name, &value);
            }
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        for id in &self.chosen {
            query.append_pair("a", &id.to_string());
        }
        let query = query.finish();
        if query.is_empty() { "/catalog".to_string() } else { format!("/catalog?{query}") }
    }

    fn is_filtered(&self) -> bool {
        !self.text.is_empty() || self.issuer.is_some() || self.kind.is_some() || !self.competency.is_empty() || self.fee.is_some()
    }
}

/// The achievements chosen for comparison in a query string: the first [`MAX_COMPARED`] distinct
/// ids; anything else is dropped.
fn chosen(raw_query: Option<&str>) -> Vec<AchievementId> {
    let mut chosen = Vec::new();
    for id in chosen_values(raw_query, "a").iter().filter_map(|v| v.trim().parse::<AchievementId>().ok()) {
        if !chosen.contains(&id) && chosen.len() < MAX_COMPARED {
            chosen.push(id);
        }
    }
    chosen
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    layout: Layout,
    q: String,
    competency: String,
    issuer_options: Vec<SelectOption>,
    kind_options: Vec<SelectOption>,
    fee_options: Vec<SelectOption>,
    cards: Vec<Card>,
    /// "Showing 21–40 of 53".
    range_text: String,
    filtered: bool,
    page: u32,
    pages: u32,
    previous_href: Option<String>,
    next_href: Option<String>,
    title: String,
    /// Chosen for comparison and not on this page: kept as hidden fields of the compare form.
    chosen_elsewhere: Vec<String>,
    /// Every id chosen for comparison, kept by the search form.
    chosen: Vec<String>,
}

async fn catalog(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Query(params): Query<CatalogParams>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, Problem> {
    let filters = Filters::parse(&params, raw_query.as_deref());
    let Browse { page: result, organisations } = catalog::browse(&state.app, &filters.query()).await?;
    let pages = u32::try_from(result.total.div_ceil(u64::from(PAGE_SIZE))).unwrap_or(u32::MAX).max(1);
    let first = u64::from((filters.page - 1) * PAGE_SIZE) + 1;
    let last = first + result.items.len() as u64 - 1;
    let range_text = match result.total {
        0 => "No achievements found".to_string(),
        1 => "1 achievement".to_string(),
        total if result.items.is_empty() => format!("{total} achievements (none on this page)"),
        total if total <= u64::from(PAGE_SIZE) => format!("{total} achievements"),
        total => format!("Showing {first}–{last} of {total} achievements"),
    };
    let mut issuer_pairs: Vec<(String, String)> = vec![(String::new(), "Any issuer".to_string())];
    issuer_pairs.extend(organisations.iter().map(|o| (o.id.to_string(), o.profile.name.clone())));
    let current_issuer = filters.issuer.map(|i| i.to_string()).unwrap_or_default();
    let issuer_options = issuer_pairs.into_iter().map(|(value, label)| SelectOption { selected: value == current_issuer, value, label }).collect();
    let notice = if filters.ignored { Some("filters-ignored") } else { None };
    let title = if filters.text.is_empty() { "Catalog".to_string() } else { format!("“{}” in the catalog", filters.text) };
    render(&CatalogPage {
        layout: Layout::new(&viewer, &csrf, notice),
        q: filters.text.clone(),
        competency: filters.competency.clone(),
        issuer_options,
        kind_options: SelectOption::list(
            &[("", "Any kind"), ("micro-badge", "Micro-badge"), ("micro-credential", "Micro-credential"), ("certificate", "Certificate")],
            filters.kind_value(),
        ),
        fee_options: SelectOption::list(&[("", "Free or paid"), ("free", "Free"), ("paid", "Paid")], filters.fee_value()),
        chosen_elsewhere: filters.chosen.iter().filter(|id| !result.items.iter().any(|a| a.id == **id)).map(ToString::to_string).collect(),
        chosen: filters.chosen.iter().map(ToString::to_string).collect(),
        cards: cards(&result.items, &organisations)
            .into_iter()
            .map(|card| Card { compare: Some(filters.chosen.iter().any(|id| id.to_string() == card.id)), ..card })
            .collect(),
        range_text,
        filtered: filters.is_filtered(),
        page: filters.page,
        pages,
        previous_href: (filters.page > 1).then(|| filters.href(filters.page - 1)),
        next_href: (filters.page < pages).then(|| filters.href(filters.page + 1)),
        title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> CatalogParams {
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        CatalogParams { q: get("q"), issuer: get("issuer"), kind: get("kind"), competency: get("competency"), fee: get("fee"), page: get("page") }
    }

    #[test]
    fn unknown_filter_values_are_ignored_and_reported() {
        let filters = Filters::parse(&params(&[("kind", "badge"), ("issuer", "nope"), ("fee", "cheap"), ("page", "-1")]), None);
        assert_eq!(filters, Filters { page: 1, ignored: true, ..Default::default() });
        let filters = Filters::parse(&params(&[("q", " sql "), ("kind", "micro-credential"), ("fee", "free"), ("page", "2")]), None);
        assert!(!filters.ignored);
        assert_eq!(filters.query().offset, 20);
        assert_eq!(filters.href(3), "/catalog?q=sql&kind=micro-credential&fee=free&page=3");
        assert_eq!(Filters::parse(&params(&[]), None).href(1), "/catalog");
    }

    #[test]
    fn the_achievements_chosen_for_comparison_are_kept_across_pages() {
        let ids: Vec<AchievementId> = (0..6).map(|_| AchievementId::new()).collect();
        let raw = format!("q=sql&a={}&a=junk&a={},{}&a={}&a={}&a={}", ids[0], ids[1], ids[0], ids[2], ids[3], ids[4]);
        let filters = Filters::parse(&params(&[("q", "sql")]), Some(&raw));
        assert_eq!(filters.chosen, ids[..4]);
        assert_eq!(filters.href(2), format!("/catalog?q=sql&page=2&a={}&a={}&a={}&a={}", ids[0], ids[1], ids[2], ids[3]));
        assert_eq!(super::super::compare::with_chosen("/compare", &filters.chosen[..2]), format!("/compare?a={}&a={}", ids[0], ids[1]));
    }
}
