//! Open Badges standards for Cairn: keys, DIDs and (growing) the credential formats.
//!
//! This crate performs no I/O and needs no runtime. Everything it needs from the world (documents,
//! DID documents, status lists, the time) arrives as arguments.
//!
//! ```
//! use cairn_vc::keys::Ed25519KeyPair;
//! use cairn_vc::did;
//!
//! let key = Ed25519KeyPair::from_seed([7; 32]);
//! let did_key = did::did_key(&key.public_key_multibase());
//! assert!(did_key.starts_with("did:key:z6Mk"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bake;
pub mod canon;
pub mod clr;
pub mod contexts;
pub mod dates;
pub mod did;
pub mod keys;
pub mod loader;
pub mod ob2;
pub mod ob3;
pub mod oid4vci;
pub mod schemas;
pub mod status;
pub mod suites;
pub mod verify;
