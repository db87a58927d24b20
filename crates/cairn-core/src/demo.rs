//! The demo catalog `cairn serve --demo` seeds: one issuer, a three-level micro-credential,
//! three micro-badges, a certificate made of the micro-credential and a micro-badge, and an
//! account for each kind of person.

use crate::achievement::{AchievementFields, AlignmentFields, NewAchievementFields, RequirementsFields};
use crate::authz::Role;
use crate::organisation::OrganisationFields;
use crate::rubric::{CriterionFields, RubricFields};

/// A demo account: who it is, its password, and its role in the demo issuer (learners have none).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub role: Option<Role>,
}

/// The demo accounts, printed at start-up and listed in the README. The last is a learner with
/// badges from elsewhere ([`GRADUATE_EMAIL`], [`FOREIGN_BADGES`]).
pub const ACCOUNTS: [DemoAccount; 4] = [
    DemoAccount { name: "Iris Okafor", email: "issuer@demo.cairn.test", password: "cairn-demo-issuer", role: Some(Role::Owner) },
    DemoAccount { name: "Arjun Mehta", email: "assessor@demo.cairn.test", password: "cairn-demo-assessor", role: Some(Role::Assessor) },
    DemoAccount { name: "Lena Fischer", email: "learner@demo.cairn.test", password: "cairn-demo-learner", role: None },
    DemoAccount { name: "Tomás Rivera", email: GRADUATE_EMAIL, password: "cairn-demo-graduate", role: None },
];

/// The demo learner who imported badges from another issuer: one recognised as prior learning
/// (so their backpack and transcript have a badge), one waiting to be claimed.
pub const GRADUATE_EMAIL: &str = "graduate@demo.cairn.test";

/// The issuer of the demo's badges from elsewhere (signed with a `did:key` derived from its name).
pub const FOREIGN_ISSUER: &str = "Harbourside Community College";
/// Its home page.
pub const FOREIGN_ISSUER_URL: &str = "https://harbourside.example.edu/";

/// A badge from elsewhere in the demo: what it is, and the demo achievement the demo issuer's
/// equivalency rule counts it as.
#[derive(Debug, Clone)]
pub struct ForeignBadge {
    /// The last part of its achievement id (`https://harbourside.example.edu/badges/{slug}`).
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub criteria: &'static str,
    /// The demo achievement it counts as.
    pub counts_as: &'static str,
    /// Whether the graduate has claimed it already.
    pub claimed: bool,
}

/// The graduate's badges from elsewhere.
pub const FOREIGN_BADGES: [ForeignBadge; 2] = [
    ForeignBadge {
        slug: "inclusive-workshops",
        name: "Facilitating Inclusive Workshops",
        description: "Plans and runs workshops in which every participant can take part.",
        criteria: "Ran two observed workshops and wrote a reflection on each.",
        counts_as: "Inclusive Meeting Facilitation",
        claimed: true,
    },
    ForeignBadge {
        slug: "relational-databases-1",
        name: "Relational Databases I",
        description: "Writes SELECT queries with filters, sorting and expressions over one table.",
        criteria: "Passed the proctored query exam with at least 80%.",
        counts_as: "SQL Foundations: Querying One Table",
        claimed: false,
    },
];

/// The demo issuer's profile.
pub fn organisation() -> OrganisationFields {
    OrganisationFields {
        name: "Northbridge Institute of Technology".into(),
        url: "https://northbridge.example.edu".into(),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some(
            "Northbridge's extension school issues verifiable micro-credentials for working professionals: short, \
             assessed against a public rubric by practitioners, and stackable into larger awards."
                .into(),
        ),
    }
}

const LEVELS: [&str; 4] = ["Beginning", "Developing", "Proficient", "Exemplary"];

fn criterion(name: &str, description: &str, descriptors: [&str; 4]) -> CriterionFields {
    CriterionFields {
        id: None,
        name: name.into(),
        description: description.into(),
        required_level: "Proficient".into(),
        descriptors: descriptors.iter().map(|d| d.to_string()).collect(),
    }
}

