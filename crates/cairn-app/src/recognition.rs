//! Recognition of prior learning (the rules are `cairn_core::recognition`'s).
//!
//! Issuers keep **equivalency rules**: an achievement from elsewhere, named by its issuer's id and
//! its own id, counts as one of theirs. A learner asks for an achievement to be recognised,
//! showing an imported badge, or describing prior learning (military or workplace training, a
//! transcript) to be shown by evidence. The request is granted at once when the badge verifies
//! now, names the learner's e-mail address and one of the issuer's rules names it; otherwise it
//! becomes a submission asking for recognition, which goes through the same blind queue and
//! rubric as any other, with the badge shown to the assessor without its recipient. Either way
//! the award says that it recognises prior learning, and how (in its credential's evidence and
//! on its page), and counts toward stacks, certificates and transcripts like any other award.

use cairn_core::achievement::{Achievement, State};
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::ids::{AchievementId, EquivalencyId, ImportId, OrganisationId, SubmissionId};
use cairn_core::recognition::{self as rules, Equivalency, EquivalencyFields, MAX_EQUIVALENCIES, NewEquivalency, Recognition};
use cairn_core::submission::{MAX_TEXT_CHARS, Submission, SubmissionFields};
use cairn_store::{Award, Import, ImportVerdict, PriorLearning, StoreError};

use crate::awards::{AwardRequest, PriorLearningBasis};
use crate::error::ConflictKind;
use crate::imports;
use crate::{App, AppError};

/// An equivalency rule with the name of the achievement it recognises.
#[derive(Debug, Clone)]
pub struct EquivalencyView {
    pub rule: Equivalency,
    pub achievement_name: String,
}

/// An organisation's equivalency rules.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment` in the organisation.
pub async fn equivalencies(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<EquivalencyView>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let mut views = Vec::new();
    for rule in app.store.equivalencies_of(organisation).await? {
        let achievement_name = app.store.achievement(rule.achievement).await?.content.name;
        views.push(EquivalencyView { rule, achievement_name });
    }
    Ok(views)
}

/// Adds an equivalency rule: from now on, a verified badge that the rule names, issued to the
/// learner asking, is recognised at once as the organisation's achievement.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `Invalid` for a bad id, an
/// achievement of another organisation or of a kind that cannot be recognised (a
/// micro-credential); `Conflict` for a rule that exists already or beyond [`MAX_EQUIVALENCIES`].
pub async fn add_equivalency(app: &App, actor: &Actor, organisation: OrganisationId, fields: &EquivalencyFields) -> Result<EquivalencyView, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    actor.authorise(Action::Change)?;
    let by = actor.user.ok_or(AppError::Unauthenticated)?;
    let new = NewEquivalency::parse(fields).map_err(AppError::Invalid)?;
    let achievement = match app.store.achievement(new.achievement).await {
        Ok(achievement) if achievement.organisation == organisation => achievement,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(AppError::invalid_field("/achievement_id", "choose one of your achievements")),
        Err(error) => return Err(error.into()),
    };
    rules::recognisable(achievement.kind).map_err(|message| AppError::invalid_field("/achievement_id", message))?;
    if app.store.count_equivalencies(organisation).await? >= MAX_EQUIVALENCIES as u64 {
        return Err(AppError::conflict(format!("an organisation keeps at most {MAX_EQUIVALENCIES} equivalency rules; remove some first")));
    }
    let rule = app.store.create_equivalency(organisation, &new, by, app.now()).await?;
    Ok(EquivalencyView { rule, achievement_name: achievement.content.name })
}

/// Removes an equivalency rule; what it recognised stays awarded.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound` for another
/// organisation's rule or an unknown one.
pub async fn remove_equivalency(app: &App, actor: &Actor, organisation: OrganisationId, id: EquivalencyId) -> Result<(), AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    actor.authorise(Action::Change)?;
    match app.store.equivalency(id).await {
        Ok(rule) if rule.organisation == organisation => Ok(app.store.delete_equivalency(id).await?),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(AppError::NotFound("no such equivalency rule".into())),
        Err(error) => Err(error.into()),
    }
}

/// A published achievement that an imported badge counts as, by an issuer's rule.
#[derive(Debug, Clone)]
pub struct CountsAs {
    pub achievement: Achievement,
    pub organisation_name: String,
}

