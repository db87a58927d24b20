//! Achievements: micro-badges, micro-credentials and their three level badges (or existing
//! micro-badges as levels), certificates made of micro-credentials and micro-badges; content
//! rules, the draft → published → retired life cycle, and versioning of published work.

use crate::composition::{Credits, Rule};
use crate::ids::{AchievementId, OrganisationId};
use crate::image::ImageType;
use crate::invalid::{self, Invalid};
use crate::renewal::{RenewalFields, RenewalPath};
use crate::rubric::{Criterion, Rubric, RubricFields};
use std::fmt;
use time::OffsetDateTime;

/// The three levels of every micro-credential, in order.
pub const LEVEL_TITLES: [&str; 3] = ["Foundations", "Practice", "Real-world application"];

/// What sort of achievement this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A stand-alone credential.
    MicroBadge,
    /// A stack of three level badges, awarded when all three are held.
    MicroCredential,
    /// Level 1, 2 or 3 of a micro-credential (see [`Achievement::parent`]).
    Level(u8),
    /// A larger qualification, awarded when its components meet its [`Rule`].
    Certificate,
}

impl Kind {
    /// The API and storage name: `micro-badge`, `micro-credential` or `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MicroBadge => "micro-badge",
            Kind::MicroCredential => "micro-credential",
            Kind::Level(_) => "level",
            Kind::Certificate => "certificate",
        }
    }

    /// The words a person reads.
    pub fn label(self) -> String {
        match self {
            Kind::MicroBadge => "Micro-badge".to_string(),
            Kind::MicroCredential => "Micro-credential".to_string(),
            Kind::Level(n) => format!("Level {n}"),
            Kind::Certificate => "Certificate".to_string(),
        }
    }
}

/// Where an achievement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Only its organisation sees it; edits change it in place.
    Draft,
    /// In the catalog; edits create a new version.
    Published,
    /// Out of the catalog; awards already made stay valid.
    Retired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Published => "published",
            State::Retired => "retired",
        }
    }

    /// Parses a stored or requested state name.
    pub fn parse(raw: &str) -> Option<State> {
        match raw {
            "draft" => Some(State::Draft),
            "published" => Some(State::Published),
            "retired" => Some(State::Retired),
            _ => None,
        }
    }
}

/// How an edit is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    /// A draft changes in place.
    InPlace,
    /// A published achievement gains a new version; awards keep the one they were assessed under.
    NewVersion,
}

/// Why a life-cycle step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("achievement is already published")]
    AlreadyPublished,
    #[error("only a published achievement can be retired (this one is {0})")]
    NotPublished(&'static str),
    #[error("a retired achievement cannot be edited; publish it again first")]
    Retired,
    #[error("a level badge is published and retired with its micro-credential")]
    LevelFollowsParent,
}

impl Achievement {
    /// Publishing: drafts and retired achievements may be published; levels follow their parent.
    ///
    /// # Errors
    /// [`TransitionError`] naming why not.
    pub fn publish(&self) -> Result<State, TransitionError> {
        if matches!(self.kind, Kind::Level(_)) {
            return Err(TransitionError::LevelFollowsParent);
        }
        match self.state {
            State::Draft | State::Retired => Ok(State::Published),
            State::Published => Err(TransitionError::AlreadyPublished),
        }
    }

    /// Retiring: only published achievements; levels follow their parent.
    ///
    /// # Errors
    /// [`TransitionError`] naming why not.
    pub fn retire(&self) -> Result<State, TransitionError> {
        if matches!(self.kind, Kind::Level(_)) {
            return Err(TransitionError::LevelFollowsParent);
        }
        match self.state {
            State::Published => Ok(State::Retired),
            other => Err(TransitionError::NotPublished(other.as_str())),
        }
    }

    /// How an edit applies in the current state.
    ///
    /// # Errors
    /// [`TransitionError::Retired`] for retired achievements.
    pub fn edit_mode(&self) -> Result<EditMode, TransitionError> {
        match self.state {
            State::Draft => Ok(EditMode::InPlace),
            State::Published => Ok(EditMode::NewVersion),
            State::Retired => Err(TransitionError::Retired),
        }
    }

    /// The rubric the achievement is judged by: its own, or for one without a rubric a single
    /// criterion, "the evidence meets the achievement's criteria", met or not yet.
    pub fn rubric(&self) -> Rubric {
        self.content.rubric.clone().unwrap_or_else(|| Rubric {
            levels: vec!["Not yet".into(), "Met".into()],
            criteria: vec![Criterion {
                id: "criteria".into(),
                name: "Criteria".into(),
                description: "The evidence meets the achievement's criteria.".into(),
                required_level: 1,
                descriptors: vec!["The criteria are not yet met.".into(), "The criteria are met.".into()],
            }],
        })
    }