fn rubric(criteria: Vec<CriterionFields>) -> Option<RubricFields> {
    Some(RubricFields { levels: LEVELS.iter().map(|l| l.to_string()).collect(), criteria })
}

fn alignment(name: &str, url: &str, framework: &str, code: &str, kind: &str) -> AlignmentFields {
    AlignmentFields {
        target_name: name.into(),
        target_url: url.into(),
        target_description: None,
        target_framework: Some(framework.into()),
        target_code: Some(code.into()),
        target_type: Some(kind.into()),
    }
}

fn tags(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| t.to_string()).collect()
}

fn sql_alignments() -> Vec<AlignmentFields> {
    vec![
        alignment("Use SQL to query relational databases", "https://www.onetonline.org/link/summary/15-2051.00", "O*NET-SOC", "15-2051.00", "ceasn:Competency"),
        alignment("Data analysis", "https://northbridge.example.edu/frameworks/data/DA-2", "Northbridge Data Skills Framework", "DA-2", "CFItem"),
    ]
}

/// The demo micro-credential "Data Analysis with SQL" and its three levels.
pub fn micro_credential() -> NewAchievementFields {
    let level1 = AchievementFields {
        name: "SQL Foundations: Querying One Table".into(),
        description: "Retrieve, filter, sort and summarise rows from a single table to answer plain business questions.".into(),
        criteria: "Submit a short notebook or SQL file that answers **five questions** about the provided `orders` table:\n\n\
                   1. filters with `WHERE` on text, number and date columns;\n\
                   2. sorts and limits results;\n\
                   3. summarises with `COUNT`, `SUM` and `AVG`;\n\
                   4. explains each answer in one sentence.\n\n\
                   Add a reflection (150–300 words) on one query that surprised you."
            .into(),
        rubric: rubric(vec![
            criterion(
                "Correct results",
                "Each query returns exactly the rows and values the question asks for.",
                [
                    "Most answers are wrong or missing.",
                    "Some answers are right; filters or aggregates are misapplied.",
                    "All five answers are right.",
                    "All answers are right and edge cases (NULLs, ties) are handled and noted.",
                ],
            ),
            criterion(
                "Readable SQL",
                "Queries are formatted and named so a colleague can follow them.",
                [
                    "Queries are hard to read.",
                    "Formatting is inconsistent.",
                    "Consistent formatting and meaningful aliases.",
                    "Clear, consistent and commented where intent is not obvious.",
                ],
            ),
            criterion(
                "Explanation",
                "Each answer is explained in plain words.",
                [
                    "No explanations.",
                    "Explanations restate the SQL.",
                    "Explanations answer the business question.",
                    "Explanations answer the question and state assumptions.",
                ],
            ),
        ]),
        alignments: sql_alignments(),
        tags: tags(&["sql", "data", "foundations"]),
        language: Some("en".into()),
        effort_hours: Some(8.0),
        credits_available: Some(1.0),
        ..Default::default()
    };
    let level2 = AchievementFields {
        name: "SQL Practice: Joins, Aggregates and Reports".into(),
        description: "Combine tables with joins, group and aggregate correctly, and produce a small reproducible report.".into(),
        criteria: "Build a report from the provided four-table sales schema answering the brief in the assignment. \
                   Your submission must include the SQL, the result tables, and a one-page summary. Use at least one \
                   `LEFT JOIN`, one `GROUP BY … HAVING` and one window function."
            .into(),
        rubric: rubric(vec![
            criterion(
                "Joins",
                "Tables are combined without losing or duplicating rows.",
                [
                    "Joins drop or duplicate rows.",
                    "Joins are right for simple cases only.",
                    "All joins are right and justified.",
                    "Joins are right and row counts are checked at each step.",
                ],
            ),
            criterion(
                "Aggregation",
                "Grouping and aggregates answer the brief.",
                [
                    "Aggregates are wrong.",
                    "Aggregates are right but grouping is off.",
                    "Grouping, HAVING and a window function are used correctly.",
                    "As proficient, with a clear choice between alternatives explained.",
                ],
            ),
            criterion(
                "Reproducibility",
                "Another analyst can rerun the report and get the same result.",
                [
                    "The report cannot be rerun.",
                    "It reruns with manual fixes.",
                    "It reruns as submitted.",
                    "It reruns and documents its inputs and assumptions.",
                ],
            ),
        ]),
        alignments: sql_alignments(),
        tags: tags(&["sql", "reporting", "joins"]),
        language: Some("en".into()),
        effort_hours: Some(15.0),
        credits_available: Some(2.0),
        ..Default::default()
    };
    let level3 = AchievementFields {
        name: "SQL in Practice: An Analysis for a Real Client".into(),
        description: "Scope, run and present a data analysis for a real organisation, and act on its feedback.".into(),
        criteria: "Agree a question with a real client (your employer, a non-profit, or a community group), analyse \
                   their data with SQL, and present your findings. Submit the analysis, the slides or memo you gave \
                   the client, **written feedback from the client**, and a reflection on what you changed in response."
            .into(),
        rubric: rubric(vec![
            criterion(
                "Scoping",
                "The question is agreed with the client and answerable with the data.",
                [
                    "No agreed question.",
                    "A question exists but is vague or not answerable.",
                    "A clear, agreed, answerable question.",
                    "As proficient, with scope trade-offs discussed with the client.",
                ],
            ),
            criterion(
                "Analysis",
                "The SQL analysis is sound and answers the question.",
                [
                    "Analysis is unsound.",
                    "Analysis has gaps that affect the conclusion.",
                    "Sound analysis that supports the conclusion.",
                    "Sound analysis with limitations quantified.",
                ],
            ),
            criterion(
                "Communication",
                "Findings are presented so the client can act on them.",
                [
                    "Findings are unclear.",
                    "Findings are clear but not actionable.",
                    "Clear, actionable findings.",
                    "Clear, actionable findings the client reports acting on.",
                ],
            ),
            criterion(
                "Response to feedback",
                "The reflection shows what changed after the client's feedback.",
                [
                    "No reflection on feedback.",
                    "Feedback is summarised, nothing changed.",
                    "Specific changes made in response to feedback.",
                    "Changes made and lessons generalised to future work.",
                ],
            ),
        ]),
        alignments: sql_alignments(),
        tags: tags(&["sql", "consulting", "communication"]),
        language: Some("en".into()),
        effort_hours: Some(30.0),
        credits_available: Some(3.0),
        ..Default::default()
    };
    NewAchievementFields {
        kind: "micro-credential".into(),
        content: AchievementFields {
            name: "Data Analysis with SQL".into(),
            description: "A three-level micro-credential: from querying a single table to delivering an analysis that a real client acts on.".into(),
            criteria: "Awarded automatically to learners who hold all three level badges: **Foundations**, **Practice** and **Real-world application**.".into(),
            rubric: None,
            alignments: sql_alignments(),
            tags: tags(&["sql", "data", "analysis"]),
            language: Some("en".into()),
            effort_hours: Some(53.0),
            credits_available: Some(6.0),
            fee_amount: Some("120".into()),
            fee_currency: Some("EUR".into()),
            fee_plan: Some("upfront".into()),
            validity_months: Some(36),
            renewal: None,
        },
        levels: vec![level1, level2, level3],
        ..Default::default()
    }
}

