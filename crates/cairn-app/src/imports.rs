//! Badges earned elsewhere, imported by a learner: an OB 2.0 assertion (hosted, by its address;
//! signed; baked), an OB 3.0 credential (JSON, JWT, baked PNG or SVG) or a CLR. Each goes through
//! the verification pipeline and is kept with its verdict and the date: "verified on DATE" or
//! "could not be verified: reason". An invalid credential is refused, naming the failed check. A
//! kept import is verified again when it is shown, once its last verification is older than
//! [`REVERIFY_AFTER`], since a badge can be revoked or expire after it was imported.

use cairn_core::authz::{Action, Actor};
use cairn_core::ids::{AwardId, ImportId, UserId};
use cairn_core::submission::strip_control_chars;
use cairn_store::{Import, ImportCheck, ImportSource, ImportVerdict};
use cairn_vc::verify::{Verdict, VerificationReport};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::accounts::profile::own;
use crate::submissions::sha256_hex;
use crate::urls::PublicDocument;
use crate::verification;
use crate::{App, AppError};

/// The largest credential accepted: JSON, JWT or a baked image.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// The most badges one learner may import.
pub const MAX_IMPORTS: u64 = 500;
/// How old a verification may be before showing the import verifies it again.
pub const REVERIFY_AFTER: Duration = Duration::minutes(10);
/// Most imports verified again for one view of the list; the rest keep their last verdict.
const REVERIFY_PER_VIEW: usize = 20;
/// Longest name kept from a foreign credential.
const MAX_NAME_CHARS: usize = 300;

/// A credential as the learner gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportInput {
    /// Pasted or sent text: JSON, a JWT, or the web address of a hosted badge.
    Text(String),
    /// An uploaded file: a baked PNG or SVG, a JSON file or a JWT file.
    File(Vec<u8>),
}

/// What the input is, and the bytes the pipeline verifies.
fn classify(input: ImportInput) -> Result<(ImportSource, Vec<u8>), AppError> {
    let bytes = match input {
        ImportInput::Text(text) => text.trim().as_bytes().to_vec(),
        ImportInput::File(bytes) => bytes,
    };
    if bytes.is_empty() {
        return Err(AppError::invalid_field("/credential", "give the badge: its JSON, its JWT, its web address or a baked image"));
    }
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(AppError::TooLarge(format!("a badge to import may be at most {} MB", MAX_IMPORT_BYTES / (1024 * 1024))));
    }
    let trimmed = bytes.trim_ascii_start();
    let source = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImportSource::Png
    } else if trimmed.starts_with(b"<") {
        ImportSource::Svg
    } else if trimmed.starts_with(b"{") {
        ImportSource::Json
    } else if trimmed.starts_with(b"https://") || trimmed.starts_with(b"http://") {
        ImportSource::Url
    } else {
        ImportSource::Jwt
    };
    if matches!(source, ImportSource::Json | ImportSource::Jwt | ImportSource::Url) && std::str::from_utf8(&bytes).is_err() {
        return Err(AppError::invalid_field(
            "/credential",
            "the badge is neither an image nor text: give its JSON, its JWT, its web address or a baked PNG or SVG",
        ));
    }
    Ok((source, bytes))
}

/// Runs the pipeline on an import's input.
async fn verify_input(app: &App, source: ImportSource, bytes: Vec<u8>) -> Result<VerificationReport, AppError> {
    match source {
        ImportSource::Url => {
            let url = String::from_utf8(bytes).map_err(|_| AppError::invalid_field("/credential", "the address is not text"))?;
            verification::verify_url(app, url.trim()).await.map_err(|error| match error {
                AppError::Invalid(invalid) => AppError::invalid_field("/credential", invalid.at("/url").unwrap_or("the address could not be verified")),
                other => other,
            })
        }
        _ => verification::verify(app, bytes).await,
    }
}

fn verdict_of(report: &VerificationReport) -> ImportVerdict {
    match report.verdict {
        Verdict::Valid => ImportVerdict::Valid,
        Verdict::Invalid => ImportVerdict::Invalid,
        Verdict::Indeterminate => ImportVerdict::Indeterminate,
    }
}

