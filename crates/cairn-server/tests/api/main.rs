//! Integration tests of the HTTP API: the real app on SQLite and on PostgreSQL.

#[macro_use]
mod helpers;

mod account;
mod account_data;
mod accounts;
mod administration;
mod assess_pages;
mod authoring;
mod award_batches;
mod catalog;
mod collaboration;
mod compare;
mod discovery;
mod expiry;
mod fees;
mod forms;
mod home_pages;
mod imports;
mod insight;
mod issuing;
mod journey;
mod learner_pages;
mod ob_api;
mod offers;
mod organisations;
mod pages;
mod payments;
mod platform;
mod recognition;
mod renewals;
mod security;
mod sharing;
mod sign_in_providers;
mod stacks;
mod synthetic;
mod transcripts;
mod uploads;
mod verify_url;
mod wallet;
mod webhooks;
