//! Server-rendered HTML pages: the landing page, catalog, achievement and issuer pages, accounts,
//! the issuer's management and authoring forms, problem-type pages and the static assets.
//!
//! Handlers here parse a page's input (query strings, indexed form fields, multipart uploads),
//! call one `cairn_app` use case (which authorises, applies the rules and reads or writes), and
//! render an askama template. Templates receive only strings and flags computed here; `|safe` marks
//! HTML from `cairn_core::markdown::render_markdown` and, once, the achievement page's JSON-LD, escaped
//! for its `<script>` by `json_ld`.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::{CsrfToken, Viewer};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::{UploadLimits, read_upload};

mod account;
mod accounts;
mod assess;
mod assessment_admin;
mod assets;
mod authoring;
mod award_batches;
mod awards;
mod catalog;
mod charts;
mod claims;
mod compare;
mod direct_awards;
mod form;
mod imports;
mod insight;
mod invitations;
mod issuer;
mod learner;
mod notices;
mod oauth;
mod oidc;
mod outbox;
mod payments;
mod portfolio;
mod problems;
mod recognition;
mod rubric;
mod talent;
mod transcripts;
mod verify;
mod view;
mod wallet;
mod webhooks;

pub(crate) use compare::chosen_values;

/// Every page route, merged into the application's URL map by `routes::app`. Pages (not the
/// static files) get the layout's data first: [`layout_data`].
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(catalog::router())
        .merge(compare::router())
        .merge(view::router())
        .merge(accounts::router())
        .merge(account::router())
        .merge(issuer::router())
        .merge(invitations::router())
        .merge(claims::router())
        .merge(direct_awards::router())
        .merge(award_batches::router())
        .merge(authoring::router())
        .merge(assess::router())
        .merge(assessment_admin::router())
        .merge(outbox::router())
        .merge(problems::router())
        .merge(learner::router())
        .merge(awards::router())
        .merge(verify::router())
        .merge(imports::router())
        .merge(insight::router())
        .merge(recognition::router())
        .merge(notices::router())
        .merge(oauth::router())
        .merge(oidc::router())
        .merge(payments::router())
        .merge(wallet::router())
        .merge(webhooks::router())
        .merge(transcripts::router())
        .merge(portfolio::router())
        .merge(talent::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), layout_data))
        .merge(assets::router())
}

