//! The service window: due dates counted in business days on an issuer's calendar (weekends and
//! the issuer's holidays skipped), and whether a submission is on track, nearly due or overdue.

use std::collections::BTreeSet;
use time::{Date, OffsetDateTime, Weekday};

/// Most holidays an issuer calendar may list.
pub const MAX_HOLIDAYS: usize = 400;

/// An issuer's working calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
}

/// Where a submission stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    OnTrack,
    /// Within the issuer's "nearly due" margin.
    NearlyDue,
    Overdue,
}

impl DueState {
    pub fn as_str(self) -> &'static str {
        match self {
            DueState::OnTrack => "on_track",
            DueState::NearlyDue => "nearly_due",
            DueState::Overdue => "overdue",
        }
    }
}

impl Calendar {
    /// A calendar with these holidays (weekends are always off).
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Calendar {
        Calendar { holidays: holidays.into_iter().collect() }
    }

    /// The holidays, earliest first.
    pub fn holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays.iter().copied()
    }

    /// Whether work happens on `date`.
    pub fn is_business_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.contains(&date)
    }

    /// The moment `days` business days after `from`: the same time of day on the `days`-th
    /// business day after `from`'s date. Work submitted on a day off starts counting from the next
    /// business day, so the window is always `days` whole business days.
    pub fn add_business_days(&self, from: OffsetDateTime, days: u32) -> OffsetDateTime {
        let mut date = from.date();
        let mut left = days;
        // A guard against a calendar that is all holidays: at most ~10 years of days are walked.
        let mut steps = 0u32;
        while left > 0 && steps < 3660 {
            date = date.next_day().unwrap_or(date);
            steps += 1;
            if self.is_business_day(date) {
                left -= 1;
            }
        }
        from.replace_date(date)
    }

    /// Whole business days from `now`'s date to `due`'s date (negative when past).
    pub fn business_days_between(&self, now: OffsetDateTime, due: OffsetDateTime) -> i64 {
        let (start, end, sign) = if due >= now { (now.date(), due.date(), 1) } else { (due.date(), now.date(), -1) };
        let mut count = 0i64;
        let mut date = start;
        let mut steps = 0u32;
        while date < end && steps < 3660 {
            date = date.next_day().unwrap_or(end);
            steps += 1;
            if self.is_business_day(date) {
                count += 1;
            }
        }
        sign * count
    }

    /// Overdue once `due` has passed; nearly due when at most `margin` business days remain.
    pub fn due_state(&self, now: OffsetDateTime, due: OffsetDateTime, margin: u32) -> DueState {
        if now > due {
            DueState::Overdue
        } else if self.business_days_between(now, due) <= i64::from(margin) {
            DueState::NearlyDue
        } else {
            DueState::OnTrack
        }
    }
}

/// Parses holidays typed one per line or comma-separated as `YYYY-MM-DD`.
///
/// # Errors
/// The first value that is not a date, quoted.
pub fn parse_holidays(raw: &str) -> Result<Vec<Date>, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut dates = Vec::new();
    for part in raw.split([',', '\n', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let date = Date::parse(part, format).map_err(|_| format!("\"{}\" is not a date (YYYY-MM-DD)", crate::invalid::clip(part)))?;
        dates.push(date);
    }
    if dates.len() > MAX_HOLIDAYS {
        return Err(format!("at most {MAX_HOLIDAYS} holidays (got {})", dates.len()));
    }
    dates.sort();
    dates.dedup();
    Ok(dates)
}

/// A calendar day as `YYYY-MM-DD` (`cairn_vc::dates::iso_day`).
pub use cairn_vc::dates::iso_day as format_date;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn weekends_are_skipped() {
        let calendar = Calendar::default();
        // Friday 2026-11-20 10:00 + 1 business day = Monday 2026-11-23 10:00.
        let friday = datetime!(2026-11-20 10:00 UTC);
        assert_eq!(calendar.add_business_days(friday, 1), datetime!(2026-11-23 10:00 UTC));
        // 14 business days from a Monday are two weeks and four days... Monday + 14 = Friday of week 3.
        assert_eq!(calendar.add_business_days(datetime!(2026-11-02 09:00 UTC), 14), datetime!(2026-11-20 09:00 UTC));
        assert_eq!(calendar.add_business_days(friday, 0), friday);
    }

    #[test]
    fn work_submitted_on_a_weekend_counts_from_monday() {
        let calendar = Calendar::default();
        assert_eq!(calendar.add_business_days(datetime!(2026-11-21 15:00 UTC), 1), datetime!(2026-11-23 15:00 UTC));
        assert_eq!(calendar.add_business_days(datetime!(2026-11-22 15:00 UTC), 1), datetime!(2026-11-23 15:00 UTC));
    }

    #[test]
    fn holidays_are_skipped() {
        let calendar = Calendar::new([date!(2026 - 11 - 23), date!(2026 - 11 - 24)]);
        assert_eq!(calendar.add_business_days(datetime!(2026-11-20 10:00 UTC), 1), datetime!(2026-11-25 10:00 UTC));
        assert!(!calendar.is_business_day(date!(2026 - 11 - 23)));
        assert!(calendar.is_business_day(date!(2026 - 11 - 25)));
    }

    #[test]
    fn an_all_holiday_calendar_terminates() {
        let mut day = date!(2026 - 01 - 01);
        let mut all = Vec::new();
        for _ in 0..MAX_HOLIDAYS {
            all.push(day);
            day = day.next_day().unwrap();
        }
        let calendar = Calendar::new(all);
        let due = calendar.add_business_days(datetime!(2026-01-01 00:00 UTC), 5);
        assert!(due > datetime!(2026-01-01 00:00 UTC));
    }

    #[test]
    fn due_states_follow_the_margin() {
        let calendar = Calendar::default();
        let due = datetime!(2026-11-27 10:00 UTC); // a Friday
        assert_eq!(calendar.due_state(datetime!(2026-11-16 10:00 UTC), due, 2), DueState::OnTrack);
        assert_eq!(calendar.due_state(datetime!(2026-11-25 10:00 UTC), due, 2), DueState::NearlyDue);
        assert_eq!(calendar.due_state(datetime!(2026-11-27 10:00 UTC), due, 2), DueState::NearlyDue);
        assert_eq!(calendar.due_state(datetime!(2026-11-27 10:01 UTC), due, 2), DueState::Overdue);
        assert_eq!(calendar.business_days_between(datetime!(2026-11-30 10:00 UTC), due), -1);
    }

    #[test]
    fn holidays_parse_from_lines_or_commas() {
        assert_eq!(parse_holidays("2026-12-25, 2026-12-26\n2026-12-25").unwrap(), vec![date!(2026 - 12 - 25), date!(2026 - 12 - 26)]);
        assert!(parse_holidays("2026-13-01").unwrap_err().contains("2026-13-01"));
        assert_eq!(parse_holidays("  ").unwrap(), vec![]);
        assert_eq!(format_date(date!(2026 - 01 - 05)), "2026-01-05");
    }
}
