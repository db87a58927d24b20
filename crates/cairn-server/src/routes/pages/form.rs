//! Form fields as templates see them: one [`Field`] carries its id, label, typed value, hint and
//! error, so `macros.html` renders every input the same accessible way; plus the error summary.

use std::collections::HashMap;

use cairn_core::FieldError;

/// One option of a `<select>`.
#[derive(Debug, Clone)]
pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl SelectOption {
    /// Options from `(value, label)` pairs, with `current` selected.
    pub(crate) fn list(pairs: &[(&str, &str)], current: &str) -> Vec<SelectOption> {
        pairs.iter().map(|(value, label)| SelectOption { value: value.to_string(), label: label.to_string(), selected: *value == current }).collect()
    }
}

/// An input, textarea or select with everything needed to render and explain it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The element id (unique on the page).
    pub id: String,
    /// The form field name; the id unless set.
    pub name: String,
    pub label: String,
    /// Keep the label for screen readers only (cells of a grid whose header names them).
    pub label_hidden: bool,
    pub value: String,
    pub hint: Option<String>,
    pub error: Option<String>,
    /// `text`, `email`, `url`, `password`, `number`, `textarea` or `select`.
    pub kind: &'static str,
    pub required: bool,
    pub autocomplete: Option<&'static str>,
    pub options: Vec<SelectOption>,
    /// Visible rows of a textarea.
    pub rows: u8,
    pub maxlength: Option<u32>,
    /// Extra `inputmode` (e.g. `decimal`).
    pub inputmode: Option<&'static str>,
    /// Extra CSS class on the wrapper (`field-wide`, `field-small`).
    pub class: &'static str,
}

impl Field {
    pub(crate) fn new(id: impl Into<String>, label: impl Into<String>, value: impl Into<String>) -> Self {
        let id = id.into();
        Field {
            name: id.clone(),
            id,
            label: label.into(),
            label_hidden: false,
            value: value.into(),
            hint: None,
            error: None,
            kind: "text",
            required: false,
            autocomplete: None,
            options: Vec::new(),
            rows: 4,
            maxlength: None,
            inputmode: None,
            class: "",
        }
    }

    pub(crate) fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub(crate) fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn textarea(mut self, rows: u8) -> Self {
        self.kind = "textarea";
        self.rows = rows;
        self
    }

    pub(crate) fn select(mut self, options: Vec<SelectOption>) -> Self {
        self.kind = "select";
        self.options = options;
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) fn autocomplete(mut self, value: &'static str) -> Self {
        self.autocomplete = Some(value);
        self
    }

    pub(crate) fn maxlength(mut self, max: u32) -> Self {
        self.maxlength = Some(max);
        self
    }

    pub(crate) fn inputmode(mut self, mode: &'static str) -> Self {
        self.inputmode = Some(mode);
        self
    }

    pub(crate) fn hidden_label(mut self) -> Self {
        self.label_hidden = true;
        self
    }

    pub(crate) fn class(mut self, class: &'static str) -> Self {
        self.class = class;
        self
    }

    /// Attaches the error recorded for this field, if any.
    pub(crate) fn error_from(mut self, errors: &FieldErrors) -> Self {
        self.error = errors.by_field.get(&self.id).cloned();
        self
    }

    /// The ids of the hint and error, for `aria-describedby`.
    pub(crate) fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

/// One line of the error summary: the message, and the field it links to when there is one.
#[derive(Debug, Clone)]
pub(crate) struct SummaryItem {
    pub href: Option<String>,
    pub message: String,
}

/// A choice of `achievements` (name and kind), after a "Choose an achievement" prompt; `chosen`
/// is the id sent before, if any.
pub(crate) fn achievement_options(achievements: &[cairn_core::achievement::Achievement], chosen: &str) -> Vec<SelectOption> {
    let mut options = vec![SelectOption { value: String::new(), label: "Choose an achievement".into(), selected: chosen.is_empty() }];
    options.extend(achievements.iter().map(|a| SelectOption {
        value: a.id.to_string(),
        label: format!("{} ({})", a.content.name, a.kind.label()),
        selected: a.id.to_string() == chosen,
    }));
    options
}

/// The name and password of an account created on a link's page (an invitation, a claim), by the
/// sign-up rules; `name_hint` says where the name is shown. Their errors are placed by
/// [`FieldErrors::new_account`].
pub(crate) fn new_account_fields(name: &str, name_hint: &str, errors: &FieldErrors) -> (Field, Field) {
    (
        Field::new("name", "Your name", name).required().autocomplete("name").maxlength(100).hint(name_hint).error_from(errors),
        Field::new("password", "Password", "")
            .kind("password")
            .required()
            .autocomplete("new-password")
            .hint(format!("At least {} characters; a few unrelated words make a strong one.", cairn_core::account::MIN_PASSWORD_CHARS))
            .error_from(errors),
    )
}

/// Errors placed on fields (by field id) and listed in a summary, in the order they came.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldErrors {
    pub by_field: HashMap<String, String>,
    pub summary: Vec<SummaryItem>,
}

