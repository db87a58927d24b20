//! The public comparison page, `/compare?a=ID&a=ID…`: two to four published achievements side by
//! side, one column each, in a table that scrolls inside its own labelled region on narrow
//! screens. A choice that is not two to four published achievements gets a page saying so, with
//! the way back to the catalog keeping what was chosen. The use case is `cairn_app::compare`.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::compare::{self, Compared};
use cairn_core::achievement::Kind;
use cairn_core::compare::{MAX_COMPARED, MAX_VALUES_READ, Selection};
use cairn_core::ids::AchievementId;
use cairn_core::markdown::markdown_to_text;
use cairn_core::outcomes::Outcomes;

use super::view::{component_heading, level_heading};
use super::{Layout, excerpt, render, render_status};
use crate::auth::{CsrfToken, Viewer};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/compare", get(compare_page))
}

/// The values of `name` in a query string, at most one more than [`MAX_VALUES_READ`] (so that
/// too many is still seen as too many), each comma-separated list split.
pub(crate) fn chosen_values(raw: Option<&str>, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(key, _)| key == name)
        .flat_map(|(_, value)| value.split(',').take(MAX_VALUES_READ + 1).map(str::to_string).collect::<Vec<_>>())
        .take(MAX_VALUES_READ + 1)
        .collect()
}

/// `?a=ID&a=ID` for `ids`, prefixed with `path`.
pub(crate) fn with_chosen(path: &str, ids: &[AchievementId]) -> String {
    if ids.is_empty() {
        return path.to_string();
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for id in ids {
        query.append_pair("a", &id.to_string());
    }
    format!("{path}?{}", query.finish())
}

/// A competency as a comparison lists it.
#[derive(Debug, Clone)]
struct CompetencyView {
    name: String,
    url: String,
    detail: Option<String>,
}

/// A rubric in brief: its levels, and each criterion with the level it must reach.
#[derive(Debug, Clone)]
struct RubricBrief {
    levels: String,
    criteria: Vec<(String, String)>,
}

/// Outcome figures in words: a column's rows here, the achievement page's facts.
#[derive(Debug, Clone)]
pub(crate) struct OutcomeView {
    pub pass_rate: String,
    pub median: String,
    pub basis: Option<String>,
}

impl OutcomeView {
    pub(crate) fn new(outcomes: &Outcomes) -> OutcomeView {
        let same = |text: &str| OutcomeView { pass_rate: text.to_string(), median: text.to_string(), basis: None };
        match outcomes {
            Outcomes::NotPublished => same("Not published by the issuer"),
            Outcomes::NotAssessed => same("Not assessed itself: awarded on its components"),
            Outcomes::TooFewDecisions { decisions } => {
                same(&format!("Not enough decisions yet ({decisions} so far; figures show from {})", cairn_core::outcomes::MIN_DECISIONS))
            }
            Outcomes::Figures(figures) => OutcomeView { pass_rate: figures.pass_rate_text(), median: figures.median_text(), basis: Some(figures.basis_text()) },
        }
    }
}

/// One achievement's column.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    href: String,
    image_url: String,
    kind_label: String,
    issuer_name: String,
    issuer_href: String,
    /// "Level 2: Practice of Data Basics".
    level_of: Option<String>,
    /// A micro-credential's levels or a certificate's components, as headings with names.
    levels: Vec<String>,
    /// A certificate's rule in words.
    rule: Option<String>,
    criteria: String,
    rubric: Option<RubricBrief>,
    competencies: Vec<CompetencyView>,
    effort: Option<String>,
    credits: Option<String>,
    fee: String,
    validity: String,
    renewal: Option<String>,
    outcomes: OutcomeView,
    /// This comparison without this column, when at least two would remain.
    remove_href: Option<String>,
}

