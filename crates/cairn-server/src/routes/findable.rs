//! What search engines read: `GET /sitemap.xml`, the sitemap protocol's `urlset` of the entries
//! `cairn_app::findable::sitemap` gathers (absolute URLs under the public base URL, each with its
//! `lastmod`), and `GET /robots.txt`, which allows everything public and names the sitemap.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::findable::{self, Entry};

use crate::problem::Problem;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/sitemap.xml", get(sitemap)).route("/robots.txt", get(robots))
}

/// The `urlset` document.
fn sitemap_xml(entries: &[Entry]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for entry in entries {
        xml.push_str("  <url><loc>");
        xml.push_str(&escape_xml(&entry.loc));
        xml.push_str("</loc>");
        if let Some(at) = entry.lastmod {
            xml.push_str("<lastmod>");
            xml.push_str(&cairn_vc::dates::rfc3339(at));
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// Text as XML character data or an attribute value.
fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn with_type(body: String, media_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

async fn sitemap(State(state): State<AppState>) -> Result<Response, Problem> {
    let entries = findable::sitemap(&state.app).await?;
    Ok(with_type(sitemap_xml(&entries), "application/xml; charset=utf-8"))
}

async fn robots(State(state): State<AppState>) -> Response {
    let body = format!("User-agent: *\nDisallow: /api/\nDisallow: /compare\n\nSitemap: {}\n", state.app.config.url("/sitemap.xml"));
    with_type(body, "text/plain; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sitemap_escapes_its_urls_and_dates_its_entries() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_795_166_400).unwrap();
        let xml = sitemap_xml(&[
            Entry { loc: "https://cairn.example/catalog".into(), lastmod: Some(at) },
            Entry { loc: "https://cairn.example/a?x=1&y=<2>".into(), lastmod: None },
        ]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"), "{xml}");
        assert!(xml.contains("<url><loc>https://cairn.example/catalog</loc><lastmod>2026-11-20T09:20:00Z</lastmod></url>"), "{xml}");
        assert!(xml.contains("<url><loc>https://cairn.example/a?x=1&amp;y=&lt;2&gt;</loc></url>"), "{xml}");
    }
}
