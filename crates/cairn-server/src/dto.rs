//! The JSON API's shapes, converted by hand from and to the domain types. These are API: change
//! them only compatibly, and keep `openapi.rs` in step.

use cairn_app::catalog::Listed;
use cairn_core::achievement::{
    AchievementContent, AchievementFields, Alignment, AlignmentFields, Fee, Kind, LEVEL_TITLES, NewAchievementFields, RequirementsFields,
};
use cairn_core::composition::Rule;
use cairn_core::organisation::{Organisation, OrganisationFields, OrganisationKind};
use cairn_core::outcomes::Outcomes;
use cairn_core::renewal::{RenewalFields, RenewalPath};
use cairn_core::rubric::{CriterionFields, Rubric, RubricFields};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::problem::Problem;
use cairn_app::Config;

pub(crate) use cairn_app::timestamp;

/// A rubric in API input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RubricInput {
    #[serde(default)]
    levels: Vec<String>,
    #[serde(default)]
    criteria: Vec<CriterionInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CriterionInput {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// A level name or its 1-based number.
    #[serde(default)]
    required_level: Option<Value>,
    #[serde(default)]
    descriptors: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlignmentInput {
    #[serde(default)]
    target_name: String,
    #[serde(default)]
    target_url: String,
    #[serde(default)]
    target_description: Option<String>,
    #[serde(default)]
    target_framework: Option<String>,
    #[serde(default)]
    target_code: Option<String>,
    #[serde(default)]
    target_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeeInput {
    /// `"49.00"` or `49.5`.
    amount: Value,
    #[serde(default)]
    currency: Option<String>,
    /// A micro-credential's: `upfront` (paid once for every level) or `per-level`.
    #[serde(default)]
    plan: Option<String>,
}

/// An achievement's renewal path in API input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewalInput {
    /// `full` (a full reassessment, the default) or `light`.
    #[serde(default)]
    path: Option<String>,
    /// A light path's renewal rubric.
    #[serde(default)]
    rubric: Option<RubricInput>,
    /// A light path's instructions for the renewal evidence (Markdown).
    #[serde(default)]
    instructions: Option<String>,
}

/// Achievement content in API input (create and update).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContentInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub criteria: String,
    #[serde(default)]
    pub rubric: Option<RubricInput>,
    #[serde(default)]
    pub alignments: Vec<AlignmentInput>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub effort_hours: Option<f64>,
    #[serde(default)]
    pub fee: Option<FeeInput>,
    #[serde(default)]
    pub validity_months: Option<i64>,
    /// Credit hours, such as `1.5`.
    #[serde(default)]
    pub credits_available: Option<f64>,
    /// How awards are renewed; absent means a full reassessment.
    #[serde(default)]
    pub renewal: Option<RenewalInput>,
}

/// A certificate's requirements, or the existing micro-badges a micro-credential is made of.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequirementsInput {
    /// `all`, `n_of` or `min_credits`.
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    n: Option<i64>,
    #[serde(default)]
    min_credits: Option<f64>,
    /// Achievement ids, in order.
    #[serde(default)]
    components: Vec<String>,
}

/// `POST /api/v1/organisations/{id}/achievements`: a kind, the content fields, and for a
/// micro-credential its three levels. (serde's `flatten` cannot be combined with
/// `deny_unknown_fields`, so the content fields are listed again.)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAchievementInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub levels: Vec<ContentInput>,
    /// A micro-credential's: whether its levels may be taken in any order.
    #[serde(default)]
    levels_in_any_order: bool,
    /// A certificate's rule and components; a micro-credential's existing micro-badges.
    #[serde(default)]
    requirements: Option<RequirementsInput>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    criteria: String,
    #[serde(default)]
    rubric: Option<RubricInput>,
    #[serde(default)]
    alignments: Vec<AlignmentInput>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    effort_hours: Option<f64>,
    #[serde(default)]
    fee: Option<FeeInput>,
    #[serde(default)]
    validity_months: Option<i64>,
    #[serde(default)]
    credits_available: Option<f64>,
    #[serde(default)]
    renewal: Option<RenewalInput>,
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl From<RubricInput> for RubricFields {
    fn from(r: RubricInput) -> Self {
        RubricFields {
            levels: r.levels,
            criteria: r
                .criteria
                .into_iter()
                .map(|c| CriterionFields {
                    id: c.id,
                    name: c.name,
                    description: c.description,
                    required_level: c.required_level.as_ref().map(value_text).unwrap_or_default(),
                    descriptors: c.descriptors,
                })
                .collect(),
        }
    }
}

