//! RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, offline.
