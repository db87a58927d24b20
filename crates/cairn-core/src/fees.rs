//! The fee rule, in one place: what a submission is charged ([`charge`]), the fee state it starts
//! in ([`Charge::opening_state`]), whether settling it settles the learner's other levels of the
//! same micro-credential ([`Charge::covers_every_level`]), and the words every page and the API
//! use for a fee ([`fee_label`], [`fee_terms`]).
//!
//! A micro-badge is charged its own fee. A micro-credential is earned by its levels, so its fee
//! is charged on their submissions, as its [`FeePlan`] says: `Upfront`, the whole fee before the
//! first level is assessed, paid once for all three (settling it on one level's submission
//! settles it on the others); `PerLevel`, a third per level (the first level takes the odd
//! cents), each due before that level is assessed. A level of a free micro-credential is charged
//! its own fee, as a micro-badge is.

use crate::achievement::{Achievement, Fee, FeePlan, Kind};
use crate::submission::FeeState;

/// What one submission is charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    Free,
    /// The achievement's own fee.
    Own(Fee),
    /// A micro-credential's whole fee, paid once for every level.
    WholeStack(Fee),
    /// This level's share of the micro-credential's fee (`whole`).
    Share {
        share: Fee,
        whole: Fee,
    },
}

impl Charge {
    /// The amount charged in minor units and its currency; `None` when free.
    pub fn due_amount(&self) -> Option<(i64, String)> {
        let fee = match self {
            Charge::Free => return None,
            Charge::Own(fee) | Charge::WholeStack(fee) | Charge::Share { share: fee, .. } => fee,
        };
        match fee {
            Fee::Paid { amount_minor, currency } if *amount_minor > 0 => Some((*amount_minor, currency.clone())),
            _ => None,
        }
    }
}

/// What a submission for `achievement` is charged; `parent` is the micro-credential of a level.
pub fn charge(achievement: &Achievement, parent: Option<&Achievement>) -> Charge {
    if let (Kind::Level(level), Some(parent)) = (achievement.kind, parent) {
        let whole = &parent.content.fee;
        if !whole.is_free() {
            return match parent.content.fee_plan {
                FeePlan::Upfront => Charge::WholeStack(whole.clone()),
                FeePlan::PerLevel => Charge::Share { share: level_share(whole, level), whole: whole.clone() },
            };
        }
    }
    match &achievement.content.fee {
        Fee::Free => Charge::Free,
        fee => Charge::Own(fee.clone()),
    }
}

/// Level `level`'s third of a micro-credential's fee; the first level takes what does not divide.
pub fn level_share(whole: &Fee, level: u8) -> Fee {
    match whole {
        Fee::Free => Fee::Free,
        Fee::Paid { amount_minor, currency } => {
            let third = amount_minor / 3;
            let amount_minor = if level == 1 { amount_minor - 2 * third } else { third };
            Fee::Paid { amount_minor, currency: currency.clone() }
        }
    }
}

impl Charge {
    /// What the submission owes, `None` when free.
    pub fn amount(&self) -> Option<&Fee> {
        match self {
            Charge::Free => None,
            Charge::Own(fee) | Charge::WholeStack(fee) => Some(fee),
            Charge::Share { share, .. } => Some(share),
        }
    }

    /// Whether settling this charge on one level's submission settles it on the learner's
    /// submissions for the micro-credential's other levels.
    pub fn covers_every_level(&self) -> bool {
        matches!(self, Charge::WholeStack(_))
    }

    /// The fee state a new submission starts in. `settled_before` is how the learner settled
    /// the whole micro-credential fee on another level's submission, if they did: a
    /// [`Charge::WholeStack`] is then settled the same way; every other charge is due afresh.
    pub fn opening_state(&self, settled_before: Option<&FeeState>) -> FeeState {
        match (self, settled_before) {
            (Charge::Free, _) => FeeState::None,
            (Charge::WholeStack(_), Some(settled)) if settled.is_settled() && *settled != FeeState::None => settled.clone(),
            _ => FeeState::Due,
        }
    }
}

/// The fee in a few words, the same on every page and in the API: "Free", "49.00 EUR",
/// "120.00 EUR, once for all three levels", "120.00 EUR, 40.00 EUR per level"; for a level,
/// what that level's submission is charged ("120.00 EUR for all three levels, paid once",
/// "40.00 EUR, this level's share of 120.00 EUR").
pub fn fee_label(achievement: &Achievement, parent: Option<&Achievement>) -> String {
    if achievement.kind == Kind::MicroCredential {
        let fee = &achievement.content.fee;
        return match (fee, achievement.content.fee_plan) {
            (Fee::Free, _) => "Free".to_string(),
            (_, FeePlan::Upfront) => format!("{fee}, once for all three levels"),
            (_, FeePlan::PerLevel) => {
                let (first, other) = (level_share(fee, 1), level_share(fee, 2));
                if first == other { format!("{fee}, {other} per level") } else { format!("{fee}, {first} for level 1 and {other} for each other level") }
            }
        };
    }
    match charge(achievement, parent) {
        Charge::Free => "Free".to_string(),
        Charge::Own(fee) => fee.to_string(),
        Charge::WholeStack(fee) => format!("{fee} for all three levels, paid once"),
        Charge::Share { share, whole } => format!("{share}, this level's share of {whole}"),
    }
}

