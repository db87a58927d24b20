//! A synthetic platform for benchmarks at scale (`cairn synthetic`): issuers of very different
//! sizes, their catalogs of micro-badges and three-level micro-credentials with rubrics and
//! competencies, assessors, employers, and learners who submitted, were judged (some after
//! revising), were awarded, chose who sees their awards, and whose awards were viewed, shared and
//! verified. Everything is drawn from one seeded random generator, so the same options give the
//! same platform (its dates relative to the day it is seeded).
//!
//! The distributions follow what platforms of the kind report: issuer size falls off as a power
//! law (a few large universities, a long tail of small providers), achievement popularity falls
//! off within each catalog, learners hold a log-normal number of awards (median about 6 for a
//! mean of 10) mostly from one "home" issuer, awards grow more frequent toward the present, about
//! one attempt in five needs a revision, and decisions take a log-normal number of days.
//!
//! Every award carries a real credential signed by its issuer (Data Integrity and VC-JWT) and its
//! hosted OB 2.0 assertion, so award pages and verification work on the synthetic platform. To
//! keep the disk use reasonable, awards share their achievement's badge image instead of each
//! carrying a baked copy: the downloads of a synthetic award are the image without the
//! credential inside.
//!
//! Only an empty database is seeded: the command refuses one that holds any account.

use crate::awards::{CredentialInput, random_salt, render_png, sign_forms, status_list_url};
use crate::{App, AppError};
use cairn_core::account::Email;
use cairn_core::achievement::{Achievement, AchievementFields, AlignmentFields, NewAchievement, NewAchievementFields, State};
use cairn_core::assessment::{Judgement, Score};
use cairn_core::authz::Role;
use cairn_core::award::{AwardStatus, Privacy};
use cairn_core::ids::{AwardId, OrganisationId, SubmissionId, UserId};
use cairn_core::organisation::{Organisation, OrganisationFields, OrganisationKind, OrganisationProfile};
use cairn_core::rubric::{CriterionFields, RubricFields};
use cairn_core::submission::{IssuerSettings, Outcome, Status};
use cairn_store::{NewAward, SyntheticAttempt, SyntheticAward, SyntheticBatch, SyntheticLearner, SyntheticSample, SyntheticSubmission, SyntheticUse};
use cairn_vc::keys::Ed25519KeyPair;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The password of every synthetic account.
pub const PASSWORD: &str = "synthetic-platform";
/// The domain of every synthetic e-mail address.
const DOMAIN: &str = "synthetic.cairn.test";
/// Learners and their awards written per transaction.
const LEARNERS_PER_BATCH: usize = 500;
/// Most awards one learner holds.
const MAX_AWARDS_PER_LEARNER: usize = 150;
/// How far back the platform's history goes, in days.
const HISTORY_DAYS: f64 = 3.0 * 365.0;

/// How big a platform to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticOptions {
    pub learners: u32,
    pub awards: u64,
    /// Issuing organisations; `None` for one per 5,000 awards (at least 5, at most 2,000).
    pub issuers: Option<u32>,
    pub employers: u32,
    /// The random generator's seed.
    pub seed: u64,
}

/// What seeding made, and how to sign in to look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticReport {
    pub issuers: usize,
    pub employers: usize,
    pub achievements: usize,
    pub learners: u64,
    pub discoverable: u64,
    pub awards: u64,
    pub submissions: u64,
    /// The owner of the largest issuer.
    pub issuer_owner: String,
    /// The largest issuer.
    pub issuer: OrganisationId,
    /// An owner of the first employer.
    pub employer_owner: String,
    pub password: &'static str,
}

/// Progress, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticProgress {
    pub learners: u64,
    pub learners_total: u64,
    pub awards: u64,
}

const TOPICS: [&str; 60] = [
    "Data Analysis",
    "Project Management",
    "Cloud Infrastructure",
    "Cybersecurity",
    "Web Accessibility",
    "Machine Learning",
    "Technical Writing",
    "Public Speaking",
    "Negotiation",
    "Customer Success",
    "Supply Chain Logistics",
    "Financial Modelling",
    "Bookkeeping",
    "Digital Marketing",
    "User Research",
    "Interaction Design",
    "Software Testing",
    "DevOps Pipelines",
    "Database Administration",
    "Network Engineering",
    "Electrical Safety",
    "Welding Inspection",
    "Patient Care",
    "Clinical Documentation",
    "Early Childhood Education",
    "Adult Teaching",
    "Instructional Design",
    "Conflict Resolution",
    "Team Leadership",
    "Change Management",
    "Sustainability Reporting",
    "Renewable Energy Systems",
    "Building Information Modelling",
    "Food Safety",
    "Hospitality Operations",
    "Retail Merchandising",
    "Sales Forecasting",
    "Quality Assurance",
    "Lean Manufacturing",
    "Robotics Maintenance",
    "Geospatial Analysis",
    "Statistics",
    "Spreadsheet Automation",
    "Python Programming",
    "Rust Programming",
    "Mobile Development",
    "Game Design",
    "Video Production",
    "Photography",
    "Copywriting",
    "Translation",
    "Community Organising",
    "Grant Writing",
    "Nonprofit Governance",
    "Human Resources",
    "Occupational Health",
    "Mental Health First Aid",
    "Legal Research",
    "Procurement",
    "Agile Coaching",
];

