//! Integration tests of the HTTP API: the real app on SQLite and on PostgreSQL.

#[macro_use]
mod helpers;

mod accounts;
mod authoring;
mod catalog;
mod organisations;
mod platform;
