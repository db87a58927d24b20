//! Crash points for recovery tests: with `CAIRN_CRASH_AT=<point>` in its environment, the process
//! aborts (`std::process::abort`, as abrupt as `kill -9`) the first time it reaches that point.
//! The variable is read once; without it every point is a cheap check of a cached `None`.
//!
//! The points, in the order a pass reaches them:
//!
//! | point | where | what a restart must do |
//! |---|---|---|
//! | `judgement-committed` | `assessment::assess`, after the judgement (and its `AwardPassed` effect) committed, before the award | award the pass |
//! | `confirmation-committed` | `issuer::confirm_pass`, after the confirmation (and its `AwardPassed` effect) committed, before the award | award the pass |
//! | `award-committed` | the `AwardPassed` handler, after the award transaction (award, submission awarded, its `Notify` and `Stack` effects) committed, before the effect is completed and before stacking | complete the effect without a second award; stack; notify |
//! | `stack-committed` | the `Stack` handler, after the micro-credential's award committed, before the effect is completed | complete the effect without a second micro-credential; notify |
//! | `notice-delivered` | the `Notify` handler, after the notification and its e-mail committed, before the effect is completed | complete the effect without a second notification or e-mail |
//! | `batch-chunk-committed` | the `AwardBatch` handler, after a bulk award's first chunk committed, before the next | award the rest of the batch, nobody twice |
//!
//! `crates/cairn-cli/tests/crash_recovery.rs` runs `cairn serve` with each point, lets it die,
//! restarts it without the variable and checks that nothing was lost or done twice.

use std::sync::OnceLock;

/// The environment variable naming the point to crash at.
pub const CRASH_AT_VARIABLE: &str = "CAIRN_CRASH_AT";

/// A named place where a crash would leave committed work whose side effects have not run yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    JudgementCommitted,
    ConfirmationCommitted,
    AwardCommitted,
    StackCommitted,
    NoticeDelivered,
    BatchChunkCommitted,
}

impl CrashPoint {
    pub const ALL: [CrashPoint; 6] = [
        CrashPoint::JudgementCommitted,
        CrashPoint::ConfirmationCommitted,
        CrashPoint::AwardCommitted,
        CrashPoint::StackCommitted,
        CrashPoint::NoticeDelivered,
        CrashPoint::BatchChunkCommitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::JudgementCommitted => "judgement-committed",
            CrashPoint::ConfirmationCommitted => "confirmation-committed",
            CrashPoint::AwardCommitted => "award-committed",
            CrashPoint::StackCommitted => "stack-committed",
            CrashPoint::NoticeDelivered => "notice-delivered",
            CrashPoint::BatchChunkCommitted => "batch-chunk-committed",
        }
    }

    pub fn parse(raw: &str) -> Option<CrashPoint> {
        CrashPoint::ALL.into_iter().find(|point| point.as_str() == raw.trim())
    }
}

fn armed() -> Option<CrashPoint> {
    static ARMED: OnceLock<Option<CrashPoint>> = OnceLock::new();
    *ARMED.get_or_init(|| {
        let raw = std::env::var(CRASH_AT_VARIABLE).ok().filter(|v| !v.trim().is_empty())?;
        let point = CrashPoint::parse(&raw);
        if point.is_none() {
            let known: Vec<&str> = CrashPoint::ALL.iter().map(|p| p.as_str()).collect();
            tracing::warn!(value = %raw, known = ?known, "{CRASH_AT_VARIABLE} names no crash point; ignored");
        }
        point
    })
}

/// Aborts the process here when `CAIRN_CRASH_AT` names `point`.
pub(crate) fn point(point: CrashPoint) {
    if armed() == Some(point) {
        eprintln!("{CRASH_AT_VARIABLE}: crashing at {}", point.as_str());
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_named_in_text() {
        for point in CrashPoint::ALL {
            assert_eq!(CrashPoint::parse(point.as_str()), Some(point));
        }
        assert_eq!(CrashPoint::parse(" award-committed\n"), Some(CrashPoint::AwardCommitted));
        assert_eq!(CrashPoint::parse("award_committed"), None);
    }
}
