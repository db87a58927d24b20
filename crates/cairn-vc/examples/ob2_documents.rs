//! Writes the OB 2.0 hosted documents Cairn serves for one award (`issuer.json`, `badge.json`,
//! `assertion.json`, and the `revoked.json` the assertion URL serves once revoked) into a folder,
//! with every id under a base URL, for the interop tests to serve to the 1EdTech OB 2.0 validator.
//!
//! ```sh
//! cargo run --release -p cairn-vc --example ob2_documents -- http://127.0.0.1:8080 /tmp/ob2
//! ```

use cairn_vc::ob2::{Assertion, BadgeClass, Issuer, assertion_json, badge_class_json, issuer_json, revoked_assertion_json};
use cairn_vc::ob3::Alignment;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, out] = args.as_slice() else {
        eprintln!("usage: ob2_documents BASE_URL OUT_DIR");
        return ExitCode::from(2);
    };
    let base = base.trim_end_matches('/');
    let issuer = Issuer {
        id: format!("{base}/ob2/issuers/1"),
        name: "Northbridge Institute of Technology".into(),
        url: format!("{base}/"),
        email: Some("badges@northbridge.example.edu".into()),
        description: Some("Extension school issuing rubric-assessed micro-credentials.".into()),
        image: None,
    };
    let badge = BadgeClass {
        id: format!("{base}/ob2/badges/1"),
        name: "Secure Coding Essentials".into(),
        description: "Find and fix the most common web application vulnerabilities in real code.".into(),
        image: format!("{base}/ob2/badges/1/image.png"),
        criteria_url: Some(format!("{base}/achievements/1")),
        criteria_narrative: "Fix **four** issues from different OWASP Top 10 categories, with tests.".into(),
        issuer: issuer.id.clone(),
        alignments: vec![Alignment {
            target_name: "OWASP Top 10".into(),
            target_url: "https://owasp.org/www-project-top-ten/".into(),
            target_description: Some("Web application security risks".into()),
            target_framework: Some("OWASP".into()),
            target_code: Some("A01-A10".into()),
            target_type: None,
        }],
        tags: vec!["security".into()],
    };
    let assertion = Assertion {
        id: format!("{base}/ob2/assertions/1"),
        recipient_email: "learner@example.org".into(),
        salt: "d6f1c2a9".into(),
        badge: badge.id.clone(),
        issued_on: "2026-01-15T10:00:00Z".into(),
        expires: None,
        image: None,
        evidence: Some(format!("{base}/evidence/1")),
    };
    let documents = [
        ("issuer.json", issuer_json(&issuer)),
        ("badge.json", badge_class_json(&badge)),
        ("assertion.json", assertion_json(&assertion)),
        ("revoked.json", revoked_assertion_json(&assertion.id, "awarded in error")),
    ];
    let out = PathBuf::from(out);
    for (name, document) in documents {
        let text = serde_json::to_string_pretty(&document).expect("a JSON value serialises");
        if let Err(error) = std::fs::write(out.join(name), text) {
            eprintln!("cannot write {}: {error}", out.join(name).display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
