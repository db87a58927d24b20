//! Accounts: e-mail addresses, display names and the password policy.

use crate::invalid::{self, Invalid};
use std::fmt;

/// A syntactically valid, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address typed by a person: trimmed, lower-cased, one `@`, a dotted domain.
    ///
    /// # Errors
    /// A message naming the problem, quoting the value.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let value = raw.trim().to_lowercase();
        let valid = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
            && match value.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid { Ok(Email(value)) } else { Err(format!("\"{}\" is not an e-mail address", invalid::clip(raw.trim()))) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest password accepted at sign-up.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (bounds the hashing work).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Passwords up to this length are scored for guessability; longer ones are long enough, and
/// the bound keeps the estimator's work small for any input.
pub const MAX_SCORED_PASSWORD_CHARS: usize = 64;
/// The lowest guessability score accepted (zxcvbn's 0–4 scale: 3 means "safely unguessable",
/// about 10⁸ guesses, against a list of 30,000 common and breached passwords, names, words,
/// keyboard patterns, sequences, dates and l33t spellings).
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Why a password is too easy to guess, in words for the person choosing it; `None` when it is
/// fine. `hints` are the person's own words (name, e-mail) that a password should not lean on.
pub fn password_weakness(password: &str, hints: &[&str]) -> Option<String> {
    if password.chars().count() > MAX_SCORED_PASSWORD_CHARS {
        return None;
    }
    let estimate = zxcvbn::zxcvbn(password, hints);
    if u8::from(estimate.score()) >= MIN_PASSWORD_SCORE {
        return None;
    }
    let feedback = estimate.feedback();
    let warning = feedback.and_then(|f| f.warning()).map(|w| w.to_string());
    let suggestion = feedback.and_then(|f| f.suggestions().first()).map(|s| s.to_string());
    let reason = match (warning, suggestion) {
        (Some(warning), Some(suggestion)) => format!("{} {suggestion}", warning.trim_end_matches('.')),
        (Some(warning), None) => warning,
        (None, Some(suggestion)) => suggestion,
        (None, None) => "it is easy to guess".to_string(),
    };
    Some(format!("is too easy to guess: {}", lower_first(reason.trim_end_matches('.'))))
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What is wrong with `password` as the password of the account named `name` with the e-mail
/// address `email`, by the rules of every password Cairn accepts (at sign-up, reset or change):
/// 10–256 characters, not the e-mail address, not easy to guess ([`password_weakness`], with the
/// person's name and address as hints). `None` when it is fine.
pub fn password_problem(password: &str, name: &str, email: &str) -> Option<String> {
    let chars = password.chars().count();
    let email = email.trim().to_lowercase();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if !email.is_empty() && email == password.trim().to_lowercase() {
        return Some("must not be your e-mail address".to_string());
    }
    // The estimator matches these as lower-case dictionary words.
    let local_part = email.split('@').next().unwrap_or("").to_string();
    let mut hints: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    hints.push(name.split_whitespace().collect::<String>().to_lowercase());
    hints.extend([local_part, email.clone(), "cairn".into(), "badge".into(), "badges".into()]);
    let hints: Vec<&str> = hints.iter().map(String::as_str).collect();
    password_weakness(password, &hints)
}

/// A person's display name: 1–100 characters, trimmed, printable.
///
/// # Errors
/// The broken rule, at `/name`.
pub fn display_name(raw: &str) -> Result<String, Invalid> {
    let mut invalid = Invalid::new();
    let name = invalid::text(&mut invalid, "/name", raw, 1, 100);
    invalid.into_result(name)
}

/// What a sign-up form carries, before parsing.
#[derive(Debug, Clone, Default)]
pub struct SignUpFields {
    pub name: String,
    pub email: String,
    pub password: String,
}

/// A valid sign-up: the password is still plain text; `cairn-store` hashes it with argon2.
#[derive(Clone)]
pub struct NewAccount {
    pub name: String,
    pub email: Email,
    pub password: String,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount").field("name", &self.name).field("email", &self.email).field("password", &"***").finish()
    }
}

impl NewAccount {
    /// Applies the account rules: a name of 1–100 characters, an e-mail address, a password of
    /// 10–256 characters that is not the e-mail address and is not easy to guess
    /// ([`password_weakness`]).
    ///
    /// # Errors
    /// Every broken rule, by field (`/name`, `/email`, `/password`).
    pub fn parse(fields: SignUpFields) -> Result<NewAccount, Invalid> {
        let mut invalid = Invalid::new();
        let name = invalid::text(&mut invalid, "/name", &fields.name, 1, 100);
        let email = match Email::parse(&fields.email) {
            Ok(email) => Some(email),
            Err(message) => {
                invalid.push("/email", message);
                None
            }
        };
        if let Some(problem) = password_problem(&fields.password, &fields.name, email.as_ref().map(Email::as_str).unwrap_or(&fields.email)) {
            invalid.push("/password", problem);
        }
        match email {
            Some(email) if invalid.is_empty() => Ok(NewAccount { name, email, password: fields.password }),
            _ => Err(invalid),
        }
    }
}

/// Whether two secrets (or their digests) are equal, compared in time that does not depend on
/// where they differ: the length is not secret, the content is. For CSRF tokens, client secrets
/// and PKCE challenges alike.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_equal_only_when_every_byte_is() {
        assert!(same_secret("abc", "abc"));
        assert!(same_secret("", ""));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[track_caller]
    fn check_email(raw: &str, expected: Result<&str, ()>) {
        assert_eq!(Email::parse(raw).map(|e| e.0).map_err(|_| ()), expected.map(str::to_string));
    }

    #[test]
    fn email_addresses_are_normalised_or_refused() {
        check_email(" Ada@Example.ORG ", Ok("ada@example.org"));
        check_email("a.b+tag@sub.example.co.uk", Ok("a.b+tag@sub.example.co.uk"));
        check_email("", Err(()));
        check_email("no-at-sign", Err(()));
        check_email("two@@example.org", Err(()));
        check_email("a@localhost", Err(()));
        check_email("a@.example.org", Err(()));
        check_email("a b@example.org", Err(()));
        check_email("<a@example.org>", Err(()));
        check_email(&format!("{}@example.org", "x".repeat(65)), Err(()));
    }

    #[test]
    fn sign_up_reports_every_broken_rule() {
        let invalid = NewAccount::parse(SignUpFields { name: " ".into(), email: "nope".into(), password: "short".into() }).unwrap_err();
        let pointers: Vec<&str> = invalid.errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/name", "/email", "/password"]);
    }

    #[track_caller]
    fn check_password(password: &str, accepted: bool) {
        let result = NewAccount::parse(SignUpFields { name: "Ada Lovelace".into(), email: "ada@example.org".into(), password: password.into() });
        assert_eq!(result.is_ok(), accepted, "{password:?}: {result:?}");
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        check_password("password123", false);
        check_password("P@ssw0rd123", false);
        check_password("qwertyuiop1", false);
        check_password("1234567890", false);
        check_password("abcdefghij", false);
        check_password("trustno1trustno1", false);
        check_password("adalovelace1", false);
        check_password("a long enough password", true);
        check_password("correct horse battery", true);
        check_password(&"x".repeat(MAX_SCORED_PASSWORD_CHARS + 1), true);
    }

    #[test]
    fn a_refused_password_says_why() {
        let invalid = NewAccount::parse(SignUpFields { name: "A".into(), email: "a@example.org".into(), password: "password123".into() }).unwrap_err();
        let detail = invalid.at("/password").unwrap();
        assert!(detail.starts_with("is too easy to guess: "), "{detail}");
        assert!(detail.contains("common password"), "{detail}");
    }

    #[test]
    fn password_must_differ_from_the_email_address() {
        let invalid = NewAccount::parse(SignUpFields { name: "A".into(), email: "abcdefghij@x.org".into(), password: "ABCDEFGHIJ@x.org".into() }).unwrap_err();
        assert_eq!(invalid.at("/password"), Some("must not be your e-mail address"));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let account =
            NewAccount::parse(SignUpFields { name: "Ada".into(), email: "ada@example.org".into(), password: "correct horse battery".into() }).unwrap();
        assert!(!format!("{account:?}").contains("horse"));
    }
}

