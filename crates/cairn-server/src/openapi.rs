//! The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`. Kept by hand next
//! to the routes; a test checks that every documented operation is routed.

use serde_json::{Value, json};

use cairn_app::Config;

/// Every documented operation: method, path (relative to `/api/v1`), summary, whether it needs
/// a bearer token, request schema, success status and response schema.
/// One documented operation: method, path, summary, bearer token needed, request schema, success status, response schema.
pub(crate) type Operation = (&'static str, &'static str, &'static str, bool, Option<&'static str>, u16, &'static str);

pub(crate) const OPERATIONS: &[Operation] = &[
    (
        "post",
        "/users",
        "Create an account (the same answer when the address already has one; its owner is e-mailed)",
        false,
        Some("SignUp"),
        202,
        "SignUpReceipt",
    ),
    ("post", "/session", "Exchange e-mail and password for a bearer token", false, Some("Credentials"), 201, "Session"),
    ("get", "/me", "The calling user and their organisation roles", true, None, 200, "Me"),
    (
        "patch",
        "/me",
        "Change your name, your handle (your public page at /u/{handle}; null removes it), whether employers may find you (needs a handle) and whether your page lists your verified imported badges; every rule is checked before anything changes",
        true,
        Some("MeInput"),
        200,
        "Me",
    ),
    (
        "delete",
        "/me",
        "Delete your account (your password is needed: 422 at /password when wrong; 409 naming an organisation you are the only owner of). Awards already issued stay verifiable; their pages answer 410",
        true,
        Some("PasswordConfirmation"),
        204,
        "",
    ),
    (
        "post",
        "/me/email",
        "Ask to change your e-mail address (your password is needed): a link to confirm goes to the new address; the address changes when it is used",
        true,
        Some("EmailChange"),
        202,
        "Accepted",
    ),
    ("get", "/me/export", "Everything kept about you, as a JSON attachment (never secrets or their digests)", true, None, 200, "Export"),
    (
        "get",
        "/me/transcript",
        "Your transcript: a CLR 2.0 ClrCredential signed by this installation (did:web …:platform), of all your active awards or those named by `award` (repeated; 404 for one that is not yours, 422 for one revoked, suspended or expired; 409 when none is active); `format=jwt` for the VC-JWT (application/vc+jwt)",
        true,
        None,
        200,
        "ClrCredential",
    ),
    (
        "post",
        "/email-changes/{token}",
        "Confirm a change of e-mail address with the secret of its link (410 when unknown, used or more than 24 hours old); the old address is told",
        false,
        None,
        200,
        "EmailChanged",
    ),
    (
        "post",
        "/me/password",
        "Change your password (the current one is needed: 422 at /current_password when wrong); every browser session ends",
        true,
        Some("PasswordChange"),
        204,
        "",
    ),
    (
        "post",
        "/password-resets",
        "Ask for a password reset link by e-mail: 202 whether or not an account uses the address; throttled like sign-in (429)",
        false,
        Some("PasswordResetRequest"),
        202,
        "Accepted",
    ),
    (
        "post",
        "/password-resets/{token}",
        "Set a new password with the secret of a reset link (410 when unknown, used or more than an hour old); ends every session and revokes every API token",
        false,
        Some("PasswordReset"),
        204,
        "",
    ),
    ("get", "/tokens", "List your API tokens", true, None, 200, "TokenList"),
    ("post", "/tokens", "Create an API token (the secret is returned once)", true, Some("TokenInput"), 201, "NewToken"),
    ("delete", "/tokens/{id}", "Revoke an API token", true, None, 204, ""),
    ("get", "/organisations", "List issuer organisations", false, None, 200, "OrganisationList"),
    (
        "post",
        "/organisations",
        "Create an organisation, an issuer (the default) or an employer (you become its owner)",
        true,
        Some("OrganisationInput"),
        201,
        "Organisation",
    ),
    ("get", "/organisations/{id}", "An issuer organisation, with its DIDs", false, None, 200, "Organisation"),
    ("put", "/organisations/{id}", "Replace an organisation's profile (owners)", true, Some("OrganisationInput"), 200, "Organisation"),
    ("post", "/organisations/{id}/image", "Upload the organisation's image (multipart field `file`, PNG or SVG)", true, Some("Upload"), 200, "Organisation"),
    ("get", "/organisations/{id}/members", "List members (members only)", true, None, 200, "MemberList"),
    ("post", "/organisations/{id}/members", "Add a member by e-mail (owners)", true, Some("MemberInput"), 201, "Member"),
    ("put", "/organisations/{id}/members/{user_id}", "Change a member's role (owners)", true, Some("RoleInput"), 204, ""),
    ("delete", "/organisations/{id}/members/{user_id}", "Remove a member (owners; the last owner stays)", true, None, 204, ""),
    ("get", "/organisations/{id}/invitations", "The organisation's invitations, newest first (owners)", true, None, 200, "InvitationList"),
    (
        "get",
        "/organisations/{id}/component-requests",
        "Other organisations' certificates waiting for this organisation's agreement to count one of its achievements (owners)",
        true,
        None,
        200,
        "ComponentRequestList",
    ),
    (
        "post",
        "/organisations/{id}/invitations",
        "Invite an e-mail address to join in a role (owners): a link, valid 14 days and usable once, is e-mailed to it",
        true,
        Some("InvitationInput"),
        201,
        "Invitation",
    ),
    ("delete", "/organisations/{id}/invitations/{invitation}", "Revoke a pending invitation (owners; 409 once accepted)", true, None, 204, ""),
    (
        "get",
        "/organisations/{id}/awards",
        "The organisation's direct awards, newest first, claimed and withdrawn ones included (owners and staff)",
        true,
        None,
        200,
        "DirectAwardList",
    ),
    (
        "post",
        "/organisations/{id}/awards",
        "Award a published achievement directly to an e-mail address (owners and staff): the address is e-mailed a claim link, and the credential is issued to the account that claims it with that address. With an Idempotency-Key header, the same request again answers the same award (Idempotent-Replayed: true) and another request with the key 409; 409 while an award of the achievement to the address waits",
        true,
        Some("DirectAwardInput"),
        201,
        "DirectAward",
    ),
    ("get", "/organisations/{id}/awards/{offer}", "One direct award, with the award it issued once claimed (owners and staff)", true, None, 200, "DirectAward"),
    (
        "delete",
        "/organisations/{id}/awards/{offer}",
        "Withdraw a direct award that waits to be claimed: its link stops working (owners and staff; 409 once claimed)",
        true,
        None,
        200,
        "DirectAward",
    ),
    (
        "post",
        "/organisations/{id}/award-batches",
        "Bulk award (owners and staff): a CSV file as the text/csv body (columns email, name, achievement_id, optionally narrative and evidence_url; the header is row 1; at most 10,000 rows and 5 MB), checked row by row and awarded in the background, each row a direct award. 202 with the batch; 422 at /file for a file that is not such a CSV. Rows whose recipient holds the achievement, or has it waiting or claimed, are skipped, so the same file again awards nobody twice",
        true,
        Some("AwardBatchFile"),
        202,
        "AwardBatch",
    ),
    ("get", "/organisations/{id}/award-batches", "The organisation's bulk awards, newest first (owners and staff)", true, None, 200, "AwardBatchList"),
    (
        "get",
        "/organisations/{id}/award-batches/{batch}",
        "How far a bulk award is, with every row that failed (errors) or was skipped, and why (owners and staff)",
        true,
        None,
        200,
        "AwardBatch",
    ),
    (
        "post",
        "/invitations/{token}",
        "Accept an invitation: with a bearer token for the invited address, or without one by creating the account (name and password); 410 when unknown, used, revoked or expired",
        false,
        Some("InvitationAcceptance"),
        200,
        "Membership",
    ),
    ("get", "/organisations/{id}/achievements", "Every achievement of the organisation, drafts included (members only)", true, None, 200, "AchievementList"),
    (
        "post",
        "/organisations/{id}/achievements",
        "Create a draft micro-badge; a micro-credential with exactly three levels, or made of existing micro-badges (`requirements.components`); or a certificate of micro-credentials and micro-badges under a rule (owners, staff). Another organisation's component counts once an owner of it agrees",
        true,
        Some("NewAchievement"),
        201,
        "Achievement",
    ),
    ("get", "/achievements", "Search the published catalog", false, None, 200, "AchievementPage"),
    ("get", "/achievements/{id}", "One achievement (drafts for members only)", false, None, 200, "Achievement"),
    (
        "get",
        "/compare",
        "Compare two to four published achievements of any issuers side by side, with each issuer's outcome figures where it publishes them (422 invalid-input for fewer than two, more than four, or an id that is unknown or not published, at /achievements/{index})",
        false,
        None,
        200,
        "Comparison",
    ),
    (
        "put",
        "/achievements/{id}",
        "Edit an achievement: in place while a draft, as a new version once published",
        true,
        Some("AchievementContent"),
        200,
        "Achievement",
    ),
    ("get", "/achievements/{id}/versions/{version}", "A given version of an achievement", false, None, 200, "Achievement"),
    (
        "post",
        "/achievements/{id}/publish",
        "Publish (a micro-credential publishes its levels too; 409 while a component is unpublished or its organisation has not agreed)",
        true,
        None,
        200,
        "Achievement",
    ),
    (
        "post",
        "/achievements/{id}/components/{component}/agreement",
        "Agree that another organisation's certificate counts one of your organisation's achievements (owners of the component's organisation)",
        true,
        None,
        204,
        "",
    ),
    ("post", "/achievements/{id}/retire", "Retire from the catalog (awards stay valid)", true, None, 200, "Achievement"),
    (
        "post",
        "/achievements/{id}/image",
        "Upload the badge image (multipart field `file`, PNG or SVG, at most 2 MiB)",
        true,
        Some("Upload"),
        200,
        "Achievement",
    ),
    ("post", "/achievements/{id}/submissions", "Apply: start a draft submission for a published achievement", true, Some("SubmissionInput"), 201, "Submission"),
    ("get", "/submissions", "Your submissions, newest first", true, None, 200, "SubmissionList"),
    ("get", "/submissions/{id}", "Your submission: status, evidence, feedback per attempt, attempts, award_id once awarded", true, None, 200, "SubmissionView"),
    (
        "put",
        "/submissions/{id}",
        "Replace a draft's (or a revision's) overview, reflection, links and collaborators",
        true,
        Some("SubmissionInput"),
        200,
        "Submission",
    ),
    (
        "post",
        "/submissions/{id}/artifacts",
        "Upload an evidence file (multipart field `file`, optional `title`; PDF, PNG, JPEG or text, at most 10 MiB, within the issuer's evidence storage per learner: 413 when over either)",
        true,
        Some("EvidenceUpload"),
        201,
        "Artifact",
    ),
    ("post", "/submissions/{id}/texts", "Add a text artefact", true, Some("TextInput"), 201, "Artifact"),
    ("delete", "/submissions/{id}/artifacts/{artifact_id}", "Remove an artefact from a draft or revision", true, None, 204, ""),
    ("post", "/submissions/{id}/submit", "Send the attempt (or the revision after \"not yet\"); returns the due date", true, None, 200, "Submission"),
    ("post", "/submissions/{id}/withdraw", "Withdraw a submission that is not under review", true, None, 200, "Submission"),
    ("post", "/submissions/{id}/voucher", "Redeem a voucher code for a fee that is due", true, Some("VoucherInput"), 200, "Submission"),
    ("post", "/submissions/{id}/fee", "Record a fee as paid or waived (issuer staff)", true, Some("FeeInput"), 200, "Submission"),
    ("post", "/submissions/{id}/confirm", "Confirm a pass and issue the award (issuer staff, second stage)", true, None, 200, "Award"),
    ("get", "/assessments", "Your assessment queue, double-blind: codes and evidence, never the learner", true, None, 200, "AssessmentQueue"),
    ("get", "/assessments/{id}", "One assigned submission, double-blind (opening it starts the review)", true, None, 200, "BlindSubmission"),
    (
        "post",
        "/assessments/{id}",
        "Score every rubric criterion and give feedback; pass only when every criterion meets its level (the answer never names the award)",
        true,
        Some("AssessmentInput"),
        200,
        "AssessmentResult",
    ),
    ("get", "/assessments/{id}/artifacts/{artifact_id}", "Download an evidence file under its blind name", true, None, 200, ""),
    ("get", "/awards", "Your awards", true, None, 200, "AwardList"),
    (
        "get",
        "/awards/{id}",
        "An award with links to every form: page, credential (Data Integrity), JWT, baked PNG and SVG, OB 2.0; a private one for its learner and issuer staff only",
        false,
        None,
        200,
        "Award",
    ),
    ("put", "/awards/{id}/privacy", "Set an award's privacy (its learner; new awards start private)", true, Some("PrivacyInput"), 200, "Award"),
    (
        "post",
        "/awards/{id}/status",
        "Revoke, suspend or reinstate an award (issuer staff); the status list changes at once",
        true,
        Some("StatusInput"),
        200,
        "Award",
    ),
    (
        "post",
        "/awards/{id}/renewal",
        "Renew your award: a draft renewal submission (free), then the usual journey; the pass issues a new award naming this one. 409 not-renewable saying why not now (from 90 days before it expires; not revoked, suspended or renewed)",
        true,
        None,
        201,
        "Submission",
    ),
    (
        "post",
        "/awards/{id}/wallet-offers",
        "Send your award to a standards wallet: an OpenID for Verifiable Credential Issuance offer (pre-authorized code flow) as a link for a QR code, with the six-digit tx_code the wallet asks for; works once, for 10 minutes, and ends any earlier offer of the award. 409 for a revoked, suspended, expired or renewed award",
        true,
        None,
        201,
        "WalletOffer",
    ),
    ("get", "/awards/{id}/wallet-pickups", "The credentials wallets collected of your award: holder DID, format, when", true, None, 200, "WalletPickups"),
    ("get", "/organisations/{id}/webhooks", "The organisation's webhook endpoints (owners)", true, None, 200, "WebhookEndpointList"),
    (
        "get",
        "/organisations/{id}/payments/stripe",
        "The organisation's Stripe connection (owners): the account, and the webhook address and events to register at Stripe",
        true,
        None,
        200,
        "StripeConnection",
    ),
    (
        "put",
        "/organisations/{id}/payments/stripe",
        "Connect the organisation's Stripe account (owners): a secret or restricted key, checked with Stripe (422 when refused), and the signing secret of the webhook endpoint registered at Stripe; both kept encrypted, never shown again",
        true,
        Some("StripeKeys"),
        200,
        "StripeConnection",
    ),
    ("delete", "/organisations/{id}/payments/stripe", "Disconnect the organisation from Stripe (owners); payments made stay", true, None, 204, ""),
    (
        "post",
        "/submissions/{id}/checkout",
        "Pay your submission's fee online: a Stripe Checkout Session (the open one if any) whose url to send the learner to; {\"send_when_paid\": true} sends the submission once paid. 409 when no fee is due, the issuer takes no payments online or the submission could not be sent",
        true,
        Some("CheckoutInput"),
        201,
        "Payment",
    ),
    ("get", "/submissions/{id}/payments", "A submission's online payments, newest first (its learner, or the issuer's staff)", true, None, 200, "PaymentList"),
    (
        "post",
        "/organisations/{id}/webhooks",
        "Register a webhook endpoint (owners): an https address (a loopback or private one only if the operator allows its host in webhook_allow_hosts) and the events it wants; 201 with its signing secret, shown once",
        true,
        Some("WebhookEndpointInput"),
        201,
        "WebhookEndpointCreated",
    ),
    ("get", "/webhooks/{id}", "A webhook endpoint", true, None, 200, "WebhookEndpoint"),
    (
        "patch",
        "/webhooks/{id}",
        "Change a webhook endpoint: address, description, events, enabled",
        true,
        Some("WebhookEndpointChange"),
        200,
        "WebhookEndpoint",
    ),
    ("delete", "/webhooks/{id}", "Delete a webhook endpoint and its delivery log", true, None, 204, ""),
    ("post", "/webhooks/{id}/secret", "Give the endpoint a new signing secret, shown once", true, None, 200, "WebhookSecret"),
    (
        "post",
        "/webhooks/{id}/test",
        "Send a webhook.test message to the endpoint now; answers its delivery after the attempt",
        true,
        None,
        200,
        "WebhookDelivery",
    ),
    ("get", "/webhooks/{id}/deliveries", "The endpoint's latest 50 deliveries with every attempt, newest first", true, None, 200, "WebhookDeliveryList"),
    ("get", "/webhooks/{id}/deliveries/{delivery}", "One delivery with its attempts", true, None, 200, "WebhookDelivery"),
    (
        "post",
        "/webhooks/{id}/deliveries/{delivery}/redeliver",
        "Send a delivery again now, whatever became of it; answers it after the attempt",
        true,
        None,
        200,
        "WebhookDelivery",
    ),
    (
        "get",
        "/organisations/{id}/assessment-settings",
        "The issuer's service window, attempt limit, second stage and holidays",
        true,
        None,
        200,
        "AssessmentSettings",
    ),
    ("put", "/organisations/{id}/assessment-settings", "Replace the issuer's assessment settings", true, Some("AssessmentSettings"), 200, "AssessmentSettings"),
    ("get", "/organisations/{id}/submissions", "Open submissions with due state and flags (issuer staff)", true, None, 200, "IssuerQueue"),
    (
        "get",
        "/organisations/{id}/insights",
        "The issuer's insight (owners and staff): submissions per week or month, pass rates, time to decision against the service window, assessor load, award use and inter-rater agreement per criterion; `format=csv` for CSV",
        true,
        None,
        200,
        "Insight",
    ),
    ("get", "/organisations/{id}/insights.csv", "The issuer's insight as CSV, one figure a line: section, item, measure, value", true, None, 200, ""),
    (
        "get",
        "/organisations/{id}/moderation",
        "Sampled submissions whose two blind scorings disagree, waiting for a moderator (owners and staff who scored neither)",
        true,
        None,
        200,
        "ModerationQueue",
    ),
    ("get", "/moderation/{id}", "A submission to moderate: the blind view and both scorings, unnamed", true, None, 200, "ModerationView"),
    (
        "post",
        "/moderation/{id}",
        "The moderator's decision, which stands: scores for every criterion and feedback",
        true,
        Some("AssessmentInput"),
        200,
        "AssessmentResult",
    ),
    ("get", "/organisations/{id}/vouchers", "The issuer's voucher codes", true, None, 200, "VoucherList"),
    (
        "get",
        "/organisations/{id}/learners/{learner_id}/transcript",
        "The issuer's transcript of one learner: a CLR 2.0 ClrCredential of the learner's active awards with the issuer, signed with the issuer's key (owners and staff; 404 when the learner holds no award from it); `format=jwt` for the VC-JWT",
        true,
        None,
        200,
        "ClrCredential",
    ),
    ("post", "/organisations/{id}/vouchers", "Create random voucher codes", true, Some("VouchersInput"), 201, "VoucherCodes"),
    ("get", "/achievements/{id}/assessors", "The achievement's assessor pool with open loads", true, None, 200, "PoolList"),
    ("post", "/achievements/{id}/assessors", "Add a member who may assess to the pool", true, Some("AssessorInput"), 204, ""),
    ("delete", "/achievements/{id}/assessors/{user_id}", "Remove someone from the pool", true, None, 204, ""),
    ("get", "/collaborations", "The submissions you are named on as a collaborator, with your reflection on each", true, None, 200, "CollaborationList"),
    ("put", "/collaborations/{id}", "Write your own reflection on a submission you are named on", true, Some("ReflectionInput"), 204, ""),
    (
        "get",
        "/imports",
        "Badges you imported from elsewhere, each with the verdict of its last verification (stale ones are verified again)",
        true,
        None,
        200,
        "ImportList",
    ),
    (
        "post",
        "/imports",
        "Import a badge earned elsewhere: OB 2.0 or 3.0 or CLR 2.0 as JSON (or {\"url\": …} for a hosted badge), a JWT as text/plain, or a baked PNG or SVG as the multipart field `file`. 422 names the failed check of an invalid badge",
        true,
        Some("ImportInput"),
        201,
        "Import",
    ),
    ("get", "/imports/{id}", "One imported badge, verified again when its last verification is stale", true, None, 200, "Import"),
    ("delete", "/imports/{id}", "Remove an imported badge", true, None, 204, ""),
    (
        "get",
        "/talent",
        "Search the learners who chose to be found, by their public, current awards (owners and staff of an employer organisation only; 403 for everyone else). Each learner on the page is told they were found",
        true,
        None,
        200,
        "TalentList",
    ),
    ("get", "/talent/compare", "Two to four discoverable learners side by side (learners=a,b); each is told they were viewed", true, None, 200, "TalentList"),
    ("get", "/talent/learners/{handle}", "One discoverable learner's public achievements; they are told they were viewed", true, None, 200, "TalentLearner"),
    ("get", "/talent/shortlist", "The employer's shortlist (learners who stop being discoverable leave it)", true, None, 200, "Shortlist"),
    ("put", "/talent/shortlist/{handle}", "Put a discoverable learner on the employer's shortlist; they are told", true, None, 200, "TalentLearner"),
    ("delete", "/talent/shortlist/{handle}", "Take a learner off the shortlist", true, None, 204, ""),
    (
        "get",
        "/talent/contact-requests",
        "The employer's contact requests; a learner's e-mail address appears once they accept",
        true,
        None,
        200,
        "ContactRequestList",
    ),
    (
        "post",
        "/talent/contact-requests",
        "Ask a discoverable learner whether the employer may contact them (409 while one waits); they see the organisation and the message, and answer",
        true,
        Some("ContactInput"),
        201,
        "ContactRequest",
    ),
    ("get", "/me/contact-requests", "The contact requests employers sent you", true, None, 200, "ContactRequestList"),
    (
        "post",
        "/me/contact-requests/{id}",
        "Accept (your e-mail address is shown to the employer) or decline a contact request",
        true,
        Some("ContactAnswer"),
        200,
        "ContactRequest",
    ),
    (
        "get",
        "/me/talent-activity",
        "Every time an employer found you in a search, viewed, shortlisted or asked to contact you",
        true,
        None,
        200,
        "TalentActivity",
    ),
    (
        "post",
        "/recognitions",
        "Ask for prior learning to be recognised as an achievement (a micro-badge, a level or a certificate), showing an imported badge or describing it. A valid badge issued to your e-mail address that one of the issuer's equivalency rules names is recognised at once (`status: awarded`); anything else starts a submission to complete with evidence and send (`status: queued`), assessed blind against the rubric",
        true,
        Some("RecognitionInput"),
        201,
        "Recognition",
    ),
    ("get", "/organisations/{id}/equivalencies", "The organisation's equivalency rules (those who run assessment)", true, None, 200, "EquivalencyList"),
    (
        "post",
        "/organisations/{id}/equivalencies",
        "Add an equivalency rule: badges from elsewhere with this issuer id and achievement id count as one of the organisation's achievements (those who run assessment)",
        true,
        Some("EquivalencyInput"),
        201,
        "Equivalency",
    ),
    ("delete", "/organisations/{id}/equivalencies/{rule}", "Remove an equivalency rule; what it recognised stays awarded", true, None, 204, ""),
    ("get", "/notifications", "Your notifications, newest first, with the unread count", true, None, 200, "NotificationList"),
    ("post", "/notifications/read", "Mark one notification (`id`) or all as read", true, Some("ReadInput"), 204, ""),
];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn content_properties() -> Value {
    json!({
        "name": {"type": "string", "maxLength": 120},
        "description": {"type": "string", "maxLength": 4000},
        "criteria": {"type": "string", "description": "Criteria narrative in Markdown"},
        "rubric": {"oneOf": [schema_ref("RubricInput"), {"type": "null"}]},
        "alignments": {"type": "array", "maxItems": 30, "items": schema_ref("Alignment")},
        "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 40}},
        "language": {"type": "string", "description": "BCP 47 tag, default en"},
        "effort_hours": {"type": ["number", "null"]},
        "fee": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["amount", "currency"], "properties": {"amount": {"type": ["string", "number"], "examples": ["49.00"]}, "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
            "plan": {"enum": ["upfront", "per-level"], "default": "upfront", "description": "A micro-credential's: its fee paid once before the first level is assessed (covering all three), or a third before each level"}}}]},
        "validity_months": {"type": ["integer", "null"], "minimum": 1, "maximum": 600},
        "credits_available": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 10000, "description": "Credit hours, at most two decimals (OB 3.0 creditsAvailable)"},
        "renewal": {"oneOf": [{"type": "null"}, schema_ref("RenewalInput")]},
    })
}

