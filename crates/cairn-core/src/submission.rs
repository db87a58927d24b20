//! Submissions: a learner's evidence for one achievement, its life cycle
//! (`draft → submitted → in_review → passed | not_yet → resubmitted …`, `withdrawn`, `awarded`),
//! fees, collaborators and the issuer's assessment settings.

use crate::account::Email;
use crate::ids::{AchievementId, AwardId, SubmissionId, UserId};
use crate::invalid::{self, Invalid};
use time::{Date, OffsetDateTime};

/// Longest overview, reflection or text artefact, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most links in one submission.
pub const MAX_LINKS: usize = 20;
/// Most named collaborators.
pub const MAX_COLLABORATORS: usize = 10;
/// Most artefacts (files, links and texts) in one submission.
pub const MAX_ARTIFACTS: usize = 20;
/// The evidence storage a learner has with an issuer unless the issuer sets another, in MB
/// (MiB): room for a full submission of large files.
pub const DEFAULT_EVIDENCE_QUOTA_MB: u32 = 200;
/// The largest evidence storage an issuer may allow one learner, in MB (MiB).
pub const MAX_EVIDENCE_QUOTA_MB: u32 = 10_240;

/// Where a submission is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being prepared by the learner; autosaved.
    Draft,
    /// Waiting for its assessor.
    Submitted,
    /// The assessor has opened it.
    InReview,
    /// Every criterion met; waiting for staff confirmation when the issuer asks for it.
    Passed,
    /// Feedback given; the learner may revise and resubmit.
    NotYet,
    /// A revised attempt waiting for its assessor.
    Resubmitted,
    /// Withdrawn by the learner.
    Withdrawn,
    /// The credential was issued.
    Awarded,
}

impl Status {
    pub const ALL: [Status; 8] =
        [Status::Draft, Status::Submitted, Status::InReview, Status::Passed, Status::NotYet, Status::Resubmitted, Status::Withdrawn, Status::Awarded];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::Passed => "passed",
            Status::NotYet => "not_yet",
            Status::Resubmitted => "resubmitted",
            Status::Withdrawn => "withdrawn",
            Status::Awarded => "awarded",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Submitted => "Submitted",
            Status::InReview => "In review",
            Status::Passed => "Passed",
            Status::NotYet => "Not yet",
            Status::Resubmitted => "Resubmitted",
            Status::Withdrawn => "Withdrawn",
            Status::Awarded => "Awarded",
        }
    }

    /// Whether the learner may edit the evidence (a draft, or a "not yet" being revised).
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::NotYet)
    }

    /// Whether the submission sits in an assessor's queue.
    pub fn is_queued(self) -> bool {
        matches!(self, Status::Submitted | Status::Resubmitted | Status::InReview)
    }

    /// Whether the service-window clock is running.
    pub fn clock_running(self) -> bool {
        self.is_queued()
    }

    /// Whether the work is decided for good (passed, awarded or withdrawn): collaborators can no
    /// longer add their reflections.
    pub fn is_decided(self) -> bool {
        matches!(self, Status::Passed | Status::Awarded | Status::Withdrawn)
    }
}

/// Something that moves a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The learner sends the first attempt.
    Submit,
    /// The learner sends a revised attempt after "not yet".
    Resubmit,
    /// The assigned assessor opens it.
    StartReview,
    /// The assessor decides.
    Judge(Outcome),
    /// Staff confirm a pass (second stage), or the award is issued directly.
    Award,
    /// The learner withdraws.
    Withdraw,
}

/// An assessor's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    NotYet,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::NotYet => "not_yet",
        }
    }

    pub fn parse(raw: &str) -> Option<Outcome> {
        match raw {
            "pass" => Some(Outcome::Pass),
            "not_yet" => Some(Outcome::NotYet),
            _ => None,
        }
    }
}

/// A move the life cycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} submission cannot be {action}", from.label().to_lowercase())]
pub struct TransitionError {
    pub from: Status,
    pub action: &'static str,
}

impl Event {
    fn verb(self) -> &'static str {
        match self {
            Event::Submit => "submitted",
            Event::Resubmit => "resubmitted",
            Event::StartReview => "opened for review",
            Event::Judge(_) => "assessed",
            Event::Award => "awarded",
            Event::Withdraw => "withdrawn",
        }
    }
}