impl Column {
    fn new(compared: &Compared, chosen: &[AchievementId]) -> Column {
        let achievement = &compared.listed.achievement;
        let content = &achievement.content;
        let others: Vec<AchievementId> = chosen.iter().copied().filter(|id| *id != achievement.id).collect();
        Column {
            name: content.name.clone(),
            href: format!("/achievements/{}", achievement.id),
            image_url: format!("/achievements/{}/image", achievement.id),
            kind_label: achievement.kind.label(),
            issuer_name: compared.listed.issuer_name.clone(),
            issuer_href: format!("/issuers/{}", achievement.organisation),
            level_of: match (achievement.kind, &compared.parent) {
                (Kind::Level(n), Some(parent)) => Some(format!("{} of {}", level_heading(n), parent.content.name)),
                _ => None,
            },
            levels: compared
                .listed
                .levels
                .iter()
                .enumerate()
                .map(|(i, level)| format!("{}: {}", component_heading(level, i, achievement.kind), level.content.name))
                .collect(),
            rule: achievement.rule.map(|rule| rule.label()),
            criteria: excerpt(&markdown_to_text(&content.criteria), 400),
            rubric: content.rubric.as_ref().map(|rubric| RubricBrief {
                levels: rubric.levels.join(" · "),
                criteria: rubric.criteria.iter().map(|c| (c.name.clone(), rubric.required_level_name(c).to_string())).collect(),
            }),
            competencies: content
                .alignments
                .iter()
                .map(|a| CompetencyView {
                    name: a.target_name.clone(),
                    url: a.target_url.clone(),
                    detail: match (&a.target_framework, &a.target_code) {
                        (Some(framework), Some(code)) => Some(format!("{framework}, {code}")),
                        (Some(one), None) | (None, Some(one)) => Some(one.clone()),
                        (None, None) => None,
                    },
                })
                .collect(),
            effort: content.effort_text(),
            credits: content.credits.map(|c| c.to_string()),
            fee: cairn_core::fees::fee_label(achievement, compared.parent.as_ref()),
            validity: content.validity_text(),
            renewal: (content.validity_months.is_some() && !matches!(achievement.kind, Kind::MicroCredential | Kind::Certificate))
                .then(|| capitalised(content.renewal.label())),
            outcomes: OutcomeView::new(&compared.outcomes),
            remove_href: (others.len() >= 2).then(|| with_chosen("/compare", &others)),
        }
    }
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    layout: Layout,
    columns: Vec<Column>,
    /// Why nothing is compared, when the choice was refused.
    problems: Vec<String>,
    /// The catalog, keeping what was chosen, to choose more.
    add_href: Option<String>,
    catalog_href: String,
}

async fn compare_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let values = chosen_values(raw.as_deref(), "a");
    // What parsed, in order, so the way back to the catalog keeps it.
    let mut parsed: Vec<AchievementId> = Vec::new();
    for id in values.iter().filter_map(|v| v.trim().parse::<AchievementId>().ok()) {
        if !parsed.contains(&id) && parsed.len() < MAX_COMPARED {
            parsed.push(id);
        }
    }
    let refused = |problems: Vec<String>| ComparePage {
        layout: Layout::new(&viewer, &csrf, None),
        columns: Vec::new(),
        problems,
        add_href: None,
        catalog_href: with_chosen("/catalog", &parsed),
    };
    let selection = match Selection::parse(&values) {
        Ok(selection) => selection,
        Err(invalid) => return render_status(StatusCode::UNPROCESSABLE_ENTITY, &refused(sentences(&invalid))),
    };
    let compared = match compare::compare(&state.app, &selection).await {
        Ok(compared) => compared,
        Err(AppError::Invalid(invalid)) => return render_status(StatusCode::UNPROCESSABLE_ENTITY, &refused(sentences(&invalid))),
        Err(error) => return Err(error.into()),
    };
    let chosen = selection.ids();
    render(&ComparePage {
        layout: Layout::new(&viewer, &csrf, None),
        columns: compared.iter().map(|c| Column::new(c, chosen)).collect(),
        problems: Vec::new(),
        add_href: (chosen.len() < MAX_COMPARED).then(|| with_chosen("/catalog", chosen)),
        catalog_href: with_chosen("/catalog", chosen),
    })
}

/// Each refusal as a sentence for people ("Choose at least 2 achievements to compare (got 1).").
fn sentences(invalid: &cairn_core::Invalid) -> Vec<String> {
    invalid.errors.iter().map(|error| format!("{}.", capitalised(&error.detail))).collect()
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}", chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_ids_are_read_repeated_or_comma_separated_and_bounded() {
        assert_eq!(chosen_values(Some("a=1&b=2&a=3,4"), "a"), ["1", "3", "4"]);
        assert_eq!(chosen_values(None, "a"), Vec::<String>::new());
        let many = vec!["a=x"; 100].join("&");
        assert_eq!(chosen_values(Some(&many), "a").len(), MAX_VALUES_READ + 1);
        let (one, two) = (AchievementId::new(), AchievementId::new());
        assert_eq!(with_chosen("/compare", &[one, two]), format!("/compare?a={one}&a={two}"));
        assert_eq!(with_chosen("/catalog", &[]), "/catalog");
    }
}
