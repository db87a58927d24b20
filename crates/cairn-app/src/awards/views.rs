//! Awards as people and programs see them: the public award page (with a verification of the
//! stored credential, cached per award and status: `crate::caches`), the embeddable card, the learner's backpack and privacy choice, the
//! API's award reads, and the downloads.
//!
//! **Award visibility.** Every surface that shows an award — the page, the embed card, the API,
//! the downloads, the OB 2.0 hosted assertion, the verifier's in-process loader — gets it through
//! [`visible`], which asks the one rule, `Action::ViewAward` in `cairn_core::authz`: a private
//! award is "not found" for everyone but its learner and its issuer's staff; the submission
//! behind an award is shown to them only; only public, active awards are listed. Expiry is
//! decided by `cairn_core::award::expired`, once.

use cairn_core::achievement::{Achievement, Kind};
use cairn_core::authz::{Action, Actor, AwardAccess, AwardView, Denied};
use cairn_core::award::{Privacy, expired};
use cairn_core::ids::{AchievementId, AwardId};
use cairn_core::image::ImageType;
use cairn_core::organisation::Organisation;
use cairn_store::Award;
use cairn_vc::verify::VerificationReport;
use serde_json::Value;
use std::sync::Arc;

use crate::{App, AppError};

/// An award with what its pages show about it.
#[derive(Debug, Clone)]
pub struct AwardCard {
    pub award: Award,
    /// The achievement as it was when awarded (its version).
    pub achievement: Achievement,
    pub organisation: Organisation,
    pub learner_name: String,
    /// Whether the actor is the award's learner.
    pub is_owner: bool,
    /// Whether it may be listed and indexed (see [`Visible::listed`]).
    pub listed: bool,
    /// Whether it is private (see [`Visible::private`]).
    pub private: bool,
    /// Past its validity (see `cairn_core::award::expired`).
    pub expired: bool,
    /// The reason for a revocation or suspension as the actor may read it (see [`shown_reason`]).
    pub status_reason: Option<String>,
}

/// The award page: the card, the verification of its stored credential, the evidence the
/// learner chose to show, and its renewal history.
#[derive(Debug, Clone)]
pub struct AwardPage {
    pub card: AwardCard,
    pub report: Arc<VerificationReport>,
    /// (name, URL) pairs, empty unless the learner made the evidence public.
    pub evidence: Vec<(String, String)>,
    /// For a micro-credential: its levels, lowest first, with the learner's level awards as the
    /// actor may see them. Empty for other awards.
    pub levels: Vec<LevelAward>,
    /// The award this one renews, if any.
    pub renews: Option<Linked>,
    /// The newer award that renews this one, if any.
    pub renewed_by: Option<Linked>,
    /// For its learner: whether it may be renewed now, and the renewal in progress.
    pub renewal: Option<crate::renewals::Renewal>,
}

/// Another award of the same learner and achievement, linked from an award page (the one it
/// renews, or the one that renews it).
#[derive(Debug, Clone)]
pub struct Linked {
    pub award: AwardId,
    pub issued: time::OffsetDateTime,
    /// Whether the actor may see it ([`visible`]): only then is it linked.
    pub shown: bool,
}

/// The awards `award` renews and is renewed by, as `actor` may know them (see [`Linked`]).
///
/// # Errors
/// Store failures.
pub async fn renewal_links(app: &App, actor: &Actor, award: &Award) -> Result<(Option<Linked>, Option<Linked>), AppError> {
    Ok((linked(app, actor, award.renews).await?, linked(app, actor, award.renewed_by).await?))
}

