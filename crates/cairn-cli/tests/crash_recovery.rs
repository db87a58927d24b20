//! Crash recovery through the outbox, with the real `cairn serve` on an SQLite data directory.
//!
//! Learners of the demo micro-credential earn levels 1 and 2 and send level 3. Then, for each
//! crash point of `cairn_app::crash`, the server is started with `CAIRN_CRASH_AT=<point>` and the
//! step that completes one learner's stack is taken (the assessor's pass, or the issuer's
//! confirmation): the process aborts at that point. Restarted without the variable, it must
//! finish what was committed: the level-3 award exists, the submission is awarded, the
//! micro-credential is awarded exactly once, and each award's notification and e-mail exist
//! exactly once, with no effect left pending or given up.

use cairn_store::{MasterKey, Store, StoreOptions};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The smallest PDF with one page.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const ISSUER: (&str, &str) = ("issuer@demo.cairn.test", "cairn-demo-issuer");
const ASSESSOR: (&str, &str) = ("assessor@demo.cairn.test", "cairn-demo-assessor");
const PASSWORD: &str = "a long enough password";
/// How often a condition is polled (every 200 ms) before the test gives up on it.
const TRIES: usize = 300;
const SIGABRT: i32 = 6;

/// A running `cairn serve --demo`.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
    http: reqwest::blocking::Client,
}

fn start(data: &Path, crash_at: Option<&str>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .env("CAIRN_LOG", "warn")
        .env_remove("CAIRN_DATABASE_URL")
        .env_remove("CAIRN_MASTER_KEY")
        .env_remove("CAIRN_CRASH_AT")
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = crash_at {
        command.env("CAIRN_CRASH_AT", point);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a start-up line").unwrap();
    let addr = first.split("listening on ").nth(1).and_then(|rest| rest.split(',').next()).expect(&first).to_string();
    std::thread::spawn(move || lines.for_each(drop));
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buffer = [0; 4096];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let server = Server { child, base: format!("http://{addr}"), stderr, http };
    poll("/healthz to answer", || server.http.get(format!("{}/healthz", server.base)).send().is_ok_and(|r| r.status() == 200));
    server
}

/// Polls `ready` up to [`TRIES`] times.
#[track_caller]
fn poll(what: &str, mut ready: impl FnMut() -> bool) {
    for _ in 0..TRIES {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("gave up waiting for {what}");
}

impl Server {
    /// A JSON request; returns the status and the body (JSON or null).
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Result<(u16, Value), reqwest::Error> {
        let mut request = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base)).header("accept", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send()?;
        let status = response.status().as_u16();
        let text = response.text()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// A request that must answer `expected`.
    #[track_caller]
    fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>, expected: u16) -> Value {
        let (status, body) = self.call(method, path, token, body).unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.stderr()));
        assert_eq!(status, expected, "{method} {path}: {body}");
        body
    }

    fn token(&self, (email, password): (&str, &str)) -> String {
        let session = self.ok("POST", "/api/v1/session", None, Some(&json!({"email": email, "password": password})), 201);
        session["token"].as_str().unwrap().to_string()
    }

    fn upload_pdf(&self, token: &str, submission: &str) {
        let boundary = "cairn-crash-test-boundary";
        let mut body =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"report.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
                .into_bytes();
        body.extend_from_slice(PDF);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .http
            .post(format!("{}/api/v1/submissions/{submission}/artifacts", self.base))
            .bearer_auth(token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 201, "upload: {}", response.text().unwrap_or_default());
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Stops the server gracefully (SIGTERM) and waits for it.
    fn stop(mut self) {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let status = wait(&mut self.child);
        assert!(status.success(), "cairn did not stop cleanly: {status:?}\n{}", self.stderr());
    }
}

#[track_caller]
fn wait(child: &mut Child) -> ExitStatus {
    for _ in 0..TRIES {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("cairn did not exit");
}

/// The demo micro-credential's id, name and its three levels (id, name), in order.
fn micro_credential(server: &Server) -> (String, String, Vec<(String, String)>) {
    let list = server.ok("GET", "/api/v1/achievements?kind=micro-credential&limit=100", None, None, 200);
    let stack = &list["items"].as_array().unwrap().iter().find(|a| a["name"] == "Data Analysis with SQL").expect("the demo micro-credential").clone();
    let levels = stack["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            let id = id.as_str().unwrap();
            let level = server.ok("GET", &format!("/api/v1/achievements/{id}"), None, None, 200);
            (level["level"]["number"].as_u64().unwrap(), id.to_string(), level["name"].as_str().unwrap().to_string())
        })
        .collect::<Vec<_>>();
    let mut levels = levels;
    levels.sort();
    assert_eq!(levels.len(), 3);
    (stack["id"].as_str().unwrap().to_string(), stack["name"].as_str().unwrap().to_string(), levels.into_iter().map(|(_, id, name)| (id, name)).collect())
}

