//! The API's main JSON inputs as the `api_json` fuzz target drives them: a body goes through
//! the handlers' own extractor ([`ApiJson`]) into the input type, then through the same
//! conversion and the same core parser the handler uses, stopping before any use case (which
//! would need a database). Whatever the bytes, this must not panic.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use cairn_core::account::{Email, NewAccount};
use cairn_core::achievement::{AchievementContent, Kind, NewAchievement, NewAchievementFields};
use cairn_core::assessment::Judgement;
use cairn_core::award::{Privacy, StatusAction};
use cairn_core::organisation::{OrganisationFields, OrganisationProfile};
use cairn_core::rubric::{Criterion, Rubric};
use cairn_core::submission::{IssuerSettings, SubmissionContent, voucher_code};
use serde::de::DeserializeOwned;

use super::accounts::SignUpInput;
use super::journey::{AssessInput, PrivacyInput, SettingsInput, StatusInput, SubmissionInput, VoucherInput, score_fields};
use crate::dto::{ContentInput, NewAchievementInput, OrganisationInput};
use crate::extract::ApiJson;
use crate::problem::Problem;

/// The inputs [`api_json`] chooses from, in the order of its `which`.
pub const JSON_INPUTS: &[&str] = &[
    "sign-up",
    "organisation",
    "new achievement",
    "achievement content",
    "submission",
    "assessment settings",
    "assessment",
    "voucher",
    "privacy",
    "award status",
];

/// How a body fared.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The extractor refused it, with this problem.
    Unreadable(Problem),
    /// It was read, and the core refused it.
    Refused(String),
    /// It was read and passed the core's rules.
    Accepted,
}

/// Reads `body` as input `which` (modulo [`JSON_INPUTS`]) of the API and parses it as its
/// handler does.
pub async fn api_json(which: u8, body: &[u8]) -> Outcome {
    match usize::from(which) % JSON_INPUTS.len() {
        0 => parse(body, |input: SignUpInput| NewAccount::parse(input.into()).map(drop).map_err(|e| e.to_string())).await,
        1 => parse(body, |input: OrganisationInput| OrganisationProfile::parse(&OrganisationFields::from(input)).map(drop).map_err(|e| e.to_string())).await,
        2 => parse(body, |input: NewAchievementInput| NewAchievement::parse(&NewAchievementFields::from(input)).map(drop).map_err(|e| e.to_string())).await,
        3 => {
            parse(body, |input: ContentInput| {
                let fields = input.into();
                AchievementContent::parse(&fields, Kind::MicroBadge)
                    .and_then(|_| AchievementContent::parse(&fields, Kind::Level(2)))
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
            .await
        }
        4 => {
            let learner = Email::parse("learner@example.org").expect("a fixed address parses");
            parse(body, |input: SubmissionInput| SubmissionContent::parse(&input.into(), &learner).map(drop).map_err(|e| e.to_string())).await
        }
        5 => parse(body, |input: SettingsInput| IssuerSettings::parse(&input.into()).map(drop).map_err(|e| e.to_string())).await,
        6 => {
            let rubric = demo_rubric();
            parse(body, |input: AssessInput| {
                let scores = score_fields(input.scores).map_err(|problem| problem.detail.clone())?;
                Judgement::parse(&rubric, &scores, &input.feedback).map(drop).map_err(|e| e.to_string())
            })
            .await
        }
        7 => parse(body, |input: VoucherInput| voucher_code(&input.code).map(drop)).await,
        8 => parse(body, |input: PrivacyInput| Privacy::parse(&input.privacy).map(drop).ok_or_else(|| "no such privacy".to_string())).await,
        _ => parse(body, |input: StatusInput| StatusAction::parse(&input.action).map(drop).ok_or_else(|| "no such action".to_string())).await,
    }
}

async fn parse<T: DeserializeOwned>(body: &[u8], rules: impl FnOnce(T) -> Result<(), String>) -> Outcome {
    let request = Request::post("/").header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_vec()));
    let Ok(request) = request else { return Outcome::Refused("no request".into()) };
    match ApiJson::<T>::from_request(request, &()).await {
        Err(problem) => Outcome::Unreadable(problem),
        Ok(ApiJson(input)) => match rules(input) {
            Ok(()) => Outcome::Accepted,
            Err(message) => Outcome::Refused(message),
        },
    }
}

/// The rubric of the demo's first micro-badge, which assessments are judged against here.
fn demo_rubric() -> Rubric {
    let badge = cairn_core::demo::micro_badges().into_iter().next().and_then(|fields| NewAchievement::parse(&fields).ok());
    match badge {
        Some(NewAchievement::MicroBadge(AchievementContent { rubric: Some(rubric), .. })) => rubric,
        // The demo always has a rubric; a one-criterion one keeps the target meaningful if not.
        _ => Rubric {
            levels: vec!["Not yet".into(), "Met".into()],
            criteria: vec![Criterion {
                id: "criteria".into(),
                name: "Criteria".into(),
                description: String::new(),
                required_level: 1,
                descriptors: vec![String::new(), String::new()],
            }],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(which: u8, body: &str, expected: &str) {
        let outcome = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(api_json(which, body.as_bytes()));
        let got = match &outcome {
            Outcome::Unreadable(problem) => format!("unreadable {}", problem.status.as_u16()),
            Outcome::Refused(_) => "refused".to_string(),
            Outcome::Accepted => "accepted".to_string(),
        };
        assert_eq!(got, expected, "{} {body}: {outcome:?}", JSON_INPUTS[usize::from(which) % JSON_INPUTS.len()]);
    }

    #[test]
    fn each_input_is_read_and_parsed_as_its_handler_does() {
        check(0, r#"{"name": "Ada", "email": "ada@example.org", "password": "a long and unusual passphrase 42"}"#, "accepted");
        check(0, r#"{"name": "Ada", "email": "not an address"}"#, "refused");
        check(0, r#"{"name": 7}"#, "unreadable 400");
        check(0, "", "unreadable 400");
        check(5, r#"{"service_days": 10, "nearly_due_days": 2, "evidence_quota_mb": 50}"#, "accepted");
        check(5, r#"{"service_days": 10, "nearly_due_days": 2, "evidence_quota_mb": 0}"#, "refused");
        check(5, r#"{"service_days": 10, "nearly_due_days": 2, "quota": 1}"#, "unreadable 400");
        check(4, r#"{"overview": "x", "links": ["javascript:alert(1)"]}"#, "refused");
        check(7, r#"{"code": "nope-2026"}"#, "accepted");
        check(7, r#"{"code": "no pe!"}"#, "refused");
        check(8, r#"{"privacy": "public"}"#, "accepted");
        check(9, r#"{"action": "revoke"}"#, "accepted");
        check(16, r#"{"scores": [], "feedback": "ok"}"#, "refused");
        check(6, &format!(r#"{{"scores": [{}]}}"#, vec![r#"{"criterion": "x", "level": 1}"#; 101].join(",")), "refused");
    }
}
