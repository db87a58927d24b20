//! A learner's progress: which stage each submission is at (being prepared, with the assessor,
//! feedback to act on, finished), how far they are through a micro-credential's levels, and which
//! of their awards expire soon. The learner's home and the achievement pages show these.

use crate::award::AwardStatus;
use crate::ids::AchievementId;
use crate::submission::Status;
use time::{Duration, OffsetDateTime};

/// Awards that expire within this many days count as expiring soon.
pub const EXPIRING_SOON_DAYS: i64 = 60;

/// Where a submission stands for its learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A draft the learner is still preparing.
    Preparing,
    /// Sent: with the assessor, or passed and waiting for its award.
    WithIssuer,
    /// "Not yet": feedback for the learner to act on (revise and resubmit).
    FeedbackWaiting,
    /// Awarded or withdrawn: nothing left to do.
    Finished,
}

impl Stage {
    /// The stage a submission in `status` is at.
    pub fn of(status: Status) -> Stage {
        match status {
            Status::Draft => Stage::Preparing,
            Status::Submitted | Status::Resubmitted | Status::InReview | Status::Passed => Stage::WithIssuer,
            Status::NotYet => Stage::FeedbackWaiting,
            Status::Awarded | Status::Withdrawn => Stage::Finished,
        }
    }

    /// Whether the submission is in progress: being prepared or with the issuer.
    pub fn in_progress(self) -> bool {
        matches!(self, Stage::Preparing | Stage::WithIssuer)
    }

    /// Whether the submission is still open (in progress or feedback waiting): the learner's
    /// current submission for its achievement.
    pub fn open(self) -> bool {
        self != Stage::Finished
    }
}

/// Whether an award valid until `valid_until` expires within [`EXPIRING_SOON_DAYS`] of `now`:
/// still valid now, and not for more than that many days. An award without an end date, or one
/// already expired, is not expiring soon; neither is a revoked or suspended one, which attests
/// nothing whatever its date.
pub fn expiring_soon(status: AwardStatus, valid_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    status == AwardStatus::Active && valid_until.is_some_and(|until| until >= now && until - now <= Duration::days(EXPIRING_SOON_DAYS))
}

/// How far a learner is with one level (or any achievement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelProgress {
    /// An active award is held.
    Held,
    /// A submission is open (being prepared, with the assessor, or feedback waiting).
    InProgress,
    NotStarted,
}

impl LevelProgress {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            LevelProgress::Held => "Held",
            LevelProgress::InProgress => "In progress",
            LevelProgress::NotStarted => "Not started",
        }
    }
}

/// A learner's progress on `achievement`, given the achievements they hold an active award for
/// and those they have an open submission for. Holding wins over a submission.
pub fn progress_on(achievement: AchievementId, held: &[AchievementId], open: &[AchievementId]) -> LevelProgress {
    if held.contains(&achievement) {
        LevelProgress::Held
    } else if open.contains(&achievement) {
        LevelProgress::InProgress
    } else {
        LevelProgress::NotStarted
    }
}

/// A learner's progress across a micro-credential's levels, in level order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackProgress {
    pub levels: Vec<(AchievementId, LevelProgress)>,
}

impl StackProgress {
    /// The progress on each of `levels` (in level order).
    pub fn new(levels: &[AchievementId], held: &[AchievementId], open: &[AchievementId]) -> StackProgress {
        StackProgress { levels: levels.iter().map(|&level| (level, progress_on(level, held, open))).collect() }
    }

    /// How many levels are held.
    pub fn held(&self) -> usize {
        self.levels.iter().filter(|(_, p)| *p == LevelProgress::Held).count()
    }

    /// Whether every level is held (the micro-credential is, or is about to be, awarded).
    pub fn complete(&self) -> bool {
        !self.levels.is_empty() && self.held() == self.levels.len()
    }

    /// Whether nothing is held or in progress.
    pub fn untouched(&self) -> bool {
        self.levels.iter().all(|(_, p)| *p == LevelProgress::NotStarted)
    }

