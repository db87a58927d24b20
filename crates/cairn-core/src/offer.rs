//! Direct award: an issuer's staff award an achievement to an e-mail address, with the
//! recipient's name, a narrative of how it was earned and evidence links, for work assessed
//! elsewhere. The address receives a claim link; the award is issued to the account that claims
//! it with that address (`cairn_app::offers`). An `Idempotency-Key` makes a request safe to send
//! again.

use crate::account::Email;
use crate::assessment::{Judgement, Score, ScoreFields};
use crate::ids::AchievementId;
use crate::invalid::{Invalid, http_url, multiline, text};
use crate::rubric::Rubric;
use crate::submission::Outcome;

/// Longest recipient name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest narrative, in characters.
pub const MAX_NARRATIVE_CHARS: usize = 5_000;
/// Most evidence links in one offer.
pub const MAX_EVIDENCE: usize = 20;
/// Longest evidence link name, in characters.
pub const MAX_EVIDENCE_NAME_CHARS: usize = 200;
/// Most rubric results in one offer.
pub const MAX_RESULTS: usize = 50;
/// Longest `Idempotency-Key`, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// One evidence link as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceFields {
    pub url: String,
    pub name: Option<String>,
}

/// A direct award as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferFields {
    pub achievement_id: String,
    pub email: String,
    pub name: String,
    pub narrative: Option<String>,
    pub evidence: Vec<EvidenceFields>,
    /// The levels reached on the achievement's rubric, for an assessment done elsewhere: each
    /// criterion by id or name, each level by name or 1-based number (comments are not kept).
    pub results: Vec<ScoreFields>,
}

/// A direct award, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    pub achievement: AchievementId,
    pub email: Email,
    /// The recipient's name (1–200 characters).
    pub name: String,
    /// How it was earned (empty for none).
    pub narrative: String,
    /// Evidence links as (absolute http(s) URL, name); the name is the URL when none was given.
    pub evidence: Vec<(String, String)>,
    /// The rubric results as sent, trimmed; [`judged`] checks them against the rubric.
    pub results: Vec<ScoreFields>,
}

impl NewOffer {
    /// Checks a direct award; every problem is reported at its JSON pointer (`/achievement_id`,
    /// `/recipient/email`, `/recipient/name`, `/narrative`, `/evidence/{i}/url`, …).
    ///
    /// # Errors
    /// [`Invalid`] with every problem found.
    pub fn parse(fields: &OfferFields) -> Result<NewOffer, Invalid> {
        let mut invalid = Invalid::new();
        let achievement = fields.achievement_id.trim().parse::<AchievementId>().map_err(|_| invalid.push("/achievement_id", "is not an achievement id")).ok();
        let email = Email::parse(&fields.email).map_err(|message| invalid.push("/recipient/email", message)).ok();
        let name = text(&mut invalid, "/recipient/name", &fields.name, 1, MAX_NAME_CHARS);
        let narrative = multiline(&mut invalid, "/narrative", fields.narrative.as_deref().unwrap_or(""), 0, MAX_NARRATIVE_CHARS);
        if fields.evidence.len() > MAX_EVIDENCE {
            invalid.push("/evidence", format!("at most {MAX_EVIDENCE} links (got {})", fields.evidence.len()));
        }
        let evidence: Vec<(String, String)> = fields
            .evidence
            .iter()
            .take(MAX_EVIDENCE)
            .enumerate()
            .filter_map(|(i, link)| {
                let url = http_url(&mut invalid, &format!("/evidence/{i}/url"), &link.url)?;
                let name = text(&mut invalid, &format!("/evidence/{i}/name"), link.name.as_deref().unwrap_or(""), 0, MAX_EVIDENCE_NAME_CHARS);
                Some((url.to_string(), if name.is_empty() { url.to_string() } else { name }))
            })
            .collect();
        if fields.results.len() > MAX_RESULTS {
            invalid.push("/results", format!("at most {MAX_RESULTS} results (got {})", fields.results.len()));
        }
        let results = fields
            .results
            .iter()
            .take(MAX_RESULTS)
            .map(|r| ScoreFields { criterion: r.criterion.trim().to_string(), level: r.level.trim().to_string(), comment: String::new() })
            .collect();
        match (achievement, email) {
            (Some(achievement), Some(email)) if invalid.is_empty() => Ok(NewOffer { achievement, email, name, narrative, evidence, results }),
            _ => Err(invalid),
        }
    }

