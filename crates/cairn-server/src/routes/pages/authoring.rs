//! The authoring forms: a new micro-badge, a new micro-credential with its three levels or made
//! of existing micro-badges, a new certificate made of micro-credentials and micro-badges, and
//! editing any achievement (a level included), plus achievement image uploads.
//!
//! Forms use indexed field names, one *section* per achievement content, prefixed for the levels
//! of a new micro-credential (`level2_criterion_0_name`):
//!
//! ```text
//! name description criteria tags language effort_hours credits_available fee_amount fee_currency
//! validity_months
//! alignment_{i}_target_{name,url,framework,code,type,description}
//! level_{j}                                  rubric level names, lowest first (j < 6)
//! criterion_{i}_{id,name,description,required_level} criterion_{i}_descriptor_{j}
//! renewal_path renewal_instructions         how awards are renewed (full or light)
//! renewal_level_{j} renewal_criterion_{i}_…  a light renewal's rubric, named as the rubric's
//! levels_in_any_order                        a micro-credential's option (checkbox, value 1)
//! component_level_{k}                        a composed micro-credential's level k+1 (k < 6)
//! rule rule_n rule_min_credits component     a certificate's rule and components (checkboxes)
//! ```
//!
//! Blank rows and unused level columns are dropped before the domain sees the input, so the
//! domain's JSON pointers (`/rubric/criteria/1/name`) are mapped back to the rows and columns
//! they came from when errors are shown.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cairn_core::FieldError;
use cairn_core::achievement::{
    ALIGNMENT_TYPES, Achievement, AchievementFields, AlignmentFields, Kind, LEVEL_TITLES, MAX_ALIGNMENTS, NewAchievementFields, RequirementsFields,
    State as LifeCycle,
};
use cairn_core::ids::{AchievementId, OrganisationId};
use cairn_core::image::MAX_IMAGE_BYTES;
use cairn_core::renewal::RenewalFields;
use cairn_core::rubric::{CriterionFields, MAX_CRITERIA, MAX_LEVELS, RubricFields};
use serde::Deserialize;

use super::form::{Field, FieldErrors, SelectOption};
use super::view::level_heading;
use super::{Layout, image_upload, render, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, Query, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use cairn_app::catalog::Listed;
use cairn_app::urls::paths;
use cairn_app::{achievements, stacks};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/issuers/{id}/achievements/new", get(new_form).post(create))
        .route("/achievements/{id}/edit", get(edit_form).post(update))
        .route(paths::ACHIEVEMENT_IMAGE, post(upload_image))
}

/// Level columns in the rubric grid: the most levels a rubric may have.
const LEVEL_COLUMNS: usize = MAX_LEVELS;
/// Criterion rows offered for a micro-badge or an edited achievement.
const CRITERION_ROWS: usize = 8;
/// Criterion rows offered for each level of a new micro-credential.
const LEVEL_CRITERION_ROWS: usize = 4;
/// Blank alignment rows offered below the filled ones.
const BLANK_ALIGNMENT_ROWS: usize = 3;
/// Level names a new rubric starts with; the third is the usual pass mark.
const DEFAULT_LEVELS: [&str; 4] = ["Beginning", "Developing", "Proficient", "Exemplary"];
const DEFAULT_REQUIRED_COLUMN: &str = "3";

/// Which parts of the content a section of the form shows.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Tags, language, effort, fee, validity and alignments (levels of a new micro-credential
    /// keep to the essentials and inherit the language and validity).
    details: bool,
    /// The rubric grid (absent for a micro-credential, which is awarded by holding its levels).
    rubric: bool,
    /// Criterion rows offered at least.
    criterion_rows: usize,
    /// The fee (absent when what is made of other achievements charges through them).
    fee: bool,
    /// The renewal path, with a light renewal's rubric (an assessed achievement's, with its
    /// validity: the levels of a new micro-credential inherit theirs).
    renewal: bool,
}

const FULL: Shape = Shape { details: true, rubric: true, criterion_rows: CRITERION_ROWS, fee: true, renewal: true };
const CREDENTIAL: Shape = Shape { details: true, rubric: false, criterion_rows: 0, fee: true, renewal: false };
const LEVEL: Shape = Shape { details: false, rubric: true, criterion_rows: LEVEL_CRITERION_ROWS, fee: true, renewal: false };
/// A certificate, or a micro-credential made of existing micro-badges: each part charges its own
/// fee, if any.
const COMPOSED: Shape = Shape { details: true, rubric: false, criterion_rows: 0, fee: false, renewal: false };
/// Criterion rows offered for a light renewal's rubric.
const RENEWAL_CRITERION_ROWS: usize = 3;

/// One achievement's part of a form: its field-name prefix, and where its rows went.
#[derive(Debug, Clone, Default)]
struct Section {
    prefix: String,
    /// Prepended to labels in the error summary ("Level 2 · ").
    label_prefix: String,
    /// Form row of each alignment that was kept.
    alignment_rows: Vec<usize>,
    /// Form column of each rubric level that was kept.
    level_columns: Vec<usize>,
    /// Form row of each criterion that was kept.
    criterion_rows: Vec<usize>,
    /// The level names typed in each form column (for error labels).
    column_names: Vec<String>,
    /// Clearer messages for values the form could not even hand over, by pointer.
    overrides: HashMap<String, String>,
    /// A light renewal's rubric, read as a section of its own (prefix `renewal_`).
    renewal: Option<Box<Section>>,
}

fn alignment_label(field: &str) -> &'static str {
    match field {
        "target_name" => "name",
        "target_url" => "URL",
        "target_framework" => "framework",
        "target_code" => "code",
        "target_type" => "type",
        _ => "description",
    }
}

