//! The standalone issuer toolkit: `cairn keys new`, `cairn sign`, `cairn bake`, `cairn unbake`.
//! Thin glue over `cairn_vc`; every failure is a message naming the file and the problem.

use anyhow::{Context as _, bail};
use cairn_vc::bake::{BakedPayload, bake, unbake};
use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::BundledLoader;
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Largest credential or image the toolkit reads.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file, or standard input for `-`, with a size limit.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        bail!("{} is larger than {} bytes", path.display(), MAX_INPUT_BYTES);
    }
    Ok(bytes)
}

/// Writes to a file, or standard output when `out` is `None`.
fn write_output(out: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// `cairn keys new`: a fresh Ed25519 key file; prints the DID and its DID document.
pub fn keys_new(did_web: Option<&str>, out: &Path) -> anyhow::Result<()> {
    if let Some(host) = did_web
        && (host.is_empty() || host.contains('/') || host.chars().any(char::is_whitespace))
    {
        bail!("--did-web takes a host name with an optional port, such as issuer.example.org or localhost:8080");
    }
    let file = KeyFile::new(&Ed25519KeyPair::generate(), did_web);
    write_private(out, file.to_json().as_bytes()).with_context(|| format!("cannot write the key file {}", out.display()))?;
    eprintln!("wrote {} (keep it private)", out.display());
    eprintln!("issuer id: {}", file.controller);
    if did_web.is_some() {
        eprintln!("publish this DID document at https://{}/.well-known/did.json:", did_web.unwrap_or_default());
    }
    println!("{}", serde_json::to_string_pretty(&file.did_document())?);
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Reads a key file written by `cairn keys new`.
pub fn load_key(path: &Path) -> anyhow::Result<(KeyFile, Ed25519KeyPair)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).with_context(|| format!("{} is not a cairn key file", path.display()))?;
    let key = file.key_pair().with_context(|| format!("{}", path.display()))?;
    Ok((file, key))
}

/// The signature formats `cairn sign` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignFormat {
    /// Data Integrity proof, cryptosuite eddsa-rdfc-2022 (a JSON credential with `proof`).
    Di,
    /// VC-JWT, EdDSA (a compact JWT).
    Jwt,
}

fn issuer_id(credential: &Value) -> Option<&str> {
    match credential.get("issuer") {
        Some(Value::String(id)) => Some(id),
        Some(Value::Object(profile)) => profile.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The current time as an XML Schema `dateTimeStamp` in whole seconds.
pub fn now_rfc3339() -> String {
    cairn_vc::dates::rfc3339(time::OffsetDateTime::now_utc())
}

/// `cairn sign`: signs a credential whose issuer is the key's controller.
pub fn sign(key_path: &Path, format: SignFormat, input: &Path, out: Option<&Path>, created: Option<&str>) -> anyhow::Result<()> {
    let (file, key) = load_key(key_path)?;
    let bytes = read_input(input)?;
    let credential: Value = serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", input.display()))?;
    let issuer = issuer_id(&credential).with_context(|| format!("{} has no issuer id", input.display()))?;
    if issuer != file.controller {
        bail!("the credential's issuer is \"{issuer}\" but the key belongs to \"{}\": set issuer.id to the key's DID", file.controller);
    }
    let output = match format {
        SignFormat::Di => {
            let signer = eddsa_rdfc_2022::Ed25519Signer::new(key, file.id.clone());
            let created = created.map(str::to_string).unwrap_or_else(now_rfc3339);
            let signed = eddsa_rdfc_2022::sign(&credential, &signer, &eddsa_rdfc_2022::ProofOptions::assertion(created), &BundledLoader)
                .with_context(|| format!("cannot sign {}", input.display()))?;
            let mut text = serde_json::to_string_pretty(&cairn_vc::ob3::proof_as_array(signed))?;
            text.push('\n');
            text
        }
        SignFormat::Jwt => {
            let mut token = vc_jwt::sign(&credential, &key, &file.id).with_context(|| format!("cannot sign {}", input.display()))?;
            token.push('\n');
            token
        }
    };
    write_output(out, output.as_bytes())
}

/// Classifies a credential file's text as a baked payload.
pub fn payload_of(text: &str) -> anyhow::Result<BakedPayload> {
    let text = text.trim();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Ok(BakedPayload::Ob2Url(text.to_string()));
    }
    if text.starts_with('{') {
        let json: Value = serde_json::from_str(text).context("the credential is not valid JSON")?;
        let is_ob2 = json.get("@context").is_some_and(|c| c.to_string().contains("w3id.org/openbadges/v2"))
            || json.get("type").and_then(Value::as_str) == Some("Assertion");
        return Ok(if is_ob2 { BakedPayload::Ob2Json(text.to_string()) } else { BakedPayload::Ob3Json(text.to_string()) });
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')) {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default();
        let claims: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        let is_ob2 = claims.get("@context").is_some_and(|c| c.to_string().contains("w3id.org/openbadges/v2"));
        return Ok(if is_ob2 { BakedPayload::Ob2Jws(text.to_string()) } else { BakedPayload::Ob3Jwt(text.to_string()) });
    }
    bail!("the credential is neither JSON, a compact JWT/JWS, nor an OB 2.0 assertion URL")
}

/// `cairn bake`: embeds a credential into a PNG or SVG badge image.
pub fn bake_command(image: &Path, credential: &Path, out: &PathBuf) -> anyhow::Result<()> {
    let image_bytes = read_input(image)?;
    let text = String::from_utf8(read_input(credential)?).with_context(|| format!("{} is not UTF-8 text", credential.display()))?;
    let payload = payload_of(&text).with_context(|| format!("{}", credential.display()))?;
    let baked = bake(&image_bytes, &payload).with_context(|| format!("cannot bake into {}", image.display()))?;
    std::fs::write(out, baked).with_context(|| format!("cannot write {}", out.display()))
}

/// `cairn unbake`: prints the credential baked into an image. `Ok(false)` when there is none.
pub fn unbake_command(image: &Path) -> anyhow::Result<bool> {
    let bytes = read_input(image)?;
    match unbake(&bytes).with_context(|| format!("{}", image.display()))? {
        Some(payload) => {
            let mut text = payload.into_string();
            text.push('\n');
            write_output(None, text.as_bytes())?;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_classified_by_their_shape() {
        assert!(matches!(payload_of("https://x.example/a/1").unwrap(), BakedPayload::Ob2Url(_)));
        assert!(matches!(payload_of("{\"@context\":\"https://w3id.org/openbadges/v2\"}").unwrap(), BakedPayload::Ob2Json(_)));
        assert!(matches!(payload_of("{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"]}").unwrap(), BakedPayload::Ob3Json(_)));
        assert!(matches!(payload_of("eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln").unwrap(), BakedPayload::Ob3Jwt(_)));
        assert!(payload_of("hello").is_err());
        assert!(payload_of("{not json").is_err());
    }
}
