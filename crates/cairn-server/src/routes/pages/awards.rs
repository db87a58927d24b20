//! Awards in the browser: the learner's backpack, the public award page (what was achieved, how
//! it was assessed, a live verification of the stored credential, Open Graph metadata), the
//! learner's privacy, sharing and download panel, and a small embeddable card.
//!
//! Who sees what is `cairn_app::awards::visible`'s to say: a private award is absent for everyone
//! but its learner and its issuer's staff; a page that may not be listed (unlisted, revoked or
//! suspended) asks search engines not to index it.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_app::AppError;
use cairn_app::awards::{self, AwardCard, BackpackEntry, LevelHeld};
use cairn_app::renewals;
use cairn_app::urls::paths;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::award::{AwardStatus, LinkedInCertification, Privacy, linkedin_add_to_profile, share_links};
use cairn_core::ids::AwardId;
use cairn_core::image::ImageType;
use cairn_core::markdown::{markdown_to_text, render_markdown};
use cairn_core::renewal::NotRenewable;
use cairn_store::Award;

use super::learner::layout;
use super::rubric::RubricView;
use super::verify::ReportView;
use super::view::{component_heading, level_heading};
use super::{Layout, excerpt, human_date, render_status, see_other_with, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/backpack", get(backpack))
        .route(paths::AWARD_PAGE, get(award_page))
        .route(paths::AWARD_EMBED, get(embed))
        .route("/awards/{id}/privacy", post(set_privacy))
        .route("/awards/{id}/renewal", post(renew))
        .route("/awards/{id}/share/{network}", get(share))
}

/// An award's status as people read it: words, CSS class, and the reason when withdrawn (as the
/// viewer may read it: `reason`, from `awards::shown_reason`).
fn status_words(award: &Award, expired: bool, reason: Option<String>) -> (&'static str, &'static str, Option<String>) {
    match award.status {
        AwardStatus::Revoked => ("Revoked", "pill-notyet", reason),
        AwardStatus::Suspended => ("Suspended", "pill-draft", reason),
        AwardStatus::Active if expired => ("Expired", "pill-retired", None),
        AwardStatus::Active => ("Active", "pill-published", None),
    }
}

fn privacy_words(privacy: Privacy) -> &'static str {
    match privacy {
        Privacy::Public => "Anyone can find and see it.",
        Privacy::Unlisted => "Only people you give the link to: it is not listed, and search engines are asked not to index it.",
        Privacy::Private => "Only you and the issuer's staff see the page and downloads; copies you already shared still verify as Open Badges 3.0.",
    }
}

/// The embed card's frame, as the snippet the learner copies sets it: the card (`award_embed.html`,
/// `.embed-card` in `learner.css`) clamps its text to fixed lines, so at any width from 240 px up
/// its content fits in [`EMBED_HEIGHT`] and the frame never cuts it off.
pub(crate) const EMBED_WIDTH: u32 = 360;
/// See [`EMBED_WIDTH`].
pub(crate) const EMBED_HEIGHT: u32 = 152;

/// The HTML a learner pastes into another site to show the card: a frame of the card's size.
pub(crate) fn embed_snippet(embed_url: &str, title: &str) -> String {
    frame_snippet(embed_url, title, EMBED_WIDTH, EMBED_HEIGHT)
}

/// A frame of `width` × `height` showing `url`, titled for screen readers.
pub(crate) fn frame_snippet(url: &str, title: &str, width: u32, height: u32) -> String {
    let title = attribute(title);
    format!("<iframe src=\"{url}\" title=\"{title}\" width=\"{width}\" height=\"{height}\" style=\"border:0;max-width:100%\" loading=\"lazy\"></iframe>")
}

/// Text safe inside a double-quoted HTML attribute (for the embed snippet people copy).
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

// ---------------------------------------------------------------------------------------------
// Backpack

#[derive(Debug, Clone)]
struct BackpackItem {
    href: String,
    image: String,
    name: String,
    /// "Level 2: Practice", for a level badge.
    level: Option<String>,
    issuer: String,
    issued: String,
    expires: Option<String>,
    status: (&'static str, &'static str),
    privacy: &'static str,
}

/// A micro-credential on the backpack page: its award when held, then the level badges held.
#[derive(Debug, Clone)]
struct BackpackStack {
    name: String,
    issuer: String,
    /// "2 of 3 levels held".
    progress: String,
    award: Option<BackpackItem>,
    levels: Vec<BackpackItem>,
}