impl Section {
    fn new(prefix: &str, label_prefix: &str) -> Section {
        Section { prefix: prefix.to_string(), label_prefix: label_prefix.to_string(), ..Default::default() }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    /// A rubric column as authors know it: its level name, or its number.
    fn column_name(&self, column: usize) -> String {
        match self.column_names.get(column).filter(|name| !name.is_empty()) {
            Some(name) => name.clone(),
            None => format!("performance level {}", column + 1),
        }
    }

    /// The field id and summary label for a pointer relative to this section's content.
    fn locate(&self, pointer: &str) -> Option<(String, String)> {
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let index = |raw: &str, rows: &[usize]| raw.parse::<usize>().ok().and_then(|k| rows.get(k).copied());
        let (field, label) = match parts.as_slice() {
            ["name"] => ("name".to_string(), "Name".to_string()),
            ["description"] => ("description".into(), "Description".into()),
            ["criteria"] => ("criteria".into(), "Criteria".into()),
            ["tags", ..] => ("tags".into(), "Tags".into()),
            ["language"] => ("language".into(), "Language".into()),
            ["effort_hours"] => ("effort_hours".into(), "Estimated effort".into()),
            ["credits_available"] => ("credits_available".into(), "Credit hours".into()),
            ["levels_in_any_order"] => ("levels_in_any_order".into(), "Level order".into()),
            ["requirements", "rule"] => ("rule".into(), "Rule".into()),
            ["requirements", "n"] => ("rule_n".into(), "How many".into()),
            ["requirements", "min_credits"] => ("rule_min_credits".into(), "Credit hours needed".into()),
            ["requirements", ..] => ("requirements".into(), "Components".into()),
            ["fee"] | ["fee", "amount"] => ("fee_amount".into(), "Fee".into()),
            ["fee", "currency"] => ("fee_currency".into(), "Currency".into()),
            ["fee", "plan"] => ("fee_plan".into(), "How the fee is charged".into()),
            ["validity_months"] => ("validity_months".into(), "Validity".into()),
            ["renewal"] | ["renewal", "path"] => ("renewal_path".into(), "Renewal".into()),
            ["renewal", "instructions"] => ("renewal_instructions".into(), "Renewal instructions".into()),
            ["renewal", "rubric", rest @ ..] => {
                let inner = self.renewal.as_ref()?;
                let (field, label) = match rest {
                    [] => (inner.name("rubric"), "Renewal rubric".to_string()),
                    rest => {
                        let (field, label) = inner.locate(&format!("/rubric/{}", rest.join("/")))?;
                        (field, format!("Renewal rubric: {}", label.trim_start_matches(&inner.label_prefix)))
                    }
                };
                return Some((field, format!("{}{label}", self.label_prefix)));
            }
            ["alignments"] => ("alignments".into(), "Competencies".into()),
            ["alignments", k, field, ..] => {
                let row = index(k, &self.alignment_rows)?;
                (format!("alignment_{row}_{field}"), format!("Competency {} {}", row + 1, alignment_label(field)))
            }
            ["rubric"] | ["rubric", "levels"] | ["rubric", "criteria"] => ("rubric".into(), "Rubric".into()),
            ["rubric", "levels", m] => {
                let column = index(m, &self.level_columns)?;
                (format!("level_{column}"), format!("Performance level {}", column + 1))
            }
            ["rubric", "criteria", k, rest @ ..] => {
                let row = index(k, &self.criterion_rows)?;
                let criterion = format!("Criterion {}", row + 1);
                match rest {
                    ["name"] | ["id"] => (format!("criterion_{row}_name"), format!("{criterion} name")),
                    ["description"] => (format!("criterion_{row}_description"), format!("{criterion} description")),
                    ["required_level"] => (format!("criterion_{row}_required_level"), format!("{criterion} required level")),
                    ["descriptors"] => {
                        (format!("criterion_{row}_descriptor_{}", self.level_columns.first().copied().unwrap_or(0)), format!("{criterion} descriptors"))
                    }
                    ["descriptors", m] => {
                        let column = index(m, &self.level_columns)?;
                        (format!("criterion_{row}_descriptor_{column}"), format!("{criterion} at {}", self.column_name(column)))
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some((self.name(&field), format!("{}{label}", self.label_prefix)))
    }

    /// Reads this section's content from the form.
    fn parse(&mut self, form: &FormFields, shape: Shape) -> AchievementFields {
        let prefix = self.prefix.clone();
        let get = |field: &str| form.get(&format!("{prefix}{field}")).to_string();
        let opt = |field: &str| form.opt(&format!("{prefix}{field}"));
        let mut fields = AchievementFields { name: get("name"), description: get("description"), criteria: get("criteria"), ..Default::default() };
        if shape.details {
            fields.tags = get("tags").split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            fields.language = opt("language");
            fields.effort_hours = opt("effort_hours").map(|raw| match raw.replace(',', ".").parse::<f64>() {
                Ok(hours) => hours,
                Err(_) => {
                    self.overrides.insert("/effort_hours".into(), format!("\"{}\" is not a number of hours, such as 6 or 1.5", clip(&raw)));
                    f64::NAN
                }
            });
            fields.credits_available = opt("credits_available").map(|raw| match raw.replace(',', ".").parse::<f64>() {
                Ok(credits) => credits,
                Err(_) => {
                    self.overrides.insert("/credits_available".into(), format!("\"{}\" is not a number of credit hours, such as 3 or 1.5", clip(&raw)));
                    f64::NAN
                }
            });
            if shape.fee {
                fields.fee_amount = opt("fee_amount");
                fields.fee_currency = opt("fee_currency");
                fields.fee_plan = opt("fee_plan");
            }
            fields.validity_months = opt("validity_months").map(|raw| match raw.parse::<i64>() {
                Ok(months) => months,
                Err(_) => {
                    self.overrides.insert(
                        "/validity_months".into(),
                        format!("\"{}\" is not a whole number of months; leave it empty if awards never expire", clip(&raw)),
                    );
                    -1
                }
            });
            for row in 0..MAX_ALIGNMENTS + BLANK_ALIGNMENT_ROWS {
                let at = |field: &str| form.get(&format!("{prefix}alignment_{row}_{field}")).trim().to_string();
                let alignment = AlignmentFields {
                    target_name: at("target_name"),
                    target_url: at("target_url"),
                    target_description: Some(at("target_description")).filter(|v| !v.is_empty()),
                    target_framework: Some(at("target_framework")).filter(|v| !v.is_empty()),
                    target_code: Some(at("target_code")).filter(|v| !v.is_empty()),
                    target_type: Some(at("target_type")).filter(|v| !v.is_empty()),
                };
                if alignment != AlignmentFields::default() {
                    self.alignment_rows.push(row);
                    fields.alignments.push(alignment);
                }
            }
        }
        if shape.rubric {
            fields.rubric = self.parse_rubric(form);
        }
        if shape.renewal {
            let mut inner = Section::new(&self.name("renewal_"), "");
            let path = opt("renewal_path");
            let rubric = inner.parse_rubric(form);
            fields.renewal =
                Some(RenewalFields { rubric: rubric.filter(|_| path.as_deref() == Some("light")), instructions: opt("renewal_instructions"), path });
            self.renewal = Some(Box::new(inner));
        }
        fields
    }

    fn parse_rubric(&mut self, form: &FormFields) -> Option<RubricFields> {
        let prefix = self.prefix.clone();
        let value = |name: String| form.get(&format!("{prefix}{name}")).trim().to_string();
        let level_names: Vec<String> = (0..LEVEL_COLUMNS).map(|j| value(format!("level_{j}"))).collect();
        self.column_names = level_names.clone();
        let mut rows = Vec::new();
        for i in 0..MAX_CRITERIA {
            let name = value(format!("criterion_{i}_name"));
            let description = value(format!("criterion_{i}_description"));
            let descriptors: Vec<String> = (0..LEVEL_COLUMNS).map(|j| value(format!("criterion_{i}_descriptor_{j}"))).collect();
            // A row is blank when nothing was written in it; a row with text but no name is
            // kept, so the author is told about the name instead of losing the text.
            if name.is_empty() && description.is_empty() && descriptors.iter().all(String::is_empty) {
                continue;
            }
            rows.push((i, name, description, value(format!("criterion_{i}_required_level")), value(format!("criterion_{i}_id")), descriptors));
        }
        // A column counts when it has a level name or any descriptor, so a descriptor written
        // under an unnamed column shows as a missing level name rather than vanishing.
        self.level_columns = (0..LEVEL_COLUMNS).filter(|&j| !level_names[j].is_empty() || rows.iter().any(|row| !row.5[j].is_empty())).collect();
        if self.level_columns.is_empty() && rows.is_empty() {
            return None;
        }
        let levels = self.level_columns.iter().map(|&j| level_names[j].clone()).collect();
        let mut criteria = Vec::new();
        for (k, (row, name, description, required, id, descriptors)) in rows.into_iter().enumerate() {
            self.criterion_rows.push(row);
            let required_level = match required.parse::<usize>() {
                Ok(column) if (1..=LEVEL_COLUMNS).contains(&column) => {
                    let name = &level_names[column - 1];
                    if name.is_empty() {
                        self.overrides.insert(format!("/rubric/criteria/{k}/required_level"), "choose a level that has a name".into());
                    }
                    name.clone()
                }
                _ => required,
            };
            criteria.push(CriterionFields {
                id: Some(id).filter(|id| !id.is_empty()),
                name,
                description,
                required_level,
                descriptors: self.level_columns.iter().map(|&j| descriptors[j].clone()).collect(),
            });
        }
        Some(RubricFields { levels, criteria })
    }
}

fn clip(value: &str) -> String {
    value.chars().take(40).collect()
}

/// The form values of stored (or default) content, in this section's field names.
fn section_values(prefix: &str, fields: &AchievementFields) -> Vec<(String, String)> {
    let mut values = Vec::new();
    let mut put = |name: String, value: String| values.push((format!("{prefix}{name}"), value));
    put("name".into(), fields.name.clone());
    put("description".into(), fields.description.clone());
    put("criteria".into(), fields.criteria.clone());
    put("tags".into(), fields.tags.join(", "));
    put("language".into(), fields.language.clone().unwrap_or_default());
    put("effort_hours".into(), fields.effort_hours.map(|h| format!("{}", (h * 100.0).round() / 100.0)).unwrap_or_default());
    put("credits_available".into(), fields.credits_available.map(|c| format!("{c}")).unwrap_or_default());
    put("fee_amount".into(), fields.fee_amount.clone().unwrap_or_default());
    put("fee_currency".into(), fields.fee_currency.clone().unwrap_or_default());
    put("fee_plan".into(), fields.fee_plan.clone().unwrap_or_default());
    put("validity_months".into(), fields.validity_months.map(|m| m.to_string()).unwrap_or_default());
    for (i, a) in fields.alignments.iter().enumerate() {
        put(format!("alignment_{i}_target_name"), a.target_name.clone());
        put(format!("alignment_{i}_target_url"), a.target_url.clone());
        put(format!("alignment_{i}_target_framework"), a.target_framework.clone().unwrap_or_default());
        put(format!("alignment_{i}_target_code"), a.target_code.clone().unwrap_or_default());
        put(format!("alignment_{i}_target_type"), a.target_type.clone().unwrap_or_default());
        put(format!("alignment_{i}_target_description"), a.target_description.clone().unwrap_or_default());
    }
    if let Some(rubric) = &fields.rubric {
        values.extend(rubric_values(prefix, rubric));
    }
    if let Some(renewal) = &fields.renewal {
        values.push((format!("{prefix}renewal_path"), renewal.path.clone().unwrap_or_default()));
        values.push((format!("{prefix}renewal_instructions"), renewal.instructions.clone().unwrap_or_default()));
        if let Some(rubric) = &renewal.rubric {
            values.extend(rubric_values(&format!("{prefix}renewal_"), rubric));
        }
    }
    values
}

/// The form values of a rubric, in the field names of the section with `prefix`.
fn rubric_values(prefix: &str, rubric: &RubricFields) -> Vec<(String, String)> {
    let mut values = Vec::new();
    let mut put = |name: String, value: String| values.push((format!("{prefix}{name}"), value));
    for (j, level) in rubric.levels.iter().enumerate() {
        put(format!("level_{j}"), level.clone());
    }
    for (i, c) in rubric.criteria.iter().enumerate() {
        put(format!("criterion_{i}_id"), c.id.clone().unwrap_or_default());
        put(format!("criterion_{i}_name"), c.name.clone());
        put(format!("criterion_{i}_description"), c.description.clone());
        let column = rubric.levels.iter().position(|l| l.eq_ignore_ascii_case(c.required_level.trim())).map(|j| (j + 1).to_string());
        put(format!("criterion_{i}_required_level"), column.unwrap_or_else(|| c.required_level.clone()));
        for (j, descriptor) in c.descriptors.iter().enumerate() {
            put(format!("criterion_{i}_descriptor_{j}"), descriptor.clone());
        }
    }
    values
}

/// Values a new section starts with: English, and the usual four levels with the third to pass.
fn default_values(prefix: &str, shape: Shape) -> Vec<(String, String)> {
    let mut values = vec![(format!("{prefix}language"), "en".to_string())];
    if shape.rubric {
        for (j, level) in DEFAULT_LEVELS.iter().enumerate() {
            values.push((format!("{prefix}level_{j}"), level.to_string()));
        }
        for i in 0..shape.criterion_rows {
            values.push((format!("{prefix}criterion_{i}_required_level"), DEFAULT_REQUIRED_COLUMN.to_string()));
        }
    }
    if shape.renewal {
        values.push((format!("{prefix}renewal_path"), "full".to_string()));
    }
    values
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Debug, Clone)]
struct AlignmentRowView {
    number: usize,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct CriterionRowView {
    number: usize,
    id_name: String,
    id_value: String,
    name: Field,
    description: Field,
    required_level: Field,
    descriptors: Vec<Field>,
}

#[derive(Debug, Clone)]
struct GridView {
    id: String,
    error: Option<String>,
    levels: Vec<Field>,
    criteria: Vec<CriterionRowView>,
}

#[derive(Debug, Clone)]
struct SectionView {
    /// `Level 1: Foundations` for a level of a new micro-credential.
    heading: Option<String>,
    heading_id: String,
    name: Field,
    description: Field,
    criteria: Field,
    details: Vec<Field>,
    alignments: Option<(String, Option<String>, Vec<AlignmentRowView>)>,
    rubric: Option<GridView>,
    renewal: Option<RenewalView>,
}

/// How awards are renewed: the path, and a light renewal's instructions and rubric.
#[derive(Debug, Clone)]
struct RenewalView {
    id: String,
    path: Field,
    instructions: Field,
    grid: GridView,
}

/// The highest row index present in the form for a field pattern, plus one.
fn submitted_rows(form: &FormFields, prefix: &str, what: &str, field: &str) -> usize {
    let start = format!("{prefix}{what}_");
    form.0
        .iter()
        .filter_map(|(name, _)| name.strip_prefix(&start)?.split_once('_').filter(|(_, rest)| *rest == field).and_then(|(i, _)| i.parse::<usize>().ok()))
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

/// One past the last row with any value in it.
fn filled_rows(form: &FormFields, prefix: &str, what: &str) -> usize {
    let start = format!("{prefix}{what}_");
    form.0
        .iter()
        .filter(|(name, value)| !value.trim().is_empty() && !name.ends_with("_required_level") && !name.ends_with("_id"))
        .filter_map(|(name, _)| name.strip_prefix(&start)?.split_once('_')?.0.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

fn section_view(form: &FormFields, errors: &FieldErrors, prefix: &str, heading: Option<String>, shape: Shape) -> SectionView {
    let id = |field: &str| format!("{prefix}{field}");
    let field = |name: &str, label: &str| Field::new(id(name), label, form.get(&id(name)));
    let heading_id = format!("{prefix}section");
    let name = field("name", "Name").required().maxlength(120).error_from(errors);
    let description = field("description", "Description")
        .textarea(3)
        .required()
        .maxlength(4000)
        .hint("A short summary for the catalog: what the learner can show they do.")
        .error_from(errors);
    let criteria = field("criteria", "Criteria")
        .textarea(8)
        .required()
        .hint("What the learner submits and how it is judged. Markdown: **bold**, *italic*, lists with “- ”, links as [text](https://…).")
        .error_from(errors);
    let details = if shape.details {
        vec![
            field("tags", "Tags").hint("Comma-separated, such as sql, data analysis.").class("field-wide"),
            field("language", "Language").maxlength(35).hint("A language tag such as en, fr or pt-BR.").class("field-small"),
            field("effort_hours", "Estimated effort (hours)")
                .inputmode("decimal")
                .hint("Hours a typical learner needs, such as 6 or 1.5.")
                .class("field-small"),
            field("credits_available", "Credit hours")
                .inputmode("decimal")
                .hint("Credit hours it is worth, such as 3 or 1.5; empty for none.")
                .class("field-small"),
            field("fee_amount", "Fee").inputmode("decimal").hint("Such as 49 or 49.50; empty or 0 is free.").class("field-small"),
            field("fee_currency", "Currency").maxlength(3).hint("Three letters, such as EUR or USD.").class("field-small"),
            field("validity_months", "Validity (months)")
                .inputmode("numeric")
                .hint("Months an award stays valid; empty means it never expires.")
                .class("field-small"),
        ]
        .into_iter()
        .filter(|f| shape.fee || !f.id.ends_with("fee_amount") && !f.id.ends_with("fee_currency"))
        // A micro-credential's fee is charged on its levels: once up front, or a share per level.
        .chain((!shape.rubric && shape.fee).then(|| {
            let current = form.get(&id("fee_plan"));
            field("fee_plan", "How the fee is charged")
                .select(SelectOption::list(
                    &[
                        ("upfront", "Once, before the first level is assessed (covers all three)"),
                        ("per-level", "Split: a third before each level is assessed"),
                    ],
                    if current.is_empty() { "upfront" } else { current },
                ))
                .hint("Learners pay as your payment instructions in the assessment settings say.")
                .class("field-wide")
        }))
        .map(|f| f.error_from(errors))
        .collect()
    } else {
        Vec::new()
    };
    let alignments = shape.details.then(|| {
        let rows = (filled_rows(form, prefix, "alignment") + BLANK_ALIGNMENT_ROWS)
            .max(submitted_rows(form, prefix, "alignment", "target_name"))
            .min(MAX_ALIGNMENTS + BLANK_ALIGNMENT_ROWS);
        let mut type_pairs: Vec<(&str, &str)> = vec![("", "Not specified")];
        type_pairs.extend(ALIGNMENT_TYPES.iter().map(|t| (*t, *t)));
        let views = (0..rows)
            .map(|row| {
                let cell = |name: &str, label: &str| {
                    let name = format!("alignment_{row}_{name}");
                    Field::new(id(&name), format!("{label} (competency {})", row + 1), form.get(&id(&name)))
                };
                let current_type = form.get(&id(&format!("alignment_{row}_target_type"))).trim().to_string();
                let mut options = SelectOption::list(&type_pairs, &current_type);
                if !current_type.is_empty() && !ALIGNMENT_TYPES.contains(&current_type.as_str()) {
                    options.push(SelectOption { value: current_type.clone(), label: current_type.clone(), selected: true });
                }
                AlignmentRowView {
                    number: row + 1,
                    fields: vec![
                        cell("target_name", "Name"),
                        cell("target_url", "URL").kind("url"),
                        cell("target_framework", "Framework"),
                        cell("target_code", "Code"),
                        cell("target_type", "Type").select(options),
                        cell("target_description", "Description").class("field-wide"),
                    ]
                    .into_iter()
                    .map(|f| f.error_from(errors))
                    .collect(),
                }
            })
            .collect();
        (id("alignments"), errors.at(&id("alignments")), views)
    });
    let rubric = shape.rubric.then(|| grid_view(form, errors, prefix, shape));
    let renewal = shape.renewal.then(|| {
        let current = form.get(&id("renewal_path"));
        RenewalView {
            id: id("renewal"),
            path: field("renewal_path", "Renewal path")
                .select(SelectOption::list(
                    &[("full", "Full reassessment against the public rubric"), ("light", "Lighter renewal: renewal evidence judged against a renewal rubric")],
                    if current.is_empty() { "full" } else { current },
                ))
                .hint("Learners renew an award from 90 days before it expires, if the achievement has a validity period.")
                .class("field-wide")
                .error_from(errors),
            instructions: field("renewal_instructions", "Renewal instructions")
                .textarea(4)
                .maxlength(4000)
                .hint("For a lighter renewal: what the renewal evidence should be. Markdown.")
                .error_from(errors),
            grid: grid_view(form, errors, &id("renewal_"), Shape { criterion_rows: RENEWAL_CRITERION_ROWS, ..shape }),
        }
    });
    SectionView { heading, heading_id, name, description, criteria, details, alignments, rubric, renewal }
}

fn grid_view(form: &FormFields, errors: &FieldErrors, prefix: &str, shape: Shape) -> GridView {
    let id = |field: String| format!("{prefix}{field}");
    let level_names: Vec<String> = (0..LEVEL_COLUMNS).map(|j| form.get(&id(format!("level_{j}"))).trim().to_string()).collect();
    let column_label = |j: usize| if level_names[j].is_empty() { format!("Performance level {}", j + 1) } else { level_names[j].clone() };
    let levels = (0..LEVEL_COLUMNS)
        .map(|j| {
            let label = match j {
                0 => "Performance level 1 (lowest)".to_string(),
                j => format!("Performance level {}", j + 1),
            };
            Field::new(id(format!("level_{j}")), label, level_names[j].clone()).maxlength(60).error_from(errors)
        })
        .collect();
    let rows = (filled_rows(form, prefix, "criterion") + 2).max(shape.criterion_rows).max(submitted_rows(form, prefix, "criterion", "name")).min(MAX_CRITERIA);
    let criteria = (0..rows)
        .map(|i| {
            let value = |field: &str| form.get(&id(format!("criterion_{i}_{field}"))).to_string();
            let number = i + 1;
            let required = value("required_level").trim().to_string();
            // A level name typed by hand (or sent by a script) selects its column.
            let required = match required.parse::<usize>() {
                Ok(_) => required,
                Err(_) => level_names.iter().position(|l| !l.is_empty() && l.eq_ignore_ascii_case(&required)).map(|j| (j + 1).to_string()).unwrap_or(required),
            };
            let mut options = vec![SelectOption { value: String::new(), label: "Choose a performance level".into(), selected: required.is_empty() }];
            options.extend((0..LEVEL_COLUMNS).map(|j| SelectOption {
                value: (j + 1).to_string(),
                label: column_label(j),
                selected: required == (j + 1).to_string(),
            }));
            CriterionRowView {
                number,
                id_name: id(format!("criterion_{i}_id")),
                id_value: value("id"),
                name: Field::new(id(format!("criterion_{i}_name")), format!("Criterion {number} name"), value("name")).maxlength(120).error_from(errors),
                description: Field::new(id(format!("criterion_{i}_description")), format!("Criterion {number} description"), value("description"))
                    .maxlength(1000)
                    .hint("Optional: what this criterion looks at.")
                    .error_from(errors),
                required_level: Field::new(id(format!("criterion_{i}_required_level")), format!("Criterion {number}: performance level to pass"), required)
                    .select(options)
                    .error_from(errors),
                descriptors: (0..LEVEL_COLUMNS)
                    .map(|j| {
                        Field::new(
                            id(format!("criterion_{i}_descriptor_{j}")),
                            format!("Criterion {number} at {}", column_label(j)),
                            value(&format!("descriptor_{j}")),
                        )
                        .textarea(3)
                        .maxlength(1000)
                        .error_from(errors)
                    })
                    .collect(),
            }
        })
        .collect();
    GridView { id: id("rubric".into()), error: errors.at(&id("rubric".into())), levels, criteria }
}

#[derive(Debug, Clone)]
struct ImageForm {
    action: String,
    url: String,
    max_text: String,
}

#[derive(Template)]
#[template(path = "authoring.html")]
struct AuthoringPage {
    layout: Layout,
    title: String,
    intro: String,
    action: String,
    kind: String,
    submit_label: String,
    cancel_href: String,
    errors: FieldErrors,
    sections: Vec<SectionView>,
    /// A note shown above the form (published: saving makes a new version).
    warning: Option<String>,
    /// Retired achievements cannot be edited: the form is not shown.
    locked: bool,
    image: Option<ImageForm>,
    /// A new micro-credential's option: `Some(checked)` for "levels in any order".
    any_order: Option<bool>,
    /// A new certificate's or composed micro-credential's rule and components.
    requirements: Option<RequirementsView>,
    csrf: String,
}

/// The components part of a new certificate or composed micro-credential.
#[derive(Debug, Clone)]
struct RequirementsView {
    legend: &'static str,
    hint: String,
    error: Option<String>,
    /// A certificate's rule, its number and its credit hours.
    rule: Vec<Field>,
    /// A composed micro-credential's levels, in order: a choice of micro-badge each.
    level_choices: Vec<Field>,
    /// A certificate's components: one checkbox per published achievement on offer.
    choices: Vec<ChoiceView>,
}

#[derive(Debug, Clone)]
struct ChoiceView {
    id: String,
    value: String,
    name: String,
    /// "Micro-badge · Northbridge · 2 credit hours".
    detail: String,
    checked: bool,
}

/// Most levels a composed micro-credential's form offers.
const COMPOSED_LEVELS: usize = 6;

fn requirements_view(kind: NewKind, organisation: OrganisationId, form: &FormFields, errors: &FieldErrors, choices: &[Listed]) -> Option<RequirementsView> {
    let error = errors.at("requirements");
    let describe = |listed: &Listed| {
        let credits = listed.achievement.content.credits.map(|c| format!(" · {c} credit hours")).unwrap_or_default();
        format!("{} · {}{credits}", listed.achievement.kind.label(), listed.issuer_name)
    };
    match kind {
        NewKind::MicroBadge | NewKind::MicroCredential => None,
        NewKind::Composed => {
            let badges: Vec<&Listed> =
                choices.iter().filter(|l| l.achievement.kind == Kind::MicroBadge && l.achievement.organisation == organisation).collect();
            let level_choices = (0..COMPOSED_LEVELS)
                .map(|k| {
                    let name = format!("component_level_{k}");
                    let current = form.get(&name).to_string();
                    let mut options = vec![SelectOption { value: String::new(), label: "No level".into(), selected: current.is_empty() }];
                    options.extend(badges.iter().map(|l| SelectOption {
                        value: l.achievement.id.to_string(),
                        label: l.achievement.content.name.clone(),
                        selected: current == l.achievement.id.to_string(),
                    }));
                    Field::new(name, format!("Level {}", k + 1), current).select(options)
                })
                .collect();
            Some(RequirementsView {
                legend: "Levels",
                hint: "Choose your organisation's published micro-badges as the levels, in order (at least two). The micro-credential is awarded once a learner holds them all.".into(),
                error,
                rule: Vec::new(),
                level_choices,
                choices: Vec::new(),
            })
        }
        NewKind::Certificate => {
            let checked: Vec<String> = form.all("component");
            let rule = form.get("rule");
            let rule = vec![
                Field::new("rule", "Rule", rule)
                    .select(SelectOption::list(
                        &[("all", "All of the chosen components"), ("n_of", "A number of them"), ("min_credits", "A minimum of credit hours from them")],
                        if rule.is_empty() { "all" } else { rule },
                    ))
                    .class("field-wide")
                    .error_from(errors),
                Field::new("rule_n", "How many (for “a number of them”)", form.get("rule_n")).inputmode("numeric").class("field-small").error_from(errors),
                Field::new("rule_min_credits", "Credit hours needed (for “a minimum of credit hours”)", form.get("rule_min_credits"))
                    .inputmode("decimal")
                    .class("field-small")
                    .error_from(errors),
            ];
            let choices = choices
                .iter()
                .filter(|l| matches!(l.achievement.kind, Kind::MicroBadge | Kind::MicroCredential))
                .map(|l| {
                    let value = l.achievement.id.to_string();
                    ChoiceView {
                        id: format!("component-{value}"),
                        checked: checked.contains(&value),
                        value,
                        name: l.achievement.content.name.clone(),
                        detail: describe(l),
                    }
                })
                .collect();
            Some(RequirementsView {
                legend: "Requirements",
                hint: "Choose at least two published micro-credentials and micro-badges, from your organisation or others. Another organisation's count once one of its owners agrees; until then the certificate cannot be published.".into(),
                error,
                rule,
                level_choices: Vec::new(),
                choices,
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// New achievements

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewKind {
    MicroBadge,
    /// A micro-credential with three levels written here.
    MicroCredential,
    /// A micro-credential whose levels are existing micro-badges.
    Composed,
    Certificate,
}

impl NewKind {
    fn parse(raw: Option<&str>) -> Result<NewKind, Problem> {
        match raw.map(str::trim).unwrap_or("") {
            "" | "micro-badge" => Ok(NewKind::MicroBadge),
            "micro-credential" => Ok(NewKind::MicroCredential),
            "composed" => Ok(NewKind::Composed),
            "certificate" => Ok(NewKind::Certificate),
            _ => Err(Problem::malformed("kind must be micro-badge, micro-credential, composed or certificate")),
        }
    }

    /// The form's and the address's name for it.
    fn as_str(self) -> &'static str {
        match self {
            NewKind::MicroBadge => Kind::MicroBadge.as_str(),
            NewKind::MicroCredential => Kind::MicroCredential.as_str(),
            NewKind::Composed => "composed",
            NewKind::Certificate => Kind::Certificate.as_str(),
        }
    }

    /// The kind the domain is asked to create.
    fn kind(self) -> Kind {
        match self {
            NewKind::MicroBadge => Kind::MicroBadge,
            NewKind::MicroCredential | NewKind::Composed => Kind::MicroCredential,
            NewKind::Certificate => Kind::Certificate,
        }
    }
}

fn level_prefix(n: usize) -> String {
    format!("level{n}_")
}

/// The sections of a new achievement's form: one, or the credential and its three levels.
fn new_sections(kind: NewKind) -> Vec<(Section, Shape, Option<String>)> {
    match kind {
        NewKind::MicroBadge => vec![(Section::new("", ""), FULL, None)],
        NewKind::Composed | NewKind::Certificate => vec![(Section::new("", ""), COMPOSED, None)],
        NewKind::MicroCredential => {
            let mut sections = vec![(Section::new("", "Micro-credential · "), CREDENTIAL, Some("The micro-credential".to_string()))];
            for n in 1..=LEVEL_TITLES.len() {
                sections.push((Section::new(&level_prefix(n), &format!("Level {n} · ")), LEVEL, Some(level_heading(n as u8))));
            }
            sections
        }
    }
}

/// Reads a new achievement from the form; the sections remember where each row came from.
fn parse_new(form: &FormFields, kind: NewKind) -> (NewAchievementFields, Vec<Section>) {
    let mut sections = Vec::new();
    let mut contents = Vec::new();
    for (mut section, shape, _) in new_sections(kind) {
        contents.push(section.parse(form, shape));
        sections.push(section);
    }
    let mut contents = contents.into_iter();
    let content = contents.next().unwrap_or_default();
    let mut levels: Vec<AchievementFields> = contents.collect();
    for level in &mut levels {
        // Levels share the credential's language and validity.
        level.language = content.language.clone();
        level.validity_months = content.validity_months.filter(|m| *m > 0);
    }
    let levels_in_any_order = matches!(kind, NewKind::MicroCredential | NewKind::Composed) && form.get("levels_in_any_order") == "1";
    let requirements = match kind {
        NewKind::MicroBadge | NewKind::MicroCredential => None,
        NewKind::Composed => Some(RequirementsFields {
            components: (0..COMPOSED_LEVELS).map(|k| form.get(&format!("component_level_{k}")).trim().to_string()).filter(|v| !v.is_empty()).collect(),
            ..Default::default()
        }),
        NewKind::Certificate => {
            let overrides = &mut sections[0].overrides;
            let n = form.opt("rule_n").map(|raw| {
                raw.trim().parse::<i64>().unwrap_or_else(|_| {
                    overrides.insert("/requirements/n".into(), format!("\"{}\" is not a whole number", clip(&raw)));
                    -1
                })
            });
            let min_credits = form.opt("rule_min_credits").map(|raw| {
                raw.replace(',', ".").trim().parse::<f64>().unwrap_or_else(|_| {
                    overrides.insert("/requirements/min_credits".into(), format!("\"{}\" is not a number of credit hours, such as 6 or 7.5", clip(&raw)));
                    f64::NAN
                })
            });
            let rule = form.opt("rule").unwrap_or_else(|| "all".to_string());
            // Only the chosen rule's number counts; the other field may hold what was typed before.
            Some(RequirementsFields {
                n: n.filter(|_| rule == "n_of"),
                min_credits: min_credits.filter(|_| rule == "min_credits"),
                rule: Some(rule),
                components: form.all("component"),
            })
        }
    };
    (NewAchievementFields { kind: kind.kind().as_str().to_string(), content, levels, levels_in_any_order, requirements }, sections)
}

/// Places errors whose pointers may start with `/levels/N` in the section they belong to.
fn place_errors(errors: &[FieldError], sections: &[Section], level_sections: bool) -> FieldErrors {
    let overridden: Vec<FieldError> = errors
        .iter()
        .map(|e| {
            let (section, pointer) = split_pointer(&e.pointer, sections, level_sections);
            let detail = section.and_then(|s| s.overrides.get(pointer)).cloned().unwrap_or_else(|| e.detail.clone());
            FieldError { pointer: e.pointer.clone(), detail }
        })
        .collect();
    FieldErrors::place(&overridden, |pointer| match split_pointer(pointer, sections, level_sections) {
        (Some(section), rest) => section.locate(rest),
        (None, _) => None,
    })
}

/// The section a pointer belongs to and the pointer within it.
fn split_pointer<'a>(pointer: &'a str, sections: &'a [Section], level_sections: bool) -> (Option<&'a Section>, &'a str) {
    if level_sections {
        if let Some(rest) = pointer.strip_prefix("/levels/") {
            let (n, rest) = rest.split_once('/').unwrap_or((rest, ""));
            let section = n.parse::<usize>().ok().and_then(|n| sections.get(n + 1));
            return (section.filter(|_| !rest.is_empty()), if rest.is_empty() { pointer } else { &pointer[pointer.len() - rest.len() - 1..] });
        }
        if pointer == "/levels" || pointer == "/kind" {
            return (None, pointer);
        }
    }
    (sections.first(), pointer)
}

fn new_page(
    layout: Layout,
    (organisation, organisation_name): (OrganisationId, &str),
    kind: NewKind,
    form: &FormFields,
    errors: FieldErrors,
    csrf: &CsrfToken,
    choices: &[Listed],
) -> AuthoringPage {
    let sections = new_sections(kind).into_iter().map(|(section, shape, heading)| section_view(form, &errors, &section.prefix, heading, shape)).collect();
    let (title, intro) = match kind {
        NewKind::MicroBadge => (
            "New micro-badge".to_string(),
            format!(
                "A stand-alone credential from {organisation_name}, assessed against a public rubric. It is saved as a draft; publish it when it is ready."
            ),
        ),
        NewKind::MicroCredential => (
            "New micro-credential".to_string(),
            format!(
                "A stack of three level badges from {organisation_name}: the micro-credential is awarded when a learner holds all three. Each level is assessed against its own public rubric. Everything is saved as a draft."
            ),
        ),
        NewKind::Composed => (
            "New micro-credential from existing micro-badges".to_string(),
            format!(
                "A micro-credential from {organisation_name} whose levels are micro-badges you already publish: it is awarded when a learner holds them all. It is saved as a draft."
            ),
        ),
        NewKind::Certificate => (
            "New certificate".to_string(),
            format!(
                "A larger qualification from {organisation_name}, made of micro-credentials and micro-badges: it is awarded automatically once a learner's badges meet its rule. It is saved as a draft."
            ),
        ),
    };
    let any_order = matches!(kind, NewKind::MicroCredential | NewKind::Composed).then(|| form.get("levels_in_any_order") == "1");
    let requirements = requirements_view(kind, organisation, form, &errors, choices);
    AuthoringPage {
        layout,
        title,
        intro,
        action: format!("/issuers/{organisation}/achievements/new"),
        kind: kind.as_str().to_string(),
        submit_label: "Save draft".to_string(),
        cancel_href: format!("/issuers/{organisation}/manage"),
        errors,
        sections,
        warning: None,
        locked: false,
        image: None,
        any_order,
        requirements,
        csrf: csrf.0.clone(),
    }
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let kind = NewKind::parse(query.kind.as_deref())?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/achievements/new?kind={}", kind.as_str())));
    }
    let (organisation, choices) = stacks::authoring_with_choices(&state.app, &viewer.actor, id, needs_choices(kind)).await?;
    let mut values = Vec::new();
    for (section, shape, _) in new_sections(kind) {
        values.extend(default_values(&section.prefix, shape));
    }
    let layout = Layout::new(&viewer, &csrf, None);
    render(&new_page(layout, (id, &organisation.profile.name), kind, &FormFields(values), FieldErrors::default(), &csrf, &choices))
}

/// Whether the form offers existing achievements as components.
fn needs_choices(kind: NewKind) -> bool {
    matches!(kind, NewKind::Composed | NewKind::Certificate)
}

/// A refused write shown on the form: field rules (422) or a name already taken (409).
fn form_errors(problem: &Problem, sections: &[Section], level_sections: bool) -> Option<FieldErrors> {
    match (problem.status, problem.slug) {
        (StatusCode::UNPROCESSABLE_ENTITY, _) => Some(place_errors(&problem.errors, sections, level_sections)),
        (StatusCode::CONFLICT, "conflict") => {
            let mut errors = FieldErrors::default();
            errors.add(sections.first().and_then(|s| s.locate("/name")), &problem.detail);
            Some(errors)
        }
        _ => None,
    }
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    Query(query): Query<NewQuery>,
    form: FormFields,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let kind = NewKind::parse(form.opt("kind").as_deref().or(query.kind.as_deref()))?;
    let (fields, sections) = parse_new(&form, kind);
    match achievements::create(&state.app, &viewer.actor, id, &fields).await.map_err(Problem::from) {
        Ok(achievement) => Ok(see_other_with(&format!("/achievements/{}", achievement.id), "created")),
        Err(problem) => {
            let Some(errors) = form_errors(&problem, &sections, kind == NewKind::MicroCredential) else { return Err(problem) };
            let (organisation, choices) = stacks::authoring_with_choices(&state.app, &viewer.actor, id, needs_choices(kind)).await?;
            let page = new_page(Layout::new(&viewer, &csrf, None), (id, &organisation.profile.name), kind, &form, errors, &csrf, &choices);
            render_status(problem.status, &page)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Editing

/// How an achievement is edited: its content and, for a micro-credential, a rubric only when it
/// already has one (it is awarded by holding its levels).
fn edit_shape(achievement: &Achievement) -> Shape {
    match achievement.kind {
        Kind::Certificate => COMPOSED,
        Kind::MicroCredential if achievement.content.rubric.is_none() => CREDENTIAL,
        Kind::MicroCredential => Shape { renewal: false, ..FULL },
        _ => FULL,
    }
}

fn edit_page(layout: Layout, achievement: &Achievement, form: &FormFields, errors: FieldErrors, csrf: &CsrfToken) -> AuthoringPage {
    let shape = edit_shape(achievement);
    let what = match achievement.kind {
        Kind::Level(n) => level_heading(n),
        kind => kind.label(),
    };
    let warning = match achievement.state {
        LifeCycle::Draft => None,
        LifeCycle::Published => Some(format!(
            "This {} is published. Saving creates version {}; awards already made keep the version they were assessed under.",
            what.to_lowercase(),
            achievement.version + 1
        )),
        LifeCycle::Retired => Some("This achievement is retired, so it cannot be edited. Publish it again first.".to_string()),
    };
    let intro = match achievement.kind {
        Kind::Level(_) => {
            "A level of a micro-credential, with its own criteria and public rubric. It is published and retired with its micro-credential.".to_string()
        }
        Kind::MicroCredential => "The micro-credential’s own description; each level is edited on its own page.".to_string(),
        Kind::MicroBadge => "A stand-alone credential, assessed against its public rubric.".to_string(),
        Kind::Certificate => "The certificate’s own description; its rule and components stay as they were created.".to_string(),
    };
    AuthoringPage {
        layout,
        title: format!("Edit {}", achievement.content.name),
        intro,
        action: format!("/achievements/{}/edit", achievement.id),
        kind: achievement.kind.as_str().to_string(),
        submit_label: if achievement.state == LifeCycle::Published { "Save as a new version".into() } else { "Save draft".into() },
        cancel_href: format!("/achievements/{}", achievement.id),
        sections: vec![section_view(form, &errors, "", None, shape)],
        errors,
        warning,
        locked: achievement.state == LifeCycle::Retired,
        image: Some(ImageForm {
            action: format!("/achievements/{}/image", achievement.id),
            url: format!("/achievements/{}/image", achievement.id),
            max_text: format!("PNG or SVG, up to {} MB.", MAX_IMAGE_BYTES / (1024 * 1024)),
        }),
        any_order: None,
        requirements: None,
        csrf: csrf.0.clone(),
    }
}

async fn edit_form(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&raw, "achievement")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/achievements/{id}/edit")));
    }
    let achievement = achievements::editable(&state.app, &viewer.actor, id).await?;
    let form = FormFields(section_values("", &achievement.content.to_fields()));
    render(&edit_page(Layout::new(&viewer, &csrf, None), &achievement, &form, FieldErrors::default(), &csrf))
}

async fn update(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&raw, "achievement")?;
    let current = achievements::editable(&state.app, &viewer.actor, id).await?;
    let mut section = Section::new("", "");
    let fields = section.parse(&form, edit_shape(&current));
    match achievements::update(&state.app, &viewer.actor, id, &fields).await.map_err(Problem::from) {
        Ok(updated) => {
            let notice = if updated.content == current.content { "unchanged" } else { "saved" };
            Ok(see_other_with(&format!("/achievements/{id}"), notice))
        }
        Err(problem) => {
            let sections = [section];
            let Some(errors) = form_errors(&problem, &sections, false) else { return Err(problem) };
            render_status(problem.status, &edit_page(Layout::new(&viewer, &csrf, None), &current, &form, errors, &csrf))
        }
    }
}

async fn upload_image(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, request: Request) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&raw, "achievement")?;
    let (bytes, declared) = image_upload(&csrf, request).await?;
    achievements::set_image(&state.app, &viewer.actor, id, &bytes, declared.as_deref()).await?;
    Ok(see_other_with(&format!("/achievements/{id}/edit"), "image-saved"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormFields {
        FormFields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn blank_rows_and_columns_are_dropped_and_remembered() {
        let form = form(&[
            ("name", "SQL"),
            ("level_0", "Developing"),
            ("level_1", ""),
            ("level_2", "Proficient"),
            ("criterion_0_name", ""),
            ("criterion_1_name", "Correctness"),
            ("criterion_1_required_level", "3"),
            ("criterion_1_descriptor_0", "Some wrong"),
            ("criterion_1_descriptor_2", "All right"),
            ("alignment_0_target_name", ""),
            ("alignment_1_target_name", "SQL"),
            ("alignment_1_target_url", "https://example.org/sql"),
        ]);
        let mut section = Section::new("", "");
        let fields = section.parse(&form, FULL);
        let rubric = fields.rubric.expect("a rubric");
        assert_eq!(rubric.levels, ["Developing", "Proficient"]);
        assert_eq!(rubric.criteria.len(), 1);
        assert_eq!(rubric.criteria[0].required_level, "Proficient");
        assert_eq!(rubric.criteria[0].descriptors, ["Some wrong", "All right"]);
        assert_eq!(fields.alignments.len(), 1);
        assert_eq!(section.locate("/rubric/criteria/0/descriptors/1"), Some(("criterion_1_descriptor_2".into(), "Criterion 2 at Proficient".into())));
        assert_eq!(section.locate("/alignments/0/target_url"), Some(("alignment_1_target_url".into(), "Competency 2 URL".into())));
        assert_eq!(section.locate("/rubric/levels/1"), Some(("level_2".into(), "Performance level 3".into())));
        assert_eq!(section.locate("/nonsense"), None);
    }

    #[test]
    fn a_descriptor_under_an_unnamed_column_asks_for_the_name() {
        let form = form(&[("level_0", "A"), ("criterion_0_name", "X"), ("criterion_0_descriptor_0", "a"), ("criterion_0_descriptor_3", "d")]);
        let mut section = Section::new("", "");
        let rubric = section.parse(&form, FULL).rubric.expect("a rubric");
        assert_eq!(rubric.levels, ["A", ""]);
        assert_eq!(section.level_columns, [0, 3]);
    }

    #[test]
    fn level_errors_land_in_their_section() {
        let form = form(&[("kind", "micro-credential"), ("level2_criterion_0_name", "Joins")]);
        let (fields, sections) = parse_new(&form, NewKind::MicroCredential);
        assert_eq!(fields.levels.len(), 3);
        let errors = vec![
            FieldError { pointer: "/levels/1/rubric/criteria/0/name".into(), detail: "appears twice".into() },
            FieldError { pointer: "/levels/2/name".into(), detail: "is required".into() },
            FieldError { pointer: "/name".into(), detail: "is required".into() },
            FieldError { pointer: "/levels".into(), detail: "needs three".into() },
        ];
        let placed = place_errors(&errors, &sections, true);
        assert_eq!(placed.at("level2_criterion_0_name").as_deref(), Some("Appears twice."));
        assert_eq!(placed.at("level3_name").as_deref(), Some("Is required."));
        assert_eq!(placed.at("name").as_deref(), Some("Is required."));
        assert_eq!(placed.summary[1].message, "Level 3 · Name: is required.");
        assert_eq!(placed.summary[3].href, None);
    }

    #[test]
    fn stored_content_round_trips_through_the_form() {
        let fields = cairn_core::demo::micro_badges().remove(1).content;
        let form = FormFields(section_values("", &fields));
        let mut section = Section::new("", "");
        let parsed = section.parse(&form, FULL);
        assert_eq!(parsed.name, fields.name);
        assert_eq!(parsed.alignments, fields.alignments);
        let (a, b) = (parsed.rubric.expect("rubric"), fields.rubric.expect("rubric"));
        assert_eq!(a.levels, b.levels);
        assert_eq!(
            a.criteria.iter().map(|c| (&c.name, &c.descriptors)).collect::<Vec<_>>(),
            b.criteria.iter().map(|c| (&c.name, &c.descriptors)).collect::<Vec<_>>()
        );
        assert_eq!(
            a.criteria.iter().map(|c| c.required_level.to_lowercase()).collect::<Vec<_>>(),
            b.criteria.iter().map(|c| c.required_level.to_lowercase()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unreadable_numbers_get_clear_messages() {
        let form = form(&[("effort_hours", "a while"), ("validity_months", "two years")]);
        let mut section = Section::new("", "");
        let fields = section.parse(&form, FULL);
        assert!(fields.effort_hours.is_some_and(f64::is_nan));
        assert_eq!(fields.validity_months, Some(-1));
        assert!(section.overrides["/effort_hours"].contains("not a number of hours"));
    }
}
