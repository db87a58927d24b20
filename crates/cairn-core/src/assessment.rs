//! Judging an attempt against the public rubric, choosing its assessor, spotting duplicate
//! evidence across learners and showing what changed between attempts.

use crate::ids::{SubmissionId, UserId};
use crate::invalid::{self, Invalid};
use crate::rubric::Rubric;
use crate::submission::Outcome;
use std::collections::HashSet;

/// Longest comment per criterion or overall feedback, in characters.
pub const MAX_COMMENT_CHARS: usize = 5_000;

/// One criterion's score as sent by the assessor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoreFields {
    /// The criterion's id (or, forgivingly, its name).
    pub criterion: String,
    /// A level name (case-insensitive) or its 1-based number.
    pub level: String,
    pub comment: String,
}

/// One criterion judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub criterion: String,
    /// Index into the rubric's levels.
    pub level: usize,
    pub comment: String,
}

/// A whole judgement: a level for every criterion, comments and the outcome they imply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// In the rubric's criterion order.
    pub scores: Vec<Score>,
    pub feedback: String,
    pub outcome: Outcome,
}

impl Judgement {
    /// Checks the scores against `rubric`: every criterion scored exactly once at a level that
    /// exists. The outcome is a pass only when every criterion meets its required level.
    ///
    /// # Errors
    /// Every unknown criterion or level, missing or repeated criterion, and overlong comment.
    pub fn parse(rubric: &Rubric, scores: &[ScoreFields], feedback: &str) -> Result<Judgement, Invalid> {
        let mut invalid = Invalid::new();
        let mut by_criterion: Vec<Option<Score>> = vec![None; rubric.criteria.len()];
        for (i, fields) in scores.iter().enumerate() {
            let wanted = fields.criterion.trim();
            let Some(index) = rubric.criteria.iter().position(|c| c.id == wanted || c.name.eq_ignore_ascii_case(wanted)) else {
                invalid.push(format!("/scores/{i}/criterion"), format!("\"{}\" is not a criterion of this rubric", invalid::clip(wanted)));
                continue;
            };
            let criterion = &rubric.criteria[index];
            let Some(level) = crate::rubric::resolve_level(&rubric.levels, &fields.level) else {
                invalid.push(
                    format!("/scores/{i}/level"),
                    format!("\"{}\" is not a level of this rubric ({})", invalid::clip(fields.level.trim()), rubric.levels.join(", ")),
                );
                continue;
            };
            let comment = invalid::multiline(&mut invalid, &format!("/scores/{i}/comment"), &fields.comment, 0, MAX_COMMENT_CHARS);
            if by_criterion[index].is_some() {
                invalid.push(format!("/scores/{i}/criterion"), format!("\"{}\" is scored twice", criterion.name));
                continue;
            }
            by_criterion[index] = Some(Score { criterion: criterion.id.clone(), level, comment });
        }
        for (criterion, score) in rubric.criteria.iter().zip(&by_criterion) {
            if score.is_none() && invalid.errors.iter().all(|e| !e.pointer.starts_with("/scores/")) {
                invalid.push("/scores", format!("\"{}\" needs a level", criterion.name));
            }
        }
        let feedback = invalid::multiline(&mut invalid, "/feedback", feedback, 0, MAX_COMMENT_CHARS);
        if !invalid.is_empty() {
            return Err(invalid);
        }
        let scores: Vec<Score> = by_criterion.into_iter().flatten().collect();
        let outcome = if rubric.criteria.iter().zip(&scores).all(|(c, s)| s.level >= c.required_level) { Outcome::Pass } else { Outcome::NotYet };
        Ok(Judgement { scores, feedback, outcome })
    }
}

/// One assessor who could take a submission, with how many open submissions they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub assessor: UserId,
    pub open: usize,
}

/// Chooses the assessor for an attempt from the achievement's pool.
///
/// The assessor of the previous attempt keeps a resubmission while they remain eligible;
/// otherwise the least-loaded eligible assessor is chosen (ties go to the lowest id, so the
/// choice is repeatable). Never the learner, a collaborator on the work, or an assessor who
/// declared a conflict with the learner.
pub fn choose_assessor(pool: &[Candidate], learner: UserId, excluded: &[UserId], previous: Option<UserId>) -> Option<UserId> {
    let eligible = |c: &&Candidate| c.assessor != learner && !excluded.contains(&c.assessor);
    if let Some(previous) = previous
        && pool.iter().filter(eligible).any(|c| c.assessor == previous)
    {
        return Some(previous);
    }
    pool.iter().filter(eligible).min_by_key(|c| (c.open, c.assessor)).map(|c| c.assessor)
}