/// Longest API token name.
pub const MAX_TOKEN_NAME_CHARS: usize = 80;

/// An API token's name: what it is for, 1–80 characters, trimmed.
///
/// # Errors
/// A message stating the rule.
pub fn token_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if let Some(c) = invalid::forbidden_char(name) {
        return Err(invalid::forbidden_char_message(c));
    }
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        Err(format!("a token needs a name of 1 to {MAX_TOKEN_NAME_CHARS} characters"))
    } else {
        Ok(name.to_string())
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Only read: the JSON API refuses any request but `GET` and `HEAD`.
    ReadOnly,
    /// Everything its owner may do.
    Full,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "read-only",
            TokenScope::Full => "full",
        }
    }

    /// Parses `read-only` or `full`.
    ///
    /// # Errors
    /// A message quoting the value and naming the accepted ones.
    pub fn parse(raw: &str) -> Result<TokenScope, String> {
        match raw.trim() {
            "read-only" => Ok(TokenScope::ReadOnly),
            "full" => Ok(TokenScope::Full),
            other => Err(format!("\"{}\" is not a token scope (read-only or full)", invalid::clip(other))),
        }
    }
}

/// How many days a new API token lasts unless its owner chooses otherwise.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;
/// The longest lifetime a token may be given, in days (ten years); "never" is also possible.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// A new API token as typed, before parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiTokenFields {
    pub name: String,
    /// `read-only` or `full`; empty for full.
    pub scope: String,
    /// Whole days from 1 to [`MAX_TOKEN_DAYS`], `never`, or empty for [`DEFAULT_TOKEN_DAYS`].
    pub expires_in_days: String,
}

