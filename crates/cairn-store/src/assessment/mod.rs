//! The assessment journey up to the decision: issuer settings, assessor pools and conflicts of
//! interest, submissions with their collaborators and artefacts, the life cycle with its audit
//! trail and attempt snapshots, assessments, sampled judgements with their second scoring and
//! moderation, queues, the inputs of duplicate detection, fees and vouchers.
//!
//! State changes are conditional `UPDATE`s (`… WHERE status = …`): of two concurrent requests
//! exactly one wins and the other gets [`StoreError::Conflict`]. Each multi-row write is one
//! transaction whose first statement is a write, so SQLite takes its write lock up front and
//! PostgreSQL locks the submission row before anything is read.
//!
//! Each part has its submodule (`settings`, `pools`, `submissions`, `artifacts`, `transitions`,
//! `assessments`, `sampling`, `queues`, `duplicates`, `fees`); this one holds what they share: the status
//! sets, the submission columns and the explanation of a conditional update that missed.

mod artifacts;
mod assessments;
mod duplicates;
mod fees;
mod payments;
mod pools;
mod queues;
mod sampling;
mod settings;
mod submissions;
mod transitions;

pub use artifacts::{Artifact, ArtifactBody, NewArtifact};
pub use assessments::Assessment;
pub use fees::Voucher;
pub use payments::{NewPayment, Payment, Settled, StripeAccount};
pub use pools::PoolMember;
pub use queues::{EscalationCandidate, IssuerQueueItem, QueueItem};
pub use sampling::{ModerationItem, SampleState, SampledJudgement, SecondScoring};
pub use submissions::{Collaboration, LearnerSubmission, NewSubmission};
pub use transitions::{AttemptSnapshot, OrgEvent, Sending, SubmissionEvent};

pub(crate) use assessments::scores_json;
pub(crate) use transitions::{Move, apply_move};

use crate::StoreError;
use crate::rows::get_string;
use cairn_core::ids::SubmissionId;
use cairn_core::submission::Status;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

pub(crate) type Tx = Transaction<'static, Any>;

/// Statuses in an assessor's queue (the service-window clock runs).
pub(crate) const QUEUED: &str = "('submitted', 'resubmitted', 'in_review')";
/// Statuses in which the learner may edit the evidence.
const EDITABLE: &str = "('draft', 'not_yet')";

/// The columns [`submission_from`](submissions::submission_from) reads, from `submissions s`.
pub(crate) const SUBMISSION_COLUMNS: &str = "s.id, s.achievement_id, s.organisation_id, s.learner_id, s.status, s.attempt, s.overview, s.reflection, \
     s.links_json, s.fee_state, s.voucher_code, s.assessor_id, s.submitted_at, s.due_at, s.created_at, s.updated_at, s.renewal_of";

/// Joins `v`, the current version of the achievement of `s` (for its name).
pub(crate) const CURRENT_VERSION_JOIN: &str =
    "JOIN achievements a ON a.id = s.achievement_id JOIN achievement_versions v ON v.achievement_id = a.id AND v.version = a.current_version";

fn status_from(raw: &str) -> Result<Status, StoreError> {
    Status::parse(raw).ok_or_else(|| StoreError::corrupt(format!("submission status \"{raw}\"")))
}

pub(crate) fn get_status(row: &AnyRow, column: &str) -> Result<Status, StoreError> {
    status_from(&get_string(row, column)?)
}

fn not_editable() -> StoreError {
    StoreError::Conflict { constraint: "submissions.editable", detail: "this submission can no longer be edited".into() }
}

/// Why a conditional update of submission `id` matched nothing: it does not exist
/// ([`StoreError::NotFound`]) or it is in another state (`conflict`, given its status).
async fn explain_miss(tx: &mut Tx, id: SubmissionId, conflict: impl FnOnce(Status) -> StoreError) -> StoreError {
    let row = sqlx::query("SELECT status FROM submissions WHERE id = $1").bind(id.to_string()).fetch_optional(&mut **tx).await;
    match row {
        Ok(None) => StoreError::not_found("submission", id),
        Ok(Some(row)) => match get_status(&row, "status") {
            Ok(status) => conflict(status),
            Err(error) => error,
        },
        Err(error) => StoreError::Backend(error),
    }
}