impl From<ContentInput> for AchievementFields {
    fn from(input: ContentInput) -> Self {
        AchievementFields {
            name: input.name,
            description: input.description,
            criteria: input.criteria,
            rubric: input.rubric.map(RubricFields::from),
            alignments: input
                .alignments
                .into_iter()
                .map(|a| AlignmentFields {
                    target_name: a.target_name,
                    target_url: a.target_url,
                    target_description: a.target_description,
                    target_framework: a.target_framework,
                    target_code: a.target_code,
                    target_type: a.target_type,
                })
                .collect(),
            tags: input.tags,
            language: input.language,
            effort_hours: input.effort_hours,
            fee_amount: input.fee.as_ref().map(|f| value_text(&f.amount)),
            fee_currency: input.fee.as_ref().and_then(|f| f.currency.clone()),
            fee_plan: input.fee.and_then(|f| f.plan),
            validity_months: input.validity_months,
            credits_available: input.credits_available,
            renewal: input.renewal.map(|r| RenewalFields { path: r.path, rubric: r.rubric.map(RubricFields::from), instructions: r.instructions }),
        }
    }
}

impl From<NewAchievementInput> for NewAchievementFields {
    fn from(input: NewAchievementInput) -> Self {
        let content = ContentInput {
            name: input.name,
            description: input.description,
            criteria: input.criteria,
            rubric: input.rubric,
            alignments: input.alignments,
            tags: input.tags,
            language: input.language,
            effort_hours: input.effort_hours,
            fee: input.fee,
            validity_months: input.validity_months,
            credits_available: input.credits_available,
            renewal: input.renewal,
        };
        NewAchievementFields {
            kind: input.kind,
            content: content.into(),
            levels: input.levels.into_iter().map(Into::into).collect(),
            levels_in_any_order: input.levels_in_any_order,
            requirements: input.requirements.map(|r| RequirementsFields { rule: r.rule, n: r.n, min_credits: r.min_credits, components: r.components }),
        }
    }
}

/// Organisation profile input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrganisationInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `issuer` (the default) or `employer`; chosen at creation and kept.
    #[serde(default)]
    pub kind: Option<String>,
}

impl OrganisationInput {
    /// The kind asked for: `issuer` when absent.
    pub(crate) fn kind(&self) -> Result<OrganisationKind, Problem> {
        OrganisationKind::parse(self.kind.as_deref().unwrap_or("")).map_err(|detail| Problem::invalid_field("/kind", detail))
    }
}

impl From<OrganisationInput> for OrganisationFields {
    fn from(input: OrganisationInput) -> Self {
        OrganisationFields { name: input.name, url: input.url, email: input.email, description: input.description }
    }
}

pub(crate) fn fee_json(fee: &Fee) -> Value {
    match fee {
        Fee::Free => json!({"free": true}),
        Fee::Paid { amount_minor, currency } => json!({"free": false, "amount": fee.amount_text(), "amount_minor": amount_minor, "currency": currency}),
    }
}

/// An achievement's fee with its plan (how a micro-credential's fee is charged on its levels).
fn achievement_fee_json(content: &AchievementContent) -> Value {
    let mut value = fee_json(&content.fee);
    value["plan"] = json!(content.fee_plan.as_str());
    value
}

pub(crate) fn rubric_json(rubric: &Rubric) -> Value {
    json!({
        "levels": rubric.levels,
        "criteria": rubric.criteria.iter().map(|c| json!({
            "id": c.id,
            "name": c.name,
            "description": c.description,
            "required_level": rubric.required_level_name(c),
            "descriptors": c.descriptors,
        })).collect::<Vec<_>>(),
    })
}

/// An achievement's `renewal`: its path, and a light path's rubric and instructions.
pub(crate) fn renewal_json(renewal: &RenewalPath) -> Value {
    match renewal {
        RenewalPath::Full => json!({"path": "full", "rubric": null, "instructions": null}),
        RenewalPath::Light { rubric, instructions } => json!({"path": "light", "rubric": rubric_json(rubric), "instructions": instructions}),
    }
}

pub(crate) fn alignment_json(a: &Alignment) -> Value {
    json!({
        "target_name": a.target_name,
        "target_url": a.target_url,
        "target_description": a.target_description,
        "target_framework": a.target_framework,
        "target_code": a.target_code,
        "target_type": a.target_type,
    })
}

/// A certificate's or micro-credential's `requirements`: the rule and its components.
fn requirements_json(listed: &Listed) -> Value {
    let Some(requirements) = &listed.requirements else { return Value::Null };
    let mut value = json!({
        "rule": requirements.rule.as_str(),
        "components": requirements.components.iter().map(|(component, issuer_name, agreed)| json!({
            "id": component.id.to_string(),
            "name": component.content.name,
            "kind": component.kind.as_str(),
            "issuer": {"id": component.organisation.to_string(), "name": issuer_name},
            "credits_available": component.content.credits.map(|c| c.as_f64()),
            "agreed": agreed,
        })).collect::<Vec<_>>(),
    });
    match requirements.rule {
        Rule::NOf(n) => value["n"] = json!(n),
        Rule::MinCredits(min) => value["min_credits"] = json!(min.as_f64()),
        Rule::All => {}
    }
    value
}

