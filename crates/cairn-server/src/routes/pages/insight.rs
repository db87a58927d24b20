//! The issuer's insight dashboard (`/issuers/{id}/insights`, its CSV at
//! `/issuers/{id}/insights.csv`): a filter form (GET), charts drawn on the server (`charts`),
//! each beside a table of the same figures, through `cairn_app::insight`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use cairn_app::AppError;
use cairn_app::insight::{self, Insight, InsightFilter};
use cairn_core::ids::OrganisationId;

use super::charts::{self, Bar};
use super::form::{Field, FieldErrors, SelectOption};
use super::{Layout, no_store, render, render_status, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::path_id;
use crate::problem::Problem;
use crate::routes::api::insight::{csv_name, csv_response, insight_query};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/issuers/{id}/insights", get(dashboard)).route("/issuers/{id}/insights.csv", get(download))
}

/// One row of a figures table.
struct Row {
    label: String,
    cells: Vec<String>,
}

/// A chart with the table beside it.
struct Chart {
    id: &'static str,
    heading: &'static str,
    svg: String,
    caption: String,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "insight.html")]
struct InsightPage {
    layout: Layout,
    organisation_name: String,
    manage_href: String,
    assessment_href: String,
    moderation_href: String,
    action: String,
    csv_href: String,
    period_words: String,
    errors: FieldErrors,
    achievement: Field,
    from: Field,
    to: Field,
    charts: Vec<Chart>,
    sampling_percent: u32,
    waiting_moderation: u64,
    agreement: Vec<Row>,
}

fn percent(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.0} %")).unwrap_or_else(|| "—".into())
}

fn days(value: Option<i64>) -> String {
    value.map(|d| if d == 1 { "1 business day".to_string() } else { format!("{d} business days") }).unwrap_or_else(|| "—".into())
}

fn charts_of(insight: &Insight) -> Vec<Chart> {
    let grain = insight.grain.as_str();
    let buckets = &insight.submissions;
    let label_every = buckets.len().div_ceil(8).max(1);
    let sends: Vec<Bar> = buckets
        .iter()
        .map(|b| Bar { label: cairn_core::calendar::format_date(b.start)[5..].to_string(), value: (b.first_attempts + b.revisions) as f64 })
        .collect();
    let submissions = Chart {
        id: "chart-submissions",
        heading: "Submissions over time",
        svg: charts::columns(
            "chart-submissions",
            "Attempts sent",
            &format!("Attempts sent per {grain}, first attempts and revisions together"),
            &sends,
            label_every,
        ),
        caption: format!("Attempts sent per {grain}"),
        columns: vec!["First attempts", "Revisions"],
        rows: buckets
            .iter()
            .map(|b| Row {
                label: format!("{grain} from {}", cairn_core::calendar::format_date(b.start)),
                cells: vec![b.first_attempts.to_string(), b.revisions.to_string()],
            })
            .collect(),
    };
    let rates = [("At the first attempt", insight.first_attempt_pass), ("Overall", insight.overall_pass)];
    let pass = Chart {
        id: "chart-pass",
        heading: "Pass rate",
        svg: charts::rows(
            "chart-pass",
            "Pass rate",
            "Share of decisions that were a pass, at the first attempt and overall",
            &rates.iter().map(|(label, rate)| Bar { label: (*label).into(), value: rate.percent().unwrap_or(0.0) }).collect::<Vec<_>>(),
            Some(100.0),
            " %",
        ),
        caption: "Passes among decisions".into(),
        columns: vec!["Passed", "Decided", "Rate"],
        rows: rates
            .iter()
            .map(|(label, rate)| Row { label: (*label).into(), cells: vec![rate.count.to_string(), rate.of.to_string(), percent(rate.percent())] })
            .collect(),
    };
    let time = insight.time_to_decision;
    let timing = Chart {
        id: "chart-time",
        heading: "Time to decision",
        svg: charts::rows(
            "chart-time",
            "Time to decision",
            "Business days from sending to decision, median and 90th percentile, against the service window",
            &[
                Bar { label: "Median (p50)".into(), value: time.p50_days.unwrap_or(0) as f64 },
                Bar { label: "90th percentile (p90)".into(), value: time.p90_days.unwrap_or(0) as f64 },
                Bar { label: "Service window".into(), value: f64::from(time.service_days) },
            ],
            None,
            " d",
        ),
        caption: "Business days from sending to decision".into(),
        columns: vec!["Value"],
        rows: vec![
            Row { label: "Decisions".into(), cells: vec![time.decisions.to_string()] },
            Row { label: "Median (p50)".into(), cells: vec![days(time.p50_days)] },
            Row { label: "90th percentile (p90)".into(), cells: vec![days(time.p90_days)] },
            Row { label: "Service window".into(), cells: vec![days(Some(i64::from(time.service_days)))] },
            Row { label: "Decided after the window".into(), cells: vec![time.breaches.to_string()] },
        ],
    };
    let load = Chart {
        id: "chart-assessors",
        heading: "Assessor load and turnaround",
        svg: charts::rows(
            "chart-assessors",
            "Decisions per assessor",
            "Decisions each assessor or moderator made in the period",
            &insight.assessors.iter().map(|a| Bar { label: a.name.clone(), value: a.decided as f64 }).collect::<Vec<_>>(),
            None,
            "",
        ),
        caption: "Open now, decided in the period, median turnaround".into(),
        columns: vec!["Open", "Decided", "Median turnaround"],
        rows: insight
            .assessors
            .iter()
            .map(|a| Row { label: a.name.clone(), cells: vec![a.open.to_string(), a.decided.to_string(), days(a.median_days)] })
            .collect(),
    };
    let awards = insight.awards;
    let uses = [("Issued", awards.issued), ("Viewed", awards.views), ("Shared", awards.shares), ("Verified", awards.verifications)];
    let used = Chart {
        id: "chart-awards",
        heading: "Awards viewed, shared and verified",
        svg: charts::rows(
            "chart-awards",
            "Award use",
            "Awards issued in the period, and how often the issuer's awards were viewed, shared and verified",
            &uses.iter().map(|(label, n)| Bar { label: (*label).into(), value: *n as f64 }).collect::<Vec<_>>(),
            None,
            "",
        ),
        caption: "Award use in the period".into(),
        columns: vec!["Count"],
        rows: uses.iter().map(|(label, n)| Row { label: (*label).into(), cells: vec![n.to_string()] }).collect(),
    };
    vec![submissions, pass, timing, load, used]
}

