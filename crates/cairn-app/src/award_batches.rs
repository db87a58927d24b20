//! Bulk award: a CSV file of direct awards (`cairn_core::award_batch`). Uploading checks every
//! row — its fields, and that it names a published achievement of the issuer — and stores the
//! batch with what each row will do. Over the API the batch starts at once; on the issuer's page
//! it waits for the preview to be confirmed. A started batch is awarded by its `AwardBatch`
//! effect ([`run`]), chunk by chunk: each row becomes a direct award (`crate::offers`), its
//! credential signed and baked then, held for the address, and its claim link mailed; a row whose
//! achievement the address holds already, or has waiting or claimed, is skipped. A batch that
//! stopped (a crash, a restart) resumes at its first pending row, and uploading the same file
//! again awards nobody twice.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::account::Email;
use cairn_core::achievement::Achievement;
use cairn_core::authz::{Action, Actor, OrgAction};
use cairn_core::award_batch::{self, RowCheck};
use cairn_core::ids::{AchievementId, AwardBatchId, OrganisationId};
use cairn_core::offer::{NewOffer, NotAwardable, awardable};
use cairn_store::{AwardBatch, BatchOffer, BatchRow, BatchRowState, Effect, HeldCredential, NewAwardBatch, NewAwardOffer, NewBatchRow, NewEffect, StoreError};

use crate::awards::{HoldTimes, Signing, StatusSlots, Subject, hold_credentials};
use crate::offers::{claim_mail, fingerprint};
use crate::{App, AppError};

/// Rows awarded per chunk: one transaction each.
pub const CHUNK: u32 = 250;
/// Batches listed at most.
pub const BATCHES_LISTED: u32 = 50;
/// Longest file name kept, in characters.
const MAX_FILE_NAME_CHARS: usize = 200;

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    /// Checked, waiting for the issuer to confirm its preview.
    Preview,
    Running,
    Done,
}

impl BatchStatus {
    pub fn of(batch: &AwardBatch) -> BatchStatus {
        match (batch.started_at, batch.finished_at) {
            (None, _) => BatchStatus::Preview,
            (Some(_), None) => BatchStatus::Running,
            (Some(_), Some(_)) => BatchStatus::Done,
        }
    }

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Preview => "preview",
            BatchStatus::Running => "running",
            BatchStatus::Done => "done",
        }
    }
}

fn authorise(actor: &Actor, organisation: OrganisationId) -> Result<(), AppError> {
    actor.authorise(Action::Org(organisation, OrgAction::ManageAssessment)).map_err(AppError::from)
}

/// Why an achievement cannot be awarded by this issuer now, if it cannot.
fn not_awardable(achievement: Option<&Achievement>, organisation: OrganisationId) -> Option<String> {
    match awardable(achievement, organisation) {
        Ok(()) => None,
        Err(NotAwardable::NotOurs) => Some(format!("achievement_id: {}", NotAwardable::NotOurs.words())),
        Err(why) => Some(why.words()),
    }
}

/// Checks a CSV file of direct awards and stores it as a batch of `organisation`, each row with
/// what it will do. With `start`, the batch starts at once and is awarded in the background;
/// otherwise it waits for [`start`].
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `Invalid` at `/file` for a file
/// that cannot be read as such a CSV (every row's own problems are kept with the row instead).
pub async fn upload(app: &App, actor: &Actor, organisation: OrganisationId, file_name: &str, bytes: &[u8], start: bool) -> Result<AwardBatch, AppError> {
    authorise(actor, organisation)?;
    let created_by = actor.user.ok_or(AppError::Unauthenticated)?;
    let parsed = award_batch::parse(bytes)?;
    let achievements: HashMap<AchievementId, Achievement> = app.store.organisation_achievements(organisation).await?.into_iter().map(|a| (a.id, a)).collect();
    let rows: Vec<NewBatchRow> = parsed
        .into_iter()
        .map(|row| {
            let (state, detail) = match row.check {
                RowCheck::Award(offer) => match not_awardable(achievements.get(&offer.achievement), organisation) {
                    None => (BatchRowState::Pending, None),
                    Some(why) => (BatchRowState::Failed, Some(why)),
                },
                RowCheck::Skip(why) => (BatchRowState::Skipped, Some(why)),
                RowCheck::Fail(why) => (BatchRowState::Failed, Some(why)),
            };
            NewBatchRow { line: row.row, fields: row.fields, state, detail }
        })
        .collect();
    let name: String = file_name.trim().chars().filter(|c| !c.is_control()).take(MAX_FILE_NAME_CHARS).collect();
    let name = if name.is_empty() { "awards.csv".to_string() } else { name };
    let id = AwardBatchId::new();
    let effect = start.then(|| NewEffect::from(Effect::AwardBatch { batch: id }));
    let new = NewAwardBatch { id, organisation, created_by, file_name: &name, rows: &rows };
    let batch = app.store.create_award_batch(new, effect.as_ref(), app.now()).await?;
    if let Some(effect) = effect {
        in_background(app, effect);
    }
    Ok(batch)
}