/// The API view of an achievement. Level badges are micro-badges with a `level` object.
pub(crate) fn achievement_json(config: &Config, listed: &Listed) -> Value {
    let (achievement, issuer_name, levels) = (&listed.achievement, &listed.issuer_name, &listed.levels);
    let content = &achievement.content;
    let (kind, level) = match achievement.kind {
        Kind::MicroBadge => ("micro-badge", Value::Null),
        Kind::MicroCredential => ("micro-credential", Value::Null),
        Kind::Certificate => ("certificate", Value::Null),
        Kind::Level(n) => (
            "micro-badge",
            json!({"number": n, "title": LEVEL_TITLES.get(usize::from(n).saturating_sub(1)).copied().unwrap_or(""), "part_of": achievement.parent.map(|p| p.to_string())}),
        ),
    };
    json!({
        "id": achievement.id.to_string(),
        "kind": kind,
        "level": level,
        "name": content.name,
        "description": content.description,
        "criteria": content.criteria,
        "issuer": {"id": achievement.organisation.to_string(), "name": issuer_name},
        "levels": levels.iter().map(|l| l.id.to_string()).collect::<Vec<_>>(),
        "fee": achievement_fee_json(content),
        "validity_months": content.validity_months,
        "renewal": renewal_json(&content.renewal),
        "rubric": content.rubric.as_ref().map(rubric_json),
        "alignments": content.alignments.iter().map(alignment_json).collect::<Vec<_>>(),
        "tags": content.tags,
        "language": content.language,
        "effort_hours": content.effort_minutes.map(|m| f64::from(m) / 60.0),
        "credits_available": content.credits.map(|c| c.as_f64()),
        "levels_in_any_order": achievement.kind == Kind::MicroCredential && achievement.levels_in_any_order,
        "requirements": requirements_json(listed),
        "image": config.urls().achievement_image(achievement.id),
        "url": config.urls().achievement_page(achievement.id),
        "state": achievement.state.as_str(),
        "version": achievement.version,
        "created_at": timestamp(achievement.created_at),
        "updated_at": timestamp(achievement.updated_at),
        "published_at": achievement.published_at.map(timestamp),
    })
}

/// What may be said of an achievement's outcomes: `status` (`published`, `not_published`,
/// `too_few_decisions` or `not_assessed`) and, once published, the figures with what they rest on.
pub(crate) fn outcomes_json(outcomes: &Outcomes) -> Value {
    match outcomes {
        Outcomes::NotPublished => json!({"status": "not_published"}),
        Outcomes::NotAssessed => json!({"status": "not_assessed"}),
        Outcomes::TooFewDecisions { decisions } => {
            json!({"status": "too_few_decisions", "decisions": decisions, "minimum_decisions": cairn_core::outcomes::MIN_DECISIONS})
        }
        Outcomes::Figures(figures) => json!({
            "status": "published",
            "decisions": figures.decisions,
            "decided_submissions": figures.decided_submissions,
            "awarded": figures.awarded,
            "pass_rate_percent": figures.pass_rate_percent,
            "median_decision_seconds": figures.median_decision_secs,
            "median_decision_days": figures.median_decision_secs as f64 / 86_400.0,
            "median_decision_text": figures.median_text(),
        }),
    }
}

/// The API view of an organisation, with its public DIDs.
pub(crate) fn organisation_json(config: &Config, organisation: &Organisation) -> Value {
    let id = organisation.id.to_string();
    json!({
        "id": id,
        "name": organisation.profile.name,
        "kind": organisation.kind.as_str(),
        "url": organisation.profile.url,
        "email": organisation.profile.email.as_ref().map(|e| e.to_string()),
        "description": organisation.profile.description,
        "image": config.urls().issuer_image(organisation.id),
        "page": config.url(&format!("/issuers/{id}")),
        "did_web": config.urls().issuer_did(organisation.id),
        "did_key": cairn_vc::did::did_key(&organisation.public_key_multibase),
        "did_document": config.urls().did_document(organisation.id),
        "public_key_multibase": organisation.public_key_multibase,
        "created_at": timestamp(organisation.created_at),
    })
}

/// Paging parameters, bounded.
pub(crate) fn page_bounds(limit: Option<u32>, offset: Option<u32>) -> Result<(u32, u32), Problem> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(Problem::invalid_field("/limit", format!("{limit} is not between 1 and 100")));
    }
    Ok((limit, offset.unwrap_or(0).min(100_000)))
}
