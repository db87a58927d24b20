//! The public URLs that Cairn signs into credentials and that verifiers fetch — award pages,
//! credentials (JSON and VC-JWT), baked badges, status lists, OB 2.0 assertions, badge classes and
//! issuers, issuer DID documents and their `did:web`, the installation's own DID document, achievement pages and images — built and
//! read back in this one module.
//!
//! [`PublicUrls`] builds them from the configured public base URL (`Config::urls`);
//! [`PublicUrls::parse`] turns one back into the [`PublicDocument`] it names, or `None` for
//! anything this installation did not make (another host, port or scheme, credentials in the URL,
//! an unknown or odd path, an id that does not parse). The server mounts its routes at the same
//! [`paths`], so the URL a credential names and the route that answers it cannot drift apart.

use cairn_core::ids::{AchievementId, AwardId, OrganisationId};
use cairn_core::image::ImageType;
use url::Url;

/// Route paths in the router's syntax: `{id}` is the one parameter of each.
pub mod paths {
    /// The award page.
    pub const AWARD_PAGE: &str = "/awards/{id}";
    /// The embeddable card of an award.
    pub const AWARD_EMBED: &str = "/awards/{id}/embed";
    /// A learner's public portfolio, by handle.
    pub const PORTFOLIO: &str = "/u/{id}";
    /// The embeddable card of a portfolio.
    pub const PORTFOLIO_EMBED: &str = "/u/{id}/embed";
    /// The QR code of a portfolio's address, as SVG.
    pub const PORTFOLIO_QR: &str = "/u/{id}/qr.svg";
    /// The OB 3.0 credential with its Data Integrity proof (the credential's `id`).
    pub const CREDENTIAL: &str = "/awards/{id}/credential";
    /// The same, by the name a download gets.
    pub const CREDENTIAL_JSON: &str = "/awards/{id}/credential.json";
    /// The credential as a VC-JWT.
    pub const CREDENTIAL_JWT: &str = "/awards/{id}/credential.jwt";
    /// The baked PNG badge.
    pub const BADGE_PNG: &str = "/awards/{id}/badge.png";
    /// The baked SVG badge.
    pub const BADGE_SVG: &str = "/awards/{id}/badge.svg";
    /// A signed Bitstring Status List.
    pub const STATUS_LIST: &str = "/status/{id}";
    /// The hosted OB 2.0 assertion of an award.
    pub const OB2_ASSERTION: &str = "/ob2/assertions/{id}";
    /// The OB 2.0 badge class of an achievement.
    pub const OB2_BADGE_CLASS: &str = "/ob2/badges/{id}";
    /// The OB 2.0 issuer profile of an organisation.
    pub const OB2_ISSUER: &str = "/ob2/issuers/{id}";
    /// The DID document of an issuer's `did:web`.
    pub const DID_DOCUMENT: &str = "/issuers/{id}/did.json";
    /// The DID document of the installation's own `did:web`, which signs learners' transcripts.
    pub const PLATFORM_DID_DOCUMENT: &str = "/platform/did.json";
    /// The achievement page (an OB 3.0 `Achievement`'s `id` and criteria).
    pub const ACHIEVEMENT_PAGE: &str = "/achievements/{id}";
    /// An achievement's badge image.
    pub const ACHIEVEMENT_IMAGE: &str = "/achievements/{id}/image";
    /// An issuer's image.
    pub const ISSUER_IMAGE: &str = "/issuers/{id}/image";
}

/// Something this installation publishes at a public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicDocument {
    AwardPage(AwardId),
    /// The OB 3.0 credential (JSON with its Data Integrity proof).
    Credential(AwardId),
    /// The OB 3.0 credential as a VC-JWT.
    CredentialJwt(AwardId),
    /// A baked badge image.
    Badge(AwardId, ImageType),
    /// A status list, by its id.
    StatusList(String),
    Ob2Assertion(AwardId),
    Ob2BadgeClass(AchievementId),
    Ob2Issuer(OrganisationId),
    /// An issuer's DID document, named by its `did:web` or by its URL.
    DidDocument(OrganisationId),
    /// The installation's own DID document, named by its `did:web` or by its URL.
    PlatformDidDocument,
    AchievementPage(AchievementId),
    AchievementImage(AchievementId),
    IssuerImage(OrganisationId),
}

