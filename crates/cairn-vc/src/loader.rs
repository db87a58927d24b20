//! Document loading: bundled contexts, and documents the caller supplies (DID documents, status lists).