    /// Everything the offer states, one item per line, to tell the same request from another
    /// sent with the same `Idempotency-Key` (the store keeps its digest).
    pub fn statement(&self) -> String {
        let mut lines = vec![self.achievement.to_string(), self.email.to_string(), self.name.clone(), self.narrative.replace('\n', "\\n")];
        lines.extend(self.evidence.iter().map(|(url, name)| format!("{url} {name}")));
        lines.extend(self.results.iter().map(|r| format!("result {:?} {:?}", r.criterion, r.level)));
        lines.join("\n")
    }
}

/// Why an achievement cannot be awarded directly by an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAwardable {
    /// No achievement has the id, or another issuer's does.
    NotOurs,
    /// The issuer's achievement, not published (a draft or retired), by its name.
    NotPublished(String),
}

impl NotAwardable {
    /// The reason in words, naming `achievement_id` as the field a request gives.
    pub fn words(&self) -> String {
        match self {
            NotAwardable::NotOurs => "no achievement of this issuer has this id".into(),
            NotAwardable::NotPublished(name) => format!("\"{name}\" is not published: only a published achievement is awarded"),
        }
    }
}

/// Whether `organisation` may award `achievement` directly (the one rule of a single direct
/// award and of each row of a bulk award): its own, published.
///
/// # Errors
/// [`NotAwardable`] saying why not.
pub fn awardable(achievement: Option<&crate::achievement::Achievement>, organisation: crate::ids::OrganisationId) -> Result<(), NotAwardable> {
    match achievement {
        Some(a) if a.organisation == organisation && a.state == crate::achievement::State::Published => Ok(()),
        Some(a) if a.organisation == organisation => Err(NotAwardable::NotPublished(a.content.name.clone())),
        _ => Err(NotAwardable::NotOurs),
    }
}

/// Checks a direct award's rubric results against the achievement's rubric: none at all, or a
/// level for every criterion, each meeting its required level (a direct award states that the
/// achievement was earned). Problems are reported at `/results/{i}/criterion`,
/// `/results/{i}/level` or `/results`.
///
/// # Errors
/// [`Invalid`] for results on an achievement without a rubric, an unknown criterion or level, a
/// criterion missing or given twice, or a level below the required one.
pub fn judged(rubric: Option<&Rubric>, results: &[ScoreFields]) -> Result<Vec<Score>, Invalid> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rubric) = rubric.filter(|r| !r.criteria.is_empty()) else {
        return Err(Invalid::one("/results", "this achievement has no rubric: send no results"));
    };
    let judgement = Judgement::parse(rubric, results, "").map_err(|invalid| {
        let mut moved = Invalid::new();
        for error in invalid.errors {
            moved.push(error.pointer.replacen("/scores", "/results", 1), error.detail);
        }
        moved
    })?;
    if judgement.outcome != Outcome::Pass {
        let below: Vec<String> = rubric
            .criteria
            .iter()
            .zip(&judgement.scores)
            .filter(|(criterion, score)| score.level < criterion.required_level)
            .map(|(criterion, _)| format!("\"{}\" needs {}", criterion.name, rubric.required_level_name(criterion)))
            .collect();
        return Err(Invalid::one("/results", format!("below the required level, so not earned: {}", below.join("; "))));
    }
    Ok(judgement.scores)
}