/// The life cycle in one function: the status after `event`, or why it cannot happen.
///
/// # Errors
/// [`TransitionError`] naming the status and the refused action.
pub fn transition(from: Status, event: Event) -> Result<Status, TransitionError> {
    use Status::*;
    let to = match (from, event) {
        (Draft, Event::Submit) => Submitted,
        (NotYet, Event::Resubmit) => Resubmitted,
        (Submitted | Resubmitted, Event::StartReview) => InReview,
        (Submitted | Resubmitted | InReview, Event::Judge(Outcome::Pass)) => Passed,
        (Submitted | Resubmitted | InReview, Event::Judge(Outcome::NotYet)) => NotYet,
        (Passed, Event::Award) => Awarded,
        (Draft | Submitted | Resubmitted | NotYet, Event::Withdraw) => Withdrawn,
        _ => return Err(TransitionError { from, action: event.verb() }),
    };
    Ok(to)
}

/// Where a submission's fee stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeState {
    /// A free achievement.
    None,
    /// The learner owes the fee; submitting waits for it.
    Due,
    /// Staff recorded the payment.
    Paid,
    /// Staff waived the fee.
    Waived,
    /// The learner redeemed this voucher code.
    Voucher(String),
}

impl FeeState {
    pub fn as_str(&self) -> &'static str {
        match self {
            FeeState::None => "none",
            FeeState::Due => "due",
            FeeState::Paid => "paid",
            FeeState::Waived => "waived",
            FeeState::Voucher(_) => "voucher",
        }
    }

    /// Whether submitting may go ahead.
    pub fn is_settled(&self) -> bool {
        !matches!(self, FeeState::Due)
    }

    /// Words for people.
    pub fn label(&self) -> String {
        match self {
            FeeState::None => "No fee".into(),
            FeeState::Due => "Fee due".into(),
            FeeState::Paid => "Fee paid".into(),
            FeeState::Waived => "Fee waived".into(),
            FeeState::Voucher(code) => format!("Voucher {code} redeemed"),
        }
    }
}

/// Normalises a voucher code as typed (case and spaces do not matter).
///
/// # Errors
/// A message when the code is empty, too long or has characters other than letters, digits and dashes.
pub fn voucher_code(raw: &str) -> Result<String, String> {
    let code: String = raw.trim().to_ascii_uppercase().chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() || code.len() > 40 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("\"{}\" is not a voucher code", invalid::clip(raw.trim())));
    }
    Ok(code)
}

/// A submission's text parts as typed, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionFields {
    pub overview: String,
    pub reflection: String,
    pub links: Vec<String>,
    /// Collaborators' e-mail addresses.
    pub collaborators: Vec<String>,
}

/// A submission's text parts, validated (drafts may leave parts empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionContent {
    pub overview: String,
    pub reflection: String,
    pub links: Vec<String>,
    pub collaborators: Vec<Email>,
}

impl SubmissionContent {
    /// Applies the field rules that hold for drafts too: lengths, URLs, e-mail addresses, counts.
    /// Text holding control characters other than tab and line breaks is refused.
    ///
    /// # Errors
    /// Every broken rule, with pointers `/overview`, `/links/2`, `/collaborators/0`.
    pub fn parse(fields: &SubmissionFields, learner_email: &Email) -> Result<SubmissionContent, Invalid> {
        let mut invalid = Invalid::new();
        let overview = invalid::multiline(&mut invalid, "/overview", &fields.overview, 0, MAX_TEXT_CHARS);
        let reflection = invalid::multiline(&mut invalid, "/reflection", &fields.reflection, 0, MAX_TEXT_CHARS);
        if fields.links.len() > MAX_LINKS {
            invalid.push("/links", format!("at most {MAX_LINKS} links (got {})", fields.links.len()));
        }
        let mut links: Vec<String> = Vec::new();
        for (i, link) in fields.links.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            if let Some(url) = invalid::http_url(&mut invalid, &format!("/links/{i}"), link) {
                let url = url.to_string();
                if !links.contains(&url) {
                    links.push(url);
                }
            }
        }
        if fields.collaborators.len() > MAX_COLLABORATORS {
            invalid.push("/collaborators", format!("at most {MAX_COLLABORATORS} collaborators (got {})", fields.collaborators.len()));
        }
        let mut collaborators: Vec<Email> = Vec::new();
        for (i, raw) in fields.collaborators.iter().enumerate().filter(|(_, c)| !c.trim().is_empty()) {
            match Email::parse(raw) {
                Ok(email) if &email == learner_email => invalid.push(format!("/collaborators/{i}"), "you cannot name yourself as a collaborator"),
                Ok(email) => {
                    if !collaborators.contains(&email) {
                        collaborators.push(email);
                    }
                }
                Err(message) => invalid.push(format!("/collaborators/{i}"), message),
            }
        }
        invalid.into_result(SubmissionContent { overview, reflection, links, collaborators })
    }

    /// The rules for sending an attempt: an overview, a reflection and at least one artefact
    /// (a file, a text or a link).
    ///
    /// # Errors
    /// Each missing part, with its pointer.
    pub fn check_complete(&self, artifacts: usize) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        if self.overview.is_empty() {
            invalid.push("/overview", "write an overview of what you did before submitting");
        }
        if self.reflection.is_empty() {
            invalid.push("/reflection", "write your individual reflection before submitting");
        }
        if artifacts == 0 && self.links.is_empty() {
            invalid.push("/artifacts", "add at least one piece of evidence (a file, a text or a link) before submitting");
        }
        invalid.into_result(())
    }
}