fn schemas() -> Value {
    let mut new_achievement = content_properties();
    new_achievement["kind"] = json!({"enum": ["micro-badge", "micro-credential", "certificate"]});
    new_achievement["levels"] =
        json!({"type": "array", "description": "Exactly three for a micro-credential written inline, in order", "items": schema_ref("AchievementContent")});
    new_achievement["levels_in_any_order"] = json!({"type": "boolean", "default": false, "description": "A micro-credential's: whether its levels may be taken in any order (by default each needs the ones before it; applying out of order is a 409 level-order problem)"});
    new_achievement["requirements"] = schema_ref("RequirementsInput");
    json!({
        "Problem": {"type": "object", "description": "RFC 9457 problem details", "properties": {
            "type": string(), "title": string(), "status": {"type": "integer"}, "detail": string(), "instance": string(), "request_id": string(),
            "errors": {"type": "array", "items": {"type": "object", "properties": {"pointer": string(), "detail": string()}}}}},
        "SignUp": {"type": "object", "required": ["name", "email", "password"], "properties": {"name": string(), "email": string(), "password": {"type": "string", "minLength": 10}}},
        "Credentials": {"type": "object", "required": ["email", "password"], "properties": {"email": string(), "password": string()}},
        "User": {"type": "object", "properties": {"id": string(), "name": string(), "email": string()}},
        "MeInput": {"type": "object", "additionalProperties": false, "properties": {"name": string(),
            "handle": {"type": ["string", "null"], "pattern": "^[a-z0-9](?:-?[a-z0-9])+$", "minLength": 3, "maxLength": 30, "description": "Your public page's /u/{handle} (case-insensitive); null removes it"},
            "discoverable": {"type": "boolean", "description": "Whether employers may find you (needs a handle)"},
            "show_imports": {"type": "boolean", "description": "Whether your public page lists your imported badges that verified"}}},
        "TalentAward": {"type": "object", "properties": {"id": string(), "page": string(),
            "achievement": {"type": "object", "properties": {"id": string(), "name": string(), "kind": string(), "page": string()}},
            "issuer": {"type": "object", "properties": {"id": string(), "name": string()}}, "issued_at": string(), "valid_until": nullable_string(), "expired": {"type": "boolean"},
            "results": {"type": "array", "items": {"type": "object", "properties": {"criterion": string(), "criterion_name": string(), "level": {"type": "integer"}, "level_name": string(), "required_level_name": string()}}},
            "competencies": {"type": "array", "items": {"type": "object"}}, "evidence": {"type": "array", "items": {"type": "object", "properties": {"name": string(), "url": string()}}}}},
        "TalentLearnerRef": {"type": "object", "properties": {"handle": string(), "name": string(), "portfolio": string()}},
        "TalentLearner": {"type": "object", "properties": {"learner": schema_ref("TalentLearnerRef"), "shortlisted": {"type": "boolean"}, "awards": {"type": "array", "items": schema_ref("TalentAward")}}},
        "TalentList": {"type": "object", "properties": {"organisation": {"type": "object"}, "total": {"type": "integer", "description": "Learners matching, counted up to 1000"}, "total_capped": {"type": "boolean", "description": "More than `total` learners match"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
            "items": {"type": "array", "items": schema_ref("TalentLearner")}}},
        "Shortlist": {"type": "object", "properties": {"organisation": {"type": "object"}, "items": {"type": "array", "items": {"type": "object", "properties": {"learner": schema_ref("TalentLearnerRef"), "added_at": string()}}}}},
        "ContactInput": {"type": "object", "required": ["handle", "message"], "properties": {"handle": string(), "message": {"type": "string", "maxLength": 2000}, "organisation": string()}},
        "ContactAnswer": {"type": "object", "required": ["decision"], "properties": {"decision": {"enum": ["accept", "decline"]}}},
        "ContactRequest": {"type": "object", "properties": {"id": string(), "organisation": {"type": "object", "properties": {"id": string(), "name": string()}},
            "learner": {"type": "object", "properties": {"handle": nullable_string(), "name": string(), "portfolio": nullable_string(), "email": {"type": ["string", "null"], "description": "Only once the learner accepted"}}},
            "message": string(), "status": {"enum": ["pending", "accepted", "declined"]}, "created_at": string(), "decided_at": nullable_string()}},
        "ContactRequestList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("ContactRequest")}}},
        "TalentActivity": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "organisation": {"type": "object", "properties": {"id": string(), "name": string()}}, "member": nullable_string(), "event": {"enum": ["search", "view", "shortlist", "contact"]},
            "description": string(), "at": string()}}}}},
        "PasswordChange": {"type": "object", "required": ["current_password", "password"], "properties": {"current_password": string(), "password": string()}},
        "PasswordResetRequest": {"type": "object", "required": ["email"], "properties": {"email": string()}},
        "PasswordReset": {"type": "object", "required": ["password"], "properties": {"password": string()}},
        "Accepted": {"type": "object", "properties": {"detail": string()}},
        "PasswordConfirmation": {"type": "object", "required": ["password"], "properties": {"password": string()}},
        "EmailChange": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string", "format": "email"}, "password": string()}},
        "EmailChanged": {"type": "object", "properties": {"id": string(), "email": string()}},
        "Export": {"type": "object", "description": "Profile, memberships, submissions with their evidence's metadata and reflections, awards with their credentials' URLs, collaborations, notifications and API tokens' metadata",
            "properties": {"exported_at": string(), "site": string(), "profile": {"type": "object"}, "memberships": {"type": "array"}, "submissions": {"type": "array"},
                "awards": {"type": "array"}, "collaborations": {"type": "array"}, "notifications": {"type": "array"}, "api_tokens": {"type": "array"}}},
        "InvitationInput": {"type": "object", "required": ["email", "role"], "properties": {"email": {"type": "string", "format": "email"}, "role": {"enum": ["owner", "staff", "assessor"]}}},
        "Invitation": {"type": "object", "properties": {"id": string(), "organisation_id": string(), "email": string(), "role": {"enum": ["owner", "staff", "assessor"]},
            "state": {"enum": ["pending", "accepted", "revoked", "expired"]}, "created_at": string(), "expires_at": string(), "accepted_at": nullable_string(), "revoked_at": nullable_string()}},
        "InvitationList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Invitation")}}},
        "DirectAwardInput": {"type": "object", "required": ["achievement_id", "recipient"], "properties": {"achievement_id": string(),
            "recipient": {"type": "object", "required": ["email", "name"], "properties": {"email": {"type": "string", "format": "email"}, "name": string()}},
            "narrative": {"type": "string", "description": "How it was earned (at most 5000 characters); stated in the credential as evidence"},
            "evidence": {"type": "array", "maxItems": 20, "items": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}, "name": string()}}},
            "results": {"type": "array", "maxItems": 50, "description": "The rubric levels reached in an assessment done elsewhere: none, or every criterion of the achievement's rubric at or above its required level; stated in the credential as its results",
                "items": {"type": "object", "required": ["criterion", "level"], "properties": {"criterion": {"type": "string", "description": "The criterion's id or name"},
                    "level": {"type": ["string", "integer"], "description": "The level's name or its number, from 1"}}}}}},
        "DirectAward": {"type": "object", "properties": {"id": string(), "organisation_id": string(), "achievement_id": string(),
            "recipient": {"type": "object", "properties": {"email": string(), "name": string()}}, "narrative": string(),
            "evidence": {"type": "array", "items": {"type": "object", "properties": {"url": string(), "name": string()}}},
            "results": {"type": "array", "items": {"type": "object", "properties": {"criterion": string(), "criterion_name": string(), "level": {"type": "integer", "description": "From 1"}, "level_name": string()}}},
            "status": {"enum": ["waiting", "claimed", "withdrawn"]}, "created_at": string(), "claimed_at": nullable_string(), "withdrawn_at": nullable_string(),
            "award_id": nullable_string(), "links": {"type": "object", "properties": {"self": string(), "award": nullable_string()}}}},
        "AwardBatchFile": {"type": "string", "description": "CSV, UTF-8: a header row naming the columns email, name, achievement_id and optionally narrative, evidence_url (any order and case), then one recipient per row. A Content-Disposition header may name the file"},
        "AwardBatchRow": {"type": "object", "properties": {"row": {"type": "integer", "description": "As a spreadsheet numbers it: the header is row 1"}, "email": string(), "detail": string()}},
        "AwardBatch": {"type": "object", "properties": {"id": string(), "organisation_id": string(), "file_name": string(),
            "status": {"enum": ["preview", "running", "done"], "description": "preview: uploaded on the issuer's page and waiting for its preview to be confirmed"},
            "total": {"type": "integer"}, "pending": {"type": "integer"}, "awarded": {"type": "integer"}, "skipped": {"type": "integer"}, "failed": {"type": "integer"},
            "created_at": string(), "started_at": nullable_string(), "finished_at": nullable_string(),
            "errors": {"type": "array", "description": "The rows that cannot be awarded (one batch read alone)", "items": schema_ref("AwardBatchRow")},
            "skipped_rows": {"type": "array", "description": "The rows skipped (one batch read alone)", "items": schema_ref("AwardBatchRow")},
            "links": {"type": "object", "properties": {"self": string()}}}},
        "AwardBatchList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("AwardBatch")}}},
        "DirectAwardList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("DirectAward")}}},
        "InvitationAcceptance": {"type": "object", "description": "Empty with a bearer token; otherwise the new account's name and password", "properties": {"name": string(), "password": string()}},
        "Membership": {"type": "object", "properties": {"organisation_id": string(), "organisation_name": string(), "role": {"enum": ["owner", "staff", "assessor"]}, "user_id": string(), "email": string()}},
        "SignUpReceipt": {"type": "object", "properties": {"name": string(), "email": string(), "detail": string()}},
        "Session": {"type": "object", "properties": {"token": {"type": "string", "description": "Send as Authorization: Bearer <token>"}, "token_id": string(), "expires_at": nullable_string(), "user": schema_ref("User")}},
        "Me": {"type": "object", "properties": {"id": string(), "name": string(), "email": string(), "handle": nullable_string(), "portfolio": nullable_string(),
            "discoverable": {"type": "boolean"}, "show_imports": {"type": "boolean"}, "memberships": {"type": "array", "items": {"type": "object", "properties": {"organisation_id": string(), "role": {"enum": ["owner", "staff", "assessor"]}}}}}},
        "TokenInput": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 80},
            "scope": {"enum": ["full", "read-only"], "description": "read-only tokens may only make GET and HEAD requests (others get 403); default full"},
            "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650, "description": "Days until the token stops working; default 90; null for never"}}},
        "Token": {"type": "object", "properties": {"id": string(), "name": string(), "prefix": string(), "scope": {"enum": ["full", "read-only"]}, "created_at": string(),
            "expires_at": nullable_string(), "last_used_at": {"type": ["string", "null"], "description": "Recorded to the minute"}, "revoked_at": nullable_string()}},
        "NewToken": {"allOf": [schema_ref("Token"), {"type": "object", "properties": {"token": string()}}]},
        "TokenList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Token")}}},
        "OrganisationInput": {"type": "object", "required": ["name", "url"], "properties": {"name": string(), "url": {"type": "string", "format": "uri"}, "email": nullable_string(), "description": nullable_string(),
            "kind": {"enum": ["issuer", "employer"], "default": "issuer", "description": "Chosen at creation and kept"}}},
        "Organisation": {"type": "object", "properties": {"id": string(), "name": string(), "kind": {"enum": ["issuer", "employer"]}, "url": string(), "email": nullable_string(), "description": string(), "image": string(), "page": string(),
            "did_web": string(), "did_key": string(), "did_document": string(), "public_key_multibase": string(), "created_at": string()}},
        "OrganisationList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Organisation")}}},
        "MemberInput": {"type": "object", "required": ["email", "role"], "properties": {"email": string(), "role": {"enum": ["owner", "staff", "assessor"]}}},
        "RoleInput": {"type": "object", "required": ["role"], "properties": {"role": {"enum": ["owner", "staff", "assessor"]}}},
        "Member": {"type": "object", "properties": {"user_id": string(), "name": string(), "email": string(), "role": string()}},
        "MemberList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Member")}}},
        "Upload": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        "ImportInput": {"oneOf": [
            {"type": "object", "description": "An Open Badges 3.0 or CLR 2.0 credential, or an OB 2.0 assertion, as JSON"},
            {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {"url": {"type": "string", "format": "uri", "description": "A hosted badge's address"}}},
        ]},
        "Import": {"type": "object", "properties": {
            "id": string(), "verdict": {"type": "string", "enum": ["valid", "invalid", "indeterminate"]},
            "verdict_text": {"type": "string", "description": "\"Verified by Cairn on DATE\" or why it could not be"},
            "detail": {"type": ["string", "null"], "description": "The failed check, or the one that could not be made"},
            "verified_at": string(), "name": string(), "issuer": string(),
            "issuer_id": {"type": ["string", "null"], "description": "The issuer's DID or URL, as the badge gives it"},
            "achievement_id": {"type": ["string", "null"], "description": "The achievement's (or OB 2.0 BadgeClass's) id, as the badge gives it"},
            "format": {"type": "string", "description": "What was verified: ob3-json, ob3-jwt, clr-json, ob2-hosted, ob2-signed, with png+ or svg+ when baked"},
            "source": {"type": "string", "enum": ["json", "jwt", "url", "png", "svg"]}, "created_at": string(),
            "counts_as": {"type": "array", "description": "Achievements here that issuers' equivalency rules count it as (listing and showing only)", "items": {"type": "object", "properties": {
                "achievement_id": string(), "name": string(), "issuer": string()}}}}},
        "ImportList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Import")}}},
        "RecognitionInput": {"type": "object", "additionalProperties": false, "required": ["achievement_id"], "properties": {
            "achievement_id": string(), "import_id": {"type": ["string", "null"], "description": "One of your imported badges, shown as the prior learning"},
            "statement": {"type": ["string", "null"], "description": "Your account of the prior learning; it becomes the submission's overview"}}},
        "Recognition": {"type": "object", "required": ["status"], "properties": {
            "status": {"enum": ["awarded", "queued"]}, "award": schema_ref("Award"),
            "submission": {"type": "object", "description": "The draft submission asking for recognition, with its links"}}},
        "EquivalencyInput": {"type": "object", "additionalProperties": false, "required": ["achievement_id", "external_issuer", "external_achievement"], "properties": {
            "achievement_id": {"type": "string", "description": "The organisation's micro-badge, level or certificate"},
            "external_issuer": {"type": "string", "description": "The other issuer's id as its badges give it: a DID or a URL"},
            "external_achievement": {"type": "string", "description": "The other achievement's (or OB 2.0 BadgeClass's) id"},
            "note": {"type": ["string", "null"], "maxLength": 500}}},
        "Equivalency": {"type": "object", "properties": {
            "id": string(), "achievement_id": string(), "achievement_name": string(), "external_issuer": string(), "external_achievement": string(),
            "note": string(), "created_at": string()}},
        "EquivalencyList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Equivalency")}}},
        "RubricInput": {"type": "object", "required": ["levels", "criteria"], "properties": {
            "levels": {"type": "array", "minItems": 2, "maxItems": 6, "items": string(), "description": "Level names, lowest first"},
            "criteria": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "object", "required": ["name", "required_level", "descriptors"], "properties": {
                "id": {"type": "string", "description": "Slug; derived from the name when absent"}, "name": string(), "description": string(),
                "required_level": {"type": ["string", "integer"], "description": "Level name or 1-based number"},
                "descriptors": {"type": "array", "items": string(), "description": "One per level"}}}}}},
        "Alignment": {"type": "object", "required": ["target_name", "target_url"], "properties": {
            "target_name": string(), "target_url": {"type": "string", "format": "uri"}, "target_description": nullable_string(), "target_framework": nullable_string(),
            "target_code": nullable_string(), "target_type": {"type": ["string", "null"], "description": "ceasn:Competency, ceterms:Credential, CFItem, CFRubric, CFRubricCriterion, CFRubricCriterionLevel, CTDL or ext:…"}}},
        "AchievementContent": {"type": "object", "additionalProperties": false, "required": ["name", "description", "criteria"], "properties": content_properties()},
        "NewAchievement": {"type": "object", "additionalProperties": false, "required": ["kind", "name", "description", "criteria"], "properties": new_achievement},
        "Achievement": {"type": "object", "properties": {
            "id": string(), "kind": {"enum": ["micro-badge", "micro-credential", "certificate"]},
            "level": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"number": {"type": "integer"}, "title": string(), "part_of": string()}}]},
            "name": string(), "description": string(), "criteria": string(),
            "issuer": {"type": "object", "properties": {"id": string(), "name": string()}},
            "levels": {"type": "array", "items": string(), "description": "A micro-credential's level achievement ids, in order, or a certificate's component ids"},
            "levels_in_any_order": {"type": "boolean", "description": "A micro-credential's: whether its levels may be taken in any order"},
            "requirements": {"oneOf": [{"type": "null"}, schema_ref("Requirements")], "description": "A micro-credential's or certificate's rule and components"},
            "credits_available": {"type": ["number", "null"], "description": "Credit hours"},
            "fee": {"type": "object", "properties": {"free": {"type": "boolean"}, "amount": string(), "amount_minor": {"type": "integer"}, "currency": string(),
                "plan": {"enum": ["upfront", "per-level"], "description": "How a micro-credential's fee is charged on its levels"}}},
            "validity_months": {"type": ["integer", "null"]},
            "renewal": schema_ref("Renewal"),
            "rubric": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"levels": {"type": "array", "items": string()}, "criteria": {"type": "array", "items": {"type": "object", "properties": {
                "id": string(), "name": string(), "description": string(), "required_level": string(), "descriptors": {"type": "array", "items": string()}}}}}}]},
            "alignments": {"type": "array", "items": schema_ref("Alignment")}, "tags": {"type": "array", "items": string()}, "language": string(),
            "effort_hours": {"type": ["number", "null"]}, "image": string(), "url": string(), "state": {"enum": ["draft", "published", "retired"]},
            "version": {"type": "integer"}, "created_at": string(), "updated_at": string(), "published_at": nullable_string()}},
        "AchievementList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Achievement")}}},
        "RenewalInput": {"type": "object", "additionalProperties": false, "description": "How awards of an achievement with a validity period are renewed", "properties": {
            "path": {"enum": ["full", "light"], "default": "full", "description": "full: a full reassessment against the rubric; light: renewal evidence judged against a renewal rubric"},
            "rubric": {"oneOf": [schema_ref("RubricInput"), {"type": "null"}], "description": "A light path's renewal rubric (required for light)"},
            "instructions": {"type": ["string", "null"], "maxLength": 4000, "description": "A light path's instructions for the renewal evidence (Markdown)"}}},
        "Renewal": {"type": "object", "properties": {"path": {"enum": ["full", "light"]}, "rubric": {"type": ["object", "null"]}, "instructions": nullable_string()}},
        "AwardLink": {"type": "object", "properties": {"id": string(), "page": string(), "issued_at": string()}},
        "RequirementsInput": {"type": "object", "additionalProperties": false, "description": "A certificate's rule and components, or the existing micro-badges a micro-credential is made of (its levels, in order)", "properties": {
            "rule": {"enum": ["all", "n_of", "min_credits"], "description": "A certificate's; a micro-credential needs all of its levels"},
            "n": {"type": "integer", "minimum": 1, "maximum": 30, "description": "For n_of"},
            "min_credits": {"type": "number", "exclusiveMinimum": 0, "description": "For min_credits: credit hours needed from the components held"},
            "components": {"type": "array", "minItems": 2, "maxItems": 30, "items": string(), "description": "Achievement ids: published micro-credentials and micro-badges (a micro-credential's: its organisation's micro-badges)"}}},
        "Requirements": {"type": "object", "properties": {
            "rule": {"enum": ["all", "n_of", "min_credits"]}, "n": {"type": "integer"}, "min_credits": {"type": "number"},
            "components": {"type": "array", "items": {"type": "object", "properties": {
                "id": string(), "name": string(), "kind": {"enum": ["micro-badge", "micro-credential", "level"]},
                "issuer": {"type": "object", "properties": {"id": string(), "name": string()}},
                "credits_available": {"type": ["number", "null"]},
                "agreed": {"type": "boolean", "description": "Whether the component's organisation agreed (always, for the achievement's own)"}}}}}},
        "ComponentRequest": {"type": "object", "properties": {
            "certificate": {"type": "object", "properties": {"id": string(), "name": string(), "kind": string(), "issuer": {"type": "object", "properties": {"id": string(), "name": string()}}}},
            "component": {"type": "object", "properties": {"id": string(), "name": string(), "kind": string()}},
            "requested_at": string(), "agree": {"type": "string", "description": "The API path to POST to agree"}}},
        "ComponentRequestList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("ComponentRequest")}}},
        "Comparison": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "achievement": schema_ref("Achievement"),
            "fee_label": {"type": "string", "description": "The fee in words, as every page says it"},
            "effort": {"type": ["string", "null"], "description": "Estimated effort in words"},
            "validity": {"type": "string", "description": "Validity in words"},
            "outcomes": schema_ref("Outcomes")}}}}},
        "Outcomes": {"type": "object", "required": ["status"], "description": "The issuer's outcome figures, shown only when it publishes them and once five decisions lie behind them", "properties": {
            "status": {"enum": ["published", "not_published", "too_few_decisions", "not_assessed"]},
            "decisions": {"type": "integer", "description": "Decisions made, one per attempt judged"},
            "minimum_decisions": {"type": "integer"},
            "decided_submissions": {"type": "integer", "description": "Submissions decided and waiting for no other decision"},
            "awarded": {"type": "integer", "description": "Decided submissions that were awarded"},
            "pass_rate_percent": {"type": ["integer", "null"], "description": "awarded ÷ decided_submissions, in whole percent"},
            "median_decision_seconds": {"type": "integer", "description": "Median time from sending an attempt to its decision"},
            "median_decision_days": {"type": "number", "description": "The same in calendar days"},
            "median_decision_text": string()}},
        "AchievementPage": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Achievement")}, "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
        "SubmissionInput": {"type": "object", "additionalProperties": false, "properties": {
            "overview": {"type": "string", "maxLength": 20000}, "reflection": {"type": "string", "maxLength": 20000, "description": "Your individual reflection"},
            "links": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "uri"}},
            "collaborators": {"type": "array", "maxItems": 10, "items": {"type": "string", "format": "email"}, "description": "Collaborators' e-mail addresses; each writes their own reflection"}}},
        "Submission": {"type": "object", "properties": {
            "id": string(), "achievement_id": string(), "status": {"enum": ["draft", "submitted", "in_review", "passed", "not_yet", "resubmitted", "withdrawn", "awarded"]},
            "attempt": {"type": "integer"}, "overview": string(), "reflection": string(), "links": {"type": "array", "items": string()}, "collaborators": {"type": "array", "items": string()},
            "fee": {"enum": ["none", "due", "paid", "waived", "voucher"]}, "submitted_at": nullable_string(), "due_at": nullable_string(), "created_at": string(), "updated_at": string(),
            "renewal_of": {"type": ["string", "null"], "description": "The award this submission renews"}}},
        "SubmissionList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Submission")}}},
        "Feedback": {"type": "object", "properties": {"attempt": {"type": "integer"}, "outcome": {"enum": ["pass", "not_yet"]}, "feedback": string(), "at": string(),
            "scores": {"type": "array", "items": {"type": "object", "properties": {"criterion": string(), "criterion_name": string(), "level": string(), "required_level": string(), "met": {"type": "boolean"}, "comment": string()}}}}},
        "SubmissionView": {"allOf": [schema_ref("Submission"), {"type": "object", "properties": {
            "achievement_name": string(), "artifacts": {"type": "array", "items": schema_ref("Artifact")}, "feedback": {"type": "array", "items": schema_ref("Feedback")},
            "attempts": {"type": "integer"}, "attempts_left": {"type": ["integer", "null"]}, "due_state": {"enum": ["on_track", "nearly_due", "overdue", null]},
            "evidence_storage": {"type": "object", "description": "The learner's evidence files with this issuer, over all their submissions, and the issuer's limit",
                "properties": {"used_bytes": {"type": "integer"}, "allowed_bytes": {"type": "integer"}}},
            "award_id": nullable_string(), "renewal": {"oneOf": [{"type": "null"}, schema_ref("Renewal")], "description": "A renewal's path, with a light path's rubric and instructions"},
            "history": {"type": "array", "items": {"type": "object", "properties": {"status": string(), "by": string(), "note": string(), "at": string()}}},
            "collaborator_reflections": {"type": "array", "items": {"type": "object", "properties": {"email": string(), "written": {"type": "boolean"}}}},
            "missing_reflections": {"type": "array", "items": string(), "description": "Named collaborators who have not written their reflection yet"},
            "reflections_required": {"type": "boolean", "description": "Whether the issuer makes the submit wait for every collaborator's reflection"},
            "fee_charge": {"type": "object", "description": "What this submission is charged and how to pay", "properties": {
                "amount": {"type": ["object", "null"], "properties": {"free": {"type": "boolean"}, "amount": string(), "amount_minor": {"type": "integer"}, "currency": string()}},
                "label": string(), "terms": string(), "covers_every_level": {"type": "boolean", "description": "A micro-credential's fee paid once: settling it settles every level"},
                "payment": {"type": ["object", "null"], "properties": {"instructions": string(), "url": nullable_string()}}}}}}]},
        "EvidenceUpload": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string", "maxLength": 120}}},
        "TextInput": {"type": "object", "required": ["body"], "properties": {"title": string(), "body": {"type": "string", "maxLength": 20000}}},
        "Artifact": {"type": "object", "properties": {"id": string(), "kind": {"enum": ["file", "text"]}, "title": string(), "media_type": string(), "size": {"type": "integer"},
            "file_name": string(), "body": string(), "attempt": {"type": "integer"}}},
        "VoucherInput": {"type": "object", "required": ["code"], "properties": {"code": string()}},
        "FeeInput": {"type": "object", "required": ["action"], "properties": {"action": {"enum": ["paid", "waived"]}}},
        "BlindSubmission": {"type": "object", "description": "What an assessor sees: an opaque code and the evidence, never the learner's identity", "properties": {
            "submission_id": string(), "code": string(), "achievement_id": string(), "achievement_name": string(), "status": string(), "attempt": {"type": "integer"},
            "due_at": nullable_string(), "due_state": nullable_string(), "renewal": {"type": "boolean", "description": "A renewal of an award: judged by the renewal rubric on a light path"},
            "rubric": {"type": "object", "description": "The rubric it is judged by"}, "overview": string(), "reflection": string(), "links": {"type": "array", "items": string()},
            "artifacts": {"type": "array", "items": {"type": "object", "properties": {"id": string(), "label": string(), "title": string(), "kind": string(), "media_type": nullable_string(),
                "size": {"type": ["integer", "null"]}, "text": nullable_string(), "download": nullable_string()}}},
            "collaborator_reflections": {"type": "array", "items": string()}, "previous_feedback": {"type": "array", "items": schema_ref("Feedback")},
            "changes": {"type": ["object", "null"], "description": "Line diff of overview and reflection, added and removed artefacts, since the previous attempt"},
            "duplicates": {"type": "array", "items": {"type": "object", "properties": {"kind": {"enum": ["file", "text", "reflection"]}, "description": string(), "other_code": string(), "similarity": {"type": "number"}}}}}},
        "AssessmentQueue": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("BlindSubmission")}}},
        "AssessmentInput": {"type": "object", "required": ["scores"], "properties": {
            "scores": {"type": "array", "items": {"type": "object", "required": ["criterion", "level"], "properties": {
                "criterion": {"type": "string", "description": "Criterion id"}, "level": {"type": ["string", "integer"], "description": "Level name or 1-based number"}, "comment": string()}}},
            "feedback": {"type": "string", "description": "Overall feedback"}}},
        "AssessmentResult": {"type": "object", "properties": {"outcome": {"enum": ["pass", "not_yet"]}, "awarded": {"type": "boolean"},
            "held": {"type": "boolean", "description": "The decision waits: the judgement was sampled for a second, blind scoring, or the two scorings disagree and a moderator decides"}}},
        "Insight": {"type": "object", "properties": {
            "organisation_id": string(), "achievement_id": nullable_string(),
            "period": {"type": "object", "properties": {"from": string(), "to": string(), "grain": {"enum": ["week", "month"]}}},
            "submissions": {"type": "array", "items": {"type": "object", "properties": {"start": string(), "first_attempts": {"type": "integer"}, "revisions": {"type": "integer"}}}},
            "pass_rate": {"type": "object", "properties": {"first_attempt": schema_ref("Rate"), "overall": schema_ref("Rate")}},
            "time_to_decision": {"type": "object", "properties": {"decisions": {"type": "integer"}, "p50_business_days": {"type": ["integer", "null"]},
                "p90_business_days": {"type": ["integer", "null"]}, "service_days": {"type": "integer"}, "breaches": {"type": "integer"}}},
            "assessors": {"type": "array", "items": {"type": "object", "properties": {"user_id": string(), "name": string(), "open": {"type": "integer"},
                "decided": {"type": "integer"}, "median_business_days": {"type": ["integer", "null"]}}}},
            "awards": {"type": "object", "properties": {"issued": {"type": "integer"}, "viewed": {"type": "integer"}, "shared": {"type": "integer"}, "verified": {"type": "integer"}}},
            "sampling": {"type": "object", "properties": {"rate_percent": {"type": "integer"}, "sampled": {"type": "integer"}, "waiting_second": {"type": "integer"},
                "waiting_moderation": {"type": "integer"}, "agreed": {"type": "integer"}, "moderated": {"type": "integer"}}},
            "agreement": {"type": "array", "items": {"type": "object", "properties": {"achievement_id": string(), "achievement_name": string(), "criterion": string(),
                "criterion_name": string(), "pairs": {"type": "integer"}, "exact_percent": {"type": ["number", "null"]},
                "weighted_kappa": {"type": ["number", "null"], "description": "Linearly weighted Cohen's kappa; null when undefined (see kappa_note)"},
                "kappa_note": nullable_string()}}}}},
        "Rate": {"type": "object", "properties": {"passed": {"type": "integer"}, "decided": {"type": "integer"}, "percent": {"type": ["number", "null"]}}},
        "ModerationQueue": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "submission_id": string(), "code": string(), "achievement_name": string(), "attempt": {"type": "integer"}, "due_at": nullable_string(), "due_state": nullable_string(),
            "first_outcome": {"enum": ["pass", "not_yet"]}, "second_outcome": {"enum": ["pass", "not_yet", null]}}}}}},
        "ModerationView": {"allOf": [schema_ref("BlindSubmission"), {"type": "object", "properties": {"scorings": {"type": "array", "items": schema_ref("Feedback"),
            "description": "The first and the second blind scoring, unnamed"}}}]},
        "Award": {"type": "object", "properties": {
            "id": string(), "achievement_id": string(), "achievement_version": {"type": "integer"}, "organisation_id": string(),
            "submission_id": {"type": ["string", "null"], "description": "the submission behind the award; null unless the caller is its learner or issuer staff"},
            "status": {"enum": ["active", "revoked", "suspended"]}, "status_reason": nullable_string(), "privacy": {"enum": ["public", "unlisted", "private"]},
            "evidence_public": {"type": "boolean"}, "issued_at": string(), "valid_until": nullable_string(),
            "recognition": {"type": ["string", "null"], "enum": ["equivalency", "assessed", null], "description": "Set when the award recognises prior learning: by an equivalency rule, or assessed"},
            "renews": {"oneOf": [{"type": "null"}, schema_ref("AwardLink")], "description": "The earlier award this one renews (null when none, or not visible to the caller)"},
            "renewed_by": {"oneOf": [{"type": "null"}, schema_ref("AwardLink")], "description": "The newer award that renews this one (null when none, or not visible to the caller)"},
            "links": {"type": "object", "properties": {"page": string(), "credential": string(), "jwt": string(), "png": string(), "svg": string(), "ob2": string()}}}},
        "WebhookEndpointInput": {"type": "object", "required": ["url", "events"], "properties": {
            "url": {"type": "string", "format": "uri"},
            "description": {"type": "string", "maxLength": 200},
            "events": {"type": "array", "minItems": 1, "items": {"enum": ["award.issued", "award.revoked", "award.suspended", "award.reinstated", "submission.submitted", "submission.decided"]}},
        }},
        "WebhookEndpointChange": {"type": "object", "properties": {
            "url": {"type": "string", "format": "uri"},
            "description": {"type": "string", "maxLength": 200},
            "events": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "enabled": {"type": "boolean"},
        }},
        "WebhookEndpoint": {"type": "object", "properties": {
            "id": {"type": "string"}, "organisation_id": {"type": "string"}, "url": {"type": "string"}, "description": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}}, "enabled": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
        }},
        "WebhookEndpointCreated": {"allOf": [schema_ref("WebhookEndpoint"), {"type": "object", "properties": {"secret": {"type": "string", "description": "whsec_…: the Standard Webhooks signing secret, shown once"}}}]},
        "WebhookEndpointList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("WebhookEndpoint")}}},
        "WebhookSecret": {"type": "object", "properties": {"secret": {"type": "string"}}},
        "StripeKeys": {"type": "object", "required": ["secret_key", "webhook_secret"], "properties": {
            "secret_key": {"type": "string", "description": "sk_live_…, sk_test_…, rk_live_… or rk_test_…"},
            "webhook_secret": {"type": "string", "description": "whsec_…: the webhook endpoint's signing secret"},
        }},
        "StripeConnection": {"type": "object", "properties": {
            "connected": {"type": "boolean"},
            "account": {"type": ["object", "null"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "livemode": {"type": "boolean"}, "connected_at": {"type": "string", "format": "date-time"},
            }},
            "webhook_url": {"type": "string", "format": "uri"},
            "webhook_events": {"type": "array", "items": {"type": "string"}},
        }},
        "CheckoutInput": {"type": "object", "properties": {"send_when_paid": {"type": "boolean", "default": false}}},
        "Payment": {"type": "object", "properties": {
            "id": {"type": "string"}, "submission_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "paid", "expired", "refunded", "refund_failed"]},
            "amount": {"type": "object", "properties": {"minor": {"type": "integer"}, "currency": {"type": "string"}}},
            "checkout_session_id": {"type": "string"}, "url": {"type": ["string", "null"], "format": "uri", "description": "Stripe's payment page, while open"},
            "payment_intent": {"type": ["string", "null"]}, "send_when_paid": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"},
            "paid_at": {"type": ["string", "null"], "format": "date-time"}, "refunded_at": {"type": ["string", "null"], "format": "date-time"},
        }},
        "PaymentList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Payment")}}},
        "WebhookDelivery": {"type": "object", "properties": {
            "id": {"type": "string"},
            "message_id": {"type": "string", "description": "The webhook-id header, the same at every attempt"},
            "endpoint_id": {"type": "string"},
            "event_type": {"type": "string"},
            "payload": {"type": "object", "description": "The body as sent: type, timestamp, data"},
            "state": {"enum": ["pending", "delivered", "failed"]},
            "attempts": {"type": "array", "items": {"type": "object", "properties": {
                "number": {"type": "integer"}, "attempted_at": {"type": "string", "format": "date-time"},
                "status": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}, "response": {"type": ["string", "null"]}, "duration_ms": {"type": "integer"},
            }}},
            "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
            "last_status": {"type": ["integer", "null"]},
            "last_error": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "settled_at": {"type": ["string", "null"], "format": "date-time"},
        }},
        "WebhookDeliveryList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("WebhookDelivery")}}},
        "WalletOffer": {"type": "object", "properties": {
            "award_id": {"type": "string"},
            "credential_offer": {"type": "object", "description": "The OID4VCI credential offer: credential_issuer, credential_configuration_ids, and the pre-authorized code grant with its tx_code description"},
            "credential_offer_uri": {"type": "string", "description": "Where a wallet fetches the offer (GET, JSON) until it is used or expires"},
            "credential_offer_url": {"type": "string", "description": "openid-credential-offer://?credential_offer_uri=…, for a wallet to open or a QR code to hold"},
            "tx_code": {"type": "string", "description": "Six digits the wallet's user types in; never inside the offer"},
            "expires_at": {"type": "string", "format": "date-time"},
        }},
        "WalletPickups": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "credential_id": {"type": "string", "description": "The urn:uuid: of the credential the wallet holds"},
            "holder": {"type": "string", "description": "The holder's DID (did:key or did:jwk) the credential is bound to"},
            "format": {"enum": ["ldp_vc", "jwt_vc_json"]},
            "picked_up_at": {"type": "string", "format": "date-time"},
        }}}}},
        "AwardList": {"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("Award")}}},
        "PrivacyInput": {"type": "object", "required": ["privacy"], "properties": {"privacy": {"enum": ["public", "unlisted", "private"]}, "evidence_public": {"type": "boolean"}}},
        "StatusInput": {"type": "object", "required": ["action"], "properties": {"action": {"enum": ["revoke", "suspend", "reinstate"]}, "reason": string(),
            "publish_reason": {"type": "boolean", "default": false, "description": "Show the reason to everyone (award page, OB 2.0 assertion, API); otherwise only the learner and the issuer's staff read it"}}},
        "AssessmentSettings": {"type": "object", "required": ["service_days", "nearly_due_days"], "properties": {
            "service_days": {"type": "integer", "minimum": 1, "maximum": 60, "description": "Business days from submission to decision"},
            "nearly_due_days": {"type": "integer", "minimum": 0, "maximum": 10}, "attempt_limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 20},
            "confirm_passes": {"type": "boolean", "description": "Staff confirm each pass before the award"}, "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
            "evidence_quota_mb": {"type": "integer", "minimum": 1, "maximum": 10240, "default": 200, "description": "Evidence storage each learner has with the issuer, in MiB (absent: the default)"},
            "payment_instructions": {"type": "string", "maxLength": 2000, "description": "How learners pay a fee, shown to every learner who owes one"},
            "payment_url": {"type": ["string", "null"], "format": "uri", "description": "Where learners pay online"},
            "collaborator_reflections": {"enum": ["warn", "require"], "default": "warn", "description": "Whether a submit waits for every named collaborator's reflection (require) or only warns"},
            "publish_outcomes": {"type": "boolean", "default": false, "description": "Show each achievement's outcome figures (pass rate, median calendar days to decision) on its page, in comparisons and in GET /compare, once five decisions lie behind them"},
            "sampling_percent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0, "description": "The share of judgements a second assessor scores again, blind, before the decision reaches the learner"}}},
        "IssuerQueue": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "submission_id": string(), "code": string(), "achievement_id": string(), "achievement_name": string(), "status": string(), "fee": string(), "attempt": {"type": "integer"},
            "assessor_name": nullable_string(), "due_at": nullable_string(), "due_state": nullable_string(), "duplicate_flagged": {"type": "boolean"}}}}}},
        "VoucherList": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "code": string(), "achievement_id": nullable_string(), "created_at": string(), "redeemed": {"type": "boolean"}, "redeemed_at": nullable_string()}}}}},
        "VouchersInput": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1, "maximum": 500}, "achievement_id": nullable_string()}},
        "VoucherCodes": {"type": "object", "properties": {"codes": {"type": "array", "items": string()}}},
        "PoolList": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"user_id": string(), "name": string(), "email": string(), "open": {"type": "integer"}}}}}},
        "AssessorInput": {"type": "object", "required": ["user_id"], "properties": {"user_id": string()}},
        "NotificationList": {"type": "object", "properties": {"unread": {"type": "integer"}, "items": {"type": "array", "items": {"type": "object", "properties": {
            "id": string(), "kind": string(), "subject": string(), "body": string(), "link": string(), "created_at": string(), "read_at": nullable_string()}}}}},
        "CollaborationList": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "submission_id": string(), "achievement_id": string(), "achievement_name": string(), "named_by": {"type": "string", "description": "The learner who named you"},
            "status": string(), "reflection": string(), "open": {"type": "boolean", "description": "Whether the reflection can still change (the work is not decided)"}}}}}},
        "ReflectionInput": {"type": "object", "additionalProperties": false, "required": ["reflection"], "properties": {"reflection": {"type": "string", "maxLength": 20000}}},
        "ClrCredential": {"type": "object", "description": "A CLR 2.0 ClrCredential with a DataIntegrityProof (eddsa-rdfc-2022): credentialSubject.verifiableCredential holds each award's OB 3.0 credential as issued, credentialSubject.association the isParentOf/isChildOf links between a micro-credential and its levels",
            "required": ["@context", "id", "type", "issuer", "name", "validFrom", "credentialSubject", "proof"], "properties": {
            "@context": {"type": "array", "items": string()}, "id": string(), "type": {"type": "array", "items": string()}, "issuer": {"type": "object"}, "name": string(),
            "description": {"type": "string", "description": "The credit total, when the achievements carry credits"}, "validFrom": string(), "partial": {"type": "boolean"},
            "credentialSubject": {"type": "object", "properties": {"type": string(), "identifier": {"type": "array"}, "verifiableCredential": {"type": "array", "items": {"type": "object"}},
                "association": {"type": "array", "items": {"type": "object", "properties": {"type": string(), "associationType": {"enum": ["isParentOf", "isChildOf"]}, "sourceId": string(), "targetId": string()}}}}},
            "proof": {"type": "array", "items": {"type": "object"}}}},
        "ReadInput": {"type": "object", "properties": {"id": {"type": ["string", "null"], "description": "One notification; absent for all"}}},
    })
}