/// What duplicate detection compares of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDigest {
    pub submission: SubmissionId,
    pub learner: UserId,
    /// Accounts the learner named as collaborators.
    pub collaborators: Vec<UserId>,
    /// The overview and text artefacts.
    pub text: String,
    pub reflection: String,
    /// SHA-256 of each uploaded file.
    pub file_hashes: Vec<String>,
}

/// Which part of two submissions matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuplicateKind {
    /// The same uploaded file.
    File,
    /// Identical or near-identical overview and texts.
    Text,
    /// Identical or near-identical individual reflections.
    Reflection,
}

impl DuplicateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateKind::File => "file",
            DuplicateKind::Text => "text",
            DuplicateKind::Reflection => "reflection",
        }
    }

    pub fn parse(raw: &str) -> Option<DuplicateKind> {
        match raw {
            "file" => Some(DuplicateKind::File),
            "text" => Some(DuplicateKind::Text),
            "reflection" => Some(DuplicateKind::Reflection),
            _ => None,
        }
    }

    /// Words for the assessor.
    pub fn describe(self) -> &'static str {
        match self {
            DuplicateKind::File => "an uploaded file is identical to one in another learner's submission",
            DuplicateKind::Text => "the written evidence is identical or nearly identical to another learner's",
            DuplicateKind::Reflection => "the individual reflection is identical or nearly identical to another learner's",
        }
    }
}

/// One match found.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateFlag {
    pub other: SubmissionId,
    pub kind: DuplicateKind,
    /// 0–1; 1 for identical.
    pub similarity: f64,
}

/// Texts at least this similar (Jaccard over word 3-grams) count as near-identical.
pub const NEAR_IDENTICAL: f64 = 0.8;
/// Texts shorter than this many words are not compared (too little to tell).
pub const MIN_WORDS: usize = 8;

/// Compares `this` submission with others for the same achievement by different learners.
/// Learners who declared each other as collaborators may share files and texts, but their
/// reflections must still be their own.
pub fn find_duplicates(this: &EvidenceDigest, others: &[EvidenceDigest]) -> Vec<DuplicateFlag> {
    let mut flags = Vec::new();
    let own_text = shingles(&this.text);
    let own_reflection = shingles(&this.reflection);
    for other in others.iter().filter(|o| o.learner != this.learner && o.submission != this.submission) {
        let collaborating = this.collaborators.contains(&other.learner) || other.collaborators.contains(&this.learner);
        if !collaborating {
            if this.file_hashes.iter().any(|h| other.file_hashes.contains(h)) {
                flags.push(DuplicateFlag { other: other.submission, kind: DuplicateKind::File, similarity: 1.0 });
            }
            if let Some(similarity) = near(&own_text, &shingles(&other.text)) {
                flags.push(DuplicateFlag { other: other.submission, kind: DuplicateKind::Text, similarity });
            }
        }
        if let Some(similarity) = near(&own_reflection, &shingles(&other.reflection)) {
            flags.push(DuplicateFlag { other: other.submission, kind: DuplicateKind::Reflection, similarity });
        }
    }
    flags
}

fn near(a: &Option<HashSet<u64>>, b: &Option<HashSet<u64>>) -> Option<f64> {
    let (Some(a), Some(b)) = (a, b) else { return None };
    let union = a.union(b).count();
    if union == 0 {
        return None;
    }
    let similarity = a.intersection(b).count() as f64 / union as f64;
    (similarity >= NEAR_IDENTICAL).then_some(similarity)
}

/// Word 3-grams of the normalised text (lower case, letters and digits only), hashed; `None`
/// when the text is too short to judge.
fn shingles(text: &str) -> Option<HashSet<u64>> {
    use std::hash::{Hash, Hasher};
    let words: Vec<String> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(50_000).map(|w| w.to_lowercase()).collect();
    if words.len() < MIN_WORDS {
        return None;
    }
    Some(
        words
            .windows(3)
            .map(|w| {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                w.hash(&mut hasher);
                hasher.finish()
            })
            .collect(),
    )
}

