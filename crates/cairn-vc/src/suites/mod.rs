//! Proof suites, one module each: Data Integrity `eddsa-rdfc-2022` and VC-JWT.

pub mod eddsa_rdfc_2022;
pub mod vc_jwt;