    /// The rubric a submission is judged by: a renewal's on a light renewal path is the renewal
    /// rubric, every other one [`Achievement::rubric`].
    pub fn assessment_rubric(&self, renewal: bool) -> Rubric {
        self.renewal_rubric(renewal).cloned().unwrap_or_else(|| self.rubric())
    }

    /// The renewal rubric, when a renewal (`renewal`) is judged by one: on a light renewal path.
    pub fn renewal_rubric(&self, renewal: bool) -> Option<&Rubric> {
        self.content.renewal.rubric().filter(|_| renewal)
    }
}

/// A fee in minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fee {
    Free,
    Paid { amount_minor: i64, currency: String },
}

impl Fee {
    pub fn is_free(&self) -> bool {
        matches!(self, Fee::Free)
    }

    /// `49.00` style amount (two decimals), or `None` when free.
    pub fn amount_text(&self) -> Option<String> {
        match self {
            Fee::Free => None,
            Fee::Paid { amount_minor, .. } => Some(minor_units_text(*amount_minor)),
        }
    }
}

/// An amount in minor units as `49.00` (two decimals), as fees are kept.
pub fn minor_units_text(amount_minor: i64) -> String {
    format!("{}.{:02}", amount_minor / 100, amount_minor % 100)
}

impl fmt::Display for Fee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fee::Free => f.write_str("Free"),
            Fee::Paid { currency, .. } => write!(f, "{} {}", self.amount_text().unwrap_or_default(), currency),
        }
    }
}

/// How a micro-credential's fee is charged across its levels (see [`crate::fees`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeePlan {
    /// The whole fee, once, before the first level is assessed; it then covers every level.
    #[default]
    Upfront,
    /// A third of the fee per level, each due before that level is assessed.
    PerLevel,
}

impl FeePlan {
    /// The API and storage name: `upfront` or `per-level`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeePlan::Upfront => "upfront",
            FeePlan::PerLevel => "per-level",
        }
    }

    pub fn parse(raw: &str) -> Option<FeePlan> {
        match raw {
            "upfront" => Some(FeePlan::Upfront),
            "per-level" => Some(FeePlan::PerLevel),
            _ => None,
        }
    }
}

/// The OB 3.0 `AlignmentTargetType` values accepted (plus `ext:` extensions).
pub const ALIGNMENT_TYPES: [&str; 7] = ["ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL"];

/// A competency, skill or standard the achievement aligns to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    pub target_name: String,
    pub target_url: String,
    pub target_description: Option<String>,
    pub target_framework: Option<String>,
    pub target_code: Option<String>,
    pub target_type: Option<String>,
}

/// An alignment before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlignmentFields {
    pub target_name: String,
    pub target_url: String,
    pub target_description: Option<String>,
    pub target_framework: Option<String>,
    pub target_code: Option<String>,
    pub target_type: Option<String>,
}

/// A stored badge image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Blob key in the blob store.
    pub key: String,
    pub image_type: ImageType,
}

/// Everything an issuer writes about an achievement; one version of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AchievementContent {
    pub name: String,
    pub description: String,
    /// Criteria narrative in Markdown (rendered with [`crate::markdown::render_markdown`]).
    pub criteria: String,
    /// The public rubric; every assessed achievement has one, a micro-credential (awarded by
    /// holding its levels) may not.
    pub rubric: Option<Rubric>,
    pub alignments: Vec<Alignment>,
    pub tags: Vec<String>,
    /// BCP 47 language tag of the content.
    pub language: String,
    /// Estimated learner effort, in minutes.
    pub effort_minutes: Option<u32>,
    pub fee: Fee,
    /// How a micro-credential's fee is charged across its levels; [`FeePlan::Upfront`] for
    /// every other kind.
    pub fee_plan: FeePlan,
    /// Months an award stays valid; `None` never expires.
    pub validity_months: Option<u32>,
    /// Uploaded image; `None` uses the generated default.
    pub image: Option<ImageRef>,
    /// Credit hours the achievement carries (OB 3.0 `creditsAvailable`).
    pub credits: Option<Credits>,
    /// How its awards are renewed once they near their end ([`RenewalPath::Full`] unless the
    /// issuer chose a light renewal).
    pub renewal: RenewalPath,
}

