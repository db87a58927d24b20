//! Dates, written one way everywhere, on the `time` crate: RFC 3339 UTC date-times for documents
//! and the API, `YYYY-MM-DD` for calendar days, and words for people (`3 March 2025`).
//!
//! One exception lives beside VC-JWT (`suites/vc_jwt/dates.rs`): a JWT's `nbf`/`exp` may be any
//! number, and reading it must be total over every `i64` of seconds, past the ±9999 years `time`
//! stops at, so that a strange token gets a verdict rather than an error.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// An RFC 3339 UTC date-time in whole seconds (`2026-11-22T10:00:00Z`): every credential date,
/// API timestamp and export.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// An RFC 3339 date-time (any offset, fractions allowed).
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// A calendar day as `YYYY-MM-DD`.
pub fn iso_day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A day as people read it, in UTC: `3 March 2025`.
pub fn day(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{} {} {}", at.day(), MONTHS[usize::from(u8::from(at.month())) - 1], at.year())
}

/// A day and time of day as people read them, in UTC: `3 March 2025, 14:05 UTC`.
pub fn day_and_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{}, {:02}:{:02} UTC", day(at), at.hour(), at.minute())
}

/// A Unix time as people read its day (UTC); the number itself when out of `time`'s range.
pub fn unix_day(seconds: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(at) => day(at),
        Err(_) => format!("{seconds} (Unix time)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn each_form_reads_as_expected() {
        let at = datetime!(2025-03-03 14:05:09.75 +01:00);
        assert_eq!(rfc3339(at), "2025-03-03T13:05:09Z");
        assert_eq!(parse_rfc3339("2025-03-03T13:05:09Z"), Some(datetime!(2025-03-03 13:05:09 UTC)));
        assert_eq!(parse_rfc3339("2025-03-03"), None);
        assert_eq!(iso_day(date!(2026 - 01 - 07)), "2026-01-07");
        assert_eq!(day(at), "3 March 2025");
        assert_eq!(day(datetime!(2025-03-03 23:30 -02:00)), "4 March 2025", "days are UTC days");
        assert_eq!(day_and_time(at), "3 March 2025, 13:05 UTC");
        assert_eq!(unix_day(0), "1 January 1970");
        assert_eq!(unix_day(i64::MAX), format!("{} (Unix time)", i64::MAX));
    }
}