#[derive(Template)]
#[template(path = "award_backpack.html")]
struct BackpackPage {
    layout: Layout,
    stacks: Vec<BackpackStack>,
    singles: Vec<BackpackItem>,
}

fn backpack_item(item: awards::BackpackItem, level: Option<u8>) -> BackpackItem {
    let award = item.award;
    let (label, class, _) = status_words(&award, item.expired, None);
    BackpackItem {
        href: format!("/awards/{}", award.id),
        image: format!("/awards/{}/badge.png", award.id),
        name: item.achievement_name,
        level: level.map(level_heading),
        issuer: item.issuer_name,
        issued: human_date(award.issued_at),
        expires: award.valid_until.map(human_date),
        status: (label, class),
        privacy: award.privacy.label(),
    }
}

async fn backpack(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken) -> Result<Response, Problem> {
    if viewer.user.is_none() {
        return Ok(sign_in_redirect("/backpack"));
    }
    let mut stacks = Vec::new();
    let mut singles = Vec::new();
    for entry in awards::backpack_shelves(&state.app, &viewer.actor).await? {
        match entry {
            BackpackEntry::Single(item) => singles.push(backpack_item(item, None)),
            BackpackEntry::Stack(stack) => stacks.push(BackpackStack {
                name: stack.name,
                issuer: stack.issuer_name,
                progress: format!("{} of {} levels held", stack.levels.len(), stack.level_count),
                award: stack.award.map(|item| backpack_item(item, None)),
                levels: stack.levels.into_iter().map(|(n, item)| backpack_item(item, Some(n))).collect(),
            }),
        }
    }
    render_status(StatusCode::OK, &BackpackPage { layout: layout(&viewer, &csrf), stacks, singles })
}

// ---------------------------------------------------------------------------------------------
// The award page

#[derive(Debug, Clone)]
struct AlignmentView {
    name: String,
    url: String,
    framework: Option<String>,
    code: Option<String>,
}

/// The rubric the award was judged by, with the levels reached: a light renewal's renewal rubric,
/// or the achievement's own.
fn assessed_rubric(achievement: &Achievement, award: &Award) -> Option<RubricView> {
    let rubric = achievement.renewal_rubric(award.renews.is_some()).or(achievement.content.rubric.as_ref())?;
    Some(RubricView::assessed(rubric, &awards::award_results(award)))
}

/// A level of a micro-credential on its award page: linked to the level award when the viewer
/// may see it, with the levels reached on its rubric.
#[derive(Debug, Clone)]
struct LevelAwardView {
    heading: String,
    name: String,
    href: Option<String>,
    issued: Option<String>,
    status: Option<(&'static str, &'static str)>,
    /// (criterion, level reached, met).
    results: Vec<(String, String, bool)>,
    note: &'static str,
}

fn level_award_view(level: awards::LevelAward) -> LevelAwardView {
    let heading = component_heading(&level.level, level.index, level.of);
    match level.held {
        LevelHeld::Shown { award, achievement, expired } => {
            let (label, class, _) = status_words(&award, expired, None);
            let results = awards::award_results(&award).into_iter().map(|r| (r.criterion_name, r.level_name, r.met)).collect();
            LevelAwardView {
                heading,
                name: achievement.content.name,
                href: Some(format!("/awards/{}", award.id)),
                issued: Some(human_date(award.issued_at)),
                status: Some((label, class)),
                results,
                note: "",
            }
        }
        LevelHeld::NotShown => LevelAwardView {
            heading,
            name: level.level.content.name,
            href: None,
            issued: None,
            status: None,
            results: Vec::new(),
            note: "Held; the learner keeps this level badge private.",
        },
        LevelHeld::NotHeld => LevelAwardView {
            heading,
            name: level.level.content.name,
            href: None,
            issued: None,
            status: None,
            results: Vec::new(),
            note: "No award of this level is on record.",
        },
    }
}

#[derive(Debug, Clone)]
struct PrivacyOption {
    value: &'static str,
    label: &'static str,
    hint: &'static str,
    checked: bool,
}

#[derive(Debug, Clone)]
struct Download {
    label: &'static str,
    href: String,
    hint: &'static str,
}

