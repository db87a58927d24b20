//! A public rubric as pages show it, through the one `rubric_table` macro (`macros.html`): a
//! table on wide screens, a card per criterion listing its levels on narrow ones. The award page
//! marks the level each criterion reached.

use cairn_app::awards::AwardResult;
use cairn_core::rubric::Rubric;

/// A rubric laid out for the `rubric_table` macro: a column per level, a row per criterion.
#[derive(Debug, Clone)]
pub(crate) struct RubricView {
    pub levels: Vec<String>,
    pub rows: Vec<RubricRow>,
    /// Whether the levels reached are marked (an award that records its results).
    pub has_results: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RubricRow {
    pub name: String,
    pub description: String,
    pub required_level: String,
    /// The level reached and whether it meets the required one, when an award records it.
    pub achieved: Option<(String, bool)>,
    pub cells: Vec<RubricCell>,
}

#[derive(Debug, Clone)]
pub(crate) struct RubricCell {
    /// The level's name, for the narrow-screen cards (the table has it in its header).
    pub level: String,
    pub text: String,
    pub required: bool,
    pub achieved: bool,
}

impl RubricView {
    /// The rubric as published.
    pub(crate) fn new(rubric: &Rubric) -> RubricView {
        RubricView::assessed(rubric, &[])
    }

    /// The rubric with the levels an award records (`results`, matched by criterion).
    pub(crate) fn assessed(rubric: &Rubric, results: &[AwardResult]) -> RubricView {
        let rows = rubric
            .criteria
            .iter()
            .map(|criterion| {
                let result = results.iter().find(|r| r.criterion == criterion.id);
                let achieved_index = result.map(|r| r.level.saturating_sub(1));
                RubricRow {
                    name: criterion.name.clone(),
                    description: criterion.description.clone(),
                    required_level: rubric.required_level_name(criterion).to_string(),
                    achieved: result.map(|r| (r.level_name.clone(), r.met)),
                    cells: criterion
                        .descriptors
                        .iter()
                        .enumerate()
                        .map(|(i, text)| RubricCell {
                            level: rubric.levels.get(i).cloned().unwrap_or_default(),
                            text: text.clone(),
                            required: i == criterion.required_level,
                            achieved: achieved_index == Some(i),
                        })
                        .collect(),
                }
            })
            .collect();
        RubricView { levels: rubric.levels.clone(), rows, has_results: !results.is_empty() }
    }
}