fn agreement_rows(insight: &Insight) -> Vec<Row> {
    insight
        .agreement
        .iter()
        .map(|c| Row {
            label: format!("{}: {}", c.achievement_name, c.criterion_name),
            cells: vec![
                c.agreement.pairs.to_string(),
                percent(c.agreement.exact_percent),
                match c.agreement.kappa.value() {
                    Some(kappa) => format!("{kappa:.2}"),
                    None => c.agreement.kappa.reason().unwrap_or("—").to_string(),
                },
            ],
        })
        .collect()
}

fn page(viewer: &Viewer, csrf: &CsrfToken, id: OrganisationId, filter: &InsightFilter, insight: &Insight, errors: FieldErrors) -> InsightPage {
    let chosen = filter.achievement.map(|a| a.to_string()).unwrap_or_default();
    let mut options = vec![SelectOption { value: String::new(), label: "All achievements".into(), selected: chosen.is_empty() }];
    options.extend(insight.achievements.iter().map(|(a, name)| SelectOption { value: a.to_string(), label: name.clone(), selected: a.to_string() == chosen }));
    let from = cairn_core::calendar::format_date(insight.period.from);
    let to = cairn_core::calendar::format_date(insight.period.to);
    let mut query = format!("from={from}&to={to}");
    if !chosen.is_empty() {
        query.push_str(&format!("&achievement={chosen}"));
    }
    InsightPage {
        layout: Layout::new(viewer, csrf, None),
        organisation_name: insight.organisation_name.clone(),
        manage_href: format!("/issuers/{id}/manage"),
        assessment_href: format!("/issuers/{id}/assessment"),
        moderation_href: format!("/issuers/{id}/moderation"),
        action: format!("/issuers/{id}/insights"),
        csv_href: format!("/issuers/{id}/insights.csv?{query}"),
        period_words: format!(
            "{} to {}{}",
            cairn_app::notify::format_day(insight.period.from.midnight().assume_utc()),
            cairn_app::notify::format_day(insight.period.to.midnight().assume_utc()),
            insight.achievement.as_ref().map(|(_, name)| format!(", {name}")).unwrap_or_default()
        ),
        achievement: Field::new("achievement", "Achievement", "").select(options).error_from(&errors),
        from: Field::new("from", "From", if filter.from.is_empty() { from.clone() } else { filter.from.clone() }).kind("date").error_from(&errors),
        to: Field::new("to", "To", if filter.to.is_empty() { to.clone() } else { filter.to.clone() }).kind("date").error_from(&errors),
        errors,
        charts: charts_of(insight),
        sampling_percent: insight.sampling.percent,
        waiting_moderation: insight.sampling.counts.waiting_moderation,
        agreement: agreement_rows(insight),
    }
}

fn filter_field(pointer: &str) -> Option<(String, String)> {
    match pointer {
        "/achievement" => Some(("achievement".into(), "Achievement".into())),
        "/from" => Some(("from".into(), "From".into())),
        "/to" => Some(("to".into(), "To".into())),
        _ => None,
    }
}

async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/issuers/{id}/insights")));
    }
    let (filter, _) = insight_query(query.as_deref())?;
    match insight::insight(&state.app, &viewer.actor, id, &filter).await {
        Ok(insight) => Ok(no_store(render(&page(&viewer, &csrf, id, &filter, &insight, FieldErrors::default()))?)),
        Err(AppError::Invalid(invalid)) => {
            // The figures for the default period, with the filter as typed and what is wrong with it.
            let errors = FieldErrors::place(&invalid.errors, filter_field);
            let fallback = InsightFilter { achievement: None, from: String::new(), to: String::new() };
            let insight = insight::insight(&state.app, &viewer.actor, id, &fallback).await?;
            let mut shown = page(&viewer, &csrf, id, &filter, &insight, errors);
            shown.period_words = format!("{} (the filter was not understood)", shown.period_words);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &shown)
        }
        Err(error) => Err(error.into()),
    }
}

async fn download(State(state): State<AppState>, viewer: Viewer, Path(raw): Path<String>, RawQuery(query): RawQuery) -> Result<Response, Problem> {
    let id: OrganisationId = path_id(&raw, "organisation")?;
    let (filter, _) = insight_query(query.as_deref())?;
    let insight = insight::insight(&state.app, &viewer.actor, id, &filter).await?;
    Ok(csv_response(insight::insight_csv(&insight), &csv_name(&insight)))
}