/// What every page's layout shows about the signed-in viewer besides their name: the unread
/// notifications (`cairn_app::notify::unread_count`), read once per page request and kept on the
/// request's [`Viewer`], where [`Layout::new`] finds it.
async fn layout_data(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, Problem> {
    let (mut parts, body) = request.into_parts();
    let mut viewer = Viewer::from_request_parts(&mut parts, &state).await?;
    if viewer.user.is_some() {
        viewer.unread_notifications = cairn_app::notify::unread_count(&state.app, &viewer.actor).await?;
        parts.extensions.insert(viewer);
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// What the shared layout (`page.html`) needs on every page.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The signed-in user's name, or `None` for visitors.
    pub user_name: Option<String>,
    /// The CSRF token for the sign-out form.
    pub csrf: String,
    /// A notice chosen from a fixed list (never text from the request): the page's own, or the
    /// one-time notice a redirect left (`crate::flash`).
    pub notice: Option<&'static str>,
    /// The viewer may assess for some issuer: the navigation links to their queue.
    pub may_assess: bool,
    /// The viewer runs assessment for some issuer: the navigation links to its dashboard.
    pub manages_assessment: bool,
    /// The signed-in viewer's unread notifications, shown beside "Notifications".
    pub unread_notifications: usize,
}

impl Layout {
    /// The layout for `viewer`; `notice` is a notice code the page itself chooses (the catalog's
    /// ignored filters), shown instead of the one-time notice a redirect left.
    pub(crate) fn new(viewer: &Viewer, csrf: &CsrfToken, notice: Option<&str>) -> Self {
        let actor = &viewer.actor;
        let may = |action| actor.memberships.iter().any(|(org, _)| actor.can(cairn_core::authz::Action::Org(*org, action)));
        Self {
            user_name: viewer.user.as_ref().map(|u| u.name.clone()),
            csrf: csrf.0.clone(),
            notice: notice.and_then(notice_message).or(viewer.notice),
            may_assess: may(cairn_core::authz::OrgAction::Assess),
            manages_assessment: may(cairn_core::authz::OrgAction::ManageAssessment),
            unread_notifications: viewer.unread_notifications,
        }
    }

    /// The unread count as the navigation badge shows it: "3", or "99+" beyond 99.
    pub(crate) fn unread_badge(&self) -> String {
        if self.unread_notifications > 99 { "99+".to_string() } else { self.unread_notifications.to_string() }
    }
}

/// The notices a redirect may leave for the next page ([`see_other_with`]).
const NOTICES: &[(&str, &str)] = &[
    ("created", "Created. It is a draft until you publish it."),
    ("saved", "Your changes are saved."),
    ("unchanged", "Nothing changed, so nothing was saved."),
    ("published", "Published: it is now in the public catalog."),
    ("retired", "Retired: it has left the catalog; awards already made stay valid."),
    ("signed-in", "You are signed in."),
    (
        "signed-in-linked",
        "You are signed in, and your account is now linked to the provider you signed in with. We have sent a message to your e-mail address saying so.",
    ),
    (
        "signed-in-new",
        "Welcome to Cairn. Your account is ready: you sign in with the provider you used. To sign in with a password as well, choose one with \"Forgot your password?\" on the sign-in page.",
    ),
    ("stripe-connected", "Stripe is connected: learners who owe a fee can now pay it online."),
    ("stripe-disconnected", "Stripe is disconnected: learners pay as your payment instructions say."),
    ("payment-received", "Thank you: your payment is received and the fee is paid."),
    ("payment-pending", "Stripe has not confirmed your payment yet. This page shows it as paid once it does; you will also get a notification."),
    ("payment-cancelled", "You left the payment page without paying. Nothing was charged."),
    ("provider-unlinked", "The provider is unlinked: it no longer signs you in to this account."),
    ("signed-up", "Thank you. If that e-mail address was new to Cairn, your account is ready: sign in below. Either way, we have sent a message to it."),
    ("signed-out", "You are signed out."),
    ("password-reset", "Your new password is saved, and you are signed out everywhere: sign in with it below."),
    ("password-changed", "Your new password is saved. Other browsers signed in to your account are signed out."),
    ("name-saved", "Your name is saved."),
    ("token-revoked", "The token is revoked; it no longer works."),
    ("image-saved", "The new image is saved."),
    ("profile-saved", "The issuer profile is saved."),
    ("component-agreed", "Agreed: the certificate counts your achievement, and its issuer can publish it."),
    ("organisation-created", "Your organisation is ready."),
    ("visibility-saved", "Your choices are saved."),
    ("shortlisted", "Added to your shortlist. The learner sees that your organisation shortlisted them."),
    ("unshortlisted", "Removed from your shortlist."),
    ("contact-requested", "Your request is sent. You see the learner's e-mail address here if they accept."),
    ("contact-accepted", "Accepted: the employer now sees your e-mail address."),
    ("contact-declined", "Declined: the employer sees nothing more."),
    ("member-added", "The member is added."),
    ("member-updated", "The member's role is changed."),
    ("member-removed", "The member is removed."),
    ("filters-ignored", "Some filters were not understood and were ignored."),
    ("assessed-pass", "Pass — the badge was issued."),
    ("assessed-pass-confirm", "Pass — the issuer's staff confirm it before the badge is issued."),
    ("assessed-not-yet", "Not yet — feedback sent."),
    ("assessed-held", "Recorded. This judgement was sampled: a second assessor scores the work, blind, before the learner hears."),
    ("assessed-moderation", "Recorded. The two scorings disagree: a moderator decides, and the learner hears then."),
    ("moderated-pass", "Decided: pass. The learner hears now."),
    ("moderated-not-yet", "Decided: not yet. The learner reads your feedback now."),
    ("conflict-declared", "The conflict of interest is recorded: submissions from this address will not be assigned to you from now on."),
    ("settings-saved", "The assessment settings are saved."),
    ("fee-paid", "The fee is recorded as paid: the learner can submit."),
    ("fee-waived", "The fee is waived: the learner can submit."),
    ("pass-confirmed", "The pass is confirmed and the badge was issued."),
    ("award-revoked", "The award is revoked."),
    ("award-suspended", "The award is suspended."),
    ("award-reinstated", "The award is reinstated."),
    ("pool-added", "The assessor is added to the pool."),
    ("pool-removed", "The assessor is removed from the pool; their open assignments stay with them."),
    ("vouchers-created", "The voucher codes are ready: they are listed below."),
    ("email-change-sent", "We sent a link to your new address: open it to confirm the change. Until then you sign in with your current address."),
    ("email-changed", "Your e-mail address is changed: sign in with the new one from now on. We told your old address."),
    ("account-deleted", "Your account is deleted. Badges already issued to you still verify; their pages are gone."),
    ("invitation-sent", "The invitation is sent: the link in it works once, for 14 days."),
    ("invitation-revoked", "The invitation is revoked; its link no longer works."),
    ("invitation-accepted", "Welcome: you are now a member of the organisation."),
    ("award-claimed", "Your badge is yours: only you can see it until you choose who may."),
    ("direct-award-sent", "Awarded: the recipient is e-mailed a link to claim it."),
    ("direct-award-withdrawn", "Withdrawn: its claim link no longer works."),
    ("award-batch-started", "Awarding: each recipient is e-mailed a link to claim their badge as their row is done."),
    ("award-batch-discarded", "The file is discarded: nothing was awarded from it."),
    ("app-disconnected", "The application is disconnected: its access to your account has ended."),
    ("webhook-deleted", "The webhook endpoint is deleted: no more events are sent to it."),
    ("webhook-test-delivered", "The test message was delivered: the endpoint answered 2xx."),
    ("webhook-test-failed", "The test message was not delivered: see its attempt in the delivery log below."),
    ("webhook-redelivered", "Sent again, and delivered."),
    ("webhook-redelivery-failed", "Sent again, but not delivered: see the attempt below. It is retried on the usual schedule."),
    ("badge-imported", "The badge is imported: it is listed below with the verdict of its verification."),
    ("import-removed", "The imported badge is removed."),
    ("equivalency-added", "The equivalency rule is added: matching badges are recognised at once from now on."),
    ("equivalency-removed", "The equivalency rule is removed; what it recognised stays awarded."),
    ("recognised", "Recognised: your badge from elsewhere counts as this one, so it is awarded to you."),
    (
        "recognition-started",
        "Your request for recognition is started. Add the evidence of your prior learning, then send it: it is assessed against the rubric like any submission.",
    ),
];

/// A step between a destructive form and its effect: what follows, then the same form again
/// with `confirmed=yes`, working without JavaScript (`confirm.html`).
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub layout: Layout,
    pub title: String,
    pub lead: String,
    pub consequences: Vec<String>,
    pub action: String,
    /// Fields carried over from the first form.
    pub hidden: Vec<(String, String)>,
    /// Fields to fill in on this step (a reason, a password).
    pub fields: Vec<form::Field>,
    pub errors: form::FieldErrors,
    /// The "publish the reason" choice of a revocation or suspension: label and hint.
    pub publish_reason: Option<(String, String)>,
    pub button: String,
    pub cancel: String,
}

/// Whether a destructive form was confirmed on its [`ConfirmPage`].
pub(crate) fn confirmed(form: &crate::extract::FormFields) -> bool {
    form.get("confirmed") == "yes"
}

/// The message for a notice code (of this list or the learner pages' `learner::NOTICES`);
/// unknown codes show nothing.
pub(crate) fn notice_message(code: &str) -> Option<&'static str> {
    NOTICES.iter().chain(learner::NOTICES).find(|(c, _)| *c == code).map(|(_, message)| *message)
}