    /// "1 of 3 levels held".
    pub fn summary(&self) -> String {
        format!("{} of {} levels held", self.held(), self.levels.len())
    }

    /// The first level neither held nor in progress: where to go next.
    pub fn next_level(&self) -> Option<AchievementId> {
        self.levels.iter().find(|(_, p)| *p == LevelProgress::NotStarted).map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    #[test]
    fn every_status_has_its_stage() {
        let check = |status: Status, stage: Stage, in_progress: bool, open: bool| {
            assert_eq!(Stage::of(status), stage, "{status:?}");
            assert_eq!((Stage::of(status).in_progress(), Stage::of(status).open()), (in_progress, open), "{status:?}");
        };
        check(Status::Draft, Stage::Preparing, true, true);
        check(Status::Submitted, Stage::WithIssuer, true, true);
        check(Status::InReview, Stage::WithIssuer, true, true);
        check(Status::Resubmitted, Stage::WithIssuer, true, true);
        check(Status::Passed, Stage::WithIssuer, true, true);
        check(Status::NotYet, Stage::FeedbackWaiting, false, true);
        check(Status::Awarded, Stage::Finished, false, false);
        check(Status::Withdrawn, Stage::Finished, false, false);
    }

    #[test]
    fn awards_expire_soon_within_sixty_days_while_active() {
        let check = |status: AwardStatus, until: Option<OffsetDateTime>, expected: bool| {
            assert_eq!(expiring_soon(status, until, NOW), expected, "{status:?} {until:?}");
        };
        check(AwardStatus::Active, None, false);
        check(AwardStatus::Active, Some(NOW + Duration::days(1)), true);
        check(AwardStatus::Active, Some(NOW + Duration::days(60)), true);
        check(AwardStatus::Active, Some(NOW + Duration::days(60) + Duration::seconds(1)), false);
        check(AwardStatus::Active, Some(NOW + Duration::days(400)), false);
        check(AwardStatus::Active, Some(NOW), true);
        check(AwardStatus::Active, Some(NOW - Duration::seconds(1)), false);
        check(AwardStatus::Revoked, Some(NOW + Duration::days(10)), false);
        check(AwardStatus::Suspended, Some(NOW + Duration::days(10)), false);
    }

    #[test]
    fn holding_wins_over_an_open_submission() {
        let (a, b, c) = (AchievementId::new(), AchievementId::new(), AchievementId::new());
        assert_eq!(progress_on(a, &[a], &[a]), LevelProgress::Held);
        assert_eq!(progress_on(b, &[a], &[b]), LevelProgress::InProgress);
        assert_eq!(progress_on(c, &[a], &[b]), LevelProgress::NotStarted);
        assert_eq!(LevelProgress::InProgress.label(), "In progress");
    }

    #[test]
    fn progress_across_levels_counts_held_levels_and_names_the_next() {
        let levels = [AchievementId::new(), AchievementId::new(), AchievementId::new()];
        let none = StackProgress::new(&levels, &[], &[]);
        assert_eq!((none.held(), none.complete(), none.untouched(), none.next_level()), (0, false, true, Some(levels[0])));
        assert_eq!(none.summary(), "0 of 3 levels held");

        let some = StackProgress::new(&levels, &[levels[0]], &[levels[1]]);
        assert_eq!(some.levels.iter().map(|(_, p)| *p).collect::<Vec<_>>(), [LevelProgress::Held, LevelProgress::InProgress, LevelProgress::NotStarted]);
        assert_eq!((some.held(), some.complete(), some.untouched(), some.next_level()), (1, false, false, Some(levels[2])));
        assert_eq!(some.summary(), "1 of 3 levels held");

        let all = StackProgress::new(&levels, &levels, &[]);
        assert_eq!((all.held(), all.complete(), all.next_level()), (3, true, None));
        assert!(!StackProgress::new(&[], &[], &[]).complete(), "no levels is not a complete stack");
    }
}