type Reader = fn(&str) -> Option<PublicDocument>;

/// Every path this module reads, with what it names.
const ROUTES: [(&str, Reader); 15] = [
    (paths::AWARD_PAGE, |id| Some(PublicDocument::AwardPage(canonical(id)?))),
    (paths::CREDENTIAL, |id| Some(PublicDocument::Credential(canonical(id)?))),
    (paths::CREDENTIAL_JSON, |id| Some(PublicDocument::Credential(canonical(id)?))),
    (paths::CREDENTIAL_JWT, |id| Some(PublicDocument::CredentialJwt(canonical(id)?))),
    (paths::BADGE_PNG, |id| Some(PublicDocument::Badge(canonical(id)?, ImageType::Png))),
    (paths::BADGE_SVG, |id| Some(PublicDocument::Badge(canonical(id)?, ImageType::Svg))),
    (paths::STATUS_LIST, |id| crate::awards::plausible_list_id(id).then(|| PublicDocument::StatusList(id.to_string()))),
    (paths::OB2_ASSERTION, |id| Some(PublicDocument::Ob2Assertion(canonical(id)?))),
    (paths::OB2_BADGE_CLASS, |id| Some(PublicDocument::Ob2BadgeClass(canonical(id)?))),
    (paths::OB2_ISSUER, |id| Some(PublicDocument::Ob2Issuer(canonical(id)?))),
    (paths::DID_DOCUMENT, |id| Some(PublicDocument::DidDocument(canonical(id)?))),
    (paths::ACHIEVEMENT_PAGE, |id| Some(PublicDocument::AchievementPage(canonical(id)?))),
    (paths::ACHIEVEMENT_IMAGE, |id| Some(PublicDocument::AchievementImage(canonical(id)?))),
    (paths::ISSUER_IMAGE, |id| Some(PublicDocument::IssuerImage(canonical(id)?))),
    // Not a credential document, but a path of this site all the same.
    (paths::AWARD_EMBED, |_| None),
];

impl PublicDocument {
    /// The site-relative path (`/awards/…/credential`).
    pub fn path(&self) -> String {
        let (pattern, id) = match self {
            PublicDocument::AwardPage(id) => (paths::AWARD_PAGE, id.to_string()),
            PublicDocument::Credential(id) => (paths::CREDENTIAL, id.to_string()),
            PublicDocument::CredentialJwt(id) => (paths::CREDENTIAL_JWT, id.to_string()),
            PublicDocument::Badge(id, ImageType::Png) => (paths::BADGE_PNG, id.to_string()),
            PublicDocument::Badge(id, ImageType::Svg) => (paths::BADGE_SVG, id.to_string()),
            PublicDocument::StatusList(id) => (paths::STATUS_LIST, id.clone()),
            PublicDocument::Ob2Assertion(id) => (paths::OB2_ASSERTION, id.to_string()),
            PublicDocument::Ob2BadgeClass(id) => (paths::OB2_BADGE_CLASS, id.to_string()),
            PublicDocument::Ob2Issuer(id) => (paths::OB2_ISSUER, id.to_string()),
            PublicDocument::DidDocument(id) => (paths::DID_DOCUMENT, id.to_string()),
            PublicDocument::PlatformDidDocument => (paths::PLATFORM_DID_DOCUMENT, String::new()),
            PublicDocument::AchievementPage(id) => (paths::ACHIEVEMENT_PAGE, id.to_string()),
            PublicDocument::AchievementImage(id) => (paths::ACHIEVEMENT_IMAGE, id.to_string()),
            PublicDocument::IssuerImage(id) => (paths::ISSUER_IMAGE, id.to_string()),
        };
        fill(pattern, &id)
    }

    /// What a site-relative path names, if anything.
    pub fn from_path(path: &str) -> Option<PublicDocument> {
        if path == paths::PLATFORM_DID_DOCUMENT {
            return Some(PublicDocument::PlatformDidDocument);
        }
        ROUTES.iter().find_map(|(pattern, read)| capture(pattern, path).and_then(read))
    }
}

