//! Issuer insight and inter-rater agreement, as plain arithmetic: which judgements are sampled
//! for a second, blind scoring ([`sampled`]); exact agreement and linearly weighted Cohen's
//! kappa per criterion ([`agreement`]); the period an insight covers and its weekly or monthly
//! buckets ([`Period`]); percentiles of a distribution given as counts ([`percentile`]).
//!
//! The store hands over aggregates (counts per day, per pair of levels), never rows, so
//! everything here is bounded by the calendar and the rubric, not by the number of awards.

use crate::ids::SubmissionId;
use crate::invalid::Invalid;
use time::{Date, Duration, Month};

/// Whether the judgement of `attempt` of `submission` is scored a second time under a sampling
/// rate of `percent` (0–100). The draw is repeatable — the same submission and attempt always
/// give the same answer, so tests and audits can tell why — and fair, because submission ids
/// are random: their bits, mixed with the attempt, fall into one of 100 buckets, and the
/// judgement is sampled when its bucket is below the rate. 0 samples nothing, 100 everything.
pub fn sampled(submission: SubmissionId, attempt: u32, percent: u32) -> bool {
    if percent == 0 {
        return false;
    }
    let bytes = submission.0.as_bytes();
    let mut x = u64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
        ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64's finaliser: every input bit moves every output bit.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    x % 100 < u64::from(percent)
}

/// Cohen's kappa for one criterion, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kappa {
    /// The statistic: 1 for perfect agreement, 0 for agreement no better than chance, negative
    /// for worse.
    Value(f64),
    /// No sampled judgement has been scored twice yet.
    NoPairs,
    /// Both assessors put every piece of work at one and the same level, so chance alone
    /// explains the agreement and kappa is 0 / 0: undefined, not a number.
    OneCategory,
}

impl Kappa {
    /// The value, when there is one.
    pub fn value(self) -> Option<f64> {
        match self {
            Kappa::Value(value) => Some(value),
            Kappa::NoPairs | Kappa::OneCategory => None,
        }
    }

    /// Words for people when there is no value.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Kappa::Value(_) => None,
            Kappa::NoPairs => Some("no work has been scored twice yet"),
            Kappa::OneCategory => Some("undefined: both assessors gave every piece of work the same level"),
        }
    }
}

/// How two blind scorings of the same work agree on one criterion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// How many pieces of work were scored twice.
    pub pairs: u64,
    /// The share of pairs at exactly the same level, 0–100 (`None` without pairs).
    pub exact_percent: Option<f64>,
    /// Linearly weighted Cohen's kappa over the rubric's ordered levels.
    pub kappa: Kappa,
}

/// Agreement over `levels` ordered levels from `counts`: (first assessor's level, second
/// assessor's level, how many pieces of work), levels as indexes from 0. Levels at or above
/// `levels` widen the scale (a rubric may have had more levels when the work was scored).
///
/// Kappa is linearly weighted: a disagreement by `d` levels weighs `d / (k − 1)`, so
/// κ = 1 − Σ w·observed / Σ w·expected, the expected counts being the product of the two
/// assessors' margins over the number of pairs.
pub fn agreement(levels: usize, counts: &[(usize, usize, u64)]) -> Agreement {
    let pairs: u64 = counts.iter().map(|(_, _, n)| n).sum();
    if pairs == 0 {
        return Agreement { pairs: 0, exact_percent: None, kappa: Kappa::NoPairs };
    }
    let k = counts.iter().map(|(a, b, _)| a.max(b) + 1).max().unwrap_or(0).max(levels).max(2);
    let mut first = vec![0u64; k];
    let mut second = vec![0u64; k];
    let (mut exact, mut observed) = (0u64, 0f64);
    let weight = |a: usize, b: usize| a.abs_diff(b) as f64 / (k - 1) as f64;
    for &(a, b, n) in counts {
        first[a] += n;
        second[b] += n;
        if a == b {
            exact += n;
        }
        observed += weight(a, b) * n as f64;
    }
    let total = pairs as f64;
    let mut expected = 0f64;
    for (a, &row) in first.iter().enumerate() {
        for (b, &column) in second.iter().enumerate() {
            expected += weight(a, b) * row as f64 * column as f64 / total;
        }
    }
    let kappa = if expected <= f64::EPSILON { Kappa::OneCategory } else { Kappa::Value(1.0 - observed / expected) };
    Agreement { pairs, exact_percent: Some(100.0 * exact as f64 / total), kappa }
}