/// Runs a batch's effect now, off the request: the job runner would otherwise take it at its
/// next tick. Correctness never depends on it (the effect stays until it is done).
fn in_background(app: &App, effect: NewEffect) {
    let app = app.clone();
    tokio::spawn(async move { crate::effects::settle(&app, &[effect]).await });
}

/// Starts a batch whose preview the issuer confirmed.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`.
pub async fn start(app: &App, actor: &Actor, organisation: OrganisationId, batch: AwardBatchId) -> Result<AwardBatch, AppError> {
    authorise(actor, organisation)?;
    let effect = NewEffect::from(Effect::AwardBatch { batch });
    let (batch, started) = app.store.start_award_batch(organisation, batch, &effect, app.now()).await?;
    if started {
        in_background(app, effect);
    }
    Ok(batch)
}

/// Discards a batch that was never started.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`; `Conflict` once started.
pub async fn discard(app: &App, actor: &Actor, organisation: OrganisationId, batch: AwardBatchId) -> Result<(), AppError> {
    authorise(actor, organisation)?;
    Ok(app.store.discard_award_batch(organisation, batch).await?)
}

/// One of the organisation's batches.
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`.
pub async fn get(app: &App, actor: &Actor, organisation: OrganisationId, batch: AwardBatchId) -> Result<AwardBatch, AppError> {
    authorise(actor, organisation)?;
    Ok(app.store.award_batch(organisation, batch).await?)
}

/// The organisation's batches, newest first (at most [`BATCHES_LISTED`]).
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`.
pub async fn list(app: &App, actor: &Actor, organisation: OrganisationId) -> Result<Vec<AwardBatch>, AppError> {
    authorise(actor, organisation)?;
    Ok(app.store.award_batches(organisation, BATCHES_LISTED).await?)
}

/// A batch's rows in `states` (all when empty), in file order, after row `after` (at most
/// `limit`).
///
/// # Errors
/// `Unauthenticated`/`Forbidden` without `ManageAssessment`; `NotFound`.
pub async fn rows(
    app: &App,
    actor: &Actor,
    organisation: OrganisationId,
    batch: AwardBatchId,
    states: &[BatchRowState],
    after: u32,
    limit: u32,
) -> Result<Vec<BatchRow>, AppError> {
    let batch = get(app, actor, organisation, batch).await?;
    Ok(app.store.award_batch_rows(batch.id, states, after, limit).await?)
}

/// Awards a started batch's pending rows, chunk by chunk, then marks it done. Run by its
/// `AwardBatch` effect; running it again (after a crash, or twice at once) awards nobody twice.
///
/// # Errors
/// A store, blob or signing failure (the effect is retried; rows done so far stay done), or
/// `Unavailable` when a chunk could make no progress.
pub(crate) async fn run(app: &App, id: AwardBatchId) -> Result<(), AppError> {
    let batch = match app.store.award_batch_by_id(id).await {
        Ok(batch) => batch,
        // Deleted meanwhile (with its organisation, or its uploader's account).
        Err(StoreError::NotFound { .. }) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    if batch.started_at.is_none() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut runner =
        Runner { app, batch: &batch, signings: HashMap::new(), slots: StatusSlots::load(app, batch.organisation).await?, profile: Profile::default() };
    let mut stalled = 0;
    loop {
        let pending = app.store.award_batch_rows(id, &[BatchRowState::Pending], 0, CHUNK).await?;
        if pending.is_empty() {
            break;
        }
        if runner.chunk(&pending).await? {
            crate::crash::point(crate::crash::CrashPoint::BatchChunkCommitted);
            stalled = 0;
        } else {
            // Every offer was refused by a unique rule: another waiting offer took a status
            // index meanwhile. Look again with the indexes as they are now.
            stalled += 1;
            if stalled == 3 {
                return Err(AppError::Unavailable("a bulk award could make no progress; it is tried again later".into()));
            }
            runner.slots = StatusSlots::load(app, batch.organisation).await?;
        }
    }
    app.store.finish_award_batch(id, app.now()).await?;
    let Profile { rows, checking, hold, storing } = runner.profile;
    let ms = |d: std::time::Duration| d.as_millis();
    tracing::info!(
        batch_id = %id,
        rows,
        seconds = started.elapsed().as_secs_f64(),
        checking_ms = ms(checking),
        signing_ms = ms(hold.signing),
        images_ms = ms(hold.blobs),
        storing_ms = ms(storing),
        "bulk award done"
    );
    Ok(())
}

/// Where a run spent its time: reading and checking rows (achievements, who holds them
/// already), signing and baking (on every core), storing the images, and the chunks'
/// transactions.
#[derive(Debug, Clone, Copy, Default)]
struct Profile {
    rows: usize,
    checking: std::time::Duration,
    hold: HoldTimes,
    storing: std::time::Duration,
}

/// What awarding one batch keeps between chunks.
struct Runner<'a> {
    app: &'a App,
    batch: &'a AwardBatch,
    /// Each achievement's signing material, or why it cannot be awarded (any more).
    signings: HashMap<AchievementId, Result<Arc<Signing>, String>>,
    slots: StatusSlots,
    profile: Profile,
}

