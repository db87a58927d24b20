//! Public rubrics: criteria scored at ordered levels, each criterion with the level a pass requires.

use crate::invalid::{self, Invalid};

/// Most levels a rubric may have.
pub const MAX_LEVELS: usize = 6;
/// Most criteria a rubric may have.
pub const MAX_CRITERIA: usize = 20;

/// A validated rubric: 2–6 ordered levels (lowest first) and 1–20 criteria.
#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    /// Level names, lowest first (e.g. Beginning, Developing, Proficient, Exemplary).
    pub levels: Vec<String>,
    pub criteria: Vec<Criterion>,
}

/// One thing the assessor judges.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// Stable slug, unique within the rubric (used in results and credentials).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Index into [`Rubric::levels`] of the lowest level that passes.
    pub required_level: usize,
    /// What work at each level looks like, one per level.
    pub descriptors: Vec<String>,
}

/// A rubric as typed in a form or sent to the API, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RubricFields {
    pub levels: Vec<String>,
    pub criteria: Vec<CriterionFields>,
}

/// A criterion before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CriterionFields {
    /// Optional slug; derived from the name when absent.
    pub id: Option<String>,
    pub name: String,
    pub description: String,
    /// A level name (case-insensitive) or its 1-based number.
    pub required_level: String,
    pub descriptors: Vec<String>,
}

impl Rubric {
    /// Applies the rubric rules.
    ///
    /// # Errors
    /// Every broken rule, with pointers relative to the rubric (`/levels/1`, `/criteria/0/name`).
    pub fn parse(fields: &RubricFields) -> Result<Rubric, Invalid> {
        let mut invalid = Invalid::new();
        if fields.levels.len() < 2 || fields.levels.len() > MAX_LEVELS {
            invalid.push("/levels", format!("a rubric needs 2 to {MAX_LEVELS} levels (got {})", fields.levels.len()));
        }
        let mut levels: Vec<String> = Vec::new();
        for (i, level) in fields.levels.iter().enumerate() {
            let name = invalid::text(&mut invalid, &format!("/levels/{i}"), level, 1, 60);
            if levels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
                invalid.push(format!("/levels/{i}"), format!("level \"{name}\" appears twice"));
            }
            levels.push(name);
        }
        if fields.criteria.is_empty() || fields.criteria.len() > MAX_CRITERIA {
            invalid.push("/criteria", format!("a rubric needs 1 to {MAX_CRITERIA} criteria (got {})", fields.criteria.len()));
        }
        let mut criteria: Vec<Criterion> = Vec::new();
        for (i, c) in fields.criteria.iter().enumerate() {
            let at = |field: &str| format!("/criteria/{i}/{field}");
            let name = invalid::text(&mut invalid, &at("name"), &c.name, 1, 120);
            let description = invalid::text(&mut invalid, &at("description"), &c.description, 0, 1000);
            let id = match c.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(id) if is_slug(id) => id.to_string(),
                Some(id) => {
                    invalid.push(at("id"), format!("\"{}\" is not a slug (lower-case letters, digits and dashes)", invalid::clip(id)));
                    id.to_string()
                }
                None => slugify(&name),
            };
            if criteria.iter().any(|other| other.id == id) {
                invalid.push(at("id"), format!("criterion id \"{id}\" appears twice"));
            }
            if criteria.iter().any(|other| other.name.eq_ignore_ascii_case(&name)) {
                invalid.push(at("name"), format!("criterion \"{name}\" appears twice"));
            }
            let required_level = match resolve_level(&levels, &c.required_level) {
                Some(index) => index,
                None => {
                    invalid.push(at("required_level"), format!("\"{}\" is not a level of this rubric", invalid::clip(c.required_level.trim())));
                    0
                }
            };
            if c.descriptors.len() != levels.len() {
                invalid.push(at("descriptors"), format!("needs one descriptor per level ({}; got {})", levels.len(), c.descriptors.len()));
            }
            let descriptors =
                c.descriptors.iter().enumerate().map(|(j, d)| invalid::text(&mut invalid, &format!("/criteria/{i}/descriptors/{j}"), d, 1, 1000)).collect();
            criteria.push(Criterion { id, name, description, required_level, descriptors });
        }
        invalid.into_result(Rubric { levels, criteria })
    }

    /// The name of the level a criterion requires.
    pub fn required_level_name(&self, criterion: &Criterion) -> &str {
        self.levels.get(criterion.required_level).map(String::as_str).unwrap_or("")
    }

    /// Back to fields, for editing forms.
    pub fn to_fields(&self) -> RubricFields {
        RubricFields {
            levels: self.levels.clone(),
            criteria: self
                .criteria
                .iter()
                .map(|c| CriterionFields {
                    id: Some(c.id.clone()),
                    name: c.name.clone(),
                    description: c.description.clone(),
                    required_level: self.required_level_name(c).to_string(),
                    descriptors: c.descriptors.clone(),
                })
                .collect(),
        }
    }
}

