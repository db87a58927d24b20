//! The employer's side of discovery: searching, across all issuers, the learners who chose to be
//! found; comparing two to four of them; a shortlist; and contact requests the learner answers
//! before any contact detail is shown. Only members of an employer organisation may do any of it
//! (`Action::FindTalent`); every search hit, view, shortlisting and request is logged for the
//! learner to see ([`crate::discovery::activity`]).

use cairn_core::authz::{Action, Actor};
use cairn_core::discovery::{Handle, TalentEvent, TalentFields, TalentQuery, compare_handles, contact_message};
use cairn_core::ids::OrganisationId;
use cairn_core::notification::NotificationKind;
use cairn_core::organisation::Organisation;
use cairn_store::{ContactRequest, ShortlistEntry, Talent};

use crate::discovery::{ShownAward, shown};
use crate::notify::notice;
use crate::{App, AppError};

/// A page of talent search results, for the employer it was made for.
#[derive(Debug, Clone)]
pub struct TalentResults {
    pub organisation: Organisation,
    pub query: TalentQuery,
    pub learners: Vec<TalentLearner>,
    /// Learners matching in all, counted up to [`cairn_core::discovery::TALENT_COUNT_CAP`].
    pub total: u64,
    /// More learners match than `total` (the cap).
    pub total_capped: bool,
}

/// A learner as an employer sees them: only what they made public.
#[derive(Debug, Clone)]
pub struct TalentLearner {
    pub talent: Talent,
    pub awards: Vec<ShownAward>,
    /// Whether the employer has them on its shortlist.
    pub shortlisted: bool,
}

const ONLY_EMPLOYERS: &str = "only members of an employer organisation may search for learners";

/// The employer organisation the actor acts for: `organisation` when given, else the first
/// employer they may search for.
///
/// # Errors
/// `Unauthenticated` for visitors; `Forbidden` for everyone who is not an employer's owner or
/// staff (an issuer's members included); `NotFound` for an unknown organisation.
pub async fn employer(app: &App, actor: &Actor, organisation: Option<OrganisationId>) -> Result<Organisation, AppError> {
    actor.user.ok_or(AppError::Unauthenticated)?;
    let candidates: Vec<OrganisationId> = match organisation {
        Some(id) => vec![id],
        None => actor.memberships.iter().map(|(org, _)| *org).collect(),
    };
    for id in candidates {
        let org = match app.store.organisation(id).await {
            Ok(org) => org,
            Err(cairn_store::StoreError::NotFound { .. }) if organisation.is_none() => continue,
            Err(error) => return Err(error.into()),
        };
        if actor.can(Action::FindTalent(org.id, org.kind)) {
            return Ok(org);
        }
    }
    Err(AppError::Forbidden(ONLY_EMPLOYERS.into()))
}

