//! The public achievement page (criteria, public rubric, competencies, levels, fee, validity, the
//! issuer's outcome figures where it publishes them) with its schema.org
//! `EducationalOccupationalCredential` JSON-LD and Open Graph tags, and its publish and retire
//! buttons.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use cairn_core::achievement::{Achievement, Kind, LEVEL_TITLES, State as LifeCycle};
use cairn_core::authz::{Action, OrgAction};
use cairn_core::ids::AchievementId;
use cairn_core::markdown::{markdown_to_text, render_markdown};
use cairn_core::organisation::Organisation;
use cairn_core::outcomes::Outcomes;
use cairn_core::renewal::RenewalPath;
use serde_json::{Value, json};

use super::accounts::StackView;
use super::compare::OutcomeView;
use super::learner::status_pill;
use super::rubric::RubricView;
use super::{ConfirmPage, Layout, PaymentView, confirmed, excerpt, human_date, render, safe_next, see_other_with};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;
use cairn_app::achievements::{self, Overview};
use cairn_app::home::{self, AssessmentTerms, Standing};
use cairn_app::urls::paths;
use cairn_core::award::AwardStatus;
use cairn_core::evidence::size_text;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ACHIEVEMENT_PAGE, get(achievement_page))
        .route("/achievements/{id}/publish", post(publish))
        .route("/achievements/{id}/retire", post(retire))
        .route("/achievements/{id}/components/{component}/agreement", post(agree))
}

#[derive(Debug, Clone)]
struct AlignmentView {
    name: String,
    url: String,
    description: Option<String>,
    framework: Option<String>,
    code: Option<String>,
    kind: Option<String>,
}

#[derive(Debug, Clone)]
struct LevelView {
    href: String,
    heading: String,
    name: String,
    summary: String,
    effort: Option<String>,
    credits: Option<String>,
    state: Option<StateBadge>,
}

/// A life-cycle state as members see it.
#[derive(Debug, Clone)]
pub(crate) struct StateBadge {
    pub label: &'static str,
    pub class: &'static str,
}

impl StateBadge {
    pub(crate) fn new(state: LifeCycle) -> StateBadge {
        match state {
            LifeCycle::Draft => StateBadge { label: "Draft", class: "pill-draft" },
            LifeCycle::Published => StateBadge { label: "Published", class: "pill-published" },
            LifeCycle::Retired => StateBadge { label: "Retired", class: "pill-retired" },
        }
    }
}

/// What organisation members see and may do on the page.
#[derive(Debug, Clone)]
struct MemberPanel {
    state: StateBadge,
    version: u32,
    updated: String,
    can_edit: bool,
    can_publish: bool,
    can_retire: bool,
    /// Levels are published and retired with their micro-credential.
    follows_parent: bool,
    retired: bool,
}

#[derive(Template)]
#[template(path = "achievement.html")]
struct AchievementPage {
    layout: Layout,
    id: String,
    name: String,
    kind_label: String,
    issuer_name: String,
    issuer_href: String,
    image_url: String,
    description: String,
    meta_description: String,
    criteria_html: String,
    rubric: Option<RubricView>,
    alignments: Vec<AlignmentView>,
    tags: Vec<String>,
    language: String,
    effort: Option<String>,
    fee: String,
    validity: String,
    /// How its awards are renewed, for an assessed achievement that expires.
    renewal: Option<RenewalInfo>,
    published_on: Option<String>,
    is_micro_credential: bool,
    is_certificate: bool,
    /// A micro-credential's: whether its levels must be taken in order.
    levels_in_order: bool,
    /// A certificate's rule in words ("At least 8 credit hours from these").
    rule: Option<String>,
    /// Credit hours, as written ("1.5").
    credits: Option<String>,
    levels: Vec<LevelView>,
    /// "Level 2: Practice" and the micro-credential it belongs to.
    level_of: Option<(String, String, String)>,
    member: Option<MemberPanel>,
    /// Retired achievements stay visible (awards point to them) but are no longer offered.
    retired: bool,
    og_url: String,
    og_image: String,
    /// How the work is assessed, as a list of sentences.
    terms: Vec<String>,
    /// The fee rule, and how the issuer asks to be paid when there is a fee.
    fee_terms: String,
    payment: Option<PaymentView>,
    /// Where the signed-in viewer stands with it.
    viewer: Option<ViewerPanel>,
    /// Whether the viewer holds it or has a submission open for it (no "Apply" then).
    has_standing: bool,
    /// The form asking for prior learning to be recognised as this achievement: the viewer's
    /// imported badges to show, as (id, label).
    recognition: Option<Vec<(String, String)>>,
    /// The issuer's outcome figures, when it publishes them for an assessed achievement.
    outcomes: Option<OutcomeView>,
    /// The catalog with this achievement chosen for comparison, while it is published.
    compare_href: Option<String>,
    /// schema.org `EducationalOccupationalCredential` as JSON-LD, escaped for a `<script>`.
    json_ld: String,
}

