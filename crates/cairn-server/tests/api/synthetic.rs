//! The synthetic platform for benchmarks (`cairn synthetic`), seeded small on each backend: it
//! refuses a database that holds accounts, and what it seeds is a working platform — employers
//! find its discoverable learners, its credentials are signed, its issuers see their insight.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_bare_app};
use cairn_app::synthetic::{PASSWORD, SyntheticOptions, seed};

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
