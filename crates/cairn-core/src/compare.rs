//! Comparing achievements side by side: which ids make a comparison ([`Selection`]: two to four
//! distinct achievements, in the order chosen), read once from untrusted input.

use crate::ids::AchievementId;
use crate::invalid::{Invalid, clip};

/// Fewest achievements a comparison shows.
pub const MIN_COMPARED: usize = 2;
/// Most achievements a comparison shows.
pub const MAX_COMPARED: usize = 4;
/// Most values read from a request before the rest are ignored, so a long query costs bounded
/// work; anything over [`MAX_COMPARED`] is refused anyway.
pub const MAX_VALUES_READ: usize = 20;

/// Two to four distinct achievements to compare, in the order chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection(Vec<AchievementId>);

impl Selection {
    /// Reads the chosen ids: blank values are skipped, a repeated id counts once, and each value
    /// must be an achievement id. Errors point at `/achievements/{index}` for a value and at
    /// `/achievements` for the count.
    ///
    /// # Errors
    /// An id that does not parse, fewer than [`MIN_COMPARED`] or more than [`MAX_COMPARED`].
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Selection, Invalid> {
        let mut invalid = Invalid::new();
        let mut ids: Vec<AchievementId> = Vec::new();
        for (index, value) in raw.iter().take(MAX_VALUES_READ).enumerate() {
            let value = value.as_ref().trim();
            if value.is_empty() {
                continue;
            }
            match value.parse::<AchievementId>() {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(_) => invalid.push(format!("/achievements/{index}"), format!("\"{}\" is not an achievement id", clip(value))),
            }
        }
        if !invalid.is_empty() {
            return Err(invalid);
        }
        let chosen = if raw.len() > MAX_VALUES_READ { raw.len() } else { ids.len() };
        if chosen < MIN_COMPARED {
            invalid.push("/achievements", format!("choose at least {MIN_COMPARED} achievements to compare (got {chosen})"));
        } else if chosen > MAX_COMPARED {
            invalid.push("/achievements", format!("choose at most {MAX_COMPARED} achievements to compare (got {chosen})"));
        }
        invalid.into_result(Selection(ids))
    }

    /// The ids, in the order chosen.
    pub fn ids(&self) -> &[AchievementId] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &[&str], expect: Result<usize, &str>) {
        match (Selection::parse(raw), expect) {
            (Ok(selection), Ok(count)) => assert_eq!(selection.ids().len(), count, "{raw:?}"),
            (Err(invalid), Err(message)) => assert!(invalid.to_string().contains(message), "{raw:?}: {invalid}"),
            (got, expected) => panic!("{raw:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn two_to_four_distinct_ids_make_a_comparison() {
        let ids: Vec<String> = (0..6).map(|_| AchievementId::new().to_string()).collect();
        let id = |i: usize| ids[i].as_str();
        check(&[id(0), id(1)], Ok(2));
        check(&[id(0), id(1), id(2), id(3)], Ok(4));
        check(&[id(0), " ", id(1)], Ok(2));
        check(&[id(0)], Err("/achievements: choose at least 2 achievements to compare (got 1)"));
        check(&[id(0), id(0)], Err("choose at least 2 achievements to compare (got 1)"));
        check(&[], Err("(got 0)"));
        check(&[id(0), id(1), id(2), id(3), id(4)], Err("/achievements: choose at most 4 achievements to compare (got 5)"));
        check(&[id(0), "nope"], Err("/achievements/1: \"nope\" is not an achievement id"));
        let many: Vec<&str> = std::iter::repeat_n(id(0), MAX_VALUES_READ + 1).collect();
        check(&many, Err("choose at most 4 achievements to compare (got 21)"));
    }

    #[test]
    fn the_order_chosen_is_kept() {
        let (a, b) = (AchievementId::new(), AchievementId::new());
        let selection = Selection::parse(&[b.to_string(), a.to_string(), b.to_string()]).unwrap();
        assert_eq!(selection.ids(), [b, a]);
    }
}