/// What only the learner sees: privacy, sharing and downloads.
#[derive(Debug, Clone)]
struct OwnerPanel {
    privacy: Vec<PrivacyOption>,
    evidence_public: bool,
    shareable: bool,
    linkedin: String,
    shares: Vec<(&'static str, String)>,
    embed_code: String,
    downloads: Vec<Download>,
}

/// One step of an award's renewal history, in words, linked when the viewer may see that award.
#[derive(Debug, Clone)]
struct HistoryLine {
    text: String,
    href: Option<String>,
    link_text: &'static str,
}

/// The owner's renewal panel: a Renew button when the award may be renewed, the renewal in
/// progress, or why it cannot be renewed (yet).
#[derive(Debug, Clone)]
struct RenewalPanel {
    can_renew: bool,
    /// The renewal in progress.
    open_href: Option<String>,
    /// Why not, when it cannot be renewed now (and nothing is in progress).
    reason: Option<String>,
    /// "Renewal: full reassessment against the rubric".
    path: &'static str,
}

fn renewal_history(renews: Option<awards::Linked>, renewed_by: Option<awards::Linked>) -> Vec<HistoryLine> {
    let line = |linked: awards::Linked, text: String, link_text: &'static str| HistoryLine {
        text,
        href: linked.shown.then(|| format!("/awards/{}", linked.award)),
        link_text,
    };
    let mut lines = Vec::new();
    if let Some(previous) = renews {
        let text = format!("Renews the award of {}.", human_date(previous.issued));
        lines.push(line(previous, text, "See the previous award"));
    }
    if let Some(next) = renewed_by {
        let text = format!("Renewed on {} by a new award.", human_date(next.issued));
        lines.push(line(next, text, "See the current award"));
    }
    lines
}

#[derive(Debug, Clone)]
struct Verification {
    title: &'static str,
    class: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "award_page.html")]
struct AwardPage {
    layout: Layout,
    id: String,
    name: String,
    kind_label: String,
    description: String,
    criteria_html: String,
    achievement_href: String,
    issuer_name: String,
    issuer_href: String,
    learner_name: String,
    issued: String,
    expires: Option<String>,
    image_url: String,
    status: (&'static str, &'static str),
    status_reason: Option<String>,
    status_changed: Option<String>,
    verification: Verification,
    verify_href: String,
    credential_href: String,
    alignments: Vec<AlignmentView>,
    rubric: Option<RubricView>,
    stacked: bool,
    /// Set when it recognises prior learning: how, in words.
    recognition: Option<&'static str>,
    /// A certificate: awarded for components that met its rule.
    is_certificate: bool,
    /// For a micro-credential: its levels and the learner's level awards.
    levels: Vec<LevelAwardView>,
    evidence: Vec<(String, String)>,
    /// "Expired on 3 March 2027" once past its validity.
    expired_on: Option<String>,
    /// Renewed and renewing awards, oldest first.
    history: Vec<HistoryLine>,
    renewal: Option<RenewalPanel>,
    noindex: bool,
    og_title: String,
    og_description: String,
    og_url: String,
    og_image: String,
    owner: Option<OwnerPanel>,
}

fn verification_words(report: &ReportView, issuer: &str, status: AwardStatus, expired_on: Option<&str>) -> Verification {
    match report.verdict {
        // Every verifier refuses a credential past its validUntil: say so first.
        "Invalid" if status == AwardStatus::Active && expired_on.is_some() => Verification {
            title: "Not valid: expired",
            class: "verdict-invalid",
            detail: format!("Signed by {issuer} and unchanged since it was issued, but it expired on {}.", expired_on.unwrap_or_default()),
        },
        "Valid" => Verification {
            title: "Verified",
            class: "verdict-valid",
            detail: format!("Signed by {issuer}, unchanged since it was issued, within its dates, and not revoked or suspended."),
        },
        "Invalid" => Verification {
            title: match status {
                AwardStatus::Revoked => "Not valid: revoked",
                AwardStatus::Suspended => "Not valid: suspended",
                AwardStatus::Active => "Not valid",
            },
            class: "verdict-invalid",
            detail: report.first_problem.clone().unwrap_or_else(|| report.summary.to_string()),
        },
        _ => Verification {
            title: "Could not be verified",
            class: "verdict-unknown",
            detail: report.first_problem.clone().unwrap_or_else(|| report.summary.to_string()),
        },
    }
}

