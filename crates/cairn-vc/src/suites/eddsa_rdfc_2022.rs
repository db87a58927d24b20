//! Data Integrity `eddsa-rdfc-2022`: Ed25519 signatures over RDFC-1.0 canonical N-Quads.