/// The published achievements that an import counts as, by every issuer's equivalency rules.
///
/// # Errors
/// Store failures.
pub async fn counts_as(app: &App, import: &Import) -> Result<Vec<CountsAs>, AppError> {
    let (Some(issuer), Some(achievement)) = (&import.issuer_id, &import.achievement_id) else { return Ok(Vec::new()) };
    let mut found: Vec<CountsAs> = Vec::new();
    for rule in app.store.equivalencies_matching(issuer, achievement).await? {
        let achievement = app.store.achievement(rule.achievement).await?;
        if achievement.state != State::Published || found.iter().any(|c| c.achievement.id == achievement.id) {
            continue;
        }
        let organisation_name = app.store.organisation(achievement.organisation).await?.profile.name;
        found.push(CountsAs { achievement, organisation_name });
    }
    Ok(found)
}

/// A learner's request to have prior learning recognised, as typed or sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecognitionFields {
    pub achievement_id: String,
    /// One of the learner's imported badges, shown as the prior learning.
    pub import_id: Option<String>,
    /// The learner's account of the prior learning (what, where, when, shown by what).
    pub statement: Option<String>,
}

/// What a request for recognition led to.
#[derive(Debug, Clone)]
pub enum Recognised {
    /// Granted at once by an equivalency rule.
    Awarded(Award),
    /// A draft submission asking for recognition, to complete with evidence and send.
    Queued(Submission),
}

/// Asks for prior learning to be recognised as an achievement (see the module documentation).
///
/// # Errors
/// `Unauthenticated`; `Invalid` at `/achievement_id` (not an id, a micro-credential), `/import_id`
/// (not one of the learner's imports, or one that is not valid now) or `/statement` (too long,
/// control characters); `NotFound` for an unpublished achievement; `Conflict` when the learner
/// holds it already or has a live submission for it.
pub async fn request(app: &App, actor: &Actor, fields: &RecognitionFields) -> Result<Recognised, AppError> {
    actor.authorise(Action::Apply)?;
    let learner = actor.user.ok_or(AppError::Unauthenticated)?;
    let achievement_id: AchievementId =
        fields.achievement_id.trim().parse().map_err(|_| AppError::invalid_field("/achievement_id", "choose the achievement to be recognised"))?;
    let achievement = match app.store.achievement(achievement_id).await {
        Ok(a) if a.state == State::Published => a,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(AppError::NotFound("no published achievement has this id".into())),
        Err(error) => return Err(error.into()),
    };
    rules::recognisable(achievement.kind).map_err(|message| AppError::invalid_field("/achievement_id", message))?;
    if crate::stacks::held(app, learner).await?.contains(&achievement.id) {
        return Err(AppError::Conflict { kind: ConflictKind::AlreadyAwarded, detail: format!("you hold \"{}\" already", achievement.content.name) });
    }
    let statement = fields.statement.as_deref().map(str::trim).unwrap_or_default();
    if statement.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid_field("/statement", format!("at most {MAX_TEXT_CHARS} characters")));
    }
    let import = match fields.import_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let id: ImportId = raw.parse().map_err(|_| AppError::invalid_field("/import_id", "choose one of your imported badges"))?;
            let email = app.store.user(learner).await?.email;
            let (import, issued_to_me) = match imports::verified_now(app, actor, id, email.as_str()).await {
                Ok(checked) => checked,
                Err(AppError::NotFound(_)) => return Err(AppError::invalid_field("/import_id", "choose one of your imported badges")),
                Err(error) => return Err(error),
            };
            if import.check.verdict == ImportVerdict::Invalid {
                let why = import.check.detail.clone().unwrap_or_else(|| "a check failed".into());
                return Err(AppError::invalid_field("/import_id", format!("\"{}\" is not valid any more: {why}", import.name)));
            }
            Some((import, issued_to_me))
        }
    };
    if let Some((import, Some(true))) = &import
        && import.check.verdict == ImportVerdict::Valid
        && app
            .store
            .equivalencies_of(achievement.organisation)
            .await?
            .iter()
            .any(|rule| rule.achievement == achievement.id && rule.matches(import.issuer_id.as_deref(), import.achievement_id.as_deref()))
    {
        let organisation = app.store.organisation(achievement.organisation).await?.profile.name;
        let narrative = format!(
            "\"{}\", issued by {}{} and verified on {}, counts as this achievement by the equivalency rules of {organisation}.",
            import.name,
            import.issuer_name,
            import.issuer_id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default(),
            cairn_vc::dates::day(import.check.verified_at),
        );
        let request = AwardRequest {
            prior_learning: Some(PriorLearningBasis { recognition: Recognition::Equivalency, narrative }),
            ..AwardRequest::new(learner, achievement.id)
        };
        return Ok(Recognised::Awarded(crate::awards::award(app, request).await?));
    }
    let submission_fields = SubmissionFields { overview: statement.to_string(), ..SubmissionFields::default() };
    let prior = PriorLearning { import: import.as_ref().map(|(import, _)| import.id) };
    let submission = crate::submissions::start(app, actor, achievement.id, &submission_fields, Some(prior)).await?;
    Ok(Recognised::Queued(submission))
}