const FACETS: [&str; 25] = [
    "Essentials",
    "Fundamentals",
    "Core Methods",
    "Applied Practice",
    "Advanced Techniques",
    "For Managers",
    "For Small Teams",
    "In the Workplace",
    "Tools and Workflow",
    "Quality and Review",
    "Ethics and Risk",
    "Planning",
    "Communication",
    "Measurement",
    "Troubleshooting",
    "Automation",
    "Compliance",
    "Case Studies",
    "Mentoring Others",
    "Field Skills",
    "Reporting",
    "Strategy",
    "Operations",
    "Client Work",
    "Capstone",
];

const CRITERIA: [(&str, &str); 16] = [
    ("Accuracy", "The work is correct and complete for the task set."),
    ("Method", "The approach suits the problem and is applied soundly."),
    ("Communication", "The work is explained clearly for its audience."),
    ("Reflection", "The learner reflects on choices, limits and what they would change."),
    ("Use of evidence", "Claims rest on evidence that is cited and checked."),
    ("Safety", "Risks are identified and controlled."),
    ("Collaboration", "The learner works with others and credits their part."),
    ("Professional judgement", "Decisions weigh trade-offs as a practitioner would."),
    ("Documentation", "Another practitioner could follow and repeat the work."),
    ("Tools", "Tools are chosen well and used fluently."),
    ("Client focus", "The work answers the client's actual need."),
    ("Ethics", "Ethical and legal duties are met and discussed."),
    ("Problem framing", "The problem is stated precisely before it is solved."),
    ("Quality checks", "The work is tested or reviewed before it is handed in."),
    ("Planning", "The work is planned, scheduled and kept to scope."),
    ("Presentation", "Results are presented in a form the audience can act on."),
];

const LEVELS: [&str; 4] = ["Beginning", "Developing", "Proficient", "Exemplary"];
const DESCRIPTORS: [&str; 4] = ["Not yet shown.", "Partly shown, with gaps.", "Shown in full.", "Shown in full, and explained."];

const PLACES: [&str; 50] = [
    "Northgate",
    "Riverside",
    "Lakeshore",
    "Highfield",
    "Westbrook",
    "Eastmoor",
    "Southport",
    "Kingsbridge",
    "Ashford",
    "Greenvale",
    "Stonehaven",
    "Fairmont",
    "Oakridge",
    "Maplewood",
    "Silverton",
    "Brookfield",
    "Clearwater",
    "Redcliff",
    "Pinecrest",
    "Harbourview",
    "Elmstead",
    "Thornbury",
    "Millbrook",
    "Westfield",
    "Cedar Hill",
    "Bayside",
    "Hillcrest",
    "Foxley",
    "Wrenfield",
    "Larkspur",
    "Coldwater",
    "Ironbridge",
    "Marlow",
    "Dunmore",
    "Bellhaven",
    "Copperfield",
    "Glenwood",
    "Ravensworth",
    "Seacliff",
    "Windermere",
    "Amberley",
    "Blackwood",
    "Crowmarsh",
    "Dalton",
    "Everly",
    "Fernhill",
    "Goldcrest",
    "Hawthorne",
    "Ivybridge",
    "Juniper Bay",
];

const ISSUER_KINDS: [&str; 6] = ["Institute of Technology", "University", "Community College", "Academy", "Professional Association", "Training Centre"];
const EMPLOYER_KINDS: [&str; 8] = ["Logistics", "Health", "Energy", "Software", "Engineering", "Retail Group", "Bank", "Foods"];

const FIRST_NAMES: [&str; 40] = [
    "Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kiri", "Luca", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa",
    "Sam", "Tariq", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zara", "Aiko", "Bruno", "Carmen", "Diego", "Emeka", "Freya", "Goran", "Hana", "Ivan", "Jada",
    "Kofi", "Lena", "Mateo", "Noor",
];

const LAST_NAMES: [&str; 40] = [
    "Adeyemi",
    "Baker",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mensah",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Abbott",
    "Brennan",
    "Costa",
    "Dlamini",
    "Evans",
    "Ferreira",
    "Gupta",
    "Hughes",
    "Ibrahim",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Moreau",
    "Novak",
];

const FRAMEWORKS: [(&str, &str); 3] = [
    ("ESCO", "https://esco.ec.europa.eu/en/classification/skills"),
    ("O*NET-SOC", "https://www.onetonline.org/find/descriptor/browse/Skills"),
    ("SFIA 9", "https://sfia-online.org/en/sfia-9/skills"),
];