async fn award_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    let awards::AwardPage { card, report, evidence, levels, renews, renewed_by, renewal } = awards::page(&state.app, &viewer.actor, id).await?;
    let AwardCard { award, achievement, organisation, learner_name, is_owner, listed, private, expired, status_reason } = card;
    let report = ReportView::new(&report);
    let issuer_name = organisation.profile.name.clone();
    let (status_label, status_class, status_reason) = status_words(&award, expired, status_reason);
    let content = &achievement.content;
    let urls = state.app.config.urls();
    let page_url = urls.award_page(id);
    let credential_url = urls.credential(id);
    let title = format!("{} · awarded to {learner_name}", content.name);
    let summary = if content.description.trim().is_empty() { excerpt(&markdown_to_text(&content.criteria), 200) } else { excerpt(&content.description, 200) };
    let owner = is_owner.then(|| {
        let embed_url = urls.award_embed(id);
        OwnerPanel {
            privacy: Privacy::ALL
                .into_iter()
                .map(|p| PrivacyOption { value: p.as_str(), label: p.label(), hint: privacy_words(p), checked: p == award.privacy })
                .collect(),
            evidence_public: award.evidence_public,
            shareable: !private,
            linkedin: format!("/awards/{id}/share/linkedin"),
            shares: share_targets(&content.name, &issuer_name, &award, &page_url)
                .into_iter()
                .skip(1)
                .map(|(network, label, _)| (label, format!("/awards/{id}/share/{network}")))
                .collect(),
            embed_code: embed_snippet(&embed_url, &format!("{} — {learner_name}", content.name)),
            downloads: vec![
                Download {
                    label: "Baked badge (PNG)",
                    href: format!("/awards/{id}/badge.png"),
                    hint: "An image with your credential inside it, for badge backpacks and wallets.",
                },
                Download { label: "Baked badge (SVG)", href: format!("/awards/{id}/badge.svg"), hint: "The same as a scalable image." },
                Download {
                    label: "Credential (JSON)",
                    href: format!("/awards/{id}/credential.json?download=1"),
                    hint: "The signed Open Badges 3.0 credential.",
                },
                Download { label: "Credential (JWT)", href: format!("/awards/{id}/credential.jwt?download=1"), hint: "The same credential as a VC-JWT." },
            ],
        }
    });
    let verify_query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &credential_url).finish();
    let expired_on = award.valid_until.filter(|_| expired).map(human_date);
    let renewal = renewal.map(|standing| RenewalPanel {
        can_renew: standing.renewable.is_ok(),
        open_href: standing.open.map(|submission| format!("/submissions/{submission}")),
        reason: match (&standing.renewable, standing.open) {
            (Err(why), None) if !matches!(why, NotRenewable::NeverExpires | NotRenewable::NotAssessed(_)) => Some(capitalise(&why.to_string())),
            _ => None,
        },
        path: achievement.content.renewal.label(),
    });
    let page = AwardPage {
        layout: layout(&viewer, &csrf),
        id: id.to_string(),
        name: content.name.clone(),
        kind_label: achievement.kind.label(),
        description: content.description.clone(),
        criteria_html: render_markdown(&content.criteria),
        achievement_href: format!("/achievements/{}", achievement.id),
        issuer_href: format!("/issuers/{}", organisation.id),
        learner_name: learner_name.clone(),
        issued: human_date(award.issued_at),
        expires: award.valid_until.map(human_date),
        image_url: format!("/awards/{id}/badge.png"),
        status: (status_label, status_class),
        status_reason,
        status_changed: award.status_changed_at.filter(|_| award.status != AwardStatus::Active).map(human_date),
        verification: verification_words(&report, &issuer_name, award.status, expired_on.as_deref()),
        verify_href: format!("/verify?{verify_query}"),
        credential_href: format!("/awards/{id}/credential.json"),
        alignments: content
            .alignments
            .iter()
            .map(|a| AlignmentView {
                name: a.target_name.clone(),
                url: a.target_url.clone(),
                framework: a.target_framework.clone(),
                code: a.target_code.clone(),
            })
            .collect(),
        rubric: assessed_rubric(&achievement, &award),
        stacked: matches!(achievement.kind, Kind::MicroCredential | Kind::Certificate),
        recognition: award.recognition.map(|r| r.label()),
        is_certificate: achievement.kind == Kind::Certificate,
        levels: levels.into_iter().map(level_award_view).collect(),
        evidence,
        expired_on,
        history: renewal_history(renews, renewed_by),
        renewal,
        noindex: !listed,
        og_title: title,
        og_description: summary,
        og_url: page_url,
        og_image: urls.badge(id, ImageType::Png),
        owner,
        issuer_name,
    };
    let mut response = render_status(StatusCode::OK, &page)?;
    if private {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    Ok(response)
}