/// Renders a template as a 200 page.
///
/// # Errors
/// A 500 [`Problem`] when rendering fails.
pub(crate) fn render(template: &impl Template) -> Result<Response, Problem> {
    render_status(StatusCode::OK, template)
}

/// Renders a template with `status` (422 for a form with errors, 401 for a failed sign-in).
///
/// # Errors
/// A 500 [`Problem`] when rendering fails.
pub(crate) fn render_status(status: StatusCode, template: &impl Template) -> Result<Response, Problem> {
    let html = template.render().map_err(|error| Problem::internal(&error))?;
    Ok((status, Html(html)).into_response())
}

/// A 303 redirect to a local path.
pub(crate) fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// A 303 redirect to `path` whose page shows the notice `code` once, carried by a cookie rather
/// than the URL (`crate::flash`).
pub(crate) fn see_other_with(path: &str, code: &str) -> Response {
    let mut response = see_other(path);
    response.extensions_mut().insert(crate::flash::SetNotice(code.to_string()));
    response
}

/// Sends an anonymous browser to the sign-in page, coming back to `path` afterwards.
pub(crate) fn sign_in_redirect(path: &str) -> Response {
    see_other(&format!("/login{}", next_query(path)))
}

/// `?next=PATH` (or "" for no path), with the path's slashes left readable.
pub(crate) fn next_query(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("?next={}", encoded.replace("%2F", "/"))
}