/// Content as typed in a form or sent to the API, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AchievementFields {
    pub name: String,
    pub description: String,
    pub criteria: String,
    pub rubric: Option<RubricFields>,
    pub alignments: Vec<AlignmentFields>,
    pub tags: Vec<String>,
    pub language: Option<String>,
    pub effort_hours: Option<f64>,
    /// Decimal amount such as `49` or `49.50`; absent, empty or zero means free.
    pub fee_amount: Option<String>,
    pub fee_currency: Option<String>,
    /// `upfront` or `per-level` (a micro-credential's only); absent or empty means `upfront`.
    pub fee_plan: Option<String>,
    pub validity_months: Option<i64>,
    /// Credit hours, a decimal such as `1.5`; absent means none.
    pub credits_available: Option<f64>,
    /// The renewal path; absent means a full reassessment.
    pub renewal: Option<RenewalFields>,
}

/// Most alignments and tags per achievement.
pub const MAX_ALIGNMENTS: usize = 30;
pub const MAX_TAGS: usize = 20;

impl AchievementContent {
    /// Applies the content rules for an achievement of `kind`.
    ///
    /// # Errors
    /// Every broken rule, addressed by pointers into the API's input shape.
    pub fn parse(fields: &AchievementFields, kind: Kind) -> Result<AchievementContent, Invalid> {
        let mut invalid = Invalid::new();
        let name = invalid::text(&mut invalid, "/name", &fields.name, 1, 120);
        let description = invalid::text(&mut invalid, "/description", &fields.description, 1, 4000);
        let criteria = invalid::text(&mut invalid, "/criteria", &fields.criteria, 1, 20_000);
        let awarded_by_components = matches!(kind, Kind::MicroCredential | Kind::Certificate);
        let rubric = match &fields.rubric {
            Some(rubric) if !(awarded_by_components && rubric.criteria.is_empty() && rubric.levels.is_empty()) => match Rubric::parse(rubric) {
                Ok(rubric) => Some(rubric),
                Err(errors) => {
                    invalid.extend_under("/rubric", errors);
                    None
                }
            },
            _ if awarded_by_components => None,
            _ => {
                invalid.push("/rubric", "an assessed achievement needs a public rubric");
                None
            }
        };
        if fields.alignments.len() > MAX_ALIGNMENTS {
            invalid.push("/alignments", format!("at most {MAX_ALIGNMENTS} alignments"));
        }
        let alignments = fields.alignments.iter().enumerate().take(MAX_ALIGNMENTS).map(|(i, a)| parse_alignment(&mut invalid, i, a)).collect();
        let tags = parse_tags(&mut invalid, &fields.tags);
        let language = match fields.language.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => "en".to_string(),
            Some(tag) if is_language_tag(tag) => tag.to_string(),
            Some(tag) => {
                invalid.push("/language", format!("\"{}\" is not a language tag such as en or fr-CA", invalid::clip(tag)));
                tag.to_string()
            }
        };
        let effort_minutes = match fields.effort_hours {
            None => None,
            Some(hours) if hours.is_finite() && hours > 0.0 && hours <= 10_000.0 => Some((hours * 60.0).round() as u32),
            Some(hours) => {
                invalid.push("/effort_hours", format!("{hours} is not between 0 and 10000 hours"));
                None
            }
        };
        let fee = parse_fee(&mut invalid, fields.fee_amount.as_deref(), fields.fee_currency.as_deref());
        let fee_plan = match fields.fee_plan.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => FeePlan::Upfront,
            Some(raw) => match FeePlan::parse(raw) {
                Some(FeePlan::PerLevel) if kind != Kind::MicroCredential => {
                    invalid.push("/fee/plan", "only a micro-credential's fee can be split across its levels");
                    FeePlan::Upfront
                }
                Some(plan) => plan,
                None => {
                    invalid.push("/fee/plan", format!("\"{}\" is not a fee plan (upfront or per-level)", invalid::clip(raw)));
                    FeePlan::Upfront
                }
            },
        };
        let validity_months = match fields.validity_months {
            None | Some(0) => None,
            Some(months) if (1..=600).contains(&months) => Some(months as u32),
            Some(months) => {
                invalid.push("/validity_months", format!("{months} is not between 1 and 600 months"));
                None
            }
        };
        let credits = fields.credits_available.and_then(|hours| Credits::parse(hours).map_err(|detail| invalid.push("/credits_available", detail)).ok());
        let renewal = RenewalPath::parse(&mut invalid, fields.renewal.as_ref(), kind, validity_months);
        invalid.into_result(AchievementContent {
            name,
            description,
            criteria,
            rubric,
            alignments,
            tags,
            language,
            effort_minutes,
            fee,
            fee_plan,
            validity_months,
            image: None,
            credits,
            renewal,
        })
    }

    /// Back to fields, for editing forms.
    pub fn to_fields(&self) -> AchievementFields {
        AchievementFields {
            name: self.name.clone(),
            description: self.description.clone(),
            criteria: self.criteria.clone(),
            rubric: self.rubric.as_ref().map(Rubric::to_fields),
            alignments: self
                .alignments
                .iter()
                .map(|a| AlignmentFields {
                    target_name: a.target_name.clone(),
                    target_url: a.target_url.clone(),
                    target_description: a.target_description.clone(),
                    target_framework: a.target_framework.clone(),
                    target_code: a.target_code.clone(),
                    target_type: a.target_type.clone(),
                })
                .collect(),
            tags: self.tags.clone(),
            language: Some(self.language.clone()),
            effort_hours: self.effort_minutes.map(|m| f64::from(m) / 60.0),
            fee_amount: self.fee.amount_text(),
            fee_currency: match &self.fee {
                Fee::Free => None,
                Fee::Paid { currency, .. } => Some(currency.clone()),
            },
            fee_plan: Some(self.fee_plan.as_str().to_string()),
            validity_months: self.validity_months.map(i64::from),
            credits_available: self.credits.map(Credits::as_f64),
            renewal: Some(self.renewal.to_fields()),
        }
    }

    /// Text for the full-text index: name, description, criteria, rubric, competencies and tags.
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.name.clone(), self.description.clone(), crate::markdown::markdown_to_text(&self.criteria)];
        if let Some(rubric) = &self.rubric {
            for criterion in &rubric.criteria {
                parts.push(criterion.name.clone());
                parts.push(criterion.description.clone());
            }
        }
        for alignment in &self.alignments {
            parts.push(alignment.target_name.clone());
            parts.extend(alignment.target_code.clone());
            parts.extend(alignment.target_framework.clone());
        }
        parts.extend(self.tags.iter().cloned());
        parts.join(" \n")
    }

    /// Estimated effort in words ("90 minutes", "12 hours").
    pub fn effort_text(&self) -> Option<String> {
        self.effort_minutes.map(|m| match m {
            m if m < 120 => format!("{m} minutes"),
            m if m % 60 == 0 => format!("{} hours", m / 60),
            m => format!("{:.1} hours", f64::from(m) / 60.0),
        })
    }

    /// Validity in words ("Valid for 24 months", "Does not expire").
    pub fn validity_text(&self) -> String {
        match self.validity_months {
            None => "Does not expire".to_string(),
            Some(1) => "Valid for 1 month".to_string(),
            Some(m) => format!("Valid for {m} months"),
        }
    }
}

