//! Architecture invariants read from the manifests (see ARCHITECTURE.md, "Invariants").

use std::path::PathBuf;

const LAYERS: [&str; 5] = ["cairn-vc", "cairn-core", "cairn-store", "cairn-server", "cairn-cli"];

fn manifest(krate: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