/// How an issuer asks to be paid, as the `how_to_pay` macro shows it.
#[derive(Debug, Clone)]
pub(crate) struct PaymentView {
    pub(crate) instructions: String,
    pub(crate) url: Option<String>,
}

impl PaymentView {
    pub(crate) fn new(instructions: &str, url: Option<&str>) -> PaymentView {
        PaymentView { instructions: instructions.to_string(), url: url.map(str::to_string) }
    }
}

/// A local path to return to after signing in: it must start with `/` and not `//` or `/\`
/// (which browsers read as another host), and hold no control characters.
pub(crate) fn safe_next(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let local = raw.starts_with('/') && !raw.starts_with("//") && !raw.starts_with("/\\");
    let clean = !raw.chars().any(|c| c.is_control() || c == '\\') && raw.len() <= 4096;
    (local && clean).then(|| raw.to_string())
}

/// Marks a response as never to be stored (pages showing a secret once).
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An uploaded image from a multipart form with fields `csrf` and `image`, read with a byte cap
/// ([`crate::upload`]): the CSRF token is checked here (the form is not urlencoded, so
/// [`crate::extract::FormFields`] cannot), then the bytes and the declared media type are handed
/// back for the use case to check.
///
/// # Errors
/// 400 for a body that is not multipart, 403 for a wrong token, 413 when too large, 422 when no
/// file was chosen.
pub(crate) async fn image_upload(csrf: &CsrfToken, request: Request) -> Result<(Vec<u8>, Option<String>), Problem> {
    let form = read_upload(request, &UploadLimits::IMAGE).await?;
    csrf.verify(form.text("csrf"))?;
    match form.file {
        Some(file) if !file.bytes.is_empty() => Ok((file.bytes, file.declared_type)),
        _ => Err(Problem::invalid_field("/image", "choose a PNG or SVG file to upload")),
    }
}

/// Shortens plain text to about `max` characters at a word boundary, for cards and meta tags.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > max / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

/// `value` as the text of a `<script type="application/ld+json">` element: `<`, `>` and `&` are
/// written as JSON escapes, so no text inside (a name holding `</script>`) can end the element.
pub(crate) fn json_ld(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// `text` (an address) as a QR code in SVG, dark modules on white with a quiet zone; `None`
/// when it is too long for a QR code.
pub(crate) fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// Dates as pages show them (`3 March 2025`; `3 March 2025, 14:05 UTC`): `cairn_vc::dates`.
pub(crate) use cairn_vc::dates::{day as human_date, day_and_time as human_datetime};

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn next_paths_must_stay_on_this_site() {
        assert_eq!(safe_next("/dashboard").as_deref(), Some("/dashboard"));
        assert_eq!(safe_next("/issuers/x/manage?a=b").as_deref(), Some("/issuers/x/manage?a=b"));
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "dashboard", "", "/a\nb", "/a\\b"] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn return_paths_stay_readable_in_sign_in_links() {
        assert_eq!(next_query("/dashboard"), "?next=/dashboard");
        assert_eq!(next_query("/issuers/x/achievements/new?kind=micro-badge"), "?next=/issuers/x/achievements/new%3Fkind%3Dmicro-badge");
        assert_eq!(next_query(""), "");
    }

    #[test]
    fn notices_come_from_a_fixed_list() {
        assert_eq!(notice_message("published"), Some("Published: it is now in the public catalog."));
        assert_eq!(notice_message("<script>"), None);
        assert_eq!(notice_message("withdrawn"), Some("Your submission is withdrawn."), "the learner pages' own");
    }

    #[test]
    fn json_ld_cannot_end_its_script_element() {
        let text = json_ld(&serde_json::json!({"name": "</script><script>alert(1)</script> & co"}));
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script> & co");
    }

    #[test]
    fn addresses_become_qr_codes() {
        let svg = qr_svg("https://cairn.example/u/ada-quill").unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("#000000"), "{svg}");
        assert_eq!(qr_svg(&"x".repeat(8_000)), None);
    }

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("short text", 20), "short text");
        assert_eq!(excerpt("one two three four five six", 14), "one two three…");
    }

    #[test]
    fn dates_read_naturally() {
        let at = time::macros::datetime!(2025-03-03 14:05 UTC);
        assert_eq!(human_date(at), "3 March 2025");
        assert_eq!(human_datetime(at), "3 March 2025, 14:05 UTC");
    }
}