/// The value below which `p` % of a distribution lies, nearest rank: `counts` are (value, how
/// many), in any order. `None` for an empty distribution.
pub fn percentile(counts: &[(i64, u64)], p: u32) -> Option<i64> {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let mut sorted: Vec<(i64, u64)> = counts.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort_unstable();
    // Nearest rank: the smallest value whose cumulative count reaches ⌈p/100 · N⌉ (at least 1).
    let rank = (u64::from(p.min(100)) * total).div_ceil(100).max(1);
    let mut seen = 0u64;
    for (value, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(value);
        }
    }
    None
}

/// The longest period an insight covers, in days (five years).
pub const MAX_PERIOD_DAYS: i64 = 1830;
/// The period shown when none is asked for, in days.
pub const DEFAULT_PERIOD_DAYS: i64 = 90;
/// Periods longer than this many days are drawn per month rather than per week.
pub const WEEKLY_UP_TO_DAYS: i64 = 183;

/// How a period is cut up for charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Weeks from Monday.
    Week,
    /// Calendar months.
    Month,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }
}

/// The days an insight covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The period from `from` to `to` as typed (`YYYY-MM-DD`, either may be empty): an empty
    /// `to` is `today`, an empty `from` [`DEFAULT_PERIOD_DAYS`] before `to`.
    ///
    /// # Errors
    /// A date that is not one (`/from`, `/to`), `from` after `to`, or a period longer than
    /// [`MAX_PERIOD_DAYS`].
    pub fn parse(from: &str, to: &str, today: Date) -> Result<Period, Invalid> {
        let mut invalid = Invalid::new();
        let mut date = |pointer: &str, raw: &str| -> Option<Date> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match crate::calendar::parse_holidays(raw) {
                Ok(dates) if dates.len() == 1 => Some(dates[0]),
                _ => {
                    invalid.push(pointer, format!("\"{}\" is not a date (YYYY-MM-DD)", crate::invalid::clip(raw)));
                    None
                }
            }
        };
        let to_date = date("/to", to).unwrap_or(today);
        let from_date = date("/from", from).unwrap_or(to_date - Duration::days(DEFAULT_PERIOD_DAYS - 1));
        if invalid.is_empty() {
            if from_date > to_date {
                invalid.push("/from", "must not be after the end of the period");
            } else if (to_date - from_date).whole_days() >= MAX_PERIOD_DAYS {
                invalid.push("/from", format!("a period may cover at most {MAX_PERIOD_DAYS} days"));
            }
        }
        invalid.into_result(Period { from: from_date, to: to_date })
    }

    /// Weeks for periods of up to [`WEEKLY_UP_TO_DAYS`], months beyond.
    pub fn grain(&self) -> Grain {
        if (self.to - self.from).whole_days() < WEEKLY_UP_TO_DAYS { Grain::Week } else { Grain::Month }
    }

    /// The first day of the bucket `day` falls in.
    pub fn bucket_of(&self, day: Date) -> Date {
        match self.grain() {
            Grain::Week => day - Duration::days(i64::from(day.weekday().number_days_from_monday())),
            Grain::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first day of every bucket the period touches, in order.
    pub fn buckets(&self) -> Vec<Date> {
        let mut starts = Vec::new();
        let mut start = self.bucket_of(self.from);
        while start <= self.to {
            starts.push(start);
            start = match self.grain() {
                Grain::Week => start + Duration::days(7),
                Grain::Month => next_month(start),
            };
        }
        starts
    }
}

fn next_month(first: Date) -> Date {
    let (year, month) = if first.month() == Month::December { (first.year() + 1, Month::January) } else { (first.year(), first.month().next()) };
    Date::from_calendar_date(year, month, 1).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn kappa_matches_a_worked_example() {
        // Three levels, ten pieces of work; rows the first assessor, columns the second:
        //       0  1  2
        //   0 [ 2, 1, 0 ]   margins: first 3, 5, 2; second 3, 5, 2
        //   1 [ 1, 3, 1 ]   weights: 0 on the diagonal, ½ one level apart, 1 two apart
        //   2 [ 0, 1, 1 ]
        // Observed weighted disagreement: 4 cells one apart × ½ = 2.
        // Expected: one apart (1.5 + 1.5 + 1.0 + 1.0) × ½ = 2.5, two apart (0.6 + 0.6) × 1 = 1.2;
        // 3.7 in all. κ = 1 − 2 / 3.7 = 17/37 ≈ 0.4595; exact agreement 6 of 10.
        let counts = [(0, 0, 2), (0, 1, 1), (1, 0, 1), (1, 1, 3), (1, 2, 1), (2, 1, 1), (2, 2, 1)];
        let result = agreement(3, &counts);
        assert_eq!(result.pairs, 10);
        assert!(close(result.exact_percent.unwrap(), 60.0), "{result:?}");
        assert!(close(result.kappa.value().unwrap(), 17.0 / 37.0), "{result:?}");
    }

    #[test]
    fn kappa_is_one_for_perfect_agreement_and_negative_for_systematic_disagreement() {
        let perfect = agreement(3, &[(0, 0, 2), (2, 2, 2)]);
        assert_eq!(perfect.kappa, Kappa::Value(1.0));
        assert_eq!(perfect.exact_percent, Some(100.0));
        // Two levels, always opposite: observed 1 per pair, expected ½: κ = 1 − 2 = −1.
        let opposite = agreement(2, &[(0, 1, 3), (1, 0, 3)]);
        assert!(close(opposite.kappa.value().unwrap(), -1.0), "{opposite:?}");
        assert_eq!(opposite.exact_percent, Some(0.0));
    }

    #[test]
    fn kappa_is_undefined_without_pairs_or_with_one_category() {
        let none = agreement(4, &[]);
        assert_eq!((none.pairs, none.exact_percent, none.kappa), (0, None, Kappa::NoPairs));
        assert_eq!(none.kappa.reason(), Some("no work has been scored twice yet"));
        let same = agreement(4, &[(2, 2, 7)]);
        assert_eq!(same.exact_percent, Some(100.0));
        assert_eq!(same.kappa, Kappa::OneCategory, "0 / 0 is no number");
        assert!(same.kappa.value().is_none() && same.kappa.reason().unwrap().starts_with("undefined"));
        assert_eq!(agreement(4, &[(1, 1, 0)]).kappa, Kappa::NoPairs, "zero counts are no pairs");
    }

    #[test]
    fn levels_beyond_the_rubric_widen_the_scale() {
        // A level index 3 on a 3-level rubric means the scale had 4 levels: weights in thirds.
        let result = agreement(3, &[(0, 3, 1), (3, 0, 1), (1, 1, 2)]);
        assert!(result.kappa.value().is_some(), "{result:?}");
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let days = [(5, 1), (1, 2), (3, 1), (10, 1)];
        // Sorted: 1, 1, 3, 5, 10.
        assert_eq!(percentile(&days, 50), Some(3));
        assert_eq!(percentile(&days, 90), Some(10));
        assert_eq!(percentile(&days, 20), Some(1));
        assert_eq!(percentile(&days, 0), Some(1));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[(4, 0)], 50), None);
    }

    #[test]
    fn sampling_is_repeatable_and_follows_the_rate() {
        let ids: Vec<SubmissionId> = (0..2000).map(|_| SubmissionId::new()).collect();
        assert!(ids.iter().all(|id| !sampled(*id, 1, 0)), "0 % samples nothing");
        assert!(ids.iter().all(|id| sampled(*id, 1, 100)), "100 % samples everything");
        let quarter = ids.iter().filter(|id| sampled(**id, 1, 25)).count();
        assert!((350..=650).contains(&quarter), "about a quarter of 2000: {quarter}");
        assert!(ids.iter().all(|id| sampled(*id, 2, 30) == sampled(*id, 2, 30)), "the same draw every time");
        assert!(ids.iter().filter(|id| sampled(**id, 1, 10)).all(|id| sampled(*id, 1, 50)), "a higher rate keeps what a lower one sampled");
    }

    #[test]
    fn periods_default_validate_and_cut_into_weeks_or_months() {
        let today = date!(2026 - 12 - 06);
        let default = Period::parse("", "", today).unwrap();
        assert_eq!((default.from, default.to), (date!(2026 - 09 - 08), today));
        assert_eq!(default.grain(), Grain::Week);
        let weeks = Period::parse("2026-11-04", "2026-11-17", today).unwrap();
        assert_eq!(weeks.buckets(), vec![date!(2026 - 11 - 02), date!(2026 - 11 - 09), date!(2026 - 11 - 16)]);
        assert_eq!(weeks.bucket_of(date!(2026 - 11 - 15)), date!(2026 - 11 - 09), "a Sunday belongs to the week from Monday");
        let year = Period::parse("2025-12-15", "2026-12-06", today).unwrap();
        assert_eq!(year.grain(), Grain::Month);
        assert_eq!(year.buckets().len(), 13);
        assert_eq!(year.buckets()[1], date!(2026 - 01 - 01));
        let invalid = Period::parse("tomorrow", "2026-13-01", today).unwrap_err();
        assert!(invalid.at("/from").is_some() && invalid.at("/to").is_some(), "{invalid}");
        assert!(Period::parse("2026-12-07", "2026-12-06", today).unwrap_err().at("/from").is_some());
        assert!(Period::parse("2010-01-01", "", today).unwrap_err().at("/from").unwrap().contains("1830"));
    }
}