fn parse_alignment(invalid: &mut Invalid, i: usize, a: &AlignmentFields) -> Alignment {
    let at = |field: &str| format!("/alignments/{i}/{field}");
    let optional = |invalid: &mut Invalid, field: &str, value: &Option<String>, max: usize| {
        value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| invalid::text(invalid, &at(field), s, 1, max))
    };
    let target_name = invalid::text(invalid, &at("target_name"), &a.target_name, 1, 200);
    let target_url = invalid::http_url(invalid, &at("target_url"), &a.target_url).map(|u| u.to_string()).unwrap_or_default();
    let target_type = a.target_type.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|t| {
        let extension = t.starts_with("ext:") && t.len() > 4 && t.len() <= 64 && invalid::forbidden_char(t).is_none();
        if !(ALIGNMENT_TYPES.contains(&t) || extension) {
            invalid.push(at("target_type"), format!("\"{}\" is not an alignment type ({} or ext:…)", invalid::clip(t), ALIGNMENT_TYPES.join(", ")));
        }
        t.to_string()
    });
    Alignment {
        target_name,
        target_url,
        target_description: optional(invalid, "target_description", &a.target_description, 1000),
        target_framework: optional(invalid, "target_framework", &a.target_framework, 200),
        target_code: optional(invalid, "target_code", &a.target_code, 100),
        target_type,
    }
}

fn parse_tags(invalid: &mut Invalid, raw: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for (i, tag) in raw.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        if !invalid::printable(invalid, &format!("/tags/{i}"), tag) {
            continue;
        }
        if tag.chars().count() > 40 {
            invalid.push(format!("/tags/{i}"), format!("tag \"{}\" is longer than 40 characters", invalid::clip(tag)));
        } else if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        invalid.push("/tags", format!("at most {MAX_TAGS} tags (got {})", tags.len()));
    }
    tags
}