/// The demo micro-badges.
pub fn micro_badges() -> Vec<NewAchievementFields> {
    let badge = |content: AchievementFields| NewAchievementFields { kind: "micro-badge".into(), content, ..Default::default() };
    vec![
        badge(AchievementFields {
            name: "Inclusive Meeting Facilitation".into(),
            description: "Plan and run meetings in which every participant can contribute, and show the difference it made.".into(),
            criteria: "Facilitate **two** meetings of at least four people. Submit your agenda and ground rules, notes \
                       on the techniques you used (e.g. round-robin, silent writing, parking lot), anonymous feedback \
                       from participants, and a reflection on what you would change."
                .into(),
            rubric: rubric(vec![
                criterion(
                    "Preparation",
                    "Agenda, roles and ground rules are shared in advance.",
                    [
                        "No preparation shown.",
                        "An agenda only.",
                        "Agenda, roles and ground rules shared in advance.",
                        "As proficient, adapted to participants' access needs.",
                    ],
                ),
                criterion(
                    "Participation",
                    "Techniques give every participant a way to contribute.",
                    [
                        "Few people contributed.",
                        "Techniques were used inconsistently.",
                        "Deliberate techniques; feedback shows broad participation.",
                        "As proficient, with quieter voices measurably heard.",
                    ],
                ),
                criterion(
                    "Reflection",
                    "The reflection draws on participant feedback.",
                    [
                        "No reflection.",
                        "Reflection ignores the feedback.",
                        "Reflection uses the feedback to plan changes.",
                        "As proficient, with changes tried and evaluated.",
                    ],
                ),
            ]),
            alignments: vec![alignment(
                "Facilitate group discussions",
                "https://northbridge.example.edu/frameworks/people/PL-4",
                "Northbridge People Skills Framework",
                "PL-4",
                "CFItem",
            )],
            tags: tags(&["facilitation", "inclusion", "leadership"]),
            language: Some("en".into()),
            effort_hours: Some(6.0),
            credits_available: Some(1.0),
            validity_months: Some(24),
            ..Default::default()
        }),
        badge(AchievementFields {
            name: "Secure Coding Essentials: OWASP Top 10".into(),
            description: "Find and fix the most common web application vulnerabilities in real code.".into(),
            criteria: "In the provided vulnerable application, find, exploit in a test environment and fix **four** \
                       issues from different OWASP Top 10 categories. Submit a pull request or patch with tests that \
                       fail before the fix, and a short write-up per issue."
                .into(),
            rubric: rubric(vec![
                criterion(
                    "Finding",
                    "Vulnerabilities are found and classified correctly.",
                    ["Fewer than two found.", "Found but misclassified.", "Four found and classified.", "More than four, with severity rated."],
                ),
                criterion(
                    "Fixing",
                    "Fixes remove the root cause without breaking behaviour.",
                    [
                        "Fixes missing or break the app.",
                        "Symptoms patched, root cause remains.",
                        "Root causes fixed; tests pass.",
                        "Root causes fixed and similar code hardened.",
                    ],
                ),
                criterion(
                    "Tests",
                    "Each fix has a regression test.",
                    ["No tests.", "Tests that do not fail before the fix.", "A failing-then-passing test per fix.", "As proficient, plus a check in CI."],
                ),
            ]),
            alignments: vec![alignment(
                "OWASP Top 10 web application security risks",
                "https://owasp.org/www-project-top-ten/",
                "OWASP",
                "A01-A10",
                "ceasn:Competency",
            )],
            tags: tags(&["security", "web", "owasp"]),
            language: Some("en".into()),
            effort_hours: Some(12.0),
            credits_available: Some(2.0),
            fee_amount: Some("49".into()),
            fee_currency: Some("EUR".into()),
            fee_plan: None,
            validity_months: Some(24),
            renewal: None,
        }),
        badge(AchievementFields {
            name: "Writing Clear API Documentation".into(),
            description: "Write reference and getting-started documentation that developers can follow on the first try.".into(),
            criteria: "Document a small HTTP API (yours or the provided one): a getting-started guide, reference pages \
                       for every endpoint, and error descriptions. Test it with a developer who has not seen the API \
                       and submit their notes."
                .into(),
            rubric: rubric(vec![
                criterion(
                    "Accuracy",
                    "Every endpoint, field and error is documented correctly.",
                    [
                        "Many errors.",
                        "Some endpoints missing or wrong.",
                        "Complete and accurate.",
                        "Complete, accurate and checked against the API automatically.",
                    ],
                ),
                criterion(
                    "Usability",
                    "A new developer succeeds on the first try.",
                    [
                        "The tester could not start.",
                        "The tester needed help.",
                        "The tester succeeded unaided.",
                        "As proficient, and the tester's notes led to improvements.",
                    ],
                ),
            ]),
            alignments: vec![alignment(
                "Technical writing",
                "https://www.onetonline.org/link/summary/27-3042.00",
                "O*NET-SOC",
                "27-3042.00",
                "ceasn:Competency",
            )],
            tags: tags(&["writing", "api", "documentation"]),
            language: Some("en".into()),
            effort_hours: Some(10.0),
            credits_available: Some(1.5),
            ..Default::default()
        }),
    ]
}

