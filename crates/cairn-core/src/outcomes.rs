//! An issuer's outcome figures for an achievement, and when they may be shown: only once the
//! issuer chose to publish them (`IssuerSettings::publish_outcomes`, off by default) and only
//! when they rest on at least [`MIN_DECISIONS`] decisions, so that a handful of learners cannot be
//! singled out and a figure from two cases does not pass for a trend.
//!
//! The figures, counted by the store from the assessed submissions:
//! - a **decision** is an assessor's judgement of one attempt, a pass or a "not yet";
//! - the **pass rate** is the decided submissions that ended in an award, over every decided
//!   submission (awarded, "not yet", or withdrawn after a decision; those still waiting for a
//!   decision or a staff confirmation are not counted);
//! - the **median time to decision** is in calendar days, from an attempt being sent to its
//!   decision.

/// Fewest decisions behind a published figure.
pub const MIN_DECISIONS: u64 = 5;

/// What the store counts for one achievement (or a micro-credential's levels together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutcomeCounts {
    /// Submissions with a decision that are no longer waiting for another.
    pub decided_submissions: u64,
    /// Those of them that were awarded.
    pub awarded: u64,
    /// Decisions, one per attempt judged.
    pub decisions: u64,
    /// The median seconds from an attempt being sent to its decision; `None` without decisions.
    pub median_decision_secs: Option<i64>,
}

/// What may be said about an achievement's outcomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcomes {
    /// The issuer does not publish outcome figures.
    NotPublished,
    /// Awarded on its components, never assessed itself (a certificate).
    NotAssessed,
    /// Published, but fewer than [`MIN_DECISIONS`] decisions so far.
    TooFewDecisions {
        decisions: u64,
    },
    Figures(OutcomeFigures),
}

/// Published figures, each with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeFigures {
    /// Awarded over decided submissions, in whole percent; `None` while every decided attempt
    /// waits for a resubmission's decision.
    pub pass_rate_percent: Option<u32>,
    pub awarded: u64,
    pub decided_submissions: u64,
    pub decisions: u64,
    /// Median calendar days from an attempt being sent to its decision.
    pub median_decision_secs: i64,
}

/// What may be shown, given whether the issuer publishes its figures and the counts.
pub fn outcomes(published: bool, counts: &OutcomeCounts) -> Outcomes {
    if !published {
        return Outcomes::NotPublished;
    }
    match counts.median_decision_secs {
        Some(median) if counts.decisions >= MIN_DECISIONS => Outcomes::Figures(OutcomeFigures {
            pass_rate_percent: percent(counts.awarded, counts.decided_submissions),
            awarded: counts.awarded,
            decided_submissions: counts.decided_submissions,
            decisions: counts.decisions,
            median_decision_secs: median.max(0),
        }),
        _ => Outcomes::TooFewDecisions { decisions: counts.decisions },
    }
}

/// `part` over `whole` in whole percent, rounded half up.
fn percent(part: u64, whole: u64) -> Option<u32> {
    (whole > 0).then(|| u32::try_from((part.min(whole) * 200 + whole) / (2 * whole)).unwrap_or(100))
}

impl OutcomeFigures {
    /// "80% (4 of 5 decided submissions awarded)", or that no submission is decided yet.
    pub fn pass_rate_text(&self) -> String {
        match self.pass_rate_percent {
            Some(rate) => format!(
                "{rate}% ({} of {} decided submission{} awarded)",
                self.awarded,
                self.decided_submissions,
                if self.decided_submissions == 1 { "" } else { "s" }
            ),
            None => "No submission decided yet".to_string(),
        }
    }

    /// "3.5 calendar days", "1 calendar day", "5 hours".
    pub fn median_text(&self) -> String {
        days_text(self.median_decision_secs)
    }

    /// "Based on 7 decisions".
    pub fn basis_text(&self) -> String {
        format!("Based on {} decisions", self.decisions)
    }
}

/// A span in calendar days to one decimal, or in hours under a day.
pub fn days_text(secs: i64) -> String {
    const DAY: i64 = 86_400;
    if secs < DAY {
        let hours = (secs + 1_800) / 3_600;
        return match hours {
            0 => "under an hour".to_string(),
            1 => "1 hour".to_string(),
            n => format!("{n} hours"),
        };
    }
    let tenths = (secs * 10 + DAY / 2) / DAY;
    let text = if tenths % 10 == 0 { (tenths / 10).to_string() } else { format!("{}.{}", tenths / 10, tenths % 10) };
    format!("{text} calendar day{}", if tenths == 10 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(decided: u64, awarded: u64, decisions: u64, median: Option<i64>) -> OutcomeCounts {
        OutcomeCounts { decided_submissions: decided, awarded, decisions, median_decision_secs: median }
    }

    #[test]
    fn figures_show_only_when_published_and_with_five_decisions() {
        assert_eq!(outcomes(false, &counts(9, 9, 9, Some(1))), Outcomes::NotPublished);
        assert_eq!(outcomes(true, &counts(4, 2, 4, Some(1))), Outcomes::TooFewDecisions { decisions: 4 });
        assert_eq!(outcomes(true, &counts(0, 0, 0, None)), Outcomes::TooFewDecisions { decisions: 0 });
        let Outcomes::Figures(figures) = outcomes(true, &counts(4, 3, 5, Some(3 * 86_400))) else { panic!("figures expected") };
        assert_eq!(figures.pass_rate_percent, Some(75));
        assert_eq!(figures.pass_rate_text(), "75% (3 of 4 decided submissions awarded)");
        assert_eq!(figures.median_text(), "3 calendar days");
        assert_eq!(figures.basis_text(), "Based on 5 decisions");
    }

    #[test]
    fn percentages_round_half_up() {
        let check = |part, whole, expect| assert_eq!(percent(part, whole), expect, "{part}/{whole}");
        check(1, 3, Some(33));
        check(2, 3, Some(67));
        check(1, 8, Some(13));
        check(5, 5, Some(100));
        check(0, 5, Some(0));
        check(0, 0, None);
    }

    #[test]
    fn spans_read_in_days_or_hours() {
        let check = |secs, expect: &str| assert_eq!(days_text(secs), expect, "{secs}");
        check(0, "under an hour");
        check(3_600, "1 hour");
        check(5 * 3_600 + 100, "5 hours");
        check(86_400, "1 calendar day");
        check(86_400 * 3 + 43_200, "3.5 calendar days");
        check(86_400 * 2 + 100, "2 calendar days");
        check(86_400 * 10 + 8_640 * 3, "10.3 calendar days");
    }
}