/// How an achievement's awards are renewed: the path in words, and a light path's instructions
/// and renewal rubric.
#[derive(Debug, Clone)]
struct RenewalInfo {
    label: &'static str,
    instructions_html: Option<String>,
    rubric: Option<RubricView>,
}

fn renewal_info(achievement: &Achievement) -> Option<RenewalInfo> {
    if matches!(achievement.kind, Kind::MicroCredential | Kind::Certificate) || achievement.content.validity_months.is_none() {
        return None;
    }
    let renewal = &achievement.content.renewal;
    Some(RenewalInfo {
        label: renewal.label(),
        instructions_html: match renewal {
            RenewalPath::Light { instructions, .. } if !instructions.trim().is_empty() => Some(render_markdown(instructions)),
            _ => None,
        },
        rubric: renewal.rubric().map(RubricView::new),
    })
}

/// What the page says to the signed-in viewer about their own award, submission and progress.
#[derive(Debug, Clone)]
struct ViewerPanel {
    /// "You hold this badge" with the award's link and, when not active, its status.
    award: Option<(String, Option<&'static str>)>,
    /// "Continue your submission" (editable) or its status, with the link.
    submission: Option<SubmissionStanding>,
    stack: Option<StackView>,
}

#[derive(Debug, Clone)]
struct SubmissionStanding {
    href: String,
    editable: bool,
    status: (&'static str, &'static str),
}

/// How the work is assessed, in sentences for people.
fn assessment_terms(terms: &AssessmentTerms) -> Vec<String> {
    let types: Vec<&str> = terms.evidence_types.iter().map(|t| t.label()).collect();
    vec![
        "Double-blind: your assessor does not see your name, and you are not told theirs.".to_string(),
        format!(
            "A decision within {} business day{} of submitting{}.",
            terms.service_days,
            if terms.service_days == 1 { "" } else { "s" },
            if terms.confirm_passes { "; a pass is confirmed by the issuer's staff before the badge is awarded" } else { "" }
        ),
        match terms.attempt_limit {
            None => "Attempts allowed: unlimited. After a “not yet” you can revise and resubmit.".to_string(),
            Some(1) => "Attempts allowed: 1.".to_string(),
            Some(n) => format!("Attempts allowed: {n}. After a “not yet” you can revise and resubmit."),
        },
        format!(
            "Evidence files: {} (Markdown counts as text), up to {} each and {} in all with this issuer; links and written text are welcome too.",
            types.join(", "),
            size_text(terms.max_file_bytes),
            size_text(terms.evidence_quota_bytes)
        ),
    ]
}

fn viewer_panel(standing: &Standing) -> ViewerPanel {
    ViewerPanel {
        award: standing.award.map(|(id, status)| {
            let status = match status {
                AwardStatus::Active => None,
                AwardStatus::Revoked => Some("revoked"),
                AwardStatus::Suspended => Some("suspended"),
            };
            (format!("/awards/{id}"), status)
        }),
        submission: standing.submission.map(|(id, status)| SubmissionStanding {
            href: format!("/submissions/{id}"),
            editable: status.is_editable(),
            status: status_pill(status),
        }),
        stack: standing.stack.as_ref().map(StackView::new),
    }
}

/// A readable name for common language tags; others are shown as the tag.
fn language_name(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    let name = match primary.as_str() {
        "en" => "English",
        "fr" => "French",
        "de" => "German",
        "es" => "Spanish",
        "it" => "Italian",
        "nl" => "Dutch",
        "pt" => "Portuguese",
        "sv" => "Swedish",
        "da" => "Danish",
        "fi" => "Finnish",
        "nb" | "no" => "Norwegian",
        "pl" => "Polish",
        "ja" => "Japanese",
        "zh" => "Chinese",
        "ar" => "Arabic",
        "hi" => "Hindi",
        _ => return tag.to_string(),
    };
    if primary == tag { name.to_string() } else { format!("{name} ({tag})") }
}

/// "Level 2: Practice" for a level written inline, "Level 2" for a micro-badge used as one, the
/// kind ("Micro-credential") for a certificate's component.
pub(crate) fn component_heading(component: &Achievement, index: usize, of: Kind) -> String {
    match (component.kind, of) {
        (Kind::Level(n), _) => level_heading(n),
        (_, Kind::MicroCredential) => format!("Level {}", index + 1),
        (kind, _) => kind.label(),
    }
}

/// "Level 2: Practice".
pub(crate) fn level_heading(n: u8) -> String {
    let title = LEVEL_TITLES.get(usize::from(n).wrapping_sub(1)).copied().unwrap_or("");
    format!("Level {n}: {title}")
}

async fn achievement_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(id): Path<String>) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let home::AchievementPage { overview, terms, standing, outcomes } = home::achievement_page(&state.app, &viewer.actor, id).await?;
    let Overview { achievement, organisation, levels, parent } = overview;
    let actor = &viewer.actor;
    let org = achievement.organisation;
    let is_member = actor.can(Action::Org(org, OrgAction::ViewDrafts));
    let level_of = match (achievement.kind, parent) {
        (Kind::Level(n), Some(parent)) => Some((level_heading(n), format!("/achievements/{}", parent.id), parent.content.name)),
        _ => None,
    };
    let content = &achievement.content;
    let follows_parent = matches!(achievement.kind, Kind::Level(_));
    let member = is_member.then(|| MemberPanel {
        state: StateBadge::new(achievement.state),
        version: achievement.version,
        updated: human_date(achievement.updated_at),
        can_edit: actor.can(Action::Org(org, OrgAction::Author)) && achievement.state != LifeCycle::Retired,
        can_publish: !follows_parent && actor.can(Action::Org(org, OrgAction::Publish)) && achievement.publish().is_ok(),
        can_retire: !follows_parent && actor.can(Action::Org(org, OrgAction::Publish)) && achievement.retire().is_ok(),
        follows_parent,
        retired: achievement.state == LifeCycle::Retired,
    });
    let meta_description = excerpt(&content.description, 200);
    let has_standing = standing.as_ref().is_some_and(|s| s.award.is_some() || s.submission.is_some());
    let recognition = if viewer.user.is_some()
        && !has_standing
        && achievement.state == LifeCycle::Published
        && cairn_core::recognition::recognisable(achievement.kind).is_ok()
    {
        let imports = cairn_app::recognition::importable_evidence(&state.app, actor).await?;
        Some(imports.into_iter().map(|i| (i.id.to_string(), format!("{} — {}", i.name, i.issuer_name))).collect())
    } else {
        None
    };
    let json_ld = super::json_ld(&credential_json_ld(&state.app.config, &achievement, &organisation, level_of.as_ref().map(|(heading, ..)| heading.as_str())));
    render(&AchievementPage {
        layout: Layout::new(&viewer, &csrf, None),
        outcomes: match &outcomes {
            Outcomes::NotPublished | Outcomes::NotAssessed => None,
            shown => Some(OutcomeView::new(shown)),
        },
        compare_href: (achievement.state == LifeCycle::Published).then(|| format!("/catalog?a={}", achievement.id)),
        json_ld,
        id: achievement.id.to_string(),
        name: content.name.clone(),
        kind_label: achievement.kind.label(),
        issuer_name: organisation.profile.name.clone(),
        issuer_href: format!("/issuers/{}", organisation.id),
        image_url: format!("/achievements/{}/image", achievement.id),
        description: content.description.clone(),
        meta_description: if meta_description.is_empty() { excerpt(&markdown_to_text(&content.criteria), 200) } else { meta_description },
        criteria_html: render_markdown(&content.criteria),
        rubric: content.rubric.as_ref().map(RubricView::new),
        alignments: content
            .alignments
            .iter()
            .map(|a| AlignmentView {
                name: a.target_name.clone(),
                url: a.target_url.clone(),
                description: a.target_description.clone(),
                framework: a.target_framework.clone(),
                code: a.target_code.clone(),
                kind: a.target_type.clone(),
            })
            .collect(),
        tags: content.tags.clone(),
        language: language_name(&content.language),
        effort: content.effort_text(),
        fee: terms.fee_label.clone(),
        validity: content.validity_text(),
        renewal: renewal_info(&achievement),
        published_on: achievement.published_at.map(human_date),
        is_micro_credential: achievement.kind == Kind::MicroCredential,
        is_certificate: achievement.kind == Kind::Certificate,
        levels_in_order: achievement.kind == Kind::MicroCredential && !achievement.levels_in_any_order,
        rule: achievement.rule.map(|rule| rule.label()),
        credits: content.credits.map(|c| c.to_string()),
        levels: levels.iter().enumerate().map(|(i, level)| level_view(level, i, achievement.kind, is_member)).collect(),
        level_of,
        member,
        retired: achievement.state == LifeCycle::Retired,
        og_url: state.app.config.urls().achievement_page(achievement.id),
        og_image: state.app.config.urls().achievement_image(achievement.id),
        terms: assessment_terms(&terms),
        fee_terms: terms.fee_terms.clone(),
        payment: terms.has_fee.then(|| PaymentView::new(&terms.payment_instructions, terms.payment_url.as_deref())),
        has_standing,
        recognition,
        viewer: standing.as_ref().map(viewer_panel),
    })
}

