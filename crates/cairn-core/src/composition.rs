//! Achievements made of other achievements: credit hours, the order in which a
//! micro-credential's levels are taken, and the rule that says when a certificate (or a
//! micro-credential composed of existing micro-badges) is earned from the components held.
//!
//! "Held" is always the caller's list of achievements the learner holds an active award for (one
//! function in the application layer decides it), so recognised prior learning counts wherever
//! it is added there.

use crate::achievement::Kind;
use crate::ids::{AchievementId, OrganisationId};
use crate::invalid::{self, Invalid};
use std::fmt;

/// Most components of one certificate or composed micro-credential.
pub const MAX_COMPONENTS: usize = 30;
/// Fewest components of a composed micro-credential (its levels) and of a certificate.
pub const MIN_COMPONENTS: usize = 2;
/// Most credit hours an achievement can carry.
pub const MAX_CREDITS: f64 = 10_000.0;

/// Credit hours, kept exactly in hundredths (`1.5` is 150).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Credits(pub u32);

impl Credits {
    /// Parses a decimal number of credit hours: above 0, at most [`MAX_CREDITS`], at most two
    /// decimals.
    ///
    /// # Errors
    /// The sentence to show at the field.
    pub fn parse(hours: f64) -> Result<Credits, String> {
        let hundredths = hours * 100.0;
        if !hours.is_finite() || hours <= 0.0 || hours > MAX_CREDITS {
            return Err(format!("{hours} is not between 0 and {MAX_CREDITS} credit hours"));
        }
        if (hundredths - hundredths.round()).abs() > 1e-6 {
            return Err(format!("{hours} has more than two decimals"));
        }
        Ok(Credits(hundredths.round() as u32))
    }

    /// The number as the API and OB 3.0 write it (`1.5`).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Credits {
    /// `3`, `1.5`, `0.25`: no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}"),
            n if n.is_multiple_of(10) => write!(f, "{whole}.{}", n / 10),
            n => write!(f, "{whole}.{n:02}"),
        }
    }
}

/// When a certificate is earned from its components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Every component held.
    All,
    /// At least `n` of the components held.
    NOf(u32),
    /// Components held whose credit hours add up to at least this many.
    MinCredits(Credits),
}

impl Rule {
    /// The API and storage name: `all`, `n_of` or `min_credits`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::All => "all",
            Rule::NOf(_) => "n_of",
            Rule::MinCredits(_) => "min_credits",
        }
    }

    /// Builds a rule from its name and parameter, as stored or sent.
    ///
    /// # Errors
    /// Pointers `/requirements/rule`, `/requirements/n`, `/requirements/min_credits`.
    pub fn parse(name: &str, n: Option<i64>, min_credits: Option<f64>) -> Result<Rule, Invalid> {
        match name.trim() {
            "all" => Ok(Rule::All),
            "n_of" => match n {
                Some(n) if (1..=MAX_COMPONENTS as i64).contains(&n) => Ok(Rule::NOf(n as u32)),
                Some(n) => Err(Invalid::one("/requirements/n", format!("{n} is not between 1 and {MAX_COMPONENTS}"))),
                None => Err(Invalid::one("/requirements/n", "is required for the n_of rule")),
            },
            "min_credits" => match min_credits.map(Credits::parse) {
                Some(Ok(credits)) => Ok(Rule::MinCredits(credits)),
                Some(Err(detail)) => Err(Invalid::one("/requirements/min_credits", detail)),
                None => Err(Invalid::one("/requirements/min_credits", "is required for the min_credits rule")),
            },
            other => Err(Invalid::one("/requirements/rule", format!("\"{}\" is not a rule (all, n_of or min_credits)", invalid::clip(other)))),
        }
    }

    /// Whether holding `held` meets the rule over `components`.
    pub fn met(self, components: &[Component], held: &[AchievementId]) -> bool {
        let held_components = || components.iter().filter(|c| held.contains(&c.id));
        match self {
            Rule::All => !components.is_empty() && components.iter().all(|c| held.contains(&c.id)),
            Rule::NOf(n) => held_components().count() >= n as usize,
            Rule::MinCredits(min) => held_components().map(|c| c.credits.map_or(0, |c| c.0)).sum::<u32>() >= min.0,
        }
    }

    /// How far holding `held` is towards the rule, in words: "1 of 3 held", "1 of the 2 needed
    /// held", "6 of 8 credit hours held".
    pub fn progress(self, components: &[Component], held: &[AchievementId]) -> String {
        let held_components: Vec<&Component> = components.iter().filter(|c| held.contains(&c.id)).collect();
        match self {
            Rule::All => format!("{} of {} held", held_components.len(), components.len()),
            Rule::NOf(n) => format!("{} of the {n} needed held", held_components.len().min(n as usize)),
            Rule::MinCredits(min) => {
                let earned = Credits(held_components.iter().map(|c| c.credits.map_or(0, |c| c.0)).sum::<u32>());
                format!("{earned} of {min} credit hours held")
            }
        }
    }

    /// The rule in words: "All of these", "Any 2 of these", "At least 6 credit hours from these".
    pub fn label(self) -> String {
        match self {
            Rule::All => "All of these".to_string(),
            Rule::NOf(n) => format!("Any {n} of these"),
            Rule::MinCredits(min) => format!("At least {min} credit hours from these"),
        }
    }
}