impl Runner<'_> {
    async fn signing(&mut self, achievement: AchievementId) -> Result<Result<Arc<Signing>, String>, AppError> {
        if let Some(known) = self.signings.get(&achievement) {
            return Ok(known.clone());
        }
        let found = match self.app.store.achievement(achievement).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound { .. }) => None,
            Err(error) => return Err(error.into()),
        };
        let signing = match (not_awardable(found.as_ref(), self.batch.organisation), found) {
            (None, Some(found)) => Ok(Arc::new(Signing::load(self.app, found, self.app.now()).await?)),
            (Some(why), _) => Err(why),
            (None, None) => Err("achievement_id: no achievement of this issuer has this id".to_string()),
        };
        self.signings.insert(achievement, signing.clone());
        Ok(signing)
    }

    /// Awards one chunk of pending rows in one transaction. Whether it made progress.
    async fn chunk(&mut self, pending: &[BatchRow]) -> Result<bool, AppError> {
        let now = self.app.now();
        let checking = std::time::Instant::now();
        let mut held_time = std::time::Duration::ZERO;
        self.profile.rows += pending.len();
        let mut decided: Vec<(u32, BatchRowState, String)> = Vec::new();
        let mut by_achievement: HashMap<AchievementId, Vec<(u32, NewOffer)>> = HashMap::new();
        for row in pending {
            match NewOffer::parse(&row.fields.offer_fields()) {
                Ok(offer) => by_achievement.entry(offer.achievement).or_default().push((row.line, offer)),
                Err(invalid) => decided.push((row.line, BatchRowState::Failed, invalid.to_string())),
            }
        }
        let mut made: Vec<(u32, NewOffer, Arc<Signing>, HeldCredential)> = Vec::new();
        for (achievement, offers) in by_achievement {
            let signing = match self.signing(achievement).await? {
                Ok(signing) => signing,
                Err(why) => {
                    decided.extend(offers.into_iter().map(|(line, _)| (line, BatchRowState::Failed, why.clone())));
                    continue;
                }
            };
            let emails: Vec<Email> = offers.iter().map(|(_, offer)| offer.email.clone()).collect();
            let held_already = self.app.store.awarded_already(achievement, &emails).await?;
            let mut subjects = Vec::new();
            let mut to_award = Vec::new();
            for (line, offer) in offers {
                if let Some(why) = held_already.get(&offer.email) {
                    decided.push((line, BatchRowState::Skipped, why.clone()));
                    continue;
                }
                subjects.push(Subject {
                    evidence: offer.evidence.clone(),
                    narrative: Some(offer.narrative.clone()).filter(|n| !n.is_empty()),
                    ..Subject::new(&signing.achievement, offer.email.as_str(), now)
                });
                to_award.push((line, offer));
            }
            let holding = std::time::Instant::now();
            let held = hold_credentials(self.app, &signing, subjects, &mut self.slots, &mut self.profile.hold).await?;
            held_time += holding.elapsed();
            made.extend(to_award.into_iter().zip(held).map(|((line, offer), held)| (line, offer, signing.clone(), held)));
        }
        let fingerprints: Vec<String> = made.iter().map(|(_, offer, _, _)| fingerprint(offer)).collect();
        let offers: Vec<BatchOffer<'_>> = made
            .iter()
            .zip(&fingerprints)
            .map(|((line, offer, signing, held), fingerprint)| BatchOffer {
                line: *line,
                offer: NewAwardOffer {
                    organisation: self.batch.organisation,
                    achievement: signing.achievement.id,
                    email: &offer.email,
                    name: &offer.name,
                    narrative: &offer.narrative,
                    evidence: &offer.evidence,
                    credential: held,
                    offered_by: self.batch.created_by,
                    idempotency_key: None,
                    fingerprint,
                },
            })
            .collect();
        let names: HashMap<AchievementId, (String, String)> = made
            .iter()
            .map(|(_, _, signing, _)| (signing.achievement.id, (signing.organisation.profile.name.clone(), signing.achievement.content.name.clone())))
            .collect();
        self.profile.checking += checking.elapsed().saturating_sub(held_time);
        let storing = std::time::Instant::now();
        let config = &self.app.config;
        let settled = self
            .app
            .store
            .settle_batch_chunk(self.batch.id, &offers, &decided, now, |offer, secret| {
                let (issuer, achievement) = names.get(&offer.achievement).cloned().unwrap_or_default();
                claim_mail(config, &issuer, &achievement, offer.name, offer.email, secret)
            })
            .await?;
        self.profile.storing += storing.elapsed();
        Ok(settled.awarded + settled.decided > 0)
    }
}