/// An imported badge as a submission asking for recognition shows it: never its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownImport {
    pub name: String,
    pub issuer_name: String,
    pub issuer_id: Option<String>,
    pub achievement_id: Option<String>,
    /// "Verified by Cairn on …", or why not.
    pub verdict: String,
    pub valid: bool,
}

/// What a submission asking for recognition shows its assessor and learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorLearningShown {
    /// The imported badge shown, if one was and the learner still keeps it.
    pub import: Option<ShownImport>,
}

/// What a submission asks to be recognised, when it asks for recognition.
///
/// # Errors
/// Store failures.
pub async fn shown(app: &App, submission: SubmissionId) -> Result<Option<PriorLearningShown>, AppError> {
    let Some(prior) = app.store.prior_learning_of(submission).await? else { return Ok(None) };
    let import = match prior.import {
        None => None,
        Some(id) => match app.store.import(id).await {
            Ok(import) => Some(ShownImport {
                verdict: imports::verdict_words(&import.check),
                valid: import.check.verdict == ImportVerdict::Valid,
                name: import.name,
                issuer_name: import.issuer_name,
                issuer_id: import.issuer_id,
                achievement_id: import.achievement_id,
            }),
            Err(StoreError::NotFound { .. }) => None,
            Err(error) => return Err(error.into()),
        },
    };
    Ok(Some(PriorLearningShown { import }))
}

/// The basis of an award for a passed submission that asked for recognition.
///
/// # Errors
/// Store failures.
pub(crate) async fn assessed_basis(app: &App, submission: SubmissionId) -> Result<Option<PriorLearningBasis>, AppError> {
    let Some(shown) = shown(app, submission).await? else { return Ok(None) };
    let narrative = match shown.import {
        Some(import) => format!(
            "Prior learning assessed against this achievement's rubric; the learner showed \"{}\", issued by {} ({}).",
            import.name,
            import.issuer_name,
            import.verdict.to_lowercase()
        ),
        None => "Prior learning assessed against this achievement's rubric, on the evidence the learner gave.".to_string(),
    };
    Ok(Some(PriorLearningBasis { recognition: Recognition::Assessed, narrative }))
}

/// The achievements of an organisation that equivalency rules may name (not micro-credentials),
/// for the rules' form.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`.
pub async fn recognisable_achievements(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<Achievement>, AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment))?;
    let all = app.store.organisation_achievements(organisation).await?;
    Ok(all.into_iter().filter(|a| a.state != State::Retired && rules::recognisable(a.kind).is_ok()).collect())
}

/// The imported badges a signed-in learner may show when asking for recognition, as last
/// verified (the request verifies the chosen one again); none for anybody else.
///
/// # Errors
/// Store failures.
pub async fn importable_evidence(app: &App, actor: &Actor) -> Result<Vec<Import>, AppError> {
    let Some(user) = actor.user else { return Ok(Vec::new()) };
    if actor.authorise(Action::Own(user)).is_err() {
        return Ok(Vec::new());
    }
    Ok(app.store.imports_of(user).await?.into_iter().filter(|i| i.check.verdict != ImportVerdict::Invalid).collect())
}

/// What an issuer's equivalency rules page shows: the organisation's name, its rules and the
/// achievements a rule may name.
#[derive(Debug, Clone)]
pub struct RulesOverview {
    pub organisation_name: String,
    pub rules: Vec<EquivalencyView>,
    pub targets: Vec<Achievement>,
}

/// [`RulesOverview`] of an organisation.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound` for an unknown
/// organisation.
pub async fn rules_overview(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<RulesOverview, AppError> {
    let rules = equivalencies(app, actor, organisation).await?;
    let targets = recognisable_achievements(app, actor, organisation).await?;
    let organisation_name = app.store.organisation(organisation).await?.profile.name;
    Ok(RulesOverview { organisation_name, rules, targets })
}