/// One line of a text comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// Line-by-line changes from `before` to `after`.
pub fn diff_lines(before: &str, after: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    // Every line ends with a newline, so a last line without one is not seen as changed.
    let terminated = |text: &str| if text.is_empty() || text.ends_with('\n') { text.to_string() } else { format!("{text}\n") };
    let (before, after) = (terminated(before), terminated(after));
    let diff = TextDiff::configure().timeout(std::time::Duration::from_millis(200)).diff_lines(&before, &after);
    diff.iter_all_changes()
        .map(|change| {
            let line = change.value().trim_end_matches('\n').to_string();
            match change.tag() {
                ChangeTag::Equal => DiffLine::Same(line),
                ChangeTag::Insert => DiffLine::Added(line),
                ChangeTag::Delete => DiffLine::Removed(line),
            }
        })
        .collect()
}

/// What a learner changed between two attempts, as an assessor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttemptChanges {
    pub overview: Vec<DiffLine>,
    pub reflection: Vec<DiffLine>,
    /// Labels of artefacts added since the previous attempt.
    pub added: Vec<String>,
    /// Labels of artefacts removed since the previous attempt.
    pub removed: Vec<String>,
}

impl AttemptChanges {
    /// Compares two attempts; artefacts are compared by their label (title and content hash).
    pub fn between(before: (&str, &str, &[String]), after: (&str, &str, &[String])) -> AttemptChanges {
        AttemptChanges {
            overview: diff_lines(before.0, after.0),
            reflection: diff_lines(before.1, after.1),
            added: after.2.iter().filter(|a| !before.2.contains(a)).cloned().collect(),
            removed: before.2.iter().filter(|a| !after.2.contains(a)).cloned().collect(),
        }
    }

    /// Whether anything changed at all.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.overview.iter().chain(&self.reflection).all(|line| matches!(line, DiffLine::Same(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::{CriterionFields, RubricFields};

    fn rubric() -> Rubric {
        let criterion = |name: &str, required: &str| CriterionFields {
            id: None,
            name: name.into(),
            description: String::new(),
            required_level: required.into(),
            descriptors: vec!["a".into(), "b".into(), "c".into()],
        };
        Rubric::parse(&RubricFields {
            levels: vec!["Beginning".into(), "Proficient".into(), "Exemplary".into()],
            criteria: vec![criterion("Design", "Proficient"), criterion("Testing", "Proficient")],
        })
        .unwrap()
    }

    fn score(criterion: &str, level: &str) -> ScoreFields {
        ScoreFields { criterion: criterion.into(), level: level.into(), comment: "ok".into() }
    }

    #[test]
    fn pass_needs_every_criterion_at_its_required_level() {
        let rubric = rubric();
        let pass = Judgement::parse(&rubric, &[score("testing", "3"), score("design", "proficient")], "Well done").unwrap();
        assert_eq!(pass.outcome, Outcome::Pass);
        assert_eq!(pass.scores.iter().map(|s| (s.criterion.as_str(), s.level)).collect::<Vec<_>>(), vec![("design", 1), ("testing", 2)]);
        let not_yet = Judgement::parse(&rubric, &[score("design", "Exemplary"), score("testing", "Beginning")], "").unwrap();
        assert_eq!(not_yet.outcome, Outcome::NotYet);
    }

    #[test]
    fn bad_scores_are_named() {
        let rubric = rubric();
        let unknown_level = Judgement::parse(&rubric, &[score("design", "Legendary"), score("testing", "1")], "").unwrap_err();
        assert!(unknown_level.at("/scores/0/level").unwrap().contains("Legendary"), "{unknown_level}");
        let missing = Judgement::parse(&rubric, &[score("design", "1")], "").unwrap_err();
        assert!(missing.at("/scores").unwrap().contains("Testing"), "{missing}");
        let twice = Judgement::parse(&rubric, &[score("design", "1"), score("design", "2"), score("testing", "1")], "").unwrap_err();
        assert!(twice.at("/scores/1/criterion").is_some(), "{twice}");
        let unknown = Judgement::parse(&rubric, &[score("nope", "1")], "").unwrap_err();
        assert!(unknown.at("/scores/0/criterion").is_some());
        let zero = Judgement::parse(&rubric, &[score("design", "0"), score("testing", "4")], "").unwrap_err();
        assert!(zero.at("/scores/0/level").is_some() && zero.at("/scores/1/level").is_some(), "{zero}");
    }