/// `id` as an award page links it for `actor`; `None` when it no longer exists.
async fn linked(app: &App, actor: &Actor, id: Option<AwardId>) -> Result<Option<Linked>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let award = match app.store.award(id).await {
        Ok(award) => award,
        Err(cairn_store::StoreError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let shown = seen_by(actor, award.clone()).is_ok();
    Ok(Some(Linked { award: award.id, issued: award.issued_at, shown }))
}

/// One level of a micro-credential on the micro-credential's award page.
#[derive(Debug, Clone)]
pub struct LevelAward {
    /// 1, 2 or 3 for a level written inline; 0 otherwise.
    pub number: u8,
    /// Its place among the levels or components, from 0.
    pub index: usize,
    /// The kind of what it is part of: a micro-credential or a certificate.
    pub of: Kind,
    /// The level as it is now (its name, for a level award not shown).
    pub level: Achievement,
    pub held: LevelHeld,
}

/// Whether the micro-credential's learner holds a level, as the actor may know it.
#[derive(Debug, Clone)]
pub enum LevelHeld {
    /// The level award, which the actor may see by the one rule ([`visible`]), with the level as
    /// it was when awarded (its rubric names the results).
    Shown { award: Box<Award>, achievement: Box<Achievement>, expired: bool },
    /// The learner holds it, but the actor may not see it (a private award): not linked.
    NotShown,
    /// The learner holds no award of this level.
    NotHeld,
}

/// An award as one actor may see it.
#[derive(Debug, Clone)]
pub struct Visible {
    pub award: Award,
    /// Whether the actor is the award's learner (privacy, sharing and downloads are theirs).
    pub is_owner: bool,
    /// Whether the actor may see where it came from: the submission behind it.
    pub provenance: bool,
    /// Whether it may be listed and indexed by search engines (public and active).
    pub listed: bool,
}

impl Visible {
    /// Whether only its learner and the issuer's staff see it: not to be cached by others or
    /// shared across origins.
    pub fn private(&self) -> bool {
        !self.award.privacy.shows_to_others()
    }
}

/// What the visibility rule needs to know about `award`.
fn access(award: &Award) -> AwardAccess {
    AwardAccess { learner: award.learner, organisation: award.organisation, privacy: award.privacy, status: award.status }
}

/// The reason for the award's revocation or suspension as the viewer may read it: the whole of
/// it for its learner and the issuer's staff, otherwise only when the issuer published it.
pub fn shown_reason(visible: &Visible) -> Option<String> {
    if visible.is_owner || visible.provenance { visible.award.status_reason.clone() } else { visible.award.public_reason().map(str::to_string) }
}

/// `award` as `actor` may see it, by the one rule (`Action::ViewAward`).
///
/// # Errors
/// `NotFound` when the actor may not see it: a private award does not exist for them.
pub fn seen_by(actor: &Actor, award: Award) -> Result<Visible, AppError> {
    let rule = access(&award);
    if !actor.can(Action::ViewAward(rule, AwardView::Shared)) {
        return Err(AppError::NotFound(format!("award \"{}\" not found", award.id)));
    }
    Ok(Visible {
        is_owner: actor.user == Some(award.learner),
        provenance: actor.can(Action::ViewAward(rule, AwardView::Provenance)),
        listed: actor.can(Action::ViewAward(rule, AwardView::Listed)),
        award,
    })
}

/// The award `id` as `actor` may see it: the one door to an award for every surface that shows
/// one (page, embed, API, downloads, OB 2.0 assertion, the verifier's loader).
///
/// # Errors
/// `NotFound`, also for a private award the actor may not see.
pub async fn visible(app: &App, actor: &Actor, id: AwardId) -> Result<Visible, AppError> {
    seen_by(actor, app.store.award(id).await?)
}

/// The award `id` with what its page and card show, if the actor may see it (see [`visible`]).
/// The page of an award whose learner deleted their account is gone; its credential still
/// verifies.
///
/// # Errors
/// `NotFound`; `Gone` when the learner deleted their account.
pub async fn card(app: &App, actor: &Actor, id: AwardId) -> Result<AwardCard, AppError> {
    let visible = visible(app, actor, id).await?;
    if app.store.account_deleted(visible.award.learner).await? {
        return Err(AppError::Gone(
            "the holder of this badge deleted their account, so its page is gone; the credential they were issued still verifies".into(),
        ));
    }
    let private = visible.private();
    let status_reason = shown_reason(&visible);
    let Visible { award, is_owner, listed, .. } = visible;
    let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
    let organisation = app.store.organisation(award.organisation).await?;
    let learner_name = app.store.user(award.learner).await?.name;
    let expired = expired(award.valid_until, app.now());
    Ok(AwardCard { award, achievement, organisation, learner_name, is_owner, listed, private, expired, status_reason })
}

/// The learner takes a share link of their award (LinkedIn's "add to profile", a network's
/// share page, an e-mail): counted for the issuer's insight, then handed back so that the link
/// can be made.
///
/// # Errors
/// As [`card`]; `NotFound` for anyone but its learner; `Conflict` when the award is private,
/// so that there is nothing to share.
pub async fn share(app: &App, actor: &Actor, id: AwardId) -> Result<AwardCard, AppError> {
    let card = card(app, actor, id).await?;
    if !card.is_owner {
        return Err(AppError::NotFound(format!("award \"{id}\" not found")));
    }
    if card.private {
        return Err(AppError::Conflict {
            kind: crate::error::ConflictKind::Generic,
            detail: "this badge is private, so there is nothing to share: make it public or unlisted first".into(),
        });
    }
    crate::insight::count_use(app, id, cairn_store::AwardUse::Share).await;
    Ok(card)
}

/// The award page's data, with the verification of its stored credential (cached while the
/// award keeps its status: `crate::verification::verify_award`).
///
/// # Errors
/// As [`card`].
pub async fn page(app: &App, actor: &Actor, id: AwardId) -> Result<AwardPage, AppError> {
    let card = card(app, actor, id).await?;
    if !card.is_owner {
        // Seen by someone other than its learner: counted for the issuer's insight.
        crate::insight::count_use(app, id, cairn_store::AwardUse::View).await;
    }
    let report = crate::verification::verify_award(app, &card.award).await?;
    let evidence = if card.award.evidence_public { public_evidence(app, &card.award).await? } else { Vec::new() };
    let levels = if matches!(card.achievement.kind, Kind::MicroCredential | Kind::Certificate) {
        level_awards(app, actor, &card.award, &card.achievement).await?
    } else {
        Vec::new()
    };
    let (renews, renewed_by) = renewal_links(app, actor, &card.award).await?;
    let renewal = if card.is_owner { Some(crate::renewals::standing(app, &card.award).await?) } else { None };
    Ok(AwardPage { card, report, evidence, levels, renews, renewed_by, renewal })
}

/// The levels of the micro-credential (or the components of the certificate) `award` is of, each
/// with the learner's award of it as `actor` may see it: every level award goes through
/// [`visible`], so a private one is not shown to anyone but its learner and the issuer's staff.
async fn level_awards(app: &App, actor: &Actor, award: &Award, of: &Achievement) -> Result<Vec<LevelAward>, AppError> {
    let levels = crate::stacks::requirements(app, of).await?.map(|r| r.components).unwrap_or_default();
    let held = app.store.awards_of(award.learner).await?;
    let now = app.now();
    let mut out = Vec::with_capacity(levels.len());
    for (index, level) in levels.into_iter().enumerate() {
        let state = match held.iter().find(|a| a.achievement == level.id) {
            None => LevelHeld::NotHeld,
            Some(level_award) => match visible(app, actor, level_award.id).await {
                Ok(Visible { award, .. }) => {
                    let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
                    LevelHeld::Shown { expired: expired(award.valid_until, now), award: Box::new(award), achievement: Box::new(achievement) }
                }
                Err(AppError::NotFound(_)) => LevelHeld::NotShown,
                Err(error) => return Err(error),
            },
        };
        out.push(LevelAward { number: level_number(level.kind), index, of: of.kind, level, held: state });
    }
    Ok(out)
}

/// A level's number (1 to 3); 0 for anything that is not a level.
fn level_number(kind: Kind) -> u8 {
    match kind {
        Kind::Level(n) => n,
        _ => 0,
    }
}

/// What the learner chose to show: the credential's evidence links and the links they submitted.
async fn public_evidence(app: &App, award: &Award) -> Result<Vec<(String, String)>, AppError> {
    let links = match award.submission {
        Some(submission) => app.store.submission_links(&[submission]).await?.remove(&submission).unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(evidence_with_links(award, links))
}

/// The award's public evidence: its credential's links, then its submission's (`links`) that
/// the credential does not name.
pub(crate) fn evidence_with_links(award: &Award, links: Vec<String>) -> Vec<(String, String)> {
    let mut evidence = credential_evidence(&award.credential_json);
    for link in links {
        if !evidence.iter().any(|(_, url)| *url == link) {
            evidence.push(("Submitted link".to_string(), link));
        }
    }
    evidence
}

/// The credential's `evidence` links (http(s) only), as (name, URL).
fn credential_evidence(credential_json: &str) -> Vec<(String, String)> {
    let Ok(credential) = serde_json::from_str::<Value>(credential_json) else { return Vec::new() };
    let list = match credential.get("evidence") {
        Some(Value::Array(list)) => list.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    list.iter()
        .filter_map(|item| {
            let url = item.get("id").and_then(Value::as_str)?;
            let parsed = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"))?;
            let name = item.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()).unwrap_or(url);
            Some((name.to_string(), parsed.to_string()))
        })
        .collect()
}

/// One award in the learner's backpack.
#[derive(Debug, Clone)]
pub struct BackpackItem {
    pub award: Award,
    pub achievement_name: String,
    pub issuer_name: String,
    pub expired: bool,
    /// Micro-badge, micro-credential or level (as awarded).
    pub kind: Kind,
    /// For a level: the micro-credential it belongs to.
    pub parent: Option<AchievementId>,
}

/// The backpack as the learner reads it: each micro-credential with the level badges held
/// towards it, and every other badge on its own; in the order of the newest award in each.
#[derive(Debug, Clone)]
pub enum BackpackEntry {
    Single(BackpackItem),
    Stack(BackpackStack),
}

/// A micro-credential in the backpack: its own award once every level is held, and the levels
/// held so far.
#[derive(Debug, Clone)]
pub struct BackpackStack {
    pub micro_credential: AchievementId,
    pub name: String,
    pub issuer_name: String,
    /// The micro-credential's award, when held.
    pub award: Option<BackpackItem>,
    /// The level awards held, lowest level first, with their numbers.
    pub levels: Vec<(u8, BackpackItem)>,
    /// How many levels the micro-credential has.
    pub level_count: usize,
}

/// The actor's own awards with their names, newest first.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn backpack(app: &App, actor: &Actor) -> Result<Vec<BackpackItem>, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    actor.authorise(Action::Own(user))?;
    let now = app.now();
    let mut items = Vec::new();
    for award in app.store.awards_of(user).await? {
        let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
        let organisation = app.store.organisation(award.organisation).await?;
        items.push(BackpackItem {
            expired: expired(award.valid_until, now),
            kind: achievement.kind,
            parent: achievement.parent,
            achievement_name: achievement.content.name,
            issuer_name: organisation.profile.name,
            award,
        });
    }
    Ok(items)
}

/// The actor's backpack with level badges grouped under their micro-credential (see
/// [`BackpackEntry`]).
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn backpack_shelves(app: &App, actor: &Actor) -> Result<Vec<BackpackEntry>, AppError> {
    let items = backpack(app, actor).await?;
    let mut entries: Vec<BackpackEntry> = Vec::new();
    for item in items {
        let stack_id = match (item.kind, item.parent) {
            (Kind::MicroCredential, _) => item.award.achievement,
            (Kind::Level(_), Some(parent)) => parent,
            _ => {
                entries.push(BackpackEntry::Single(item));
                continue;
            }
        };
        let index = match entries.iter().position(|e| matches!(e, BackpackEntry::Stack(s) if s.micro_credential == stack_id)) {
            Some(index) => index,
            None => {
                let micro_credential = app.store.achievement(stack_id).await?;
                let level_count = crate::stacks::requirements(app, &micro_credential).await?.map_or(0, |r| r.components.len());
                entries.push(BackpackEntry::Stack(BackpackStack {
                    micro_credential: stack_id,
                    name: micro_credential.content.name,
                    issuer_name: item.issuer_name.clone(),
                    award: None,
                    levels: Vec::new(),
                    level_count,
                }));
                entries.len() - 1
            }
        };
        if let BackpackEntry::Stack(stack) = &mut entries[index] {
            match item.kind {
                Kind::Level(n) => {
                    stack.levels.push((n, item));
                    stack.levels.sort_by_key(|(n, _)| *n);
                }
                _ => stack.award = Some(item),
            }
        }
    }
    Ok(entries)
}

/// The actor's own awards (the API's list).
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn mine(app: &App, actor: &Actor) -> Result<Vec<Visible>, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    app.store.awards_of(user).await?.into_iter().map(|award| seen_by(actor, award)).collect()
}