struct Tokens {
    issuer: String,
    assessor: String,
}

/// Applies for `level`, uploads evidence and sends it; returns the submission id.
fn send_level(server: &Server, tokens: &Tokens, learner: &str, level: &str) -> String {
    let body = json!({"overview": "I answered the five questions with SQL.", "reflection": "I learnt to check NULLs before averaging.", "links": ["https://example.org/sql"], "collaborators": []});
    let draft = server.ok("POST", &format!("/api/v1/achievements/{level}/submissions"), Some(learner), Some(&body), 201);
    let id = draft["id"].as_str().unwrap().to_string();
    if draft["fee"] == "due" {
        server.ok("POST", &format!("/api/v1/submissions/{id}/fee"), Some(&tokens.issuer), Some(&json!({"action": "waived"})), 200);
    }
    server.upload_pdf(learner, &id);
    let sent = server.ok("POST", &format!("/api/v1/submissions/{id}/submit"), Some(learner), Some(&json!({})), 200);
    assert_eq!(sent["status"], "submitted", "{sent}");
    id
}

/// The assessor's passing judgement (every criterion at the top level), as a request body.
fn passing(server: &Server, tokens: &Tokens, submission: &str) -> Value {
    let view = server.ok("GET", &format!("/api/v1/assessments/{submission}"), Some(&tokens.assessor), None, 200);
    let levels = view["rubric"]["levels"].as_array().unwrap();
    let top = levels.last().unwrap().clone();
    let scores: Vec<Value> =
        view["rubric"]["criteria"].as_array().unwrap().iter().map(|c| json!({"criterion": c["id"], "level": top, "comment": "Thorough."})).collect();
    json!({"scores": scores, "feedback": "Excellent work."})
}

/// A learner whose level 3 waits for the step that completes the stack.
struct Learner {
    email: String,
    token: String,
    level3: String,
    /// The assessor's passing judgement of level 3 (the review is open).
    level3_pass: Value,
}

fn prepare(server: &Server, tokens: &Tokens, levels: &[(String, String)], n: usize) -> Learner {
    let email = format!("crash.learner{n}@example.org");
    server.ok("POST", "/api/v1/users", None, Some(&json!({"name": format!("Crash Learner {n}"), "email": email, "password": PASSWORD})), 202);
    let token = server.token((&email, PASSWORD));
    for (level, _) in &levels[..2] {
        let id = send_level(server, tokens, &token, level);
        let judged = server.ok("POST", &format!("/api/v1/assessments/{id}"), Some(&tokens.assessor), Some(&passing(server, tokens, &id)), 200);
        assert_eq!(judged["awarded"], true, "{judged}");
    }
    let level3 = send_level(server, tokens, &token, &levels[2].0);
    let level3_pass = passing(server, tokens, &level3);
    Learner { email, token, level3, level3_pass }
}

/// The store of the data directory, opened beside (or after) the server.
fn open_store(data: &Path) -> (tokio::runtime::Runtime, Store) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = runtime
        .block_on(Store::connect(
            &format!("sqlite://{}", data.join("cairn.db").display()),
            StoreOptions {
                master_key: MasterKey::load_or_create(&data.join("master.key")).unwrap(),
                blobs: cairn_store::BlobLocation::Dir(data.join("blobs")),
            },
        ))
        .unwrap();
    (runtime, store)
}

/// No effect waits or was given up.
#[track_caller]
fn assert_outbox_empty(data: &Path, when: &str) {
    let (runtime, store) = open_store(data);
    let effects = runtime.block_on(store.effects(10_000)).unwrap();
    let open: Vec<_> = effects.iter().filter(|e| e.state() != cairn_store::EffectState::Done).collect();
    assert!(open.is_empty(), "{when}: effects not done: {open:#?}");
    runtime.block_on(store.close());
}

