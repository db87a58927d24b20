//! Seeds the demo catalog (`cairn serve --demo`), idempotently: accounts, the demo issuer and
//! its achievements (with a certificate made of two of them) are created only when missing, and
//! published; the demo assessor joins the assessor pool of every assessed demo achievement.

use cairn_core::account::{Email, NewAccount, SignUpFields};
use cairn_core::achievement::{Kind, NewAchievement, State};
use cairn_core::demo;
use cairn_core::ids::{OrganisationId, UserId};
use cairn_core::organisation::OrganisationProfile;
use cairn_store::StoreError;

use crate::App;

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
            let organisation = store.create_organisation(&profile, owner, now).await?;
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