/// An id in the one form Cairn writes (lower-case, hyphenated); the other forms a UUID parser
/// accepts (`{…}`, `urn:uuid:…`, no hyphens, upper case) would give one document many URLs.
fn canonical<T: std::str::FromStr + std::fmt::Display>(segment: &str) -> Option<T> {
    segment.parse::<T>().ok().filter(|id| id.to_string() == segment)
}

/// `pattern` with its `{id}` replaced.
fn fill(pattern: &str, id: &str) -> String {
    pattern.replace("{id}", id)
}

/// The `{id}` segment of `path` when it has `pattern`'s shape, segment for segment.
fn capture<'p>(pattern: &str, path: &'p str) -> Option<&'p str> {
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    let mut id = None;
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return id,
            (Some("{id}"), Some(segment)) if !segment.is_empty() => id = Some(segment),
            (Some(literal), Some(segment)) if literal == segment => {}
            _ => return None,
        }
    }
}

/// The public URLs of an installation at `base` (its configured public URL).
#[derive(Debug, Clone, Copy)]
pub struct PublicUrls<'a> {
    base: &'a Url,
}

impl<'a> PublicUrls<'a> {
    pub fn new(base: &'a Url) -> Self {
        Self { base }
    }

    /// The absolute URL of `document`.
    pub fn url(&self, document: &PublicDocument) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), document.path())
    }

    pub fn award_page(&self, award: AwardId) -> String {
        self.url(&PublicDocument::AwardPage(award))
    }

    /// A learner's portfolio page.
    pub fn portfolio(&self, handle: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), fill(paths::PORTFOLIO, handle))
    }

    pub fn portfolio_embed(&self, handle: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), fill(paths::PORTFOLIO_EMBED, handle))
    }

    pub fn portfolio_qr(&self, handle: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), fill(paths::PORTFOLIO_QR, handle))
    }

    pub fn award_embed(&self, award: AwardId) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), fill(paths::AWARD_EMBED, &award.to_string()))
    }

    /// The credential's `id`: its JSON form.
    pub fn credential(&self, award: AwardId) -> String {
        self.url(&PublicDocument::Credential(award))
    }

    pub fn credential_jwt(&self, award: AwardId) -> String {
        self.url(&PublicDocument::CredentialJwt(award))
    }

    pub fn badge(&self, award: AwardId, image_type: ImageType) -> String {
        self.url(&PublicDocument::Badge(award, image_type))
    }

    pub fn status_list(&self, list_id: &str) -> String {
        self.url(&PublicDocument::StatusList(list_id.to_string()))
    }

    pub fn ob2_assertion(&self, award: AwardId) -> String {
        self.url(&PublicDocument::Ob2Assertion(award))
    }

    pub fn ob2_badge_class(&self, achievement: AchievementId) -> String {
        self.url(&PublicDocument::Ob2BadgeClass(achievement))
    }

    pub fn ob2_issuer(&self, organisation: OrganisationId) -> String {
        self.url(&PublicDocument::Ob2Issuer(organisation))
    }

    pub fn did_document(&self, organisation: OrganisationId) -> String {
        self.url(&PublicDocument::DidDocument(organisation))
    }

    pub fn achievement_page(&self, achievement: AchievementId) -> String {
        self.url(&PublicDocument::AchievementPage(achievement))
    }

    pub fn achievement_image(&self, achievement: AchievementId) -> String {
        self.url(&PublicDocument::AchievementImage(achievement))
    }

    pub fn issuer_image(&self, organisation: OrganisationId) -> String {
        self.url(&PublicDocument::IssuerImage(organisation))
    }

    /// The issuer's `did:web`, which resolves to [`PublicUrls::did_document`]: the host (with
    /// its port), then the base URL's path and the document's path without `/did.json`, as
    /// colon-separated segments (`did:web:example.org:issuers:<id>`).
    pub fn issuer_did(&self, organisation: OrganisationId) -> String {
        self.did_for(&fill(paths::DID_DOCUMENT, &organisation.to_string()))
    }

    /// The verification method every proof of the issuer names: the one key of its DID document.
    pub fn verification_method(&self, organisation: OrganisationId) -> String {
        format!("{}#key-1", self.issuer_did(organisation))
    }

    /// The installation's own `did:web`, which resolves to [`paths::PLATFORM_DID_DOCUMENT`]
    /// (`did:web:example.org:platform`).
    pub fn platform_did(&self) -> String {
        self.did_for(paths::PLATFORM_DID_DOCUMENT)
    }

    /// The verification method of the installation's proofs: the one key of its DID document.
    pub fn platform_verification_method(&self) -> String {
        format!("{}#key-1", self.platform_did())
    }

    /// The `did:web` that resolves to `document` (a path ending in `/did.json`): the host (with
    /// its port), then the base URL's path and the document's path without `/did.json`, as
    /// colon-separated segments.
    fn did_for(&self, document: &str) -> String {
        let host = self.base.host_str().unwrap_or("localhost");
        let host = match self.base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let path = format!("{}{}", self.base.path().trim_end_matches('/'), document.strip_suffix("/did.json").unwrap_or(document));
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        cairn_vc::did::did_web(&host, &segments)
    }

    /// What `url` names on this installation, or `None` when it is not one of its public
    /// documents: an http(s) URL must have the base URL's scheme, host and port, no user name or
    /// password, and a path under the base path that is exactly one of [`paths`] with an id that
    /// parses (query and fragment are ignored); a `did:web` must be exactly an issuer's (a
    /// fragment such as `#key-1` is ignored).
    pub fn parse(&self, url: &str) -> Option<PublicDocument> {
        if url.starts_with("did:") {
            return self.parse_did(url);
        }
        let parsed = Url::parse(url).ok()?;
        if parsed.origin() != self.base.origin() || !parsed.username().is_empty() || parsed.password().is_some() {
            return None;
        }
        let path = parsed.path().strip_prefix(self.base.path().trim_end_matches('/'))?;
        if !path.starts_with('/') {
            return None;
        }
        PublicDocument::from_path(path)
    }

    fn parse_did(&self, did_url: &str) -> Option<PublicDocument> {
        let did = did_url.split(['#', '?']).next()?;
        if did == self.platform_did() {
            return Some(PublicDocument::PlatformDidDocument);
        }
        let organisation: OrganisationId = did.rsplit(':').next()?.parse().ok()?;
        (did == self.issuer_did(organisation)).then_some(PublicDocument::DidDocument(organisation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<PublicDocument> {
        let award = AwardId::new();
        let achievement = AchievementId::new();
        let organisation = OrganisationId::new();
        vec![
            PublicDocument::AwardPage(award),
            PublicDocument::Credential(award),
            PublicDocument::CredentialJwt(award),
            PublicDocument::Badge(award, ImageType::Png),
            PublicDocument::Badge(award, ImageType::Svg),
            PublicDocument::StatusList("r-0f3a_9".into()),
            PublicDocument::Ob2Assertion(award),
            PublicDocument::Ob2BadgeClass(achievement),
            PublicDocument::Ob2Issuer(organisation),
            PublicDocument::DidDocument(organisation),
            PublicDocument::PlatformDidDocument,
            PublicDocument::AchievementPage(achievement),
            PublicDocument::AchievementImage(achievement),
            PublicDocument::IssuerImage(organisation),
        ]
    }

    #[track_caller]
    fn check_round_trips(base: &str) {
        let base = Url::parse(base).unwrap();
        let urls = PublicUrls::new(&base);
        for document in every_kind() {
            let url = urls.url(&document);
            assert!(url.starts_with(base.as_str().trim_end_matches('/')), "{url} under {base}");
            assert_eq!(urls.parse(&url), Some(document.clone()), "{url}");
            assert_eq!(urls.parse(&format!("{url}?download=1#top")), Some(document.clone()), "query and fragment are ignored: {url}");
        }
        let organisation = OrganisationId::new();
        let did = urls.issuer_did(organisation);
        assert_eq!(urls.parse(&did), Some(PublicDocument::DidDocument(organisation)), "{did}");
        assert_eq!(urls.parse(&urls.verification_method(organisation)), Some(PublicDocument::DidDocument(organisation)));
        // did:web resolution (DID Web §3.2): colons become slashes, %3A a colon, then /did.json.
        let resolved = format!("https://{}/did.json", did.trim_start_matches("did:web:").replace(':', "/").replace("%3A", ":"));
        let served = urls.did_document(organisation);
        assert_eq!(resolved.split_once("://").unwrap().1, served.split_once("://").unwrap().1, "{did} resolves to the served document");
        let platform = urls.platform_did();
        assert_eq!(urls.parse(&urls.platform_verification_method()), Some(PublicDocument::PlatformDidDocument));
        let resolved = format!("https://{}/did.json", platform.trim_start_matches("did:web:").replace(':', "/").replace("%3A", ":"));
        let served = urls.url(&PublicDocument::PlatformDidDocument);
        assert_eq!(resolved.split_once("://").unwrap().1, served.split_once("://").unwrap().1, "{platform} resolves to the served document");
    }

    #[test]
    fn every_kind_of_document_round_trips() {
        check_round_trips("http://127.0.0.1:8080/");
        check_round_trips("https://badges.example.org");
        check_round_trips("https://example.org/cairn/");
    }

    #[test]
    fn the_paths_the_router_mounts_are_the_ones_built() {
        let award = AwardId::new();
        assert_eq!(PublicDocument::Credential(award).path(), fill(paths::CREDENTIAL, &award.to_string()));
        assert_eq!(PublicDocument::from_path(&fill(paths::CREDENTIAL_JSON, &award.to_string())), Some(PublicDocument::Credential(award)));
        assert_eq!(PublicDocument::from_path(&fill(paths::AWARD_EMBED, &award.to_string())), None, "the embed card is no document");
        let base = Url::parse("https://badges.example.org/").unwrap();
        assert_eq!(PublicUrls::new(&base).award_embed(award), format!("https://badges.example.org/awards/{award}/embed"));
        assert_eq!(
            PublicUrls::new(&base).issuer_did("0b4f6c1e-54a2-4c3e-9d55-8b1b0f3a7e21".parse().unwrap()),
            "did:web:badges.example.org:issuers:0b4f6c1e-54a2-4c3e-9d55-8b1b0f3a7e21"
        );
        let local = Url::parse("http://localhost:8080/").unwrap();
        assert!(PublicUrls::new(&local).issuer_did(OrganisationId::new()).starts_with("did:web:localhost%3A8080:issuers:"));
    }

    #[test]
    fn foreign_hosts_and_odd_paths_are_refused() {
        let base = Url::parse("https://badges.example.org/cairn/").unwrap();
        let urls = PublicUrls::new(&base);
        let award = AwardId::new();
        let organisation = OrganisationId::new();
        let good = urls.credential(award);
        assert!(urls.parse(&good).is_some());
        let refused = [
            good.replace("badges.example.org", "evil.example.org"),
            good.replace("badges.example.org", "badges.example.org.evil.example"),
            good.replace("https://", "http://"),
            good.replace("badges.example.org", "badges.example.org:8443"),
            good.replace("https://", "https://user:pass@"),
            good.replace("https://", "https://user@"),
            good.replace("/cairn/", "/"),
            good.replace("/cairn/", "/other/"),
            good.replace("/cairn/", "/cairnx/"),
            good.replace("/credential", "/credential/"),
            good.replace("/credential", "//credential"),
            good.replace("/credential", "/credential.xml"),
            good.replace("/awards/", "/awards//"),
            good.replace(&award.to_string(), "not-an-id"),
            good.replace(&award.to_string(), &award.to_string().to_uppercase()),
            good.replace(&award.to_string(), &award.to_string().replace('-', "")),
            good.replace(&award.to_string(), &format!("urn:uuid:{award}")),
            good.replace(&award.to_string(), ""),
            format!("{}/extra", good),
            urls.status_list("a b"),
            urls.status_list(&"x".repeat(65)),
            urls.url(&PublicDocument::AwardPage(award)).replace("/awards/", "/AWARDS/"),
            "https://badges.example.org/cairn/".into(),
            "https://badges.example.org/cairn".into(),
            "javascript:alert(1)".into(),
            "data:application/json,{}".into(),
            "not a url".into(),
            String::new(),
            format!("did:web:evil.example.org:cairn:issuers:{organisation}"),
            format!("did:web:badges.example.org:issuers:{organisation}"),
            format!("did:web:badges.example.org:cairn:issuers:{organisation}:extra"),
            format!("did:web:badges.example.org:cairn:issuers:{organisation}x"),
            format!("did:key:z6Mk{organisation}"),
            "did:web:".into(),
        ];
        for url in refused {
            assert_eq!(urls.parse(&url), None, "{url:?}");
        }
    }
}
