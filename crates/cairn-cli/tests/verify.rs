//! `cairn verify` as a process against a local HTTP server: the host policy at every redirect hop,
//! the caps on what one input may make it fetch, a body that never ends, warnings and `--strict`,
//! and JWKS keys for tokens without a `kid`. Work is counted (requests the server saw), never timed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_vc::keys::{Ed25519KeyPair, KeyFile};
use cairn_vc::loader::StaticLoader;
use cairn_vc::suites::{eddsa_rdfc_2022, vc_jwt};
use serde_json::{Value, json};

/// What the test server answers for a path.
enum Reply {
    Json(String),
    Redirect(String),
    /// Headers, then one byte every 50 ms for as long as the client listens.
    Trickle,
    NotFound,
}

type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A local HTTP/1.1 server that records the path of every request.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                std::thread::spawn(move || answer(stream, &handler, &log));
            }
        });
        Server { base, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The host and port, `%3A`-encoded as a `did:web` host.
    fn did_web_host(&self) -> String {
        self.base.trim_start_matches("http://").replace(':', "%3A")
    }
}

fn answer(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
    log.lock().unwrap().push(path.clone());
    let mut stream = stream;
    let _ = match handler(&path) {
        Reply::Json(body) => {
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        }
        Reply::Redirect(location) => write!(stream, "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Reply::NotFound => write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Reply::Trickle => {
            // No length: the body ends when the connection does, which is never.
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{{");
            // Until the client hangs up; a test process that ends takes this thread with it.
            while stream.write_all(b" ").and_then(|()| stream.flush()).is_ok() {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
    };
}

/// Runs `cairn verify --json` with `args`; the exit code and the report.
fn verify(args: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_cairn")).arg("verify").arg("--json").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("not a JSON report: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap_or(-1), report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} check: {report:#}"))
}

fn details(report: &Value) -> String {
    report["checks"].as_array().unwrap().iter().map(|c| format!("{}: {}", c["id"], c["detail"])).collect::<Vec<_>>().join("\n")
}

struct Issuer {
    key: Ed25519KeyPair,
    file: KeyFile,
}

fn issuer(seed: u8) -> Issuer {
    let key = Ed25519KeyPair::from_seed([seed; 32]);
    Issuer { file: KeyFile::new(&key, None), key }
}

fn signed(issuer: &Issuer, credential: &Value) -> Value {
    let signer = eddsa_rdfc_2022::Ed25519Signer::new(issuer.key.clone(), issuer.file.id.clone());
    eddsa_rdfc_2022::sign(credential, &signer, &eddsa_rdfc_2022::ProofOptions::assertion("2026-01-01T00:00:00Z"), &StaticLoader::new()).unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn redirects_are_followed_on_loopback_and_refused_at_a_hop_to_anywhere_else() {
    let issuer = issuer(41);
    let credential = signed(&issuer, &cairn_vc::ob3::reference_credential(&issuer.file.controller, 1)).to_string();
    let server = Server::start(move |path| match path {
        "/moved" => Reply::Redirect("/credential".into()),
        "/credential" => Reply::Json(credential.clone()),
        "/to-private" => Reply::Redirect("http://10.0.0.1:8080/credential".into()),
        "/to-unspecified" => Reply::Redirect("http://0.0.0.0:8080/credential".into()),
        "/to-mapped" => Reply::Redirect("http://[::ffff:10.0.0.1]:8080/credential".into()),
        "/to-metadata" => Reply::Redirect("http://169.254.169.254/latest/meta-data/".into()),
        _ => Reply::NotFound,
    });
    let (code, report) = verify(&[&format!("{}/moved", server.base), "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!((code, report["verdict"].as_str()), (0, Some("valid")), "{}", details(&report));
    assert_eq!(server.requests(), ["/moved", "/credential"]);

    for (path, refused, why) in [
        ("/to-private", "10.0.0.1", "a private address"),
        ("/to-unspecified", "0.0.0.0", "the unspecified address"),
        ("/to-mapped", "::ffff:10.0.0.1", "an IPv4-mapped IPv6 address"),
        ("/to-metadata", "169.254.169.254", "a link-local address"),
    ] {
        let before = server.requests().len();
        let (code, report) = verify(&[&format!("{}{path}", server.base)]);
        assert_eq!((code, report["verdict"].as_str()), (2, Some("indeterminate")), "{path}");
        let detail = check(&report, "format")["detail"].as_str().unwrap();
        assert!(detail.contains("the redirect from") && detail.contains("was refused") && detail.contains(refused) && detail.contains(why), "{path}: {detail}");
        // The hop was refused before any request: the server saw only the redirecting one.
        assert_eq!(server.requests()[before..], [path.to_string()], "{path}");
    }
}

#[test]
fn a_document_naming_ten_thousand_status_lists_makes_at_most_the_capped_fetches() {
    let issuer = issuer(42);
    let server = Server::start(|_| Reply::NotFound);
    let mut credential = cairn_vc::ob3::reference_credential(&issuer.file.controller, 2);
    let entries: Vec<Value> = (0..10_000).map(|n| json!({"statusListCredential": format!("{}/s/{n}", server.base)})).collect();
    credential["credentialStatus"] = Value::Array(entries);
    let token = vc_jwt::sign(&credential, &issuer.key, &issuer.file.id).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = verify(&[&write(&dir, "credential.jwt", &token), "--now", "2027-01-01T00:00:00Z"]);
    assert_ne!(code, 0, "{}", details(&report));
    let fetched = server.requests();
    assert!(!fetched.is_empty() && fetched.len() <= cairn_vc::verify::MAX_STATUS_ENTRIES, "{} requests", fetched.len());
    let statuses: Vec<&Value> = report["checks"].as_array().unwrap().iter().filter(|c| c["id"] == "status").collect();
    let last = statuses.last().unwrap()["detail"].as_str().unwrap();
    assert!(last.contains("10000 status entries; only the first 8 were checked"), "{last}");
}

/// A compact JWS whose key is the `did:web` document `n` on `server`: checking it fetches that
/// document (and nothing else; the signature is never reached).
fn endorsement_token(server: &Server, n: usize) -> String {
    let did = format!("did:web:{}:e:{n}", server.did_web_host());
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": format!("{did}#key-1")}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(json!({"issuer": did}).to_string());
    format!("{header}.{payload}.AAAA")
}

#[test]
fn a_document_naming_ten_thousand_endorsements_makes_at_most_the_capped_fetches() {
    let issuer = issuer(43);
    let server = Server::start(|_| Reply::NotFound);
    let mut credential = cairn_vc::ob3::reference_credential(&issuer.file.controller, 3);
    let tokens: Vec<Value> = (0..10_000).map(|n| Value::String(endorsement_token(&server, n))).collect();
    credential["endorsementJwt"] = Value::Array(tokens);
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = verify(&[&write(&dir, "credential.json", &credential.to_string())]);
    assert_ne!(code, 0, "{}", details(&report));
    let fetched = server.requests();
    assert!(!fetched.is_empty() && fetched.len() <= cairn_vc::verify::MAX_ENDORSEMENTS, "{} requests", fetched.len());
    assert!(fetched.iter().all(|path| path.starts_with("/e/") && path.ends_with("/did.json")), "{fetched:?}");
    let detail = check(&report, "endorsements")["detail"].as_str().unwrap();
    assert!(detail.contains("10000 endorsements; only the first 16 were checked"), "{detail}");
}

#[test]
fn a_body_that_trickles_forever_is_cut_off() {
    let server = Server::start(|_| Reply::Trickle);
    let (code, report) = verify(&[&format!("{}/slow", server.base), "--fetch-timeout", "1"]);
    assert_eq!((code, report["verdict"].as_str()), (2, Some("indeterminate")));
    let detail = check(&report, "format")["detail"].as_str().unwrap();
    assert!(detail.contains("the document did not arrive within 1 s"), "{detail}");
    assert_eq!(server.requests(), ["/slow"]);
}

#[test]
fn deviations_that_keep_the_meaning_warn_and_fail_only_when_strict() {
    let issuer = issuer(44);
    let mut credential = cairn_vc::ob3::reference_credential(&issuer.file.controller, 4);
    let alignments = credential["credentialSubject"]["achievement"]["alignment"].as_array_mut().expect("the reference credential has alignments");
    alignments[0]["targetType"] = json!("ceterms:Skill");
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "credential.json", &signed(&issuer, &credential).to_string());

    let (code, report) = verify(&[&file, "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!((code, report["verdict"].as_str()), (0, Some("valid")), "{}", details(&report));
    let shape = check(&report, "shape");
    assert_eq!(shape["ok"], true);
    let warnings = shape["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{shape:#}");
    assert!(warnings[0].as_str().unwrap().starts_with("/credentialSubject/achievement/alignment/0/targetType: "), "{shape:#}");

    let (code, report) = verify(&[&file, "--now", "2027-01-01T00:00:00Z", "--strict"]);
    assert_eq!((code, report["verdict"].as_str()), (1, Some("invalid")), "{}", details(&report));
    assert_eq!(check(&report, "shape")["ok"], false);

    // A deviation where the verdict rests (a date that is not a date-time) fails either way.
    credential["validFrom"] = json!("2026-01-01");
    let file = write(&dir, "dateless.json", &signed(&issuer, &credential).to_string());
    let (code, report) = verify(&[&file, "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!(code, 1, "{}", details(&report));
    assert!(check(&report, "shape")["detail"].as_str().unwrap().contains("/validFrom"), "{}", details(&report));
}

#[test]
fn jwks_keys_are_tried_for_a_token_without_kid() {
    let (first, second) = (Ed25519KeyPair::from_seed([45; 32]), Ed25519KeyPair::from_seed([46; 32]));
    let jwk = |key: &Ed25519KeyPair| vc_jwt::VerificationKey::ed25519(&key.public_key()).unwrap().to_jwk();
    let dir = tempfile::tempdir().unwrap();
    let jwks = write(&dir, "jwks.json", &json!({"keys": [jwk(&first), jwk(&second)]}).to_string());
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:7d1c2c8e-0f7b-4b7e-9a55-3c4c8b0f7a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example/", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Badge",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://issuer.example/a/1", "type": ["Achievement"], "name": "Badge",
            "description": "A badge.", "criteria": {"narrative": "Did it."}}},
        "iss": "https://issuer.example/", "jti": "urn:uuid:7d1c2c8e-0f7b-4b7e-9a55-3c4c8b0f7a11", "nbf": 1_767_225_600,
    });
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#), URL_SAFE_NO_PAD.encode(credential.to_string()));
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(second.sign(signing_input.as_bytes())));
    let file = write(&dir, "credential.jwt", &token);

    let (code, report) = verify(&[&file, "--jwks", &jwks, "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!((code, report["verdict"].as_str()), (0, Some("valid")), "{}", details(&report));
    assert!(check(&report, "jwt.key")["detail"].as_str().unwrap().contains("found by trying the 2 trusted EdDSA keys"), "{}", details(&report));
    // Without the JWKS there is no key to try.
    let (code, _) = verify(&[&file, "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!(code, 1);
}