/// The fee rule as a sentence, said before anyone applies and on the submission.
pub fn fee_terms(achievement: &Achievement, parent: Option<&Achievement>) -> String {
    if achievement.kind == Kind::MicroCredential {
        return match (&achievement.content.fee, achievement.content.fee_plan) {
            (Fee::Free, _) => "Fee: free.".to_string(),
            (fee, FeePlan::Upfront) => {
                format!("Fee: {fee}, paid once before the first level is assessed; it covers all three levels. A voucher from the issuer also covers it.")
            }
            (_, FeePlan::PerLevel) => format!(
                "Fee: {}. Each level's share is due before that level is assessed. A voucher from the issuer covers one level's share.",
                fee_label(achievement, parent)
            ),
        };
    }
    match charge(achievement, parent) {
        Charge::Free => "Fee: free.".to_string(),
        Charge::Own(fee) => format!("Fee: {fee}, due before your work is assessed. A voucher from the issuer also covers it."),
        Charge::WholeStack(fee) => format!(
            "Fee: {fee} for the whole micro-credential, paid once before its first level is assessed; it covers all three levels. A voucher from the issuer also covers it."
        ),
        Charge::Share { share, whole } => format!(
            "Fee: {share}, this level's share of the micro-credential's {whole}, due before this level is assessed. A voucher from the issuer also covers it."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::achievement::{AchievementContent, State};
    use crate::ids::{AchievementId, OrganisationId};
    use time::OffsetDateTime;

    fn achievement(kind: Kind, fee: Fee, plan: FeePlan) -> Achievement {
        let mut fields = crate::achievement::tests::valid_fields("Data");
        fields.fee_amount = fee.amount_text();
        fields.fee_currency = match &fee {
            Fee::Free => None,
            Fee::Paid { currency, .. } => Some(currency.clone()),
        };
        let mut content = AchievementContent::parse(&fields, Kind::MicroBadge).unwrap();
        content.fee_plan = plan;
        Achievement {
            id: AchievementId::new(),
            organisation: OrganisationId::new(),
            kind,
            parent: None,
            state: State::Published,
            version: 1,
            content,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            published_at: None,
            levels_in_any_order: false,
            rule: None,
        }
    }

    fn eur(amount_minor: i64) -> Fee {
        Fee::Paid { amount_minor, currency: "EUR".into() }
    }

    #[test]
    fn a_level_is_charged_by_its_micro_credentials_plan() {
        let level = |n| achievement(Kind::Level(n), Fee::Free, FeePlan::Upfront);
        let upfront = achievement(Kind::MicroCredential, eur(12_000), FeePlan::Upfront);
        let split = achievement(Kind::MicroCredential, eur(10_000), FeePlan::PerLevel);
        let free = achievement(Kind::MicroCredential, Fee::Free, FeePlan::Upfront);
        assert_eq!(charge(&level(2), Some(&upfront)), Charge::WholeStack(eur(12_000)));
        assert_eq!(charge(&level(1), Some(&split)), Charge::Share { share: eur(3_334), whole: eur(10_000) });
        assert_eq!(charge(&level(3), Some(&split)), Charge::Share { share: eur(3_333), whole: eur(10_000) });
        assert_eq!(charge(&level(1), Some(&free)), Charge::Free);
        let priced_level = achievement(Kind::Level(1), eur(500), FeePlan::Upfront);
        assert_eq!(charge(&priced_level, Some(&free)), Charge::Own(eur(500)), "a free micro-credential's level keeps its own fee");
        let badge = achievement(Kind::MicroBadge, eur(4_900), FeePlan::Upfront);
        assert_eq!(charge(&badge, None), Charge::Own(eur(4_900)));
    }

    #[test]
    fn a_whole_stack_fee_paid_once_covers_every_level() {
        let whole = Charge::WholeStack(eur(12_000));
        assert_eq!(whole.opening_state(None), FeeState::Due);
        assert_eq!(whole.opening_state(Some(&FeeState::Paid)), FeeState::Paid);
        assert_eq!(whole.opening_state(Some(&FeeState::Voucher("A-1".into()))), FeeState::Voucher("A-1".into()));
        assert_eq!(whole.opening_state(Some(&FeeState::Due)), FeeState::Due);
        assert_eq!(whole.opening_state(Some(&FeeState::None)), FeeState::Due, "a level started while the stack was free paid nothing");
        assert!(whole.covers_every_level());
        let share = Charge::Share { share: eur(4_000), whole: eur(12_000) };
        assert_eq!(share.opening_state(Some(&FeeState::Paid)), FeeState::Due, "each share is paid on its own");
        assert!(!share.covers_every_level());
        assert_eq!(Charge::Free.opening_state(None), FeeState::None);
    }

    #[test]
    fn fees_read_the_same_everywhere() {
        let upfront = achievement(Kind::MicroCredential, eur(12_000), FeePlan::Upfront);
        let split = achievement(Kind::MicroCredential, eur(12_000), FeePlan::PerLevel);
        let odd = achievement(Kind::MicroCredential, eur(10_000), FeePlan::PerLevel);
        let level = achievement(Kind::Level(2), Fee::Free, FeePlan::Upfront);
        assert_eq!(fee_label(&upfront, None), "120.00 EUR, once for all three levels");
        assert_eq!(fee_label(&split, None), "120.00 EUR, 40.00 EUR per level");
        assert_eq!(fee_label(&odd, None), "100.00 EUR, 33.34 EUR for level 1 and 33.33 EUR for each other level");
        assert_eq!(fee_label(&level, Some(&upfront)), "120.00 EUR for all three levels, paid once");
        assert_eq!(fee_label(&level, Some(&split)), "40.00 EUR, this level's share of 120.00 EUR");
        assert_eq!(fee_label(&achievement(Kind::MicroBadge, Fee::Free, FeePlan::Upfront), None), "Free");
        assert!(fee_terms(&level, Some(&upfront)).contains("paid once before its first level is assessed"));
        assert!(fee_terms(&split, None).contains("Each level's share is due before that level is assessed"));
    }
}