/// Draws from weights by binary search over their running sum.
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut sum = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                sum += w.max(0.0);
                sum
            })
            .collect();
        Weighted { cumulative }
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.r#gen::<f64>() * total;
        self.cumulative.partition_point(|&c| c <= x).min(self.cumulative.len().saturating_sub(1))
    }
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let v: f64 = rng.r#gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A log-normal number of days with the given median.
fn log_normal_days(rng: &mut StdRng, median: f64, sigma: f64, max: f64) -> Duration {
    let days = (median.ln() + sigma * normal(rng)).exp().min(max);
    Duration::seconds((days * 86_400.0) as i64)
}

/// What signing an issuer's credentials needs: the issuer, its key, and its revocation and
/// suspension list URLs.
type IssuerKeys = (Arc<Organisation>, Arc<Ed25519KeyPair>, String, String);

/// An issuer of the synthetic platform and what issuing needs of it.
struct Issuer {
    organisation: Arc<Organisation>,
    key: Arc<Ed25519KeyPair>,
    revocation_url: String,
    suspension_list_url: String,
    owner: UserId,
    assessors: Vec<UserId>,
    /// Indexes into the awardable achievements, most popular first.
    awardable: Vec<usize>,
    sampling_percent: u32,
    next_status_index: u64,
}

/// An achievement that can be awarded (a micro-badge or a micro-credential's level).
struct Awardable {
    achievement: Arc<Achievement>,
    issuer: usize,
    png_key: String,
    svg_key: String,
}