/// Checks an `Idempotency-Key`: 1 to 255 visible ASCII characters.
///
/// # Errors
/// [`Invalid`] at `/Idempotency-Key`.
pub fn idempotency_key(raw: &str) -> Result<String, Invalid> {
    let ok = !raw.is_empty() && raw.len() <= MAX_KEY_CHARS && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok { Ok(raw.to_string()) } else { Err(Invalid::one("/Idempotency-Key", format!("must be 1 to {MAX_KEY_CHARS} visible ASCII characters"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> OfferFields {
        OfferFields {
            achievement_id: AchievementId::new().to_string(),
            email: " Ada@Example.org ".into(),
            name: " Ada Lovelace ".into(),
            narrative: Some("Assessed on site.\r\nPassed.".into()),
            evidence: vec![EvidenceFields { url: "https://example.org/work".into(), name: None }],
            results: Vec::new(),
        }
    }

    fn rubric() -> Rubric {
        let criterion = |name: &str| crate::rubric::CriterionFields {
            id: None,
            name: name.into(),
            description: String::new(),
            required_level: "Proficient".into(),
            descriptors: vec!["a".into(), "b".into(), "c".into()],
        };
        Rubric::parse(&crate::rubric::RubricFields {
            levels: vec!["Beginning".into(), "Proficient".into(), "Exemplary".into()],
            criteria: vec![criterion("Design"), criterion("Testing")],
        })
        .unwrap()
    }

    fn result(criterion: &str, level: &str) -> ScoreFields {
        ScoreFields { criterion: criterion.into(), level: level.into(), comment: String::new() }
    }

    #[test]
    fn results_name_every_criterion_at_a_passing_level() {
        let rubric = rubric();
        assert_eq!(judged(Some(&rubric), &[]).unwrap(), [], "no results at all is fine");
        let scores = judged(Some(&rubric), &[result("testing", "3"), result("Design", "proficient")]).unwrap();
        assert_eq!(scores.iter().map(|s| (s.criterion.as_str(), s.level)).collect::<Vec<_>>(), [("design", 1), ("testing", 2)]);

        let below = judged(Some(&rubric), &[result("Design", "Beginning"), result("Testing", "Exemplary")]).unwrap_err();
        assert!(below.at("/results").unwrap().contains("\"Design\" needs Proficient"), "{below}");
        let missing = judged(Some(&rubric), &[result("Design", "Exemplary")]).unwrap_err();
        assert!(missing.at("/results").unwrap().contains("Testing"), "{missing}");
        let unknown = judged(Some(&rubric), &[result("Design", "Legendary"), result("Nope", "1")]).unwrap_err();
        assert!(unknown.at("/results/0/level").is_some() && unknown.at("/results/1/criterion").is_some(), "{unknown}");
        assert!(judged(None, &[result("Design", "1")]).unwrap_err().at("/results").unwrap().contains("no rubric"));
    }

    #[test]
    fn results_are_part_of_what_a_request_states() {
        let plain = NewOffer::parse(&fields()).unwrap();
        let with = NewOffer::parse(&OfferFields { results: vec![result(" Design ", " 2 ")], ..fields() }).unwrap();
        assert_eq!(with.results, [result("Design", "2")]);
        assert_ne!(plain.statement(), with.statement());
        let many = OfferFields { results: vec![result("Design", "2"); MAX_RESULTS + 1], ..fields() };
        assert!(NewOffer::parse(&many).unwrap_err().at("/results").is_some());
    }

    #[test]
    fn a_direct_award_is_checked_and_normalised() {
        let sent = fields();
        let offer = NewOffer::parse(&sent).unwrap();
        assert_eq!((offer.name.as_str(), offer.narrative.as_str()), ("Ada Lovelace", "Assessed on site.\nPassed."));
        assert_eq!(offer.evidence, [("https://example.org/work".to_string(), "https://example.org/work".to_string())]);
        let other = OfferFields { name: "Ada L.".into(), ..sent.clone() };
        assert_ne!(NewOffer::parse(&other).unwrap().statement(), offer.statement(), "another request reads differently");
        assert_eq!(NewOffer::parse(&sent).unwrap().statement(), offer.statement());
    }

    #[test]
    fn every_problem_is_reported_where_it_is() {
        let bad = OfferFields {
            achievement_id: "nope".into(),
            email: "not an address".into(),
            name: " ".into(),
            narrative: Some("x".repeat(MAX_NARRATIVE_CHARS + 1)),
            evidence: vec![EvidenceFields { url: "javascript:alert(1)".into(), name: Some("x".into()) }],
            results: Vec::new(),
        };
        let invalid = NewOffer::parse(&bad).unwrap_err();
        for pointer in ["/achievement_id", "/recipient/email", "/recipient/name", "/narrative", "/evidence/0/url"] {
            assert!(invalid.at(pointer).is_some(), "{pointer}: {invalid}");
        }
        let many = OfferFields { evidence: vec![EvidenceFields { url: "https://example.org".into(), name: None }; MAX_EVIDENCE + 1], ..fields() };
        assert!(NewOffer::parse(&many).unwrap_err().at("/evidence").is_some());
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert_eq!(idempotency_key("order-42/ada").unwrap(), "order-42/ada");
        for bad in ["", "with space", "é", &"k".repeat(MAX_KEY_CHARS + 1)] {
            assert!(idempotency_key(bad).is_err(), "{bad:?}");
        }
    }
}