fn check_of(report: &VerificationReport, now: OffsetDateTime) -> ImportCheck {
    let verdict = verdict_of(report);
    let detail = if verdict == ImportVerdict::Valid { None } else { report.first_problem() };
    ImportCheck { verdict, detail, verified_at: now }
}

/// Text from a foreign credential, fit to keep and show.
fn kept_text(raw: Option<String>, default: &str) -> String {
    let cleaned = strip_control_chars(raw.as_deref().unwrap_or_default());
    let text = cleaned.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_NAME_CHARS).collect::<String>();
    if text.is_empty() { default.to_string() } else { text }
}

/// The issuer's and the achievement's ids as the credential gives them (OB 3.0: `issuer` and
/// `credentialSubject.achievement`; OB 2.0: `badge` and its `issuer`), for equivalency rules.
fn external_ids(credential: &Value) -> (Option<String>, Option<String>) {
    let id_of = |value: Option<&Value>| match value {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(object)) => object.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let subject = match credential.get("credentialSubject") {
        Some(Value::Array(list)) => list.first(),
        other => other,
    };
    let achievement = id_of(subject.and_then(|s| s.get("achievement")));
    let issuer = id_of(credential.get("issuer"));
    let badge = credential.get("badge");
    let badge_issuer = badge.and_then(Value::as_object).and_then(|b| id_of(b.get("issuer")));
    let cap = |id: Option<String>| id.map(|id| strip_control_chars(&id).chars().take(2000).collect());
    (cap(issuer.or(badge_issuer)), cap(achievement.or_else(|| id_of(badge))))
}

/// Imports a badge into the actor's backpack: verified, then kept with its verdict.
///
/// # Errors
/// `Invalid` at `/credential` when nothing usable was given, when it is not an Open Badge, when
/// it is not valid (naming the failed check) or when it was issued to another e-mail address;
/// `TooLarge` beyond [`MAX_IMPORT_BYTES`]; `Conflict` for a badge imported before, for one of this
/// site's own awards, or beyond [`MAX_IMPORTS`].
pub async fn import(app: &App, actor: &Actor, input: ImportInput) -> Result<Import, AppError> {
    // A full backpack is refused before the badge is verified.
    if app.store.count_imports(own(actor)?).await? >= MAX_IMPORTS {
        return Err(too_many());
    }
    match checked(app, actor, input).await? {
        Checked::Foreign(foreign) => {
            let import = keep_blob(app, *foreign).await?;
            Ok(app.store.create_import(&import).await?)
        }
        Checked::OwnAward(_) => Err(AppError::conflict("this badge was issued here, so it is in its owner's backpack already")),
    }
}

fn too_many() -> AppError {
    AppError::conflict(format!("you have imported {MAX_IMPORTS} badges, the most one account may hold; remove some first"))
}

/// What an upsert did (the Open Badges API's `POST /credentials`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    /// A new import.
    Created(Import),
    /// The import of the same credential (by its `id`, or the same input) was replaced.
    Replaced(Import),
    /// The credential is one of this site's awards to the actor: it is in their backpack.
    OwnAward(AwardId),
}

/// Adds a credential to the actor's backpack, or replaces the one they hold with the same `id`
/// (the Open Badges API's upsert): verified first, as an import is.
///
/// # Errors
/// As [`import`], except that a badge held already is replaced, not refused; a site's own award
/// to someone else is refused as issued to someone else.
pub async fn upsert(app: &App, actor: &Actor, input: ImportInput) -> Result<Upserted, AppError> {
    let foreign = match checked(app, actor, input).await? {
        Checked::Foreign(foreign) => *foreign,
        Checked::OwnAward(award) => return Ok(Upserted::OwnAward(award)),
    };
    let import = &foreign.import;
    let same_input = app.store.import_of_digest(import.user, &import.input_digest).await?;
    let same_id = match &import.credential_id {
        Some(id) => app.store.import_of_credential(import.user, id).await?,
        None => None,
    };
    if let Some(existing) = same_id.or(same_input) {
        let replacement = Import { id: existing.id, created_at: existing.created_at, ..keep_blob(app, foreign).await? };
        return Ok(Upserted::Replaced(app.store.replace_import(existing.id, &replacement).await?));
    }
    if app.store.count_imports(import.user).await? >= MAX_IMPORTS {
        return Err(too_many());
    }
    let import = keep_blob(app, foreign).await?;
    Ok(Upserted::Created(app.store.create_import(&import).await?))
}