pub(crate) fn resolve_level(levels: &[String], raw: &str) -> Option<usize> {
    let raw = raw.trim();
    if let Some(index) = levels.iter().position(|l| l.eq_ignore_ascii_case(raw)) {
        return Some(index);
    }
    match raw.parse::<usize>() {
        Ok(n) if n >= 1 && n <= levels.len() => Some(n - 1),
        _ => None,
    }
}

/// Whether `value` is a slug: 1–64 lower-case ASCII letters, digits and single inner dashes.
pub fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--")
}

/// A slug from free text: ASCII letters and digits kept, everything else folded to single dashes.
pub fn slugify(value: &str) -> String {
    let mut slug = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 64 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() { "criterion".to_string() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criterion(name: &str, required: &str, descriptors: usize) -> CriterionFields {
        CriterionFields {
            id: None,
            name: name.into(),
            description: "what it checks".into(),
            required_level: required.into(),
            descriptors: (0..descriptors).map(|i| format!("descriptor {i}")).collect(),
        }
    }

    fn fields(levels: &[&str], criteria: Vec<CriterionFields>) -> RubricFields {
        RubricFields { levels: levels.iter().map(|s| s.to_string()).collect(), criteria }
    }

    #[track_caller]
    fn check(fields: RubricFields, expected_errors: &[&str]) {
        match Rubric::parse(&fields) {
            Ok(_) => assert!(expected_errors.is_empty(), "expected errors {expected_errors:?}"),
            Err(invalid) => {
                let got: Vec<String> = invalid.errors.iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect();
                assert_eq!(got, expected_errors);
            }
        }
    }

    #[test]
    fn rubric_rules() {
        check(fields(&["Developing", "Proficient"], vec![criterion("Query design", "proficient", 2)]), &[]);
        check(fields(&["Developing", "Proficient"], vec![criterion("Query design", "2", 2)]), &[]);
        check(fields(&["Only"], vec![criterion("A", "Only", 1)]), &["/levels a rubric needs 2 to 6 levels (got 1)"]);
        check(fields(&["A", "B"], vec![]), &["/criteria a rubric needs 1 to 20 criteria (got 0)"]);
        check(fields(&["A", "a"], vec![criterion("X", "A", 2)]), &["/levels/1 level \"a\" appears twice"]);
        check(fields(&["A", "B"], vec![criterion("X", "C", 2)]), &["/criteria/0/required_level \"C\" is not a level of this rubric"]);
        check(fields(&["A", "B"], vec![criterion("X", "3", 2)]), &["/criteria/0/required_level \"3\" is not a level of this rubric"]);
        check(fields(&["A", "B"], vec![criterion("X", "A", 1)]), &["/criteria/0/descriptors needs one descriptor per level (2; got 1)"]);
        check(
            fields(&["A", "B"], vec![criterion("X", "A", 2), criterion("x", "A", 2)]),
            &["/criteria/1/id criterion id \"x\" appears twice", "/criteria/1/name criterion \"x\" appears twice"],
        );
        check(fields(&["A", "B"], vec![criterion(" ", "A", 2)]), &["/criteria/0/name is required"]);
    }

    #[test]
    fn required_level_resolves_to_an_index() {
        let rubric = Rubric::parse(&fields(&["Developing", "Proficient", "Exemplary"], vec![criterion("Design", "Proficient", 3)])).unwrap();
        assert_eq!(rubric.criteria[0].required_level, 1);
        assert_eq!(rubric.required_level_name(&rubric.criteria[0]), "Proficient");
        assert_eq!(rubric.criteria[0].id, "design");
        assert_eq!(Rubric::parse(&rubric.to_fields()).unwrap(), rubric);
    }

    #[test]
    fn slugs_are_derived_and_checked() {
        assert_eq!(slugify("Query design & tuning!"), "query-design-tuning");
        assert_eq!(slugify("¿¡"), "criterion");
        assert!(is_slug("a-b-1"));
        assert!(!is_slug("A"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
    }
}
