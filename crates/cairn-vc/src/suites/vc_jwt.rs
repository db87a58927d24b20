//! VC-JWT (VC-JOSE-COSE and the OB 3.0 JWT rules): EdDSA signing; EdDSA, ES256 and RS256 verification.
