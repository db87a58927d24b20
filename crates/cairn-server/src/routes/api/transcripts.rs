//! Transcripts over the API: `GET /me/transcript` (the learner's own, signed by the platform;
//! `?award=ID` repeated to choose, `?format=jwt` for the VC-JWT) and
//! `GET /organisations/{id}/learners/{learner_id}/transcript` (an issuer's transcript of one
//! learner's awards with it, signed by the issuer). The use cases are `cairn_app::transcripts`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_app::transcripts::{self, MAX_TRANSCRIPT_AWARDS, Transcript, TranscriptFormat};
use cairn_core::ids::{AwardId, OrganisationId, UserId};

use crate::auth::ApiCaller;
use crate::extract::path_id;
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/me/transcript", get(my_transcript)).route("/organisations/{id}/learners/{learner_id}/transcript", get(issuer_transcript))
}

/// What a transcript request asks for: the awards chosen (`award`, repeated) and the `format`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TranscriptQuery {
    pub awards: Vec<AwardId>,
    pub format: Option<String>,
}

/// Reads `award=ID` (repeated, at most [`MAX_TRANSCRIPT_AWARDS`]) and `format` from a query
/// string; other parameters are ignored.
///
/// # Errors
/// 422 at `/award` for an id that does not parse or for too many.
pub(crate) fn transcript_query(raw: Option<&str>) -> Result<TranscriptQuery, Problem> {
    let mut query = TranscriptQuery::default();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "award" => {
                if query.awards.len() == MAX_TRANSCRIPT_AWARDS {
                    return Err(Problem::invalid_field("/award", format!("choose at most {MAX_TRANSCRIPT_AWARDS} awards")));
                }
                let id = value
                    .parse()
                    .map_err(|_| Problem::invalid_field("/award", format!("\"{}\" is not an award id", value.chars().take(60).collect::<String>())))?;
                query.awards.push(id);
            }
            "format" => query.format = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(query)
}

/// The transcript as a response: the JSON credential (`application/json` for the API,
/// `application/vc+ld+json` for a download) or the VC-JWT (`application/vc+jwt`), never cached;
/// with `attachment`, a download under that file name.
pub(crate) fn transcript_response(transcript: Transcript, json_type: &'static str, attachment: Option<&str>) -> Response {
    let (body, media_type) = match transcript {
        Transcript::DataIntegrity(credential) => (credential.to_string(), json_type),
        Transcript::Jwt(jwt) => (jwt, "application/vc+jwt"),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Some(name) = attachment
        && let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn my_transcript(State(state): State<AppState>, caller: ApiCaller, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let query = transcript_query(raw.as_deref())?;
    let format = TranscriptFormat::parse(query.format.as_deref())?;
    let transcript = transcripts::learner_transcript(&state.app, &caller.actor, &query.awards, format).await?;
    Ok(transcript_response(transcript, "application/json", None))
}

async fn issuer_transcript(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, learner)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let organisation: OrganisationId = path_id(&id, "organisation")?;
    let learner: UserId = path_id(&learner, "learner")?;
    let format = TranscriptFormat::parse(transcript_query(raw.as_deref())?.format.as_deref())?;
    let transcript = transcripts::issuer_transcript(&state.app, &caller.actor, organisation, learner, format).await?;
    Ok(transcript_response(transcript, "application/json", None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_awards_and_a_format() {
        let (a, b) = (AwardId::new(), AwardId::new());
        let query = transcript_query(Some(&format!("award={a}&format=jwt&award={b}&other=1"))).unwrap();
        assert_eq!(query, TranscriptQuery { awards: vec![a, b], format: Some("jwt".into()) });
        assert_eq!(transcript_query(None).unwrap(), TranscriptQuery::default());
        assert_eq!(transcript_query(Some("award=nope")).unwrap_err().status, 422);
        let many = (0..=MAX_TRANSCRIPT_AWARDS).map(|_| format!("award={}", AwardId::new())).collect::<Vec<_>>().join("&");
        assert_eq!(transcript_query(Some(&many)).unwrap_err().status, 422);
    }
}
