//! Architecture invariants read from the manifests and sources (see ARCHITECTURE.md,
//! "Invariants").

use std::path::{Path, PathBuf};

const LAYERS: [&str; 6] = ["cairn-vc", "cairn-core", "cairn-store", "cairn-app", "cairn-server", "cairn-cli"];

fn crate_dir(krate: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(krate)
}

fn manifest(krate: &str) -> String {
    let path = crate_dir(krate).join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.push((path, text));
        }
    }
    found
}

/// The `[dependencies]` section's crate names (not dev-dependencies).
fn dependencies(krate: &str) -> Vec<String> {
    let text = manifest(krate);
    let mut in_section = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[dependencies]";
            continue;
        }
        if in_section && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").to_string();
            if !name.is_empty() && !name.starts_with('#') {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn dependencies_point_downward_only() {
    for (level, krate) in LAYERS.iter().enumerate() {
        for dependency in dependencies(krate) {
            if let Some(dep_level) = LAYERS.iter().position(|l| *l == dependency) {
                assert!(dep_level < level, "{krate} depends on {dependency}, which is not below it");
            }
        }
    }
}

#[test]
fn the_domain_and_standards_crates_do_no_io() {
    for krate in ["cairn-vc", "cairn-core"] {
        for dependency in dependencies(krate) {
            assert!(
                !["tokio", "sqlx", "axum", "reqwest", "hyper", "tower", "object_store", "tracing"].contains(&dependency.as_str()),
                "{krate} must not depend on {dependency}"
            );
        }
    }
}

#[test]
fn only_the_store_speaks_sql_and_only_the_cli_uses_anyhow() {
    for krate in LAYERS {
        let dependencies = dependencies(krate);
        if krate != "cairn-store" {
            assert!(!dependencies.iter().any(|d| d == "sqlx"), "{krate} must not depend on sqlx");
        }
        if krate != "cairn-cli" {
            assert!(!dependencies.iter().any(|d| d == "anyhow"), "{krate} must not depend on anyhow");
        }
    }
}

#[test]
fn the_application_layer_knows_no_http() {
    for dependency in dependencies("cairn-app") {
        assert!(
            !["axum", "http", "hyper", "tower", "tower-http", "askama"].contains(&dependency.as_str()),
            "cairn-app must not depend on {dependency}: HTTP belongs to cairn-server"
        );
    }
    let files = sources(&crate_dir("cairn-app").join("src"));
    assert!(files.len() > 10, "the application layer's sources were not found");
    for (path, text) in files {
        for word in ["axum::", "http::", "StatusCode", "IntoResponse"] {
            assert!(!text.contains(word), "{} mentions {word}: HTTP belongs to cairn-server", path.display());
        }
    }
}

#[test]
fn the_http_layer_reaches_the_store_only_through_use_cases() {
    // Handlers call one `cairn_app` use case; only tests set up data in the store directly.
    let files = sources(&crate_dir("cairn-server").join("src"));
    assert!(files.len() > 10, "the HTTP layer's sources were not found");
    for (path, text) in files.iter().filter(|(path, _)| path.file_name().is_some_and(|name| name != "tests.rs")) {
        for word in [".store.", ".store()", ".blobs()", "Store::"] {
            assert!(!text.contains(word), "{} mentions {word}: call a cairn_app use case instead", path.display());
        }
    }
}