/// Text as typed, made ready to keep: line endings normalised to line feeds. NUL and the other
/// control characters ([`crate::invalid::forbidden_char`]) are refused, not removed, so the
/// person learns that their text was not kept as sent.
///
/// # Errors
/// A message naming the first control character, for the field's error.
pub fn clean_text(raw: &str) -> Result<String, String> {
    if let Some(c) = crate::invalid::forbidden_char(raw) {
        return Err(crate::invalid::forbidden_char_message(c));
    }
    Ok(raw.replace("\r\n", "\n").replace('\r', ""))
}

/// Text that is not typed by a person, or already stored, made safe to show and sign: control
/// characters other than tab and line feed removed (some Open Badges verifiers refuse them),
/// line endings normalised. File names sent by browsers are cleaned this way.
pub fn strip_control_chars(raw: &str) -> String {
    raw.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n')).collect()
}

/// The opaque code assessors see instead of anything about the learner, e.g. `S-7KQ2-M9XD`:
/// derived from the random submission id, so it says nothing about who submitted.
pub fn submission_code(id: SubmissionId) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = id.0.as_bytes();
    let mut value = u64::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]]);
    let mut chars = Vec::with_capacity(8);
    for _ in 0..8 {
        chars.push(ALPHABET[(value % 32) as usize] as char);
        value /= 32;
    }
    let text: String = chars.into_iter().collect();
    format!("S-{}-{}", &text[..4], &text[4..])
}

/// An issuer's assessment settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerSettings {
    /// Business days from submission to decision (default 14).
    pub service_days: u32,
    /// Business days before the due date at which a submission counts as nearly due.
    pub nearly_due_days: u32,
    /// Most attempts a learner gets per submission; `None` for no limit.
    pub attempt_limit: Option<u32>,
    /// Whether a staff member confirms each pass before the award.
    pub confirm_passes: bool,
    /// Days without work besides weekends.
    pub holidays: Vec<Date>,
    /// Evidence storage each learner has with this issuer, in MB (MiB): the files of all their
    /// submissions to it, earlier attempts and withdrawn submissions included.
    pub evidence_quota_mb: u32,
    /// How learners pay a fee, in the issuer's words (empty until written).
    pub payment_instructions: String,
    /// Where learners pay, an http(s) address.
    pub payment_url: Option<String>,
    /// Whether a submit waits for every named collaborator's reflection.
    pub collaborator_reflections: ReflectionRule,
    /// Whether the achievement pages and comparisons show the issuer's outcome figures (pass
    /// rate, median time to decision; see [`crate::outcomes`]). Off by default.
    pub publish_outcomes: bool,
    /// The share of judgements, 0–100 %, that a second assessor scores again, blind, before the
    /// decision reaches the learner (see `crate::insight::sampled`).
    pub sampling_percent: u32,
}

/// What a submit does while a named collaborator's reflection is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReflectionRule {
    /// The learner is warned and may submit.
    #[default]
    Warn,
    /// The submit waits until every named collaborator has written theirs.
    Require,
}

impl ReflectionRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ReflectionRule::Warn => "warn",
            ReflectionRule::Require => "require",
        }
    }

    pub fn parse(raw: &str) -> Option<ReflectionRule> {
        match raw {
            "warn" => Some(ReflectionRule::Warn),
            "require" => Some(ReflectionRule::Require),
            _ => None,
        }
    }
}