/// The learner chooses who sees their award and whether its evidence shows on its page.
///
/// # Errors
/// `Unauthenticated` for visitors; `NotFound` for someone else's award (not theirs to see, let
/// alone change).
pub async fn set_privacy(app: &App, actor: &Actor, id: AwardId, privacy: Privacy, evidence_public: bool) -> Result<Visible, AppError> {
    let award = app.store.award(id).await?;
    match actor.authorise(Action::Own(award.learner)) {
        Ok(()) => {}
        Err(Denied::Unauthenticated) => return Err(AppError::Unauthenticated),
        Err(Denied::Forbidden | Denied::ReadOnly) => return Err(AppError::NotFound(format!("award \"{id}\" not found"))),
    }
    seen_by(actor, app.store.set_award_privacy(id, privacy, evidence_public).await?)
}

/// The forms an award is downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    /// The OB 3.0 credential with its Data Integrity proof (JSON-LD).
    Credential,
    /// The same credential as a VC-JWT.
    Jwt,
    /// The baked badge image.
    Badge(ImageType),
}

/// A download's bytes, the file name to offer, and whether it is the learner's alone.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    /// From the achievement's name (`robust-bash-scripting.png`).
    pub file_name: String,
    /// A private award: not to be cached by others or shared across origins.
    pub private: bool,
}