/// One component as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub id: AchievementId,
    pub credits: Option<Credits>,
}

/// What the store knows of an achievement offered as a component, for [`check_components`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: AchievementId,
    pub organisation: OrganisationId,
    pub kind: Kind,
    pub credits: Option<Credits>,
}

/// Checks the components of a new certificate (`Kind::Certificate`) or composed micro-credential
/// (`Kind::MicroCredential`) of `organisation`: each found, of a kind that may be a component
/// (micro-badges for a micro-credential; micro-badges and micro-credentials for a certificate),
/// no repeats, between [`MIN_COMPONENTS`] and [`MAX_COMPONENTS`]; a micro-credential's from its
/// own organisation; and a rule that can be met by holding them all.
///
/// # Errors
/// Each problem at `/requirements/components/N` (or `/requirements/...`).
pub fn check_components(kind: Kind, organisation: OrganisationId, rule: Rule, asked: &[AchievementId], found: &[Candidate]) -> Result<(), Invalid> {
    let mut invalid = Invalid::new();
    if asked.len() < MIN_COMPONENTS || asked.len() > MAX_COMPONENTS {
        invalid.push("/requirements/components", format!("needs {MIN_COMPONENTS} to {MAX_COMPONENTS} components (got {})", asked.len()));
    }
    for (i, id) in asked.iter().enumerate() {
        let at = format!("/requirements/components/{i}");
        if asked[..i].contains(id) {
            invalid.push(at, "is listed twice");
            continue;
        }
        match found.iter().find(|c| c.id == *id) {
            None => invalid.push(at, format!("no published achievement has the id \"{id}\"")),
            Some(c) => match (kind, c.kind) {
                (Kind::MicroCredential, Kind::MicroBadge) if c.organisation != organisation => {
                    invalid.push(at, "a micro-credential's levels are its own organisation's micro-badges")
                }
                (Kind::MicroCredential, Kind::MicroBadge) | (Kind::Certificate, Kind::MicroBadge | Kind::MicroCredential) => {}
                (Kind::MicroCredential, other) => invalid.push(at, format!("a {} cannot be a level; levels are micro-badges", other.label().to_lowercase())),
                (_, other) => invalid.push(at, format!("a {} cannot be part of a certificate", other.label().to_lowercase())),
            },
        }
    }
    let components: Vec<Component> = found.iter().map(|c| Component { id: c.id, credits: c.credits }).collect();
    match rule {
        Rule::NOf(n) if n as usize > asked.len() => invalid.push("/requirements/n", format!("{n} is more than the {} components", asked.len())),
        Rule::MinCredits(min) if invalid.is_empty() && !rule.met(&components, asked) => {
            invalid.push("/requirements/min_credits", format!("{min} credit hours is more than the components carry together"))
        }
        _ => {}
    }
    invalid.into_result(())
}

