//! Seeds the demo catalog (`cairn serve --demo`), idempotently: accounts, the demo issuer and
//! its achievements (with a certificate made of two of them) are created only when missing, and
//! published; the demo assessor joins the assessor pool of every assessed demo achievement.

use cairn_core::account::{Email, NewAccount, SignUpFields};
use cairn_core::achievement::{Kind, NewAchievement, State};
use cairn_core::authz::Actor;
use cairn_core::demo;
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::organisation::OrganisationProfile;
use cairn_core::recognition::NewEquivalency;
use cairn_store::StoreError;
use cairn_vc::keys::Ed25519KeyPair;
use cairn_vc::loader::BundledLoader;
use cairn_vc::ob3;
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use sha2::{Digest, Sha256};

use crate::imports::ImportInput;
use crate::recognition::RecognitionFields;
use crate::{App, AppError};

/// What seeding did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub accounts_created: usize,
    pub organisation_created: bool,
    pub achievements_created: usize,
}

/// Seeds the demo data (safe to run at every start).
///
/// # Errors
/// Store failures; the demo content itself always passes the domain rules (a unit test in
/// `cairn_core::demo` checks it), so a rule failure here is reported as corrupt data.
pub async fn seed(app: &App) -> Result<DemoReport, StoreError> {
    let now = app.now();
    let store = &app.store;
    let mut report = DemoReport::default();
    let mut accounts = Vec::new();
    for account in demo::ACCOUNTS {
        let email = Email::parse(account.email).map_err(StoreError::Corrupt)?;
        let user = match store.user_by_email(&email).await? {
            Some(user) => user,
            None => {
                let new = NewAccount::parse(SignUpFields { name: account.name.into(), email: account.email.into(), password: account.password.into() })
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                report.accounts_created += 1;
                let hash = app.passwords.hash(&new.password).await.map_err(|e| StoreError::Config(format!("hashing a demo password: {e}")))?;
                store.create_user(&new.name, &new.email, &hash, now).await?
            }
        };
        accounts.push((user, account.role));
    }
    let profile = OrganisationProfile::parse(&demo::organisation()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let owner = accounts
        .iter()
        .find(|(_, role)| *role == Some(cairn_core::authz::Role::Owner))
        .map(|(user, _)| user.id)
        .ok_or_else(|| StoreError::Corrupt("no demo owner".into()))?;
    let organisation = match store.organisation_by_name(&profile.name).await? {
        Some(organisation) => organisation,
        None => {
            report.organisation_created = true;
            let organisation = store.create_organisation(&profile, cairn_core::organisation::OrganisationKind::Issuer, owner, now).await?;
            for (user, role) in &accounts {
                if let Some(role) = role.filter(|r| *r != cairn_core::authz::Role::Owner) {
                    store.add_member(organisation.id, &user.email, role, now).await?;
                }
            }
            organisation
        }
    };
    let existing = store.organisation_achievements(organisation.id).await?;
    let mut wanted = vec![demo::micro_credential()];
    wanted.extend(demo::micro_badges());
    for fields in wanted {
        if existing.iter().any(|a| a.content.name.eq_ignore_ascii_case(fields.content.name.trim())) {
            continue;
        }
        let new = NewAchievement::parse(&fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let created = store.create_achievement(organisation.id, &new, owner, now).await?;
        store.set_achievement_state(created.id, State::Published, now).await?;
        report.achievements_created += 1;
    }
    report.achievements_created += usize::from(seed_certificate(app, organisation.id, owner).await?);
    seed_prior_learning(app, organisation.id, owner).await?;
    // The demo assessor is in the pool of every demo achievement that is assessed (a
    // micro-credential is earned by its levels), so demo submissions are assigned at once.
    let assessors: Vec<_> = accounts.iter().filter(|(_, role)| *role == Some(cairn_core::authz::Role::Assessor)).map(|(user, _)| user.id).collect();
    for achievement in store.organisation_achievements(organisation.id).await? {
        if matches!(achievement.kind, Kind::MicroCredential | Kind::Certificate) {
            continue;
        }
        for assessor in &assessors {
            store.add_to_pool(achievement.id, *assessor, now).await?;
        }
    }
    Ok(report)
}

/// Creates and publishes the demo certificate when it is missing and its components exist;
/// returns whether it was created.
async fn seed_certificate(app: &App, organisation: OrganisationId, owner: UserId) -> Result<bool, StoreError> {
    let now = app.now();
    let existing = app.store.organisation_achievements(organisation).await?;
    let fields = demo::certificate(Vec::new());
    if existing.iter().any(|a| a.content.name.eq_ignore_ascii_case(fields.content.name.trim())) {
        return Ok(false);
    }
    let mut components = Vec::new();
    for name in demo::CERTIFICATE_COMPONENTS {
        match existing.iter().find(|a| a.content.name.eq_ignore_ascii_case(name) && a.state == State::Published) {
            Some(component) => components.push(component.id.to_string()),
            // An operator retired or renamed it: no certificate then.
            None => return Ok(false),
        }
    }
    let new = NewAchievement::parse(&demo::certificate(components)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let created = app.store.create_achievement(organisation, &new, owner, now).await?;
    app.store.set_achievement_state(created.id, State::Published, now).await?;
    Ok(true)
}

/// The demo graduate's badges from elsewhere ([`demo::FOREIGN_BADGES`]): each signed by the
/// demo's other issuer, imported (and so verified), with the demo issuer's equivalency rule that
/// counts it as one of its achievements; the first is claimed, so the graduate holds a badge
/// recognised as prior learning and has a transcript to download. Done once: nothing is added
/// for a badge the graduate imported already.
async fn seed_prior_learning(app: &App, organisation: OrganisationId, owner: UserId) -> Result<(), StoreError> {
    let store = &app.store;
    let email = Email::parse(demo::GRADUATE_EMAIL).map_err(StoreError::Corrupt)?;
    let Some(graduate) = store.user_by_email(&email).await? else { return Ok(()) };
    let actor = Actor::member(graduate.id, Vec::new());
    let failed = |what: &str, error: AppError| StoreError::Config(format!("seeding the demo's {what}: {error}"));
    let key = Ed25519KeyPair::from_seed(Sha256::digest(format!("cairn demo issuer: {}", demo::FOREIGN_ISSUER)).into());
    let multibase = key.public_key_multibase();
    let issuer_id = cairn_vc::did::did_key(&multibase);
    let achievements = store.organisation_achievements(organisation).await?;
    let mut levels = Vec::new();
    for achievement in &achievements {
        if achievement.kind == Kind::MicroCredential {
            levels.extend(store.levels(achievement.id).await?);
        }
    }
    let imported = store.imports_of(graduate.id).await?;
    for badge in demo::FOREIGN_BADGES {
        let external_achievement = format!("{}badges/{}", demo::FOREIGN_ISSUER_URL, badge.slug);
        if imported.iter().any(|i| i.achievement_id.as_deref() == Some(external_achievement.as_str())) {
            continue;
        }
        let Some(target) = achievements.iter().chain(&levels).find(|a| a.content.name == badge.counts_as && a.state == State::Published) else { continue };
        let credential = foreign_credential(app, &key, &issuer_id, &badge, &external_achievement, graduate.email.as_str())?;
        let import = crate::imports::import(app, &actor, ImportInput::Text(credential)).await.map_err(|e| failed("imported badges", e))?;
        let rule = NewEquivalency {
            achievement: target.id,
            external_issuer: issuer_id.clone(),
            external_achievement,
            note: format!("Agreed with {} in the demo.", demo::FOREIGN_ISSUER),
        };
        match store.create_equivalency(organisation, &rule, owner, app.now()).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
        if badge.claimed {
            let fields = RecognitionFields { achievement_id: target.id.to_string(), import_id: Some(import.id.to_string()), statement: None };
            crate::recognition::request(app, &actor, &fields).await.map_err(|e| failed("recognised prior learning", e))?;
        }
    }
    Ok(())
}

/// A badge from the demo's other issuer, signed (Data Integrity), issued to `email` some months ago.
fn foreign_credential(
    app: &App,
    key: &Ed25519KeyPair,
    issuer_id: &str,
    badge: &demo::ForeignBadge,
    achievement_id: &str,
    email: &str,
) -> Result<String, StoreError> {
    let issued = cairn_vc::dates::rfc3339(app.now() - time::Duration::days(200));
    let issuer = ob3::Profile {
        id: issuer_id.to_string(),
        name: demo::FOREIGN_ISSUER.into(),
        url: Some(demo::FOREIGN_ISSUER_URL.into()),
        email: None,
        description: None,
        image: None,
    };
    let unsigned = ob3::open_badge_credential(&ob3::CredentialInput {
        id: format!("{}assertions/{}", demo::FOREIGN_ISSUER_URL, badge.slug),
        name: badge.name.into(),
        issuer: issuer.clone(),
        valid_from: issued.clone(),
        valid_until: None,
        awarded_date: Some(issued.clone()),
        recipient: ob3::Recipient::Email { address: email.to_string(), salt: badge.slug.to_string() },
        achievement: ob3::Achievement {
            id: achievement_id.to_string(),
            achievement_type: "Badge".into(),
            name: badge.name.into(),
            description: badge.description.into(),
            criteria_narrative: badge.criteria.into(),
            criteria_id: None,
            image: None,
            alignments: Vec::new(),
            rubric: Vec::new(),
            tags: Vec::new(),
            language: Some("en".into()),
            version: None,
            creator: Some(issuer),
            credits_available: None,
        },
        results: Vec::new(),
        credits_earned: None,
        evidence: Vec::new(),
        status: None,
        with_schema: true,
    });
    let signer = Ed25519Signer::new(key.clone(), cairn_vc::did::did_key_method(&key.public_key_multibase()));
    let signed = eddsa::sign(&unsigned, &signer, &ProofOptions::assertion(issued), &BundledLoader)
        .map_err(|e| StoreError::Config(format!("signing a demo badge: {e}")))?;
    Ok(ob3::proof_as_array(signed).to_string())
}