/// One of an award's downloads for `actor` (see [`visible`]). They are capability URLs:
/// whoever holds the award id may fetch them, unless the award is private.
///
/// # Errors
/// `NotFound`.
pub async fn download(app: &App, actor: &Actor, id: AwardId, what: Download) -> Result<Downloaded, AppError> {
    let visible = visible(app, actor, id).await?;
    let private = visible.private();
    let award = visible.award;
    let (bytes, suffix) = match what {
        Download::Credential => (award.credential_json.clone().into_bytes(), ".credential.json".to_string()),
        Download::Jwt => (award.jwt.clone().into_bytes(), ".jwt".to_string()),
        Download::Badge(image_type) => {
            let key = match image_type {
                ImageType::Png => &award.png_key,
                ImageType::Svg => &award.svg_key,
            };
            (app.store.blobs().get(key).await?, format!(".{}", image_type.extension()))
        }
    };
    let name = match app.store.achievement_version(award.achievement, award.achievement_version).await {
        Ok(achievement) => cairn_core::rubric::slugify(&achievement.content.name),
        Err(_) => String::new(),
    };
    let file_name = format!("{}{suffix}", if name.is_empty() { "badge" } else { &name });
    Ok(Downloaded { bytes, file_name, private })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_count_as_evidence() {
        let json = r#"{"evidence": [{"id": "https://example.org/work", "name": "My work"}, {"id": "javascript:alert(1)", "name": "x"}, {"name": "no id"}]}"#;
        assert_eq!(credential_evidence(json), vec![("My work".to_string(), "https://example.org/work".to_string())]);
        assert!(credential_evidence("not json").is_empty());
    }
}