impl FieldErrors {
    /// Places each error with `locate`, which turns a JSON pointer into a field id and a label
    /// for the summary (or `None` when no single field is to blame).
    pub(crate) fn place(errors: &[FieldError], locate: impl Fn(&str) -> Option<(String, String)>) -> FieldErrors {
        let mut placed = FieldErrors::default();
        for error in errors {
            placed.add(locate(&error.pointer), &error.detail);
        }
        placed
    }

    /// A refused form's problem placed on its fields with `locate`; a problem that names no field
    /// (a conflict) is said at the field `fallback` points at, or for the form as a whole.
    pub(crate) fn from_problem(problem: &crate::problem::Problem, locate: impl Fn(&str) -> Option<(String, String)>, fallback: Option<&str>) -> FieldErrors {
        if problem.errors.is_empty() {
            let mut errors = FieldErrors::default();
            errors.add(fallback.and_then(&locate), &problem.detail);
            errors
        } else {
            FieldErrors::place(&problem.errors, locate)
        }
    }

    /// A new account's errors (`/name`, `/password`) placed on [`new_account_fields`].
    pub(crate) fn new_account(errors: &[FieldError]) -> FieldErrors {
        FieldErrors::place(errors, |pointer| match pointer {
            "/name" => Some(("name".to_string(), "Your name".to_string())),
            "/password" => Some(("password".to_string(), "Password".to_string())),
            _ => None,
        })
    }

    /// Records one error at a field (`Some((id, label))`) or for the form as a whole.
    pub(crate) fn add(&mut self, at: Option<(String, String)>, detail: &str) {
        let plain = with_period(detail.trim());
        let detail = sentence(detail);
        match at {
            Some((id, label)) => {
                self.summary.push(SummaryItem { href: Some(format!("#{id}")), message: format!("{label}: {plain}") });
                self.by_field
                    .entry(id)
                    .and_modify(|existing| {
                        existing.push(' ');
                        existing.push_str(&detail);
                    })
                    .or_insert(detail);
            }
            None => self.summary.push(SummaryItem { href: None, message: detail }),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.summary.is_empty()
    }

    /// The error at a field id.
    pub(crate) fn at(&self, id: &str) -> Option<String> {
        self.by_field.get(id).cloned()
    }
}

/// A domain message ("is required") as a sentence ("Is required.").
pub(crate) fn sentence(detail: &str) -> String {
    let detail = detail.trim();
    let mut chars = detail.chars();
    match chars.next() {
        Some(first) => with_period(&first.to_uppercase().chain(chars).collect::<String>()),
        None => String::new(),
    }
}

fn with_period(text: &str) -> String {
    if text.is_empty() || text.ends_with(['.', '!', '?']) { text.to_string() } else { format!("{text}.") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_sentences_on_their_fields() {
        let errors = vec![
            FieldError { pointer: "/name".into(), detail: "is required".into() },
            FieldError { pointer: "/name".into(), detail: "appears twice".into() },
            FieldError { pointer: "/kind".into(), detail: "\"x\" is not a kind".into() },
        ];
        let placed = FieldErrors::place(&errors, |p| (p == "/name").then(|| ("name".to_string(), "Name".to_string())));
        assert_eq!(placed.at("name").as_deref(), Some("Is required. Appears twice."));
        assert_eq!(placed.summary.len(), 3);
        assert_eq!(placed.summary[0].href.as_deref(), Some("#name"));
        assert_eq!(placed.summary[0].message, "Name: is required.");
        assert_eq!(placed.summary[2].href, None);
        assert_eq!(placed.summary[2].message, "\"x\" is not a kind.");
    }
}