/// An import checked and ready to keep, or one of this site's awards to the actor.
enum Checked {
    Foreign(Box<Foreign>),
    OwnAward(AwardId),
}

/// A badge from elsewhere, checked: the import to keep and, for a baked badge, its image (file
/// extension and bytes), stored only when the import is kept.
struct Foreign {
    import: Import,
    image: Option<(&'static str, Vec<u8>)>,
}

/// A baked badge's image goes to the blob store, its import keeps the key.
async fn keep_blob(app: &App, foreign: Foreign) -> Result<Import, AppError> {
    let Foreign { mut import, image } = foreign;
    if let Some((extension, bytes)) = image {
        import.blob_key = Some(app.store.blobs().put("imports", extension, bytes).await?);
    }
    Ok(import)
}

/// Verifies a badge for the actor's backpack.
async fn checked(app: &App, actor: &Actor, input: ImportInput) -> Result<Checked, AppError> {
    let user_id = own(actor)?;
    actor.authorise(Action::Change)?;
    let (source, bytes) = classify(input)?;
    let digest = sha256_hex(&bytes);
    let report = verify_input(app, source, bytes.clone()).await?;
    let Some(credential) = report.credential.clone() else {
        return Err(AppError::invalid_field(
            "/credential",
            format!("this is not an Open Badge that can be read ({})", report.first_problem().unwrap_or_else(|| "no credential found".into())),
        ));
    };
    if report.verdict == Verdict::Invalid {
        let problem = report.first_problem().unwrap_or_else(|| "a check failed".into());
        return Err(AppError::invalid_field("/credential", format!("the badge is not valid: {problem}")));
    }
    let credential_id = credential.get("id").and_then(Value::as_str).map(str::to_string);
    let own_award = credential_id.as_deref().and_then(|id| app.config.urls().parse(id));
    if let Some(
        PublicDocument::AwardPage(award) | PublicDocument::Credential(award) | PublicDocument::CredentialJwt(award) | PublicDocument::Ob2Assertion(award),
    ) = own_award
    {
        return match app.store.award(award).await {
            Ok(held) if held.learner == user_id => Ok(Checked::OwnAward(award)),
            _ => Err(AppError::invalid_field("/credential", "the badge was issued here to someone else")),
        };
    }
    let user = app.store.user(user_id).await?;
    if report.issued_to_email(user.email.as_str()) == Some(false) {
        return Err(AppError::invalid_field("/credential", "the badge was issued to someone else: it names another e-mail address than your account's"));
    }
    let now = app.now();
    let (input, image) = match source {
        ImportSource::Png => (String::new(), Some(("png", bytes))),
        ImportSource::Svg => (String::new(), Some(("svg", bytes))),
        _ => (String::from_utf8_lossy(&bytes).into_owned(), None),
    };
    let (issuer_id, achievement_id) = external_ids(&credential);
    let (name, issuer_name, badge_issuer_id) = names(app, &report, &credential).await?;
    let issuer_id = issuer_id.or(badge_issuer_id);
    let cap = |id: String| strip_control_chars(&id).chars().take(2000).collect::<String>();
    let import = Import {
        id: ImportId::new(),
        user: user_id,
        source,
        input,
        blob_key: None,
        input_digest: digest,
        format: report.format.clone(),
        name,
        issuer_name,
        issuer_id,
        achievement_id,
        credential_id: credential_id.map(cap),
        check: check_of(&report, now),
        created_at: now,
    };
    Ok(Checked::Foreign(Box::new(Foreign { import, image })))
}

/// The badge's and its issuer's names, and the issuer's id when only the BadgeClass gives it.
/// An OB 2.0 hosted assertion names its BadgeClass (and the BadgeClass its issuer) only by
/// address: those are read as verification read them.
async fn names(app: &App, report: &VerificationReport, credential: &Value) -> Result<(String, String, Option<String>), AppError> {
    let mut name = report.credential_name();
    let mut issuer = report.issuer_name();
    let mut issuer_id = None;
    if let (None, Some(Value::String(badge_url))) = (&name, credential.get("badge"))
        && let Some(badge) = verification::load_json(app, badge_url).await?
    {
        name = badge.get("name").and_then(Value::as_str).map(str::to_string);
        issuer_id = external_ids(&serde_json::json!({"issuer": badge.get("issuer")})).0;
        issuer = match badge.get("issuer") {
            Some(Value::Object(profile)) => profile.get("name").and_then(Value::as_str).map(str::to_string),
            Some(Value::String(issuer_url)) => verification::load_json(app, issuer_url)
                .await?
                .and_then(|profile| profile.get("name").and_then(Value::as_str).map(str::to_string))
                .or_else(|| Some(issuer_url.clone())),
            _ => issuer,
        };
    }
    Ok((kept_text(name, "Unnamed badge"), kept_text(issuer, "Unknown issuer"), issuer_id))
}

/// Verifies an import again and records the verdict.
async fn reverify(app: &App, import: Import) -> Result<Import, AppError> {
    Ok(verify_again(app, import).await?.0)
}

/// Verifies an import again, records the verdict, and says whether the badge names `email` as
/// its recipient (`None` when it cannot tell: an unverifiable badge, or a recipient by DID).
async fn verify_again(app: &App, mut import: Import) -> Result<(Import, Option<VerificationReport>), AppError> {
    let bytes = match &import.blob_key {
        Some(key) => app.store.blobs().get(key).await?,
        None => import.input.clone().into_bytes(),
    };
    let (check, report) = match verify_input(app, import.source, bytes).await {
        Ok(report) => (check_of(&report, app.now()), Some(report)),
        // An address that cannot be fetched any more leaves the badge unverifiable, not invalid.
        Err(AppError::Invalid(invalid)) => {
            (ImportCheck { verdict: ImportVerdict::Indeterminate, detail: invalid.at("/credential").map(str::to_string), verified_at: app.now() }, None)
        }
        Err(error) => return Err(error),
    };
    app.store.record_import_check(import.id, &check).await?;
    import.check = check;
    Ok((import, report))
}

/// One of the actor's imports, verified now (whatever its last verification's age), with
/// whether it names `email` as its recipient: `Some(true)` only when the badge says so.
///
/// # Errors
/// `NotFound` for an unknown import or another person's.
pub(crate) async fn verified_now(app: &App, actor: &Actor, id: ImportId, email: &str) -> Result<(Import, Option<bool>), AppError> {
    let import = owned(app, actor, id).await?;
    let (import, report) = verify_again(app, import).await?;
    let issued_to = report.and_then(|r| r.issued_to_email(email));
    Ok((import, issued_to))
}

fn stale(import: &Import, now: OffsetDateTime) -> bool {
    now - import.check.verified_at >= REVERIFY_AFTER
}

/// The actor's imports, newest first, the stalest verified again (at most a few per view).
///
/// # Errors
/// `Unauthenticated` without a user; store failures.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Import>, AppError> {
    let user = own(actor)?;
    let mut imports = app.store.imports_of(user).await?;
    let now = app.now();
    let mut order: Vec<usize> = (0..imports.len()).filter(|&i| stale(&imports[i], now)).collect();
    order.sort_by_key(|&i| imports[i].check.verified_at);
    for i in order.into_iter().take(REVERIFY_PER_VIEW) {
        imports[i] = reverify(app, imports[i].clone()).await?;
    }
    Ok(imports)
}