/// A valid new API token: its name, scope and lifetime (`None`: it never expires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub name: String,
    pub scope: TokenScope,
    pub lifetime_days: Option<u32>,
}

impl NewApiToken {
    /// Applies the token rules: a name ([`token_name`]), a scope, a lifetime.
    ///
    /// # Errors
    /// Every broken rule, by field (`/name`, `/scope`, `/expires_in_days`).
    pub fn parse(fields: &ApiTokenFields) -> Result<NewApiToken, Invalid> {
        let mut invalid = Invalid::new();
        let name = token_name(&fields.name).unwrap_or_else(|message| {
            invalid.push("/name", message);
            String::new()
        });
        let scope = match fields.scope.trim() {
            "" => TokenScope::Full,
            raw => TokenScope::parse(raw).unwrap_or_else(|message| {
                invalid.push("/scope", message);
                TokenScope::Full
            }),
        };
        let lifetime_days = match fields.expires_in_days.trim() {
            "" => Some(DEFAULT_TOKEN_DAYS),
            "never" => None,
            raw => match raw.parse::<u32>() {
                Ok(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Some(days),
                _ => {
                    invalid.push("/expires_in_days", format!("\"{}\" is not a number of days from 1 to {MAX_TOKEN_DAYS}, or never", invalid::clip(raw)));
                    None
                }
            },
        };
        invalid.into_result(NewApiToken { name, scope, lifetime_days })
    }

    /// The token a password sign-in over the API hands out: "API session", full scope, the
    /// default lifetime.
    pub fn api_session() -> NewApiToken {
        NewApiToken { name: "API session".into(), scope: TokenScope::Full, lifetime_days: Some(DEFAULT_TOKEN_DAYS) }
    }

    /// When a token made at `now` stops working; `None` for never.
    pub fn expires_at(&self, now: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
        self.lifetime_days.map(|days| now + time::Duration::days(i64::from(days)))
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        assert_eq!(super::token_name("  CI publishing "), Ok("CI publishing".to_string()));
        assert!(super::token_name("   ").is_err());
        assert!(super::token_name(&"x".repeat(81)).is_err());
        assert!(super::token_name("ci\u{0}").is_err());
    }

    #[track_caller]
    fn check(scope: &str, days: &str, expected: Result<(TokenScope, Option<u32>), &[&str]>) {
        let fields = ApiTokenFields { name: "ci".into(), scope: scope.into(), expires_in_days: days.into() };
        let parsed = NewApiToken::parse(&fields).map(|t| (t.scope, t.lifetime_days));
        let parsed = parsed.map_err(|invalid| invalid.errors.into_iter().map(|e| e.pointer).collect::<Vec<_>>());
        assert_eq!(parsed, expected.map_err(|pointers| pointers.iter().map(|p| p.to_string()).collect()));
    }

    #[test]
    fn tokens_are_full_for_ninety_days_unless_chosen_otherwise() {
        check("", "", Ok((TokenScope::Full, Some(DEFAULT_TOKEN_DAYS))));
        check("read-only", "30", Ok((TokenScope::ReadOnly, Some(30))));
        check("full", "never", Ok((TokenScope::Full, None)));
        check("full", "3650", Ok((TokenScope::Full, Some(3650))));
        check("admin", "0", Err(&["/scope", "/expires_in_days"]));
        check("full", "3651", Err(&["/expires_in_days"]));
        check("full", "1.5", Err(&["/expires_in_days"]));
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        let token = NewApiToken::parse(&ApiTokenFields { name: "ci".into(), expires_in_days: "30".into(), ..Default::default() }).unwrap();
        assert_eq!(token.expires_at(now), Some(time::macros::datetime!(2026-01-31 00:00 UTC)));
        assert_eq!(NewApiToken::api_session().expires_at(now), Some(now + time::Duration::days(90)));
    }
}
