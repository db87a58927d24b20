//! The issuers' Bitstring Status Lists: one revocation list and one suspension list per issuer,
//! read from the stored award statuses on every request, so a change shows at once, and signed
//! again only when the bits changed (`crate::caches`).

use cairn_core::award::AwardStatus;
use cairn_store::StoreError;
use cairn_vc::loader::BundledLoader;
use cairn_vc::status::{StatusList, StatusPurpose};
use cairn_vc::suites::eddsa_rdfc_2022::{self as eddsa, Ed25519Signer, ProofOptions};
use serde_json::Value;
use std::sync::Arc;

use super::documents::{issuer_did, rfc3339, status_list_url, verification_method};
use super::issuing::signing_failed;
use crate::{App, AppError};

/// Whether `id` is a status-list id Cairn could have made: 1 to 64 letters, digits, `-` or `_`.
pub fn plausible_list_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The signed `BitstringStatusListCredential` for list `list_id`: bits set for the issuer's
/// revoked awards (revocation list) or suspended ones (suspension list), as stored now; signed
/// when these bits were first seen (its `validFrom`), reused while they stay the same.
///
/// # Errors
/// `NotFound` for an unknown list; `Internal` when signing fails.
pub async fn status_list(app: &App, list_id: &str) -> Result<Arc<Value>, AppError> {
    if !plausible_list_id(list_id) {
        return Err(AppError::NotFound(format!("status list \"{}\" not found", list_id.chars().take(64).collect::<String>())));
    }
    let row = app.store.status_list(list_id).await?;
    let purpose =
        StatusPurpose::parse(&row.purpose).ok_or_else(|| AppError::internal(&StoreError::Corrupt(format!("status list purpose \"{}\"", row.purpose))))?;
    let flagged = match purpose {
        StatusPurpose::Revocation => AwardStatus::Revoked,
        StatusPurpose::Suspension => AwardStatus::Suspended,
    };
    let length = usize::try_from(row.length).unwrap_or(cairn_vc::status::MIN_LIST_ENTRIES);
    let mut set: Vec<u64> =
        app.store.status_entries(row.organisation).await?.into_iter().filter(|(_, status)| *status == flagged).map(|(index, _)| index).collect();
    let digest = crate::caches::list_digest(length, &mut set);
    if let Some(signed) = app.caches.signed_list(list_id, &digest) {
        return Ok(signed);
    }
    let mut list = StatusList::new(length);
    for index in set {
        list.set(usize::try_from(index).unwrap_or(usize::MAX), true).map_err(|e| AppError::internal(&e))?;
    }
    let key = app.store.signing_key(row.organisation).await?;
    let issuer = issuer_did(&app.config, row.organisation);
    let now = rfc3339(app.now());
    let unsigned = cairn_vc::status::list_credential(&status_list_url(&app.config, list_id), &issuer, purpose, &list, &now);
    let signer = Ed25519Signer::new(key, verification_method(&app.config, row.organisation));
    let signed = tokio::task::spawn_blocking(move || eddsa::sign(&unsigned, &signer, &ProofOptions::assertion(now), &BundledLoader))
        .await
        .map_err(|e| AppError::internal(&e))?
        .map_err(|e| signing_failed("status list proof", &e))?;
    crate::metrics::signed(crate::metrics::Signed::StatusList);
    let signed = Arc::new(signed);
    app.caches.keep_signed_list(list_id, digest, Arc::clone(&signed));
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ids_are_short_and_plain() {
        assert!(plausible_list_id("r-0f3a_9"));
        for bad in ["", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert!(!plausible_list_id(bad), "{bad:?}");
        }
    }
}