fn parse_fee(invalid: &mut Invalid, amount: Option<&str>, currency: Option<&str>) -> Fee {
    let amount = amount.map(str::trim).filter(|s| !s.is_empty());
    let Some(amount) = amount else { return Fee::Free };
    let amount_minor = match parse_decimal_minor(amount) {
        Some(minor) => minor,
        None => {
            invalid.push("/fee/amount", format!("\"{}\" is not an amount such as 49 or 49.50", invalid::clip(amount)));
            return Fee::Free;
        }
    };
    if amount_minor == 0 {
        return Fee::Free;
    }
    let currency = currency.map(str::trim).unwrap_or("").to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        invalid.push("/fee/currency", format!("\"{}\" is not a three-letter currency code such as EUR", invalid::clip(&currency)));
    }
    Fee::Paid { amount_minor, currency }
}

/// `49`, `49.5`, `49.50` → 4950; at most 2 decimals and 1,000,000.00.
fn parse_decimal_minor(raw: &str) -> Option<i64> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() || whole.len() > 7 || !whole.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    let minor = whole * 100 + fraction;
    (minor <= 100_000_000).then_some(minor)
}

/// A loose BCP 47 check: a 2–3 letter primary tag, then subtags of 1–8 letters or digits.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())) && tag.len() <= 35
}

/// One stored achievement version, as the catalog and the signer see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Achievement {
    pub id: AchievementId,
    pub organisation: OrganisationId,
    pub kind: Kind,
    /// The micro-credential a level belongs to.
    pub parent: Option<AchievementId>,
    pub state: State,
    /// Version number, from 1; awards reference the version they were assessed under.
    pub version: u32,
    pub content: AchievementContent,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub published_at: Option<OffsetDateTime>,
    /// For a micro-credential: whether its levels may be taken in any order (by default each
    /// level needs the ones before it).
    pub levels_in_any_order: bool,
    /// For a certificate: when its components earn it.
    pub rule: Option<Rule>,
}

/// Creating an achievement: a micro-badge; a micro-credential with exactly three levels written
/// inline, or composed of existing micro-badges; a certificate of micro-credentials and
/// micro-badges under a rule.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // built once per request; boxing would only add noise
pub enum NewAchievement {
    MicroBadge(AchievementContent),
    MicroCredential {
        credential: AchievementContent,
        levels: [AchievementContent; 3],
        any_order: bool,
    },
    /// A micro-credential whose levels are existing micro-badges, in order (checked against the
    /// store with [`crate::composition::check_components`]).
    Composed {
        credential: AchievementContent,
        badges: Vec<AchievementId>,
        any_order: bool,
    },
    Certificate {
        certificate: AchievementContent,
        rule: Rule,
        components: Vec<AchievementId>,
    },
}

/// A certificate's or composed micro-credential's requirements before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequirementsFields {
    /// `all`, `n_of` or `min_credits` (a certificate's; a micro-credential's is always `all`).
    pub rule: Option<String>,
    pub n: Option<i64>,
    pub min_credits: Option<f64>,
    /// Achievement ids, in order.
    pub components: Vec<String>,
}

/// Input for creating an achievement before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAchievementFields {
    /// `micro-badge`, `micro-credential` or `certificate`.
    pub kind: String,
    pub content: AchievementFields,
    /// Exactly three for a micro-credential written inline, none otherwise.
    pub levels: Vec<AchievementFields>,
    /// A micro-credential's: whether its levels may be taken in any order.
    pub levels_in_any_order: bool,
    /// A certificate's, or a micro-credential's made of existing micro-badges.
    pub requirements: Option<RequirementsFields>,
}

fn component_ids(invalid: &mut Invalid, raw: &[String]) -> Vec<AchievementId> {
    if raw.len() > crate::composition::MAX_COMPONENTS {
        invalid.push("/requirements/components", format!("at most {} components", crate::composition::MAX_COMPONENTS));
        return Vec::new();
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, id)| {
            id.trim()
                .parse()
                .map_err(|_| invalid.push(format!("/requirements/components/{i}"), format!("\"{}\" is not an achievement id", invalid::clip(id))))
                .ok()
        })
        .collect()
}