/// Longest payment instructions, in characters.
pub const MAX_PAYMENT_INSTRUCTIONS_CHARS: usize = 2000;

impl Default for IssuerSettings {
    fn default() -> Self {
        IssuerSettings {
            service_days: 14,
            nearly_due_days: 2,
            attempt_limit: Some(3),
            confirm_passes: false,
            holidays: Vec::new(),
            evidence_quota_mb: DEFAULT_EVIDENCE_QUOTA_MB,
            payment_instructions: String::new(),
            payment_url: None,
            collaborator_reflections: ReflectionRule::Warn,
            publish_outcomes: false,
            sampling_percent: 0,
        }
    }
}

/// Settings as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerSettingsFields {
    pub service_days: String,
    pub nearly_due_days: String,
    /// Empty for no limit.
    pub attempt_limit: String,
    pub confirm_passes: bool,
    pub holidays: String,
    /// Empty for [`DEFAULT_EVIDENCE_QUOTA_MB`].
    pub evidence_quota_mb: String,
    pub payment_instructions: String,
    /// Empty for none.
    pub payment_url: String,
    /// `warn` or `require`; empty for `warn`.
    pub collaborator_reflections: String,
    pub publish_outcomes: bool,
    /// 0–100; empty for 0 (no second scoring).
    pub sampling_percent: String,
}

impl IssuerSettings {
    /// Applies the rules: 1–60 service days, 0–10 nearly-due days below the service days,
    /// 1–20 attempts or none, dates for holidays, 1–[`MAX_EVIDENCE_QUOTA_MB`] MB of evidence
    /// storage per learner (empty for the default), payment instructions of at most
    /// [`MAX_PAYMENT_INSTRUCTIONS_CHARS`], an http(s) payment address or none, and `warn` or
    /// `require` for missing collaborator reflections (empty for `warn`), and a sampling rate of
    /// 0–100 % (empty for 0).
    ///
    /// # Errors
    /// Every broken rule.
    pub fn parse(fields: &IssuerSettingsFields) -> Result<IssuerSettings, Invalid> {
        let mut invalid = Invalid::new();
        let number = |invalid: &mut Invalid, pointer: &str, raw: &str, min: u32, max: u32| -> u32 {
            match raw.trim().parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    invalid.push(pointer, format!("must be a whole number from {min} to {max}"));
                    min
                }
            }
        };
        let service_days = number(&mut invalid, "/service_days", &fields.service_days, 1, 60);
        let nearly_due_days = number(&mut invalid, "/nearly_due_days", &fields.nearly_due_days, 0, 10);
        if nearly_due_days >= service_days && invalid.is_empty() {
            invalid.push("/nearly_due_days", "must be fewer than the service days");
        }
        let attempt_limit =
            if fields.attempt_limit.trim().is_empty() { None } else { Some(number(&mut invalid, "/attempt_limit", &fields.attempt_limit, 1, 20)) };
        let holidays = crate::calendar::parse_holidays(&fields.holidays).unwrap_or_else(|message| {
            invalid.push("/holidays", message);
            Vec::new()
        });
        let evidence_quota_mb = if fields.evidence_quota_mb.trim().is_empty() {
            DEFAULT_EVIDENCE_QUOTA_MB
        } else {
            number(&mut invalid, "/evidence_quota_mb", &fields.evidence_quota_mb, 1, MAX_EVIDENCE_QUOTA_MB)
        };
        let payment_instructions =
            invalid::multiline(&mut invalid, "/payment_instructions", &fields.payment_instructions, 0, MAX_PAYMENT_INSTRUCTIONS_CHARS).trim().to_string();
        let payment_url = match fields.payment_url.trim() {
            "" => None,
            raw => invalid::http_url(&mut invalid, "/payment_url", raw).map(|url| url.to_string()),
        };
        let collaborator_reflections = match fields.collaborator_reflections.trim() {
            "" => ReflectionRule::Warn,
            raw => ReflectionRule::parse(raw).unwrap_or_else(|| {
                invalid.push("/collaborator_reflections", format!("\"{}\" is not warn or require", invalid::clip(raw)));
                ReflectionRule::Warn
            }),
        };
        let sampling_percent =
            if fields.sampling_percent.trim().is_empty() { 0 } else { number(&mut invalid, "/sampling_percent", &fields.sampling_percent, 0, 100) };
        invalid.into_result(IssuerSettings {
            service_days,
            nearly_due_days,
            attempt_limit,
            confirm_passes: fields.confirm_passes,
            holidays,
            evidence_quota_mb,
            payment_instructions,
            payment_url,
            collaborator_reflections,
            publish_outcomes: fields.publish_outcomes,
            sampling_percent,
        })
    }

    /// Back to fields, for the settings form.
    pub fn to_fields(&self) -> IssuerSettingsFields {
        IssuerSettingsFields {
            service_days: self.service_days.to_string(),
            nearly_due_days: self.nearly_due_days.to_string(),
            attempt_limit: self.attempt_limit.map(|n| n.to_string()).unwrap_or_default(),
            confirm_passes: self.confirm_passes,
            holidays: self.holidays.iter().map(|d| crate::calendar::format_date(*d)).collect::<Vec<_>>().join("\n"),
            evidence_quota_mb: self.evidence_quota_mb.to_string(),
            payment_instructions: self.payment_instructions.clone(),
            payment_url: self.payment_url.clone().unwrap_or_default(),
            collaborator_reflections: self.collaborator_reflections.as_str().to_string(),
            publish_outcomes: self.publish_outcomes,
            sampling_percent: self.sampling_percent.to_string(),
        }
    }

    /// The evidence storage each learner has with this issuer, in bytes.
    pub fn evidence_quota_bytes(&self) -> u64 {
        u64::from(self.evidence_quota_mb) * 1024 * 1024
    }

    /// The issuer's calendar.
    pub fn calendar(&self) -> crate::calendar::Calendar {
        crate::calendar::Calendar::new(self.holidays.iter().copied())
    }

    /// When an attempt sent at `at` is due.
    pub fn due_at(&self, at: OffsetDateTime) -> OffsetDateTime {
        self.calendar().add_business_days(at, self.service_days)
    }

    /// Whether another attempt is allowed after `attempts` attempts.
    pub fn allows_attempt(&self, attempts: u32) -> bool {
        self.attempt_limit.is_none_or(|limit| attempts < limit)
    }

    /// Attempts still allowed after `attempts` attempts (`None` when unlimited).
    pub fn attempts_left(&self, attempts: u32) -> Option<u32> {
        self.attempt_limit.map(|limit| limit.saturating_sub(attempts))
    }
}

