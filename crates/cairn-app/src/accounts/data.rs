//! One's own data: the export of everything Cairn keeps about the account, and deleting the
//! account. The export never holds a secret or a digest of one (passwords, session and token
//! secrets, reset links). Deleting keeps the awards already issued verifiable — their signed
//! credentials and the issuers' status lists are untouched — while their pages answer "gone",
//! and removes or anonymises everything else ([`cairn_store::Store::delete_account`]).

use cairn_core::authz::Actor;
use cairn_store::StoreError;
use serde_json::{Value, json};

use super::profile::{confirm_password, own};
use crate::awards::award_links;
use crate::{App, AppError, timestamp};

/// How many notifications the export holds at most (the newest).
const EXPORT_NOTIFICATIONS: usize = 10_000;

/// Everything Cairn keeps about the actor, as one JSON document: profile, memberships,
/// submissions with their evidence's metadata and reflections, awards with their credentials'
/// URLs, collaborations, notifications and API tokens' metadata.
///
/// # Errors
/// `Unauthenticated` for visitors.
pub async fn export(app: &App, actor: &Actor) -> Result<Value, AppError> {
    let id = own(actor)?;
    let user = app.store.user(id).await?;
    let mut memberships = Vec::new();
    for (organisation, role) in app.store.memberships(id).await? {
        let name = app.store.organisation(organisation).await?.profile.name;
        memberships.push(json!({"organisation_id": organisation.to_string(), "organisation_name": name, "role": role.as_str()}));
    }
    let mut submissions = Vec::new();
    for line in app.store.submissions_of(id).await? {
        let submission = &line.submission;
        let evidence: Vec<Value> = app
            .store
            .artifacts(submission.id)
            .await?
            .iter()
            .map(|artifact| {
                let mut item = json!({
                    "id": artifact.id.to_string(),
                    "title": artifact.title,
                    "added_in_attempt": artifact.added_in_attempt,
                    "created_at": timestamp(artifact.created_at),
                });
                match &artifact.body {
                    cairn_store::ArtifactBody::File { media_type, size, sha256, original_name, .. } => {
                        item["kind"] = json!("file");
                        item["file"] = json!({"name": original_name, "media_type": media_type, "size": size, "sha256": sha256});
                    }
                    cairn_store::ArtifactBody::Text { body } => {
                        item["kind"] = json!("text");
                        item["text"] = json!(body);
                    }
                }
                item
            })
            .collect();
        let reflections: Vec<Value> = app
            .store
            .collaborator_reflections(submission.id)
            .await?
            .into_iter()
            .map(|(email, text)| json!({"collaborator": email.as_str(), "reflection": text}))
            .collect();
        submissions.push(json!({
            "id": submission.id.to_string(),
            "achievement_id": submission.achievement.to_string(),
            "achievement_name": line.achievement_name,
            "organisation_name": line.organisation_name,
            "status": submission.status.as_str(),
            "attempt": submission.attempt,
            "fee": submission.fee.as_str(),
            "overview": submission.content.overview,
            "reflection": submission.content.reflection,
            "links": submission.content.links,
            "collaborators": submission.content.collaborators.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            "collaborator_reflections": reflections,
            "evidence": evidence,
            "submitted_at": submission.submitted_at.map(timestamp),
            "due_at": submission.due_at.map(timestamp),
            "created_at": timestamp(submission.created_at),
            "updated_at": timestamp(submission.updated_at),
            "award_id": line.award.map(|a| a.to_string()),
        }));
    }
    let pickups = app.store.wallet_pickups_of(id).await?;
    let awards: Vec<Value> = app
        .store
        .learner_award_history(id)
        .await?
        .into_iter()
        .map(|held| {
            let award = &held.award;
            let wallet_copies: Vec<Value> = pickups
                .iter()
                .filter(|p| p.award == award.id)
                .map(|p| json!({"credential_id": p.credential_id, "holder": p.holder, "format": p.format, "picked_up_at": timestamp(p.picked_up_at)}))
                .collect();
            json!({
                "id": award.id.to_string(),
                "achievement_name": held.achievement_name,
                "organisation_name": held.organisation_name,
                "issued_at": timestamp(award.issued_at),
                "valid_until": award.valid_until.map(timestamp),
                "status": award.status.as_str(),
                "status_reason": award.status_reason,
                "privacy": award.privacy.as_str(),
                "evidence_public": award.evidence_public,
                "recognition": award.recognition.map(|r| r.as_str()),
                "renews": award.renews.map(|previous| previous.to_string()),
                "renewed_by": award.renewed_by.map(|next| next.to_string()),
                "links": award_links(&app.config, award.id),
                "wallet_copies": wallet_copies,
            })
        })
        .collect();
    // Badges from elsewhere, as given (a baked image's bytes stay in the backpack: its credential
    // is what the learner brought).
    let imports: Vec<Value> = app
        .store
        .imports_of(id)
        .await?
        .into_iter()
        .map(|import| {
            json!({
                "id": import.id.to_string(),
                "name": import.name,
                "issuer": import.issuer_name,
                "issuer_id": import.issuer_id,
                "achievement_id": import.achievement_id,
                "format": import.format,
                "source": import.source.as_str(),
                "credential": (!import.input.is_empty()).then_some(import.input),
                "verdict": import.check.verdict.as_str(),
                "verdict_detail": import.check.detail,
                "verified_at": timestamp(import.check.verified_at),
                "imported_at": timestamp(import.created_at),
            })
        })
        .collect();
    let collaborations: Vec<Value> = app
        .store
        .collaborations_of(&user.email)
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "submission_id": c.submission.to_string(),
                "achievement_name": c.achievement_name,
                "status": c.status.as_str(),
                "reflection": c.reflection,
            })
        })
        .collect();
    let notifications: Vec<Value> = app
        .store
        .notifications(id, EXPORT_NOTIFICATIONS)
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "kind": n.kind.as_str(),
                "subject": n.subject,
                "body": n.body,
                "link": app.config.url(&n.link),
                "created_at": timestamp(n.created_at),
                "read_at": n.read_at.map(timestamp),
            })
        })
        .collect();
    let tokens: Vec<Value> = app
        .store
        .api_tokens(id)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id.to_string(),
                "name": t.name,
                "prefix": t.prefix,
                "scope": t.scope.as_str(),
                "created_at": timestamp(t.created_at),
                "expires_at": t.expires_at.map(timestamp),
                "last_used_at": t.last_used_at.map(timestamp),
                "revoked_at": t.revoked_at.map(timestamp),
            })
        })
        .collect();
    let providers: Vec<Value> = crate::oidc::identities(app, actor)
        .await?
        .into_iter()
        .map(|(name, link)| {
            json!({
                "provider": link.provider,
                "provider_name": name,
                "subject": link.subject,
                "email": link.email,
                "linked_at": timestamp(link.linked_at),
                "last_used_at": timestamp(link.last_used_at),
            })
        })
        .collect();
    Ok(json!({
        "exported_at": timestamp(app.now()),
        "site": app.config.url("/"),
        "profile": {
            "id": user.id.to_string(),
            "name": user.name,
            "email": user.email.as_str(),
            "created_at": timestamp(user.created_at),
        },
        "memberships": memberships,
        "submissions": submissions,
        "awards": awards,
        "imports": imports,
        "collaborations": collaborations,
        "notifications": notifications,
        "api_tokens": tokens,
        "sign_in_providers": providers,
    }))
}

/// Deletes the actor's account, confirmed with their `password`. Their sessions and API tokens
/// end at once.
///
/// # Errors
/// `Unauthenticated` for visitors; `Invalid` at `/password` for a wrong password; `Throttled`
/// after too many; `Conflict` naming an organisation they are the only owner of.
pub async fn delete_account(app: &App, actor: &Actor, password: &str) -> Result<(), AppError> {
    let id = own(actor)?;
    let user = app.store.user(id).await?;
    if let Some(name) = app.store.solely_owned(id).await?.first() {
        return Err(StoreError::Conflict {
            constraint: "memberships.sole_owner",
            detail: format!("you are the only owner of \"{name}\": make another member an owner, or delete the organisation, before deleting your account"),
        }
        .into());
    }
    confirm_password(app, &user, password, "/password").await?;
    app.store.delete_account(id, app.now()).await?;
    app.login_throttle.succeed(user.email.as_str());
    Ok(())
}
