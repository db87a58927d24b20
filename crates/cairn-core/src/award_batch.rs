//! Bulk award: a CSV file of direct awards, one per row, with the columns `email`, `name` and
//! `achievement_id`, and optionally `narrative` and `evidence_url` (any order, names in any case).
//! Each row is checked like a direct award ([`crate::offer::NewOffer::parse`]); a row that repeats
//! an earlier row's achievement and address is skipped, so nobody is awarded twice from one file.
//! Rows are numbered as a spreadsheet shows them: the header is row 1.

use std::collections::HashMap;

use crate::invalid::Invalid;
use crate::offer::{EvidenceFields, NewOffer, OfferFields};

/// Most rows in one file.
pub const MAX_ROWS: usize = 10_000;
/// Largest file, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The columns a file must have.
pub const REQUIRED_COLUMNS: [&str; 3] = ["email", "name", "achievement_id"];
/// The columns a file may also have.
pub const OPTIONAL_COLUMNS: [&str; 2] = ["narrative", "evidence_url"];

/// One row as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFields {
    pub email: String,
    pub name: String,
    pub achievement_id: String,
    pub narrative: String,
    pub evidence_url: String,
}

impl RowFields {
    /// The row as a direct award's fields.
    pub fn offer_fields(&self) -> OfferFields {
        OfferFields {
            achievement_id: self.achievement_id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            narrative: Some(self.narrative.clone()),
            evidence: if self.evidence_url.trim().is_empty() { Vec::new() } else { vec![EvidenceFields { url: self.evidence_url.clone(), name: None }] },
            results: Vec::new(),
        }
    }
}

/// What the check of one row found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCheck {
    /// A direct award to make.
    Award(NewOffer),
    /// Nothing to do, and why (a repeat of an earlier row).
    Skip(String),
    /// What is wrong with it.
    Fail(String),
}

/// One checked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRow {
    /// As a spreadsheet numbers it: the header is row 1.
    pub row: u32,
    pub fields: RowFields,
    pub check: RowCheck,
}

/// Reads and checks a file. Every row is returned with what its check found; the file as a
/// whole is refused only when it cannot be read as such a CSV at all.
///
/// # Errors
/// [`Invalid`] at `/file` for a file that is too large, not UTF-8 or not CSV, lacks a required
/// column, names an unknown or repeated one, or has no rows or too many.
pub fn parse(bytes: &[u8]) -> Result<Vec<CheckedRow>, Invalid> {
    let fail = |message: String| Invalid::one("/file", message);
    if bytes.len() > MAX_BYTES {
        return Err(fail(format!("the file is larger than {} MB", MAX_BYTES / (1024 * 1024))));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| fail("the file is not UTF-8 text: save it as \"CSV UTF-8\"".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| fail(format!("the file is not CSV: {e}")))?.clone();
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    for (index, header) in headers.iter().enumerate() {
        let name = header.to_ascii_lowercase().replace([' ', '-'], "_");
        let Some(known) = REQUIRED_COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).find(|c| **c == name) else {
            if header.is_empty() {
                continue;
            }
            return Err(fail(format!(
                "unknown column \"{}\": the columns are {}, and optionally {}",
                crate::invalid::clip(header),
                REQUIRED_COLUMNS.join(", "),
                OPTIONAL_COLUMNS.join(", ")
            )));
        };
        if columns.insert(known, index).is_some() {
            return Err(fail(format!("the column \"{known}\" appears twice")));
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS.iter().copied().filter(|c| !columns.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(fail(format!("the first row must name the columns; missing: {}", missing.join(", "))));
    }
    let mut rows = Vec::new();
    let mut first_of: HashMap<(String, String), u32> = HashMap::new();
    // Rows as a spreadsheet numbers them: the header is row 1, a blank line is a row of its own
    // (the reader skips it: it is counted from the line breaks before the record), and a quoted
    // cell over several lines stays in one row.
    let mut row: u32 = 1;
    for record in reader.records() {
        let record = record.map_err(|e| fail(format!("the file is not CSV: {e}")))?;
        let start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let blank_lines = text.as_bytes().get(start..).unwrap_or_default().iter().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|b| **b == b'\n').count();
        row = row.saturating_add(1).saturating_add(u32::try_from(blank_lines).unwrap_or(u32::MAX));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(fail(format!("at most {MAX_ROWS} rows per file: split it")));
        }
        let get = |column: &str| columns.get(column).and_then(|&i| record.get(i)).unwrap_or("").to_string();
        let fields = RowFields {
            email: get("email"),
            name: get("name"),
            achievement_id: get("achievement_id"),
            narrative: get("narrative"),
            evidence_url: get("evidence_url"),
        };
        let check = match NewOffer::parse(&fields.offer_fields()) {
            Err(invalid) => RowCheck::Fail(describe(&invalid)),
            Ok(offer) => match first_of.get(&(offer.achievement.to_string(), offer.email.to_string())) {
                Some(first) => RowCheck::Skip(format!("repeats row {first}: the same achievement to the same address")),
                None => {
                    first_of.insert((offer.achievement.to_string(), offer.email.to_string()), row);
                    RowCheck::Award(offer)
                }
            },
        };
        rows.push(CheckedRow { row, fields, check });
    }
    if rows.is_empty() {
        return Err(fail("the file has no rows below its header".into()));
    }
    Ok(rows)
}