/// Why an attempt cannot be sent for assessment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The submission's state does not allow sending (already sent, being assessed…).
    #[error(transparent)]
    State(TransitionError),
    /// The achievement's fee is neither paid nor waived.
    #[error("the fee for this achievement is due: redeem a voucher or wait for the issuer to record your payment")]
    FeeDue,
    /// A required part is missing.
    #[error("{0}")]
    Incomplete(Invalid),
    /// The issuer requires every named collaborator's reflection, and these are missing.
    #[error("the issuer requires every collaborator's reflection before you submit: waiting for {}", .0.iter().map(Email::as_str).collect::<Vec<_>>().join(", "))]
    ReflectionsMissing(Vec<Email>),
    /// A resubmission after the issuer's last allowed attempt.
    #[error("this achievement allows {limit} attempts and you have used them all")]
    NoAttemptsLeft { limit: u32 },
}

/// Whether `submission`, with `artifacts` evidence items, may be sent now under the issuer's
/// `settings`: the first attempt from a draft, a revised one after "not yet". `missing_reflections`
/// are the named collaborators who have not written their reflection yet. The checks run in the
/// order people fix them: the state, the fee, the required parts, the collaborators' reflections
/// (only when the issuer requires them; otherwise they are a warning the pages show), the attempt
/// limit.
///
/// # Errors
/// [`SendError`] saying what stands in the way.
pub fn may_send(submission: &Submission, artifacts: usize, missing_reflections: &[Email], settings: &IssuerSettings) -> Result<(Event, Status), SendError> {
    let event = if submission.status == Status::NotYet { Event::Resubmit } else { Event::Submit };
    let to = transition(submission.status, event).map_err(SendError::State)?;
    if !submission.fee.is_settled() {
        return Err(SendError::FeeDue);
    }
    submission.content.check_complete(artifacts).map_err(SendError::Incomplete)?;
    if settings.collaborator_reflections == ReflectionRule::Require && !missing_reflections.is_empty() {
        return Err(SendError::ReflectionsMissing(missing_reflections.to_vec()));
    }
    if event == Event::Resubmit && !settings.allows_attempt(submission.attempt) {
        return Err(SendError::NoAttemptsLeft { limit: settings.attempt_limit.unwrap_or(0) });
    }
    Ok((event, to))
}