/// Seeds the synthetic platform; `progress` is told after each batch.
///
/// # Errors
/// `Conflict` when the database holds accounts already; store failures.
pub async fn seed(app: &App, options: &SyntheticOptions, progress: impl Fn(SyntheticProgress)) -> Result<SyntheticReport, AppError> {
    if app.store.holds_accounts().await? {
        return Err(AppError::conflict("the database already holds accounts: a synthetic platform is seeded into an empty database only"));
    }
    let mut rng = StdRng::seed_from_u64(options.seed);
    let now = app.now();
    let hash = app.passwords.hash(PASSWORD).await?;
    let issuer_count = options.issuers.unwrap_or_else(|| u32::try_from(options.awards / 5_000).unwrap_or(u32::MAX).clamp(5, 2_000)) as usize;
    let weights: Vec<f64> = (0..issuer_count).map(|i| 1.0 / ((i + 1) as f64).powf(0.8)).collect();
    let weight_sum: f64 = weights.iter().sum();
    let achievements_total = (options.awards / 330).max(30) as f64;

    let mut issuers = Vec::with_capacity(issuer_count);
    let mut awardables: Vec<Awardable> = Vec::new();
    let mut achievements_made = 0;
    for (i, weight) in weights.iter().enumerate() {
        let share = weight / weight_sum;
        let name = format!("{} {}", PLACES[i % PLACES.len()], ISSUER_KINDS[(i / PLACES.len()) % ISSUER_KINDS.len()]);
        let name = if i >= PLACES.len() * ISSUER_KINDS.len() { format!("{name} {}", i + 1) } else { name };
        let slug = format!("issuer-{}", i + 1);
        let owner = staff(app, &format!("owner@{slug}.{DOMAIN}"), &format!("{} Owner", PLACES[i % PLACES.len()]), &hash, now).await?;
        let profile = OrganisationProfile::parse(&OrganisationFields {
            name: name.clone(),
            url: format!("https://{slug}.example.edu"),
            email: Some(format!("badges@{slug}.example.edu")),
            description: Some(format!("{name} issues assessed micro-credentials for working professionals.")),
        })
        .map_err(|e| AppError::internal(&e))?;
        let organisation = app.store.create_organisation(&profile, OrganisationKind::Issuer, owner, now).await?;
        let assessor_count = ((share * 400.0).round() as usize).clamp(2, 40);
        let mut assessors = Vec::with_capacity(assessor_count);
        for a in 0..assessor_count {
            let (first, last) = (FIRST_NAMES[(i + a * 7) % FIRST_NAMES.len()], LAST_NAMES[(i * 3 + a) % LAST_NAMES.len()]);
            let email = format!("assessor-{}@{slug}.{DOMAIN}", a + 1);
            let user = staff(app, &email, &format!("{first} {last}"), &hash, now).await?;
            let email = Email::parse(&email).map_err(|e| AppError::internal(&std::io::Error::other(e)))?;
            app.store.add_member(organisation.id, &email, Role::Assessor, now).await?;
            assessors.push(user);
        }
        let sampling_percent = if i % 3 == 0 { 10 } else { 0 };
        let settings = IssuerSettings { sampling_percent, publish_outcomes: i % 2 == 0, ..IssuerSettings::default() };
        app.store.set_issuer_settings(organisation.id, &settings, now).await?;
        let (revocation, suspension) = app.store.ensure_status_lists(organisation.id, crate::awards::STATUS_LIST_LENGTH, now).await?;
        let key = app.store.signing_key(organisation.id).await?;

        // The catalog: popular issuers have more, each a micro-badge or (one in five) a
        // micro-credential of three levels.
        let count = ((achievements_total * share).round() as usize).clamp(3, 200);
        let mut names: Vec<(usize, usize)> = Vec::with_capacity(count);
        while names.len() < count {
            let pair = (rng.gen_range(0..TOPICS.len()), rng.gen_range(0..FACETS.len()));
            if !names.contains(&pair) {
                names.push(pair);
            }
        }
        let issuer_index = issuers.len();
        let mut awardable = Vec::new();
        for (topic, facet) in names {
            let micro_credential = rng.gen_bool(0.2);
            let fields = achievement_fields(&mut rng, topic, facet, micro_credential);
            let new = NewAchievement::parse(&fields).map_err(|e| AppError::internal(&std::io::Error::other(e.to_string())))?;
            let created = app.store.create_achievement(organisation.id, &new, owner, now).await?;
            app.store.set_achievement_state(created.id, State::Published, now).await?;
            achievements_made += 1;
            let targets = if micro_credential {
                let levels = app.store.levels(created.id).await?;
                achievements_made += levels.len();
                for level in &levels {
                    app.store.set_achievement_state(level.id, State::Published, now).await?;
                }
                levels
            } else {
                vec![created]
            };
            for target in targets {
                let achievement = app.store.achievement(target.id).await?;
                for assessor in assessors.iter().take(3) {
                    app.store.add_to_pool(achievement.id, *assessor, now).await?;
                }
                let svg = cairn_core::image::default_badge_svg(&achievement.content.name, achievement.kind.into(), &profile.name);
                let png = render_png(svg.as_bytes(), 256).map_err(|e| AppError::internal(&std::io::Error::other(e)))?;
                let svg_key = app.store.blobs().put("awards", "svg", svg.into_bytes()).await?;
                let png_key = app.store.blobs().put("awards", "png", png).await?;
                awardable.push(awardables.len());
                awardables.push(Awardable { achievement: Arc::new(achievement), issuer: issuer_index, png_key, svg_key });
            }
        }
        issuers.push(Issuer {
            organisation: Arc::new(organisation),
            key: Arc::new(key),
            revocation_url: status_list_url(&app.config, &revocation),
            suspension_list_url: status_list_url(&app.config, &suspension),
            owner,
            assessors,
            awardable,
            sampling_percent,
            next_status_index: 0,
        });
    }

    tracing::info!(issuers = issuers.len(), achievements = achievements_made, "catalogs ready");
    let mut employer_owner = String::new();
    for e in 0..options.employers as usize {
        let name = format!("{} {}", PLACES[(e * 11 + 5) % PLACES.len()], EMPLOYER_KINDS[e % EMPLOYER_KINDS.len()]);
        let name = if e >= EMPLOYER_KINDS.len() { format!("{name} {}", e + 1) } else { name };
        let email = format!("talent@employer-{}.{DOMAIN}", e + 1);
        let owner = staff(app, &email, &format!("{} Recruiter", FIRST_NAMES[e % FIRST_NAMES.len()]), &hash, now).await?;
        let profile = OrganisationProfile::parse(&OrganisationFields {
            name,
            url: format!("https://employer-{}.example.com", e + 1),
            email: None,
            description: Some("Hires people whose skills are assessed and verifiable.".into()),
        })
        .map_err(|e| AppError::internal(&e))?;
        app.store.create_organisation(&profile, OrganisationKind::Employer, owner, now).await?;
        if e == 0 {
            employer_owner = email;
        }
    }

    // Awards per learner: log-normal around the mean, then nudged to the exact total.
    let learners = options.learners.max(1) as usize;
    let mean = (options.awards as f64 / learners as f64).max(1.0);
    let sigma: f64 = 0.9;
    let mut counts: Vec<usize> =
        (0..learners).map(|_| ((mean.ln() - sigma * sigma / 2.0 + sigma * normal(&mut rng)).exp().round() as usize).clamp(1, MAX_AWARDS_PER_LEARNER)).collect();
    let mut total: u64 = counts.iter().map(|&c| c as u64).sum();
    let target = options.awards.min(learners as u64 * MAX_AWARDS_PER_LEARNER as u64).min(awardables.len() as u64 * learners as u64);
    while total != target {
        let n = rng.gen_range(0..learners);
        if total < target && counts[n] < MAX_AWARDS_PER_LEARNER.min(awardables.len()) {
            counts[n] += 1;
            total += 1;
        } else if total > target && counts[n] > 1 {
            counts[n] -= 1;
            total -= 1;
        }
    }

    let issuer_pick = Weighted::new(weights.iter().copied());
    // Popularity within a catalog falls off with rank.
    let rank_picks: Vec<Weighted> = issuers.iter().map(|i| Weighted::new((0..i.awardable.len()).map(|r| 1.0 / (r as f64 + 1.0)))).collect();
    let awardables = Arc::new(awardables);
    let issuer_keys: Arc<Vec<IssuerKeys>> =
        Arc::new(issuers.iter().map(|i| (i.organisation.clone(), i.key.clone(), i.revocation_url.clone(), i.suspension_list_url.clone())).collect());

    let mut report = SyntheticReport {
        issuers: issuers.len(),
        employers: options.employers as usize,
        achievements: achievements_made,
        learners: learners as u64,
        discoverable: 0,
        awards: 0,
        submissions: 0,
        issuer_owner: "owner@issuer-1.synthetic.cairn.test".into(),
        issuer: issuers[0].organisation.id,
        employer_owner,
        password: PASSWORD,
    };
    let mut written_learners = 0u64;
    let mut writing: Option<tokio::task::JoinHandle<Result<(u64, u64), AppError>>> = None;
    let mut batches = 0u64;
    for (chunk_index, chunk) in counts.chunks(LEARNERS_PER_BATCH).enumerate() {
        let mut batch = SyntheticBatch::default();
        let mut plans: Vec<Plan> = Vec::new();
        for (offset, &count) in chunk.iter().enumerate() {
            let n = chunk_index * LEARNERS_PER_BATCH + offset;
            let learner = learner(&mut rng, n, now);
            let discoverable = learner.discoverable;
            report.discoverable += u64::from(discoverable);
            // Mostly from one home issuer, the rest from anywhere.
            let home = issuer_pick.pick(&mut rng);
            let mut held: Vec<usize> = Vec::with_capacity(count);
            let mut tries = 0;
            while held.len() < count && tries < count * 20 {
                tries += 1;
                let issuer = if rng.gen_bool(0.7) { home } else { issuer_pick.pick(&mut rng) };
                let candidate = issuers[issuer].awardable[rank_picks[issuer].pick(&mut rng)];
                if held.contains(&candidate) || issuers[issuer].next_status_index >= crate::awards::STATUS_LIST_LENGTH {
                    continue;
                }
                issuers[issuer].next_status_index += 1;
                held.push(candidate);
                plans.push(plan(&mut rng, &mut issuers[issuer], &awardables[candidate], candidate, learner.id, &learner.email, discoverable, now));
            }
            // Some gave up after a "not yet", and some wait for a decision now.
            let extra = (count as f64 * 0.15).round() as usize + usize::from(rng.gen_bool(0.1));
            for _ in 0..extra {
                let issuer = if rng.gen_bool(0.8) { home } else { issuer_pick.pick(&mut rng) };
                let candidate = issuers[issuer].awardable[rank_picks[issuer].pick(&mut rng)];
                if held.contains(&candidate) {
                    continue;
                }
                held.push(candidate);
                batch.submissions.push(unfinished(&mut rng, &issuers[issuer], &awardables[candidate], learner.id, now));
            }
            batch.learners.push(learner);
        }
        // Signing, on every core.
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).max(1);
        let per_thread = plans.len().div_ceil(threads).max(1);
        let mut handles = Vec::new();
        let mut rest = plans;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(per_thread));
            let part = std::mem::replace(&mut rest, tail);
            let (config, awardables, keys) = (app.config.clone(), awardables.clone(), issuer_keys.clone());
            handles.push(tokio::task::spawn_blocking(move || {
                part.into_iter().map(|p| sign(&config, &awardables, &keys, p)).collect::<Result<Vec<_>, AppError>>()
            }));
        }
        for handle in handles {
            for (submission, award, sample) in handle.await.map_err(|e| AppError::internal(&e))?? {
                batch.submissions.push(submission);
                batch.awards.push(award);
                batch.samples.extend(sample);
            }
        }
        // The database writes this batch while the next one is drawn and signed.
        if let Some(previous) = writing.take() {
            let (written, awards) = previous.await.map_err(|e| AppError::internal(&e))??;
            written_learners += written;
            progress(SyntheticProgress { learners: written_learners, learners_total: learners as u64, awards });
        }
        report.awards += batch.awards.len() as u64;
        report.submissions += batch.submissions.len() as u64;
        let (store, hash, awards) = (app.store.clone(), hash.clone(), report.awards);
        batches += 1;
        let number = batches;
        writing = Some(tokio::spawn(async move {
            store.write_synthetic(&batch, &hash).await?;
            // The triggers' statements are planned from the statistics, and nothing may be
            // refreshing them (PostgreSQL without autovacuum): refreshed as the tables double.
            if number.is_power_of_two() {
                store.analyze().await?;
            }
            Ok::<_, AppError>((batch.learners.len() as u64, awards))
        }));
    }
    if let Some(last) = writing.take() {
        let (written, awards) = last.await.map_err(|e| AppError::internal(&e))??;
        written_learners += written;
        progress(SyntheticProgress { learners: written_learners, learners_total: learners as u64, awards });
    }
    tracing::info!(awards = report.awards, "refreshing the planner's statistics");
    app.store.rebuild_insight_days().await?;
    app.store.refresh_statistics().await?;
    Ok(report)
}