/// The achievement as a schema.org `EducationalOccupationalCredential`: name, description, page,
/// image, category (a certificate, or a badge), a level's place in its micro-credential, the
/// competencies it aligns to as `DefinedTerm`s, the issuer as the `Organization` that recognises
/// it, how long an award is valid (ISO 8601), and its fee as an `Offer` (the achievement's own
/// fee; a level's share of a micro-credential's is on the page in words).
fn credential_json_ld(config: &cairn_app::Config, achievement: &Achievement, organisation: &Organisation, level: Option<&str>) -> Value {
    let content = &achievement.content;
    let urls = config.urls();
    let mut credential = json!({
        "@context": "https://schema.org",
        "@type": "EducationalOccupationalCredential",
        "@id": urls.achievement_page(achievement.id),
        "name": content.name,
        "description": content.description,
        "url": urls.achievement_page(achievement.id),
        "image": urls.achievement_image(achievement.id),
        "credentialCategory": if achievement.kind == Kind::Certificate { "certificate" } else { "badge" },
        "inLanguage": content.language,
        "recognizedBy": {
            "@type": "Organization",
            "name": organisation.profile.name,
            "url": organisation.profile.url,
            "sameAs": config.url(&format!("/issuers/{}", organisation.id)),
        },
    });
    if let Some(level) = level {
        credential["educationalLevel"] = json!(level);
    }
    if !content.alignments.is_empty() {
        credential["competencyRequired"] = content
            .alignments
            .iter()
            .map(|a| {
                let mut term = json!({"@type": "DefinedTerm", "name": a.target_name, "url": a.target_url});
                if let Some(code) = &a.target_code {
                    term["termCode"] = json!(code);
                }
                if let Some(description) = &a.target_description {
                    term["description"] = json!(description);
                }
                if let Some(framework) = &a.target_framework {
                    term["inDefinedTermSet"] = json!(framework);
                }
                term
            })
            .collect();
    }
    if let Some(months) = content.validity_months {
        credential["validFor"] = json!(format!("P{months}M"));
    }
    if let Some(credits) = content.credits {
        credential["educationalCredentialAwarded"] = json!(format!("{credits} credit hours"));
    }
    credential["offers"] = match &content.fee {
        cairn_core::achievement::Fee::Free => json!({"@type": "Offer", "price": "0", "description": "Free"}),
        fee @ cairn_core::achievement::Fee::Paid { currency, .. } => {
            json!({"@type": "Offer", "price": fee.amount_text(), "priceCurrency": currency, "description": fee.to_string()})
        }
    };
    credential
}

