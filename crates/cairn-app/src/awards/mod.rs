//! Awards: issuing them (every credential form, status lists, stacking), revoking, suspending and
//! reinstating them, the OB 2.0 hosted documents and status lists that keep them verifiable, and
//! what the award pages, the backpack and the downloads show.
//!
//! - `issuing.rs` — the award transaction with its effects, stacking, status changes.
//! - `documents.rs` — the OB 3.0 and OB 2.0 documents, pure functions of stored values.
//! - `images.rs` — the baked PNG and SVG badges.
//! - `status_lists.rs` — the signed Bitstring Status Lists.
//! - `hosted.rs` — the OB 2.0 hosted assertion, badge class and issuer.
//! - `views.rs` — who may see an award (`visible`), the award page, the embeddable card, the
//!   backpack, privacy and downloads.

pub(crate) mod documents;
pub mod hosted;
mod images;
mod issuing;
mod status_lists;
mod views;

use cairn_core::ids::AwardId;
use cairn_core::image::ImageType;
use cairn_store::Award;
use serde_json::{Value, json};

use crate::config::Config;

pub use documents::{PriorLearningBasis, issuer_did, status_list_url, verification_method};
pub(crate) use images::render_png;
pub(crate) use issuing::issue;
pub use issuing::{AwardRequest, MAX_REASON_CHARS, STATUS_LIST_LENGTH, award, award_with_stack, set_status};
pub(crate) use issuing::{CredentialInput, HoldTimes, Signing, StatusSlots, Subject, claim_held, hold_credentials, random_salt, sign_forms, signing_failed};
pub use status_lists::{plausible_list_id, status_list};
pub(crate) use views::evidence_with_links;
pub use views::{
    AwardCard, AwardPage, BackpackEntry, BackpackItem, BackpackStack, Download, Downloaded, LevelAward, LevelHeld, Linked, Visible, backpack, backpack_shelves,
    card, download, mine, page, renewal_links, seen_by, set_privacy, share, shown_reason, visible,
};

/// One rubric criterion as assessed, kept beside the award (`results_json`) for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardResult {
    /// The criterion's slug.
    pub criterion: String,
    pub criterion_name: String,
    /// The level reached, from 1.
    pub level: usize,
    pub level_name: String,
    pub required_level_name: String,
    /// Whether the level reached meets the required one.
    pub met: bool,
}

/// Rubric results as kept beside an award or a direct award (`results_json`).
pub fn parse_results(json: &str) -> Vec<AwardResult> {
    documents::parse_results(json)
}

/// The rubric results stored with an award.
pub fn award_results(award: &Award) -> Vec<AwardResult> {
    documents::parse_results(&award.results_json)
}

/// Absolute URLs of everything an award offers: its page and its downloads.
pub fn award_links(config: &Config, award: AwardId) -> Value {
    let urls = config.urls();
    json!({
        "page": urls.award_page(award),
        "credential": urls.credential(award),
        "jwt": urls.credential_jwt(award),
        "png": urls.badge(award, ImageType::Png),
        "svg": urls.badge(award, ImageType::Svg),
        "ob2": urls.ob2_assertion(award),
    })
}