/// A row's problems in words, each named by its column.
fn describe(invalid: &Invalid) -> String {
    invalid
        .errors
        .iter()
        .map(|e| {
            let column = match e.pointer.as_str() {
                "/recipient/email" => "email",
                "/recipient/name" => "name",
                "/achievement_id" => "achievement_id",
                "/narrative" => "narrative",
                _ => "evidence_url",
            };
            format!("{column} {}", e.detail)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AchievementId;

    #[test]
    fn rows_are_read_by_their_column_names_and_checked_one_by_one() {
        let badge = AchievementId::new();
        let file = format!(
            "\u{feff}Name,E-mail,Achievement ID,Evidence URL,Narrative\n\
             Ada Lovelace,ada@example.org,{badge},https://example.org/ada,\n\
             \r\n\
             \"Hopper, Grace\",GRACE@example.org,{badge},,\"Assessed on site:\npassed.\"\n\
             Nobody,not an address,nope,javascript:x,\n\
             Ada again,Ada@Example.org,{badge},,\n"
        )
        .replace("E-mail", "email");
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 4, 5, 6], "numbered as a spreadsheet shows them");
        let RowCheck::Award(ada) = &rows[0].check else { panic!("{:?}", rows[0]) };
        assert_eq!((ada.name.as_str(), ada.evidence.len()), ("Ada Lovelace", 1));
        let RowCheck::Award(grace) = &rows[1].check else { panic!("{:?}", rows[1]) };
        assert_eq!((grace.name.as_str(), grace.email.as_str(), grace.narrative.as_str()), ("Hopper, Grace", "grace@example.org", "Assessed on site:\npassed."));
        let RowCheck::Fail(detail) = &rows[2].check else { panic!("{:?}", rows[2]) };
        for column in ["email ", "achievement_id ", "evidence_url "] {
            assert!(detail.contains(column), "{detail}");
        }
        assert_eq!(rows[3].check, RowCheck::Skip("repeats row 2: the same achievement to the same address".into()));
    }

    #[test]
    fn a_file_that_is_not_such_a_csv_is_refused_whole() {
        for (file, expected) in [
            ("email,name\nada@example.org,Ada\n", "missing: achievement_id"),
            ("email,name,achievement_id,grade\n", "unknown column \"grade\""),
            ("email,name,achievement_id,Email\n", "appears twice"),
            ("email,name,achievement_id\n\n", "no rows"),
        ] {
            let invalid = parse(file.as_bytes()).unwrap_err();
            assert!(invalid.at("/file").unwrap().contains(expected), "{file:?}: {invalid}");
        }
        assert!(parse(&[0xff, 0xfe, 0x00]).unwrap_err().at("/file").unwrap().contains("UTF-8"));
        let many = format!("email,name,achievement_id\n{}", "a@example.org,A,x\n".repeat(MAX_ROWS + 1));
        assert!(parse(many.as_bytes()).unwrap_err().at("/file").unwrap().contains("at most"));
    }
}
