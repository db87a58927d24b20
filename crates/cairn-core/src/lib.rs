//! Cairn's domain: organisations, accounts, roles, achievements, rubrics and the catalog's rules.
//!
//! Plain types and functions with no I/O and no `async`: the clock, identifiers and randomness
//! arrive as arguments, so every rule is a fast unit test. Storage lives in `cairn-store`,
//! HTTP in `cairn-server`.
//!
//! ```
//! use cairn_core::authz::{Actor, Action, OrgAction, Role};
//! use cairn_core::ids::{OrganisationId, UserId};
//!
//! let org = OrganisationId::new();
//! let staff = Actor::member(UserId::new(), vec![(org, Role::Staff)]);
//! assert!(staff.authorise(Action::Org(org, OrgAction::Author)).is_ok());
//! assert!(staff.authorise(Action::Org(org, OrgAction::ManageMembers)).is_err());
//! ```
#![forbid(unsafe_code)]

pub mod account;
pub mod achievement;
pub mod assessment;
pub mod authz;
pub mod award;
pub mod award_batch;
pub mod calendar;
pub mod compare;
pub mod composition;
pub mod demo;
pub mod discovery;
pub mod evidence;
pub mod fees;
pub mod ids;
pub mod image;
pub mod insight;
pub mod invalid;
pub mod markdown;
pub mod notification;
pub mod oauth;
pub mod offer;
pub mod organisation;
pub mod outcomes;
pub mod payments;
pub mod progress;
pub mod recognition;
pub mod renewal;
pub mod rubric;
pub mod submission;
pub mod wallet;
pub mod webhook;

pub use invalid::{FieldError, Invalid};