/// One of the actor's imports, verified again when its last verification is stale.
///
/// # Errors
/// `NotFound` for an unknown import or another person's.
pub async fn show(app: &App, actor: &Actor, id: ImportId) -> Result<Import, AppError> {
    let import = owned(app, actor, id).await?;
    if stale(&import, app.now()) { reverify(app, import).await } else { Ok(import) }
}

/// Removes one of the actor's imports.
///
/// # Errors
/// `NotFound` for an unknown import or another person's.
pub async fn remove(app: &App, actor: &Actor, id: ImportId) -> Result<(), AppError> {
    owned(app, actor, id).await?;
    actor.authorise(Action::Change)?;
    Ok(app.store.delete_import(id).await?)
}

pub(crate) async fn owned(app: &App, actor: &Actor, id: ImportId) -> Result<Import, AppError> {
    let user: UserId = own(actor)?;
    match app.store.import(id).await {
        Ok(import) if import.user == user => Ok(import),
        Ok(_) | Err(cairn_store::StoreError::NotFound { .. }) => Err(AppError::NotFound("no such imported badge".into())),
        Err(error) => Err(error.into()),
    }
}

/// The verdict in words: "Verified by Cairn on 6 December 2026", or why it could not be.
pub fn verdict_words(check: &ImportCheck) -> String {
    let day = cairn_vc::dates::day(check.verified_at);
    match (check.verdict, &check.detail) {
        (ImportVerdict::Valid, _) => format!("Verified by Cairn on {day}"),
        (ImportVerdict::Invalid, Some(reason)) => format!("Not valid on {day}: {reason}"),
        (ImportVerdict::Invalid, None) => format!("Not valid on {day}"),
        (ImportVerdict::Indeterminate, Some(reason)) => format!("Could not be verified on {day}: {reason}"),
        (ImportVerdict::Indeterminate, None) => format!("Could not be verified on {day}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inputs_are_told_apart_by_their_first_bytes() {
        let kind = |input: ImportInput| classify(input).map(|(source, _)| source).map_err(|e| e.to_string());
        assert_eq!(kind(ImportInput::Text("  {\"@context\": []}".into())), Ok(ImportSource::Json));
        assert_eq!(kind(ImportInput::Text("eyJhbGciOiJFZERTQSJ9.e30.sig".into())), Ok(ImportSource::Jwt));
        assert_eq!(kind(ImportInput::Text("https://example.org/assertions/1".into())), Ok(ImportSource::Url));
        assert_eq!(kind(ImportInput::File(b"\x89PNG\r\n\x1a\nrest".to_vec())), Ok(ImportSource::Png));
        assert_eq!(kind(ImportInput::File(b"<svg/>".to_vec())), Ok(ImportSource::Svg));
        assert!(matches!(classify(ImportInput::Text("   ".into())), Err(AppError::Invalid(_))));
        assert!(matches!(classify(ImportInput::File(vec![0xff, 0xfe, 0x00])), Err(AppError::Invalid(_))));
        assert!(matches!(classify(ImportInput::File(vec![b'{'; MAX_IMPORT_BYTES + 1])), Err(AppError::TooLarge(_))));
    }

    #[test]
    fn issuer_and_achievement_ids_are_read_from_either_version() {
        let ob3 = json!({"issuer": {"id": "did:web:example.org"}, "credentialSubject": {"achievement": {"id": "https://example.org/a/1"}}});
        assert_eq!(external_ids(&ob3), (Some("did:web:example.org".into()), Some("https://example.org/a/1".into())));
        let ob2 = json!({"badge": {"id": "https://example.org/badges/5", "issuer": "https://example.org/issuer"}});
        assert_eq!(external_ids(&ob2), (Some("https://example.org/issuer".into()), Some("https://example.org/badges/5".into())));
        let hosted = json!({"badge": "https://example.org/badges/6"});
        assert_eq!(external_ids(&hosted), (None, Some("https://example.org/badges/6".into())));
    }

    #[test]
    fn foreign_names_are_cleaned_and_capped() {
        assert_eq!(kept_text(Some("Bash\u{7} basics".into()), "x"), "Bash basics");
        assert_eq!(kept_text(Some(" \u{0} ".into()), "Unnamed badge"), "Unnamed badge");
        assert_eq!(kept_text(Some("a".repeat(1000)), "x").chars().count(), MAX_NAME_CHARS);
    }
}
