//! `cairn serve` as a process: start-up, `/healthz`, demo seeding, graceful shutdown, and a clear
//! failure when the database cannot be reached.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn cairn() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command.env("CAIRN_LOG", "warn").env_remove("CAIRN_DATABASE_URL").env_remove("CAIRN_MASTER_KEY");
    command
}

/// Starts `cairn serve --demo` on a free port and returns the child and its address.
fn start(data: &std::path::Path) -> (Child, String, Vec<String>) {
    let mut child =
        cairn().args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data"]).arg(data).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a start-up line").unwrap();
    let addr = first.split("listening on ").nth(1).and_then(|rest| rest.split(',').next()).expect(&first).to_string();
    let mut printed = vec![first];
    // The heading and one line per demo account (the process must not write to a closed pipe).
    for _ in 0..=cairn_core::demo::ACCOUNTS.len() {
        printed.push(lines.next().unwrap().unwrap());
    }
    (child, addr, printed)
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "cairn did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_demo_answers_healthz_seeds_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, printed) = start(dir.path());
    assert!(printed.iter().any(|l| l.contains("issuer@demo.cairn.test / cairn-demo-issuer")), "{printed:?}");
    let (status, body) = get(&addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"database\":\"sqlite\""));
    let (status, catalog) = get(&addr, "/api/v1/achievements");
    assert_eq!(status, 200);
    assert!(catalog.contains("\"total\":5"), "four achievements and a certificate: {catalog}");
    assert!(terminate(child).success(), "graceful shutdown exits 0");
    assert!(dir.path().join("cairn.db").exists() && dir.path().join("master.key").exists());

    // A second start reuses the data: nothing is seeded twice.
    let (child, addr, _) = start(dir.path());
    let (_, catalog) = get(&addr, "/api/v1/achievements");
    assert!(catalog.contains("\"total\":5"), "four achievements and a certificate: {catalog}");
    assert!(terminate(child).success());
}

#[test]
fn an_unreachable_database_fails_start_up_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let output = cairn()
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", "postgres://cairn:hunter2@127.0.0.1:1/cairn?connect_timeout=2", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach the database at postgres://cairn:***@127.0.0.1:1/cairn"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn bad_settings_name_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = cairn().args(["serve", "--addr", "not-an-address", "--data"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("address \"not-an-address\" is not HOST:PORT"));
    let output = cairn().args(["serve", "--database-url", "mysql://x@y/z", "--data"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("neither sqlite://PATH nor postgres://"));
    let config = dir.path().join("cairn.toml");
    std::fs::write(&config, "adress = \"x\"\n").unwrap();
    let output = cairn().arg("--config").arg(&config).args(["serve"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("adress"));
}

#[test]
fn bad_sign_in_providers_are_named_before_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cairn.toml");
    let provider = |id: &str, issuer: &str, extra: &str| {
        format!("[[oidc_providers]]\nid = \"{id}\"\nname = \"Uni\"\nissuer = \"{issuer}\"\nclient_id = \"cairn\"\n{extra}\n")
    };
    let refused = |text: String, expected: &str| {
        std::fs::write(&config, text).unwrap();
        let output =
            cairn().arg("--config").arg(&config).args(["serve", "--data"]).arg(dir.path()).env_remove("CAIRN_OIDC_UNI_CLIENT_SECRET").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        assert!(!stderr.contains("s3cret"), "the secret is never printed: {stderr}");
    };
    refused(provider("Uni Login", "https://login.example.edu", "client_secret = \"s3cret\""), "id \"Uni Login\" is not a short name");
    refused(provider("uni", "http://login.example.edu", "client_secret = \"s3cret\""), "must be an https URL");
    refused(provider("uni", "https://login.example.edu", ""), "set CAIRN_OIDC_UNI_CLIENT_SECRET");
    refused(
        provider("uni", "https://login.example.edu", "client_secret = \"s3cret\"")
            + &provider("uni", "https://other.example.edu", "client_secret = \"s3cret\""),
        "is used twice",
    );
    refused(provider("uni", "https://login.example.edu", "client_secret = \"s3cret\"\nscopes = [\"a b\"]"), "is not a scope token");
    refused(provider("uni", "https://login.example.edu", "client_secret = \"s3cret\"\nsecret = \"x\""), "secret");
}

