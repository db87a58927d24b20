//! Awards as people and programs see them: the public award page (with a live verification of
//! the stored credential), the embeddable card, the learner's backpack and privacy choice, the
//! API's award reads, and the downloads.
//!
//! A private award is absent for everyone but its learner (its issuer's staff also see it over
//! the API); its downloads answer "not found" to anyone else. Expiry is decided by
//! `cairn_core::award::expired`, once.

use cairn_core::achievement::Achievement;
use cairn_core::authz::{Action, Actor, Denied, OrgAction};
use cairn_core::award::{Privacy, expired};
use cairn_core::ids::{AwardId, UserId};
use cairn_core::image::ImageType;
use cairn_core::organisation::Organisation;
use cairn_store::Award;
use cairn_vc::verify::VerificationReport;
use serde_json::Value;

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
    /// Past its validity (see `cairn_core::award::expired`).
    pub expired: bool,
}

/// The award page: the card, the verification of its stored credential, and the evidence the
/// learner chose to show.
#[derive(Debug, Clone)]
pub struct AwardPage {
    pub card: AwardCard,
    pub report: VerificationReport,
    /// (name, URL) pairs, empty unless the learner made the evidence public.
    pub evidence: Vec<(String, String)>,
}

/// The award `id` if the actor may see it: private awards are absent for all but their learner.
///
/// # Errors
/// `NotFound`.
pub async fn card(app: &App, actor: &Actor, id: AwardId) -> Result<AwardCard, AppError> {
    let award = app.store.award(id).await?;
    let is_owner = actor.user == Some(award.learner);
    if award.privacy == Privacy::Private && !is_owner {
        return Err(AppError::NotFound(format!("award \"{id}\" not found")));
    }
    let achievement = app.store.achievement_version(award.achievement, award.achievement_version).await?;
    let organisation = app.store.organisation(award.organisation).await?;
    let learner_name = app.store.user(award.learner).await?.name;
    let expired = expired(award.valid_until, app.now());
    Ok(AwardCard { award, achievement, organisation, learner_name, is_owner, expired })
}

/// The award page's data, verifying the stored credential just now.
///
/// # Errors
/// As [`card`].
pub async fn page(app: &App, actor: &Actor, id: AwardId) -> Result<AwardPage, AppError> {
    let card = card(app, actor, id).await?;
    let report = crate::verification::verify(app, card.award.credential_json.clone().into_bytes()).await?;
    let evidence = if card.award.evidence_public { public_evidence(app, &card.award).await? } else { Vec::new() };
    Ok(AwardPage { card, report, evidence })
}

/// What the learner chose to show: the credential's evidence links and the links they submitted.
async fn public_evidence(app: &App, award: &Award) -> Result<Vec<(String, String)>, AppError> {
    let mut evidence = credential_evidence(&award.credential_json);
    if let Some(submission) = award.submission {
        for link in app.store.submission(submission).await?.content.links {
            if !evidence.iter().any(|(_, url)| *url == link) {
                evidence.push(("Submitted link".to_string(), link));
            }
        }
    }
    Ok(evidence)
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
            achievement_name: achievement.content.name,
            issuer_name: organisation.profile.name,
            award,
        });
    }
    Ok(items)
}

/// The actor's own awards (the API's list).
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn mine(app: &App, actor: &Actor) -> Result<Vec<Award>, AppError> {
    let user = actor.user.ok_or(AppError::Unauthenticated)?;
    Ok(app.store.awards_of(user).await?)
}

/// An award for its learner, its issuer's staff, or anyone when it is not private.
///
/// # Errors
/// `NotFound`.
pub async fn visible(app: &App, actor: &Actor, id: AwardId) -> Result<Award, AppError> {
    let award = app.store.award(id).await?;
    let staff = actor.can(Action::Org(award.organisation, OrgAction::ManageAssessment));
    if award.privacy == Privacy::Private && !actor.can(Action::Own(award.learner)) && !staff {
        return Err(AppError::NotFound("award not found".into()));
    }
    Ok(award)
}

/// The learner chooses who sees their award and whether its evidence shows on its page.
///
/// # Errors
/// `Unauthenticated` for visitors; `NotFound` for someone else's award (not theirs to see, let
/// alone change).
pub async fn set_privacy(app: &App, actor: &Actor, id: AwardId, privacy: Privacy, evidence_public: bool) -> Result<Award, AppError> {
    let award = app.store.award(id).await?;
    match actor.authorise(Action::Own(award.learner)) {
        Ok(()) => {}
        Err(Denied::Unauthenticated) => return Err(AppError::Unauthenticated),
        Err(Denied::Forbidden | Denied::ReadOnly) => return Err(AppError::NotFound("award not found".into())),
    }
    Ok(app.store.set_award_privacy(id, privacy, evidence_public).await?)
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

/// One of an award's downloads. They are capability URLs: whoever holds the award id may fetch
/// them, except for a private award, whose downloads only its learner gets (`users` are the ids
/// the request is signed in as, by session or by bearer token).
///
/// # Errors
/// `NotFound`.
pub async fn download(app: &App, id: AwardId, users: &[UserId], what: Download) -> Result<Downloaded, AppError> {
    let award = app.store.award(id).await?;
    let private = award.privacy == Privacy::Private;
    if private && !users.contains(&award.learner) {
        return Err(AppError::NotFound(format!("award \"{id}\" not found")));
    }
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