/// The names of the demo certificate's components: the micro-credential and the secure coding
/// micro-badge.
pub const CERTIFICATE_COMPONENTS: [&str; 2] = ["Data Analysis with SQL", "Secure Coding Essentials: OWASP Top 10"];

/// The demo certificate, made of the achievements named in [`CERTIFICATE_COMPONENTS`] (whose
/// ids the caller gives, in that order): earned by holding both (8 credit hours together).
pub fn certificate(components: Vec<String>) -> NewAchievementFields {
    NewAchievementFields {
        kind: "certificate".into(),
        content: AchievementFields {
            name: "Certificate in Applied Data Engineering".into(),
            description: "A larger qualification: analysing data with SQL, and writing code that keeps it safe.".into(),
            criteria: "Awarded automatically once you hold **both** of its components: the *Data Analysis with SQL* micro-credential \
                       (6 credit hours) and the *Secure Coding Essentials* micro-badge (2 credit hours)."
                .into(),
            tags: tags(&["sql", "security", "data"]),
            language: Some("en".into()),
            credits_available: Some(8.0),
            validity_months: Some(60),
            ..Default::default()
        },
        requirements: Some(RequirementsFields { rule: Some("all".into()), components, ..Default::default() }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{NewAccount, SignUpFields};
    use crate::achievement::NewAchievement;
    use crate::organisation::OrganisationProfile;

    #[test]
    fn demo_content_passes_every_rule() {
        OrganisationProfile::parse(&organisation()).unwrap();
        assert!(matches!(NewAchievement::parse(&micro_credential()).unwrap(), NewAchievement::MicroCredential { .. }));
        let badges = micro_badges();
        assert!(badges.len() >= 3);
        for badge in &badges {
            assert!(matches!(NewAchievement::parse(badge).unwrap(), NewAchievement::MicroBadge(_)));
        }
        let ids = vec![crate::ids::AchievementId::new().to_string(), crate::ids::AchievementId::new().to_string()];
        assert!(matches!(NewAchievement::parse(&certificate(ids)).unwrap(), NewAchievement::Certificate { .. }));
        for account in ACCOUNTS {
            NewAccount::parse(SignUpFields { name: account.name.into(), email: account.email.into(), password: account.password.into() }).unwrap();
        }
        let names: Vec<String> = micro_badges().iter().chain(std::iter::once(&micro_credential())).map(|a| a.content.name.clone()).collect();
        let level_names: Vec<String> = match NewAchievement::parse(&micro_credential()).unwrap() {
            NewAchievement::MicroCredential { levels, .. } => levels.iter().map(|l| l.name.clone()).collect(),
            _ => Vec::new(),
        };
        for badge in FOREIGN_BADGES {
            assert!(names.iter().chain(&level_names).any(|n| n == badge.counts_as), "{} counts as a demo achievement", badge.name);
        }
    }
}