/// A staff account (owner, assessor, recruiter).
async fn staff(app: &App, email: &str, name: &str, hash: &str, now: OffsetDateTime) -> Result<UserId, AppError> {
    let email = Email::parse(email).map_err(|e| AppError::internal(&std::io::Error::other(e)))?;
    Ok(app.store.create_user(name, &email, hash, now).await?.id)
}

fn learner(rng: &mut StdRng, n: usize, now: OffsetDateTime) -> SyntheticLearner {
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let has_handle = rng.gen_bool(0.4);
    let discoverable = has_handle && rng.gen_bool(0.75);
    let joined = now - Duration::seconds((rng.r#gen::<f64>().powf(1.5) * HISTORY_DAYS * 86_400.0) as i64) - Duration::days(30);
    SyntheticLearner {
        id: UserId::new(),
        name: format!("{first} {last}"),
        email: format!("{}.{}.{n}@learners.{DOMAIN}", first.to_lowercase(), last.to_lowercase()),
        handle: has_handle.then(|| format!("{}-{}-{n}", first.to_lowercase(), last.to_lowercase())),
        discoverable,
        created_at: joined,
    }
}

/// A rubric, competencies and text for an achievement named after `TOPICS[topic]` and `FACETS[facet]`.
fn achievement_fields(rng: &mut StdRng, topic: usize, facet: usize, micro_credential: bool) -> NewAchievementFields {
    let name = format!("{}: {}", TOPICS[topic], FACETS[facet]);
    let content = |rng: &mut StdRng, name: &str, stage: &str| -> AchievementFields {
        let criteria_count = rng.gen_range(3..=4);
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < criteria_count {
            let c = rng.gen_range(0..CRITERIA.len());
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        let criteria = chosen
            .iter()
            .map(|&c| CriterionFields {
                id: None,
                name: CRITERIA[c].0.into(),
                description: CRITERIA[c].1.into(),
                required_level: "Proficient".into(),
                descriptors: DESCRIPTORS.iter().map(|d| d.to_string()).collect(),
            })
            .collect();
        let alignments = (0..rng.gen_range(1..=2))
            .map(|_| {
                let (framework, url) = FRAMEWORKS[rng.gen_range(0..FRAMEWORKS.len())];
                let code = format!(
                    "{}-{:03}",
                    framework.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_uppercase(),
                    topic * 10 + rng.gen_range(0..10)
                );
                AlignmentFields {
                    target_name: format!("{} ({})", TOPICS[topic], FACETS[rng.gen_range(0..FACETS.len())].to_lowercase()),
                    target_url: format!("{url}#{code}"),
                    target_description: None,
                    target_framework: Some(framework.into()),
                    target_code: Some(code),
                    target_type: Some("ceasn:Competency".into()),
                }
            })
            .collect();
        let validity = [None, None, Some(12), Some(24), Some(36)][rng.gen_range(0..5)];
        let fee = [None, None, None, Some("49"), Some("120"), Some("250")][rng.gen_range(0..6)];
        AchievementFields {
            name: name.into(),
            description: format!("Shows {stage} in {} ({}), assessed against a public rubric.", TOPICS[topic].to_lowercase(), FACETS[facet].to_lowercase()),
            criteria: format!(
                "Submit evidence of {stage} in {}: the work itself, a short account of how you did it, and a reflection of 150–300 words.",
                TOPICS[topic].to_lowercase()
            ),
            rubric: Some(RubricFields { levels: LEVELS.iter().map(|l| l.to_string()).collect(), criteria }),
            alignments,
            tags: TOPICS[topic].to_lowercase().split(' ').map(str::to_string).collect(),
            language: Some("en".into()),
            effort_hours: Some(f64::from(rng.gen_range(4..=40))),
            fee_amount: fee.map(str::to_string),
            fee_currency: fee.map(|_| "EUR".to_string()),
            validity_months: validity,
            credits_available: rng.gen_bool(0.3).then_some(1.0),
            ..Default::default()
        }
    };
    if micro_credential {
        let stages = ["foundations", "practice", "real-world application"];
        let levels = stages
            .iter()
            .enumerate()
            .map(|(i, stage)| content(rng, &format!("{} {}: {}", TOPICS[topic], ["I", "II", "III"][i], FACETS[facet]), stage))
            .collect();
        let mut credential = content(rng, &name, "the whole practice");
        credential.rubric = None;
        NewAchievementFields { kind: "micro-credential".into(), content: credential, levels, levels_in_any_order: false, requirements: None }
    } else {
        NewAchievementFields { kind: "micro-badge".into(), content: content(rng, &name, "competence"), ..Default::default() }
    }
}

/// Everything decided about one award before it is signed.
struct Plan {
    awardable: usize,
    issuer: usize,
    award: AwardId,
    learner: UserId,
    email: String,
    submission: SyntheticSubmission,
    judgement: Judgement,
    issued: OffsetDateTime,
    status: AwardStatus,
    privacy: Privacy,
    evidence_public: bool,
    status_index: u64,
    uses: Vec<SyntheticUse>,
    sample: Option<SyntheticSample>,
}

fn scores(rng: &mut StdRng, achievement: &Achievement, pass: bool) -> Vec<Score> {
    let criteria = achievement.content.rubric.as_ref().map(|r| r.criteria.clone()).unwrap_or_default();
    let weak = rng.gen_range(0..criteria.len().max(1));
    criteria
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let level = if pass {
                c.required_level + usize::from(rng.gen_bool(0.3))
            } else if i == weak {
                c.required_level.saturating_sub(1 + usize::from(rng.gen_bool(0.3)))
            } else {
                c.required_level.saturating_sub(usize::from(rng.gen_bool(0.4)))
            };
            Score { criterion: c.id.clone(), level: level.min(LEVELS.len() - 1), comment: String::new() }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn plan(
    rng: &mut StdRng,
    issuer: &mut Issuer,
    awardable: &Awardable,
    index: usize,
    learner: UserId,
    email: &str,
    discoverable: bool,
    now: OffsetDateTime,
) -> Plan {
    let achievement = &awardable.achievement;
    // More awards toward the present.
    let issued = now - Duration::seconds((rng.r#gen::<f64>().powf(1.4) * HISTORY_DAYS * 86_400.0) as i64) - Duration::hours(1);
    let attempts = match rng.r#gen::<f64>() {
        x if x < 0.78 => 1,
        x if x < 0.96 => 2,
        _ => 3,
    };
    let assessor_pick = |rng: &mut StdRng| issuer.assessors[rng.gen_range(0..issuer.assessors.len().min(3))];
    let mut decided = issued;
    let mut list: Vec<SyntheticAttempt> = Vec::new();
    let mut judgement = Judgement { scores: Vec::new(), feedback: String::new(), outcome: Outcome::Pass };
    for a in (0..attempts).rev() {
        let submitted = decided - log_normal_days(rng, 3.0, 0.8, 40.0);
        let pass = a == attempts - 1;
        let s = scores(rng, achievement, pass);
        if pass {
            judgement = Judgement { scores: s.clone(), feedback: "Scored against the rubric.".into(), outcome: Outcome::Pass };
        }
        let outcome = if pass { Outcome::Pass } else { Outcome::NotYet };
        list.push(SyntheticAttempt {
            submitted_at: submitted,
            due_at: submitted + Duration::days(20),
            assessor: assessor_pick(rng),
            decision: Some((decided, outcome, s)),
        });
        decided = submitted - log_normal_days(rng, 5.0, 0.6, 30.0);
    }
    list.reverse();
    let submission_id = SubmissionId::new();
    let last = list.last().cloned();
    let sample = (issuer.sampling_percent > 0 && rng.gen_range(0..100) < issuer.sampling_percent && issuer.assessors.len() > 1)
        .then_some(last.as_ref())
        .flatten()
        .and_then(|last| {
            let (at, outcome, first) = last.decision.clone()?;
            let second: Vec<Score> = first
                .iter()
                .map(|s| {
                    let shift: i64 = if rng.gen_bool(0.2) { if rng.gen_bool(0.5) { 1 } else { -1 } } else { 0 };
                    Score { level: (s.level as i64 + shift).clamp(0, LEVELS.len() as i64 - 1) as usize, ..s.clone() }
                })
                .collect();
            let required: Vec<usize> = achievement.content.rubric.as_ref().map(|r| r.criteria.iter().map(|c| c.required_level).collect()).unwrap_or_default();
            let second_pass = second.iter().zip(&required).all(|(s, r)| s.level >= *r);
            let second_outcome = if second_pass { Outcome::Pass } else { Outcome::NotYet };
            let second_assessor = issuer.assessors.iter().copied().find(|a| *a != last.assessor).unwrap_or(issuer.owner);
            Some(SyntheticSample {
                submission: submission_id,
                attempt: u32::try_from(attempts).unwrap_or(1),
                organisation: issuer.organisation.id,
                achievement: achievement.id,
                first: (last.assessor, first, outcome),
                second: (second_assessor, second, second_outcome),
                first_at: at - Duration::days(1),
                second_at: at,
                moderation: (second_outcome != outcome).then_some((issuer.owner, outcome)),
            })
        });
    let privacy = {
        let x: f64 = rng.r#gen();
        let public = if discoverable { 0.7 } else { 0.25 };
        if x < public {
            Privacy::Public
        } else if x < public + 0.15 {
            Privacy::Unlisted
        } else {
            Privacy::Private
        }
    };
    let status = match rng.r#gen::<f64>() {
        x if x < 0.01 => AwardStatus::Revoked,
        x if x < 0.015 => AwardStatus::Suspended,
        _ => AwardStatus::Active,
    };
    let uses = if privacy == Privacy::Private {
        Vec::new()
    } else {
        let mut uses: Vec<SyntheticUse> = Vec::new();
        for _ in 0..rng.gen_range(1..=3) {
            let after = Duration::seconds((rng.r#gen::<f64>() * (now - issued).whole_seconds() as f64) as i64);
            // Drawn before the day is checked, so that the draws do not depend on the time of day.
            let used = SyntheticUse {
                day: issued + after,
                views: rng.gen_range(0..8),
                shares: u32::from(rng.gen_bool(0.15)),
                verifications: u32::from(rng.gen_bool(0.25)) + u32::from(rng.gen_bool(0.05)),
            };
            // One row per day.
            if !uses.iter().any(|u| u.day.unix_timestamp().div_euclid(86_400) == used.day.unix_timestamp().div_euclid(86_400)) {
                uses.push(used);
            }
        }
        uses
    };
    let submission = SyntheticSubmission {
        id: submission_id,
        achievement: achievement.id,
        organisation: issuer.organisation.id,
        learner,
        status: Status::Awarded,
        overview: format!("My evidence for {}.", achievement.content.name),
        reflection: "What I did, what I would change, and what I learned from the feedback.".into(),
        attempts: list,
    };
    Plan {
        awardable: index,
        issuer: awardable.issuer,
        award: AwardId::new(),
        learner,
        email: email.to_string(),
        submission,
        judgement,
        issued,
        status,
        privacy,
        evidence_public: privacy != Privacy::Private && rng.gen_bool(0.3),
        status_index: issuer.next_status_index - 1,
        uses,
        sample,
    }
}

/// A submission that was not (yet) awarded: given up after a "not yet", or waiting now.
fn unfinished(rng: &mut StdRng, issuer: &Issuer, awardable: &Awardable, learner: UserId, now: OffsetDateTime) -> SyntheticSubmission {
    let achievement = &awardable.achievement;
    let assessor = issuer.assessors[rng.gen_range(0..issuer.assessors.len().min(3))];
    let waiting = rng.gen_bool(0.3);
    let (status, attempt) = if waiting {
        let submitted = now - log_normal_days(rng, 4.0, 0.7, 25.0);
        let status = if rng.gen_bool(0.5) { Status::Submitted } else { Status::InReview };
        (status, SyntheticAttempt { submitted_at: submitted, due_at: submitted + Duration::days(20), assessor, decision: None })
    } else {
        let decided = now - Duration::seconds((rng.r#gen::<f64>().powf(1.4) * HISTORY_DAYS * 86_400.0) as i64) - Duration::hours(1);
        let submitted = decided - log_normal_days(rng, 3.0, 0.8, 40.0);
        let s = scores(rng, achievement, false);
        (
            Status::NotYet,
            SyntheticAttempt { submitted_at: submitted, due_at: submitted + Duration::days(20), assessor, decision: Some((decided, Outcome::NotYet, s)) },
        )
    };
    SyntheticSubmission {
        id: SubmissionId::new(),
        achievement: achievement.id,
        organisation: issuer.organisation.id,
        learner,
        status,
        overview: format!("My evidence for {}.", achievement.content.name),
        reflection: "What I did and what I would change.".into(),
        attempts: vec![attempt],
    }
}

type Signed = (SyntheticSubmission, SyntheticAward, Option<SyntheticSample>);

/// Signs one planned award (Data Integrity, VC-JWT, OB 2.0).
fn sign(config: &crate::config::Config, awardables: &[Awardable], issuers: &[IssuerKeys], plan: Plan) -> Result<Signed, AppError> {
    let awardable = &awardables[plan.awardable];
    let (organisation, key, revocation, suspension) = &issuers[plan.issuer];
    let achievement = &awardable.achievement;
    let salt = random_salt();
    let valid_until = cairn_core::award::valid_until(plan.issued, achievement.content.validity_months);
    let forms = sign_forms(&CredentialInput {
        config,
        award: plan.award,
        achievement,
        organisation,
        email: &plan.email,
        salt: &salt,
        judgement: Some(&plan.judgement),
        issued: plan.issued,
        valid_until,
        revocation_list_url: revocation,
        suspension_list_url: suspension,
        key,
        index: plan.status_index,
    })?;
    let award = NewAward {
        id: plan.award,
        achievement: achievement.id,
        achievement_version: achievement.version,
        organisation: organisation.id,
        learner: plan.learner,
        submission: Some(plan.submission.id),
        issued_at: plan.issued,
        valid_until,
        status_index: plan.status_index,
        recipient_salt: salt,
        results_json: forms.results_json,
        credential_json: forms.credential_json,
        jwt: forms.jwt,
        ob2_json: forms.ob2_json,
        png_key: awardable.png_key.clone(),
        svg_key: awardable.svg_key.clone(),
        privacy: plan.privacy,
        recognition: None,
        renews: None,
        offer: None,
    };
    Ok((plan.submission, SyntheticAward { award, status: plan.status, evidence_public: plan.evidence_public, uses: plan.uses }, plan.sample))
}
