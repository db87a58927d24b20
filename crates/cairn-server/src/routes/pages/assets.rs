//! Static assets compiled into the binary: the stylesheet, a small progressive-enhancement
//! script and the logo, each with its media type and an hour of caching.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(asset))
}

/// Every static file: name, media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("cairn.css", "text/css; charset=utf-8", include_bytes!("../../../static/cairn.css")),
    ("cairn.js", "text/javascript; charset=utf-8", include_bytes!("../../../static/cairn.js")),
    ("cairn-logo.svg", "image/svg+xml", include_bytes!("../../../static/cairn-logo.svg")),
    ("learner.css", "text/css; charset=utf-8", include_bytes!("../../../static/learner.css")),
    ("home.css", "text/css; charset=utf-8", include_bytes!("../../../static/home.css")),
    ("autosave.js", "text/javascript; charset=utf-8", include_bytes!("../../../static/autosave.js")),
    ("authoring.js", "text/javascript; charset=utf-8", include_bytes!("../../../static/authoring.js")),
];

async fn asset(Path(file): Path<String>) -> Result<Response, Problem> {
    let (_, media_type, bytes) = ASSETS.iter().find(|(name, _, _)| *name == file).ok_or_else(|| Problem::not_found("no such static file"))?;
    let mut response = (*bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_non_empty() {
        for (name, media_type, bytes) in ASSETS {
            assert!(!bytes.is_empty(), "{name}");
            assert!(HeaderValue::from_str(media_type).is_ok());
        }
    }

    /// An unclosed block swallows every rule after it (a `@media` block left open once made the
    /// rules below it apply on phones only): each stylesheet's braces balance, outside comments.
    #[test]
    fn stylesheets_close_every_block() {
        for (name, media_type, bytes) in ASSETS.iter().filter(|(_, media_type, _)| media_type.starts_with("text/css")) {
            let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{name} ({media_type}) is UTF-8"));
            let mut depth = 0i32;
            let mut rest = text;
            while let Some(start) = rest.find(['{', '}', '/']) {
                let (c, after) = (rest.as_bytes()[start], &rest[start + 1..]);
                rest = match c {
                    b'/' if after.starts_with('*') => &after[after.find("*/").unwrap_or_else(|| panic!("{name}: an unclosed comment")) + 2..],
                    b'{' => {
                        depth += 1;
                        after
                    }
                    b'}' => {
                        depth -= 1;
                        assert!(depth >= 0, "{name}: a closing brace without its block");
                        after
                    }
                    _ => after,
                };
            }
            assert_eq!(depth, 0, "{name}: a block is not closed");
        }
    }
}