/// Takes the step that completes `learner`'s stack with the server armed to crash at `point`,
/// and checks that it died there.
fn crash(data: &Path, point: &str, step: impl FnOnce(&Server)) {
    let server = start(data, Some(point));
    step(&server);
    let Server { mut child, stderr, .. } = server;
    let status = wait(&mut child);
    assert_eq!(status.signal(), Some(SIGABRT), "{point}: cairn should have aborted, not {status:?}\n{}", stderr.lock().unwrap());
    let said = format!("CAIRN_CRASH_AT: crashing at {point}");
    // The last lines may still be on their way from the pipe.
    poll(&format!("{point}: its last words"), || stderr.lock().unwrap().contains(&said));
}

/// After the restart: everything the crashed step committed is complete, once.
fn assert_recovered(server: &Server, data: &Path, point: &str, learner: &Learner, stack: &(String, String), level3_name: &str) {
    let view_path = format!("/api/v1/submissions/{}", learner.level3);
    poll(&format!("{point}: the level-3 submission to be awarded"), || server.ok("GET", &view_path, Some(&learner.token), None, 200)["status"] == "awarded");
    let award_id = server.ok("GET", &view_path, Some(&learner.token), None, 200)["award_id"].as_str().unwrap().to_string();
    let stack_awards = || -> Vec<Value> {
        let mine = server.ok("GET", "/api/v1/awards", Some(&learner.token), None, 200);
        mine["items"].as_array().unwrap().iter().filter(|a| a["achievement_id"] == stack.0.as_str()).cloned().collect()
    };
    poll(&format!("{point}: the micro-credential to be awarded"), || !stack_awards().is_empty());
    let award_notices = |name: &str| -> usize {
        let inbox = server.ok("GET", "/api/v1/notifications", Some(&learner.token), None, 200);
        inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "award" && n["subject"] == format!("You earned \"{name}\"").as_str()).count()
    };
    poll(&format!("{point}: both award notifications"), || award_notices(level3_name) > 0 && award_notices(&stack.1) > 0);
    // Let the runner finish anything left before counting.
    poll(&format!("{point}: the outbox to empty"), || {
        let (runtime, store) = open_store(data);
        let pending = runtime.block_on(store.pending_effect_count()).unwrap();
        runtime.block_on(store.close());
        pending == 0
    });

    let awards = server.ok("GET", "/api/v1/awards", Some(&learner.token), None, 200);
    let held: Vec<&str> = awards["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(held.contains(&award_id.as_str()), "{point}: the level-3 award {award_id} is not among {held:?}");
    assert_eq!(held.len(), 4, "{point}: three levels and one micro-credential: {awards}");
    assert_eq!(stack_awards().len(), 1, "{point}: the micro-credential is awarded once");
    assert_eq!(award_notices(level3_name), 1, "{point}: one notification of the level-3 award");
    assert_eq!(award_notices(&stack.1), 1, "{point}: one notification of the micro-credential");
    let (runtime, store) = open_store(data);
    let mail = runtime.block_on(store.outbox(10_000)).unwrap();
    for name in [level3_name, stack.1.as_str()] {
        let subject = format!("You earned \"{name}\"");
        let count = mail.iter().filter(|m| m.to == learner.email && m.subject == subject).count();
        assert_eq!(count, 1, "{point}: one e-mail \"{subject}\"");
    }
    runtime.block_on(store.close());
}