/// A submission as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub id: SubmissionId,
    pub achievement: AchievementId,
    pub learner: UserId,
    pub status: Status,
    /// The attempt being prepared or judged, from 1.
    pub attempt: u32,
    pub content: SubmissionContent,
    pub fee: FeeState,
    /// The assessor judging the current attempt, once assigned.
    pub assessor: Option<UserId>,
    pub submitted_at: Option<OffsetDateTime>,
    pub due_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The award this submission renews (see `crate::renewal`); `None` for a first award.
    pub renewal_of: Option<AwardId>,
}

impl Submission {
    /// The opaque code for assessors.
    pub fn code(&self) -> String {
        submission_code(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_life_cycle_allows_only_its_moves() {
        use Status::*;
        assert_eq!(transition(Draft, Event::Submit), Ok(Submitted));
        assert_eq!(transition(Submitted, Event::StartReview), Ok(InReview));
        assert_eq!(transition(InReview, Event::Judge(Outcome::NotYet)), Ok(NotYet));
        assert_eq!(transition(NotYet, Event::Resubmit), Ok(Resubmitted));
        assert_eq!(transition(Resubmitted, Event::Judge(Outcome::Pass)), Ok(Passed));
        assert_eq!(transition(Passed, Event::Award), Ok(Awarded));
        assert_eq!(transition(Draft, Event::Withdraw), Ok(Withdrawn));
        let double = transition(Submitted, Event::Submit).unwrap_err();
        assert_eq!(double.to_string(), "a submitted submission cannot be submitted");
        assert!(transition(Awarded, Event::Withdraw).is_err());
        assert!(transition(InReview, Event::Withdraw).is_err());
        assert!(transition(Withdrawn, Event::Submit).is_err());
        assert!(transition(Draft, Event::Judge(Outcome::Pass)).is_err());
        assert!(transition(NotYet, Event::Judge(Outcome::Pass)).is_err());
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        let decided: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_decided()).collect();
        assert_eq!(decided.len(), 3, "{decided:?}");
        assert!([Status::Passed, Status::Awarded, Status::Withdrawn].iter().all(|s| decided.contains(s)), "{decided:?}");
    }

    fn learner() -> Email {
        Email::parse("learner@example.org").unwrap()
    }

    #[test]
    fn drafts_may_be_partial_but_fields_are_checked() {
        let content = SubmissionContent::parse(&SubmissionFields::default(), &learner()).unwrap();
        assert_eq!(content.check_complete(0).unwrap_err().errors.len(), 3);
        let fields = SubmissionFields {
            overview: "What I did\r\n".into(),
            reflection: "What I learnt\r\n".into(),
            links: vec!["https://example.org/work".into(), "https://example.org/work".into(), "".into()],
            collaborators: vec!["Friend@Example.org".into()],
        };
        let content = SubmissionContent::parse(&fields, &learner()).unwrap();
        assert_eq!(content.overview, "What I did");
        assert_eq!(content.links, vec!["https://example.org/work"]);
        assert_eq!(content.collaborators[0].as_str(), "friend@example.org");
        assert!(content.check_complete(0).is_ok());

        let bad = SubmissionFields {
            overview: "x".repeat(MAX_TEXT_CHARS + 1),
            links: vec!["javascript:alert(1)".into()],
            collaborators: vec!["not an address".into(), "learner@example.org".into()],
            ..Default::default()
        };
        let invalid = SubmissionContent::parse(&bad, &learner()).unwrap_err();
        for pointer in ["/overview", "/links/0", "/collaborators/0", "/collaborators/1"] {
            assert!(invalid.at(pointer).is_some(), "{pointer}: {invalid}");
        }
    }

    #[test]
    fn control_characters_are_refused_in_input_and_removed_from_stored_text() {
        assert_eq!(clean_text("a\tb\r\nc"), Ok("a\tb\nc".to_string()));
        assert_eq!(clean_text("a\u{0}b"), Err("must not contain control characters (found U+0000)".to_string()));
        assert_eq!(clean_text("a\u{85}b"), Err("must not contain control characters (found U+0085)".to_string()));
        assert_eq!(strip_control_chars("a\tb\r\nc\u{7}\u{85}\u{0}d"), "a\tb\ncd");
    }

    #[test]
    fn a_nul_in_any_text_part_is_refused_with_its_pointer() {
        let fields = SubmissionFields { overview: "fine".into(), reflection: "I learnt\u{0}".into(), ..Default::default() };
        let invalid = SubmissionContent::parse(&fields, &learner()).unwrap_err();
        assert_eq!(invalid.at("/reflection"), Some("must not contain control characters (found U+0000)"));
        assert_eq!(invalid.errors.len(), 1, "{invalid}");
    }

    #[test]
    fn codes_are_opaque_and_stable() {
        let id = SubmissionId::new();
        let code = submission_code(id);
        assert_eq!(code, submission_code(id));
        assert_eq!(code.len(), 11);
        assert!(code.starts_with("S-"));
        assert!(!code.contains(&id.to_string()[..8]));
    }

    #[test]
    fn settings_parse_and_round_trip() {
        let settings = IssuerSettings::parse(&IssuerSettings::default().to_fields()).unwrap();
        assert_eq!(settings, IssuerSettings::default());
        let bad = IssuerSettingsFields {
            service_days: "0".into(),
            nearly_due_days: "x".into(),
            attempt_limit: "99".into(),
            holidays: "tomorrow".into(),
            confirm_passes: true,
            evidence_quota_mb: "0".into(),
            ..IssuerSettingsFields::default()
        };
        let invalid = IssuerSettings::parse(&bad).unwrap_err();
        for pointer in ["/service_days", "/nearly_due_days", "/attempt_limit", "/holidays", "/evidence_quota_mb"] {
            assert!(invalid.at(pointer).is_some(), "{pointer}: {invalid}");
        }
        let unlimited = IssuerSettings { attempt_limit: None, ..IssuerSettings::default() };
        assert!(unlimited.allows_attempt(100));
        assert!(IssuerSettings::default().allows_attempt(2));
        assert!(!IssuerSettings::default().allows_attempt(3));
    }

    #[test]
    fn evidence_quota_defaults_when_empty_and_is_bounded() {
        let quota = |raw: &str| IssuerSettings::parse(&IssuerSettingsFields { evidence_quota_mb: raw.into(), ..IssuerSettings::default().to_fields() });
        assert_eq!(quota("").unwrap().evidence_quota_mb, DEFAULT_EVIDENCE_QUOTA_MB);
        assert_eq!(quota(" 50 ").unwrap().evidence_quota_bytes(), 50 * 1024 * 1024);
        assert_eq!(quota("10240").unwrap().evidence_quota_mb, MAX_EVIDENCE_QUOTA_MB);
        for bad in ["0", "10241", "-1", "lots", "1.5"] {
            assert_eq!(quota(bad).unwrap_err().at("/evidence_quota_mb"), Some("must be a whole number from 1 to 10240"), "{bad}");
        }
    }

    #[test]
    fn attempts_left_count_down_to_zero_or_stay_unlimited() {
        let three = IssuerSettings::default();
        assert_eq!([0, 1, 3, 5].map(|used| three.attempts_left(used)), [Some(3), Some(2), Some(0), Some(0)]);
        assert_eq!(IssuerSettings { attempt_limit: None, ..three }.attempts_left(7), None);
    }

    fn submission(status: Status, attempt: u32, fee: FeeState) -> Submission {
        let now = OffsetDateTime::UNIX_EPOCH;
        let fields = SubmissionFields { overview: "What I did".into(), reflection: "What I learnt".into(), ..Default::default() };
        Submission {
            id: SubmissionId::new(),
            achievement: AchievementId::new(),
            learner: UserId::new(),
            status,
            attempt,
            content: SubmissionContent::parse(&fields, &learner()).unwrap(),
            fee,
            assessor: None,
            submitted_at: None,
            due_at: None,
            created_at: now,
            updated_at: now,
            renewal_of: None,
        }
    }

    #[test]
    fn an_attempt_is_sent_only_in_order_paid_complete_and_within_the_limit() {
        let settings = IssuerSettings::default();
        let check = |status, attempt, fee, artifacts| may_send(&submission(status, attempt, fee), artifacts, &[], &settings);
        assert_eq!(check(Status::Draft, 1, FeeState::None, 1), Ok((Event::Submit, Status::Submitted)));
        assert_eq!(check(Status::NotYet, 2, FeeState::Paid, 1), Ok((Event::Resubmit, Status::Resubmitted)));
        assert!(matches!(check(Status::Submitted, 1, FeeState::Due, 0), Err(SendError::State(_))), "the state is checked first");
        assert_eq!(check(Status::Draft, 1, FeeState::Due, 0), Err(SendError::FeeDue), "then the fee");
        assert!(matches!(check(Status::Draft, 1, FeeState::Waived, 0), Err(SendError::Incomplete(invalid)) if invalid.at("/artifacts").is_some()));
        let spent = check(Status::NotYet, 3, FeeState::None, 1).unwrap_err();
        assert_eq!(spent, SendError::NoAttemptsLeft { limit: 3 });
        assert_eq!(spent.to_string(), "this achievement allows 3 attempts and you have used them all");
        assert_eq!(check(Status::Draft, 3, FeeState::None, 1).map(|(event, _)| event), Ok(Event::Submit), "the limit counts resubmissions");
        assert_eq!(SendError::FeeDue.to_string(), "the fee for this achievement is due: redeem a voucher or wait for the issuer to record your payment");
    }

    #[test]
    fn missing_collaborator_reflections_block_only_when_the_issuer_requires_them() {
        let missing = [Email::parse("sam@example.org").unwrap()];
        let draft = submission(Status::Draft, 1, FeeState::None);
        let warn = IssuerSettings::default();
        assert_eq!(may_send(&draft, 1, &missing, &warn), Ok((Event::Submit, Status::Submitted)), "warn: the page says so, the submit goes");
        let require = IssuerSettings { collaborator_reflections: ReflectionRule::Require, ..IssuerSettings::default() };
        let refused = may_send(&draft, 1, &missing, &require).unwrap_err();
        assert_eq!(refused, SendError::ReflectionsMissing(missing.to_vec()));
        assert_eq!(refused.to_string(), "the issuer requires every collaborator's reflection before you submit: waiting for sam@example.org");
        assert_eq!(may_send(&draft, 1, &[], &require), Ok((Event::Submit, Status::Submitted)));
        assert!(matches!(may_send(&draft, 0, &missing, &require), Err(SendError::Incomplete(_))), "the learner's own parts come first");
    }

    #[test]
    fn payment_details_and_the_reflection_rule_are_parsed() {
        let mut fields = IssuerSettings::default().to_fields();
        fields.payment_instructions = "  Pay by bank transfer to IBAN DE00 1234.\r\nQuote your submission code.  ".into();
        fields.payment_url = "https://pay.example.org/cairn".into();
        fields.collaborator_reflections = "require".into();
        let settings = IssuerSettings::parse(&fields).unwrap();
        assert_eq!(settings.payment_instructions, "Pay by bank transfer to IBAN DE00 1234.\nQuote your submission code.");
        assert_eq!(settings.payment_url.as_deref(), Some("https://pay.example.org/cairn"));
        assert_eq!(settings.collaborator_reflections, ReflectionRule::Require);
        assert_eq!(IssuerSettings::parse(&settings.to_fields()).unwrap(), settings);
        fields.payment_url = "ftp://pay.example.org".into();
        fields.collaborator_reflections = "block".into();
        let invalid = IssuerSettings::parse(&fields).unwrap_err();
        assert!(invalid.at("/payment_url").is_some(), "{invalid}");
        assert_eq!(invalid.at("/collaborator_reflections"), Some("\"block\" is not warn or require"));
    }

    #[test]
    fn the_sampling_rate_is_a_percentage_and_defaults_to_none() {
        let rate = |raw: &str| IssuerSettings::parse(&IssuerSettingsFields { sampling_percent: raw.into(), ..IssuerSettings::default().to_fields() });
        assert_eq!(rate("").unwrap().sampling_percent, 0);
        assert_eq!(rate(" 25 ").unwrap().sampling_percent, 25);
        assert_eq!(rate("100").unwrap().sampling_percent, 100);
        for bad in ["101", "-5", "half", "12.5"] {
            assert_eq!(rate(bad).unwrap_err().at("/sampling_percent"), Some("must be a whole number from 0 to 100"), "{bad}");
        }
    }

    #[test]
    fn vouchers_normalise() {
        assert_eq!(voucher_code(" abc-123 ").unwrap(), "ABC-123");
        assert!(voucher_code("").is_err());
        assert!(voucher_code("a;b").is_err());
    }
}
