//! Field-level validation errors, addressed by JSON Pointer so forms and the API can show each one in place.

use std::fmt;

/// One broken field rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the field in the API's input shape, e.g. `/rubric/criteria/0/name`.
    pub pointer: String,
    /// What is wrong, lower-case, quoting the value where that helps.
    pub detail: String,
}

/// Input that broke one or more field rules; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invalid {
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one broken rule.
    pub fn push(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.errors.push(FieldError { pointer: pointer.into(), detail: detail.into() });
    }

    /// A single broken rule.
    pub fn one(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut invalid = Self::new();
        invalid.push(pointer, detail);
        invalid
    }

    /// Folds the errors of a nested value under `prefix`.
    pub fn extend_under(&mut self, prefix: &str, other: Invalid) {
        for error in other.errors {
            self.errors.push(FieldError { pointer: format!("{prefix}{}", error.pointer), detail: error.detail });
        }
    }

    /// `Ok(value)` when no rule was broken.
    pub fn into_result<T>(self, value: T) -> Result<T, Invalid> {
        if self.errors.is_empty() { Ok(value) } else { Err(self) }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The detail of the first error at `pointer`, for forms.
    pub fn at(&self, pointer: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.pointer == pointer).map(|e| e.detail.as_str())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(|e| format!("{}: {}", e.pointer, e.detail)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Invalid {}

/// The first character that text may not hold: NUL and the other control characters (C0, DEL
/// and C1) except tab, line feed and carriage return. PostgreSQL cannot store NUL at all, and some
/// Open Badges verifiers refuse control characters inside signed strings, so every text field is
/// held to this on both databases.
pub fn forbidden_char(value: &str) -> Option<char> {
    value.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The message for a text holding [`forbidden_char`] `c`, naming it by code point.
pub fn forbidden_char_message(c: char) -> String {
    format!("must not contain control characters (found U+{:04X})", u32::from(c))
}

/// Records an error when `value` holds a [`forbidden_char`]; returns whether it was clean.
pub(crate) fn printable(invalid: &mut Invalid, pointer: &str, value: &str) -> bool {
    match forbidden_char(value) {
        Some(c) => {
            invalid.push(pointer, forbidden_char_message(c));
            false
        }
        None => true,
    }
}

/// Trims `value` and checks its length in characters; records an error when out of range or
/// when it holds a control character ([`forbidden_char`]).
pub(crate) fn text(invalid: &mut Invalid, pointer: &str, value: &str, min: usize, max: usize) -> String {
    let trimmed = value.trim();
    if !printable(invalid, pointer, trimmed) {
        return String::new();
    }
    let count = trimmed.chars().count();
    if count < min {
        if min == 1 {
            invalid.push(pointer, "is required");
        } else {
            invalid.push(pointer, format!("must be at least {min} characters"));
        }
    } else if count > max {
        invalid.push(pointer, format!("must be at most {max} characters (got {count})"));
    }
    trimmed.to_string()
}

/// Multi-line text: line endings normalised ([`crate::submission::clean_text`]), then checked as
/// [`text`].
pub(crate) fn multiline(invalid: &mut Invalid, pointer: &str, value: &str, min: usize, max: usize) -> String {
    match crate::submission::clean_text(value) {
        Ok(cleaned) => text(invalid, pointer, &cleaned, min, max),
        Err(message) => {
            invalid.push(pointer, message);
            String::new()
        }
    }
}

/// Checks that `value` is an absolute http(s) URL.
pub(crate) fn http_url(invalid: &mut Invalid, pointer: &str, value: &str) -> Option<url::Url> {
    let trimmed = value.trim();
    match url::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() && trimmed.len() <= 2048 => Some(url),
        _ => {
            invalid.push(pointer, format!("\"{}\" is not an http(s) URL", clip(trimmed)));
            None
        }
    }
}

/// Shortens a quoted value for an error message.
pub fn clip(value: &str) -> String {
    if value.chars().count() <= 60 { value.to_string() } else { format!("{}…", value.chars().take(60).collect::<String>()) }
}