    #[test]
    fn assignment_prefers_the_previous_assessor_then_the_least_loaded() {
        let ids: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let (a, b, c, learner) = (sorted[0], sorted[1], sorted[2], sorted[3]);
        let pool = [Candidate { assessor: a, open: 3 }, Candidate { assessor: b, open: 1 }, Candidate { assessor: c, open: 1 }];
        assert_eq!(choose_assessor(&pool, learner, &[], None), Some(b));
        assert_eq!(choose_assessor(&pool, learner, &[b], None), Some(c));
        assert_eq!(choose_assessor(&pool, learner, &[], Some(a)), Some(a));
        assert_eq!(choose_assessor(&pool, learner, &[a], Some(a)), Some(b), "a conflicted previous assessor is not kept");
        assert_eq!(choose_assessor(&pool, learner, &[], Some(learner)), Some(b));
        assert_eq!(choose_assessor(&pool, b, &[c], None), Some(a), "never the learner themselves");
        assert_eq!(choose_assessor(&[], learner, &[], None), None);
    }

    fn digest(learner: UserId, text: &str, reflection: &str, files: &[&str]) -> EvidenceDigest {
        EvidenceDigest {
            submission: SubmissionId::new(),
            learner,
            collaborators: vec![],
            text: text.into(),
            reflection: reflection.into(),
            file_hashes: files.iter().map(|f| f.to_string()).collect(),
        }
    }

    const ESSAY: &str = "I designed a small web service that stores notes, wrote tests for every route and deployed it behind a proxy. \
        Then I measured how long each request took, found the slow query, added an index and measured again to show the change.";

    #[test]
    fn identical_and_near_identical_work_is_flagged() {
        let (x, y, z) = (UserId::new(), UserId::new(), UserId::new());
        let mine = digest(x, ESSAY, "This taught me to plan my tests before I write any of the code at all", &["f1"]);
        let copied = digest(y, &ESSAY.replace("small", "tiny"), "Completely different thoughts about the work and what I would change next time", &["f1"]);
        let original = digest(z, "A garden planner in a spreadsheet with formulas for watering schedules and harvest dates", "short", &["f2"]);
        let flags = find_duplicates(&mine, &[copied.clone(), original]);
        let kinds: Vec<DuplicateKind> = flags.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![DuplicateKind::File, DuplicateKind::Text]);
        assert!(flags.iter().all(|f| f.other == copied.submission));
        assert!(flags[1].similarity >= NEAR_IDENTICAL && flags[1].similarity < 1.0);
    }

    #[test]
    fn collaborators_may_share_work_but_not_reflections() {
        let (x, y) = (UserId::new(), UserId::new());
        let reflection = "Working in a team taught me to write smaller commits and review each other's code";
        let mut mine = digest(x, ESSAY, reflection, &["f1"]);
        mine.collaborators = vec![y];
        let theirs = digest(y, ESSAY, reflection, &["f1"]);
        let flags = find_duplicates(&mine, std::slice::from_ref(&theirs));
        assert_eq!(flags.iter().map(|f| f.kind).collect::<Vec<_>>(), vec![DuplicateKind::Reflection]);
        // The same learner's other submission is never a duplicate of their own.
        let again = EvidenceDigest { learner: x, ..theirs };
        assert!(find_duplicates(&mine, &[again]).is_empty());
    }

    #[test]
    fn short_texts_are_not_compared() {
        let (x, y) = (UserId::new(), UserId::new());
        assert!(find_duplicates(&digest(x, "See attached", "ok", &[]), &[digest(y, "See attached", "ok", &[])]).is_empty());
    }

    #[test]
    fn changes_between_attempts_are_listed() {
        let before = ["File A".to_string(), "File B".to_string()];
        let after = ["File B".to_string(), "File C".to_string()];
        let changes = AttemptChanges::between(("line one\nline two", "same", &before), ("line one\nline 2\n", "same", &after));
        assert_eq!(changes.added, vec!["File C"]);
        assert_eq!(changes.removed, vec!["File A"]);
        assert!(changes.overview.contains(&DiffLine::Removed("line two".into())));
        assert!(changes.overview.contains(&DiffLine::Added("line 2".into())));
        assert!(changes.reflection.iter().all(|l| matches!(l, DiffLine::Same(_))));
        assert!(!changes.is_empty());
        assert!(AttemptChanges::between(("a", "b", &before), ("a", "b", &before)).is_empty());
        // Adding a line after a last line without a newline changes only the added line.
        assert_eq!(
            diff_lines("one\ntwo", "one\ntwo\nthree"),
            vec![DiffLine::Same("one".into()), DiffLine::Same("two".into()), DiffLine::Added("three".into())]
        );
    }
}