/// A level of a micro-credential (written inline, or an existing micro-badge at `index`) or a
/// component of a certificate.
fn level_view(level: &Achievement, index: usize, of: Kind, is_member: bool) -> LevelView {
    LevelView {
        href: format!("/achievements/{}", level.id),
        heading: component_heading(level, index, of),
        credits: level.content.credits.map(|c| c.to_string()),
        name: level.content.name.clone(),
        summary: excerpt(&level.content.description, 220),
        effort: level.content.effort_text(),
        state: is_member.then(|| StateBadge::new(level.state)),
    }
}

/// Where a life-cycle button sends the browser back to: a safe local `return_to`, or the page.
fn back_to(form: &FormFields, id: AchievementId) -> String {
    safe_next(form.get("return_to")).unwrap_or_else(|| format!("/achievements/{id}"))
}

/// An owner agrees, from the management page, that another organisation's certificate counts one
/// of their achievements.
async fn agree(State(state): State<AppState>, viewer: Viewer, Path((id, component)): Path<(String, String)>, _form: FormFields) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    let component: AchievementId = path_id(&component, "component")?;
    let organisation = cairn_app::stacks::agree(&state.app, &viewer.actor, id, component).await?;
    Ok(see_other_with(&format!("/issuers/{organisation}/manage"), "component-agreed"))
}