/// Whether the actor may search for talent (to show the link).
///
/// # Errors
/// Store failures.
pub async fn may_search(app: &App, actor: &Actor) -> Result<bool, AppError> {
    match employer(app, actor, None).await {
        Ok(_) => Ok(true),
        Err(AppError::Forbidden(_) | AppError::Unauthenticated) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Searches the discoverable learners; each learner on the page is logged as a search hit.
///
/// # Errors
/// As [`employer`]; `Invalid` for a broken query.
pub async fn search(app: &App, actor: &Actor, organisation: Option<OrganisationId>, fields: &TalentFields) -> Result<TalentResults, AppError> {
    let org = employer(app, actor, organisation).await?;
    let query = TalentQuery::parse(fields)?;
    let now = app.now();
    let page = app.store.search_talent(&query, now).await?;
    let learners: Vec<_> = page.hits.iter().map(|hit| hit.talent.learner).collect();
    // Every hit's awards are shown at once, then handed back to their learners; the shortlist
    // and the log of hits are read and written meanwhile.
    let mut hits = page.hits;
    let counts: Vec<usize> = hits.iter().map(|hit| hit.awards.len()).collect();
    let (shortlist, (), awards) = tokio::try_join!(
        async { Ok::<_, AppError>(app.store.shortlist(org.id).await?) },
        async { Ok(app.store.record_talent_events(org.id, viewer(actor)?, &learners, TalentEvent::SearchHit, now).await?) },
        shown(app, hits.iter_mut().flat_map(|hit| std::mem::take(&mut hit.awards)).collect()),
    )?;
    let mut awards = awards.into_iter();
    let learners = hits
        .into_iter()
        .zip(counts)
        .map(|(hit, count)| {
            let shortlisted = shortlist.iter().any(|entry| entry.talent.learner == hit.talent.learner);
            TalentLearner { awards: awards.by_ref().take(count).collect(), talent: hit.talent, shortlisted }
        })
        .collect();
    Ok(TalentResults { organisation: org, query, learners, total: page.total, total_capped: page.capped })
}

fn viewer(actor: &Actor) -> Result<cairn_core::ids::UserId, AppError> {
    actor.user.ok_or(AppError::Unauthenticated)
}

/// The discoverable learner with this handle, or `NotFound` (whether they exist or not).
async fn discoverable(app: &App, handle: &str) -> Result<Talent, AppError> {
    let not_found = || AppError::NotFound(format!("no learner who may be found has the handle \"{}\"", cairn_core::invalid::clip(handle)));
    let handle = Handle::parse(handle).map_err(|_| not_found())?;
    app.store.discoverable_learners(std::slice::from_ref(&handle)).await?.into_iter().next().ok_or_else(not_found)
}

/// Two to four learners side by side: all their public awards, with the rubric level reached on
/// each criterion and the competencies. Each is logged as viewed.
///
/// # Errors
/// As [`employer`]; `Invalid` at `/learners` for fewer than two or more than four; `NotFound`
/// naming a handle of nobody discoverable.
pub async fn compare(app: &App, actor: &Actor, organisation: Option<OrganisationId>, handles: &[String]) -> Result<Vec<TalentLearner>, AppError> {
    let org = employer(app, actor, organisation).await?;
    let handles = compare_handles(handles)?;
    let mut talents = Vec::with_capacity(handles.len());
    for handle in &handles {
        talents.push(discoverable(app, handle.as_str()).await?);
    }
    profiles(app, actor, &org, talents).await
}

/// One learner as an employer sees them (logged as viewed).
///
/// # Errors
/// As [`employer`]; `NotFound` when nobody discoverable has the handle.
pub async fn profile(app: &App, actor: &Actor, organisation: Option<OrganisationId>, handle: &str) -> Result<TalentLearner, AppError> {
    let org = employer(app, actor, organisation).await?;
    let talent = discoverable(app, handle).await?;
    let handle = talent.handle.to_string();
    let found = profiles(app, actor, &org, vec![talent]).await?;
    found.into_iter().next().ok_or_else(|| AppError::NotFound(format!("no learner who may be found has the handle \"{handle}\"")))
}

async fn profiles(app: &App, actor: &Actor, org: &Organisation, talents: Vec<Talent>) -> Result<Vec<TalentLearner>, AppError> {
    let shortlist = app.store.shortlist(org.id).await?;
    let ids: Vec<_> = talents.iter().map(|t| t.learner).collect();
    app.store.record_talent_events(org.id, viewer(actor)?, &ids, TalentEvent::View, app.now()).await?;
    let mut out = Vec::with_capacity(talents.len());
    for talent in talents {
        let awards = shown(app, app.store.listed_awards(talent.learner).await?).await?;
        let shortlisted = shortlist.iter().any(|entry| entry.talent.learner == talent.learner);
        out.push(TalentLearner { talent, awards, shortlisted });
    }
    Ok(out)
}

/// The employer's shortlist (learners who stopped being discoverable drop off it).
///
/// # Errors
/// As [`employer`].
pub async fn shortlist(app: &App, actor: &Actor, organisation: Option<OrganisationId>) -> Result<(Organisation, Vec<ShortlistEntry>), AppError> {
    let org = employer(app, actor, organisation).await?;
    let entries = app.store.shortlist(org.id).await?;
    Ok((org, entries))
}

/// Puts a discoverable learner on the employer's shortlist (logged).
///
/// # Errors
/// As [`employer`]; `NotFound` when nobody discoverable has the handle.
pub async fn add_to_shortlist(app: &App, actor: &Actor, organisation: Option<OrganisationId>, handle: &str) -> Result<Talent, AppError> {
    let org = employer(app, actor, organisation).await?;
    actor.authorise(Action::Change)?;
    let talent = discoverable(app, handle).await?;
    let now = app.now();
    app.store.shortlist_add(org.id, talent.learner, viewer(actor)?, now).await?;
    app.store.record_talent_events(org.id, viewer(actor)?, &[talent.learner], TalentEvent::Shortlist, now).await?;
    Ok(talent)
}

/// Takes a learner off the employer's shortlist.
///
/// # Errors
/// As [`employer`]; `NotFound` when they were not on it.
pub async fn remove_from_shortlist(app: &App, actor: &Actor, organisation: Option<OrganisationId>, handle: &str) -> Result<(), AppError> {
    let org = employer(app, actor, organisation).await?;
    actor.authorise(Action::Change)?;
    let handle = Handle::parse(handle).map_err(|_| AppError::NotFound("no such learner on your shortlist".into()))?;
    app.store.shortlist_remove(org.id, &handle).await.map_err(|error| match error {
        cairn_store::StoreError::NotFound { .. } => AppError::NotFound("no such learner on your shortlist".into()),
        other => other.into(),
    })
}

/// Asks a discoverable learner whether the employer may contact them; the learner is told, and
/// sees nothing of the employer's but its name and the message until they answer.
///
/// # Errors
/// As [`employer`]; `NotFound`; `Invalid` at `/message`; `Conflict` when a request of the
/// employer's waits for this learner already.
pub async fn request_contact(app: &App, actor: &Actor, organisation: Option<OrganisationId>, handle: &str, message: &str) -> Result<ContactRequest, AppError> {
    let org = employer(app, actor, organisation).await?;
    actor.authorise(Action::Change)?;
    let talent = discoverable(app, handle).await?;
    let message = contact_message(message)?;
    let now = app.now();
    let effects = [notice(
        talent.learner,
        NotificationKind::ContactRequest,
        format!("{} would like to contact you", org.profile.name),
        format!(
            "{} found your public achievements and asks to contact you: “{message}” Accept to share your e-mail address with them, or decline.",
            org.profile.name
        ),
        "/account/visibility",
    )];
    let request = app.store.create_contact_request(org.id, talent.learner, viewer(actor)?, &message, &effects, now).await?;
    app.store.record_talent_events(org.id, viewer(actor)?, &[talent.learner], TalentEvent::ContactRequest, now).await?;
    Ok(request)
}

/// The contact requests the employer sent, newest first; e-mail addresses only of learners who
/// accepted.
///
/// # Errors
/// As [`employer`].
pub async fn sent_requests(app: &App, actor: &Actor, organisation: Option<OrganisationId>) -> Result<(Organisation, Vec<ContactRequest>), AppError> {
    let org = employer(app, actor, organisation).await?;
    let requests = app.store.contact_requests_from(org.id).await?;
    Ok((org, requests))
}
