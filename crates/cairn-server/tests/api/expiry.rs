//! Expiry reminders: a learner is told 90, 30 and 7 days before an award expires, in the app and
//! by e-mail, each reminder once; a reminder whose moment passed before the award existed is not
//! sent late, and revoked, suspended or expired awards get none.

use std::sync::Arc;

use crate::helpers::{FixedClock, TestApp};
use crate::issuing::{LEARNER, actor, demo_achievements, request, user};
use cairn_app::App;
use cairn_app::awards;
use cairn_app::jobs::remind_expiring;
use cairn_core::achievement::{Achievement, Kind};
use cairn_core::award::StatusAction;
use cairn_core::notification::NotificationKind;
use time::{Duration, OffsetDateTime};

fn at(app: &TestApp, now: OffsetDateTime) -> App {
    let mut at = app.state.app.clone();
    at.clock = Arc::new(FixedClock(now));
    at
}

/// A demo micro-badge that expires.
async fn expiring_badge(app: &TestApp) -> Achievement {
    demo_achievements(app).await.into_iter().find(|a| a.kind == Kind::MicroBadge && a.content.validity_months.is_some()).expect("a demo badge expires")
}

async fn reminders(app: &TestApp) -> Vec<String> {
    let learner = user(app, LEARNER).await;
    let mut subjects: Vec<String> = app
        .state
        .app
        .store
        .notifications(learner, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == NotificationKind::AwardExpiring)
        .map(|n| n.subject)
        .collect();
    subjects.reverse();
    subjects
}

/// Runs the reminder job at `now` and counts the reminders the learner got (the demo graduate holds
/// badges too, reminded by the same run).
async fn remind(app: &TestApp, now: OffsetDateTime) -> usize {
    let before = reminders(app).await.len();
    remind_expiring(&at(app, now)).await.unwrap();
    reminders(app).await.len() - before
}

backend_test!(learners_are_reminded_ninety_thirty_and_seven_days_before_an_award_expires, |app| {
    let badge = expiring_badge(app).await;
    let award = awards::award(&app.state.app, request(user(app, LEARNER).await, &badge)).await.unwrap();
    let until = award.valid_until.unwrap();
    let name = &badge.content.name;

    for (before, sent) in [
        (Duration::days(120), 0),
        (Duration::days(89), 1),
        (Duration::days(88), 0),
        (Duration::days(40), 0),
        (Duration::days(29), 1),
        (Duration::days(6), 1),
        (Duration::hours(20), 0),
    ] {
        assert_eq!(remind(app, until - before).await, sent, "{before} before expiry");
    }
    assert_eq!(remind(app, until + Duration::days(1)).await, 0, "an expired award gets no reminder");
    assert_eq!(
        reminders(app).await,
        [format!("\"{name}\" expires in 89 days"), format!("\"{name}\" expires in 29 days"), format!("\"{name}\" expires in 6 days")]
    );
    let learner = user(app, LEARNER).await;
    let notice = app.state.app.store.notifications(learner, 1).await.unwrap().remove(0);
    assert_eq!(notice.link, format!("/awards/{}", award.id));
    assert!(notice.body.contains(&cairn_app::notify::format_day(until)), "{}", notice.body);
    let mails = app.state.app.store.outbox(100).await.unwrap();
    assert_eq!(mails.iter().filter(|m| m.to == LEARNER && m.subject.contains("expires in")).count(), 3, "each reminder is also an e-mail");
});

backend_test!(a_reminder_due_before_the_award_existed_is_not_sent_late_and_inactive_awards_get_none, |app| {
    let badge = expiring_badge(app).await;
    let award = awards::award(&app.state.app, request(user(app, LEARNER).await, &badge)).await.unwrap();
    let until = award.valid_until.unwrap();
    // Twenty days left at the first run: the 30-day reminder, never the 90-day one afterwards.
    assert_eq!(remind(app, until - Duration::days(20)).await, 1);
    assert_eq!(remind(app, until - Duration::days(19)).await, 0);
    assert_eq!(reminders(app).await, [format!("\"{}\" expires in 20 days", badge.content.name)]);

    let issuer = actor(app, "issuer@demo.cairn.test").await;
    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Suspend, Some("under review".into())).await.unwrap();
    assert_eq!(remind(app, until - Duration::days(5)).await, 0, "a suspended award is not current");
    awards::set_status(&app.state.app, &issuer, award.id, StatusAction::Reinstate, None).await.unwrap();
    assert_eq!(remind(app, until - Duration::days(5)).await, 1, "reinstated, it is reminded again");
});
