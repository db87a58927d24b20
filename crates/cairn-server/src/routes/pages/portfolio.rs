//! A learner's public portfolio at `/u/{handle}`: their public awards with the level reached on
//! each criterion, the competencies and the evidence they chose to show, and (when they say so)
//! the badges from elsewhere that verified; with Open Graph tags, schema.org `Person` JSON-LD
//! naming each credential, an embeddable card (`/u/{handle}/embed`) and a QR code of the address
//! (`/u/{handle}/qr.svg`). What is listed is `cairn_app::discovery::portfolio`'s to say.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::discovery::{self, Portfolio, ShownAward};
use cairn_app::urls::paths;
use serde_json::{Value, json};

use super::{Layout, human_date, json_ld, render_status};
use crate::auth::{CsrfToken, Viewer};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(paths::PORTFOLIO, get(page)).route(paths::PORTFOLIO_EMBED, get(embed)).route(paths::PORTFOLIO_QR, get(qr))
}

/// The portfolio card's frame, as the snippet the learner copies sets it.
const EMBED_WIDTH: u32 = 360;
const EMBED_HEIGHT: u32 = 220;

/// One award on the portfolio.
#[derive(Debug, Clone)]
pub(crate) struct AwardItem {
    pub href: String,
    pub image: String,
    pub name: String,
    pub kind: String,
    pub issuer: String,
    pub issued: String,
    pub expires: Option<String>,
    pub expired: bool,
    /// (criterion, level reached).
    pub results: Vec<(String, String)>,
    pub competencies: Vec<String>,
    pub evidence: Vec<(String, String)>,
}

pub(crate) fn award_item(shown: &ShownAward) -> AwardItem {
    let award = &shown.award;
    AwardItem {
        href: format!("/awards/{}", award.id),
        image: format!("/awards/{}/badge.png", award.id),
        name: shown.achievement.content.name.clone(),
        kind: shown.achievement.kind.label(),
        issuer: shown.organisation_name.clone(),
        issued: human_date(award.issued_at),
        expires: award.valid_until.map(human_date),
        expired: shown.expired,
        results: shown.results.iter().map(|r| (r.criterion_name.clone(), r.level_name.clone())).collect(),
        competencies: shown
            .achievement
            .content
            .alignments
            .iter()
            .map(|a| match &a.target_code {
                Some(code) => format!("{} ({code})", a.target_name),
                None => a.target_name.clone(),
            })
            .collect(),
        evidence: shown.evidence.clone(),
    }
}

#[derive(Debug, Clone)]
struct ImportItem {
    name: String,
    issuer: String,
    verified: String,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    layout: Layout,
    name: String,
    handle: String,
    url: String,
    og_description: String,
    og_image: String,
    json_ld: String,
    awards: Vec<AwardItem>,
    imports: Vec<ImportItem>,
    qr_href: String,
    embed_code: String,
}

#[derive(Template)]
#[template(path = "portfolio_embed.html")]
struct EmbedPage {
    name: String,
    url: String,
    count: usize,
    awards: Vec<AwardItem>,
}

/// The schema.org description of the portfolio: a `Person` with each public credential.
fn person_json_ld(state: &AppState, portfolio: &Portfolio, url: &str) -> Value {
    let urls = state.app.config.urls();
    json!({
        "@context": "https://schema.org",
        "@type": "Person",
        "name": portfolio.name,
        "url": url,
        "hasCredential": portfolio.awards.iter().map(|shown| json!({
            "@type": "EducationalOccupationalCredential",
            "name": shown.achievement.content.name,
            "url": urls.award_page(shown.award.id),
            "credentialCategory": if shown.achievement.kind == cairn_core::achievement::Kind::Certificate { "certificate" } else { "badge" },
            "dateCreated": cairn_vc::dates::rfc3339(shown.award.issued_at),
            "expires": shown.award.valid_until.map(cairn_vc::dates::rfc3339),
            "recognizedBy": {"@type": "Organization", "name": shown.organisation_name},
            "competencyRequired": shown.achievement.content.alignments.iter().map(|a| json!({
                "@type": "DefinedTerm",
                "name": a.target_name,
                "termCode": a.target_code,
                "inDefinedTermSet": a.target_framework,
                "url": a.target_url,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn not_cached(mut response: Response) -> Response {
    // A learner may take the portfolio down at any moment: shared caches keep it briefly.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response
}

async fn page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(handle): Path<String>) -> Result<Response, Problem> {
    let portfolio = discovery::portfolio(&state.app, &handle).await?;
    let urls = state.app.config.urls();
    let url = urls.portfolio(portfolio.handle.as_str());
    let awards: Vec<AwardItem> = portfolio.awards.iter().map(award_item).collect();
    let og_description = match awards.len() {
        0 => format!("{} on Cairn.", portfolio.name),
        1 => format!("{} holds 1 verified achievement: {}.", portfolio.name, awards[0].name),
        n => format!("{} holds {n} verified achievements, among them {}.", portfolio.name, awards[0].name),
    };
    let og_image = portfolio
        .awards
        .first()
        .map(|a| urls.badge(a.award.id, cairn_core::image::ImageType::Png))
        .unwrap_or_else(|| state.app.config.url("/static/cairn-logo.svg"));
    let embed_url = urls.portfolio_embed(portfolio.handle.as_str());
    let title = format!("Achievements of {}", portfolio.name);
    let page = PortfolioPage {
        layout: Layout::new(&viewer, &csrf, None),
        json_ld: json_ld(&person_json_ld(&state, &portfolio, &url)),
        handle: portfolio.handle.to_string(),
        qr_href: format!("/u/{}/qr.svg", portfolio.handle),
        embed_code: super::awards::frame_snippet(&embed_url, &title, EMBED_WIDTH, EMBED_HEIGHT),
        name: portfolio.name.clone(),
        imports: portfolio
            .imports
            .iter()
            .map(|i| ImportItem { name: i.name.clone(), issuer: i.issuer_name.clone(), verified: human_date(i.check.verified_at) })
            .collect(),
        url,
        og_description,
        og_image,
        awards,
    };
    Ok(not_cached(render_status(StatusCode::OK, &page)?))
}

async fn embed(State(state): State<AppState>, Path(handle): Path<String>) -> Result<Response, Problem> {
    let portfolio = discovery::portfolio(&state.app, &handle).await?;
    let awards: Vec<AwardItem> = portfolio.awards.iter().take(3).map(award_item).collect();
    let card =
        EmbedPage { url: state.app.config.urls().portfolio(portfolio.handle.as_str()), name: portfolio.name.clone(), count: portfolio.awards.len(), awards };
    let mut response = not_cached(render_status(StatusCode::OK, &card)?);
    // The security-headers layer gives it the framing policy instead of the site-wide DENY.
    response.extensions_mut().insert(crate::routes::Embeddable);
    Ok(response)
}

/// The portfolio's address as a QR code (SVG), for printed CVs and slides.
async fn qr(State(state): State<AppState>, Path(handle): Path<String>) -> Result<Response, Problem> {
    let portfolio = discovery::portfolio(&state.app, &handle).await?;
    let url = state.app.config.urls().portfolio(portfolio.handle.as_str());
    let svg = super::qr_svg(&url).ok_or_else(|| Problem::not_found("this portfolio's address is too long for a QR code"))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=3600")], svg).into_response())
}
