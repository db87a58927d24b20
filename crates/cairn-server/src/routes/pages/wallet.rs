//! Sending an award to a wallet (`cairn_app::wallet`): the page that explains it and lists the
//! wallets that hold the badge, and, once asked, the offer itself: a QR code, a link for a wallet
//! on the same device and the six-digit code the wallet asks for. The offer holds a secret, so it
//! is shown once, in the answer to the form, and never cached.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cairn_app::wallet::{self, WalletOffer, WalletStanding};
use cairn_core::ids::AwardId;
use cairn_core::wallet::OFFER_LIFETIME;

use super::{Layout, human_date, human_datetime, no_store, qr_svg, render, sign_in_redirect};
use crate::auth::{CsrfToken, Viewer};
use crate::extract::{FormFields, path_id};
use crate::problem::Problem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/awards/{id}/wallet", get(wallet_page).post(make_offer))
}

/// A credential a wallet holds, as the page lists it.
struct PickupView {
    holder: String,
    format: &'static str,
    when: String,
}

/// The offer, as the page shows it.
struct OfferView {
    /// The QR code (SVG, base64); `None` only if the link were too long for one.
    qr: Option<String>,
    url: String,
    tx_code: String,
    expires: String,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct WalletPage {
    layout: Layout,
    id: String,
    name: String,
    /// Why the badge cannot be sent now, when it cannot.
    refusal: Option<String>,
    offer: Option<OfferView>,
    pickups: Vec<PickupView>,
}

/// A DID shortened for a list: its method and the first and last characters of the rest.
fn short_did(did: &str) -> String {
    let (method, rest) = match did.strip_prefix("did:").and_then(|r| r.split_once(':')) {
        Some((method, rest)) => (format!("did:{method}:"), rest),
        None => (String::new(), did),
    };
    let chars: Vec<char> = rest.chars().collect();
    if chars.len() <= 16 {
        return format!("{method}{rest}");
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{method}{head}…{tail}")
}

fn page(viewer: &Viewer, csrf: &CsrfToken, standing: WalletStanding, offer: Option<WalletOffer>) -> WalletPage {
    let offer = offer.map(|offer| OfferView {
        qr: qr_svg(&offer.url).map(|svg| STANDARD.encode(svg)),
        url: offer.url,
        tx_code: offer.tx_code,
        expires: human_datetime(offer.expires_at),
        minutes: OFFER_LIFETIME.whole_minutes(),
    });
    WalletPage {
        layout: Layout::new(viewer, csrf, None),
        id: standing.award.id.to_string(),
        name: standing.name,
        refusal: standing.sendable.err().map(|why| why.to_string()),
        offer,
        pickups: standing
            .pickups
            .into_iter()
            .map(|p| PickupView {
                holder: short_did(&p.holder),
                format: if p.format == "jwt_vc_json" { "VC-JWT" } else { "Data Integrity (JSON-LD)" },
                when: human_date(p.picked_up_at),
            })
            .collect(),
    }
}

async fn wallet_page(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    if viewer.user.is_none() {
        return Ok(sign_in_redirect(&format!("/awards/{id}/wallet")));
    }
    let standing = wallet::standing(&state.app, &viewer.actor, id).await?;
    Ok(no_store(render(&page(&viewer, &csrf, standing, None))?))
}

/// The form's answer: the page with a new offer (shown once), or with the reason there is none.
async fn make_offer(State(state): State<AppState>, viewer: Viewer, csrf: CsrfToken, Path(raw): Path<String>, _form: FormFields) -> Result<Response, Problem> {
    let id: AwardId = path_id(&raw, "award")?;
    viewer.require_user()?;
    let offer = match wallet::make_offer(&state.app, &viewer.actor, id).await {
        Ok(offer) => Some(offer),
        // The page says why (the badge was revoked or suspended since the page was shown).
        Err(cairn_app::AppError::Conflict { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let standing = wallet::standing(&state.app, &viewer.actor, id).await?;
    Ok(no_store(render(&page(&viewer, &csrf, standing, offer))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dids_are_shortened_for_the_list() {
        assert_eq!(short_did("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"), "did:key:z6MkhaXg…ta2doK");
        assert_eq!(short_did("did:key:z6Mk"), "did:key:z6Mk");
        assert_eq!(short_did("not a did"), "not a did");
    }
}