#[test]
fn a_crash_at_any_point_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let points = ["judgement-committed", "award-committed", "stack-committed", "notice-delivered", "confirmation-committed"];

    // Learners with levels 1 and 2 awarded and level 3 sent, one per crash point.
    let server = start(data, None);
    let tokens = Tokens { issuer: server.token(ISSUER), assessor: server.token(ASSESSOR) };
    let (stack_id, stack_name, levels) = micro_credential(&server);
    let learners: Vec<Learner> = (0..points.len()).map(|n| prepare(&server, &tokens, &levels, n)).collect();
    server.stop();
    assert_outbox_empty(data, "after the preparation");
    let stack = (stack_id, stack_name);

    for (point, learner) in points.iter().zip(&learners) {
        let assess_path = format!("/api/v1/assessments/{}", learner.level3);
        if *point == "confirmation-committed" {
            // Staff confirm passes: the pass is judged first, the crash comes with the confirmation.
            let server = start(data, None);
            let organisation = server.ok("GET", "/api/v1/organisations", None, None, 200)["items"][0]["id"].as_str().unwrap().to_string();
            let settings = json!({"service_days": 14, "nearly_due_days": 2, "attempt_limit": null, "confirm_passes": true, "holidays": []});
            server.ok("PUT", &format!("/api/v1/organisations/{organisation}/assessment-settings"), Some(&tokens.issuer), Some(&settings), 200);
            let judged = server.ok("POST", &assess_path, Some(&tokens.assessor), Some(&learner.level3_pass), 200);
            assert_eq!(judged["awarded"], false, "{judged}");
            server.stop();
            crash(data, point, |server| {
                let confirmed = server.call("POST", &format!("/api/v1/submissions/{}/confirm", learner.level3), Some(&tokens.issuer), Some(&json!({})));
                assert!(confirmed.is_err(), "{point}: the confirmation should not have been answered: {confirmed:?}");
            });
        } else {
            crash(data, point, |server| {
                let judged = server.call("POST", &assess_path, Some(&tokens.assessor), Some(&learner.level3_pass));
                // The judgement's own crash point comes before the answer. The others are in
                // effect handlers, which the request runs itself unless the job runner claimed
                // the effect first: then the answer comes, and the runner crashes after it.
                if *point == "judgement-committed" {
                    assert!(judged.is_err(), "{point}: the judgement should not have been answered: {judged:?}");
                } else if let Ok((status, body)) = &judged {
                    assert_eq!(*status, 200, "{point}: {body}");
                    assert_eq!(body["outcome"], "pass", "{point}: {body}");
                }
            });
        }
        let server = start(data, None);
        assert_recovered(&server, data, point, learner, &stack, &levels[2].1);
        server.stop();
        assert_outbox_empty(data, point);
    }
}

#[test]
fn a_bulk_award_stopped_after_a_chunk_resumes_where_it_was_and_awards_nobody_twice() {
    const ROWS: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = start(data, None);
    let issuer = server.token(ISSUER);
    let organisation = server.ok("GET", "/api/v1/organisations", None, None, 200)["items"][0]["id"].as_str().unwrap().to_string();
    let badges = server.ok("GET", "/api/v1/achievements?kind=micro-badge&limit=100", None, None, 200);
    let badge = badges["items"][0]["id"].as_str().unwrap().to_string();
    server.stop();

    let mut csv = String::from("email,name,achievement_id\n");
    for n in 0..ROWS {
        csv.push_str(&format!("bulk{n}@example.org,Bulk Learner {n},{badge}\n"));
    }
    let batches = format!("/api/v1/organisations/{organisation}/award-batches");
    crash(data, "batch-chunk-committed", |server| {
        // Awarded in the background: the answer may come before the crash, or not at all.
        let sent = server.http.post(format!("{}{batches}", server.base)).bearer_auth(&issuer).header("content-type", "text/csv").body(csv.clone()).send();
        if let Ok(response) = sent {
            assert_eq!(response.status(), 202, "{}", response.text().unwrap_or_default());
        }
    });

    // Restarted, the runner finds the batch's effect and awards the rest.
    let server = start(data, None);
    let listed = server.ok("GET", &batches, Some(&issuer), None, 200);
    let path = format!("{batches}/{}", listed["items"][0]["id"].as_str().unwrap());
    poll("the batch to finish", || server.ok("GET", &path, Some(&issuer), None, 200)["status"] == "done");
    let batch = server.ok("GET", &path, Some(&issuer), None, 200);
    assert_eq!((batch["awarded"].as_u64(), batch["skipped"].as_u64(), batch["failed"].as_u64()), (Some(ROWS as u64), Some(0), Some(0)), "{batch}");
    server.stop();

    let (runtime, store) = open_store(data);
    let organisation = organisation.parse().unwrap();
    let offers = runtime.block_on(store.award_offers(organisation, 1_000)).unwrap();
    assert_eq!(offers.len(), ROWS, "one direct award per row");
    let mut emails: Vec<String> = offers.iter().map(|o| o.email.to_string()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), ROWS, "nobody twice");
    let mail = runtime.block_on(store.outbox(10_000)).unwrap();
    assert_eq!(mail.iter().filter(|m| m.to.as_str().starts_with("bulk")).count(), ROWS, "one claim e-mail each");
    runtime.block_on(store.close());
    assert_outbox_empty(data, "after the bulk award");
}
