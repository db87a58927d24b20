//! The synthetic platform for benchmarks (`cairn synthetic`), seeded small on each backend: it
//! refuses a database that holds accounts, and what it seeds is a working platform — employers
//! find its discoverable learners, its credentials are signed, its issuers see their insight.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_bare_app};
use cairn_app::synthetic::{PASSWORD, SyntheticOptions, seed};
use cairn_core::discovery::{TalentFields, TalentQuery};
use cairn_store::TalentTuning;

const OPTIONS: SyntheticOptions = SyntheticOptions { learners: 60, awards: 420, issuers: Some(3), employers: 2, seed: 7 };

async fn seeds_a_working_platform(app: &TestApp) {
    let progress = std::sync::Mutex::new(Vec::new());
    let report = seed(&app.state.app, &OPTIONS, |p| progress.lock().unwrap().push(p)).await.unwrap();
    assert_eq!((report.issuers, report.employers, report.learners, report.awards), (3, 2, 60, 420), "{report:?}");
    assert!(report.achievements >= 9, "{report:?}");
    assert!(report.submissions > report.awards, "some submissions were not (yet) awarded: {report:?}");
    assert!(report.discoverable > 0 && report.discoverable < 60, "{report:?}");
    let progress = progress.into_inner().unwrap();
    assert_eq!(progress.last().map(|p| (p.learners, p.awards)), Some((60, 420)), "{progress:?}");

    // A second run refuses: the database holds accounts now.
    let again = seed(&app.state.app, &OPTIONS, |_| {}).await.unwrap_err();
    assert!(again.to_string().contains("empty database"), "{again}");

    // Employers find discoverable learners, and only their public awards.
    let employer = app.token(&report.employer_owner, PASSWORD).await;
    let all = app.get("/api/v1/talent?limit=50", Some(&employer)).await.json();
    let total = all["total"].as_u64().unwrap();
    assert!(total > 0 && total <= report.discoverable, "{total} of {} discoverable", report.discoverable);
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, total.min(50));
    let mut award_ids = Vec::new();
    for item in items {
        assert!(item["learner"]["handle"].as_str().is_some_and(|h| !h.is_empty()), "{item}");
        let awards = item["awards"].as_array().unwrap();
        assert!(!awards.is_empty(), "{item}");
        award_ids.extend(awards.iter().filter_map(|a| a["id"].as_str().map(str::to_string)));
    }
    // Narrower searches find fewer learners, each of them among the unfiltered ones.
    let recent = app.get("/api/v1/talent?recent_days=90&limit=50", Some(&employer)).await.json();
    assert!(recent["total"].as_u64().unwrap() <= total, "{recent}");
    let unexpired = app.get("/api/v1/talent?unexpired=true&recent_days=365&limit=50", Some(&employer)).await.json();
    assert!(unexpired["total"].as_u64().unwrap() <= total, "{unexpired}");
    let issuer_filter = app.get(&format!("/api/v1/talent?issuer={}&limit=50", report.issuer), Some(&employer)).await.json();
    let by_issuer = issuer_filter["total"].as_u64().unwrap();
    assert!(by_issuer > 0 && by_issuer <= total, "{issuer_filter}");
    for item in issuer_filter["items"].as_array().unwrap() {
        for award in item["awards"].as_array().unwrap() {
            assert_eq!(award["issuer"]["id"], report.issuer.to_string(), "{award}");
        }
    }

    // Both ways of searching by award (gathering the matching awards, or walking the learners in
    // order) find the same learners in the same order; counts stop at the cap.
    let store = &app.state.app.store;
    let now = time::OffsetDateTime::now_utc();
    let word = items[0]["awards"][0]["achievement"]["name"].as_str().unwrap().split_whitespace().next().unwrap().to_lowercase();
    let searches = [
        TalentFields { q: Some(word), ..TalentFields::default() },
        TalentFields { issuer: Some(report.issuer.to_string()), limit: Some(5), ..TalentFields::default() },
        TalentFields { issuer: Some(report.issuer.to_string()), limit: Some(5), offset: Some(5), ..TalentFields::default() },
        TalentFields { unexpired: Some(true), recent_days: Some("365".into()), ..TalentFields::default() },
        TalentFields::default(),
    ];
    let handles = |page: &cairn_store::TalentPage| page.hits.iter().map(|h| h.talent.handle.clone()).collect::<Vec<_>>();
    let awards_of = |page: &cairn_store::TalentPage| page.hits.iter().flat_map(|h| h.awards.iter().map(|a| a.award.id)).collect::<Vec<_>>();
    for fields in searches {
        let query = TalentQuery::parse(&fields).unwrap();
        let tuned = |broad_match, count_cap| store.search_talent_tuned(&query, now, TalentTuning { broad_match, count_cap });
        let gathered = tuned(u64::MAX, 1_000).await.unwrap();
        let walked = tuned(1, 1_000).await.unwrap();
        assert!(gathered.total > 0 && !gathered.capped, "{fields:?}: {gathered:?}");
        assert_eq!((handles(&walked), walked.total, walked.capped), (handles(&gathered), gathered.total, false), "{fields:?}");
        assert_eq!(awards_of(&walked), awards_of(&gathered), "{fields:?}");
        let cap = gathered.total - 1;
        for page in [tuned(u64::MAX, cap).await.unwrap(), tuned(1, cap).await.unwrap()] {
            assert_eq!((page.total, page.capped, handles(&page)), (cap, true, handles(&gathered)), "{fields:?}");
        }
    }

    // Each award listed carries a signed credential, reachable by anyone.
    let award = award_ids.first().expect("a listed award");
    let credential = app.get(&format!("/awards/{award}/credential"), None).await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let credential = credential.json();
    assert_eq!(credential["proof"][0]["cryptosuite"], "eddsa-rdfc-2022", "{credential}");
    assert!(credential["credentialSubject"]["result"].as_array().is_some_and(|r| !r.is_empty()), "{credential}");

    // The largest issuer's owner sees its insight over the seeded history.
    let owner = app.token(&report.issuer_owner, PASSWORD).await;
    let today = time::OffsetDateTime::now_utc().date();
    let from = today - time::Duration::days(3 * 366);
    let insight = app.get(&format!("/api/v1/organisations/{}/insights?from={from}&to={today}", report.issuer), Some(&owner)).await;
    assert_eq!(insight.status, 200, "{}", insight.text());
    let insight = insight.json();
    let decisions = insight["time_to_decision"]["decisions"].as_u64().unwrap();
    assert!(decisions > 0, "{insight}");
    assert!(insight["assessors"].as_array().is_some_and(|a| !a.is_empty()), "{insight}");
}

async fn refuses_a_database_with_accounts(app: &TestApp) {
    let refused = seed(&app.state.app, &OPTIONS, |_| {}).await.unwrap_err();
    assert!(refused.to_string().contains("already holds accounts"), "{refused}");
    let listed = app.get("/api/v1/achievements", None).await.json();
    assert!(listed["items"].as_array().unwrap().iter().all(|a| a["issuer"]["name"] == "Northbridge Institute of Technology"), "{listed}");
}

#[tokio::test]
async fn sqlite_seeds_a_working_platform() {
    let app = spawn_bare_app(Backend::Sqlite).await;
    seeds_a_working_platform(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn postgres_seeds_a_working_platform() {
    let app = spawn_bare_app(Backend::Postgres).await;
    seeds_a_working_platform(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn sqlite_refuses_a_database_with_accounts() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    refuses_a_database_with_accounts(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn postgres_refuses_a_database_with_accounts() {
    let app = spawn_app(Backend::Postgres).await.unwrap();
    refuses_a_database_with_accounts(&app).await;
    app.finish().await;
}