async fn publish(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    achievements::publish(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with(&back_to(&form, id), "published"))
}

/// Retires an achievement, once confirmed on a page that says what follows.
async fn retire(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(id): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: AchievementId = path_id(&id, "achievement")?;
    if !confirmed(&form) {
        let achievement = achievements::retirable(&state.app, &viewer.actor, id).await?;
        let name = &achievement.content.name;
        let mut consequences = vec![
            "It leaves the public catalog, and nobody can start a new submission for it.".to_string(),
            "Awards already made stay valid: their credentials keep verifying.".to_string(),
            "You can publish it again later.".to_string(),
        ];
        if achievement.kind == Kind::MicroCredential {
            consequences.insert(1, "Its three levels are retired with it.".to_string());
        }
        return render(&ConfirmPage {
            layout: Layout::new(&viewer, &csrf, None),
            title: format!("Retire {name}?"),
            lead: "Retiring takes an achievement out of the catalog.".into(),
            consequences,
            action: format!("/achievements/{id}/retire"),
            hidden: vec![("return_to".into(), back_to(&form, id))],
            fields: Vec::new(),
            errors: super::form::FieldErrors::default(),
            publish_reason: None,
            button: "Retire it".into(),
            cancel: back_to(&form, id),
        });
    }
    achievements::retire(&state.app, &viewer.actor, id).await?;
    Ok(see_other_with(&back_to(&form, id), "retired"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_named_with_their_titles() {
        assert_eq!(level_heading(1), "Level 1: Foundations");
        assert_eq!(level_heading(3), "Level 3: Real-world application");
        assert_eq!(level_heading(0), "Level 0: ");
    }

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let value = json!({"name": "</script><script>alert(1)</script> & <!--"});
        let text = crate::routes::pages::json_ld(&value);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }

    #[test]
    fn languages_read_as_names() {
        assert_eq!(language_name("en"), "English");
        assert_eq!(language_name("fr-CA"), "French (fr-CA)");
        assert_eq!(language_name("tlh"), "tlh");
    }
}
