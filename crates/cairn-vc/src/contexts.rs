//! The JSON-LD contexts Cairn understands, bundled and pinned; never fetched.
//!
//! Each context is the published file, byte for byte, embedded at build time from `contexts/` (the folder
//! mirrors the official URL; `contexts/SOURCES.md` records each file's origin and sha256, and a test
//! recomputes the digests). A pinned context cannot change under a signature: the bytes that were hashed
//! when a credential was signed are the bytes used to check it.
//!
//! ```
//! use cairn_vc::contexts;
//!
//! let vc = contexts::bundled_context(contexts::VC_V2).expect("bundled");
//! assert!(vc.contains("\"@protected\""));
//! assert!(contexts::bundled_context("https://example.org/my-context.json").is_none());
//! ```

/// VC Data Model 2.0: `https://www.w3.org/ns/credentials/v2`. The first context of every credential Cairn issues.
pub const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// VC Data Model 1.1: `https://www.w3.org/2018/credentials/v1` (verify only).
pub const VC_V1: &str = "https://www.w3.org/2018/credentials/v1";
/// Open Badges 3.0, context 3.0.3: the OB context Cairn issues with.
pub const OB_V3P0_303: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// Open Badges 3.0, context 3.0.2 (verify only).
pub const OB_V3P0_302: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json";
/// Open Badges 3.0, context 3.0.1 (verify only).
pub const OB_V3P0_301: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json";
/// Open Badges 3.0, context 3.0.0 (the unversioned `context.json`; verify only).
pub const OB_V3P0: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context.json";
/// Open Badges 3.0 extensions (`1EdTechRevocationList`, `1EdTechCredentialRefresh`, …).
pub const OB_V3P0_EXTENSIONS: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";
/// CLR 2.0, context 2.0.1: the CLR context Cairn issues with.
pub const CLR_V2P0_201: &str = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json";
/// CLR 2.0, context 2.0.0 (the unversioned `context.json`; verify only).
pub const CLR_V2P0: &str = "https://purl.imsglobal.org/spec/clr/v2p0/context.json";
/// Data Integrity v1 (`DataIntegrityProof` terms for VC 1.1 credentials).
pub const DATA_INTEGRITY_V1: &str = "https://w3id.org/security/data-integrity/v1";
/// Data Integrity v2.
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
/// Multikey v1, for controller documents that publish `Multikey` verification methods.
pub const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
/// DID Core v1, for DID documents.
pub const DID_V1: &str = "https://www.w3.org/ns/did/v1";
/// Bitstring Status List v1 (only needed with VC 1.1; VC 2.0 defines these terms itself).
pub const STATUS_V1: &str = "https://www.w3.org/ns/credentials/status/v1";
/// StatusList2021 v1 (legacy; verify only).
pub const STATUS_LIST_2021_V1: &str = "https://w3id.org/vc/status-list/2021/v1";
/// Ed25519Signature2020 v1 (legacy; verify only).
pub const ED25519_2020_V1: &str = "https://w3id.org/security/suites/ed25519-2020/v1";
/// Open Badges 2.0 (`https://w3id.org/openbadges/v2`), for hosted OB 2.0 assertions.
pub const OB_V2: &str = "https://w3id.org/openbadges/v2";

/// One bundled context: its official URL and the published bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledContext {
    /// The URL documents use to refer to the context.
    pub url: &'static str,
    /// The file under `contexts/` the bytes come from (host and path of `url`).
    pub file: &'static str,
    /// The published JSON, byte for byte.
    pub json: &'static str,
}

macro_rules! bundled {
    ($($url:expr => $file:literal,)*) => {
        /// Every bundled context, in the order of `contexts/SOURCES.md`.
        pub const BUNDLED: &[BundledContext] = &[
            $(BundledContext { url: $url, file: $file, json: include_str!(concat!("../contexts/", $file)) },)*
        ];
    };
}

bundled! {
    VC_V2 => "www.w3.org/ns/credentials/v2",
    VC_V1 => "www.w3.org/2018/credentials/v1",
    OB_V3P0_303 => "purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    OB_V3P0_302 => "purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    OB_V3P0_301 => "purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    OB_V3P0 => "purl.imsglobal.org/spec/ob/v3p0/context.json",
    OB_V3P0_EXTENSIONS => "purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    CLR_V2P0_201 => "purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    CLR_V2P0 => "purl.imsglobal.org/spec/clr/v2p0/context.json",
    DATA_INTEGRITY_V1 => "w3id.org/security/data-integrity/v1",
    DATA_INTEGRITY_V2 => "w3id.org/security/data-integrity/v2",
    MULTIKEY_V1 => "w3id.org/security/multikey/v1",
    DID_V1 => "www.w3.org/ns/did/v1",
    STATUS_V1 => "www.w3.org/ns/credentials/status/v1",
    STATUS_LIST_2021_V1 => "w3id.org/vc/status-list/2021/v1",
    ED25519_2020_V1 => "w3id.org/security/suites/ed25519-2020/v1",
    OB_V2 => "w3id.org/openbadges/v2",
}

/// The published JSON of the context at `url`, if Cairn bundles it.
///
/// The match is exact: `http://` for an `https://` context, a trailing slash or a query string is a different
/// URL and is not bundled.
pub fn bundled_context(url: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|context| context.url == url).map(|context| context.json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const SOURCES: &str = include_str!("../contexts/SOURCES.md");

    /// The `(file, url, sha256)` rows of the table in `contexts/SOURCES.md`.
    fn recorded() -> Vec<(String, String, String)> {
        SOURCES
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let unquote = |cell: &str| cell.trim_matches('`').to_owned();
                (unquote(cells[1]), cells[2].to_owned(), unquote(cells[3]))
            })
            .collect()
    }

    #[test]
    fn every_bundled_context_matches_its_recorded_sha256() {
        let recorded = recorded();
        assert_eq!(recorded.len(), BUNDLED.len(), "SOURCES.md and BUNDLED list different contexts");
        for context in BUNDLED {
            let (_, url, sha256) = recorded.iter().find(|(file, _, _)| file == context.file).unwrap_or_else(|| panic!("{} is not in SOURCES.md", context.file));
            assert_eq!(url, context.url, "{}", context.file);
            let digest = hex::encode(Sha256::digest(context.json.as_bytes()));
            assert_eq!(&digest, sha256, "{} changed", context.file);
        }
    }

    #[test]
    fn every_bundled_context_is_a_json_ld_context_document() {
        for context in BUNDLED {
            let json: serde_json::Value = serde_json::from_str(context.json).unwrap();
            assert!(json.get("@context").is_some(), "{}", context.url);
        }
    }

    #[test]
    fn lookup_is_exact() {
        for (url, bundled) in [
            (VC_V2, true),
            (OB_V3P0_303, true),
            (CLR_V2P0_201, true),
            (OB_V2, true),
            ("http://www.w3.org/ns/credentials/v2", false),
            ("https://www.w3.org/ns/credentials/v2/", false),
            ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.4.json", false),
            ("", false),
        ] {
            assert_eq!(bundled_context(url).is_some(), bundled, "{url}");
        }
    }
}