async fn set_privacy(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, form: FormFields) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    let privacy = Privacy::parse(form.get("privacy")).ok_or_else(|| Problem::invalid_field("/privacy", "choose public, unlisted or private"))?;
    let evidence_public = matches!(form.get("evidence_public"), "1" | "on" | "true" | "yes");
    match awards::set_privacy(&state.app, &viewer.actor, id, privacy, evidence_public).await {
        Ok(_) => Ok(see_other_with(&format!("/awards/{id}"), "privacy-saved")),
        Err(AppError::Unauthenticated) => Ok(sign_in_redirect(&format!("/awards/{id}"))),
        Err(error) => Err(error.into()),
    }
}

/// The learner starts renewing their award, then carries on from the renewal's submission page.
async fn renew(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    match renewals::start(&state.app, &viewer.actor, id).await {
        Ok(submission) => Ok(see_other_with(&format!("/submissions/{}", submission.id), "renewal-started")),
        Err(AppError::Unauthenticated) => Ok(sign_in_redirect(&format!("/awards/{id}"))),
        Err(error) => Err(error.into()),
    }
}

/// Where the learner may share an award: (path segment, label, the network's address), LinkedIn's
/// "add to profile" first. The award page links each through [`share`], which counts it.
fn share_targets(name: &str, issuer_name: &str, award: &Award, page_url: &str) -> Vec<(String, &'static str, String)> {
    let linkedin = linkedin_add_to_profile(&LinkedInCertification {
        name,
        organisation: issuer_name,
        issued: award.issued_at,
        expires: award.valid_until,
        certificate_url: page_url,
        certificate_id: &award.id.to_string(),
    });
    std::iter::once(("linkedin".to_string(), "LinkedIn", linkedin))
        .chain(share_links(page_url, &format!("I earned \"{name}\" from {issuer_name}")).into_iter().map(|(label, link)| (label.to_lowercase(), label, link)))
        .collect()
}

/// The learner takes a share link: counted for the issuer's insight, then sent on to the network.
async fn share(State(state): State<AppState>, viewer: Viewer, Path((raw, network)): Path<(String, String)>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    let card = match awards::share(&state.app, &viewer.actor, id).await {
        Ok(card) => card,
        Err(AppError::Unauthenticated) => return Ok(sign_in_redirect(&format!("/awards/{id}"))),
        Err(error) => return Err(error.into()),
    };
    let page_url = state.app.config.urls().award_page(id);
    let target = share_targets(&card.achievement.content.name, &card.organisation.profile.name, &card.award, &page_url)
        .into_iter()
        .find(|(segment, _, _)| *segment == network)
        .map(|(_, _, link)| link)
        .ok_or_else(|| Problem::not_found(format!("there is no way to share by \"{network}\"")))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response())
}

/// A sentence from a lower-case message: its first letter upper-case, a final period.
fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The embeddable card

#[derive(Template)]
#[template(path = "award_embed.html")]
struct EmbedCard {
    name: String,
    issuer_name: String,
    learner_name: String,
    issued: String,
    image_url: String,
    page_url: String,
    status: (&'static str, &'static str),
}

/// A small card other sites may put in an `<iframe>`: this route alone may be framed.
async fn embed(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    let AwardCard { award, achievement, organisation, learner_name, private, expired, .. } = awards::card(&state.app, &viewer.actor, id).await?;
    let (label, class, _) = status_words(&award, expired, None);
    let card = EmbedCard {
        name: achievement.content.name.clone(),
        issuer_name: organisation.profile.name.clone(),
        learner_name,
        issued: human_date(award.issued_at),
        image_url: format!("/awards/{}/badge.png", award.id),
        page_url: state.app.config.urls().award_page(award.id),
        status: (label, class),
    };
    let mut response = render_status(StatusCode::OK, &card)?;
    // The security-headers layer gives it the framing policy instead of the site-wide DENY.
    response.extensions_mut().insert(crate::routes::Embeddable);
    let headers = response.headers_mut();
    let cache = if private { "private, no-store" } else { "public, max-age=300" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_titles_cannot_break_out_of_their_attribute() {
        assert_eq!(attribute("A \"quoted\" <b> & co"), "A &quot;quoted&quot; &lt;b&gt; &amp; co");
    }
}