impl NewAchievement {
    /// Applies the content rules and the shape rules (a micro-credential has exactly three levels
    /// or existing micro-badges as its levels; a certificate has a rule and components).
    ///
    /// # Errors
    /// Every broken rule; level errors sit under `/levels/N`, requirements under `/requirements`.
    pub fn parse(fields: &NewAchievementFields) -> Result<NewAchievement, Invalid> {
        match fields.kind.trim() {
            "micro-badge" | "certificate" if fields.levels_in_any_order => {
                Err(Invalid::one("/levels_in_any_order", "only a micro-credential has levels to take in order"))
            }
            "certificate" => {
                let mut invalid = Invalid::new();
                if !fields.levels.is_empty() {
                    invalid.push("/levels", "a certificate has components, not levels");
                }
                let certificate = AchievementContent::parse(&fields.content, Kind::Certificate).map_err(|e| invalid.extend_under("", e)).ok();
                let Some(requirements) = &fields.requirements else {
                    invalid.push("/requirements", "a certificate needs requirements: a rule and its components");
                    return Err(invalid);
                };
                let rule = Rule::parse(requirements.rule.as_deref().unwrap_or(""), requirements.n, requirements.min_credits)
                    .map_err(|e| invalid.extend_under("", e))
                    .ok();
                let components = component_ids(&mut invalid, &requirements.components);
                match (certificate, rule) {
                    (Some(certificate), Some(rule)) if invalid.is_empty() => Ok(NewAchievement::Certificate { certificate, rule, components }),
                    _ => Err(invalid),
                }
            }
            "micro-credential" if fields.requirements.is_some() => {
                let mut invalid = Invalid::new();
                if !fields.levels.is_empty() {
                    invalid.push("/levels", "a micro-credential made of existing micro-badges has no levels written here");
                }
                let credential = AchievementContent::parse(&fields.content, Kind::MicroCredential).map_err(|e| invalid.extend_under("", e)).ok();
                let requirements = fields.requirements.as_ref().map(|r| (r.rule.as_deref(), r.components.as_slice()));
                let (rule, raw) = requirements.unwrap_or((None, &[]));
                if rule.is_some_and(|r| r.trim() != "all" && !r.trim().is_empty()) {
                    invalid.push("/requirements/rule", "a micro-credential needs all of its levels");
                }
                let badges = component_ids(&mut invalid, raw);
                match credential {
                    Some(credential) if invalid.is_empty() => Ok(NewAchievement::Composed { credential, badges, any_order: fields.levels_in_any_order }),
                    _ => Err(invalid),
                }
            }
            "micro-badge" => {
                let mut invalid = Invalid::new();
                if !fields.levels.is_empty() {
                    invalid.push("/levels", "a micro-badge has no levels");
                }
                if fields.requirements.is_some() {
                    invalid.push("/requirements", "a micro-badge has no components");
                }
                let content = AchievementContent::parse(&fields.content, Kind::MicroBadge);
                match content {
                    Ok(content) if invalid.is_empty() => Ok(NewAchievement::MicroBadge(content)),
                    Ok(_) => Err(invalid),
                    Err(errors) => {
                        invalid.extend_under("", errors);
                        Err(invalid)
                    }
                }
            }
            "micro-credential" => {
                let mut invalid = Invalid::new();
                let credential = AchievementContent::parse(&fields.content, Kind::MicroCredential).map_err(|e| invalid.extend_under("", e)).ok();
                if fields.levels.len() != 3 {
                    invalid.push("/levels", format!("a micro-credential has exactly 3 levels (got {})", fields.levels.len()));
                    return Err(invalid);
                }
                let mut levels = Vec::new();
                for (i, level) in fields.levels.iter().enumerate() {
                    match AchievementContent::parse(level, Kind::Level(i as u8 + 1)) {
                        Ok(content) => levels.push(content),
                        Err(errors) => invalid.extend_under(&format!("/levels/{i}"), errors),
                    }
                }
                match (credential, <[AchievementContent; 3]>::try_from(levels)) {
                    (Some(credential), Ok(levels)) if invalid.is_empty() => {
                        Ok(NewAchievement::MicroCredential { credential, levels, any_order: fields.levels_in_any_order })
                    }
                    _ => Err(invalid),
                }
            }
            other => Err(Invalid::one("/kind", format!("\"{}\" is not a kind (micro-badge, micro-credential or certificate)", invalid::clip(other)))),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rubric::CriterionFields;

    pub(crate) fn valid_fields(name: &str) -> AchievementFields {
        AchievementFields {
            name: name.into(),
            description: "Design and run queries".into(),
            criteria: "Submit **three** queries".into(),
            rubric: Some(RubricFields {
                levels: vec!["Developing".into(), "Proficient".into()],
                criteria: vec![CriterionFields {
                    id: None,
                    name: "Correctness".into(),
                    description: String::new(),
                    required_level: "Proficient".into(),
                    descriptors: vec!["Some results wrong".into(), "All results right".into()],
                }],
            }),
            ..Default::default()
        }
    }

    #[track_caller]
    fn check(edit: impl FnOnce(&mut AchievementFields), expected: &[&str]) {
        let mut fields = valid_fields("SQL basics");
        edit(&mut fields);
        let got: Vec<String> = match AchievementContent::parse(&fields, Kind::MicroBadge) {
            Ok(_) => vec![],
            Err(invalid) => invalid.errors.iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect(),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn content_rules() {
        check(|_| {}, &[]);
        check(|f| f.name = "  ".into(), &["/name is required"]);
        check(|f| f.rubric = None, &["/rubric an assessed achievement needs a public rubric"]);
        check(
            |f| {
                f.rubric.as_mut().unwrap().levels.pop();
            },
            &[
                "/rubric/levels a rubric needs 2 to 6 levels (got 1)",
                "/rubric/criteria/0/required_level \"Proficient\" is not a level of this rubric",
                "/rubric/criteria/0/descriptors needs one descriptor per level (1; got 2)",
            ],
        );
        check(|f| f.fee_amount = Some("49.5".into()), &["/fee/currency \"\" is not a three-letter currency code such as EUR"]);
        check(|f| f.fee_amount = Some("4,9".into()), &["/fee/amount \"4,9\" is not an amount such as 49 or 49.50"]);
        check(|f| f.validity_months = Some(-3), &["/validity_months -3 is not between 1 and 600 months"]);
        check(|f| f.effort_hours = Some(f64::NAN), &["/effort_hours NaN is not between 0 and 10000 hours"]);
        check(|f| f.language = Some("english please".into()), &["/language \"english please\" is not a language tag such as en or fr-CA"]);
        check(
            |f| {
                f.alignments = vec![AlignmentFields {
                    target_name: "SQL".into(),
                    target_url: "javascript:alert(1)".into(),
                    target_type: Some("Skill".into()),
                    ..Default::default()
                }]
            },
            &[
                "/alignments/0/target_url \"javascript:alert(1)\" is not an http(s) URL",
                "/alignments/0/target_type \"Skill\" is not an alignment type (ceasn:Competency, ceterms:Credential, CFItem, CFRubric, CFRubricCriterion, CFRubricCriterionLevel, CTDL or ext:…)",
            ],
        );
        let long_tag = format!("/tags/0 tag \"{}\" is longer than 40 characters", "x".repeat(41));
        check(|f| f.tags = vec!["x".repeat(41)], &[long_tag.as_str()]);
    }

    #[test]
    fn fees_are_parsed_into_minor_units() {
        let mut fields = valid_fields("Paid");
        fields.fee_amount = Some("49.5".into());
        fields.fee_currency = Some("eur".into());
        let content = AchievementContent::parse(&fields, Kind::MicroBadge).unwrap();
        assert_eq!(content.fee, Fee::Paid { amount_minor: 4950, currency: "EUR".into() });
        assert_eq!(content.fee.to_string(), "49.50 EUR");
        fields.fee_amount = Some("0".into());
        assert!(AchievementContent::parse(&fields, Kind::MicroBadge).unwrap().fee.is_free());
    }

    #[test]
    fn content_round_trips_through_fields() {
        let mut fields = valid_fields("Round trip");
        fields.tags = vec!["sql".into(), "SQL".into(), "data".into()];
        fields.effort_hours = Some(1.5);
        fields.validity_months = Some(24);
        let content = AchievementContent::parse(&fields, Kind::MicroBadge).unwrap();
        assert_eq!(content.tags, ["sql", "data"]);
        assert_eq!(content.effort_text().as_deref(), Some("90 minutes"));
        assert_eq!(AchievementContent::parse(&content.to_fields(), Kind::MicroBadge).unwrap(), content);
    }

    #[test]
    fn a_micro_credential_has_exactly_three_levels() {
        let mut fields = NewAchievementFields {
            kind: "micro-credential".into(),
            content: valid_fields("Data"),
            levels: vec![valid_fields("L1"), valid_fields("L2")],
            ..Default::default()
        };
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].detail, "a micro-credential has exactly 3 levels (got 2)");
        fields.levels.push(valid_fields("L3"));
        fields.content.rubric = None;
        assert!(matches!(NewAchievement::parse(&fields), Ok(NewAchievement::MicroCredential { .. })));
        fields.levels[2].rubric = None;
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].pointer, "/levels/2/rubric");
        fields.kind = "badge".into();
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].pointer, "/kind");
    }

    #[test]
    fn certificates_and_composed_micro_credentials_are_parsed_with_their_requirements() {
        let ids = [AchievementId::new(), AchievementId::new()];
        let requirements = |rule: &str| RequirementsFields {
            rule: Some(rule.into()),
            n: Some(1),
            min_credits: Some(2.5),
            components: ids.iter().map(|i| i.to_string()).collect(),
        };
        let mut content = valid_fields("Certificate");
        content.rubric = None;
        content.credits_available = Some(6.0);
        let mut fields = NewAchievementFields { kind: "certificate".into(), content, requirements: Some(requirements("n_of")), ..Default::default() };
        match NewAchievement::parse(&fields).unwrap() {
            NewAchievement::Certificate { certificate, rule, components } => {
                assert_eq!((rule, components.as_slice()), (Rule::NOf(1), ids.as_slice()));
                assert_eq!(certificate.credits, Some(Credits(600)));
            }
            other => panic!("{other:?}"),
        }
        fields.requirements = Some(requirements("min_credits"));
        assert!(matches!(NewAchievement::parse(&fields), Ok(NewAchievement::Certificate { rule: Rule::MinCredits(Credits(250)), .. })));
        fields.requirements.as_mut().unwrap().components.push("not-an-id".into());
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].pointer, "/requirements/components/2");
        fields.requirements = None;
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].pointer, "/requirements");
        fields.levels_in_any_order = true;
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].pointer, "/levels_in_any_order");

        // A micro-credential made of existing micro-badges: its rule is always "all".
        fields.kind = "micro-credential".into();
        fields.requirements = Some(RequirementsFields { components: ids.iter().map(|i| i.to_string()).collect(), ..Default::default() });
        match NewAchievement::parse(&fields).unwrap() {
            NewAchievement::Composed { badges, any_order, .. } => assert_eq!((badges.as_slice(), any_order), (ids.as_slice(), true)),
            other => panic!("{other:?}"),
        }
        fields.requirements.as_mut().unwrap().rule = Some("n_of".into());
        assert_eq!(NewAchievement::parse(&fields).unwrap_err().errors[0].detail, "a micro-credential needs all of its levels");
        fields.content.credits_available = Some(0.001);
        assert!(NewAchievement::parse(&fields).unwrap_err().errors.iter().any(|e| e.pointer == "/credits_available"));
    }

    fn achievement(kind: Kind, state: State) -> Achievement {
        let now = OffsetDateTime::UNIX_EPOCH;
        Achievement {
            id: AchievementId::new(),
            organisation: OrganisationId::new(),
            kind,
            parent: None,
            state,
            version: 1,
            content: AchievementContent::parse(&valid_fields("x"), Kind::MicroBadge).unwrap(),
            created_at: now,
            updated_at: now,
            published_at: None,
            levels_in_any_order: false,
            rule: None,
        }
    }

    #[test]
    fn life_cycle_transitions() {
        use State::*;
        let badge = |state| achievement(Kind::MicroBadge, state);
        assert_eq!(badge(Draft).publish(), Ok(Published));
        assert_eq!(badge(Retired).publish(), Ok(Published));
        assert_eq!(badge(Published).publish(), Err(TransitionError::AlreadyPublished));
        assert_eq!(badge(Published).retire(), Ok(Retired));
        assert_eq!(badge(Draft).retire(), Err(TransitionError::NotPublished("draft")));
        assert_eq!(badge(Draft).edit_mode(), Ok(EditMode::InPlace));
        assert_eq!(badge(Published).edit_mode(), Ok(EditMode::NewVersion));
        assert_eq!(badge(Retired).edit_mode(), Err(TransitionError::Retired));
        assert_eq!(achievement(Kind::Level(2), Draft).publish(), Err(TransitionError::LevelFollowsParent));
    }

    #[test]
    fn an_achievement_without_a_rubric_is_judged_on_its_criteria() {
        let mut badge = achievement(Kind::MicroBadge, State::Published);
        badge.content.rubric = None;
        let rubric = badge.rubric();
        assert_eq!(rubric.levels, ["Not yet", "Met"]);
        assert_eq!(rubric.criteria.len(), 1);
        assert_eq!(rubric.required_level_name(&rubric.criteria[0]), "Met");
        let own = Rubric {
            levels: vec!["Developing".into(), "Proficient".into()],
            criteria: vec![Criterion {
                id: "design".into(),
                name: "Design".into(),
                description: String::new(),
                required_level: 1,
                descriptors: vec!["Unclear".into(), "Clear".into()],
            }],
        };
        badge.content.rubric = Some(own.clone());
        assert_eq!(badge.rubric(), own, "its own rubric when it has one");
    }

    #[test]
    fn a_light_renewal_is_judged_by_the_renewal_rubric_and_everything_else_by_the_rubric() {
        let mut badge = achievement(Kind::MicroBadge, State::Published);
        let own = badge.rubric();
        assert_eq!(badge.assessment_rubric(true), own, "a full renewal is a full reassessment");
        let mut renewal = own.clone();
        renewal.criteria[0].id = "recent-practice".into();
        badge.content.renewal = RenewalPath::Light { rubric: renewal.clone(), instructions: "Show recent work.".into() };
        assert_eq!(badge.assessment_rubric(true), renewal);
        assert_eq!(badge.assessment_rubric(false), own, "a first award is judged by the achievement's rubric");
    }
}