/// The level to earn before `target`, when levels are taken in order: the first earlier level in
/// `levels` (in level order) that is not held. `None` when `target` may be applied for.
pub fn level_to_do_first(levels: &[AchievementId], target: AchievementId, held: &[AchievementId]) -> Option<AchievementId> {
    let position = levels.iter().position(|&l| l == target)?;
    levels[..position].iter().find(|l| !held.contains(l)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(credits: Option<u32>) -> Component {
        Component { id: AchievementId::new(), credits: credits.map(Credits) }
    }

    #[test]
    fn credits_are_exact_hundredths() {
        assert_eq!(Credits::parse(1.5), Ok(Credits(150)));
        assert_eq!(Credits::parse(0.25).unwrap().to_string(), "0.25");
        assert_eq!(Credits::parse(3.0).unwrap().to_string(), "3");
        assert_eq!(Credits::parse(2.5).unwrap().to_string(), "2.5");
        assert_eq!(Credits(150).as_f64(), 1.5);
        assert_eq!(Credits::parse(0.0).unwrap_err(), "0 is not between 0 and 10000 credit hours");
        assert!(Credits::parse(f64::NAN).is_err());
        assert!(Credits::parse(10_000.5).is_err());
        assert_eq!(Credits::parse(1.234).unwrap_err(), "1.234 has more than two decimals");
    }

    #[test]
    fn rules_are_parsed_with_their_parameter() {
        assert_eq!(Rule::parse("all", None, None), Ok(Rule::All));
        assert_eq!(Rule::parse("n_of", Some(2), None), Ok(Rule::NOf(2)));
        assert_eq!(Rule::parse("min_credits", None, Some(4.5)), Ok(Rule::MinCredits(Credits(450))));
        assert_eq!(Rule::parse("n_of", None, None).unwrap_err().errors[0].pointer, "/requirements/n");
        assert_eq!(Rule::parse("n_of", Some(0), None).unwrap_err().errors[0].detail, "0 is not between 1 and 30");
        assert_eq!(Rule::parse("min_credits", None, Some(-1.0)).unwrap_err().errors[0].pointer, "/requirements/min_credits");
        assert_eq!(Rule::parse("most", None, None).unwrap_err().errors[0].detail, "\"most\" is not a rule (all, n_of or min_credits)");
    }

    #[test]
    fn each_rule_is_met_by_what_is_held() {
        let (a, b, c) = (component(Some(300)), component(Some(150)), component(None));
        let all = [a, b, c];
        let held = |cs: &[Component]| cs.iter().map(|c| c.id).collect::<Vec<_>>();
        let stranger = AchievementId::new();

        assert!(Rule::All.met(&all, &held(&all)));
        assert!(!Rule::All.met(&all, &held(&[a, b])));
        assert!(!Rule::All.met(&[], &[]), "nothing to hold is not a rule met");

        assert!(Rule::NOf(2).met(&all, &held(&[a, c])));
        assert!(!Rule::NOf(2).met(&all, &[a.id, stranger]), "only components count");

        assert!(Rule::MinCredits(Credits(450)).met(&all, &held(&[a, b])));
        assert!(!Rule::MinCredits(Credits(450)).met(&all, &held(&[a, c])), "a component without credits adds none");
        assert!(Rule::MinCredits(Credits(300)).met(&all, &held(&[a])));
        assert_eq!(Rule::MinCredits(Credits(450)).label(), "At least 4.5 credit hours from these");
        assert_eq!(Rule::NOf(2).label(), "Any 2 of these");
        assert_eq!(Rule::All.progress(&all, &held(&[a])), "1 of 3 held");
        assert_eq!(Rule::NOf(2).progress(&all, &held(&all)), "2 of the 2 needed held");
        assert_eq!(Rule::MinCredits(Credits(800)).progress(&all, &held(&[a, b, c])), "4.5 of 8 credit hours held");
    }

    #[test]
    fn components_are_checked_against_what_exists() {
        let org = OrganisationId::new();
        let other = OrganisationId::new();
        let candidate = |kind, organisation, credits: Option<u32>| Candidate { id: AchievementId::new(), organisation, kind, credits: credits.map(Credits) };
        let badge = candidate(Kind::MicroBadge, org, Some(100));
        let foreign = candidate(Kind::MicroBadge, other, Some(100));
        let stack = candidate(Kind::MicroCredential, org, Some(300));
        let level = candidate(Kind::Level(1), org, None);
        let found = [badge.clone(), foreign.clone(), stack.clone(), level.clone()];
        let errors = |kind, rule, asked: &[AchievementId]| match check_components(kind, org, rule, asked, &found) {
            Ok(()) => vec![],
            Err(invalid) => invalid.errors.into_iter().map(|e| format!("{} {}", e.pointer, e.detail)).collect::<Vec<_>>(),
        };

        assert_eq!(errors(Kind::Certificate, Rule::All, &[badge.id, foreign.id, stack.id]), Vec::<String>::new());
        assert_eq!(
            errors(Kind::MicroCredential, Rule::All, &[badge.id, foreign.id]),
            ["/requirements/components/1 a micro-credential's levels are its own organisation's micro-badges"]
        );
        assert_eq!(
            errors(Kind::MicroCredential, Rule::All, &[badge.id, stack.id]),
            ["/requirements/components/1 a micro-credential cannot be a level; levels are micro-badges"]
        );
        assert_eq!(errors(Kind::Certificate, Rule::All, &[badge.id, level.id]), ["/requirements/components/1 a level 1 cannot be part of a certificate"]);
        assert_eq!(errors(Kind::Certificate, Rule::All, &[badge.id, badge.id]), ["/requirements/components/1 is listed twice"]);
        assert_eq!(errors(Kind::Certificate, Rule::All, &[badge.id]), ["/requirements/components needs 2 to 30 components (got 1)"]);
        let unknown = AchievementId::new();
        assert_eq!(
            errors(Kind::Certificate, Rule::All, &[badge.id, unknown]),
            [format!("/requirements/components/1 no published achievement has the id \"{unknown}\"")]
        );
        assert_eq!(errors(Kind::Certificate, Rule::NOf(3), &[badge.id, stack.id]), ["/requirements/n 3 is more than the 2 components"]);
        assert_eq!(
            errors(Kind::Certificate, Rule::MinCredits(Credits(500)), &[badge.id, stack.id]),
            ["/requirements/min_credits 5 credit hours is more than the components carry together"]
        );
        assert_eq!(errors(Kind::Certificate, Rule::MinCredits(Credits(400)), &[badge.id, stack.id]), Vec::<String>::new());
    }

    #[test]
    fn the_level_to_do_first_is_the_first_earlier_level_not_held() {
        let levels = [AchievementId::new(), AchievementId::new(), AchievementId::new()];
        assert_eq!(level_to_do_first(&levels, levels[0], &[]), None);
        assert_eq!(level_to_do_first(&levels, levels[2], &[]), Some(levels[0]));
        assert_eq!(level_to_do_first(&levels, levels[2], &[levels[0]]), Some(levels[1]));
        assert_eq!(level_to_do_first(&levels, levels[1], &[levels[0]]), None);
        assert_eq!(level_to_do_first(&levels, AchievementId::new(), &[]), None, "not a level of this stack");
    }
}