#[test]
fn a_master_key_that_cannot_open_the_sealed_keys_stops_start_up_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _, _) = start(dir.path());
    assert!(terminate(child).success());
    let key_file = dir.path().join("master.key");
    let original = std::fs::read_to_string(&key_file).unwrap();
    let serve = || {
        let mut command = cairn();
        command.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(dir.path());
        command
    };

    // Another key in the file: refused, naming the file.
    std::fs::write(&key_file, "01".repeat(32)).unwrap();
    let output = serve().output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&key_file.display().to_string()) && stderr.contains("does not open"), "{stderr}");

    // Another key in the variable: refused, naming the variable.
    std::fs::write(&key_file, &original).unwrap();
    let output = serve().env("CAIRN_MASTER_KEY", "02".repeat(32)).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CAIRN_MASTER_KEY") && stderr.contains("does not open"), "{stderr}");

    // No key file while sealed keys exist: refused, naming the file, and no new key is written.
    std::fs::remove_file(&key_file).unwrap();
    let output = serve().output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&key_file.display().to_string()) && stderr.contains("does not exist"), "{stderr}");
    assert!(!key_file.exists(), "a key that opens nothing is not saved");

    // The right key starts again.
    std::fs::write(&key_file, &original).unwrap();
    let (child, addr, _) = start(dir.path());
    let (status, body) = get(&addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"signing\":\"ok\""), "{body}");
    assert!(terminate(child).success());
}

#[test]
fn unusable_blob_stores_are_named_before_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |spec: &str, envs: &[(&str, &str)], expected: &str| {
        let mut command = cairn();
        command.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(dir.path()).args(["--blob-store", spec]);
        for (name, value) in envs {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        assert!(!stderr.contains("the-secret-key"), "no secret is printed: {stderr}");
    };
    refused("s3://Bad_Bucket", &[], "does not name a bucket");
    refused("s3://cairn-blobs/../x", &[], "prefix with empty, '.' or '..' parts");
    refused("ftp://example.org/blobs", &[], "is not a location Cairn can store blobs at");
    // A bucket whose server does not answer: refused at start-up, naming the store.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoint = format!("http://{closed}");
    let aws = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "cairn"),
        ("AWS_SECRET_ACCESS_KEY", "the-secret-key"),
        ("AWS_REGION", "us-east-1"),
    ];
    refused("s3://cairn-blobs", &aws, "the blob store s3://cairn-blobs cannot be used");
    // Plain http is refused unless AWS_ALLOW_HTTP says otherwise.
    refused("s3://cairn-blobs", &aws[..1], "the blob store s3://cairn-blobs cannot be used");
}

#[test]
fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cairn()
        .env("CAIRN_LOG_FORMAT", "json")
        .env("CAIRN_LOG", "info,tower_http=debug")
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a start-up line").unwrap();
    let addr = first.split("listening on ").nth(1).and_then(|rest| rest.split(',').next()).expect(&first).to_string();
    std::thread::spawn(move || lines.for_each(drop));
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).unwrap();
        text
    });
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nX-Request-Id: trace-me-4711\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.to_ascii_lowercase().contains("x-request-id: trace-me-4711"), "{response}");
    let status = terminate(child);
    assert!(status.success(), "{status:?}");
    let stderr = reader.join().unwrap();
    let lines: Vec<serde_json::Value> = stderr.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect();
    let traced: Vec<&serde_json::Value> = lines.iter().filter(|line| line["span"]["request_id"] == "trace-me-4711").collect();
    assert!(traced.iter().any(|line| line["fields"]["status"] == 200), "{stderr}");
    assert!(lines.iter().any(|line| line["fields"]["message"] == "background work stopped"), "the background run ends on shutdown: {stderr}");
}