fn parameters(path: &str, method: &str) -> Vec<Value> {
    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if path == "/achievements" && method == "get" {
        for (name, description) in [
            ("q", "Full-text search"),
            ("issuer", "Organisation id"),
            ("kind", "micro-badge, micro-credential or certificate"),
            ("competency", "Alignment code, or part of its name"),
            ("fee", "free or paid"),
            ("limit", "1 to 100, default 20"),
            ("offset", "Default 0"),
        ] {
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
        }
    }
    if path == "/talent" && method == "get" {
        for (name, description) in [
            ("q", "Words in achievement names, descriptions, competencies and issuers"),
            ("competency", "Words of a competency's name or code"),
            ("code", "A competency's code"),
            ("framework", "The code's framework"),
            ("achievement", "An achievement id"),
            ("criterion", "A criterion of that achievement's rubric"),
            ("min_level", "The least level reached on that criterion (1 to 10)"),
            ("issuer", "Organisation id"),
            ("unexpired", "true: only awards that have not expired"),
            ("recent_days", "Only awards issued within this many days"),
            ("limit", "1 to 50, default 20"),
            ("offset", "Default 0"),
        ] {
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
        }
    }
    if path == "/talent/compare" {
        parameters.push(
            json!({"name": "learners", "in": "query", "required": true, "description": "Two to four handles, comma-separated", "schema": {"type": "string"}}),
        );
    }
    if path.starts_with("/talent") {
        parameters.push(json!({"name": "organisation", "in": "query", "required": false, "description": "The employer to act for, when you belong to several", "schema": {"type": "string"}}));
    }
    if path == "/compare" && method == "get" {
        parameters.push(json!({"name": "achievements", "in": "query", "required": true,
            "description": "The achievements to compare, two to four ids, comma-separated or the parameter repeated",
            "schema": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4}, "style": "form", "explode": true}));
    }
    if path.starts_with("/organisations/{id}/insights") {
        for (name, description) in [
            ("achievement", "An achievement id; absent: all"),
            ("from", "First day, YYYY-MM-DD (default: 90 days before to)"),
            ("to", "Last day, YYYY-MM-DD (default: today)"),
        ] {
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
        }
        if path.ends_with("/insights") {
            parameters
                .push(json!({"name": "format", "in": "query", "required": false, "description": "json (default) or csv", "schema": {"enum": ["json", "csv"]}}));
        }
    }
    if path.ends_with("/transcript") && method == "get" {
        if path == "/me/transcript" {
            parameters.push(json!({"name": "award", "in": "query", "required": false, "description": "An award to include (repeat for several, at most 100); absent: every active award",
                "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}));
        }
        parameters.push(json!({"name": "format", "in": "query", "required": false, "description": "json (default: Data Integrity) or jwt (VC-JWT)", "schema": {"enum": ["json", "jwt"]}}));
    }
    parameters
}

/// The document, with the server's public URL.
pub(crate) fn document(config: &Config) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, auth, request, status, response) in OPERATIONS {
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters(path, method),
            "responses": {
                "default": {"description": "An error", "content": {"application/problem+json": {"schema": schema_ref("Problem")}}},
            },
        });
        let success = if response.is_empty() {
            json!({"description": "Done"})
        } else if *response == "ClrCredential" {
            json!({"description": "Success", "content": {"application/json": {"schema": schema_ref(response)}, "application/vc+jwt": {"schema": {"type": "string", "description": "With format=jwt"}}}})
        } else {
            json!({"description": "Success", "content": {"application/json": {"schema": schema_ref(response)}}})
        };
        operation["responses"][status.to_string()] = success;
        if let Some(request) = request {
            operation["requestBody"] = if *request == "ImportInput" {
                json!({"required": true, "content": {
                    "application/json": {"schema": schema_ref(request)},
                    "text/plain": {"schema": {"type": "string", "description": "A VC-JWT or an OB 2.0 signed assertion (JWS)"}},
                    "multipart/form-data": {"schema": schema_ref("Upload")},
                }})
            } else {
                let media = match *request {
                    "Upload" | "EvidenceUpload" => "multipart/form-data",
                    "AwardBatchFile" => "text/csv",
                    _ => "application/json",
                };
                json!({"required": true, "content": {media: {"schema": schema_ref(request)}}})
            };
        }
        if *auth {
            operation["security"] = json!([{"bearer": []}]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Cairn API",
            "version": "1.0.0",
            "description": "Cairn's JSON API: accounts, issuer organisations, and the catalog of micro-badges and micro-credentials. \
                Errors are RFC 9457 problem details (application/problem+json). Authenticate with Authorization: Bearer <token> \
                from POST /session or an API token; a read-only token may only make GET and HEAD requests (others get 403). \
                Failed sign-ins are throttled per account and per client address (429 with Retry-After); when password hashing \
                is saturated, sign-in and sign-up answer 503 with Retry-After. Request bodies reject unknown fields.",
        },
        "servers": [{"url": config.url("/api/v1")}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}
